/*
 * Tests of compare_snapshots(): classification under the policy and
 * package attribution (compare/compare.c, compare/attrib.c, compare/live.c),
 * on real databases and a real host directory whose files the content
 * check reads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "compare/compare.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "tests/compare/collect.h"
#include "tests/compare/fixture.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

/* The contents of the files, as packages ship them and as hosts hold them. */
#define HELLO_10 "#!/bin/sh\necho hello 1.0\n"
#define HELLO_11 "#!/bin/sh\necho hello 1.1\n"
#define TROJAN   "#!/bin/sh\necho trojaned\n"
#define CONF_10  "greeting = hello\n"
#define CONF_11  "greeting = hello\nvolume = 11\n"
#define CONF_MY  "greeting = howdy\n"
#define DOC      "hello, the classic greeting\n"

static const char policy[] =
	"rules:\n"
	"  - {id: usr, path: /usr, check: [all], severity: medium}\n"
	"  - {id: sbin, path: /usr/sbin, check: [all], severity: critical}\n"
	"  - {id: libexec, path: /usr/libexec, check: [all], severity: low, magic: true}\n"
	"  - {id: etc, path: /etc, check: [all], severity: high}\n"
	"  - {id: opt, path: /opt, check: [all], severity: low}\n"
	"  - {id: pkgs, kind: package, key: \"**\", severity: medium}\n"
	"packages:\n"
	"  conffile_severity: info\n"
	"  unowned_severity: high\n";

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* ---- a package that did not change ---- */

static void test_unchanged_package_touched_file_is_drift(void **state)
{
	struct fx *fx = *state;
	const struct tpkg hello = { .name = "hello",
				    .version = "1.0-1",
				    .files = { SUM("/usr/bin/hello", HELLO_10),
					       SUM("/usr/bin/hi", HELLO_10) } };
	const struct side before = {
		.files = { REG("/usr/bin/hello", HELLO_10), REG("/usr/bin/hi", HELLO_10) },
		.pkgs = { hello },
	};
	/* hello touched (mtime only); hi replaced by a copy (new inode, same content) */
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = HELLO_10, .mtime = T1 },
			   { .path = "/usr/bin/hi",
			     .content = HELLO_10,
			     .mtime = T1,
			     .ino = 2000 } },
		.pkgs = { hello },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_10);
	host_put(fx, "/usr/bin/hi", HELLO_10);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 2);
	g = file(fx, "/usr/bin/hello");
	assert_true(g->judged);
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->class, CLASS_DRIFT);
	/* times only: info, whatever the rule says */
	assert_int_equal(g->severity, SEVERITY_INFO);
	assert_string_equal(g->reason, "times changed only; package hello 1.0-1 did not change");
	assert_string_equal(g->rule_id, "usr");
	assert_true(g->counts);
	assert_package(g, "hello:amd64", "1.0-1", "1.0-1");
	g = file(fx, "/usr/bin/hi");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_INFO);
	assert_string_equal(g->reason,
			    "rewritten with the same content; package hello 1.0-1 did not change");
	assert_package(g, "hello:amd64", "1.0-1", "1.0-1");
	/* nothing is checked against a package that did not change */
	assert_int_equal(seams.file_reads, 0);
	assert_int_equal(fx->log.nnotes, 0);
}

static void test_unchanged_package_modified_conffile(void **state)
{
	struct fx *fx = *state;
	const struct tpkg hello = { .name = "hello",
				    .version = "1.0-1",
				    .files = { SUM("/etc/hello.rc", CONF_10),
					       CONF("/etc/hello.conf", CONF_10) } };
	const struct side before = {
		.files = { REG("/etc/hello.conf", CONF_10), REG("/etc/hello.rc", CONF_10) },
		.pkgs = { hello },
	};
	const struct side after = {
		.files = { { .path = "/etc/hello.conf", .content = CONF_MY, .mtime = T1 },
			   { .path = "/etc/hello.rc", .content = CONF_MY, .mtime = T1 } },
		.pkgs = { hello },
	};
	const struct got *g;

	host_put(fx, "/etc/hello.conf", CONF_MY);
	host_put(fx, "/etc/hello.rc", CONF_MY);
	sides(fx, &before, &after);
	compare(fx, NULL);

	/* a conffile: local configuration, at the policy's conffile severity */
	g = file(fx, "/etc/hello.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_INFO);
	assert_string_equal(g->reason, "locally modified configuration (package hello 1.0-1)");
	assert_package(g, "hello:amd64", "1.0-1", "1.0-1");
	/* not a conffile: the rule's severity, and the package did not change */
	g = file(fx, "/etc/hello.rc");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "content changed; package hello 1.0-1 did not change");
}

/* ---- a package upgraded ---- */

static const struct tpkg hello10 = { .name = "hello",
				     .version = "1.0-1",
				     .files = { SUM("/usr/bin/hello", HELLO_10) } };
static const struct tpkg hello11 = { .name = "hello",
				     .version = "1.1-1",
				     .files = { SUM("/usr/bin/hello", HELLO_11) } };

static void test_upgrade_matching_content_is_expected(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { hello10 } };
	const struct side after = {
		.files = { { .path = "/usr/bin/hello",
			     .content = HELLO_11,
			     .mtime = T1,
			     .ino = 2000 } },
		.pkgs = { hello11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	seam_reset("/usr/bin/hello", 0);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 1);
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	assert_string_equal(g->rule_id, "usr");
	assert_false(g->counts);
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	assert_true(g->changed & ATTR_HASH);
	/* the host's file was opened and read once */
	assert_int_equal(seams.file_reads, 1);
	assert_int_equal(atomic_load(&seams.watch_opens), 1);
}

static void test_upgrade_content_mismatch_is_drift(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/hello", HELLO_10),
					     CONF("/etc/hello.conf", CONF_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { SUM("/usr/bin/hello", HELLO_11),
					     CONF("/etc/hello.conf", CONF_11) } };
	const struct side before = {
		.files = { REG("/etc/hello.conf", CONF_10), REG("/usr/bin/hello", HELLO_10) },
		.pkgs = { h10 },
	};
	/* neither is what 1.1-1 ships */
	const struct side after = {
		.files = { { .path = "/etc/hello.conf", .content = CONF_MY, .mtime = T1 },
			   { .path = "/usr/bin/hello", .content = TROJAN, .mtime = T1 } },
		.pkgs = { h11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", TROJAN);
	host_put(fx, "/etc/hello.conf", CONF_MY);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_string_equal(g->reason, "content does not match package hello 1.1-1");
	assert_true(g->counts);
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	g = file(fx, "/etc/hello.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_INFO); /* not the rule's high */
	assert_string_equal(g->reason, "locally modified configuration (package hello 1.1-1)");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
}

static void test_live_file_changed_since_the_snapshot(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { hello10 } };
	/* the scan saw a trojan; the host now holds what the package ships */
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = TROJAN, .mtime = T1 } },
		.pkgs = { hello11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "cannot check against package hello 1.1-1: the file "
				       "changed since the snapshot");
	assert_true(g->counts);
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
}

/* Four upgraded files the host cannot show as the snapshot recorded them. */
static void test_live_file_missing_or_unreadable(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/gone", HELLO_10),
					     SUM("/usr/bin/locked", HELLO_10),
					     SUM("/usr/bin/nowdir", HELLO_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { SUM("/usr/bin/gone", HELLO_11),
					     SUM("/usr/bin/locked", HELLO_11),
					     SUM("/usr/bin/nowdir", HELLO_11) } };
	const struct side before = {
		.files = { REG("/usr/bin/gone", HELLO_10), REG("/usr/bin/locked", HELLO_10),
			   REG("/usr/bin/nowdir", HELLO_10) },
		.pkgs = { h10 },
	};
	const struct side after = {
		.files = { { .path = "/usr/bin/gone", .content = HELLO_11, .mtime = T1 },
			   { .path = "/usr/bin/locked", .content = HELLO_11, .mtime = T1 },
			   { .path = "/usr/bin/nowdir", .content = HELLO_11, .mtime = T1 } },
		.pkgs = { h11 },
	};
	const struct got *g;

	/* gone: not on the host; locked: EACCES through the seam; nowdir: a directory */
	host_put(fx, "/usr/bin/locked", HELLO_11);
	host_mkdir(fx, "/usr/bin/nowdir");
	sides(fx, &before, &after);
	seam_reset("/usr/bin/locked", EACCES);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 3);
	g = file(fx, "/usr/bin/gone");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "cannot check against package hello 1.1-1: No such file or "
				       "directory");
	g = file(fx, "/usr/bin/locked");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "cannot check against package hello 1.1-1: Permission "
				       "denied");
	assert_int_equal(atomic_load(&seams.watch_opens), 1);
	g = file(fx, "/usr/bin/nowdir");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "cannot check against package hello 1.1-1: ");
	for (size_t i = 0; i < fx->log.n; i++)
		assert_package(&fx->log.f[i], "hello:amd64", "1.0-1", "1.1-1");

	/* without a host, nothing can be checked */
	compare(fx, &(struct how){ .no_host = true });
	g = file(fx, "/usr/bin/locked");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "cannot check against package hello 1.1-1: the host's files "
				       "are not at hand");
}

/* The same with a real permission failure (as root too, without its DAC capabilities). */
static void test_live_file_mode_000(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { hello10 } };
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 } },
		.pkgs = { hello11 },
	};
	char path[256];

	host_put(fx, "/usr/bin/hello", HELLO_11);
	snprintf(path, sizeof(path), "%s/usr/bin/hello", fx->host.dir);
	assert_int_equal(chmod(path, 0), 0);
	sides(fx, &before, &after);
	dac_drop();
	compare(fx, NULL);
	dac_restore();
	assert_string_equal(file(fx, "/usr/bin/hello")->reason,
			    "cannot check against package hello 1.1-1: Permission denied");
	assert_int_equal(chmod(path, 0644), 0);
}

/* ---- removed and installed files ---- */

static void test_removed_files(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { NOSUM("/usr/bin"), SUM("/usr/bin/hello", HELLO_10),
					     SUM("/usr/share/doc/hello/README", DOC) } };
	/* 1.1-1 no longer ships the README, and still ships the program */
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { NOSUM("/usr/bin"), SUM("/usr/bin/hello", HELLO_11) } };
	const struct tpkg old = { .name = "oldpkg",
				  .version = "2.0",
				  .files = { SUM("/usr/bin/old", DOC) },
				  .arch = "all" };
	const struct tpkg base = { .name = "base",
				   .version = "7",
				   .files = { SUM("/usr/share/base/motd", DOC) } };
	const struct side before = {
		.files = { REG("/usr/bin/hello", HELLO_10), REG("/usr/bin/old", DOC),
			   REG("/usr/share/base/motd", DOC),
			   REG("/usr/share/doc/hello/README", DOC) },
		.pkgs = { h10, old, base },
	};
	const struct side after = { .pkgs = { h11, base } };
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 4);
	/* its package was removed */
	g = file(fx, "/usr/bin/old");
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package oldpkg 2.0 removed");
	assert_package(g, "oldpkg:all", "2.0", "-");
	/* its package was upgraded to a version without it */
	g = file(fx, "/usr/share/doc/hello/README");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	/* the new version still ships it: no upgrade explains its loss */
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "removed; package hello 1.1-1 still ships it");
	assert_true(g->counts);
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	/* nor does a package that did not change */
	g = file(fx, "/usr/share/base/motd");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "removed; package base 7 still ships it");
	assert_package(g, "base:amd64", "7", "7");
	/* a removed file is never read */
	assert_int_equal(seams.file_reads, 0);
}

static void test_installed_package_new_file_is_expected(void **state)
{
	struct fx *fx = *state;
	const struct tpkg fresh = { .name = "fresh",
				    .version = "3.0",
				    .files = { NOSUM("/usr/bin"), SUM("/usr/bin/fresh", DOC) } };
	const struct side before = { .pkgs = { hello10 } };
	const struct side after = { .files = { REG("/usr/bin/fresh", DOC) },
				    .pkgs = { hello10, fresh } };
	const struct got *g;

	host_put(fx, "/usr/bin/fresh", DOC);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/fresh");
	assert_int_equal(g->change, CHANGE_ADDED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package fresh 3.0 installed");
	assert_false(g->counts);
	assert_package(g, "fresh:amd64", "-", "3.0");
	assert_int_equal(seams.file_reads, 1);
}

/* ---- what an upgrade does not explain ---- */

static void test_upgrade_does_not_explain_mode_or_owner(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/hello", HELLO_10),
					     SUM("/usr/bin/hi", HELLO_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { SUM("/usr/bin/hello", HELLO_11),
					     SUM("/usr/bin/hi", HELLO_11) } };
	const struct side before = {
		.files = { REG("/usr/bin/hello", HELLO_10), REG("/usr/bin/hi", HELLO_10) },
		.pkgs = { h10 },
	};
	/* the content is what 1.1-1 ships, but hello became 0755 and hi someone's */
	const struct side after = {
		.files = { { .path = "/usr/bin/hello",
			     .content = HELLO_11,
			     .mtime = T1,
			     .mode = S_IFREG | 0755 },
			   { .path = "/usr/bin/hi",
			     .content = HELLO_11,
			     .mtime = T1,
			     .uid = 1000 } },
		.pkgs = { h11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_11);
	host_put(fx, "/usr/bin/hi", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_true(g->attrs & ATTR_MODE);
	assert_string_equal(g->reason, "content changed (+1 more); not explained by package hello "
				       "1.1-1: more than its content changed");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	g = file(fx, "/usr/bin/hi");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_true(g->attrs & ATTR_UID);
	assert_contains(g->reason, "; not explained by package hello 1.1-1: more than its content "
				   "changed");
}

static void test_types_and_checksums(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/hello", HELLO_10) } };
	/*
	 * 1.1-1 adds a directory and a symlink (no sums, as dpkg lists them),
	 * a helper it ships as a regular file with a sum, and has no sum for
	 * the program.
	 */
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { NOSUM("/usr/bin/hello"), NOSUM("/usr/lib/hello"),
					     NOSUM("/usr/lib/hello/libhello.so"),
					     SUM("/usr/lib/hello/helper", HELLO_11) } };
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { h10 } };
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 },
			   { .path = "/usr/lib/hello", .mode = S_IFDIR | 0755 },
			   { .path = "/usr/lib/hello/helper",
			     .mode = S_IFLNK | 0777,
			     .target = "/tmp/evil" },
			   { .path = "/usr/lib/hello/libhello.so",
			     .mode = S_IFLNK | 0777,
			     .target = "libhello.so.1" } },
		.pkgs = { h11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 4);
	g = file(fx, "/usr/lib/hello");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	g = file(fx, "/usr/lib/hello/libhello.so");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	/* a symlink where the package ships a file with a sum */
	g = file(fx, "/usr/lib/hello/helper");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "not a regular file; package hello 1.1-1 ships one");
	/* a file the package has no sum for cannot be vouched for */
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "package hello 1.1-1 has no checksum for it");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	/* no content to check in any of them */
	assert_int_equal(seams.file_reads, 0);
}

/*
 * A library symlink an upgrade points at the new version, as every shared
 * library's upgrade does: a symlink's content is its target.
 */
static void test_upgrade_retargets_a_symlink(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { NOSUM("/usr/lib/libhello.so.1"),
					     SUM("/usr/lib/libhello.so.1.0", HELLO_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { NOSUM("/usr/lib/libhello.so.1"),
					     SUM("/usr/lib/libhello.so.1.1", HELLO_11) } };
	const struct tpkg base = { .name = "base",
				   .version = "7",
				   .files = { NOSUM("/usr/lib/base.so") } };
	const struct side before = {
		.files = { { .path = "/usr/lib/base.so",
			     .mode = S_IFLNK | 0777,
			     .target = "base.so.7" },
			   { .path = "/usr/lib/libhello.so.1",
			     .mode = S_IFLNK | 0777,
			     .target = "libhello.so.1.0" },
			   REG("/usr/lib/libhello.so.1.0", HELLO_10) },
		.pkgs = { h10, base },
	};
	const struct side after = {
		.files = { { .path = "/usr/lib/base.so",
			     .mode = S_IFLNK | 0777,
			     .target = "/tmp/evil.so",
			     .mtime = T1,
			     .ino = 2001 },
			   { .path = "/usr/lib/libhello.so.1",
			     .mode = S_IFLNK | 0777,
			     .target = "libhello.so.1.1",
			     .mtime = T1,
			     .ino = 2000 },
			   REG("/usr/lib/libhello.so.1.1", HELLO_11) },
		.pkgs = { h11, base },
	};
	const struct got *g;

	host_put(fx, "/usr/lib/libhello.so.1.1", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 4);
	g = file(fx, "/usr/lib/libhello.so.1");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	assert_package(g, "hello:amd64", "1.0-1", "1.1-1");
	assert_int_equal(file(fx, "/usr/lib/libhello.so.1.0")->class, CLASS_EXPECTED);
	assert_int_equal(file(fx, "/usr/lib/libhello.so.1.1")->class, CLASS_EXPECTED);
	/* the same change under a package that did not change is drift */
	g = file(fx, "/usr/lib/base.so");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "symlink target changed");
	assert_contains(g->reason, "; package base 7 did not change");
}

/* ---- files no package owns ---- */

static void test_unowned_severity_floor(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { hello10 } };
	const struct side after = {
		.files = { REG("/opt/tool", DOC),
			   REG("/usr/bin/backdoor", TROJAN),
			   { .path = "/usr/lib/evil.so",
			     .mode = S_IFLNK | 0777,
			     .target = "/tmp/evil.so" },
			   REG("/usr/local/bin/tool", DOC),
			   REG("/usr/sbin/backdoor", TROJAN),
			   { .path = "/usr/share/newdir", .mode = S_IFDIR | 0755 } },
		.pkgs = { hello10 },
	};
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 6);
	/* in /usr, owned by nothing: the rule's medium raised to the policy's high */
	g = file(fx, "/usr/bin/backdoor");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "not owned by any package");
	assert_true(g->unowned);
	assert_string_equal(g->pkg, "");
	assert_string_equal(g->rule_id, "usr");
	g = file(fx, "/usr/lib/evil.so");
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_true(g->unowned);
	/* the rule's critical is not lowered */
	g = file(fx, "/usr/sbin/backdoor");
	assert_int_equal(g->severity, SEVERITY_CRITICAL);
	assert_true(g->unowned);
	assert_string_equal(g->rule_id, "sbin");
	/* outside the scope, excluded from it, or not a file or symlink: the rule's word */
	g = file(fx, "/opt/tool");
	assert_int_equal(g->severity, SEVERITY_LOW);
	assert_string_equal(g->reason, "new file");
	assert_false(g->unowned);
	g = file(fx, "/usr/local/bin/tool");
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_string_equal(g->reason, "new file");
	assert_false(g->unowned);
	g = file(fx, "/usr/share/newdir");
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_false(g->unowned);
}

/* ---- when packages are not asked, or cannot tell ---- */

static void test_attribution_off(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { hello10 } };
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 },
			   REG("/usr/bin/backdoor", TROJAN) },
		.pkgs = { hello11 },
	};
	char text[sizeof(policy) + 64];
	const struct got *g;

	snprintf(text, sizeof(text), "%.*s  attribution: false\n", (int)strlen(policy), policy);
	policy_load(fx, text);
	assert_false(rule_set_packages(fx->rules)->attribution);
	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 2);
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "content changed");
	assert_string_equal(g->pkg, "");
	assert_false(g->has_before_version || g->has_after_version);
	g = file(fx, "/usr/bin/backdoor");
	assert_int_equal(g->severity, SEVERITY_MEDIUM);
	assert_false(g->unowned);
	assert_string_equal(g->reason, "new file");
	/* nothing read, nothing said about packages */
	assert_int_equal(seams.file_reads, 0);
	assert_int_equal(fx->log.nnotes, 0);
}

static void test_before_without_package_data(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/etc/hello.conf", CONF_10),
						REG("/usr/bin/hello", HELLO_10) } };
	const struct side after = {
		.files = { { .path = "/etc/hello.conf", .content = CONF_MY, .mtime = T1 },
			   { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 } },
		.pkgs = { hello11 },
	};
	char want[128];
	const struct got *g;

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 2);
	assert_int_equal(fx->log.nnotes, 1);
	snprintf(want, sizeof(want),
		 "file changes are not attributed to packages: snapshot #%lld recorded no "
		 "package data",
		 (long long)fx->before.id);
	assert_contains(fx->log.notes[0], want);
	/* said once, before the first file finding */
	assert_int_equal(fx->log.note_seq[0], 0);
	assert_int_equal(fx->log.f[0].seq, 1);
	/* the owner is known, the upgrade cannot be told: the policy's verdict */
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "content changed");
	assert_package(g, "hello:amd64", "-", "1.1-1");
	assert_int_equal(seams.file_reads, 0);
}

static void test_after_without_package_data(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.files = { REG("/etc/hello.conf", CONF_10), REG("/usr/bin/hello", HELLO_10) },
		.pkgs = { hello10 },
	};
	const struct side after = {
		.files = { { .path = "/etc/hello.conf", .content = CONF_MY, .mtime = T1 },
			   { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 },
			   REG("/usr/bin/backdoor", TROJAN) },
	};
	char want[128];

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 3);
	assert_int_equal(fx->log.nnotes, 1);
	snprintf(want, sizeof(want),
		 "file changes are not attributed to packages: snapshot #%lld recorded no "
		 "package data",
		 (long long)fx->after.id);
	assert_contains(fx->log.notes[0], want);
	assert_true(fx->log.note_seq[0] < fx->log.f[0].seq);
	for (size_t i = 0; i < fx->log.n; i++) {
		assert_string_equal(fx->log.f[i].pkg, "");
		assert_false(fx->log.f[i].unowned); /* nothing is known to be unowned */
	}
	assert_int_equal(file(fx, "/usr/bin/backdoor")->severity, SEVERITY_MEDIUM);
	assert_string_equal(file(fx, "/usr/bin/hello")->reason, "content changed");
}

/* No file finding, no note: the entries of the package probe changed, nothing else. */
static void test_no_note_without_file_findings(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/usr/bin/hello", HELLO_10) },
				     .pkgs = { hello10 },
				     .package_probe = true };
	const struct side after = { .files = { REG("/usr/bin/hello", HELLO_10) },
				    .pkgs = { hello11 },
				    .package_probe = true,
				    .no_ownership = true };
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	assert_int_equal(fx->log.n, 1);
	g = log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "version changed");
	assert_int_equal(fx->log.nnotes, 0);
}

/* ---- the apt hook's pair ---- */

static void dpkg_run_sides(struct fx *fx, enum snap_purpose purpose, const char *pre,
			   const char *post)
{
	const struct tpkg old = { .name = "oldpkg",
				  .version = "2.0",
				  .files = { SUM("/usr/bin/old", DOC) } };
	const struct tpkg fresh = { .name = "fresh",
				    .version = "3.0",
				    .files = { SUM("/usr/bin/fresh", DOC) } };
	const struct side before = {
		.files = { REG("/usr/bin/hello", HELLO_10), REG("/usr/bin/old", DOC) },
		.pkgs = { hello10, old },
		.package_probe = true,
		.purpose = purpose,
		.label = pre,
	};
	const struct side after = {
		.files = { REG("/usr/bin/fresh", DOC),
			   { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 } },
		.pkgs = { fresh, hello11 },
		.package_probe = true,
		.purpose = purpose,
		.label = post,
	};

	host_put(fx, "/usr/bin/hello", HELLO_11);
	host_put(fx, "/usr/bin/fresh", DOC);
	sides(fx, &before, &after);
}

static void test_dpkg_run_pair(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	dpkg_run_sides(fx, SNAP_PURPOSE_UPGRADE, "apt-20261125T140200Z-pre",
		       "apt-20261125T140200Z-post");
	compare(fx, NULL);

	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "installed by the dpkg run");
	assert_false(g->counts);
	assert_string_equal(g->rule_id, "pkgs");
	g = log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "changed by the dpkg run");
	g = log_get(&fx->log, ENTRY_PACKAGE, "oldpkg:amd64");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "removed by the dpkg run");
	/* the files are attributed as in any pair */
	assert_string_equal(file(fx, "/usr/bin/hello")->reason,
			    "package hello upgraded 1.0-1 -> 1.1-1");
	assert_string_equal(file(fx, "/usr/bin/fresh")->reason, "package fresh 3.0 installed");
	assert_string_equal(file(fx, "/usr/bin/old")->reason, "package oldpkg 2.0 removed");
	for (size_t i = 0; i < fx->log.n; i++)
		assert_false(fx->log.f[i].counts);
	/* files first, then the packages */
	assert_int_equal(fx->log.f[0].kind, ENTRY_FILE);
	assert_int_equal(fx->log.f[fx->log.n - 1].kind, ENTRY_PACKAGE);
}

/* Any other pair: package changes are the policy's to judge. */
static void test_not_a_dpkg_run_pair(void **state)
{
	struct fx *fx = *state;
	const struct got *g;

	dpkg_run_sides(fx, SNAP_PURPOSE_SCAN, "apt-20261125T140200Z-pre",
		       "apt-20261125T140200Z-post");
	compare(fx, NULL);

	/* the host has no apt history or dpkg log: nothing records the changes */
	g = log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "installed 3.0; no apt or dpkg record of it");
	g = log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "1.0-1 -> 1.1-1; no apt or dpkg record of it");
	g = log_get(&fx->log, ENTRY_PACKAGE, "oldpkg:amd64");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "removed; no apt or dpkg record of it");
	assert_string_equal(file(fx, "/usr/bin/hello")->reason,
			    "package hello upgraded 1.0-1 -> 1.1-1");
}

/* The hook's pair compared backwards (post, then pre) is no dpkg run. */
static void test_dpkg_run_pair_backwards(void **state)
{
	struct fx *fx = *state;
	struct snap_info t;

	dpkg_run_sides(fx, SNAP_PURPOSE_UPGRADE, "apt-20261125T140200Z-post",
		       "apt-20261125T140200Z-pre");
	/* the later snapshot is -pre: swap so that before is -pre, the newer one */
	t = fx->before;
	fx->before = fx->after;
	fx->after = t;
	compare(fx, NULL);

	for (size_t i = 0; i < fx->log.n; i++)
		if (fx->log.f[i].kind == ENTRY_PACKAGE)
			assert_int_equal(fx->log.f[i].class, CLASS_DRIFT);
}

/* ---- counting, and no policy ---- */

static void test_count_expected(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/hello", HELLO_10),
					     SUM("/usr/bin/hi", HELLO_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { SUM("/usr/bin/hello", HELLO_11),
					     SUM("/usr/bin/hi", HELLO_11) } };
	const struct side before = {
		.files = { REG("/usr/bin/hello", HELLO_10), REG("/usr/bin/hi", HELLO_10) },
		.pkgs = { h10 },
	};
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 },
			   { .path = "/usr/bin/hi", .content = TROJAN, .mtime = T1 } },
		.pkgs = { h11 },
	};

	host_put(fx, "/usr/bin/hello", HELLO_11);
	host_put(fx, "/usr/bin/hi", TROJAN);
	sides(fx, &before, &after);

	compare(fx, NULL);
	assert_int_equal(file(fx, "/usr/bin/hello")->class, CLASS_EXPECTED);
	assert_false(file(fx, "/usr/bin/hello")->counts);
	assert_int_equal(file(fx, "/usr/bin/hi")->class, CLASS_DRIFT);
	assert_true(file(fx, "/usr/bin/hi")->counts);

	compare(fx, &(struct how){ .count_expected = true });
	assert_int_equal(file(fx, "/usr/bin/hello")->class, CLASS_EXPECTED);
	assert_true(file(fx, "/usr/bin/hello")->counts);
	assert_true(file(fx, "/usr/bin/hi")->counts);
}

static void test_no_rules_unjudged(void **state)
{
	struct fx *fx = *state;
	const struct side before = {
		.files = { REG("/etc/gone", DOC), REG("/usr/bin/hello", HELLO_10),
			   REG("/var/tmp/x", DOC) },
		.pkgs = { hello10 },
	};
	const struct side after = {
		.files = { REG("/etc/new", DOC),
			   { .path = "/usr/bin/hello", .content = HELLO_11, .mtime = T1 },
			   { .path = "/var/tmp/x", .content = DOC, .mode = S_IFREG | 0600 } },
		.pkgs = { hello11 },
	};

	host_put(fx, "/usr/bin/hello", HELLO_11);
	sides(fx, &before, &after);
	compare(fx, &(struct how){ .no_rules = true });

	/* every deviation, covered by a rule or not (/var has none) */
	assert_int_equal(fx->log.n, 4);
	for (size_t i = 0; i < fx->log.n; i++) {
		const struct got *g = &fx->log.f[i];

		assert_false(g->judged);
		assert_true(g->counts);
		assert_false(g->has_reason);
		assert_string_equal(g->rule_id, "");
		assert_string_equal(g->pkg, "");
		assert_int_equal(g->attrs, g->changed);
	}
	assert_int_equal(file(fx, "/etc/gone")->change, CHANGE_REMOVED);
	assert_int_equal(file(fx, "/etc/new")->change, CHANGE_ADDED);
	assert_int_equal(file(fx, "/var/tmp/x")->changed, ATTR_MODE);
	assert_true(file(fx, "/usr/bin/hello")->changed & ATTR_HASH);
	assert_int_equal(fx->log.nnotes, 0);
	assert_int_equal(seams.file_reads, 0);
	assert_int_equal(seams.matches, 0);
}

/* ---- once per finding ---- */

static void test_one_match_and_one_read_per_finding(void **state)
{
	struct fx *fx = *state;
	const struct tpkg h10 = { .name = "hello",
				  .version = "1.0-1",
				  .files = { SUM("/usr/bin/hi", HELLO_10),
					     SUM("/usr/libexec/hello", HELLO_10) } };
	const struct tpkg h11 = { .name = "hello",
				  .version = "1.1-1",
				  .files = { SUM("/usr/bin/hi", HELLO_11),
					     SUM("/usr/libexec/hello", HELLO_11) } };
	const struct side before = {
		.files = { REG("/usr/bin/hi", HELLO_10), REG("/usr/libexec/hello", HELLO_10),
			   REG("/var/cache/x", DOC) },
		.pkgs = { h10 },
	};
	const struct side after = {
		.files = { REG("/opt/tool", DOC),
			   REG("/usr/bin/backdoor", TROJAN),
			   { .path = "/usr/bin/hi", .content = HELLO_11, .mtime = T1 },
			   { .path = "/usr/libexec/hello", .content = HELLO_11, .mtime = T1 },
			   { .path = "/var/cache/x", .content = TROJAN, .mtime = T1 } },
		.pkgs = { h11 },
	};
	const struct got *g;

	host_put(fx, "/usr/bin/hi", HELLO_11);
	host_put(fx, "/usr/libexec/hello", HELLO_11);
	sides(fx, &before, &after);
	seam_reset("/usr/libexec/hello", 0);
	compare(fx, &(struct how){ .live = true });

	/* five deviations, one match each; /var/cache is covered by no rule */
	assert_int_equal(seams.matches, 5);
	assert_int_equal(fx->log.n, 4);
	assert_null(log_find(&fx->log, ENTRY_FILE, "/var/cache/x"));
	/*
	 * libexec wants the MIME type (magic: true, not in the snapshot) and
	 * the package's check: one open, one read. It is a script (escalated
	 * to high by its type) and what 1.1-1 ships (expected).
	 */
	g = file(fx, "/usr/libexec/hello");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "package hello upgraded 1.0-1 -> 1.1-1");
	assert_int_equal(atomic_load(&seams.watch_opens), 1);
	/* bin/hi needs only the package's check: one more read in all */
	assert_int_equal(file(fx, "/usr/bin/hi")->class, CLASS_EXPECTED);
	assert_int_equal(seams.file_reads, 2);
}

/* ---- what the packages may not overrule ---- */

/*
 * A conffile of an unchanged package, changed where the policy expects
 * changes: the packages add their context, they do not make it drift.
 */
static void test_policy_expected_stays_expected(void **state)
{
	struct fx *fx = *state;
	const struct tpkg hello = { .name = "hello",
				    .version = "1.0-1",
				    .files = { CONF("/etc/hello.conf", CONF_10) } };
	const struct side before = { .files = { REG("/etc/hello.conf", CONF_10) },
				     .pkgs = { hello } };
	const struct side after = {
		.files = { { .path = "/etc/hello.conf", .content = CONF_MY, .mtime = T1 } },
		.pkgs = { hello },
	};
	const struct got *g;

	policy_load(fx, "rules:\n"
			"  - {id: etc, path: /etc, check: [all], severity: high,\n"
			"     expect: [hash, size, mtime, ctime, inode]}\n");
	host_put(fx, "/etc/hello.conf", CONF_MY);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/hello.conf");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "content changed");
	assert_package(g, "hello:amd64", "1.0-1", "1.0-1");
	assert_false(g->counts);
}

/* An escalation's reason stays when the file is also owned by no package. */
static void test_unowned_keeps_the_escalation(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { hello10 } };
	const struct side after = {
		.files = { { .path = "/usr/bin/su2", .content = TROJAN, .mode = S_IFREG | 04755 } },
		.pkgs = { hello10 },
	};
	const struct got *g;

	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/usr/bin/su2");
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "new setuid file; not owned by any package");
	assert_true(g->unowned);
}

/* The hook's labels end in -pre and -post; ones that only contain them are no pair. */
static void test_dpkg_run_labels_are_suffixes(void **state)
{
	struct fx *fx = *state;

	dpkg_run_sides(fx, SNAP_PURPOSE_UPGRADE, "apt-20261125T140200Z-pre-old",
		       "apt-20261125T140200Z-post-old");
	compare(fx, NULL);

	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "fresh:amd64")->class, CLASS_DRIFT);
	assert_int_equal(log_get(&fx->log, ENTRY_PACKAGE, "hello:amd64")->class, CLASS_DRIFT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_unchanged_package_touched_file_is_drift),
		T(test_unchanged_package_modified_conffile),
		T(test_upgrade_matching_content_is_expected),
		T(test_upgrade_content_mismatch_is_drift),
		T(test_live_file_changed_since_the_snapshot),
		T(test_live_file_missing_or_unreadable),
		T(test_live_file_mode_000),
		T(test_removed_files),
		T(test_installed_package_new_file_is_expected),
		T(test_upgrade_does_not_explain_mode_or_owner),
		T(test_types_and_checksums),
		T(test_upgrade_retargets_a_symlink),
		T(test_unowned_severity_floor),
		T(test_attribution_off),
		T(test_before_without_package_data),
		T(test_after_without_package_data),
		T(test_no_note_without_file_findings),
		T(test_dpkg_run_pair),
		T(test_not_a_dpkg_run_pair),
		T(test_dpkg_run_pair_backwards),
		T(test_count_expected),
		T(test_no_rules_unjudged),
		T(test_one_match_and_one_read_per_finding),
		T(test_policy_expected_stays_expected),
		T(test_unowned_keeps_the_escalation),
		T(test_dpkg_run_labels_are_suffixes),
#undef T
	};
	return tap_run_group_tests_name("compare/snapshots", tests, NULL, troot_cleanup_all);
}
