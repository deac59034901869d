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
	TOK_LIT,   /* the byte ch */
	TOK_ANY,   /* ? */
	TOK_CLASS, /* text[off .. off + len) */
	TOK_STAR,  /* * */
	TOK_DSTAR, /* ** */
	TOK_SKIP,  /* before "**" "/": matches nothing, and may go past the three */
};

struct tok {
	enum tok_type type;
	unsigned char ch;
	size_t off, len;
};

/*
 * The automaton of a glob of fewer than 64 tokens as masks over its states
 * (bit i: state i, before token i; bit ntoks: the end), so that a byte
 * costs a few word operations (bit-parallel, as in Shift-And) whatever
 * the number of states alive.
 */
struct glob_word {
	uint64_t any;   /* ?: advance on any byte but '/' */
	uint64_t cls;   /* [...]: advance if the class has the byte (tested one by one) */
	uint64_t star;  /* *: stay on any byte but '/' */
	uint64_t dstar; /* **: stay on any byte */
	uint64_t eps;   /* *, ** and skips: go to the next state without a byte */
	uint64_t skip;  /* skips: also go three states on */
	size_t nlits;
	unsigned char lit[64]; /* the distinct literal bytes, */
	uint64_t lit_mask[];   /* and the states that advance on each */
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
	struct glob_word *word; /* the automaton as masks, when its states fit in one word */
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
 * the nondeterministic automaton whose states are the token positions
 * (Thompson's construction, without building the automaton): the set of
 * positions the text read so far can have reached is kept as a bitset and
 * advanced one byte at a time. Every byte costs at most one step per token,
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
				/* "**" and "/" are three tokens for three bytes: skip, "**", "/".
				 */
				if (i + 2 < len && text[i + 2] == '/') {
					t->type = TOK_SKIP;
					t = &toks[n++];
				}
				*t = (struct tok){ .type = TOK_DSTAR };
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

/* Bitsets of automaton states up to this many words live on the stack. */
#define GLOB_STACK_WORDS 32

static inline void bit_set(uint64_t *set, size_t i)
{
	set[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline bool bit_test(const uint64_t *set, size_t i)
{
	return set[i / 64] >> (i % 64) & 1;
}

/*
 * Add to @set the states reachable without reading a byte: past a star
 * (which may match nothing), and from before "**" "/" to past the '/' (the
 * zero directories of "**" "/", which is why that is a state of its own:
 * once "**" has matched a byte, the '/' must follow). These moves only go
 * forward, so one pass in increasing order closes the set.
 */
static void glob_close(const struct tok *toks, size_t ntoks, uint64_t *set, size_t nwords)
{
	for (size_t w = 0; w < nwords; w++) {
		uint64_t done = 0, bits;

		while ((bits = set[w] & ~done) != 0) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);

			done |= bits & -bits;
			if (i == ntoks)
				continue;
			if (toks[i].type == TOK_STAR || toks[i].type == TOK_DSTAR)
				bit_set(set, i + 1);
			else if (toks[i].type == TOK_SKIP) {
				bit_set(set, i + 1);
				bit_set(set, i + 3);
			}
		}
	}
}

/* The states @cur goes to on byte @c, closed, into @next. Returns whether there is any. */
static bool glob_step(const struct pattern *pat, const uint64_t *cur, uint64_t *next, size_t nwords,
		      unsigned char c)
{
	const struct tok *toks = pat->toks;
	uint64_t any = 0;

	memset(next, 0, nwords * sizeof(*next));
	for (size_t w = 0; w < nwords; w++) {
		for (uint64_t bits = cur[w]; bits; bits &= bits - 1) {
			size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
			const struct tok *t = &toks[i];

			if (i == pat->ntoks)
				continue; /* the end of the pattern: no byte may follow */
			switch (t->type) {
			case TOK_LIT:
				if (c == t->ch)
					bit_set(next, i + 1);
				break;
			case TOK_ANY:
				if (c != '/')
					bit_set(next, i + 1);
				break;
			case TOK_CLASS:
				if (c != '/' && class_match(pat->text + t->off, t->len, c))
					bit_set(next, i + 1);
				break;
			case TOK_STAR:
				if (c != '/')
					bit_set(next, i);
				break;
			case TOK_DSTAR:
				bit_set(next, i);
				break;
			case TOK_SKIP:
				break; /* reads nothing: glob_close() went past it */
			}
		}
	}
	glob_close(toks, pat->ntoks, next, nwords);
	for (size_t w = 0; w < nwords; w++)
		any |= next[w];
	return any != 0;
}

/* Whether s[0..n) passes the test of the literal end (the last tail bytes). */
static bool tail_ok(const struct pattern *pat, const char *s, size_t n)
{
	return n >= pat->tail &&
	       memcmp(s + n - pat->tail, pat->text + pat->len - pat->tail, pat->tail) == 0;
}

/* The masks of a glob of fewer than 64 tokens, or NULL (or -ENOMEM in *ret_err). */
static struct glob_word *glob_word_new(const struct tok *toks, size_t ntoks, int *ret_err)
{
	unsigned char lit[64];
	size_t nlits = 0;
	struct glob_word *w;

	*ret_err = 0;
	if (ntoks >= 64)
		return NULL;
	for (size_t i = 0; i < ntoks; i++)
		if (toks[i].type == TOK_LIT && !memchr(lit, toks[i].ch, nlits))
			lit[nlits++] = toks[i].ch;
	w = calloc(1, sizeof(*w) + nlits * sizeof(w->lit_mask[0]));
	if (!w) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	w->nlits = nlits;
	memcpy(w->lit, lit, nlits);
	for (size_t i = 0; i < ntoks; i++) {
		uint64_t bit = UINT64_C(1) << i;

		switch (toks[i].type) {
		case TOK_LIT:
			w->lit_mask[(const unsigned char *)memchr(lit, toks[i].ch, nlits) - lit] |=
				bit;
			break;
		case TOK_ANY:
			w->any |= bit;
			break;
		case TOK_CLASS:
			w->cls |= bit;
			break;
		case TOK_STAR:
			w->star |= bit;
			w->eps |= bit;
			break;
		case TOK_DSTAR:
			w->dstar |= bit;
			w->eps |= bit;
			break;
		case TOK_SKIP:
			w->skip |= bit;
			w->eps |= bit;
			break;
		}
	}
	return w;
}

/*
 * glob_close() on masks. Adding the states with an epsilon move to the mask
 * of all of them carries each through its run of epsilon states to the
 * state after the run (the bits that change are the run from that state
 * on, and the one after it); a skip then jumps over "**" "/" and may start
 * another run, hence the loop, at most once per skip.
 */
static uint64_t glob_word_close(const struct glob_word *w, uint64_t set)
{
	for (;;) {
		uint64_t next = set | ((w->eps + (set & w->eps)) ^ w->eps);

		next |= (next & w->skip) << 3;
		if (next == set)
			return set;
		set = next;
	}
}

/* glob_run() for a pattern with w: the same, on one word. */
static bool glob_word_run(const struct pattern *pat, const char *s, size_t len, size_t from,
			  size_t min)
{
	const struct glob_word *w = pat->word;
	const uint64_t accept = UINT64_C(1) << pat->ntoks;
	uint64_t cur = glob_word_close(w, UINT64_C(1) << from);

	for (size_t n = from;; n++) {
		const unsigned char *hit;
		uint64_t adv, stay;
		unsigned char c;

		if (n >= min && (n == len || s[n] == '/') && (cur & accept) && tail_ok(pat, s, n))
			return true;
		if (n == len)
			return false;
		c = (unsigned char)s[n];
		hit = memchr(w->lit, c, w->nlits);
		adv = hit ? w->lit_mask[hit - w->lit] : 0;
		stay = w->dstar;
		if (c != '/') {
			adv |= w->any;
			stay |= w->star;
			for (uint64_t bits = cur & w->cls; bits; bits &= bits - 1) {
				const struct tok *t = &pat->toks[__builtin_ctzll(bits)];
				if (class_match(pat->text + t->off, t->len, c))
					adv |= bits & -bits;
			}
		}
		cur = glob_word_close(w, ((cur & adv) << 1) | (cur & stay));
		if (!cur)
			return false;
	}
}

/*
 * Whether the glob matches s[0..n) for some n in [min, len] that ends a
 * component (n == len or s[n] == '/'): with min == len, whether it matches
 * s[0..len). Bytes s[0..from) must already be known to match the first
 * @from tokens, which are literal bytes (the literal head). min >= from.
 *
 * A glob of fewer than 64 tokens runs on masks (glob_word_run()); a longer
 * one steps through its live states, which needs 2 x (ntoks / 64 + 1)
 * words: on the stack up to 2047 tokens, else allocated, and false when
 * that allocation fails.
 */
static bool glob_run(const struct pattern *pat, const char *s, size_t len, size_t from, size_t min)
{
	uint64_t stack[2 * GLOB_STACK_WORDS], *heap = NULL, *cur = stack, *next, *tmp;
	size_t nwords = pat->ntoks / 64 + 1, accept = pat->ntoks;
	bool found = false;

	if (pat->word)
		return glob_word_run(pat, s, len, from, min);
	if (nwords > GLOB_STACK_WORDS) {
		heap = calloc(2 * nwords, sizeof(*heap));
		if (!heap)
			return false;
		cur = heap;
	}
	next = cur + nwords;
	memset(cur, 0, nwords * sizeof(*cur));
	bit_set(cur, from);
	glob_close(pat->toks, pat->ntoks, cur, nwords);
	for (size_t n = from;; n++) {
		if (n >= min && (n == len || s[n] == '/') && bit_test(cur, accept) &&
		    tail_ok(pat, s, n)) {
			found = true;
			break;
		}
		if (n == len || !glob_step(pat, cur, next, nwords, (unsigned char)s[n]))
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
	int r;

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
		pat->word = glob_word_new(pat->toks, pat->ntoks, &r);
		if (r < 0) {
			pattern_free(pat);
			return r;
		}
	}
	*ret_pat = pat;
	return 0;
}

void pattern_free(struct pattern *pat)
{
	if (!pat)
		return;
	free(pat->word);
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
