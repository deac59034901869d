#ifndef DRIFT_REMEDY_REMEDY_H
#define DRIFT_REMEDY_REMEDY_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/entry.h"
#include "common/verdict.h"
#include "rules/rules.h"
#include "store/store.h"

struct diag;
struct deb_source;

/**
 * Remediation: put the host back to its baseline, for the drift a stored
 * run found and its rules allow (`remediate: plan|auto`). It never judges:
 * the run's verdicts decide what is drift, its rules what may be done.
 *
 *     remedy_plan_build(st, &run, &sel, &plan, &diag);   // what, exactly
 *     remedy_plan_write(&plan, stdout);                  // shown, or saved
 *     remedy_apply(&opts, &plan, &result, &diag);        // journaled, undoable
 *     remedy_undo(&opts, result.id, &result, &diag);
 *
 * Every action is checked against the entry as the run saw it just before
 * it runs, written to the journal (store/remedy.c) with its pre-image and
 * synced, done through remedy/fsops.h (never through a symlink), then
 * marked done with its post-image.
 */

/** What a step does. Stored in the journal: never renumber. */
enum remedy_action {
	REMEDY_META = 1,       /**< restore mode, owner, group, mtime, ACLs, xattrs, capabilities */
	REMEDY_CONTENT = 2,    /**< restore a regular file's bytes (and its metadata) */
	REMEDY_SYMLINK = 3,    /**< restore a symlink's target */
	REMEDY_CREATE = 4,     /**< recreate a removed file, directory or symlink */
	REMEDY_QUARANTINE = 5, /**< move an added entry into the quarantine */
	REMEDY_SYSCTL = 6,     /**< write a kernel parameter's baseline value */
	REMEDY_COMMAND = 7,    /**< what drift will not do: the command, for an operator */
	REMEDY_CANNOT = 8,     /**< nothing can restore it: why */
};

/** Where restored bytes come from. Stored in plans: never renumber. */
enum remedy_source {
	REMEDY_SOURCE_NONE = 0,
	REMEDY_SOURCE_KEPT = 1, /**< the baseline's kept content (keep_content) */
	REMEDY_SOURCE_DEB = 2,  /**< the owning package's .deb, checked against dpkg's sum */
};

/** One step of a plan. */
struct remedy_step {
	enum remedy_action action;
	enum entry_kind kind;
	char *key; /**< NUL-terminated (keys never hold a NUL) */
	size_t key_len;
	enum change change;
	enum severity severity;
	enum rule_remediate mode; /**< what the finding's rule allows */
	uint32_t attrs;           /**< REMEDY_META: the ATTR_* bits to restore */
	enum remedy_source source;
	char *package, *version; /**< REMEDY_SOURCE_DEB: "name:arch" and its version */
	/** REMEDY_COMMAND: the command; REMEDY_CANNOT: why; else NULL. */
	char *text;
};

/** A plan: the steps for the findings of one run, in the run's order. */
struct remedy_plan {
	int64_t run;
	int64_t baseline, after; /**< the run's snapshots: restore to @baseline, seen as @after */
	enum hash_algo algo;     /**< the snapshots' hash algorithm */
	struct remedy_step *v;
	size_t n, cap;
	/** Drift the policy does not let drift remedy touch (`remediate: no`, the default). */
	uint64_t not_allowed;
	/** With --auto: drift whose rule says `plan`, left for an operator. */
	uint64_t plan_only;
	/** Drift that is part of a package transaction: never reverted. */
	uint64_t package_work;
};
void remedy_plan_release(struct remedy_plan *p);

/** Which findings a plan covers. */
struct remedy_select {
	/** Only these keys (NULL/0: every finding allowed); a key not found is an error. */
	const char *const *keys;
	size_t nkeys;
	/** Only the findings of this event ("package:NAME", compare_event_keys()). */
	const char *event;
	/** --auto: only rules that say `auto`. */
	bool automatic;
};

/**
 * The plan for run @run (a check or diff whose before side is the current
 * baseline: -ESTALE otherwise). Drift findings whose rule allows it, minus
 * what a package transaction explains; the rest is counted. Errors with a
 * message: -ESTALE, -ENOENT (a key of @sel that is no finding), -EINVAL (a
 * verify run), store errors.
 */
int remedy_plan_build(struct snap_store *st, const struct snap_run_info *run,
		      const struct remedy_select *sel, struct remedy_plan *ret,
		      struct diag *reterr);

/** One line of the plan for people ("restore the content of /etc/motd from kept content"). */
int remedy_step_describe(const struct remedy_step *s, struct strbuf *out);

/**
 * Write @p as a plan file: a header, then per step one line for people
 * (a comment) and one for drift, with keys escaped. What `drift remedy`
 * prints and `--plan FILE` saves.
 */
int remedy_plan_write(const struct remedy_plan *p, FILE *out);
/**
 * Read a plan file of remedy_plan_write(). -EINVAL with a message naming
 * the line for anything else.
 */
int remedy_plan_read(FILE *in, const char *name, struct remedy_plan *ret, struct diag *reterr);
/** Whether two plans have the same run, snapshots and steps. */
bool remedy_plan_equal(const struct remedy_plan *a, const struct remedy_plan *b);

/** How one step went (remedy_opts.step). */
struct remedy_outcome {
	const struct remedy_step *step;
	enum snap_remedy_state state;
	const char *message; /**< failed or skipped: why; done: what it left, if notable */
};

struct remedy_opts {
	struct snap_store *st;  /**< open for writing */
	const char *db_path;    /**< for point lookups of the snapshots */
	int rootfd;             /**< the host */
	const char *quarantine; /**< the quarantine's base directory (created as needed) */
	const char *who;
	bool automatic;
	struct deb_source *deb; /**< NULL: no package source */
	/** Raised by a signal handler: stop between actions (-ECANCELED). May be NULL. */
	volatile sig_atomic_t *stop;
	/**
	 * A test's hook: after this many actions are done, stop dead (as a
	 * crash would: the process is killed by SIGKILL). 0: never.
	 */
	unsigned crash_after;
	/** Each step's outcome as it happens (may be NULL). */
	int (*step)(const struct remedy_outcome *o, void *userdata);
	void *userdata;
};

/** What an application, undo or resume did. */
struct remedy_result {
	int64_t id; /**< the remediation (journal) */
	uint64_t done, failed, skipped, undone;
	/** After applying: the entries that are not as the baseline has them. */
	uint64_t differ;
};

/**
 * Check that the host is as the run saw it for every step of @p (else
 * -ESTALE: "stale plan", each difference to @o->step as skipped), then
 * apply the steps in order, journaled, then re-check every entry against
 * the baseline (result->differ). Steps that drift cannot run (commands)
 * are not journaled. Returns 0 (see @result for failures), -ESTALE, -EBUSY
 * (another remediation is running), -ECANCELED, store errors.
 */
int remedy_apply(const struct remedy_opts *o, const struct remedy_plan *p,
		 struct remedy_result *result, struct diag *reterr);

/**
 * Reverse remediation @id (0: the newest not undone), last action first:
 * each entry must still be as the action left it (else that action is
 * skipped, and the remediation stays not undone). An interrupted
 * remediation's started action is reversed when it happened.
 */
int remedy_undo(const struct remedy_opts *o, int64_t id, struct remedy_result *result,
		struct diag *reterr);

/**
 * Finish the interrupted remediation @id (0: the newest interrupted one):
 * its started action is settled (done if it happened, run again if the
 * entry is as before), then the rest run as remedy_apply() runs them.
 */
int remedy_resume(const struct remedy_opts *o, int64_t id, struct remedy_result *result,
		  struct diag *reterr);

/**
 * The newest remediation that was interrupted (never finished, not undone,
 * and not running now): 1 and its id, 0 when none, or a negative errno.
 */
int remedy_interrupted(const struct remedy_opts *o, int64_t *ret_id, struct diag *reterr);

/** "restore metadata", "restore content"... */
const char *remedy_action_name(enum remedy_action a);

#endif /* DRIFT_REMEDY_REMEDY_H */
