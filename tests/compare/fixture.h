#ifndef DRIFT_TESTS_COMPARE_FIXTURE_H
#define DRIFT_TESTS_COMPARE_FIXTURE_H

/*
 * The fixture of the tests of compare_snapshots(): a real database, a real
 * host directory (its fd is the comparison's root: records and files are
 * read there), a policy, the two sides, and the log of what the
 * comparison gave.
 */

#include <stdbool.h>

#include "compare/compare.h"
#include "tests/compare/collect.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

struct fx {
	struct troot host; /* the host: its fd is the comparison's root */
	struct troot var;  /* holds the database */
	char db[128];
	struct snap_store *st;
	struct rule_set *rules;
	struct snap_info before, after;
	struct log log;
};

/* How a test runs the comparison. */
struct how {
	bool count_expected;
	bool live;     /* the after side is the host as scanned just now */
	bool no_rules; /* compare without a policy */
	bool no_host;  /* rootfd -1 */
};

/** cmocka setup: the fixture with the policy @text; teardown with fx_teardown(). */
int fx_setup_policy(void **state, const char *text);
int fx_teardown(void **state);
/** Replace the policy. */
void policy_load(struct fx *fx, const char *text);
/** Write the file @path (absolute) of the host with @content. */
void host_put(struct fx *fx, const char *path, const char *content);
void host_mkdir(struct fx *fx, const char *path);
/** Write both sides into the database, labelled "before" and "after" unless they say. */
void sides(struct fx *fx, const struct side *before, const struct side *after);
/**
 * Compare fx->before with fx->after (their snap_info: a test may change
 * their times first) into fx->log, failing the test on an error.
 */
int compare(struct fx *fx, const struct how *how);
/** The finding of the file @path. */
const struct got *file(const struct fx *fx, const char *path);
/** The package context of @g: name, and the versions ("-" for none). */
void assert_package(const struct got *g, const char *name, const char *before, const char *after);

/* Shorthands for the sides' lists (clang-format would spread each over four lines). */
/* clang-format off */
#define REG(p, c)  { .path = (p), .content = (c) }
#define SUM(p, c)  { .path = (p), .sum_of = (c) }
#define CONF(p, c) { .path = (p), .sum_of = (c), .conffile = true }
#define NOSUM(p)   { .path = (p) }
/* clang-format on */

#endif /* DRIFT_TESTS_COMPARE_FIXTURE_H */
