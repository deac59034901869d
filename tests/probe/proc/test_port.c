/* Tests of the port probe (scanner/probe_port.c). */
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

#define TCP_HEADER                                                                            \
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  " \
	"timeout inode\n"
#define TCP6_HEADER                                                                             \
	"  sl  local_address                         remote_address                        st " \
	"tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
/* the fields after the state, up to the uid */
#define MID " 00000000:00000000 00:00000000 00000000 "

static int fx_symlink(const struct pt_fx *fx, const char *target, const char *rel)
{
	char path[600];

	snprintf(path, sizeof(path), "%s/%s", fx->root.dir, rel);
	return symlink(target, path) < 0 ? -errno : 0;
}

static void test_port_run_emits_fixture_listeners_with_processes(void **state)
{
	static const char *const keys[] = {
		"tcp/0.0.0.0:22",    "tcp/127.0.0.1:3306",
		"tcp/127.0.0.53:53", "tcp6/[2001:db8:85a3::8a2e:370:7334]:8080",
		"tcp6/[::1]:631",    "tcp6/[::]:22",
		"udp/0.0.0.0:68",    "udp/127.0.0.53:53",
		"udp6/[::]:5353",    "udp6/[fe80::5054:ff:fe12:3456]:546",
	};
	struct pt_fx *fx = *state;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	assert_int_equal(pt_run("port", fd, &fx->rec, NULL), 0);
	close(fd);
	assert_int_equal(fx->rec.nfind, 0);
	assert_false(fx->rec.bad_blob);
	assert_int_equal(fx->rec.nemit, (int)(sizeof(keys) / sizeof(keys[0])));
	for (int i = 0; i < fx->rec.nemit; i++) {
		assert_int_equal(fx->rec.kind[i], ENTRY_PORT);
		assert_string_equal(fx->rec.key[i], keys[i]);
	}
	pt_assert_entry(&fx->rec, "tcp/0.0.0.0:22", "process=sshd\nuid=0\n");
	pt_assert_entry(&fx->rec, "tcp/127.0.0.1:3306", "uid=110\n");
	pt_assert_entry(&fx->rec, "tcp/127.0.0.53:53", "process=systemd-resolve\nuid=102\n");
	pt_assert_entry(&fx->rec, "tcp6/[2001:db8:85a3::8a2e:370:7334]:8080", "uid=1000\n");
	pt_assert_entry(&fx->rec, "tcp6/[::1]:631", "uid=0\n");
	pt_assert_entry(&fx->rec, "tcp6/[::]:22", "process=sshd\nuid=0\n");
	pt_assert_entry(&fx->rec, "udp/0.0.0.0:68", "uid=0\n");
	pt_assert_entry(&fx->rec, "udp/127.0.0.53:53", "process=systemd-resolve\nuid=102\n");
	/* two SO_REUSEPORT sockets, two processes: one entry */
	pt_assert_entry(&fx->rec, "udp6/[::]:5353", "process=avahi-daemon,mdnsd\nuid=107\n");
	pt_assert_entry(&fx->rec, "udp6/[fe80::5054:ff:fe12:3456]:546", "uid=0\n");
	/* established TCP, TIME_WAIT and connected UDP are traffic, not listeners */
	assert_null(pt_props(&fx->rec, "tcp/10.0.2.15:22"));
	assert_null(pt_props(&fx->rec, "udp/10.0.2.15:40001"));
}

static void test_port_run_decodes_addresses_and_ports(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/net/tcp",
				      TCP_HEADER
				      "   0: 0100007F:0050 00000000:0000 0A" MID "0 0 11 1\n"
				      "   1: 0101A8C0:FFFF 00000000:0000 0A" MID "0 0 12 1\n"
				      "   2: FFFFFFFF:0001 00000000:0000 0a" MID "0 0 13 1\n"),
			 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/net/tcp6",
				      TCP6_HEADER
				      "   0: 00000000000000000000000001000000:01BB "
				      "00000000000000000000000000000000:0000 0A" MID "0 0 21 1\n"
				      "   1: B80D01200000A3852E8A000034737003:0016 "
				      "00000000000000000000000000000000:0000 0A" MID "0 0 22 1\n"
				      "   2: 0000000000000000FFFF00000100007F:0019 "
				      "00000000000000000000000000000000:0000 0A" MID "0 0 23 1\n"),
			 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(fx->rec.nemit, 6);
	assert_non_null(pt_props(&fx->rec, "tcp/127.0.0.1:80"));
	assert_non_null(pt_props(&fx->rec, "tcp/192.168.1.1:65535"));
	assert_non_null(pt_props(&fx->rec, "tcp/255.255.255.255:1"));
	assert_non_null(pt_props(&fx->rec, "tcp6/[::1]:443"));
	assert_non_null(pt_props(&fx->rec, "tcp6/[2001:db8:85a3::8a2e:370:7334]:22"));
	assert_non_null(pt_props(&fx->rec, "tcp6/[::ffff:127.0.0.1]:25"));
}

static void test_port_run_finds_owners_and_skips_unreadable_processes(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/net/udp",
				      "   sl  local_address rem_address   st\n"
				      "  1: 00000000:0035 00000000:0000 07" MID "0 0 500 2\n"
				      "  2: 00000000:0035 00000000:0000 07" MID "5 0 501 2\n"
				      "  3: 00000000:007B 00000000:0000 07" MID "9 0 600 2\n"
				      "  4: 00000000:0202 00000000:0000 07" MID "9 0 0 2\n"),
			 0);
	/* 10 holds 500 twice (dup'd fd) and 501; 11 holds 501; 12 has no comm; 13 no fd/ */
	assert_int_equal(pt_write_str(&fx->root, "proc/10/comm", "dnsmasq\n"), 0);
	assert_int_equal(pt_mkdirs(&fx->root, "proc/10/fd"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[500]", "proc/10/fd/3"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[500]", "proc/10/fd/4"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[501]", "proc/10/fd/5"), 0);
	assert_int_equal(fx_symlink(fx, "pipe:[500]", "proc/10/fd/6"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/11/comm", "helper,two\n"), 0);
	assert_int_equal(pt_mkdirs(&fx->root, "proc/11/fd"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[501]", "proc/11/fd/0"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[600", "proc/11/fd/1"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[6x0]", "proc/11/fd/2"), 0);
	assert_int_equal(pt_mkdirs(&fx->root, "proc/12/fd"), 0);
	assert_int_equal(fx_symlink(fx, "socket:[600]", "proc/12/fd/9"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/13/comm", "nofd\n"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/self", "not a process\n"), 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(fx->rec.nemit, 3);
	/* two sockets of one key: the union of the holders, the smallest uid */
	pt_assert_entry(&fx->rec, "udp/0.0.0.0:53", "process=dnsmasq,helper_two\nuid=0\n");
	pt_assert_entry(&fx->rec, "udp/0.0.0.0:123", "uid=9\n");
	pt_assert_entry(&fx->rec, "udp/0.0.0.0:514", "uid=9\n");
}

static void test_port_run_reports_each_malformed_line_and_keeps_the_rest(void **state)
{
	static const char text[] = TCP_HEADER                          /* 1 */
		"   0: 00000000:0016 00000000:0000 0A" MID "0 0 1 1\n" /* 2 ok */
		"   1: 00000000:0017 00000000:0000 0A\n"               /* 3 short */
		"   2: 0000000G:0018 00000000:0000 0A" MID "0 0 2 1\n" /* 4 hex */
		"   3: 00000000000000000000000000000000:0019 00000000:0000 0A" MID
		"0 0 3 1\n"                                                       /* 5 v6 in v4 */
		"   4: 00000000:001A 00000000:0000 0G" MID "0 0 4 1\n"            /* 6 state */
		"   5: 00000000:001B 00000000:0000 0A" MID "x 0 5 1\n"            /* 7 uid */
		"   6: 00000000:001C 00000000:0000 0A" MID "0 0 -6 1\n"           /* 8 inode */
		"   7: 00000000:1D 00000000:0000 0A" MID "0 0 7 1\n"              /* 9 port */
		"   8: 00000000 00000000:0000 0A" MID "0 0 8 1\n"                 /* 10 no port */
		"   9: 00000000:001E 0000:0000 0A" MID "0 0 9 1\n"                /* 11 remote */
		"  10: 00000000:001F 00000000:0000 0A" MID "99999999999 0 10 1\n" /* 12 uid */
		"\n"                                                              /* 13 empty */
		"  12: 00000000:0020 00000000:0000 0A" MID "0 0 12 1\n"           /* 14 ok */
		"  13: 00000000:0021 00000000:00";                                /* 15 truncated */
	const unsigned bad[] = { 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15 };
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/net/tcp", text), 0);
	assert_int_equal(pt_write(&fx->root, "proc/net/udp", "x\0y\n", 4, 0644), 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pt_findings_on(&fx->rec, "proc/net/tcp", bad[i]), 1);
	assert_int_equal(pt_findings_on(&fx->rec, "proc/net/udp", 1), 1);
	assert_int_equal(fx->rec.nfind, (int)(sizeof(bad) / sizeof(bad[0])) + 1);
	assert_string_equal(fx->rec.find[0].probe, "port");
	assert_true(pt_finding_says(&fx->rec, "malformed line: 4 fields, expected at least 10"));
	assert_true(pt_finding_says(&fx->rec, "bad local address '0000000G:0018'"));
	assert_int_equal(fx->rec.nemit, 2);
	pt_assert_entry(&fx->rec, "tcp/0.0.0.0:22", "uid=0\n");
	pt_assert_entry(&fx->rec, "tcp/0.0.0.0:32", "uid=0\n");
}

static void test_port_run_available_with_one_file_and_reports_a_directory(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_write_str(&fx->root, "proc/net/udp6", ""), 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
	assert_int_equal(pt_mkdirs(&fx->root, "proc/net/tcp"), 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), 0);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 1);
	assert_string_equal(fx->rec.find[0].file, "proc/net/tcp");
}

static void test_port_run_unavailable_without_net_files(void **state)
{
	struct pt_fx *fx = *state;

	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(pt_mkdirs(&fx->root, "proc/net"), 0);
	assert_int_equal(pt_write_str(&fx->root, "proc/net/unix", "Num RefCount\n"), 0);
	assert_int_equal(pt_run("port", fx->root.fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
	assert_int_equal(fx->rec.nemit, 0);
	assert_int_equal(fx->rec.nfind, 0);
}

static void test_port_run_stops_when_emit_fails(void **state)
{
	struct pt_fx *fx = *state;
	struct diag d;
	int fd = pt_fixture_open();

	assert_true(fd >= 0);
	diag_clear(&d);
	fx->rec.stop_after = 3;
	assert_int_equal(pt_run("port", fd, &fx->rec, &d), -EINTR);
	close(fd);
	assert_int_equal(fx->rec.nemit, 3);
	assert_true(d.msg[0] != '\0');
}

static void test_port_run_on_host_root_returns_zero(void **state)
{
	struct pt_fx *fx = *state;
	int fd, r;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	if (!pt_host_has_proc()) {
		/* no proc mounted: the probe has nothing to read, and says so */
		assert_int_equal(pt_run("port", fd, &fx->rec, NULL), PROBE_UNAVAILABLE);
		assert_int_equal(fx->rec.nemit, 0);
		close(fd);
		return;
	}
	fx->rec.count_only = true;
	r = pt_run("port", fd, &fx->rec, NULL);
	close(fd);
	if (r == PROBE_UNAVAILABLE) {
		/* no network stack: none of the four files */
		assert_int_equal(access("/proc/net/tcp", F_OK) < 0 ? errno : 0, ENOENT);
		assert_int_equal(fx->rec.nemit, 0);
		return;
	}
	assert_int_equal(r, 0);
	assert_false(fx->rec.bad_blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		pt_unit_test(test_port_run_emits_fixture_listeners_with_processes),
		pt_unit_test(test_port_run_decodes_addresses_and_ports),
		pt_unit_test(test_port_run_finds_owners_and_skips_unreadable_processes),
		pt_unit_test(test_port_run_reports_each_malformed_line_and_keeps_the_rest),
		pt_unit_test(test_port_run_available_with_one_file_and_reports_a_directory),
		pt_unit_test(test_port_run_unavailable_without_net_files),
		pt_unit_test(test_port_run_stops_when_emit_fails),
		pt_unit_test(test_port_run_on_host_root_returns_zero),
	};
	return cmocka_run_group_tests_name("probe/port", tests, NULL, NULL);
}
