/*
 * remedy/fsops.c: the safe file operations of remediation, on small trees
 * in a fresh directory under /var/tmp for each test, with a root fd opened
 * on it. They run as root (CI) or as a user: an owner other than the
 * user's own, trusted.* xattrs and capabilities are only tried as root.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "remedy/fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/capability.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"

#include "common/banned.h"

#define META_ALL (ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)
#define MTIME_NS 1500000000123456789LL

struct fixture {
	char dir[64];
	int rootfd;
};

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	if (!fx)
		return 0;
	if (fx->rootfd >= 0)
		close(fx->rootfd);
	if (fx->dir[0])
		nftw(fx->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	fx->rootfd = -1;
	snprintf(fx->dir, sizeof(fx->dir), "/var/tmp/drift-fsops-XXXXXX");
	if (!mkdtemp(fx->dir)) {
		fx->dir[0] = '\0';
		goto fail;
	}
	fx->rootfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->rootfd < 0)
		goto fail;
	return 0;
fail:
	fixture_teardown(state);
	return -1;
}

/* ---- helpers ---- */

static bool root(void)
{
	return geteuid() == 0;
}

/* An owner to give files: 1234 as root, else our own. */
static uid_t other_uid(void)
{
	return root() ? 1234 : geteuid();
}

static gid_t other_gid(void)
{
	return root() ? 1234 : getegid();
}

static void put(int dirfd, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static char *get(int dirfd, const char *name)
{
	static char buf[256];
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n >= 0);
	buf[n] = '\0';
	return buf;
}

static struct stat lstat_at(int dirfd, const char *name)
{
	struct stat st;

	assert_int_equal(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st;
}

static bool exists(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec;
}

/* No ".drift-remedy-*" left in the directory @name ("." for the root). */
static void assert_no_temp(int rootfd, const char *name)
{
	int fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *de;

	assert_non_null(d);
	while ((de = readdir(d)))
		assert_true(strncmp(de->d_name, ".drift-remedy-", 14) != 0);
	closedir(d);
}

static int path_open(struct fixture *fx, const char *path, struct fs_path *p, struct diag *d)
{
	return fs_path_open(fx->rootfd, path, strlen(path), p, d);
}

/* ---- fs_path_open() ---- */

static void test_path_open_refuses_symlinked_component(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { .dirfd = -7 };
	struct diag d = { 0 };
	const struct fs_meta m = { .mode = 0644, .uid = geteuid(), .gid = getegid() };
	int r;

	assert_int_equal(mkdirat(fx->rootfd, "real", 0755), 0);
	assert_int_equal(mkdirat(fx->rootfd, "real/sub", 0755), 0);
	assert_int_equal(symlinkat("real", fx->rootfd, "link"), 0);
	assert_int_equal(symlinkat(fx->dir, fx->rootfd, "abs"), 0);

	assert_int_equal(path_open(fx, "/link/f", &p, &d), -ELOOP);
	assert_non_null(strstr(d.msg, "'/link' is a symlink: not followed"));
	assert_int_equal(p.dirfd, -7); /* ret untouched */
	assert_int_equal(path_open(fx, "/real/../link/sub/f", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/abs/real/sub/f", &p, &d), -ELOOP);
	assert_non_null(strstr(d.msg, "'/abs' is a symlink"));

	/* A symlink in the middle, deeper: nothing is written through it. */
	assert_int_equal(symlinkat("../real", fx->rootfd, "real/sub/up"), 0);
	r = path_open(fx, "/real/sub/up/f", &p, &d);
	assert_int_equal(r, -ELOOP);
	assert_non_null(strstr(d.msg, "'/real/sub/up' is a symlink"));
	assert_false(exists(fx->rootfd, "real/f"));

	/* The last component may be a symlink: it is a name, opened as itself. */
	assert_int_equal(path_open(fx, "/link", &p, &d), 0);
	assert_string_equal(p.name, "link");
	assert_string_equal(p.path, "/link");
	assert_int_equal(fs_write_file(&p, (const uint8_t *)"x", 1, &m, FS_PLACE_NEW, NULL, &d),
			 -EEXIST);
	assert_true(S_ISLNK(lstat_at(fx->rootfd, "link").st_mode));
	assert_false(exists(fx->rootfd, "real/link"));
	assert_no_temp(fx->rootfd, ".");
	fs_path_release(&p);
	fs_path_release(&p); /* twice: a released one is zeroed */
}

static void test_path_open_refuses_bad_paths(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { .dirfd = -1 }, zero = { 0 };
	struct diag d = { 0 };

	assert_int_equal(mkdirat(fx->rootfd, "a", 0755), 0);
	put(fx->rootfd, "file", "x", 0644);

	assert_int_equal(fs_path_open(fx->rootfd, "", 0, &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "///", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "a/b", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/a/../b", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/..", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/a/.", &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/./a", &p, &d), -EINVAL);
	assert_int_equal(fs_path_open(fx->rootfd, "/a\0/b", 5, &p, &d), -EINVAL);
	assert_int_equal(path_open(fx, "/missing/b", &p, &d), -ENOENT);
	assert_int_equal(path_open(fx, "/file/b", &p, &d), -ENOTDIR);
	assert_non_null(strstr(d.msg, "'/file' is not a directory"));
	assert_int_equal(p.dirfd, -1);

	/* Repeated and trailing slashes collapse; names like "..." are names. */
	assert_int_equal(path_open(fx, "//a///...", &p, &d), 0);
	assert_string_equal(p.name, "...");
	fs_path_release(&p);
	assert_int_equal(fs_path_open(fx->rootfd, "/a/b/xyz", 4, &p, &d), 0);
	assert_string_equal(p.name, "b");
	assert_string_equal(p.path, "/a/b");
	fs_path_release(&p);

	fs_path_release(&zero); /* a zeroed one is fine (fd 0 is not closed: no name) */
	assert_int_equal(zero.dirfd, -1);
}

/* ---- fs_entry_open(), fs_read_file() ---- */

static void test_entry_open_by_type(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct fs_entry e = { .fd = -1 };
	struct diag d = { 0 };

	put(fx->rootfd, "file", "x", 0644);
	assert_int_equal(mkfifoat(fx->rootfd, "fifo", 0600), 0);
	assert_int_equal(symlinkat("file", fx->rootfd, "link"), 0);

	assert_int_equal(path_open(fx, "/file", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_false(e.opath);
	assert_true(S_ISREG(e.st.st_mode));
	fs_entry_close(&e);
	assert_int_equal(e.fd, -1);
	fs_path_release(&p);

	/* A FIFO with no writer: O_PATH, so opening it neither blocks nor reads. */
	assert_int_equal(path_open(fx, "/fifo", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_true(e.opath);
	assert_true(S_ISFIFO(e.st.st_mode));
	fs_entry_close(&e);
	fs_path_release(&p);

	assert_int_equal(path_open(fx, "/link", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_true(e.opath);
	assert_true(S_ISLNK(e.st.st_mode));
	fs_entry_close(&e);
	fs_path_release(&p);

	e.fd = -9;
	assert_int_equal(path_open(fx, "/missing", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), -ENOENT);
	assert_int_equal(e.fd, -9);
	fs_path_release(&p);
}

static void test_read_file_max_is_efbig(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct fs_entry e = { .fd = -1 };
	struct diag d = { 0 };
	uint8_t *bytes = NULL, *sentinel = (uint8_t *)&d;
	size_t len = 99;

	put(fx->rootfd, "ten", "0123456789", 0644);
	put(fx->rootfd, "empty", "", 0644);

	assert_int_equal(path_open(fx, "/ten", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_int_equal(fs_read_file(&e, 10, &bytes, &len, &d), 0);
	assert_int_equal(len, 10);
	assert_memory_equal(bytes, "0123456789", 10);
	free(bytes);
	bytes = sentinel;
	len = 99;
	assert_int_equal(fs_read_file(&e, 9, &bytes, &len, &d), -EFBIG);
	assert_ptr_equal(bytes, sentinel);
	assert_int_equal(len, 99);
	assert_int_equal(fs_read_file(&e, 0, &bytes, &len, &d), -EFBIG);
	fs_entry_close(&e);
	fs_path_release(&p);

	assert_int_equal(path_open(fx, "/empty", &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_int_equal(fs_read_file(&e, 0, &bytes, &len, &d), 0);
	assert_non_null(bytes);
	assert_int_equal(len, 0);
	free(bytes);
	fs_entry_close(&e);
	fs_path_release(&p);
}

/* ---- fs_write_file() ---- */

static void test_write_file_replaces_atomically_with_exact_meta(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	const struct fs_meta m = {
		.mode = S_IFREG | 0640, .uid = other_uid(), .gid = other_gid(), .mtime_ns = MTIME_NS
	};
	struct stat before, st, ret_st;

	assert_int_equal(mkdirat(fx->rootfd, "etc", 0755), 0);
	put(fx->rootfd, "etc/conf", "old\n", 0600);
	before = lstat_at(fx->rootfd, "etc/conf");

	assert_int_equal(path_open(fx, "/etc/conf", &p, &d), 0);
	assert_int_equal(fs_write_file(&p, (const uint8_t *)"new content\n", 12, &m,
				       FS_PLACE_REPLACE, &ret_st, &d),
			 0);
	st = lstat_at(fx->rootfd, "etc/conf");
	assert_string_equal(get(fx->rootfd, "etc/conf"), "new content\n");
	assert_int_equal(st.st_mode, S_IFREG | 0640);
	assert_int_equal(st.st_uid, m.uid);
	assert_int_equal(st.st_gid, m.gid);
	assert_true(mtime_ns(&st) == MTIME_NS);
	assert_true(st.st_atim.tv_sec == st.st_mtim.tv_sec);
	assert_true(st.st_ino != before.st_ino); /* renamed over, never rewritten in place */
	assert_true(ret_st.st_ino == st.st_ino && ret_st.st_mode == st.st_mode);
	assert_true(mtime_ns(&ret_st) == MTIME_NS);
	assert_no_temp(fx->rootfd, "etc");

	/* Empty content, an odd mode and a mtime before 1970 are exact too. */
	const struct fs_meta m2 = {
		.mode = 04711, .uid = geteuid(), .gid = getegid(), .mtime_ns = -1500000001LL
	};
	assert_int_equal(fs_write_file(&p, NULL, 0, &m2, FS_PLACE_REPLACE, NULL, &d), 0);
	st = lstat_at(fx->rootfd, "etc/conf");
	assert_int_equal(st.st_size, 0);
	assert_int_equal(st.st_mode, S_IFREG | 04711);
	assert_true(mtime_ns(&st) == -1500000001LL);
	fs_path_release(&p);
}

static void test_write_file_new_refuses_existing_name(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	const struct fs_meta m = { .mode = 0644, .uid = geteuid(), .gid = getegid() };
	struct stat before, st, ret_st = { .st_ino = 4242 };

	put(fx->rootfd, "keep", "keep me\n", 0600);
	before = lstat_at(fx->rootfd, "keep");
	assert_int_equal(path_open(fx, "/keep", &p, &d), 0);
	assert_int_equal(
		fs_write_file(&p, (const uint8_t *)"other\n", 6, &m, FS_PLACE_NEW, &ret_st, &d),
		-EEXIST);
	assert_non_null(strstr(d.msg, "/keep"));
	assert_int_equal(ret_st.st_ino, 4242);
	st = lstat_at(fx->rootfd, "keep");
	assert_string_equal(get(fx->rootfd, "keep"), "keep me\n");
	assert_true(st.st_ino == before.st_ino && st.st_mode == before.st_mode);
	assert_no_temp(fx->rootfd, ".");
	fs_path_release(&p);

	/* A free name: created. */
	assert_int_equal(path_open(fx, "/fresh", &p, &d), 0);
	assert_int_equal(fs_write_file(&p, (const uint8_t *)"hi", 2, &m, FS_PLACE_NEW, &ret_st, &d),
			 0);
	assert_string_equal(get(fx->rootfd, "fresh"), "hi");
	assert_true(ret_st.st_ino == lstat_at(fx->rootfd, "fresh").st_ino);
	fs_path_release(&p);
}

static void test_write_file_failure_leaves_no_temp(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	const uint8_t bad[] = { 9, 0, 0, 0, 'u' }; /* a name 9 bytes long, cut short */
	const struct fs_meta m = { .mode = 0644,
				   .uid = geteuid(),
				   .gid = getegid(),
				   .collected = ATTR_XATTRS,
				   .xattrs = bad,
				   .xattrs_len = sizeof(bad) };

	put(fx->rootfd, "f", "old", 0644);
	assert_int_equal(path_open(fx, "/f", &p, &d), 0);
	assert_int_equal(
		fs_write_file(&p, (const uint8_t *)"new", 3, &m, FS_PLACE_REPLACE, NULL, &d),
		-EBADMSG);
	assert_string_equal(get(fx->rootfd, "f"), "old");
	assert_no_temp(fx->rootfd, ".");
	fs_path_release(&p);

	/* The directory went away under us: nothing left behind either. */
	assert_int_equal(mkdirat(fx->rootfd, "gone", 0755), 0);
	assert_int_equal(path_open(fx, "/gone/f", &p, &d), 0);
	assert_int_equal(unlinkat(fx->rootfd, "gone", AT_REMOVEDIR), 0);
	assert_int_equal(fs_write_file(&p, (const uint8_t *)"x", 1, &m, FS_PLACE_NEW, NULL, &d),
			 -ENOENT);
	fs_path_release(&p);
}

/* ---- fs_meta_read(), fs_meta_apply() ---- */

static void meta_of(struct fixture *fx, const char *path, struct fs_meta *m)
{
	struct fs_path p = { 0 };
	struct fs_entry e = { .fd = -1 };
	struct diag d = { 0 };

	assert_int_equal(path_open(fx, path, &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	assert_int_equal(fs_meta_read(&p, &e, m, &d), 0);
	fs_entry_close(&e);
	fs_path_release(&p);
}

static int meta_set(struct fixture *fx, const char *path, const struct fs_meta *m, uint32_t attrs)
{
	struct fs_path p = { 0 };
	struct fs_entry e = { .fd = -1 };
	struct diag d = { 0 };
	int r;

	assert_int_equal(path_open(fx, path, &p, &d), 0);
	assert_int_equal(fs_entry_open(&p, &e, &d), 0);
	r = fs_meta_apply(&p, &e, m, attrs, &d);
	if (r == 0) {
		struct stat st;

		assert_int_equal(fstatat(p.dirfd, p.name, &st, AT_SYMLINK_NOFOLLOW), 0);
		assert_true(st.st_mode == e.st.st_mode && st.st_uid == e.st.st_uid); /* refreshed */
	}
	fs_entry_close(&e);
	fs_path_release(&p);
	return r;
}

static void assert_meta_equal(const struct fs_meta *a, const struct fs_meta *b)
{
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->uid, b->uid);
	assert_int_equal(a->gid, b->gid);
	assert_true(a->mtime_ns == b->mtime_ns);
	assert_int_equal(a->collected, b->collected);
	assert_int_equal(a->xattrs_len, b->xattrs_len);
	if (a->xattrs_len)
		assert_memory_equal(a->xattrs, b->xattrs, a->xattrs_len);
	assert_true((a->acl == NULL) == (b->acl == NULL));
	if (a->acl)
		assert_string_equal(a->acl, b->acl);
	assert_true((a->caps == NULL) == (b->caps == NULL));
	if (a->caps)
		assert_string_equal(a->caps, b->caps);
}

/* Give @name the ACL u:1234:r--; false when the filesystem has no ACLs (asserted). */
static bool acl_put(struct fixture *fx, const char *name)
{
	char path[128];
	acl_t acl = acl_from_text("u::rwx,u:1234:r--,g::r-x,m::r-x,o::r-x");
	int r;

	assert_non_null(acl);
	snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
	r = acl_set_file(path, ACL_TYPE_ACCESS, acl);
	acl_free(acl);
	if (r < 0)
		assert_int_equal(errno, ENOTSUP);
	return r == 0;
}

static void test_meta_apply_round_trip(void **state)
{
	struct fixture *fx = *state;
	struct fs_meta a = { 0 }, b = { 0 }, zero = { 0 };
	bool acl;

	put(fx->rootfd, "A", "a", 0644);
	put(fx->rootfd, "B", "b", 0600);
	{
		char pa[128], pb[128];

		snprintf(pa, sizeof(pa), "%s/A", fx->dir);
		snprintf(pb, sizeof(pb), "%s/B", fx->dir);
		assert_int_equal(setxattr(pa, "user.test", "v\0w", 3, 0), 0);
		assert_int_equal(setxattr(pb, "user.other", "gone", 4, 0), 0);
		assert_int_equal(setxattr(pb, "user.test", "different", 9, 0), 0);
		if (root()) {
			cap_t c = cap_from_text("cap_net_raw=ep");

			assert_int_equal(cap_set_file(pa, c), 0);
			cap_free(c);
		}
	}
	acl = acl_put(fx, "A");
	assert_int_equal(fchmodat(fx->rootfd, "A", 04755, 0), 0);

	meta_of(fx, "/A", &a);
	assert_int_equal(a.mode, S_IFREG | 04755);
	assert_int_equal(a.collected, ATTR_XATTRS | ATTR_ACL | ATTR_CAPS);
	assert_true(acl == (a.acl != NULL));
	if (acl)
		assert_non_null(strstr(a.acl, "u:1234:r--"));
	assert_true(root() == (a.caps != NULL));

	a.uid = other_uid();
	a.gid = other_gid();
	a.mtime_ns = MTIME_NS;
	assert_int_equal(meta_set(fx, "/B", &a, META_ALL), 0);
	meta_of(fx, "/B", &b);
	assert_meta_equal(&a, &b);
	fs_meta_release(&b);

	/* The text forms alone, as when only they were collected: ACL and caps. */
	put(fx->rootfd, "C", "c", 0600);
	a.collected = ATTR_ACL | ATTR_CAPS;
	assert_int_equal(meta_set(fx, "/C", &a, ATTR_MODE | ATTR_ACL | ATTR_CAPS), 0);
	meta_of(fx, "/C", &b);
	assert_int_equal(b.mode, S_IFREG | 04755);
	assert_true((b.acl == NULL) == (a.acl == NULL));
	if (a.acl)
		assert_string_equal(b.acl, a.acl);
	assert_true((b.caps == NULL) == (a.caps == NULL));
	if (a.caps)
		assert_string_equal(b.caps, a.caps);
	fs_meta_release(&b);

	/* NULL ACL and caps: removed, down to the mode bits. */
	zero.mode = 0640;
	zero.collected = ATTR_ACL | ATTR_CAPS;
	assert_int_equal(meta_set(fx, "/C", &zero, ATTR_MODE | ATTR_ACL | ATTR_CAPS), 0);
	meta_of(fx, "/C", &b);
	assert_null(b.acl);
	assert_null(b.caps);
	assert_int_equal(b.mode, S_IFREG | 0640);
	fs_meta_release(&b);

	/* Only what was collected may be set; an empty blob removes every xattr. */
	zero.collected = 0;
	assert_int_equal(meta_set(fx, "/B", &zero, ATTR_XATTRS), -EINVAL);
	zero.collected = ATTR_XATTRS;
	assert_int_equal(meta_set(fx, "/B", &zero, ATTR_XATTRS), 0);
	meta_of(fx, "/B", &b);
	assert_int_equal(b.xattrs_len, 0);
	assert_null(b.acl);
	assert_null(b.caps);
	fs_meta_release(&b);
	fs_meta_release(&a);
	fs_meta_release(&a); /* twice: released is zeroed */
}

static void test_meta_apply_owner_then_mode_keeps_setuid(void **state)
{
	struct fixture *fx = *state;
	const struct fs_meta m = { .mode = 04755, .uid = other_uid(), .gid = other_gid() };
	struct stat st;

	put(fx->rootfd, "f", "x", 0644);
	assert_int_equal(meta_set(fx, "/f", &m, ATTR_UID | ATTR_GID | ATTR_MODE), 0);
	st = lstat_at(fx->rootfd, "f");
	assert_int_equal(st.st_uid, m.uid);
	assert_int_equal(st.st_gid, m.gid);
	assert_int_equal(st.st_mode, S_IFREG | 04755);

	/* The owner alone drops the setuid bit, as the kernel does and must. */
	if (root()) {
		const struct fs_meta o = { .uid = 0, .gid = 0 };

		assert_int_equal(meta_set(fx, "/f", &o, ATTR_UID | ATTR_GID), 0);
		st = lstat_at(fx->rootfd, "f");
		assert_int_equal(st.st_uid, 0);
		assert_int_equal(st.st_mode & 07777, 0755);
	}
}

static void test_meta_apply_on_symlink_and_fifo_never_follows(void **state)
{
	struct fixture *fx = *state;
	struct fs_meta m = {
		.mode = 0604, .uid = other_uid(), .gid = other_gid(), .mtime_ns = MTIME_NS
	};
	struct fs_meta l = { 0 };
	struct stat target, st;

	put(fx->rootfd, "target", "t", 0600);
	assert_int_equal(symlinkat("target", fx->rootfd, "link"), 0);
	assert_int_equal(mkfifoat(fx->rootfd, "fifo", 0600), 0);
	target = lstat_at(fx->rootfd, "target");

	assert_int_equal(meta_set(fx, "/link", &m, ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME),
			 0);
	st = lstat_at(fx->rootfd, "link");
	assert_int_equal(st.st_uid, m.uid);
	assert_true(mtime_ns(&st) == MTIME_NS);
	st = lstat_at(fx->rootfd, "target");
	assert_true(st.st_mode == target.st_mode && st.st_uid == target.st_uid);
	assert_true(mtime_ns(&st) == mtime_ns(&target));

	/* Its own xattrs (trusted.*: root only; user.* is refused on symlinks) */
	if (root()) {
		static const uint8_t blob[] = { 9,   0,   0,   0, 't', 'r', 'u', 's', 't', 'e',
						'd', '.', 'x', 2, 0,   0,   0,   'o', 'k' };

		m.collected = ATTR_XATTRS;
		m.xattrs = blob;
		m.xattrs_len = sizeof(blob);
		assert_int_equal(meta_set(fx, "/link", &m, ATTR_XATTRS), 0);
		meta_of(fx, "/link", &l);
		assert_int_equal(l.xattrs_len, sizeof(blob));
		assert_memory_equal(l.xattrs, blob, sizeof(blob));
		fs_meta_release(&l);
		meta_of(fx, "/target", &l);
		assert_int_equal(l.xattrs_len, 0);
		fs_meta_release(&l);
		m.collected = 0;
	}

	assert_int_equal(meta_set(fx, "/fifo", &m, ATTR_MODE | ATTR_UID | ATTR_MTIME), 0);
	st = lstat_at(fx->rootfd, "fifo");
	assert_int_equal(st.st_mode, S_IFIFO | 0604);
	assert_int_equal(st.st_uid, m.uid);
	assert_true(mtime_ns(&st) == MTIME_NS);
}

/* ---- fs_make_dir(), fs_make_symlink() ---- */

static void test_make_symlink_target_and_owner(void **state)
{
	struct fixture *fx = *state;
	const struct fs_meta m = {
		.mode = S_IFLNK | 0777, .uid = other_uid(), .gid = other_gid(), .mtime_ns = MTIME_NS
	};
	const char target[] = "../some/\x01\xfftarget";
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	struct stat st, ret_st;
	char buf[64];
	ssize_t n;

	assert_int_equal(path_open(fx, "/l", &p, &d), 0);
	assert_int_equal(fs_make_symlink(&p, target, strlen(target), &m, FS_PLACE_NEW, &ret_st, &d),
			 0);
	st = lstat_at(fx->rootfd, "l");
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(st.st_uid, m.uid);
	assert_int_equal(st.st_gid, m.gid);
	assert_true(mtime_ns(&st) == MTIME_NS);
	assert_true(ret_st.st_ino == st.st_ino);
	n = readlinkat(fx->rootfd, "l", buf, sizeof(buf));
	assert_int_equal(n, strlen(target));
	assert_memory_equal(buf, target, strlen(target));

	assert_int_equal(fs_make_symlink(&p, "x", 1, &m, FS_PLACE_NEW, NULL, &d), -EEXIST);
	assert_int_equal(fs_make_symlink(&p, "a\0b", 3, &m, FS_PLACE_NEW, NULL, &d), -EINVAL);
	assert_int_equal(fs_make_symlink(&p, "", 0, &m, FS_PLACE_NEW, NULL, &d), -EINVAL);
	assert_int_equal(fs_make_symlink(&p, "x", 1, &m, FS_PLACE_REPLACE, NULL, &d), 0);
	n = readlinkat(fx->rootfd, "l", buf, sizeof(buf));
	assert_int_equal(n, 1);
	assert_no_temp(fx->rootfd, ".");
	fs_path_release(&p);
}

static void test_make_dir_with_meta(void **state)
{
	struct fixture *fx = *state;
	const struct fs_meta m = { .mode = S_IFDIR | 02750,
				   .uid = other_uid(),
				   .gid = other_gid(),
				   .mtime_ns = MTIME_NS };
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	struct stat st, ret_st;

	assert_int_equal(path_open(fx, "/d", &p, &d), 0);
	assert_int_equal(fs_make_dir(&p, &m, &ret_st, &d), 0);
	st = lstat_at(fx->rootfd, "d");
	assert_int_equal(st.st_mode, S_IFDIR | 02750);
	assert_int_equal(st.st_uid, m.uid);
	assert_true(mtime_ns(&st) == MTIME_NS);
	assert_true(ret_st.st_ino == st.st_ino);
	assert_int_equal(fs_make_dir(&p, &m, NULL, &d), -EEXIST);
	assert_true(exists(fx->rootfd, "d"));
	fs_path_release(&p);
}

/* ---- fs_move(), fs_remove(), fs_mkdirs() ---- */

static void test_move_within_dir_keeps_inode(void **state)
{
	struct fixture *fx = *state;
	struct fs_path from = { 0 }, to = { 0 };
	struct diag d = { 0 };
	struct stat st;

	put(fx->rootfd, "a", "a", 0644);
	put(fx->rootfd, "taken", "t", 0644);
	assert_int_equal(mkdirat(fx->rootfd, "q", 0700), 0);
	st = lstat_at(fx->rootfd, "a");

	assert_int_equal(path_open(fx, "/a", &from, &d), 0);
	assert_int_equal(path_open(fx, "/taken", &to, &d), 0);
	assert_int_equal(fs_move(&from, &to, &st, &d), -EEXIST);
	assert_string_equal(get(fx->rootfd, "taken"), "t");
	fs_path_release(&to);

	assert_int_equal(path_open(fx, "/q/b", &to, &d), 0);
	assert_int_equal(fs_move(&from, &to, &st, &d), 0);
	assert_false(exists(fx->rootfd, "a"));
	assert_true(lstat_at(fx->rootfd, "q/b").st_ino == st.st_ino);
	fs_path_release(&from);
	fs_path_release(&to);
}

static void test_move_with_wrong_expect_is_stale(void **state)
{
	struct fixture *fx = *state;
	struct fs_path from = { 0 }, to = { 0 };
	struct diag d = { 0 };
	struct stat st;

	put(fx->rootfd, "a", "a", 0644);
	put(fx->rootfd, "other", "o", 0644);
	st = lstat_at(fx->rootfd, "other");

	assert_int_equal(path_open(fx, "/a", &from, &d), 0);
	assert_int_equal(path_open(fx, "/b", &to, &d), 0);
	assert_int_equal(fs_move(&from, &to, &st, &d), -ESTALE);
	st = lstat_at(fx->rootfd, "a");
	st.st_mode = S_IFDIR | 0755; /* same inode, another type: stale too */
	assert_int_equal(fs_move(&from, &to, &st, &d), -ESTALE);
	assert_true(exists(fx->rootfd, "a"));
	assert_false(exists(fx->rootfd, "b"));
	fs_path_release(&from);
	fs_path_release(&to);
}

static void test_move_across_filesystems_copies(void **state)
{
	struct fixture *fx = *state;
	char shm[] = "/dev/shm/drift-fsops-XXXXXX";
	struct fs_path from = { 0 }, to = { 0 };
	struct diag d = { 0 };
	struct stat st, dir, moved;
	int shmfd;

	/* Needs a second filesystem: /dev/shm when it is one; else nothing to test. */
	if (!mkdtemp(shm))
		return;
	shmfd = open(shm, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(shmfd >= 0);
	assert_int_equal(fstat(shmfd, &dir), 0);
	if (dir.st_dev != lstat_at(fx->rootfd, ".").st_dev) {
		put(shmfd, "f", "moved bytes", 04750);
		assert_int_equal(fchownat(shmfd, "f", other_uid(), other_gid(), 0), 0);
		assert_int_equal(fchmodat(shmfd, "f", 04750, 0), 0);
		assert_int_equal(symlinkat("somewhere", shmfd, "l"), 0);
		assert_int_equal(mkdirat(shmfd, "d", 0755), 0);
		st = lstat_at(shmfd, "f");

		assert_int_equal(fs_path_open(shmfd, "/f", 2, &from, &d), 0);
		assert_int_equal(path_open(fx, "/f", &to, &d), 0);
		assert_int_equal(fs_move(&from, &to, &st, &d), 0);
		moved = lstat_at(fx->rootfd, "f");
		assert_false(exists(shmfd, "f"));
		assert_string_equal(get(fx->rootfd, "f"), "moved bytes");
		assert_int_equal(moved.st_mode, st.st_mode);
		assert_int_equal(moved.st_uid, st.st_uid);
		assert_true(mtime_ns(&moved) == mtime_ns(&st));
		fs_path_release(&from);
		fs_path_release(&to);

		st = lstat_at(shmfd, "l");
		assert_int_equal(fs_path_open(shmfd, "/l", 2, &from, &d), 0);
		assert_int_equal(path_open(fx, "/l", &to, &d), 0);
		assert_int_equal(fs_move(&from, &to, &st, &d), 0);
		assert_true(S_ISLNK(lstat_at(fx->rootfd, "l").st_mode));
		assert_false(exists(shmfd, "l"));
		fs_path_release(&from);
		fs_path_release(&to);

		st = lstat_at(shmfd, "d");
		assert_int_equal(fs_path_open(shmfd, "/d", 2, &from, &d), 0);
		assert_int_equal(path_open(fx, "/d", &to, &d), 0);
		assert_int_equal(fs_move(&from, &to, &st, &d), -EXDEV);
		assert_true(exists(shmfd, "d"));
		fs_path_release(&from);
		fs_path_release(&to);
		assert_no_temp(fx->rootfd, ".");
	}
	close(shmfd);
	nftw(shm, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void test_remove_checks_and_refuses_nonempty_dir(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { 0 };
	struct diag d = { 0 };
	struct stat st, other;

	assert_int_equal(mkdirat(fx->rootfd, "d", 0755), 0);
	put(fx->rootfd, "d/f", "x", 0644);
	put(fx->rootfd, "g", "x", 0644);
	st = lstat_at(fx->rootfd, "d");
	other = lstat_at(fx->rootfd, "g");

	assert_int_equal(path_open(fx, "/d", &p, &d), 0);
	assert_int_equal(fs_remove(&p, &st, &d), -ENOTEMPTY);
	assert_int_equal(fs_remove(&p, &other, &d), -ESTALE);
	assert_int_equal(fs_remove(&p, NULL, &d), -EINVAL);
	assert_int_equal(unlinkat(fx->rootfd, "d/f", 0), 0);
	assert_int_equal(fs_remove(&p, &st, &d), 0);
	assert_false(exists(fx->rootfd, "d"));
	fs_path_release(&p);

	assert_int_equal(path_open(fx, "/g", &p, &d), 0);
	assert_int_equal(fs_remove(&p, &other, &d), 0);
	assert_false(exists(fx->rootfd, "g"));
	assert_int_equal(fs_remove(&p, &other, &d), -ENOENT);
	fs_path_release(&p);
}

static void test_mkdirs_refuses_symlink_component(void **state)
{
	struct fixture *fx = *state;
	struct diag d = { 0 };
	struct stat st;
	int fd;

	assert_int_equal(mkdirat(fx->rootfd, "q", 0755), 0);
	assert_int_equal(symlinkat("q", fx->rootfd, "ql"), 0);

	assert_int_equal(fs_mkdirs(fx->rootfd, "ql/sub", 0700, &d), -ELOOP);
	assert_non_null(strstr(d.msg, "'ql' is a symlink"));
	assert_false(exists(fx->rootfd, "q/sub"));
	assert_int_equal(fs_mkdirs(fx->rootfd, "a/../b", 0700, &d), -EINVAL);
	assert_int_equal(fs_mkdirs(fx->rootfd, "/abs", 0700, &d), -EINVAL);

	fd = fs_mkdirs(fx->rootfd, "a/b//c/", 0700, &d);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_ino == lstat_at(fx->rootfd, "a/b/c").st_ino);
	assert_int_equal(lstat_at(fx->rootfd, "a/b").st_mode & 07777, 0700);
	close(fd);
	fd = fs_mkdirs(fx->rootfd, "a/b/c", 0700, &d); /* again: they exist */
	assert_true(fd >= 0);
	close(fd);
	put(fx->rootfd, "a/file", "x", 0644);
	assert_int_equal(fs_mkdirs(fx->rootfd, "a/file/x", 0700, &d), -ENOTDIR);
}

/* What a crash left of a tagged path's temporary objects goes; nothing else does. */
static void test_clean_temps_takes_only_the_tags_leftovers(void **state)
{
	struct fixture *fx = *state;
	struct fs_path p = { .dirfd = -1 };
	struct diag d = { 0 };
	struct stat st;

	assert_int_equal(mkdirat(fx->rootfd, "etc", 0755), 0);
	put(fx->rootfd, "etc/.drift-remedy-7-3-abcDEF", "left by a crash", 0600);
	assert_int_equal(symlinkat("target", fx->rootfd, "etc/.drift-remedy-7-3-xyz012"), 0);
	put(fx->rootfd, "etc/.drift-remedy-7-31-abcdef", "another step's", 0600);
	put(fx->rootfd, "etc/.drift-remedy-7-3-abcdefg", "not drift's name", 0600);
	put(fx->rootfd, "etc/.drift-remedy-abcdef", "untagged", 0600);
	assert_int_equal(mkdirat(fx->rootfd, "etc/.drift-remedy-7-3-dir000", 0700), 0);

	assert_int_equal(fs_path_open(fx->rootfd, "/etc/conf", 9, &p, &d), 0);
	assert_int_equal(fs_clean_temps(&p, &d), 0); /* no tag: nothing */
	p.tag = "7-3";
	assert_int_equal(fs_clean_temps(&p, &d), 2);
	assert_int_equal(fstatat(fx->rootfd, "etc/.drift-remedy-7-3-abcDEF", &st, 0), -1);
	assert_int_equal(
		fstatat(fx->rootfd, "etc/.drift-remedy-7-3-xyz012", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(fx->rootfd, "etc/.drift-remedy-7-31-abcdef", &st, 0), 0);
	assert_int_equal(fstatat(fx->rootfd, "etc/.drift-remedy-7-3-abcdefg", &st, 0), 0);
	assert_int_equal(fstatat(fx->rootfd, "etc/.drift-remedy-abcdef", &st, 0), 0);
	assert_int_equal(fstatat(fx->rootfd, "etc/.drift-remedy-7-3-dir000", &st, 0), 0);

	/* A tagged write names its temporary object so (and leaves none behind). */
	{
		struct fs_meta m = { .mode = S_IFREG | 0644, .uid = geteuid(), .gid = getegid() };

		assert_int_equal(
			fs_write_file(&p, (const uint8_t *)"x", 1, &m, FS_PLACE_NEW, NULL, &d), 0);
		assert_int_equal(fs_clean_temps(&p, &d), 0);
		assert_string_equal(get(fx->rootfd, "etc/conf"), "x");
	}
	fs_path_release(&p);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_path_open_refuses_symlinked_component),
		T(test_path_open_refuses_bad_paths),
		T(test_entry_open_by_type),
		T(test_read_file_max_is_efbig),
		T(test_write_file_replaces_atomically_with_exact_meta),
		T(test_write_file_new_refuses_existing_name),
		T(test_write_file_failure_leaves_no_temp),
		T(test_meta_apply_round_trip),
		T(test_meta_apply_owner_then_mode_keeps_setuid),
		T(test_meta_apply_on_symlink_and_fifo_never_follows),
		T(test_make_symlink_target_and_owner),
		T(test_make_dir_with_meta),
		T(test_move_within_dir_keeps_inode),
		T(test_move_with_wrong_expect_is_stale),
		T(test_move_across_filesystems_copies),
		T(test_remove_checks_and_refuses_nonempty_dir),
		T(test_mkdirs_refuses_symlink_component),
		T(test_clean_temps_takes_only_the_tags_leftovers),
	};
#undef T

	return cmocka_run_group_tests_name("remedy/fsops", tests, NULL, NULL);
}
