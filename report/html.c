/*
 * The HTML report: one self-contained file (no external script, font,
 * image or style sheet) that opens from disk and as a mail attachment, and
 * stays quick with 100,000 findings:
 *
 *     <!DOCTYPE html> <head> <style>html_style.css</style> </head>
 *     <header>    command, snapshots, host, database, time         (HTML)
 *     <section>   summary: by change, by class, by severity, notes (HTML)
 *     <section>   the last runs as an inline SVG bar chart         (HTML)
 *     <section>   the findings: a paged table the script draws, and a
 *                 <noscript> line saying so
 *     <script type="application/json" id="drift-rules">[[ID,...],...]
 *     <script type="application/json" id="drift-findings">[
 *       [0,2,4,0,0,"file","/etc/passwd",...],       one row per item, the
 *       ...                                         spools copied in order
 *     ]</script>
 *     <script>html_app.js</script>                 draws the first page
 *     <script type="application/x-ndjson" id="drift-details">
 *       {"a":[["mode","0644","0600"]]}              a line per row, in the
 *       ...                                         same order, read when
 *     </script>                                     a row is opened
 *
 * Everything but the table is plain HTML, so the summary reads without
 * JavaScript and prints. The findings are data, not DOM rows: the script
 * parses them once and draws a page of rows at a time (filter, sort, group,
 * details), so the browser never lays out 100,000 rows.
 *
 * Escaping. Every host-controlled string (names, labels, host names, rule
 * texts, notes, diffs) goes through escape_display() first, as the text
 * report shows it: invalid UTF-8 and control bytes as \xHH, invisible and
 * reordering characters as \uXXXX, losslessly and visibly. Then, written
 * into HTML, & < > " ' become entities (html_add_text()); written into the
 * JSON data, " and \ are escaped and < > & U+2028 U+2029 become \u escapes
 * (js_add_text()), so no string can close the <script> element or start a
 * comment in it. The script puts strings into the page with textContent
 * only.
 *
 * Components: the two escapers (over a scratch buffer kept in rep->state),
 * the item renderer (one JSON object per finding or blind spot: section,
 * class, severity, change, kind, name, verdict, package, event, novelty,
 * the changed attributes old and new as the text report words them, the
 * entry's own attributes when added or removed, the kept-file diff), and
 * the document writer (summary, chart, data, script).
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "report/internal.h"
#include "report/html_assets.h"
#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* The runs the chart shows at most: the newest ones. */
#define HISTORY_SHOWN 30

/* What precedes every spooled item; report_html_write() drops the comma of the first. */
#define ITEM_SEP ",\n"

/* One rule as findings name it; the page lists each once (the "rules" data). */
struct html_rule {
	char *id, *title, *file;
	unsigned line;
};

/*
 * The renderer's state: a scratch buffer for display forms, the details
 * of the items (one spool per section, beside report.c's spools of rows,
 * in the same order), and the rules seen so far.
 */
struct html_state {
	struct strbuf display;
	struct strbuf details; /* the item being rendered */
	FILE *spool[SECTION__COUNT];
	struct html_rule *rules;
	size_t nrules, last;
	int spool_err; /* errno of the first failed write of a details spool, 0 if none */
};

static int html_begin(struct report *rep)
{
	struct html_state *st = calloc(1, sizeof(*st));
	int err;

	if (!st)
		return -ENOMEM;
	strbuf_init(&st->display);
	strbuf_init(&st->details);
	rep->state = st;
	for (size_t i = 0; i < SECTION__COUNT; i++) {
		err = report_tmpfile(&st->spool[i]);
		if (err > 0)
			return -err;
	}
	return 0;
}

static void html_free(struct report *rep)
{
	struct html_state *st = rep->state;

	if (!st)
		return;
	for (size_t i = 0; i < SECTION__COUNT; i++)
		if (st->spool[i])
			fclose(st->spool[i]);
	for (size_t i = 0; i < st->nrules; i++) {
		free(st->rules[i].id);
		free(st->rules[i].title);
		free(st->rules[i].file);
	}
	free(st->rules);
	strbuf_release(&st->display);
	strbuf_release(&st->details);
	free(st);
	rep->state = NULL;
}

static bool same_text(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The index of @f's rule in the table, added when new: 0 and *ret, or -ENOMEM. */
static int rule_index(struct html_state *st, const struct finding *f, size_t *ret)
{
	struct html_rule *r;

	/* Findings of one rule come in runs: try the last one first. */
	for (size_t k = 0; k <= st->nrules; k++) {
		size_t i = k == 0 ? st->last : k - 1;

		if (i >= st->nrules)
			continue;
		r = &st->rules[i];
		if (same_text(r->id, f->rule_id) && same_text(r->title, f->rule_title) &&
		    same_text(r->file, f->rule_file) && r->line == f->rule_line) {
			*ret = st->last = i;
			return 0;
		}
	}
	r = realloc(st->rules, (st->nrules + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	st->rules = r;
	r = &st->rules[st->nrules];
	*r = (struct html_rule){ .id = strdup(f->rule_id),
				 .title = f->rule_title ? strdup(f->rule_title) : NULL,
				 .file = f->rule_file ? strdup(f->rule_file) : NULL,
				 .line = f->rule_line };
	if (!r->id || (f->rule_title && !r->title) || (f->rule_file && !r->file)) {
		free(r->id);
		free(r->title);
		free(r->file);
		return -ENOMEM;
	}
	*ret = st->last = st->nrules++;
	return 0;
}

/* The display form of @s in the scratch buffer (valid UTF-8, no control character). */
static int display_of(struct report *rep, const char *s, size_t len, struct strbuf **ret)
{
	struct html_state *st = rep->state;

	strbuf_reset(&st->display);
	if (escape_display(&st->display, s, len) < 0)
		return -ENOMEM;
	*ret = &st->display;
	return 0;
}

/* @s (a display form, or fixed ASCII) as HTML text or attribute value. */
static int html_add_escaped(struct strbuf *out, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *ent;

		switch (s[i]) {
		case '&':
			ent = "&amp;";
			break;
		case '<':
			ent = "&lt;";
			break;
		case '>':
			ent = "&gt;";
			break;
		case '"':
			ent = "&quot;";
			break;
		case '\'':
			ent = "&#39;";
			break;
		default:
			continue;
		}
		if (strbuf_add(out, s + start, i - start) < 0 || strbuf_adds(out, ent) < 0)
			return -ENOMEM;
		start = i + 1;
	}
	return strbuf_add(out, s + start, len - start);
}

/* Any bytes from the host as HTML: display form, then entities. */
static int html_add_text(struct report *rep, struct strbuf *out, const char *s, size_t len)
{
	struct strbuf *d;

	if (display_of(rep, s, len, &d) < 0)
		return -ENOMEM;
	return html_add_escaped(out, d->buf, d->len);
}

static int html_add_ctext(struct report *rep, struct strbuf *out, const char *s)
{
	return html_add_text(rep, out, s, strlen(s));
}

/*
 * @s as a JSON string literal that is safe inside a <script> element: no
 * `<`, `>` or `&` (so no `</script>` and no `<!--`), no U+2028/U+2029, no
 * control character, whatever @s holds.
 */
static int js_add_string(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t start = 0;

	if (strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned c = p[i];
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
		size_t elen = 6, skip = 1;

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			elen = 2;
		} else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' || c == '&') {
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
		} else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x80 &&
			   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9)) {
			esc[2] = '2';
			esc[3] = '0';
			esc[4] = '2';
			esc[5] = p[i + 2] == 0xa8 ? '8' : '9';
			skip = 3;
		} else {
			continue;
		}
		if (strbuf_add(out, s + start, i - start) < 0 || strbuf_add(out, esc, elen) < 0)
			return -ENOMEM;
		start = i + skip;
		i += skip - 1;
	}
	if (strbuf_add(out, s + start, len - start) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '"');
}

/* Any bytes from the host as a safe JSON string of their display form. */
static int js_add_text(struct report *rep, struct strbuf *out, const char *s, size_t len)
{
	struct strbuf *d;

	if (display_of(rep, s, len, &d) < 0)
		return -ENOMEM;
	return js_add_string(out, d->buf, d->len);
}

/* `,"KEY":"TEXT"` when @s is set. */
static int js_add_member(struct report *rep, struct strbuf *out, const char *key, const char *s)
{
	if (!s)
		return 0;
	if (strbuf_addf(out, ",\"%s\":", key) < 0)
		return -ENOMEM;
	return js_add_text(rep, out, s, strlen(s));
}

/* `["NAME","VALUE"]` or `["NAME","OLD","NEW"]`, from already escaped strings. */
static int js_add_row(struct strbuf *out, bool first, const char *name, const struct strbuf *a,
		      const struct strbuf *b)
{
	if ((!first && strbuf_addch(out, ',') < 0) || strbuf_addch(out, '[') < 0 ||
	    js_add_string(out, name, strlen(name)) < 0 || strbuf_addch(out, ',') < 0 ||
	    js_add_string(out, a->buf, a->len) < 0)
		return -ENOMEM;
	if (b && (strbuf_addch(out, ',') < 0 || js_add_string(out, b->buf, b->len) < 0))
		return -ENOMEM;
	return strbuf_addch(out, ']');
}

/*
 * `,"a":[[ATTR,OLD,NEW],...]`: what changed, worded as the text report's
 * `attr: old -> new` lines (one row per changed property, by its name).
 */
static int add_changes(struct strbuf *out, const struct finding *f, uint32_t attrs)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT, name = STRBUF_INIT;
	bool first = true;
	int r = -ENOMEM;

	if (strbuf_adds(out, ",\"a\":[") < 0)
		goto out;
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		enum entry_attr attr = (enum entry_attr)(1u << i);

		if (!(attrs & attr))
			continue;
		strbuf_reset(&a);
		strbuf_reset(&b);
		if (attr == ATTR_PROPS) {
			struct report_pair_cursor ca, cb;

			report_pair_cursor_start(&ca, f->before, true);
			report_pair_cursor_start(&cb, f->after, true);
			while (ca.more || cb.more) {
				int c = report_pair_cursor_compare(&ca, &cb);
				const struct report_pair_cursor *named = c <= 0 ? &ca : &cb;

				if (c != 0 || !report_value_equal(ca.value, ca.value_len, cb.value,
								  cb.value_len)) {
					strbuf_reset(&a);
					strbuf_reset(&b);
					strbuf_reset(&name);
					if (escape_display(&name, named->name, named->name_len) <
						    0 ||
					    report_prop_value(&a, &ca, c <= 0) < 0 ||
					    report_prop_value(&b, &cb, c >= 0) < 0 ||
					    js_add_row(out, first, name.buf, &a, &b) < 0)
						goto out;
					first = false;
				}
				if (c <= 0)
					report_pair_cursor_step(&ca);
				if (c >= 0)
					report_pair_cursor_step(&cb);
			}
			continue;
		}
		if (attr == ATTR_XATTRS) {
			if (report_xattrs_side(&a, f->before, f->after, false) < 0 ||
			    report_xattrs_side(&b, f->before, f->after, true) < 0)
				goto out;
		} else if (report_attr_value(&a, f->before, attr) < 0 ||
			   report_attr_value(&b, f->after, attr) < 0) {
			goto out;
		}
		if (js_add_row(out, first, entry_attr_name(attr), &a, &b) < 0)
			goto out;
		first = false;
	}
	r = strbuf_addch(out, ']');
out:
	strbuf_release(&a);
	strbuf_release(&b);
	strbuf_release(&name);
	return r < 0 ? -ENOMEM : 0;
}

/*
 * The one side of an added or removed entry. A file: `,"f":[TYPE, MODE,
 * UID, GID, SIZE, MTIME, HASH]` (HASH "" when not hashed), then TARGET (a
 * symlink's) and RDEV (a device's) when there is one; positional, as the
 * page knows the names. Another kind: `,"e":[[NAME,VALUE],...]`, its props.
 */
static int add_entry_attrs(struct strbuf *out, const struct entry *e)
{
	static const enum entry_attr shown[] = { ATTR_TYPE, ATTR_MODE,   ATTR_UID,
						 ATTR_GID,  ATTR_SIZE,   ATTR_MTIME,
						 ATTR_HASH, ATTR_TARGET, ATTR_RDEV };
	struct strbuf v = STRBUF_INIT, name = STRBUF_INIT;
	bool first = true;
	size_t n = 7;
	int r = -ENOMEM;

	if (e->kind != ENTRY_FILE) {
		struct report_pair_cursor c;

		if (strbuf_adds(out, ",\"e\":[") < 0)
			goto out;
		for (report_pair_cursor_start(&c, e, true); c.more; report_pair_cursor_step(&c)) {
			strbuf_reset(&v);
			strbuf_reset(&name);
			if (escape_display(&name, c.name, c.name_len) < 0 ||
			    report_prop_value(&v, &c, true) < 0 ||
			    js_add_row(out, first, name.buf, &v, NULL) < 0)
				goto out;
			first = false;
		}
		r = strbuf_addch(out, ']');
		goto out;
	}
	if (entry_is_device(e))
		n = 9;
	else if (S_ISLNK(e->mode))
		n = 8;
	if (strbuf_adds(out, ",\"f\":[") < 0)
		goto out;
	for (size_t i = 0; i < n; i++) {
		enum entry_attr attr = shown[i];

		strbuf_reset(&v);
		if (attr == ATTR_HASH && (e->hash_algo == HASH_NONE || !e->hash_len))
			r = 0;
		else if (attr == ATTR_TARGET && !e->target)
			r = 0;
		else
			r = report_attr_value(&v, e, attr);
		if (r < 0 || (i > 0 && strbuf_addch(out, ',') < 0) ||
		    js_add_string(out, v.buf, v.len) < 0)
			goto out;
	}
	r = strbuf_addch(out, ']');
out:
	strbuf_release(&v);
	strbuf_release(&name);
	return r < 0 ? -ENOMEM : 0;
}

/*
 * `,"diff":[LINE,...]` (each line's display form, so that no byte of a
 * kept file reaches the page raw) and `,"diffomit":N`, or `,"diffbin":1`.
 */
static int add_diff(struct report *rep, struct strbuf *out, const struct report_diff *diff)
{
	if (!diff)
		return 0;
	if (diff->binary)
		return strbuf_adds(out, ",\"diffbin\":1");
	if (strbuf_adds(out, ",\"diff\":[") < 0)
		return -ENOMEM;
	for (size_t pos = 0, n = 0; pos < diff->len; n++) {
		const char *p = diff->text + pos, *nl = memchr(p, '\n', diff->len - pos);
		size_t len = nl ? (size_t)(nl - p) : diff->len - pos;

		/* The headers' tab before the snapshot shows as two spaces, as in text. */
		const char *tab = n < 2 ? memrchr(p, '\t', len) : NULL;
		struct html_state *st = rep->state;

		if (n > 0 && strbuf_addch(out, ',') < 0)
			return -ENOMEM;
		if (!tab) {
			if (js_add_text(rep, out, p, len) < 0)
				return -ENOMEM;
		} else {
			strbuf_reset(&st->display);
			if (escape_display(&st->display, p, (size_t)(tab - p)) < 0 ||
			    strbuf_adds(&st->display, "  ") < 0 ||
			    escape_display(&st->display, tab + 1, len - (size_t)(tab - p) - 1) <
				    0 ||
			    js_add_string(out, st->display.buf, st->display.len) < 0)
				return -ENOMEM;
		}
		pos += len + (nl ? 1 : 0);
	}
	if (strbuf_addch(out, ']') < 0)
		return -ENOMEM;
	if (diff->omitted_lines && strbuf_addf(out, ",\"diffomit\":%zu", diff->omitted_lines) < 0)
		return -ENOMEM;
	if (diff->show_snapshot && js_add_member(rep, out, "show", diff->show_snapshot) < 0)
		return -ENOMEM;
	return 0;
}

/* Flags of a row (its fifth member). */
enum row_flags {
	ROW_UNOWNED = 1 << 0,
	ROW_CHANGED_WHILE_READ = 1 << 1,
	ROW_TOO_SPARSE = 1 << 2,
	ROW_EXPECTED = 1 << 3, /* class expected (a resolved finding's section does not say) */
	ROW_WAIVED = 1 << 4,   /* class waived, likewise */
};

/*
 * One row: `,\n[SECTION, CHANGE, SEVERITY, NOVELTY, FLAGS, KIND, NAME, RULE,
 * REASON, PACKAGE, EVENT]`, integers as the enums number them (-1: none;
 * RULE an index into the rules) and display strings ("" for none); a blind
 * spot has its error as REASON. What the page filters, sorts and groups
 * by: it parses every row at once.
 */
static int add_row(struct report *rep, struct strbuf *out, enum report_section s, int change,
		   int severity, int novelty, unsigned flags, const struct entry *e, long rule,
		   const char *reason, const char *package, const struct finding_event *ev)
{
	static const char *const events[] = {
		[EVENT_PACKAGE] = "package", [EVENT_USER] = "user", [EVENT_GROUP] = "group"
	};

	if (e->flags & ENTRY_CHANGED_WHILE_READ)
		flags |= ROW_CHANGED_WHILE_READ;
	if (e->flags & ENTRY_NOT_HASHED_TOO_SPARSE)
		flags |= ROW_TOO_SPARSE;
	if (strbuf_addf(out, ITEM_SEP "[%d,%d,%d,%d,%u,\"%s\",", (int)s, change, severity, novelty,
			flags, report_kind_name(e->kind)) < 0 ||
	    js_add_text(rep, out, e->key, e->key_len) < 0 || strbuf_addf(out, ",%ld,", rule) < 0 ||
	    js_add_text(rep, out, reason ? reason : "", reason ? strlen(reason) : 0) < 0 ||
	    strbuf_addch(out, ',') < 0 ||
	    js_add_text(rep, out, package ? package : "", package ? strlen(package) : 0) < 0 ||
	    strbuf_addch(out, ',') < 0)
		return -ENOMEM;
	if (ev && (unsigned)ev->kind < sizeof(events) / sizeof(events[0]) && events[ev->kind]) {
		struct strbuf evs = STRBUF_INIT;
		int r;

		/* "KIND NAME": one string to show and to group by. */
		r = strbuf_adds(&evs, events[ev->kind]);
		if (r == 0)
			r = strbuf_addch(&evs, ' ');
		if (r == 0 && ev->name)
			r = escape_display(&evs, ev->name, strlen(ev->name));
		if (r == 0)
			r = js_add_string(out, evs.buf, evs.len);
		strbuf_release(&evs);
		if (r < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "\"\"") < 0) {
		return -ENOMEM;
	}
	return strbuf_addch(out, ']');
}

/* The section report.c spools @f to (it has checked the finding). */
static enum report_section finding_section(const struct finding *f)
{
	if (f->novelty == NOVELTY_RESOLVED)
		return SECTION_RESOLVED;
	if (!f->judged)
		return f->change == CHANGE_ADDED     ? SECTION_ADDED
		       : f->change == CHANGE_REMOVED ? SECTION_REMOVED
						     : SECTION_MODIFIED;
	return report_class_section(f);
}

/* Append the item's details line (st->details) to the details spool of @s. */
static int spool_details(struct report *rep, enum report_section s)
{
	struct html_state *st = rep->state;

	if (st->spool_err)
		return -EIO;
	if (strbuf_addch(&st->details, '\n') < 0)
		return -ENOMEM;
	errno = 0;
	if (fwrite(st->details.buf, 1, st->details.len, st->spool[s]) != st->details.len) {
		/* Rows and details must stay line for line: no item after this one. */
		st->spool_err = errno ? errno : EIO;
		return -EIO;
	}
	return 0;
}

/*
 * A finding: its row into @out (report.c's spool), its details, parsed
 * only when the reader opens them, into the renderer's spool of the same
 * section, one JSON object a line: {"rt","rf","rl" of its rule are in the
 * rules; "pov","pnv" package versions; "t" type of a non-regular file
 * added or removed; "a" changed attributes [[NAME,OLD,NEW],...]; "f" or
 * "e" the entry of an added or removed one; "diff"...}.
 */
static int html_deviation(struct report *rep, const struct finding *f, struct strbuf *out)
{
	struct html_state *st = rep->state;
	struct strbuf *d = &st->details;
	const struct entry *e = f->change == CHANGE_REMOVED ? f->before : f->after;
	const struct finding_package *owner = report_finding_owner(f);
	enum report_section s = finding_section(f);
	unsigned flags = 0;
	size_t rule = 0;
	bool have_rule = f->judged && f->rule_id;
	int r;

	if (owner && owner->unowned)
		flags |= ROW_UNOWNED;
	if (f->judged && f->class == CLASS_EXPECTED)
		flags |= ROW_EXPECTED;
	if (f->judged && f->class == CLASS_WAIVED)
		flags |= ROW_WAIVED;
	if (have_rule && (r = rule_index(st, f, &rule)) < 0)
		return r;
	if (add_row(rep, out, s, (int)f->change, f->judged ? (int)f->severity : -1, (int)f->novelty,
		    flags, e, have_rule ? (long)rule : -1L, f->judged ? f->reason : NULL,
		    owner ? owner->name : NULL, &f->event) < 0)
		return -ENOMEM;

	strbuf_reset(d);
	if (strbuf_addch(d, '{') < 0)
		return -ENOMEM;
	if (owner && !owner->unowned &&
	    (js_add_member(rep, d, "pov", owner->before_version) < 0 ||
	     js_add_member(rep, d, "pnv", owner->after_version) < 0))
		return -ENOMEM;
	if (e->kind == ENTRY_FILE && f->change != CHANGE_MODIFIED && !S_ISREG(e->mode) &&
	    strbuf_addf(d, ",\"t\":\"%s\"", entry_type_name(e->mode)) < 0)
		return -ENOMEM;
	if (f->change == CHANGE_MODIFIED) {
		if (add_changes(d, f, f->judged ? f->attrs : f->changed) < 0)
			return -ENOMEM;
	} else if (add_entry_attrs(d, e) < 0) {
		return -ENOMEM;
	}
	if (add_diff(rep, d, rep->diff) < 0 || strbuf_addch(d, '}') < 0)
		return -ENOMEM;
	/* Members start with a comma; the first one's goes. */
	if (d->len > 2 && d->buf[1] == ',') {
		memmove(d->buf + 1, d->buf + 2, d->len - 1);
		d->len--;
	}
	return spool_details(rep, s);
}

static int html_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	struct html_state *st = rep->state;
	char buf[32];

	if (add_row(rep, out, SECTION_ERRORS, -1, -1, 0, 0, e, -1,
		    report_entry_error_text(e, buf, sizeof(buf)), NULL, NULL) < 0)
		return -ENOMEM;
	strbuf_reset(&st->details);
	if (strbuf_adds(&st->details, "{}") < 0)
		return -ENOMEM;
	return spool_details(rep, SECTION_ERRORS);
}

/* ---- the document ---- */

/* 'LABEL' #ID, STARTED or #ID, STARTED; escaped. */
static int add_snapshot(struct report *rep, struct strbuf *out, const struct snap_info *info)
{
	if (info->label &&
	    (strbuf_adds(out, "<b>") < 0 || html_add_ctext(rep, out, info->label) < 0 ||
	     strbuf_adds(out, "</b> ") < 0))
		return -ENOMEM;
	if (strbuf_addf(out, "#%" PRId64 ", ", info->id) < 0 ||
	    report_format_time_short(out, info->started_ns) < 0)
		return -ENOMEM;
	if (info->host &&
	    (strbuf_adds(out, ", host ") < 0 || html_add_ctext(rep, out, info->host) < 0))
		return -ENOMEM;
	return 0;
}

/* <title> and the header: what was compared, where, when. */
static int add_header(struct report *rep, struct strbuf *out, uint64_t total)
{
	const struct report_meta *m = &rep->meta;
	const struct snap_info *host = m->after ? m->after : m->before;

	if (strbuf_addf(out, "<title>drift %s: %" PRIu64 " deviation%s", m->command, total,
			total == 1 ? "" : "s") < 0)
		return -ENOMEM;
	if (host && host->host &&
	    (strbuf_adds(out, " on ") < 0 || html_add_ctext(rep, out, host->host) < 0))
		return -ENOMEM;
	if (strbuf_addf(out,
			"</title>\n<style>%.*s</style>\n</head>\n<body>\n<header>\n"
			"<h1>drift %s</h1>\n<dl class=\"meta\">\n",
			(int)sizeof(html_style_css), html_style_css, m->command) < 0)
		return -ENOMEM;
	if (m->before) {
		if (strbuf_adds(out, !strcmp(m->command, "check") ? "<dt>baseline</dt><dd>"
								  : "<dt>from</dt><dd>") < 0 ||
		    add_snapshot(rep, out, m->before) < 0 || strbuf_adds(out, "</dd>\n") < 0)
			return -ENOMEM;
	}
	if (m->after) {
		if (strbuf_adds(out, !strcmp(m->command, "check") ? "<dt>checked</dt><dd>"
								  : "<dt>to</dt><dd>") < 0 ||
		    add_snapshot(rep, out, m->after) < 0 || strbuf_adds(out, "</dd>\n") < 0)
			return -ENOMEM;
	}
	if (m->database &&
	    (strbuf_adds(out, "<dt>database</dt><dd>") < 0 ||
	     html_add_ctext(rep, out, m->database) < 0 || strbuf_adds(out, "</dd>\n") < 0))
		return -ENOMEM;
	if (strbuf_adds(out, "<dt>generated</dt><dd>") < 0 ||
	    report_format_time_short(out, rep->generated_ns) < 0 ||
	    strbuf_adds(out, " by drift ") < 0 ||
	    html_add_ctext(rep, out, m->tool_version ? m->tool_version : DRIFT_VERSION) < 0 ||
	    (m->run_id && strbuf_addf(out, ", run #%" PRId64, m->run_id) < 0) ||
	    strbuf_adds(out, "</dd>\n</dl>\n</header>\n") < 0)
		return -ENOMEM;
	return 0;
}

/* One count cell: <div class="count CLS"><b>N</b> NAME</div>. */
static int add_count(struct strbuf *out, const char *cls, uint64_t n, const char *name)
{
	return strbuf_addf(out,
			   "<div class=\"count %s%s\"><b>%" PRIu64 "</b><span>%s</span></div>\n",
			   cls, n ? "" : " zero", n, name);
}

/* The report's own notes (contents not compared, another policy) and the caller's. */
static int add_notes(struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;
	bool any = rep->nnotes > 0 || report_policy_changed(rep) ||
		   (m->before && m->after && !report_hash_compared(rep) &&
		    m->before->hash != m->after->hash);

	if (!any)
		return 0;
	if (strbuf_adds(out, "<ul class=\"notes\">\n") < 0)
		return -ENOMEM;
	if (m->before && m->after && !report_hash_compared(rep) &&
	    m->before->hash != m->after->hash &&
	    strbuf_addf(out,
			"<li>contents were not compared (the snapshots were hashed with %s and "
			"%s)</li>\n",
			hash_algo_name(m->before->hash), hash_algo_name(m->after->hash)) < 0)
		return -ENOMEM;
	if (report_policy_changed(rep) &&
	    strbuf_adds(out,
			!strcmp(m->command, "check")
				? "<li>the baseline was taken under another policy</li>\n"
				: "<li>the snapshots were taken under different policies</li>\n") <
		    0)
		return -ENOMEM;
	for (size_t i = 0; i < rep->nnotes; i++)
		if (strbuf_adds(out, "<li>") < 0 || html_add_ctext(rep, out, rep->notes[i]) < 0 ||
		    strbuf_adds(out, "</li>\n") < 0)
			return -ENOMEM;
	return strbuf_adds(out, "</ul>\n");
}

/*
 * The summary, the same numbers as the text and JSON summaries: by change,
 * by class (drift, expected, unreadable), drift by severity (with those
 * --min-severity hides), entries checked; then resolved findings and notes.
 */
static int add_summary(struct report *rep, struct strbuf *out, uint64_t total)
{
	const uint64_t *ch = rep->changes;
	uint64_t expected = report_section_total(rep, SECTION_EXPECTED), hidden = 0;
	uint64_t waived = report_section_total(rep, SECTION_WAIVED);
	uint64_t unclassified = report_section_total(rep, SECTION_ADDED) +
				report_section_total(rep, SECTION_REMOVED) +
				report_section_total(rep, SECTION_MODIFIED);
	uint64_t checked = report_entries_checked(rep);

	for (unsigned s = 0; s < SECTION__COUNT; s++)
		hidden += rep->hidden[s];
	if (strbuf_adds(out, "<section id=\"summary\">\n<p class=\"headline\">") < 0)
		return -ENOMEM;
	if (total == 0 ? strbuf_adds(out, "No deviations") < 0
		       : strbuf_addf(out,
				     "%" PRIu64 " deviation%s: %" PRIu64 " added, %" PRIu64
				     " removed, %" PRIu64 " modified",
				     total, total == 1 ? "" : "s", ch[CHANGE_ADDED],
				     ch[CHANGE_REMOVED], ch[CHANGE_MODIFIED]) < 0)
		return -ENOMEM;
	if (strbuf_addf(out, "; %" PRIu64 " %s checked", checked,
			rep->verify ? (checked == 1 ? "file" : "files")
				    : (checked == 1 ? "entry" : "entries")) < 0 ||
	    (rep->count[SECTION_ERRORS] &&
	     strbuf_addf(out, "; %" PRIu64 " unreadable", rep->count[SECTION_ERRORS]) < 0) ||
	    strbuf_adds(out, "</p>\n<div class=\"counts\" id=\"by-class\">\n") < 0 ||
	    add_count(out, "drift", total - expected - waived, "drift") < 0 ||
	    add_count(out, "expected", expected, "expected") < 0 ||
	    (waived && add_count(out, "waived", waived, "waived") < 0) ||
	    add_count(out, "unreadable", rep->count[SECTION_ERRORS], "unreadable") < 0 ||
	    strbuf_adds(out, "</div>\n<div class=\"counts\" id=\"by-severity\">\n") < 0)
		return -ENOMEM;
	for (unsigned s = SECTION_CRITICAL; s <= SECTION_INFO; s++)
		if (add_count(out, report_section_name(s), report_section_total(rep, s),
			      report_section_name(s)) < 0)
			return -ENOMEM;
	if (unclassified && add_count(out, "unclassified", unclassified, "no verdict") < 0)
		return -ENOMEM;
	if (strbuf_adds(out, "</div>\n") < 0)
		return -ENOMEM;
	if (hidden &&
	    strbuf_addf(out,
			"<p class=\"muted\">%" PRIu64 " finding%s below --min-severity %s "
			"%s counted but not listed.</p>\n",
			hidden, hidden == 1 ? "" : "s", severity_name(rep->meta.min_severity),
			hidden == 1 ? "is" : "are") < 0)
		return -ENOMEM;
	if (rep->count[SECTION_RESOLVED] &&
	    strbuf_addf(out,
			"<p class=\"muted\">%" PRIu64 " finding%s of run #%" PRId64
			" %s gone (resolved; not counted).</p>\n",
			rep->count[SECTION_RESOLVED], rep->count[SECTION_RESOLVED] == 1 ? "" : "s",
			rep->meta.since_run, rep->count[SECTION_RESOLVED] == 1 ? "is" : "are") < 0)
		return -ENOMEM;
	if (add_notes(rep, out) < 0)
		return -ENOMEM;
	return strbuf_adds(out, "</section>\n");
}

/*
 * The last HISTORY_SHOWN runs as stacked bars (drift, then expected on
 * top), a tooltip (<title>) per run, the scale's top on the left.
 */
static int add_history(struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;
	size_t n = m->history ? m->nhistory : 0, first = n > HISTORY_SHOWN ? n - HISTORY_SHOWN : 0;
	const unsigned width = 640, height = 160, left = 40, bottom = 20, top = 10;
	uint64_t max = 1;
	unsigned slot;

	if (strbuf_adds(out, "<section id=\"history\">\n<h2>Last runs</h2>\n") < 0)
		return -ENOMEM;
	if (n == 0) {
		if (strbuf_adds(out, "<p class=\"muted\">No earlier runs recorded.</p>\n"
				     "</section>\n") < 0)
			return -ENOMEM;
		return 0;
	}
	for (size_t i = first; i < n; i++)
		if (m->history[i].drift + m->history[i].expected > max)
			max = m->history[i].drift + m->history[i].expected;
	slot = (width - left) / HISTORY_SHOWN;
	if (strbuf_addf(
		    out,
		    "<svg class=\"chart\" viewBox=\"0 0 %u %u\" width=\"%u\" height=\"%u\" "
		    "role=\"img\" aria-label=\"drift and expected findings of the last %zu "
		    "runs\">\n"
		    "<line class=\"axis\" x1=\"%u\" y1=\"%u\" x2=\"%u\" y2=\"%u\"/>\n"
		    "<text class=\"tick\" x=\"%u\" y=\"%u\" text-anchor=\"end\">%" PRIu64
		    "</text>\n<text class=\"tick\" x=\"%u\" y=\"%u\" text-anchor=\"end\">0</text>\n",
		    width, height, width, height, n - first, left - 4, height - bottom, width,
		    height - bottom, left - 8, top + 8, max, left - 8, height - bottom) < 0)
		return -ENOMEM;
	for (size_t i = first; i < n; i++) {
		const struct report_history *h = &m->history[i];
		unsigned span = height - bottom - top, x = left + (unsigned)(i - first) * slot + 2;
		unsigned hd = (unsigned)(h->drift * span / max);
		unsigned he = (unsigned)(h->expected * span / max);
		unsigned y = height - bottom;

		if (strbuf_addf(out, "<g><title>run #%" PRId64 ", ", h->run) < 0 ||
		    report_format_time_short(out, h->started_ns) < 0 ||
		    strbuf_addf(out,
				": %" PRIu64 " drift, %" PRIu64 " expected, %" PRIu64
				" unreadable, exit %d</title>\n",
				h->drift, h->expected, h->blind, h->exit_code) < 0 ||
		    strbuf_addf(out,
				"<rect class=\"bar-drift\" x=\"%u\" y=\"%u\" width=\"%u\" "
				"height=\"%u\"/>\n<rect class=\"bar-expected\" x=\"%u\" y=\"%u\" "
				"width=\"%u\" height=\"%u\"/>\n",
				x, y - hd, slot - 4, hd, x, y - hd - he, slot - 4, he) < 0 ||
		    strbuf_addf(
			    out,
			    "<text class=\"tick\" x=\"%u\" y=\"%u\" text-anchor=\"middle\">#%" PRId64
			    "</text></g>\n",
			    x + (slot - 4) / 2, height - 6, h->run) < 0)
			return -ENOMEM;
	}
	return strbuf_adds(out, "</svg>\n<p class=\"legend\"><span class=\"key drift\"></span> "
				"drift <span class=\"key expected\"></span> expected</p>\n"
				"</section>\n");
}

/* `[[ID,TITLE,FILE,LINE],...]`: the rules the rows name by index ("" and 0: none). */
static int add_rules(struct report *rep, struct strbuf *out)
{
	struct html_state *st = rep->state;

	if (strbuf_addch(out, '[') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < st->nrules; i++) {
		const struct html_rule *r = &st->rules[i];

		if ((i > 0 && strbuf_addch(out, ',') < 0) || strbuf_addch(out, '[') < 0 ||
		    js_add_text(rep, out, r->id, strlen(r->id)) < 0 || strbuf_addch(out, ',') < 0 ||
		    js_add_text(rep, out, r->title ? r->title : "",
				r->title ? strlen(r->title) : 0) < 0 ||
		    strbuf_addch(out, ',') < 0 ||
		    js_add_text(rep, out, r->file ? r->file : "", r->file ? strlen(r->file) : 0) <
			    0 ||
		    strbuf_addf(out, ",%u]", r->line) < 0)
			return -ENOMEM;
	}
	return strbuf_addch(out, ']');
}

/* Copy the renderer's details spool of @s to the output. */
static int details_copy(struct report *rep, enum report_section s, struct diag *reterr)
{
	struct html_state *st = rep->state;
	char buf[65536], ebuf[32];
	FILE *f = st->spool[s];
	size_t n;
	int r;

	if (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0)
		goto fail_read;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		r = report_out_write(rep, buf, n);
		if (r < 0)
			return r;
	}
	if (ferror(f))
		goto fail_read;
	return 0;

fail_read:
	return diag_set(reterr, -EIO, "cannot read back the temporary file of the report: %s",
			report_errno_text(errno, ebuf, sizeof(ebuf)));
}

static int html_write(struct report *rep, struct diag *reterr)
{
	static const char document_end[] = "</script>\n</body>\n</html>\n";
	static const char details_start[] =
		"</script>\n<script type=\"application/x-ndjson\" id=\"drift-details\">\n";
	struct strbuf *sb = &rep->item;
	const uint64_t *ch = rep->changes;
	uint64_t total = ch[CHANGE_ADDED] + ch[CHANGE_REMOVED] + ch[CHANGE_MODIFIED];
	struct html_state *st = rep->state;
	char ebuf[32];
	bool first = true;
	int r;

	/* As report_finish() does for its spools: a late ENOSPC fails the report
	 * before its first byte. */
	for (unsigned s = 0; s < SECTION__COUNT && !st->spool_err; s++) {
		errno = 0;
		if (fflush(st->spool[s]) != 0 || ferror(st->spool[s]))
			st->spool_err = errno ? errno : EIO;
	}
	if (st->spool_err)
		return diag_set(reterr, -EIO, "cannot write the temporary file of the report: %s",
				report_errno_text(st->spool_err, ebuf, sizeof(ebuf)));
	strbuf_reset(sb);
	if (strbuf_adds(sb,
			"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			"<meta name=\"generator\" content=\"drift\">\n") < 0 ||
	    add_header(rep, sb, total) < 0 || add_summary(rep, sb, total) < 0 ||
	    add_history(rep, sb) < 0 ||
	    strbuf_adds(sb, "<section id=\"findings\">\n<h2>Findings</h2>\n"
			    "<noscript><p class=\"muted\">The table of findings needs JavaScript; "
			    "the summary above is complete without it.</p></noscript>\n"
			    "<div id=\"app\"></div>\n</section>\n"
			    "<script type=\"application/json\" id=\"drift-rules\">") < 0 ||
	    add_rules(rep, sb) < 0 ||
	    strbuf_adds(sb,
			"</script>\n<script type=\"application/json\" id=\"drift-findings\">[") < 0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	for (unsigned s = 0; s < SECTION__COUNT; s++) {
		if (!rep->count[s])
			continue;
		/* Drop the comma that starts the first item. */
		r = report_spool_copy(rep, (enum report_section)s, first ? 1 : 0, reterr);
		if (r < 0)
			return r;
		first = false;
	}
	/*
	 * The script, then the details: one line per row, in the rows' order,
	 * parsed on demand. The script runs when the parser reaches it, so the
	 * first page is drawn before the browser has read the details, which
	 * are most of the bytes.
	 */
	strbuf_reset(sb);
	if (strbuf_addf(sb, "\n]</script>\n<script>%.*s", (int)sizeof(html_app_js), html_app_js) <
	    0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	r = report_out_write(rep, details_start, sizeof(details_start) - 1);
	if (r < 0)
		return r;
	for (unsigned s = 0; s < SECTION__COUNT; s++) {
		if (!rep->count[s])
			continue;
		r = details_copy(rep, (enum report_section)s, reterr);
		if (r < 0)
			return r;
	}
	return report_out_write(rep, document_end, sizeof(document_end) - 1);
}

const struct report_renderer report_html_renderer = {
	.begin = html_begin,
	.deviation = html_deviation,
	.error = html_error,
	.write = html_write,
	.free = html_free,
};
