/*
 * Tests of the ucf source (compare/ucf.c): configuration ucf installed is
 * expected when ucf's registry names an installed package for it and its
 * hashfile holds the file's MD5 sum; everything else stays drift. The
 * records and files are the fixture host's, never this machine's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare/compare.h"
#include "tests/compare/collect.h"
#include "tests/compare/fixture.h"
#include "tests/compare/snap.h"
#include "tests/probe/dpkg/troot.h"

#define AIDE_CONF "# aide's configuration, as ucf installed it\n@@define DBDIR /var/lib/aide\n"
#define AIDE_OLD  "# aide's configuration, the previous version\n"
#define AIDE_MY   "# aide's configuration, edited by the admin\n@@define DBDIR /srv/aide\n"
#define TROJAN    "# nothing to see here\n"
#define HELLO     "#!/bin/sh\necho hello\n"

static const char policy[] = "rules:\n"
			     "  - {id: usr, path: /usr, check: [all], severity: medium}\n"
			     "  - {id: etc, path: /etc, check: [all], severity: high}\n"
			     "packages:\n"
			     "  conffile_severity: info\n"
			     "  unowned_severity: high\n";

static const struct tpkg base = { .name = "base",
				  .version = "7",
				  .files = { SUM("/usr/bin/hello", HELLO) } };
static const struct tpkg aide = { .name = "aide-common",
				  .version = "0.18-1",
				  .files = { NOSUM("/usr/share/aide") } };
static const struct tpkg aide_old = { .name = "aide-common",
				      .version = "0.17-2",
				      .files = { NOSUM("/usr/share/aide") } };

#define REGISTRY "var/lib/ucf/registry"

static int fx_setup(void **state)
{
	return fx_setup_policy(state, policy);
}

/* A hashfile line, as md5sum writes it: the sum of @content, two spaces, @path. */
static void hash_line(char *buf, size_t size, const char *content, const char *path)
{
	uint8_t md5[16];
	size_t n = 0;

	md5_of(content, md5);
	for (int i = 0; i < 16; i++)
		n += (size_t)snprintf(buf + n, size - n, "%02x", md5[i]);
	snprintf(buf + n, size - n, "  %s\n", path);
}

/* ucf's records for /etc/aide/aide.conf of aide-common, with the sum of @content. */
static void records(struct fx *fx, const char *content)
{
	char line[256];

	host_put(fx, "/var/lib/ucf/registry",
		 "aide-common \t /etc/aide/aide.conf\n"
		 "aide-common \t /etc/default/aide\n");
	hash_line(line, sizeof(line), content, "/etc/aide/aide.conf");
	host_put(fx, "/var/lib/ucf/hashfile", line);
}

/* ---- what ucf's records explain ---- */

static void test_installed_configuration_is_expected(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG("/etc/aide/aide.conf", AIDE_CONF) },
				    .pkgs = { base, aide } };
	const struct got *g;

	records(fx, AIDE_CONF);
	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->change, CHANGE_ADDED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "configuration installed by aide-common through ucf");
	assert_false(g->counts);
	assert_false(g->unowned);
	assert_package(g, "aide-common", "-", "0.18-1");
	assert_int_equal(seams.file_reads, 1);
}

/* An upgrade whose postinst ran ucf with the new version: the content changed, nothing else. */
static void test_upgraded_configuration_is_expected(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/etc/aide/aide.conf", AIDE_OLD) },
				     .pkgs = { base, aide_old } };
	const struct side after = {
		.files = { { .path = "/etc/aide/aide.conf", .content = AIDE_CONF, .mtime = T1 } },
		.pkgs = { base, aide },
	};
	const struct got *g;

	records(fx, AIDE_CONF);
	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->change, CHANGE_MODIFIED);
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "configuration installed by aide-common through ucf");
	assert_package(g, "aide-common", "0.17-2", "0.18-1");
}

/* ---- what stays drift ---- */

/* The content is not what ucf installed: the package's configuration, edited. */
static void test_content_differs_from_hashfile(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/etc/aide/aide.conf", AIDE_CONF) },
				     .pkgs = { base, aide } };
	const struct side after = {
		.files = { { .path = "/etc/aide/aide.conf", .content = AIDE_MY, .mtime = T1 } },
		.pkgs = { base, aide },
	};
	const struct got *g;

	records(fx, AIDE_CONF);
	host_put(fx, "/etc/aide/aide.conf", AIDE_MY);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_INFO);
	assert_string_equal(g->reason, "locally modified configuration (aide-common, through ucf)");
	assert_true(g->counts);
	assert_package(g, "aide-common", "0.18-1", "0.18-1");
}

static void test_file_not_in_registry(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG("/etc/aide/extra.conf", AIDE_CONF) },
				    .pkgs = { base, aide } };
	char line[256];
	const struct got *g;

	records(fx, AIDE_CONF);
	/* even a sum in the hashfile does not make it ucf's: the registry says whose it is */
	hash_line(line, sizeof(line), AIDE_CONF, "/etc/aide/extra.conf");
	host_put(fx, "/var/lib/ucf/hashfile", line);
	host_put(fx, "/etc/aide/extra.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/extra.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "new file");
	assert_false(g->unowned);
}

static void test_package_not_installed(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base, aide } };
	/* aide-common was removed, not purged: its registry lines stay; the file is new */
	const struct side after = { .files = { REG("/etc/aide/aide.conf", AIDE_CONF) },
				    .pkgs = { base } };
	const struct got *g;

	records(fx, AIDE_CONF);
	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason, "new file; registered with ucf by "
				       "aide-common, which is not installed");
	assert_true(g->counts);
}

static void test_records_missing(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG("/etc/aide/aide.conf", AIDE_CONF) },
				    .pkgs = { base, aide } };
	const struct got *g;

	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	sides(fx, &before, &after);

	/* no ucf at all */
	compare(fx, NULL);
	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new file");

	/* a registry, no hashfile: nothing tells ucf's content from a local edit */
	host_put(fx, "/var/lib/ucf/registry", "aide-common \t /etc/aide/aide.conf\n");
	log_reset(&fx->log);
	compare(fx, NULL);
	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_int_equal(g->severity, SEVERITY_HIGH);
	assert_string_equal(g->reason,
			    "configuration of aide-common through ucf; ucf recorded no sum for it");
	assert_package(g, "aide-common", "-", "0.18-1");

	/* a hashfile, no registry: nobody's */
	assert_int_equal(unlinkat(fx->host.fd, REGISTRY, 0), 0);
	records(fx, AIDE_CONF);
	assert_int_equal(unlinkat(fx->host.fd, REGISTRY, 0), 0);
	log_reset(&fx->log);
	compare(fx, NULL);
	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new file");
}

static void test_malformed_lines(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG("/etc/aide/good.conf", AIDE_CONF),
					       REG("/etc/aide/badsum.conf", AIDE_CONF),
					       REG("/etc/aide/badreg.conf", AIDE_CONF),
					       REG("/etc/aide/twice.conf", AIDE_CONF),
					       REG("/etc/aide/twosums.conf", AIDE_CONF) },
				    .pkgs = { base, aide } };
	char hashes[2048], line[256];
	size_t n = 0;
	const struct got *g;

	host_put(fx, "/var/lib/ucf/registry",
		 "\n"
		 "aide-common\n"
		 "aide-common etc/aide/badreg.conf\n"
		 "   \t  /etc/aide/badreg.conf\n"
		 "aide-common \t /etc/aide/good.conf\n"
		 "aide-common \t /etc/aide/badsum.conf\n"
		 "aide-common \t /etc/aide/twice.conf\n"
		 "postgresql-common \t /etc/aide/twice.conf\n"
		 "aide-common \t /etc/aide/twosums.conf\n"
		 "aide-common \t /etc/aide/twosums.conf"); /* no final newline */
	hash_line(line, sizeof(line), AIDE_CONF, "/etc/aide/good.conf");
	n += (size_t)snprintf(hashes + n, sizeof(hashes) - n, "garbage\n\n%s", line);
	/* a short sum, a sum with no blank after it, a sum that is not hex */
	n += (size_t)snprintf(hashes + n, sizeof(hashes) - n,
			      "0123456789abcdef  /etc/aide/badsum.conf\n"
			      "0123456789abcdef0123456789abcdef/etc/aide/badsum.conf\n"
			      "0123456789abcdef0123456789abcdeg  /etc/aide/badsum.conf\n"
			      "0123456789abcdef0123456789abcdef  etc/aide/badsum.conf\n");
	hash_line(line, sizeof(line), AIDE_CONF, "/etc/aide/twice.conf");
	n += (size_t)snprintf(hashes + n, sizeof(hashes) - n, "%s", line);
	hash_line(line, sizeof(line), AIDE_CONF, "/etc/aide/twosums.conf");
	n += (size_t)snprintf(hashes + n, sizeof(hashes) - n, "%s", line);
	hash_line(line, sizeof(line), AIDE_MY, "/etc/aide/twosums.conf");
	snprintf(hashes + n, sizeof(hashes) - n, "%s", line);
	host_put(fx, "/var/lib/ucf/hashfile", hashes);
	host_put(fx, "/etc/aide/good.conf", AIDE_CONF);
	host_put(fx, "/etc/aide/badsum.conf", AIDE_CONF);
	host_put(fx, "/etc/aide/badreg.conf", AIDE_CONF);
	host_put(fx, "/etc/aide/twice.conf", AIDE_CONF);
	host_put(fx, "/etc/aide/twosums.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	/* the good lines still speak */
	g = file(fx, "/etc/aide/good.conf");
	assert_int_equal(g->class, CLASS_EXPECTED);
	assert_string_equal(g->reason, "configuration installed by aide-common through ucf");

	g = file(fx, "/etc/aide/badsum.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason,
			    "configuration of aide-common through ucf; ucf recorded no sum for it");

	g = file(fx, "/etc/aide/badreg.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new file");

	g = file(fx, "/etc/aide/twice.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason, "new file; ucf's registry names more "
				       "than one package for it");

	g = file(fx, "/etc/aide/twosums.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(
		g->reason,
		"configuration of aide-common through ucf; ucf recorded two different sums for it");
}

/* The scan saw one thing; the host now holds what ucf installed. */
static void test_file_changed_since_the_snapshot(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .pkgs = { base } };
	const struct side after = { .files = { REG("/etc/aide/aide.conf", TROJAN),
					       REG("/etc/default/aide", AIDE_CONF) },
				    .pkgs = { base, aide } };
	char a[256], b[256], both[512];
	const struct got *g;

	records(fx, AIDE_CONF);
	hash_line(a, sizeof(a), AIDE_CONF, "/etc/aide/aide.conf");
	hash_line(b, sizeof(b), AIDE_CONF, "/etc/default/aide");
	snprintf(both, sizeof(both), "%s%s", a, b);
	host_put(fx, "/var/lib/ucf/hashfile", both);
	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	/* /etc/default/aide is gone from the host */
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_string_equal(g->reason,
			    "cannot check against ucf: the file changed since the snapshot");
	assert_true(g->counts);

	g = file(fx, "/etc/default/aide");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "cannot check against ucf: ");
}

/* ucf writes content; a new mode or owner is someone else's doing. */
static void test_mode_change_not_explained(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/etc/aide/aide.conf", AIDE_OLD) },
				     .pkgs = { base, aide_old } };
	const struct side after = { .files = { { .path = "/etc/aide/aide.conf",
						 .content = AIDE_CONF,
						 .mode = S_IFREG | 0666,
						 .mtime = T1 } },
				    .pkgs = { base, aide } };
	const struct got *g;

	records(fx, AIDE_CONF);
	host_put(fx, "/etc/aide/aide.conf", AIDE_CONF);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_contains(g->reason, "not explained by ucf: more than its content changed");
	assert_int_equal(seams.file_reads, 0);
}

/* Removed configuration, and a file dpkg lists: not ucf's word. */
static void test_removed_and_dpkg_owned(void **state)
{
	struct fx *fx = *state;
	const struct side before = { .files = { REG("/etc/aide/aide.conf", AIDE_CONF),
						REG("/usr/bin/hello", HELLO) },
				     .pkgs = { base, aide } };
	const struct side after = {
		.files = { { .path = "/usr/bin/hello", .content = TROJAN, .mtime = T1 } },
		.pkgs = { base, aide },
	};
	char line[256];
	const struct got *g;

	host_put(fx, "/var/lib/ucf/registry",
		 "aide-common \t /etc/aide/aide.conf\nbase \t /usr/bin/hello\n");
	hash_line(line, sizeof(line), TROJAN, "/usr/bin/hello");
	host_put(fx, "/var/lib/ucf/hashfile", line);
	host_put(fx, "/usr/bin/hello", TROJAN);
	sides(fx, &before, &after);
	compare(fx, NULL);

	g = file(fx, "/etc/aide/aide.conf");
	assert_int_equal(g->change, CHANGE_REMOVED);
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_null(strstr(g->reason, "ucf"));

	/* dpkg's sum is the one that speaks for a file dpkg lists */
	g = file(fx, "/usr/bin/hello");
	assert_int_equal(g->class, CLASS_DRIFT);
	assert_null(strstr(g->reason, "ucf"));
	assert_package(g, "base:amd64", "7", "7");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, fx_setup, fx_teardown)
		T(test_installed_configuration_is_expected),
		T(test_upgraded_configuration_is_expected),
		T(test_content_differs_from_hashfile),
		T(test_file_not_in_registry),
		T(test_package_not_installed),
		T(test_records_missing),
		T(test_malformed_lines),
		T(test_file_changed_since_the_snapshot),
		T(test_mode_change_not_explained),
		T(test_removed_and_dpkg_owned),
#undef T
	};
	return cmocka_run_group_tests_name("compare/ucf", tests, NULL, troot_cleanup_all);
}
