/*
 * The policy loader (rules/load.c) on arbitrary bytes, through
 * rule_set_load_file_full() on a memfd so that a file the policy extends
 * or includes can be refused (the host's files are never read).
 * Properties: 0 gives a set and no problem; -EBADMSG gives no set and at
 * least one problem, each with a message and the file it is about; the
 * set's policy digest and rule count are the same when loaded twice.
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "rules/internal.h"
#include "rules/rules.h"

#include "common/banned.h"

static unsigned nproblems;

static void problem(const struct diag *d, void *userdata)
{
	FUZZ_CHECK(d->msg[0] != '\0');
	FUZZ_CHECK(memchr(d->msg, '\0', sizeof(d->msg)) != NULL);
	nproblems++;
}

static int refuse(const char *path, struct diag *reterr, void *userdata)
{
	return diag_set(reterr, -EPERM, "fuzzing: '%s' is not read", path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct rule_load_opts opts = { .problem = problem, .check_file = refuse };
	struct rule_set *rs = NULL, *again = NULL;
	const char *path = fuzz_memfile(data, size);
	struct diag d;
	int r;

	if (!path)
		return 0;
	nproblems = 0;
	r = rule_set_load_file_full(path, &opts, &rs, &d);
	fuzz_note(r, r ? d.msg : NULL);
	if (r == 0) {
		FUZZ_CHECK(rs != NULL);
		FUZZ_CHECK(nproblems == 0);
		FUZZ_CHECK(rule_set_load_file_full(path, &opts, &again, &d) == 0);
		FUZZ_CHECK(memcmp(rs->digest, again->digest, sizeof(rs->digest)) == 0);
		FUZZ_CHECK(rs->nrules == again->nrules);
		rule_set_free(again);
		rule_set_free(rs);
	} else {
		FUZZ_CHECK(rs == NULL);
		FUZZ_CHECK(r != -EBADMSG || nproblems > 0);
	}
	return 0;
}
