/*
 * rule_set_explain(): how the policy treats one entry, and why.
 *
 * The answer is what the matcher decides (rule_set_match_kind(),
 * rule_set_excluded_kind()), and the reasons around it are found the slow
 * way, by testing every rule of the kind in order: one entry is explained
 * at a time, and the slow way cannot disagree with itself about which rules
 * match. The two must name the same rule; a test holds them to it.
 */
#include "rules/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/pattern.h"
#include "scanner/probe.h"
#include "common/banned.h"

#define KEY_BUF 512

void rule_explanation_release(struct rule_explanation *ex)
{
	free(ex->overridden);
	memset(ex, 0, sizeof(*ex));
}

/* Whether the root @root (no trailing '/' but for "/") is @path or above it. */
static bool under_root(const char *root, const char *path, size_t len)
{
	size_t rlen = strlen(root);

	if (rlen == 1 && root[0] == '/')
		return true;
	return len >= rlen && memcmp(root, path, rlen) == 0 && (len == rlen || path[rlen] == '/');
}

/* The first exclusion of the kind that takes @k (the key as its patterns see it). */
static void find_exclusion(const struct rule_set *rs, enum entry_kind kind, const char *k,
			   size_t klen, struct rule_explanation *ex)
{
	if (kind == ENTRY_FILE)
		for (size_t i = 0; i < rs->scan_excl.n; i++)
			if (pattern_match_tree(rs->scan_excl.pats[i], k, klen)) {
				ex->excluded_pattern = rs->scan_excl.texts[i];
				return;
			}
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->kind == kind && r->exclude && pattern_match_tree(r->pat, k, klen)) {
			ex->excluded_by = r;
			return;
		}
	}
}

int rule_set_explain(const struct rule_set *rs, enum entry_kind kind, const char *key, size_t len,
		     struct rule_explanation *ret)
{
	struct rule_explanation ex = { 0 };
	const struct rule *last = NULL;
	char buf[KEY_BUF], *heap = NULL;
	const char *k;
	size_t klen, n = 0;

	if ((unsigned)kind > ENTRY__KIND_MAX || !entry_kind_name(kind))
		return -EINVAL;
	if (kind == ENTRY_FILE) {
		k = key;
		klen = len;
	} else {
		k = rule_kind_key(kind, key, len, buf, sizeof(buf), &heap, &klen);
		if (!k)
			return -ENOMEM;
	}

	/* Every rule of the kind that matches, in file order: the last one wins. */
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->kind == kind && !r->exclude && pattern_match(r->pat, k, klen))
			n++;
	}
	ex.overridden = calloc(n ? n : 1, sizeof(*ex.overridden));
	if (!ex.overridden) {
		free(heap);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (r->kind != kind || r->exclude || !pattern_match(r->pat, k, klen))
			continue;
		if (last)
			ex.overridden[ex.noverridden++] = last;
		last = r;
	}

	ex.excluded = rule_set_excluded_kind(rs, kind, key, len);
	if (ex.excluded) {
		find_exclusion(rs, kind, k, klen, &ex);
		ex.unless_excluded = last;
		ex.noverridden = 0;
	} else {
		ex.rule = last;
	}

	if (kind == ENTRY_FILE) {
		ex.below = rule_set_may_match_below(rs, key, len);
		ex.content = rule_set_content(rs, key, len, &ex.content_rule);
		for (size_t i = 0; i < rs->scan.nroots && !ex.in_roots; i++)
			ex.in_roots = under_root(rs->scan.roots[i], key, len);
	} else {
		const struct probe *p = probe_for_kind(kind);
		ex.probe = p ? p->name : NULL;
		for (size_t i = 0; p && i < rs->scan.nprobes; i++)
			ex.probe_runs = ex.probe_runs || !strcmp(rs->scan.probes[i], p->name);
	}
	free(heap);
	*ret = ex;
	return 0;
}
