/*
 * The waivers file loader (compare/waiver.c, waiver_set_load_buffer()) on
 * arbitrary bytes. Properties: 0 gives a set and no problem, each waiver
 * with exactly one of key and pattern (a pattern compiled), a reason and
 * an expiry "YYYY-MM-DD"; -EBADMSG gives no set and at least one problem,
 * each with a message. waiver_set_lint() then runs over a loaded set.
 */
#include "tests/fuzz/fuzz.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "compare/waive.h"

#include "common/banned.h"

static unsigned nproblems;

static void problem(const struct diag *d, void *userdata)
{
	FUZZ_CHECK(d->msg[0] != '\0');
	nproblems++;
}

static bool is_date(const char *s)
{
	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : !isdigit((unsigned char)s[i]))
			return false;
	return s[10] == '\0';
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct waiver_set *ws = NULL;
	struct diag d;
	int r;

	nproblems = 0;
	r = waiver_set_load_buffer("fuzz.yaml", (const char *)data, size, problem, NULL, &ws, &d);
	fuzz_note(r, r ? d.msg : NULL);
	if (r == 0) {
		FUZZ_CHECK(ws != NULL);
		FUZZ_CHECK(nproblems == 0);
		for (size_t i = 0; i < ws->n; i++) {
			const struct waiver *w = &ws->v[i];

			FUZZ_CHECK((w->key == NULL) != (w->pattern == NULL));
			FUZZ_CHECK(!w->pattern || w->pat);
			FUZZ_CHECK(w->reason != NULL);
			FUZZ_CHECK(is_date(w->expires));
		}
		waiver_set_lint(ws, problem, NULL);
		waiver_set_free(ws);
	} else {
		FUZZ_CHECK(ws == NULL);
		FUZZ_CHECK(r != -EBADMSG || nproblems > 0);
	}
	return 0;
}
