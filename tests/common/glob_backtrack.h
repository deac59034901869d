#ifndef DRIFT_TESTS_COMMON_GLOB_BACKTRACK_H
#define DRIFT_TESTS_COMMON_GLOB_BACKTRACK_H

#include <stdbool.h>
#include <stddef.h>

/**
 * Does the glob [@p, @pend) match the text [@s, @send)? '*' and '?' stop
 * at '/', '**' crosses it ("**" + "/" may match nothing), [...] classes
 * with '!' or '^', '\\' escapes. Exponential time on many stars: a
 * reference, never for drift itself.
 */
bool glob_backtrack(const char *p, const char *pend, const char *s, const char *send);

#endif /* DRIFT_TESTS_COMMON_GLOB_BACKTRACK_H */
