/* drift snapshots: list what the database holds. */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/probe.h"
#include "common/banned.h"

/* Whether @name is among the @n names of @v. */
static bool names_have(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

static int add_list(struct strbuf *sb, char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strbuf_addf(sb, "%s%s", i ? "," : "", v[i]) < 0)
			return -ENOMEM;
	return 0;
}

int cli_probes_format(struct strbuf *sb, const struct snap_info *info)
{
	size_t asked = info->nprobes + info->nprobes_unavailable, known = 0;
	int r;

	/* "all": every probe this drift has was asked for (run, or found unavailable). */
	for (size_t i = 0; i < probe_count; i++)
		known += names_have(info->probes, info->nprobes, probe_list[i]->name) ||
			 names_have(info->probes_unavailable, info->nprobes_unavailable,
				    probe_list[i]->name);
	if (asked && known == probe_count && asked == probe_count)
		r = strbuf_adds(sb, "all");
	else if (info->nprobes)
		r = add_list(sb, info->probes, info->nprobes);
	else
		r = strbuf_adds(sb, "none");
	if (r == 0 && info->nprobes_unavailable)
		r = strbuf_adds(sb, " (unavailable: ") < 0 ||
				    add_list(sb, info->probes_unavailable,
					     info->nprobes_unavailable) < 0 ||
				    strbuf_addch(sb, ')') < 0
			    ? -ENOMEM
			    : 0;
	return r < 0 ? -ENOMEM : 0;
}

struct list_ctx {
	FILE *fp;
	struct snap_store *st;
	enum report_format format;
	size_t count;
	struct strbuf sb;
	int64_t id; /* the snapshot being listed, for root_note() */
};

/* The roots that are wider than a line shows are counted: " ... (+N)". */
#define LIST_WIDTH  80
#define LIST_INDENT "       "

/*
 * "no entries": the snapshot holds nothing at or below @root. It did not
 * exist when the snapshot was taken (recorded so that checks look at it),
 * or the policy covers nothing there. One index seek per root.
 */
static const char *root_note(const char *root, void *userdata)
{
	struct list_ctx *ctx = userdata;
	const char *const roots[] = { root };
	const struct entry *e;
	struct snap_iter *it = NULL;
	int r;

	r = snap_iter_new(ctx->st, ctx->id, ENTRY_FILE, roots, 1, 0, &it, NULL);
	if (r == 0)
		r = snap_iter_next(it, &e, NULL);
	snap_iter_free(it);
	return r == 0 ? "no entries" : NULL;
}

static int list_one(const struct snap_info *info, void *userdata)
{
	struct list_ctx *ctx = userdata;
	char started[32] = "-";
	time_t t = (time_t)(info->started_ns / 1000000000);
	const char *label;
	struct tm tm;
	int r;

	strbuf_reset(&ctx->sb);
	if (ctx->format == REPORT_JSON) {
		r = report_format_snapshot_json(&ctx->sb, info);
		if (r < 0)
			return r;
		fprintf(ctx->fp, "%s\n    %s", ctx->count ? "," : "", ctx->sb.buf);
		ctx->count++;
		return 0;
	}
	/*
	 * Two lines a snapshot, so that each fits in 80 columns: what it is,
	 * then what it holds (probes, and roots as many as fit).
	 */
	if (ctx->count++ == 0)
		fprintf(ctx->fp, "%5s  %-25s %-8s  %-19s %9s %6s\n", "ID", "LABEL", "PURPOSE",
			"STARTED (UTC)", "ENTRIES", "ERRORS");
	if (gmtime_r(&t, &tm))
		strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm);
	/* An incomplete snapshot has no label: its label is chosen when it completes. */
	if (info->label)
		label = cli_path(info->label, strlen(info->label), 1);
	else
		label = info->complete ? "-" : "(incomplete)";
	fprintf(ctx->fp, "%c%4lld  %-25s %-8s  %-19s %9llu %6llu\n", info->is_baseline ? '*' : ' ',
		(long long)info->id, label, report_purpose_name(info->purpose), started,
		(unsigned long long)info->entries, (unsigned long long)info->errors);
	ctx->id = info->id;
	if (strbuf_adds(&ctx->sb, LIST_INDENT "probes ") < 0 ||
	    cli_probes_format(&ctx->sb, info) < 0 || strbuf_adds(&ctx->sb, "; roots ") < 0)
		return -ENOMEM;
	if (info->nroots == 0 && strbuf_adds(&ctx->sb, "none") < 0)
		return -ENOMEM;
	r = cli_roots_format(&ctx->sb, (const char *const *)info->roots, info->nroots,
			     ctx->sb.len < LIST_WIDTH ? LIST_WIDTH - ctx->sb.len : 1,
			     info->complete ? root_note : NULL, ctx);
	if (r < 0)
		return r;
	fprintf(ctx->fp, "%s\n", ctx->sb.buf);
	return 0;
}

static int cmd_snapshots(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct cli_output out;
	struct list_ctx ctx = { 0 };
	const char *db = cli_db_path(args);
	int r, code;

	if (args->noperands) {
		fprintf(stderr,
			"drift snapshots: takes no arguments\nsee 'drift snapshots --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	/* As every command: as root, a database others could read or write is refused. */
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	cli_signals_install(); /* Ctrl-C ends the listing cleanly: no temporary left */
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	ctx.fp = out.fp;
	ctx.st = st;
	ctx.format = args->format;
	strbuf_init(&ctx.sb);
	if (ctx.format == REPORT_JSON)
		fputs("{\n  \"snapshots\": [", ctx.fp);
	r = snap_list(st, list_one, &ctx, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
	} else if (ctx.format == REPORT_JSON) {
		fputs(ctx.count ? "\n  ]\n}\n" : "]\n}\n", ctx.fp);
	} else if (ctx.count == 0 && !args->quiet) {
		fprintf(stderr, "drift snapshots: no snapshots in '%s'\n", db);
	}
	strbuf_release(&ctx.sb);
	r = cli_output_close(&out, code == 0);
	if (r && !code)
		code = r;
out:
	snap_store_free(st);
	return code;
}

const struct cli_command cmd_snapshots_def = {
	.name = "snapshots",
	.summary = "list the stored snapshots",
	.usage = "usage: drift snapshots [options]\n"
		 "\n"
		 "List the snapshots in the database, oldest first; '*' marks the baseline. An\n"
		 "incomplete snapshot is one whose scan was interrupted (or refused). Below each\n"
		 "one, the probes it holds ('all', 'none' or a list; those asked for whose source\n"
		 "was missing as 'unavailable') and its roots: each once, none below another\n"
		 "(its entries are in that one's), as many as fit in 80 columns ('... (+N)'). A\n"
		 "root marked '(no entries)' held nothing: it did not exist then (every check\n"
		 "looks at it again), or the policy covers nothing there. '--format json' lists\n"
		 "every root as recorded.\n"
		 "\n"
		 "options:\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --format FORMAT    text (default) or json\n"
		 "  --output FILE      write the list to FILE\n"
		 "  --allow-insecure   as root, read a database others could have written\n"
		 "  -q, --quiet        say nothing when there are no snapshots\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_FORMAT | OPT_OUTPUT | OPT_QUIET,
	.run = cmd_snapshots,
};
