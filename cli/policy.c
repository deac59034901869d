/*
 * Finding and loading the policy, and refusing files that someone other
 * than root could have written (sshd's StrictModes) when running as root.
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

/*
 * The default path of drift's configuration file @name, cached in *@cache:
 * /etc/drift/NAME as root, else $XDG_CONFIG_HOME/drift/NAME (by default
 * ~/.config/drift/NAME). NULL: no home to put it in.
 */
const char *cli_config_default(const char *name, char **cache)
{
	struct strbuf sb = STRBUF_INIT;
	const char *config, *home;

	if (*cache)
		return *cache;
	config = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	if (geteuid() == 0)
		strbuf_addf(&sb, "/etc/drift/%s", name);
	else if (config && config[0] == '/')
		strbuf_addf(&sb, "%s/drift/%s", config, name);
	else if (home && home[0])
		strbuf_addf(&sb, "%s/.config/drift/%s", home, name);
	else
		return NULL;
	*cache = strbuf_detach(&sb, NULL);
	return *cache;
}

const char *cli_policy_path(struct cli_args *args)
{
	return args->policy ? args->policy
			    : cli_config_default("policy.yaml", &args->policy_default);
}

/*
 * A database holds the secret its password digests are keyed with, those
 * digests, and the inventory of the host: as root, it and its -wal and -shm
 * files (which SQLite creates with the database's mode) must be readable by
 * root alone. Refused rather than tightened: drift does not change a mode
 * someone chose, and whoever could read the file may already hold the
 * secret, which an error makes them look into. Returns 0 or an exit code
 * after printing why.
 */
static int check_database_private(const char *path, const struct stat *st_db)
{
	static const char *const suffixes[] = { "", "-wal", "-shm" };
	struct strbuf side = STRBUF_INIT;
	struct stat st;
	int code = 0;

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]) && !code; i++) {
		const char *why = NULL;

		strbuf_reset(&side);
		if (strbuf_addf(&side, "%s%s", path, suffixes[i]) < 0) {
			cli_error("out of memory");
			code = DRIFT_EXIT_INTERNAL;
			break;
		}
		if (i == 0) {
			if (!st_db)
				continue; /* missing, or a symlink refused above */
			st = *st_db;
		} else if (lstat(side.buf, &st) < 0) {
			if (errno == ENOENT)
				continue;
			cli_error("cannot check database '%s': %s: %s", path, side.buf,
				  strerror(errno));
			code = DRIFT_EXIT_DATABASE;
			break;
		}
		if (i > 0 && !S_ISREG(st.st_mode))
			why = "not a regular file";
		else if (st.st_uid != 0)
			why = "not owned by root";
		else if (st.st_mode & (S_IWGRP | S_IWOTH))
			why = "writable by others";
		else if (st.st_mode & (S_IRGRP | S_IROTH))
			why = "readable by others";
		if (why) {
			cli_error("refusing database '%s': '%s' is %s (%suse --allow-insecure to "
				  "override)",
				  path, side.buf, why,
				  st.st_mode & (S_IRWXG | S_IRWXO) ? "chmod 600 it, or " : "");
			code = DRIFT_EXIT_DATABASE;
		}
	}
	strbuf_release(&side);
	return code;
}

/*
 * Whether @path and every directory above it are safe to trust as root:
 * owned by root and writable by nobody else. A sticky directory owned by
 * root (/tmp) is accepted above the file, since nobody else can replace
 * what root put in it; it is refused as the direct parent of a database,
 * where SQLite creates its -wal and -shm files. Returns 0, or an exit code
 * with the reason in @why; *ret_st gets the file's lstat() when it is a
 * regular file (*ret_have_file says whether).
 */
static int secure_path_why(const char *path, const char *what, bool parent_may_be_sticky,
			   struct strbuf *why, bool *ret_have_file, struct stat *ret_st)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	bool first = true, direct_parent = false;
	int code = 0;

	*ret_have_file = false;
	if (path[0] != '/') {
		char cwd[4096];
		if (!getcwd(cwd, sizeof(cwd))) {
			strbuf_addf(why, "cannot check %s '%s': %s", what, path, strerror(errno));
			return DRIFT_EXIT_USAGE;
		}
		strbuf_addf(&sb, "%s/", cwd);
	}
	if (strbuf_adds(&sb, path) < 0) {
		strbuf_adds(why, "out of memory");
		return DRIFT_EXIT_INTERNAL;
	}

	for (;;) {
		if (lstat(sb.buf, &st) == 0) {
			bool sticky = S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX);
			bool writable = st.st_mode & (S_IWGRP | S_IWOTH);
			if (st.st_uid != 0 ||
			    (writable &&
			     (first || !sticky || (direct_parent && !parent_may_be_sticky)))) {
				strbuf_addf(why,
					    "refusing %s '%s': '%s' is %s (use --allow-insecure to "
					    "override)",
					    what, path, sb.buf,
					    st.st_uid != 0 ? "not owned by root"
							   : "writable by others");
				code = strcmp(what, "database") ? DRIFT_EXIT_POLICY
								: DRIFT_EXIT_DATABASE;
				break;
			}
			if (first && S_ISREG(st.st_mode)) {
				*ret_st = st;
				*ret_have_file = true;
			}
			direct_parent = first;
			first = false;
		} else if (errno != ENOENT) {
			strbuf_addf(why, "cannot check %s '%s': %s: %s", what, path, sb.buf,
				    strerror(errno));
			code = strcmp(what, "database") ? DRIFT_EXIT_POLICY : DRIFT_EXIT_DATABASE;
			break;
		} else {
			direct_parent = first;
			first = false;
		}
		if (sb.len <= 1)
			break;
		/* Up one component. */
		char *slash = strrchr(sb.buf, '/');
		strbuf_setlen(&sb, slash == sb.buf ? 1 : (size_t)(slash - sb.buf));
	}
	strbuf_release(&sb);
	return code;
}

/*
 * secure_path_why(), printed; a database must also be readable by nobody
 * else (check_database_private()).
 */
int cli_check_secure_path(const char *path, const char *what, bool parent_may_be_sticky,
			  bool allow_insecure)
{
	struct strbuf why = STRBUF_INIT;
	struct stat st_file;
	bool have_file;
	int code;

	if (geteuid() != 0 || allow_insecure)
		return 0;
	code = secure_path_why(path, what, parent_may_be_sticky, &why, &have_file, &st_file);
	if (code)
		cli_error("%s", why.len ? why.buf : "out of memory");
	strbuf_release(&why);
	/* A policy or waivers file may be world-readable; a database may not. */
	if (!code && strcmp(what, "policy") && strcmp(what, "waivers"))
		code = check_database_private(path, have_file ? &st_file : NULL);
	return code;
}

/*
 * As root, a file that the policy extends or includes is trusted as the
 * policy itself is: the same StrictModes check (rule_file_check_fn).
 */
static int check_included(const char *path, struct diag *reterr, void *userdata)
{
	struct strbuf why = STRBUF_INIT;
	struct stat st;
	bool have_file;
	int code, r = 0;

	code = secure_path_why(path, "policy", true, &why, &have_file, &st);
	if (code == DRIFT_EXIT_INTERNAL)
		r = -ENOMEM;
	else if (code)
		r = diag_set(reterr, -EPERM, "%s", why.buf);
	strbuf_release(&why);
	return r;
}

struct problem_ctx {
	unsigned count;
};

static void print_problem(const struct diag *d, void *userdata)
{
	struct problem_ctx *ctx = userdata;

	ctx->count++;
	if (d->file && d->line)
		fprintf(stderr, "%s:%u:%u: %s\n", d->file, d->line, d->col, d->msg);
	else if (d->file)
		fprintf(stderr, "%s: %s\n", d->file, d->msg);
	else
		fprintf(stderr, "drift: %s\n", d->msg);
}

/* Load @path; @strict: refuse included files others could have written. */
static int policy_load_file(const char *path, bool strict, struct rule_set **ret_set)
{
	struct problem_ctx ctx = { 0 };
	struct rule_load_opts opts = { .problem = print_problem, .userdata = &ctx };
	struct diag d = { 0 };
	int r;

	if (strict && geteuid() == 0)
		opts.check_file = check_included;
	r = rule_set_load_file_full(path, &opts, ret_set, &d);
	if (r == -ENOMEM) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (r < 0) {
		if (!ctx.count)
			cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		else
			cli_error("%s: %u problem%s in the policy", path, ctx.count,
				  ctx.count == 1 ? "" : "s");
		return DRIFT_EXIT_POLICY;
	}
	return 0;
}

int cli_policy_load_file(const char *path, struct rule_set **ret_set)
{
	return policy_load_file(path, false, ret_set);
}

int cli_policy_load(struct cli_args *args, struct rule_set **ret_set)
{
	const char *path = cli_policy_path(args);
	struct diag d = { 0 };
	struct stat st;
	int code, r;

	if (args->policy && !strcmp(args->policy, "builtin"))
		path = NULL;
	else if (!args->policy && (!path || (stat(path, &st) < 0 && errno == ENOENT)))
		path = NULL; /* no policy file: the built-in default */

	if (!path) {
		r = rule_set_load_default(ret_set, &d);
		if (r < 0) {
			cli_error("built-in policy: %s", d.msg[0] ? d.msg : strerror(-r));
			return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_POLICY;
		}
		return 0;
	}
	code = cli_check_secure_path(path, "policy", true, args->allow_insecure);
	if (code)
		return code;
	return policy_load_file(path, !args->allow_insecure, ret_set);
}
