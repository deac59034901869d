#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/rules.h"

#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "common/diag.h"
#include "common/strbuf.h"

static const char policy[] = "rules:\n"
			     "  - {id: etc, path: /etc, severity: high}\n"
			     "  - id: vol\n"
			     "    path: /etc/resolv.conf\n"
			     "    expect: [hash, size, mtime]\n"
			     "    severity: high\n"
			     "  - id: perm\n"
			     "    path: /srv\n"
			     "    check: perms\n"
			     "    ignore: [gid]\n"
			     "    severity: low\n"
			     "    when_added: info\n"
			     "  - {id: log, path: /var/log, check: log, severity: low}\n"
			     "  - id: grow\n"
			     "    path: /var/log/grow\n"
			     "    expect: [grow]\n"
			     "    severity: medium\n"
			     "  - id: bin\n"
			     "    path: /usr/bin\n"
			     "    severity: critical\n"
			     "    magic: true\n"
			     "  - {id: low, path: /opt, severity: low, magic: true}\n"
			     "  - {id: home, path: /home, check: all, severity: low}\n"
			     /* System state. */
			     "  - {id: pkgs, kind: package, key: \"**\", when_added: low}\n"
			     "  - id: kernels\n"
			     "    kind: package\n"
			     "    key: \"linux-image-*\"\n"
			     "    expect: props\n"
			     "  - {id: users, kind: user, key: \"*\", severity: high}\n"
			     "  - {id: groups, kind: group, key: \"*\", severity: low}\n"
			     "  - {id: svc, kind: service, key: \"*\", severity: medium}\n"
			     "  - {id: sysctl, kind: sysctl, key: \"**\"}\n"
			     "  - {id: quiet, kind: sysctl, key: \"kernel.*\", ignore: props}\n"
			     "  - {id: mods, kind: module, key: \"*\", severity: low}\n"
			     "  - {id: ports, kind: port, key: \"**\", severity: low}\n"
			     "  - {id: telnet, kind: port, key: \"*/*:23\", severity: critical}\n"
			     "  - {id: mounts, kind: mount, path: /, severity: low}\n";

static int setup(void **state)
{
	struct rule_set *rs = NULL;
	struct diag d;

	if (rule_set_load_buffer("t.yaml", policy, strlen(policy), NULL, NULL, &rs, &d) != 0) {
		print_error("%s\n", d.msg);
		return -1;
	}
	*state = rs;
	return 0;
}

static int teardown(void **state)
{
	rule_set_free(*state);
	return 0;
}

static struct entry file(const char *path, uint32_t mode, uint64_t size)
{
	struct entry e;

	memset(&e, 0, sizeof(e));
	e.kind = ENTRY_FILE;
	e.key = path;
	e.key_len = strlen(path);
	e.mode = mode;
	e.size = size;
	e.ino = 42;
	return e;
}

/* Classify a modification of @path from @oldmode/@oldsize to @newmode/@newsize. */
static bool modified(const struct rule_set *rs, const char *path, uint32_t oldmode,
		     uint32_t newmode, uint64_t oldsize, uint64_t newsize, uint32_t attrs,
		     struct rule_verdict *v)
{
	struct entry o = file(path, oldmode, oldsize), n = file(path, newmode, newsize);

	return rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, attrs, NULL, v);
}

static void test_set_classify_ignores_what_the_policy_does_not_cover(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry n = file("/nowhere/x", S_IFREG | 0644, 1);

	memset(&v, 0x5a, sizeof(v));
	/* No rule covers the path. */
	assert_false(rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, NULL, &v));
	assert_false(
		modified(rs, "/nowhere/x", S_IFREG | 0644, S_IFREG | 0644, 1, 2, ATTR_SIZE, &v));
	/* ctime is not in static. */
	assert_false(
		modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0644, 1, 1, ATTR_CTIME, &v));
	/* gid is ignored, size not checked by perms. */
	assert_false(modified(rs, "/srv/x", S_IFREG | 0644, S_IFREG | 0644, 1, 2,
			      ATTR_GID | ATTR_SIZE | ATTR_HASH, &v));
	/* Wrong sides. */
	assert_false(rule_set_classify(rs, CHANGE_ADDED, &n, NULL, 0, NULL, &v));
	assert_false(rule_set_classify(rs, CHANGE_REMOVED, NULL, &n, 0, NULL, &v));
	assert_false(rule_set_classify(rs, CHANGE_MODIFIED, NULL, &n, ATTR_SIZE, NULL, &v));
	/* ret_verdict untouched on false. */
	assert_int_equal(v.reason[0], 0x5a);
}

static void test_set_classify_modified_is_drift_with_reason(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0644, 10, 12,
			     ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(rule_id(v.rule), "etc");
	assert_int_equal(v.attrs, ATTR_HASH | ATTR_SIZE | ATTR_MTIME);
	assert_string_equal(v.reason, "content changed");

	assert_true(
		modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0600, 10, 10, ATTR_MODE, &v));
	assert_string_equal(v.reason, "mode changed 0644 -> 0600");

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFREG | 0600, 10, 10,
			     ATTR_MODE | ATTR_UID | ATTR_HASH, &v));
	assert_string_equal(v.reason, "content changed (+2 more)");

	assert_true(modified(rs, "/etc/hosts", S_IFREG | 0644, S_IFLNK | 0777, 10, 10,
			     ATTR_TYPE | ATTR_MODE, &v));
	assert_string_equal(v.reason, "type changed file -> symlink (+1 more)");

	/* error is always checked, even under perms. */
	struct entry o = file("/srv/x", S_IFREG | 0644, 1), n = o;
	n.err = 13;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_ERROR, NULL, &v));
	assert_string_equal(v.reason, "cannot read: Permission denied");
	assert_int_equal(v.severity, SEVERITY_LOW);
}

/*
 * Times alone (and the inode of a rewrite) with the content, mode and owner
 * checked and the same: info, whatever the rule says. Without digests on
 * both sides nothing says the bytes are the same.
 */
static void test_set_classify_times_only_is_info(void **state)
{
	const struct rule_set *rs = *state;
	struct entry o = file("/usr/bin/sudo", S_IFREG | 04755, 10), n = o;
	struct rule_verdict v;

	o.hash_algo = n.hash_algo = HASH_XXH3_128;
	o.hash_len = n.hash_len = 16;
	n.mtime_ns = 5;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_MTIME | ATTR_CTIME, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_INFO);
	assert_string_equal(v.reason, "times changed only");

	n.ino = 43;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n,
				      ATTR_MTIME | ATTR_CTIME | ATTR_INODE, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_INFO);
	assert_string_equal(v.reason, "rewritten with the same content");

	/* anything more than times keeps the rule's severity */
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n,
				      ATTR_MTIME | ATTR_INODE | ATTR_UID, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);

	/* no digest on one side: the content is not known to be the same */
	n.hash_len = 0;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_MTIME, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);

	/* an expected change stays expected, at the rule's severity */
	o = file("/etc/resolv.conf", S_IFREG | 0644, 1);
	n = o;
	o.hash_len = n.hash_len = 16;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_MTIME, NULL, &v));
	assert_int_equal(v.class, CLASS_EXPECTED);
	assert_int_equal(v.severity, SEVERITY_HIGH);
}

/* /dev/zero (c 1,5) replaced by /dev/mem (c 1,1): every built-in group
 * checks the number, and the reason names it before anything but the type. */
static void test_set_classify_device_number_is_checked_and_named(void **state)
{
	const struct rule_set *rs = *state;
	static const char text[] = "rules:\n"
				   "  - {id: checked, path: /a, check: [type, rdev]}\n"
				   "  - {id: ignored, path: /b, ignore: [rdev]}\n";
	struct rule_set *own = NULL;
	struct rule_verdict v;
	struct entry o = file("/etc/zero", S_IFCHR | 0666, 0), n = o;
	struct diag d;

	o.rdev = makedev(1, 5);
	n.rdev = makedev(1, 1);
	/* static (the default check) and perms have it. */
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_RDEV, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_int_equal(v.attrs, ATTR_RDEV);
	assert_string_equal(v.reason, "device number changed 1,5 -> 1,1");
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n,
				      ATTR_RDEV | ATTR_MODE | ATTR_INODE | ATTR_CTIME, NULL, &v));
	assert_int_equal(v.attrs, ATTR_RDEV | ATTR_MODE); /* static has no inode, no ctime */
	assert_string_equal(v.reason, "device number changed 1,5 -> 1,1 (+1 more)");
	o.key = n.key = "/srv/zero";
	o.key_len = n.key_len = strlen(o.key);
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_RDEV, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_int_equal(v.attrs, ATTR_RDEV);
	/* The type says more. */
	n.mode = S_IFBLK | 0666;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_TYPE | ATTR_RDEV, NULL, &v));
	assert_string_equal(v.reason, "type changed chardev -> blockdev (+1 more)");

	/* `rdev` is a name of check and ignore lists. */
	assert_int_equal(rule_set_load_buffer("own.yaml", text, strlen(text), NULL, NULL, &own, &d),
			 0);
	n.mode = o.mode;
	o.key = n.key = "/a/zero";
	o.key_len = n.key_len = strlen(o.key);
	assert_true(
		rule_set_classify(own, CHANGE_MODIFIED, &o, &n, ATTR_RDEV | ATTR_MODE, NULL, &v));
	assert_int_equal(v.attrs, ATTR_RDEV);
	o.key = n.key = "/b/zero";
	assert_false(rule_set_classify(own, CHANGE_MODIFIED, &o, &n, ATTR_RDEV, NULL, &v));
	rule_set_free(own);
}

static void test_set_classify_expect_makes_expected(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0644, 10, 20,
			     ATTR_HASH | ATTR_SIZE | ATTR_MTIME, &v));
	assert_int_equal(v.class, CLASS_EXPECTED);
	assert_string_equal(rule_id(v.rule), "vol");
	assert_string_equal(v.reason, "content changed");

	/* An unexpected attribute among expected ones: drift, and the reason names it. */
	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0666, 10, 20,
			     ATTR_HASH | ATTR_SIZE | ATTR_MODE, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "world-writable in a system directory");
	assert_true(modified(rs, "/etc/resolv.conf", S_IFREG | 0644, S_IFREG | 0640, 10, 20,
			     ATTR_HASH | ATTR_MODE, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "mode changed 0644 -> 0640");
}

static void test_set_classify_log_growth(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry o = file("/var/log/syslog", S_IFREG | 0640, 100), n = o;

	n.size = 200;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MTIME, NULL, &v));
	assert_int_equal(v.class, CLASS_EXPECTED);
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "log grew");
	assert_int_equal(v.attrs, ATTR_SIZE);

	n.size = 50;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_SIZE, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "log shrank");

	n.size = 200;
	n.ino = 43;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_INODE, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "log replaced");

	/* Growth explains the size, not a mode change. */
	n.ino = 42;
	n.mode = S_IFREG | 0644;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_MODE, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "mode changed 0640 -> 0644");

	/* grow in expect, under static: size, mtime and content of a growing file. */
	o = file("/var/log/grow", S_IFREG | 0640, 100);
	n = o;
	n.size = 300;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n,
				      ATTR_SIZE | ATTR_MTIME | ATTR_HASH, NULL, &v));
	assert_int_equal(v.class, CLASS_EXPECTED);
	assert_string_equal(rule_id(v.rule), "grow");
	assert_string_equal(v.reason, "log grew");
	n.size = 10;
	assert_true(
		rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_SIZE | ATTR_HASH, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_string_equal(v.reason, "log shrank");
}

static void test_set_classify_added_and_removed(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/srv/new", S_IFREG | 0644, 1);
	struct entry d = file("/etc/new.d", S_IFDIR | 0755, 0);

	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_INFO); /* when_added */
	assert_string_equal(v.reason, "new file");
	assert_string_equal(rule_id(v.rule), "perm");

	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &d, 0, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_HIGH); /* when_added defaults to severity */
	assert_string_equal(v.reason, "new directory");

	assert_true(rule_set_classify(rs, CHANGE_REMOVED, &f, NULL, 0, NULL, &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "removed");
}

static void test_set_classify_escalates_setuid(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/srv/su", S_IFREG | 04755, 1);

	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "new setuid file");
	f.mode = S_IFREG | 02755;
	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new setgid file");

	assert_true(modified(rs, "/srv/x", S_IFREG | 0755, S_IFREG | 04755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "setuid bit added");
	/* A directory's setgid bit is ordinary. */
	assert_true(modified(rs, "/srv/d", S_IFDIR | 0755, S_IFDIR | 02755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "mode changed 0755 -> 2755");
	/* Removing the bit is not an escalation. */
	assert_true(modified(rs, "/srv/x", S_IFREG | 04755, S_IFREG | 0755, 1, 1, ATTR_MODE, &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
}

static void test_set_classify_escalates_world_writable_in_system_dirs(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry f = file("/etc/x", S_IFREG | 0666, 1);

	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "world-writable in a system directory");

	/* Sticky directories (like /tmp) are fine. */
	f = file("/etc/sticky", S_IFDIR | 01777, 0);
	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new directory");
	/* Outside the system directories: no escalation. */
	f = file("/home/ann/x", S_IFREG | 0666, 1);
	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	/* Symlinks are always 0777. */
	f = file("/etc/link", S_IFLNK | 0777, 1);
	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &f, 0, NULL, &v));
	assert_string_equal(v.reason, "new symlink");
	/* Becoming world-writable. */
	assert_true(modified(rs, "/etc/y", S_IFREG | 0644, S_IFREG | 0646, 1, 1, ATTR_MODE, &v));
	assert_string_equal(v.reason, "world-writable in a system directory");
	assert_int_equal(v.severity, SEVERITY_HIGH);
}

static void test_set_classify_escalates_executables_under_magic(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct entry o = file("/opt/tool", S_IFREG | 0755, 1), n = o;

	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, "application/x-pie-executable",
				      &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "new ELF executable");

	n.size = 2;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_HASH | ATTR_SIZE,
				      "text/x-shellscript; charset=us-ascii", &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "changed script");
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_HASH,
				      "text/x-script.python", &v));
	assert_string_equal(v.reason, "changed script");
	assert_true(
		rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, "application/x-sharedlib", &v));
	assert_string_equal(v.reason, "new ELF shared library");

	/* Plain text is not escalated; nor is a mode-only change. */
	assert_true(rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, "text/plain", &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	n = o;
	n.mode = S_IFREG | 0700;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o, &n, ATTR_MODE,
				      "application/x-executable", &v));
	assert_int_equal(v.severity, SEVERITY_LOW);

	/* Without magic: true, no escalation from content. */
	n = file("/home/ann/a.out", S_IFREG | 0755, 1);
	assert_true(
		rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, "application/x-executable", &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "new file");

	/* Escalation never lowers: critical stays critical. */
	n = file("/usr/bin/evil", S_IFREG | 0755, 1);
	assert_true(
		rule_set_classify(rs, CHANGE_ADDED, NULL, &n, 0, "application/x-executable", &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "new ELF executable");
}

/* ---- system state ---- */

#define MAXPROPS 8

/* An entry of system state, with its props blob in its own buffer. */
struct state {
	struct entry e;
	struct strbuf blob;
};

/*
 * (@kind, @key) with the props "name=value" of @props (NULL-terminated).
 * Release with state_release().
 */
static void state_init(struct state *st, enum entry_kind kind, const char *key,
		       const char *const *props)
{
	struct entry_prop p[MAXPROPS];
	char names[MAXPROPS][32];
	size_t n = 0;

	memset(st, 0, sizeof(*st));
	strbuf_init(&st->blob);
	for (; props && props[n]; n++) {
		const char *eq = strchr(props[n], '=');
		assert_non_null(eq);
		assert_true(n < MAXPROPS && (size_t)(eq - props[n]) < sizeof(names[0]));
		memcpy(names[n], props[n], (size_t)(eq - props[n]));
		names[n][eq - props[n]] = '\0';
		p[n] = (struct entry_prop){ names[n], eq + 1, strlen(eq + 1) };
	}
	assert_int_equal(entry_props_encode(&st->blob, p, n), 0);
	st->e.kind = kind;
	st->e.key = key;
	st->e.key_len = strlen(key);
	st->e.props = (const uint8_t *)st->blob.buf;
	st->e.props_len = st->blob.len;
}

static void state_release(struct state *st)
{
	strbuf_release(&st->blob);
}

#define PROPS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Classify (@kind, @key) going from @oldp to @newp (either NULL: added or removed). */
static bool state_change(const struct rule_set *rs, enum entry_kind kind, const char *key,
			 const char *const *oldp, const char *const *newp, struct rule_verdict *v)
{
	struct state o, n;
	enum change change = !oldp ? CHANGE_ADDED : !newp ? CHANGE_REMOVED : CHANGE_MODIFIED;
	bool r;

	state_init(&o, kind, key, oldp);
	state_init(&n, kind, key, newp);
	r = rule_set_classify(rs, change, oldp ? &o.e : NULL, newp ? &n.e : NULL,
			      change == CHANGE_MODIFIED ? ATTR_PROPS : 0, NULL, v);
	state_release(&o);
	state_release(&n);
	return r;
}

static void test_set_classify_state_names_the_changed_property(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(state_change(rs, ENTRY_PACKAGE, "bash:amd64",
				 PROPS("arch=amd64", "status=installed", "version=5.2-1"),
				 PROPS("arch=amd64", "status=installed", "version=5.2-2"), &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_MEDIUM);
	assert_int_equal(v.attrs, ATTR_PROPS);
	assert_string_equal(rule_id(v.rule), "pkgs");
	assert_string_equal(v.reason, "version changed");

	assert_true(state_change(rs, ENTRY_SYSCTL, "net.ipv4.ip_forward", PROPS("value=0"),
				 PROPS("value=1"), &v));
	assert_string_equal(v.reason, "value changed");
	assert_string_equal(rule_id(v.rule), "sysctl");

	assert_true(state_change(rs, ENTRY_SERVICE, "ssh.service",
				 PROPS("digest=ab", "state=enabled"),
				 PROPS("digest=ab", "state=disabled"), &v));
	assert_string_equal(v.reason, "state changed");

	/* The telling property first, then by name; how many more. */
	assert_true(state_change(rs, ENTRY_PACKAGE, "bash:amd64",
				 PROPS("a_size=1", "status=installed", "version=1"),
				 PROPS("a_size=2", "status=installed", "version=2"), &v));
	assert_string_equal(v.reason, "version changed (+1 more)");
	assert_true(state_change(rs, ENTRY_MODULE, "ext4", PROPS("size=1", "used_by=a"),
				 PROPS("size=2", "used_by=b"), &v));
	assert_string_equal(v.reason, "size changed (+1 more)");
	assert_true(state_change(rs, ENTRY_USER, "ann",
				 PROPS("last_change=1", "password=set", "password_digest=a"),
				 PROPS("last_change=2", "password=set", "password_digest=b"), &v));
	assert_string_equal(v.reason, "password_digest changed (+1 more)");

	/* A property that appears or disappears. */
	assert_true(state_change(rs, ENTRY_MODULE, "ext4", PROPS("size=1"),
				 PROPS("size=1", "taint=O"), &v));
	assert_string_equal(v.reason, "taint added");
	assert_true(state_change(rs, ENTRY_MODULE, "ext4", PROPS("size=1", "used_by=x"),
				 PROPS("size=1"), &v));
	assert_string_equal(v.reason, "used_by removed");
	assert_true(state_change(rs, ENTRY_MODULE, "ext4", PROPS("b=1", "c=1"), PROPS("a=1", "c=2"),
				 &v));
	assert_string_equal(v.reason, "a added (+2 more)");
	/* The caller says props changed, but they do not differ: still reported. */
	assert_true(state_change(rs, ENTRY_MODULE, "ext4", PROPS("size=1"), PROPS("size=1"), &v));
	assert_string_equal(v.reason, "properties changed");
}

static void test_set_classify_state_expect_ignore_added_removed(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct state o, n;

	assert_true(state_change(rs, ENTRY_PACKAGE, "linux-image-6.1.0-13-amd64:amd64",
				 PROPS("version=1"), PROPS("version=2"), &v));
	assert_int_equal(v.class, CLASS_EXPECTED);
	assert_string_equal(rule_id(v.rule), "kernels");
	assert_string_equal(v.reason, "version changed");

	/* Props ignored: not reported; neither is an entry no rule of its kind covers. */
	memset(&v, 0x5a, sizeof(v));
	assert_false(state_change(rs, ENTRY_SYSCTL, "kernel.hostname", PROPS("value=a"),
				  PROPS("value=b"), &v));
	assert_int_equal(v.reason[0], 0x5a);
	assert_true(state_change(rs, ENTRY_SYSCTL, "kernel.hostname", NULL, PROPS("value=b"), &v));
	assert_string_equal(v.reason, "new sysctl");

	assert_true(state_change(rs, ENTRY_PACKAGE, "vim:amd64", NULL, PROPS("version=9"), &v));
	assert_int_equal(v.class, CLASS_DRIFT);
	assert_int_equal(v.severity, SEVERITY_LOW); /* when_added */
	assert_string_equal(v.reason, "new package");
	assert_true(state_change(rs, ENTRY_PACKAGE, "vim:amd64", PROPS("version=9"), NULL, &v));
	assert_int_equal(v.severity, SEVERITY_MEDIUM);
	assert_string_equal(v.reason, "removed");
	assert_true(state_change(rs, ENTRY_MOUNT, "/boot", NULL, PROPS("fstype=ext4"), &v));
	assert_string_equal(v.reason, "new mount");
	assert_string_equal(rule_id(v.rule), "mounts");
	assert_true(state_change(rs, ENTRY_SERVICE, "x.service", NULL, PROPS("state=enabled"), &v));
	assert_string_equal(v.reason, "new service");

	/* Only props and error matter: a file attribute alone is not a change. */
	state_init(&o, ENTRY_SYSCTL, "vm.swappiness", PROPS("value=60"));
	state_init(&n, ENTRY_SYSCTL, "vm.swappiness", PROPS("value=60"));
	assert_false(rule_set_classify(rs, CHANGE_MODIFIED, &o.e, &n.e, ATTR_MODE, NULL, &v));
	n.e.err = 13;
	assert_true(rule_set_classify(rs, CHANGE_MODIFIED, &o.e, &n.e, ATTR_ERROR, NULL, &v));
	assert_string_equal(v.reason, "cannot read: Permission denied");
	/* Old and new of different kinds are not one entry. */
	n.e.kind = ENTRY_MODULE;
	assert_false(rule_set_classify(rs, CHANGE_MODIFIED, &o.e, &n.e, ATTR_PROPS, NULL, &v));
	state_release(&o);
	state_release(&n);
}

static void test_set_classify_state_escalates_uid_0(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(state_change(rs, ENTRY_USER, "toor", NULL, PROPS("uid=0", "gid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "new account with uid 0");
	assert_true(state_change(rs, ENTRY_USER, "ann", PROPS("uid=1000", "gid=1000"),
				 PROPS("uid=0", "gid=1000"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "uid changed to 0");
	/* Already 0: an ordinary change. A uid like 10 or 00 is not 0. */
	assert_true(state_change(rs, ENTRY_USER, "root", PROPS("shell=/bin/sh", "uid=0"),
				 PROPS("shell=/bin/zsh", "uid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "shell changed");
	assert_true(state_change(rs, ENTRY_USER, "ann", NULL, PROPS("uid=10"), &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "new user");
	/* A user's primary group 0 is not an escalation. */
	assert_true(state_change(rs, ENTRY_USER, "ann", PROPS("gid=1000", "uid=1000"),
				 PROPS("gid=0", "uid=1000"), &v));
	assert_string_equal(v.reason, "gid changed");
	assert_int_equal(v.severity, SEVERITY_HIGH);

	assert_true(state_change(rs, ENTRY_GROUP, "wheel2", NULL, PROPS("gid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "new group with gid 0");
	assert_true(state_change(rs, ENTRY_GROUP, "staff", PROPS("gid=50"), PROPS("gid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "gid changed to 0");
	assert_true(state_change(rs, ENTRY_GROUP, "staff", NULL, PROPS("gid=50"), &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	/* Removing an account with uid 0 is not an escalation. */
	assert_true(state_change(rs, ENTRY_USER, "toor", PROPS("uid=0"), NULL, &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "removed");
}

static void test_set_classify_state_escalates_passwordless_accounts(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	struct rule_set *low = NULL;
	struct diag d;
	const char *yaml = "rules:\n  - {kind: user, key: \"*\", severity: info}\n";

	assert_int_equal(rule_set_load_buffer("t", yaml, strlen(yaml), NULL, NULL, &low, &d), 0);
	assert_true(state_change(low, ENTRY_USER, "ann", PROPS("password=set", "uid=1000"),
				 PROPS("password=none", "uid=1000"), &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "account without password");
	assert_true(state_change(low, ENTRY_USER, "guest", NULL, PROPS("password=none", "uid=1001"),
				 &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "account without password");
	/* Already without one: nothing new. */
	assert_true(state_change(low, ENTRY_USER, "guest", PROPS("password=none", "shell=/bin/sh"),
				 PROPS("password=none", "shell=/bin/bash"), &v));
	assert_int_equal(v.severity, SEVERITY_INFO);
	assert_string_equal(v.reason, "shell changed");
	/* Locked is not "none". */
	assert_true(state_change(low, ENTRY_USER, "ann", PROPS("password=set"),
				 PROPS("password=locked"), &v));
	assert_int_equal(v.severity, SEVERITY_INFO);
	/* uid 0 wins over the password. */
	assert_true(state_change(low, ENTRY_USER, "x", NULL, PROPS("password=none", "uid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "new account with uid 0");
	rule_set_free(low);
	(void)rs;
}

static void test_set_classify_state_escalates_new_listeners(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;
	static const char *const open[] = { "tcp/0.0.0.0:22",   "tcp6/[::]:80",
					    "udp/10.0.0.5:53",  "tcp6/[fe80::1%eth0]:22",
					    "tcp/128.0.0.1:25", "tcp6/[::ffff:10.0.0.1]:8080" };
	static const char *const loop[] = { "tcp/127.0.0.1:631", "udp/127.0.0.53:53",
					    "tcp/127.255.1.2:9", "tcp6/[::1]:631",
					    "tcp6/[::ffff:127.0.0.1]:25" };

	for (size_t i = 0; i < sizeof(open) / sizeof(open[0]); i++) {
		assert_true(state_change(rs, ENTRY_PORT, open[i], NULL, PROPS("uid=0"), &v));
		assert_int_equal(v.severity, SEVERITY_HIGH);
		assert_string_equal(v.reason, "new listening port");
	}
	for (size_t i = 0; i < sizeof(loop) / sizeof(loop[0]); i++) {
		assert_true(state_change(rs, ENTRY_PORT, loop[i], NULL, PROPS("uid=0"), &v));
		assert_int_equal(v.severity, SEVERITY_LOW);
		assert_string_equal(v.reason, "new port");
	}
	/* Never lowered; and a changed listener is not new. */
	assert_true(state_change(rs, ENTRY_PORT, "tcp/0.0.0.0:23", NULL, PROPS("uid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_CRITICAL);
	assert_string_equal(v.reason, "new listening port");
	assert_true(state_change(rs, ENTRY_PORT, "tcp/0.0.0.0:22", PROPS("process=sshd"),
				 PROPS("process=nc"), &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "process changed");
	/* A key that cannot be read as an address is not loopback. */
	assert_true(state_change(rs, ENTRY_PORT, "raw/whatever", NULL, PROPS("uid=0"), &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
}

static void test_set_classify_state_escalates_new_modules(void **state)
{
	const struct rule_set *rs = *state;
	struct rule_verdict v;

	assert_true(state_change(rs, ENTRY_MODULE, "rootkit", NULL, PROPS("size=1"), &v));
	assert_int_equal(v.severity, SEVERITY_HIGH);
	assert_string_equal(v.reason, "new kernel module");
	assert_true(state_change(rs, ENTRY_MODULE, "rootkit", PROPS("size=1"), NULL, &v));
	assert_int_equal(v.severity, SEVERITY_LOW);
	assert_string_equal(v.reason, "removed");
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(severity_name(SEVERITY_CRITICAL), "critical");
	assert_string_equal(severity_name(SEVERITY_INFO), "info");
	assert_string_equal(class_name(CLASS_EXPECTED), "expected");
	assert_string_equal(class_name(CLASS_DRIFT), "drift");
	assert_string_equal(class_name(CLASS_VIOLATION), "violation");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_classify_ignores_what_the_policy_does_not_cover),
		cmocka_unit_test(test_set_classify_modified_is_drift_with_reason),
		cmocka_unit_test(test_set_classify_times_only_is_info),
		cmocka_unit_test(test_set_classify_device_number_is_checked_and_named),
		cmocka_unit_test(test_set_classify_expect_makes_expected),
		cmocka_unit_test(test_set_classify_log_growth),
		cmocka_unit_test(test_set_classify_added_and_removed),
		cmocka_unit_test(test_set_classify_escalates_setuid),
		cmocka_unit_test(test_set_classify_escalates_world_writable_in_system_dirs),
		cmocka_unit_test(test_set_classify_escalates_executables_under_magic),
		cmocka_unit_test(test_set_classify_state_names_the_changed_property),
		cmocka_unit_test(test_set_classify_state_expect_ignore_added_removed),
		cmocka_unit_test(test_set_classify_state_escalates_uid_0),
		cmocka_unit_test(test_set_classify_state_escalates_passwordless_accounts),
		cmocka_unit_test(test_set_classify_state_escalates_new_listeners),
		cmocka_unit_test(test_set_classify_state_escalates_new_modules),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests_name("rules/classify", tests, setup, teardown);
}
