/*
 * Entries packed into blocks (schema version 5).
 *
 * A row per entry cost 150 bytes on /usr: a 68-byte path repeated in full
 * (SQLite does not compress keys), sixteen column headers, 8-byte times.
 * Here a snapshot's entries of one kind are cut, in key order, into blocks
 * of up to BLOCK_MAX_ENTRIES entries (or BLOCK_MAX_RAW bytes); one row of
 * the `block` table holds one block: (snap, kind, first key) as the
 * primary key, so a block is found by the last `first` at or below a key,
 * and the blob. Inside a block:
 *
 *     block   := codec:u8  raw_len:varint  body      (codec 0: body is raw,
 *                                                     1: zstd of raw)
 *     raw     := record*
 *     record  := tag:u8  shared:varint  suffix_len:varint  suffix
 *                [ mode uid gid size:varint  dmtime dctime dino:zigzag
 *                  dev nlink:varint  err:zigzag  flags:varint
 *                  [target_len:varint target]  [hash_len:u8 hash]
 *                  [ext_len:varint ext] ]                (not for a tombstone)
 *
 * Keys are front-coded (@shared bytes of the previous key, then the
 * suffix); mtime, ctime and the inode number are deltas from the previous
 * record (files of one package share their times; inodes of one directory
 * are close), zigzag-encoded; everything else is a LEB128 varint. The tag
 * says which optional parts follow: REC_TOMB (a tombstone: the key is gone
 * in this delta snapshot), REC_TARGET, REC_HASH, REC_EXT. `ext` is the
 * optional-attribute blob of ext.c, as the old `ext` column held it.
 *
 * The same record encoding, with no previous record (shared 0, absolute
 * values), is the sorter's loose record (writer.c) and the canonical form
 * the delta writer compares entries by: two entries are the same when
 * their canonical records are the same bytes.
 */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "common/diag.h"
#include "common/banned.h"

enum {
	REC_TOMB = 1 << 0,
	REC_TARGET = 1 << 1,
	REC_HASH = 1 << 2,
	REC_EXT = 1 << 3,
};

enum { CODEC_RAW = 0, CODEC_ZSTD = 1 };

/* zstd's fastest level: blocks are compressed on the writer's thread. */
#define BLOCK_ZSTD_LEVEL 1

static int put_varint(struct strbuf *out, uint64_t v)
{
	char b[10];
	size_t n = 0;

	do {
		b[n] = (char)(v & 0x7f);
		v >>= 7;
		if (v)
			b[n] |= (char)0x80;
		n++;
	} while (v);
	return strbuf_add(out, b, n);
}

static bool get_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *ret)
{
	uint64_t v = 0;

	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;

		if (*pos >= len)
			return false;
		c = p[(*pos)++];
		v |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*ret = v;
			return true;
		}
	}
	return false;
}

static uint64_t zigzag(uint64_t delta)
{
	/* Two's complement wrap: exact for any pair of 64-bit values. */
	return (delta << 1) ^ (uint64_t) - (int64_t)(delta >> 63);
}

static uint64_t unzigzag(uint64_t z)
{
	return (z >> 1) ^ (uint64_t) - (int64_t)(z & 1);
}

void snap_rec_prev_reset(struct snap_rec_prev *pv)
{
	pv->key_len = 0;
	pv->mtime = pv->ctime = 0;
	pv->ino = 0;
}

/* A varint into @p (room for 10 bytes); returns the bytes written. */
static size_t varint_to(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

int snap_rec_encode(struct strbuf *out, const struct entry *e, bool tomb, struct snap_rec_prev *pv,
		    struct strbuf *ext)
{
	/* The fixed part (tag, lengths, eleven numbers) at most 14 varints. */
	uint8_t head[1 + 13 * 10], *q = head;
	size_t shared = 0;
	unsigned tag = tomb ? REC_TOMB : 0;

	if (pv) {
		size_t n = pv->key_len < e->key_len ? pv->key_len : e->key_len;

		while (shared < n && pv->key.buf[shared] == e->key[shared])
			shared++;
	}
	if (!tomb) {
		if (snap_ext_encode(ext, e) < 0)
			return -ENOMEM;
		if (e->target)
			tag |= REC_TARGET;
		if (e->hash_algo != HASH_NONE && e->hash_len)
			tag |= REC_HASH;
		if (ext->len)
			tag |= REC_EXT;
	}
	*q++ = (uint8_t)tag;
	q += varint_to(q, shared);
	q += varint_to(q, e->key_len - shared);
	if (strbuf_grow(out, (size_t)(q - head) + (e->key_len - shared) + 11 * 10 + 10 +
				     e->target_len + 1 + ENTRY_HASH_MAX + 10 + ext->len) < 0)
		return -ENOMEM;
	/* Room is reserved: the adds below do not fail. */
	strbuf_add(out, head, (size_t)(q - head));
	if (e->key_len > shared) /* an empty key may be NULL */
		strbuf_add(out, e->key + shared, e->key_len - shared);
	if (!tomb) {
		uint64_t pm = pv ? (uint64_t)pv->mtime : 0, pc = pv ? (uint64_t)pv->ctime : 0;
		uint64_t pi = pv ? pv->ino : 0;

		q = head;
		q += varint_to(q, e->mode);
		q += varint_to(q, e->uid);
		q += varint_to(q, e->gid);
		q += varint_to(q, e->size);
		q += varint_to(q, zigzag((uint64_t)e->mtime_ns - pm));
		q += varint_to(q, zigzag((uint64_t)e->ctime_ns - pc));
		q += varint_to(q, zigzag(e->ino - pi));
		q += varint_to(q, e->dev);
		q += varint_to(q, e->nlink);
		q += varint_to(q, zigzag((uint64_t)(int64_t)e->err));
		q += varint_to(q, e->flags);
		if (tag & REC_TARGET)
			q += varint_to(q, e->target_len);
		strbuf_add(out, head, (size_t)(q - head));
		if (tag & REC_TARGET)
			strbuf_add(out, e->target, e->target_len);
		if (tag & REC_HASH) {
			strbuf_addch(out, (char)e->hash_len);
			strbuf_add(out, e->hash, e->hash_len);
		}
		if (tag & REC_EXT) {
			q = head;
			q += varint_to(q, ext->len);
			strbuf_add(out, head, (size_t)(q - head));
			strbuf_add(out, ext->buf, ext->len);
		}
	}
	if (pv) {
		strbuf_setlen(&pv->key, shared);
		if (e->key_len > shared &&
		    strbuf_add(&pv->key, e->key + shared, e->key_len - shared) < 0)
			return -ENOMEM;
		pv->key_len = e->key_len;
		if (!tomb) {
			pv->mtime = e->mtime_ns;
			pv->ctime = e->ctime_ns;
			pv->ino = e->ino;
		}
	}
	return 0;
}

int snap_rec_decode(const uint8_t *p, size_t len, size_t *pos, struct snap_rec_prev *pv,
		    struct entry *e, bool *ret_tomb, size_t *ret_key_off)
{
	uint64_t shared, slen, v[11], n;
	unsigned tag;

	if (*pos >= len)
		return -EPROTO;
	tag = p[(*pos)++];
	if (tag & ~(unsigned)(REC_TOMB | REC_TARGET | REC_HASH | REC_EXT))
		return -EPROTO;
	if (!get_varint(p, len, pos, &shared) || !get_varint(p, len, pos, &slen) ||
	    shared > pv->key_len || slen > len - *pos)
		return -EPROTO;
	strbuf_setlen(&pv->key, (size_t)shared);
	if (strbuf_add(&pv->key, p + *pos, (size_t)slen) < 0)
		return -ENOMEM;
	*pos += (size_t)slen;
	pv->key_len = (size_t)(shared + slen);
	if (ret_key_off)
		*ret_key_off = 0;
	*ret_tomb = tag & REC_TOMB;
	e->key_len = pv->key_len;
	if (tag & REC_TOMB)
		return 0;

	for (int i = 0; i < 11; i++)
		if (!get_varint(p, len, pos, &v[i]))
			return -EPROTO;
	e->mode = (uint32_t)v[0];
	e->uid = (uint32_t)v[1];
	e->gid = (uint32_t)v[2];
	e->size = v[3];
	e->mtime_ns = (int64_t)((uint64_t)pv->mtime + unzigzag(v[4]));
	e->ctime_ns = (int64_t)((uint64_t)pv->ctime + unzigzag(v[5]));
	e->ino = pv->ino + unzigzag(v[6]);
	e->dev = v[7];
	e->nlink = v[8];
	e->err = (int)(int64_t)unzigzag(v[9]);
	e->flags = (uint32_t)v[10];
	pv->mtime = e->mtime_ns;
	pv->ctime = e->ctime_ns;
	pv->ino = e->ino;

	e->target = NULL;
	e->target_len = 0;
	if (tag & REC_TARGET) {
		if (!get_varint(p, len, pos, &n) || n > len - *pos)
			return -EPROTO;
		e->target = (const char *)p + *pos;
		e->target_len = (size_t)n;
		*pos += (size_t)n;
	}
	e->hash_len = 0;
	if (tag & REC_HASH) {
		if (*pos >= len)
			return -EPROTO;
		n = p[(*pos)++];
		if (n == 0 || n > ENTRY_HASH_MAX || n > len - *pos)
			return -EPROTO;
		memcpy(e->hash, p + *pos, (size_t)n);
		e->hash_len = (uint8_t)n;
		*pos += (size_t)n;
	}
	if (tag & REC_EXT) {
		if (!get_varint(p, len, pos, &n) || n > len - *pos)
			return -EPROTO;
		if (snap_ext_decode(p + *pos, (size_t)n, e) < 0)
			return -EBADMSG; /* the record is sound, its attributes are not */
		*pos += (size_t)n;
	} else {
		snap_ext_clear(e);
	}
	return 0;
}

/* ---- building blocks ---- */

void snap_bw_init(struct snap_bw *bw)
{
	memset(bw, 0, sizeof(*bw));
	strbuf_init(&bw->raw);
	strbuf_init(&bw->first);
	strbuf_init(&bw->out);
	strbuf_init(&bw->ext);
	strbuf_init(&bw->prev.key);
}

void snap_bw_release(struct snap_bw *bw)
{
	strbuf_release(&bw->raw);
	strbuf_release(&bw->first);
	strbuf_release(&bw->out);
	strbuf_release(&bw->ext);
	strbuf_release(&bw->prev.key);
	sqlite3_finalize(bw->insert);
	ZSTD_freeCCtx(bw->cctx);
	bw->insert = NULL;
	bw->cctx = NULL;
}

/*
 * DRIFT_TEST_RAW_BLOCKS (a test seam, like DRIFT_TEST_FD_BUDGET): store
 * blocks uncompressed, so that the end-to-end tests can read and forge
 * entries with Python's sqlite3 alone (tests/e2e/blocks.py), as someone
 * editing the database would.
 */
static bool raw_blocks(void)
{
	static int raw = -1;

	if (raw < 0)
		raw = getenv("DRIFT_TEST_RAW_BLOCKS") != NULL;
	return raw;
}

int snap_bw_flush(struct snap_store *st, struct snap_bw *bw, struct diag *reterr)
{
	const char *body = bw->raw.buf;
	size_t body_len = bw->raw.len;
	int rc, r;

	if (bw->n == 0)
		return 0;
	if (raw_blocks()) {
		strbuf_reset(&bw->out);
		if (strbuf_addch(&bw->out, CODEC_RAW) < 0 ||
		    put_varint(&bw->out, bw->raw.len) < 0 ||
		    strbuf_add(&bw->out, bw->raw.buf, bw->raw.len) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		body = bw->out.buf;
		body_len = bw->out.len;
		goto insert;
	}
	strbuf_reset(&bw->out);
	if (strbuf_addch(&bw->out, CODEC_ZSTD) < 0 || put_varint(&bw->out, bw->raw.len) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	if (!bw->cctx && !(bw->cctx = ZSTD_createCCtx()))
		return diag_set(reterr, -ENOMEM, "out of memory");
	{
		size_t hdr = bw->out.len, bound = ZSTD_compressBound(bw->raw.len), z;

		if (strbuf_grow(&bw->out, bound) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
		z = ZSTD_compressCCtx(bw->cctx, bw->out.buf + hdr, bound, bw->raw.buf, bw->raw.len,
				      BLOCK_ZSTD_LEVEL);
		if (!ZSTD_isError(z) && z < bw->raw.len) {
			strbuf_setlen(&bw->out, hdr + z);
			body = bw->out.buf;
			body_len = bw->out.len;
		} else {
			/* Incompressible: raw. */
			strbuf_reset(&bw->out);
			if (strbuf_addch(&bw->out, CODEC_RAW) < 0 ||
			    put_varint(&bw->out, bw->raw.len) < 0 ||
			    strbuf_add(&bw->out, bw->raw.buf, bw->raw.len) < 0)
				return diag_set(reterr, -ENOMEM, "out of memory");
			body = bw->out.buf;
			body_len = bw->out.len;
		}
	}
insert:
	if (body_len > INT_MAX || bw->first.len > INT_MAX)
		return diag_set(reterr, -EINVAL, "block too large");
	if (!bw->insert) {
		r = snap_prepare(
			st,
			"INSERT INTO block (snap, kind, first, n, data) VALUES (?1, ?2, ?3,"
			" ?4, ?5)",
			&bw->insert, reterr);
		if (r < 0)
			return r;
	}
	sqlite3_bind_int64(bw->insert, 1, bw->snap);
	sqlite3_bind_int(bw->insert, 2, (int)bw->kind);
	sqlite3_bind_blob(bw->insert, 3, bw->first.buf, (int)bw->first.len, SQLITE_STATIC);
	sqlite3_bind_int(bw->insert, 4, (int)bw->n);
	sqlite3_bind_blob(bw->insert, 5, body, (int)body_len, SQLITE_STATIC);
	rc = sqlite3_step(bw->insert);
	sqlite3_reset(bw->insert);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return diag_set(reterr, -EINVAL, "duplicate %s key in snapshot %lld",
					entry_kind_name(bw->kind), (long long)bw->snap);
		return snap_sqlite_fail(st, rc, "add entries", reterr);
	}
	bw->blocks++;
	bw->bytes += body_len;
	bw->n = 0;
	strbuf_reset(&bw->raw);
	snap_rec_prev_reset(&bw->prev);
	return 0;
}

int snap_bw_put(struct snap_store *st, struct snap_bw *bw, const struct entry *e, bool tomb,
		struct diag *reterr)
{
	int r;

	if (bw->n && (e->kind != bw->kind || bw->n >= SNAP_BLOCK_MAX_ENTRIES ||
		      bw->raw.len >= SNAP_BLOCK_MAX_RAW)) {
		r = snap_bw_flush(st, bw, reterr);
		if (r < 0)
			return r;
	}
	if (bw->n == 0) {
		bw->kind = e->kind;
		strbuf_reset(&bw->first);
		if (strbuf_add(&bw->first, e->key, e->key_len) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
	}
	if (snap_rec_encode(&bw->raw, e, tomb, &bw->prev, &bw->ext) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	bw->n++;
	bw->entries += !tomb;
	bw->tombs += tomb;
	return 0;
}

/* ---- reading blocks ---- */

void snap_dblock_init(struct snap_dblock *b)
{
	memset(b, 0, sizeof(*b));
	strbuf_init(&b->raw);
	strbuf_init(&b->keys);
	strbuf_init(&b->prev.key);
}

void snap_dblock_release(struct snap_dblock *b)
{
	strbuf_release(&b->raw);
	strbuf_release(&b->keys);
	strbuf_release(&b->prev.key);
	free(b->v);
	free(b->koff);
	free(b->tomb);
	ZSTD_freeDCtx(b->dctx);
	memset(b, 0, sizeof(*b));
}

int snap_dblock_load(struct snap_dblock *b, const void *blob, size_t len, enum entry_kind kind,
		     enum hash_algo algo)
{
	const uint8_t *p = blob;
	size_t pos = 0;
	uint64_t raw_len;
	int r;

	b->n = 0;
	if (!p || len < 1)
		return -EPROTO;
	pos = 1;
	if (!get_varint(p, len, &pos, &raw_len) || raw_len > 64 * SNAP_BLOCK_MAX_RAW)
		return -EPROTO;
	strbuf_reset(&b->raw);
	if (p[0] == CODEC_RAW) {
		if (raw_len != len - pos || strbuf_add(&b->raw, p + pos, len - pos) < 0)
			return raw_len != len - pos ? -EPROTO : -ENOMEM;
	} else if (p[0] == CODEC_ZSTD) {
		size_t z;

		if (!b->dctx && !(b->dctx = ZSTD_createDCtx()))
			return -ENOMEM;
		if (strbuf_grow(&b->raw, (size_t)raw_len + 1) < 0)
			return -ENOMEM;
		z = ZSTD_decompressDCtx(b->dctx, b->raw.buf, (size_t)raw_len, p + pos, len - pos);
		if (ZSTD_isError(z) || z != raw_len)
			return -EPROTO;
		strbuf_setlen(&b->raw, (size_t)raw_len);
	} else {
		return -EPROTO;
	}

	strbuf_reset(&b->keys);
	snap_rec_prev_reset(&b->prev);
	pos = 0;
	while (pos < b->raw.len) {
		struct entry *e;
		bool tomb;

		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 64;
			struct entry *v = realloc(b->v, cap * sizeof(*v));
			size_t *ko;

			if (!v)
				return -ENOMEM;
			b->v = v;
			ko = realloc(b->koff, cap * sizeof(*ko));
			if (!ko)
				return -ENOMEM;
			b->koff = ko;
			bool *t = realloc(b->tomb, cap * sizeof(*t));
			if (!t)
				return -ENOMEM;
			b->tomb = t;
			b->cap = cap;
		}
		e = &b->v[b->n];
		memset(e, 0, sizeof(*e));
		e->kind = kind;
		r = snap_rec_decode((const uint8_t *)b->raw.buf, b->raw.len, &pos, &b->prev, e,
				    &tomb, NULL);
		if (r < 0)
			return r;
		if (e->hash_len)
			e->hash_algo = algo;
		b->koff[b->n] = b->keys.len;
		/* NUL-terminated, as SQLite's copies were: some readers print them. */
		if (strbuf_add(&b->keys, b->prev.key.buf, b->prev.key_len) < 0 ||
		    strbuf_addch(&b->keys, '\0') < 0)
			return -ENOMEM;
		b->tomb[b->n] = tomb;
		b->n++;
	}
	/* Keys last: the key buffer may have moved while it grew. */
	for (size_t i = 0; i < b->n; i++)
		b->v[i].key = b->keys.buf + b->koff[i];
	for (size_t i = 1; i < b->n; i++)
		if (snap_key_compare(b->v[i - 1].key, b->v[i - 1].key_len, b->v[i].key,
				     b->v[i].key_len) >= 0)
			return -EPROTO;
	return 0;
}

size_t snap_dblock_find(const struct snap_dblock *b, const char *key, size_t len)
{
	size_t lo = 0, hi = b->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (snap_key_compare(b->v[mid].key, b->v[mid].key_len, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
