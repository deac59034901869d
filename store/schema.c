/*
 * The database schema, and the checks that run before anything is written.
 *
 * Schema version 1 (versions 2 and 3 below):
 *
 *   snapshot  one row per snapshot (a rowid table: few rows). `label` is
 *             NULL while the snapshot is incomplete, so an interrupted scan
 *             never holds a name. `roots` and `excludes` are byte strings
 *             joined with NUL (paths are bytes, not text). `hash` is the
 *             content hash algorithm shared by every hashed entry of the
 *             snapshot, so entry rows carry only the digest.
 *   meta      key/value pairs about the whole database; "baseline" holds
 *             the id of the current baseline.
 *   entry     one row per entry, WITHOUT ROWID and keyed by (snap, kind,
 *             key): the primary key is the only b-tree, its order is the
 *             byte order compare needs, and a snapshot's rows are
 *             contiguous. Keys and targets are BLOBs (memcmp order, no text
 *             conversion). `mode` is the full st_mode (type bits included).
 *             Zero values (err, flags, uid 0...) cost no payload byte in
 *             SQLite's record format, so rows stay near 100-150 bytes.
 *
 * Later kinds (packages, users...) share `entry` with their own `kind`.
 *
 * Schema version 2 adds:
 *
 *   snapshot.policy_digest  TEXT, the SHA-256 (64 lowercase hex digits) of
 *                           the policy the snapshot was taken under, or NULL
 *   snapshot.policy_source  TEXT, the policy file's path, "(built-in)", or NULL
 *   entry.ext               BLOB, the optional attributes (xattrs, ACL,
 *                           capabilities, SELinux label, MIME type) in the
 *                           self-describing encoding of ext.c; NULL when none
 *                           was collected, which costs one record header byte
 *
 * Schema version 3 adds (system state, package ownership):
 *
 *   snapshot.probes              BLOB, the names of the probes of system
 *                                state that ran, NUL-joined like roots; NULL
 *                                for none
 *   snapshot.probes_unavailable  BLOB, those asked for that could not run
 *                                (their source is missing), likewise
 *   entry.ext tag 6              the properties of entries of other kinds
 *                                than files (ext.c); no change to the table
 *   pkgver    one row per package version ever linked to a snapshot: (id,
 *             name, arch, version), unique. A version's file list never
 *             changes, so it is stored once, however many snapshots have it.
 *   pkgfile   the files of package versions: (path, pkgver) WITHOUT ROWID,
 *             the dpkg MD5 sum (16 bytes or NULL) and whether it is a
 *             conffile. Keyed by path first: the owner lookup is a prefix
 *             search of the primary key, and no second index repeats the
 *             paths (an index on path beside a (pkgver, path) key would
 *             store every path twice: 1.7 times the bytes, in bench-store). The
 *             price: deleting the files of a version scans the table,
 *             which pkg.c does only when a version lost its last link.
 *   snap_pkg  which package versions a snapshot had: (snap, pkgver)
 *             WITHOUT ROWID, indexed by pkgver for the collection of
 *             versions no snapshot has any more (pkg.c).
 *   meta "secret"  32 random bytes (created on first use, store.c).
 *
 * Within version 3, later:
 *
 *   entry.ext tag 7   the device number (st_rdev) of a character or block
 *                     device (ext.c). No new version: other rows do not
 *                     change, a drift without it skips the tag, and a
 *                     device row without one (written before, or by such a
 *                     drift) reads as "number unknown", which compare
 *                     leaves out rather than calling it a change.
 *
 * Schema version 4 adds the stored runs (store/run.c): one row per check,
 * diff or verify in `run` (its snapshots, their labels then, its options,
 * notes and summary), its findings in `finding` (run, seq) WITHOUT ROWID:
 * key, change, verdict (class * 8 + severity; NULL unjudged), rule (an
 * index into `run_rule`, the rule's id, title, file and line as they were),
 * reason and package context, and `aux` for the sides of a finding that no
 * snapshot holds (verify); the entries it could not read in `run_blind`.
 * A run goes with either of its snapshots.
 *
 * Schema version 5 adds kept content (store/content.c, its statements in
 * schema_content_tables): `content` (id = SHA-256, compressed bytes) and
 * `content_ref` (which snapshot references which content).
 *
 * Schema version 6 adds acceptance (store/accept.c): `acceptance`, one row
 * per `drift accept` (the run reviewed, the old and the new baseline, who,
 * when, why, the number of entries, and when and by whom it was undone,
 * NULL while it stands), and `acceptance_key` (acceptance, kind, key,
 * change) WITHOUT ROWID, the findings it took. Its rows outlive the run
 * (pruned with its check snapshot) and name snapshots by id only.
 *
 * Schema version 8 adds `seal` (store/seal.c): the chained digests of every
 * snapshot, run, acceptance, remediation and baseline change; migrating to
 * it seals what the database holds then (op genesis).
 *
 * Schema version 7 adds remediation (store/remedy.c): `run_rule.remediate`
 * (what the rule let `drift remedy` do when the run was judged; NULL on
 * older rows: no), `remedy`, one row per application of a plan (its run,
 * the baseline it restored to, who, when, the quarantine directory, when
 * it finished, NULL while running or after a crash, and when and by whom
 * it was undone), and `remedy_action` (remedy, seq) WITHOUT ROWID: each
 * action, its state, its pre-image (the entry and the bytes it replaced)
 * and its post-image, written before it runs.
 *
 * Migration: a version 1, 2 or 3 database opened for writing is migrated
 * in place to version 4, in one transaction (ALTER TABLE ... ADD COLUMN,
 * CREATE TABLE, then user_version = 4); the new columns are NULL on old
 * rows, which reads as "unknown", "nothing collected" and "no probes".
 * Opened read-only, an old database is read as it is (the queries select
 * NULL for the missing columns, the package tables read as empty) and
 * never written.
 *
 * Validation (snap_schema_prepare) reads application_id, user_version and
 * the number of tables in one statement (one read transaction), then the
 * snapshot and meta tables and the first entry; before the first write to
 * a database that was already there, PRAGMA quick_check(1) reads every
 * page. A foreign, damaged or newer file fails there, before the first
 * write. While it runs, closing the connection must not checkpoint a WAL
 * into a file that turns out not to be ours (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE).
 * (store.c refuses what it can from the file header before SQLite opens
 * the file at all.)
 */
#include "store/internal.h"

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/banned.h"

/* Each statement takes the schema name ("main", or "temp" for the stand-in
 * tables of an empty database opened read-only). */
static const char *const schema_tables[] = {
	"CREATE TABLE %s.snapshot ("
	" id INTEGER PRIMARY KEY,"
	" label TEXT UNIQUE,"
	" purpose INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete')),"
	" host TEXT,"
	" version TEXT,"
	" roots BLOB,"
	" excludes BLOB,"
	" cross_mounts INTEGER NOT NULL DEFAULT 0,"
	" hash INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER NOT NULL,"
	" finished INTEGER,"
	" entries INTEGER NOT NULL DEFAULT 0,"
	" errors INTEGER NOT NULL DEFAULT 0,"
	" policy_digest TEXT,"
	" policy_source TEXT,"
	" probes BLOB,"
	" probes_unavailable BLOB,"
	" parent INTEGER)",

	"CREATE TABLE %s.meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID",
};

/*
 * Version 5: entries packed into blocks (block.c). A rowid table with the
 * key in an index: blocks are a few KiB, too big for a WITHOUT ROWID
 * b-tree's cells.
 */
static const char *const schema_block_tables[] = {
	"CREATE TABLE %s.block (id INTEGER PRIMARY KEY, snap INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, first BLOB NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL)",
	"CREATE UNIQUE INDEX %s.block_key ON block (snap, kind, first)",
};

/* The package tables of version 3, for creation and migration alike. */
static const char *const schema_pkg_tables[] = {
	"CREATE TABLE %s.pkgver (id INTEGER PRIMARY KEY, name TEXT NOT NULL, arch TEXT NOT NULL,"
	" version TEXT NOT NULL, UNIQUE (name, arch, version))",
	"CREATE TABLE %s.pkgfile (path BLOB NOT NULL, pkgver INTEGER NOT NULL, md5 BLOB,"
	" conffile INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (path, pkgver)) WITHOUT ROWID",
	"CREATE TABLE %s.snap_pkg (snap INTEGER NOT NULL, pkgver INTEGER NOT NULL,"
	" PRIMARY KEY (snap, pkgver)) WITHOUT ROWID",
	"CREATE INDEX %s.snap_pkg_pkgver ON snap_pkg (pkgver)",
};

/*
 * The stored runs of version 4: a check, diff or verify, its findings
 * (keys and verdicts; the entries stay in the snapshots), the rules they
 * name, and the entries it could not read.
 */
static const char *const schema_run_tables[] = {
	"CREATE TABLE %s.run (id INTEGER PRIMARY KEY AUTOINCREMENT, command TEXT NOT NULL,"
	" before INTEGER, after INTEGER, before_label TEXT, after_label TEXT,"
	" before_baseline INTEGER NOT NULL DEFAULT 0, after_baseline INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER NOT NULL, flags INTEGER NOT NULL DEFAULT 0,"
	" count_expected INTEGER NOT NULL DEFAULT 0, database TEXT, roots BLOB,"
	" checked INTEGER NOT NULL DEFAULT 0, policy_digest TEXT, policy_source TEXT,"
	" notes BLOB, exit_code INTEGER, findings INTEGER NOT NULL DEFAULT 0,"
	" counted INTEGER NOT NULL DEFAULT 0, expected INTEGER NOT NULL DEFAULT 0,"
	" blind INTEGER NOT NULL DEFAULT 0, complete INTEGER NOT NULL DEFAULT 0)",
	"CREATE INDEX %s.run_before ON run (before)",
	"CREATE INDEX %s.run_after ON run (after)",
	"CREATE TABLE %s.run_rule (run INTEGER NOT NULL, n INTEGER NOT NULL, id TEXT,"
	" title TEXT, file TEXT, line INTEGER, remediate INTEGER, PRIMARY KEY (run, n))"
	" WITHOUT ROWID",
	"CREATE TABLE %s.finding (run INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, key BLOB NOT NULL, change INTEGER NOT NULL,"
	" changed INTEGER NOT NULL, verdict INTEGER, attrs INTEGER, rule INTEGER, reason TEXT,"
	" package TEXT, before_version TEXT, after_version TEXT, unowned INTEGER, aux BLOB,"
	" PRIMARY KEY (run, seq)) WITHOUT ROWID",
	"CREATE TABLE %s.run_blind (run INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, key BLOB NOT NULL, mode INTEGER, err INTEGER, flags INTEGER,"
	" PRIMARY KEY (run, seq)) WITHOUT ROWID",
};

/* Acceptance, version 6 (store/accept.c). */
static const char *const schema_accept_tables[] = {
	"CREATE TABLE %s.acceptance (id INTEGER PRIMARY KEY AUTOINCREMENT, run INTEGER NOT NULL,"
	" old_baseline INTEGER NOT NULL, new_baseline INTEGER NOT NULL, who TEXT NOT NULL,"
	" at INTEGER NOT NULL, reason TEXT NOT NULL, entries INTEGER NOT NULL,"
	" undone_at INTEGER, undone_by TEXT)",
	"CREATE INDEX %s.acceptance_run ON acceptance (run)",
	"CREATE TABLE %s.acceptance_key (acceptance INTEGER NOT NULL, kind INTEGER NOT NULL,"
	" key BLOB NOT NULL, change INTEGER NOT NULL, PRIMARY KEY (acceptance, kind, key))"
	" WITHOUT ROWID",
};

/* Remediation, version 7 (store/remedy.c). */
static const char *const schema_remedy_tables[] = {
	"CREATE TABLE IF NOT EXISTS %s.remedy (id INTEGER PRIMARY KEY AUTOINCREMENT, run INTEGER NOT NULL,"
	" baseline INTEGER NOT NULL, who TEXT NOT NULL, started INTEGER NOT NULL,"
	" finished INTEGER, automatic INTEGER NOT NULL DEFAULT 0, quarantine TEXT NOT NULL,"
	" planned INTEGER NOT NULL, undone_at INTEGER, undone_by TEXT)",
	"CREATE TABLE IF NOT EXISTS %s.remedy_action (remedy INTEGER NOT NULL, seq INTEGER NOT NULL,"
	" kind INTEGER NOT NULL, key BLOB NOT NULL, action INTEGER NOT NULL,"
	" state INTEGER NOT NULL, detail TEXT, pre BLOB, bytes BLOB, post BLOB, error TEXT,"
	" PRIMARY KEY (remedy, seq)) WITHOUT ROWID",
};

/* What validation reads: every column the code uses, so a damaged or
 * hand-edited schema fails here rather than halfway through a scan. */
#define CHECK_SNAPSHOT_V1                                                                  \
	"SELECT id, label, purpose, status, host, version, roots, excludes, cross_mounts," \
	" hash, started, finished, entries, errors"
#define CHECK_ENTRY_V1                                                                         \
	"SELECT snap, kind, key, mode, uid, gid, size, mtime, ctime, ino, dev, nlink, target," \
	" hash, err, flags"
static const char sql_check_snapshot_v1[] = CHECK_SNAPSHOT_V1 " FROM snapshot";
static const char sql_check_snapshot_v2[] =
	CHECK_SNAPSHOT_V1 ", policy_digest, policy_source FROM snapshot";
static const char sql_check_snapshot_v3[] = CHECK_SNAPSHOT_V1
	", policy_digest, policy_source, probes, probes_unavailable FROM snapshot";
static const char *const sql_check_pkg[] = {
	"SELECT id, name, arch, version FROM pkgver LIMIT 1",
	"SELECT pkgver, path, md5, conffile FROM pkgfile LIMIT 1",
	"SELECT snap, pkgver FROM snap_pkg LIMIT 1",
};
static const char *const sql_check_run[] = {
	("SELECT id, command, before, after, before_label, after_label, before_baseline,"
	 " after_baseline, started, flags, count_expected, database, roots, checked,"
	 " policy_digest, policy_source, notes, exit_code, findings, counted, expected,"
	 " blind, complete FROM run LIMIT 1"),
	"SELECT run, n, id, title, file, line FROM run_rule LIMIT 1",
	("SELECT run, seq, kind, key, change, changed, verdict, attrs, rule, reason,"
	 " package, before_version, after_version, unowned, aux FROM finding LIMIT 1"),
	"SELECT run, seq, kind, key, mode, err, flags FROM run_blind LIMIT 1",
};
static const char *const sql_check_accept[] = {
	("SELECT id, run, old_baseline, new_baseline, who, at, reason, entries, undone_at,"
	 " undone_by FROM acceptance LIMIT 1"),
	"SELECT acceptance, kind, key, change FROM acceptance_key LIMIT 1",
};
static const char *const sql_check_remedy[] = {
	"SELECT remediate FROM run_rule LIMIT 1",
	("SELECT id, run, baseline, who, started, finished, automatic, quarantine, planned,"
	 " undone_at, undone_by FROM remedy LIMIT 1"),
	("SELECT remedy, seq, kind, key, action, state, detail, pre, bytes, post, error"
	 " FROM remedy_action LIMIT 1"),
};
static const char sql_check_meta[] = "SELECT key, value FROM meta";
static const char sql_check_entry_v1[] = CHECK_ENTRY_V1 " FROM entry LIMIT 1";
static const char sql_check_block[] = "SELECT id, snap, kind, first, n, data FROM block LIMIT 1";
static const char sql_check_parent[] = "SELECT parent FROM snapshot LIMIT 1";
static const char sql_check_entry_v2[] = CHECK_ENTRY_V1 ", ext FROM entry LIMIT 1";

/* What turns a version 1 database into version 2, and version 2 into 3
 * (with schema_pkg_tables); one transaction. */
static const char sql_migrate_v2[] = "ALTER TABLE snapshot ADD COLUMN policy_digest TEXT;"
				     "ALTER TABLE snapshot ADD COLUMN policy_source TEXT;"
				     "ALTER TABLE entry ADD COLUMN ext BLOB";
static const char sql_migrate_v3[] = "ALTER TABLE snapshot ADD COLUMN probes BLOB;"
				     "ALTER TABLE snapshot ADD COLUMN probes_unavailable BLOB";

int snap_exec(struct snap_store *st, const char *sql, const char *what, struct diag *reterr)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK)
		return snap_sqlite_fail(st, rc, what, reterr);
	return 0;
}

int snap_prepare(struct snap_store *st, const char *sql, sqlite3_stmt **ret_stmt,
		 struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		int r = snap_sqlite_fail(st, rc, "prepare a query", reterr);
		sqlite3_finalize(s);
		return r;
	}
	*ret_stmt = s;
	return 0;
}

/* A read failure while validating: a foreign or damaged file says so, in
 * the words users search for. */
static int schema_fail(struct snap_store *st, int rc, struct diag *reterr)
{
	st->fail_rc = rc;
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
		return diag_set(reterr, -EPROTO, "'%s' is not a drift database (%s)", st->path,
				sqlite3_errstr(rc));
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return diag_set(reterr, -EPROTO, "'%s' is damaged (%s)", st->path,
				sqlite3_errmsg(st->db));
	case SQLITE_ERROR:
		/* "no such table", "no such column": a schema that is not ours. */
		return diag_set(reterr, -EPROTO, "'%s' is not a valid drift database (%s)",
				st->path, sqlite3_errmsg(st->db));
	}
	return snap_sqlite_fail(st, rc, "read the database", reterr);
}

/* Run @sql and read every row; *ret_first gets the first column of the
 * first row (0 if none). */
static int schema_read(struct snap_store *st, const char *sql, int64_t *ret_first,
		       struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int64_t first = 0;
	bool seen = false;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!seen)
			first = sqlite3_column_int64(s, 0);
		seen = true;
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(s);
	if (ret_first)
		*ret_first = first;
	return 0;

fail:
	r = schema_fail(st, rc, reterr);
	sqlite3_finalize(s);
	return r;
}

/* Run each of the @n statements of @v on the schema @dbname. */
static int schema_run(struct snap_store *st, const char *const *v, size_t n, const char *dbname,
		      const char *what, struct diag *reterr)
{
	for (size_t i = 0; i < n; i++) {
		char *sql = sqlite3_mprintf(v[i], dbname);
		int r;

		if (!sql)
			return diag_set(reterr, -ENOMEM, "out of memory");
		r = snap_exec(st, sql, what, reterr);
		sqlite3_free(sql);
		if (r < 0)
			return r;
	}
	return 0;
}

#define N_ELEMS(v) (sizeof(v) / sizeof((v)[0]))

static int schema_create(struct snap_store *st, const char *dbname, struct diag *reterr)
{
	int r = schema_run(st, schema_tables, N_ELEMS(schema_tables), dbname, "create the schema",
			   reterr);

	if (r < 0)
		return r;
	r = schema_run(st, schema_block_tables, N_ELEMS(schema_block_tables), dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_run(st, schema_pkg_tables, N_ELEMS(schema_pkg_tables), dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_run(st, schema_run_tables, N_ELEMS(schema_run_tables), dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_run(st, schema_accept_tables, N_ELEMS(schema_accept_tables), dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_run(st, schema_remedy_tables, N_ELEMS(schema_remedy_tables), dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_run(st, schema_content_tables, schema_ncontent_tables, dbname,
		       "create the schema", reterr);
	if (r < 0)
		return r;
	return schema_run(st, schema_seal_tables, schema_seal_ntables, dbname, "create the schema",
			  reterr);
}

/*
 * Identify the database: 1 for a drift database (st->schema set), 0 for an
 * empty one, or -EPROTO... application_id, user_version and the number of
 * schema objects are read by one statement, hence in one read transaction:
 * another process creating the schema commits all three at once, so we see
 * all of it or none of it (read separately, a reader could see the tables
 * without the application_id, and call our own database foreign).
 */
static int schema_identify(struct snap_store *st, struct diag *reterr)
{
	static const char sql[] = "SELECT (SELECT application_id FROM pragma_application_id),"
				  " (SELECT user_version FROM pragma_user_version),"
				  " (SELECT count(*) FROM sqlite_schema)";
	int64_t app_id, version, ntables;
	sqlite3_stmt *s = NULL;
	int rc, r;

	rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = schema_fail(st, rc, reterr);
		sqlite3_finalize(s);
		return r;
	}
	app_id = sqlite3_column_int64(s, 0);
	version = sqlite3_column_int64(s, 1);
	ntables = sqlite3_column_int64(s, 2);
	sqlite3_finalize(s);

	if (app_id == 0 && ntables == 0)
		return 0;
	if (app_id == 0)
		return diag_set(reterr, -EPROTO,
				"'%s' is not a drift database (it holds tables of another program)",
				st->path);
	if (app_id != SNAP_APPLICATION_ID)
		return diag_set(reterr, -EPROTO,
				"'%s' is not a drift database (application_id 0x%08x)", st->path,
				(unsigned)(uint32_t)app_id);
	if (version > SNAP_SCHEMA_VERSION)
		return diag_set(
			reterr, -EPROTO,
			"'%s' was written by a newer drift (schema %lld; this drift reads up to %d)",
			st->path, (long long)version, SNAP_SCHEMA_VERSION);
	if (version < 1)
		return diag_set(reterr, -EPROTO, "'%s' has an unknown drift schema (version %lld)",
				st->path, (long long)version);

	/* Ours: make sure the tables we use are there and readable. */
	r = schema_read(st,
			version >= 3   ? sql_check_snapshot_v3
			: version == 2 ? sql_check_snapshot_v2
				       : sql_check_snapshot_v1,
			NULL, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; version >= 3 && i < N_ELEMS(sql_check_pkg); i++) {
		r = schema_read(st, sql_check_pkg[i], NULL, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; version >= 4 && i < N_ELEMS(sql_check_run); i++) {
		r = schema_read(st, sql_check_run[i], NULL, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; version >= 6 && i < N_ELEMS(sql_check_accept); i++) {
		r = schema_read(st, sql_check_accept[i], NULL, reterr);
		if (r < 0)
			return r;
	}
	for (size_t i = 0; version >= 7 && i < N_ELEMS(sql_check_remedy); i++) {
		r = schema_read(st, sql_check_remedy[i], NULL, reterr);
		if (r < 0)
			return r;
	}
	r = schema_read(st, sql_check_meta, NULL, reterr);
	if (r < 0)
		return r;
	if (version >= 5) {
		r = schema_read(st, sql_check_block, NULL, reterr);
		if (r >= 0)
			r = schema_read(st, sql_check_parent, NULL, reterr);
	} else {
		r = schema_read(st, version >= 2 ? sql_check_entry_v2 : sql_check_entry_v1, NULL,
				reterr);
	}
	if (r < 0)
		return r;
	st->schema = (int)version;
	return 1;
}

/*
 * Give an empty, writable database the schema. Another process may be doing
 * the same: under the write lock the database is identified again, and left
 * alone when someone else was first. Returns 1 if the schema was created, 0
 * if someone else created it (and it validated as a drift database), or
 * -errno.
 */
static int schema_init(struct snap_store *st, struct diag *reterr)
{
	char sql[128];
	int r;

	/*
	 * auto_vacuum before the first table, or never (prune.c shrinks the
	 * file with it), and outside the transaction: inside one SQLite ignores
	 * it. On an empty file it only sets the connection's flag, which the
	 * first CREATE TABLE records (a file another process got first keeps
	 * its own).
	 */
	r = snap_exec(st, "PRAGMA auto_vacuum = INCREMENTAL", "create the schema", reterr);
	if (r < 0)
		return r;
	r = snap_exec(st, "BEGIN IMMEDIATE", "create the schema", reterr);
	if (r < 0)
		return r;
	r = schema_identify(st, reterr);
	if (r != 0) {
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return r < 0 ? r : 0;
	}
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d; PRAGMA user_version = %d",
		 SNAP_APPLICATION_ID, SNAP_SCHEMA_VERSION);
	r = snap_exec(st, sql, "create the schema", reterr);
	if (r < 0)
		goto fail;
	r = schema_create(st, "main", reterr);
	if (r < 0)
		goto fail;
	r = snap_exec(st, "COMMIT", "create the schema", reterr);
	if (r < 0)
		goto fail;
	st->schema = SNAP_SCHEMA_VERSION;
	return 1;

fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/*
 * The b-tree check before the first write to an existing database:
 * PRAGMA quick_check(1), i.e. the page structure, cell order and record
 * format of every table and index (integrity_check less the cross-check of
 * indexes against their tables), stopping at the first problem.
 */
static int schema_quick_check(struct snap_store *st, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r = 0;

	rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &s, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = schema_fail(st, rc, reterr);
	} else {
		const char *text = (const char *)sqlite3_column_text(s, 0);

		if (!text || strcmp(text, "ok"))
			r = diag_set(reterr, -EPROTO, "'%s' is damaged (%s)", st->path,
				     text ? text : "quick_check failed");
	}
	sqlite3_finalize(s);
	return r;
}

/*
 * Version 4 to 5: every snapshot's entry rows become blocks (full copies:
 * an old check stays as big as it was until it is pruned), and the entry
 * table goes. The row iterator reads the old table (st->schema is still
 * the old version here).
 */
static int schema_migrate_blocks(struct snap_store *st, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int rc, r;

	r = snap_exec(st, "ALTER TABLE snapshot ADD COLUMN parent INTEGER", "upgrade the database",
		      reterr);
	if (r >= 0)
		r = schema_run(st, schema_block_tables, N_ELEMS(schema_block_tables), "main",
			       "upgrade the database", reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st, "SELECT id FROM snapshot ORDER BY id", &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *v = realloc(ids, (cap = cap ? cap * 2 : 16) * sizeof(*v));

			if (!v) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				goto out;
			}
			ids = v;
		}
		ids[n++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "upgrade the database", reterr);
		goto out;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		struct snap_delta *d = NULL;

		r = snap_delta_new(st, ids[i], 0, &d, reterr);
		for (int kind = ENTRY_FILE; r >= 0 && kind <= ENTRY__KIND_MAX; kind++) {
			struct snap_iter *it = NULL;
			const struct entry *e;

			r = snap_iter_new(st, ids[i], (enum entry_kind)kind, NULL, 0, 0, &it,
					  reterr);
			while (r >= 0 && (r = snap_iter_next(it, &e, reterr)) > 0)
				r = snap_delta_put(d, e, reterr);
			snap_iter_free(it);
		}
		if (r < 0)
			snap_delta_free(d);
		else
			r = snap_delta_end(d, NULL, reterr);
	}
	if (r >= 0)
		r = snap_exec(st, "DROP TABLE entry", "upgrade the database", reterr);
out:
	sqlite3_finalize(s);
	free(ids);
	return r < 0 ? r : 0;
}

/* Bring a version 1 to 7 database to version 8, under the write lock
 * (another process may have migrated it meanwhile: the version is read
 * again). */
static int schema_migrate(struct snap_store *st, struct diag *reterr)
{
	int64_t version = 0;
	int old_schema, r;

	r = snap_exec(st, "BEGIN IMMEDIATE", "upgrade the database", reterr);
	if (r < 0)
		return r;
	r = schema_read(st, "PRAGMA user_version", &version, reterr);
	if (r < 0)
		goto fail;
	if (version == 1) {
		r = snap_exec(st, sql_migrate_v2, "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 2) {
		r = snap_exec(st, sql_migrate_v3, "upgrade the database", reterr);
		if (r < 0)
			goto fail;
		r = schema_run(st, schema_pkg_tables, N_ELEMS(schema_pkg_tables), "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 3) {
		r = schema_run(st, schema_run_tables, N_ELEMS(schema_run_tables), "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 4) {
		/* Kept content (store/content.c), and entries into blocks. */
		r = schema_run(st, schema_content_tables, schema_ncontent_tables, "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
		r = schema_migrate_blocks(st, reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 5) {
		/* Acceptance (store/accept.c): new tables only. */
		r = schema_run(st, schema_accept_tables, N_ELEMS(schema_accept_tables), "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 6) {
		int64_t has = 0;

		/* Remediation (store/remedy.c); run_rule gains its column unless it was new. */
		r = schema_read(st,
				"SELECT count(*) FROM pragma_table_info('run_rule')"
				" WHERE name = 'remediate'",
				&has, reterr);
		if (r < 0)
			goto fail;
		if (!has) {
			r = snap_exec(st, "ALTER TABLE run_rule ADD COLUMN remediate INTEGER",
				      "upgrade the database", reterr);
			if (r < 0)
				goto fail;
		}
		r = schema_run(st, schema_remedy_tables, N_ELEMS(schema_remedy_tables), "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	if (version <= 7) {
		char sql[64];

		/* Seals (store/seal.c): what the database holds now is sealed
		 * as the first seals (op genesis: they vouch for nothing
		 * before this). */
		r = schema_run(st, schema_seal_tables, schema_seal_ntables, "main",
			       "upgrade the database", reterr);
		if (r < 0)
			goto fail;
		old_schema = st->schema;
		st->schema = SNAP_SCHEMA_VERSION;
		r = snap_seal_genesis(st, reterr);
		st->schema = old_schema;
		if (r < 0)
			goto fail;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SNAP_SCHEMA_VERSION);
		r = snap_exec(st, sql, "upgrade the database", reterr);
		if (r < 0)
			goto fail;
	}
	r = snap_exec(st, "COMMIT", "upgrade the database", reterr);
	if (r < 0)
		goto fail;
	st->schema = SNAP_SCHEMA_VERSION;
	return 0;

fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/*
 * Switch to WAL. In rollback mode this takes an exclusive lock while
 * holding a shared one, and SQLite fails it at once with SQLITE_BUSY
 * (without the busy handler: waiting could deadlock) when another
 * connection is on its way to the same lock, as several processes opening
 * a new database at once are. So retry, for up to about 5 s.
 */
static int schema_enable_wal(struct snap_store *st, struct diag *reterr)
{
	const struct timespec pause = { 0, 5 * 1000 * 1000 };
	int rc;

	for (int tries = 0;; tries++) {
		rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
		if ((rc & 0xff) != SQLITE_BUSY || tries >= 1000)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc != SQLITE_OK)
		return snap_sqlite_fail(st, rc, "enable WAL", reterr);
	return 0;
}

int snap_schema_prepare(struct snap_store *st, struct diag *reterr)
{
	bool created = false;
	int r;

	/* Until the file is known to be ours, closing must not write to it. */
	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);

	r = schema_identify(st, reterr);
	if (r < 0)
		return r;
	if (r == 0 && !st->writable) {
		/* An empty file opened for reading: stand-in empty tables
		 * (TEMP shadows main), so every query simply finds nothing. */
		st->schema = SNAP_SCHEMA_VERSION;
		return schema_create(st, "temp", reterr);
	}
	if (r == 0) {
		r = schema_init(st, reterr);
		if (r < 0)
			return r;
		created = r == 1;
	}
	/* Before the first write to a database that was there already: its
	 * b-trees (identification reads only a few rows). */
	if (st->writable && !created) {
		r = schema_quick_check(st, reterr);
		if (r < 0)
			return r;
	}

	if (!st->writable)
		return 0;

	sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	if (st->schema < SNAP_SCHEMA_VERSION) {
		r = schema_migrate(st, reterr);
		if (r < 0)
			return r;
	}
	r = snap_seal_setup(st, reterr);
	if (r < 0)
		return r;
	/* WAL: readers never wait for the scan, and one fsync per commit.
	 * NORMAL loses at most the last transaction on power loss, never
	 * consistency. */
	r = schema_enable_wal(st, reterr);
	if (r < 0)
		return r;
	r = snap_exec(st, "PRAGMA synchronous = NORMAL", "set synchronous", reterr);
	if (r < 0)
		return r;
	/* 16 MiB of page cache (default 2 MiB): entries that arrive a little out
	 * of order (several walker threads) then find their pages cached. Fully
	 * random order would want much more (128 MiB halves its cost), but
	 * in-order input gains nothing from it, and memory counts too. */
	return snap_exec(st, "PRAGMA cache_size = -16384", "set the cache size", reterr);
}
