/*
 * Path patterns: literal prefixes, `=` exact paths and byte-wise globs with
 * `**`. Patterns are short and matched once per entry, so a plain
 * backtracking matcher is fine. Each pattern also knows its anchor (the
 * literal directory everything it matches lies below), which the policy's
 * index (rules/match.c) uses so that a path is tested only against the
 * patterns anchored at one of its ancestors.
 */
#include "common/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

struct pattern {
	enum pattern_kind kind;
	bool has_anchor;
	bool deep;         /* has "**": may match at any depth */
	size_t len;        /* of text, after dropping a trailing '/' */
	size_t anchor_off; /* the anchor is text[anchor_off .. anchor_off + anchor_len) */
	size_t anchor_len;
	size_t nslash; /* '/' in a glob: the depth of what it matches, unless deep */
	size_t head;   /* a glob's literal beginning: text[0 .. head) */
	size_t tail;   /* and its literal end: the last tail bytes of text */
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

static bool glob_match(const char *p, const char *pend, const char *s, const char *send)
{
	while (p < pend) {
		switch (*p) {
		case '*':
			if (p + 1 < pend && p[1] == '*') {
				const char *rest = p + 2;
				/* "**" then "/": also matches zero directories. */
				if (rest < pend && *rest == '/' &&
				    glob_match(rest + 1, pend, s, send))
					return true;
				for (const char *t = s; t <= send; t++)
					if (glob_match(rest, pend, t, send))
						return true;
				return false;
			}
			for (const char *t = s;; t++) {
				if (glob_match(p + 1, pend, t, send))
					return true;
				if (t == send || *t == '/')
					return false;
			}
		case '?':
			if (s == send || *s == '/')
				return false;
			p++;
			s++;
			break;
		case '[': {
			size_t n = class_len(p, pend);
			if (s == send || *s == '/' || !class_match(p, n, (unsigned char)*s))
				return false;
			p += n;
			s++;
			break;
		}
		case '\\':
			if (p + 1 < pend)
				p++;
			__attribute__((fallthrough));
		default:
			if (s == send || *s != *p)
				return false;
			p++;
			s++;
			break;
		}
	}
	return s == send;
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
	/* Cheap tests that reject most paths before the backtracking matcher. */
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
	*ret_pat = pat;
	return 0;
}

void pattern_free(struct pattern *pat)
{
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
		if (len < pat->head || len < pat->tail || memcmp(path, pat->text, pat->head) ||
		    memcmp(path + len - pat->tail, pat->text + pat->len - pat->tail, pat->tail))
			return false;
		return glob_match(pat->text, pat->text + pat->len, path, path + len);
	case PATTERN_BASENAME:
		if (len < pat->tail ||
		    memcmp(path + len - pat->tail, pat->text + pat->len - pat->tail, pat->tail))
			return false;
		base = path + len;
		while (base > path && base[-1] != '/')
			base--;
		return glob_match(pat->text, pat->text + pat->len, base, path + len);
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
		break;
	case PATTERN_BASENAME:
		break;
	}
	/* The path itself, then each ancestor, longest first. */
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
