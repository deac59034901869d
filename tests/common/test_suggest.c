#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/suggest.h"

static void test_distance_counts_edits(void **state)
{
	(void)state;
	assert_int_equal(suggest_distance("check", "check"), 0);
	assert_int_equal(suggest_distance("chek", "check"), 1);   /* deletion */
	assert_int_equal(suggest_distance("checkk", "check"), 1); /* insertion */
	assert_int_equal(suggest_distance("cheak", "check"), 1);  /* substitution */
	assert_int_equal(suggest_distance("chekc", "check"), 1);  /* swap of neighbours */
	assert_int_equal(suggest_distance("", "init"), 4);
	assert_int_equal(suggest_distance("formt", "format"), 1);
	assert_int_equal(suggest_distance("snapshots", "init"), 7);
	/* Too long to be a typo: no table overflow, no suggestion. */
	assert_int_equal(suggest_distance("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a"), SIZE_MAX);
	assert_int_equal(suggest_distance("a", "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"), SIZE_MAX);
	assert_int_equal(suggest_distance("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a"), 31);
}

static void test_suggest_takes_the_nearest_near_enough(void **state)
{
	(void)state;
	static const char *const commands[] = { "init", "check", "scan", "diff", "snapshots" };
	struct suggest s;

	suggest_init(&s, "chek");
	for (size_t i = 0; i < 5; i++)
		suggest_try(&s, commands[i]);
	assert_string_equal(s.best, "check");
	assert_int_equal(s.dist, 1);

	/* Up to 4 bytes, one edit: "dif" is "diff", "scn" is "scan", "xyz" nothing. */
	suggest_init(&s, "dif");
	for (size_t i = 0; i < 5; i++)
		suggest_try(&s, commands[i]);
	assert_string_equal(s.best, "diff");
	suggest_init(&s, "xyz");
	for (size_t i = 0; i < 5; i++)
		suggest_try(&s, commands[i]);
	assert_null(s.best);
	suggest_init(&s, "chck");
	suggest_try(&s, "check");
	assert_string_equal(s.best, "check");
	suggest_init(&s, "ck");
	suggest_try(&s, "check");
	assert_null(s.best);

	/* Longer words, two edits. */
	suggest_init(&s, "snapshts");
	for (size_t i = 0; i < 5; i++)
		suggest_try(&s, commands[i]);
	assert_string_equal(s.best, "snapshots");
	suggest_init(&s, "snpshts");
	suggest_try(&s, "snapshots");
	assert_string_equal(s.best, "snapshots");
	suggest_init(&s, "snpsht");
	suggest_try(&s, "snapshots");
	assert_null(s.best);

	/* The word itself is no suggestion; of two at one distance, the first stays. */
	suggest_init(&s, "scan");
	suggest_try(&s, "scan");
	assert_null(s.best);
	suggest_init(&s, "colr");
	suggest_try(&s, "color");
	suggest_try(&s, "colour");
	assert_string_equal(s.best, "color");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_distance_counts_edits),
		cmocka_unit_test(test_suggest_takes_the_nearest_near_enough),
	};
	return cmocka_run_group_tests_name("common/suggest", tests, NULL, NULL);
}
