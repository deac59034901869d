/* Helpers of the dpkg tests: temporary roots and a findings collector. */
#include "tests/probe/dpkg/troot.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/banned.h"

/* The roots made and not yet removed: a failing test skips its own cleanup. */
#define LIVE_MAX 16
static char live[LIVE_MAX][64];

static void live_set(const char *dir, bool add)
{
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if (add && !live[i][0]) {
			snprintf(live[i], sizeof(live[i]), "%s", dir);
			return;
		}
		if (!add && !strcmp(live[i], dir)) {
			live[i][0] = '\0';
			return;
		}
	}
}

int troot_make(struct troot *t)
{
	snprintf(t->dir, sizeof(t->dir), "/tmp/drift-dpkg-XXXXXX");
	t->fd = -1;
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		return -1;
	}
	live_set(t->dir, true);
	t->fd = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return t->fd < 0 ? -1 : 0;
}

int troot_copy_fixture(struct troot *t)
{
	char cmd[512];

	if (troot_make(t) < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "cp -a '%s'/. '%s'/", PROBE_FIXTURE_ROOT, t->dir);
	return system(cmd) == 0 ? 0 : -1;
}

int troot_mkdir(const struct troot *t, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s", rel);
	for (char *p = path + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdirat(t->fd, path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdirat(t->fd, path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int mkparents(const struct troot *t, const char *rel)
{
	char path[512];
	char *slash;

	snprintf(path, sizeof(path), "%s", rel);
	slash = strrchr(path, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	return troot_mkdir(t, path);
}

int troot_write(const struct troot *t, const char *rel, const char *content)
{
	size_t len = strlen(content);
	int fd;
	ssize_t n;

	if (mkparents(t, rel) < 0)
		return -1;
	fd = openat(t->fd, rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	n = write(fd, content, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int troot_symlink(const struct troot *t, const char *rel, const char *target)
{
	if (mkparents(t, rel) < 0)
		return -1;
	return symlinkat(target, t->fd, rel);
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (type == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void troot_remove(struct troot *t)
{
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	if (t->dir[0]) {
		nftw(t->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		live_set(t->dir, false);
	}
	t->dir[0] = '\0';
}

int troot_cleanup_all(void **state)
{
	(void)state;
	for (size_t i = 0; i < LIVE_MAX; i++) {
		if (live[i][0])
			nftw(live[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		live[i][0] = '\0';
	}
	return 0;
}

void findings_add(const char *probe, const char *file, unsigned line, const char *msg,
		  void *userdata)
{
	struct findings *fs = userdata;

	if (fs->n >= FINDINGS_MAX)
		return;
	snprintf(fs->f[fs->n].probe, sizeof(fs->f[fs->n].probe), "%s", probe);
	snprintf(fs->f[fs->n].file, sizeof(fs->f[fs->n].file), "%s", file);
	fs->f[fs->n].line = line;
	snprintf(fs->f[fs->n].msg, sizeof(fs->f[fs->n].msg), "%s", msg);
	fs->n++;
}

int findings_find(const struct findings *fs, const char *file, unsigned line, const char *part)
{
	for (size_t i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].file, file) && fs->f[i].line == line &&
		    strstr(fs->f[i].msg, part))
			return (int)i;
	return -1;
}
