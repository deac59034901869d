/*
 * Which rule covers a path, fast.
 *
 * Every pattern has an anchor (common/pattern.h): the literal directory that
 * all the paths it matches are at or below ("/etc" for "/etc", "=/etc" and
 * "/etc/ *.conf" without the space; "" for "/" and "/ **"). A path can only
 * match patterns anchored at one of its ancestors or at itself, so the index
 * is a hash table from anchor to the patterns anchored there:
 *
 *     "/usr/share/doc/pkg/README"   ancestors-or-self:  ""  "/usr"  "/usr/share"
 *                                                       "/usr/share/doc"  ...
 *     one FNV-1a hash over the path, looked up at every '/': depth + 2 probes
 *
 * Patterns without an anchor (basename globs like "*.swp") sit in a
 * "floating" list that every path is tested against.
 *
 * The last matching rule wins, so each list is kept in descending rule
 * order and the search stops a list at the first match, or as soon as its
 * next rule number is below the best match found so far. A prefix pattern
 * found through an ancestor needs no test at all: it matches by
 * construction.
 *
 * Exclusions (the scan section's `exclude` and rules with `exclude: true`)
 * live in a second index of the same shape and take the whole subtree.
 *
 * All of the above is for files. The rules of the other kinds (packages,
 * users, sysctls...) are few: each kind keeps its own list of rule numbers,
 * descending, tested one by one against the key (mount keys as paths,
 * other keys as "/" + key, the form their patterns were compiled for).
 * Last, the scope of the unowned-file report of the packages section.
 */
#include "rules/internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/pattern.h"
#include "common/banned.h"

#define FNV_BASIS UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME UINT64_C(0x100000001b3)

static uint64_t fnv_add(uint64_t h, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= FNV_PRIME;
	}
	return h;
}

static struct rule_bucket *index_slot(const struct rule_index *idx, const char *key, size_t len,
				      uint64_t hash)
{
	for (size_t i = hash & idx->mask;; i = (i + 1) & idx->mask) {
		struct rule_bucket *b = &idx->slots[i];
		if (!b->key || (b->hash == hash && b->len == len && memcmp(b->key, key, len) == 0))
			return b;
	}
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

struct anchor_key {
	const char *key;
	size_t len;
};

static int anchor_key_cmp(const void *a, const void *b)
{
	const struct anchor_key *x = a, *y = b;

	return key_cmp(x->key, x->len, y->key, y->len);
}

/* Append rule number @id to bucket @b, doubling its room when full. */
static int bucket_add(struct rule_bucket *b, uint32_t id)
{
	if (b->n == b->alloc) {
		size_t alloc = b->alloc ? 2 * b->alloc : 4;
		uint32_t *ids = realloc(b->ids, alloc * sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		b->ids = ids;
		b->alloc = alloc;
	}
	b->ids[b->n++] = id;
	return 0;
}

static int index_build(struct rule_index *idx, struct pattern *const *pats, size_t n)
{
	size_t nslots = 8;
	const char *anchor;
	size_t alen;

	memset(idx, 0, sizeof(*idx));
	idx->pats = pats;
	while (nslots < 2 * n)
		nslots *= 2;
	idx->slots = calloc(nslots, sizeof(*idx->slots));
	idx->floating = calloc(n ? n : 1, sizeof(*idx->floating));
	idx->keys = calloc(n ? n : 1, sizeof(*idx->keys));
	idx->key_lens = calloc(n ? n : 1, sizeof(*idx->key_lens));
	if (!idx->slots || !idx->floating || !idx->keys || !idx->key_lens)
		return -ENOMEM;
	idx->mask = nslots - 1;

	/* Descending, so that each list comes out in descending order. */
	for (size_t i = n; i-- > 0;) {
		if (!pats[i])
			continue;
		if (!pattern_anchor(pats[i], &anchor, &alen)) {
			idx->floating[idx->nfloating++] = (uint32_t)i;
			continue;
		}
		uint64_t h = fnv_add(FNV_BASIS, anchor, alen);
		struct rule_bucket *b = index_slot(idx, anchor, alen, h);
		if (!b->key) {
			b->key = anchor;
			b->len = alen;
			b->hash = h;
			idx->keys[idx->nkeys] = anchor;
			idx->key_lens[idx->nkeys++] = alen;
		}
		if (bucket_add(b, (uint32_t)i) < 0)
			return -ENOMEM;
	}

	/*
	 * Sort the anchors (distinct, so stability does not matter). An
	 * insertion sort made 40,000 rules take seconds: they arrive in
	 * descending rule order, often the reverse of byte order.
	 */
	if (idx->nkeys > 1) {
		struct anchor_key *sorted = calloc(idx->nkeys, sizeof(*sorted));
		if (!sorted)
			return -ENOMEM;
		for (size_t i = 0; i < idx->nkeys; i++)
			sorted[i] = (struct anchor_key){ idx->keys[i], idx->key_lens[i] };
		qsort(sorted, idx->nkeys, sizeof(*sorted), anchor_key_cmp);
		for (size_t i = 0; i < idx->nkeys; i++) {
			idx->keys[i] = sorted[i].key;
			idx->key_lens[i] = sorted[i].len;
		}
		free(sorted);
	}
	return 0;
}

void rule_index_release(struct rule_index *idx)
{
	if (idx->slots)
		for (size_t i = 0; i <= idx->mask; i++)
			free(idx->slots[i].ids);
	free(idx->slots);
	free(idx->floating);
	free(idx->keys);
	free(idx->key_lens);
	memset(idx, 0, sizeof(*idx));
}

int rule_set_index(struct rule_set *rs)
{
	size_t nmatch[ENTRY__KIND_MAX + 1] = { 0 }, nexcl[ENTRY__KIND_MAX + 1] = { 0 };
	int r;

	rs->rule_pats = calloc(rs->nrules ? rs->nrules : 1, sizeof(*rs->rule_pats));
	rs->excl_pats = calloc(rs->scan_excl.n + rs->nrules + 1, sizeof(*rs->excl_pats));
	if (!rs->rule_pats || !rs->excl_pats)
		return -ENOMEM;
	for (size_t i = 0; i < rs->scan_excl.n; i++)
		rs->excl_pats[rs->nexcl++] = rs->scan_excl.pats[i];

	/* The other kinds' lists: counted, then filled in descending order. */
	for (size_t i = 0; i < rs->nrules; i++) {
		if (rs->rules[i].exclude)
			nexcl[rs->rules[i].kind]++;
		else
			nmatch[rs->rules[i].kind]++;
	}
	for (size_t k = 0; k <= ENTRY__KIND_MAX; k++) {
		struct rule_kind_rules *kr = &rs->kinds[k];

		if (k == ENTRY_FILE)
			continue;
		kr->match = calloc(nmatch[k] ? nmatch[k] : 1, sizeof(*kr->match));
		kr->excl = calloc(nexcl[k] ? nexcl[k] : 1, sizeof(*kr->excl));
		if (!kr->match || !kr->excl)
			return -ENOMEM;
	}
	for (size_t i = rs->nrules; i-- > 0;) {
		const struct rule *rule = &rs->rules[i];
		struct rule_kind_rules *kr = &rs->kinds[rule->kind];

		if (rule->kind == ENTRY_FILE)
			continue;
		if (rule->exclude)
			kr->excl[kr->nexcl++] = (uint32_t)i;
		else
			kr->match[kr->nmatch++] = (uint32_t)i;
	}
	for (size_t i = 0; i < rs->nrules; i++) {
		if (rs->rules[i].kind != ENTRY_FILE)
			continue;
		if (rs->rules[i].exclude)
			rs->excl_pats[rs->nexcl++] = rs->rules[i].pat;
		else
			rs->rule_pats[i] = rs->rules[i].pat;
	}
	r = index_build(&rs->rules_index, rs->rule_pats, rs->nrules);
	if (r < 0)
		return r;
	r = rule_content_index(rs);
	if (r < 0)
		return r;
	return index_build(&rs->excl_index, rs->excl_pats, rs->nexcl);
}

/*
 * Call @fn on the bucket of every ancestor-or-self of @path that has one,
 * root first. Stops and returns true when @fn does.
 */
typedef bool bucket_fn(const struct rule_index *idx, const struct rule_bucket *b, const char *path,
		       size_t len, void *userdata);

static bool index_walk(const struct rule_index *idx, const char *path, size_t len, bucket_fn *fn,
		       void *userdata)
{
	uint64_t h = FNV_BASIS;
	const struct rule_bucket *b;
	/* The root's anchor is "", and "/" has no other ancestor. */
	size_t walk = len == 1 && path[0] == '/' ? 0 : len;

	b = index_slot(idx, path, 0, h);
	if (b->key && fn(idx, b, path, len, userdata))
		return true;
	for (size_t i = 0; i < walk; i++) {
		if (path[i] == '/' && i > 0) {
			b = index_slot(idx, path, i, h);
			if (b->key && fn(idx, b, path, len, userdata))
				return true;
		}
		h = (h ^ (unsigned char)path[i]) * FNV_PRIME;
	}
	if (walk > 0) {
		b = index_slot(idx, path, walk, h);
		if (b->key && fn(idx, b, path, len, userdata))
			return true;
	}
	return false;
}

/* A pattern found through an ancestor bucket: prefixes need no test. */
static bool quick_match(const struct pattern *pat, const char *path, size_t len)
{
	return pattern_kind(pat) == PATTERN_PREFIX || pattern_match(pat, path, len);
}

static void best_in(const struct rule_index *idx, const uint32_t *ids, size_t n, const char *path,
		    size_t len, int64_t *best)
{
	for (size_t i = 0; i < n && (int64_t)ids[i] > *best; i++) {
		if (quick_match(idx->pats[ids[i]], path, len)) {
			*best = ids[i];
			return;
		}
	}
}

static bool bucket_excludes(const struct rule_index *idx, const struct rule_bucket *b,
			    const char *path, size_t len, void *userdata)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct pattern *pat = idx->pats[b->ids[i]];
		if (pattern_kind(pat) == PATTERN_PREFIX || pattern_kind(pat) == PATTERN_EXACT ||
		    pattern_match_tree(pat, path, len))
			return true;
	}
	return false;
}

bool rule_set_excluded(const struct rule_set *rs, const char *path, size_t len)
{
	const struct rule_index *idx = &rs->excl_index;

	if (rs->nexcl == 0)
		return false;
	for (size_t i = 0; i < idx->nfloating; i++)
		if (pattern_match_tree(idx->pats[idx->floating[i]], path, len))
			return true;
	return index_walk(idx, path, len, bucket_excludes, NULL);
}

/*
 * The buckets of a path's ancestors, kept so that they can be searched
 * deepest first: deeper anchors usually belong to later, more specific
 * rules, and once one matches, every list stops at its first lower rule.
 */
#define DEEPEST_KEPT 32

struct match_state {
	const struct rule_bucket *kept[DEEPEST_KEPT];
	size_t n; /* buckets seen; the last DEEPEST_KEPT are in kept[n % DEEPEST_KEPT] */
	int64_t best;
};

static bool bucket_keep(const struct rule_index *idx, const struct rule_bucket *b, const char *path,
			size_t len, void *userdata)
{
	struct match_state *st = userdata;
	const struct rule_bucket **slot = &st->kept[st->n % DEEPEST_KEPT];

	/* A very deep path: search the shallowest bucket now to make room. */
	if (st->n >= DEEPEST_KEPT)
		best_in(idx, (*slot)->ids, (*slot)->n, path, len, &st->best);
	*slot = b;
	st->n++;
	return false;
}

const struct rule *rule_set_match(const struct rule_set *rs, const char *path, size_t len)
{
	const struct rule_index *idx = &rs->rules_index;
	struct match_state st = { .n = 0, .best = -1 };

	if (rule_set_excluded(rs, path, len))
		return NULL;
	index_walk(idx, path, len, bucket_keep, &st);
	for (size_t i = st.n, stop = st.n > DEEPEST_KEPT ? st.n - DEEPEST_KEPT : 0; i-- > stop;) {
		const struct rule_bucket *b = st.kept[i % DEEPEST_KEPT];
		best_in(idx, b->ids, b->n, path, len, &st.best);
	}
	best_in(idx, idx->floating, idx->nfloating, path, len, &st.best);
	return st.best < 0 ? NULL : &rs->rules[st.best];
}

static bool bucket_may_match_below(const struct rule_index *idx, const struct rule_bucket *b,
				   const char *path, size_t len, void *userdata)
{
	for (size_t i = 0; i < b->n; i++)
		if (pattern_may_match_below(idx->pats[b->ids[i]], path, len))
			return true;
	return false;
}

bool rule_set_may_match_below(const struct rule_set *rs, const char *path, size_t len)
{
	const struct rule_index *idx = &rs->rules_index;
	size_t lo = 0, hi = idx->nkeys;

	if (idx->nfloating > 0)
		return true;
	/* Anchored at or above the directory, and able to reach below it. */
	if (index_walk(idx, path, len, bucket_may_match_below, NULL))
		return true;

	/* Anchored strictly below: the first anchor after "dir/" in byte order. */
	if (len == 1 && path[0] == '/')
		len = 0;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const char *k = idx->keys[mid];
		size_t kl = idx->key_lens[mid];
		/* Is k before "dir/"? */
		int c = memcmp(k, path, kl < len ? kl : len);
		bool before = c < 0 || (c == 0 && (kl <= len || k[len] < '/'));
		if (before)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < idx->nkeys && idx->key_lens[lo] > len &&
	       memcmp(idx->keys[lo], path, len) == 0 && idx->keys[lo][len] == '/';
}

/* ---- the other kinds ---- */

const char *rule_kind_key(enum entry_kind kind, const char *key, size_t len, char *buf, size_t size,
			  char **ret_heap, size_t *ret_len)
{
	char *p = buf;

	*ret_heap = NULL;
	if (kind == ENTRY_MOUNT && len > 0 && key[0] == '/') {
		/* Keep "/" whole; drop a trailing '/' as paths have none. */
		while (len > 1 && key[len - 1] == '/')
			len--;
		*ret_len = len;
		return key;
	}
	if (len + 1 > size) {
		p = *ret_heap = malloc(len + 1);
		if (!p)
			return NULL;
	}
	p[0] = '/';
	memcpy(p + 1, key, len);
	*ret_len = len + 1;
	return p;
}

#define KEY_BUF 512

static bool kind_excluded(const struct rule_set *rs, const struct rule_kind_rules *kr,
			  const char *key, size_t len)
{
	for (size_t i = 0; i < kr->nexcl; i++)
		if (pattern_match_tree(rs->rules[kr->excl[i]].pat, key, len))
			return true;
	return false;
}

bool rule_set_excluded_kind(const struct rule_set *rs, enum entry_kind kind, const char *key,
			    size_t len)
{
	const struct rule_kind_rules *kr;
	char buf[KEY_BUF], *heap;
	const char *k;
	size_t klen;
	bool excluded;

	if (kind == ENTRY_FILE)
		return rule_set_excluded(rs, key, len);
	if ((unsigned)kind > ENTRY__KIND_MAX || !entry_kind_name(kind))
		return false;
	kr = &rs->kinds[kind];
	if (kr->nexcl == 0)
		return false;
	k = rule_kind_key(kind, key, len, buf, sizeof(buf), &heap, &klen);
	excluded = k && kind_excluded(rs, kr, k, klen);
	free(heap);
	return excluded;
}

const struct rule *rule_set_match_kind(const struct rule_set *rs, enum entry_kind kind,
				       const char *key, size_t len)
{
	const struct rule_kind_rules *kr;
	const struct rule *found = NULL;
	char buf[KEY_BUF], *heap;
	const char *k;
	size_t klen;

	if (kind == ENTRY_FILE)
		return rule_set_match(rs, key, len);
	if ((unsigned)kind > ENTRY__KIND_MAX || !entry_kind_name(kind))
		return NULL;
	kr = &rs->kinds[kind];
	if (kr->nmatch == 0)
		return NULL;
	k = rule_kind_key(kind, key, len, buf, sizeof(buf), &heap, &klen);
	if (k && !kind_excluded(rs, kr, k, klen)) {
		for (size_t i = 0; i < kr->nmatch && !found; i++)
			if (pattern_match(rs->rules[kr->match[i]].pat, k, klen))
				found = &rs->rules[kr->match[i]];
	}
	free(heap);
	return found;
}

/* ---- the packages section ---- */

static bool patterns_match_tree(const struct rule_patterns *pl, const char *path, size_t len)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pattern_match_tree(pl->pats[i], path, len))
			return true;
	return false;
}

bool rule_set_unowned_scope(const struct rule_set *rs, const char *path, size_t len)
{
	return patterns_match_tree(&rs->unowned, path, len) &&
	       !patterns_match_tree(&rs->unowned_excl, path, len);
}

bool rule_set_trigger_output(const struct rule_set *rs, const char *path, size_t len)
{
	return patterns_match_tree(&rs->trigger_outputs, path, len);
}

/* ---- the reference implementations ---- */

bool rule_set_excluded_slow(const struct rule_set *rs, const char *path, size_t len)
{
	for (size_t i = 0; i < rs->nexcl; i++)
		if (pattern_match_tree(rs->excl_pats[i], path, len))
			return true;
	return false;
}

const struct rule *rule_set_match_slow(const struct rule_set *rs, const char *path, size_t len)
{
	if (rule_set_excluded_slow(rs, path, len))
		return NULL;
	for (size_t i = rs->nrules; i-- > 0;)
		if (rs->rules[i].kind == ENTRY_FILE && !rs->rules[i].exclude &&
		    pattern_match(rs->rules[i].pat, path, len))
			return &rs->rules[i];
	return NULL;
}

bool rule_set_may_match_below_slow(const struct rule_set *rs, const char *path, size_t len)
{
	for (size_t i = 0; i < rs->nrules; i++)
		if (rs->rules[i].kind == ENTRY_FILE && !rs->rules[i].exclude &&
		    pattern_may_match_below(rs->rules[i].pat, path, len))
			return true;
	return false;
}
