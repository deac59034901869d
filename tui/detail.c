/*
 * The detail pane's text: a finding's changed attributes old → new in
 * readable form, the rule that decided and why, its package, and the
 * unified diff of its kept content (common/udiff.h, as the reports make
 * it). Built as escaped lines with a style each; tui/view.c only draws them.
 */
#include "tui/tui.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/diag.h"
#include "common/escape.h"
#include "rules/rules.h"
#include "common/udiff.h"
#include "report/report.h"
#include "rules/rules.h"
#include "common/banned.h"

/* The most of a diff the pane shows (as the text report's cap). */
#define DETAIL_DIFF_MAX_BYTES (64 * 1024)

struct tui_lookups {
	struct snap_lookup *before, *after;
	bool before_failed, after_failed;
};

void tui_lookups_free(struct tui_lookups *lk)
{
	if (!lk)
		return;
	snap_lookup_free(lk->before);
	snap_lookup_free(lk->after);
	free(lk);
}

void tui_detail_release(struct tui_detail *d)
{
	strbuf_release(&d->text);
	free(d->start);
	free(d->style);
	memset(d, 0, sizeof(*d));
}

/* Start a new line of @style; its text is appended to d->text. */
static int line(struct tui_detail *d, enum tui_style style)
{
	if (d->n == d->alloc) {
		size_t n = d->alloc ? d->alloc * 2 : 64;
		size_t *s = realloc(d->start, n * sizeof(*s));
		uint8_t *st;

		if (!s)
			return -ENOMEM;
		d->start = s;
		st = realloc(d->style, n * sizeof(*st));
		if (!st)
			return -ENOMEM;
		d->style = st;
		d->alloc = n;
	}
	if (d->n && strbuf_addch(&d->text, '\0') < 0)
		return -ENOMEM;
	d->start[d->n] = d->text.len;
	d->style[d->n++] = (uint8_t)style;
	return 0;
}

__attribute__((format(printf, 3, 4))) static int linef(struct tui_detail *d, enum tui_style style,
						       const char *fmt, ...)
{
	va_list ap;
	int r = line(d, style);

	if (r < 0)
		return r;
	va_start(ap, fmt);
	r = strbuf_vaddf(&d->text, fmt, ap);
	va_end(ap);
	return r;
}

static int add_escaped(struct tui_detail *d, const char *s, size_t len)
{
	return escape_display(&d->text, s, len);
}

static void owner_name(char *buf, size_t size, uint32_t id, bool group)
{
	char tmp[4096];
	const char *name = NULL;

	if (group) {
		struct group g, *res = NULL;

		if (getgrgid_r(id, &g, tmp, sizeof(tmp), &res) == 0 && res)
			name = res->gr_name;
	} else {
		struct passwd p, *res = NULL;

		if (getpwuid_r(id, &p, tmp, sizeof(tmp), &res) == 0 && res)
			name = res->pw_name;
	}
	if (name)
		snprintf(buf, size, "%s (%u)", name, id);
	else
		snprintf(buf, size, "%u", id);
}

static void time_text(char *buf, size_t size, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (localtime_r(&t, &tm) && strftime(buf, size, "%Y-%m-%d %H:%M:%S %z", &tm) > 0)
		return;
	snprintf(buf, size, "%lld ns", (long long)ns);
}

/* One side of attribute @attr of @e, readably, into @out. */
static int attr_value(struct strbuf *out, const struct entry *e, uint32_t attr)
{
	char buf[128];

	if (!e)
		return strbuf_adds(out, "-");
	switch (attr) {
	case ATTR_TYPE:
		return strbuf_adds(out, entry_type_name(e->mode));
	case ATTR_MODE:
		tui_format_mode(buf, e->mode);
		return strbuf_addf(out, "%s (%04o)", buf + 1, e->mode & 07777);
	case ATTR_UID:
		owner_name(buf, sizeof(buf), e->uid, false);
		return strbuf_adds(out, buf);
	case ATTR_GID:
		owner_name(buf, sizeof(buf), e->gid, true);
		return strbuf_adds(out, buf);
	case ATTR_SIZE:
		tui_format_size(buf, sizeof(buf), e->size);
		if (e->size >= 1024)
			return strbuf_addf(out, "%s (%llu bytes)", buf,
					   (unsigned long long)e->size);
		return strbuf_adds(out, buf);
	case ATTR_MTIME:
		time_text(buf, sizeof(buf), e->mtime_ns);
		return strbuf_adds(out, buf);
	case ATTR_CTIME:
		time_text(buf, sizeof(buf), e->ctime_ns);
		return strbuf_adds(out, buf);
	case ATTR_INODE:
		return strbuf_addf(out, "%llu", (unsigned long long)e->ino);
	case ATTR_DEVICE:
		return strbuf_addf(out, "%llu", (unsigned long long)e->dev);
	case ATTR_RDEV:
		return report_format_rdev(out, e);
	case ATTR_NLINK:
		return strbuf_addf(out, "%llu", (unsigned long long)e->nlink);
	case ATTR_TARGET:
		return e->target ? escape_display(out, e->target, e->target_len)
				 : strbuf_adds(out, "-");
	case ATTR_HASH:
		/* A lookup leaves hash_algo unset (the snapshot's to know): the bytes say it. */
		if (!e->hash_len)
			return strbuf_adds(out, "none");
		for (size_t i = 0; i < e->hash_len && i < sizeof(e->hash); i++)
			if (strbuf_addf(out, "%02x", e->hash[i]) < 0)
				return -ENOMEM;
		return 0;
	case ATTR_ERROR:
		return strbuf_adds(out, e->err ? strerror(e->err) : "none");
	case ATTR_ACL:
		return e->acl ? escape_display(out, e->acl, strlen(e->acl)) : strbuf_adds(out, "-");
	case ATTR_CAPS:
		return e->caps ? escape_display(out, e->caps, strlen(e->caps))
			       : strbuf_adds(out, "-");
	case ATTR_SELINUX:
		return e->selinux ? escape_display(out, e->selinux, strlen(e->selinux))
				  : strbuf_adds(out, "-");
	case ATTR_MIME:
		return e->mime ? escape_display(out, e->mime, strlen(e->mime))
			       : strbuf_adds(out, "-");
	default:
		return strbuf_adds(out, "(changed)");
	}
}

/* The `name: old → new` lines of the properties that differ. */
static int add_props(struct tui_detail *d, const struct entry *a, const struct entry *b)
{
	const struct entry *sides[2] = { a, b };
	int r = 0;

	for (int s = 0; s < 2 && r >= 0; s++) {
		const struct entry *e = sides[s], *o = sides[!s];
		size_t pos = 0, nl, vl, ovl;
		const char *n;
		const uint8_t *v, *ov;
		char name[256];

		if (!e || !e->props)
			continue;
		while (r >= 0 &&
		       entry_xattrs_next(e->props, e->props_len, &pos, &n, &nl, &v, &vl) > 0) {
			int got = 0;

			snprintf(name, sizeof(name), "%.*s", (int)nl, n);
			if (o && o->props)
				got = entry_xattrs_get(o->props, o->props_len, name, &ov, &ovl);
			if (got == 1 && ovl == vl && !memcmp(ov, v, vl))
				continue;
			if (s == 1 && got == 1)
				continue; /* shown from the before side */
			r = line(d, TUI_STYLE_PLAIN);
			if (r >= 0)
				r = strbuf_adds(&d->text, "  ");
			if (r >= 0)
				r = add_escaped(d, n, nl);
			if (r >= 0)
				r = strbuf_adds(&d->text, ": ");
			if (r >= 0)
				r = s == 0 ? add_escaped(d, (const char *)v, vl)
					   : strbuf_adds(&d->text, "-");
			if (r >= 0)
				r = strbuf_adds(&d->text, " \xe2\x86\x92 ");
			if (r >= 0) {
				if (s == 1)
					r = add_escaped(d, (const char *)v, vl);
				else if (got == 1)
					r = add_escaped(d, (const char *)ov, ovl);
				else
					r = strbuf_adds(&d->text, "-");
			}
		}
	}
	return r;
}

struct row_copy {
	int64_t rule;
	char *reason, *package, *before_version, *after_version;
	uint32_t attrs;
	bool unowned, matches, judged;
};

static int copy_row(const struct snap_run_row *row, void *userdata)
{
	struct row_copy *c = userdata;

	c->rule = row->rule;
	c->attrs = row->attrs;
	c->judged = row->judged;
	c->unowned = row->unowned;
	c->matches = row->matches;
	c->reason = row->reason ? strdup(row->reason) : NULL;
	c->package = row->package ? strdup(row->package) : NULL;
	c->before_version = row->before_version ? strdup(row->before_version) : NULL;
	c->after_version = row->after_version ? strdup(row->after_version) : NULL;
	return 0;
}

struct rule_find {
	int64_t want;
	struct strbuf *out;
	bool found;
};

static int find_rule(int64_t n, const char *id, const char *title, const char *file,
		     unsigned line_no, unsigned remediate, void *userdata)
{
	struct rule_find *rf = userdata;

	if (n != rf->want)
		return 0;
	rf->found = true;
	return strbuf_addf(rf->out, "rule: %s%s%s%s (%s:%u)%s%s", id ? id : "-", title ? " \"" : "",
			   title ? title : "", title ? "\"" : "", file ? file : "?", line_no,
			   remediate ? ", remediate: " : "",
			   remediate ? rule_remediate_name((enum rule_remediate)remediate) : "");
}

static int get_side(const struct tui_opts *o, struct tui_lookups *lk, bool after,
		    const struct tui_finding *f, const char *key, const struct entry **ret)
{
	struct snap_lookup **l = after ? &lk->after : &lk->before;
	bool *failed = after ? &lk->after_failed : &lk->before_failed;
	int64_t id = after ? o->run->after : o->run->before;
	struct diag dg = { 0 };

	*ret = NULL;
	if (!id || *failed || !o->db_path)
		return 0;
	if (!*l && snap_lookup_open(o->db_path, id, l, &dg) < 0) {
		*failed = true;
		return 0;
	}
	return snap_lookup_get(*l, (enum entry_kind)f->kind, key, f->key_len, ret, &dg);
}

/* The diff of kept content: as cli/report.c's finding_diff(), drawn in colour. */
static int add_diff(struct tui_detail *d, const struct tui_opts *o, const struct entry *a,
		    const struct entry *b, const struct tui_finding *f, const char *key)
{
	uint8_t *old = NULL, *new = NULL;
	size_t olen = 0, nlen = 0;
	struct strbuf text = STRBUF_INIT;
	struct udiff_opts uo = { 0 };
	struct udiff_result res;
	struct diag dg = { 0 };
	char oname[160], nname[160];
	int r;

	if (!a || !b || f->kind != ENTRY_FILE || !a->has_content || !b->has_content ||
	    !memcmp(a->content_id, b->content_id, sizeof(a->content_id)))
		return 0;
	if (o->rules && rule_set_content(o->rules, key, f->key_len, NULL) == RULE_CONTENT_SECRET)
		return linef(d, TUI_STYLE_DIM, "content: secret under the policy, not shown");
	r = snap_content_get(o->st, a->content_id, &old, &olen, &dg);
	if (r == 0)
		r = snap_content_get(o->st, b->content_id, &new, &nlen, &dg);
	if (r < 0) {
		r = r == -ENOMEM ? r : linef(d, TUI_STYLE_DIM, "content not shown: %s", dg.msg);
		goto out;
	}
	snprintf(oname, sizeof(oname), "%s",
		 o->run->before_label ? o->run->before_label : "before");
	snprintf(nname, sizeof(nname), "%s", o->run->after_label ? o->run->after_label : "after");
	uo.path = key;
	uo.path_len = f->key_len;
	uo.old_label = oname;
	uo.new_label = nname;
	uo.context = 3;
	uo.max_bytes = DETAIL_DIFF_MAX_BYTES;
	r = udiff(old, olen, new, nlen, &uo, &text, &res);
	if (r < 0 || res.identical)
		goto out;
	r = line(d, TUI_STYLE_PLAIN);
	if (r < 0)
		goto out;
	if (res.binary) {
		r = linef(d, TUI_STYLE_DIM, "content: binary content differs");
		goto out;
	}
	for (size_t pos = 0; pos < text.len && r >= 0;) {
		const char *p = text.buf + pos, *nl = memchr(p, '\n', text.len - pos);
		size_t len = nl ? (size_t)(nl - p) : text.len - pos;
		enum tui_style st = TUI_STYLE_PLAIN;

		if (len >= 3 && (!memcmp(p, "---", 3) || !memcmp(p, "+++", 3)))
			st = TUI_STYLE_HEAD;
		else if (len && p[0] == '@')
			st = TUI_STYLE_HUNK;
		else if (len && p[0] == '+')
			st = TUI_STYLE_ADD;
		else if (len && p[0] == '-')
			st = TUI_STYLE_DEL;
		r = line(d, st);
		if (r >= 0 && st == TUI_STYLE_HEAD && memchr(p, '\t', len)) {
			/* "--- PATH<TAB>LABEL": the tab as two spaces, as the text report shows it.
			 */
			const char *tab = memchr(p, '\t', len);

			r = add_escaped(d, p, (size_t)(tab - p));
			if (r >= 0)
				r = strbuf_adds(&d->text, "  ");
			if (r >= 0)
				r = add_escaped(d, tab + 1, len - (size_t)(tab + 1 - p));
		} else if (r >= 0) {
			r = add_escaped(d, p, len);
		}
		pos += len + (nl != NULL);
	}
	if (r >= 0 && res.omitted_lines)
		r = linef(d, TUI_STYLE_DIM, "... %zu more lines", res.omitted_lines);
out:
	strbuf_release(&text);
	free(old);
	free(new);
	return r;
}

int tui_detail_build(const struct tui_opts *o, struct tui_lookups **lkp, const struct tui_model *m,
		     const struct tui_finding *f, struct tui_detail *d)
{
	const char *key = tui_model_key(m, f);
	struct row_copy rc = { .rule = -1 };
	const struct entry *a = NULL, *b = NULL;
	struct entry ca = { 0 }, cb = { 0 };
	struct diag dg = { 0 };
	uint32_t shown;
	int r, got;

	strbuf_reset(&d->text);
	d->n = 0;
	if (!*lkp) {
		*lkp = calloc(1, sizeof(**lkp));
		if (!*lkp)
			return -ENOMEM;
	}
	r = line(d, TUI_STYLE_HEAD);
	if (r >= 0)
		r = strbuf_addf(&d->text, "%s %s: ", change_name((enum change)f->change),
				entry_kind_name((enum entry_kind)f->kind)
					? entry_kind_name((enum entry_kind)f->kind)
					: "?");
	if (r >= 0)
		r = add_escaped(d, key, f->key_len);
	if (r >= 0)
		r = linef(d, TUI_STYLE_PLAIN, "class: %s, severity: %s",
			  (f->flags & TUI_F_JUDGED) || f->class == TUI_CLASS_ACCEPTED
				  ? tui_class_name(f->class)
				  : "not judged (no policy)",
			  severity_name((enum severity)f->severity));
	if (r < 0)
		return r;

	got = snap_run_row_get(o->st, o->run->id, f->seq, copy_row, &rc, &dg);
	if (got < 0) {
		r = linef(d, TUI_STYLE_DIM, "finding not read: %s", dg.msg);
	} else if (got) {
		r = linef(d, TUI_STYLE_PLAIN, "why: %s", rc.reason ? rc.reason : "-");
		if (r >= 0 && rc.rule >= 0) {
			struct rule_find rf = { .want = rc.rule };

			r = line(d, TUI_STYLE_PLAIN);
			rf.out = &d->text;
			if (r >= 0 && snap_run_rules(o->st, o->run->id, find_rule, &rf, &dg) < 0)
				r = strbuf_adds(&d->text, "rule: (not read)");
			if (r >= 0 && !rf.found)
				r = strbuf_adds(&d->text, "rule: (unknown)");
		} else if (r >= 0) {
			r = linef(d, TUI_STYLE_PLAIN, "rule: none decided");
		}
		if (r >= 0 && rc.package)
			r = linef(d, TUI_STYLE_PLAIN, "package: %s %s \xe2\x86\x92 %s%s",
				  rc.package, rc.before_version ? rc.before_version : "-",
				  rc.after_version ? rc.after_version : "-",
				  rc.matches ? " (as the package ships it)" : "");
		else if (r >= 0 && rc.unowned)
			r = linef(d, TUI_STYLE_PLAIN, "package: none owns it");
	}
	/* What the rule checks is what a report shows (row.attrs); unjudged: all that differs. */
	shown = got > 0 && rc.judged && rc.attrs ? f->changed & rc.attrs : f->changed;
	free(rc.reason);
	free(rc.package);
	free(rc.before_version);
	free(rc.after_version);
	if (r < 0)
		return r;

	/* The sides: each lookup's entry stays valid until that lookup's next call. */
	if (get_side(o, *lkp, false, f, key, &a) > 0 && a) {
		ca = *a;
		a = &ca;
	}
	if (get_side(o, *lkp, true, f, key, &b) > 0 && b) {
		cb = *b;
		b = &cb;
	}
	if (!o->run->before && !o->run->after)
		return linef(d, TUI_STYLE_DIM, "(the run has no snapshots: no attributes to show)");
	if (f->change == CHANGE_MODIFIED && shown) {
		r = linef(d, TUI_STYLE_HEAD, "changed:");
		for (uint32_t bit = 1; r >= 0 && bit && bit < (1u << ATTR__COUNT); bit <<= 1) {
			if (!(shown & bit) || bit == ATTR_PROPS)
				continue;
			r = line(d, TUI_STYLE_PLAIN);
			if (r >= 0)
				r = strbuf_addf(&d->text,
						"  %s: ", entry_attr_name((enum entry_attr)bit));
			if (r >= 0)
				r = attr_value(&d->text, a, bit);
			if (r >= 0)
				r = strbuf_adds(&d->text, " \xe2\x86\x92 ");
			if (r >= 0)
				r = attr_value(&d->text, b, bit);
		}
		if (r >= 0 && (shown & ATTR_PROPS))
			r = add_props(d, a, b);
	} else if (a || b) {
		const struct entry *e = b ? b : a;
		char mode[11];

		tui_format_mode(mode, e->mode);
		r = line(d, TUI_STYLE_PLAIN);
		if (r >= 0 && f->kind == ENTRY_FILE) {
			char size[32], uid[80], gid[80];

			tui_format_size(size, sizeof(size), e->size);
			owner_name(uid, sizeof(uid), e->uid, false);
			owner_name(gid, sizeof(gid), e->gid, true);
			r = strbuf_addf(&d->text, "%s %s, owner %s, group %s, %s",
					b ? "now" : "was", mode, uid, gid, size);
		}
	}
	if (r >= 0)
		r = add_diff(d, o, a, b, f, key);
	return r;
}
