/*
 * Tests of the explanation of service enablement (compare/enablement.c):
 * deb-systemd-helper's links by its state files, update-rc.d's links and
 * the service entries by the package that ships the unit or init script,
 * and what stays drift.
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

#define UNIT  "[Service]\nExecStart=/usr/sbin/nginx\n[Install]\nWantedBy=multi-user.target\n"
#define CRON  "[Service]\nExecStart=/usr/sbin/cron\n"
#define INITD "#!/bin/sh\n### BEGIN INIT INFO\n"
#define LINK  (S_IFLNK | 0777)
#define DSH   "/var/lib/systemd/deb-systemd-helper-enabled/"

static const char policy[] = "rules:\n"
			     "  - {id: etc, path: /etc, check: [all], severity: high}\n"
			     "  - {id: services, kind: service, key: \"**\", severity: medium}\n"
			     "packages:\n"
			     "  unowned_severity: high\n";

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* A package that is there on both sides, in the same version. */
static const struct tpkg cron = { .name = "cron",
				  .version = "3.0-1",
				  .files = { SUM("/usr/lib/systemd/system/cron.service", CRON),
					     CONF("/etc/init.d/cron", INITD) } };
/* The package installed between the snapshots. */
static const struct tpkg nginx = { .name = "nginx",
				   .version = "1.22-1",
				   .files = { SUM("/usr/lib/systemd/system/nginx.service", UNIT),
					      CONF("/etc/init.d/nginx", INITD) } };
static const struct tpkg nginx_old = { .name = "nginx",
				       .version = "1.20-1",
				       .files = {
					       SUM("/usr/lib/systemd/system/nginx.service", UNIT),
					       CONF("/etc/init.d/nginx", INITD) } };

static void assert_drift(const struct got *g, const char *why)
{
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_true(g->counts);
	assert_contains(g->reason, why);
}

/* ---- deb-systemd-helper ---- */

static void test_dsh_links_of_installed_package_are_expected(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.files = { { .path = "/etc/systemd/system/dbus-org.example.service",
			     .mode = LINK,
			     .target = "/lib/systemd/system/old.service" } },
		.pkgs = { cron },
	};
	const struct side after = {
		.files = { { .path = "/etc/systemd/system/dbus-org.example.service",
			     .mode = LINK,
			     .target = "/lib/systemd/system/nginx.service",
			     .mtime = T1,
			     .ino = 2000 },
			   { .path = "/etc/systemd/system/multi-user.target.wants/nginx.service",
			     .mode = LINK,
			     .target = "/lib/systemd/system/nginx.service" },
			   { .path = "/etc/systemd/system/web.target.requires/nginx.service",
			     .mode = LINK,
			     .target = "../../../../usr/lib/systemd/system/nginx.service" } },
		.pkgs = { cron, nginx },
	};
	const struct got *g;

	host_put(fx, DSH "nginx.service.dsh-also",
		 "/etc/systemd/system/multi-user.target.wants/nginx.service\n"
		 "/etc/systemd/system/dbus-org.example.service\n"
		 "garbage line\n"
		 "/etc/systemd/system/web.target.requires/nginx.service\n");
	host_put(fx, DSH "multi-user.target.wants/nginx.service", "");
	host_put(fx, "/usr/lib/systemd/system/nginx.service", UNIT);
	assert_int_equal(troot_symlink(&fx->host, "lib", "usr/lib"), 0);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 3);
	/* /lib/... names the file nginx ships as /usr/lib/...: lib/ is usr/lib on this host */
	g = file(fx, "/etc/systemd/system/multi-user.target.wants/nginx.service");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by deb-systemd-helper for package nginx 1.22-1");
	assert_package(g, "nginx:amd64", "-", "1.22-1");
	assert_false(g->unowned);
	assert_false(g->counts);
	/* a relative target */
	g = file(fx, "/etc/systemd/system/web.target.requires/nginx.service");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by deb-systemd-helper for package nginx 1.22-1");
	/* an alias retargeted to the new unit */
	g = file(fx, "/etc/systemd/system/dbus-org.example.service");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by deb-systemd-helper for package nginx 1.22-1");
}

static void test_dsh_links_upgraded_package(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { nginx_old } };
	const struct side after = {
		.files = { { .path = "/etc/systemd/system/multi-user.target.wants/nginx.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/nginx.service" } },
		.pkgs = { nginx },
	};
	const struct got *g;

	host_put(fx, DSH "nginx.service.dsh-also",
		 "/etc/systemd/system/multi-user.target.wants/nginx.service\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/systemd/system/multi-user.target.wants/nginx.service");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by deb-systemd-helper for package nginx 1.22-1");
	assert_package(g, "nginx:amd64", "1.20-1", "1.22-1");
}

/* Counter-cases: each link lacks one of the records, and stays drift. */
static void test_dsh_links_without_record_stay_drift(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { cron } };
	const struct side after = {
		.files = { /* enabled by hand: no .dsh-also lists it */
			   { .path = "/etc/systemd/system/multi-user.target.wants/nginx.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/nginx.service" },
			   /* listed, but to a unit no package ships */
			   { .path = "/etc/systemd/system/multi-user.target.wants/evil.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/evil.service" },
			   /* listed, but its package did not change: systemctl enable by hand */
			   { .path = "/etc/systemd/system/multi-user.target.wants/cron.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/cron.service" },
			   /* listed, but not to a unit directory */
			   { .path = "/etc/systemd/system/multi-user.target.wants/sh.service",
			     .mode = LINK,
			     .target = "/etc/init.d/nginx" } },
		.pkgs = { cron, nginx },
	};
	const struct got *g;

	host_put(fx, DSH "evil.service.dsh-also",
		 "/etc/systemd/system/multi-user.target.wants/evil.service\n");
	host_put(fx, DSH "cron.service.dsh-also",
		 "/etc/systemd/system/multi-user.target.wants/cron.service\n"
		 "/etc/systemd/system/multi-user.target.wants/sh.service\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 4);
	assert_drift(file(fx, "/etc/systemd/system/multi-user.target.wants/nginx.service"),
		     "no deb-systemd-helper record of this link");
	assert_drift(file(fx, "/etc/systemd/system/multi-user.target.wants/evil.service"),
		     "is not owned by any package");
	g = file(fx, "/etc/systemd/system/multi-user.target.wants/cron.service");
	assert_drift(g, "package cron 3.0-1 did not change between the snapshots");
	assert_package(g, "cron:amd64", "3.0-1", "3.0-1");
	assert_drift(file(fx, "/etc/systemd/system/multi-user.target.wants/sh.service"),
		     "is not a packaged unit file");
}

/* A link's removal, or a change of its owner, is not enablement. */
static void test_dsh_link_removed_or_chowned_stays_drift(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.files = { { .path = "/etc/systemd/system/multi-user.target.wants/nginx.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/nginx.service" },
			   { .path = "/etc/systemd/system/multi-user.target.wants/gone.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/nginx.service" } },
		.pkgs = { nginx_old },
	};
	const struct side after = {
		.files = { { .path = "/etc/systemd/system/multi-user.target.wants/nginx.service",
			     .mode = LINK,
			     .target = "/usr/lib/systemd/system/nginx.service",
			     .uid = 1000 } },
		.pkgs = { nginx },
	};

	host_put(fx, DSH "nginx.service.dsh-also",
		 "/etc/systemd/system/multi-user.target.wants/nginx.service\n"
		 "/etc/systemd/system/multi-user.target.wants/gone.service\n");
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(
		file(fx, "/etc/systemd/system/multi-user.target.wants/nginx.service")->class,
		CLASS_DRIFT);
	assert_int_equal(
		file(fx, "/etc/systemd/system/multi-user.target.wants/gone.service")->class,
		CLASS_DRIFT);
}

/* ---- update-rc.d ---- */

static void test_rc_links(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { cron } };
	const struct side after = {
		.files = { { .path = "/etc/rc2.d/S01nginx",
			     .mode = LINK,
			     .target = "../init.d/nginx" },
			   { .path = "/etc/rc0.d/K01nginx",
			     .mode = LINK,
			     .target = "/etc/init.d/nginx" },
			   /* an init script no package ships */
			   { .path = "/etc/rc2.d/S01backdoor",
			     .mode = LINK,
			     .target = "../init.d/backdoor" },
			   /* an old package's script, linked by hand */
			   { .path = "/etc/rc3.d/S01cron",
			     .mode = LINK,
			     .target = "../init.d/cron" },
			   /* a link to another script than its name says */
			   { .path = "/etc/rcS.d/S01sneaky",
			     .mode = LINK,
			     .target = "../init.d/nginx" } },
		.pkgs = { cron, nginx },
	};
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 5);
	g = file(fx, "/etc/rc2.d/S01nginx");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by update-rc.d for package nginx 1.22-1");
	assert_package(g, "nginx:amd64", "-", "1.22-1");
	g = file(fx, "/etc/rc0.d/K01nginx");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "enabled by update-rc.d for package nginx 1.22-1");
	assert_drift(file(fx, "/etc/rc2.d/S01backdoor"),
		     "init script /etc/init.d/backdoor is not owned by any package");
	assert_drift(file(fx, "/etc/rc3.d/S01cron"),
		     "package cron 3.0-1 did not change between the snapshots");
	assert_drift(file(fx, "/etc/rcS.d/S01sneaky"), "not a link to its init script");
}

/* ---- service entries ---- */

static void test_service_entries(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.entries = { { ENTRY_SERVICE,
			       "cron.service",
			       { "path=/usr/lib/systemd/system/cron.service", "state=disabled" } },
			     { ENTRY_SERVICE,
			       "nginx.service",
			       { "path=/usr/lib/systemd/system/nginx.service",
				 "state=disabled" } } },
		.pkgs = { cron, nginx_old },
	};
	const struct side after = {
		.entries = { { ENTRY_SERVICE,
			       "cron.service",
			       { "path=/usr/lib/systemd/system/cron.service", "state=enabled",
				 "wanted_by=multi-user.target" } },
			     { ENTRY_SERVICE,
			       "evil.service",
			       { "path=/etc/systemd/system/evil.service", "state=enabled",
				 "wanted_by=multi-user.target" } },
			     { ENTRY_SERVICE,
			       "nginx.service",
			       { "path=/usr/lib/systemd/system/nginx.service", "state=enabled",
				 "wanted_by=multi-user.target" } } },
		.pkgs = { cron, nginx },
	};
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 3);
	g = log_get(&fx->log, ENTRY_SERVICE, "nginx.service");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "unit of package nginx 1.22-1, upgraded from 1.20-1");
	assert_package(g, "nginx:amd64", "1.20-1", "1.22-1");
	/* counter-cases: an unchanged package's unit enabled, a unit no package ships */
	g = log_get(&fx->log, ENTRY_SERVICE, "cron.service");
	assert_drift(g, "package cron 3.0-1 did not change between the snapshots");
	g = log_get(&fx->log, ENTRY_SERVICE, "evil.service");
	assert_drift(g, "is not owned by any package");
}

static void test_service_entry_of_installed_package(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.entries = { { ENTRY_SERVICE,
			       "cron.service",
			       { "path=/usr/lib/systemd/system/cron.service", "state=enabled" } } },
		.pkgs = { cron },
	};
	const struct side after = {
		.entries = { { ENTRY_SERVICE,
			       "cron.service",
			       { "path=/usr/lib/systemd/system/cron.service", "state=enabled" } },
			     { ENTRY_SERVICE,
			       "nginx.service",
			       { "path=/lib/systemd/system/nginx.service", "state=enabled" } } },
		.pkgs = { cron, nginx },
	};
	const struct got *g;

	assert_int_equal(troot_symlink(&fx->host, "lib", "usr/lib"), 0);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 1);
	g = log_get(&fx->log, ENTRY_SERVICE, "nginx.service");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "unit of package nginx 1.22-1, installed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dsh_links_of_installed_package_are_expected,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_dsh_links_upgraded_package, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_dsh_links_without_record_stay_drift, fx_setup,
						fx_teardown),
		cmocka_unit_test_setup_teardown(test_dsh_link_removed_or_chowned_stays_drift,
						fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_rc_links, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_service_entries, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_service_entry_of_installed_package, fx_setup,
						fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
