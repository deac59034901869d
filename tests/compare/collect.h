#ifndef DRIFT_TESTS_COMPARE_COLLECT_H
#define DRIFT_TESTS_COMPARE_COLLECT_H

/*
 * Helpers of the tests of compare/: a sink that copies every finding, note
 * and blind spot into a log (in the order they came), and the seams the
 * test executables are linked with (-Wl,--wrap, see meson.build):
 *
 *   scan_file_read()       counted: the host's file read per finding
 *   probe_open()           counted for one watched path, which can also be
 *                          made to fail with an errno (an unreadable file,
 *                          also as root)
 *   rule_set_match_kind()  counted: one policy match per deviation
 */

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compare/compare.h"

/** One finding, copied out of the callback. */
struct got {
	size_t seq; /* position among every event of the log */
	enum entry_kind kind;
	char key[128];
	enum change change;
	uint32_t changed, attrs;
	bool judged, counts;
	enum verdict_class class;
	enum severity severity;
	char reason[160];
	bool has_reason;
	char rule_id[32]; /* "" when no rule */
	char pkg[64];     /* "" when no package */
	char before_version[32], after_version[32];
	bool has_before_version, has_after_version;
	bool unowned;
};

#define LOG_MAX 32

struct log {
	size_t seq;
	size_t n;
	struct got f[LOG_MAX];
	size_t nnotes;
	char notes[4][400];
	size_t note_seq[4];
	size_t nblind;
	char blind[4][128];
	int blind_err[4];
};

/** A sink that appends to @log. */
struct compare_sink log_sink(struct log *log);
/** Empty @log. */
void log_reset(struct log *log);
/** The finding of (@kind, @key), failing the test when there is none (or several). */
const struct got *log_get(const struct log *log, enum entry_kind kind, const char *key);
/** The finding of (@kind, @key), or NULL. */
const struct got *log_find(const struct log *log, enum entry_kind kind, const char *key);

/** What the seams saw since seam_reset(). */
struct seams {
	unsigned file_reads;     /* scan_file_read() calls */
	unsigned matches;        /* rule_set_match_kind() calls */
	atomic_uint watch_opens; /* probe_open() of @watch (workers of verify call it too) */
	char watch[128];         /* relative to the root, no leading '/'; "" watches nothing */
	int watch_err;           /* > 0: probe_open() of @watch fails with -watch_err */
};
extern struct seams seams;

/** Zero the counts and watch @path (absolute or relative; NULL: nothing), failing with @err. */
void seam_reset(const char *path, int err);

/**
 * Take from this thread (and the threads it starts) the capabilities that
 * let root read any file (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH), so that
 * a mode-000 file is unreadable as root too; as another user, nothing
 * changes. dac_restore() gives them back (they stay permitted). Fails the
 * test when the capabilities cannot be changed.
 */
void dac_drop(void);
void dac_restore(void);

/** Fail the test unless @part occurs in @s. */
#define assert_contains(s, part)                                                 \
	do {                                                                     \
		if (!strstr((s), (part)))                                        \
			fail_msg("\"%s\" does not contain \"%s\"", (s), (part)); \
	} while (0)

#endif /* DRIFT_TESTS_COMPARE_COLLECT_H */
