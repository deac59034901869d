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
 * - `=` before a literal absolute path matches that path only, not what is
 *   below it (`=/var/log` is the directory without its contents). A name
 *   that really starts with `=` is written `\=name`.
 *
 * All matching is on bytes; paths need not be valid UTF-8. A match takes
 * time bounded by the pattern's length times the path's, whatever the
 * pattern: no backtracking, so no pattern can make a scan hang.
 */
struct pattern;

/**
 * Compile @text into a new pattern. Returns 0 and stores the pattern in
 * *ret_pat (free with pattern_free()), or -EINVAL for an empty pattern or one
 * with an unterminated `[`, or -ENOMEM. *ret_pat is untouched on failure.
 */
int pattern_new(const char *text, struct pattern **ret_pat);
void pattern_free(struct pattern *pat);

/**
 * Why @text is not a valid pattern ("empty pattern", "unterminated '['"...),
 * or NULL when pattern_new() would accept it. The string is static.
 */
const char *pattern_error(const char *text);

/** Whether @path (absolute, @len bytes, no trailing `/`) matches. */
bool pattern_match(const struct pattern *pat, const char *path, size_t len);

/**
 * Whether @path or one of its ancestors matches: what an exclusion covers,
 * since the entries below an excluded directory are pruned with it.
 */
bool pattern_match_tree(const struct pattern *pat, const char *path, size_t len);

/** The kinds of pattern, from the rules above. */
enum pattern_kind {
	PATTERN_PREFIX,   /**< literal absolute path and its subtree */
	PATTERN_EXACT,    /**< `=/path`: that path only */
	PATTERN_PATH,     /**< glob over the whole path */
	PATTERN_BASENAME, /**< glob over the last component */
};
enum pattern_kind pattern_kind(const struct pattern *pat);

/**
 * The pattern's anchor: the longest literal directory that every path it
 * matches is at or below (the text before the first glob character, cut
 * back to the last `/`; the path itself for a prefix or `=` pattern).
 * Returns false for a pattern with no anchor (a basename glob, or a glob
 * that does not start with `/`). *ret_len is 0 for the root, so the anchor
 * is always an ancestor of a path in the component sense ("/etc" is an
 * ancestor of "/etc/x", not of "/etcx").
 */
bool pattern_anchor(const struct pattern *pat, const char **ret_anchor, size_t *ret_len);

/**
 * Whether the pattern could match some path strictly below the directory
 * @dir (absolute, @len bytes; "/" for the root). Conservative: true may be
 * a false positive for a glob, false is always right.
 */
bool pattern_may_match_below(const struct pattern *pat, const char *dir, size_t len);

/** The text the pattern was compiled from (borrowed). */
const char *pattern_text(const struct pattern *pat);

#endif /* DRIFT_COMMON_PATTERN_H */
