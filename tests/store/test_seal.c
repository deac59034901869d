#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "util.h"

/*
 * Seals (store/seal.c): key files, the chain over what the store writes,
 * verification of edits made behind the store's back, key evolution, and
 * the first seals of a database migrated from schema 7.
 */

static void raw_exec(const char *db, const char *sql)
{
	sqlite3 *h = NULL;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_exec(h, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
}

static int64_t raw_int(const char *db, const char *sql)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(db, &h), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(h, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(h);
	return v;
}

struct problems {
	unsigned n;
	char first[512];
};

static int collect(void *userdata, int64_t seq, const char *msg)
{
	struct problems *p = userdata;

	(void)seq;
	if (!p->n++)
		snprintf(p->first, sizeof(p->first), "%s", msg);
	return 0;
}

static void verify(const char *db, const struct snap_seal_key *key, struct problems *p,
		   struct snap_seal_verify_stats *stats)
{
	struct snap_seal_verify_opts o = { .key = key };
	struct snap_store *st = NULL;
	struct diag d = { 0 };

	memset(p, 0, sizeof(*p));
	assert_int_equal(snap_store_open(db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_seal_verify(st, &o, collect, p, stats, &d), 0);
	snap_store_free(st);
}

static void two_snapshots(const char *db, struct snap_seal_key *key)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct entry e[2] = { entry_file("/a"), entry_file("/b") };

	assert_int_equal(snap_store_open(db, SNAP_OPEN_WRITE, &st, &d), 0);
	if (key)
		snap_store_set_seal_key(st, key);
	assert_true(write_snapshot(st, SNAP_PURPOSE_BASELINE, "baseline", false, 0, e, 2, &d) > 0);
	e[1].size = 99;
	assert_true(write_snapshot(st, SNAP_PURPOSE_CHECK, NULL, false, 10, e, 2, &d) > 0);
	snap_store_free(st);
}

static void test_key_file(void **state)
{
	struct tmp *t = *state;
	struct snap_seal_key *k = NULL;
	struct diag d = { 0 };
	char path[192], bad[192];

	snprintf(path, sizeof(path), "%s/seal.key", t->dir);
	assert_int_equal(snap_seal_key_create(path, 0, &d), 0);
	assert_int_equal(snap_seal_key_create(path, 0, &d), -EEXIST);
	assert_int_equal(snap_seal_key_load(path, &k, &d), 0);
	assert_int_equal(snap_seal_key_epoch(k), 0);
	/* Now is epoch 0; a day later, 1; before the origin, none. */
	int64_t now = (int64_t)time(NULL) * 1000000000;
	assert_int_equal(snap_seal_key_epoch_of(k, now), 0);
	assert_int_equal(snap_seal_key_epoch_of(k, now + 86400LL * 1000000000), 1);
	assert_int_equal(snap_seal_key_epoch_of(k, now - 86400LL * 1000000000), -1);
	snap_seal_key_free(k);

	static const char *const broken[] = {
		"",
		"not a key\n",
		"drift-seal-key 1\norigin 1\nperiod 86400\nepoch 0\n",
		"drift-seal-key 1\norigin 1\nperiod 86400\nepoch 0\nkey 00\n",
		"drift-seal-key 1\norigin 1\nperiod 10\nepoch 0\nkey "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"drift-seal-key 1\norigin x\nperiod 86400\nepoch 0\nkey "
		"0000000000000000000000000000000000000000000000000000000000000000\n",
		"drift-seal-key 1\nwhat 1\n",
	};
	snprintf(bad, sizeof(bad), "%s/bad.key", t->dir);
	for (size_t i = 0; i < sizeof(broken) / sizeof(broken[0]); i++) {
		unlink(bad);
		assert_int_equal(file_write(bad, broken[i], strlen(broken[i])), 0);
		k = NULL;
		assert_int_equal(snap_seal_key_load(bad, &k, &d), -EINVAL);
		assert_null(k);
		assert_true(strstr(d.msg, "bad.key") != NULL);
	}
	/* A directory is no key file. */
	assert_int_equal(snap_seal_key_load(t->dir, &k, &d), -EINVAL);
	assert_int_equal(snap_seal_key_load("/nonexistent/key", &k, &d), -ENOENT);
}

static void test_chain_verifies_and_finds_edits(void **state)
{
	struct tmp *t = *state;
	struct snap_seal_verify_stats stats;
	struct problems p;

	two_snapshots(t->db, NULL);
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 0);
	/* Two snapshots and the baseline pointer; the second is a check. */
	assert_int_equal(stats.seals, 3);
	assert_int_equal(stats.problems, 0);
	assert_int_equal(stats.head_seq, 3);

	raw_exec(t->db, "UPDATE snapshot SET host = 'elsewhere' WHERE id = 2");
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 1);
	assert_string_equal(p.first, "snapshot 2: altered since it was sealed (seal 3)");

	raw_exec(t->db, "UPDATE snapshot SET host = 'testhost' WHERE id = 2");
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 0);

	raw_exec(t->db, "UPDATE seal SET at = at + 1 WHERE seq = 2");
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.first, "seal 2 (the baseline pointer): does not follow"));
}

static void test_key_evolves_and_authenticates(void **state)
{
	struct tmp *t = *state;
	struct snap_seal_verify_stats stats;
	struct snap_seal_key *k = NULL, *first = NULL, *now = NULL;
	struct problems p;
	struct diag d = { 0 };
	char path[192], text[512];
	size_t len = 0;
	char *buf;

	snprintf(path, sizeof(path), "%s/seal.key", t->dir);
	assert_int_equal(snap_seal_key_create(path, 0, &d), 0);
	/* Its origin two days back: seals made now are of epoch 2. */
	buf = file_slurp(path, &len);
	assert_non_null(buf);
	buf[len] = '\0'; /* file_slurp() leaves room for it */
	char *o = strstr(buf, "origin ");
	assert_non_null(o);
	long long origin = strtoll(o + 7, NULL, 10);
	char *rest = strchr(o, '\n');
	snprintf(text, sizeof(text), "%.*sorigin %lld%s", (int)(o - buf), buf, origin - 2 * 86400,
		 rest);
	free(buf);
	unlink(path);
	assert_int_equal(file_write(path, text, strlen(text)), 0);
	assert_int_equal(snap_seal_key_load(path, &first, &d), 0);
	assert_int_equal(snap_seal_key_load(path, &k, &d), 0);

	two_snapshots(t->db, k); /* the store owns k */
	assert_int_equal(raw_int(t->db, "SELECT count(*) FROM seal WHERE mac IS NULL"), 0);
	assert_int_equal(raw_int(t->db, "SELECT min(epoch) FROM seal"), 2);
	/* The file moved to epoch 2: the key of epoch 0 is gone from the host. */
	assert_int_equal(snap_seal_key_load(path, &now, &d), 0);
	assert_int_equal(snap_seal_key_epoch(now), 2);

	verify(t->db, first, &p, &stats);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.authenticated, 3);
	verify(t->db, now, &p, &stats);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.authenticated, 3);

	/* A MAC removed is found with the key, not without. */
	raw_exec(t->db, "UPDATE seal SET mac = NULL WHERE seq = 1");
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 0);
	verify(t->db, first, &p, &stats);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.first, "seal 1: no MAC"));
	snap_seal_key_free(first);
	snap_seal_key_free(now);
}

static void test_migration_seals_what_is_there(void **state)
{
	struct tmp *t = *state;
	struct snap_seal_verify_stats stats;
	struct snap_store *st = NULL;
	struct problems p;
	struct diag d = { 0 };

	two_snapshots(t->db, NULL);
	/* As drift before seals left it: schema 7, no seal table. */
	raw_exec(t->db, "DROP TABLE seal; PRAGMA user_version = 7");
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	struct snap_seal_verify_opts o = { 0 };
	assert_int_equal(snap_seal_verify(st, &o, collect, &p, &stats, &d), -EPROTO);
	assert_non_null(strstr(d.msg, "predates seals"));
	snap_store_free(st);

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	snap_store_free(st);
	assert_int_equal(raw_int(t->db, "PRAGMA user_version"), 8);
	assert_int_equal(raw_int(t->db, "SELECT count(*) FROM seal WHERE op = 2"), 3);
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.seals, 3);
}

/* An empty file (a first drift killed before its schema committed) holds no seal to miss. */
static void test_empty_database_verifies(void **state)
{
	struct tmp *t = *state;
	struct snap_seal_verify_stats stats;
	struct problems p;

	assert_int_equal(file_write(t->db, "", 0), 0);
	verify(t->db, NULL, &p, &stats);
	assert_int_equal(p.n, 0);
	assert_int_equal(stats.seals, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_key_file, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_chain_verifies_and_finds_edits, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_key_evolves_and_authenticates, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_migration_seals_what_is_there, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_empty_database_verifies, tmp_setup,
						tmp_teardown),
	};
	return cmocka_run_group_tests_name("store/seal", tests, NULL, NULL);
}
