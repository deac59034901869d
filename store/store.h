#ifndef DRIFT_STORE_STORE_H
#define DRIFT_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"
#include "common/strbuf.h"
#include "common/verdict.h"

struct diag;

/**
 * Snapshots in one SQLite database, and the comparison of two of them.
 *
 * A database holds many snapshots. Each has a numeric id, an optional unique
 * label (never all digits: a number names an id), a purpose, and its
 * entries, keyed by (snapshot, kind, key) in byte order. One snapshot may be
 * the *baseline*: the one `drift check` holds the host against.
 *
 * Writing a snapshot (snap_writer_*) happens in two transactions: a first,
 * short one records the snapshot as `incomplete`; a second holds every entry
 * and ends by marking it `complete` (and, for a baseline, making it the
 * baseline). A scan interrupted at any point, even by SIGKILL, leaves an
 * incomplete snapshot without entries and every earlier snapshot untouched.
 * The second transaction holds SQLite's write lock for the whole scan: a
 * second writer waits up to 5 s, then fails with -EBUSY. Readers are never
 * blocked (WAL).
 *
 * Errors: every function returns >= 0 or a negative errno with a message in
 * @reterr. The codes a caller can tell apart:
 *   -ENOENT  the database does not exist (read-only open), or the named
 *            snapshot / the baseline does not exist
 *   -EBUSY   another writer holds the database
 *   -EEXIST  a label is taken (snap_writer_begin without replace)
 *   -EINVAL  a bad label
 *   -EPERM   snap_delete() of a baseline without SNAP_DELETE_BASELINE
 *   -EPROTO  a file that is not a drift database, has a newer schema, or
 *            is found damaged (see snap_store_open() for what is checked);
 *            it is not written to
 *   -ENOSPC  the disk is full; -EROFS a write to a store opened read-only,
 *            or a write open of a file that cannot be written
 *   -EACCES  (read-only open) a WAL database with a -wal file whose -shm
 *            cannot be created (no write access to the directory)
 *   -EIO     any other SQLite failure; -ENOMEM
 *
 * Lifetimes: iterators and a writer borrow their store, which must outlive
 * them (snap_store_free() does free a writer still open, rolling it back).
 * A store belongs to one thread; two stores on one file are independent
 * connections (two iterators of one store may run side by side).
 */
struct snap_store;

enum snap_open_flags {
	SNAP_OPEN_READ = 0,       /**< never creates; -ENOENT if missing */
	SNAP_OPEN_WRITE = 1 << 0, /**< creates the file (0600) and its directory (0700) */
};

/**
 * Open the database at @path. Returns 0 and *ret_store (free with
 * snap_store_free()), or a negative errno (see above); *ret_store is
 * untouched on failure. -EISDIR when @path is a directory.
 *
 * What is checked of a file that exists, before anything is written:
 *   - its header, read directly (the SQLite magic, application_id, schema
 *     version, whether it holds tables while lacking our application_id):
 *     a file refused here is not opened by SQLite at all, so it keeps no
 *     -wal or -shm of ours;
 *   - then through SQLite, in one read transaction: the same, and that
 *     every column of the snapshot and meta tables and the first entry row
 *     can be read;
 *   - for SNAP_OPEN_WRITE only, PRAGMA quick_check(1): the b-tree structure
 *     and record format of every page of every table and index (not the
 *     consistency of indexes with their tables). It reads the whole file:
 *     about 0.5 s for 150 MB in the page cache, about 2 s cold. Damage
 *     that quick_check cannot see (a wrong value in a well-formed record)
 *     is not detected. A read-only open does not run it: damaged pages show
 *     up as -EPROTO when they are read.
 * A file refused after SQLite opened it (damage found by quick_check)
 * keeps no -wal or -shm of ours when it had none before, except when a
 * -wal file was already there (a foreign database left with a hot WAL
 * gets a -shm).
 *
 * An empty (0-byte) file gets the schema when opened for writing (several
 * processes may do so at once: one creates it, the others find it), and
 * reads as a store without snapshots when opened for reading (it stays
 * empty). SNAP_OPEN_WRITE of a file the caller may not write (or on a
 * read-only mount) fails with -EROFS at once. SNAP_OPEN_READ of a WAL
 * database whose -shm cannot be created (a directory the caller may not
 * write) reads the main file as immutable when there is no -wal file (a
 * writer that starts meanwhile is not seen), and fails with -EACCES when
 * there is one.
 */
int snap_store_open(const char *path, enum snap_open_flags flags, struct snap_store **ret_store,
		    struct diag *reterr);
/**
 * Close; accepts NULL. A writer still open is rolled back and freed (its
 * snapshot stays incomplete), exactly as if the process had died.
 */
void snap_store_free(struct snap_store *st);

/**
 * How long a write waits for another writer's lock before failing with
 * -EBUSY (default 5000 ms; 0 fails at once).
 */
void snap_store_set_busy_timeout(struct snap_store *st, int ms);

/** Whether @st was opened for writing. */
bool snap_store_writable(const struct snap_store *st);

/** The path the store was opened with (borrowed from @st). */
const char *snap_store_path(const struct snap_store *st);

/** Why a snapshot was taken. Stored: never renumber. */
enum snap_purpose {
	SNAP_PURPOSE_SCAN = 0,     /**< `drift scan --label` */
	SNAP_PURPOSE_BASELINE = 1, /**< `drift init` (the current one, or an older one) */
	SNAP_PURPOSE_CHECK = 2,    /**< `drift check`: pruned to the newest N */
	/**
	 * The apt hook's snapshots before and after a package upgrade (labels
	 * chosen by the caller, e.g. "apt-20261125T140200Z-pre" and "-post"):
	 * pruned like checks, to the newest N of this purpose.
	 */
	SNAP_PURPOSE_UPGRADE = 3,
};

/** What the store knows of one snapshot. Release with snap_info_release(). */
struct snap_info {
	int64_t id;
	char *label; /**< NULL while incomplete, or never labelled */
	enum snap_purpose purpose;
	bool is_baseline; /**< the current baseline */
	bool complete;
	char *host;    /**< never NULL ("" when unknown) */
	char *version; /**< drift version that wrote it; never NULL */
	char **roots;  /**< NULL-terminated array of absolute paths (bytes); never NULL */
	size_t nroots;
	char **excludes; /**< NULL-terminated array of --exclude patterns; never NULL */
	size_t nexcludes;
	bool cross_mounts;
	enum hash_algo hash;
	int64_t started_ns, finished_ns; /**< finished_ns is 0 while incomplete */
	uint64_t entries, errors;
	/**
	 * The policy the snapshot was taken under: its digest (64 lowercase
	 * hex digits, SHA-256) and where it came from (a path, or
	 * "(built-in)"). NULL when unknown (a snapshot of schema version 1, or
	 * taken without a policy).
	 */
	char *policy_digest, *policy_source;
	/**
	 * The probes of system state (scanner/probe.h) that ran, and those
	 * asked for that were unavailable (their source is missing on the
	 * host). NULL-terminated arrays of names, never NULL; empty for a
	 * snapshot taken without probes, of an older schema, or incomplete.
	 */
	char **probes;
	size_t nprobes;
	char **probes_unavailable;
	size_t nprobes_unavailable;
	/**
	 * The snapshot this one is stored as the differences from (a delta
	 * snapshot), 0 for a full copy. Reading gives the same entries either
	 * way; it only says what deleting the parent costs (a re-base).
	 */
	int64_t parent;
};

/**
 * Free what @info holds and zero it. Accepts NULL and a zeroed struct;
 * the struct may be reused afterwards.
 */
void snap_info_release(struct snap_info *info);

/**
 * Find a snapshot by @name: all digits is an id, anything else a label.
 * Returns 0 and fills *ret_info, or -ENOENT (message names @name).
 */
int snap_find(struct snap_store *st, const char *name, struct snap_info *ret_info,
	      struct diag *reterr);

/** The current baseline; -ENOENT when there is none. */
int snap_baseline(struct snap_store *st, struct snap_info *ret_info, struct diag *reterr);

/**
 * Make the complete snapshot @id the baseline, in one transaction. Its
 * purpose becomes SNAP_PURPOSE_BASELINE, so that the pruning of checks and
 * upgrades never takes it; it keeps its label. The previous baseline stays
 * as it is, entries and all, except that it is relabelled "baseline-<its
 * start time>" (as a baseline replaced by a new one is) when it is
 * labelled "baseline" or not labelled, so that it can still be named.
 * Returns 1 when @id became the baseline, 0 when it was the baseline
 * already (nothing changed); *ret_previous (if non-NULL) then describes the
 * previous baseline as it is now, or is zeroed (id 0) when there was none
 * or @id was it. Errors, *ret_previous untouched and nothing changed:
 * -ENOENT (no snapshot @id), -EINVAL (@id is incomplete), -EROFS (@st
 * opened read-only), -EBUSY (another writer, after the busy timeout; or a
 * writer open on @st), -EIO, -ENOMEM.
 */
int snap_set_baseline(struct snap_store *st, int64_t id, struct snap_info *ret_previous,
		      struct diag *reterr);

/**
 * Call @fn for every snapshot, oldest first. @info is borrowed for the call.
 * A negative return from @fn stops the listing and is returned.
 */
typedef int snap_list_fn(const struct snap_info *info, void *userdata);
int snap_list(struct snap_store *st, snap_list_fn *fn, void *userdata, struct diag *reterr);

/**
 * The secret of the database: 32 random bytes (getrandom), created on first
 * use and stored in the database, the same on every later call. It keys
 * digests that must not be computable without the database (the digests of
 * password hashes). Returns 0 and fills @ret_key; -EROFS when there is none
 * yet and @st is read-only; -EPROTO when the stored one is malformed; -EIO.
 * Inside a writer's transaction, a new secret is created in that
 * transaction (rolled back with it); otherwise in a transaction of its own.
 */
int snap_store_secret(struct snap_store *st, uint8_t ret_key[32], struct diag *reterr);

/**
 * Check that @label may name a snapshot: 1 to 128 bytes of printable ASCII
 * (no spaces, no '/'), not all digits (an id), not starting with '-' (an
 * option). Returns 0 or -EINVAL with a message.
 */
int snap_label_check(const char *label, struct diag *reterr);

/* ---- deleting, pruning and vacuuming (prune.c) ---- */

/** What snap_delete(), snap_prune() and snap_store_vacuum() did (or would do). */
struct snap_prune_stats {
	/** Snapshots deleted, by what they were; upgrade_pairs counts pre/post pairs among
	 * upgrades. */
	uint64_t checks, upgrades, upgrade_pairs, scans, baselines, incomplete;
	uint64_t runs;     /**< stored runs deleted (of deleted snapshots, and verify runs) */
	uint64_t packages; /**< package versions no snapshot links to any more */
	/**
	 * The database's size (page_count * page_size) before and after, and
	 * the free pages left inside it (freelist_count * page_size). After a
	 * real deletion the -wal is checkpointed (TRUNCATE) first, so that this
	 * is the file's size; a dry run's bytes_after is an estimate.
	 */
	uint64_t bytes_before, bytes_after, bytes_free;
	bool baseline_cleared; /**< the current baseline was deleted: there is none now */
	/**
	 * Whether the database shrinks by itself (auto_vacuum INCREMENTAL, as
	 * every database created by this drift). When false (an older
	 * database), freed pages are reused but the file keeps its size until
	 * snap_store_vacuum() runs once.
	 */
	bool auto_vacuum;
	bool vacuumed; /**< snap_store_vacuum() ran a full VACUUM */
};

enum snap_delete_flags {
	/** The snapshot may be a baseline (the current one, or an older one). */
	SNAP_DELETE_BASELINE = 1 << 0,
};

/**
 * Delete the snapshot @id (complete or incomplete) with its entries, its
 * runs and its package links, then the package versions no snapshot links
 * to any more, in one transaction; then shrink the file (see struct
 * snap_prune_stats). A baseline (purpose SNAP_PURPOSE_BASELINE, current or
 * old) only with SNAP_DELETE_BASELINE; deleting the current baseline
 * leaves the database without one (stats->baseline_cleared). The counts
 * are added to @stats (zero it first; bytes_before is set only while it is
 * 0, so several deletions report the size before the first); @stats may
 * be NULL. Errors, nothing deleted: -ENOENT (no snapshot @id), -EPERM (a
 * baseline without the flag), -EROFS, -EBUSY (another writer, or a writer
 * open on @st), -EIO, -ENOSPC, -ENOMEM.
 */
int snap_delete(struct snap_store *st, int64_t id, unsigned flags, struct snap_prune_stats *stats,
		struct diag *reterr);

struct snap_prune_opts {
	unsigned keep_checks;   /**< keep the newest N complete checks (0: all) */
	unsigned keep_upgrades; /**< keep the newest N complete upgrade snapshots (0: all) */
	unsigned keep_verify;   /**< keep the newest N verify runs (0: all) */
	bool dry_run;           /**< count what would go, delete nothing (rolled back) */
};

/**
 * Prune, in one write transaction:
 *   - incomplete snapshots of any purpose whose writer is gone (started
 *     more than 10 minutes ago: a live writer holds the write lock this
 *     takes, or gets it within its busy timeout);
 *   - complete checks beyond the newest @opts->keep_checks;
 *   - complete upgrade snapshots beyond the newest @opts->keep_upgrades,
 *     a pre/post pair (a "-post" label and the "-pre" right before it, as
 *     'drift diff --last-upgrade' pairs them) kept or deleted whole: the
 *     pair that straddles the limit is kept;
 *   - runs whose snapshots are gone, verify runs beyond the newest
 *     @opts->keep_verify;
 *   - package versions no snapshot links to.
 * Never a baseline (current or old) nor a scan snapshot. Then, unless
 * @opts->dry_run, shrinks the file (see struct snap_prune_stats). Fills
 * *ret (zeroed first) on success. Errors as snap_delete(), *ret untouched.
 */
int snap_prune(struct snap_store *st, const struct snap_prune_opts *opts,
	       struct snap_prune_stats *ret, struct diag *reterr);

/**
 * Shrink the database file. A database with auto_vacuum INCREMENTAL gets
 * PRAGMA incremental_vacuum (returns 0). One created before drift set that
 * (auto_vacuum NONE) gets it set and a full VACUUM, once (returns 1):
 * that rewrites the whole file, needs up to its size again in free space
 * on its file system (checked first with statvfs: -ENOSPC with a message
 * when short, nothing done) and holds the write lock meanwhile. Then the
 * -wal is checkpointed (TRUNCATE). Sets bytes_before (while 0),
 * bytes_after, bytes_free, auto_vacuum and vacuumed of @stats (may be
 * NULL). Errors: -EROFS, -EBUSY, -ENOSPC, -EIO.
 */
int snap_store_vacuum(struct snap_store *st, struct snap_prune_stats *stats, struct diag *reterr);

/* ---- writing ---- */

struct snap_new {
	enum snap_purpose purpose;
	/**
	 * The label. NULL means: "baseline" for a baseline, "check-<UTC time>"
	 * for a check, "upgrade-<UTC time>" for an upgrade (with "-2", "-3"...
	 * on a collision); required for a scan.
	 */
	const char *label;
	/**
	 * When the label is taken: a scan with @replace deletes the old one; a
	 * baseline with @replace keeps the old one, relabelled
	 * "baseline-<its start time>". Without @replace, -EEXIST, both at
	 * snap_writer_begin() and (should the label have been taken meanwhile)
	 * at snap_writer_commit(). The old snapshot is touched only when the new
	 * one commits.
	 */
	bool replace;
	/**
	 * Checks and upgrades: keep the newest @keep complete snapshots of this
	 * purpose (0 = all), this one among them. Interrupted (incomplete) ones
	 * do not count; those older than the newest complete one before this
	 * one are deleted (newer ones may belong to a writer waiting for the
	 * lock). Other purposes ignore @keep.
	 */
	unsigned keep;
	const char *host; /**< NULL: gethostname() */
	const char *const *roots;
	size_t nroots;
	const char *const *excludes;
	size_t nexcludes;
	bool cross_mounts;
	enum hash_algo hash;
	/**
	 * The policy in force (see struct snap_info); both may be NULL. A
	 * digest must be 64 lowercase hex digits (-EINVAL otherwise).
	 */
	const char *policy_digest, *policy_source;
	/**
	 * The probes of system state asked for (names, non-empty). Recorded as
	 * the probes that ran unless snap_writer_set_probes() says otherwise.
	 */
	const char *const *probes;
	size_t nprobes;
	/**
	 * What the snapshot is stored as (decided at commit, under the write
	 * lock). 0: for a check, scan or upgrade, the differences from the
	 * current baseline when it is complete and has the same roots,
	 * excludes, cross_mounts and hash algorithm (a check of an unchanged
	 * host then costs a few hundred bytes), else a full copy; a baseline
	 * is a full copy. -1: a full copy. > 0: the differences from that
	 * complete snapshot (same hash algorithm), whatever the purpose.
	 * Either way, a parent whose chain of parents is already 64 deep
	 * (SNAP_CHAIN_MAX) gives a full copy instead: reading stays bounded.
	 */
	int64_t parent;
};

struct snap_writer;

/**
 * Record a new, incomplete snapshot and open the transaction that will hold
 * its entries. Returns 0 and *ret_writer (finish with snap_writer_commit()
 * or snap_writer_abort()), or a negative errno, *ret_writer untouched:
 * -EINVAL (bad label or parameters), -EEXIST (label or baseline taken),
 * -EBUSY (another writer, after the busy timeout; or a writer already open
 * on @st), -EROFS (@st opened read-only). One writer per store at a time.
 */
int snap_writer_begin(struct snap_store *st, const struct snap_new *params,
		      struct snap_writer **ret_writer, struct diag *reterr);

/**
 * Add one entry (copied), of any kind, in any order: the writer sorts them
 * (in memory up to 16 MiB, then through a temporary file beside the
 * database) and writes them at snap_writer_finish(), which fails with
 * -EINVAL for a duplicate (kind, key). Errors: -EIO, -ENOMEM, -ENOSPC;
 * -EINVAL for a kind outside ENTRY_FILE..ENTRY__KIND_MAX, a hash whose algorithm is not the
 * snapshot's (params->hash), a @collected bit outside ATTR_OPTIONAL | ATTR_PROPS, or collected
 * xattrs or props that are not well-formed (common/entry.h: pairs sorted by name, each name
 * non-empty, without NUL, once). After an error the writer is still usable (the failed entry is
 * simply not added), but callers normally abort.
 *
 * Optional attributes: only those in e->collected are stored; each is
 * stored as present (its value) or absent (NULL). Empty xattrs (length 0)
 * are stored as absent: "no extended attributes" either way.
 *
 * Properties (e->props) are stored for every entry whose kind is not
 * ENTRY_FILE, and for a file that has some, whatever e->collected says;
 * read back, such an entry has ATTR_PROPS in its collected bits. A file
 * without props stores nothing more than before.
 *
 * The device number (e->rdev) is stored for files that are character or
 * block devices, and reads back as it was, ENTRY_RDEV_UNKNOWN included;
 * any other entry reads back with rdev 0, whatever e->rdev said.
 */
int snap_writer_add(struct snap_writer *w, const struct entry *e, struct diag *reterr);

/*
 * Kept content (content.c). Rules with `keep_content` keep the bytes of
 * small regular files, content-addressed by their SHA-256: the same bytes
 * are stored once however many entries and snapshots refer to them. An
 * entry refers to its content by e->content_id when e->has_content (stored
 * with the entry; not an attribute: snap_entry_diff() ignores it).
 */

/**
 * Store @len bytes at @bytes (if not stored yet) and record that the
 * snapshot being written refers to them. *ret_id is their SHA-256: set it
 * as e->content_id, with e->has_content, before snap_writer_add(). Returns
 * 0, -EINVAL (no transaction open, more than INT_MAX bytes), -ENOMEM,
 * -EIO, -ENOSPC.
 */
int snap_writer_add_content(struct snap_writer *w, const uint8_t *bytes, size_t len,
			    uint8_t ret_id[32], struct diag *reterr);

/**
 * Record that the snapshot being written refers to the content @id stored
 * already (an entry that takes its reference over from another snapshot,
 * as a reused hash does), so that it is kept as long as this snapshot is.
 * Returns 0, -ENOENT when there is no such content (the caller then leaves
 * e->has_content false), -EINVAL, -EIO.
 */
int snap_writer_ref_content(struct snap_writer *w, const uint8_t id[32], struct diag *reterr);

/**
 * The content @id: 0 and its bytes in *ret_bytes (malloc()ed, free() them;
 * never NULL, even for 0 bytes) and *ret_len; -ENOENT when there is none
 * (or the database predates kept content); -EPROTO when the stored bytes
 * are damaged (they do not decompress, or their SHA-256 is not @id);
 * -ENOMEM, -EIO. ret_* untouched on failure.
 */
int snap_content_get(struct snap_store *st, const uint8_t id[32], uint8_t **ret_bytes,
		     size_t *ret_len, struct diag *reterr);

/**
 * Delete the references of snapshots that no longer exist, then the
 * content that no reference is left to; *ret_freed (if non-NULL) is the
 * number of blobs deleted. Runs in the caller's transaction, if any (the
 * writer runs it where it deletes or prunes snapshots). Returns 0 or -errno.
 */
int snap_content_collect(struct snap_store *st, uint64_t *ret_freed, struct diag *reterr);

/** The id of the snapshot being written. */
int64_t snap_writer_id(const struct snap_writer *w);

/**
 * Record which probes ran (@ran) and which of those asked for were
 * unavailable (@unavailable), to be stored at commit in place of the
 * default (every probe asked for ran). May be called again: the last call
 * counts. Returns 0, or -EINVAL for an empty name or a name given twice
 * (in either list), -ENOMEM; the writer's record is unchanged on failure.
 */
int snap_writer_set_probes(struct snap_writer *w, const char *const *ran, size_t nran,
			   const char *const *unavailable, size_t nunavailable,
			   struct diag *reterr);

/*
 * Package ownership. The store keeps, beside the snapshots, the file lists
 * of the package versions the snapshots had: a version's list never
 * changes, so it is stored once however many snapshots link to it, and
 * deleted with the last snapshot that does.
 */

/**
 * Link the package version (@name, @arch, @version) to the snapshot being
 * written (inside its transaction). *ret_known is true when the store has
 * the version's file list already (the caller then skips reading it);
 * false when the caller now gives it, with snap_writer_add_package_file(),
 * before the next snap_writer_add_package(). A version added with no file
 * owns nothing: a caller that cannot read a version's list should not add
 * the version (a later snapshot would take the empty list as known).
 * Adding the same version twice links it once. Returns 0, -EINVAL (an
 * empty name or version, a NULL string), -ENOMEM, -EIO, -ENOSPC.
 */
int snap_writer_add_package(struct snap_writer *w, const char *name, const char *arch,
			    const char *version, bool *ret_known, struct diag *reterr);

/**
 * Add one file (@path, @len bytes, not empty) to the file list of the
 * package version last added with *ret_known false; @md5 is its 16-byte
 * dpkg MD5 sum, or NULL when none is known; @conffile marks a dpkg
 * conffile. A path given twice for a version is merged (an MD5 given
 * either time is kept; conffile if either says so). Returns 0, -EINVAL (no
 * such package version, an empty path), -ENOMEM, -EIO, -ENOSPC.
 */
int snap_writer_add_package_file(struct snap_writer *w, const char *path, size_t len,
				 const uint8_t *md5, bool conffile, struct diag *reterr);

/**
 * Undo the snap_writer_add_package() that just returned *ret_known false:
 * the version, its link to this snapshot and the files added so far go, so
 * that a later snapshot reads its list again (a list that could not be
 * read must not be stored as known). Returns 0, -EINVAL when there is no
 * such version, or a store error.
 */
int snap_writer_drop_package(struct snap_writer *w, struct diag *reterr);

/**
 * Finish: mark the snapshot complete with its totals and finish time, apply
 * the purpose (baseline pointer, relabelling, replacement, pruning of old
 * checks), commit, and free @w. On success *ret_info (if non-NULL) describes
 * the new snapshot. On failure everything since snap_writer_begin() is
 * rolled back (the snapshot stays incomplete) and @w is freed.
 */
int snap_writer_commit(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr);

/**
 * The first half of snap_writer_commit(): everything but the COMMIT, so
 * that the snapshot can be read, complete, on @w's store (and only there)
 * before it is committed; a check reports from it, so that its report
 * stands even when the commit then fails (disk full). Returns 0 and
 * *ret_info (if non-NULL), @w kept for snap_writer_commit() or
 * snap_writer_abort(); on failure, as snap_writer_commit().
 */
int snap_writer_finish(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr);

/** Roll back the entries (the snapshot stays recorded as incomplete) and free @w; accepts NULL. */
void snap_writer_abort(struct snap_writer *w);

/* ---- reading ---- */

/** The package that owns a file, from snap_owner_get(). */
struct snap_owner {
	/* Borrowed from the store: valid until the next snap_owner_get() on
	 * it, or snap_store_free(). */
	const char *name, *arch, *version;
	bool has_md5; /**< whether md5 holds the dpkg sum of the file */
	uint8_t md5[16];
	bool conffile; /**< a dpkg conffile of the package */
};

/**
 * Which package owns @path (@len bytes) in snapshot @snap_id: among the
 * package versions linked to the snapshot, the one whose file list has
 * @path; when several do (diverted or shared files), the first by name
 * (then arch, version) among those with an MD5 sum, else the first by
 * name. Returns 1 and *ret_owner, 0 when no package owns it (or no
 * ownership was recorded, or the database predates schema 3), or -errno.
 * One indexed query per call: meant for the changed files of a diff.
 */
int snap_owner_get(struct snap_store *st, int64_t snap_id, const char *path, size_t len,
		   struct snap_owner *ret_owner, struct diag *reterr);

/**
 * Whether package ownership was recorded for snapshot @snap_id (at least
 * one package version is linked to it). Returns 0 and *ret_has, or -errno
 * (-EIO, -ENOMEM...).
 */
int snap_has_packages(struct snap_store *st, int64_t snap_id, bool *ret_has);

enum snap_iter_flags {
	SNAP_ITER_ERRORS_ONLY = 1 << 0, /**< only entries with err != 0 */
};

struct snap_iter;

/**
 * Iterate over the entries of kind @kind in snapshot @snap_id, in byte order
 * of their keys, restricted to the subtrees of @roots (absolute paths; an
 * entry is inside root R when its key is R or starts with R + "/"). @roots
 * may be NULL for all entries (the only sensible choice for kinds other
 * than files, whose keys are arbitrary bytes). Overlapping roots are fine (each entry comes
 * once); a trailing '/' is ignored and "/" means everything. Returns 0 and
 * *ret_iter (free with snap_iter_free()), -ENOENT when there is no snapshot
 * @snap_id, -EINVAL for an empty root. @st must outlive the iterator.
 */
int snap_iter_new(struct snap_store *st, int64_t snap_id, enum entry_kind kind,
		  const char *const *roots, size_t nroots, unsigned flags,
		  struct snap_iter **ret_iter, struct diag *reterr);

/**
 * Step. Returns 1 and *ret_entry (borrowed: valid until the next call or
 * snap_iter_free(), optional attributes and props included), 0 at the end,
 * or a negative errno (-EPROTO for a damaged row).
 */
int snap_iter_next(struct snap_iter *it, const struct entry **ret_entry, struct diag *reterr);
/** Free; accepts NULL. */
void snap_iter_free(struct snap_iter *it);

/* ---- comparing ---- */

/**
 * The order of keys everywhere in the store: memcmp over the shorter
 * length, then the shorter first (SQLite's BLOB order). Returns <0, 0, >0.
 */
int snap_key_compare(const char *a, size_t alen, const char *b, size_t blen);

enum snap_compare_flags {
	/**
	 * Also report the changes hidden by default as noise: ctime when it is
	 * the only change, and a directory's mtime, ctime, size and link count
	 * (they change whenever something inside changes, which is reported in
	 * its own right).
	 */
	SNAP_COMPARE_ALL = 1 << 0,
};

/** One deviation. Both entry pointers are borrowed for the callback. */
struct deviation {
	enum change change;
	const struct entry *before; /**< NULL when added */
	const struct entry *after;  /**< NULL when removed */
	uint32_t attrs;             /**< enum entry_attr bits that changed (modified only) */
};

/**
 * Which attributes differ between @before and @after (same kind and key),
 * after the noise rules of @flags. The hash is compared only when both
 * sides have one of the same algorithm; when either side has an error, the
 * hash and size are not compared (ATTR_ERROR covers them). An optional
 * attribute (ATTR_OPTIONAL) is compared only when both sides collected it;
 * then a difference in presence or in bytes sets its bit (xattrs of length
 * 0 count as absent). ATTR_RDEV is set only between two character or
 * block devices whose numbers are known (neither is ENTRY_RDEV_UNKNOWN)
 * and differ, with or without SNAP_COMPARE_ALL. ATTR_PROPS is set when the
 * props blobs differ in bytes (empty and absent alike); files have none,
 * so they never get it.
 */
uint32_t snap_entry_diff(const struct entry *before, const struct entry *after, unsigned flags);

typedef int snap_deviation_fn(const struct deviation *d, void *userdata);

/**
 * Merge two key-sorted streams into deviations, calling @fn for each one
 * in key order. Memory does not grow with the number of entries. A negative
 * return from @fn stops the merge and is returned. Returns 0 or a negative
 * errno from an iterator.
 */
int snap_compare(struct snap_iter *before, struct snap_iter *after, unsigned flags,
		 snap_deviation_fn *fn, void *userdata, struct diag *reterr);

/* ---- stored runs (run.c) ---- */

/*
 * A run is one check, diff or verify as it was judged: its snapshots (none
 * for verify), the labels they had then, its options, notes and summary,
 * and its findings, compactly (key, change, verdict, rule, reason, package
 * context; the entries stay in the snapshots, except the sides of a verify
 * finding that no snapshot holds, kept as @aux). The store does not know
 * findings (compare/ does): it keeps these rows. A run is deleted with
 * either of its snapshots; verify runs are kept to the newest @keep.
 */

/** A stored run's description (read back: release with snap_run_info_release()). */
struct snap_run_info {
	int64_t id;
	char *command;         /**< "check", "diff", "verify" */
	int64_t before, after; /**< snapshot ids; 0: none */
	/** The snapshots' labels and baseline roles when the run was made. */
	char *before_label, *after_label;
	bool before_baseline, after_baseline;
	int64_t started_ns;
	unsigned flags;      /**< enum snap_compare_flags */
	bool count_expected; /**< --count-expected */
	char *database;      /**< the database path as the report named it */
	char **roots;        /**< files were compared below these; none: every file */
	size_t nroots;
	uint64_t checked;                    /**< verify: files checked */
	char *policy_digest, *policy_source; /**< NULL: no policy */
	char **notes;                        /**< in the order they came */
	size_t nnotes;
	int exit_code; /**< what the command exited with (-1: not finished) */
	uint64_t findings, counted, expected, blind;
	bool complete;
};
void snap_run_info_release(struct snap_run_info *info);

/** One finding as a row. Strings borrowed (writing) or valid until the next row (reading). */
struct snap_run_row {
	enum entry_kind kind;
	const char *key;
	size_t key_len;
	enum change change;
	uint32_t changed;
	bool judged;
	enum verdict_class class;
	enum severity severity;
	uint32_t attrs;
	int64_t rule; /**< index into the run's rules (snap_run_add_rule()); -1: none */
	const char *reason;
	const char *package, *before_version, *after_version;
	bool unowned;
	bool matches;    /**< the entry is as its (changed) package ships it */
	const void *aux; /**< the sides no snapshot holds (verify), encoded by the caller */
	size_t aux_len;
};

/** An entry the run could not read (a blind spot): as much of it as a report shows. */
struct snap_run_blind {
	enum entry_kind kind;
	const char *key;
	size_t key_len;
	uint32_t mode;
	int err;
	uint32_t flags;
};

/** What snap_run_begin() records of a run; see struct snap_run_info. Borrowed. */
struct snap_run_new {
	const char *command;
	int64_t before, after; /**< 0: none */
	const char *before_label, *after_label;
	bool before_baseline, after_baseline;
	int64_t started_ns; /**< 0: now */
	unsigned flags;
	bool count_expected;
	const char *database;
	const char *const *roots;
	size_t nroots;
	const char *policy_digest, *policy_source;
};

struct snap_run_writer;

/**
 * Start storing the run described by @info. Inside a snapshot writer's open transaction (a check
 * stores its run with its snapshot) the run joins it; otherwise it opens one of its own, committed
 * by snap_run_commit(). Returns 0 and *ret, -EROFS on a read-only store, -EPROTO for a database
 * older than stored runs (opened read-only), or a store error.
 */
int snap_run_begin(struct snap_store *st, const struct snap_run_new *info,
		   struct snap_run_writer **ret, struct diag *reterr);
/**
 * Record a rule; *ret_n is its index for snap_run_row.rule. @remediate is
 * what the rule lets `drift remedy` do (rules/rules.h enum rule_remediate;
 * the store keeps the number).
 */
int snap_run_add_rule(struct snap_run_writer *w, const char *id, const char *title,
		      const char *file, unsigned line, unsigned remediate, int64_t *ret_n,
		      struct diag *reterr);
int snap_run_add_row(struct snap_run_writer *w, const struct snap_run_row *row,
		     struct diag *reterr);
int snap_run_add_blind(struct snap_run_writer *w, const struct snap_run_blind *b,
		       struct diag *reterr);
int snap_run_add_note(struct snap_run_writer *w, const char *text, struct diag *reterr);
/**
 * Finish with the summary, @exit_code and (verify) the count of files
 * @checked, prune verify runs beyond the newest @keep (0: all) and commit
 * (a transaction of its own), free @w.
 * *ret_id is the run's id. On failure everything of the run is rolled back
 * (its own transaction) or left to the snapshot writer's.
 */
int snap_run_commit(struct snap_run_writer *w, int exit_code, uint64_t checked, unsigned keep,
		    int64_t *ret_id, struct diag *reterr);
/** Drop the run (rolled back, or deleted inside a shared transaction) and free @w. */
void snap_run_abort(struct snap_run_writer *w);

/** The run @id (0: the newest). Returns 0, -ENOENT when there is none, or an error. */
int snap_run_get(struct snap_store *st, int64_t id, struct snap_run_info *ret_info,
		 struct diag *reterr);
typedef int snap_run_list_fn(const struct snap_run_info *info, void *userdata);
/** Call @fn for every complete run, oldest first. */
int snap_run_list(struct snap_store *st, snap_run_list_fn *fn, void *userdata, struct diag *reterr);
/**
 * The rules of run @run_id, by index: @fn(n, id, title, file, line,
 * remediate); remediate is 0 (no) for a run stored before schema 7.
 */
typedef int snap_run_rule_fn(int64_t n, const char *id, const char *title, const char *file,
			     unsigned line, unsigned remediate, void *userdata);
int snap_run_rules(struct snap_store *st, int64_t run_id, snap_run_rule_fn *fn, void *userdata,
		   struct diag *reterr);
/** The findings of run @run_id in the order they were stored. */
typedef int snap_run_row_fn(const struct snap_run_row *row, void *userdata);
int snap_run_rows(struct snap_store *st, int64_t run_id, snap_run_row_fn *fn, void *userdata,
		  struct diag *reterr);
typedef int snap_run_blind_fn(const struct snap_run_blind *b, void *userdata);
int snap_run_blinds(struct snap_store *st, int64_t run_id, snap_run_blind_fn *fn, void *userdata,
		    struct diag *reterr);

/* ---- acceptance (accept.c) ---- */

/*
 * Accepting reviewed findings into a new baseline, exactly as the reviewed
 * run saw them: never a rescan. The new baseline is the old one plus the
 * accepted entries as the run's after snapshot holds them (a removed
 * finding deletes the entry; an added or modified one copies the entry with
 * its kept content reference; for an accepted package entry, the package
 * version links of the after snapshot replace the old baseline's, so that
 * file ownership follows). It is stored as a delta of the old baseline,
 * labelled "accept-<UTC time>", with purpose SNAP_PURPOSE_BASELINE (never
 * pruned as a check), and the old baseline's start time (the oldest state it
 * holds: what happened since, by the package logs, still explains the
 * entries not accepted). The old baseline stays, entries and all; when it was
 * labelled "baseline" (or not at all) it is relabelled "baseline-<its start
 * time>", as 'drift init --force' does. Both stay in history; acceptances
 * name snapshots by id, and a snapshot deleted by hand (drift snapshots
 * --delete) simply makes the undo of an acceptance naming it fail.
 *
 * Everything is written in the snapshot writer's transaction: an
 * interruption leaves the old baseline in force (and at most an incomplete
 * snapshot record, without entries, as an interrupted scan does).
 */

/** One finding to accept, by its entry: @key is @key_len bytes (not NUL-terminated necessarily). */
struct snap_accept_key {
	enum entry_kind kind;
	const char *key;
	size_t key_len;
};

/** One acceptance, as recorded. Release with snap_acceptance_release(). */
struct snap_acceptance {
	int64_t id;
	int64_t run;                        /**< the run that was reviewed */
	int64_t old_baseline, new_baseline; /**< snapshot ids */
	char *old_label, *new_label; /**< the snapshots' labels now; NULL: gone or unlabelled */
	char *who;                   /**< the login name (see snap_accept_who()) */
	int64_t at_ns;
	char *reason;
	uint64_t entries;  /**< findings accepted */
	int64_t undone_ns; /**< 0: in force */
	char *undone_by;   /**< NULL while in force */
};
void snap_acceptance_release(struct snap_acceptance *a);

enum snap_accept_flags {
	/** Match the keys and call @fn, write nothing (ret->id and new_baseline stay 0). */
	SNAP_ACCEPT_DRY_RUN = 1 << 0,
};

/** Each finding of the run that will be (or was) accepted, in the run's order. */
typedef int snap_accept_row_fn(const struct snap_run_row *row, void *userdata);

/**
 * Accept the findings of run @run_id (a check or diff whose before side is
 * the current baseline) named by @keys[0..@n) into a new baseline. A key
 * matches the finding of the same kind and key; a package key without an
 * architecture ("openssl") also matches "openssl:<arch>". A key given twice
 * counts once. Nothing is written unless every key matched a finding.
 * @who and @reason are required (non-empty). @fn (may be NULL) sees every
 * finding taken, once every key matched and before anything is written; a
 * negative return stops and is returned. On success fills *@ret (may be
 * NULL; the labels are those after the acceptance).
 *
 * Errors, nothing written:
 *   -EINVAL  no keys, an empty @who or @reason, a verify run (no snapshots),
 *            the run's snapshots of another hash algorithm than the baseline
 *   -ENOENT  no run @run_id; a key that is no finding of it (the message
 *            names it); the run's after snapshot is gone (pruned)
 *   -ESTALE  the baseline is not the run's before snapshot any more (it
 *            moved since the review: check again, accept from the new run)
 *   -EROFS, -EBUSY, -EIO, -ENOSPC, -ENOMEM as for snap_writer_begin()
 */
int snap_accept(struct snap_store *st, int64_t run_id, const struct snap_accept_key *keys, size_t n,
		const char *who, const char *reason, unsigned flags, snap_accept_row_fn *fn,
		void *userdata, struct snap_acceptance *ret, struct diag *reterr);

/**
 * Undo acceptance @id (0: the newest one still in force): its old baseline
 * becomes the baseline again, in one transaction, and the acceptance is
 * marked undone by @who now. The accept snapshot stays (an old baseline).
 * Fills *@ret (may be NULL) as it is afterwards. Errors, nothing changed:
 * -ENOENT (no such acceptance, none in force, or its old baseline is gone),
 * -EALREADY (undone already), -ESTALE (the baseline is not that
 * acceptance's new baseline: it moved since; undo the later ones first),
 * -EINVAL (empty @who), -EROFS, -EBUSY, -EIO.
 */
int snap_accept_undo(struct snap_store *st, int64_t id, const char *who,
		     struct snap_acceptance *ret, struct diag *reterr);

/** Every acceptance, oldest first; @a borrowed for the call. A negative return from @fn stops. */
typedef int snap_acceptance_fn(const struct snap_acceptance *a, void *userdata);
int snap_acceptance_list(struct snap_store *st, snap_acceptance_fn *fn, void *userdata,
			 struct diag *reterr);

/** A finding taken by acceptance @acceptance; @key borrowed for the call. */
typedef int snap_accepted_fn(int64_t acceptance, enum entry_kind kind, const char *key,
			     size_t key_len, enum change change, void *userdata);
/** The entries acceptance @id took, in (kind, key) order. */
int snap_acceptance_keys(struct snap_store *st, int64_t id, snap_accepted_fn *fn, void *userdata,
			 struct diag *reterr);
/**
 * The findings of run @run_id that an acceptance still in force (not
 * undone) took, in (kind, key) order: what a browser shows as "accepted".
 * A database older than acceptance (read-only) has none.
 */
int snap_run_accepted(struct snap_store *st, int64_t run_id, snap_accepted_fn *fn, void *userdata,
		      struct diag *reterr);

/**
 * Who is accepting: the login name, also under sudo (SUDO_USER when the
 * real uid is 0 and it is set), else the name of the real uid
 * (getpwuid(getuid())), else "uid <n>". malloc()ed; NULL: out of memory.
 */
char *snap_accept_who(void);

/* ---- reading a run for the browser (runread.c) ---- */

/** One finding as the browser's list needs it: no reason, rule or sides. */
struct snap_run_lean {
	int64_t seq; /**< its position in the run, from 0 (snap_run_row_get()) */
	enum entry_kind kind;
	const char *key;
	size_t key_len;
	enum change change;
	uint32_t changed;
	bool judged;
	enum verdict_class class;
	enum severity severity;
	const char *package, *before_version, *after_version; /**< NULL: none */
};
typedef int snap_run_lean_fn(const struct snap_run_lean *row, void *userdata);
/**
 * The findings of run @run_id in their order, only the columns of struct
 * snap_run_lean (strings valid until the next row). Returns 0, the
 * callback's negative value, -EPROTO for a damaged row, or a store error.
 */
int snap_run_rows_lean(struct snap_store *st, int64_t run_id, snap_run_lean_fn *fn, void *userdata,
		       struct diag *reterr);
/**
 * The finding @seq of run @run_id, whole, to @fn. Returns 1 after @fn, 0
 * when there is no such finding, or a negative errno.
 */
int snap_run_row_get(struct snap_store *st, int64_t run_id, int64_t seq, snap_run_row_fn *fn,
		     void *userdata, struct diag *reterr);

/* ---- point lookups ---- */

struct snap_lookup;

/**
 * Open a read-only lookup of the entries of snapshot @snap_id in the
 * database at @path, with a connection of its own: one lookup belongs to one
 * thread at a time. Returns 0 and *ret_lookup (free with
 * snap_lookup_free()), or -EIO / -ENOMEM.
 */
int snap_lookup_open(const char *path, int64_t snap_id, struct snap_lookup **ret_lookup,
		     struct diag *reterr);

/**
 * Find the entry of @kind with key @key (@len bytes). Returns 1 and
 * *ret_entry (borrowed until the next call or snap_lookup_free(); only
 * mode, size, mtime_ns, ctime_ns, ino, dev, the hash bytes, the optional
 * attributes and the props are filled, hash_algo is left HASH_NONE: the
 * snapshot's algorithm is the caller's to know), 0 when there is none, or
 * -EIO (-EPROTO for a damaged row). An entry with optional attributes or
 * props points into SQLite's copy of the row, which the lookup keeps (with
 * a read transaction) until the next call.
 */
int snap_lookup_get(struct snap_lookup *lk, enum entry_kind kind, const char *key, size_t len,
		    const struct entry **ret_entry, struct diag *reterr);

/** Close; accepts NULL. */
void snap_lookup_free(struct snap_lookup *lk);

/* ---- the remediation journal (remedy.c) ---- */

/*
 * What `drift remedy` did to the host, written before each action runs
 * (remedy/ decides and acts; the store keeps the record): one `remedy` row
 * per application of a plan, one `remedy_action` row per action with its
 * state, its pre-image (the entry as it was, and the bytes it replaced)
 * and its post-image (the entry as the action left it). Each write is its
 * own transaction, synced (snap_store_set_durable()), so that a crash
 * leaves at most one action whose outcome is unknown, and that one is
 * marked started.
 */

/** The state of an action; stored: never renumber. */
enum snap_remedy_state {
	SNAP_REMEDY_STARTED = 0, /**< written before it ran: its outcome is unknown until marked */
	SNAP_REMEDY_DONE = 1,    /**< it ran; the post-image says what it left */
	SNAP_REMEDY_FAILED = 2,  /**< it failed with nothing changed (error says why) */
	SNAP_REMEDY_UNDONE = 3,  /**< reversed by an undo */
	SNAP_REMEDY_SKIPPED = 4, /**< not run: the entry was not as the run saw it (error) */
	SNAP_REMEDY_PLANNED = 5, /**< written with the plan, before anything ran */
};

/** One remediation. Release with snap_remedy_release(). */
struct snap_remedy {
	int64_t id;
	int64_t run;      /**< the run whose findings it remedied */
	int64_t baseline; /**< the snapshot it restored to (the run's before side) */
	char *who;
	int64_t started_ns;
	int64_t finished_ns; /**< 0: never finished (still running, or interrupted) */
	bool automatic;      /**< --auto */
	char *quarantine;    /**< the directory added files were moved to */
	uint64_t planned;    /**< actions in its plan */
	/** Actions by state (enum snap_remedy_state). */
	uint64_t started, done, failed, undone, skipped, planned_left;
	int64_t undone_ns; /**< 0: not undone */
	char *undone_by;
};
void snap_remedy_release(struct snap_remedy *r);

/** One action's row. Borrowed (writing) or valid during the callback (reading). */
struct snap_remedy_action {
	int64_t seq; /**< its place in the plan, from 0 */
	enum entry_kind kind;
	const char *key;
	size_t key_len;
	unsigned action; /**< remedy/'s action kind, stored as is */
	enum snap_remedy_state state;
	const char *detail; /**< what it does, for people ("mode 0755 -> 0644") */
	const void *pre;    /**< snap_entry_encode() of the entry before; NULL: there was none */
	size_t pre_len;
	const void *bytes; /**< the content it replaced, kept aside; NULL: none */
	size_t bytes_len;
	const void *post; /**< snap_entry_encode() of what it left; NULL: nothing (moved away) */
	size_t post_len;
	const char *error; /**< why it failed or was skipped; NULL */
};

/** Every later write of this connection is synced before it returns (synchronous FULL). */
int snap_store_set_durable(struct snap_store *st, struct diag *reterr);

/**
 * Record the start of a remediation of run @run to @baseline by @who,
 * quarantining into @quarantine, with its @n planned actions (state
 * SNAP_REMEDY_PLANNED), in one transaction. *@ret_id is its id. -EROFS,
 * -EPROTO (a database before schema 7, read-only), store errors.
 */
int snap_remedy_begin(struct snap_store *st, int64_t run, int64_t baseline, const char *who,
		      bool automatic, const char *quarantine,
		      const struct snap_remedy_action *actions, size_t n, int64_t *ret_id,
		      struct diag *reterr);
/** Write (insert or replace) action @a->seq of remediation @id, and commit. */
int snap_remedy_action_put(struct snap_store *st, int64_t id, const struct snap_remedy_action *a,
			   struct diag *reterr);
/** Mark remediation @id finished now. */
int snap_remedy_finish(struct snap_store *st, int64_t id, struct diag *reterr);
/** Mark remediation @id undone by @who now. */
int snap_remedy_set_undone(struct snap_store *st, int64_t id, const char *who, struct diag *reterr);
/** Remediation @id (0: the newest). 0, -ENOENT, or a store error. */
int snap_remedy_get(struct snap_store *st, int64_t id, struct snap_remedy *ret,
		    struct diag *reterr);
typedef int snap_remedy_fn(const struct snap_remedy *r, void *userdata);
/** Every remediation, oldest first. */
int snap_remedy_list(struct snap_store *st, snap_remedy_fn *fn, void *userdata,
		     struct diag *reterr);
typedef int snap_remedy_action_fn(const struct snap_remedy_action *a, void *userdata);
/** The actions of remediation @id, in plan order. */
int snap_remedy_actions(struct snap_store *st, int64_t id, snap_remedy_action_fn *fn,
			void *userdata, struct diag *reterr);
/**
 * The actions that rewrote an entry and stand (state done, their
 * remediation not undone), oldest first, for compare/: what a restore could
 * not bring back (the inode number) is no drift.
 */
int snap_remedy_restored(struct snap_store *st, snap_remedy_action_fn *fn, void *userdata,
			 struct diag *reterr);

/**
 * An entry as one self-contained blob: its kind, hash algorithm and the
 * record of the store's blocks (every attribute, key, kept-content
 * reference and props). Appends to @out. 0 or -ENOMEM.
 */
int snap_entry_encode(struct strbuf *out, const struct entry *e);

/** Scratch for snap_entry_decode(). Zero it before the first use; release after the last. */
struct snap_entry_buf {
	struct strbuf key;
	struct entry e;
};
/**
 * Decode a blob of snap_entry_encode(): *@ret points into @buf and @blob
 * (valid while both are). 0, -EPROTO (damaged), -ENOMEM.
 */
int snap_entry_decode(const void *blob, size_t len, struct snap_entry_buf *buf,
		      const struct entry **ret);
void snap_entry_buf_release(struct snap_entry_buf *buf);

/* ---- seals (schema version 8; store/seal.c) ---- */

/**
 * A sealing key: 32 secret bytes for one epoch, the epoch's number, and when
 * epoch 0 began and how long an epoch lasts. The file (drift-seal-key 1) is
 * text: "origin SECONDS", "period SECONDS", "epoch N", "key HEX".
 */
struct snap_seal_key;

/**
 * Create a new key file at @path (it must not exist; mode 0600) for epoch 0
 * starting now, an epoch every @period seconds (0: a day). 0 or -errno.
 */
int snap_seal_key_create(const char *path, int64_t period, struct diag *reterr);
/** Load the key file @path. 0 or -errno (-EINVAL: not a key file). */
int snap_seal_key_load(const char *path, struct snap_seal_key **ret, struct diag *reterr);
void snap_seal_key_free(struct snap_seal_key *k);
/** The key's epoch. */
int64_t snap_seal_key_epoch(const struct snap_seal_key *k);
/** The epoch a time (ns since the Epoch) falls in for @k; -1 before its origin. */
int64_t snap_seal_key_epoch_of(const struct snap_seal_key *k, int64_t at_ns);

/**
 * Seal with @key (the store owns it from now on and frees it; NULL: digests
 * and chain only) from now on. Each
 * seal carries HMAC-SHA256 with the key of its epoch; the key moves forward
 * to the current epoch as it seals, and the file is rewritten to that epoch
 * after the commit (the older keys are forgotten; a file that cannot be
 * rewritten, on read-only media, is left and the key evolves in memory).
 */
void snap_store_set_seal_key(struct snap_store *st, struct snap_seal_key *key);

/** Lowercase hex of @n bytes into @out (2n + 1 bytes). */
void snap_seal_hex(const uint8_t *p, size_t n, char *out);
/** "snapshot", "run", "baseline", ... for a seal kind. */
const char *snap_seal_kind_name(int kind);

struct snap_seal_head {
	int64_t seq;
	int64_t at_ns;
	int64_t epoch;
	uint8_t chain[32];
	bool has_mac;
	uint8_t mac[32];
};
/** The newest seal: 0, -ENOENT (none yet, or a database before seals), -errno. */
int snap_seal_head(struct snap_store *st, struct snap_seal_head *ret, struct diag *reterr);

struct snap_seal_verify_opts {
	/** The verification key (a copy of the key file from its first epoch,
	 *  or any later one: seals of earlier epochs are then not authenticated). */
	const struct snap_seal_key *key;
	/** A seal recorded off the host (drift snapshots --head): it must be there, as it was. */
	bool have_head;
	int64_t head_seq;
	uint8_t head_chain[32];
};
struct snap_seal_verify_stats {
	uint64_t seals;           /**< seals read */
	uint64_t authenticated;   /**< whose MAC holds under the key */
	uint64_t before_key;      /**< of epochs before the key's: not authenticated */
	uint64_t unauthenticated; /**< with a MAC, but no key was given */
	uint64_t objects;         /**< parts compared with their seals */
	uint64_t problems;
	int64_t head_seq;
	uint8_t head_chain[32];
};
/** One problem found; return 0 to go on, or -errno to stop. */
typedef int snap_seal_problem_fn(void *userdata, int64_t seq, const char *msg);
/**
 * Recompute every seal and every sealed part: a seal altered, inserted,
 * removed or reordered, a part altered, removed or inserted without drift,
 * a MAC that does not hold, a seal of an epoch its time is not in, kept
 * content that is not its SHA-256, each reported through @fn. Returns 0
 * (problems counted in @stats) or -errno when the database cannot be read.
 */
int snap_seal_verify(struct snap_store *st, const struct snap_seal_verify_opts *opts,
		     snap_seal_problem_fn *fn, void *userdata, struct snap_seal_verify_stats *stats,
		     struct diag *reterr);

#endif /* DRIFT_STORE_STORE_H */
