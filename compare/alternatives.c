/*
 * Explaining the links update-alternatives manages.
 *
 * Its administrative directory, /var/lib/dpkg/alternatives, holds one file
 * per alternative NAME (update-alternatives(1), "FILES"): the mode ("auto"
 * or "manual"), the master link (/usr/bin/editor), pairs of lines (slave
 * name, slave link) ended by an empty line, then for each registered
 * alternative its path, its priority and one line per slave (the slave's
 * path, empty when it has none), ended by an empty line.
 *
 * Expected, for a symlink added or retargeted (nothing else about it
 * changed) at a path no dpkg package owns:
 *  - a master or slave link that points to /etc/alternatives/NAME, NAME
 *    being its alternative's (or slave's) name: "link of alternative NAME";
 *  - /etc/alternatives/NAME pointing to one of the paths registered for
 *    NAME (an alternative's path, or its path for that slave) that a
 *    package owns on the after side: "alternative NAME -> TARGET (package
 *    PKG VERSION)".
 * Drift, saying why: a managed link pointing anywhere else, a registered
 * path no package owns, something else than a symlink at a managed path,
 * a path two alternatives claim. An admin file that is malformed registers
 * nothing (its links stay drift); links not managed, and removed links,
 * are not this source's business.
 */
#include "compare/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scanner/probe.h"

#include "common/banned.h"

#define ADMIN_DIR "var/lib/dpkg/alternatives"
#define ALT_DIR   "/etc/alternatives/"

struct alt_slave {
	const char *name, *link;
};

/* One admin file; its strings point into @buf. */
struct alt_group {
	char *buf;
	char *name;
	const char *link;
	struct alt_slave *slaves;
	size_t nslaves;
	/* Per alternative, 1 + nslaves paths: its own, then each slave's ("": none). */
	const char **paths;
	size_t nchoices;
};

/* A managed path or name: which group, and which of its links (0: the master, i: slave i-1). */
struct alt_key {
	const char *key;
	size_t key_len;
	struct alt_group *g; /* NULL: two alternatives claim it */
	size_t which;
};

struct alt_state {
	struct alt_group *groups;
	size_t ngroups;
	struct alt_key *links, *names;
	size_t nlinks, nnames;
};

/* What retargeting a symlink changes. */
#define ALT_ATTRS                                                                     \
	(ATTR_TARGET | ATTR_SIZE | ATTR_HASH | ATTR_MTIME | ATTR_CTIME | ATTR_INODE | \
	 ATTR_DEVICE | ATTR_NLINK)

static void group_release(struct alt_group *g)
{
	free(g->buf);
	free(g->name);
	free(g->slaves);
	free(g->paths);
}

/* The next line, NUL-terminated in place; NULL at the end (or at a line holding a NUL). */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl, *eol;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	eol = nl ? nl : end;
	if (memchr(line, '\0', (size_t)(eol - line)))
		return NULL;
	*eol = '\0';
	*p = eol + 1;
	return line;
}

static bool is_priority(const char *s)
{
	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int grow(void *pp, size_t *alloc, size_t n, size_t size)
{
	void **p = pp; /* the address of the caller's array pointer */
	size_t na = *alloc ? *alloc : 8;
	void *np;

	if (n < *alloc)
		return 0;
	while (na <= n)
		na *= 2;
	np = realloc(*p, na * size);
	if (!np)
		return -ENOMEM;
	*p = np;
	*alloc = na;
	return 0;
}

/*
 * Parse the admin file in @g->buf (@len bytes): 1 when well formed, 0 when
 * not (it registers nothing then), -ENOMEM.
 */
static int group_parse(struct alt_group *g, size_t len)
{
	char *p = g->buf, *end = g->buf + len, *line;
	size_t salloc = 0, palloc = 0, npaths = 0;

	line = next_line(&p, end);
	if (!line || (strcmp(line, "auto") && strcmp(line, "manual")))
		return 0;
	line = next_line(&p, end);
	if (!line || line[0] != '/')
		return 0;
	g->link = line;
	for (;;) {
		char *name = next_line(&p, end), *link;

		if (!name)
			return 0;
		if (!*name)
			break;
		link = next_line(&p, end);
		if (strchr(name, '/') || !link || link[0] != '/')
			return 0;
		if (grow(&g->slaves, &salloc, g->nslaves, sizeof(*g->slaves)))
			return -ENOMEM;
		g->slaves[g->nslaves++] = (struct alt_slave){ name, link };
	}
	for (;;) {
		char *path = next_line(&p, end), *prio;

		if (!path)
			return 0; /* the list ends with an empty line */
		if (!*path)
			break;
		prio = next_line(&p, end);
		if (path[0] != '/' || !prio || !is_priority(prio))
			return 0;
		if (grow(&g->paths, &palloc, npaths + g->nslaves, sizeof(*g->paths)))
			return -ENOMEM;
		g->paths[npaths++] = path;
		for (size_t i = 0; i < g->nslaves; i++) {
			char *sp = next_line(&p, end);

			if (!sp || (*sp && sp[0] != '/'))
				return 0;
			g->paths[npaths++] = sp;
		}
		g->nchoices++;
	}
	return 1;
}

static int key_cmp(const void *a, const void *b)
{
	const struct alt_key *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	return x->key_len < y->key_len ? -1 : x->key_len > y->key_len;
}

/* Sort @keys; a key listed twice is kept once, claimed by nobody (g NULL). */
static size_t keys_sort(struct alt_key *keys, size_t n)
{
	size_t out = 0;

	if (!n)
		return 0;
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < n; i++) {
		if (out && !key_cmp(&keys[out - 1], &keys[i])) {
			keys[out - 1].g = NULL;
			continue;
		}
		keys[out++] = keys[i];
	}
	return out;
}

static int index_build(struct alt_state *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->ngroups; i++)
		n += 1 + s->groups[i].nslaves;
	if (!n)
		return 0;
	s->links = calloc(n, sizeof(*s->links));
	s->names = calloc(n, sizeof(*s->names));
	if (!s->links || !s->names)
		return -ENOMEM;
	for (size_t i = 0; i < s->ngroups; i++) {
		struct alt_group *g = &s->groups[i];

		for (size_t j = 0; j <= g->nslaves; j++) {
			const char *link = j ? g->slaves[j - 1].link : g->link;
			const char *name = j ? g->slaves[j - 1].name : g->name;

			s->links[s->nlinks++] = (struct alt_key){ link, strlen(link), g, j };
			s->names[s->nnames++] = (struct alt_key){ name, strlen(name), g, j };
		}
	}
	s->nlinks = keys_sort(s->links, s->nlinks);
	s->nnames = keys_sort(s->names, s->nnames);
	return 0;
}

/* Read the admin file @name into a new group of @s; a malformed or unreadable one is skipped. */
static int group_load(struct explain *x, struct alt_state *s, size_t *alloc, const char *name)
{
	struct alt_group g = { 0 };
	size_t len, plen = sizeof(ADMIN_DIR "/") + strlen(name);
	char *path = malloc(plen);
	int r;

	if (!path)
		return -ENOMEM;
	snprintf(path, plen, ADMIN_DIR "/%s", name);
	r = probe_read_file(x->rootfd, path, &g.buf, &len);
	free(path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0;
	g.name = strdup(name);
	r = g.name ? group_parse(&g, len) : -ENOMEM;
	if (r == 1)
		r = grow(&s->groups, alloc, s->ngroups, sizeof(*s->groups));
	else if (r == 0)
		r = 1; /* malformed: registers nothing */
	if (r != 0) {
		group_release(&g);
		return r < 0 ? r : 0;
	}
	s->groups[s->ngroups++] = g;
	return 0;
}

static int state_load(struct explain *x)
{
	struct alt_state *s = calloc(1, sizeof(*s));
	size_t alloc = 0;
	struct dirent *de;
	DIR *dir = NULL;
	int fd, r = 0;

	if (!s)
		return -ENOMEM;
	fd = probe_open(x->rootfd, ADMIN_DIR, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		dir = fdopendir(fd);
		if (!dir) {
			r = errno == ENOMEM ? -ENOMEM : 0;
			close(fd);
		}
	} else if (fd == -ENOMEM) {
		r = fd;
	}
	while (dir && r == 0 && (de = readdir(dir))) {
		/* Hidden files and dpkg's leftovers (NAME.dpkg-tmp) register nothing. */
		if (de->d_name[0] == '.' || strstr(de->d_name, ".dpkg-"))
			continue;
		r = group_load(x, s, &alloc, de->d_name);
	}
	if (dir)
		closedir(dir);
	if (r == 0)
		r = index_build(s);
	if (r < 0) {
		alternatives_free(s);
		return r;
	}
	x->alt = s;
	return 0;
}

static const struct alt_key *lookup(const struct alt_key *keys, size_t n, const char *key,
				    size_t len)
{
	struct alt_key k = { .key = key, .key_len = len };

	if (!n)
		return NULL;
	return bsearch(&k, keys, n, sizeof(*keys), key_cmp);
}

/* The name of @k's link: the alternative's, or its slave's. */
static const char *key_name(const struct alt_key *k)
{
	return k->which ? k->g->slaves[k->which - 1].name : k->g->name;
}

/* A master or slave link: it must point to /etc/alternatives/NAME. */
static int link_explain(const struct alt_key *k, const struct entry *e, struct rule_verdict *v)
{
	const char *name = key_name(k);
	size_t nlen = strlen(name);

	if (e->target_len == strlen(ALT_DIR) + nlen &&
	    !memcmp(e->target, ALT_DIR, strlen(ALT_DIR)) &&
	    !memcmp(e->target + strlen(ALT_DIR), name, nlen)) {
		v->class = CLASS_EXPECTED;
		if (k->which)
			verdict_reason(v, "link of alternative %s (slave of %s)", name, k->g->name);
		else
			verdict_reason(v, "link of alternative %s", name);
		return 1;
	}
	verdict_reason(v, "link of alternative %s points to %.*s, not " ALT_DIR "%s", name,
		       (int)e->target_len, e->target, name);
	return 1;
}

/* /etc/alternatives/NAME: it must point to a registered path that a package owns. */
static int choice_explain(struct explain *x, const struct alt_key *k, const struct entry *e,
			  struct rule_verdict *v, struct finding_package *pkg,
			  struct attrib_note *note)
{
	const struct alt_group *g = k->g;
	const char *name = key_name(k);
	const char *was;
	struct pkg_owner own;
	bool registered = false;
	int r;

	for (size_t i = 0; i < g->nchoices && !registered; i++) {
		const char *p = g->paths[i * (1 + g->nslaves) + k->which];

		registered =
			*p && strlen(p) == e->target_len && !memcmp(p, e->target, e->target_len);
	}
	if (!registered) {
		verdict_reason(v, "alternative %s points to %.*s, which is not registered", name,
			       (int)e->target_len, e->target);
		return 1;
	}
	r = attrib_owner(x->attrib, true, e->target, e->target_len, &own);
	if (r < 0)
		return r;
	if (r == 0) {
		verdict_reason(v, "alternative %s -> %.*s: registered, but owned by no package",
			       name, (int)e->target_len, e->target);
		return 1;
	}
	attrib_versions(x->attrib, own.name, own.arch, &was, NULL);
	attrib_set_package(pkg, note, own.name, own.arch, was, own.version);
	v->class = CLASS_EXPECTED;
	verdict_reason(v, "alternative %s -> %.*s (package %s %s)", name, (int)e->target_len,
		       e->target, own.name, own.version);
	return 1;
}

int alternatives_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
			 struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after;
	const struct alt_key *kl, *kn = NULL;
	struct pkg_owner own;
	size_t dirlen = strlen(ALT_DIR);
	int r;

	if (!e || e->kind != ENTRY_FILE || d->change == CHANGE_REMOVED)
		return 0;
	if (!x->alt) {
		r = state_load(x);
		if (r < 0)
			return r;
	}
	kl = lookup(x->alt->links, x->alt->nlinks, e->key, e->key_len);
	if (!kl && e->key_len > dirlen && !memcmp(e->key, ALT_DIR, dirlen) &&
	    !memchr(e->key + dirlen, '/', e->key_len - dirlen))
		kn = lookup(x->alt->names, x->alt->nnames, e->key + dirlen, e->key_len - dirlen);
	if (!kl && !kn)
		return 0;
	/* A path dpkg lists is dpkg's to explain (attrib.c did). */
	r = attrib_owner(x->attrib, true, e->key, e->key_len, &own);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!(kl ? kl : kn)->g) {
		verdict_reason_add(v, "more than one alternative claims it");
		return 1;
	}
	if (!S_ISLNK(e->mode) || !e->target) {
		verdict_reason_add(v, "managed by alternative %s, but not a symlink",
				   key_name(kl ? kl : kn));
		return 1;
	}
	if (d->change == CHANGE_MODIFIED && (d->attrs & ~ALT_ATTRS)) {
		verdict_reason_add(v,
				   "not explained by alternatives: more than its target changed");
		return 1;
	}
	return kl ? link_explain(kl, e, v) : choice_explain(x, kn, e, v, pkg, note);
}

void alternatives_free(struct alt_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->ngroups; i++)
		group_release(&s->groups[i]);
	free(s->groups);
	free(s->links);
	free(s->names);
	free(s);
}
