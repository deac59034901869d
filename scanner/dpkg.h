#ifndef DRIFT_SCANNER_DPKG_H
#define DRIFT_SCANNER_DPKG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/probe.h"

struct diag;

/**
 * The dpkg database under a root: the packages of var/lib/dpkg/status, the
 * files each one owns (var/lib/dpkg/info/<pkg>.list) with their MD5 sums
 * (info/<pkg>.md5sums, and the status' Conffiles field), the diversions
 * (var/lib/dpkg/diversions), and an index from a file's path to its
 * package.
 *
 *     struct dpkg_db *db;
 *     r = dpkg_db_load(rootfd, finding, ud, &db, &diag);  // -ENOENT: no dpkg here
 *     for (size_t i = 0; i < dpkg_db_count(db); i++) {
 *             const struct dpkg_pkg *p = dpkg_db_get(db, i);
 *             r = dpkg_pkg_files(db, i, file_cb, ud, &diag);
 *     }
 *     dpkg_db_free(db);
 *
 * Paths handed out are canonical under the root: dpkg lists /bin/bash, but
 * where bin is a symlink to usr/bin (merged /usr) the file is /usr/bin/bash,
 * the path the walker records. A db is not thread-safe (dpkg_pkg_files()
 * fills a cache); the packages it hands out are read-only and may be read
 * from any thread while nothing calls dpkg_pkg_files().
 */
struct dpkg_db;

/** One entry of a package's Conffiles field, as the status file lists it. */
struct dpkg_conffile {
	const char *path; /**< as listed ("/etc/foo.conf"), NUL-terminated */
	uint8_t md5[16];  /**< valid when has_md5 */
	bool has_md5;     /**< false for "newconffile" (not yet installed) */
	bool obsolete;    /**< flagged "obsolete": no longer shipped by the package */
};

/** One package of the status file. Strings are NUL-terminated, owned by the db. */
struct dpkg_pkg {
	const char *name;
	const char *arch;    /**< "amd64", "all"; "" when the stanza has none */
	const char *version; /**< "" only for a package in state config-files without one */
	const char *status;  /**< the Status field, e.g. "install ok installed" */
	bool multiarch_same; /**< Multi-Arch: same (its info files are named name:arch) */
	size_t nconffiles;
	const struct dpkg_conffile *conffiles;
};

/**
 * Load the dpkg database under @rootfd (an O_PATH or O_RDONLY directory fd,
 * duplicated: the caller may close its own): var/lib/dpkg/status (RFC 822
 * stanzas; fields Package, Status, Architecture, Version, Multi-Arch,
 * Conffiles; CRLF line ends tolerated) and, when present,
 * var/lib/dpkg/diversions. Packages whose Status' last word is
 * "not-installed" are left out; all others are kept.
 *
 * Problems in a source that exists are *findings*, reported through
 * @finding (may be NULL; probe "package", the file relative to the root,
 * the 1-based line) and skipped: a stanza without Package or Status, an
 * installed package without Version, a second stanza for the same
 * name:arch, a line that is neither a field nor a continuation, a malformed
 * Conffiles line (only that line is dropped), a diversions file whose line
 * count is not a multiple of 3. @finding and @userdata are kept for the
 * findings of dpkg_pkg_files() and dpkg_index_build().
 *
 * Returns 0 and the db in *@ret_db (free with dpkg_db_free()); -ENOENT with
 * a message when var/lib/dpkg/status does not exist; another -errno
 * (-ENOMEM, -EIO, -EFBIG beyond 64 MiB...) when it cannot be read.
 * *@ret_db is untouched on failure.
 */
int dpkg_db_load(int rootfd, probe_finding_fn *finding, void *userdata, struct dpkg_db **ret_db,
		 struct diag *reterr);

/** Free @db and everything it handed out. NULL is a no-op. */
void dpkg_db_free(struct dpkg_db *db);

/** Number of packages kept. */
size_t dpkg_db_count(const struct dpkg_db *db);

/**
 * Package @i (< dpkg_db_count()), in the order of name then architecture
 * (bytewise). Valid until dpkg_db_free().
 */
const struct dpkg_pkg *dpkg_db_get(const struct dpkg_db *db, size_t i);

/** One path a package owns, as dpkg_pkg_files() hands it out. */
struct dpkg_file {
	const char *path; /**< canonical, absolute ("/usr/bin/bash"), NUL-terminated */
	size_t path_len;
	bool has_md5; /**< false for directories, symlinks, "newconffile", files without sums */
	uint8_t md5[16];
	bool conffile; /**< a conffile: the sum comes from the Conffiles field */
	bool obsolete; /**< an obsolete conffile (not checked by scan_verify()) */
	bool diverted; /**< another package (or the admin) diverted it: @path is where it went */
};

/**
 * Called for each path of a package; @pkg and @f are valid during the call.
 * Return a negative errno to stop (dpkg_pkg_files() returns it).
 */
typedef int dpkg_file_fn(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata);

/**
 * Call @fn for every path of package @i, in the order of its list file
 * info/<name>:<arch>.list (info/<name>.list when that does not exist, or
 * the other way round for a package that is not Multi-Arch: same),
 * directories included (has_md5 false). The sum comes from
 * info/<same base>.md5sums ("<32 hex>  <path without leading />") or, for a
 * conffile, from the status' Conffiles field. A path diverted away from the
 * package (var/lib/dpkg/diversions) is handed out where it was diverted to.
 *
 * Every path is canonicalized: its parent directory is resolved under the
 * root, symlink by symlink (readlinkat() relative to the root fd, each
 * directory once: the result is cached in the db), so /lib/x.so becomes
 * /usr/lib/x.so where lib -> usr/lib. The last component is never
 * resolved (a listed symlink stays itself). When a directory does not exist
 * under the root, the part that exists is resolved and the rest kept as
 * listed. The root's "/." is handed out as "/".
 *
 * A missing list file (for a package not in state config-files) and a
 * malformed line of an md5sums file are findings; the package then has no
 * paths, or that line is ignored. Returns 0; the negative errno of @fn;
 * -ENOMEM, or -errno (with a message) when a list file exists but cannot be
 * read.
 */
int dpkg_pkg_files(struct dpkg_db *db, size_t i, dpkg_file_fn *fn, void *userdata,
		   struct diag *reterr);

/**
 * The ownership index: canonical path -> (package, dpkg_file) over every
 * package of the db. A path owned by several packages (a directory) maps to
 * the first one by name, architecture.
 */
struct dpkg_index;

/**
 * Build the index of @db (calls dpkg_pkg_files() for every package, so
 * findings go to the db's finding callback). Returns 0 and the index in
 * *@ret (free with dpkg_index_free(); it does not refer to @db, but package
 * numbers are @db's); -ENOMEM or another error of dpkg_pkg_files(), with
 * *@ret untouched.
 */
int dpkg_index_build(struct dpkg_db *db, struct dpkg_index **ret, struct diag *reterr);

/**
 * Look the canonical path @path (@len bytes, need not be NUL-terminated) up.
 * Returns 1 with the package number (for dpkg_db_get()) in *@ret_pkg and
 * the path's dpkg_file (valid until dpkg_index_free()) in *@ret_file, either
 * of which may be NULL; 0 when no package owns it (ret_* untouched).
 */
int dpkg_index_find(const struct dpkg_index *idx, const char *path, size_t len, size_t *ret_pkg,
		    const struct dpkg_file **ret_file);

/** Number of distinct paths in @idx. */
size_t dpkg_index_count(const struct dpkg_index *idx);

/** Free @idx. NULL is a no-op. */
void dpkg_index_free(struct dpkg_index *idx);

/**
 * Parse 32 hexadecimal digits (either case) at @hex into @ret_md5. The 33rd
 * character is not looked at. Returns 0, or -EINVAL (ret_md5 untouched).
 */
int dpkg_md5_parse(const char *hex, uint8_t ret_md5[16]);

#endif /* DRIFT_SCANNER_DPKG_H */
