#ifndef DRIFT_SCANNER_HASH_H
#define DRIFT_SCANNER_HASH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "common/entry.h"

struct XXH3_state_s;
struct evp_md_ctx_st;
struct evp_md_st;

/**
 * Size of a worker's read buffer: files up to this size take one read and a
 * one-shot hash. 128 KiB, not 1 MiB: the kernel's copy into a buffer that
 * fits the core's L2 (1 MiB on Zen 4) runs 3.5x faster here. Measured with
 * bench/scanwalk -j 1 on /usr/lib/x86_64-linux-gnu (1.1 GB, warm): 0.93-1.05 s
 * with 1 MiB, 0.27-0.28 s with 128 KiB, 0.25-0.29 s with 64 KiB.
 */
#define SCAN_HASH_BUF_SIZE ((size_t)1 << 17)

/**
 * Default of scan_hasher.blocks_min: a regular file with more than 64 GiB of
 * holes (st_size minus 512 * st_blocks) is hashed in block form, every other
 * file as its plain content (the digest `xxhsum -H2` or `sha256sum` prints),
 * as before the block form existed: only files that used to be left
 * unhashed get the new form, so no digest of an existing snapshot changes.
 *
 * The plain digest of a sparse file feeds its holes as zeros, and neither
 * algorithm has a shortcut for zeros: every hole byte costs as much as a
 * byte read from the page cache (XXH3 about 30 GB/s, SHA-256 about 1.8
 * GB/s), and a 1 EiB file on tmpfs is free to create. The block form
 * costs only the data: the digest of
 *
 *     "drift-blocks-v1\n", le64(size), then for each 4 KiB block at
 *     offset o (a multiple of 4096) whose bytes are not all zero, in
 *     order: le64(o), the block's bytes (the last one may be shorter)
 *
 * found with SEEK_DATA/SEEK_HOLE, so holes are never fed. A zero block
 * and a hole give the same digest, and any change to the data, wherever it
 * is, changes it. A 1 TiB file with a few data extents takes milliseconds.
 * Which form a file gets depends on its allocation: a file whose holes
 * cross 64 GiB (filled, or punched) changes form, and so digest, which a
 * check reports as a content change; an allocation change that large is
 * worth a look.
 */
#define SCAN_HASH_BLOCKS_MIN ((uint64_t)64 << 30)

/** The block size of the block form. */
#define SCAN_HASH_BLOCK ((size_t)4096)

/**
 * The per-thread hashing context. Each walker thread owns one for its whole
 * life: the hash state and the read buffer are never shared.
 */
struct scan_hasher {
	enum hash_algo algo;        /**< HASH_XXH3_128 or HASH_SHA256 */
	struct XXH3_state_s *state; /**< owned, XXH3 only: XXH3_createState() */
	struct evp_md_ctx_st *sha;  /**< owned, SHA-256 only: EVP_MD_CTX_new() */
	struct evp_md_st *sha_md;   /**< owned, SHA-256 only: EVP_MD_fetch("SHA256") */
	unsigned char *buf;         /**< owned: the read buffer */
	size_t buf_size;
	_Atomic uint64_t *progress; /**< borrowed, may be NULL: += logical bytes fed, relaxed */
	const atomic_bool *stop;    /**< borrowed, may be NULL: abandon the file when set */
	uint64_t blocks_min;        /**< files with more holes than this are hashed in block form */
	/**
	 * Whether the last read of a file (scan_hasher_entry()) left its whole
	 * content in @buf, and how many bytes (files up to @buf_size read in
	 * one go): what SCAN_KEEP hands out without reading again.
	 */
	bool whole;
	size_t whole_len;
};

/** Digest length of @algo in bytes: 16 (XXH3-128), 32 (SHA-256), 0 for anything else. */
uint8_t scan_hash_len(enum hash_algo algo);

/**
 * Allocate the state of @algo (HASH_XXH3_128 or HASH_SHA256) and a
 * @buf_size read buffer into @h (which need not be initialised). Returns 0,
 * -EOPNOTSUPP for another algorithm, -ENOMEM (or -EIO when OpenSSL cannot
 * provide SHA-256); @h is released again on failure.
 */
int scan_hasher_init(struct scan_hasher *h, enum hash_algo algo, size_t buf_size);

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
 *  - 0, ENTRY_NOT_HASHED_TOO_SPARSE in e->flags, no hash: a file for the
 *    block form whose filesystem hides its holes: reading passed the
 *    allocation plus h->blocks_min; *st is the stat of the opened file.
 *  - SCAN_HASH_RETYPE: the name turned out to be something else (a
 *    symlink, a FIFO...): the file read was another one, or opening it
 *    failed with ELOOP, ENXIO, ENODEV or ENOENT, and a new lookup found
 *    another type; *st is its stat; nothing set in @e.
 *  - -ECANCELED: *h->stop was raised in the middle (checked before every
 *    read and every 64 KiB of a hole); @e is untouched.
 */
int scan_hasher_entry(struct scan_hasher *h, int dirfd, const char *name, struct stat *st,
		      struct entry *e);

/**
 * scan_hasher_entry(), and when it returns 0 with the hash fields set, the
 * descriptor the content was read through (O_RDONLY, its offset anywhere)
 * in *@ret_fd for the caller to close: it is the regular file *st
 * describes, for reading more about it (attributes) without opening the
 * name again. In every other outcome *@ret_fd is left untouched.
 */
int scan_hasher_entry_keep(struct scan_hasher *h, int dirfd, const char *name, struct stat *st,
			   struct entry *e, int *ret_fd);

#endif /* DRIFT_SCANNER_HASH_H */
