/*
 * rule_set_lint(): the warnings of a policy that loads, each one true, and
 * none for the built-in policy and the shipped examples.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "rules/rules.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"

#define MAXW 16

struct warnings {
	char text[MAXW][400]; /* "LINE:COL: message" */
	const char *file[MAXW];
	size_t n;
};

static void collect(const struct diag *d, void *userdata)
{
	struct warnings *w = userdata;

	assert_non_null(d->file);
	if (w->n < MAXW) {
		snprintf(w->text[w->n], sizeof(w->text[0]), "%u:%u: %s", d->line, d->col, d->msg);
		w->file[w->n] = d->file;
	}
	w->n++;
}

static struct rule_set *load(const char *yaml)
{
	struct rule_set *rs = NULL;
	struct diag d;

	assert_int_equal(rule_set_load_buffer("t.yaml", yaml, strlen(yaml), NULL, NULL, &rs, &d),
			 0);
	return rs;
}

/* The warnings of @yaml; the count rule_set_lint() returned is checked against them. */
static void lint(const char *yaml, struct warnings *w)
{
	struct rule_set *rs = load(yaml);

	int n;

	memset(w, 0, sizeof(*w));
	n = rule_set_lint(rs, collect, w);
	assert_int_equal(n, (int)w->n);
	for (size_t i = 0; i < w->n && i < MAXW; i++)
		assert_string_equal(w->file[i], "t.yaml");
	rule_set_free(rs);
}

static void no_warning(const char *yaml)
{
	struct warnings w;

	lint(yaml, &w);
	for (size_t i = 0; i < w.n && i < MAXW; i++)
		print_message("unexpected warning: %s\n", w.text[i]);
	assert_int_equal(w.n, 0);
}

static const char *one_warning(const char *yaml)
{
	static struct warnings w;

	lint(yaml, &w);
	if (w.n != 1)
		for (size_t i = 0; i < w.n && i < MAXW; i++)
			print_message("warning: %s\n", w.text[i]);
	assert_int_equal(w.n, 1);
	return w.text[0];
}

/* Policies of files only: no probe. */
#define FILES_ONLY "scan:\n  probes: none\n"

static void test_lint_probe_without_rule_of_its_kind(void **state)
{
	(void)state;
	struct warnings w;

	/* Named in scan.probes: the warning points at the name. */
	assert_string_equal(
		one_warning("scan:\n"
			    "  probes: [package, sysctl]\n"
			    "rules:\n"
			    "  - {path: /}\n"
			    "  - {kind: package, key: \"**\"}\n"
			    "  - {kind: sysctl, key: \"kernel.*\", exclude: true}\n"),
		"2:21: probe 'sysctl' is enabled, but no rule covers kind 'sysctl': nothing it "
		"collects is recorded (add a rule with 'kind: sysctl', or drop the probe from "
		"scan.probes)");

	/* A probe of two kinds, one covered. */
	assert_string_equal(
		one_warning("scan:\n  probes: [user]\nrules:\n  - {kind: user, key: \"**\"}\n"),
		"2:12: probe 'user' is enabled, but no rule covers kind 'group': those entries are "
		"not recorded (add a rule with 'kind: group')");

	/* `all` stands for every probe; the warnings point at it. */
	lint("scan:\n  probes: all\nrules:\n  - {path: /}\n", &w);
	assert_int_equal(w.n, 7);
	assert_string_equal(w.text[1], "2:11: probe 'user' is enabled, but no rule covers kind "
				       "'user' or 'group': nothing it collects is recorded (add a "
				       "rule with 'kind: user' and one with 'kind: group', or drop "
				       "the probe from scan.probes)");

	/*
	 * Without scan.probes every probe runs: the case of the policy that
	 * recorded no user nor package, and checked ok. No line to point at.
	 */
	lint("rules:\n  - {path: /}\n", &w);
	assert_int_equal(w.n, 7);
	assert_string_equal(w.text[0], "0:0: probe 'package' runs (without scan.probes every probe "
				       "does), but no rule covers kind 'package': nothing it "
				       "collects is recorded (add a rule with 'kind: package', or "
				       "list the probes to run in scan.probes)");
	assert_string_equal(w.text[6] + strlen("0:0: "),
			    "probe 'mount' runs (without scan.probes every probe does), but no "
			    "rule covers kind 'mount': nothing it collects is recorded (add a rule "
			    "with 'kind: mount', or list the probes to run in scan.probes)");

	no_warning("scan:\n  probes: none\n");
	no_warning("scan:\n  probes: [mount, port]\nrules:\n"
		   "  - {kind: mount, path: /}\n  - {kind: port, key: \"tcp\"}\n");
}

static void test_lint_rule_outside_every_root(void **state)
{
	(void)state;
	assert_string_equal(one_warning(FILES_ONLY "  roots: [/etc, /srv]\n"
						   "rules:\n"
						   "  - {id: bin, path: /usr/bin}\n"),
			    "5:5: rule 'bin' (path /usr/bin) is outside every scan root (/etc, "
			    "/srv): it matches only below a root given on the command line");
	assert_string_equal(one_warning(FILES_ONLY "  roots: [/a, /b, /c, /d, /e, /f]\n"
						   "rules:\n"
						   "  - {id: x, path: \"=/\"}\n"),
			    "5:5: rule 'x' (path =/) is outside every scan root (/a, /b, /c, /d, "
			    "...): it matches only below a root given on the command line");
	/* Globs that could match under a root; a rule above a root; a name glob. */
	no_warning(FILES_ONLY "  roots: [/etc/ssh, /srv/www]\n"
			      "rules:\n"
			      "  - {path: /}\n"
			      "  - {path: /etc}\n"
			      "  - {path: \"/etc/*/*.conf\"}\n"
			      "  - {path: \"/srv/**/*.php\"}\n"
			      "  - {path: \"*.swp\"}\n"
			      "  - {path: \"=/srv/www\"}\n"
			      "  - {path: /var/cache, exclude: true}\n");
}

static void test_lint_rule_that_an_exclusion_takes(void **state)
{
	(void)state;
	assert_string_equal(one_warning(FILES_ONLY
					"  exclude: [/var/cache]\n"
					"rules:\n"
					"  - {path: /}\n"
					"  - {id: apt, path: \"/var/cache/apt/*.bin\"}\n"),
			    "6:5: rule 'apt' never matches: everything it matches is excluded by "
			    "scan.exclude '/var/cache'");
	/* Exclusions win whatever their order; `=` makes no difference to one. */
	assert_string_equal(one_warning(FILES_ONLY
					"rules:\n"
					"  - {path: /}\n"
					"  - {id: tmp, path: \"=/tmp/x\"}\n"
					"  - {id: no-tmp, path: \"=/tmp\", exclude: true}\n"),
			    "5:5: rule 'tmp' never matches: everything it matches is excluded by "
			    "rule 'no-tmp' (line 6)");
	assert_string_equal(
		one_warning(FILES_ONLY "rules:\n"
				       "  - {path: /}\n"
				       "  - {id: x, path: /srv/a/b}\n"
				       "  - {id: below, path: \"/srv/**\", exclude: true}\n"),
		"5:5: rule 'x' never matches: everything it matches is excluded by rule "
		"'below' (line 6)");
	/* One path of files and a glob exclusion: the matcher knows. */
	assert_string_equal(one_warning(FILES_ONLY "rules:\n"
						   "  - {path: /}\n"
						   "  - {id: swap, path: \"=/etc/.x.swp\"}\n"
						   "  - {path: \"*.swp\", exclude: true}\n"),
			    "5:5: rule 'swap' never matches: everything it matches is excluded by "
			    "rule 'rule-3' (line 6)");
	/* Kinds: their own exclusions. */
	assert_string_equal(
		one_warning(FILES_ONLY
			    "rules:\n"
			    "  - {kind: sysctl, key: \"**\"}\n"
			    "  - {id: rnd, kind: sysctl, key: kernel.random.uuid}\n"
			    "  - {kind: sysctl, key: kernel.random.uuid, exclude: true}\n"),
		"5:5: rule 'rnd' never matches: everything it matches is excluded by "
		"rule 'rule-3' (line 6)");
	/* Not all of it: no warning. */
	no_warning(FILES_ONLY "  exclude: [/var/cache/apt]\n"
			      "rules:\n"
			      "  - {path: /var/cache}\n"
			      "  - {path: /srv}\n"
			      "  - {path: \"/srv/*.tmp\", exclude: true}\n"
			      "  - {path: /var/logs}\n"
			      "  - {path: /var/log, exclude: true}\n"
			      "  - {path: /home/a}\n"
			      "  - {path: \"/home/*/.cache\", exclude: true}\n"
			      "  - {kind: user, key: \"**\"}\n"
			      "  - {kind: sysctl, key: \"**\"}\n"
			      "  - {kind: user, key: \"=root\", exclude: true}\n");
}

static void test_lint_rule_that_a_later_rule_overrides(void **state)
{
	(void)state;
	/* The same pattern. */
	assert_string_equal(one_warning(FILES_ONLY
					"rules:\n"
					"  - {id: a, path: \"/etc/*.conf\"}\n"
					"  - {id: b, path: \"/etc/*.conf\", severity: high}\n"),
			    "4:5: rule 'a' never decides anything: the later rule 'b' (line 5) "
			    "matches all it matches, and the last matching rule wins");
	/* A later literal above it. */
	assert_string_equal(one_warning(FILES_ONLY
					"rules:\n"
					"  - {id: ssh, path: /etc/ssh, severity: critical}\n"
					"  - {id: etc, path: /etc, severity: high}\n"),
			    "4:5: rule 'ssh' never decides anything: the later rule 'etc' (line 5) "
			    "matches all it matches, and the last matching rule wins");
	/* A later "everything below", over a glob that never matches its anchor. */
	assert_string_equal(
		one_warning(FILES_ONLY "rules:\n"
				       "  - {id: php, path: \"/srv/www/**/*.php\"}\n"
				       "  - {id: www, path: \"/srv/www/**\"}\n"),
		"4:5: rule 'php' never decides anything: the later rule 'www' (line 5) matches all "
		"it matches, and the last matching rule wins");
	/* One path of files, and any later pattern that matches it. */
	assert_string_equal(one_warning(FILES_ONLY "rules:\n"
						   "  - {id: passwd, path: \"=/etc/passwd\"}\n"
						   "  - {id: etc, path: \"/etc/p*\"}\n"),
			    "4:5: rule 'passwd' never decides anything: the later rule 'etc' (line "
			    "5) matches all it matches, and the last matching rule wins");
	/* A catch-all last takes everything, of files and of a kind. */
	assert_string_equal(one_warning(FILES_ONLY "rules:\n"
						   "  - {id: swp, path: \"*.swp\"}\n"
						   "  - {id: all, path: /}\n"),
			    "4:5: rule 'swp' never decides anything: the later rule 'all' (line 5) "
			    "matches all it matches, and the last matching rule wins");
	assert_string_equal(one_warning(FILES_ONLY "rules:\n"
						   "  - {id: root, kind: user, key: \"=root\"}\n"
						   "  - {id: users, kind: user, key: \"**\"}\n"),
			    "4:5: rule 'root' never decides anything: the later rule 'users' (line "
			    "5) matches all it matches, and the last matching rule wins");

	/* General first, exceptions after: the order the docs teach. */
	no_warning(FILES_ONLY "rules:\n"
			      "  - {path: /}\n"
			      "  - {path: /etc}\n"
			      "  - {path: /etc/ssh}\n"
			      "  - {path: \"/etc/ssh/*_key\"}\n"
			      "  - {kind: user, key: \"**\"}\n"
			      "  - {kind: user, key: \"=root\"}\n");
	/* A later pattern that covers only part of an earlier one. */
	no_warning(FILES_ONLY "rules:\n"
			      "  - {path: /etc}\n"
			      "  - {path: \"/etc/**\"}\n" /* not /etc itself */
			      "  - {path: /srv}\n"
			      "  - {path: \"/srv/*\"}\n" /* not /srv, nor deeper */
			      "  - {path: \"=/var\"}\n"
			      "  - {path: \"/var/*\"}\n" /* not /var */
			      "  - {path: \"/home/*/.ssh\"}\n"
			      "  - {path: \"/home/*/.ssh/**\"}\n" /* not the directories */
			      "  - {path: /var/logs}\n"
			      "  - {path: /var/log}\n" /* component boundaries */
			      "  - {path: \"*.conf\"}\n"
			      "  - {path: \"/etc/**/*.conf\"}\n"
			      "  - {path: /opt/a}\n"
			      "  - {path: \"=/opt\"}\n"
			      "  - {kind: package, key: \"bash:amd64\"}\n"
			      "  - {kind: package, key: bash}\n" /* "bash", not "bash:amd64" */
			      "  - {kind: port, key: \"tcp6\"}\n"
			      "  - {kind: port, key: \"tcp\"}\n"
			      "  - {kind: sysctl, key: \"net.ipv4.ip_forward\"}\n"
			      "  - {kind: sysctl, key: \"net.*\"}\n" /* a sure case only */
			      "  - {kind: user, key: \"**\"}\n"
			      "  - {kind: group, key: \"**\"}\n" /* another kind */
			      "  - {path: /x, exclude: true}\n"
			      "  - {path: /x, exclude: true}\n"); /* exclusions do not decide */
}

/* The warnings come in file order, with their count; the set is only read. */
static void test_lint_warnings_in_file_order(void **state)
{
	(void)state;
	struct warnings w;

	lint("scan:\n"
	     "  roots: [/etc]\n"
	     "  probes: [module]\n"
	     "rules:\n"
	     "  - {id: a, path: /etc/a}\n"
	     "  - {id: b, path: /etc}\n"
	     "  - {id: c, path: /usr}\n",
	     &w);
	assert_int_equal(w.n, 3);
	assert_string_equal(w.text[0], "3:12: probe 'module' is enabled, but no rule covers kind "
				       "'module': nothing it collects is recorded (add a rule with "
				       "'kind: module', or drop the probe from scan.probes)");
	assert_true(!strncmp(w.text[1], "5:5: rule 'a' never decides", 27));
	assert_true(!strncmp(w.text[2], "7:5: rule 'c' (path /usr) is outside", 36));

	/* No callback: just the count. */
	struct rule_set *rs = load("rules:\n  - {path: /}\n");
	assert_int_equal(rule_set_lint(rs, NULL, NULL), 7);
	rule_set_free(rs);
}

/* The policy drift uses when there is none, and the examples it ships: no warning. */
static void test_lint_builtin_and_shipped_policies_are_clean(void **state)
{
	(void)state;
	static const char *const shipped[] = { "default.yaml", "etc-only.yaml", "webserver.yaml",
					       "container.yaml" };
	struct warnings w = { 0 };
	struct rule_set *rs;
	struct diag d;
	char path[512];

	assert_int_equal(rule_set_load_default(&rs, &d), 0);
	assert_int_equal(rule_set_lint(rs, collect, &w), 0);
	rule_set_free(rs);
	for (size_t i = 0; i < sizeof(shipped) / sizeof(shipped[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", DRIFT_POLICY_DIR, shipped[i]);
		assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), 0);
		memset(&w, 0, sizeof(w));
		rule_set_lint(rs, collect, &w);
		for (size_t j = 0; j < w.n && j < MAXW; j++)
			print_message("%s: %s\n", shipped[i], w.text[j]);
		assert_int_equal(w.n, 0);
		rule_set_free(rs);
	}
}

/*
 * Extending: overriding an inherited rule is the point, and narrowing the
 * roots leaves inherited rules outside them; neither is warned about. The
 * file's own rules are, and a probe left without rules is whoever wrote it.
 */
static void test_lint_spares_rules_of_an_extended_policy(void **state)
{
	(void)state;
	char dir[] = "/tmp/drift-lint-XXXXXX", path[64], want[200];
	struct warnings w = { 0 };
	struct rule_set *rs;
	struct diag d;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/p.yaml", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("extends: builtin\n"
	      "scan:\n"
	      "  roots: [/etc]\n"
	      "rules:\n"
	      "  - {id: my-ssh, path: /etc/ssh, severity: medium}\n"
	      "  - {id: my-ssh-config, path: /etc/ssh/sshd_config}\n"
	      "  - {id: my-ssh-again, path: /etc/ssh, severity: low}\n",
	      f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rule_set_load_file(path, NULL, NULL, &rs, &d), 0);
	assert_int_equal(rule_set_lint(rs, collect, &w), 2);
	snprintf(want, sizeof(want), "%s", path);
	assert_string_equal(w.file[0], want);
	assert_string_equal(w.text[0], "5:5: rule 'my-ssh' never decides anything: the later rule "
				       "'my-ssh-again' (line 7) matches all it matches, and the "
				       "last matching rule wins");
	assert_string_equal(w.text[1], "6:5: rule 'my-ssh-config' never decides anything: the "
				       "later rule 'my-ssh-again' (line 7) matches all it matches, "
				       "and the last matching rule wins");
	rule_set_free(rs);
	unlink(path);
	rmdir(dir);
}

/* A big policy is linted in time proportional to it, not to its square. */
static void test_lint_big_policy(void **state)
{
	(void)state;
	struct strbuf sb = STRBUF_INIT;
	struct rule_set *rs = NULL;
	struct diag d;

	assert_int_equal(strbuf_adds(&sb, FILES_ONLY "rules:\n"), 0);
	for (unsigned i = 0; i < 60000; i++)
		assert_int_equal(strbuf_addf(&sb, "  - {path: \"/srv/d%u/f%u\"}\n", i % 300, i), 0);
	assert_int_equal(strbuf_adds(&sb, "  - {path: /srv}\n"), 0);
	assert_int_equal(rule_set_load_buffer("t.yaml", sb.buf, sb.len, NULL, NULL, &rs, &d), 0);
	assert_int_equal(rule_set_lint(rs, NULL, NULL), 60000);
	rule_set_free(rs);
	strbuf_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lint_probe_without_rule_of_its_kind),
		cmocka_unit_test(test_lint_rule_outside_every_root),
		cmocka_unit_test(test_lint_rule_that_an_exclusion_takes),
		cmocka_unit_test(test_lint_rule_that_a_later_rule_overrides),
		cmocka_unit_test(test_lint_warnings_in_file_order),
		cmocka_unit_test(test_lint_builtin_and_shipped_policies_are_clean),
		cmocka_unit_test(test_lint_spares_rules_of_an_extended_policy),
		cmocka_unit_test(test_lint_big_policy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
