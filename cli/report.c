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
#include "compare/compare.h"
#include "common/banned.h"

static int sink_finding(const struct finding *f, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	int r = report_add_finding(rs->rep, f);

	if (r < 0)
		return rs->err = r;
	if (rs->rec && (r = compare_record_finding(rs->rec, f, rs->with_sides, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

static int sink_note(const char *text, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	int r = report_add_note(rs->rep, text);

	if (r < 0)
		return rs->err = r;
	if (rs->rec && (r = compare_record_note(rs->rec, text, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

static int sink_blind_spot(const struct entry *e, void *userdata)
{
	struct cli_report_sink *rs = userdata;
	int r = report_add_error(rs->rep, e);

	if (r < 0)
		return rs->err = r;
	if (rs->rec && (r = compare_record_blind_spot(rs->rec, e, &rs->rec_diag)) < 0)
		return rs->rec_err = r;
	return 0;
}

void cli_report_sink_init(struct cli_report_sink *rs, struct compare_sink *sink)
{
	*sink = (struct compare_sink){ .finding = sink_finding,
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
	int code = cli_output_open(&out, args);

	if (code)
		return code;
	code = cli_compare_report_to(&out, st, command, before, after, roots, nroots, rules, live,
				     args);
	return cli_output_finish(&out, code);
}

int cli_compare_report_to(struct cli_output *outp, struct snap_store *st, const char *command,
			  const struct snap_info *before, const struct snap_info *after,
			  const char *const *roots, size_t nroots, const struct rule_set *rules,
			  bool live, const struct cli_args *args)
{
	struct cli_report_sink rs = { 0 };
	struct compare_sink sink;
	struct compare_record_info ri = { 0 };
	struct compare_opts o = { 0 };
	struct report_meta meta = { 0 };
	struct diag d = { 0 };
	int r, code;

	meta.command = command;
	meta.database = args->db ? args->db : args->db_default;
	meta.before = before;
	meta.after = after;
	meta.compare_flags = args->all_changes ? SNAP_COMPARE_ALL : 0;
	meta.color = outp->color;
	meta.quiet = args->quiet;
	r = report_new(args->format, outp->fp, &meta, &rs.rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
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
	o.stop = cli_interrupted_flag();
	cli_report_sink_init(&rs, &sink);
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
		report_free(rs.rep);
		return code;
	}
	r = compare_snapshots(&o, &sink, &d);
	if (r < 0 && rs.rec_err)
		code = cli_compare_failed(rs.rep, r, 0, CLI_STAGE_STORE, &rs.rec_diag);
	else if (r < 0)
		code = cli_compare_failed(rs.rep, r, rs.err, CLI_STAGE_STORE, &d);
	else
		code = cli_report_finish(rs.rep);
	code = cli_record_finish(&rs, code, 0);
	report_free(rs.rep);
	return code;
}
