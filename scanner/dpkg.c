/*
 * The dpkg database reader.
 *
 * Components:
 *  - arena_*(): a chunked bump allocator for the strings the db and the
 *    index hand out (copies of canonical paths), freed all at once.
 *  - smap_*(): a small open-addressing hash map from byte strings to a
 *    size_t, keyed by XXH3-64 of the bytes. Keys are borrowed (they live in
 *    a read buffer or the arena). Used for the directory cache, the
 *    diversions and a package's md5sums.
 *  - status_parse(): var/lib/dpkg/status, read whole and parsed in place
 *    (values are NUL-terminated where they end in the buffer, which the db
 *    keeps): one pass over the lines, a stanza finished at each blank
 *    line, then the packages sorted by name, arch and duplicates dropped.
 *    Conffiles entries go to one array; the packages point into it once
 *    parsing is over (the array moves while it grows).
 *  - diversions_parse(): var/lib/dpkg/diversions, triples of lines (from,
 *    to, diverting package or ":" for a local diversion).
 *  - canon_dir(): the canonical form of a directory under the root, ""
 *    for the root itself. The parent is canonicalized first (recursively,
 *    cached), then the one new component is readlinkat()ed relative to the
 *    root fd: since the parent has no symlink left, nothing but real
 *    directories is traversed there. A symlink's target is resolved the
 *    same way (absolute targets from the root, relative ones from the
 *    parent, "." and ".." handled by the same recursion), at most
 *    CANON_MAX_LINKS deep. Every directory string costs one syscall, once
 *    per db. A race (a directory swapped for a symlink meanwhile) can only
 *    make a link text be read from elsewhere, never a file be opened: files
 *    are opened with RESOLVE_IN_ROOT by their readers.
 *  - dpkg_pkg_files(): one package's list file, its md5sums and conffiles
 *    in a per-call map, diversions applied, every path canonicalized (the
 *    parent of the previous line is remembered: lists are grouped by
 *    directory).
 *  - dpkg_index_*(): every path of every package in one flat array plus an
 *    open-addressing table of 32-bit (entry number, hash half) slots.
 */
#include "scanner/dpkg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <xxhash.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define STATUS_FILE     "var/lib/dpkg/status"
#define DIVERSIONS_FILE "var/lib/dpkg/diversions"
#define INFO_DIR        "var/lib/dpkg/info/"
#define CANON_MAX_LINKS 40

/* ---- arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	char data[];
};

struct arena {
	struct arena_chunk *head;
	char *p;
	size_t left;
};

#define ARENA_CHUNK ((size_t)256 << 10)

static void arena_release(struct arena *a)
{
	struct arena_chunk *c = a->head, *next;

	for (; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
	a->p = NULL;
	a->left = 0;
}

/* A NUL-terminated copy of @len bytes at @s, or NULL. */
static char *arena_strndup(struct arena *a, const char *s, size_t len)
{
	char *r;

	if (len + 1 > a->left) {
		size_t sz = len + 1 > ARENA_CHUNK ? len + 1 : ARENA_CHUNK;
		struct arena_chunk *c = malloc(sizeof(*c) + sz);

		if (!c)
			return NULL;
		c->next = a->head;
		a->head = c;
		a->p = c->data;
		a->left = sz;
	}
	r = a->p;
	memcpy(r, s, len);
	r[len] = '\0';
	a->p += len + 1;
	a->left -= len + 1;
	return r;
}

/* ---- string map ---- */

struct smap_ent {
	const char *key;
	size_t len;
	size_t val;
};

/*
 * Slots are 8 bytes, (high half of the hash << 32) | (entry number + 1),
 * 0 when empty, so that the probed part of the table stays in the cache;
 * the entries are looked at only when the hash halves agree.
 */
struct smap {
	uint64_t *slots;
	size_t cap;   /* slots in use: a power of two, or 0 */
	size_t alloc; /* slots allocated, >= cap */
	struct smap_ent *ents;
	size_t n, ents_alloc;
};

static uint64_t str_hash(const char *s, size_t len)
{
	return XXH3_64bits(s, len);
}

static void smap_release(struct smap *m)
{
	free(m->slots);
	free(m->ents);
	memset(m, 0, sizeof(*m));
}

/*
 * Empty @m, with room for @want keys at a load under 1/2. Only the slots
 * that will be used are cleared: a package of 10 files after one of 10,000
 * must not pay for the large table.
 */
static int smap_reset(struct smap *m, size_t want)
{
	size_t cap = 16;

	while (cap < want * 2)
		cap *= 2;
	if (cap > m->alloc) {
		uint64_t *s = calloc(cap, sizeof(*s));

		if (!s)
			return -ENOMEM;
		free(m->slots);
		m->slots = s;
		m->alloc = cap;
	} else {
		memset(m->slots, 0, cap * sizeof(*m->slots));
	}
	m->cap = cap;
	m->n = 0;
	return 0;
}

static uint64_t *smap_slot(const struct smap *m, const char *key, size_t len, uint64_t h)
{
	size_t mask = m->cap - 1, i = (size_t)h & mask;
	uint64_t tag = h & 0xffffffff00000000u;

	for (;; i = (i + 1) & mask) {
		uint64_t *s = &m->slots[i];
		const struct smap_ent *e;

		if (!*s)
			return s;
		if ((*s & 0xffffffff00000000u) != tag)
			continue;
		e = &m->ents[(*s & 0xffffffffu) - 1];
		if (e->len == len && !memcmp(e->key, key, len))
			return s;
	}
}

static const struct smap_ent *smap_get(const struct smap *m, const char *key, size_t len)
{
	const uint64_t *s;

	if (!m->n)
		return NULL;
	s = smap_slot(m, key, len, str_hash(key, len));
	return *s ? &m->ents[(*s & 0xffffffffu) - 1] : NULL;
}

static int smap_grow(struct smap *m)
{
	size_t cap = m->cap ? m->cap * 2 : 16;
	uint64_t *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	free(m->slots);
	m->slots = slots;
	m->cap = m->alloc = cap;
	for (size_t i = 0; i < m->n; i++) {
		uint64_t h = str_hash(m->ents[i].key, m->ents[i].len);

		*smap_slot(m, m->ents[i].key, m->ents[i].len, h) =
			(h & 0xffffffff00000000u) | (i + 1);
	}
	return 0;
}

/*
 * Insert unless present. Returns 1 inserted, 0 present (value kept), -ENOMEM.
 * *@ret_val (may be NULL) gets the value the key has now.
 */
static int smap_put(struct smap *m, const char *key, size_t len, size_t val, size_t *ret_val)
{
	uint64_t h = str_hash(key, len), *s;
	struct smap_ent *e;

	if ((m->n + 1) * 2 > m->cap && smap_grow(m) < 0)
		return -ENOMEM;
	s = smap_slot(m, key, len, h);
	if (*s) {
		if (ret_val)
			*ret_val = m->ents[(*s & 0xffffffffu) - 1].val;
		return 0;
	}
	if (m->n >= UINT32_MAX - 1)
		return -ENOMEM;
	if (m->n == m->ents_alloc) {
		size_t n = m->ents_alloc ? m->ents_alloc * 2 : 64;

		if (n < m->cap / 2)
			n = m->cap / 2;
		e = realloc(m->ents, n * sizeof(*e));
		if (!e)
			return -ENOMEM;
		m->ents = e;
		m->ents_alloc = n;
	}
	e = &m->ents[m->n++];
	e->key = key;
	e->len = len;
	e->val = val;
	*s = (h & 0xffffffff00000000u) | m->n;
	if (ret_val)
		*ret_val = val;
	return 1;
}

/* ---- the db ---- */

struct pkg_rec {
	struct dpkg_pkg pub;
	size_t cf_first; /* into db->conffiles */
	unsigned line;   /* of the stanza, for the duplicate finding */
	bool config_files;
};

struct diversion {
	const char *from, *to, *by; /* into db->div_buf; by is ":" for a local one */
	size_t from_len, to_len;
};

struct canon {
	const char *path; /* canonical directory, "" for the root */
	size_t len;
};

/* What a package's md5sums and conffiles say about one path. */
struct sum_rec {
	uint8_t md5[16];
	bool has_md5, conffile, obsolete;
};

struct dpkg_db {
	int rootfd; /* owned duplicate */
	probe_finding_fn *finding;
	void *userdata;

	char *status; /* the status file, parsed in place */
	struct pkg_rec *pkgs;
	size_t npkgs, pkgs_alloc;
	struct dpkg_conffile *conffiles;
	size_t nconffiles, conffiles_alloc;

	char *div_buf;
	struct diversion *divs;
	size_t ndivs;
	struct smap div_map; /* from -> index into divs */

	struct arena arena;   /* canonical directory strings */
	struct smap dir_map;  /* directory as met -> index into canons */
	struct canon *canons; /* results of canon_dir() */
	size_t ncanons, canons_alloc;

	/* per dpkg_pkg_files() call, kept to reuse their memory */
	struct smap sum_map;
	struct sum_rec *sums;
	size_t sums_alloc;
	struct strbuf name, out;
};

static void db_finding(const struct dpkg_db *db, const char *file, unsigned line, const char *fmt,
		       ...) __attribute__((format(printf, 4, 5)));

static void db_finding(const struct dpkg_db *db, const char *file, unsigned line, const char *fmt,
		       ...)
{
	char msg[512];
	va_list ap;

	if (!db->finding)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	db->finding("package", file, line, msg, db->userdata);
}

void dpkg_db_free(struct dpkg_db *db)
{
	if (!db)
		return;
	if (db->rootfd >= 0)
		close(db->rootfd);
	free(db->status);
	free(db->pkgs);
	free(db->conffiles);
	free(db->div_buf);
	free(db->divs);
	smap_release(&db->div_map);
	arena_release(&db->arena);
	smap_release(&db->dir_map);
	free(db->canons);
	smap_release(&db->sum_map);
	free(db->sums);
	strbuf_release(&db->name);
	strbuf_release(&db->out);
	free(db);
}

size_t dpkg_db_count(const struct dpkg_db *db)
{
	return db->npkgs;
}

const struct dpkg_pkg *dpkg_db_get(const struct dpkg_db *db, size_t i)
{
	return &db->pkgs[i].pub;
}

/* Hex digit values plus one; 0 for anything else (the NUL included, which ends the string). */
static const uint8_t hex_plus1[256] = {
	['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
	['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
	['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

int dpkg_md5_parse(const char *hex, uint8_t ret_md5[16])
{
	uint8_t md5[16];

	for (int i = 0; i < 16; i++) {
		unsigned hi = hex_plus1[(unsigned char)hex[2 * i]], lo;

		if (!hi) /* checked before the next character: never read past a NUL */
			return -EINVAL;
		lo = hex_plus1[(unsigned char)hex[2 * i + 1]];
		if (!lo)
			return -EINVAL;
		md5[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	memcpy(ret_md5, md5, 16);
	return 0;
}

/* ---- status ---- */

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trim blanks off [*s, *e). */
static void trim(char **s, char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

enum field { F_NONE, F_PACKAGE, F_STATUS, F_ARCH, F_VERSION, F_MULTIARCH, F_CONFFILES, F_OTHER };

struct stanza {
	unsigned line; /* first line, 0 when no stanza is open */
	const char *v[F_OTHER];
	size_t cf_first;
};

static enum field field_of(const char *name, size_t len)
{
	static const struct {
		const char *name;
		enum field f;
	} fields[] = {
		{ "Package", F_PACKAGE },      { "Status", F_STATUS },
		{ "Architecture", F_ARCH },    { "Version", F_VERSION },
		{ "Multi-Arch", F_MULTIARCH }, { "Conffiles", F_CONFFILES },
	};

	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (strlen(fields[i].name) == len && !strncasecmp(fields[i].name, name, len))
			return fields[i].f;
	return F_OTHER;
}

static const char *last_word(const char *s)
{
	const char *w = strrchr(s, ' ');

	return w ? w + 1 : s;
}

/* One continuation line of Conffiles, [s, e) trimmed: "/path <md5|newconffile> [flags]". */
static int conffile_parse(struct dpkg_db *db, char *s, char *e, unsigned line)
{
	struct dpkg_conffile cf = { 0 };
	char *tok;

	for (;;) {
		tok = e;
		while (tok > s && !is_blank(tok[-1]))
			tok--;
		if (tok == s)
			goto bad; /* one word: no sum */
		if ((e - tok == 8 && !memcmp(tok, "obsolete", 8)))
			cf.obsolete = true;
		else if (!(e - tok == 17 && !memcmp(tok, "remove-on-upgrade", 17)))
			break;
		e = tok;
		trim(&s, &e);
	}
	/* [tok, e) is the sum */
	if (e - tok == 32 && dpkg_md5_parse(tok, cf.md5) == 0)
		cf.has_md5 = true;
	else if (!(e - tok == 11 && !memcmp(tok, "newconffile", 11)))
		goto bad;
	e = tok;
	trim(&s, &e);
	if (e == s || *s != '/')
		goto bad;
	*e = '\0';
	cf.path = s;
	if (db->nconffiles == db->conffiles_alloc) {
		size_t n = db->conffiles_alloc ? db->conffiles_alloc * 2 : 256;
		struct dpkg_conffile *c = realloc(db->conffiles, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		db->conffiles = c;
		db->conffiles_alloc = n;
	}
	db->conffiles[db->nconffiles++] = cf;
	return 0;
bad:
	db_finding(db, STATUS_FILE, line,
		   "malformed 'Conffiles' line: expected '<path> <md5>', skipping");
	return 0;
}

static int stanza_finish(struct dpkg_db *db, struct stanza *st)
{
	const char *state, *status = st->v[F_STATUS];
	struct pkg_rec *rec;
	size_t words = 0;

	if (!st->line)
		return 0;
	if (!st->v[F_PACKAGE] || !*st->v[F_PACKAGE]) {
		db_finding(db, STATUS_FILE, st->line, "stanza without a 'Package' field, skipping");
		goto drop;
	}
	/*
	 * dpkg never writes a name with a ':' (that is name:arch) or a '/': such
	 * a "libfoo:amd64" would take the key of libfoo of arch amd64.
	 */
	if (strpbrk(st->v[F_PACKAGE], ":/")) {
		db_finding(db, STATUS_FILE, st->line,
			   "'%s' is not a package name (it has a ':' or '/'), skipping",
			   st->v[F_PACKAGE]);
		goto drop;
	}
	if (!status) {
		db_finding(db, STATUS_FILE, st->line,
			   "package '%s' has no 'Status' field, skipping", st->v[F_PACKAGE]);
		goto drop;
	}
	for (const char *p = status; *p;) {
		while (*p == ' ')
			p++;
		if (!*p)
			break;
		words++;
		while (*p && *p != ' ')
			p++;
	}
	if (words != 3 || strstr(status, "  ")) {
		db_finding(db, STATUS_FILE, st->line,
			   "package '%s' has a malformed 'Status' field '%s', skipping",
			   st->v[F_PACKAGE], status);
		goto drop;
	}
	state = last_word(status);
	if (!strcmp(state, "not-installed"))
		goto drop;
	if (!st->v[F_VERSION] && strcmp(state, "config-files")) {
		db_finding(db, STATUS_FILE, st->line,
			   "package '%s' is '%s' but has no 'Version' field, skipping",
			   st->v[F_PACKAGE], state);
		goto drop;
	}
	if (db->npkgs == db->pkgs_alloc) {
		size_t n = db->pkgs_alloc ? db->pkgs_alloc * 2 : 64;
		struct pkg_rec *p = realloc(db->pkgs, n * sizeof(*p));

		if (!p)
			return -ENOMEM;
		db->pkgs = p;
		db->pkgs_alloc = n;
	}
	rec = &db->pkgs[db->npkgs++];
	memset(rec, 0, sizeof(*rec));
	rec->pub.name = st->v[F_PACKAGE];
	rec->pub.arch = st->v[F_ARCH] ? st->v[F_ARCH] : "";
	rec->pub.version = st->v[F_VERSION] ? st->v[F_VERSION] : "";
	rec->pub.status = status;
	rec->pub.multiarch_same = st->v[F_MULTIARCH] && !strcmp(st->v[F_MULTIARCH], "same");
	rec->pub.nconffiles = db->nconffiles - st->cf_first;
	rec->cf_first = st->cf_first;
	rec->line = st->line;
	rec->config_files = !strcmp(state, "config-files");
	memset(st, 0, sizeof(*st));
	st->cf_first = db->nconffiles;
	return 0;
drop:
	db->nconffiles = st->cf_first;
	memset(st, 0, sizeof(*st));
	st->cf_first = db->nconffiles;
	return 0;
}

static int pkg_cmp(const void *a, const void *b)
{
	const struct pkg_rec *x = a, *y = b;
	int c = strcmp(x->pub.name, y->pub.name);

	if (!c)
		c = strcmp(x->pub.arch, y->pub.arch);
	if (!c)
		c = x->line < y->line ? -1 : x->line > y->line;
	return c;
}

static int status_parse(struct dpkg_db *db, size_t len)
{
	char *p = db->status, *end = db->status + len;
	struct stanza st = { 0 };
	enum field last = F_NONE;
	unsigned lineno = 0;
	int r;

	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *line = p, *le = eol ? eol : end;

		p = eol ? eol + 1 : end;
		lineno++;
		if (le > line && le[-1] == '\r')
			le--;
		*le = '\0';
		if (le == line) {
			r = stanza_finish(db, &st);
			if (r < 0)
				return r;
			last = F_NONE;
			continue;
		}
		if (is_blank(*line)) {
			if (last == F_NONE) {
				db_finding(db, STATUS_FILE, lineno,
					   "continuation line outside a field, skipping");
			} else if (last == F_CONFFILES) {
				char *s = line;

				trim(&s, &le);
				if (s < le) {
					r = conffile_parse(db, s, le, lineno);
					if (r < 0)
						return r;
				}
			}
			continue;
		}
		char *colon = memchr(line, ':', (size_t)(le - line));
		if (!colon || colon == line) {
			db_finding(db, STATUS_FILE, lineno,
				   "malformed line: no field name and ':', skipping");
			last = F_NONE;
			continue;
		}
		if (!st.line) {
			st.line = lineno;
			st.cf_first = db->nconffiles;
		}
		last = field_of(line, (size_t)(colon - line));
		if (last != F_OTHER) {
			char *v = colon + 1;

			trim(&v, &le);
			*le = '\0';
			if (st.v[last]) {
				db_finding(db, STATUS_FILE, lineno,
					   "duplicate field '%.*s', ignoring", (int)(colon - line),
					   line);
				last = F_OTHER; /* nor its continuation lines */
			} else {
				st.v[last] = v;
			}
		}
	}
	r = stanza_finish(db, &st);
	if (r < 0)
		return r;

	if (db->npkgs)
		qsort(db->pkgs, db->npkgs, sizeof(*db->pkgs), pkg_cmp);
	size_t w = 0;
	for (size_t i = 0; i < db->npkgs; i++) {
		struct pkg_rec *rec = &db->pkgs[i];

		if (w && !strcmp(db->pkgs[w - 1].pub.name, rec->pub.name) &&
		    !strcmp(db->pkgs[w - 1].pub.arch, rec->pub.arch)) {
			db_finding(db, STATUS_FILE, rec->line,
				   "package '%s:%s' listed twice (first on line %u), skipping",
				   rec->pub.name, rec->pub.arch, db->pkgs[w - 1].line);
			continue;
		}
		db->pkgs[w++] = *rec;
	}
	db->npkgs = w;
	for (size_t i = 0; i < db->npkgs; i++)
		db->pkgs[i].pub.conffiles =
			db->pkgs[i].pub.nconffiles ? db->conffiles + db->pkgs[i].cf_first : NULL;
	return 0;
}

/* ---- diversions ---- */

static int diversions_load(struct dpkg_db *db, struct diag *reterr)
{
	char *lines[3], *p, *end;
	size_t len, nlines = 0, alloc = 0;
	unsigned lineno = 0;
	int r;

	r = probe_read_file(db->rootfd, DIVERSIONS_FILE, &db->div_buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return diag_set(reterr, r, "cannot read '%s': %s", DIVERSIONS_FILE, strerror(-r));
	p = db->div_buf;
	end = p + len;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p)), *le = eol ? eol : end;

		lines[nlines++] = p;
		lineno++;
		*le = '\0';
		p = eol ? eol + 1 : end;
		if (nlines < 3)
			continue;
		nlines = 0;
		if (db->ndivs == alloc) {
			size_t n = alloc ? alloc * 2 : 16;
			struct diversion *d = realloc(db->divs, n * sizeof(*d));

			if (!d)
				return -ENOMEM;
			db->divs = d;
			alloc = n;
		}
		struct diversion *d = &db->divs[db->ndivs];
		d->from = lines[0];
		d->from_len = strlen(lines[0]);
		d->to = lines[1];
		d->to_len = strlen(lines[1]);
		d->by = lines[2];
		if (d->from[0] != '/' || d->to[0] != '/') {
			db_finding(db, DIVERSIONS_FILE, lineno - 2,
				   "malformed diversion: paths must be absolute, skipping");
			continue;
		}
		db->ndivs++;
	}
	if (nlines)
		db_finding(db, DIVERSIONS_FILE, lineno,
			   "truncated diversion: %zu line(s) instead of 3, skipping", nlines);
	for (size_t i = 0; i < db->ndivs; i++)
		if (smap_put(&db->div_map, db->divs[i].from, db->divs[i].from_len, i, NULL) < 0)
			return -ENOMEM;
	return 0;
}

int dpkg_db_load(int rootfd, probe_finding_fn *finding, void *userdata, struct dpkg_db **ret_db,
		 struct diag *reterr)
{
	struct dpkg_db *db = calloc(1, sizeof(*db));
	size_t len;
	int r;

	if (!db)
		return diag_set(reterr, -ENOMEM, "out of memory");
	strbuf_init(&db->name);
	strbuf_init(&db->out);
	db->finding = finding;
	db->userdata = userdata;
	db->rootfd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	if (db->rootfd < 0) {
		r = diag_set(reterr, -errno, "cannot duplicate the root fd: %s", strerror(errno));
		goto fail;
	}
	r = probe_read_file(db->rootfd, STATUS_FILE, &db->status, &len);
	if (r < 0) {
		r = diag_set(reterr, r,
			     r == -ENOENT ? "no dpkg database: '%s' does not exist"
					  : "cannot read '%s': %s",
			     STATUS_FILE, strerror(-r));
		goto fail;
	}
	r = status_parse(db, len);
	if (r < 0) {
		diag_set(reterr, r, "cannot parse '%s': %s", STATUS_FILE, strerror(-r));
		goto fail;
	}
	r = diversions_load(db, reterr);
	if (r < 0) {
		if (r == -ENOMEM)
			diag_set(reterr, r, "out of memory");
		goto fail;
	}
	*ret_db = db;
	return 0;
fail:
	dpkg_db_free(db);
	return r;
}

/* ---- canonical directories ---- */

static int canon_add(struct dpkg_db *db, const char *key, size_t key_len, const char *path,
		     size_t len, size_t *ret)
{
	const char *k = key, *c;
	int r;

	if (db->ncanons == db->canons_alloc) {
		size_t n = db->canons_alloc ? db->canons_alloc * 2 : 1024;
		struct canon *cs = realloc(db->canons, n * sizeof(*cs));

		if (!cs)
			return -ENOMEM;
		db->canons = cs;
		db->canons_alloc = n;
	}
	c = arena_strndup(&db->arena, path, len);
	if (!c)
		return -ENOMEM;
	if (key_len != len || memcmp(key, path, len)) {
		k = arena_strndup(&db->arena, key, key_len);
		if (!k)
			return -ENOMEM;
	} else {
		k = c;
	}
	r = smap_put(&db->dir_map, k, key_len, db->ncanons, ret);
	if (r <= 0) /* -ENOMEM, or a recursion got there first: *ret is its answer */
		return r;
	db->canons[db->ncanons].path = c;
	db->canons[db->ncanons].len = len;
	db->ncanons++;
	return 0;
}

static int canon_dir(struct dpkg_db *db, const char *dir, size_t len, int depth, size_t *ret);

/*
 * One component: @name (@name_len bytes) in the canonical directory
 * @parent; @key (@key_len bytes) is the whole path as met, for the cache.
 */
static int canon_step(struct dpkg_db *db, size_t parent, const char *key, size_t key_len,
		      const char *name, size_t name_len, int depth, size_t *ret)
{
	const struct canon pc = db->canons[parent]; /* a copy: canons moves as it grows */
	char *cand, target[PATH_MAX];
	size_t cand_len, res;
	ssize_t n = -1;
	int r;

	if (name_len == 1 && name[0] == '.')
		return canon_add(db, key, key_len, pc.path, pc.len, ret);
	if (name_len == 2 && name[0] == '.' && name[1] == '.') {
		size_t l = pc.len;

		while (l && pc.path[l - 1] != '/')
			l--;
		return canon_add(db, key, key_len, pc.path, l ? l - 1 : 0, ret);
	}
	cand_len = pc.len + 1 + name_len;
	cand = malloc(cand_len + 1);
	if (!cand)
		return -ENOMEM;
	memcpy(cand, pc.path, pc.len);
	cand[pc.len] = '/';
	memcpy(cand + pc.len + 1, name, name_len);
	cand[cand_len] = '\0';
	/* the parent holds no symlink: nothing but real directories is walked here */
	if (depth < CANON_MAX_LINKS && cand_len < PATH_MAX)
		n = readlinkat(db->rootfd, cand + 1, target, sizeof(target));
	if (n > 0 && (size_t)n < sizeof(target)) {
		struct strbuf full = STRBUF_INIT;

		r = 0;
		if (target[0] != '/')
			r = strbuf_add(&full, cand, pc.len + 1);
		if (r == 0)
			r = strbuf_add(&full, target, (size_t)n);
		if (r == 0)
			r = canon_dir(db, full.buf, full.len, depth + 1, &res);
		strbuf_release(&full);
		if (r == 0) {
			const struct canon rc = db->canons[res];

			r = canon_add(db, key, key_len, rc.path, rc.len, ret);
		}
	} else {
		/* not a symlink, or not there: the candidate is as canonical as it gets */
		r = canon_add(db, key, key_len, cand, cand_len, ret);
	}
	free(cand);
	return r;
}

/*
 * The canonical form of the directory @dir (@len bytes, absolute or ""; may
 * hold "//", "." and ".." components and trailing slashes) as an index into
 * db->canons: "" for the root, else "/a/b" with no symlink, "." or "..".
 * Iterative along the path (a list line may be long: no recursion per
 * component); recursive only into symlink targets, at most
 * CANON_MAX_LINKS deep.
 */
static int canon_dir(struct dpkg_db *db, const char *dir, size_t len, int depth, size_t *ret)
{
	const struct smap_ent *s;
	size_t k, cur;
	int r;

	while (len && dir[len - 1] == '/')
		len--;
	s = smap_get(&db->dir_map, dir, len);
	if (s) {
		*ret = s->val;
		return 0;
	}
	/* up to the nearest directory known, or the root */
	for (k = len;;) {
		while (k && dir[k - 1] != '/')
			k--;
		while (k && dir[k - 1] == '/')
			k--;
		s = smap_get(&db->dir_map, dir, k);
		if (s) {
			cur = s->val;
			break;
		}
		if (!k) {
			r = canon_add(db, "", 0, "", 0, &cur);
			if (r < 0)
				return r;
			break;
		}
	}
	/* then down, one component at a time */
	while (k < len) {
		size_t b = k, e;

		while (b < len && dir[b] == '/')
			b++;
		for (e = b; e < len && dir[e] != '/';)
			e++;
		r = canon_step(db, cur, dir, e, dir + b, e - b, depth, &cur);
		if (r < 0)
			return r;
		k = e;
	}
	*ret = cur;
	return 0;
}

/* ---- one package's files ---- */

static int sums_push(struct dpkg_db *db, size_t n, const struct sum_rec *rec)
{
	if (n == db->sums_alloc) {
		size_t a = db->sums_alloc ? db->sums_alloc * 2 : 256;
		struct sum_rec *s = realloc(db->sums, a * sizeof(*s));

		if (!s)
			return -ENOMEM;
		db->sums = s;
		db->sums_alloc = a;
	}
	db->sums[n] = *rec;
	return 0;
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 1;

	for (const char *p = buf; (p = memchr(p, '\n', (size_t)(buf + len - p))); p++)
		n++;
	return n;
}

/* Parse @buf (an md5sums file, modified in place) and @pkg's conffiles into db->sum_map. */
static int sums_load(struct dpkg_db *db, const struct pkg_rec *rec, char *buf, size_t len,
		     const char *file)
{
	size_t n = 0;
	unsigned lineno = 0;
	int r;

	r = smap_reset(&db->sum_map, (buf ? count_lines(buf, len) : 0) + rec->pub.nconffiles);
	if (r < 0)
		return r;
	/* conffiles first: the Conffiles field wins over a stray md5sums line */
	for (size_t i = 0; i < rec->pub.nconffiles; i++) {
		const struct dpkg_conffile *cf = &rec->pub.conffiles[i];
		struct sum_rec s = { .has_md5 = cf->has_md5,
				     .conffile = true,
				     .obsolete = cf->obsolete };

		memcpy(s.md5, cf->md5, 16);
		r = sums_push(db, n, &s);
		if (r < 0)
			return r;
		r = smap_put(&db->sum_map, cf->path + 1, strlen(cf->path + 1), n, NULL);
		if (r < 0)
			return r;
		n += (size_t)r;
	}
	for (char *p = buf, *end = buf ? buf + len : NULL; p && p < end;) {
		char *eol = memchr(p, '\n', (size_t)(end - p)), *line = p, *le = eol ? eol : end;
		struct sum_rec s = { .has_md5 = true };

		p = eol ? eol + 1 : end;
		lineno++;
		if (le > line && le[-1] == '\r')
			le--;
		if (le == line)
			continue;
		if (le - line < 35 || line[32] != ' ' || (line[33] != ' ' && line[33] != '*') ||
		    dpkg_md5_parse(line, s.md5) < 0) {
			db_finding(db, file, lineno,
				   "malformed line: expected '<md5>  <path>', skipping");
			continue;
		}
		line += 34;
		while (line < le && *line == '/')
			line++;
		if (line == le)
			continue;
		r = sums_push(db, n, &s);
		if (r < 0)
			return r;
		r = smap_put(&db->sum_map, line, (size_t)(le - line), n, NULL);
		if (r < 0)
			return r;
		n += (size_t)r;
	}
	return 0;
}

/* Read info/<name>[:<arch>].<ext> in the order that fits the package; -ENOENT when neither. */
static int info_read(struct dpkg_db *db, const struct dpkg_pkg *p, const char *ext, bool qual_first,
		     char **ret_buf, size_t *ret_len)
{
	int r = -ENOENT;

	for (int k = 0; k < 2; k++) {
		bool qual = (k == 0) == qual_first;

		if (qual && !*p->arch)
			continue;
		strbuf_reset(&db->name);
		if (strbuf_adds(&db->name, INFO_DIR) < 0 || strbuf_adds(&db->name, p->name) < 0 ||
		    (qual && strbuf_addf(&db->name, ":%s", p->arch) < 0) ||
		    strbuf_adds(&db->name, ext) < 0)
			return -ENOMEM;
		r = probe_read_file(db->rootfd, db->name.buf, ret_buf, ret_len);
		if (r != -ENOENT)
			return r;
	}
	return r;
}

int dpkg_pkg_files(struct dpkg_db *db, size_t i, dpkg_file_fn *fn, void *userdata,
		   struct diag *reterr)
{
	const struct pkg_rec *rec = &db->pkgs[i];
	const struct dpkg_pkg *p = &rec->pub;
	char *list = NULL, *sums = NULL, *sums_name = NULL, *list_name = NULL;
	size_t list_len, sums_len = 0, last_dir_len = SIZE_MAX, last_canon = 0;
	unsigned line = 0;
	const char *last_dir = NULL;
	bool qual_first = p->multiarch_same;
	int r;

	r = info_read(db, p, ".list", qual_first, &list, &list_len);
	if (r == -ENOENT) {
		if (!rec->config_files) {
			strbuf_reset(&db->name);
			if (strbuf_addf(&db->name, INFO_DIR "%s%s%s.list", p->name,
					qual_first ? ":" : "", qual_first ? p->arch : "") < 0)
				return diag_set(reterr, -ENOMEM, "out of memory");
			db_finding(db, db->name.buf, 0,
				   "package '%s%s%s' is '%s' but has no file list", p->name,
				   *p->arch ? ":" : "", p->arch, last_word(p->status));
		}
		return 0;
	}
	if (r < 0)
		return diag_set(reterr, r, "cannot read '%s': %s", db->name.buf, strerror(-r));
	list_name = strdup(db->name.buf);
	if (!list_name) {
		r = -ENOMEM;
		goto oom;
	}
	/* the sums go with the list that was found: same base name */
	qual_first = strchr(db->name.buf + strlen(INFO_DIR), ':') != NULL;
	r = info_read(db, p, ".md5sums", qual_first, &sums, &sums_len);
	if (r < 0 && r != -ENOENT) {
		r = diag_set(reterr, r, "cannot read '%s': %s", db->name.buf, strerror(-r));
		goto out;
	}
	if (r == 0) {
		sums_name = strdup(db->name.buf);
		if (!sums_name) {
			r = -ENOMEM;
			goto oom;
		}
	}
	r = sums_load(db, rec, sums, sums_len, sums_name);
	if (r < 0)
		goto oom;

	for (char *q = list, *end = list + list_len; q < end;) {
		char *eol = memchr(q, '\n', (size_t)(end - q)), *le = eol ? eol : end;
		const char *path = q;
		struct dpkg_file f = { 0 };
		const struct smap_ent *s;
		const char *name;
		size_t path_len, dir_len, canon;

		q = eol ? eol + 1 : end;
		line++;
		if (le > path && le[-1] == '\r')
			le--;
		*le = '\0';
		path_len = (size_t)(le - path);
		if (!path_len || path[0] != '/')
			continue;
		/* No path holds one; handed out, it would be cut short (found by fuzz_dpkg). */
		if (memchr(path, '\0', path_len)) {
			db_finding(db, list_name, line,
				   "malformed line: contains a NUL byte, skipping");
			continue;
		}
		if ((path_len == 2 && path[1] == '.') || path_len == 1) {
			f.path = "/";
			f.path_len = 1;
			r = fn(p, &f, userdata);
			if (r < 0)
				goto out;
			continue;
		}
		s = smap_get(&db->sum_map, path + 1, path_len - 1);
		if (s) {
			const struct sum_rec *sr = &db->sums[s->val];

			f.has_md5 = sr->has_md5;
			memcpy(f.md5, sr->md5, 16);
			f.conffile = sr->conffile;
			f.obsolete = sr->obsolete;
		}
		if (db->ndivs && (s = smap_get(&db->div_map, path, path_len))) {
			const struct diversion *d = &db->divs[s->val];

			if (strcmp(d->by, p->name)) {
				path = d->to;
				path_len = d->to_len;
				f.diverted = true;
			}
		}
		name = path + path_len;
		while (name[-1] != '/')
			name--;
		dir_len = (size_t)(name - 1 - path);
		if (last_dir && dir_len == last_dir_len && !memcmp(last_dir, path, dir_len)) {
			canon = last_canon;
		} else {
			r = canon_dir(db, path, dir_len, 0, &canon);
			if (r < 0)
				goto oom;
			last_dir = path;
			last_dir_len = dir_len;
			last_canon = canon;
		}
		const struct canon *c = &db->canons[canon];
		if (c->len == dir_len && !memcmp(c->path, path, dir_len)) {
			f.path = path;
			f.path_len = path_len;
		} else {
			strbuf_reset(&db->out);
			if (strbuf_add(&db->out, c->path, c->len) < 0 ||
			    strbuf_add(&db->out, name - 1, path_len - dir_len) < 0) {
				r = -ENOMEM;
				goto oom;
			}
			f.path = db->out.buf;
			f.path_len = db->out.len;
		}
		r = fn(p, &f, userdata);
		if (r < 0)
			goto out;
	}
	r = 0;
	goto out;
oom:
	r = diag_set(reterr, -ENOMEM, "out of memory");
out:
	free(list);
	free(list_name);
	free(sums);
	free(sums_name);
	return r;
}

/* ---- the index ---- */

struct index_ent {
	struct dpkg_file f;
	size_t pkg;
	uint64_t hash;
};

#define INDEX_PATHS_PER_PKG 200

struct dpkg_index {
	struct index_ent *ents;
	size_t n, alloc;
	uint64_t *slots; /* (hash high 32 bits << 32) | (entry + 1); 0: empty */
	size_t cap;
	struct arena arena;
};

void dpkg_index_free(struct dpkg_index *idx)
{
	if (!idx)
		return;
	free(idx->ents);
	free(idx->slots);
	arena_release(&idx->arena);
	free(idx);
}

size_t dpkg_index_count(const struct dpkg_index *idx)
{
	return idx->n;
}

static uint64_t *index_slot(const struct dpkg_index *idx, const char *path, size_t len, uint64_t h)
{
	size_t mask = idx->cap - 1, i = (size_t)h & mask;
	uint64_t tag = h >> 32 << 32;

	for (;; i = (i + 1) & mask) {
		uint64_t *s = &idx->slots[i];
		const struct index_ent *e;

		if (!*s)
			return s;
		if ((*s & 0xffffffff00000000u) != tag)
			continue;
		e = &idx->ents[(*s & 0xffffffffu) - 1];
		if (e->f.path_len == len && !memcmp(e->f.path, path, len))
			return s;
	}
}

/* Rehash into a table of @cap slots (a power of two, larger than now). */
static int index_grow(struct dpkg_index *idx, size_t cap)
{
	uint64_t *old = idx->slots;
	size_t old_cap = idx->cap;

	idx->slots = calloc(cap, sizeof(*idx->slots));
	if (!idx->slots) {
		idx->slots = old;
		return -ENOMEM;
	}
	idx->cap = cap;
	for (size_t i = 0; i < old_cap; i++) {
		if (old[i]) {
			const struct index_ent *e = &idx->ents[(old[i] & 0xffffffffu) - 1];

			*index_slot(idx, e->f.path, e->f.path_len, e->hash) = old[i];
		}
	}
	free(old);
	return 0;
}

struct index_build {
	struct dpkg_index *idx;
	size_t pkg;
};

static int index_add(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct index_build *b = userdata;
	struct dpkg_index *idx = b->idx;
	uint64_t h = str_hash(f->path, f->path_len), *s;
	struct index_ent *e;

	if ((idx->n + 1) * 2 > idx->cap && index_grow(idx, idx->cap * 2) < 0)
		return -ENOMEM;
	s = index_slot(idx, f->path, f->path_len, h);
	if (*s)
		return 0; /* owned by a package before this one */
	if (idx->n >= UINT32_MAX - 1)
		return -EOVERFLOW;
	if (idx->n == idx->alloc) {
		size_t n = idx->alloc ? idx->alloc * 2 : idx->cap / 2;
		struct index_ent *es = realloc(idx->ents, n * sizeof(*es));

		if (!es)
			return -ENOMEM;
		idx->ents = es;
		idx->alloc = n;
	}
	e = &idx->ents[idx->n];
	e->f = *f;
	e->f.path = arena_strndup(&idx->arena, f->path, f->path_len);
	if (!e->f.path)
		return -ENOMEM;
	e->pkg = b->pkg;
	e->hash = h;
	idx->n++;
	*s = (h >> 32 << 32) | idx->n;
	return 0;
}

int dpkg_index_build(struct dpkg_db *db, struct dpkg_index **ret, struct diag *reterr)
{
	struct index_build b = { 0 };
	int r;

	b.idx = calloc(1, sizeof(*b.idx));
	if (!b.idx)
		return diag_set(reterr, -ENOMEM, "out of memory");
	/*
	 * Sized for INDEX_PATHS_PER_PKG paths a package (Debian 12 averages 160),
	 * so that a typical system never rehashes.
	 */
	size_t cap = 4096;
	while (cap < db->npkgs * INDEX_PATHS_PER_PKG * 2)
		cap *= 2;
	r = index_grow(b.idx, cap);
	if (r < 0)
		goto fail_oom;
	for (b.pkg = 0; b.pkg < db->npkgs; b.pkg++) {
		r = dpkg_pkg_files(db, b.pkg, index_add, &b, reterr);
		if (r == -ENOMEM)
			goto fail_oom;
		if (r == -EOVERFLOW) {
			diag_set(reterr, r, "too many paths in the dpkg database");
			goto fail;
		}
		if (r < 0)
			goto fail;
	}
	*ret = b.idx;
	return 0;
fail_oom:
	r = diag_set(reterr, -ENOMEM, "out of memory");
fail:
	dpkg_index_free(b.idx);
	return r;
}

int dpkg_index_find(const struct dpkg_index *idx, const char *path, size_t len, size_t *ret_pkg,
		    const struct dpkg_file **ret_file)
{
	const uint64_t *s;
	const struct index_ent *e;

	if (!idx->n)
		return 0;
	s = index_slot(idx, path, len, str_hash(path, len));
	if (!*s)
		return 0;
	e = &idx->ents[(*s & 0xffffffffu) - 1];
	if (ret_pkg)
		*ret_pkg = e->pkg;
	if (ret_file)
		*ret_file = &e->f;
	return 1;
}
