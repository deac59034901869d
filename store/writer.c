/*
 * The writer of snapshots. Transaction 1 records the snapshot as
 * incomplete and commits at once; transaction 2 (BEGIN IMMEDIATE) holds
 * SQLite's write lock from snap_writer_begin() to snap_writer_commit(), so
 * the entries and the final "complete" mark land together or not at all.
 * A process that dies mid-scan leaves the row of transaction 1: incomplete,
 * no label, no entries. Everything the purpose implies (baseline pointer,
 * relabelling, replacement, pruning of checks and upgrades, and the
 * collection of package versions no snapshot links to any more) happens in
 * transaction 2 too, so an old snapshot is touched only when the new one
 * commits. (The package part of the writer is pkg.c.)
 *
 * One INSERT statement, prepared once per store, is bound and stepped per
 * entry with SQLITE_STATIC bindings: no allocation per row (the optional
 * attributes are encoded into a buffer the writer reuses; see ext.c).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "store/internal.h"
#include "common/banned.h"

/*
 * An incomplete snapshot started this long ago has no writer any more: a
 * writer takes the write lock right after recording itself, waiting
 * SNAP_DEFAULT_BUSY_MS at most, and whoever prunes holds that lock.
 */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "<prefix>-YYYYMMDDTHHMMSSZ" for the UTC time @ns. */
static int label_with_time(struct strbuf *sb, const char *prefix, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[32];

	if (ns < 0 && ns % 1000000000)
		t--;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm))
		snprintf(buf, sizeof(buf), "%lld", (long long)t);
	strbuf_reset(sb);
	return strbuf_addf(sb, "%s-%s", prefix, buf);
}

/* ---- small statements of the writer ---- */

/* Run @sql, binding the named parameters :a, :b (integers) and :text when
 * the statement has them, and return the first column of the first row in
 * *ret_value. Returns 1 for a row, 0 for none (*ret_value = 0), or -errno. */
int snap_query_int(struct snap_store *st, const char *sql, int64_t a, int64_t b, const char *text,
		   int64_t *ret_value, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r, i;

	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if ((i = sqlite3_bind_parameter_index(s, ":a")) > 0)
		sqlite3_bind_int64(s, i, a);
	if ((i = sqlite3_bind_parameter_index(s, ":b")) > 0)
		sqlite3_bind_int64(s, i, b);
	if ((i = sqlite3_bind_parameter_index(s, ":text")) > 0)
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (ret_value)
			*ret_value = sqlite3_column_int64(s, 0);
		r = 1;
	} else if (rc == SQLITE_DONE) {
		if (ret_value)
			*ret_value = 0;
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "update snapshots", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

/* The id of the snapshot labelled @label, or 0. */
static int label_holder(struct snap_store *st, const char *label, int64_t *ret_id,
			struct diag *reterr)
{
	return snap_query_int(st, "SELECT id FROM snapshot WHERE label = :text", 0, 0, label,
			      ret_id, reterr);
}

static int current_baseline(struct snap_store *st, int64_t *ret_id, struct diag *reterr)
{
	return snap_query_int(
		st,
		"SELECT s.id FROM snapshot s JOIN meta m ON m.key = '" SNAP_META_BASELINE
		"' AND s.id = m.value",
		0, 0, NULL, ret_id, reterr);
}

/* Find a free label: @base, else @base-2, @base-3... */
static int label_unique(struct snap_store *st, struct strbuf *label, struct diag *reterr)
{
	size_t base_len = label->len;
	int64_t holder;

	for (unsigned n = 2;; n++) {
		int r = label_holder(st, label->buf, &holder, reterr);

		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		strbuf_setlen(label, base_len);
		if (strbuf_addf(label, "-%u", n) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
	}
}

/*
 * May the writer take its label? -EEXIST when the label (or, for a baseline,
 * the baseline role) is taken and the writer may not replace it. Fills
 * *ret_holder with the id holding the label (0 if free).
 */
static int writer_check_label(struct snap_writer *w, int64_t *ret_holder, struct diag *reterr)
{
	struct snap_store *st = w->st;
	int64_t holder = 0, baseline = 0;
	int r;

	if (w->label) {
		r = label_holder(st, w->label, &holder, reterr);
		if (r < 0)
			return r;
	}
	r = current_baseline(st, &baseline, reterr);
	if (r < 0)
		return r;

	if (w->purpose == SNAP_PURPOSE_BASELINE) {
		if (!w->replace && holder)
			return diag_set(
				reterr, -EEXIST,
				"snapshot label '%s' exists (use --force to replace the baseline)",
				w->label);
		if (!w->replace && baseline)
			return diag_set(
				reterr, -EEXIST,
				"a baseline exists (snapshot %lld; use --force to replace it)",
				(long long)baseline);
	} else if (holder) {
		if (!w->replace)
			return diag_set(reterr, -EEXIST,
					"snapshot label '%s' exists (use --replace)", w->label);
		if (holder == baseline)
			return diag_set(
				reterr, -EEXIST,
				"snapshot label '%s' names the baseline, which only 'drift init' replaces",
				w->label);
	}
	*ret_holder = holder;
	return 0;
}

/* ---- writing ---- */

static const char sql_insert_snapshot[] =
	"INSERT INTO snapshot (label, purpose, status, host, version, roots, excludes,"
	" cross_mounts, hash, started, finished, entries, errors, policy_digest, policy_source)"
	" VALUES (NULL, ?1, 'incomplete', ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, 0, 0, ?9, ?10)";

static void writer_free(struct snap_writer *w)
{
	if (!w)
		return;
	if (w->st->writer == w)
		w->st->writer = NULL;
	free(w->label);
	snap_sorter_free(w->sorter);
	strbuf_release(&w->ext);
	strbuf_release(&w->probes_asked);
	strbuf_release(&w->probes_ran);
	strbuf_release(&w->probes_unavailable);
	sqlite3_finalize(w->pkg_insert);
	sqlite3_finalize(w->pkg_select);
	sqlite3_finalize(w->pkg_link);
	sqlite3_finalize(w->pkg_file);
	free(w);
}

int snap_join_list(struct strbuf *sb, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strbuf_addch(sb, '\0') < 0)
			return -ENOMEM;
		if (strbuf_adds(sb, v[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether @name is among the first @n names of @v. */
static bool names_have(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/*
 * Check the names of probes in @a and @b (non-empty, each once in both
 * lists together) and join each into @ja, @jb (reset first).
 */
static int probes_join(const char *const *a, size_t na, const char *const *b, size_t nb,
		       struct strbuf *ja, struct strbuf *jb, struct diag *reterr)
{
	if ((na && !a) || (nb && !b))
		return diag_set(reterr, -EINVAL, "missing probe names");
	for (size_t i = 0; i < na + nb; i++) {
		const char *name = i < na ? a[i] : b[i - na];

		if (!name || !*name)
			return diag_set(reterr, -EINVAL, "empty probe name");
		if ((i < na && names_have(a, i, name)) ||
		    (i >= na && (names_have(a, na, name) || names_have(b, i - na, name))))
			return diag_set(reterr, -EINVAL, "probe '%s' given twice", name);
	}
	strbuf_reset(ja);
	strbuf_reset(jb);
	if (snap_join_list(ja, a, na) < 0 || snap_join_list(jb, b, nb) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	if (ja->len > INT_MAX || jb->len > INT_MAX)
		return diag_set(reterr, -EINVAL, "too many probes");
	return 0;
}

static void bind_list(sqlite3_stmt *s, int col, const struct strbuf *sb, size_t n)
{
	if (n == 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_blob(s, col, sb->buf, (int)sb->len, SQLITE_STATIC);
}

/* Transaction 1: the incomplete snapshot row. */
static int writer_record(struct snap_writer *w, const struct snap_new *p, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct strbuf roots = STRBUF_INIT, excludes = STRBUF_INIT;
	char host[256];
	sqlite3_stmt *s = NULL;
	int64_t holder;
	int rc, r;

	if (p->host) {
		snprintf(host, sizeof(host), "%s", p->host);
	} else if (gethostname(host, sizeof(host)) < 0) {
		snprintf(host, sizeof(host), "unknown");
	}
	host[sizeof(host) - 1] = '\0';
	if (snap_join_list(&roots, p->roots, p->nroots) < 0 ||
	    snap_join_list(&excludes, p->excludes, p->nexcludes) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (roots.len > INT_MAX || excludes.len > INT_MAX) {
		r = diag_set(reterr, -EINVAL, "too many roots or excludes");
		goto out;
	}

	r = snap_exec(st, "BEGIN IMMEDIATE", "start a snapshot", reterr);
	if (r < 0)
		goto out;
	r = writer_check_label(w, &holder, reterr);
	if (r < 0)
		goto rollback;
	r = snap_prepare(st, sql_insert_snapshot, &s, reterr);
	if (r < 0)
		goto rollback;
	sqlite3_bind_int(s, 1, (int)w->purpose);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, DRIFT_VERSION, -1, SQLITE_STATIC);
	bind_list(s, 4, &roots, p->nroots);
	bind_list(s, 5, &excludes, p->nexcludes);
	sqlite3_bind_int(s, 6, p->cross_mounts ? 1 : 0);
	sqlite3_bind_int(s, 7, (int)w->hash);
	sqlite3_bind_int64(s, 8, w->started_ns);
	sqlite3_bind_text(s, 9, p->policy_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, p->policy_source, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "record a snapshot", reterr);
		goto rollback;
	}
	w->id = sqlite3_last_insert_rowid(st->db);
	r = snap_commit(st, "record a snapshot", reterr);
	if (r < 0)
		goto rollback;
	goto out;

rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(s);
	strbuf_release(&roots);
	strbuf_release(&excludes);
	return r;
}

/* A SHA-256 digest in lowercase hex. */
static bool digest_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

int snap_writer_begin(struct snap_store *st, const struct snap_new *params,
		      struct snap_writer **ret_writer, struct diag *reterr)
{
	struct snap_writer *w;
	const char *label = params->label;
	int r;

	if ((unsigned)params->purpose > SNAP_PURPOSE_UPGRADE)
		return diag_set(reterr, -EINVAL, "unknown snapshot purpose %d",
				(int)params->purpose);
	if ((unsigned)params->hash > HASH_SHA256)
		return diag_set(reterr, -EINVAL, "unknown hash algorithm %d", (int)params->hash);
	if (!label && params->purpose == SNAP_PURPOSE_BASELINE)
		label = "baseline";
	if (!label && params->purpose == SNAP_PURPOSE_SCAN)
		return diag_set(reterr, -EINVAL, "a scan snapshot needs a label");
	if (label) {
		r = snap_label_check(label, reterr);
		if (r < 0)
			return r;
	}
	if (params->policy_digest && !digest_valid(params->policy_digest))
		return diag_set(reterr, -EINVAL,
				"invalid policy digest (want 64 lowercase hex digits)");
	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is already being written to '%s'",
				st->path);

	w = calloc(1, sizeof(*w));
	if (!w)
		return diag_set(reterr, -ENOMEM, "out of memory");
	w->st = st;
	strbuf_init(&w->ext);
	strbuf_init(&w->probes_asked);
	strbuf_init(&w->probes_ran);
	strbuf_init(&w->probes_unavailable);
	w->purpose = params->purpose;
	w->replace = params->replace;
	w->keep = params->keep;
	w->hash = params->hash;
	w->started_ns = now_ns();
	if (label && !(w->label = strdup(label))) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	/* (probes_unavailable: an empty scratch list here.) */
	r = probes_join(params->probes, params->nprobes, NULL, 0, &w->probes_asked,
			&w->probes_unavailable, reterr);
	if (r < 0)
		goto fail;
	w->nprobes_asked = params->nprobes;
	w->parent_req = params->parent;
	r = snap_sorter_new(st->path, params->hash, &w->sorter, reterr);
	if (r < 0)
		goto fail;

	r = writer_record(w, params, reterr);
	if (r < 0)
		goto fail;

	/* Transaction 2: held for the whole scan. */
	r = snap_exec(st, "BEGIN IMMEDIATE", "start writing entries", reterr);
	if (r < 0)
		goto fail;
	w->in_tx = true;
	st->writer = w;
	*ret_writer = w;
	return 0;

fail:
	writer_free(w);
	return r;
}

int64_t snap_writer_id(const struct snap_writer *w)
{
	return w->id;
}

int snap_writer_set_probes(struct snap_writer *w, const char *const *ran, size_t nran,
			   const char *const *unavailable, size_t nunavailable, struct diag *reterr)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int r = probes_join(ran, nran, unavailable, nunavailable, &a, &b, reterr);

	if (r < 0) {
		strbuf_release(&a);
		strbuf_release(&b);
		return r;
	}
	strbuf_release(&w->probes_ran);
	strbuf_release(&w->probes_unavailable);
	w->probes_ran = a;
	w->probes_unavailable = b;
	w->nprobes_ran = nran;
	w->nprobes_unavailable = nunavailable;
	w->probes_set = true;
	return 0;
}

int snap_writer_add(struct snap_writer *w, const struct entry *e, struct diag *reterr)
{
	int r;

	if (e->kind < ENTRY_FILE || e->kind > ENTRY__KIND_MAX)
		return diag_set(reterr, -EINVAL, "unknown entry kind %d", (int)e->kind);
	if (e->key_len > INT_MAX || e->target_len > INT_MAX)
		return diag_set(reterr, -EINVAL, "entry key or target too long");
	if (e->hash_algo != HASH_NONE &&
	    (e->hash_algo != w->hash || e->hash_len == 0 || e->hash_len > ENTRY_HASH_MAX))
		return diag_set(
			reterr, -EINVAL,
			"entry hash (%s, %u bytes) does not match the snapshot's algorithm (%s)",
			hash_algo_name(e->hash_algo), (unsigned)e->hash_len,
			hash_algo_name(w->hash));
	if (e->collected & ~(uint32_t)(ATTR_OPTIONAL | ATTR_PROPS))
		return diag_set(reterr, -EINVAL, "entry collected unknown attributes (0x%x)",
				(unsigned)(e->collected & ~(uint32_t)(ATTR_OPTIONAL | ATTR_PROPS)));
	if ((e->collected & ATTR_XATTRS) && e->xattrs_len > 0 &&
	    (!e->xattrs || entry_xattrs_check(e->xattrs, e->xattrs_len) < 0))
		return diag_set(reterr, -EINVAL, "malformed extended attributes (%zu bytes)",
				e->xattrs_len);
	if (e->props_len > 0 && (!e->props || entry_xattrs_check(e->props, e->props_len) < 0))
		return diag_set(reterr, -EINVAL, "malformed properties (%zu bytes)", e->props_len);
	if (w->finished)
		return diag_set(reterr, -EINVAL, "snapshot %lld is finished already",
				(long long)w->id);
	r = snap_sorter_add(w->sorter, e, &w->ext, reterr);
	if (r < 0)
		return r;
	w->entries++;
	w->errors += e->err != 0;
	return 0;
}

/* Relabel snapshot @holder "<prefix>-<its start time>" (plus a suffix if
 * needed). Used for the baseline being superseded. */
static int relabel_dated(struct snap_store *st, int64_t holder, const char *prefix,
			 struct diag *reterr)
{
	struct strbuf label = STRBUF_INIT;
	int64_t started = 0;
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_query_int(st, "SELECT started FROM snapshot WHERE id = :a", holder, 0, NULL,
			   &started, reterr);
	if (r < 0)
		goto out;
	if (label_with_time(&label, prefix, started) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = label_unique(st, &label, reterr);
	if (r < 0)
		goto out;
	r = snap_prepare(st, "UPDATE snapshot SET label = ?1 WHERE id = ?2", &s, reterr);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, label.buf, (int)label.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, holder);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "relabel the old baseline", reterr);
out:
	sqlite3_finalize(s);
	strbuf_release(&label);
	return r;
}

int snap_relabel_dated(struct snap_store *st, int64_t id, const char *prefix, struct diag *reterr)
{
	return relabel_dated(st, id, prefix, reterr);
}

int snap_label_dated_unique(struct snap_store *st, struct strbuf *sb, const char *prefix,
			    int64_t ns, struct diag *reterr)
{
	if (label_with_time(sb, prefix, ns) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	return label_unique(st, sb, reterr);
}

/*
 * The parent this snapshot is stored against (0: a full copy); see
 * snap_new.parent. Under the write lock, so the parent cannot go meanwhile.
 */
static int writer_parent(struct snap_writer *w, int64_t *ret_parent, struct diag *reterr)
{
	struct snap_store *st = w->st;
	int64_t candidate = 0, ok = 0;
	int r;

	*ret_parent = 0;
	if (w->parent_req < 0 || (w->parent_req == 0 && w->purpose == SNAP_PURPOSE_BASELINE))
		return 0;
	if (w->parent_req > 0) {
		candidate = w->parent_req;
	} else {
		r = current_baseline(st, &candidate, reterr);
		if (r < 0)
			return r;
	}
	if (!candidate || candidate == w->id)
		return 0;
	r = snap_query_int(st,
			   w->parent_req > 0
				   ? "SELECT 1 FROM snapshot c, snapshot p WHERE c.id = :a AND"
				     " p.id = :b AND p.status = 'complete' AND p.hash = c.hash"
				   : "SELECT 1 FROM snapshot c, snapshot p WHERE c.id = :a AND"
				     " p.id = :b AND p.status = 'complete' AND p.hash = c.hash AND"
				     " p.roots IS c.roots AND p.excludes IS c.excludes AND"
				     " p.cross_mounts = c.cross_mounts",
			   w->id, candidate, NULL, &ok, reterr);
	if (r < 0)
		return r;
	if (r == 0 && w->parent_req > 0)
		return diag_set(reterr, -EINVAL,
				"snapshot %lld cannot be the parent (incomplete, gone, or another "
				"hash algorithm)",
				(long long)candidate);
	if (r == 0)
		return 0;
	/* A delta of a chain already SNAP_CHAIN_MAX long could not be read back
	 * (explicit parents, or checks made the baseline again and again): store
	 * a full copy instead, which reads the same. */
	{
		int64_t ids[SNAP_CHAIN_MAX];
		size_t n = 0;

		r = snap_chain(st, candidate, ids, &n, reterr);
		if (r < 0)
			return r;
		if (n < SNAP_CHAIN_MAX)
			*ret_parent = candidate;
	}
	return 0;
}

/* Sort what was added and write it as blocks, against the parent if any. */
static int writer_write_entries(struct snap_writer *w, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct snap_delta *d = NULL;
	const struct entry *e;
	int64_t parent = 0;
	int r;

	r = writer_parent(w, &parent, reterr);
	if (r < 0)
		return r;
	r = snap_sorter_finish(w->sorter, reterr);
	if (r < 0)
		return r;
	r = snap_delta_new(st, w->id, parent, &d, reterr);
	if (r < 0)
		return r;
	while ((r = snap_sorter_next(w->sorter, &e, reterr)) > 0) {
		r = snap_delta_put(d, e, reterr);
		if (r < 0)
			break;
	}
	if (r < 0) {
		snap_delta_free(d);
		return r;
	}
	r = snap_delta_end(d, NULL, reterr);
	if (r < 0)
		return r;
	snap_sorter_free(w->sorter);
	w->sorter = NULL;
	if (parent)
		r = snap_query_int(st, "UPDATE snapshot SET parent = :b WHERE id = :a", w->id,
				   parent, NULL, NULL, reterr);
	return r < 0 ? r : 0;
}

/* Everything transaction 2 does at the end, before COMMIT. */
static int writer_finish(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct strbuf label = STRBUF_INIT;
	sqlite3_stmt *s = NULL;
	int64_t holder = 0;
	bool deleted = false;
	int rc, r;

	r = writer_write_entries(w, reterr);
	if (r < 0)
		goto out;

	if (!w->label) {
		/* An automatic label: chosen under the write lock. */
		if (label_with_time(&label,
				    w->purpose == SNAP_PURPOSE_UPGRADE ? "upgrade" : "check",
				    w->started_ns) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		r = label_unique(st, &label, reterr);
		if (r < 0)
			goto out;
	} else {
		if (strbuf_adds(&label, w->label) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		/* Again: the label may have been taken since begin. */
		r = writer_check_label(w, &holder, reterr);
		if (r < 0)
			goto out;
	}

	if (holder && w->purpose == SNAP_PURPOSE_BASELINE) {
		/* Free the label the new baseline takes; the old one stays nameable. */
		r = relabel_dated(st, holder, w->label, reterr);
	} else if (holder) {
		r = snap_snapshot_delete(st, holder, reterr);
		deleted = true;
	}
	if (r < 0)
		goto out;

	r = snap_prepare(st,
			 "UPDATE snapshot SET label = ?1, status = 'complete', finished = ?2,"
			 " entries = ?3, errors = ?4, probes = ?6, probes_unavailable = ?7"
			 " WHERE id = ?5 AND status = 'incomplete'",
			 &s, reterr);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, label.buf, (int)label.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ns());
	sqlite3_bind_int64(s, 3, (int64_t)w->entries);
	sqlite3_bind_int64(s, 4, (int64_t)w->errors);
	sqlite3_bind_int64(s, 5, w->id);
	if (w->probes_set) {
		bind_list(s, 6, &w->probes_ran, w->nprobes_ran);
		bind_list(s, 7, &w->probes_unavailable, w->nprobes_unavailable);
	} else {
		bind_list(s, 6, &w->probes_asked, w->nprobes_asked);
		sqlite3_bind_null(s, 7);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "complete the snapshot", reterr);
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		r = diag_set(reterr, -ENOENT, "snapshot %lld was removed while it was written",
			     (long long)w->id);
		goto out;
	}

	if (w->purpose == SNAP_PURPOSE_BASELINE) {
		r = snap_query_int(
			st,
			"INSERT OR REPLACE INTO meta (key, value) VALUES ('" SNAP_META_BASELINE
			"', :a)",
			w->id, 0, NULL, NULL, reterr);
		if (r < 0)
			goto out;
	}

	if ((w->purpose == SNAP_PURPOSE_CHECK || w->purpose == SNAP_PURPOSE_UPGRADE) &&
	    w->keep > 0) {
		/*
		 * The newest @keep complete snapshots of this purpose stay,
		 * this one among them; interrupted ones do not count. Those
		 * older than the newest complete one before this one are
		 * leftovers of killed runs and go too. A newer one may be a
		 * writer that recorded itself and waits for the lock we hold:
		 * it stays (until the next one), and this one is never
		 * touched (id != :a).
		 */
#define PURPOSE "purpose = (SELECT purpose FROM snapshot WHERE id = :a)"
		/*
		 * Never the baseline: snap_set_baseline() makes its purpose
		 * the baseline's, and this says so once more.
		 */
#define PRUNE_IDS                                                                          \
	"SELECT id FROM snapshot WHERE " PURPOSE " AND id != :a AND id IS NOT"             \
	" (SELECT value FROM meta WHERE key = '" SNAP_META_BASELINE "') AND id NOT IN"     \
	" (SELECT parent FROM snapshot WHERE parent IS NOT NULL) AND ("                    \
	"(status = 'complete' AND id NOT IN (SELECT id FROM snapshot WHERE " PURPOSE       \
	" AND status = 'complete' AND id != :a ORDER BY id DESC LIMIT :b))"                \
	" OR (status = 'incomplete' AND id < (SELECT max(id) FROM snapshot WHERE " PURPOSE \
	" AND status = 'complete' AND id != :a)))"
		static const char *const prune[] = {
			"DELETE FROM block WHERE snap IN (" PRUNE_IDS ")",
			"DELETE FROM snap_pkg WHERE snap IN (" PRUNE_IDS ")",
			"DELETE FROM snapshot WHERE id IN (" PRUNE_IDS ")",
		};
#undef PRUNE_IDS
#undef PURPOSE
		for (size_t i = 0; i < sizeof(prune) / sizeof(prune[0]); i++) {
			r = snap_query_int(st, prune[i], w->id, (int64_t)w->keep - 1, NULL, NULL,
					   reterr);
			if (r < 0)
				goto out;
		}
		deleted = true;
	}

	/*
	 * Interrupted snapshots of every purpose, whatever @keep (0 too):
	 * one older than a complete snapshot (this one included) whose
	 * writer is gone (SNAP_ABANDONED_NS) holds no entries and no label,
	 * and only clutters the list. Upgrade snapshots are left to the rule
	 * above: an interrupted one breaks the pairing of the pre and post
	 * snapshots around it (drift diff --last-upgrade).
	 */
	_Static_assert(SNAP_PURPOSE_UPGRADE == 3, "the statement below names it");
#define ABANDONED_IDS                                                                 \
	"SELECT id FROM snapshot r WHERE r.status = 'incomplete' AND r.id != :a"      \
	" AND r.purpose != 3 AND r.started < :b AND EXISTS (SELECT 1 FROM snapshot c" \
	" WHERE c.status = 'complete' AND c.id > r.id)"
	static const char *const abandoned[] = {
		"DELETE FROM block WHERE snap IN (" ABANDONED_IDS ")",
		"DELETE FROM snap_pkg WHERE snap IN (" ABANDONED_IDS ")",
		"DELETE FROM snapshot WHERE id IN (" ABANDONED_IDS ")",
	};
#undef ABANDONED_IDS
	int64_t cutoff = now_ns() - SNAP_ABANDONED_NS;

	for (size_t i = 0; i < sizeof(abandoned) / sizeof(abandoned[0]); i++) {
		r = snap_query_int(st, abandoned[i], w->id, cutoff, NULL, NULL, reterr);
		if (r < 0)
			goto out;
	}
	if (sqlite3_changes(st->db) > 0)
		deleted = true;

	if (deleted) {
		/* The runs of a deleted snapshot go with it. */
		r = snap_runs_delete_orphans(st, reterr);
		if (r >= 0)
			r = snap_pkg_collect(st, reterr);
		if (r >= 0)
			r = snap_content_collect(st, NULL, reterr);
		if (r < 0)
			goto out;
	}

	r = 0;
	if (ret_info) {
		struct snap_info info;

		r = snap_info_query(st, "id = ?1", w->id, NULL, &info, reterr);
		if (r == 0)
			r = diag_set(reterr, -EIO, "snapshot %lld vanished", (long long)w->id);
		if (r > 0) {
			*ret_info = info;
			r = 0;
		}
	}
out:
	sqlite3_finalize(s);
	strbuf_release(&label);
	return r;
}

int snap_writer_finish(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct snap_info info = { 0 };
	int r;

	if (w->finished) {
		r = diag_set(reterr, -EINVAL, "snapshot %lld is finished already",
			     (long long)w->id);
		goto fail;
	}
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite rolled the transaction back on its own (disk full, I/O). */
		r = diag_set(reterr, -EIO, "the snapshot transaction in '%s' was rolled back",
			     st->path);
		goto fail;
	}
	r = writer_finish(w, ret_info ? &info : NULL, reterr);
	if (r < 0)
		goto fail;
	w->finished = true;
	if (ret_info)
		*ret_info = info;
	return 0;

fail:
	snap_info_release(&info);
	snap_writer_abort(w);
	return r;
}

int snap_writer_commit(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct snap_info info = { 0 };
	int r;

	if (!w->finished) {
		r = snap_writer_finish(w, ret_info ? &info : NULL, reterr);
		if (r < 0)
			return r; /* @w is gone */
	} else if (ret_info) {
		r = snap_info_query(st, "id = ?1", w->id, NULL, &info, reterr);
		if (r == 0)
			r = diag_set(reterr, -EIO, "snapshot %lld vanished", (long long)w->id);
		if (r < 0)
			goto fail;
	}
	if (sqlite3_get_autocommit(st->db)) {
		r = diag_set(reterr, -EIO, "the snapshot transaction in '%s' was rolled back",
			     st->path);
		goto fail;
	}
	r = snap_commit(st, "commit the snapshot", reterr);
	if (r < 0)
		goto fail;
	w->in_tx = false;
	writer_free(w);
	if (ret_info)
		*ret_info = info;
	return 0;

fail:
	snap_info_release(&info);
	snap_writer_abort(w);
	return r;
}

void snap_writer_abort(struct snap_writer *w)
{
	if (!w)
		return;
	if (w->in_tx && !sqlite3_get_autocommit(w->st->db))
		sqlite3_exec(w->st->db, "ROLLBACK", NULL, NULL, NULL);
	writer_free(w);
}

int snap_set_baseline(struct snap_store *st, int64_t id, struct snap_info *ret_previous,
		      struct diag *reterr)
{
	struct snap_info prev = { 0 };
	int64_t complete = 0, previous = 0;
	int r;

	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is being written to '%s'", st->path);

	/* One transaction: the baseline moves whole, or not at all. */
	r = snap_exec(st, "BEGIN IMMEDIATE", "change the baseline", reterr);
	if (r < 0)
		return r;
	r = snap_query_int(st, "SELECT status = 'complete' FROM snapshot WHERE id = :a", id, 0,
			   NULL, &complete, reterr);
	if (r == 0)
		r = diag_set(reterr, -ENOENT, "no snapshot '%lld'", (long long)id);
	if (r < 0)
		goto rollback;
	if (!complete) {
		r = diag_set(reterr, -EINVAL,
			     "snapshot #%lld is incomplete (its scan was interrupted); it cannot "
			     "be the baseline",
			     (long long)id);
		goto rollback;
	}
	r = current_baseline(st, &previous, reterr);
	if (r < 0)
		goto rollback;
	if (previous == id) {
		r = snap_commit(st, "change the baseline", reterr);
		if (r < 0)
			goto rollback;
		if (ret_previous)
			memset(ret_previous, 0, sizeof(*ret_previous));
		return 0;
	}

	if (previous) {
		/*
		 * The label "baseline" (or none) names no snapshot once it is no
		 * longer the baseline: date it, as 'drift init --force' does.
		 */
		r = snap_query_int(st,
				   "SELECT 1 FROM snapshot WHERE id = :a AND"
				   " (label IS NULL OR label = 'baseline')",
				   previous, 0, NULL, NULL, reterr);
		if (r > 0)
			r = relabel_dated(st, previous, "baseline", reterr);
		if (r < 0)
			goto rollback;
	}
	/* A check or an upgrade snapshot made the baseline is no longer pruned as one. */
	r = snap_query_int(st, "UPDATE snapshot SET purpose = :b WHERE id = :a", id,
			   SNAP_PURPOSE_BASELINE, NULL, NULL, reterr);
	if (r >= 0)
		r = snap_query_int(
			st,
			"INSERT OR REPLACE INTO meta (key, value) VALUES ('" SNAP_META_BASELINE
			"', :a)",
			id, 0, NULL, NULL, reterr);
	if (r >= 0 && previous && ret_previous) {
		r = snap_info_query(st, "id = ?1", previous, NULL, &prev, reterr);
		if (r == 0)
			r = diag_set(reterr, -EIO, "snapshot %lld vanished", (long long)previous);
	}
	if (r >= 0)
		r = snap_commit(st, "change the baseline", reterr);
	if (r < 0)
		goto rollback;
	if (ret_previous)
		*ret_previous = prev; /* zeroed when there was none */
	return 1;

rollback:
	snap_info_release(&prev);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}
