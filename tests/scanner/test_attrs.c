/*
 * The optional attributes (xattrs, ACL, caps, SELinux label) and
 * SCAN_NO_ENTRY, through scan_walk() on fixture trees, plus the xattrs blob
 * helpers of common/entry.h. This executable wraps scan_sys_openat (to
 * count opens and fake a failure) and scan_sys_fgetxattr (to fake ERANGE
 * and a label); the fakes pass through unless configured, by globals set
 * before the walk's threads start.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "scanner/scanner.h"
#include "scanner/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/entry.h"
#include "tree.h"

#include "common/banned.h"

#define ATTRS_ALL (SCAN_XATTRS | SCAN_ACL | SCAN_CAPS | SCAN_SELINUX)

static struct {
	const char *count_name; /* count opens of this component */
	atomic_int opens;       /* opens without O_PATH */
	atomic_int path_opens;  /* O_PATH opens */
	const char *fail_name;  /* openat of this component fails with fail_err */
	int fail_err;
	const char *erange_name; /* fgetxattr of this name says ERANGE erange_left times */
	atomic_int erange_left;
	const char *label; /* fgetxattr("security.selinux") returns it, NUL included */
} seam;

int __real_scan_sys_openat(int dirfd, const char *name, int flags);
int __wrap_scan_sys_openat(int dirfd, const char *name, int flags);
ssize_t __real_scan_sys_fgetxattr(int fd, const char *name, void *buf, size_t len);
ssize_t __wrap_scan_sys_fgetxattr(int fd, const char *name, void *buf, size_t len);

int __wrap_scan_sys_openat(int dirfd, const char *name, int flags)
{
	if (seam.count_name && !strcmp(name, seam.count_name))
		atomic_fetch_add((flags & O_PATH) ? &seam.path_opens : &seam.opens, 1);
	if (seam.fail_name && !strcmp(name, seam.fail_name))
		return -seam.fail_err;
	return __real_scan_sys_openat(dirfd, name, flags);
}

ssize_t __wrap_scan_sys_fgetxattr(int fd, const char *name, void *buf, size_t len)
{
	if (seam.erange_name && !strcmp(name, seam.erange_name) && len > 0 &&
	    atomic_fetch_sub(&seam.erange_left, 1) > 0)
		return -ERANGE;
	if (seam.label && !strcmp(name, "security.selinux")) {
		size_t n = strlen(seam.label) + 1;

		if (len == 0)
			return (ssize_t)n;
		if (len < n)
			return -ERANGE;
		memcpy(buf, seam.label, n);
		return (ssize_t)n;
	}
	return __real_scan_sys_fgetxattr(fd, name, buf, len);
}

struct fixture {
	char dir[64];
	int dirfd;
	bool user_xattrs; /* the filesystem takes user.* */
	char buf[PATH_MAX];
};

/* The user.* attributes of "plain", in the order they are set (not sorted). */
static const struct {
	const char *name;
	const char *value;
	size_t len;
} plain_attrs[] = {
	{ "user.zz", "last", 4 }, { "user.b", "\0bin\xff\0", 6 }, { "user.odd\xff\x01", "v", 1 },
	{ "user.empty", "", 0 },  { "user.a", "x", 1 },
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

/* "attrs": plain (user.* xattrs), bare, a FIFO, a symlink, a directory. */
static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	int fd = -1;

	if (!fx)
		return -1;
	*state = fx;
	fx->dirfd = -1;
	memset(&seam, 0, sizeof(seam));
	if (tree_mkdtemp(fx->dir, sizeof(fx->dir)) < 0)
		goto fail;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->dirfd < 0 || tree_write(fx->dirfd, "plain", "hello\n", 6) < 0 ||
	    tree_write(fx->dirfd, "bare", "bare\n", 5) < 0 ||
	    tree_write(fx->dirfd, "tgt", "target\n", 7) < 0 ||
	    mkfifoat(fx->dirfd, "fifo", 0644) < 0 || symlinkat("tgt", fx->dirfd, "ln") < 0 ||
	    mkdirat(fx->dirfd, "dir", 0755) < 0)
		goto fail;
	fd = openat(fx->dirfd, "plain", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		goto fail;
	fx->user_xattrs = true;
	for (size_t i = 0; i < sizeof(plain_attrs) / sizeof(plain_attrs[0]); i++) {
		if (fsetxattr(fd, plain_attrs[i].name, plain_attrs[i].value, plain_attrs[i].len,
			      0) < 0) {
			if (errno != ENOTSUP)
				goto fail;
			fx->user_xattrs = false;
			break;
		}
	}
	close(fd);
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	fixture_teardown(state);
	*state = NULL;
	return -1;
}

static const char *P(struct fixture *fx, const char *rel)
{
	snprintf(fx->buf, sizeof(fx->buf), "%s/%s", fx->dir, rel);
	return fx->buf;
}

/* decide: the same answer for every path, or per name through a table. */
struct rule {
	const char *rel; /* relative to the root; "" is the root */
	unsigned want;
};

struct decider {
	size_t root_len;
	unsigned want; /* when no table */
	const struct rule *rules;
	size_t nrules;
};

static unsigned decide(const char *path, size_t len, void *userdata)
{
	const struct decider *d = userdata;

	if (!d->rules)
		return d->want;
	for (size_t i = 0; i < d->nrules; i++) {
		size_t rl = strlen(d->rules[i].rel);

		if (rl == 0 ? len == d->root_len
			    : (len == d->root_len + 1 + rl &&
			       !memcmp(path + d->root_len + 1, d->rules[i].rel, rl)))
			return d->rules[i].want;
	}
	return SCAN_SKIP;
}

static int walk(struct fixture *fx, struct decider *d, unsigned nthreads, enum hash_algo hash,
		struct collect *c)
{
	const char *roots[] = { fx->dir };
	struct scan_opts o = { 0 };

	d->root_len = strlen(fx->dir);
	o.roots = roots;
	o.nroots = 1;
	o.nthreads = nthreads;
	o.hash = hash;
	o.decide = decide;
	o.decide_data = d;
	o.visit = collect_visit;
	o.userdata = c;
	return scan_walk(&o, NULL, NULL);
}

static const struct entry *find(struct fixture *fx, const struct collect *c, const char *rel)
{
	return collect_find(c, rel[0] ? P(fx, rel) : fx->dir);
}

static void assert_nothing_optional(const struct entry *e)
{
	assert_int_equal(e->collected, 0);
	assert_null(e->xattrs);
	assert_int_equal(e->xattrs_len, 0);
	assert_null(e->acl);
	assert_null(e->caps);
	assert_null(e->selinux);
	assert_null(e->mime);
}

/* The user.* pairs of @e must be exactly plain_attrs, sorted; others are skipped. */
static void assert_plain_xattrs(const struct entry *e)
{
	static const size_t order[] = { 4, 1, 3, 2, 0 }; /* a, b, empty, odd, zz */
	const uint8_t *v;
	const char *n;
	size_t pos = 0, nl, vl, k = 0;
	int r;

	assert_int_equal(entry_xattrs_check(e->xattrs, e->xattrs_len), 0);
	while ((r = entry_xattrs_next(e->xattrs, e->xattrs_len, &pos, &n, &nl, &v, &vl)) > 0) {
		if (nl < 5 || memcmp(n, "user.", 5))
			continue; /* security.selinux where SELinux labels everything */
		assert_true(k < 5);
		if (k >= 5)
			return;
		assert_int_equal(nl, strlen(plain_attrs[order[k]].name));
		assert_memory_equal(n, plain_attrs[order[k]].name, nl);
		assert_int_equal(vl, plain_attrs[order[k]].len);
		if (vl)
			assert_memory_equal(v, plain_attrs[order[k]].value, vl);
		k++;
	}
	assert_int_equal(r, 0);
	assert_int_equal(k, 5);
}

static void test_walk_collects_no_optional_attribute_unless_asked(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_ALL };
	struct collect c = { 0 };

	seam.count_name = "plain";
	assert_int_equal(walk(fx, &d, 2, HASH_XXH3_128, &c), 0);
	assert_int_equal(c.n, 7);
	for (size_t i = 0; i < c.n; i++)
		assert_nothing_optional(&c.v[i]);
	assert_int_equal(atomic_load(&seam.opens), 1); /* hashing only */
	assert_int_equal(atomic_load(&seam.path_opens), 0);
	collect_release(&c);
}

static void test_walk_xattrs_are_exact_and_sorted(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_XATTRS };
	struct collect c = { 0 };
	const struct entry *e;

	if (!fx->user_xattrs)
		tap_skip("this filesystem does not take user.* xattrs");
	assert_int_equal(walk(fx, &d, 2, HASH_NONE, &c), 0);
	e = find(fx, &c, "plain");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_XATTRS);
	assert_plain_xattrs(e);
	assert_null(e->acl);

	/* Collected and absent: the bit, and nothing in it. */
	e = find(fx, &c, "bare");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_XATTRS);
	assert_int_equal(e->xattrs_len, 0);
	assert_null(e->xattrs);
	collect_release(&c);
}

static void test_walk_reuses_the_hashing_fd_for_attributes(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_ALL | ATTRS_ALL };
	struct collect c = { 0 };
	const struct entry *e;

	if (!fx->user_xattrs)
		tap_skip("this filesystem does not take user.* xattrs");
	seam.count_name = "plain";
	assert_int_equal(walk(fx, &d, 1, HASH_XXH3_128, &c), 0);
	e = find(fx, &c, "plain");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_int_equal(e->collected, ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_SELINUX);
	assert_plain_xattrs(e);
	assert_int_equal(atomic_load(&seam.opens), 1);
	collect_release(&c);
}

static void test_walk_xattrs_retries_a_value_that_grew(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_XATTRS };
	struct collect c = { 0 };
	const struct entry *e;

	if (!fx->user_xattrs)
		tap_skip("this filesystem does not take user.* xattrs");
	seam.erange_name = "user.b";
	atomic_store(&seam.erange_left, 3);
	assert_int_equal(walk(fx, &d, 1, HASH_NONE, &c), 0);
	assert_true(atomic_load(&seam.erange_left) <= 0);
	e = find(fx, &c, "plain");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->err, 0);
	assert_plain_xattrs(e);
	collect_release(&c);
}

/* trusted.* is root's, and the one namespace a symlink or a FIFO can carry. */
static bool set_trusted(struct fixture *fx, const char *rel, const char *value)
{
	return lsetxattr(P(fx, rel), "trusted.who", value, strlen(value), 0) == 0;
}

static void assert_who(const struct entry *e, const char *value)
{
	const uint8_t *v;
	size_t vl;

	assert_int_equal(entry_xattrs_get(e->xattrs, e->xattrs_len, "trusted.who", &v, &vl), 1);
	assert_int_equal(vl, strlen(value));
	assert_memory_equal(v, value, vl);
}

static void test_walk_symlink_and_fifo_xattrs_are_their_own(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | ATTRS_ALL };
	struct collect c = { 0 };
	const struct entry *ln, *tgt, *fifo;

	if (!set_trusted(fx, "tgt", "target") || !set_trusted(fx, "ln", "link") ||
	    !set_trusted(fx, "fifo", "fifo"))
		tap_skip("trusted.* xattrs need root and a filesystem that takes them");
	seam.count_name = "fifo";
	assert_int_equal(walk(fx, &d, 2, HASH_XXH3_128, &c), 0);
	ln = find(fx, &c, "ln");
	tgt = find(fx, &c, "tgt");
	fifo = find(fx, &c, "fifo");
	assert_non_null(ln);
	assert_non_null(tgt);
	assert_non_null(fifo);
	if (!ln || !tgt || !fifo)
		return;
	assert_who(ln, "link");
	assert_who(tgt, "target");
	assert_who(fifo, "fifo");
	assert_int_equal(ln->collected, ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_SELINUX);
	assert_null(ln->acl);
	assert_string_equal(ln->target, "tgt");
	/* The FIFO was only ever named by an O_PATH fd, never opened. */
	assert_int_equal(atomic_load(&seam.opens), 0);
	assert_int_equal(atomic_load(&seam.path_opens), 1);
	assert_int_equal(fifo->err, 0);
	collect_release(&c);
}

static int set_acl(const char *path, acl_type_t type, const char *text)
{
	acl_t acl = acl_from_text(text);
	int r;

	if (!acl)
		return -1;
	r = acl_set_file(path, type, acl);
	acl_free(acl);
	return r;
}

static void test_walk_acl_text_access_and_default(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_ACL };
	struct collect c = { 0 };
	const struct entry *e;

	if (set_acl(P(fx, "bare"), ACL_TYPE_ACCESS, "u::rw-,u:1234:r--,g::r--,m::r--,o::r--") < 0) {
		assert_int_equal(errno, ENOTSUP);
		tap_skip("this filesystem does not take ACLs");
	}
	assert_int_equal(
		set_acl(P(fx, "dir"), ACL_TYPE_DEFAULT, "u::rwx,u:1234:r-x,g::r-x,m::r-x,o::r-x"),
		0);
	assert_int_equal(walk(fx, &d, 2, HASH_XXH3_128, &c), 0);
	e = find(fx, &c, "bare");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_ACL);
	assert_string_equal(e->acl, "u::rw-,u:1234:r--,g::r--,m::r--,o::r--");
	e = find(fx, &c, "dir");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_ACL);
	assert_string_equal(e->acl, "u::rwx,g::r-x,o::r-x,default:u::rwx,default:u:1234:r-x,"
				    "default:g::r-x,default:m::r-x,default:o::r-x");
	/* Mode bits only: collected and absent. */
	e = find(fx, &c, "plain");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_ACL);
	assert_null(e->acl);
	assert_null(e->xattrs);
	collect_release(&c);
}

static void test_walk_caps_of_a_regular_file(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_CAPS };
	struct collect c = { 0 };
	const struct entry *e;
	cap_t caps = cap_from_text("cap_net_raw+ep");
	int fd = openat(fx->dirfd, "bare", O_RDONLY | O_CLOEXEC), r;

	assert_non_null(caps);
	assert_true(fd >= 0);
	r = cap_set_fd(fd, caps);
	cap_free(caps);
	close(fd);
	if (r < 0) {
		assert_int_equal(errno, EPERM);
		tap_skip("setting file capabilities needs CAP_SETFCAP");
	}
	assert_int_equal(walk(fx, &d, 2, HASH_NONE, &c), 0);
	e = find(fx, &c, "bare");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_CAPS);
	assert_string_equal(e->caps, "cap_net_raw=ep");
	for (size_t i = 0; i < c.n; i++) {
		if (&c.v[i] == e)
			continue;
		assert_int_equal(c.v[i].collected, ATTR_CAPS); /* dirs, links too: absent */
		assert_null(c.v[i].caps);
	}
	collect_release(&c);
}

static void test_walk_selinux_absent_or_from_the_xattr(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_SELINUX };
	struct collect c = { 0 };
	const struct entry *e;
	char probe[8];

	if (getxattr(P(fx, "plain"), "security.selinux", probe, sizeof(probe)) >= 0 ||
	    errno == ERANGE)
		tap_skip("this host labels files with SELinux");
	assert_int_equal(walk(fx, &d, 2, HASH_NONE, &c), 0);
	for (size_t i = 0; i < c.n; i++) {
		assert_int_equal(c.v[i].collected, ATTR_SELINUX);
		assert_null(c.v[i].selinux);
	}
	collect_release(&c);

	/* A label (with the kernel's trailing NUL) through the seam: regular files read it. */
	seam.label = "system_u:object_r:bin_t:s0";
	assert_int_equal(walk(fx, &d, 2, HASH_NONE, &c), 0);
	e = find(fx, &c, "plain");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_SELINUX);
	assert_string_equal(e->selinux, "system_u:object_r:bin_t:s0");
	collect_release(&c);
}

static void test_walk_attrs_same_for_any_thread_count(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_ALL | ATTRS_ALL };
	struct collect one = { 0 }, four = { 0 };

	(void)set_acl(P(fx, "dir"), ACL_TYPE_DEFAULT, "u::rwx,u:99:r-x,g::r-x,m::r-x,o::r-x");
	assert_int_equal(walk(fx, &d, 1, HASH_XXH3_128, &one), 0);
	assert_int_equal(walk(fx, &d, 4, HASH_XXH3_128, &four), 0);
	collect_sort(&one);
	collect_sort(&four);
	assert_int_equal(one.n, 7);
	assert_true(collect_equal(&one, &four));
	collect_release(&one);
	collect_release(&four);
}

/* 180 nested directories of 25 characters; the bottom file has an ACL and an xattr. */
static void test_walk_attrs_beyond_path_max(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_ACL | SCAN_XATTRS };
	struct collect c = { 0 };
	const struct entry *bottom = NULL;
	const char *name = "deep-abcdefghijklmnopqrst";
	acl_t acl = acl_from_text("u::rw-,u:42:rw-,g::r--,m::rw-,o::---");
	int fd = dup(fx->dirfd), r;

	assert_non_null(acl);
	for (int i = 0; i < 180 && fd >= 0; i++) {
		int next;

		assert_int_equal(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	assert_true(fd >= 0);
	assert_int_equal(tree_write(fd, "bottom", "b", 1), 0);
	{
		/* Set through an fd: the path is too long for the path-based calls. */
		int dfd = fd;

		fd = openat(dfd, "bottom", O_RDONLY | O_CLOEXEC);
		close(dfd);
	}
	assert_true(fd >= 0);
	r = acl_set_fd(fd, acl);
	acl_free(acl);
	if (r < 0) {
		close(fd);
		tap_skip("this filesystem does not take ACLs");
	}
	if (fx->user_xattrs)
		assert_int_equal(fsetxattr(fd, "user.deep", "yes", 3, 0), 0);
	close(fd);

	assert_int_equal(walk(fx, &d, 2, HASH_NONE, &c), 0);
	for (size_t i = 0; i < c.n; i++)
		if (c.v[i].key_len > 7 && !memcmp(c.v[i].key + c.v[i].key_len - 7, "/bottom", 7))
			bottom = &c.v[i];
	assert_non_null(bottom);
	if (!bottom)
		return;
	assert_true(bottom->key_len > PATH_MAX);
	assert_int_equal(bottom->err, 0);
	assert_int_equal(bottom->collected, ATTR_ACL | ATTR_XATTRS);
	assert_string_equal(bottom->acl, "u::rw-,u:42:rw-,g::r--,m::rw-,o::---");
	if (fx->user_xattrs) {
		const uint8_t *v;
		size_t vl;

		assert_int_equal(
			entry_xattrs_get(bottom->xattrs, bottom->xattrs_len, "user.deep", &v, &vl),
			1);
		assert_int_equal(vl, 3);
	}
	/* The raw ACL is in the xattrs too. */
	assert_int_equal(entry_xattrs_get(bottom->xattrs, bottom->xattrs_len,
					  "system.posix_acl_access", &(const uint8_t *){ NULL },
					  &(size_t){ 0 }),
			 1);
	collect_release(&c);
}

static void test_walk_no_entry_descends_without_an_entry(void **state)
{
	struct fixture *fx = *state;
	const struct rule rules[] = {
		{ "", SCAN_STAT | SCAN_NO_ENTRY },
		{ "top", SCAN_STAT | SCAN_NO_ENTRY },
		{ "top/mid", SCAN_STAT | SCAN_NO_ENTRY | SCAN_XATTRS },
		{ "top/mid/leaf", SCAN_STAT | SCAN_XATTRS },
		{ "top/file", SCAN_STAT | SCAN_NO_ENTRY },
		{ "top/nod", SCAN_STAT | SCAN_NO_ENTRY | SCAN_NO_DESCEND },
		{ "top/nod/x", SCAN_STAT },
		{ "plain", SCAN_STAT | SCAN_NO_ENTRY | SCAN_HASH },
	};
	struct decider d = { .rules = rules, .nrules = sizeof(rules) / sizeof(rules[0]) };
	struct collect c = { 0 };
	const struct entry *e;

	assert_int_equal(mkdirat(fx->dirfd, "top", 0755), 0);
	assert_int_equal(mkdirat(fx->dirfd, "top/mid", 0755), 0);
	assert_int_equal(mkdirat(fx->dirfd, "top/nod", 0755), 0);
	assert_int_equal(tree_write(fx->dirfd, "top/mid/leaf", "leaf", 4), 0);
	assert_int_equal(tree_write(fx->dirfd, "top/file", "f", 1), 0);
	assert_int_equal(tree_write(fx->dirfd, "top/nod/x", "x", 1), 0);

	seam.count_name = "plain";
	assert_int_equal(walk(fx, &d, 2, HASH_XXH3_128, &c), 0);
	assert_int_equal(c.n, 1);
	e = find(fx, &c, "top/mid/leaf");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->collected, ATTR_XATTRS);
	assert_int_equal(atomic_load(&seam.opens), 0); /* a NO_ENTRY file is not hashed */
	collect_release(&c);

	/* A directory that cannot be entered is still reported: it hides covered paths. */
	seam.fail_name = "mid";
	seam.fail_err = EACCES;
	assert_int_equal(walk(fx, &d, 2, HASH_XXH3_128, &c), 0);
	assert_int_equal(c.n, 1);
	e = find(fx, &c, "top/mid");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->err, EACCES);
	assert_int_equal(e->collected, 0);
	collect_release(&c);
}

static void test_walk_attribute_error_is_recorded_not_collected(void **state)
{
	struct fixture *fx = *state;
	struct decider d = { .want = SCAN_STAT | SCAN_XATTRS | SCAN_ACL };
	struct collect c = { 0 };
	const struct entry *e;

	seam.fail_name = "bare"; /* not hashed: the attribute open is the only one */
	seam.fail_err = EIO;
	assert_int_equal(walk(fx, &d, 1, HASH_NONE, &c), 0);
	e = find(fx, &c, "bare");
	assert_non_null(e);
	if (!e)
		return;
	assert_int_equal(e->err, EIO);
	assert_int_equal(e->collected, 0);
	assert_int_equal(e->size, 5); /* the stat is still there */
	collect_release(&c);
}

static void test_entry_xattrs_helpers_reject_malformed_blobs(void **state)
{
	uint8_t blob[64];
	const uint8_t *v = (const uint8_t *)"untouched";
	const char *n = "untouched";
	size_t pos = 0, nl = 7, vl = 7, len;

	(void)state;
	len = entry_xattrs_put(blob, "user.a", 6, (const uint8_t *)"1", 1);
	len += entry_xattrs_put(blob + len, "user.b", 6, (const uint8_t *)"", 0);
	assert_int_equal(len, entry_xattrs_pair_size(6, 1) + entry_xattrs_pair_size(6, 0));
	assert_int_equal(entry_xattrs_check(blob, len), 0);
	assert_int_equal(entry_xattrs_check(NULL, 0), 0);

	/* Truncated anywhere: -EBADMSG, and the outputs untouched. */
	for (size_t cut = 1; cut < len; cut++) {
		if (cut == entry_xattrs_pair_size(6, 1))
			continue; /* a whole first pair is a valid blob */
		assert_int_equal(entry_xattrs_check(blob, cut), -EBADMSG);
	}
	pos = 0;
	assert_int_equal(entry_xattrs_next(blob, 5, &pos, &n, &nl, &v, &vl), -EBADMSG);
	assert_int_equal(pos, 0);
	assert_string_equal(n, "untouched");
	assert_int_equal(nl, 7);

	/* Out of order, or a duplicate. */
	len = entry_xattrs_put(blob, "user.b", 6, NULL, 0);
	len += entry_xattrs_put(blob + len, "user.a", 6, NULL, 0);
	assert_int_equal(entry_xattrs_check(blob, len), -EBADMSG);
	len = entry_xattrs_put(blob, "user.a", 6, NULL, 0);
	len += entry_xattrs_put(blob + len, "user.a", 6, NULL, 0);
	assert_int_equal(entry_xattrs_check(blob, len), -EBADMSG);
	/* A prefix sorts first. */
	len = entry_xattrs_put(blob, "user.a", 6, NULL, 0);
	len += entry_xattrs_put(blob + len, "user.ab", 7, NULL, 0);
	assert_int_equal(entry_xattrs_check(blob, len), 0);
	assert_int_equal(entry_xattrs_get(blob, len, "user.x", &v, &vl), 0);
	assert_int_equal(vl, 7);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_walk_collects_no_optional_attribute_unless_asked),
		T(test_walk_xattrs_are_exact_and_sorted),
		T(test_walk_reuses_the_hashing_fd_for_attributes),
		T(test_walk_xattrs_retries_a_value_that_grew),
		T(test_walk_symlink_and_fifo_xattrs_are_their_own),
		T(test_walk_acl_text_access_and_default),
		T(test_walk_caps_of_a_regular_file),
		T(test_walk_selinux_absent_or_from_the_xattr),
		T(test_walk_attrs_same_for_any_thread_count),
		T(test_walk_attrs_beyond_path_max),
		T(test_walk_no_entry_descends_without_an_entry),
		T(test_walk_attribute_error_is_recorded_not_collected),
		cmocka_unit_test(test_entry_xattrs_helpers_reject_malformed_blobs),
	};
#undef T

	return tap_run_group_tests_name("scanner/attrs", tests, NULL, NULL);
}
