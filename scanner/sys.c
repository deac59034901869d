/*
 * The syscall seam (see sys.h): thin wrappers that turn "-1 and errno" into
 * "-errno" and retry EINTR. Nothing else belongs here, so that a test can
 * --wrap any of them without dragging other code along.
 */
#include "scanner/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/banned.h"

int scan_sys_openat(int dirfd, const char *name, int flags)
{
	int fd;

	do
		fd = openat(dirfd, name, flags);
	while (fd < 0 && errno == EINTR);
	return fd < 0 ? -errno : fd;
}

/* openat(O_NOFOLLOW) of one component; a symlink is ELOOP, also with O_DIRECTORY. */
static int openat_component(int dirfd, const char *comp, int flags)
{
	struct stat st;
	int fd = scan_sys_openat(dirfd, comp, flags | O_NOFOLLOW | O_CLOEXEC);

	/* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR. */
	if (fd == -ENOTDIR && fstatat(dirfd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		fd = -ELOOP;
	return fd;
}

/*
 * Where openat2() is missing (Linux before 5.6, or a seccomp filter that
 * says ENOSYS): the same walk by hand, one component at a time with
 * O_NOFOLLOW, never "..". Returns the fd or -errno.
 */
static int openat_beneath_by_hand(int dirfd, const char *path, int flags)
{
	int cur = dirfd, next;

	for (;;) {
		const char *slash;
		char comp[256];
		size_t len;

		while (*path == '/')
			path++;
		slash = strchr(path, '/');
		len = slash ? (size_t)(slash - path) : strlen(path);
		while (slash && slash[1] == '/')
			slash++;
		if (len >= sizeof(comp)) {
			next = -ENAMETOOLONG;
			break;
		}
		memcpy(comp, path, len);
		comp[len] = '\0';
		if (!strcmp(comp, "..")) {
			next = -EXDEV; /* as RESOLVE_BENEATH says */
			break;
		}
		if (!slash || !slash[1]) {
			next = openat_component(cur, len ? comp : ".", flags);
			break;
		}
		next = openat_component(cur, comp, O_PATH | O_DIRECTORY);
		if (cur != dirfd)
			close(cur);
		if (next < 0)
			return next;
		cur = next;
		path = slash + 1;
	}
	if (cur != dirfd)
		close(cur);
	return next;
}

int scan_sys_openat_beneath(int dirfd, const char *path, int flags)
{
	static int by_hand = -1; /* tests: DRIFT_TEST_NO_OPENAT2 takes the fallback */
	struct open_how how;
	long fd;

	if (by_hand < 0)
		by_hand = getenv("DRIFT_TEST_NO_OPENAT2") != NULL;
	if (by_hand)
		return openat_beneath_by_hand(dirfd, path, flags);
	while (*path == '/')
		path++;
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
	for (int tries = 0;; tries++) {
		fd = syscall(SYS_openat2, dirfd, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0 || (errno != EINTR && (errno != EAGAIN || tries >= 8)))
			break;
	}
	if (fd < 0 && errno == ENOSYS)
		return openat_beneath_by_hand(dirfd, path, flags);
	return fd < 0 ? -errno : (int)fd;
}

int scan_sys_fstatat(int dirfd, const char *name, struct stat *st, int flags)
{
	return fstatat(dirfd, name, st, flags) < 0 ? -errno : 0;
}

int scan_sys_fstat(int fd, struct stat *st)
{
	return fstat(fd, st) < 0 ? -errno : 0;
}

ssize_t scan_sys_getdents64(int fd, void *buf, size_t len)
{
	long n;

	do
		n = syscall(SYS_getdents64, fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : (ssize_t)n;
}

ssize_t scan_sys_readlinkat(int dirfd, const char *name, char *buf, size_t len)
{
	ssize_t n = readlinkat(dirfd, name, buf, len);

	return n < 0 ? -errno : n;
}

ssize_t scan_sys_read(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int64_t scan_sys_lseek(int fd, int64_t offset, int whence)
{
	off_t r = lseek(fd, (off_t)offset, whence);

	return r < 0 ? -errno : (int64_t)r;
}

ssize_t scan_sys_flistxattr(int fd, char *buf, size_t len)
{
	ssize_t n = flistxattr(fd, buf, len);

	return n < 0 ? -errno : n;
}

ssize_t scan_sys_fgetxattr(int fd, const char *name, void *buf, size_t len)
{
	ssize_t n = fgetxattr(fd, name, buf, len);

	return n < 0 ? -errno : n;
}

ssize_t scan_sys_listxattr(const char *path, char *buf, size_t len)
{
	ssize_t n = listxattr(path, buf, len);

	return n < 0 ? -errno : n;
}

ssize_t scan_sys_getxattr(const char *path, const char *name, void *buf, size_t len)
{
	ssize_t n = getxattr(path, name, buf, len);

	return n < 0 ? -errno : n;
}
