/*
 * drift: a drift audit and compliance scanner for Linux hosts.
 *
 * The pipeline runs one way:
 *
 *     scan ──► store ──► compare ──► report
 *     (walk,    (SQLite    (findings: merge,  (text, JSON;
 *      hash)     snapshot)  classify, packages) stored runs)
 *
 * Source map (each module is a static library that links only those above it
 * in this list, so the build itself keeps the layering):
 *
 *   common/   what every module shares: the entry type, change, severity and
 *             class with their one name table (verdict.c), diagnostics
 *             (diag), growable buffers (strbuf), path escaping, patterns;
 *             no dependencies
 *   scanner/  the multi-threaded walker (walk.c), content hashing (hash.c),
 *             optional attributes and libmagic (attrs.c), the syscall seam
 *             the tests wrap (sys.c), the probes, dpkg, verification
 *   rules/    the policy: loading, matching, classifying one deviation
 *   store/    snapshots in SQLite (store.c, schema.c), the writer
 *             (writer.c), ordered iteration (iter.c), the streaming merge
 *             (compare.c), package ownership (pkg.c), stored runs (run.c)
 *   compare/  the findings layer: compare, classify and package attribution
 *             into findings, and what package work wrote beside dpkg's
 *             files explained by its records (explain.c and a file per
 *             record); runs recorded and replayed. The one place drift
 *             judges.
 *   report/   findings rendered as text or JSON (text.c, json.c), shared
 *             value formatting (format.c), spooling (report.c)
 *   tui/      drift browse: the model without curses (model.c, load.c),
 *             the ncurses view (view.c) and its detail pane (detail.c)
 *   cli/      this file, option parsing (args.c), exit codes (exit.c),
 *             output (output.c), signals, roots and scans (signals.c,
 *             roots.c, scan.c), findings to a report and a run (report.c),
 *             and one file per command (cmd_*.c)
 *   tests/    cmocka unit tests per module, end-to-end tests (tests/e2e)
 *   dist/     the man pages, the built-in policy, the apt hook
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "common/banned.h"

int main(int argc, char **argv)
{
	static char help[] = "help";
	const struct cli_command *cmd;
	struct cli_args args;
	int code;

	cli_signals_ignore_fsize();
	if (argc < 2) {
		fprintf(stderr, "usage: drift <command> [options] [args]\n"
				"see 'drift help' for the commands\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("drift %s\n", DRIFT_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		argv[1] = help;

	cmd = cli_command_find(argv[1]);
	if (!cmd) {
		const char *near = cli_command_suggest(argv[1]);

		if (near)
			cli_error(
				"'%s' is not a drift command; did you mean '%s'? see 'drift help'",
				cli_path(argv[1], strlen(argv[1]), 0), near);
		else
			cli_error("'%s' is not a drift command; see 'drift help'",
				  cli_path(argv[1], strlen(argv[1]), 0));
		return DRIFT_EXIT_USAGE;
	}
	if (cmd->main) {
		code = cmd->main(argc - 1, argv + 1);
	} else {
		code = cli_args_parse(cmd, argc - 1, argv + 1, &args);
		if (code < 0)
			return 0; /* --help was printed */
		if (code)
			return code;
		code = cmd->run(&args);
		cli_args_release(&args);
	}
	if (cli_out_of_memory() && code < DRIFT_EXIT_USAGE && cmd->confirms) {
		fprintf(stderr, "drift: warning: out of memory: what is shown as '(out of memory)' "
				"is missing; what was done is done\n");
	} else if (cli_out_of_memory() && code < DRIFT_EXIT_USAGE) {
		fprintf(stderr, "drift: out of memory: what is shown as '(out of memory)' is "
				"missing\n");
		code = DRIFT_EXIT_INTERNAL;
	}
	if (fflush(stdout) != 0 && code < DRIFT_EXIT_USAGE) {
		fprintf(stderr, "drift: cannot write to standard output\n");
		code = DRIFT_EXIT_OUTPUT;
	}
	return code;
}
