/*
 * Explaining system accounts: the users and groups a package's maintainer
 * scripts add (adduser --system, useradd -r, groupadd -r...), and the
 * account files for exactly those additions.
 *
 *  - A user or group added is expected when its id is in the system range
 *    (FIRST/LAST_SYSTEM_UID/GID of etc/adduser.conf, else SYS_UID/GID_MIN/MAX
 *    of etc/login.defs, else 100-999), is not 0, and the preinst or postinst
 *    (var/lib/dpkg/info/PKG[:ARCH].{preinst,postinst}) of a package
 *    installed or upgraded between the snapshots names it as a whole word.
 *  - /etc/passwd, group, shadow, gshadow and their "-" backups, with only
 *    their content and times changed, are expected when the user probe ran
 *    in both snapshots and the user and group deviations between them are
 *    all additions explained as above (at least one).
 *
 * Everything else stays drift: a uid 0, an id in the normal range, an
 * account no script of a changed package names, any account modified or
 * removed (a password set, a shell changed) and then the account files
 * too, and the files when either side has no account entries.
 */
#include "compare/internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/probe.h"

#include "common/banned.h"

/* The maintainer scripts of one package changed between the snapshots. */
struct script_pkg {
	char *key;  /* "name:arch" */
	char *name; /* its name, cut at the ':' of a copy of @key */
	char *text; /* the preinst and postinst, one after the other; NULL: none */
};

enum files_verdict { FILES_UNKNOWN, FILES_EXPLAINED, FILES_DRIFT };

struct accounts_state {
	uint32_t uid_min, uid_max, gid_min, gid_max;
	struct script_pkg *pk;
	size_t npk;
	/* The account files' verdict, from the account deviations, computed once. */
	enum files_verdict files;
	struct strbuf files_why; /* the reason either way */
	struct strbuf added;     /* "FOO, BAR" while computing */
	struct strbuf by;        /* "PKG, PKG2" */
};

/* The attributes a rewrite of an account file changes; its mode or owner is not ours. */
#define CONTENT_ATTRS (ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_INODE)

static const char *const account_files[] = {
	"/etc/passwd",  "/etc/group",  "/etc/shadow",  "/etc/gshadow",
	"/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
};

/*
 * The value of @name in the configuration @buf: "NAME=value" (adduser.conf,
 * shell-like, maybe quoted) when @assign, else "NAME value" (login.defs).
 * Returns whether a valid id was found (the last one wins, as a shell's
 * would).
 */
static bool conf_id(char *buf, size_t len, const char *name, bool assign, uint32_t *ret)
{
	size_t nl = strlen(name);
	bool found = false;
	char *line, *save = NULL;

	/* A NUL byte ends no scan early: it is a line break like any other. */
	for (size_t i = 0; i < len; i++)
		if (!buf[i])
			buf[i] = '\n';
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char val[16];
		size_t n = 0;
		uint64_t v;

		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, name, nl))
			continue;
		line += nl;
		if (!assign && *line != ' ' && *line != '\t')
			continue;
		while (*line == ' ' || *line == '\t')
			line++;
		if (assign) {
			if (*line != '=')
				continue;
			line++;
			while (*line == ' ' || *line == '\t')
				line++;
		}
		if (*line == '"' || *line == '\'')
			line++;
		while (n < sizeof(val) - 1 && line[n] >= '0' && line[n] <= '9') {
			val[n] = line[n];
			n++;
		}
		val[n] = '\0';
		if (probe_parse_decimal(val, UINT32_MAX - 1, &v)) {
			*ret = (uint32_t)v;
			found = true;
		}
	}
	return found;
}

/* One id of the system range: adduser.conf's, else login.defs', else @def. */
static int range_id(int rootfd, const char *adduser, const char *logindefs, uint32_t def,
		    uint32_t *ret)
{
	static const char *const files[] = { "etc/adduser.conf", "etc/login.defs" };
	const char *names[] = { adduser, logindefs };

	*ret = def;
	for (size_t i = 0; i < 2; i++) {
		char *buf = NULL;
		size_t len;
		bool found;
		int r = probe_read_file(rootfd, files[i], &buf, &len);

		if (r == -ENOMEM)
			return r;
		if (r < 0)
			continue;
		found = conf_id(buf, len, names[i], i == 0, ret);
		free(buf);
		if (found)
			return 0;
	}
	return 0;
}

static int collect_pkg(const char *key, const char *was, const char *now, void *userdata)
{
	struct accounts_state *s = userdata;
	struct script_pkg *p, *np;

	(void)was;
	(void)now;
	np = realloc(s->pk, (s->npk + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	s->pk = np;
	p = &s->pk[s->npk];
	memset(p, 0, sizeof(*p));
	p->key = strdup(key);
	p->name = strdup(key);
	if (!p->key || !p->name) {
		free(p->key);
		free(p->name);
		return -ENOMEM;
	}
	s->npk++;
	if (strchr(p->name, ':'))
		*strchr(p->name, ':') = '\0';
	return 0;
}

/* The preinst and postinst of @p, under its name and its name:arch, as one text. */
static int read_scripts(int rootfd, struct script_pkg *p)
{
	static const char *const kinds[] = { "preinst", "postinst" };
	struct strbuf text = STRBUF_INIT, path = STRBUF_INIT;
	const char *names[] = { p->name, p->key };
	int r = 0;

	for (size_t n = 0; n < 2 && r >= 0; n++) {
		for (size_t k = 0; k < 2 && r >= 0; k++) {
			char *buf = NULL;
			size_t len;

			strbuf_reset(&path);
			r = strbuf_addf(&path, "var/lib/dpkg/info/%s.%s", names[n], kinds[k]);
			if (r < 0)
				break;
			r = probe_read_file(rootfd, path.buf, &buf, &len);
			if (r == -ENOMEM)
				break;
			r = 0;
			if (!buf)
				continue;
			/* NUL bytes (a binary script) end the text as strstr() sees it: harmless.
			 */
			if (strbuf_add(&text, buf, len) < 0 || strbuf_addch(&text, '\n') < 0)
				r = -ENOMEM;
			free(buf);
		}
	}
	strbuf_release(&path);
	if (r < 0) {
		strbuf_release(&text);
		return r;
	}
	p->text = text.len ? strbuf_detach(&text, NULL) : NULL;
	strbuf_release(&text);
	return 0;
}

static int state_load(struct explain *x, struct accounts_state **ret)
{
	struct accounts_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	strbuf_init(&s->files_why);
	strbuf_init(&s->added);
	strbuf_init(&s->by);
	r = range_id(x->rootfd, "FIRST_SYSTEM_UID", "SYS_UID_MIN", 100, &s->uid_min);
	if (r >= 0)
		r = range_id(x->rootfd, "LAST_SYSTEM_UID", "SYS_UID_MAX", 999, &s->uid_max);
	if (r >= 0)
		r = range_id(x->rootfd, "FIRST_SYSTEM_GID", "SYS_GID_MIN", 100, &s->gid_min);
	if (r >= 0)
		r = range_id(x->rootfd, "LAST_SYSTEM_GID", "SYS_GID_MAX", 999, &s->gid_max);
	if (r >= 0)
		r = attrib_each_changed(x->attrib, collect_pkg, s);
	for (size_t i = 0; i < s->npk && r >= 0; i++)
		r = read_scripts(x->rootfd, &s->pk[i]);
	if (r < 0) {
		accounts_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void accounts_free(struct accounts_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->npk; i++) {
		free(s->pk[i].key);
		free(s->pk[i].name);
		free(s->pk[i].text);
	}
	free(s->pk);
	strbuf_release(&s->files_why);
	strbuf_release(&s->added);
	strbuf_release(&s->by);
	free(s);
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-';
}

/* Whether @text names @word (@len bytes) as a whole word. */
static bool names_word(const char *text, const char *word, size_t len)
{
	for (const char *p = text; (p = strstr(p, word)); p++) {
		if ((p == text || !word_char(p[-1])) && !word_char(p[len]))
			return true;
	}
	return false;
}

/*
 * Whether the added account @e is a system account a changed package's
 * scripts name: 1 and *ret_pkg, or 0 with the reason why not in @why.
 */
static int account_explained(const struct accounts_state *s, const struct entry *e,
			     const struct script_pkg **ret_pkg, char *why, size_t whysize)
{
	bool user = e->kind == ENTRY_USER;
	const char *idname = user ? "uid" : "gid";
	uint32_t lo = user ? s->uid_min : s->gid_min, hi = user ? s->uid_max : s->gid_max;
	const uint8_t *val;
	char idbuf[16], *name;
	size_t len;
	uint64_t id;

	*ret_pkg = NULL;
	if (entry_xattrs_get(e->props, e->props_len, idname, &val, &len) != 1 ||
	    len >= sizeof(idbuf)) {
		snprintf(why, whysize, "no %s recorded", idname);
		return 0;
	}
	memcpy(idbuf, val, len);
	idbuf[len] = '\0';
	if (!probe_parse_decimal(idbuf, UINT32_MAX - 1, &id)) {
		snprintf(why, whysize, "no %s recorded", idname);
		return 0;
	}
	if (id == 0) {
		snprintf(why, whysize, "%s 0 is never a package's system account", idname);
		return 0;
	}
	if (id < lo || id > hi) {
		snprintf(why, whysize, "%s %s is outside the system range %u-%u", idname, idbuf, lo,
			 hi);
		return 0;
	}
	if (!e->key_len || memchr(e->key, '\0', e->key_len))
		return 0;
	name = strndup(e->key, e->key_len);
	if (!name)
		return -ENOMEM;
	for (size_t i = 0; i < s->npk && !*ret_pkg; i++)
		if (s->pk[i].text && names_word(s->pk[i].text, name, e->key_len))
			*ret_pkg = &s->pk[i];
	free(name);
	if (!*ret_pkg) {
		snprintf(
			why, whysize,
			"no maintainer script of a package installed between the snapshots names it");
		return 0;
	}
	return 1;
}

/* One account deviation, for the verdict on the account files. */
static int files_visit(const struct deviation *d, void *userdata)
{
	struct explain *x = userdata;
	struct accounts_state *s = x->accounts;
	const struct entry *e = d->after ? d->after : d->before;
	const struct script_pkg *p;
	char why[160];
	int r;

	if (s->files == FILES_DRIFT)
		return 0;
	if (d->change != CHANGE_ADDED) {
		s->files = FILES_DRIFT;
		return strbuf_addf(&s->files_why, "account files: %s %.*s %s",
				   e->kind == ENTRY_USER ? "user" : "group", (int)e->key_len,
				   e->key, d->change == CHANGE_REMOVED ? "removed" : "changed");
	}
	r = account_explained(s, e, &p, why, sizeof(why));
	if (r < 0)
		return r;
	if (r == 0) {
		s->files = FILES_DRIFT;
		return strbuf_addf(&s->files_why, "account files: %s %.*s added unexplained",
				   e->kind == ENTRY_USER ? "user" : "group", (int)e->key_len,
				   e->key);
	}
	/* The same name as user and group (adduser --system --group) is listed once. */
	if (!names_word(s->added.buf, e->key, e->key_len) &&
	    ((s->added.len && strbuf_adds(&s->added, ", ") < 0) ||
	     strbuf_add(&s->added, e->key, e->key_len) < 0))
		return -ENOMEM;
	if (!names_word(s->by.buf, p->name, strlen(p->name)) &&
	    ((s->by.len && strbuf_adds(&s->by, ", ") < 0) || strbuf_adds(&s->by, p->name) < 0))
		return -ENOMEM;
	return 0;
}

static bool probe_ran(const struct snap_info *si, const char *name)
{
	for (size_t i = 0; i < si->nprobes; i++)
		if (!strcmp(si->probes[i], name))
			return true;
	return false;
}

/* The account files' verdict, once: every account deviation must be an explained addition. */
static int files_compute(struct explain *x)
{
	static const enum entry_kind kinds[] = { ENTRY_USER, ENTRY_GROUP };
	struct accounts_state *s = x->accounts;
	struct diag d = { 0 };
	int r = 0;

	if (!probe_ran(x->before, "user") || !probe_ran(x->after, "user")) {
		s->files = FILES_DRIFT;
		return strbuf_adds(&s->files_why, "the user probe did not run in both snapshots");
	}
	for (size_t k = 0; k < 2 && r >= 0 && s->files != FILES_DRIFT; k++) {
		struct snap_iter *a = NULL, *b = NULL;

		r = snap_iter_new(x->st, x->before->id, kinds[k], NULL, 0, 0, &a, &d);
		if (r >= 0)
			r = snap_iter_new(x->st, x->after->id, kinds[k], NULL, 0, 0, &b, &d);
		if (r >= 0)
			r = snap_compare(a, b, 0, files_visit, x, &d);
		snap_iter_free(a);
		snap_iter_free(b);
	}
	if (r < 0)
		return r;
	if (s->files == FILES_DRIFT)
		return 0;
	if (!s->added.len) {
		s->files = FILES_DRIFT;
		return strbuf_adds(&s->files_why, "no account was added between the snapshots");
	}
	s->files = FILES_EXPLAINED;
	return strbuf_addf(&s->files_why, ACCOUNTS_FILES_EXPLAINED "%s by %s", s->added.buf,
			   s->by.buf);
}

bool accounts_is_file(const char *key, size_t len)
{
	for (size_t i = 0; i < sizeof(account_files) / sizeof(account_files[0]); i++)
		if (len == strlen(account_files[i]) && !memcmp(key, account_files[i], len))
			return true;
	return false;
}

static bool account_file(const struct entry *e)
{
	return accounts_is_file(e->key, e->key_len);
}

int accounts_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		     struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after ? d->after : d->before;
	bool files = e->kind == ENTRY_FILE;
	const struct script_pkg *p;
	char why[160];
	int r;

	if (files && (d->change != CHANGE_MODIFIED || !account_file(e) ||
		      (d->attrs & ~(uint32_t)CONTENT_ATTRS)))
		return 0;
	if (!files &&
	    ((e->kind != ENTRY_USER && e->kind != ENTRY_GROUP) || d->change != CHANGE_ADDED))
		return 0;
	if (!x->accounts) {
		r = state_load(x, &x->accounts);
		if (r < 0)
			return r;
	}
	if (files) {
		if (x->accounts->files == FILES_UNKNOWN) {
			r = files_compute(x);
			if (r < 0)
				return r;
		}
		if (x->accounts->files == FILES_EXPLAINED) {
			v->class = CLASS_EXPECTED;
			verdict_reason(v, "%s", x->accounts->files_why.buf);
		} else {
			verdict_reason_add(v, "%s", x->accounts->files_why.buf);
		}
		return 1;
	}
	r = account_explained(x->accounts, e, &p, why, sizeof(why));
	if (r < 0)
		return r;
	if (r == 0) {
		verdict_reason_add(v, "%s", why);
		return 1;
	}
	{
		const char *colon = strchr(p->key, ':');
		const char *was = NULL, *now = NULL;

		attrib_versions(x->attrib, p->name, colon ? colon + 1 : NULL, &was, &now);
		attrib_set_package(pkg, note, p->name, colon ? colon + 1 : NULL, was, now);
	}
	v->class = CLASS_EXPECTED;
	verdict_reason(v, "system %s added by %s's maintainer scripts",
		       e->kind == ENTRY_USER ? "account" : "group", p->name);
	return 1;
}
