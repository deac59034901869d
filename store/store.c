/*
 * The store: opening a database and reading what it knows of its
 * snapshots.
 *
 * Components:
 *   - errno mapping of SQLite result codes (snap_sqlite_errno/_fail);
 *   - snap_store_open(): create the file (0600) and its missing parent
 *     directories (0700) ourselves, then let schema.c validate it before
 *     the first write;
 *   - snapshot metadata: snap_find(), snap_baseline(), snap_list(), all
 *     built on one row reader (info_from_row);
 *   - the database's secret (snap_store_secret), a row of the meta table;
 *   - the writer of snapshots is writer.c (the package part of it pkg.c).
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "common/diag.h"
#include "common/strbuf.h"
#include "store/internal.h"
#include "common/banned.h"

#define SNAP_DEFAULT_BUSY_MS 5000
#define SNAP_LABEL_MAX       128

/* ---- errors ---- */

int snap_sqlite_errno(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_NOTADB:
	case SQLITE_CORRUPT:
	case SQLITE_FORMAT:
		return -EPROTO;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_PERM:
	case SQLITE_AUTH:
		return -EACCES;
	}
	return -EIO;
}

int snap_sqlite_fail(struct snap_store *st, int rc, const char *what, struct diag *reterr)
{
	int r = snap_sqlite_errno(rc);

	if (r == -EBUSY)
		return diag_set(reterr, r, "database '%s' is locked by another drift process",
				st->path);
	if (r == -EPROTO)
		return diag_set(reterr, r, "'%s' is damaged (%s)", st->path,
				sqlite3_errmsg(st->db));
	/* An I/O error says which, when the system does: "No space left on device". */
	if ((rc & 0xff) == SQLITE_IOERR || (rc & 0xff) == SQLITE_FULL) {
		int sys = sqlite3_system_errno(st->db);

		if (sys == ENOSPC || sys == EFBIG || sys == EDQUOT)
			r = -sys;
		if (sys > 0)
			return diag_set(reterr, r, "cannot %s in '%s': %s (%s)", what, st->path,
					sqlite3_errmsg(st->db), strerror(sys));
	}
	return diag_set(reterr, r, "cannot %s in '%s': %s", what, st->path, sqlite3_errmsg(st->db));
}

/* ---- labels ---- */

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int snap_label_check(const char *label, struct diag *reterr)
{
	size_t n = label ? strlen(label) : 0;

	if (n == 0)
		return diag_set(reterr, -EINVAL, "empty snapshot label");
	if (n > SNAP_LABEL_MAX)
		return diag_set(reterr, -EINVAL,
				"snapshot label is too long (%zu bytes; at most %d)", n,
				SNAP_LABEL_MAX);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)label[i];

		/* The label is not shown: it may hold the very byte at fault. */
		if (c <= ' ' || c > '~' || c == '/')
			return diag_set(
				reterr, -EINVAL,
				"invalid byte 0x%02x at offset %zu of a snapshot label (allowed: printable ASCII except space and '/')",
				c, i);
	}
	if (all_digits(label))
		return diag_set(reterr, -EINVAL,
				"snapshot label '%s' is a number (numbers name snapshot ids)",
				label);
	/* 'drift diff -x baseline' would read it as an option. */
	if (label[0] == '-')
		return diag_set(reterr, -EINVAL,
				"snapshot label '%s' starts with '-' (it would read as an option)",
				label);
	return 0;
}

/* ---- opening ---- */

/* mkdir -p of the directory part of @path, mode 0700, only what is missing. */
static int store_make_parents(const char *path, struct diag *reterr)
{
	char *copy = strdup(path);
	char *slash;
	int r = 0;

	if (!copy)
		return diag_set(reterr, -ENOMEM, "out of memory");
	slash = strrchr(copy, '/');
	if (!slash || slash == copy)
		goto out;
	*slash = '\0';
	for (char *p = copy + 1; r == 0; p++) {
		bool last = *p == '\0';

		if (*p != '/' && !last)
			continue;
		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			r = diag_set(reterr, -errno, "cannot create directory '%s': %s", copy,
				     strerror(errno));
		if (last)
			break;
		*p = '/';
	}
out:
	free(copy);
	return r;
}

/* Create the database file ourselves, so that it is 0600 from the start
 * (SQLite gives -wal and -shm the database file's permissions). */
static int store_create_file(const char *path, struct diag *reterr)
{
	int r = store_make_parents(path, reterr);
	int fd;

	if (r < 0)
		return r;
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			return 0; /* someone else was first: validated like any file */
		return diag_set(reterr, -errno, "cannot create database '%s': %s", path,
				strerror(errno));
	}
	close(fd);
	return 0;
}

void snap_store_free(struct snap_store *st)
{
	if (!st)
		return;
	/* Closing rolls back an open transaction; the writer goes with it. */
	snap_writer_abort(st->writer);
	/* What autocommitted writes left unsealed (none, when every write
	 * path seals its own: this is the net below them). */
	(void)snap_seal_settle(st, NULL);
	sqlite3_finalize(st->owner_get);
	free(st->owner_strings);
	/* _v2: an iterator not yet freed keeps the connection alive until it is. */
	sqlite3_close_v2(st->db);
	snap_seal_key_free(st->seal_key);
	free(st->path);
	free(st);
}

/* Whether @path + @suffix exists; *ret_size gets its size (0 if missing). */
static bool side_file(const char *path, const char *suffix, off_t *ret_size)
{
	char side[PATH_MAX + 8];
	struct stat sb;

	*ret_size = 0;
	if ((size_t)snprintf(side, sizeof(side), "%s%s", path, suffix) >= sizeof(side))
		return false;
	if (stat(side, &sb) < 0)
		return false;
	*ret_size = sb.st_size;
	return true;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/*
 * Refuse a file that is plainly not ours from its first bytes, before
 * SQLite opens it (and, for a WAL database, makes -wal and -shm files next
 * to it): not SQLite, a foreign application_id, a newer drift schema, or
 * tables of another program. The fields read here never change under a
 * writer of a database that is ours, so an unlocked read is fine. Skipped
 * when a -wal holds data (the newest header may be there): SQLite decides
 * then. Returns 0 (no verdict) or -EPROTO.
 */
static int store_precheck(const char *path, struct diag *reterr)
{
	static const char magic[16] = "SQLite format 3";
	unsigned char h[108];
	uint32_t app_id, version;
	off_t wal_size;
	ssize_t n;
	int fd;

	if (side_file(path, "-wal", &wal_size) && wal_size > 0)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return 0; /* SQLite reports it */
	n = pread(fd, h, sizeof(h), 0);
	close(fd);
	if (n <= 0)
		return 0; /* empty (ours to fill), or SQLite reports the error */
	if ((size_t)n < 100 || memcmp(h, magic, sizeof(magic)))
		return diag_set(reterr, -EPROTO, "'%s' is not a drift database (%s)", path,
				sqlite3_errstr(SQLITE_NOTADB));
	app_id = be32(h + 68);
	version = be32(h + 60);
	if (app_id != 0 && app_id != SNAP_APPLICATION_ID)
		return diag_set(reterr, -EPROTO,
				"'%s' is not a drift database (application_id 0x%08x)", path,
				(unsigned)app_id);
	if (app_id == SNAP_APPLICATION_ID && version > SNAP_SCHEMA_VERSION)
		return diag_set(
			reterr, -EPROTO,
			"'%s' was written by a newer drift (schema %lld; this drift reads up to %d)",
			path, (long long)version, SNAP_SCHEMA_VERSION);
	/* Page 1 after the header: the schema table, a leaf (0x0d) without
	 * cells when the database holds nothing. */
	if (app_id == 0 && (size_t)n >= sizeof(h) && (h[100] != 0x0d || h[103] || h[104]))
		return diag_set(reterr, -EPROTO,
				"'%s' is not a drift database (it holds tables of another program)",
				path);
	return 0;
}

/* "file:<path>?<query>" with the path %-escaped, for sqlite3_open_v2(). */
static char *store_uri(const char *path, const char *query)
{
	struct strbuf sb = STRBUF_INIT;
	int r = strbuf_adds(&sb, "file:");

	for (const unsigned char *p = (const unsigned char *)path; *p && r == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
			r = strbuf_addch(&sb, (char)*p);
		else
			r = strbuf_addf(&sb, "%%%02X", *p);
	}
	if (r == 0)
		r = strbuf_addf(&sb, "?%s", query);
	if (r < 0) {
		strbuf_release(&sb);
		return NULL;
	}
	return strbuf_detach(&sb, NULL);
}

/* Open the SQLite connection of @st on @name (a path, or a URI with @uri). */
static int store_connect(struct snap_store *st, const char *name, bool uri, struct diag *reterr)
{
	int flags = (st->writable ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY) |
		    SQLITE_OPEN_NOMUTEX | (uri ? SQLITE_OPEN_URI : 0);
	int rc;

	/* Never SQLITE_OPEN_CREATE: the file exists by now, and a read must
	 * not create one. NOMUTEX: a store belongs to one thread. */
	rc = sqlite3_open_v2(name, &st->db, flags, NULL);
	if (rc != SQLITE_OK) {
		if (!st->db)
			return diag_set(reterr, -ENOMEM, "out of memory");
		return diag_set(reterr, snap_sqlite_errno(rc), "cannot open database '%s': %s",
				st->path, sqlite3_errmsg(st->db));
	}
	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, SNAP_DEFAULT_BUSY_MS);
	return 0;
}

/*
 * A read-only open that failed because SQLite could not set up the -shm of
 * a WAL database (the directory is not writable: a database of another
 * user, a read-only mount, copied evidence). Without a -wal file the main
 * file holds everything: read it as immutable (no locks, no -shm; a writer
 * that starts meanwhile is not seen). With one, there is no safe way.
 */
static int store_reopen_immutable(struct snap_store *st, struct diag *reterr)
{
	int rc = st->fail_rc;
	off_t wal_size;
	char *uri;
	int r;

	if (st->writable || !rc ||
	    ((rc & 0xff) != SQLITE_READONLY && (rc & 0xff) != SQLITE_CANTOPEN))
		return 0;
	if (side_file(st->path, "-wal", &wal_size))
		return diag_set(
			reterr, -EACCES,
			"cannot read database '%s': it has a '-wal' file, and its '-shm' file cannot be created (no write access to the directory)",
			st->path);
	uri = store_uri(st->path, "immutable=1");
	if (!uri)
		return diag_set(reterr, -ENOMEM, "out of memory");
	sqlite3_close_v2(st->db);
	st->db = NULL;
	st->fail_rc = 0;
	r = store_connect(st, uri, true, reterr);
	free(uri);
	if (r < 0)
		return r;
	r = snap_schema_prepare(st, reterr);
	return r < 0 ? r : 1;
}

int snap_store_open(const char *path, enum snap_open_flags flags, struct snap_store **ret_store,
		    struct diag *reterr)
{
	bool writable = flags & SNAP_OPEN_WRITE;
	struct snap_store *st = NULL;
	bool had_side = false;
	off_t side_size;
	struct stat sb;
	int r;

	if (!path || !*path)
		return diag_set(reterr, -EINVAL, "empty database path");
	if (stat(path, &sb) < 0) {
		if (errno != ENOENT)
			return diag_set(reterr, -errno, "cannot open database '%s': %s", path,
					strerror(errno));
		if (!writable)
			return diag_set(reterr, -ENOENT, "no database at '%s'", path);
		r = store_create_file(path, reterr);
		if (r < 0)
			return r;
	} else if (S_ISDIR(sb.st_mode)) {
		return diag_set(reterr, -EISDIR, "cannot open database '%s': it is a directory",
				path);
	}
	r = store_precheck(path, reterr);
	if (r < 0)
		return r;

	st = calloc(1, sizeof(*st));
	if (!st)
		return diag_set(reterr, -ENOMEM, "out of memory");
	st->writable = writable;
	st->path = strdup(path);
	if (!st->path) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	had_side = side_file(path, "-wal", &side_size) || side_file(path, "-shm", &side_size);
	r = store_connect(st, path, false, reterr);
	if (r < 0)
		goto fail;
	/* SQLite opens a file it may not write read-only, silently. */
	if (writable && sqlite3_db_readonly(st->db, "main") == 1) {
		r = diag_set(reterr, -EROFS,
			     "cannot open database '%s' for writing: it is read-only (%s)", path,
			     access(path, W_OK) < 0 ? strerror(errno) : "read-only file system");
		goto fail;
	}

	r = snap_schema_prepare(st, reterr);
	if (r < 0) {
		int again = store_reopen_immutable(st, reterr);

		if (again <= 0) {
			r = again < 0 ? again : r;
			goto fail;
		}
	}

	*ret_store = st;
	return 0;

fail:
	/*
	 * A rejected file keeps no -wal and -shm of ours: when there were none
	 * before, the WAL we made is empty, and the checkpoint on close (under
	 * SQLite's exclusive lock, so only when nobody else has the file
	 * open) writes nothing and removes both.
	 */
	if (st && st->db && writable && !had_side)
		sqlite3_db_config(st->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 0, NULL);
	snap_store_free(st);
	return r;
}

void snap_store_set_busy_timeout(struct snap_store *st, int ms)
{
	sqlite3_busy_timeout(st->db, ms);
}

bool snap_store_writable(const struct snap_store *st)
{
	return st->writable;
}

const char *snap_store_path(const struct snap_store *st)
{
	return st->path;
}

/* ---- snapshot metadata ---- */

#define INFO_COLUMNS_V1                                                                   \
	"id, label, purpose, status, host, version, roots, excludes, cross_mounts, hash," \
	" started, finished, entries, errors,"                                            \
	" id IS (SELECT value FROM meta WHERE key = '" SNAP_META_BASELINE "')"
/* Older versions lack the policy and probe columns: a read-only open
 * selects NULL instead. */
#define INFO_COLUMNS_P      ", policy_digest, policy_source"
#define INFO_COLUMNS_V5     INFO_COLUMNS_V1 INFO_COLUMNS_P ", probes, probes_unavailable, parent"
#define INFO_COLUMNS_V3     INFO_COLUMNS_V1 INFO_COLUMNS_P ", probes, probes_unavailable, NULL"
#define INFO_COLUMNS_V2     INFO_COLUMNS_V1 INFO_COLUMNS_P ", NULL, NULL, NULL"
#define INFO_COLUMNS_V1_OLD INFO_COLUMNS_V1 ", NULL, NULL, NULL, NULL, NULL"

static const char *info_columns(const struct snap_store *st)
{
	return st->schema >= 5   ? INFO_COLUMNS_V5
	       : st->schema >= 3 ? INFO_COLUMNS_V3
	       : st->schema == 2 ? INFO_COLUMNS_V2
				 : INFO_COLUMNS_V1_OLD;
}

static void strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void snap_info_release(struct snap_info *info)
{
	if (!info)
		return;
	free(info->label);
	free(info->host);
	free(info->version);
	strv_free(info->roots, info->nroots);
	strv_free(info->excludes, info->nexcludes);
	strv_free(info->probes, info->nprobes);
	strv_free(info->probes_unavailable, info->nprobes_unavailable);
	free(info->policy_digest);
	free(info->policy_source);
	memset(info, 0, sizeof(*info));
}

static char *column_strdup(sqlite3_stmt *s, int col, bool null_is_empty, bool *ret_oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *copy;

	if (!t && sqlite3_column_type(s, col) == SQLITE_NULL && !null_is_empty)
		return NULL;
	copy = strdup(t ? (const char *)t : "");
	if (!copy)
		*ret_oom = true;
	return copy;
}

char *snap_column_text(sqlite3_stmt *s, int col, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	char *copy;

	if (!t)
		return NULL;
	copy = strdup((const char *)t);
	if (!copy)
		*oom = true;
	return copy;
}

char **snap_column_split(sqlite3_stmt *s, int col, size_t *ret_n, bool *ret_oom)
{
	const char *b = sqlite3_column_blob(s, col);
	size_t len = (size_t)sqlite3_column_bytes(s, col);
	bool null = sqlite3_column_type(s, col) == SQLITE_NULL;
	size_t n = 0;
	char **v;

	if (!null) {
		n = 1;
		for (size_t i = 0; i < len; i++)
			n += b[i] == '\0';
	}
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		*ret_oom = true;
		return NULL;
	}
	for (size_t i = 0, start = 0; i < n; i++) {
		size_t end = start;

		while (end < len && b[end] != '\0')
			end++;
		v[i] = strndup(b ? b + start : "", end - start);
		if (!v[i])
			*ret_oom = true;
		start = end + 1;
	}
	*ret_n = n;
	return v;
}

static int info_from_row(sqlite3_stmt *s, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_info info = { 0 };
	bool oom = false;
	const unsigned char *status;

	info.id = sqlite3_column_int64(s, 0);
	info.label = column_strdup(s, 1, false, &oom);
	info.purpose = (enum snap_purpose)sqlite3_column_int(s, 2);
	status = sqlite3_column_text(s, 3);
	info.complete = status && !strcmp((const char *)status, "complete");
	info.host = column_strdup(s, 4, true, &oom);
	info.version = column_strdup(s, 5, true, &oom);
	info.roots = snap_column_split(s, 6, &info.nroots, &oom);
	info.excludes = snap_column_split(s, 7, &info.nexcludes, &oom);
	info.cross_mounts = sqlite3_column_int(s, 8) != 0;
	info.hash = (enum hash_algo)sqlite3_column_int(s, 9);
	info.started_ns = sqlite3_column_int64(s, 10);
	info.finished_ns = sqlite3_column_int64(s, 11);
	info.entries = (uint64_t)sqlite3_column_int64(s, 12);
	info.errors = (uint64_t)sqlite3_column_int64(s, 13);
	info.is_baseline = sqlite3_column_int(s, 14) != 0;
	info.policy_digest = column_strdup(s, 15, false, &oom);
	info.policy_source = column_strdup(s, 16, false, &oom);
	info.probes = snap_column_split(s, 17, &info.nprobes, &oom);
	info.probes_unavailable = snap_column_split(s, 18, &info.nprobes_unavailable, &oom);
	info.parent = sqlite3_column_int64(s, 19);
	if (oom) {
		snap_info_release(&info);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	*ret_info = info;
	return 0;
}

int snap_info_query(struct snap_store *st, const char *where, int64_t id, const char *text,
		    struct snap_info *ret_info, struct diag *reterr)
{
	char sql[512];
	sqlite3_stmt *s = NULL;
	int rc, r;

	snprintf(sql, sizeof(sql), "SELECT %s FROM snapshot WHERE %s", info_columns(st), where);
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	else
		sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		r = info_from_row(s, ret_info, reterr) < 0 ? -ENOMEM : 1;
	else if (rc == SQLITE_DONE)
		r = 0;
	else
		r = snap_sqlite_fail(st, rc, "read a snapshot", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_find(struct snap_store *st, const char *name, struct snap_info *ret_info,
	      struct diag *reterr)
{
	struct snap_info info;
	int r;

	if (all_digits(name)) {
		char *end;
		long long id;

		errno = 0;
		id = strtoll(name, &end, 10);
		if (errno || *end)
			return diag_set(reterr, -ENOENT, "no snapshot '%s'", name);
		r = snap_info_query(st, "id = ?1", id, NULL, &info, reterr);
	} else {
		r = snap_info_query(st, "label = ?1", 0, name, &info, reterr);
	}
	if (r < 0)
		return r;
	if (r == 0)
		return diag_set(reterr, -ENOENT, "no snapshot '%s'", name);
	*ret_info = info;
	return 0;
}

int snap_baseline(struct snap_store *st, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_info info;
	int r = snap_info_query(st, "id IS (SELECT value FROM meta WHERE key = ?1)", 0,
				SNAP_META_BASELINE, &info, reterr);

	if (r < 0)
		return r;
	if (r == 0)
		return diag_set(reterr, -ENOENT, "no baseline (run 'drift init' first)");
	*ret_info = info;
	return 0;
}

int snap_list(struct snap_store *st, snap_list_fn *fn, void *userdata, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	char sql[512];
	int rc, r;

	snprintf(sql, sizeof(sql), "SELECT %s FROM snapshot ORDER BY id", info_columns(st));
	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct snap_info info;

		r = info_from_row(s, &info, reterr);
		if (r < 0)
			goto out;
		r = fn(&info, userdata);
		snap_info_release(&info);
		if (r < 0)
			goto out;
	}
	r = rc == SQLITE_DONE ? 0 : snap_sqlite_fail(st, rc, "list snapshots", reterr);
out:
	sqlite3_finalize(s);
	return r;
}

/* ---- the secret ---- */

/* Read the secret: 1 and @key, 0 when there is none, or -errno. */
static int secret_read(struct snap_store *st, uint8_t key[32], struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = snap_prepare(st, "SELECT value FROM meta WHERE key = '" SNAP_META_SECRET "'", &s,
			 reterr);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const void *p = sqlite3_column_blob(s, 0);

		if (sqlite3_column_type(s, 0) != SQLITE_BLOB || !p ||
		    sqlite3_column_bytes(s, 0) != 32) {
			r = diag_set(reterr, -EPROTO, "'%s' is damaged (a malformed secret)",
				     st->path);
		} else {
			memcpy(key, p, 32);
			r = 1;
		}
	} else if (rc == SQLITE_DONE) {
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "read the secret", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

/* Store a new secret unless there is one (another process may have been
 * first), in the transaction the caller holds. */
static int secret_create(struct snap_store *st, struct diag *reterr)
{
	uint8_t key[32];
	sqlite3_stmt *s = NULL;
	size_t got = 0;
	int rc, r;

	while (got < sizeof(key)) {
		ssize_t n = getrandom(key + got, sizeof(key) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return diag_set(reterr, n < 0 ? -errno : -EIO,
					"cannot create the secret of '%s': getrandom: %s", st->path,
					n < 0 ? strerror(errno) : "no bytes");
		got += (size_t)n;
	}
	r = snap_prepare(
		st, "INSERT OR IGNORE INTO meta (key, value) VALUES ('" SNAP_META_SECRET "', ?1)",
		&s, reterr);
	if (r < 0)
		return r;
	sqlite3_bind_blob(s, 1, key, sizeof(key), SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "store the secret", reterr);
	sqlite3_finalize(s);
	return r;
}

int snap_store_secret(struct snap_store *st, uint8_t ret_key[32], struct diag *reterr)
{
	uint8_t key[32];
	bool own_tx;
	int r;

	r = secret_read(st, key, reterr);
	if (r < 0)
		return r;
	if (r > 0)
		goto done;
	if (!st->writable)
		return diag_set(reterr, -EROFS,
				"database '%s' has no secret yet, and is open read-only", st->path);

	/* Inside a writer's transaction the secret joins it; otherwise it
	 * gets one of its own, under the write lock. */
	own_tx = sqlite3_get_autocommit(st->db) != 0;
	if (own_tx) {
		r = snap_exec(st, "BEGIN IMMEDIATE", "create the secret", reterr);
		if (r < 0)
			return r;
	}
	r = secret_create(st, reterr);
	if (r >= 0)
		r = secret_read(st, key, reterr);
	if (r == 0)
		r = diag_set(reterr, -EIO, "the secret of '%s' vanished", st->path);
	if (r >= 0 && own_tx)
		r = snap_exec(st, "COMMIT", "create the secret", reterr);
	if (r < 0) {
		if (own_tx && !sqlite3_get_autocommit(st->db))
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
		return r;
	}
done:
	memcpy(ret_key, key, sizeof(key));
	return 0;
}
