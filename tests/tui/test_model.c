#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/strbuf.h"
#include "tests/tap.h"
#include "tui/model.h"

/* A run in key order: files, then a package, then a user. */
static const struct {
	enum entry_kind kind;
	const char *key;
	enum change change;
	enum verdict_class cls;
	enum severity sev;
	const char *pkg, *before, *after;
} fixture[] = {
	{ ENTRY_FILE, "/etc/a.conf", CHANGE_MODIFIED, CLASS_DRIFT, SEVERITY_MEDIUM, NULL, NULL,
	  NULL },
	{ ENTRY_FILE, "/etc/ssh/moduli", CHANGE_MODIFIED, CLASS_EXPECTED, SEVERITY_LOW,
	  "openssh-server:amd64", "1.0", "1.1" },
	{ ENTRY_FILE, "/etc/ssh/sshd_config", CHANGE_MODIFIED, CLASS_DRIFT, SEVERITY_HIGH, NULL,
	  NULL, NULL },
	{ ENTRY_FILE, "/usr/bin/ssh", CHANGE_MODIFIED, CLASS_EXPECTED, SEVERITY_INFO,
	  "openssh-client:amd64", "1.0", "1.1" },
	{ ENTRY_FILE, "/usr/lib/x/libcrypto.so", CHANGE_MODIFIED, CLASS_EXPECTED, SEVERITY_INFO,
	  "libssl3:amd64", "3.0.13", "3.0.14" },
	{ ENTRY_FILE, "/usr/lib/x/libssl.so", CHANGE_ADDED, CLASS_EXPECTED, SEVERITY_INFO,
	  "libssl3:amd64", "3.0.13", "3.0.14" },
	{ ENTRY_FILE, "/var/log/syslog", CHANGE_MODIFIED, CLASS_EXPECTED, SEVERITY_LOW, NULL, NULL,
	  NULL },
	{ ENTRY_PACKAGE, "bash:amd64", CHANGE_MODIFIED, CLASS_DRIFT, SEVERITY_CRITICAL, NULL, NULL,
	  NULL },
	{ ENTRY_USER, "alice", CHANGE_ADDED, CLASS_DRIFT, SEVERITY_HIGH, NULL, NULL, NULL },
};
#define NFIX (sizeof(fixture) / sizeof(fixture[0]))

static struct tui_model *load(void)
{
	struct tui_model *m = tui_model_new();

	assert_non_null(m);
	for (size_t i = 0; i < NFIX; i++)
		assert_int_equal(tui_model_add(m, (uint32_t)i, fixture[i].kind, fixture[i].key,
					       strlen(fixture[i].key), fixture[i].change, 0, true,
					       fixture[i].cls, fixture[i].sev, fixture[i].pkg,
					       fixture[i].before, fixture[i].after),
				 0);
	assert_int_equal(tui_model_finish(m), 0);
	return m;
}

static struct tui_row row_at(const struct tui_model *m, size_t i)
{
	struct tui_row r;

	assert_int_equal(tui_model_rows(m, i, 1, &r), 1);
	return r;
}

static void assert_node(const struct tui_model *m, size_t i, const char *name, uint64_t count,
			enum severity worst)
{
	struct tui_row r = row_at(m, i);

	assert_true(r.node);
	assert_int_equal(r.name_len, strlen(name));
	assert_memory_equal(r.name, name, r.name_len);
	assert_int_equal(r.count, count);
	assert_int_equal(r.worst, worst);
}

static const char *cur_key(const struct tui_model *m)
{
	static char buf[256];
	const struct tui_finding *f = tui_model_current(m);

	if (!f)
		return "(node)";
	snprintf(buf, sizeof(buf), "%.*s", (int)f->key_len, tui_model_key(m, f));
	return buf;
}

static void test_tree_counts_and_worst(void **state)
{
	struct tui_model *m = load();

	(void)state;
	assert_int_equal(tui_model_count(m), NFIX);
	assert_int_equal(tui_model_visible(m), NFIX);
	assert_int_equal(tui_model_view(m), TUI_VIEW_DIR);
	/* "/" open (etc, usr, var closed), packages open, users open. */
	assert_int_equal(tui_model_nrows(m), 8);
	assert_node(m, 0, "/", 7, SEVERITY_HIGH);
	assert_node(m, 1, "etc", 3, SEVERITY_HIGH);
	assert_node(m, 2, "usr", 3, SEVERITY_INFO);
	assert_node(m, 3, "var", 1, SEVERITY_LOW);
	assert_node(m, 4, "packages", 1, SEVERITY_CRITICAL);
	assert_false(row_at(m, 5).node);
	assert_node(m, 6, "users", 1, SEVERITY_HIGH);
	assert_int_equal(row_at(m, 1).depth, 1);
	tui_model_free(m);
}

static void test_expand_collapse(void **state)
{
	struct tui_model *m = load();

	(void)state;
	tui_model_move_to(m, 1); /* etc */
	assert_int_equal(tui_model_expand(m, 1), 0);
	assert_int_equal(tui_model_nrows(m), 10);
	assert_node(m, 2, "ssh", 2, SEVERITY_HIGH);
	assert_string_equal((tui_model_move_to(m, 3), cur_key(m)), "/etc/a.conf");
	tui_model_move_to(m, 2);
	assert_int_equal(tui_model_expand(m, -1), 0);
	assert_int_equal(tui_model_nrows(m), 12);
	assert_int_equal(row_at(m, 3).depth, 3);
	/* Collapse on a finding: its node closes and takes the cursor. */
	tui_model_move_to(m, 3);
	assert_string_equal(cur_key(m), "/etc/ssh/moduli");
	assert_int_equal(tui_model_expand(m, 0), 0);
	assert_int_equal(tui_model_cursor(m), 2);
	assert_int_equal(tui_model_nrows(m), 10);
	/* Collapse on a closed node: to the parent, which stays open; again closes it. */
	assert_int_equal(tui_model_expand(m, 0), 0);
	assert_int_equal(tui_model_cursor(m), 1);
	assert_int_equal(tui_model_nrows(m), 10);
	assert_int_equal(tui_model_expand(m, 0), 0);
	assert_int_equal(tui_model_nrows(m), 8);
	assert_int_equal(tui_model_expand_all(m, true), 0);
	assert_int_equal(tui_model_nrows(m), 4 + 2 + 1 + 3 + 1 + 2 + 2 + 2 + 1 + 2);
	assert_int_equal(tui_model_expand_all(m, false), 0);
	assert_int_equal(tui_model_nrows(m), 3);
	tui_model_free(m);
}

static void test_filters(void **state)
{
	struct tui_model *m = load();
	struct tui_filter f;
	uint64_t cc[TUI_CLASS_BITS];

	(void)state;
	tui_model_filter(m, &f);
	f.min_severity = SEVERITY_HIGH;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_int_equal(tui_model_visible(m), 3);
	assert_node(m, 0, "/", 1, SEVERITY_HIGH);
	assert_node(m, 1, "etc", 1, SEVERITY_HIGH);
	/* Nodes with nothing left go. */
	assert_node(m, 2, "packages", 1, SEVERITY_CRITICAL);

	f.min_severity = SEVERITY_INFO;
	f.classes = 1u << CLASS_EXPECTED;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_int_equal(tui_model_visible(m), 5);
	tui_model_class_counts(m, cc);
	assert_int_equal(cc[CLASS_EXPECTED], 5);
	assert_int_equal(cc[CLASS_DRIFT], 0);
	/* A class value that does not exist yet (waived) is just a bit: nothing has it. */
	f.classes = 1u << 3;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_int_equal(tui_model_visible(m), 0);
	assert_int_equal(tui_model_nrows(m), 0);
	assert_null(tui_model_current(m));

	f.classes = TUI_CLASS_ALL;
	f.changes = 1u << CHANGE_ADDED;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_int_equal(tui_model_visible(m), 2);
	f.changes = 0;
	f.kinds = 1u << ENTRY_USER;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_int_equal(tui_model_visible(m), 1);
	assert_int_equal(tui_model_nrows(m), 2);
	tui_model_free(m);
}

static void test_sort_keeps_cursor(void **state)
{
	struct tui_model *m = load();
	struct tui_filter f;

	(void)state;
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_LIST), 0);
	assert_int_equal(tui_model_nrows(m), NFIX);
	/* By severity, run order within one. */
	assert_string_equal((tui_model_move_to(m, 0), cur_key(m)), "bash:amd64");
	assert_string_equal((tui_model_move_to(m, 1), cur_key(m)), "/etc/ssh/sshd_config");
	assert_string_equal((tui_model_move_to(m, 2), cur_key(m)), "alice");
	assert_string_equal((tui_model_move_to(m, 3), cur_key(m)), "/etc/a.conf");
	assert_string_equal((tui_model_move_to(m, 8), cur_key(m)), "/usr/lib/x/libssl.so");

	tui_model_move_to(m, 3);
	assert_int_equal(tui_model_set_sort(m, TUI_SORT_PATH), 0);
	assert_int_equal(tui_model_cursor(m), 0);
	assert_string_equal(cur_key(m), "/etc/a.conf");
	assert_string_equal((tui_model_move_to(m, 7), cur_key(m)), "alice");
	assert_string_equal((tui_model_move_to(m, 8), cur_key(m)), "bash:amd64");

	tui_model_move_to(m, 7); /* alice */
	assert_int_equal(tui_model_set_sort(m, TUI_SORT_CHANGE), 0);
	assert_string_equal(cur_key(m), "alice");
	assert_int_equal(tui_model_cursor(m), 1); /* added: libssl.so, alice */
	assert_int_equal(tui_model_set_sort(m, TUI_SORT_KIND), 0);
	assert_string_equal(cur_key(m), "alice");
	assert_int_equal(tui_model_cursor(m), 8);

	/* Through a filter that keeps it, and back. */
	tui_model_filter(m, &f);
	f.min_severity = SEVERITY_HIGH;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_string_equal(cur_key(m), "alice");
	f.min_severity = SEVERITY_INFO;
	assert_int_equal(tui_model_set_filter(m, &f), 0);
	assert_string_equal(cur_key(m), "alice");
	/* Into a tree and back to the list: still on it. */
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_DIR), 0);
	assert_string_equal(cur_key(m), "alice");
	tui_model_move_to(m, 4); /* "packages" */
	tui_model_move(m, 1);
	assert_string_equal(cur_key(m), "bash:amd64");
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_KIND), 0);
	assert_string_equal(cur_key(m), "bash:amd64");
	tui_model_free(m);
}

static void test_search_n_N(void **state)
{
	struct tui_model *m = load();

	(void)state;
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_LIST), 0);
	assert_int_equal(tui_model_set_sort(m, TUI_SORT_PATH), 0);
	assert_int_equal(tui_model_search(m, "ssh", 3, true, true), 1);
	assert_string_equal(cur_key(m), "/etc/ssh/moduli");
	/* Incremental: the current one still matches a longer pattern... */
	assert_int_equal(tui_model_search(m, "ssh/", 4, true, true), 1);
	assert_string_equal(cur_key(m), "/etc/ssh/moduli");
	/* ...and case does not matter. */
	assert_int_equal(tui_model_search(m, "SSHD", 4, true, true), 1);
	assert_string_equal(cur_key(m), "/etc/ssh/sshd_config");
	assert_int_equal(tui_model_search(m, "ssh", 3, true, false), 1);
	assert_string_equal(cur_key(m), "/usr/bin/ssh");
	assert_int_equal(tui_model_search(m, "ssh", 3, true, false), 1);
	assert_string_equal(cur_key(m), "/etc/ssh/moduli"); /* wrapped */
	assert_int_equal(tui_model_search(m, "ssh", 3, false, false), 1);
	assert_string_equal(cur_key(m), "/usr/bin/ssh");
	assert_int_equal(tui_model_search(m, "nothing", 7, true, false), 0);
	assert_string_equal(cur_key(m), "/usr/bin/ssh");
	/* In a tree, the match's nodes open. */
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_DIR), 0);
	assert_int_equal(tui_model_search(m, "libssl", 6, true, false), 1);
	assert_string_equal(cur_key(m), "/usr/lib/x/libssl.so");
	assert_int_equal(tui_model_search(m, "libcrypto", 9, true, false), 1);
	assert_string_equal(cur_key(m), "/usr/lib/x/libcrypto.so");
	tui_model_free(m);
}

static void test_marks_and_selection(void **state)
{
	struct tui_model *m = load();
	int64_t *seqs = NULL;
	size_t n = 0;

	(void)state;
	/* No marks: the node at the cursor, all of it. */
	tui_model_move_to(m, 2); /* usr */
	assert_int_equal(tui_model_selection(m, &seqs, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(seqs[0], 3);
	free(seqs);
	tui_model_toggle_mark(m);
	assert_int_equal(tui_model_marked(m), 3);
	assert_int_equal(row_at(m, 2).marked, 3);
	assert_int_equal(row_at(m, 0).marked, 3);
	tui_model_toggle_mark(m);
	assert_int_equal(tui_model_marked(m), 0);

	assert_int_equal(tui_model_set_view(m, TUI_VIEW_LIST), 0);
	tui_model_move_to(m, 0);
	assert_int_equal(tui_model_selection(m, &seqs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(seqs[0], 7); /* bash */
	free(seqs);
	tui_model_toggle_mark(m);
	tui_model_move_to(m, 3);
	tui_model_toggle_mark(m);
	assert_int_equal(tui_model_marked(m), 2);
	assert_int_equal(tui_model_selection(m, &seqs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 0);
	assert_int_equal(seqs[1], 7);
	/* Accepted: shown as such, marks gone. */
	assert_int_equal(tui_model_set_accepted(m, seqs, n), 0);
	free(seqs);
	assert_int_equal(tui_model_marked(m), 0);
	{
		uint64_t cc[TUI_CLASS_BITS];
		struct tui_filter f;

		tui_model_class_counts(m, cc);
		assert_int_equal(cc[TUI_CLASS_ACCEPTED], 2);
		assert_int_equal(cc[CLASS_DRIFT], 2);
		tui_model_filter(m, &f);
		f.classes = 1u << TUI_CLASS_ACCEPTED;
		assert_int_equal(tui_model_set_filter(m, &f), 0);
		assert_int_equal(tui_model_visible(m), 2);
		assert_string_equal(tui_class_name(TUI_CLASS_ACCEPTED), "accepted");
	}
	/* An undone acceptance, by keys: back to the classes the run stored. */
	{
		struct tui_key keys[] = {
			{ ENTRY_USER, "alice", 5 },          /* not accepted: unchanged */
			{ ENTRY_PACKAGE, "bash:amd64", 10 }, /* accepted above */
			{ ENTRY_FILE, "bash:amd64", 10 },    /* a key of another kind: no finding */
		};
		uint64_t cc[TUI_CLASS_BITS];

		assert_int_equal(tui_model_set_accepted_keys(m, keys, 3, false), 1);
		tui_model_class_counts(m, cc);
		assert_int_equal(cc[TUI_CLASS_ACCEPTED], 1);
		/* Accepted by keys, as a stored acceptance is shown when a run opens. */
		assert_int_equal(tui_model_set_accepted_keys(m, keys, 3, true), 2);
		tui_model_class_counts(m, cc);
		assert_int_equal(cc[TUI_CLASS_ACCEPTED], 3);
		assert_int_equal(tui_model_set_accepted_keys(m, keys, 0, true), 0);
	}
	tui_model_free(m);
}

static void test_event_grouping(void **state)
{
	struct tui_model *m = load();
	int64_t *seqs = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_EVENT), 0);
	/* One closed node per package transaction, in the order they first appear. */
	assert_int_equal(tui_model_nrows(m), 4);
	assert_node(m, 0, "openssh-server 1.0 \xe2\x86\x92 1.1, 1 file", 1, SEVERITY_LOW);
	assert_node(m, 1, "openssh-client 1.0 \xe2\x86\x92 1.1, 1 file", 1, SEVERITY_INFO);
	assert_node(m, 2, "libssl3 3.0.13 \xe2\x86\x92 3.0.14, 2 files", 2, SEVERITY_INFO);
	assert_node(m, 3, "no package event", 5, SEVERITY_CRITICAL);
	tui_model_move_to(m, 2);
	assert_int_equal(tui_model_expand(m, 1), 0);
	assert_int_equal(tui_model_nrows(m), 6);
	assert_false(row_at(m, 3).node);
	/* A package event is selected as a whole. */
	tui_model_move_to(m, 2);
	assert_int_equal(tui_model_selection(m, &seqs, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(seqs[0], 4);
	assert_int_equal(seqs[1], 5);
	free(seqs);
	assert_string_equal(tui_model_event_package(m, tui_model_finding(m, 4)->event), "libssl3");
	tui_model_free(m);
}

static void test_window_rows(void **state)
{
	struct tui_model *m = tui_model_new();
	struct tui_row rows[32];
	char key[64];

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/d/f%04u", i);
		assert_int_equal(tui_model_add(m, i, ENTRY_FILE, key, strlen(key), CHANGE_ADDED, 0,
					       true, CLASS_DRIFT, SEVERITY_LOW, NULL, NULL, NULL),
				 0);
	}
	assert_int_equal(tui_model_finish(m), 0);
	/* / and d open (a chain), so every file has a row. */
	assert_int_equal(tui_model_nrows(m), 1002);
	assert_int_equal(tui_model_set_view(m, TUI_VIEW_LIST), 0);
	assert_int_equal(tui_model_rows(m, 990, 20, rows), 10);
	assert_memory_equal(rows[9].key, "/d/f0999", 8);
	tui_model_move_to(m, 500);
	assert_int_equal(tui_model_scroll(m, 20), 481);
	assert_int_equal(tui_model_rows(m, 481, 20, rows), 20);
	assert_memory_equal(rows[19].key, "/d/f0500", 8);
	tui_model_move(m, -1000);
	assert_int_equal(tui_model_cursor(m), 0);
	assert_int_equal(tui_model_scroll(m, 20), 0);
	tui_model_move_to(m, (size_t)-1);
	assert_int_equal(tui_model_cursor(m), 999);
	assert_int_equal(tui_model_scroll(m, 20), 980);
	tui_model_free(m);
}

static void test_wide_and_invalid_names(void **state)
{
	struct strbuf sb = STRBUF_INIT;
	size_t cols = 99;
	const char *wide = "\xe5\xae\xbd\xe5\xae\xbd\xe5\xae\xbd\xe5\xae\xbd"; /* 4 × U+5BBD */

	(void)state;
	assert_int_equal(tui_text_width(wide, strlen(wide)), 8);
	assert_int_equal(tui_text_width("a\xff"
					"b",
					3),
			 3);
	/* Invalid UTF-8 and control bytes: escaped, their width is the escape's. */
	assert_int_equal(tui_text_fit(&sb, "abc\xff\x1b", 5, 40, &cols), 0);
	assert_string_equal(sb.buf, "abc\\xff\\x1b");
	assert_int_equal(cols, 11);
	/* Too long: the end is kept, after an ellipsis, never beyond the width. */
	strbuf_reset(&sb);
	assert_int_equal(tui_text_fit(&sb, wide, strlen(wide), 5, &cols), 0);
	assert_string_equal(sb.buf, "\xe2\x80\xa6\xe5\xae\xbd\xe5\xae\xbd");
	assert_int_equal(cols, 5);
	strbuf_reset(&sb);
	assert_int_equal(tui_text_fit(&sb, wide, strlen(wide), 4, &cols), 0);
	assert_string_equal(sb.buf, "\xe2\x80\xa6\xe5\xae\xbd");
	assert_int_equal(cols, 3);
	strbuf_reset(&sb);
	assert_int_equal(tui_text_fit(&sb, "/etc/\xff\xfe/name.conf", 17, 12, &cols), 0);
	assert_true(cols <= 12);
	assert_int_equal(tui_text_width(sb.buf, sb.len), cols);
	assert_non_null(strstr(sb.buf, "name.conf"));
	/* Wide names in the model: a row keeps the bytes, the view fits them. */
	strbuf_release(&sb);
}

static void test_formats(void **state)
{
	char buf[32];

	(void)state;
	tui_format_mode(buf, 0104755);
	assert_string_equal(buf, "-rwsr-xr-x");
	tui_format_mode(buf, 041777);
	assert_string_equal(buf, "drwxrwxrwt");
	tui_format_mode(buf, 0102644);
	assert_string_equal(buf, "-rw-r-Sr--");
	tui_format_size(buf, sizeof(buf), 512);
	assert_string_equal(buf, "512 B");
	tui_format_size(buf, sizeof(buf), 1536);
	assert_string_equal(buf, "1.5 KiB");
	tui_format_size(buf, sizeof(buf), 5ull * 1024 * 1024 * 1024);
	assert_string_equal(buf, "5.0 GiB");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tree_counts_and_worst),
		cmocka_unit_test(test_expand_collapse),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_sort_keeps_cursor),
		cmocka_unit_test(test_search_n_N),
		cmocka_unit_test(test_marks_and_selection),
		cmocka_unit_test(test_event_grouping),
		cmocka_unit_test(test_window_rows),
		cmocka_unit_test(test_wide_and_invalid_names),
		cmocka_unit_test(test_formats),
	};

	/* wcwidth() needs a UTF-8 locale; the view sets one the same way. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		tap_skip_all("no C.UTF-8 locale: wcwidth() needs one");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
