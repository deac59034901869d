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
	};
	return cmocka_run_group_tests_name("rules/match", tests, NULL, NULL);
}
