/*
 * Failures the real filesystem will not give us on demand (we run as root,
 * which ignores chmod), injected through the syscall seam scanner/sys.c:
 * this executable links with -Wl,--wrap= for scan_sys_openat, _fstatat,
 * _read, _getdents64, _lseek and _readlinkat. The fakes are configured by plain globals set before
 * the walk starts (the walk's threads are created after, so they see them); cmocka's will_return()
 * queue is not thread-safe, hence no mock_type().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "scanner/scanner.h"
#include "scanner/hash.h"
#include "scanner/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tree.h"

#include "common/banned.h"

struct fake {
	const char *name; /* a single path component, as the walker passes it */
	int err;          /* positive errno to return */
};

static struct {
	struct fake openat;
	struct fake fstatat[2];
	ino_t mutate_ino;       /* the file whose mtime moves while it is read */
	atomic_int mutate_left; /* reads that move it; -1: every read */
	atomic_long mtime_sec;  /* the last mtime set */
	ino_t unlink_ino;       /* the file that is unlinked at its first read */
	ino_t getdents_ino;     /* the directory whose listing fails with getdents_err */
	int getdents_err;       /* 0: EIO */
	char unlink_path[128];
	const char *swap_name; /* a file swapped at its first opening for reading... */
	char swap_to;          /* ...for a symlink ('l'), a socket ('s') or nothing ('-') */
	atomic_bool swapped;
	char swap_path[128];
	atomic_long dir_opens;   /* openat(O_DIRECTORY) calls */
	atomic_long reads;       /* scan_sys_read() calls */
	bool no_seek_data;       /* lseek(SEEK_DATA/SEEK_HOLE) says EINVAL, as on some FUSE */
	const char *relink_name; /* a symlink replaced at its first readlinkat()... */
	char relink_to;          /* ...by a directory with a file ('d') or a file ('f') */
	atomic_bool relinked;
	char relink_path[128];
	int seek_err; /* lseek(seek_whence) fails with this (positive errno) */
	int seek_whence;
	ino_t read_err_ino; /* the file whose reads fail with EIO... */
	int read_err_after; /* ...after this many successful ones */
	atomic_int read_err_ok;
	size_t short_read;     /* no read returns more than this (0: as asked) */
	ino_t getdents_ok_ino; /* the directory whose second getdents64 fails with EIO */
	atomic_int getdents_calls;
} seam;

int __real_scan_sys_openat(int dirfd, const char *name, int flags);
int __wrap_scan_sys_openat(int dirfd, const char *name, int flags);
int __real_scan_sys_fstatat(int dirfd, const char *name, struct stat *st, int flags);
int __wrap_scan_sys_fstatat(int dirfd, const char *name, struct stat *st, int flags);
ssize_t __real_scan_sys_read(int fd, void *buf, size_t len);
ssize_t __real_scan_sys_getdents64(int fd, void *buf, size_t len);
ssize_t __wrap_scan_sys_getdents64(int fd, void *buf, size_t len);
ssize_t __wrap_scan_sys_read(int fd, void *buf, size_t len);
int64_t __real_scan_sys_lseek(int fd, int64_t offset, int whence);
int64_t __wrap_scan_sys_lseek(int fd, int64_t offset, int whence);
ssize_t __real_scan_sys_readlinkat(int dirfd, const char *name, char *buf, size_t len);
ssize_t __wrap_scan_sys_readlinkat(int dirfd, const char *name, char *buf, size_t len);

/* Replace the symlink seam.relink_path by what seam.relink_to says; 0 or -1. */
static int relink(void)
{
	char inside[160];
	int fd;

	if (unlink(seam.relink_path) < 0)
		return -1;
	if (seam.relink_to == 'd') {
		snprintf(inside, sizeof(inside), "%s/inside", seam.relink_path);
		if (mkdir(seam.relink_path, 0755) < 0)
			return -1;
	} else {
		snprintf(inside, sizeof(inside), "%s", seam.relink_path);
	}
	fd = open(inside, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	if (write(fd, "now a file\n", 11) != 11) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Between the walker's fstatat and its readlinkat: a symlink swapped for something else. */
ssize_t __wrap_scan_sys_readlinkat(int dirfd, const char *name, char *buf, size_t len)
{
	if (seam.relink_name && !strcmp(name, seam.relink_name) &&
	    !atomic_exchange(&seam.relinked, true) && relink() < 0)
		return -EIO; /* the fixture failed: make the test fail */
	return __real_scan_sys_readlinkat(dirfd, name, buf, len);
}

int64_t __wrap_scan_sys_lseek(int fd, int64_t offset, int whence)
{
	if (seam.no_seek_data && (whence == SEEK_DATA || whence == SEEK_HOLE))
		return -EINVAL;
	if (seam.seek_err && whence == seam.seek_whence)
		return -seam.seek_err;
	return __real_scan_sys_lseek(fd, offset, whence);
}

/* Replace seam.swap_path by what seam.swap_to says; 0 or -1. */
static int swap_file(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (unlink(seam.swap_path) < 0)
		return -1;
	if (seam.swap_to == 'l')
		return symlink("swapped-in-target", seam.swap_path);
	if (seam.swap_to != 's')
		return 0;
	if (strlen(seam.swap_path) >= sizeof(sa.sun_path))
		return -1;
	memcpy(sa.sun_path, seam.swap_path, strlen(seam.swap_path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	close(fd);
	return r;
}

int __wrap_scan_sys_openat(int dirfd, const char *name, int flags)
{
	if (seam.openat.name && !strcmp(name, seam.openat.name))
		return -seam.openat.err;
	if (flags & O_DIRECTORY)
		atomic_fetch_add(&seam.dir_opens, 1);
	/* Between the walker's fstatat and the hasher's open: the race of a swap. */
	if (seam.swap_name && !strcmp(name, seam.swap_name) && !(flags & (O_PATH | O_DIRECTORY)) &&
	    !atomic_exchange(&seam.swapped, true) && swap_file() < 0)
		return -EIO; /* the fixture failed: make the test fail */
	return __real_scan_sys_openat(dirfd, name, flags);
}

int __wrap_scan_sys_fstatat(int dirfd, const char *name, struct stat *st, int flags)
{
	for (int i = 0; i < 2; i++)
		if (seam.fstatat[i].name && !strcmp(name, seam.fstatat[i].name))
			return -seam.fstatat[i].err;
	return __real_scan_sys_fstatat(dirfd, name, st, flags);
}

ssize_t __wrap_scan_sys_getdents64(int fd, void *buf, size_t len)
{
	struct stat st;

	if (seam.getdents_ino && fstat(fd, &st) == 0 && st.st_ino == seam.getdents_ino)
		return seam.getdents_err ? -seam.getdents_err : -EIO;
	if (seam.getdents_ok_ino && fstat(fd, &st) == 0 && st.st_ino == seam.getdents_ok_ino &&
	    atomic_fetch_add(&seam.getdents_calls, 1) > 0)
		return -EIO; /* the first read of the listing went through */
	return __real_scan_sys_getdents64(fd, buf, len);
}

ssize_t __wrap_scan_sys_read(int fd, void *buf, size_t len)
{
	ssize_t n;
	struct stat st;

	if (seam.read_err_ino && fstat(fd, &st) == 0 && st.st_ino == seam.read_err_ino &&
	    atomic_fetch_add(&seam.read_err_ok, 1) >= seam.read_err_after)
		return -EIO;
	if (seam.short_read && len > seam.short_read)
		len = seam.short_read;
	n = __real_scan_sys_read(fd, buf, len);
	atomic_fetch_add(&seam.reads, 1);
	if (fstat(fd, &st) < 0)
		return n;
	if (seam.mutate_ino && st.st_ino == seam.mutate_ino) {
		int left = atomic_load(&seam.mutate_left);

		if (left != 0) {
			struct timespec ts[2] = { { 0, UTIME_OMIT },
						  { atomic_fetch_add(&seam.mtime_sec, 1) + 1, 0 } };

			futimens(fd, ts);
			if (left > 0)
				atomic_fetch_sub(&seam.mutate_left, 1);
		}
	}
	if (seam.unlink_ino && st.st_ino == seam.unlink_ino && st.st_nlink > 0)
		unlink(seam.unlink_path);
	return n;
}

struct fixture {
	char dir[64];
	int dirfd;
	char buf[256];
};

/* decide callback: the same verdict (*(unsigned *)userdata) for every path. */
static unsigned decide_all(const char *path, size_t len, void *userdata)
{
	(void)path;
	(void)len;
	return *(const unsigned *)userdata;
}

/* Set the extended attribute @name of @rel to the C string @value; 0 or -1. */
static int fsetxattrat_ok(struct fixture *fx, const char *rel, const char *name, const char *value)
{
	int fd = openat(fx->dirfd, rel, O_RDONLY | O_CLOEXEC);
	int r;

	if (fd < 0)
		return -1;
	r = fsetxattr(fd, name, value, strlen(value), 0);
	close(fd);
	return r;
}

static int fixture_teardown(void **state)
{
	struct fixture *fx = *state;

	memset(&seam, 0, sizeof(seam));
	if (!fx)
		return 0;
	if (fx->dirfd >= 0)
		close(fx->dirfd);
	tree_rm_rf(fx->dir);
	free(fx);
	return 0;
}

static int fixture_setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	char *big = malloc(3 << 20);

	memset(&seam, 0, sizeof(seam));
	if (!fx || !big)
		goto fail;
	*state = fx;
	fx->dirfd = -1;
	tree_fill(big, 3 << 20, 5);
	if (tree_mkdtemp(fx->dir, sizeof(fx->dir)) < 0)
		goto fail;
	fx->dirfd = open(fx->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fx->dirfd < 0 || mkdirat(fx->dirfd, "locked", 0700) < 0 ||
	    tree_write(fx->dirfd, "locked/in1", "1", 1) < 0 ||
	    tree_write(fx->dirfd, "locked/in2", "2", 1) < 0 ||
	    tree_write(fx->dirfd, "ok", "fine\n", 5) < 0 ||
	    tree_write(fx->dirfd, "secret", "s3cr3t", 6) < 0 ||
	    tree_write(fx->dirfd, "gone", "g", 1) < 0 || tree_write(fx->dirfd, "bad", "b", 1) < 0 ||
	    tree_write(fx->dirfd, "moving", big, 3 << 20) < 0)
		goto fail;
	free(big);
	return 0;
fail:
	free(big);
	if (fx) {
		*state = fx;
		fixture_teardown(state);
	}
	*state = NULL;
	return -1;
}

#define TREE_COUNT 9 /* root, locked, in1, in2, ok, secret, gone, bad, moving */

static const struct entry *find(struct fixture *fx, const struct collect *c, const char *rel)
{
	snprintf(fx->buf, sizeof(fx->buf), "%s/%s", fx->dir, rel);
	return collect_find(c, fx->buf);
}

static int walk(struct fixture *fx, struct collect *c, struct scan_stats *stats)
{
	const char *roots[] = { fx->dir };
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = 1;
	o.nthreads = 2;
	o.hash = HASH_XXH3_128;
	o.visit = collect_visit;
	o.userdata = c;
	return scan_walk(&o, stats, NULL);
}

static ino_t ino_of(struct fixture *fx, const char *rel)
{
	struct stat st;

	assert_int_equal(fstatat(fx->dirfd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
	return st.st_ino;
}

static void hash_of(struct fixture *fx, const char *rel, uint8_t out[16])
{
	struct entry e = { 0 };

	assert_int_equal(scan_hash_file(fx->dirfd, rel, HASH_XXH3_128, &e), 0);
	memcpy(out, e.hash, 16);
}

static void test_walk_records_eacces_on_directory_and_goes_on(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.openat = (struct fake){ "locked", EACCES };
	assert_int_equal(walk(fx, &c, &stats), 0);
	e = find(fx, &c, "locked");
	assert_non_null(e);
	assert_int_equal(e->err, EACCES);
	assert_true(S_ISDIR(e->mode)); /* the attributes of the lookup are kept */
	assert_null(find(fx, &c, "locked/in1"));
	assert_non_null(find(fx, &c, "ok"));
	assert_int_equal(find(fx, &c, "ok")->hash_algo, HASH_XXH3_128);
	assert_int_equal(c.n, TREE_COUNT - 2);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

static void test_walk_records_listing_error_on_directory(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.getdents_ino = ino_of(fx, "locked");
	assert_int_equal(walk(fx, &c, &stats), 0);
	e = find(fx, &c, "locked");
	assert_non_null(e);
	assert_int_equal(e->err, EIO);
	assert_true(S_ISDIR(e->mode));
	assert_null(find(fx, &c, "locked/in2"));
	assert_int_equal(c.n, TREE_COUNT - 2);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

static void test_walk_records_eacces_on_file_without_hash(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.openat = (struct fake){ "secret", EACCES };
	assert_int_equal(walk(fx, &c, &stats), 0);
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_int_equal(e->err, EACCES);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->size, 6);
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(c.n, TREE_COUNT);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

/*
 * Out of descriptors or memory is drift's problem, not the host's: the walk
 * fails with it, and no entry ever carries it as its error (it used to be
 * stored as "unreadable", and the next check reported the files as changed).
 */
static void check_resource_error_fails_walk(struct fixture *fx, const char *name, int err,
					    bool on_stat)
{
	struct collect c = { 0 };
	struct scan_stats stats;

	if (on_stat)
		seam.fstatat[0] = (struct fake){ name, err };
	else
		seam.openat = (struct fake){ name, err };
	assert_int_equal(walk(fx, &c, &stats), -err);
	for (size_t i = 0; i < c.n; i++)
		assert_int_not_equal(c.v[i].err, err);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
	memset(&seam.openat, 0, sizeof(seam.openat));
	memset(&seam.fstatat, 0, sizeof(seam.fstatat));
}

static void test_walk_fails_on_resource_errors_never_records_them(void **state)
{
	struct fixture *fx = *state;

	check_resource_error_fails_walk(fx, "secret", EMFILE, false); /* opening to hash */
	check_resource_error_fails_walk(fx, "locked", ENFILE, false); /* opening a directory */
	check_resource_error_fails_walk(fx, "ok", ENOMEM, true);      /* the lookup */
}

/*
 * A file with more holes than blocks_min is hashed in block form, reading
 * only its data. On a filesystem that hides its holes (no SEEK_DATA) that
 * would read every hole: past the allocation plus blocks_min of reading,
 * the file is recorded unhashed, as too sparse, instead of read for ever.
 */
static void test_hash_block_form_gives_up_where_holes_are_hidden(void **state)
{
	struct fixture *fx = *state;
	const uint64_t size = 64 << 20;
	struct scan_hasher h;
	struct entry e = { 0 }, hidden = { 0 };
	struct stat st;
	int fd = openat(fx->dirfd, "holes", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	assert_int_equal(pwrite(fd, "data", 4, 1 << 20), 4);
	assert_int_equal(close(fd), 0);
	assert_int_equal(fstatat(fx->dirfd, "holes", &st, AT_SYMLINK_NOFOLLOW), 0);
	if ((uint64_t)st.st_blocks * 512 >= size / 2)
		tap_skip("this filesystem does not do holes");

	assert_int_equal(scan_hasher_init(&h, HASH_XXH3_128, 64 << 10), 0);
	h.blocks_min = 1 << 20;
	assert_int_equal(scan_hasher_entry(&h, fx->dirfd, "holes", &st, &e), 0);
	assert_int_equal(e.hash_algo, HASH_XXH3_128);
	assert_int_equal(e.flags, 0);
	assert_true(atomic_load(&seam.reads) < 8); /* the data block, not 64 MiB */

	seam.no_seek_data = true;
	assert_int_equal(fstatat(fx->dirfd, "holes", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(scan_hasher_entry(&h, fx->dirfd, "holes", &st, &hidden), 0);
	seam.no_seek_data = false;
	assert_int_equal(hidden.hash_algo, HASH_NONE);
	assert_int_equal(hidden.err, 0);
	assert_int_equal(hidden.flags, ENTRY_NOT_HASHED_TOO_SPARSE);
	assert_int_equal(st.st_size, (off_t)size);
	scan_hasher_release(&h);
}

static void test_hash_file_open_failure_keeps_output(void **state)
{
	struct fixture *fx = *state;
	struct entry e, ref;

	seam.openat = (struct fake){ "secret", EACCES };
	memset(&e, 0x5a, sizeof(e));
	memcpy(&ref, &e, sizeof(e));
	assert_int_equal(scan_hash_file(fx->dirfd, "secret", HASH_XXH3_128, &e), -EACCES);
	assert_memory_equal(&e, &ref, sizeof(e));
}

static void test_walk_vanished_name_is_absent_and_stat_error_recorded(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.fstatat[0] = (struct fake){ "gone", ENOENT };
	seam.fstatat[1] = (struct fake){ "bad", EIO };
	assert_int_equal(walk(fx, &c, &stats), 0);
	assert_null(find(fx, &c, "gone"));
	e = find(fx, &c, "bad");
	assert_non_null(e);
	assert_int_equal(e->err, EIO);
	assert_int_equal(e->mode, 0);
	assert_int_equal(c.n, TREE_COUNT - 1);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

static void test_walk_rereads_file_that_changed_once(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	const struct entry *e;
	uint8_t want[16];

	hash_of(fx, "moving", want);
	seam.mutate_ino = ino_of(fx, "moving");
	atomic_store(&seam.mutate_left, 1);
	atomic_store(&seam.mtime_sec, 1000000);
	assert_int_equal(walk(fx, &c, NULL), 0);
	e = find(fx, &c, "moving");
	assert_non_null(e);
	assert_int_equal(e->err, 0);
	assert_int_equal(e->flags, 0);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_memory_equal(e->hash, want, 16);
	assert_int_equal(e->mtime_ns, (int64_t)1000001 * 1000000000);
	assert_int_equal(atomic_load(&seam.mutate_left), 0);
	collect_release(&c);
}

static void test_walk_flags_file_that_keeps_changing(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	const struct entry *e;
	uint8_t want[16];

	hash_of(fx, "moving", want);
	seam.mutate_ino = ino_of(fx, "moving");
	atomic_store(&seam.mutate_left, -1);
	atomic_store(&seam.mtime_sec, 2000000);
	assert_int_equal(walk(fx, &c, NULL), 0);
	e = find(fx, &c, "moving");
	assert_non_null(e);
	assert_int_equal(e->err, 0);
	assert_int_equal(e->flags, ENTRY_CHANGED_WHILE_READ);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_memory_equal(e->hash, want, 16); /* only the mtime moved */
	assert_int_equal(e->mtime_ns, atomic_load(&seam.mtime_sec) * 1000000000);
	assert_int_equal(find(fx, &c, "ok")->flags, 0);
	collect_release(&c);
}

static void test_walk_file_vanishing_while_read_gets_enoent(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.unlink_ino = ino_of(fx, "moving");
	snprintf(seam.unlink_path, sizeof(seam.unlink_path), "%s/moving", fx->dir);
	assert_int_equal(walk(fx, &c, &stats), 0);
	e = find(fx, &c, "moving");
	assert_non_null(e);
	assert_int_equal(e->err, ENOENT);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

static void walk_swapped(struct fixture *fx, char to, struct collect *c, struct scan_stats *stats)
{
	seam.swap_name = "secret";
	seam.swap_to = to;
	snprintf(seam.swap_path, sizeof(seam.swap_path), "%s/secret", fx->dir);
	assert_int_equal(walk(fx, c, stats), 0);
	assert_true(atomic_load(&seam.swapped));
	assert_int_equal(c->n, TREE_COUNT);
}

static void test_walk_file_swapped_for_symlink_before_open_is_a_symlink(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	walk_swapped(fx, 'l', &c, &stats);
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_true(S_ISLNK(e->mode)); /* a type change, not an unreadable regular file */
	assert_int_equal(e->err, 0);
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(e->target_len, strlen("swapped-in-target"));
	assert_memory_equal(e->target, "swapped-in-target", e->target_len);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

static void test_walk_file_swapped_for_socket_before_open_is_a_socket(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	walk_swapped(fx, 's', &c, &stats);
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_true(S_ISSOCK(e->mode));
	assert_int_equal(e->err, 0);
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

static void test_walk_file_gone_before_open_gets_enoent(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	walk_swapped(fx, '-', &c, &stats);
	/* Looked up, then gone: recorded with ENOENT, as a file vanishing while read. */
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->err, ENOENT);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

static void walk_relinked(struct fixture *fx, char to, struct collect *c, struct scan_stats *stats)
{
	assert_int_equal(symlinkat("/", fx->dirfd, "link"), 0);
	seam.relink_name = "link";
	seam.relink_to = to;
	snprintf(seam.relink_path, sizeof(seam.relink_path), "%s/link", fx->dir);
	assert_int_equal(walk(fx, c, stats), 0);
	assert_true(atomic_load(&seam.relinked));
}

static void test_walk_symlink_swapped_for_directory_before_readlink_is_walked(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	/* It was a symlink with an error (EINVAL), not the directory that is there. */
	walk_relinked(fx, 'd', &c, &stats);
	assert_int_equal(c.n, TREE_COUNT + 2);
	e = find(fx, &c, "link");
	assert_non_null(e);
	assert_true(S_ISDIR(e->mode));
	assert_int_equal(e->err, 0);
	assert_int_equal(e->target_len, 0);
	e = find(fx, &c, "link/inside");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->err, 0);
	assert_int_equal(e->hash_len, 16);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

static void test_walk_symlink_swapped_for_file_before_readlink_is_hashed(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;
	uint8_t want[16];

	walk_relinked(fx, 'f', &c, &stats);
	assert_int_equal(c.n, TREE_COUNT + 1);
	e = find(fx, &c, "link");
	assert_non_null(e);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->err, 0);
	assert_int_equal(e->target_len, 0);
	assert_int_equal(e->hash_len, 16);
	hash_of(fx, "link", want);
	assert_memory_equal(e->hash, want, 16);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

static void test_walk_directory_removed_while_listed_is_absent(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;

	/* getdents64 on a directory removed after it was opened fails with ENOENT. */
	seam.getdents_ino = ino_of(fx, "locked");
	seam.getdents_err = ENOENT;
	assert_int_equal(walk(fx, &c, &stats), 0);
	assert_null(find(fx, &c, "locked"));
	assert_null(find(fx, &c, "locked/in1"));
	assert_non_null(find(fx, &c, "ok"));
	assert_int_equal(c.n, TREE_COUNT - 3);
	assert_int_equal(stats.errors, 0);
	collect_release(&c);
}

#define CHAIN_DEPTH 120

static rlim_t soft_seen; /* the soft RLIMIT_NOFILE during the walk */

static enum scan_action visit_rlimit(const struct entry *e, void *userdata)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		soft_seen = rl.rlim_cur;
	return collect_visit(e, userdata);
}

/*
 * In a child process limited to @soft (and @hard) descriptors, walk the
 * chain of CHAIN_DEPTH directories with @threads threads. Exit status: 0
 * when the walk saw every entry with fewer than 3 directory opens per
 * directory (no reopening from the root), ran with the soft limit @during,
 * and the limit was restored.
 */
static void walk_chain_limited(struct fixture *fx, rlim_t soft, rlim_t hard, unsigned threads,
			       rlim_t during)
{
	char root[128];
	const char *roots[] = { root };
	int status = -1;
	pid_t pid;

	snprintf(root, sizeof(root), "%s/chain", fx->dir);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl;
		struct collect c = { 0 };
		struct scan_opts o = { 0 };
		int code = 0;

		if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(10);
		if (hard == RLIM_INFINITY)
			hard = rl.rlim_max;
		rl.rlim_cur = soft;
		rl.rlim_max = hard;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(11);
		atomic_store(&seam.dir_opens, 0);
		o.roots = roots;
		o.nroots = 1;
		o.nthreads = threads;
		o.hash = HASH_XXH3_128;
		o.visit = visit_rlimit;
		o.userdata = &c;
		if (scan_walk(&o, NULL, NULL) < 0)
			code = 12;
		else if (c.n != CHAIN_DEPTH + 2) /* the root, the chain, the file at the bottom */
			code = 13;
		else if (atomic_load(&seam.dir_opens) >= 3 * CHAIN_DEPTH)
			code = 14;
		else if (soft_seen != (during ? during : soft))
			code = 15;
		else if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur != soft)
			code = 16;
		collect_release(&c);
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static int make_chain(struct fixture *fx)
{
	int fd = openat(fx->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	const char *name = "chain";

	for (int i = 0; i <= CHAIN_DEPTH && fd >= 0; i++, name = "d") {
		int next;

		if (mkdirat(fd, name, 0755) < 0) {
			close(fd);
			return -1;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		close(fd);
		fd = next;
	}
	if (fd < 0 || tree_write(fd, "bottom", "b", 1) < 0)
		return -1;
	close(fd);
	return 0;
}

static void test_walk_low_fd_limit_is_raised_for_the_walk(void **state)
{
	struct fixture *fx = *state;
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 8192)
		tap_skip("the hard limit of open files is below 8192");
	/* 64 fds would leave no directory fd for 8 threads: every job would reopen from "/". */
	assert_int_equal(make_chain(fx), 0);
	walk_chain_limited(fx, 64, RLIM_INFINITY, 8, 8192);
	walk_chain_limited(fx, 64, 300, 8, 300); /* raised as far as the hard limit allows */
}

static void test_walk_fd_limit_that_cannot_be_raised_caps_threads(void **state)
{
	struct fixture *fx = *state;
	struct rlimit rl;

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_max < 160)
		tap_skip("the hard limit of open files is below 160");
	/* soft = hard = 160: 64 threads would reserve 272 fds, more than the 80 allowed. */
	assert_int_equal(make_chain(fx), 0);
	walk_chain_limited(fx, 160, 160, 64, 0);
}

/* ---- opts.reuse ---- */

#define TREE_FILES 7 /* in1, in2, ok, secret, gone, bad, moving */

struct reuser {
	bool answer;             /* what reuse returns */
	enum hash_algo algo;     /* what it claims */
	uint8_t len;             /* and with which length */
	unsigned limit;          /* worker indexes must stay below */
	atomic_int calls;        /* reuse calls */
	atomic_int out_of_range; /* calls with worker >= limit */
	atomic_uint max_worker;
	atomic_int bad_entry; /* calls whose entry was not a regular file with its stat */
};

static bool reuse_cb(unsigned worker, const struct entry *e, struct entry *ret_entry,
		     void *reuse_data)
{
	struct reuser *ru = reuse_data;
	unsigned seen = atomic_load(&ru->max_worker);
	struct stat st;

	atomic_fetch_add(&ru->calls, 1);
	if (worker >= ru->limit)
		atomic_fetch_add(&ru->out_of_range, 1);
	while (worker > seen && !atomic_compare_exchange_weak(&ru->max_worker, &seen, worker))
		;
	if (!S_ISREG(e->mode) || stat(e->key, &st) < 0 || st.st_ino != e->ino ||
	    (uint64_t)st.st_size != e->size || e->key_len != strlen(e->key))
		atomic_fetch_add(&ru->bad_entry, 1);
	if (!ru->answer)
		return false;
	ret_entry->hash_algo = ru->algo;
	ret_entry->hash_len = ru->len;
	memset(ret_entry->hash, 0xab, ru->len);
	return true;
}

static int walk_reuse(struct fixture *fx, unsigned threads, struct reuser *ru, unsigned want,
		      struct collect *c, struct scan_stats *stats)
{
	const char *roots[] = { fx->dir };
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = 1;
	o.nthreads = threads;
	o.hash = HASH_XXH3_128;
	o.visit = collect_visit;
	o.userdata = c;
	o.reuse = reuse_cb;
	o.reuse_data = ru;
	if (!ru->limit)
		ru->limit = scan_threads_max(threads);
	if (want) {
		o.decide = decide_all;
		o.decide_data = &want;
	}
	atomic_store(&seam.reads, 0);
	return scan_walk(&o, stats, NULL);
}

static void test_walk_reuse_true_skips_reading(void **state)
{
	struct fixture *fx = *state;
	struct reuser ru = { .answer = true, .algo = HASH_XXH3_128, .len = 16 };
	struct collect c = { 0 };
	struct scan_stats st;
	uint8_t mark[16];
	size_t files = 0;

	memset(mark, 0xab, sizeof(mark));
	assert_int_equal(walk_reuse(fx, 2, &ru, 0, &c, &st), 0);
	assert_int_equal(atomic_load(&seam.reads), 0); /* not one file read */
	assert_int_equal(atomic_load(&ru.calls), TREE_FILES);
	assert_int_equal(atomic_load(&ru.bad_entry), 0);
	assert_int_equal(st.files_reused, TREE_FILES);
	assert_int_equal(st.files_hashed, TREE_FILES);
	for (size_t i = 0; i < c.n; i++) {
		if (!S_ISREG(c.v[i].mode))
			continue;
		files++;
		assert_int_equal(c.v[i].hash_algo, HASH_XXH3_128);
		assert_int_equal(c.v[i].hash_len, 16);
		assert_memory_equal(c.v[i].hash, mark, 16);
		assert_int_equal(c.v[i].err, 0);
	}
	assert_int_equal(files, TREE_FILES);
	collect_release(&c);
}

static void test_walk_reuse_false_or_mismatched_hashes_as_usual(void **state)
{
	struct fixture *fx = *state;
	struct reuser no = { .answer = false };
	struct reuser other = { .answer = true, .algo = HASH_SHA256, .len = 32 };
	struct reuser short_len = { .answer = true, .algo = HASH_XXH3_128, .len = 8 };
	struct reuser *cases[] = { &no, &other, &short_len };

	for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct collect c = { 0 };
		struct scan_stats st;
		uint8_t want[16];

		assert_int_equal(walk_reuse(fx, 2, cases[k], 0, &c, &st), 0);
		assert_true(atomic_load(&seam.reads) >= TREE_FILES);
		assert_int_equal(atomic_load(&cases[k]->calls), TREE_FILES);
		assert_int_equal(st.files_reused, 0);
		assert_int_equal(st.files_hashed, TREE_FILES);
		hash_of(fx, "secret", want);
		assert_int_equal(find(fx, &c, "secret")->hash_algo, HASH_XXH3_128);
		assert_memory_equal(find(fx, &c, "secret")->hash, want, 16);
		collect_release(&c);
	}
}

static void test_walk_reuse_worker_index_below_threads_max(void **state)
{
	struct fixture *fx = *state;
	const unsigned threads[] = { 1, 2, 8 };
	int status = -1;
	pid_t pid;

	for (size_t k = 0; k < sizeof(threads) / sizeof(threads[0]); k++) {
		struct reuser ru = { .answer = false };
		struct collect c = { 0 };

		/* The usual limits allow every thread asked for. */
		assert_int_equal(scan_threads_max(threads[k]), threads[k]);
		assert_int_equal(walk_reuse(fx, threads[k], &ru, 0, &c, NULL), 0);
		assert_int_equal(ru.limit, threads[k]);
		assert_int_equal(atomic_load(&ru.calls), TREE_FILES);
		assert_int_equal(atomic_load(&ru.out_of_range), 0);
		assert_true(atomic_load(&ru.max_worker) < threads[k]);
		collect_release(&c);
	}
	assert_true(scan_threads_max(0) >= 1);
	assert_true(scan_threads_max(100000) <= 256);

	/* A low limit that cannot be raised: fewer threads, and scan_threads_max() says so. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 160, 160 };
		struct reuser ru = { .answer = false };
		struct collect c = { 0 };
		unsigned most;
		int code = 0;

		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			_exit(10);
		most = scan_threads_max(64);
		if (most >= 64 || most < 1)
			_exit(11);
		if (walk_reuse(fx, 64, &ru, 0, &c, NULL) < 0)
			code = 12;
		else if (atomic_load(&ru.out_of_range) != 0 || atomic_load(&ru.max_worker) >= most)
			code = 13;
		else if (atomic_load(&ru.calls) != TREE_FILES)
			code = 14;
		collect_release(&c);
		_exit(code);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_walk_reuse_still_collects_attributes_through_an_fd(void **state)
{
	struct fixture *fx = *state;
	struct reuser ru = { .answer = true, .algo = HASH_XXH3_128, .len = 16 };
	struct collect c = { 0 };
	const struct entry *e;
	const uint8_t *v;
	size_t vl;

	if (fsetxattrat_ok(fx, "secret", "trusted.drift", "v1") < 0)
		tap_skip("trusted.* xattrs need root and a filesystem that takes them");
	assert_int_equal(walk_reuse(fx, 2, &ru, SCAN_ALL | SCAN_XATTRS, &c, NULL), 0);
	assert_int_equal(atomic_load(&seam.reads), 0);
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_int_equal(e->hash_len, 16);
	assert_true(e->collected & ATTR_XATTRS);
	assert_int_equal(entry_xattrs_get(e->xattrs, e->xattrs_len, "trusted.drift", &v, &vl), 1);
	assert_int_equal(vl, 2);
	assert_memory_equal(v, "v1", 2);
	collect_release(&c);
}

/*
 * A read failing with EIO in the middle of a file (the first read went
 * through): that file is recorded with the error and no hash, the others are
 * hashed, the walk goes on.
 */
static void test_walk_read_eio_mid_file_is_an_error_of_that_file(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;
	uint8_t want[16];

	hash_of(fx, "ok", want);
	seam.read_err_ino = ino_of(fx, "moving"); /* 3 MiB: streamed, several reads */
	seam.read_err_after = 1;
	assert_int_equal(walk(fx, &c, &stats), 0);
	assert_true(atomic_load(&seam.read_err_ok) > 1); /* it did fail after a good read */
	e = find(fx, &c, "moving");
	assert_non_null(e);
	assert_int_equal(e->err, EIO);
	assert_true(S_ISREG(e->mode));
	assert_int_equal(e->size, 3 << 20);
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(e->hash_len, 0);
	e = find(fx, &c, "ok");
	assert_non_null(e);
	assert_int_equal(e->err, 0);
	assert_int_equal(e->hash_algo, HASH_XXH3_128);
	assert_memory_equal(e->hash, want, 16);
	assert_non_null(find(fx, &c, "locked/in2"));
	assert_int_equal(c.n, TREE_COUNT);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);

	/* A small file read whole: its first read fails. */
	memset(&c, 0, sizeof(c));
	seam.read_err_ino = ino_of(fx, "secret");
	seam.read_err_after = 0;
	atomic_store(&seam.read_err_ok, 0);
	assert_int_equal(walk(fx, &c, &stats), 0);
	e = find(fx, &c, "secret");
	assert_non_null(e);
	assert_int_equal(e->err, EIO);
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(find(fx, &c, "moving")->hash_algo, HASH_XXH3_128);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

/* Make "holes": 16 MiB with 3 data extents; false where the filesystem keeps no holes. */
static bool make_holes(struct fixture *fx)
{
	unsigned char data[10000];
	struct stat st;
	int fd = openat(fx->dirfd, "holes", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	tree_fill(data, sizeof(data), 9);
	assert_int_equal(ftruncate(fd, 16 << 20), 0);
	assert_int_equal(pwrite(fd, data, sizeof(data), 1 << 20), (ssize_t)sizeof(data));
	assert_int_equal(pwrite(fd, data, 1000, (5 << 20) + 123), 1000);
	assert_int_equal(pwrite(fd, data, 4096, (16 << 20) - 4096), 4096);
	assert_int_equal(close(fd), 0);
	assert_int_equal(fstatat(fx->dirfd, "holes", &st, AT_SYMLINK_NOFOLLOW), 0);
	return (uint64_t)st.st_blocks * 512 < (8 << 20);
}

/* The entry of "holes" hashed with @blocks_min (0: the default, reading it sparse). */
static void hash_holes(struct fixture *fx, uint64_t blocks_min, struct entry *e)
{
	struct scan_hasher h;
	struct stat st;

	memset(e, 0, sizeof(*e));
	assert_int_equal(scan_hasher_init(&h, HASH_XXH3_128, 64 << 10), 0);
	if (blocks_min)
		h.blocks_min = blocks_min;
	assert_int_equal(fstatat(fx->dirfd, "holes", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_int_equal(scan_hasher_entry(&h, fx->dirfd, "holes", &st, e), 0);
	scan_hasher_release(&h);
}

/*
 * read() may return fewer bytes than asked, anywhere: a file read a byte,
 * or 4093 bytes, at a time has the hash of the same file read in full, in
 * each of the hasher's forms (whole, streamed, sparse, block form).
 */
static void test_hash_short_reads_give_the_same_hash(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "ok", "secret", "moving" };
	struct collect full = { 0 }, shrt = { 0 };
	struct entry sparse, blocks, e;
	uint8_t want[3][16], got[16];
	bool holes = make_holes(fx);

	for (size_t i = 0; i < 3; i++)
		hash_of(fx, names[i], want[i]);
	if (holes) {
		hash_holes(fx, 0, &sparse);
		hash_holes(fx, 1 << 20, &blocks);
		assert_int_equal(sparse.hash_algo, HASH_XXH3_128);
		assert_int_equal(blocks.hash_algo, HASH_XXH3_128);
	}

	seam.short_read = 1;
	for (size_t i = 0; i < 2; i++) {
		hash_of(fx, names[i], got);
		assert_memory_equal(got, want[i], 16);
	}
	seam.short_read = 4093;
	for (size_t i = 0; i < 3; i++) {
		hash_of(fx, names[i], got);
		assert_memory_equal(got, want[i], 16);
	}
	if (holes) {
		hash_holes(fx, 0, &e);
		assert_int_equal(e.err, 0);
		assert_int_equal(e.flags, 0);
		assert_memory_equal(e.hash, sparse.hash, 16);
		hash_holes(fx, 1 << 20, &e);
		assert_int_equal(e.err, 0);
		assert_int_equal(e.flags, 0);
		assert_memory_equal(e.hash, blocks.hash, 16);
	}

	/* A whole walk with short reads: the same entries, the same hashes. */
	seam.short_read = 0;
	assert_int_equal(walk(fx, &full, NULL), 0);
	seam.short_read = 4093;
	assert_int_equal(walk(fx, &shrt, NULL), 0);
	collect_sort(&full);
	collect_sort(&shrt);
	assert_true(collect_equal(&full, &shrt));
	for (size_t i = 0; i < 3; i++)
		assert_memory_equal(find(fx, &shrt, names[i])->hash, want[i], 16);
	collect_release(&full);
	collect_release(&shrt);
}

/*
 * lseek(SEEK_DATA) or lseek(SEEK_HOLE) failing with EIO on a sparse file
 * (not EINVAL, which says "not supported here" and falls back to reading):
 * that file is an error without a hash, in either sparse form and in a walk,
 * whose other files are hashed.
 */
static void test_hash_seek_data_or_hole_eio_is_an_error_of_that_file(void **state)
{
	struct fixture *fx = *state;
	static const int whence[] = { SEEK_DATA, SEEK_HOLE };
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;
	struct entry he;

	if (!make_holes(fx))
		tap_skip("this filesystem does not do holes");
	for (size_t i = 0; i < 2; i++) {
		seam.seek_err = EIO;
		seam.seek_whence = whence[i];
		hash_holes(fx, 0, &he);
		assert_int_equal(he.err, EIO);
		assert_int_equal(he.hash_algo, HASH_NONE);
		hash_holes(fx, 1 << 20, &he);
		assert_int_equal(he.err, EIO);
		assert_int_equal(he.hash_algo, HASH_NONE);

		memset(&c, 0, sizeof(c));
		assert_int_equal(walk(fx, &c, &stats), 0);
		e = find(fx, &c, "holes");
		assert_non_null(e);
		assert_int_equal(e->err, EIO);
		assert_int_equal(e->hash_algo, HASH_NONE);
		assert_int_equal(find(fx, &c, "moving")->hash_algo, HASH_XXH3_128);
		assert_int_equal(c.n, TREE_COUNT + 1);
		assert_int_equal(stats.errors, 1);
		collect_release(&c);
	}
}

/*
 * getdents64 failing with EIO after the first part of a listing: the
 * directory is recorded with the error, what was listed before it is
 * scanned, and the rest of the tree too.
 */
static void test_walk_listing_eio_after_first_read(void **state)
{
	struct fixture *fx = *state;
	struct collect c = { 0 };
	struct scan_stats stats;
	const struct entry *e;

	seam.getdents_ok_ino = ino_of(fx, "locked");
	assert_int_equal(walk(fx, &c, &stats), 0);
	assert_true(atomic_load(&seam.getdents_calls) >= 2);
	e = find(fx, &c, "locked");
	assert_non_null(e);
	assert_int_equal(e->err, EIO);
	assert_true(S_ISDIR(e->mode));
	/* The first read listed both: they are in. */
	assert_non_null(find(fx, &c, "locked/in1"));
	assert_non_null(find(fx, &c, "locked/in2"));
	assert_non_null(find(fx, &c, "ok"));
	assert_int_equal(c.n, TREE_COUNT);
	assert_int_equal(stats.errors, 1);
	collect_release(&c);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, fixture_setup, fixture_teardown)
	const struct CMUnitTest tests[] = {
		T(test_walk_records_eacces_on_directory_and_goes_on),
		T(test_walk_records_listing_error_on_directory),
		T(test_walk_records_eacces_on_file_without_hash),
		T(test_walk_fails_on_resource_errors_never_records_them),
		T(test_hash_block_form_gives_up_where_holes_are_hidden),
		T(test_hash_file_open_failure_keeps_output),
		T(test_walk_vanished_name_is_absent_and_stat_error_recorded),
		T(test_walk_rereads_file_that_changed_once),
		T(test_walk_flags_file_that_keeps_changing),
		T(test_walk_file_vanishing_while_read_gets_enoent),
		T(test_walk_file_swapped_for_symlink_before_open_is_a_symlink),
		T(test_walk_file_swapped_for_socket_before_open_is_a_socket),
		T(test_walk_file_gone_before_open_gets_enoent),
		T(test_walk_symlink_swapped_for_directory_before_readlink_is_walked),
		T(test_walk_symlink_swapped_for_file_before_readlink_is_hashed),
		T(test_walk_directory_removed_while_listed_is_absent),
		T(test_walk_low_fd_limit_is_raised_for_the_walk),
		T(test_walk_fd_limit_that_cannot_be_raised_caps_threads),
		T(test_walk_reuse_true_skips_reading),
		T(test_walk_reuse_false_or_mismatched_hashes_as_usual),
		T(test_walk_reuse_worker_index_below_threads_max),
		T(test_walk_reuse_still_collects_attributes_through_an_fd),
		T(test_walk_read_eio_mid_file_is_an_error_of_that_file),
		T(test_hash_short_reads_give_the_same_hash),
		T(test_hash_seek_data_or_hole_eio_is_an_error_of_that_file),
		T(test_walk_listing_eio_after_first_read),
	};
#undef T
	return tap_run_group_tests_name("scanner/seam", tests, NULL, NULL);
}
