#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../store/util.h"
#include "compare/compare.h"

/*
 * Which findings of a stored run an acceptance takes by event or --all
 * (compare/accept.c), read from the run's rows only.
 */

struct row_spec {
	enum entry_kind kind;
	const char *key;
	enum verdict_class class;
	const char *package, *before_version, *after_version;
};

static const struct row_spec rows[] = {
	{ ENTRY_FILE, "/etc/drifted", CLASS_DRIFT, NULL, NULL, NULL },
	{ ENTRY_FILE, "/usr/bin/hello", CLASS_EXPECTED, "hello:amd64", "1.0", "1.1" },
	{ ENTRY_FILE, "/usr/share/hello/x", CLASS_DRIFT, "hello:amd64", "1.0", "1.1" },
	/* Owned by a package that did not change version: no event. */
	{ ENTRY_FILE, "/usr/bin/other", CLASS_DRIFT, "other:amd64", "2.0", "2.0" },
	{ ENTRY_PACKAGE, "hello:amd64", CLASS_EXPECTED, NULL, NULL, NULL },
	{ ENTRY_PACKAGE, "hellox:amd64", CLASS_EXPECTED, NULL, NULL, NULL },
};

static void make_run(struct tmp *t, struct snap_store **ret_st, struct snap_run_info *ret_run)
{
	struct snap_run_new rn = { 0 };
	struct snap_run_writer *w = NULL;
	struct diag d = { 0 };
	int64_t id = 0;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, ret_st, &d), 0);
	rn.command = "check";
	assert_int_equal(snap_run_begin(*ret_st, &rn, &w, &d), 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct snap_run_row r = { 0 };

		r.kind = rows[i].kind;
		r.key = rows[i].key;
		r.key_len = strlen(rows[i].key);
		r.change = CHANGE_MODIFIED;
		r.judged = true;
		r.class = rows[i].class;
		r.rule = -1;
		r.package = rows[i].package;
		r.before_version = rows[i].before_version;
		r.after_version = rows[i].after_version;
		assert_int_equal(snap_run_add_row(w, &r, &d), 0);
	}
	assert_int_equal(snap_run_commit(w, 4, 0, 0, &id, &d), 0);
	assert_int_equal(snap_run_get(*ret_st, id, ret_run, &d), 0);
}

static void assert_keys(const struct compare_keys *k, const char *const *want, size_t n)
{
	assert_int_equal(k->n, n);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(k->v[i].key_len, strlen(want[i]));
		assert_memory_equal(k->v[i].key, want[i], k->v[i].key_len);
	}
}

static void test_event_keys(void **state)
{
	static const char *const want[] = { "/usr/bin/hello", "/usr/share/hello/x", "hello:amd64" };
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct compare_keys k = { 0 };
	struct diag d = { 0 };

	make_run(t, &st, &run);
	assert_int_equal(compare_event_keys(st, &run, "package:hello", &k, &d), 0);
	assert_keys(&k, want, 3);
	assert_int_equal(k.v[2].kind, ENTRY_PACKAGE);
	compare_keys_release(&k);
	assert_int_equal(compare_event_keys(st, &run, "package:other", &k, &d), -ENOENT);
	assert_int_equal(compare_event_keys(st, &run, "package:nope", &k, &d), -ENOENT);
	assert_int_equal(compare_event_keys(st, &run, "user:alice", &k, &d), -EOPNOTSUPP);
	assert_int_equal(compare_event_keys(st, &run, "hello", &k, &d), -EINVAL);
	assert_int_equal(compare_event_keys(st, &run, "package:", &k, &d), -EINVAL);
	assert_int_equal(k.n, 0);
	snap_run_info_release(&run);
	snap_store_free(st);
}

static void test_counted_keys(void **state)
{
	static const char *const want[] = { "/etc/drifted", "/usr/share/hello/x",
					    "/usr/bin/other" };
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct compare_keys k = { 0 };
	struct diag d = { 0 };

	make_run(t, &st, &run);
	assert_int_equal(compare_counted_keys(st, &run, &k, &d), 0);
	assert_keys(&k, want, 3);
	compare_keys_release(&k);
	/* A run that counted expected findings: every one. */
	run.count_expected = true;
	assert_int_equal(compare_counted_keys(st, &run, &k, &d), 0);
	assert_int_equal(k.n, sizeof(rows) / sizeof(rows[0]));
	compare_keys_release(&k);
	snap_run_info_release(&run);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_event_keys, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_counted_keys, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests_name("compare/accept", tests, NULL, NULL);
}
