/* Opening databases: creation, permissions, and refusal of foreign, damaged or newer files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <grp.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "tests/store/util.h"

#define SENTINEL ((struct snap_store *)(uintptr_t)0x5eed)

/* Run raw SQL on @path with SQLite itself (not through the store). */
static void raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/* Whether @path + @suffix exists. */
static bool side_exists(const char *path, const char *suffix)
{
	char side[512];

	snprintf(side, sizeof(side), "%s%s", path, suffix);
	return access(side, F_OK) == 0;
}

/* Open for writing must fail with @err, leave *ret_store and the file's
 * bytes untouched, and create no -wal (nor -shm, if @check_shm); the same
 * for a read-only open. */
static void assert_refused_unchanged_shm(const char *path, int err, const char *msg_part,
					 bool check_shm)
{
	size_t len0 = 0, len1 = 0;
	char *before = file_slurp(path, &len0);
	bool wal = side_exists(path, "-wal"), shm = side_exists(path, "-shm");
	struct snap_store *st = SENTINEL;
	struct diag d = { 0 };
	char *after;

	assert_non_null(before);
	assert_int_equal(snap_store_open(path, SNAP_OPEN_WRITE, &st, &d), err);
	assert_ptr_equal(st, SENTINEL);
	if (msg_part && !strstr(d.msg, msg_part))
		fail_msg("message '%s' lacks '%s'", d.msg, msg_part);
	assert_int_equal(snap_store_open(path, SNAP_OPEN_READ, &st, &d), err);
	assert_ptr_equal(st, SENTINEL);

	after = file_slurp(path, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_int_equal(side_exists(path, "-wal"), wal);
	if (check_shm)
		assert_int_equal(side_exists(path, "-shm"), shm);
	free(before);
	free(after);
}

static void assert_refused_unchanged(const char *path, int err, const char *msg_part)
{
	assert_refused_unchanged_shm(path, err, msg_part, true);
}

static void test_store_open_creates_file_0600_and_dirs_0700(void **state)
{
	struct tmp *t = *state;
	char path[256], sub[300];
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct stat sb;

	/* The existing directory keeps its mode: only created ones are 0700. */
	assert_int_equal(chmod(t->dir, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/a", t->dir);
	snprintf(path, sizeof(path), "%s/a/b/drift.db", t->dir);
	assert_int_equal(snap_store_open(path, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_non_null(st);

	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	snprintf(sub, sizeof(sub), "%s/a/b", t->dir);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(stat(t->dir, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0755);

	/* A write makes the WAL; it inherits 0600. */
	assert_true(write_snapshot(st, SNAP_PURPOSE_SCAN, "one", false, 0, NULL, 0, &d) > 0);
	snprintf(sub, sizeof(sub), "%s-wal", path);
	assert_int_equal(stat(sub, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	snap_store_free(st);
}

static void test_store_open_read_missing_is_enoent_and_creates_nothing(void **state)
{
	struct tmp *t = *state;
	char path[256], sub[300];
	struct snap_store *st = SENTINEL;
	struct diag d = { 0 };
	struct stat sb;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), -ENOENT);
	assert_ptr_equal(st, SENTINEL);
	assert_non_null(strstr(d.msg, "no database at"));
	assert_int_equal(stat(t->db, &sb), -1);

	snprintf(sub, sizeof(sub), "%s/missing", t->dir);
	snprintf(path, sizeof(path), "%s/missing/drift.db", t->dir);
	assert_int_equal(snap_store_open(path, SNAP_OPEN_READ, &st, &d), -ENOENT);
	assert_ptr_equal(st, SENTINEL);
	assert_int_equal(stat(sub, &sb), -1);
}

static void test_store_open_random_bytes_is_eproto_and_unchanged(void **state)
{
	struct tmp *t = *state;
	unsigned char buf[8192];
	uint32_t x = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		x = x * 1103515245u + 12345u;
		buf[i] = (unsigned char)(x >> 16);
	}
	assert_int_equal(file_write(t->db, buf, sizeof(buf)), 0);
	assert_refused_unchanged(t->db, -EPROTO, "is not a drift database");
}

static void test_store_open_text_file_is_eproto_and_unchanged(void **state)
{
	struct tmp *t = *state;
	static const char text[] = "root:x:0:0:root:/root:/bin/bash\n";

	assert_int_equal(file_write(t->db, text, sizeof(text) - 1), 0);
	assert_refused_unchanged(t->db, -EPROTO, "is not a drift database");
}

static void test_store_open_foreign_sqlite_is_eproto_and_unchanged(void **state)
{
	struct tmp *t = *state;

	raw_exec(t->db, "CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	assert_refused_unchanged(t->db, -EPROTO,
				 "is not a drift database (it holds tables of another program)");
}

static void test_store_open_foreign_application_id_is_eproto(void **state)
{
	struct tmp *t = *state;

	raw_exec(t->db, "PRAGMA application_id = 1234; CREATE TABLE snapshot (x)");
	assert_refused_unchanged(t->db, -EPROTO, "application_id");
}

static void test_store_open_foreign_wal_db_is_eproto_and_unchanged(void **state)
{
	struct tmp *t = *state;

	raw_exec(t->db, "PRAGMA journal_mode = WAL; CREATE TABLE t (x); INSERT INTO t VALUES (1)");
	assert_refused_unchanged(t->db, -EPROTO, "is not a drift database");
}

/* A foreign WAL database left by a crashed program, its WAL still full of
 * committed pages: our last close must not checkpoint them into the file. */
static void test_store_open_foreign_hot_wal_is_not_checkpointed(void **state)
{
	struct tmp *t = *state;
	char wal[300];
	char *db_bytes, *wal_bytes;
	size_t db_len = 0, wal_len = 0;
	sqlite3 *db = NULL;

	snprintf(wal, sizeof(wal), "%s-wal", t->db);
	assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;"
				      " CREATE TABLE t (x); INSERT INTO t VALUES (zeroblob(20000))",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	/* Snapshot the files as a crash would leave them, then put them back. */
	db_bytes = file_slurp(t->db, &db_len);
	wal_bytes = file_slurp(wal, &wal_len);
	assert_non_null(db_bytes);
	assert_non_null(wal_bytes);
	assert_true(wal_len > 20000);
	assert_int_equal(sqlite3_close(db), SQLITE_OK);
	assert_int_equal(file_write(t->db, db_bytes, db_len), 0);
	assert_int_equal(file_write(wal, wal_bytes, wal_len), 0);
	free(db_bytes);
	free(wal_bytes);

	/* Not the -shm: SQLite makes it to read the WAL, and cannot remove it
	 * without checkpointing the foreign WAL into the file. */
	assert_refused_unchanged_shm(t->db, -EPROTO, "another program", false);
}

static void test_store_open_newer_schema_is_eproto_and_unchanged(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
	raw_exec(t->db, "PRAGMA user_version = 99");
	assert_refused_unchanged(t->db, -EPROTO, "newer drift (schema 99");
}

static void test_store_open_drift_id_without_tables_is_eproto(void **state)
{
	struct tmp *t = *state;

	raw_exec(t->db, "PRAGMA application_id = 1146242644; PRAGMA user_version = 1;"
			" CREATE TABLE other (x)");
	assert_refused_unchanged(t->db, -EPROTO, NULL);
}

/*
 * A damaged database is refused with @msg by an open for writing, which
 * leaves no -wal or -shm, and by a read-only open (which may leave them, as
 * any reader of a WAL database does); its bytes are untouched.
 */
static void assert_damaged_unchanged(const char *path, const char *msg)
{
	size_t len0 = 0, len1 = 0;
	char *before = file_slurp(path, &len0);
	struct snap_store *st = SENTINEL;
	struct diag d = { 0 };
	char *after;

	assert_non_null(before);
	assert_false(side_exists(path, "-wal") || side_exists(path, "-shm"));
	assert_int_equal(snap_store_open(path, SNAP_OPEN_WRITE, &st, &d), -EPROTO);
	assert_ptr_equal(st, SENTINEL);
	assert_string_equal(d.msg, msg);
	assert_false(side_exists(path, "-wal") || side_exists(path, "-shm"));
	memset(&d, 0, sizeof(d));
	assert_int_equal(snap_store_open(path, SNAP_OPEN_READ, &st, &d), -EPROTO);
	assert_ptr_equal(st, SENTINEL);
	assert_string_equal(d.msg, msg);

	after = file_slurp(path, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	free(before);
	free(after);
}

static void test_store_open_truncated_db_fails_without_crash(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry *v = calloc(3000, sizeof(*v));
	char(*keys)[48] = calloc(3000, sizeof(*keys));
	char want[sizeof(t->db) + 64], side[sizeof(t->db) + 8];
	int64_t id;
	struct stat sb;

	assert_non_null(v);
	assert_non_null(keys);
	for (size_t i = 0; i < 3000; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/usr/share/doc/pkg%04zu/file", i);
		v[i] = entry_file(keys[i]);
	}
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	id = write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, false, 0, v, 3000, &d);
	assert_true(id > 0);
	snap_store_free(st); /* the last close checkpoints and removes the WAL */
	assert_int_equal(stat(t->db, &sb), 0);
	assert_true(sb.st_size > 65536);
	assert_int_equal(truncate(t->db, sb.st_size / 2), 0);

	/* Refused, saying which file is damaged, and left as it is for a look. */
	snprintf(want, sizeof(want), "'%s' is damaged (database disk image is malformed)", t->db);
	assert_damaged_unchanged(t->db, want);

	/* Truncated to less than one page: still refused, not a crash. */
	assert_int_equal(truncate(t->db, 100), 0);
	snprintf(side, sizeof(side), "%s-wal", t->db);
	assert_true(unlink(side) == 0 || errno == ENOENT);
	snprintf(side, sizeof(side), "%s-shm", t->db);
	assert_true(unlink(side) == 0 || errno == ENOENT);
	assert_damaged_unchanged(t->db, want);
	free(v);
	free(keys);
}

static void test_store_open_empty_file_gets_schema(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };

	assert_int_equal(file_write(t->db, "", 0), 0);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(snap_baseline(st, &info, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "drift init"));
	assert_true(write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, false, 0, NULL, 0, &d) > 0);
	snap_store_free(st);

	/* The file is now ours: it reopens, both ways. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_baseline(st, &info, &d), 0);
	assert_string_equal(info.label, "baseline");
	snap_info_release(&info);
	snap_store_free(st);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
}

static int count_changes(const struct deviation *dev, void *userdata)
{
	assert_int_equal(dev->change, CHANGE_REMOVED);
	(*(int *)userdata)++;
	return 0;
}

static int count_cb(const struct snap_info *info, void *userdata)
{
	(void)info;
	(*(int *)userdata)++;
	return 0;
}

static void test_store_open_empty_file_read_only_is_an_empty_store(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_info info = { 0 };
	struct snap_iter *it = NULL;
	struct diag d = { 0 };
	struct stat sb;
	int n = 0;

	assert_int_equal(file_write(t->db, "", 0), 0);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_baseline(st, &info, &d), -ENOENT);
	assert_int_equal(snap_find(st, "1", &info, &d), -ENOENT);
	assert_int_equal(snap_list(st, count_cb, &n, &d), 0);
	assert_int_equal(n, 0);
	assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, NULL, 0, 0, &it, &d), -ENOENT);
	/* No packages, and no secret to be made. */
	{
		struct snap_owner o = { 0 };
		uint8_t key[32];
		bool has = true;

		assert_int_equal(snap_has_packages(st, 1, &has), 0);
		assert_false(has);
		assert_int_equal(snap_owner_get(st, 1, "/a", 2, &o, &d), 0);
		assert_int_equal(snap_store_secret(st, key, &d), -EROFS);
	}
	snap_store_free(st);
	assert_int_equal(stat(t->db, &sb), 0);
	assert_int_equal(sb.st_size, 0);
}

static void test_store_open_directory_is_eisdir(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = SENTINEL;
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->dir, SNAP_OPEN_WRITE, &st, &d), -EISDIR);
	assert_int_equal(snap_store_open(t->dir, SNAP_OPEN_READ, &st, &d), -EISDIR);
	assert_int_equal(snap_store_open("", SNAP_OPEN_READ, &st, &d), -EINVAL);
	assert_ptr_equal(st, SENTINEL);
}

static void test_store_open_sets_application_id_and_version(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
	assert_int_equal(sqlite3_open_v2(t->db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "SELECT * FROM pragma_application_id, pragma_user_version,"
				   " pragma_journal_mode",
				   -1, &s, NULL),
		SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int64(s, 0), 0x44524654);
	assert_int_equal(sqlite3_column_int64(s, 1), 8);
	assert_string_equal((const char *)sqlite3_column_text(s, 2), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

/* A database exactly as schema version 1 wrote it: its DDL, one baseline
 * with two entries. */
static const char v1_database[] =
	"PRAGMA application_id = 1146242644; PRAGMA user_version = 1;"
	"CREATE TABLE snapshot (id INTEGER PRIMARY KEY, label TEXT UNIQUE,"
	" purpose INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete')),"
	" host TEXT, version TEXT, roots BLOB, excludes BLOB,"
	" cross_mounts INTEGER NOT NULL DEFAULT 0, hash INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER NOT NULL, finished INTEGER, entries INTEGER NOT NULL DEFAULT 0,"
	" errors INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE entry (snap INTEGER NOT NULL, kind INTEGER NOT NULL, key BLOB NOT NULL,"
	" mode INTEGER, uid INTEGER, gid INTEGER, size INTEGER, mtime INTEGER, ctime INTEGER,"
	" ino INTEGER, dev INTEGER, nlink INTEGER, target BLOB, hash BLOB, err INTEGER,"
	" flags INTEGER, PRIMARY KEY (snap, kind, key)) WITHOUT ROWID;"
	"INSERT INTO snapshot VALUES (1, 'baseline', 1, 'complete', 'oldhost', '0.1.0',"
	" CAST('/etc' AS BLOB), NULL, 0, 1, 1000, 2000, 2, 0);"
	"INSERT INTO meta VALUES ('baseline', 1);"
	"INSERT INTO entry VALUES (1, 1, CAST('/etc/a' AS BLOB), 33188, 0, 0, 10, 5, 6, 7, 8, 1,"
	" NULL, X'00112233445566778899aabbccddeeff', 0, 0);"
	"INSERT INTO entry VALUES (1, 1, CAST('/etc/b' AS BLOB), 33188, 0, 0, 10, 5, 6, 7, 8, 1,"
	" NULL, NULL, 13, 0);";

static int64_t user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* The baseline of v1_database, as read through @st. */
static void assert_v1_baseline(struct snap_store *st)
{
	struct snap_info info = { 0 };
	struct snap_iter *it = NULL;
	const struct entry *e;
	struct diag d = { 0 };

	assert_int_equal(snap_baseline(st, &info, &d), 0);
	assert_int_equal(info.id, 1);
	assert_string_equal(info.label, "baseline");
	assert_string_equal(info.host, "oldhost");
	assert_int_equal(info.nroots, 1);
	assert_string_equal(info.roots[0], "/etc");
	assert_int_equal(info.entries, 2);
	assert_null(info.policy_digest);
	assert_null(info.policy_source);
	/* No probes: empty lists, never NULL. */
	assert_non_null(info.probes);
	assert_null(info.probes[0]);
	assert_int_equal(info.nprobes, 0);
	assert_non_null(info.probes_unavailable);
	assert_int_equal(info.nprobes_unavailable, 0);
	snap_info_release(&info);

	assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_int_equal(e->key_len, 6);
	assert_memory_equal(e->key, "/etc/a", 6);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_int_equal(e->collected, 0);
	assert_null(e->xattrs);
	assert_null(e->acl);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_int_equal(e->err, 13);
	assert_int_equal(e->collected, 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);
	/* Errors only: the other query shape. */
	assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, NULL, 0, SNAP_ITER_ERRORS_ONLY, &it, &d),
			 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_memory_equal(e->key, "/etc/b", 6);
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);
}

/* Through @st: snapshot 1 of an old database has no package ownership. */
static void assert_old_baseline_without_packages(struct snap_store *st)
{
	struct snap_owner o = { 0 };
	struct diag d = { 0 };
	bool has = true;

	assert_int_equal(snap_has_packages(st, 1, &has), 0);
	assert_false(has);
	assert_int_equal(snap_owner_get(st, 1, "/etc/a", 6, &o, &d), 0);
	assert_null(o.name);
}

static int count_snapshots(const struct snap_info *info, void *userdata)
{
	assert_null(info->policy_digest);
	(*(int *)userdata)++;
	return 0;
}

static void test_store_open_v1_read_only_reads_it_and_writes_nothing(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_iter *it = NULL;
	struct diag d = { 0 };
	size_t len0 = 0, len1 = 0;
	char *before, *after;
	int n = 0;

	raw_exec(t->db, v1_database);
	before = file_slurp(t->db, &len0);
	assert_non_null(before);

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_v1_baseline(st);
	assert_old_baseline_without_packages(st);
	/* Point lookups read version 1 too (no ext column: nothing optional). */
	{
		struct snap_lookup *lk = NULL;
		const struct entry *e = NULL;

		assert_int_equal(snap_lookup_open(t->db, 1, &lk, &d), 0);
		assert_int_equal(snap_lookup_get(lk, ENTRY_FILE, "/etc/a", 6, &e, &d), 1);
		assert_int_equal(e->size, 10);
		assert_int_equal(e->collected, 0);
		assert_null(e->props);
		snap_lookup_free(lk);
	}
	assert_int_equal(snap_list(st, count_snapshots, &n, &d), 0);
	assert_int_equal(n, 1);
	{
		const char *const roots[] = { "/etc/b" };

		assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, roots, 1, 0, &it, &d), 0);
		assert_int_equal(snap_iter_next(it, &(const struct entry *){ NULL }, &d), 1);
		snap_iter_free(it);
	}
	snap_store_free(st);

	after = file_slurp(t->db, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_int_equal(user_version(t->db), 1);
	free(before);
	free(after);
}

static void test_store_open_v1_for_writing_migrates_in_place(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct snap_iter *a = NULL, *b = NULL;
	struct entry e = entry_file("/etc/a");
	struct diag d = { 0 };
	int changes = 0;

	raw_exec(t->db, v1_database);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(user_version(t->db), 8);
	/* The old snapshot reads as before, with an unknown policy, no
	 * probes and no packages. */
	assert_v1_baseline(st);
	assert_old_baseline_without_packages(st);

	/* New snapshots get the new columns. */
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "after";
	p.hash = HASH_XXH3_128;
	p.policy_digest = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
	p.policy_source = "(built-in)";
	/* /etc/a as it was, plus a MIME type. */
	e.size = 10;
	e.mtime_ns = 5;
	e.ctime_ns = 6;
	e.ino = 7;
	e.dev = 8;
	entry_set_hash(&e, 0);
	for (unsigned i = 0; i < 16; i++)
		e.hash[i] = (uint8_t)(i * 0x11);
	e.collected = ATTR_MIME;
	e.mime = "text/plain";
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_string_equal(info.policy_source, "(built-in)");
	assert_string_equal(info.policy_digest, p.policy_digest);

	/* Old against new: mime was collected on one side only, so it is
	 * not compared; /etc/b went away. */
	assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, NULL, 0, 0, &a, &d), 0);
	assert_int_equal(snap_iter_new(st, info.id, ENTRY_FILE, NULL, 0, 0, &b, &d), 0);
	assert_int_equal(snap_compare(a, b, 0, count_changes, &changes, &d), 0);
	assert_int_equal(changes, 1);
	snap_iter_free(a);
	snap_iter_free(b);
	snap_info_release(&info);
	snap_store_free(st);

	/* Opening again (either way) finds version 3 and changes nothing. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_find(st, "after", &info, &d), 0);
	assert_string_equal(info.policy_source, "(built-in)");
	snap_info_release(&info);
	snap_store_free(st);
	assert_int_equal(user_version(t->db), 8);
}

/* A database exactly as schema version 2 wrote it: v1 plus the policy and
 * ext columns; one baseline with a MIME type collected. */
static const char v2_database[] =
	"PRAGMA application_id = 1146242644; PRAGMA user_version = 2;"
	"CREATE TABLE snapshot (id INTEGER PRIMARY KEY, label TEXT UNIQUE,"
	" purpose INTEGER NOT NULL,"
	" status TEXT NOT NULL CHECK (status IN ('incomplete', 'complete')),"
	" host TEXT, version TEXT, roots BLOB, excludes BLOB,"
	" cross_mounts INTEGER NOT NULL DEFAULT 0, hash INTEGER NOT NULL DEFAULT 0,"
	" started INTEGER NOT NULL, finished INTEGER, entries INTEGER NOT NULL DEFAULT 0,"
	" errors INTEGER NOT NULL DEFAULT 0, policy_digest TEXT, policy_source TEXT);"
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value) WITHOUT ROWID;"
	"CREATE TABLE entry (snap INTEGER NOT NULL, kind INTEGER NOT NULL, key BLOB NOT NULL,"
	" mode INTEGER, uid INTEGER, gid INTEGER, size INTEGER, mtime INTEGER, ctime INTEGER,"
	" ino INTEGER, dev INTEGER, nlink INTEGER, target BLOB, hash BLOB, err INTEGER,"
	" flags INTEGER, ext BLOB, PRIMARY KEY (snap, kind, key)) WITHOUT ROWID;"
	"INSERT INTO snapshot VALUES (1, 'baseline', 1, 'complete', 'oldhost', '0.2.0',"
	" CAST('/etc' AS BLOB), NULL, 0, 1, 1000, 2000, 2, 0, NULL, '(built-in)');"
	"INSERT INTO meta VALUES ('baseline', 1);"
	/* ext: version 1, collected bit 5 (mime), tag 5 "text/plain\0" */
	"INSERT INTO entry VALUES (1, 1, CAST('/etc/a' AS BLOB), 33188, 0, 0, 10, 5, 6, 7, 8, 1,"
	" NULL, X'00112233445566778899aabbccddeeff', 0, 0, X'0110050b746578742f706c61696e00');"
	"INSERT INTO entry VALUES (1, 1, CAST('/etc/b' AS BLOB), 33188, 0, 0, 10, 5, 6, 7, 8, 1,"
	" NULL, NULL, 13, 0, NULL);";

static void test_store_open_v2_read_only_reads_it_and_writes_nothing(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_info info = { 0 };
	struct snap_iter *it = NULL;
	const struct entry *e;
	uint8_t key[32] = { 0 }, zero[32] = { 0 };
	struct diag d = { 0 };
	size_t len0 = 0, len1 = 0;
	char *before, *after;

	raw_exec(t->db, v2_database);
	before = file_slurp(t->db, &len0);
	assert_non_null(before);

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_old_baseline_without_packages(st);
	assert_int_equal(snap_find(st, "baseline", &info, &d), 0);
	assert_string_equal(info.policy_source, "(built-in)");
	assert_non_null(info.probes);
	assert_int_equal(info.nprobes, 0);
	assert_non_null(info.probes_unavailable);
	assert_int_equal(info.nprobes_unavailable, 0);
	snap_info_release(&info);
	/* The ext column of version 2 reads as it did. */
	assert_int_equal(snap_iter_new(st, 1, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_int_equal(e->collected, ATTR_MIME);
	assert_string_equal(e->mime, "text/plain");
	assert_null(e->props);
	snap_iter_free(it);
	/* No secret, and none may be made. */
	assert_int_equal(snap_store_secret(st, key, &d), -EROFS);
	assert_memory_equal(key, zero, 32);
	snap_store_free(st);

	after = file_slurp(t->db, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_int_equal(user_version(t->db), 2);
	free(before);
	free(after);
}

static void test_store_open_v2_for_writing_migrates_to_v4(void **state)
{
	struct tmp *t = *state;
	static const char *const asked[] = { "package", "user" };
	struct snap_store *st = NULL;
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct snap_owner o = { 0 };
	struct diag d = { 0 };
	bool known = true;

	raw_exec(t->db, v2_database);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(user_version(t->db), 8);
	assert_old_baseline_without_packages(st);
	assert_int_equal(snap_find(st, "baseline", &info, &d), 0);
	assert_string_equal(info.policy_source, "(built-in)");
	assert_int_equal(info.nprobes, 0);
	assert_null(info.probes[0]);
	snap_info_release(&info);

	/* A new snapshot with probes and packages. */
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "after";
	p.probes = asked;
	p.nprobes = 2;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add_package(w, "bash", "amd64", "5.2", &known, &d), 0);
	assert_false(known);
	assert_int_equal(snap_writer_add_package_file(w, "/etc/a", 6, NULL, true, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_int_equal(info.nprobes, 2);
	assert_string_equal(info.probes[1], "user");
	assert_int_equal(snap_owner_get(st, info.id, "/etc/a", 6, &o, &d), 1);
	assert_string_equal(o.name, "bash");
	assert_true(o.conffile);
	snap_info_release(&info);
	snap_store_free(st);

	/* Again, read-only: version 4 as written. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_old_baseline_without_packages(st);
	assert_int_equal(snap_find(st, "after", &info, &d), 0);
	assert_int_equal(info.nprobes, 2);
	snap_info_release(&info);
	snap_store_free(st);
	assert_int_equal(user_version(t->db), 8);
}

/* Raw count of the secret rows of @path. */
static int64_t secret_rows(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db,
					    "SELECT count(*) FROM meta WHERE key = 'secret'"
					    " AND length(value) = 32",
					    -1, &s, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static void test_store_secret_created_once_and_stable(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL, *ro = NULL;
	uint8_t k1[32], k2[32], k3[32], zero[32] = { 0 };
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	/* Read-only before it exists: -EROFS, output untouched. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &ro, &d), 0);
	memset(k3, 0, sizeof(k3));
	assert_int_equal(snap_store_secret(ro, k3, &d), -EROFS);
	assert_memory_equal(k3, zero, 32);
	assert_int_equal(secret_rows(t->db), 0);

	assert_int_equal(snap_store_secret(st, k1, &d), 0);
	assert_memory_not_equal(k1, zero, 32);
	assert_int_equal(snap_store_secret(st, k2, &d), 0);
	assert_memory_equal(k1, k2, 32);
	assert_int_equal(secret_rows(t->db), 1);
	/* Another connection, read-only now that it exists, sees the same. */
	assert_int_equal(snap_store_secret(ro, k3, &d), 0);
	assert_memory_equal(k1, k3, 32);
	snap_store_free(ro);
	snap_store_free(st);

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(snap_store_secret(st, k2, &d), 0);
	assert_memory_equal(k1, k2, 32);
	snap_store_free(st);
	assert_int_equal(secret_rows(t->db), 1);
}

static void test_store_secret_inside_a_writer_goes_with_its_transaction(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	uint8_t k1[32], k2[32], k3[32];
	struct diag d = { 0 };

	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "s";
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	/* Aborted: the secret made inside is rolled back. */
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_store_secret(st, k1, &d), 0);
	snap_writer_abort(w);
	assert_int_equal(secret_rows(t->db), 0);
	/* Committed: it stays, and the writer still commits. */
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_store_secret(st, k2, &d), 0);
	assert_int_equal(snap_store_secret(st, k3, &d), 0);
	assert_memory_equal(k2, k3, 32);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	assert_int_equal(secret_rows(t->db), 1);
	assert_int_equal(snap_store_secret(st, k3, &d), 0);
	assert_memory_equal(k2, k3, 32);
	snap_store_free(st);
}

static void test_store_secret_malformed_is_eproto(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	uint8_t key[32] = { 0 }, zero[32] = { 0 };
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
	raw_exec(t->db, "INSERT INTO meta VALUES ('secret', X'0011')");
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(snap_store_secret(st, key, &d), -EPROTO);
	assert_memory_equal(key, zero, 32);
	snap_store_free(st);
}

/*
 * Several processes opening the same new database at once: every one must
 * succeed (one creates the schema, the others find it), never see a
 * half-created database as foreign.
 */
static void test_store_open_concurrent_first_use_all_succeed(void **state)
{
	enum { ROUNDS = 40, PROCS = 6 };
	struct tmp *t = *state;
	char path[256];
	int failures = 0;

	for (int round = 0; round < ROUNDS; round++) {
		pid_t pids[PROCS];

		snprintf(path, sizeof(path), "%s/r%d.db", t->dir, round);
		for (int i = 0; i < PROCS; i++) {
			pids[i] = fork();
			assert_true(pids[i] >= 0);
			if (pids[i] == 0) {
				struct snap_store *st = NULL;
				struct diag d = { 0 };
				int r = snap_store_open(path, SNAP_OPEN_WRITE, &st, &d);

				if (r < 0)
					fprintf(stderr, "child %d: %d %s\n", i, r, d.msg);
				snap_store_free(st);
				_exit(r < 0 ? 1 : 0);
			}
		}
		for (int i = 0; i < PROCS; i++) {
			int status = 0;

			assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
			failures += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		}
	}
	assert_int_equal(failures, 0);
}

/* A database of @n entries written and closed (the last close removes the WAL). */
static void make_db(const char *path, size_t n)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry *v = calloc(n, sizeof(*v));
	char(*keys)[48] = calloc(n, sizeof(*keys));

	assert_non_null(v);
	assert_non_null(keys);
	for (size_t i = 0; i < n; i++) {
		snprintf(keys[i], sizeof(keys[i]), "/usr/share/doc/pkg%05zu/file", i);
		v[i] = entry_file(keys[i]);
	}
	assert_int_equal(snap_store_open(path, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_true(write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, false, 0, v, n, &d) > 0);
	snap_store_free(st);
	free(v);
	free(keys);
}

/* A page in the middle of the entry b-tree overwritten with 0xff: opening
 * for writing refuses it, and nothing is written. */
static void test_store_open_write_refuses_a_damaged_page(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = SENTINEL;
	struct diag d = { 0 };
	unsigned char page[4096];
	size_t len0 = 0, len1 = 0;
	char *before, *after;
	struct stat sb;
	off_t npages;
	int fd;

	make_db(t->db, 40000);
	assert_int_equal(stat(t->db, &sb), 0);
	npages = sb.st_size / 4096;
	assert_true(npages > 20);
	/* A page of the blocks' data past the first row (which a read-only
	 * open reads): where it lies depends on the allocation, so ask. */
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *s = NULL;

		assert_int_equal(sqlite3_open_v2(t->db, &db, SQLITE_OPEN_READONLY, NULL),
				 SQLITE_OK);
		assert_int_equal(
			sqlite3_prepare_v2(db,
					   "SELECT pageno FROM dbstat WHERE name = 'block'"
					   " AND pagetype = 'leaf' ORDER BY pageno"
					   " LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat"
					   " WHERE name = 'block' AND pagetype = 'leaf')",
					   -1, &s, NULL),
			SQLITE_OK);
		assert_int_equal(sqlite3_step(s), SQLITE_ROW);
		npages = 2 * (sqlite3_column_int64(s, 0) - 1);
		sqlite3_finalize(s);
		assert_int_equal(
			sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL),
			SQLITE_OK);
		sqlite3_close(db);
		/* Left empty when the close could not take the lock to remove it. */
		{
			char wal[4096];
			struct stat ws;

			snprintf(wal, sizeof(wal), "%s-wal", t->db);
			if (stat(wal, &ws) == 0) {
				assert_int_equal(ws.st_size, 0);
				unlink(wal);
			}
			/* (No connection is open: its index goes too.) */
			snprintf(wal, sizeof(wal), "%s-shm", t->db);
			unlink(wal);
		}
	}
	memset(page, 0xff, sizeof(page));
	fd = open(t->db, O_WRONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, page, sizeof(page), (npages / 2) * 4096), sizeof(page));
	close(fd);
	before = file_slurp(t->db, &len0);
	assert_non_null(before);

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), -EPROTO);
	assert_ptr_equal(st, SENTINEL);
	if (!strstr(d.msg, "is damaged"))
		fail_msg("message '%s' lacks 'is damaged'", d.msg);
	after = file_slurp(t->db, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_false(side_exists(t->db, "-wal"));
	free(before);
	free(after);

	/* A read-only open does not pay for the check: it opens. */
	if (snap_store_open(t->db, SNAP_OPEN_READ, &st, &d) != 0)
		fail_msg("read-only open: %s", d.msg);
	snap_store_free(st);
}

/*
 * Run @fn(@path) in a child process that cannot write to the directory of
 * @path: as root, the child becomes nobody (the directory stays root's,
 * 0755); otherwise the directory is made 0555. Returns fn's result.
 */
static int run_without_dir_write(const char *dir, const char *path,
				 int (*fn)(const char *path, char *msg, size_t size), char *msg,
				 size_t size)
{
	int pipefd[2], status = 0, r;
	ssize_t n;
	pid_t pid;

	assert_int_equal(chmod(dir, geteuid() == 0 ? 0755 : 0555), 0);
	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char buf[300];

		close(pipefd[0]);
		if (geteuid() == 0 &&
		    (setgroups(0, NULL) < 0 || setgid(65534) < 0 || setuid(65534) < 0))
			_exit(100);
		r = fn(path, buf, 256);
		if (write(pipefd[1], buf, strlen(buf)) < 0)
			_exit(101);
		_exit(r < 0 ? -r : 0);
	}
	close(pipefd[1]);
	n = read(pipefd[0], msg, size - 1);
	msg[n > 0 ? n : 0] = '\0';
	close(pipefd[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(chmod(dir, 0700), 0);
	assert_true(WIFEXITED(status));
	assert_true(WEXITSTATUS(status) < 100);
	return -WEXITSTATUS(status);
}

/* Open read-only, read the baseline; 0 or -errno, message in @msg. */
static int open_read_baseline(const char *path, char *msg, size_t size)
{
	struct snap_store *st = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int r = snap_store_open(path, SNAP_OPEN_READ, &st, &d);

	if (r == 0)
		r = snap_baseline(st, &info, &d);
	snprintf(msg, size, "%s", r < 0 ? d.msg : "");
	snap_info_release(&info);
	snap_store_free(st);
	return r;
}

/* Open for writing; 0 or -errno, message in @msg. */
static int open_write(const char *path, char *msg, size_t size)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	int r = snap_store_open(path, SNAP_OPEN_WRITE, &st, &d);

	snprintf(msg, size, "%s", r < 0 ? d.msg : "");
	snap_store_free(st);
	return r;
}

/* A WAL database in a directory the reader cannot write to (no -shm can be
 * made): a read-only open still reads it, and creates nothing. */
static void test_store_open_read_wal_db_in_readonly_dir(void **state)
{
	struct tmp *t = *state;
	char msg[300];
	size_t len0 = 0, len1 = 0;
	char *before, *after;

	make_db(t->db, 10);
	assert_int_equal(chmod(t->db, 0644), 0);
	before = file_slurp(t->db, &len0);
	assert_non_null(before);
	assert_false(side_exists(t->db, "-wal"));
	assert_int_equal(run_without_dir_write(t->dir, t->db, open_read_baseline, msg, sizeof(msg)),
			 0);
	after = file_slurp(t->db, &len1);
	assert_non_null(after);
	assert_int_equal(len0, len1);
	assert_memory_equal(before, after, len0);
	assert_false(side_exists(t->db, "-wal"));
	assert_false(side_exists(t->db, "-shm"));
	free(before);
	free(after);
}

/* The same with a -wal file present: it cannot be read safely without a
 * -shm, so the open fails with a message that says why. */
static void test_store_open_read_wal_db_with_wal_in_readonly_dir_says_why(void **state)
{
	struct tmp *t = *state;
	char wal[300], msg[300];
	int r;

	make_db(t->db, 10);
	assert_int_equal(chmod(t->db, 0644), 0);
	snprintf(wal, sizeof(wal), "%s-wal", t->db);
	assert_int_equal(file_write(wal, "", 0), 0);
	assert_int_equal(chmod(wal, 0644), 0);
	r = run_without_dir_write(t->dir, t->db, open_read_baseline, msg, sizeof(msg));
	assert_int_equal(r, -EACCES);
	if (!strstr(msg, "cannot read database") || !strstr(msg, "-shm"))
		fail_msg("unclear message '%s'", msg);
}

/* A database file the user may not write: -EROFS up front, clearly. */
static void test_store_open_write_readonly_file_is_erofs(void **state)
{
	struct tmp *t = *state;
	char msg[300];

	make_db(t->db, 10);
	assert_int_equal(chmod(t->db, 0444), 0);
	assert_int_equal(run_without_dir_write(t->dir, t->db, open_write, msg, sizeof(msg)),
			 -EROFS);
	if (!strstr(msg, "is read-only"))
		fail_msg("unclear message '%s'", msg);
	assert_false(side_exists(t->db, "-wal"));
	assert_false(side_exists(t->db, "-shm"));
}

static void test_store_free_accepts_null(void **state)
{
	(void)state;
	snap_store_free(NULL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, tmp_setup, tmp_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_store_open_creates_file_0600_and_dirs_0700),
		T(test_store_open_read_missing_is_enoent_and_creates_nothing),
		T(test_store_open_random_bytes_is_eproto_and_unchanged),
		T(test_store_open_text_file_is_eproto_and_unchanged),
		T(test_store_open_foreign_sqlite_is_eproto_and_unchanged),
		T(test_store_open_foreign_application_id_is_eproto),
		T(test_store_open_foreign_wal_db_is_eproto_and_unchanged),
		T(test_store_open_foreign_hot_wal_is_not_checkpointed),
		T(test_store_open_newer_schema_is_eproto_and_unchanged),
		T(test_store_open_drift_id_without_tables_is_eproto),
		T(test_store_open_truncated_db_fails_without_crash),
		T(test_store_open_empty_file_gets_schema),
		T(test_store_open_empty_file_read_only_is_an_empty_store),
		T(test_store_open_directory_is_eisdir),
		T(test_store_open_sets_application_id_and_version),
		T(test_store_open_v1_read_only_reads_it_and_writes_nothing),
		T(test_store_open_v1_for_writing_migrates_in_place),
		T(test_store_open_v2_read_only_reads_it_and_writes_nothing),
		T(test_store_open_v2_for_writing_migrates_to_v4),
		T(test_store_secret_created_once_and_stable),
		T(test_store_secret_inside_a_writer_goes_with_its_transaction),
		T(test_store_secret_malformed_is_eproto),
		T(test_store_open_concurrent_first_use_all_succeed),
		T(test_store_open_write_refuses_a_damaged_page),
		T(test_store_open_read_wal_db_in_readonly_dir),
		T(test_store_open_read_wal_db_with_wal_in_readonly_dir_says_why),
		T(test_store_open_write_readonly_file_is_erofs),
		T(test_store_free_accepts_null),
	};
	return cmocka_run_group_tests_name("store/open", tests, NULL, NULL);
}
