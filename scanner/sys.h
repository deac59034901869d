#ifndef DRIFT_SCANNER_SYS_H
#define DRIFT_SCANNER_SYS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * The seam between the walker and the kernel: every syscall the walker and
 * the hasher make on the scanned tree goes through one of these functions.
 * They live alone in sys.c so that a test can link with
 * -Wl,--wrap=scan_sys_openat (and friends) and fake EACCES, a file that
 * vanishes, or a file that changes while it is read. --wrap only catches
 * calls between object files, hence the separate translation unit.
 *
 * All of them return -errno on failure (never -1 plus errno) and retry EINTR
 * where the call can be interrupted.
 */

/** openat(2). Returns the new fd or -errno. */
int scan_sys_openat(int dirfd, const char *name, int flags);

/**
 * openat2(2) of the relative path @path below @dirfd with RESOLVE_IN_ROOT and
 * RESOLVE_NO_SYMLINKS: no component may be a symlink ("..", absolute and
 * magic links cannot leave @dirfd either), so a path the walker already
 * resolved cannot be swapped into one that leads elsewhere. A symlink as
 * the last component is refused too (ELOOP), unless @flags has both O_PATH
 * and O_NOFOLLOW (then the fd names the symlink). Leading slashes are
 * ignored; "" is @dirfd itself. Retries EINTR, and EAGAIN (a rename raced
 * the lookup) a few times. Where openat2() says ENOSYS (Linux before 5.6,
 * some seccomp filters), walks the components by hand with O_NOFOLLOW
 * (".." refused: EXDEV); the environment variable DRIFT_TEST_NO_OPENAT2
 * (tests only) forces that. Returns the new fd or -errno.
 */
int scan_sys_openat_beneath(int dirfd, const char *path, int flags);

/** fstatat(2). Returns 0 or -errno. */
int scan_sys_fstatat(int dirfd, const char *name, struct stat *st, int flags);

/** fstat(2). Returns 0 or -errno. */
int scan_sys_fstat(int fd, struct stat *st);

/** The raw getdents64(2) syscall. Returns bytes filled (0 at the end) or -errno. */
ssize_t scan_sys_getdents64(int fd, void *buf, size_t len);

/** readlinkat(2). Returns the length written to @buf (no NUL added) or -errno. */
ssize_t scan_sys_readlinkat(int dirfd, const char *name, char *buf, size_t len);

/** read(2). Returns bytes read (0 at end of file) or -errno. */
ssize_t scan_sys_read(int fd, void *buf, size_t len);

/** lseek(2). Returns the resulting offset or -errno. */
int64_t scan_sys_lseek(int fd, int64_t offset, int whence);

/** flistxattr(2) on a real (not O_PATH) fd. Returns the list size or -errno. */
ssize_t scan_sys_flistxattr(int fd, char *buf, size_t len);

/** fgetxattr(2) on a real (not O_PATH) fd. Returns the value size or -errno. */
ssize_t scan_sys_fgetxattr(int fd, const char *name, void *buf, size_t len);

/** listxattr(2), following: used on "/proc/self/fd/N" of an O_PATH fd. Size or -errno. */
ssize_t scan_sys_listxattr(const char *path, char *buf, size_t len);

/** getxattr(2), following: used on "/proc/self/fd/N" of an O_PATH fd. Size or -errno. */
ssize_t scan_sys_getxattr(const char *path, const char *name, void *buf, size_t len);

#endif /* DRIFT_SCANNER_SYS_H */
