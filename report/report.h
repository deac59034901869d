#ifndef DRIFT_REPORT_REPORT_H
#define DRIFT_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/entry.h"
#include "store/store.h"

struct diag;

/**
 * Reports: consumers of the deviation stream.
 *
 *     struct report *rep;
 *     r = report_new(REPORT_JSON, stdout, &meta, &rep, &diag);
 *     ... snap_compare(old, new, flags, report_add_cb, rep, &diag) ...
 *     ... for each entry of the new snapshot with an error: report_add_error(rep, e) ...
 *     r = report_finish(rep, &diag);
 *     report_free(rep);
 *
 * Deviations and errors arrive in key order, one at a time; the report
 * spools them to temporary files (memory stays flat however many there
 * are) and writes the whole document in report_finish(): the summary
 * first, then the deviations grouped by change (added, removed, modified),
 * then the entries that could not be read.
 *
 * Text: a one-line summary; a clean run is that one line. Then per change a
 * heading and one path a line, modified ones followed by
 * `    attribute: old -> new` lines. Paths and targets are escaped
 * (common/escape.h), never raw. Colour (ANSI) only when meta->color.
 *
 * JSON: one document, schema in docs/json-report.md; keys in a stable
 * order; paths lossless (`path` plus `path_b64` when not clean UTF-8).
 */
enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
};

/** What the report says about the run. Everything is borrowed until report_free(). */
struct report_meta {
	const char *command;         /**< "check" or "diff" */
	const char *database;        /**< path of the database */
	const struct snap_info *old; /**< the baseline, or the first snapshot of a diff */
	const struct snap_info *new; /**< the live scan, or the second snapshot */
	unsigned compare_flags;      /**< enum snap_compare_flags used */
	bool color;                  /**< text only: ANSI colour */
	int64_t generated_ns;        /**< time of the report; 0 = now (taken in report_new()) */
	const char *tool_version;    /**< JSON tool.version; NULL = DRIFT_VERSION */
};

struct report;

/**
 * Start a report written to @out (borrowed; not closed). Returns 0 and
 * *ret_report (free with report_free()), or -ENOMEM / -EIO (no temporary
 * file could be made) / -EINVAL (unknown format, a command other than
 * "check" or "diff", or a missing meta->old / meta->new); *ret_report is
 * untouched on failure. Nothing is written to @out before report_finish().
 */
int report_new(enum report_format format, FILE *out, const struct report_meta *meta,
	       struct report **ret_report, struct diag *reterr);

/**
 * Add one deviation (rendered and spooled at once; nothing of @d is kept).
 * Returns 0, -ENOMEM, -EIO (the temporary file could not be written; every
 * later call fails the same way and report_finish() says why) or -EINVAL (an
 * unknown change, an entry missing for its change, or after report_finish()).
 */
int report_add(struct report *rep, const struct deviation *d);

/** A snap_deviation_fn that calls report_add() with @userdata as the report. */
int report_add_cb(const struct deviation *d, void *userdata);

/**
 * Add one entry of the new side that could not be read (e->err != 0).
 * Returns 0, -ENOMEM, -EIO as report_add(), or -EINVAL when e->err is 0.
 */
int report_add_error(struct report *rep, const struct entry *e);

/** Counts so far. */
struct report_counts {
	uint64_t added, removed, modified, errors;
};
/** Fill *ret_counts with what was added so far; cannot fail. */
void report_get_counts(const struct report *rep, struct report_counts *ret_counts);

/**
 * Write the document to the output and flush it. Returns 0 or -EIO (write
 * failed: disk full..., with "cannot write report: <strerror>" in @reterr;
 * or an earlier spool failure), -ENOMEM, or -EINVAL when called twice.
 * Only report_free() may follow.
 */
int report_finish(struct report *rep, struct diag *reterr);

/** Free; accepts NULL. */
void report_free(struct report *rep);

/**
 * Format helpers shared by the text and JSON renderers and by the CLI,
 * each appending to @out and returning 0 or -ENOMEM.
 */
struct strbuf;
/**
 * RFC 3339 UTC with nanoseconds: 2026-11-25T14:02:03.123456789Z; times
 * before 1970 too (-1 is 1969-12-31T23:59:59.999999999Z). Any int64_t works.
 */
int report_format_time(struct strbuf *out, int64_t ns);
/**
 * Lowercase hex of the hash bytes, as `xxhsum -H2` prints them; "none" when
 * the entry was not hashed (HASH_NONE or no bytes).
 */
int report_format_hash(struct strbuf *out, const struct entry *e);
/**
 * The JSON object of one snapshot, on one line, exactly as the "old" and
 * "new" members of the JSON report show it (docs/json-report.md), e.g. for
 * `drift snapshots --format json`.
 */
int report_format_snapshot_json(struct strbuf *out, const struct snap_info *info);
/** Octal permission bits (mode & 07777; type bits ignored), 4 digits: "0644", "4755". */
int report_format_mode(struct strbuf *out, uint32_t mode);

#endif /* DRIFT_REPORT_REPORT_H */
