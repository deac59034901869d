#ifndef DRIFT_TESTS_COMPARE_SNAP_H
#define DRIFT_TESTS_COMPARE_SNAP_H

/*
 * Snapshots as the tests of compare/ describe them: files with the content
 * the scan recorded, and the packages of the side (their ENTRY_PACKAGE
 * entries with the version property, as the package probe records them,
 * and their file lists with MD5 sums, as cli/probes.c links them), written
 * through the store's writer into a real database.
 */

#include <stdbool.h>
#include <stdint.h>

#include "common/entry.h"
#include "store/store.h"

/* Every file's times unless a test says otherwise (2023-11-14T22:13:20Z). */
#define T0 1700000000000000000LL
#define T1 (T0 + 1000000000LL)

/** A file as the snapshot recorded it. */
struct tfile {
	const char *path; /* NULL ends a list */
	/** A regular file's content, as hashed (XXH3-128) and sized by the scan. */
	const char *content;
	/** The length of @content when it holds NUL bytes (byte-code); 0: strlen(). */
	size_t content_len;
	uint32_t mode;      /* 0: S_IFREG | 0644 */
	const char *target; /* a symlink's */
	int64_t mtime;      /* 0: T0 (ctime follows it) */
	uint64_t ino;       /* 0: 1000 */
	uint32_t uid;
};

/** A path of a package version's file list. */
struct tpkgfile {
	const char *path;   /* NULL ends a list */
	const char *sum_of; /* the MD5 sum is that of this text; NULL: no sum (a directory...) */
	bool conffile;
};

/** A package version of a side. */
struct tpkg {
	const char *name; /* NULL ends a list */
	const char *version;
	struct tpkgfile files[6];
	const char *arch; /* NULL: "amd64" */
};

/** An entry of system state (a user, group, service...), as its probe records it. */
struct tentry {
	enum entry_kind kind; /* 0 ends a list */
	const char *key;
	/** Its properties, "name=value" each, in name order; NULL ends them. */
	const char *props[10];
};

/** One snapshot. */
struct side {
	struct tfile files[10];
	struct tpkg pkgs[6];
	/** Entries of other probes; each kind's probe is recorded as having run. */
	struct tentry entries[8];
	/** The package probe ran: the ENTRY_PACKAGE entries are compared too. */
	bool package_probe;
	/** Package entries, but no file lists (ownership not recorded). */
	bool no_ownership;
	enum snap_purpose purpose; /* 0: a scan */
	const char *label;         /* NULL: the caller's default */
};

/** Write @s into @st as a complete snapshot labelled @label unless @s has one; fills @ret. */
void side_write(struct snap_store *st, const struct side *s, const char *label,
		struct snap_info *ret);

/** The MD5 sum of @text. */
void md5_of(const char *text, uint8_t ret[16]);

#endif /* DRIFT_TESTS_COMPARE_SNAP_H */
