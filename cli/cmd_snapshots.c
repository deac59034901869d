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
	enum report_format format;
	size_t count;
	struct strbuf sb;
};

static int list_one(const struct snap_info *info, void *userdata)
{
	struct list_ctx *ctx = userdata;
	char started[32] = "-";
	time_t t = (time_t)(info->started_ns / 1000000000);
	struct tm tm;
	int r;

	if (ctx->format == REPORT_JSON) {
		strbuf_reset(&ctx->sb);
		r = report_format_snapshot_json(&ctx->sb, info);
		if (r < 0)
			return r;
		fprintf(ctx->fp, "%s\n    %s", ctx->count ? "," : "", ctx->sb.buf);
		ctx->count++;
		return 0;
	}
	if (ctx->count++ == 0)
		fprintf(ctx->fp, "  %4s  %-26s %-9s %-11s %-20s %9s %7s  %s\n", "ID", "LABEL",
			"PURPOSE", "STATUS", "STARTED (UTC)", "ENTRIES", "ERRORS", "ROOTS");
	if (gmtime_r(&t, &tm))
		strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(ctx->fp, "%c %4lld  %-26s %-9s %-11s %-20s %9llu %7llu ",
		info->is_baseline ? '*' : ' ', (long long)info->id,
		info->label ? cli_path(info->label, strlen(info->label), 1) : "-",
		report_purpose_name(info->purpose), info->complete ? "complete" : "incomplete",
		started, (unsigned long long)info->entries, (unsigned long long)info->errors);
	for (size_t i = 0; i < info->nroots; i++)
		fprintf(ctx->fp, " %s", cli_path(info->roots[i], strlen(info->roots[i]), 0));
	fputc('\n', ctx->fp);
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
		 "incomplete snapshot is one whose scan was interrupted.\n"
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
