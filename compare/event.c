/*
 * Events: the one thing that happened on the host that a finding is part
 * of, so that a report can say it once ("cowsay 3.03 installed: 62 files")
 * instead of once per file. Membership is decided here, from records only:
 *
 *  - a package event: the finding's package context (dpkg's lists said
 *    which package owns the file) names a package whose version differs
 *    between the two sides (installed, upgraded, downgraded, removed), or
 *    the finding is that package's own entry; under verify, where nothing
 *    changed version, every file of a package that differs from its
 *    checksums is part of that package's event (one package, one line);
 *  - an account event: a user or group added, removed or changed (the user
 *    probe's entries); a group named as a changed user (useradd's private
 *    group), or whose member list gained or lost exactly that user, folds
 *    under the user; the account files (passwd, group, shadow, gshadow,
 *    their "-" backups, subuid, subgid) fold under the account when exactly
 *    one account changed (which one rewrote them cannot be told otherwise);
 *    and what was added or changed at or below the home directory the
 *    passwd entry records, or in its mail spool, folds under the user.
 *
 * The account deviations are few: they are read once, before the first
 * finding, with the groups of the after side for the user's description.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct account {
	enum entry_kind kind; /* ENTRY_USER or ENTRY_GROUP */
	char *name;
	enum change change;
	char *home;             /* user: the passwd entry's home ("" when none worth folding) */
	char *gid;              /* user: the primary gid */
	char *members_gained;   /* group: the one member added or removed, or NULL */
	struct strbuf detail;   /* user: "uid 1001, gid 1001, ..." */
	const char *event_name; /* the event it belongs to (a user's name for its group) */
	enum finding_event_kind event_kind;
};

struct events {
	struct account *a;
	size_t n;
	/* The account files' event: the one account that changed, or none. */
	const struct account *files;
	struct strbuf name; /* a package entry's key as a C string, for the finding's event */
};

static const char *const account_files[] = {
	"/etc/passwd",  "/etc/group",  "/etc/shadow",  "/etc/gshadow",
	"/etc/passwd-", "/etc/group-", "/etc/shadow-", "/etc/gshadow-",
	"/etc/subuid",  "/etc/subgid", "/etc/subuid-", "/etc/subgid-",
};

void events_free(struct events *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->n; i++) {
		free(ev->a[i].name);
		free(ev->a[i].home);
		free(ev->a[i].gid);
		free(ev->a[i].members_gained);
		strbuf_release(&ev->a[i].detail);
	}
	free(ev->a);
	strbuf_release(&ev->name);
	free(ev);
}

/* @e's property @name as a new C string ("" when absent); NULL: out of memory. */
static char *prop_dup(const struct entry *e, const char *name)
{
	const uint8_t *v;
	size_t len;

	if (!e || entry_xattrs_get(e->props, e->props_len, name, &v, &len) != 1)
		return strdup("");
	return strndup((const char *)v, len);
}

/* Whether the comma-separated @list holds @name. */
static bool list_has(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !memcmp(p, name, n))
			return true;
		p = end ? end + 1 : NULL;
	}
	return false;
}

/*
 * The one name in one of the lists @a and @b and not the other, or NULL
 * (none, or several): a usermod -aG or gpasswd -d of one user.
 */
static char *one_member_changed(const char *a, const char *b)
{
	const char *lists[2] = { a, b };
	char *found = NULL;

	for (size_t i = 0; i < 2; i++) {
		for (const char *p = lists[i]; p && *p;) {
			const char *end = strchr(p, ',');
			size_t len = end ? (size_t)(end - p) : strlen(p);
			char *name = strndup(p, len);

			if (!name) {
				free(found);
				return NULL;
			}
			if (!list_has(lists[1 - i], name)) {
				if (found) {
					free(found);
					free(name);
					return NULL;
				}
				found = name;
			} else {
				free(name);
			}
			p = end ? end + 1 : NULL;
		}
	}
	return found;
}

static int account_visit(const struct deviation *d, void *userdata)
{
	struct events *ev = userdata;
	const struct entry *e = d->after ? d->after : d->before;
	struct account *a, *na;

	if (!e->key_len || memchr(e->key, '\0', e->key_len))
		return 0;
	na = realloc(ev->a, (ev->n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	ev->a = na;
	a = &ev->a[ev->n];
	memset(a, 0, sizeof(*a));
	strbuf_init(&a->detail);
	a->kind = e->kind;
	a->change = d->change;
	a->name = strndup(e->key, e->key_len);
	if (!a->name)
		return -ENOMEM;
	ev->n++;
	if (e->kind == ENTRY_USER) {
		char *home = prop_dup(e, "home");

		if (!home)
			return -ENOMEM;
		/* "/" or "/nonexistent" hold nothing of the account's own. */
		if (!strcmp(home, "/") || !strcmp(home, "/nonexistent") || home[0] != '/')
			home[0] = '\0';
		a->home = home;
		a->gid = prop_dup(e, "gid");
		if (!a->gid)
			return -ENOMEM;
	} else if (d->change == CHANGE_MODIFIED) {
		char *was = prop_dup(d->before, "members"), *now = prop_dup(d->after, "members");

		if (!was || !now) {
			free(was);
			free(now);
			return -ENOMEM;
		}
		a->members_gained = one_member_changed(was, now);
		free(was);
		free(now);
	}
	return 0;
}

static int compare_kind(struct snap_store *st, const struct snap_info *before,
			const struct snap_info *after, enum entry_kind kind, struct events *ev,
			struct diag *reterr)
{
	struct snap_iter *a = NULL, *b = NULL;
	int r;

	r = snap_iter_new(st, before->id, kind, NULL, 0, 0, &a, reterr);
	if (r >= 0)
		r = snap_iter_new(st, after->id, kind, NULL, 0, 0, &b, reterr);
	if (r >= 0)
		r = snap_compare(a, b, 0, account_visit, ev, reterr);
	snap_iter_free(a);
	snap_iter_free(b);
	return r;
}

static struct account *find_user(struct events *ev, const char *name)
{
	for (size_t i = 0; i < ev->n; i++)
		if (ev->a[i].kind == ENTRY_USER && !strcmp(ev->a[i].name, name))
			return &ev->a[i];
	return NULL;
}

/* The groups of the after side that hold each changed user, for its description. */
static int group_visit(const struct entry *g, struct events *ev, struct strbuf *groups)
{
	char *members, *gid, *name;
	int r = 0;

	if (!g->key_len || memchr(g->key, '\0', g->key_len))
		return 0;
	members = prop_dup(g, "members");
	gid = prop_dup(g, "gid");
	name = strndup(g->key, g->key_len);
	if (!members || !gid || !name) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < ev->n && r >= 0; i++) {
		const struct account *u = &ev->a[i];

		if (u->kind != ENTRY_USER || u->change == CHANGE_REMOVED)
			continue;
		if (list_has(members, u->name) || (u->gid[0] && !strcmp(gid, u->gid)))
			r = strbuf_addf(&groups[i], "%s%s", groups[i].len ? "," : "", name);
	}
out:
	free(members);
	free(gid);
	free(name);
	return r;
}

static int describe_users(struct snap_store *st, const struct snap_info *before,
			  const struct snap_info *after, struct events *ev, struct diag *reterr)
{
	struct strbuf *groups = calloc(ev->n ? ev->n : 1, sizeof(*groups));
	struct snap_iter *it = NULL;
	const struct entry *e;
	int r;

	if (!groups)
		return -ENOMEM;
	for (size_t i = 0; i < ev->n; i++)
		strbuf_init(&groups[i]);
	r = snap_iter_new(st, after->id, ENTRY_GROUP, NULL, 0, 0, &it, reterr);
	while (r >= 0 && (r = snap_iter_next(it, &e, reterr)) > 0)
		r = group_visit(e, ev, groups);
	snap_iter_free(it);
	for (size_t i = 0; i < ev->n && r >= 0; i++) {
		struct account *u = &ev->a[i];
		const struct entry *side = NULL;
		struct snap_iter *one = NULL;
		const struct entry *ue;
		char *uid, *shell;

		if (u->kind != ENTRY_USER)
			continue;
		/* The user's entry as the side that has it says. */
		r = snap_iter_new(st, u->change == CHANGE_REMOVED ? before->id : after->id,
				  ENTRY_USER, NULL, 0, 0, &one, reterr);
		while (r >= 0 && (r = snap_iter_next(one, &ue, reterr)) > 0)
			if (ue->key_len == strlen(u->name) &&
			    !memcmp(ue->key, u->name, ue->key_len)) {
				side = ue;
				break;
			}
		if (r >= 0) {
			uid = prop_dup(side, "uid");
			shell = prop_dup(side, "shell");
			r = uid && shell ? 0 : -ENOMEM;
			if (r >= 0)
				r = strbuf_addf(&u->detail, "uid %s, gid %s", uid[0] ? uid : "?",
						u->gid[0] ? u->gid : "?");
			if (r >= 0 && groups[i].len)
				r = strbuf_addf(&u->detail, ", groups %s", groups[i].buf);
			if (r >= 0 && shell[0])
				r = strbuf_addf(&u->detail, ", shell %s", shell);
			if (r >= 0 && u->home[0])
				r = strbuf_addf(&u->detail, ", home %s", u->home);
			free(uid);
			free(shell);
		}
		snap_iter_free(one);
	}
	for (size_t i = 0; i < ev->n; i++)
		strbuf_release(&groups[i]);
	free(groups);
	return r < 0 ? r : 0;
}

static bool probe_in(const struct snap_info *si, const char *name)
{
	for (size_t i = 0; i < si->nprobes; i++)
		if (!strcmp(si->probes[i], name))
			return true;
	return false;
}

int events_open(struct snap_store *st, const struct snap_info *before,
		const struct snap_info *after, struct events **ret, struct diag *reterr)
{
	struct events *ev;
	size_t distinct = 0;
	int r = 0;

	*ret = NULL;
	ev = calloc(1, sizeof(*ev));
	if (!ev)
		return -ENOMEM;
	strbuf_init(&ev->name);
	if (st && before && after && probe_in(before, "user") && probe_in(after, "user")) {
		r = compare_kind(st, before, after, ENTRY_USER, ev, reterr);
		if (r >= 0)
			r = compare_kind(st, before, after, ENTRY_GROUP, ev, reterr);
		if (r >= 0 && ev->n)
			r = describe_users(st, before, after, ev, reterr);
	}
	if (r < 0) {
		events_free(ev);
		return r;
	}
	/* Which event each account is part of: a group folds under its user. */
	for (size_t i = 0; i < ev->n; i++) {
		struct account *a = &ev->a[i];
		const struct account *u = NULL;

		a->event_kind = a->kind == ENTRY_USER ? EVENT_USER : EVENT_GROUP;
		a->event_name = a->name;
		if (a->kind == ENTRY_GROUP) {
			u = find_user(ev, a->name);
			if (!u && a->members_gained)
				u = find_user(ev, a->members_gained);
		}
		if (u) {
			a->event_kind = EVENT_USER;
			a->event_name = u->name;
		} else {
			distinct++;
		}
	}
	if (distinct == 1)
		for (size_t i = 0; i < ev->n; i++)
			if (ev->a[i].event_name == ev->a[i].name) {
				ev->files = &ev->a[i];
				break;
			}
	*ret = ev;
	return 0;
}

/* The event of an account (its user's description, for a user). */
static void set_account_event(const struct events *ev, struct finding *f,
			      enum finding_event_kind kind, const char *name)
{
	enum entry_kind k = kind == EVENT_USER ? ENTRY_USER : ENTRY_GROUP;

	f->event = (struct finding_event){ kind, CHANGE_MODIFIED, name, NULL };
	for (size_t i = 0; i < ev->n; i++)
		if (ev->a[i].kind == k && !strcmp(ev->a[i].name, name)) {
			f->event.change = ev->a[i].change;
			if (ev->a[i].detail.len)
				f->event.detail = ev->a[i].detail.buf;
		}
}

static bool key_is(const struct entry *e, const char *s)
{
	return e->key_len == strlen(s) && !memcmp(e->key, s, e->key_len);
}

/* Whether @e is at or below the directory @dir. */
static bool key_below(const struct entry *e, const char *dir)
{
	size_t n = strlen(dir);

	while (n > 1 && dir[n - 1] == '/')
		n--;
	return e->key_len >= n && !memcmp(e->key, dir, n) && (e->key_len == n || e->key[n] == '/');
}

static bool mail_spool_of(const struct entry *e, const char *user)
{
	static const char *const dirs[] = { "/var/mail/", "/var/spool/mail/" };

	for (size_t i = 0; i < 2; i++) {
		size_t n = strlen(dirs[i]);

		if (e->key_len == n + strlen(user) && !memcmp(e->key, dirs[i], n) &&
		    !memcmp(e->key + n, user, e->key_len - n))
			return true;
	}
	return false;
}

/*
 * A package event is named by the package alone ("libc6", not
 * "libc6:amd64"): the architectures of one package change together, and
 * the records do not all say the architecture.
 */
static int package_name(struct strbuf *buf, const char *name, size_t len)
{
	const char *colon = memchr(name, ':', len);

	strbuf_reset(buf);
	return strbuf_add(buf, name, colon ? (size_t)(colon - name) : len);
}

int finding_package_event(struct finding *f, bool verify, struct strbuf *buf)
{
	const struct finding_package *p = &f->package;
	enum change ch;

	if (!p->name)
		return 0;
	if (!verify && p->before_version && p->after_version &&
	    !strcmp(p->before_version, p->after_version))
		return 0;
	ch = verify               ? CHANGE_MODIFIED
	     : !p->before_version ? CHANGE_ADDED
	     : !p->after_version  ? CHANGE_REMOVED
				  : CHANGE_MODIFIED;
	if (package_name(buf, p->name, strlen(p->name)) < 0)
		return -ENOMEM;
	f->event = (struct finding_event){ EVENT_PACKAGE, ch, buf->buf, NULL };
	return 1;
}

int events_assign(struct events *ev, struct finding *f)
{
	const struct entry *e = f->after ? f->after : f->before;
	int r;

	f->event = (struct finding_event){ EVENT_NONE, CHANGE_MODIFIED, NULL, NULL };
	if (e->kind == ENTRY_PACKAGE) {
		/* The package's own entry: its key is "name:arch", as the files' context says. */
		if (!e->key_len || memchr(e->key, '\0', e->key_len))
			return 0;
		if (package_name(&ev->name, e->key, e->key_len) < 0)
			return -ENOMEM;
		f->event = (struct finding_event){ EVENT_PACKAGE, f->change, ev->name.buf, NULL };
		return 0;
	}
	r = finding_package_event(f, false, &ev->name);
	if (r != 0 || !ev->n)
		return r < 0 ? r : 0;
	if (e->kind == ENTRY_USER || e->kind == ENTRY_GROUP) {
		for (size_t i = 0; i < ev->n; i++) {
			const struct account *a = &ev->a[i];

			if (a->kind == e->kind && key_is(e, a->name)) {
				set_account_event(ev, f, a->event_kind, a->event_name);
				return 0;
			}
		}
		return 0;
	}
	if (e->kind != ENTRY_FILE)
		return 0;
	/* Added too: the first useradd creates /etc/subuid- and /etc/subgid-. */
	if (ev->files && f->change != CHANGE_REMOVED) {
		for (size_t i = 0; i < sizeof(account_files) / sizeof(account_files[0]); i++)
			if (key_is(e, account_files[i])) {
				set_account_event(ev, f, ev->files->event_kind,
						  ev->files->event_name);
				return 0;
			}
	}
	if (f->change == CHANGE_REMOVED)
		return 0;
	for (size_t i = 0; i < ev->n; i++) {
		const struct account *u = &ev->a[i];

		if (u->kind != ENTRY_USER || u->change == CHANGE_REMOVED)
			continue;
		if ((u->home[0] && key_below(e, u->home)) || mail_spool_of(e, u->name)) {
			set_account_event(ev, f, EVENT_USER, u->name);
			return 0;
		}
	}
	return 0;
}
