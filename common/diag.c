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
	int n = vsnprintf(d->msg, sizeof(d->msg), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(d->msg)) {
		/* Cut back to a character boundary: never end on half a UTF-8 sequence. */
		size_t len = sizeof(d->msg) - 1, end = len;
		while (end > 0 && ((unsigned char)d->msg[end - 1] & 0xc0) == 0x80)
			end--;
		if (end > 0 && (unsigned char)d->msg[end - 1] >= 0xc0) {
			unsigned char lead = (unsigned char)d->msg[end - 1];
			size_t need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
			if (len - (end - 1) < need)
				d->msg[end - 1] = '\0';
		}
	}
	return err;
}

void diag_clear(struct diag *d)
{
	if (!d)
		return;
	memset(d, 0, sizeof(*d));
}
