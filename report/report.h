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
 * Deviations and errors arrive in (kind, key) order, one at a time; the report
 * spools them to temporary files (memory stays flat however many there
 * are) and writes the whole document in report_finish(): the summary
 * first, then the deviations grouped by change (added, removed, modified),
 * then the entries that could not be read.
 *
 * Classification: a deviation may come with a verdict (report_add_verdict():
 * class, severity, rule, reason). Once one has, the report is *classified*:
 * drift-class deviations are grouped by severity, most severe first (those
 * added without a verdict follow, by change), then the expected ones, then
 * the unreadable entries. Within a group, (kind, key) order. The caller's
 * package attribution rides along with report_add_attributed().
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
	unsigned compare_flags;   /**< enum snap_compare_flags used */
	bool color;               /**< text only: ANSI colour */
	int64_t generated_ns;     /**< time of the report; 0 = now (taken in report_new()) */
	const char *tool_version; /**< JSON tool.version; NULL = DRIFT_VERSION */
	/**
	 * verify only: how many files were checked against their packages (the
	 * summary's count; check and diff count new->entries).
	 */
	uint64_t checked;
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
 * Add one deviation (rendered and spooled at once; nothing of @d is kept).
 * Returns 0, -ENOMEM, -EIO (the temporary file could not be written; every
 * later call fails the same way and report_finish() says why) or -EINVAL (an
 * unknown change, an entry missing for its change, or after report_finish()).
 */
int report_add(struct report *rep, const struct deviation *d);

/**
 * What the policy says of one deviation. Strings only (the report does not
 * know rules/); everything is borrowed for the call.
 */
struct report_verdict {
	const char *class_name; /**< "expected", "drift" or "violation" */
	/** Counts in the exit code (drift/violation, or expected with --count-expected). */
	bool counts;
	const char *severity_name; /**< "critical", "high", "medium", "low", "info" */
	unsigned severity_rank;    /**< 4 critical .. 0 info; must match @severity_name */
	const char *rule_id;       /**< NULL: no rule matched */
	const char *rule_title;    /**< may be NULL */
	const char *rule_file;     /**< may be NULL */
	unsigned rule_line;        /**< 0: unknown */
	const char *reason;        /**< short text; may be NULL */
	/** The attributes that matter: shown instead of d->attrs (modified only). */
	uint32_t attrs;
};

/**
 * Add one deviation with its verdict @v (NULL: as report_add()). Expected
 * deviations go to the `expected` group, the others to the group of their
 * severity. Returns as report_add(), and -EINVAL for a verdict without a
 * class, with a severity rank above 4, or a severity name that is not the
 * rank's.
 */
int report_add_verdict(struct report *rep, const struct deviation *d,
		       const struct report_verdict *v);

/**
 * What package attribution says of one deviation: the package that owns the
 * entry, or that no package does. Strings only, borrowed for the call; the
 * report shows them as given (the reason text, e.g. "package hello upgraded
 * 1.0-1 -> 1.1-1", comes from the verdict).
 */
struct report_owner {
	const char *package; /**< the owning package, "name:arch"; NULL: none known */
	/**
	 * The package's version on the old and the new side; either may be
	 * NULL (installed or removed between the two; unknown). verify: the
	 * installed version on both sides.
	 */
	const char *old_version;
	const char *new_version;
	/** A file in a system directory that no package owns (@package NULL then). */
	bool unowned;
};

/**
 * Add one deviation with its verdict @v (may be NULL) and its package
 * context @owner (may be NULL: as report_add_verdict()). Text: the owner
 * follows the item's first line, after the rule and reason:
 * `  (package hello:amd64 1.0-1 -> 1.1-1)` (one version when both are equal
 * or only one is known) or `  (unowned)`. JSON: the members "package" and
 * "unowned" of the deviation. Returns as report_add_verdict(), and -EINVAL
 * for an owner that is unowned and has a package, or has versions but no
 * package.
 */
int report_add_attributed(struct report *rep, const struct deviation *d,
			  const struct report_verdict *v, const struct report_owner *owner);

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

/** A snap_deviation_fn that calls report_add() with @userdata as the report. */
int report_add_cb(const struct deviation *d, void *userdata);

/**
 * Add one entry of the new side that could not be read (e->err != 0).
 * Returns 0, -ENOMEM, -EIO as report_add(), or -EINVAL when e->err is 0.
 */
int report_add_error(struct report *rep, const struct entry *e);

/** Counts so far. */
struct report_counts {
	uint64_t added, removed, modified, errors; /**< totals, every class */
	/**
	 * The deviations that count in the exit code: those whose verdict says
	 * so (verdict->counts), and every one added without a verdict.
	 */
	uint64_t counted_added, counted_removed, counted_modified;
	uint64_t expected; /**< deviations of class "expected" */
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
