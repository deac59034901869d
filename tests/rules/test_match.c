#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "rules/internal.h"

static struct rule_set *load(const char *yaml)
{
	struct rule_set *rs = NULL;
	struct diag d;

	if (rule_set_load_buffer("t.yaml", yaml, strlen(yaml), NULL, NULL, &rs, &d) != 0)
		fail_msg("policy does not load: %s", d.msg);
	return rs;
}

/* The id of the rule covering @path, "-" when none; checks the slow path agrees. */
static const char *which(const struct rule_set *rs, const char *path)
{
	const struct rule *r = rule_set_match(rs, path, strlen(path));

	assert_ptr_equal(r, rule_set_match_slow(rs, path, strlen(path)));
	return r ? rule_id(r) : "-";
}

static void test_set_match_prefix_respects_component_boundaries(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: etc, path: /etc}\n"
				   "  - {id: trail, path: /usr/}\n");

	assert_string_equal(which(rs, "/etc"), "etc");
	assert_string_equal(which(rs, "/etc/passwd"), "etc");
	assert_string_equal(which(rs, "/etc/ssh/sshd_config"), "etc");
	assert_string_equal(which(rs, "/etcfoo"), "-");
	assert_string_equal(which(rs, "/etcfoo/x"), "-");
	assert_string_equal(which(rs, "/et"), "-");
	assert_string_equal(which(rs, "/"), "-");
	assert_string_equal(which(rs, "/usr"), "trail");
	assert_string_equal(which(rs, "/usr/bin"), "trail");
	assert_string_equal(which(rs, "/usrx"), "-");
	rule_set_free(rs);
}

static void test_set_match_globs_and_double_star(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: conf, path: \"/etc/*.conf\"}\n"
				   "  - {id: q, path: \"/dev/tty?\"}\n"
				   "  - {id: cls, path: \"/dev/sd[a-c]\"}\n"
				   "  - {id: deep, path: \"/home/**/.ssh\"}\n"
				   "  - {id: all, path: \"/srv/**\"}\n"
				   "  - {id: mid, path: \"/opt/*/bin/*\"}\n");

	assert_string_equal(which(rs, "/etc/a.conf"), "conf");
	assert_string_equal(which(rs, "/etc/.conf"), "conf");
	assert_string_equal(which(rs, "/etc/sub/a.conf"), "-");
	assert_string_equal(which(rs, "/etc/a.confx"), "-");
	assert_string_equal(which(rs, "/dev/tty1"), "q");
	assert_string_equal(which(rs, "/dev/tty12"), "-");
	assert_string_equal(which(rs, "/dev/sdb"), "cls");
	assert_string_equal(which(rs, "/dev/sdd"), "-");
	assert_string_equal(which(rs, "/home/.ssh"), "deep");
	assert_string_equal(which(rs, "/home/ann/.ssh"), "deep");
	assert_string_equal(which(rs, "/home/ann/x/y/.ssh"), "deep");
	assert_string_equal(which(rs, "/home/ann/.ssh/id_rsa"), "-"); /* a glob is not a prefix */
	assert_string_equal(which(rs, "/homer/.ssh"), "-");
	assert_string_equal(which(rs, "/srv/a"), "all");
	assert_string_equal(which(rs, "/srv/a/b/c"), "all");
	assert_string_equal(which(rs, "/srv"), "-");
	assert_string_equal(which(rs, "/opt/x/bin/tool"), "mid");
	assert_string_equal(which(rs, "/opt/x/y/bin/tool"), "-");
	rule_set_free(rs);
}

static void test_set_match_exact_path_without_contents(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: log, path: \"=/var/log\"}\n"
				   "  - {id: root, path: \"=/\"}\n");

	assert_string_equal(which(rs, "/var/log"), "log");
	assert_string_equal(which(rs, "/var/log/syslog"), "-");
	assert_string_equal(which(rs, "/var"), "-");
	assert_string_equal(which(rs, "/"), "root");
	assert_string_equal(which(rs, "/etc"), "-");
	rule_set_free(rs);
}

static void test_set_match_basename_globs_at_any_depth(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: etc, path: /etc}\n"
				   "  - {id: keys, path: \"*.pem\"}\n"
				   "  - {id: core, path: core}\n");

	assert_string_equal(which(rs, "/etc/ssl/a.pem"), "keys");
	assert_string_equal(which(rs, "/srv/x/y/b.pem"), "keys");
	assert_string_equal(which(rs, "/a.pem"), "keys");
	assert_string_equal(which(rs, "/etc/a.pemx"), "etc");
	assert_string_equal(which(rs, "/var/core"), "core");
	assert_string_equal(which(rs, "/var/core.1"), "-");
	rule_set_free(rs);
}

static void test_set_match_last_match_wins(void **state)
{
	(void)state;
	/* General first, exceptions after: the exception wins. */
	struct rule_set *rs = load("rules:\n"
				   "  - {id: all, path: /}\n"
				   "  - {id: etc, path: /etc}\n"
				   "  - {id: ssh, path: /etc/ssh}\n"
				   "  - {id: keys, path: \"/etc/ssh/*_key\"}\n");

	assert_string_equal(which(rs, "/usr/bin/ls"), "all");
	assert_string_equal(which(rs, "/etc/hosts"), "etc");
	assert_string_equal(which(rs, "/etc/ssh"), "ssh");
	assert_string_equal(which(rs, "/etc/ssh/sshd_config"), "ssh");
	assert_string_equal(which(rs, "/etc/ssh/ssh_host_rsa_key"), "keys");
	rule_set_free(rs);

	/* A specific rule before a general one is overridden by it. */
	rs = load("rules:\n"
		  "  - {id: ssh, path: /etc/ssh}\n"
		  "  - {id: keys, path: \"*_key\"}\n"
		  "  - {id: etc, path: /etc}\n");
	assert_string_equal(which(rs, "/etc/ssh/sshd_config"), "etc");
	assert_string_equal(which(rs, "/etc/ssh/ssh_host_rsa_key"), "etc");
	assert_string_equal(which(rs, "/root/x_key"), "keys");
	rule_set_free(rs);
}

static void test_set_excluded_takes_subtree_and_beats_later_rules(void **state)
{
	(void)state;
	struct rule_set *rs = load("scan:\n"
				   "  exclude: [\"*.swp\", \"/home/*/.cache\"]\n"
				   "rules:\n"
				   "  - {id: all, path: /}\n"
				   "  - {id: cache, path: /var/cache, exclude: true}\n"
				   "  - {id: apt, path: /var/cache/apt}\n"
				   "  - {id: one, path: \"=/tmp\", exclude: true}\n");

	assert_true(rule_set_excluded(rs, "/var/cache", 10));
	assert_true(rule_set_excluded(rs, "/var/cache/apt/x", 16));
	assert_false(rule_set_excluded(rs, "/var/cachet", 11));
	assert_string_equal(which(rs, "/var/cache/apt/x"), "-");
	assert_string_equal(which(rs, "/var/cachet"), "all");
	assert_true(rule_set_excluded(rs, "/etc/.x.swp", 11));
	assert_true(rule_set_excluded(rs, "/a/b.swp/c", 10)); /* below an excluded dir */
	assert_true(rule_set_excluded(rs, "/home/ann/.cache/x/y", 20));
	assert_false(rule_set_excluded(rs, "/home/ann/x/.cache", 18));
	/* An exclusion always takes the subtree, even with '='. */
	assert_true(rule_set_excluded(rs, "/tmp/x", 6));
	assert_string_equal(which(rs, "/etc/passwd"), "all");
	rule_set_free(rs);
}

static bool mmb(const struct rule_set *rs, const char *dir)
{
	bool b = rule_set_may_match_below(rs, dir, strlen(dir));

	assert_int_equal(b, rule_set_may_match_below_slow(rs, dir, strlen(dir)));
	return b;
}

static void test_set_may_match_below_prunes_only_what_no_rule_reaches(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {path: /etc/ssh}\n"
				   "  - {path: \"=/var/log\"}\n"
				   "  - {path: \"=/var/lib/x/y\"}\n"
				   "  - {path: \"/srv/*.d/*.conf\"}\n"
				   "  - {path: \"/opt/**/bin\"}\n"
				   "  - {path: /tmp, exclude: true}\n");

	assert_true(mmb(rs, "/"));
	assert_true(mmb(rs, "/etc"));
	assert_true(mmb(rs, "/etc/ssh"));
	assert_true(mmb(rs, "/etc/ssh/deep"));
	assert_false(mmb(rs, "/etcx"));
	assert_false(mmb(rs, "/usr"));
	assert_true(mmb(rs, "/var"));
	assert_false(mmb(rs, "/var/log")); /* '=' : the directory, not its contents */
	assert_true(mmb(rs, "/var/lib"));
	assert_true(mmb(rs, "/var/lib/x"));
	assert_false(mmb(rs, "/var/lib/x/y"));
	assert_true(mmb(rs, "/srv"));
	assert_true(mmb(rs, "/srv/a.d"));
	assert_false(mmb(rs, "/srv/a.d/sub")); /* too deep for a glob without ** */
	assert_true(mmb(rs, "/opt/a/b/c"));
	assert_false(mmb(rs, "/tmp")); /* exclude rules cover nothing */
	rule_set_free(rs);

	rs = load("rules:\n  - {path: /etc}\n  - {path: \"*.pem\"}\n");
	assert_true(mmb(rs, "/usr"));
	rule_set_free(rs);
}

/* ---- the index against brute force ---- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static const char *const words[] = { "etc", "usr", "lib", "a",   "b",     "ab", "x.conf",
				     "y.d", "bin", "var", "log", "z.swp", "ba", "a.pem" };
#define NWORDS (sizeof(words) / sizeof(words[0]))

static void random_path(struct strbuf *sb)
{
	unsigned depth = 1 + rnd(5);

	strbuf_reset(sb);
	for (unsigned i = 0; i < depth; i++)
		assert_int_equal(strbuf_addf(sb, "/%s", words[rnd(NWORDS)]), 0);
}

static void random_pattern(struct strbuf *sb)
{
	static const char *const globs[] = { "*", "?", "**", "a*", "*.conf", "[ab]", "*b" };
	unsigned depth = 1 + rnd(4), kind = rnd(10);

	strbuf_reset(sb);
	if (kind == 0) {
		assert_int_equal(strbuf_adds(sb, rnd(2) ? "*.swp" : "a?"), 0);
		return;
	}
	if (kind == 1)
		assert_int_equal(strbuf_addch(sb, '='), 0);
	for (unsigned i = 0; i < depth; i++) {
		if (kind >= 6 && rnd(3) == 0)
			assert_int_equal(strbuf_addf(sb, "/%s", globs[rnd(7)]), 0);
		else
			assert_int_equal(strbuf_addf(sb, "/%s", words[rnd(NWORDS)]), 0);
	}
}

static void test_set_match_index_agrees_with_brute_force(void **state)
{
	(void)state;
	struct strbuf yaml = STRBUF_INIT, sb = STRBUF_INIT;

	for (int round = 0; round < 20; round++) {
		struct rule_set *rs;
		unsigned nrules = 5 + rnd(60);

		strbuf_reset(&yaml);
		assert_int_equal(strbuf_adds(&yaml, "scan:\n  exclude: [/var/b"), 0);
		if (round % 2)
			assert_int_equal(strbuf_adds(&yaml, ", \"*.swp\", /usr/*/ab"), 0);
		assert_int_equal(strbuf_adds(&yaml, "]\nrules:\n"), 0);
		for (unsigned i = 0; i < nrules; i++) {
			random_pattern(&sb);
			assert_int_equal(strbuf_addf(&yaml, "  - path: \"%s\"\n", sb.buf), 0);
			if (rnd(8) == 0)
				assert_int_equal(strbuf_adds(&yaml, "    exclude: true\n"), 0);
		}
		rs = load(yaml.buf);
		for (int i = 0; i < 2000; i++) {
			random_path(&sb);
			assert_ptr_equal(rule_set_match(rs, sb.buf, sb.len),
					 rule_set_match_slow(rs, sb.buf, sb.len));
			assert_int_equal(rule_set_excluded(rs, sb.buf, sb.len),
					 rule_set_excluded_slow(rs, sb.buf, sb.len));
			assert_int_equal(rule_set_may_match_below(rs, sb.buf, sb.len),
					 rule_set_may_match_below_slow(rs, sb.buf, sb.len));
		}
		assert_ptr_equal(rule_set_match(rs, "/", 1), rule_set_match_slow(rs, "/", 1));
		assert_int_equal(rule_set_may_match_below(rs, "/", 1),
				 rule_set_may_match_below_slow(rs, "/", 1));
		rule_set_free(rs);
	}
	strbuf_release(&yaml);
	strbuf_release(&sb);
}

/* ---- the other kinds ---- */

/* The id of the rule covering (@kind, @key), "-" when none. */
static const char *which_kind(const struct rule_set *rs, enum entry_kind kind, const char *key)
{
	const struct rule *r = rule_set_match_kind(rs, kind, key, strlen(key));

	if (r)
		assert_int_equal(rule_kind(r), kind);
	return r ? rule_id(r) : "-";
}

static bool excluded_kind(const struct rule_set *rs, enum entry_kind kind, const char *key)
{
	return rule_set_excluded_kind(rs, kind, key, strlen(key));
}

static void test_set_match_kind_sysctl_globs_see_the_whole_key(void **state)
{
	(void)state;
	struct rule_set *rs =
		load("rules:\n"
		     "  - {id: all, kind: sysctl, key: \"**\"}\n"
		     "  - {id: ipv4, kind: sysctl, key: \"net.ipv4.*\"}\n"
		     "  - {id: fwd, kind: sysctl, key: \"net.ipv4.conf.*.forwarding\"}\n"
		     "  - {id: one, kind: sysctl, key: \"=kernel.sysrq\"}\n"
		     "  - {id: q, kind: sysctl, key: \"vm.swappines?\"}\n");

	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "net.ipv4.ip_forward"), "ipv4");
	/* '*' crosses dots: a sysctl key is one name. */
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "net.ipv4.tcp_syncookies"), "ipv4");
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "net.ipv4.conf.all.forwarding"), "fwd");
	/* ... but never a '/' (a VLAN interface "eth0.100" is written "eth0/100"). */
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "net.ipv4.conf.eth0/100.forwarding"),
			    "all");
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "net.ipv6.conf.all.forwarding"), "all");
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "kernel.sysrq"), "one");
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "kernel.sysrqx"), "all");
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "vm.swappiness"), "q");
	/* A pattern is over the whole key, not a part of it. */
	assert_string_equal(which_kind(rs, ENTRY_SYSCTL, "xnet.ipv4.ip_forward"), "all");
	rule_set_free(rs);
}

static void test_set_match_kind_literal_keys_and_components(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: bash, kind: package, key: \"bash:amd64\"}\n"
				   "  - {id: libs, kind: package, key: \"lib*\"}\n"
				   "  - {id: i386, kind: package, key: \"*:i386\"}\n"
				   "  - {id: ssh, kind: service, key: ssh.service}\n"
				   "  - {id: tcp, kind: port, key: tcp}\n"
				   "  - {id: ssh22, kind: port, key: \"*/*:22\"}\n"
				   "  - {id: dns, kind: port, key: \"udp6/[::]:53\"}\n"
				   "  - {id: dns1, kind: port, key: 'udp6/\\[::1]:53'}\n"
				   "  - {id: dns2, kind: port, key: \"=udp6/[::2]:53\"}\n");

	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "bash:amd64"), "bash");
	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "bash:i386"), "i386");
	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "bash"), "-");
	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "libc6:amd64"), "libs");
	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "libc6:i386"), "i386"); /* last wins */
	assert_string_equal(which_kind(rs, ENTRY_SERVICE, "ssh.service"), "ssh");
	assert_string_equal(which_kind(rs, ENTRY_SERVICE, "ssh.socket"), "-");
	/* A literal key covers the keys below it, at '/' boundaries. */
	assert_string_equal(which_kind(rs, ENTRY_PORT, "tcp/0.0.0.0:80"), "tcp");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "tcp6/[::]:80"), "-");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "tcp/0.0.0.0:22"), "ssh22");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "tcp6/[::]:22"), "ssh22");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "tcp/0.0.0.0:222"), "tcp");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "udp6/[::]:53"), "dns");
	/* A port's '[' is literal, escaped or not: no class. */
	assert_string_equal(which_kind(rs, ENTRY_PORT, "udp6/[::1]:53"), "dns1");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "udp6/:53"), "-");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "udp6/[::2]:53"), "dns2");
	assert_string_equal(which_kind(rs, ENTRY_PORT, "udp6/[::3]:53"), "-");
	rule_set_free(rs);
}

static void test_set_match_kind_mount_keys_are_paths(void **state)
{
	(void)state;
	struct rule_set *rs =
		load("rules:\n"
		     "  - {id: all, kind: mount, path: /}\n"
		     "  - {id: boot, kind: mount, path: /boot}\n"
		     "  - {id: root, kind: mount, path: \"=/\"}\n"
		     "  - {id: home, kind: mount, path: \"/home/*\"}\n"
		     "  - {id: user, kind: mount, path: \"/run/user/**\", exclude: true}\n"
		     "  - {id: snap, kind: mount, path: /snap, exclude: true}\n");

	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/"), "root");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/boot"), "boot");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/boot/efi"), "boot");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/bootx"), "all");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/home/ann"), "home");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/home/ann/x"), "all");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/run/user"), "all");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/run/user/1000"), "-");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/run/user/1000/doc"), "-");
	assert_true(excluded_kind(rs, ENTRY_MOUNT, "/run/user/1000/doc"));
	assert_true(excluded_kind(rs, ENTRY_MOUNT, "/snap"));
	assert_true(excluded_kind(rs, ENTRY_MOUNT, "/snap/core/1"));
	assert_false(excluded_kind(rs, ENTRY_MOUNT, "/snapx"));
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/snapx"), "all");
	/* A trailing '/' in a key is not a different path. */
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/boot/"), "boot");
	rule_set_free(rs);
}

static void test_set_match_kind_last_match_wins_and_excludes_win(void **state)
{
	(void)state;
	struct rule_set *rs =
		load("rules:\n"
		     "  - {id: x-first, kind: user, key: \"systemd-*\", exclude: true}\n"
		     "  - {id: all, kind: user, key: \"*\"}\n"
		     "  - {id: root, kind: user, key: root}\n"
		     "  - {id: sd, kind: user, key: \"systemd-*\"}\n"
		     "  - {id: late, kind: user, key: \"r*\"}\n"
		     "  - {id: nobody, kind: user, key: nobody, exclude: true}\n");

	assert_string_equal(which_kind(rs, ENTRY_USER, "ann"), "all");
	assert_string_equal(which_kind(rs, ENTRY_USER, "root"), "late"); /* the last one */
	assert_string_equal(which_kind(rs, ENTRY_USER, "rob"), "late");
	/* Exclusions win whatever their place. */
	assert_string_equal(which_kind(rs, ENTRY_USER, "systemd-network"), "-");
	assert_true(excluded_kind(rs, ENTRY_USER, "systemd-network"));
	assert_string_equal(which_kind(rs, ENTRY_USER, "nobody"), "-");
	assert_true(excluded_kind(rs, ENTRY_USER, "nobody"));
	assert_false(excluded_kind(rs, ENTRY_USER, "root"));
	rule_set_free(rs);
}

static void test_set_match_kind_keeps_kinds_apart(void **state)
{
	(void)state;
	struct rule_set *rs = load("scan:\n  exclude: [/proc]\n"
				   "rules:\n"
				   "  - {id: files, path: /}\n"
				   "  - {id: users, kind: user, key: \"*\"}\n"
				   "  - {id: nouser, kind: user, key: games, exclude: true}\n"
				   "  - {id: groups, kind: group, key: root}\n"
				   "  - {id: mounts, kind: mount, path: /boot}\n"
				   "  - {id: nofile, path: /games, exclude: true}\n"
				   "  - {id: nomount, kind: mount, path: /tmp, exclude: true}\n");

	/* A user rule is not a group rule, nor a file rule, and so on. */
	assert_string_equal(which_kind(rs, ENTRY_USER, "root"), "users");
	assert_string_equal(which_kind(rs, ENTRY_GROUP, "root"), "groups");
	assert_string_equal(which_kind(rs, ENTRY_GROUP, "adm"), "-");
	assert_string_equal(which_kind(rs, ENTRY_PACKAGE, "root"), "-");
	assert_string_equal(which_kind(rs, ENTRY_SERVICE, "x.service"), "-");
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/"), "-"); /* "files" is for files */
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/boot"), "mounts");
	assert_string_equal(which(rs, "/boot"), "files");
	assert_string_equal(which(rs, "/root"), "files");
	/* ENTRY_FILE is rule_set_match() itself. */
	assert_string_equal(which_kind(rs, ENTRY_FILE, "/etc"), "files");
	assert_string_equal(which_kind(rs, ENTRY_FILE, "/games/x"), "-");
	assert_true(excluded_kind(rs, ENTRY_FILE, "/games/x"));
	assert_true(excluded_kind(rs, ENTRY_FILE, "/proc/1"));
	/* Exclusions stay in their kind too; scan.exclude is about files. */
	assert_false(excluded_kind(rs, ENTRY_USER, "/games"));
	assert_true(excluded_kind(rs, ENTRY_USER, "games"));
	assert_false(excluded_kind(rs, ENTRY_FILE, "/tmp"));
	assert_true(excluded_kind(rs, ENTRY_MOUNT, "/tmp"));
	assert_false(excluded_kind(rs, ENTRY_MOUNT, "/proc"));
	assert_false(excluded_kind(rs, ENTRY_MOUNT, "/games"));
	assert_string_equal(which(rs, "/tmp/x"), "files");
	/* Rules of other kinds reach no directory of the walker. */
	assert_true(rule_set_may_match_below(rs, "/usr", 4));
	/* Kinds that do not exist. */
	assert_null(rule_set_match_kind(rs, (enum entry_kind)0, "root", 4));
	assert_null(rule_set_match_kind(rs, (enum entry_kind)(ENTRY__KIND_MAX + 1), "root", 4));
	assert_false(rule_set_excluded_kind(rs, (enum entry_kind)0, "games", 5));
	assert_false(rule_set_excluded_kind(rs, (enum entry_kind) - 1, "games", 5));
	rule_set_free(rs);

	/* Only rules of other kinds: no file is covered, no directory entered. */
	rs = load("rules:\n  - {kind: mount, path: /}\n  - {kind: sysctl, key: \"**\"}\n");
	assert_string_equal(which(rs, "/etc"), "-");
	assert_false(mmb(rs, "/"));
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, "/"), "rule-1");
	rule_set_free(rs);
}

static void test_set_match_kind_long_keys(void **state)
{
	(void)state;
	struct rule_set *rs = load("rules:\n"
				   "  - {id: svc, kind: service, key: \"*.service\"}\n"
				   "  - {id: mnt, kind: mount, path: /srv}\n");
	char key[3000];

	memset(key, 'a', sizeof(key));
	memcpy(key + sizeof(key) - 9, ".service", 9);
	assert_string_equal(which_kind(rs, ENTRY_SERVICE, key), "svc");
	key[0] = '/';
	memcpy(key, "/srv/", 5);
	assert_string_equal(which_kind(rs, ENTRY_MOUNT, key), "mnt");
	rule_set_free(rs);
}

/* File matching is the same with rules of other kinds among the file rules. */
static void test_set_match_files_ignore_rules_of_other_kinds(void **state)
{
	(void)state;
	struct strbuf plain = STRBUF_INIT, mixed = STRBUF_INIT, sb = STRBUF_INIT;

	for (int round = 0; round < 10; round++) {
		struct rule_set *a, *b;
		unsigned nrules = 5 + rnd(30);

		strbuf_reset(&plain);
		strbuf_reset(&mixed);
		assert_int_equal(strbuf_adds(&plain, "rules:\n"), 0);
		assert_int_equal(strbuf_adds(&mixed, "rules:\n"), 0);
		for (unsigned i = 0; i < nrules; i++) {
			random_pattern(&sb);
			assert_int_equal(
				strbuf_addf(&plain, "  - {id: r%u, path: \"%s\"}\n", i, sb.buf), 0);
			assert_int_equal(
				strbuf_addf(&mixed, "  - {id: r%u, path: \"%s\"}\n", i, sb.buf), 0);
			/* The same pattern for a mount, and a catch-all of another kind. */
			assert_int_equal(strbuf_addf(&mixed,
						     "  - {id: m%u, kind: mount, path: \"%s\"%s}\n"
						     "  - {id: u%u, kind: user, key: \"**\"}\n",
						     i, sb.buf, rnd(4) ? "" : ", exclude: true", i),
					 0);
		}
		a = load(plain.buf);
		b = load(mixed.buf);
		for (int i = 0; i < 500; i++) {
			const struct rule *ra, *rb;

			random_path(&sb);
			ra = rule_set_match(a, sb.buf, sb.len);
			rb = rule_set_match(b, sb.buf, sb.len);
			assert_int_equal(!ra, !rb);
			if (ra)
				assert_string_equal(rule_id(ra), rule_id(rb));
			assert_ptr_equal(rb, rule_set_match_slow(b, sb.buf, sb.len));
			assert_int_equal(rule_set_excluded(a, sb.buf, sb.len),
					 rule_set_excluded(b, sb.buf, sb.len));
			assert_int_equal(rule_set_may_match_below(a, sb.buf, sb.len),
					 rule_set_may_match_below(b, sb.buf, sb.len));
			assert_int_equal(rule_set_may_match_below_slow(b, sb.buf, sb.len),
					 rule_set_may_match_below(b, sb.buf, sb.len));
		}
		rule_set_free(a);
		rule_set_free(b);
	}
	strbuf_release(&plain);
	strbuf_release(&mixed);
	strbuf_release(&sb);
}

/* ---- packages: the unowned scope ---- */

static bool unowned(const struct rule_set *rs, const char *path)
{
	return rule_set_unowned_scope(rs, path, strlen(path));
}

static void test_set_unowned_scope_defaults(void **state)
{
	(void)state;
	struct rule_set *rs = load("");

	assert_true(unowned(rs, "/usr"));
	assert_true(unowned(rs, "/usr/bin/evil"));
	assert_true(unowned(rs, "/bin/x"));
	assert_true(unowned(rs, "/sbin/x"));
	assert_true(unowned(rs, "/lib/x"));
	assert_true(unowned(rs, "/lib64/ld-linux-x86-64.so.2"));
	assert_true(unowned(rs, "/lib32/x"));
	assert_true(unowned(rs, "/libx32/x"));
	assert_true(unowned(rs, "/boot/vmlinuz"));
	assert_false(unowned(rs, "/usrx/bin"));
	assert_false(unowned(rs, "/etc/passwd"));
	assert_false(unowned(rs, "/var/lib/x"));
	assert_false(unowned(rs, "/usr/local"));
	assert_false(unowned(rs, "/usr/local/bin/tool"));
	assert_true(unowned(rs, "/usr/localx"));
	assert_false(unowned(rs, "/usr/lib/python3/dist-packages/__pycache__"));
	assert_false(unowned(rs, "/usr/lib/python3/__pycache__/a.cpython-311.pyc"));
	assert_true(unowned(rs, "/usr/lib/python3/__pycache__x/a"));
	rule_set_free(rs);
}

static void test_set_unowned_scope_follows_the_policy(void **state)
{
	(void)state;
	struct rule_set *rs = load("packages:\n"
				   "  unowned: [/opt, \"/srv/*/bin\", \"*.so\"]\n"
				   "  unowned_exclude: [/opt/local, \"*.pyc\"]\n");

	assert_true(unowned(rs, "/opt/x"));
	assert_false(unowned(rs, "/opt/local/x"));
	assert_false(unowned(rs, "/opt/a.pyc"));
	/* A glob takes its matches' subtrees, as an exclusion does. */
	assert_true(unowned(rs, "/srv/app/bin"));
	assert_true(unowned(rs, "/srv/app/bin/tool"));
	assert_false(unowned(rs, "/srv/app/lib/tool"));
	assert_true(unowned(rs, "/home/ann/libx.so"));
	assert_false(unowned(rs, "/usr/bin/x")); /* the defaults are replaced */
	rule_set_free(rs);

	rs = load("packages:\n  unowned: []\n");
	assert_false(unowned(rs, "/usr/bin/x"));
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_match_prefix_respects_component_boundaries),
		cmocka_unit_test(test_set_match_globs_and_double_star),
		cmocka_unit_test(test_set_match_exact_path_without_contents),
		cmocka_unit_test(test_set_match_basename_globs_at_any_depth),
		cmocka_unit_test(test_set_match_last_match_wins),
		cmocka_unit_test(test_set_excluded_takes_subtree_and_beats_later_rules),
		cmocka_unit_test(test_set_may_match_below_prunes_only_what_no_rule_reaches),
		cmocka_unit_test(test_set_match_index_agrees_with_brute_force),
		cmocka_unit_test(test_set_match_kind_sysctl_globs_see_the_whole_key),
		cmocka_unit_test(test_set_match_kind_literal_keys_and_components),
		cmocka_unit_test(test_set_match_kind_mount_keys_are_paths),
		cmocka_unit_test(test_set_match_kind_last_match_wins_and_excludes_win),
		cmocka_unit_test(test_set_match_kind_keeps_kinds_apart),
		cmocka_unit_test(test_set_match_kind_long_keys),
		cmocka_unit_test(test_set_match_files_ignore_rules_of_other_kinds),
		cmocka_unit_test(test_set_unowned_scope_defaults),
		cmocka_unit_test(test_set_unowned_scope_follows_the_policy),
	};
	return cmocka_run_group_tests_name("rules/match", tests, NULL, NULL);
}
