/* The table of commands, in the order `drift help` lists them. */
#include "cli/cli.h"

#include <string.h>

#include "common/suggest.h"
#include "common/banned.h"

/* One command a line, in help order (clang-format would pack them). */
/* clang-format off */
const struct cli_command *const cli_commands[] = {
	&cmd_init_def,
	&cmd_check_def,
	&cmd_scan_def,
	&cmd_diff_def,
	&cmd_browse_def,
	&cmd_verify_def,
	&cmd_runs_def,
	&cmd_report_def,
	&cmd_show_def,
	&cmd_snapshots_def,
	&cmd_baseline_def,
	&cmd_accept_def,
	&cmd_remedy_def,
	&cmd_waive_def,
	&cmd_waivers_def,
	&cmd_policy_def,
	&cmd_help_def,
	NULL,
};
/* clang-format on */

const struct cli_command *cli_command_find(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (!strcmp(cli_commands[i]->name, name))
			return cli_commands[i];
	return NULL;
}

const char *cli_command_suggest(const char *typed)
{
	struct suggest s;

	suggest_init(&s, typed);
	for (size_t i = 0; cli_commands[i]; i++)
		suggest_try(&s, cli_commands[i]->name);
	return s.best;
}
