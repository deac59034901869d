#ifndef DRIFT_COMPARE_INTERNAL_H
#define DRIFT_COMPARE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "compare/compare.h"
#include "scanner/verify.h"

/*
 * What the files of compare/ share. Not for other modules.
 */

/* ---- the live host (live.c) ---- */

/**
 * The host's files as a finding needs them: read at most once per finding
 * (live_reset() starts the next one), for its MIME type, its MD5 sum and
 * its digest in the snapshot's algorithm together. One libmagic handle for
 * the whole comparison, loaded on first use.
 */
struct live {
	int rootfd; /**< borrowed; < 0: no host */
	struct magic_set *magic;
	bool magic_failed; /**< libmagic could not be loaded: no types from content */

	/* The current finding's read. */
	bool read;     /**< tried */
	int err;       /**< 0, or why it could not be read (negative errno) */
	char why[128]; /**< the message of @err */
	uint8_t md5[16];
	struct entry hash;            /**< hash_algo, hash_len, hash */
	uint8_t head[SCAN_READ_HEAD]; /**< the first bytes (a .pyc's header) */
	size_t head_len;
	char *mime; /**< malloc()ed; NULL: not asked, or libmagic could not tell */
	bool mime_asked;
};

void live_init(struct live *l, int rootfd);
void live_release(struct live *l);
/** Forget the current finding's read. */
void live_reset(struct live *l);
/**
 * Read the file of entry @e (a key under the root) once for the current
 * finding: MD5, the digest of @e->hash_algo, and the MIME type when
 * @want_mime. A second call for the same finding reads nothing again
 * (asking for the type only then, when the first call did not, is the one
 * case that reads twice; the callers ask for it first). Returns 0, or the
 * negative errno of the read (l->why says it); -ENOMEM is the only failure
 * that should stop a comparison.
 */
int live_read(struct live *l, const struct entry *e, bool want_mime);

/* ---- package attribution (attrib.c) ---- */

struct attrib;

/** Storage for the strings a finding's package context points to. */
struct attrib_note {
	char package[160]; /**< "name:arch" */
	char before_version[96], after_version[96];
};

/**
 * Prepare attribution of the deviations from @before to @after: *ret is
 * NULL (nothing to do) when @rules turns attribution off or @after recorded
 * no package ownership (*ret_why says so then, for the note; may be NULL).
 * Returns 0, or a negative errno with the detail in @reterr.
 */
int attrib_open(struct snap_store *st, const struct snap_info *before,
		const struct snap_info *after, const struct rule_set *rules, struct attrib **ret,
		struct diag *reterr);
void attrib_free(struct attrib *a);
/** Whether the before side has no package data (so upgrades cannot be told). */
bool attrib_before_missing(const struct attrib *a);
/**
 * Revise the policy's verdict @v on the file deviation @d by what the
 * packages say, filling @pkg (strings kept in @note). @live is the host the
 * content check reads, once. Returns 0 or a negative errno.
 */
int attrib_apply(struct attrib *a, const struct deviation *d, struct rule_verdict *v,
		 struct finding_package *pkg, struct attrib_note *note, struct live *live);

/** Say in @v's reason that no package owns the entry. */
void attrib_note_unowned(struct rule_verdict *v);

/* ---- shared with the explanations (attrib.c) ---- */

/** The package that owns a file, copied out of the store. */
struct pkg_owner {
	char name[128], arch[32], version[96];
	bool has_md5, conffile;
	uint8_t md5[16];
};

/**
 * Which package owns @path (@len bytes) on the after side (@after) or the
 * before side. Returns 1 and *ret, 0 when none does (or that side recorded
 * no ownership), or a negative errno.
 */
int attrib_owner(struct attrib *a, bool after, const char *path, size_t len, struct pkg_owner *ret);
/**
 * The versions of package @name (of @arch; NULL: any architecture, the
 * first found) before and after (NULL where it is not installed, or the
 * side recorded no packages). Returns whether the package changed between
 * the two: installed, upgraded (or downgraded) or removed, with the before
 * side's package data at hand.
 */
bool attrib_versions(const struct attrib *a, const char *name, const char *arch,
		     const char **ret_before, const char **ret_after);
/**
 * Call @fn for every package that is installed on the after side and was
 * not, or in another version, on the before side (key "name:arch"; @was is
 * NULL when newly installed). Stops at @fn's nonzero return, which it
 * returns; nothing when the before side has no package data.
 */
int attrib_each_changed(const struct attrib *a,
			int (*fn)(const char *key, const char *was, const char *now,
				  void *userdata),
			void *userdata);
/** Point @pkg at package @name:@arch, @before_version -> @after_version (may be NULL), in @note. */
void attrib_set_package(struct finding_package *pkg, struct attrib_note *note, const char *name,
			const char *arch, const char *before_version, const char *after_version);

/* ---- what package work writes beside dpkg's own files (explain.c) ---- */

struct history;

/**
 * The comparison as the explanations see it, and the host records they
 * read, each loaded on first use by the file that reads it. Records are
 * read from the host at @rootfd: apt's and dpkg's logs, ucf's registry,
 * the alternatives, deb-systemd-helper's state, the maintainer scripts.
 * They explain only with a record that proves it, never by a path or a
 * time alone.
 */
struct explain {
	struct snap_store *st;
	const struct snap_info *before, *after;
	const struct rule_set *rules;
	int rootfd;            /**< the host; < 0: no records, nothing is explained */
	struct attrib *attrib; /**< the package data of both sides (never NULL when used) */
	struct live *live;     /**< the finding's one read of its own file */
	/** apt's and dpkg's runs between the snapshots (history.c); NULL: none found. */
	struct history *history;

	/* Each source's state, NULL until first asked; freed by its *_free(). */
	struct pyc_state *pyc;
	struct ucf_state *ucf;
	struct alt_state *alt;
	struct enable_state *enable;
	struct accounts_state *accounts;
};

/**
 * Set up @x for the comparison (@a must not be NULL; @rootfd < 0 leaves
 * everything unexplained). Reads apt's and dpkg's logs for the window
 * between the snapshots. Returns 0 or a negative errno with @reterr.
 */
int explain_open(struct explain *x, struct snap_store *st, const struct snap_info *before,
		 const struct snap_info *after, const struct rule_set *rules, int rootfd,
		 struct attrib *a, struct live *live, struct diag *reterr);
void explain_close(struct explain *x);

/**
 * Explain the deviation @d, which the policy and dpkg's own records left
 * as drift (@v), by what maintainer scripts and triggers record: each
 * source below is asked in turn until one decides. On 1 @v and @pkg are
 * revised (expected, with the record in the reason; or still drift with
 * what the record says, e.g. ucf's locally modified configuration).
 * Returns 1, 0 (no record speaks for it: @v unchanged) or a negative errno.
 */
int explain_deviation(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		      struct finding_package *pkg, struct attrib_note *note);

/*
 * The sources, each in its own file, each with the contract of
 * explain_deviation() for the deviations that are its business (0 for any
 * other), and a *_free() for its state (accepting NULL).
 */
/** Python byte-code (pyc.c): a .pyc whose header matches its packaged, explained source. */
int pyc_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		struct finding_package *pkg, struct attrib_note *note);
void pyc_free(struct pyc_state *s);
/** Configuration ucf installed (ucf.c): /var/lib/ucf/registry and hashfile. */
int ucf_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		struct finding_package *pkg, struct attrib_note *note);
void ucf_free(struct ucf_state *s);
/** The links update-alternatives manages (alternatives.c): /var/lib/dpkg/alternatives. */
int alternatives_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
			 struct finding_package *pkg, struct attrib_note *note);
void alternatives_free(struct alt_state *s);
/**
 * Service enablement (enablement.c): the links deb-systemd-helper and
 * update-rc.d create for a package installed or upgraded between the
 * snapshots, and the service entries of its units.
 */
int enablement_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		       struct finding_package *pkg, struct attrib_note *note);
void enablement_free(struct enable_state *s);
/**
 * System accounts (accounts.c): users and groups that a newly installed
 * package's maintainer scripts add, and the account files for exactly
 * those additions.
 */
int accounts_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		     struct finding_package *pkg, struct attrib_note *note);
void accounts_free(struct accounts_state *s);
/** The start of the reason of account files that package additions explain. */
#define ACCOUNTS_FILES_EXPLAINED "account files: added "
/** Whether @key (@len bytes) is one of the account files accounts_explain() judges. */
bool accounts_is_file(const char *key, size_t len);

/* ---- apt's and dpkg's logs (history.c) ---- */

/** One package change as apt's history or dpkg's log records it. */
struct history_event {
	int64_t time_ns;          /**< when (the apt run's start, or dpkg's line) */
	bool apt;                 /**< from apt's history; false: dpkg's log alone */
	const char *commandline;  /**< apt's "Commandline:" (NULL: dpkg's log) */
	const char *requested_by; /**< apt's "Requested-By:" user, NULL when not recorded */
};

/**
 * Read apt's history and dpkg's log under @rootfd (var/log/apt/history.log,
 * var/log/dpkg.log, and their first rotation, uncompressed) for what
 * happened between @from_ns and @to_ns. *ret is NULL when neither exists.
 */
int history_load(int rootfd, int64_t from_ns, int64_t to_ns, struct history **ret,
		 struct diag *reterr);
void history_free(struct history *h);
/** Whether dpkg changed anything on the host in the window (either log says so). */
bool history_dpkg_ran(const struct history *h);
/**
 * The record of package @name (of @arch; NULL: any) going from @was to
 * @now (either NULL: not installed): apt's history first, then dpkg's log.
 * NULL when neither recorded it in the window.
 */
const struct history_event *history_find(const struct history *h, const char *name,
					 const char *arch, const char *was, const char *now);

/* ---- findings ---- */

/** Set @v's reason from @fmt; cut to fit, as a reason may be. */
void verdict_reason(struct rule_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/** Add "; " and @fmt to @v's reason (just @fmt when it is empty). */
void verdict_reason_add(struct rule_verdict *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/** Fill the rule and counting fields of @f from the verdict @v. */
void finding_set_verdict(struct finding *f, const struct rule_verdict *v, bool count_expected);

/* ---- novelty (novelty.c) ---- */

struct restored;
/**
 * The inodes remediation left (compare/restored.c); *ret NULL when there
 * are none. 0 or a negative errno with a message.
 */
int restored_load(struct snap_store *st, struct restored **ret, struct diag *reterr);
void restored_free(struct restored *rs);
/**
 * The attributes of the file @after that are a restore's doing, not drift:
 * ATTR_INODE (and ATTR_CTIME while it is still the restore's) when @after
 * is the inode the newest restore of its key left; else 0.
 */
uint32_t restored_mask(const struct restored *rs, const struct entry *after);

struct novelty;
/** Load the identities of the findings of @run. Returns 0 or a negative errno. */
int novelty_load(struct snap_store *st, const struct snap_run_info *run, struct novelty **ret,
		 struct diag *reterr);
void novelty_free(struct novelty *nv);
/** Set f->novelty: new, or persisting (and remember it was seen). */
void novelty_mark(struct novelty *nv, struct finding *f);
/** Replay @run, giving sink->resolved() each finding no novelty_mark() saw. */
int novelty_resolved(struct snap_store *st, const struct snap_run_info *run, struct novelty *nv,
		     const struct compare_sink *sink, struct diag *reterr);

/* ---- events (event.c) ---- */

struct events;
/**
 * Read the account deviations between @before and @after (when the user
 * probe ran in both) for events_assign(). Returns 0 or a negative errno.
 */
int events_open(struct snap_store *st, const struct snap_info *before,
		const struct snap_info *after, struct events **ret, struct diag *reterr);
void events_free(struct events *ev);
/** Set f->event (valid until the next call). Returns 0 or -ENOMEM. */
int events_assign(struct events *ev, struct finding *f);
/**
 * The package event of @f by its package context: its package changed
 * version, or (@verify) it has a package at all; its name is kept in @buf.
 * Returns 1 when it set one, 0 when none applies, -ENOMEM.
 */
int finding_package_event(struct finding *f, bool verify, struct strbuf *buf);

/* ---- waivers (waiver.c, waive.c) ---- */

/**
 * The attributes of a modified finding that a waiver's pin covers: those
 * that changed and its rule cares about (all that changed when unjudged).
 */
uint32_t waiver_pin_attrs(const struct finding *f);
struct waiver_set;
/**
 * @fn(i) for each waiver of @ws that may name @e: those of its key (and of
 * a package's name without its architecture), and every pattern; in no
 * particular order (waiver_judge() decides).
 */
void waiver_set_each_candidate(const struct waiver_set *ws, const struct entry *e,
			       void (*fn)(size_t i, void *userdata), void *userdata);

#endif /* DRIFT_COMPARE_INTERNAL_H */
