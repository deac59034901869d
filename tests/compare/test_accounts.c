/*
 * Tests of the explanation of system accounts (compare/accounts.c): users
 * and groups a changed package's maintainer scripts add, the account files
 * for exactly those additions, and what stays drift.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "compare/compare.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/compare/collect.h"
#include "tests/compare/fixture.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

#define POSTINST                                                                   \
	"#!/bin/sh\nset -e\nif ! getent passwd postgres >/dev/null; then\n"        \
	"  adduser --system --quiet --home /var/lib/postgresql --group postgres\n" \
	"fi\n"
#define INFO "/var/lib/dpkg/info/"

static const char policy[] = "rules:\n"
			     "  - {id: etc, path: /etc, check: [all], severity: high}\n"
			     "  - {id: users, kind: user, key: \"**\", severity: high}\n"
			     "  - {id: groups, kind: group, key: \"**\", severity: high}\n";

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

static const struct tpkg base = { .name = "base-files",
				  .version = "12.4",
				  .files = { SUM("/etc/debian_version", "12.4\n") } };
static const struct tpkg pg = { .name = "postgresql-common",
				.version = "248",
				.files = { SUM("/usr/bin/pg_lsclusters", "#!/usr/bin/perl\n") } };
static const struct tpkg pg_old = { .name = "postgresql-common",
				    .version = "247",
				    .files = {
					    SUM("/usr/bin/pg_lsclusters", "#!/usr/bin/perl\n") } };

#define ROOT                                                                              \
	{                                                                                 \
		ENTRY_USER, "root",                                                       \
		{                                                                         \
			"gid=0", "home=/root", "password=set", "shell=/bin/bash", "uid=0" \
		}                                                                         \
	}
#define ROOTGRP                             \
	{                                   \
		ENTRY_GROUP, "root",        \
		{                           \
			"gid=0", "members=" \
		}                           \
	}
#define DAEMON                                                                                   \
	{                                                                                        \
		ENTRY_USER, "daemon",                                                            \
		{                                                                                \
			"gid=1", "home=/usr/sbin", "password=locked", "shell=/usr/sbin/nologin", \
				"uid=1"                                                          \
		}                                                                                \
	}
#define POSTGRES                                                                  \
	{                                                                         \
		ENTRY_USER, "postgres",                                           \
		{                                                                 \
			"gid=110", "home=/var/lib/postgresql", "password=locked", \
				"shell=/bin/bash", "uid=105"                      \
		}                                                                 \
	}
#define PGGRP                                 \
	{                                     \
		ENTRY_GROUP, "postgres",      \
		{                             \
			"gid=110", "members=" \
		}                             \
	}

/* The account files, rewritten by adduser: content and times. */
#define FILES_BEFORE                                                             \
	REG("/etc/passwd", "root:x:0:0\n"), REG("/etc/group", "root:x:0:\n"),    \
		REG("/etc/shadow", "root:*\n"), REG("/etc/gshadow", "root:*\n"), \
		REG("/etc/passwd-", "root:x:0:0\n")
#define FILES_AFTER                                                                               \
	{ .path = "/etc/passwd", .content = "root:x:0:0\npostgres:x:105:110\n", .mtime = T1 },    \
		{ .path = "/etc/group", .content = "root:x:0:\npostgres:x:110:\n", .mtime = T1 }, \
		{ .path = "/etc/shadow", .content = "root:*\npostgres:*\n", .mtime = T1 },        \
		{ .path = "/etc/gshadow",                                                         \
		  .content = "root:*\npostgres:*\n",                                              \
		  .mtime = T1,                                                                    \
		  .mode = S_IFREG | 0640 },                                                       \
	{                                                                                         \
		.path = "/etc/passwd-", .content = "root:x:0:0\n", .mtime = T1, .ino = 2000       \
	}

static void test_system_account_of_installed_package(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.files = { FILES_BEFORE },
		.entries = { ROOT, ROOTGRP },
		.pkgs = { base },
	};
	const struct side after = {
		.files = { FILES_AFTER },
		.entries = { POSTGRES, ROOT, PGGRP, ROOTGRP },
		.pkgs = { base, pg },
	};
	const struct got *g;

	host_put(fx, INFO "postgresql-common.postinst", POSTINST);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_USER, "postgres");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "system account added by postgresql-common's maintainer scripts");
	assert_package(g, "postgresql-common:amd64", "-", "248");
	g = log_get(&fx->log, ENTRY_GROUP, "postgres");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "system group added by postgresql-common's maintainer scripts");
	for (const char *const *p = (const char *const[]){ "/etc/passwd", "/etc/group",
							   "/etc/shadow", "/etc/passwd-", NULL };
	     *p; p++) {
		g = file(fx, *p);
		assert_int_equal(g->class, CLASS_EXPECTED);
		assert_string_equal(g->reason,
				    "account files: added postgres by postgresql-common");
		assert_false(g->counts);
	}
	/* a mode changed with the content: not what adduser does */
	g = file(fx, "/etc/gshadow");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_true(g->counts);
	assert_int_equal(fx->log.n, 7);
}

/* The script of an upgraded package, under its name:arch; the range of adduser.conf. */
static void test_upgraded_package_and_configured_range(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .entries = { ROOT }, .pkgs = { base, pg_old } };
	const struct side after = { .entries = { POSTGRES, ROOT }, .pkgs = { base, pg } };
	const struct got *g;

	host_put(fx, INFO "postgresql-common:amd64.preinst", POSTINST);
	host_put(fx, "/etc/adduser.conf",
		 "# comment\nFIRST_SYSTEM_UID = 100\nLAST_SYSTEM_UID=\"110\"\nbad line\n");
	host_put(fx, "/etc/login.defs", "SYS_UID_MAX 99\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_USER, "postgres");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_package(g, "postgresql-common:amd64", "247", "248");
}

/* adduser.conf says nothing of the range: login.defs does. */
static void test_range_of_login_defs(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .entries = { ROOT }, .pkgs = { base } };
	const struct side after = { .entries = { POSTGRES, ROOT }, .pkgs = { base, pg } };
	const struct got *g;

	host_put(fx, INFO "postgresql-common.postinst", POSTINST);
	host_put(fx, "/etc/adduser.conf", "#LAST_SYSTEM_UID=999\n");
	host_put(fx, "/etc/login.defs", "SYS_UID_MIN\t\t 100\nSYS_UID_MAX\t\t 101\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_USER, "postgres");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "uid 105 is outside the system range 100-101");
}

/* Counter-cases: each added account lacks one of the records, and stays drift. */
static void test_unexplained_accounts_stay_drift(void **state)
{
	struct fx *fx = *state;
	const struct tpkg cron = { .name = "cron", .version = "3.0", .files = { NOSUM("/etc") } };
	const struct side before = {
		.files = { FILES_BEFORE },
		.entries = { ROOT },
		.pkgs = { base, cron },
	};
	const struct side after = {
		.files = { FILES_AFTER },
		.entries = { /* a person, not a system account */
			     { ENTRY_USER, "alice", { "gid=1000", "uid=1000" } },
			     /* named only by the script of a package that did not change */
			     { ENTRY_USER, "crond", { "gid=121", "uid=121" } },
			     /* a system id no script names */
			     { ENTRY_USER, "ghost", { "gid=120", "uid=120" } },
			     ROOT,
			     /* planted: a second uid 0, named by the script too */
			     { ENTRY_USER, "toor", { "gid=0", "shell=/bin/sh", "uid=0" } } },
		.pkgs = { base, cron, pg },
	};
	const struct got *g;

	host_put(fx, INFO "postgresql-common.postinst",
		 POSTINST "adduser alice\nuseradd -o -u 0 toor\n# ghostly, ghost_\n");
	host_put(fx, INFO "cron.postinst", "adduser --system crond\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 9);
	g = log_get(&fx->log, ENTRY_USER, "toor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "uid 0 is never a package's system account");
	g = log_get(&fx->log, ENTRY_USER, "alice");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "uid 1000 is outside the system range 100-999");
	g = log_get(&fx->log, ENTRY_USER, "ghost");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "no maintainer script of a package installed between the "
				   "snapshots names it");
	g = log_get(&fx->log, ENTRY_USER, "crond");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "no maintainer script");
	/* the account files hold unexplained additions: drift */
	g = file(fx, "/etc/passwd");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "account files: user alice added unexplained");
	assert_int_equal(file(fx, "/etc/shadow")->class, CLASS_DRIFT);
}

/* An explained addition beside a change to an existing account: the files stay drift. */
static void changed_beside_addition(void **state, const struct tentry *was,
				    const struct tentry *now)
{
	struct fx *fx = *state;
	struct side before = { .files = { FILES_BEFORE }, .pkgs = { base } };
	struct side after = {
		.files = { FILES_AFTER },
		.pkgs = { base, pg },
	};
	const struct got *g;

	/* in key order, as the writer takes them */
	before.entries[0] = *was;
	before.entries[1] = (struct tentry)ROOT;
	after.entries[0] = *now;
	after.entries[1] = (struct tentry)POSTGRES;
	after.entries[2] = (struct tentry)ROOT;
	host_put(fx, INFO "postgresql-common.postinst", POSTINST);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(log_get(&fx->log, ENTRY_USER, "postgres")->class, CLASS_EXPECTED);
	g = log_get(&fx->log, ENTRY_USER, "daemon");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_true(g->counts);
	for (const char *const *p = (const char *const[]){ "/etc/passwd", "/etc/group",
							   "/etc/shadow", "/etc/passwd-", NULL };
	     *p; p++) {
		g = file(fx, *p);
		assert_int_equal(g->class, CLASS_DRIFT);
		assert_contains(g->reason, "account files: user daemon changed");
	}
}

static void test_shell_changed_beside_addition(void **state)
{
	const struct tentry was = DAEMON;
	const struct tentry now = { ENTRY_USER,
				    "daemon",
				    { "gid=1", "home=/usr/sbin", "password=locked",
				      "shell=/bin/bash", "uid=1" } };

	changed_beside_addition(state, &was, &now);
}

static void test_password_set_beside_addition(void **state)
{
	const struct tentry was = DAEMON;
	const struct tentry now = { ENTRY_USER,
				    "daemon",
				    { "gid=1", "home=/usr/sbin", "password=set",
				      "password_digest=0123456789abcdef0123456789abcdef",
				      "shell=/usr/sbin/nologin", "uid=1" } };

	changed_beside_addition(state, &was, &now);
}

/* Without the user probe on a side, nothing says what changed in the files. */
static void test_no_user_probe_files_stay_drift(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { FILES_BEFORE }, .pkgs = { base } };
	const struct side after = {
		.files = { FILES_AFTER },
		.entries = { POSTGRES, ROOT },
		.pkgs = { base, pg },
	};
	const struct got *g;

	host_put(fx, INFO "postgresql-common.postinst", POSTINST);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/passwd");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "the user probe did not run in both snapshots");
	assert_null(log_find(&fx->log, ENTRY_USER, "postgres"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_system_account_of_installed_package, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_upgraded_package_and_configured_range,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_range_of_login_defs, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_unexplained_accounts_stay_drift, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_shell_changed_beside_addition, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_password_set_beside_addition, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_no_user_probe_files_stay_drift, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
