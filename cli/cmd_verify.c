/*
 * drift verify: the live host against the package database alone, like
 * `debsums -a`: every file an installed package ships with an MD5 sum is
 * read and compared, by worker threads, and what differs is reported as
 * deviations (modified: content differs; removed: missing), each naming
 * its package, classified by the policy's rule for its path. No database
 * or baseline is needed or written.
 */
#include "cli/cli.h"
#include "cli/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "compare/compare.h"
#include "scanner/dpkg.h"
#include "common/banned.h"

static void finding(const char *probe, const char *file, unsigned line, const char *msg,
		    void *userdata)
{
	(void)probe;
	(void)userdata;
	if (line)
		cli_warn("%s:%u: %s", cli_path(file, strlen(file), 0), line, msg);
	else
		cli_warn("%s: %s", cli_path(file, strlen(file), 0), msg);
}

static int cmd_verify(struct cli_args *args)
{
	struct rule_set *rules = NULL;
	struct dpkg_db *db = NULL;
	struct report_meta meta = { 0 };
	struct cli_report_sink vs = { 0 };
	struct cli_reports extra = { 0 };
	struct compare_sink sink;
	struct compare_record_info ri = { 0 };
	struct compare_verify_opts o = { 0 };
	struct snap_store *st = NULL;
	struct cli_output out = { 0 };
	struct diag d = { 0 };
	uint64_t checked = 0;
	char dbpath[4096];
	int r, code;
	bool out_open = false;

	if (args->noperands) {
		fprintf(stderr, "drift verify: takes no operands\nsee 'drift verify --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	code = cli_policy_load(args, &rules);
	if (!code)
		code = cli_waivers_load(args);
	if (code) {
		rule_set_free(rules);
		return code;
	}
	code = cli_root_open(args);
	if (code)
		goto out;
	r = dpkg_db_load(args->root_fd, finding, NULL, &db, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = r == -ENOENT ? DRIFT_EXIT_NO_BASELINE : DRIFT_EXIT_SCAN;
		goto out;
	}

	/* The run is kept in the database when there is one we may write. */
	code = cli_store_open_for_runs(args, false, &st);
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
	snprintf(dbpath, sizeof(dbpath), "%s/var/lib/dpkg", cli_root(args));
	meta.command = "verify";
	meta.database = dbpath;
	meta.color = out.color;
	meta.quiet = args->quiet;
	cli_report_meta_args(&meta, args);
	r = report_new(args->format, out.fp, &meta, &vs.rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	code = cli_reports_start(&extra, &meta, args);
	if (code)
		goto out;
	vs.extra = &extra;
	code = cli_journal_open(args, "verify", &vs.journal);
	if (code)
		goto out;
	o.rootfd = args->root_fd;
	o.db = db;
	o.rules = rules;
	o.threads = args->threads;
	o.unowned = args->unowned;
	o.stop = cli_interrupted_flag();
	o.waivers = args->waiver_set;
	cli_report_sink_init(&vs, &sink);
	vs.with_sides = true;
	ri.command = "verify";
	ri.database = dbpath;
	ri.count_expected = true;
	ri.rules = rules;
	code = cli_record_begin(&vs, st, &ri);
	if (code)
		goto out;
	r = compare_verify(&o, &sink, &checked, &d);
	if (r < 0 && vs.rec_err)
		code = cli_compare_failed(vs.rep, r, 0, CLI_STAGE_STORE, &vs.rec_diag);
	else if (r < 0)
		code = cli_compare_failed(vs.rep, r, vs.err, CLI_STAGE_SCAN, &d);
	if (r < 0) {
		code = cli_record_finish(&vs, code, 0);
		goto out;
	}
	report_set_checked(vs.rep, checked);
	for (size_t i = 0; i < extra.n; i++)
		report_set_checked(extra.rep[i], checked);
	code = cli_reports_write(&extra, cli_report_finish(vs.rep));
	code = cli_record_finish(&vs, code, checked);
out:
	cli_report_journal_close(&vs, code);
	code = cli_reports_close(&extra, code);
	report_free(vs.rep);
	if (out_open)
		code = cli_output_finish(&out, code);
	dpkg_db_free(db);
	snap_store_free(st);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_verify_def = {
	.name = "verify",
	.summary = "check installed files against the package database (debsums -a)",
	.usage =
		"usage: drift verify [options]\n"
		"\n"
		"Check every file an installed Debian package ships with an MD5 sum, the\n"
		"conffiles included, against the package database (var/lib/dpkg), with one\n"
		"reader per CPU, as 'debsums -a' does. What differs is reported like a check:\n"
		"modified (content differs; a changed conffile is 'locally modified\n"
		"configuration'), removed (missing), each naming its package, with the\n"
		"severity of the policy's rule for its path. No baseline is needed; when the\n"
		"database exists and may be written, the run is stored there ('drift runs').\n"
		"MD5 only shows accidents and package mix-ups: anyone who can write a file\n"
		"can also write var/lib/dpkg, and MD5 collisions can be crafted.\n"
		"Exit code as for 'drift check'.\n"
		"\n"
		"options:\n"
		"  --root DIR         verify the host under DIR (a mounted image, a container)\n"
		"  --db PATH          database that keeps the run (default: as for 'drift init';\n"
		"                     never created by verify)\n"
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --unowned          also list the files in system directories that no\n"
		"                     package owns (the policy's packages.unowned scope)\n"
		"  --policy FILE      policy for severities (default: as for 'drift init')\n"
		"  --waivers FILE     waivers (default: as for 'drift check')\n"
		"  --threads N        reader threads (default: one per CPU)\n" CLI_REPORT_OPTIONS_HELP
		"  --output FILE      write the report to FILE (replaced when complete)\n"
		"  --color WHEN       auto (default), always, never\n"
		"  --allow-insecure   as root, use a policy others could have written\n"
		"  -q, --quiet        print nothing when nothing differs\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_REPORTS | OPT_POLICY | OPT_ROOT | OPT_THREADS | OPT_FORMAT |
		OPT_OUTPUT | OPT_COLOR | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_UNOWNED | OPT_WAIVERS,
	.run = cmd_verify,
};
