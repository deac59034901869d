/*
 * Running the walker into a snapshot writer: what init, check and scan
 * share. The database is opened here (after the StrictModes check), the
 * walk decides per path from the policy what to collect, a progress line
 * shows on a TTY, and an interruption (cli/signals.c) rolls the writer
 * back.
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
#include <xxhash.h>

#include "common/banned.h"

/* ---- the database ---- */

/* The sealing key of @path, else $DRIFT_SEAL_KEY, else none (*ret NULL). */
static int seal_key_load(const char *path, struct snap_seal_key **ret)
{
	struct diag d = { 0 };
	int r;

	*ret = NULL;
	if (!path || !*path)
		path = getenv("DRIFT_SEAL_KEY");
	if (!path || !*path)
		return 0;
	r = snap_seal_key_load(path, ret, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		return r == -ENOMEM ? DRIFT_EXIT_INTERNAL : DRIFT_EXIT_USAGE;
	}
	return 0;
}

int cli_store_open(struct cli_args *args, enum snap_open_flags flags, struct snap_store **ret_st)
{
	struct snap_seal_key *key = NULL;
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
	/* The key first: a key that cannot be used leaves the database untouched. */
	if (flags & SNAP_OPEN_WRITE) {
		code = seal_key_load(args->seal_key, &key);
		if (code)
			return code;
	}
	r = snap_store_open(db, flags, ret_st, &d);
	if (r < 0) {
		snap_seal_key_free(key);
		cli_error("%s", d.msg);
		if (r == -ENOENT && !(flags & SNAP_OPEN_WRITE))
			return DRIFT_EXIT_NO_BASELINE;
		return exit_code_for_error(CLI_STAGE_STORE, r);
	}
	snap_store_set_seal_key(*ret_st, key);
	return 0;
}

int cli_store_seal_key(struct snap_store *st, const char *path)
{
	struct snap_seal_key *key = NULL;
	int code = seal_key_load(path, &key);

	if (!code)
		snap_store_set_seal_key(st, key);
	return code;
}

int cli_store_open_for_runs(struct cli_args *args, bool must_exist, struct snap_store **ret_st)
{
	const char *db = cli_db_path(args);

	*ret_st = NULL;
	if (!db) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (access(db, F_OK) < 0 && !must_exist)
		return 0; /* no database: nothing to keep the run in, and none is made for it */
	/* Writable: the run is stored; else the report is all there is. */
	return cli_store_open(args, access(db, W_OK) == 0 ? SNAP_OPEN_WRITE : SNAP_OPEN_READ,
			      ret_st);
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
	/* Not read, so not kept: the baseline's kept bytes are the same ones. */
	ret_entry->has_content = b->has_content;
	memcpy(ret_entry->content_id, b->content_id, sizeof(ret_entry->content_id));
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
 * (as roots are), its name kept. Returns 0 with *ret NULL when it cannot be
 * resolved, or -ENOMEM.
 */
static int resolve_db_path(const char *db, char **ret)
{
	char *copy = strdup(db), *slash, *dir = NULL;
	const char *base;
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	*ret = NULL;
	if (!copy)
		return -ENOMEM;
	slash = strrchr(copy, '/');
	if (slash) {
		*slash = '\0';
		base = slash + 1;
		dir = realpath(slash == copy ? "/" : copy, NULL);
	} else {
		base = copy;
		dir = realpath(".", NULL);
	}
	if (!dir)
		r = errno == ENOMEM ? -ENOMEM : 0;
	else if (strbuf_addf(&sb, "%s/%s", strcmp(dir, "/") ? dir : "", base) < 0)
		r = -ENOMEM;
	else
		*ret = strbuf_detach(&sb, NULL);
	strbuf_release(&sb);
	free(dir);
	free(copy);
	return r;
}

/*
 * The database's path as a key of the walk: resolved, then under --root
 * made a key by taking the root off. Returns 0 with *ret NULL when it cannot
 * be resolved or is not under the root (the walk cannot meet it then), or
 * -ENOMEM: never NULL for want of memory, or the walk would record the
 * database as a file of the host.
 */
static int db_key(const struct cli_args *args, const char *db, char **ret)
{
	const char *root = cli_root(args);
	size_t rlen = strlen(root);
	char *real, *key;
	int r = resolve_db_path(db, &real);

	*ret = NULL;
	if (r < 0)
		return r;
	if (!real || !rlen) {
		*ret = real;
		return 0;
	}
	if (strncmp(real, root, rlen) || real[rlen] != '/') {
		free(real);
		return 0;
	}
	key = strdup(real + rlen);
	free(real);
	if (!key)
		return -ENOMEM;
	*ret = key;
	return 0;
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
	if (rule) {
		unsigned c = collect_for_attrs(rule_attrs(rule), ctx->collect);

		/* Content is kept from the read that hashes it: no hash, no content. */
		if ((c & SCAN_HASH) &&
		    rule_set_content(ctx->rules, path, len, NULL) == RULE_CONTENT_KEEP)
			c |= SCAN_KEEP;
		return c;
	}
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

const char *cli_plural(uint64_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
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
	printf("drift %s: %s '%s' (#%lld): %llu %s, %s hashed", command, what,
	       info->label ? cli_path(info->label, strlen(info->label), 0) : "-",
	       (long long)info->id, (unsigned long long)info->entries,
	       cli_plural(info->entries, "entry", "entries"), bytes);
	if (stats->files_reused)
		printf(" (%llu %s reused)", (unsigned long long)stats->files_reused,
		       cli_plural(stats->files_reused, "file's hash", "files' hashes"));
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
		fprintf(stderr, "\rdrift: scanning: %llu %s, %s hashed, %.0f entries/s\033[K",
			(unsigned long long)stats->entries,
			cli_plural(stats->entries, "entry", "entries"), bytes,
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
	if (e->content || e->has_content) {
		/* Kept content: stored apart, referenced from the entry. */
		struct entry k = *e;

		if (e->content)
			r = snap_writer_add_content(ctx->writer, e->content, e->content_len,
						    k.content_id, &ctx->diag);
		else
			r = snap_writer_ref_content(ctx->writer, e->content_id, &ctx->diag);
		if (r == -ENOENT) {
			k.has_content = false; /* a reused reference to content that is gone */
		} else if (r < 0) {
			ctx->err = r;
			return SCAN_STOP;
		} else {
			k.has_content = true;
		}
		k.content = NULL;
		k.content_len = 0;
		r = snap_writer_add(ctx->writer, &k, &ctx->diag);
	} else {
		r = snap_writer_add(ctx->writer, e, &ctx->diag);
	}
	if (r < 0) {
		ctx->err = r;
		return SCAN_STOP;
	}
	/*
	 * Test hook: after N entries, stop and wait for a signal, so that the
	 * end-to-end tests can SIGKILL or SIGINT a scan at a known point.
	 */
	if (ctx->pause_after && ++ctx->added == ctx->pause_after) {
		fprintf(stderr, "drift: test pause after %llu %s\n", (unsigned long long)ctx->added,
			cli_plural(ctx->added, "entry", "entries"));
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
	const char **walk_roots = NULL; /* borrowed from params->roots */
	size_t nwalk_roots = 0;
	int r, code = 0;

	ctx.collect = params->hash == HASH_NONE ? SCAN_STAT : SCAN_ALL;
	ctx.rules = rules;
	r = db_key(args, snap_store_path(st), &ctx.db_real);
	if (r < 0) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	ctx.db_len = ctx.db_real ? strlen(ctx.db_real) : 0;
	ctx.progress = !args->quiet && isatty(STDERR_FILENO);
	if (pause_env)
		ctx.pause_after = strtoull(pause_env, NULL, 10);
	clock_gettime(CLOCK_MONOTONIC, &ctx.start);

	if (params->nexcludes) {
		ctx.excludes = calloc(params->nexcludes, sizeof(*ctx.excludes));
		if (!ctx.excludes) {
			cli_error("out of memory");
			code = DRIFT_EXIT_INTERNAL;
			goto out;
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

	/* Recorded: every root; walked: those that exist (a missing one is not a failure). */
	walk_roots = calloc(params->nroots + 1, sizeof(*walk_roots));
	if (!walk_roots) {
		cli_error("out of memory");
		code = DRIFT_EXIT_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i < params->nroots; i++)
		if (cli_root_exists(args, params->roots[i]))
			walk_roots[nwalk_roots++] = params->roots[i];

	r = snap_writer_begin(st, params, &ctx.writer, &ctx.diag);
	if (r < 0) {
		cli_error("%s", ctx.diag.msg);
		code = r == -EEXIST || r == -EINVAL ? DRIFT_EXIT_USAGE
						    : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}

	/* Every lookup under --root starts from its fd: never from a path string. */
	opts.roots = walk_roots;
	opts.nroots = nwalk_roots;
	opts.use_rootfd = true;
	opts.rootfd = args->root_fd;
	opts.nthreads = args->threads ? args->threads : rules ? rule_set_scan(rules)->threads : 0;
	/*
	 * (Metadata only used to leave this thread, the SQLite writer of every
	 * row, a CPU of its own. It only sorts records now (store/sort.c): a
	 * walker per CPU is faster: /usr 0.79 s with two walkers on two CPUs,
	 * 1.01 s with one.)
	 */
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
		if (code < 0) {
			/* Refused (init's guard, which said why): nothing is stored. */
			snap_info_release(&info);
			code = -code;
			goto out;
		}
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
	free(walk_roots);
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
