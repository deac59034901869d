/*
 * The browser's view: draws the model (tui/model.h) with ncursesw, from
 * this one thread, and turns keys into model calls. Nothing here decides
 * what a finding is; the model holds the state, this file only shows it.
 *
 * Screen: a header line (run, host, counts), the rows of the current view
 * (with the detail pane below them when open), and a status line (key
 * hints, messages, prompts).
 */
#include "tui/tui.h"

#include <curses.h>
#include <errno.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/banned.h"

enum {
	PAIR_CRIT = 1,
	PAIR_MED,
	PAIR_ADD,
	PAIR_DEL,
	PAIR_HUNK,
	PAIR_BAR,
	PAIR_ACC,
};

struct view {
	const struct tui_opts *o;
	struct tui_model *m;
	bool color;
	bool detail;
	struct tui_detail det;
	const struct tui_finding *det_f;
	size_t det_top;
	struct tui_lookups *lk;
	char status[512];
	char search[256];
	bool help;
	char help_filter[64];
	bool quit;
};

/* Every key, for `?` (filterable) and drift(1). */
static const struct {
	const char *keys, *what;
} keys_help[] = {
	{ "j k, Down Up", "move down, up" },
	{ "PgDn PgUp, Ctrl-F Ctrl-B", "a page down, up" },
	{ "Home End, gg G", "first, last row" },
	{ "l Right, h Left", "open a node; close it (or go to its parent)" },
	{ "Enter", "open or close a node; show a finding's detail" },
	{ "Tab", "show or hide the detail pane" },
	{ "J K", "scroll the detail pane" },
	{ "E C", "open, close every node" },
	{ "1 2 3 4, v", "view: by directory, by kind, by package event, flat list; next view" },
	{ "s", "sort the list: severity, path, kind, change" },
	{ "+ -", "minimum severity up, down" },
	{ "c", "class filter: all, drift, expected, violation, waived, accepted" },
	{ "d", "change filter: all, added, removed, modified (d for difference)" },
	{ "t", "kind filter: all, files, packages, users, ..." },
	{ "0", "clear every filter" },
	{ "/", "search keys as you type (Enter keeps, Esc goes back)" },
	{ "n N", "next, previous match" },
	{ "Space m", "mark or unmark (a node: all of its findings)" },
	{ "M", "clear the marks" },
	{ "a", "accept the marked findings, or the one or the node at the cursor" },
	{ "w", "waive them, with a reason and an expiry date" },
	{ "u", "undo the last acceptance" },
	{ "x", "remedy the selection: put it back as the baseline has it (drift remedy)" },
	{ "?", "this help; type to filter it" },
	{ "q", "close help or detail; quit" },
};

static int attr_pair(const struct view *v, short pair)
{
	return v->color ? COLOR_PAIR(pair) : 0;
}

static int severity_attr(const struct view *v, unsigned sev)
{
	if (sev >= SEVERITY_HIGH)
		return v->color ? COLOR_PAIR(PAIR_CRIT) | A_BOLD : A_BOLD;
	if (sev == SEVERITY_MEDIUM)
		return attr_pair(v, PAIR_MED);
	return 0;
}

static const char *sev_short(unsigned sev)
{
	static const char *const s[] = { "info", "low ", "med ", "high", "crit" };

	return sev < 5 ? s[sev] : "?   ";
}

/* Write the bytes @s escaped, fitted into @cols columns, padded when @pad. */
static void put_fit(const char *s, size_t len, size_t cols, bool pad)
{
	struct strbuf sb = STRBUF_INIT;
	size_t used = 0;

	if (tui_text_fit(&sb, s, len, cols, &used) == 0)
		addnstr(sb.buf, (int)sb.len);
	strbuf_release(&sb);
	for (; pad && used < cols; used++)
		addch(' ');
}

static void set_status(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_status(struct view *v, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->status, sizeof(v->status), fmt, ap);
	va_end(ap);
}

/* Write display text @s (already escaped) cut at the end to @cols columns, padded when @pad. */
static void put_head(const char *s, size_t cols, bool pad)
{
	size_t len = strlen(s), w;

	/* Back off to a character boundary whose width fits. */
	while (len &&
	       ((w = tui_text_width(s, len)) > cols || ((unsigned char)s[len] & 0xc0) == 0x80))
		len--;
	addnstr(s, (int)len);
	for (w = tui_text_width(s, len); pad && w < cols; w++)
		addch(' ');
}

static void draw_header(struct view *v, int cols)
{
	const struct snap_run_info *run = v->o->run;
	uint64_t cc[TUI_CLASS_BITS];
	struct tui_filter fl;
	struct strbuf sb = STRBUF_INIT;
	int r;

	tui_model_class_counts(v->m, cc);
	tui_model_filter(v->m, &fl);
	r = strbuf_addf(&sb, "drift browse  run #%lld ", (long long)run->id);
	if (r >= 0 && run->command)
		r = escape_display(&sb, run->command, strlen(run->command));
	if (r >= 0)
		r = strbuf_addf(&sb,
				"  %" PRIu64 "/%zu shown: %" PRIu64 " drift, %" PRIu64
				" expected, %" PRIu64 " accepted%s  [%s",
				tui_model_visible(v->m), tui_model_count(v->m), cc[CLASS_DRIFT],
				cc[CLASS_EXPECTED], cc[TUI_CLASS_ACCEPTED],
				v->o->read_only ? "  read-only" : "",
				tui_view_name(tui_model_view(v->m)));
	if (r >= 0 && tui_model_view(v->m) == TUI_VIEW_LIST)
		r = strbuf_addf(&sb, " by %s", tui_sort_name(tui_model_sort(v->m)));
	if (r >= 0 && fl.min_severity > SEVERITY_INFO)
		r = strbuf_addf(&sb, " >=%s", severity_name(fl.min_severity));
	for (unsigned c = 0; r >= 0 && fl.classes != TUI_CLASS_ALL && c < TUI_CLASS_BITS; c++)
		if (fl.classes & (1u << c))
			r = strbuf_addf(&sb, " %s", tui_class_name(c));
	for (unsigned c = 0; r >= 0 && c < CHANGE__COUNT; c++)
		if (fl.changes & (1u << c))
			r = strbuf_addf(&sb, " %s", change_name((enum change)c));
	for (unsigned k = 1; r >= 0 && k <= ENTRY__KIND_MAX; k++)
		if (fl.kinds & (1u << k))
			r = strbuf_addf(&sb, " %s", entry_kind_name((enum entry_kind)k));
	if (r >= 0)
		r = strbuf_adds(&sb, "]");
	if (r >= 0 && v->o->host && *v->o->host) {
		r = strbuf_adds(&sb, " ");
		if (r >= 0)
			r = escape_display(&sb, v->o->host, strlen(v->o->host));
	}
	attron(A_REVERSE);
	move(0, 0);
	put_head(r >= 0 ? sb.buf : "drift browse", (size_t)cols, true);
	attroff(A_REVERSE);
	strbuf_release(&sb);
}

static void draw_row(struct view *v, const struct tui_row *row, bool cur, int y, int cols)
{
	size_t indent = tui_model_view(v->m) == TUI_VIEW_LIST ? 0 : 2 * (size_t)row->depth;
	int w = cols;

	move(y, 0);
	if (cur)
		attron(A_REVERSE);
	if (indent > (size_t)cols / 2)
		indent = (size_t)cols / 2;
	for (size_t i = 0; i < indent; i++)
		addch(' ');
	w -= (int)indent;
	if (row->node) {
		char tail[96];

		snprintf(tail, sizeof(tail), "  %" PRIu64 " %s%s", row->count,
			 row->count == 1 ? "finding" : "findings", row->marked ? ", marked" : "");
		addstr(row->expanded ? "- " : "+ ");
		w -= 2;
		attron(A_BOLD);
		put_fit(row->name, row->name_len,
			w > 40 ? (size_t)w - 30 : (size_t)(w > 10 ? w - 10 : 1), false);
		attroff(A_BOLD);
		addstr(tail);
		addstr("  ");
		attron(severity_attr(v, row->worst));
		addstr(severity_name(row->worst));
		attroff(severity_attr(v, row->worst));
	} else {
		const struct tui_finding *f = row->f;
		const char *key = row->key;
		size_t len = row->key_len;
		static const char change_mark[] = { '+', '-', '~' };

		/* In the directory tree, a file shows by its name: its directory is above it. */
		if (tui_model_view(v->m) == TUI_VIEW_DIR && f->kind == ENTRY_FILE) {
			const char *slash = NULL;

			for (size_t i = len; i-- > 0;)
				if (key[i] == '/' && i + 1 < len) {
					slash = key + i;
					break;
				}
			if (slash) {
				len -= (size_t)(slash + 1 - key);
				key = slash + 1;
			}
		}
		addch((f->flags & TUI_F_MARKED) ? '*' : ' ');
		addch(f->change < 3 ? (chtype)change_mark[f->change] : '?');
		addch(' ');
		attron(severity_attr(v, f->severity));
		addstr(sev_short(f->severity));
		attroff(severity_attr(v, f->severity));
		addch(' ');
		if (f->class == TUI_CLASS_ACCEPTED)
			attron(attr_pair(v, PAIR_ACC));
		printw("%-9.9s", tui_class_name(f->class));
		if (f->class == TUI_CLASS_ACCEPTED)
			attroff(attr_pair(v, PAIR_ACC));
		w -= 18;
		if (tui_model_view(v->m) == TUI_VIEW_LIST ||
		    tui_model_view(v->m) == TUI_VIEW_EVENT) {
			const char *kn = entry_kind_name((enum entry_kind)f->kind);

			printw("%-8.8s", kn ? kn : "?");
			w -= 8;
		}
		if (w > 0)
			put_fit(key, len, (size_t)w, false);
	}
	if (cur) {
		int yy, x;

		getyx(stdscr, yy, x);
		(void)yy;
		for (; x < cols && yy == y; x++)
			addch(' ');
		attroff(A_REVERSE);
	}
	clrtoeol();
}

static void draw_detail(struct view *v, int y0, int height, int cols)
{
	const struct tui_finding *f = tui_model_current(v->m);

	if (f != v->det_f) {
		v->det_f = f;
		v->det_top = 0;
		if (f && tui_detail_build(v->o, &v->lk, v->m, f, &v->det) < 0) {
			set_status(v, "out of memory");
			v->det.n = 0;
		} else if (!f) {
			v->det.n = 0;
		}
	}
	move(y0, 0);
	attron(A_REVERSE);
	for (int x = 0; x < cols; x++)
		addch(x < 8 ? (chtype) " detail "[x] : ' ');
	attroff(A_REVERSE);
	if (!f) {
		mvaddstr(y0 + 1, 0, "(a node: Enter opens it; a finding shows its detail here)");
		clrtoeol();
		for (int y = y0 + 2; y < y0 + height; y++) {
			move(y, 0);
			clrtoeol();
		}
		return;
	}
	if (v->det_top > v->det.n)
		v->det_top = v->det.n;
	for (int i = 1; i < height; i++) {
		size_t k = v->det_top + (size_t)i - 1;

		move(y0 + i, 0);
		clrtoeol();
		if (k >= v->det.n)
			continue;
		{
			const char *s = v->det.text.buf + v->det.start[k];
			int a = 0;

			switch (v->det.style[k]) {
			case TUI_STYLE_HEAD:
				a = A_BOLD;
				break;
			case TUI_STYLE_ADD:
				a = attr_pair(v, PAIR_ADD);
				break;
			case TUI_STYLE_DEL:
				a = attr_pair(v, PAIR_DEL);
				break;
			case TUI_STYLE_HUNK:
				a = attr_pair(v, PAIR_HUNK);
				break;
			case TUI_STYLE_DIM:
				a = A_DIM;
				break;
			default:
				break;
			}
			attron(a);
			/* Already in display form: only cut to the width. */
			put_head(s, (size_t)cols, false);
			attroff(a);
		}
	}
}

static void draw_help(struct view *v, int lines, int cols)
{
	int y = 1;

	move(y++, 0);
	clrtoeol();
	printw("keys (type to filter, Esc or q closes): %s", v->help_filter);
	for (size_t i = 0; i < sizeof(keys_help) / sizeof(keys_help[0]) && y < lines - 1; i++) {
		if (v->help_filter[0] && !strstr(keys_help[i].keys, v->help_filter) &&
		    !strstr(keys_help[i].what, v->help_filter))
			continue;
		move(y++, 0);
		clrtoeol();
		printw("  %-26s %s", keys_help[i].keys, keys_help[i].what);
	}
	for (; y < lines - 1; y++) {
		move(y, 0);
		clrtoeol();
	}
	(void)cols;
}

static int body_height(int lines, bool detail)
{
	int h = lines - 2;

	/* With the detail pane open, the rows get a third of the screen, the detail the rest. */
	return detail ? (h > 9 ? h / 3 : 1) : (h > 0 ? h : 1);
}

static void draw(struct view *v)
{
	int lines, cols, h;
	size_t top, n;
	struct tui_row rows[512];

	getmaxyx(stdscr, lines, cols);
	if (lines < 3 || cols < 20) {
		erase();
		mvaddstr(0, 0, "window too small");
		refresh();
		return;
	}
	draw_header(v, cols);
	if (v->help) {
		draw_help(v, lines, cols);
	} else {
		h = body_height(lines, v->detail);
		if (h > 512)
			h = 512;
		top = tui_model_scroll(v->m, (size_t)h);
		n = tui_model_rows(v->m, top, (size_t)h, rows);
		for (size_t i = 0; i < n; i++)
			draw_row(v, &rows[i], top + i == tui_model_cursor(v->m), 1 + (int)i, cols);
		for (int y = 1 + (int)n; y < 1 + h; y++) {
			move(y, 0);
			clrtoeol();
		}
		if (!tui_model_nrows(v->m))
			mvaddstr(1, 0, "no findings (under these filters)");
		if (v->detail)
			draw_detail(v, 1 + h, lines - 2 - h, cols);
	}
	move(lines - 1, 0);
	clrtoeol();
	if (v->status[0]) {
		struct strbuf sb = STRBUF_INIT;

		/* Messages may quote names: escape_message() keeps control bytes off the terminal.
		 */
		if (escape_message(&sb, v->status, strlen(v->status)) == 0)
			put_head(sb.buf, (size_t)cols - 1, false);
		strbuf_release(&sb);
	} else
		addnstr("q quit  ? keys  / search  Tab detail  1-4 view  s sort  +- severity  c class"
			"  space mark  a accept  w waive",
			cols - 1);
	refresh();
}

/*
 * After a resize, all of the screen is drawn again, not only what changed:
 * the terminal kept what it chose of the old screen (its bottom rows, if the
 * cursor was there), and a frame cut short by the resize lies on it wrapped
 * at the new width, so what curses last drew is no guide to what is shown.
 */
static void repaint(struct view *v)
{
	clearok(curscr, TRUE);
	draw(v);
}

/*
 * A line of input on the status line: printable characters, Backspace,
 * Ctrl-U (clear), Enter (true) or Esc (false). @changed (may be NULL) is
 * called after each edit, for an incremental search.
 */
static bool prompt(struct view *v, const char *label, char *buf, size_t size,
		   void (*changed)(struct view *v, const char *buf))
{
	size_t len = strlen(buf);
	int lines, cols;

	curs_set(1);
	for (;;) {
		int ch;

		getmaxyx(stdscr, lines, cols);
		if (changed)
			draw(v);
		move(lines - 1, 0);
		clrtoeol();
		addnstr(label, cols - 1);
		{
			struct strbuf sb = STRBUF_INIT;

			if (escape_display(&sb, buf, len) == 0)
				addnstr(sb.buf, (int)sb.len);
			strbuf_release(&sb);
		}
		refresh();
		ch = getch();
		if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
			curs_set(0);
			return true;
		}
		if (ch == 27 || ch == 7 /* Ctrl-G */) {
			curs_set(0);
			return false;
		}
		if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
			if (len)
				buf[--len] = '\0';
		} else if (ch == 21 /* Ctrl-U */) {
			len = 0;
			buf[0] = '\0';
		} else if (ch == KEY_RESIZE) {
			repaint(v);
			continue;
		} else if (ch >= 0x20 && ch < 0x100 && ch != 0x7f && len + 1 < size) {
			buf[len++] = (char)ch;
			buf[len] = '\0';
		} else {
			continue;
		}
		if (changed)
			changed(v, buf);
	}
}

static bool confirm(struct view *v, const char *question)
{
	int lines, cols, ch;

	/* A resize is not an answer: ask again on the new screen. */
	for (;;) {
		getmaxyx(stdscr, lines, cols);
		move(lines - 1, 0);
		clrtoeol();
		put_head(question, (size_t)cols - 1, false);
		refresh();
		ch = getch();
		if (ch != KEY_RESIZE)
			return ch == 'y' || ch == 'Y';
		repaint(v);
	}
}

static void search_changed(struct view *v, const char *buf)
{
	int r = tui_model_search(v->m, buf, strlen(buf), true, true);

	set_status(v, "%s", r > 0 || !*buf ? "" : "no match");
}

static void do_search(struct view *v)
{
	char buf[sizeof(v->search)] = "";
	size_t before = tui_model_cursor(v->m);

	v->status[0] = '\0';
	if (prompt(v, "/", buf, sizeof(buf), search_changed)) {
		snprintf(v->search, sizeof(v->search), "%s", buf);
	} else {
		tui_model_move_to(v->m, before);
		v->status[0] = '\0';
	}
}

static void do_next(struct view *v, bool forward)
{
	int r;

	if (!v->search[0]) {
		set_status(v, "no search yet: / searches");
		return;
	}
	r = tui_model_search(v->m, v->search, strlen(v->search), forward, false);
	if (r == 0)
		set_status(v, "no other match");
	else if (r < 0)
		set_status(v, "out of memory");
	else
		v->status[0] = '\0';
}

static void settle(struct view *v, int key)
{
	int64_t *seqs = NULL;
	size_t n = 0;
	char reason[256] = "", expires[64] = "", question[160];
	char *msg = NULL;
	int r;

	if (v->o->read_only) {
		set_status(v, "read-only: %s", v->o->read_only);
		return;
	}
	if (key == 'u') {
		if (!confirm(v, "undo the last acceptance? [y/N]")) {
			set_status(v, "nothing undone");
			return;
		}
		r = v->o->ops && v->o->ops->undo ? v->o->ops->undo(v->o->ops_ctx, &msg) : -ENOSYS;
		set_status(v, "%s", msg ? msg : r < 0 ? strerror(-r) : "undone");
		free(msg);
		return;
	}
	if (tui_model_selection(v->m, &seqs, &n) < 0) {
		set_status(v, "out of memory");
		return;
	}
	if (!n) {
		set_status(v, "nothing to %s here", key == 'a' ? "accept" : "waive");
		goto out;
	}
	if (!prompt(v, key == 'a' ? "accept, reason: " : "waive, reason: ", reason, sizeof(reason),
		    NULL) ||
	    !reason[0]) {
		set_status(v, "cancelled: a reason is needed");
		goto out;
	}
	if (key == 'w' &&
	    (!prompt(v, "waive until (YYYY-MM-DD): ", expires, sizeof(expires), NULL) ||
	     !expires[0])) {
		set_status(v, "cancelled: an expiry date is needed");
		goto out;
	}
	if (key == 'a')
		snprintf(question, sizeof(question), "accept %zu finding%s? [y/N]", n,
			 n == 1 ? "" : "s");
	else
		snprintf(question, sizeof(question), "waive %zu finding%s until %s? [y/N]", n,
			 n == 1 ? "" : "s", expires);
	if (!confirm(v, question)) {
		set_status(v, "nothing written");
		goto out;
	}
	if (key == 'a')
		r = v->o->ops && v->o->ops->accept
			    ? v->o->ops->accept(v->o->ops_ctx, seqs, n, reason, &msg)
			    : -ENOSYS;
	else
		r = v->o->ops && v->o->ops->waive
			    ? v->o->ops->waive(v->o->ops_ctx, seqs, n, reason, expires, &msg)
			    : -ENOSYS;
	if (r >= 0 && key == 'a')
		tui_model_set_accepted(v->m, seqs, n);
	if (msg)
		set_status(v, "%s", msg);
	else if (r < 0)
		set_status(v, "%s failed: %s", key == 'a' ? "accepting" : "waiving", strerror(-r));
	else
		set_status(v, "%s %zu finding%s", key == 'a' ? "accepted" : "waived", n,
			   n == 1 ? "" : "s");
	free(msg);
out:
	free(seqs);
}

/* `x`: plan the remediation of the selection, say what it does, apply when confirmed. */
static void remedy(struct view *v)
{
	int64_t *seqs = NULL;
	size_t n = 0;
	char question[320];
	char *msg = NULL;
	int r;

	if (v->o->read_only) {
		set_status(v, "read-only: %s", v->o->read_only);
		return;
	}
	if (!v->o->ops || !v->o->ops->remedy) {
		set_status(v, "remediation is not available here");
		return;
	}
	if (tui_model_selection(v->m, &seqs, &n) < 0) {
		set_status(v, "out of memory");
		return;
	}
	if (!n) {
		set_status(v, "nothing to remedy here");
		goto out;
	}
	r = v->o->ops->remedy(v->o->ops_ctx, seqs, n, false, &msg);
	if (r <= 0) {
		set_status(v, "%s", msg ? msg : r < 0 ? strerror(-r) : "nothing drift can remedy");
		goto out;
	}
	snprintf(question, sizeof(question), "apply %d action%s? [y/N]  %s", r, r == 1 ? "" : "s",
		 msg ? msg : "");
	free(msg);
	msg = NULL;
	if (!confirm(v, question)) {
		set_status(v, "nothing changed");
		goto out;
	}
	r = v->o->ops->remedy(v->o->ops_ctx, seqs, n, true, &msg);
	set_status(v, "%s", msg ? msg : r < 0 ? strerror(-r) : "remedied");
out:
	free(msg);
	free(seqs);
}

static void cycle_class(struct view *v, struct tui_filter *fl)
{
	static const unsigned order[] = { CLASS_DRIFT, CLASS_EXPECTED, CLASS_VIOLATION, 3,
					  TUI_CLASS_ACCEPTED };
	size_t i;

	if (fl->classes == TUI_CLASS_ALL) {
		fl->classes = 1u << order[0];
		return;
	}
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (fl->classes == (1u << order[i]))
			break;
	fl->classes = i + 1 < sizeof(order) / sizeof(order[0]) ? 1u << order[i + 1] : TUI_CLASS_ALL;
}

static bool is_scroll_key(int ch)
{
	return ch == 'j' || ch == 'k' || ch == KEY_DOWN || ch == KEY_UP || ch == KEY_NPAGE ||
	       ch == KEY_PPAGE || ch == 6 || ch == 2;
}

static void handle_key(struct view *v, int ch, int *pending_g)
{
	struct tui_filter fl;
	int lines, cols, page, r = 0;

	getmaxyx(stdscr, lines, cols);
	(void)cols;
	page = body_height(lines, v->detail);
	/* As repaint(), the loop draws next; the help, a pending g and the status stay. */
	if (ch == KEY_RESIZE) {
		clearok(curscr, TRUE);
		return;
	}
	if (v->help) {
		size_t len = strlen(v->help_filter);

		if (ch == 27 || ch == 'q' || ch == '?')
			v->help = false;
		else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8)
			v->help_filter[len ? len - 1 : 0] = '\0';
		else if (ch >= 0x20 && ch < 0x7f && len + 1 < sizeof(v->help_filter)) {
			v->help_filter[len] = (char)ch;
			v->help_filter[len + 1] = '\0';
		}
		return;
	}
	if (ch != 'g')
		*pending_g = 0;
	v->status[0] = '\0';
	tui_model_filter(v->m, &fl);
	switch (ch) {
	case 'q':
		if (v->detail)
			v->detail = false;
		else
			v->quit = true;
		break;
	case '?':
		v->help = true;
		v->help_filter[0] = '\0';
		break;
	case 'j':
	case KEY_DOWN:
		tui_model_move(v->m, 1);
		break;
	case 'k':
	case KEY_UP:
		tui_model_move(v->m, -1);
		break;
	case KEY_NPAGE:
	case 6:
		tui_model_move(v->m, page);
		break;
	case KEY_PPAGE:
	case 2:
		tui_model_move(v->m, -page);
		break;
	case KEY_HOME:
		tui_model_move_to(v->m, 0);
		break;
	case 'G':
	case KEY_END:
		tui_model_move_to(v->m, (size_t)-1);
		break;
	case 'g':
		if (*pending_g) {
			tui_model_move_to(v->m, 0);
			*pending_g = 0;
		} else {
			*pending_g = 1;
		}
		break;
	case 'l':
	case KEY_RIGHT:
		r = tui_model_expand(v->m, 1);
		break;
	case 'h':
	case KEY_LEFT:
		r = tui_model_expand(v->m, 0);
		break;
	case '\n':
	case '\r':
	case KEY_ENTER:
		if (tui_model_current(v->m))
			v->detail = !v->detail;
		else
			r = tui_model_expand(v->m, -1);
		break;
	case '\t':
		v->detail = !v->detail;
		break;
	case 'J':
		v->det_top++;
		break;
	case 'K':
		if (v->det_top)
			v->det_top--;
		break;
	case 'E':
		r = tui_model_expand_all(v->m, true);
		break;
	case 'C':
		r = tui_model_expand_all(v->m, false);
		break;
	case '1':
	case '2':
	case '3':
	case '4':
		r = tui_model_set_view(v->m, (enum tui_view)(ch - '1'));
		break;
	case 'v':
		r = tui_model_set_view(
			v->m, (enum tui_view)((tui_model_view(v->m) + 1) % TUI_VIEW__COUNT));
		break;
	case 's':
		if (tui_model_view(v->m) != TUI_VIEW_LIST)
			r = tui_model_set_view(v->m, TUI_VIEW_LIST);
		else
			r = tui_model_set_sort(v->m, (enum tui_sort)((tui_model_sort(v->m) + 1) %
								     TUI_SORT__COUNT));
		if (r >= 0)
			set_status(v, "sorted by %s", tui_sort_name(tui_model_sort(v->m)));
		break;
	case '+':
	case '=':
		if (fl.min_severity < SEVERITY_CRITICAL)
			fl.min_severity++;
		r = tui_model_set_filter(v->m, &fl);
		break;
	case '-':
		if (fl.min_severity > SEVERITY_INFO)
			fl.min_severity--;
		r = tui_model_set_filter(v->m, &fl);
		break;
	case 'c':
		cycle_class(v, &fl);
		r = tui_model_set_filter(v->m, &fl);
		break;
	case 'd':
		fl.changes = !fl.changes                                 ? 1u
			     : fl.changes >= (1u << (CHANGE__COUNT - 1)) ? 0
									 : fl.changes << 1;
		r = tui_model_set_filter(v->m, &fl);
		break;
	case 't':
		fl.kinds = !fl.kinds                             ? 1u << ENTRY_FILE
			   : fl.kinds >= (1u << ENTRY__KIND_MAX) ? 0
								 : fl.kinds << 1;
		r = tui_model_set_filter(v->m, &fl);
		break;
	case '0':
		fl = (struct tui_filter){ .min_severity = SEVERITY_INFO, .classes = TUI_CLASS_ALL };
		r = tui_model_set_filter(v->m, &fl);
		break;
	case '/':
		do_search(v);
		break;
	case 'n':
		do_next(v, true);
		break;
	case 'N':
		do_next(v, false);
		break;
	case ' ':
	case 'm':
		tui_model_toggle_mark(v->m);
		if (ch == ' ' && tui_model_current(v->m))
			tui_model_move(v->m, 1);
		set_status(v, "%zu marked", tui_model_marked(v->m));
		break;
	case 'M':
		tui_model_clear_marks(v->m);
		break;
	case 'a':
	case 'w':
	case 'u':
		settle(v, ch);
		break;
	case 'x':
		remedy(v);
		break;
	default:
		break;
	}
	if (r < 0)
		set_status(v, "out of memory");
}

int tui_run(const struct tui_opts *o, struct tui_model *m, struct diag *reterr)
{
	struct view v = { .o = o, .m = m };
	const char *nc = getenv("NO_COLOR");
	int pending_g = 0;

	strbuf_init(&v.det.text);
	setlocale(LC_ALL, "");
	/* Names are shown in UTF-8 display form: a terminal of another charset gets it anyway. */
	if (strcmp(nl_langinfo(CODESET), "UTF-8") != 0)
		setlocale(LC_CTYPE, "C.UTF-8");
	if (!initscr())
		return diag_set(reterr, -EIO, "cannot start the terminal (TERM=%s)",
				getenv("TERM") ? getenv("TERM") : "");
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	set_escdelay(25);
	v.color = has_colors() && !(nc && *nc);
	if (v.color) {
		start_color();
		use_default_colors();
		init_pair(PAIR_CRIT, COLOR_RED, -1);
		init_pair(PAIR_MED, COLOR_YELLOW, -1);
		init_pair(PAIR_ADD, COLOR_GREEN, -1);
		init_pair(PAIR_DEL, COLOR_RED, -1);
		init_pair(PAIR_HUNK, COLOR_CYAN, -1);
		init_pair(PAIR_BAR, COLOR_BLACK, COLOR_WHITE);
		init_pair(PAIR_ACC, COLOR_BLUE, -1);
	}
	if (o->read_only)
		set_status(&v, "read-only: %s", o->read_only);
	draw(&v);
	while (!v.quit) {
		int ch = getch();

		if (ch == ERR)
			continue;
		handle_key(&v, ch, &pending_g);
		/* A burst of scroll keys (a held key, a fast wheel) is merged into one redraw. */
		if (is_scroll_key(ch) && !v.help) {
			nodelay(stdscr, TRUE);
			while ((ch = getch()) != ERR) {
				if (!is_scroll_key(ch)) {
					ungetch(ch);
					break;
				}
				handle_key(&v, ch, &pending_g);
			}
			nodelay(stdscr, FALSE);
		}
		if (!v.quit)
			draw(&v);
	}
	endwin();
	tui_detail_release(&v.det);
	tui_lookups_free(v.lk);
	return 0;
}
