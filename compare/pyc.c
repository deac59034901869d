/*
 * Python byte-code: the .pyc files py3compile writes in postinst (and
 * py3clean removes in prerm), beside the .py files packages ship.
 *
 * The record is the .pyc itself: its 16-byte header (PEP 552) names the
 * source it was compiled from, by the source's mtime and size, or by a
 * SipHash of its bytes. A byte-code file D/__pycache__/NAME.TAG[.opt-N].pyc
 * added or rewritten between the snapshots is expected when
 *  - its live content is still what the after snapshot recorded,
 *  - it is a regular file without execute or special permission bits,
 *  - its source D/NAME.py is owned by a package on the after side, with an
 *    MD5 sum, and the live source matches that sum (packaged, unmodified),
 *  - and the header matches the live source: the mtime (seconds, mod 2^32)
 *    and size (mod 2^32) of its fstat(), or, for hash-based byte-code of
 *    CPython 3.11 and later, the SipHash-1-3 of its bytes keyed with the
 *    magic number (older Pythons hashed with SipHash-2-4: not verified).
 * An added D/__pycache__ is expected when it holds at least one entry in
 * the after snapshot and every one is byte-code expected by the above. A
 * removed .pyc (or __pycache__ with only such) is expected when its source
 * is gone from the host, no package ships it any more, and the package
 * that owned it on the before side was removed or upgraded in between.
 *
 * Everything else stays drift with why: byte-code without a packaged
 * source, a source modified locally, a forged header, a .pyc outside a
 * __pycache__, anything else inside one, an executable .pyc. Files a
 * package owns are attrib.c's. A modified __pycache__ directory is left to
 * the policy.
 */
#include "compare/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/probe.h"
#include "scanner/verify.h"
#include "common/banned.h"

#define PYC_HEADER_LEN 16
/* CPython 3.11.0's magic number: from it on, source hashes are SipHash-1-3. */
#define MAGIC_SIPHASH13       3495
#define PYC_FLAG_HASH         1u
#define PYC_FLAG_CHECK_SOURCE 2u

#define CACHE_DIR     "/__pycache__"
#define CACHE_DIR_LEN (sizeof(CACHE_DIR) - 1)

/* What byte-code rewritten by py3compile changes (a new inode, new content). */
#define CONTENT_ATTRS                                                                              \
	(ATTR_HASH | ATTR_SIZE | ATTR_MTIME | ATTR_CTIME | ATTR_INODE | ATTR_DEVICE | ATTR_NLINK | \
	 ATTR_MIME)

#define OPEN_FLAGS (O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY)

/* The verdict on one byte-code file. */
struct pyc_result {
	char *key; /* malloc()ed; NULL in a result not cached */
	size_t key_len;
	bool removed; /* judged as removed (rule 3), not as present */
	bool ok;      /* expected */
	char reason[224];
	/* The package of the source: the expected verdict's context. */
	char name[128], arch[32], version[96];
};

/*
 * The verdicts on the byte-code files of the last __pycache__ directory
 * judged, in key order: the directory comes before its files, which are
 * then not read again.
 */
struct pyc_state {
	struct pyc_result *r;
	size_t n, alloc;
};

static void cache_clear(struct pyc_state *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->r[i].key);
	s->n = 0;
}

void pyc_free(struct pyc_state *s)
{
	if (!s)
		return;
	cache_clear(s);
	free(s->r);
	free(s);
}

static int cache_add(struct pyc_state *s, const struct pyc_result *res, const char *key, size_t len)
{
	if (s->n == s->alloc) {
		size_t na = s->alloc ? s->alloc * 2 : 16;
		struct pyc_result *nr = realloc(s->r, na * sizeof(*nr));

		if (!nr)
			return -ENOMEM;
		s->r = nr;
		s->alloc = na;
	}
	s->r[s->n] = *res;
	s->r[s->n].key = strndup(key, len);
	if (!s->r[s->n].key)
		return -ENOMEM;
	s->r[s->n].key_len = len;
	s->n++;
	return 0;
}

static int key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c)
		return c;
	return alen < blen ? -1 : alen > blen;
}

/* The cached verdict on @key, or NULL (then it is judged on its own). */
static const struct pyc_result *cache_find(const struct pyc_state *s, const char *key, size_t len,
					   bool removed)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = key_cmp(s->r[mid].key, s->r[mid].key_len, key, len);

		if (c == 0)
			return s->r[mid].removed == removed ? &s->r[mid] : NULL;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void result_set(struct pyc_result *res, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result_set(struct pyc_result *res, bool ok, const char *fmt, ...)
{
	va_list ap;

	res->ok = ok;
	va_start(ap, fmt);
	vsnprintf(res->reason, sizeof(res->reason), fmt, ap);
	va_end(ap);
}

static void result_package(struct pyc_result *res, const struct pkg_owner *o)
{
	snprintf(res->name, sizeof(res->name), "%s", o->name);
	snprintf(res->arch, sizeof(res->arch), "%s", o->arch);
	snprintf(res->version, sizeof(res->version), "%s", o->version);
}

/* ---- names ---- */

/* The last component of @key (@len bytes). */
static const char *base_of(const char *key, size_t len, size_t *ret_len)
{
	const char *slash = memrchr(key, '/', len);
	const char *b = slash ? slash + 1 : key;

	*ret_len = len - (size_t)(b - key);
	return b;
}

/* Whether @key's parent directory is a __pycache__. */
static bool in_cache_dir(const char *key, size_t len)
{
	const char *slash = memrchr(key, '/', len);
	size_t dlen;

	if (!slash)
		return false;
	dlen = (size_t)(slash - key);
	return dlen >= CACHE_DIR_LEN && !memcmp(slash - CACHE_DIR_LEN, CACHE_DIR, CACHE_DIR_LEN);
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

/*
 * The source D/NAME.py of the byte-code @key, D/__pycache__/NAME.TAG.pyc
 * or D/__pycache__/NAME.TAG.opt-N.pyc (importlib's cache_from_source()),
 * into @src. Returns 1, 0 when @key is not named so, or -ENOMEM.
 */
static int source_of(const char *key, size_t len, struct strbuf *src)
{
	size_t blen, slen, dlen;
	const char *b = base_of(key, len, &blen);
	const char *dot;

	if (!in_cache_dir(key, len) || !ends_with(b, blen, ".pyc"))
		return 0;
	slen = blen - 4;
	dot = memrchr(b, '.', slen);
	if (dot && (size_t)(b + slen - dot) > 5 && !memcmp(dot, ".opt-", 5)) {
		for (const char *p = dot + 5; p < b + slen; p++)
			if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
			      (*p >= 'A' && *p <= 'Z')))
				return 0;
		slen = (size_t)(dot - b);
	}
	dot = memrchr(b, '.', slen);
	/* A tag ("cpython-311") and a name before it, neither empty. */
	if (!dot || dot == b || dot + 1 == b + slen)
		return 0;
	dlen = (size_t)(b - key) - 1 - CACHE_DIR_LEN; /* D, without "/__pycache__/" */
	strbuf_reset(src);
	if (strbuf_add(src, key, dlen) < 0 || strbuf_addch(src, '/') < 0 ||
	    strbuf_add(src, b, (size_t)(dot - b)) < 0 || strbuf_adds(src, ".py") < 0)
		return -ENOMEM;
	return 1;
}

/* ---- the source's hash (PEP 552): SipHash-1-3, as CPython's _Py_KeyedHash() ---- */

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;
	unsigned ntail;
	uint64_t total;
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void sip_init(struct sip *s, uint64_t k0, uint64_t k1)
{
	memset(s, 0, sizeof(*s));
	s->v0 = k0 ^ 0x736f6d6570736575ULL;
	s->v1 = k1 ^ 0x646f72616e646f6dULL;
	s->v2 = k0 ^ 0x6c7967656e657261ULL;
	s->v3 = k1 ^ 0x7465646279746573ULL;
}

static void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	s->v0 ^= m;
}

static void sip_update(struct sip *s, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		s->tail |= (uint64_t)p[i] << (8 * s->ntail);
		if (++s->ntail == 8) {
			sip_word(s, s->tail);
			s->tail = 0;
			s->ntail = 0;
		}
	}
	s->total += n;
}

/* The hash, little-endian, as the header holds it. */
static void sip_final(struct sip *s, unsigned char out[8])
{
	uint64_t h;

	sip_word(s, (s->total << 56) | s->tail);
	s->v2 ^= 0xff;
	sip_round(s);
	sip_round(s);
	sip_round(s);
	h = s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
	for (int i = 0; i < 8; i++)
		out[i] = (unsigned char)(h >> (8 * i));
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the host's files ---- */

/* The live source: its stat, MD5 and (when @sip) SipHash, from one open and one read. */
struct source {
	struct stat st;
	uint8_t md5[16];
	unsigned char hash[8];
};

static int read_source(int rootfd, const char *path, struct sip *sip, struct source *ret)
{
	EVP_MD_CTX *ctx = NULL;
	unsigned char *buf = NULL;
	unsigned int mdlen = 0;
	int fd, r = 0;

	fd = probe_open(rootfd, path, OPEN_FLAGS);
	if (fd < 0)
		return fd;
	if (fstat(fd, &ret->st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(ret->st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	buf = malloc(65536);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		r = -ENOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_md5(), NULL) != 1) {
		r = -EIO;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, buf, 65536);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			r = -EIO;
			goto out;
		}
		if (sip)
			sip_update(sip, buf, (size_t)n);
	}
	if (EVP_DigestFinal_ex(ctx, ret->md5, &mdlen) != 1 || mdlen != 16) {
		r = -EIO;
		goto out;
	}
	if (sip)
		sip_final(sip, ret->hash);
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	close(fd);
	return r;
}

/* Whether @path exists under the root (not following a last symlink): 1, 0, or -errno. */
static int exists(int rootfd, const char *path)
{
	int fd = probe_open(rootfd, path, O_PATH | O_NOFOLLOW);

	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0;
	if (fd < 0)
		return fd;
	close(fd);
	return 1;
}

/* ---- the verdicts ---- */

/*
 * Whether the byte-code file @e is the host's still, as the snapshot
 * recorded it: the finding's own read (@own), or a read of its own when
 * it is judged for its directory. Its first bytes, from that one read, go
 * to @head (*@ret_n of them). 1, 0 (@res says why not), or -ENOMEM.
 */
static int still_recorded(struct explain *x, const struct entry *e, bool own,
			  struct pyc_result *res, unsigned char head[SCAN_READ_HEAD], size_t *ret_n)
{
	struct scan_file_read io = { .algo = e->hash_algo };
	const struct entry *h;
	struct diag dg = { 0 };
	char *path;
	int r;

	if (!e->hash_len) {
		result_set(res, false, "the snapshot recorded no digest of the byte-code");
		return 0;
	}
	if (own) {
		r = live_read(x->live, e, false);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			result_set(res, false, "cannot read the byte-code: %s", x->live->why);
			return 0;
		}
		h = &x->live->hash;
		memcpy(head, x->live->head, x->live->head_len);
		*ret_n = x->live->head_len;
	} else {
		path = strndup(e->key, e->key_len);
		if (!path)
			return -ENOMEM;
		r = scan_file_read(x->rootfd, path, &io, &dg);
		free(path);
		free(io.mime);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			result_set(res, false, "cannot read the byte-code: %s", strerror(-r));
			return 0;
		}
		h = &io.hash;
		memcpy(head, io.head, io.head_len);
		*ret_n = io.head_len;
	}
	if (h->hash_algo != e->hash_algo || h->hash_len != e->hash_len ||
	    memcmp(h->hash, e->hash, e->hash_len)) {
		result_set(res, false, "the byte-code changed since the snapshot");
		return 0;
	}
	return 1;
}

/* Rule 1: the byte-code file @e present on the after side. 0 or -ENOMEM. */
static int judge_present(struct explain *x, const struct entry *e, bool own, struct pyc_result *res)
{
	struct strbuf src = STRBUF_INIT;
	unsigned char head[SCAN_READ_HEAD];
	struct pkg_owner o;
	struct source live;
	struct sip sip;
	const char *name;
	size_t name_len, n = 0;
	uint32_t flags;
	int r;

	memset(res, 0, sizeof(*res));
	r = source_of(e->key, e->key_len, &src);
	if (r <= 0) {
		if (r == 0)
			result_set(res, false, "not byte-code of a source in a __pycache__");
		goto out;
	}
	name = base_of(src.buf, src.len, &name_len);
	if (!S_ISREG(e->mode)) {
		result_set(res, false, "byte-code that is not a regular file");
		goto out;
	}
	if (e->mode & 07111) {
		result_set(res, false, "executable byte-code, or with special permission bits");
		goto out;
	}
	r = still_recorded(x, e, own, res, head, &n);
	if (r <= 0)
		goto out;
	if (n < PYC_HEADER_LEN) {
		result_set(res, false, "cannot read the byte-code header: too short");
		r = 0;
		goto out;
	}
	if (head[2] != '\r' || head[3] != '\n') {
		result_set(res, false, "not Python byte-code (bad magic number)");
		goto out;
	}
	flags = le32(head + 4);
	if (flags & ~(PYC_FLAG_HASH | PYC_FLAG_CHECK_SOURCE)) {
		result_set(res, false, "byte-code header with unknown flags %#x", flags);
		goto out;
	}
	if ((flags & PYC_FLAG_HASH) && (head[0] | head[1] << 8) < MAGIC_SIPHASH13) {
		result_set(res, false,
			   "hash-based byte-code of a Python before 3.11: header not verifiable");
		goto out;
	}

	r = attrib_owner(x->attrib, true, src.buf, src.len, &o);
	if (r < 0)
		goto out;
	if (r == 0) {
		r = exists(x->rootfd, src.buf);
		if (r < 0 && r != -ENOMEM) {
			result_set(res, false, "byte-code without a packaged source (%.*s: %s)",
				   (int)name_len, name, strerror(-r));
			r = 0;
		} else if (r >= 0) {
			result_set(res, false,
				   r ? "byte-code without a packaged source (no package owns %.*s)"
				     : "byte-code without a packaged source (%.*s is missing)",
				   (int)name_len, name);
			r = 0;
		}
		goto out;
	}
	if (!o.has_md5) {
		result_set(res, false, "package %s %s has no checksum for %.*s", o.name, o.version,
			   (int)name_len, name);
		goto out;
	}
	if (flags & PYC_FLAG_HASH)
		sip_init(&sip, le32(head), 0);
	r = read_source(x->rootfd, src.buf, (flags & PYC_FLAG_HASH) ? &sip : NULL, &live);
	if (r == -ENOMEM)
		goto out;
	if (r < 0) {
		result_set(res, false, "cannot read %.*s of package %s %s: %s", (int)name_len, name,
			   o.name, o.version, r == -EINVAL ? "not a regular file" : strerror(-r));
		r = 0;
		goto out;
	}
	if (memcmp(live.md5, o.md5, 16)) {
		result_set(res, false, "%.*s does not match package %s %s", (int)name_len, name,
			   o.name, o.version);
		goto out;
	}
	if (flags & PYC_FLAG_HASH) {
		if (memcmp(head + 8, live.hash, 8)) {
			result_set(res, false, "byte-code header does not match %.*s (source hash)",
				   (int)name_len, name);
			goto out;
		}
	} else {
		/* Python's int(st_mtime): towards zero. */
		int64_t sec = (int64_t)live.st.st_mtim.tv_sec;

		if (sec < 0 && live.st.st_mtim.tv_nsec > 0)
			sec++;
		if (le32(head + 8) != (uint32_t)sec ||
		    le32(head + 12) != (uint32_t)live.st.st_size) {
			result_set(res, false,
				   "byte-code header does not match %.*s (mtime or size)",
				   (int)name_len, name);
			goto out;
		}
	}
	result_set(res, true, "byte-code of %.*s (package %s %s)", (int)name_len, name, o.name,
		   o.version);
	result_package(res, &o);
out:
	strbuf_release(&src);
	return r < 0 ? r : 0;
}

/* Rule 3: the byte-code file @e gone on the after side. 0 or -ENOMEM. */
static int judge_removed(struct explain *x, const struct entry *e, struct pyc_result *res)
{
	struct strbuf src = STRBUF_INIT;
	struct pkg_owner o;
	const char *name, *was, *now;
	size_t name_len;
	int r;

	memset(res, 0, sizeof(*res));
	res->removed = true;
	r = source_of(e->key, e->key_len, &src);
	if (r <= 0) {
		if (r == 0)
			result_set(res, false, "not byte-code of a source in a __pycache__");
		goto out;
	}
	name = base_of(src.buf, src.len, &name_len);
	r = exists(x->rootfd, src.buf);
	if (r != 0) {
		if (r == -ENOMEM)
			goto out;
		result_set(res, false, "%.*s is still on the host%s%s", (int)name_len, name,
			   r < 0 ? ": " : "", r < 0 ? strerror(-r) : "");
		r = 0;
		goto out;
	}
	r = attrib_owner(x->attrib, true, src.buf, src.len, &o);
	if (r < 0)
		goto out;
	if (r > 0) {
		result_set(res, false, "package %s %s still ships %.*s", o.name, o.version,
			   (int)name_len, name);
		r = 0;
		goto out;
	}
	r = attrib_owner(x->attrib, false, src.buf, src.len, &o);
	if (r < 0)
		goto out;
	if (r == 0) {
		result_set(res, false, "byte-code of %.*s, which no package owned", (int)name_len,
			   name);
		goto out;
	}
	r = 0;
	if (!attrib_versions(x->attrib, o.name, o.arch, &was, &now)) {
		result_set(res, false, "package %s %s of %.*s did not change", o.name, o.version,
			   (int)name_len, name);
		goto out;
	}
	if (now)
		result_set(res, true, "byte-code of %.*s (package %s upgraded %s -> %s)",
			   (int)name_len, name, o.name, was ? was : o.version, now);
	else
		result_set(res, true, "byte-code of %.*s (package %s %s removed)", (int)name_len,
			   name, o.name, o.version);
	result_package(res, &o);
out:
	strbuf_release(&src);
	return r < 0 ? r : 0;
}

/*
 * Rule 2: the __pycache__ directory @e, added (its entries on the after
 * side, rule 1 each) or removed (on the before side, rule 3 each). The
 * verdicts on its files are kept for their own findings.
 */
static int judge_dir(struct explain *x, const struct entry *e, bool removed, struct pyc_result *res)
{
	struct pyc_state *s = x->pyc;
	struct snap_iter *it = NULL;
	struct diag dg = { 0 };
	const struct entry *c;
	const struct pyc_result *first;
	bool mixed = false;
	size_t n = 0, bad = 0, ifirst = SIZE_MAX;
	char *root;
	int r;

	memset(res, 0, sizeof(*res));
	res->removed = removed;
	cache_clear(s);
	if (e->mode & 07002) {
		result_set(res, false, "byte-code directory writable by all or with special bits");
		return 0;
	}
	root = strndup(e->key, e->key_len);
	if (!root)
		return -ENOMEM;
	r = snap_iter_new(x->st, removed ? x->before->id : x->after->id, ENTRY_FILE,
			  (const char *const *)&root, 1, 0, &it, &dg);
	while (r >= 0 && (r = snap_iter_next(it, &c, &dg)) > 0) {
		struct pyc_result cr;
		size_t blen;
		const char *b;

		if (c->key_len == e->key_len)
			continue; /* the directory itself */
		n++;
		if (removed)
			r = judge_removed(x, c, &cr);
		else
			r = judge_present(x, c, false, &cr);
		if (r < 0)
			break;
		cr.removed = removed;
		r = cache_add(s, &cr, c->key, c->key_len);
		if (r < 0)
			break;
		if (!cr.ok) {
			if (!bad++) {
				b = base_of(c->key, c->key_len, &blen);
				result_set(res, false, "%.*s in it: %s", (int)blen, b, cr.reason);
			}
			continue;
		}
		if (ifirst == SIZE_MAX)
			ifirst = s->n - 1; /* an index: s->r moves as it grows */
		else if (strcmp(s->r[ifirst].name, cr.name))
			mixed = true;
	}
	snap_iter_free(it);
	free(root);
	if (r < 0)
		return r; /* the store failed: not a verdict */
	if (bad > 1) {
		size_t len = strlen(res->reason);

		snprintf(res->reason + len, sizeof(res->reason) - len, " (and %zu more)", bad - 1);
	}
	if (!n) {
		result_set(res, false, "empty byte-code directory");
	} else if (!bad) {
		first = &s->r[ifirst];
		result_set(res, true, "byte-code directory of package%s %s %s%s%s",
			   mixed ? "s" : "", first->name, first->version,
			   mixed ? " and others" : "", removed ? ", removed" : "");
		snprintf(res->name, sizeof(res->name), "%s", first->name);
		snprintf(res->arch, sizeof(res->arch), "%s", first->arch);
		snprintf(res->version, sizeof(res->version), "%s", first->version);
	}
	return 0;
}

/* Revise @v by @res: expected with the source's package, or drift with why. */
static int apply(struct explain *x, const struct pyc_result *res, struct rule_verdict *v,
		 struct finding_package *pkg, struct attrib_note *note)
{
	const char *was, *now;

	if (!res->ok) {
		verdict_reason_add(v, "%s", res->reason);
		return 1;
	}
	v->class = CLASS_EXPECTED;
	verdict_reason(v, "%s", res->reason);
	attrib_versions(x->attrib, res->name, res->arch, &was, &now);
	attrib_set_package(pkg, note, res->name, res->arch, was, now);
	return 1;
}

int pyc_explain(struct explain *x, const struct deviation *d, struct rule_verdict *v,
		struct finding_package *pkg, struct attrib_note *note)
{
	const struct entry *e = d->after ? d->after : d->before;
	bool removed = d->change == CHANGE_REMOVED;
	const struct pyc_result *hit;
	struct pyc_result res;
	struct pkg_owner o;
	size_t blen;
	const char *b;
	bool dir;
	int r;

	if (e->kind != ENTRY_FILE)
		return 0;
	b = base_of(e->key, e->key_len, &blen);
	dir = blen == CACHE_DIR_LEN - 1 && !memcmp(b, "__pycache__", blen);
	if (dir ? !S_ISDIR(e->mode) || d->change == CHANGE_MODIFIED
		: !in_cache_dir(e->key, e->key_len) && !ends_with(b, blen, ".pyc"))
		return 0;
	/* What a package lists is dpkg's to explain (attrib.c), not py3compile's. */
	r = attrib_owner(x->attrib, !removed, e->key, e->key_len, &o);
	if (r != 0)
		return r < 0 ? r : 0;
	if (!dir && !in_cache_dir(e->key, e->key_len)) {
		verdict_reason_add(v, "byte-code outside a __pycache__");
		return 1;
	}
	if (!x->pyc) {
		x->pyc = calloc(1, sizeof(*x->pyc));
		if (!x->pyc)
			return -ENOMEM;
	}
	if (dir) {
		r = judge_dir(x, e, removed, &res);
		return r < 0 ? r : apply(x, &res, v, pkg, note);
	}
	if (d->change == CHANGE_MODIFIED && (d->attrs & ~CONTENT_ATTRS)) {
		verdict_reason_add(v, "byte-code: more than its content changed");
		return 1;
	}
	hit = cache_find(x->pyc, e->key, e->key_len, removed);
	if (hit)
		return apply(x, hit, v, pkg, note);
	r = removed ? judge_removed(x, e, &res) : judge_present(x, e, true, &res);
	return r < 0 ? r : apply(x, &res, v, pkg, note);
}
