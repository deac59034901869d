/*
 * Reading the entries of a snapshot in key order, restricted to subtrees.
 *
 * A root R selects the key R itself and every key that starts with "R/".
 * In byte order these are two ranges of the primary key:
 *
 *     [R, R "\0")     exactly R (no key is longer than R and below R "\0")
 *     [R "/", R "0")  everything under R ('0' is '/' + 1)
 *
 * Both are index range scans of the (snap, kind, key) primary key, so a
 * root costs what it returns. Sorting the roots is not enough to make the
 * concatenation sorted: with roots "/a" and "/a-b", the order is "/a",
 * "/a-b", "/a-b/..", "/a/..", because '-' < '/'. So each root yields its
 * two ranges, nested and duplicate roots are dropped first (which makes all
 * ranges disjoint: prefix ranges either nest or do not meet), and the
 * ranges are sorted by their lower bound. Stepping through them in that
 * order, with one statement re-bound per range, gives a globally sorted
 * stream and holds no more than one row in memory.
 *
 * The optional attributes come from the `ext` column (ext.c), decoded in
 * place: the entry points into SQLite's copy of the row.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "store/internal.h"
#include "common/banned.h"

#define ITER_SELECT                                                                           \
	"SELECT key, mode, uid, gid, size, mtime, ctime, ino, dev, nlink, target, hash, err," \
	" flags, "
#define ITER_WHERE " FROM entry WHERE snap = :snap AND kind = :kind"
/* Schema version 1 has no ext column: read as NULL (nothing optional collected). */
#define ITER_COLUMNS     ITER_SELECT "ext" ITER_WHERE
#define ITER_COLUMNS_OLD ITER_SELECT "NULL" ITER_WHERE

/* [schema is version 1][(restricted to roots ? 2 : 0) + (errors only ? 0 : 1)] */
static const char *const iter_queries[2][4] = {
	{
		ITER_COLUMNS " AND err != 0 ORDER BY key",
		ITER_COLUMNS " ORDER BY key",
		ITER_COLUMNS " AND key >= :lo AND key < :hi AND err != 0 ORDER BY key",
		ITER_COLUMNS " AND key >= :lo AND key < :hi ORDER BY key",
	},
	{
		ITER_COLUMNS_OLD " AND err != 0 ORDER BY key",
		ITER_COLUMNS_OLD " ORDER BY key",
		ITER_COLUMNS_OLD " AND key >= :lo AND key < :hi AND err != 0 ORDER BY key",
		ITER_COLUMNS_OLD " AND key >= :lo AND key < :hi ORDER BY key",
	},
};

struct iter_range {
	char *lo, *hi; /* owned; [lo, hi) */
	size_t lo_len, hi_len;
};

/* One snapshot of a chain, read block by block within the current range. */
struct level {
	int64_t snap;
	sqlite3_stmt *stmt; /* the blocks from a start key on, in key order */
	struct snap_dblock b;
	size_t i;     /* the current entry of b */
	bool eof;     /* nothing more in the current range */
	bool advance; /* step past the current entry at the next call */
};

struct snap_iter {
	struct snap_store *st; /* borrowed: outlives the iterator */
	/* Schema 5: the chain's levels, nearest first; and the range being read. */
	bool blocks;
	struct level *lv;
	size_t nlv;
	sqlite3_stmt *seek; /* the block holding a key */
	const char *hi;     /* the current range's upper bound; NULL: none */
	size_t hi_len;
	bool errors_only;
	bool pending; /* nothing read yet */
	enum entry_kind kind;
	sqlite3_stmt *stmt;
	struct iter_range *ranges; /* NULL: one pass over the whole snapshot */
	size_t nranges;
	size_t next_range; /* the range to bind when the current one ends */
	bool done;
	enum hash_algo hash; /* the snapshot's algorithm */
	char *label;         /* the snapshot's label, for messages; NULL: none */
	int64_t snap_id;
	struct entry entry; /* handed out; points into the statement's row */
};

int snap_key_compare(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t n = alen < blen ? alen : blen;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c < 0 ? -1 : 1;
	return alen < blen ? -1 : alen > blen;
}

void snap_iter_free(struct snap_iter *it)
{
	if (!it)
		return;
	sqlite3_finalize(it->stmt);
	sqlite3_finalize(it->seek);
	for (size_t i = 0; i < it->nlv; i++) {
		sqlite3_finalize(it->lv[i].stmt);
		snap_dblock_release(&it->lv[i].b);
	}
	free(it->lv);
	for (size_t i = 0; i < it->nranges; i++) {
		free(it->ranges[i].lo);
		free(it->ranges[i].hi);
	}
	free(it->ranges);
	free(it->label);
	free(it);
}

struct root {
	const char *s;
	size_t len;
};

static int root_cmp(const void *a, const void *b)
{
	const struct root *x = a, *y = b;

	return snap_key_compare(x->s, x->len, y->s, y->len);
}

static int range_cmp(const void *a, const void *b)
{
	const struct iter_range *x = a, *y = b;

	return snap_key_compare(x->lo, x->lo_len, y->lo, y->lo_len);
}

/* @inner is @outer or lies under it. */
static bool root_within(const struct root *inner, const struct root *outer)
{
	return inner->len >= outer->len && !memcmp(inner->s, outer->s, outer->len) &&
	       (inner->len == outer->len || inner->s[outer->len] == '/');
}

/* @root plus one byte, as an allocated buffer of *ret_len bytes. */
static char *bound_dup(const struct root *root, int extra, size_t *ret_len)
{
	char *b = malloc(root->len + 2);

	if (!b)
		return NULL;
	memcpy(b, root->s, root->len);
	*ret_len = root->len;
	if (extra >= 0) {
		b[root->len] = (char)extra;
		(*ret_len)++;
	}
	b[*ret_len] = '\0';
	return b;
}

/*
 * Turn @roots into sorted, disjoint ranges. Sets *ret_all when a root
 * covers everything ("/"); leaves it->ranges NULL then.
 */
static int iter_build_ranges(struct snap_iter *it, const char *const *roots, size_t nroots,
			     bool *ret_all, struct diag *reterr)
{
	struct root *v = calloc(nroots ? nroots : 1, sizeof(*v));
	size_t n = 0, kept = 0;
	int r = 0;

	if (!v)
		return diag_set(reterr, -ENOMEM, "out of memory");
	*ret_all = false;
	for (size_t i = 0; i < nroots; i++) {
		size_t len = strlen(roots[i]);

		/* "/usr/" is "/usr"; "/" (or "//") is everything. */
		while (len > 1 && roots[i][len - 1] == '/')
			len--;
		if (len == 0) {
			r = diag_set(reterr, -EINVAL, "empty root");
			goto out;
		}
		if (len == 1 && roots[i][0] == '/') {
			*ret_all = true;
			goto out;
		}
		v[n++] = (struct root){ roots[i], len };
	}
	qsort(v, n, sizeof(*v), root_cmp);
	/* Drop duplicates and roots under another root. A nested root need
	 * not directly follow its ancestor ("/a", "/a-b", "/a/x"), so check
	 * against every root kept so far. */
	for (size_t i = 0; i < n; i++) {
		bool nested = false;

		for (size_t j = 0; j < kept && !nested; j++)
			nested = root_within(&v[i], &v[j]);
		if (!nested)
			v[kept++] = v[i];
	}

	it->ranges = calloc(kept * 2 + 1, sizeof(*it->ranges));
	if (!it->ranges) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < kept; i++) {
		struct iter_range *exact = &it->ranges[it->nranges++];
		struct iter_range *under = &it->ranges[it->nranges++];

		exact->lo = bound_dup(&v[i], -1, &exact->lo_len);
		exact->hi = bound_dup(&v[i], '\0', &exact->hi_len);
		under->lo = bound_dup(&v[i], '/', &under->lo_len);
		under->hi = bound_dup(&v[i], '/' + 1, &under->hi_len);
		if (!exact->lo || !exact->hi || !under->lo || !under->hi) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
	}
	qsort(it->ranges, it->nranges, sizeof(*it->ranges), range_cmp);
out:
	free(v);
	return r;
}

/* Bind the next range; false when there is none left. */
static bool iter_next_range(struct snap_iter *it)
{
	const struct iter_range *rg;

	if (!it->ranges || it->next_range >= it->nranges)
		return false;
	rg = &it->ranges[it->next_range++];
	sqlite3_reset(it->stmt);
	sqlite3_bind_blob(it->stmt, sqlite3_bind_parameter_index(it->stmt, ":lo"), rg->lo,
			  (int)rg->lo_len, SQLITE_STATIC);
	sqlite3_bind_blob(it->stmt, sqlite3_bind_parameter_index(it->stmt, ":hi"), rg->hi,
			  (int)rg->hi_len, SQLITE_STATIC);
	return true;
}

bool snap_iter_is_legacy(const struct snap_store *st)
{
	return st->schema < 5;
}

/* ---- schema 5: blocks, and the chain of a delta snapshot ---- */

int snap_chain(struct snap_store *st, int64_t id, int64_t *ret_ids, size_t *ret_n,
	       struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	size_t n = 0;
	int rc, r = 0;

	r = snap_prepare(st, "SELECT parent FROM snapshot WHERE id = ?1", &s, reterr);
	if (r < 0)
		return r;
	while (id) {
		if (n == SNAP_CHAIN_MAX) {
			r = diag_set(reterr, -EPROTO,
				     "'%s' is damaged (a chain of snapshots too long)", st->path);
			break;
		}
		for (size_t i = 0; i < n; i++)
			if (ret_ids[i] == id) {
				r = diag_set(reterr, -EPROTO,
					     "'%s' is damaged (snapshot %lld is its own ancestor)",
					     st->path, (long long)id);
				goto out;
			}
		ret_ids[n++] = id;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE) {
			r = n == 1 ? diag_set(reterr, -ENOENT, "no snapshot %lld", (long long)id)
				   : diag_set(reterr, -EPROTO,
					      "'%s' is damaged (snapshot %lld is missing)",
					      st->path, (long long)id);
			break;
		}
		if (rc != SQLITE_ROW) {
			r = snap_sqlite_fail(st, rc, "read a snapshot", reterr);
			break;
		}
		id = sqlite3_column_int64(s, 0);
	}
out:
	sqlite3_finalize(s);
	*ret_n = n;
	return r;
}

static int iter_damaged(const struct snap_iter *it, const struct entry *e, const char *what,
			struct diag *reterr);
static const char *ext_what(enum entry_kind kind);

/* Load the next block of @l; eof when there is none. */
static int level_next_block(struct snap_iter *it, struct level *l, struct diag *reterr)
{
	int rc = sqlite3_step(l->stmt), r;

	if (rc == SQLITE_DONE) {
		l->eof = true;
		return 0;
	}
	if (rc != SQLITE_ROW)
		return snap_sqlite_fail(it->st, rc, "read entries", reterr);
	r = snap_dblock_load(&l->b, sqlite3_column_blob(l->stmt, 1),
			     (size_t)sqlite3_column_bytes(l->stmt, 1), it->kind, it->hash);
	if (r == -ENOMEM)
		return diag_set(reterr, -ENOMEM, "out of memory");
	if (r == -EBADMSG) {
		/* One entry's optional attributes: name it (its key was read). */
		struct entry bad = { .kind = it->kind,
				     .key = l->b.prev.key.buf,
				     .key_len = l->b.prev.key_len };

		return iter_damaged(it, &bad, ext_what(it->kind), reterr);
	}
	if (r < 0 || l->b.n == 0) {
		if (it->label)
			return diag_set(reterr, -EPROTO,
					"snapshot '%s': a damaged block of entries", it->label);
		return diag_set(reterr, -EPROTO, "snapshot #%lld: a damaged block of entries",
				(long long)it->snap_id);
	}
	l->i = 0;
	return 0;
}

/* Settle @l on an entry inside the range, or eof. */
static int level_settle(struct snap_iter *it, struct level *l, struct diag *reterr)
{
	int r;

	while (!l->eof && l->i >= l->b.n) {
		r = level_next_block(it, l, reterr);
		if (r < 0)
			return r;
	}
	if (!l->eof && it->hi &&
	    snap_key_compare(l->b.v[l->i].key, l->b.v[l->i].key_len, it->hi, it->hi_len) >= 0)
		l->eof = true;
	return 0;
}

/* Position every level at the first key >= @lo (@len bytes), below it->hi. */
static int iter_seek(struct snap_iter *it, const char *lo, size_t len, struct diag *reterr)
{
	for (size_t k = 0; k < it->nlv; k++) {
		struct level *l = &it->lv[k];
		const void *start = lo;
		int start_len = (int)len, rc, r;

		/* The block holding @lo: the last one starting at or below it. */
		sqlite3_reset(it->seek);
		sqlite3_bind_int64(it->seek, 1, l->snap);
		sqlite3_bind_int(it->seek, 2, (int)it->kind);
		sqlite3_bind_blob(it->seek, 3, lo, (int)len, SQLITE_STATIC);
		rc = sqlite3_step(it->seek);
		if (rc == SQLITE_ROW) {
			start = sqlite3_column_blob(it->seek, 0);
			start_len = sqlite3_column_bytes(it->seek, 0);
		} else if (rc != SQLITE_DONE) {
			return snap_sqlite_fail(it->st, rc, "read entries", reterr);
		}
		sqlite3_reset(l->stmt);
		sqlite3_bind_int64(l->stmt, 1, l->snap);
		sqlite3_bind_int(l->stmt, 2, (int)it->kind);
		sqlite3_bind_blob(l->stmt, 3, start ? start : "", start_len, SQLITE_TRANSIENT);
		sqlite3_reset(it->seek);
		l->eof = false;
		l->advance = false;
		l->b.n = 0;
		l->i = 0;
		r = level_next_block(it, l, reterr);
		if (r < 0)
			return r;
		if (!l->eof)
			l->i = snap_dblock_find(&l->b, lo, len);
		r = level_settle(it, l, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Start the range it->ranges[it->next_range] (or the whole kind); false: none left. */
static int iter_blocks_range(struct snap_iter *it, bool *ret_more, struct diag *reterr)
{
	const struct iter_range *rg;

	if (!it->ranges) {
		*ret_more = it->next_range++ == 0;
		it->hi = NULL;
		return *ret_more ? iter_seek(it, "", 0, reterr) : 0;
	}
	*ret_more = it->next_range < it->nranges;
	if (!*ret_more)
		return 0;
	rg = &it->ranges[it->next_range++];
	it->hi = rg->hi;
	it->hi_len = rg->hi_len;
	return iter_seek(it, rg->lo, rg->lo_len, reterr);
}

static int iter_blocks_open(struct snap_iter *it, int64_t snap_id, unsigned flags,
			    struct diag *reterr)
{
	int64_t ids[SNAP_CHAIN_MAX];
	size_t n = 0;
	int r;

	it->blocks = true;
	it->errors_only = flags & SNAP_ITER_ERRORS_ONLY;
	r = snap_chain(it->st, snap_id, ids, &n, reterr);
	if (r < 0)
		return r;
	it->lv = calloc(n, sizeof(*it->lv));
	if (!it->lv)
		return diag_set(reterr, -ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		struct level *l = &it->lv[it->nlv++];

		l->snap = ids[i];
		snap_dblock_init(&l->b);
		r = snap_prepare(it->st,
				 "SELECT first, data FROM block WHERE snap = ?1 AND kind = ?2 AND"
				 " first >= ?3 ORDER BY first",
				 &l->stmt, reterr);
		if (r < 0)
			return r;
	}
	r = snap_prepare(it->st,
			 "SELECT first FROM block WHERE snap = ?1 AND kind = ?2 AND first <= ?3"
			 " ORDER BY first DESC LIMIT 1",
			 &it->seek, reterr);
	if (r < 0)
		return r;
	it->pending = true; /* the first range is sought by the first step */
	return 0;
}

/* The next entry of the chain's merge: per key, the nearest level's; tombstones dropped. */
static int iter_blocks_next(struct snap_iter *it, const struct entry **ret_entry,
			    struct diag *reterr)
{
	int r;

	if (it->pending) {
		bool more;

		it->pending = false;
		r = iter_blocks_range(it, &more, reterr);
		if (r < 0)
			return r;
		it->done = !more;
	}
	while (!it->done) {
		struct level *win = NULL;
		bool tomb;

		for (size_t k = 0; k < it->nlv; k++) {
			struct level *l = &it->lv[k];

			if (l->advance && !l->eof) {
				l->advance = false;
				l->i++;
				r = level_settle(it, l, reterr);
				if (r < 0)
					return r;
			}
		}
		for (size_t k = 0; k < it->nlv; k++) {
			struct level *l = &it->lv[k];

			if (l->eof)
				continue;
			if (!win ||
			    snap_key_compare(l->b.v[l->i].key, l->b.v[l->i].key_len,
					     win->b.v[win->i].key, win->b.v[win->i].key_len) < 0)
				win = l;
		}
		if (!win) {
			bool more;

			r = iter_blocks_range(it, &more, reterr);
			if (r < 0)
				return r;
			if (!more)
				it->done = true;
			continue;
		}
		for (size_t k = 0; k < it->nlv; k++) {
			struct level *l = &it->lv[k];

			if (!l->eof &&
			    !snap_key_compare(l->b.v[l->i].key, l->b.v[l->i].key_len,
					      win->b.v[win->i].key, win->b.v[win->i].key_len))
				l->advance = true;
		}
		tomb = win->b.tomb[win->i];
		if (tomb || (it->errors_only && win->b.v[win->i].err == 0))
			continue;
		*ret_entry = &win->b.v[win->i];
		return 1;
	}
	return 0;
}

int snap_iter_new(struct snap_store *st, int64_t snap_id, enum entry_kind kind,
		  const char *const *roots, size_t nroots, unsigned flags,
		  struct snap_iter **ret_iter, struct diag *reterr)
{
	struct snap_iter *it;
	sqlite3_stmt *s = NULL;
	bool all = true;
	const char *sql;
	int rc, r;

	it = calloc(1, sizeof(*it));
	if (!it)
		return diag_set(reterr, -ENOMEM, "out of memory");
	it->st = st;

	/* The snapshot's hash algorithm, which its entries' digests share. */
	it->snap_id = snap_id;
	r = snap_prepare(st, "SELECT hash, label FROM snapshot WHERE id = ?1", &s, reterr);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, snap_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const unsigned char *label = sqlite3_column_text(s, 1);

		it->hash = (enum hash_algo)sqlite3_column_int(s, 0);
		if (label && !(it->label = strdup((const char *)label))) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto fail;
		}
	} else if (rc == SQLITE_DONE) {
		r = diag_set(reterr, -ENOENT, "no snapshot %lld", (long long)snap_id);
		goto fail;
	} else {
		r = snap_sqlite_fail(st, rc, "read a snapshot", reterr);
		goto fail;
	}
	sqlite3_finalize(s);
	s = NULL;

	if (roots && nroots > 0) {
		r = iter_build_ranges(it, roots, nroots, &all, reterr);
		if (r < 0)
			goto fail;
	}
	it->kind = kind;
	it->entry.kind = kind;
	if (!snap_iter_is_legacy(st)) {
		r = iter_blocks_open(it, snap_id, flags, reterr);
		if (r < 0)
			goto fail;
		*ret_iter = it;
		return 0;
	}
	sql = iter_queries[st->schema < 2][(all ? 0 : 2) + (flags & SNAP_ITER_ERRORS_ONLY ? 0 : 1)];
	r = snap_prepare(st, sql, &it->stmt, reterr);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(it->stmt, sqlite3_bind_parameter_index(it->stmt, ":snap"), snap_id);
	sqlite3_bind_int(it->stmt, sqlite3_bind_parameter_index(it->stmt, ":kind"), (int)kind);
	it->entry.kind = kind;
	if (!all && !iter_next_range(it))
		it->done = true; /* cannot happen: a root gives two ranges */

	*ret_iter = it;
	return 0;

fail:
	sqlite3_finalize(s);
	snap_iter_free(it);
	return r;
}

/*
 * -EPROTO for the entry @e (its key read) whose @what is damaged, naming the
 * snapshot and the entry: "snapshot 'baseline': damaged package data for
 * 'hello:amd64'". The key is shown escaped; the message says what a reader
 * needs to find the row (an id where there is no label).
 */
static int iter_damaged(const struct snap_iter *it, const struct entry *e, const char *what,
			struct diag *reterr)
{
	struct strbuf key = STRBUF_INIT;
	int r;

	if (escape_display(&key, e->key, e->key_len) < 0) {
		strbuf_release(&key);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	if (it->label)
		r = diag_set(reterr, -EPROTO, "snapshot '%s': damaged %s for '%s'", it->label, what,
			     key.buf);
	else
		r = diag_set(reterr, -EPROTO, "snapshot #%lld: damaged %s for '%s'",
			     (long long)it->snap_id, what, key.buf);
	strbuf_release(&key);
	return r;
}

/* What the ext column of an entry of @kind holds, for messages. */
static const char *ext_what(enum entry_kind kind)
{
	switch (kind) {
	case ENTRY_FILE:
		return "optional attributes";
	case ENTRY_PACKAGE:
		return "package data";
	default:
		return "properties";
	}
}

/* Point it->entry at the current row. Pointers stay valid until the next
 * step (SQLite keeps the row's blobs in the statement). */
static int iter_fill(struct snap_iter *it, struct diag *reterr)
{
	sqlite3_stmt *s = it->stmt;
	struct entry *e = &it->entry;
	const void *p;
	int n;

	/* The pointer first, then the length (SQLite's documented order). A
	 * zero-length blob gives NULL: hand out "" instead. */
	p = sqlite3_column_blob(s, 0);
	n = sqlite3_column_bytes(s, 0);
	if (!p && n > 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	e->key = p ? p : "";
	e->key_len = (size_t)n;

	e->mode = (uint32_t)sqlite3_column_int64(s, 1);
	e->uid = (uint32_t)sqlite3_column_int64(s, 2);
	e->gid = (uint32_t)sqlite3_column_int64(s, 3);
	e->size = (uint64_t)sqlite3_column_int64(s, 4);
	e->mtime_ns = sqlite3_column_int64(s, 5);
	e->ctime_ns = sqlite3_column_int64(s, 6);
	e->ino = (uint64_t)sqlite3_column_int64(s, 7);
	e->dev = (uint64_t)sqlite3_column_int64(s, 8);
	e->nlink = (uint64_t)sqlite3_column_int64(s, 9);

	if (sqlite3_column_type(s, 10) == SQLITE_NULL) {
		e->target = NULL;
		e->target_len = 0;
	} else {
		p = sqlite3_column_blob(s, 10);
		n = sqlite3_column_bytes(s, 10);
		if (!p && n > 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		e->target = p ? p : "";
		e->target_len = (size_t)n;
	}

	if (sqlite3_column_type(s, 11) == SQLITE_NULL) {
		e->hash_algo = HASH_NONE;
		e->hash_len = 0;
	} else {
		p = sqlite3_column_blob(s, 11);
		n = sqlite3_column_bytes(s, 11);
		if (!p || n <= 0 || n > ENTRY_HASH_MAX || it->hash == HASH_NONE)
			return iter_damaged(it, e, "content hash", reterr);
		e->hash_algo = it->hash;
		e->hash_len = (uint8_t)n;
		memcpy(e->hash, p, (size_t)n);
	}

	e->err = sqlite3_column_int(s, 12);
	e->flags = (uint32_t)sqlite3_column_int64(s, 13);

	/* The optional attributes: pointers into the row, like the key. */
	if (sqlite3_column_type(s, 14) == SQLITE_NULL) {
		snap_ext_clear(e);
	} else {
		p = sqlite3_column_blob(s, 14);
		n = sqlite3_column_bytes(s, 14);
		if (!p && n > 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		if (snap_ext_decode(p, (size_t)n, e) < 0)
			return iter_damaged(it, e, ext_what(e->kind), reterr);
	}
	return 0;
}

int snap_iter_next(struct snap_iter *it, const struct entry **ret_entry, struct diag *reterr)
{
	int rc, r;

	if (it->blocks)
		return iter_blocks_next(it, ret_entry, reterr);
	while (!it->done) {
		rc = sqlite3_step(it->stmt);
		if (rc == SQLITE_ROW) {
			r = iter_fill(it, reterr);
			if (r < 0)
				return r;
			*ret_entry = &it->entry;
			return 1;
		}
		if (rc != SQLITE_DONE)
			return snap_sqlite_fail(it->st, rc, "read entries", reterr);
		if (!iter_next_range(it))
			it->done = true;
	}
	return 0;
}
