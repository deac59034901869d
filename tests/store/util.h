#ifndef DRIFT_TESTS_STORE_UTIL_H
#define DRIFT_TESTS_STORE_UTIL_H

/*
 * Helpers shared by the store tests: a temporary directory per test, entry
 * builders, and a one-call snapshot writer. Header-only (static inline) so
 * that each test stays one executable built from one .c file.
 */

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
#include "store/store.h"

struct tmp {
	char dir[64];
	char db[128];
};

static inline int tmp_rm_one(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)sb;
	(void)type;
	(void)f;
	return remove(path) < 0 ? -1 : 0;
}

/* Teardown: accepts a half-built fixture. */
static inline int tmp_teardown(void **state)
{
	struct tmp *t = *state;

	if (t && t->dir[0])
		nftw(t->dir, tmp_rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(t);
	*state = NULL;
	return 0;
}

static inline int tmp_setup(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	*state = t;
	if (!t)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/drift-store-XXXXXX");
	if (!mkdtemp(t->dir)) {
		t->dir[0] = '\0';
		tmp_teardown(state);
		return -1;
	}
	snprintf(t->db, sizeof(t->db), "%s/drift.db", t->dir);
	return 0;
}

/* A regular file entry with plausible attributes, keyed by the C string @key. */
static inline struct entry entry_file(const char *key)
{
	struct entry e = { 0 };

	e.kind = ENTRY_FILE;
	e.key = key;
	e.key_len = strlen(key);
	e.mode = S_IFREG | 0644;
	e.uid = 0;
	e.gid = 0;
	e.size = 1234;
	e.mtime_ns = 1700000000123456789LL;
	e.ctime_ns = 1700000000223456789LL;
	e.ino = 4242;
	e.dev = 2049;
	e.nlink = 1;
	return e;
}

static inline void entry_set_hash(struct entry *e, unsigned char seed)
{
	e->hash_algo = HASH_XXH3_128;
	e->hash_len = 16;
	for (unsigned i = 0; i < 16; i++)
		e->hash[i] = (uint8_t)(seed + i);
}

/* Write a complete snapshot in one go; returns its id or a negative errno. */
static inline int64_t write_snapshot(struct snap_store *st, enum snap_purpose purpose,
				     const char *label, bool replace, unsigned keep,
				     const struct entry *entries, size_t n, struct diag *reterr)
{
	static const char *const roots[] = { "/" };
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct snap_info info = { 0 };
	int64_t id;
	int r;

	p.purpose = purpose;
	p.label = label;
	p.replace = replace;
	p.keep = keep;
	p.host = "testhost";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	r = snap_writer_begin(st, &p, &w, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		r = snap_writer_add(w, &entries[i], reterr);
		if (r < 0) {
			snap_writer_abort(w);
			return r;
		}
	}
	r = snap_writer_commit(w, &info, reterr);
	if (r < 0)
		return r;
	id = info.id;
	snap_info_release(&info);
	return id;
}

/* Read a whole file into a malloc'd buffer; NULL on failure. */
static inline char *file_slurp(const char *path, size_t *ret_len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*ret_len = (size_t)n;
	}
	fclose(f);
	return buf;
}

static inline int file_write(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = len ? write(fd, data, len) : 0;
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

#endif /* DRIFT_TESTS_STORE_UTIL_H */
