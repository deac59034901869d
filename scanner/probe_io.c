/*
 * Reading sources under the root: openat2() with RESOLVE_IN_ROOT, so that
 * an absolute symlink inside a mounted image resolves inside the image, and
 * a whole-file reader for the small text files probes parse.
 */
#include "scanner/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/banned.h"

#define PROBE_FILE_MAX (64u << 20)

int probe_open(int rootfd, const char *path, int flags)
{
	struct open_how how;
	long fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	if (fd < 0 && errno == EAGAIN) {
		/* a rename raced the resolution: once more, then give up */
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	return fd < 0 ? -errno : (int)fd;
}

int probe_read_file(int rootfd, const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, alloc;
	int fd, r;

	fd = probe_open(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL; /* never read a FIFO or a device planted in a source's place */
		goto out;
	}
	/* proc files say 0 or 4096: read until EOF whatever the size says */
	alloc = (size_t)st.st_size + 1 > 4096 ? (size_t)st.st_size + 1 : 4096;
	for (;;) {
		ssize_t n;

		if (!buf || len + 1 >= alloc) {
			char *nb;

			if (buf)
				alloc *= 2;
			if (alloc > PROBE_FILE_MAX + 1) {
				r = -EFBIG;
				goto out;
			}
			nb = realloc(buf, alloc);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, alloc - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}
