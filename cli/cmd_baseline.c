/*
 * drift baseline [SNAPSHOT]: show the baseline, or make an earlier snapshot
 * the baseline again. Also the guard that 'drift init --force' and this
 * command share: a new baseline that covers less than the current one is
 * refused unless --narrower, since the next check would report nothing of
 * what it left out.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

static bool names_have(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* "a,b,c" (as --probes takes them), or "none". */
static int add_names(struct strbuf *sb, const char *const *v, size_t n)
{
	if (n == 0)
		return strbuf_adds(sb, "none");
	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(sb, "%s%s", i ? "," : "", v[i]) < 0)
			return -ENOMEM;
	return 0;
}

int cli_baseline_narrower(const struct snap_info *cur, const char *const *roots, size_t nroots,
			  const char *const *probes, size_t nprobes, const uint64_t *entries,
			  const struct cli_args *args)
{
	struct strbuf sb = STRBUF_INIT;
	const char *label = cur->label ? cur->label : "-";
	bool roots_less = false, probes_less = false;
	int r = 0;

	if (args->narrower)
		return 0;
	for (size_t i = 0; i < cur->nroots && !roots_less; i++) {
		bool covered = false;

		for (size_t j = 0; j < nroots && !covered; j++)
			covered = cli_root_covers(roots[j], cur->roots[i]);
		roots_less = !covered;
	}
	for (size_t i = 0; i < cur->nprobes && !probes_less; i++)
		probes_less = !names_have(probes, nprobes, cur->probes[i]);
	if (!roots_less && !probes_less && !(entries && *entries * 2 < cur->entries))
		return 0;

	if (strbuf_addf(&sb,
			"refusing a baseline that covers less than the current one, '%s' (#%lld",
			cli_path(label, strlen(label), 0), (long long)cur->id) < 0)
		goto oom;
	if (roots_less || probes_less) {
		if (strbuf_addf(&sb, ", %llu %s): ", (unsigned long long)cur->entries,
				cli_plural(cur->entries, "entry", "entries")) < 0)
			goto oom;
		if (roots_less && (strbuf_adds(&sb, "roots ") < 0 ||
				   cli_roots_format(&sb, (const char *const *)cur->roots,
						    cur->nroots, 0, NULL, NULL) < 0 ||
				   strbuf_adds(&sb, " -> ") < 0 ||
				   cli_roots_format(&sb, roots, nroots, 0, NULL, NULL) < 0))
			goto oom;
		if (probes_less &&
		    (strbuf_adds(&sb, roots_less ? "; probes " : "probes ") < 0 ||
		     add_names(&sb, (const char *const *)cur->probes, cur->nprobes) < 0 ||
		     strbuf_adds(&sb, " -> ") < 0 || add_names(&sb, probes, nprobes) < 0))
			goto oom;
	} else if (strbuf_addf(&sb,
			       "): entries %llu -> %llu, fewer than half, on roots that cover "
			       "the current one's",
			       (unsigned long long)cur->entries,
			       (unsigned long long)*entries) < 0) {
		goto oom;
	}
	cli_error("%s", sb.buf);
	cli_error("add --narrower to take it anyway (the current baseline would be kept as a "
		  "snapshot, which 'drift baseline' can make the baseline again)");
	r = DRIFT_EXIT_USAGE;
	strbuf_release(&sb);
	return r;

oom:
	strbuf_release(&sb);
	cli_error("out of memory");
	return DRIFT_EXIT_INTERNAL;
}

/* "'LABEL' (#ID, YYYY-MM-DD HH:MM:SS UTC)" of @info into @sb. */
static int add_snapshot_name(struct strbuf *sb, const struct snap_info *info)
{
	const char *label = info->label ? info->label : "-";
	time_t t = (time_t)(info->started_ns / 1000000000);
	char started[32] = "-";
	struct tm tm;

	if (gmtime_r(&t, &tm))
		strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S UTC", &tm);
	return strbuf_addf(sb, "'%s' (#%lld, %s)", cli_path(label, strlen(label), 0),
			   (long long)info->id, started);
}

static int baseline_show(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct snap_info base = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct diag d = { 0 };
	int r, code;

	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	r = snap_baseline(st, &base, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_NO_BASELINE
				    : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (add_snapshot_name(&sb, &base) < 0 ||
	    strbuf_addf(&sb, ": %llu %s", (unsigned long long)base.entries,
			cli_plural(base.entries, "entry", "entries")) < 0 ||
	    (base.errors &&
	     strbuf_addf(&sb, ", %llu unreadable", (unsigned long long)base.errors) < 0) ||
	    strbuf_adds(&sb, "; roots ") < 0 ||
	    cli_roots_format(&sb, (const char *const *)base.roots, base.nroots, 0, NULL, NULL) <
		    0 ||
	    strbuf_adds(&sb, "; probes ") < 0 || cli_probes_format(&sb, &base) < 0) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	printf("drift baseline: %s\n", sb.buf);
out:
	strbuf_release(&sb);
	snap_info_release(&base);
	snap_store_free(st);
	return code;
}

static int baseline_set(struct cli_args *args, const char *name)
{
	struct snap_store *st = NULL;
	struct snap_info target = { 0 }, cur = { 0 }, prev = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct diag d = { 0 };
	const char *db = cli_db_path(args);
	struct stat sbuf;
	bool have_cur;
	int r, code;

	/* Never creates a database: without one there is no snapshot to name. */
	if (stat(db, &sbuf) < 0 && errno == ENOENT) {
		cli_error("no database at '%s' (run 'drift init' first)", db);
		return DRIFT_EXIT_NO_BASELINE;
	}
	code = cli_store_open(args, SNAP_OPEN_WRITE, &st);
	if (code)
		return code;
	r = snap_find(st, name, &target, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (!target.complete) {
		cli_error(
			"snapshot #%lld is incomplete (its scan was interrupted); it cannot be the "
			"baseline",
			(long long)target.id);
		code = DRIFT_EXIT_DATABASE;
		goto out;
	}
	r = snap_baseline(st, &cur, &d);
	if (r < 0 && r != -ENOENT) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	have_cur = r == 0;
	if (have_cur && cur.id != target.id) {
		code = cli_baseline_narrower(&cur, (const char *const *)target.roots, target.nroots,
					     (const char *const *)target.probes, target.nprobes,
					     &target.entries, args);
		if (code)
			goto out;
	}

	r = snap_set_baseline(st, target.id, &prev, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT   ? DRIFT_EXIT_USAGE
		       : r == -EINVAL ? DRIFT_EXIT_DATABASE
				      : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (args->quiet)
		goto out;
	if (add_snapshot_name(&sb, &target) < 0 ||
	    strbuf_adds(&sb, r == 0 ? " is the baseline already" : " is the baseline now") < 0 ||
	    (prev.id && (strbuf_adds(&sb, "; the previous one is ") < 0 ||
			 add_snapshot_name(&sb, &prev) < 0))) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	printf("drift baseline: %s\n", sb.buf);
out:
	strbuf_release(&sb);
	snap_info_release(&target);
	snap_info_release(&cur);
	snap_info_release(&prev);
	snap_store_free(st);
	return code;
}

static int cmd_baseline(struct cli_args *args)
{
	if (args->noperands > 1) {
		fprintf(stderr, "drift baseline: takes at most one snapshot\n"
				"see 'drift baseline --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (args->noperands == 0) {
		if (args->narrower) {
			fprintf(stderr, "drift baseline: --narrower goes with a SNAPSHOT\n"
					"see 'drift baseline --help'\n");
			return DRIFT_EXIT_USAGE;
		}
		return baseline_show(args);
	}
	return baseline_set(args, args->operands[0]);
}

const struct cli_command cmd_baseline_def = {
	.name = "baseline",
	.confirms = true,
	.summary = "show the baseline, or make an earlier snapshot the baseline",
	.usage = "usage: drift baseline [options] [SNAPSHOT]\n"
		 "\n"
		 "Without SNAPSHOT, print the baseline in one line. With SNAPSHOT (a label or an\n"
		 "id, see 'drift snapshots'), make that complete snapshot the baseline that\n"
		 "'drift check' compares the host with: an earlier baseline (kept by 'drift init\n"
		 "--force' as 'baseline-<its date>'), a scan, a check. The previous baseline is\n"
		 "kept, and when it is labelled 'baseline' it is relabelled 'baseline-<its date>'\n"
		 "so that it can be named to come back. A SNAPSHOT that covers less than the\n"
		 "baseline (a root or a probe of the baseline it lacks, or fewer than half its\n"
		 "entries) is refused unless --narrower.\n"
		 "\n"
		 "options:\n"
		 "  --narrower         make SNAPSHOT the baseline even if it covers less\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --key FILE         seal what is written with this key file (default:\n"
		 "                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		 "  --allow-insecure   as root, use a database others could have written\n"
		 "  -q, --quiet        print nothing but errors when SNAPSHOT is given\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_NARROWER,
	.run = cmd_baseline,
};
