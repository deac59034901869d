#ifndef DRIFT_REMEDY_DEBSRC_H
#define DRIFT_REMEDY_DEBSRC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct diag;

/**
 * A package file's bytes, from the package itself: the .deb of the
 * installed version, from apt's archive cache (or `apt-get download` when
 * asked), checked against the MD5 sum dpkg recorded for the file when it
 * installed it. A .deb whose file does not match dpkg's sum (tampered,
 * truncated, another build) is refused. The caller also checks the bytes
 * against the baseline's hash.
 */
struct deb_source {
	/** The host: its dpkg database (var/lib/dpkg) and apt cache are read under it. */
	int rootfd;
	/**
	 * Where .deb files are looked for: an absolute path of the running
	 * system (a fixture's cache); NULL: var/cache/apt/archives under the root.
	 */
	const char *cachedir;
	/** When the cache has none: `apt-get download NAME=VERSION` into a private directory. */
	bool download;
};

/**
 * The bytes package @pkg ("name:arch", or "name") at @version ships at
 * @path (absolute, canonical as drift records it: "/usr/bin/x" also finds
 * a member listed as "./bin/x" in a package that predates merged /usr).
 *
 * Looks for NAME_VERSION_ARCH.deb (the epoch's ':' as "%3a", as apt names
 * its files) in the cache directory, else downloads it when allowed; reads
 * the member with `dpkg-deb --fsys-tarfile` (run without a shell, its
 * output parsed as tar in-process); checks its MD5 against dpkg's sum of
 * @path (var/lib/dpkg/info/<pkg>.md5sums, or the Conffiles field for a
 * conffile) under the root.
 *
 * Returns 0 with *@ret_bytes (malloc()ed, non-NULL) and *@ret_len, and
 * *@ret_origin (malloc()ed: the .deb's path; for one downloaded, into a
 * directory removed since, the command: "apt-get download NAME=VERSION")
 * when @ret_origin is not NULL.
 * Errors, with a message:
 *   -ENOENT   no .deb of that version (the message says where it looked
 *             and the command that would fetch it), or no such member
 *   -ENODATA  dpkg recorded no sum for @path (nothing to check against)
 *   -EBADMSG  the member does not match dpkg's sum: refused
 *   -EFBIG    the member is larger than @max bytes
 *   -EIO, -ENOMEM
 */
int deb_fetch(const struct deb_source *src, const char *pkg, const char *version, const char *path,
	      size_t max, uint8_t **ret_bytes, size_t *ret_len, char **ret_origin,
	      struct diag *reterr);

#endif /* DRIFT_REMEDY_DEBSRC_H */
