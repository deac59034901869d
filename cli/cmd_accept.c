/*
 * drift accept: take reviewed findings of a stored run into a new baseline,
 * as the run saw them (store/accept.c); undo; list.
 *
 * This command parses its own options (struct cli_command.main): --reason,
 * --event, --run, --all, --undo and --list are its own.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "compare/compare.h"
#include "common/banned.h"

enum {
	OPT_A_DB = 1000,
	OPT_A_INSECURE,
	OPT_A_RUN,
	OPT_A_REASON,
	OPT_A_EVENT,
	OPT_A_ALL,
	OPT_A_UNDO,
	OPT_A_LIST,
	OPT_A_DRY_RUN,
	OPT_A_FORMAT,
	OPT_A_KEY,
};

static const struct option accept_options[] = {
	{ "db", required_argument, NULL, OPT_A_DB },
	{ "allow-insecure", no_argument, NULL, OPT_A_INSECURE },
	{ "run", required_argument, NULL, OPT_A_RUN },
	{ "reason", required_argument, NULL, OPT_A_REASON },
	{ "event", required_argument, NULL, OPT_A_EVENT },
	{ "all", no_argument, NULL, OPT_A_ALL },
	{ "undo", no_argument, NULL, OPT_A_UNDO },
	{ "list", no_argument, NULL, OPT_A_LIST },
	{ "dry-run", no_argument, NULL, OPT_A_DRY_RUN },
	{ "format", required_argument, NULL, OPT_A_FORMAT },
	{ "key", required_argument, NULL, OPT_A_KEY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct accept_opts {
	struct cli_args args; /* --db, --allow-insecure, for cli_store_open() */
	int64_t run;          /* 0: the newest check */
	const char *reason, *event;
	bool all, undo, list, dry_run, json, quiet;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("drift accept: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nsee 'drift accept --help'\n", stderr);
	return DRIFT_EXIT_USAGE;
}

/* A run or acceptance id, also as "#12" (as drift prints them). */
static int parse_id(const char *s, int64_t *ret)
{
	return cli_parse_id(s + (*s == '#'), ret);
}

/* KEY: an absolute path (a file), or KIND:KEY ("sysctl:vm.swappiness", "package:openssl"). */
static int parse_key(const char *s, struct snap_accept_key *ret)
{
	const char *colon = strchr(s, ':');

	if (s[0] == '/') {
		*ret = (struct snap_accept_key){ ENTRY_FILE, s, strlen(s) };
		return 0;
	}
	if (colon && colon[1]) {
		char kind[32];
		enum entry_kind k;
		size_t n = (size_t)(colon - s);

		if (n >= sizeof(kind))
			return -EINVAL;
		memcpy(kind, s, n);
		kind[n] = '\0';
		if (entry_kind_parse(kind, &k) < 0)
			return -EINVAL;
		*ret = (struct snap_accept_key){ k, colon + 1, strlen(colon + 1) };
		return 0;
	}
	return -EINVAL;
}

static const char *key_show(struct strbuf *sb, enum entry_kind kind, const char *key, size_t len)
{
	strbuf_reset(sb);
	if (kind != ENTRY_FILE && strbuf_addf(sb, "%s:", entry_kind_name(kind)) < 0)
		return "?";
	if (escape_display(sb, key, len) < 0)
		return "?";
	return sb->buf;
}

struct shown {
	bool quiet;
	struct strbuf sb;
};

static int show_row(const struct snap_run_row *row, void *userdata)
{
	struct shown *s = userdata;

	if (!s->quiet)
		printf("  %-9s %-9s %s\n", change_name(row->change),
		       row->judged ? class_name(row->class) : "-",
		       key_show(&s->sb, row->kind, row->key, row->key_len));
	return 0;
}

static int store_fail(const struct diag *d, int r)
{
	cli_error("%s", d->msg[0] ? d->msg : strerror(-r));
	switch (r) {
	case -ENOENT:
	case -ESTALE:
	case -EINVAL:
	case -EALREADY:
	case -EOPNOTSUPP:
		return DRIFT_EXIT_USAGE; /* a refused request */
	default:
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
}

/* Open the database, which must exist: accepting never creates one. */
static int open_store(struct accept_opts *o, bool write, struct snap_store **ret)
{
	const char *db = cli_db_path(&o->args);

	if (!db) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (write && access(db, F_OK) < 0) {
		cli_error("no database '%s': nothing to accept (see 'drift init')",
			  cli_path(db, strlen(db), 0));
		return DRIFT_EXIT_NO_BASELINE;
	}
	return cli_store_open(&o->args, write ? SNAP_OPEN_WRITE : SNAP_OPEN_READ, ret);
}

static int do_accept(struct accept_opts *o, char **operands, size_t noperands)
{
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct snap_accept_key *keys = NULL;
	struct compare_keys picked = { 0 };
	struct snap_acceptance a = { 0 };
	struct shown shown = { o->quiet, STRBUF_INIT };
	struct diag d = { 0 };
	const struct snap_accept_key *use;
	char *who = NULL;
	size_t nuse;
	int r, code;

	keys = calloc(noperands ? noperands : 1, sizeof(*keys));
	if (!keys) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < noperands; i++) {
		if (parse_key(operands[i], &keys[i]) < 0) {
			free(keys);
			return usage_error("'%s' is not a KEY: give an absolute path, or KIND:KEY "
					   "(package:openssl, sysctl:vm.swappiness)",
					   cli_path(operands[i], strlen(operands[i]), 0));
		}
	}
	code = open_store(o, !o->dry_run, &st);
	if (code)
		goto out;
	if (!o->run) {
		r = cli_newest_check(st, &o->run, &d);
		if (r < 0) {
			code = store_fail(&d, r);
			goto out;
		}
		if (!o->run) {
			cli_error("no stored check run in '%s' to accept from; run 'drift check' "
				  "first",
				  snap_store_path(st));
			code = DRIFT_EXIT_USAGE;
			goto out;
		}
	}
	r = snap_run_get(st, o->run, &run, &d);
	if (r < 0) {
		code = store_fail(&d, r);
		goto out;
	}
	use = keys;
	nuse = noperands;
	if (o->event || o->all) {
		r = o->event ? compare_event_keys(st, &run, o->event, &picked, &d)
			     : compare_counted_keys(st, &run, &picked, &d);
		if (r < 0) {
			code = store_fail(&d, r);
			goto out;
		}
		if (!picked.n) {
			printf("drift accept: run #%lld has no finding that counts: nothing to "
			       "accept\n",
			       (long long)run.id);
			code = 0;
			goto out;
		}
		use = picked.v;
		nuse = picked.n;
	}
	who = snap_accept_who();
	if (!who) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	cli_signals_install();
	r = snap_accept(st, run.id, use, nuse, who, o->reason, o->dry_run ? SNAP_ACCEPT_DRY_RUN : 0,
			show_row, &shown, &a, &d);
	if (r < 0) {
		code = store_fail(&d, r);
		goto out;
	}
	if (o->dry_run)
		printf("drift accept: %llu %s of run #%lld would be accepted (dry run: nothing "
		       "written)\n",
		       (unsigned long long)a.entries, a.entries == 1 ? "entry" : "entries",
		       (long long)run.id);
	else
		printf("drift accept: %llu %s of run #%lld accepted into baseline '%s' (#%lld); "
		       "undo: drift accept --undo\n",
		       (unsigned long long)a.entries, a.entries == 1 ? "entry" : "entries",
		       (long long)run.id,
		       a.new_label ? cli_path(a.new_label, strlen(a.new_label), 0) : "-",
		       (long long)a.new_baseline);
	code = 0;
out:
	snap_acceptance_release(&a);
	compare_keys_release(&picked);
	snap_run_info_release(&run);
	snap_store_free(st);
	strbuf_release(&shown.sb);
	free(keys);
	free(who);
	return code;
}

static int do_undo(struct accept_opts *o, int64_t id)
{
	struct snap_store *st = NULL;
	struct snap_acceptance a = { 0 };
	struct diag d = { 0 };
	char *who = NULL;
	int r, code;

	code = open_store(o, true, &st);
	if (code)
		return code;
	who = snap_accept_who();
	if (!who) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	r = snap_accept_undo(st, id, who, &a, &d);
	if (r < 0) {
		code = store_fail(&d, r);
		goto out;
	}
	printf("drift accept: acceptance #%lld undone (%llu %s of run #%lld); the baseline is "
	       "'%s' (#%lld) again\n",
	       (long long)a.id, (unsigned long long)a.entries, a.entries == 1 ? "entry" : "entries",
	       (long long)a.run, a.old_label ? cli_path(a.old_label, strlen(a.old_label), 0) : "-",
	       (long long)a.old_baseline);
out:
	snap_acceptance_release(&a);
	snap_store_free(st);
	free(who);
	return code;
}

struct list_ctx {
	bool json;
	size_t count;
	struct strbuf sb;
};

static int list_one(const struct snap_acceptance *a, void *userdata)
{
	struct list_ctx *ctx = userdata;
	char at[32], undone[32];
	int r;

	strbuf_reset(&ctx->sb);
	if (ctx->json) {
		r = report_format_acceptance_json(&ctx->sb, a);
		if (r < 0)
			return r;
		printf("%s\n    %s", ctx->count++ ? "," : "", ctx->sb.buf);
		return 0;
	}
	if (ctx->count++ == 0)
		printf("%4s  %-19s %-12s %5s %7s  %s\n", "ID", "WHEN (UTC)", "WHO", "RUN",
		       "ENTRIES", "BASELINE OLD -> NEW");
	cli_format_utc(at, sizeof(at), a->at_ns);
	printf("%4lld  %-19s %-12s %5lld %7llu  #%lld %s -> #%lld %s\n", (long long)a->id, at,
	       cli_path(a->who, strlen(a->who), 0), (long long)a->run,
	       (unsigned long long)a->entries, (long long)a->old_baseline,
	       a->old_label ? cli_path(a->old_label, strlen(a->old_label), 1) : "(gone)",
	       (long long)a->new_baseline,
	       a->new_label ? cli_path(a->new_label, strlen(a->new_label), 2) : "(gone)");
	printf("      why: %s\n", cli_path(a->reason, strlen(a->reason), 0));
	if (a->undone_ns) {
		cli_format_utc(undone, sizeof(undone), a->undone_ns);
		printf("      undone %s by %s\n", undone,
		       a->undone_by ? cli_path(a->undone_by, strlen(a->undone_by), 0) : "-");
	}
	return 0;
}

static int do_list(struct accept_opts *o)
{
	struct snap_store *st = NULL;
	struct list_ctx ctx = { o->json, 0, STRBUF_INIT };
	struct diag d = { 0 };
	int r, code;

	code = open_store(o, false, &st);
	if (code)
		return code;
	if (ctx.json)
		fputs("{\n  \"acceptances\": [", stdout);
	r = snap_acceptance_list(st, list_one, &ctx, &d);
	if (r < 0) {
		code = store_fail(&d, r);
	} else if (ctx.json) {
		fputs(ctx.count ? "\n  ]\n}\n" : "]\n}\n", stdout);
	} else if (!ctx.count && !o->quiet) {
		fprintf(stderr, "drift accept: no acceptances in '%s'\n", snap_store_path(st));
	}
	strbuf_release(&ctx.sb);
	snap_store_free(st);
	return code;
}

static int accept_main(int argc, char **argv)
{
	struct accept_opts o = { 0 };
	int c, code;
	size_t modes;

	o.args.root_fd = -1;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qh", accept_options, NULL)) != -1) {
		switch (c) {
		case OPT_A_DB:
			o.args.db = optarg;
			break;
		case OPT_A_KEY:
			o.args.seal_key = optarg;
			break;
		case OPT_A_INSECURE:
			o.args.allow_insecure = true;
			break;
		case OPT_A_RUN:
			if (parse_id(optarg, &o.run) < 0)
				return usage_error(
					"--run takes a run id (see 'drift runs'), not '%s'",
					cli_path(optarg, strlen(optarg), 0));
			break;
		case OPT_A_REASON:
			o.reason = optarg;
			break;
		case OPT_A_EVENT:
			o.event = optarg;
			break;
		case OPT_A_ALL:
			o.all = true;
			break;
		case OPT_A_UNDO:
			o.undo = true;
			break;
		case OPT_A_LIST:
			o.list = true;
			break;
		case OPT_A_DRY_RUN:
			o.dry_run = true;
			break;
		case OPT_A_FORMAT:
			if (!strcmp(optarg, "json"))
				o.json = true;
			else if (strcmp(optarg, "text"))
				return usage_error("--format takes text or json, not '%s'",
						   cli_path(optarg, strlen(optarg), 0));
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			fputs(cmd_accept_def.usage, stdout);
			return 0;
		case ':':
			return usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'",
					   cli_path(argv[optind - 1], strlen(argv[optind - 1]), 0));
		}
	}
	argc -= optind;
	argv += optind;

	modes = (size_t)o.undo + o.list + (o.event != NULL) + o.all + (argc > 0 && !o.undo);
	if (o.undo || o.list) {
		if (modes > 1 || o.reason || o.run || o.dry_run)
			return usage_error("%s takes no KEY, --event, --all, --run, --reason or "
					   "--dry-run",
					   o.undo ? "--undo" : "--list");
		if (o.list && argc)
			return usage_error("%s takes no arguments", "--list");
		if (o.undo) {
			int64_t id = 0;

			if (argc > 1 || (argc == 1 && parse_id(argv[0], &id) < 0))
				return usage_error("--undo takes one acceptance id (see 'drift "
						   "accept --list'), or none for the newest");
			code = do_undo(&o, id);
		} else {
			code = do_list(&o);
		}
		cli_args_release(&o.args);
		return code;
	}
	if (o.json)
		return usage_error("--format json is for --list");
	if (modes == 0)
		return usage_error("nothing to accept: give KEYs, --event ID or --all");
	if (modes > 1)
		return usage_error("give KEYs, --event ID or --all: one of them");
	if (!o.reason || !*o.reason)
		return usage_error("--reason TEXT is required: say why this is accepted");
	code = do_accept(&o, argv, (size_t)argc);
	cli_args_release(&o.args);
	return code;
}

const struct cli_command cmd_accept_def = {
	.name = "accept",
	.confirms = true,
	.summary = "accept reviewed findings of a run into a new baseline",
	.usage = "usage: drift accept [options] KEY... --reason TEXT\n"
		 "       drift accept [options] --event ID --reason TEXT\n"
		 "       drift accept [options] --all --reason TEXT\n"
		 "       drift accept --undo [ID]\n"
		 "       drift accept --list [--format json]\n"
		 "\n"
		 "Take findings of a stored run (default: the newest check) into a new\n"
		 "baseline exactly as that run saw them: nothing is rescanned, so whatever\n"
		 "changed after the run is still reported. The new baseline is the old one\n"
		 "plus the accepted entries (a removed finding deletes its entry), labelled\n"
		 "accept-TIME; the old one stays, labelled baseline-TIME. Who (the login\n"
		 "name, also under sudo), when and why are recorded. Nothing is written unless\n"
		 "every KEY is a finding of the run; the run must have been made against the\n"
		 "current baseline.\n"
		 "\n"
		 "KEY is an absolute path for a file, or KIND:KEY for an entry of a probe\n"
		 "(package:openssl, sysctl:vm.swappiness, user:alice, service:ssh.service).\n"
		 "\n"
		 "options:\n"
		 "  --run RUN          the run to accept from (see 'drift runs'; default: the\n"
		 "                     newest check)\n"
		 "  --reason TEXT      why (required)\n"
		 "  --event ID         every finding of a package event: package:NAME (account\n"
		 "                     events are not stored with runs: accept them by KEY)\n"
		 "  --all              every finding of the run that counts (drift and\n"
		 "                     violations; expected ones only if the run counted them)\n"
		 "  --dry-run          list what would be accepted, write nothing\n"
		 "  --undo [ID]        make the baseline before acceptance ID (default: the\n"
		 "                     newest still in force) the baseline again\n"
		 "  --list             list the acceptances: who, when, why, undone\n"
		 "  --format FORMAT    text (default) or json, for --list\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --key FILE         seal what is written with this key file (default:\n"
		 "                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		 "  --allow-insecure   as root, use a database others could have written\n"
		 "  -q, --quiet        do not list the accepted findings\n"
		 "  -h, --help         show this help\n",
	.opts = 0,
	.run = NULL,
	.main = accept_main,
};
