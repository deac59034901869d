/* drift browse [RUN | OLD NEW]: the interactive browser of a stored run (tui/). */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "tui/tui.h"
#include "common/banned.h"

/*
 * The settling operations behind `a`, `w` and `u`. Acceptance and waivers
 * are being built as libraries of their own (issue 14); until they land,
 * the browser's flow runs up to the confirmation and these say so, writing
 * nothing.
 */
static int settle_not_built(char **ret_message, const char *what)
{
	char *msg = NULL;

	if (asprintf(&msg, "%s from the browser is not built yet; nothing was written", what) >= 0)
		*ret_message = msg;
	return -ENOSYS;
}

static int browse_accept(void *ctx, const int64_t *seqs, size_t n, const char *reason,
			 char **ret_message)
{
	return settle_not_built(ret_message, "accepting");
}

static int browse_waive(void *ctx, const int64_t *seqs, size_t n, const char *reason,
			const char *expires, char **ret_message)
{
	return settle_not_built(ret_message, "waiving");
}

static int browse_undo(void *ctx, char **ret_message)
{
	return settle_not_built(ret_message, "undoing an acceptance");
}

static const struct tui_settle_ops settle_ops = {
	.accept = browse_accept,
	.waive = browse_waive,
	.undo = browse_undo,
};

static int parse_run(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* OLD NEW: the comparison of `drift diff OLD NEW`, stored as a run; its report goes nowhere. */
static int diff_run(struct cli_args *args, struct snap_store *st, const struct rule_set *rules,
		    int64_t *ret_id)
{
	struct snap_info a = { 0 }, b = { 0 };
	struct cli_output out = { 0 };
	struct snap_run_info run = { 0 };
	struct diag d = { 0 };
	int code, r;

	if (!snap_store_writable(st)) {
		cli_error("cannot browse a diff: the database '%s' is read-only, so its run "
			  "cannot be stored; run 'drift diff' where it is writable",
			  cli_db_path(args));
		return DRIFT_EXIT_DATABASE;
	}
	for (int i = 0; i < 2; i++) {
		struct snap_info *info = i ? &b : &a;

		r = snap_find(st, args->operands[i], info, &d);
		if (r < 0) {
			cli_error("%s", d.msg);
			code = r == -ENOENT ? DRIFT_EXIT_USAGE
					    : exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
		code = cli_snapshot_comparable(info);
		if (code)
			goto out;
	}
	out.fp = fopen("/dev/null", "we");
	if (!out.fp) {
		cli_error("cannot open /dev/null: %s", strerror(errno));
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	args->format = REPORT_TEXT;
	code = cli_compare_report_to(&out, NULL, st, "diff", &a, &b, NULL, 0, rules, false, args);
	fclose(out.fp);
	if (code >= DRIFT_EXIT_USAGE)
		goto out;
	code = 0;
	r = snap_run_get(st, 0, &run, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	*ret_id = run.id;
out:
	snap_run_info_release(&run);
	snap_info_release(&a);
	snap_info_release(&b);
	return code;
}

static int cmd_browse(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_run_info run = { 0 };
	struct snap_info after = { 0 };
	struct tui_model *m = NULL;
	struct tui_opts o = { 0 };
	struct diag d = { 0 };
	int64_t id = 0;
	int r, code;

	if (args->noperands > 2 ||
	    (args->noperands == 1 && parse_run(args->operands[0], &id) < 0)) {
		fprintf(stderr, "drift browse: takes a run id (see 'drift runs'), two snapshots, "
				"or nothing for the newest run\nsee 'drift browse --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		cli_error("browse needs a terminal on stdin and stdout; for a report, use "
			  "'drift report'");
		return DRIFT_EXIT_USAGE;
	}
	/* The policy says what content is secret; one that does not load costs the diffs only. */
	if (cli_policy_load(args, &rules) != 0)
		rules = NULL;
	code = cli_root_open(args);
	if (code)
		goto out;
	/*
	 * Browsing a stored run reads only: a read-only open skips the
	 * quick_check of every page that a write open runs (1.5 s of a
	 * database of a million findings). OLD NEW stores its run, so it
	 * opens for writing when it may.
	 */
	if (args->noperands == 2)
		code = cli_store_open_for_runs(args, true, &st);
	else
		code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		goto out;
	if (args->noperands == 2) {
		cli_signals_install();
		code = diff_run(args, st, rules, &id);
		if (code)
			goto out;
	}
	r = snap_run_get(st, id, &run, &d);
	if (r < 0) {
		if (r == -ENOENT && !id)
			cli_error("no stored run to browse in '%s'; run 'drift check' or 'drift "
				  "diff' first",
				  cli_db_path(args));
		else
			cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	r = tui_load(st, run.id, run.findings, &m, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (run.after) {
		char name[32];

		snprintf(name, sizeof(name), "%lld", (long long)run.after);
		if (snap_find(st, name, &after, &d) == 0)
			o.host = after.host;
	}
	o.st = st;
	o.db_path = cli_db_path(args);
	o.run = &run;
	o.rules = rules;
	o.ops = &settle_ops;
	if (*cli_root(args))
		o.read_only = "the run is of another root (--root)";
	else if (access(o.db_path, W_OK) < 0)
		o.read_only = "the database is not writable";
	r = tui_run(&o, m, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = DRIFT_EXIT_INTERNAL;
	}
out:
	tui_model_free(m);
	snap_info_release(&after);
	snap_run_info_release(&run);
	snap_store_free(st);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_browse_def = {
	.name = "browse",
	.summary = "browse the findings of a stored run interactively",
	.usage =
		"usage: drift browse [options] [RUN]\n"
		"       drift browse [options] OLD NEW\n"
		"\n"
		"Browse the findings of a stored run in the terminal: the newest run, the\n"
		"run RUN (see 'drift runs'), or the comparison of the snapshots OLD and NEW\n"
		"(labels or ids), run and stored as 'drift diff OLD NEW' does. A tree by\n"
		"directory, by kind or by package event, or a sorted list; filters; search;\n"
		"each finding's changed attributes, rule, package and content diff. Press ?\n"
		"in the browser for every key. Needs a terminal on stdin and stdout. Settling\n"
		"keys (a accept, w waive, u undo) are read-only with --root or a database\n"
		"that cannot be written.\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --policy FILE      policy whose secrets are never shown, and that OLD NEW\n"
		"                     classifies under (default: as for 'drift init')\n"
		"  --root DIR         the run's host is under DIR (read-only browsing)\n"
		"  --count-expected   OLD NEW: expected deviations count too\n"
		"  --all-changes      OLD NEW: also ctime-only changes (see 'drift diff')\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_POLICY | OPT_ROOT | OPT_COUNT_EXPECTED | OPT_ALL_CHANGES |
		OPT_ALLOW_INSECURE,
	.run = cmd_browse,
};
