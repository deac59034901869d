/*
 * Loading a stored run into a model: the lean reader of store/ straight
 * into the model's arrays, nothing in between.
 */
#include "tui/tui.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

static int load_row(const struct snap_run_lean *row, void *userdata)
{
	return tui_model_add(userdata, (uint32_t)row->seq, row->kind, row->key, row->key_len,
			     row->change, row->changed, row->judged, row->class, row->severity,
			     row->package, row->before_version, row->after_version);
}

int tui_load(struct snap_store *st, int64_t run_id, uint64_t findings, struct tui_model **ret,
	     struct diag *reterr)
{
	struct tui_model *m = tui_model_new();
	int r;

	/* The run says how many findings it has: no array is copied as it grows. */
	if (!m || (findings && tui_model_reserve(m, findings, findings * 48) < 0)) {
		tui_model_free(m);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	r = snap_run_rows_lean(st, run_id, load_row, m, reterr);
	if (r == -ENOMEM || r == -E2BIG)
		diag_set(reterr, r, "cannot load run #%lld: %s", (long long)run_id, strerror(-r));
	if (r >= 0) {
		r = tui_model_finish(m);
		if (r < 0)
			diag_set(reterr, r, "out of memory");
	}
	if (r < 0) {
		tui_model_free(m);
		return r;
	}
	*ret = m;
	return 0;
}
