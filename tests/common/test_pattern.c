#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/pattern.h"

#include <errno.h>
#include <string.h>

static bool match(const char *pat, const char *path)
{
	struct pattern *p = NULL;
	bool m;

	assert_int_equal(pattern_new(pat, &p), 0);
	m = pattern_match(p, path, strlen(path));
	pattern_free(p);
	return m;
}

static void test_pattern_prefix_matches_path_and_subtree_only(void **state)
{
	(void)state;
	assert_true(match("/var/cache", "/var/cache"));
	assert_true(match("/var/cache", "/var/cache/apt/x.bin"));
	assert_true(match("/var/cache/", "/var/cache/apt"));
	assert_false(match("/var/cache", "/var/cachet"));
	assert_false(match("/var/cache", "/var/cach"));
	assert_false(match("/var/cache", "/var"));
	assert_true(match("/", "/anything"));
}

static void test_pattern_glob_star_does_not_cross_slash(void **state)
{
	(void)state;
	assert_true(match("/home/*/.cache", "/home/ann/.cache"));
	assert_false(match("/home/*/.cache", "/home/ann/x/.cache"));
	assert_true(match("/etc/*.conf", "/etc/a.conf"));
	assert_false(match("/etc/*.conf", "/etc/sub/a.conf"));
	assert_true(match("/tmp/?", "/tmp/a"));
	assert_false(match("/tmp/?", "/tmp/ab"));
	assert_true(match("/dev/tty[0-9]", "/dev/tty5"));
	assert_false(match("/dev/tty[!0-9]", "/dev/tty5"));
	assert_true(match("/dev/tty[!0-9]", "/dev/ttyS"));
	assert_true(match("/a/\\*", "/a/*"));
	assert_false(match("/a/\\*", "/a/b"));
}

static void test_pattern_double_star_crosses_directories(void **state)
{
	(void)state;
	assert_true(match("/home/**/.cache", "/home/.cache"));
	assert_true(match("/home/**/.cache", "/home/a/.cache"));
	assert_true(match("/home/**/.cache", "/home/a/b/c/.cache"));
	assert_false(match("/home/**/.cache", "/homer/.cache"));
	assert_true(match("/var/log/**", "/var/log/a/b"));
}

static void test_pattern_basename_matches_at_any_depth(void **state)
{
	(void)state;
	assert_true(match("*.swp", "/etc/.passwd.swp"));
	assert_true(match("core", "/var/crash/core"));
	assert_false(match("core", "/var/crash/core.1"));
	assert_false(match("*.swp", "/etc/swp"));
	/* Bytes, not characters: invalid UTF-8 matches like anything else. */
	assert_true(match("*\xff", "/x/a\xff"));
}

static void test_pattern_new_rejects_bad_patterns_and_keeps_output(void **state)
{
	(void)state;
	struct pattern *p = (struct pattern *)0x1;

	assert_int_equal(pattern_new("", &p), -EINVAL);
	assert_int_equal(pattern_new("/a/[bc", &p), -EINVAL);
	assert_ptr_equal(p, (struct pattern *)0x1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_prefix_matches_path_and_subtree_only),
		cmocka_unit_test(test_pattern_glob_star_does_not_cross_slash),
		cmocka_unit_test(test_pattern_double_star_crosses_directories),
		cmocka_unit_test(test_pattern_basename_matches_at_any_depth),
		cmocka_unit_test(test_pattern_new_rejects_bad_patterns_and_keeps_output),
	};
	return cmocka_run_group_tests_name("common/pattern", tests, NULL, NULL);
}
