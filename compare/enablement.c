/*
 * Explaining service enablement: what deb-systemd-helper and update-rc.d
 * write when a package with a service is installed or upgraded.
 *
 *  - A symlink added (or retargeted) under /etc/systemd/system/ (in an
 *    X.wants/ or X.requires/ directory, or an alias beside them) is
 *    expected when deb-systemd-helper recorded it: one of its state files
 *    var/lib/systemd/deb-systemd-helper-enabled/UNIT.dsh-also lists the
 *    link's path, its target is a unit file (below lib/systemd/system or
 *    usr/lib/systemd/system) and the package that owns that unit on the
 *    after side was installed or upgraded between the snapshots.
 *  - A link /etc/rcN.d/[SK]NNname to ../init.d/name (or /etc/init.d/name)
 *    is expected when the init script /etc/init.d/name belongs to a package
 *    installed or upgraded between the snapshots (update-rc.d keeps no
 *    state of its own; the package's change is the record).
 *  - A service entry added or modified is expected when its unit file
 *    (property "path") belongs to a package installed or upgraded between
 *    the snapshots.
 *
 * Everything else stays drift, saying why where the record speaks: a link
 * no .dsh-also lists (systemctl enable by hand), a target no package owns,
 * a package that did not change (enabled by hand long after its install),
 * an rc link to an init script no package ships. Removals stay drift too.
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

#include "common/strbuf.h"
#include "scanner/probe.h"

#include "common/banned.h"

#define DSH_DIR     "var/lib/systemd/deb-systemd-helper-enabled"
#define DSH_SUFFIX  ".dsh-also"
#define SYSTEMD_ETC "/etc/systemd/system/"

struct enable_state {
	char **links; /* every path the .dsh-also files list, sorted */
	size_t n;
	/* lib/ is a link to usr/lib/ on the host: a unit is owned under either name. */
	bool lib_merged;
};

/* The attributes a re-made or retargeted symlink changes; anything else is not ours. */
#define LINK_ATTRS (ATTR_TARGET | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_INODE)

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_link(struct enable_state *s, size_t *cap, const char *path)
{
	if (s->n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 32;
		char **nl = realloc(s->links, ncap * sizeof(*nl));

		if (!nl)
			return -ENOMEM;
		s->links = nl;
		*cap = ncap;
	}
	s->links[s->n] = strdup(path);
	if (!s->links[s->n])
		return -ENOMEM;
	s->n++;
	return 0;
}

/* The links one state file lists, one absolute path a line; anything else is skipped. */
static int read_state_file(struct enable_state *s, size_t *cap, int rootfd, const char *name)
{
	struct strbuf path = STRBUF_INIT;
	char *buf = NULL, *line, *save = NULL;
	size_t len;
	int r;

	r = strbuf_addf(&path, DSH_DIR "/%s", name);
	if (r < 0)
		return r;
	r = probe_read_file(rootfd, path.buf, &buf, &len);
	strbuf_release(&path);
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0; /* unreadable: it records nothing we could use */
	if (strlen(buf) != len) {
		free(buf); /* a NUL byte: not a state file deb-systemd-helper wrote */
		return 0;
	}
	for (line = strtok_r(buf, "\n", &save); line && r >= 0;
	     line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);

		if (l && line[l - 1] == '\r')
			line[--l] = '\0';
		if (line[0] == '/' && !strstr(line, "/../"))
			r = add_link(s, cap, line);
	}
	free(buf);
	return r;
}

static int state_load(struct explain *x, struct enable_state **ret)
{
	struct enable_state *s = calloc(1, sizeof(*s));
	char lib[16];
	ssize_t n;
	size_t cap = 0;
	int fd, r = 0;

	if (!s)
		return -ENOMEM;
	n = readlinkat(x->rootfd, "lib", lib, sizeof(lib) - 1);
	if (n > 0) {
		lib[n] = '\0';
		s->lib_merged = !strcmp(lib, "usr/lib") || !strcmp(lib, "/usr/lib");
	}
	fd = probe_open(x->rootfd, DSH_DIR, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOMEM) {
		r = -ENOMEM;
	} else if (fd >= 0) {
		DIR *dir = fdopendir(fd);
		const struct dirent *de;

		if (!dir) {
			r = errno == ENOMEM ? -ENOMEM : 0;
			close(fd);
		}
		while (dir && r >= 0 && (de = readdir(dir))) {
			size_t l = strlen(de->d_name), sl = strlen(DSH_SUFFIX);

			if (l > sl && !strcmp(de->d_name + l - sl, DSH_SUFFIX) &&
			    (de->d_type == DT_REG || de->d_type == DT_UNKNOWN))
				r = read_state_file(s, &cap, x->rootfd, de->d_name);
		}
		if (dir)
			closedir(dir);
	}
	if (r < 0) {
		enablement_free(s);
		return r;
	}
	if (s->n)
		qsort(s->links, s->n, sizeof(*s->links), str_cmp);
	*ret = s;
	return 0;
}

void enablement_free(struct enable_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->links[i]);
	free(s->links);
	free(s);
}

static bool recorded(const struct enable_state *s, const char *path)
{
	return s->n && bsearch(&path, s->links, s->n, sizeof(*s->links), str_cmp);
}

/*
 * The absolute, normalized target of the link @key (@len bytes) to
 * @target (@tlen): "." and ".." resolved lexically, as the link's text
 * says. Returns a malloc()ed string, or NULL (out of memory).
 */
static char *link_target(const char *key, size_t len, const char *target, size_t tlen)
{
	struct strbuf in = STRBUF_INIT;
	char *out, *seg, *save = NULL;
	size_t o = 0;

	if (tlen && target[0] == '/') {
		if (strbuf_add(&in, target, tlen) < 0)
			return NULL;
	} else {
		const char *slash = memrchr(key, '/', len);
		size_t dlen = slash ? (size_t)(slash - key) : 0;

		if (strbuf_add(&in, key, dlen) < 0 || strbuf_addch(&in, '/') < 0 ||
		    strbuf_add(&in, target, tlen) < 0) {
			strbuf_release(&in);
			return NULL;
		}
	}
	out = malloc(in.len + 2);
	if (!out) {
		strbuf_release(&in);
		return NULL;
	}
	for (seg = strtok_r(in.buf, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
		size_t sl = strlen(seg);

		if (!strcmp(seg, "."))
			continue;
		if (!strcmp(seg, "..")) {
			while (o > 0 && out[o - 1] != '/')
				o--;
			if (o > 0)
				o--; /* the '/' before the dropped segment */
			continue;
		}
		out[o++] = '/';
		memcpy(out + o, seg, sl);
		o += sl;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	strbuf_release(&in);
	return out;
}

/*
 * The package owning @path on the after side; with a merged /usr, under
 * the other name too (a link to /lib/systemd/system/x.service names the
 * file a package ships as /usr/lib/systemd/system/x.service). 1, 0 or a
 * negative errno.
 */
static int unit_owner(struct explain *x, const char *path, struct pkg_owner *own)
{
	struct strbuf alt = STRBUF_INIT;
	int r = attrib_owner(x->attrib, true, path, strlen(path), own);

	if (r != 0 || !x->enable->lib_merged)
		return r;
	if (!strncmp(path, "/lib/", 5))
		r = strbuf_addf(&alt, "/usr%s", path);
	else if (!strncmp(path, "/usr/lib/", 9))
		r = strbuf_adds(&alt, path + 4);
	else
		return 0;
	if (r >= 0)
		r = attrib_owner(x->attrib, true, alt.buf, alt.len, own);
	strbuf_release(&alt);
	return r;
}

/*
 * The verdict by the package @own that owns what the link or entry points
 * to: expected with @what when it was installed or upgraded between the
 * snapshots, else still drift saying so.
 */
static void by_package(struct explain *x, const struct pkg_owner *own, struct rule_verdict *v,
		       struct finding_package *pkg, struct attrib_note *note, const char *what,
		       bool service)
{
	const char *was = NULL, *now = NULL;
	bool changed = attrib_versions(x->attrib, own->name, own->arch, &was, &now);

	attrib_set_package(pkg, note, own->name, own->arch, was, now);
	if (!changed || !now) {
		verdict_reason_add(v, "package %s %s did not change between the snapshots",
				   own->name, own->version);
		return;
	}
	v->class = CLASS_EXPECTED;
	if (service && was)
		verdict_reason(v, "unit of package %s %s, upgraded from %s", own->name, now, was);
	else if (service)
		verdict_reason(v, "unit of package %s %s, installed", own->name, now);
	else
		verdict_reason(v, "%s for package %s %s", what, own->name, now);
}

static bool in_unit_dir(const char *path)
{
	return !strncmp(path, "/lib/systemd/system/", 20) ||
	       !strncmp(path, "/usr/lib/systemd/system/", 24);
}

/* A link of /etc/systemd/system/: in X.wants/, X.requires/, or an alias directly there. */
static bool systemd_link_path(const char *key)
{
	const char *rest = key + strlen(SYSTEMD_ETC), *slash = strchr(rest, '/');
	size_t dl;

	if (!*rest)
		return false;
	if (!slash)
		return true;
	if (strchr(slash + 1, '/') || !slash[1])
		return false;
	dl = (size_t)(slash - rest);
	return (dl > 6 && !memcmp(slash - 6, ".wants", 6)) ||
	       (dl > 9 && !memcmp(slash - 9, ".requires", 9));
}

static int systemd_link(struct explain *x, const char *key, const char *target,
			struct rule_verdict *v, struct finding_package *pkg,
			struct attrib_note *note)
{
	struct pkg_owner own;
	int r;

	if (!recorded(x->enable, key)) {
		verdict_reason_add(v, "no deb-systemd-helper record of this link");
		return 1;
	}
	if (!in_unit_dir(target)) {
		verdict_reason_add(v, "its target %s is not a packaged unit file", target);
		return 1;
	}
	r = unit_owner(x, target, &own);
	if (r < 0)
		return r;
	if (r == 0) {
		verdict_reason_add(v, "its target %s is not owned by any package", target);
		return 1;
	}
	by_package(x, &own, v, pkg, note, "enabled by deb-systemd-helper", false);
	return 1;
}

/* "/etc/rcN.d/[SK]NNname": the name, or NULL. */
static const char *rc_link_name(const char *key)
{
	static const char levels[] = "0123456S";

	if (strncmp(key, "/etc/rc", 7) || !key[7] || !strchr(levels, key[7]) ||
	    strncmp(key + 8, ".d/", 3))
		return NULL;
	key += 11;
	if ((key[0] != 'S' && key[0] != 'K') || key[1] < '0' || key[1] > '9' || key[2] < '0' ||
	    key[2] > '9' || !key[3] || strchr(key + 3, '/'))
		return NULL;
	return key + 3;
}

static int rc_link(struct explain *x, const char *name, const char *target, struct rule_verdict *v,
		   struct finding_package *pkg, struct attrib_note *note)
{
	struct pkg_owner own;
	int r;

	if (strncmp(target, "/etc/init.d/", 12) || strcmp(target + 12, name)) {
		verdict_reason_add(v, "not a link to its init script /etc/init.d/%s", name);
		return 1;
	}
	r = attrib_owner(x->attrib, true, target, strlen(target), &own);
	if (r < 0)
		return r;
	if (r == 0) {
		verdict_reason_add(v, "init script %s is not owned by any package", target);
		return 1;
	}
	by_package(x, &own, v, pkg, note, "enabled by update-rc.d", false);
	return 1;
}

static int service_entry(struct explain *x, const struct deviation *d, struct rule_verdict *v,
			 struct finding_package *pkg, struct attrib_note *note)
{
	struct pkg_owner own;
	const uint8_t *val;
	size_t len;
	char *path;
	int r;

	if (d->change == CHANGE_REMOVED ||
	    entry_xattrs_get(d->after->props, d->after->props_len, "path", &val, &len) != 1 ||
	    !len || val[0] != '/' || memchr(val, '\0', len))
		return 0;
	path = strndup((const char *)val, len);
	if (!path)
		return -ENOMEM;
	r = unit_owner(x, path, &own);
	if (r == 0)
		verdict_reason_add(v, "its unit file %s is not owned by any package", path);
	free(path);
	if (r < 0)
		return r;
	if (r > 0)
		by_package(x, &own, v, pkg, note, NULL, true);
	return 1;
}

int enablement_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		       struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after ? d->after : d->before;
	const char *name = NULL;
	char *key, *target;
	bool systemd;
	int r;

	if (e->kind != ENTRY_FILE && e->kind != ENTRY_SERVICE)
		return 0;
	if (e->kind == ENTRY_FILE) {
		/* A link made or retargeted: a removal, or a link's owner or mode, is not ours. */
		if (d->change == CHANGE_REMOVED || !S_ISLNK(e->mode) || !e->target ||
		    !e->target_len || memchr(e->key, '\0', e->key_len) ||
		    memchr(e->target, '\0', e->target_len))
			return 0;
		if (d->change == CHANGE_MODIFIED &&
		    (!S_ISLNK(d->before->mode) || (d->attrs & ~(uint32_t)LINK_ATTRS)))
			return 0;
	}
	if (!x->enable) {
		r = state_load(x, &x->enable);
		if (r < 0)
			return r;
	}
	if (e->kind == ENTRY_SERVICE)
		return service_entry(x, d, v, pkg, note);

	key = strndup(e->key, e->key_len);
	if (!key)
		return -ENOMEM;
	systemd = !strncmp(key, SYSTEMD_ETC, strlen(SYSTEMD_ETC)) && systemd_link_path(key);
	if (!systemd)
		name = rc_link_name(key);
	if (!systemd && !name) {
		free(key);
		return 0;
	}
	target = link_target(e->key, e->key_len, e->target, e->target_len);
	if (!target) {
		free(key);
		return -ENOMEM;
	}
	if (systemd)
		r = systemd_link(x, key, target, v, pkg, note);
	else
		r = rc_link(x, name, target, v, pkg, note);
	free(target);
	free(key);
	return r;
}
