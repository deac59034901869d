/*
 * scan_walk() on fixture trees: what is inventoried and how, against nftw(),
 * across thread counts, with decide/visit/tick controlling the walk, through
 * paths beyond PATH_MAX and with a starved fd budget, across a mount.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "scanner/scanner.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/diag.h"
#include "tree.h"

#include "common/banned.h"

#define BIG_SIZE     (3 << 20)
#define BASIC_COUNT  21 /* entries of the basic tree, its root included */
#define BASIC_HASHED 10 /* top.txt, hl.txt, empty, big, c.txt, x, 4 weird names */

struct fixture {
	char dir[64];
	int dirfd;
	char buf[PATH_MAX];
	char mnt[96]; /* a tmpfs mounted by the test, to detach in teardown */
};

static const char *const weird[] = { "new\nline", "ctl\001x", "\xff\xfe-bad", "-dash" };

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	if (fx->mnt[0])
		umount2(fx->mnt, MNT_DETACH);
	if (fx->dirfd >= 0)
		close(fx->dirfd);
	tree_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* "basic": files, a hard link, symlinks (a loop, one to ".."), a FIFO, a socket, odd names. */
static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *big = NULL;
	int fd, wfd = -1;

	if (!fx)
		return -1;
	*state = fx;
	fx->dirfd = -1;
	if (tree_mkdtemp(fx->dir, sizeof(fx->dir)) < 0)
		goto fail;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	big = malloc(BIG_SIZE);
	if (fx->dirfd < 0 || !big)
		goto fail;
	tree_fill(big, BIG_SIZE, 3);
	if (tree_write(fx->dirfd, "top.txt", "hello\n", 6) < 0 ||
	    linkat(fx->dirfd, "top.txt", fx->dirfd, "hl.txt", 0) < 0 ||
	    tree_write(fx->dirfd, "empty", "", 0) < 0 ||
	    tree_write(fx->dirfd, "big", big, BIG_SIZE) < 0 || mkdirat(fx->dirfd, "a", 0755) < 0 ||
	    mkdirat(fx->dirfd, "a/b", 0755) < 0 || tree_write(fx->dirfd, "a/b/c.txt", "c", 1) < 0 ||
	    mkdirat(fx->dirfd, "a/skipme", 0755) < 0 ||
	    tree_write(fx->dirfd, "a/skipme/x", "x", 1) < 0 ||
	    symlinkat("top.txt", fx->dirfd, "link") < 0 ||
	    symlinkat("loop2", fx->dirfd, "loop1") < 0 ||
	    symlinkat("loop1", fx->dirfd, "loop2") < 0 || symlinkat("..", fx->dirfd, "up") < 0 ||
	    mkfifoat(fx->dirfd, "fifo", 0644) < 0 || mkdirat(fx->dirfd, "weird", 0755) < 0)
		goto fail;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", fx->dir);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (fd >= 0)
			close(fd);
		goto fail;
	}
	close(fd);
	wfd = openat(fx->dirfd, "weird", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (wfd < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(weird) / sizeof(weird[0]); i++)
		if (tree_write(wfd, weird[i], weird[i], strlen(weird[i])) < 0)
			goto fail;
	close(wfd);
	free(big);
	return 0;
fail:
	if (wfd >= 0)
		close(wfd);
	free(big);
	fixture_teardown(state);
	*state = NULL;
	return -1;
}

static const char *P(struct fixture *fx, const char *rel)
{
	if (!rel[0])
		snprintf(fx->buf, sizeof(fx->buf), "%s", fx->dir);
	else
		snprintf(fx->buf, sizeof(fx->buf), "%s/%s", fx->dir, rel);
	return fx->buf;
}

static const struct entry *find(struct fixture *fx, const struct collect *c, const char *rel)
{
	return collect_find(c, P(fx, rel));
}

static void assert_hash_of(struct fixture *fx, const struct entry *e, const char *rel)
{
	struct entry ref = { 0 };

	assert_non_null(e);
	assert_int_equal(scan_hash_file(fx->dirfd, rel, HASH_XXH3_128, &ref), 0);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_int_equal(e->hash_len, 16);
	assert_memory_equal(e->hash, ref.hash, 16);
}

static struct scan_opts opts_for(const char *const *roots, size_t n, struct collect *c)
{
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = n;
	o.nthreads = 2;
	o.hash = HASH_XXH3_128;
	o.visit = collect_visit;
	o.userdata = c;
	return o;
}

static void test_walk_inventories_basic_tree(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);
	struct scan_stats stats;
	const struct entry *e, *h;

	assert_int_equal(scan_walk(&o, &stats, NULL), 0);
	assert_int_equal(c.n, BASIC_COUNT);
	assert_int_equal(stats.entries, BASIC_COUNT);
	assert_int_equal(stats.errors, 0);
	assert_int_equal(stats.files_hashed, BASIC_HASHED);
	assert_int_equal(stats.bytes_hashed, 6 + 6 + 0 + BIG_SIZE + 1 + 1 + 8 + 5 + 6 + 5);

	e = find(fx, &c, "");
	assert_non_null(e);
	assert_true(S_ISDIR(e->mode));
	assert_int_equal(e->hash_algo, HASH_NONE);

	e = find(fx, &c, "top.txt");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->size, 6);
	assert_int_equal(e->nlink, 2);
	assert_int_equal(e->kind, ENTRY_FILE);
	assert_hash_of(fx, e, "top.txt");
	h = find(fx, &c, "hl.txt"); /* a hard link is an entry of its own, hashed too */
	assert_hash_of(fx, h, "hl.txt");
	assert_int_equal(h->ino, e->ino);
	assert_hash_of(fx, find(fx, &c, "big"), "big");
	assert_hash_of(fx, find(fx, &c, "empty"), "empty");
	assert_hash_of(fx, find(fx, &c, "a/b/c.txt"), "a/b/c.txt");

	e = find(fx, &c, "link");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode));
	assert_int_equal(e->target_len, 7);
	assert_memory_equal(e->target, "top.txt", 7);
	assert_int_equal(e->hash_algo, HASH_NONE);
	e = find(fx, &c, "loop1");
	assert_non_null(e);
	assert_memory_equal(e->target, "loop2", 5);
	e = find(fx, &c, "up");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode));

	e = find(fx, &c, "fifo");
	assert_non_null(e);
	assert_true(S_ISFIFO(e->mode));
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(e->err, 0);
	e = find(fx, &c, "sock");
	assert_non_null(e);
	assert_true(S_ISSOCK(e->mode));

	for (size_t i = 0; i < sizeof(weird) / sizeof(weird[0]); i++) {
		char rel[64];

		snprintf(rel, sizeof(rel), "weird/%s", weird[i]);
		e = find(fx, &c, rel);
		assert_non_null(e);
		assert_int_equal(e->key_len, strlen(fx->dir) + strlen(rel) + 1);
		assert_int_equal(e->size, strlen(weird[i]));
	}
	for (size_t i = 0; i < c.n; i++) {
		assert_memory_equal(c.v[i].key, fx->dir, strlen(fx->dir));
		assert_null(memmem(c.v[i].key, c.v[i].key_len, "//", 2));
		assert_null(memmem(c.v[i].key, c.v[i].key_len, "/up/", 4));
	}
	collect_release(&c);
}

static struct collect nftw_paths;

static int nftw_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct entry e = { 0 };

	e.key = path;
	e.key_len = strlen(path);
	return collect_visit(&e, &nftw_paths) == SCAN_CONTINUE ? 0 : 1;
}

static void test_walk_matches_nftw(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	assert_int_equal(collect_walk(fx->dir, 2, &c), 0);
	assert_int_equal(nftw(fx->dir, nftw_cb, 16, FTW_PHYS), 0);
	collect_sort(&c);
	collect_sort(&nftw_paths);
	assert_int_equal(c.n, nftw_paths.n);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].key_len, nftw_paths.v[i].key_len);
		assert_memory_equal(c.v[i].key, nftw_paths.v[i].key, c.v[i].key_len);
	}
	collect_release(&c);
	collect_release(&nftw_paths);
}

static void test_walk_thread_counts_give_identical_output(void **state)
{
	struct fixture *fx = *state;
	struct collect c1 = { 0 }, c2 = { 0 }, c8 = { 0 };

	assert_int_equal(collect_walk(fx->dir, 1, &c1), 0);
	assert_int_equal(collect_walk(fx->dir, 2, &c2), 0);
	assert_int_equal(collect_walk(fx->dir, 8, &c8), 0);
	collect_sort(&c1);
	collect_sort(&c2);
	collect_sort(&c8);
	assert_int_equal(c1.n, BASIC_COUNT);
	assert_true(collect_equal(&c1, &c2));
	assert_true(collect_equal(&c1, &c8));
	collect_release(&c1);
	collect_release(&c2);
	collect_release(&c8);
}

/*
 * Depth-first pre-order with siblings in memcmp order: compare the paths
 * component by component, an ancestor first. Not the bytes order of the
 * whole paths ("/a/x" < "/a-b" here).
 */
static int preorder_cmp(const char *a, size_t al, const char *b, size_t bl)
{
	size_t i = 0, k = 0;

	for (;;) {
		size_t ie = i, ke = k;
		int r;

		if (i >= al || k >= bl)
			return (i < al) - (k < bl);
		while (ie < al && a[ie] != '/')
			ie++;
		while (ke < bl && b[ke] != '/')
			ke++;
		r = memcmp(a + i, b + k, ie - i < ke - k ? ie - i : ke - k);
		if (r)
			return r;
		if (ie - i != ke - k)
			return ie - i < ke - k ? -1 : 1;
		i = ie + 1;
		k = ke + 1;
		if (ie == al || ke == bl)
			return (ie < al) - (ke < bl);
	}
}

/* A tree whose listing order is not its sorted order, with names around '/'. */
static size_t make_order_tree(struct fixture *fx)
{
	static const char *const dirs[] = { "o", "o/a", "o/a/y", "o/b", "o/a-dir" };
	static const char *const files[] = { "o/a/x", "o/a/y/z", "o/a-b", "o/a.c",    "o/A",
					     "o/~",   "o/\xff",  "o/a0",  "o/a-dir/q" };
	size_t count = 0;
	int bfd;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++, count++)
		assert_int_equal(mkdirat(fx->dirfd, dirs[i], 0755), 0);
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++, count++)
		assert_int_equal(tree_write(fx->dirfd, files[i], "x", 1), 0);
	/* 700 names in o/b (3 chunks), created in descending order, every 37th a directory. */
	bfd = openat(fx->dirfd, "o/b", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(bfd >= 0);
	for (int i = 699; i >= 0; i--, count++) {
		char name[32];

		snprintf(name, sizeof(name), "%c%03d", "nmN"[i % 3], i);
		if (i % 37 == 0) {
			char sub[48];

			assert_int_equal(mkdirat(bfd, name, 0755), 0);
			snprintf(sub, sizeof(sub), "%s/in", name);
			assert_int_equal(tree_write(bfd, sub, "y", 1), 0);
			count++;
		} else {
			assert_int_equal(tree_write(bfd, name, "z", 1), 0);
		}
	}
	close(bfd);
	return count;
}

static void test_walk_one_thread_emits_sorted_preorder(void **state)
{
	struct fixture *fx = *state;
	size_t count = make_order_tree(fx);
	struct collect c = { 0 }, c2 = { 0 };

	assert_int_equal(collect_walk(P(fx, "o"), 1, &c), 0);
	assert_int_equal(c.n, count);
	for (size_t i = 1; i < c.n; i++)
		assert_true(preorder_cmp(c.v[i - 1].key, c.v[i - 1].key_len, c.v[i].key,
					 c.v[i].key_len) < 0);
	/* The directory comes right before its subtree, "a-b" after it. */
	for (size_t i = 1; i < c.n; i++) {
		if (strcmp(c.v[i].key, P(fx, "o/a-b")) == 0) {
			assert_string_equal(c.v[i - 1].key, P(fx, "o/a/y/z"));
			break;
		}
	}
	/* More threads: the same entries, in another order. */
	assert_int_equal(collect_walk(P(fx, "o"), 2, &c2), 0);
	collect_sort(&c);
	collect_sort(&c2);
	assert_true(collect_equal(&c, &c2));
	collect_release(&c);
	collect_release(&c2);
}

static void test_walk_roots_are_walked_in_sorted_order(void **state)
{
	struct fixture *fx = *state;
	char b[96], a[96];
	const char *roots[] = { b, a };
	struct collect c = { 0 };
	struct scan_opts o;

	make_order_tree(fx);
	snprintf(a, sizeof(a), "%s/o/a", fx->dir);
	snprintf(b, sizeof(b), "%s/o/b/", fx->dir); /* trailing slash: trimmed before sorting */
	o = opts_for(roots, 2, &c);
	o.nthreads = 1;
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	assert_true(c.n > 4);
	assert_string_equal(c.v[0].key, a);
	for (size_t i = 1; i < c.n; i++)
		assert_true(preorder_cmp(c.v[i - 1].key, c.v[i - 1].key_len, c.v[i].key,
					 c.v[i].key_len) < 0);
	collect_release(&c);
}

static void test_walk_sha256_same_for_any_thread_count(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c[3] = { { 0 } };
	const unsigned threads[3] = { 1, 2, 8 };
	struct scan_stats st;

	for (int i = 0; i < 3; i++) {
		struct scan_opts o = opts_for(roots, 1, &c[i]);

		o.nthreads = threads[i];
		o.hash = HASH_SHA256;
		assert_int_equal(scan_walk(&o, &st, NULL), 0);
		assert_int_equal(st.files_hashed, BASIC_HASHED);
		collect_sort(&c[i]);
	}
	assert_true(collect_equal(&c[0], &c[1]));
	assert_true(collect_equal(&c[0], &c[2]));
	for (size_t i = 0; i < c[0].n; i++) {
		const struct entry *e = &c[0].v[i];
		struct entry ref = { 0 };
		const char *rel = e->key + strlen(fx->dir) + 1;

		if (e->hash_algo == HASH_NONE)
			continue;
		assert_int_equal(e->hash_algo, HASH_SHA256);
		assert_int_equal(e->hash_len, 32);
		assert_int_equal(scan_hash_file(fx->dirfd, rel, HASH_SHA256, &ref), 0);
		assert_memory_equal(e->hash, ref.hash, 32);
	}
	for (int i = 0; i < 3; i++)
		collect_release(&c[i]);
}

struct decider {
	char path[128];
	unsigned verdict;       /* for path */
	unsigned others;        /* for everything else */
	atomic_int calls_below; /* calls for paths below path */
};

static unsigned decide_cb(const char *path, size_t len, void *userdata)
{
	struct decider *d = userdata;
	size_t pl = strlen(d->path);

	if (len == pl && !memcmp(path, d->path, len))
		return d->verdict;
	if (len > pl && !memcmp(path, d->path, pl) && path[pl] == '/')
		atomic_fetch_add(&d->calls_below, 1);
	return d->others;
}

static void walk_decided(struct fixture *fx, struct decider *d, struct collect *c,
			 struct scan_stats *stats)
{
	const char *roots[] = { fx->dir };
	struct scan_opts o = opts_for(roots, 1, c);

	o.decide = decide_cb;
	o.decide_data = d;
	assert_int_equal(scan_walk(&o, stats, NULL), 0);
}

static void test_walk_decide_skip_prunes_subtree(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .verdict = SCAN_SKIP, .others = SCAN_ALL };
	struct collect c = { 0 };
	struct scan_stats stats;

	snprintf(d.path, sizeof(d.path), "%s/a", fx->dir);
	walk_decided(fx, &d, &c, &stats);
	assert_int_equal(c.n, BASIC_COUNT - 5);
	assert_null(find(fx, &c, "a"));
	assert_null(find(fx, &c, "a/b"));
	assert_int_equal(atomic_load(&d.calls_below), 0);
	collect_release(&c);
}

static void test_walk_decide_no_descend_records_dir_only(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .verdict = SCAN_STAT | SCAN_NO_DESCEND, .others = SCAN_ALL };
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	snprintf(d.path, sizeof(d.path), "%s/a", fx->dir);
	walk_decided(fx, &d, &c, &stats);
	assert_int_equal(c.n, BASIC_COUNT - 4);
	e = find(fx, &c, "a");
	assert_non_null(e);
	assert_true(S_ISDIR(e->mode));
	assert_null(find(fx, &c, "a/b"));
	assert_int_equal(atomic_load(&d.calls_below), 0);
	collect_release(&c);
}

static void test_walk_decide_stat_only_leaves_files_unhashed(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .verdict = SCAN_ALL, .others = SCAN_STAT };
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	snprintf(d.path, sizeof(d.path), "%s/top.txt", fx->dir);
	walk_decided(fx, &d, &c, &stats);
	assert_int_equal(c.n, BASIC_COUNT);
	assert_int_equal(stats.files_hashed, 1);
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].hash_algo != HASH_NONE)
			assert_string_equal(c.v[i].key, d.path);
	e = find(fx, &c, "big");
	assert_non_null(e);
	assert_int_equal(e->size, BIG_SIZE);
	collect_release(&c);
}

/* 180 nested directories of 25 characters: about 4,700 bytes of path. */
static int make_deep(struct fixture *fx, const char *content, size_t *ret_depth)
{
	int fd = openat(fx->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *name = "deep-abcdefghijklmnopqrst";
	size_t depth = 180;

	assert_int_equal(strlen(name), 25);
	for (size_t i = 0; i < depth && fd >= 0; i++) {
		int next;

		if (mkdirat(fd, name, 0755) < 0) {
			close(fd);
			return -1;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0 || tree_write(fd, "bottom.txt", content, strlen(content)) < 0)
		return -1;
	close(fd);
	*ret_depth = depth;
	return 0;
}

static void test_walk_finds_file_beyond_path_max(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 }, tiny = { 0 }, one = { 0 };
	const char *content = "at the bottom\n";
	const struct entry *bottom = NULL;
	size_t depth;
	uint8_t want[16];
	struct entry ref = { 0 };

	/* The reference digest first: creating "flat" later would change the root's mtime. */
	assert_int_equal(tree_write(fx->dirfd, "flat", content, strlen(content)), 0);
	assert_int_equal(scan_hash_file(fx->dirfd, "flat", HASH_XXH3_128, &ref), 0);
	memcpy(want, ref.hash, 16);
	assert_int_equal(unlinkat(fx->dirfd, "flat", 0), 0);
	assert_int_equal(make_deep(fx, content, &depth), 0);
	assert_int_equal(collect_walk(fx->dir, 2, &c), 0);
	assert_int_equal(c.n, BASIC_COUNT + depth + 1);
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].key_len > 11 &&
		    !memcmp(c.v[i].key + c.v[i].key_len - 11, "/bottom.txt", 11))
			bottom = &c.v[i];
	assert_non_null(bottom);
	if (!bottom)
		return; /* tells gcc's -Wnull-dereference what assert_non_null() means */
	assert_true(bottom->key_len > PATH_MAX);
	assert_int_equal(bottom->size, strlen(content));
	assert_int_equal(bottom->err, 0);
	assert_memory_equal(bottom->hash, want, 16);

	/* Starved of directory fds: every job reopens its directory from the top. */
	assert_int_equal(setenv("DRIFT_TEST_FD_BUDGET", "0", 1), 0);
	assert_int_equal(collect_walk(fx->dir, 2, &tiny), 0);
	assert_int_equal(setenv("DRIFT_TEST_FD_BUDGET", "3", 1), 0);
	assert_int_equal(collect_walk(fx->dir, 8, &one), 0);
	unsetenv("DRIFT_TEST_FD_BUDGET");
	collect_sort(&c);
	collect_sort(&tiny);
	collect_sort(&one);
	assert_true(collect_equal(&c, &tiny));
	assert_true(collect_equal(&c, &one));
	collect_release(&c);
	collect_release(&tiny);
	collect_release(&one);
}

static void test_walk_root_may_be_a_file(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	assert_int_equal(collect_walk(P(fx, "big"), 2, &c), 0);
	assert_int_equal(c.n, 1);
	assert_string_equal(c.v[0].key, P(fx, "big"));
	assert_hash_of(fx, &c.v[0], "big");
	collect_release(&c);
}

/* A directory with nothing in it: no names to sort (UBSan caught NULL + 0 here). */
static void test_walk_empty_directory_is_one_entry(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	assert_int_equal(mkdir(P(fx, "vacant-dir"), 0755), 0);
	for (unsigned t = 1; t <= 2; t++) {
		assert_int_equal(collect_walk(P(fx, "vacant-dir"), t, &c), 0);
		assert_int_equal(c.n, 1);
		assert_true(S_ISDIR(c.v[0].mode));
		collect_release(&c);
	}
	rmdir(P(fx, "vacant-dir"));
}

static unsigned decide_depth1(const char *path, size_t len, void *userdata)
{
	size_t slashes = 0;

	for (size_t i = 0; i < len; i++)
		slashes += path[i] == '/';
	if (len == 1)
		return SCAN_ALL;
	return slashes == 1 ? SCAN_STAT | SCAN_NO_DESCEND : SCAN_SKIP;
}

static void test_walk_root_slash_gives_single_slash_keys(void **state)
{
	const char *roots[] = { "/" };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);
	const struct entry *e;

	o.decide = decide_depth1;
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	e = collect_find(&c, "/");
	assert_non_null(e);
	assert_true(S_ISDIR(e->mode));
	assert_non_null(collect_find(&c, "/tmp"));
	for (size_t i = 0; i < c.n; i++)
		assert_false(c.v[i].key_len > 1 && c.v[i].key[1] == '/');
	collect_release(&c);
}

static void test_walk_nested_roots_are_walked_once(void **state)
{
	struct fixture *fx = *state;
	char a[128], slash[128];
	const char *roots[] = { a, fx->dir, slash, fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 4, &c);

	snprintf(a, sizeof(a), "%s/a", fx->dir);
	snprintf(slash, sizeof(slash), "%s/", fx->dir);
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	assert_int_equal(c.n, BASIC_COUNT);
	collect_sort(&c);
	for (size_t i = 1; i < c.n; i++)
		assert_false(c.v[i].key_len == c.v[i - 1].key_len &&
			     !memcmp(c.v[i].key, c.v[i - 1].key, c.v[i].key_len));
	collect_release(&c);
}

static void test_walk_missing_root_returns_enoent(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir, P(fx, "nope") };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 2, &c);
	struct scan_stats stats;
	struct diag d = { 0 };

	assert_int_equal(scan_walk(&o, &stats, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "nope"));
	assert_int_equal(stats.entries, 0);
	assert_int_equal(c.n, 0);
}

static void test_walk_rejects_bad_options(void **state)
{
	struct fixture *fx = *state;
	const char *rel[] = { "relative/path" };
	const char *roots[] = { fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(rel, 1, &c);

	assert_int_equal(scan_walk(&o, NULL, NULL), -EINVAL);
	o = opts_for(roots, 1, &c);
	o.hash = (enum hash_algo)99; /* no such algorithm */
	assert_int_equal(scan_walk(&o, NULL, NULL), -EOPNOTSUPP);
	o = opts_for(roots, 1, &c);
	o.visit = NULL;
	assert_int_equal(scan_walk(&o, NULL, NULL), -EINVAL);
	assert_int_equal(c.n, 0);
}

static void test_root_resolve_normalizes_and_fails_cleanly(void **state)
{
	struct fixture *fx = *state;
	char *sentinel = (char *)(uintptr_t)0x1, *p = sentinel;
	char expect[PATH_MAX], *real;
	struct diag d = { 0 };

	assert_int_equal(scan_root_resolve(P(fx, "missing/x"), &p, &d), -ENOENT);
	assert_ptr_equal(p, sentinel);
	assert_non_null(strstr(d.msg, "missing/x"));

	real = realpath(fx->dir, NULL);
	assert_non_null(real);
	snprintf(expect, sizeof(expect), "%s/top.txt", real);
	assert_int_equal(scan_root_resolve(P(fx, "a//b/../../link"), &p, NULL), 0);
	assert_string_equal(p, expect); /* the symlink in the root path is followed */
	free(p);
	free(real);
}

static void test_walk_stop_from_visit_cancels_and_joins(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c = { .stop_after = 3 };
	struct scan_opts o = opts_for(roots, 1, &c);
	struct scan_stats stats;
	int threads = tree_thread_count(); /* 1, or 2 under TSan (its background thread) */

	o.nthreads = 4;
	assert_int_equal(scan_walk(&o, &stats, NULL), -ECANCELED);
	assert_int_equal(c.n, 3);
	assert_int_equal(stats.entries, 3);
	assert_int_equal(tree_thread_count_settled(threads), threads);
	collect_release(&c);
}

struct ticker {
	int ticks;
	bool stop;
};

static struct ticker ticker;

static bool tick_count(const struct scan_stats *stats, void *userdata)
{
	(void)stats;
	(void)userdata;
	ticker.ticks++;
	return ticker.stop;
}

static unsigned decide_slow_root(const char *path, size_t len, void *userdata)
{
	const char *root = userdata;

	if (len == strlen(root) && !memcmp(path, root, len))
		usleep(650 * 1000); /* nothing reaches the caller meanwhile */
	return SCAN_ALL;
}

static void test_walk_ticks_while_idle_and_tick_can_stop(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);
	int threads;

	o.decide = decide_slow_root;
	o.decide_data = fx->dir;
	o.tick = tick_count;
	ticker = (struct ticker){ 0 };
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	assert_true(ticker.ticks >= 2);
	assert_int_equal(c.n, BASIC_COUNT);
	collect_release(&c);

	ticker = (struct ticker){ .stop = true };
	threads = tree_thread_count();
	assert_int_equal(scan_walk(&o, NULL, NULL), -ECANCELED);
	assert_int_equal(ticker.ticks, 1);
	assert_int_equal(tree_thread_count_settled(threads), threads);
	collect_release(&c);
}

/* Does the calling thread block SIGINT? -1 if unknown. */
static int self_blocks_sigint(void)
{
	FILE *f = fopen("/proc/thread-self/status", "re");
	unsigned long long mask;
	char line[256];
	int r = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "SigBlk: %llx", &mask) == 1)
			r = (mask >> (SIGINT - 1)) & 1;
	fclose(f);
	return r;
}

struct sigcheck {
	atomic_int decided;  /* decide calls, on worker threads */
	atomic_int blocking; /* ... made with SIGINT blocked */
	int visits_blocking; /* visit calls (the caller thread) with SIGINT blocked */
};

static unsigned decide_sigcheck(const char *path, size_t len, void *userdata)
{
	struct sigcheck *sc = userdata;

	atomic_fetch_add(&sc->decided, 1);
	if (self_blocks_sigint() == 1)
		atomic_fetch_add(&sc->blocking, 1);
	return SCAN_ALL;
}

static enum scan_action visit_sigcheck(const struct entry *e, void *userdata)
{
	struct sigcheck *sc = userdata;

	(void)e;
	sc->visits_blocking += self_blocks_sigint() != 0;
	return SCAN_CONTINUE;
}

static void test_walk_workers_block_signals(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct sigcheck sc = { 0 };
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = 1;
	o.nthreads = 3;
	o.hash = HASH_XXH3_128;
	o.decide = decide_sigcheck;
	o.decide_data = &sc;
	o.visit = visit_sigcheck;
	o.userdata = &sc;
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	assert_int_equal(atomic_load(&sc.decided), BASIC_COUNT);
	assert_int_equal(atomic_load(&sc.blocking), BASIC_COUNT);
	assert_int_equal(sc.visits_blocking, 0);
}

/*
 * Mount a 1 MiB tmpfs on <fixture>/mnt in a private mount namespace (the
 * test process stays in it; teardown detaches the mount). False when that
 * is not allowed (EPERM: not root, or in a container): the test skips.
 */
static bool mount_tmpfs(struct fixture *fx)
{
	char mnt[96];

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return false;
	snprintf(mnt, sizeof(mnt), "%s/mnt", fx->dir);
	assert_int_equal(mkdir(mnt, 0755), 0);
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=1m") < 0)
		return false;
	memcpy(fx->mnt, mnt, sizeof(mnt)); /* teardown detaches it */
	return true;
}

#define NO_MOUNT "cannot mount here (not root, or in a container)"

static void test_walk_does_not_cross_mounts_unless_asked(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);
	char inside[128];
	const struct entry *e;

	if (!mount_tmpfs(fx))
		tap_skip(NO_MOUNT);
	/* By path: fx->dirfd belongs to the mount namespace we just left. */
	snprintf(inside, sizeof(inside), "%s/inside", fx->mnt);
	assert_int_equal(tree_write(AT_FDCWD, inside, "i", 1), 0);

	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	e = find(fx, &c, "mnt");
	assert_non_null(e);
	assert_true(S_ISDIR(e->mode));
	assert_null(find(fx, &c, "mnt/inside"));
	assert_int_equal(c.n, BASIC_COUNT + 1);
	collect_release(&c);

	o.cross_mounts = true;
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	assert_non_null(find(fx, &c, "mnt/inside"));
	collect_release(&c);
}

static void assert_no_duplicate_keys(struct collect *c)
{
	collect_sort(c);
	for (size_t i = 1; i < c->n; i++)
		assert_false(c->v[i].key_len == c->v[i - 1].key_len &&
			     !memcmp(c->v[i].key, c->v[i - 1].key, c->v[i].key_len));
}

static void test_walk_nested_root_on_other_filesystem_is_emitted_once(void **state)
{
	struct fixture *fx = *state;
	char inside[128];
	const char *roots[] = { fx->dir, fx->mnt };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 2, &c);
	const struct entry *e;

	if (!mount_tmpfs(fx))
		tap_skip(NO_MOUNT);
	snprintf(inside, sizeof(inside), "%s/inside", fx->mnt);
	assert_int_equal(tree_write(AT_FDCWD, inside, "i", 1), 0);
	/* The outer walk must leave the mount point to the inner root (as for /dev, /dev/shm). */
	for (int cross = 0; cross < 2; cross++) {
		o.cross_mounts = cross;
		assert_int_equal(scan_walk(&o, NULL, NULL), 0);
		assert_int_equal(c.n, BASIC_COUNT + 2);
		e = find(fx, &c, "mnt");
		assert_non_null(e);
		assert_true(S_ISDIR(e->mode));
		assert_non_null(collect_find(&c, inside));
		assert_no_duplicate_keys(&c);
		collect_release(&c);
	}
}

static void test_walk_nested_root_reached_only_through_a_mount_is_walked(void **state)
{
	struct fixture *fx = *state;
	char sub[128], bottom[160];
	const char *roots[] = { fx->dir, sub };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 2, &c);
	const struct entry *e;

	/* <dir>/mnt is a tmpfs; <dir>/mnt/sub shows <dir>/a/b again: the root's own st_dev. */
	if (!mount_tmpfs(fx))
		tap_skip(NO_MOUNT);
	snprintf(sub, sizeof(sub), "%s/sub", fx->mnt);
	assert_int_equal(mkdir(sub, 0755), 0);
	if (mount(P(fx, "a/b"), sub, NULL, MS_BIND, NULL) < 0)
		tap_skip(NO_MOUNT);
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	snprintf(bottom, sizeof(bottom), "%s/c.txt", sub);
	e = collect_find(&c, bottom);
	assert_non_null(e); /* the outer walk stops at mnt: only the inner root reaches it */
	assert_hash_of(fx, e, "a/b/c.txt");
	assert_non_null(collect_find(&c, sub));
	assert_non_null(find(fx, &c, "a/b/c.txt"));
	assert_int_equal(c.n, BASIC_COUNT + 3); /* mnt, mnt/sub, mnt/sub/c.txt */
	assert_no_duplicate_keys(&c);
	collect_release(&c);
}

static void set_mtime(const char *dir, const char *name, time_t sec, long nsec)
{
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { sec, nsec } };
	char path[160];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_int_equal(tree_write(AT_FDCWD, path, "t", 1), 0);
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mtim.tv_sec, sec); /* tmpfs keeps any time */
}

static int64_t mtime_of(struct fixture *fx, const struct collect *c, const char *name)
{
	char path[160];
	const struct entry *e;

	snprintf(path, sizeof(path), "%s/%s", fx->mnt, name);
	e = collect_find(c, path);
	assert_non_null(e);
	return e ? e->mtime_ns : 0;
}

static void test_walk_saturates_times_outside_int64_nanoseconds(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->mnt };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);

	if (!mount_tmpfs(fx))
		tap_skip(NO_MOUNT);
	set_mtime(fx->mnt, "y2400", 13569465600, 0);  /* 2400-01-01 */
	set_mtime(fx->mnt, "y2500", 16725225600, 5);  /* 2500-01-01 */
	set_mtime(fx->mnt, "y1500", -14831769600, 0); /* 1500-01-01 */
	set_mtime(fx->mnt, "y1600", -11676096000, 7); /* 1600-01-01 */
	set_mtime(fx->mnt, "max-1", 9223372036, 854775806);
	set_mtime(fx->mnt, "max+1", 9223372036, 854775808);
	set_mtime(fx->mnt, "min+1", -9223372037, 145224193);
	set_mtime(fx->mnt, "min-1", -9223372037, 145224191);
	set_mtime(fx->mnt, "y1969", -1, 999999999);
	assert_int_equal(scan_walk(&o, NULL, NULL), 0);
	/* Saturated, not wrapped (2400 used to come out as 1815); out-of-range times tie. */
	assert_true(mtime_of(fx, &c, "y2400") == INT64_MAX);
	assert_true(mtime_of(fx, &c, "y2500") == INT64_MAX);
	assert_true(mtime_of(fx, &c, "max+1") == INT64_MAX);
	assert_true(mtime_of(fx, &c, "y1500") == INT64_MIN);
	assert_true(mtime_of(fx, &c, "y1600") == INT64_MIN);
	assert_true(mtime_of(fx, &c, "min-1") == INT64_MIN);
	/* The representable extremes are exact. */
	assert_true(mtime_of(fx, &c, "max-1") == INT64_MAX - 1);
	assert_true(mtime_of(fx, &c, "min+1") == INT64_MIN + 1);
	assert_true(mtime_of(fx, &c, "y1969") == -1);
	collect_release(&c);
}

static void test_walk_hashes_terabyte_sparse_file_by_its_data(void **state)
{
	struct fixture *fx = *state;
	const char *roots[] = { fx->dir };
	struct collect c = { 0 };
	struct scan_opts o = opts_for(roots, 1, &c);
	struct scan_stats stats;
	const struct entry *e;
	struct stat st;
	int fd;

	fd = openat(fx->dirfd, "tera", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	if (ftruncate(fd, (off_t)1 << 40) < 0 || fstat(fd, &st) < 0 ||
	    (uint64_t)st.st_blocks * 512 >= (uint64_t)1 << 40) {
		close(fd);
		tap_skip("no holes, or no 1 TiB files, on this filesystem");
	}
	close(fd);
	/* Its 1 TiB of zeros would take half a minute; in block form only its data counts. */
	assert_int_equal(scan_walk(&o, &stats, NULL), 0);
	e = find(fx, &c, "tera");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->size, (uint64_t)1 << 40);
	assert_int_equal(e->err, 0);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_int_equal(e->flags, 0);
	assert_int_equal(stats.files_hashed, BASIC_HASHED + 1);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

static void test_walk_big_directory(void **state)
{
	struct fixture *fx = *state;
	const size_t n = 20000;
	struct collect c = { 0 };
	int dfd;

	assert_int_equal(mkdirat(fx->dirfd, "many", 0755), 0);
	dfd = openat(fx->dirfd, "many", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	/* Hard links: creating 20,000 inodes takes seconds on ext4, links do not. */
	assert_int_equal(tree_write(dfd, "file", "f", 1), 0);
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof(name), "link-%06zu", i);
		assert_int_equal(linkat(dfd, "file", dfd, name, 0), 0);
	}
	close(dfd);
	assert_int_equal(collect_walk(P(fx, "many"), 2, &c), 0);
	assert_int_equal(c.n, n + 2);
	collect_sort(&c);
	for (size_t i = 1; i < c.n; i++)
		assert_int_not_equal(strcmp(c.v[i].key, c.v[i - 1].key), 0);
	collect_release(&c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_walk_inventories_basic_tree),
		T(test_walk_matches_nftw),
		T(test_walk_thread_counts_give_identical_output),
		T(test_walk_decide_skip_prunes_subtree),
		T(test_walk_decide_no_descend_records_dir_only),
		T(test_walk_decide_stat_only_leaves_files_unhashed),
		T(test_walk_finds_file_beyond_path_max),
		T(test_walk_root_may_be_a_file),
		T(test_walk_empty_directory_is_one_entry),
		T(test_walk_root_slash_gives_single_slash_keys),
		T(test_walk_nested_roots_are_walked_once),
		T(test_walk_missing_root_returns_enoent),
		T(test_walk_rejects_bad_options),
		T(test_root_resolve_normalizes_and_fails_cleanly),
		T(test_walk_stop_from_visit_cancels_and_joins),
		T(test_walk_ticks_while_idle_and_tick_can_stop),
		T(test_walk_big_directory),
		T(test_walk_one_thread_emits_sorted_preorder),
		T(test_walk_roots_are_walked_in_sorted_order),
		T(test_walk_sha256_same_for_any_thread_count),
		T(test_walk_workers_block_signals),
		T(test_walk_hashes_terabyte_sparse_file_by_its_data),
		/* These enter a private mount namespace: last. */
		T(test_walk_does_not_cross_mounts_unless_asked),
		T(test_walk_nested_root_on_other_filesystem_is_emitted_once),
		T(test_walk_nested_root_reached_only_through_a_mount_is_walked),
		T(test_walk_saturates_times_outside_int64_nanoseconds),
	};
#undef T
	return tap_run_group_tests_name("scanner/walk", tests, NULL, NULL);
}
