#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "util.h"

/*
 * Acceptance (store/accept.c): the new baseline is the old one plus exactly
 * the accepted entries as the run's after snapshot holds them; undo; the
 * refusals; the migration from schema 5.
 */

struct pkg {
	const char *name, *arch, *version, *file;
};

/* A complete snapshot with @entries and package versions @pkgs (each owning one file). */
static int64_t write_with_pkgs(struct snap_store *st, enum snap_purpose purpose,
			       const struct entry *entries, size_t n, const struct pkg *pkgs,
			       size_t npkgs, const uint8_t *content, size_t content_len)
{
	static const char *const roots[] = { "/" };
	static const char *const probes[] = { "package" };
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	uint8_t cid[32];
	int64_t id;

	p.purpose = purpose;
	p.replace = true;
	p.host = "testhost";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	p.probes = probes;
	p.nprobes = 1;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	if (content)
		assert_int_equal(snap_writer_add_content(w, content, content_len, cid, &d), 0);
	for (size_t i = 0; i < n; i++) {
		struct entry e = entries[i];

		if (content && e.kind == ENTRY_FILE && !strcmp(e.key, "/etc/d")) {
			e.has_content = true;
			memcpy(e.content_id, cid, 32);
		}
		assert_int_equal(snap_writer_add(w, &e, &d), 0);
	}
	for (size_t i = 0; i < npkgs; i++) {
		bool known = false;

		assert_int_equal(snap_writer_add_package(w, pkgs[i].name, pkgs[i].arch,
							 pkgs[i].version, &known, &d),
				 0);
		if (!known)
			assert_int_equal(snap_writer_add_package_file(w, pkgs[i].file,
								      strlen(pkgs[i].file), NULL,
								      false, &d),
					 0);
	}
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	id = info.id;
	snap_info_release(&info);
	return id;
}

static struct entry pkg_entry(const char *key, uint64_t size)
{
	struct entry e = { 0 };

	e.kind = ENTRY_PACKAGE;
	e.key = key;
	e.key_len = strlen(key);
	e.size = size;
	return e;
}

struct fixture {
	struct snap_store *st;
	int64_t base, check, run;
};

/*
 * Baseline: /etc/a (hash 1), /etc/b (2), /etc/c (3), hello:amd64 (1.0,
 * owning /usr/bin/hello). Check: /etc/a (hash 9), /etc/c, /etc/d (added,
 * with kept content), hello:amd64 1.1. Run: a modified, b removed, d added,
 * hello modified (a drift finding each).
 */
static void fixture_make(struct tmp *t, struct fixture *fx)
{
	static const struct pkg old_pkgs[] = { { "hello", "amd64", "1.0", "/usr/bin/hello" } };
	static const struct pkg new_pkgs[] = { { "hello", "amd64", "1.1", "/usr/bin/hello" } };
	struct entry base[4], check[4];
	struct snap_run_new rn = { 0 };
	struct snap_run_writer *rw = NULL;
	struct snap_run_row row = { 0 };
	struct diag d = { 0 };
	static const char *const keys[] = { "/etc/a", "/etc/b", "/etc/d" };
	static const enum change changes[] = { CHANGE_MODIFIED, CHANGE_REMOVED, CHANGE_ADDED };
	static const uint8_t content[] = "d's content\n";

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &fx->st, &d), 0);
	base[0] = entry_file("/etc/a");
	entry_set_hash(&base[0], 1);
	base[1] = entry_file("/etc/b");
	entry_set_hash(&base[1], 2);
	base[2] = entry_file("/etc/c");
	entry_set_hash(&base[2], 3);
	base[3] = pkg_entry("hello:amd64", 10);
	fx->base = write_with_pkgs(fx->st, SNAP_PURPOSE_BASELINE, base, 4, old_pkgs, 1, NULL, 0);

	check[0] = entry_file("/etc/a");
	entry_set_hash(&check[0], 9);
	check[0].size = 99;
	check[1] = base[2];
	check[2] = entry_file("/etc/d");
	entry_set_hash(&check[2], 4);
	check[3] = pkg_entry("hello:amd64", 11);
	fx->check = write_with_pkgs(fx->st, SNAP_PURPOSE_CHECK, check, 4, new_pkgs, 1, content,
				    sizeof(content) - 1);

	rn.command = "check";
	rn.before = fx->base;
	rn.after = fx->check;
	rn.before_label = "baseline";
	rn.after_label = "check-1";
	rn.before_baseline = true;
	assert_int_equal(snap_run_begin(fx->st, &rn, &rw, &d), 0);
	row.judged = true;
	row.class = CLASS_DRIFT;
	row.severity = SEVERITY_HIGH;
	row.rule = -1;
	for (size_t i = 0; i < 3; i++) {
		row.kind = ENTRY_FILE;
		row.key = keys[i];
		row.key_len = strlen(keys[i]);
		row.change = changes[i];
		assert_int_equal(snap_run_add_row(rw, &row, &d), 0);
	}
	row.kind = ENTRY_PACKAGE;
	row.key = "hello:amd64";
	row.key_len = strlen(row.key);
	row.change = CHANGE_MODIFIED;
	row.package = "hello:amd64";
	row.before_version = "1.0";
	row.after_version = "1.1";
	assert_int_equal(snap_run_add_row(rw, &row, &d), 0);
	assert_int_equal(snap_run_commit(rw, 7, 0, 0, &fx->run, &d), 0);
}

/* The entries of @snap of @kind as "key=hashbyte0/size" lines. */
static void dump(struct snap_store *st, int64_t snap, enum entry_kind kind, char *out, size_t cap)
{
	struct snap_iter *it = NULL;
	const struct entry *e;
	struct diag d = { 0 };
	size_t len = 0;
	int r;

	out[0] = '\0';
	assert_int_equal(snap_iter_new(st, snap, kind, NULL, 0, 0, &it, &d), 0);
	while ((r = snap_iter_next(it, &e, &d)) > 0)
		len += (size_t)snprintf(out + len, cap - len, "%.*s=%u/%llu%s\n", (int)e->key_len,
					e->key, e->hash_len ? e->hash[0] : 0,
					(unsigned long long)e->size, e->has_content ? "+c" : "");
	assert_int_equal(r, 0);
	snap_iter_free(it);
}

static int64_t baseline_now(struct snap_store *st)
{
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t id;

	assert_int_equal(snap_baseline(st, &info, &d), 0);
	id = info.id;
	snap_info_release(&info);
	return id;
}

static int count_rows(const struct snap_run_row *row, void *userdata)
{
	(void)row;
	(*(int *)userdata)++;
	return 0;
}

static int count_snapshots(const struct snap_info *info, void *userdata)
{
	(void)info;
	(*(int *)userdata)++;
	return 0;
}

static void test_accept_modified_added_removed(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key keys[] = {
		{ ENTRY_FILE, "/etc/a", 6 },
		{ ENTRY_FILE, "/etc/b", 6 },
		{ ENTRY_FILE, "/etc/d", 6 },
		{ ENTRY_FILE, "/etc/a", 6 }, /* twice: once */
	};
	struct snap_acceptance a = { 0 };
	struct snap_owner owner;
	struct diag d = { 0 };
	char buf[512];
	int rows = 0;

	fixture_make(t, &fx);
	assert_int_equal(snap_accept(fx.st, fx.run, keys, 4, "alice", "planned change", 0,
				     count_rows, &rows, &a, &d),
			 0);
	assert_int_equal(rows, 3);
	assert_int_equal(a.entries, 3);
	assert_int_equal(a.old_baseline, fx.base);
	assert_int_equal(a.run, fx.run);
	assert_true(a.id > 0);
	assert_true(a.new_baseline > fx.check);
	assert_int_equal(baseline_now(fx.st), a.new_baseline);
	assert_non_null(a.new_label);
	assert_int_equal(strncmp(a.new_label, "accept-", 7), 0);
	assert_non_null(a.old_label);
	assert_int_equal(strncmp(a.old_label, "baseline-", 9), 0);

	/* Old + exactly the accepted entries, entry by entry. */
	dump(fx.st, a.new_baseline, ENTRY_FILE, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/a=9/99\n/etc/c=3/1234\n/etc/d=4/1234+c\n");
	/* The package entry was not accepted: the old one, and the old owner. */
	dump(fx.st, a.new_baseline, ENTRY_PACKAGE, buf, sizeof(buf));
	assert_string_equal(buf, "hello:amd64=0/10\n");
	assert_int_equal(snap_owner_get(fx.st, a.new_baseline, "/usr/bin/hello", 14, &owner, &d),
			 1);
	assert_string_equal(owner.version, "1.0");
	/* The old baseline is untouched. */
	dump(fx.st, fx.base, ENTRY_FILE, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/a=1/1234\n/etc/b=2/1234\n/etc/c=3/1234\n");
	snap_acceptance_release(&a);

	/* The kept content stays with the new baseline when the check goes. */
	assert_int_equal(snap_delete(fx.st, fx.check, 0, NULL, &d), 0);
	{
		struct snap_iter *it = NULL;
		const struct entry *e;
		uint8_t *bytes = NULL;
		size_t len = 0;

		assert_int_equal(
			snap_iter_new(fx.st, baseline_now(fx.st), ENTRY_FILE, NULL, 0, 0, &it, &d),
			0);
		while (snap_iter_next(it, &e, &d) > 0 && strncmp(e->key, "/etc/d", 6))
			;
		assert_true(e->has_content);
		assert_int_equal(snap_content_get(fx.st, e->content_id, &bytes, &len, &d), 0);
		assert_int_equal(len, 12);
		free(bytes);
		snap_iter_free(it);
	}
	snap_store_free(fx.st);
}

static void test_accept_package_follows_links(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key key = { ENTRY_PACKAGE, "hello", 5 }; /* without the arch */
	struct snap_acceptance a = { 0 };
	struct snap_owner owner;
	struct diag d = { 0 };
	char buf[256];

	fixture_make(t, &fx);
	assert_int_equal(
		snap_accept(fx.st, fx.run, &key, 1, "bob", "upgrade", 0, NULL, NULL, &a, &d), 0);
	dump(fx.st, a.new_baseline, ENTRY_PACKAGE, buf, sizeof(buf));
	assert_string_equal(buf, "hello:amd64=0/11\n");
	dump(fx.st, a.new_baseline, ENTRY_FILE, buf, sizeof(buf));
	assert_string_equal(buf, "/etc/a=1/1234\n/etc/b=2/1234\n/etc/c=3/1234\n");
	assert_int_equal(snap_owner_get(fx.st, a.new_baseline, "/usr/bin/hello", 14, &owner, &d),
			 1);
	assert_string_equal(owner.version, "1.1");
	snap_acceptance_release(&a);
	snap_store_free(fx.st);
}

struct got_keys {
	char s[256];
	size_t len;
};

static int got_key(int64_t acceptance, enum entry_kind kind, const char *key, size_t key_len,
		   enum change change, void *userdata)
{
	struct got_keys *g = userdata;

	(void)acceptance;
	g->len += (size_t)snprintf(g->s + g->len, sizeof(g->s) - g->len, "%d %.*s %d\n", (int)kind,
				   (int)key_len, key, (int)change);
	return 0;
}

struct got_list {
	int n;
	char who[32], undone_by[32], reason[64];
	int64_t undone;
};

static int got_acceptance(const struct snap_acceptance *a, void *userdata)
{
	struct got_list *g = userdata;

	g->n++;
	snprintf(g->who, sizeof(g->who), "%s", a->who);
	snprintf(g->reason, sizeof(g->reason), "%s", a->reason);
	snprintf(g->undone_by, sizeof(g->undone_by), "%s", a->undone_by ? a->undone_by : "");
	g->undone = a->undone_ns;
	return 0;
}

static void test_undo_restores(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key key = { ENTRY_FILE, "/etc/b", 6 };
	struct snap_acceptance a = { 0 }, u = { 0 };
	struct got_keys g = { 0 };
	struct got_list l = { 0 };
	struct diag d = { 0 };

	fixture_make(t, &fx);
	assert_int_equal(snap_accept(fx.st, fx.run, &key, 1, "alice", "gone for good", 0, NULL,
				     NULL, &a, &d),
			 0);
	assert_int_equal(snap_run_accepted(fx.st, fx.run, got_key, &g, &d), 0);
	assert_string_equal(g.s, "1 /etc/b 1\n"); /* CHANGE_REMOVED */

	assert_int_equal(snap_accept_undo(fx.st, 0, "carol", &u, &d), 0);
	assert_int_equal(u.id, a.id);
	assert_int_equal(baseline_now(fx.st), fx.base);
	assert_string_equal(u.undone_by, "carol");
	/* Nothing in force: the run has no accepted findings; the accept snapshot stays. */
	g.len = 0;
	g.s[0] = '\0';
	assert_int_equal(snap_run_accepted(fx.st, fx.run, got_key, &g, &d), 0);
	assert_string_equal(g.s, "");
	{
		struct snap_info info = { 0 };
		char name[32];

		snprintf(name, sizeof(name), "%lld", (long long)a.new_baseline);
		assert_int_equal(snap_find(fx.st, name, &info, &d), 0);
		assert_int_equal(info.purpose, SNAP_PURPOSE_BASELINE);
		snap_info_release(&info);
	}
	assert_int_equal(snap_acceptance_list(fx.st, got_acceptance, &l, &d), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.who, "alice");
	assert_string_equal(l.reason, "gone for good");
	assert_string_equal(l.undone_by, "carol");
	assert_true(l.undone > 0);

	/* Twice: nothing left to undo; by id: undone already. */
	assert_int_equal(snap_accept_undo(fx.st, 0, "carol", NULL, &d), -ENOENT);
	assert_int_equal(snap_accept_undo(fx.st, a.id, "carol", NULL, &d), -EALREADY);
	/* The run can be accepted from again: its before side is the baseline again. */
	snap_acceptance_release(&u);
	assert_int_equal(
		snap_accept(fx.st, fx.run, &key, 1, "alice", "again", 0, NULL, NULL, &u, &d), 0);
	snap_acceptance_release(&a);
	snap_acceptance_release(&u);
	snap_store_free(fx.st);
}

static void test_refused_when_baseline_moved(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key a_key = { ENTRY_FILE, "/etc/a", 6 };
	struct snap_accept_key b_key = { ENTRY_FILE, "/etc/b", 6 };
	struct snap_acceptance a = { 0 }, b = { 0 };
	struct diag d = { 0 };
	int n0 = 0, n1 = 0;

	fixture_make(t, &fx);
	assert_int_equal(
		snap_accept(fx.st, fx.run, &a_key, 1, "alice", "one", 0, NULL, NULL, &a, &d), 0);
	/* The run compared against the old baseline: a second acceptance from it is stale. */
	assert_int_equal(snap_list(fx.st, count_snapshots, &n0, &d), 0);
	assert_int_equal(
		snap_accept(fx.st, fx.run, &b_key, 1, "alice", "two", 0, NULL, NULL, &b, &d),
		-ESTALE);
	assert_non_null(strstr(d.msg, "run 'drift check' again"));
	assert_int_equal(snap_list(fx.st, count_snapshots, &n1, &d), 0);
	assert_int_equal(n0, n1);
	assert_int_equal(baseline_now(fx.st), a.new_baseline);

	/* Undo refuses when the baseline moved since that acceptance. */
	assert_int_equal(snap_set_baseline(fx.st, fx.check, NULL, &d), 1);
	assert_int_equal(snap_accept_undo(fx.st, 0, "alice", NULL, &d), -ESTALE);
	assert_int_equal(baseline_now(fx.st), fx.check);
	snap_acceptance_release(&a);
	snap_store_free(fx.st);
}

static void test_refused_unknown_key_and_gone_snapshot(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key keys[] = { { ENTRY_FILE, "/etc/a", 6 },
					  { ENTRY_FILE, "/etc/zz", 7 } };
	struct snap_accept_key c_key = { ENTRY_FILE, "/etc/c", 6 }; /* unchanged: no finding */
	struct diag d = { 0 };
	int n0 = 0, n1 = 0, rows = 0;

	fixture_make(t, &fx);
	assert_int_equal(snap_list(fx.st, count_snapshots, &n0, &d), 0);
	assert_int_equal(snap_accept(fx.st, fx.run, keys, 2, "alice", "x", 0, NULL, NULL, NULL, &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "/etc/zz is not a finding of run #"));
	assert_int_equal(
		snap_accept(fx.st, fx.run, &c_key, 1, "alice", "x", 0, NULL, NULL, NULL, &d),
		-ENOENT);
	/* Missing who or reason. */
	assert_int_equal(snap_accept(fx.st, fx.run, keys, 1, "alice", "", 0, NULL, NULL, NULL, &d),
			 -EINVAL);
	/* A dry run writes nothing. */
	assert_int_equal(snap_accept(fx.st, fx.run, keys, 1, "alice", "x", SNAP_ACCEPT_DRY_RUN,
				     count_rows, &rows, NULL, &d),
			 0);
	assert_int_equal(rows, 1);
	assert_int_equal(snap_list(fx.st, count_snapshots, &n1, &d), 0);
	assert_int_equal(n0, n1);
	assert_int_equal(baseline_now(fx.st), fx.base);

	/* The after snapshot gone (the run row kept, as a hand-edited database may). */
	{
		sqlite3 *db = NULL;
		char sql[128];

		snprintf(sql, sizeof(sql),
			 "DELETE FROM block WHERE snap = %lld;"
			 "DELETE FROM snapshot WHERE id = %lld",
			 (long long)fx.check, (long long)fx.check);
		assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
		assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	assert_int_equal(snap_accept(fx.st, fx.run, keys, 1, "alice", "x", 0, NULL, NULL, NULL, &d),
			 -ENOENT);
	assert_non_null(strstr(d.msg, "is gone (pruned)"));
	/* Deleted the ordinary way, the run goes with it. */
	assert_int_equal(baseline_now(fx.st), fx.base);
	snap_store_free(fx.st);
}

static int64_t user_version(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

static void test_migration_from_v5(void **state)
{
	struct tmp *t = *state;
	struct fixture fx = { 0 };
	struct snap_accept_key key = { ENTRY_FILE, "/etc/a", 6 };
	struct got_list l = { 0 };
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	sqlite3 *db = NULL;

	fixture_make(t, &fx);
	snap_store_free(fx.st);
	/* Make it a version 5 database: as a drift before acceptance wrote it. */
	assert_int_equal(sqlite3_open(t->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
				      "DROP TABLE acceptance_key; DROP TABLE acceptance;"
				      " PRAGMA user_version = 5",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(user_version(t->db), 5);

	/* Read-only: read as it is, no acceptances, never written. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_READ, &st, &d), 0);
	assert_int_equal(snap_acceptance_list(st, got_acceptance, &l, &d), 0);
	assert_int_equal(l.n, 0);
	snap_store_free(st);
	assert_int_equal(user_version(t->db), 5);

	/* For writing: migrated in place, and acceptance works. */
	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	assert_int_equal(user_version(t->db), 8);
	assert_int_equal(snap_accept(st, fx.run, &key, 1, "alice", "after migration", 0, NULL, NULL,
				     NULL, &d),
			 0);
	assert_int_equal(snap_acceptance_list(st, got_acceptance, &l, &d), 0);
	assert_int_equal(l.n, 1);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_accept_modified_added_removed, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_accept_package_follows_links, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_undo_restores, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_refused_when_baseline_moved, tmp_setup,
						tmp_teardown),
		cmocka_unit_test_setup_teardown(test_refused_unknown_key_and_gone_snapshot,
						tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_migration_from_v5, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests_name("store/accept", tests, NULL, NULL);
}
