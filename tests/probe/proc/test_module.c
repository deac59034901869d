/* Tests of the module probe (scanner/probe_module.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "scanner/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "tests/probe/proc/proc_test.h"

#include "common/banned.h"

static void test_module_run_emits_fixture_modules_sorted(void **state)
{
	static const char *const keys[] = {
		"crc32c_intel", "ext4", "nf_conntrack", "nf_nat", "vboxdrv",
	};
	struct pt_fx *fx = *state;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	assert_int_equal(pt_run("module", fd, &fx->rec, NULL), 0);
	close(fd);
	assert_int_equal(fx->rec.nfind, 0);
	assert_false(fx->rec.bad_blob);
	assert_int_equal(fx->rec.nemit, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(fx->rec.kind[i], ENTRY_MODULE);
		assert_string_equal(fx->rec.key[i], keys[i]);
	}
	pt_assert_entry(&fx->rec, "crc32c_intel", "size=24576\nstate=Loading\n");
	pt_assert_entry(&fx->rec, "ext4", "size=1024000\nstate=Live\n");
	pt_assert_entry(&fx->rec, "nf_conntrack",
			"size=176128\nstate=Live\nused_by=nf_nat,xt_MASQUERADE,xt_conntrack\n");
	pt_assert_entry(&fx->rec, "nf_nat",
			"size=57344\nstate=Live\nused_by=nft_chain_nat,xt_MASQUERADE\n");
	pt_assert_entry(&fx->rec, "vboxdrv",
			"size=614400\nstate=Live\ntaint=(OE)\nused_by=vboxnetadp,vboxnetflt\n");
}

static void test_module_run_reports_each_malformed_line_and_keeps_the_rest(void **state)
{
	static const char text[] = "a 100 0 - Live 0xffffffffc0000000\n" /* 1 ok */
				   "b 100 0 - Live\n"                    /* 2 5 fields */
				   "c abc 0 - Live 0xffff\n"             /* 3 size */
				   "d 100 x - Live 0xff\n"               /* 4 refcount */
				   "e 100 0 - Live zz\n"                 /* 5 address */
				   "f 100 0 - Live 0x1 OE\n"             /* 6 taint */
				   "\n"                                  /* 7 empty: fine */
				   "g 1 0 a 1 2 3 4 5 6\n"               /* 8 10 fields */
				   "a 200 0 - Live 0x0\n"                /* 9 duplicate */
				   "h 300 - - Live 0x0\n"                /* 10 ok, no unload */
				   "k 1 0 ,,x,, Live 0x0\n"              /* 11 ok */
				   "l 1 0 , Live 0x0\n"                  /* 12 ok, no users */
				   "m 1 0 - Live 0x0 ()\n"               /* 13 empty taint */
				   "i 4096 1 mod_x";                     /* 14 truncated */
	struct pt_fx *fx = *state;
	const unsigned bad[] = { 2, 3, 4, 5, 6, 8, 9, 13, 14 };

	assert_int_equal(pt_write_str(&fx->root, "proc/modules", text), 0);
	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pt_findings_on(&fx->rec, "proc/modules", bad[i]), 1);
	assert_int_equal(fx->rec.nfind, (int)(sizeof(bad) / sizeof(bad[0])));
	for (int i = 0; i < fx->rec.nfind; i++)
		assert_string_equal(fx->rec.find[i].probe, "module");
	assert_true(pt_finding_says(&fx->rec, "malformed line: 5 fields, expected 6 or 7"));
	assert_true(pt_finding_says(&fx->rec, "size 'abc' is not a number"));
	assert_true(pt_finding_says(&fx->rec, "duplicate module 'a' (first on line 1)"));
	assert_int_equal(fx->rec.nemit, 4);
	pt_assert_entry(&fx->rec, "a", "size=100\nstate=Live\n");
	pt_assert_entry(&fx->rec, "h", "size=300\nstate=Live\n");
	pt_assert_entry(&fx->rec, "k", "size=1\nstate=Live\nused_by=x\n");
	pt_assert_entry(&fx->rec, "l", "size=1\nstate=Live\n");
}

static void test_module_run_survives_nul_long_and_binary_lines(void **state)
{
	static const char tail[] =
		"\nok 1 0 - Live 0x0\nn\0ul 1 0 - Live 0x0\n\xff\xfe 1 0 - Live 0x0\n";
	struct pt_fx *fx = *state;
	size_t len = 200000;
	char *big = malloc(len + sizeof(tail));

	assert_non_null(big);
	memset(big, 'x', len);
	memcpy(big + len, tail, sizeof(tail) - 1);
	assert_int_equal(pt_write(&fx->root, "proc/modules", big, len + sizeof(tail) - 1, 0644), 0);
	free(big);
	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 2);
	assert_int_equal(pt_findings_on(&fx->rec, "proc/modules", 1), 1);
	assert_int_equal(pt_findings_on(&fx->rec, "proc/modules", 3), 1);
	assert_true(pt_finding_says(&fx->rec, "NUL byte"));
	/* keys are bytes: a name that is no UTF-8 is still a name */
	assert_int_equal(fx->rec.nemit, 2);
	pt_assert_entry(&fx->rec, "ok", "size=1\nstate=Live\n");
	pt_assert_entry(&fx->rec, "\xff\xfe", "size=1\nstate=Live\n");
}

static void test_module_run_empty_file_emits_nothing(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/modules", ""), 0);
	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_module_run_reports_a_directory_in_place_of_the_file(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_mkdirs(&fx->root, "proc/modules"), 0);
	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].file, "proc/modules");
	assert_int_equal(fx->rec.find[0].line, 0);
}

static void test_module_run_unavailable_without_proc_modules(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(pt_mkdirs(&fx->root, "proc"), 0);
	assert_int_equal(pt_run("module", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_module_run_stops_when_emit_fails(void **state)
{
	struct pt_fx *fx = *state;
	struct diag d;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	diag_clear(&d);
	fx->rec.stop_after = 1;
	assert_int_equal(pt_run("module", fd, &fx->rec, &d), -EINTR);
	close(fd);
	assert_int_equal(fx->rec.nemit, 1);
	assert_true(d.msg[0] != '\0');
}

static void test_module_run_on_host_root_emits_without_findings(void **state)
{
	struct pt_fx *fx = *state;
	int fd, r;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (!pt_host_has_proc()) {
		/* no proc mounted: the probe has nothing to read, and says so */
		assert_int_equal(pt_run("module", fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
		assert_int_equal(fx->rec.nemit, 0);
		close(fd);
		return;
	}
	fx->rec.count_only = true;
	r = pt_run("module", fd, &fx->rec, NULL);
	close(fd);
	if (r == PROBE_UNAVAILABLE) {
		/* a kernel without loadable modules has no /proc/modules */
		assert_int_equal(access("/proc/modules", F_OK) < 0 ? errno : 0, ENOENT);
		assert_int_equal(fx->rec.nemit, 0);
		assert_int_equal(fx->rec.nfind, 0);
		print_message("# /proc/modules is absent here: unavailable, as it should be\n");
		return;
	}
	assert_int_equal(r, 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_true(fx->rec.nemit > 0);
	assert_false(fx->rec.bad_blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pt_unit_test(test_module_run_emits_fixture_modules_sorted),
		pt_unit_test(test_module_run_reports_each_malformed_line_and_keeps_the_rest),
		pt_unit_test(test_module_run_survives_nul_long_and_binary_lines),
		pt_unit_test(test_module_run_empty_file_emits_nothing),
		pt_unit_test(test_module_run_reports_a_directory_in_place_of_the_file),
		pt_unit_test(test_module_run_unavailable_without_proc_modules),
		pt_unit_test(test_module_run_stops_when_emit_fails),
		pt_unit_test(test_module_run_on_host_root_emits_without_findings),
	};
	return cmocka_run_group_tests_name("probe/module", tests, NULL, NULL);
}
