/*
 * The string writers of one report format on arbitrary bytes. They are
 * static, so this target #includes the format's .c file (FUZZ_FORMAT_*
 * chooses which; meson.build here), rather than widening the report
 * module's interface for a test. Properties, per format:
 *   json: json_add_text() gives one JSON string literal, no raw control
 *         byte, whose JSON decoding is the input when it is clean, else
 *         its display form;
 *   html: html_add_escaped() of the display form leaves no < > " ' and
 *         only the five entities; js_add_string() no < > & U+2028 U+2029
 *         or control byte, and decodes (JSON) to the display form;
 *   junit: xml_add_bytes() leaves no < > " ', no control byte, no U+FFFE
 *         or U+FFFF;
 *   prometheus: prom_add_label_value() gives a quoted label value with no
 *         raw newline, every backslash and quote escaped, that unescapes
 *         to the display form.
 */
#include "tests/fuzz/fuzz.h"

#if defined(FUZZ_FORMAT_JSON)
#include "report/json.c"
#elif defined(FUZZ_FORMAT_HTML)
#include "report/html.c"
#elif defined(FUZZ_FORMAT_JUNIT)
#include "report/junit.c"
#elif defined(FUZZ_FORMAT_PROMETHEUS)
#include "report/prometheus.c"
#else
#error "FUZZ_FORMAT_* not set"
#endif

#include "common/escape.h"
#include "common/strbuf.h"

#if defined(FUZZ_FORMAT_JSON) || defined(FUZZ_FORMAT_HTML)
/*
 * Decode the JSON string literal @s (quotes included) into @out: \uXXXX
 * only below U+D800 or above U+DFFF here (what the writers emit).
 */
static bool json_decode(const char *s, size_t len, struct strbuf *out)
{
	if (len < 2 || s[0] != '"' || s[len - 1] != '"')
		return false;
	for (size_t i = 1; i + 1 < len; i++) {
		char c = s[i];

		if ((unsigned char)c < 0x20 || c == '"')
			return false;
		if (c != '\\') {
			FUZZ_CHECK(strbuf_addch(out, c) == 0);
			continue;
		}
		c = s[++i];
		if (i + 1 >= len)
			return false;
		if (c == 'u') {
			struct strbuf one = STRBUF_INIT;
			char esc[6] = { '\\', 'u' };

			if (i + 5 >= len)
				return false;
			memcpy(esc + 2, s + i + 1, 4);
			/* Lowercase hex: the same code point as a display escape. */
			if (fuzz_display_decode(esc, 6, &one) < 0)
				return false;
			FUZZ_CHECK(strbuf_add(out, one.buf, one.len) == 0);
			strbuf_release(&one);
			i += 4;
			continue;
		}
		switch (c) {
		case '"':
		case '\\':
		case '/':
			break;
		case 'n':
			c = '\n';
			break;
		case 't':
			c = '\t';
			break;
		case 'r':
			c = '\r';
			break;
		case 'b':
			c = '\b';
			break;
		case 'f':
			c = '\f';
			break;
		default:
			return false;
		}
		FUZZ_CHECK(strbuf_addch(out, c) == 0);
	}
	return true;
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct strbuf disp = STRBUF_INIT, out = STRBUF_INIT, back = STRBUF_INIT;
	const char *s = (const char *)data;

	FUZZ_CHECK(escape_display(&disp, s, size) == 0);
#if defined(FUZZ_FORMAT_JSON)
	FUZZ_CHECK(json_add_text(&out, s, size) == 0);
	FUZZ_CHECK(fuzz_no_c0(out.buf, out.len));
	FUZZ_CHECK(json_decode(out.buf, out.len, &back));
	if (escape_is_clean(s, size))
		FUZZ_CHECK(back.len == size && memcmp(back.buf, s, size) == 0);
	else
		FUZZ_CHECK(back.len == disp.len && memcmp(back.buf, disp.buf, disp.len) == 0);
#elif defined(FUZZ_FORMAT_HTML)
	FUZZ_CHECK(html_add_escaped(&out, disp.buf, disp.len) == 0);
	FUZZ_CHECK(fuzz_no_c0(out.buf, out.len));
	for (size_t i = 0; i < out.len; i++) {
		static const char *const ents[] = { "&amp;", "&lt;", "&gt;", "&quot;", "&#39;" };
		bool ok = false;

		FUZZ_CHECK(!strchr("<>\"'", out.buf[i]) || !out.buf[i]);
		if (out.buf[i] != '&')
			continue;
		for (size_t k = 0; k < 5; k++)
			ok = ok || (out.len - i >= strlen(ents[k]) &&
				    !memcmp(out.buf + i, ents[k], strlen(ents[k])));
		FUZZ_CHECK(ok);
	}
	strbuf_reset(&out);
	FUZZ_CHECK(js_add_string(&out, disp.buf, disp.len) == 0);
	FUZZ_CHECK(fuzz_no_c0(out.buf, out.len));
	FUZZ_CHECK(!memchr(out.buf, '<', out.len) && !memchr(out.buf, '>', out.len) &&
		   !memchr(out.buf, '&', out.len));
	FUZZ_CHECK(!memmem(out.buf, out.len, "\xe2\x80\xa8", 3) &&
		   !memmem(out.buf, out.len, "\xe2\x80\xa9", 3));
	FUZZ_CHECK(json_decode(out.buf, out.len, &back));
	FUZZ_CHECK(back.len == disp.len && memcmp(back.buf, disp.buf, disp.len) == 0);
#elif defined(FUZZ_FORMAT_JUNIT)
	{
		struct junit_state st = { .line = STRBUF_INIT };

		FUZZ_CHECK(xml_add_bytes(&st, &out, s, size) == 0);
		strbuf_release(&st.line);
	}
	FUZZ_CHECK(fuzz_no_c0(out.buf, out.len));
	for (size_t i = 0; i < out.len; i++)
		FUZZ_CHECK(!strchr("<>\"'", out.buf[i]) || !out.buf[i]);
	FUZZ_CHECK(!memmem(out.buf, out.len, "\xef\xbf\xbe", 3) &&
		   !memmem(out.buf, out.len, "\xef\xbf\xbf", 3));
#elif defined(FUZZ_FORMAT_PROMETHEUS)
	{
		struct strbuf tmp = STRBUF_INIT;
		char *copy = strndup(s, size); /* label values are C strings */

		FUZZ_CHECK(copy != NULL);
		strbuf_reset(&disp);
		FUZZ_CHECK(escape_display(&disp, copy, strlen(copy)) == 0);
		FUZZ_CHECK(prom_add_label_value(&out, &tmp, copy) == 0);
		strbuf_release(&tmp);
		free(copy);
	}
	FUZZ_CHECK(out.len >= 2 && out.buf[0] == '"' && out.buf[out.len - 1] == '"');
	FUZZ_CHECK(!memchr(out.buf, '\n', out.len));
	for (size_t i = 1; i + 1 < out.len; i++) {
		char c = out.buf[i];

		FUZZ_CHECK(c != '"');
		if (c == '\\') {
			c = out.buf[++i];
			FUZZ_CHECK(i + 1 < out.len && (c == '\\' || c == '"' || c == 'n'));
			c = c == 'n' ? '\n' : c;
		}
		FUZZ_CHECK(strbuf_addch(&back, c) == 0);
	}
	FUZZ_CHECK(back.len == disp.len && memcmp(back.buf, disp.buf, disp.len) == 0);
#endif
	strbuf_release(&disp);
	strbuf_release(&out);
	strbuf_release(&back);
	return 0;
}
