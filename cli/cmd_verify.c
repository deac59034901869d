/*
 * drift verify: the live host against the package database alone, like
 * `debsums -a`: every file an installed package ships with an MD5 sum is
 * read and compared, by worker threads, and what differs is reported as
 * deviations (modified: content differs; removed: missing), each naming
 * its package, classified by the policy's rule for its path. No database
 * or baseline is needed or written.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "scanner/dpkg.h"
#include "scanner/probe.h"
#include "scanner/verify.h"
#include "common/banned.h"

/* A file no package owns (--unowned), found by the walk before verifying. */
struct unowned {
	char *key;
	size_t len;
	uint32_t mode;
};

struct verify_ctx {
	struct report *rep;
	const struct rule_set *rules;
	bool count_expected;
	int report_err;
	/* --unowned: sorted by key, reported merged into the verify results' order */
	struct unowned *unowned;
	size_t nunowned, next_unowned, alloc_unowned;
};

/* The walk for --unowned: what is in scope and not in the packages' lists. */
struct unowned_walk {
	struct verify_ctx *ctx;
	const struct dpkg_index *idx;
	int err;
};

static unsigned unowned_decide(const char *path, size_t len, void *userdata)
{
	const struct unowned_walk *w = userdata;
	const char *key = path;

	if (!rule_set_unowned_scope(w->ctx->rules, key, len))
		return SCAN_STAT | SCAN_NO_ENTRY; /* a scope may start further down */
	return SCAN_STAT;
}

static enum scan_action unowned_visit(const struct entry *e, void *userdata)
{
	struct unowned_walk *w = userdata;
	struct verify_ctx *ctx = w->ctx;
	size_t len = e->key_len, pkg;
	const struct dpkg_file *f;
	const char *key = e->key;

	if (cli_interrupted())
		return SCAN_STOP;
	if (!(S_ISREG(e->mode) || S_ISLNK(e->mode)) || dpkg_index_find(w->idx, key, len, &pkg, &f))
		return SCAN_CONTINUE;
	if (ctx->nunowned == ctx->alloc_unowned) {
		size_t na = ctx->alloc_unowned ? ctx->alloc_unowned * 2 : 64;
		struct unowned *nu = realloc(ctx->unowned, na * sizeof(*nu));
		if (!nu) {
			w->err = -ENOMEM;
			return SCAN_STOP;
		}
		ctx->unowned = nu;
		ctx->alloc_unowned = na;
	}
	ctx->unowned[ctx->nunowned].key = malloc(len + 1);
	if (!ctx->unowned[ctx->nunowned].key) {
		w->err = -ENOMEM;
		return SCAN_STOP;
	}
	memcpy(ctx->unowned[ctx->nunowned].key, key, len);
	ctx->unowned[ctx->nunowned].key[len] = '\0';
	ctx->unowned[ctx->nunowned].len = len;
	ctx->unowned[ctx->nunowned].mode = e->mode;
	ctx->nunowned++;
	return SCAN_CONTINUE;
}

/* Ctrl-C also while the walk is in directories outside the scope (no visits there). */
static bool unowned_tick(const struct scan_stats *stats, void *userdata)
{
	(void)stats;
	(void)userdata;
	return cli_interrupted();
}

static int unowned_cmp(const void *a, const void *b)
{
	const struct unowned *ua = a, *ub = b;

	return snap_key_compare(ua->key, ua->len, ub->key, ub->len);
}

/* Report the unowned files that sort before @key (all of them for NULL). */
static int flush_unowned(struct verify_ctx *ctx, const char *key, size_t len)
{
	const struct rule_packages *pk = rule_set_packages(ctx->rules);

	while (ctx->next_unowned < ctx->nunowned) {
		const struct unowned *u = &ctx->unowned[ctx->next_unowned];
		struct entry e = { 0 };
		struct deviation d = { 0 };
		struct report_verdict rv = { 0 };
		struct report_owner ro = { 0 };
		struct rule_verdict v = { 0 };
		int r;

		if (key && snap_key_compare(u->key, u->len, key, len) >= 0)
			break;
		e.kind = ENTRY_FILE;
		e.key = u->key;
		e.key_len = u->len;
		e.mode = u->mode;
		d.change = CHANGE_ADDED;
		d.after = &e;
		v.class = CLASS_DRIFT;
		v.severity = pk->unowned_severity;
		v.rule = rule_set_match(ctx->rules, u->key, u->len);
		snprintf(v.reason, sizeof(v.reason), "not owned by any package");
		cli_verdict_report(&rv, &v, true);
		ro.unowned = true;
		r = report_add_attributed(ctx->rep, &d, &rv, &ro);
		if (r < 0) {
			ctx->report_err = r;
			return r;
		}
		ctx->next_unowned++;
	}
	return 0;
}

/* The system directories walked for --unowned (the policy's scope filters them). */
static const char *const unowned_roots[] = {
	"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/boot", "/opt", "/etc",
};

static int find_unowned(struct verify_ctx *ctx, struct dpkg_db *db, const struct cli_args *args)
{
	struct dpkg_index *idx = NULL;
	struct unowned_walk w = { 0 };
	struct scan_opts opts = { 0 };
	struct diag d = { 0 };
	const char *roots[sizeof(unowned_roots) / sizeof(unowned_roots[0])];
	size_t nroots = 0;
	int r;

	r = dpkg_index_build(db, &idx, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
	}
	for (size_t i = 0; i < sizeof(unowned_roots) / sizeof(unowned_roots[0]); i++) {
		/*
		 * Only real directories: /bin -> usr/bin is walked as part of /usr.
		 * Looked up from the root's fd, the last component not followed.
		 */
		int fd = probe_open(args->root_fd, unowned_roots[i], O_PATH | O_NOFOLLOW);
		struct stat st;

		if (fd < 0)
			continue;
		if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
			roots[nroots++] = unowned_roots[i];
		close(fd);
	}
	w.ctx = ctx;
	w.idx = idx;
	opts.roots = roots;
	opts.nroots = nroots;
	opts.use_rootfd = true;
	opts.rootfd = args->root_fd;
	opts.nthreads = args->threads;
	opts.hash = HASH_NONE;
	opts.decide = unowned_decide;
	opts.decide_data = &w;
	opts.visit = unowned_visit;
	opts.tick = unowned_tick;
	opts.userdata = &w;
	r = nroots ? scan_walk(&opts, NULL, &d) : 0;
	dpkg_index_free(idx);
	if (r == -ECANCELED && !w.err) {
		cli_error("interrupted");
		return DRIFT_EXIT_INTERRUPTED;
	}
	if (w.err || r < 0) {
		cli_error("cannot list unowned files: %s", w.err      ? strerror(-w.err)
							   : d.msg[0] ? d.msg
								      : strerror(-r));
		return w.err == -ENOMEM || r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
	}
	if (ctx->nunowned > 0) /* none: ctx->unowned is NULL, which qsort() must not get */
		qsort(ctx->unowned, ctx->nunowned, sizeof(*ctx->unowned), unowned_cmp);
	return 0;
}

static void finding(const char *probe, const char *file, unsigned line, const char *msg,
		    void *userdata)
{
	(void)probe;
	(void)userdata;
	if (line)
		cli_warn("%s:%u: %s", cli_path(file, strlen(file), 0), line, msg);
	else
		cli_warn("%s: %s", cli_path(file, strlen(file), 0), msg);
}

static int on_result(const struct verify_result *res, void *userdata)
{
	struct verify_ctx *ctx = userdata;
	struct entry old = { 0 }, new = { 0 };
	struct deviation d = { 0 };
	struct report_verdict rv = { 0 };
	struct report_owner ro = { 0 };
	struct rule_verdict v = { .class = CLASS_DRIFT, .severity = SEVERITY_MEDIUM };
	char package[160];
	int r;

	r = flush_unowned(ctx, res->path, res->path_len);
	if (r < 0)
		return r;
	if (res->status == VERIFY_ERROR) {
		/* Unreadable: a blind spot, listed as such, not a deviation. */
		new.kind = ENTRY_FILE;
		new.key = res->path;
		new.key_len = res->path_len;
		new.mode = S_IFREG;
		new.err = res->err;
		r = report_add_error(ctx->rep, &new);
		if (r < 0)
			ctx->report_err = r;
		return r;
	}

	old.kind = new.kind = ENTRY_FILE;
	old.key = new.key = res->path;
	old.key_len = new.key_len = res->path_len;
	old.mode = S_IFREG | 0644;
	old.hash_algo = HASH_MD5;
	old.hash_len = 16;
	memcpy(old.hash, res->expected, 16);
	d.before = &old;
	switch (res->status) {
	case VERIFY_MISMATCH:
		new.mode = old.mode;
		new.hash_algo = HASH_MD5;
		new.hash_len = 16;
		memcpy(new.hash, res->actual, 16);
		d.change = CHANGE_MODIFIED;
		d.after = &new;
		d.attrs = ATTR_HASH;
		snprintf(v.reason, sizeof(v.reason), "content does not match package %s %s",
			 res->pkg->name, res->pkg->version);
		break;
	case VERIFY_NOT_REGULAR:
		/* The type is not known beyond "not a regular file". */
		new.mode = 0;
		d.change = CHANGE_MODIFIED;
		d.after = &new;
		d.attrs = ATTR_TYPE;
		snprintf(v.reason, sizeof(v.reason), "not a regular file; package %s %s ships one",
			 res->pkg->name, res->pkg->version);
		break;
	default:
		d.change = CHANGE_REMOVED;
		snprintf(v.reason, sizeof(v.reason), "missing; package %s %s ships it",
			 res->pkg->name, res->pkg->version);
		break;
	}

	if (ctx->rules) {
		v.rule = rule_set_match(ctx->rules, res->path, res->path_len);
		if (v.rule)
			v.severity = rule_severity(v.rule);
		if (res->conffile && res->status == VERIFY_MISMATCH) {
			v.severity = rule_set_packages(ctx->rules)->conffile_severity;
			snprintf(v.reason, sizeof(v.reason),
				 "locally modified configuration (package %s %s)", res->pkg->name,
				 res->pkg->version);
		}
	}
	v.attrs = d.attrs;
	cli_verdict_report(&rv, &v, true);
	snprintf(package, sizeof(package), "%s:%s", res->pkg->name, res->pkg->arch);
	ro.package = package;
	ro.old_version = res->pkg->version;
	ro.new_version = res->pkg->version;
	r = report_add_attributed(ctx->rep, &d, &rv, &ro);
	if (r < 0)
		ctx->report_err = r;
	return r;
}

static int cmd_verify(struct cli_args *args)
{
	struct rule_set *rules = NULL;
	struct dpkg_db *db = NULL;
	struct report *rep = NULL;
	struct report_meta meta = { 0 };
	struct verify_ctx ctx = { 0 };
	struct verify_opts opts = { 0 };
	struct verify_stats stats = { 0 };
	struct cli_output out = { 0 };
	struct diag d = { 0 };
	const char *root;
	char dbpath[4096];
	int rootfd, r, code;
	bool out_open = false;

	if (args->noperands) {
		fprintf(stderr, "drift verify: takes no operands\nsee 'drift verify --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	code = cli_policy_load(args, &rules);
	if (code)
		return code;
	code = cli_root_open(args);
	if (code)
		goto out;
	root = cli_root(args);
	rootfd = args->root_fd;
	r = dpkg_db_load(rootfd, finding, NULL, &db, &d);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = r == -ENOENT ? DRIFT_EXIT_NO_BASELINE : DRIFT_EXIT_SCAN;
		goto out;
	}

	cli_signals_install();
	opts.stop = cli_interrupted_flag();
	ctx.rules = rules;
	if (args->unowned) {
		code = find_unowned(&ctx, db, args);
		if (code)
			goto out;
	}
	code = cli_output_open(&out, args);
	if (code)
		goto out;
	out_open = true;
	snprintf(dbpath, sizeof(dbpath), "%s/var/lib/dpkg", root);
	meta.command = "verify";
	meta.database = dbpath;
	meta.color = out.color;
	r = report_new(args->format, out.fp, &meta, &rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	ctx.rep = rep;
	ctx.rules = rules;
	ctx.count_expected = args->count_expected;
	r = scan_verify(rootfd, db, args->threads, &opts, on_result, &ctx, &stats, &d);
	if (r < 0) {
		if (ctx.report_err) {
			if (report_finish(rep, &d) < 0)
				cli_error("%s", d.msg);
			code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		} else if (r == -ECANCELED) {
			cli_error("interrupted");
			code = DRIFT_EXIT_INTERRUPTED;
		} else {
			cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
			code = r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
		}
		goto out;
	}
	r = flush_unowned(&ctx, NULL, 0);
	if (r < 0) {
		if (report_finish(rep, &d) < 0)
			cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	report_set_checked(rep, stats.files);
	code = cli_report_finish(rep);
out:
	report_free(rep);
	if (out_open)
		code = cli_output_finish(&out, code);
	dpkg_db_free(db);
	for (size_t i = 0; i < ctx.nunowned; i++)
		free(ctx.unowned[i].key);
	free(ctx.unowned);
	rule_set_free(rules);
	return code;
}

const struct cli_command cmd_verify_def = {
	.name = "verify",
	.summary = "check installed files against the package database (debsums -a)",
	.usage = "usage: drift verify [options]\n"
		 "\n"
		 "Check every file an installed Debian package ships with an MD5 sum, the\n"
		 "conffiles included, against the package database (var/lib/dpkg), with one\n"
		 "reader per CPU, as 'debsums -a' does. What differs is reported like a check:\n"
		 "modified (content differs; a changed conffile is 'locally modified\n"
		 "configuration'), removed (missing), each naming its package, with the\n"
		 "severity of the policy's rule for its path. No database or baseline is used.\n"
		 "MD5 only shows accidents and package mix-ups: anyone who can write a file\n"
		 "can also write var/lib/dpkg, and MD5 collisions can be crafted.\n"
		 "Exit code as for 'drift check'.\n"
		 "\n"
		 "options:\n"
		 "  --root DIR         verify the host under DIR (a mounted image, a container)\n"
		 "  --unowned          also list the files in system directories that no\n"
		 "                     package owns (the policy's packages.unowned scope)\n"
		 "  --policy FILE      policy for severities (default: as for 'drift init')\n"
		 "  --threads N        reader threads (default: one per CPU)\n"
		 "  --format FORMAT    text (default) or json\n"
		 "  --output FILE      write the report to FILE (replaced when complete)\n"
		 "  --color WHEN       auto (default), always, never\n"
		 "  --allow-insecure   as root, use a policy others could have written\n"
		 "  -q, --quiet        accepted for symmetry; the report is the output\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_POLICY | OPT_ROOT | OPT_THREADS | OPT_FORMAT | OPT_OUTPUT | OPT_COLOR |
		OPT_ALLOW_INSECURE | OPT_QUIET | OPT_UNOWNED,
	.run = cmd_verify,
};
