/*
 * Delta snapshots: a snapshot stored as its differences from a parent.
 *
 * A check of an unchanged host is the baseline again; storing it whole
 * cost 24.5 MB on /usr every night. So a snapshot may name a parent
 * (snapshot.parent) and hold, in its own blocks, only the entries that are
 * new or differ from the parent's (whole entries, not attribute deltas) and
 * a tombstone for each key of the parent it does not have. Reading it
 * (iter.c) merges its blocks with its parent's view, key by key, the
 * nearest snapshot winning and tombstones dropping out: the same entries a
 * full copy would give (tests/store/test_delta.c checks that on random
 * trees and random changes). A parent may itself be a delta (a check made
 * the baseline with `drift baseline`), up to SNAP_CHAIN_MAX deep.
 *
 * "Differ" is exact: two entries are the same when their canonical records
 * (block.c) are the same bytes, every attribute and the optional ones
 * included. Deleting a parent first re-bases its children
 * (snap_rebase_children()): each child's view is written again as its
 * differences from the parent's parent, or as a full copy.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

struct snap_delta {
	struct snap_store *st;
	int64_t parent;
	struct snap_bw bw;
	int kind;               /* the kind being written; -1 before the first */
	struct snap_iter *pit;  /* the parent's entries of that kind */
	const struct entry *pe; /* the parent's current entry; NULL at its end */
	struct strbuf ca, cb, ext;
	uint64_t rows;
};

void snap_delta_free(struct snap_delta *d)
{
	if (!d)
		return;
	snap_iter_free(d->pit);
	snap_bw_release(&d->bw);
	strbuf_release(&d->ca);
	strbuf_release(&d->cb);
	strbuf_release(&d->ext);
	free(d);
}

int snap_delta_new(struct snap_store *st, int64_t snap, int64_t parent, struct snap_delta **ret,
		   struct diag *reterr)
{
	struct snap_delta *d = calloc(1, sizeof(*d));

	if (!d)
		return diag_set(reterr, -ENOMEM, "out of memory");
	d->st = st;
	d->parent = parent;
	d->kind = -1;
	snap_bw_init(&d->bw);
	d->bw.snap = snap;
	strbuf_init(&d->ca);
	strbuf_init(&d->cb);
	strbuf_init(&d->ext);
	*ret = d;
	return 0;
}

static int parent_step(struct snap_delta *d, struct diag *reterr)
{
	int r = snap_iter_next(d->pit, &d->pe, reterr);

	if (r == 0)
		d->pe = NULL;
	return r < 0 ? r : 0;
}

/* Tombstones for the rest of the parent's entries of the current kind. */
static int kind_end(struct snap_delta *d, struct diag *reterr)
{
	int r;

	while (d->pe) {
		r = snap_bw_put(d->st, &d->bw, d->pe, true, reterr);
		if (r < 0)
			return r;
		d->rows++;
		r = parent_step(d, reterr);
		if (r < 0)
			return r;
	}
	snap_iter_free(d->pit);
	d->pit = NULL;
	return 0;
}

/* Open the parent's entries of @kind. */
static int kind_begin(struct snap_delta *d, int kind, struct diag *reterr)
{
	int r;

	d->kind = kind;
	if (!d->parent)
		return 0;
	r = snap_iter_new(d->st, d->parent, (enum entry_kind)kind, NULL, 0, 0, &d->pit, reterr);
	if (r < 0)
		return r;
	return parent_step(d, reterr);
}

/* Move on to @kind, closing every kind before it. */
static int kind_goto(struct snap_delta *d, int kind, struct diag *reterr)
{
	int r;

	while (d->kind < kind) {
		if (d->kind >= ENTRY_FILE) {
			r = kind_end(d, reterr);
			if (r < 0)
				return r;
		}
		r = kind_begin(d, d->kind < ENTRY_FILE ? ENTRY_FILE : d->kind + 1, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

int snap_delta_put(struct snap_delta *d, const struct entry *e, struct diag *reterr)
{
	int r;

	if ((int)e->kind < d->kind)
		return diag_set(reterr, -EINVAL, "entries out of order");
	r = kind_goto(d, (int)e->kind, reterr);
	if (r < 0)
		return r;
	while (d->pe) {
		int c = snap_key_compare(d->pe->key, d->pe->key_len, e->key, e->key_len);

		if (c > 0)
			break;
		if (c == 0) {
			bool same;

			strbuf_reset(&d->ca);
			strbuf_reset(&d->cb);
			if (snap_rec_encode(&d->ca, d->pe, false, NULL, &d->ext) < 0 ||
			    snap_rec_encode(&d->cb, e, false, NULL, &d->ext) < 0)
				return diag_set(reterr, -ENOMEM, "out of memory");
			same = d->ca.len == d->cb.len && !memcmp(d->ca.buf, d->cb.buf, d->ca.len);
			r = parent_step(d, reterr);
			if (r < 0)
				return r;
			if (same)
				return 0;
			break;
		}
		r = snap_bw_put(d->st, &d->bw, d->pe, true, reterr);
		if (r < 0)
			return r;
		d->rows++;
		r = parent_step(d, reterr);
		if (r < 0)
			return r;
	}
	r = snap_bw_put(d->st, &d->bw, e, false, reterr);
	if (r >= 0)
		d->rows++;
	return r;
}

int snap_delta_end(struct snap_delta *d, uint64_t *ret_rows, struct diag *reterr)
{
	int r = kind_goto(d, ENTRY__KIND_MAX, reterr);

	if (r >= 0)
		r = kind_end(d, reterr);
	if (r >= 0)
		r = snap_bw_flush(d->st, &d->bw, reterr);
	if (r >= 0 && ret_rows)
		*ret_rows = d->rows;
	snap_delta_free(d);
	return r < 0 ? r : 0;
}

int snap_blocks_delete(struct snap_store *st, int64_t id, struct diag *reterr)
{
	int r = snap_query_int(st, "DELETE FROM block WHERE snap = :a", id, 0, NULL, NULL, reterr);

	return r < 0 ? r : 0;
}

/* Write the view of @child (every kind) as blocks of @target relative to @parent. */
static int view_write(struct snap_store *st, int64_t child, int64_t target, int64_t parent,
		      struct diag *reterr)
{
	struct snap_delta *d = NULL;
	int r;

	r = snap_delta_new(st, target, parent, &d, reterr);
	if (r < 0)
		return r;
	for (int kind = ENTRY_FILE; kind <= ENTRY__KIND_MAX; kind++) {
		struct snap_iter *it = NULL;
		const struct entry *e;

		r = snap_iter_new(st, child, (enum entry_kind)kind, NULL, 0, 0, &it, reterr);
		while (r >= 0 && (r = snap_iter_next(it, &e, reterr)) > 0)
			r = snap_delta_put(d, e, reterr);
		snap_iter_free(it);
		if (r < 0) {
			snap_delta_free(d);
			return r;
		}
	}
	return snap_delta_end(d, NULL, reterr);
}

int snap_rebase_children(struct snap_store *st, int64_t id, struct diag *reterr)
{
	int64_t *kids = NULL, grand = 0;
	size_t n = 0, cap = 0;
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, "SELECT id FROM snapshot WHERE parent = ?1 ORDER BY id", &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (n == cap) {
			int64_t *v = realloc(kids, (cap = cap ? cap * 2 : 8) * sizeof(*v));

			if (!v) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				goto out;
			}
			kids = v;
		}
		kids[n++] = sqlite3_column_int64(s, 0);
	}
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "read snapshots", reterr);
		goto out;
	}
	sqlite3_finalize(s);
	s = NULL;
	if (n == 0)
		goto out;

	r = snap_query_int(st, "SELECT parent FROM snapshot WHERE id = :a", id, 0, NULL, &grand,
			   reterr);
	if (r < 0)
		goto out;

	for (size_t i = 0; i < n; i++) {
		/* Written aside (snap -child), then swapped in: the child's view
		 * reads its own blocks while the new ones are written. */
		r = view_write(st, kids[i], -kids[i], grand, reterr);
		if (r >= 0)
			r = snap_blocks_delete(st, kids[i], reterr);
		if (r >= 0)
			r = snap_query_int(st, "UPDATE block SET snap = :a WHERE snap = -:a",
					   kids[i], 0, NULL, NULL, reterr);
		if (r >= 0)
			r = snap_query_int(
				st, "UPDATE snapshot SET parent = NULLIF(:b, 0) WHERE id = :a",
				kids[i], grand, NULL, NULL, reterr);
		/* Kept content the child inherited was referenced by its parent only. */
		if (r >= 0)
			r = snap_query_int(st,
					   "INSERT OR IGNORE INTO content_ref (snap, id)"
					   " SELECT :a, id FROM content_ref WHERE snap = :b",
					   kids[i], id, NULL, NULL, reterr);
		if (r < 0)
			goto out;
	}
out:
	sqlite3_finalize(s);
	free(kids);
	return r < 0 ? r : 0;
}
