/*
 * Reading a stored run for the browser: the lean reader that loads a run's
 * findings into memory (only the columns a list of findings needs, so that
 * a million rows read in well under a second). The one full row that a
 * detail pane shows is snap_run_row_get(), in run.c beside its reader.
 */
#include "store/store.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "store/internal.h"
#include "common/banned.h"

static int decode_verdict(sqlite3_stmt *s, int col, bool *judged, enum verdict_class *cls,
			  enum severity *sev)
{
	*judged = sqlite3_column_type(s, col) != SQLITE_NULL;
	if (*judged) {
		int v = sqlite3_column_int(s, col);

		*cls = (enum verdict_class)(v / 8);
		*sev = (enum severity)(v % 8);
		if (v < 0 || (unsigned)*cls >= CLASS__COUNT || (unsigned)*sev >= SEVERITY__COUNT)
			return -EPROTO;
	}
	return 0;
}

int snap_run_rows_lean(struct snap_store *st, int64_t run_id, snap_run_lean_fn *fn, void *userdata,
		       struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st,
			 "SELECT seq, kind, key, change, changed, verdict, package, before_version,"
			 " after_version FROM finding WHERE run = ?1 ORDER BY seq",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, run_id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_run_lean row = { 0 };
		int change = sqlite3_column_int(s, 3);

		row.seq = sqlite3_column_int64(s, 0);
		row.kind = (enum entry_kind)sqlite3_column_int(s, 1);
		row.key = sqlite3_column_blob(s, 2);
		row.key_len = (size_t)sqlite3_column_bytes(s, 2);
		row.change = (enum change)change;
		row.changed = (uint32_t)sqlite3_column_int64(s, 4);
		r = decode_verdict(s, 5, &row.judged, &row.class, &row.severity);
		row.package = (const char *)sqlite3_column_text(s, 6);
		row.before_version = (const char *)sqlite3_column_text(s, 7);
		row.after_version = (const char *)sqlite3_column_text(s, 8);
		if (r < 0 || !row.key || change < 0 || change >= CHANGE__COUNT) {
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
