/*
 * Fixture helpers for the scanner tests (see tree.h): temporary trees that
 * are removed through fds, and the collecting visit callback.
 */
#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/banned.h"

int tree_mkdtemp(char *buf, size_t size)
{
	snprintf(buf, size, "/tmp/drift-scan-XXXXXX");
	return mkdtemp(buf) ? 0 : -1;
}

static void rm_rf_at(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d;
	struct dirent *de;

	if (fd < 0) {
		unlinkat(parent, name, 0);
		return;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return;
	}
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (de->d_type == DT_DIR)
			rm_rf_at(dirfd(d), de->d_name);
		else
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void tree_rm_rf(const char *path)
{
	if (path && path[0])
		rm_rf_at(AT_FDCWD, path);
}

int tree_write(int dirfd, const char *name, const void *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	const char *p = data;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

void tree_fill(void *buf, size_t len, uint32_t seed)
{
	unsigned char *p = buf;
	uint32_t x = seed * 2654435761u + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)(x >> 11);
	}
}

static char *dup_bytes(const char *s, size_t len)
{
	char *p = malloc(len + 1);

	if (p) {
		memcpy(p, s, len);
		p[len] = '\0';
	}
	return p;
}

/* Free what collect_visit() copied into @d. */
static void entry_free_copies(struct entry *d)
{
	free((char *)(uintptr_t)d->key);
	free((char *)(uintptr_t)d->target);
	free((uint8_t *)(uintptr_t)d->xattrs);
	free((char *)(uintptr_t)d->acl);
	free((char *)(uintptr_t)d->caps);
	free((char *)(uintptr_t)d->selinux);
	free((char *)(uintptr_t)d->mime);
}

/* Both NULL, or both the same C string. */
static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

enum scan_action collect_visit(const struct entry *e, void *userdata)
{
	struct collect *c = userdata;
	struct entry *d;

	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		struct entry *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			c->oom = true;
			return SCAN_STOP;
		}
		c->v = v;
		c->cap = cap;
	}
	d = &c->v[c->n];
	*d = *e;
	d->key = dup_bytes(e->key, e->key_len);
	d->target = e->target ? dup_bytes(e->target, e->target_len) : NULL;
	/* The optional attributes are borrowed too: copy them (NULL stays NULL). */
	d->xattrs = e->xattrs_len
			    ? (const uint8_t *)dup_bytes((const char *)e->xattrs, e->xattrs_len)
			    : NULL;
	d->acl = e->acl ? dup_bytes(e->acl, strlen(e->acl)) : NULL;
	d->caps = e->caps ? dup_bytes(e->caps, strlen(e->caps)) : NULL;
	d->selinux = e->selinux ? dup_bytes(e->selinux, strlen(e->selinux)) : NULL;
	d->mime = e->mime ? dup_bytes(e->mime, strlen(e->mime)) : NULL;
	if (!d->key || (e->target && !d->target) || (e->xattrs_len && !d->xattrs) ||
	    (e->acl && !d->acl) || (e->caps && !d->caps) || (e->selinux && !d->selinux) ||
	    (e->mime && !d->mime)) {
		entry_free_copies(d);
		c->oom = true;
		return SCAN_STOP;
	}
	c->n++;
	if (c->stop_after && c->n >= c->stop_after)
		return SCAN_STOP;
	return SCAN_CONTINUE;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int r = memcmp(x->key, y->key, n);

	if (r)
		return r;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

void collect_sort(struct collect *c)
{
	if (c->n)
		qsort(c->v, c->n, sizeof(*c->v), entry_cmp);
}

const struct entry *collect_find(const struct collect *c, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; i < c->n; i++)
		if (c->v[i].key_len == len && !memcmp(c->v[i].key, key, len))
			return &c->v[i];
	return NULL;
}

static bool entry_equal(const struct entry *a, const struct entry *b)
{
	if (entry_cmp(a, b) || a->kind != b->kind || a->mode != b->mode || a->uid != b->uid ||
	    a->gid != b->gid || a->size != b->size || a->mtime_ns != b->mtime_ns ||
	    a->ctime_ns != b->ctime_ns || a->ino != b->ino || a->dev != b->dev ||
	    a->nlink != b->nlink || a->hash_algo != b->hash_algo || a->hash_len != b->hash_len ||
	    memcmp(a->hash, b->hash, sizeof(a->hash)) || a->err != b->err || a->flags != b->flags)
		return false;
	if (!a->target != !b->target)
		return false;
	if (a->collected != b->collected || a->xattrs_len != b->xattrs_len ||
	    (a->xattrs_len && memcmp(a->xattrs, b->xattrs, a->xattrs_len)) ||
	    !str_same(a->acl, b->acl) || !str_same(a->caps, b->caps) ||
	    !str_same(a->selinux, b->selinux) || !str_same(a->mime, b->mime))
		return false;
	return !a->target ||
	       (a->target_len == b->target_len && !memcmp(a->target, b->target, a->target_len));
}

bool collect_equal(const struct collect *a, const struct collect *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!entry_equal(&a->v[i], &b->v[i]))
			return false;
	return true;
}

void collect_release(struct collect *c)
{
	for (size_t i = 0; i < c->n; i++)
		entry_free_copies(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int collect_walk(const char *root, unsigned nthreads, struct collect *c)
{
	const char *roots[] = { root };
	struct scan_opts o = { 0 };

	o.roots = roots;
	o.nroots = 1;
	o.nthreads = nthreads;
	o.hash = HASH_XXH3_128;
	o.visit = collect_visit;
	o.userdata = c;
	return scan_walk(&o, NULL, NULL);
}

int tree_thread_count_settled(int want)
{
	int n = tree_thread_count();

	/*
	 * pthread_join() returns when the kernel clears the thread's tid, a
	 * moment before the task leaves the thread group: under load the count
	 * lags. Wait up to a second for it to come down.
	 */
	for (int i = 0; i < 1000 && n > want; i++) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
		n = tree_thread_count();
	}
	return n;
}

int tree_thread_count(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	int n = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}
