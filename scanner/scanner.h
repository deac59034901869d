#ifndef DRIFT_SCANNER_SCANNER_H
#define DRIFT_SCANNER_SCANNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"

struct diag;

/**
 * The filesystem walker.
 *
 * scan_walk() walks one or more roots with a pool of worker threads and hands
 * every entry it finds, one at a time, to a visit callback that always runs
 * on the thread that called scan_walk() (so the caller, typically the
 * snapshot writer, needs no locking). The store keys entries by path, so
 * the snapshot is the same whatever the thread count; the order of the
 * visits is only close to key order: each directory's names are sorted
 * (memcmp order) and the walk is depth-first pre-order, so with one thread
 * the order is exactly that pre-order ("/a", "/a/x", then "/a-b", whereas
 * the bytes order "/a-b" before "/a/x"), and with more threads the workers'
 * batches of up to 256 entries interleave. Inserting in near key order
 * keeps the store's b-tree pages full and the inserts local.
 *
 *     static enum scan_action visit(const struct entry *e, void *userdata)
 *     {
 *             return snap_writer_add(userdata, e, NULL) < 0 ? SCAN_STOP : SCAN_CONTINUE;
 *     }
 *
 *     struct scan_opts opts = { .roots = roots, .nroots = 1, .hash = HASH_XXH3_128,
 *                               .visit = visit, .userdata = writer };
 *     r = scan_walk(&opts, &stats, &diag);
 *
 * Errors are visits: a problem with one entry (EACCES, EIO, a file that
 * vanished while it was read) is recorded in entry->err and the walk goes on.
 * An entry that vanished between the directory listing and its stat, or a
 * directory removed while it was being listed, is simply absent. A name
 * that turns into a symlink, socket... between its stat and the opening of
 * its content is recorded as what it became. Only failures of the walk
 * itself are returned.
 *
 * What the walker promises: symlinks are never followed (a symlink entry has
 * its target bytes); FIFOs, sockets and devices are inventoried from their
 * stat and never opened for reading (their optional attributes are read
 * through an O_PATH fd); every path is an entry, hard links included (each
 * path is hashed); a file whose size, mtime or ctime moved while it was read
 * is read once more, and flagged ENTRY_CHANGED_WHILE_READ if it moved again;
 * paths longer than PATH_MAX work (syscalls only ever see one component).
 * A regular file with more than 64 GiB of holes (SCAN_HASH_BLOCKS_MIN in
 * scanner/hash.h) is hashed in block form, its non-zero 4 KiB blocks with their offsets,
 * so that its holes cost nothing: a 1 EiB sparse file costs nothing to
 * create, and feeding its holes as zeros would take years. A stop request
 * (visit or tick) ends the hashing of any file within 64 KiB of input.
 * The worker threads block every signal, so SIGINT reaches the thread that
 * called scan_walk(). See walk.c for the design.
 */

/** The largest regular file whose content SCAN_KEEP keeps: 64 KiB. */
#define SCAN_KEEP_MAX ((size_t)64 * 1024)

/** The default of scan_opts.max_path: 8 times PATH_MAX. */
#define SCAN_MAX_PATH_DEFAULT ((size_t)32768)

/** What to collect for one path; decided before anything about it is read. */
enum scan_collect {
	SCAN_SKIP = 0,            /**< not an entry at all; a directory is not entered */
	SCAN_STAT = 1 << 0,       /**< metadata (always needed for an entry) */
	SCAN_HASH = 1 << 1,       /**< content hash of a regular file */
	SCAN_NO_DESCEND = 1 << 2, /**< record a directory, but not what is in it */
	SCAN_XATTRS = 1 << 3,     /**< all extended attributes (entry->xattrs) */
	SCAN_ACL = 1 << 4,        /**< POSIX ACLs (entry->acl) */
	SCAN_CAPS = 1 << 5,       /**< file capabilities of a regular file (entry->caps) */
	SCAN_SELINUX = 1 << 6,    /**< the SELinux label (entry->selinux) */
	SCAN_MIME = 1 << 7,       /**< libmagic MIME type of a regular file (entry->mime) */
	SCAN_NO_ENTRY = 1 << 8,   /**< a directory: descend, but record no entry for it */
	/**
	 * Keep the content of a regular file of at most SCAN_KEEP_MAX bytes
	 * that is hashed (with SCAN_HASH): the bytes read while hashing (no
	 * second read) are handed to visit in entry->content. Not kept: a
	 * file that changed while it was read (ENTRY_CHANGED_WHILE_READ), one
	 * whose read failed, a larger one, and a file whose hash was reused
	 * (opts->reuse): that one carries the reuse reply's content_id
	 * instead, when it has one.
	 */
	SCAN_KEEP = 1 << 9,
	SCAN_ALL = SCAN_STAT | SCAN_HASH,
};

/*
 * The optional attributes (SCAN_XATTRS ... SCAN_MIME). For each entry the
 * walker collects exactly those its decide result asks for and sets the
 * matching ATTR_* bits in entry->collected; nothing else is read (a result
 * without these bits costs no syscall). "Collected and absent" (bit set,
 * NULL or 0 length) means the object has none: no extended attributes, no
 * ACL beyond the mode bits, no capabilities, no label, or a type the
 * attribute does not apply to (caps and mime: regular files only; acl: not
 * symlinks). An attribute asked for but not in @collected could not be read
 * (entry->err says why), or the entry had already failed (err set by its
 * stat, open or read: then nothing optional is collected), or it is
 * SCAN_MIME in a walk without scan_opts.may_mime.
 *
 * How they are read: only ever through a descriptor of the entry, checked
 * against its stat. Regular files and directories through a real fd (the
 * one the file was hashed through, or the directory listed through, when
 * there is one); symlinks, FIFOs, sockets and devices through an O_PATH fd
 * and "/proc/self/fd/N", so they are never opened for reading and a
 * symlink's own attributes are read, never its target's.
 *
 * SCAN_NO_ENTRY: on a directory, the walker descends (subject to
 * SCAN_NO_DESCEND and cross_mounts) but emits no entry for it; on anything
 * else it means no entry, like SCAN_SKIP (except that the name is stat'ed).
 * An error that keeps the walker from descending (the name cannot be
 * stat'ed, the directory cannot be opened or listed) is still emitted, as
 * an entry with err set and nothing collected: it may hide covered paths.
 */

/** Returned by the visit callback. */
enum scan_action {
	SCAN_CONTINUE, /**< keep going */
	SCAN_STOP,     /**< stop as soon as possible; scan_walk() returns -ECANCELED */
};

/**
 * Decides what to collect for @path (absolute, @len bytes, not
 * NUL-terminated necessarily). Called on worker threads, concurrently: it
 * must be thread-safe (a pure function of its arguments and of data that
 * does not change during the walk). Roots are decided too.
 * When no decide callback is given, everything is collected.
 */
typedef unsigned scan_decide_fn(const char *path, size_t len, void *userdata);

/**
 * Called once per entry on the thread that called scan_walk(). @e and what
 * it points to are borrowed: valid only during the call.
 */
typedef enum scan_action scan_visit_fn(const struct entry *e, void *userdata);

/** Running totals, for progress lines and the closing summary. */
struct scan_stats {
	uint64_t entries;      /**< entries visited */
	uint64_t files_hashed; /**< regular files visited with a content hash (read or reused) */
	uint64_t bytes_hashed; /**< their logical bytes (holes count) */
	uint64_t errors;       /**< entries visited with err != 0 */
	uint64_t files_reused; /**< of files_hashed, those whose hash came from opts->reuse */
};

/**
 * Called about five times a second on the calling thread while the walk
 * runs, also when no entry arrives (a huge file is being hashed). Return
 * true to stop the walk (scan_walk() then returns -ECANCELED). In the stats
 * given to tick, bytes_hashed also counts bytes of files still being hashed,
 * so that progress shows inside a big file.
 */
typedef bool scan_tick_fn(const struct scan_stats *stats, void *userdata);

struct scan_opts {
	/**
	 * Absolute, normalized paths below the root (see scan_root_resolve()
	 * and cli's --root), which are also the keys of their entries. No
	 * component of a root may be a symlink: each root is looked up from
	 * the root's fd with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS),
	 * so whoever can write under the root cannot swap a directory on the
	 * way for a symlink that leads out of it (the root is then an entry
	 * with err ELOOP); below a root, every syscall is relative to its
	 * directory's fd with O_NOFOLLOW.
	 */
	const char *const *roots;
	size_t nroots;
	/**
	 * When true, the roots are below the directory @rootfd (any fd of it,
	 * O_PATH is enough; borrowed), as for a mounted image or container
	 * root; when false, below the host's "/".
	 */
	bool use_rootfd;
	int rootfd;
	/**
	 * The longest key the walk records, in bytes; 0: SCAN_MAX_PATH_DEFAULT.
	 * A directory's names whose keys would be longer are neither looked
	 * at nor descended into; the directory's entry says so (err
	 * ENAMETOOLONG, ENTRY_NOT_DESCENDED_TOO_DEEP). Whoever can write below
	 * a root could otherwise nest directories thousands deep and make the
	 * snapshot grow with the square of the depth.
	 */
	size_t max_path;
	unsigned nthreads;      /**< walker threads; 0 = online CPUs (maybe fewer: scan_walk()) */
	enum hash_algo hash;    /**< HASH_NONE: metadata only; HASH_XXH3_128 or HASH_SHA256 */
	bool cross_mounts;      /**< descend into other filesystems below a root */
	scan_decide_fn *decide; /**< may be NULL: collect everything */
	void *decide_data;      /**< passed to decide */
	scan_visit_fn *visit;   /**< required */
	scan_tick_fn *tick;     /**< may be NULL */
	void *userdata;         /**< passed to visit and tick */
	/**
	 * decide may ask for SCAN_MIME: every walker thread gets its own
	 * libmagic handle, loaded serially on the calling thread before the
	 * threads start (scan_walk() fails if the database cannot be loaded).
	 * When false no handle exists and SCAN_MIME is ignored (ATTR_MIME is
	 * never collected), so a walk without mime rules pays nothing.
	 */
	bool may_mime;
	/**
	 * Content reuse (`drift check --trust-ctime`), may be NULL: called on
	 * a worker thread just before a regular file would be hashed (decide
	 * asked for SCAN_HASH and hash is not HASH_NONE), with its fresh
	 * metadata in @e (kind, key, key_len, mode, uid, gid, size, mtime_ns,
	 * ctime_ns, ino, dev, nlink; borrowed for the call). *ret_entry is
	 * zeroed scratch. Returning true with the hash fields of *ret_entry
	 * filled (hash_algo, hash_len, hash) puts them in the entry (and, when
	 * decide asked for SCAN_KEEP, has_content and content_id too) and the
	 * file is not opened for hashing (optional attributes that need an fd
	 * still open it, without reading it). A reply whose hash_algo is not
	 * opts->hash or whose hash_len is not that algorithm's (16, 32) is
	 * ignored: the file is hashed. Concurrent calls come from different
	 * workers; @worker is the calling worker's index, 0 <= worker <
	 * scan_threads_max(nthreads), so the callback can keep per-worker
	 * state (a database connection) without locks.
	 */
	bool (*reuse)(unsigned worker, const struct entry *e, struct entry *ret_entry,
		      void *reuse_data);
	void *reuse_data;
};

/**
 * The most worker threads scan_walk() will run for opts->nthreads ==
 * @nthreads (0 = online CPUs): the same count, at most 256, capped by what
 * RLIMIT_NOFILE allows once scan_walk() has raised its soft limit (see
 * scan_walk()). scan_walk() never starts more, even if the limit or the
 * CPUs changed in between (it may start fewer). At least 1.
 */
unsigned scan_threads_max(unsigned nthreads);

/**
 * Walk every root and call opts->visit for each entry (the roots included).
 * A root may be a directory or any other file. Trailing slashes of a root
 * are ignored; a root repeated is walked once. A root inside another root
 * is walked as a root of its own (its filesystem is the one cross_mounts
 * compares with below it) and the outer walk skips exactly that path, so
 * each path is emitted once whatever the mounts between them. With
 * cross_mounts false, a directory on another filesystem than its root is
 * an entry but is not entered.
 *
 * Descriptors: the walker keeps up to 4096 directory fds open, within half
 * the soft RLIMIT_NOFILE. While it runs, a soft limit under 8192 is raised
 * towards the hard limit (process-wide: other threads see it too) and put
 * back on return. When the limit stays low, fewer threads than asked are
 * started, so that 32 directory fds remain beside 4 per thread. The
 * environment variable DRIFT_TEST_FD_BUDGET (tests only) overrides the
 * number of directory fds the walker keeps open.
 *
 * @return 0 when the walk completed (per-entry errors are in entry->err);
 *         -ECANCELED when visit or tick asked to stop; -ENOENT, -ENOTDIR,
 *         -EACCES... when a root cannot be examined at all (@reterr names it);
 *         -EINVAL for a root that is not absolute or a missing visit;
 *         -EOPNOTSUPP for opts->hash other than HASH_NONE, HASH_XXH3_128 and
 *         HASH_SHA256;
 *         -ENOMEM, -EAGAIN (no threads) when the walk itself failed;
 *         -EMFILE, -ENFILE, -ENOMEM, -ENOBUFS also when a syscall about an
 *         entry failed with them: they say nothing about the host, so they
 *         are never recorded in entry->err (the walk stops instead).
 *         *ret_stats (if non-NULL) is filled in every case, with the totals
 *         of what was visited. No walker thread is left running on return.
 */
int scan_walk(const struct scan_opts *opts, struct scan_stats *ret_stats, struct diag *reterr);

/**
 * Turn a root given by the user into the absolute, normalized form the
 * walker and the store use: relative paths are made absolute, "." and ".."
 * and repeated slashes are resolved, symlinks in the path are followed (as
 * `find -H` does for its roots). Returns 0 and a malloc()ed string in
 * *ret_path, or a negative errno (the root does not exist...).
 */
int scan_root_resolve(const char *root, char **ret_path, struct diag *reterr);

/**
 * Hash the regular file @name in @dirfd as the walker does. Exposed for the
 * tests and for later verification commands. Returns 0 and fills @ret_entry's
 * hash fields (hash_algo, hash_len, hash; the digest is the bytes the usual
 * tool prints in hex: the 16 canonical big-endian bytes of `xxhsum -H2`
 * for HASH_XXH3_128, the 32 bytes of `sha256sum` for HASH_SHA256; for a
 * file with more than 64 GiB of holes, the block form of scanner/hash.h), and ORs
 * ENTRY_CHANGED_WHILE_READ into ret_entry->flags if the file kept changing
 * while it was read. On failure @ret_entry is untouched and the return is
 * -ELOOP (a symlink: never followed), -EINVAL (not a regular file, or
 * HASH_NONE), -EOPNOTSUPP (an algorithm other than HASH_XXH3_128 and
 * HASH_SHA256), -EIO (OpenSSL failed), -EAGAIN (the name kept designating
 * other files), -EFBIG (a file for the block form on a filesystem that
 * hides its holes: the walker records it with ENTRY_NOT_HASHED_TOO_SPARSE),
 * or the errno of
 * fstatat/open/read (-ENOENT...).
 * Single-threaded helper: allocates its own buffer.
 */
int scan_hash_file(int dirfd, const char *name, enum hash_algo algo, struct entry *ret_entry);

/**
 * The libmagic MIME type of the regular file @path, as the walker would
 * collect it (e.g. "application/x-pie-executable", "text/x-shellscript").
 * An absolute @path is a key below @rootfd (a directory fd, as
 * scan_opts.rootfd; < 0: the host's "/"). @path is opened component by
 * component relative to directory fds, from @rootfd, with O_NOFOLLOW
 * everywhere (a symlink anywhere in it is refused, "..": -EINVAL), so no
 * lookup leaves the root and paths beyond PATH_MAX work; the last component is looked at before it
 * is opened and a FIFO, device or symlink is never opened. Uses a libmagic handle of its own
 * (loading it costs about 0.25 ms), so it is safe from any thread.
 *
 * @return 0 and a malloc()ed string in *ret_mime (free() it); -ELOOP for a
 *         symlink (last component or on the way), -EINVAL for something
 *         that is not a regular file, -ENOENT, -EACCES... from opening,
 *         -ENOENT/-EIO... when libmagic cannot load its database or fails;
 *         *ret_mime untouched and @reterr says what.
 */
int scan_mime_file(int rootfd, const char *path, char **ret_mime, struct diag *reterr);

#endif /* DRIFT_SCANNER_SCANNER_H */
