/*
 * Path patterns: literal prefixes and byte-wise globs with `**`. Patterns are
 * short and matched once per entry, so a plain backtracking matcher is fine;
 * the policy issue adds an index of literal prefixes in front of it.
 */
#include "common/pattern.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/banned.h"

enum pattern_kind {
	PATTERN_PREFIX,   /* literal absolute path and its subtree */
	PATTERN_PATH,     /* glob over the whole path */
	PATTERN_BASENAME, /* glob over the last component */
};

struct pattern {
	enum pattern_kind kind;
	size_t len; /* of text, after dropping a trailing '/' */
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

int pattern_new(const char *text, struct pattern **ret_pat)
{
	size_t len = strlen(text);
	bool glob = false;
	struct pattern *pat;

	while (len > 1 && text[len - 1] == '/')
		len--;
	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == '\\' && i + 1 < len) {
			glob = true; /* an escape only means something to the glob matcher */
			i++;
		} else if (text[i] == '*' || text[i] == '?') {
			glob = true;
		} else if (text[i] == '[') {
			size_t n = class_len(text + i, text + len);
			if (n == 0)
				return -EINVAL;
			glob = true;
			i += n - 1;
		}
	}

	pat = malloc(sizeof(*pat) + len + 1);
	if (!pat)
		return -ENOMEM;
	memcpy(pat->text, text, len);
	pat->text[len] = '\0';
	pat->len = len;
	if (memchr(text, '/', len))
		pat->kind = glob || text[0] != '/' ? PATTERN_PATH : PATTERN_PREFIX;
	else
		pat->kind = PATTERN_BASENAME;
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

bool pattern_match(const struct pattern *pat, const char *path, size_t len)
{
	const char *base;

	switch (pat->kind) {
	case PATTERN_PREFIX:
		if (pat->len == 1) /* "/" */
			return true;
		return len >= pat->len && memcmp(path, pat->text, pat->len) == 0 &&
		       (len == pat->len || path[pat->len] == '/');
	case PATTERN_PATH:
		return glob_match(pat->text, pat->text + pat->len, path, path + len);
	case PATTERN_BASENAME:
		base = path + len;
		while (base > path && base[-1] != '/')
			base--;
		return glob_match(pat->text, pat->text + pat->len, base, path + len);
	}
	return false;
}
