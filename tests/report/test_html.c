/*
 * Unit tests of report/html.c: the HTML report, against a golden file in
 * tests/golden/ (.html) (DRIFT_UPDATE_GOLDEN=1 rewrites it), and against
 * what must never be in it: a host string that closes the script element,
 * injects markup, or reaches the page with raw control bytes or invalid
 * UTF-8. Whether the page works in a browser is tests/e2e/test_html.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/tap.h"

#include "report/report.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "tests/report/fixture.h"

#define SEC INT64_C(1000000000)

static char *render(const struct report_meta *meta, fx_add_fn *add, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;

	assert_int_equal(fx_render(REPORT_HTML, meta, add, &buf, &len), 0);
	assert_int_equal(strlen(buf), len);
	if (ret_len)
		*ret_len = len;
	return buf;
}

static void assert_contains(const char *haystack, const char *needle)
{
	if (!strstr(haystack, needle)) {
		print_error("missing: [%s]\n", needle);
		fail();
	}
}

/* Occurrences of @needle in @s, ignoring ASCII case. */
static size_t count_ci(const char *s, const char *needle)
{
	size_t n = 0, len = strlen(needle);

	for (; *s; s++)
		if (!strncasecmp(s, needle, len))
			n++;
	return n;
}

static size_t count(const char *s, const char *needle)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

/* ---- the hostile fixture ---- */

static char s_label[] = "</script><script>alert('label')</script>";
static char s_host[] = "<img src=x onerror=alert(1)>";
static char s_root[] = "/srv";
static char *roots[] = { s_root, NULL };
static struct snap_info hostile_before, hostile_after;

static const struct report_history history[] = {
	{ .run = 4, .started_ns = 1795400000 * SEC, .drift = 3, .expected = 1, .exit_code = 4 },
	{ .run = 5, .started_ns = 1795486400 * SEC, .drift = 0, .expected = 2, .exit_code = 0 },
	{ .run = 6,
	  .started_ns = 1795572800 * SEC,
	  .drift = 5,
	  .expected = 0,
	  .blind = 1,
	  .exit_code = 5 },
};

static void meta_hostile(struct report_meta *ret_meta)
{
	fx_meta_check(ret_meta);
	hostile_before = fx_baseline;
	hostile_before.label = s_label;
	hostile_before.roots = roots;
	hostile_before.nroots = 1;
	hostile_after = fx_check;
	hostile_after.host = s_host;
	hostile_after.roots = roots;
	hostile_after.nroots = 1;
	ret_meta->before = &hostile_before;
	ret_meta->after = &hostile_after;
	ret_meta->database = "/var/lib/drift/<b>drift</b>.db";
	ret_meta->history = history;
	ret_meta->nhistory = sizeof(history) / sizeof(history[0]);
	ret_meta->have_min_severity = true;
	ret_meta->min_severity = SEVERITY_LOW;
	ret_meta->since_last = true;
	ret_meta->since_run = 6;
	ret_meta->run_id = 7;
}

static struct entry file(const char *key, size_t len)
{
	static const uint8_t hash[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					  0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	struct entry e = {
		.kind = ENTRY_FILE,
		.key = key,
		.key_len = len,
		.mode = S_IFREG | 0644,
		.size = 1024,
		.mtime_ns = 1795165200 * SEC + 123456789,
		.ctime_ns = 1795165200 * SEC + 123456789,
		.ino = 131075,
		.dev = 2049,
		.nlink = 1,
		.hash_algo = HASH_XXH3_128,
		.hash_len = 16,
	};
	memcpy(e.hash, hash, 16);
	return e;
}

#define KEY(s) (s), sizeof(s) - 1

static struct finding judged(enum change change, const struct entry *before,
			     const struct entry *after, enum verdict_class cls, enum severity sev,
			     const char *rule, const char *reason, uint32_t attrs)
{
	return (struct finding){ .change = change,
				 .before = before,
				 .after = after,
				 .changed = attrs,
				 .judged = true,
				 .class = cls,
				 .severity = sev,
				 .attrs = attrs,
				 .reason = reason,
				 .counts = cls != CLASS_EXPECTED,
				 .rule_id = rule,
				 .rule_title = rule ? "A <i>rule</i>" : NULL,
				 .rule_file = rule ? "/etc/drift/policy.yaml" : NULL,
				 .rule_line = rule ? 12 : 0 };
}

/*
 * Hostile names in every place a host string goes: a newline, control
 * bytes, DEL, invalid UTF-8, U+2028 and U+202E, markup that would inject an
 * element or close the script, terminal escapes; in paths, rule texts,
 * reasons, package names and versions, event names, props, symlink
 * targets, a kept-file diff, an error entry and a note. Plus a finding
 * --min-severity hides, a resolved one, new and persisting ones.
 */
static int add_hostile(struct report *rep)
{
	static const char diff_text[] =
		"--- a/srv/latin1-\\xff\\xfe\tbaseline\n+++ b/srv/latin1-\\xff\\xfe\tcheck\n"
		"@@ -1,2 +1,2 @@\n-old \xff line\n+</script><script>alert('diff')</script>\n"
		" \x1b[31mcontext\x1b[0m &amp;\n";
	const struct report_diff diff = { .text = diff_text,
					  .len = sizeof(diff_text) - 1,
					  .omitted_lines = 3,
					  .show_snapshot = "check-<7>" };
	struct strbuf blob_old = STRBUF_INIT, blob_new = STRBUF_INIT;
	struct entry o, n;
	struct finding f;
	int r;

	n = file(KEY("/srv/a\nb"));
	f = judged(CHANGE_ADDED, NULL, &n, CLASS_DRIFT, SEVERITY_HIGH, "r<1>",
		   "</script><script>alert(1)</script>", 0);
	f.novelty = NOVELTY_NEW;
	f.event = (struct finding_event){ .kind = EVENT_PACKAGE, .name = "evil<pkg>:amd64" };
	f.package = (struct finding_package){ .name = "evil<pkg>:amd64",
					      .after_version = "1.0\x1b[31m" };
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	o = file(KEY("/srv/bell\x01\x7f"));
	f = (struct finding){ .change = CHANGE_REMOVED, .before = &o };
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	o = file(KEY("/srv/latin1-\xff\xfe"));
	n = o;
	n.hash[0] = 0xde;
	n.flags = ENTRY_CHANGED_WHILE_READ;
	f = judged(CHANGE_MODIFIED, &o, &n, CLASS_DRIFT, SEVERITY_MEDIUM, NULL, "content changed",
		   ATTR_HASH);
	f.novelty = NOVELTY_PERSISTING;
	f.package = (struct finding_package){ .name = "hello:amd64",
					      .before_version = "1.0-1",
					      .after_version = "1.1-1" };
	if ((r = report_add_finding_diff(rep, &f, &diff)) < 0)
		goto out;

	n = file(KEY("/srv/<img src=x onerror=alert(1)>"));
	f = judged(CHANGE_ADDED, NULL, &n, CLASS_EXPECTED, SEVERITY_LOW, "pkg", "expected", 0);
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	n = file(KEY("/srv/</script><script>alert(1)</script>"));
	f = judged(CHANGE_ADDED, NULL, &n, CLASS_DRIFT, SEVERITY_CRITICAL, "sbin", NULL, 0);
	f.package.unowned = true;
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	o = file(KEY("/srv/\x1b[31mred\x1b[0m"));
	n = o;
	n.mode = S_IFREG | 04755;
	f = judged(CHANGE_MODIFIED, &o, &n, CLASS_DRIFT, SEVERITY_CRITICAL, "bin", "setuid",
		   ATTR_MODE);
	f.novelty = NOVELTY_PERSISTING;
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	n = file(KEY("/srv/sep\xe2\x80\xa8\xe2\x80\xaetxt.exe"));
	n.mode = S_IFLNK | 0777;
	n.target = "<svg onload=alert(1)>";
	n.target_len = strlen(n.target);
	n.hash_algo = HASH_NONE;
	n.hash_len = 0;
	f = judged(CHANGE_ADDED, NULL, &n, CLASS_DRIFT, SEVERITY_LOW, "srv", "new link", 0);
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	/* Below --min-severity low: counted, not listed. */
	n = file(KEY("/srv/quiet"));
	f = judged(CHANGE_ADDED, NULL, &n, CLASS_DRIFT, SEVERITY_INFO, "srv", "new file", 0);
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	{
		struct entry_prop po[] = { { "shell", "/usr/sbin/nologin", 17 },
					   { "uid", "33", 2 } };
		struct entry_prop pn[] = { { "gecos", "<b>Caf\xe9</b>", 11 },
					   { "shell", "/bin/sh\x1b[2J", 11 },
					   { "uid", "0", 1 } };

		if ((r = entry_props_encode(&blob_old, po, 2)) < 0 ||
		    (r = entry_props_encode(&blob_new, pn, 3)) < 0)
			goto out;
		o = (struct entry){ .kind = ENTRY_USER, .key = "www-data", .key_len = 8 };
		o.props = (const uint8_t *)blob_old.buf;
		o.props_len = blob_old.len;
		n = o;
		n.props = (const uint8_t *)blob_new.buf;
		n.props_len = blob_new.len;
		f = judged(CHANGE_MODIFIED, &o, &n, CLASS_DRIFT, SEVERITY_HIGH, "users",
			   "login shell", ATTR_PROPS);
		f.event = (struct finding_event){ .kind = EVENT_USER, .name = "www-data" };
		if ((r = report_add_finding(rep, &f)) < 0)
			goto out;
	}

	n = file(KEY("/srv/unreadable\xff<b>"));
	n.err = EACCES;
	if ((r = report_add_error(rep, &n)) < 0)
		goto out;

	/* The previous run's finding that is gone: shown apart, never counted. */
	o = file(KEY("/srv/gone&amp;"));
	f = judged(CHANGE_REMOVED, &o, NULL, CLASS_DRIFT, SEVERITY_HIGH, "srv", "removed", 0);
	f.novelty = NOVELTY_RESOLVED;
	if ((r = report_add_finding(rep, &f)) < 0)
		goto out;

	r = report_add_note(rep, "note with <b>markup</b> & \x1b[31mcolour\x1b[0m\n");
out:
	strbuf_release(&blob_old);
	strbuf_release(&blob_new);
	return r;
}

/* The bytes between the start tag of the script element @id and its end tag. */
static char *data_of(const char *buf, const char *id)
{
	char start[64];
	const char *p, *end;
	char *data;

	snprintf(start, sizeof(start), "id=\"%s\">", id);
	p = strstr(buf, start);
	assert_non_null(p);
	p += strlen(start);
	end = strstr(p, "</script>");
	assert_non_null(end);
	data = strndup(p, (size_t)(end - p));
	assert_non_null(data);
	return data;
}

static void test_html_hostile_check_matches_golden(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	meta_hostile(&meta);
	buf = render(&meta, add_hostile, &len);
	fx_golden_check("check-hostile.html", buf, len);
	free(buf);
}

static void test_html_hostile_names_never_reach_the_page_raw(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *data;

	(void)state;
	meta_hostile(&meta);
	buf = render(&meta, add_hostile, &len);

	/* Four script elements (rules, rows, details, app) and one style: nothing a
	 * name opened or closed. */
	assert_int_equal(count_ci(buf, "<script"), 4);
	assert_int_equal(count_ci(buf, "</script"), 4);
	assert_int_equal(count_ci(buf, "<style"), 1);
	assert_int_equal(count_ci(buf, "</style"), 1);
	assert_int_equal(count_ci(buf, "<img"), 0);
	assert_int_equal(count_ci(buf, "<svg onload"), 0);
	assert_int_equal(count_ci(buf, "<b>markup"), 0);
	assert_int_equal(count_ci(buf, "<b>drift"), 0);
	assert_int_equal(count_ci(buf, "<b>caf"), 0);
	assert_int_equal(count_ci(buf, "<i>"), 0);
	assert_int_equal(count_ci(buf, "<!--"), 0);
	/* No control byte but newline and tab (the embedded style and script), no
	 * invalid UTF-8, no raw U+2028. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c < 0x20 && c != '\n' && c != '\t') {
			print_error("control byte 0x%02x at %zu\n", c, i);
			fail();
		}
		assert_true(c != 0x7f && c != 0xff && c != 0xfe);
	}
	assert_null(strstr(buf, "\xe2\x80\xa8"));
	assert_null(strstr(buf, "\xe2\x80\xae"));

	/* HTML: display form, then entities. */
	assert_contains(buf, "<title>drift check: 9 deviations on &lt;img src=x "
			     "onerror=alert(1)&gt;</title>");
	assert_contains(buf, "<dt>baseline</dt><dd><b>&lt;/script&gt;&lt;script&gt;"
			     "alert(&#39;label&#39;)&lt;/script&gt;</b> #1, ");
	assert_contains(buf,
			"<dt>database</dt><dd>/var/lib/drift/&lt;b&gt;drift&lt;/b&gt;.db</dd>");
	assert_contains(buf, "<li>note with &lt;b&gt;markup&lt;/b&gt; &amp; "
			     "\\x1b[31mcolour\\x1b[0m\\n</li>");

	/* JSON data: display form, then \u escapes for < > &. */
	data = data_of(buf, "drift-findings");
	assert_contains(data, "\n[1,0,3,1,0,\"file\",\"/srv/a\\\\nb\",0,\"\\u003c/script\\u003e"
			      "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e\",\"evil\\u003cpkg"
			      "\\u003e:amd64\",\"package evil\\u003cpkg\\u003e:amd64\"],\n");
	assert_contains(data,
			"\n[6,1,-1,0,0,\"file\",\"/srv/bell\\\\x01\\\\x7f\",-1,\"\",\"\",\"\"],\n");
	assert_contains(data, ",\"/srv/latin1-\\\\xff\\\\xfe\",");
	assert_contains(data, ",\"/srv/\\u003cimg src=x onerror=alert(1)\\u003e\",");
	assert_contains(data, ",\"/srv/\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
			      "\\u003c/script\\u003e\",");
	assert_contains(data, ",\"/srv/\\\\x1b[31mred\\\\x1b[0m\",");
	assert_contains(data, ",\"/srv/sep\\\\u2028\\\\u202etxt.exe\",");
	assert_contains(data,
			",\"/srv/unreadable\\\\xff\\u003cb\\u003e\",-1,\"Permission denied\",");
	assert_contains(data, "\n[11,1,3,3,0,\"file\",\"/srv/gone\\u0026amp;\",");
	assert_null(strchr(data, '<'));
	assert_null(strchr(data, '>'));
	assert_null(strchr(data, '&'));
	free(data);
	data = data_of(buf, "drift-rules");
	assert_contains(data, "[[\"r\\u003c1\\u003e\",\"A \\u003ci\\u003erule\\u003c/i\\u003e\","
			      "\"/etc/drift/policy.yaml\",12],");
	assert_null(strchr(data, '<'));
	free(data);
	data = data_of(buf, "drift-details");
	assert_contains(data, "\n{\"pnv\":\"1.0\\\\x1b[31m\",\"f\":[\"file\",\"0644\",");
	assert_contains(data, "[\"gecos\",\"none\",\"\\u003cb\\u003eCaf\\\\xe9\\u003c/b\\u003e\"]");
	assert_contains(data, "[\"shell\",\"/usr/sbin/nologin\",\"/bin/sh\\\\x1b[2J\"]");
	assert_contains(data, "\"\",\"\\\"\\u003csvg onload=alert(1)\\u003e\\\"\"]}\n");
	assert_contains(data, "\"+\\u003c/script\\u003e\\u003cscript\\u003ealert('diff')");
	assert_contains(data, "\"-old \\\\xff line\"");
	assert_contains(data, "\"diffomit\":3,\"show\":\"check-\\u003c7\\u003e\"}\n");
	assert_contains(data, "\n{}\n");
	assert_null(strchr(data, '<'));
	assert_null(strchr(data, '>'));
	assert_null(strchr(data, '&'));
	free(data);
	free(buf);
}

static void test_html_summary_has_the_counts_of_the_other_formats(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	meta_hostile(&meta);
	buf = render(&meta, add_hostile, &len);
	/* 9 counted (the info one hidden but counted; the resolved one not). */
	assert_contains(buf, "<p class=\"headline\">9 deviations: 5 added, 1 removed, 3 modified; "
			     "1234 entries checked; 1 unreadable</p>");
	assert_contains(buf, "<div class=\"count drift\"><b>8</b><span>drift</span></div>");
	assert_contains(buf, "<div class=\"count expected\"><b>1</b><span>expected</span></div>");
	assert_contains(buf,
			"<div class=\"count unreadable\"><b>1</b><span>unreadable</span></div>");
	assert_contains(buf, "<div class=\"count critical\"><b>2</b><span>critical</span></div>");
	assert_contains(buf, "<div class=\"count high\"><b>2</b><span>high</span></div>");
	assert_contains(buf, "<div class=\"count medium\"><b>1</b><span>medium</span></div>");
	assert_contains(buf, "<div class=\"count low\"><b>1</b><span>low</span></div>");
	assert_contains(buf, "<div class=\"count info\"><b>1</b><span>info</span></div>");
	assert_contains(buf, "<div class=\"count unclassified\"><b>1</b><span>no verdict</span>");
	assert_contains(buf, "1 finding below --min-severity low is counted but not listed.");
	assert_contains(buf, "1 finding of run #6 is gone (resolved; not counted).");
	assert_contains(buf, "by drift 0.1.0-test, run #7</dd>");
	/* The chart: one bar pair per run, a tooltip each. */
	assert_int_equal(count(buf, "<rect class=\"bar-drift\""), 3);
	assert_contains(buf, "<title>run #6, 2026-11-25 02:13:20 UTC: 5 drift, 0 expected, "
			     "1 unreadable, exit 5</title>");
	/* The items: 8 listed (the info one hidden) + 1 unreadable + 1 resolved. */
	{
		char *data = data_of(buf, "drift-findings");

		assert_int_equal(count(data, "\n["), 10);
		assert_int_equal(count(data, "\n[11,"), 1);      /* resolved */
		assert_int_equal(count(data, "\n[10,"), 1);      /* unreadable */
		assert_int_equal(count(data, "\n[1,0,3,1,"), 1); /* the new one */
		assert_null(strstr(data, "/srv/quiet"));
		free(data);
		data = data_of(buf, "drift-details");
		assert_int_equal(count(data, "\n"), 11); /* a line per row, after the first */
		free(data);
	}
	free(buf);
}

static void test_html_clean_report_says_so_without_history(void **state)
{
	struct report_meta meta;
	size_t len;
	char *buf, *data;

	(void)state;
	fx_meta_check(&meta);
	buf = render(&meta, fx_add_nothing, &len);
	assert_contains(buf, "<!DOCTYPE html>\n<html lang=\"en\">\n");
	assert_contains(buf, "<p class=\"headline\">No deviations; 1234 entries checked</p>");
	assert_contains(buf, "<p class=\"muted\">No earlier runs recorded.</p>");
	assert_null(strstr(buf, "<svg"));
	assert_contains(buf, "<noscript>");
	data = data_of(buf, "drift-findings");
	assert_string_equal(data, "[\n]");
	free(data);
	data = data_of(buf, "drift-details");
	assert_string_equal(data, "\n");
	free(data);
	assert_true(len > 12 && !strcmp(buf + len - 8, "</html>\n"));
	free(buf);
}

static int add_nothing_with_history(struct report *rep)
{
	(void)rep;
	return 0;
}

static void test_html_chart_shows_the_last_30_runs(void **state)
{
	struct report_history h[40];
	struct report_meta meta;
	size_t len;
	char *buf;

	(void)state;
	for (size_t i = 0; i < 40; i++)
		h[i] = (struct report_history){ .run = (int64_t)i + 1,
						.started_ns =
							(1795000000 + (int64_t)i * 3600) * SEC,
						.drift = i,
						.expected = 40 - i };
	fx_meta_check(&meta);
	meta.history = h;
	meta.nhistory = 40;
	buf = render(&meta, add_nothing_with_history, &len);
	assert_int_equal(count(buf, "<rect class=\"bar-drift\""), 30);
	assert_null(strstr(buf, "<title>run #10,"));
	assert_contains(buf, "<title>run #11,");
	assert_contains(buf, "<title>run #40,");
	free(buf);
}

/* The whole report, through python3's json module and html.parser: the data parses,
 * and the page has exactly the elements the renderer wrote. */
static void test_html_data_is_json_and_page_parses(void **state)
{
	static const char check[] =
		"import json,sys,html.parser\n"
		"doc=open(sys.argv[1],encoding='utf-8').read()\n"
		"class P(html.parser.HTMLParser):\n"
		" def __init__(s):\n"
		"  super().__init__();s.tags=[];s.data=None;s.cur=None\n"
		" def handle_starttag(s,t,a):\n"
		"  s.tags.append(t);s.cur=dict(a).get('id');s.d=getattr(s,'d',{})\n"
		"  assert not any(k.startswith('on') for k,v in a),(t,a)\n"
		" def handle_data(s,d):\n"
		"  if s.cur:s.d[s.cur]=s.d.get(s.cur,'')+d\n"
		" def handle_endtag(s,t):\n"
		"  s.cur=None\n"
		"p=P();p.feed(doc)\n"
		"items=json.loads(p.d['drift-findings'])\n"
		"rules=json.loads(p.d['drift-rules'])\n"
		"det=[json.loads(l) for l in p.d['drift-details'].split('\\n') if l]\n"
		"assert len(items)==10 and len(det)==10,(len(items),len(det))\n"
		"assert all(-1<=i[7]<len(rules) for i in items)\n"
		"assert p.tags.count('script')==4 and 'img' not in p.tags,p.tags\n"
		"paths=[i[6] for i in items]\n"
		"assert '/srv/</script><script>alert(1)</script>' in paths,paths\n"
		"assert '/srv/a\\\\nb' in paths and '/srv/latin1-\\\\xff\\\\xfe' in paths,paths\n";
	struct report_meta meta;
	char *buf, *doc, *script, cmd[256];
	size_t len;
	int status;

	(void)state;
	if (system("command -v python3 >/dev/null 2>&1") != 0)
		tap_skip("python3 is not installed");
	meta_hostile(&meta);
	buf = render(&meta, add_hostile, &len);
	doc = fx_write_temp(buf, len);
	script = fx_write_temp(check, sizeof(check) - 1);
	snprintf(cmd, sizeof(cmd), "python3 '%s' '%s'", script, doc);
	status = system(cmd);
	unlink(doc);
	unlink(script);
	free(doc);
	free(script);
	free(buf);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

/* 20,000 findings: megabytes of spools, more than the file size limit below. */
static int add_many(struct report *rep)
{
	char key[64];
	int r = 0;

	for (unsigned i = 0; i < 20000 && r == 0; i++) {
		struct entry e;
		struct finding f;

		snprintf(key, sizeof(key), "/srv/file-%06u", i);
		e = file(key, strlen(key));
		f = judged(CHANGE_ADDED, NULL, &e, CLASS_DRIFT, SEVERITY_HIGH, "srv", "new file",
			   0);
		r = report_add_finding(rep, &f);
	}
	return r;
}

/* A spool that cannot be written (EFBIG here, ENOSPC on a full disk) fails the report. */
static void test_html_spool_write_failure_fails_the_report(void **state)
{
	struct rlimit old, lim;
	struct report_meta meta;
	char *buf = NULL;
	size_t len = 0;
	int r;

	(void)state;
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 128 * 1024;
	/* Past the limit a write fails with EFBIG instead of killing us. */
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	fx_meta_check(&meta);
	r = fx_render(REPORT_HTML, &meta, add_many, &buf, &len);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(r, -EIO);
	assert_null(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_html_hostile_check_matches_golden),
		cmocka_unit_test(test_html_hostile_names_never_reach_the_page_raw),
		cmocka_unit_test(test_html_summary_has_the_counts_of_the_other_formats),
		cmocka_unit_test(test_html_clean_report_says_so_without_history),
		cmocka_unit_test(test_html_chart_shows_the_last_30_runs),
		cmocka_unit_test(test_html_data_is_json_and_page_parses),
		cmocka_unit_test(test_html_spool_write_failure_fails_the_report),
	};
	return tap_run_group_tests_name("report/html", tests, NULL, NULL);
}
