#ifndef DRIFT_COMPARE_WAIVE_H
#define DRIFT_COMPARE_WAIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "common/entry.h"
#include "common/verdict.h"

struct diag;
struct finding;
struct pattern;
struct snap_store;
struct strbuf;

/**
 * Waivers: findings tolerated for a while, with a reason and an expiry,
 * pinned to the content that was reviewed. They live in a YAML file
 * (/etc/drift/waivers.yaml for root, $XDG_CONFIG_HOME/drift/waivers.yaml
 * otherwise; see drift(1) for its format):
 *
 *     waivers:
 *       - kind: file                 # default; package, user, group, ...
 *         path: /etc/foo.conf        # or key: (other kinds), or pattern:
 *         change: modified           # optional: added, removed, modified
 *         pin: { hash: "...", mode: "0644" }
 *         reason: "vendor hotfix, ticket 123"
 *         expires: 2027-01-31        # valid through that day (UTC)
 *         by: alice
 *         created: 2026-12-05T23:44:45Z
 *
 * The findings layer applies them (waiver_apply(), called by
 * compare_snapshots() and compare_verify() when their options carry a
 * set): a drift or violation finding that an unexpired waiver matches,
 * with every pinned value equal to the finding's new value, becomes
 * CLASS_WAIVED and stops counting in the exit code. A waiver that matches
 * but whose pin no longer holds has *lapsed*, one past its date has
 * *expired*: the finding stays what it was, its reason says why.
 *
 * Pin values are text, as waiver_value() formats them: for files the
 * attribute names of entry_attr_name() ("hash" lowercase hex, "mode" four
 * octal digits, "uid", "gid", "size" decimal, "type" as entry_type_name(),
 * "target", "acl", "caps", "selinux", "mime" as text, times in decimal
 * nanoseconds); for the other kinds their property names ("version").
 */

/** One pinned attribute. */
struct waiver_pin {
	char *name, *value;
};

/** One waiver as loaded. */
struct waiver {
	enum entry_kind kind;
	char *key;           /**< the path or key; NULL with a pattern */
	char *pattern;       /**< pattern: (common/pattern.h syntax); NULL with a key */
	struct pattern *pat; /**< compiled @pattern */
	bool have_change;    /**< change: given */
	enum change change;  /**< ...and its value */
	struct waiver_pin *pins;
	size_t npins;
	char *reason;
	char *by;           /**< may be NULL */
	char *created;      /**< may be NULL */
	char expires[11];   /**< "YYYY-MM-DD" */
	int64_t expires_at; /**< seconds since the epoch: the end of that day, UTC */
	unsigned line, col; /**< where the entry starts in its file (1-based) */
};

/** A loaded waiver file. */
struct waiver_set {
	char *path; /**< as named; "" for none */
	struct waiver *v;
	size_t n;
	/** The time expiry is judged at (seconds): set to time(NULL) when loaded. */
	int64_t now;
	/**
	 * The index waiver_apply() looks a finding up in, so that a check
	 * costs O(log n) per finding, not O(n): the waivers with a key, sorted
	 * by (kind, key), and those with a pattern, in file order.
	 */
	size_t *by_key, nby_key, *patterns, npatterns;
};

/** Called once per problem, in file order, with file, line and column when known. */
typedef void waiver_problem_fn(const struct diag *d, void *userdata);

/**
 * Load the waivers in @path. A missing file is an empty set when
 * @missing_ok, else an error. Every problem (YAML syntax, unknown keys, bad
 * kinds, changes or dates, a pattern with a pin, a missing reason or
 * expiry) goes to @problem (may be NULL). Returns 0 and *ret (free with
 * waiver_set_free()), -EBADMSG when there was a problem (@reterr counts
 * them), or a negative errno with a message.
 */
int waiver_set_load_file(const char *path, bool missing_ok, waiver_problem_fn *problem,
			 void *userdata, struct waiver_set **ret, struct diag *reterr);
/** The same from memory; @name is the file name in problems. */
int waiver_set_load_buffer(const char *name, const char *text, size_t len,
			   waiver_problem_fn *problem, void *userdata, struct waiver_set **ret,
			   struct diag *reterr);
/** An empty set (no waivers file): 0 or -ENOMEM. */
int waiver_set_empty(struct waiver_set **ret);
/** Free; accepts NULL. */
void waiver_set_free(struct waiver_set *ws);

/**
 * What a CI check wants beyond loading: every waiver expired at @ws->now
 * goes to @problem ("waiver expired on DATE"). Returns their number.
 */
unsigned waiver_set_lint(const struct waiver_set *ws, waiver_problem_fn *problem, void *userdata);

/**
 * The value of attribute @name of @e as a pin writes it, into @out
 * (replacing its contents). Returns 1, 0 when @e has no such value, or
 * -ENOMEM.
 */
int waiver_value(const struct entry *e, const char *name, struct strbuf *out);

/** What a waiver says of a finding. */
enum waiver_state {
	WAIVER_NO_MATCH = 0, /**< not about this finding */
	WAIVER_ACTIVE,       /**< waives it */
	WAIVER_EXPIRED,      /**< about it, but past its date */
	WAIVER_LAPSED,       /**< about it, but the entry changed since it was waived */
};

/** "-", "active", "expired", "lapsed". */
const char *waiver_state_name(enum waiver_state s);

/**
 * Judge finding @f by waiver @w at time @now: whether it is about @f
 * (kind, key or pattern, change) and then active, expired or lapsed.
 * When lapsed, @why (may be NULL) says what changed ("hash changed since
 * it was waived"). Does not change @f.
 */
enum waiver_state waiver_judge(const struct waiver *w, const struct finding *f, int64_t now,
			       char *why, size_t why_size);

/**
 * Apply @ws to @f: a drift or violation finding an active waiver matches
 * becomes CLASS_WAIVED, does not count, and its reason becomes "waived
 * until DATE by WHO: REASON; <the reason it had>"; a lapsed or expired one
 * keeps its class and gets "; waiver lapsed: ..." or "; waiver expired on
 * DATE". The new reason is written into @buf (f->reason then points to it).
 * Returns the state that decided (WAIVER_NO_MATCH: @f untouched).
 */
enum waiver_state waiver_apply(const struct waiver_set *ws, struct finding *f, char *buf,
			       size_t size);

/* ---- writing waivers (the command line and the browser) ---- */

enum waive_flags {
	WAIVE_DRY_RUN = 1 << 0, /**< compose, write nothing */
};

/**
 * Waive findings of the stored run @run_id (0: the newest run). Each of
 * @keys names one finding of that run: a file's absolute path, or
 * "KIND:KEY" ("package:openssl", "sysctl:vm.swappiness"; a package may be
 * named without its ":arch"). The pin of each is taken from that run's
 * finding and its after side, never from the host: the attributes the
 * finding changed that its rule cares about (all of them for an added
 * entry; none for a removed one), with their new values.
 *
 * The entries are appended to @waivers_path, which is loaded first and
 * must be valid: a temporary file in the same directory gets the old bytes
 * (comments and all) plus the new entries, is fsync()ed and renamed over
 * it, under an exclusive flock() of the directory, so that concurrent
 * callers keep each other's entries; the directory and the file (0644)
 * are created when missing. Nothing
 * is written unless every key named a finding of the run, nor with
 * WAIVE_DRY_RUN. @expires is the last day the waivers hold (any time in
 * that day, UTC), @who who waives (the login name), @reason why (required).
 *
 * *@ret_text (may be NULL) gets the YAML text of the new entries.
 * Returns the number of findings waived, or a negative errno with a message
 * in @reterr: -ENOENT (no such run, or a key that names no finding of it),
 * -EINVAL (empty reason, a key drift cannot write), -EBADMSG (the file is
 * malformed, or not one entries can be appended to), or I/O errors.
 */
int waive_findings(struct snap_store *st, int64_t run_id, const char *const *keys, size_t nkeys,
		   const char *reason, time_t expires, const char *who, const char *waivers_path,
		   unsigned flags, struct strbuf *ret_text, struct diag *reterr);

/**
 * The state of each waiver of @ws against the stored run @run_id (0: the
 * newest): active when it matches a finding of the run and holds, lapsed
 * or expired as waiver_judge() says, else (it matches nothing there)
 * active, or expired by date. @ret_states has @ws->n slots. Returns 0,
 * -ENOENT when there is no run (states then by date alone), or an error.
 */
int waiver_set_states(struct snap_store *st, int64_t run_id, const struct waiver_set *ws,
		      enum waiver_state *ret_states, struct diag *reterr);

/** Parse "YYYY-MM-DD" or "+Nd" (days from @now) into a time in that day (UTC). 0 or -EINVAL. */
int waive_parse_expiry(const char *text, time_t now, time_t *ret);

#endif /* DRIFT_COMPARE_WAIVE_H */
