/*
 * Writing waivers for the findings of a stored run, and the state of each
 * waiver against one (waive.h).
 *
 *     waive_findings()
 *       compare_replay()    the run's findings, their sides from its snapshots
 *       compose()           one YAML entry per finding named, pinned to its new values
 *       append_plan()       where the file takes entries (its 'waivers' list)
 *       write_atomic()      old bytes + new entries, fsync, rename
 */
#include "compare/waive.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "compare/internal.h"
#include "common/banned.h"

/* One KEY of the command line. */
struct wkey {
	enum entry_kind kind;
	const char *key; /* borrowed: into the argument */
	const char *arg; /* the argument, for messages */
	size_t found;    /* findings it named */
};

struct waive_ctx {
	struct wkey *keys;
	size_t nkeys;
	const char *reason, *who;
	char expires[16], created[32];
	struct strbuf *text; /* the new entries */
	struct strbuf val;
	int err;
	struct diag *reterr;
};

/* Whether @s (@len bytes) is valid UTF-8. */
static bool utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;

	while (p < end) {
		unsigned n;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			n = 1;
		else if ((*p & 0xf0) == 0xe0)
			n = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			n = 3;
		else
			return false;
		if ((size_t)(end - p) <= n)
			return false;
		for (unsigned i = 1; i <= n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return false;
		p += n + 1;
	}
	return true;
}

/* @s as a YAML double-quoted scalar; -EINVAL when it is not UTF-8. */
static int add_quoted(struct strbuf *out, const char *s, size_t len)
{
	if (!utf8_valid(s, len))
		return -EINVAL;
	if (strbuf_addch(out, '"') < 0)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int r;

		if (c == '"' || c == '\\')
			r = strbuf_addf(out, "\\%c", c);
		else if (c == '\n')
			r = strbuf_adds(out, "\\n");
		else if (c == '\t')
			r = strbuf_adds(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			r = strbuf_addf(out, "\\x%02x", c);
		else
			r = strbuf_addch(out, (char)c);
		if (r < 0)
			return -ENOMEM;
	}
	return strbuf_addch(out, '"') < 0 ? -ENOMEM : 0;
}

/* (kind, key) order of the keys, and of a key against (@kind, @key, @len). */
static int wkey_cmp_to(const struct wkey *k, enum entry_kind kind, const char *key, size_t len)
{
	size_t n = strlen(k->key);
	int c;

	if (k->kind != kind)
		return k->kind < kind ? -1 : 1;
	c = memcmp(k->key, key, n < len ? n : len);
	if (c)
		return c;
	return n < len ? -1 : n > len;
}

static int wkey_cmp(const void *a, const void *b)
{
	const struct wkey *kb = b;

	return wkey_cmp_to(a, kb->kind, kb->key, strlen(kb->key));
}

/*
 * Mark the keys (sorted) equal to (@kind, @key, @len) found; whether there
 * was any. A key given twice names the same finding once.
 */
static bool mark_found(struct waive_ctx *c, enum entry_kind kind, const char *key, size_t len)
{
	size_t lo = 0, hi = c->nkeys;
	bool any = false;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (wkey_cmp_to(&c->keys[mid], kind, key, len) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < c->nkeys && !wkey_cmp_to(&c->keys[lo], kind, key, len); lo++) {
		c->keys[lo].found++;
		any = true;
	}
	return any;
}

/* "  pin:\n" once, then "    NAME: \"VALUE\"\n"; @any says whether the header is out. */
static int add_pin(struct waive_ctx *c, const struct entry *e, const char *name, bool *any)
{
	int r = waiver_value(e, name, &c->val);

	if (r < 0)
		return r;
	if (!*any && strbuf_adds(c->text, "    pin:\n") < 0)
		return -ENOMEM;
	*any = true;
	if (strbuf_addf(c->text, "      %s: ", name) < 0)
		return -ENOMEM;
	r = add_quoted(c->text, r == 1 ? c->val.buf : "", r == 1 ? c->val.len : 0);
	if (r < 0)
		return r;
	return strbuf_addch(c->text, '\n') < 0 ? -ENOMEM : 0;
}

/* The pin of @f: see waive_findings(). */
static int compose_pin(struct waive_ctx *c, const struct finding *f)
{
	static const char *const added_file[] = { "type", "mode", "uid", "gid", "hash", "target" };
	const struct entry *e = f->after;
	bool any = false;
	int r = 0;

	if (f->change == CHANGE_REMOVED || !e)
		return 0;
	if (e->kind != ENTRY_FILE) {
		/* Every property of an added entry, the changed ones of a modified one. */
		size_t pos = 0, nl, vl;
		const char *n;
		const uint8_t *v;
		char name[256];

		while (r >= 0 &&
		       entry_xattrs_next(e->props, e->props_len, &pos, &n, &nl, &v, &vl) > 0) {
			const uint8_t *ov;
			size_t ol;

			if (nl >= sizeof(name))
				continue;
			memcpy(name, n, nl);
			name[nl] = '\0';
			if (f->change == CHANGE_MODIFIED && f->before &&
			    entry_xattrs_get(f->before->props, f->before->props_len, name, &ov,
					     &ol) == 1 &&
			    ol == vl && !memcmp(ov, v, vl))
				continue;
			r = add_pin(c, e, name, &any);
		}
		/*
		 * A property the new side dropped is pinned as absent: found from the
		 * old side.
		 */
		pos = 0;
		while (r >= 0 && f->change == CHANGE_MODIFIED && f->before &&
		       entry_xattrs_next(f->before->props, f->before->props_len, &pos, &n, &nl, &v,
					 &vl) > 0) {
			const uint8_t *nv;
			size_t nvl;

			if (nl >= sizeof(name))
				continue;
			memcpy(name, n, nl);
			name[nl] = '\0';
			if (entry_xattrs_get(e->props, e->props_len, name, &nv, &nvl) != 1)
				r = add_pin(c, e, name, &any);
		}
		return r;
	}
	if (f->change == CHANGE_ADDED) {
		for (size_t i = 0; r >= 0 && i < sizeof(added_file) / sizeof(added_file[0]); i++) {
			if (!strcmp(added_file[i], "target") && !e->target)
				continue;
			if (!strcmp(added_file[i], "hash") && e->hash_algo == HASH_NONE)
				continue;
			r = add_pin(c, e, added_file[i], &any);
		}
		return r;
	}
	for (unsigned b = 0; r >= 0 && b < ATTR__COUNT; b++) {
		enum entry_attr a = (enum entry_attr)(1u << b);

		if ((waiver_pin_attrs(f) & a) && a != ATTR_PROPS && entry_attr_name(a))
			r = add_pin(c, e, entry_attr_name(a), &any);
	}
	return r;
}

/* One entry for finding @f into c->text. */
static int compose(struct waive_ctx *c, const struct finding *f)
{
	const struct entry *e = f->after ? f->after : f->before;
	int r;

	if (strbuf_addf(c->text, "  - kind: %s\n    %s: ", entry_kind_name(e->kind),
			e->kind == ENTRY_FILE ? "path" : "key") < 0)
		return -ENOMEM;
	r = add_quoted(c->text, e->key, e->key_len);
	if (r == -EINVAL)
		return diag_set(c->reterr, r,
				"cannot waive '%.*s': drift writes waivers of UTF-8 names only",
				(int)e->key_len, e->key);
	if (r < 0 || strbuf_addf(c->text, "\n    change: %s\n", change_name(f->change)) < 0)
		return -ENOMEM;
	r = compose_pin(c, f);
	if (r == -EINVAL)
		return diag_set(c->reterr, r, "cannot waive '%.*s': a value to pin is not UTF-8",
				(int)e->key_len, e->key);
	if (r < 0 || strbuf_adds(c->text, "    reason: ") < 0 ||
	    add_quoted(c->text, c->reason, strlen(c->reason)) < 0 ||
	    strbuf_addf(c->text, "\n    expires: %s\n", c->expires) < 0)
		return -ENOMEM;
	if (c->who &&
	    (strbuf_adds(c->text, "    by: ") < 0 ||
	     add_quoted(c->text, c->who, strlen(c->who)) < 0 || strbuf_addch(c->text, '\n') < 0))
		return -ENOMEM;
	return strbuf_addf(c->text, "    created: %s\n", c->created) < 0 ? -ENOMEM : 0;
}

static int on_finding(const struct finding *f, void *userdata)
{
	struct waive_ctx *c = userdata;
	const struct entry *e = f->after ? f->after : f->before;

	const char *colon;
	bool named;

	if (!e)
		return 0;
	named = mark_found(c, e->kind, e->key, e->key_len);
	/* A package named without its architecture: "openssl" for "openssl:amd64". */
	colon = e->kind == ENTRY_PACKAGE ? memchr(e->key, ':', e->key_len) : NULL;
	if (colon && mark_found(c, e->kind, e->key, (size_t)(colon - e->key)))
		named = true;
	if (!named)
		return 0;
	c->err = compose(c, f);
	return c->err < 0 ? c->err : 0;
}

/* "KIND:KEY" or "/path" into @k; -EINVAL with a message. */
static int parse_key(const char *s, struct wkey *k, struct diag *reterr)
{
	const char *colon = strchr(s, ':');
	char kind[32];

	if (s[0] == '/') {
		*k = (struct wkey){ .kind = ENTRY_FILE, .key = s };
		return 0;
	}
	if (colon && (size_t)(colon - s) < sizeof(kind)) {
		memcpy(kind, s, (size_t)(colon - s));
		kind[colon - s] = '\0';
		if (entry_kind_parse(kind, &k->kind) == 0 && colon[1]) {
			k->key = colon + 1;
			k->found = 0;
			if (k->kind == ENTRY_FILE && k->key[0] != '/')
				return diag_set(reterr, -EINVAL, "'%s': a file is an absolute path",
						s);
			return 0;
		}
	}
	return diag_set(reterr, -EINVAL,
			"'%s' names no finding: a file's absolute path, or KIND:KEY "
			"(package:openssl, sysctl:vm.swappiness)",
			s);
}

/*
 * Where the file at @text takes new entries: *ret_head is what goes before
 * them ("waivers:\n" for a file without the list, "\n" when the file does
 * not end in one), *ret_indent the column of the list's dashes. -EBADMSG
 * when the list is not a block list that ends the file.
 */
static int append_plan(const char *name, const char *text, size_t len, struct strbuf *head,
		       unsigned *ret_indent, struct diag *reterr)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	const yaml_node_t *root, *list = NULL;
	bool last = false;
	int r = 0;

	*ret_indent = 2;
	if (len && text[len - 1] != '\n' && strbuf_addch(head, '\n') < 0)
		return -ENOMEM;
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_parser_delete(&parser);
		return diag_set(reterr, -EBADMSG, "waivers '%s' is not valid YAML", name);
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		r = strbuf_adds(head, "waivers:\n") < 0 ? -ENOMEM : 0;
		goto out;
	}
	if (root->type == YAML_MAPPING_NODE) {
		for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
		     p < root->data.mapping.pairs.top; p++) {
			const yaml_node_t *k = yaml_document_get_node(&doc, p->key);

			if (k->type == YAML_SCALAR_NODE &&
			    !strcmp((const char *)k->data.scalar.value, "waivers")) {
				list = yaml_document_get_node(&doc, p->value);
				last = p + 1 == root->data.mapping.pairs.top;
			}
		}
	}
	if (!list || !last || root->data.mapping.style == YAML_FLOW_MAPPING_STYLE ||
	    (list->type == YAML_SEQUENCE_NODE &&
	     list->data.sequence.style == YAML_FLOW_SEQUENCE_STYLE) ||
	    (list->type == YAML_SCALAR_NODE && list->data.scalar.length) ||
	    list->type == YAML_MAPPING_NODE) {
		r = diag_set(reterr, -EBADMSG,
			     "cannot append to waivers '%s': drift appends to a 'waivers:' block "
			     "list that ends the file",
			     name);
		goto out;
	}
	if (list->type == YAML_SEQUENCE_NODE)
		*ret_indent = (unsigned)list->start_mark.column;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return r;
}

/* The directory of @path into @dir, created as mkdir -p would. */
static int make_dir_of(const char *path, struct strbuf *dir, struct diag *reterr)
{
	const char *slash = strrchr(path, '/');

	if (strbuf_adds(dir, slash ? (slash == path ? "/" : "") : ".") < 0 ||
	    (slash && slash != path && strbuf_add(dir, path, (size_t)(slash - path)) < 0))
		return -ENOMEM;
	for (size_t i = 1; i <= dir->len; i++) {
		if (i < dir->len && dir->buf[i] != '/')
			continue;
		dir->buf[i] = '\0';
		if (mkdir(dir->buf, 0755) < 0 && errno != EEXIST)
			return diag_set(reterr, -errno, "cannot create '%s': %s", dir->buf,
					strerror(errno));
		if (i < dir->len)
			dir->buf[i] = '/';
	}
	return 0;
}

/*
 * Hold the waivers of @path for one read-modify-write: an exclusive lock
 * on its directory (the file itself is replaced by rename, so a lock on it
 * would not hold), so that two `drift waive` never lose each other's
 * entries. Returns the locked fd (close() releases it) or a negative errno.
 */
static int lock_dir_of(const char *path, struct diag *reterr)
{
	struct strbuf dir = STRBUF_INIT;
	int fd, r = make_dir_of(path, &dir, reterr);

	if (r < 0) {
		strbuf_release(&dir);
		return r;
	}
	fd = open(dir.buf, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		r = diag_set(reterr, -errno, "cannot open '%s': %s", dir.buf, strerror(errno));
	else if (flock(fd, LOCK_EX) < 0) {
		r = diag_set(reterr, -errno, "cannot lock '%s': %s", dir.buf, strerror(errno));
		close(fd);
	}
	strbuf_release(&dir);
	return r < 0 ? r : fd;
}

/* Write @data to @path through a temporary file beside it, fsync()ed, renamed. */
static int write_atomic(const char *path, const struct strbuf *data, struct diag *reterr)
{
	struct strbuf tmp = STRBUF_INIT, dir = STRBUF_INIT;
	mode_t mode = 0644;
	struct stat st;
	int fd = -1, r;

	r = make_dir_of(path, &dir, reterr);
	if (r == 0 && strbuf_addf(&tmp, "%s.XXXXXX", path) < 0)
		r = -ENOMEM;
	if (r < 0)
		goto out;
	if (stat(path, &st) == 0)
		mode = st.st_mode & 07777;
	fd = mkstemp(tmp.buf);
	if (fd < 0) {
		r = diag_set(reterr, -errno, "cannot write waivers '%s': %s", path,
			     strerror(errno));
		goto out;
	}
	for (size_t off = 0; off < data->len;) {
		ssize_t n = write(fd, data->buf + off, data->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		off += (size_t)n;
	}
	if (r == 0 && fchmod(fd, mode) < 0)
		r = -errno;
	if (r == 0 && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	fd = -1;
	if (r == 0 && rename(tmp.buf, path) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp.buf);
		r = diag_set(reterr, r, "cannot write waivers '%s': %s", path, strerror(-r));
		goto out;
	}
	fd = open(dir.len ? dir.buf : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
out:
	strbuf_release(&tmp);
	strbuf_release(&dir);
	return r;
}

/* The whole file at @path into @out; a missing one is empty. */
static int read_all(const char *path, struct strbuf *out, struct diag *reterr)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return errno == ENOENT ? 0
				       : diag_set(reterr, -errno, "cannot open waivers '%s': %s",
						  path, strerror(errno));
	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || strbuf_add(out, buf, (size_t)n) < 0) {
			int r = n < 0 ? -errno : -ENOMEM;

			close(fd);
			return diag_set(reterr, r, "cannot read waivers '%s': %s", path,
					strerror(-r));
		}
	}
	close(fd);
	return 0;
}

static void count_problem(const struct diag *d, void *userdata)
{
	struct diag *first = userdata;

	if (!first->msg[0])
		*first = *d;
}

/* Indent every line of @entries by @indent - 2 more columns (they are written at 2). */
static int reindent(struct strbuf *out, const struct strbuf *entries, unsigned indent)
{
	for (size_t i = 0; i < entries->len; i++) {
		bool bol = i == 0 || entries->buf[i - 1] == '\n';

		if (bol) {
			/* The entries are composed with two columns before the dash. */
			i += 2;
			for (unsigned k = 0; k < indent; k++)
				if (strbuf_addch(out, ' ') < 0)
					return -ENOMEM;
		}
		if (strbuf_addch(out, entries->buf[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

int waive_findings(struct snap_store *st, int64_t run_id, const char *const *keys, size_t nkeys,
		   const char *reason, time_t expires, const char *who, const char *waivers_path,
		   unsigned flags, struct strbuf *ret_text, struct diag *reterr)
{
	struct waive_ctx c = { .reason = reason, .who = who, .reterr = reterr };
	struct strbuf entries = STRBUF_INIT, file = STRBUF_INIT, head = STRBUF_INIT;
	struct snap_run_info run = { 0 };
	struct compare_sink sink = { .finding = on_finding, .userdata = &c };
	struct waiver_set *ws = NULL;
	struct diag first = { 0 };
	time_t now = time(NULL);
	struct tm tm;
	unsigned indent;
	size_t total = 0;
	int r, lockfd = -1;

	if (!reason || !*reason)
		return diag_set(reterr, -EINVAL, "a waiver needs a reason");
	if (!nkeys)
		return diag_set(reterr, -EINVAL, "name the findings to waive");
	if (!waivers_path || !*waivers_path)
		return diag_set(reterr, -EINVAL, "no waivers file to write");
	c.keys = calloc(nkeys, sizeof(*c.keys));
	if (!c.keys)
		return diag_set(reterr, -ENOMEM, "out of memory");
	c.nkeys = nkeys;
	c.text = &entries;
	strbuf_init(&c.val);
	for (size_t i = 0; i < nkeys; i++) {
		r = parse_key(keys[i], &c.keys[i], reterr);
		if (r < 0)
			goto out;
		c.keys[i].arg = keys[i];
	}
	qsort(c.keys, nkeys, sizeof(*c.keys), wkey_cmp);
	if (!gmtime_r(&expires, &tm) || !strftime(c.expires, sizeof(c.expires), "%Y-%m-%d", &tm) ||
	    !gmtime_r(&now, &tm) ||
	    !strftime(c.created, sizeof(c.created), "%Y-%m-%dT%H:%M:%SZ", &tm)) {
		r = diag_set(reterr, -EINVAL, "bad expiry time");
		goto out;
	}

	/* The file must be valid before anything is added to it. */
	r = waiver_set_load_file(waivers_path, true, count_problem, &first, &ws, reterr);
	if (r == -EBADMSG && first.msg[0])
		r = diag_set(reterr, r, "%s:%u:%u: %s", waivers_path, first.line, first.col,
			     first.msg);
	if (r < 0)
		goto out;

	r = snap_run_get(st, run_id, &run, reterr);
	if (r < 0)
		goto out;
	r = compare_replay(st, &run, &sink, reterr);
	if (c.err < 0)
		r = c.err;
	if (r < 0)
		goto out;
	for (size_t i = 0; i < nkeys; i++) {
		if (!c.keys[i].found) {
			r = diag_set(reterr, -ENOENT, "'%s' is not a finding of run #%lld",
				     c.keys[i].arg, (long long)run.id);
			goto out;
		}
		total += c.keys[i].found;
	}

	/* Nobody else appends between the read and the rename (the first
	 * load only validated the file). */
	if (!(flags & WAIVE_DRY_RUN)) {
		lockfd = lock_dir_of(waivers_path, reterr);
		if (lockfd < 0) {
			r = lockfd;
			goto out;
		}
	}
	r = read_all(waivers_path, &file, reterr);
	if (r < 0)
		goto out;
	r = append_plan(waivers_path, file.buf ? file.buf : "", file.len, &head, &indent, reterr);
	if (r < 0)
		goto out;
	if (ret_text && strbuf_add(ret_text, entries.buf, entries.len) < 0) {
		r = -ENOMEM;
		goto out;
	}
	if (strbuf_add(&file, head.buf, head.len) < 0 || reindent(&file, &entries, indent) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* What is written must load: a last check before it replaces the file. */
	waiver_set_free(ws);
	ws = NULL;
	memset(&first, 0, sizeof(first));
	r = waiver_set_load_buffer(waivers_path, file.buf, file.len, count_problem, &first, &ws,
				   reterr);
	if (r == -ENOMEM) {
		r = diag_set(reterr, r, "out of memory");
		goto out;
	}
	if (r < 0) {
		r = diag_set(reterr, -EPROTO,
			     "internal error: the waivers composed do not load: %s", first.msg);
		goto out;
	}
	if (!(flags & WAIVE_DRY_RUN)) {
		r = write_atomic(waivers_path, &file, reterr);
		if (r < 0)
			goto out;
	}
	r = (int)total;
out:
	if (r == -ENOMEM)
		diag_set(reterr, r, "out of memory");
	waiver_set_free(ws);
	snap_run_info_release(&run);
	strbuf_release(&c.val);
	strbuf_release(&entries);
	strbuf_release(&file);
	strbuf_release(&head);
	free(c.keys);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

struct states_ctx {
	const struct waiver_set *ws;
	enum waiver_state *states;
};

struct states_one {
	struct states_ctx *c;
	const struct finding *f;
};

static void states_waiver(size_t i, void *userdata)
{
	struct states_one *o = userdata;
	enum waiver_state s = waiver_judge(&o->c->ws->v[i], o->f, o->c->ws->now, NULL, 0);

	/* Lapsed for one finding is lapsed; active needs a match. */
	if (s != WAIVER_NO_MATCH && o->c->states[i] != WAIVER_LAPSED)
		o->c->states[i] = s;
}

static int states_finding(const struct finding *f, void *userdata)
{
	struct states_one o = { userdata, f };
	const struct entry *e = f->after ? f->after : f->before;

	if (e)
		waiver_set_each_candidate(o.c->ws, e, states_waiver, &o);
	return 0;
}

int waiver_set_states(struct snap_store *st, int64_t run_id, const struct waiver_set *ws,
		      enum waiver_state *ret_states, struct diag *reterr)
{
	struct states_ctx c = { .ws = ws, .states = ret_states };
	struct compare_sink sink = { .finding = states_finding, .userdata = &c };
	struct snap_run_info run = { 0 };
	int r = 0;

	for (size_t i = 0; i < ws->n; i++)
		ret_states[i] = WAIVER_NO_MATCH;
	if (st) {
		r = snap_run_get(st, run_id, &run, reterr);
		if (r >= 0)
			r = compare_replay(st, &run, &sink, reterr);
		snap_run_info_release(&run);
	}
	for (size_t i = 0; i < ws->n; i++)
		if (ret_states[i] == WAIVER_NO_MATCH)
			ret_states[i] =
				ws->v[i].expires_at <= ws->now ? WAIVER_EXPIRED : WAIVER_ACTIVE;
	return r < 0 ? r : 0;
}
