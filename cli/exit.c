/*
 * Exit codes: the deviation bit mask for a run that completed, and one
 * distinct code per kind of failure. The mapping lives here alone so that
 * every command agrees, and so that it can be unit-tested.
 */
#include "cli/cli.h"

#include <errno.h>

#include "common/banned.h"

int exit_code_for_counts(const struct report_counts *counts)
{
	int code = DRIFT_EXIT_CLEAN;

	/* Only the deviations that count: drift, not what the policy expects. */
	if (counts->counted_added)
		code |= DRIFT_EXIT_ADDED;
	if (counts->counted_removed)
		code |= DRIFT_EXIT_REMOVED;
	if (counts->counted_modified)
		code |= DRIFT_EXIT_MODIFIED;
	return code;
}

int exit_code_for_error(enum cli_stage stage, int r)
{
	switch (r) {
	case -ECANCELED:
	case -EINTR:
		return DRIFT_EXIT_INTERRUPTED;
	case -ENOMEM:
	case -EAGAIN:
		return DRIFT_EXIT_INTERNAL;
	}
	switch (stage) {
	case CLI_STAGE_SCAN:
		return DRIFT_EXIT_SCAN;
	case CLI_STAGE_STORE:
		return DRIFT_EXIT_DATABASE;
	case CLI_STAGE_OUTPUT:
		return DRIFT_EXIT_OUTPUT;
	}
	return DRIFT_EXIT_INTERNAL;
}
