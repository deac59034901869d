#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

/* Stored runs (store/run.c): rows in, rows out, and gone with their snapshots. */

struct got {
	struct snap_run_row rows[8];
	char keys[8][32];
	char reasons[8][64];
	size_t n;
	char rules[4][32];
	size_t nrules;
	size_t nblind;
	int blind_err;
};

static int got_row(const struct snap_run_row *row, void *userdata)
{
	struct got *g = userdata;

	assert_true(g->n < 8);
	g->rows[g->n] = *row;
	snprintf(g->keys[g->n], sizeof(g->keys[0]), "%.*s", (int)row->key_len, row->key);
	snprintf(g->reasons[g->n], sizeof(g->reasons[0]), "%s", row->reason ? row->reason : "");
	g->rows[g->n].key = g->keys[g->n];
	g->rows[g->n].reason = g->reasons[g->n];
	g->rows[g->n].package = NULL; /* borrowed until the next row */
	g->rows[g->n].before_version = g->rows[g->n].after_version = NULL;
	g->rows[g->n].aux = NULL;
	g->n++;
	return 0;
}

static int got_rule(int64_t n, const char *id, const char *title, const char *file, unsigned line,
		    unsigned remediate, void *userdata)
{
	struct got *g = userdata;

	assert_int_equal(n, (int64_t)g->nrules);
	snprintf(g->rules[g->nrules++], sizeof(g->rules[0]), "%s:%s:%u:%u", id, file, line,
		 remediate);
	(void)title;
	return 0;
}

static int got_blind(const struct snap_run_blind *b, void *userdata)
{
	struct got *g = userdata;

	g->nblind++;
	g->blind_err = b->err;
	return 0;
}

static int64_t store_run(struct snap_store *st, int64_t before, int64_t after, const char *cmd,
			 int exit_code)
{
	static const char *const roots[] = { "/etc" };
	struct snap_run_new p = { .command = cmd,
				  .before = before,
				  .after = after,
				  .before_label = "baseline",
				  .after_label = "check-1",
				  .before_baseline = true,
				  .flags = 1,
				  .database = "/x/drift.db",
				  .roots = roots,
				  .nroots = 1 };
	struct snap_run_writer *w = NULL;
	struct snap_run_row row = { .kind = ENTRY_FILE, .key = "/etc/a", .key_len = 6 };
	struct snap_run_blind b = {
		.kind = ENTRY_FILE, .key = "/etc/z", .key_len = 6, .mode = S_IFREG, .err = EACCES
	};
	struct diag d = { 0 };
	int64_t rule = -1, id = 0;

	assert_int_equal(snap_run_begin(st, &p, &w, &d), 0);
	assert_int_equal(
		snap_run_add_rule(w, "etc", "A title", "/etc/policy.yaml", 7, 2, &rule, &d), 0);
	row.change = CHANGE_MODIFIED;
	row.changed = ATTR_HASH | ATTR_MTIME;
	row.judged = true;
	row.class = CLASS_DRIFT;
	row.severity = SEVERITY_HIGH;
	row.attrs = ATTR_HASH;
	row.rule = rule;
	row.reason = "content changed";
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	row.key = "/etc/b";
	row.change = CHANGE_ADDED;
	row.judged = false;
	row.rule = -1;
	row.reason = NULL;
	row.package = "hello:amd64";
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	assert_int_equal(snap_run_add_blind(w, &b, &d), 0);
	assert_int_equal(snap_run_add_note(w, "first note", &d), 0);
	assert_int_equal(snap_run_add_note(w, "second note", &d), 0);
	assert_int_equal(snap_run_commit(w, exit_code, 12, 0, &id, &d), 0);
	return id;
}

static void test_run_round_trip(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_info info = { 0 };
	struct entry e = entry_file("/etc/a");
	struct got g = { 0 };
	struct diag d = { 0 };
	int64_t base, check, id;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	base = write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	check = write_snapshot(st, SNAP_PURPOSE_CHECK, NULL, false, 0, &e, 1, &d);
	assert_true(base > 0 && check > base);
	id = store_run(st, base, check, "check", 5);

	assert_int_equal(snap_run_get(st, 0, &info, &d), 0); /* the newest */
	assert_int_equal(info.id, id);
	assert_string_equal(info.command, "check");
	assert_int_equal(info.before, base);
	assert_int_equal(info.after, check);
	assert_string_equal(info.before_label, "baseline");
	assert_true(info.before_baseline);
	assert_false(info.after_baseline);
	assert_int_equal(info.flags, 1);
	assert_string_equal(info.database, "/x/drift.db");
	assert_int_equal(info.nroots, 1);
	assert_string_equal(info.roots[0], "/etc");
	assert_int_equal(info.nnotes, 2);
	assert_string_equal(info.notes[0], "first note");
	assert_string_equal(info.notes[1], "second note");
	assert_int_equal(info.exit_code, 5);
	assert_int_equal(info.checked, 12);
	assert_int_equal(info.findings, 2);
	assert_int_equal(info.blind, 1);
	snap_run_info_release(&info);

	assert_int_equal(snap_run_rules(st, id, got_rule, &g, &d), 0);
	assert_int_equal(g.nrules, 1);
	assert_string_equal(g.rules[0], "etc:/etc/policy.yaml:7:2");
	assert_int_equal(snap_run_rows(st, id, got_row, &g, &d), 0);
	assert_int_equal(g.n, 2);
	assert_string_equal(g.keys[0], "/etc/a");
	assert_int_equal(g.rows[0].change, CHANGE_MODIFIED);
	assert_true(g.rows[0].judged);
	assert_int_equal(g.rows[0].class, CLASS_DRIFT);
	assert_int_equal(g.rows[0].severity, SEVERITY_HIGH);
	assert_int_equal(g.rows[0].attrs, ATTR_HASH);
	assert_int_equal(g.rows[0].changed, ATTR_HASH | ATTR_MTIME);
	assert_int_equal(g.rows[0].rule, 0);
	assert_string_equal(g.reasons[0], "content changed");
	assert_string_equal(g.keys[1], "/etc/b");
	assert_false(g.rows[1].judged);
	assert_int_equal(g.rows[1].rule, -1);
	assert_int_equal(snap_run_blinds(st, id, got_blind, &g, &d), 0);
	assert_int_equal(g.nblind, 1);
	assert_int_equal(g.blind_err, EACCES);

	assert_int_equal(snap_run_get(st, id + 1, &info, &d), -ENOENT);
	snap_store_free(st);
}

/* A run goes when a snapshot it was made of is pruned; its id is never given again. */
static void test_run_pruned_with_its_snapshot_and_ids_never_repeat(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_info info = { 0 };
	struct entry e = entry_file("/etc/a");
	struct diag d = { 0 };
	int64_t base, c1, c2, r1, r2;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	base = write_snapshot(st, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d);
	c1 = write_snapshot(st, SNAP_PURPOSE_CHECK, NULL, false, 1, &e, 1, &d);
	r1 = store_run(st, base, c1, "check", 0);
	c2 = write_snapshot(st, SNAP_PURPOSE_CHECK, NULL, false, 1, &e, 1, &d); /* prunes c1 */
	assert_true(c2 > c1);
	assert_int_equal(snap_run_get(st, r1, &info, &d), -ENOENT);
	r2 = store_run(st, base, c2, "check", 0);
	assert_true(r2 > r1);
	assert_int_equal(snap_run_get(st, 0, &info, &d), 0);
	assert_int_equal(info.id, r2);
	snap_run_info_release(&info);
	snap_store_free(st);
}

/* Verify runs belong to no snapshot: the newest @keep stay. */
static void test_verify_runs_kept_to_the_newest(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_new p = { .command = "verify", .database = "/var/lib/dpkg" };
	struct snap_run_info info = { 0 };
	struct diag d = { 0 };
	int64_t ids[4];

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	for (int i = 0; i < 4; i++) {
		struct snap_run_writer *w = NULL;

		assert_int_equal(snap_run_begin(st, &p, &w, &d), 0);
		assert_int_equal(snap_run_commit(w, 0, 100, 2, &ids[i], &d), 0);
	}
	assert_int_equal(snap_run_get(st, ids[0], &info, &d), -ENOENT);
	assert_int_equal(snap_run_get(st, ids[1], &info, &d), -ENOENT);
	assert_int_equal(snap_run_get(st, ids[2], &info, &d), 0);
	snap_run_info_release(&info);
	assert_int_equal(snap_run_get(st, ids[3], &info, &d), 0);
	assert_null(info.before_label);
	assert_int_equal(info.nroots, 0);
	snap_run_info_release(&info);
	snap_store_free(st);
}

/* An aborted run leaves nothing; a read-only store cannot start one. */
static void test_run_abort_and_read_only(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_new p = { .command = "diff" };
	struct snap_run_writer *w = NULL;
	struct snap_run_info info = { 0 };
	struct diag d = { 0 };

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(snap_run_begin(st, &p, &w, &d), 0);
	snap_run_abort(w);
	assert_int_equal(snap_run_get(st, 0, &info, &d), -ENOENT);
	snap_store_free(st);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_run_begin(st, &p, &w, &d), -EROFS);
	snap_store_free(st);
}

/*
 * A run of its own (diff, verify) is staged in TEMP tables: another writer
 * (a check's scan) is not held up while it is made, and it lands in one
 * transaction at the end.
 */
static void test_staged_run_takes_no_lock_until_commit(void **state)
{
	struct tmp *t = *state;
	struct snap_store *a = NULL, *b = NULL;
	struct snap_run_new p = { .command = "diff" };
	struct snap_run_writer *w = NULL;
	struct snap_run_row row = { .kind = ENTRY_FILE, .key = "/x", .key_len = 2, .rule = -1 };
	struct snap_run_info info = { 0 };
	struct entry e = entry_file("/etc/a");
	struct diag d = { 0 };
	int64_t id = 0;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &a, &d), 0);
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &b, &d), 0);
	snap_store_set_busy_timeout(b, 0);
	assert_int_equal(snap_run_begin(a, &p, &w, &d), 0);
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	/* Another writer goes ahead at once, and sees no half-made run. */
	assert_true(write_snapshot(b, SNAP_PURPOSE_BASELINE, NULL, false, 0, &e, 1, &d) > 0);
	assert_int_equal(snap_run_get(b, 0, &info, &d), -ENOENT);
	assert_int_equal(snap_run_commit(w, 4, 0, 0, &id, &d), 0);
	assert_int_equal(snap_run_get(b, 0, &info, &d), 0);
	assert_int_equal(info.id, id);
	assert_int_equal(info.findings, 1);
	assert_int_equal(info.exit_code, 4);
	snap_run_info_release(&info);
	snap_store_free(a);
	snap_store_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_run_round_trip, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(
			test_run_pruned_with_its_snapshot_and_ids_never_repeat, tmp_setup,
			tmp_teardown),
		cmocka_unit_test_setup_teardown(test_verify_runs_kept_to_the_newest, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_run_abort_and_read_only, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_staged_run_takes_no_lock_until_commit,
						tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests_name("store/run", tests, NULL, NULL);
}
