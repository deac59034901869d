#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A writable argv, as main() gets it; freed at exit (tests are short-lived). */
static char **mkargv(const char *const *in, int n)
{
	char **argv = calloc((size_t)n + 1, sizeof(*argv));

	assert_non_null(argv);
	for (int i = 0; i < n; i++) {
		argv[i] = strdup(in[i]);
		assert_non_null(argv[i]);
	}
	return argv;
}

static void freeargv(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

static void test_exit_code_for_counts_is_aides_bitmask(void **state)
{
	(void)state;
	struct report_counts c = { 0 };

	assert_int_equal(exit_code_for_counts(&c), 0);
	c.errors = 5; /* unreadable entries alone do not fail a run */
	assert_int_equal(exit_code_for_counts(&c), 0);
	c.counted_added = 1;
	assert_int_equal(exit_code_for_counts(&c), 1);
	c.counted_removed = 7;
	assert_int_equal(exit_code_for_counts(&c), 3);
	c.counted_modified = 1000000;
	assert_int_equal(exit_code_for_counts(&c), 7);
	c.counted_added = 0;
	assert_int_equal(exit_code_for_counts(&c), 6);
}

static void test_exit_code_for_counts_ignores_what_does_not_count(void **state)
{
	(void)state;
	/* Expected deviations are reported but not counted: the exit code stays 0. */
	struct report_counts c = { .added = 2, .removed = 1, .modified = 3, .expected = 6 };

	assert_int_equal(exit_code_for_counts(&c), 0);
	c.counted_modified = 1;
	assert_int_equal(exit_code_for_counts(&c), DRIFT_EXIT_MODIFIED);
}

static void test_exit_code_for_error_never_collides_with_bitmask(void **state)
{
	(void)state;
	const int errs[] = { -ENOENT, -EIO, -EPROTO, -EBUSY, -ENOMEM, -ECANCELED, -EACCES };
	const enum cli_stage stages[] = { CLI_STAGE_SCAN, CLI_STAGE_STORE, CLI_STAGE_OUTPUT };

	for (size_t s = 0; s < 3; s++) {
		for (size_t i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
			int code = exit_code_for_error(stages[s], errs[i]);
			assert_true(code >= 16 && code < 64);
		}
	}
	assert_int_equal(exit_code_for_error(CLI_STAGE_SCAN, -ENOENT), DRIFT_EXIT_SCAN);
	assert_int_equal(exit_code_for_error(CLI_STAGE_STORE, -EPROTO), DRIFT_EXIT_DATABASE);
	assert_int_equal(exit_code_for_error(CLI_STAGE_STORE, -EBUSY), DRIFT_EXIT_DATABASE);
	assert_int_equal(exit_code_for_error(CLI_STAGE_OUTPUT, -EIO), DRIFT_EXIT_OUTPUT);
	assert_int_equal(exit_code_for_error(CLI_STAGE_STORE, -ECANCELED), DRIFT_EXIT_INTERRUPTED);
	assert_int_equal(exit_code_for_error(CLI_STAGE_SCAN, -ENOMEM), DRIFT_EXIT_INTERNAL);
	/* The documented values; scripts depend on them. */
	assert_int_equal(DRIFT_EXIT_USAGE, 16);
	assert_int_equal(DRIFT_EXIT_POLICY, 17);
	assert_int_equal(DRIFT_EXIT_SCAN, 18);
	assert_int_equal(DRIFT_EXIT_DATABASE, 19);
	assert_int_equal(DRIFT_EXIT_INTERRUPTED, 20);
	assert_int_equal(DRIFT_EXIT_NO_BASELINE, 21);
	assert_int_equal(DRIFT_EXIT_OUTPUT, 22);
	assert_int_equal(DRIFT_EXIT_INTERNAL, 23);
}

static void test_cli_args_parse_options_and_operands(void **state)
{
	(void)state;
	const char *argv_in[] = { "check",    "--db", "/x.db",     "/etc",  "--exclude=/etc/a",
				  "--format", "json", "--exclude", "*.swp", "--keep",
				  "3",        "--",   "-dash" };
	char **argv = mkargv(argv_in, 13);
	struct cli_args a;

	assert_int_equal(cli_args_parse(&cmd_check_def, 13, argv, &a), 0);
	assert_string_equal(a.db, "/x.db");
	assert_int_equal(a.format, REPORT_JSON);
	assert_int_equal(a.nexcludes, 2);
	assert_string_equal(a.excludes[0], "/etc/a");
	assert_string_equal(a.excludes[1], "*.swp");
	assert_int_equal(a.keep, 3);
	assert_int_equal(a.noperands, 2);
	assert_string_equal(a.operands[0], "/etc");
	assert_string_equal(a.operands[1], "-dash");
	assert_string_equal(cli_db_path(&a), "/x.db");
	cli_args_release(&a);
	freeargv(argv);
}

static void test_cli_args_parse_refuses_foreign_options(void **state)
{
	(void)state;
	const char *argv1_in[] = { "init", "--format", "json" };
	char **argv1 = mkargv(argv1_in, 3);
	const char *argv2_in[] = { "check", "--threads", "-1" };
	char **argv2 = mkargv(argv2_in, 3);
	const char *argv3_in[] = { "check", "--nope" };
	char **argv3 = mkargv(argv3_in, 2);
	struct cli_args a;

	memset(&a, 0x5a, sizeof(a));
	assert_int_equal(cli_args_parse(&cmd_init_def, 3, argv1, &a), DRIFT_EXIT_USAGE);
	assert_int_equal(cli_args_parse(&cmd_check_def, 3, argv2, &a), DRIFT_EXIT_USAGE);
	assert_int_equal(cli_args_parse(&cmd_check_def, 2, argv3, &a), DRIFT_EXIT_USAGE);
	/* ret_args is written only on success. */
	assert_int_equal(((unsigned char *)&a)[0], 0x5a);
	freeargv(argv1);
	freeargv(argv2);
	freeargv(argv3);
}

static void test_cli_args_parse_system_state_options(void **state)
{
	(void)state;
	const char *ok_in[] = { "scan",         "--root",    "/mnt/img", "--probes",
				"package,user", "--upgrade", "pre" };
	char **ok = mkargv(ok_in, 7);
	const char *rel_in[] = { "init", "--root", "mnt/img" };
	char **rel = mkargv(rel_in, 3);
	const char *up_in[] = { "scan", "--upgrade", "during" };
	char **up = mkargv(up_in, 3);
	const char *last_in[] = { "check", "--last-upgrade" };
	char **last = mkargv(last_in, 2);
	const char *unowned_in[] = { "verify", "--unowned", "--root", "/" };
	char **unowned = mkargv(unowned_in, 4);
	struct cli_args a;

	assert_int_equal(cli_args_parse(&cmd_scan_def, 7, ok, &a), 0);
	assert_string_equal(a.root, "/mnt/img");
	assert_string_equal(a.probes, "package,user");
	assert_string_equal(a.upgrade, "pre");
	cli_args_release(&a);
	/* --root must be absolute; --upgrade is pre or post; --last-upgrade is diff's. */
	assert_int_equal(cli_args_parse(&cmd_init_def, 3, rel, &a), DRIFT_EXIT_USAGE);
	assert_int_equal(cli_args_parse(&cmd_scan_def, 3, up, &a), DRIFT_EXIT_USAGE);
	assert_int_equal(cli_args_parse(&cmd_check_def, 2, last, &a), DRIFT_EXIT_USAGE);
	assert_int_equal(cli_args_parse(&cmd_verify_def, 4, unowned, &a), 0);
	assert_true(a.unowned);
	cli_args_release(&a);
	freeargv(ok);
	freeargv(rel);
	freeargv(up);
	freeargv(last);
	freeargv(unowned);
}

static void test_cli_db_path_follows_xdg_for_users(void **state)
{
	(void)state;
	const char *argv_in[] = { "check" };
	char **argv = mkargv(argv_in, 1);
	struct cli_args a;

	if (geteuid() == 0) {
		assert_int_equal(cli_args_parse(&cmd_check_def, 1, argv, &a), 0);
		assert_string_equal(cli_db_path(&a), "/var/lib/drift/drift.db");
		cli_args_release(&a);
		freeargv(argv);
		return;
	}
	setenv("XDG_STATE_HOME", "/tmp/xdg-state", 1);
	assert_int_equal(cli_args_parse(&cmd_check_def, 1, argv, &a), 0);
	assert_string_equal(cli_db_path(&a), "/tmp/xdg-state/drift/drift.db");
	cli_args_release(&a);
	freeargv(argv);
}

static void test_every_command_has_help_and_is_found(void **state)
{
	(void)state;
	for (size_t i = 0; cli_commands[i]; i++) {
		const struct cli_command *c = cli_commands[i];
		assert_ptr_equal(cli_command_find(c->name), c);
		assert_non_null(strstr(c->usage, "usage: drift "));
		assert_non_null(c->summary);
	}
	assert_null(cli_command_find("nope"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_code_for_counts_is_aides_bitmask),
		cmocka_unit_test(test_exit_code_for_counts_ignores_what_does_not_count),
		cmocka_unit_test(test_exit_code_for_error_never_collides_with_bitmask),
		cmocka_unit_test(test_cli_args_parse_options_and_operands),
		cmocka_unit_test(test_cli_args_parse_refuses_foreign_options),
		cmocka_unit_test(test_cli_args_parse_system_state_options),
		cmocka_unit_test(test_cli_db_path_follows_xdg_for_users),
		cmocka_unit_test(test_every_command_has_help_and_is_found),
	};
	return cmocka_run_group_tests_name("cli/exit", tests, NULL, NULL);
}
