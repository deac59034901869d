#ifndef DRIFT_SCANNER_HASH_H
#define DRIFT_SCANNER_HASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct entry;
struct XXH3_state_s;

/** Size of a worker's read buffer: files up to this size take one read and a one-shot hash. */
#define SCAN_HASH_BUF_SIZE ((size_t)1 << 20)

/**
 * The per-thread hashing context. Each walker thread owns one for its whole
 * life: the XXH3 state and the read buffer are never shared.
 */
struct scan_hasher {
	struct XXH3_state_s *state; /**< owned: XXH3_createState() */
	unsigned char *buf;         /**< owned: the read buffer */
	size_t buf_size;
	_Atomic uint64_t *progress; /**< borrowed, may be NULL: += logical bytes fed, relaxed */
	const atomic_bool *stop;    /**< borrowed, may be NULL: abandon the file when set */
};

/**
 * Allocate the state and a @buf_size read buffer into @h (which need not be
 * initialised). Returns 0 or -ENOMEM; @h is released again on failure.
 */
int scan_hasher_init(struct scan_hasher *h, size_t buf_size);

/** Free what scan_hasher_init() allocated. Safe on a zeroed or released hasher. */
void scan_hasher_release(struct scan_hasher *h);

/** scan_hasher_entry() result: the name is no longer a regular file; *st is its new stat. */
#define SCAN_HASH_RETYPE 1

/**
 * Hash the regular file @name in @dirfd, which the caller just looked up as
 * *st (fstatat, AT_SYMLINK_NOFOLLOW). Never follows a symlink, never opens
 * anything but the regular file that was looked up (same st_dev/st_ino).
 *
 * Outcomes, all but the last recorded in @e:
 *  - 0, hash fields set: the content was read once, stably; *st is the
 *    stat taken after reading (what the entry should show).
 *  - 0, hash fields set, ENTRY_CHANGED_WHILE_READ in e->flags: the file
 *    changed during reading, was re-read once, and changed again; the hash
 *    is that of the last read and *st the newest stat.
 *  - 0, e->err set, no hash: open or read failed (ENOENT: the file vanished
 *    while it was read); *st keeps the last known attributes.
 *  - SCAN_HASH_RETYPE: on the retry the name turned out to be something
 *    else (a symlink, a FIFO...); *st is its stat; nothing set in @e.
 *  - -ECANCELED: *h->stop was raised in the middle; @e is untouched.
 */
int scan_hasher_entry(struct scan_hasher *h, int dirfd, const char *name, struct stat *st,
		      struct entry *e);

#endif /* DRIFT_SCANNER_HASH_H */
