/* drift help [COMMAND] */
#include "cli/cli.h"

#include <string.h>

#include "config.h"
#include "common/banned.h"

static int cmd_help(struct cli_args *args)
{
	const struct cli_command *cmd;

	if (args->noperands > 1) {
		fprintf(stderr, "drift help: takes at most one command\n");
		return DRIFT_EXIT_USAGE;
	}
	if (args->noperands == 1) {
		cmd = cli_command_find(args->operands[0]);
		if (!cmd) {
			fprintf(stderr, "drift help: no command '%s'; see 'drift help'\n",
				args->operands[0]);
			return DRIFT_EXIT_USAGE;
		}
		fputs(cmd->usage, stdout);
		return 0;
	}
	printf("usage: drift <command> [options] [args]\n"
	       "\n"
	       "drift %s: audits a host for drift from its baseline.\n"
	       "\n"
	       "commands:\n",
	       DRIFT_VERSION);
	for (size_t i = 0; cli_commands[i]; i++)
		printf("  %-10s %s\n", cli_commands[i]->name, cli_commands[i]->summary);
	printf("\n"
	       "'drift <command> --help' shows a command's options; 'man drift' tells more.\n"
	       "Exit codes: 0 no drift; +1 added, +2 removed, +4 modified (drift only, not\n"
	       "what the policy expects); 16 usage, 17 policy, 18 scan failed, 19 database,\n"
	       "20 interrupted, 21 no baseline, 22 output, 23 internal error.\n");
	return 0;
}

const struct cli_command cmd_help_def = {
	.name = "help",
	.summary = "show help for drift or one of its commands",
	.usage = "usage: drift help [COMMAND]\n",
	.opts = 0,
	.run = cmd_help,
};
