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
 * NUL, need not be UTF-8). The other kinds come from the probes of system
 * state (scanner/probe.h): their key is the thing's name (a package
 * "bash:amd64", a sysctl "net.ipv4.ip_forward", a port "tcp/0.0.0.0:22"),
 * and their attributes are named text properties (entry->props, ATTR_PROPS);
 * the file attributes (mode, uid... hash) stay zero for them.
 *
 * The values are stored in databases and sort the snapshot's rows: never
 * renumber.
 */
enum entry_kind {
	ENTRY_FILE = 1,
	ENTRY_PACKAGE = 2, /**< an installed package: "name:arch" */
	ENTRY_USER = 3,    /**< an account of etc/passwd: its name */
	ENTRY_GROUP = 4,   /**< a group of etc/group: its name */
	ENTRY_SERVICE = 5, /**< a systemd unit: "sshd.service" */
	ENTRY_SYSCTL = 6,  /**< a kernel parameter: "net.ipv4.ip_forward" */
	ENTRY_MODULE = 7,  /**< a loaded kernel module: "ext4" */
	ENTRY_PORT = 8,    /**< a listening socket: "tcp/0.0.0.0:22", "udp6/[::]:53" */
	ENTRY_MOUNT = 9,   /**< a mount point: its path */
	ENTRY__KIND_MAX = 9,
};

/** Content hash algorithms. The values are stored in databases: never renumber. */
enum hash_algo {
	HASH_NONE = 0,     /**< content not hashed */
	HASH_XXH3_128 = 1, /**< XXH3-128, canonical (big-endian) bytes, as `xxhsum -H2` */
	HASH_SHA256 = 2,   /**< the tamper-evidence mode */
	/**
	 * Never a scan's algorithm: the MD5 sums of the dpkg database, which
	 * `drift verify` and package attribution compare content with.
	 */
	HASH_MD5 = 3,
};

#define ENTRY_HASH_MAX 32

/** Flags on an entry; stored, so never renumber. */
enum entry_flags {
	ENTRY_CHANGED_WHILE_READ = 1 << 0, /**< content changed during hashing, twice */
	/**
	 * A regular file with more than 64 GiB of holes (unallocated ranges
	 * that read as zeros) whose content was not hashed (hash_algo
	 * HASH_NONE, err 0): its filesystem does not say where the holes are
	 * (no SEEK_DATA), so hashing would read them all. Other such files are
	 * hashed in block form (scanner/hash.h); drift before the block form
	 * left them all unhashed.
	 */
	ENTRY_NOT_HASHED_TOO_SPARSE = 1 << 1,
	/**
	 * A directory with names whose paths would exceed the scan's path
	 * limit (scan.max_path, 32 KiB by default): those names were not
	 * looked at nor descended into. err is ENAMETOOLONG, so the entry is
	 * listed with the blind spots of every report.
	 */
	ENTRY_NOT_DESCENDED_TOO_DEEP = 1 << 2,
};

/**
 * Attributes, as a bit mask of what changed between two entries. The order
 * is the order reports list them in (text, JSON, `drift policy show`).
 *
 * The values are never stored (databases record which optional attributes
 * were collected with tags of their own, store/ext.c; policies name
 * attributes), so an attribute may be inserted where reports should list
 * it, and the later ones renumbered.
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
	ATTR_RDEV = 1 << 9, /**< the device number of a character or block device (entry->rdev) */
	ATTR_NLINK = 1 << 10,
	ATTR_TARGET = 1 << 11,
	ATTR_HASH = 1 << 12,
	ATTR_ERROR = 1 << 13,
	ATTR_XATTRS = 1 << 14,  /**< all extended attributes, names and values */
	ATTR_ACL = 1 << 15,     /**< POSIX ACLs (access, and default for directories) */
	ATTR_CAPS = 1 << 16,    /**< file capabilities */
	ATTR_SELINUX = 1 << 17, /**< the SELinux label */
	ATTR_MIME = 1 << 18,    /**< libmagic's MIME type of the content */
	ATTR_PROPS = 1 << 19,   /**< the named properties of a probe's entry (entry->props) */
	ATTR__COUNT = 20,       /**< number of attributes (bits) */
};

/**
 * entry->rdev of a device whose number is not known. Never a real st_rdev:
 * Linux device numbers fit in 32 bits (12-bit major, 20-bit minor).
 */
#define ENTRY_RDEV_UNKNOWN UINT64_MAX

/**
 * The optional attributes: collected only where the policy asks for them,
 * and compared only when both sides collected them.
 */
#define ATTR_OPTIONAL (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_SELINUX | ATTR_MIME)

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
	/**
	 * Nanoseconds since the epoch. Times outside what int64 nanoseconds
	 * hold (before 1677-09-21 00:12:43.145224192, after 2262-04-11
	 * 23:47:16.854775807 UTC) are saturated to INT64_MIN / INT64_MAX,
	 * never wrapped; so two different such times compare equal.
	 */
	int64_t mtime_ns, ctime_ns;
	uint64_t ino, dev, nlink;
	/**
	 * st_rdev of a character or block device (the kernel's encoding: use
	 * major() and minor()); 0 for everything else, and for entries of
	 * other kinds than files. ENTRY_RDEV_UNKNOWN for a device whose
	 * number was not recorded (a snapshot taken by a drift before it
	 * recorded them): compare then leaves it out.
	 */
	uint64_t rdev;

	const char *target; /**< symlink target bytes; NULL when not a symlink */
	size_t target_len;

	enum hash_algo hash_algo; /**< HASH_NONE when not hashed */
	uint8_t hash_len;
	uint8_t hash[ENTRY_HASH_MAX];

	int err;        /**< errno of what failed on this entry (open, read...), 0 if none */
	uint32_t flags; /**< enum entry_flags */

	/*
	 * Optional attributes (ATTR_OPTIONAL). @collected says which were
	 * looked for; a collected attribute may still be absent (NULL): a file
	 * with no ACL beyond its mode bits, no capabilities, no label.
	 */
	uint32_t collected;    /**< ATTR_OPTIONAL bits that were collected */
	const uint8_t *xattrs; /**< see entry_xattrs_*(): sorted (name, value) pairs */
	size_t xattrs_len;
	const char *acl;     /**< acl_to_any_text() form, access ACL then "default:" lines */
	const char *caps;    /**< cap_to_text() form, e.g. "cap_net_raw=ep" */
	const char *selinux; /**< the label, e.g. "system_u:object_r:bin_t:s0" */
	const char *mime;    /**< e.g. "application/x-pie-executable" */

	/*
	 * Kinds other than ENTRY_FILE: the entry's properties, a blob in the
	 * format of the xattrs blob (sorted name/value pairs, see below; the
	 * entry_xattrs_*() functions read it), values being text without NUL,
	 * e.g. version=1.2-1, status=installed. NULL/0 for files.
	 */
	const uint8_t *props;
	size_t props_len;

	/*
	 * Kept content (rules with `keep_content`, store/content.c). From the
	 * scanner: the bytes of a regular file of at most SCAN_KEEP_MAX bytes
	 * that were read while hashing, borrowed for the visit callback only;
	 * NULL when not kept. Never stored with the entry: the visit callback
	 * stores the bytes apart (snap_writer_add_content()) and sets the
	 * reference below.
	 */
	const uint8_t *content;
	size_t content_len;
	/*
	 * The reference to kept content in the store: the SHA-256 of the
	 * bytes. Stored with the entry (store/ext.c, tag 8), so a snapshot
	 * that inherits an entry inherits it; not an attribute: compare never
	 * looks at it (the content hash says whether the content changed).
	 */
	uint8_t content_id[32];
	bool has_content;
};

/** One property, for entry_props_encode(). */
struct entry_prop {
	const char *name; /**< non-empty, no NUL */
	const char *value;
	size_t value_len;
};

/**
 * Encode @n properties (in any order; @props is sorted in place by name)
 * into @out, replacing its contents, in the xattrs blob format. Returns 0,
 * -EINVAL for an empty name or two properties of the same name, -ENOMEM.
 */
struct strbuf;
int entry_props_encode(struct strbuf *out, struct entry_prop *props, size_t n);

/** "file", "package", "user"...; NULL for a kind that does not exist. */
const char *entry_kind_name(enum entry_kind kind);
/** Parse a name from entry_kind_name(); returns 0 or -EINVAL. */
int entry_kind_parse(const char *name, enum entry_kind *ret_kind);

/** "file", "dir", "symlink", "fifo", "socket", "chardev", "blockdev" or "unknown". */
const char *entry_type_name(uint32_t mode);
/**
 * Whether @e is a character or block device (a file of type S_IFCHR or
 * S_IFBLK): the entries that have a device number, e->rdev.
 */
bool entry_is_device(const struct entry *e);
/** "type", "mode", ... for one ATTR_* bit; NULL for anything else. */
const char *entry_attr_name(enum entry_attr attr);
/** "xxh3-128", "sha256" or "none". */
const char *hash_algo_name(enum hash_algo algo);
/** Parse a name from hash_algo_name(); returns 0 or -EINVAL. */
int hash_algo_parse(const char *name, enum hash_algo *ret_algo);

/*
 * The xattrs blob (entry->xattrs, entry->xattrs_len): every extended
 * attribute of the object, names and values, losslessly. For each
 * attribute, in this order:
 *
 *     u32 little-endian  name length N (> 0)
 *     N bytes            the name, without its NUL (never contains a NUL)
 *     u32 little-endian  value length V (>= 0)
 *     V bytes            the value, arbitrary bytes (NULs included)
 *
 * Pairs are sorted by name, bytewise (memcmp, a name before any longer
 * name it is a prefix of, i.e. strcmp order), with no duplicates, so that
 * two blobs are equal exactly when the attributes are. No attribute is left
 * out: security.selinux, security.capability and system.posix_acl_* appear
 * here as raw values and also, decoded, in entry->selinux, entry->caps and
 * entry->acl when those are collected. An empty blob (length 0, pointer
 * NULL or not) is "no extended attributes".
 *
 * entry->acl, when not NULL, is exactly
 *     acl_to_any_text(access, NULL, ',', TEXT_ABBREVIATE | TEXT_NUMERIC_IDS)
 * followed, when a default ACL exists (directories), by ',' and
 *     acl_to_any_text(default, "default:", ',', TEXT_ABBREVIATE | TEXT_NUMERIC_IDS)
 * e.g. "u::rwx,u:1000:r-x,g::r-x,m::r-x,o::r-x,default:u::rwx,default:g::r-x,
 * default:o::r-x" (one line, no spaces; ids numeric so that the text does
 * not depend on the host's user database). NULL when the access ACL is
 * equivalent to the mode bits and there is no default ACL.
 */

/** Bytes one (name, value) pair takes in an xattrs blob. */
size_t entry_xattrs_pair_size(size_t name_len, size_t value_len);

/**
 * Write one pair at @dst, which has room for entry_xattrs_pair_size()
 * bytes. Returns the number of bytes written. The caller keeps the pairs
 * sorted. @name_len and @value_len must fit in 32 bits.
 */
size_t entry_xattrs_put(uint8_t *dst, const char *name, size_t name_len, const uint8_t *value,
			size_t value_len);

/**
 * Iterate over an xattrs blob. Start with *@pos = 0. Returns 1 and the next
 * pair (pointers into @blob: the name is not NUL-terminated), advancing
 * *@pos; 0 at the end; -EBADMSG when the blob is truncated or a length is
 * zero for a name (*@pos and ret_* untouched then).
 *
 *     size_t pos = 0;
 *     while ((r = entry_xattrs_next(e->xattrs, e->xattrs_len, &pos, &n, &nl, &v, &vl)) > 0)
 *             ...;
 */
int entry_xattrs_next(const uint8_t *blob, size_t len, size_t *pos, const char **ret_name,
		      size_t *ret_name_len, const uint8_t **ret_value, size_t *ret_value_len);

/**
 * Check that @blob is well formed: complete pairs, non-empty names without
 * NUL bytes, strictly sorted. Returns 0 or -EBADMSG.
 */
int entry_xattrs_check(const uint8_t *blob, size_t len);

/**
 * Find the attribute @name (a C string) in @blob. Returns 1 and its value
 * (pointing into @blob) in *ret_value and *ret_value_len; 0 when absent;
 * -EBADMSG for a malformed blob (ret_* untouched unless 1 is returned).
 */
int entry_xattrs_get(const uint8_t *blob, size_t len, const char *name, const uint8_t **ret_value,
		     size_t *ret_value_len);

#endif /* DRIFT_COMMON_ENTRY_H */
