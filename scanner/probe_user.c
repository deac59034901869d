/*
 * The user probe: the accounts and groups of the root's user database.
 *
 *  - Sources: etc/passwd and etc/group (the probe is unavailable only when
 *    both are missing), and when present etc/shadow and etc/gshadow. Each is
 *    read whole with probe_read_file() and split in place into lines and ':'
 *    fields (struct record), so that fields point into the file's buffer.
 *  - Validation: wrong field count, empty name, NIS lines ('+'/'-'),
 *    non-numeric ids and duplicate names are findings, and the line is
 *    skipped; comments and blank lines are skipped silently. Records are
 *    then sorted by name and de-duplicated (the first line wins), which also
 *    makes the shadow lookups a bsearch().
 *  - Passwords are never emitted, logged or quoted. A hash field becomes a
 *    state ("none", "locked", "disabled", "set") and, for a real crypt hash,
 *    a keyed digest: HMAC-SHA256 with ctx->secret over the hash (after the
 *    '!'s of a lock, so that locking an account does not change it), cut to
 *    16 bytes. Findings about shadow lines carry only the line number. The
 *    shadow buffers are wiped before they are freed.
 *  - Emission: ENTRY_USER per account, then ENTRY_GROUP per group, each in
 *    name order.
 */
#include "scanner/probe.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define FIELDS_MAX   9
#define DIGEST_BYTES 16 /* of the HMAC-SHA256, printed as 32 hex digits */

enum source_id { SRC_PASSWD, SRC_GROUP, SRC_SHADOW, SRC_GSHADOW, SRC__COUNT };

/* One source file: its buffer, and its valid lines once parsed. */
struct source {
	const char *path;
	size_t nfields;
	bool secret;      /* holds password hashes: wipe, never quote */
	const char *what; /* "user", "group"... for messages */
	char *buf;        /* owned; NULL when the file is missing */
	size_t len;
	struct record *recs;
	size_t nrecs;
};

/* One valid line: fields point into the source's buffer. */
struct record {
	char *f[FIELDS_MAX];
	unsigned line;
	uint32_t id, gid; /* passwd: uid and gid; group: gid in id */
};

struct user_run {
	const struct probe_ctx *ctx;
	struct source src[SRC__COUNT];
	uint8_t key_zero[32];
	struct strbuf props; /* reused for every entry */
	struct strbuf tmp;   /* member lists */
	struct strbuf tmp2;  /* admin lists */
};

static const enum entry_kind user_kinds[] = { ENTRY_USER, ENTRY_GROUP, 0 };

/* A uid or gid: decimal digits, at most 4294967294 ((uid_t)-1 means "none"). */
static bool parse_id(const char *s, uint32_t *ret_id)
{
	uint64_t v;

	if (!probe_parse_decimal(s, UINT32_MAX - 1, &v))
		return false;
	*ret_id = (uint32_t)v;
	return true;
}

static int record_cmp(const void *a, const void *b)
{
	const struct record *ra = a, *rb = b;
	int c = strcmp(ra->f[0], rb->f[0]);

	if (c)
		return c;
	return ra->line < rb->line ? -1 : ra->line > rb->line;
}

/*
 * Split s->buf into records: a finding for every line that cannot be one.
 * Then sort them by name and drop the later duplicates.
 */
static int source_parse(struct user_run *u, struct source *s)
{
	size_t alloc = 16, n = 0;
	unsigned line = 0;
	char *p = s->buf, *end = s->buf + s->len;

	s->recs = malloc(alloc * sizeof(*s->recs));
	if (!s->recs)
		return -ENOMEM;
	while (p < end) {
		char *eol = memchr(p, '\n', (size_t)(end - p));
		char *next = eol ? eol + 1 : end;
		struct record rec;
		size_t nf = 0;
		bool bad_id = false;

		if (eol)
			*eol = '\0';
		line++;
		if (!*p || *p == '#')
			goto next_line;
		if (*p == '+' || *p == '-') {
			probe_findingf(u->ctx, "user", s->path, line,
				       "NIS entry not supported, skipping");
			goto next_line;
		}
		memset(&rec, 0, sizeof(rec));
		rec.line = line;
		for (char *f = p;; nf++) {
			char *colon = strchr(f, ':');

			if (nf < FIELDS_MAX)
				rec.f[nf] = f;
			if (!colon) {
				nf++;
				break;
			}
			*colon = '\0';
			f = colon + 1;
		}
		if (nf != s->nfields) {
			probe_findingf(u->ctx, "user", s->path, line,
				       "malformed line: %zu fields, expected %zu, skipping", nf,
				       s->nfields);
			goto next_line;
		}
		if (!rec.f[0][0]) {
			probe_findingf(u->ctx, "user", s->path, line,
				       "malformed line: empty %s name, skipping", s->what);
			goto next_line;
		}
		if (s - u->src == SRC_PASSWD) {
			if (!parse_id(rec.f[2], &rec.id)) {
				probe_findingf(u->ctx, "user", s->path, line,
					       "invalid uid '%.32s', skipping", rec.f[2]);
				bad_id = true;
			} else if (!parse_id(rec.f[3], &rec.gid)) {
				probe_findingf(u->ctx, "user", s->path, line,
					       "invalid gid '%.32s', skipping", rec.f[3]);
				bad_id = true;
			}
		} else if (s - u->src == SRC_GROUP && !parse_id(rec.f[2], &rec.id)) {
			probe_findingf(u->ctx, "user", s->path, line,
				       "invalid gid '%.32s', skipping", rec.f[2]);
			bad_id = true;
		}
		if (bad_id)
			goto next_line;
		if (n == alloc) {
			struct record *nr = realloc(s->recs, 2 * alloc * sizeof(*nr));

			if (!nr)
				return -ENOMEM;
			s->recs = nr;
			alloc *= 2;
		}
		s->recs[n++] = rec;
next_line:
		p = next;
	}

	qsort(s->recs, n, sizeof(*s->recs), record_cmp);
	s->nrecs = 0;
	for (size_t i = 0; i < n; i++) {
		if (s->nrecs && !strcmp(s->recs[s->nrecs - 1].f[0], s->recs[i].f[0])) {
			unsigned first = s->recs[s->nrecs - 1].line;

			if (s->secret)
				probe_findingf(u->ctx, "user", s->path, s->recs[i].line,
					       "duplicate entry (first on line %u), skipping",
					       first);
			else
				probe_findingf(u->ctx, "user", s->path, s->recs[i].line,
					       "duplicate %s '%s' (first on line %u), skipping",
					       s->what, s->recs[i].f[0], first);
			continue;
		}
		s->recs[s->nrecs++] = s->recs[i];
	}
	return 0;
}

static const struct record *source_find(const struct source *s, const char *name)
{
	size_t lo = 0, hi = s->nrecs;

	/* by name only: record_cmp() also compares lines */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, s->recs[mid].f[0]);

		if (!c)
			return &s->recs[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* Shadow lines whose account (group) does not exist: a finding each. */
static void source_check_orphans(struct user_run *u, const struct source *sh,
				 const struct source *main)
{
	if (!sh->buf || !main->buf)
		return;
	for (size_t i = 0; i < sh->nrecs; i++)
		if (!source_find(main, sh->recs[i].f[0]))
			probe_findingf(u->ctx, "user", sh->path, sh->recs[i].line,
				       "entry without a line in %s, skipping", main->path);
}

/*
 * A crypt(3) hash, as opposed to a placeholder ('*', 'x', "NP", "*LK*"):
 * "$id$..." in the crypt alphabet, a 13-character DES hash, or a BSDi
 * "_" extended DES hash.
 */
static bool crypt_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '/';
}

static bool is_crypt_hash(const char *s)
{
	size_t n = strlen(s), i;

	if (s[0] == '$') {
		for (i = 1; i < n && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9'));
		     i++)
			;
		if (i == 1 || i > 9 || s[i] != '$' || i + 1 >= n)
			return false;
		for (i++; i < n; i++)
			if (!crypt_char(s[i]) && s[i] != '$' && s[i] != '=' && s[i] != ',' &&
			    s[i] != '-')
				return false;
		return true;
	}
	if (s[0] == '_') {
		if (n != 20)
			return false;
		s++;
		n--;
	} else if (n != 13) {
		return false;
	}
	for (i = 0; i < n; i++)
		if (!crypt_char(s[i]))
			return false;
	return true;
}

/* Hex of the first DIGEST_BYTES of HMAC-SHA256(secret, @hash) into @out (33 bytes). */
static int password_digest(const struct user_run *u, const char *hash, char *out)
{
	const uint8_t *key = u->ctx->secret;
	size_t key_len = u->ctx->secret_len;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;

	if (!key || !key_len) {
		key = u->key_zero;
		key_len = sizeof(u->key_zero);
	}
	if (key_len > INT32_MAX)
		return -EINVAL;
	if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)hash, strlen(hash), md,
		  &md_len) ||
	    md_len < DIGEST_BYTES)
		return -EIO;
	probe_hex(md, DIGEST_BYTES, out);
	OPENSSL_cleanse(md, sizeof(md));
	return 0;
}

/*
 * The state of a password field, and its digest in @digest (33 bytes;
 * empty when there is none): "none" (no password needed), "locked" ('!'
 * before a hash), "disabled" (anything that is not a hash), "set".
 */
static int password_state(const struct user_run *u, const char *field, const char **ret_state,
			  char *digest)
{
	const char *hash = field;
	int r;

	digest[0] = '\0';
	if (!*field) {
		*ret_state = "none";
		return 0;
	}
	while (*hash == '!')
		hash++;
	if (!is_crypt_hash(hash)) {
		*ret_state = "disabled";
		return 0;
	}
	r = password_digest(u, hash, digest);
	if (r < 0)
		return r;
	*ret_state = hash == field ? "set" : "locked";
	return 0;
}

/*
 * The properties "password" and, for a hash, "password_digest" (its text
 * in @digest, 33 bytes) of the password field @field, at props[*n...].
 */
static int password_props(const struct user_run *u, const char *field, struct entry_prop *props,
			  size_t *n, char *digest)
{
	const char *state;
	int r;

	r = password_state(u, field, &state, digest);
	if (r < 0)
		return r;
	probe_prop_set(&props[(*n)++], "password", state);
	if (digest[0])
		probe_prop_set(&props[(*n)++], "password_digest", digest);
	return 0;
}

/*
 * A shadow date (days since the epoch) as YYYY-MM-DD into @out (16 bytes);
 * "" stays "". Anything else is kept as it is, with a finding that quotes
 * only the field's number.
 */
static const char *shadow_date(struct user_run *u, const struct source *s, unsigned line,
			       unsigned field, const char *days, char *out)
{
	struct tm tm;
	time_t t;
	uint64_t v = 0;

	if (!*days)
		return days;
	for (const char *p = days; *p; p++) {
		if (*p < '0' || *p > '9' || v > 1000000)
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v > 1000000) /* year 4707: further is not a date anyone set */
		goto bad;
	t = (time_t)(v * 86400);
	if (!gmtime_r(&t, &tm) || !strftime(out, 16, "%Y-%m-%d", &tm))
		goto bad;
	return out;
bad:
	probe_findingf(u->ctx, "user", s->path, line,
		       "field %u is not a number of days, kept as is", field);
	return days;
}

static int emit_entry(struct user_run *u, enum entry_kind kind, const char *name,
		      struct entry_prop *props, size_t n)
{
	int r;

	r = entry_props_encode(&u->props, props, n);
	if (r < 0)
		return r;
	return probe_emit_entry(u->ctx, kind, name, strlen(name), &u->props);
}

static int users_emit(struct user_run *u)
{
	const struct source *pw = &u->src[SRC_PASSWD], *sh = &u->src[SRC_SHADOW];

	for (size_t i = 0; i < pw->nrecs; i++) {
		const struct record *rec = &pw->recs[i];
		const struct record *srec = source_find(sh, rec->f[0]);
		struct entry_prop props[16];
		char uid[12], gid[12], digest[2 * DIGEST_BYTES + 1], changed[16], expire[16];
		size_t n = 0;
		int r;

		snprintf(uid, sizeof(uid), "%" PRIu32, rec->id);
		snprintf(gid, sizeof(gid), "%" PRIu32, rec->gid);
		probe_prop_set(&props[n++], "uid", uid);
		probe_prop_set(&props[n++], "gid", gid);
		probe_prop_set(&props[n++], "gecos", rec->f[4]);
		probe_prop_set(&props[n++], "home", rec->f[5]);
		probe_prop_set(&props[n++], "shell", rec->f[6]);
		if (srec) {
			r = password_props(u, srec->f[1], props, &n, digest);
			if (r < 0)
				return r;
			probe_prop_set(&props[n++], "last_change",
				       shadow_date(u, sh, srec->line, 3, srec->f[2], changed));
			probe_prop_set(&props[n++], "min", srec->f[3]);
			probe_prop_set(&props[n++], "max", srec->f[4]);
			probe_prop_set(&props[n++], "warn", srec->f[5]);
			probe_prop_set(&props[n++], "inactive", srec->f[6]);
			probe_prop_set(&props[n++], "expire",
				       shadow_date(u, sh, srec->line, 8, srec->f[7], expire));
		}
		r = emit_entry(u, ENTRY_USER, rec->f[0], props, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int groups_emit(struct user_run *u)
{
	const struct source *gr = &u->src[SRC_GROUP], *gs = &u->src[SRC_GSHADOW];

	for (size_t i = 0; i < gr->nrecs; i++) {
		const struct record *rec = &gr->recs[i];
		const struct record *srec = source_find(gs, rec->f[0]);
		struct entry_prop props[8];
		char gid[12], digest[2 * DIGEST_BYTES + 1];
		size_t n = 0;
		int r;

		snprintf(gid, sizeof(gid), "%" PRIu32, rec->id);
		probe_prop_set(&props[n++], "gid", gid);
		r = probe_list_sort(rec->f[3], &u->tmp);
		if (r < 0)
			return r;
		probe_prop_set(&props[n++], "members", u->tmp.buf);
		if (srec) {
			r = password_props(u, srec->f[1], props, &n, digest);
			if (r < 0)
				return r;
			r = probe_list_sort(srec->f[2], &u->tmp2);
			if (r < 0)
				return r;
			probe_prop_set(&props[n++], "admins", u->tmp2.buf);
		}
		r = emit_entry(u, ENTRY_GROUP, rec->f[0], props, n);
		if (r < 0)
			return r;
	}
	return 0;
}

static int user_probe_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct user_run u = {
		.ctx = ctx,
		.src = {
			[SRC_PASSWD] = { .path = "etc/passwd", .nfields = 7, .what = "user" },
			[SRC_GROUP] = { .path = "etc/group", .nfields = 4, .what = "group" },
			[SRC_SHADOW] = { .path = "etc/shadow", .nfields = 9, .secret = true,
					 .what = "user" },
			[SRC_GSHADOW] = { .path = "etc/gshadow", .nfields = 4, .secret = true,
					  .what = "group" },
		},
		.props = STRBUF_INIT,
		.tmp = STRBUF_INIT,
		.tmp2 = STRBUF_INIT,
	};
	int r;

	for (size_t i = 0; i < SRC__COUNT; i++) {
		struct source *s = &u.src[i];

		r = probe_read_file(ctx->rootfd, s->path, &s->buf, &s->len);
		if (r == -ENOENT || r == -ENOTDIR)
			continue;
		if (s->secret && (r == -EACCES || r == -EPERM)) {
			/* drift run by a user: accounts without password properties */
			probe_findingf(u.ctx, "user", s->path, 0,
				       "cannot read: %s, no password properties", strerror(-r));
			continue;
		}
		if (r < 0) {
			r = diag_set(reterr, r, "cannot read '%s': %s", s->path, strerror(-r));
			goto out;
		}
	}
	if (!u.src[SRC_PASSWD].buf && !u.src[SRC_GROUP].buf) {
		r = PROBE_UNAVAILABLE;
		goto out;
	}
	for (size_t i = 0; i < SRC__COUNT; i++) {
		struct source *s = &u.src[i];

		if (!s->buf) {
			if (i == SRC_PASSWD || i == SRC_GROUP)
				probe_findingf(u.ctx, "user", s->path, 0,
					       "file missing, no %s entries", s->what);
			continue;
		}
		r = source_parse(&u, s);
		if (r < 0) {
			r = diag_set(reterr, r, "cannot parse '%s': %s", s->path, strerror(-r));
			goto out;
		}
	}
	source_check_orphans(&u, &u.src[SRC_SHADOW], &u.src[SRC_PASSWD]);
	source_check_orphans(&u, &u.src[SRC_GSHADOW], &u.src[SRC_GROUP]);

	r = users_emit(&u);
	if (r == 0)
		r = groups_emit(&u);
	if (r < 0) /* emit asked to stop (its errno), or ENOMEM, or OpenSSL failed */
		r = diag_set(reterr, r, "user probe stopped: %s", strerror(-r));
out:
	for (size_t i = 0; i < SRC__COUNT; i++) {
		struct source *s = &u.src[i];

		if (s->buf && s->secret)
			explicit_bzero(s->buf, s->len);
		free(s->buf);
		free(s->recs);
	}
	strbuf_release(&u.props);
	strbuf_release(&u.tmp);
	strbuf_release(&u.tmp2);
	return r;
}

/** The user probe: ENTRY_USER and ENTRY_GROUP entries (see the top of this file). */
const struct probe probe_user = {
	.name = "user",
	.kinds = user_kinds,
	.summary = "accounts and groups: etc/passwd, etc/group, keyed digests of etc/shadow",
	.run = user_probe_run,
};
