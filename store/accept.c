/*
 * Acceptance (schema version 6): reviewed findings of a stored run taken
 * into a new baseline, exactly as the run's after snapshot holds them, with
 * who, when and why; and undone. See store.h for the contract.
 *
 * The new baseline is written with the ordinary snapshot writer (purpose
 * baseline, stored as a delta of the old baseline), so that it is an
 * ordinary snapshot in every respect; the acceptance rows and the package
 * links join the writer's transaction, so that all of it commits at once.
 */
#include "store/internal.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

static int64_t accept_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

char *snap_accept_who(void)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;
	char buf[32];

	if (getuid() == 0 && sudo && *sudo)
		return strdup(sudo);
	pw = getpwuid(getuid());
	if (pw && pw->pw_name && *pw->pw_name)
		return strdup(pw->pw_name);
	snprintf(buf, sizeof(buf), "uid %lu", (unsigned long)getuid());
	return strdup(buf);
}

void snap_acceptance_release(struct snap_acceptance *a)
{
	if (!a)
		return;
	free(a->old_label);
	free(a->new_label);
	free(a->who);
	free(a->reason);
	free(a->undone_by);
	memset(a, 0, sizeof(*a));
}

/* A key of the request or of the accepted set: owned bytes. */
struct akey {
	enum entry_kind kind;
	char *key;
	size_t len;
	enum change change;      /* accepted: the finding's change */
	bool matched;            /* requested: some finding matched it */
	bool seen_old, seen_new; /* accepted: found in the old baseline, the after snapshot */
};

struct akeys {
	struct akey *v;
	size_t n, cap;
};

static void akeys_release(struct akeys *k)
{
	for (size_t i = 0; i < k->n; i++)
		free(k->v[i].key);
	free(k->v);
	memset(k, 0, sizeof(*k));
}

static int akeys_add(struct akeys *k, enum entry_kind kind, const char *key, size_t len,
		     enum change change)
{
	char *copy;

	if (k->n == k->cap) {
		size_t cap = k->cap ? k->cap * 2 : 16;
		struct akey *v = realloc(k->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		k->v = v;
		k->cap = cap;
	}
	copy = malloc(len + 1);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, key, len);
	copy[len] = '\0';
	k->v[k->n++] = (struct akey){ kind, copy, len, change, false, false, false };
	return 0;
}

static int akey_cmp(const void *pa, const void *pb)
{
	const struct akey *a = pa, *b = pb;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	return snap_key_compare(a->key, a->len, b->key, b->len);
}

/* Sort and drop duplicates (the first of equal keys stays). */
static void akeys_sort(struct akeys *k)
{
	size_t out = 0;

	if (!k->n)
		return;
	qsort(k->v, k->n, sizeof(*k->v), akey_cmp);
	for (size_t i = 1; i < k->n; i++) {
		if (!akey_cmp(&k->v[out], &k->v[i])) {
			k->v[out].matched |= k->v[i].matched;
			free(k->v[i].key);
			continue;
		}
		k->v[++out] = k->v[i];
	}
	k->n = out + 1;
}

static struct akey *akeys_find(const struct akeys *k, enum entry_kind kind, const char *key,
			       size_t len)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct akey *m = &k->v[mid];
		int c = m->kind != kind ? (m->kind < kind ? -1 : 1)
					: snap_key_compare(m->key, m->len, key, len);

		if (!c)
			return &k->v[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Show @key escaped in a message. */
static const char *akey_show(struct strbuf *sb, enum entry_kind kind, const char *key, size_t len)
{
	strbuf_reset(sb);
	if (kind != ENTRY_FILE && strbuf_addf(sb, "%s:", entry_kind_name(kind)) < 0)
		return "?";
	if (escape_display(sb, key, len) < 0)
		return "?";
	return sb->buf;
}

/* ---- matching the keys against the run's findings ---- */

struct matcher {
	struct akeys *want;     /* requested, sorted */
	struct akeys *accepted; /* the findings taken */
	snap_accept_row_fn *fn;
	void *userdata;
};

static int match_row(const struct snap_run_row *row, void *userdata)
{
	struct matcher *m = userdata;
	struct akey *hit = akeys_find(m->want, row->kind, row->key, row->key_len);
	int r;

	if (!hit && row->kind == ENTRY_PACKAGE) {
		/* "openssl" names "openssl:amd64" (and every architecture of it). */
		const char *colon = memchr(row->key, ':', row->key_len);

		if (colon)
			hit = akeys_find(m->want, row->kind, row->key, (size_t)(colon - row->key));
	}
	if (!hit)
		return 0;
	hit->matched = true;
	if (akeys_find(m->accepted, row->kind, row->key, row->key_len))
		return 0;
	r = akeys_add(m->accepted, row->kind, row->key, row->key_len, row->change);
	if (r < 0)
		return r;
	/* Kept sorted as it grows: the run's order is (kind, key) already, mostly. */
	if (m->accepted->n > 1 &&
	    akey_cmp(&m->accepted->v[m->accepted->n - 2], &m->accepted->v[m->accepted->n - 1]) > 0)
		akeys_sort(m->accepted);
	return 0;
}

/* The second pass, once every key matched: show each finding taken, once. */
static int show_row(const struct snap_run_row *row, void *userdata)
{
	struct matcher *m = userdata;
	struct akey *k = akeys_find(m->accepted, row->kind, row->key, row->key_len);

	if (!k || k->seen_old)
		return 0;
	k->seen_old = true; /* reset before the snapshots are read */
	return m->fn(row, m->userdata);
}

/* ---- small queries ---- */

static int baseline_id(struct snap_store *st, int64_t *ret, struct diag *reterr)
{
	return snap_query_int(
		st,
		"SELECT s.id FROM snapshot s JOIN meta m ON m.key = '" SNAP_META_BASELINE
		"' AND s.id = m.value",
		0, 0, NULL, ret, reterr);
}

static int stale_message(int64_t run_id, int64_t before, int64_t now, struct diag *reterr)
{
	if (!now)
		return diag_set(
			reterr, -ESTALE,
			"there is no baseline any more (run #%lld compared against snapshot "
			"#%lld); run 'drift init', then 'drift check'",
			(long long)run_id, (long long)before);
	return diag_set(reterr, -ESTALE,
			"the baseline has moved since run #%lld (it compared against snapshot "
			"#%lld; the baseline is now #%lld): run 'drift check' again and accept "
			"from the new run",
			(long long)run_id, (long long)before, (long long)now);
}

static int acceptance_insert(struct snap_store *st, const struct snap_acceptance *a,
			     const char *who, const char *reason, const struct akeys *acc,
			     int64_t *ret_id, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st,
			 "INSERT INTO acceptance (run, old_baseline, new_baseline, who, at, reason,"
			 " entries) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, a->run);
	sqlite3_bind_int64(s, 2, a->old_baseline);
	sqlite3_bind_int64(s, 3, a->new_baseline);
	sqlite3_bind_text(s, 4, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 5, a->at_ns);
	sqlite3_bind_text(s, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 7, (int64_t)a->entries);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE)
		return snap_sqlite_fail(st, rc, "record the acceptance", reterr);
	*ret_id = sqlite3_last_insert_rowid(st->db);

	r = snap_prepare(st,
			 "INSERT INTO acceptance_key (acceptance, kind, key, change)"
			 " VALUES (?1, ?2, ?3, ?4)",
			 &s, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < acc->n; i++) {
		sqlite3_reset(s);
		sqlite3_bind_int64(s, 1, *ret_id);
		sqlite3_bind_int(s, 2, (int)acc->v[i].kind);
		sqlite3_bind_blob(s, 3, acc->v[i].key, (int)acc->v[i].len, SQLITE_STATIC);
		sqlite3_bind_int(s, 4, (int)acc->v[i].change);
		rc = sqlite3_step(s);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return snap_sqlite_fail(st, rc, "record the acceptance", reterr);
		}
	}
	sqlite3_finalize(s);
	return 0;
}

/*
 * The package links of the new baseline: the old baseline's, less the
 * versions of accepted package entries, plus the after snapshot's versions
 * of accepted package entries that were not removed. A package entry's key
 * is "name:arch" (or "name" without an architecture).
 */
#define PKG_KEY "(v.name || CASE WHEN v.arch = '' THEN '' ELSE ':' || v.arch END)"
static int copy_packages(struct snap_store *st, int64_t new_id, int64_t old_id, int64_t after_id,
			 int64_t acceptance, struct diag *reterr)
{
	static const char *const sql[] = {
		"INSERT OR IGNORE INTO snap_pkg (snap, pkgver) SELECT ?1, sp.pkgver FROM snap_pkg sp"
		" JOIN pkgver v ON v.id = sp.pkgver WHERE sp.snap = ?2 AND NOT EXISTS (SELECT 1 FROM"
		" acceptance_key k WHERE k.acceptance = ?3 AND k.kind = 2 AND"
		" CAST(k.key AS TEXT) = " PKG_KEY ")",
		"INSERT OR IGNORE INTO snap_pkg (snap, pkgver) SELECT ?1, sp.pkgver FROM snap_pkg sp"
		" JOIN pkgver v ON v.id = sp.pkgver WHERE sp.snap = ?2 AND EXISTS (SELECT 1 FROM"
		" acceptance_key k WHERE k.acceptance = ?3 AND k.kind = 2 AND k.change != ?4 AND"
		" CAST(k.key AS TEXT) = " PKG_KEY ")",
	};
	_Static_assert(ENTRY_PACKAGE == 2, "the statements above name it");

	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s = NULL;
		int rc, r = snap_prepare(st, sql[i], &s, reterr);

		if (r < 0)
			return r;
		sqlite3_bind_int64(s, 1, new_id);
		sqlite3_bind_int64(s, 2, i == 0 ? old_id : after_id);
		sqlite3_bind_int64(s, 3, acceptance);
		sqlite3_bind_int(s, 4, (int)CHANGE_REMOVED);
		rc = sqlite3_step(s);
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return snap_sqlite_fail(st, rc, "link the packages of the new baseline",
						reterr);
	}
	return 0;
}
#undef PKG_KEY

/* Add @e to the writer, with its kept content reference when the content is still there. */
static int add_entry(struct snap_writer *w, const struct entry *e, struct diag *reterr)
{
	struct entry copy = *e;

	if (copy.has_content) {
		int r = snap_writer_ref_content(w, copy.content_id, reterr);

		if (r == -ENOENT) {
			diag_clear(reterr);
			copy.has_content = false;
		} else if (r < 0) {
			return r;
		}
	}
	return snap_writer_add(w, &copy, reterr);
}

/*
 * The entries of the new baseline, kind by kind: the old baseline's, less
 * the accepted keys; then the after snapshot's entries of accepted keys
 * that were added or modified. Every accepted key must be where its change
 * says (-EPROTO otherwise: the run and its snapshots disagree).
 */
static int write_entries(struct snap_store *st, struct snap_writer *w, int64_t old_id,
			 int64_t after_id, struct akeys *acc, struct diag *reterr)
{
	struct strbuf show = STRBUF_INIT;
	int r = 0;

	for (int kind = ENTRY_FILE; r >= 0 && kind <= ENTRY__KIND_MAX; kind++) {
		for (int side = 0; r >= 0 && side < 2; side++) {
			struct snap_iter *it = NULL;
			const struct entry *e;

			r = snap_iter_new(st, side ? after_id : old_id, (enum entry_kind)kind, NULL,
					  0, 0, &it, reterr);
			while (r >= 0 && (r = snap_iter_next(it, &e, reterr)) > 0) {
				struct akey *k = akeys_find(acc, e->kind, e->key, e->key_len);

				if (!side && !k) {
					r = add_entry(w, e, reterr);
				} else if (!side) {
					k->seen_old = true;
				} else if (k) {
					k->seen_new = true;
					if (k->change != CHANGE_REMOVED)
						r = add_entry(w, e, reterr);
				}
			}
			snap_iter_free(it);
		}
	}
	for (size_t i = 0; r >= 0 && i < acc->n; i++) {
		const struct akey *k = &acc->v[i];

		if (k->seen_old != (k->change != CHANGE_ADDED) ||
		    k->seen_new != (k->change != CHANGE_REMOVED))
			r = diag_set(reterr, -EPROTO,
				     "the snapshots of the run do not hold %s as its finding says",
				     akey_show(&show, k->kind, k->key, k->len));
	}
	strbuf_release(&show);
	return r < 0 ? r : 0;
}

/*
 * Fill what snap_accept() returns about @a beyond its numbers: who, why, and
 * the labels of the old baseline (@old_id, as it is labelled now) and of the
 * new (@new_label, NULL for a dry run). 0, or -ENOMEM with @a released.
 */
static int accept_result(struct snap_store *st, struct snap_acceptance *a, const char *who,
			 const char *reason, int64_t old_id, const char *new_label,
			 struct diag *reterr)
{
	struct snap_info cur = { 0 };
	int r;

	a->who = strdup(who);
	a->reason = strdup(reason);
	if (new_label)
		a->new_label = strdup(new_label);
	r = snap_info_query(st, "id = ?1", old_id, NULL, &cur, reterr);
	if (r > 0) {
		a->old_label = cur.label;
		cur.label = NULL;
	}
	snap_info_release(&cur);
	if (r >= 0 && (!a->who || !a->reason || (new_label && !a->new_label)))
		r = diag_set(reterr, -ENOMEM, "out of memory");
	if (r < 0) {
		snap_acceptance_release(a);
		return r;
	}
	return 0;
}

int snap_accept(struct snap_store *st, int64_t run_id, const struct snap_accept_key *keys, size_t n,
		const char *who, const char *reason, unsigned flags, snap_accept_row_fn *fn,
		void *userdata, struct snap_acceptance *ret, struct diag *reterr)
{
	struct snap_run_info run = { 0 };
	struct snap_info old = { 0 }, after = { 0 }, made = { 0 };
	struct akeys want = { 0 }, acc = { 0 };
	struct matcher m = { &want, &acc, fn, userdata };
	struct snap_acceptance a = { 0 };
	struct strbuf label = STRBUF_INIT, show = STRBUF_INIT;
	struct snap_writer *w = NULL;
	int64_t now = 0, acceptance = 0;
	bool has_pkgs = false;
	char name[32];
	int r;

	if (!n)
		return diag_set(reterr, -EINVAL, "nothing to accept: no keys");
	if (!who || !*who)
		return diag_set(reterr, -EINVAL, "an acceptance needs who accepts");
	if (!reason || !*reason)
		return diag_set(reterr, -EINVAL, "an acceptance needs a reason");
	if (st->schema < 6 && !(flags & SNAP_ACCEPT_DRY_RUN))
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);

	r = snap_run_get(st, run_id, &run, reterr);
	if (r < 0)
		goto out;
	if (!run.before || !run.after || !strcmp(run.command, "verify")) {
		r = diag_set(reterr, -EINVAL,
			     "run #%lld is a %s: it has no snapshots to accept from (accept from "
			     "a check)",
			     (long long)run.id, run.command);
		goto out;
	}
	r = baseline_id(st, &now, reterr);
	if (r < 0)
		goto out;
	if (now != run.before) {
		r = stale_message(run.id, run.before, now, reterr);
		goto out;
	}
	snprintf(name, sizeof(name), "%lld", (long long)run.after);
	r = snap_find(st, name, &after, reterr);
	if (r == -ENOENT || (r >= 0 && !after.complete)) {
		r = diag_set(reterr, -ENOENT,
			     "the snapshot run #%lld was taken with (#%lld) is gone (pruned): "
			     "nothing to accept from; run 'drift check' again",
			     (long long)run.id, (long long)run.after);
		goto out;
	}
	if (r < 0)
		goto out;
	r = snap_baseline(st, &old, reterr);
	if (r < 0)
		goto out;
	if (after.hash != old.hash) {
		r = diag_set(reterr, -EINVAL,
			     "run #%lld's snapshot hashes with %s, the baseline with %s: it "
			     "cannot be accepted into it",
			     (long long)run.id, hash_algo_name(after.hash),
			     hash_algo_name(old.hash));
		goto out;
	}

	/* Match every key to a finding. */
	for (size_t i = 0; i < n; i++) {
		if (akeys_add(&want, keys[i].kind, keys[i].key, keys[i].key_len, CHANGE_MODIFIED) <
		    0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
	}
	akeys_sort(&want);
	r = snap_run_rows(st, run.id, match_row, &m, reterr);
	if (r == -ENOMEM)
		r = diag_set(reterr, -ENOMEM, "out of memory");
	if (r < 0)
		goto out;
	for (size_t i = 0; i < want.n; i++) {
		if (!want.v[i].matched) {
			r = diag_set(reterr, -ENOENT, "%s is not a finding of run #%lld",
				     akey_show(&show, want.v[i].kind, want.v[i].key, want.v[i].len),
				     (long long)run.id);
			goto out;
		}
	}
	akeys_sort(&acc);
	if (fn) {
		r = snap_run_rows(st, run.id, show_row, &m, reterr);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < acc.n; i++)
			acc.v[i].seen_old = false;
	}

	a.run = run.id;
	a.old_baseline = old.id;
	a.entries = acc.n;
	a.at_ns = accept_now_ns();
	if (flags & SNAP_ACCEPT_DRY_RUN) {
		r = 0;
		goto done;
	}

	/* Write. */
	r = snap_has_packages(st, old.id, &has_pkgs);
	if (r < 0) {
		r = diag_set(reterr, r, "cannot read the packages of the baseline");
		goto out;
	}
	r = snap_label_dated_unique(st, &label, "accept", a.at_ns, reterr);
	if (r < 0)
		goto out;
	{
		struct snap_new p = { 0 };

		p.purpose = SNAP_PURPOSE_BASELINE;
		p.label = label.buf;
		p.replace = true; /* a baseline exists: this one replaces it */
		p.host = old.host;
		p.roots = (const char *const *)old.roots;
		p.nroots = old.nroots;
		p.excludes = (const char *const *)old.excludes;
		p.nexcludes = old.nexcludes;
		p.cross_mounts = old.cross_mounts;
		p.hash = old.hash;
		p.policy_digest = old.policy_digest;
		p.policy_source = old.policy_source;
		p.probes = (const char *const *)old.probes;
		p.nprobes = old.nprobes;
		p.parent = old.id;
		r = snap_writer_begin(st, &p, &w, reterr);
		if (r < 0)
			goto out;
	}
	r = snap_writer_set_probes(w, (const char *const *)old.probes, old.nprobes,
				   (const char *const *)old.probes_unavailable,
				   old.nprobes_unavailable, reterr);
	if (r < 0)
		goto out;
	/* Under the write lock now: did the baseline move meanwhile? */
	r = baseline_id(st, &now, reterr);
	if (r < 0)
		goto out;
	if (now != run.before) {
		r = stale_message(run.id, run.before, now, reterr);
		goto out;
	}
	a.new_baseline = snap_writer_id(w);
	r = acceptance_insert(st, &a, who, reason, &acc, &acceptance, reterr);
	if (r < 0)
		goto out;
	r = write_entries(st, w, old.id, after.id, &acc, reterr);
	if (r < 0)
		goto out;
	if (has_pkgs) {
		r = copy_packages(st, a.new_baseline, old.id, after.id, acceptance, reterr);
		if (r < 0)
			goto out;
	}
	r = snap_writer_finish(w, &made, reterr);
	if (r < 0) {
		w = NULL; /* freed */
		goto out;
	}
	/*
	 * Its start time is the old baseline's: the oldest state it holds. The
	 * findings layer explains a change by what the records say happened
	 * between the baseline's start and a check (package logs), and the
	 * entries not accepted are still as the old baseline saw them.
	 */
	r = snap_query_int(st, "UPDATE snapshot SET started = :b WHERE id = :a", a.new_baseline,
			   old.started_ns, NULL, NULL, reterr);
	if (r < 0)
		goto out;
	/* The old baseline stays nameable, as 'drift init --force' leaves it. */
	r = snap_query_int(st,
			   "SELECT 1 FROM snapshot WHERE id = :a AND (label IS NULL OR label ="
			   " 'baseline')",
			   old.id, 0, NULL, NULL, reterr);
	if (r > 0)
		r = snap_relabel_dated(st, old.id, "baseline", reterr);
	if (r < 0)
		goto out;
	/*
	 * What the caller is told, before the commit: once the acceptance is
	 * in, running out of memory must not make it look as if it failed.
	 */
	if (ret) {
		r = accept_result(st, &a, who, reason, old.id, made.label, reterr);
		if (r < 0)
			goto out;
	}
	r = snap_writer_commit(w, NULL, reterr);
	w = NULL;
	if (r < 0) {
		snap_acceptance_release(&a);
		goto out;
	}
	a.id = acceptance;
	if (ret)
		*ret = a;
	r = 0;
	goto out;

done:
	if (ret) {
		r = accept_result(st, &a, who, reason, old.id, made.label, reterr);
		if (r < 0)
			goto out;
		*ret = a;
	}
	r = 0;
out:
	if (w)
		snap_writer_abort(w);
	snap_run_info_release(&run);
	snap_info_release(&old);
	snap_info_release(&after);
	snap_info_release(&made);
	akeys_release(&want);
	akeys_release(&acc);
	strbuf_release(&label);
	strbuf_release(&show);
	return r;
}

/* ---- reading ---- */

#define ACCEPT_COLUMNS                                                                       \
	"a.id, a.run, a.old_baseline, a.new_baseline, a.who, a.at, a.reason, a.entries,"     \
	" a.undone_at, a.undone_by, (SELECT label FROM snapshot WHERE id = a.old_baseline)," \
	" (SELECT label FROM snapshot WHERE id = a.new_baseline)"

static int read_acceptance(sqlite3_stmt *s, struct snap_acceptance *a)
{
	bool oom = false;

	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(s, 0);
	a->run = sqlite3_column_int64(s, 1);
	a->old_baseline = sqlite3_column_int64(s, 2);
	a->new_baseline = sqlite3_column_int64(s, 3);
	a->who = snap_column_text(s, 4, &oom);
	a->at_ns = sqlite3_column_int64(s, 5);
	a->reason = snap_column_text(s, 6, &oom);
	a->entries = (uint64_t)sqlite3_column_int64(s, 7);
	a->undone_ns = sqlite3_column_int64(s, 8);
	a->undone_by = snap_column_text(s, 9, &oom);
	a->old_label = snap_column_text(s, 10, &oom);
	a->new_label = snap_column_text(s, 11, &oom);
	if (oom || !a->who || !a->reason) {
		snap_acceptance_release(a);
		return -ENOMEM;
	}
	return 0;
}

int snap_acceptance_list(struct snap_store *st, snap_acceptance_fn *fn, void *userdata,
			 struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st->schema < 6)
		return 0;
	r = snap_prepare(st, "SELECT " ACCEPT_COLUMNS " FROM acceptance a ORDER BY a.id", &s,
			 reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_acceptance a;

		r = read_acceptance(s, &a);
		if (r < 0) {
			r = diag_set(reterr, r, "out of memory");
			break;
		}
		r = fn(&a, userdata);
		snap_acceptance_release(&a);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "list the acceptances", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

static int keys_query(struct snap_store *st, const char *sql, int64_t id, snap_accepted_fn *fn,
		      void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st->schema < 6)
		return 0;
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *key = sqlite3_column_blob(s, 2);
		size_t len = (size_t)sqlite3_column_bytes(s, 2);

		r = fn(sqlite3_column_int64(s, 0), (enum entry_kind)sqlite3_column_int(s, 1),
		       key ? key : "", len, (enum change)sqlite3_column_int(s, 3), userdata);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read the accepted entries", reterr);
	sqlite3_finalize(s);
	return r < 0 ? r : 0;
}

int snap_acceptance_keys(struct snap_store *st, int64_t id, snap_accepted_fn *fn, void *userdata,
			 struct diag *reterr)
{
	return keys_query(st,
			  "SELECT acceptance, kind, key, change FROM acceptance_key"
			  " WHERE acceptance = ?1 ORDER BY kind, key",
			  id, fn, userdata, reterr);
}

int snap_run_accepted(struct snap_store *st, int64_t run_id, snap_accepted_fn *fn, void *userdata,
		      struct diag *reterr)
{
	return keys_query(st,
			  "SELECT k.acceptance, k.kind, k.key, k.change FROM acceptance a"
			  " JOIN acceptance_key k ON k.acceptance = a.id WHERE a.run = ?1 AND"
			  " a.undone_at IS NULL ORDER BY k.kind, k.key, k.acceptance",
			  run_id, fn, userdata, reterr);
}

/* ---- undo ---- */

static int undo_select(struct snap_store *st, int64_t id, struct snap_acceptance *ret,
		       struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st,
			 id ? "SELECT " ACCEPT_COLUMNS " FROM acceptance a WHERE a.id = ?1"
			    : "SELECT " ACCEPT_COLUMNS " FROM acceptance a WHERE a.undone_at IS"
			      " NULL ORDER BY a.id DESC LIMIT 1",
			 &s, reterr);
	if (r < 0)
		return r;
	if (id)
		sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		r = read_acceptance(s, ret);
		if (r < 0)
			r = diag_set(reterr, r, "out of memory");
		else
			r = 1;
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "read the acceptances", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

int snap_accept_undo(struct snap_store *st, int64_t id, const char *who,
		     struct snap_acceptance *ret, struct diag *reterr)
{
	struct snap_acceptance a = { 0 };
	int64_t now = 0, complete = 0, at = accept_now_ns();
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (!who || !*who)
		return diag_set(reterr, -EINVAL, "an undo needs who undoes");
	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is being written to '%s'", st->path);

	r = snap_exec(st, "BEGIN IMMEDIATE", "undo the acceptance", reterr);
	if (r < 0)
		return r;
	r = undo_select(st, id, &a, reterr);
	if (r == 0)
		r = id ? diag_set(reterr, -ENOENT, "no acceptance #%lld", (long long)id)
		       : diag_set(reterr, -ENOENT, "no acceptance to undo");
	if (r < 0)
		goto rollback;
	if (a.undone_ns) {
		r = diag_set(reterr, -EALREADY, "acceptance #%lld was undone already",
			     (long long)a.id);
		goto rollback;
	}
	r = baseline_id(st, &now, reterr);
	if (r < 0)
		goto rollback;
	if (now != a.new_baseline) {
		r = diag_set(reterr, -ESTALE,
			     "the baseline has moved since acceptance #%lld (it made snapshot "
			     "#%lld the baseline; the baseline is now #%lld): undo the later "
			     "acceptances first, or make a baseline with 'drift baseline'",
			     (long long)a.id, (long long)a.new_baseline, (long long)now);
		goto rollback;
	}
	r = snap_query_int(st, "SELECT status = 'complete' FROM snapshot WHERE id = :a",
			   a.old_baseline, 0, NULL, &complete, reterr);
	if (r >= 0 && (r == 0 || !complete))
		r = diag_set(reterr, -ENOENT,
			     "the baseline acceptance #%lld replaced (snapshot #%lld) is gone",
			     (long long)a.id, (long long)a.old_baseline);
	if (r < 0)
		goto rollback;
	r = snap_query_int(st, "UPDATE snapshot SET purpose = :b WHERE id = :a", a.old_baseline,
			   SNAP_PURPOSE_BASELINE, NULL, NULL, reterr);
	if (r >= 0)
		r = snap_query_int(
			st,
			"INSERT OR REPLACE INTO meta (key, value) VALUES ('" SNAP_META_BASELINE
			"', :a)",
			a.old_baseline, 0, NULL, NULL, reterr);
	if (r < 0)
		goto rollback;
	r = snap_prepare(st, "UPDATE acceptance SET undone_at = ?1, undone_by = ?2 WHERE id = ?3",
			 &s, reterr);
	if (r < 0)
		goto rollback;
	sqlite3_bind_int64(s, 1, at);
	sqlite3_bind_text(s, 2, who, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 3, a.id);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "undo the acceptance", reterr);
		goto rollback;
	}
	r = snap_commit(st, "undo the acceptance", reterr);
	if (r < 0)
		goto rollback;
	a.undone_ns = at;
	free(a.undone_by);
	a.undone_by = strdup(who);
	if (ret)
		*ret = a;
	else
		snap_acceptance_release(&a);
	return 0;

rollback:
	snap_acceptance_release(&a);
	if (!sqlite3_get_autocommit(st->db))
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}
