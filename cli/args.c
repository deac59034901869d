/*
 * Option parsing shared by every command. Each command names the options it
 * accepts (enum cli_opt); getopt_long() is given the same table for all of
 * them, and an option a command does not take is refused with a pointer to
 * that command's --help.
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "compare/waive.h"
#include "common/pattern.h"
#include "common/strbuf.h"
#include "common/suggest.h"
#include "common/banned.h"

enum {
	LONG_DB = 256,
	LONG_THREADS,
	LONG_EXCLUDE,
	LONG_HASH,
	LONG_CROSS_MOUNTS,
	LONG_FORMAT,
	LONG_OUTPUT,
	LONG_COLOR,
	LONG_ALL_CHANGES,
	LONG_KEEP,
	LONG_LABEL,
	LONG_REPLACE,
	LONG_FORCE,
	LONG_POLICY,
	LONG_ALLOW_INSECURE,
	LONG_COUNT_EXPECTED,
	LONG_TRUST_CTIME,
	LONG_SAMPLE,
	LONG_ROOT,
	LONG_PROBES,
	LONG_UPGRADE,
	LONG_LAST_UPGRADE,
	LONG_UNOWNED,
	LONG_NARROWER,
	LONG_DELETE,
	LONG_PRUNE,
	LONG_KEEP_UPGRADES,
	LONG_DRY_RUN,
	LONG_VACUUM,
	LONG_REPORT,
	LONG_MIN_SEVERITY,
	LONG_FAIL_ON,
	LONG_SINCE_LAST,
	LONG_VERBOSE,
	LONG_JOURNAL,
	LONG_WAIVERS,
	LONG_REASON,
	LONG_EXPIRES,
	LONG_RUN,
	LONG_KEY,
	LONG_VERIFY,
	LONG_HEAD,
	LONG_NEW_KEY,
};

static const struct option long_options[] = {
	{ "db", required_argument, NULL, LONG_DB },
	{ "threads", required_argument, NULL, LONG_THREADS },
	{ "exclude", required_argument, NULL, LONG_EXCLUDE },
	{ "hash", required_argument, NULL, LONG_HASH },
	{ "cross-mounts", no_argument, NULL, LONG_CROSS_MOUNTS },
	{ "format", required_argument, NULL, LONG_FORMAT },
	{ "output", required_argument, NULL, LONG_OUTPUT },
	{ "quiet", no_argument, NULL, 'q' },
	{ "color", required_argument, NULL, LONG_COLOR },
	{ "colour", required_argument, NULL, LONG_COLOR },
	{ "all-changes", no_argument, NULL, LONG_ALL_CHANGES },
	{ "keep", required_argument, NULL, LONG_KEEP },
	{ "label", required_argument, NULL, LONG_LABEL },
	{ "replace", no_argument, NULL, LONG_REPLACE },
	{ "force", no_argument, NULL, LONG_FORCE },
	{ "policy", required_argument, NULL, LONG_POLICY },
	{ "allow-insecure", no_argument, NULL, LONG_ALLOW_INSECURE },
	{ "count-expected", no_argument, NULL, LONG_COUNT_EXPECTED },
	{ "trust-ctime", no_argument, NULL, LONG_TRUST_CTIME },
	{ "sample", required_argument, NULL, LONG_SAMPLE },
	{ "root", required_argument, NULL, LONG_ROOT },
	{ "probes", required_argument, NULL, LONG_PROBES },
	{ "upgrade", required_argument, NULL, LONG_UPGRADE },
	{ "last-upgrade", no_argument, NULL, LONG_LAST_UPGRADE },
	{ "unowned", no_argument, NULL, LONG_UNOWNED },
	{ "narrower", no_argument, NULL, LONG_NARROWER },
	{ "delete", no_argument, NULL, LONG_DELETE },
	{ "prune", no_argument, NULL, LONG_PRUNE },
	{ "keep-upgrades", required_argument, NULL, LONG_KEEP_UPGRADES },
	{ "dry-run", no_argument, NULL, LONG_DRY_RUN },
	{ "vacuum", no_argument, NULL, LONG_VACUUM },
	{ "report", required_argument, NULL, LONG_REPORT },
	{ "min-severity", required_argument, NULL, LONG_MIN_SEVERITY },
	{ "fail-on", required_argument, NULL, LONG_FAIL_ON },
	{ "since-last", no_argument, NULL, LONG_SINCE_LAST },
	{ "verbose", no_argument, NULL, LONG_VERBOSE },
	{ "journal", required_argument, NULL, LONG_JOURNAL },
	{ "waivers", required_argument, NULL, LONG_WAIVERS },
	{ "reason", required_argument, NULL, LONG_REASON },
	{ "expires", required_argument, NULL, LONG_EXPIRES },
	{ "run", required_argument, NULL, LONG_RUN },
	{ "key", required_argument, NULL, LONG_KEY },
	{ "verify", no_argument, NULL, LONG_VERIFY },
	{ "head", optional_argument, NULL, LONG_HEAD },
	{ "new-key", required_argument, NULL, LONG_NEW_KEY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Which enum cli_opt bit each option needs; 0 = always accepted. */
static unsigned opt_bit(int c)
{
	switch (c) {
	case LONG_DB:
		return OPT_DB;
	case LONG_THREADS:
		return OPT_THREADS;
	case LONG_EXCLUDE:
		return OPT_EXCLUDE;
	case LONG_HASH:
		return OPT_HASH;
	case LONG_CROSS_MOUNTS:
		return OPT_CROSS_MOUNTS;
	case LONG_FORMAT:
		return OPT_FORMAT;
	case LONG_OUTPUT:
		return OPT_OUTPUT;
	case 'q':
		return OPT_QUIET;
	case LONG_COLOR:
		return OPT_COLOR;
	case LONG_ALL_CHANGES:
		return OPT_ALL_CHANGES;
	case LONG_KEEP:
		return OPT_KEEP;
	case LONG_LABEL:
		return OPT_LABEL;
	case LONG_REPLACE:
		return OPT_REPLACE;
	case LONG_FORCE:
		return OPT_FORCE;
	case LONG_POLICY:
		return OPT_POLICY;
	case LONG_ALLOW_INSECURE:
		return OPT_ALLOW_INSECURE;
	case LONG_COUNT_EXPECTED:
		return OPT_COUNT_EXPECTED;
	case LONG_TRUST_CTIME:
	case LONG_SAMPLE:
		return OPT_TRUST_CTIME;
	case LONG_ROOT:
		return OPT_ROOT;
	case LONG_PROBES:
		return OPT_PROBES;
	case LONG_UPGRADE:
		return OPT_UPGRADE;
	case LONG_LAST_UPGRADE:
		return OPT_LAST_UPGRADE;
	case LONG_UNOWNED:
		return OPT_UNOWNED;
	case LONG_NARROWER:
		return OPT_NARROWER;
	case LONG_DRY_RUN:
		return OPT_PRUNE | OPT_WAIVE;
	case LONG_DELETE:
	case LONG_PRUNE:
	case LONG_KEEP_UPGRADES:
	case LONG_VACUUM:
		return OPT_PRUNE;
	case LONG_WAIVERS:
		return OPT_WAIVERS;
	case LONG_REASON:
	case LONG_EXPIRES:
	case LONG_RUN:
		return OPT_WAIVE;
	case LONG_KEY:
		return OPT_DB;
	case LONG_VERIFY:
	case LONG_HEAD:
	case LONG_NEW_KEY:
		return OPT_SEALS;
	case LONG_REPORT:
	case LONG_MIN_SEVERITY:
	case LONG_FAIL_ON:
	case LONG_VERBOSE:
	case LONG_JOURNAL:
		return OPT_REPORTS;
	case LONG_SINCE_LAST:
		return OPT_SINCE_LAST;
	}
	return 0;
}

__attribute__((format(printf, 2, 3))) static int usage_error(const struct cli_command *cmd,
							     const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "drift %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'drift %s --help'\n", cmd->name);
	return DRIFT_EXIT_USAGE;
}

/* Whether @cmd takes the long option @o. */
static bool cmd_takes(const struct cli_command *cmd, const struct option *o)
{
	unsigned bit = opt_bit(o->val);

	return !bit || (cmd->opts & bit);
}

/*
 * getopt_long() refused the long option @typed ("--formt", "--quiet=1"):
 * @has_value when it knew the option but not a value for it. Say which of
 * the options @cmd takes was meant: the one it abbreviates ambiguously, or
 * the one it is a typo of.
 */
static int unknown_long_option(const struct cli_command *cmd, const char *typed, bool has_value)
{
	const char *eq = strchr(typed, '=');
	char word[64];
	struct strbuf names = STRBUF_INIT;
	struct suggest s;
	size_t len, nprefix = 0;
	int code;

	if (has_value && eq)
		return usage_error(cmd, "option '%.*s' takes no value (given '%s')",
				   (int)(eq - typed), typed, typed);
	len = eq ? (size_t)(eq - typed) - 2 : strlen(typed) - 2;
	snprintf(word, sizeof(word), "%.*s", (int)len, typed + 2);
	suggest_init(&s, word);
	for (const struct option *o = long_options; o->name; o++) {
		if (!cmd_takes(cmd, o))
			continue;
		suggest_try(&s, o->name);
		if (len && !strncmp(o->name, word, len)) {
			strbuf_addf(&names, "%s'--%s'", nprefix ? ", " : "", o->name);
			nprefix++;
		}
	}
	if (nprefix > 1)
		code = usage_error(cmd, "option '--%s' is ambiguous: %s", word, names.buf);
	else if (s.best)
		code = usage_error(cmd, "unknown option '--%s'; did you mean '--%s'?", word,
				   s.best);
	else
		code = usage_error(cmd, "unknown option '%s'", typed);
	strbuf_release(&names);
	return code;
}

/* A whole decimal number in [lo, hi]. */
static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *ret)
{
	char *end;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -EINVAL;
	*ret = (unsigned)v;
	return 0;
}

int cli_args_parse(const struct cli_command *cmd, int argc, char **argv, struct cli_args *ret_args)
{
	struct cli_args a = { 0 };
	int c, longindex = 0;

	a.format = REPORT_TEXT;
	a.color = CLI_COLOR_AUTO;
	a.keep = 30;
	a.keep_upgrades = 30;
	a.sample = 1;
	a.hash = HASH_XXH3_128;
	a.root_fd = -1;

	optind = 0; /* full reinitialization (glibc), so tests can parse twice */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":qh", long_options, &longindex)) != -1) {
		const char *arg = optarg;
		char name[80];

		/* The option as the user wrote it, for messages. */
		if (c >= 256)
			snprintf(name, sizeof(name), "--%s", long_options[longindex].name);
		else if (c == '?' || c == ':')
			snprintf(name, sizeof(name), "%s", argv[optind - 1]);
		else
			snprintf(name, sizeof(name), "-%c", c);
		longindex = 0;

		if (c == '?') {
			cli_args_release(&a);
			/* "-x" in a cluster like "-qx" is not argv[optind - 1] itself. */
			if (optopt && argv[optind - 1][1] != '-')
				return usage_error(cmd, "unknown option '-%c'", optopt);
			return unknown_long_option(cmd, name, optopt != 0);
		}
		if (c == ':') {
			cli_args_release(&a);
			return usage_error(cmd, "option '%s' needs a value", name);
		}
		if (c == 'h') {
			fputs(cmd->usage, stdout);
			cli_args_release(&a);
			return -1;
		}
		if (opt_bit(c) && !(cmd->opts & opt_bit(c))) {
			cli_args_release(&a);
			return usage_error(cmd, "this command takes no option '%s'", name);
		}
		switch (c) {
		case LONG_DB:
			a.db = arg;
			break;
		case LONG_THREADS:
			if (parse_uint(arg, 1, 1024, &a.threads) < 0) {
				cli_args_release(&a);
				return usage_error(
					cmd, "--threads takes a number from 1 to 1024, not '%s'",
					arg);
			}
			break;
		case LONG_EXCLUDE: {
			const char **p = realloc(a.excludes, (a.nexcludes + 1) * sizeof(*p));
			if (!p) {
				cli_args_release(&a);
				cli_error("out of memory");
				return DRIFT_EXIT_INTERNAL;
			}
			a.excludes = p;
			a.excludes[a.nexcludes++] = arg;
			/* Refuse a bad pattern now, before anything is opened or created. */
			struct pattern *pat = NULL;
			int pr = pattern_new(arg, &pat);
			pattern_free(pat);
			if (pr < 0) {
				cli_args_release(&a);
				if (pr == -ENOMEM) {
					cli_error("out of memory");
					return DRIFT_EXIT_INTERNAL;
				}
				return usage_error(cmd, "bad --exclude pattern '%s'", arg);
			}
			break;
		}
		case LONG_HASH:
			if (hash_algo_parse(arg, &a.hash) < 0) {
				cli_args_release(&a);
				return usage_error(
					cmd,
					"--hash takes 'xxh3-128', 'sha256' or 'none', not '%s'",
					arg);
			}
			a.have_hash = true;
			break;
		case LONG_CROSS_MOUNTS:
			a.cross_mounts = true;
			break;
		case LONG_FORMAT:
			/* Commands that list (runs, snapshots, policy) speak text and JSON only. */
			if (report_format_from_name(arg, &a.format) < 0 ||
			    (!(cmd->opts & OPT_REPORTS) && a.format != REPORT_TEXT &&
			     a.format != REPORT_JSON)) {
				cli_args_release(&a);
				return usage_error(cmd, "--format takes %s, not '%s'",
						   cmd->opts & OPT_REPORTS ? REPORT_FORMAT_NAMES
									   : "'text' or 'json'",
						   arg);
			}
			break;
		case LONG_REPORT: {
			const char *colon = strchr(arg, ':');
			struct cli_report_dest *p;
			char fname[16];
			enum report_format f;

			if (!colon || (size_t)(colon - arg) >= sizeof(fname) || !colon[1]) {
				cli_args_release(&a);
				return usage_error(cmd, "--report takes FORMAT:FILE, not '%s'",
						   arg);
			}
			snprintf(fname, sizeof(fname), "%.*s", (int)(colon - arg), arg);
			if (report_format_from_name(fname, &f) < 0) {
				cli_args_release(&a);
				return usage_error(cmd,
						   "--report: the format is one of %s, not '%s'",
						   REPORT_FORMAT_NAMES, fname);
			}
			if (a.nreports == CLI_REPORTS_MAX) {
				cli_args_release(&a);
				return usage_error(cmd, "at most %d --report options",
						   CLI_REPORTS_MAX);
			}
			p = realloc(a.reports, (a.nreports + 1) * sizeof(*p));
			if (!p) {
				cli_args_release(&a);
				cli_error("out of memory");
				return DRIFT_EXIT_INTERNAL;
			}
			a.reports = p;
			a.reports[a.nreports++] = (struct cli_report_dest){ f, colon + 1 };
			break;
		}
		case LONG_MIN_SEVERITY:
		case LONG_FAIL_ON:
		case LONG_JOURNAL: {
			enum severity sev;

			if (severity_from_name(arg, &sev) < 0) {
				cli_args_release(&a);
				return usage_error(
					cmd,
					"%s takes info, low, medium, high or critical, not '%s'",
					name, arg);
			}
			if (c == LONG_MIN_SEVERITY) {
				a.have_min_severity = true;
				a.min_severity = sev;
			} else if (c == LONG_FAIL_ON) {
				a.have_fail_on = true;
				a.fail_on = sev;
			} else {
				a.have_journal = true;
				a.journal_severity = sev;
			}
			break;
		}
		case LONG_SINCE_LAST:
			a.since_last = true;
			break;
		case LONG_VERBOSE:
			a.verbose = true;
			break;
		case LONG_OUTPUT:
			a.output = arg;
			break;
		case 'q':
			a.quiet = true;
			break;
		case LONG_COLOR:
			if (!strcmp(arg, "auto")) {
				a.color = CLI_COLOR_AUTO;
			} else if (!strcmp(arg, "always")) {
				a.color = CLI_COLOR_ALWAYS;
			} else if (!strcmp(arg, "never")) {
				a.color = CLI_COLOR_NEVER;
			} else {
				cli_args_release(&a);
				return usage_error(
					cmd, "--color takes 'auto', 'always' or 'never', not '%s'",
					arg);
			}
			break;
		case LONG_ALL_CHANGES:
			a.all_changes = true;
			break;
		case LONG_KEEP:
			if (parse_uint(arg, 0, 100000, &a.keep) < 0) {
				cli_args_release(&a);
				return usage_error(
					cmd,
					"--keep takes a number from 0 (all) to 100000, not '%s'",
					arg);
			}
			a.have_keep = true;
			break;
		case LONG_KEEP_UPGRADES:
			if (parse_uint(arg, 0, 100000, &a.keep_upgrades) < 0) {
				cli_args_release(&a);
				return usage_error(cmd,
						   "--keep-upgrades takes a number from 0 (all) to "
						   "100000, not '%s'",
						   arg);
			}
			a.have_keep_upgrades = true;
			break;
		case LONG_DELETE:
			a.delete_ = true;
			break;
		case LONG_PRUNE:
			a.prune = true;
			break;
		case LONG_DRY_RUN:
			a.dry_run = true;
			break;
		case LONG_WAIVERS:
			a.waivers = arg;
			break;
		case LONG_REASON:
			a.reason = arg;
			break;
		case LONG_EXPIRES:
			a.expires = arg;
			break;
		case LONG_RUN:
			a.run = arg;
			break;
		case LONG_KEY:
			a.seal_key = arg;
			break;
		case LONG_VERIFY:
			a.verify_seals = true;
			break;
		case LONG_HEAD:
			a.head = true;
			a.head_arg = arg;
			break;
		case LONG_NEW_KEY:
			a.new_key = arg;
			break;
		case LONG_VACUUM:
			a.vacuum = true;
			break;
		case LONG_LABEL: {
			/* The store's rules, before the store is opened. */
			struct diag d = { 0 };

			if (snap_label_check(arg, &d) < 0) {
				cli_args_release(&a);
				return usage_error(cmd, "%s", d.msg);
			}
			a.label = arg;
			break;
		}
		case LONG_REPLACE:
			a.replace = true;
			break;
		case LONG_FORCE:
			a.force = true;
			break;
		case LONG_POLICY:
			a.policy = arg;
			break;
		case LONG_ALLOW_INSECURE:
			a.allow_insecure = true;
			break;
		case LONG_COUNT_EXPECTED:
			a.count_expected = true;
			break;
		case LONG_TRUST_CTIME:
			a.trust_ctime = true;
			break;
		case LONG_SAMPLE:
			if (parse_uint(arg, 0, 100, &a.sample) < 0) {
				cli_args_release(&a);
				return usage_error(
					cmd, "--sample takes a percentage from 0 to 100, not '%s'",
					arg);
			}
			break;
		case LONG_ROOT:
			if (arg[0] != '/') {
				cli_args_release(&a);
				return usage_error(cmd, "--root takes an absolute path, not '%s'",
						   arg);
			}
			a.root = arg;
			break;
		case LONG_PROBES: {
			/* Refuse a misspelt probe now, before anything is opened or created. */
			struct diag d = { 0 };
			int pr = cli_probes_check(arg, &d);

			if (pr < 0) {
				cli_args_release(&a);
				if (pr == -ENOMEM) {
					cli_error("out of memory");
					return DRIFT_EXIT_INTERNAL;
				}
				return usage_error(cmd, "%s", d.msg);
			}
			a.probes = arg;
			break;
		}
		case LONG_UPGRADE:
			if (strcmp(arg, "pre") && strcmp(arg, "post")) {
				cli_args_release(&a);
				return usage_error(cmd, "--upgrade takes 'pre' or 'post', not '%s'",
						   arg);
			}
			a.upgrade = arg;
			break;
		case LONG_LAST_UPGRADE:
			a.last_upgrade = true;
			break;
		case LONG_UNOWNED:
			a.unowned = true;
			break;
		case LONG_NARROWER:
			a.narrower = true;
			break;
		}
	}
	a.operands = argv + optind;
	a.noperands = (size_t)(argc - optind);
	*ret_args = a;
	return 0;
}

void cli_args_release(struct cli_args *args)
{
	free(args->reports);
	args->reports = NULL;
	args->nreports = 0;
	free(args->excludes);
	free(args->db_default);
	free(args->policy_default);
	free(args->waivers_default);
	args->waivers_default = NULL;
	waiver_set_free(args->waiver_set);
	args->waiver_set = NULL;
	free(args->root_real);
	args->root_real = NULL;
	if (args->root_fd >= 0)
		close(args->root_fd);
	args->root_fd = -1;
	args->policy_default = NULL;
	args->excludes = NULL;
	args->nexcludes = 0;
	args->db_default = NULL;
}

const char *cli_db_path(struct cli_args *args)
{
	struct strbuf sb = STRBUF_INIT;
	const char *state, *home;

	if (args->db)
		return args->db;
	if (args->db_default)
		return args->db_default;
	if (geteuid() == 0) {
		args->db_default = strdup("/var/lib/drift/drift.db");
		return args->db_default;
	}
	/* XDG base directories: state lives in $XDG_STATE_HOME, ~/.local/state by default. */
	state = getenv("XDG_STATE_HOME");
	home = getenv("HOME");
	if (state && state[0] == '/')
		strbuf_addf(&sb, "%s/drift/drift.db", state);
	else if (home && home[0])
		strbuf_addf(&sb, "%s/.local/state/drift/drift.db", home);
	else
		strbuf_adds(&sb, "drift.db");
	args->db_default = strbuf_detach(&sb, NULL);
	return args->db_default;
}

static int newest_check(const struct snap_run_info *run, void *userdata)
{
	if (!strcmp(run->command, "check"))
		*(int64_t *)userdata = run->id;
	return 0;
}

int cli_newest_check(struct snap_store *st, int64_t *ret_id, struct diag *reterr)
{
	*ret_id = 0;
	return snap_run_list(st, newest_check, ret_id, reterr);
}

void cli_format_utc(char *buf, size_t size, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	snprintf(buf, size, "-");
	if (ns && gmtime_r(&t, &tm))
		strftime(buf, size, "%Y-%m-%d %H:%M:%S", &tm);
}

int cli_parse_id(const char *s, int64_t *ret)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}
