/*
 * Waivers: loading the file, and judging a finding by them (waive.h).
 */
#include "compare/waive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/diag.h"
#include "common/pattern.h"
#include "common/strbuf.h"
#include "compare/internal.h"
#include "common/banned.h"

#define WAIVERS_MAX_BYTES (16u << 20)

struct wloader {
	const char *name;
	yaml_document_t *doc;
	waiver_problem_fn *problem;
	void *userdata;
	unsigned nproblems;
	int err; /* -ENOMEM */
	struct waiver_set *ws;
};

__attribute__((format(printf, 3, 4))) static void
problem(struct wloader *ld, const yaml_mark_t *mark, const char *fmt, ...)
{
	struct diag d = { .file = ld->name };
	va_list ap;

	ld->nproblems++;
	if (mark) {
		d.line = (unsigned)mark->line + 1;
		d.col = (unsigned)mark->column + 1;
	}
	va_start(ap, fmt);
	vsnprintf(d.msg, sizeof(d.msg), fmt, ap);
	va_end(ap);
	if (ld->problem)
		ld->problem(&d, ld->userdata);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static void waiver_release(struct waiver *w)
{
	free(w->key);
	free(w->pattern);
	pattern_free(w->pat);
	for (size_t i = 0; i < w->npins; i++) {
		free(w->pins[i].name);
		free(w->pins[i].value);
	}
	free(w->pins);
	free(w->reason);
	free(w->by);
	free(w->created);
}

void waiver_set_free(struct waiver_set *ws)
{
	if (!ws)
		return;
	for (size_t i = 0; i < ws->n; i++)
		waiver_release(&ws->v[i]);
	free(ws->v);
	free(ws->by_key);
	free(ws->patterns);
	free(ws->path);
	free(ws);
}

int waiver_set_empty(struct waiver_set **ret)
{
	struct waiver_set *ws = calloc(1, sizeof(*ws));

	if (!ws || !(ws->path = strdup(""))) {
		free(ws);
		return -ENOMEM;
	}
	ws->now = (int64_t)time(NULL);
	*ret = ws;
	return 0;
}

/* "YYYY-MM-DD" into the UTC midnight that starts it; -EINVAL when it is no date. */
static int parse_date(const char *s, int64_t *ret)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int y, m, d;
	struct tm tm = { 0 };
	time_t t;

	if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	for (int i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return -EINVAL;
	y = atoi(s);
	m = atoi(s + 5);
	d = atoi(s + 8);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
		return -EINVAL;
	if (m == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return -EINVAL;
	*ret = (int64_t)t;
	return 0;
}

int waive_parse_expiry(const char *text, time_t now, time_t *ret)
{
	int64_t t;

	if (text && text[0] == '+') {
		char *end;
		long days;

		errno = 0;
		days = strtol(text + 1, &end, 10);
		if (errno || end == text + 1 || strcmp(end, "d") || days < 0 || days > 36500)
			return -EINVAL;
		*ret = now + (time_t)days * 86400;
		return 0;
	}
	if (!text || parse_date(text, &t) < 0)
		return -EINVAL;
	*ret = (time_t)t;
	return 0;
}

static char *xstrdup(struct wloader *ld, const char *s)
{
	char *p = strdup(s);

	if (!p)
		ld->err = -ENOMEM;
	return p;
}

static void load_pin(struct wloader *ld, struct waiver *w, const yaml_node_t *n)
{
	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark, "'pin' must be a mapping of attribute names to values");
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);
		struct waiver_pin *pins;

		if (!scalar(k) || !scalar(v) || !*scalar(k)) {
			problem(ld, &k->start_mark, "a pin is 'name: value', both text");
			continue;
		}
		for (size_t i = 0; i < w->npins; i++)
			if (!strcmp(w->pins[i].name, scalar(k)))
				problem(ld, &k->start_mark, "'%s' is pinned twice", scalar(k));
		pins = realloc(w->pins, (w->npins + 1) * sizeof(*pins));
		if (!pins) {
			ld->err = -ENOMEM;
			return;
		}
		w->pins = pins;
		pins[w->npins].name = xstrdup(ld, scalar(k));
		pins[w->npins].value = xstrdup(ld, scalar(v));
		w->npins++;
	}
}

static void load_waiver(struct wloader *ld, const yaml_node_t *n)
{
	static const char *const keys[] = { "kind", "path",   "key",     "pattern", "change",
					    "pin",  "reason", "expires", "by",      "created" };
	struct waiver w = { .kind = ENTRY_FILE,
			    .line = (unsigned)n->start_mark.line + 1,
			    .col = (unsigned)n->start_mark.column + 1 };
	const yaml_node_t *pin = NULL;
	const char *path = NULL, *key = NULL;
	yaml_mark_t key_mark = n->start_mark;
	unsigned before = ld->nproblems;
	unsigned seen = 0; /* bit i: keys[i] was given (a second time is a problem) */
	struct waiver *v;

	if (n->type != YAML_MAPPING_NODE) {
		problem(ld, &n->start_mark,
			"a waiver is a mapping (kind, path, reason, expires...)");
		return;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(ld->doc, p->value);
		const char *name = scalar(k), *s = scalar(val);
		size_t i;

		for (i = 0; name && i < sizeof(keys) / sizeof(keys[0]); i++)
			if (!strcmp(name, keys[i]))
				break;
		if (!name || i == sizeof(keys) / sizeof(keys[0])) {
			problem(ld, &k->start_mark,
				"unknown key '%s' in a waiver (kind, path, key, pattern, change, "
				"pin, reason, expires, by, created)",
				name ? name : "?");
			continue;
		}
		/* As the policy: a key given twice is a problem, not "the last one wins". */
		if (seen & 1u << i) {
			problem(ld, &k->start_mark, "duplicate key '%s' in a waiver", name);
			continue;
		}
		seen |= 1u << i;
		if (!strcmp(name, "pin")) {
			pin = val;
			continue;
		}
		if (!s) {
			problem(ld, &val->start_mark, "'%s' must be text", name);
			continue;
		}
		if (!strcmp(name, "kind")) {
			if (entry_kind_parse(s, &w.kind) < 0)
				problem(ld, &val->start_mark,
					"unknown kind '%s' (file, package, user, group, service, "
					"sysctl, module, port, mount)",
					s);
		} else if (!strcmp(name, "path")) {
			path = s;
			key_mark = val->start_mark;
		} else if (!strcmp(name, "key")) {
			key = s;
			key_mark = val->start_mark;
		} else if (!strcmp(name, "pattern")) {
			const char *why = pattern_error(s);

			if (why)
				problem(ld, &val->start_mark, "bad pattern '%s': %s", s, why);
			else if (!(w.pattern = xstrdup(ld, s))) {
				waiver_release(&w);
				return;
			}
		} else if (!strcmp(name, "change")) {
			if (!strcmp(s, "added"))
				w.change = CHANGE_ADDED;
			else if (!strcmp(s, "removed"))
				w.change = CHANGE_REMOVED;
			else if (!strcmp(s, "modified"))
				w.change = CHANGE_MODIFIED;
			else
				problem(ld, &val->start_mark,
					"unknown change '%s' (added, removed, modified)", s);
			w.have_change = true;
		} else if (!strcmp(name, "reason")) {
			if (!*s)
				problem(ld, &val->start_mark, "'reason' is empty");
			else
				w.reason = xstrdup(ld, s);
		} else if (!strcmp(name, "expires")) {
			if (parse_date(s, &w.expires_at) < 0)
				problem(ld, &val->start_mark,
					"bad date '%s' for 'expires' (YYYY-MM-DD)", s);
			else {
				snprintf(w.expires, sizeof(w.expires), "%s", s);
				w.expires_at += 86400; /* valid through that day */
			}
		} else if (!strcmp(name, "by")) {
			w.by = xstrdup(ld, s);
		} else if (!strcmp(name, "created")) {
			w.created = xstrdup(ld, s);
		}
	}
	if (pin)
		load_pin(ld, &w, pin);
	if (path && key)
		problem(ld, &key_mark, "a waiver has 'path' or 'key', not both");
	else if (path && w.kind != ENTRY_FILE)
		problem(ld, &key_mark, "'path' is for files; a %s is named by 'key'",
			entry_kind_name(w.kind));
	else if (key && w.kind == ENTRY_FILE)
		problem(ld, &key_mark, "a file is named by 'path', not 'key'");
	else if ((path || key) && w.pattern)
		problem(ld, &key_mark, "a waiver has a path (or key) or a pattern, not both");
	else if (!path && !key && !w.pattern)
		problem(ld, &n->start_mark, "a waiver names what it waives: path, key or pattern");
	else if (path && path[0] != '/')
		problem(ld, &key_mark, "'path' must be absolute: '%s'", path);
	if (w.pattern && w.npins)
		problem(ld, &pin->start_mark,
			"a pattern cannot be pinned: pin a waiver of one path or key");
	if (!w.reason && ld->nproblems == before)
		problem(ld, &n->start_mark, "a waiver needs a 'reason'");
	if (!w.expires[0] && ld->nproblems == before)
		problem(ld, &n->start_mark, "a waiver needs 'expires' (YYYY-MM-DD)");
	if ((path || key) && !(w.key = xstrdup(ld, path ? path : key))) {
		waiver_release(&w);
		return;
	}
	if (ld->nproblems != before || ld->err) {
		waiver_release(&w);
		return;
	}
	if (w.pattern && pattern_new(w.pattern, &w.pat) < 0) {
		ld->err = -ENOMEM;
		waiver_release(&w);
		return;
	}
	v = realloc(ld->ws->v, (ld->ws->n + 1) * sizeof(*v));
	if (!v) {
		ld->err = -ENOMEM;
		waiver_release(&w);
		return;
	}
	ld->ws->v = v;
	v[ld->ws->n++] = w;
}

/* (kind, key) order of waivers, and of a waiver against an entry's (kind, key, len). */
static int key_cmp(enum entry_kind ka, const char *a, size_t alen, enum entry_kind kb,
		   const char *b, size_t blen)
{
	int c;

	if (ka != kb)
		return ka < kb ? -1 : 1;
	c = memcmp(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

static const struct waiver_set *sort_set; /* qsort() has no userdata; loading is not threaded */

static int by_key_cmp(const void *pa, const void *pb)
{
	const struct waiver *a = &sort_set->v[*(const size_t *)pa];
	const struct waiver *b = &sort_set->v[*(const size_t *)pb];
	int c = key_cmp(a->kind, a->key, strlen(a->key), b->kind, b->key, strlen(b->key));

	if (c)
		return c;
	return *(const size_t *)pa < *(const size_t *)pb ? -1 : 1; /* stable: file order */
}

static int index_build(struct waiver_set *ws)
{
	ws->by_key = calloc(ws->n ? ws->n : 1, sizeof(*ws->by_key));
	ws->patterns = calloc(ws->n ? ws->n : 1, sizeof(*ws->patterns));
	if (!ws->by_key || !ws->patterns)
		return -ENOMEM;
	for (size_t i = 0; i < ws->n; i++) {
		if (ws->v[i].key)
			ws->by_key[ws->nby_key++] = i;
		else
			ws->patterns[ws->npatterns++] = i;
	}
	sort_set = ws;
	qsort(ws->by_key, ws->nby_key, sizeof(*ws->by_key), by_key_cmp);
	sort_set = NULL;
	return 0;
}

static void yaml_problem(struct wloader *ld, const yaml_parser_t *parser)
{
	if (parser->error == YAML_MEMORY_ERROR) {
		ld->err = -ENOMEM;
		return;
	}
	if (parser->context)
		problem(ld, &parser->problem_mark, "invalid YAML: %s (%s at line %u)",
			parser->problem ? parser->problem : "syntax error", parser->context,
			(unsigned)parser->context_mark.line + 1);
	else
		problem(ld, &parser->problem_mark, "invalid YAML: %s",
			parser->problem ? parser->problem : "syntax error");
}

static void load_root(struct wloader *ld)
{
	const yaml_node_t *root = yaml_document_get_root_node(ld->doc), *list = NULL;

	if (!root)
		return; /* an empty file: no waivers */
	if (root->type != YAML_MAPPING_NODE) {
		problem(ld, &root->start_mark, "a waivers file is a mapping with a 'waivers' list");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(ld->doc, p->key);
		const yaml_node_t *v = yaml_document_get_node(ld->doc, p->value);

		if (!scalar(k) || strcmp(scalar(k), "waivers")) {
			problem(ld, &k->start_mark,
				"unknown key '%s' (a waivers file has 'waivers')",
				scalar(k) ? scalar(k) : "?");
			continue;
		}
		list = v;
	}
	if (!list)
		return;
	if (list->type == YAML_SCALAR_NODE && !*scalar(list))
		return; /* "waivers:" with nothing yet */
	if (list->type != YAML_SEQUENCE_NODE) {
		problem(ld, &list->start_mark, "'waivers' must be a list");
		return;
	}
	for (yaml_node_item_t *i = list->data.sequence.items.start;
	     i < list->data.sequence.items.top && !ld->err; i++)
		load_waiver(ld, yaml_document_get_node(ld->doc, *i));
}

int waiver_set_load_buffer(const char *name, const char *text, size_t len,
			   waiver_problem_fn *problem_fn, void *userdata, struct waiver_set **ret,
			   struct diag *reterr)
{
	struct wloader ld = { .name = name, .problem = problem_fn, .userdata = userdata };
	yaml_parser_t parser;
	yaml_document_t doc;
	int r;

	r = waiver_set_empty(&ld.ws);
	if (r < 0)
		return diag_set(reterr, r, "out of memory loading waivers '%s'", name);
	free(ld.ws->path);
	ld.ws->path = strdup(name);
	if (!ld.ws->path || !yaml_parser_initialize(&parser)) {
		waiver_set_free(ld.ws);
		return diag_set(reterr, -ENOMEM, "out of memory loading waivers '%s'", name);
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_problem(&ld, &parser);
	} else {
		ld.doc = &doc;
		load_root(&ld);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	if (ld.err < 0) {
		waiver_set_free(ld.ws);
		return diag_set(reterr, ld.err, "out of memory loading waivers '%s'", name);
	}
	if (ld.nproblems) {
		waiver_set_free(ld.ws);
		return diag_set(reterr, -EBADMSG, "%u problem%s in waivers '%s'", ld.nproblems,
				ld.nproblems == 1 ? "" : "s", name);
	}
	if (index_build(ld.ws) < 0) {
		waiver_set_free(ld.ws);
		return diag_set(reterr, -ENOMEM, "out of memory loading waivers '%s'", name);
	}
	*ret = ld.ws;
	return 0;
}

int waiver_set_load_file(const char *path, bool missing_ok, waiver_problem_fn *problem_fn,
			 void *userdata, struct waiver_set **ret, struct diag *reterr)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	char buf[65536];
	ssize_t n;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		if (errno == ENOENT && missing_ok)
			return waiver_set_empty(ret) < 0
				       ? diag_set(reterr, -ENOMEM, "out of memory")
				       : 0;
		r = -errno;
		return diag_set(reterr, r, "cannot open waivers '%s': %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return diag_set(reterr, -EINVAL, "cannot read waivers '%s': not a regular file",
				path);
	}
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sb.len + (size_t)n > WAIVERS_MAX_BYTES) {
			close(fd);
			strbuf_release(&sb);
			return diag_set(reterr, -EFBIG, "waivers '%s' is too large", path);
		}
		if (strbuf_add(&sb, buf, (size_t)n) < 0) {
			close(fd);
			strbuf_release(&sb);
			return diag_set(reterr, -ENOMEM, "out of memory");
		}
	}
	r = n < 0 ? -errno : 0;
	close(fd);
	if (r < 0) {
		strbuf_release(&sb);
		return diag_set(reterr, r, "cannot read waivers '%s': %s", path, strerror(-r));
	}
	r = waiver_set_load_buffer(path, sb.buf ? sb.buf : "", sb.len, problem_fn, userdata, ret,
				   reterr);
	strbuf_release(&sb);
	return r;
}

unsigned waiver_set_lint(const struct waiver_set *ws, waiver_problem_fn *problem_fn, void *userdata)
{
	unsigned n = 0;

	for (size_t i = 0; i < ws->n; i++) {
		const struct waiver *w = &ws->v[i];
		struct diag d = { .file = ws->path, .line = w->line, .col = w->col };

		if (w->expires_at > ws->now)
			continue;
		n++;
		snprintf(d.msg, sizeof(d.msg), "waiver of %s%s%s expired on %s",
			 w->kind == ENTRY_FILE ? "" : entry_kind_name(w->kind),
			 w->kind == ENTRY_FILE ? "" : ":", w->key ? w->key : w->pattern,
			 w->expires);
		if (problem_fn)
			problem_fn(&d, userdata);
	}
	return n;
}

/* ---- values and judgment ---- */

static int add_hex(struct strbuf *out, const uint8_t *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++)
		if (strbuf_addch(out, hex[p[i] >> 4]) < 0 || strbuf_addch(out, hex[p[i] & 15]) < 0)
			return -ENOMEM;
	return 0;
}

static int text_or_none(struct strbuf *out, const char *s)
{
	if (!s)
		return 0;
	return strbuf_adds(out, s) < 0 ? -ENOMEM : 1;
}

int waiver_value(const struct entry *e, const char *name, struct strbuf *out)
{
	int r = 0;

	strbuf_reset(out);
	if (!e)
		return 0;
	if (e->kind != ENTRY_FILE) {
		const uint8_t *val;
		size_t len;

		if (entry_xattrs_get(e->props, e->props_len, name, &val, &len) != 1)
			return 0;
		return strbuf_add(out, val, len) < 0 ? -ENOMEM : 1;
	}
	if (!strcmp(name, "type"))
		r = strbuf_adds(out, entry_type_name(e->mode));
	else if (!strcmp(name, "mode"))
		r = strbuf_addf(out, "%04" PRIo32, e->mode & 07777);
	else if (!strcmp(name, "uid"))
		r = strbuf_addf(out, "%" PRIu32, e->uid);
	else if (!strcmp(name, "gid"))
		r = strbuf_addf(out, "%" PRIu32, e->gid);
	else if (!strcmp(name, "size"))
		r = strbuf_addf(out, "%" PRIu64, e->size);
	else if (!strcmp(name, "mtime"))
		r = strbuf_addf(out, "%" PRId64, e->mtime_ns);
	else if (!strcmp(name, "ctime"))
		r = strbuf_addf(out, "%" PRId64, e->ctime_ns);
	else if (!strcmp(name, "inode"))
		r = strbuf_addf(out, "%" PRIu64, e->ino);
	else if (!strcmp(name, "device"))
		r = strbuf_addf(out, "%" PRIu64, e->dev);
	else if (!strcmp(name, "rdev"))
		r = strbuf_addf(out, "%" PRIu64, e->rdev);
	else if (!strcmp(name, "nlink"))
		r = strbuf_addf(out, "%" PRIu64, e->nlink);
	else if (!strcmp(name, "target"))
		return e->target ? (strbuf_add(out, e->target, e->target_len) < 0 ? -ENOMEM : 1)
				 : 0;
	else if (!strcmp(name, "hash"))
		return e->hash_algo == HASH_NONE || !e->hash_len ? 0
		       : add_hex(out, e->hash, e->hash_len) < 0  ? -ENOMEM
								 : 1;
	else if (!strcmp(name, "xattrs"))
		return e->xattrs_len ? (add_hex(out, e->xattrs, e->xattrs_len) < 0 ? -ENOMEM : 1)
				     : 0;
	else if (!strcmp(name, "acl"))
		return text_or_none(out, e->acl);
	else if (!strcmp(name, "caps"))
		return text_or_none(out, e->caps);
	else if (!strcmp(name, "selinux"))
		return text_or_none(out, e->selinux);
	else if (!strcmp(name, "mime"))
		return text_or_none(out, e->mime);
	else
		return 0;
	return r < 0 ? -ENOMEM : 1;
}

const char *waiver_state_name(enum waiver_state s)
{
	switch (s) {
	case WAIVER_ACTIVE:
		return "active";
	case WAIVER_EXPIRED:
		return "expired";
	case WAIVER_LAPSED:
		return "lapsed";
	case WAIVER_NO_MATCH:
		break;
	}
	return "-";
}

/* Whether @w names the entry @e (kind, and key or pattern). */
static bool waiver_names(const struct waiver *w, const struct entry *e)
{
	if (w->kind != e->kind)
		return false;
	if (w->pat)
		return pattern_match(w->pat, e->key, e->key_len);
	if (strlen(w->key) == e->key_len && !memcmp(w->key, e->key, e->key_len))
		return true;
	/* A package named without its architecture: "openssl" for "openssl:amd64". */
	if (e->kind == ENTRY_PACKAGE && !strchr(w->key, ':')) {
		size_t n = strlen(w->key);

		return e->key_len > n && e->key[n] == ':' && !memcmp(w->key, e->key, n);
	}
	return false;
}

static bool pinned(const struct waiver *w, const char *name)
{
	for (size_t i = 0; i < w->npins; i++)
		if (!strcmp(w->pins[i].name, name))
			return true;
	return false;
}

/*
 * The names of the properties that differ between @a and @b (either may be
 * NULL): @fn for each; stops at a nonzero return.
 */
static int props_changed(const struct entry *a, const struct entry *b,
			 int (*fn)(const char *name, void *userdata), void *userdata)
{
	const struct entry *sides[2] = { a, b };
	char name[256];

	for (int s = 0; s < 2; s++) {
		const struct entry *e = sides[s], *o = sides[1 - s];
		size_t pos = 0, nl, vl;
		const char *n;
		const uint8_t *v;

		if (!e)
			continue;
		while (entry_xattrs_next(e->props, e->props_len, &pos, &n, &nl, &v, &vl) > 0) {
			const uint8_t *ov;
			size_t ol;
			int r;

			if (nl >= sizeof(name))
				continue;
			memcpy(name, n, nl);
			name[nl] = '\0';
			if (o && entry_xattrs_get(o->props, o->props_len, name, &ov, &ol) == 1) {
				if (s == 1 || (ol == vl && !memcmp(ov, v, vl)))
					continue; /* same, or already seen from the first side */
			}
			r = fn(name, userdata);
			if (r)
				return r;
		}
	}
	return 0;
}

struct unpinned {
	const struct waiver *w;
	char *why;
	size_t size;
};

static int check_unpinned(const char *name, void *userdata)
{
	struct unpinned *u = userdata;

	if (pinned(u->w, name))
		return 0;
	if (u->why)
		snprintf(u->why, u->size, "%s changed since it was waived", name);
	return 1;
}

uint32_t waiver_pin_attrs(const struct finding *f)
{
	uint32_t a = f->changed;

	if (f->judged && (f->attrs & f->changed))
		a &= f->attrs;
	return a & ~ATTR_ERROR;
}

enum waiver_state waiver_judge(const struct waiver *w, const struct finding *f, int64_t now,
			       char *why, size_t why_size)
{
	const struct entry *e = f->after ? f->after : f->before;
	struct strbuf val = STRBUF_INIT;
	enum waiver_state st = WAIVER_ACTIVE;

	if (!e || !waiver_names(w, e) || (w->have_change && w->change != f->change))
		return WAIVER_NO_MATCH;
	if (w->expires_at <= now)
		return WAIVER_EXPIRED;
	/*
	 * Every pinned value, as the finding has it now; the content first, so
	 * that a rewrite says "hash changed" rather than "size changed".
	 */
	for (size_t pass = 0; pass < 2 && st == WAIVER_ACTIVE; pass++)
		for (size_t i = 0; i < w->npins && st == WAIVER_ACTIVE; i++) {
			int r;

			if ((pass == 0) != !strcmp(w->pins[i].name, "hash"))
				continue;
			r = waiver_value(f->after, w->pins[i].name, &val);
			/* An absent value is pinned as "" (an ACL that was removed). */
			if (r >= 0 && !strcmp(r == 1 ? val.buf : "", w->pins[i].value))
				continue;
			st = WAIVER_LAPSED;
			if (!why)
				break;
			if (e->kind == ENTRY_PACKAGE && !strcmp(w->pins[i].name, "version"))
				snprintf(why, why_size, "package %s since it was waived (%s -> %s)",
					 r == 1 ? "upgraded" : "removed", w->pins[i].value,
					 r == 1 ? val.buf : "none");
			else
				snprintf(why, why_size, "%s changed since it was waived",
					 w->pins[i].name);
		}
	strbuf_release(&val);
	if (st != WAIVER_ACTIVE || !w->npins || f->change != CHANGE_MODIFIED)
		return st;
	/* What changes now and the pin does not cover is a change since. */
	for (unsigned b = 0; b < ATTR__COUNT; b++) {
		enum entry_attr a = (enum entry_attr)(1u << b);
		struct unpinned u = { w, why, why_size };

		if (!(waiver_pin_attrs(f) & a))
			continue;
		if (a == ATTR_PROPS) {
			if (props_changed(f->before, f->after, check_unpinned, &u))
				return WAIVER_LAPSED;
		} else if (entry_attr_name(a) && check_unpinned(entry_attr_name(a), &u)) {
			return WAIVER_LAPSED;
		}
	}
	return st;
}

/* @fn(i) for every waiver of key (@kind, @key, @len), by binary search. */
static void key_range(const struct waiver_set *ws, enum entry_kind kind, const char *key,
		      size_t len, void (*fn)(size_t i, void *userdata), void *userdata)
{
	size_t lo = 0, hi = ws->nby_key;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct waiver *w = &ws->v[ws->by_key[mid]];

		if (key_cmp(w->kind, w->key, strlen(w->key), kind, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < ws->nby_key; lo++) {
		const struct waiver *w = &ws->v[ws->by_key[lo]];

		if (key_cmp(w->kind, w->key, strlen(w->key), kind, key, len))
			break;
		fn(ws->by_key[lo], userdata);
	}
}

void waiver_set_each_candidate(const struct waiver_set *ws, const struct entry *e,
			       void (*fn)(size_t i, void *userdata), void *userdata)
{
	const char *colon = e->kind == ENTRY_PACKAGE ? memchr(e->key, ':', e->key_len) : NULL;

	key_range(ws, e->kind, e->key, e->key_len, fn, userdata);
	if (colon)
		key_range(ws, e->kind, e->key, (size_t)(colon - e->key), fn, userdata);
	for (size_t k = 0; k < ws->npatterns; k++)
		fn(ws->patterns[k], userdata);
}

struct pick {
	const struct waiver_set *ws;
	const struct finding *f;
	size_t active, other; /* the smallest index active, and of the others that matched */
};

static void pick_one(size_t i, void *userdata)
{
	struct pick *p = userdata;
	enum waiver_state s = waiver_judge(&p->ws->v[i], p->f, p->ws->now, NULL, 0);

	if (s == WAIVER_ACTIVE && i < p->active)
		p->active = i;
	else if (s != WAIVER_ACTIVE && s != WAIVER_NO_MATCH && i < p->other)
		p->other = i;
}

enum waiver_state waiver_apply(const struct waiver_set *ws, struct finding *f, char *buf,
			       size_t size)
{
	const struct entry *e = f->after ? f->after : f->before;
	struct pick p = { .ws = ws, .f = f, .active = SIZE_MAX, .other = SIZE_MAX };
	const struct waiver *w;
	enum waiver_state s;
	const char *sep;
	char why[160] = "";

	if (!ws || !f->judged || (f->class != CLASS_DRIFT && f->class != CLASS_VIOLATION) ||
	    f->novelty == NOVELTY_RESOLVED || !e)
		return WAIVER_NO_MATCH;
	/*
	 * The candidates: the waivers of its exact key (and of a package's name
	 * without its architecture), and every pattern. The first active one
	 * in file order waives it; else the first that matched says why not.
	 */
	waiver_set_each_candidate(ws, e, pick_one, &p);
	if (p.active == SIZE_MAX && p.other == SIZE_MAX)
		return WAIVER_NO_MATCH;
	w = &ws->v[p.active != SIZE_MAX ? p.active : p.other];
	s = waiver_judge(w, f, ws->now, why, sizeof(why));
	sep = f->reason && *f->reason ? "; " : "";
	if (s == WAIVER_ACTIVE) {
		snprintf(buf, size, "waived until %s%s%s: %s%s%s", w->expires, w->by ? " by " : "",
			 w->by ? w->by : "", w->reason, sep, f->reason ? f->reason : "");
		f->class = CLASS_WAIVED;
		f->counts = false;
	} else if (s == WAIVER_EXPIRED) {
		snprintf(buf, size, "%s%swaiver expired on %s", f->reason ? f->reason : "", sep,
			 w->expires);
	} else {
		snprintf(buf, size, "%s%swaiver lapsed: %s", f->reason ? f->reason : "", sep, why);
	}
	f->reason = buf;
	return s;
}
