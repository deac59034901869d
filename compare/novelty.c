/*
 * Novelty (--since-last): which findings are news since the previous run.
 *
 * A finding is the same as one of the previous run when it has the same
 * kind, key and change: a file modified last night and modified again is
 * persisting, whatever its new hash (the report still shows what changed).
 * The previous run's findings are loaded as 64-bit XXH3 digests of that
 * identity, sorted (8 bytes and a flag each: a million findings cost 9 MB);
 * a collision could only call a new finding persisting, which is a display
 * matter, never a verdict. After the comparison, the previous run is
 * replayed and each of its findings this run did not see goes to the sink's
 * resolved().
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "common/diag.h"
#include "common/banned.h"

struct novelty {
	uint64_t *h;
	uint8_t *seen;
	size_t n, alloc;
	const struct compare_sink *sink;
};

static uint64_t identity(enum entry_kind kind, const char *key, size_t len, enum change change)
{
	return XXH3_64bits_withSeed(key, len, (uint64_t)kind << 8 | (uint64_t)change);
}

static int load_row(const struct snap_run_row *row, void *userdata)
{
	struct novelty *nv = userdata;

	if (nv->n == nv->alloc) {
		size_t na = nv->alloc ? 2 * nv->alloc : 1024;
		uint64_t *nh = realloc(nv->h, na * sizeof(*nh));

		if (!nh)
			return -ENOMEM;
		nv->h = nh;
		nv->alloc = na;
	}
	nv->h[nv->n++] = identity(row->kind, row->key, row->key_len, row->change);
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

void novelty_free(struct novelty *nv)
{
	if (!nv)
		return;
	free(nv->h);
	free(nv->seen);
	free(nv);
}

int novelty_load(struct snap_store *st, const struct snap_run_info *run, struct novelty **ret,
		 struct diag *reterr)
{
	struct novelty *nv = calloc(1, sizeof(*nv));
	int r;

	if (!nv)
		return -ENOMEM;
	/* No earlier run (id 0): every finding is new. */
	r = run->id ? snap_run_rows(st, run->id, load_row, nv, reterr) : 0;
	if (r >= 0 && nv->n) {
		qsort(nv->h, nv->n, sizeof(*nv->h), u64_cmp);
		nv->seen = calloc(nv->n, 1);
		if (!nv->seen)
			r = -ENOMEM;
	}
	if (r < 0) {
		novelty_free(nv);
		return r == -ENOMEM ? diag_set(reterr, r, "out of memory") : r;
	}
	*ret = nv;
	return 0;
}

/* The index of @h among the previous findings, or -1. */
static ssize_t find(const struct novelty *nv, uint64_t h)
{
	size_t lo = 0, hi = nv->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (nv->h[mid] < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < nv->n && nv->h[lo] == h ? (ssize_t)lo : -1;
}

void novelty_mark(struct novelty *nv, struct finding *f)
{
	const struct entry *e = f->after ? f->after : f->before;
	ssize_t i = find(nv, identity(e->kind, e->key, e->key_len, f->change));

	if (i < 0) {
		f->novelty = NOVELTY_NEW;
		return;
	}
	f->novelty = NOVELTY_PERSISTING;
	/* Equal digests sit together: the first one not yet seen takes this finding. */
	while (i > 0 && nv->h[i - 1] == nv->h[i])
		i--;
	while ((size_t)i + 1 < nv->n && nv->seen[i] && nv->h[i + 1] == nv->h[i])
		i++;
	nv->seen[i] = 1;
}

static int resolved_visit(const struct finding *f, void *userdata)
{
	struct novelty *nv = userdata;
	const struct entry *e = f->after ? f->after : f->before;
	ssize_t i = find(nv, identity(e->kind, e->key, e->key_len, f->change));
	struct finding g;

	if (i >= 0) {
		while (i > 0 && nv->h[i - 1] == nv->h[i])
			i--;
		while ((size_t)i + 1 < nv->n && !nv->seen[i] && nv->h[i + 1] == nv->h[i])
			i++;
		if (nv->seen[i]) {
			nv->seen[i] = 0; /* one previous finding per finding of this run */
			return 0;
		}
	}
	g = *f;
	g.novelty = NOVELTY_RESOLVED;
	return nv->sink->resolved(&g, nv->sink->userdata);
}

int novelty_resolved(struct snap_store *st, const struct snap_run_info *run, struct novelty *nv,
		     const struct compare_sink *sink, struct diag *reterr)
{
	struct compare_sink replay = { .finding = resolved_visit, .userdata = nv };

	if (!sink->resolved || !run->id)
		return 0;
	nv->sink = sink;
	return compare_replay(st, run, &replay, reterr);
}
