/*
 * What init, check and scan share: resolving roots, running the walker into
 * a snapshot writer with a progress line and clean interruption, and
 * comparing two snapshots into a report.
 *
 * Interruption: SIGINT and SIGTERM only set a flag. The walker's workers
 * block signals, so the handler runs on the main thread, whose tick (five
 * times a second) and visit callbacks see the flag and stop the walk. The
 * writer is then rolled back: the snapshot stays recorded as incomplete, and
 * everything stored before is untouched.
 */
#include "cli/cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/pattern.h"
#include "common/banned.h"

/* ---- signals ---- */

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void cli_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool cli_interrupted(void)
{
	return interrupted != 0;
}

/* ---- roots ---- */

/*
 * Until the policy issue brings a policy file, these are the roots of a
 * baseline taken without arguments: configuration, system binaries and the
 * boot files. Missing ones are skipped.
 */
static const char *const default_roots[] = { "/etc", "/usr/bin", "/usr/sbin", "/boot" };

void cli_roots_free(char **roots, size_t nroots)
{
	if (!roots)
		return;
	for (size_t i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
}

int cli_roots_resolve(char *const *paths, size_t npaths, char ***ret_roots, size_t *ret_nroots)
{
	bool defaults = npaths == 0;
	size_t n = defaults ? sizeof(default_roots) / sizeof(default_roots[0]) : npaths;
	char **roots = calloc(n ? n : 1, sizeof(*roots));
	size_t count = 0;

	if (!roots) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = defaults ? default_roots[i] : paths[i];
		struct diag d = { 0 };
		int r = scan_root_resolve(p, &roots[count], &d);

		if (r == -ENOENT && defaults)
			continue;
		if (r < 0) {
			cli_error("cannot scan '%s': %s", cli_path(p, strlen(p), 0),
				  d.msg[0] ? d.msg : strerror(-r));
			cli_roots_free(roots, count);
			return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
		}
		count++;
	}
	if (count == 0) {
		cli_error("none of the default roots exists; name the paths to scan");
		cli_roots_free(roots, count);
		return DRIFT_EXIT_SCAN;
	}
	*ret_roots = roots;
	*ret_nroots = count;
	return 0;
}

/* ---- scanning into a snapshot ---- */

struct scan_ctx {
	struct snap_writer *writer;
	struct pattern **excludes;
	size_t nexcludes;
	unsigned collect;
	int err; /* first failure of the writer */
	struct diag diag;
	bool progress;
	struct timespec start;
	uint64_t pause_after; /* test hook, 0 = off */
	uint64_t added;
};

static unsigned scan_decide(const char *path, size_t len, void *userdata)
{
	const struct scan_ctx *ctx = userdata;

	for (size_t i = 0; i < ctx->nexcludes; i++)
		if (pattern_match(ctx->excludes[i], path, len))
			return SCAN_SKIP;
	return ctx->collect;
}

static double elapsed(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

void cli_format_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)bytes;
	unsigned u = 0;

	while (v >= 1000 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, size, "%.1f %s", v, units[u]);
}

static bool scan_tick(const struct scan_stats *stats, void *userdata)
{
	struct scan_ctx *ctx = userdata;

	if (ctx->progress) {
		char bytes[32];
		double t = elapsed(&ctx->start);

		cli_format_bytes(bytes, sizeof(bytes), stats->bytes_hashed);
		fprintf(stderr, "\rdrift: scanning: %llu entries, %s hashed, %.0f entries/s\033[K",
			(unsigned long long)stats->entries, bytes,
			t > 0 ? (double)stats->entries / t : 0.0);
		fflush(stderr);
	}
	return cli_interrupted();
}

static enum scan_action scan_visit(const struct entry *e, void *userdata)
{
	struct scan_ctx *ctx = userdata;
	int r;

	if (cli_interrupted())
		return SCAN_STOP;
	r = snap_writer_add(ctx->writer, e, &ctx->diag);
	if (r < 0) {
		ctx->err = r;
		return SCAN_STOP;
	}
	/*
	 * Test hook: after N entries, stop and wait for a signal, so that the
	 * end-to-end tests can SIGKILL or SIGINT a scan at a known point.
	 */
	if (ctx->pause_after && ++ctx->added == ctx->pause_after) {
		fprintf(stderr, "drift: test pause after %llu entries\n",
			(unsigned long long)ctx->added);
		sigset_t block, old;
		sigemptyset(&block);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &block, &old);
		while (!cli_interrupted())
			sigsuspend(&old); /* no lost wake-up between the test and the wait */
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		return SCAN_STOP;
	}
	return SCAN_CONTINUE;
}

int cli_scan_into(struct snap_store *st, const struct snap_new *params, const struct cli_args *args,
		  struct snap_info *ret_info, struct scan_stats *ret_stats)
{
	struct scan_ctx ctx = { 0 };
	struct scan_opts opts = { 0 };
	struct scan_stats stats = { 0 };
	const char *pause_env = getenv("DRIFT_TEST_PAUSE_AFTER");
	int r, code = 0;

	ctx.collect = params->hash == HASH_NONE ? SCAN_STAT : SCAN_ALL;
	ctx.progress = !args->quiet && isatty(STDERR_FILENO);
	if (pause_env)
		ctx.pause_after = strtoull(pause_env, NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &ctx.start);

	if (params->nexcludes) {
		ctx.excludes = calloc(params->nexcludes, sizeof(*ctx.excludes));
		if (!ctx.excludes) {
			cli_error("out of memory");
			return DRIFT_EXIT_INTERNAL;
		}
	}
	for (size_t i = 0; i < params->nexcludes; i++) {
		r = pattern_new(params->excludes[i], &ctx.excludes[i]);
		if (r < 0) {
			cli_error("bad --exclude pattern '%s'%s", params->excludes[i],
				  r == -ENOMEM ? ": out of memory" : "");
			code = r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_USAGE;
			goto out;
		}
		ctx.nexcludes++;
	}

	r = snap_writer_begin(st, params, &ctx.writer, &ctx.diag);
	if (r < 0) {
		cli_error("%s", ctx.diag.msg);
		code = r == -EEXIST || r == -EINVAL ? DRIFT_EXIT_USAGE
						    : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	opts.roots = params->roots;
	opts.nroots = params->nroots;
	opts.nthreads = args->threads;
	opts.hash = params->hash;
	opts.cross_mounts = params->cross_mounts;
	opts.decide = scan_decide;
	opts.decide_data = &ctx;
	opts.visit = scan_visit;
	opts.tick = scan_tick;
	opts.userdata = &ctx;

	struct diag sd = { 0 };
	r = scan_walk(&opts, &stats, &sd);
	if (ctx.progress)
		fputs("\r\033[K", stderr);
	if (r < 0) {
		snap_writer_abort(ctx.writer);
		ctx.writer = NULL;
		if (ctx.err) {
			cli_error("%s", ctx.diag.msg);
			code = exit_code_for_error(CLI_STAGE_STORE, ctx.err);
		} else if (r == -ECANCELED) {
			cli_error(
				"interrupted: the new snapshot is left incomplete, nothing else was changed");
			code = DRIFT_EXIT_INTERRUPTED;
		} else {
			cli_error("%s", sd.msg[0] ? sd.msg : strerror(-r));
			code = exit_code_for_error(CLI_STAGE_SCAN, r);
		}
		goto out;
	}

	r = snap_writer_commit(ctx.writer, ret_info, &ctx.diag);
	ctx.writer = NULL;
	if (r < 0) {
		cli_error("%s", ctx.diag.msg);
		code = r == -EEXIST ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (ret_stats)
		*ret_stats = stats;
out:
	snap_writer_abort(ctx.writer);
	for (size_t i = 0; i < ctx.nexcludes; i++)
		pattern_free(ctx.excludes[i]);
	free(ctx.excludes);
	return code;
}

/* ---- comparing into a report ---- */

struct compare_ctx {
	struct report *rep;
	int report_err; /* report_add() failed (a temporary file could not be written) */
};

static int compare_visit(const struct deviation *d, void *userdata)
{
	struct compare_ctx *ctx = userdata;
	int r;

	if (cli_interrupted())
		return -ECANCELED;
	r = report_add(ctx->rep, d);
	if (r < 0)
		ctx->report_err = r;
	return r;
}

int cli_compare_report(struct snap_store *st, const char *command, const struct snap_info *old,
		       const struct snap_info *new, const char *const *roots, size_t nroots,
		       const struct cli_args *args)
{
	struct snap_iter *it_old = NULL, *it_new = NULL;
	struct cli_output out;
	struct report *rep = NULL;
	struct report_meta meta = { 0 };
	struct report_counts counts;
	struct compare_ctx ctx;
	struct diag d = { 0 };
	const struct entry *e;
	unsigned flags = args->all_changes ? SNAP_COMPARE_ALL : 0;
	int r, code;

	code = cli_output_open(&out, args);
	if (code)
		return code;

	meta.command = command;
	meta.database = args->db ? args->db : args->db_default;
	meta.old = old;
	meta.new = new;
	meta.compare_flags = flags;
	meta.color = out.color;

	r = report_new(args->format, out.fp, &meta, &rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}

	r = snap_iter_new(st, old->id, ENTRY_FILE, roots, nroots, 0, &it_old, &d);
	if (r >= 0)
		r = snap_iter_new(st, new->id, ENTRY_FILE, roots, nroots, 0, &it_new, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	ctx.rep = rep;
	ctx.report_err = 0;
	r = snap_compare(it_old, it_new, flags, compare_visit, &ctx, &d);
	if (r < 0 && ctx.report_err) {
		/* The report knows why it failed; finishing it says so. */
		if (report_finish(rep, &d) < 0)
			cli_error("%s", d.msg);
		else
			cli_error("cannot write the report: %s", strerror(-r));
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	if (r < 0) {
		if (r == -ECANCELED)
			cli_error("interrupted");
		else if (r == -ENOMEM || d.msg[0] == '\0')
			cli_error("cannot compare snapshots: %s", strerror(-r));
		else
			cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	/* The entries of the new side that could not be read are blind spots: list them. */
	snap_iter_free(it_new);
	it_new = NULL;
	r = snap_iter_new(st, new->id, ENTRY_FILE, roots, nroots, SNAP_ITER_ERRORS_ONLY, &it_new,
			  &d);
	while (r >= 0 && (r = snap_iter_next(it_new, &e, &d)) > 0)
		r = report_add_error(rep, e);
	if (r < 0) {
		cli_error("%s", d.msg[0] ? d.msg : strerror(-r));
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	r = report_finish(rep, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_OUTPUT, r);
		goto out;
	}
	report_get_counts(rep, &counts);
	code = exit_code_for_counts(&counts);
out:
	snap_iter_free(it_old);
	snap_iter_free(it_new);
	report_free(rep);
	r = cli_output_close(&out, code < DRIFT_EXIT_USAGE);
	if (r && code < DRIFT_EXIT_USAGE)
		code = r;
	return code;
}
