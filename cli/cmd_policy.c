/* drift policy check [FILE] | drift policy show */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

static int cmd_policy(struct cli_args *args)
{
	struct rule_set *rs = NULL;
	const char *sub = args->noperands ? args->operands[0] : NULL;
	int code;

	if (!sub || (strcmp(sub, "check") && strcmp(sub, "show")) ||
	    (!strcmp(sub, "show") && args->noperands > 1) || args->noperands > 2) {
		fprintf(stderr, "drift policy: takes 'check [FILE]' or 'show'\n"
				"see 'drift policy --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!strcmp(sub, "check") && args->noperands == 2) {
		/* Checking a file someone hands us reads it, nothing more: no StrictModes. */
		code = cli_policy_load_file(args->operands[1], &rs);
		if (!code && !args->quiet)
			printf("%s: ok\n", args->operands[1]);
		rule_set_free(rs);
		return code;
	}
	code = cli_policy_load(args, &rs);
	if (code)
		return code;
	if (!strcmp(sub, "check")) {
		if (!args->quiet)
			printf("%s: ok\n", rule_set_source(rs));
	} else if (rule_set_show(rs, stdout) < 0) {
		cli_error("cannot write to standard output: %s", strerror(errno));
		code = DRIFT_EXIT_OUTPUT;
	}
	rule_set_free(rs);
	return code;
}

const struct cli_command cmd_policy_def = {
	.name = "policy",
	.summary = "validate or show the policy",
	.usage = "usage: drift policy check [FILE]\n"
		 "       drift policy show [--policy FILE]\n"
		 "\n"
		 "check: validate FILE (default: the policy drift would use) and print every\n"
		 "problem as FILE:LINE:COLUMN: MESSAGE; exit 17 if there is any.\n"
		 "show: print the effective policy, with defaults filled in and groups expanded.\n"
		 "\n"
		 "The policy is --policy FILE, else /etc/drift/policy.yaml as root\n"
		 "($XDG_CONFIG_HOME/drift/policy.yaml otherwise) if it exists, else the built-in\n"
		 "default ('--policy builtin' asks for it). See drift-policy(5).\n"
		 "\n"
		 "options:\n"
		 "  --policy FILE      the policy file\n"
		 "  --allow-insecure   as root, use a policy file that others could have written\n"
		 "  -q, --quiet        print only problems\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_POLICY | OPT_ALLOW_INSECURE | OPT_QUIET,
	.run = cmd_policy,
};
