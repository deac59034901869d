/*
 * drift remedy: put the host back to its baseline for the drift of a stored
 * run that the policy lets drift remedy (remedy/); undo, resume, list.
 *
 * This command parses its own options (struct cli_command.main).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "compare/compare.h"
#include "remedy/debsrc.h"
#include "remedy/remedy.h"
#include "common/banned.h"

enum {
	OPT_R_DB = 1000,
	OPT_R_INSECURE,
	OPT_R_ROOT,
	OPT_R_APPLY,
	OPT_R_YES,
	OPT_R_ONLY,
	OPT_R_EVENT,
	OPT_R_AUTO,
	OPT_R_PLAN,
	OPT_R_UNDO,
	OPT_R_RESUME,
	OPT_R_LIST,
	OPT_R_QUARANTINE,
	OPT_R_DEB_CACHE,
	OPT_R_DOWNLOAD,
	OPT_R_KEY,
};

static const struct option remedy_options[] = {
	{ "db", required_argument, NULL, OPT_R_DB },
	{ "allow-insecure", no_argument, NULL, OPT_R_INSECURE },
	{ "root", required_argument, NULL, OPT_R_ROOT },
	{ "apply", no_argument, NULL, OPT_R_APPLY },
	{ "yes", no_argument, NULL, OPT_R_YES },
	{ "only", required_argument, NULL, OPT_R_ONLY },
	{ "event", required_argument, NULL, OPT_R_EVENT },
	{ "auto", no_argument, NULL, OPT_R_AUTO },
	{ "plan", required_argument, NULL, OPT_R_PLAN },
	{ "undo", no_argument, NULL, OPT_R_UNDO },
	{ "resume", no_argument, NULL, OPT_R_RESUME },
	{ "list", no_argument, NULL, OPT_R_LIST },
	{ "quarantine", required_argument, NULL, OPT_R_QUARANTINE },
	{ "deb-cache", required_argument, NULL, OPT_R_DEB_CACHE },
	{ "download", no_argument, NULL, OPT_R_DOWNLOAD },
	{ "key", required_argument, NULL, OPT_R_KEY },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct remedy_cli {
	struct cli_args args; /* --db, --allow-insecure, --root */
	bool apply, yes, automatic, undo, resume, list, quiet, download;
	const char **only;
	size_t nonly;
	char **owned; /* the keys of a saved plan, which o->only then points to */
	const char *event, *plan, *quarantine, *deb_cache;
	char *quarantine_default;
	struct strbuf sb;
	unsigned shown;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("drift remedy: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\nsee 'drift remedy --help'\n", stderr);
	return DRIFT_EXIT_USAGE;
}

static int fail(const struct diag *d, int r)
{
	cli_error("%s", d->msg[0] ? d->msg : strerror(-r));
	switch (r) {
	case -ESTALE:
		return DRIFT_EXIT_STALE;
	case -ENOENT:
	case -EINVAL:
	case -EALREADY:
	case -EOPNOTSUPP:
	case -EBUSY:
		return DRIFT_EXIT_USAGE;
	case -EAGAIN:
		return DRIFT_EXIT_INCOMPLETE;
	default:
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
}

/* The text of a step with its key escaped for a terminal. */
static const char *step_text(struct remedy_cli *o, const struct remedy_step *s)
{
	struct strbuf raw = STRBUF_INIT;

	strbuf_reset(&o->sb);
	if (remedy_step_describe(s, &raw) < 0 || escape_display(&o->sb, raw.buf, raw.len) < 0) {
		strbuf_release(&raw);
		return "?";
	}
	strbuf_release(&raw);
	return o->sb.buf;
}

static int on_step(const struct remedy_outcome *out, void *userdata)
{
	struct remedy_cli *o = userdata;
	struct strbuf msg = STRBUF_INIT;
	const char *what;

	switch (out->state) {
	case SNAP_REMEDY_DONE:
		what = "done";
		break;
	case SNAP_REMEDY_FAILED:
		what = "FAILED";
		break;
	case SNAP_REMEDY_SKIPPED:
		what = "skipped";
		break;
	case SNAP_REMEDY_UNDONE:
		what = "undone";
		break;
	default:
		what = "?";
	}
	if (out->message)
		escape_message(&msg, out->message, strlen(out->message));
	if (!o->quiet || out->state == SNAP_REMEDY_FAILED || out->state == SNAP_REMEDY_SKIPPED ||
	    out->message) {
		printf("  %-8s %s\n", what, step_text(o, out->step));
		if (out->message)
			printf("           %s\n", msg.buf);
	}
	strbuf_release(&msg);
	o->shown++;
	return 0;
}

static int open_store(struct remedy_cli *o, bool write, struct snap_store **ret)
{
	const char *db = cli_db_path(&o->args);

	if (!db) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (access(db, F_OK) < 0) {
		cli_error("no database '%s': nothing to remedy (see 'drift init')",
			  cli_path(db, strlen(db), 0));
		return DRIFT_EXIT_NO_BASELINE;
	}
	return cli_store_open(&o->args, write ? SNAP_OPEN_WRITE : SNAP_OPEN_READ, ret);
}

char *cli_quarantine_default(const char *db)
{
	char *copy = db ? realpath(db, NULL) : NULL, *q = NULL;

	if (copy && asprintf(&q, "%s/quarantine", dirname(copy)) < 0)
		q = NULL;
	free(copy);
	return q;
}

/* The quarantine: --quarantine, else "quarantine" beside the database. */
static const char *quarantine_dir(struct remedy_cli *o)
{
	if (o->quarantine)
		return o->quarantine;
	if (!o->quarantine_default)
		o->quarantine_default = cli_quarantine_default(cli_db_path(&o->args));
	return o->quarantine_default;
}

static void print_summary(const struct remedy_plan *p, bool automatic)
{
	if (p->not_allowed)
		printf("  (%llu drift finding%s the policy does not let drift remedy: "
		       "`remediate: plan` or `auto` in their rule allows it)\n",
		       (unsigned long long)p->not_allowed, p->not_allowed == 1 ? "" : "s");
	if (automatic && p->plan_only)
		printf("  (%llu whose rule says `remediate: plan`: not with --auto)\n",
		       (unsigned long long)p->plan_only);
	if (p->package_work)
		printf("  (%llu part of package transactions: never reverted)\n",
		       (unsigned long long)p->package_work);
}

/* Ask on a terminal; true without one only with --yes. */
static bool confirm(struct remedy_cli *o, size_t n)
{
	char line[16];

	if (o->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		cli_error("not a terminal: give --yes to apply without asking");
		return false;
	}
	printf("Apply %zu action%s to this host? [y/N] ", n, n == 1 ? "" : "s");
	fflush(stdout);
	return fgets(line, sizeof(line), stdin) && (line[0] == 'y' || line[0] == 'Y');
}

static int setup_opts(struct remedy_cli *o, struct snap_store *st, struct deb_source *deb,
		      struct remedy_opts *ro, char **who)
{
	int code = cli_root_open(&o->args);

	if (code)
		return code;
	*who = snap_accept_who();
	ro->st = st;
	ro->db_path = snap_store_path(st);
	ro->rootfd = o->args.root_fd;
	ro->quarantine = quarantine_dir(o);
	ro->who = *who;
	ro->automatic = o->automatic;
	deb->rootfd = o->args.root_fd;
	deb->cachedir = o->deb_cache;
	deb->download = o->download;
	ro->deb = deb;
	ro->stop = cli_interrupted_flag();
	ro->step = on_step;
	ro->userdata = o;
	{
		const char *hook = getenv("DRIFT_TEST_REMEDY_CRASH_AFTER");

		ro->crash_after = hook ? (unsigned)strtoul(hook, NULL, 10) : 0;
	}
	if (!*who || !ro->quarantine) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	return 0;
}

/* Say how an application went; its exit code. */
static int finished(const char *what, const struct remedy_result *res)
{
	printf("drift remedy: remediation #%lld %s: %llu done, %llu failed, %llu skipped",
	       (long long)res->id, what, (unsigned long long)res->done,
	       (unsigned long long)res->failed, (unsigned long long)res->skipped);
	if (res->differ)
		printf(", %llu not as the baseline", (unsigned long long)res->differ);
	printf("; undo: drift remedy --undo %lld\n", (long long)res->id);
	return res->failed || res->skipped || res->differ ? DRIFT_EXIT_INCOMPLETE : 0;
}

static int do_plan(struct remedy_cli *o, int64_t run_id)
{
	struct snap_store *st = NULL;
	struct snap_run_info run = { 0 };
	struct remedy_plan plan = { 0 }, saved = { 0 };
	struct remedy_select sel = { o->only, o->nonly, o->event, o->automatic };
	struct remedy_result res = { 0 };
	struct remedy_opts ro = { 0 };
	struct deb_source deb = { 0 };
	struct diag d = { 0 };
	char *who = NULL;
	size_t performed = 0;
	int64_t interrupted = 0;
	int r, code;

	code = open_store(o, o->apply, &st);
	if (code)
		return code;
	if (o->apply && o->plan) {
		FILE *f = fopen(o->plan, "re");

		if (!f) {
			code = usage_error("cannot open the plan %s: %s",
					   cli_path(o->plan, strlen(o->plan), 0), strerror(errno));
			goto out;
		}
		r = remedy_plan_read(f, o->plan, &saved, &d);
		fclose(f);
		if (r < 0) {
			code = fail(&d, r);
			goto out;
		}
		if (run_id && run_id != saved.run) {
			code = usage_error("the plan is of run #%lld, not #%lld",
					   (long long)saved.run, (long long)run_id);
			goto out;
		}
		run_id = saved.run;
		/* The plan's own keys: what was reviewed is what is applied. */
		if (!o->nonly && !o->event) {
			free(o->only);
			o->only = calloc(saved.n ? saved.n : 1, sizeof(*o->only));
			o->owned = calloc(saved.n ? saved.n : 1, sizeof(*o->owned));
			if (!o->only || !o->owned) {
				code = DRIFT_EXIT_INTERNAL;
				goto out;
			}
			for (size_t i = 0; i < saved.n; i++) {
				char *k = NULL;

				if (saved.v[i].kind == ENTRY_FILE)
					k = strdup(saved.v[i].key);
				else if (asprintf(&k, "%s:%s", entry_kind_name(saved.v[i].kind),
						  saved.v[i].key) < 0)
					k = NULL;
				if (!k) {
					code = DRIFT_EXIT_INTERNAL;
					goto out;
				}
				o->owned[i] = k;
				o->only[o->nonly++] = k;
			}
			sel.keys = o->only;
			sel.nkeys = o->nonly;
		}
	}
	if (!run_id) {
		r = cli_newest_check(st, &run_id, &d);
		if (r < 0) {
			code = fail(&d, r);
			goto out;
		}
		if (!run_id) {
			cli_error("no stored check run in '%s' to remedy; run 'drift check' first",
				  snap_store_path(st));
			code = DRIFT_EXIT_USAGE;
			goto out;
		}
	}
	r = snap_run_get(st, run_id, &run, &d);
	if (r >= 0)
		r = remedy_plan_build(st, &run, &sel, &plan, &d);
	if (r < 0) {
		code = fail(&d, r);
		goto out;
	}
	if (o->apply && o->plan && !remedy_plan_equal(&plan, &saved)) {
		cli_error("stale plan: %s no longer is what run #%lld and its policy give (the "
			  "baseline, the run or the findings changed); make a new plan",
			  cli_path(o->plan, strlen(o->plan), 0), (long long)run_id);
		code = DRIFT_EXIT_STALE;
		goto out;
	}
	for (size_t i = 0; i < plan.n; i++)
		performed +=
			plan.v[i].action != REMEDY_COMMAND && plan.v[i].action != REMEDY_CANNOT;
	if (!o->apply && o->plan) {
		FILE *f = fopen(o->plan, "we");

		if (!f || remedy_plan_write(&plan, f) < 0 || fclose(f) != 0) {
			cli_error("cannot write the plan %s: %s",
				  cli_path(o->plan, strlen(o->plan), 0), strerror(errno));
			code = DRIFT_EXIT_OUTPUT;
			goto out;
		}
		printf("drift remedy: plan of run #%lld (%zu step%s, %zu drift performs) saved to "
		       "%s; apply it: drift remedy --apply --plan %s\n",
		       (long long)run.id, plan.n, plan.n == 1 ? "" : "s", performed,
		       cli_path(o->plan, strlen(o->plan), 0),
		       cli_path(o->plan, strlen(o->plan), 1));
		print_summary(&plan, o->automatic);
		goto out;
	}
	if (!plan.n) {
		printf("drift remedy: nothing to remedy in run #%lld\n", (long long)run.id);
		print_summary(&plan, o->automatic);
		goto out;
	}
	if (!o->apply || !o->quiet) {
		printf("drift remedy: run #%lld against baseline #%lld: %zu step%s\n",
		       (long long)run.id, (long long)run.before, plan.n, plan.n == 1 ? "" : "s");
		for (size_t i = 0; i < plan.n; i++)
			printf("  %s\n", step_text(o, &plan.v[i]));
		print_summary(&plan, o->automatic);
	}
	if (!o->apply) {
		if (performed)
			printf("apply: drift remedy --apply%s %lld\n",
			       o->automatic ? " --auto" : "", (long long)run.id);
		goto out;
	}
	if (!performed) {
		printf("drift remedy: nothing drift performs itself; run the commands above by "
		       "hand\n");
		goto out;
	}
	code = setup_opts(o, st, &deb, &ro, &who);
	if (code)
		goto out;
	r = remedy_interrupted(&ro, &interrupted, &d);
	if (r > 0) {
		cli_error("remediation #%lld was interrupted: finish it (drift remedy --resume) "
			  "or reverse it (drift remedy --undo) first",
			  (long long)interrupted);
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	if (!confirm(o, performed)) {
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	cli_signals_install();
	r = remedy_apply(&ro, &plan, &res, &d);
	if (r < 0) {
		code = fail(&d, r);
		goto out;
	}
	if (!res.id) {
		printf("drift remedy: nothing was applied\n");
		goto out;
	}
	code = finished("applied", &res);
out:
	remedy_plan_release(&plan);
	remedy_plan_release(&saved);
	snap_run_info_release(&run);
	snap_store_free(st);
	free(who);
	return code;
}

static int do_undo_resume(struct remedy_cli *o, int64_t id)
{
	struct snap_store *st = NULL;
	struct remedy_result res = { 0 };
	struct remedy_opts ro = { 0 };
	struct deb_source deb = { 0 };
	struct diag d = { 0 };
	char *who = NULL;
	int r, code;

	code = open_store(o, true, &st);
	if (code)
		return code;
	code = setup_opts(o, st, &deb, &ro, &who);
	if (code)
		goto out;
	cli_signals_install();
	r = o->undo ? remedy_undo(&ro, id, &res, &d) : remedy_resume(&ro, id, &res, &d);
	if (r < 0) {
		code = fail(&d, r);
		goto out;
	}
	if (o->undo)
		printf("drift remedy: remediation #%lld undone: %llu action%s reversed\n",
		       (long long)res.id, (unsigned long long)res.undone,
		       res.undone == 1 ? "" : "s");
	else
		code = finished("resumed and finished", &res);
out:
	snap_store_free(st);
	free(who);
	return code;
}

static int list_one(const struct snap_remedy *r, void *userdata)
{
	unsigned *count = userdata;
	char at[32];
	const char *state = r->undone_ns     ? "undone"
			    : r->finished_ns ? (r->failed || r->skipped ? "incomplete" : "applied")
					     : "interrupted";

	if ((*count)++ == 0)
		printf("%4s  %-19s %-12s %5s %-11s %s\n", "ID", "WHEN (UTC)", "WHO", "RUN", "STATE",
		       "ACTIONS");
	cli_format_utc(at, sizeof(at), r->started_ns);
	printf("%4lld  %-19s %-12s %5lld %-11s %llu planned: %llu done, %llu failed, %llu "
	       "skipped, %llu undone%s\n",
	       (long long)r->id, at, cli_path(r->who, strlen(r->who), 0), (long long)r->run, state,
	       (unsigned long long)r->planned, (unsigned long long)r->done,
	       (unsigned long long)r->failed, (unsigned long long)r->skipped,
	       (unsigned long long)r->undone, r->automatic ? " (auto)" : "");
	return 0;
}

static int do_list(struct remedy_cli *o)
{
	struct snap_store *st = NULL;
	struct diag d = { 0 };
	unsigned count = 0;
	int r, code;

	code = open_store(o, false, &st);
	if (code)
		return code;
	r = snap_remedy_list(st, list_one, &count, &d);
	if (r == -EPROTO)
		r = 0; /* a database before remediation: none */
	if (r < 0)
		code = fail(&d, r);
	else if (!count && !o->quiet)
		fprintf(stderr, "drift remedy: no remediations in '%s'\n", snap_store_path(st));
	snap_store_free(st);
	return code;
}

static int remedy_main(int argc, char **argv)
{
	struct remedy_cli o = { 0 };
	int64_t id = 0;
	int c, code;

	o.args.root_fd = -1;
	strbuf_init(&o.sb);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":qhy", remedy_options, NULL)) != -1) {
		switch (c) {
		case OPT_R_DB:
			o.args.db = optarg;
			break;
		case OPT_R_KEY:
			o.args.seal_key = optarg;
			break;
		case OPT_R_INSECURE:
			o.args.allow_insecure = true;
			break;
		case OPT_R_ROOT:
			o.args.root = optarg;
			break;
		case OPT_R_APPLY:
			o.apply = true;
			break;
		case 'y':
		case OPT_R_YES:
			o.yes = true;
			break;
		case OPT_R_ONLY: {
			const char **v = realloc(o.only, (o.nonly + 1) * sizeof(*v));

			if (!v)
				return DRIFT_EXIT_INTERNAL;
			o.only = v;
			o.only[o.nonly++] = optarg;
			break;
		}
		case OPT_R_EVENT:
			o.event = optarg;
			break;
		case OPT_R_AUTO:
			o.automatic = true;
			break;
		case OPT_R_PLAN:
			o.plan = optarg;
			break;
		case OPT_R_UNDO:
			o.undo = true;
			break;
		case OPT_R_RESUME:
			o.resume = true;
			break;
		case OPT_R_LIST:
			o.list = true;
			break;
		case OPT_R_QUARANTINE:
			if (optarg[0] != '/')
				return usage_error("--quarantine takes an absolute path");
			o.quarantine = optarg;
			break;
		case OPT_R_DEB_CACHE:
			if (optarg[0] != '/')
				return usage_error("--deb-cache takes an absolute path");
			o.deb_cache = optarg;
			break;
		case OPT_R_DOWNLOAD:
			o.download = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			fputs(cmd_remedy_def.usage, stdout);
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
	if (argc > 1)
		return usage_error("give at most one run id (see 'drift runs')");
	if (argc == 1 && cli_parse_id(argv[0] + (argv[0][0] == '#'), &id) < 0)
		return usage_error("'%s' is not a %s id", cli_path(argv[0], strlen(argv[0]), 0),
				   o.undo || o.resume ? "remediation" : "run");
	if ((size_t)o.undo + o.resume + o.list + o.apply > 1 &&
	    !(o.apply && !o.undo && !o.resume && !o.list))
		return usage_error("--apply, --undo, --resume and --list go alone");
	if ((o.undo || o.resume || o.list) && (o.nonly || o.event || o.plan || o.automatic))
		return usage_error("--undo, --resume and --list take no --only, --event, --plan "
				   "or --auto");
	if (o.list && argc)
		return usage_error("--list takes no arguments");
	if (o.event && o.nonly)
		return usage_error("give --only KEY or --event ID, not both");
	if (o.list)
		code = do_list(&o);
	else if (o.undo || o.resume)
		code = do_undo_resume(&o, id);
	else
		code = do_plan(&o, id);
	for (size_t i = 0; o.owned && i < o.nonly; i++)
		free(o.owned[i]);
	free(o.owned);
	free(o.only);
	free(o.quarantine_default);
	strbuf_release(&o.sb);
	cli_args_release(&o.args);
	return code;
}

const struct cli_command cmd_remedy_def = {
	.name = "remedy",
	.confirms = true,
	.summary = "put the host back to its baseline: plan, apply, undo",
	.usage = "usage: drift remedy [options] [RUN]\n"
		 "       drift remedy --apply [--yes] [options] [RUN]\n"
		 "       drift remedy --plan FILE [RUN]      (save)\n"
		 "       drift remedy --apply --plan FILE    (apply what was saved)\n"
		 "       drift remedy --undo [ID] | --resume [ID] | --list\n"
		 "\n"
		 "Plan (and with --apply, carry out) what puts the drift of a stored run\n"
		 "(default: the newest check) back as the baseline has it, for the findings\n"
		 "whose policy rule says `remediate: plan` or `remediate: auto` (the default\n"
		 "is no). drift restores mode, owner, group, mtime, ACLs, xattrs and\n"
		 "capabilities; a symlink's target; a file's content from kept content or\n"
		 "from its package's .deb (checked against dpkg's sum and the baseline's\n"
		 "hash); a removed file, directory or symlink; a sysctl's value. An added\n"
		 "file is moved into the quarantine, never deleted. What drift will not do\n"
		 "(package, service, account and module changes) is printed as the command\n"
		 "to run. What a package transaction explains is never reverted.\n"
		 "\n"
		 "Before anything changes, every entry must still be as the run saw it\n"
		 "(else: stale plan, exit 24). Each action is journaled with what it\n"
		 "replaced before it runs; --undo reverses a remediation, --resume finishes\n"
		 "one a crash interrupted. No path is followed through a symlink.\n"
		 "\n"
		 "options:\n"
		 "  --apply            carry the plan out (asks on a terminal)\n"
		 "  -y, --yes          do not ask\n"
		 "  --only KEY         only this finding (repeatable): a path, or KIND:KEY\n"
		 "                     (sysctl:vm.swappiness)\n"
		 "  --event ID         only the findings of a package event: package:NAME\n"
		 "  --auto             only rules that say `remediate: auto` (the nightly unit)\n"
		 "  --plan FILE        save the plan to FILE; with --apply, apply FILE, refused\n"
		 "                     when it no longer matches the run or the host\n"
		 "  --undo [ID]        reverse remediation ID (default: the newest)\n"
		 "  --resume [ID]      finish an interrupted remediation\n"
		 "  --list             list the remediations\n"
		 "  --quarantine DIR   where added files go (default: quarantine/ beside the\n"
		 "                     database: /var/lib/drift/quarantine/RUN/ as root)\n"
		 "  --deb-cache DIR    where package files come from (default: apt's cache,\n"
		 "                     /var/cache/apt/archives)\n"
		 "  --download         fetch a .deb missing from the cache (apt-get download)\n"
		 "  --root DIR         the host's files are under DIR\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --key FILE         seal what is written with this key file (default:\n"
		 "                     $DRIFT_SEAL_KEY; see drift(1), SEALS)\n"
		 "  --allow-insecure   as root, use a database others could have written\n"
		 "  -q, --quiet        say only what failed or was skipped, and the summary\n"
		 "  -h, --help         show this help\n"
		 "\n"
		 "exit status: 0 done (or only planned); 24 stale plan, nothing changed; 25\n"
		 "some actions failed, were skipped or left an entry unlike the baseline;\n"
		 "16 usage; 19 database; 20 interrupted (--resume or --undo finishes it).\n",
	.opts = 0,
	.run = NULL,
	.main = remedy_main,
};
