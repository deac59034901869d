/* Tests of the sysctl probe (scanner/probe_sysctl.c). */
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

static void test_sysctl_run_emits_fixture_values_in_order(void **state)
{
	static const char *const keys[] = {
		"fs.protected_regular",
		"kernel.hostname",
		"kernel.osrelease",
		"kernel.printk",
		"net.ipv4.conf.all.forwarding",
		"net.ipv4.conf.eth0/1.forwarding",
		"net.ipv4.ip_forward",
		"net.ipv4.tcp_rmem",
		"vm.swappiness",
	};
	struct pt_fx *fx = *state;
	struct diag d;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	assert_int_equal(pt_run("sysctl", fd, &fx->rec, &d), 0);
	close(fd);
	assert_int_equal(fx->rec.nfind, 0);
	assert_false(fx->rec.bad_blob);
	assert_int_equal(fx->rec.nemit, (int)(sizeof(keys) / sizeof(keys[0])));
	for (int i = 0; i < fx->rec.nemit; i++) {
		assert_int_equal(fx->rec.kind[i], ENTRY_SYSCTL);
		assert_string_equal(fx->rec.key[i], keys[i]);
	}
	pt_assert_entry(&fx->rec, "fs.protected_regular", "value=2\n");
	pt_assert_entry(&fx->rec, "kernel.hostname", "value=fixture-host\n");
	pt_assert_entry(&fx->rec, "kernel.osrelease", "value=6.1.0-13-amd64\n");
	pt_assert_entry(&fx->rec, "kernel.printk", "value=4 4 1 7\n");
	pt_assert_entry(&fx->rec, "net.ipv4.conf.all.forwarding", "value=1\n");
	pt_assert_entry(&fx->rec, "net.ipv4.conf.eth0/1.forwarding", "value=0\n");
	pt_assert_entry(&fx->rec, "net.ipv4.ip_forward", "value=1\n");
	pt_assert_entry(&fx->rec, "net.ipv4.tcp_rmem", "value=4096 131072 6291456\n");
	pt_assert_entry(&fx->rec, "vm.swappiness", "value=60\n");
	/* the kernel changes these by itself */
	assert_null(pt_props(&fx->rec, "kernel.random.boot_id"));
	assert_null(pt_props(&fx->rec, "kernel.random.entropy_avail"));
	assert_null(pt_props(&fx->rec, "fs.file-nr"));
}

static void test_sysctl_run_leaves_out_volatile_values(void **state)
{
	static const char *const vol[] = {
		"proc/sys/kernel/random/uuid",
		"proc/sys/fs/dentry-state",
		"proc/sys/fs/inode-state",
		"proc/sys/fs/inode-nr",
		"proc/sys/fs/aio-nr",
		"proc/sys/fs/quota/lookups",
		"proc/sys/kernel/ns_last_pid",
		"proc/sys/kernel/pty/nr",
		"proc/sys/kernel/hung_task_detect_count",
		"proc/sys/kernel/perf_event_max_sample_rate",
		"proc/sys/net/netfilter/nf_conntrack_count",
		"proc/sys/net/core/netdev_rss_key",
		"proc/sys/net/ipv4/tcp_fastopen_key",
		"proc/sys/net/ipv6/conf/eth0/stable_secret",
		/* deprecated: reading them logs a kernel warning */
		"proc/sys/net/ipv6/neigh/default/base_reachable_time",
		"proc/sys/net/ipv4/neigh/eth0/retrans_time",
		"proc/sys/vm/stat_refresh",
	};
	struct pt_fx *fx = *state;

	for (size_t i = 0; i < sizeof(vol) / sizeof(vol[0]); i++)
		assert_int_equal(pt_write_str(&fx->root, vol[i], "42\n"), 0);
	/* neighbours of volatile names stay */
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/kernel/pty/max", "4096\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/fs/aio-max-nr", "65536\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/net/ipv6/conf/eth0/mtu", "1500\n"), 0);
	assert_int_equal(
		pt_write_str(&fx->root, "proc/sys/net/ipv4/neigh/eth0/retrans_time_ms", "1000\n"),
		0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(fx->rec.nemit, 4);
	assert_string_equal(fx->rec.key[0], "fs.aio-max-nr");
	assert_string_equal(fx->rec.key[1], "kernel.pty.max");
	assert_string_equal(fx->rec.key[2], "net.ipv4.neigh.eth0.retrans_time_ms");
	assert_string_equal(fx->rec.key[3], "net.ipv6.conf.eth0.mtu");
}

static void test_sysctl_run_skips_write_only_files_quietly(void **state)
{
	struct pt_fx *fx = *state;

	/* git keeps no mode but x, so the write-only file is made here; root reads it anyway */
	assert_int_equal(pt_write(&fx->root, "proc/sys/vm/compact_memory", "1\n", 2, 0200), 0);
	assert_int_equal(pt_write(&fx->root, "proc/sys/vm/drop_caches", "", 0, 0200), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/vm/swappiness", "60\n"), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(fx->rec.nemit, 1);
	pt_assert_entry(&fx->rec, "vm.swappiness", "value=60\n");
}

static void test_sysctl_run_normalizes_blanks_and_newlines(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/sys/a/blanks", "  a \t\t b\t \n\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/a/empty", ""), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/a/lines", "x  y\nz\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/a/nonl", "7"), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(fx->rec.nemit, 4);
	pt_assert_entry(&fx->rec, "a.blanks", "value=a b\n");
	pt_assert_entry(&fx->rec, "a.empty", "value=\n");
	pt_assert_entry(&fx->rec, "a.lines", "value=x y\nz\n");
	pt_assert_entry(&fx->rec, "a.nonl", "value=7\n");
}

static void test_sysctl_run_cuts_long_value_with_a_finding(void **state)
{
	struct pt_fx *fx = *state;
	size_t len = 70000;
	char *big = malloc(len);
	const char *props;

	assert_non_null(big);
	memset(big, 'v', len);
	assert_int_equal(pt_write(&fx->root, "proc/sys/dev/big", big, len, 0644), 0);
	free(big);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 1);
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].probe, "sysctl");
	assert_string_equal(fx->rec.find[0].file, "proc/sys/dev/big");
	assert_true(pt_finding_says(&fx->rec, "longer than 65536 bytes"));
	props = pt_props(&fx->rec, "dev.big");
	assert_non_null(props);
	assert_int_equal(strlen(props), strlen("value=\n") + 65536);
}

static void test_sysctl_run_skips_nul_value_and_symlinks(void **state)
{
	struct pt_fx *fx = *state;
	char path[600];

	assert_int_equal(pt_write(&fx->root, "proc/sys/k/nul", "a\0b\n", 4, 0644), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/k/ok", "1\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "etc/secret", "hunter2\n"), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/k/link", fx->root.dir);
	assert_int_equal(symlink("../../../etc/secret", path), 0);
	snprintf(path, sizeof(path), "%s/proc/sys/dirlink", fx->root.dir);
	assert_int_equal(symlink("../../etc", path), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 1);
	pt_assert_entry(&fx->rec, "k.ok", "value=1\n");
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].file, "proc/sys/k/nul");
	assert_true(pt_finding_says(&fx->rec, "NUL byte"));
}

static void test_sysctl_run_reports_too_deep_directory(void **state)
{
	struct pt_fx *fx = *state;
	char rel[256] = "proc/sys";

	for (int i = 0; i < 20; i++) {
		size_t l = strlen(rel);

		snprintf(rel + l, sizeof(rel) - l, "/d");
	}
	assert_int_equal(pt_mkdirs(&fx->root, rel), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/sys/d/x", "1\n"), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 1);
	pt_assert_entry(&fx->rec, "d.x", "value=1\n");
	assert_int_equal(fx->rec.nfind, 1);
	assert_true(pt_finding_says(&fx->rec, "nested too deep"));
}

static void test_sysctl_run_unavailable_without_proc_sys(void **state)
{
	struct pt_fx *fx = *state;

	/* no proc at all */
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
	/* proc not mounted: an empty directory */
	assert_int_equal(pt_mkdirs(&fx->root, "proc"), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_sysctl_run_reports_proc_sys_that_is_a_file(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/sys", "not a directory\n"), 0);
	assert_int_equal(pt_run("sysctl", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].file, "proc/sys");
}

static void test_sysctl_run_stops_when_emit_fails(void **state)
{
	struct pt_fx *fx = *state;
	struct diag d;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	diag_clear(&d);
	fx->rec.stop_after = 2;
	assert_int_equal(pt_run("sysctl", fd, &fx->rec, &d), -EINTR);
	close(fd);
	assert_int_equal(fx->rec.nemit, 2);
	assert_true(d.msg[0] != '\0');
}

static void test_sysctl_run_on_host_root_emits_without_findings(void **state)
{
	struct pt_fx *fx = *state;
	int fd;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (!pt_host_has_proc()) {
		/* no proc mounted: the probe has nothing to read, and says so */
		assert_int_equal(pt_run("sysctl", fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
		assert_int_equal(fx->rec.nemit, 0);
		close(fd);
		return;
	}
	fx->rec.count_only = true;
	assert_int_equal(pt_run("sysctl", fd, &fx->rec, NULL), 0);
	close(fd);
	for (int i = 0; i < fx->rec.nfind; i++)
		print_message("# finding: %s: %s\n", fx->rec.find[i].file, fx->rec.find[i].msg);
	assert_int_equal(fx->rec.nfind, 0);
	assert_true(fx->rec.nemit > 0);
	assert_false(fx->rec.bad_blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pt_unit_test(test_sysctl_run_emits_fixture_values_in_order),
		pt_unit_test(test_sysctl_run_leaves_out_volatile_values),
		pt_unit_test(test_sysctl_run_skips_write_only_files_quietly),
		pt_unit_test(test_sysctl_run_normalizes_blanks_and_newlines),
		pt_unit_test(test_sysctl_run_cuts_long_value_with_a_finding),
		pt_unit_test(test_sysctl_run_skips_nul_value_and_symlinks),
		pt_unit_test(test_sysctl_run_reports_too_deep_directory),
		pt_unit_test(test_sysctl_run_unavailable_without_proc_sys),
		pt_unit_test(test_sysctl_run_reports_proc_sys_that_is_a_file),
		pt_unit_test(test_sysctl_run_stops_when_emit_fails),
		pt_unit_test(test_sysctl_run_on_host_root_emits_without_findings),
	};
	return cmocka_run_group_tests_name("probe/sysctl", tests, NULL, NULL);
}
