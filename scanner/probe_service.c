/*
 * The service probe: systemd units as the unit directories describe them,
 * read without systemctl or D-Bus (so that it works on a mounted image).
 *
 *  - Directories, in systemd's priority order (unit_dirs[]): each that
 *    exists is listed once (a merged-/usr lib/ is the same directory as
 *    usr/lib/: skipped by st_dev/st_ino). Its entries are unit files
 *    (regular files and symlinks named *.service, *.socket...), *.wants/ and
 *    *.requires/ directories (whose entries are links: struct link), and
 *    *.d/ drop-in directories (struct dropdir).
 *  - Units: every candidate is collected, then sorted by (name, priority)
 *    and only the first of a name is kept, as systemd does. An instance
 *    that is linked but has no file of its own ("getty@tty1.service") is
 *    added as a unit of its template.
 *  - State: masked (a /dev/null link or an empty file, in any directory),
 *    enabled / enabled-runtime (linked from a .wants/.requires of etc/ or
 *    run/), alias (a symlink to a unit of another name), static (no
 *    [Install] section), disabled; "bad" when the file cannot be read.
 *  - Content: the digest (XXH3-128 canonical, or SHA-256) of the unit file's
 *    bytes followed by those of its drop-ins, taken in file name order, the
 *    first of a name in priority order winning (a /dev/null one masks).
 *
 * Every path goes through probe_open()/probe_read_file(), which resolve
 * symlinks inside the root; the directories' own symlinks are only read
 * (readlinkat), never followed.
 */
#include "scanner/probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"

#include "common/banned.h"

static const char *const unit_dirs[] = {
	"etc/systemd/system",     "run/systemd/system", "usr/local/lib/systemd/system",
	"usr/lib/systemd/system", "lib/systemd/system",
};
#define NDIRS   (sizeof(unit_dirs) / sizeof(unit_dirs[0]))
#define DIR_ETC 0
#define DIR_RUN 1

static const char *const unit_suffixes[] = {
	".service",   ".socket", ".timer",  ".path",  ".mount",
	".automount", ".swap",   ".target", ".slice", ".scope",
};

static const enum entry_kind service_kinds[] = { ENTRY_SERVICE, 0 };

/* One directory entry, looked at without following it. */
struct dent {
	char *name;
	unsigned char type; /* DT_REG, DT_LNK, DT_DIR or DT_UNKNOWN (anything else) */
	bool empty;         /* a regular file of size 0 */
	char *target;       /* symlinks: the link's text */
};

struct unit {
	char *name;
	int dir; /* index in unit_dirs; -1: an instance of template */
	bool symlink, empty;
	char *target; /* symlinks: the link's text */
	char *tmpl;   /* instances without a file: their template's name */
};

struct link {
	char *name;  /* the linked unit: an entry of a .wants/.requires directory */
	char *owner; /* the unit that wants it: "multi-user.target" */
	int dir;
	char *path; /* relative to the root, for findings */
};

struct dropdir {
	char *unit; /* "ssh.service" for ssh.service.d/ */
	int dir;
};

struct service_run {
	const struct probe_ctx *ctx;
	struct unit *units;
	size_t nunits, aunits;
	struct link *links;
	size_t nlinks, alinks;
	struct dropdir *dropdirs;
	size_t ndropdirs, adropdirs;
	struct strbuf content; /* unit bytes and drop-in bytes, for the digest */
	struct strbuf props;
	struct strbuf wanted;
	struct strbuf dropins;
	struct strbuf path;
};

/* strerror() text that does not depend on the locale or on other threads. */
static const char *errno_text(int err)
{
	const char *t = strerrordesc_np(err);

	return t ? t : "Unknown error";
}

/* The unit type suffix of @name (".service"), or NULL when @name is no unit name. */
static const char *unit_suffix(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (!dot || dot == name || strlen(name) > 255 || strchr(name, '/'))
		return NULL;
	for (size_t i = 0; i < sizeof(unit_suffixes) / sizeof(unit_suffixes[0]); i++)
		if (!strcmp(dot, unit_suffixes[i]))
			return dot;
	return NULL;
}

static bool unit_name_valid(const char *name)
{
	return unit_suffix(name) != NULL;
}

/*
 * The template of the instance @name ("getty@tty1.service" ->
 * "getty@.service") into @out (256 bytes); false when @name is no instance.
 */
static bool unit_template_of(const char *name, char *out)
{
	const char *at = strchr(name, '@'), *suffix = unit_suffix(name);

	if (!at || !suffix || at == name || at + 1 >= suffix)
		return false;
	snprintf(out, 256, "%.*s%s", (int)(at + 1 - name), name, suffix);
	return true;
}

static bool unit_is_template(const char *name)
{
	const char *at = strchr(name, '@'), *suffix = unit_suffix(name);

	return at && suffix && at != name && at + 1 == suffix;
}

static bool has_suffix(const char *s, const char *suffix, size_t *ret_stem)
{
	size_t n = strlen(s), k = strlen(suffix);

	if (n <= k || strcmp(s + n - k, suffix))
		return false;
	*ret_stem = n - k;
	return true;
}

static void dents_free(struct dent *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].name);
		free(v[i].target);
	}
	free(v);
}

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/*
 * The entries of the directory @fd (taken: closed here), sorted by name,
 * each lstat()ed. Returns 0 or a negative errno.
 */
static int dir_list(int fd, struct dent **ret_v, size_t *ret_n)
{
	struct dent *v = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *d;
	int r = 0;

	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	for (;;) {
		struct stat st;
		struct dent *e;

		errno = 0;
		de = readdir(d);
		if (!de) {
			r = -errno;
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* removed meanwhile */
			r = -errno;
			break;
		}
		if (n == alloc) {
			struct dent *nv;

			alloc = alloc ? 2 * alloc : 32;
			nv = realloc(v, alloc * sizeof(*nv));
			if (!nv) {
				r = -ENOMEM;
				break;
			}
			v = nv;
		}
		e = &v[n];
		memset(e, 0, sizeof(*e));
		e->name = strdup(de->d_name);
		if (!e->name) {
			r = -ENOMEM;
			break;
		}
		n++;
		e->type = S_ISREG(st.st_mode)   ? DT_REG
			  : S_ISLNK(st.st_mode) ? DT_LNK
			  : S_ISDIR(st.st_mode) ? DT_DIR
						: DT_UNKNOWN;
		e->empty = S_ISREG(st.st_mode) && st.st_size == 0;
		if (e->type == DT_LNK) {
			char buf[4096];
			ssize_t k = readlinkat(dirfd(d), e->name, buf, sizeof(buf) - 1);

			if (k < 0) {
				if (errno == ENOENT) {
					free(e->name);
					n--;
					continue;
				}
				r = -errno;
				break;
			}
			buf[k] = '\0';
			e->target = strdup(buf);
			if (!e->target) {
				r = -ENOMEM;
				break;
			}
		}
	}
	closedir(d);
	if (r < 0) {
		dents_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), dent_cmp);
	*ret_v = v;
	*ret_n = n;
	return 0;
}

/*
 * The array @v of *@alloc elements of @size, grown if needed to hold one
 * more than @n: @v itself, a new pointer, or NULL (out of memory, @v kept).
 */
static void *grow(void *v, size_t n, size_t *alloc, size_t size)
{
	void *nv;

	if (v && n < *alloc)
		return v;
	nv = realloc(v, (*alloc ? 2 * *alloc : 32) * size);
	if (nv)
		*alloc = *alloc ? 2 * *alloc : 32;
	return nv;
}

static int unit_add(struct service_run *s, const char *name, int dir, bool symlink, bool empty,
		    const char *target, const char *tmpl)
{
	struct unit *u, *nv = grow(s->units, s->nunits, &s->aunits, sizeof(*s->units));

	if (!nv)
		return -ENOMEM;
	s->units = nv;
	u = &s->units[s->nunits];
	memset(u, 0, sizeof(*u));
	u->dir = dir;
	u->symlink = symlink;
	u->empty = empty;
	u->name = strdup(name);
	u->target = target ? strdup(target) : NULL;
	u->tmpl = tmpl ? strdup(tmpl) : NULL;
	s->nunits++;
	if (!u->name || (target && !u->target) || (tmpl && !u->tmpl))
		return -ENOMEM;
	return 0;
}

/* Read the .wants/ or .requires/ directory @sub of unit directory @dir. */
static int links_read(struct service_run *s, size_t dir, const char *sub, const char *owner)
{
	struct dent *v = NULL;
	size_t n = 0;
	int fd, r;

	strbuf_reset(&s->path);
	if (strbuf_addf(&s->path, "%s/%s", unit_dirs[dir], sub) < 0)
		return -ENOMEM;
	fd = probe_open(s->ctx->rootfd, s->path.buf, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return 0;
	if (fd < 0) {
		probe_findingf(s->ctx, "service", s->path.buf, 0,
			       "cannot open directory: %s, skipping", errno_text(-fd));
		return fd == -ENOMEM ? fd : 0;
	}
	r = dir_list(fd, &v, &n);
	if (r < 0) {
		probe_findingf(s->ctx, "service", s->path.buf, 0,
			       "cannot read directory: %s, skipping", errno_text(-r));
		return r == -ENOMEM ? r : 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct link *l;

		if (v[i].type == DT_DIR || !unit_name_valid(v[i].name))
			continue;
		l = grow(s->links, s->nlinks, &s->alinks, sizeof(*s->links));
		if (!l) {
			r = -ENOMEM;
			goto out;
		}
		s->links = l;
		l = &s->links[s->nlinks++];
		l->dir = (int)dir;
		l->name = strdup(v[i].name);
		l->owner = strdup(owner);
		l->path = NULL;
		if (!l->name || !l->owner ||
		    asprintf(&l->path, "%s/%s", s->path.buf, v[i].name) < 0) {
			l->path = NULL;
			r = -ENOMEM;
			goto out;
		}
	}
	r = 0;
out:
	dents_free(v, n);
	return r;
}

/* List unit directory @dir (already open as @fd, taken). */
static int unit_dir_read(struct service_run *s, size_t dir, int fd)
{
	struct dent *v = NULL;
	size_t n = 0, stem;
	int r;

	r = dir_list(fd, &v, &n);
	if (r < 0) {
		if (r == -ENOMEM)
			return r;
		probe_findingf(s->ctx, "service", unit_dirs[dir], 0,
			       "cannot read directory: %s, skipping", errno_text(-r));
		return 0;
	}
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct dent *e = &v[i];
		char owner[256];

		if (e->type == DT_DIR) {
			if ((has_suffix(e->name, ".wants", &stem) ||
			     has_suffix(e->name, ".requires", &stem)) &&
			    stem < sizeof(owner)) {
				snprintf(owner, sizeof(owner), "%.*s", (int)stem, e->name);
				if (unit_name_valid(owner))
					r = links_read(s, dir, e->name, owner);
			} else if (has_suffix(e->name, ".d", &stem) && stem < sizeof(owner)) {
				snprintf(owner, sizeof(owner), "%.*s", (int)stem, e->name);
				if (unit_name_valid(owner)) {
					struct dropdir *dd =
						grow(s->dropdirs, s->ndropdirs, &s->adropdirs,
						     sizeof(*s->dropdirs));

					if (!dd) {
						r = -ENOMEM;
						break;
					}
					s->dropdirs = dd;
					dd = &s->dropdirs[s->ndropdirs];
					dd->dir = (int)dir;
					dd->unit = strdup(owner);
					if (!dd->unit)
						r = -ENOMEM;
					else
						s->ndropdirs++;
				}
			}
			continue;
		}
		if ((e->type == DT_REG || e->type == DT_LNK) && unit_name_valid(e->name))
			r = unit_add(s, e->name, (int)dir, e->type == DT_LNK, e->empty, e->target,
				     NULL);
	}
	dents_free(v, n);
	return r;
}

static int unit_cmp(const void *a, const void *b)
{
	const struct unit *ua = a, *ub = b;
	int c = strcmp(ua->name, ub->name);

	if (c)
		return c;
	return ua->dir < ub->dir ? -1 : ua->dir > ub->dir;
}

static void unit_release(struct unit *u)
{
	free(u->name);
	free(u->target);
	free(u->tmpl);
}

/* Sort the units, keeping the first of a name (the highest priority directory). */
static void units_dedupe(struct service_run *s)
{
	size_t k = 0;

	if (!s->nunits)
		return;
	qsort(s->units, s->nunits, sizeof(*s->units), unit_cmp);
	for (size_t i = 0; i < s->nunits; i++) {
		if (k && !strcmp(s->units[k - 1].name, s->units[i].name)) {
			unit_release(&s->units[i]);
			continue;
		}
		s->units[k++] = s->units[i];
	}
	s->nunits = k;
}

/* The unit @name among the first @n (sorted) units, or NULL. */
static const struct unit *unit_find_n(const struct service_run *s, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->units[mid].name);

		if (!c)
			return &s->units[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static const struct unit *unit_find(const struct service_run *s, const char *name)
{
	return unit_find_n(s, s->nunits, name);
}

static int link_cmp(const void *a, const void *b)
{
	const struct link *la = a, *lb = b;
	int c = strcmp(la->name, lb->name);

	if (c)
		return c;
	return la->dir < lb->dir ? -1 : la->dir > lb->dir;
}

/*
 * Linked names that have no unit file: an instance of a template that
 * exists becomes a unit of its own; anything else is a finding.
 */
static int instances_add(struct service_run *s)
{
	size_t nunits = s->nunits;
	int r;

	if (s->nlinks)
		qsort(s->links, s->nlinks, sizeof(*s->links), link_cmp);
	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		char tmpl[256];

		if (i && !strcmp(s->links[i - 1].name, l->name))
			continue;
		/* the units added here are not sorted yet: search the others */
		if (unit_find_n(s, nunits, l->name))
			continue;
		if (unit_template_of(l->name, tmpl) && unit_find_n(s, nunits, tmpl)) {
			r = unit_add(s, l->name, -1, false, false, NULL, tmpl);
			if (r < 0)
				return r;
			continue;
		}
		probe_findingf(s->ctx, "service", l->path, 0, "linked unit '%s' has no unit file",
			       l->name);
	}
	if (s->nunits != nunits)
		qsort(s->units, s->nunits, sizeof(*s->units), unit_cmp);
	return 0;
}

/*
 * The links of unit @name (for a template also those of its instances):
 * the sorted list of their owners into s->wanted, and where they are.
 */
static int unit_links(struct service_run *s, const char *name, bool *ret_etc, bool *ret_run)
{
	bool tmpl = unit_is_template(name), etc = false, run = false;
	const char **owners = NULL;
	size_t n = 0;
	int r;

	strbuf_reset(&s->wanted);
	for (size_t i = 0; i < s->nlinks; i++) {
		const struct link *l = &s->links[i];
		char t[256];

		if (strcmp(l->name, name) &&
		    !(tmpl && unit_template_of(l->name, t) && !strcmp(t, name)))
			continue;
		if (!owners) {
			owners = malloc(s->nlinks * sizeof(*owners));
			if (!owners)
				return -ENOMEM;
		}
		owners[n++] = l->owner;
		etc |= l->dir == DIR_ETC;
		run |= l->dir == DIR_RUN;
	}
	r = probe_list_join(owners, n, &s->wanted);
	free(owners);
	*ret_etc = etc;
	*ret_run = run;
	return r;
}

/* Does the unit file text have an [Install] section? */
static bool has_install_section(const char *text, size_t len)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *e = eol ? eol : end;

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if ((size_t)(e - p) == 9 && !memcmp(p, "[Install]", 9))
			return true;
		p = eol ? eol + 1 : end;
	}
	return false;
}

struct dropin {
	char *file; /* "override.conf" */
	char *path; /* relative to the root */
	size_t order;
	bool masked;
};

static int dropin_cmp(const void *a, const void *b)
{
	const struct dropin *da = a, *db = b;
	int c = strcmp(da->file, db->file);

	if (c)
		return c;
	return da->order < db->order ? -1 : da->order > db->order;
}

static bool dropdir_exists(const struct service_run *s, const char *unit, size_t dir)
{
	for (size_t i = 0; i < s->ndropdirs; i++)
		if (s->dropdirs[i].dir == (int)dir && !strcmp(s->dropdirs[i].unit, unit))
			return true;
	return false;
}

static void dropins_free(struct dropin *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++) {
		free(v[i].file);
		free(v[i].path);
	}
	free(v);
}

/*
 * The drop-ins of @name (and of its template @tmpl, may be NULL), in the
 * order they apply: by file name, the first of a name in priority order
 * winning. Masked ones (/dev/null, empty) are left out.
 */
static int dropins_find(struct service_run *s, const char *name, const char *tmpl,
			struct dropin **ret_v, size_t *ret_n)
{
	struct dropin *v = NULL;
	size_t n = 0, alloc = 0, order = 0, k = 0;
	const char *names[2] = { name, tmpl };
	int r = 0;

	for (size_t dir = 0; dir < NDIRS && r >= 0; dir++) {
		for (size_t j = 0; j < 2 && names[j] && r >= 0; j++) {
			struct dent *dv = NULL;
			size_t dn = 0, stem;
			char *sub;
			int fd;

			if (!dropdir_exists(s, names[j], dir))
				continue;
			if (asprintf(&sub, "%s/%s.d", unit_dirs[dir], names[j]) < 0)
				return -ENOMEM;
			fd = probe_open(s->ctx->rootfd, sub, O_RDONLY | O_DIRECTORY);
			r = fd < 0 ? fd : dir_list(fd, &dv, &dn);
			if (r < 0 && r != -ENOMEM) {
				if (r != -ENOENT)
					probe_findingf(s->ctx, "service", sub, 0,
						       "cannot read directory: %s, skipping",
						       errno_text(-r));
				r = 0;
				free(sub);
				continue;
			}
			for (size_t i = 0; i < dn && r >= 0; i++) {
				struct dropin *d;

				if ((dv[i].type != DT_REG && dv[i].type != DT_LNK) ||
				    !has_suffix(dv[i].name, ".conf", &stem))
					continue;
				d = grow(v, n, &alloc, sizeof(*v));
				if (!d) {
					r = -ENOMEM;
					break;
				}
				v = d;
				d = &v[n];
				d->order = order++;
				d->masked = dv[i].empty ||
					    (dv[i].target && !strcmp(dv[i].target, "/dev/null"));
				d->file = strdup(dv[i].name);
				if (!d->file || asprintf(&d->path, "%s/%s", sub, dv[i].name) < 0) {
					free(d->file);
					r = -ENOMEM;
					break;
				}
				n++;
			}
			dents_free(dv, dn);
			free(sub);
		}
	}
	if (r < 0) {
		dropins_free(v, n);
		return r;
	}
	if (n)
		qsort(v, n, sizeof(*v), dropin_cmp);
	/* keep the first of a file name; then drop the masks */
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1].file, v[i].file)) {
			free(v[i].file);
			free(v[i].path);
			continue;
		}
		v[k++] = v[i];
	}
	n = k;
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i].masked) {
			free(v[i].file);
			free(v[i].path);
			continue;
		}
		v[k++] = v[i];
	}
	*ret_v = v;
	*ret_n = k;
	return 0;
}

/* Lowercase hex of the digest of s->content into @out (65 bytes). */
static int content_digest(const struct service_run *s, char *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (s->ctx->hash == HASH_SHA256) {
		if (EVP_Digest(s->content.buf, s->content.len, md, &len, EVP_sha256(), NULL) != 1)
			return -EIO;
	} else {
		XXH128_canonical_t canon;

		XXH128_canonicalFromHash(&canon, XXH3_128bits(s->content.buf, s->content.len));
		memcpy(md, canon.digest, sizeof(canon.digest));
		len = sizeof(canon.digest);
	}
	probe_hex(md, len, out);
	return 0;
}

/* Read @path (relative) and append it to s->content: 0, or a negative errno. */
static int content_add(struct service_run *s, const char *path, bool *ret_install)
{
	char *buf;
	size_t len;
	int r;

	r = probe_read_file(s->ctx->rootfd, path, &buf, &len);
	if (r < 0)
		return r;
	if (ret_install)
		*ret_install = has_install_section(buf, len);
	r = strbuf_add(&s->content, buf, len);
	free(buf);
	return r;
}

/* The basename of @target when the symlink makes @u an alias of another unit, or NULL. */
static const char *unit_alias_of(const struct unit *u)
{
	const char *base, *slash;
	char t[256];

	if (!u->symlink || !u->target)
		return NULL;
	slash = strrchr(u->target, '/');
	base = slash ? slash + 1 : u->target;
	if (!strcmp(base, u->name) || !unit_name_valid(base))
		return NULL;
	/* "foo@bar.service -> foo@.service" is an instance, not an alias */
	if (unit_template_of(u->name, t) && !strcmp(t, base))
		return NULL;
	if (strcmp(unit_suffix(base), unit_suffix(u->name)))
		return NULL;
	return base;
}

static int unit_emit(struct service_run *s, const struct unit *u)
{
	const struct unit *file = u; /* whose file it is: the template's for an instance */
	struct entry_prop props[8];
	char content[2 * EVP_MAX_MD_SIZE + 1];
	const char *state = NULL, *alias = NULL, *error = NULL;
	char *rel = NULL;
	bool etc_link, run_link, install = true;
	struct dropin *dv = NULL;
	size_t dn = 0, n = 0;
	int r;

	if (u->tmpl) {
		file = unit_find(s, u->tmpl);
		if (!file) /* cannot be: instances_add() checked */
			return -EINVAL;
	}
	strbuf_reset(&s->dropins);
	r = unit_links(s, u->name, &etc_link, &run_link);
	if (r < 0)
		return r;
	if (asprintf(&rel, "%s/%s", unit_dirs[file->dir], file->name) < 0)
		return -ENOMEM;
	strbuf_reset(&s->path);
	r = strbuf_addf(&s->path, "/%s", rel);
	if (r < 0)
		goto out;

	/*
	 * Wherever it is, as systemd has it: Debian masks cryptdisks.service
	 * in lib/systemd/system. An instance of a masked template is masked.
	 */
	if ((file->symlink && file->target && !strcmp(file->target, "/dev/null")) ||
	    (!file->symlink && file->empty)) {
		state = "masked";
		goto emit;
	}

	strbuf_reset(&s->content);
	r = content_add(s, rel, &install);
	if (r < 0) {
		if (r == -ENOMEM)
			goto out;
		error = errno_text(-r);
		if (!u->tmpl) /* an instance: its template's entry has the finding */
			probe_findingf(s->ctx, "service", rel, 0, "cannot read unit file: %s",
				       error);
	} else {
		r = dropins_find(s, u->name, u->tmpl, &dv, &dn);
		if (r < 0)
			goto out;
		for (size_t i = 0; i < dn && !error; i++) {
			r = content_add(s, dv[i].path, NULL);
			if (r == -ENOMEM)
				goto out;
			if (r < 0) {
				error = errno_text(-r);
				probe_findingf(s->ctx, "service", dv[i].path, 0,
					       "cannot read drop-in: %s", error);
				break;
			}
			r = strbuf_addf(&s->dropins, "%s/%s", s->dropins.len ? "," : "",
					dv[i].path);
			if (r < 0)
				goto out;
		}
		if (!error) {
			r = content_digest(s, content);
			if (r < 0)
				goto out;
		}
	}

	alias = unit_alias_of(u);
	if (etc_link)
		state = "enabled";
	else if (run_link)
		state = "enabled-runtime";
	else if (alias)
		state = "alias";
	else if (u->tmpl)
		state = "static"; /* linked from a vendor .wants/ only */
	else if (error)
		state = "bad";
	else if (!install)
		state = "static";
	else
		state = "disabled";

emit:
	probe_prop_set(&props[n++], "path", s->path.buf);
	probe_prop_set(&props[n++], "state", state);
	if (alias && !strcmp(state, "alias"))
		probe_prop_set(&props[n++], "alias_of", alias);
	if (s->wanted.len)
		probe_prop_set(&props[n++], "wanted_by", s->wanted.buf);
	if (error) {
		probe_prop_set(&props[n++], "error", error);
	} else if (strcmp(state, "masked")) {
		probe_prop_set(&props[n++], "content", content);
		if (s->dropins.len)
			probe_prop_set(&props[n++], "dropins", s->dropins.buf);
	}
	r = entry_props_encode(&s->props, props, n);
	if (r < 0)
		goto out;
	r = probe_emit_entry(s->ctx, ENTRY_SERVICE, u->name, strlen(u->name), &s->props);
out:
	dropins_free(dv, dn);
	free(rel);
	return r;
}

static void service_run_release(struct service_run *s)
{
	for (size_t i = 0; i < s->nunits; i++)
		unit_release(&s->units[i]);
	for (size_t i = 0; i < s->nlinks; i++) {
		free(s->links[i].name);
		free(s->links[i].owner);
		free(s->links[i].path);
	}
	for (size_t i = 0; i < s->ndropdirs; i++)
		free(s->dropdirs[i].unit);
	free(s->units);
	free(s->links);
	free(s->dropdirs);
	strbuf_release(&s->content);
	strbuf_release(&s->props);
	strbuf_release(&s->wanted);
	strbuf_release(&s->dropins);
	strbuf_release(&s->path);
}

static int service_probe_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct service_run s = {
		.ctx = ctx,
		.content = STRBUF_INIT,
		.props = STRBUF_INIT,
		.wanted = STRBUF_INIT,
		.dropins = STRBUF_INIT,
		.path = STRBUF_INIT,
	};
	dev_t devs[NDIRS];
	ino_t inos[NDIRS];
	size_t nseen = 0;
	int r = 0;

	for (size_t dir = 0; dir < NDIRS; dir++) {
		struct stat st;
		bool dup = false;
		int fd = probe_open(ctx->rootfd, unit_dirs[dir], O_RDONLY | O_DIRECTORY);

		if (fd == -ENOENT || fd == -ENOTDIR)
			continue;
		if (fd < 0) {
			if (fd == -ENOMEM) {
				r = diag_set(reterr, fd, "cannot open '%s': %s", unit_dirs[dir],
					     errno_text(-fd));
				goto out;
			}
			probe_findingf(s.ctx, "service", unit_dirs[dir], 0,
				       "cannot open directory: %s, skipping", errno_text(-fd));
			continue;
		}
		if (fstat(fd, &st) < 0) {
			r = diag_set(reterr, -errno, "cannot stat '%s': %s", unit_dirs[dir],
				     errno_text(errno));
			close(fd);
			goto out;
		}
		/* a merged /usr: lib/systemd/system is usr/lib/systemd/system */
		for (size_t i = 0; i < nseen; i++)
			dup |= devs[i] == st.st_dev && inos[i] == st.st_ino;
		if (dup) {
			close(fd);
			continue;
		}
		devs[nseen] = st.st_dev;
		inos[nseen++] = st.st_ino;
		r = unit_dir_read(&s, dir, fd);
		if (r < 0) {
			r = diag_set(reterr, r, "cannot list '%s': %s", unit_dirs[dir],
				     errno_text(-r));
			goto out;
		}
	}
	if (!nseen) {
		r = PROBE_UNAVAILABLE;
		goto out;
	}
	units_dedupe(&s);
	r = instances_add(&s);
	if (r < 0) {
		r = diag_set(reterr, r, "service probe failed: %s", errno_text(-r));
		goto out;
	}
	for (size_t i = 0; i < s.nunits; i++) {
		r = unit_emit(&s, &s.units[i]);
		if (r < 0) {
			r = diag_set(reterr, r, "service probe stopped at '%s': %s",
				     s.units[i].name, errno_text(-r));
			goto out;
		}
	}
	r = 0;
out:
	service_run_release(&s);
	return r;
}

/** The service probe: ENTRY_SERVICE entries (see the top of this file). */
const struct probe probe_service = {
	.name = "service",
	.kinds = service_kinds,
	.summary = "systemd units: state, enablement and content of the unit files and drop-ins",
	.run = service_probe_run,
};
