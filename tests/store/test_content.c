/* Kept content: dedup, round trip, damage detection, collection, the entry's reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>

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

static struct snap_writer *begin(struct snap_store *st, enum snap_purpose purpose,
				 const char *label)
{
	static const char *const roots[] = { "/" };
	struct snap_new p = { .purpose = purpose,
			      .label = label,
			      .host = "h",
			      .roots = roots,
			      .nroots = 1,
			      .hash = HASH_XXH3_128,
			      .keep = 1 };
	struct snap_writer *w = NULL;
	struct diag d = { 0 };

	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	return w;
}

/* One query's single integer, on a connection of its own. */
static int64_t query_int(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void raw_exec(const char *db_path, const char *sql)
{
	sqlite3 *db = NULL;

	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static const char text[] = "PermitRootLogin no\nPasswordAuthentication no\n"
			   "PermitRootLogin no\nPasswordAuthentication no\n";

static void test_same_bytes_twice_are_one_row(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = begin(f->st, SNAP_PURPOSE_BASELINE, NULL);
	uint8_t id1[32], id2[32], id3[32];
	struct diag d = { 0 };

	assert_int_equal(
		snap_writer_add_content(w, (const uint8_t *)text, sizeof(text) - 1, id1, &d), 0);
	assert_int_equal(
		snap_writer_add_content(w, (const uint8_t *)text, sizeof(text) - 1, id2, &d), 0);
	assert_memory_equal(id1, id2, 32);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"x", 1, id3, &d), 0);
	assert_memory_not_equal(id1, id3, 32);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content"), 2);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content_ref"), 2);
	/* Compressible text is stored compressed. */
	assert_int_equal(query_int(f->t.db, "SELECT codec FROM content WHERE size > 10"), 1);
}

static void test_get_round_trips(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = begin(f->st, SNAP_PURPOSE_BASELINE, NULL);
	uint8_t id[32], idb[32], ide[32], bin[300], *got = NULL;
	size_t len = 0;
	struct diag d = { 0 };

	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 151 + 7);
	assert_int_equal(
		snap_writer_add_content(w, (const uint8_t *)text, sizeof(text) - 1, id, &d), 0);
	assert_int_equal(snap_writer_add_content(w, bin, sizeof(bin), idb, &d), 0);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"", 0, ide, &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);

	assert_int_equal(snap_content_get(f->st, id, &got, &len, &d), 0);
	assert_int_equal(len, sizeof(text) - 1);
	assert_memory_equal(got, text, len);
	free(got);
	assert_int_equal(snap_content_get(f->st, idb, &got, &len, &d), 0);
	assert_int_equal(len, sizeof(bin));
	assert_memory_equal(got, bin, len);
	free(got);
	assert_int_equal(snap_content_get(f->st, ide, &got, &len, &d), 0);
	assert_int_equal(len, 0);
	assert_non_null(got);
	free(got);

	idb[0] ^= 1;
	got = NULL;
	assert_int_equal(snap_content_get(f->st, idb, &got, &len, &d), -ENOENT);
	assert_null(got);
}

static void test_sha_mismatch_is_eproto(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = begin(f->st, SNAP_PURPOSE_BASELINE, NULL);
	uint8_t id[32], *got = NULL;
	size_t len = 0;
	struct diag d = { 0 };

	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"abcd", 4, id, &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	/* Same size, other bytes, stored raw: decodes fine, does not match its id. */
	raw_exec(f->t.db, "UPDATE content SET codec = 0, data = X'61626365'");
	assert_int_equal(snap_content_get(f->st, id, &got, &len, &d), -EPROTO);
	assert_null(got);
	assert_non_null(strstr(d.msg, "SHA-256"));
	/* Garbage in a zstd blob. */
	raw_exec(f->t.db, "UPDATE content SET codec = 1, data = X'00010203'");
	assert_int_equal(snap_content_get(f->st, id, &got, &len, &d), -EPROTO);
}

static void test_collect_removes_unreferenced(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w;
	uint8_t a[32], b[32], *got = NULL;
	size_t len;
	uint64_t freed = 99;
	struct diag d = { 0 };

	/* Two checks (keep 1): the second prunes the first, and its content goes. */
	w = begin(f->st, SNAP_PURPOSE_CHECK, NULL);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"old", 3, a, &d), 0);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"both", 4, b, &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	w = begin(f->st, SNAP_PURPOSE_CHECK, NULL);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"both", 4, b, &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM snapshot"), 1);
	assert_int_equal(snap_content_get(f->st, a, &got, &len, &d), -ENOENT);
	assert_int_equal(snap_content_get(f->st, b, &got, &len, &d), 0);
	free(got);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content"), 1);

	/* A reference left by a snapshot that is gone, and a blob nobody refers to. */
	raw_exec(f->t.db, "INSERT INTO content_ref VALUES (4242, X'00');"
			  "INSERT INTO content VALUES (X'00', 0, 0, X'');"
			  "INSERT INTO content VALUES (X'01', 0, 0, X'')");
	assert_int_equal(snap_content_collect(f->st, &freed, &d), 0);
	assert_int_equal(freed, 2);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content"), 1);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content_ref"), 1);
}

static void test_abort_rolls_content_back(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = begin(f->st, SNAP_PURPOSE_BASELINE, NULL);
	uint8_t id[32];
	struct diag d = { 0 };

	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"gone", 4, id, &d), 0);
	snap_writer_abort(w);
	assert_int_equal(query_int(f->t.db, "SELECT count(*) FROM content"), 0);
}

/* The reference travels with the entry, is not compared, and an entry without one reads so. */
static void test_entry_reference_round_trips_not_compared(void **state)
{
	struct fx *f = *state;
	struct entry e[2] = { entry_file("/etc/a"), entry_file("/etc/b") };
	const struct entry *got;
	struct snap_iter *it = NULL;
	struct snap_writer *w = begin(f->st, SNAP_PURPOSE_BASELINE, NULL);
	struct entry other;
	struct diag d = { 0 };

	entry_set_hash(&e[0], 1);
	entry_set_hash(&e[1], 2);
	assert_int_equal(snap_writer_add_content(w, (const uint8_t *)"a\n", 2, e[0].content_id, &d),
			 0);
	e[0].has_content = true;
	assert_int_equal(snap_writer_add(w, &e[0], &d), 0);
	assert_int_equal(snap_writer_add(w, &e[1], &d), 0);
	assert_int_equal(snap_writer_commit(w, NULL, &d), 0);

	assert_int_equal(snap_iter_new(f->st, 1, ENTRY_FILE, NULL, 0, 0, &it, &d), 0);
	assert_int_equal(snap_iter_next(it, &got, &d), 1);
	assert_true(got->has_content);
	assert_memory_equal(got->content_id, e[0].content_id, 32);
	assert_int_equal(got->collected, 0);
	other = *got;
	other.has_content = false;
	assert_int_equal(snap_entry_diff(got, &other, 0), 0);
	assert_int_equal(snap_iter_next(it, &got, &d), 1);
	assert_false(got->has_content);
	snap_iter_free(it);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_same_bytes_twice_are_one_row),
		T(test_get_round_trips),
		T(test_sha_mismatch_is_eproto),
		T(test_collect_removes_unreferenced),
		T(test_abort_rolls_content_back),
		T(test_entry_reference_round_trips_not_compared),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
