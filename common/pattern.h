#ifndef DRIFT_COMMON_PATTERN_H
#define DRIFT_COMMON_PATTERN_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Path patterns, as used by `--exclude` (and, later, the policy):
 *
 * - A pattern without glob characters (`*`, `?`, `[`) that starts with `/` is
 *   a prefix: it matches that path and everything below it
 *   (`/var/cache` matches `/var/cache` and `/var/cache/apt/x`, not
 *   `/var/cachet`). A trailing `/` is ignored.
 * - A glob that contains `/` is matched against the whole absolute path;
 *   `*` and `?` do not cross `/`, `**` does (`/home/ ** /.cache`, without the
 *   spaces, matches `.cache` at any depth below /home). A glob matches a
 *   directory's whole subtree too, since its entries are pruned with it.
 * - A glob without `/` matches the last component of the path at any depth
 *   (`*.swp`, `core`).
 *
 * All matching is on bytes; paths need not be valid UTF-8.
 */
struct pattern;

/**
 * Compile @text into a new pattern. Returns 0 and stores the pattern in
 * *ret_pat (free with pattern_free()), or -EINVAL for an empty pattern or one
 * with an unterminated `[`, or -ENOMEM. *ret_pat is untouched on failure.
 */
int pattern_new(const char *text, struct pattern **ret_pat);
void pattern_free(struct pattern *pat);

/** Whether @path (absolute, @len bytes, no trailing `/`) matches. */
bool pattern_match(const struct pattern *pat, const char *path, size_t len);

/** The text the pattern was compiled from (borrowed). */
const char *pattern_text(const struct pattern *pat);

#endif /* DRIFT_COMMON_PATTERN_H */
