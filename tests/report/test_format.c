/* Unit tests of report/format.c: times, hashes, modes and device numbers as reports show them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "report/report.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/strbuf.h"

#define SEC INT64_C(1000000000)

static void assert_time(int64_t ns, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(report_format_time(&sb, ns), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_format_time_epoch_is_all_zeros(void **state)
{
	(void)state;
	assert_time(0, "1970-01-01T00:00:00.000000000Z");
}

static void test_format_time_pads_nanoseconds_to_nine_digits(void **state)
{
	(void)state;
	assert_time(1, "1970-01-01T00:00:00.000000001Z");
	assert_time(1795615323 * SEC + 123456789, "2026-11-25T14:02:03.123456789Z");
	assert_time(1795615323 * SEC + 120000000, "2026-11-25T14:02:03.120000000Z");
	assert_time(1795615323 * SEC + 999999999, "2026-11-25T14:02:03.999999999Z");
}

static void test_format_time_before_1970_rounds_down(void **state)
{
	(void)state;
	assert_time(-1, "1969-12-31T23:59:59.999999999Z");
	assert_time(-SEC, "1969-12-31T23:59:59.000000000Z");
	assert_time(-SEC - 1, "1969-12-31T23:59:58.999999999Z");
	assert_time(-86400 * SEC + 500000000, "1969-12-31T00:00:00.500000000Z");
}

static void test_format_time_covers_the_whole_int64_range(void **state)
{
	(void)state;
	assert_time(INT64_MIN, "1677-09-21T00:12:43.145224192Z");
	assert_time(INT64_MAX, "2262-04-11T23:47:16.854775807Z");
}

static void test_format_time_appends_to_the_buffer(void **state)
{
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(strbuf_adds(&sb, "mtime: "), 0);
	assert_int_equal(report_format_time(&sb, 1735787045 * SEC), 0);
	assert_string_equal(sb.buf, "mtime: 2025-01-02T03:04:05.000000000Z");
	strbuf_release(&sb);
}

static void assert_mode(uint32_t mode, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(report_format_mode(&sb, mode), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_format_mode_pads_to_four_octal_digits(void **state)
{
	(void)state;
	assert_mode(0644, "0644");
	assert_mode(0, "0000");
	assert_mode(07, "0007");
	assert_mode(0777, "0777");
}

static void test_format_mode_shows_setuid_setgid_sticky(void **state)
{
	(void)state;
	assert_mode(04755, "4755");
	assert_mode(02755, "2755");
	assert_mode(01777, "1777");
	assert_mode(07777, "7777");
}

static void test_format_mode_ignores_the_type_bits(void **state)
{
	(void)state;
	assert_mode(S_IFREG | 0644, "0644");
	assert_mode(S_IFDIR | 01777, "1777");
	assert_mode(S_IFLNK | 0777, "0777");
	assert_mode(S_IFSOCK | 04755, "4755");
}

static void test_format_hash_is_lowercase_hex_of_all_bytes(void **state)
{
	struct entry e = { .hash_algo = HASH_XXH3_128, .hash_len = 16 };
	struct strbuf sb = STRBUF_INIT;
	static const uint8_t h[16] = { 0x00, 0x01, 0xab, 0xCD, 0xef, 0x10, 0x99, 0xff,
				       0x7f, 0x80, 0x0a, 0xa0, 0x12, 0x34, 0x56, 0x78 };

	(void)state;
	memcpy(e.hash, h, sizeof(h));
	assert_int_equal(report_format_hash(&sb, &e), 0);
	assert_string_equal(sb.buf, "0001abcdef1099ff7f800aa012345678");
	strbuf_release(&sb);
}

static void test_format_hash_handles_a_32_byte_hash(void **state)
{
	struct entry e = { .hash_algo = HASH_SHA256, .hash_len = 32 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	for (unsigned i = 0; i < 32; i++)
		e.hash[i] = (uint8_t)(i * 8 + 1);
	assert_int_equal(report_format_hash(&sb, &e), 0);
	assert_string_equal(sb.buf,
			    "0109111921293139414951596169717981899199a1a9b1b9c1c9d1d9e1e9f1f9");
	strbuf_release(&sb);
}

/* dpkg's MD5 sums (drift verify): 32 hex digits, like the others. */
static void test_format_hash_handles_an_md5_sum(void **state)
{
	struct entry e = { .hash_algo = HASH_MD5, .hash_len = 16 };
	struct strbuf sb = STRBUF_INIT;
	static const uint8_t h[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
				       0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };

	(void)state;
	memcpy(e.hash, h, sizeof(h));
	assert_int_equal(report_format_hash(&sb, &e), 0);
	assert_string_equal(sb.buf, "d41d8cd98f00b204e9800998ecf8427e");
	strbuf_release(&sb);
}

static void test_format_purpose_names_every_purpose(void **state)
{
	(void)state;
	assert_string_equal(report_purpose_name(SNAP_PURPOSE_SCAN), "scan");
	assert_string_equal(report_purpose_name(SNAP_PURPOSE_BASELINE), "baseline");
	assert_string_equal(report_purpose_name(SNAP_PURPOSE_CHECK), "check");
	assert_string_equal(report_purpose_name(SNAP_PURPOSE_UPGRADE), "upgrade");
	assert_string_equal(report_purpose_name((enum snap_purpose)42), "unknown");
}

static void test_format_hash_says_none_when_not_hashed(void **state)
{
	struct entry none = { .hash_algo = HASH_NONE, .hash_len = 16 };
	struct entry empty = { .hash_algo = HASH_XXH3_128, .hash_len = 0 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	assert_int_equal(report_format_hash(&sb, &none), 0);
	assert_string_equal(sb.buf, "none");
	strbuf_reset(&sb);
	assert_int_equal(report_format_hash(&sb, &empty), 0);
	assert_string_equal(sb.buf, "none");
	strbuf_release(&sb);
}

static void assert_rdev(uint32_t mode, uint64_t rdev, const char *want)
{
	struct entry e = { .kind = ENTRY_FILE, .mode = mode, .rdev = rdev };
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(report_format_rdev(&sb, &e), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_format_rdev_is_major_comma_minor_of_devices_only(void **state)
{
	(void)state;
	assert_rdev(S_IFCHR | 0666, makedev(1, 5), "1,5");
	assert_rdev(S_IFBLK | 0660, makedev(259, 3), "259,3");
	assert_rdev(S_IFCHR | 0600, 0, "0,0");
	/* The largest numbers the kernel encodes: 12-bit major, 20-bit minor. */
	assert_rdev(S_IFBLK | 0600, makedev(4095, 1048575), "4095,1048575");
	assert_rdev(S_IFCHR | 0600, ENTRY_RDEV_UNKNOWN, "unknown");
	assert_rdev(S_IFREG | 0644, 0, "none");
	assert_rdev(S_IFDIR | 0755, makedev(1, 5), "none");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_time_epoch_is_all_zeros),
		cmocka_unit_test(test_format_time_pads_nanoseconds_to_nine_digits),
		cmocka_unit_test(test_format_time_before_1970_rounds_down),
		cmocka_unit_test(test_format_time_covers_the_whole_int64_range),
		cmocka_unit_test(test_format_time_appends_to_the_buffer),
		cmocka_unit_test(test_format_mode_pads_to_four_octal_digits),
		cmocka_unit_test(test_format_mode_shows_setuid_setgid_sticky),
		cmocka_unit_test(test_format_mode_ignores_the_type_bits),
		cmocka_unit_test(test_format_hash_is_lowercase_hex_of_all_bytes),
		cmocka_unit_test(test_format_hash_handles_a_32_byte_hash),
		cmocka_unit_test(test_format_hash_says_none_when_not_hashed),
		cmocka_unit_test(test_format_hash_handles_an_md5_sum),
		cmocka_unit_test(test_format_purpose_names_every_purpose),
		cmocka_unit_test(test_format_rdev_is_major_comma_minor_of_devices_only),
	};
	return cmocka_run_group_tests_name("report/format", tests, NULL, NULL);
}
