/*
 * Report fixtures: snapshots and deviations built by hand (the tests need
 * no database), a renderer into memory, and golden-file comparison with an
 * update mode (DRIFT_UPDATE_GOLDEN=1).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/report/fixture.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"

#ifndef GOLDEN_DIR
#error "GOLDEN_DIR must name tests/golden (set in tests/report/meson.build)"
#endif

#define SEC INT64_C(1000000000)

/* ---- snapshots ---- */

/* snap_info holds char *, so the strings are arrays rather than literals. */
static char s_etc[] = "/etc", s_usr_bin[] = "/usr/bin", s_cache[] = "/etc/*.cache",
	    s_swp[] = "*.swp", s_srv[] = "/srv",
	    s_opt[] = "/opt/\xff"
		      "data";
static char s_baseline[] = "baseline", s_check[] = "check-20261126T031500Z", s_pre[] = "pre";
static char s_web1[] = "web1.example.org", s_db1[] = "db\"1\"", s_v010[] = "0.1.0",
	    s_v020[] = "0.2.0";
static char *baseline_roots[] = { s_etc, s_usr_bin, NULL };
static char *baseline_excludes[] = { s_cache, s_swp, NULL };
static char *pre_roots[] = { s_srv, s_opt, NULL };
static char *no_strings[] = { NULL };

const struct snap_info fx_baseline = {
	.id = 1,
	.label = s_baseline,
	.purpose = SNAP_PURPOSE_BASELINE,
	.is_baseline = true,
	.complete = true,
	.host = s_web1,
	.version = s_v010,
	.roots = baseline_roots,
	.nroots = 2,
	.excludes = baseline_excludes,
	.nexcludes = 2,
	.hash = HASH_XXH3_128,
	.started_ns = 1795619402 * SEC + 500000000,
	.finished_ns = 1795619405 * SEC + 1,
	.entries = 1230,
	.errors = 0,
};

const struct snap_info fx_check = {
	.id = 7,
	.label = s_check,
	.purpose = SNAP_PURPOSE_CHECK,
	.complete = true,
	.host = s_web1,
	.version = s_v010,
	.roots = baseline_roots,
	.nroots = 2,
	.excludes = baseline_excludes,
	.nexcludes = 2,
	.hash = HASH_XXH3_128,
	.started_ns = 1795662900 * SEC + 250000000,
	.finished_ns = 1795662942 * SEC + 999999999,
	.entries = 1234,
	.errors = 2,
};

const struct snap_info fx_pre = {
	.id = 2,
	.label = s_pre,
	.purpose = SNAP_PURPOSE_SCAN,
	.complete = true,
	.host = s_db1,
	.version = s_v010,
	.roots = pre_roots,
	.nroots = 2,
	.excludes = no_strings,
	.nexcludes = 0,
	.hash = HASH_XXH3_128,
	.started_ns = 1795165200 * SEC,
	.finished_ns = 1795165200 * SEC + 42,
	.entries = 12,
	.errors = 0,
};

/* No label and not complete: the JSON shows two nulls, the text "#3 (...)". */
const struct snap_info fx_post = {
	.id = 3,
	.label = NULL,
	.purpose = SNAP_PURPOSE_SCAN,
	.complete = false,
	.host = s_db1,
	.version = s_v020,
	.roots = pre_roots,
	.nroots = 2,
	.excludes = NULL,
	.nexcludes = 0,
	.hash = HASH_NONE,
	.started_ns = 1795253400 * SEC,
	.finished_ns = 0,
	.entries = 13,
	.errors = 1,
};

void fx_meta_check(struct report_meta *ret_meta)
{
	*ret_meta = (struct report_meta){
		.command = "check",
		.database = "/var/lib/drift/drift.db",
		.before = &fx_baseline,
		.after = &fx_check,
		.compare_flags = 0,
		.color = false,
		.generated_ns = 1795662943 * SEC + 123456789,
		.tool_version = "0.1.0-test",
	};
}

void fx_meta_diff(struct report_meta *ret_meta)
{
	*ret_meta = (struct report_meta){
		.command = "diff",
		.database = "/home/ops/drift \"test\".db",
		.before = &fx_pre,
		.after = &fx_post,
		.compare_flags = SNAP_COMPARE_ALL,
		.color = false,
		.generated_ns = -1, /* 1969-12-31T23:59:59.999999999Z, for the fun of it */
		.tool_version = "0.1.0-test",
	};
}

/* ---- entries ---- */

static const uint8_t hash_a[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				    0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const uint8_t hash_b[16] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67,
				    0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98 };

/* A regular file 0644 root:root with hash_a; callers adjust what they need. */
static struct entry file_entry(const char *key)
{
	struct entry e = {
		.kind = ENTRY_FILE,
		.key = key,
		.key_len = strlen(key),
		.mode = S_IFREG | 0644,
		.uid = 0,
		.gid = 0,
		.size = 1024,
		.mtime_ns = 1795165200 * SEC + 123456789,
		.ctime_ns = 1795165200 * SEC + 123456789,
		.ino = 131075,
		.dev = 2049,
		.nlink = 1,
		.hash_algo = HASH_XXH3_128,
		.hash_len = 16,
	};
	memcpy(e.hash, hash_a, 16);
	return e;
}

/* Keys with NUL-free bytes but possibly not NUL-terminated where they end. */
static struct entry bytes_entry(const char *key, size_t len)
{
	struct entry e = file_entry("");

	e.key = key;
	e.key_len = len;
	return e;
}

static struct entry special_entry(const char *key, uint32_t type, uint32_t perm)
{
	struct entry e = file_entry(key);

	e.mode = type | perm;
	e.size = type == S_IFDIR ? 4096 : 0;
	e.hash_algo = HASH_NONE;
	e.hash_len = 0;
	memset(e.hash, 0, sizeof(e.hash));
	return e;
}

static struct entry symlink_entry(const char *key, const char *target, size_t target_len)
{
	struct entry e = special_entry(key, S_IFLNK, 0777);

	e.target = target;
	e.target_len = target_len;
	e.size = target_len;
	return e;
}

/* Add a deviation unless an earlier step failed (*r keeps the first error). */
static void add(struct report *rep, int *r, enum change change, const struct entry *old,
		const struct entry *new, uint32_t attrs)
{
	const struct deviation d = {
		.change = change, .before = old, .after = new, .attrs = attrs
	};

	if (*r == 0)
		*r = fx_add(rep, &d);
}

static void add_error(struct report *rep, int *r, const struct entry *e)
{
	if (*r == 0)
		*r = report_add_error(rep, e);
}

int fx_add_nothing(struct report *rep)
{
	(void)rep;
	return 0;
}

int fx_add_one(struct report *rep)
{
	struct entry e = file_entry("/etc/issue");
	int r = 0;

	add(rep, &r, CHANGE_REMOVED, &e, NULL, 0);
	return r;
}

int fx_add_unreadable_only(struct report *rep)
{
	struct entry e = file_entry("/etc/shadow");

	e.err = EACCES;
	e.hash_algo = HASH_NONE;
	e.hash_len = 0;
	return report_add_error(rep, &e);
}

/*
 * In key order, interleaving the changes as compare does:
 *   added:      /etc/cron.d/backup, /etc/cron.daily (dir), /etc/fifo (fifo), /etc/motd (symlink)
 *   removed:    /etc/issue, /etc/run.sock (socket)
 *   modified:   /etc/group (uid, gid), /etc/hosts (size, mtime, ctime, hash),
 *               /etc/localtime (target), /etc/null (rdev: c 1,3 -> c 1,1),
 *               /etc/passwd (mode, inode, device, nlink),
 *               /etc/rc.local (type, mode, size, target, hash), /etc/shadow (error),
 *               /etc/sticky (mode 1777), /etc/sudoers (mode 4755, hash, changed while read)
 *   unreadable: /etc/shadow (EACCES), /etc/vanished (EIO)
 */
int fx_add_mixed(struct report *rep)
{
	struct entry o, n;
	int r = 0;

	n = file_entry("/etc/cron.d/backup");
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	n = special_entry("/etc/cron.daily", S_IFDIR, 0755);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	n = special_entry("/etc/fifo", S_IFIFO, 0600);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	o = file_entry("/etc/group");
	n = o;
	n.uid = 1000;
	n.gid = 42;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_UID | ATTR_GID);

	o = file_entry("/etc/hosts");
	n = o;
	n.size = 18446744073709551615u;
	n.mtime_ns = 1795619402 * SEC + 1;
	n.ctime_ns = 1795619402 * SEC + 100000000;
	memcpy(n.hash, hash_b, 16);
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_HASH);

	o = file_entry("/etc/issue");
	add(rep, &r, CHANGE_REMOVED, &o, NULL, 0);

	o = symlink_entry("/etc/localtime", "/usr/share/zoneinfo/UTC", 23);
	n = symlink_entry("/etc/localtime", "/usr/share/zoneinfo/Europe/Paris", 32);
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_TARGET);

	n = symlink_entry("/etc/motd", "/run/motd.dynamic", 17);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	o = special_entry("/etc/null", S_IFCHR, 0666);
	o.rdev = makedev(1, 3);
	n = o;
	n.rdev = makedev(1, 1);
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_RDEV);

	o = file_entry("/etc/passwd");
	n = o;
	n.mode = S_IFREG | 0600;
	n.ino = 18446744073709551557u; /* above 2^53: a string in JSON */
	n.dev = 66306;
	n.nlink = 2;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MODE | ATTR_INODE | ATTR_DEVICE | ATTR_NLINK);

	o = file_entry("/etc/rc.local");
	o.mode = S_IFREG | 0755;
	n = symlink_entry("/etc/rc.local", "/bin/true", 9);
	add(rep, &r, CHANGE_MODIFIED, &o, &n,
	    ATTR_TYPE | ATTR_MODE | ATTR_SIZE | ATTR_TARGET | ATTR_HASH);

	o = special_entry("/etc/run.sock", S_IFSOCK, 0666);
	add(rep, &r, CHANGE_REMOVED, &o, NULL, 0);

	o = file_entry("/etc/shadow");
	o.mode = S_IFREG | 0640;
	n = o;
	n.err = EACCES;
	n.hash_algo = HASH_NONE;
	n.hash_len = 0;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_ERROR);
	add_error(rep, &r, &n);

	o = special_entry("/etc/sticky", S_IFDIR, 0755);
	n = special_entry("/etc/sticky", S_IFDIR, 01777);
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MODE);

	o = file_entry("/etc/sudoers");
	o.mode = S_IFREG | 0440;
	n = o;
	n.mode = S_IFREG | 04755;
	memcpy(n.hash, hash_b, 16);
	n.flags = ENTRY_CHANGED_WHILE_READ;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MODE | ATTR_HASH);

	n = file_entry("/etc/vanished");
	n.err = EIO;
	n.hash_algo = HASH_NONE;
	n.hash_len = 0;
	add_error(rep, &r, &n);
	return r;
}

/*
 * Names that must never reach a terminal or a JSON parser raw. Keys are
 * given with explicit lengths and are not NUL-terminated at key_len.
 */
int fx_add_weird(struct report *rep)
{
	static const char names[] = "/srv/a\nb"         /* 0..8: newline */
				    "/srv/back\\slash"  /* 8..23: backslash */
				    "/srv/bell\x01"     /* 23..33: control byte */
				    "/srv/caf\xc3\xa9"; /* 33..43: valid UTF-8 */
	static const char target_bad[] = "\xff\xfe/target\nx";
	static const char target_old[] = "old\xff";
	static const char target_new[] = "new \"quoted\"";
	struct entry o, n;
	int r = 0;

	n = bytes_entry(names, 8);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	n = bytes_entry(names + 8, 15);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	o = bytes_entry(names + 23, 10);
	add(rep, &r, CHANGE_REMOVED, &o, NULL, 0);

	o = bytes_entry(names + 33, 10);
	n = o;
	n.mode = S_IFREG | 0600;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MODE);

	n = file_entry("/srv/del\x7f");
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	o = file_entry("/srv/latin1-\xff\xfe");
	n = o;
	memcpy(n.hash, hash_b, 16);
	n.flags = ENTRY_CHANGED_WHILE_READ;
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_HASH);

	n = symlink_entry("/srv/link", target_bad, sizeof(target_bad) - 1);
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	o = symlink_entry("/srv/link2", target_old, sizeof(target_old) - 1);
	n = symlink_entry("/srv/link2", target_new, sizeof(target_new) - 1);
	add(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_TARGET);

	o = file_entry("/srv/nel\xc2\x85"); /* U+0085, a C1 control */
	add(rep, &r, CHANGE_REMOVED, &o, NULL, 0);

	n = file_entry("/srv/quote\"");
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	n = file_entry("/srv/tab\tname");
	n.flags = ENTRY_CHANGED_WHILE_READ;
	add(rep, &r, CHANGE_ADDED, NULL, &n, 0);

	n = file_entry("/srv/unreadable\xff");
	n.err = EACCES;
	add_error(rep, &r, &n);
	return r;
}

/* ---- classified ---- */

static char s_digest_old[] = "0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd0123abcd";
static char s_digest_new[] = "fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876fedc9876";
static char s_policy_path[] = "/etc/drift/policy.yaml";
static struct snap_info policy_baseline, policy_check;

void fx_meta_check_policy(struct report_meta *ret_meta)
{
	fx_meta_check(ret_meta);
	policy_baseline = fx_baseline;
	policy_baseline.policy_digest = s_digest_old;
	policy_baseline.policy_source = s_policy_path;
	policy_check = fx_check;
	policy_check.policy_digest = s_digest_new;
	policy_check.policy_source = s_policy_path;
	ret_meta->before = &policy_baseline;
	ret_meta->after = &policy_check;
}

static void add_v(struct report *rep, int *r, enum change change, const struct entry *old,
		  const struct entry *new, uint32_t attrs, const struct fx_verdict *v)
{
	const struct deviation d = {
		.change = change, .before = old, .after = new, .attrs = attrs
	};

	if (*r == 0)
		*r = fx_add_verdict(rep, &d, v);
}

static struct fx_verdict verdict(const char *class_name, unsigned rank, const char *rule_id,
				 const char *reason, uint32_t attrs)
{
	static const char *const names[] = { "info", "low", "medium", "high", "critical" };

	return (struct fx_verdict){
		.class_name = class_name,
		.counts = strcmp(class_name, "expected") != 0,
		.severity_name = names[rank],
		.severity_rank = rank,
		.rule_id = rule_id,
		.rule_title = rule_id ? "A rule" : NULL,
		.rule_file = rule_id ? "/etc/drift/policy.yaml" : NULL,
		.rule_line = rule_id ? 12 : 0,
		.reason = reason,
		.attrs = attrs,
	};
}

/* xattrs blobs: old has user.a="1", user.bin=<00 ff>, user.gone="x";
 * new has user.a="2", user.bin=<00 ff>, user.new=<long>. */
static uint8_t xattrs_old[64], xattrs_new[160];
static size_t xattrs_old_len, xattrs_new_len;

static void make_xattrs(void)
{
	static const uint8_t bin[] = { 0x00, 0xff };
	uint8_t big[80];
	uint8_t *p;

	memset(big, 'v', sizeof(big));
	p = xattrs_old;
	p += entry_xattrs_put(p, "user.a", 6, (const uint8_t *)"1", 1);
	p += entry_xattrs_put(p, "user.bin", 8, bin, 2);
	p += entry_xattrs_put(p, "user.gone", 9, (const uint8_t *)"x", 1);
	xattrs_old_len = (size_t)(p - xattrs_old);
	p = xattrs_new;
	p += entry_xattrs_put(p, "user.a", 6, (const uint8_t *)"2", 1);
	p += entry_xattrs_put(p, "user.bin", 8, bin, 2);
	p += entry_xattrs_put(p, "user.new\n", 9, big, sizeof(big));
	xattrs_new_len = (size_t)(p - xattrs_new);
	assert_int_equal(entry_xattrs_check(xattrs_old, xattrs_old_len), 0);
	assert_int_equal(entry_xattrs_check(xattrs_new, xattrs_new_len), 0);
}

/*
 * In key order:
 *   /etc/cron.d/job   added      high      [etc] new file
 *   /etc/hosts        modified   expected  [etc-volatile] (mtime only)
 *   /etc/motd         modified   no verdict (size)
 *   /etc/old          removed    medium    [etc] no reason
 *   /usr/bin/ping     modified   critical  [bin] caps, xattrs, acl, selinux, mime
 *   /usr/bin/su       modified   critical  [bin] mode, hash, but only mode matters
 *   /usr/lib/x.so     modified   low       no rule
 *   /var/log/syslog   modified   expected  [logs] grew
 *   /var/tmp/f        added      info      [tmp]
 *   unreadable: /var/log/secret (EACCES)
 */
int fx_add_classified(struct report *rep)
{
	struct fx_verdict v;
	struct entry o, n;
	int r = 0;

	make_xattrs();

	n = file_entry("/etc/cron.d/job");
	v = verdict("drift", 3, "etc", "new file", 0);
	add_v(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v);

	o = file_entry("/etc/hosts");
	n = o;
	n.mtime_ns += SEC;
	v = verdict("expected", 3, "etc-volatile", "mtime may change", ATTR_MTIME);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MTIME, &v);

	o = file_entry("/etc/motd");
	n = o;
	n.size = 2048;
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_SIZE, NULL);

	o = special_entry("/etc/old", S_IFDIR, 0755);
	v = verdict("drift", 2, "etc", NULL, 0);
	add_v(rep, &r, CHANGE_REMOVED, &o, NULL, 0, &v);

	o = file_entry("/usr/bin/ping");
	o.collected = ATTR_OPTIONAL;
	o.xattrs = xattrs_old;
	o.xattrs_len = xattrs_old_len;
	o.acl = NULL;
	o.caps = NULL;
	o.selinux = "system_u:object_r:bin_t:s0";
	o.mime = "application/x-pie-executable";
	n = o;
	n.xattrs = xattrs_new;
	n.xattrs_len = xattrs_new_len;
	n.acl = "u::rwx,u:1000:rwx,g::r-x,m::rwx,o::r-x";
	n.caps = "cap_net_raw=ep";
	n.selinux = "unconfined_u:object_r:user_home_t:s0";
	n.mime = "text/x-shellscript";
	v = verdict("drift", 4, "bin", "capabilities changed",
		    ATTR_XATTRS | ATTR_ACL | ATTR_CAPS | ATTR_SELINUX | ATTR_MIME);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, v.attrs, &v);

	o = file_entry("/usr/bin/su");
	o.mode = S_IFREG | 0755;
	n = o;
	n.mode = S_IFREG | 04755;
	memcpy(n.hash, hash_b, 16);
	v = verdict("drift", 4, "bin", "setuid bit set", ATTR_MODE);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_MODE | ATTR_HASH, &v);

	o = file_entry("/usr/lib/x.so");
	n = o;
	n.uid = 7;
	v = verdict("drift", 1, NULL, "owner changed", ATTR_UID);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_UID, &v);

	o = file_entry("/var/log/syslog");
	n = o;
	n.size = 4096;
	n.mtime_ns += SEC;
	v = verdict("expected", 0, "logs", "grew", ATTR_SIZE | ATTR_MTIME);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MTIME, &v);

	n = file_entry("/var/log/secret");
	n.err = EACCES;
	add_error(rep, &r, &n);

	n = file_entry("/var/tmp/f");
	v = verdict("drift", 0, "tmp", NULL, 0);
	v.rule_title = NULL;
	v.rule_file = NULL;
	v.rule_line = 0;
	add_v(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v);
	return r;
}

/* ---- rendering and golden files ---- */

int fx_render(enum report_format format, const struct report_meta *meta, fx_add_fn *addfn,
	      char **ret_buf, size_t *ret_len)
{
	struct diag diag = { 0 };
	struct report *rep = NULL;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int r;

	f = open_memstream(&buf, &len);
	assert_non_null(f);
	r = report_new(format, f, meta, &rep, &diag);
	if (r < 0)
		goto out;
	r = addfn(rep);
	if (r < 0)
		goto out;
	r = report_finish(rep, &diag);
out:
	report_free(rep);
	assert_int_equal(fclose(f), 0);
	if (r < 0) {
		print_error("render failed: %d %s\n", r, diag.msg);
		free(buf);
		return r;
	}
	*ret_buf = buf;
	*ret_len = len;
	return 0;
}

static char *golden_path(const char *name)
{
	size_t n = strlen(GOLDEN_DIR) + strlen(name) + 2;
	char *p = malloc(n);

	assert_non_null(p);
	snprintf(p, n, "%s/%s", GOLDEN_DIR, name);
	return p;
}

/* CI is set (GitHub, GitLab and .ci/run set CI=true), and not to "false" or "0". */
static bool in_ci(void)
{
	const char *ci = getenv("CI");

	return ci && *ci && strcmp(ci, "false") != 0 && strcmp(ci, "0") != 0;
}

void fx_golden_check(const char *name, const char *buf, size_t len)
{
	const char *update = getenv("DRIFT_UPDATE_GOLDEN");
	char *path = golden_path(name);
	char *want = NULL;
	size_t want_len = 0, i;
	FILE *f;

	/* A golden test that rewrites its file passes whatever it got: never in CI. */
	if (update && *update && in_ci()) {
		print_error("DRIFT_UPDATE_GOLDEN=%s under CI=%s: refusing to rewrite %s; "
			    "CI compares, it does not update\n",
			    update, getenv("CI"), path);
		free(path);
		fail();
	}
	if (update && !strcmp(update, "1")) {
		f = fopen(path, "w");
		assert_non_null(f);
		assert_int_equal(fwrite(buf, 1, len, f), len);
		assert_int_equal(fclose(f), 0);
		free(path);
		return;
	}

	f = fopen(path, "r");
	if (!f) {
		print_error("missing golden file %s (DRIFT_UPDATE_GOLDEN=1 writes it)\n", path);
		free(path);
		fail();
	}
	{
		char chunk[4096];
		size_t n;
		FILE *m = open_memstream(&want, &want_len);

		assert_non_null(m);
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			assert_int_equal(fwrite(chunk, 1, n, m), n);
		assert_int_equal(fclose(m), 0);
	}
	fclose(f);

	for (i = 0; i < len && i < want_len && buf[i] == want[i]; i++)
		;
	if (i != len || i != want_len) {
		size_t line = 1;

		for (size_t k = 0; k < i && k < len; k++)
			line += buf[k] == '\n';
		print_error("%s differs at byte %zu (line %zu); got %zu bytes, want %zu\n"
			    "--- got:\n%s\n--- (DRIFT_UPDATE_GOLDEN=1 rewrites the file)\n",
			    path, i, line, len, want_len, buf);
		free(want);
		free(path);
		fail();
	}
	free(want);
	free(path);
}

char *fx_write_temp(const char *buf, size_t len)
{
	char *path = strdup("/tmp/drift-report-test-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
	return path;
}

bool fx_under_asan(void)
{
#if defined(__SANITIZE_ADDRESS__)
	return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
	return true;
#else
	return false;
#endif
#else
	return false;
#endif
}

/* ---- system state, package attribution, notes ---- */

/*
 * An entry of another kind than a file, with properties from @kv (name,
 * value pairs, NULL-terminated; a value may hold any byte but NUL) encoded
 * into @blob, which must stay alive as long as the entry.
 */
static struct entry probe_entry(enum entry_kind kind, const char *key, size_t key_len,
				struct strbuf *blob, const char *const *kv)
{
	struct entry_prop props[8];
	size_t n = 0;
	struct entry e = { .kind = kind, .key = key, .key_len = key_len };

	for (; kv[2 * n]; n++) {
		assert_true(n < 8);
		props[n] = (struct entry_prop){ .name = kv[2 * n],
						.value = kv[2 * n + 1],
						.value_len = strlen(kv[2 * n + 1]) };
	}
	assert_int_equal(entry_props_encode(blob, props, n), 0);
	e.props = (const uint8_t *)blob->buf;
	e.props_len = blob->len;
	return e;
}

static void add_o(struct report *rep, int *r, enum change change, const struct entry *old,
		  const struct entry *new, uint32_t attrs, const struct fx_verdict *v,
		  const struct fx_owner *owner)
{
	const struct deviation d = {
		.change = change, .before = old, .after = new, .attrs = attrs
	};

	if (*r == 0)
		*r = fx_add_attributed(rep, &d, v, owner);
}

static int add_note(struct report *rep, int r, const char *text)
{
	return r == 0 ? report_add_note(rep, text) : r;
}

#define KEY(s) (s), sizeof(s) - 1

/*
 * In (kind, key) order:
 *   file    /etc/hello.conf              modified  low       [conf] locally modified configuration
 *                                                  (package hello:amd64 1.1-1)
 *   file    /usr/bin/hello               modified  expected  [packages] package hello upgraded
 *                                                  (hello:amd64 1.0-1 -> 1.1-1)
 *   file    /usr/local/sbin/backdoor     added     high      [sbin] not owned by any package
 *                                                  (unowned)
 *   file    /usr/share/doc/hello/NEWS    removed   no verdict (hello:amd64 1.0-1, gone in 1.1-1)
 *   package bash:amd64                   modified  info      [packages] version
 *   package hello:amd64                  modified  expected  [packages] upgraded
 *   package netcat:amd64                 added     high      [packages] new package
 *   package oldpkg:amd64                 removed   no verdict
 *   user    ev\xffil                     added     critical  [users] new account
 *   user    olduser                      removed   medium    [users]
 *   user    www-data                     modified  high      [users] shell, gecos (invalid UTF-8)
 *   port    tcp/0.0.0.0:8080             added     high      [ports] (empty "process")
 *   unreadable: file /etc/shadow, service secret.service
 *   notes: three
 */
int fx_add_system(struct report *rep)
{
	struct strbuf b1 = STRBUF_INIT, b2 = STRBUF_INIT;
	struct fx_verdict v;
	struct fx_owner owner;
	struct entry o, n;
	int r = 0;

	o = file_entry("/etc/hello.conf");
	n = o;
	n.size = 2048;
	memcpy(n.hash, hash_b, 16);
	v = verdict("drift", 1, "conf", "locally modified configuration", ATTR_SIZE | ATTR_HASH);
	owner = (struct fx_owner){ .package = "hello:amd64",
				   .old_version = "1.1-1",
				   .new_version = "1.1-1" };
	add_o(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_HASH, &v, &owner);

	o = file_entry("/usr/bin/hello");
	o.mode = S_IFREG | 0755;
	n = o;
	memcpy(n.hash, hash_b, 16);
	v = verdict("expected", 0, "packages", "package hello upgraded 1.0-1 -> 1.1-1", ATTR_HASH);
	owner = (struct fx_owner){ .package = "hello:amd64",
				   .old_version = "1.0-1",
				   .new_version = "1.1-1" };
	add_o(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_HASH, &v, &owner);

	n = file_entry("/usr/local/sbin/backdoor");
	n.mode = S_IFREG | 04755;
	v = verdict("drift", 3, "sbin", "not owned by any package", 0);
	owner = (struct fx_owner){ .unowned = true };
	add_o(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v, &owner);

	o = file_entry("/usr/share/doc/hello/NEWS");
	owner = (struct fx_owner){ .package = "hello:amd64", .old_version = "1.0-1" };
	add_o(rep, &r, CHANGE_REMOVED, &o, NULL, 0, NULL, &owner);

	o = probe_entry(ENTRY_PACKAGE, KEY("bash:amd64"), &b1,
			(const char *const[]){ "version", "5.2-1", "status", "installed", "arch",
					       "amd64", NULL });
	n = probe_entry(ENTRY_PACKAGE, KEY("bash:amd64"), &b2,
			(const char *const[]){ "version", "5.2-2", "status", "installed", "arch",
					       "amd64", NULL });
	v = verdict("drift", 0, "packages", "version changed", ATTR_PROPS);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_PROPS, &v);

	o = probe_entry(ENTRY_PACKAGE, KEY("hello:amd64"), &b1,
			(const char *const[]){ "version", "1.0-1", "status", "installed", NULL });
	n = probe_entry(ENTRY_PACKAGE, KEY("hello:amd64"), &b2,
			(const char *const[]){ "version", "1.1-1", "status", "installed", NULL });
	v = verdict("expected", 0, "packages", "upgraded by apt", ATTR_PROPS);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_PROPS, &v);

	n = probe_entry(ENTRY_PACKAGE, KEY("netcat:amd64"), &b2,
			(const char *const[]){ "version", "1.10-47", "status", "installed", NULL });
	v = verdict("drift", 3, "packages", "new package", 0);
	add_v(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v);

	o = probe_entry(ENTRY_PACKAGE, KEY("oldpkg:amd64"), &b1,
			(const char *const[]){ "version", "0.9", NULL });
	add_v(rep, &r, CHANGE_REMOVED, &o, NULL, 0, NULL);

	n = probe_entry(ENTRY_USER, KEY("ev\xffil"), &b2,
			(const char *const[]){ "uid", "0", "shell", "/bin/sh", NULL });
	v = verdict("drift", 4, "users", "new account", 0);
	add_v(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v);

	o = probe_entry(ENTRY_USER, KEY("olduser"), &b1,
			(const char *const[]){ "uid", "1001", "shell", "/bin/bash", NULL });
	v = verdict("drift", 2, "users", NULL, 0);
	add_v(rep, &r, CHANGE_REMOVED, &o, NULL, 0, &v);

	o = probe_entry(ENTRY_USER, KEY("www-data"), &b1,
			(const char *const[]){ "uid", "33", "home", "/var/www", "shell",
					       "/usr/sbin/nologin", NULL });
	n = probe_entry(ENTRY_USER, KEY("www-data"), &b2,
			(const char *const[]){ "uid", "33", "gecos", "Caf\xe9", "shell",
					       "/bin/bash", NULL });
	v = verdict("drift", 3, "users", "login shell for a service account", ATTR_PROPS);
	add_v(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_PROPS, &v);

	n = probe_entry(ENTRY_PORT, KEY("tcp/0.0.0.0:8080"), &b2,
			(const char *const[]){ "process", "", "uid", "1000", NULL });
	v = verdict("drift", 3, "ports", "new listening socket", 0);
	add_v(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v);

	n = file_entry("/etc/shadow");
	n.err = EACCES;
	add_error(rep, &r, &n);
	n = probe_entry(ENTRY_SERVICE, KEY("secret.service"), &b2, (const char *const[]){ NULL });
	n.err = EACCES;
	add_error(rep, &r, &n);

	r = add_note(rep, r, "probe mount unavailable under /mnt/img");
	r = add_note(rep, r, "3 findings in etc/passwd (see stderr)");
	r = add_note(rep, r, "baseline has no package data for 2 packages");
	strbuf_release(&b1);
	strbuf_release(&b2);
	return r;
}

void fx_meta_verify(struct report_meta *ret_meta)
{
	*ret_meta = (struct report_meta){
		.command = "verify",
		.database = "/var/lib/dpkg",
		.before = NULL,
		.after = NULL,
		.compare_flags = 0,
		.color = false,
		.generated_ns = 1795662943 * SEC + 123456789,
		.tool_version = "0.1.0-test",
		.checked = 12345,
	};
}

static const uint8_t md5_a[16] = { 0xd4, 0x1d, 0x8c, 0xd9, 0x8f, 0x00, 0xb2, 0x04,
				   0xe9, 0x80, 0x09, 0x98, 0xec, 0xf8, 0x42, 0x7e };
static const uint8_t md5_b[16] = { 0x09, 0x8f, 0x6b, 0xcd, 0x46, 0x21, 0xd3, 0x73,
				   0xca, 0xde, 0x4e, 0x83, 0x26, 0x27, 0xb4, 0xf6 };

/* A file as verify sees it: the package's MD5 (old) or the file's (new). */
static struct entry md5_entry(const char *key, const uint8_t md5[16])
{
	struct entry e = file_entry(key);

	e.hash_algo = HASH_MD5;
	memcpy(e.hash, md5, 16);
	return e;
}

/*
 *   /etc/hello.conf      modified (hash)  low       locally modified configuration
 *   /usr/bin/hello       modified (hash)  critical  content differs from the package
 *   /usr/lib/hello/x.so  removed          high      missing
 *   /usr/sbin/tool       added            medium    unowned
 *   note: one
 */
int fx_add_verify(struct report *rep)
{
	struct fx_verdict v;
	struct fx_owner owner = { .package = "hello:amd64",
				  .old_version = "1.1-1",
				  .new_version = "1.1-1" };
	struct entry o, n;
	int r = 0;

	o = md5_entry("/etc/hello.conf", md5_a);
	n = md5_entry("/etc/hello.conf", md5_b);
	v = verdict("drift", 1, NULL, "locally modified configuration", ATTR_HASH);
	add_o(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_HASH, &v, &owner);

	o = md5_entry("/usr/bin/hello", md5_a);
	n = md5_entry("/usr/bin/hello", md5_b);
	v = verdict("drift", 4, NULL, "content differs from the package", ATTR_HASH);
	add_o(rep, &r, CHANGE_MODIFIED, &o, &n, ATTR_HASH, &v, &owner);

	o = md5_entry("/usr/lib/hello/x.so", md5_a);
	v = verdict("drift", 3, NULL, "missing", 0);
	add_o(rep, &r, CHANGE_REMOVED, &o, NULL, 0, &v, &owner);

	n = md5_entry("/usr/sbin/tool", md5_b);
	v = verdict("drift", 2, NULL, "not owned by any package", 0);
	owner = (struct fx_owner){ .unowned = true };
	add_o(rep, &r, CHANGE_ADDED, NULL, &n, 0, &v, &owner);

	return add_note(rep, r, "2 packages have no MD5 sums: not verified");
}

int fx_add_attributed(struct report *rep, const struct deviation *d, const struct fx_verdict *v,
		      const struct fx_owner *o)
{
	struct finding f = { .change = d->change,
			     .before = d->before,
			     .after = d->after,
			     .changed = d->attrs,
			     .attrs = d->attrs,
			     .counts = true };

	if (v) {
		enum verdict_class cls = (enum verdict_class)CLASS__COUNT; /* invalid */

		if (v->class_name)
			(void)class_from_name(v->class_name, &cls);
		f.judged = true;
		f.class = cls;
		f.severity = (enum severity)v->severity_rank;
		if (v->severity_name && strcmp(v->severity_name, severity_name(f.severity)))
			f.severity =
				(enum severity)SEVERITY__COUNT; /* a name that is not the rank's */
		f.counts = v->counts;
		f.rule_id = v->rule_id;
		f.rule_title = v->rule_title;
		f.rule_file = v->rule_file;
		f.rule_line = v->rule_line;
		f.reason = v->reason;
		f.attrs = v->attrs;
	}
	if (o) {
		f.package.name = o->package;
		f.package.before_version = o->old_version;
		f.package.after_version = o->new_version;
		f.package.unowned = o->unowned;
	}
	return report_add_finding(rep, &f);
}

int fx_add_verdict(struct report *rep, const struct deviation *d, const struct fx_verdict *v)
{
	return fx_add_attributed(rep, d, v, NULL);
}

int fx_add(struct report *rep, const struct deviation *d)
{
	return fx_add_verdict(rep, d, NULL);
}

int fx_add_cb(const struct deviation *d, void *userdata)
{
	return fx_add(userdata, d);
}
