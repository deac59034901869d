/* drift init: scan the host and store the result as the baseline. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

/* What init_finished() holds the new baseline to. */
struct init_guard {
	const struct snap_info *cur; /* the baseline it replaces */
	const char *const *probes;   /* asked for (one found unavailable is no narrowing) */
	size_t nprobes;
	const struct cli_args *args;
};

/*
 * The new baseline, scanned, not yet committed: refuse it when it holds
 * far fewer entries than the one it replaces, on roots that cover that
 * one's (an --exclude, a root that was emptied, a mount that was gone).
 */
static int init_finished(struct snap_store *st, const struct snap_info *info, void *userdata)
{
	const struct init_guard *g = userdata;
	int code = cli_baseline_narrower(g->cur, (const char *const *)info->roots, info->nroots,
					 g->probes, g->nprobes, &info->entries, g->args);

	if (code)
		cli_error("the new snapshot (#%lld) is left incomplete; the baseline is unchanged",
			  (long long)info->id);
	return -code;
}

static int cmd_init(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_info info = { 0 }, cur = { 0 };
	struct init_guard guard = { 0 };
	bool have_cur = false;
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
	r = snap_baseline(st, &cur, &d);
	if (r < 0 && r != -ENOENT) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	have_cur = r == 0;
	if (have_cur && !args->force) {
		cli_error("a baseline exists already (#%lld); use 'drift init --force' to "
			  "take a new one (the old one is kept, relabelled with its date)",
			  (long long)cur.id);
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	/*
	 * 'init --force /etc/nginx/nginx.conf' on a host with a baseline of
	 * /etc and /usr would leave a baseline of one file, and every check
	 * after it clean: a narrower baseline needs --narrower.
	 */
	if (have_cur) {
		code = cli_baseline_narrower(&cur, (const char *const *)roots, nroots, probes,
					     nprobes, NULL, args);
		if (code)
			goto out;
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

	guard.cur = &cur;
	guard.probes = probes;
	guard.nprobes = nprobes;
	guard.args = args;
	cli_signals_install();
	code = cli_scan_into(st, &params, rules, NULL, args, have_cur ? init_finished : NULL,
			     &guard, &info, &stats);
	if (code)
		goto out;

	if (!args->quiet)
		cli_print_scan_summary("init", "baseline", &info, &stats);
out:
	snap_info_release(&info);
	snap_info_release(&cur);
	snap_store_free(st);
	cli_roots_free(roots, nroots);
	free(probes);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_init_def = {
	.name = "init",
	.confirms = true,
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
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --policy FILE      policy (default: /etc/drift/policy.yaml as root,\n"
		"                     $XDG_CONFIG_HOME/drift/policy.yaml otherwise, if it\n"
		"                     exists; else the built-in one, also '--policy builtin')\n"
		"  --force            replace an existing baseline; the old one is kept,\n"
		"                     relabelled 'baseline-<its date>' ('drift baseline' makes\n"
		"                     it the baseline again)\n"
		"  --narrower         with --force: take the new baseline even if it covers less\n"
		"                     than the old one (a root or a probe of the old one it lacks,\n"
		"                     or fewer than half its entries), which is refused otherwise\n"
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
	.opts = OPT_DB | OPT_POLICY | OPT_FORCE | OPT_NARROWER | OPT_EXCLUDE | OPT_HASH |
		OPT_CROSS_MOUNTS | OPT_THREADS | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_PROBES |
		OPT_ROOT,
	.run = cmd_init,
};
