#ifndef DRIFT_REMEDY_INTERNAL_H
#define DRIFT_REMEDY_INTERNAL_H

#include "remedy/remedy.h"

struct strbuf;

/*
 * A step as one line of text (plan files, and the journal's detail column,
 * from which an interrupted remediation is resumed): action, kind, change,
 * severity, attrs=HEX, source=, mode=, then key, package, version and text
 * escaped (bytes outside '!'..'~' and '%' as %XX; "-" for none).
 */
int remedy_step_encode(const struct remedy_step *s, struct strbuf *out);
/** Append the step of @text to @p. -EINVAL (malformed), -ENOMEM. */
int remedy_step_decode(struct remedy_plan *p, const char *text);

#endif /* DRIFT_REMEDY_INTERNAL_H */
