/* drift report [RUN]: render a stored run again, as its command printed it. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "compare/compare.h"
#include "common/banned.h"

/* Side @id of the run, with the label and baseline role it had then. */
static int run_side(struct snap_store *st, int64_t id, const char *label, bool baseline,
		    struct snap_info *ret)
{
	struct diag d = { 0 };
	char name[32];
	int r;

	snprintf(name, sizeof(name), "%lld", (long long)id);
	r = snap_find(st, name, ret, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		return exit_code_for_error(CLI_STAGE_STORE, r == -ENOENT ? -EPROTO : r);
	}
	free(ret->label);
	ret->label = label ? strdup(label) : NULL;
	ret->is_baseline = baseline;
	if (label && !ret->label) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	return 0;
}

static int cmd_report(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct snap_info before = { 0 }, after = { 0 };
	struct report_meta meta = { 0 };
	struct cli_report_sink rs = { 0 };
	struct cli_reports extra = { 0 };
	struct compare_sink sink;
	struct cli_output out = { 0 };
	struct rule_set *rules = NULL;
	struct diag d = { 0 };
	int64_t id = 0;
	bool out_open = false;
	int r, code;

	if (args->noperands > 1 || (args->noperands && cli_parse_id(args->operands[0], &id) < 0)) {
		fprintf(stderr, "drift report: takes one run id (see 'drift runs'), or none for "
				"the newest\nsee 'drift report --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	r = snap_run_get(st, id, &run, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (run.before)
		code = run_side(st, run.before, run.before_label, run.before_baseline, &before);
	if (!code && run.after)
		code = run_side(st, run.after, run.after_label, run.after_baseline, &after);
	if (code)
		goto out;

	cli_signals_install();
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	out_open = true;
	code = cli_reports_open(&extra, args);
	if (code)
		goto out;
	meta.command = run.command;
	meta.database = run.database;
	meta.before = run.before ? &before : NULL;
	meta.after = run.after ? &after : NULL;
	meta.compare_flags = run.flags;
	meta.checked = run.checked;
	meta.color = out.color;
	meta.quiet = args->quiet;
	cli_report_meta_args(&meta, args);
	r = report_new(args->format, out.fp, &meta, &rs.rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -EINVAL ? exit_code_for_error(CLI_STAGE_STORE, -EPROTO)
				    : exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	code = cli_reports_start(&extra, &meta, args);
	if (code)
		goto out;
	rs.extra = &extra;
	cli_report_sink_init(&rs, &sink);
	/*
	 * Content diffs come from the database too; the policy in force says
	 * what is secret. A policy that does not load costs the diffs, never
	 * the report; running out of memory is no reason to drop them quietly.
	 */
	code = cli_policy_load(args, &rules);
	if (code == DRIFT_EXIT_INTERNAL)
		goto out;
	if (code == 0)
		cli_report_sink_diffs(&rs, st, rules, run.before ? &before : NULL,
				      run.after ? &after : NULL);
	else
		cli_warn("the policy did not load: content diffs are not shown");
	code = 0;
	r = compare_replay(st, &run, &sink, &d);
	if (r < 0) {
		code = cli_compare_failed(rs.rep, r, rs.err, CLI_STAGE_STORE, &d);
		goto out;
	}
	code = cli_reports_write(&extra, cli_report_finish(rs.rep));
out:
	code = cli_reports_close(&extra, code);
	report_free(rs.rep);
	if (out_open)
		code = cli_output_finish(&out, code);
	snap_info_release(&before);
	snap_info_release(&after);
	snap_run_info_release(&run);
	snap_store_free(st);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_report_def = {
	.name = "report",
	.summary = "show a stored run's report again",
	.usage =
		"usage: drift report [options] [RUN]\n"
		"\n"
		"Render the stored run RUN (an id from 'drift runs'; default: the newest) as\n"
		"its check, diff or verify reported it: the same findings, verdicts and\n"
		"notes, in any format, byte for byte the same but for the time it was\n"
		"generated. Nothing is judged again: a policy changed since does not change\n"
		"the run. Exit code as the run's command gave it (see drift(1)).\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --policy FILE      the policy whose secrets are never diffed (default:\n"
		"                     /etc/drift/policy.yaml as root, else the built-in one)\n" CLI_REPORT_OPTIONS_HELP
		"  --waivers FILE     accepted for symmetry with check; a stored run keeps the\n"
		"                     verdicts its waivers gave then, so it changes nothing\n"
		"  --output FILE      write the report to FILE (replaced when complete)\n"
		"  --color WHEN       auto (default), always, never\n"
		"  --allow-insecure   as root, read a database others could have written\n"
		"  -q, --quiet        print nothing when there is nothing to report\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_REPORTS | OPT_ALLOW_INSECURE | OPT_FORMAT | OPT_OUTPUT | OPT_COLOR |
		OPT_QUIET | OPT_POLICY | OPT_WAIVERS,
	.run = cmd_report,
};
