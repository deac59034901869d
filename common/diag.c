#include "common/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/banned.h"

int diag_set(struct diag *d, int err, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return err;
	d->file = NULL;
	d->line = d->col = 0;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	return err;
}

void diag_clear(struct diag *d)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
}
