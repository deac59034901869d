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
#define SNAP_SCHEMA_VERSION 5

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
	/** The columns every entry INSERT binds; prepared on first use, reused. */
	sqlite3_stmt *insert_entry;
	/** snap_owner_get()'s query, prepared on first use. */
	sqlite3_stmt *owner_get;
	/** The strings the last snap_owner_get() handed out (name, arch, version). */
	char *owner_strings;
	/** The writer in progress (at most one per store); freed with the store. */
	struct snap_writer *writer;
	/** The SQLite result code of the last validation failure (schema.c), 0 if none. */
	int fail_rc;
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
	bool in_tx;        /* transaction 2 is open */
	bool finished;     /* snap_writer_finish() ran: only the COMMIT is left */
	struct strbuf ext; /* the ext column being bound; reused for every entry */
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
 * Kept content (content.c).
 */

/** The CREATE statements of the content tables (each takes the schema name, as schema.c's). */
extern const char *const schema_content_tables[];
extern const size_t schema_ncontent_tables;

#endif /* DRIFT_STORE_INTERNAL_H */
