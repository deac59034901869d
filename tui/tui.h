#ifndef DRIFT_TUI_TUI_H
#define DRIFT_TUI_TUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "store/store.h"
#include "tui/model.h"

struct diag;
struct rule_set;

/**
 * The browser: `drift browse` (cli/cmd_browse.c) opens a store and a run,
 * loads the run into a model (tui_load()) and hands both to tui_run(),
 * which draws with ncursesw until `q`. See tui/model.h for the model.
 */

/**
 * What the settling keys call (`a` accept, `w` waive, `u` undo), after a
 * reason prompt (and an expiry date for `w`) and a confirmation: nothing
 * is written before. @seqs are the findings of the run (their seq). Each
 * returns 0 or a negative errno, and may set *ret_message (malloc()ed,
 * freed by the browser) to what the status line then says.
 */
struct tui_settle_ops {
	int (*accept)(void *ctx, const int64_t *seqs, size_t n, const char *reason,
		      char **ret_message);
	int (*waive)(void *ctx, const int64_t *seqs, size_t n, const char *reason,
		     const char *expires, char **ret_message);
	int (*undo)(void *ctx, char **ret_message);
	/**
	 * `x`: the remediation of findings @seqs (drift remedy). With @apply
	 * false, plan only: returns how many actions drift would perform (0:
	 * none) and says what in *ret_message; with @apply true, carry them out.
	 */
	int (*remedy)(void *ctx, const int64_t *seqs, size_t n, bool apply, char **ret_message);
};

struct tui_opts {
	struct snap_store *st;
	const char *db_path;             /**< for the snapshots' lookups (detail pane) */
	const struct snap_run_info *run; /**< the run browsed */
	const char *host;                /**< for the header; may be NULL */
	const struct rule_set *rules;    /**< the policy in force: its secrets are never diffed */
	/** Settling refused, and why ("the run is of another root"); NULL: allowed. */
	const char *read_only;
	const struct tui_settle_ops *ops;
	void *ops_ctx;
};

/**
 * Load the findings of run @run_id into a new model (snap_run_rows_lean()).
 * @findings (the run's count, 0: unknown) sizes the arrays once. Returns 0
 * and *ret, or a negative errno with @reterr.
 */
int tui_load(struct snap_store *st, int64_t run_id, uint64_t findings, struct tui_model **ret,
	     struct diag *reterr);

/** Browse @m until `q`. Returns 0, or a negative errno with @reterr. */
int tui_run(const struct tui_opts *o, struct tui_model *m, struct diag *reterr);

/** The styles of the detail pane's lines. */
enum tui_style {
	TUI_STYLE_PLAIN = 0,
	TUI_STYLE_HEAD,
	TUI_STYLE_ADD,
	TUI_STYLE_DEL,
	TUI_STYLE_HUNK,
	TUI_STYLE_DIM,
};

/** The detail pane's text: lines (display forms, escaped) with a style each. */
struct tui_detail {
	struct strbuf text;
	size_t *start; /**< offsets of each line in text */
	uint8_t *style;
	size_t n, alloc;
};
void tui_detail_release(struct tui_detail *d);

struct tui_lookups;
/**
 * The detail of finding @f of the model @m into @ret (replaced): each changed
 * attribute old → new readably, the rule and its reason, the owning package,
 * and the diff of kept content. @lk caches the snapshots' lookups (NULL at
 * first; free with tui_lookups_free()). Returns 0 or -ENOMEM; what cannot be
 * read is said in the text.
 */
int tui_detail_build(const struct tui_opts *o, struct tui_lookups **lk, const struct tui_model *m,
		     const struct tui_finding *f, struct tui_detail *ret);
void tui_lookups_free(struct tui_lookups *lk);

#endif /* DRIFT_TUI_TUI_H */
