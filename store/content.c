/*
 * Kept content: the bytes of small files that rules with `keep_content`
 * keep, so that a report can show a diff and `drift show` the old bytes.
 *
 * Design:
 *   - content-addressed: `content` (id, size, codec, data) WITHOUT ROWID,
 *     id = SHA-256 of the bytes. An unchanged file costs nothing the second
 *     time: the writer looks the id up and compresses and inserts only what
 *     is new. An entry refers to its content by id (entry->content_id,
 *     stored in its ext blob, store/ext.c), so a snapshot that inherits an
 *     entry inherits the reference;
 *   - `content_ref` (snap, id) records which snapshot wrote which
 *     reference. snapshot_delete() (writer.c) deletes a snapshot's rows;
 *     snap_content_collect(), run where snapshots are deleted or pruned,
 *     deletes the rows of snapshots that are gone, then the content no row
 *     references;
 *   - each blob compressed on its own with zstd level 9 (codec 1), or
 *     stored as is (codec 0) when that is not smaller. Measured on this
 *     machine's /etc (641 regular files <= 64 KiB, 1,257,709 bytes raw,
 *     each file compressed separately, as stored):
 *         zstd -1 498,639 (39.6%)  8 ms     zlib -1 500,239 (39.8%) 19 ms
 *         zstd -3 490,053 (39.0%) 10 ms     zlib -6 468,563 (37.3%) 29 ms
 *         zstd -9 472,978 (37.6%) 33 ms     zlib -9 467,944 (37.2%) 40 ms
 *         zstd -19 464,156 (36.9%) 415 ms
 *     decompressing all of it: zstd 3 ms, zlib 6 ms. zstd -9 is within 1%
 *     of the best sizes for a fraction of the time; only new content is
 *     ever compressed, so the level costs once per distinct file version;
 *   - reading verifies the SHA-256 of the decompressed bytes: a damaged or
 *     forged blob is an error (-EPROTO), never shown as the file's content.
 *
 * Statements are prepared per call: kept content is a few hundred files
 * per snapshot, and the writer's struct (internal.h) stays as it is.
 */
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <zstd.h>

#include "common/diag.h"
#include "store/internal.h"
#include "common/banned.h"

/* The codecs of content.codec; stored, never renumber. */
enum content_codec {
	CODEC_RAW = 0,
	CODEC_ZSTD = 1,
};

#define CONTENT_ZSTD_LEVEL 9

const char *const schema_content_tables[] = {
	"CREATE TABLE %s.content (id BLOB PRIMARY KEY, size INTEGER NOT NULL,"
	" codec INTEGER NOT NULL, data BLOB NOT NULL) WITHOUT ROWID",
	"CREATE TABLE %s.content_ref (snap INTEGER NOT NULL, id BLOB NOT NULL,"
	" PRIMARY KEY (snap, id)) WITHOUT ROWID",
	/* For the collection: is this id referenced at all? */
	"CREATE INDEX %s.content_ref_id ON content_ref (id)",
};
const size_t schema_ncontent_tables =
	sizeof(schema_content_tables) / sizeof(schema_content_tables[0]);

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	unsigned int len = 0;

	if (!EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) || len != 32)
		return -EIO;
	return 0;
}

/* Step @s to its end (no row expected); -errno like snap_sqlite_fail(). */
static int step_done(struct snap_store *st, sqlite3_stmt *s, const char *what, struct diag *reterr)
{
	int rc = sqlite3_step(s);

	if (rc != SQLITE_DONE)
		return snap_sqlite_fail(st, rc, what, reterr);
	return 0;
}

/* Whether content @id is stored: 1, 0, or -errno. */
static int content_exists(struct snap_store *st, const uint8_t id[32], struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int r, rc;

	r = snap_prepare(st, "SELECT 1 FROM content WHERE id = ?1", &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_blob(s, 1, id, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = snap_sqlite_fail(st, rc, "look up content", reterr);
	sqlite3_finalize(s);
	return r;
}

static int content_insert(struct snap_store *st, const uint8_t id[32], const uint8_t *bytes,
			  size_t len, struct diag *reterr)
{
	size_t bound = ZSTD_compressBound(len), clen;
	enum content_codec codec = CODEC_ZSTD;
	const void *data;
	sqlite3_stmt *s = NULL;
	void *buf;
	int r;

	buf = malloc(bound ? bound : 1);
	if (!buf)
		return diag_set(reterr, -ENOMEM, "out of memory");
	clen = ZSTD_compress(buf, bound, bytes, len, CONTENT_ZSTD_LEVEL);
	if (ZSTD_isError(clen) || clen >= len) {
		/* Incompressible (or tiny): as is. */
		codec = CODEC_RAW;
		data = bytes;
		clen = len;
	} else {
		data = buf;
	}
	r = snap_prepare(
		st, "INSERT OR IGNORE INTO content (id, size, codec, data) VALUES (?1, ?2, ?3, ?4)",
		&s, reterr);
	if (r == 0) {
		sqlite3_bind_blob(s, 1, id, 32, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)len);
		sqlite3_bind_int(s, 3, codec);
		/* A zero-length blob, not NULL, for an empty file. */
		sqlite3_bind_blob(s, 4, clen ? data : "", (int)clen, SQLITE_STATIC);
		r = step_done(st, s, "store content", reterr);
	}
	sqlite3_finalize(s);
	free(buf);
	return r;
}

/* Record that the writer's snapshot refers to content @id. */
static int content_ref(struct snap_writer *w, const uint8_t id[32], struct diag *reterr)
{
	struct snap_store *st = w->st;
	sqlite3_stmt *s = NULL;
	int r;

	r = snap_prepare(st, "INSERT OR IGNORE INTO content_ref (snap, id) VALUES (?1, ?2)", &s,
			 reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, w->id);
	sqlite3_bind_blob(s, 2, id, 32, SQLITE_STATIC);
	r = step_done(st, s, "store content", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_writer_add_content(struct snap_writer *w, const uint8_t *bytes, size_t len,
			    uint8_t ret_id[32], struct diag *reterr)
{
	struct snap_store *st = w->st;
	uint8_t id[32];
	int r;

	if (!w->in_tx || w->finished)
		return diag_set(reterr, -EINVAL, "no snapshot is being written");
	if (len > INT_MAX || (!bytes && len))
		return diag_set(reterr, -EINVAL, "content of %zu bytes cannot be stored", len);
	if (sha256(len ? bytes : (const uint8_t *)"", len, id) < 0)
		return diag_set(reterr, -EIO, "cannot compute SHA-256: OpenSSL failed");

	r = content_exists(st, id, reterr);
	if (r == 0)
		r = content_insert(st, id, len ? bytes : (const uint8_t *)"", len, reterr);
	if (r < 0)
		return r;
	r = content_ref(w, id, reterr);
	if (r < 0)
		return r;
	memcpy(ret_id, id, 32);
	return 0;
}

int snap_writer_ref_content(struct snap_writer *w, const uint8_t id[32], struct diag *reterr)
{
	int r;

	if (!w->in_tx || w->finished)
		return diag_set(reterr, -EINVAL, "no snapshot is being written");
	r = content_exists(w->st, id, reterr);
	if (r == 0)
		return diag_set(reterr, -ENOENT, "no such content in '%s'", w->st->path);
	if (r < 0)
		return r;
	return content_ref(w, id, reterr);
}

int snap_content_get(struct snap_store *st, const uint8_t id[32], uint8_t **ret_bytes,
		     size_t *ret_len, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	uint8_t *out = NULL, check[32];
	const void *data;
	int64_t size, codec;
	size_t dlen;
	int r, rc;

	if (st->schema < 5)
		return diag_set(reterr, -ENOENT, "the database keeps no content (schema %d)",
				st->schema);
	r = snap_prepare(st, "SELECT size, codec, data FROM content WHERE id = ?1", &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_blob(s, 1, id, 32, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		r = diag_set(reterr, -ENOENT, "no such content in '%s'", st->path);
		goto out;
	}
	if (rc != SQLITE_ROW) {
		r = snap_sqlite_fail(st, rc, "read content", reterr);
		goto out;
	}
	size = sqlite3_column_int64(s, 0);
	codec = sqlite3_column_int64(s, 1);
	data = sqlite3_column_blob(s, 2);
	dlen = (size_t)sqlite3_column_bytes(s, 2);
	if (size < 0 || size > INT_MAX || (!data && dlen)) {
		r = diag_set(reterr, -EPROTO, "damaged content row in '%s'", st->path);
		goto out;
	}
	out = malloc(size ? (size_t)size : 1);
	if (!out) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (codec == CODEC_RAW && dlen == (size_t)size) {
		if (dlen)
			memcpy(out, data, dlen);
	} else if (codec == CODEC_ZSTD) {
		size_t n = ZSTD_decompress(out, (size_t)size, data, dlen);

		if (ZSTD_isError(n) || n != (size_t)size) {
			r = diag_set(reterr, -EPROTO, "damaged content in '%s': %s", st->path,
				     ZSTD_isError(n) ? ZSTD_getErrorName(n) : "wrong size");
			goto out;
		}
	} else {
		r = diag_set(reterr, -EPROTO, "content in '%s' has an unknown codec %lld", st->path,
			     (long long)codec);
		goto out;
	}
	if (sha256(out, (size_t)size, check) < 0) {
		r = diag_set(reterr, -EIO, "cannot compute SHA-256: OpenSSL failed");
		goto out;
	}
	if (memcmp(check, id, 32) != 0) {
		r = diag_set(reterr, -EPROTO, "damaged content in '%s': its SHA-256 does not match",
			     st->path);
		goto out;
	}
	*ret_bytes = out;
	*ret_len = (size_t)size;
	out = NULL;
	r = 0;
out:
	free(out);
	sqlite3_finalize(s);
	return r;
}

int snap_content_collect(struct snap_store *st, uint64_t *ret_freed, struct diag *reterr)
{
	int64_t freed;
	int r;

	if (st->schema < 5) {
		if (ret_freed)
			*ret_freed = 0;
		return 0;
	}
	/* References of snapshots deleted or pruned without snapshot_delete(). */
	r = snap_exec(st, "DELETE FROM content_ref WHERE snap NOT IN (SELECT id FROM snapshot)",
		      "collect content", reterr);
	if (r < 0)
		return r;
	r = snap_exec(st,
		      "DELETE FROM content WHERE NOT EXISTS"
		      " (SELECT 1 FROM content_ref r WHERE r.id = content.id)",
		      "collect content", reterr);
	if (r < 0)
		return r;
	freed = sqlite3_changes64(st->db);
	if (ret_freed)
		*ret_freed = (uint64_t)freed;
	return 0;
}
