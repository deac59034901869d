/*
 * What a remediation could not bring back: a file drift rewrote (content
 * restored, a removed file or a symlink recreated) is a new inode, with a
 * new ctime. The journal (store/remedy.c) records the inode each restore
 * left; while the entry still is that inode, its inode number and ctime
 * are no drift. Anything else that changes shows as ever, and an entry
 * replaced again since is a new inode that the journal does not name.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct restored_key {
	size_t off, len; /* the key in the arena */
	uint64_t ino, dev;
	int64_t ctime_ns;
};

struct restored {
	struct restored_key *v;
	size_t n, cap;
	struct strbuf arena;
	struct snap_entry_buf buf;
};

static int collect(const struct snap_remedy_action *a, void *userdata)
{
	struct restored *rs = userdata;
	const struct entry *e;

	if (a->kind != ENTRY_FILE || snap_entry_decode(a->post, a->post_len, &rs->buf, &e) < 0)
		return 0; /* not a file's, or not readable: it explains nothing */
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? 2 * rs->cap : 16;
		struct restored_key *v = realloc(rs->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		rs->v = v;
		rs->cap = cap;
	}
	rs->v[rs->n] =
		(struct restored_key){ rs->arena.len, a->key_len, e->ino, e->dev, e->ctime_ns };
	if (strbuf_add(&rs->arena, a->key, a->key_len) < 0)
		return -ENOMEM;
	rs->n++;
	return 0;
}

static const struct restored *sort_ctx;

static int key_cmp(const void *x, const void *y)
{
	const struct restored_key *a = x, *b = y;
	int c = snap_key_compare(sort_ctx->arena.buf + a->off, a->len, sort_ctx->arena.buf + b->off,
				 b->len);

	/* Equal keys: the later action (a higher arena offset) last. */
	return c ? c : (a->off > b->off) - (a->off < b->off);
}

int restored_load(struct snap_store *st, struct restored **ret, struct diag *reterr)
{
	struct restored *rs = calloc(1, sizeof(*rs));
	int r;

	*ret = NULL;
	if (!rs)
		return diag_set(reterr, -ENOMEM, "out of memory");
	strbuf_init(&rs->arena);
	r = snap_remedy_restored(st, collect, rs, reterr);
	if (r == -ENOMEM && !reterr->msg[0])
		r = diag_set(reterr, r, "out of memory");
	if (r < 0 || !rs->n) {
		restored_free(rs);
		return r < 0 ? r : 0;
	}
	sort_ctx = rs;
	qsort(rs->v, rs->n, sizeof(*rs->v), key_cmp);
	sort_ctx = NULL;
	*ret = rs;
	return 0;
}

void restored_free(struct restored *rs)
{
	if (!rs)
		return;
	free(rs->v);
	strbuf_release(&rs->arena);
	snap_entry_buf_release(&rs->buf);
	free(rs);
}

uint32_t restored_mask(const struct restored *rs, const struct entry *after)
{
	size_t lo = 0, hi, found = SIZE_MAX;

	if (!rs || !after || after->kind != ENTRY_FILE)
		return 0;
	hi = rs->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = snap_key_compare(rs->arena.buf + rs->v[mid].off, rs->v[mid].len, after->key,
					 after->key_len);

		if (c < 0) {
			lo = mid + 1;
		} else {
			if (!c)
				found = mid;
			hi = mid;
		}
	}
	if (found == SIZE_MAX)
		return 0;
	/* The newest restore of the key decides. */
	while (found + 1 < rs->n &&
	       !snap_key_compare(rs->arena.buf + rs->v[found + 1].off, rs->v[found + 1].len,
				 after->key, after->key_len))
		found++;
	if (rs->v[found].ino != after->ino || rs->v[found].dev != after->dev)
		return 0;
	return rs->v[found].ctime_ns == after->ctime_ns ? ATTR_INODE | ATTR_CTIME : ATTR_INODE;
}
