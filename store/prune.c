/*
 * Deleting snapshots, pruning history, and giving the space back.
 *
 * Every deletion runs in one write transaction (BEGIN IMMEDIATE): the
 * snapshots, their runs and package links go together, then the package
 * versions no snapshot links to (and, once the lead wires it, the kept
 * content no snapshot references). Counts come from the database itself
 * (count(*) before and after), so a dry run is the same transaction rolled
 * back: what it reports is exactly what a real run would delete.
 *
 * Space: SQLite keeps freed pages in the file. A database created by this
 * drift has auto_vacuum INCREMENTAL (schema.c), so after the commit
 * PRAGMA incremental_vacuum moves the free pages to the end and truncates
 * them; the -wal is then checkpointed (TRUNCATE), so the size reported is
 * the file's. An older database (auto_vacuum NONE) reuses its free pages
 * but never shrinks until snap_store_vacuum() runs a full VACUUM once,
 * which also switches it to INCREMENTAL.
 *
 * Pairs of upgrade snapshots are found as 'drift diff --last-upgrade'
 * finds them: a "-post" label pairs with the complete "-pre" right before
 * it among the upgrade snapshots (the hook's two labels carry different
 * times, so they share no stem).
 */
#include "store/internal.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

int snap_snapshot_delete(struct snap_store *st, int64_t id, struct diag *reterr)
{
	static const char *const sql[] = {
		"DELETE FROM block WHERE snap = :a",
		"DELETE FROM snap_pkg WHERE snap = :a",
		"DELETE FROM content_ref WHERE snap = :a",
		"DELETE FROM snapshot WHERE id = :a",
		"DELETE FROM meta WHERE key = '" SNAP_META_BASELINE "' AND value = :a",
	};
	int r;

	/* Its delta children first: they read through it. */
	r = snap_rebase_children(st, id, reterr);
	if (r >= 0)
		r = snap_runs_delete_snapshot(st, id, reterr);
	for (size_t i = 0; r >= 0 && i < sizeof(sql) / sizeof(sql[0]); i++)
		r = snap_query_int(st, sql[i], id, 0, NULL, NULL, reterr);
	return r < 0 ? r : 0;
}

/* ---- sizes ---- */

struct db_size {
	int64_t pages, page_size, free_pages, auto_vacuum;
};

static int db_size_read(struct snap_store *st, struct db_size *ret, struct diag *reterr)
{
	static const char sql[] = "SELECT (SELECT page_count FROM pragma_page_count),"
				  " (SELECT page_size FROM pragma_page_size),"
				  " (SELECT freelist_count FROM pragma_freelist_count),"
				  " (SELECT auto_vacuum FROM pragma_auto_vacuum)";
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret->pages = sqlite3_column_int64(s, 0);
		ret->page_size = sqlite3_column_int64(s, 1);
		ret->free_pages = sqlite3_column_int64(s, 2);
		ret->auto_vacuum = sqlite3_column_int64(s, 3);
	} else {
		r = snap_sqlite_fail(st, rc, "read the database size", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

static void stats_size(struct snap_prune_stats *stats, const struct db_size *sz, bool after)
{
	uint64_t bytes = (uint64_t)sz->pages * (uint64_t)sz->page_size;

	if (!after && stats->bytes_before == 0)
		stats->bytes_before = bytes;
	if (after) {
		stats->bytes_after = bytes;
		stats->bytes_free = (uint64_t)sz->free_pages * (uint64_t)sz->page_size;
	}
	stats->auto_vacuum = sz->auto_vacuum == 2; /* INCREMENTAL */
}

/*
 * After a committed deletion: give the free pages back (INCREMENTAL only),
 * checkpoint the -wal into the file and truncate it, and measure. Best
 * effort: the deletion is committed, so a busy reader that stops the
 * checkpoint, or a vacuum that fails, only leaves the file larger (the
 * free pages are reused by the next writes); the size measured says so.
 */
static void shrink(struct snap_store *st, struct snap_prune_stats *stats)
{
	struct db_size sz;

	if (db_size_read(st, &sz, NULL) == 0 && sz.auto_vacuum == 2 && sz.free_pages > 0)
		sqlite3_exec(st->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
	sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
	if (db_size_read(st, &sz, NULL) == 0)
		stats_size(stats, &sz, true);
}

/* ---- one transaction ---- */

static int begin(struct snap_store *st, const char *what, struct diag *reterr)
{
	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is being written to '%s'", st->path);
	return snap_exec(st, "BEGIN IMMEDIATE", what, reterr);
}

static void rollback(struct snap_store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The counts that are read before and after: runs, package versions. */
struct counts {
	int64_t runs, packages;
};

static int counts_read(struct snap_store *st, struct counts *ret, struct diag *reterr)
{
	int r = 0;

	ret->runs = 0;
	if (st->schema >= 4)
		r = snap_query_int(st, "SELECT count(*) FROM run", 0, 0, NULL, &ret->runs, reterr);
	if (r >= 0)
		r = snap_query_int(st, "SELECT count(*) FROM pkgver", 0, 0, NULL, &ret->packages,
				   reterr);
	return r < 0 ? r : 0;
}

static void counts_add(struct snap_prune_stats *stats, const struct counts *before,
		       const struct counts *after)
{
	stats->runs += (uint64_t)(before->runs - after->runs);
	stats->packages += (uint64_t)(before->packages - after->packages);
}

/*
 * What follows every deletion in the transaction: runs whose snapshots are
 * gone, package versions no snapshot has, and kept content no snapshot
 * references.
 */
static int collect(struct snap_store *st, struct diag *reterr)
{
	int r = snap_runs_delete_orphans(st, reterr);

	if (r >= 0)
		r = snap_pkg_collect(st, reterr);
	if (r >= 0)
		r = snap_content_collect(st, NULL, reterr);
	return r < 0 ? r : 0;
}

/* Count the deleted snapshot @purpose / @complete into @stats. */
static void count_snapshot(struct snap_prune_stats *stats, int64_t purpose, bool complete)
{
	if (!complete)
		stats->incomplete++;
	else if (purpose == SNAP_PURPOSE_CHECK)
		stats->checks++;
	else if (purpose == SNAP_PURPOSE_UPGRADE)
		stats->upgrades++;
	else if (purpose == SNAP_PURPOSE_BASELINE)
		stats->baselines++;
	else
		stats->scans++;
}

int snap_delete(struct snap_store *st, int64_t id, unsigned flags, struct snap_prune_stats *stats,
		struct diag *reterr)
{
	struct snap_prune_stats local = { 0 };
	struct counts before, after;
	struct db_size sz;
	sqlite3_stmt *s = NULL;
	int64_t purpose = 0, baseline = 0;
	bool complete = false;
	int rc, r;

	if (!stats)
		stats = &local;
	r = begin(st, "delete a snapshot", reterr);
	if (r < 0)
		return r;
	r = snap_prepare(st,
			 "SELECT purpose, status = 'complete', id = (SELECT value FROM meta"
			 " WHERE key = '" SNAP_META_BASELINE "') FROM snapshot WHERE id = :a",
			 &s, reterr);
	if (r < 0)
		goto fail;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		purpose = sqlite3_column_int64(s, 0);
		complete = sqlite3_column_int(s, 1) != 0;
		baseline = sqlite3_column_int(s, 2);
	} else if (rc == SQLITE_DONE) {
		r = diag_set(reterr, -ENOENT, "no snapshot '%lld'", (long long)id);
	} else {
		r = snap_sqlite_fail(st, rc, "delete a snapshot", reterr);
	}
	sqlite3_finalize(s);
	if (r < 0)
		goto fail;
	if ((baseline || (complete && purpose == SNAP_PURPOSE_BASELINE)) &&
	    !(flags & SNAP_DELETE_BASELINE)) {
		r = diag_set(reterr, -EPERM, "snapshot #%lld is %s baseline; it is not deleted",
			     (long long)id, baseline ? "the" : "an old");
		goto fail;
	}

	r = db_size_read(st, &sz, reterr);
	if (r < 0)
		goto fail;
	r = counts_read(st, &before, reterr);
	if (r >= 0)
		r = snap_snapshot_delete(st, id, reterr);
	if (r >= 0)
		r = collect(st, reterr);
	if (r >= 0)
		r = counts_read(st, &after, reterr);
	if (r >= 0)
		r = snap_commit(st, "delete a snapshot", reterr);
	if (r < 0)
		goto fail;

	stats_size(stats, &sz, false);
	count_snapshot(stats, baseline ? SNAP_PURPOSE_BASELINE : purpose, complete);
	counts_add(stats, &before, &after);
	stats->baseline_cleared = stats->baseline_cleared || baseline;
	shrink(st, stats);
	return 0;

fail:
	rollback(st);
	return r;
}

/* ---- pruning ---- */

struct victim {
	int64_t id, purpose;
	bool complete;
};

struct victims {
	struct victim *v;
	size_t n, alloc;
};

static int victims_add(struct victims *vs, int64_t id, int64_t purpose, bool complete)
{
	if (vs->n == vs->alloc) {
		size_t alloc = vs->alloc ? vs->alloc * 2 : 32;
		struct victim *v = realloc(vs->v, alloc * sizeof(*v));

		if (!v)
			return -ENOMEM;
		vs->v = v;
		vs->alloc = alloc;
	}
	vs->v[vs->n++] = (struct victim){ id, purpose, complete };
	return 0;
}

/* Never the current baseline, whatever its purpose says. */
#define NOT_BASELINE " id IS NOT (SELECT value FROM meta WHERE key = '" SNAP_META_BASELINE "')"

/* Incomplete snapshots whose writer is gone, and checks beyond the newest @keep. */
static int select_simple(struct snap_store *st, const struct snap_prune_opts *opts,
			 struct victims *vs, struct diag *reterr)
{
	_Static_assert(SNAP_PURPOSE_CHECK == 2, "the statement below names it");
	static const char sql[] =
		"SELECT id, purpose, status = 'complete' FROM snapshot WHERE" NOT_BASELINE
		" AND ((status = 'incomplete' AND started < ?1)"
		" OR (?2 > 0 AND purpose = 2 AND status = 'complete' AND id NOT IN"
		" (SELECT id FROM snapshot WHERE purpose = 2 AND status = 'complete'"
		" ORDER BY id DESC LIMIT ?2)))"
		" ORDER BY id";
	struct timespec ts;
	sqlite3_stmt *s = NULL;
	int rc, r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec - SNAP_ABANDONED_NS);
	sqlite3_bind_int64(s, 2, opts->keep_checks);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (victims_add(vs, sqlite3_column_int64(s, 0), sqlite3_column_int64(s, 1),
				sqlite3_column_int(s, 2) != 0) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			break;
		}
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "find snapshots to prune", reterr);
	sqlite3_finalize(s);
	return r;
}

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

/*
 * Complete upgrade snapshots beyond the newest @keep, pairs whole: read
 * oldest first, each gets a group number, a "-post" sharing the group of
 * the "-pre" right before it (anything else in between breaks the pair).
 * Then, newest group first, groups are kept while fewer than @keep
 * snapshots are.
 */
static int select_upgrades(struct snap_store *st, unsigned keep, struct victims *vs,
			   uint64_t *ret_pairs, struct diag *reterr)
{
	_Static_assert(SNAP_PURPOSE_UPGRADE == 3, "the statement below names it");
	static const char sql[] = "SELECT id, status = 'complete', label FROM snapshot"
				  " WHERE purpose = 3 AND" NOT_BASELINE " ORDER BY id";
	struct up {
		int64_t id;
		size_t group;
	} *ups = NULL;
	size_t n = 0, alloc = 0, group = 0, kept = 0;
	uint64_t pairs = 0;
	bool open_pre = false;
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (keep == 0)
		return 0;
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *label = (const char *)sqlite3_column_text(s, 2);
		bool complete = sqlite3_column_int(s, 1) != 0;

		if (!complete) {
			/* Incomplete ones are the abandoned rule's; they break a pair. */
			open_pre = false;
			continue;
		}
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 32;
			struct up *p = realloc(ups, na * sizeof(*p));

			if (!p) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				goto out;
			}
			ups = p;
			alloc = na;
		}
		/* A "-post" right after a "-pre" joins its group. */
		if (!(label && has_suffix(label, "-post") && open_pre))
			group++;
		open_pre = label && has_suffix(label, "-pre");
		ups[n].id = sqlite3_column_int64(s, 0);
		ups[n].group = group;
		n++;
	}
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "find snapshots to prune", reterr);
		goto out;
	}

	/* Newest first: a group is kept whole when it starts below the limit. */
	for (size_t i = n; i-- > 0;) {
		size_t j = i;

		while (j > 0 && ups[j - 1].group == ups[i].group)
			j--;
		if (kept < keep) {
			kept += i - j + 1;
		} else {
			pairs += i > j;
			for (size_t k = j; k <= i; k++) {
				if (victims_add(vs, ups[k].id, SNAP_PURPOSE_UPGRADE, true) < 0) {
					r = diag_set(reterr, -ENOMEM, "out of memory");
					goto out;
				}
			}
		}
		i = j;
		if (i == 0)
			break;
	}
	*ret_pairs = pairs;
out:
	sqlite3_finalize(s);
	free(ups);
	return r;
}

/* Verify runs belong to no snapshot: beyond the newest @keep they go. */
static int prune_verify_runs(struct snap_store *st, unsigned keep, struct diag *reterr)
{
#define VERIFY_OLD                                                                         \
	"SELECT id FROM run WHERE before IS NULL AND after IS NULL AND command = 'verify'" \
	" AND id NOT IN (SELECT id FROM run WHERE command = 'verify' AND complete"         \
	" ORDER BY id DESC LIMIT :a)"
	static const char *const sql[] = {
		"DELETE FROM finding WHERE run IN (" VERIFY_OLD ")",
		"DELETE FROM run_rule WHERE run IN (" VERIFY_OLD ")",
		"DELETE FROM run_blind WHERE run IN (" VERIFY_OLD ")",
		"DELETE FROM run WHERE id IN (" VERIFY_OLD ")",
	};
#undef VERIFY_OLD
	int r = 0;

	if (keep == 0 || st->schema < 4)
		return 0;
	for (size_t i = 0; r >= 0 && i < sizeof(sql) / sizeof(sql[0]); i++)
		r = snap_query_int(st, sql[i], keep, 0, NULL, NULL, reterr);
	return r < 0 ? r : 0;
}

int snap_prune(struct snap_store *st, const struct snap_prune_opts *opts,
	       struct snap_prune_stats *ret, struct diag *reterr)
{
	struct snap_prune_stats stats = { 0 };
	struct victims vs = { 0 };
	struct counts before, after;
	struct db_size sz, sz_after;
	int r;

	r = begin(st, "prune snapshots", reterr);
	if (r < 0)
		return r;
	r = db_size_read(st, &sz, reterr);
	if (r >= 0)
		r = counts_read(st, &before, reterr);
	if (r >= 0)
		r = select_simple(st, opts, &vs, reterr);
	if (r >= 0)
		r = select_upgrades(st, opts->keep_upgrades, &vs, &stats.upgrade_pairs, reterr);
	for (size_t i = 0; r >= 0 && i < vs.n; i++) {
		r = snap_snapshot_delete(st, vs.v[i].id, reterr);
		count_snapshot(&stats, vs.v[i].purpose, vs.v[i].complete);
	}
	if (r >= 0)
		r = prune_verify_runs(st, opts->keep_verify, reterr);
	if (r >= 0)
		r = collect(st, reterr);
	if (r >= 0)
		r = counts_read(st, &after, reterr);
	/* Inside the transaction the freed pages are on the freelist: the estimate. */
	if (r >= 0)
		r = db_size_read(st, &sz_after, reterr);
	if (r < 0)
		goto fail;
	counts_add(&stats, &before, &after);
	stats_size(&stats, &sz, false);

	if (opts->dry_run) {
		rollback(st);
		/* What shrink() would leave: every free page goes (INCREMENTAL). */
		stats.bytes_after = stats.bytes_before;
		if (sz_after.auto_vacuum == 2)
			stats.bytes_after =
				(uint64_t)(sz.pages - sz_after.free_pages) * (uint64_t)sz.page_size;
		stats.bytes_free = stats.auto_vacuum
					   ? 0
					   : (uint64_t)sz_after.free_pages * (uint64_t)sz.page_size;
	} else {
		r = snap_commit(st, "prune snapshots", reterr);
		if (r < 0)
			goto fail;
		shrink(st, &stats);
	}
	free(vs.v);
	*ret = stats;
	return 0;

fail:
	rollback(st);
	free(vs.v);
	return r;
}

/* ---- vacuum ---- */

/* The directory of @path, for statvfs(). */
static int dir_of(const char *path, struct strbuf *ret)
{
	const char *slash = strrchr(path, '/');

	strbuf_reset(ret);
	if (!slash)
		return strbuf_adds(ret, ".");
	if (slash == path)
		return strbuf_adds(ret, "/");
	return strbuf_add(ret, path, (size_t)(slash - path));
}

int snap_store_vacuum(struct snap_store *st, struct snap_prune_stats *stats, struct diag *reterr)
{
	struct snap_prune_stats local = { 0 };
	struct strbuf dir = STRBUF_INIT;
	struct statvfs vfs;
	struct db_size sz;
	uint64_t need, avail;
	int r;

	if (!stats)
		stats = &local;
	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is being written to '%s'", st->path);
	r = db_size_read(st, &sz, reterr);
	if (r < 0)
		return r;
	stats_size(stats, &sz, false);
	if (sz.auto_vacuum != 0) {
		shrink(st, stats);
		return 0;
	}

	/*
	 * VACUUM writes a new copy of the whole database (the used pages) into
	 * the -wal beside it before the checkpoint copies it back: that much
	 * free space, on the database's file system. (SQLite's temporary copy
	 * goes to its temp directory, or memory; not checked here.)
	 */
	need = (uint64_t)(sz.pages - sz.free_pages) * (uint64_t)sz.page_size;
	if (dir_of(st->path, &dir) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (statvfs(dir.buf, &vfs) == 0) {
		avail = (uint64_t)vfs.f_bavail * (uint64_t)vfs.f_frsize;
		if (avail < need) {
			r = diag_set(reterr, -ENOSPC,
				     "cannot vacuum '%s': it needs up to %llu bytes free on its "
				     "file system, which has %llu",
				     st->path, (unsigned long long)need, (unsigned long long)avail);
			goto out;
		}
	}
	/* The pragma first: VACUUM then rebuilds the file with it. */
	r = snap_exec(st, "PRAGMA auto_vacuum = INCREMENTAL", "vacuum the database", reterr);
	if (r >= 0)
		r = snap_exec(st, "VACUUM", "vacuum the database", reterr);
	if (r < 0)
		goto out;
	stats->vacuumed = true;
	shrink(st, stats);
	r = 1;
out:
	strbuf_release(&dir);
	return r;
}
