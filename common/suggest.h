#ifndef DRIFT_COMMON_SUGGEST_H
#define DRIFT_COMMON_SUGGEST_H

#include <stddef.h>

/**
 * "Did you mean": the candidate nearest to what was typed, when it is near
 * enough to be a typo of it. Distances are optimal string alignment:
 * insertions, deletions, substitutions, and a swap of two neighbours, each
 * one edit ("chek" and "ehck" are both one edit from "check").
 *
 *	struct suggest s;
 *
 *	suggest_init(&s, typed);
 *	for (...)
 *		suggest_try(&s, candidate);
 *	if (s.best)
 *		... "did you mean '%s'?", s.best ...
 */
struct suggest {
	const char *typed; /**< borrowed */
	const char *best;  /**< borrowed from the suggest_try() that chose it; NULL if none */
	size_t dist;       /**< edits from @typed to @best */
};

/**
 * The edit distance of @a and @b, or SIZE_MAX when either is longer than
 * 32 bytes (too long to be a typo worth a suggestion).
 */
size_t suggest_distance(const char *a, const char *b);

/** Start looking for the nearest candidate to @typed (borrowed until the last use of @s). */
void suggest_init(struct suggest *s, const char *typed);

/**
 * Take @candidate (borrowed) as s->best when it is nearer to s->typed
 * than the best so far, not equal to it, and near enough: one edit for a
 * word of up to 4 bytes, two for a longer one. Of two at the same
 * distance, the first tried stays.
 */
void suggest_try(struct suggest *s, const char *candidate);

#endif /* DRIFT_COMMON_SUGGEST_H */
