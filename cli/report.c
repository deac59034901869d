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

/* The report as a sink of findings, remembering whether it was the one that failed. */
struct report_sink {
	struct report *rep;
	int err; /* a report_add_*() failed (a temporary file could not be written) */
};

static int sink_finding(const struct finding *f, void *userdata)
{
	struct report_sink *rs = userdata;
	int r = report_add_finding(rs->rep, f);

	return r < 0 ? rs->err = r : 0;
}

static int sink_note(const char *text, void *userdata)
{
	struct report_sink *rs = userdata;
	int r = report_add_note(rs->rep, text);

	return r < 0 ? rs->err = r : 0;
}

static int sink_blind_spot(const struct entry *e, void *userdata)
{
	struct report_sink *rs = userdata;
	int r = report_add_error(rs->rep, e);

	return r < 0 ? rs->err = r : 0;
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
	struct report_sink rs = { 0 };
	struct compare_sink sink = { .finding = sink_finding,
				     .note = sink_note,
				     .blind_spot = sink_blind_spot,
				     .userdata = &rs };
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
	r = compare_snapshots(&o, &sink, &d);
	if (r < 0)
		code = cli_compare_failed(rs.rep, r, rs.err, CLI_STAGE_STORE, &d);
	else
		code = cli_report_finish(rs.rep);
	report_free(rs.rep);
	return code;
}
