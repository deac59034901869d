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
	assert_int_equal(pattern_new("=a", &p), -EINVAL);
	assert_int_equal(pattern_new("=/a/*", &p), -EINVAL);
	assert_ptr_equal(p, (struct pattern *)0x1);
}

static void test_pattern_exact_matches_path_only(void **state)
{
	(void)state;
	assert_true(match("=/var/log", "/var/log"));
	assert_false(match("=/var/log", "/var/log/syslog"));
	assert_false(match("=/var/log", "/var"));
	assert_true(match("=/var/log/", "/var/log"));
	assert_true(match("=/", "/"));
	assert_false(match("=/", "/etc"));
	/* An escaped '=' is a name. */
	assert_true(match("\\=x", "/a/=x"));
}

static void test_pattern_error_says_why(void **state)
{
	(void)state;
	assert_null(pattern_error("/etc"));
	assert_null(pattern_error("*.swp"));
	assert_string_equal(pattern_error(""), "empty pattern");
	assert_string_equal(pattern_error("/a/[b"), "unterminated '['");
	assert_string_equal(pattern_error("=a"), "'=' must be followed by an absolute path");
	assert_string_equal(pattern_error("=/a/*"), "'=' takes a literal path, not a glob");
}

static void check_anchor(const char *text, bool has, const char *want)
{
	struct pattern *p = NULL;
	const char *a = NULL;
	size_t n = 0;

	assert_int_equal(pattern_new(text, &p), 0);
	assert_int_equal(pattern_anchor(p, &a, &n), has);
	if (has) {
		assert_int_equal(n, strlen(want));
		assert_memory_equal(a, want, n);
	}
	pattern_free(p);
}

static void test_pattern_anchor_is_literal_directory(void **state)
{
	(void)state;
	check_anchor("/etc", true, "/etc");
	check_anchor("/etc/", true, "/etc");
	check_anchor("/", true, "");
	check_anchor("=/etc/x", true, "/etc/x");
	check_anchor("=/", true, "");
	check_anchor("/etc/*.conf", true, "/etc");
	check_anchor("/etc/ab*", true, "/etc");
	check_anchor("/etc*/x", true, "");
	check_anchor("/usr/share/doc/**", true, "/usr/share/doc");
	check_anchor("/a/b\\*", true, "/a");
	check_anchor("*.swp", false, NULL);
	check_anchor("a/*", false, NULL);
}

static bool tree(const char *pat, const char *path)
{
	struct pattern *p = NULL;
	bool m;

	assert_int_equal(pattern_new(pat, &p), 0);
	m = pattern_match_tree(p, path, strlen(path));
	pattern_free(p);
	return m;
}

static void test_pattern_match_tree_covers_subtree(void **state)
{
	(void)state;
	assert_true(tree("*.swp", "/a/b.swp"));
	assert_true(tree("*.swp", "/a/b.swp/c/d"));
	assert_false(tree("*.swp", "/a/b/c"));
	assert_true(tree("/home/*/.cache", "/home/a/.cache/x"));
	assert_false(tree("/home/*/.cache", "/home/a"));
	assert_true(tree("=/tmp", "/tmp/x"));
	assert_true(tree("/tmp", "/tmp"));
	assert_false(tree("/tmp", "/tmpx"));
}

static bool below(const char *pat, const char *dir)
{
	struct pattern *p = NULL;
	bool m;

	assert_int_equal(pattern_new(pat, &p), 0);
	m = pattern_may_match_below(p, dir, strlen(dir));
	pattern_free(p);
	return m;
}

static void test_pattern_may_match_below(void **state)
{
	(void)state;
	assert_true(below("/etc/ssh", "/"));
	assert_true(below("/etc/ssh", "/etc"));
	assert_true(below("/etc/ssh", "/etc/ssh"));
	assert_true(below("/etc/ssh", "/etc/ssh/a"));
	assert_false(below("/etc/ssh", "/etc/ss"));
	assert_false(below("/etc/ssh", "/usr"));
	assert_true(below("=/etc/ssh", "/etc"));
	assert_false(below("=/etc/ssh", "/etc/ssh"));
	assert_false(below("=/", "/"));
	assert_true(below("/etc/*.d/x", "/etc/a.d"));
	assert_false(below("/etc/*.d/x", "/etc/a.d/x"));
	assert_true(below("/etc/**/x", "/etc/a/b/c"));
	assert_false(below("/etc/**/x", "/usr"));
	assert_true(below("*.swp", "/anything"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pattern_prefix_matches_path_and_subtree_only),
		cmocka_unit_test(test_pattern_glob_star_does_not_cross_slash),
		cmocka_unit_test(test_pattern_double_star_crosses_directories),
		cmocka_unit_test(test_pattern_basename_matches_at_any_depth),
		cmocka_unit_test(test_pattern_new_rejects_bad_patterns_and_keeps_output),
		cmocka_unit_test(test_pattern_exact_matches_path_only),
		cmocka_unit_test(test_pattern_error_says_why),
		cmocka_unit_test(test_pattern_anchor_is_literal_directory),
		cmocka_unit_test(test_pattern_match_tree_covers_subtree),
		cmocka_unit_test(test_pattern_may_match_below),
	};
	return cmocka_run_group_tests_name("common/pattern", tests, NULL, NULL);
}
