/*
 * keep_content and secret: parsing, the defaults of the built-in policy,
 * the last stating rule deciding keep_content, secret winning everywhere.
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

#include "common/diag.h"

static struct rule_set *load(const char *text)
{
	struct rule_set *rs = NULL;
	struct diag d = { 0 };

	assert_int_equal(rule_set_load_buffer("t.yaml", text, strlen(text), NULL, NULL, &rs, &d),
			 0);
	return rs;
}

static enum rule_content content(const struct rule_set *rs, const char *path, const char **id)
{
	const struct rule *r = NULL;
	enum rule_content c = rule_set_content(rs, path, strlen(path), &r);

	if (id)
		*id = r ? rule_id(r) : NULL;
	return c;
}

static void test_parse_and_last_stating_rule_decides(void **state)
{
	struct rule_set *rs = load("rules:\n"
				   "  - {id: all, path: /}\n"
				   "  - {id: etc, path: /etc, keep_content: true}\n"
				   "  - {id: ssh, path: /etc/ssh, severity: critical}\n"
				   "  - {id: big, path: /etc/big, keep_content: false}\n"
				   "  - {id: key, path: \"/etc/ssh/*_key\", secret: true}\n"
				   "  - {id: late, path: /etc/ssh/host_key, keep_content: true}\n");
	const char *id;
	bool keep = true;

	assert_int_equal(content(rs, "/usr/bin/ls", &id), RULE_CONTENT_NONE);
	assert_null(id);
	assert_int_equal(content(rs, "/etc/hosts", &id), RULE_CONTENT_KEEP);
	assert_string_equal(id, "etc");
	/* A later rule that says nothing inherits it. */
	assert_int_equal(content(rs, "/etc/ssh/sshd_config", &id), RULE_CONTENT_KEEP);
	assert_string_equal(id, "etc");
	assert_int_equal(content(rs, "/etc/big/x", &id), RULE_CONTENT_NONE);
	assert_string_equal(id, "big");
	/* Secret wins over a later keep_content, whatever the order. */
	assert_int_equal(content(rs, "/etc/ssh/host_key", &id), RULE_CONTENT_SECRET);
	assert_string_equal(id, "key");

	assert_false(rule_keep_content(rule_set_match(rs, "/etc/ssh/x", 10), &keep));
	assert_true(rule_keep_content(rule_set_match(rs, "/etc/big", 8), &keep));
	assert_false(keep);
	assert_true(rule_secret(rule_set_match(rs, "/etc/ssh/a_key", 14)));
	rule_set_free(rs);
}

/* A secret directory makes everything below it secret. */
static void test_secret_covers_subtree(void **state)
{
	struct rule_set *rs = load("rules:\n"
				   "  - {id: etc, path: /etc, keep_content: true}\n"
				   "  - {id: priv, path: /etc/ssl/private, secret: true}\n"
				   "  - {id: after, path: \"/etc/ssl/**\", keep_content: true}\n");

	assert_int_equal(content(rs, "/etc/ssl/private/a/b.pem", NULL), RULE_CONTENT_SECRET);
	assert_int_equal(content(rs, "/etc/ssl/private", NULL), RULE_CONTENT_SECRET);
	assert_int_equal(content(rs, "/etc/ssl/privatex", NULL), RULE_CONTENT_KEEP);
	rule_set_free(rs);
}

static int problems;
static void count_problem(const struct diag *d, void *userdata)
{
	(void)d;
	(void)userdata;
	problems++;
}

static void test_bad_values_are_problems(void **state)
{
	static const char *const bad[] = {
		"rules:\n  - {path: /etc, keep_content: maybe}\n",
		"rules:\n  - {path: /etc, secret: 3}\n",
		"rules:\n  - {kind: user, key: root, keep_content: true}\n",
		"rules:\n  - {path: /etc, exclude: true, secret: true}\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct rule_set *rs = NULL;
		struct diag d = { 0 };

		problems = 0;
		assert_int_equal(rule_set_load_buffer("t.yaml", bad[i], strlen(bad[i]),
						      count_problem, NULL, &rs, &d),
				 -EBADMSG);
		assert_true(problems >= 1);
		assert_null(rs);
	}
}

static void test_default_policy(void **state)
{
	static const char *const secret[] = {
		"/etc/shadow",
		"/etc/shadow-",
		"/etc/gshadow",
		"/etc/gshadow-",
		"/etc/ssl/private/ssl-cert-snakeoil.key",
		"/etc/ssh/ssh_host_ed25519_key",
		"/etc/ssh/ssh_host_rsa_key",
	};
	static const char *const kept[] = {
		"/etc/hosts",  "/etc/ssh/sshd_config", "/etc/ssh/ssh_host_rsa_key.pub",
		"/etc/passwd", "/etc/sudoers",
	};
	struct rule_set *rs = NULL;
	struct diag d = { 0 };

	assert_int_equal(rule_set_load_default(&rs, &d), 0);
	for (size_t i = 0; i < sizeof(secret) / sizeof(secret[0]); i++)
		assert_int_equal(content(rs, secret[i], NULL), RULE_CONTENT_SECRET);
	for (size_t i = 0; i < sizeof(kept) / sizeof(kept[0]); i++)
		assert_int_equal(content(rs, kept[i], NULL), RULE_CONTENT_KEEP);
	assert_int_equal(content(rs, "/usr/bin/ls", NULL), RULE_CONTENT_NONE);
	assert_int_equal(content(rs, "/boot/vmlinuz", NULL), RULE_CONTENT_NONE);
	rule_set_free(rs);
}

/* `drift policy show` says both; explain carries the decision. */
static void test_show_and_explain(void **state)
{
	struct rule_set *rs = load("rules:\n"
				   "  - {id: etc, path: /etc, keep_content: true}\n"
				   "  - {id: key, path: /etc/key, secret: true}\n");
	struct rule_explanation ex;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(rule_set_show(rs, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "keep_content: true"));
	assert_non_null(strstr(buf, "secret: true"));
	free(buf);

	assert_int_equal(rule_set_explain(rs, ENTRY_FILE, "/etc/key", 8, &ex), 0);
	assert_int_equal(ex.content, RULE_CONTENT_SECRET);
	assert_string_equal(rule_id(ex.content_rule), "key");
	rule_explanation_release(&ex);
	rule_set_free(rs);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_and_last_stating_rule_decides),
		cmocka_unit_test(test_secret_covers_subtree),
		cmocka_unit_test(test_bad_values_are_problems),
		cmocka_unit_test(test_default_policy),
		cmocka_unit_test(test_show_and_explain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
