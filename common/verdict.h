#ifndef DRIFT_COMMON_VERDICT_H
#define DRIFT_COMMON_VERDICT_H

/**
 * The words of a judgement, defined once for every module: how an entry
 * changed, how much it matters, and whether it was expected. Each has one
 * name table (below); the store, the policy, the findings layer and the
 * reports all speak these enums and never pass their names around instead.
 */

/** How an entry differs between two sides. Values index arrays: keep them dense. */
enum change {
	CHANGE_ADDED = 0,    /**< only on the after side */
	CHANGE_REMOVED = 1,  /**< only on the before side */
	CHANGE_MODIFIED = 2, /**< on both, with attributes that differ */
};
/* Outside the enum, so that a switch over one need not name it. */
#define CHANGE__COUNT 3

/** How much a finding matters. Ordered: a higher value is more severe. Stored: never renumber. */
enum severity {
	SEVERITY_INFO = 0,
	SEVERITY_LOW = 1,
	SEVERITY_MEDIUM = 2,
	SEVERITY_HIGH = 3,
	SEVERITY_CRITICAL = 4,
};
#define SEVERITY__COUNT 5

/** Whether a finding was expected. Stored: never renumber. */
enum verdict_class {
	CLASS_EXPECTED = 0,  /**< the policy or a package explains every change */
	CLASS_DRIFT = 1,     /**< unexplained */
	CLASS_VIOLATION = 2, /**< reserved: a declared expectation fails */
	/** drift (or a violation) an active waiver tolerates: reported, never counted */
	CLASS_WAIVED = 3,
};
#define CLASS__COUNT 4

/** "added", "removed", "modified"; "unknown" for a value out of range. */
const char *change_name(enum change change);
/** "info" ... "critical"; "unknown" for a value out of range. */
const char *severity_name(enum severity severity);
/** "expected", "drift", "violation", "waived"; "unknown" for a value out of range. */
const char *class_name(enum verdict_class cls);

/** The severity named @name (exactly, as severity_name() spells it): 0 and *ret, or -EINVAL. */
int severity_from_name(const char *name, enum severity *ret);
/** The class named @name: 0 and *ret, or -EINVAL. */
int class_from_name(const char *name, enum verdict_class *ret);

#endif /* DRIFT_COMMON_VERDICT_H */
