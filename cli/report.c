/*
 * Handing findings to a report: the sink that connects the findings layer
 * (compare/) to report/, and the exit code of what was reported. Nothing
 * here judges.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/udiff.h"
#include "compare/compare.h"
#include "cli/journal.h"
#include "common/banned.h"

/* The largest diff a report gets (JSON has all of it; text its first lines). */
#define DIFF_MAX_BYTES ((size_t)64 * 1024)

static void snapshot_name(char *buf, size_t size, const struct snap_info *info)
{
	if (info && info->label)
		snprintf(buf, size, "%s", info->label);
	else
		snprintf(buf, size, "%lld", info ? (long long)info->id : 0LL);
}

/*
 * The diff of @f's kept content into *ret (its text in @text): 1 when
 * there is one, 0 when none applies, -ENOMEM. Only a modified file whose
 * content changed, both sides kept, and not secret under the policy in
 * force. Content that cannot be read is warned about once and not shown.
 */
static int finding_diff(struct cli_report_sink *rs, const struct finding *f, struct strbuf *text,
			struct report_diff *ret)
{
	const struct entry *a = f->before, *b = f->after;
	uint8_t *old = NULL, *new = NULL;
	size_t olen = 0, nlen = 0;
	char oname[160], nname[160];
	struct udiff_opts o = { 0 };
	struct udiff_result res;
	struct diag d = { 0 };
	int r;

	if (!rs->st || f->change != CHANGE_MODIFIED || !a || !b || a->kind != ENTRY_FILE ||
	    !a->has_content || !b->has_content || !(f->changed & ATTR_HASH) ||
	    !memcmp(a->content_id, b->content_id, sizeof(a->content_id)))
		return 0;
	if (rs->rules &&
	    rule_set_content(rs->rules, b->key, b->key_len, NULL) == RULE_CONTENT_SECRET)
		return 0;
	r = snap_content_get(rs->st, a->content_id, &old, &olen, &d);
	if (r == 0)
		r = snap_content_get(rs->st, b->content_id, &new, &nlen, &d);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		if (!rs->diff_warned)
			cli_warn("content of %s not shown: %s", cli_path(b->key, b->key_len, 0),
				 d.msg);
		rs->diff_warned = true;
		r = 0;
		goto out;
	}
	snapshot_name(oname, sizeof(oname), rs->before);
	snapshot_name(nname, sizeof(nname), rs->after);
	o.path = b->key;
	o.path_len = b->key_len;
	o.old_label = oname;
	o.new_label = nname;
	o.context = 3;
	o.max_bytes = DIFF_MAX_BYTES;
	r = udiff(old, olen, new, nlen, &o, text, &res);
	if (r < 0 || res.identical) {
		r = r < 0 ? r : 0;
		goto out;
	}
	*ret = (struct report_diff){ .binary = res.binary,
				     .text = text->buf,
				     .len = text->len,
				     .omitted_lines = res.omitted_lines,
				     .show_snapshot = rs->after ? rs->after_name : NULL };
	r = 1;
out:
	free(old);
	free(new);
	return r;
}

void cli_report_meta_args(struct report_meta *meta, const struct cli_args *args)
{
	meta->have_min_severity = args->have_min_severity;
	meta->min_severity = args->min_severity;
	meta->have_fail_on = args->have_fail_on;
	meta->fail_on = args->fail_on;
	meta->verbose = args->verbose;
}

int cli_reports_open(struct cli_reports *reps, const struct cli_args *args)
{
	int code;

	memset(reps, 0, sizeof(*reps));
	for (size_t i = 0; i < args->nreports; i++) {
		code = cli_output_open_path(&reps->out[i], args, args->reports[i].path);
		if (code) {
			cli_reports_close(reps, DRIFT_EXIT_USAGE);
			return code;
		}
		reps->n = i + 1;
	}
	return 0;
}

int cli_reports_start(struct cli_reports *reps, const struct report_meta *meta,
		      const struct cli_args *args)
{
	struct diag d = { 0 };
	int r;

	for (size_t i = 0; i < reps->n; i++) {
		struct report_meta m = *meta;

		/* A report file is a record: complete even when -q keeps stdout quiet. */
		m.quiet = false;
		m.color = reps->out[i].color;
		r = report_new(args->reports[i].format, reps->out[i].fp, &m, &reps->rep[i], &d);
		if (r < 0) {
			cli_error("%s", d.msg);
			return exit_code_for_error(CLI_STAGE_OUTPUT, r);
		}
	}
	return 0;
}

int cli_reports_write(struct cli_reports *reps, int code)
{
	struct diag d = { 0 };

	if (code >= DRIFT_EXIT_USAGE)
		return code;
	for (size_t i = 0; i < reps->n; i++) {
		if (report_finish(reps->rep[i], &d) < 0) {
			cli_error("%s: %s",
				  reps->out[i].path ? reps->out[i].path : "standard output", d.msg);
			code = DRIFT_EXIT_OUTPUT;
			reps->failed = true;
		}
	}
	return code;
}

int cli_reports_close(struct cli_reports *reps, int code)
{
	for (size_t i = 0; i < reps->n; i++) {
		int r = cli_output_close(&reps->out[i], code < DRIFT_EXIT_USAGE);

		if (r && code < DRIFT_EXIT_USAGE)
			code = r;
		report_free(reps->rep[i]);
		reps->rep[i] = NULL;
	}
	reps->n = 0;
	return code;
}

/* Every report of @rs: the main one, then the --report ones. */
#define EACH_REPORT(rs, i, rep)                                          \
	for (size_t i = 0; i <= ((rs)->extra ? (rs)->extra->n : 0); i++) \
		if (((rep) = i == 0 ? (rs)->rep : (rs)->extra->rep[i - 1]) != NULL)

static int sink_finding(const struct finding *f, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	struct strbuf text = STRBUF_INIT;
	struct report_diff diff;
	struct report *rep;
	int r = finding_diff(rs, f, &text, &diff), have;

	if (r >= 0) {
		have = r;
		EACH_REPORT(rs, i, rep)
		{
			r = report_add_finding_diff(rep, f, have > 0 ? &diff : NULL);
			if (r < 0)
				break;
		}
	}
	strbuf_release(&text);
	if (r < 0)
		return rs->err = r;
	if (rs->journal && journal_finding(rs->journal, f) < 0)
		cli_warn("cannot write to the journal: its records stop here");
	if (rs->rec && (r = compare_record_finding(rs->rec, f, rs->with_sides, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

/* --since-last: a finding of the previous run that this one no longer has. */
static int sink_resolved(const struct finding *f, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	struct report *rep;
	int r;

	EACH_REPORT(rs, i, rep)
	{
		r = report_add_finding(rep, f);
		if (r < 0)
			return rs->err = r;
	}
	return 0;
}

static int sink_note(const char *text, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	struct report *rep;
	int r = 0;

	EACH_REPORT(rs, i, rep)
	{
		r = report_add_note(rep, text);
		if (r < 0)
			return rs->err = r;
	}
	if (rs->rec && (r = compare_record_note(rs->rec, text, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

static int sink_blind_spot(const struct entry *e, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	struct report *rep;
	int r = 0;

	EACH_REPORT(rs, i, rep)
	{
		r = report_add_error(rep, e);
		if (r < 0)
			return rs->err = r;
	}
	if (rs->rec && (r = compare_record_blind_spot(rs->rec, e, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

void cli_report_sink_diffs(struct cli_report_sink *rs, struct snap_store *st,
			   const struct rule_set *rules, const struct snap_info *before,
			   const struct snap_info *after)
{
	rs->st = st;
	rs->rules = rules;
	rs->before = before;
	rs->after = after;
	snapshot_name(rs->after_name, sizeof(rs->after_name), after);
}

void cli_report_sink_init(struct cli_report_sink *rs, struct compare_sink *sink)
{
	*sink = (struct compare_sink){ .finding = sink_finding,
				       .resolved = sink_resolved,
				       .note = sink_note,
				       .blind_spot = sink_blind_spot,
				       .userdata = rs };
}

int cli_record_begin(struct cli_report_sink *rs, struct snap_store *st,
		     const struct compare_record_info *info)
{
	struct diag d = { 0 };
	int r;

	if (!st || !snap_store_writable(st))
		return 0; /* a database we may only read keeps no runs */
	r = compare_record_begin(st, info, &rs->rec, &d);
	if (r < 0) {
		cli_error("cannot store the run: %s", d.msg);
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	return 0;
}

int cli_record_finish(struct cli_report_sink *rs, int code, uint64_t checked)
{
	struct diag d = { 0 };
	int r;

	if (!rs->rec)
		return code;
	if (code >= DRIFT_EXIT_USAGE) {
		compare_record_abort(rs->rec);
		rs->rec = NULL;
		return code;
	}
	r = compare_record_commit(rs->rec, code, checked, CLI_VERIFY_RUNS_KEPT, NULL, &d);
	rs->rec = NULL;
	if (r == -EBUSY) {
		/* A scan holds the database: the report stands, the run is not kept. */
		cli_warn("the run was not stored: %s", d.msg);
		return code;
	}
	if (r < 0) {
		cli_error("cannot store the run: %s", d.msg);
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	return code;
}

int cli_compare_failed(struct report *rep, int r, int report_err, enum cli_stage stage,
		       struct diag *d)
{
	if (report_err) {
		/* The report knows why it failed; finishing it says so. */
		if (report_finish(rep, d) < 0)
			cli_error("%s", d->msg);
		else
			cli_error("cannot write the report: %s", strerror(-r));
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
	}
	if (r == -ECANCELED) {
		cli_error("interrupted");
		return DRIFT_EXIT_INTERRUPTED;
	}
	if (r == -ENOMEM || d->msg[0] == '\0')
		cli_error("cannot compare: %s", strerror(-r));
	else
		cli_error("%s", d->msg);
	return exit_code_for_error(stage, r);
}

void cli_report_journal_close(struct cli_report_sink *rs, int code)
{
	struct report_counts counts;
	struct strbuf line = STRBUF_INIT;

	if (!rs->journal)
		return;
	report_get_counts(rs->rep, &counts);
	if (code < DRIFT_EXIT_USAGE && report_summary_line(rs->rep, &line) == 0 &&
	    journal_summary(rs->journal, line.buf, &counts, code) < 0)
		cli_warn("cannot write the summary to the journal");
	strbuf_release(&line);
	journal_close(rs->journal);
	rs->journal = NULL;
}

int cli_report_finish(struct report *rep)
{
	struct report_counts counts;
	struct diag d = { 0 };
	int r = report_finish(rep, &d);

	if (r < 0) {
		cli_error("%s", d.msg);
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
	}
	report_get_counts(rep, &counts);
	return exit_code_for_counts(&counts);
}

int cli_output_finish(struct cli_output *out, int code)
{
	int r = cli_output_close(out, code < DRIFT_EXIT_USAGE);

	return r && code < DRIFT_EXIT_USAGE ? r : code;
}

int cli_compare_report(struct snap_store *st, const char *command, const struct snap_info *before,
		       const struct snap_info *after, const char *const *roots, size_t nroots,
		       const struct rule_set *rules, bool live, const struct cli_args *args)
{
	struct cli_output out;
	struct cli_reports extra = { 0 };
	int code = cli_output_open(&out, args);

	if (code)
		return code;
	code = cli_reports_open(&extra, args);
	if (code)
		return cli_output_finish(&out, code);
	code = cli_compare_report_to(&out, &extra, st, command, before, after, roots, nroots, rules,
				     live, args);
	code = cli_reports_close(&extra, code);
	return cli_output_finish(&out, code);
}

/* The newest 30 complete runs of one command, for the trend; and the newest's id. */
#define HISTORY_MAX 30
struct history_walk {
	const char *command;
	struct report_history h[HISTORY_MAX];
	size_t n, next; /* a ring once full: @next is the oldest */
	int64_t newest;
};

static int history_visit(const struct snap_run_info *info, void *userdata)
{
	struct history_walk *w = userdata;
	struct report_history *h;

	if (!info->complete || strcmp(info->command, w->command))
		return 0;
	h = &w->h[w->next];
	w->next = (w->next + 1) % HISTORY_MAX;
	if (w->n < HISTORY_MAX)
		w->n++;
	*h = (struct report_history){ .run = info->id,
				      .started_ns = info->started_ns,
				      .drift = info->counted,
				      .expected = info->expected,
				      .blind = info->blind,
				      .exit_code = info->exit_code };
	w->newest = info->id;
	return 0;
}

/*
 * The earlier runs of @command in @st into @hist (oldest first, at most
 * HISTORY_MAX; *ret_n of them) and, with @prev, the newest of them into
 * @prev (id 0: none). Returns 0 or an exit code after printing why.
 */
static int runs_before(struct snap_store *st, const char *command, struct report_history *hist,
		       size_t *ret_n, struct snap_run_info *prev)
{
	struct history_walk w = { .command = command };
	struct diag d = { 0 };
	int r;

	*ret_n = 0;
	r = snap_run_list(st, history_visit, &w, &d);
	if (r == -EPROTO)
		return 0; /* a database older than stored runs: no history */
	if (r < 0) {
		cli_error("cannot read the earlier runs: %s", d.msg);
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	for (size_t i = 0; i < w.n; i++)
		hist[i] = w.h[(w.next + HISTORY_MAX - w.n + i) % HISTORY_MAX];
	*ret_n = w.n;
	if (!prev || !w.newest)
		return 0;
	r = snap_run_get(st, w.newest, prev, &d);
	if (r < 0) {
		cli_error("cannot read run #%lld: %s", (long long)w.newest, d.msg);
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	return 0;
}

int cli_compare_report_to(struct cli_output *outp, struct cli_reports *extra, struct snap_store *st,
			  const char *command, const struct snap_info *before,
			  const struct snap_info *after, const char *const *roots, size_t nroots,
			  const struct rule_set *rules, bool live, const struct cli_args *args)
{
	struct cli_report_sink rs = { 0 };
	struct compare_sink sink;
	struct compare_record_info ri = { 0 };
	struct compare_opts o = { 0 };
	struct report_meta meta = { 0 };
	struct report_history hist[HISTORY_MAX];
	struct snap_run_info prev = { 0 };
	struct diag d = { 0 };
	int r, code;

	meta.command = command;
	if (st) {
		code = runs_before(st, command, hist, &meta.nhistory,
				   args->since_last ? &prev : NULL);
		if (code)
			return code;
		meta.history = hist;
		meta.since_last = args->since_last;
		meta.since_run = prev.id;
	}
	meta.database = args->db ? args->db : args->db_default;
	meta.before = before;
	meta.after = after;
	meta.compare_flags = args->all_changes ? SNAP_COMPARE_ALL : 0;
	meta.color = outp->color;
	meta.quiet = args->quiet;
	cli_report_meta_args(&meta, args);
	r = report_new(args->format, outp->fp, &meta, &rs.rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		snap_run_info_release(&prev);
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
	}
	if (extra) {
		code = cli_reports_start(extra, &meta, args);
		if (code) {
			report_free(rs.rep);
			snap_run_info_release(&prev);
			return code;
		}
		rs.extra = extra;
	}
	o.since_run = args->since_last && st ? &prev : NULL;
	code = cli_journal_open(args, command, &rs.journal);
	if (code) {
		report_free(rs.rep);
		snap_run_info_release(&prev);
		return code;
	}

	o.st = st;
	o.before = before;
	o.after = after;
	o.roots = roots;
	o.nroots = nroots;
	o.rules = rules;
	o.flags = meta.compare_flags;
	o.rootfd = args->root_fd;
	o.live = live;
	o.count_expected = args->count_expected;
	o.waivers = args->waiver_set;
	o.stop = cli_interrupted_flag();
	cli_report_sink_init(&rs, &sink);
	cli_report_sink_diffs(&rs, st, rules, before, after);
	ri.command = command;
	ri.before = before;
	ri.after = after;
	ri.flags = o.flags;
	ri.count_expected = o.count_expected;
	ri.database = meta.database;
	ri.roots = roots;
	ri.nroots = nroots;
	ri.rules = rules;
	code = cli_record_begin(&rs, st, &ri);
	if (code) {
		journal_close(rs.journal);
		report_free(rs.rep);
		snap_run_info_release(&prev);
		return code;
	}
	r = compare_snapshots(&o, &sink, &d);
	if (r < 0 && rs.rec_err)
		code = cli_compare_failed(rs.rep, r, 0, CLI_STAGE_STORE, &rs.rec_diag);
	else if (r < 0)
		code = cli_compare_failed(rs.rep, r, rs.err, CLI_STAGE_STORE, &d);
	else {
		int main_code = cli_report_finish(rs.rep);

		code = cli_reports_write(extra ? extra : &(struct cli_reports){ 0 }, main_code);
		/*
		 * A --report file that cannot be written (a full disk there) is
		 * not replaced, and the command fails with DRIFT_EXIT_OUTPUT; but
		 * the run is stored and the main report stands: what was found
		 * is not lost for a file elsewhere.
		 */
		if (extra && extra->failed && main_code < DRIFT_EXIT_USAGE)
			code = main_code;
	}
	code = cli_record_finish(&rs, code, 0);
	if (extra && extra->failed && code < DRIFT_EXIT_USAGE)
		code = DRIFT_EXIT_OUTPUT;
	cli_report_journal_close(&rs, code);
	report_free(rs.rep);
	snap_run_info_release(&prev);
	return code;
}
