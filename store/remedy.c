/*
 * The remediation journal (schema version 7): see store.h. remedy/ decides
 * what to do and does it; this file only keeps the record, one synced
 * transaction per write, so that what a crash interrupts is known.
 */
#include "store/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define REMEDY_COLS                                                                         \
	"r.id, r.run, r.baseline, r.who, r.started, r.finished, r.automatic, r.quarantine," \
	" r.planned, r.undone_at, r.undone_by,"                                             \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 0),"    \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 1),"    \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 2),"    \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 3),"    \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 4),"    \
	" (SELECT count(*) FROM remedy_action a WHERE a.remedy = r.id AND a.state = 5)"
#define ACTION_COLS "seq, kind, key, action, state, detail, pre, bytes, post, error"

static int64_t remedy_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int remedy_supported(struct snap_store *st, bool write, struct diag *reterr)
{
	if (st->schema < 7)
		return diag_set(reterr, -EPROTO,
				"'%s' predates remediation (schema %d): open it for writing once "
				"to upgrade it",
				st->path, st->schema);
	if (write && !st->writable)
		return diag_set(reterr, -EROFS, "'%s' is open read-only", st->path);
	return 0;
}

/* Step @s to its end and reset it; a store error as a message. */
static int remedy_step(struct snap_store *st, sqlite3_stmt *s, const char *what,
		       struct diag *reterr)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return snap_sqlite_fail(st, rc, what, reterr);
	return 0;
}

static void bind_blob_or_null(sqlite3_stmt *s, int col, const void *p, size_t len)
{
	if (p)
		sqlite3_bind_blob64(s, col, len ? p : "", len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

int snap_store_set_durable(struct snap_store *st, struct diag *reterr)
{
	return snap_exec(st, "PRAGMA synchronous = FULL", "make writes durable", reterr);
}

void snap_remedy_release(struct snap_remedy *r)
{
	if (!r)
		return;
	free(r->who);
	free(r->quarantine);
	free(r->undone_by);
	memset(r, 0, sizeof(*r));
}

static int action_put(struct snap_store *st, int64_t id, const struct snap_remedy_action *a,
		      struct diag *reterr);

int snap_remedy_begin(struct snap_store *st, int64_t run, int64_t baseline, const char *who,
		      bool automatic, const char *quarantine,
		      const struct snap_remedy_action *actions, size_t n, int64_t *ret_id,
		      struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int r;

	r = remedy_supported(st, true, reterr);
	if (r < 0)
		return r;
	r = snap_exec(st, "BEGIN IMMEDIATE", "record the remediation", reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st,
			 "INSERT INTO remedy (run, baseline, who, started, automatic, quarantine,"
			 " planned) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			 &s, reterr);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, run);
	sqlite3_bind_int64(s, 2, baseline);
	sqlite3_bind_text(s, 3, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, remedy_now_ns());
	sqlite3_bind_int(s, 5, automatic);
	sqlite3_bind_text(s, 6, quarantine, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (sqlite3_int64)n);
	r = remedy_step(st, s, "record the remediation", reterr);
	sqlite3_finalize(s);
	if (r < 0)
		goto fail;
	*ret_id = sqlite3_last_insert_rowid(st->db);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = action_put(st, *ret_id, &actions[i], reterr);
	if (r >= 0)
		r = snap_commit(st, "record the remediation", reterr);
	if (r >= 0)
		return 0;
fail:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/*
 * A write outside the caller's transaction gets one of its own, so that its
 * seal (store/seal.c) commits with it.
 */
static int own_begin(struct snap_store *st, bool *ret_own, struct diag *reterr)
{
	int r = remedy_supported(st, true, reterr);

	*ret_own = false;
	if (r < 0)
		return r;
	*ret_own = sqlite3_get_autocommit(st->db);
	return *ret_own ? snap_exec(st, "BEGIN IMMEDIATE", "record the remediation", reterr) : 0;
}

static int own_end(struct snap_store *st, bool own, int r, struct diag *reterr)
{
	if (!own)
		return r;
	if (r >= 0)
		r = snap_commit(st, "record the remediation", reterr);
	if (r < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static int action_put(struct snap_store *st, int64_t id, const struct snap_remedy_action *a,
		      struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int r;

	r = snap_prepare(st,
			 "INSERT OR REPLACE INTO remedy_action (remedy, " ACTION_COLS
			 ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, a->seq);
	sqlite3_bind_int(s, 3, (int)a->kind);
	sqlite3_bind_blob64(s, 4, a->key_len ? a->key : "", a->key_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, (int)a->action);
	sqlite3_bind_int(s, 6, (int)a->state);
	if (a->detail)
		sqlite3_bind_text(s, 7, a->detail, -1, SQLITE_STATIC);
	bind_blob_or_null(s, 8, a->pre, a->pre_len);
	bind_blob_or_null(s, 9, a->bytes, a->bytes_len);
	bind_blob_or_null(s, 10, a->post, a->post_len);
	if (a->error)
		sqlite3_bind_text(s, 11, a->error, -1, SQLITE_STATIC);
	r = remedy_step(st, s, "record a remediation action", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_remedy_action_put(struct snap_store *st, int64_t id, const struct snap_remedy_action *a,
			   struct diag *reterr)
{
	bool own = false;
	int r = own_begin(st, &own, reterr);

	if (r < 0)
		return r;
	return own_end(st, own, action_put(st, id, a, reterr), reterr);
}

static int remedy_update(struct snap_store *st, const char *sql, int64_t id, const char *who,
			 struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	bool own = false;
	int r;

	r = own_begin(st, &own, reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st, sql, &s, reterr);
	if (r >= 0) {
		sqlite3_bind_int64(s, 1, id);
		sqlite3_bind_int64(s, 2, remedy_now_ns());
		if (who)
			sqlite3_bind_text(s, 3, who, -1, SQLITE_STATIC);
		r = remedy_step(st, s, "record the remediation", reterr);
		sqlite3_finalize(s);
	}
	if (r >= 0 && !sqlite3_changes(st->db))
		r = diag_set(reterr, -ENOENT, "no remediation #%lld", (long long)id);
	return own_end(st, own, r, reterr);
}

int snap_remedy_finish(struct snap_store *st, int64_t id, struct diag *reterr)
{
	return remedy_update(st, "UPDATE remedy SET finished = ?2 WHERE id = ?1", id, NULL, reterr);
}

int snap_remedy_set_undone(struct snap_store *st, int64_t id, const char *who, struct diag *reterr)
{
	return remedy_update(st, "UPDATE remedy SET undone_at = ?2, undone_by = ?3 WHERE id = ?1",
			     id, who, reterr);
}

static int remedy_read(sqlite3_stmt *s, struct snap_remedy *r)
{
	bool oom = false;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(s, 0);
	r->run = sqlite3_column_int64(s, 1);
	r->baseline = sqlite3_column_int64(s, 2);
	r->who = snap_column_text(s, 3, &oom);
	r->started_ns = sqlite3_column_int64(s, 4);
	r->finished_ns = sqlite3_column_int64(s, 5);
	r->automatic = sqlite3_column_int(s, 6) != 0;
	r->quarantine = snap_column_text(s, 7, &oom);
	r->planned = (uint64_t)sqlite3_column_int64(s, 8);
	r->undone_ns = sqlite3_column_int64(s, 9);
	r->undone_by = snap_column_text(s, 10, &oom);
	r->started = (uint64_t)sqlite3_column_int64(s, 11);
	r->done = (uint64_t)sqlite3_column_int64(s, 12);
	r->failed = (uint64_t)sqlite3_column_int64(s, 13);
	r->undone = (uint64_t)sqlite3_column_int64(s, 14);
	r->skipped = (uint64_t)sqlite3_column_int64(s, 15);
	r->planned_left = (uint64_t)sqlite3_column_int64(s, 16);
	if (oom) {
		snap_remedy_release(r);
		return -ENOMEM;
	}
	return 0;
}

/* Each remediation the query @sql (bound to @id when non-zero) selects, to @fn. */
static int remedy_query(struct snap_store *st, const char *sql, int64_t id, snap_remedy_fn *fn,
			void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	struct snap_remedy rem;
	int rc, r, n = 0;

	r = remedy_supported(st, false, reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if (id)
		sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = remedy_read(s, &rem);
		if (r < 0) {
			r = diag_set(reterr, r, "out of memory");
			break;
		}
		r = fn(&rem, userdata);
		snap_remedy_release(&rem);
		n++;
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read the remediations", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : n;
}

static int remedy_take(const struct snap_remedy *r, void *userdata)
{
	struct snap_remedy *out = userdata;

	*out = *r;
	out->who = r->who ? strdup(r->who) : NULL;
	out->quarantine = r->quarantine ? strdup(r->quarantine) : NULL;
	out->undone_by = r->undone_by ? strdup(r->undone_by) : NULL;
	if ((r->who && !out->who) || (r->quarantine && !out->quarantine) ||
	    (r->undone_by && !out->undone_by)) {
		snap_remedy_release(out);
		return -ENOMEM;
	}
	return 0;
}

int snap_remedy_get(struct snap_store *st, int64_t id, struct snap_remedy *ret, struct diag *reterr)
{
	int r;

	memset(ret, 0, sizeof(*ret));
	r = remedy_query(st,
			 id ? "SELECT " REMEDY_COLS " FROM remedy r WHERE r.id = ?1"
			    : "SELECT " REMEDY_COLS " FROM remedy r ORDER BY r.id DESC LIMIT 1",
			 id, remedy_take, ret, reterr);
	if (r == 0)
		return id ? diag_set(reterr, -ENOENT, "no remediation #%lld", (long long)id)
			  : diag_set(reterr, -ENOENT, "no remediation yet");
	return r < 0 ? r : 0;
}

int snap_remedy_list(struct snap_store *st, snap_remedy_fn *fn, void *userdata, struct diag *reterr)
{
	int r = remedy_query(st, "SELECT " REMEDY_COLS " FROM remedy r ORDER BY r.id", 0, fn,
			     userdata, reterr);

	return r < 0 ? r : 0;
}

static int actions_query(struct snap_store *st, const char *sql, int64_t id,
			 snap_remedy_action_fn *fn, void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = remedy_supported(st, false, reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if (id)
		sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_remedy_action a = {
			.seq = sqlite3_column_int64(s, 0),
			.kind = (enum entry_kind)sqlite3_column_int(s, 1),
			.key = sqlite3_column_blob(s, 2),
			.key_len = (size_t)sqlite3_column_bytes(s, 2),
			.action = (unsigned)sqlite3_column_int(s, 3),
			.state = (enum snap_remedy_state)sqlite3_column_int(s, 4),
			.detail = (const char *)sqlite3_column_text(s, 5),
			.pre = sqlite3_column_blob(s, 6),
			.pre_len = (size_t)sqlite3_column_bytes(s, 6),
			.bytes = sqlite3_column_blob(s, 7),
			.bytes_len = (size_t)sqlite3_column_bytes(s, 7),
			.post = sqlite3_column_blob(s, 8),
			.post_len = (size_t)sqlite3_column_bytes(s, 8),
			.error = (const char *)sqlite3_column_text(s, 9),
		};

		/* An empty blob reads as NULL: tell "none" (NULL column) from "empty". */
		if (!a.bytes && sqlite3_column_type(s, 7) == SQLITE_BLOB)
			a.bytes = "";
		if (!a.key) {
			r = diag_set(reterr, -EPROTO,
				     "'%s' is damaged (a remediation action without a key)",
				     st->path);
			break;
		}
		r = fn(&a, userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = snap_sqlite_fail(st, rc, "read the remediation", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

int snap_remedy_actions(struct snap_store *st, int64_t id, snap_remedy_action_fn *fn,
			void *userdata, struct diag *reterr)
{
	return actions_query(
		st, "SELECT " ACTION_COLS " FROM remedy_action WHERE remedy = ?1 ORDER BY seq", id,
		fn, userdata, reterr);
}

int snap_remedy_restored(struct snap_store *st, snap_remedy_action_fn *fn, void *userdata,
			 struct diag *reterr)
{
	if (st->schema < 7)
		return 0;
	return actions_query(st,
			     "SELECT " ACTION_COLS " FROM remedy_action a JOIN remedy r"
			     " ON r.id = a.remedy WHERE a.state = 1 AND r.undone_at IS NULL"
			     " AND a.post IS NOT NULL ORDER BY a.remedy, a.seq",
			     0, fn, userdata, reterr);
}

/* The blob: format byte, kind, hash algorithm, then one canonical block record. */
#define ENTRY_BLOB_FORMAT 1

int snap_entry_encode(struct strbuf *out, const struct entry *e)
{
	struct strbuf ext = STRBUF_INIT;
	uint8_t head[3] = { ENTRY_BLOB_FORMAT, (uint8_t)e->kind, (uint8_t)e->hash_algo };
	int r;

	r = strbuf_add(out, head, sizeof(head));
	if (r >= 0)
		r = snap_rec_encode(out, e, false, NULL, &ext);
	strbuf_release(&ext);
	return r < 0 ? -ENOMEM : 0;
}

int snap_entry_decode(const void *blob, size_t len, struct snap_entry_buf *buf,
		      const struct entry **ret)
{
	const uint8_t *p = blob;
	struct snap_rec_prev pv;
	size_t pos = 3;
	bool tomb = false;
	int r;

	if (!p || len < 4 || p[0] != ENTRY_BLOB_FORMAT || p[1] < 1 || p[1] > ENTRY__KIND_MAX)
		return -EPROTO;
	pv.key = buf->key;
	if (!pv.key.buf)
		strbuf_init(&pv.key);
	snap_rec_prev_reset(&pv);
	memset(&buf->e, 0, sizeof(buf->e));
	buf->e.kind = (enum entry_kind)p[1];
	r = snap_rec_decode(p, len, &pos, &pv, &buf->e, &tomb, NULL);
	buf->key = pv.key;
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	if (tomb || pos != len)
		return -EPROTO;
	buf->e.kind = (enum entry_kind)p[1];
	buf->e.key = buf->key.buf;
	buf->e.hash_algo = buf->e.hash_len ? (enum hash_algo)p[2] : HASH_NONE;
	*ret = &buf->e;
	return 0;
}

void snap_entry_buf_release(struct snap_entry_buf *buf)
{
	if (buf->key.buf)
		strbuf_release(&buf->key);
	memset(buf, 0, sizeof(*buf));
}
