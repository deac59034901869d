/* drift scan: store a labelled snapshot, for `drift diff` later. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/banned.h"

static int cmd_scan(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct rule_set *rules = NULL;
	struct snap_info base = { 0 }, info = { 0 };
	struct scan_stats stats = { 0 };
	struct snap_new params = { 0 };
	struct diag d = { 0 };
	char **roots = NULL;
	const char **probes = NULL;
	size_t nroots = 0, nprobes = 0;
	char label[64];
	int r, code = 0;

	if (args->upgrade) {
		/* The apt hook's pair: apt-<UTC time>-pre, then apt-<UTC time>-post. */
		time_t now = time(NULL);
		struct tm tm;

		if (args->label) {
			fprintf(stderr,
				"drift scan: --upgrade names the snapshot itself; no --label\n"
				"see 'drift scan --help'\n");
			return DRIFT_EXIT_USAGE;
		}
		if (args->keep == 1) {
			/* The post snapshot's pruning would take its own pre. */
			fprintf(stderr, "drift scan: --upgrade keeps pairs: --keep must be 0 or at "
					"least 2\nsee 'drift scan --help'\n");
			return DRIFT_EXIT_USAGE;
		}
		char stamp[32];

		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		snprintf(label, sizeof(label), "apt-%s-%s", stamp, args->upgrade);
		args->label = label;
	}
	if (!args->label) {
		fprintf(stderr, "drift scan: a --label is required\nsee 'drift scan --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (snap_label_check(args->label, &d) < 0) {
		fprintf(stderr, "drift scan: %s\n", d.msg);
		return DRIFT_EXIT_USAGE;
	}

	code = cli_policy_load(args, &rules);
	if (code)
		return code;
	code = cli_root_open(args);
	if (code)
		goto out;
	code = cli_store_open(args, SNAP_OPEN_WRITE, &st);
	if (code)
		goto out;
	if (args->upgrade) {
		/* Two dpkg runs in one second: apt-TIME.2-pre, so each keeps its own pair. */
		struct snap_info taken = { 0 };
		char stamp[32];

		snprintf(stamp, sizeof(stamp), "%.16s", label + 4);
		for (unsigned n = 2; snap_find(st, label, &taken, &d) == 0 && n < 1000; n++) {
			snap_info_release(&taken);
			snprintf(label, sizeof(label), "apt-%s.%u-%s", stamp, n, args->upgrade);
		}
		memset(&d, 0, sizeof(d));
	}

	/* Without paths, scan what the baseline covers, so the two compare well. */
	r = snap_baseline(st, &base, &d);
	if (r < 0 && r != -ENOENT) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (args->noperands || r == -ENOENT) {
		code = cli_roots_resolve(args->operands, args->noperands, rules, args, &roots,
					 &nroots);
		if (code)
			goto out;
		params.roots = (const char *const *)roots;
		params.nroots = nroots;
	} else {
		/* All of them, the missing ones too, as the baseline records them. */
		params.roots = (const char *const *)base.roots;
		params.nroots = base.nroots;
	}
	if (args->nexcludes || r == -ENOENT) {
		params.excludes = args->excludes;
		params.nexcludes = args->nexcludes;
	} else {
		params.excludes = (const char *const *)base.excludes;
		params.nexcludes = base.nexcludes;
	}
	cli_params_from_policy(&params, rules, args);
	if (r == 0 && !args->have_hash)
		params.hash = base.hash;
	params.cross_mounts = params.cross_mounts || (r == 0 && base.cross_mounts);
	params.purpose = args->upgrade ? SNAP_PURPOSE_UPGRADE : SNAP_PURPOSE_SCAN;
	params.label = args->label;
	params.replace = args->replace;
	params.keep = args->keep;
	code = cli_probes_select(args, rules, r == 0 ? &base : NULL, args->noperands > 0, &probes,
				 &nprobes);
	if (code)
		goto out;
	params.probes = probes;
	params.nprobes = nprobes;

	cli_signals_install();
	code = cli_scan_into(st, &params, rules, NULL, args, NULL, NULL, &info, &stats);
	if (code)
		goto out;
	if (!args->quiet)
		cli_print_scan_summary("scan", "snapshot", &info, &stats);
out:
	snap_info_release(&base);
	snap_info_release(&info);
	snap_store_free(st);
	cli_roots_free(roots, nroots);
	free(probes);
	if (args->upgrade)
		args->label = NULL; /* it pointed at this frame */
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_scan_def = {
	.name = "scan",
	.confirms = true,
	.summary = "store a labelled snapshot (before and after an upgrade...)",
	.usage =
		"usage: drift scan --label LABEL [options] [PATH...]\n"
		"       drift scan --upgrade pre|post [options]\n"
		"\n"
		"Scan PATHs (default: the baseline's roots, or the policy's without a\n"
		"baseline) and store the result as a snapshot named LABEL, to compare\n"
		"later with 'drift diff'. A label is not all digits: numbers name snapshot ids.\n"
		"\n"
		"options:\n"
		"  --label LABEL      the snapshot's name (required, unless --upgrade)\n"
		"  --upgrade pre|post the apt hook's snapshots (dist/apt/99drift): labelled\n"
		"                     apt-<UTC time>-pre or -post, pruned like checks\n"
		"                     (--keep); 'drift diff --last-upgrade' compares the newest pair\n"
		"  --keep N           with --upgrade: keep the newest N of them (default 30)\n"
		"  --replace          replace the snapshot that has this label (once the new\n"
		"                     one is complete)\n"
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --key FILE         seal what is written with this key file (default:\n"
		"                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		"  --exclude PATTERN  do not scan what matches (repeatable)\n"
		"  --policy FILE      policy (default: as for 'drift init')\n"
		"  --hash ALGO        content hash: xxh3-128, sha256 or none (default: the baseline's,\n"
		"                     else the policy's)\n"
		"  --allow-insecure   as root, use a policy or database others could have written\n"
		"  --cross-mounts     descend into other file systems below a root\n"
		"  --threads N        walker threads (default: one per CPU)\n"
		"  --probes LIST      system state to inventory: all, none, or a comma list\n"
		"                     (default: the baseline's, else the policy's; none when\n"
		"                     PATHs are given)\n"
		"  --root DIR         the host is under DIR (see 'drift init --help')\n"
		"  -q, --quiet        print nothing but errors\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_POLICY | OPT_ALLOW_INSECURE | OPT_LABEL | OPT_REPLACE | OPT_EXCLUDE |
		OPT_HASH | OPT_CROSS_MOUNTS | OPT_THREADS | OPT_QUIET | OPT_PROBES | OPT_ROOT |
		OPT_UPGRADE | OPT_KEEP,
	.run = cmd_scan,
};
