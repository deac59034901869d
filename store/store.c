/*
 * The store: opening a database, reading what it knows of its snapshots,
 * and writing a new snapshot.
 *
 * Components:
 *   - errno mapping of SQLite result codes (snap_sqlite_errno/_fail);
 *   - snap_store_open(): create the file (0600) and its missing parent
 *     directories (0700) ourselves, then let schema.c validate it before
 *     the first write;
 *   - snapshot metadata: snap_find(), snap_baseline(), snap_list(), all
 *     built on one row reader (info_from_row);
 *   - the database's secret (snap_store_secret), a row of the meta table;
 *   - the writer. Transaction 1 records the snapshot as incomplete and
 *     commits at once; transaction 2 (BEGIN IMMEDIATE) holds SQLite's write
 *     lock from snap_writer_begin() to snap_writer_commit(), so the entries
 *     and the final "complete" mark land together or not at all. A process
 *     that dies mid-scan leaves the row of transaction 1: incomplete, no
 *     label, no entries. Everything the purpose implies (baseline pointer,
 *     relabelling, replacement, pruning of checks and upgrades, and the
 *     collection of package versions no snapshot links to any more)
 *     happens in transaction 2 too, so an old snapshot is touched only
 *     when the new one commits. (The package part of the writer is pkg.c.)
 *
 * One INSERT statement, prepared once per store, is bound and stepped per
 * entry with SQLITE_STATIC bindings: no allocation per row (the optional
 * attributes are encoded into a buffer the writer reuses; see ext.c).
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
/*
 * An incomplete snapshot started this long ago has no writer any more: a
 * writer takes the write lock right after recording itself, waiting
 * SNAP_DEFAULT_BUSY_MS at most, and whoever prunes holds that lock.
 */
#define SNAP_ABANDONED_NS ((int64_t)600 * 1000000000)

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
	return diag_set(reterr, r, "cannot %s in '%s': %s", what, st->path, sqlite3_errmsg(st->db));
}

/* ---- time and labels ---- */

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* "<prefix>-YYYYMMDDTHHMMSSZ" for the UTC time @ns. */
static int label_with_time(struct strbuf *sb, const char *prefix, int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	char buf[32];

	if (ns < 0 && ns % 1000000000)
		t--;
	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm))
		snprintf(buf, sizeof(buf), "%lld", (long long)t);
	strbuf_reset(sb);
	return strbuf_addf(sb, "%s-%s", prefix, buf);
}

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
	sqlite3_finalize(st->insert_entry);
	sqlite3_finalize(st->owner_get);
	free(st->owner_strings);
	/* _v2: an iterator not yet freed keeps the connection alive until it is. */
	sqlite3_close_v2(st->db);
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
#define INFO_COLUMNS_V3     INFO_COLUMNS_V1 INFO_COLUMNS_P ", probes, probes_unavailable"
#define INFO_COLUMNS_V2     INFO_COLUMNS_V1 INFO_COLUMNS_P ", NULL, NULL"
#define INFO_COLUMNS_V1_OLD INFO_COLUMNS_V1 ", NULL, NULL, NULL, NULL"

static const char *info_columns(const struct snap_store *st)
{
	return st->schema >= 3   ? INFO_COLUMNS_V3
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

/* Split a NUL-joined blob into a NULL-terminated array; a NULL column is
 * the empty list. */
static char **column_split(sqlite3_stmt *s, int col, size_t *ret_n, bool *ret_oom)
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
	info.roots = column_split(s, 6, &info.nroots, &oom);
	info.excludes = column_split(s, 7, &info.nexcludes, &oom);
	info.cross_mounts = sqlite3_column_int(s, 8) != 0;
	info.hash = (enum hash_algo)sqlite3_column_int(s, 9);
	info.started_ns = sqlite3_column_int64(s, 10);
	info.finished_ns = sqlite3_column_int64(s, 11);
	info.entries = (uint64_t)sqlite3_column_int64(s, 12);
	info.errors = (uint64_t)sqlite3_column_int64(s, 13);
	info.is_baseline = sqlite3_column_int(s, 14) != 0;
	info.policy_digest = column_strdup(s, 15, false, &oom);
	info.policy_source = column_strdup(s, 16, false, &oom);
	info.probes = column_split(s, 17, &info.nprobes, &oom);
	info.probes_unavailable = column_split(s, 18, &info.nprobes_unavailable, &oom);
	if (oom) {
		snap_info_release(&info);
		return diag_set(reterr, -ENOMEM, "out of memory");
	}
	*ret_info = info;
	return 0;
}

/* Read the one snapshot selected by @where (with ?1 bound to @id or
 * @text). Returns 1 and *ret_info, 0 when there is none, or -errno. */
static int info_query(struct snap_store *st, const char *where, int64_t id, const char *text,
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
		r = info_query(st, "id = ?1", id, NULL, &info, reterr);
	} else {
		r = info_query(st, "label = ?1", 0, name, &info, reterr);
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
	int r = info_query(st, "id IS (SELECT value FROM meta WHERE key = ?1)", 0,
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

/* ---- small statements of the writer ---- */

/* Run @sql, binding the named parameters :a, :b (integers) and :text when
 * the statement has them, and return the first column of the first row in
 * *ret_value. Returns 1 for a row, 0 for none (*ret_value = 0), or -errno. */
static int store_query_int(struct snap_store *st, const char *sql, int64_t a, int64_t b,
			   const char *text, int64_t *ret_value, struct diag *reterr)
{
	sqlite3_stmt *s = NULL;
	int rc, r, i;

	r = snap_prepare(st, sql, &s, reterr);
	if (r < 0)
		return r;
	if ((i = sqlite3_bind_parameter_index(s, ":a")) > 0)
		sqlite3_bind_int64(s, i, a);
	if ((i = sqlite3_bind_parameter_index(s, ":b")) > 0)
		sqlite3_bind_int64(s, i, b);
	if ((i = sqlite3_bind_parameter_index(s, ":text")) > 0)
		sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		if (ret_value)
			*ret_value = sqlite3_column_int64(s, 0);
		r = 1;
	} else if (rc == SQLITE_DONE) {
		if (ret_value)
			*ret_value = 0;
		r = 0;
	} else {
		r = snap_sqlite_fail(st, rc, "update snapshots", reterr);
	}
	sqlite3_finalize(s);
	return r;
}

/* The id of the snapshot labelled @label, or 0. */
static int label_holder(struct snap_store *st, const char *label, int64_t *ret_id,
			struct diag *reterr)
{
	return store_query_int(st, "SELECT id FROM snapshot WHERE label = :text", 0, 0, label,
			       ret_id, reterr);
}

static int current_baseline(struct snap_store *st, int64_t *ret_id, struct diag *reterr)
{
	return store_query_int(
		st,
		"SELECT s.id FROM snapshot s JOIN meta m ON m.key = '" SNAP_META_BASELINE
		"' AND s.id = m.value",
		0, 0, NULL, ret_id, reterr);
}

/* Find a free label: @base, else @base-2, @base-3... */
static int label_unique(struct snap_store *st, struct strbuf *label, struct diag *reterr)
{
	size_t base_len = label->len;
	int64_t holder;

	for (unsigned n = 2;; n++) {
		int r = label_holder(st, label->buf, &holder, reterr);

		if (r < 0)
			return r;
		if (r == 0)
			return 0;
		strbuf_setlen(label, base_len);
		if (strbuf_addf(label, "-%u", n) < 0)
			return diag_set(reterr, -ENOMEM, "out of memory");
	}
}

/* Delete snapshot @id, its entries and its package links (the caller then
 * collects the package versions no snapshot links to). */
static int snapshot_delete(struct snap_store *st, int64_t id, struct diag *reterr)
{
	int r = store_query_int(st, "DELETE FROM entry WHERE snap = :a", id, 0, NULL, NULL, reterr);

	if (r >= 0)
		r = store_query_int(st, "DELETE FROM snap_pkg WHERE snap = :a", id, 0, NULL, NULL,
				    reterr);
	if (r >= 0)
		r = store_query_int(st, "DELETE FROM snapshot WHERE id = :a", id, 0, NULL, NULL,
				    reterr);
	if (r >= 0)
		r = store_query_int(
			st, "DELETE FROM meta WHERE key = '" SNAP_META_BASELINE "' AND value = :a",
			id, 0, NULL, NULL, reterr);
	return r < 0 ? r : 0;
}

/*
 * May the writer take its label? -EEXIST when the label (or, for a baseline,
 * the baseline role) is taken and the writer may not replace it. Fills
 * *ret_holder with the id holding the label (0 if free).
 */
static int writer_check_label(struct snap_writer *w, int64_t *ret_holder, struct diag *reterr)
{
	struct snap_store *st = w->st;
	int64_t holder = 0, baseline = 0;
	int r;

	if (w->label) {
		r = label_holder(st, w->label, &holder, reterr);
		if (r < 0)
			return r;
	}
	r = current_baseline(st, &baseline, reterr);
	if (r < 0)
		return r;

	if (w->purpose == SNAP_PURPOSE_BASELINE) {
		if (!w->replace && holder)
			return diag_set(
				reterr, -EEXIST,
				"snapshot label '%s' exists (use --force to replace the baseline)",
				w->label);
		if (!w->replace && baseline)
			return diag_set(
				reterr, -EEXIST,
				"a baseline exists (snapshot %lld; use --force to replace it)",
				(long long)baseline);
	} else if (holder) {
		if (!w->replace)
			return diag_set(reterr, -EEXIST,
					"snapshot label '%s' exists (use --replace)", w->label);
		if (holder == baseline)
			return diag_set(
				reterr, -EEXIST,
				"snapshot label '%s' names the baseline, which only 'drift init' replaces",
				w->label);
	}
	*ret_holder = holder;
	return 0;
}

/* ---- writing ---- */

static const char sql_insert_entry[] =
	"INSERT INTO entry (snap, kind, key, mode, uid, gid, size, mtime, ctime, ino, dev, nlink,"
	" target, hash, err, flags, ext)"
	" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";

static const char sql_insert_snapshot[] =
	"INSERT INTO snapshot (label, purpose, status, host, version, roots, excludes,"
	" cross_mounts, hash, started, finished, entries, errors, policy_digest, policy_source)"
	" VALUES (NULL, ?1, 'incomplete', ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, 0, 0, ?9, ?10)";

static void writer_free(struct snap_writer *w)
{
	if (!w)
		return;
	if (w->st->writer == w)
		w->st->writer = NULL;
	free(w->label);
	strbuf_release(&w->ext);
	strbuf_release(&w->probes_asked);
	strbuf_release(&w->probes_ran);
	strbuf_release(&w->probes_unavailable);
	sqlite3_finalize(w->pkg_insert);
	sqlite3_finalize(w->pkg_select);
	sqlite3_finalize(w->pkg_link);
	sqlite3_finalize(w->pkg_file);
	free(w);
}

static int join_list(struct strbuf *sb, const char *const *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strbuf_addch(sb, '\0') < 0)
			return -ENOMEM;
		if (strbuf_adds(sb, v[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Whether @name is among the first @n names of @v. */
static bool names_have(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/*
 * Check the names of probes in @a and @b (non-empty, each once in both
 * lists together) and join each into @ja, @jb (reset first).
 */
static int probes_join(const char *const *a, size_t na, const char *const *b, size_t nb,
		       struct strbuf *ja, struct strbuf *jb, struct diag *reterr)
{
	if ((na && !a) || (nb && !b))
		return diag_set(reterr, -EINVAL, "missing probe names");
	for (size_t i = 0; i < na + nb; i++) {
		const char *name = i < na ? a[i] : b[i - na];

		if (!name || !*name)
			return diag_set(reterr, -EINVAL, "empty probe name");
		if ((i < na && names_have(a, i, name)) ||
		    (i >= na && (names_have(a, na, name) || names_have(b, i - na, name))))
			return diag_set(reterr, -EINVAL, "probe '%s' given twice", name);
	}
	strbuf_reset(ja);
	strbuf_reset(jb);
	if (join_list(ja, a, na) < 0 || join_list(jb, b, nb) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	if (ja->len > INT_MAX || jb->len > INT_MAX)
		return diag_set(reterr, -EINVAL, "too many probes");
	return 0;
}

static void bind_list(sqlite3_stmt *s, int col, const struct strbuf *sb, size_t n)
{
	if (n == 0)
		sqlite3_bind_null(s, col);
	else
		sqlite3_bind_blob(s, col, sb->buf, (int)sb->len, SQLITE_STATIC);
}

/* Transaction 1: the incomplete snapshot row. */
static int writer_record(struct snap_writer *w, const struct snap_new *p, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct strbuf roots = STRBUF_INIT, excludes = STRBUF_INIT;
	char host[256];
	sqlite3_stmt *s = NULL;
	int64_t holder;
	int rc, r;

	if (p->host) {
		snprintf(host, sizeof(host), "%s", p->host);
	} else if (gethostname(host, sizeof(host)) < 0) {
		snprintf(host, sizeof(host), "unknown");
	}
	host[sizeof(host) - 1] = '\0';
	if (join_list(&roots, p->roots, p->nroots) < 0 ||
	    join_list(&excludes, p->excludes, p->nexcludes) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	if (roots.len > INT_MAX || excludes.len > INT_MAX) {
		r = diag_set(reterr, -EINVAL, "too many roots or excludes");
		goto out;
	}

	r = snap_exec(st, "BEGIN IMMEDIATE", "start a snapshot", reterr);
	if (r < 0)
		goto out;
	r = writer_check_label(w, &holder, reterr);
	if (r < 0)
		goto rollback;
	r = snap_prepare(st, sql_insert_snapshot, &s, reterr);
	if (r < 0)
		goto rollback;
	sqlite3_bind_int(s, 1, (int)w->purpose);
	sqlite3_bind_text(s, 2, host, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, DRIFT_VERSION, -1, SQLITE_STATIC);
	bind_list(s, 4, &roots, p->nroots);
	bind_list(s, 5, &excludes, p->nexcludes);
	sqlite3_bind_int(s, 6, p->cross_mounts ? 1 : 0);
	sqlite3_bind_int(s, 7, (int)w->hash);
	sqlite3_bind_int64(s, 8, w->started_ns);
	sqlite3_bind_text(s, 9, p->policy_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 10, p->policy_source, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "record a snapshot", reterr);
		goto rollback;
	}
	w->id = sqlite3_last_insert_rowid(st->db);
	r = snap_exec(st, "COMMIT", "record a snapshot", reterr);
	if (r < 0)
		goto rollback;
	goto out;

rollback:
	sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
out:
	sqlite3_finalize(s);
	strbuf_release(&roots);
	strbuf_release(&excludes);
	return r;
}

/* A SHA-256 digest in lowercase hex. */
static bool digest_valid(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
			return false;
	return n == 64;
}

int snap_writer_begin(struct snap_store *st, const struct snap_new *params,
		      struct snap_writer **ret_writer, struct diag *reterr)
{
	struct snap_writer *w;
	const char *label = params->label;
	int r;

	if ((unsigned)params->purpose > SNAP_PURPOSE_UPGRADE)
		return diag_set(reterr, -EINVAL, "unknown snapshot purpose %d",
				(int)params->purpose);
	if ((unsigned)params->hash > HASH_SHA256)
		return diag_set(reterr, -EINVAL, "unknown hash algorithm %d", (int)params->hash);
	if (!label && params->purpose == SNAP_PURPOSE_BASELINE)
		label = "baseline";
	if (!label && params->purpose == SNAP_PURPOSE_SCAN)
		return diag_set(reterr, -EINVAL, "a scan snapshot needs a label");
	if (label) {
		r = snap_label_check(label, reterr);
		if (r < 0)
			return r;
	}
	if (params->policy_digest && !digest_valid(params->policy_digest))
		return diag_set(reterr, -EINVAL,
				"invalid policy digest (want 64 lowercase hex digits)");
	if (!st->writable)
		return diag_set(reterr, -EROFS, "database '%s' is open read-only", st->path);
	if (st->writer)
		return diag_set(reterr, -EBUSY, "a snapshot is already being written to '%s'",
				st->path);

	w = calloc(1, sizeof(*w));
	if (!w)
		return diag_set(reterr, -ENOMEM, "out of memory");
	w->st = st;
	strbuf_init(&w->ext);
	strbuf_init(&w->probes_asked);
	strbuf_init(&w->probes_ran);
	strbuf_init(&w->probes_unavailable);
	w->purpose = params->purpose;
	w->replace = params->replace;
	w->keep = params->keep;
	w->hash = params->hash;
	w->started_ns = now_ns();
	if (label && !(w->label = strdup(label))) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto fail;
	}
	/* (probes_unavailable: an empty scratch list here.) */
	r = probes_join(params->probes, params->nprobes, NULL, 0, &w->probes_asked,
			&w->probes_unavailable, reterr);
	if (r < 0)
		goto fail;
	w->nprobes_asked = params->nprobes;
	if (!st->insert_entry) {
		r = snap_prepare(st, sql_insert_entry, &st->insert_entry, reterr);
		if (r < 0)
			goto fail;
	}

	r = writer_record(w, params, reterr);
	if (r < 0)
		goto fail;

	/* Transaction 2: held for the whole scan. */
	r = snap_exec(st, "BEGIN IMMEDIATE", "start writing entries", reterr);
	if (r < 0)
		goto fail;
	w->in_tx = true;
	st->writer = w;
	*ret_writer = w;
	return 0;

fail:
	writer_free(w);
	return r;
}

int64_t snap_writer_id(const struct snap_writer *w)
{
	return w->id;
}

int snap_writer_set_probes(struct snap_writer *w, const char *const *ran, size_t nran,
			   const char *const *unavailable, size_t nunavailable, struct diag *reterr)
{
	struct strbuf a = STRBUF_INIT, b = STRBUF_INIT;
	int r = probes_join(ran, nran, unavailable, nunavailable, &a, &b, reterr);

	if (r < 0) {
		strbuf_release(&a);
		strbuf_release(&b);
		return r;
	}
	strbuf_release(&w->probes_ran);
	strbuf_release(&w->probes_unavailable);
	w->probes_ran = a;
	w->probes_unavailable = b;
	w->nprobes_ran = nran;
	w->nprobes_unavailable = nunavailable;
	w->probes_set = true;
	return 0;
}

int snap_writer_add(struct snap_writer *w, const struct entry *e, struct diag *reterr)
{
	struct snap_store *st = w->st;
	sqlite3_stmt *s = st->insert_entry;
	int rc;

	if (e->kind < ENTRY_FILE || e->kind > ENTRY__KIND_MAX)
		return diag_set(reterr, -EINVAL, "unknown entry kind %d", (int)e->kind);
	if (e->key_len > INT_MAX || e->target_len > INT_MAX)
		return diag_set(reterr, -EINVAL, "entry key or target too long");
	if (e->hash_algo != HASH_NONE &&
	    (e->hash_algo != w->hash || e->hash_len == 0 || e->hash_len > ENTRY_HASH_MAX))
		return diag_set(
			reterr, -EINVAL,
			"entry hash (%s, %u bytes) does not match the snapshot's algorithm (%s)",
			hash_algo_name(e->hash_algo), (unsigned)e->hash_len,
			hash_algo_name(w->hash));
	if (e->collected & ~(uint32_t)(ATTR_OPTIONAL | ATTR_PROPS))
		return diag_set(reterr, -EINVAL, "entry collected unknown attributes (0x%x)",
				(unsigned)(e->collected & ~(uint32_t)(ATTR_OPTIONAL | ATTR_PROPS)));
	if ((e->collected & ATTR_XATTRS) && e->xattrs_len > 0 &&
	    (!e->xattrs || entry_xattrs_check(e->xattrs, e->xattrs_len) < 0))
		return diag_set(reterr, -EINVAL, "malformed extended attributes (%zu bytes)",
				e->xattrs_len);
	if (e->props_len > 0 && (!e->props || entry_xattrs_check(e->props, e->props_len) < 0))
		return diag_set(reterr, -EINVAL, "malformed properties (%zu bytes)", e->props_len);
	if (snap_ext_encode(&w->ext, e) < 0)
		return diag_set(reterr, -ENOMEM, "out of memory");
	if (w->ext.len > INT_MAX)
		return diag_set(reterr, -EINVAL, "optional attributes too long (%zu bytes)",
				w->ext.len);

	/* SQLITE_STATIC: every parameter is rebound before each step, and
	 * the statement is reset right after it, so no copy is needed. */
	sqlite3_bind_int64(s, 1, w->id);
	sqlite3_bind_int(s, 2, (int)e->kind);
	/* A zero-length key must be a zero-length blob, not NULL. */
	sqlite3_bind_blob(s, 3, e->key ? e->key : "", (int)e->key_len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 4, e->mode);
	sqlite3_bind_int64(s, 5, e->uid);
	sqlite3_bind_int64(s, 6, e->gid);
	/* Unsigned 64-bit values are stored as their two's complement bit
	 * pattern: exact round trip, even for inode numbers >= 2^63. */
	sqlite3_bind_int64(s, 7, (int64_t)e->size);
	sqlite3_bind_int64(s, 8, e->mtime_ns);
	sqlite3_bind_int64(s, 9, e->ctime_ns);
	sqlite3_bind_int64(s, 10, (int64_t)e->ino);
	sqlite3_bind_int64(s, 11, (int64_t)e->dev);
	sqlite3_bind_int64(s, 12, (int64_t)e->nlink);
	if (e->target)
		sqlite3_bind_blob(s, 13, e->target, (int)e->target_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 13);
	if (e->hash_algo != HASH_NONE)
		sqlite3_bind_blob(s, 14, e->hash, e->hash_len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 14);
	sqlite3_bind_int(s, 15, e->err);
	sqlite3_bind_int64(s, 16, e->flags);
	if (w->ext.len > 0)
		sqlite3_bind_blob(s, 17, w->ext.buf, (int)w->ext.len, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 17);

	rc = sqlite3_step(s);
	sqlite3_reset(s);
	if (rc != SQLITE_DONE) {
		if ((rc & 0xff) == SQLITE_CONSTRAINT)
			return diag_set(reterr, -EINVAL,
					"duplicate %s key (%zu bytes) in snapshot %lld",
					entry_kind_name(e->kind), e->key_len, (long long)w->id);
		return snap_sqlite_fail(st, rc, "add an entry", reterr);
	}
	w->entries++;
	w->errors += e->err != 0;
	return 0;
}

/* Free the label @holder holds: "<label>-<its start time>" (plus a suffix
 * if needed). Used for the baseline being superseded. */
static int writer_relabel(struct snap_writer *w, int64_t holder, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct strbuf label = STRBUF_INIT;
	int64_t started = 0;
	sqlite3_stmt *s = NULL;
	int rc, r;

	r = store_query_int(st, "SELECT started FROM snapshot WHERE id = :a", holder, 0, NULL,
			    &started, reterr);
	if (r < 0)
		goto out;
	if (label_with_time(&label, w->label, started) < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	r = label_unique(st, &label, reterr);
	if (r < 0)
		goto out;
	r = snap_prepare(st, "UPDATE snapshot SET label = ?1 WHERE id = ?2", &s, reterr);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, label.buf, (int)label.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, holder);
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE)
		r = snap_sqlite_fail(st, rc, "relabel the old baseline", reterr);
out:
	sqlite3_finalize(s);
	strbuf_release(&label);
	return r;
}

/* Everything transaction 2 does at the end, before COMMIT. */
static int writer_finish(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct strbuf label = STRBUF_INIT;
	sqlite3_stmt *s = NULL;
	int64_t holder = 0;
	bool deleted = false;
	int rc, r;

	if (!w->label) {
		/* An automatic label: chosen under the write lock. */
		if (label_with_time(&label,
				    w->purpose == SNAP_PURPOSE_UPGRADE ? "upgrade" : "check",
				    w->started_ns) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		r = label_unique(st, &label, reterr);
		if (r < 0)
			goto out;
	} else {
		if (strbuf_adds(&label, w->label) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		/* Again: the label may have been taken since begin. */
		r = writer_check_label(w, &holder, reterr);
		if (r < 0)
			goto out;
	}

	if (holder && w->purpose == SNAP_PURPOSE_BASELINE) {
		r = writer_relabel(w, holder, reterr);
	} else if (holder) {
		r = snapshot_delete(st, holder, reterr);
		deleted = true;
	}
	if (r < 0)
		goto out;

	r = snap_prepare(st,
			 "UPDATE snapshot SET label = ?1, status = 'complete', finished = ?2,"
			 " entries = ?3, errors = ?4, probes = ?6, probes_unavailable = ?7"
			 " WHERE id = ?5 AND status = 'incomplete'",
			 &s, reterr);
	if (r < 0)
		goto out;
	sqlite3_bind_text(s, 1, label.buf, (int)label.len, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now_ns());
	sqlite3_bind_int64(s, 3, (int64_t)w->entries);
	sqlite3_bind_int64(s, 4, (int64_t)w->errors);
	sqlite3_bind_int64(s, 5, w->id);
	if (w->probes_set) {
		bind_list(s, 6, &w->probes_ran, w->nprobes_ran);
		bind_list(s, 7, &w->probes_unavailable, w->nprobes_unavailable);
	} else {
		bind_list(s, 6, &w->probes_asked, w->nprobes_asked);
		sqlite3_bind_null(s, 7);
	}
	rc = sqlite3_step(s);
	if (rc != SQLITE_DONE) {
		r = snap_sqlite_fail(st, rc, "complete the snapshot", reterr);
		goto out;
	}
	if (sqlite3_changes(st->db) != 1) {
		r = diag_set(reterr, -ENOENT, "snapshot %lld was removed while it was written",
			     (long long)w->id);
		goto out;
	}

	if (w->purpose == SNAP_PURPOSE_BASELINE) {
		r = store_query_int(
			st,
			"INSERT OR REPLACE INTO meta (key, value) VALUES ('" SNAP_META_BASELINE
			"', :a)",
			w->id, 0, NULL, NULL, reterr);
		if (r < 0)
			goto out;
	}

	if ((w->purpose == SNAP_PURPOSE_CHECK || w->purpose == SNAP_PURPOSE_UPGRADE) &&
	    w->keep > 0) {
		/*
		 * The newest @keep complete snapshots of this purpose stay,
		 * this one among them; interrupted ones do not count. Those
		 * older than the newest complete one before this one are
		 * leftovers of killed runs and go too. A newer one may be a
		 * writer that recorded itself and waits for the lock we hold:
		 * it stays (until the next one), and this one is never
		 * touched (id != :a).
		 */
#define PURPOSE "purpose = (SELECT purpose FROM snapshot WHERE id = :a)"
#define PRUNE_IDS                                                                          \
	"SELECT id FROM snapshot WHERE " PURPOSE " AND id != :a AND ("                     \
	"(status = 'complete' AND id NOT IN (SELECT id FROM snapshot WHERE " PURPOSE       \
	" AND status = 'complete' AND id != :a ORDER BY id DESC LIMIT :b))"                \
	" OR (status = 'incomplete' AND id < (SELECT max(id) FROM snapshot WHERE " PURPOSE \
	" AND status = 'complete' AND id != :a)))"
		static const char *const prune[] = {
			"DELETE FROM entry WHERE snap IN (" PRUNE_IDS ")",
			"DELETE FROM snap_pkg WHERE snap IN (" PRUNE_IDS ")",
			"DELETE FROM snapshot WHERE id IN (" PRUNE_IDS ")",
		};
#undef PRUNE_IDS
#undef PURPOSE
		for (size_t i = 0; i < sizeof(prune) / sizeof(prune[0]); i++) {
			r = store_query_int(st, prune[i], w->id, (int64_t)w->keep - 1, NULL, NULL,
					    reterr);
			if (r < 0)
				goto out;
		}
		deleted = true;
	}

	/*
	 * Interrupted snapshots of every purpose, whatever @keep (0 too):
	 * one older than a complete snapshot (this one included) whose
	 * writer is gone (SNAP_ABANDONED_NS) holds no entries and no label,
	 * and only clutters the list. Upgrade snapshots are left to the rule
	 * above: an interrupted one breaks the pairing of the pre and post
	 * snapshots around it (drift diff --last-upgrade).
	 */
	_Static_assert(SNAP_PURPOSE_UPGRADE == 3, "the statement below names it");
#define ABANDONED_IDS                                                                 \
	"SELECT id FROM snapshot r WHERE r.status = 'incomplete' AND r.id != :a"      \
	" AND r.purpose != 3 AND r.started < :b AND EXISTS (SELECT 1 FROM snapshot c" \
	" WHERE c.status = 'complete' AND c.id > r.id)"
	static const char *const abandoned[] = {
		"DELETE FROM entry WHERE snap IN (" ABANDONED_IDS ")",
		"DELETE FROM snap_pkg WHERE snap IN (" ABANDONED_IDS ")",
		"DELETE FROM snapshot WHERE id IN (" ABANDONED_IDS ")",
	};
#undef ABANDONED_IDS
	int64_t cutoff = now_ns() - SNAP_ABANDONED_NS;

	for (size_t i = 0; i < sizeof(abandoned) / sizeof(abandoned[0]); i++) {
		r = store_query_int(st, abandoned[i], w->id, cutoff, NULL, NULL, reterr);
		if (r < 0)
			goto out;
	}
	if (sqlite3_changes(st->db) > 0)
		deleted = true;

	if (deleted) {
		r = snap_pkg_collect(st, reterr);
		if (r < 0)
			goto out;
	}

	r = 0;
	if (ret_info) {
		struct snap_info info;

		r = info_query(st, "id = ?1", w->id, NULL, &info, reterr);
		if (r == 0)
			r = diag_set(reterr, -EIO, "snapshot %lld vanished", (long long)w->id);
		if (r > 0) {
			*ret_info = info;
			r = 0;
		}
	}
out:
	sqlite3_finalize(s);
	strbuf_release(&label);
	return r;
}

int snap_writer_finish(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct snap_info info = { 0 };
	int r;

	if (w->finished) {
		r = diag_set(reterr, -EINVAL, "snapshot %lld is finished already",
			     (long long)w->id);
		goto fail;
	}
	if (sqlite3_get_autocommit(st->db)) {
		/* SQLite rolled the transaction back on its own (disk full, I/O). */
		r = diag_set(reterr, -EIO, "the snapshot transaction in '%s' was rolled back",
			     st->path);
		goto fail;
	}
	r = writer_finish(w, ret_info ? &info : NULL, reterr);
	if (r < 0)
		goto fail;
	w->finished = true;
	if (ret_info)
		*ret_info = info;
	return 0;

fail:
	snap_info_release(&info);
	snap_writer_abort(w);
	return r;
}

int snap_writer_commit(struct snap_writer *w, struct snap_info *ret_info, struct diag *reterr)
{
	struct snap_store *st = w->st;
	struct snap_info info = { 0 };
	int r;

	if (!w->finished) {
		r = snap_writer_finish(w, ret_info ? &info : NULL, reterr);
		if (r < 0)
			return r; /* @w is gone */
	} else if (ret_info) {
		r = info_query(st, "id = ?1", w->id, NULL, &info, reterr);
		if (r == 0)
			r = diag_set(reterr, -EIO, "snapshot %lld vanished", (long long)w->id);
		if (r < 0)
			goto fail;
	}
	if (sqlite3_get_autocommit(st->db)) {
		r = diag_set(reterr, -EIO, "the snapshot transaction in '%s' was rolled back",
			     st->path);
		goto fail;
	}
	r = snap_exec(st, "COMMIT", "commit the snapshot", reterr);
	if (r < 0)
		goto fail;
	w->in_tx = false;
	writer_free(w);
	if (ret_info)
		*ret_info = info;
	return 0;

fail:
	snap_info_release(&info);
	snap_writer_abort(w);
	return r;
}

void snap_writer_abort(struct snap_writer *w)
{
	if (!w)
		return;
	if (w->in_tx && !sqlite3_get_autocommit(w->st->db))
		sqlite3_exec(w->st->db, "ROLLBACK", NULL, NULL, NULL);
	writer_free(w);
}
