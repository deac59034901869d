/* Package ownership: the shared package tables, owner lookups, and their collection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "tests/store/util.h"

#define WSENTINEL ((struct snap_writer *)(uintptr_t)0x5eed)

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

/* One package version and its files, as a test describes it. */
struct pkg {
	const char *name, *arch, *version;
	const char *files[6]; /* NULL-terminated; a leading '*' marks a conffile */
	bool md5;             /* give every file an MD5 (its first byte: the path's length) */
};

static void md5_of(const char *path, uint8_t md5[16])
{
	memset(md5, 0xa5, 16);
	md5[0] = (uint8_t)strlen(path);
}

/* Begin a snapshot, link @n packages, giving the file lists of the versions
 * the store does not know; *ret_known_count counts those it knew. */
static struct snap_writer *begin_with_packages(struct snap_store *st, enum snap_purpose purpose,
					       const char *label, unsigned keep,
					       const struct pkg *pkgs, size_t n,
					       size_t *ret_known_count)
{
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct diag d = { 0 };
	size_t known_count = 0;

	p.purpose = purpose;
	p.label = label;
	p.keep = keep;
	p.replace = true;
	p.hash = HASH_XXH3_128;
	assert_int_equal(snap_writer_begin(st, &p, &w, &d), 0);
	for (size_t i = 0; i < n; i++) {
		bool known = true;

		assert_int_equal(snap_writer_add_package(w, pkgs[i].name, pkgs[i].arch,
							 pkgs[i].version, &known, &d),
				 0);
		if (known) {
			known_count++;
			continue;
		}
		for (size_t j = 0; pkgs[i].files[j]; j++) {
			const char *path = pkgs[i].files[j];
			bool conf = path[0] == '*';
			uint8_t md5[16];

			path += conf;
			md5_of(path, md5);
			assert_int_equal(snap_writer_add_package_file(w, path, strlen(path),
								      pkgs[i].md5 ? md5 : NULL,
								      conf, &d),
					 0);
		}
	}
	if (ret_known_count)
		*ret_known_count = known_count;
	return w;
}

static int64_t write_with_packages(struct snap_store *st, enum snap_purpose purpose,
				   const char *label, unsigned keep, const struct pkg *pkgs,
				   size_t n, size_t *ret_known_count)
{
	struct snap_writer *w =
		begin_with_packages(st, purpose, label, keep, pkgs, n, ret_known_count);
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t id;

	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	id = info.id;
	snap_info_release(&info);
	return id;
}

/* SELECT count(*) with raw SQLite. */
static int64_t raw_count(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t n;

	assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	sqlite3_close(db);
	return n;
}

static const struct pkg bash1 = {
	"bash", "amd64", "5.2-15", { "/bin/bash", "*/etc/bash.bashrc", "/usr/share/doc/bash" }, true
};
static const struct pkg bash2 = {
	"bash", "amd64", "5.2-16", { "/bin/bash", "*/etc/bash.bashrc", "/usr/bin/bashbug" }, true
};
static const struct pkg coreutils = {
	"coreutils", "amd64", "9.1-1", { "/bin/ls", "/bin/cat" }, true
};
static const struct pkg meta = { "meta", "all", "1", { NULL }, false };

static void assert_owner(struct snap_store *st, int64_t id, const char *path, const char *name,
			 const char *version, bool has_md5, bool conffile)
{
	struct snap_owner o = { 0 };
	struct diag d = { 0 };

	assert_int_equal(snap_owner_get(st, id, path, strlen(path), &o, &d), 1);
	assert_string_equal(o.name, name);
	assert_string_equal(o.version, version);
	assert_int_equal(o.has_md5, has_md5);
	if (has_md5) {
		uint8_t md5[16];

		md5_of(path, md5);
		assert_memory_equal(o.md5, md5, 16);
	}
	assert_int_equal(o.conffile, conffile);
}

static void test_add_package_stores_once_and_known_versions_are_skipped(void **state)
{
	struct fx *f = *state;
	const struct pkg first[] = { bash1, coreutils, meta };
	const struct pkg second[] = { bash2, coreutils, meta };
	struct snap_writer *w;
	struct diag d = { 0 };
	bool known = true;
	size_t nknown = 99;
	int64_t id1, id2;

	id1 = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "one", 0, first, 3, &nknown);
	assert_int_equal(nknown, 0);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 3);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile"), 5);

	/* coreutils and meta (no files: an empty list is a list) are known. */
	id2 = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "two", 0, second, 3, &nknown);
	assert_int_equal(nknown, 2);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 4);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile"), 8);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snap_pkg"), 6);

	/* Files only for a version just added as new; the same version twice
	 * links once. */
	w = begin_with_packages(f->st, SNAP_PURPOSE_SCAN, "three", 0, second, 3, NULL);
	assert_int_equal(snap_writer_add_package_file(w, "/x", 2, NULL, false, &d), -EINVAL);
	assert_int_equal(snap_writer_add_package(w, "coreutils", "amd64", "9.1-1", &known, &d), 0);
	assert_true(known);
	assert_int_equal(snap_writer_add_package_file(w, "/x", 2, NULL, false, &d), -EINVAL);
	/* Bad arguments: refused, *ret_known untouched. */
	known = false;
	assert_int_equal(snap_writer_add_package(w, "", "amd64", "1", &known, &d), -EINVAL);
	assert_int_equal(snap_writer_add_package(w, "x", NULL, "1", &known, &d), -EINVAL);
	assert_int_equal(snap_writer_add_package(w, "x", "amd64", "", &known, &d), -EINVAL);
	assert_false(known);
	assert_int_equal(snap_writer_add_package(w, "new", "", "1", &known, &d), 0);
	assert_false(known);
	assert_int_equal(snap_writer_add_package_file(w, "", 0, NULL, false, &d), -EINVAL);
	/* Abort: nothing of it stays. */
	assert_int_equal(snap_writer_add_package_file(w, "/new", 4, NULL, false, &d), 0);
	snap_writer_abort(w);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 4);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snap_pkg"), 6);

	assert_owner(f->st, id1, "/bin/bash", "bash", "5.2-15", true, false);
	assert_owner(f->st, id2, "/bin/bash", "bash", "5.2-16", true, false);
}

static void test_drop_package_forgets_a_version_added_now(void **state)
{
	struct fx *f = *state;
	const struct pkg none[] = { coreutils };
	struct snap_writer *w;
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	bool known = true;

	w = begin_with_packages(f->st, SNAP_PURPOSE_SCAN, "one", 0, none, 0, NULL);
	/* Nothing just added: nothing to drop. */
	assert_int_equal(snap_writer_drop_package(w, &d), -EINVAL);
	assert_int_equal(snap_writer_add_package(w, "hello", "amd64", "1.0-1", &known, &d), 0);
	assert_false(known);
	assert_int_equal(snap_writer_add_package_file(w, "/usr/bin/hello", 14, NULL, false, &d), 0);
	assert_int_equal(snap_writer_drop_package(w, &d), 0);
	/* Once dropped, files cannot be added to it, and a second drop is refused. */
	assert_int_equal(snap_writer_add_package_file(w, "/x", 2, NULL, false, &d), -EINVAL);
	assert_int_equal(snap_writer_drop_package(w, &d), -EINVAL);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);
	snap_info_release(&info);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver WHERE name = 'hello'"), 0);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile"), 0);

	/* The next snapshot is asked for its list again. */
	w = begin_with_packages(f->st, SNAP_PURPOSE_SCAN, "two", 0, none, 0, NULL);
	known = true;
	assert_int_equal(snap_writer_add_package(w, "hello", "amd64", "1.0-1", &known, &d), 0);
	assert_false(known);
	snap_writer_abort(w);
}

static void test_owner_get_none_one_several(void **state)
{
	struct fx *f = *state;
	/* /usr/bin/shared is in three packages: b-nomd5 (no MD5), c-md5 and
	 * d-md5 (MD5): the first by name with an MD5 wins. /usr/bin/plain is
	 * in two without MD5: the first by name. */
	const struct pkg v[] = {
		{ "d-md5", "amd64", "1", { "/usr/bin/shared" }, true },
		{ "b-nomd5", "amd64", "1", { "/usr/bin/shared", "/usr/bin/plain" }, false },
		{ "c-md5", "amd64", "1", { "/usr/bin/shared", "*/etc/c.conf" }, true },
		{ "a-nomd5", "i386", "2", { "/usr/bin/plain" }, false },
	};
	const struct pkg other = { "other", "amd64", "1", { "/usr/bin/other" }, true };
	struct snap_owner o = { 0 }, keep;
	struct diag d = { 0 };
	bool has = false;
	int64_t id, id_other, id_none;

	id = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "several", 0, v, 4, NULL);
	id_other = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "other", 0, &other, 1, NULL);
	id_none = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "none", 0, NULL, 0, NULL);

	assert_owner(f->st, id, "/usr/bin/shared", "c-md5", "1", true, false);
	assert_owner(f->st, id, "/usr/bin/plain", "a-nomd5", "2", false, false);
	assert_owner(f->st, id, "/etc/c.conf", "c-md5", "1", true, true);
	assert_int_equal(snap_owner_get(f->st, id, "/usr/bin/plain", 14, &o, &d), 1);
	assert_string_equal(o.arch, "i386");

	/* None: an unowned path (untouched output), a prefix of an owned
	 * one, a path owned only in another snapshot, a snapshot without
	 * packages, an unknown snapshot. */
	keep = o;
	assert_int_equal(snap_owner_get(f->st, id, "/usr/bin/nope", 13, &o, &d), 0);
	assert_int_equal(snap_owner_get(f->st, id, "/usr/bin/plai", 13, &o, &d), 0);
	assert_int_equal(snap_owner_get(f->st, id, "/usr/bin/other", 14, &o, &d), 0);
	assert_int_equal(snap_owner_get(f->st, id_none, "/usr/bin/shared", 15, &o, &d), 0);
	assert_int_equal(snap_owner_get(f->st, 999, "/usr/bin/shared", 15, &o, &d), 0);
	assert_memory_equal(&o, &keep, sizeof(o));
	assert_owner(f->st, id_other, "/usr/bin/other", "other", "1", true, false);

	assert_int_equal(snap_has_packages(f->st, id, &has), 0);
	assert_true(has);
	assert_int_equal(snap_has_packages(f->st, id_none, &has), 0);
	assert_false(has);
	assert_int_equal(snap_has_packages(f->st, 999, &has), 0);
	assert_false(has);
}

static void test_add_package_file_twice_merges_md5_and_conffile(void **state)
{
	struct fx *f = *state;
	struct snap_writer *w = NULL;
	struct snap_new p = { 0 };
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	uint8_t md5[16];
	bool known = true;

	md5_of("/etc/x.conf", md5);
	p.purpose = SNAP_PURPOSE_SCAN;
	p.label = "merge";
	assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), 0);
	assert_int_equal(snap_writer_add_package(w, "x", "amd64", "1", &known, &d), 0);
	assert_false(known);
	/* Listed without a sum, then named a conffile with its sum. */
	assert_int_equal(snap_writer_add_package_file(w, "/etc/x.conf", 11, NULL, false, &d), 0);
	assert_int_equal(snap_writer_add_package_file(w, "/etc/x.conf", 11, md5, true, &d), 0);
	/* And the other way round: a later listing takes nothing away. */
	assert_int_equal(snap_writer_add_package_file(w, "/etc/y.conf", 11, md5, true, &d), 0);
	assert_int_equal(snap_writer_add_package_file(w, "/etc/y.conf", 11, NULL, false, &d), 0);
	/* Paths are bytes. */
	assert_int_equal(snap_writer_add_package_file(w, "/a\nb\xff", 5, NULL, false, &d), 0);
	assert_int_equal(snap_writer_commit(w, &info, &d), 0);

	assert_owner(f->st, info.id, "/etc/x.conf", "x", "1", true, true);
	md5_of("/etc/y.conf", md5);
	assert_owner(f->st, info.id, "/etc/y.conf", "x", "1", true, true);
	assert_owner(f->st, info.id, "/a\nb\xff", "x", "1", false, false);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile"), 3);
	snap_info_release(&info);
}

/* Pruning and replacing snapshots takes their package links, and the
 * versions nobody links to any more, with their files. */
static void test_deleting_snapshots_collects_unused_packages(void **state)
{
	struct fx *f = *state;
	const struct pkg old_set[] = { bash1, coreutils };
	const struct pkg new_set[] = { bash2, coreutils };
	const struct pkg only_meta[] = { meta };
	struct snap_owner o = { 0 };
	struct diag d = { 0 };
	int64_t c1, c2, s1;

	c1 = write_with_packages(f->st, SNAP_PURPOSE_CHECK, NULL, 1, old_set, 2, NULL);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 2);
	/* The second check prunes the first: bash 5.2-15 goes, coreutils
	 * (linked by the new check too) stays. */
	c2 = write_with_packages(f->st, SNAP_PURPOSE_CHECK, NULL, 1, new_set, 2, NULL);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snapshot"), 1);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver WHERE version = '5.2-15'"),
			 0);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 2);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile"), 5);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snap_pkg"), 2);
	assert_int_equal(snap_owner_get(f->st, c1, "/bin/ls", 7, &o, &d), 0);
	assert_owner(f->st, c2, "/bin/ls", "coreutils", "9.1-1", true, false);
	assert_owner(f->st, c2, "/usr/bin/bashbug", "bash", "5.2-16", true, false);

	/* A scan replaced (--replace) takes its packages along. */
	s1 = write_with_packages(f->st, SNAP_PURPOSE_SCAN, "pre", 0, only_meta, 1, NULL);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 3);
	assert_true(write_with_packages(f->st, SNAP_PURPOSE_SCAN, "pre", 0, NULL, 0, NULL) > s1);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver"), 2);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgver WHERE name = 'meta'"), 0);
	/* Everything that remains is linked. */
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM pkgfile WHERE pkgver NOT IN"
					    " (SELECT pkgver FROM snap_pkg)"),
			 0);
}

static void test_upgrade_snapshots_pruned_like_checks(void **state)
{
	struct fx *f = *state;
	const struct pkg v1[] = { bash1 };
	const struct pkg v2[] = { bash2 };
	struct snap_info info = { 0 };
	struct diag d = { 0 };
	int64_t check, pre, post;

	/* A check is not an upgrade: never pruned by one. */
	check = write_with_packages(f->st, SNAP_PURPOSE_CHECK, NULL, 1, v1, 1, NULL);
	pre = write_with_packages(f->st, SNAP_PURPOSE_UPGRADE, "apt-20261125T140200Z-pre", 2, v1, 1,
				  NULL);
	post = write_with_packages(f->st, SNAP_PURPOSE_UPGRADE, "apt-20261125T140200Z-post", 2, v2,
				   1, NULL);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snapshot"), 3);
	assert_int_equal(snap_find(f->st, "apt-20261125T140200Z-pre", &info, &d), 0);
	assert_int_equal(info.purpose, SNAP_PURPOSE_UPGRADE);
	assert_int_equal(info.id, pre);
	snap_info_release(&info);

	/* The next pair: keep = 2 leaves the newest two upgrades only. */
	write_with_packages(f->st, SNAP_PURPOSE_UPGRADE, "apt-20261126T080000Z-pre", 2, v2, 1,
			    NULL);
	assert_int_equal(snap_find(f->st, "apt-20261125T140200Z-pre", &info, &d), -ENOENT);
	assert_int_equal(snap_find(f->st, "apt-20261125T140200Z-post", &info, &d), 0);
	assert_int_equal(info.id, post);
	snap_info_release(&info);
	/* An automatic label. */
	write_with_packages(f->st, SNAP_PURPOSE_UPGRADE, NULL, 2, v2, 1, NULL);
	assert_int_equal(snap_find(f->st, "apt-20261125T140200Z-post", &info, &d), -ENOENT);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snapshot WHERE purpose = 3"
					    " AND label LIKE 'upgrade-2%'"),
			 1);
	assert_int_equal(snap_find(f->st, "apt-20261126T080000Z-pre", &info, &d), 0);
	snap_info_release(&info);
	/* The check and its bash 5.2-15 are still there. */
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snapshot"), 3);
	assert_owner(f->st, check, "/usr/share/doc/bash", "bash", "5.2-15", true, false);
	/* keep = 0 keeps all. */
	write_with_packages(f->st, SNAP_PURPOSE_UPGRADE, "u-all", 0, NULL, 0, NULL);
	assert_int_equal(raw_count(f->t.db, "SELECT count(*) FROM snapshot WHERE purpose = 3"), 3);
	/* An unknown purpose is refused. */
	{
		struct snap_new p = { 0 };
		struct snap_writer *w = WSENTINEL;

		p.purpose = (enum snap_purpose)4;
		p.label = "x";
		assert_int_equal(snap_writer_begin(f->st, &p, &w, &d), -EINVAL);
		assert_ptr_equal(w, WSENTINEL);
	}
}

static void test_owner_get_searches_pkgfile_by_path(void **state)
{
	struct fx *f = *state;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	bool indexed = false;

	/* The query of snap_owner_get() (store/pkg.c), as the planner sees it. */
	assert_int_equal(sqlite3_open_v2(f->t.db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "EXPLAIN QUERY PLAN SELECT v.name, v.arch, v.version, f.md5,"
				   " f.conffile FROM pkgfile f"
				   " JOIN snap_pkg l ON l.snap = ?1 AND l.pkgver = f.pkgver"
				   " JOIN pkgver v ON v.id = f.pkgver WHERE f.path = ?2"
				   " ORDER BY f.md5 IS NULL, v.name, v.arch, v.version LIMIT 1",
				   -1, &s, NULL),
		SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const char *detail = (const char *)sqlite3_column_text(s, 3);

		if (detail && strstr(detail, "SEARCH f USING PRIMARY KEY (path=?)"))
			indexed = true;
		assert_null(strstr(detail ? detail : "", "SCAN"));
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	assert_true(indexed);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_add_package_stores_once_and_known_versions_are_skipped),
		T(test_drop_package_forgets_a_version_added_now),
		T(test_owner_get_none_one_several),
		T(test_add_package_file_twice_merges_md5_and_conffile),
		T(test_deleting_snapshots_collects_unused_packages),
		T(test_upgrade_snapshots_pruned_like_checks),
		T(test_owner_get_searches_pkgfile_by_path),
	};
#undef T
	return cmocka_run_group_tests(tests, NULL, NULL);
}
