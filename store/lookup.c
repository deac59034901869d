/*
 * Point lookups of one snapshot's entries by key, for `drift check
 * --trust-ctime`: each walker thread asks whether the baseline already has
 * the hash of a file whose metadata did not change; and for the entries of
 * system state, with their props. A lookup has its own
 * read-only connection (SQLite connections are not shared between threads
 * here), so workers never wait on each other; the baseline is committed and
 * immutable, and WAL lets these readers run beside the check's writer.
 *
 * The optional attributes and props are decoded in place (ext.c): the
 * entry points into the statement's row, which then stays current (and
 * with it a read transaction) until the next call; a row without them is
 * released at once, as before.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "common/diag.h"
#include "store/internal.h"
#include "common/banned.h"

/* Schema 5: one snapshot of the chain, with the block last read from it. */
struct lk_level {
	int64_t snap;
	bool loaded;
	enum entry_kind kind;
	struct snap_dblock b;
};

struct snap_lookup {
	sqlite3 *db;
	sqlite3_stmt *get;
	int64_t snap_id;
	bool holding; /* the statement holds the row lk->e points into */
	struct entry e;
	/* Schema 5: the chain, nearest first; get finds the block holding a key. */
	bool blocks;
	struct lk_level lv[SNAP_CHAIN_MAX];
	size_t nlv;
};

/* Release the row of the previous call, if it was kept. */
static void lookup_release(struct snap_lookup *lk)
{
	if (!lk->holding)
		return;
	sqlite3_reset(lk->get);
	sqlite3_clear_bindings(lk->get);
	lk->holding = false;
}

void snap_lookup_free(struct snap_lookup *lk)
{
	if (!lk)
		return;
	for (size_t i = 0; i < lk->nlv; i++)
		snap_dblock_release(&lk->lv[i].b);
	sqlite3_finalize(lk->get);
	sqlite3_close(lk->db);
	free(lk);
}

static int lookup_open_blocks(struct snap_lookup *lk, const char *path, struct diag *reterr);

int snap_lookup_open(const char *path, int64_t snap_id, struct snap_lookup **ret_lookup,
		     struct diag *reterr)
{
	static const char sql[] = "SELECT mode, size, mtime, ctime, ino, dev, hash, ext FROM entry"
				  " WHERE snap = ?1 AND kind = ?2 AND key = ?3";
	/* Schema version 1 has no ext column. */
	static const char sql_v1[] = "SELECT mode, size, mtime, ctime, ino, dev, hash, NULL"
				     " FROM entry WHERE snap = ?1 AND kind = ?2 AND key = ?3";
	struct snap_lookup *lk = calloc(1, sizeof(*lk));
	sqlite3_stmt *v = NULL;
	int version = 0;
	int r;

	if (!lk)
		return diag_set(reterr, -ENOMEM, "out of memory");
	lk->snap_id = snap_id;
	if (sqlite3_open_v2(path, &lk->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) ==
		    SQLITE_OK &&
	    sqlite3_prepare_v2(lk->db, "PRAGMA user_version", -1, &v, NULL) == SQLITE_OK &&
	    sqlite3_step(v) == SQLITE_ROW)
		version = sqlite3_column_int(v, 0);
	sqlite3_finalize(v);
	if (version >= 5) {
		sqlite3_busy_timeout(lk->db, 5000);
		r = lookup_open_blocks(lk, path, reterr);
		if (r < 0) {
			snap_lookup_free(lk);
			return r;
		}
		*ret_lookup = lk;
		return 0;
	}
	if (!lk->db || (sqlite3_prepare_v3(lk->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &lk->get,
					   NULL) != SQLITE_OK &&
			sqlite3_prepare_v3(lk->db, sql_v1, -1, SQLITE_PREPARE_PERSISTENT, &lk->get,
					   NULL) != SQLITE_OK)) {
		r = diag_set(reterr, -EIO, "cannot read the baseline in '%s': %s", path,
			     lk->db ? sqlite3_errmsg(lk->db) : "out of memory");
		snap_lookup_free(lk);
		return r;
	}
	sqlite3_busy_timeout(lk->db, 5000);
	*ret_lookup = lk;
	return 0;
}

/* Schema 5: the chain of lk->snap_id, and the block query. */
static int lookup_open_blocks(struct snap_lookup *lk, const char *path, struct diag *reterr)
{
	static const char sql[] = "SELECT data FROM block WHERE snap = ?1 AND kind = ?2 AND"
				  " first <= ?3 ORDER BY first DESC LIMIT 1";
	sqlite3_stmt *s = NULL;
	int64_t id = lk->snap_id;
	int rc;

	if (sqlite3_prepare_v2(lk->db, "SELECT parent FROM snapshot WHERE id = ?1", -1, &s, NULL) !=
	    SQLITE_OK)
		goto fail;
	while (id) {
		if (lk->nlv == SNAP_CHAIN_MAX) {
			sqlite3_finalize(s);
			return diag_set(reterr, -EPROTO,
					"'%s' is damaged (a chain of snapshots too long)", path);
		}
		/* As snap_chain(): a loop or a missing parent is damage, not "absent". */
		for (size_t i = 0; i < lk->nlv; i++)
			if (lk->lv[i].snap == id) {
				sqlite3_finalize(s);
				return diag_set(
					reterr, -EPROTO,
					"'%s' is damaged (snapshot %lld is its own ancestor)", path,
					(long long)id);
			}
		lk->lv[lk->nlv].snap = id;
		snap_dblock_init(&lk->lv[lk->nlv].b);
		lk->nlv++;
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, id);
		rc = sqlite3_step(s);
		if (rc == SQLITE_DONE && lk->nlv > 1) {
			sqlite3_finalize(s);
			return diag_set(reterr, -EPROTO,
					"'%s' is damaged (snapshot %lld is missing)", path,
					(long long)id);
		}
		if (rc != SQLITE_ROW)
			break;
		id = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (sqlite3_prepare_v3(lk->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &lk->get, NULL) !=
	    SQLITE_OK)
		goto fail;
	lk->blocks = true;
	return 0;
fail:
	return diag_set(reterr, -EIO, "cannot read the baseline in '%s': %s", path,
			sqlite3_errmsg(lk->db));
}

static int lookup_get_blocks(struct snap_lookup *lk, enum entry_kind kind, const char *key,
			     size_t len, const struct entry **ret_entry, struct diag *reterr)
{
	for (size_t k = 0; k < lk->nlv; k++) {
		struct lk_level *l = &lk->lv[k];
		const struct entry *last;
		size_t i;

		/* The cached block holds @key when first <= key <= last. */
		last = l->loaded && l->b.n ? &l->b.v[l->b.n - 1] : NULL;
		if (!last || l->kind != kind ||
		    snap_key_compare(l->b.v[0].key, l->b.v[0].key_len, key, len) > 0 ||
		    snap_key_compare(last->key, last->key_len, key, len) < 0) {
			int rc, r = 0;

			l->loaded = false;
			sqlite3_bind_int64(lk->get, 1, l->snap);
			sqlite3_bind_int(lk->get, 2, (int)kind);
			sqlite3_bind_blob(lk->get, 3, key, (int)len, SQLITE_STATIC);
			rc = sqlite3_step(lk->get);
			if (rc == SQLITE_ROW) {
				r = snap_dblock_load(&l->b, sqlite3_column_blob(lk->get, 0),
						     (size_t)sqlite3_column_bytes(lk->get, 0), kind,
						     HASH_NONE);
				l->loaded = r == 0;
				l->kind = kind;
			} else if (rc != SQLITE_DONE) {
				r = -EIO;
			}
			sqlite3_reset(lk->get);
			sqlite3_clear_bindings(lk->get);
			if (r == -ENOMEM)
				return diag_set(reterr, -ENOMEM, "out of memory");
			if (r < 0)
				return diag_set(reterr, r == -EIO ? -EIO : -EPROTO,
						"cannot read the baseline in '%s': %s",
						sqlite3_db_filename(lk->db, "main"),
						r == -EIO ? sqlite3_errmsg(lk->db)
							  : "a damaged block");
			if (!l->loaded)
				continue; /* nothing at or below @key in this snapshot */
		}
		i = snap_dblock_find(&l->b, key, len);
		if (i < l->b.n && !snap_key_compare(l->b.v[i].key, l->b.v[i].key_len, key, len)) {
			if (l->b.tomb[i])
				return 0;
			lk->e = l->b.v[i];
			lk->e.key = key;
			lk->e.hash_algo = HASH_NONE;
			*ret_entry = &lk->e;
			return 1;
		}
	}
	return 0;
}

int snap_lookup_get(struct snap_lookup *lk, enum entry_kind kind, const char *key, size_t len,
		    const struct entry **ret_entry, struct diag *reterr)
{
	struct entry *e = &lk->e;
	const void *hash, *ext;
	int rc, n, r = 0;

	if (lk->blocks)
		return lookup_get_blocks(lk, kind, key, len, ret_entry, reterr);
	lookup_release(lk);
	sqlite3_bind_int64(lk->get, 1, lk->snap_id);
	sqlite3_bind_int(lk->get, 2, (int)kind);
	sqlite3_bind_blob(lk->get, 3, key, (int)len, SQLITE_STATIC);
	rc = sqlite3_step(lk->get);
	if (rc == SQLITE_ROW) {
		memset(e, 0, sizeof(*e));
		e->kind = kind;
		e->key = key;
		e->key_len = len;
		e->mode = (uint32_t)sqlite3_column_int64(lk->get, 0);
		e->size = (uint64_t)sqlite3_column_int64(lk->get, 1);
		e->mtime_ns = sqlite3_column_int64(lk->get, 2);
		e->ctime_ns = sqlite3_column_int64(lk->get, 3);
		e->ino = (uint64_t)sqlite3_column_int64(lk->get, 4);
		e->dev = (uint64_t)sqlite3_column_int64(lk->get, 5);
		hash = sqlite3_column_blob(lk->get, 6);
		n = sqlite3_column_bytes(lk->get, 6);
		if (hash && n > 0 && n <= ENTRY_HASH_MAX) {
			memcpy(e->hash, hash, (size_t)n);
			e->hash_len = (uint8_t)n;
		}
		/* Optional attributes and props: pointers into the row, kept. */
		ext = sqlite3_column_blob(lk->get, 7);
		n = sqlite3_column_bytes(lk->get, 7);
		if (ext && n > 0) {
			if (snap_ext_decode(ext, (size_t)n, e) < 0) {
				r = diag_set(
					reterr, -EPROTO,
					"'%s' is damaged (an entry has malformed optional attributes)",
					sqlite3_db_filename(lk->db, "main"));
				goto out;
			}
			lk->holding = true;
			*ret_entry = e;
			return 1;
		}
		snap_ext_clear(e); /* nothing optional; a device's number unknown */
		*ret_entry = e;
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = diag_set(reterr, -EIO, "cannot read the baseline: %s", sqlite3_errmsg(lk->db));
	}
out:
	sqlite3_reset(lk->get);
	sqlite3_clear_bindings(lk->get);
	return r;
}
