/*
 * Stored runs: a check, diff or verify as it was judged, so that its report
 * can be rendered again and the browser and nightly reports can read it.
 * The rows are compact: the findings name their entries by key (the
 * entries are in the run's snapshots) and carry only the verdict.
 *
 * A run written by a check joins the snapshot writer's transaction, so the
 * run and its snapshot commit together or not at all. Diff and verify run
 * for seconds to minutes, and must not hold the database's write lock that
 * long (a nightly check would fail behind a verify): their rows are staged
 * in TEMP tables, which take no lock on the database, and copied into it
 * in one short transaction at the end.
 */
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "store/internal.h"
#include "common/banned.h"

struct snap_run_writer {
	struct snap_store *st;
	int64_t id;
	bool staged; /* rows go to the TEMP stage tables until snap_run_commit() */
	/* The tables the rows go to: main's, or the stage's. */
	const char *t_run, *t_finding, *t_rule, *t_blind;
	int64_t seq, blind_seq, rules;
	uint64_t findings, counted, expected, blind;
	struct strbuf notes;
	size_t nnotes;
	sqlite3_stmt *row, *blind_stmt;
};

void snap_run_info_release(struct snap_run_info *info)
{
	if (!info)
		return;
	free(info->command);
	free(info->before_label);
	free(info->after_label);
	free(info->database);
	free(info->policy_digest);
	free(info->policy_source);
	for (size_t i = 0; info->roots && i < info->nroots; i++)
		free(info->roots[i]);
	free(info->roots);
	for (size_t i = 0; info->notes && i < info->nnotes; i++)
		free(info->notes[i]);
	free(info->notes);
	memset(info, 0, sizeof(*info));
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int run_supported(struct snap_store *st, struct diag *reterr)
{
	if (st->schema < 4)
		return diag_set(reterr, -EPROTO,
				"'%s' predates stored runs (schema %d): open it for writing once "
				"to upgrade it",
				st->path, st->schema);
	return 0;
}

static void bind_text_or_null(sqlite3_stmt *s, int col, const char *text)
{
	if (text)
		sqlite3_bind_text(s, col, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, col);
}

static int step_done(struct snap_store *st, sqlite3_stmt *s, const char *what, struct diag *reterr)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return snap_sqlite_fail(st, rc, what, reterr);
	return 0;
}

static void writer_free(struct snap_run_writer *w)
{
	sqlite3_finalize(w->row);
	sqlite3_finalize(w->blind_stmt);
	strbuf_release(&w->notes);
	free(w);
}

#define RUN_COLS                                                                              \
	"command, before, after, before_label, after_label, before_baseline, after_baseline," \
	" started, flags, count_expected, database, roots, checked, policy_digest,"           \
	" policy_source, notes, exit_code, findings, counted, expected, blind, complete"
#define FINDING_COLS                                                              \
	"seq, kind, key, change, changed, verdict, attrs, rule, reason, package," \
	" before_version, after_version, unowned, aux"
#define RULE_COLS  "n, id, title, file, line, remediate"
#define BLIND_COLS "seq, kind, key, mode, err, flags"

/* The stage: empty copies of the run tables, in TEMP (no lock on the database). */
static const char sql_stage[] =
	"CREATE TEMP TABLE IF NOT EXISTS stage_run AS SELECT * FROM main.run WHERE 0;"
	"CREATE TEMP TABLE IF NOT EXISTS stage_finding AS SELECT * FROM main.finding WHERE 0;"
	"CREATE TEMP TABLE IF NOT EXISTS stage_run_rule AS SELECT * FROM main.run_rule WHERE 0;"
	"CREATE TEMP TABLE IF NOT EXISTS stage_run_blind AS SELECT * FROM main.run_blind WHERE 0;"
	"DELETE FROM temp.stage_run; DELETE FROM temp.stage_finding;"
	"DELETE FROM temp.stage_run_rule; DELETE FROM temp.stage_run_blind";
static const char sql_unstage[] =
	"DELETE FROM temp.stage_run; DELETE FROM temp.stage_finding;"
	"DELETE FROM temp.stage_run_rule; DELETE FROM temp.stage_run_blind";

int snap_run_begin(struct snap_store *st, const struct snap_run_new *info,
		   struct snap_run_writer **ret, struct diag *reterr)
{
	struct snap_run_writer *w;
	struct strbuf roots = STRBUF_INIT;
	sqlite3_stmt *s = NULL;
	char sql[512];
	int r;

	if (!st->writable)
		return diag_set(reterr, -EROFS, "'%s' is open read-only", st->path);
	r = run_supported(st, reterr);
	if (r < 0)
		return r;
	w = calloc(1, sizeof(*w));
	if (!w)
		return diag_set(reterr, -ENOMEM, "out of memory");
	w->st = st;
	strbuf_init(&w->notes);
	w->staged = sqlite3_get_autocommit(st->db) != 0;
	w->t_run = w->staged ? "temp.stage_run" : "main.run";
	w->t_finding = w->staged ? "temp.stage_finding" : "main.finding";
	w->t_rule = w->staged ? "temp.stage_run_rule" : "main.run_rule";
	w->t_blind = w->staged ? "temp.stage_run_blind" : "main.run_blind";
	if (w->staged) {
		r = snap_exec(st, sql_stage, "store the run", reterr);
		if (r < 0)
			goto fail;
	}
	if (snap_join_list(&roots, info->roots, info->nroots) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (id, command, before, after, before_label, after_label,"
		 " before_baseline, after_baseline, started, flags, count_expected, database,"
		 " roots, checked, policy_digest, policy_source, findings, counted, expected,"
		 " blind, complete) VALUES (?16, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		 " ?12, ?13, ?14, ?15, 0, 0, 0, 0, 0)",
		 w->t_run);
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		goto fail;
	sqlite3_bind_text(s, 1, info->command, -1, SQLITE_STATIC);
	if (info->before)
		sqlite3_bind_int64(s, 2, info->before);
	if (info->after)
		sqlite3_bind_int64(s, 3, info->after);
	bind_text_or_null(s, 4, info->before_label);
	bind_text_or_null(s, 5, info->after_label);
	sqlite3_bind_int(s, 6, info->before_baseline);
	sqlite3_bind_int(s, 7, info->after_baseline);
	sqlite3_bind_int64(s, 8, info->started_ns ? info->started_ns : now_ns());
	sqlite3_bind_int64(s, 9, info->flags);
	sqlite3_bind_int(s, 10, info->count_expected);
	bind_text_or_null(s, 11, info->database);
	if (info->nroots)
		sqlite3_bind_blob(s, 12, roots.buf, (int)roots.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 13, 0); /* known at commit */
	bind_text_or_null(s, 14, info->policy_digest);
	bind_text_or_null(s, 15, info->policy_source);
	if (w->staged)
		sqlite3_bind_int64(s, 16, 0); /* the stage's one run; its id comes at commit */
	r = step_done(st, s, "store the run", reterr);
	sqlite3_finalize(s);
	strbuf_release(&roots);
	if (r < 0)
		goto fail;
	w->id = w->staged ? 0 : sqlite3_last_insert_rowid(st->db);
	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (run, " FINDING_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
		 " ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
		 w->t_finding);
	r = snap_prepare(st, sql, &w->row, reterr);
	if (r >= 0) {
		snprintf(sql, sizeof(sql),
			 "INSERT INTO %s (run, " BLIND_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			 w->t_blind);
		r = snap_prepare(st, sql, &w->blind_stmt, reterr);
	}
	if (r < 0)
		goto fail;
	*ret = w;
	return 0;
fail:
	strbuf_release(&roots);
	if (w->staged)
		sqlite3_exec(st->db, sql_unstage, NULL, NULL, NULL);
	writer_free(w);
	return r;
}

int snap_run_add_rule(struct snap_run_writer *w, const char *id, const char *title,
		      const char *file, unsigned line, unsigned remediate, int64_t *ret_n,
		      struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	char sql[128];
	int r;

	snprintf(sql, sizeof(sql),
		 "INSERT INTO %s (run, " RULE_COLS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
		 w->t_rule);
	r = snap_prepare(w->st, sql, &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, w->id);
	sqlite3_bind_int64(s, 2, w->rules);
	bind_text_or_null(s, 3, id);
	bind_text_or_null(s, 4, title);
	bind_text_or_null(s, 5, file);
	sqlite3_bind_int(s, 6, (int)line);
	if (remediate)
		sqlite3_bind_int(s, 7, (int)remediate);
	r = step_done(w->st, s, "store the run", reterr);
	sqlite3_finalize(s);
	if (r < 0)
		return r;
	*ret_n = w->rules++;
	return 0;
}

int snap_run_add_row(struct snap_run_writer *w, const struct snap_run_row *row, struct diag *reterr)
{
	sqlite3_stmt *s = w->row;

	sqlite3_bind_int64(s, 1, w->id);
	sqlite3_bind_int64(s, 2, w->seq);
	sqlite3_bind_int(s, 3, (int)row->kind);
	sqlite3_bind_blob(s, 4, row->key_len ? row->key : "", (int)row->key_len, SQLITE_STATIC);
	sqlite3_bind_int(s, 5, (int)row->change);
	sqlite3_bind_int64(s, 6, row->changed);
	if (row->judged) {
		sqlite3_bind_int(s, 7, (int)row->class * 8 + (int)row->severity);
		sqlite3_bind_int64(s, 8, row->attrs);
	} else {
		sqlite3_bind_null(s, 7);
		sqlite3_bind_null(s, 8);
	}
	if (row->rule >= 0)
		sqlite3_bind_int64(s, 9, row->rule);
	else
		sqlite3_bind_null(s, 9);
	bind_text_or_null(s, 10, row->reason);
	bind_text_or_null(s, 11, row->package);
	bind_text_or_null(s, 12, row->before_version);
	bind_text_or_null(s, 13, row->after_version);
	/* unowned is bit 0 (what older versions stored), matches bit 1. */
	sqlite3_bind_int(s, 14, (row->unowned ? 1 : 0) | (row->matches ? 2 : 0));
	if (row->aux)
		sqlite3_bind_blob(s, 15, row->aux, (int)row->aux_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 15);
	int r = step_done(w->st, s, "store a finding", reterr);
	sqlite3_clear_bindings(s);
	if (r < 0)
		return r;
	w->seq++;
	w->findings++;
	/* A waived finding is neither drift nor expected: tolerated, still a finding. */
	if (!row->judged || (row->class != CLASS_EXPECTED && row->class != CLASS_WAIVED))
		w->counted++; /* what a summary calls drift; counting in the exit code is the run's
			       */
	else if (row->class == CLASS_EXPECTED)
		w->expected++;
	return 0;
}

int snap_run_add_blind(struct snap_run_writer *w, const struct snap_run_blind *b,
		       struct diag *reterr)
{
	sqlite3_stmt *s = w->blind_stmt;
	int r;

	sqlite3_bind_int64(s, 1, w->id);
	sqlite3_bind_int64(s, 2, w->blind_seq);
	sqlite3_bind_int(s, 3, (int)b->kind);
	sqlite3_bind_blob(s, 4, b->key_len ? b->key : "", (int)b->key_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, b->mode);
	sqlite3_bind_int(s, 6, b->err);
	sqlite3_bind_int64(s, 7, b->flags);
	r = step_done(w->st, s, "store a blind spot", reterr);
	sqlite3_clear_bindings(s);
	if (r < 0)
		return r;
	w->blind_seq++;
	w->blind++;
	return 0;
}

int snap_run_add_note(struct snap_run_writer *w, const char *text, struct diag *reterr)
{
	if ((w->nnotes && strbuf_addch(&w->notes, '\0') < 0) || strbuf_adds(&w->notes, text) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	w->nnotes++;
	return 0;
}

static int run_exec_id(struct snap_store *st, const char *sql, int64_t a, int64_t b,
		       struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int r = snap_prepare(st, sql, &s, reterr);

	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, a);
	sqlite3_bind_int64(s, 2, b);
	r = step_done(st, s, "update the runs", reterr);
	sqlite3_finalize(s);
	return r;
}

/* Delete the runs selected by @where (?1, ?2 bound to @a, @b), with their rows. */
static int runs_delete(struct snap_store *st, const char *where, int64_t a, int64_t b,
		       struct diag *reterr)
{
	static const char *const tables[] = { "finding", "run_rule", "run_blind" };
	char sql[512];
	int r = 0;

	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]) && r >= 0; i++) {
		snprintf(sql, sizeof(sql),
			 "DELETE FROM %s WHERE run IN (SELECT id FROM run WHERE %s)", tables[i],
			 where);
		r = run_exec_id(st, sql, a, b, reterr);
	}
	if (r >= 0) {
		snprintf(sql, sizeof(sql), "DELETE FROM run WHERE %s", where);
		r = run_exec_id(st, sql, a, b, reterr);
	}
	return r;
}

int snap_runs_delete_orphans(struct snap_store *st, struct diag *reterr)
{
	if (st->schema < 4)
		return 0;
	return runs_delete(st,
			   "(before IS NOT NULL AND NOT EXISTS (SELECT 1 FROM snapshot s"
			   " WHERE s.id = run.before)) OR (after IS NOT NULL AND NOT EXISTS"
			   " (SELECT 1 FROM snapshot s WHERE s.id = run.after)) OR ?1 OR ?2",
			   0, 0, reterr);
}

int snap_runs_delete_snapshot(struct snap_store *st, int64_t snap_id, struct diag *reterr)
{
	if (st->schema < 4)
		return 0;
	return runs_delete(st, "before = ?1 OR after = ?1 OR ?2", snap_id, 0, reterr);
}

/* Copy the stage into the database as a new run: *ret_id. Inside the caller's transaction. */
static int unstage(struct snap_run_writer *w, int64_t *ret_id, struct diag *reterr)
{
	static const char *const copies[] = {
		"INSERT INTO main.finding (run, " FINDING_COLS ") SELECT ?1, " FINDING_COLS
		" FROM temp.stage_finding",
		"INSERT INTO main.run_rule (run, " RULE_COLS ") SELECT ?1, " RULE_COLS
		" FROM temp.stage_run_rule",
		"INSERT INTO main.run_blind (run, " BLIND_COLS ") SELECT ?1, " BLIND_COLS
		" FROM temp.stage_run_blind",
	};
	int r = snap_exec(w->st,
			  "INSERT INTO main.run (" RUN_COLS ") SELECT " RUN_COLS
			  " FROM temp.stage_run",
			  "store the run", reterr);

	if (r < 0)
		return r;
	*ret_id = sqlite3_last_insert_rowid(w->st->db);
	for (size_t i = 0; i < sizeof(copies) / sizeof(copies[0]) && r >= 0; i++)
		r = run_exec_id(w->st, copies[i], *ret_id, 0, reterr);
	return r;
}

int snap_run_commit(struct snap_run_writer *w, int exit_code, uint64_t checked, unsigned keep,
		    int64_t *ret_id, struct diag *reterr)
{
	struct snap_store *st = w->st;
	sqlite3_stmt *s = NULL;
	char sql[256];
	int64_t id = w->id;
	bool txn = false;
	int r;

	snprintf(sql, sizeof(sql),
		 "UPDATE %s SET notes = ?2, exit_code = ?3, findings = ?4, counted = ?5,"
		 " expected = ?6, blind = ?7, checked = ?8, complete = 1 WHERE id = ?1",
		 w->t_run);
	r = snap_prepare(st, sql, &s, reterr);
	if (r >= 0) {
		sqlite3_bind_int64(s, 1, w->id);
		if (w->nnotes)
			sqlite3_bind_blob(s, 2, w->notes.buf, (int)w->notes.len, SQLITE_STATIC);
		sqlite3_bind_int(s, 3, exit_code);
		sqlite3_bind_int64(s, 4, (sqlite3_int64)w->findings);
		sqlite3_bind_int64(s, 5, (sqlite3_int64)w->counted);
		sqlite3_bind_int64(s, 6, (sqlite3_int64)w->expected);
		sqlite3_bind_int64(s, 7, (sqlite3_int64)w->blind);
		sqlite3_bind_int64(s, 8, (sqlite3_int64)checked);
		r = step_done(st, s, "store the run", reterr);
		sqlite3_finalize(s);
	}
	if (r >= 0 && w->staged) {
		r = snap_exec(st, "BEGIN IMMEDIATE", "store the run", reterr);
		txn = r >= 0;
		if (r >= 0)
			r = unstage(w, &id, reterr);
	}
	/* Verify runs belong to no snapshot: keep the newest @keep of them. */
	if (r >= 0 && keep)
		r = runs_delete(
			st,
			"before IS NULL AND after IS NULL AND command = 'verify' AND id NOT IN"
			" (SELECT id FROM run WHERE command = 'verify' AND complete"
			" ORDER BY id DESC LIMIT ?2)",
			0, keep, reterr);
	if (r >= 0 && txn)
		r = snap_commit(st, "store the run", reterr);
	if (r < 0) {
		if (txn)
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		snap_run_abort(w);
		return r;
	}
	if (w->staged)
		sqlite3_exec(st->db, sql_unstage, NULL, NULL, NULL);
	if (ret_id)
		*ret_id = id;
	writer_free(w);
	/* A run written in place completed outside a transaction: its seal. */
	return snap_seal_settle(st, reterr);
}

void snap_run_abort(struct snap_run_writer *w)
{
	if (!w)
		return;
	if (w->staged)
		sqlite3_exec(w->st->db, sql_unstage, NULL, NULL, NULL);
	else
		(void)runs_delete(w->st, "id = ?1 AND ?2 = 0", w->id, 0, NULL);
	writer_free(w);
}

/* ---- reading ---- */

#define RUN_COLUMNS_READ                                                                          \
	"id, command, before, after, before_label, after_label, before_baseline, after_baseline," \
	" started, flags, count_expected, database, roots, checked, policy_digest,"               \
	" policy_source, notes, exit_code, findings, counted, expected, blind, complete"

static int info_from_row(sqlite3_stmt *s, struct snap_run_info *info)
{
	bool oom = false;

	memset(info, 0, sizeof(*info));
	info->id = sqlite3_column_int64(s, 0);
	info->command = snap_column_text(s, 1, &oom);
	info->before = sqlite3_column_int64(s, 2);
	info->after = sqlite3_column_int64(s, 3);
	info->before_label = snap_column_text(s, 4, &oom);
	info->after_label = snap_column_text(s, 5, &oom);
	info->before_baseline = sqlite3_column_int(s, 6) != 0;
	info->after_baseline = sqlite3_column_int(s, 7) != 0;
	info->started_ns = sqlite3_column_int64(s, 8);
	info->flags = (unsigned)sqlite3_column_int64(s, 9);
	info->count_expected = sqlite3_column_int(s, 10) != 0;
	info->database = snap_column_text(s, 11, &oom);
	if (sqlite3_column_type(s, 12) != SQLITE_NULL)
		info->roots = snap_column_split(s, 12, &info->nroots, &oom);
	info->checked = (uint64_t)sqlite3_column_int64(s, 13);
	info->policy_digest = snap_column_text(s, 14, &oom);
	info->policy_source = snap_column_text(s, 15, &oom);
	if (sqlite3_column_type(s, 16) != SQLITE_NULL)
		info->notes = snap_column_split(s, 16, &info->nnotes, &oom);
	info->exit_code =
		sqlite3_column_type(s, 17) == SQLITE_NULL ? -1 : sqlite3_column_int(s, 17);
	info->findings = (uint64_t)sqlite3_column_int64(s, 18);
	info->counted = (uint64_t)sqlite3_column_int64(s, 19);
	info->expected = (uint64_t)sqlite3_column_int64(s, 20);
	info->blind = (uint64_t)sqlite3_column_int64(s, 21);
	info->complete = sqlite3_column_int(s, 22) != 0;
	if (oom || !info->command) {
		snap_run_info_release(info);
		return -ENOMEM;
	}
	return 0;
}

int snap_run_get(struct snap_store *st, int64_t id, struct snap_run_info *ret_info,
		 struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st->schema < 4)
		return diag_set(reterr, -ENOENT, "'%s' holds no stored runs", st->path);
	r = snap_prepare(st,
			 id ? "SELECT " RUN_COLUMNS_READ " FROM run WHERE id = ?1 AND complete"
			    : "SELECT " RUN_COLUMNS_READ
			      " FROM run WHERE complete ORDER BY id DESC LIMIT 1",
			 &s, reterr);
	if (r < 0)
		return r;
	if (id)
		sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = info_from_row(s, ret_info) < 0 ? diag_set(reterr, -ENOMEM, "out of memory") : 0;
	else if (rc == SQLITE_DONE)
		r = id ? diag_set(reterr, -ENOENT, "no run #%lld in '%s' (see 'drift runs')",
				  (long long)id, st->path)
		       : diag_set(reterr, -ENOENT, "no stored runs in '%s'", st->path);
	else
		r = snap_sqlite_fail(st, rc, "read a run", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_run_list(struct snap_store *st, snap_run_list_fn *fn, void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st->schema < 4)
		return 0;
	r = snap_prepare(st, "SELECT " RUN_COLUMNS_READ " FROM run WHERE complete ORDER BY id", &s,
			 reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_run_info info;

		if (info_from_row(s, &info) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			break;
		}
		r = fn(&info, userdata);
		snap_run_info_release(&info);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "list the runs", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

int snap_run_rules(struct snap_store *st, int64_t run_id, snap_run_rule_fn *fn, void *userdata,
		   struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st,
			 st->schema >= 7
				 ? "SELECT n, id, title, file, line, remediate FROM run_rule"
				   " WHERE run = ?1 ORDER BY n"
				 : "SELECT n, id, title, file, line, NULL FROM run_rule"
				   " WHERE run = ?1 ORDER BY n",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r = fn(sqlite3_column_int64(s, 0), (const char *)sqlite3_column_text(s, 1),
		       (const char *)sqlite3_column_text(s, 2),
		       (const char *)sqlite3_column_text(s, 3), (unsigned)sqlite3_column_int(s, 4),
		       (unsigned)sqlite3_column_int(s, 5), userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read a run", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

/* The columns snap_run_row_read() decodes, in its order. */
#define RUN_ROW_COLUMNS                                                                      \
	"kind, key, change, changed, verdict, attrs, rule, reason, package, before_version," \
	" after_version, unowned, aux"

int snap_run_row_read(sqlite3_stmt *s, struct snap_run_row *row)
{
	int change = sqlite3_column_int(s, 2);

	memset(row, 0, sizeof(*row));
	row->kind = (enum entry_kind)sqlite3_column_int(s, 0);
	row->key = sqlite3_column_blob(s, 1);
	row->key_len = (size_t)sqlite3_column_bytes(s, 1);
	row->change = (enum change)change;
	row->changed = (uint32_t)sqlite3_column_int64(s, 3);
	row->judged = sqlite3_column_type(s, 4) != SQLITE_NULL;
	if (row->judged) {
		int v = sqlite3_column_int(s, 4);

		row->class = (enum verdict_class)(v / 8);
		row->severity = (enum severity)(v % 8);
		row->attrs = (uint32_t)sqlite3_column_int64(s, 5);
	}
	row->rule = sqlite3_column_type(s, 6) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 6);
	row->reason = (const char *)sqlite3_column_text(s, 7);
	row->package = (const char *)sqlite3_column_text(s, 8);
	row->before_version = (const char *)sqlite3_column_text(s, 9);
	row->after_version = (const char *)sqlite3_column_text(s, 10);
	row->unowned = (sqlite3_column_int(s, 11) & 1) != 0;
	row->matches = (sqlite3_column_int(s, 11) & 2) != 0;
	row->aux = sqlite3_column_blob(s, 12);
	row->aux_len = (size_t)sqlite3_column_bytes(s, 12);
	if (!row->key || change < 0 || change >= CHANGE__COUNT ||
	    (row->judged &&
	     ((unsigned)row->class >= CLASS__COUNT || (unsigned)row->severity >= SEVERITY__COUNT)))
		return -EPROTO;
	return 0;
}

int snap_run_rows(struct snap_store *st, int64_t run_id, snap_run_row_fn *fn, void *userdata,
		  struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, "SELECT " RUN_ROW_COLUMNS " FROM finding WHERE run = ?1 ORDER BY seq",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_run_row row;

		if (snap_run_row_read(s, &row) < 0) {
			r = diag_set(reterr, -EPROTO, "'%s': run #%lld has a damaged finding",
				     st->path, (long long)run_id);
			break;
		}
		r = fn(&row, userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read a run", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

int snap_run_row_get(struct snap_store *st, int64_t run_id, int64_t seq, snap_run_row_fn *fn,
		     void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, "SELECT " RUN_ROW_COLUMNS " FROM finding WHERE run = ?1 AND seq = ?2",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run_id);
	sqlite3_bind_int64(s, 2, seq);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct snap_run_row row;

		if (snap_run_row_read(s, &row) < 0)
			r = diag_set(reterr, -EPROTO, "'%s': run #%lld has a damaged finding",
				     st->path, (long long)run_id);
		else
			r = fn(&row, userdata);
		r = r < 0 ? r : 1;
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "read a run", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

int snap_run_blinds(struct snap_store *st, int64_t run_id, snap_run_blind_fn *fn, void *userdata,
		    struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st,
			 "SELECT kind, key, mode, err, flags FROM run_blind WHERE run = ?1"
			 " ORDER BY seq",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_run_blind b = { 0 };

		b.kind = (enum entry_kind)sqlite3_column_int(s, 0);
		b.key = sqlite3_column_blob(s, 1);
		b.key_len = (size_t)sqlite3_column_bytes(s, 1);
		b.mode = (uint32_t)sqlite3_column_int64(s, 2);
		b.err = sqlite3_column_int(s, 3);
		b.flags = (uint32_t)sqlite3_column_int64(s, 4);
		if (!b.key) {
			r = diag_set(reterr, -EPROTO, "'%s': run #%lld has a damaged entry",
				     st->path, (long long)run_id);
			break;
		}
		r = fn(&b, userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read a run", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}
