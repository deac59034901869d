/*
 * browse: the browser's model at scale (issue 14), without a terminal.
 *
 *     browse DB [N]
 *
 * Creates DB (it must not exist) holding one stored run of N synthetic
 * findings (default 1,000,000: files in directories of 100 under 1,000
 * packages' directories, seven in ten of them in a package upgrade, every
 * severity and change), then times, each on its own: reading the run with
 * snap_run_rows() (every column) and with the browser's lean reader;
 * opening it (tui_load(): read and build the directory tree); the peak RSS
 * after opening; and, for each key that recomputes rows, the time until a
 * 50-row screen is ready (sort, filter, view, scroll to the end, search).
 * bench/browse_tmux.py times the real program in tmux on the same DB.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "common/diag.h"
#include "store/store.h"
#include "tui/tui.h"
#include "common/banned.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long maxrss_mb(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss / 1024;
}

static int make_run(struct snap_store *st, unsigned long n, struct diag *d)
{
	struct snap_run_new info = { .command = "check", .database = "bench" };
	struct snap_run_writer *w = NULL;
	char key[128], pkg[64];
	int64_t rule, id;
	int r;

	r = snap_run_begin(st, &info, &w, d);
	if (r < 0)
		return r;
	r = snap_run_add_rule(w, "all", "everything", "policy.yaml", 2, 0, &rule, d);
	for (unsigned long i = 0; r >= 0 && i < n; i++) {
		unsigned long p = i / 1000, sub = (i / 100) % 10;
		struct snap_run_row row = { 0 };
		bool owned = p % 10 < 7;

		snprintf(key, sizeof(key), "/usr/lib/pkg%04lu/sub%02lu/file%06lu.so", p, sub, i);
		snprintf(pkg, sizeof(pkg), "pkg%04lu:amd64", p);
		row.kind = ENTRY_FILE;
		row.key = key;
		row.key_len = strlen(key);
		row.change = (enum change)(i % 3);
		row.changed = row.change == CHANGE_MODIFIED ? ATTR_HASH | ATTR_MTIME : 0;
		row.judged = true;
		row.class = owned ? CLASS_EXPECTED : CLASS_DRIFT;
		row.severity = (enum severity)(i % 5);
		row.attrs = row.changed;
		row.rule = rule;
		row.reason = owned ? "package upgraded" : "content changed";
		row.package = owned ? pkg : NULL;
		row.before_version = owned ? "1.0-1" : NULL;
		row.after_version = owned ? "1.1-1" : NULL;
		r = snap_run_add_row(w, &row, d);
	}
	if (r < 0) {
		snap_run_abort(w);
		return r;
	}
	return snap_run_commit(w, 4, 0, 0, &id, d);
}

static int count_row(const struct snap_run_row *row, void *userdata)
{
	(*(uint64_t *)userdata)++;
	return 0;
}

static int count_lean(const struct snap_run_lean *row, void *userdata)
{
	(*(uint64_t *)userdata)++;
	return 0;
}

/* The time until a 50-row screen is ready after @what. */
static void screen(struct tui_model *m, const char *what, double t0)
{
	struct tui_row rows[50];
	size_t top = tui_model_scroll(m, 50);

	tui_model_rows(m, top, 50, rows);
	printf("  %-40s %8.1f ms  (%zu rows)\n", what, now_ms() - t0, tui_model_nrows(m));
}

int main(int argc, char **argv)
{
	struct snap_store *st = NULL;
	struct tui_model *m = NULL;
	struct snap_run_info run = { 0 };
	struct tui_filter f;
	struct diag d = { 0 };
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	uint64_t count = 0;
	double t;
	int r;

	if (argc < 2) {
		fprintf(stderr, "usage: browse DB [N]\n");
		return 2;
	}
	t = now_ms();
	r = snap_store_open(argv[1], SNAP_OPEN_WRITE, &st, &d);
	if (r >= 0)
		r = make_run(st, n, &d);
	if (r < 0) {
		fprintf(stderr, "browse: %s\n", d.msg);
		return 1;
	}
	snap_store_free(st);
	printf("created a run of %lu findings in %s: %.0f ms\n", n, argv[1], now_ms() - t);

	/* Each read on a fresh connection (the page cache is warm from writing: as after a check).
	 */
	r = snap_store_open(argv[1], SNAP_OPEN_READ, &st, &d);
	if (r >= 0)
		r = snap_run_get(st, 0, &run, &d);
	if (r < 0) {
		fprintf(stderr, "browse: %s\n", d.msg);
		return 1;
	}
	t = now_ms();
	r = snap_run_rows(st, run.id, count_row, &count, &d);
	printf("snap_run_rows (every column):      %8.1f ms  (%" PRIu64 " rows)\n", now_ms() - t,
	       count);
	count = 0;
	t = now_ms();
	if (r >= 0)
		r = snap_run_rows_lean(st, run.id, count_lean, &count, &d);
	printf("snap_run_rows_lean (browser's):    %8.1f ms  (%" PRIu64 " rows)\n", now_ms() - t,
	       count);
	if (r < 0) {
		fprintf(stderr, "browse: %s\n", d.msg);
		return 1;
	}
	printf("RSS before opening:                %8ld MB\n", maxrss_mb());
	t = now_ms();
	r = tui_load(st, run.id, run.findings, &m, &d);
	if (r < 0) {
		fprintf(stderr, "browse: %s\n", d.msg);
		return 1;
	}
	screen(m, "open (read + directory tree + screen)", t);
	printf("peak RSS after opening:            %8ld MB\n", maxrss_mb());

	printf("a key, until the next screen is ready:\n");
	t = now_ms();
	tui_model_move_to(m, (size_t)-1);
	screen(m, "G (end of the tree)", t);
	t = now_ms();
	r = tui_model_expand_all(m, true);
	screen(m, "E (open every node)", t);
	t = now_ms();
	tui_model_move_to(m, (size_t)-1);
	screen(m, "G (end, every node open)", t);
	t = now_ms();
	r = tui_model_set_view(m, TUI_VIEW_LIST);
	screen(m, "4 (list, by severity)", t);
	t = now_ms();
	tui_model_move_to(m, (size_t)-1);
	screen(m, "G (end of the list)", t);
	t = now_ms();
	r = tui_model_set_sort(m, TUI_SORT_PATH);
	screen(m, "s (sort by path, first time)", t);
	t = now_ms();
	r = tui_model_set_sort(m, TUI_SORT_KIND);
	screen(m, "s (sort by kind, first time)", t);
	t = now_ms();
	r = tui_model_set_sort(m, TUI_SORT_SEVERITY);
	screen(m, "s (sort by severity, again)", t);
	tui_model_filter(m, &f);
	f.min_severity = SEVERITY_HIGH;
	t = now_ms();
	r = tui_model_set_filter(m, &f);
	screen(m, "+ (severity >= high)", t);
	f.classes = 1u << CLASS_DRIFT;
	t = now_ms();
	r = tui_model_set_filter(m, &f);
	screen(m, "c (drift only)", t);
	f = (struct tui_filter){ .min_severity = SEVERITY_INFO, .classes = TUI_CLASS_ALL };
	t = now_ms();
	r = tui_model_set_filter(m, &f);
	screen(m, "0 (no filter)", t);
	tui_model_move_to(m, 0);
	t = now_ms();
	r = tui_model_search(m, "file999999", 10, true, false);
	screen(m, "/file999999 (the last one)", t);
	t = now_ms();
	r = tui_model_search(m, "nosuchname", 10, true, false);
	screen(m, "/nosuchname (no match: every key)", t);
	t = now_ms();
	r = tui_model_set_view(m, TUI_VIEW_EVENT);
	screen(m, "3 (by package event)", t);
	t = now_ms();
	r = tui_model_set_view(m, TUI_VIEW_DIR);
	screen(m, "1 (by directory)", t);
	t = now_ms();
	tui_model_move(m, 1);
	screen(m, "j", t);
	printf("peak RSS at the end:               %8ld MB\n", maxrss_mb());
	tui_model_free(m);
	snap_run_info_release(&run);
	snap_store_free(st);
	return r < 0 ? 1 : 0;
}
