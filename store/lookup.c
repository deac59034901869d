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

struct snap_lookup {
	sqlite3 *db;
	sqlite3_stmt *get;
	int64_t snap_id;
	bool holding; /* the statement holds the row lk->e points into */
	struct entry e;
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
	sqlite3_finalize(lk->get);
	sqlite3_close(lk->db);
	free(lk);
}

int snap_lookup_open(const char *path, int64_t snap_id, struct snap_lookup **ret_lookup,
		     struct diag *reterr)
{
	static const char sql[] = "SELECT mode, size, mtime, ctime, ino, dev, hash, ext FROM entry"
				  " WHERE snap = ?1 AND kind = ?2 AND key = ?3";
	/* Schema version 1 has no ext column. */
	static const char sql_v1[] = "SELECT mode, size, mtime, ctime, ino, dev, hash, NULL"
				     " FROM entry WHERE snap = ?1 AND kind = ?2 AND key = ?3";
	struct snap_lookup *lk = calloc(1, sizeof(*lk));
	int r;

	if (!lk)
		return -ENOMEM;
	lk->snap_id = snap_id;
	if (sqlite3_open_v2(path, &lk->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
		    SQLITE_OK ||
	    (sqlite3_prepare_v3(lk->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &lk->get, NULL) !=
		     SQLITE_OK &&
	     sqlite3_prepare_v3(lk->db, sql_v1, -1, SQLITE_PREPARE_PERSISTENT, &lk->get, NULL) !=
		     SQLITE_OK)) {
		r = diag_set(reterr, -EIO, "cannot read the baseline in '%s': %s", path,
			     lk->db ? sqlite3_errmsg(lk->db) : "out of memory");
		snap_lookup_free(lk);
		return r;
	}
	sqlite3_busy_timeout(lk->db, 5000);
	*ret_lookup = lk;
	return 0;
}

int snap_lookup_get(struct snap_lookup *lk, enum entry_kind kind, const char *key, size_t len,
		    const struct entry **ret_entry, struct diag *reterr)
{
	struct entry *e = &lk->e;
	const void *hash, *ext;
	int rc, n, r = 0;

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
