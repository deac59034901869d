#ifndef DRIFT_REPORT_INTERNAL_H
#define DRIFT_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"
#include "compare/compare.h"
#include "common/strbuf.h"

/*
 * What the files of report/ share: the report object, the spools, and the
 * renderers' entry points. Not for other modules.
 */

/**
 * The spools, in the order the documents list them: drift with a verdict
 * by severity (most severe first), drift without a verdict by change (the
 * only ones a report without verdicts has), expected deviations, and the
 * unreadable entries.
 */
enum report_section {
	SECTION_CRITICAL,
	SECTION_HIGH,
	SECTION_MEDIUM,
	SECTION_LOW,
	SECTION_INFO,
	SECTION_ADDED,
	SECTION_REMOVED,
	SECTION_MODIFIED,
	SECTION_EXPECTED,
	/** Drift an active waiver tolerates (CLASS_WAIVED): listed, never counted. */
	SECTION_WAIVED,
	SECTION_ERRORS,
	/** --since-last: the previous run's findings this one no longer has. */
	SECTION_RESOLVED,
	SECTION__COUNT,
};

/** The section of a judged finding: expected, waived, or drift by its severity. */
enum report_section report_class_section(const struct finding *f);

/** The drift section of severity rank @rank (4 critical .. 0 info). */
#define SECTION_OF_RANK(rank) ((enum report_section)(SECTION_CRITICAL + 4 - (rank)))

struct report {
	enum report_format format;
	FILE *out;                   /**< borrowed */
	struct report_meta meta;     /**< a copy; the pointers inside are borrowed */
	int64_t generated_ns;        /**< meta.generated_ns, or the time of report_new() */
	FILE *spool[SECTION__COUNT]; /**< temporary files holding the rendered items */
	uint64_t count[SECTION__COUNT];
	uint64_t changes[CHANGE__COUNT]; /**< every deviation, by change */
	uint64_t counted[CHANGE__COUNT]; /**< those that count in the exit code */
	bool classified;                 /**< a verdict was given: the classified layout */
	bool verify;                     /**< meta.command is "verify" */
	struct strbuf item;              /**< the item being rendered, or the header; reused */
	int spool_err;                   /**< errno of the first failed spool write, 0 if none */
	int out_err;                     /**< errno of the first failed write to out, 0 if none */
	bool finished;
	const struct report_diff *diff; /**< of the finding being rendered, or NULL */
	char **notes;                   /**< report_add_note()'s copies, in order */
	size_t nnotes;                  /**< how many */
	const struct report_renderer *renderer;
	void *state; /**< the renderer's own (struct report_renderer.begin) */
	/** Findings the filter (meta.min_severity) left out, by section. */
	uint64_t hidden[SECTION__COUNT];
	/** The section of the finding being rendered. */
	enum report_section section;
	/** --since-last: this run's findings by novelty (shown or not). */
	uint64_t novelty[NOVELTY_RESOLVED];
	/**
	 * Every judged finding (shown or left out by the filter; not the
	 * resolved ones) by class and severity: counts per class that the
	 * sections do not keep (expected findings have severities too).
	 */
	uint64_t verdicts[CLASS__COUNT][SEVERITY__COUNT];
};

/*
 * Renderers. *_deviation() and *_error() append one item to @out, in the
 * form its spool holds; *_write() writes the whole document to rep->out
 * (with report_out_write() and report_spool_copy()). All return 0 or -errno
 * (-ENOMEM, or -EIO with a message in @reterr).
 */
int report_text_deviation(struct report *rep, const struct finding *f, struct strbuf *out);
int report_text_error(struct report *rep, const struct entry *e, struct strbuf *out);
int report_text_write(struct report *rep, struct diag *reterr);
int report_text_begin(struct report *rep);
void report_text_free(struct report *rep);

int report_json_deviation(struct report *rep, const struct finding *f, struct strbuf *out);
int report_json_error(struct report *rep, const struct entry *e, struct strbuf *out);
int report_json_write(struct report *rep, struct diag *reterr);

/*
 * The JSON pieces ndjson shares with the JSON report (json.c), so that the
 * two formats say the same thing the same way. Each appends to @out and
 * returns 0 or -ENOMEM.
 *
 * report_json_add_head(): the document's members before its arrays
 * ("drift_report" ... "summary", "notes"): one a line, indented, when @type
 * is NULL (the JSON document); all on one line after `"type": "TYPE"`
 * otherwise. No closing brace.
 *
 * report_json_add_finding(): the object of "deviations" for @f, on one
 * line, without separator; with a @type, `"type": "TYPE"` comes first.
 *
 * report_json_add_unreadable(): the object of "unreadable" for @e, likewise.
 */
int report_json_add_head(struct report *rep, const char *type, struct strbuf *out);
int report_json_add_finding(struct report *rep, const struct finding *f, const char *type,
			    struct strbuf *out);
int report_json_add_unreadable(const struct entry *e, const char *type, struct strbuf *out);

/**
 * A format's renderer (report.c has the table, one per enum report_format;
 * a NULL entry is a format not built: report_new() refuses it). @begin
 * (may be NULL) runs in report_new() and may set rep->state, which @free
 * (may be NULL) releases in report_free(). @deviation renders one finding
 * into @out for the spool of its section (an empty item is fine: a format
 * that shows only counts); @error one blind spot; @write the document.
 */
struct report_renderer {
	int (*begin)(struct report *rep);
	int (*deviation)(struct report *rep, const struct finding *f, struct strbuf *out);
	int (*error)(struct report *rep, const struct entry *e, struct strbuf *out);
	int (*write)(struct report *rep, struct diag *reterr);
	void (*free)(struct report *rep);
};
extern const struct report_renderer report_text_renderer, report_json_renderer;
/* Defined in their own files (ndjson.c, junit.c, prometheus.c). */
extern const struct report_renderer report_ndjson_renderer, report_junit_renderer,
	report_prometheus_renderer;
/* report/html.c: the whole renderer (it keeps a scratch buffer in rep->state). */
extern const struct report_renderer report_html_renderer;

/**
 * Write @len bytes to rep->out. Returns 0, or -EIO after remembering the
 * errno in rep->out_err (report_finish() turns it into the message).
 */
int report_out_write(struct report *rep, const void *data, size_t len);

/**
 * Copy spool @s to rep->out, leaving out its first @skip bytes. Returns 0 or
 * -EIO (a read of the spool failed: message in @reterr; or a write to out
 * failed: rep->out_err is set).
 */
int report_spool_copy(struct report *rep, enum report_section s, size_t skip, struct diag *reterr);

/** The description of @err ("Permission denied"), never NULL; @buf is used for unknown ones. */
const char *report_errno_text(int err, char *buf, size_t size);
/**
 * Why the entry @e (err != 0) is a blind spot: its errno's text, or for a
 * directory not descended into because of the path limit, that.
 */
const char *report_entry_error_text(const struct entry *e, char *buf, size_t size);

/** Append the errno description of @err; 0 or -ENOMEM. */
int report_add_errno_text(struct strbuf *out, int err);

/** Append @ns as "2026-11-25 15:10:02 UTC" (whole seconds, rounded down); 0 or -ENOMEM. */
int report_format_time_short(struct strbuf *out, int64_t ns);

/** entry_kind_name(), "unknown" for a kind that does not exist. */
const char *report_kind_name(enum entry_kind kind);

/**
 * Whether @f counts in the exit code: unjudged, or judged to count
 * (finding.counts) and, under --fail-on, drift at or above its severity
 * (expected findings that count, --count-expected, are not filtered).
 */
bool report_finding_counts(const struct report *rep, const struct finding *f);
/** Findings of section @s, those shown and those --min-severity left out. */
uint64_t report_section_total(const struct report *rep, enum report_section s);
/** The section's heading word: "critical", ..., "unreadable", "resolved". */
const char *report_section_name(enum report_section s);

/** Whether @f passes --min-severity (an unjudged finding always does). */
bool report_finding_shown(const struct report *rep, const struct finding *f);

/** The package context of @f worth showing: NULL when it has neither a package nor unowned. */
const struct finding_package *report_finding_owner(const struct finding *f);

/**
 * Whether the two snapshots of the report were taken under different
 * policies; false when a side is missing (verify).
 */
bool report_policy_changed(const struct report *rep);

/**
 * Whether contents were compared: both snapshots hashed, with the same
 * algorithm (snap_entry_diff() compares hashes only then); always for
 * verify (the packages' MD5 sums).
 */
bool report_hash_compared(const struct report *rep);

/** The count of the summary's "entries checked": new->entries, or meta.checked for verify. */
uint64_t report_entries_checked(const struct report *rep);

/**
 * Step through an xattrs blob: returns 1 and the next pair, 0 at the end
 * or at the first malformed byte (what came before is still shown).
 */
int report_xattrs_next(const struct entry *e, size_t *pos, const char **ret_name,
		       size_t *ret_name_len, const char **ret_value, size_t *ret_value_len);

/** The same over an entry's properties (e->props; none for a file). */
int report_props_next(const struct entry *e, size_t *pos, const char **ret_name,
		      size_t *ret_name_len, const char **ret_value, size_t *ret_value_len);

/**
 * One side of a merge of two sorted name/value blobs (xattrs or props): the
 * current pair, and whether there is one (@more).
 */
struct report_pair_cursor {
	const struct entry *e;
	bool props; /**< walk e->props, else e->xattrs */
	size_t pos;
	int more;
	const char *name, *value;
	size_t name_len, value_len;
};

/** Start a cursor on @e's props (@props) or xattrs (@e may be NULL: empty). */
void report_pair_cursor_start(struct report_pair_cursor *c, const struct entry *e, bool props);
/** Step to the next pair. */
void report_pair_cursor_step(struct report_pair_cursor *c);
/**
 * Order of the current pairs of two cursors for a merge: < 0 when only @a's
 * name is there (or sorts first), > 0 for @b's, 0 for the same name.
 */
int report_pair_cursor_compare(const struct report_pair_cursor *a,
			       const struct report_pair_cursor *b);
/** Whether two values are the same bytes. */
bool report_value_equal(const char *a, size_t alen, const char *b, size_t blen);

/*
 * Values as the text report's `attr: old -> new` lines show them (text.c),
 * escaped (common/escape.h), for the renderers that show the same details.
 * Each appends to @out and returns 0 or -ENOMEM.
 */
/** The value of one attribute of @e (not ATTR_XATTRS or ATTR_PROPS: both sides at once). */
int report_attr_value(struct strbuf *out, const struct entry *e, enum entry_attr attr);
/**
 * One side of `xattrs: OLD -> NEW`, listing only the names that differ:
 * the old side (@new_side false) the old values of changed and removed
 * names, the new side the new values, `+name="v"` for an added name and
 * `-name` for a removed one; "none" when the side has nothing to show.
 */
int report_xattrs_side(struct strbuf *out, const struct entry *before, const struct entry *after,
		       bool new_side);
/** One property's value of a merge: escaped, `""` when empty, "none" when not @present. */
int report_prop_value(struct strbuf *out, const struct report_pair_cursor *c, bool present);

#endif /* DRIFT_REPORT_INTERNAL_H */
