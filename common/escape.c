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

/*
 * Characters that change how the text around them is shown, or show as
 * nothing, so that a name can look like another (U+202E makes
 * "\u202etxt.exe" read "exe.txt"): every format character (Unicode's
 * general category Cf, as of Unicode 15: bidi marks, embeddings, overrides
 * and isolates, zero-width spaces and joiners, the BOM, tags), the line and
 * paragraph separators, and the fillers that render as blank (Hangul
 * fillers, Khmer inherent vowels, the combining grapheme joiner).
 * Variation selectors stay: emoji need them, and they hide nothing.
 */
static bool is_invisible(uint32_t cp)
{
	static const uint32_t ranges[][2] = {
		{ 0x00ad, 0x00ad },   /* soft hyphen */
		{ 0x034f, 0x034f },   /* combining grapheme joiner */
		{ 0x0600, 0x0605 },   /* Arabic number signs */
		{ 0x061c, 0x061c },   /* Arabic letter mark */
		{ 0x06dd, 0x06dd },   /* Arabic end of ayah */
		{ 0x070f, 0x070f },   /* Syriac abbreviation mark */
		{ 0x0890, 0x0891 },   /* Arabic pound and piastre marks above */
		{ 0x08e2, 0x08e2 },   /* Arabic disputed end of ayah */
		{ 0x115f, 0x1160 },   /* Hangul choseong and jungseong fillers */
		{ 0x17b4, 0x17b5 },   /* Khmer inherent vowels */
		{ 0x180e, 0x180e },   /* Mongolian vowel separator */
		{ 0x200b, 0x200f },   /* zero-width space, (non-)joiner, LRM, RLM */
		{ 0x2028, 0x202e },   /* line/paragraph separators, LRE..RLO */
		{ 0x2060, 0x206f },   /* word joiner, invisible operators, isolates */
		{ 0x3164, 0x3164 },   /* Hangul filler */
		{ 0xfeff, 0xfeff },   /* zero-width no-break space (BOM) */
		{ 0xffa0, 0xffa0 },   /* halfwidth Hangul filler */
		{ 0xfff9, 0xfffb },   /* interlinear annotation */
		{ 0x110bd, 0x110bd }, /* Kaithi number sign */
		{ 0x110cd, 0x110cd }, /* Kaithi number sign above */
		{ 0x13430, 0x1343f }, /* Egyptian hieroglyph format controls */
		{ 0x1bca0, 0x1bca3 }, /* shorthand format controls */
		{ 0x1d173, 0x1d17a }, /* musical symbol format controls */
		{ 0xe0000, 0xe007f }, /* tags */
	};

	if (cp < 0xad)
		return false;
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (cp >= ranges[i][0] && cp <= ranges[i][1])
			return true;
	return false;
}

/* `\xHH` for each of the @n bytes at @p, lowercase. */
static int add_hex_bytes(struct strbuf *out, const unsigned char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t k = 0; k < n; k++) {
		char x[4] = { '\\', 'x', hex[p[k] >> 4], hex[p[k] & 15] };

		if (strbuf_add(out, x, 4) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* `\uXXXX`, or `\UXXXXXXXX` above U+FFFF, with lowercase digits as `\xHH` has. */
static int add_codepoint_escape(struct strbuf *out, uint32_t cp)
{
	if (cp > 0xffff)
		return strbuf_addf(out, "\\U%08x", (unsigned)cp);
	return strbuf_addf(out, "\\u%04x", (unsigned)cp);
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
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		char esc[4] = { '\\', 0, 0, 0 };
		size_t elen = 2;

		if (n > 0 && !is_control(cp) && cp != '\\') {
			if ((is_invisible(cp) ? add_codepoint_escape(out, cp)
					      : strbuf_add(out, p + i, n)) < 0)
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
			if (add_hex_bytes(out, p + i, n) < 0)
				return -ENOMEM;
			i += n;
			continue;
		}
		if (strbuf_add(out, esc, elen) < 0)
			return -ENOMEM;
		i += n;
	}
	return 0;
}

int escape_message(struct strbuf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < len) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		int r;

		if (n == 0) {
			n = 1; /* a stray byte: the terminal shows it as invalid */
			cp = 0x100;
		}
		if (is_control(cp)) {
			/* A C1 control is two bytes; escape each of them. */
			if (add_hex_bytes(out, p + i, n) < 0)
				return -ENOMEM;
			i += n;
			continue;
		}
		r = is_invisible(cp) ? add_codepoint_escape(out, cp) : strbuf_add(out, p + i, n);
		if (r < 0)
			return -ENOMEM;
		i += n;
	}
	return 0;
}
