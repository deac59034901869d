/* drift diff: compare two stored snapshots (the pre-/post-upgrade workflow). */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

int cli_snapshot_comparable(const struct snap_info *info)
{
	if (info->complete)
		return 0;
	cli_error("snapshot #%lld is incomplete (its scan was interrupted); it cannot be compared",
		  (long long)info->id);
	return DRIFT_EXIT_DATABASE;
}

static int find_complete(struct snap_store *st, const char *name, struct snap_info *ret_info)
{
	struct diag d = { 0 };
	int r = snap_find(st, name, ret_info, &d), code;

	if (r < 0) {
		cli_error("%s", d.msg);
		return r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
	}
	code = cli_snapshot_comparable(ret_info);
	if (code)
		snap_info_release(ret_info);
	return code;
}

struct last_upgrade {
	int64_t pre, post;   /* ids, 0 = none */
	int64_t pre_of_post; /* the "-pre" before that "-post" */
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

static int find_upgrade(const struct snap_info *info, void *userdata)
{
	struct last_upgrade *lu = userdata;

	if (info->purpose != SNAP_PURPOSE_UPGRADE)
		return 0;
	/*
	 * Oldest first. A "-post" pairs with the "-pre" right before it, once:
	 * an incomplete snapshot, or a "-post" without its own "-pre" (the
	 * hook's pre failed), breaks the chain, so that changes made between
	 * two dpkg runs are never passed off as one run's.
	 */
	if (!info->complete || !info->label) {
		lu->pre = 0;
	} else if (has_suffix(info->label, "-pre")) {
		lu->pre = info->id;
	} else if (has_suffix(info->label, "-post")) {
		lu->post = info->id;
		lu->pre_of_post = lu->pre;
		lu->pre = 0;
	}
	return 0;
}

static int cmd_diff(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_info a = { 0 }, b = { 0 };
	int code;

	/* Ctrl-C ends the report cleanly (exit 20): no temporary file left behind. */
	cli_signals_install();
	if (args->last_upgrade) {
		struct last_upgrade lu = { 0 };
		struct diag d = { 0 };
		char pre[32], post[32];
		int r;

		if (args->noperands) {
			fprintf(stderr, "drift diff: --last-upgrade takes no snapshots\n"
					"see 'drift diff --help'\n");
			return DRIFT_EXIT_USAGE;
		}
		code = cli_policy_load(args, &rules);
		if (!code)
			code = cli_waivers_load(args);
		if (!code)
			code = cli_root_open(args);
		if (!code)
			code = cli_store_open_for_runs(args, true, &st);
		if (code)
			goto out;
		r = snap_list(st, find_upgrade, &lu, &d);
		if (r < 0) {
			cli_error("%s", d.msg);
			code = exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
		if (!lu.post || !lu.pre_of_post) {
			cli_error(
				"no complete pair of upgrade snapshots (apt-...-pre and -post) in "
				"the database%s; see dist/apt/99drift and drift(1)",
				lu.post ? " (the newest -post has no -pre of its own)" : "");
			code = DRIFT_EXIT_NO_BASELINE;
			goto out;
		}
		snprintf(pre, sizeof(pre), "%lld", (long long)lu.pre_of_post);
		snprintf(post, sizeof(post), "%lld", (long long)lu.post);
		code = find_complete(st, pre, &a);
		if (!code)
			code = find_complete(st, post, &b);
		if (!code)
			code = cli_compare_report(st, "diff", &a, &b, NULL, 0, rules, false, args);
		goto out;
	}
	if (args->noperands != 2) {
		fprintf(stderr,
			"drift diff: takes two snapshots (labels or ids), not %zu\n"
			"see 'drift diff --help'\n",
			args->noperands);
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
	if (!code)
		code = cli_store_open_for_runs(args, true, &st);
	if (!code)
		code = find_complete(st, args->operands[0], &a);
	if (!code)
		code = find_complete(st, args->operands[1], &b);
	if (!code)
		code = cli_compare_report(st, "diff", &a, &b, NULL, 0, rules, false, args);
out:
	snap_info_release(&a);
	snap_info_release(&b);
	snap_store_free(st);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_diff_def = {
	.name = "diff",
	.summary = "compare two stored snapshots",
	.usage =
		"usage: drift diff [options] OLD NEW\n"
		"       drift diff [options] --last-upgrade\n"
		"\n"
		"Compare two stored snapshots, each named by its label or its id (see 'drift\n"
		"snapshots'): what was added, removed and modified from OLD to NEW, classified\n"
		"under the policy. When both recorded their packages, a file an upgrade\n"
		"replaced with the package's own content is expected, naming the package.\n"
		"Exit code as for 'drift check'.\n"
		"\n"
		"options:\n"
		"  --last-upgrade     compare the newest pair of the apt hook's snapshots\n"
		"                     (apt-<time>-pre and -post, see 'drift scan --upgrade')\n"
		"  --root DIR         where the snapshots' host is (a mounted image...): the\n"
		"                     files whose content is checked against their packages\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --policy FILE      policy that classifies (default: as for 'drift init')\n"
		"  --waivers FILE     waivers (default: as for 'drift check')\n"
		"  --count-expected   expected deviations count in the exit code too\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n" CLI_REPORT_OPTIONS_HELP
		"  --output FILE      write the report to FILE (replaced when complete)\n"
		"  --color WHEN       auto (default), always, never\n"
		"  --all-changes      also report ctime-only changes and a directory's own\n"
		"                     mtime, ctime, size and link count\n"
		"  -q, --quiet        print nothing when there is nothing to report\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_REPORTS | OPT_POLICY | OPT_COUNT_EXPECTED | OPT_ALLOW_INSECURE |
		OPT_FORMAT | OPT_OUTPUT | OPT_COLOR | OPT_ALL_CHANGES | OPT_QUIET |
		OPT_LAST_UPGRADE | OPT_ROOT | OPT_WAIVERS,
	.run = cmd_diff,
};
