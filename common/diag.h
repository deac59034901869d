#ifndef DRIFT_COMMON_DIAG_H
#define DRIFT_COMMON_DIAG_H

/**
 * Human-readable detail for a failure. Filled only when the function that
 * took it returns < 0; callers may pass NULL when they only want the code.
 * It needs no allocation, so it is safe to fill from any thread.
 */
struct diag {
	char msg[256];      /**< One line: no trailing newline or period. */
	const char *file;   /**< Borrowed; NULL when not about a file. */
	unsigned line, col; /**< 1-based position in file; 0 when unknown. */
};

/**
 * Format a message into @d (if non-NULL) and return @err unchanged, so that
 * callers can write `return diag_set(reterr, -EINVAL, "...")`.
 */
__attribute__((format(printf, 3, 4))) int diag_set(struct diag *d, int err, const char *fmt, ...);

/** Reset @d (if non-NULL) to "no message". */
void diag_clear(struct diag *d);

#endif /* DRIFT_COMMON_DIAG_H */
