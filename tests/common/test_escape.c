#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/escape.h"
#include "common/strbuf.h"

#include <string.h>

static void check_display(const char *in, size_t len, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(escape_display(&sb, in, len), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_escape_is_clean_accepts_utf8_rejects_controls(void **state)
{
	(void)state;
	assert_true(escape_is_clean("/etc/passwd", 11));
	assert_true(escape_is_clean("/home/j\xc3\xbcrgen/\xe2\x82\xac", 17));
	assert_true(escape_is_clean("\xf0\x9f\x98\x80", 4));
	assert_true(escape_is_clean("", 0));
	assert_false(escape_is_clean("a\nb", 3));
	assert_false(escape_is_clean("a\x01", 2));
	assert_false(escape_is_clean("a\x7f", 2));
	assert_false(escape_is_clean("\xc2\x85", 2)); /* C1 control NEL */
	assert_false(escape_is_clean("\xff", 1));
	assert_false(escape_is_clean("\xc0\xaf", 2));         /* overlong '/' */
	assert_false(escape_is_clean("\xed\xa0\x80", 3));     /* surrogate */
	assert_false(escape_is_clean("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
	assert_false(escape_is_clean("\xe2\x82", 2));         /* truncated */
}

static void test_escape_display_escapes_controls_and_invalid_bytes(void **state)
{
	(void)state;
	check_display("plain", 5, "plain");
	check_display("new\nline", 8, "new\\nline");
	check_display("tab\there", 8, "tab\\there");
	check_display("ctl\x01", 4, "ctl\\x01");
	check_display("bad\xff", 4, "bad\\xff");
	check_display("back\\slash", 10, "back\\\\slash");
	check_display("\xc2\x85", 2, "\\xc2\\x85");
	check_display("j\xc3\xbcrgen", 7, "j\xc3\xbcrgen");
	check_display("\xe2\x82", 2, "\\xe2\\x82");
	check_display("a\0b", 3, "a\\x00b");
}

static void test_escape_display_escapes_bidi_controls(void **state)
{
	(void)state;
	/* The classic: RLO makes "\u202etxt.exe" read "exe.txt". */
	check_display("\xe2\x80\xaetxt.exe", 10, "\\u202etxt.exe");
	check_display("\xe2\x80\xaa", 3, "\\u202a"); /* LRE */
	check_display("\xe2\x80\xab", 3, "\\u202b"); /* RLE */
	check_display("\xe2\x80\xac", 3, "\\u202c"); /* PDF */
	check_display("\xe2\x80\xad", 3, "\\u202d"); /* LRO */
	check_display("\xe2\x81\xa6", 3, "\\u2066"); /* LRI */
	check_display("\xe2\x81\xa7", 3, "\\u2067"); /* RLI */
	check_display("\xe2\x81\xa8", 3, "\\u2068"); /* FSI */
	check_display("\xe2\x81\xa9", 3, "\\u2069"); /* PDI */
	check_display("\xe2\x80\x8e", 3, "\\u200e"); /* LRM */
	check_display("\xe2\x80\x8f", 3, "\\u200f"); /* RLM */
	check_display("\xd8\x9c", 2, "\\u061c");     /* Arabic letter mark */
}

static void test_escape_display_escapes_zero_width_and_separators(void **state)
{
	(void)state;
	check_display("pass\xe2\x80\x8bwd", 9, "pass\\u200bwd");        /* ZWSP */
	check_display("\xe2\x80\x8c\xe2\x80\x8d", 6, "\\u200c\\u200d"); /* ZWNJ, ZWJ */
	check_display("\xe2\x81\xa0", 3, "\\u2060");                    /* word joiner */
	check_display("\xef\xbb\xbf/etc", 7, "\\ufeff/etc");            /* BOM */
	check_display("a\xe2\x80\xa8"
		      "b",
		      5, "a\\u2028b"); /* line separator */
	check_display("a\xe2\x80\xa9"
		      "b",
		      5, "a\\u2029b"); /* paragraph separator */
	check_display("soft\xc2\xadhyphen", 12, "soft\\u00adhyphen");
	check_display("\xe3\x85\xa4", 3, "\\u3164"); /* Hangul filler */
	check_display("\xe1\xa0\x8e", 3, "\\u180e"); /* Mongolian vowel separator */
	/* Tags (invisible ASCII look-alikes) are above U+FFFF: eight digits. */
	check_display("x\xf3\xa0\x80\x81\xf3\xa0\x81\x81", 9, "x\\U000e0001\\U000e0041");
}

static void test_escape_display_keeps_visible_neighbours(void **state)
{
	(void)state;
	check_display("caf\xc3\xa9", 5, "caf\xc3\xa9");           /* U+00E9 */
	check_display("\xc2\xa0", 2, "\xc2\xa0");                 /* NBSP, after C1 */
	check_display("\xc2\xac\xc2\xae", 4, "\xc2\xac\xc2\xae"); /* U+00AC, U+00AE around SHY */
	check_display("\xe6\x97\xa5\xe6\x9c\xac", 6, "\xe6\x97\xa5\xe6\x9c\xac"); /* 日本 */
	check_display("\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a", 8,
		      "\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a"); /* Arabic letters: RTL but visible */
	check_display("\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d", 8,
		      "\xd7\xa9\xd7\x9c\xd7\x95\xd7\x9d");                        /* Hebrew */
	check_display("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80");                 /* U+1F600 */
	check_display("\xe2\x9d\xa4\xef\xb8\x8f", 6, "\xe2\x9d\xa4\xef\xb8\x8f"); /* heart + VS16 */
	check_display("\xe2\x80\x8a\xe2\x80\x90", 6,
		      "\xe2\x80\x8a\xe2\x80\x90"); /* U+200A, U+2010 around ZWSP..RLM */
	check_display("\xe2\x80\xa7\xe2\x80\xaf", 6,
		      "\xe2\x80\xa7\xe2\x80\xaf"); /* U+2027, U+202F around LS..RLO */
	check_display("\xe2\x81\x9f\xe2\x81\xb0", 6,
		      "\xe2\x81\x9f\xe2\x81\xb0"); /* U+205F, U+2070 around WJ..U+206F */
	check_display("\xef\xbb\xbe\xef\xbc\x80", 6,
		      "\xef\xbb\xbe\xef\xbc\x80"); /* U+FEFE, U+FF00 around the BOM */
	check_display("\xf3\xa0\x84\x80", 4, "\xf3\xa0\x84\x80"); /* U+E0100, VS17 */
}

static void test_escape_display_invisible_stays_unambiguous(void **state)
{
	(void)state;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	/* A name spelling out the escape is not the character itself. */
	assert_int_equal(escape_display(&a, "\\u202e", 6), 0);
	assert_int_equal(escape_display(&b, "\xe2\x80\xae", 3), 0);
	assert_string_equal(a.buf, "\\\\u202e");
	assert_string_not_equal(a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_escape_is_clean_keeps_invisible_for_json(void **state)
{
	(void)state;
	/* JSON carries the exact bytes of valid UTF-8: only its display escapes them. */
	assert_true(escape_is_clean("\xe2\x80\xaetxt.exe", 10));
	assert_true(escape_is_clean("\xef\xbb\xbf", 3));
}

static void check_message(const char *in, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(escape_message(&sb, in, strlen(in)), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_escape_message_escapes_controls_and_invisible_only(void **state)
{
	(void)state;
	check_message("cannot open 'a\\nb': x", "cannot open 'a\\nb': x");
	check_message("line\nbreak\x1b[2J", "line\\x0abreak\\x1b[2J");
	check_message("nel \xc2\x85.", "nel \\xc2\\x85.");
	check_message("label \xe2\x80\xae"
		      "fdp.exe",
		      "label \\u202efdp.exe");
	check_message("caf\xc3\xa9 \xe6\x97\xa5 \xff", "caf\xc3\xa9 \xe6\x97\xa5 \xff");
}

static void test_escape_display_is_unambiguous(void **state)
{
	(void)state;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;

	/* A literal backslash-n and a newline must not look alike. */
	assert_int_equal(escape_display(&a, "\\n", 2), 0);
	assert_int_equal(escape_display(&b, "\n", 1), 0);
	assert_string_not_equal(a.buf, b.buf);
	strbuf_release(&a);
	strbuf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_is_clean_accepts_utf8_rejects_controls),
		cmocka_unit_test(test_escape_display_escapes_controls_and_invalid_bytes),
		cmocka_unit_test(test_escape_display_is_unambiguous),
		cmocka_unit_test(test_escape_display_escapes_bidi_controls),
		cmocka_unit_test(test_escape_display_escapes_zero_width_and_separators),
		cmocka_unit_test(test_escape_display_keeps_visible_neighbours),
		cmocka_unit_test(test_escape_display_invisible_stays_unambiguous),
		cmocka_unit_test(test_escape_is_clean_keeps_invisible_for_json),
		cmocka_unit_test(test_escape_message_escapes_controls_and_invisible_only),
	};
	return cmocka_run_group_tests_name("common/escape", tests, NULL, NULL);
}
