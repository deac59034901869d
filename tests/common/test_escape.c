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
	};
	return cmocka_run_group_tests_name("common/escape", tests, NULL, NULL);
}
