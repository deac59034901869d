#ifndef DRIFT_TUI_MODEL_H
#define DRIFT_TUI_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"
#include "common/verdict.h"

struct strbuf;

/**
 * The browser's model: the findings of one stored run in compact arrays,
 * and what the screen shows of them: a tree by directory, by kind or by
 * package event, or a flat sorted list; filters; a cursor; marks; search.
 * Plain C without curses (tui/view.c draws it), so that it is tested by
 * itself (tests/tui/test_model.c) and measured by itself (bench/browse.c).
 *
 * The model never judges: class, severity and package come from the run
 * as the findings layer stored them. The one exception is the class
 * TUI_CLASS_ACCEPTED, set by tui_model_set_accepted() after the settling
 * operations said they accepted a finding, so that it shows as accepted.
 *
 * Rows: the view asks for the rows of a window (tui_model_rows()); the
 * model keeps one array of the visible rows (4 bytes a row), recomputed
 * when the view, a filter, the sort or a node's expansion changes.
 */

/** A class value of the model's own: accepted in this session (never stored). */
#define TUI_CLASS_ACCEPTED 15
/** Class values are bits of a filter mask: every class value must be below this. */
#define TUI_CLASS_BITS 16
/** The class filter that lets every class through. */
#define TUI_CLASS_ALL 0xffffu

enum tui_view {
	TUI_VIEW_DIR = 0,   /**< files by directory; other kinds under their kind */
	TUI_VIEW_KIND = 1,  /**< a node per kind (files, packages, users...) */
	TUI_VIEW_EVENT = 2, /**< a node per package transaction; the rest under "no package" */
	TUI_VIEW_LIST = 3,  /**< every finding, sorted */
};
#define TUI_VIEW__COUNT 4

enum tui_sort {
	TUI_SORT_SEVERITY = 0, /**< most severe first, then in run order */
	TUI_SORT_PATH = 1,     /**< key bytes */
	TUI_SORT_KIND = 2,     /**< kind, then run order */
	TUI_SORT_CHANGE = 3,   /**< added, removed, modified, then run order */
};
#define TUI_SORT__COUNT 4

/** What the model shows; the fields are bit masks where a set can be chosen. */
struct tui_filter {
	enum severity min_severity;
	uint32_t classes; /**< bit (1u << class); TUI_CLASS_ALL */
	uint32_t changes; /**< bit (1u << change); 0 means all */
	uint32_t kinds;   /**< bit (1u << kind); 0 means all */
};

/** One finding in the model. */
struct tui_finding {
	uint32_t seq;     /**< its position in the run */
	uint32_t key_len; /**< bytes of the key at key_off in the arena */
	uint64_t key_off;
	uint32_t event;   /**< index of its package event + 1; 0: none */
	uint32_t changed; /**< ATTR_* that differ */
	uint8_t kind;     /**< enum entry_kind */
	uint8_t change;   /**< enum change */
	uint8_t class;    /**< enum verdict_class, or TUI_CLASS_ACCEPTED */
	uint8_t class0;   /**< the class the run stored (what an undone acceptance restores) */
	uint8_t severity; /**< enum severity */
	uint8_t flags;    /**< TUI_F_* */
};

enum tui_finding_flags {
	TUI_F_MARKED = 1 << 0,
	TUI_F_JUDGED = 1 << 1,
};

/** One row of the window the view draws. */
struct tui_row {
	bool node;           /**< a tree node (directory, kind, event) or a finding */
	uint32_t index;      /**< the node's or the finding's index */
	unsigned depth;      /**< indentation level */
	bool expanded;       /**< a node: open */
	uint64_t count;      /**< a node: findings below it that the filters let through */
	uint64_t marked;     /**< a node: marked findings below it */
	enum severity worst; /**< a node: the worst severity of those */
	const char *name;    /**< a node: its name (bytes; escape before showing) */
	size_t name_len;
	const struct tui_finding *f; /**< a finding */
	const char *key;             /**< a finding: its key bytes */
	size_t key_len;
};

struct tui_model;

/** An empty model; NULL when out of memory. */
struct tui_model *tui_model_new(void);
void tui_model_free(struct tui_model *m);

/** Make room for @n findings with @key_bytes of keys in all (a hint). Returns 0 or -ENOMEM. */
int tui_model_reserve(struct tui_model *m, size_t n, uint64_t key_bytes);
/**
 * Add one finding, in run order (seq). @package "name:arch" with its
 * before/after versions group it into a package event. Returns 0 or -ENOMEM.
 */
int tui_model_add(struct tui_model *m, uint32_t seq, enum entry_kind kind, const char *key,
		  size_t key_len, enum change change, uint32_t changed, bool judged,
		  enum verdict_class cls, enum severity sev, const char *package,
		  const char *before_version, const char *after_version);
/** After the last tui_model_add(): build the default view (the directory tree). */
int tui_model_finish(struct tui_model *m);

size_t tui_model_count(const struct tui_model *m);
const struct tui_finding *tui_model_finding(const struct tui_model *m, size_t i);
/** The key bytes of @f. */
const char *tui_model_key(const struct tui_model *m, const struct tui_finding *f);
/** The package event @f->event - 1: "openssl 3.0.13 → 3.0.14, 412 files" (its label). */
const char *tui_model_event_label(const struct tui_model *m, uint32_t event);
/** The package name of event @event (index + 1); NULL for 0. */
const char *tui_model_event_package(const struct tui_model *m, uint32_t event);

/* ---- view, sort, filter: each keeps the cursor on its finding or node when it can ---- */

int tui_model_set_view(struct tui_model *m, enum tui_view view);
enum tui_view tui_model_view(const struct tui_model *m);
int tui_model_set_sort(struct tui_model *m, enum tui_sort sort);
enum tui_sort tui_model_sort(const struct tui_model *m);
int tui_model_set_filter(struct tui_model *m, const struct tui_filter *f);
void tui_model_filter(const struct tui_model *m, struct tui_filter *ret);
/** Whether @f passes the filters. */
bool tui_model_passes(const struct tui_model *m, const struct tui_finding *f);
/** Findings that pass the filters, and the number per class value (array of TUI_CLASS_BITS). */
uint64_t tui_model_visible(const struct tui_model *m);
void tui_model_class_counts(const struct tui_model *m, uint64_t ret[TUI_CLASS_BITS]);

/* ---- rows and the cursor ---- */

size_t tui_model_nrows(const struct tui_model *m);
/** Fill up to @height rows from row @first; returns how many. */
size_t tui_model_rows(const struct tui_model *m, size_t first, size_t height,
		      struct tui_row *ret_rows);
/** The row at the cursor (0 when there are none). */
size_t tui_model_cursor(const struct tui_model *m);
/** Move the cursor to row @row (clamped). */
void tui_model_move_to(struct tui_model *m, size_t row);
/** Move by @delta rows (clamped). */
void tui_model_move(struct tui_model *m, long delta);
/** The finding under the cursor, or NULL (a node, or no rows). */
const struct tui_finding *tui_model_current(const struct tui_model *m);
/** The window's first row so that the cursor shows in a window of @height rows. */
size_t tui_model_scroll(struct tui_model *m, size_t height);

/**
 * Expand (1), collapse (0) or toggle (-1) the node at the cursor. On a
 * finding, collapse goes to its parent node. Returns 0 or -ENOMEM.
 */
int tui_model_expand(struct tui_model *m, int how);
/** Expand or collapse every node. */
int tui_model_expand_all(struct tui_model *m, bool expand);

/* ---- search, marks, selection ---- */

/**
 * Find the next finding whose key holds @pat (bytes, case-insensitive in
 * ASCII) that passes the filters: from the cursor itself when @include_current
 * (incremental search as the pattern grows), else after it (@forward) or
 * before it; wraps around. In a tree, the nodes above it are opened. Returns
 * 1 and moves the cursor, 0 when nothing matches, -ENOMEM.
 */
int tui_model_search(struct tui_model *m, const char *pat, size_t len, bool forward,
		     bool include_current);

/** Toggle the mark of the finding at the cursor, or of every visible finding of the node. */
void tui_model_toggle_mark(struct tui_model *m);
void tui_model_clear_marks(struct tui_model *m);
size_t tui_model_marked(const struct tui_model *m);
/**
 * The findings the settling keys act on, as seqs: the marked ones; else
 * the finding at the cursor; else every visible finding below the node at
 * the cursor (a directory, a kind, a package event). *ret is malloc()ed.
 * Returns 0 or -ENOMEM.
 */
int tui_model_selection(const struct tui_model *m, int64_t **ret, size_t *ret_n);
/** After an acceptance: the findings @seqs are TUI_CLASS_ACCEPTED; clears marks. */
int tui_model_set_accepted(struct tui_model *m, const int64_t *seqs, size_t n);

/** One finding named by its entry, for tui_model_set_accepted_keys(). */
struct tui_key {
	uint8_t kind; /**< enum entry_kind */
	const char *key;
	size_t key_len;
};

/**
 * The findings whose (kind, key) is one of @keys[0..@n) become accepted
 * (@accepted), or get back the class the run stored (!@accepted: an
 * acceptance undone). Sorts @keys. Returns how many findings changed, or
 * -ENOMEM.
 */
int tui_model_set_accepted_keys(struct tui_model *m, struct tui_key *keys, size_t n, bool accepted);

/* ---- text for the columns ---- */

/** Columns @s (UTF-8; invalid bytes count 1) takes in a terminal (wcwidth). */
size_t tui_text_width(const char *s, size_t len);
/**
 * Append the display form of the bytes @s (common/escape.h: control
 * characters and invalid UTF-8 escaped) to @out, in at most @cols columns:
 * a longer one keeps its end, after "…" (a path's file name matters most).
 * *ret_cols (may be NULL) is the columns taken. Returns 0 or -ENOMEM.
 */
int tui_text_fit(struct strbuf *out, const char *s, size_t len, size_t cols, size_t *ret_cols);

/** "rwsr-xr-x" for the permission bits of @mode (with the type letter first: "-rwsr-xr-x"). */
void tui_format_mode(char buf[11], uint32_t mode);
/** "1.2 MiB" for @size bytes (exactly "123 B" below 1 KiB). */
void tui_format_size(char *buf, size_t size, uint64_t bytes);

/** Names for the status line. */
const char *tui_view_name(enum tui_view view);
const char *tui_sort_name(enum tui_sort sort);
/** "drift", "expected", ..., "accepted" for TUI_CLASS_ACCEPTED. */
const char *tui_class_name(unsigned cls);

#endif /* DRIFT_TUI_MODEL_H */
