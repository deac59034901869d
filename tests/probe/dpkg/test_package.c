/* Tests of scanner/probe_package.c: the "package" probe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/entry.h"
#include "tests/probe/dpkg/troot.h"

extern const struct probe probe_package;

#define ENTRIES_MAX 8

struct emitted {
	size_t n;
	struct {
		enum entry_kind kind;
		char key[64];
		char version[32], status[64], arch[16];
		size_t nprops;
	} e[ENTRIES_MAX];
	int fail; /* returned by emit when non-zero */
	struct findings findings;
};

static void prop_copy(const struct entry *e, const char *name, char *dst, size_t size)
{
	const uint8_t *v;
	size_t vl;

	assert_int_equal(entry_xattrs_get(e->props, e->props_len, name, &v, &vl), 1);
	assert_true(vl < size);
	memcpy(dst, v, vl);
	dst[vl] = '\0';
}

static int emit(const struct entry *e, void *userdata)
{
	struct emitted *em = userdata;
	size_t pos = 0, nl, vl;
	const char *n;
	const uint8_t *v;

	if (em->fail)
		return em->fail;
	assert_true(em->n < ENTRIES_MAX);
	assert_int_equal(entry_xattrs_check(e->props, e->props_len), 0);
	em->e[em->n].kind = e->kind;
	assert_true(e->key_len < sizeof(em->e[em->n].key));
	memcpy(em->e[em->n].key, e->key, e->key_len);
	em->e[em->n].key[e->key_len] = '\0';
	prop_copy(e, "version", em->e[em->n].version, sizeof(em->e[em->n].version));
	prop_copy(e, "status", em->e[em->n].status, sizeof(em->e[em->n].status));
	prop_copy(e, "architecture", em->e[em->n].arch, sizeof(em->e[em->n].arch));
	while (entry_xattrs_next(e->props, e->props_len, &pos, &n, &nl, &v, &vl) > 0)
		em->e[em->n].nprops++;
	assert_int_equal(e->hash_algo, HASH_NONE);
	assert_int_equal(e->mode, 0);
	em->n++;
	return 0;
}

static void finding(const char *probe, const char *file, unsigned line, const char *msg,
		    void *userdata)
{
	struct emitted *em = userdata;

	findings_add(probe, file, line, msg, &em->findings);
}

static void test_package_run_emits_one_entry_per_package(void **state)
{
	struct emitted em = { 0 };
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct probe_ctx ctx = { .rootfd = fd, .emit = emit, .finding = finding, .userdata = &em };
	static const char *const keys[] = { "basefiles:all", "hello:amd64", "libfoo1:amd64",
					    "oldpkg:amd64" };

	(void)state;
	assert_true(fd >= 0);
	assert_string_equal(probe_package.name, "package");
	assert_int_equal(probe_package.kinds[0], ENTRY_PACKAGE);
	assert_int_equal(probe_package.kinds[1], 0);
	assert_int_equal(probe_package.run(&ctx, NULL), 0);
	assert_int_equal(em.findings.n, 0);
	assert_int_equal(em.n, 4);
	for (size_t i = 0; i < em.n; i++) {
		assert_int_equal(em.e[i].kind, ENTRY_PACKAGE);
		assert_string_equal(em.e[i].key, keys[i]);
		assert_int_equal(em.e[i].nprops, 3);
	}
	assert_string_equal(em.e[1].version, "1.0-1");
	assert_string_equal(em.e[1].status, "install ok installed");
	assert_string_equal(em.e[1].arch, "amd64");
	assert_string_equal(em.e[0].arch, "all");
	assert_string_equal(em.e[0].version, "12.4");
	assert_string_equal(em.e[3].status, "deinstall ok config-files");
	close(fd);
}

static void test_package_run_without_dpkg_is_unavailable(void **state)
{
	struct emitted em = { 0 };
	struct troot t;
	struct probe_ctx ctx = { .emit = emit, .finding = finding, .userdata = &em };

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	ctx.rootfd = t.fd;
	assert_int_equal(probe_package.run(&ctx, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(em.n, 0);
	assert_int_equal(em.findings.n, 0);
	troot_remove(&t);
}

static void test_package_run_reports_findings_and_goes_on(void **state)
{
	struct emitted em = { 0 };
	struct troot t;
	struct probe_ctx ctx = { .emit = emit, .finding = finding, .userdata = &em };

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_write(&t, "var/lib/dpkg/status",
				     "Package: a\nStatus: install ok installed\n\n"
				     "Package: b\nStatus: install ok installed\nVersion: 2\n"),
			 0);
	ctx.rootfd = t.fd;
	assert_int_equal(probe_package.run(&ctx, NULL), 0);
	assert_int_equal(em.findings.n, 1);
	assert_string_equal(em.findings.f[0].probe, "package");
	assert_true(findings_find(&em.findings, "var/lib/dpkg/status", 1, "'Version'") >= 0);
	assert_int_equal(em.n, 1);
	assert_string_equal(em.e[0].key, "b"); /* no Architecture: the name alone */
	assert_string_equal(em.e[0].arch, "");
	troot_remove(&t);
}

static void test_package_run_stops_when_emit_fails(void **state)
{
	struct emitted em = { .fail = -ECANCELED };
	int fd = open(PROBE_FIXTURE_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct probe_ctx ctx = { .rootfd = fd, .emit = emit, .userdata = &em };

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(probe_package.run(&ctx, NULL), -ECANCELED);
	close(fd);
}

static void test_package_run_fails_on_an_unreadable_status(void **state)
{
	struct emitted em = { 0 };
	struct diag d = { 0 };
	struct troot t;
	struct probe_ctx ctx = { .emit = emit, .userdata = &em };

	(void)state;
	assert_int_equal(troot_make(&t), 0);
	assert_int_equal(troot_mkdir(&t, "var/lib/dpkg/status"), 0);
	ctx.rootfd = t.fd;
	assert_int_equal(probe_package.run(&ctx, &d), -EISDIR);
	assert_non_null(strstr(d.msg, "var/lib/dpkg/status"));
	assert_int_equal(em.n, 0);
	troot_remove(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_package_run_emits_one_entry_per_package),
		cmocka_unit_test(test_package_run_without_dpkg_is_unavailable),
		cmocka_unit_test(test_package_run_reports_findings_and_goes_on),
		cmocka_unit_test(test_package_run_stops_when_emit_fails),
		cmocka_unit_test(test_package_run_fails_on_an_unreadable_status),
	};
	return cmocka_run_group_tests_name("probe/package", tests, NULL, troot_cleanup_all);
}
