/*
 * Honest skips for the cmocka tests, as meson's TAP reader counts them.
 *
 * cmocka 1.1 prints a skip() as "not ok N # SKIP name", and meson counts a "not ok" line
 * as a failure whatever its directive; only "ok N ... # SKIP reason" is a skip. So the
 * tests do not call skip(): a test that cannot run here calls tap_skip("why"), which
 * renames the test's entry to "name # SKIP why" and returns; cmocka then prints
 * "ok N - name # SKIP why", which meson counts as skipped (and a group whose every test
 * skipped as a skipped test). A failure after the skip (a teardown) still prints
 * "not ok": a failure.
 *
 * Include after <cmocka.h>, and run the group with tap_run_group_tests_name() instead of
 * cmocka_run_group_tests_name(): tap_skip() renames the entry of that group's own copy
 * (cmocka 1.1 prints a test's line after it ran, with the name of the group's entry; a
 * function listed twice in a group must not call tap_skip(): the first entry is renamed).
 * tap_skip() must be called from the test function itself (it finds the entry by the
 * function's name, and returns from it); a helper that finds the test cannot run returns
 * that to the test. Called anywhere else, it fails the test.
 *
 * tap_skip_all("why") is for an executable that cannot run at all: under TAP it prints the
 * plan "1..0 # SKIP why" and exits 0 (meson reads exit 77 of a TAP test as an error),
 * otherwise it exits 77.
 */
#ifndef DRIFT_TESTS_TAP_H
#define DRIFT_TESTS_TAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static struct CMUnitTest *tap_group;
static char **tap_names; /* the names tap_skip() gave, to free */
static size_t tap_ngroup;

static inline int tap_run_group_(const char *name, const struct CMUnitTest *tests, size_t n,
				 CMFixtureFunction setup, CMFixtureFunction teardown)
{
	int r;

	tap_group = calloc(n, sizeof(*tap_group));
	tap_names = calloc(n, sizeof(*tap_names));
	if (!tap_group || !tap_names) {
		fprintf(stderr, "%s: out of memory\n", name);
		free(tap_group);
		free(tap_names);
		return 1;
	}
	memcpy(tap_group, tests, n * sizeof(*tap_group));
	tap_ngroup = n;
	r = _cmocka_run_group_tests(name, tap_group, n, setup, teardown);
	for (size_t i = 0; i < n; i++)
		free(tap_names[i]);
	free(tap_names);
	free(tap_group);
	tap_names = NULL;
	tap_group = NULL;
	tap_ngroup = 0;
	return r;
}

#define tap_run_group_tests_name(name, tests, setup, teardown) \
	tap_run_group_(name, tests, sizeof(tests) / sizeof((tests)[0]), setup, teardown)

/* 0, or -1 when @func is not a test of the group (the caller fails the test). */
static inline int tap_skip_(const char *func, const char *why)
{
	for (size_t i = 0; i < tap_ngroup; i++) {
		struct CMUnitTest *t = &tap_group[i];
		size_t len;
		char *name, *c;

		if (!t->name || strcmp(t->name, func) != 0)
			continue;
		len = strlen(func) + strlen(" # SKIP ") + strlen(why) + 1;
		name = malloc(len);
		if (!name)
			return -1;
		snprintf(name, len, "%s # SKIP %s", func, why);
		for (c = name; *c; c++) /* one TAP line: the reason cannot end it */
			if (*c == '\n' || *c == '\r')
				*c = ' ';
		free(tap_names[i]);
		tap_names[i] = name;
		t->name = name;
		return 0;
	}
	return -1;
}

#define tap_skip(why)                                                                       \
	do {                                                                                \
		if (tap_skip_(__func__, (why)) < 0)                                         \
			fail_msg("tap_skip() in %s, which is not a test of a group run by " \
				 "tap_run_group_tests_name()",                              \
				 __func__);                                                 \
		return;                                                                     \
	} while (0)

static inline void tap_skip_all(const char *why)
{
	const char *out = getenv("CMOCKA_MESSAGE_OUTPUT");

	if (out && strcasecmp(out, "TAP") == 0) {
		printf("1..0 # SKIP %s\n", why);
		fflush(stdout);
		exit(0);
	}
	fprintf(stderr, "skipped: %s\n", why);
	exit(77);
}

#endif
