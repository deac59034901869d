/*
 * Tests of what apt's history and dpkg's log explain (compare/history.c,
 * compare/explain.c): package entries installed, upgraded or removed
 * between two snapshots, and the caches dpkg's triggers rewrite. Every
 * explanation has its counter-case that stays drift.
 *
 * The window is set on the sides' snap_info: from 2026-12-04 10:00:00 to
 * 12:00:00 UTC (the tests run with TZ=UTC, the logs' local time).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "tests/compare/fixture.h"

#define SEC       1000000000LL
#define WIN_START (1796378400LL * SEC) /* 2026-12-04 10:00:00 UTC */
#define WIN_END   (WIN_START + 2 * 3600 * SEC)
#define CACHE_OLD "ld.so.cache, the old one\n"
#define CACHE_NEW "ld.so.cache, rebuilt\n"
#define HELLO     "#!/bin/sh\necho hello\n"

static const char policy[] =
	"rules:\n"
	"  - {id: usr, path: /usr, check: [all], severity: medium}\n"
	"  - {id: etc, path: /etc, check: [all], severity: high}\n"
	"  - {id: pkgs, kind: package, key: \"**\", severity: medium, when_added: low}\n";

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* One apt run, as apt writes it to its history. */
static const char apt_history[] =
	"\n"
	"Start-Date: 2026-12-03  09:00:00\n"
	"Commandline: apt-get install oldthing\n"
	"Install: oldthing:amd64 (0.1)\n"
	"End-Date: 2026-12-03  09:00:10\n"
	"\n"
	"Start-Date: 2026-12-04  10:30:00\n"
	"Commandline: apt-get install fresh\n"
	"Requested-By: alice (1000)\n"
	"Install: fresh:amd64 (3.0), libfresh1:amd64 (3.0, automatic), fresh-data:amd64 (3.0)\n"
	"Upgrade: hello:amd64 (1.0-1, 1.1-1)\n"
	"Remove: oldpkg:amd64 (2.0)\n"
	"End-Date: 2026-12-04  10:30:40\n";

/* hello upgraded, fresh installed, oldpkg removed: the package entries of both sides. */
static void package_sides(struct fx *fx, const struct tpkg *extra_after)
{
	const struct tpkg hello10 = { .name = "hello", .version = "1.0-1" };
	const struct tpkg hello11 = { .name = "hello", .version = "1.1-1" };
	const struct tpkg oldpkg = { .name = "oldpkg", .version = "2.0" };
	const struct tpkg fresh = { .name = "fresh", .version = "3.0" };
	struct side before = { .pkgs = { hello10, oldpkg }, .package_probe = true };
	/* apt's history writes the native architecture for an Architecture: all package */
	const struct tpkg data = { .name = "fresh-data", .version = "3.0", .arch = "all" };
	struct side after = { .pkgs = { hello11, fresh, data }, .package_probe = true };

	if (extra_after)
		after.pkgs[3] = *extra_after;
	sides(fx, &before, &after);
	fx->before.started_ns = WIN_START;
	fx->after.started_ns = WIN_END - 60 * SEC;
	fx->after.finished_ns = WIN_END;
}

static void test_apt_history_explains_package_changes(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_put(fx, "/var/log/apt/history.log", apt_history);
	package_sides(fx, NULL);
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(
		g->reason, "installed 3.0 by 'apt-get install fresh' (alice, 2026-12-04 10:30:00)");
	assert_false(g->counts);
	g = log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(
		g->reason,
		"1.0-1 -> 1.1-1 by 'apt-get install fresh' (alice, 2026-12-04 10:30:00)");
	assert_string_equal(g->pkg, "hello:amd64");
	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh-data:all");
	assert_int_equal(g->class, CLASS_EXPECTED);
	g = log_get(&fx->log, ENTRY_PACKAGE, "oldpkg:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_contains(g->reason, "removed by 'apt-get install fresh'");
}

/* A version apt did not install, a run outside the window: not explained by them. */
static void test_apt_history_must_match(void **state)
{
	struct fx *fx = *state;
	const struct tpkg oldthing = { .name = "oldthing", .version = "0.1" };
	const char history[] = "Start-Date: 2026-12-04  10:30:00\n"
			       "Commandline: apt-get install fresh\n"
			       "Install: fresh:amd64 (2.9)\n"
			       "Upgrade: hello:i386 (1.0-1, 1.1-1)\n"
			       "End-Date: 2026-12-04  10:30:40\n";
	const struct got *g;

	/* the window's run names other versions and architectures; the old run is outside */
	host_put(fx, "/var/log/apt/history.log", history);
	host_put(fx, "/var/log/apt/history.log.1",
		 "Start-Date: 2026-12-03  09:00:00\n"
		 "Commandline: apt-get install oldthing\n"
		 "Install: oldthing:amd64 (0.1)\n"
		 "End-Date: 2026-12-03  09:00:10\n");
	package_sides(fx, &oldthing);
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "installed 3.0; no apt or dpkg record of it");
	assert_true(g->counts);
	g = log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	g = log_get(&fx->log, ENTRY_PACKAGE, "oldthing:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "installed 0.1; no apt or dpkg record of it");
}

static const char dpkg_log[] = "2026-12-04 11:00:00 startup archives unpack\n"
			       "2026-12-04 11:00:01 install fresh:amd64 <none> 3.0\n"
			       "2026-12-04 11:00:01 status half-installed fresh:amd64 3.0\n"
			       "2026-12-04 11:00:02 upgrade hello:amd64 1.0-1 1.1-1\n"
			       "2026-12-04 11:00:03 remove oldpkg:amd64 2.0 <none>\n"
			       "2026-12-04 11:00:04 status installed fresh:amd64 3.0\n";

/* dpkg -i of a stray file: dpkg's log alone records it. The policy decides. */
static void test_dpkg_log_alone(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_put(fx, "/var/log/dpkg.log", dpkg_log);
	package_sides(fx, NULL);
	compare(fx, NULL);
	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason,
			    "installed 3.0 by dpkg (2026-12-04 11:00:01), not through apt");
	g = log_get(&fx->log, ENTRY_PACKAGE, "oldpkg:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "removed by dpkg (2026-12-04 11:00:03), not through apt");

	policy_load(fx, "rules:\n"
			"  - {id: pkgs, kind: package, key: \"**\", severity: medium}\n"
			"packages:\n"
			"  history: dpkg\n");
	compare(fx, NULL);
	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "installed 3.0 by dpkg (2026-12-04 11:00:01), not through apt");
	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64")->class, CLASS_EXPECTED);

	policy_load(fx, "rules:\n"
			"  - {id: pkgs, kind: package, key: \"**\", severity: medium}\n"
			"packages:\n"
			"  history: none\n");
	compare(fx, NULL);
	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new package");
}

/* apt's record wins over dpkg's lines of the same run; erased logs explain nothing. */
static void test_apt_before_dpkg_and_erased_logs(void **state)
{
	struct fx *fx = *state;

	host_put(fx, "/var/log/dpkg.log", dpkg_log);
	host_put(fx, "/var/log/apt/history.log", apt_history);
	package_sides(fx, NULL);
	compare(fx, NULL);
	assert_contains(log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64")->reason,
			"by 'apt-get install fresh'");

	host_put(fx, "/var/log/dpkg.log", "");
	host_put(fx, "/var/log/apt/history.log", "");
	compare(fx, NULL);
	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64")->class, CLASS_DRIFT);
}

/* Malformed logs: what can be read stands, nothing crashes. */
static void test_malformed_logs(void **state)
{
	struct fx *fx = *state;

	host_put(fx, "/var/log/dpkg.log",
		 "garbage\n2026-12-04 11:00:01 install\n2026-12-04 25:99:01 install a b c\n"
		 "2026-12-04 11:00:01 install fresh:amd64\n");
	host_put(fx, "/var/log/apt/history.log",
		 "Start-Date: 2026-12-04  10:30:00\nInstall: broken (3.0\nUpgrade: x\n"
		 "Install: hello:amd64 1.1-1)\nStart-Date: junk\nInstall: fresh:amd64 (3.0)\n");
	package_sides(fx, NULL);
	compare(fx, NULL);
	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64")->class, CLASS_DRIFT);
	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64")->class, CLASS_DRIFT);
}

/* ---- trigger outputs ---- */

static void trigger_sides(struct fx *fx, uint32_t mode, bool owned)
{
	const struct tpkg libc = { .name = "libc-bin",
				   .version = "2.36-9",
				   .files = {
					   { .path = "/etc/ld.so.cache", .sum_of = CACHE_NEW } } };
	const struct tpkg hello = { .name = "hello",
				    .version = "1.0-1",
				    .files = { { .path = "/usr/bin/hello", .sum_of = HELLO } } };
	const struct side before = {
		.files = { REG("/etc/ld.so.cache", CACHE_OLD) },
		.pkgs = { hello },
	};
	struct side after = {
		.files = { { .path = "/etc/ld.so.cache",
			     .content = CACHE_NEW,
			     .mode = mode,
			     .mtime = T1,
			     .ino = 2000 },
			   REG("/usr/share/icons/hicolor/icon-theme.cache", CACHE_NEW) },
		.pkgs = { hello },
	};

	if (owned)
		after.pkgs[1] = libc;
	host_put(fx, "/etc/ld.so.cache", CACHE_NEW);
	sides(fx, &before, &after);
	fx->before.started_ns = WIN_START;
	fx->after.started_ns = WIN_END - 60 * SEC;
	fx->after.finished_ns = WIN_END;
}

static void test_trigger_outputs_when_dpkg_ran(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_put(fx, "/var/log/dpkg.log",
		 "2026-12-04 11:00:07 trigproc libc-bin:amd64 2.36-9 <none>\n");
	trigger_sides(fx, 0, false);
	compare(fx, NULL);
	g = file(fx, "/etc/ld.so.cache");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "rewritten by a dpkg trigger (dpkg ran between the snapshots)");
	g = file(fx, "/usr/share/icons/hicolor/icon-theme.cache");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason,
			    "written by a dpkg trigger (dpkg ran between the snapshots)");
}

static void test_trigger_outputs_without_dpkg(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	/* dpkg ran, but the day before */
	host_put(fx, "/var/log/dpkg.log",
		 "2026-12-03 11:00:07 trigproc libc-bin:amd64 2.36-9 <none>\n");
	trigger_sides(fx, 0, false);
	compare(fx, NULL);
	g = file(fx, "/etc/ld.so.cache");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "dpkg did not run between the snapshots");
	assert_int_equal(file(fx, "/usr/share/icons/hicolor/icon-theme.cache")->class, CLASS_DRIFT);
}

static void test_trigger_output_executable_or_owned(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_put(fx, "/var/log/dpkg.log",
		 "2026-12-04 11:00:07 trigproc libc-bin:amd64 2.36-9 <none>\n");
	/* an executable where a cache belongs is no cache */
	trigger_sides(fx, S_IFREG | 0755, false);
	compare(fx, NULL);
	g = file(fx, "/etc/ld.so.cache");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
}

static void test_trigger_output_owned_is_dpkgs(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	host_put(fx, "/var/log/dpkg.log",
		 "2026-12-04 11:00:07 trigproc libc-bin:amd64 2.36-9 <none>\n");
	/* a package ships it: its sum decides, not the trigger list */
	trigger_sides(fx, 0, true);
	host_put(fx, "/etc/ld.so.cache", CACHE_NEW);
	compare(fx, NULL);
	g = file(fx, "/etc/ld.so.cache");
	assert_string_equal(g->pkg, "libc-bin:amd64");
	assert_string_equal(g->reason, "package libc-bin 2.36-9 installed");
}

/* The policy's list decides what is a trigger output. */
static void test_trigger_outputs_from_the_policy(void **state)
{
	struct fx *fx = *state;

	host_put(fx, "/var/log/dpkg.log",
		 "2026-12-04 11:00:07 trigproc libc-bin:amd64 2.36-9 <none>\n");
	policy_load(fx, "rules:\n"
			"  - {id: usr, path: /usr, check: [all], severity: medium}\n"
			"  - {id: etc, path: /etc, check: [all], severity: high}\n"
			"packages:\n"
			"  trigger_outputs: [/usr/share/icons]\n");
	trigger_sides(fx, 0, false);
	compare(fx, NULL);
	assert_int_equal(file(fx, "/etc/ld.so.cache")->class, CLASS_DRIFT);
	assert_int_equal(file(fx, "/usr/share/icons/hicolor/icon-theme.cache")->class,
			 CLASS_EXPECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_apt_history_explains_package_changes),
		T(test_apt_history_must_match),
		T(test_dpkg_log_alone),
		T(test_apt_before_dpkg_and_erased_logs),
		T(test_malformed_logs),
		T(test_trigger_outputs_when_dpkg_ran),
		T(test_trigger_outputs_without_dpkg),
		T(test_trigger_output_executable_or_owned),
		T(test_trigger_output_owned_is_dpkgs),
		T(test_trigger_outputs_from_the_policy),
#undef T
	};
	return cmocka_run_group_tests_name("compare/history", tests, NULL, troot_cleanup_all);
}
