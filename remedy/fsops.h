#ifndef DRIFT_REMEDY_FSOPS_H
#define DRIFT_REMEDY_FSOPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

struct diag;

/**
 * The file operations of remediation, and nothing else: every path is
 * opened from the root directory fd, one component at a time with
 * O_NOFOLLOW, so that no symlink planted in a path (between a plan and its
 * apply, or while it runs) is ever followed; every change of metadata goes
 * through the descriptor of the object that was checked.
 *
 *     struct fs_path p;
 *     r = fs_path_open(rootfd, "/etc/ssh/sshd_config", len, &p, &diag);
 *     r = fs_entry_open(&p, &obj, &diag);        // -ENOENT: absent
 *     ... compare obj.st with what the run saw ...
 *     r = fs_meta_apply(&p, &obj, &meta, ATTR_MODE | ATTR_UID, &diag);
 *     fs_entry_close(&obj);
 *     fs_path_release(&p);
 *
 * Errors are negative errnos with a message in @reterr naming the path.
 */

/** A path's parent directory, opened safely, and its last component. */
struct fs_path {
	int dirfd;  /**< the parent directory: O_RDONLY | O_DIRECTORY, opened from the root */
	char *name; /**< the last component (no '/'), malloc()ed */
	char *path; /**< the whole path as given, NUL-terminated, for messages */
	/**
	 * Set by the caller (fs_path_open() leaves it NULL), at most
	 * FS_TAG_MAX bytes of [A-Za-z0-9-]: the temporary objects made for
	 * this path are named ".drift-remedy-TAG-XXXXXX", so that what a crash
	 * left can be found again (fs_clean_temps()). NULL: ".drift-remedy-XXXXXX".
	 */
	const char *tag;
};

#define FS_TAG_MAX 40

/**
 * Open the parent directory of the absolute @path (@len bytes, no NUL
 * inside, "/" itself refused with -EINVAL, "." and ".." components refused
 * with -EINVAL) below @rootfd, component by component with
 * openat(O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC). A component
 * that is a symlink: -ELOOP, the message naming it ("/etc/ssh is a
 * symlink: not followed"); not a directory: -ENOTDIR; missing: -ENOENT.
 */
int fs_path_open(int rootfd, const char *path, size_t len, struct fs_path *ret,
		 struct diag *reterr);
/** Close and free; a zeroed fs_path (dirfd -1 or 0 with name NULL) is fine. */
void fs_path_release(struct fs_path *p);

/** The object at a path, opened without following it. */
struct fs_entry {
	int fd;     /**< see fs_entry_open(); -1 when closed */
	bool opath; /**< @fd is O_PATH (symlinks, fifos, sockets, devices) */
	struct stat st;
};

/**
 * Open the object @p names, never following it: first with O_PATH |
 * O_NOFOLLOW, which has no effect on any object, and fstat(); a regular
 * file or a directory is then reopened through that descriptor
 * ("/proc/self/fd/N") with O_RDONLY | O_NONBLOCK | O_NOCTTY, anything else
 * (a symlink, fifo, socket, device) keeps the O_PATH descriptor. So no
 * fifo or device is ever opened, even one swapped in at the last moment.
 * Fills ret->st by fstat() of the descriptor. -ENOENT when absent.
 */
int fs_entry_open(const struct fs_path *p, struct fs_entry *ret, struct diag *reterr);
void fs_entry_close(struct fs_entry *e);

/**
 * Metadata to restore or to keep as a pre-image. Strings and blobs are
 * borrowed (set by the caller) or owned (filled by fs_meta_read(), freed by
 * fs_meta_release()).
 */
struct fs_meta {
	uint32_t mode; /**< S_IFMT type bits and the 07777 bits */
	uint32_t uid, gid;
	int64_t mtime_ns;
	/** The ATTR_OPTIONAL bits (common/entry.h) that are meaningful below. */
	uint32_t collected;
	const uint8_t *xattrs; /**< the xattrs blob of common/entry.h: every attribute */
	size_t xattrs_len;
	const char *acl;  /**< entry->acl's form; NULL: none beyond the mode bits */
	const char *caps; /**< cap_to_text() form; NULL: none */
};

/**
 * Read @e's metadata, as a pre-image: mode, owner, mtime and every
 * extended attribute (the xattrs blob holds the ACLs and capabilities too,
 * raw), collected = ATTR_XATTRS (plus ATTR_ACL / ATTR_CAPS with their text
 * forms). Owned by @ret: fs_meta_release().
 */
int fs_meta_read(const struct fs_path *p, const struct fs_entry *e, struct fs_meta *ret,
		 struct diag *reterr);
void fs_meta_release(struct fs_meta *m);

/**
 * Set the attributes @attrs (ATTR_MODE, ATTR_UID, ATTR_GID, ATTR_MTIME,
 * ATTR_XATTRS, ATTR_ACL, ATTR_CAPS of common/entry.h; others ignored) of
 * @m on the object @e opened at @p, through its descriptor, never by name
 * (an O_PATH one, a symlink's included: fchownat(AT_EMPTY_PATH), and
 * chmod(), *xattr(), libacl and utimensat() on "/proc/self/fd/N", which
 * reaches the object itself; mode, ACLs and caps do not apply to
 * symlinks). ATTR_XATTRS, ATTR_ACL and ATTR_CAPS must be in m->collected
 * (else -EINVAL, nothing changed). Order: owner (which clears setuid bits
 * and capabilities, as the kernel must: they are not put back unless
 * @attrs asks for them), then mode, then xattrs (all of them, removing
 * those @m does not have; an equal value is not rewritten), or else ACLs
 * and capabilities from their text (with ATTR_XATTRS the blob holds them
 * raw), then mtime last (atime set to the same value). Refreshes e->st.
 * A failure midway leaves what was already set (the message says what
 * failed).
 */
int fs_meta_apply(const struct fs_path *p, struct fs_entry *e, const struct fs_meta *m,
		  uint32_t attrs, struct diag *reterr);

/** How fs_write_file() and fs_make_symlink() put the new object in place. */
enum fs_place {
	FS_PLACE_NEW = 0, /**< the name must be free (renameat2 RENAME_NOREPLACE) */
	FS_PLACE_REPLACE, /**< atomically replace what is there (renameat) */
};

/**
 * Write @len bytes as a new regular file at @p: created under a temporary
 * name in the same directory (".drift-remedy-XXXXXX", O_EXCL, mode 0600),
 * written, given @m's metadata (fs_meta_apply() with every attribute @m
 * has: owner, mode, xattrs/ACL/caps it collected, mtime), fsync()ed, then
 * renamed into place as @how says, and the directory fsync()ed. On any
 * failure the temporary file is removed and nothing at @p changed.
 * Fills *@ret_st (may be NULL) with the new file's stat.
 */
int fs_write_file(const struct fs_path *p, const uint8_t *bytes, size_t len,
		  const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		  struct diag *reterr);

/** Create the directory @p (must not exist) with @m's metadata; fsync the parent. */
int fs_make_dir(const struct fs_path *p, const struct fs_meta *m, struct stat *ret_st,
		struct diag *reterr);

/**
 * Create a symlink at @p to @target (@target_len bytes, no NUL) with @m's
 * owner, mtime and xattrs (when collected): made under a temporary name,
 * then renamed into place as @how says; the directory fsync()ed.
 */
int fs_make_symlink(const struct fs_path *p, const char *target, size_t target_len,
		    const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		    struct diag *reterr);

/**
 * Move the object at @from to @to (whose name must be free) with its
 * metadata: renameat2(RENAME_NOREPLACE). Across filesystems (EXDEV) a
 * regular file or symlink is copied (bytes, owner, mode, xattrs, mtime),
 * the copy fsync()ed, and only then the original unlinked; a directory (or
 * any other type) across filesystems: -EXDEV. @expect (may be NULL) is the
 * stat the object must still have (st_dev, st_ino, the type of st_mode: a
 * chmod meanwhile does not make it stale): otherwise -ESTALE and nothing
 * moved. Both directories are fsync()ed.
 */
int fs_move(const struct fs_path *from, const struct fs_path *to, const struct stat *expect,
	    struct diag *reterr);

/**
 * Remove the object at @p, which must still be @expect (st_dev, st_ino,
 * the type of st_mode; else -ESTALE; NULL: -EINVAL): unlinkat(),
 * AT_REMOVEDIR for a directory (which must be empty: -ENOTEMPTY). The
 * directory is fsync()ed.
 */
int fs_remove(const struct fs_path *p, const struct stat *expect, struct diag *reterr);

/**
 * Remove the temporary objects of @p's tag (regular files and symlinks named
 * ".drift-remedy-TAG-XXXXXX") from its directory: what a crash between
 * their creation and their rename left. Returns how many, or a negative
 * errno; 0 without a tag.
 */
int fs_clean_temps(const struct fs_path *p, struct diag *reterr);

/**
 * Read the whole regular file @e (opened by fs_entry_open()), at most
 * @max bytes (-EFBIG beyond). *@ret_bytes is malloc()ed (non-NULL even
 * when empty).
 */
int fs_read_file(const struct fs_entry *e, size_t max, uint8_t **ret_bytes, size_t *ret_len,
		 struct diag *reterr);

/**
 * Open (creating with @mode 0700 as needed) the directory @rel below the
 * directory @basefd, component by component with O_NOFOLLOW: where the
 * quarantine goes. Returns the directory's fd (O_RDONLY | O_DIRECTORY) or a
 * negative errno.
 */
int fs_mkdirs(int basefd, const char *rel, mode_t mode, struct diag *reterr);

#endif /* DRIFT_REMEDY_FSOPS_H */
