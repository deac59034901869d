/* drift policy check [FILE] | drift policy show */
#include "cli/cli.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "common/banned.h"

static void print_warning(const struct diag *d, void *userdata)
{
	if (d->line)
		fprintf(stderr, "%s:%u:%u: warning: %s\n", d->file, d->line, d->col, d->msg);
	else
		fprintf(stderr, "%s: warning: %s\n", d->file, d->msg);
}

/*
 * The warnings of a policy that loaded, then "ok": a policy with warnings
 * is valid and works as written, so they do not change the exit code.
 */
static int policy_lint(const struct rule_set *rs, const char *name, bool quiet)
{
	int n = rule_set_lint(rs, print_warning, NULL);

	if (n < 0) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (quiet)
		return 0;
	if (n > 0)
		printf("%s: ok (%d warning%s)\n", name, n, n == 1 ? "" : "s");
	else
		printf("%s: ok\n", name);
	return 0;
}

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
		if (!code)
			code = policy_lint(rs, args->operands[1], args->quiet);
		rule_set_free(rs);
		return code;
	}
	code = cli_policy_load(args, &rs);
	if (code)
		return code;
	if (!strcmp(sub, "check")) {
		code = policy_lint(rs, rule_set_source(rs), args->quiet);
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
		 "problem as FILE:LINE:COLUMN: MESSAGE; exit 17 if there is any. Warnings\n"
		 "(FILE:LINE:COLUMN: warning: MESSAGE) name what a valid policy may still get\n"
		 "wrong: a probe whose entries no rule covers, a rule that never matches or\n"
		 "never decides; they do not change the exit code.\n"
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
