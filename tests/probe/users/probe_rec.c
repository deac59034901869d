/*
 * Test helpers for the probe tests: the recorder (emit and finding
 * callbacks that deep-copy what they get) and temporary roots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/probe/users/probe_rec.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/entry.h"

#include "common/banned.h"

static char *dup_mem(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	assert_non_null(s);
	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static void raw_add(struct recorder *r, const void *p, size_t n)
{
	char *nr = realloc(r->raw, r->raw_len + n + 1);

	assert_non_null(nr);
	r->raw = nr;
	if (n)
		memcpy(r->raw + r->raw_len, p, n);
	r->raw_len += n;
	r->raw[r->raw_len] = '\0';
}

int rec_emit(const struct entry *e, void *userdata)
{
	struct recorder *r = userdata;
	struct rec_entry *re;
	size_t pos = 0;
	const char *name;
	const uint8_t *value;
	size_t nl, vl;
	int k;

	r->calls++;
	if (r->stop_after && r->calls == r->stop_after)
		return r->stop_err;
	assert_int_equal(entry_xattrs_check(e->props, e->props_len), 0);
	if (r->ne == r->ae) {
		struct rec_entry *nv;

		r->ae = r->ae ? 2 * r->ae : 16;
		nv = realloc(r->e, r->ae * sizeof(*nv));
		assert_non_null(nv);
		r->e = nv;
	}
	re = &r->e[r->ne++];
	memset(re, 0, sizeof(*re));
	re->kind = e->kind;
	re->key = dup_mem(e->key, e->key_len);
	raw_add(r, e->key, e->key_len);
	raw_add(r, e->props, e->props_len);
	while ((k = entry_xattrs_next(e->props, e->props_len, &pos, &name, &nl, &value, &vl)) > 0) {
		assert_true(re->n < REC_PROPS_MAX);
		assert_null(memchr(value, '\0', vl));
		re->name[re->n] = dup_mem(name, nl);
		re->value[re->n] = dup_mem(value, vl);
		re->n++;
	}
	assert_int_equal(k, 0);
	return 0;
}

void rec_finding(const char *probe, const char *file, unsigned line, const char *msg,
		 void *userdata)
{
	struct recorder *r = userdata;
	struct rec_finding *f;

	if (r->nf == r->af) {
		struct rec_finding *nv;

		r->af = r->af ? 2 * r->af : 16;
		nv = realloc(r->f, r->af * sizeof(*nv));
		assert_non_null(nv);
		r->f = nv;
	}
	f = &r->f[r->nf++];
	f->probe = dup_mem(probe, strlen(probe));
	f->file = dup_mem(file, strlen(file));
	f->msg = dup_mem(msg, strlen(msg));
	f->line = line;
}

void rec_release(struct recorder *r)
{
	for (size_t i = 0; i < r->ne; i++) {
		free(r->e[i].key);
		for (size_t j = 0; j < r->e[i].n; j++) {
			free(r->e[i].name[j]);
			free(r->e[i].value[j]);
		}
	}
	for (size_t i = 0; i < r->nf; i++) {
		free(r->f[i].probe);
		free(r->f[i].file);
		free(r->f[i].msg);
	}
	free(r->e);
	free(r->f);
	free(r->raw);
	memset(r, 0, sizeof(*r));
}

const struct rec_entry *rec_find(const struct recorder *r, enum entry_kind kind, const char *key)
{
	for (size_t i = 0; i < r->ne; i++)
		if (r->e[i].kind == kind && !strcmp(r->e[i].key, key))
			return &r->e[i];
	return NULL;
}

const char *rec_prop(const struct rec_entry *e, const char *name)
{
	for (size_t i = 0; i < e->n; i++)
		if (!strcmp(e->name[i], name))
			return e->value[i];
	return NULL;
}

size_t rec_count(const struct recorder *r, enum entry_kind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ne; i++)
		n += r->e[i].kind == kind;
	return n;
}

void rec_assert_props(const struct rec_entry *e, ...)
{
	va_list ap;
	const char *kv;
	size_t n = 0;

	assert_non_null(e);
	va_start(ap, e);
	while ((kv = va_arg(ap, const char *))) {
		const char *eq = strchr(kv, '=');
		char name[64];
		const char *v;

		assert_non_null(eq);
		assert_true((size_t)(eq - kv) < sizeof(name));
		memcpy(name, kv, (size_t)(eq - kv));
		name[eq - kv] = '\0';
		v = rec_prop(e, name);
		if (!v)
			fail_msg("%s: prop '%s' missing", e->key, name);
		if (strcmp(v, eq + 1))
			fail_msg("%s: prop '%s' is '%s', expected '%s'", e->key, name, v, eq + 1);
		n++;
	}
	va_end(ap);
	if (n != e->n) {
		for (size_t i = 0; i < e->n; i++)
			print_message("%s: %s=%s\n", e->key, e->name[i], e->value[i]);
		fail_msg("%s: %zu props, expected %zu", e->key, e->n, n);
	}
}

size_t rec_findings_match(const struct recorder *r, const char *file, unsigned line,
			  const char *part)
{
	size_t n = 0;

	for (size_t i = 0; i < r->nf; i++)
		if (!strcmp(r->f[i].file, file) && r->f[i].line == line &&
		    strstr(r->f[i].msg, part))
			n++;
	return n;
}

bool rec_contains(const struct recorder *r, const char *needle)
{
	size_t n = strlen(needle);

	if (r->raw && memmem(r->raw, r->raw_len, needle, n))
		return true;
	for (size_t i = 0; i < r->nf; i++)
		if (strstr(r->f[i].msg, needle) || strstr(r->f[i].file, needle))
			return true;
	return false;
}

int rec_run(const struct probe *p, int rootfd, const char *secret, enum hash_algo hash,
	    struct recorder *r)
{
	struct probe_ctx ctx = {
		.rootfd = rootfd,
		.hash = hash,
		.secret = (const uint8_t *)secret,
		.secret_len = secret ? strlen(secret) : 0,
		.emit = rec_emit,
		.finding = rec_finding,
		.userdata = r,
	};

	return p->run(&ctx, NULL);
}

int troot_make(char *buf, size_t size)
{
	if (snprintf(buf, size, "/tmp/drift-probe-XXXXXX") >= (int)size)
		return -1;
	return mkdtemp(buf) ? 0 : -1;
}

static int mkdir_parents(const char *root, const char *rel, bool last)
{
	char path[4096];
	size_t rootlen = strlen(root);

	if (snprintf(path, sizeof(path), "%s/%s", root, rel) >= (int)sizeof(path))
		return -1;
	for (char *p = path + rootlen + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (last && mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

int troot_mkdir(const char *root, const char *rel)
{
	return mkdir_parents(root, rel, true);
}

static int write_mem(const char *root, const char *rel, const void *data, size_t len)
{
	char path[4096];
	int fd;
	ssize_t n;

	if (mkdir_parents(root, rel, false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	n = len ? write(fd, data, len) : 0;
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

int troot_write(const char *root, const char *rel, const char *text)
{
	return write_mem(root, rel, text, strlen(text));
}

int troot_symlink(const char *root, const char *rel, const char *target)
{
	char path[4096];

	if (mkdir_parents(root, rel, false) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	return symlink(target, path);
}

char *file_slurp(const char *path, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	for (;;) {
		char *nb = realloc(buf, len + 4097);
		ssize_t n;

		if (!nb)
			goto fail;
		buf = nb;
		n = read(fd, buf + len, 4096);
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	return buf;
fail:
	free(buf);
	close(fd);
	return NULL;
}

int troot_copy_fixture(const char *root, const char *rel)
{
	char path[4096];
	size_t len;
	char *buf;
	int r;

	snprintf(path, sizeof(path), "%s/%s", PROBE_FIXTURE_ROOT, rel);
	buf = file_slurp(path, &len);
	if (!buf)
		return -1;
	r = write_mem(root, rel, buf, len);
	free(buf);
	return r;
}

int troot_replace(const char *root, const char *rel, const char *old, const char *new_text)
{
	char path[4096];
	size_t len, ol = strlen(old), nl = strlen(new_text);
	char *buf, *hit, *out;
	int r;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	buf = file_slurp(path, &len);
	if (!buf)
		return -1;
	hit = strstr(buf, old);
	out = malloc(len - ol + nl + 1);
	if (!hit || !out) {
		free(buf);
		free(out);
		return -1;
	}
	memcpy(out, buf, (size_t)(hit - buf));
	memcpy(out + (hit - buf), new_text, nl);
	memcpy(out + (hit - buf) + nl, hit + ol, len - (size_t)(hit - buf) - ol);
	r = write_mem(root, rel, out, len - ol + nl);
	free(buf);
	free(out);
	return r;
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

void troot_rm_rf(const char *root)
{
	if (root && root[0])
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int troot_open(const char *root)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	return fd;
}

int rec_fx_teardown(void **state)
{
	struct rec_fx *fx = *state;

	if (!fx)
		return 0;
	if (fx->rootfd >= 0)
		close(fx->rootfd);
	troot_rm_rf(fx->root);
	rec_release(&fx->rec);
	free(fx);
	return 0;
}

int rec_fx_setup(void **state)
{
	struct rec_fx *fx = calloc(1, sizeof(*fx));

	*state = fx;
	if (!fx)
		return -1;
	fx->rootfd = -1;
	if (troot_make(fx->root, sizeof(fx->root)) < 0) {
		fx->root[0] = '\0';
		rec_fx_teardown(state);
		return -1;
	}
	return 0;
}
