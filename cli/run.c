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
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/pattern.h"
#include "common/strbuf.h"
#include "scanner/probe.h"
#include <xxhash.h>

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
	/*
	 * SA_RESTART: a write or fsync under way is not failed with EINTR.
	 * SA_RESETHAND: the first signal asks for a clean stop; a second one,
	 * should the stop take too long, ends the process the usual way.
	 */
	sa.sa_flags = SA_RESTART | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Past a file size limit (RLIMIT_FSIZE), a write fails with EFBIG: a
	 * database error with its message, not a death by SIGXFSZ. */
	sa.sa_handler = SIG_IGN;
	sa.sa_flags = 0;
	sigaction(SIGXFSZ, &sa, NULL);
}

bool cli_interrupted(void)
{
	return interrupted != 0;
}

volatile sig_atomic_t *cli_interrupted_flag(void)
{
	return &interrupted;
}

/* ---- the database ---- */

int cli_store_open(struct cli_args *args, enum snap_open_flags flags, struct snap_store **ret_st)
{
	const char *db = cli_db_path(args);
	struct diag d = { 0 };
	int r, code;

	if (!db) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	code = cli_check_secure_path(db, "database", false, args->allow_insecure);
	if (code)
		return code;
	r = snap_store_open(db, flags, ret_st, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		if (r == -ENOENT && !(flags & SNAP_OPEN_WRITE))
			return DRIFT_EXIT_NO_BASELINE;
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	return 0;
}

void cli_params_from_policy(struct snap_new *params, const struct rule_set *rules,
			    const struct cli_args *args)
{
	const struct rule_scan *scan = rule_set_scan(rules);

	params->hash = args->have_hash ? args->hash : scan->hash;
	params->cross_mounts = args->cross_mounts || scan->cross_mounts;
	params->policy_digest = rule_set_digest(rules);
	params->policy_source = rule_set_source(rules);
}

/* ---- roots ---- */

void cli_roots_free(char **roots, size_t nroots)
{
	if (!roots)
		return;
	for (size_t i = 0; i < nroots; i++)
		free(roots[i]);
	free(roots);
}

const char *cli_root(const struct cli_args *args)
{
	return args->root_real ? args->root_real : "";
}

int cli_root_open(struct cli_args *args)
{
	const char *root;

	if (args->root_fd >= 0)
		return 0;
	if (args->root) {
		args->root_real = realpath(args->root, NULL);
		if (!args->root_real) {
			int e = errno;

			cli_error("cannot use --root '%s': %s",
				  cli_path(args->root, strlen(args->root), 0), strerror(e));
			return e == ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_USAGE;
		}
		if (!strcmp(args->root_real, "/"))
			args->root_real[0] = '\0'; /* "/" is no prefix at all */
	}
	root = cli_root(args);
	args->root_fd = open(*root ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (args->root_fd < 0) {
		cli_error("cannot open the root '%s': %s",
			  *root ? cli_path(root, strlen(root), 0) : "/", strerror(errno));
		return DRIFT_EXIT_SCAN;
	}
	return 0;
}

/*
 * A root the user named, under --root: resolved on the host (symlinks
 * followed), then made a key again by taking the root off. Returns 0, 1
 * when it does not exist, or an exit code.
 */
static int root_resolve_under(const struct cli_args *args, const char *p, char **ret_key)
{
	const char *root = cli_root(args);
	size_t rlen = strlen(root);
	struct diag d = { 0 };
	char *resolved = NULL, link[64];
	int r, fd;
	ssize_t n;

	if (!rlen) {
		r = scan_root_resolve(p, &resolved, &d);
		if (r == -ENOENT)
			return 1;
		if (r < 0) {
			cli_error("cannot scan '%s': %s", cli_path(p, strlen(p), 0),
				  d.msg[0] ? d.msg : strerror(-r));
			return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_SCAN;
		}
		*ret_key = resolved;
		return 0;
	}

	/*
	 * Under --root, a path names a place inside the root, and its symlinks
	 * resolve as they would on that host: an image's "lib -> /usr/lib" is
	 * the image's /usr/lib, never ours (openat2 RESOLVE_IN_ROOT).
	 */
	fd = probe_open(args->root_fd, p, O_PATH);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 1;
	if (fd < 0) {
		cli_error("cannot scan '%s' under --root: %s", cli_path(p, strlen(p), 0),
			  strerror(-fd));
		return DRIFT_EXIT_SCAN;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	resolved = malloc(PATH_MAX + 1);
	n = resolved ? readlink(link, resolved, PATH_MAX) : -1;
	close(fd);
	if (n < 0 || (size_t)n >= PATH_MAX) {
		free(resolved);
		cli_error("cannot resolve '%s' under --root (is /proc mounted?)",
			  cli_path(p, strlen(p), 0));
		return DRIFT_EXIT_SCAN;
	}
	resolved[n] = '\0';
	if (strncmp(resolved, root, rlen) || (resolved[rlen] && resolved[rlen] != '/')) {
		/* A mount or a race moved it: refuse rather than scan the host. */
		cli_error("'%s' leads outside --root '%s'", cli_path(p, strlen(p), 0),
			  cli_path(root, rlen, 1));
		free(resolved);
		return DRIFT_EXIT_USAGE;
	}
	*ret_key = strdup(resolved[rlen] ? resolved + rlen : "/");
	free(resolved);
	if (!*ret_key) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	return 0;
}

int cli_roots_resolve(char *const *paths, size_t npaths, const struct rule_set *rules,
		      const struct cli_args *args, char ***ret_roots, size_t *ret_nroots)
{
	const struct rule_scan *scan = rule_set_scan(rules);
	bool defaults = npaths == 0;
	size_t n = defaults ? scan->nroots : npaths;
	char **roots = calloc(n ? n : 1, sizeof(*roots));
	size_t count = 0;

	if (!roots) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *p = defaults ? scan->roots[i] : paths[i];
		int r = root_resolve_under(args, p, &roots[count]);

		if (r == 1 && defaults)
			continue;
		if (r == 1) {
			cli_error("cannot scan '%s': %s", cli_path(p, strlen(p), 0),
				  strerror(ENOENT));
			r = DRIFT_EXIT_SCAN;
		}
		if (r) {
			cli_roots_free(roots, count);
			return r;
		}
		if (rule_set_excluded(rules, roots[count], strlen(roots[count])))
			cli_warn("'%s' is excluded by the policy '%s': nothing below it is scanned",
				 cli_path(roots[count], strlen(roots[count]), 0),
				 rule_set_source(rules));
		count++;
	}
	if (count == 0) {
		cli_error("none of the policy's roots exists; name the paths to scan");
		cli_roots_free(roots, count);
		return DRIFT_EXIT_SCAN;
	}
	*ret_roots = roots;
	*ret_nroots = count;
	return 0;
}

int cli_roots_existing(char *const *roots, size_t nroots, const struct cli_args *args,
		       char ***ret_roots, size_t *ret_nroots)
{
	char **out = calloc(nroots + 1, sizeof(*out));
	size_t n = 0;

	if (!out) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (size_t i = 0; i < nroots; i++) {
		/* Looked up from the root's fd: a symlink cannot take it out of the root. */
		int fd = probe_open(args->root_fd, roots[i], O_PATH | O_NOFOLLOW);

		if (fd >= 0)
			close(fd);
		/* Gone (or a parent became a file): everything below it is removed, not a failure.
		 */
		if (fd == -ENOENT || fd == -ENOTDIR)
			continue;
		out[n] = strdup(roots[i]);
		if (!out[n]) {
			cli_roots_free(out, n);
			cli_error("out of memory");
			return DRIFT_EXIT_INTERNAL;
		}
		n++;
	}
	*ret_roots = out;
	*ret_nroots = n;
	return 0;
}

int cli_roots_within(char *const *roots, size_t nroots, const struct snap_info *base)
{
	for (size_t i = 0; i < nroots; i++) {
		size_t len = strlen(roots[i]);
		bool inside = false;

		for (size_t j = 0; j < base->nroots && !inside; j++) {
			size_t blen = strlen(base->roots[j]);
			inside = !strcmp(base->roots[j], "/") ||
				 (len >= blen && !memcmp(roots[i], base->roots[j], blen) &&
				  (len == blen || roots[i][blen] == '/'));
		}
		if (!inside) {
			cli_error("'%s' is not under the baseline's roots; check what the baseline "
				  "covers (see 'drift snapshots'), or take a new one",
				  cli_path(roots[i], len, 0));
			return DRIFT_EXIT_USAGE;
		}
	}
	return 0;
}

/* ---- scanning into a snapshot ---- */

struct scan_ctx {
	struct snap_writer *writer;
	struct pattern **excludes;
	size_t nexcludes;
	const struct rule_set *rules; /* NULL: collect everything (ctx->collect) */
	unsigned collect;
	int err; /* first failure of the writer */
	struct diag diag;
	bool progress;
	struct timespec start;
	uint64_t pause_after; /* test hook, 0 = off */
	uint64_t added;
	char *db_real; /* the database's own path as a key under --root: never scanned */
	size_t db_len;
	size_t max_path; /* the walk's path limit, for the warning about deeper nesting */

	/* --trust-ctime: one baseline lookup per worker, opened by that worker. */
	const struct snap_info *reuse_base;
	const char *db_path;
	struct reuse_slot *slots;
	uint64_t sample_mod, sample_slot; /* re-hash keys whose hash % mod == slot */
};

/* Files up to this size are hashed rather than looked up (see scan_reuse()). */
#define REUSE_MIN_SIZE ((uint64_t)128 * 1024)

struct reuse_slot {
	struct snap_lookup *lk;
	bool failed; /* could not open: hash everything on this worker */
};

/*
 * On worker @worker: whether the baseline's hash can stand for the file in
 * @e. It can when device, inode, size, mtime and ctime are all unchanged (as
 * git's index decides), except for a rotating sample that is read anyway, so
 * that a forged ctime (root can set the clock) is caught within 100/N runs.
 */
static bool scan_reuse(unsigned worker, const struct entry *e, struct entry *ret_entry,
		       void *userdata)
{
	struct scan_ctx *ctx = userdata;
	struct reuse_slot *slot = &ctx->slots[worker];
	const struct entry *b;
	const char *key = e->key;
	size_t klen = e->key_len;

	/*
	 * A small file is cheaper to read than to look up: one read from the
	 * page cache against a b-tree descent (the lookup made a check of
	 * 1,000,000 files of 0-4 KiB 40% slower in bench/run). Reuse pays
	 * above what one read of the hasher's buffer takes.
	 */
	if (e->size <= REUSE_MIN_SIZE)
		return false;
	if (ctx->sample_mod && XXH3_64bits(key, klen) % ctx->sample_mod == ctx->sample_slot)
		return false;
	if (!slot->lk && !slot->failed &&
	    snap_lookup_open(ctx->db_path, ctx->reuse_base->id, &slot->lk, NULL) < 0)
		slot->failed = true;
	if (slot->failed || snap_lookup_get(slot->lk, ENTRY_FILE, key, klen, &b, NULL) != 1)
		return false;
	if (!S_ISREG(b->mode) || b->hash_len == 0 || b->dev != e->dev || b->ino != e->ino ||
	    b->size != e->size || b->mtime_ns != e->mtime_ns || b->ctime_ns != e->ctime_ns)
		return false;
	ret_entry->hash_algo = ctx->reuse_base->hash;
	ret_entry->hash_len = b->hash_len;
	memcpy(ret_entry->hash, b->hash, b->hash_len);
	return true;
}

/* Whether @path is the database or one of SQLite's files beside it. */
static bool is_own_database(const struct scan_ctx *ctx, const char *path, size_t len)
{
	static const char *const suffixes[] = { "", "-wal", "-shm", "-journal" };

	if (!ctx->db_real || len < ctx->db_len || memcmp(path, ctx->db_real, ctx->db_len) != 0)
		return false;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++)
		if (len - ctx->db_len == strlen(suffixes[i]) &&
		    !memcmp(path + ctx->db_len, suffixes[i], len - ctx->db_len))
			return true;
	return false;
}

/*
 * The database's path as the walker will see it: its directory resolved
 * (as roots are), its name kept. NULL when it cannot be resolved.
 */
static char *resolve_db_path(const char *db)
{
	char *copy = strdup(db), *slash, *dir = NULL, *out = NULL;
	const char *base;
	struct strbuf sb = STRBUF_INIT;

	if (!copy)
		return NULL;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dir = realpath(slash == copy ? "/" : copy, NULL);
	} else {
		base = copy;
		dir = realpath(".", NULL);
	}
	if (dir && strbuf_addf(&sb, "%s/%s", strcmp(dir, "/") ? dir : "", base) == 0)
		out = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	free(dir);
	free(copy);
	return out;
}

/*
 * The database's path as a key of the walk: resolved, then under --root
 * made a key by taking the root off. NULL when it cannot be resolved or is
 * not under the root (the walk cannot meet it then).
 */
static char *db_key(const struct cli_args *args, const char *db)
{
	const char *root = cli_root(args);
	size_t rlen = strlen(root);
	char *real = resolve_db_path(db), *key;

	if (!real || !rlen)
		return real;
	if (strncmp(real, root, rlen) || real[rlen] != '/') {
		free(real);
		return NULL;
	}
	key = strdup(real + rlen);
	free(real);
	return key;
}

/* What the scanner collects for the attributes a rule checks. */
static unsigned collect_for_attrs(uint32_t attrs, unsigned base)
{
	static const struct {
		uint32_t attr;
		unsigned collect;
	} optional[] = {
		{ ATTR_XATTRS, SCAN_XATTRS },   { ATTR_ACL, SCAN_ACL },   { ATTR_CAPS, SCAN_CAPS },
		{ ATTR_SELINUX, SCAN_SELINUX }, { ATTR_MIME, SCAN_MIME },
	};
	unsigned c = SCAN_STAT;

	/* A path no rule needs hashed is not read. */
	if (attrs & ATTR_HASH)
		c |= base & SCAN_HASH;
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (attrs & optional[i].attr)
			c |= optional[i].collect;
	return c;
}

/* On worker threads: reads only immutable data (patterns, the rule set). */
static unsigned scan_decide(const char *path, size_t len, void *userdata)
{
	const struct scan_ctx *ctx = userdata;
	const struct rule *rule;

	/* drift's own database changes with every run: it is not part of the host's state. */
	if (is_own_database(ctx, path, len))
		return SCAN_SKIP;
	for (size_t i = 0; i < ctx->nexcludes; i++)
		if (pattern_match(ctx->excludes[i], path, len))
			return SCAN_SKIP;
	if (!ctx->rules)
		return ctx->collect;
	/* rule_set_match() already says NULL for an excluded path: ask about exclusion only then.
	 */
	rule = rule_set_match(ctx->rules, path, len);
	if (rule)
		return collect_for_attrs(rule_attrs(rule), ctx->collect);
	if (rule_set_excluded(ctx->rules, path, len))
		return SCAN_SKIP;
	/* Not covered: not scanned, but a rule may cover something below. */
	return rule_set_may_match_below(ctx->rules, path, len) ? SCAN_STAT | SCAN_NO_ENTRY
							       : SCAN_SKIP;
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

void cli_print_scan_summary(const char *command, const char *what, const struct snap_info *info,
			    const struct scan_stats *stats)
{
	char bytes[32];

	cli_format_bytes(bytes, sizeof(bytes), stats->bytes_hashed);
	printf("drift %s: %s '%s' (#%lld): %llu entries, %s hashed", command, what,
	       info->label ? cli_path(info->label, strlen(info->label), 0) : "-",
	       (long long)info->id, (unsigned long long)info->entries, bytes);
	if (stats->files_reused)
		printf(" (%llu files' hashes reused)", (unsigned long long)stats->files_reused);
	if (info->errors)
		printf("; %llu unreadable", (unsigned long long)info->errors);
	printf("\n");
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
	if (e->flags & ENTRY_NOT_DESCENDED_TOO_DEEP) {
		if (ctx->progress)
			fputs("\r\033[K", stderr);
		/* The path is up to max_path bytes: its two ends say where it is. */
		if (e->key_len > 160)
			cli_warn("'%s...%s' (%zu bytes): nesting beyond %zu bytes: not descended",
				 cli_path(e->key, 80, 0), cli_path(e->key + e->key_len - 60, 60, 1),
				 e->key_len, ctx->max_path);
		else
			cli_warn("'%s': nesting beyond %zu bytes: not descended",
				 cli_path(e->key, e->key_len, 0), ctx->max_path);
	}
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

int cli_scan_into(struct snap_store *st, const struct snap_new *params,
		  const struct rule_set *rules, const struct snap_info *reuse_base,
		  const struct cli_args *args, cli_scan_finished_fn *finished, void *userdata,
		  struct snap_info *ret_info, struct scan_stats *ret_stats)
{
	struct scan_ctx ctx = { 0 };
	struct scan_opts opts = { 0 };
	struct scan_stats stats = { 0 };
	const char *pause_env = getenv("DRIFT_TEST_PAUSE_AFTER");
	unsigned nslots = 0;
	int r, code = 0;

	ctx.collect = params->hash == HASH_NONE ? SCAN_STAT : SCAN_ALL;
	ctx.rules = rules;
	ctx.db_real = db_key(args, snap_store_path(st));
	ctx.db_len = ctx.db_real ? strlen(ctx.db_real) : 0;
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

	/* Every lookup under --root starts from its fd: never from a path string. */
	opts.roots = params->roots;
	opts.nroots = params->nroots;
	opts.use_rootfd = true;
	opts.rootfd = args->root_fd;
	opts.nthreads = args->threads ? args->threads : rules ? rule_set_scan(rules)->threads : 0;
	if (!opts.nthreads && params->hash == HASH_NONE) {
		/*
		 * Metadata only: a walker does little per entry and this thread,
		 * the one SQLite writer, is the limit; a walker per CPU only takes
		 * CPU time from it (/usr: 0.93 s with one walker on two CPUs,
		 * 1.07 s with two, in bench/run). Leave the writer a CPU.
		 */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		opts.nthreads = cpus > 2 ? (unsigned)(cpus - 1) : 1;
	}
	opts.hash = params->hash;
	/* One libmagic handle per worker, loaded up front, only when a rule wants the type. */
	opts.may_mime = rules && (rule_set_attrs(rules) & ATTR_MIME);
	nslots = scan_threads_max(opts.nthreads);
	if (reuse_base && reuse_base->hash == params->hash && params->hash != HASH_NONE) {
		ctx.slots = calloc(nslots, sizeof(*ctx.slots));
		if (!ctx.slots) {
			snap_writer_abort(ctx.writer);
			ctx.writer = NULL;
			cli_error("out of memory");
			code = DRIFT_EXIT_INTERNAL;
			goto out;
		}
		ctx.reuse_base = reuse_base;
		ctx.db_path = snap_store_path(st);
		if (args->sample) {
			/* The slot turns with each check (snapshot ids only grow). */
			ctx.sample_mod = (100 + args->sample / 2) / args->sample;
			ctx.sample_slot = (uint64_t)snap_writer_id(ctx.writer) % ctx.sample_mod;
		}
		opts.reuse = scan_reuse;
		opts.reuse_data = &ctx;
	}
	opts.cross_mounts = params->cross_mounts;
	opts.max_path = rules ? rule_set_scan(rules)->max_path : 0;
	ctx.max_path = opts.max_path ? opts.max_path : SCAN_MAX_PATH_DEFAULT;
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

	if (params->nprobes) {
		code = cli_probes_run(st, ctx.writer, params, rules, args);
		if (code) {
			snap_writer_abort(ctx.writer);
			ctx.writer = NULL;
			goto out;
		}
	}

	if (finished) {
		/*
		 * Finished, not yet committed: @finished reads the new snapshot
		 * (the check's report), so that what it printed stands even when
		 * the commit then fails (a full disk).
		 */
		struct snap_info info = { 0 };

		r = snap_writer_finish(ctx.writer, &info, &ctx.diag);
		if (r < 0) {
			ctx.writer = NULL; /* freed */
			cli_error("%s", ctx.diag.msg);
			code = r == -EEXIST ? DRIFT_EXIT_USAGE
					    : exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
		code = finished(st, &info, userdata);
		if (code == DRIFT_EXIT_INTERRUPTED || cli_interrupted()) {
			/* Stopped while reporting: nothing is stored, as for any interruption. */
			snap_info_release(&info);
			cli_error(
				"interrupted: the new snapshot is left incomplete, nothing else was changed");
			code = DRIFT_EXIT_INTERRUPTED;
			goto out;
		}
		r = snap_writer_commit(ctx.writer, NULL, &ctx.diag);
		ctx.writer = NULL;
		if (r < 0) {
			snap_info_release(&info);
			cli_error("%s", ctx.diag.msg);
			cli_error("this run was not stored%s",
				  code < DRIFT_EXIT_USAGE ? " (its report follows)" : "");
			code = exit_code_for_error(CLI_STAGE_STORE, r);
			goto out;
		}
		if (ret_info)
			*ret_info = info;
		else
			snap_info_release(&info);
		if (ret_stats)
			*ret_stats = stats;
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
	free(ctx.db_real);
	if (ctx.slots) {
		for (unsigned i = 0; i < nslots; i++)
			snap_lookup_free(ctx.slots[i].lk);
		free(ctx.slots);
	}
	return code;
}

/* ---- comparing into a report ---- */

struct compare_ctx {
	struct report *rep;
	const struct cli_args *args; /* --root, for reading the live files */
	const struct rule_set *rules;
	struct cli_attrib *attrib; /* NULL: no package attribution */
	int attrib_err;
	bool dpkg_run; /* the two snapshots bracket one dpkg run (the apt hook's pair) */
	bool live;     /* the new side is the live host: libmagic may read its files */
	bool count_expected;
	int report_err; /* report_add() failed (a temporary file could not be written) */
};

/*
 * libmagic's type of the new content, for a rule with magic: true: from the
 * snapshot when the scan collected it, else (a live check) from the file.
 */
static char *deviation_mime(const struct compare_ctx *ctx, const struct rule *rule,
			    const struct deviation *d)
{
	struct diag dg = { 0 };
	char *mime = NULL, *path;

	if (!rule || !rule_magic(rule) || !d->new || !S_ISREG(d->new->mode) ||
	    d->change == SNAP_REMOVED)
		return NULL;
	if ((d->new->collected &ATTR_MIME) && d->new->mime)
		return strdup(d->new->mime);
	if (!ctx->live)
		return NULL;
	path = strndup(d->new->key, d->new->key_len);
	if (path && scan_mime_file(ctx->args->root_fd, path, &mime, &dg) < 0)
		mime = NULL; /* vanished or unreadable since the scan: no escalation from content */
	free(path);
	return mime;
}

static int compare_visit(const struct deviation *d, void *userdata)
{
	struct compare_ctx *ctx = userdata;
	struct rule_verdict v;
	struct report_verdict rv = { 0 };
	struct report_owner ro = { 0 };
	struct cli_attrib_note note;
	enum rule_change change;
	const struct entry *e = d->new ? d->new : d->old;
	const struct rule *rule;
	char *mime;
	int r;

	if (cli_interrupted())
		return -ECANCELED;
	if (!ctx->rules) {
		r = report_add(ctx->rep, d);
		goto out;
	}
	change = d->change == SNAP_ADDED     ? RULE_ADDED
		 : d->change == SNAP_REMOVED ? RULE_REMOVED
					     : RULE_MODIFIED;
	rule = rule_set_match_kind(ctx->rules, e->kind, e->key, e->key_len);
	mime = e->kind == ENTRY_FILE ? deviation_mime(ctx, rule, d) : NULL;
	if (!rule_set_classify(ctx->rules, change, d->old, d->new, d->attrs, mime, &v)) {
		free(mime);
		return 0; /* does not matter under the policy */
	}
	free(mime);
	if (ctx->attrib) {
		r = cli_attrib_apply(ctx->attrib, d, &v, &ro, &note);
		if (r < 0) {
			ctx->attrib_err = r;
			return r;
		}
	}
	if (ctx->dpkg_run && e->kind == ENTRY_PACKAGE) {
		/* Between the hook's pre and post snapshots, only dpkg changes packages. */
		v.class = RULE_EXPECTED;
		snprintf(v.reason, sizeof(v.reason), "%s by the dpkg run",
			 change == RULE_ADDED     ? "installed"
			 : change == RULE_REMOVED ? "removed"
						  : "changed");
	}
	cli_verdict_report(&rv, &v, ctx->count_expected);
	if (ro.package || ro.unowned)
		r = report_add_attributed(ctx->rep, d, &rv, &ro);
	else
		r = report_add_verdict(ctx->rep, d, &rv);
out:
	if (r < 0)
		ctx->report_err = r;
	return r;
}

static bool listed(char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return true;
	return false;
}

/*
 * The entries of the probes: kind by kind, for the probes that ran in both
 * snapshots. A probe on one side only, or unavailable on one, is a note:
 * its kinds are not compared (everything would look added or removed).
 */
static int compare_probes(struct snap_store *st, const struct snap_info *old,
			  const struct snap_info *new, unsigned flags, struct compare_ctx *ctx,
			  struct diag *d)
{
	char note[256];
	int r = 0;

	for (size_t i = 0; i < probe_count && r >= 0; i++) {
		const struct probe *p = probe_list[i];
		bool in_old = listed(old->probes, old->nprobes, p->name);
		bool in_new = listed(new->probes, new->nprobes, p->name);
		bool un_old = listed(old->probes_unavailable, old->nprobes_unavailable, p->name);
		bool un_new = listed(new->probes_unavailable, new->nprobes_unavailable, p->name);

		if (!in_old || !in_new) {
			/*
			 * A snapshot of files only (paths named) takes no state, and a
			 * source missing on both sides (no /proc/modules) is nothing new:
			 * nothing to say.
			 */
			if ((!new->nprobes && !new->nprobes_unavailable) || (!in_old && !in_new))
				continue;
			if (un_old || un_new)
				snprintf(
					note, sizeof(note),
					"probe %s was unavailable in the %s snapshot: not compared",
					p->name, un_new ? "new" : "old");
			else if (in_old || in_new)
				snprintf(note, sizeof(note),
					 "probe %s ran only in the %s snapshot: not compared",
					 p->name, in_new ? "new" : "old");
			else
				continue;
			if (report_add_note(ctx->rep, note) < 0)
				return -ENOMEM;
			continue;
		}
		for (const enum entry_kind *k = p->kinds; *k && r >= 0; k++) {
			struct snap_iter *a = NULL, *b = NULL;

			r = snap_iter_new(st, old->id, *k, NULL, 0, 0, &a, d);
			if (r >= 0)
				r = snap_iter_new(st, new->id, *k, NULL, 0, 0, &b, d);
			if (r >= 0)
				r = snap_compare(a, b, flags, compare_visit, ctx, d);
			snap_iter_free(a);
			snap_iter_free(b);
		}
	}
	return r;
}

void cli_verdict_report(struct report_verdict *rv, const struct rule_verdict *v,
			bool count_expected)
{
	rv->class_name = rule_class_name(v->class);
	rv->counts = v->class != RULE_EXPECTED || count_expected;
	rv->severity_name = rule_severity_name(v->severity);
	rv->severity_rank = (unsigned)v->severity;
	rv->rule_id = v->rule ? rule_id(v->rule) : NULL;
	rv->rule_title = v->rule ? rule_title(v->rule) : NULL;
	rv->rule_file = v->rule ? rule_file(v->rule) : NULL;
	rv->rule_line = v->rule ? rule_line(v->rule) : 0;
	rv->reason = v->reason;
	rv->attrs = v->attrs;
}

int cli_report_finish(struct report *rep)
{
	struct report_counts counts;
	struct diag d = { 0 };
	int r = report_finish(rep, &d);

	if (r < 0) {
		cli_error("%s", d.msg);
		return exit_code_for_error(CLI_STAGE_OUTPUT, r);
	}
	report_get_counts(rep, &counts);
	return exit_code_for_counts(&counts);
}

int cli_output_finish(struct cli_output *out, int code)
{
	int r = cli_output_close(out, code < DRIFT_EXIT_USAGE);

	return r && code < DRIFT_EXIT_USAGE ? r : code;
}

int cli_compare_report(struct snap_store *st, const char *command, const struct snap_info *old,
		       const struct snap_info *new, const char *const *roots, size_t nroots,
		       const struct rule_set *rules, bool live, const struct cli_args *args)
{
	struct cli_output out;
	int code = cli_output_open(&out, args);

	if (code)
		return code;
	code = cli_compare_report_to(&out, st, command, old, new, roots, nroots, rules, live,
				     args);
	return cli_output_finish(&out, code);
}

int cli_compare_report_to(struct cli_output *outp, struct snap_store *st, const char *command,
			  const struct snap_info *old, const struct snap_info *new,
			  const char *const *roots, size_t nroots, const struct rule_set *rules,
			  bool live, const struct cli_args *args)
{
	struct snap_iter *it_old = NULL, *it_new = NULL;
	struct cli_output out = *outp;
	struct report *rep = NULL;
	struct report_meta meta = { 0 };
	struct compare_ctx ctx = { 0 };
	struct diag d = { 0 };
	const struct entry *e;
	unsigned flags = args->all_changes ? SNAP_COMPARE_ALL : 0;
	int r, code;

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
	ctx.args = args;
	ctx.rules = rules;
	ctx.live = live;
	ctx.count_expected = args->count_expected;
	ctx.report_err = 0;
	ctx.attrib = NULL;
	ctx.attrib_err = 0;
	ctx.dpkg_run = old->purpose == SNAP_PURPOSE_UPGRADE &&
		       new->purpose == SNAP_PURPOSE_UPGRADE &&
		       old->label &&new->label &&strstr(old->label, "-pre") &&
		       strstr(new->label, "-post") && old->id < new->id;
	r = cli_attrib_open(st, old, new, rules, args, &ctx.attrib, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (cli_attrib_old_missing(ctx.attrib) &&
	    report_add_note(rep, "the old snapshot has no package data: file changes are not "
				 "attributed to package upgrades") < 0) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	r = snap_compare(it_old, it_new, flags, compare_visit, &ctx, &d);
	if (r >= 0)
		r = compare_probes(st, old, new, flags, &ctx, &d);
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
		else if (ctx.attrib_err)
			cli_error("cannot attribute changes to packages: %s", strerror(-r));
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

	code = cli_report_finish(rep);
out:
	cli_attrib_free(ctx.attrib);
	snap_iter_free(it_old);
	snap_iter_free(it_new);
	report_free(rep);
	return code;
}
