/*
 * store/prune.c: deleting one snapshot (with its runs and package links),
 * pruning history by the rules of snap_prune(), dry runs, and the file
 * shrinking afterwards. Each case builds its own database in a temporary
 * directory; a little direct SQL ages an incomplete snapshot and reads
 * the rows prune.c is meant to remove.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>

#include "store/store.h"
#include "util.h"
#include "common/banned.h"

static struct snap_store *open_rw(struct tmp *t)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	return st;
}

/* One integer from @sql on a connection of its own (the store's file, committed state). */
static int64_t sql_int(struct tmp *t, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	assert_int_equal(sqlite3_open_v2(t->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void sql_run(struct tmp *t, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open_v2(t->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A snapshot of @n files whose keys start with @prefix, with one package version of its own. */
static int64_t snapshot(struct snap_store *st, enum snap_purpose purpose, const char *label,
			const char *prefix, size_t n)
{
	static const char *const roots[] = { "/" };
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	char key[128], version[64];
	bool known = true;
	int64_t id;

	p.purpose = purpose;
	p.parent = -1; /* full copies: what pruning frees is then measurable */
	p.label = label;
	p.host = "testhost";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	for (size_t i = 0; i < n; i++) {
		struct entry e;

		snprintf(key, sizeof(key), "/%s/file-%06zu-with-a-longish-name", prefix, i);
		e = entry_file(key);
		entry_set_hash(&e, (unsigned char)i);
		assert_int_equal(snap_writer_add(w, &e, &d), 0);
	}
	snprintf(version, sizeof(version), "1.%lld", (long long)snap_writer_id(w));
	assert_int_equal(snap_writer_add_package(w, "hello", "amd64", version, &known, &d), 0);
	if (!known)
		assert_int_equal(
			snap_writer_add_package_file(w, "/usr/bin/hello", 14, NULL, false, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	id = info.id;
	snap_info_release(&info);
	return id;
}

/* A stored run comparing @before with @after (0: none, a verify). */
static int64_t run(struct snap_store *st, int64_t before, int64_t after, const char *cmd)
{
	struct snap_run_new p = { .command = cmd, .before = before, .after = after };
	struct snap_run_row row = { .kind = ENTRY_FILE, .key = "/etc/a", .key_len = 6 };
	struct snap_run_writer *w = NULL;
	struct diag d = { 0 };
	int64_t id = 0;

	row.change = CHANGE_ADDED;
	row.rule = -1;
	assert_int_equal(snap_run_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	assert_int_equal(snap_run_commit(w, 1, 0, 0, &id, &d), 0);
	return id;
}

/* An incomplete snapshot (an interrupted scan), started @age_s seconds ago. */
static int64_t incomplete(struct snap_store *st, struct tmp *t, int64_t age_s)
{
	static const char *const roots[] = { "/" };
	struct snap_new p = { .purpose = SNAP_PURPOSE_CHECK,
			      .host = "h",
			      .roots = roots,
			      .nroots = 1,
			      .hash = HASH_XXH3_128 };
	struct snap_writer *w = NULL;
	struct diag d = { 0 };
	char sql[128];
	int64_t id;

	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	id = snap_writer_id(w);
	snap_writer_abort(w);
	snprintf(sql, sizeof(sql), "UPDATE snapshot SET started = started - %lld WHERE id = %lld",
		 (long long)age_s * 1000000000, (long long)id);
	sql_run(t, sql);
	return id;
}

static bool exists(struct snap_store *st, int64_t id)
{
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%lld", (long long)id);
	r = snap_find(st, name, &info, &d);
	snap_info_release(&info);
	return r == 0;
}

static void test_delete_removes_entries_runs_and_links(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_stats stats = { 0 };
	struct diag d = { 0 };
	int64_t base, a, b;

	base = snapshot(st, SNAP_PURPOSE_BASELINE, NULL, "b", 10);
	a = snapshot(st, SNAP_PURPOSE_SCAN, "a", "a", 20);
	b = snapshot(st, SNAP_PURPOSE_SCAN, "b", "b", 5);
	run(st, base, a, "check");
	run(st, a, b, "diff");
	run(st, base, b, "diff");
	assert_int_equal(sql_int(t, "SELECT count(*) FROM pkgver"), 3);

	assert_int_equal(snap_delete(st, a, 0, &stats, &d), 0);
	assert_false(exists(st, a));
	assert_true(exists(st, b));
	assert_int_equal(stats.scans, 1);
	assert_int_equal(stats.runs, 2);
	assert_int_equal(stats.packages, 1);
	assert_false(stats.baseline_cleared);
	assert_true(stats.auto_vacuum);
	assert_true(stats.bytes_before > 0);
	assert_true(stats.bytes_after <= stats.bytes_before);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM block WHERE snap NOT IN (1, 3)"), 0);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM run"), 1);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM finding"), 1);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM snap_pkg"), 2);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM pkgver"), 2);

	/* The failure contract: a missing id, nothing changed, stats untouched. */
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(snap_delete(st, 999, 0, &stats, &d), -ENOENT);
	assert_int_equal(stats.scans + stats.bytes_before, 0);
	snap_store_free(st);
}

static void test_delete_refuses_baseline_without_flag(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_stats stats = { 0 };
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t old, cur;

	old = snapshot(st, SNAP_PURPOSE_BASELINE, NULL, "x", 3);
	cur = snapshot(st, SNAP_PURPOSE_SCAN, "next", "x", 3);
	assert_int_equal(snap_set_baseline(st, cur, NULL, &d), 1);

	assert_int_equal(snap_delete(st, old, 0, &stats, &d), -EPERM);
	assert_int_equal(snap_delete(st, cur, 0, &stats, &d), -EPERM);
	assert_true(exists(st, old));
	assert_true(exists(st, cur));
	assert_int_equal(stats.baselines, 0);

	/* An old baseline with the flag: the current one stays the baseline. */
	assert_int_equal(snap_delete(st, old, SNAP_DELETE_BASELINE, &stats, &d), 0);
	assert_false(exists(st, old));
	assert_int_equal(stats.baselines, 1);
	assert_false(stats.baseline_cleared);
	assert_int_equal(snap_baseline(st, &info, &d), 0);
	assert_int_equal(info.id, cur);
	snap_info_release(&info);
	snap_store_free(st);
}

static void test_delete_current_baseline_clears_pointer(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_stats stats = { 0 };
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t base;

	base = snapshot(st, SNAP_PURPOSE_BASELINE, NULL, "x", 3);
	run(st, base, 0, "check");
	assert_int_equal(snap_delete(st, base, SNAP_DELETE_BASELINE, &stats, &d), 0);
	assert_true(stats.baseline_cleared);
	assert_int_equal(stats.baselines, 1);
	assert_int_equal(stats.runs, 1);
	assert_int_equal(snap_baseline(st, &info, &d), -ENOENT);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM meta WHERE key = 'baseline'"), 0);
	snap_store_free(st);
}

static void test_delete_read_only_refused(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_opts opts = { .keep_checks = 1 };
	struct snap_prune_stats stats = { 0 }, ret = { .checks = 77 };
	struct diag d = { 0 };
	int64_t a = snapshot(st, SNAP_PURPOSE_SCAN, "a", "a", 3);

	snap_store_free(st);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_delete(st, a, 0, &stats, &d), -EROFS);
	assert_int_equal(snap_prune(st, &opts, &ret, &d), -EROFS);
	assert_int_equal(ret.checks, 77);
	assert_true(exists(st, a));
	snap_store_free(st);
}

/*
 * Six checks, an upgrade history (pre/post pairs and a lone upgrade), an
 * old baseline, the baseline, a scan, interrupted snapshots old and fresh:
 * prune with keep 2 / keep 3 upgrades.
 */
static void test_prune_keeps_newest_and_pairs_never_baselines(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_opts opts = { .keep_checks = 2, .keep_upgrades = 3, .keep_verify = 1 };
	struct snap_prune_stats stats = { 0 };
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t oldbase, base, scan, checks[6], pre1, post1, lone, pre2, post2, pre3, post3;
	int64_t old_incomplete, fresh_incomplete;

	oldbase = snapshot(st, SNAP_PURPOSE_BASELINE, NULL, "x", 4);
	base = snapshot(st, SNAP_PURPOSE_SCAN, "newbase", "x", 4);
	assert_int_equal(snap_set_baseline(st, base, NULL, &d), 1);
	scan = snapshot(st, SNAP_PURPOSE_SCAN, "keepme", "x", 4);
	pre1 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260101T000000Z-pre", "u", 4);
	post1 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260101T000100Z-post", "u", 4);
	lone = snapshot(st, SNAP_PURPOSE_UPGRADE, "upgrade-x", "u", 4);
	for (int i = 0; i < 6; i++) {
		checks[i] = snapshot(st, SNAP_PURPOSE_CHECK, NULL, "c", 4);
		run(st, base, checks[i], "check");
	}
	pre2 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260102T000000Z-pre", "u", 4);
	post2 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260102T000100Z-post", "u", 4);
	pre3 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260103T000000Z-pre", "u", 4);
	post3 = snapshot(st, SNAP_PURPOSE_UPGRADE, "apt-20260103T000100Z-post", "u", 4);
	run(st, 0, 0, "verify");
	run(st, 0, 0, "verify");
	old_incomplete = incomplete(st, t, 3600);
	fresh_incomplete = incomplete(st, t, 0);

	assert_int_equal(snap_prune(st, &opts, &stats, &d), 0);
	assert_int_equal(stats.checks, 4);
	assert_int_equal(stats.incomplete, 1);
	/* keep 3: post3, pre3, then the pair pre2/post2 straddles the limit and stays whole. */
	assert_int_equal(stats.upgrades, 3);
	assert_int_equal(stats.upgrade_pairs, 1);
	assert_int_equal(stats.runs, 4 + 1);
	assert_int_equal(stats.baselines + stats.scans, 0);
	for (int i = 0; i < 4; i++)
		assert_false(exists(st, checks[i]));
	assert_true(exists(st, checks[4]) && exists(st, checks[5]));
	assert_false(exists(st, pre1) || exists(st, post1) || exists(st, lone));
	assert_true(exists(st, pre2) && exists(st, post2) && exists(st, pre3) && exists(st, post3));
	assert_true(exists(st, oldbase) && exists(st, base) && exists(st, scan));
	assert_false(exists(st, old_incomplete));
	assert_true(exists(st, fresh_incomplete));
	assert_int_equal(snap_baseline(st, &info, &d), 0);
	assert_int_equal(info.id, base);
	snap_info_release(&info);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM run WHERE command = 'verify'"), 1);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM pkgver"),
			 sql_int(t, "SELECT count(DISTINCT pkgver) FROM snap_pkg"));

	/* Again: nothing left to do. */
	memset(&stats, 0, sizeof(stats));
	assert_int_equal(snap_prune(st, &opts, &stats, &d), 0);
	assert_int_equal(stats.checks + stats.upgrades + stats.incomplete + stats.runs, 0);
	snap_store_free(st);
}

static void test_prune_dry_run_changes_nothing(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_opts opts = { .keep_checks = 1, .dry_run = true };
	struct snap_prune_stats stats = { 0 };
	struct diag d = { 0 };
	struct stat before, after;
	int64_t entries;

	snapshot(st, SNAP_PURPOSE_BASELINE, NULL, "x", 4);
	for (int i = 0; i < 4; i++)
		snapshot(st, SNAP_PURPOSE_CHECK, NULL, "c", 500);
	entries = sql_int(t, "SELECT count(*) FROM block");
	assert_int_equal(stat(t->db, &before), 0);

	assert_int_equal(snap_prune(st, &opts, &stats, &d), 0);
	assert_int_equal(stats.checks, 3);
	assert_int_equal(stats.packages, 3);
	assert_true(stats.bytes_after < stats.bytes_before);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM snapshot"), 5);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM block"), entries);
	assert_int_equal(sql_int(t, "SELECT count(*) FROM pkgver"), 5);
	assert_int_equal(stat(t->db, &after), 0);
	assert_true(after.st_size == before.st_size);
	snap_store_free(st);
}

static void test_prune_incremental_vacuum_shrinks_file(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_opts opts = { .keep_checks = 1 };
	struct snap_prune_stats stats = { 0 };
	struct diag d = { 0 };
	struct stat sb;
	int64_t pages;

	assert_int_equal(sql_int(t, "PRAGMA auto_vacuum"), 2);
	for (int i = 0; i < 5; i++)
		snapshot(st, SNAP_PURPOSE_CHECK, NULL, "c", 10000);
	pages = sql_int(t, "PRAGMA page_count");

	assert_int_equal(snap_prune(st, &opts, &stats, &d), 0);
	assert_int_equal(stats.checks, 4);
	assert_true(sql_int(t, "PRAGMA page_count") < pages / 2);
	assert_int_equal(sql_int(t, "PRAGMA freelist_count"), 0);
	assert_true(stats.bytes_after < stats.bytes_before / 2);
	/* The -wal was checkpointed: the file is the size reported. */
	assert_int_equal(stat(t->db, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, stats.bytes_after);
	snap_store_free(st);
}

/* A database of an older drift (auto_vacuum NONE) shrinks only with a full VACUUM. */
static void test_vacuum_converts_old_database(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = open_rw(t);
	struct snap_prune_opts opts = { .keep_checks = 1 };
	struct snap_prune_stats stats = { 0 }, vs = { 0 };
	struct diag d = { 0 };
	struct stat sb;

	snap_store_free(st);
	/* Turn it into an old one: NONE can be set back only by a VACUUM. */
	sql_run(t, "PRAGMA auto_vacuum = NONE; VACUUM");
	assert_int_equal(sql_int(t, "PRAGMA auto_vacuum"), 0);
	st = open_rw(t);
	for (int i = 0; i < 4; i++)
		snapshot(st, SNAP_PURPOSE_CHECK, NULL, "c", 30000);

	assert_int_equal(snap_prune(st, &opts, &stats, &d), 0);
	assert_false(stats.auto_vacuum);
	assert_int_equal(stats.bytes_after, stats.bytes_before);
	assert_true(stats.bytes_free > stats.bytes_before / 2);

	assert_int_equal(snap_store_vacuum(st, &vs, &d), 1);
	assert_true(vs.vacuumed);
	assert_true(vs.auto_vacuum);
	assert_true(vs.bytes_after < vs.bytes_before / 2);
	assert_int_equal(vs.bytes_free, 0);
	assert_int_equal(stat(t->db, &sb), 0);
	assert_int_equal((uint64_t)sb.st_size, vs.bytes_after);
	assert_int_equal(sql_int(t, "PRAGMA auto_vacuum"), 2);
	/* Once converted, a vacuum is the incremental one. */
	memset(&vs, 0, sizeof(vs));
	assert_int_equal(snap_store_vacuum(st, &vs, &d), 0);
	assert_false(vs.vacuumed);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_delete_removes_entries_runs_and_links,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_delete_refuses_baseline_without_flag,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_delete_current_baseline_clears_pointer,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_delete_read_only_refused, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_prune_keeps_newest_and_pairs_never_baselines,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_prune_dry_run_changes_nothing, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_prune_incremental_vacuum_shrinks_file,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_vacuum_converts_old_database, tmp_setup,
						tmp_teardown),
	};
	return cmocka_run_group_tests_name("store/prune", tests, NULL, NULL);
}
