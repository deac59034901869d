#ifndef DRIFT_SCANNER_ATTRS_H
#define DRIFT_SCANNER_ATTRS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct diag;
struct entry;
struct magic_set;

/** The scan_collect bits of the optional attributes (common/entry.h ATTR_OPTIONAL). */
#define SCAN_ATTRS_MASK (SCAN_XATTRS | SCAN_ACL | SCAN_CAPS | SCAN_SELINUX | SCAN_MIME)

/**
 * A walker thread's context for the optional attributes. Each worker owns
 * one for its whole life; nothing in it is ever shared (libmagic's handle
 * above all). The buffers are reused from entry to entry.
 */
struct scan_attrs {
	char *list; /**< owned: the listxattr() names */
	size_t list_cap;
	const char **names; /**< owned array of pointers into list, sorted */
	size_t names_cap;
	uint8_t *val; /**< owned: one value being read */
	size_t val_cap;
	uint8_t *blob; /**< owned: the xattrs blob being built (entry->xattrs) */
	size_t blob_cap;
	char *label; /**< owned: the SELinux label (entry->selinux) */
	size_t label_cap;
	char *acl;               /**< per entry, malloc()ed; freed by scan_attrs_clear() */
	char *caps;              /**< per entry, from cap_to_text(); freed by scan_attrs_clear() */
	struct magic_set *magic; /**< owned magic_t; NULL: SCAN_MIME is not collected */
};

/**
 * Open and load a libmagic handle configured as the scanner uses it (MIME
 * type only, no decompression, no tar/CDF parsing, at most 1 MiB read).
 * Call it on the thread that starts the workers; the handle then belongs to
 * one thread. Returns 0 and the handle, to free with scan_magic_close(), or
 * a negative errno with @reterr saying why (no database...).
 */
int scan_magic_open(struct magic_set **ret_magic, struct diag *reterr);

/** magic_close(); accepts NULL. */
void scan_magic_close(struct magic_set *magic);

/** The most of a file libmagic reads (its bytes_max, as scan_magic_open() sets it). */
#define SCAN_MAGIC_BYTES_MAX ((size_t)1 << 20)

/**
 * The MIME type of the @len bytes at @buf (a file's first bytes, at most
 * SCAN_MAGIC_BYTES_MAX), by the handle @magic: libmagic's string, valid
 * until the handle's next call; NULL when libmagic fails.
 */
const char *scan_magic_buffer(struct magic_set *magic, const void *buf, size_t len);

/**
 * Does collecting @want (scan_collect bits) on an object of type @mode need
 * a descriptor of it? A symlink needs none for ACL, caps and mime (always
 * absent there), only for xattrs and the label.
 */
bool scan_attrs_need_fd(unsigned want, mode_t mode);

/**
 * Collect the optional attributes in @want for the object behind @fd, of
 * type @mode, into @e: set the pointers (borrowed from @a, valid until the
 * next call or scan_attrs_clear()) and OR the ATTR_* bit of each collected
 * attribute into e->collected. An attribute that could not be read (EACCES,
 * EIO...) is not collected and its errno goes to e->err (if still 0).
 *
 * @fd is a real descriptor (regular files and directories: f*xattr(),
 * cap_get_fd(), magic_descriptor(), whose file offset is reset first) or,
 * when @opath, an O_PATH one (read by path as "/proc/self/fd/N", which
 * reaches the object itself even when it is a symlink). @fd may be -1 when
 * scan_attrs_need_fd() says none is needed.
 *
 * Returns 0, or -ENOMEM (the walk should fail; @e may be half filled).
 */
int scan_attrs_collect(struct scan_attrs *a, int fd, bool opath, mode_t mode, unsigned want,
		       struct entry *e);

/** Free the per-entry allocations of the last scan_attrs_collect(). */
void scan_attrs_clear(struct scan_attrs *a);

/** Free everything, the libmagic handle included. Safe on a zeroed context. */
void scan_attrs_release(struct scan_attrs *a);

#endif /* DRIFT_SCANNER_ATTRS_H */
