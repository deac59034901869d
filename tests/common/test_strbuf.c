#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void test_strbuf_keeps_buf_terminated_and_grows(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;

	assert_non_null(sb.buf);
	assert_string_equal(sb.buf, "");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(strbuf_addf(&sb, "%d,", i % 10), 0);
	assert_int_equal(sb.len, 2000);
	assert_int_equal(sb.buf[sb.len], '\0');
	assert_int_equal(strbuf_add(&sb, "a\0b", 3), 0);
	assert_int_equal(sb.len, 2003);
	assert_memory_equal(sb.buf + 2000, "a\0b", 3);
	strbuf_setlen(&sb, 2);
	assert_string_equal(sb.buf, "0,");
	strbuf_release(&sb);
	assert_string_equal(sb.buf, "");
	assert_int_equal(sb.len, 0);
}

static void test_strbuf_detach_hands_over_memory(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	size_t len = 0;
	char *p;

	p = strbuf_detach(&sb, &len);
	assert_non_null(p);
	assert_string_equal(p, "");
	free(p);
	assert_int_equal(strbuf_adds(&sb, "hello"), 0);
	p = strbuf_detach(&sb, &len);
	assert_string_equal(p, "hello");
	assert_int_equal(len, 5);
	assert_int_equal(sb.len, 0);
	assert_string_equal(sb.buf, "");
	free(p);
}

static void test_strbuf_addf_long_output(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	char big[5000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(strbuf_addf(&sb, "<%s>", big), 0);
	assert_int_equal(sb.len, sizeof(big) + 1);
	assert_int_equal(sb.buf[0], '<');
	assert_int_equal(sb.buf[sb.len - 1], '>');
	strbuf_release(&sb);
}

static void test_diag_set_returns_code_and_formats(void **state)
{
	(void)state;
	struct diag d;

	assert_int_equal(diag_set(&d, -EINVAL, "bad '%s'", "x"), -EINVAL);
	assert_string_equal(d.msg, "bad 'x'");
	assert_int_equal(diag_set(NULL, -EIO, "ignored"), -EIO);
}

static void test_diag_set_never_cuts_a_utf8_sequence(void **state)
{
	(void)state;
	struct diag d;
	char long_name[400];

	/* 254 ASCII bytes, then a 3-byte character that does not fit. */
	memset(long_name, 'a', 254);
	memcpy(long_name + 254, "\xe2\x82\xac\xe2\x82\xac", 6);
	long_name[260] = '\0';
	diag_set(&d, -EIO, "%s", long_name);
	assert_int_equal(strlen(d.msg), 254);
	/* A character that fits whole is kept. */
	long_name[252] = '\0';
	memcpy(long_name + 252, "\xe2\x82\xac", 4);
	diag_set(&d, -EIO, "%s", long_name);
	assert_int_equal(strlen(d.msg), 255);
}

static void test_entry_names(void **state)
{
	(void)state;
	enum hash_algo a = HASH_NONE;

	assert_string_equal(entry_type_name(S_IFREG | 0644), "file");
	assert_string_equal(entry_type_name(S_IFDIR), "dir");
	assert_string_equal(entry_type_name(S_IFLNK), "symlink");
	assert_string_equal(entry_type_name(S_IFIFO), "fifo");
	assert_string_equal(entry_type_name(S_IFSOCK), "socket");
	assert_string_equal(entry_type_name(S_IFCHR), "chardev");
	assert_string_equal(entry_type_name(S_IFBLK), "blockdev");
	assert_string_equal(entry_attr_name(ATTR_TYPE), "type");
	assert_string_equal(entry_attr_name(ATTR_ERROR), "error");
	assert_null(entry_attr_name(ATTR_TYPE | ATTR_MODE));
	assert_int_equal(hash_algo_parse("xxh3-128", &a), 0);
	assert_int_equal(a, HASH_XXH3_128);
	assert_int_equal(hash_algo_parse("md5", &a), -EINVAL);
	assert_int_equal(a, HASH_XXH3_128);
	assert_string_equal(hash_algo_name(HASH_XXH3_128), "xxh3-128");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strbuf_keeps_buf_terminated_and_grows),
		cmocka_unit_test(test_strbuf_detach_hands_over_memory),
		cmocka_unit_test(test_strbuf_addf_long_output),
		cmocka_unit_test(test_diag_set_returns_code_and_formats),
		cmocka_unit_test(test_diag_set_never_cuts_a_utf8_sequence),
		cmocka_unit_test(test_entry_names),
	};
	return cmocka_run_group_tests_name("common/strbuf", tests, NULL, NULL);
}
