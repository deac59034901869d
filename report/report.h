#ifndef DRIFT_REPORT_REPORT_H
#define DRIFT_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "common/entry.h"
#include "store/store.h"

struct finding;

struct diag;

/**
 * Reports: consumers of findings (compare/compare.h). They show what the
 * findings layer judged and never judge anything themselves.
 *
 *     struct report *rep;
 *     r = report_new(REPORT_JSON, stdout, &meta, &rep, &diag);
 *     ... compare_snapshots() with a sink whose callbacks call
 *         report_add_finding(), report_add_note() and report_add_error() ...
 *     r = report_finish(rep, &diag);
 *     report_free(rep);
 *
 * Findings and errors arrive in (kind, key) order, one at a time; the report
 * spools them to temporary files (memory stays flat however many there
 * are) and writes the whole document in report_finish(): the summary
 * first, then the deviations grouped by change (added, removed, modified),
 * then the entries that could not be read.
 *
 * Classification: a finding may be judged (class, severity, rule, reason).
 * Once one is, the report is *classified*:
 * drift-class deviations are grouped by severity, most severe first (those
 * added without a verdict follow, by change), then the expected ones, then
 * the unreadable entries. Within a group, (kind, key) order.
 *
 * Entries of every kind may deviate: files (ENTRY_FILE, keyed by path) and
 * the system state of the probes (packages, users, ports...: their
 * properties, ATTR_PROPS). Within a group, items keep the order they were
 * added in; callers add them as the store orders entries, by kind (files
 * first, then enum entry_kind's order) and by key within a kind.
 *
 * Text: a one-line summary; a clean run is that one line (plus a note when
 * contents were not compared: the snapshots were hashed with different
 * algorithms, e.g. `--hash none` against a hashed baseline; plus the
 * caller's notes, report_add_note()). Then per group a heading and one item
 * a line, modified ones followed by `    attribute: old -> new` lines. A
 * file is shown by its path, any other entry by its kind and key
 * (`package bash:amd64`), a modified one with one `    name: old -> new`
 * line per changed property. Keys and targets are escaped
 * (common/escape.h), never raw. Colour (ANSI) only when meta->color.
 *
 * JSON: one document, schema in docs/json-report.md; keys in a stable
 * order; paths and keys lossless (`path`/`key` plus `path_b64`/`key_b64`
 * when not clean UTF-8).
 *
 * `drift verify` (the live host against the package database, no
 * baseline) reports through the same object with meta->command "verify",
 * no snapshots, meta->checked files checked: the summary reads
 * `drift verify: 3 files differ from their packages: 0 added, 1 removed,
 * 2 modified; 12345 files checked`; the package's MD5 is the old side's
 * hash, the file's the new side's.
 */
enum report_format {
	REPORT_TEXT,
	REPORT_JSON,
	/** One JSON object per line: a "report" record (the JSON document's head and
	   summary), then one per finding, blind spot and resolved finding
	   (docs/json-report.md, "ndjson"). */
	REPORT_NDJSON,
	/** One self-contained HTML file (no external resource), for people and mail. */
	REPORT_HTML,
	/** JUnit XML: one test case per rule, its findings the failures, for CI dashboards. */
	REPORT_JUNIT,
	/** node_exporter's textfile format: counts, no findings. */
	REPORT_PROMETHEUS,
};
#define REPORT_FORMAT__COUNT 6

/** "text", "json", "ndjson", "html", "junit", "prometheus"; "unknown" out of range. */
const char *report_format_name(enum report_format format);
/** The format named @name (as report_format_name() spells it): 0 and *ret, or -EINVAL. */
int report_format_from_name(const char *name, enum report_format *ret);

/**
 * One earlier stored run of the same command, for the trend a report can
 * show (HTML: a chart of the last runs). Counts as the run stored them.
 */
struct report_history {
	int64_t run;        /**< its id */
	int64_t started_ns; /**< when it ran */
	uint64_t drift;     /**< findings that counted (struct snap_run_info.counted) */
	uint64_t expected;  /**< expected findings */
	uint64_t blind;     /**< entries it could not read */
	int exit_code;
};

/** What the report says about the run. Everything is borrowed until report_free(). */
struct report_meta {
	const char *command;  /**< "check", "diff" or "verify" */
	const char *database; /**< path of the database (verify: the package database) */
	/**
	 * The baseline, or the first snapshot of a diff. Required by check and
	 * diff; verify has none (NULL, JSON null).
	 */
	const struct snap_info *before;
	/**
	 * The live scan, or the second snapshot. Required by check and diff;
	 * optional for verify.
	 */
	const struct snap_info *after;
	unsigned compare_flags; /**< enum snap_compare_flags used */
	bool color;             /**< text only: ANSI colour */
	/** text only: a run without findings or blind spots writes nothing at all (-q). */
	bool quiet;
	int64_t generated_ns;     /**< time of the report; 0 = now (taken in report_new()) */
	const char *tool_version; /**< JSON tool.version; NULL = DRIFT_VERSION */
	/**
	 * verify only: how many files were checked against their packages (the
	 * summary's count; check and diff count new->entries).
	 */
	uint64_t checked;

	/**
	 * Show only findings of this severity or above (--min-severity); the
	 * summary still counts every finding and says how many are not shown.
	 * Expected findings are shown or hidden by their severity too.
	 */
	bool have_min_severity;
	enum severity min_severity;
	/**
	 * Only drift at or above this severity counts in the exit code
	 * (--fail-on): report_get_counts()'s counted_* leave the rest out.
	 */
	bool have_fail_on;
	enum severity fail_on;
	/** List every entry of an event (text folds an event to one line). */
	bool verbose;
	/**
	 * The findings carry their novelty (--since-last): new or persisting
	 * since the run @since_run, and the resolved ones come as findings of
	 * novelty NOVELTY_RESOLVED. 0: no earlier run was found (every finding
	 * is new).
	 */
	bool since_last;
	int64_t since_run;
	/** Earlier runs of the same command, oldest first (at most 30 are shown). */
	const struct report_history *history;
	size_t nhistory;
	/** This run's id once stored; 0 when it is not (a read-only database). */
	int64_t run_id;
};

struct report;

/**
 * An anonymous temporary file in $TMPDIR (or /tmp), unlinked at once, open
 * for reading and writing: where reports spool their sections, and where a
 * caller may hold a finished report back. Returns 0, or an errno (positive).
 */
int report_tmpfile(FILE **ret_file);

/**
 * Start a report written to @out (borrowed; not closed). Returns 0 and
 * *ret_report (free with report_free()), or -ENOMEM / -EIO (no temporary
 * file could be made in $TMPDIR, or /tmp when it is unset) / -EINVAL (unknown format, a command
 * other than "check", "diff" or "verify", or a missing meta->before / meta->after for check or
 * diff); *ret_report is untouched on failure. Nothing is written to @out before report_finish().
 */
int report_new(enum report_format format, FILE *out, const struct report_meta *meta,
	       struct report **ret_report, struct diag *reterr);

/**
 * Add one finding (compare/compare.h), rendered and spooled at once;
 * nothing of @f is kept. A judged finding goes to the group of its severity,
 * or to `expected`; an unjudged one (compared without a policy) to the
 * group of its change. Its package context shows after the rule and
 * reason: text `  (package hello:amd64 1.0-1 -> 1.1-1)` (one version when
 * both are equal or only one is known) or `  (unowned)`; JSON the members
 * "package" and "unowned".
 *
 * Returns 0, -ENOMEM, -EIO (the temporary file could not be written; every
 * later call fails the same way and report_finish() says why) or -EINVAL
 * (an unknown change, an entry missing for its change, a class or severity
 * out of range, a package context that is both unowned and a package or
 * has versions without a package, or after report_finish()).
 */
int report_add_finding(struct report *rep, const struct finding *f);

/**
 * The diff of a modified file's kept content, as the caller built it
 * (cli/report.c, common/udiff.h): report/ only renders it.
 */
struct report_diff {
	bool binary;      /**< "binary content differs": no @text */
	const char *text; /**< the unified diff, its two headers first; raw bytes */
	size_t len;
	size_t omitted_lines; /**< body lines the caller left out of @text */
	/** For the hint of a cut diff: `drift show SNAPSHOT PATH` (C strings). */
	const char *show_snapshot;
};

/** Lines of a diff's body that text reports show; the rest is summed up in one line. */
#define REPORT_DIFF_TEXT_LINES 20

/**
 * report_add_finding() with the diff of the file's content (NULL: none).
 * Text: under the attribute lines (not for expected findings), indented,
 * every line escaped as paths are, at most REPORT_DIFF_TEXT_LINES lines
 * of its body, then "... N more lines (drift show SNAPSHOT PATH)"; or
 * "content: binary content differs". JSON: "diff" (a string, exact when
 * the diff is valid UTF-8, else each line in its display form) and
 * "diff_omitted_lines" when the caller cut it, or "diff_binary": true.
 */
int report_add_finding_diff(struct report *rep, const struct finding *f,
			    const struct report_diff *diff);

/**
 * Add a note about the whole report (a copy of @text is kept), e.g.
 * "probe port unavailable under /mnt/img". Text: `note: TEXT` lines after
 * the summary (and after the report's own notes), in the order added,
 * escaped; JSON: the "notes" array of strings (present only when there is
 * a note). Returns 0, -ENOMEM, or -EINVAL for a NULL or empty @text or
 * after report_finish().
 */
int report_add_note(struct report *rep, const char *text);

/**
 * verify: set the summary's count of files checked (meta->checked) once it
 * is known, before report_finish().
 */
void report_set_checked(struct report *rep, uint64_t checked);

/**
 * Add one entry of the new side that could not be read (e->err != 0).
 * Returns 0, -ENOMEM, -EIO as report_add_finding(), or -EINVAL when e->err is 0.
 */
int report_add_error(struct report *rep, const struct entry *e);

/** Counts so far. */
struct report_counts {
	uint64_t added, removed, modified, errors; /**< totals, every class */
	/**
	 * The findings that count in the exit code: judged ones that say so
	 * (finding->counts), and every unjudged one.
	 */
	uint64_t counted_added, counted_removed, counted_modified;
	uint64_t expected; /**< deviations of class "expected" */
	uint64_t waived;   /**< deviations of class "waived" */
};
/** Fill *ret_counts with what was added so far; cannot fail. */
void report_get_counts(const struct report *rep, struct report_counts *ret_counts);

struct strbuf;
/**
 * The first line of the text report (its summary, without colour or
 * newline) into @out, whatever the report's format: the line a journal or
 * a mail subject carries. Returns 0 or -ENOMEM.
 */
int report_summary_line(const struct report *rep, struct strbuf *out);

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
/**
 * One stored run as `drift runs --format json` lists it: {"id", "command",
 * "started", "old" and "new" ({"id", "label"} as the run named them, or
 * null), "findings", "drift", "expected", "unreadable", "exit_code"}.
 */
int report_format_run_json(struct strbuf *out, const struct snap_run_info *run);
/**
 * One acceptance as `drift accept --list --format json` lists it: {"id",
 * "run", "old" and "new" ({"id", "label"}: the baselines before and after,
 * labels as they are now, or null), "who", "at", "reason", "entries",
 * "undone" ({"at", "by"}, or null while in force)}.
 */
int report_format_acceptance_json(struct strbuf *out, const struct snap_acceptance *a);
/** "baseline", "check", "scan" or "upgrade". */
const char *report_purpose_name(enum snap_purpose purpose);
/** Octal permission bits (mode & 07777; type bits ignored), 4 digits: "0644", "4755". */
int report_format_mode(struct strbuf *out, uint32_t mode);
/**
 * The device number of @e as `ls -l` shows it, "MAJOR,MINOR" (e.g. "1,5");
 * "unknown" for a device whose number was not recorded, "none" for anything
 * but a device (entry_is_device()).
 */
int report_format_rdev(struct strbuf *out, const struct entry *e);

#endif /* DRIFT_REPORT_REPORT_H */
