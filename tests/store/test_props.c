/* Entries of system state: every kind, their props, through writer, iterator, lookup and diff. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "common/strbuf.h"
#include "tests/store/util.h"

struct fx {
	struct tmp t; /* first: tmp_teardown frees the whole struct */
	struct snap_store *st;
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
	struct fx *f;

	if (tmp_setup(state) < 0)
		return -1;
	f = realloc(*state, sizeof(*f));
	if (!f)
		return -1;
	*state = f;
	f->st = NULL;
	if (snap_store_open(f->t.db, SNAP_OPEN_WRITE, &f->st, NULL) < 0) {
		fx_teardown(state);
		return -1;
	}
	return 0;
}

/* Encode "name=value" pairs (a NULL-terminated list) into @sb. */
static void props_encode(struct strbuf *sb, const char *const *pairs)
{
	struct entry_prop p[16];
	size_t n = 0;

	for (; pairs[n]; n++) {
		const char *eq = strchr(pairs[n], '=');
		static char names[16][64];

		assert_non_null(eq);
		assert_true(n < 16 && (size_t)(eq - pairs[n]) < sizeof(names[0]));
		memcpy(names[n], pairs[n], (size_t)(eq - pairs[n]));
		names[n][eq - pairs[n]] = '\0';
		p[n] = (struct entry_prop){ names[n], eq + 1, strlen(eq + 1) };
	}
	assert_int_equal(entry_props_encode(sb, p, n), 0);
}

/* An entry of @kind keyed by @key (@len bytes), with @props (may be empty). */
static struct entry entry_state(enum entry_kind kind, const char *key, size_t len,
				const struct strbuf *props)
{
	struct entry e = { 0 };

	e.kind = kind;
	e.key = key;
	e.key_len = len;
	if (props && props->len) {
		e.props = (const uint8_t *)props->buf;
		e.props_len = props->len;
	}
	return e;
}

static const char *const bash_v1[] = { "version=5.2-15", "status=installed", "arch=amd64", NULL };
static const char *const bash_v2[] = { "version=5.2-16", "status=installed", "arch=amd64", NULL };
static const char *const root_user[] = { "uid=0", "gid=0", "home=/root", "shell=/bin/bash", NULL };

static void test_props_round_trip_through_writer_iterator_and_lookup(void **state)
{
	struct fx *f = *state;
	struct strbuf pb = STRBUF_INIT, pu = STRBUF_INIT;
	struct entry v[4];
	struct snap_iter *it = NULL;
	struct snap_lookup *lk = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	int64_t id;

	props_encode(&pb, bash_v1);
	props_encode(&pu, root_user);
	v[0] = entry_file("/etc/passwd");
	v[1] = entry_state(ENTRY_PACKAGE, "bash:amd64", 10, &pb);
	v[2] = entry_state(ENTRY_USER, "root", 4, &pu);
	v[3] = entry_state(ENTRY_PACKAGE, "zz:all", 6, NULL); /* no props at all */
	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "one", false, 0, v, 4, &d);
	assert_true(id > 0);

	assert_int_equal(snap_iter_new(f->st, id, ENTRY_PACKAGE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_int_equal(e->kind, ENTRY_PACKAGE);
	assert_int_equal(e->key_len, 10);
	assert_memory_equal(e->key, "bash:amd64", 10);
	assert_int_equal(e->props_len, pb.len);
	assert_memory_equal(e->props, pb.buf, pb.len);
	assert_int_equal(e->collected, ATTR_PROPS);
	assert_int_equal(e->mode, 0);
	assert_int_equal(e->hash_algo, HASH_NONE);
	{
		const uint8_t *val;
		size_t vlen;

		assert_int_equal(entry_xattrs_get(e->props, e->props_len, "version", &val, &vlen),
				 1);
		assert_int_equal(vlen, 6);
		assert_memory_equal(val, "5.2-15", 6);
	}
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_memory_equal(e->key, "zz:all", 6);
	assert_null(e->props);
	assert_int_equal(e->props_len, 0);
	assert_int_equal(e->collected, ATTR_PROPS);
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);

	/* A file has no props and no ATTR_PROPS. */
	assert_int_equal(snap_iter_new(f->st, id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 1);
	assert_null(e->props);
	assert_int_equal(e->collected, 0);
	assert_int_equal(snap_iter_next(it, &e, &d), 0);
	snap_iter_free(it);

	/* Point lookups hand back the props too, until the next call. */
	assert_int_equal(snap_lookup_open(f->t.db, id, &lk, &d), 0);
	assert_int_equal(snap_lookup_get(lk, ENTRY_USER, "root", 4, &e, &d), 1);
	assert_int_equal(e->props_len, pu.len);
	assert_memory_equal(e->props, pu.buf, pu.len);
	assert_int_equal(e->collected, ATTR_PROPS);
	assert_int_equal(snap_lookup_get(lk, ENTRY_USER, "nobody", 6, &e, &d), 0);
	assert_int_equal(snap_lookup_get(lk, ENTRY_PACKAGE, "bash:amd64", 10, &e, &d), 1);
	assert_memory_equal(e->props, pb.buf, pb.len);
	assert_int_equal(snap_lookup_get(lk, ENTRY_FILE, "/etc/passwd", 11, &e, &d), 1);
	assert_null(e->props);
	assert_int_equal(e->size, 1234);
	/* A kind is part of the key: a user is not a package. */
	assert_int_equal(snap_lookup_get(lk, ENTRY_PACKAGE, "root", 4, &e, &d), 0);
	snap_lookup_free(lk);

	strbuf_release(&pb);
	strbuf_release(&pu);
}

static void test_writer_add_file_without_props_stores_no_ext(void **state)
{
	struct fx *f = *state;
	struct entry e = entry_file("/bin/sh");
	struct diag d = { 0 };
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t id;

	entry_set_hash(&e, 3);
	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "files", false, 0, &e, 1, &d);
	assert_true(id > 0);
	/* The whole block is the record and nothing optional: raw it is a
	 * codec byte, a length byte and a 35-byte record at most (no ext). */
	assert_int_equal(sqlite3_open_v2(f->t.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT data FROM block", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_true(sqlite3_column_bytes(s, 0) <= 2 + 7 + 11 * 3 + 1 + 16 + 10);
	sqlite3_finalize(s);
	sqlite3_close(db);
	{
		struct snap_iter *it = NULL;
		const struct entry *got;

		assert_int_equal(snap_iter_new(f->st, id, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
		assert_int_equal(snap_iter_next(it, &got, &d), 1);
		assert_int_equal(got->collected, 0);
		assert_null(got->props);
		snap_iter_free(it);
	}
}

static void test_writer_add_refuses_bad_kind_and_malformed_props(void **state)
{
	struct fx *f = *state;
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct strbuf pb = STRBUF_INIT;
	struct entry e;
	struct diag d = { 0 };
	static const uint8_t bad[] = { 5, 0, 0, 0, 'a' }; /* truncated pair */
	struct snap_info info = { 0 };

	props_encode(&pb, bash_v1);
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "bad";
	p.hash = HASH_XXH3_128;
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);

	e = entry_state((enum entry_kind)0, "x", 1, &pb);
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	e = entry_state((enum entry_kind)(ENTRY__KIND_MAX + 1), "x", 1, &pb);
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	e = entry_state(ENTRY_SYSCTL, "kernel.x", 8, NULL);
	e.props = bad;
	e.props_len = sizeof(bad);
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "properties"));
	/* Unknown collected bits are refused; ATTR_PROPS is fine. */
	e = entry_state(ENTRY_SYSCTL, "kernel.x", 8, &pb);
	e.collected = 1u << 30;
	assert_int_equal(snap_writer_add(w, &e, &d), -EINVAL);
	e.collected = ATTR_PROPS;
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	/* The same key in another kind is another entry. */
	e.kind = ENTRY_MODULE;
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	assert_int_equal(info.entries, 2);
	snap_info_release(&info);

	/* The same key twice in one kind: refused when the entries are
	 * sorted (at commit), named, and nothing is stored. */
	p.label = "dup";
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	e.kind = ENTRY_SYSCTL;
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), -EINVAL);
	assert_non_null(strstr(d.msg, "duplicate sysctl key"));
	assert_int_equal(snap_find(f->st, "dup", &info, &d), -ENOENT);
	strbuf_release(&pb);
}

/* Every kind, stored side by side, comes back separately in key order. */
static void test_iter_every_kind_separately_in_key_order(void **state)
{
	struct fx *f = *state;
	/* Keys in no particular order, arbitrary bytes included. */
	static const char *const keys[] = { "b",     "a\xff", "a",  "B",        "tcp/0.0.0.0:22",
					    "\x01z", "a b",   "zz", "\xff\xfe", "a/b" };
	enum { NKEYS = sizeof(keys) / sizeof(keys[0]) };
	struct entry v[ENTRY__KIND_MAX * NKEYS];
	struct strbuf props[ENTRY__KIND_MAX * NKEYS];
	char val[ENTRY__KIND_MAX * NKEYS][16];
	struct diag d = { 0 };
	size_t n = 0;
	int64_t id;

	for (int kind = ENTRY_FILE; kind <= ENTRY__KIND_MAX; kind++) {
		for (size_t i = 0; i < NKEYS; i++) {
			struct entry_prop p;

			strbuf_init(&props[n]);
			snprintf(val[n], sizeof(val[n]), "%d/%zu", kind, i);
			p = (struct entry_prop){ "k", val[n], strlen(val[n]) };
			assert_int_equal(entry_props_encode(&props[n], &p, 1), 0);
			v[n] = entry_state((enum entry_kind)kind, keys[i], strlen(keys[i]),
					   kind == ENTRY_FILE ? NULL : &props[n]);
			n++;
		}
	}
	id = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "kinds", false, 0, v, n, &d);
	assert_true(id > 0);

	for (int kind = ENTRY_FILE; kind <= ENTRY__KIND_MAX; kind++) {
		struct snap_iter *it = NULL;
		const struct entry *e;
		char prev[32] = "";
		size_t prev_len = 0, count = 0;
		int r;

		assert_int_equal(
			snap_iter_new(f->st, id, (enum entry_kind)kind, NULL, 0, 0, &it, &d), 0);
		while ((r = snap_iter_next(it, &e, &d)) > 0) {
			char want[16];
			size_t i;

			assert_int_equal(e->kind, kind);
			if (count > 0)
				assert_true(snap_key_compare(prev, prev_len, e->key, e->key_len) <
					    0);
			assert_true(e->key_len < sizeof(prev));
			memcpy(prev, e->key, e->key_len);
			prev_len = e->key_len;
			/* The props are this kind's, for this key. */
			for (i = 0; i < NKEYS; i++)
				if (strlen(keys[i]) == e->key_len &&
				    !memcmp(keys[i], e->key, e->key_len))
					break;
			assert_true(i < NKEYS);
			snprintf(want, sizeof(want), "%d/%zu", kind, i);
			if (kind == ENTRY_FILE) {
				assert_null(e->props);
			} else {
				const uint8_t *value;
				size_t vlen;

				assert_int_equal(entry_xattrs_get(e->props, e->props_len, "k",
								  &value, &vlen),
						 1);
				assert_int_equal(vlen, strlen(want));
				assert_memory_equal(value, want, vlen);
			}
			count++;
		}
		assert_int_equal(r, 0);
		assert_int_equal(count, NKEYS);
		snap_iter_free(it);
	}
	for (size_t i = 0; i < n; i++)
		strbuf_release(&props[i]);
}

struct seen {
	int added, removed, modified;
	uint32_t attrs;
	char key[32];
};

static int collect(const struct deviation *dv, void *userdata)
{
	struct seen *s = userdata;
	const struct entry *e = dv->after ? dv->after : dv->before;

	if (dv->change == CHANGE_ADDED)
		s->added++;
	else if (dv->change == CHANGE_REMOVED)
		s->removed++;
	else
		s->modified++;
	s->attrs |= dv->attrs;
	snprintf(s->key, sizeof(s->key), "%.*s", (int)e->key_len, e->key);
	return 0;
}

static void test_compare_props_change_is_attr_props(void **state)
{
	struct fx *f = *state;
	struct strbuf b1 = STRBUF_INIT, b2 = STRBUF_INIT, pu = STRBUF_INIT;
	struct entry v1[3], v2[3];
	struct snap_iter *a = NULL, *b = NULL;
	struct seen seen = { 0 };
	struct diag d = { 0 };
	int64_t id1, id2;

	props_encode(&b1, bash_v1);
	props_encode(&b2, bash_v2);
	props_encode(&pu, root_user);
	v1[0] = entry_state(ENTRY_PACKAGE, "bash:amd64", 10, &b1);
	v1[1] = entry_state(ENTRY_PACKAGE, "dash:amd64", 10, &b1);
	v1[2] = entry_state(ENTRY_PACKAGE, "gone:amd64", 10, &pu);
	v2[0] = entry_state(ENTRY_PACKAGE, "bash:amd64", 10, &b2);
	v2[1] = entry_state(ENTRY_PACKAGE, "dash:amd64", 10, &b1);
	v2[2] = entry_state(ENTRY_USER, "gone:amd64", 10, &pu); /* another kind */
	id1 = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "p1", false, 0, v1, 3, &d);
	id2 = write_snapshot(f->st, SNAP_PURPOSE_SCAN, "p2", false, 0, v2, 3, &d);
	assert_true(id1 > 0 && id2 > 0);

	assert_int_equal(snap_iter_new(f->st, id1, ENTRY_PACKAGE, NULL, 0, 0, &a, &d), 0);
	assert_int_equal(snap_iter_new(f->st, id2, ENTRY_PACKAGE, NULL, 0, 0, &b, &d), 0);
	assert_int_equal(snap_compare(a, b, 0, collect, &seen, &d), 0);
	snap_iter_free(a);
	snap_iter_free(b);
	assert_int_equal(seen.modified, 1);
	assert_int_equal(seen.removed, 1);
	assert_int_equal(seen.added, 0);
	assert_int_equal(seen.attrs, ATTR_PROPS);

	/* snap_entry_diff directly: no props and empty props are equal; a
	 * props change is ATTR_PROPS even with SNAP_COMPARE_ALL; files
	 * without props are unaffected. */
	{
		struct entry x = entry_state(ENTRY_SYSCTL, "k", 1, NULL);
		struct entry y = x;
		struct entry fa = entry_file("/a"), fb = entry_file("/a");

		y.props = (const uint8_t *)"";
		assert_int_equal(snap_entry_diff(&x, &y, 0), 0);
		y = entry_state(ENTRY_SYSCTL, "k", 1, &b1);
		assert_int_equal(snap_entry_diff(&x, &y, 0), ATTR_PROPS);
		assert_int_equal(snap_entry_diff(&y, &x, SNAP_COMPARE_ALL), ATTR_PROPS);
		x = entry_state(ENTRY_SYSCTL, "k", 1, &b2);
		assert_int_equal(snap_entry_diff(&x, &y, 0), ATTR_PROPS);
		x = y;
		assert_int_equal(snap_entry_diff(&x, &y, 0), 0);
		assert_int_equal(snap_entry_diff(&fa, &fb, SNAP_COMPARE_ALL), 0);
		fb.size++;
		assert_int_equal(snap_entry_diff(&fa, &fb, 0), ATTR_SIZE);
	}
	strbuf_release(&b1);
	strbuf_release(&b2);
	strbuf_release(&pu);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_props_round_trip_through_writer_iterator_and_lookup),
		T(test_writer_add_file_without_props_stores_no_ext),
		T(test_writer_add_refuses_bad_kind_and_malformed_props),
		T(test_iter_every_kind_separately_in_key_order),
		T(test_compare_props_change_is_attr_props),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
