#ifndef DRIFT_TESTS_REPORT_FIXTURE_H
#define DRIFT_TESTS_REPORT_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "report/report.h"
#include "compare/compare.h"

/*
 * The verdict and package context of a finding as the report tests give
 * them: strings, as a consumer would read them back; fx_add_attributed()
 * turns them into a struct finding (class and severity by their one name
 * table, common/verdict.h) and adds it with report_add_finding().
 */
struct fx_verdict {
	const char *class_name; /* "expected", "drift", "violation" (or a bad one) */
	bool counts;
	const char *severity_name; /* NULL: the rank's */
	unsigned severity_rank;
	const char *rule_id, *rule_title, *rule_file;
	unsigned rule_line;
	const char *reason;
	uint32_t attrs;
};

struct fx_owner {
	const char *package;
	const char *old_version, *new_version;
	bool unowned;
};

/* report_add_finding() of @d with the verdict @v (NULL: unjudged) and package context @o. */
int fx_add_attributed(struct report *rep, const struct deviation *d, const struct fx_verdict *v,
		      const struct fx_owner *o);
int fx_add_verdict(struct report *rep, const struct deviation *d, const struct fx_verdict *v);
int fx_add(struct report *rep, const struct deviation *d);
int fx_add_cb(const struct deviation *d, void *userdata);

/*
 * Hand-built report inputs shared by the text and JSON tests (no database):
 * snapshots, deviations and unreadable entries, plus golden-file checking.
 */

/** The snapshots of the fixtures. Static storage; fixed values. */
extern const struct snap_info fx_baseline, fx_check, fx_pre, fx_post;

/** meta for `drift check` of fx_check against fx_baseline (no colour). */
void fx_meta_check(struct report_meta *ret_meta);
/** meta for `drift diff pre post` (fx_pre, fx_post; SNAP_COMPARE_ALL). */
void fx_meta_diff(struct report_meta *ret_meta);

/** Adders: each feeds a report, in key order; return 0 or the first error. */
typedef int fx_add_fn(struct report *rep);
/** Nothing at all. */
int fx_add_nothing(struct report *rep);
/** Every change kind, every attribute, every type, and two unreadable entries. */
int fx_add_mixed(struct report *rep);
/** Exactly one removed file. */
int fx_add_one(struct report *rep);
/** One unreadable entry and no deviations. */
int fx_add_unreadable_only(struct report *rep);
/** Names with a newline, control bytes, DEL, C1, invalid UTF-8, backslash, quotes... */
int fx_add_weird(struct report *rep);
/**
 * With verdicts: drift of every severity, expected changes, one deviation
 * without a verdict, the optional attributes (xattrs with binary values,
 * ACL, caps, SELinux, MIME), and one unreadable entry.
 */
int fx_add_classified(struct report *rep);

/**
 * System state and package attribution, with verdicts, in (kind, key)
 * order: files (owned by an upgraded package, a locally modified
 * configuration, an unowned file, one without a verdict), packages (an
 * upgrade, a new one, a removed one), users (a removed one, a changed shell
 * and a property on one side only with invalid UTF-8, a key with invalid
 * UTF-8) and ports (an added one with an empty property); two unreadable
 * entries (a file, a service); three notes.
 */
int fx_add_system(struct report *rep);

/** meta for `drift verify`: no snapshots, 12345 files checked. */
void fx_meta_verify(struct report_meta *ret_meta);
/**
 * What verify finds: MD5 content mismatches against the package, a missing
 * file, an unowned one, with verdicts and owners; one note.
 */
int fx_add_verify(struct report *rep);

/** meta for `drift check` whose baseline was taken under another policy. */
void fx_meta_check_policy(struct report_meta *ret_meta);

/**
 * Render a whole report in memory. Returns 0 and a malloc'd NUL-terminated
 * *ret_buf (free()), or the first error; the test fails on its own when a
 * step fails unexpectedly.
 */
int fx_render(enum report_format format, const struct report_meta *meta, fx_add_fn *add,
	      char **ret_buf, size_t *ret_len);

/**
 * Compare @buf with tests/golden/@name byte for byte; with
 * DRIFT_UPDATE_GOLDEN=1 in the environment, rewrite the file instead.
 */
void fx_golden_check(const char *name, const char *buf, size_t len);

/** Write @buf to a new temporary file; returns its malloc'd path (unlink + free it). */
char *fx_write_temp(const char *buf, size_t len);

/** True when built with AddressSanitizer (malloc statistics mean nothing then). */
bool fx_under_asan(void);

#endif /* DRIFT_TESTS_REPORT_FIXTURE_H */
