/*
 * The text report, for terminals and mail. Its exact shape is a contract
 * (the CLI's tests and users' mail filters parse it). The first line is the
 * summary, here folded but always one line:
 *
 *     drift check: 3 deviations from baseline 'baseline' (#1, 2026-11-25 15:10:02 UTC):
 *       1 added, 1 removed, 1 modified; 1234 entries checked
 *
 * and, when there is more to say, a blank line and the sections:
 *
 *     added (1):
 *       /etc/cron.d (dir)
 *
 *     removed (1):
 *       /etc/old
 *
 *     modified (1):
 *       /etc/passwd
 *         mode: 0644 -> 0600
 *
 *     unreadable (1):
 *       /etc/shadow: Permission denied
 *
 * With verdicts (a policy classified the deviations), the summary goes on
 * with the classes and the drift by severity, a note follows when the
 * snapshots were taken under different policies, and the sections are by
 * severity, then expected, then unreadable; each item names its change,
 * rule and reason:
 *
 *     drift check: 3 deviations from baseline 'baseline' (#1, 2026-11-25 15:10:02 UTC):
 *       1 added, 0 removed, 2 modified; 1 expected; 2 drift (1 critical, 1 high);
 *       1234 entries checked
 *     note: the baseline was taken under another policy (digest 0123abcd...)
 *
 *     critical (1):
 *       modified  /usr/bin/passwd  [system-binaries] content changed
 *         hash: 0011... -> 2233...
 *
 *     high (1):
 *       added     /etc/cron.d/evil  [etc] new file
 *
 *     expected (1):
 *       modified  /var/log/syslog  [logs] grew
 *
 * Drift added without a verdict keeps the sections by change (added,
 * removed, modified), after the severities.
 *
 * Entries of other kinds than files (system state) show their kind before
 * their key, and a modified one its changed properties, one line each (a
 * property on one side only has "none" on the other, an empty value is
 * ""); a package context (report_add_attributed()) ends the item's first
 * line; the caller's notes follow the summary and the report's own notes:
 *
 *     drift check: ...
 *     note: probe mount unavailable under /mnt/img
 *
 *     high (2):
 *       added     /usr/local/sbin/x  [sbin] not owned by any package  (unowned)
 *       modified  user www-data  [users] login shell
 *         shell: /usr/sbin/nologin -> /bin/bash
 *
 *     expected (1):
 *       modified  /usr/bin/hello  [pkg] upgraded  (package hello:amd64 1.0-1 -> 1.1-1)
 *
 * Within a section, items keep the order they came in: files first, then
 * the other kinds in enum entry_kind's order, as the store orders them.
 * `drift verify` says "N files differ from their packages" and counts the
 * files checked (meta->checked).
 *
 * Components: the item renderer (one spooled line, or a key line plus
 * attribute lines, per deviation), the value renderer for `attr: old -> new`
 * (xattrs and props as a merge of the two sorted lists, showing only what
 * differs), and the writer of the summary line, the notes and the headings.
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "report/internal.h"
#include "common/diag.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define SGR_BOLD    "\033[1m"
#define SGR_RED     "\033[31m"
#define SGR_GREEN   "\033[32m"
#define SGR_YELLOW  "\033[33m"
#define SGR_MAGENTA "\033[35m"
#define SGR_RESET   "\033[0m"

/* Items are coloured by their change (and unreadable ones by that). */
static const char *const change_colors[] = {
	[CHANGE_ADDED] = SGR_GREEN,
	[CHANGE_REMOVED] = SGR_RED,
	[CHANGE_MODIFIED] = SGR_YELLOW,
};

static const char *const change_names[] = {
	[CHANGE_ADDED] = "added",
	[CHANGE_REMOVED] = "removed",
	[CHANGE_MODIFIED] = "modified",
};

/* Longest value of an extended attribute shown in full; longer ones are cut. */
#define XATTR_SHOW_MAX 64

static int add_color(const struct report *rep, struct strbuf *out, const char *sgr)
{
	return rep->meta.color ? strbuf_adds(out, sgr) : 0;
}

/* A file's path, or any other entry's kind and key: "package bash:amd64". Escaped. */
static int add_key(struct strbuf *out, const struct entry *e)
{
	if (e->kind != ENTRY_FILE &&
	    (strbuf_adds(out, report_kind_name(e->kind)) < 0 || strbuf_addch(out, ' ') < 0))
		return -ENOMEM;
	return escape_display(out, e->key, e->key_len);
}

/* "  KEY" with the colour @sgr switched on (the caller resets it). */
static int add_item_start(const struct report *rep, struct strbuf *out, const char *sgr,
			  const struct entry *e)
{
	if (strbuf_adds(out, "  ") < 0 || add_color(rep, out, sgr) < 0)
		return -ENOMEM;
	return add_key(out, e);
}

static int add_changed_while_read(struct strbuf *out, const struct entry *e)
{
	if ((e->flags & ENTRY_CHANGED_WHILE_READ) && strbuf_adds(out, " (changed while read)") < 0)
		return -ENOMEM;
	if ((e->flags & ENTRY_NOT_HASHED_TOO_SPARSE) &&
	    strbuf_adds(out, " (not hashed: too sparse)") < 0)
		return -ENOMEM;
	return 0;
}

/* An optional text attribute: escaped, or "none" when absent. */
static int add_optional_text(struct strbuf *out, const char *s)
{
	if (!s)
		return strbuf_adds(out, "none");
	return escape_display(out, s, strlen(s));
}

int report_attr_value(struct strbuf *out, const struct entry *e, enum entry_attr attr)
{
	switch (attr) {
	case ATTR_TYPE:
		return strbuf_adds(out, entry_type_name(e->mode));
	case ATTR_MODE:
		return report_format_mode(out, e->mode);
	case ATTR_UID:
		return strbuf_addf(out, "%" PRIu32, e->uid);
	case ATTR_GID:
		return strbuf_addf(out, "%" PRIu32, e->gid);
	case ATTR_SIZE:
		return strbuf_addf(out, "%" PRIu64, e->size);
	case ATTR_MTIME:
		return report_format_time(out, e->mtime_ns);
	case ATTR_CTIME:
		return report_format_time(out, e->ctime_ns);
	case ATTR_INODE:
		return strbuf_addf(out, "%" PRIu64, e->ino);
	case ATTR_DEVICE:
		return strbuf_addf(out, "%" PRIu64, e->dev);
	case ATTR_RDEV:
		return report_format_rdev(out, e);
	case ATTR_NLINK:
		return strbuf_addf(out, "%" PRIu64, e->nlink);
	case ATTR_TARGET:
		if (!e->target)
			return strbuf_adds(out, "none");
		if (strbuf_addch(out, '"') < 0 || escape_display(out, e->target, e->target_len) < 0)
			return -ENOMEM;
		return strbuf_addch(out, '"');
	case ATTR_HASH:
		return report_format_hash(out, e);
	case ATTR_ERROR:
		if (!e->err)
			return strbuf_adds(out, "none");
		return report_add_errno_text(out, e->err);
	case ATTR_XATTRS:
	case ATTR_PROPS:
		/* Both sides at once: add_xattrs_line(), add_props_lines(). */
		break;
	case ATTR_ACL:
		return add_optional_text(out, e->acl);
	case ATTR_CAPS:
		return add_optional_text(out, e->caps);
	case ATTR_SELINUX:
		return add_optional_text(out, e->selinux);
	case ATTR_MIME:
		return add_optional_text(out, e->mime);
	case ATTR__COUNT:
		break;
	}
	return 0;
}

/* NAME="VALUE", escaped; a long value is cut, with its length. */
static int add_xattr(struct strbuf *out, const char *name, size_t name_len, const char *value,
		     size_t value_len)
{
	size_t shown = value_len > XATTR_SHOW_MAX ? XATTR_SHOW_MAX : value_len;

	if (escape_display(out, name, name_len) < 0 || strbuf_adds(out, "=\"") < 0 ||
	    escape_display(out, value, shown) < 0 || strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	if (shown < value_len && strbuf_addf(out, "...(%zu bytes)", value_len) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * One side of `xattrs: OLD -> NEW`, listing only the names that differ.
 * The old side (@new_side false) has the old values of changed and removed
 * names; the new side the new values of changed names, `+name="v"` for an
 * added one and `-name` for a removed one. "none" when the side is empty.
 * Both blobs are sorted by name, so this is a merge.
 */
int report_xattrs_side(struct strbuf *out, const struct entry *before, const struct entry *after,
		       bool new_side)
{
	struct report_pair_cursor a, b;
	size_t mark = out->len;
	int r = 0;

	report_pair_cursor_start(&a, before, false);
	report_pair_cursor_start(&b, after, false);
	while (r == 0 && (a.more || b.more)) {
		int c = report_pair_cursor_compare(&a, &b);
		bool same =
			c == 0 && report_value_equal(a.value, a.value_len, b.value, b.value_len);
		bool shown = !same && (new_side || c <= 0);

		if (shown && out->len > mark && strbuf_adds(out, ", ") < 0)
			return -ENOMEM;
		if (!shown)
			r = 0;
		else if (!new_side)
			r = add_xattr(out, a.name, a.name_len, a.value, a.value_len);
		else if (c == 0)
			r = add_xattr(out, b.name, b.name_len, b.value, b.value_len);
		else if (c > 0)
			r = strbuf_addch(out, '+') < 0
				    ? -ENOMEM
				    : add_xattr(out, b.name, b.name_len, b.value, b.value_len);
		else
			r = strbuf_addch(out, '-') < 0 ? -ENOMEM
						       : escape_display(out, a.name, a.name_len);
		if (c <= 0)
			report_pair_cursor_step(&a);
		if (c >= 0)
			report_pair_cursor_step(&b);
	}
	if (r < 0)
		return -ENOMEM;
	if (out->len == mark)
		return strbuf_adds(out, "none");
	return 0;
}

int report_prop_value(struct strbuf *out, const struct report_pair_cursor *c, bool present)
{
	if (!present)
		return strbuf_adds(out, "none");
	if (c->value_len == 0)
		return strbuf_adds(out, "\"\"");
	return escape_display(out, c->value, c->value_len);
}

/*
 * The `    name: old -> new` lines of the properties that differ between
 * the two sides (a property on one side only has "none" on the other).
 * Both blobs are sorted by name, so this is a merge.
 */
static int add_props_lines(struct strbuf *out, const struct entry *before,
			   const struct entry *after)
{
	struct report_pair_cursor a, b;

	report_pair_cursor_start(&a, before, true);
	report_pair_cursor_start(&b, after, true);
	while (a.more || b.more) {
		int c = report_pair_cursor_compare(&a, &b);
		const struct report_pair_cursor *named = c <= 0 ? &a : &b;

		if (c != 0 || !report_value_equal(a.value, a.value_len, b.value, b.value_len)) {
			if (strbuf_adds(out, "    ") < 0 ||
			    escape_display(out, named->name, named->name_len) < 0 ||
			    strbuf_adds(out, ": ") < 0 || report_prop_value(out, &a, c <= 0) < 0 ||
			    strbuf_adds(out, " -> ") < 0 ||
			    report_prop_value(out, &b, c >= 0) < 0 || strbuf_addch(out, '\n') < 0)
				return -ENOMEM;
		}
		if (c <= 0)
			report_pair_cursor_step(&a);
		if (c >= 0)
			report_pair_cursor_step(&b);
	}
	return 0;
}

/*
 * An added or removed entry that is not a regular file: " (TYPE[ -> TARGET])",
 * or for a device with a known number " (chardev 1,3)".
 */
static int add_type_suffix(struct strbuf *out, const struct entry *e)
{
	if (e->kind != ENTRY_FILE || S_ISREG(e->mode))
		return 0;
	if (strbuf_addf(out, " (%s", entry_type_name(e->mode)) < 0)
		return -ENOMEM;
	if (S_ISLNK(e->mode) && e->target &&
	    (strbuf_adds(out, " -> ") < 0 || escape_display(out, e->target, e->target_len) < 0))
		return -ENOMEM;
	if (entry_is_device(e) && e->rdev != ENTRY_RDEV_UNKNOWN &&
	    (strbuf_addch(out, ' ') < 0 || report_format_rdev(out, e) < 0))
		return -ENOMEM;
	return strbuf_addch(out, ')');
}

/* The `    attribute: old -> new` lines of @attrs. */
static int add_attr_lines(struct strbuf *out, const struct finding *d, uint32_t attrs)
{
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		enum entry_attr attr = (enum entry_attr)(1u << i);

		if (!(attrs & attr))
			continue;
		if (attr == ATTR_PROPS) {
			if (add_props_lines(out, d->before, d->after) < 0)
				return -ENOMEM;
			continue;
		}
		if (attr == ATTR_XATTRS) {
			if (strbuf_adds(out, "    xattrs: ") < 0 ||
			    report_xattrs_side(out, d->before, d->after, false) < 0 ||
			    strbuf_adds(out, " -> ") < 0 ||
			    report_xattrs_side(out, d->before, d->after, true) < 0 ||
			    strbuf_addch(out, '\n') < 0)
				return -ENOMEM;
			continue;
		}
		if (strbuf_addf(out, "    %s: ", entry_attr_name(attr)) < 0 ||
		    report_attr_value(out, d->before, attr) < 0 || strbuf_adds(out, " -> ") < 0 ||
		    report_attr_value(out, d->after, attr) < 0 || strbuf_addch(out, '\n') < 0)
			return -ENOMEM;
	}
	return 0;
}

/* "  [RULE] REASON" of a verdict (either may be missing). */
static int add_verdict_note(struct strbuf *out, const struct finding *v)
{
	if (v->rule_id &&
	    (strbuf_adds(out, "  [") < 0 ||
	     escape_display(out, v->rule_id, strlen(v->rule_id)) < 0 || strbuf_addch(out, ']') < 0))
		return -ENOMEM;
	if (v->reason && *v->reason &&
	    (strbuf_adds(out, v->rule_id ? " " : "  ") < 0 ||
	     escape_display(out, v->reason, strlen(v->reason)) < 0))
		return -ENOMEM;
	return 0;
}

/*
 * "  (package NAME[ VERSION | OLD -> NEW])" or "  (unowned)": one version
 * when the two are equal or only one is known.
 */
static int add_owner_note(struct strbuf *out, const struct finding_package *o)
{
	const char *ov = o->before_version, *nv = o->after_version;

	if (o->unowned)
		return strbuf_adds(out, "  (unowned)");
	if (strbuf_adds(out, "  (package ") < 0 ||
	    escape_display(out, o->name, strlen(o->name)) < 0)
		return -ENOMEM;
	if (ov && nv && strcmp(ov, nv)) {
		if (strbuf_addch(out, ' ') < 0 || escape_display(out, ov, strlen(ov)) < 0 ||
		    strbuf_adds(out, " -> ") < 0 || escape_display(out, nv, strlen(nv)) < 0)
			return -ENOMEM;
	} else if (ov || nv) {
		if (!ov)
			ov = nv;
		if (strbuf_addch(out, ' ') < 0 || escape_display(out, ov, strlen(ov)) < 0)
			return -ENOMEM;
	}
	return strbuf_addch(out, ')');
}

/*
 * One deviation. Without a verdict (the layout by change):
 *     "  PATH[ (TYPE)][ (changed while read)][  (package ...)]" and, when
 *     modified, the attribute lines.
 * With one (sections by severity, where the change must be said):
 *     "  CHANGE    PATH...  [RULE] REASON[  (package ...)]", and the
 *     attribute lines of v->attrs unless the deviation is expected (one
 *     line each there).
 * Any other kind than a file shows "KIND KEY" instead of the path, no type.
 */
/*
 * The content diff under a finding: each line escaped as paths are (no raw
 * control byte reaches a terminal), the body cut after
 * REPORT_DIFF_TEXT_LINES lines.
 */
static int add_diff(struct strbuf *out, const struct report_diff *diff, const struct entry *e)
{
	size_t pos = 0, line = 0, more;

	if (!diff)
		return 0;
	if (diff->binary)
		return strbuf_adds(out, "    content: binary content differs\n");
	while (pos < diff->len) {
		const char *p = diff->text + pos, *nl = memchr(p, '\n', diff->len - pos);
		size_t len = nl ? (size_t)(nl - p) : diff->len - pos;

		if (line >= 2 + REPORT_DIFF_TEXT_LINES)
			break;
		/* The headers' tab before the snapshot shows as two spaces, not "\t". */
		const char *tab = line < 2 ? memrchr(p, '\t', len) : NULL;
		size_t head = tab ? (size_t)(tab - p) : len;

		if (strbuf_adds(out, "      ") < 0 || escape_display(out, p, head) < 0 ||
		    (tab && (strbuf_adds(out, "  ") < 0 ||
			     escape_display(out, tab + 1, len - head - 1) < 0)) ||
		    strbuf_addch(out, '\n') < 0)
			return -ENOMEM;
		pos += len + (nl ? 1 : 0);
		line++;
	}
	more = diff->omitted_lines;
	for (; pos < diff->len; pos++)
		if (diff->text[pos] == '\n')
			more++;
	if (!more)
		return 0;
	if (strbuf_addf(out, "      ... %zu more line%s (drift show ", more, more == 1 ? "" : "s") <
		    0 ||
	    escape_display(out, diff->show_snapshot ? diff->show_snapshot : "SNAPSHOT",
			   strlen(diff->show_snapshot ? diff->show_snapshot : "SNAPSHOT")) < 0 ||
	    strbuf_addch(out, ' ') < 0 || escape_display(out, e->key, e->key_len) < 0 ||
	    strbuf_adds(out, ")\n") < 0)
		return -ENOMEM;
	return 0;
}

static int text_item(struct report *rep, const struct finding *d, struct strbuf *out)
{
	const struct finding *v = d->judged ? d : NULL;
	const struct finding_package *owner = report_finding_owner(d);
	unsigned ch = d->change;
	const struct entry *e = d->change == CHANGE_REMOVED ? d->before : d->after;

	if (strbuf_adds(out, "  ") < 0 || add_color(rep, out, change_colors[ch]) < 0)
		return -ENOMEM;
	if (v && strbuf_addf(out, "%-8s  ", change_names[ch]) < 0)
		return -ENOMEM;
	if (add_key(out, e) < 0)
		return -ENOMEM;
	if (d->change != CHANGE_MODIFIED && add_type_suffix(out, e) < 0)
		return -ENOMEM;
	if (add_changed_while_read(out, e) < 0 || add_color(rep, out, SGR_RESET) < 0)
		return -ENOMEM;
	if (v && add_verdict_note(out, v) < 0)
		return -ENOMEM;
	if (owner && add_owner_note(out, owner) < 0)
		return -ENOMEM;
	if (d->novelty == NOVELTY_NEW && strbuf_adds(out, "  (new)") < 0)
		return -ENOMEM;
	if (strbuf_addch(out, '\n') < 0)
		return -ENOMEM;
	if (d->change != CHANGE_MODIFIED || d->novelty == NOVELTY_RESOLVED)
		return 0;
	if (!v) {
		if (add_attr_lines(out, d, d->changed) < 0)
			return -ENOMEM;
		return add_diff(out, rep->diff, e);
	}
	if (v->class == CLASS_EXPECTED)
		return 0;
	if (add_attr_lines(out, d, v->attrs) < 0)
		return -ENOMEM;
	return add_diff(out, rep->diff, e);
}

/*
 * Events (struct finding_event): the findings of one package transaction
 * or one account change fold, within each section, into one line at the
 * head of the section:
 *
 *     expected (62):
 *       package cowsay 3.03+dfsg2-8 installed: 62 files, all match the package
 *
 *     high (5):
 *       user alice added (uid 1001, gid 1001, groups alice,sudo, shell /bin/bash,
 *         home /home/alice): 5 changes
 *         modified  /etc/passwd  [etc] content changed
 *         ...
 *
 * Drift members follow their event line, the first EVENT_SHOWN of them
 * (all with --verbose); expected members only with --verbose. They are
 * rendered as they come into one more spool, and only the offsets of
 * those shown are kept in memory: a million members cost disk, not RAM.
 */
#define EVENT_SHOWN 5

struct text_member {
	uint64_t off;
	size_t len;
};

struct text_event {
	enum finding_event_kind kind;
	enum report_section section;
	enum change change;
	char *name;
	char *detail;
	char *before_version, *after_version;
	uint64_t members, files, matching;
	uint64_t own; /* a package event's own package entries: the event itself */
	struct text_member *shown;
	size_t nshown, ashown;
};

struct text_state {
	struct text_event *ev;
	size_t n, alloc;
	FILE *members; /* the members' items */
	uint64_t members_len;
	struct strbuf tmp;
};

int report_text_begin(struct report *rep)
{
	struct text_state *ts = calloc(1, sizeof(*ts));
	int err;

	if (!ts)
		return -ENOMEM;
	strbuf_init(&ts->tmp);
	err = report_tmpfile(&ts->members);
	if (err) {
		free(ts);
		return -err;
	}
	rep->state = ts;
	return 0;
}

void report_text_free(struct report *rep)
{
	struct text_state *ts = rep->state;

	if (!ts)
		return;
	for (size_t i = 0; i < ts->n; i++) {
		free(ts->ev[i].name);
		free(ts->ev[i].detail);
		free(ts->ev[i].before_version);
		free(ts->ev[i].after_version);
		free(ts->ev[i].shown);
	}
	free(ts->ev);
	if (ts->members)
		fclose(ts->members);
	strbuf_release(&ts->tmp);
	free(ts);
	rep->state = NULL;
}

static int dup_or_null(char **dst, const char *src)
{
	if (*dst || !src)
		return 0;
	*dst = strdup(src);
	return *dst ? 0 : -ENOMEM;
}

/* The event of @f in section @s, created on first sight; NULL: out of memory. */
static struct text_event *event_get(struct text_state *ts, const struct finding *f,
				    enum report_section s)
{
	struct text_event *e;

	/* Members of an event come together (key order, a package's files): look back first. */
	for (size_t i = ts->n; i-- > 0;) {
		e = &ts->ev[i];
		if (e->kind == f->event.kind && e->section == s && !strcmp(e->name, f->event.name))
			return e;
	}
	if (ts->n == ts->alloc) {
		size_t na = ts->alloc ? 2 * ts->alloc : 16;
		struct text_event *nv = realloc(ts->ev, na * sizeof(*nv));

		if (!nv)
			return NULL;
		ts->ev = nv;
		ts->alloc = na;
	}
	e = &ts->ev[ts->n];
	memset(e, 0, sizeof(*e));
	e->kind = f->event.kind;
	e->section = s;
	e->change = f->event.change;
	e->name = strdup(f->event.name);
	if (!e->name)
		return NULL;
	ts->n++;
	return e;
}

/* Append @item to the members' spool, each line indented two more columns. */
static int member_spool(struct report *rep, struct text_state *ts, struct text_event *e,
			const struct strbuf *item)
{
	struct strbuf *sb = &ts->tmp;
	struct text_member *m;

	strbuf_reset(sb);
	for (size_t i = 0; i < item->len; i++) {
		if ((i == 0 || item->buf[i - 1] == '\n') && strbuf_adds(sb, "  ") < 0)
			return -ENOMEM;
		if (strbuf_addch(sb, item->buf[i]) < 0)
			return -ENOMEM;
	}
	if (e->nshown == e->ashown) {
		size_t na = e->ashown ? 2 * e->ashown : 4;
		struct text_member *nm = realloc(e->shown, na * sizeof(*nm));

		if (!nm)
			return -ENOMEM;
		e->shown = nm;
		e->ashown = na;
	}
	errno = 0;
	if (fwrite(sb->buf, 1, sb->len, ts->members) != sb->len) {
		rep->spool_err = errno ? errno : EIO;
		return -EIO;
	}
	m = &e->shown[e->nshown++];
	m->off = ts->members_len;
	m->len = sb->len;
	ts->members_len += sb->len;
	return 0;
}

int report_text_deviation(struct report *rep, const struct finding *d, struct strbuf *out)
{
	struct text_state *ts = rep->state;
	const struct entry *ent = d->after ? d->after : d->before;
	struct text_event *e;
	size_t limit;
	int r;

	if (d->event.kind == EVENT_NONE || !d->event.name || d->novelty == NOVELTY_RESOLVED ||
	    rep->section == SECTION_RESOLVED)
		return text_item(rep, d, out);
	e = event_get(ts, d, rep->section);
	if (!e || dup_or_null(&e->detail, d->event.detail) < 0 ||
	    dup_or_null(&e->before_version, d->package.before_version) < 0 ||
	    dup_or_null(&e->after_version, d->package.after_version) < 0)
		return -ENOMEM;
	e->members++;
	if (ent->kind == ENTRY_FILE) {
		e->files++;
		if (d->package.matches)
			e->matching++;
	}
	if (ent->kind == ENTRY_PACKAGE && d->event.kind == EVENT_PACKAGE)
		e->own++;
	if (ent->kind == ENTRY_PACKAGE && ent->props && d->change != CHANGE_ADDED && d->before) {
		/* The package's own entry: its versions, when no file said them. */
		const uint8_t *v;
		size_t len;

		if (!e->before_version &&
		    entry_xattrs_get(d->before->props, d->before->props_len, "version", &v, &len) ==
			    1 &&
		    !(e->before_version = strndup((const char *)v, len)))
			return -ENOMEM;
	}
	if (ent->kind == ENTRY_PACKAGE && d->after && d->change != CHANGE_REMOVED) {
		const uint8_t *v;
		size_t len;

		if (!e->after_version &&
		    entry_xattrs_get(d->after->props, d->after->props_len, "version", &v, &len) ==
			    1 &&
		    !(e->after_version = strndup((const char *)v, len)))
			return -ENOMEM;
	}
	limit = rep->meta.verbose ? SIZE_MAX : rep->section == SECTION_EXPECTED ? 0 : EVENT_SHOWN;
	if (e->nshown >= limit)
		return 0; /* counted in its event; the empty item keeps the section's count */
	strbuf_reset(&ts->tmp);
	{
		struct strbuf item = STRBUF_INIT;

		r = text_item(rep, d, &item);
		if (r >= 0)
			r = member_spool(rep, ts, e, &item);
		strbuf_release(&item);
	}
	return r;
}

/* "cowsay" of "cowsay:all": the architecture says nothing a reader needs here. */
static int add_package_name(struct strbuf *out, const char *name)
{
	const char *colon = strchr(name, ':');

	return escape_display(out, name, colon ? (size_t)(colon - name) : strlen(name));
}

static int add_plural(struct strbuf *out, uint64_t n, const char *one, const char *many)
{
	return strbuf_addf(out, "%" PRIu64 " %s", n, n == 1 ? one : many);
}

/* The event's line, without its indentation. */
static int add_event_line(const struct report *rep, const struct text_event *e, struct strbuf *out)
{
	const char *bv = e->before_version, *av = e->after_version;
	uint64_t others = e->members - e->files - e->own;

	if (e->kind == EVENT_PACKAGE) {
		if (strbuf_adds(out, "package ") < 0 || add_package_name(out, e->name) < 0)
			return -ENOMEM;
		if (rep->verify) {
			if ((av || bv) &&
			    (strbuf_addch(out, ' ') < 0 ||
			     escape_display(out, av ? av : bv, strlen(av ? av : bv)) < 0))
				return -ENOMEM;
		} else if (e->change == CHANGE_ADDED || (!bv && av)) {
			if (av &&
			    (strbuf_addch(out, ' ') < 0 || escape_display(out, av, strlen(av)) < 0))
				return -ENOMEM;
			if (strbuf_adds(out, " installed") < 0)
				return -ENOMEM;
		} else if (e->change == CHANGE_REMOVED || (bv && !av)) {
			if (bv &&
			    (strbuf_addch(out, ' ') < 0 || escape_display(out, bv, strlen(bv)) < 0))
				return -ENOMEM;
			if (strbuf_adds(out, " removed") < 0)
				return -ENOMEM;
		} else {
			if (strbuf_adds(out, " upgraded") < 0)
				return -ENOMEM;
			if (bv && av &&
			    (strbuf_addch(out, ' ') < 0 ||
			     escape_display(out, bv, strlen(bv)) < 0 ||
			     strbuf_adds(out, " -> ") < 0 ||
			     escape_display(out, av, strlen(av)) < 0))
				return -ENOMEM;
		}
		if (strbuf_adds(out, ": ") < 0)
			return -ENOMEM;
		if (rep->verify) {
			if (add_plural(out, e->files, "file differs from the package",
				       "files differ from the package") < 0)
				return -ENOMEM;
		} else if (e->files) {
			if (add_plural(out, e->files, "file", "files") < 0)
				return -ENOMEM;
			if (e->matching == e->files &&
			    strbuf_adds(out, e->files == 1 ? ", matches the package"
							   : ", all match the package") < 0)
				return -ENOMEM;
			if (e->matching && e->matching < e->files &&
			    strbuf_addf(out, ", %" PRIu64 " match the package", e->matching) < 0)
				return -ENOMEM;
		}
		if (others && strbuf_addf(out, "%s%" PRIu64 " other change%s", e->files ? "; " : "",
					  others, others == 1 ? "" : "s") < 0)
			return -ENOMEM;
		return 0;
	}
	if (strbuf_adds(out, e->kind == EVENT_USER ? "user " : "group ") < 0 ||
	    escape_display(out, e->name, strlen(e->name)) < 0 ||
	    strbuf_addf(out, " %s", change_names[e->change]) < 0)
		return -ENOMEM;
	if (e->detail &&
	    (strbuf_adds(out, " (") < 0 || escape_display(out, e->detail, strlen(e->detail)) < 0 ||
	     strbuf_addch(out, ')') < 0))
		return -ENOMEM;
	if (strbuf_adds(out, ": ") < 0 || add_plural(out, e->members, "change", "changes") < 0)
		return -ENOMEM;
	return 0;
}

/* Write a member's whole item without the two spaces it was indented with, line by line. */
static int write_unindented(struct report *rep, const char *buf, size_t n)
{
	size_t start = 0;
	int r;

	for (size_t i = 0; i <= n; i++) {
		if (i < n && buf[i] != '\n')
			continue;
		{
			size_t from = start, to = i < n ? i + 1 : n;

			if (to - from >= 2 && buf[from] == ' ' && buf[from + 1] == ' ')
				from += 2;
			r = report_out_write(rep, buf + from, to - from);
			if (r < 0)
				return r;
		}
		start = i + 1;
	}
	return 0;
}

/* The events of section @s: their lines and the members shown. */
static int write_events(struct report *rep, enum report_section s, struct diag *reterr)
{
	struct text_state *ts = rep->state;
	struct strbuf *sb = &rep->item;
	char ebuf[32];
	int r;

	if (!ts || !ts->n)
		return 0;
	if (fflush(ts->members) != 0) {
		r = errno;
		goto fail_read;
	}
	for (size_t i = 0; i < ts->n; i++) {
		const struct text_event *e = &ts->ev[i];

		if (e->section != s)
			continue;
		/* An event of one entry shown in full is that entry: no line of its own. */
		bool alone = e->members == 1 && e->nshown == 1;

		strbuf_reset(sb);
		if (!alone && (strbuf_adds(sb, "  ") < 0 || add_event_line(rep, e, sb) < 0 ||
			       strbuf_addch(sb, '\n') < 0))
			return -ENOMEM;
		r = report_out_write(rep, sb->buf, sb->len);
		if (r < 0)
			return r;
		for (size_t m = 0; m < e->nshown; m++) {
			/* One item (a diff at most 64 KiB, and its lines), read whole. */
			struct strbuf *it = &ts->tmp;
			size_t len = e->shown[m].len;

			strbuf_reset(it);
			if (strbuf_grow(it, len + 1) < 0)
				return -ENOMEM;
			if (fseeko(ts->members, (off_t)e->shown[m].off, SEEK_SET) != 0) {
				r = errno;
				goto fail_read;
			}
			if (fread(it->buf, 1, len, ts->members) != len) {
				r = ferror(ts->members) ? errno : EIO;
				goto fail_read;
			}
			r = alone ? write_unindented(rep, it->buf, len)
				  : report_out_write(rep, it->buf, len);
			if (r < 0)
				return r;
		}
		if (e->nshown < e->members && e->section != SECTION_EXPECTED) {
			strbuf_reset(sb);
			if (strbuf_addf(sb,
					"    ... and %" PRIu64
					" more (--verbose lists every entry)\n",
					e->members - e->nshown) < 0)
				return -ENOMEM;
			r = report_out_write(rep, sb->buf, sb->len);
			if (r < 0)
				return r;
		}
	}
	return 0;

fail_read:
	return diag_set(reterr, -EIO, "cannot read back the temporary file of the report: %s",
			report_errno_text(r, ebuf, sizeof(ebuf)));
}

int report_text_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	char buf[32];

	if (add_item_start(rep, out, SGR_MAGENTA, e) < 0 || add_changed_while_read(out, e) < 0 ||
	    add_color(rep, out, SGR_RESET) < 0 || strbuf_adds(out, ": ") < 0 ||
	    strbuf_adds(out, report_entry_error_text(e, buf, sizeof(buf))) < 0 ||
	    strbuf_addch(out, '\n') < 0)
		return -ENOMEM;
	return 0;
}

/* 'LABEL' (#ID, STARTED), or #ID (STARTED) for a snapshot without a label. */
static int add_snapshot_name(struct strbuf *out, const struct snap_info *info)
{
	int r;

	if (info->label) {
		if (strbuf_addch(out, '\'') < 0 ||
		    escape_display(out, info->label, strlen(info->label)) < 0 ||
		    strbuf_addf(out, "' (#%" PRId64 ", ", info->id) < 0)
			return -ENOMEM;
	} else if (strbuf_addf(out, "#%" PRId64 " (", info->id) < 0) {
		return -ENOMEM;
	}
	r = report_format_time_short(out, info->started_ns);
	if (r < 0)
		return r;
	return strbuf_addch(out, ')');
}

/* "; E expected; D drift (1 critical, 2 high[, N unclassified])" */
static int add_class_counts(const struct report *rep, struct strbuf *out, uint64_t total)
{
	uint64_t expected = report_section_total(rep, SECTION_EXPECTED);
	uint64_t waived = report_section_total(rep, SECTION_WAIVED);
	bool first = true;

	if (strbuf_addf(out, "; %" PRIu64 " expected", expected) < 0 ||
	    (waived && strbuf_addf(out, "; %" PRIu64 " waived", waived) < 0) ||
	    strbuf_addf(out, "; %" PRIu64 " drift", total - expected - waived) < 0)
		return -ENOMEM;
	for (unsigned s = SECTION_CRITICAL; s <= SECTION_MODIFIED; s++) {
		uint64_t n = report_section_total(rep, s);

		if (s == SECTION_ADDED) /* drift without a verdict: one count */
			n = report_section_total(rep, SECTION_ADDED) +
			    report_section_total(rep, SECTION_REMOVED) +
			    report_section_total(rep, SECTION_MODIFIED);
		if (!n)
			continue;
		if (strbuf_addf(out, "%s%" PRIu64 " %s", first ? " (" : ", ", n,
				s < SECTION_ADDED ? report_section_name(s) : "unclassified") < 0)
			return -ENOMEM;
		first = false;
		if (s == SECTION_ADDED)
			break;
	}
	return first ? 0 : strbuf_addch(out, ')');
}

/* "\nnote: ..." when the snapshots were taken under different policies. */
static int add_digest(struct strbuf *out, const char *digest)
{
	if (!digest)
		return strbuf_adds(out, "none recorded");
	if (strbuf_adds(out, "digest ") < 0 || escape_display(out, digest, strnlen(digest, 8)) < 0)
		return -ENOMEM;
	return strlen(digest) > 8 ? strbuf_adds(out, "...") : 0;
}

static int add_policy_note(const struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;

	if (!report_policy_changed(rep))
		return 0;
	if (!strcmp(m->command, "check")) {
		if (strbuf_adds(out, "note: the baseline was taken under another policy (") < 0 ||
		    add_digest(out, m->before->policy_digest) < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "note: the snapshots were taken under different policies (") <
			   0 ||
		   add_digest(out, m->before->policy_digest) < 0 || strbuf_adds(out, " and ") < 0 ||
		   add_digest(out, m->after->policy_digest) < 0) {
		return -ENOMEM;
	}
	return strbuf_adds(out, ")\n");
}

/* Contents hashed differently (say, `--hash none` against a hashed
 * baseline) were not compared at all: say so, or a clean report would
 * vouch for them. Two unhashed snapshots are what the user asked for. */
static int add_hash_note(const struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;

	if (!m->before || !m->after || report_hash_compared(rep) ||
	    m->before->hash == m->after->hash)
		return 0;
	return strbuf_addf(
		out,
		"note: contents were not compared (the snapshots were hashed with %s and %s)\n",
		hash_algo_name(m->before->hash), hash_algo_name(m->after->hash));
}

/* The caller's notes, one "note: TEXT" line each. */
static int add_notes(const struct report *rep, struct strbuf *out)
{
	for (size_t i = 0; i < rep->nnotes; i++)
		if (strbuf_adds(out, "note: ") < 0 ||
		    escape_display(out, rep->notes[i], strlen(rep->notes[i])) < 0 ||
		    strbuf_addch(out, '\n') < 0)
			return -ENOMEM;
	return 0;
}

/* "N files differ from their packages" / "1 file differs from its package". */
static int add_verify_subject(struct strbuf *out, uint64_t total)
{
	if (total == 0)
		return strbuf_adds(out, "no files differ from their packages");
	if (total == 1)
		return strbuf_adds(out, "1 file differs from its package");
	return strbuf_addf(out, "%" PRIu64 " files differ from their packages", total);
}

static int add_summary_line(const struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;
	bool check = !strcmp(m->command, "check");
	const uint64_t *ch = rep->changes;
	uint64_t total = ch[CHANGE_ADDED] + ch[CHANGE_REMOVED] + ch[CHANGE_MODIFIED];
	uint64_t checked = report_entries_checked(rep), hidden = 0;
	int r;

	if (strbuf_addf(out, "drift %s: ", m->command) < 0)
		return -ENOMEM;
	if (rep->verify)
		r = add_verify_subject(out, total);
	else if (total == 0)
		r = strbuf_adds(out, "no deviations ");
	else
		r = strbuf_addf(out, "%" PRIu64 " deviation%s ", total, total == 1 ? "" : "s");
	if (r < 0)
		return r;

	if (rep->verify) {
		/* no snapshot to name */
	} else if (check) {
		if (strbuf_adds(out, "from baseline ") < 0 || add_snapshot_name(out, m->before) < 0)
			return -ENOMEM;
	} else {
		if (strbuf_adds(out, "between ") < 0 || add_snapshot_name(out, m->before) < 0 ||
		    strbuf_adds(out, " and ") < 0 || add_snapshot_name(out, m->after) < 0)
			return -ENOMEM;
	}

	if (total > 0 &&
	    strbuf_addf(out, ": %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64 " modified",
			ch[CHANGE_ADDED], ch[CHANGE_REMOVED], ch[CHANGE_MODIFIED]) < 0)
		return -ENOMEM;
	if (total > 0 && rep->classified && add_class_counts(rep, out, total) < 0)
		return -ENOMEM;
	if (check && strbuf_addf(out, "; %" PRIu64 " %s checked", checked,
				 checked == 1 ? "entry" : "entries") < 0)
		return -ENOMEM;
	if (rep->verify &&
	    strbuf_addf(out, "; %" PRIu64 " file%s checked", checked, checked == 1 ? "" : "s") < 0)
		return -ENOMEM;
	if (m->since_last &&
	    (strbuf_addf(out, "; %" PRIu64 " new, %" PRIu64 " persisting, %" PRIu64 " resolved",
			 rep->novelty[NOVELTY_NEW], rep->novelty[NOVELTY_PERSISTING],
			 rep->count[SECTION_RESOLVED]) < 0 ||
	     (m->since_run ? strbuf_addf(out, " since run #%" PRId64, m->since_run)
			   : strbuf_adds(out, " (no earlier run)")) < 0))
		return -ENOMEM;
	for (unsigned s = 0; s < SECTION__COUNT; s++)
		hidden += rep->hidden[s];
	if (hidden > 0 && strbuf_addf(out, "; %" PRIu64 " below %s not shown", hidden,
				      severity_name(m->min_severity)) < 0)
		return -ENOMEM;
	if (rep->count[SECTION_ERRORS] > 0 &&
	    strbuf_addf(out, "; %" PRIu64 " unreadable", rep->count[SECTION_ERRORS]) < 0)
		return -ENOMEM;
	return 0;
}

int report_summary_line(const struct report *rep, struct strbuf *out)
{
	return add_summary_line(rep, out);
}

static int add_summary(const struct report *rep, struct strbuf *out)
{
	if (add_summary_line(rep, out) < 0 || strbuf_addch(out, '\n') < 0 ||
	    add_hash_note(rep, out) < 0 || add_policy_note(rep, out) < 0)
		return -ENOMEM;
	return add_notes(rep, out);
}

int report_text_write(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	uint64_t items = 0;
	int r;

	for (unsigned s = 0; s < SECTION__COUNT; s++)
		items += rep->count[s];
	if (rep->meta.quiet && items == 0)
		return 0; /* -q: a clean run says nothing */
	strbuf_reset(sb);
	r = add_summary(rep, sb);
	if (r < 0)
		return r;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;

	for (unsigned s = 0; s < SECTION__COUNT; s++) {
		if (!rep->count[s])
			continue;
		strbuf_reset(sb);
		if (strbuf_addch(sb, '\n') < 0 || add_color(rep, sb, SGR_BOLD) < 0 ||
		    strbuf_addf(sb, "%s (%" PRIu64 "):", report_section_name(s), rep->count[s]) <
			    0 ||
		    add_color(rep, sb, SGR_RESET) < 0 || strbuf_addch(sb, '\n') < 0)
			return -ENOMEM;
		r = report_out_write(rep, sb->buf, sb->len);
		if (r < 0)
			return r;
		r = write_events(rep, (enum report_section)s, reterr);
		if (r < 0)
			return r;
		r = report_spool_copy(rep, (enum report_section)s, 0, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}
