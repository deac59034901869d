/*
 * Unit tests of report/json.c: the JSON report, against golden files in
 * tests/golden/ (.json) (DRIFT_UPDATE_GOLDEN=1 rewrites them), through
 * python3's json module (tests/report/validate_json.py checks the schema of
 * docs/json-report.md and the lossless paths), and against exact members.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/report/fixture.h"

#ifndef VALIDATE_JSON
#error "VALIDATE_JSON must name tests/report/validate_json.py"
#endif

static char *render(const struct report_meta *meta, fx_add_fn *add, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(fx_render(REPORT_JSON, meta, add, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle)) {
		print_error("missing: [%s]\nin:\n%s\n", needle, haystack);
		fail();
	}
}

static void assert_starts_with(const char *s, const char *prefix)
{
	if (strncmp(s, prefix, strlen(prefix))) {
		print_error("does not start with: [%s]\nin:\n%s\n", prefix, s);
		fail();
	}
}

static bool have_python3(void)
{
	return system("command -v python3 >/dev/null 2>&1") == 0;
}

/* Run `@prog FILE @redirect` on a file holding @buf and return its exit status. */
static int run_on(const char *prog, const char *redirect, const char *buf, size_t len)
{
	char *path = fx_write_temp(buf, len);
	char cmd[1024];
	int status;

	snprintf(cmd, sizeof(cmd), "%s '%s' %s", prog, path, redirect);
	status = system(cmd);
	unlink(path);
	free(path);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Valid JSON for python3 -m json.tool, and valid for the schema checker. */
static void assert_valid_json(const char *buf, size_t len)
{
	if (!have_python3()) {
		print_message("python3 missing: JSON not validated\n");
		return;
	}
	assert_int_equal(run_on("python3 -m json.tool", ">/dev/null", buf, len), 0);
	assert_int_equal(run_on("python3 '" VALIDATE_JSON "'", "", buf, len), 0);
}

static void test_json_clean_check_is_valid_with_empty_arrays(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_nothing, &len);
	fx_golden_check("check-clean.json", buf, len);
	assert_valid_json(buf, len);

	assert_starts_with(
		buf,
		"{\n  \"drift_report\": 1,\n  \"tool\": {\"name\": \"drift\", "
		"\"version\": \"0.1.0-test\"},\n  \"command\": \"check\",\n"
		"  \"generated\": \"2026-11-26T03:15:43.123456789Z\",\n"
		"  \"database\": \"/var/lib/drift/drift.db\",\n"
		"  \"compare\": {\"all_changes\": false, \"hash_compared\": true},\n  \"old\": {\"id\": 1, ");
	assert_contains(
		buf, "\n  \"policy\": {\"old\": {\"source\": null, \"digest\": null}, "
		     "\"new\": {\"source\": null, \"digest\": null}, \"changed\": false},\n"
		     "  \"summary\": {\"added\": 0, \"removed\": 0, \"modified\": 0, "
		     "\"total\": 0, \"expected\": 0, \"waived\": 0, \"drift\": 0, \"by_severity\": "
		     "{\"critical\": 0, \"high\": 0, \"medium\": 0, \"low\": 0, \"info\": 0}, "
		     "\"unreadable\": 0, \"entries_checked\": 1234},\n"
		     "  \"deviations\": [],\n  \"unreadable\": []\n}\n");
	free(buf);
}

static void test_json_snapshot_objects_have_every_member(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_nothing, &len);
	assert_contains(buf,
			"  \"old\": {\"id\": 1, \"label\": \"baseline\", \"purpose\": "
			"\"baseline\", \"complete\": true, \"host\": \"web1.example.org\", "
			"\"version\": \"0.1.0\", \"roots\": [\"/etc\", \"/usr/bin\"], "
			"\"excludes\": [\"/etc/*.cache\", \"*.swp\"], \"hash\": \"xxh3-128\", "
			"\"started\": \"2026-11-25T15:10:02.500000000Z\", \"finished\": "
			"\"2026-11-25T15:10:05.000000001Z\", \"entries\": 1230, \"errors\": 0, "
			"\"probes\": [], \"probes_unavailable\": [], \"parent\": null},\n");
	assert_contains(buf, "  \"new\": {\"id\": 7, \"label\": \"check-20261126T031500Z\", "
			     "\"purpose\": \"check\", ");
	free(buf);

	/* No label, incomplete: nulls; a root that is not UTF-8: its display form. */
	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_nothing, &len);
	fx_golden_check("diff-clean.json", buf, len);
	assert_valid_json(buf, len);
	assert_contains(buf, "  \"command\": \"diff\",\n"
			     "  \"generated\": \"1969-12-31T23:59:59.999999999Z\",\n"
			     "  \"database\": \"/home/ops/drift \\\"test\\\".db\",\n"
			     "  \"compare\": {\"all_changes\": true, \"hash_compared\": false},\n");
	assert_contains(buf,
			"  \"new\": {\"id\": 3, \"label\": null, \"purpose\": \"scan\", "
			"\"complete\": false, \"host\": \"db\\\"1\\\"\", \"version\": \"0.2.0\", "
			"\"roots\": [\"/srv\", \"/opt/\\\\xffdata\"], \"excludes\": [], "
			"\"hash\": \"none\", \"started\": \"2026-11-21T09:30:00.000000000Z\", "
			"\"finished\": null, \"entries\": 13, \"errors\": 1, \"probes\": [], "
			"\"probes_unavailable\": [], \"parent\": null},\n");
	free(buf);
}

static void test_json_mixed_check_has_every_change_and_attribute(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	meta.color = true; /* ignored by JSON */
	buf = render(&meta, fx_add_mixed, &len);
	fx_golden_check("check-mixed.json", buf, len);
	assert_valid_json(buf, len);
	assert_null(strchr(buf, '\033'));

	assert_contains(
		buf,
		"  \"summary\": {\"added\": 4, \"removed\": 2, \"modified\": 9, "
		"\"total\": 15, \"expected\": 0, \"waived\": 0, \"drift\": 15, \"by_severity\": "
		"{\"critical\": 0, \"high\": 0, \"medium\": 0, \"low\": 0, \"info\": 0}, "
		"\"unreadable\": 2, \"entries_checked\": 1234},\n"
		"  \"deviations\": [\n    {\"kind\": \"file\", \"path\": "
		"\"/etc/cron.d/backup\", \"change\": \"added\", "
		"\"class\": \"drift\", \"severity\": null, \"rule\": null, \"reason\": null, \"attributes\": [], "
		"\"old\": null, \"new\": {\"type\": \"file\", \"mode\": \"0644\", "
		"\"uid\": 0, \"gid\": 0, \"size\": 1024, \"mtime\": "
		"\"2026-11-20T09:00:00.123456789Z\", \"ctime\": "
		"\"2026-11-20T09:00:00.123456789Z\", \"inode\": \"131075\", \"device\": "
		"\"2049\", \"rdev\": null, \"nlink\": 1, \"target\": null, \"hash\": "
		"\"00112233445566778899aabbccddeeff\", \"hash_algo\": \"xxh3-128\", "
		"\"error\": null, \"errno\": null, \"changed_while_read\": false, \"not_hashed_too_sparse\": false"
		", \"collected\": [], \"xattrs\": null, \"acl\": null, \"caps\": null, \"selinux\": null, \"mime\": null}},\n");
	/* Removed: old set, new null; a symlink's target. */
	assert_contains(
		buf,
		"{\"kind\": \"file\", \"path\": \"/etc/run.sock\", \"change\": "
		"\"removed\", \"class\": \"drift\", \"severity\": null, \"rule\": null, \"reason\": null, \"attributes\": [], "
		"\"old\": {\"type\": \"socket\", "
		"\"mode\": \"0666\"");
	assert_contains(buf, "\"new\": null}");
	assert_contains(
		buf,
		"\"path\": \"/etc/motd\", \"change\": \"added\", \"class\": \"drift\", \"severity\": null, \"rule\": null, \"reason\": null, "
		"\"attributes\": [], "
		"\"old\": null, \"new\": {\"type\": \"symlink\", \"mode\": \"0777\", ");
	assert_contains(buf, "\"target\": \"/run/motd.dynamic\", \"hash\": null, "
			     "\"hash_algo\": null");
	/* Modified: changed attributes in enum order; big integers as strings. */
	assert_contains(
		buf,
		"\"path\": \"/etc/passwd\", \"change\": \"modified\", "
		"\"class\": \"drift\", \"severity\": null, \"rule\": null, \"reason\": null, \"attributes\": "
		"[\"mode\", \"inode\", \"device\", \"nlink\"]");
	assert_contains(buf, "\"inode\": \"18446744073709551557\", \"device\": \"66306\", "
			     "\"rdev\": null, \"nlink\": 2");
	/* A device's number as "major,minor", beside st_dev. */
	assert_contains(buf, "\"path\": \"/etc/null\", \"change\": \"modified\", \"class\": "
			     "\"drift\", \"severity\": null, \"rule\": null, \"reason\": null, "
			     "\"attributes\": [\"rdev\"], \"old\": {\"type\": \"chardev\", ");
	assert_contains(buf, "\"device\": \"2049\", \"rdev\": \"1,3\", \"nlink\": 1, ");
	assert_contains(buf, "\"device\": \"2049\", \"rdev\": \"1,1\", \"nlink\": 1, ");
	assert_contains(buf,
			"\"attributes\": [\"type\", \"mode\", \"size\", \"target\", \"hash\"]");
	assert_contains(buf, "\"size\": 18446744073709551615, ");
	assert_contains(buf, "\"mode\": \"4755\"");
	assert_contains(buf, "\"attributes\": [\"error\"]");
	assert_contains(
		buf,
		"\"error\": \"Permission denied\", \"errno\": 13, "
		"\"changed_while_read\": false, \"not_hashed_too_sparse\": false, \"collected\": [], \"xattrs\": null, \"acl\": null, \"caps\": null, \"selinux\": null, \"mime\": null}}");
	assert_contains(
		buf,
		"\"hash_algo\": \"xxh3-128\", \"error\": null, \"errno\": null, "
		"\"changed_while_read\": true, \"not_hashed_too_sparse\": false, \"collected\": [], \"xattrs\": null, \"acl\": null, \"caps\": null, \"selinux\": null, \"mime\": null}}");
	/* The last deviation, then the unreadable ones. */
	assert_contains(buf, "}}\n  ],\n  \"unreadable\": [\n"
			     "    {\"kind\": \"file\", \"path\": \"/etc/shadow\", \"error\": "
			     "\"Permission denied\", \"errno\": 13},\n"
			     "    {\"kind\": \"file\", \"path\": \"/etc/vanished\", \"error\": "
			     "\"Input/output error\", \"errno\": 5}\n  ]\n}\n");
	free(buf);
}

static void test_json_weird_names_are_lossless(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_weird, &len);
	fx_golden_check("diff-weird-names.json", buf, len);
	assert_valid_json(buf, len);

	/* Not clean: display form (JSON-escaped) plus the raw bytes in base64. */
	assert_contains(buf, "\"path\": \"/srv/a\\\\nb\", \"path_b64\": \"L3Nydi9hCmI=\", ");
	assert_contains(buf, "\"path\": \"/srv/bell\\\\x01\", \"path_b64\": \"L3Nydi9iZWxsAQ==\"");
	assert_contains(buf, "\"path\": \"/srv/latin1-\\\\xff\\\\xfe\", \"path_b64\": "
			     "\"L3Nydi9sYXRpbjEt//4=\", ");
	assert_contains(buf, "\"target\": \"\\\\xff\\\\xfe/target\\\\nx\", \"target_b64\": "
			     "\"//4vdGFyZ2V0Cng=\", ");
	assert_contains(buf, "\"path\": \"/srv/unreadable\\\\xff\", \"path_b64\": "
			     "\"L3Nydi91bnJlYWRhYmxl/w==\", \"error\": \"Permission denied\"");
	/* Clean: the exact string, UTF-8 as it is, JSON escapes where JSON needs them. */
	assert_contains(buf, "\"path\": \"/srv/caf\xc3\xa9\", \"change\"");
	assert_contains(buf, "\"path\": \"/srv/back\\\\slash\", \"change\"");
	assert_contains(buf, "\"path\": \"/srv/quote\\\"\", \"change\"");
	assert_contains(buf, "\"target\": \"new \\\"quoted\\\"\", \"hash\"");
	/* A clean display never reaches JSON with a raw control byte. */
	for (size_t i = 0; i < len; i++)
		assert_true((unsigned char)buf[i] >= 0x20 || buf[i] == '\n');
	free(buf);
}

static void test_json_classified_carries_verdicts_policy_and_optional_attributes(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check_policy(&meta);
	buf = render(&meta, fx_add_classified, &len);
	fx_golden_check("check-classified.json", buf, len);
	assert_valid_json(buf, len);

	assert_contains(buf,
			"\n  \"policy\": {\"old\": {\"source\": \"/etc/drift/policy.yaml\", "
			"\"digest\": \"0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd"
			"0123abcd\"}, \"new\": {\"source\": \"/etc/drift/policy.yaml\", "
			"\"digest\": \"fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876"
			"fedc9876\"}, \"changed\": true},\n");
	assert_contains(
		buf, "\"total\": 9, \"expected\": 2, \"waived\": 0, \"drift\": 7, \"by_severity\": "
		     "{\"critical\": 2, \"high\": 1, \"medium\": 1, \"low\": 1, "
		     "\"info\": 1}, \"unreadable\": 1, ");
	/* The first deviation is the most severe; a verdict's attributes replace d->attrs. */
	assert_contains(buf, "\"deviations\": [\n    {\"kind\": \"file\", \"path\": "
			     "\"/usr/bin/ping\", \"change\": \"modified\", \"class\": \"drift\", "
			     "\"severity\": \"critical\", \"rule\": {\"id\": \"bin\", \"title\": "
			     "\"A rule\", \"file\": \"/etc/drift/policy.yaml\", \"line\": 12}, "
			     "\"reason\": \"capabilities changed\", \"attributes\": [\"xattrs\", "
			     "\"acl\", \"caps\", \"selinux\", \"mime\"], ");
	assert_contains(buf, "\"path\": \"/usr/bin/su\", \"change\": \"modified\", \"class\": "
			     "\"drift\", \"severity\": \"critical\"");
	assert_contains(buf, "\"reason\": \"setuid bit set\", \"attributes\": [\"mode\"], ");
	assert_contains(buf, "\"rule\": {\"id\": \"tmp\", \"title\": null, \"file\": null, "
			     "\"line\": null}, \"reason\": null, ");
	assert_contains(buf,
			"\"severity\": \"low\", \"rule\": null, \"reason\": \"owner changed\"");
	assert_contains(buf, "\"path\": \"/var/log/syslog\", \"change\": \"modified\", "
			     "\"class\": \"expected\", \"severity\": \"info\"");
	/* Optional attributes: lossless xattrs, strings or null, what was collected. */
	assert_contains(buf,
			"\"collected\": [\"xattrs\", \"acl\", \"caps\", \"selinux\", "
			"\"mime\"], \"xattrs\": [{\"name\": \"user.a\", \"value\": \"1\"}, "
			"{\"name\": \"user.bin\", \"value\": \"\\\\x00\\\\xff\", "
			"\"value_b64\": \"AP8=\"}, {\"name\": \"user.gone\", \"value\": \"x\"}], "
			"\"acl\": null, \"caps\": null, \"selinux\": "
			"\"system_u:object_r:bin_t:s0\", \"mime\": "
			"\"application/x-pie-executable\"}");
	assert_contains(buf, "{\"name\": \"user.new\\\\n\", \"name_b64\": \"dXNlci5uZXcK\", "
			     "\"value\": \"vvvv");
	assert_contains(buf, "\"caps\": \"cap_net_raw=ep\"");
	free(buf);
}

/* A 3-byte name (base64 without padding), then a 10000-byte one (base64 in pieces). */
static int add_short_and_long_paths(struct report *rep)
{
	static char key[10000];
	static const char shortkey[] = "/\x01z";
	struct entry e = { .kind = ENTRY_FILE, .mode = S_IFREG | 0600, .key = shortkey };
	const struct deviation d = { .change = CHANGE_ADDED, .after = &e };
	int r;

	e.key_len = 3;
	r = fx_add(rep, &d);
	if (r < 0)
		return r;
	memset(key, 'a', sizeof(key));
	key[0] = '/';
	key[3071] = '\xff'; /* invalid UTF-8 around the end of the first piece */
	key[sizeof(key) - 1] = '\n';
	e.key = key;
	e.key_len = sizeof(key);
	return fx_add(rep, &d);
}

static void test_json_long_path_is_lossless(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, add_short_and_long_paths, &len);
	assert_valid_json(buf, len);
	assert_contains(buf, "\"path\": \"/\\\\x01z\", \"path_b64\": \"LwF6\", ");
	free(buf);
}

/* An added block device, and a removed one whose number was not recorded. */
static int add_devices(struct report *rep)
{
	struct entry e = { .kind = ENTRY_FILE, .mode = S_IFBLK | 0660, .key = "/srv/loop0" };
	const struct deviation added = { .change = CHANGE_ADDED, .after = &e };
	const struct deviation removed = { .change = CHANGE_REMOVED, .before = &e };
	int r;

	e.key_len = strlen(e.key);
	e.rdev = makedev(7, 0);
	r = fx_add(rep, &added);
	if (r < 0)
		return r;
	e.key = "/srv/old";
	e.key_len = strlen(e.key);
	e.rdev = ENTRY_RDEV_UNKNOWN;
	return fx_add(rep, &removed);
}

static void test_json_device_numbers_are_strings_or_null(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, add_devices, &len);
	assert_valid_json(buf, len);
	assert_contains(buf, "\"new\": {\"type\": \"blockdev\", \"mode\": \"0660\", ");
	assert_contains(buf, "\"device\": \"0\", \"rdev\": \"7,0\", \"nlink\": 0, ");
	/* Not recorded (a baseline of an older drift): null, like a file's. */
	assert_contains(buf, "\"path\": \"/srv/old\", ");
	assert_contains(buf, "\"device\": \"0\", \"rdev\": null, \"nlink\": 0, ");
	free(buf);
}

static void test_json_unreadable_only(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_unreadable_only, &len);
	fx_golden_check("check-unreadable.json", buf, len);
	assert_valid_json(buf, len);
	assert_contains(buf, "  \"deviations\": [],\n  \"unreadable\": [\n    {\"kind\": \"file\", "
			     "\"path\": \"/etc/shadow\", \"error\": \"Permission denied\", "
			     "\"errno\": 13}\n  ]\n}\n");
	free(buf);
}

/* The validator itself must be able to fail. */
static void test_json_validator_rejects_broken_documents(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *p;

	(void)state;
	if (!have_python3())
		tap_skip("python3 is not installed");
	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_weird, &len);
	/* A wrong base64: the path no longer is the display form of its bytes. */
	p = strstr(buf, "L3Nydi9hCmI=");
	assert_non_null(p);
	p[5] = 'Z';
	assert_int_not_equal(run_on("python3 '" VALIDATE_JSON "'", "2>/dev/null", buf, len), 0);
	free(buf);

	fx_meta_diff(&meta);
	buf = render(&meta, fx_add_weird, &len);
	/* A summary that disagrees with the array. */
	p = strstr(buf, "\"added\": 6");
	assert_non_null(p);
	p[10] = '5';
	assert_int_not_equal(run_on("python3 '" VALIDATE_JSON "'", "2>/dev/null", buf, len), 0);
	free(buf);
}

/* compare.hash_compared: true only when both snapshots were hashed with
 * the same algorithm. */
static void test_json_compare_says_whether_contents_were_compared(void **state)
{
	struct report_meta meta;
	struct snap_info a = fx_baseline, b = fx_check;
	char *buf;
	size_t len = 0;

	(void)state;
	fx_meta_check(&meta);
	meta.before = &a;
	meta.after = &b;
	buf = render(&meta, fx_add_nothing, &len);
	assert_contains(buf, "\"compare\": {\"all_changes\": false, \"hash_compared\": true},");
	free(buf);
	b.hash = HASH_NONE;
	meta.compare_flags = SNAP_COMPARE_ALL;
	buf = render(&meta, fx_add_mixed, &len);
	assert_contains(buf, "\"compare\": {\"all_changes\": true, \"hash_compared\": false},");
	assert_valid_json(buf, len);
	free(buf);
	a.hash = HASH_NONE;
	buf = render(&meta, fx_add_nothing, &len);
	assert_contains(buf, "\"hash_compared\": false}");
	free(buf);
}

static void test_json_system_entries_carry_keys_props_owner_and_notes(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_system, &len);
	fx_golden_check("check-system.json", buf, len);
	assert_valid_json(buf, len);

	/* The caller's notes, after the summary. */
	assert_contains(buf, "\"entries_checked\": 1234},\n  \"notes\": [\"probe mount unavailable "
			     "under /mnt/img\", \"3 findings in etc/passwd (see stderr)\", "
			     "\"baseline has no package data for 2 packages\"],\n"
			     "  \"deviations\": [\n");
	/* Another kind: "key", lossless like paths; added: the full props. */
	assert_contains(buf, "\n    {\"kind\": \"user\", \"key\": \"ev\\\\xffil\", \"key_b64\": "
			     "\"ZXb/aWw=\", \"change\": \"added\", \"class\": \"drift\", "
			     "\"severity\": \"critical\", ");
	assert_contains(buf,
			"\"reason\": \"new account\", \"attributes\": [], \"props\": "
			"{\"shell\": \"/bin/sh\", \"uid\": \"0\"}, \"old\": null, \"new\": "
			"{\"props\": {\"shell\": \"/bin/sh\", \"uid\": \"0\"}, \"error\": null, "
			"\"errno\": null}}");
	/* Modified: the properties that changed, old and new, null on a missing side. */
	assert_contains(buf, "{\"kind\": \"package\", \"key\": \"bash:amd64\", \"change\": "
			     "\"modified\", ");
	assert_contains(buf,
			"\"reason\": \"version changed\", \"attributes\": [\"props\"], "
			"\"props\": {\"version\": {\"old\": \"5.2-1\", \"new\": \"5.2-2\"}}, "
			"\"old\": {\"props\": {\"arch\": \"amd64\", \"status\": \"installed\", "
			"\"version\": \"5.2-1\"}, \"error\": null, \"errno\": null}, ");
	assert_contains(buf, "\"attributes\": [\"props\"], \"props\": {\"gecos\": {\"old\": null, "
			     "\"new\": \"Caf\\\\xe9\", \"new_b64\": \"Q2Fm6Q==\"}, \"home\": "
			     "{\"old\": \"/var/www\", \"new\": null}, \"shell\": {\"old\": "
			     "\"/usr/sbin/nologin\", \"new\": \"/bin/bash\"}}, ");
	assert_contains(buf, "\"new\": {\"props\": {\"gecos\": \"Caf\\\\xe9\", \"shell\": "
			     "\"/bin/bash\", \"uid\": \"33\"}, \"props_b64\": {\"gecos\": "
			     "\"Q2Fm6Q==\"}, \"error\": null, \"errno\": null}}");
	/* Removed: the old side's props. An empty value is an empty string. */
	assert_contains(buf,
			"{\"kind\": \"package\", \"key\": \"oldpkg:amd64\", \"change\": "
			"\"removed\", \"class\": \"drift\", \"severity\": null, \"rule\": null, "
			"\"reason\": null, \"attributes\": [], \"props\": {\"version\": "
			"\"0.9\"}, \"old\": {\"props\": {\"version\": \"0.9\"}, \"error\": "
			"null, \"errno\": null}, \"new\": null}");
	assert_contains(buf, "\"props\": {\"process\": \"\", \"uid\": \"1000\"}, ");
	/* Package context: "package" or "unowned", after the reason. */
	assert_contains(buf, "\"path\": \"/usr/bin/hello\", \"change\": \"modified\", \"class\": "
			     "\"expected\", ");
	assert_contains(buf, "\"reason\": \"package hello upgraded 1.0-1 -> 1.1-1\", \"package\": "
			     "{\"name\": \"hello:amd64\", \"old_version\": \"1.0-1\", "
			     "\"new_version\": \"1.1-1\"}, \"attributes\": [\"hash\"], \"old\": "
			     "{\"type\": \"file\", ");
	assert_contains(buf, "\"reason\": \"not owned by any package\", \"unowned\": true, "
			     "\"attributes\": [], \"old\": null, ");
	assert_contains(buf,
			"\"path\": \"/usr/share/doc/hello/NEWS\", \"change\": \"removed\", "
			"\"class\": \"drift\", \"severity\": null, \"rule\": null, \"reason\": "
			"null, \"package\": {\"name\": \"hello:amd64\", \"old_version\": "
			"\"1.0-1\", \"new_version\": null}, \"attributes\": [], ");
	/* Files have no props; the unreadable probe entry has a key. */
	assert_null(strstr(buf, "\"kind\": \"file\", \"path\": \"/etc/hello.conf\", \"props\""));
	assert_contains(buf, "\n    {\"kind\": \"service\", \"key\": \"secret.service\", "
			     "\"error\": \"Permission denied\", \"errno\": 13}\n  ]\n}\n");
	free(buf);
}

static void test_json_verify_has_no_snapshots_and_md5_hashes(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	fx_meta_verify(&meta);
	buf = render(&meta, fx_add_verify, &len);
	fx_golden_check("verify.json", buf, len);
	assert_valid_json(buf, len);
	assert_contains(buf, "  \"command\": \"verify\",\n");
	assert_contains(buf,
			"  \"database\": \"/var/lib/dpkg\",\n  \"compare\": {\"all_changes\": "
			"false, \"hash_compared\": true},\n  \"old\": null,\n  \"new\": null,\n"
			"  \"policy\": {\"old\": {\"source\": null, \"digest\": null}, \"new\": "
			"{\"source\": null, \"digest\": null}, \"changed\": false},\n");
	assert_contains(buf, "\"entries_checked\": 12345},\n  \"notes\": [\"2 packages have no "
			     "MD5 sums: not verified\"],\n");
	assert_contains(buf, "\"hash\": \"d41d8cd98f00b204e9800998ecf8427e\", \"hash_algo\": "
			     "\"md5\"");
	free(buf);

	/* Clean: no notes member at all. */
	buf = render(&meta, fx_add_nothing, &len);
	assert_valid_json(buf, len);
	assert_null(strstr(buf, "\"notes\""));
	assert_contains(buf, "\"unreadable\": 0, \"entries_checked\": 12345},\n"
			     "  \"deviations\": [],\n");
	free(buf);
}

/* The validator knows the new members, and fails on them when they are wrong. */
static void test_json_validator_rejects_broken_system_documents(void **state)
{
	static const char *const breaks[][2] = {
		/* a props_b64 that is not the value's bytes */
		{ "\"gecos\": \"Q2Fm6Q==\"}", "\"gecos\": \"Q2Fm6R==\"}" },
		/* a key member on a file */
		{ "\"path\": \"/usr/bin/hello\"", "\"key\": \"/usr/bin/hello\"" },
		/* unowned must be true when present */
		{ "\"unowned\": true", "\"unowned\": 1234" },
		/* a package without a name */
		{ "{\"name\": \"hello:amd64\", \"old_version\": \"1.0-1\", \"new_version\": \"1.1-1\"}",
		  "{\"name\": null, \"old_version\": \"1.0-1\", \"new_version\": \"1.1-1\"}" },
		/* a changed property that did not change */
		{ "{\"old\": \"5.2-1\", \"new\": \"5.2-2\"}",
		  "{\"old\": \"5.2-2\", \"new\": \"5.2-2\"}" },
		/* notes must be strings */
		{ "\"notes\": [\"probe mount", "\"notes\": [1, \"probe mount" },
		/* other kinds after files, in kind order: swap a user and a package */
		{ "\"kind\": \"package\", \"key\": \"netcat:amd64\"",
		  "\"kind\": \"mount\", \"key\": \"netcat:amd64\"" },
	};
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	if (!have_python3())
		tap_skip("python3 is not installed");
	fx_meta_check(&meta);
	for (size_t i = 0; i < sizeof(breaks) / sizeof(breaks[0]); i++) {
		char *p, *doc;
		size_t a = strlen(breaks[i][0]), b = strlen(breaks[i][1]), off;

		buf = render(&meta, fx_add_system, &len);
		assert_int_equal(run_on("python3 '" VALIDATE_JSON "'", "", buf, len), 0);
		p = strstr(buf, breaks[i][0]);
		if (!p)
			print_error("fixture lacks [%s]\n", breaks[i][0]);
		assert_non_null(p);
		off = (size_t)(p - buf);
		doc = malloc(len - a + b + 1);
		assert_non_null(doc);
		memcpy(doc, buf, off);
		memcpy(doc + off, breaks[i][1], b);
		memcpy(doc + off + b, p + a, len - off - a + 1);
		if (run_on("python3 '" VALIDATE_JSON "'", "2>/dev/null", doc, len - a + b) == 0) {
			print_error("validator accepted break %zu\n", i);
			fail();
		}
		free(doc);
		free(buf);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_clean_check_is_valid_with_empty_arrays),
		cmocka_unit_test(test_json_compare_says_whether_contents_were_compared),
		cmocka_unit_test(test_json_snapshot_objects_have_every_member),
		cmocka_unit_test(test_json_mixed_check_has_every_change_and_attribute),
		cmocka_unit_test(test_json_weird_names_are_lossless),
		cmocka_unit_test(
			test_json_classified_carries_verdicts_policy_and_optional_attributes),
		cmocka_unit_test(test_json_long_path_is_lossless),
		cmocka_unit_test(test_json_device_numbers_are_strings_or_null),
		cmocka_unit_test(test_json_unreadable_only),
		cmocka_unit_test(test_json_validator_rejects_broken_documents),
		cmocka_unit_test(test_json_system_entries_carry_keys_props_owner_and_notes),
		cmocka_unit_test(test_json_verify_has_no_snapshots_and_md5_hashes),
		cmocka_unit_test(test_json_validator_rejects_broken_system_documents),
	};
	return tap_run_group_tests_name("report/json", tests, NULL, NULL);
}
