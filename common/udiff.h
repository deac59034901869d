#ifndef DRIFT_COMMON_UDIFF_H
#define DRIFT_COMMON_UDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf;

/**
 * A line diff of two byte strings in unified format (`diff -u`), for the
 * kept content of a changed file.
 *
 *     --- PATH<TAB>OLD_LABEL
 *     +++ PATH<TAB>NEW_LABEL
 *     @@ -l,s +l,s @@
 *      context
 *     -removed
 *     +added
 *     \ No newline at end of file
 *
 * Lines are what ends with '\n' (the last one may not); the body lines keep
 * their bytes as they are, so the caller escapes them line by line for its
 * output (a terminal must not see raw control bytes). Binary input (a NUL
 * byte, or more than 1 byte in 32 in invalid UTF-8 sequences) gives no
 * diff: the result says so and the caller writes "binary content differs".
 *
 * The diff is Myers' O(ND) algorithm after the common head and tail are
 * cut; an edit distance beyond @max_d gives a correct but not minimal diff
 * (every remaining old line removed, every new line added), so the time
 * and memory stay bounded (O(max_d^2) ints) whatever the input.
 */
struct udiff_opts {
	const char *path; /**< for the headers (bytes, @path_len long) */
	size_t path_len;
	const char *old_label, *new_label; /**< C strings: the snapshots */
	unsigned context;                  /**< lines of context; 3 as diff -u */
	size_t max_d;                      /**< 0: UDIFF_MAX_D */
	size_t max_lines; /**< body lines written at most (after the headers); 0: no limit */
	size_t max_bytes; /**< bytes written at most (whole lines); 0: no limit */
};

#define UDIFF_MAX_D ((size_t)1000)

struct udiff_result {
	bool binary;          /**< one side is binary: nothing written */
	bool identical;       /**< no line differs: nothing written */
	bool capped;          /**< max_d was reached: the diff is not minimal */
	size_t lines;         /**< body lines written */
	size_t omitted_lines; /**< body lines left out by max_lines / max_bytes */
};

/** Bytes of @p in invalid UTF-8 sequences (overlongs and surrogates too); 0: valid UTF-8. */
size_t udiff_utf8_invalid(const uint8_t *p, size_t len);

/** Whether @p looks binary (see above). */
bool udiff_is_binary(const uint8_t *p, size_t len);

/**
 * Append the diff of @a and @b to @out. Returns 0 and *ret, or -ENOMEM
 * (@out may then hold part of the diff).
 */
int udiff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, const struct udiff_opts *o,
	  struct strbuf *out, struct udiff_result *ret);

#endif /* DRIFT_COMMON_UDIFF_H */
