/*
 * Opening a database from arbitrary bytes (store/): the input is written
 * to a file in a directory of this process's own (tmpfs when there is
 * one), opened read-only, its snapshots listed, the entries of every kind
 * of its first snapshots iterated, and the kept content they refer to
 * read (zstd decompression and the SHA-256 check of store/content.c);
 * then closed, and the file (with any -wal/-shm) removed. Bounded: at
 * most 4 snapshots, 2,000 entries and 16 contents per input.
 * Properties: a failure says why; entries come in the store's key order
 * (store/store.h: memcmp over the shorter, then the shorter first), each
 * of the kind asked for, with a key; kept content is handed out only
 * when it reads back whole.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "store/store.h"

#include "common/banned.h"

#define MAX_SNAPS    4
#define MAX_ENTRIES  2000
#define MAX_CONTENTS 16

struct ids {
	int64_t v[MAX_SNAPS];
	size_t n;
};

static int list_one(const struct snap_info *info, void *userdata)
{
	struct ids *ids = userdata;

	FUZZ_CHECK(info->host && info->version && info->roots);
	if (ids->n < MAX_SNAPS)
		ids->v[ids->n++] = info->id;
	return 0;
}

static void put(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	FUZZ_CHECK(fd >= 0);
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		FUZZ_CHECK(w > 0);
		p += w;
		n -= (size_t)w;
	}
	close(fd);
}

static void remove_db(const char *path)
{
	char side[4200];

	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-journal", path);
	unlink(side);
}

static int key_order(const struct entry *a, const char *b, size_t blen)
{
	size_t n = a->key_len < blen ? a->key_len : blen;
	int c = n ? memcmp(a->key, b, n) : 0;

	return c ? c : a->key_len < blen ? -1 : a->key_len > blen;
}

static void walk(struct snap_store *st, int64_t id, enum entry_kind kind, size_t *entries,
		 size_t *contents)
{
	struct snap_iter *it = NULL;
	struct diag d = { 0 };
	char *prev = NULL;
	size_t prev_len = 0;
	const struct entry *e;
	int r;

	r = snap_iter_new(st, id, kind, NULL, 0, 0, &it, &d);
	if (r < 0) {
		FUZZ_CHECK(d.msg[0]);
		return;
	}
	while (*entries < MAX_ENTRIES && (r = snap_iter_next(it, &e, &d)) > 0) {
		(*entries)++;
		FUZZ_CHECK(e->kind == kind);
		FUZZ_CHECK(e->key != NULL || e->key_len == 0);
		if (prev)
			FUZZ_CHECK(key_order(e, prev, prev_len) > 0);
		free(prev);
		prev = malloc(e->key_len ? e->key_len : 1);
		FUZZ_CHECK(prev != NULL);
		if (e->key_len)
			memcpy(prev, e->key, e->key_len);
		prev_len = e->key_len;
		if (e->has_content && *contents < MAX_CONTENTS) {
			uint8_t *bytes = NULL;
			size_t len = 0;
			struct diag cd = { 0 };

			(*contents)++;
			if (snap_content_get(st, e->content_id, &bytes, &len, &cd) == 0)
				free(bytes);
			else
				FUZZ_CHECK(cd.msg[0]);
		}
	}
	FUZZ_CHECK(r >= 0 || d.msg[0]);
	free(prev);
	snap_iter_free(it);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *dir = fuzz_tmpdir();
	struct snap_store *st = NULL;
	struct ids ids = { .n = 0 };
	struct diag d = { 0 };
	size_t entries = 0, contents = 0;
	char path[4096];
	int r;

	if (!dir)
		return 0;
	snprintf(path, sizeof(path), "%s/fuzz.db", dir);
	remove_db(path);
	put(path, data, size);
	r = snap_store_open(path, SNAP_OPEN_READ, &st, &d);
	fuzz_note(r, d.msg);
	if (r < 0) {
		FUZZ_CHECK(st == NULL && d.msg[0]);
		remove_db(path);
		return 0;
	}
	r = snap_list(st, list_one, &ids, &d);
	FUZZ_CHECK(r >= 0 || d.msg[0]);
	for (size_t i = 0; i < ids.n; i++)
		for (unsigned k = ENTRY_FILE; k <= ENTRY__KIND_MAX; k++)
			walk(st, ids.v[i], (enum entry_kind)k, &entries, &contents);
	fuzz_note((int)entries, "entries read");
	/* Verifying the seals of any file: problems or a clean error, never a crash. */
	{
		struct snap_seal_verify_opts o = { 0 };
		struct snap_seal_verify_stats stats;
		struct diag vd = { 0 };

		r = snap_seal_verify(st, &o, NULL, NULL, &stats, &vd);
		FUZZ_CHECK(r >= 0 || vd.msg[0]);
		fuzz_note((int)stats.problems, "seal problems");
	}
	snap_store_free(st);
	remove_db(path);
	return 0;
}
