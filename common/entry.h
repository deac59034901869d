#ifndef DRIFT_COMMON_ENTRY_H
#define DRIFT_COMMON_ENTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * The one vocabulary type of the pipeline: an *entry* is one inventoried
 * thing, identified by (kind, key), with its attributes. The scanner produces
 * entries, the store keeps them, compare pairs them up, reports render them.
 *
 * Files have kind ENTRY_FILE and their absolute path as key (bytes, never
 * NUL, need not be UTF-8). Later kinds (packages, users, services...) reuse
 * the same struct with their own key and a subset of the attributes.
 */
enum entry_kind {
	ENTRY_FILE = 1,
};

/** Content hash algorithms. The values are stored in databases: never renumber. */
enum hash_algo {
	HASH_NONE = 0,     /**< content not hashed */
	HASH_XXH3_128 = 1, /**< XXH3-128, canonical (big-endian) bytes, as `xxhsum -H2` */
	HASH_SHA256 = 2,   /**< reserved for the tamper-evidence mode */
};

#define ENTRY_HASH_MAX 32

/** Flags on an entry; stored, so never renumber. */
enum entry_flags {
	ENTRY_CHANGED_WHILE_READ = 1 << 0, /**< content changed during hashing, twice */
};

/**
 * Attributes, as a bit mask of what changed between two entries. The order
 * is the order reports list them in.
 */
enum entry_attr {
	ATTR_TYPE = 1 << 0,
	ATTR_MODE = 1 << 1, /**< permission bits incl. setuid/setgid/sticky */
	ATTR_UID = 1 << 2,
	ATTR_GID = 1 << 3,
	ATTR_SIZE = 1 << 4,
	ATTR_MTIME = 1 << 5,
	ATTR_CTIME = 1 << 6,
	ATTR_INODE = 1 << 7,
	ATTR_DEVICE = 1 << 8,
	ATTR_NLINK = 1 << 9,
	ATTR_TARGET = 1 << 10,
	ATTR_HASH = 1 << 11,
	ATTR_ERROR = 1 << 12,
	ATTR__COUNT = 13, /**< number of attributes (bits) */
};

/**
 * One entry. Pointers are borrowed: whoever hands an entry out says until
 * when they stay valid (the scanner: during the visit callback; the store:
 * until the next step of the iterator).
 */
struct entry {
	enum entry_kind kind;
	const char *key; /**< path for files; not NUL-terminated necessarily */
	size_t key_len;

	uint32_t mode; /**< st_mode: S_IFMT type bits plus the 07777 permission bits */
	uint32_t uid, gid;
	uint64_t size;
	int64_t mtime_ns, ctime_ns; /**< nanoseconds since the epoch */
	uint64_t ino, dev, nlink;

	const char *target; /**< symlink target bytes; NULL when not a symlink */
	size_t target_len;

	enum hash_algo hash_algo; /**< HASH_NONE when not hashed */
	uint8_t hash_len;
	uint8_t hash[ENTRY_HASH_MAX];

	int err;        /**< errno of what failed on this entry (open, read...), 0 if none */
	uint32_t flags; /**< enum entry_flags */
};

/** "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev" or "unknown". */
const char *entry_type_name(uint32_t mode);
/** "type", "mode", ... for one ATTR_* bit; NULL for anything else. */
const char *entry_attr_name(enum entry_attr attr);
/** "xxh3-128", "sha256" or "none". */
const char *hash_algo_name(enum hash_algo algo);
/** Parse a name from hash_algo_name(); returns 0 or -EINVAL. */
int hash_algo_parse(const char *name, enum hash_algo *ret_algo);

#endif /* DRIFT_COMMON_ENTRY_H */
