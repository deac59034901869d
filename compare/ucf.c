/*
 * Explaining configuration that ucf installed.
 *
 * ucf installs configuration files that packages do not ship as conffiles
 * (a postinst generates or copies them, e.g. aide-common's), and keeps two
 * records of them: /var/lib/ucf/registry ("PACKAGE <blanks> PATH", written
 * by ucfr) says which package a file belongs to, and /var/lib/ucf/hashfile
 * ("MD5SUM  PATH", md5sum's format) the MD5 sum of the version ucf
 * installed. A regular file, added or with only its content changed, that
 * the registry lists, that no dpkg package owns, whose package is
 * installed, and whose content on the host (still what the snapshot
 * recorded) has the hashfile's sum, is expected. One whose content differs
 * is the package's configuration modified locally: drift at the policy's
 * conffile severity. Everything else stays drift: a file ucf does not
 * know, a package not installed, no sum recorded, a new mode or owner
 * (not ucf's doing), a file changed since the snapshot. Removed files are
 * not this source's business. Malformed lines of either record are
 * skipped, and a path listed twice with different words is not believed.
 */
#include "compare/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scanner/probe.h"

#include "common/banned.h"

/* One record line: a path (not NUL-terminated necessarily) and what it says. */
struct ucf_rec {
	const char *path;
	size_t path_len;
	const char *pkg; /* registry: the package, NUL-terminated */
	uint8_t md5[16]; /* hashfile: the sum */
	bool ambiguous;  /* listed again with another word: no record */
};

struct ucf_state {
	char *reg_buf, *hash_buf;
	struct ucf_rec *reg, *hash;
	size_t nreg, nhash;
};

/* What a file may change when ucf rewrites it: content, and what comes with any new file. */
#define UCF_ATTRS                                                                                  \
	(ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_INODE | ATTR_DEVICE | ATTR_NLINK | \
	 ATTR_MIME)

static int rec_cmp(const void *a, const void *b)
{
	const struct ucf_rec *x = a, *y = b;
	size_t n = x->path_len < y->path_len ? x->path_len : y->path_len;
	int c = memcmp(x->path, y->path, n);

	if (c)
		return c;
	return x->path_len < y->path_len ? -1 : x->path_len > y->path_len;
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* "PACKAGE<blanks>PATH" (ucfr writes "pkg \t path"): 1 and @rec, 0 when malformed. */
static int parse_registry(char *line, struct ucf_rec *rec)
{
	char *p = line;

	while (is_blank(*p))
		p++;
	rec->pkg = p;
	while (*p && !is_blank(*p))
		p++;
	if (p == rec->pkg || !*p)
		return 0;
	*p++ = '\0';
	while (is_blank(*p))
		p++;
	if (*p != '/')
		return 0;
	rec->path = p;
	rec->path_len = strlen(p);
	return 1;
}

/* "MD5SUM  PATH" (md5sum's text or binary " *" form): 1 and @rec, 0 when malformed. */
static int parse_hashfile(char *line, struct ucf_rec *rec)
{
	char *p = line;

	for (int i = 0; i < 16; i++) {
		int hi = hexval(p[2 * i]), lo = hi < 0 ? -1 : hexval(p[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return 0;
		rec->md5[i] = (uint8_t)(hi << 4 | lo);
	}
	p += 32;
	if (!is_blank(*p))
		return 0;
	while (is_blank(*p))
		p++;
	if (*p == '*')
		p++;
	if (*p != '/')
		return 0;
	rec->path = p;
	rec->path_len = strlen(p);
	return 1;
}

/*
 * Read @path under the root into *@ret_buf and its well-formed lines, sorted
 * by path, into *@ret, marking a path listed twice with different words as
 * ambiguous. An absent or unreadable record is none (0 records).
 */
static int load(int rootfd, const char *path, int (*parse)(char *, struct ucf_rec *),
		char **ret_buf, struct ucf_rec **ret, size_t *ret_n)
{
	char *buf = NULL, *p, *end;
	struct ucf_rec *recs = NULL;
	size_t len = 0, n = 0, alloc = 0;
	int r = probe_read_file(rootfd, path, &buf, &len);

	*ret_buf = NULL;
	*ret = NULL;
	*ret_n = 0;
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		return 0; /* no record: nothing is explained by it */
	for (p = buf, end = buf + len; p < end;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		char *eol = nl ? nl : end;
		struct ucf_rec rec = { 0 };

		*eol = '\0';
		if (!memchr(p, '\0', (size_t)(eol - p)) && parse(p, &rec)) {
			if (n == alloc) {
				size_t na = alloc ? 2 * alloc : 64;
				struct ucf_rec *nr = realloc(recs, na * sizeof(*recs));

				if (!nr) {
					free(recs);
					free(buf);
					return -ENOMEM;
				}
				recs = nr;
				alloc = na;
			}
			recs[n++] = rec;
		}
		p = eol + 1;
	}
	if (n)
		qsort(recs, n, sizeof(*recs), rec_cmp);
	/* Keep one record per path; two that disagree make it ambiguous. */
	size_t out = 0;
	for (size_t i = 0; i < n; i++) {
		if (out && !rec_cmp(&recs[out - 1], &recs[i])) {
			struct ucf_rec *k = &recs[out - 1];

			if (k->pkg ? strcmp(k->pkg, recs[i].pkg) != 0
				   : memcmp(k->md5, recs[i].md5, 16) != 0)
				k->ambiguous = true;
			continue;
		}
		recs[out++] = recs[i];
	}
	*ret_buf = buf;
	*ret = recs;
	*ret_n = out;
	return 0;
}

static int state_load(struct explain *x)
{
	struct ucf_state *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return -ENOMEM;
	r = load(x->rootfd, "var/lib/ucf/registry", parse_registry, &s->reg_buf, &s->reg, &s->nreg);
	if (r == 0)
		r = load(x->rootfd, "var/lib/ucf/hashfile", parse_hashfile, &s->hash_buf, &s->hash,
			 &s->nhash);
	if (r < 0) {
		ucf_free(s);
		return r;
	}
	x->ucf = s;
	return 0;
}

static const struct ucf_rec *lookup(const struct ucf_rec *recs, size_t n, const char *path,
				    size_t len)
{
	struct ucf_rec key = { .path = path, .path_len = len };

	if (!n)
		return NULL;
	return bsearch(&key, recs, n, sizeof(*recs), rec_cmp);
}

int ucf_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after;
	const struct ucf_rec *reg, *hash;
	const char *was, *now, *colon;
	struct pkg_owner own;
	char name[128], arch[32];
	int r;

	if (!e || e->kind != ENTRY_FILE || d->change == CHANGE_REMOVED)
		return 0;
	if (!x->ucf) {
		r = state_load(x);
		if (r < 0)
			return r;
	}
	reg = lookup(x->ucf->reg, x->ucf->nreg, e->key, e->key_len);
	if (!reg)
		return 0;
	/* A file dpkg lists is dpkg's to explain (attrib.c did): ucf's files are not in them. */
	r = attrib_owner(x->attrib, true, e->key, e->key_len, &own);
	if (r != 0)
		return r < 0 ? r : 0;
	if (reg->ambiguous) {
		verdict_reason_add(v, "ucf's registry names more than one package for it");
		return 1;
	}
	if (!S_ISREG(e->mode)) {
		verdict_reason_add(v, "registered with ucf by %s, but not a regular file",
				   reg->pkg);
		return 1;
	}
	if (d->change == CHANGE_MODIFIED && (d->attrs & ~UCF_ATTRS)) {
		verdict_reason_add(v, "not explained by ucf: more than its content changed");
		return 1;
	}

	/* The registry says "name" (or "name:arch"). */
	colon = strchr(reg->pkg, ':');
	snprintf(name, sizeof(name), "%.*s",
		 colon ? (int)(colon - reg->pkg) : (int)strlen(reg->pkg), reg->pkg);
	snprintf(arch, sizeof(arch), "%s", colon ? colon + 1 : "");
	attrib_versions(x->attrib, name, colon ? arch : NULL, &was, &now);
	if (!now) {
		verdict_reason_add(v, "registered with ucf by %s, which is not installed",
				   reg->pkg);
		return 1;
	}

	/* The host's file must still be what the snapshot recorded, as in attrib.c. */
	r = live_read(x->live, e, false);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		verdict_reason(v, "cannot check against ucf: %s", x->live->why);
		return 1;
	}
	if (e->hash_len &&
	    (x->live->hash.hash_algo != e->hash_algo || x->live->hash.hash_len != e->hash_len ||
	     memcmp(x->live->hash.hash, e->hash, e->hash_len))) {
		verdict_reason(v, "cannot check against ucf: the file changed since the snapshot");
		return 1;
	}

	attrib_set_package(pkg, note, name, colon ? arch : NULL, was, now);
	hash = lookup(x->ucf->hash, x->ucf->nhash, e->key, e->key_len);
	if (!hash || hash->ambiguous) {
		/* Nothing to tell local changes from ucf's: no word on it. */
		verdict_reason(v, "configuration of %s through ucf; ucf recorded %s for it", name,
			       hash ? "two different sums" : "no sum");
		return 1;
	}
	if (memcmp(x->live->md5, hash->md5, 16)) {
		v->class = CLASS_DRIFT;
		v->severity = rule_set_packages(x->rules)->conffile_severity;
		verdict_reason(v, "locally modified configuration (%s, through ucf)", name);
		return 1;
	}
	v->class = CLASS_EXPECTED;
	verdict_reason(v, "configuration installed by %s through ucf", name);
	return 1;
}

void ucf_free(struct ucf_state *s)
{
	if (!s)
		return;
	free(s->reg);
	free(s->hash);
	free(s->reg_buf);
	free(s->hash_buf);
	free(s);
}
