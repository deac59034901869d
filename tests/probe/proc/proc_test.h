/*
 * Helpers shared by the tests of the proc probes: a probe_ctx whose emit
 * and finding callbacks record what they get (entries flattened to a key
 * and a "name=value\n..." text), scratch roots built in mkdtemp()
 * directories, and the fixture of the tests (struct pt_fx: both of them).
 * Include after cmocka.h.
 */
#ifndef DRIFT_TESTS_PROBE_PROC_TEST_H
#define DRIFT_TESTS_PROBE_PROC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/probe.h"

#define PT_MAX 256

struct pt_finding {
	char probe[32];
	char file[128];
	unsigned line;
	char msg[256];
};

struct pt_rec {
	int nemit;
	enum entry_kind kind[PT_MAX];
	char *key[PT_MAX];
	size_t key_len[PT_MAX];
	char *props[PT_MAX]; /* "name=value\n" for each property, in blob order */
	int nfind;
	struct pt_finding find[PT_MAX];
	int stop_after;  /* emit returns -EINTR for the entry numbered this (0-based); -1 never */
	bool count_only; /* count entries (any number), keep none */
	bool bad_blob;
};

static inline int pt_emit(const struct entry *e, void *userdata)
{
	struct pt_rec *rec = userdata;
	const uint8_t *v;
	const char *name;
	size_t pos = 0, nl, vl;
	char *text = NULL;
	size_t text_len = 0;
	FILE *f;
	int r;

	if (rec->stop_after >= 0 && rec->nemit >= rec->stop_after)
		return -EINTR;
	if (entry_xattrs_check(e->props, e->props_len) < 0 || !e->key_len)
		rec->bad_blob = true;
	if (rec->count_only) {
		rec->nemit++;
		return 0;
	}
	if (rec->nemit >= PT_MAX)
		return -ENOSPC;
	f = open_memstream(&text, &text_len);
	if (!f)
		return -ENOMEM;
	while ((r = entry_xattrs_next(e->props, e->props_len, &pos, &name, &nl, &v, &vl)) > 0)
		fprintf(f, "%.*s=%.*s\n", (int)nl, name, (int)vl, (const char *)v);
	if (r < 0)
		rec->bad_blob = true;
	fclose(f);
	rec->kind[rec->nemit] = e->kind;
	rec->key[rec->nemit] = strndup(e->key, e->key_len);
	rec->key_len[rec->nemit] = e->key_len;
	rec->props[rec->nemit] = text;
	rec->nemit++;
	return 0;
}

static inline void pt_finding_cb(const char *probe, const char *file, unsigned line,
				 const char *msg, void *userdata)
{
	struct pt_rec *rec = userdata;
	struct pt_finding *fd;

	if (rec->nfind >= PT_MAX)
		return;
	fd = &rec->find[rec->nfind++];
	snprintf(fd->probe, sizeof(fd->probe), "%s", probe);
	snprintf(fd->file, sizeof(fd->file), "%s", file);
	fd->line = line;
	snprintf(fd->msg, sizeof(fd->msg), "%s", msg);
}

static inline void pt_rec_init(struct pt_rec *rec)
{
	memset(rec, 0, sizeof(*rec));
	rec->stop_after = -1;
}

static inline void pt_rec_release(struct pt_rec *rec)
{
	for (int i = 0; !rec->count_only && i < rec->nemit; i++) {
		free(rec->key[i]);
		free(rec->props[i]);
	}
	pt_rec_init(rec);
}

/* Run @probe_name on @rootfd, recording into @rec (initialized here). */
static inline int pt_run(const char *probe_name, int rootfd, struct pt_rec *rec,
			 struct diag *reterr)
{
	const struct probe *p = probe_find(probe_name);
	struct probe_ctx ctx;
	int stop = rec->stop_after;
	bool count_only = rec->count_only;

	pt_rec_release(rec);
	rec->stop_after = stop;
	rec->count_only = count_only;
	memset(&ctx, 0, sizeof(ctx));
	ctx.rootfd = rootfd;
	ctx.emit = pt_emit;
	ctx.finding = pt_finding_cb;
	ctx.userdata = rec;
	if (!p)
		return -ENOENT;
	return p->run(&ctx, reterr);
}

/* The props text of the entry @key, or NULL when it was not emitted. */
static inline const char *pt_props(const struct pt_rec *rec, const char *key)
{
	for (int i = 0; i < rec->nemit; i++)
		if (rec->key_len[i] == strlen(key) && !memcmp(rec->key[i], key, rec->key_len[i]))
			return rec->props[i];
	return NULL;
}

/* Assert the entry @key exists with exactly the props text @props. */
#define pt_assert_entry(rec, k, p)                               \
	do {                                                     \
		const char *pt_got_ = pt_props((rec), (k));      \
		if (!pt_got_)                                    \
			fail_msg("entry '%s' not emitted", (k)); \
		assert_string_equal(pt_got_, (p));               \
	} while (0)

/* Findings: the number of those on @line of @file, and whether one mentions @text. */
static inline int pt_findings_on(const struct pt_rec *rec, const char *file, unsigned line)
{
	int n = 0;

	for (int i = 0; i < rec->nfind; i++)
		if (!strcmp(rec->find[i].file, file) && rec->find[i].line == line)
			n++;
	return n;
}

static inline bool pt_finding_says(const struct pt_rec *rec, const char *text)
{
	for (int i = 0; i < rec->nfind; i++)
		if (strstr(rec->find[i].msg, text))
			return true;
	return false;
}

/* Scratch roots. */
struct pt_root {
	char dir[64];
	int fd; /* O_PATH directory fd of dir, -1 when not made */
};

static inline int pt_root_make(struct pt_root *root)
{
	snprintf(root->dir, sizeof(root->dir), "/tmp/drift-probeproc-XXXXXX");
	root->fd = -1;
	if (!mkdtemp(root->dir)) {
		root->dir[0] = '\0';
		return -errno;
	}
	root->fd = open(root->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	return root->fd < 0 ? -errno : 0;
}

static inline int pt_rm_cb(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) < 0 ? -1 : 0;
}

static inline void pt_root_remove(struct pt_root *root)
{
	if (root->fd >= 0)
		close(root->fd);
	root->fd = -1;
	if (root->dir[0]) {
		/* the tests make no directory without write permission, so this removes all */
		nftw(root->dir, pt_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
		root->dir[0] = '\0';
	}
}

/* The fixture of every test: a recorder and an empty scratch root. */
struct pt_fx {
	struct pt_rec rec;
	struct pt_root root;
};

/* A cmocka teardown of a struct pt_fx in *@state. */
static inline int pt_fx_teardown(void **state)
{
	struct pt_fx *fx = *state;

	if (!fx)
		return 0;
	pt_rec_release(&fx->rec);
	pt_root_remove(&fx->root);
	free(fx);
	return 0;
}

/* A cmocka setup: a new struct pt_fx into *@state. */
static inline int pt_fx_setup(void **state)
{
	struct pt_fx *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	*state = fx;
	pt_rec_init(&fx->rec);
	fx->root.fd = -1;
	if (pt_root_make(&fx->root) < 0) {
		pt_fx_teardown(state);
		return -1;
	}
	return 0;
}

/* A test case @f run with a struct pt_fx as its state. */
#define pt_unit_test(f) cmocka_unit_test_setup_teardown(f, pt_fx_setup, pt_fx_teardown)

/* mkdir -p of @rel under the root. */
static inline int pt_mkdirs(const struct pt_root *root, const char *rel)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", root->dir, rel);
	for (char *p = path + strlen(root->dir) + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write @len bytes of @data to @rel (parents made), with @mode. */
static inline int pt_write(const struct pt_root *root, const char *rel, const void *data,
			   size_t len, mode_t mode)
{
	char dir[512], path[600];
	const char *slash = strrchr(rel, '/');
	ssize_t n;
	int fd, r;

	if (slash) {
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - rel), rel);
		r = pt_mkdirs(root, dir);
		if (r < 0)
			return r;
	}
	snprintf(path, sizeof(path), "%s/%s", root->dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	n = len ? write(fd, data, len) : 0;
	r = n == (ssize_t)len ? 0 : -EIO;
	if (fchmod(fd, mode) < 0)
		r = -errno;
	close(fd);
	return r;
}

static inline int pt_write_str(const struct pt_root *root, const char *rel, const char *s)
{
	return pt_write(root, rel, s, strlen(s), 0644);
}

/* Copy the fixture's file @rel into the root. */
static inline int pt_copy_fixture(const struct pt_root *root, const char *rel)
{
	char path[512];
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	snprintf(path, sizeof(path), "%s/%s", PROBE_FIXTURE_ROOT, rel);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	buf = malloc(1 << 16);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	len = fread(buf, 1, 1 << 16, f);
	fclose(f);
	r = pt_write(root, rel, buf, len, 0644);
	free(buf);
	return r;
}

static inline int pt_fixture_open(void)
{
	return open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

/* Whether a proc filesystem is mounted on the host's /proc. */
static inline bool pt_host_has_proc(void)
{
	struct stat st;

	return stat("/proc/self/mountinfo", &st) == 0;
}

#endif /* DRIFT_TESTS_PROBE_PROC_TEST_H */
