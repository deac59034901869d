/*
 * The backtracking glob matcher drift used before the security review
 * (issue #9): obviously right, exponential on patterns with many stars.
 * Kept as the reference the automaton of common/pattern.c must agree with
 * (tests/common/test_pattern.c) and as the peer of bench/glob.
 */
#include "tests/common/glob_backtrack.h"

#include "common/banned.h"

static size_t ref_class_len(const char *p, const char *end)
{
	const char *q = p + 1;

	if (q < end && (*q == '!' || *q == '^'))
		q++;
	if (q < end && *q == ']')
		q++;
	while (q < end && *q != ']')
		q++;
	return q < end ? (size_t)(q - p) + 1 : 0;
}

static bool ref_class_match(const char *p, size_t n, unsigned char c)
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

bool glob_backtrack(const char *p, const char *pend, const char *s, const char *send)
{
	while (p < pend) {
		switch (*p) {
		case '*':
			if (p + 1 < pend && p[1] == '*') {
				const char *rest = p + 2;
				if (rest < pend && *rest == '/' &&
				    glob_backtrack(rest + 1, pend, s, send))
					return true;
				for (const char *t = s; t <= send; t++)
					if (glob_backtrack(rest, pend, t, send))
						return true;
				return false;
			}
			for (const char *t = s;; t++) {
				if (glob_backtrack(p + 1, pend, t, send))
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
			size_t n = ref_class_len(p, pend);
			if (s == send || *s == '/' || !ref_class_match(p, n, (unsigned char)*s))
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
