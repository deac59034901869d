/*
 * Comparing two snapshots into findings.
 *
 *     snap_compare()          the store's merge of two key-sorted streams
 *       rule_set_match_kind() the rule of the entry, once
 *       live_read()           its MIME type, when the rule wants it and the
 *                             scan did not record it (a live check only)
 *       rule_classify()       class, severity, reason under that rule
 *       attrib_apply()        the packages' word on it (attrib.c); a file
 *                             it must read shares the read above, so the
 *                             live file is read once at most. It explains
 *                             drift, never overrules what the policy expects
 *       explain_deviation()   the records of what maintainer scripts and
 *                             triggers wrote, for what is still drift
 *                             (explain.c and its sources)
 *       waiver_apply()        the waivers: drift an operator tolerates, while
 *                             it stays as it was reviewed (waiver.c)
 *     sink->finding()         the consumer
 *
 * Files first, below the roots; then the entries of the probes both sides
 * ran, kind by kind; then the after side's blind spots.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "compare/waive.h"
#include "scanner/probe.h"
#include "common/banned.h"

struct comparer {
	const struct compare_opts *o;
	const struct compare_sink *sink;
	struct attrib *attrib;  /* NULL: no package attribution */
	struct explain explain; /* what maintainer scripts and triggers wrote (explain.c) */
	int attrib_err;         /* attrib_apply() failed: the comparison stops with it */
	int sink_err;           /* a sink callback stopped the comparison */
	struct live live;
	/* The two snapshots bracket one dpkg run (the apt hook's pair). */
	bool dpkg_run;
	/* Why packages cannot explain file changes: said before the first file finding. */
	char attrib_note[320];
	struct events *events;     /* what each finding is part of (event.c) */
	struct novelty *novelty;   /* --since-last: the previous run's findings */
	struct restored *restored; /* what remediation rewrote (restored.c) */
	char waived[640];          /* the reason a waiver gave the finding being emitted */
};

void finding_set_verdict(struct finding *f, const struct rule_verdict *v, bool count_expected)
{
	f->judged = true;
	f->class = v->class;
	f->severity = v->severity;
	f->attrs = v->attrs;
	f->reason = v->reason;
	f->counts = v->class != CLASS_EXPECTED || count_expected;
	f->rule = v->rule;
	f->rule_id = v->rule ? rule_id(v->rule) : NULL;
	f->rule_title = v->rule ? rule_title(v->rule) : NULL;
	f->rule_file = v->rule ? rule_file(v->rule) : NULL;
	f->rule_line = v->rule ? rule_line(v->rule) : 0;
	f->remediate = rule_remediate(v->rule);
}

void verdict_reason(struct rule_verdict *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

void verdict_reason_add(struct rule_verdict *v, const char *fmt, ...)
{
	size_t len = strnlen(v->reason, sizeof(v->reason));
	va_list ap;

	if (len && len + 2 < sizeof(v->reason)) {
		memcpy(v->reason + len, "; ", 3);
		len += 2;
	}
	if (len + 1 >= sizeof(v->reason))
		return;
	va_start(ap, fmt);
	vsnprintf(v->reason + len, sizeof(v->reason) - len, fmt, ap);
	va_end(ap);
}

static int emit_note(struct comparer *c, const char *text)
{
	int r = c->sink->note ? c->sink->note(text, c->sink->userdata) : 0;

	if (r < 0)
		c->sink_err = r;
	return r;
}

static int emit(struct comparer *c, struct finding *f)
{
	const struct entry *e = f->after ? f->after : f->before;
	int r;

	if (c->events && (r = events_assign(c->events, f)) < 0)
		return c->attrib_err = r;
	if (c->novelty)
		novelty_mark(c->novelty, f);

	if (c->attrib_note[0] && e->kind == ENTRY_FILE) {
		r = emit_note(c, c->attrib_note);
		c->attrib_note[0] = '\0';
		if (r < 0)
			return r;
	}
	r = c->sink->finding ? c->sink->finding(f, c->sink->userdata) : 0;
	if (r < 0)
		c->sink_err = r;
	return r;
}

/*
 * libmagic's type of the after side's content, for a rule with magic:
 * true: from the snapshot when the scan collected it, else (a live check)
 * from the file, in the finding's one read. NULL when there is none.
 */
static const char *finding_mime(struct comparer *c, const struct rule *rule,
				const struct deviation *d, int *ret_err)
{
	*ret_err = 0;
	if (!rule_magic(rule) || !d->after || !S_ISREG(d->after->mode) ||
	    d->change == CHANGE_REMOVED)
		return NULL;
	if ((d->after->collected & ATTR_MIME) && d->after->mime)
		return d->after->mime;
	if (!c->o->live)
		return NULL;
	/* Vanished or unreadable since the scan: no escalation from content. */
	if (live_read(&c->live, d->after, true) == -ENOMEM)
		*ret_err = -ENOMEM;
	return c->live.mime;
}

static int compare_visit(const struct deviation *d, void *userdata)
{
	struct comparer *c = userdata;
	const struct compare_opts *o = c->o;
	const struct entry *e = d->after ? d->after : d->before;
	struct finding f = {
		.change = d->change, .before = d->before, .after = d->after, .changed = d->attrs
	};
	struct deviation restored;
	struct rule_verdict v;
	struct attrib_note note;
	const struct rule *rule;
	const char *mime = NULL;
	int r;

	if (o->stop && *o->stop)
		return -ECANCELED;
	if (c->restored && d->change == CHANGE_MODIFIED && (d->attrs & ATTR_INODE)) {
		/* A new inode that a restore made: what it could not bring back is no drift. */
		uint32_t mask = restored_mask(c->restored, d->after);

		/* Without --all-changes a ctime alone is noise, as store/compare.c has it. */
		if (mask && !(o->flags & SNAP_COMPARE_ALL))
			mask |= ATTR_CTIME;
		if (mask) {
			restored = *d;
			restored.attrs &= ~mask;
			if (!restored.attrs)
				return 0;
			d = &restored;
			f.changed = d->attrs;
		}
	}
	if (!o->rules) {
		f.attrs = d->attrs;
		f.counts = true;
		return emit(c, &f);
	}
	live_reset(&c->live);
	rule = rule_set_match_kind(o->rules, e->kind, e->key, e->key_len);
	if (!rule)
		return 0; /* not covered: does not matter under the policy */
	if (e->kind == ENTRY_FILE) {
		mime = finding_mime(c, rule, d, &r);
		if (r < 0)
			return c->attrib_err = r;
	}
	if (!rule_classify(rule, d->change, d->before, d->after, d->attrs, mime, &v))
		return 0; /* only what the rule ignores changed */
	if (c->attrib) {
		struct rule_verdict policy = v;

		if (e->kind == ENTRY_FILE) {
			r = attrib_apply(c->attrib, d, &v, &f.package, &note, &c->live);
			if (r < 0)
				return c->attrib_err = r;
		}
		/* What dpkg's lists do not explain, the records of the rest of package work may. */
		if (v.class == CLASS_DRIFT) {
			r = explain_deviation(&c->explain, d, &v, &f.package, &note);
			if (r < 0)
				return c->attrib_err = r;
		}
		/*
		 * The packages explain drift; they do not make drift of what the
		 * policy expects (a conffile the policy lets change is not news
		 * because its package did not change). The package context stays.
		 */
		if (policy.class == CLASS_EXPECTED && v.class != CLASS_EXPECTED)
			v = policy;
	}
	if (c->dpkg_run && e->kind == ENTRY_PACKAGE) {
		/* Between the hook's pre and post snapshots, only dpkg changes packages. */
		v.class = CLASS_EXPECTED;
		verdict_reason(&v, "%s by the dpkg run",
			       d->change == CHANGE_ADDED     ? "installed"
			       : d->change == CHANGE_REMOVED ? "removed"
							     : "changed");
	}
	finding_set_verdict(&f, &v, o->count_expected);
	/* Last word: what the operator tolerates, for as long as it stays as reviewed. */
	waiver_apply(o->waivers, &f, c->waived, sizeof(c->waived));
	return emit(c, &f);
}

/* Whether @s (may be NULL) ends in @suffix: the apt hook's labels end in -pre and -post. */
static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = s ? strlen(s) : 0, m = strlen(suffix);

	return s && n >= m && !strcmp(s + n - m, suffix);
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
static int compare_probes(struct comparer *c, struct diag *reterr)
{
	const struct snap_info *before = c->o->before, *after = c->o->after;
	char note[256];
	int r = 0;

	for (size_t i = 0; i < probe_count && r >= 0; i++) {
		const struct probe *p = probe_list[i];
		bool in_before = listed(before->probes, before->nprobes, p->name);
		bool in_after = listed(after->probes, after->nprobes, p->name);
		bool un_before =
			listed(before->probes_unavailable, before->nprobes_unavailable, p->name);
		bool un_after =
			listed(after->probes_unavailable, after->nprobes_unavailable, p->name);

		if (!in_before || !in_after) {
			/*
			 * A snapshot of files only (paths named) takes no state, and a
			 * source missing on both sides (no /proc/modules) is nothing new:
			 * nothing to say.
			 */
			if ((!after->nprobes && !after->nprobes_unavailable) ||
			    (!in_before && !in_after))
				continue;
			if (un_before || un_after)
				snprintf(
					note, sizeof(note),
					"probe %s was unavailable in the %s snapshot: not compared",
					p->name, un_after ? "new" : "old");
			else
				snprintf(note, sizeof(note),
					 "probe %s ran only in the %s snapshot: not compared",
					 p->name, in_after ? "new" : "old");
			r = emit_note(c, note);
			continue;
		}
		for (const enum entry_kind *k = p->kinds; *k && r >= 0; k++) {
			struct snap_iter *a = NULL, *b = NULL;

			r = snap_iter_new(c->o->st, before->id, *k, NULL, 0, 0, &a, reterr);
			if (r >= 0)
				r = snap_iter_new(c->o->st, after->id, *k, NULL, 0, 0, &b, reterr);
			if (r >= 0)
				r = snap_compare(a, b, c->o->flags, compare_visit, c, reterr);
			snap_iter_free(a);
			snap_iter_free(b);
		}
	}
	return r;
}

/* The entries of the after side that could not be read: blind spots, listed as such. */
static int blind_spots(struct comparer *c, struct diag *reterr)
{
	const struct compare_opts *o = c->o;
	struct snap_iter *it = NULL;
	const struct entry *e;
	int r;

	r = snap_iter_new(o->st, o->after->id, ENTRY_FILE, o->roots, o->nroots,
			  SNAP_ITER_ERRORS_ONLY, &it, reterr);
	while (r >= 0 && (r = snap_iter_next(it, &e, reterr)) > 0) {
		if (o->stop && *o->stop) {
			r = -ECANCELED;
			break;
		}
		if (c->sink->blind_spot) {
			r = c->sink->blind_spot(e, c->sink->userdata);
			if (r < 0)
				c->sink_err = r;
		}
	}
	snap_iter_free(it);
	return r < 0 ? r : 0;
}

/*
 * Why packages cannot explain the file changes of this comparison, and how
 * to get it; "" when they can (or the policy does not ask).
 */
static void attrib_why_not(struct comparer *c)
{
	const struct compare_opts *o = c->o;
	const struct snap_info *missing;

	if (!o->rules || !rule_set_packages(o->rules)->attribution)
		return;
	if (c->attrib && !attrib_before_missing(c->attrib))
		return;
	/* attrib_open() gives none when the after side has no package data. */
	missing = c->attrib ? o->before : o->after;
	snprintf(c->attrib_note, sizeof(c->attrib_note),
		 "file changes are not attributed to packages: snapshot #%lld recorded no "
		 "package data (it was taken of PATHs, or without the package probe); "
		 "snapshots taken without PATHs, or with --probes package, record it",
		 (long long)missing->id);
}

int compare_snapshots(const struct compare_opts *o, const struct compare_sink *sink,
		      struct diag *reterr)
{
	struct snap_iter *it_before = NULL, *it_after = NULL;
	struct comparer c = { .o = o, .sink = sink, .explain = { .rootfd = -1 } };
	int r;

	live_init(&c.live, o->rootfd);
	c.dpkg_run = o->before->purpose == SNAP_PURPOSE_UPGRADE &&
		     o->after->purpose == SNAP_PURPOSE_UPGRADE &&
		     has_suffix(o->before->label, "-pre") && has_suffix(o->after->label, "-post") &&
		     o->before->id < o->after->id;
	if (o->rules) {
		r = attrib_open(o->st, o->before, o->after, o->rules, &c.attrib, reterr);
		if (r < 0)
			goto out;
		attrib_why_not(&c);
		if (c.attrib && !attrib_before_missing(c.attrib)) {
			r = explain_open(&c.explain, o->st, o->before, o->after, o->rules,
					 o->rootfd, c.attrib, &c.live, reterr);
			if (r < 0)
				goto out;
		}
	}
	r = events_open(o->st, o->before, o->after, &c.events, reterr);
	if (r < 0)
		goto out;
	r = restored_load(o->st, &c.restored, reterr);
	if (r < 0)
		goto out;
	if (o->since_run) {
		r = novelty_load(o->st, o->since_run, &c.novelty, reterr);
		if (r < 0)
			goto out;
	}
	r = snap_iter_new(o->st, o->before->id, ENTRY_FILE, o->roots, o->nroots, 0, &it_before,
			  reterr);
	if (r >= 0)
		r = snap_iter_new(o->st, o->after->id, ENTRY_FILE, o->roots, o->nroots, 0,
				  &it_after, reterr);
	if (r >= 0)
		r = snap_compare(it_before, it_after, o->flags, compare_visit, &c, reterr);
	if (r >= 0)
		r = compare_probes(&c, reterr);
	if (r >= 0)
		r = blind_spots(&c, reterr);
	if (r >= 0 && c.novelty) {
		r = novelty_resolved(o->st, o->since_run, c.novelty, sink, reterr);
		if (r < 0 && !reterr->msg[0])
			c.sink_err = r;
	}
	if (r < 0 && c.attrib_err && !c.sink_err && r != -ECANCELED)
		r = diag_set(reterr, r, "cannot attribute changes to packages: %s", strerror(-r));
out:
	snap_iter_free(it_before);
	snap_iter_free(it_after);
	explain_close(&c.explain);
	events_free(c.events);
	novelty_free(c.novelty);
	restored_free(c.restored);
	attrib_free(c.attrib);
	live_release(&c.live);
	return r < 0 ? r : 0;
}
