/*
 * MIME types from libmagic: collected by the walker (SCAN_MIME with
 * scan_opts.may_mime, each thread with its own handle) and by
 * scan_mime_file(). Wraps scan_sys_openat to count what gets opened.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/scanner.h"
#include "scanner/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "tree.h"

#include "common/banned.h"

static struct {
	const char *count_name; /* count opens of this component */
	atomic_int opens;
} seam;

int __real_scan_sys_openat(int dirfd, const char *name, int flags);
int __wrap_scan_sys_openat(int dirfd, const char *name, int flags);

int __wrap_scan_sys_openat(int dirfd, const char *name, int flags)
{
	if (seam.count_name && !strcmp(name, seam.count_name))
		atomic_fetch_add(&seam.opens, 1);
	return __real_scan_sys_openat(dirfd, name, flags);
}

struct fixture {
	char dir[64];
	int dirfd;
	char buf[PATH_MAX];
};

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	memset(&seam, 0, sizeof(seam));
	if (fx->dirfd >= 0)
		close(fx->dirfd);
	tree_rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* Copy the host's /bin/true: test data, not a dependency on the host's setup. */
static int copy_true(int dirfd, const char *name)
{
	int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf = NULL;
	int r = -1;

	if (in < 0 || fstat(in, &st) < 0)
		goto out;
	buf = malloc((size_t)st.st_size);
	if (!buf || read(in, buf, (size_t)st.st_size) != st.st_size)
		goto out;
	r = tree_write(dirfd, name, buf, (size_t)st.st_size);
out:
	free(buf);
	if (in >= 0)
		close(in);
	return r;
}

/* "mime": an ELF binary, a shell script, text, an empty file, a FIFO, a symlink, a dir. */
static int fixture_setup(void **state)
{
	static const char script[] = "#!/bin/sh\necho hello\nexit 0\n";
	static const char text[] = "The quick brown fox jumps over the lazy dog.\n";
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	fx->dirfd = -1;
	memset(&seam, 0, sizeof(seam));
	if (tree_mkdtemp(fx->dir, sizeof(fx->dir)) < 0)
		goto fail;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->dirfd < 0 || copy_true(fx->dirfd, "elf") < 0 ||
	    tree_write(fx->dirfd, "script", script, strlen(script)) < 0 ||
	    tree_write(fx->dirfd, "text", text, strlen(text)) < 0 ||
	    tree_write(fx->dirfd, "empty", "", 0) < 0 || mkfifoat(fx->dirfd, "fifo", 0644) < 0 ||
	    symlinkat("text", fx->dirfd, "ln") < 0 || mkdirat(fx->dirfd, "dir", 0755) < 0)
		goto fail;
	return 0;
fail:
	fixture_teardown(state);
	*state = NULL;
	return -1;
}

static const char *P(struct fixture *fx, const char *rel)
{
	snprintf(fx->buf, sizeof(fx->buf), "%s/%s", fx->dir, rel);
	return fx->buf;
}

static unsigned decide(const char *path, size_t len, void *userdata)
{
	(void)path;
	(void)len;
	return *(const unsigned *)userdata;
}

static int walk(struct fixture *fx, unsigned want, bool may_mime, unsigned nthreads,
		struct collect *c, struct diag *reterr)
{
	const char *roots[] = { fx->dir };
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = 1;
	o.nthreads = nthreads;
	o.hash = HASH_XXH3_128;
	o.decide = decide;
	o.decide_data = &want;
	o.visit = collect_visit;
	o.userdata = c;
	o.may_mime = may_mime;
	return scan_walk(&o, NULL, reterr);
}

static const char *mime_of(struct fixture *fx, const struct collect *c, const char *rel)
{
	const struct entry *e = collect_find(c, P(fx, rel));

	assert_non_null(e);
	if (!e)
		return "(no entry)";
	assert_int_equal(e->collected, ATTR_MIME);
	return e->mime ? e->mime : "(null)";
}

static void test_walk_mime_of_each_kind_of_file(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	static const unsigned wants[] = { SCAN_STAT | SCAN_MIME, SCAN_ALL | SCAN_MIME };

	for (size_t k = 0; k < 2; k++) {
		unsigned want = wants[k];

		/* With SCAN_HASH the fd it was hashed through is at its end: offset reset. */
		seam.count_name = "fifo";
		assert_int_equal(walk(fx, want, true, 3, &c, NULL), 0);
		assert_int_equal(c.n, 8);
		assert_string_equal(mime_of(fx, &c, "elf"), "application/x-pie-executable");
		assert_string_equal(mime_of(fx, &c, "script"), "text/x-shellscript");
		assert_string_equal(mime_of(fx, &c, "text"), "text/plain");
		assert_string_equal(mime_of(fx, &c, "empty"), "application/x-empty");
		/* Not regular files: collected and absent, never opened. */
		assert_string_equal(mime_of(fx, &c, "fifo"), "(null)");
		assert_string_equal(mime_of(fx, &c, "ln"), "(null)");
		assert_string_equal(mime_of(fx, &c, "dir"), "(null)");
		assert_int_equal(atomic_load(&seam.opens), 0);
		if (want & SCAN_HASH)
			assert_int_equal(collect_find(&c, P(fx, "elf"))->hash_algo, HASH_XXH3_128);
		collect_release(&c);
	}
}

static void test_walk_mime_needs_may_mime(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };

	assert_int_equal(walk(fx, SCAN_ALL | SCAN_MIME, false, 2, &c, NULL), 0);
	assert_int_equal(c.n, 8);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].collected, 0);
		assert_null(c.v[i].mime);
	}
	collect_release(&c);

	/* may_mime without anyone asking: nothing collected either. */
	assert_int_equal(walk(fx, SCAN_ALL, true, 2, &c, NULL), 0);
	for (size_t i = 0; i < c.n; i++)
		assert_int_equal(c.v[i].collected, 0);
	collect_release(&c);
}

static void test_walk_mime_fails_without_a_database(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct diag d = { 0 };
	int r;

	assert_int_equal(setenv("MAGIC", P(fx, "no-such-magic-file"), 1), 0);
	r = walk(fx, SCAN_ALL | SCAN_MIME, true, 2, &c, &d);
	unsetenv("MAGIC");
	assert_true(r < 0);
	assert_non_null(strstr(d.msg, "libmagic"));
	assert_int_equal(c.n, 0);
	collect_release(&c);
}

static void test_mime_file_classifies_and_copies(void **state)
{
	struct fixture *fx = *state;
	char *mime = NULL;

	assert_int_equal(scan_mime_file(-1, P(fx, "elf"), &mime, NULL), 0);
	assert_string_equal(mime, "application/x-pie-executable");
	free(mime);
	mime = NULL;
	assert_int_equal(scan_mime_file(-1, P(fx, "script"), &mime, NULL), 0);
	assert_string_equal(mime, "text/x-shellscript");
	free(mime);
}

static void test_mime_file_refuses_symlink_fifo_and_keeps_output(void **state)
{
	struct fixture *fx = *state;
	char *mime = (char *)(uintptr_t) "untouched";
	struct diag d = { 0 };

	seam.count_name = "fifo";
	assert_int_equal(scan_mime_file(-1, P(fx, "fifo"), &mime, &d), -EINVAL);
	assert_int_equal(atomic_load(&seam.opens), 0);
	assert_non_null(strstr(d.msg, "not a regular file"));
	assert_int_equal(scan_mime_file(-1, P(fx, "ln"), &mime, &d), -ELOOP);
	assert_int_equal(scan_mime_file(-1, P(fx, "dir"), &mime, &d), -EINVAL);
	assert_int_equal(scan_mime_file(-1, P(fx, "missing"), &mime, &d), -ENOENT);
	assert_non_null(strstr(d.msg, "missing"));
	assert_int_equal(scan_mime_file(-1, "", &mime, &d), -EINVAL);
	/* A symlink on the way is refused too. */
	assert_int_equal(symlinkat("dir", fx->dirfd, "dirlink"), 0);
	assert_int_equal(tree_write(fx->dirfd, "dir/f", "f\n", 2), 0);
	assert_int_equal(scan_mime_file(-1, P(fx, "dirlink/f"), &mime, &d), -ELOOP);
	/* Under a root: keys are looked up from its fd, never above it. */
	assert_int_equal(scan_mime_file(fx->dirfd, "/dirlink/f", &mime, &d), -ELOOP);
	assert_int_equal(scan_mime_file(fx->dirfd, "/dir/../dir/f", &mime, &d), -EINVAL);
	assert_int_equal(scan_mime_file(fx->dirfd, "/../../etc/passwd", &mime, &d), -EINVAL);
	assert_string_equal(mime, "untouched");
	assert_int_equal(scan_mime_file(fx->dirfd, "/dir/f", &mime, &d), 0);
	assert_string_equal(mime, "text/plain");
	free(mime);
}

static void test_mime_file_beyond_path_max(void **state)
{
	struct fixture *fx = *state;
	const char *name = "deep-abcdefghijklmnopqrst";
	char *path = NULL, *mime = NULL;
	size_t len, cap = strlen(fx->dir) + 181 * 26 + 16;
	int fd = dup(fx->dirfd);

	path = malloc(cap);
	assert_non_null(path);
	if (!path)
		return;
	len = (size_t)snprintf(path, cap, "%s", fx->dir);
	for (int i = 0; i < 180 && fd >= 0; i++) {
		int next;

		assert_int_equal(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
		len += (size_t)snprintf(path + len, cap - len, "/%s", name);
	}
	assert_true(fd >= 0);
	assert_int_equal(tree_write(fd, "s.sh", "#!/bin/sh\nexit 0\n", 17), 0);
	close(fd);
	snprintf(path + len, cap - len, "/s.sh");
	assert_true(strlen(path) > PATH_MAX);
	assert_int_equal(scan_mime_file(-1, path, &mime, NULL), 0);
	assert_string_equal(mime, "text/x-shellscript");
	free(mime);
	free(path);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_walk_mime_of_each_kind_of_file),
		T(test_walk_mime_needs_may_mime),
		T(test_walk_mime_fails_without_a_database),
		T(test_mime_file_classifies_and_copies),
		T(test_mime_file_refuses_symlink_fifo_and_keeps_output),
		T(test_mime_file_beyond_path_max),
	};
#undef T

	return cmocka_run_group_tests_name("scanner/mime", tests, NULL, NULL);
}
