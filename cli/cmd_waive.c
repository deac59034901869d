/*
 * drift waive KEY... and drift waivers [list | lint]: tolerate findings of
 * a stored run for a while, and look after the waivers file. The work is
 * compare/waive.h's; this file parses, opens and hands over.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "compare/waive.h"
#include "common/banned.h"

const char *cli_waivers_path(struct cli_args *args)
{
	/* Beside the policy. */
	return args->waivers ? args->waivers
			     : cli_config_default("waivers.yaml", &args->waivers_default);
}

struct problems {
	unsigned count;
};

static void print_problem(const struct diag *d, void *userdata)
{
	struct problems *p = userdata;

	p->count++;
	if (d->file && d->line)
		fprintf(stderr, "%s:%u:%u: %s\n", d->file, d->line, d->col, d->msg);
	else if (d->file)
		fprintf(stderr, "%s: %s\n", d->file, d->msg);
	else
		fprintf(stderr, "drift: %s\n", d->msg);
}

/* Load the waivers into *@ret; 0 or an exit code after printing why. */
static int waivers_load(struct cli_args *args, struct waiver_set **ret)
{
	const char *path = cli_waivers_path(args);
	struct problems p = { 0 };
	struct diag d = { 0 };
	struct stat st;
	int r;

	/* As root, waivers others could write would hide drift: refused as a policy would be. */
	if (path && stat(path, &st) == 0) {
		int code = cli_check_secure_path(path, "waivers", true, args->allow_insecure);

		if (code)
			return code;
	}
	if (!path)
		r = waiver_set_empty(ret);
	else
		r = waiver_set_load_file(path, !args->waivers, print_problem, &p, ret, &d);
	if (r == -ENOMEM) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (r < 0) {
		if (!p.count)
			cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		else
			cli_error("%s: %u problem%s in the waivers", path, p.count,
				  p.count == 1 ? "" : "s");
		return DRIFT_EXIT_POLICY;
	}
	return 0;
}

int cli_waivers_load(struct cli_args *args)
{
	waiver_set_free(args->waiver_set);
	args->waiver_set = NULL;
	return waivers_load(args, &args->waiver_set);
}

/* --run RUN: a run id, or 0 (the newest) when not given. */
static int parse_run(const struct cli_args *args, const char *cmd, int64_t *ret)
{
	*ret = 0;
	if (!args->run)
		return 0;
	if (cli_parse_id(args->run, ret) < 0) {
		fprintf(stderr, "drift %s: --run takes a run id (see 'drift runs'), not '%s'\n",
			cmd, args->run);
		return DRIFT_EXIT_USAGE;
	}
	return 0;
}

/* Who waives: the login name, the sudo user under sudo. */
static const char *who_waives(char *buf, size_t size)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo && *sudo)
		return sudo;
	pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return pw->pw_name;
	snprintf(buf, size, "uid %u", (unsigned)getuid());
	return buf;
}

static int cmd_waive(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct strbuf text = STRBUF_INIT;
	struct diag d = { 0 };
	const char *path = cli_waivers_path(args);
	char whobuf[32], day[16];
	time_t now = time(NULL), expires;
	struct tm tm;
	int64_t run;
	int r, code;

	if (!args->noperands) {
		fprintf(stderr, "drift waive: name the findings to waive (a path, or KIND:KEY)\n"
				"see 'drift waive --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!args->reason || !*args->reason) {
		fprintf(stderr,
			"drift waive: --reason TEXT is required\nsee 'drift waive --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!args->expires) {
		fprintf(stderr, "drift waive: --expires DATE is required (YYYY-MM-DD or +30d)\n"
				"see 'drift waive --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (waive_parse_expiry(args->expires, now, &expires) < 0) {
		fprintf(stderr,
			"drift waive: --expires takes YYYY-MM-DD or +Nd (days), not '%s'\n"
			"see 'drift waive --help'\n",
			args->expires);
		return DRIFT_EXIT_USAGE;
	}
	if (!path) {
		cli_error("no waivers file: set HOME or XDG_CONFIG_HOME, or give --waivers FILE");
		return DRIFT_EXIT_USAGE;
	}
	code = parse_run(args, "waive", &run);
	if (code)
		return code;
	if (!gmtime_r(&expires, &tm) || !strftime(day, sizeof(day), "%Y-%m-%d", &tm))
		snprintf(day, sizeof(day), "?");
	/* Allowed (a test of expiry wants it), but surely not meant. */
	if (expires / 86400 < now / 86400)
		cli_warn("--expires %s is in the past: the waiver%s will not hold", day,
			 args->noperands == 1 ? "" : "s");

	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		return code;
	r = waive_findings(st, run, (const char *const *)args->operands, args->noperands,
			   args->reason, expires, who_waives(whobuf, sizeof(whobuf)), path,
			   args->dry_run ? WAIVE_DRY_RUN : 0, &text, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = r == -ENOENT || r == -EINVAL ? DRIFT_EXIT_USAGE
		       : r == -EBADMSG              ? DRIFT_EXIT_POLICY
		       : r == -ENOMEM               ? DRIFT_EXIT_INTERNAL
						    : exit_code_for_error(CLI_STAGE_STORE, r);
	} else if (args->dry_run) {
		fputs(text.buf ? text.buf : "", stdout);
		fprintf(stderr, "drift waive: --dry-run: %d waiver%s not written to '%s'\n", r,
			r == 1 ? "" : "s", path);
	} else if (!args->quiet) {
		fprintf(stderr, "drift waive: %d finding%s waived until %s in '%s'\n", r,
			r == 1 ? "" : "s", day, path);
	}
	strbuf_release(&text);
	snap_store_free(st);
	return code;
}

static void json_string(FILE *fp, const char *s)
{
	if (!s) {
		fputs("null", fp);
		return;
	}
	fputc('"', fp);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(fp, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(fp, "\\u%04x", c);
		else
			fputc(c, fp);
	}
	fputc('"', fp);
}

static int waivers_list(struct cli_args *args, const struct waiver_set *ws, FILE *fp)
{
	enum waiver_state *states = calloc(ws->n ? ws->n : 1, sizeof(*states));
	struct snap_store *st = NULL;
	struct snap_run_info info = { 0 };
	struct diag d = { 0 };
	int64_t run = 0;
	int code, r;

	if (!states) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	code = parse_run(args, "waivers", &run);
	if (!code)
		code = cli_store_open_for_runs(args, args->run != NULL, &st);
	if (code) {
		free(states);
		return code;
	}
	/* States against the run (the newest by default); by date without one. */
	if (st && snap_run_get(st, run, &info, &d) == 0)
		run = info.id;
	else if (args->run) {
		cli_error("%s", d.msg[0] ? d.msg : "no such run");
		code = DRIFT_EXIT_USAGE;
		goto out;
	} else
		run = 0;
	r = waiver_set_states(run ? st : NULL, run, ws, states, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (args->format == REPORT_JSON) {
		fprintf(fp, "{\n  \"file\": ");
		json_string(fp, ws->path);
		fprintf(fp, ",\n  \"run\": ");
		if (run)
			fprintf(fp, "%lld", (long long)run);
		else
			fputs("null", fp);
		fprintf(fp, ",\n  \"waivers\": [");
		for (size_t i = 0; i < ws->n; i++) {
			const struct waiver *w = &ws->v[i];

			fprintf(fp,
				"%s\n    {\"line\": %u, \"kind\": \"%s\", \"%s\": ", i ? "," : "",
				w->line, entry_kind_name(w->kind), w->pattern ? "pattern" : "key");
			json_string(fp, w->pattern ? w->pattern : w->key);
			fprintf(fp, ", \"change\": ");
			json_string(fp, w->have_change ? change_name(w->change) : NULL);
			fprintf(fp, ", \"pin\": {");
			for (size_t k = 0; k < w->npins; k++) {
				fputs(k ? ", " : "", fp);
				json_string(fp, w->pins[k].name);
				fputs(": ", fp);
				json_string(fp, w->pins[k].value);
			}
			fprintf(fp, "}, \"state\": \"%s\", \"expires\": \"%s\", \"by\": ",
				waiver_state_name(states[i]), w->expires);
			json_string(fp, w->by);
			fprintf(fp, ", \"created\": ");
			json_string(fp, w->created);
			fprintf(fp, ", \"reason\": ");
			json_string(fp, w->reason);
			fputc('}', fp);
		}
		fprintf(fp, "%s]\n}\n", ws->n ? "\n  " : "");
		goto out;
	}
	if (!ws->n) {
		if (!args->quiet)
			fprintf(stderr, "drift waivers: no waivers in '%s'\n",
				ws->path[0] ? ws->path : "(none)");
		goto out;
	}
	fprintf(fp, "%-8s %-10s %-12s %-32s %s\n", "STATE", "EXPIRES", "BY", "WHAT", "REASON");
	for (size_t i = 0; i < ws->n; i++) {
		const struct waiver *w = &ws->v[i];
		struct strbuf what = STRBUF_INIT;

		if (w->kind != ENTRY_FILE)
			strbuf_addf(&what, "%s:", entry_kind_name(w->kind));
		strbuf_adds(&what, w->pattern ? w->pattern : w->key);
		fprintf(fp, "%-8s %-10s %-12s %-32s %s\n", waiver_state_name(states[i]), w->expires,
			w->by ? w->by : "-", what.buf ? cli_path(what.buf, what.len, 0) : "?",
			w->reason);
		strbuf_release(&what);
	}
	if (run && !args->quiet)
		fprintf(stderr, "drift waivers: states against run #%lld\n", (long long)run);
out:
	snap_run_info_release(&info);
	snap_store_free(st);
	free(states);
	return code;
}

static int cmd_waivers(struct cli_args *args)
{
	struct waiver_set *ws = NULL;
	const char *sub = args->noperands ? args->operands[0] : "list";
	struct problems p = { 0 };
	int code;

	if (args->noperands > 1 || (strcmp(sub, "list") && strcmp(sub, "lint"))) {
		fprintf(stderr, "drift waivers: takes 'list' (the default) or 'lint'\n"
				"see 'drift waivers --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (args->reason || args->expires || args->dry_run) {
		fprintf(stderr, "drift waivers: --reason, --expires and --dry-run are 'drift "
				"waive' options\nsee 'drift waivers --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	code = waivers_load(args, &ws);
	if (code)
		return code;
	if (!strcmp(sub, "lint")) {
		unsigned n = waiver_set_lint(ws, print_problem, &p);

		if (n) {
			cli_error("%s: %u expired waiver%s", ws->path, n, n == 1 ? "" : "s");
			code = DRIFT_EXIT_POLICY;
		} else if (!args->quiet) {
			fprintf(stderr, "drift waivers: %zu waiver%s in '%s', none expired\n",
				ws->n, ws->n == 1 ? "" : "s", ws->path[0] ? ws->path : "(none)");
		}
	} else {
		code = waivers_list(args, ws, stdout);
	}
	waiver_set_free(ws);
	return code;
}

#define WAIVERS_OPTION_HELP                                                              \
	"  --waivers FILE     waivers file (default: /etc/drift/waivers.yaml as root,\n" \
	"                     $XDG_CONFIG_HOME/drift/waivers.yaml otherwise)\n"

const struct cli_command cmd_waive_def = {
	.name = "waive",
	.confirms = true,
	.summary = "tolerate findings of a run for a while, with a reason",
	.usage =
		"usage: drift waive [options] --reason TEXT --expires DATE KEY...\n"
		"\n"
		"Waive findings of a stored run (the newest by default): each KEY is a\n"
		"file's absolute path, or KIND:KEY for the other kinds (package:openssl,\n"
		"sysctl:vm.swappiness, service:ssh.service). Each waiver is pinned to the\n"
		"new values the run recorded of what changed (a hash, a mode, a package's\n"
		"version), never to a rescan: while the entry stays so and the waiver has\n"
		"not expired, check, diff and verify report the finding as waived, and it\n"
		"does not count in the exit code. When the entry changes again, or a\n"
		"package is upgraded, the waiver lapses and the finding is drift again.\n"
		"The waivers are appended to the waivers file, atomically, its comments\n"
		"kept; nothing is written unless every KEY names a finding of the run.\n"
		"\n"
		"options:\n"
		"  --reason TEXT      why (required)\n"
		"  --expires DATE     the last day the waivers hold: YYYY-MM-DD (UTC) or +Nd\n"
		"                     (required; a past date is warned about)\n"
		"  --run RUN          the run to waive findings of (see 'drift runs')\n"
		"  --dry-run          print the entries that would be written, write nothing\n" WAIVERS_OPTION_HELP
		"  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		"                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		"  --allow-insecure   as root, read a database others could have written\n"
		"  -q, --quiet        say nothing on success\n"
		"  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_WAIVERS | OPT_WAIVE,
	.run = cmd_waive,
};

const struct cli_command cmd_waivers_def = {
	.name = "waivers",
	.summary = "list the waivers and their states, or lint them",
	.usage = "usage: drift waivers [options] [list | lint]\n"
		 "\n"
		 "list (the default): every waiver of the waivers file with its state against\n"
		 "a stored run (--run, else the newest): active, expired, or lapsed (the\n"
		 "entry changed since it was waived); by date alone without a run.\n"
		 "lint: exit 17 when the file is malformed or a waiver has expired, printing\n"
		 "each problem as FILE:LINE:COLUMN: MESSAGE (for CI); 0 otherwise.\n"
		 "\n"
		 "options:\n" WAIVERS_OPTION_HELP
		 "  --run RUN          list: the run to judge states against\n"
		 "  --format FORMAT    list: text (default) or json\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --allow-insecure   as root, read a database others could have written\n"
		 "  -q, --quiet        say nothing beyond the list and the problems\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_FORMAT | OPT_WAIVERS | OPT_WAIVE,
	.run = cmd_waivers,
};
