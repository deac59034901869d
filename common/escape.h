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
 *   C1). A clean string can be stored in JSON as it is (its exact bytes);
 *   it may still hold invisible characters that escape_display() escapes.
 * - escape_display() appends the display form, for people: clean runs as
 *   they are; a backslash as `\\`; \n, \t, \r, \a, \b, \f, \v as C escapes;
 *   every other control byte and every byte of an invalid UTF-8 sequence as
 *   `\xHH`; and every invisible character, one that shows as nothing or
 *   changes how the text around it is shown, as `\uXXXX` (`\UXXXXXXXX` above
 *   U+FFFF), lowercase hex: bidirectional marks, embeddings, overrides and
 *   isolates (U+202E then "txt.exe" reads "exe.txt"; shown "\u202etxt.exe"), zero-width
 *   spaces and joiners, U+2028/U+2029, the BOM, tags, and every other format
 *   character (Unicode category Cf), plus the blank fillers. The form is
 *   unambiguous: distinct inputs give distinct outputs.
 * - escape_message() appends the form for free text that may already hold
 *   display forms (messages on stderr): control characters as `\xHH` and
 *   invisible characters as escape_display() writes them; everything else,
 *   backslashes and invalid UTF-8 included, as it is. Not unambiguous; use
 *   escape_display() for a name itself.
 *
 * escape_display() and escape_message() return 0 or -ENOMEM (the buffer may
 * then hold part of the output).
 */
bool escape_is_clean(const char *s, size_t len);
int escape_display(struct strbuf *out, const char *s, size_t len);
int escape_message(struct strbuf *out, const char *s, size_t len);

#endif /* DRIFT_COMMON_ESCAPE_H */
