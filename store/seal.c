/*
 * Seals (schema version 8): tamper evidence for what the database holds.
 * See store.h for the contract; the design in short:
 *
 *   - An object is a complete snapshot (its row and every entry, as the
 *     iterator reads them, whatever blocks or deltas hold them; its package
 *     versions and their files), a complete run (row, rules, findings,
 *     blind entries), the baseline pointer, an acceptance (row and keys;
 *     its undo state apart), a remediation (row; its finish and undo state
 *     apart) and each journal action (what it is; its state apart). Each
 *     part has a digest: SHA-256 over its columns in a fixed order, each
 *     value typed and length-prefixed, so no two contents share an encoding.
 *   - The `seal` table is a chain: seal N holds (kind, object, sub, op, at,
 *     epoch, digest) and chain = SHA-256(tag || chain of N-1 || those
 *     fields); with a key, mac = HMAC-SHA256(K_epoch, chain). Its ids come
 *     from AUTOINCREMENT, so sqlite_sequence remembers the newest seal ever
 *     made even when rows at the end are deleted.
 *   - What to seal is found by TEMP triggers on drift's own connection:
 *     every insert, update or delete drift makes on a sealed table notes the
 *     object in temp.seal_pending, and the pending objects are sealed just
 *     before the transaction commits (snap_commit()). A sqlite3 shell's edit
 *     fires nothing. The newest seal of an object is what it must match;
 *     an object gone from the database is sealed as deleted (op 1) by the
 *     drift that deleted it. A part that never changes (a snapshot, a run,
 *     the fixed part of an acceptance, remediation or action) is never
 *     sealed twice: when it no longer matches its seal, drift leaves the
 *     seal as it is, for verification to report.
 *   - Keys evolve (forward security): K_{e+1} = SHA-256(tag || K_e), one
 *     epoch per `period` seconds from `origin`. The host's key file is
 *     rewritten to the current epoch and the older key forgotten, so that
 *     who takes the host later cannot authenticate seals of earlier epochs;
 *     the verifier holds a copy of the first key, off the host. A seal's
 *     epoch must be the epoch of its own time and of the object's time
 *     (or the one before: a run that spans midnight), so a later key cannot
 *     reseal older objects under a later epoch unnoticed (the flaw of
 *     CVE-2023-31439: the epoch of a seal was not checked against what it
 *     sealed).
 */
#include "store/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"
#include "common/banned.h"

/* The kinds of seal.kind: stored, never renumber. */
enum seal_kind {
	SEAL_SNAPSHOT = 1,
	SEAL_BASELINE = 2,
	SEAL_RUN = 3,
	SEAL_ACCEPT = 4,
	SEAL_ACCEPT_STATE = 5,
	SEAL_REMEDY = 6,
	SEAL_REMEDY_STATE = 7,
	SEAL_ACTION = 8,
	SEAL_ACTION_STATE = 9,
	SEAL__KIND_MAX = 9,
};

/* seal.op */
enum seal_op {
	SEAL_OP_SEAL = 0,    /* the object is as its digest says */
	SEAL_OP_DELETE = 1,  /* drift deleted the object */
	SEAL_OP_GENESIS = 2, /* sealed when seals began: vouches for nothing earlier */
};

const char *const schema_seal_tables[] = {
	"CREATE TABLE IF NOT EXISTS %s.seal (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" kind INTEGER NOT NULL, object INTEGER NOT NULL, sub INTEGER NOT NULL,"
	" op INTEGER NOT NULL, at INTEGER NOT NULL, epoch INTEGER NOT NULL,"
	" digest BLOB NOT NULL, chain BLOB NOT NULL, mac BLOB)",
	"CREATE INDEX IF NOT EXISTS %s.seal_object ON seal (kind, object, sub, seq)",
};
const size_t schema_seal_ntables = sizeof(schema_seal_tables) / sizeof(schema_seal_tables[0]);

/*
 * The triggers: (kind, object, sub) of what drift's own statements touch.
 * TEMP, so they live on this connection only.
 */
static const char sql_setup[] =
	"CREATE TEMP TABLE IF NOT EXISTS seal_pending (kind INTEGER NOT NULL,"
	" object INTEGER NOT NULL, sub INTEGER NOT NULL, PRIMARY KEY (kind, object, sub))"
	" WITHOUT ROWID;"
#define NOTE(k, o, s) "INSERT OR IGNORE INTO seal_pending VALUES (" k ", " o ", " s ");"
#define ON(name, event, table, body)                                                               \
	"CREATE TEMP TRIGGER IF NOT EXISTS " name " AFTER " event " ON main." table " BEGIN " body \
	" END;"
	ON("seal_snap_i", "INSERT", "snapshot", NOTE("1", "new.id", "0")) ON(
		"seal_snap_u", "UPDATE", "snapshot",
		NOTE("1", "new.id", "0")
			NOTE("1", "old.id",
			     "0")) ON("seal_snap_d", "DELETE", "snapshot",
				      NOTE("1", "old.id",
					   "0")) ON("seal_meta_i", "INSERT",
						    "meta WHEN new.key = '" SNAP_META_BASELINE "'",
						    NOTE("2", "0", "0"))
		ON("seal_meta_u", "UPDATE", "meta WHEN new.key = '" SNAP_META_BASELINE "'",
		   NOTE("2", "0", "0")) ON("seal_meta_d", "DELETE",
					   "meta WHEN old.key = '" SNAP_META_BASELINE "'",
					   NOTE("2", "0", "0")) ON("seal_run_i", "INSERT", "run",
								   NOTE("3", "new.id", "0"))
			ON("seal_run_u", "UPDATE", "run",
			   NOTE("3", "new.id", "0") NOTE(
				   "3", "old.id",
				   "0")) ON("seal_run_d", "DELETE", "run",
					    NOTE("3", "old.id",
						 "0")) ON("seal_acc_i", "INSERT", "acceptance",
							  NOTE("4", "new.id", "0")
								  NOTE("5", "new.id", "0"))
				ON("seal_acc_u", "UPDATE", "acceptance",
				   NOTE("4", "new.id", "0") NOTE(
					   "5", "new.id",
					   "0")) ON("seal_acc_d", "DELETE", "acceptance",
						    NOTE("4", "old.id", "0")
							    NOTE("5", "old.id", "0"))
					ON("seal_rem_i", "INSERT", "remedy",
					   NOTE("6", "new.id", "0")
						   NOTE("7", "new.id",
							"0")) ON("seal_rem_u", "UPDATE", "remedy",
								 NOTE("6", "new.id", "0")
									 NOTE("7", "new.id", "0"))
						ON("seal_rem_d", "DELETE", "remedy",
						   NOTE("6", "old.id", "0") NOTE(
							   "7", "old.id",
							   "0")) ON("seal_act_i", "INSERT",
								    "remedy_action",
								    NOTE("8", "new.remedy",
									 "new.seq")
									    NOTE(
										    "9",
										    "new.remedy",
										    "new.seq"))
							ON("seal_act_u", "UPDATE", "remedy_action",
							   NOTE("8", "new.remedy", "new.seq") NOTE(
								   "9", "new.remedy", "new.seq"))
								ON("seal_act_d", "DELETE",
								   "remedy_action",
								   NOTE("8", "old.remedy",
									"old.seq")
									   NOTE("9", "old.remedy",
										"old.seq"))
#undef ON
#undef NOTE
	;

/* ---- keys ---- */

struct snap_seal_key {
	uint8_t key[32]; /* K_epoch */
	int64_t origin;  /* seconds since the Epoch of epoch 0 */
	int64_t period;  /* seconds per epoch */
	int64_t epoch;
	char *path;    /* NULL: not to be rewritten */
	bool evolved;  /* key is later than the file's */
	bool readonly; /* the file could not be rewritten: keep going in memory */
};

static const char key_magic[] = "drift-seal-key 1";

static void key_evolve(struct snap_seal_key *k)
{
	static const char tag[] = "drift seal evolve";
	uint8_t buf[sizeof(tag) + 32];
	unsigned n = 0;

	memcpy(buf, tag, sizeof(tag));
	memcpy(buf + sizeof(tag), k->key, 32);
	EVP_Digest(buf, sizeof(buf), k->key, &n, EVP_sha256(), NULL);
	OPENSSL_cleanse(buf, sizeof(buf));
	k->epoch++;
}

int64_t snap_seal_key_epoch_of(const struct snap_seal_key *k, int64_t at_ns)
{
	int64_t s = at_ns / 1000000000;

	if (s < k->origin)
		return -1;
	return (s - k->origin) / k->period;
}

int64_t snap_seal_key_epoch(const struct snap_seal_key *k)
{
	return k->epoch;
}

static int hex_decode(const char *s, uint8_t *out, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned v = 0;

		for (int j = 0; j < 2; j++) {
			char c = s[2 * i + j];

			v <<= 4;
			if (c >= '0' && c <= '9')
				v |= (unsigned)(c - '0');
			else if (c >= 'a' && c <= 'f')
				v |= (unsigned)(c - 'a' + 10);
			else
				return -EINVAL;
		}
		out[i] = (uint8_t)v;
	}
	return s[2 * n] == '\0' ? 0 : -EINVAL;
}

void snap_seal_hex(const uint8_t *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int key_parse(struct snap_seal_key *k, char *text, const char *path, struct diag *reterr)
{
	bool magic = false, have_key = false, have_origin = false, have_period = false,
	     have_epoch = false;
	char *save = NULL;
	unsigned lineno = 0;

	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *end = NULL;
		long long v;

		lineno++;
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (!magic) {
			if (strcmp(line, key_magic))
				return diag_set(reterr, -EINVAL,
						"'%s' is not a drift sealing key (it does not start"
						" with '%s')",
						path, key_magic);
			magic = true;
			continue;
		}
		if (!strncmp(line, "key ", 4)) {
			if (hex_decode(line + 4, k->key, 32) < 0)
				return diag_set(reterr, -EINVAL,
						"%s:%u: the key is not 64 lowercase hex digits",
						path, lineno);
			have_key = true;
			continue;
		}
		const char *names[] = { "origin ", "period ", "epoch " };
		int64_t *vals[] = { &k->origin, &k->period, &k->epoch };
		bool *have[] = { &have_origin, &have_period, &have_epoch };
		size_t i;

		for (i = 0; i < 3; i++)
			if (!strncmp(line, names[i], strlen(names[i])))
				break;
		if (i == 3)
			return diag_set(reterr, -EINVAL, "%s:%u: unknown line", path, lineno);
		errno = 0;
		v = strtoll(line + strlen(names[i]), &end, 10);
		if (errno || !end || *end || end == line + strlen(names[i]) || v < 0)
			return diag_set(reterr, -EINVAL, "%s:%u: not a number", path, lineno);
		*vals[i] = v;
		*have[i] = true;
	}
	if (!magic || !have_key || !have_origin || !have_period || !have_epoch)
		return diag_set(reterr, -EINVAL,
				"'%s' is not a complete drift sealing key (it needs origin,"
				" period, epoch and key)",
				path);
	if (k->period < 60)
		return diag_set(reterr, -EINVAL, "'%s': a period under 60 seconds", path);
	return 0;
}

int snap_seal_key_load(const char *path, struct snap_seal_key **ret, struct diag *reterr)
{
	struct snap_seal_key *k = NULL;
	char buf[1024];
	ssize_t n;
	size_t len = 0;
	int fd, r;

	*ret = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return diag_set(reterr, -errno, "cannot open the sealing key '%s': %s", path,
				strerror(errno));
	struct stat sb;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		return diag_set(reterr, -EINVAL, "the sealing key '%s' is not a regular file",
				path);
	}
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = diag_set(reterr, -errno, "cannot read the sealing key '%s': %s", path,
				     strerror(errno));
			close(fd);
			return r;
		}
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len == sizeof(buf) - 1 || memchr(buf, '\0', len))
		return diag_set(reterr, -EINVAL, "'%s' is not a drift sealing key", path);
	k = calloc(1, sizeof(*k));
	if (!k)
		return diag_set(reterr, -ENOMEM, "out of memory");
	r = key_parse(k, buf, path, reterr);
	OPENSSL_cleanse(buf, sizeof(buf));
	if (r == 0) {
		k->path = strdup(path);
		if (!k->path)
			r = diag_set(reterr, -ENOMEM, "out of memory");
	}
	if (r < 0) {
		snap_seal_key_free(k);
		return r;
	}
	*ret = k;
	return 0;
}

void snap_seal_key_free(struct snap_seal_key *k)
{
	if (!k)
		return;
	free(k->path);
	OPENSSL_cleanse(k, sizeof(*k));
	free(k);
}

/* The key file's text for @k. */
static int key_format(const struct snap_seal_key *k, char *out, size_t size)
{
	char hex[65];
	int n;

	snap_seal_hex(k->key, 32, hex);
	n = snprintf(out, size,
		     "# drift sealing key (drift snapshots --new-key). Keep a copy of the first\n"
		     "# version off this host: it verifies every seal. drift rewrites this file\n"
		     "# to the current epoch and forgets the older keys.\n"
		     "%s\norigin %" PRId64 "\nperiod %" PRId64 "\nepoch %" PRId64 "\nkey %s\n",
		     key_magic, k->origin, k->period, k->epoch, hex);
	OPENSSL_cleanse(hex, sizeof(hex));
	return n > 0 && (size_t)n < size ? n : -ENAMETOOLONG;
}

/* Write @k to @path: a new file (O_EXCL) or, with @replace, a temporary one renamed over it. */
static int key_write(const struct snap_seal_key *k, const char *path, bool replace,
		     struct diag *reterr)
{
	char text[512], tmp[4096];
	int fd, n, r = 0;

	n = key_format(k, text, sizeof(text));
	if (n < 0)
		return diag_set(reterr, -EINVAL, "cannot format the sealing key");
	if (replace) {
		if (snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
			return diag_set(reterr, -ENAMETOOLONG, "'%s': name too long", path);
		unlink(tmp);
	} else {
		if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
			return diag_set(reterr, -ENAMETOOLONG, "'%s': name too long", path);
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = diag_set(reterr, -errno, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write(fd, text, (size_t)n) != n || fsync(fd) < 0) {
		r = diag_set(reterr, errno ? -errno : -EIO, "cannot write '%s': %s", tmp,
			     strerror(errno ? errno : EIO));
		close(fd);
		unlink(tmp);
		goto out;
	}
	close(fd);
	if (replace && rename(tmp, path) < 0) {
		r = diag_set(reterr, -errno, "cannot replace '%s': %s", path, strerror(errno));
		unlink(tmp);
	}
out:
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

int snap_seal_key_create(const char *path, int64_t period, struct diag *reterr)
{
	struct snap_seal_key k = { .period = period > 0 ? period : 86400 };
	size_t got = 0;
	int r;

	while (got < sizeof(k.key)) {
		ssize_t n = getrandom(k.key + got, sizeof(k.key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return diag_set(reterr, n < 0 ? -errno : -EIO, "getrandom: %s",
					n < 0 ? strerror(errno) : "no bytes");
		got += (size_t)n;
	}
	k.origin = (int64_t)time(NULL);
	r = key_write(&k, path, false, reterr);
	OPENSSL_cleanse(&k, sizeof(k));
	return r;
}

/* Bring @k to @epoch (never back). */
static void key_to(struct snap_seal_key *k, int64_t epoch)
{
	while (k->epoch < epoch) {
		key_evolve(k);
		k->evolved = true;
	}
}

/* Rewrite the key file at the key's epoch, once the seals it made are committed. */
static void key_persist(struct snap_seal_key *k)
{
	struct diag d = { 0 };

	if (!k || !k->evolved || !k->path || k->readonly)
		return;
	if (key_write(k, k->path, true, &d) < 0)
		k->readonly = true; /* read-only media: the evolved key lives in memory */
	else
		k->evolved = false;
}

void snap_store_set_seal_key(struct snap_store *st, struct snap_seal_key *key)
{
	if (st->seal_key != key)
		snap_seal_key_free(st->seal_key);
	st->seal_key = key;
}

/* ---- digests ---- */

struct dg {
	EVP_MD_CTX *ctx;
	bool failed;
};

static void dg_add(struct dg *g, const void *p, size_t n)
{
	if (!g->failed && EVP_DigestUpdate(g->ctx, p, n) != 1)
		g->failed = true;
}

static void dg_tag(struct dg *g, uint8_t tag, uint64_t len)
{
	uint8_t b[9];

	b[0] = tag;
	for (int i = 0; i < 8; i++)
		b[1 + i] = (uint8_t)(len >> (8 * i));
	dg_add(g, b, sizeof(b));
}

static void dg_int(struct dg *g, int64_t v)
{
	dg_tag(g, 1, (uint64_t)v);
}

static void dg_blob(struct dg *g, const void *p, size_t n)
{
	dg_tag(g, 4, n);
	dg_add(g, p, n);
}

static void dg_column(struct dg *g, sqlite3_stmt *s, int i)
{
	switch (sqlite3_column_type(s, i)) {
	case SQLITE_INTEGER:
		dg_int(g, sqlite3_column_int64(s, i));
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(s, i);
		uint64_t u;

		memcpy(&u, &d, sizeof(u));
		dg_tag(g, 2, u);
		break;
	}
	case SQLITE_TEXT:
		dg_tag(g, 3, (uint64_t)sqlite3_column_bytes(s, i));
		dg_add(g, sqlite3_column_text(s, i), (size_t)sqlite3_column_bytes(s, i));
		break;
	case SQLITE_BLOB:
		dg_blob(g, sqlite3_column_blob(s, i), (size_t)sqlite3_column_bytes(s, i));
		break;
	default:
		dg_tag(g, 0, 0);
	}
}

/*
 * Digest every row of @sql (bound ?1 = @a, ?2 = @b); each row tagged 5.
 * Returns the number of rows, or -errno.
 */
static int64_t dg_query(struct dg *g, struct snap_store *st, const char *sql, int64_t a, int64_t b,
			struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int64_t rows = 0;
	int rc, r;

	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if (sqlite3_bind_parameter_count(s) >= 1)
		sqlite3_bind_int64(s, 1, a);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, b);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int n = sqlite3_column_count(s);

		dg_tag(g, 5, (uint64_t)n);
		for (int i = 0; i < n; i++)
			dg_column(g, s, i);
		rows++;
	}
	if (rc != SQLITE_DONE)
		rows = snap_sqlite_fail(st, rc, "read what a seal covers", reterr);
	sqlite3_finalize(s);
	return rows;
}

/* A snapshot's entries, every kind, as the iterator reads them. */
static int dg_entries(struct dg *g, struct snap_store *st, int64_t id, struct diag *reterr)
{
	struct strbuf sb;
	int r = 0;

	strbuf_init(&sb);
	for (int kind = 1; kind <= ENTRY__KIND_MAX && r >= 0; kind++) {
		struct snap_iter *it = NULL;
		const struct entry *e;
		uint64_t n = 0;

		r = snap_iter_new(st, id, (enum entry_kind)kind, NULL, 0, 0, &it, reterr);
		if (r < 0)
			break;
		while ((r = snap_iter_next(it, &e, reterr)) > 0) {
			strbuf_reset(&sb);
			if (snap_entry_encode(&sb, e) < 0) {
				r = diag_set(reterr, -ENOMEM, "out of memory");
				break;
			}
			dg_blob(g, sb.buf, sb.len);
			n++;
		}
		snap_iter_free(it);
		dg_tag(g, 6, n);
	}
	strbuf_release(&sb);
	return r < 0 ? r : 0;
}

enum part_state {
	PART_ABSENT = 0,
	PART_PRESENT = 1,
	PART_UNSEALED = 2, /* there, but not a thing to seal (an incomplete snapshot or run) */
};

struct seal_kind_info {
	const char *name;
	/* One row or none: the part's own columns; the last column is the
	 * object's time (ns, or NULL) and is not digested; for snapshots and
	 * runs a second to last column says complete (1) or not. */
	const char *row;
	bool has_complete;
	/* Further rows the part covers (NULL-terminated). */
	const char *const *more;
	bool entries; /* a snapshot's entries */
	bool fixed;   /* never changes once sealed */
	/* Every object of this kind there is (object, sub). */
	const char *list;
};

static const char *const more_snapshot[] = {
	"SELECT v.name, v.arch, v.version FROM snap_pkg p JOIN pkgver v ON v.id = p.pkgver"
	" WHERE p.snap = ?1 ORDER BY 1, 2, 3",
	"SELECT v.name, v.arch, v.version, f.path, f.md5, f.conffile FROM snap_pkg p"
	" JOIN pkgver v ON v.id = p.pkgver JOIN pkgfile f ON f.pkgver = p.pkgver"
	" WHERE p.snap = ?1 ORDER BY 1, 2, 3, 4",
	NULL,
};
static const char *const more_run[] = {
	"SELECT n, id, title, file, line, remediate FROM run_rule WHERE run = ?1 ORDER BY n",
	"SELECT seq, kind, key, change, changed, verdict, attrs, rule, reason, package,"
	" before_version, after_version, unowned, aux FROM finding WHERE run = ?1 ORDER BY seq",
	"SELECT seq, kind, key, mode, err, flags FROM run_blind WHERE run = ?1 ORDER BY seq",
	NULL,
};
static const char *const more_accept[] = {
	"SELECT kind, key, change FROM acceptance_key WHERE acceptance = ?1 ORDER BY kind, key",
	NULL,
};

static const struct seal_kind_info kinds[SEAL__KIND_MAX + 1] = {
	[SEAL_SNAPSHOT] = {
		.name = "snapshot",
		.row = "SELECT id, host, version, roots, excludes, cross_mounts, hash, started,"
		       " finished, entries, errors, policy_digest, policy_source, probes,"
		       " probes_unavailable, status = 'complete', finished FROM snapshot"
		       " WHERE id = ?1",
		.has_complete = true,
		.more = more_snapshot,
		.entries = true,
		.fixed = true,
		.list = "SELECT id, 0 FROM snapshot WHERE status = 'complete'",
	},
	[SEAL_BASELINE] = {
		.name = "baseline",
		.row = "SELECT value, NULL FROM meta WHERE key = '" SNAP_META_BASELINE "' AND ?1 = 0",
		.list = "SELECT 0, 0 FROM meta WHERE key = '" SNAP_META_BASELINE "'",
	},
	[SEAL_RUN] = {
		.name = "run",
		.row = "SELECT id, command, before, after, before_label, after_label,"
		       " before_baseline, after_baseline, started, flags, count_expected, database,"
		       " roots, checked, policy_digest, policy_source, notes, exit_code, findings,"
		       " counted, expected, blind, complete != 0, started FROM run WHERE id = ?1",
		.has_complete = true,
		.more = more_run,
		.fixed = true,
		.list = "SELECT id, 0 FROM run WHERE complete != 0",
	},
	[SEAL_ACCEPT] = {
		.name = "acceptance",
		.row = "SELECT id, run, old_baseline, new_baseline, who, at, reason, entries, at"
		       " FROM acceptance WHERE id = ?1",
		.more = more_accept,
		.fixed = true,
		.list = "SELECT id, 0 FROM acceptance",
	},
	[SEAL_ACCEPT_STATE] = {
		.name = "acceptance undo",
		.row = "SELECT undone_at, undone_by, NULL FROM acceptance WHERE id = ?1",
		.list = "SELECT id, 0 FROM acceptance",
	},
	[SEAL_REMEDY] = {
		.name = "remediation",
		.row = "SELECT id, run, baseline, who, started, automatic, quarantine, planned,"
		       " started FROM remedy WHERE id = ?1",
		.fixed = true,
		.list = "SELECT id, 0 FROM remedy",
	},
	[SEAL_REMEDY_STATE] = {
		.name = "remediation state",
		.row = "SELECT finished, undone_at, undone_by, NULL FROM remedy WHERE id = ?1",
		.list = "SELECT id, 0 FROM remedy",
	},
	[SEAL_ACTION] = {
		.name = "remediation action",
		.row = "SELECT remedy, seq, kind, key, action, NULL FROM remedy_action"
		       " WHERE remedy = ?1 AND seq = ?2",
		.fixed = true,
		.list = "SELECT remedy, seq FROM remedy_action",
	},
	[SEAL_ACTION_STATE] = {
		.name = "remediation action state",
		.row = "SELECT state, detail, pre, bytes, post, error, NULL FROM remedy_action"
		       " WHERE remedy = ?1 AND seq = ?2",
		.list = "SELECT remedy, seq FROM remedy_action",
	},
};

const char *snap_seal_kind_name(int kind)
{
	return kind >= 1 && kind <= SEAL__KIND_MAX ? kinds[kind].name : "unknown";
}

/*
 * The digest of one part into @out; *ret_time its time (ns; 0 when it has
 * none). Returns PART_* or -errno.
 */
static int part_digest(struct snap_store *st, int kind, int64_t object, int64_t sub,
		       uint8_t out[32], int64_t *ret_time, struct diag *reterr)
{
	const struct seal_kind_info *ki = &kinds[kind];
	struct dg g = { 0 };
	sqlite3_stmt *s = NULL;
	unsigned mdlen = 0;
	int rc, r, n;

	*ret_time = 0;
	r = snap_prepare(st, ki->row, &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, object);
	if (sqlite3_bind_parameter_count(s) >= 2)
		sqlite3_bind_int64(s, 2, sub);
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) {
		sqlite3_finalize(s);
		return PART_ABSENT;
	}
	if (rc != SQLITE_ROW) {
		r = snap_sqlite_fail(st, rc, "read what a seal covers", reterr);
		sqlite3_finalize(s);
		return r;
	}
	n = sqlite3_column_count(s);
	*ret_time = sqlite3_column_int64(s, n - 1);
	n--;
	if (ki->has_complete) {
		n--;
		if (sqlite3_column_int(s, n) == 0) {
			sqlite3_finalize(s);
			return PART_UNSEALED;
		}
	}
	g.ctx = EVP_MD_CTX_new();
	if (!g.ctx || EVP_DigestInit_ex(g.ctx, EVP_sha256(), NULL) != 1) {
		sqlite3_finalize(s);
		EVP_MD_CTX_free(g.ctx);
		return diag_set(reterr, -ENOMEM, "cannot start a SHA-256 digest");
	}
	dg_int(&g, kind);
	dg_tag(&g, 5, (uint64_t)n);
	for (int i = 0; i < n; i++)
		dg_column(&g, s, i);
	sqlite3_finalize(s);
	for (size_t i = 0; ki->more && ki->more[i] && r >= 0; i++) {
		int64_t rows = dg_query(&g, st, ki->more[i], object, sub, reterr);

		r = rows < 0 ? (int)rows : 0;
		dg_tag(&g, 6, (uint64_t)rows);
	}
	if (r >= 0 && ki->entries)
		r = dg_entries(&g, st, object, reterr);
	if (r >= 0 && (g.failed || EVP_DigestFinal_ex(g.ctx, out, &mdlen) != 1 || mdlen != 32))
		r = diag_set(reterr, -ENOMEM, "cannot compute a SHA-256 digest");
	EVP_MD_CTX_free(g.ctx);
	return r < 0 ? r : PART_PRESENT;
}

/* ---- the chain ---- */

struct seal_row {
	int64_t seq, kind, object, sub, op, at, epoch;
	uint8_t digest[32], chain[32], mac[32];
	bool has_mac;
};

static void chain_compute(const uint8_t prev[32], const struct seal_row *w, uint8_t out[32])
{
	static const char tag[] = "drift seal 1";
	uint8_t buf[sizeof(tag) + 32 + 7 * 8 + 32];
	const int64_t f[] = { w->seq, w->kind, w->object, w->sub, w->op, w->at, w->epoch };
	size_t o = 0;
	unsigned n = 0;

	memcpy(buf, tag, sizeof(tag));
	o += sizeof(tag);
	memcpy(buf + o, prev, 32);
	o += 32;
	for (size_t i = 0; i < 7; i++)
		for (int j = 0; j < 8; j++)
			buf[o++] = (uint8_t)((uint64_t)f[i] >> (8 * j));
	memcpy(buf + o, w->digest, 32);
	o += 32;
	EVP_Digest(buf, o, out, &n, EVP_sha256(), NULL);
}

static bool mac_compute(const uint8_t key[32], const uint8_t chain[32], uint8_t out[32])
{
	unsigned n = 0;

	return HMAC(EVP_sha256(), key, 32, chain, 32, out, &n) && n == 32;
}

static int64_t seal_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The newest seal (chain) and the next seq, inside the caller's transaction. */
static int chain_tail(struct snap_store *st, uint8_t prev[32], int64_t *ret_seq, int64_t *ret_at,
		      struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	memset(prev, 0, 32);
	*ret_seq = 0;
	*ret_at = 0;
	r = snap_prepare(st, "SELECT seq, chain, at FROM seal ORDER BY seq DESC LIMIT 1", &s,
			 reterr);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_seq = sqlite3_column_int64(s, 0);
		if (sqlite3_column_bytes(s, 1) == 32)
			memcpy(prev, sqlite3_column_blob(s, 1), 32);
		*ret_at = sqlite3_column_int64(s, 2);
		rc = SQLITE_DONE;
	}
	if (rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read the newest seal", reterr);
	sqlite3_finalize(s);
	return r;
}

/* The newest seal of (kind, object, sub): 1 and *ret, or 0 for none. */
static int newest_seal(struct snap_store *st, int64_t kind, int64_t object, int64_t sub,
		       struct seal_row *ret, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	memset(ret, 0, sizeof(*ret));
	r = snap_prepare(st,
			 "SELECT seq, op, digest, epoch, at, mac IS NOT NULL FROM seal"
			 " WHERE kind = ?1 AND object = ?2 AND sub = ?3 ORDER BY seq DESC LIMIT 1",
			 &s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, kind);
	sqlite3_bind_int64(s, 2, object);
	sqlite3_bind_int64(s, 3, sub);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		ret->seq = sqlite3_column_int64(s, 0);
		ret->op = sqlite3_column_int64(s, 1);
		if (sqlite3_column_bytes(s, 2) == 32)
			memcpy(ret->digest, sqlite3_column_blob(s, 2), 32);
		ret->epoch = sqlite3_column_int64(s, 3);
		ret->at = sqlite3_column_int64(s, 4);
		ret->has_mac = sqlite3_column_int(s, 5);
		r = 1;
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "read a seal", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

struct seal_item {
	int64_t kind, object, sub;
};

/* Append the seals @items call for, inside the caller's write transaction. */
static int seal_items(struct snap_store *st, const struct seal_item *items, size_t n, bool genesis,
		      struct diag *reterr)
{
	struct snap_seal_key *key = st->seal_key;
	sqlite3_stmt *ins = NULL;
	uint8_t prev[32];
	int64_t seq, last_at, now = seal_now_ns(), epoch = 0;
	bool mac = false;
	int r;

	r = chain_tail(st, prev, &seq, &last_at, reterr);
	if (r < 0)
		return r;
	/* One time for the transaction, never before the newest seal's. */
	if (now < last_at)
		now = last_at;
	if (key) {
		epoch = snap_seal_key_epoch_of(key, now);
		/* A clock before the key's origin or epoch: no MAC (it would
		 * claim an epoch its time is not in); verification says so. */
		if (epoch >= key->epoch) {
			key_to(key, epoch);
			mac = true;
		} else {
			epoch = 0;
		}
	}
	r = snap_prepare(
		st,
		"INSERT INTO seal (seq, kind, object, sub, op, at, epoch, digest, chain, mac)"
		" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
		&ins, reterr);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct seal_item *it = &items[i];
		struct seal_row old = { 0 }, w = { 0 };
		int64_t t;
		int have, state;

		if (it->kind < 1 || it->kind > SEAL__KIND_MAX)
			continue;
		state = part_digest(st, (int)it->kind, it->object, it->sub, w.digest, &t, reterr);
		if (state < 0) {
			r = state;
			break;
		}
		if (state == PART_UNSEALED)
			continue;
		have = newest_seal(st, it->kind, it->object, it->sub, &old, reterr);
		if (have < 0) {
			r = have;
			break;
		}
		if (state == PART_ABSENT) {
			if (!have || old.op == SEAL_OP_DELETE)
				continue;
			w.op = SEAL_OP_DELETE;
			memset(w.digest, 0, 32);
		} else {
			if (have && old.op != SEAL_OP_DELETE) {
				if (!memcmp(old.digest, w.digest, 32))
					continue; /* as sealed */
				if (kinds[it->kind].fixed)
					continue; /* altered since: left for verification */
			}
			w.op = genesis ? SEAL_OP_GENESIS : SEAL_OP_SEAL;
		}
		w.seq = ++seq;
		w.kind = it->kind;
		w.object = it->object;
		w.sub = it->sub;
		w.at = now;
		w.epoch = epoch;
		chain_compute(prev, &w, w.chain);
		memcpy(prev, w.chain, 32);
		if (mac && !mac_compute(key->key, w.chain, w.mac)) {
			r = diag_set(reterr, -ENOMEM, "cannot compute an HMAC");
			break;
		}
		sqlite3_reset(ins);
		sqlite3_bind_int64(ins, 1, w.seq);
		sqlite3_bind_int64(ins, 2, w.kind);
		sqlite3_bind_int64(ins, 3, w.object);
		sqlite3_bind_int64(ins, 4, w.sub);
		sqlite3_bind_int64(ins, 5, w.op);
		sqlite3_bind_int64(ins, 6, w.at);
		sqlite3_bind_int64(ins, 7, w.epoch);
		sqlite3_bind_blob(ins, 8, w.digest, 32, SQLITE_TRANSIENT);
		sqlite3_bind_blob(ins, 9, w.chain, 32, SQLITE_TRANSIENT);
		if (mac)
			sqlite3_bind_blob(ins, 10, w.mac, 32, SQLITE_TRANSIENT);
		else
			sqlite3_bind_null(ins, 10);
		int rc = sqlite3_step(ins);
		if (rc != SQLITE_DONE)
			r = snap_sqlite_fail(st, rc, "write a seal", reterr);
	}
	sqlite3_finalize(ins);
	return r < 0 ? r : 0;
}

/* Read (kind, object, sub) rows of @sql into a growing array. */
static int items_read(struct snap_store *st, const char *sql, int64_t kind,
		      struct seal_item **items, size_t *n, size_t *cap, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == *cap) {
			size_t nc = *cap ? 2 * *cap : 64;
			struct seal_item *v = reallocarray(*items, nc, sizeof(**items));

			if (!v) {
				sqlite3_finalize(s);
				return diag_set(reterr, -ENOMEM, "out of memory");
			}
			*items = v;
			*cap = nc;
		}
		int c = 0;
		struct seal_item *it = &(*items)[(*n)++];

		if (kind) {
			it->kind = kind;
		} else {
			it->kind = sqlite3_column_int64(s, c++);
		}
		it->object = sqlite3_column_int64(s, c++);
		it->sub = sqlite3_column_int64(s, c);
	}
	if (rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "read what to seal", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_seal_setup(struct snap_store *st, struct diag *reterr)
{
	if (!st->writable || st->schema < 8)
		return 0;
	return snap_exec(st, sql_setup, "prepare the seals", reterr);
}

int snap_seal_flush(struct snap_store *st, struct diag *reterr)
{
	struct seal_item *items = NULL;
	size_t n = 0, cap = 0;
	int r;

	if (!st->writable || st->schema < 8)
		return 0;
	r = items_read(st, "SELECT kind, object, sub FROM temp.seal_pending ORDER BY 1, 2, 3", 0,
		       &items, &n, &cap, reterr);
	if (r >= 0 && n)
		r = seal_items(st, items, n, false, reterr);
	if (r >= 0 && n)
		r = snap_exec(st, "DELETE FROM temp.seal_pending", "seal", reterr);
	free(items);
	return r;
}

int snap_seal_genesis(struct snap_store *st, struct diag *reterr)
{
	struct seal_item *items = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	for (int k = 1; k <= SEAL__KIND_MAX && r >= 0; k++)
		r = items_read(st, kinds[k].list, k, &items, &n, &cap, reterr);
	if (r >= 0 && n)
		r = seal_items(st, items, n, true, reterr);
	free(items);
	return r;
}

int snap_commit(struct snap_store *st, const char *what, struct diag *reterr)
{
	int r = snap_seal_flush(st, reterr);

	if (r < 0)
		return r;
	r = snap_exec(st, "COMMIT", what, reterr);
	if (r >= 0)
		key_persist(st->seal_key);
	return r;
}

int snap_seal_settle(struct snap_store *st, struct diag *reterr)
{
	int64_t pending = 0;
	int r;

	if (!st->writable || st->schema < 8 || !sqlite3_get_autocommit(st->db))
		return 0;
	r = snap_query_int(st, "SELECT count(*) FROM temp.seal_pending", 0, 0, NULL, &pending,
			   reterr);
	if (r < 0 || !pending)
		return r < 0 ? r : 0;
	r = snap_exec(st, "BEGIN IMMEDIATE", "seal", reterr);
	if (r < 0)
		return r;
	r = snap_commit(st, "seal", reterr);
	if (r < 0)
		sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

/* ---- reading and verifying ---- */

static int row_read(sqlite3_stmt *s, struct seal_row *w)
{
	w->seq = sqlite3_column_int64(s, 0);
	w->kind = sqlite3_column_int64(s, 1);
	w->object = sqlite3_column_int64(s, 2);
	w->sub = sqlite3_column_int64(s, 3);
	w->op = sqlite3_column_int64(s, 4);
	w->at = sqlite3_column_int64(s, 5);
	w->epoch = sqlite3_column_int64(s, 6);
	if (sqlite3_column_bytes(s, 7) != 32 || sqlite3_column_bytes(s, 8) != 32)
		return -EPROTO;
	memcpy(w->digest, sqlite3_column_blob(s, 7), 32);
	memcpy(w->chain, sqlite3_column_blob(s, 8), 32);
	w->has_mac = sqlite3_column_type(s, 9) != SQLITE_NULL;
	if (w->has_mac) {
		if (sqlite3_column_bytes(s, 9) != 32)
			return -EPROTO;
		memcpy(w->mac, sqlite3_column_blob(s, 9), 32);
	}
	return 0;
}

#define SEAL_COLS "seq, kind, object, sub, op, at, epoch, digest, chain, mac"

int snap_seal_head(struct snap_store *st, struct snap_seal_head *ret, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	struct seal_row w = { 0 };
	int rc, r;

	memset(ret, 0, sizeof(*ret));
	if (st->schema < 8)
		return diag_set(reterr, -ENOENT, "'%s' predates seals (schema %d)", st->path,
				st->schema);
	r = snap_prepare(st, "SELECT " SEAL_COLS " FROM seal ORDER BY seq DESC LIMIT 1", &s,
			 reterr);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (row_read(s, &w) < 0)
			r = diag_set(reterr, -EPROTO, "the newest seal of '%s' is damaged",
				     st->path);
	} else if (rc == SQLITE_DONE) {
		r = diag_set(reterr, -ENOENT, "'%s' holds no seal yet", st->path);
	} else {
		r = snap_sqlite_fail(st, rc, "read the newest seal", reterr);
	}
	sqlite3_finalize(s);
	if (r < 0)
		return r;
	ret->seq = w.seq;
	ret->at_ns = w.at;
	ret->epoch = w.epoch;
	memcpy(ret->chain, w.chain, 32);
	ret->has_mac = w.has_mac;
	memcpy(ret->mac, w.mac, 32);
	return 0;
}

struct verifier {
	struct snap_store *st;
	const struct snap_seal_verify_opts *o;
	snap_seal_problem_fn *fn;
	void *userdata;
	struct snap_seal_verify_stats *stats;
};

static int problem(struct verifier *v, int64_t seq, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int problem(struct verifier *v, int64_t seq, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v->stats->problems++;
	return v->fn ? v->fn(v->userdata, seq, msg) : 0;
}

/* What a seal names, for people: "snapshot 4", "remediation action 2/7". */
static void object_name(char *out, size_t size, int64_t kind, int64_t object, int64_t sub)
{
	if (kind == SEAL_BASELINE)
		snprintf(out, size, "the baseline pointer");
	else if (kind == SEAL_ACTION || kind == SEAL_ACTION_STATE)
		snprintf(out, size, "%s %" PRId64 "/%" PRId64, snap_seal_kind_name((int)kind),
			 object, sub);
	else
		snprintf(out, size, "%s %" PRId64, snap_seal_kind_name((int)kind), object);
}

/* The chain, seal by seal: order, links, MACs, epochs. */
static int verify_chain(struct verifier *v, struct diag *reterr)
{
	const struct snap_seal_key *key = v->o->key;
	struct snap_seal_key k = { 0 };
	sqlite3_stmt *s = NULL;
	uint8_t prev[32] = { 0 };
	int64_t expect = 1, last_at = INT64_MIN, last_epoch = -1, max_seq = 0, issued = 0;
	bool head_seen = false;
	int rc, r;

	if (key)
		k = *key;
	r = snap_prepare(v->st, "SELECT " SEAL_COLS " FROM seal ORDER BY seq", &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct seal_row w = { 0 };
		uint8_t c[32];

		v->stats->seals++;
		if (row_read(s, &w) < 0) {
			r = problem(v, sqlite3_column_int64(s, 0),
				    "seal %lld: damaged (a digest"
				    " or MAC of the wrong length)",
				    (long long)sqlite3_column_int64(s, 0));
			if (r < 0)
				break;
			continue;
		}
		max_seq = w.seq;
		if (w.seq != expect) {
			if (w.seq > expect)
				r = problem(v, w.seq, "seals %lld to %lld are missing: removed",
					    (long long)expect, (long long)w.seq - 1);
			if (r < 0)
				break;
		}
		expect = w.seq + 1;
		chain_compute(prev, &w, c);
		if (memcmp(c, w.chain, 32)) {
			char name[96];

			object_name(name, sizeof(name), w.kind, w.object, w.sub);
			r = problem(v, w.seq,
				    "seal %lld (%s): does not follow the seal before it: altered,"
				    " inserted, reordered, or one before it removed",
				    (long long)w.seq, name);
			if (r < 0)
				break;
		}
		/* Go on from what the seal says, so one break is one problem. */
		memcpy(prev, w.chain, 32);
		if (w.at < last_at) {
			r = problem(v, w.seq,
				    "seal %lld: made before the seal before it: reordered",
				    (long long)w.seq);
			if (r < 0)
				break;
		}
		last_at = w.at;
		if (v->o->have_head && w.seq == v->o->head_seq) {
			head_seen = true;
			if (memcmp(w.chain, v->o->head_chain, 32)) {
				r = problem(v, w.seq,
					    "seal %lld is not the seal recorded off the host: the"
					    " chain up to it was rewritten",
					    (long long)w.seq);
				if (r < 0)
					break;
			}
		}
		if (!key) {
			if (w.has_mac)
				v->stats->unauthenticated++;
			continue;
		}
		if (!w.has_mac) {
			r = problem(
				v, w.seq,
				"seal %lld: no MAC: made without the key, or its MAC was removed",
				(long long)w.seq);
			if (r < 0)
				break;
			continue;
		}
		if (w.epoch < last_epoch) {
			r = problem(v, w.seq, "seal %lld: epoch %lld after epoch %lld: reordered",
				    (long long)w.seq, (long long)w.epoch, (long long)last_epoch);
			if (r < 0)
				break;
		}
		last_epoch = w.epoch;
		if (w.epoch < key->epoch) {
			v->stats->before_key++;
			continue;
		}
		if (snap_seal_key_epoch_of(key, w.at) != w.epoch) {
			r = problem(v, w.seq,
				    "seal %lld: claims epoch %lld but was made in epoch %lld:"
				    " resealed with a later key",
				    (long long)w.seq, (long long)w.epoch,
				    (long long)snap_seal_key_epoch_of(key, w.at));
			if (r < 0)
				break;
			continue;
		}
		if (k.epoch > w.epoch)
			k = *key; /* out of order: start again from the verifier's key */
		key_to(&k, w.epoch);
		uint8_t m[32];
		if (!mac_compute(k.key, w.chain, m) || memcmp(m, w.mac, 32)) {
			r = problem(v, w.seq, "seal %lld: its MAC does not hold: forged or altered",
				    (long long)w.seq);
			if (r < 0)
				break;
			continue;
		}
		v->stats->authenticated++;
	}
	OPENSSL_cleanse(&k, sizeof(k));
	if (r >= 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = snap_sqlite_fail(v->st, rc, "read the seals", reterr);
	sqlite3_finalize(s);
	if (r < 0)
		return r;
	/* AUTOINCREMENT remembers the newest seal ever made. */
	r = snap_query_int(v->st, "SELECT seq FROM sqlite_sequence WHERE name = 'seal'", 0, 0, NULL,
			   &issued, reterr);
	if (r < 0)
		return r;
	if (issued > max_seq)
		r = problem(v, max_seq + 1,
			    "seals %lld to %lld are missing: the newest were removed",
			    (long long)max_seq + 1, (long long)issued);
	if (r >= 0 && v->o->have_head && !head_seen)
		r = problem(v, v->o->head_seq,
			    "seal %lld, recorded off the host, is not in the database: the chain"
			    " was cut or rewritten",
			    (long long)v->o->head_seq);
	v->stats->head_seq = max_seq;
	memcpy(v->stats->head_chain, prev, 32);
	return r < 0 ? r : 0;
}

/* Every part there is against its newest seal, and every sealed part still there. */
static int verify_parts(struct verifier *v, struct diag *reterr)
{
	struct snap_store *st = v->st;
	struct seal_item *items = NULL;
	size_t n = 0, cap = 0;
	int r = 0;

	/* Newest seal of each part, with whether the part is still there. */
	r = snap_exec(st,
		      "CREATE TEMP TABLE IF NOT EXISTS seal_verify (kind INTEGER NOT NULL,"
		      " object INTEGER NOT NULL, sub INTEGER NOT NULL,"
		      " PRIMARY KEY (kind, object, sub)) WITHOUT ROWID;"
		      "DELETE FROM temp.seal_verify",
		      "verify the seals", reterr);
	for (int k = 1; k <= SEAL__KIND_MAX && r >= 0; k++) {
		char sql[512];

		snprintf(sql, sizeof(sql),
			 "INSERT OR IGNORE INTO temp.seal_verify SELECT %d, * FROM (%s)", k,
			 kinds[k].list);
		r = snap_exec(st, sql, "verify the seals", reterr);
	}
	if (r < 0)
		return r;
	r = items_read(st,
		       "SELECT kind, object, sub FROM temp.seal_verify UNION"
		       " SELECT kind, object, sub FROM seal ORDER BY 1, 2, 3",
		       0, &items, &n, &cap, reterr);
	if (r < 0)
		goto out;
	for (size_t i = 0; i < n && r >= 0; i++) {
		const struct seal_item *it = &items[i];
		char name[96];
		uint8_t d[32];
		struct seal_row w;
		int64_t t = 0, seq, op, epoch;
		bool sealed, mac;
		int state, have;

		if (it->kind < 1 || it->kind > SEAL__KIND_MAX) {
			r = problem(v, 0, "a seal of unknown kind %lld", (long long)it->kind);
			continue;
		}
		object_name(name, sizeof(name), it->kind, it->object, it->sub);
		v->stats->objects++;
		have = newest_seal(st, it->kind, it->object, it->sub, &w, reterr);
		if (have < 0) {
			r = have;
			break;
		}
		sealed = have > 0;
		seq = w.seq;
		op = w.op;
		epoch = w.epoch;
		mac = w.has_mac;
		state = part_digest(st, (int)it->kind, it->object, it->sub, d, &t, reterr);
		if (state < 0) {
			/* A part drift cannot even read is altered, not a failure of verify. */
			diag_clear(reterr);
			r = problem(v, seq, "%s: cannot be read: damaged or altered", name);
			continue;
		}
		if (state == PART_UNSEALED)
			continue;
		if (!sealed) {
			if (state == PART_PRESENT)
				r = problem(v, 0,
					    "%s: not sealed: inserted after the fact (or written"
					    " by a drift without seals)",
					    name);
			continue;
		}
		if (state == PART_ABSENT) {
			if (op != SEAL_OP_DELETE)
				r = problem(v, seq,
					    "%s: removed, and drift did not remove it (seal %lld)",
					    name, (long long)seq);
			continue;
		}
		if (op == SEAL_OP_DELETE) {
			r = problem(v, seq, "%s: there, though drift removed it (seal %lld)", name,
				    (long long)seq);
			continue;
		}
		if (memcmp(d, w.digest, 32)) {
			r = problem(v, seq, "%s: altered since it was sealed (seal %lld)", name,
				    (long long)seq);
			continue;
		}
		/* The object's own time must be in the seal's epoch (or the one
		 * before); else a later key sealed an older object. */
		if (v->o->key && mac && t && op == SEAL_OP_SEAL && epoch >= v->o->key->epoch) {
			int64_t te = snap_seal_key_epoch_of(v->o->key, t);

			if (te != epoch && te != epoch - 1)
				r = problem(v, seq,
					    "%s: dated epoch %lld but sealed in epoch %lld:"
					    " resealed later",
					    name, (long long)te, (long long)epoch);
		}
	}
out:
	free(items);
	return r < 0 ? r : 0;
}

/* Kept content is addressed by its SHA-256: each blob must still be it. */
static int verify_content(struct verifier *v, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(v->st, "SELECT id FROM content ORDER BY id", &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		uint8_t id[32], *bytes = NULL;
		size_t len = 0;
		struct diag d = { 0 };
		char hex[65];

		if (sqlite3_column_bytes(s, 0) != 32) {
			r = problem(v, 0, "kept content with a damaged id");
			continue;
		}
		memcpy(id, sqlite3_column_blob(s, 0), 32);
		if (snap_content_get(v->st, id, &bytes, &len, &d) < 0) {
			snap_seal_hex(id, 32, hex);
			r = problem(v, 0, "kept content %.16s: %s", hex, d.msg);
		}
		free(bytes);
		if (r < 0)
			break;
	}
	if (r >= 0 && rc != SQLITE_DONE)
		r = snap_sqlite_fail(v->st, rc, "read kept content", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_seal_verify(struct snap_store *st, const struct snap_seal_verify_opts *opts,
		     snap_seal_problem_fn *fn, void *userdata, struct snap_seal_verify_stats *stats,
		     struct diag *reterr)
{
	struct verifier v = { st, opts, fn, userdata, stats };
	int64_t has = 0;
	int r;

	memset(stats, 0, sizeof(*stats));
	if (st->schema < 8)
		return diag_set(reterr, -EPROTO,
				"'%s' predates seals (schema %d): open it for writing once (any"
				" drift init, check or accept) to seal what it holds",
				st->path, st->schema);
	r = snap_exec(st, "BEGIN", "verify the seals", reterr);
	if (r < 0)
		return r;
	r = snap_query_int(st,
			   "SELECT count(*) FROM (SELECT type, name FROM sqlite_master UNION ALL"
			   " SELECT type, name FROM sqlite_temp_master)"
			   " WHERE type = 'table' AND name = 'seal'",
			   0, 0, NULL, &has, reterr);
	if (r >= 0 && !has) {
		r = problem(&v, 0, "the seal table is gone: every seal was removed");
		goto out;
	}
	if (r >= 0)
		r = verify_chain(&v, reterr);
	if (r >= 0)
		r = verify_parts(&v, reterr);
	if (r >= 0)
		r = verify_content(&v, reterr);
out:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
	return r < 0 ? r : 0;
}
