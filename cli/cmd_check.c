/* drift check: scan the live host, compare it with the baseline, report. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "common/banned.h"

/* What the report needs, for check_report(). */
struct check_report {
	const struct snap_info *base;
	const char *const *roots; /* compared over */
	size_t nroots;
	const struct rule_set *rules;
	const struct cli_args *args;
	struct cli_output dest;   /* opened before the scan: a bad --output fails early */
	struct cli_output spool;  /* the report, delivered once the run is stored (or not) */
	struct cli_reports extra; /* --report: replaced once the run is stored */
	int report_code;          /* what writing it into the spool said */
};

/* Compare the finished, not yet committed, check snapshot @info with the baseline. */
static int check_report(struct snap_store *st, const struct snap_info *info, void *userdata)
{
	struct check_report *cr = userdata;
	int code = cli_output_spool(&cr->spool, cr->args);

	if (code)
		return cr->report_code = code;
	cr->spool.color = cr->dest.color;
	code = cli_compare_report_to(&cr->spool, &cr->extra, st, "check", cr->base, info, cr->roots,
				     cr->nroots, cr->rules, true, cr->args);
	return cr->report_code = code;
}

static int cmd_check(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_info base = { 0 };
	struct snap_new params = { 0 };
	struct check_report cr = { 0 };
	struct diag d = { 0 };
	struct stat sb;
	char **roots = NULL;
	const char **probes = NULL;
	size_t nroots = 0, nprobes = 0;
	const char *db = cli_db_path(args);
	int r, code = 0;

	/* A check never creates a database: without one there is nothing to check against. */
	if (stat(db, &sb) < 0 && errno == ENOENT) {
		cli_error("no database at '%s' (run 'drift init' first)", db);
		return DRIFT_EXIT_NO_BASELINE;
	}
	code = cli_policy_load(args, &rules);
	if (!code)
		code = cli_waivers_load(args); /* before the scan: a bad file fails now */
	if (code) {
		rule_set_free(rules);
		return code;
	}
	code = cli_root_open(args);
	if (code)
		goto out;
	code = cli_store_open(args, SNAP_OPEN_WRITE, &st);
	if (code)
		goto out;
	r = snap_baseline(st, &base, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_NO_BASELINE
				    : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	/* What diff refuses, check refuses too, and before it scans. */
	code = cli_snapshot_comparable(&base);
	if (code)
		goto out;

	if (args->noperands) {
		code = cli_roots_resolve(args->operands, args->noperands, rules, args, &roots,
					 &nroots);
		if (code)
			goto out;
		code = cli_roots_within(roots, nroots, &base);
		if (code)
			goto out;
		params.roots = (const char *const *)roots;
		params.nroots = nroots;
	} else {
		code = cli_roots_existing(base.roots, base.nroots, args, &roots, &nroots);
		if (code)
			goto out;
		params.roots = (const char *const *)roots;
		params.nroots = nroots;
	}
	/* The baseline's scan settings, unless the command line says otherwise. */
	if (args->nexcludes) {
		params.excludes = args->excludes;
		params.nexcludes = args->nexcludes;
	} else {
		params.excludes = (const char *const *)base.excludes;
		params.nexcludes = base.nexcludes;
	}
	cli_params_from_policy(&params, rules, args);
	params.hash = args->have_hash ? args->hash : base.hash;
	params.cross_mounts = args->cross_mounts || base.cross_mounts;
	params.purpose = SNAP_PURPOSE_CHECK;
	params.keep = args->keep;
	code = cli_probes_select(args, rules, &base, args->noperands > 0, &probes, &nprobes);
	if (code)
		goto out;
	params.probes = probes;
	params.nprobes = nprobes;

	/* Without paths, compare over all the baseline's roots, the vanished ones too. */
	cr.base = &base;
	cr.roots = args->noperands ? params.roots : (const char *const *)base.roots;
	cr.nroots = args->noperands ? params.nroots : base.nroots;
	cr.rules = rules;
	cr.args = args;

	/*
	 * The report is written before the commit, so that a full disk does
	 * not lose it, but into a spool: it reaches its reader (a pipe, a
	 * pager, a FIFO) only after the commit, so that no reader holds the
	 * database's lock, nor loses the run by going away early.
	 */
	cli_signals_install();
	code = cli_output_open(&cr.dest, args);
	if (code)
		goto out;
	code = cli_reports_open(&cr.extra, args);
	if (code) {
		cli_output_close(&cr.dest, false);
		goto out;
	}
	code = cli_scan_into(st, &params, rules, args->trust_ctime ? &base : NULL, args,
			     check_report, &cr, NULL, NULL);
	{
		/* A --report file that could not be written leaves the main report be. */
		bool ok = cr.spool.fp &&
			  (cr.report_code < DRIFT_EXIT_USAGE ||
			   (cr.report_code == DRIFT_EXIT_OUTPUT && cr.extra.failed)) &&
			  code != DRIFT_EXIT_INTERRUPTED;
		int r2 = cli_output_deliver(&cr.spool, &cr.dest, ok);

		if (r2 && code < DRIFT_EXIT_USAGE)
			code = r2;
		if (ok)
			code = cli_reports_close(&cr.extra, code);
		else
			cli_reports_close(&cr.extra, DRIFT_EXIT_USAGE); /* replaces nothing */
	}
out:
	snap_info_release(&base);
	snap_store_free(st);
	cli_roots_free(roots, nroots);
	free(probes);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_check_def = {
	.name = "check",
	.summary = "compare the live host with the baseline",
	.usage =
		"usage: drift check [options] [PATH...]\n"
		"\n"
		"Scan the host (the baseline's roots, or PATHs under them), store the scan as\n"
		"a check snapshot, compare it with the baseline, classify each deviation under\n"
		"the policy and report it. The exit code adds 1 if anything was added, 2 if\n"
		"removed, 4 if modified, counting drift only (not what the policy expects);\n"
		"codes from 16 up are failures (see drift(1)).\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --policy FILE      policy (default: /etc/drift/policy.yaml as root,\n"
		"                     $XDG_CONFIG_HOME/drift/policy.yaml otherwise, if it\n"
		"                     exists; else the built-in one)\n"
		"  --waivers FILE     waivers (default: /etc/drift/waivers.yaml as root,\n"
		"                     $XDG_CONFIG_HOME/drift/waivers.yaml otherwise, if it\n"
		"                     exists); see 'drift waive --help'\n" CLI_REPORT_OPTIONS_HELP
		"  --since-last       mark each finding new or persisting since the previous\n"
		"                     check, and list what that one had and this one has not\n"
		"  --output FILE      write the report to FILE (replaced when complete)\n"
		"  --color WHEN       auto (default: on a terminal, without NO_COLOR), always, never\n"
		"  --all-changes      also report ctime-only changes and a directory's own\n"
		"                     mtime, ctime, size and link count\n"
		"  --count-expected   expected deviations count in the exit code too\n"
		"  --trust-ctime      reuse the baseline's hash of a file larger than 128 KiB\n"
		"                     whose device, inode, size, mtime and ctime are unchanged\n"
		"                     (see drift(1) for what this trusts)\n"
		"  --sample PERCENT   with --trust-ctime, read this share of the files anyway,\n"
		"                     a different share each run (default 1)\n"
		"  --keep N           keep the newest N check snapshots (default 30, 0 = all)\n"
		"  --exclude PATTERN  do not scan what matches (default: the baseline's excludes)\n"
		"  --hash ALGO        content hash: xxh3-128, sha256 or none (default: the\n"
		"                     baseline's)\n"
		"  --cross-mounts     descend into other file systems below a root\n"
		"  --threads N        walker threads (default: the policy's, else one per CPU)\n"
		"  --probes LIST      system state to inventory: all, none, or a comma list\n"
		"                     (default: the baseline's; none when PATHs are given)\n"
		"  --root DIR         the host is under DIR (see 'drift init --help')\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n"
		"  -q, --quiet        no progress line; nothing at all on a clean check\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_REPORTS | OPT_SINCE_LAST | OPT_POLICY | OPT_TRUST_CTIME |
		OPT_COUNT_EXPECTED | OPT_ALLOW_INSECURE | OPT_FORMAT | OPT_OUTPUT | OPT_COLOR |
		OPT_ALL_CHANGES | OPT_KEEP | OPT_EXCLUDE | OPT_HASH | OPT_CROSS_MOUNTS |
		OPT_THREADS | OPT_QUIET | OPT_PROBES | OPT_ROOT | OPT_WAIVERS,
	.run = cmd_check,
};
