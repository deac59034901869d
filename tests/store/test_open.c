/* Opening databases: creation, permissions, and refusal of foreign, damaged or newer files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

/* Open for writing must fail with @err, leave *ret_store and the file's
 * bytes untouched; the same for a read-only open. */
static void assert_refused_unchanged(const char *path, int err, const char *msg_part)
{
	size_t len0 = 0, len1 = 0;
	char *before = file_slurp(path, &len0);
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
	free(before);
	free(after);
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

	assert_refused_unchanged(t->db, -EPROTO, "another program");
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

static void test_store_open_truncated_db_fails_without_crash(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry *v = calloc(3000, sizeof(*v));
	char(*keys)[48] = calloc(3000, sizeof(*keys));
	int64_t id;
	struct stat sb;
	int r;

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

	st = SENTINEL;
	r = snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d);
	assert_int_equal(r, -EPROTO);
	assert_ptr_equal(st, SENTINEL);

	/* Truncated to less than one page: still refused, not a crash. */
	assert_int_equal(truncate(t->db, 100), 0);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), -EPROTO);
	assert_ptr_equal(st, SENTINEL);
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
	assert_int_equal(sqlite3_column_int64(s, 1), 1);
	assert_string_equal((const char *)sqlite3_column_text(s, 2), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
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
		T(test_store_free_accepts_null),
	};
	return cmocka_run_group_tests_name("store/open", tests, NULL, NULL);
}
