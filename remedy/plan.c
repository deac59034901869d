/*
 * Plans: what drift remedy would do for the findings of a stored run, and
 * the plan file that saves it.
 *
 * Judgment is the run's: a finding is remedied when the run classified it
 * drift (or a violation) and its rule, as recorded with the run, says
 * `remediate: plan` or `auto`. What a package transaction explains (the
 * finding's package changed version) is never reverted: that is an
 * upgrade, not drift.
 *
 * The step per finding:
 *   file added                      quarantine
 *   file removed                    create (regular: from kept content or
 *                                   its package's .deb)
 *   file of another type            quarantine, then create
 *   symlink target changed          restore the target
 *   content (hash, size) changed    restore the content, and the metadata
 *   metadata changed                restore mode, owner, mtime, ACLs...
 *   sysctl changed                  write the baseline's value
 *   package, service, account,      the command for an operator
 *   module, port, mount
 * and a step "cannot" with the reason where nothing can restore it.
 */
#include "remedy/internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "compare/compare.h"
#include "common/banned.h"

/* The metadata attributes a META step restores. */
#define META_ATTRS \
	(ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)

const char *remedy_action_name(enum remedy_action a)
{
	switch (a) {
	case REMEDY_META:
		return "restore-meta";
	case REMEDY_CONTENT:
		return "restore-content";
	case REMEDY_SYMLINK:
		return "restore-symlink";
	case REMEDY_CREATE:
		return "recreate";
	case REMEDY_QUARANTINE:
		return "quarantine";
	case REMEDY_SYSCTL:
		return "restore-sysctl";
	case REMEDY_COMMAND:
		return "command";
	case REMEDY_CANNOT:
		return "cannot";
	}
	return "?";
}

static int action_parse(const char *s, enum remedy_action *ret)
{
	for (int a = REMEDY_META; a <= REMEDY_CANNOT; a++)
		if (!strcmp(s, remedy_action_name((enum remedy_action)a))) {
			*ret = (enum remedy_action)a;
			return 0;
		}
	return -EINVAL;
}

static void step_release(struct remedy_step *s)
{
	free(s->key);
	free(s->package);
	free(s->version);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

void remedy_plan_release(struct remedy_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		step_release(&p->v[i]);
	free(p->v);
	memset(p, 0, sizeof(*p));
}

/* A new step at the end of @p for @key, zeroed but for kind and key. */
static struct remedy_step *step_add(struct remedy_plan *p, enum entry_kind kind, const char *key,
				    size_t key_len)
{
	struct remedy_step *s;

	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct remedy_step *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	s = &p->v[p->n];
	memset(s, 0, sizeof(*s));
	s->key = strndup(key, key_len);
	if (!s->key)
		return NULL;
	s->key_len = key_len;
	s->kind = kind;
	p->n++;
	return s;
}

static int step_text(struct remedy_step *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int step_text(struct remedy_step *s, const char *fmt, ...)
{
	struct strbuf sb = STRBUF_INIT;
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = strbuf_vaddf(&sb, fmt, ap);
	va_end(ap);
	if (r < 0) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	free(s->text);
	s->text = strbuf_detach(&sb, NULL);
	return 0;
}

/* ---- building ---- */

struct builder {
	struct snap_store *st;
	const struct snap_run_info *run;
	const struct remedy_select *sel;
	struct remedy_plan *p;
	struct diag *reterr;
	unsigned char *modes; /* per rule index: enum rule_remediate */
	size_t nmodes;
	struct compare_keys only; /* the selection, sorted by (kind, key) */
	bool *seen;               /* per selected key: matched a finding */
	struct snap_lookup *base; /* the baseline's entries */
	/* The last entry planned into the quarantine: what is below it goes with it. */
	const char *moved;
	size_t moved_len;
	int err;
};

static int collect_mode(int64_t n, const char *id, const char *title, const char *file,
			unsigned line, unsigned remediate, void *userdata)
{
	struct builder *b = userdata;
	unsigned char *m;

	if (n < 0 || (size_t)n != b->nmodes)
		return diag_set(b->reterr, -EPROTO, "run #%lld: its rules are damaged",
				(long long)b->run->id);
	m = realloc(b->modes, b->nmodes + 1);
	if (!m)
		return diag_set(b->reterr, -ENOMEM, "out of memory");
	b->modes = m;
	m[b->nmodes++] = remediate <= RULE_REMEDIATE_AUTO ? (unsigned char)remediate : 0;
	return 0;
}

static int key_cmp(const void *x, const void *y)
{
	const struct snap_accept_key *a = x, *c = y;

	if (a->kind != c->kind)
		return a->kind < c->kind ? -1 : 1;
	return snap_key_compare(a->key, a->key_len, c->key, c->key_len);
}

/* The index of the selected key @kind/@key, or -1. */
static ssize_t selected(const struct builder *b, enum entry_kind kind, const char *key, size_t len)
{
	struct snap_accept_key k = { kind, key, len };
	const struct snap_accept_key *hit;

	hit = bsearch(&k, b->only.v, b->only.n, sizeof(k), key_cmp);
	if (!hit && kind == ENTRY_PACKAGE) {
		/* "openssl" selects "openssl:amd64", as accept does. */
		const char *colon = memchr(key, ':', len);

		if (colon) {
			k.key_len = (size_t)(colon - key);
			hit = bsearch(&k, b->only.v, b->only.n, sizeof(k), key_cmp);
		}
	}
	return hit ? hit - b->only.v : -1;
}

/* "0644 root:root"-style text of what META restores, for people. */
static int meta_text(struct remedy_step *s, const struct entry *base)
{
	struct strbuf sb = STRBUF_INIT;
	int r = 0;

	if (s->attrs & ATTR_MODE)
		r = strbuf_addf(&sb, "mode %04o", base->mode & 07777);
	if (r >= 0 && (s->attrs & ATTR_UID))
		r = strbuf_addf(&sb, "%sowner %u", sb.len ? ", " : "", base->uid);
	if (r >= 0 && (s->attrs & ATTR_GID))
		r = strbuf_addf(&sb, "%sgroup %u", sb.len ? ", " : "", base->gid);
	if (r >= 0 && (s->attrs & ATTR_MTIME))
		r = strbuf_addf(&sb, "%smtime", sb.len ? ", " : "");
	if (r >= 0 && (s->attrs & ATTR_XATTRS))
		r = strbuf_addf(&sb, "%sxattrs", sb.len ? ", " : "");
	if (r >= 0 && (s->attrs & ATTR_ACL))
		r = strbuf_addf(&sb, "%sACL", sb.len ? ", " : "");
	if (r >= 0 && (s->attrs & ATTR_CAPS))
		r = strbuf_addf(&sb, "%scapabilities", sb.len ? ", " : "");
	if (r < 0) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	free(s->text);
	s->text = strbuf_detach(&sb, NULL);
	return 0;
}

/* Where the bytes of the baseline's regular file @base come from: kept content, else its
 * package's .deb, else nowhere (the step becomes "cannot"). */
static int content_source(struct builder *b, struct remedy_step *s, const struct entry *base)
{
	struct snap_owner owner;
	int r;

	if (base->has_content) {
		s->source = REMEDY_SOURCE_KEPT;
		return 0;
	}
	r = snap_owner_get(b->st, b->run->before, s->key, s->key_len, &owner, b->reterr);
	if (r < 0)
		return r;
	if (r > 0 && owner.has_md5) {
		s->source = REMEDY_SOURCE_DEB;
		if (asprintf(&s->package, "%s:%s", owner.name, owner.arch) < 0) {
			s->package = NULL;
			return -ENOMEM;
		}
		s->version = strdup(owner.version);
		return s->version ? 0 : -ENOMEM;
	}
	s->action = REMEDY_CANNOT;
	return step_text(s, "no kept content of it and no package ships it: restore it from a "
			    "backup (keep_content: true in the policy keeps small files)");
}

/* The steps for a file finding. */
static int plan_file(struct builder *b, const struct snap_run_row *row, enum rule_remediate mode)
{
	const struct entry *base = NULL;
	struct remedy_step *s;
	int r;

	if (row->change != CHANGE_ADDED) {
		r = snap_lookup_get(b->base, ENTRY_FILE, row->key, row->key_len, &base, b->reterr);
		if (r < 0)
			return r;
		if (r == 0)
			return diag_set(b->reterr, -EPROTO,
					"run #%lld: '%.*s' is not in its baseline #%lld",
					(long long)b->run->id, (int)row->key_len, row->key,
					(long long)b->run->before);
	}
	/* Below a directory that goes into the quarantine: it goes along. */
	if (b->moved && row->key_len > b->moved_len && row->key[b->moved_len] == '/' &&
	    !memcmp(row->key, b->moved, b->moved_len) && row->change == CHANGE_ADDED)
		return 0;
	/* Something else stands where the baseline had its entry: put it aside first. */
	if (row->change == CHANGE_ADDED ||
	    (row->change == CHANGE_MODIFIED && (row->changed & ATTR_TYPE))) {
		s = step_add(b->p, ENTRY_FILE, row->key, row->key_len);
		if (!s)
			return -ENOMEM;
		s->action = REMEDY_QUARANTINE;
		s->change = row->change;
		s->severity = row->severity;
		s->mode = mode;
		b->moved = s->key;
		b->moved_len = s->key_len;
		if (row->change == CHANGE_ADDED)
			return 0;
	}
	s = step_add(b->p, ENTRY_FILE, row->key, row->key_len);
	if (!s)
		return -ENOMEM;
	s->change = row->change;
	s->severity = row->severity;
	s->mode = mode;
	if (row->change == CHANGE_REMOVED || (row->changed & ATTR_TYPE)) {
		s->action = REMEDY_CREATE;
		if (S_ISREG(base->mode))
			return content_source(b, s, base);
		if (S_ISDIR(base->mode) || S_ISLNK(base->mode))
			return 0;
		s->action = REMEDY_CANNOT;
		return step_text(s,
				 "a %s is not recreated by drift: recreate it by hand (mknod, "
				 "mkfifo)",
				 entry_type_name(base->mode));
	}
	if (S_ISLNK(base->mode) && (row->changed & ATTR_TARGET)) {
		s->action = REMEDY_SYMLINK;
		return 0;
	}
	if (S_ISREG(base->mode) && (row->changed & (ATTR_HASH | ATTR_SIZE))) {
		s->action = REMEDY_CONTENT;
		return content_source(b, s, base);
	}
	if (row->changed & META_ATTRS) {
		s->action = REMEDY_META;
		s->attrs = row->changed & META_ATTRS;
		/* Owner before mode: a chown clears setuid bits, which the mode puts back. */
		if (s->attrs & (ATTR_UID | ATTR_GID))
			s->attrs |= ATTR_MODE;
		return meta_text(s, base);
	}
	s->action = REMEDY_CANNOT;
	return step_text(s, "only what no restore brings back changed (%s)",
			 row->changed & ATTR_INODE   ? "the inode number"
			 : row->changed & ATTR_NLINK ? "the link count"
			 : row->changed & ATTR_ERROR ? "it could not be read"
						     : "attributes drift does not set");
}

/* The value of property @name of @e, NUL-terminated into @buf; false when none. */
static bool prop_get(const struct entry *e, const char *name, char *buf, size_t size)
{
	const uint8_t *v;
	size_t len;

	if (!e || entry_xattrs_get(e->props, e->props_len, name, &v, &len) <= 0 || len >= size)
		return false;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return true;
}

/* The command an operator runs for a finding of system state, or why there is none. */
static int plan_state(struct builder *b, const struct snap_run_row *row, enum rule_remediate mode)
{
	const struct entry *base = NULL;
	char name[256], val[256];
	struct remedy_step *s;
	int r;

	if (row->change != CHANGE_ADDED) {
		r = snap_lookup_get(b->base, row->kind, row->key, row->key_len, &base, b->reterr);
		if (r < 0)
			return r;
	}
	s = step_add(b->p, row->kind, row->key, row->key_len);
	if (!s)
		return -ENOMEM;
	s->change = row->change;
	s->severity = row->severity;
	s->mode = mode;
	s->action = REMEDY_COMMAND;
	snprintf(name, sizeof(name), "%.*s", (int)row->key_len, row->key);
	switch (row->kind) {
	case ENTRY_SYSCTL:
		if (row->change == CHANGE_MODIFIED && prop_get(base, "value", val, sizeof(val))) {
			s->action = REMEDY_SYSCTL;
			return step_text(s, "%s", val);
		}
		s->action = REMEDY_CANNOT;
		return step_text(s, "a kernel parameter %s: nothing to restore",
				 row->change == CHANGE_ADDED ? "that appeared" : "that went away");
	case ENTRY_PACKAGE: {
		char *colon = strchr(name, ':');

		if (colon)
			*colon = '\0';
		if (row->change == CHANGE_ADDED)
			return step_text(s, "apt-get remove %s", name);
		if (!prop_get(base, "version", val, sizeof(val)))
			return step_text(s, "apt-get install %s", name);
		return step_text(s, "apt-get install %s%s=%s",
				 row->change == CHANGE_MODIFIED ? "--allow-downgrades " : "", name,
				 val);
	}
	case ENTRY_SERVICE:
		if (row->change == CHANGE_ADDED)
			return step_text(s, "systemctl disable --now %s", name);
		if (prop_get(base, "state", val, sizeof(val)) &&
		    (!strcmp(val, "enabled") || !strcmp(val, "disabled") || !strcmp(val, "masked")))
			return step_text(s, "systemctl %s %s",
					 !strcmp(val, "enabled")    ? "enable"
					 : !strcmp(val, "disabled") ? "disable"
								    : "mask",
					 name);
		return step_text(s, "systemctl revert %s", name);
	case ENTRY_MODULE:
		return step_text(s, "%s %s",
				 row->change == CHANGE_ADDED ? "modprobe -r" : "modprobe", name);
	case ENTRY_USER:
	case ENTRY_GROUP:
		if (row->change == CHANGE_ADDED)
			return step_text(s, "%s %s",
					 row->kind == ENTRY_USER ? "userdel" : "groupdel", name);
		s->action = REMEDY_CANNOT;
		return step_text(s, "an account change: review it with %s %s",
				 row->kind == ENTRY_USER ? "usermod/passwd -S" : "groupmod", name);
	case ENTRY_PORT:
		s->action = REMEDY_CANNOT;
		return step_text(s, "a listening socket: stop or reconfigure the program behind "
				    "it (ss -ltnup)");
	case ENTRY_MOUNT:
		return step_text(s, "%s %s", row->change == CHANGE_ADDED ? "umount" : "mount",
				 name);
	default:
		s->action = REMEDY_CANNOT;
		return step_text(s, "nothing drift knows to do");
	}
}

static int plan_row(const struct snap_run_row *row, void *userdata)
{
	struct builder *b = userdata;
	enum rule_remediate mode;
	ssize_t k = -1;

	if (b->only.n) {
		k = selected(b, row->kind, row->key, row->key_len);
		if (k < 0)
			return 0;
		b->seen[k] = true;
	}
	if (!row->judged || (row->class != CLASS_DRIFT && row->class != CLASS_VIOLATION))
		return 0;
	mode = row->rule >= 0 && (size_t)row->rule < b->nmodes ? b->modes[row->rule]
							       : RULE_REMEDIATE_NO;
	/* A file of a package whose version changed: the transaction's, not drift to revert. */
	if (row->kind == ENTRY_FILE && row->package &&
	    (!row->before_version || !row->after_version ||
	     strcmp(row->before_version, row->after_version))) {
		b->p->package_work++;
		return 0;
	}
	if (mode == RULE_REMEDIATE_NO) {
		b->p->not_allowed++;
		return 0;
	}
	if (b->sel->automatic && mode != RULE_REMEDIATE_AUTO) {
		b->p->plan_only++;
		return 0;
	}
	return row->kind == ENTRY_FILE ? plan_file(b, row, mode) : plan_state(b, row, mode);
}

int remedy_plan_build(struct snap_store *st, const struct snap_run_info *run,
		      const struct remedy_select *sel, struct remedy_plan *ret, struct diag *reterr)
{
	struct builder b = { .st = st, .run = run, .sel = sel, .p = ret, .reterr = reterr };
	struct snap_info base = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!run->before || !run->after)
		return diag_set(reterr, -EINVAL,
				"run #%lld is a %s: it has no baseline to restore; remedy a check",
				(long long)run->id, run->command);
	r = snap_baseline(st, &base, reterr);
	if (r < 0)
		return r;
	if (base.id != run->before) {
		r = diag_set(reterr, -ESTALE,
			     "run #%lld compared against snapshot #%lld, but the baseline is #%lld "
			     "now: check again and remedy the new run",
			     (long long)run->id, (long long)run->before, (long long)base.id);
		goto out;
	}
	ret->run = run->id;
	ret->baseline = run->before;
	ret->after = run->after;
	ret->algo = base.hash;

	if (sel->event) {
		r = compare_event_keys(st, run, sel->event, &b.only, reterr);
		if (r < 0)
			goto out;
	}
	for (size_t i = 0; i < sel->nkeys; i++) {
		struct snap_accept_key k = { ENTRY_FILE, sel->keys[i], strlen(sel->keys[i]) };
		const char *colon = strchr(sel->keys[i], ':');

		/* "kind:key" for other kinds ("sysctl:net.ipv4.ip_forward"); paths are files. */
		if (sel->keys[i][0] != '/' && colon) {
			char kind[16];

			snprintf(kind, sizeof(kind), "%.*s", (int)(colon - sel->keys[i]),
				 sel->keys[i]);
			if (entry_kind_parse(kind, &k.kind) == 0) {
				k.key = colon + 1;
				k.key_len = strlen(k.key);
			}
		}
		if (b.only.n == b.only.cap) {
			size_t cap = b.only.cap ? 2 * b.only.cap : 16;
			struct snap_accept_key *v = realloc(b.only.v, cap * sizeof(*v));

			if (!v) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				goto out;
			}
			b.only.v = v;
			b.only.cap = cap;
		}
		b.only.v[b.only.n++] = k;
	}
	if (b.only.n) {
		qsort(b.only.v, b.only.n, sizeof(*b.only.v), key_cmp);
		b.seen = calloc(b.only.n, sizeof(*b.seen));
		if (!b.seen) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
	}
	r = snap_lookup_open(snap_store_path(st), run->before, &b.base, reterr);
	if (r >= 0)
		r = snap_run_rules(st, run->id, collect_mode, &b, reterr);
	if (r >= 0)
		r = snap_run_rows(st, run->id, plan_row, &b, reterr);
	if (r == -ENOMEM && !reterr->msg[0])
		diag_set(reterr, r, "out of memory");
	for (size_t i = 0; r >= 0 && i < b.only.n; i++)
		if (!b.seen[i])
			r = diag_set(reterr, -ENOENT, "'%.*s' is no finding of run #%lld",
				     (int)b.only.v[i].key_len, b.only.v[i].key, (long long)run->id);
out:
	snap_lookup_free(b.base);
	free(b.modes);
	free(b.seen);
	if (sel->event)
		compare_keys_release(&b.only);
	else
		free(b.only.v);
	snap_info_release(&base);
	if (r < 0)
		remedy_plan_release(ret);
	return r < 0 ? r : 0;
}

/* ---- describing and saving ---- */

#define PLAN_MAGIC "drift-plan 1"

static const char *source_name(enum remedy_source s)
{
	return s == REMEDY_SOURCE_KEPT ? "kept" : s == REMEDY_SOURCE_DEB ? "deb" : "none";
}

int remedy_step_describe(const struct remedy_step *s, struct strbuf *out)
{
	const char *kind = entry_kind_name(s->kind);
	int r = 0;

	switch (s->action) {
	case REMEDY_META:
		r = strbuf_addf(out, "restore %s of %s", s->text ? s->text : "metadata", s->key);
		break;
	case REMEDY_CONTENT:
	case REMEDY_CREATE:
		r = strbuf_addf(out, "%s %s", s->action == REMEDY_CREATE ? "recreate" : "restore",
				s->key);
		if (r >= 0 && s->source == REMEDY_SOURCE_KEPT)
			r = strbuf_adds(out, " from kept content");
		else if (r >= 0 && s->source == REMEDY_SOURCE_DEB)
			r = strbuf_addf(out, " from %s %s's .deb", s->package, s->version);
		break;
	case REMEDY_SYMLINK:
		r = strbuf_addf(out, "restore the target of symlink %s", s->key);
		break;
	case REMEDY_QUARANTINE:
		r = strbuf_addf(out, "move %s into the quarantine", s->key);
		break;
	case REMEDY_SYSCTL:
		r = strbuf_addf(out, "set %s to '%s'", s->key, s->text ? s->text : "");
		break;
	case REMEDY_COMMAND:
		r = strbuf_addf(out, "run by hand: %s   (%s %s; drift does not)", s->text, kind,
				s->key);
		break;
	case REMEDY_CANNOT:
		r = strbuf_addf(out, "cannot restore %s %s: %s", kind, s->key, s->text);
		break;
	}
	return r < 0 ? -ENOMEM : 0;
}

/*
 * Keys and texts in a plan file: bytes outside '!'..'~' and '%' as %XX; in
 * a comment for people (@comment), only control bytes and bytes past '~'.
 */
static int put_escaped(struct strbuf *out, const char *s, size_t len, bool comment)
{
	int r = 0;

	for (size_t i = 0; i < len && r >= 0; i++) {
		unsigned char c = (unsigned char)s[i];

		if (comment ? c < ' ' || c > '~' : c <= ' ' || c > '~' || c == '%')
			r = strbuf_addf(out, "%%%02X", c);
		else
			r = strbuf_addch(out, (char)c);
	}
	return r;
}

/* A field that may be absent: "-" for none, "%" for "", "%2D" for "-" itself. */
static int put_field(struct strbuf *out, const char *s)
{
	int r = strbuf_addch(out, ' ');

	if (r < 0)
		return r;
	if (!s)
		return strbuf_addch(out, '-');
	if (!*s)
		return strbuf_addch(out, '%');
	if (!strcmp(s, "-"))
		return strbuf_adds(out, "%2D");
	return put_escaped(out, s, strlen(s), false);
}

/* put_field()'s field back: 0 and *ret (NULL for none), or -EINVAL, -ENOMEM. */
static int field_decode(const char *f, char **ret);

int remedy_step_encode(const struct remedy_step *s, struct strbuf *out)
{
	int r = strbuf_addf(out, "%s %s %s %s attrs=%" PRIx32 " source=%s mode=%s ",
			    remedy_action_name(s->action), entry_kind_name(s->kind),
			    change_name(s->change), severity_name(s->severity), s->attrs,
			    source_name(s->source), rule_remediate_name(s->mode));

	if (r >= 0)
		r = put_escaped(out, s->key, s->key_len, false);
	if (r >= 0)
		r = put_field(out, s->package);
	if (r >= 0)
		r = put_field(out, s->version);
	if (r >= 0)
		r = put_field(out, s->text);
	return r < 0 ? -ENOMEM : 0;
}

static char *unescape(const char *s, size_t *ret_len)
{
	size_t n = strlen(s), o = 0;
	char *d = malloc(n + 1);

	if (!d)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		unsigned hi, lo;

		if (s[i] != '%') {
			d[o++] = s[i];
			continue;
		}
		if (i + 2 >= n)
			goto bad;
		if (sscanf(s + i + 1, "%1x%1x", &hi, &lo) != 2)
			goto bad;
		d[o++] = (char)(hi * 16 + lo);
		if (!d[o - 1])
			goto bad;
		i += 2;
	}
	d[o] = '\0';
	if (ret_len)
		*ret_len = o;
	return d;
bad:
	free(d);
	errno = EINVAL;
	return NULL;
}

int remedy_plan_write(const struct remedy_plan *p, FILE *out)
{
	struct strbuf sb = STRBUF_INIT, line = STRBUF_INIT;
	int r = 0;

	fprintf(out, PLAN_MAGIC " run=%lld baseline=%lld after=%lld hash=%s\n", (long long)p->run,
		(long long)p->baseline, (long long)p->after, hash_algo_name(p->algo));
	for (size_t i = 0; i < p->n && r >= 0; i++) {
		strbuf_reset(&sb);
		strbuf_reset(&line);
		r = remedy_step_describe(&p->v[i], &sb);
		if (r >= 0)
			r = strbuf_adds(&line, "# ");
		/* No raw control bytes, even in a comment. */
		if (r >= 0)
			r = put_escaped(&line, sb.buf, sb.len, true);
		if (r >= 0)
			r = strbuf_adds(&line, "\nstep ");
		if (r >= 0)
			r = remedy_step_encode(&p->v[i], &line);
		if (r >= 0)
			fprintf(out, "%s\n", line.buf);
	}
	strbuf_release(&sb);
	strbuf_release(&line);
	if (r < 0)
		return -ENOMEM;
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}

static int enum_parse(const char *s, const char *(*name)(int), int lo, int hi, int *ret)
{
	for (int i = lo; i <= hi; i++)
		if (name(i) && !strcmp(s, name(i))) {
			*ret = i;
			return 0;
		}
	return -EINVAL;
}

static const char *kind_name_i(int i)
{
	return entry_kind_name((enum entry_kind)i);
}
static const char *change_name_i(int i)
{
	return change_name((enum change)i);
}
static const char *severity_name_i(int i)
{
	return severity_name((enum severity)i);
}
static const char *source_name_i(int i)
{
	return source_name((enum remedy_source)i);
}
static const char *mode_name_i(int i)
{
	return rule_remediate_name((enum rule_remediate)i);
}

static int step_decode(struct remedy_plan *p, char *line);

int remedy_step_decode(struct remedy_plan *p, const char *text)
{
	char *line = strdup(text);
	int r;

	if (!line)
		return -ENOMEM;
	r = step_decode(p, line);
	free(line);
	return r;
}

/* remedy_step_decode() on a copy it may cut into fields. */
static int step_decode(struct remedy_plan *p, char *line)
{

	char *f[12], *save = NULL;
	size_t n = 0, key_len;
	struct remedy_step *s;
	char *key;
	int v;

	for (char *t = strtok_r(line, " ", &save); t && n < 12; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	if (n != 11 || strncmp(f[4], "attrs=", 6) || strncmp(f[5], "source=", 7) ||
	    strncmp(f[6], "mode=", 5))
		return -EINVAL;
	key = unescape(f[7], &key_len);
	if (!key)
		return -EINVAL;
	if (enum_parse(f[1], kind_name_i, 1, ENTRY__KIND_MAX, &v) < 0) {
		free(key);
		return -EINVAL;
	}
	s = step_add(p, (enum entry_kind)v, key, key_len);
	free(key);
	if (!s)
		return -ENOMEM;
	if (action_parse(f[0], &s->action) < 0 ||
	    enum_parse(f[2], change_name_i, CHANGE_ADDED, CHANGE_MODIFIED, &v) < 0)
		return -EINVAL;
	s->change = (enum change)v;
	if (enum_parse(f[3], severity_name_i, 0, SEVERITY__COUNT - 1, &v) < 0)
		return -EINVAL;
	s->severity = (enum severity)v;
	{
		char *end;

		errno = 0;
		s->attrs = (uint32_t)strtoul(f[4] + 6, &end, 16);
		if (errno || end == f[4] + 6 || *end)
			return -EINVAL;
	}
	if (enum_parse(f[5] + 7, source_name_i, 0, 2, &v) < 0)
		return -EINVAL;
	s->source = (enum remedy_source)v;
	if (enum_parse(f[6] + 5, mode_name_i, 0, 2, &v) < 0)
		return -EINVAL;
	s->mode = (enum rule_remediate)v;
	if (field_decode(f[8], &s->package) < 0 || field_decode(f[9], &s->version) < 0 ||
	    field_decode(f[10], &s->text) < 0)
		return -EINVAL;
	return 0;
}

static int field_decode(const char *f, char **ret)
{
	*ret = NULL;
	if (!strcmp(f, "-"))
		return 0;
	*ret = !strcmp(f, "%") ? strdup("") : unescape(f, NULL);
	return *ret ? 0 : errno == ENOMEM ? -ENOMEM : -EINVAL;
}

int remedy_plan_read(FILE *in, const char *name, struct remedy_plan *ret, struct diag *reterr)
{
	char *line = NULL, hash[32];
	size_t cap = 0;
	unsigned lineno = 0;
	long long run, baseline, after;
	ssize_t len;
	int r = 0;

	memset(ret, 0, sizeof(*ret));
	while ((len = getline(&line, &cap, in)) >= 0) {
		lineno++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		if (lineno == 1) {
			if (sscanf(line, PLAN_MAGIC " run=%lld baseline=%lld after=%lld hash=%31s",
				   &run, &baseline, &after, hash) != 4 ||
			    hash_algo_parse(hash, &ret->algo) < 0) {
				r = diag_set(reterr, -EINVAL, "%s:1: not a drift plan", name);
				break;
			}
			ret->run = run;
			ret->baseline = baseline;
			ret->after = after;
			continue;
		}
		if (!len || line[0] == '#')
			continue;
		if (strncmp(line, "step ", 5) || (r = remedy_step_decode(ret, line + 5)) < 0) {
			r = r == -ENOMEM ? diag_set(reterr, r, "out of memory")
					 : diag_set(reterr, -EINVAL, "%s:%u: not a plan step", name,
						    lineno);
			break;
		}
	}
	if (r >= 0 && lineno == 0)
		r = diag_set(reterr, -EINVAL, "%s: empty, not a drift plan", name);
	if (r >= 0 && ferror(in))
		r = diag_set(reterr, -EIO, "cannot read %s", name);
	free(line);
	if (r < 0)
		remedy_plan_release(ret);
	return r;
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

bool remedy_plan_equal(const struct remedy_plan *a, const struct remedy_plan *b)
{
	if (a->run != b->run || a->baseline != b->baseline || a->after != b->after ||
	    a->algo != b->algo || a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct remedy_step *x = &a->v[i], *y = &b->v[i];

		if (x->action != y->action || x->kind != y->kind || x->key_len != y->key_len ||
		    memcmp(x->key, y->key, x->key_len) || x->change != y->change ||
		    x->severity != y->severity || x->attrs != y->attrs || x->source != y->source ||
		    x->mode != y->mode || !str_eq(x->package, y->package) ||
		    !str_eq(x->version, y->version) || !str_eq(x->text, y->text))
			return false;
	}
	return true;
}
