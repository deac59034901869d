/*
 * Package attribution: explaining file deviations by package upgrades.
 *
 * Both snapshots record which package version owns which file (the package
 * probe, store/'s side tables) and each package's version (ENTRY_PACKAGE
 * entries). A changed or added file whose owning package changed version
 * between the two, and whose content matches that package's MD5 sum, is
 * expected: "package hello upgraded 1.0-1 -> 1.1-1". The content checked is
 * the live file's under --root, and only when it is still the content the
 * new snapshot recorded (same digest), so a file changed since the snapshot
 * cannot be passed off as the package's. Everything else keeps the policy's
 * verdict: a changed file whose package did not change is drift, and says
 * so; a changed conffile is "locally modified configuration" at the
 * policy's conffile severity; an added file in a system directory that no
 * package owns is flagged unowned.
 *
 * Package versions of both snapshots are held in memory (a few thousand
 * names); owners are looked up per deviation, which is cheap since only
 * deviations are looked up.
 */
#include "compare/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* What a package upgrade changes in a file it replaces (dpkg writes a new inode). */
#define CONTENT_ATTRS                                                                              \
	(ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_INODE | ATTR_DEVICE | ATTR_NLINK | \
	 ATTR_MIME)

struct pkgver {
	char *key; /* "name:arch" */
	char *version;
};

struct versions {
	struct pkgver *v;
	size_t n;
};

struct attrib {
	struct snap_store *st;
	int64_t before_id, after_id;
	bool before_pkgs, after_pkgs; /* ownership recorded */
	struct versions before_v, after_v;
	const struct rule_packages *pk;
	const struct rule_set *rules;
};

static int pkgver_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pkgver *)a)->key, ((const struct pkgver *)b)->key);
}

static void versions_free(struct versions *vs)
{
	for (size_t i = 0; i < vs->n; i++) {
		free(vs->v[i].key);
		free(vs->v[i].version);
	}
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static int versions_load(struct snap_store *st, int64_t id, struct versions *vs,
			 struct diag *reterr)
{
	struct snap_iter *it = NULL;
	const struct entry *e;
	size_t alloc = 0;
	int r;

	r = snap_iter_new(st, id, ENTRY_PACKAGE, NULL, 0, 0, &it, reterr);
	if (r < 0)
		return r;
	while ((r = snap_iter_next(it, &e, reterr)) > 0) {
		const uint8_t *val;
		size_t vlen;

		if (entry_xattrs_get(e->props, e->props_len, "version", &val, &vlen) != 1)
			continue;
		if (vs->n == alloc) {
			size_t na = alloc ? alloc * 2 : 256;
			struct pkgver *nv = realloc(vs->v, na * sizeof(*nv));
			if (!nv) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				break;
			}
			vs->v = nv;
			alloc = na;
		}
		vs->v[vs->n].key = strndup(e->key, e->key_len);
		vs->v[vs->n].version = strndup((const char *)val, vlen);
		if (!vs->v[vs->n].key || !vs->v[vs->n].version) {
			free(vs->v[vs->n].key);
			free(vs->v[vs->n].version);
			r = diag_set(reterr, -ENOMEM, "out of memory");
			break;
		}
		vs->n++;
	}
	snap_iter_free(it);
	if (r < 0)
		return r;
	/*
	 * The iterator is in key order already; sort anyway, bsearch depends on
	 * it. No package entries (a policy without a kind: package rule) leaves
	 * vs->v NULL, and qsort() must not be given a null pointer even for zero
	 * elements.
	 */
	if (vs->n > 0)
		qsort(vs->v, vs->n, sizeof(*vs->v), pkgver_cmp);
	return 0;
}

static int key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct pkgver *)elem)->key);
}

static const char *version_of_key(const struct versions *vs, const char *key);

static const char *version_of(const struct versions *vs, const char *name, const char *arch)
{
	struct strbuf key = STRBUF_INIT;
	const char *hit;

	if (strbuf_addf(&key, "%s:%s", name, arch) < 0)
		return NULL;
	hit = version_of_key(vs, key.buf);
	strbuf_release(&key);
	return hit;
}

int attrib_open(struct snap_store *st, const struct snap_info *before,
		const struct snap_info *after, const struct rule_set *rules, struct attrib **ret,
		struct diag *reterr)
{
	struct attrib *a;
	int r;

	*ret = NULL;
	if (!rules || !rule_set_packages(rules)->attribution)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return diag_set(reterr, -ENOMEM, "out of memory");
	a->st = st;
	a->before_id = before->id;
	a->after_id = after->id;
	a->rules = rules;
	a->pk = rule_set_packages(rules);
	r = snap_has_packages(st, before->id, &a->before_pkgs);
	if (r >= 0)
		r = snap_has_packages(st, after->id, &a->after_pkgs);
	if (r < 0)
		diag_set(reterr, r, "cannot read the snapshots' package data: %s", strerror(-r));
	if (r >= 0 && a->after_pkgs)
		r = versions_load(st, after->id, &a->after_v, reterr);
	if (r >= 0 && a->before_pkgs)
		r = versions_load(st, before->id, &a->before_v, reterr);
	if (r < 0 || !a->after_pkgs) {
		attrib_free(a);
		return r < 0 ? r : 0;
	}
	*ret = a;
	return 0;
}

void attrib_free(struct attrib *a)
{
	if (!a)
		return;
	versions_free(&a->before_v);
	versions_free(&a->after_v);
	free(a);
}

bool attrib_before_missing(const struct attrib *a)
{
	return a && !a->before_pkgs;
}

int attrib_owner(struct attrib *a, bool after, const char *path, size_t len, struct pkg_owner *ret)
{
	struct snap_owner so;
	struct diag d = { 0 };
	int r;

	memset(ret, 0, sizeof(*ret));
	if (!(after ? a->after_pkgs : a->before_pkgs))
		return 0;
	r = snap_owner_get(a->st, after ? a->after_id : a->before_id, path, len, &so, &d);
	if (r <= 0)
		return r;
	snprintf(ret->name, sizeof(ret->name), "%s", so.name);
	snprintf(ret->arch, sizeof(ret->arch), "%s", so.arch);
	snprintf(ret->version, sizeof(ret->version), "%s", so.version);
	ret->has_md5 = so.has_md5;
	ret->conffile = so.conffile;
	memcpy(ret->md5, so.md5, sizeof(ret->md5));
	return 1;
}

/* 1 and *ret, 0 when no package owns @e's path on that side, or a negative errno. */
static int owner_get(struct attrib *a, int64_t id, const struct entry *e, struct pkg_owner *ret)
{
	return attrib_owner(a, id == a->after_id, e->key, e->key_len, ret);
}

/* The version of "name:arch" @key on a side, or NULL. */
static const char *version_of_key(const struct versions *vs, const char *key)
{
	const struct pkgver *hit;

	if (vs->n == 0) /* vs->v may be NULL: not for bsearch() */
		return NULL;
	hit = bsearch(key, vs->v, vs->n, sizeof(*vs->v), key_cmp);
	return hit ? hit->version : NULL;
}

/* The first "@name:..." of @vs (any architecture), or NULL. */
static const struct pkgver *first_of_name(const struct versions *vs, const char *name)
{
	size_t n = strlen(name), lo = 0, hi = vs->n;

	/* Keys sort as "name:arch"; ':' sorts before every character a name may hold. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(vs->v[mid].key, name, n);
		if (c < 0 || (c == 0 && vs->v[mid].key[n] < ':'))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < vs->n && !strncmp(vs->v[lo].key, name, n) && vs->v[lo].key[n] == ':')
		return &vs->v[lo];
	return NULL;
}

bool attrib_versions(const struct attrib *a, const char *name, const char *arch,
		     const char **ret_before, const char **ret_after)
{
	const char *was = NULL, *now = NULL;

	if (arch) {
		now = version_of(&a->after_v, name, arch);
		was = version_of(&a->before_v, name, arch);
	} else {
		const struct pkgver *p = first_of_name(&a->after_v, name);
		if (p) {
			now = p->version;
			was = version_of_key(&a->before_v, p->key);
		} else if ((p = first_of_name(&a->before_v, name))) {
			was = p->version;
		}
	}
	if (ret_before)
		*ret_before = was;
	if (ret_after)
		*ret_after = now;
	if (!a->before_pkgs)
		return false;
	return (was == NULL) != (now == NULL) || (was && strcmp(was, now));
}

int attrib_each_changed(const struct attrib *a,
			int (*fn)(const char *key, const char *was, const char *now,
				  void *userdata),
			void *userdata)
{
	if (!a->before_pkgs)
		return 0;
	for (size_t i = 0; i < a->after_v.n; i++) {
		const char *was = version_of_key(&a->before_v, a->after_v.v[i].key);
		int r;

		if (was && !strcmp(was, a->after_v.v[i].version))
			continue;
		r = fn(a->after_v.v[i].key, was, a->after_v.v[i].version, userdata);
		if (r)
			return r;
	}
	return 0;
}

void attrib_set_package(struct finding_package *pkg, struct attrib_note *note, const char *name,
			const char *arch, const char *before_version, const char *after_version)
{
	if (arch)
		snprintf(note->package, sizeof(note->package), "%s:%s", name, arch);
	else
		snprintf(note->package, sizeof(note->package), "%s", name);
	snprintf(note->before_version, sizeof(note->before_version), "%s",
		 before_version ? before_version : "");
	snprintf(note->after_version, sizeof(note->after_version), "%s",
		 after_version ? after_version : "");
	pkg->name = note->package;
	pkg->before_version = before_version ? note->before_version : NULL;
	pkg->after_version = after_version ? note->after_version : NULL;
	pkg->unowned = false;
}

/*
 * Say that no package owns it: in place of the plain "new file", after an
 * escalation's reason ("new setuid file; not owned by any package"), which
 * says more.
 */
void attrib_note_unowned(struct rule_verdict *v)
{
	size_t len = strlen(v->reason);
	/* rule_classify()'s reason for an added entry: "new file", "new symlink"... */
	bool plain = !strncmp(v->reason, "new ", 4) && !strchr(v->reason + 4, ' ');

	if (!len || plain)
		verdict_reason(v, "not owned by any package");
	else
		snprintf(v->reason + len, sizeof(v->reason) - len, "; not owned by any package");
}

enum content_check {
	CONTENT_MATCHES,
	CONTENT_DIFFERS,
	CONTENT_UNKNOWN, /* changed since the snapshot, or unreadable: @why says */
};

/*
 * Whether @e's content, as the snapshot recorded it, has the MD5 sum @md5:
 * the host's file is read (once per finding, see live.c), and must still be
 * what the snapshot recorded (same digest), so that a file changed since
 * cannot be passed off as the package's.
 */
static enum content_check content_check(struct live *live, const struct entry *e,
					const uint8_t md5[16], char *why, size_t whysize)
{
	int r = live_read(live, e, false);

	if (r < 0) {
		snprintf(why, whysize, "%s", live->why);
		return CONTENT_UNKNOWN;
	}
	if (e->hash_len &&
	    (live->hash.hash_algo != e->hash_algo || live->hash.hash_len != e->hash_len ||
	     memcmp(live->hash.hash, e->hash, e->hash_len))) {
		snprintf(why, whysize, "the file changed since the snapshot");
		return CONTENT_UNKNOWN;
	}
	return memcmp(live->md5, md5, 16) ? CONTENT_DIFFERS : CONTENT_MATCHES;
}

static void set_package(struct finding_package *pkg, struct attrib_note *note,
			const struct pkg_owner *o, const char *before_version)
{
	attrib_set_package(pkg, note, o->name, o->arch, before_version, o->version);
}

int attrib_apply(struct attrib *a, const struct deviation *d, struct rule_verdict *v,
		 struct finding_package *pkg, struct attrib_note *note, struct live *live)
{
	const struct entry *e = d->after ? d->after : d->before;
	struct pkg_owner own, before_own;
	int r;

	if (!a || e->kind != ENTRY_FILE)
		return 0;

	if (d->change == CHANGE_REMOVED) {
		const char *now;

		if (!a->before_pkgs)
			return 0;
		r = owner_get(a, a->before_id, e, &before_own);
		if (r <= 0)
			return r;
		set_package(pkg, note, &before_own, before_own.version);
		now = version_of(&a->after_v, before_own.name, before_own.arch);
		/* The package's version on the after side: NULL when it is not installed there. */
		if (now)
			snprintf(note->after_version, sizeof(note->after_version), "%s", now);
		else
			pkg->after_version = NULL;
		r = owner_get(a, a->after_id, e, &own);
		if (r < 0) {
			return r;
		}
		if (r > 0) {
			/* The new snapshot's packages still ship it: no upgrade explains its loss.
			 */
			verdict_reason_add(v, "package %s %s still ships it", own.name,
					   own.version);
		} else if (!now) {
			v->class = CLASS_EXPECTED;
			verdict_reason(v, "package %s %s removed", before_own.name,
				       before_own.version);
		} else if (strcmp(now, before_own.version)) {
			v->class = CLASS_EXPECTED;
			verdict_reason(v, "package %s upgraded %s -> %s", before_own.name,
				       before_own.version, now);
		}
		return 0;
	}

	r = owner_get(a, a->after_id, e, &own);
	if (r < 0)
		return r;
	if (r == 0) {
		/* Owned by nothing: worth a look in a system directory. */
		if (d->change == CHANGE_ADDED && (S_ISREG(e->mode) || S_ISLNK(e->mode)) &&
		    rule_set_unowned_scope(a->rules, e->key, e->key_len)) {
			pkg->unowned = true;
			attrib_note_unowned(v);
			if (v->severity < a->pk->unowned_severity)
				v->severity = a->pk->unowned_severity;
		}
		return 0;
	}

	const char *was = a->before_pkgs ? version_of(&a->before_v, own.name, own.arch) : NULL;
	bool changed = a->before_pkgs && (!was || strcmp(was, own.version));
	char why[128];

	set_package(pkg, note, &own, was);
	if (!changed) {
		if (own.conffile && d->change == CHANGE_MODIFIED) {
			v->class = CLASS_DRIFT;
			v->severity = a->pk->conffile_severity;
			verdict_reason(v, "locally modified configuration (package %s %s)",
				       own.name, own.version);
		} else if (a->before_pkgs) {
			verdict_reason_add(v, "package %s %s did not change", own.name,
					   own.version);
		}
		goto out;
	}

	/* The package changed version: does the content match what it ships? */
	if (d->change == CHANGE_MODIFIED &&
	    (d->attrs & ~(CONTENT_ATTRS | (S_ISLNK(e->mode) ? ATTR_TARGET : 0)))) {
		/*
		 * An upgrade replaces content (a symlink's is its target); a new
		 * mode, owner or capability is not its doing.
		 */
		v->class = CLASS_DRIFT;
		verdict_reason_add(v,
				   "not explained by package %s %s: more than its content changed",
				   own.name, own.version);
		goto out;
	}
	if (!S_ISREG(e->mode) && own.has_md5) {
		v->class = CLASS_DRIFT;
		verdict_reason(v, "not a regular file; package %s %s ships one", own.name,
			       own.version);
		goto out;
	}
	if (!S_ISREG(e->mode)) {
		/* Directories and symlinks dpkg lists without a sum: the upgrade explains them. */
		v->class = CLASS_EXPECTED;
	} else if (!own.has_md5) {
		v->class = CLASS_DRIFT;
		verdict_reason(v, "package %s %s has no checksum for it", own.name, own.version);
		goto out;
	} else {
		switch (content_check(live, e, own.md5, why, sizeof(why))) {
		case CONTENT_MATCHES:
			v->class = CLASS_EXPECTED;
			break;
		case CONTENT_DIFFERS:
			v->class = CLASS_DRIFT;
			if (own.conffile) {
				v->severity = a->pk->conffile_severity;
				verdict_reason(v, "locally modified configuration (package %s %s)",
					       own.name, own.version);
			} else {
				verdict_reason(v, "content does not match package %s %s", own.name,
					       own.version);
			}
			goto out;
		case CONTENT_UNKNOWN:
			v->class = CLASS_DRIFT;
			verdict_reason(v, "cannot check against package %s %s: %s", own.name,
				       own.version, why);
			goto out;
		}
	}
	pkg->matches = true;
	if (was)
		verdict_reason(v, "package %s upgraded %s -> %s", own.name, was, own.version);
	else
		verdict_reason(v, "package %s %s installed", own.name, own.version);
out:
	return 0;
}
