/* drift runs: list the stored runs (checks, diffs, verifies and their findings). */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct runs_ctx {
	FILE *fp;
	enum report_format format;
	size_t count;
	struct strbuf sb;
};

/* "#ID (LABEL)" of one side, or "-". */
static void side(char *buf, size_t size, int64_t id, const char *label)
{
	if (!id)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "#%lld %s", (long long)id,
			 label ? cli_path(label, strlen(label), 2) : "-");
}

static int list_run(const struct snap_run_info *run, void *userdata)
{
	struct runs_ctx *ctx = userdata;
	char started[32] = "-", before[160], after[160];
	time_t t = (time_t)(run->started_ns / 1000000000);
	struct tm tm;
	int r;

	if (ctx->format == REPORT_JSON) {
		strbuf_reset(&ctx->sb);
		r = report_format_run_json(&ctx->sb, run);
		if (r < 0)
			return r;
		fprintf(ctx->fp, "%s\n    %s", ctx->count ? "," : "", ctx->sb.buf);
		ctx->count++;
		return 0;
	}
	if (ctx->count++ == 0)
		fprintf(ctx->fp, "%5s  %-7s %-20s %9s %7s %8s %4s  %s\n", "RUN", "COMMAND",
			"STARTED (UTC)", "FINDINGS", "DRIFT", "EXPECTED", "EXIT", "OLD -> NEW");
	if (gmtime_r(&t, &tm))
		strftime(started, sizeof(started), "%Y-%m-%d %H:%M:%S", &tm);
	side(before, sizeof(before), run->before, run->before_label);
	side(after, sizeof(after), run->after, run->after_label);
	fprintf(ctx->fp, "%5lld  %-7s %-20s %9llu %7llu %8llu %4d  %s -> %s\n", (long long)run->id,
		run->command, started, (unsigned long long)run->findings,
		(unsigned long long)run->counted, (unsigned long long)run->expected, run->exit_code,
		before, after);
	return 0;
}

static int cmd_runs(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	struct cli_output out;
	struct runs_ctx ctx = { 0 };
	int r, code;

	if (args->noperands) {
		fprintf(stderr, "drift runs: takes no arguments\nsee 'drift runs --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	cli_signals_install();
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	ctx.fp = out.fp;
	ctx.format = args->format;
	strbuf_init(&ctx.sb);
	if (ctx.format == REPORT_JSON)
		fputs("{\n  \"runs\": [", ctx.fp);
	r = snap_run_list(st, list_run, &ctx, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
	} else if (ctx.format == REPORT_JSON) {
		fputs(ctx.count ? "\n  ]\n}\n" : "]\n}\n", ctx.fp);
	} else if (ctx.count == 0 && !args->quiet) {
		fprintf(stderr, "drift runs: no stored runs in '%s'\n", snap_store_path(st));
	}
	strbuf_release(&ctx.sb);
	r = cli_output_close(&out, code == 0);
	if (r && !code)
		code = r;
out:
	snap_store_free(st);
	return code;
}

const struct cli_command cmd_runs_def = {
	.name = "runs",
	.summary = "list the stored runs of check, diff and verify",
	.usage = "usage: drift runs [options]\n"
		 "\n"
		 "List the runs stored in the database, oldest first: every check, diff and\n"
		 "verify keeps its findings (keys and verdicts) there, so that 'drift report'\n"
		 "can show any of them again. A run goes with its snapshots when they are\n"
		 "pruned; the newest 30 verify runs are kept.\n"
		 "\n"
		 "options:\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --format FORMAT    text (default) or json\n"
		 "  --output FILE      write the list to FILE\n"
		 "  --allow-insecure   as root, read a database others could have written\n"
		 "  -q, --quiet        say nothing when there are no runs\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_FORMAT | OPT_OUTPUT | OPT_QUIET,
	.run = cmd_runs,
};
