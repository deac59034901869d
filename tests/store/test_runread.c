#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "util.h"

/* Reading a run for the browser (store/runread.c): the lean rows, and one row whole. */

struct lean {
	int64_t seq[4];
	char keys[4][32], pkgs[4][32], after[4][16];
	bool judged[4];
	enum severity sev[4];
	enum verdict_class cls[4];
	size_t n;
};

static int got_lean(const struct snap_run_lean *row, void *userdata)
{
	struct lean *l = userdata;

	assert_true(l->n < 4);
	l->seq[l->n] = row->seq;
	snprintf(l->keys[l->n], sizeof(l->keys[0]), "%.*s", (int)row->key_len, row->key);
	snprintf(l->pkgs[l->n], sizeof(l->pkgs[0]), "%s", row->package ? row->package : "-");
	snprintf(l->after[l->n], sizeof(l->after[0]), "%s",
		 row->after_version ? row->after_version : "-");
	l->judged[l->n] = row->judged;
	l->sev[l->n] = row->severity;
	l->cls[l->n] = row->class;
	l->n++;
	return 0;
}

static int got_whole(const struct snap_run_row *row, void *userdata)
{
	snprintf(userdata, 64, "%.*s %s %lld", (int)row->key_len, row->key,
		 row->reason ? row->reason : "-", (long long)row->rule);
	return 0;
}

static void test_lean_rows_and_one_row(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_new p = { .command = "check", .database = "x" };
	struct snap_run_writer *w = NULL;
	struct snap_run_row row = { .kind = ENTRY_FILE, .key = "/etc/a", .key_len = 6 };
	struct lean l = { 0 };
	struct diag d = { 0 };
	char whole[64] = "";
	int64_t rule = -1, id = 0;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(snap_run_begin(st, &p, &w, &d), 0);
	assert_int_equal(snap_run_add_rule(w, "etc", NULL, "policy.yaml", 3, 0, &rule, &d), 0);
	row.change = CHANGE_MODIFIED;
	row.judged = true;
	row.class = CLASS_EXPECTED;
	row.severity = SEVERITY_CRITICAL;
	row.rule = rule;
	row.reason = "package upgraded";
	row.package = "hello:amd64";
	row.before_version = "1.0";
	row.after_version = "1.1";
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	row = (struct snap_run_row){
		.kind = ENTRY_USER, .key = "alice", .key_len = 5, .change = CHANGE_ADDED, .rule = -1
	};
	assert_int_equal(snap_run_add_row(w, &row, &d), 0);
	assert_int_equal(snap_run_commit(w, 4, 0, 0, &id, &d), 0);

	assert_int_equal(snap_run_rows_lean(st, id, got_lean, &l, &d), 0);
	assert_int_equal(l.n, 2);
	assert_int_equal(l.seq[0], 0);
	assert_int_equal(l.seq[1], 1);
	assert_string_equal(l.keys[0], "/etc/a");
	assert_string_equal(l.pkgs[0], "hello:amd64");
	assert_string_equal(l.after[0], "1.1");
	assert_true(l.judged[0]);
	assert_int_equal(l.sev[0], SEVERITY_CRITICAL);
	assert_int_equal(l.cls[0], CLASS_EXPECTED);
	assert_string_equal(l.keys[1], "alice");
	assert_false(l.judged[1]);
	assert_string_equal(l.pkgs[1], "-");

	assert_int_equal(snap_run_row_get(st, id, 0, got_whole, whole, &d), 1);
	assert_string_equal(whole, "/etc/a package upgraded 0");
	assert_int_equal(snap_run_row_get(st, id, 1, got_whole, whole, &d), 1);
	assert_string_equal(whole, "alice - -1");
	assert_int_equal(snap_run_row_get(st, id, 2, got_whole, whole, &d), 0);
	assert_int_equal(snap_run_row_get(st, id + 1, 0, got_whole, whole, &d), 0);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lean_rows_and_one_row, tmp_setup,
						tmp_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
