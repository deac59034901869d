/* Tests of the mount probe (scanner/probe_mount.c). */
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

#define MOUNTINFO "proc/self/mountinfo"

static void test_mount_run_emits_fixture_mounts_last_one_wins(void **state)
{
	static const char *const keys[] = {
		"/", "/dev", "/mnt/bind", "/proc", "/srv/my data", "/sys", "/tmp",
	};
	struct pt_fx *fx = *state;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	assert_int_equal(pt_run("mount", fd, &fx->rec, NULL), 0);
	close(fd);
	assert_int_equal(fx->rec.nfind, 0);
	assert_false(fx->rec.bad_blob);
	assert_int_equal(fx->rec.nemit, (int)(sizeof(keys) / sizeof(keys[0])));
	for (int i = 0; i < fx->rec.nemit; i++) {
		assert_int_equal(fx->rec.kind[i], ENTRY_MOUNT);
		assert_string_equal(fx->rec.key[i], keys[i]);
	}
	pt_assert_entry(&fx->rec, "/",
			"fstype=ext4\noptions=rw,relatime\npropagation=shared\nsource=/dev/vda1\n"
			"super_options=rw,errors=remount-ro\n");
	pt_assert_entry(&fx->rec, "/dev",
			"fstype=devtmpfs\noptions=rw,nosuid,relatime\npropagation=shared\n"
			"source=udev\n"
			"super_options=rw,size=4039540k,nr_inodes=1009885,mode=755,inode64\n");
	pt_assert_entry(&fx->rec, "/mnt/bind",
			"fstype=ext4\noptions=ro,relatime\npropagation=master,propagate_from\n"
			"source=/dev/vdb1\nsuper_options=rw\n");
	pt_assert_entry(&fx->rec, "/proc",
			"fstype=proc\noptions=rw,nosuid,nodev,noexec,relatime\n"
			"propagation=shared\nsource=proc\nsuper_options=rw\n");
	pt_assert_entry(&fx->rec, "/srv/my data",
			"fstype=ext4\noptions=rw,relatime\npropagation=shared\nsource=/dev/vdb1\n"
			"super_options=rw\n");
	pt_assert_entry(&fx->rec, "/sys",
			"fstype=sysfs\noptions=rw,nosuid,nodev,noexec,relatime\n"
			"propagation=shared\nsource=sysfs\nsuper_options=rw\n");
	/* mounted over: the later line is the visible mount */
	pt_assert_entry(&fx->rec, "/tmp",
			"fstype=tmpfs\noptions=rw,relatime\npropagation=unbindable\n"
			"source=overtmp\nsuper_options=rw,size=512k\n");
}

static void test_mount_run_decodes_octal_escapes_to_bytes(void **state)
{
	static const char text[] =
		"1 0 8:1 / /a\\011b rw - ext4 /dev/sda1 rw\n"         /* tab */
		"2 0 8:1 / /a\\012b rw - ext4 /dev/sda1 rw\n"         /* newline */
		"3 0 8:1 / /a\\134b rw - ext4 /dev/sda1 rw\n"         /* backslash */
		"4 0 8:1 / /a\\377b rw - ext4 /dev/sda1 rw\n"         /* any byte */
		"5 0 8:1 / /a\\8b rw - ext4 /dev/sda1 rw\n"           /* no escape */
		"6 0 8:1 / /a\\04 rw - ext4 /dev/sda1 rw\n"           /* cut short */
		"7 0 8:1 / /a\\777 rw - ext4 /dev/sda1 rw\n"          /* not a byte */
		"8 0 8:1 / /a\\000b rw - ext4 /dev/sda1 rw\n"         /* NUL: finding */
		"9 0 8:1 / /x\\040y rw - ext4 /dev/my\\040disk rw\n"; /* source kept escaped */
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, MOUNTINFO, text), 0);
	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 1);
	assert_int_equal(pt_findings_on(&fx->rec, MOUNTINFO, 8), 1);
	assert_int_equal(fx->rec.nemit, 8);
	assert_non_null(pt_props(&fx->rec, "/a\tb"));
	assert_non_null(pt_props(&fx->rec, "/a\nb"));
	assert_non_null(pt_props(&fx->rec, "/a\\b"));
	assert_non_null(pt_props(&fx->rec, "/a\xff"
					   "b"));
	assert_non_null(pt_props(&fx->rec, "/a\\8b"));
	assert_non_null(pt_props(&fx->rec, "/a\\04"));
	assert_non_null(pt_props(&fx->rec, "/a\\777"));
	pt_assert_entry(&fx->rec, "/x y",
			"fstype=ext4\noptions=rw\nsource=/dev/my\\040disk\nsuper_options=rw\n");
}

static void test_mount_run_reports_each_malformed_line_and_keeps_the_rest(void **state)
{
	struct pt_fx *fx = *state;
	char *text;
	size_t len;
	FILE *f = open_memstream(&text, &len);
	const unsigned bad[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13 };

	assert_non_null(f);
	fprintf(f, "1 0 8:1 / / rw shared:1 - ext4 /dev/sda1 rw\n");  /* 1 ok */
	fprintf(f, "2 1 8:2 / /a rw - ext4\n");                       /* 2 short */
	fprintf(f, "3 1 8:2 / /b rw shared:2 ext4 /dev/sda2 rw x\n"); /* 3 no '-' */
	fprintf(f, "4 1 8:2 / /c rw - ext4 /dev/sda2 rw extra\n");    /* 4 4 after '-' */
	fprintf(f, "x 1 8:2 / /d rw - ext4 /dev/sda2 rw\n");          /* 5 id */
	fprintf(f, "6 1 8-2 / /e rw - ext4 /dev/sda2 rw\n");          /* 6 devno */
	fprintf(f, "7 1 8:2 / rel rw - ext4 /dev/sda2 rw\n");         /* 7 relative */
	fprintf(f, "8 1 8:2 / /f rw :3 - ext4 /dev/sda2 rw\n");       /* 8 nameless */
	fprintf(f, "9 1 8:2 / /g rw");                                /* 9 too many */
	for (int i = 0; i < 70; i++)
		fprintf(f, " shared:%d", i);
	fprintf(f, " - ext4 /dev/sda2 rw\n");
	fputs("10 1 8:2 / /h rw - ext4 /dev/sda2 ", f); /* 10 very long */
	for (int i = 0; i < 20000; i++)
		fputs("rw,", f);
	fputs(" and more\n", f);
	fwrite("11 1 8:2 / /i\0 rw - ext4 /dev/sda2 rw\n", 1, 38, f); /* 11 NUL */
	fprintf(f, "\n");                                             /* 12 empty */
	fprintf(f, "13 1 8:2 / /j rw - ext4 /dev/s");                 /* 13 truncated */
	fclose(f);
	assert_int_equal(pt_write(&fx->root, MOUNTINFO, text, len, 0644), 0);
	free(text);
	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pt_findings_on(&fx->rec, MOUNTINFO, bad[i]), 1);
	assert_int_equal(fx->rec.nfind, (int)(sizeof(bad) / sizeof(bad[0])));
	assert_string_equal(fx->rec.find[0].probe, "mount");
	assert_true(pt_finding_says(&fx->rec, "malformed line: 8 fields, expected at least 10"));
	assert_true(pt_finding_says(&fx->rec, "malformed line: no '-' separator"));
	assert_true(pt_finding_says(&fx->rec, "mount point 'rel' is not absolute"));
	assert_int_equal(fx->rec.nemit, 1);
	pt_assert_entry(&fx->rec, "/",
			"fstype=ext4\noptions=rw\npropagation=shared\nsource=/dev/sda1\n"
			"super_options=rw\n");
}

static void test_mount_run_empty_file_emits_nothing(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, MOUNTINFO, ""), 0);
	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_mount_run_reports_a_directory_in_place_of_the_file(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_mkdirs(&fx->root, MOUNTINFO), 0);
	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].file, MOUNTINFO);
	assert_int_equal(fx->rec.find[0].line, 0);
}

static void test_mount_run_unavailable_without_mountinfo(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	/* only self counts: proc/1/mountinfo is not looked at */
	assert_int_equal(pt_copy_fixture(&fx->root, "proc/self/mountinfo"), 0);
	assert_int_equal(renameat(fx->root.fd, "proc/self", fx->root.fd, "proc/1"), 0);
	assert_int_equal(pt_run("mount", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_mount_run_stops_when_emit_fails(void **state)
{
	struct pt_fx *fx = *state;
	struct diag d;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	diag_clear(&d);
	fx->rec.stop_after = 0;
	assert_int_equal(pt_run("mount", fd, &fx->rec, &d), -EINTR);
	close(fd);
	assert_int_equal(fx->rec.nemit, 0);
	assert_true(d.msg[0] != '\0');
}

static void test_mount_run_on_host_root_emits_without_findings(void **state)
{
	struct pt_fx *fx = *state;
	int fd;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (!pt_host_has_proc()) {
		/* no proc mounted: the probe has nothing to read, and says so */
		assert_int_equal(pt_run("mount", fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
		assert_int_equal(fx->rec.nemit, 0);
		close(fd);
		return;
	}
	fx->rec.count_only = true;
	assert_int_equal(pt_run("mount", fd, &fx->rec, NULL), 0);
	close(fd);
	assert_int_equal(fx->rec.nfind, 0);
	assert_true(fx->rec.nemit > 0);
	assert_false(fx->rec.bad_blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pt_unit_test(test_mount_run_emits_fixture_mounts_last_one_wins),
		pt_unit_test(test_mount_run_decodes_octal_escapes_to_bytes),
		pt_unit_test(test_mount_run_reports_each_malformed_line_and_keeps_the_rest),
		pt_unit_test(test_mount_run_empty_file_emits_nothing),
		pt_unit_test(test_mount_run_reports_a_directory_in_place_of_the_file),
		pt_unit_test(test_mount_run_unavailable_without_mountinfo),
		pt_unit_test(test_mount_run_stops_when_emit_fails),
		pt_unit_test(test_mount_run_on_host_root_emits_without_findings),
	};
	return cmocka_run_group_tests_name("probe/mount", tests, NULL, NULL);
}
