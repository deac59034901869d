/*
 * Escaping of byte strings (paths, symlink targets) for display. The UTF-8
 * decoder follows RFC 3629's table of well-formed byte sequences, so that a
 * string we call clean is one every JSON parser and terminal accepts.
 */
#include "common/escape.h"

#include <errno.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "common/banned.h"

/*
 * Length of the well-formed UTF-8 sequence at s[0..len), or 0 if the bytes
 * there do not start one. Stores the code point in *ret_cp.
 */
static size_t utf8_seq(const unsigned char *s, size_t len, uint32_t *ret_cp)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;
	unsigned char lo = 0x80, hi = 0xbf;

	if (c < 0x80) {
		*ret_cp = c;
		return 1;
	} else if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		cp = c & 0x0f;
		if (c == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (c == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		cp = c & 0x07;
		if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		unsigned char b = s[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xbf))
			return 0;
		cp = (cp << 6) | (b & 0x3f);
	}
	*ret_cp = cp;
	return n;
}

static bool is_control(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0);
}

bool escape_is_clean(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		if (n == 0 || is_control(cp))
			return false;
		i += n;
	}
	return true;
}

int escape_display(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		char esc[4] = { '\\', 0, 0, 0 };
		size_t elen = 2;

		if (n > 0 && !is_control(cp) && cp != '\\') {
			if (strbuf_add(out, p + i, n) < 0)
				return -ENOMEM;
			i += n;
			continue;
		}
		if (n == 0)
			n = 1; /* one byte of an invalid sequence */
		switch (n == 1 ? p[i] : 0x100) {
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\a':
			esc[1] = 'a';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\v':
			esc[1] = 'v';
			break;
		default:
			/* A C1 control is two bytes; escape each of them. */
			for (size_t k = 0; k < n; k++) {
				char x[4] = { '\\', 'x', hex[p[i + k] >> 4], hex[p[i + k] & 15] };
				if (strbuf_add(out, x, 4) < 0)
					return -ENOMEM;
			}
			i += n;
			continue;
		}
		if (strbuf_add(out, esc, elen) < 0)
			return -ENOMEM;
		i += n;
	}
	return 0;
}
