/* drift init: scan the host and store the result as the baseline. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

static int cmd_init(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_info info = { 0 };
	struct scan_stats stats = { 0 };
	struct snap_new params = { 0 };
	struct diag d = { 0 };
	char **roots = NULL;
	const char **probes = NULL;
	size_t nroots = 0, nprobes = 0;
	int r, code;

	code = cli_policy_load(args, &rules);
	if (code)
		return code;
	code = cli_root_open(args);
	if (code)
		goto out;
	code = cli_probes_select(args, rules, NULL, args->noperands > 0, &probes, &nprobes);
	if (code)
		goto out;
	code = cli_roots_resolve(args->operands, args->noperands, rules, args, &roots, &nroots);
	if (code)
		goto out;
	code = cli_store_open(args, SNAP_OPEN_WRITE, &st);
	if (code)
		goto out;

	/* Refuse before scanning, not after: a second init needs --force. */
	if (!args->force) {
		struct snap_info old = { 0 };
		r = snap_baseline(st, &old, &d);
		if (r == 0) {
			cli_error("a baseline exists already (#%lld); use 'drift init --force' to "
				  "take a new one (the old one is kept, relabelled with its date)",
				  (long long)old.id);
			snap_info_release(&old);
			code = DRIFT_EXIT_USAGE;
			goto out;
		}
		if (r != -ENOENT) {
			cli_error("%s", d.msg);
			code = exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
	}

	params.purpose = SNAP_PURPOSE_BASELINE;
	params.replace = args->force;
	params.roots = (const char *const *)roots;
	params.nroots = nroots;
	params.excludes = args->excludes;
	params.nexcludes = args->nexcludes;
	params.probes = probes;
	params.nprobes = nprobes;
	cli_params_from_policy(&params, rules, args);

	cli_signals_install();
	code = cli_scan_into(st, &params, rules, NULL, args, NULL, NULL, &info, &stats);
	if (code)
		goto out;

	if (!args->quiet)
		cli_print_scan_summary("init", "baseline", &info, &stats);
out:
	snap_info_release(&info);
	snap_store_free(st);
	cli_roots_free(roots, nroots);
	free(probes);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_init_def = {
	.name = "init",
	.summary = "scan the host and store the baseline",
	.usage =
		"usage: drift init [options] [PATH...]\n"
		"\n"
		"Scan PATHs (default: the policy's roots) and store the result as the baseline\n"
		"that 'drift check' compares the host with. What is scanned below a root, and\n"
		"which attributes are collected, is the policy's to say (drift-policy(5)).\n"
		"A policy root that does not exist yet is recorded with a warning: every check\n"
		"looks at it, and what appears there is reported as added.\n"
		"\n"
		"options:\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --policy FILE      policy (default: /etc/drift/policy.yaml as root,\n"
		"                     $XDG_CONFIG_HOME/drift/policy.yaml otherwise, if it\n"
		"                     exists; else the built-in one, also '--policy builtin')\n"
		"  --force            replace an existing baseline; the old one is kept,\n"
		"                     relabelled 'baseline-<its date>'\n"
		"  --exclude PATTERN  do not scan what matches (repeatable): '/var/cache' (a path\n"
		"                     and what is below it), '/home/*/.cache', '*.swp'\n"
		"  --hash ALGO        content hash: xxh3-128, sha256 or none (default: the policy's)\n"
		"  --cross-mounts     descend into other file systems below a root\n"
		"  --threads N        walker threads (default: the policy's, else one per CPU)\n"
		"  --probes LIST      system state to inventory: all, none, or a comma list of\n"
		"                     package, user, service, sysctl, module, port, mount\n"
		"                     (default: the policy's; none when PATHs are given)\n"
		"  --root DIR         the host is under DIR (a mounted image, a container):\n"
		"                     paths and probes are read there, stored as on that host\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n"
		"  -q, --quiet        print nothing but errors\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_POLICY | OPT_FORCE | OPT_EXCLUDE | OPT_HASH | OPT_CROSS_MOUNTS |
		OPT_THREADS | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_PROBES | OPT_ROOT,
	.run = cmd_init,
};
