/*
 * compare/restored.c: the inode number and ctime a restore left are no
 * drift while the file still is the inode the journal names (the newest
 * restore of the key deciding), and nothing once its remediation is undone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../store/util.h"
#include "common/strbuf.h"
#include "compare/internal.h"

#define CTIME_X 1790000000123456789LL

/* Journal a remediation of one DONE action on @key leaving inode (@ino, @dev, @ctime_ns). */
static int64_t restore(struct snap_store *st, const char *key, uint64_t ino, uint64_t dev,
		       int64_t ctime_ns)
{
	struct snap_remedy_action a = { 0 };
	struct strbuf post = STRBUF_INIT;
	struct entry e = entry_file(key);
	struct diag d = { 0 };
	int64_t id = 0;

	e.ino = ino;
	e.dev = dev;
	e.ctime_ns = ctime_ns;
	assert_int_equal(snap_entry_encode(&post, &e), 0);
	a.kind = ENTRY_FILE;
	a.key = key;
	a.key_len = strlen(key);
	a.action = 2;
	a.state = SNAP_REMEDY_PLANNED;
	assert_int_equal(snap_remedy_begin(st, 1, 1, "root", false, "/q", &a, 1, &id, &d), 0);
	a.state = SNAP_REMEDY_DONE;
	a.post = post.buf;
	a.post_len = post.len;
	assert_int_equal(snap_remedy_action_put(st, id, &a, &d), 0);
	assert_int_equal(snap_remedy_finish(st, id, &d), 0);
	strbuf_release(&post);
	return id;
}

static struct entry after(const char *key, uint64_t ino, uint64_t dev, int64_t ctime_ns)
{
	struct entry e = entry_file(key);

	e.ino = ino;
	e.dev = dev;
	e.ctime_ns = ctime_ns;
	return e;
}

static void test_mask(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct restored *rs = NULL;
	struct diag d = { 0 };
	struct entry e;
	int64_t id;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	/* Nothing journaled: nothing loaded, and a NULL set masks nothing. */
	assert_int_equal(restored_load(st, &rs, &d), 0);
	assert_null(rs);
	e = after("/etc/a", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(NULL, &e), 0);

	id = restore(st, "/etc/a", 42, 7, CTIME_X);
	assert_int_equal(restored_load(st, &rs, &d), 0);
	assert_non_null(rs);
	/* The very inode, untouched since. */
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	/* The same inode, changed since (chmod): its ctime is drift's again. */
	e = after("/etc/a", 42, 7, CTIME_X + 1);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE);
	/* Another inode (replaced again), or the same number on another device. */
	e = after("/etc/a", 43, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	e = after("/etc/a", 42, 8, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	/* Another key: a prefix, a longer one, a neighbour. */
	e = after("/etc/ab", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	e = after("/etc/", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	e = after("/etc/b", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	/* Not a file. */
	e = after("/etc/a", 42, 7, CTIME_X);
	e.kind = ENTRY_SYSCTL;
	assert_int_equal(restored_mask(rs, &e), 0);
	restored_free(rs);
	rs = NULL;

	/* Undone: the set is empty. */
	assert_int_equal(snap_remedy_set_undone(st, id, "root", &d), 0);
	assert_int_equal(restored_load(st, &rs, &d), 0);
	assert_null(rs);
	restored_free(NULL);
	snap_store_free(st);
}

static void test_newest_decides(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct restored *rs = NULL;
	struct diag d = { 0 };
	struct entry e;
	int64_t second;

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	/* Keys around /etc/a, so that the search has neighbours on both sides. */
	restore(st, "/etc/0", 1, 7, 1);
	restore(st, "/etc/a", 42, 7, CTIME_X);
	restore(st, "/etc/z", 2, 7, 2);
	second = restore(st, "/etc/a", 50, 7, CTIME_X + 5);
	restore(st, "/etc/", 3, 7, 3);

	assert_int_equal(restored_load(st, &rs, &d), 0);
	assert_non_null(rs);
	/* The older restore's inode: replaced since by the newer restore. */
	e = after("/etc/a", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), 0);
	e = after("/etc/a", 50, 7, CTIME_X + 5);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	/* The others still hold. */
	e = after("/etc/0", 1, 7, 1);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	e = after("/etc/z", 2, 7, 2);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	e = after("/etc/", 3, 7, 3);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	restored_free(rs);

	/* The newer one undone: the older decides again. */
	assert_int_equal(snap_remedy_set_undone(st, second, "root", &d), 0);
	assert_int_equal(restored_load(st, &rs, &d), 0);
	e = after("/etc/a", 42, 7, CTIME_X);
	assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
	e = after("/etc/a", 50, 7, CTIME_X + 5);
	assert_int_equal(restored_mask(rs, &e), 0);
	restored_free(rs);
	snap_store_free(st);
}

/* Many restores of many keys, the same key several times: the newest of each decides. */
static void test_many(void **state)
{
	struct tmp *t = *state;
	struct snap_store *st = NULL;
	struct restored *rs = NULL;
	struct diag d = { 0 };
	char key[32];

	assert_int_equal(snap_store_open(t->db, SNAP_OPEN_WRITE, &st, &d), 0);
	for (unsigned round = 0; round < 3; round++)
		for (unsigned i = 0; i < 40; i++) {
			snprintf(key, sizeof(key), "/k/%u", (i * 17) % 40);
			restore(st, key, 1000 * round + i, 7, (int64_t)round);
		}
	assert_int_equal(restored_load(st, &rs, &d), 0);
	for (unsigned i = 0; i < 40; i++) {
		struct entry e;

		snprintf(key, sizeof(key), "/k/%u", (i * 17) % 40);
		e = after(key, 2000 + i, 7, 2);
		assert_int_equal(restored_mask(rs, &e), ATTR_INODE | ATTR_CTIME);
		e = after(key, 1000 + i, 7, 1);
		assert_int_equal(restored_mask(rs, &e), 0);
	}
	restored_free(rs);
	snap_store_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_mask, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_newest_decides, tmp_setup, tmp_teardown),
		cmocka_unit_test_setup_teardown(test_many, tmp_setup, tmp_teardown),
	};
	return cmocka_run_group_tests_name("compare/restored", tests, NULL, NULL);
}
