/* Iterating over a snapshot: byte order, root filtering, errors-only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/store/util.h"

#define ISENTINEL ((struct snap_iter *)(uintptr_t)0x5eed)

/* Sorted: the order every iteration must return. */
static const char *const keys[] = {
	"/",  "/a",   "/a-b",   "/a-b/c", "/a.b", "/a/x",      "/a/x/y", "/a0",     "/ab",
	"/b", "/b/c", "/b/c/d", "/c",     "/c/z", "/\xc3\xa9", "/\xff",  "/\xff/x",
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

struct fx {
	struct tmp t; /* first: tmp_teardown frees the whole struct */
	struct snap_store *st;
	int64_t id, other;
};

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	if (f)
		snap_store_free(f->st);
	return tmp_teardown(state);
}

static int fx_setup(void **state)
{
	struct entry v[NKEYS], w[2];
	struct fx *f;

	if (tmp_setup(state) < 0)
		return -1;
	f = realloc(*state, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	f->st = NULL;
	if (snap_store_open(f->t.db, SNAP_OPEN_WRITE, &f->st, NULL) < 0)
		goto fail;
	/* Written in reverse: the order comes from the store, not the writer. */
	for (size_t i = 0; i < NKEYS; i++) {
		v[i] = entry_file(keys[NKEYS - 1 - i]);
		/* "/a/x" and "/b/c/d" and "/\xff" have errors. */
		if (!strcmp(v[i].key, "/a/x") || !strcmp(v[i].key, "/b/c/d") ||
		    !strcmp(v[i].key, "/\xff"))
			v[i].err = EACCES;
	}
	f->id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "one", false, 0, v, NKEYS, NULL);
	/* Another snapshot and another kind must never leak into "one". */
	w[0] = entry_file("/a/other");
	w[1] = entry_file("/a/zz");
	w[1].kind = (enum entry_kind)2;
	f->other = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "two", false, 0, w, 2, NULL);
	if (f->id < 0 || f->other < 0)
		goto fail;
	return 0;
fail:
	fx_teardown(state);
	return -1;
}

/* Iterate and compare with the expected keys, in order. */
static void expect_keys(struct snap_store *st, int64_t id, enum entry_kind kind,
			const char *const *roots, size_t nroots, unsigned flags,
			const char *const *want, size_t nwant)
{
	struct snap_iter *it = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	size_t n = 0;
	int r;

	assert_int_equal(snap_iter_new(st, id, kind, roots, nroots, flags, &it, &d), 0);
	while ((r = snap_iter_next(it, &e, &d)) > 0) {
		if (n >= nwant)
			fail_msg("unexpected extra key '%.*s'", (int)e->key_len, e->key);
		if (e->key_len != strlen(want[n]) || memcmp(e->key, want[n], e->key_len))
			fail_msg("key %zu: got '%.*s', want '%s'", n, (int)e->key_len, e->key,
				 want[n]);
		n++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(n, nwant);
	/* At the end it stays at the end. */
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);
}

static void test_iter_all_entries_in_byte_order(void **state)
{
	struct fx *f = *state;

	expect_keys(f->st, f->id, ENTRY_FILE, NULL, 0, 0, keys, NKEYS);
}

static void test_iter_root_slash_is_everything(void **state)
{
	struct fx *f = *state;
	static const char *const roots[] = { "/a", "/" };
	static const char *const slashes[] = { "//" };

	expect_keys(f->st, f->id, ENTRY_FILE, roots, 2, 0, keys, NKEYS);
	expect_keys(f->st, f->id, ENTRY_FILE, slashes, 1, 0, keys, NKEYS);
}

static void test_iter_root_excludes_siblings_with_the_same_prefix(void **state)
{
	struct fx *f = *state;
	static const char *const roots[] = { "/a" };
	static const char *const want[] = { "/a", "/a/x", "/a/x/y" };
	static const char *const trailing[] = { "/a/" };

	expect_keys(f->st, f->id, ENTRY_FILE, roots, 1, 0, want, 3);
	expect_keys(f->st, f->id, ENTRY_FILE, trailing, 1, 0, want, 3);
}

static void test_iter_roots_interleave_in_global_order(void **state)
{
	struct fx *f = *state;
	/* "/a-b" sorts between "/a" and "/a/x": the stream must interleave. */
	static const char *const roots[] = { "/a-b", "/a" };
	static const char *const want[] = { "/a", "/a-b", "/a-b/c", "/a/x", "/a/x/y" };
	static const char *const roots2[] = { "/\xff", "/b/c", "/ab" };
	static const char *const want2[] = { "/ab", "/b/c", "/b/c/d", "/\xff", "/\xff/x" };

	expect_keys(f->st, f->id, ENTRY_FILE, roots, 2, 0, want, 5);
	expect_keys(f->st, f->id, ENTRY_FILE, roots2, 3, 0, want2, 5);
}

static void test_iter_nested_and_duplicate_roots_give_each_entry_once(void **state)
{
	struct fx *f = *state;
	static const char *const roots[] = { "/a/x", "/a", "/a-b", "/a/x/y", "/a", "/a-b/c" };
	static const char *const want[] = { "/a", "/a-b", "/a-b/c", "/a/x", "/a/x/y" };

	expect_keys(f->st, f->id, ENTRY_FILE, roots, 6, 0, want, 5);
}

static void test_iter_root_without_entries_or_only_below(void **state)
{
	struct fx *f = *state;
	static const char *const none[] = { "/nope" };
	static const char *const leaf[] = { "/a/x/y" };
	static const char *const want[] = { "/a/x/y" };

	expect_keys(f->st, f->id, ENTRY_FILE, none, 1, 0, NULL, 0);
	expect_keys(f->st, f->id, ENTRY_FILE, leaf, 1, 0, want, 1);
}

static void test_iter_errors_only(void **state)
{
	struct fx *f = *state;
	static const char *const want[] = { "/a/x", "/b/c/d", "/\xff" };
	static const char *const roots[] = { "/b" };
	static const char *const want_b[] = { "/b/c/d" };

	expect_keys(f->st, f->id, ENTRY_FILE, NULL, 0, SNAP_ITER_ERRORS_ONLY, want, 3);
	expect_keys(f->st, f->id, ENTRY_FILE, roots, 1, SNAP_ITER_ERRORS_ONLY, want_b, 1);
}

static void test_iter_keeps_snapshots_and_kinds_apart(void **state)
{
	struct fx *f = *state;
	static const char *const want_file[] = { "/a/other" };
	static const char *const want_kind2[] = { "/a/zz" };
	static const char *const roots[] = { "/a" };

	expect_keys(f->st, f->other, ENTRY_FILE, NULL, 0, 0, want_file, 1);
	expect_keys(f->st, f->other, (enum entry_kind)2, NULL, 0, 0, want_kind2, 1);
	expect_keys(f->st, f->other, ENTRY_FILE, roots, 1, 0, want_file, 1);
}

static void test_iter_new_refuses_missing_snapshot_and_empty_root(void **state)
{
	struct fx *f = *state;
	struct snap_iter *it = ISENTINEL;
	static const char *const roots[] = { "/a", "" };
	struct diag d = { 0 };

	assert_int_equal(snap_iter_new(f->st, 999, ENTRY_FILE, NULL, 0, 0, &it, &d), -ENOENT);
	assert_string_equal(d.msg, "no snapshot 999");
	assert_int_equal(snap_iter_new(f->st, f->id, ENTRY_FILE, roots, 2, 0, &it, &d), -EINVAL);
	assert_ptr_equal(it, ISENTINEL);
	snap_iter_free(NULL);
}

static void test_iter_two_at_once_on_one_store(void **state)
{
	struct fx *f = *state;
	struct snap_iter *a = NULL, *b = NULL;
	const struct entry *ea, *eb;
	struct diag d = { 0 };

	assert_int_equal(snap_iter_new(f->st, f->id, ENTRY_FILE, NULL, 0, 0, &a, &d), 0);
	assert_int_equal(snap_iter_new(f->st, f->id, ENTRY_FILE, NULL, 0, 0, &b, &d), 0);
	for (size_t i = 0; i < NKEYS; i++) {
		assert_int_equal(snap_iter_next(a, &ea, &d), 1);
		assert_int_equal(snap_iter_next(b, &eb, &d), 1);
		/* Both borrowed entries stay valid side by side. */
		assert_int_equal(ea->key_len, eb->key_len);
		assert_memory_equal(ea->key, eb->key, ea->key_len);
		assert_memory_equal(ea->key, keys[i], ea->key_len);
	}
	snap_iter_free(a);
	snap_iter_free(b);
}

#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_iter_all_entries_in_byte_order),
		T(test_iter_root_slash_is_everything),
		T(test_iter_root_excludes_siblings_with_the_same_prefix),
		T(test_iter_roots_interleave_in_global_order),
		T(test_iter_nested_and_duplicate_roots_give_each_entry_once),
		T(test_iter_root_without_entries_or_only_below),
		T(test_iter_errors_only),
		T(test_iter_keeps_snapshots_and_kinds_apart),
		T(test_iter_new_refuses_missing_snapshot_and_empty_root),
		T(test_iter_two_at_once_on_one_store),
	};
	return cmocka_run_group_tests_name("store/iter", tests, NULL, NULL);
}
