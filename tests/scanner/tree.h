#ifndef DRIFT_TESTS_SCANNER_TREE_H
#define DRIFT_TESTS_SCANNER_TREE_H

/*
 * Helpers shared by the scanner tests: temporary fixture trees, and a visit
 * callback that collects entries (deep copies) for later inspection.
 */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scanner/scanner.h"

/** Create "/tmp/drift-scan-XXXXXX" into @buf (>= 32 bytes); returns 0 or -1. */
int tree_mkdtemp(char *buf, size_t size);

/** Remove @path recursively, working through fds (paths beyond PATH_MAX are fine). */
void tree_rm_rf(const char *path);

/** Write @len bytes of @data to @name in @dirfd (created 0644, truncated). Returns 0 or -1. */
int tree_write(int dirfd, const char *name, const void *data, size_t len);

/** Fill @buf with deterministic pseudo-random bytes from @seed. */
void tree_fill(void *buf, size_t len, uint32_t seed);

/** Collected entries: deep copies of what visit saw. */
struct collect {
	struct entry *v;
	size_t n, cap;
	size_t stop_after; /**< visit returns SCAN_STOP after this many; 0 = never */
	bool oom;
};

/** scan_visit_fn that appends to the struct collect in @userdata. */
enum scan_action collect_visit(const struct entry *e, void *userdata);

/** Sort by key (memcmp order, shorter first on a tie). */
void collect_sort(struct collect *c);

/** The entry whose key is the C string @key, or NULL. */
const struct entry *collect_find(const struct collect *c, const char *key);

/** Do @a and @b hold the same entries with the same attributes, key by key? */
bool collect_equal(const struct collect *a, const struct collect *b);

/** Free the copies. */
void collect_release(struct collect *c);

/** Walk @root with @nthreads and everything else default (hash on) into @c. */
int collect_walk(const char *root, unsigned nthreads, struct collect *c);

/** Number of threads of this process (from /proc/self/status), or -1. */
int tree_thread_count(void);
/** tree_thread_count(), once it is down to @want (waiting up to a second for exited threads). */
int tree_thread_count_settled(int want);

#endif /* DRIFT_TESTS_SCANNER_TREE_H */
