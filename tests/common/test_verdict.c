#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/verdict.h"

#include <errno.h>
#include <string.h>

/* Every value has its name, and the name reads back as the value: one table, both ways. */
static void test_names_round_trip(void **state)
{
	(void)state;
	for (unsigned i = 0; i < SEVERITY__COUNT; i++) {
		enum severity s = SEVERITY_CRITICAL;

		assert_int_equal(severity_from_name(severity_name((enum severity)i), &s), 0);
		assert_int_equal(s, i);
	}
	for (unsigned i = 0; i < CLASS__COUNT; i++) {
		enum verdict_class c = CLASS_VIOLATION;

		assert_int_equal(class_from_name(class_name((enum verdict_class)i), &c), 0);
		assert_int_equal(c, i);
	}
	assert_string_equal(severity_name(SEVERITY_INFO), "info");
	assert_string_equal(severity_name(SEVERITY_CRITICAL), "critical");
	assert_string_equal(class_name(CLASS_EXPECTED), "expected");
	assert_string_equal(class_name(CLASS_DRIFT), "drift");
	assert_string_equal(change_name(CHANGE_ADDED), "added");
	assert_string_equal(change_name(CHANGE_REMOVED), "removed");
	assert_string_equal(change_name(CHANGE_MODIFIED), "modified");
}

/* Severities order as they read: a report sorts and a filter compares by value. */
static void test_severities_are_ordered(void **state)
{
	(void)state;
	assert_true(SEVERITY_INFO < SEVERITY_LOW);
	assert_true(SEVERITY_LOW < SEVERITY_MEDIUM);
	assert_true(SEVERITY_MEDIUM < SEVERITY_HIGH);
	assert_true(SEVERITY_HIGH < SEVERITY_CRITICAL);
}

static void test_out_of_range_and_unknown_names(void **state)
{
	enum severity s = SEVERITY_LOW;
	enum verdict_class c = CLASS_DRIFT;

	(void)state;
	assert_string_equal(severity_name((enum severity)SEVERITY__COUNT), "unknown");
	assert_string_equal(class_name((enum verdict_class)CLASS__COUNT), "unknown");
	assert_string_equal(change_name((enum change)CHANGE__COUNT), "unknown");
	assert_string_equal(change_name((enum change) - 1), "unknown");
	assert_int_equal(severity_from_name("Critical", &s), -EINVAL);
	assert_int_equal(severity_from_name("", &s), -EINVAL);
	assert_int_equal(severity_from_name(NULL, &s), -EINVAL);
	assert_int_equal(s, SEVERITY_LOW); /* untouched on failure */
	assert_int_equal(class_from_name("drifted", &c), -EINVAL);
	assert_int_equal(c, CLASS_DRIFT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names_round_trip),
		cmocka_unit_test(test_severities_are_ordered),
		cmocka_unit_test(test_out_of_range_and_unknown_names),
	};
	return cmocka_run_group_tests_name("common/verdict", tests, NULL, NULL);
}
