#ifndef DRIFT_STORE_INTERNAL_H
#define DRIFT_STORE_INTERNAL_H

/*
 * What the files of store/ share, and nothing outside store/ may include:
 * the store object itself, the schema entry points (schema.c) and the
 * mapping from SQLite result codes to errno values.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

#include "common/entry.h"
#include "common/strbuf.h"
#include "store/store.h"

struct diag;
struct strbuf;
struct entry;
struct snap_info;

/** "DRFT": PRAGMA application_id of every drift database. */
#define SNAP_APPLICATION_ID 0x44524654
/** PRAGMA user_version: the newest schema this code reads and writes. */
#define SNAP_SCHEMA_VERSION 8

/** The key of the meta row that names the current baseline (value: snapshot id). */
#define SNAP_META_BASELINE "baseline"
/** The key of the meta row that holds the database's secret (value: 32 random bytes). */
#define SNAP_META_SECRET "secret"

struct snap_store {
	sqlite3 *db;
	char *path;
	bool writable;
	/**
	 * The schema version of the open database: SNAP_SCHEMA_VERSION, or 1
	 * or 2 for an old database opened read-only (never migrated then:
	 * queries select NULL for the columns it lacks, and the package
	 * tables of version 3 read as empty).
	 */
	int schema;
	/** snap_owner_get()'s query, prepared on first use. */
	sqlite3_stmt *owner_get;
	/** The strings the last snap_owner_get() handed out (name, arch, version). */
	char *owner_strings;
	/** The writer in progress (at most one per store); freed with the store. */
	struct snap_writer *writer;
	/** The SQLite result code of the last validation failure (schema.c), 0 if none. */
	int fail_rc;
	/** The sealing key (owned), or NULL (seal.c). */
	struct snap_seal_key *seal_key;
};

/** The writer of one snapshot (store.c; the package part in pkg.c). */
struct snap_writer {
	struct snap_store *st;
	int64_t id;
	enum snap_purpose purpose;
	char *label; /* NULL: an automatic label (check, upgrade), chosen at commit */
	bool replace;
	unsigned keep;
	enum hash_algo hash;
	int64_t started_ns;
	uint64_t entries, errors;
	bool in_tx;                 /* transaction 2 is open */
	int64_t parent_req;         /* snap_new.parent */
	struct snap_sorter *sorter; /* the entries added, until finish writes them */
	bool finished;              /* snap_writer_finish() ran: only the COMMIT is left */
	struct strbuf ext;          /* the ext column being bound; reused for every entry */
	/* The probes: asked for (snap_new), and the outcome (set_probes). */
	struct strbuf probes_asked, probes_ran, probes_unavailable;
	size_t nprobes_asked, nprobes_ran, nprobes_unavailable;
	bool probes_set;
	/* Packages (pkg.c): statements prepared on first use, and the
	 * version whose files snap_writer_add_package_file() adds (0: none). */
	sqlite3_stmt *pkg_insert, *pkg_select, *pkg_link, *pkg_file;
	int64_t pkg_current;
};

/**
 * Delete every package version that no snapshot links to any more (after
 * snapshots and their snap_pkg rows were deleted), with its files, in the
 * caller's transaction (pkg.c). Returns 0 or -errno.
 */
int snap_pkg_collect(struct snap_store *st, struct diag *reterr);

/**
 * The errno that stands for the SQLite (primary or extended) result @rc:
 * -EPROTO for a damaged or foreign file, -EBUSY for a lock, -ENOMEM,
 * -ENOSPC, -EIO for the rest.
 */
int snap_sqlite_errno(int rc);

/**
 * Fill @reterr with "cannot <what> in '<path>': <sqlite message>" (or the
 * lock message for SQLITE_BUSY) and return snap_sqlite_errno(@rc).
 */
int snap_sqlite_fail(struct snap_store *st, int rc, const char *what, struct diag *reterr);

/*
 * An incomplete snapshot started this long ago has no writer any more: a
 * writer takes the write lock right after recording itself, waiting
 * SNAP_DEFAULT_BUSY_MS at most, and whoever prunes holds that lock.
 * (writer.c has the same definition; an identical redefinition is valid C.)
 */
#define SNAP_ABANDONED_NS ((int64_t)600 * 1000000000)

/**
 * Delete snapshot @id, its runs, its entries and its package links, and
 * clear the baseline pointer when it names @id, inside the caller's write
 * transaction (prune.c). The caller then collects the package versions no
 * snapshot links to (snap_pkg_collect()). Returns 0 or -errno.
 */
int snap_snapshot_delete(struct snap_store *st, int64_t id, struct diag *reterr);

/**
 * Run @sql, binding the named parameters :a, :b (integers) and :text when
 * the statement has them; the first column of the first row in *ret_value
 * (optional; 0 for none). Returns 1 for a row, 0 for none, or -errno.
 */
int snap_query_int(struct snap_store *st, const char *sql, int64_t a, int64_t b, const char *text,
		   int64_t *ret_value, struct diag *reterr);

/** Delete the runs made of snapshot @snap_id (run.c), inside the caller's transaction. */
int snap_runs_delete_snapshot(struct snap_store *st, int64_t snap_id, struct diag *reterr);
/** Delete the runs whose snapshots are gone (after pruning), inside the caller's transaction. */
int snap_runs_delete_orphans(struct snap_store *st, struct diag *reterr);

/** Join @n strings with NUL bytes into @sb (the list columns). 0 or -ENOMEM. */
int snap_join_list(struct strbuf *sb, const char *const *v, size_t n);
/**
 * Split the NUL-joined blob of column @col into a NULL-terminated array of
 * malloc()ed strings (*ret_n of them); a NULL column is the empty list.
 * Sets *ret_oom on allocation failure.
 */
/** The row of a finding selected with run.c's RUN_ROW_COLUMNS; -EPROTO when damaged. */
int snap_run_row_read(sqlite3_stmt *s, struct snap_run_row *row);
/** Column @col as a new C string; NULL for SQL NULL, or out of memory (*@oom set). */
char *snap_column_text(sqlite3_stmt *s, int col, bool *oom);
char **snap_column_split(sqlite3_stmt *s, int col, size_t *ret_n, bool *ret_oom);

/**
 * Read the one snapshot selected by the SQL condition @where (with ?1
 * bound to @id, or to @text when it is not NULL). Returns 1 and *ret_info,
 * 0 when there is none, or -errno.
 */
int snap_info_query(struct snap_store *st, const char *where, int64_t id, const char *text,
		    struct snap_info *ret_info, struct diag *reterr);

/**
 * Validate the freshly opened database of @st before anything is written:
 * application_id, schema version, the readability of the schema and the
 * snapshot table. An empty database (no tables, application_id 0) gets the
 * schema when @st is writable. Returns 0, or -EPROTO (foreign, corrupt,
 * newer), -EBUSY, -EIO with a message.
 */
int snap_schema_prepare(struct snap_store *st, struct diag *reterr);

/*
 * Seals (seal.c). Write transactions end with snap_commit(): it seals what
 * drift's statements touched (TEMP triggers note them), then commits. A
 * write made outside a transaction calls snap_seal_settle() after it.
 */
extern const char *const schema_seal_tables[];
extern const size_t schema_seal_ntables;
/** The TEMP triggers of a writable store (schema 8). */
int snap_seal_setup(struct snap_store *st, struct diag *reterr);
/** Seal what is pending, inside the caller's write transaction. */
int snap_seal_flush(struct snap_store *st, struct diag *reterr);
/** Seal everything there is, as the first seals (migration to schema 8). */
int snap_seal_genesis(struct snap_store *st, struct diag *reterr);
/** snap_seal_flush(), then COMMIT (and the key file rewritten to its epoch). */
int snap_commit(struct snap_store *st, const char *what, struct diag *reterr);
/** Outside a transaction: seal what autocommitted writes left pending, in one of its own. */
int snap_seal_settle(struct snap_store *st, struct diag *reterr);

/** Run @sql (no results) and map a failure like snap_sqlite_fail(). */
int snap_exec(struct snap_store *st, const char *sql, const char *what, struct diag *reterr);

/** Prepare @sql on @st, or fail like snap_sqlite_fail(). */
int snap_prepare(struct snap_store *st, const char *sql, sqlite3_stmt **ret_stmt,
		 struct diag *reterr);

/*
 * The `ext` column (ext.c): the optional attributes of an entry.
 */

/**
 * Encode the optional attributes, the properties and the device number of
 * @e into @out (reset first). @out stays empty when @e is a file that
 * collected nothing optional, has no properties and is not a device with a
 * known number (store NULL then). Values of attributes not collected are
 * not stored. Returns 0 or -ENOMEM.
 */
int snap_ext_encode(struct strbuf *out, const struct entry *e);

/**
 * Fill the optional attributes, the properties and the device number of @e
 * from @blob (NULL or empty: nothing collected, device number unknown).
 * ATTR_PROPS is set in e->collected when the blob says props were recorded
 * (every entry of a kind other than ENTRY_FILE). @e's kind and mode must be
 * filled in first: e->rdev is ENTRY_RDEV_UNKNOWN for a device whose blob
 * has no number, 0 for anything but a device. Pointers go into @blob.
 * Returns 0 or -EPROTO (malformed; the attributes are then cleared).
 */
int snap_ext_decode(const void *blob, size_t len, struct entry *e);

/**
 * Clear the optional attributes and the properties of @e (nothing
 * collected), and set its device number as unknown for a device, 0 for
 * anything else (@e's kind and mode filled in first).
 */
void snap_ext_clear(struct entry *e);

/*
 * Blocks of entries (block.c, schema version 5): see block.c for the format.
 */
#define SNAP_BLOCK_MAX_ENTRIES 256
#define SNAP_BLOCK_MAX_RAW     (32 * 1024)
/** How many snapshots a delta snapshot may sit on (parent, its parent...). */
#define SNAP_CHAIN_MAX 64

struct ZSTD_CCtx_s;
struct ZSTD_DCtx_s;

/** The previous record, which the next one is encoded against. */
struct snap_rec_prev {
	struct strbuf key;
	size_t key_len;
	int64_t mtime, ctime;
	uint64_t ino;
};
void snap_rec_prev_reset(struct snap_rec_prev *pv);
/**
 * Append the record of @e (a tombstone of its key when @tomb) to @out,
 * against @pv (then updated), or canonically when @pv is NULL; @ext is
 * scratch. 0 or -ENOMEM.
 */
int snap_rec_encode(struct strbuf *out, const struct entry *e, bool tomb, struct snap_rec_prev *pv,
		    struct strbuf *ext);
/**
 * Decode the record at *@pos of @p into @e (its key in @pv->key, not set in
 * @e; kind and hash_algo left to the caller), advancing *@pos. 0, -EPROTO or
 * -ENOMEM.
 */
int snap_rec_decode(const uint8_t *p, size_t len, size_t *pos, struct snap_rec_prev *pv,
		    struct entry *e, bool *ret_tomb, size_t *ret_key_off);

/** Writes the blocks of one snapshot, entries given in (kind, key) order. */
struct snap_bw {
	int64_t snap;
	enum entry_kind kind;
	unsigned n;
	struct strbuf raw, first, out, ext;
	struct snap_rec_prev prev;
	sqlite3_stmt *insert;
	struct ZSTD_CCtx_s *cctx;
	uint64_t entries, tombs, blocks, bytes;
};
void snap_bw_init(struct snap_bw *bw);
void snap_bw_release(struct snap_bw *bw);
int snap_bw_put(struct snap_store *st, struct snap_bw *bw, const struct entry *e, bool tomb,
		struct diag *reterr);
int snap_bw_flush(struct snap_store *st, struct snap_bw *bw, struct diag *reterr);

/** One block decoded: its entries (and which are tombstones), in key order. */
struct snap_dblock {
	struct strbuf raw, keys;
	struct snap_rec_prev prev;
	struct entry *v;
	size_t *koff;
	bool *tomb;
	size_t n, cap;
	struct ZSTD_DCtx_s *dctx;
};
void snap_dblock_init(struct snap_dblock *b);
void snap_dblock_release(struct snap_dblock *b);
/** Decode a block blob. 0, -EPROTO (damaged) or -ENOMEM. */
int snap_dblock_load(struct snap_dblock *b, const void *blob, size_t len, enum entry_kind kind,
		     enum hash_algo algo);
/** The index of the first entry whose key is >= @key (b->n if none). */
size_t snap_dblock_find(const struct snap_dblock *b, const char *key, size_t len);

/**
 * The chain of snapshot @id: @id, its parent, the parent's parent...
 * (*ret_n of them, at most SNAP_CHAIN_MAX) into @ret_ids. -ENOENT when @id
 * does not exist, -EPROTO for a chain that is too long or loops.
 */
int snap_chain(struct snap_store *st, int64_t id, int64_t *ret_ids, size_t *ret_n,
	       struct diag *reterr);

/**
 * The delta writer (delta.c): entries in (kind, key) order in, the blocks
 * of snapshot @snap out, as its differences from snapshot @parent (0: a
 * full copy): new and changed entries, and tombstones for the parent's
 * entries that are gone.
 */
struct snap_delta;
int snap_delta_new(struct snap_store *st, int64_t snap, int64_t parent, struct snap_delta **ret,
		   struct diag *reterr);
int snap_delta_put(struct snap_delta *d, const struct entry *e, struct diag *reterr);
/** Flush everything; *ret_bw_stats (optional) gets the totals. Frees @d either way. */
int snap_delta_end(struct snap_delta *d, uint64_t *ret_rows, struct diag *reterr);
void snap_delta_free(struct snap_delta *d);

/**
 * Re-base the children of snapshot @id (the delta snapshots whose parent it
 * is) onto @id's own parent, or make them full copies, inside the caller's
 * transaction, so that @id can be deleted.
 */
int snap_rebase_children(struct snap_store *st, int64_t id, struct diag *reterr);

/** Delete the entries (blocks) of snapshot @id, in the caller's transaction. */
int snap_blocks_delete(struct snap_store *st, int64_t id, struct diag *reterr);

/** The writer's sorter (sort.c): entries in any order in, (kind, key) order out. */
struct snap_sorter;
int snap_sorter_new(const char *db_path, enum hash_algo algo, struct snap_sorter **ret,
		    struct diag *reterr);
/** Add a copy of @e (@ext: scratch). */
int snap_sorter_add(struct snap_sorter *s, const struct entry *e, struct strbuf *ext,
		    struct diag *reterr);
/** No more adds: sort what is left. */
int snap_sorter_finish(struct snap_sorter *s, struct diag *reterr);
/** The next entry in (kind, key) order (borrowed until the next call): 1, 0 at the end,
 * -EINVAL for a duplicate key, or another -errno. */
int snap_sorter_next(struct snap_sorter *s, const struct entry **ret, struct diag *reterr);
uint64_t snap_sorter_count(const struct snap_sorter *s);
void snap_sorter_free(struct snap_sorter *s);

/** Relabel snapshot @id "<prefix>-<its start time>" (unique), as a superseded baseline (writer.c).
 */
int snap_relabel_dated(struct snap_store *st, int64_t id, const char *prefix, struct diag *reterr);
/** "<prefix>-<UTC time of @ns>", with "-2", "-3"... when taken, into @sb (writer.c). */
int snap_label_dated_unique(struct snap_store *st, struct strbuf *sb, const char *prefix,
			    int64_t ns, struct diag *reterr);

/** The row-per-entry iterator of schema 1-4 (iter.c), for old databases and their migration. */
bool snap_iter_is_legacy(const struct snap_store *st);
/*
 * Kept content (content.c).
 */

/** The CREATE statements of the content tables (each takes the schema name, as schema.c's). */
extern const char *const schema_content_tables[];
extern const size_t schema_ncontent_tables;

#endif /* DRIFT_STORE_INTERNAL_H */
