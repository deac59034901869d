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
 * Components: the item renderers (one spooled line, or a path line plus
 * attribute lines, per deviation), the value renderer for `attr: old -> new`,
 * and the writer of the summary line and the section headings.
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "report/internal.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define SGR_BOLD    "\033[1m"
#define SGR_RED     "\033[31m"
#define SGR_GREEN   "\033[32m"
#define SGR_YELLOW  "\033[33m"
#define SGR_MAGENTA "\033[35m"
#define SGR_RESET   "\033[0m"

static const char *const section_names[SECTION__COUNT] = {
	[SECTION_ADDED] = "added",
	[SECTION_REMOVED] = "removed",
	[SECTION_MODIFIED] = "modified",
	[SECTION_ERRORS] = "unreadable",
};

static const char *const section_colors[SECTION__COUNT] = {
	[SECTION_ADDED] = SGR_GREEN,
	[SECTION_REMOVED] = SGR_RED,
	[SECTION_MODIFIED] = SGR_YELLOW,
	[SECTION_ERRORS] = SGR_MAGENTA,
};

static int add_color(const struct report *rep, struct strbuf *out, const char *sgr)
{
	return rep->meta.color ? strbuf_adds(out, sgr) : 0;
}

/* "  PATH" with the colour of the section switched on (the caller resets it). */
static int add_item_start(const struct report *rep, struct strbuf *out, enum report_section s,
			  const struct entry *e)
{
	if (strbuf_adds(out, "  ") < 0 || add_color(rep, out, section_colors[s]) < 0)
		return -ENOMEM;
	return escape_display(out, e->key, e->key_len);
}

static int add_changed_while_read(struct strbuf *out, const struct entry *e)
{
	if (!(e->flags & ENTRY_CHANGED_WHILE_READ))
		return 0;
	return strbuf_adds(out, " (changed while read)");
}

/* The value of one attribute of @e, as the `attr: old -> new` lines show it. */
static int add_attr_value(struct strbuf *out, const struct entry *e, enum entry_attr attr)
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
	case ATTR__COUNT:
		break;
	}
	return 0;
}

/* Added or removed: the path, and the type when it is not a regular file. */
static int add_plain_item(const struct report *rep, struct strbuf *out, enum report_section s,
			  const struct entry *e)
{
	if (add_item_start(rep, out, s, e) < 0)
		return -ENOMEM;
	if (!S_ISREG(e->mode)) {
		if (strbuf_addf(out, " (%s", entry_type_name(e->mode)) < 0)
			return -ENOMEM;
		if (S_ISLNK(e->mode) && e->target &&
		    (strbuf_adds(out, " -> ") < 0 ||
		     escape_display(out, e->target, e->target_len) < 0))
			return -ENOMEM;
		if (strbuf_addch(out, ')') < 0)
			return -ENOMEM;
	}
	if (add_changed_while_read(out, e) < 0 || add_color(rep, out, SGR_RESET) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '\n');
}

static int add_modified_item(const struct report *rep, struct strbuf *out,
			     const struct deviation *d)
{
	if (add_item_start(rep, out, SECTION_MODIFIED, d->new) < 0 ||
	    add_changed_while_read(out, d->new) < 0 || add_color(rep, out, SGR_RESET) < 0 ||
	    strbuf_addch(out, '\n') < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		enum entry_attr attr = (enum entry_attr)(1u << i);

		if (!(d->attrs & attr))
			continue;
		if (strbuf_addf(out, "    %s: ", entry_attr_name(attr)) < 0 ||
		    add_attr_value(out, d->old, attr) < 0 || strbuf_adds(out, " -> ") < 0 ||
		    add_attr_value(out, d->new, attr) < 0 || strbuf_addch(out, '\n') < 0)
			return -ENOMEM;
	}
	return 0;
}

int report_text_deviation(struct report *rep, const struct deviation *d, struct strbuf *out)
{
	switch (d->change) {
	case SNAP_ADDED:
		return add_plain_item(rep, out, SECTION_ADDED, d->new);
	case SNAP_REMOVED:
		return add_plain_item(rep, out, SECTION_REMOVED, d->old);
	case SNAP_MODIFIED:
		return add_modified_item(rep, out, d);
	}
	return -EINVAL;
}

int report_text_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	if (add_item_start(rep, out, SECTION_ERRORS, e) < 0 || add_changed_while_read(out, e) < 0 ||
	    add_color(rep, out, SGR_RESET) < 0 || strbuf_adds(out, ": ") < 0 ||
	    report_add_errno_text(out, e->err) < 0 || strbuf_addch(out, '\n') < 0)
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

static int add_summary(const struct report *rep, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;
	bool check = !strcmp(m->command, "check");
	uint64_t total = rep->count[SECTION_ADDED] + rep->count[SECTION_REMOVED] +
			 rep->count[SECTION_MODIFIED];
	int r;

	if (strbuf_addf(out, "drift %s: ", m->command) < 0)
		return -ENOMEM;
	if (total == 0)
		r = strbuf_adds(out, "no deviations ");
	else
		r = strbuf_addf(out, "%" PRIu64 " deviation%s ", total, total == 1 ? "" : "s");
	if (r < 0)
		return r;

	if (check) {
		if (strbuf_adds(out, "from baseline ") < 0 || add_snapshot_name(out, m->old) < 0)
			return -ENOMEM;
	} else {
		if (strbuf_adds(out, "between ") < 0 || add_snapshot_name(out, m->old) < 0 ||
		    strbuf_adds(out, " and ") < 0 || add_snapshot_name(out, m->new) < 0)
			return -ENOMEM;
	}

	if (total > 0 &&
	    strbuf_addf(out, ": %" PRIu64 " added, %" PRIu64 " removed, %" PRIu64 " modified",
			rep->count[SECTION_ADDED], rep->count[SECTION_REMOVED],
			rep->count[SECTION_MODIFIED]) < 0)
		return -ENOMEM;
	if (check && strbuf_addf(out, "; %" PRIu64 " %s checked", m->new->entries,
				 m->new->entries == 1 ? "entry" : "entries") < 0)
		return -ENOMEM;
	if (rep->count[SECTION_ERRORS] > 0 &&
	    strbuf_addf(out, "; %" PRIu64 " unreadable", rep->count[SECTION_ERRORS]) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '\n');
}

int report_text_write(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	int r;

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
		    strbuf_addf(sb, "%s (%" PRIu64 "):", section_names[s], rep->count[s]) < 0 ||
		    add_color(rep, sb, SGR_RESET) < 0 || strbuf_addch(sb, '\n') < 0)
			return -ENOMEM;
		r = report_out_write(rep, sb->buf, sb->len);
		if (r < 0)
			return r;
		r = report_spool_copy(rep, (enum report_section)s, 0, reterr);
		if (r < 0)
			return r;
	}
	return 0;
}
