#ifndef DRIFT_COMPARE_COMPARE_H
#define DRIFT_COMPARE_COMPARE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/entry.h"
#include "common/verdict.h"
#include "rules/rules.h"
#include "store/store.h"

struct diag;
struct dpkg_db;
struct waiver_set;

/**
 * The findings layer: where drift judges. Between the store and the rules
 * below and every consumer above (the reports, stored runs, the browser,
 * remediation), it compares two sides, classifies each deviation under the
 * policy and explains it by the packages, and hands out *findings*, in key
 * order, through one call:
 *
 *     struct compare_opts o = { .st = st, .before = &base, .after = &check,
 *                               .rules = rules, .rootfd = rootfd, .live = true };
 *     struct compare_sink sink = { .finding = on_finding, .note = on_note,
 *                                  .blind_spot = on_blind_spot, .userdata = rep };
 *     r = compare_snapshots(&o, &sink, &diag);
 *
 * A finding is one deviation with its verdict and its package context,
 * complete: a consumer shows it, stores it or acts on it, and never judges
 * it again. Nothing of the command line reaches this layer: the host is a
 * root directory fd, the policy a rule set.
 *
 * Per finding: one policy match, the live file read at most once (for its
 * MIME type and its package checksum together), and one libmagic handle
 * for the whole comparison.
 */

/** The package context of a finding. */
struct finding_package {
	const char *name;           /**< "name:arch"; NULL: no package owns the entry */
	const char *before_version; /**< the owner's version on the before side; NULL: not there */
	const char *after_version;  /**< ...on the after side; NULL: not there */
	bool unowned;               /**< a file in a system directory that no package owns */
	/** The package's version changed and the entry is as it ships it (checksum matched). */
	bool matches;
};

/**
 * Whether a finding is news (compare_opts.since_run): what the previous run
 * of the command did not report is new, what it did is persisting, and
 * what it reported and this run does not is resolved.
 */
enum finding_novelty {
	NOVELTY_UNKNOWN = 0, /**< not asked for */
	NOVELTY_NEW,
	NOVELTY_PERSISTING,
	NOVELTY_RESOLVED, /**< only in the sink's resolved(): the previous run's finding */
};

/** The kinds of host events findings are grouped by (struct finding_event). */
enum finding_event_kind {
	EVENT_NONE = 0,
	/** dpkg installed, upgraded (or downgraded) or removed a package: finding.package. */
	EVENT_PACKAGE,
	/** A user account was added, removed or changed: the account and its files. */
	EVENT_USER,
	/** The same for a group. */
	EVENT_GROUP,
};

/**
 * The one thing that happened on the host that a finding is part of, as
 * the record that proves it says: every file a package installed, the
 * account files a useradd rewrote. Consumers group by (kind, name); the
 * findings layer decides membership, nobody else.
 */
struct finding_event {
	enum finding_event_kind kind;
	/**
	 * What happened: added (a package installed, an account created),
	 * removed, or modified (upgraded, changed; under verify: its files
	 * differ from it).
	 */
	enum change change;
	/** EVENT_PACKAGE: "name:arch"; EVENT_USER / EVENT_GROUP: the account's name. */
	const char *name;
	/**
	 * EVENT_USER: the account as its records say, "uid 1001, gid 1001,
	 * groups alice,sudo, shell /bin/bash, home /home/alice"; else NULL.
	 */
	const char *detail;
};

/** One judged deviation. Everything is borrowed for the callback. */
struct finding {
	enum change change;
	const struct entry *before; /**< NULL when added */
	const struct entry *after;  /**< NULL when removed */
	uint32_t changed;           /**< ATTR_* that differ (modified only), as compared */

	/** false: compared without a policy; every deviation counts and has no verdict. */
	bool judged;
	enum verdict_class class;
	enum severity severity;
	/** The attributes that matter under the rule: what a report shows (modified only). */
	uint32_t attrs;
	/** Short and human: "content changed", "package hello upgraded 1.0-1 -> 1.1-1". */
	const char *reason;
	/**
	 * Whether it counts in the exit code: drift, or expected with
	 * count_expected; never when waived.
	 */
	bool counts;
	/** The rule that decided (NULL when none did, e.g. a file verify found and no rule covers).
	 */
	const struct rule *rule;
	/**
	 * The same rule as text (from @rule, or from a stored run when the
	 * policy is gone): id, title (may be NULL), file and 1-based line.
	 * All NULL/0 when no rule decided.
	 */
	const char *rule_id, *rule_title, *rule_file;
	unsigned rule_line;
	/** What the rule lets `drift remedy` do with it (from @rule, or the stored run). */
	enum rule_remediate remediate;

	struct finding_package package;
	/** The event it is part of (kind EVENT_NONE: none). */
	struct finding_event event;
	/** New or persisting since the previous run (NOVELTY_UNKNOWN unless asked). */
	enum finding_novelty novelty;
};

/**
 * Where the findings go. Each callback may be NULL (ignored); a negative
 * return stops the comparison, and compare_*() returns it unchanged.
 */
struct compare_sink {
	/** One finding, in (kind, key) order: files first, then enum entry_kind order. */
	int (*finding)(const struct finding *f, void *userdata);
	/**
	 * A note about the whole comparison: what could not be compared or
	 * explained, and how to get it ("probe port ran only in the new
	 * snapshot: not compared"). Notes may come before, between or after
	 * findings.
	 */
	int (*note)(const char *text, void *userdata);
	/** An entry of the after side that could not be read (e->err != 0): after the findings. */
	int (*blind_spot)(const struct entry *e, void *userdata);
	/**
	 * With compare_opts.since_run: each finding of that run this one no
	 * longer has (novelty NOVELTY_RESOLVED, its sides as that run saw
	 * them), after the findings, in that run's order.
	 */
	int (*resolved)(const struct finding *f, void *userdata);
	void *userdata;
};

struct compare_opts {
	struct snap_store *st;
	const struct snap_info *before, *after;
	/** Files are compared below these roots only (NULL: every file). */
	const char *const *roots;
	size_t nroots;
	/** NULL: every deviation counts, unjudged (findings with judged false). */
	const struct rule_set *rules;
	unsigned flags; /**< enum snap_compare_flags */
	/**
	 * The host whose files package attribution reads (its content must
	 * still be what the after side recorded) and, with @live, libmagic
	 * looks at. < 0: no host, nothing is read.
	 */
	int rootfd;
	/** The after side is the host at @rootfd as scanned just now (a check). */
	bool live;
	/** Expected findings count in the exit code too (--count-expected). */
	bool count_expected;
	/** Raised (by a signal handler): the comparison stops with -ECANCELED. May be NULL. */
	volatile sig_atomic_t *stop;
	/**
	 * The previous run to tell news from (--since-last): findings get their
	 * novelty, and the sink's resolved() the ones that went; one with id 0:
	 * there was none, every finding is new. NULL: novelty not asked for.
	 */
	const struct snap_run_info *since_run;
	/**
	 * The waivers (compare/waive.h) that turn drift into CLASS_WAIVED while
	 * they hold; NULL: none.
	 */
	const struct waiver_set *waivers;
};

/**
 * Compare @o->before with @o->after: files below the roots, then the
 * entries of every probe both sides ran, kind by kind, then the blind spots
 * of the after side. Findings a policy does not care about (no rule covers
 * the entry, or only ignored attributes changed) are left out.
 *
 * Returns 0; the negative value a sink callback returned; -ECANCELED when
 * *@o->stop was raised; or a negative errno of the store or of package
 * attribution, with a message in @reterr.
 */
int compare_snapshots(const struct compare_opts *o, const struct compare_sink *sink,
		      struct diag *reterr);

/** `drift verify`: the host against the package database, no snapshots. */
struct compare_verify_opts {
	int rootfd;                   /**< the host */
	struct dpkg_db *db;           /**< its package database (scanner/dpkg.h) */
	const struct rule_set *rules; /**< severities per path, the unowned scope */
	unsigned threads;             /**< readers; 0: one per CPU */
	/** Also find the files in system directories that no package owns. */
	bool unowned;
	volatile sig_atomic_t *stop;      /**< may be NULL */
	const struct waiver_set *waivers; /**< see compare_opts.waivers; may be NULL */
};

/**
 * Check every file an installed package ships with an MD5 sum (see
 * scan_verify()) and judge what differs: modified (content differs, or not
 * a regular file), removed (missing), added (unowned, with @o->unowned),
 * each with its package and the severity of the policy's rule for its path
 * (a changed conffile: the policy's conffile severity). A file that could
 * not be read is a blind spot. Findings come in path order; every one
 * counts. *@ret_checked is the number of files checked.
 *
 * Returns 0, the sink's negative value, -ECANCELED, or a negative errno
 * with a message in @reterr.
 */
int compare_verify(const struct compare_verify_opts *o, const struct compare_sink *sink,
		   uint64_t *ret_checked, struct diag *reterr);

/* ---- stored runs (run.c) ---- */

/**
 * What a stored run records of its command besides the findings (see
 * struct snap_run_info). Borrowed for compare_record_begin().
 */
struct compare_record_info {
	const char *command;                    /**< "check", "diff", "verify" */
	const struct snap_info *before, *after; /**< NULL for verify */
	unsigned flags;                         /**< enum snap_compare_flags */
	bool count_expected;
	const char *database;     /**< as the report names it */
	const char *const *roots; /**< the files compared below these; none: all */
	size_t nroots;
	const struct rule_set *rules; /**< its digest and source are recorded */
};

struct compare_record;

/**
 * Start recording a run into @st (inside a snapshot writer's transaction,
 * the run joins it). Returns 0 and *ret, or a negative errno with a
 * message (-EROFS: the store is read-only).
 */
int compare_record_begin(struct snap_store *st, const struct compare_record_info *info,
			 struct compare_record **ret, struct diag *reterr);
/**
 * Record one finding: its key and verdict; its entries too when
 * @with_sides (verify: the sides are in no snapshot), else they are read
 * back from the run's snapshots.
 */
int compare_record_finding(struct compare_record *rec, const struct finding *f, bool with_sides,
			   struct diag *reterr);
int compare_record_note(struct compare_record *rec, const char *text, struct diag *reterr);
int compare_record_blind_spot(struct compare_record *rec, const struct entry *e,
			      struct diag *reterr);
/**
 * Finish the run with the command's @exit_code and (verify) the number of
 * files @checked; verify runs beyond the newest @keep go. Frees @rec.
 */
int compare_record_commit(struct compare_record *rec, int exit_code, uint64_t checked,
			  unsigned keep, int64_t *ret_id, struct diag *reterr);
/** Drop the run and free @rec; accepts NULL. */
void compare_record_abort(struct compare_record *rec);

/**
 * Give the findings of the stored run @run to @sink again, as the command
 * gave them: its notes, then its findings in their order, with their
 * entries from the run's snapshots, then its blind spots. Returns 0, the
 * sink's negative value, or a negative errno (-EPROTO: a damaged run).
 */
int compare_replay(struct snap_store *st, const struct snap_run_info *run,
		   const struct compare_sink *sink, struct diag *reterr);

/* ---- what an acceptance takes (accept.c) ---- */

/** Keys for snap_accept(), owned (release with compare_keys_release()). */
struct compare_keys {
	struct snap_accept_key *v;
	size_t n, cap;
};
void compare_keys_release(struct compare_keys *k);

/**
 * The findings of the stored run @run that are part of the event @event,
 * "package:NAME" (NAME without the architecture, as reports name package
 * events): the package's own entry and every finding its package context
 * puts in that event (event.c's rule). Fills *@ret (zeroed first). Errors:
 * -EINVAL (not an event id), -EOPNOTSUPP ("user:NAME", "group:NAME":
 * account events are decided from both snapshots' accounts when a
 * comparison runs and are not stored with runs; accept their findings by
 * key), -ENOENT (no finding of that event), -ENOMEM, store errors.
 */
int compare_event_keys(struct snap_store *st, const struct snap_run_info *run, const char *event,
		       struct compare_keys *ret, struct diag *reterr);

/**
 * The findings of @run that count, as the run counted them: drift,
 * violations and unjudged findings, and expected ones only when the run
 * was made with --count-expected (`drift accept --all`). Expected findings
 * are explained by a rule or a package: they are not what a reviewer
 * settles, and they stay explained. *@ret may be empty (n 0).
 */
int compare_counted_keys(struct snap_store *st, const struct snap_run_info *run,
			 struct compare_keys *ret, struct diag *reterr);

#endif /* DRIFT_COMPARE_COMPARE_H */
