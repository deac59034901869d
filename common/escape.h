#ifndef DRIFT_COMMON_ESCAPE_H
#define DRIFT_COMMON_ESCAPE_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;

/**
 * Paths are bytes. These helpers turn any byte string into something safe to
 * show, without losing information:
 *
 * - escape_is_clean() says whether @s is valid UTF-8 (no overlongs, no
 *   surrogates, nothing above U+10FFFF) with no control characters (C0, DEL,
 *   C1). A clean string can be shown and stored in JSON as it is.
 * - escape_display() appends the display form: clean runs as they are; a
 *   backslash as `\\`; \n, \t, \r, \a, \b, \f, \v as C escapes; every other
 *   control byte and every byte of an invalid UTF-8 sequence as `\xHH`. The
 *   form is unambiguous: distinct inputs give distinct outputs.
 *
 * escape_display() returns 0 or -ENOMEM (the buffer may then hold part of the
 * output).
 */
bool escape_is_clean(const char *s, size_t len);
int escape_display(struct strbuf *out, const char *s, size_t len);

#endif /* DRIFT_COMMON_ESCAPE_H */
