/*
 * rule_set_lint(): what a policy that loads may still get wrong.
 *
 * A policy without a single `kind:` rule loaded, checked `ok`, and recorded
 * no users or packages at all: every entry that no rule covers is dropped.
 * The lint finds such policies, and rules that can never decide anything:
 *
 *     probes     an enabled probe with a kind that no rule covers
 *     roots      a rule of files that lies outside every scan root
 *     excluded   a rule everything of which is excluded (exclusions win)
 *     shadowed   a rule that a later rule of its kind matches wherever it
 *                matches (the last match wins)
 *
 * Every warning must be true: only the sure cases are found, from what
 * patterns are (common/pattern.h). Each pattern covers a set of keys that
 * is known exactly for a literal (a path and everything below it, or one
 * path) and bounded for a glob (at or below its anchor, strictly below when
 * it does not match the anchor itself); a later rule covers an earlier one
 * when its set surely holds the earlier one's. The candidates are looked up
 * by anchor along the ancestors of the earlier rule's anchor, so a policy
 * of 100,000 rules is linted in time proportional to it.
 *
 * Rules that come from an extended policy are not warned about (a local
 * rule that overrides one of them is what extending is for); the probes
 * are, since what they lose is lost whoever wrote the policy.
 */
#include "rules/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/pattern.h"
#include "scanner/probe.h"
#include "common/banned.h"

/* ---- the keys a pattern covers ---- */

/*
 * A set of keys: everything (a basename glob), a literal path and what is
 * below it (tree), that path only (one), or only what is strictly below it
 * (below). "Other" is a glob whose set is none of these: it is tested
 * against single keys only.
 */
enum cover_type { COVER_ALL, COVER_TREE, COVER_ONE, COVER_BELOW, COVER_OTHER };

struct cover {
	enum cover_type type;
	const char *path; /* the anchor: "" for the root */
	size_t len;
};

/* Whether @a is @b or an ancestor of it, component-wise ("" is the root). */
static bool contains(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == 0 ||
	       (blen >= alen && memcmp(a, b, alen) == 0 && (blen == alen || b[alen] == '/'));
}

/* The anchor as a path that patterns match: "/" for the root. */
static void anchor_path(const struct cover *c, const char **ret, size_t *ret_len)
{
	*ret = c->len ? c->path : "/";
	*ret_len = c->len ? c->len : 1;
}

/* Whether @pat is exactly "P/ **" (without the space): everything strictly below P. */
static bool is_all_below(const struct pattern *pat, const char *anchor, size_t alen)
{
	const char *text = pattern_text(pat);

	return pattern_kind(pat) == PATTERN_PATH && strlen(text) == alen + 3 &&
	       memcmp(text, anchor, alen) == 0 && !strcmp(text + alen, "/**");
}

/*
 * The keys @pat matches, as a rule (@tree false) or as an exclusion, which
 * takes the subtree of what it matches (@tree true).
 */
static struct cover cover_of(const struct pattern *pat, bool tree)
{
	struct cover c = { COVER_ALL, "", 0 };
	const char *p;
	size_t n;

	if (!pattern_anchor(pat, &c.path, &c.len))
		return c; /* basename globs, "**" + "/...": anywhere */
	switch (pattern_kind(pat)) {
	case PATTERN_PREFIX:
		c.type = COVER_TREE;
		break;
	case PATTERN_EXACT:
		c.type = tree ? COVER_TREE : COVER_ONE;
		break;
	default:
		if (is_all_below(pat, c.path, c.len)) {
			c.type = COVER_BELOW;
		} else if (tree) {
			/* What an exclusion glob takes is not a literal set. */
			c.type = COVER_OTHER;
		} else {
			/* A glob stays at or below its anchor; strictly below unless it matches it.
			 */
			anchor_path(&c, &p, &n);
			c.type = pattern_match(pat, p, n) ? COVER_TREE : COVER_BELOW;
		}
		break;
	}
	return c;
}

/*
 * Whether the keys of @outer (a rule or an exclusion, by type and anchor)
 * hold all of @inner's, where @outer is a literal tree or "everything
 * below": the test of one candidate found by anchor.
 */
static bool holds(enum cover_type outer, const char *p, size_t plen, const struct cover *inner)
{
	bool strictly = contains(p, plen, inner->path, inner->len) && plen != inner->len;

	switch (outer) {
	case COVER_TREE:
		if (inner->type == COVER_ALL)
			return plen == 0;
		return contains(p, plen, inner->path, inner->len);
	case COVER_BELOW:
		if (inner->type == COVER_BELOW)
			return contains(p, plen, inner->path, inner->len);
		return inner->type != COVER_ALL && strictly;
	case COVER_ONE:
		return inner->type == COVER_ONE && plen == inner->len &&
		       memcmp(p, inner->path, plen) == 0;
	default:
		return false;
	}
}

/* ---- a table of candidates by (what, kind, anchor) ---- */

enum slot_what {
	SLOT_TREE,   /* rules: a literal pattern */
	SLOT_BELOW,  /* rules: "P/ **" */
	SLOT_ONE,    /* rules: "=P" */
	SLOT_XTREE,  /* exclusions: a literal pattern, with or without '=' */
	SLOT_XBELOW, /* exclusions: "P/ **" */
	SLOT_TEXT,   /* rules: any pattern, by its whole text */
};

struct slot {
	const char *key; /* borrowed from a pattern; NULL: empty */
	size_t len;
	unsigned char what, kind;
	/* rules: the last rule number; exclusions: the first, or -1 - n for scan.exclude[n] */
	int64_t value;
};

struct table {
	struct slot *slots;
	size_t mask;
};

static uint64_t slot_hash(enum slot_what what, enum entry_kind kind, const char *key, size_t len)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);

	h = (h ^ (unsigned)what) * UINT64_C(0x100000001b3);
	h = (h ^ (unsigned)kind) * UINT64_C(0x100000001b3);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)key[i]) * UINT64_C(0x100000001b3);
	return h;
}

static struct slot *table_slot(const struct table *t, enum slot_what what, enum entry_kind kind,
			       const char *key, size_t len)
{
	for (size_t i = slot_hash(what, kind, key, len) & t->mask;; i = (i + 1) & t->mask) {
		struct slot *s = &t->slots[i];
		if (!s->key || (s->what == what && s->kind == kind && s->len == len &&
				memcmp(s->key, key, len) == 0))
			return s;
	}
}

/* Note @value under (what, kind, anchor): the largest for rules, the first for exclusions. */
static void table_put(struct table *t, enum slot_what what, enum entry_kind kind,
		      const struct cover *c, int64_t value)
{
	struct slot *s = table_slot(t, what, kind, c->path, c->len);

	if (!s->key)
		*s = (struct slot){ c->path, c->len, (unsigned char)what, (unsigned char)kind,
				    value };
	else if ((what < SLOT_XTREE || what == SLOT_TEXT) && value > s->value)
		s->value = value;
}

static const struct slot *table_get(const struct table *t, enum slot_what what,
				    enum entry_kind kind, const char *key, size_t len)
{
	const struct slot *s = table_slot(t, what, kind, key, len);

	return s->key ? s : NULL;
}

/*
 * Index every rule and exclusion that covers a literal set. Returns 0 or
 * -ENOMEM.
 */
static int table_build(struct table *t, const struct rule_set *rs)
{
	size_t n = 16;

	/* Every rule twice at most (by text, and by anchor), every scan exclusion once. */
	while (n < 2 * (2 * rs->nrules + rs->scan_excl.n + 1))
		n *= 2;
	t->slots = calloc(n, sizeof(*t->slots));
	if (!t->slots)
		return -ENOMEM;
	t->mask = n - 1;
	for (size_t i = 0; i < rs->scan_excl.n; i++) {
		struct cover c = cover_of(rs->scan_excl.pats[i], true);
		if (c.type == COVER_TREE || c.type == COVER_BELOW)
			table_put(t, c.type == COVER_TREE ? SLOT_XTREE : SLOT_XBELOW, ENTRY_FILE,
				  &c, -1 - (int64_t)i);
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		struct cover c = cover_of(r->pat, r->exclude);
		const char *text = pattern_text(r->pat);

		if (!r->exclude)
			table_put(t, SLOT_TEXT, r->kind, &(struct cover){ 0, text, strlen(text) },
				  (int64_t)i);
		if (r->exclude && (c.type == COVER_TREE || c.type == COVER_BELOW))
			table_put(t, c.type == COVER_TREE ? SLOT_XTREE : SLOT_XBELOW, r->kind, &c,
				  (int64_t)i);
		else if (!r->exclude && pattern_kind(r->pat) == PATTERN_PREFIX)
			table_put(t, SLOT_TREE, r->kind, &c, (int64_t)i);
		else if (!r->exclude && pattern_kind(r->pat) == PATTERN_EXACT)
			table_put(t, SLOT_ONE, r->kind, &c, (int64_t)i);
		else if (!r->exclude && c.type == COVER_BELOW &&
			 is_all_below(r->pat, c.path, c.len))
			table_put(t, SLOT_BELOW, r->kind, &c, (int64_t)i);
	}
	return 0;
}

/*
 * The candidate of @what among the ancestors-or-self of @c's anchor (for a
 * set that may be anywhere: the root only) whose set holds @c: for rules,
 * the one with the largest number above @after (-1 when none); for
 * exclusions any one (INT64_MIN when none).
 */
static int64_t find_cover(const struct table *t, enum slot_what what, enum entry_kind kind,
			  const struct cover *c, int64_t after)
{
	enum cover_type outer = what == SLOT_TREE || what == SLOT_XTREE ? COVER_TREE
				: what == SLOT_ONE                      ? COVER_ONE
									: COVER_BELOW;
	bool excl = what >= SLOT_XTREE;
	int64_t best = excl ? INT64_MIN : -1;
	size_t end = c->type == COVER_ALL ? 0 : c->len;

	/* The root (""), every ancestor ("/etc" of "/etc/ssh"), the anchor itself. */
	for (size_t i = 0; i <= end; i++) {
		const struct slot *s;

		if (i > 0 && i < end && c->path[i] != '/')
			continue;
		s = table_get(t, what, kind, c->path, i);
		if (!s || !holds(outer, c->path, i, c))
			continue;
		if (excl)
			return s->value;
		if (s->value > after && s->value > best)
			best = s->value;
	}
	return best;
}

/* ---- warnings ---- */

struct warning {
	struct diag d;
	unsigned fileno;
	size_t seq;
};

struct lint {
	const struct rule_set *rs;
	struct warning *w;
	size_t n, alloc;
	int err;
};

static unsigned file_number(const struct rule_set *rs, const char *file)
{
	for (size_t i = 0; i < rs->nfiles; i++)
		if (rs->files[i] == file)
			return (unsigned)i;
	return 0;
}

__attribute__((format(printf, 5, 6))) static void
warn(struct lint *l, const char *file, unsigned line, unsigned col, const char *fmt, ...)
{
	struct warning *w;
	va_list ap;

	if (l->n == l->alloc) {
		size_t n = l->alloc ? 2 * l->alloc : 8;
		struct warning *p = realloc(l->w, n * sizeof(*p));
		if (!p) {
			l->err = -ENOMEM;
			return;
		}
		l->w = p;
		l->alloc = n;
	}
	w = &l->w[l->n];
	memset(w, 0, sizeof(*w));
	va_start(ap, fmt);
	vsnprintf(w->d.msg, sizeof(w->d.msg), fmt, ap);
	va_end(ap);
	w->d.file = file ? file : l->rs->source;
	w->d.line = line;
	w->d.col = col;
	w->fileno = file_number(l->rs, w->d.file);
	w->seq = l->n++;
}

static int warning_cmp(const void *a, const void *b)
{
	const struct warning *x = a, *y = b;

	if (x->fileno != y->fileno)
		return x->fileno < y->fileno ? -1 : 1;
	if (x->d.line != y->d.line)
		return x->d.line < y->d.line ? -1 : 1;
	if (x->d.col != y->d.col)
		return x->d.col < y->d.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* "line N", or "'FILE' line N" when @other is in another file than @r. */
static const char *where(const struct rule *r, const struct rule *other, char *buf, size_t size)
{
	if (other->file == r->file)
		snprintf(buf, size, "line %u", other->line);
	else
		snprintf(buf, size, "'%s' line %u", other->file, other->line);
	return buf;
}

static const char *rule_text(const struct rule *r)
{
	return r->text ? r->text : pattern_text(r->pat);
}

/* ---- the checks ---- */

/* An enabled probe whose entries no rule of their kind covers is recorded in vain. */
static void lint_probes(struct lint *l)
{
	const struct rule_set *rs = l->rs;

	for (size_t i = 0; i < probe_count; i++) {
		const struct probe *p = probe_list[i];
		const struct rule_pos *pos = rs->probe_pos ? &rs->probe_pos[i] : NULL;
		char missing[128] = "", add[160] = "";
		size_t nkinds = 0, nmissing = 0, off = 0, aoff = 0;
		bool on = false;

		for (size_t j = 0; j < rs->scan.nprobes; j++)
			on = on || !strcmp(rs->scan.probes[j], p->name);
		if (!on)
			continue;
		for (const enum entry_kind *k = p->kinds; *k; k++, nkinds++) {
			if (rs->kinds[*k].nmatch > 0)
				continue;
			if (off < sizeof(missing))
				off += (size_t)snprintf(missing + off, sizeof(missing) - off,
							"%s'%s'", nmissing ? " or " : "",
							entry_kind_name(*k));
			if (aoff < sizeof(add))
				aoff += (size_t)snprintf(
					add + aoff, sizeof(add) - aoff, "%s'kind: %s'",
					nmissing ? " and one with " : "", entry_kind_name(*k));
			nmissing++;
		}
		if (!nmissing)
			continue;
		if (nmissing < nkinds)
			warn(l, pos ? pos->file : NULL, pos ? pos->line : 0, pos ? pos->col : 0,
			     "probe '%s' is enabled, but no rule covers kind %s: those entries are "
			     "not recorded (add a rule with %s)",
			     p->name, missing, add);
		else if (pos && pos->file)
			warn(l, pos->file, pos->line, pos->col,
			     "probe '%s' is enabled, but no rule covers kind %s: nothing it collects "
			     "is recorded (add a rule with %s, or drop the probe from scan.probes)",
			     p->name, missing, add);
		else
			warn(l, NULL, 0, 0,
			     "probe '%s' runs (without scan.probes every probe does), but no rule "
			     "covers kind %s: nothing it collects is recorded (add a rule with %s, or "
			     "list the probes to run in scan.probes)",
			     p->name, missing, add);
	}
}

/* A rule of files that no path under any scan root can match. */
static bool lint_outside_roots(struct lint *l, const struct rule *r)
{
	const struct rule_scan *scan = &l->rs->scan;
	char roots[96] = "";
	size_t off = 0;

	for (size_t i = 0; i < scan->nroots; i++) {
		const char *root = scan->roots[i];
		size_t len = strlen(root);
		if (pattern_match(r->pat, root, len) || pattern_may_match_below(r->pat, root, len))
			return false;
	}
	for (size_t i = 0; i < scan->nroots && i < 5 && off < sizeof(roots); i++)
		off += (size_t)snprintf(roots + off, sizeof(roots) - off, "%s%s", i ? ", " : "",
					i < 4 ? scan->roots[i] : "...");
	warn(l, r->file, r->line, r->col,
	     "rule '%s' (path %s) is outside every scan root (%s): it matches only below a root "
	     "given on the command line",
	     r->id, rule_text(r), roots);
	return true;
}

/* A rule everything of which an exclusion takes (exclusions win over every rule). */
static bool lint_excluded(struct lint *l, const struct table *t, const struct rule *r)
{
	const struct rule_set *rs = l->rs;
	struct cover c = cover_of(r->pat, false);
	int64_t by = INT64_MIN;
	char buf[200];

	if (c.type != COVER_OTHER)
		by = find_cover(t, SLOT_XTREE, r->kind, &c, 0);
	if (by == INT64_MIN && c.type != COVER_OTHER)
		by = find_cover(t, SLOT_XBELOW, r->kind, &c, 0);
	/* One path of files: the exclusion index knows, whatever the pattern. */
	if (by == INT64_MIN && c.type == COVER_ONE && r->kind == ENTRY_FILE) {
		const char *p;
		size_t n;

		anchor_path(&c, &p, &n);
		if (rule_set_excluded(rs, p, n)) {
			for (size_t i = 0; i < rs->scan_excl.n && by == INT64_MIN; i++)
				if (pattern_match_tree(rs->scan_excl.pats[i], p, n))
					by = -1 - (int64_t)i;
			for (size_t i = 0; i < rs->nrules && by == INT64_MIN; i++)
				if (rs->rules[i].exclude && rs->rules[i].kind == ENTRY_FILE &&
				    pattern_match_tree(rs->rules[i].pat, p, n))
					by = (int64_t)i;
		}
	}
	if (by == INT64_MIN)
		return false;
	if (by < 0)
		warn(l, r->file, r->line, r->col,
		     "rule '%s' never matches: everything it matches is excluded by scan.exclude "
		     "'%s'",
		     r->id, rs->scan_excl.texts[-1 - by]);
	else
		warn(l, r->file, r->line, r->col,
		     "rule '%s' never matches: everything it matches is excluded by rule '%s' (%s)",
		     r->id, rs->rules[by].id, where(r, &rs->rules[by], buf, sizeof(buf)));
	return true;
}

/* A rule that a later rule of its kind matches wherever it matches: the last match wins. */
static bool lint_shadowed(struct lint *l, const struct table *t, const struct rule *r, size_t i)
{
	const struct rule_set *rs = l->rs;
	struct cover c = cover_of(r->pat, false);
	int64_t by = -1, b;
	char buf[200];

	if (c.type != COVER_OTHER) {
		by = find_cover(t, SLOT_TREE, r->kind, &c, (int64_t)i);
		b = find_cover(t, SLOT_BELOW, r->kind, &c, (int64_t)i);
		by = b > by ? b : by;
		b = find_cover(t, SLOT_ONE, r->kind, &c, (int64_t)i);
		by = b > by ? b : by;
	}
	/* The same pattern, whatever it is. */
	const struct slot *same = table_get(t, SLOT_TEXT, r->kind, pattern_text(r->pat),
					    strlen(pattern_text(r->pat)));
	if (same && same->value > (int64_t)i && same->value > by)
		by = same->value;
	/* One path of files: the index says which rule decides it. */
	if (by < 0 && c.type == COVER_ONE && r->kind == ENTRY_FILE) {
		const struct rule *last;
		const char *p;
		size_t n;

		anchor_path(&c, &p, &n);
		last = rule_set_match(rs, p, n);
		if (last && last > r)
			by = last - rs->rules;
	}
	if (by < 0)
		return false;
	warn(l, r->file, r->line, r->col,
	     "rule '%s' never decides anything: the later rule '%s' (%s) matches all it matches, "
	     "and the last matching rule wins",
	     r->id, rs->rules[by].id, where(r, &rs->rules[by], buf, sizeof(buf)));
	return true;
}

int rule_set_lint(const struct rule_set *rs, rule_problem_fn *warn_fn, void *userdata)
{
	struct lint l = { .rs = rs };
	struct table t = { 0 };
	int r;

	r = table_build(&t, rs);
	if (r < 0)
		return r;
	lint_probes(&l);
	for (size_t i = 0; i < rs->nrules && l.err == 0; i++) {
		const struct rule *rule = &rs->rules[i];

		if (rule->exclude || rule->inherited)
			continue;
		if (rule->kind == ENTRY_FILE && lint_outside_roots(&l, rule))
			continue;
		if (lint_excluded(&l, &t, rule))
			continue;
		lint_shadowed(&l, &t, rule, i);
	}
	free(t.slots);
	if (l.err < 0) {
		free(l.w);
		return l.err;
	}
	if (l.n > 1) /* qsort() of a null pointer is undefined, even for no element */
		qsort(l.w, l.n, sizeof(*l.w), warning_cmp);
	for (size_t i = 0; warn_fn && i < l.n; i++)
		warn_fn(&l.w[i].d, userdata);
	free(l.w);
	return (int)l.n;
}
