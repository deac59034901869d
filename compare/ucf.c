/*
 * Explaining configuration that ucf installed. Not built yet: nothing is explained
 * by it, so what it would explain stays drift.
 */
#include "compare/internal.h"

#include "common/banned.h"

int ucf_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		struct finding_package *pkg, struct attrib_note *note)
{
	(void)x;
	(void)d;
	(void)v;
	(void)pkg;
	(void)note;
	return 0;
}

void ucf_free(struct ucf_state *s)
{
	(void)s;
}
