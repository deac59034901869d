/*
 * The JSON report: one document, schema in docs/json-report.md. Keys come
 * in a fixed order and every deviation is one line, so the output is stable
 * byte for byte and greps well:
 *
 *     {
 *       "drift_report": 1,
 *       ...
 *       "deviations": [
 *         {"kind": "file", "path": "/etc/a", "change": "added", ...},
 *         {"kind": "file", "path": "/etc/b", "change": "removed", ...}
 *       ],
 *       "unreadable": []
 *     }
 *
 * Components: JSON string and byte-string writers (lossless paths and keys:
 * the string when it is clean UTF-8, else its escaped display form plus the
 * raw bytes in base64), the entry (a file's attributes, or another kind's
 * props), deviation (verdict, package context, props and their changes) and
 * snapshot objects, and the document writer (with the caller's notes).
 * Each spooled item starts with ",\n    " so that items can be copied back
 * to back; the writer drops the comma of the very first.
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "config.h"
#include "report/internal.h"
#include "common/escape.h"
#include "common/strbuf.h"
#include "common/udiff.h"
#include "common/banned.h"

/** Version of the document's schema: bump on any incompatible change. */
#define JSON_SCHEMA_VERSION 1

/* What precedes every spooled item; report_json_write() drops the comma of the first. */
#define ITEM_SEP ",\n    "

/* A JSON string literal of @s, which must be valid UTF-8 (clean, or a display form). */
static int json_add_string(struct strbuf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = 0;

	if (strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[6] = { '\\', 0, 0, 0, 0, 0 };
		size_t elen = 2;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		switch (c) {
		case '"':
			esc[1] = '"';
			break;
		case '\\':
			esc[1] = '\\';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\t':
			esc[1] = 't';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		default:
			esc[1] = 'u';
			esc[2] = '0';
			esc[3] = '0';
			esc[4] = hex[c >> 4];
			esc[5] = hex[c & 15];
			elen = 6;
			break;
		}
		if (strbuf_add(out, s + start, i - start) < 0 || strbuf_add(out, esc, elen) < 0)
			return -ENOMEM;
		start = i + 1;
	}
	if (strbuf_add(out, s + start, len - start) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '"');
}

static int json_add_cstring(struct strbuf *out, const char *s)
{
	return json_add_string(out, s, strlen(s));
}

/*
 * Any bytes as a JSON string: as they are when clean, else their display
 * form (which is clean). The rare unclean string costs one allocation.
 */
static int json_add_text(struct strbuf *out, const char *s, size_t len)
{
	struct strbuf display = STRBUF_INIT;
	int r;

	if (escape_is_clean(s, len))
		return json_add_string(out, s, len);
	r = escape_display(&display, s, len);
	if (r >= 0)
		r = json_add_string(out, display.buf, display.len);
	strbuf_release(&display);
	return r;
}

/* A string or null. */
static int json_add_text_or_null(struct strbuf *out, const char *s)
{
	if (!s)
		return strbuf_adds(out, "null");
	return json_add_text(out, s, strlen(s));
}

/* Standard base64 with padding, by OpenSSL, in pieces to bound the stack buffer. */
static int add_base64(struct strbuf *out, const char *s, size_t len)
{
	/* A multiple of 3, so that the pieces concatenate to the encoding of the whole. */
	enum { CHUNK = 3 * 1024 };
	unsigned char enc[4 * (CHUNK / 3) + 1];
	const unsigned char *p = (const unsigned char *)s;

	while (len > 0) {
		size_t n = len < CHUNK ? len : CHUNK;
		int m = EVP_EncodeBlock(enc, p, (int)n);

		if (m < 0 || strbuf_add(out, enc, (size_t)m) < 0)
			return -ENOMEM;
		p += n;
		len -= n;
	}
	return 0;
}

/* `"KEY": "..."`, plus `, "KEY_b64": "..."` with the raw bytes when they are not clean. */
static int json_add_bytes_member(struct strbuf *out, const char *key, const char *s, size_t len)
{
	if (strbuf_addf(out, "\"%s\": ", key) < 0 || json_add_text(out, s, len) < 0)
		return -ENOMEM;
	if (escape_is_clean(s, len))
		return 0;
	if (strbuf_addf(out, ", \"%s_b64\": \"", key) < 0 || add_base64(out, s, len) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '"');
}

static int json_add_time(struct strbuf *out, int64_t ns)
{
	int r;

	if (strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	r = report_format_time(out, ns);
	if (r < 0)
		return r;
	return strbuf_addch(out, '"');
}

/* `"KEY": STRING | null`: the value when collected and present. */
static int json_add_optional_text(struct strbuf *out, const struct entry *e, const char *key,
				  uint32_t attr, const char *value)
{
	if (strbuf_addf(out, ", \"%s\": ", key) < 0)
		return -ENOMEM;
	return json_add_text_or_null(out, (e->collected & attr) ? value : NULL);
}

/*
 * The optional attributes: `"collected": [NAME, ...]`, then "xattrs" (an
 * array of {"name", "value"} objects, lossless; null when not collected)
 * and "acl", "caps", "selinux", "mime" (strings, null when not collected or
 * absent: "collected" tells the two apart).
 */
static int json_add_optional(struct strbuf *out, const struct entry *e)
{
	const char *name, *value;
	size_t name_len, value_len, pos = 0;
	bool first = true;

	if (strbuf_adds(out, ", \"collected\": [") < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		uint32_t attr = 1u << i;

		if (!(ATTR_OPTIONAL & attr) || !(e->collected & attr))
			continue;
		if (strbuf_addf(out, "%s\"%s\"", first ? "" : ", ",
				entry_attr_name((enum entry_attr)attr)) < 0)
			return -ENOMEM;
		first = false;
	}
	if (strbuf_adds(out, "], \"xattrs\": ") < 0)
		return -ENOMEM;
	if (!(e->collected & ATTR_XATTRS)) {
		if (strbuf_adds(out, "null") < 0)
			return -ENOMEM;
	} else {
		if (strbuf_addch(out, '[') < 0)
			return -ENOMEM;
		first = true;
		while (report_xattrs_next(e, &pos, &name, &name_len, &value, &value_len) > 0) {
			if (strbuf_adds(out, first ? "{" : ", {") < 0 ||
			    json_add_bytes_member(out, "name", name, name_len) < 0 ||
			    strbuf_adds(out, ", ") < 0 ||
			    json_add_bytes_member(out, "value", value, value_len) < 0 ||
			    strbuf_addch(out, '}') < 0)
				return -ENOMEM;
			first = false;
		}
		if (strbuf_addch(out, ']') < 0)
			return -ENOMEM;
	}
	if (json_add_optional_text(out, e, "acl", ATTR_ACL, e->acl) < 0 ||
	    json_add_optional_text(out, e, "caps", ATTR_CAPS, e->caps) < 0 ||
	    json_add_optional_text(out, e, "selinux", ATTR_SELINUX, e->selinux) < 0 ||
	    json_add_optional_text(out, e, "mime", ATTR_MIME, e->mime) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * `"props": {NAME: VALUE, ...}` of @e: names and values as strings (clean,
 * else their display form), then, when a value is not clean,
 * `, "props_b64": {NAME: BASE64, ...}` with the raw bytes of those values.
 */
static int json_add_props_map(struct strbuf *out, const struct entry *e)
{
	const char *name, *value;
	size_t name_len, value_len, pos = 0;
	bool first = true, unclean = false;

	if (strbuf_adds(out, "\"props\": {") < 0)
		return -ENOMEM;
	while (report_props_next(e, &pos, &name, &name_len, &value, &value_len) > 0) {
		if ((!first && strbuf_adds(out, ", ") < 0) ||
		    json_add_text(out, name, name_len) < 0 || strbuf_adds(out, ": ") < 0 ||
		    json_add_text(out, value, value_len) < 0)
			return -ENOMEM;
		first = false;
		unclean = unclean || !escape_is_clean(value, value_len);
	}
	if (strbuf_addch(out, '}') < 0)
		return -ENOMEM;
	if (!unclean)
		return 0;
	if (strbuf_adds(out, ", \"props_b64\": {") < 0)
		return -ENOMEM;
	first = true;
	pos = 0;
	while (report_props_next(e, &pos, &name, &name_len, &value, &value_len) > 0) {
		if (escape_is_clean(value, value_len))
			continue;
		if ((!first && strbuf_adds(out, ", ") < 0) ||
		    json_add_text(out, name, name_len) < 0 || strbuf_adds(out, ": \"") < 0 ||
		    add_base64(out, value, value_len) < 0 || strbuf_addch(out, '"') < 0)
			return -ENOMEM;
		first = false;
	}
	return strbuf_addch(out, '}');
}

/* One side of a changed property: `"old": STRING[, "old_b64": ...]` or `"old": null`. */
static int json_add_prop_side(struct strbuf *out, const char *side,
			      const struct report_pair_cursor *c, bool present)
{
	if (present)
		return json_add_bytes_member(out, side, c->value, c->value_len);
	return strbuf_addf(out, "\"%s\": null", side);
}

/*
 * `"props": {NAME: {"old": STRING | null, "new": STRING | null}, ...}`: the
 * properties that differ between the two sides, by name (lossless values).
 */
static int json_add_props_changes(struct strbuf *out, const struct entry *before,
				  const struct entry *after)
{
	struct report_pair_cursor a, b;
	bool first = true;

	if (strbuf_adds(out, "\"props\": {") < 0)
		return -ENOMEM;
	report_pair_cursor_start(&a, before, true);
	report_pair_cursor_start(&b, after, true);
	while (a.more || b.more) {
		int c = report_pair_cursor_compare(&a, &b);
		const struct report_pair_cursor *named = c <= 0 ? &a : &b;

		if (c != 0 || !report_value_equal(a.value, a.value_len, b.value, b.value_len)) {
			if ((!first && strbuf_adds(out, ", ") < 0) ||
			    json_add_text(out, named->name, named->name_len) < 0 ||
			    strbuf_adds(out, ": {") < 0 ||
			    json_add_prop_side(out, "old", &a, c <= 0) < 0 ||
			    strbuf_adds(out, ", ") < 0 ||
			    json_add_prop_side(out, "new", &b, c >= 0) < 0 ||
			    strbuf_addch(out, '}') < 0)
				return -ENOMEM;
			first = false;
		}
		if (c <= 0)
			report_pair_cursor_step(&a);
		if (c >= 0)
			report_pair_cursor_step(&b);
	}
	return strbuf_addch(out, '}');
}

/* `"error": STRING | null, "errno": N | null` of @e. */
static int json_add_error_members(struct strbuf *out, const struct entry *e)
{
	char buf[32];

	if (!e->err)
		return strbuf_adds(out, "\"error\": null, \"errno\": null");
	if (strbuf_adds(out, "\"error\": ") < 0 ||
	    json_add_cstring(out, report_entry_error_text(e, buf, sizeof(buf))) < 0)
		return -ENOMEM;
	return strbuf_addf(out, ", \"errno\": %d", e->err);
}

/* An entry of another kind than a file: `{"props": ..., "error": ..., "errno": ...}`. */
static int json_add_probe_entry(struct strbuf *out, const struct entry *e)
{
	if (strbuf_addch(out, '{') < 0 || json_add_props_map(out, e) < 0 ||
	    strbuf_adds(out, ", ") < 0 || json_add_error_members(out, e) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

static int json_add_entry(struct strbuf *out, const struct entry *e)
{
	if (!e)
		return strbuf_adds(out, "null");
	if (e->kind != ENTRY_FILE)
		return json_add_probe_entry(out, e);
	if (strbuf_addf(out, "{\"type\": \"%s\", \"mode\": \"", entry_type_name(e->mode)) < 0 ||
	    report_format_mode(out, e->mode) < 0 ||
	    strbuf_addf(out,
			"\", \"uid\": %" PRIu32 ", \"gid\": %" PRIu32 ", \"size\": %" PRIu64
			", \"mtime\": ",
			e->uid, e->gid, e->size) < 0 ||
	    json_add_time(out, e->mtime_ns) < 0 || strbuf_adds(out, ", \"ctime\": ") < 0 ||
	    json_add_time(out, e->ctime_ns) < 0 ||
	    strbuf_addf(out,
			", \"inode\": \"%" PRIu64 "\", \"device\": \"%" PRIu64 "\", \"rdev\": ",
			e->ino, e->dev) < 0)
		return -ENOMEM;
	if (entry_is_device(e) && e->rdev != ENTRY_RDEV_UNKNOWN) {
		if (strbuf_addch(out, '"') < 0 || report_format_rdev(out, e) < 0 ||
		    strbuf_addch(out, '"') < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "null") < 0) {
		return -ENOMEM;
	}
	if (strbuf_addf(out, ", \"nlink\": %" PRIu64 ", ", e->nlink) < 0)
		return -ENOMEM;

	if (e->target) {
		if (json_add_bytes_member(out, "target", e->target, e->target_len) < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "\"target\": null") < 0) {
		return -ENOMEM;
	}

	if (e->hash_algo != HASH_NONE && e->hash_len > 0) {
		if (strbuf_adds(out, ", \"hash\": \"") < 0 || report_format_hash(out, e) < 0 ||
		    strbuf_addf(out, "\", \"hash_algo\": \"%s\"", hash_algo_name(e->hash_algo)) < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, ", \"hash\": null, \"hash_algo\": null") < 0) {
		return -ENOMEM;
	}

	if (strbuf_adds(out, ", ") < 0 || json_add_error_members(out, e) < 0)
		return -ENOMEM;

	if (strbuf_addf(out, ", \"changed_while_read\": %s, \"not_hashed_too_sparse\": %s",
			e->flags & ENTRY_CHANGED_WHILE_READ ? "true" : "false",
			e->flags & ENTRY_NOT_HASHED_TOO_SPARSE ? "true" : "false") < 0)
		return -ENOMEM;
	if (json_add_optional(out, e) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

/* "class", "severity", "rule" and "reason" of a deviation. */
static int json_add_verdict(struct strbuf *out, const struct finding *v)
{
	if (!v)
		return strbuf_adds(out,
				   ", \"class\": \"drift\", \"severity\": null, \"rule\": null,"
				   " \"reason\": null");
	if (strbuf_adds(out, ", \"class\": ") < 0 ||
	    json_add_cstring(out, class_name(v->class)) < 0 ||
	    strbuf_addf(out, ", \"severity\": \"%s\", \"rule\": ", severity_name(v->severity)) < 0)
		return -ENOMEM;
	if (!v->rule_id) {
		if (strbuf_adds(out, "null") < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "{\"id\": ") < 0 ||
		   json_add_text_or_null(out, v->rule_id) < 0 ||
		   strbuf_adds(out, ", \"title\": ") < 0 ||
		   json_add_text_or_null(out, v->rule_title) < 0 ||
		   strbuf_adds(out, ", \"file\": ") < 0 ||
		   json_add_text_or_null(out, v->rule_file) < 0 ||
		   (v->rule_line ? strbuf_addf(out, ", \"line\": %u}", v->rule_line)
				 : strbuf_adds(out, ", \"line\": null}")) < 0) {
		return -ENOMEM;
	}
	if (strbuf_adds(out, ", \"reason\": ") < 0 || json_add_text_or_null(out, v->reason) < 0)
		return -ENOMEM;
	return 0;
}

/* `, "package": {...}` or `, "unowned": true` of an owner (nothing for NULL). */
static int json_add_owner(struct strbuf *out, const struct finding_package *o)
{
	if (!o)
		return 0;
	if (o->unowned)
		return strbuf_adds(out, ", \"unowned\": true");
	if (strbuf_adds(out, ", \"package\": {\"name\": ") < 0 ||
	    json_add_text_or_null(out, o->name) < 0 ||
	    strbuf_adds(out, ", \"old_version\": ") < 0 ||
	    json_add_text_or_null(out, o->before_version) < 0 ||
	    strbuf_adds(out, ", \"new_version\": ") < 0 ||
	    json_add_text_or_null(out, o->after_version) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

/*
 * `, "event": {"kind": ..., "name": ..., "change": ...[, "detail": ...]}`
 * when the finding is part of one, and `, "novelty": "new"` (or
 * "persisting") under --since-last.
 */
static int json_add_event(struct strbuf *out, const struct finding *f)
{
	static const char *const kinds[] = {
		[EVENT_PACKAGE] = "package", [EVENT_USER] = "user", [EVENT_GROUP] = "group"
	};

	if (f->event.kind != EVENT_NONE && f->event.name &&
	    (unsigned)f->event.kind < sizeof(kinds) / sizeof(kinds[0])) {
		if (strbuf_addf(out, ", \"event\": {\"kind\": \"%s\", \"name\": ",
				kinds[f->event.kind]) < 0 ||
		    json_add_text_or_null(out, f->event.name) < 0 ||
		    strbuf_addf(out, ", \"change\": \"%s\"", change_name(f->event.change)) < 0)
			return -ENOMEM;
		if (f->event.detail && (strbuf_adds(out, ", \"detail\": ") < 0 ||
					json_add_text_or_null(out, f->event.detail) < 0))
			return -ENOMEM;
		if (strbuf_addch(out, '}') < 0)
			return -ENOMEM;
	}
	if (f->novelty == NOVELTY_NEW || f->novelty == NOVELTY_PERSISTING)
		return strbuf_addf(out, ", \"novelty\": \"%s\"",
				   f->novelty == NOVELTY_NEW ? "new" : "persisting");
	return 0;
}

/*
 * `{"kind": "K", "path": ...` for a file, `{"kind": "K", "key": ...` for any
 * other kind; with a @type (ndjson), `{"type": "TYPE", "kind": ...`.
 */
static int json_add_kind_key(struct strbuf *out, const char *type, const struct entry *e)
{
	if (type && strbuf_addf(out, "{\"type\": \"%s\", ", type) < 0)
		return -ENOMEM;
	if (!type && strbuf_addch(out, '{') < 0)
		return -ENOMEM;
	if (strbuf_addf(out, "\"kind\": \"%s\", ", report_kind_name(e->kind)) < 0)
		return -ENOMEM;
	return json_add_bytes_member(out, e->kind == ENTRY_FILE ? "path" : "key", e->key,
				     e->key_len);
}

/*
 * The content diff: exact when it is valid UTF-8 (control bytes are JSON
 * escapes), else each line in its display form, lines still apart.
 */
static int json_add_diff(struct strbuf *out, const struct report_diff *diff)
{
	struct strbuf lines = STRBUF_INIT;
	int r = 0;

	if (!diff)
		return 0;
	if (diff->binary)
		return strbuf_adds(out, ", \"diff_binary\": true");
	if (strbuf_adds(out, ", \"diff\": ") < 0)
		return -ENOMEM;
	if (udiff_utf8_invalid((const uint8_t *)diff->text, diff->len) == 0) {
		r = json_add_string(out, diff->text, diff->len);
	} else {
		for (size_t pos = 0; r == 0 && pos < diff->len;) {
			const char *p = diff->text + pos, *nl = memchr(p, '\n', diff->len - pos);
			size_t len = nl ? (size_t)(nl - p) : diff->len - pos;

			r = escape_display(&lines, p, len);
			if (r == 0 && nl)
				r = strbuf_addch(&lines, '\n');
			pos += len + (nl ? 1 : 0);
		}
		if (r == 0)
			r = json_add_string(out, lines.buf ? lines.buf : "", lines.len);
	}
	strbuf_release(&lines);
	if (r == 0 && diff->omitted_lines)
		r = strbuf_addf(out, ", \"diff_omitted_lines\": %zu", diff->omitted_lines);
	return r < 0 ? -ENOMEM : 0;
}

int report_json_add_finding(struct report *rep, const struct finding *d, const char *type,
			    struct strbuf *out)
{
	const struct finding *v = d->judged ? d : NULL;
	const struct finding_package *owner = report_finding_owner(d);
	const struct entry *e = d->after ? d->after : d->before;
	uint32_t attrs = v ? v->attrs : d->changed;
	bool first = true;

	if (json_add_kind_key(out, type, e) < 0 ||
	    strbuf_addf(out, ", \"change\": \"%s\"", change_name(d->change)) < 0 ||
	    json_add_verdict(out, v) < 0 || json_add_owner(out, owner) < 0 ||
	    json_add_event(out, d) < 0 || strbuf_adds(out, ", \"attributes\": [") < 0)
		return -ENOMEM;
	if (d->change == CHANGE_MODIFIED) {
		for (unsigned i = 0; i < ATTR__COUNT; i++) {
			enum entry_attr attr = (enum entry_attr)(1u << i);

			if (!(attrs & attr))
				continue;
			if (strbuf_addf(out, "%s\"%s\"", first ? "" : ", ", entry_attr_name(attr)) <
			    0)
				return -ENOMEM;
			first = false;
		}
	}
	if (strbuf_addch(out, ']') < 0)
		return -ENOMEM;
	if (e->kind != ENTRY_FILE) {
		if (strbuf_adds(out, ", ") < 0)
			return -ENOMEM;
		if (d->change == CHANGE_MODIFIED
			    ? json_add_props_changes(out, d->before, d->after) < 0
			    : json_add_props_map(out, e) < 0)
			return -ENOMEM;
	}
	if (json_add_diff(out, rep->diff) < 0)
		return -ENOMEM;
	if (strbuf_adds(out, ", \"old\": ") < 0 || json_add_entry(out, d->before) < 0 ||
	    strbuf_adds(out, ", \"new\": ") < 0 || json_add_entry(out, d->after) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

int report_json_deviation(struct report *rep, const struct finding *d, struct strbuf *out)
{
	if (strbuf_adds(out, ITEM_SEP) < 0)
		return -ENOMEM;
	return report_json_add_finding(rep, d, NULL, out);
}

int report_json_add_unreadable(const struct entry *e, const char *type, struct strbuf *out)
{
	char buf[32];

	if (json_add_kind_key(out, type, e) < 0 || strbuf_adds(out, ", \"error\": ") < 0 ||
	    json_add_cstring(out, report_entry_error_text(e, buf, sizeof(buf))) < 0)
		return -ENOMEM;
	return strbuf_addf(out, ", \"errno\": %d}", e->err);
}

int report_json_error(struct report *rep, const struct entry *e, struct strbuf *out)
{
	if (strbuf_adds(out, ITEM_SEP) < 0)
		return -ENOMEM;
	return report_json_add_unreadable(e, NULL, out);
}

/* A JSON array of strings from @n byte strings (@v may be NULL when @n is 0). */
static int json_add_text_array(struct strbuf *out, char *const *v, size_t n)
{
	if (strbuf_addch(out, '[') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n && v[i]; i++)
		if ((i > 0 && strbuf_adds(out, ", ") < 0) ||
		    json_add_text(out, v[i], strlen(v[i])) < 0)
			return -ENOMEM;
	return strbuf_addch(out, ']');
}

int report_format_snapshot_json(struct strbuf *out, const struct snap_info *info)
{
	if (strbuf_addf(out, "{\"id\": %" PRId64 ", \"label\": ", info->id) < 0 ||
	    json_add_text_or_null(out, info->label) < 0 ||
	    strbuf_addf(out, ", \"purpose\": \"%s\", \"complete\": %s, \"host\": ",
			report_purpose_name(info->purpose),
			info->complete ? "true" : "false") < 0 ||
	    json_add_text_or_null(out, info->host) < 0 || strbuf_adds(out, ", \"version\": ") < 0 ||
	    json_add_text_or_null(out, info->version) < 0 ||
	    strbuf_adds(out, ", \"roots\": ") < 0 ||
	    json_add_text_array(out, info->roots, info->roots ? info->nroots : 0) < 0 ||
	    strbuf_adds(out, ", \"excludes\": ") < 0 ||
	    json_add_text_array(out, info->excludes, info->excludes ? info->nexcludes : 0) < 0 ||
	    strbuf_addf(out, ", \"hash\": \"%s\", \"started\": ", hash_algo_name(info->hash)) < 0 ||
	    json_add_time(out, info->started_ns) < 0 || strbuf_adds(out, ", \"finished\": ") < 0)
		return -ENOMEM;
	if (info->complete) {
		if (json_add_time(out, info->finished_ns) < 0)
			return -ENOMEM;
	} else if (strbuf_adds(out, "null") < 0) {
		return -ENOMEM;
	}
	if (strbuf_addf(out, ", \"entries\": %" PRIu64 ", \"errors\": %" PRIu64, info->entries,
			info->errors) < 0 ||
	    strbuf_adds(out, ", \"probes\": ") < 0 ||
	    json_add_text_array(out, info->probes, info->probes ? info->nprobes : 0) < 0 ||
	    strbuf_adds(out, ", \"probes_unavailable\": ") < 0 ||
	    json_add_text_array(out, info->probes_unavailable,
				info->probes_unavailable ? info->nprobes_unavailable : 0) < 0 ||
	    strbuf_adds(out, ", \"parent\": ") < 0 ||
	    (info->parent ? strbuf_addf(out, "%" PRId64, info->parent) : strbuf_adds(out, "null")) <
		    0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

int report_format_run_json(struct strbuf *out, const struct snap_run_info *run)
{
	if (strbuf_addf(out, "{\"id\": %" PRId64 ", \"command\": ", run->id) < 0 ||
	    json_add_text_or_null(out, run->command) < 0 ||
	    strbuf_adds(out, ", \"started\": ") < 0 || json_add_time(out, run->started_ns) < 0 ||
	    strbuf_adds(out, ", \"old\": ") < 0 ||
	    (run->before ? strbuf_addf(out, "{\"id\": %" PRId64 ", \"label\": ", run->before)
			 : strbuf_adds(out, "null")) < 0 ||
	    (run->before &&
	     (json_add_text_or_null(out, run->before_label) < 0 || strbuf_addch(out, '}') < 0)) ||
	    strbuf_adds(out, ", \"new\": ") < 0 ||
	    (run->after ? strbuf_addf(out, "{\"id\": %" PRId64 ", \"label\": ", run->after)
			: strbuf_adds(out, "null")) < 0 ||
	    (run->after &&
	     (json_add_text_or_null(out, run->after_label) < 0 || strbuf_addch(out, '}') < 0)) ||
	    strbuf_addf(out,
			", \"findings\": %" PRIu64 ", \"drift\": %" PRIu64
			", \"expected\": %" PRIu64 ", \"unreadable\": %" PRIu64
			", \"exit_code\": %d}",
			run->findings, run->counted, run->expected, run->blind, run->exit_code) < 0)
		return -ENOMEM;
	return 0;
}

int report_format_acceptance_json(struct strbuf *out, const struct snap_acceptance *a)
{
	if (strbuf_addf(out,
			"{\"id\": %" PRId64 ", \"run\": %" PRId64 ", \"old\": {\"id\": %" PRId64
			", \"label\": ",
			a->id, a->run, a->old_baseline) < 0 ||
	    json_add_text_or_null(out, a->old_label) < 0 ||
	    strbuf_addf(out, "}, \"new\": {\"id\": %" PRId64 ", \"label\": ", a->new_baseline) <
		    0 ||
	    json_add_text_or_null(out, a->new_label) < 0 || strbuf_adds(out, "}, \"who\": ") < 0 ||
	    json_add_text_or_null(out, a->who) < 0 || strbuf_adds(out, ", \"at\": ") < 0 ||
	    json_add_time(out, a->at_ns) < 0 || strbuf_adds(out, ", \"reason\": ") < 0 ||
	    json_add_text_or_null(out, a->reason) < 0 ||
	    strbuf_addf(out, ", \"entries\": %" PRIu64 ", \"undone\": ", a->entries) < 0 ||
	    (a->undone_ns
		     ? strbuf_adds(out, "{\"at\": ") < 0 || json_add_time(out, a->undone_ns) < 0 ||
			       strbuf_adds(out, ", \"by\": ") < 0 ||
			       json_add_text_or_null(out, a->undone_by) < 0 ||
			       strbuf_addch(out, '}') < 0
		     : strbuf_adds(out, "null") < 0) ||
	    strbuf_addch(out, '}') < 0)
		return -ENOMEM;
	return 0;
}

static int json_add_snapshot_or_null(struct strbuf *out, const struct snap_info *info)
{
	if (!info)
		return strbuf_adds(out, "null");
	return report_format_snapshot_json(out, info);
}

/* `SEP"notes": [STRING, ...]` of the caller's notes; nothing when there is none. */
static int json_add_notes(const struct report *rep, const char *sep, struct strbuf *out)
{
	if (!rep->nnotes)
		return 0;
	if (strbuf_addf(out, "%s\"notes\": ", sep) < 0)
		return -ENOMEM;
	return json_add_text_array(out, rep->notes, rep->nnotes);
}

/* `{"source": ..., "digest": ...}` of one snapshot's policy (nulls without one). */
static int json_add_policy_side(struct strbuf *out, const struct snap_info *info)
{
	if (!info)
		return strbuf_adds(out, "{\"source\": null, \"digest\": null}");
	if (strbuf_adds(out, "{\"source\": ") < 0 ||
	    json_add_text_or_null(out, info->policy_source) < 0 ||
	    strbuf_adds(out, ", \"digest\": ") < 0 ||
	    json_add_text_or_null(out, info->policy_digest) < 0)
		return -ENOMEM;
	return strbuf_addch(out, '}');
}

static int json_add_policy(struct report *rep, const char *sep, struct strbuf *out)
{
	if (strbuf_addf(out, "%s\"policy\": {\"old\": ", sep) < 0 ||
	    json_add_policy_side(out, rep->meta.before) < 0 ||
	    strbuf_adds(out, ", \"new\": ") < 0 || json_add_policy_side(out, rep->meta.after) < 0)
		return -ENOMEM;
	return strbuf_addf(out, ", \"changed\": %s}",
			   report_policy_changed(rep) ? "true" : "false");
}

int report_json_add_head(struct report *rep, const char *type, struct strbuf *out)
{
	const struct report_meta *m = &rep->meta;
	const uint64_t *c = rep->count, *ch = rep->changes;
	uint64_t total = ch[CHANGE_ADDED] + ch[CHANGE_REMOVED] + ch[CHANGE_MODIFIED];
	const char *sep = type ? ", " : ",\n  ";

	if (strbuf_adds(out, type ? "{\"type\": \"" : "{\n  ") < 0 ||
	    (type && strbuf_addf(out, "%s\", ", type) < 0) ||
	    strbuf_addf(out, "\"drift_report\": %d%s\"tool\": {\"name\": \"drift\", \"version\": ",
			JSON_SCHEMA_VERSION, sep) < 0 ||
	    json_add_text_or_null(out, m->tool_version ? m->tool_version : DRIFT_VERSION) < 0 ||
	    strbuf_addf(out, "}%s\"command\": \"%s\"%s\"generated\": ", sep, m->command, sep) < 0 ||
	    json_add_time(out, rep->generated_ns) < 0 ||
	    strbuf_addf(out, "%s\"database\": ", sep) < 0 ||
	    json_add_text_or_null(out, m->database) < 0 ||
	    strbuf_addf(out,
			"%s\"compare\": {\"all_changes\": %s, \"hash_compared\": %s}%s"
			"\"old\": ",
			sep, m->compare_flags & SNAP_COMPARE_ALL ? "true" : "false",
			report_hash_compared(rep) ? "true" : "false", sep) < 0 ||
	    json_add_snapshot_or_null(out, m->before) < 0 ||
	    strbuf_addf(out, "%s\"new\": ", sep) < 0 ||
	    json_add_snapshot_or_null(out, m->after) < 0 || json_add_policy(rep, sep, out) < 0)
		return -ENOMEM;
	if (strbuf_addf(out,
			"%s\"summary\": {\"added\": %" PRIu64 ", \"removed\": %" PRIu64
			", \"modified\": %" PRIu64 ", \"total\": %" PRIu64
			", \"expected\": %" PRIu64 ", \"waived\": %" PRIu64 ", \"drift\": %" PRIu64
			", \"by_severity\": {",
			sep, ch[CHANGE_ADDED], ch[CHANGE_REMOVED], ch[CHANGE_MODIFIED], total,
			report_section_total(rep, SECTION_EXPECTED),
			report_section_total(rep, SECTION_WAIVED),
			total - report_section_total(rep, SECTION_EXPECTED) -
				report_section_total(rep, SECTION_WAIVED)) < 0)
		return -ENOMEM;
	for (unsigned s = SECTION_CRITICAL; s <= SECTION_INFO; s++)
		if (strbuf_addf(out, "%s\"%s\": %" PRIu64, s == SECTION_CRITICAL ? "" : ", ",
				severity_name((enum severity)(4 - (s - SECTION_CRITICAL))),
				report_section_total(rep, (enum report_section)s)) < 0)
			return -ENOMEM;
	if (strbuf_addf(out, "}, \"unreadable\": %" PRIu64 ", \"entries_checked\": %" PRIu64 "}",
			c[SECTION_ERRORS], report_entries_checked(rep)) < 0)
		return -ENOMEM;
	if (m->since_last) {
		if (strbuf_addf(out, "%s\"since_last\": {\"run\": ", sep) < 0 ||
		    (m->since_run ? strbuf_addf(out, "%" PRId64, m->since_run)
				  : strbuf_adds(out, "null")) < 0 ||
		    strbuf_addf(out,
				", \"new\": %" PRIu64 ", \"persisting\": %" PRIu64
				", \"resolved\": %" PRIu64 "}",
				rep->novelty[NOVELTY_NEW], rep->novelty[NOVELTY_PERSISTING],
				c[SECTION_RESOLVED]) < 0)
			return -ENOMEM;
	}
	return json_add_notes(rep, sep, out);
}

/* `,\n  "NAME": [` + the spools' items + `\n  ]`, or `[]` when they are all empty. */
static int json_write_array(struct report *rep, const char *name, enum report_section from,
			    enum report_section to, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	bool first = true;
	int r;

	strbuf_reset(sb);
	if (strbuf_addf(sb, ",\n  \"%s\": [", name) < 0)
		return -ENOMEM;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	for (unsigned s = from; s <= to; s++) {
		if (!rep->count[s])
			continue;
		/* Drop the comma that starts the first item. */
		r = report_spool_copy(rep, (enum report_section)s, first ? 1 : 0, reterr);
		if (r < 0)
			return r;
		first = false;
	}
	return first ? report_out_write(rep, "]", 1) : report_out_write(rep, "\n  ]", 4);
}

int report_json_write(struct report *rep, struct diag *reterr)
{
	struct strbuf *sb = &rep->item;
	int r;

	strbuf_reset(sb);
	r = report_json_add_head(rep, NULL, sb);
	if (r < 0)
		return r;
	r = report_out_write(rep, sb->buf, sb->len);
	if (r < 0)
		return r;
	r = json_write_array(rep, "deviations", SECTION_CRITICAL, SECTION_WAIVED, reterr);
	if (r < 0)
		return r;
	r = json_write_array(rep, "unreadable", SECTION_ERRORS, SECTION_ERRORS, reterr);
	if (r < 0)
		return r;
	if (rep->meta.since_last) {
		r = json_write_array(rep, "resolved", SECTION_RESOLVED, SECTION_RESOLVED, reterr);
		if (r < 0)
			return r;
	}
	return report_out_write(rep, "\n}\n", 3);
}
