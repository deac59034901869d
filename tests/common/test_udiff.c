/* common/udiff: unified diffs of kept content, their caps, binary input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "common/udiff.h"

#define HEAD "--- /etc/f\told\n+++ /etc/f\tnew\n"

static struct udiff_opts opts(void)
{
	return (struct udiff_opts){ .path = "/etc/f",
				    .path_len = 6,
				    .old_label = "old",
				    .new_label = "new",
				    .context = 3 };
}

/* Diff two C strings with @o; returns the text (static strbuf, reset each call). */
static const char *run(const char *a, const char *b, const struct udiff_opts *o,
		       struct udiff_result *res)
{
	static struct strbuf sb = STRBUF_INIT;

	strbuf_reset(&sb);
	assert_int_equal(
		udiff((const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), o, &sb, res),
		0);
	return sb.buf ? sb.buf : "";
}

static void test_identical(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;

	assert_string_equal(run("a\nb\n", "a\nb\n", &o, &res), "");
	assert_true(res.identical);
	assert_false(res.binary);
	assert_string_equal(run("", "", &o, &res), "");
	assert_true(res.identical);
}

static void test_insert_delete_change(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;

	assert_string_equal(run("a\nb\n", "a\nx\nb\n", &o, &res),
			    HEAD "@@ -1,2 +1,3 @@\n a\n+x\n b\n");
	assert_false(res.identical);
	assert_int_equal(res.lines, 4);
	assert_string_equal(run("a\nb\nc\n", "a\nc\n", &o, &res),
			    HEAD "@@ -1,3 +1,2 @@\n a\n-b\n c\n");
	assert_string_equal(run("a\nb\nc\n", "a\nB\nc\n", &o, &res),
			    HEAD "@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
	/* From nothing, and to nothing: the empty side's range names line 0. */
	assert_string_equal(run("", "x\ny\n", &o, &res), HEAD "@@ -0,0 +1,2 @@\n+x\n+y\n");
	assert_string_equal(run("x\n", "", &o, &res), HEAD "@@ -1 +0,0 @@\n-x\n");
}

static void test_context_and_merging(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;
	/* 1..20, changes at 2 and 18: far apart, two hunks. */
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";
	const char *b = "1\nTWO\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\nEIGHTEEN\n"
			"19\n20\n";
	const char *c =
		"1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n10\nELEVEN\n12\n13\n14\n15\n16\n17\n18\n19\n20\n";

	assert_string_equal(run(a, b, &o, &res),
			    HEAD "@@ -1,5 +1,5 @@\n 1\n-2\n+TWO\n 3\n 4\n 5\n"
				 "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+EIGHTEEN\n 19\n 20\n");
	/* Changes 6 lines apart: their contexts touch, one hunk. */
	assert_string_equal(run(a, c, &o, &res),
			    HEAD "@@ -2,13 +2,13 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n 9\n 10\n"
				 "-11\n+ELEVEN\n 12\n 13\n 14\n");
	/* Context 0. */
	o.context = 0;
	assert_string_equal(run("a\nb\nc\n", "a\nB\nc\n", &o, &res), HEAD "@@ -2 +2 @@\n-b\n+B\n");
}

static void test_no_trailing_newline(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;

	assert_string_equal(run("a\nb", "a\nb\n", &o, &res),
			    HEAD "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n");
	assert_string_equal(run("a\nb", "a\nc", &o, &res),
			    HEAD "@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n"
				 "\\ No newline at end of file\n");
}

static void test_caps(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	const char *t;

	for (int i = 0; i < 100; i++) {
		assert_int_equal(strbuf_addf(&a, "old %d\n", i), 0);
		assert_int_equal(strbuf_addf(&b, "new %d\n", i), 0);
	}
	/* 1 hunk header + 200 lines; 20 shown. */
	o.max_lines = 20;
	t = run(a.buf, b.buf, &o, &res);
	assert_int_equal(res.lines, 20);
	assert_int_equal(res.omitted_lines, 181);
	assert_non_null(strstr(t, "-old 18\n"));
	assert_null(strstr(t, "old 19\n"));
	/* A byte cap cuts at a whole line. */
	o.max_lines = 0;
	o.max_bytes = 100;
	t = run(a.buf, b.buf, &o, &res);
	assert_true(strlen(t) - strlen(HEAD) <= 100);
	assert_int_equal(t[strlen(t) - 1], '\n');
	assert_int_equal(res.lines + res.omitted_lines, 201);
	/* An edit distance cap: still a correct diff, all old out, all new in. */
	o.max_bytes = 0;
	o.max_d = 10;
	t = run(a.buf, b.buf, &o, &res);
	assert_true(res.capped);
	assert_int_equal(res.lines, 201);
	assert_non_null(strstr(t, "@@ -1,100 +1,100 @@\n-old 0\n"));
	strbuf_release(&a);
	strbuf_release(&b);
}

static void test_binary(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;
	struct strbuf sb = STRBUF_INIT;
	static const uint8_t nul[] = { 'a', 0, 'b', '\n' };
	static const uint8_t latin1[] = "caf\xe9\n\xff\xfe\xfd\n";

	assert_int_equal(udiff(nul, sizeof(nul), (const uint8_t *)"ab\n", 3, &o, &sb, &res), 0);
	assert_true(res.binary);
	assert_int_equal(sb.len, 0);
	assert_true(udiff_is_binary(latin1, sizeof(latin1) - 1));
	/* One stray byte in a long text is not binary. */
	assert_false(udiff_is_binary((const uint8_t *)"hello world, this is text\xe9 with one bad "
						      "byte in it\n",
				     50));
	assert_false(udiff_is_binary((const uint8_t *)"caf\xc3\xa9 \xe2\x82\xac\n", 10));
	/* Same binary bytes: identical, not "binary differs". */
	assert_int_equal(udiff(nul, sizeof(nul), nul, sizeof(nul), &o, &sb, &res), 0);
	assert_false(res.binary);
	assert_true(res.identical);
	strbuf_release(&sb);
}

/* A larger random edit: the diff applied to the old side gives the new one. */
static void test_random_edits_apply(void **state)
{
	struct udiff_opts o = opts();
	struct udiff_result res;
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, got = STRBUF_INIT;
	unsigned seed = 12345;

	for (int round = 0; round < 20; round++) {
		strbuf_reset(&a);
		strbuf_reset(&b);
		strbuf_reset(&got);
		for (int i = 0; i < 300; i++) {
			seed = seed * 1103515245 + 12345;
			int line = (int)((seed >> 16) % 7);
			assert_int_equal(strbuf_addf(&a, "l%d\n", line), 0);
			seed = seed * 1103515245 + 12345;
			if ((seed >> 16) % 5 == 0)
				continue; /* deleted */
			if ((seed >> 16) % 5 == 1)
				assert_int_equal(strbuf_addf(&b, "n%d\n", i), 0); /* inserted */
			assert_int_equal(strbuf_addf(&b, "l%d\n", line), 0);
		}
		o.context = 1;
		const char *t = run(a.buf, b.buf, &o, &res);
		/* Apply: walk the hunks, copying unchanged lines from a. */
		const char *ap = a.buf, *p = strchr(strchr(t, '\n') + 1, '\n') + 1;
		size_t aline = 0;
		while (*p) {
			const char *nl = strchr(p, '\n');
			size_t len = (size_t)(nl - p) + 1;
			if (p[0] == '@') {
				size_t from = strtoul(p + 4, NULL, 10);
				while (aline + 1 < from) {
					const char *e = strchr(ap, '\n') + 1;
					assert_int_equal(strbuf_add(&got, ap, (size_t)(e - ap)), 0);
					ap = e;
					aline++;
				}
			} else if (p[0] == ' ' || p[0] == '-') {
				ap = strchr(ap, '\n') + 1;
				aline++;
				if (p[0] == ' ')
					assert_int_equal(strbuf_add(&got, p + 1, len - 1), 0);
			} else if (p[0] == '+') {
				assert_int_equal(strbuf_add(&got, p + 1, len - 1), 0);
			}
			p = nl + 1;
		}
		assert_int_equal(strbuf_adds(&got, ap), 0);
		assert_string_equal(got.buf, b.buf);
	}
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_insert_delete_change),
		cmocka_unit_test(test_context_and_merging),
		cmocka_unit_test(test_no_trailing_newline),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_random_edits_apply),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
