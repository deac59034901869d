#ifndef DRIFT_COMPARE_INTERNAL_H
#define DRIFT_COMPARE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "compare/compare.h"

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
	struct entry hash; /**< hash_algo, hash_len, hash */
	char *mime;        /**< malloc()ed; NULL: not asked, or libmagic could not tell */
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

/* ---- findings ---- */

/** Fill the rule and counting fields of @f from the verdict @v. */
void finding_set_verdict(struct finding *f, const struct rule_verdict *v, bool count_expected);

#endif /* DRIFT_COMPARE_INTERNAL_H */
