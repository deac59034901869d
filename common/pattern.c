/*
 * Path patterns: literal prefixes, `=` exact paths and byte-wise globs with
 * `**`. Globs are matched in time bounded by pattern length x path length
 * (an automaton over the pattern's positions, below): patterns come from
 * the command line, a policy or a baseline, and none of them may make a
 * scan hang. Each pattern also knows its anchor (the literal directory
 * everything it matches lies below), which the policy's index
 * (rules/match.c) uses so that a path is tested only against the patterns
 * anchored at one of its ancestors.
 */
#include "common/pattern.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

enum tok_type {
	TOK_LIT,    /* the byte ch */
	TOK_ANY,    /* ? */
	TOK_CLASS,  /* text[off .. off + len) */
	TOK_STAR,   /* * */
	TOK_DSTAR,  /* ** */
	TOK_SKIP,   /* before "**" "/": matches nothing, may skip the two */
	TOK_DSLASH, /* the "**" "/" after a TOK_SKIP: stays on any byte, leaves on '/' */
};

struct tok {
	enum tok_type type;
	unsigned char ch;
	size_t off, len;
};

/*
 * A glob's automaton as bit masks over its states, nwords words each (bit
 * i: state i, before token i; bit ntoks: the end), so that a byte costs a
 * few word operations per 64 states whatever the number of states alive
 * (bit-parallel, as in Shift-And). m[] holds GLOB__MASKS masks, then one
 * per byte that advances a state (the literals, and the '/' that ends
 * "**" "/"): the states it advances. lit[] (after them) lists those bytes.
 */
enum glob_mask {
	GLOB_ANY,   /* ?: advance on any byte but '/' */
	GLOB_CLASS, /* [...]: advance if the class has the byte (tested one by one) */
	GLOB_STAR,  /* *: stay on any byte but '/' */
	GLOB_DSTAR, /* ** (and the "**" of "**" "/"): stay on any byte */
	GLOB_EPS,   /* *, ** and skips: move on without a byte */
	GLOB_RUN,   /* EPS and the "**" "/" after a skip: see glob_close() */
	GLOB__MASKS,
};

struct glob {
	size_t nwords;
	size_t nlits;
	const unsigned char *lit; /* nlits bytes, in the same allocation */
	uint64_t m[];
};

struct pattern {
	enum pattern_kind kind;
	bool has_anchor;
	bool deep;         /* has "**": may match at any depth */
	size_t len;        /* of text, after dropping a trailing '/' */
	size_t anchor_off; /* the anchor is text[anchor_off .. anchor_off + anchor_len) */
	size_t anchor_len;
	size_t nslash;    /* '/' in a glob: the depth of what it matches, unless deep */
	size_t head;      /* a glob's literal beginning: text[0 .. head) */
	size_t tail;      /* and its literal end: the last tail bytes of text */
	struct tok *toks; /* a glob's tokens (PATTERN_PATH, PATTERN_BASENAME); else NULL */
	size_t ntoks;
	struct glob *glob; /* a glob's automaton; else NULL */
	char text[];
};

/* Length of the bracket expression starting at p ('['), or 0 if unterminated. */
static size_t class_len(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q < end && (*q == '!' || *q == '^'))
		q++;
	if (q < end && *q == ']')
		q++; /* a leading ']' is literal */
	while (q < end && *q != ']')
		q++;
	return q < end ? (size_t)(q - p) + 1 : 0;
}

static bool class_match(const char *p, size_t n, unsigned char c)
{
	const char *q = p + 1, *end = p + n - 1;
	bool neg = false, hit = false;

	if (*q == '!' || *q == '^') {
		neg = true;
		q++;
	}
	for (bool first = true; q < end; first = false) {
		unsigned char lo = (unsigned char)*q;
		if (lo == ']' && !first)
			break;
		if (q + 2 < end && q[1] == '-') {
			unsigned char hi = (unsigned char)q[2];
			if (c >= lo && c <= hi)
				hit = true;
			q += 3;
		} else {
			if (c == lo)
				hit = true;
			q++;
		}
	}
	return hit != neg;
}

/*
 * The matcher. A glob is compiled into tokens, and matched by simulating
 * the nondeterministic automaton whose states are the token positions: the
 * set of positions the text read so far can have reached is kept as a
 * bitset and advanced one byte at a time with masks (struct glob). A byte
 * costs a few word operations per 64 tokens, plus a test per live `[...]`,
 * so a match takes O(tokens x bytes) whatever the pattern, where a
 * backtracking matcher is exponential in the number of stars
 * (`*a*a*a*a*a*a*c*b`, `/ ** / ** / ** /q` without the spaces). A literal
 * beginning and end are compared first, which rejects most paths for the
 * cost of a memcmp().
 *
 * The language, exactly that of the backtracking matcher it replaces:
 *
 *     *       any bytes but '/' (none too)
 *     **      any bytes, '/' included; "**" then "/" may also match nothing
 *     ?       one byte but '/'
 *     [...]   one byte but '/' in the class ([!...] or [^...]: not in it;
 *             a ']' first is literal; a-z is a range of byte values)
 *     \c      c itself; a '\' at the very end is a literal '\'
 */

/* Tokens of text[0..len), a valid glob, into toks (room for len). Returns their number. */
static size_t glob_compile(const char *text, size_t len, struct tok *toks)
{
	size_t n = 0;

	for (size_t i = 0; i < len;) {
		struct tok *t = &toks[n++];

		*t = (struct tok){ .type = TOK_LIT };
		switch (text[i]) {
		case '*':
			if (i + 1 < len && text[i + 1] == '*') {
				/* "**" "/": a skip, then the pair (2 tokens, 3 bytes). */
				if (i + 2 < len && text[i + 2] == '/') {
					t->type = TOK_SKIP;
					toks[n++] = (struct tok){ .type = TOK_DSLASH, .ch = '/' };
					i += 3;
					break;
				}
				t->type = TOK_DSTAR;
				i += 2;
			} else {
				t->type = TOK_STAR;
				i++;
			}
			break;
		case '?':
			t->type = TOK_ANY;
			i++;
			break;
		case '[':
			t->len = class_len(text + i, text + len);
			if (t->len > 0) {
				t->type = TOK_CLASS;
				t->off = i;
				i += t->len;
				break;
			}
			/* Unterminated: pattern_error() refuses it, but be literal. */
			t->ch = '[';
			i++;
			break;
		case '\\':
			if (i + 1 < len)
				i++;
			__attribute__((fallthrough));
		default:
			t->ch = (unsigned char)text[i++];
			break;
		}
	}
	return n;
}

static inline const uint64_t *glob_mask(const struct glob *g, size_t k)
{
	return g->m + k * g->nwords;
}

/* The same, to fill in. */
static inline uint64_t *glob_mask_mut(struct glob *g, size_t k)
{
	return g->m + k * g->nwords;
}

/* The automaton of @ntoks tokens, or NULL when out of memory. */
static struct glob *glob_new(const struct tok *toks, size_t ntoks)
{
	unsigned char lit[256];
	size_t nlits = 0, nwords = ntoks / 64 + 1, nmasks;
	struct glob *g;

	/* The bytes that advance a state: literals, and the '/' that ends "**" "/". */
	for (size_t i = 0; i < ntoks; i++)
		if ((toks[i].type == TOK_LIT || toks[i].type == TOK_DSLASH) &&
		    !memchr(lit, toks[i].ch, nlits))
			lit[nlits++] = toks[i].ch;
	nmasks = GLOB__MASKS + nlits;
	g = calloc(1, sizeof(*g) + nmasks * nwords * sizeof(g->m[0]) + nlits);
	if (!g)
		return NULL;
	g->nwords = nwords;
	g->nlits = nlits;
	memcpy(g->m + nmasks * nwords, lit, nlits);
	g->lit = (const unsigned char *)(g->m + nmasks * nwords);
	for (size_t i = 0; i < ntoks; i++) {
		const uint64_t bit = UINT64_C(1) << (i % 64);
		const size_t w = i / 64;
		size_t k;

		switch (toks[i].type) {
		case TOK_DSLASH:
			/* Stays on any byte; leaves on '/' (below, as a literal does). */
			glob_mask_mut(g, GLOB_DSTAR)[w] |= bit;
			glob_mask_mut(g, GLOB_RUN)[w] |= bit;
			__attribute__((fallthrough));
		case TOK_LIT:
			k = (size_t)((const unsigned char *)memchr(lit, toks[i].ch, nlits) - lit);
			glob_mask_mut(g, GLOB__MASKS + k)[w] |= bit;
			break;
		case TOK_ANY:
			glob_mask_mut(g, GLOB_ANY)[w] |= bit;
			break;
		case TOK_CLASS:
			glob_mask_mut(g, GLOB_CLASS)[w] |= bit;
			break;
		case TOK_STAR:
			glob_mask_mut(g, GLOB_STAR)[w] |= bit;
			glob_mask_mut(g, GLOB_EPS)[w] |= bit;
			glob_mask_mut(g, GLOB_RUN)[w] |= bit;
			break;
		case TOK_DSTAR:
			glob_mask_mut(g, GLOB_DSTAR)[w] |= bit;
			glob_mask_mut(g, GLOB_EPS)[w] |= bit;
			glob_mask_mut(g, GLOB_RUN)[w] |= bit;
			break;
		case TOK_SKIP:
			glob_mask_mut(g, GLOB_EPS)[w] |= bit;
			glob_mask_mut(g, GLOB_RUN)[w] |= bit;
			break;
		}
	}
	return g;
}

/*
 * Add to @set the states reachable without reading a byte. A star (`*`
 * or `**`) may match nothing: it moves on to the next state. A skip (before
 * "**" "/") moves on to the "**" "/" and, since the two may match nothing,
 * past it; the "**" "/" itself moves nowhere without a byte (once it has
 * matched one, the '/' must come).
 *
 * So a state in a run of consecutive stars, skips and "**" "/" after a
 * skip reaches every later state of the run and the state after it, and a
 * single addition does the work for all runs at once: adding the states
 * that move (set & EPS) to the run mask (RUN) carries each through its
 * run, and the bits that change are exactly those it reaches. A "**" "/"
 * in set starts no carry: it is not in EPS.
 */
static void glob_close(const struct glob *g, uint64_t *set)
{
	const uint64_t *eps = glob_mask(g, GLOB_EPS), *run = glob_mask(g, GLOB_RUN);
	uint64_t carry = 0;

	for (size_t w = 0; w < g->nwords; w++) {
		uint64_t s = run[w] + (set[w] & eps[w]);
		uint64_t c = s < run[w];
		uint64_t t = s + carry;

		carry = c | (t < s);
		set[w] |= t ^ run[w];
	}
}

/*
 * The states @cur goes to on byte @c, closed, into @next. Returns whether
 * there is any. @pat's classes are tested only for the live class states.
 */
static bool glob_step(const struct pattern *pat, const uint64_t *cur, uint64_t *next,
		      unsigned char c)
{
	const struct glob *g = pat->glob;
	const unsigned char *hit = memchr(g->lit, c, g->nlits);
	const uint64_t *lit = hit ? glob_mask(g, GLOB__MASKS + (size_t)(hit - g->lit)) : NULL;
	const uint64_t *any = glob_mask(g, GLOB_ANY), *cls = glob_mask(g, GLOB_CLASS);
	const uint64_t *star = glob_mask(g, GLOB_STAR), *dstar = glob_mask(g, GLOB_DSTAR);
	uint64_t out = 0, alive = 0;

	for (size_t w = 0; w < g->nwords; w++) {
		uint64_t adv = lit ? lit[w] : 0, stay = dstar[w];

		if (c != '/') {
			adv |= any[w];
			stay |= star[w];
			for (uint64_t bits = cur[w] & cls[w]; bits; bits &= bits - 1) {
				const struct tok *t =
					&pat->toks[w * 64 + (size_t)__builtin_ctzll(bits)];
				if (class_match(pat->text + t->off, t->len, c))
					adv |= bits & -bits;
			}
		}
		adv &= cur[w];
		/* Advancing is a shift by one state, across words. */
		next[w] = adv << 1 | out | (cur[w] & stay);
		out = adv >> 63;
	}
	glob_close(g, next);
	for (size_t w = 0; w < g->nwords; w++)
		alive |= next[w];
	return alive != 0;
}

/* Whether s[0..n) passes the test of the literal end (the last tail bytes). */
static bool tail_ok(const struct pattern *pat, const char *s, size_t n)
{
	return n >= pat->tail &&
	       memcmp(s + n - pat->tail, pat->text + pat->len - pat->tail, pat->tail) == 0;
}

/* Automata up to this many words (4,095 tokens) run on the stack. */
#define GLOB_STACK_WORDS 64

/*
 * Whether the glob matches s[0..n) for some n in [min, len] that ends a
 * component (n == len or s[n] == '/'): with min == len, whether it matches
 * s[0..len). Bytes s[0..from) must already be known to match the first
 * @from tokens, which are literal bytes (the literal head). min >= from.
 *
 * Needs 2 x (ntoks / 64 + 1) words: on the stack up to 4,095 tokens, else
 * allocated, and false when that allocation fails.
 */
static bool glob_run(const struct pattern *pat, const char *s, size_t len, size_t from, size_t min)
{
	const size_t nwords = pat->glob->nwords, accept = pat->ntoks;
	uint64_t stack[2 * GLOB_STACK_WORDS], *heap = NULL, *cur = stack, *next, *tmp;
	bool found = false;

	if (nwords > GLOB_STACK_WORDS) {
		heap = calloc(2 * nwords, sizeof(*heap));
		if (!heap)
			return false;
		cur = heap;
	}
	next = cur + nwords;
	memset(cur, 0, nwords * sizeof(*cur));
	cur[from / 64] = UINT64_C(1) << (from % 64);
	glob_close(pat->glob, cur);
	for (size_t n = from;; n++) {
		if (n >= min && (n == len || s[n] == '/') &&
		    (cur[accept / 64] >> (accept % 64) & 1) && tail_ok(pat, s, n)) {
			found = true;
			break;
		}
		if (n == len || !glob_step(pat, cur, next, (unsigned char)s[n]))
			break;
		tmp = cur;
		cur = next;
		next = tmp;
	}
	free(heap);
	return found;
}

/* Index of the first glob character (or escape) in text[0..len), or len. */
static size_t first_glob(const char *text, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (text[i] == '*' || text[i] == '?' || text[i] == '[' || text[i] == '\\')
			return i;
	return len;
}

/* Length of text without trailing '/', keeping "/" and "=/" whole. */
static size_t trimmed_len(const char *text)
{
	size_t len = strlen(text), min = text[0] == '=' ? 2 : 1;

	while (len > min && text[len - 1] == '/')
		len--;
	return len;
}

const char *pattern_error(const char *text)
{
	size_t len = trimmed_len(text);

	if (len == 0)
		return "empty pattern";
	if (text[0] == '=') {
		if (len < 2 || text[1] != '/')
			return "'=' must be followed by an absolute path";
		if (first_glob(text, len) != len)
			return "'=' takes a literal path, not a glob";
	}
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len) {
			i++;
		} else if (text[i] == '[') {
			size_t n = class_len(text + i, text + len);
			if (n == 0)
				return "unterminated '['";
			i += n - 1;
		}
	}
	return NULL;
}

int pattern_new(const char *text, struct pattern **ret_pat)
{
	size_t len = trimmed_len(text), g;
	struct pattern *pat;

	if (pattern_error(text))
		return -EINVAL;

	pat = calloc(1, sizeof(*pat) + len + 1);
	if (!pat)
		return -ENOMEM;
	memcpy(pat->text, text, len);
	pat->text[len] = '\0';
	pat->len = len;

	g = first_glob(text, len);
	/* Cheap tests that reject most paths before the automaton runs. */
	pat->head = g;
	pat->tail = 0;
	while (pat->tail < len && !strchr("*?[]\\", text[len - 1 - pat->tail]))
		pat->tail++;
	if (text[0] == '=') {
		pat->kind = PATTERN_EXACT;
		pat->has_anchor = true;
		pat->anchor_off = 1;
		pat->anchor_len = len == 2 ? 0 : len - 1;
	} else if (!memchr(text, '/', len)) {
		pat->kind = PATTERN_BASENAME;
	} else if (g == len && text[0] == '/') {
		pat->kind = PATTERN_PREFIX;
		pat->has_anchor = true;
		pat->anchor_len = len == 1 ? 0 : len;
	} else {
		pat->kind = PATTERN_PATH;
		if (text[0] == '/') {
			size_t cut = g;
			while (cut > 0 && text[cut - 1] != '/')
				cut--;
			/* text[cut - 1] is the '/' that ends the literal directory. */
			pat->has_anchor = true;
			pat->anchor_len = cut > 0 ? cut - 1 : 0;
		}
		for (size_t i = 0; i < len; i++) {
			if (text[i] == '/')
				pat->nslash++;
			else if (text[i] == '*' && i + 1 < len && text[i + 1] == '*')
				pat->deep = true;
		}
	}
	if (pat->kind == PATTERN_PATH || pat->kind == PATTERN_BASENAME) {
		pat->toks = calloc(len, sizeof(*pat->toks));
		if (!pat->toks) {
			free(pat);
			return -ENOMEM;
		}
		pat->ntoks = glob_compile(pat->text, len, pat->toks);
		pat->glob = glob_new(pat->toks, pat->ntoks);
		if (!pat->glob) {
			pattern_free(pat);
			return -ENOMEM;
		}
	}
	*ret_pat = pat;
	return 0;
}

void pattern_free(struct pattern *pat)
{
	if (!pat)
		return;
	free(pat->glob);
	free(pat->toks);
	free(pat);
}

const char *pattern_text(const struct pattern *pat)
{
	return pat->text;
}

/* Whether a (alen bytes, "" for the root) is @p or an ancestor of it. */
static bool is_ancestor_or_self(const char *a, size_t alen, const char *p, size_t plen)
{
	return alen == 0 ||
	       (alen <= plen && memcmp(a, p, alen) == 0 && (alen == plen || p[alen] == '/'));
}

bool pattern_match(const struct pattern *pat, const char *path, size_t len)
{
	const char *base;

	switch (pat->kind) {
	case PATTERN_PREFIX:
		return is_ancestor_or_self(pat->text, pat->anchor_len, path, len);
	case PATTERN_EXACT:
		return len == pat->len - 1 && memcmp(path, pat->text + 1, len) == 0;
	case PATTERN_PATH:
		if (len < pat->head || !tail_ok(pat, path, len) ||
		    memcmp(path, pat->text, pat->head))
			return false;
		return glob_run(pat, path, len, pat->head, len);
	case PATTERN_BASENAME:
		if (!tail_ok(pat, path, len))
			return false;
		base = path + len;
		while (base > path && base[-1] != '/')
			base--;
		return glob_run(pat, base, (size_t)(path + len - base), 0,
				(size_t)(path + len - base));
	}
	return false;
}

bool pattern_match_tree(const struct pattern *pat, const char *path, size_t len)
{
	size_t min = 1;

	switch (pat->kind) {
	case PATTERN_PREFIX:
	case PATTERN_EXACT:
		/* An exclusion takes the subtree, so `=` means nothing more here. */
		return is_ancestor_or_self(pat->text + pat->anchor_off, pat->anchor_len, path, len);
	case PATTERN_PATH:
		if (pat->has_anchor) {
			if (!is_ancestor_or_self(pat->text, pat->anchor_len, path, len))
				return false;
			min = pat->anchor_len + 1;
		}
		if (len < pat->head || memcmp(path, pat->text, pat->head))
			return false;
		if (min < pat->head)
			min = pat->head;
		/*
		 * One run of the automaton over the path answers for every
		 * ancestor at once; it need go no further than the longest
		 * one that ends as the pattern does.
		 */
		for (size_t n = len; n >= min; n--) {
			if ((n == len || path[n] == '/') && tail_ok(pat, path, n))
				return glob_run(pat, path, n, pat->head, min);
		}
		return false;
	case PATTERN_BASENAME:
		break;
	}
	/* The last component of the path, then of each ancestor. */
	for (size_t n = len; n >= min; n--) {
		if ((n == len || path[n] == '/') && pattern_match(pat, path, n))
			return true;
	}
	return false;
}

enum pattern_kind pattern_kind(const struct pattern *pat)
{
	return pat->kind;
}

bool pattern_anchor(const struct pattern *pat, const char **ret_anchor, size_t *ret_len)
{
	if (!pat->has_anchor)
		return false;
	*ret_anchor = pat->text + pat->anchor_off;
	*ret_len = pat->anchor_len;
	return true;
}

bool pattern_may_match_below(const struct pattern *pat, const char *dir, size_t len)
{
	const char *a = pat->text + pat->anchor_off;
	size_t alen = pat->anchor_len, depth = 0;

	if (len == 1 && dir[0] == '/')
		len = 0;
	if (!pat->has_anchor)
		return true;
	switch (pat->kind) {
	case PATTERN_PREFIX:
		return is_ancestor_or_self(a, alen, dir, len) ||
		       is_ancestor_or_self(dir, len, a, alen);
	case PATTERN_EXACT:
		return alen > len && is_ancestor_or_self(dir, len, a, alen);
	case PATTERN_PATH:
		if (!is_ancestor_or_self(a, alen, dir, len) &&
		    !is_ancestor_or_self(dir, len, a, alen))
			return false;
		if (pat->deep)
			return true;
		/* Without "**" a glob matches paths with exactly nslash '/'. */
		for (size_t i = 0; i < len; i++)
			depth += dir[i] == '/';
		return pat->nslash > depth;
	case PATTERN_BASENAME:
		return true;
	}
	return true;
}
