/*
 * Package ownership: which package version owns which file, kept beside the
 * snapshots for the attribution of changes to package upgrades.
 *
 * Components:
 *   - the writer's part (snap_writer_add_package, _add_package_file): a
 *     package version (name, arch, version) is a row of `pkgver`, created
 *     the first time a snapshot has it, with its file list in `pkgfile`.
 *     A version's list never changes, so later snapshots only link to the
 *     version (`snap_pkg`) and the caller skips reading the list again.
 *     Four statements, prepared on first use and reused for the writer's
 *     life: one bind and step per file;
 *   - the collection of versions no snapshot links to (snap_pkg_collect),
 *     run by store.c in the transaction that deletes snapshots. It reads
 *     every pkgver row (a few thousand) with one probe of the snap_pkg
 *     index each; only when some version lost its last link does it scan
 *     pkgfile (keyed by path, see schema.c) to delete that version's files;
 *   - the lookups: snap_owner_get() (one query on the primary key of
 *     pkgfile, path first, joined to the snapshot's links) and
 *     snap_has_packages().
 *
 * Databases of schema 1 or 2 (opened read-only, never migrated) have no
 * package tables: they read as "no ownership recorded".
 */
#include "store/store.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "store/internal.h"
#include "common/banned.h"

/* ---- writing ---- */

static int pkg_prepare(struct snap_store *st, sqlite3_stmt **stmt, const char *sql,
		       struct diag *reterr)
{
	if (*stmt)
		return 0;
	return snap_prepare(st, sql, stmt, reterr);
}

/* Step @s (no row expected) and reset it; -errno like snap_sqlite_fail(). */
static int pkg_step_done(struct snap_store *st, sqlite3_stmt *s, const char *what,
			 struct diag *reterr)
{
	int rc = sqlite3_step(s);

	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	if (rc != SQLITE_DONE)
		return snap_sqlite_fail(st, rc, what, reterr);
	return 0;
}

static void bind_text(sqlite3_stmt *s, int col, const char *text)
{
	sqlite3_bind_text(s, col, text, -1, SQLITE_STATIC);
}

int snap_writer_add_package(struct snap_writer *w, const char *name, const char *arch,
			    const char *version, bool *ret_known, struct diag *reterr)
{
	struct snap_store *st = w->st;
	int64_t id = 0;
	bool known;
	int rc, r;

	w->pkg_current = 0;
	if (!name || !*name || !arch || !version || !*version)
		return diag_set(reterr, -EINVAL, "a package needs a name and a version");
	if (strlen(name) > INT_MAX / 4 || strlen(arch) > INT_MAX / 4 ||
	    strlen(version) > INT_MAX / 4)
		return diag_set(reterr, -EINVAL, "package name or version too long");
	r = pkg_prepare(st, &w->pkg_insert,
			"INSERT INTO pkgver (name, arch, version) VALUES (?1, ?2, ?3)"
			" ON CONFLICT DO NOTHING",
			reterr);
	if (r >= 0)
		r = pkg_prepare(
			st, &w->pkg_select,
			"SELECT id FROM pkgver WHERE name = ?1 AND arch = ?2 AND version = ?3",
			reterr);
	if (r >= 0)
		r = pkg_prepare(st, &w->pkg_link,
				"INSERT OR IGNORE INTO snap_pkg (snap, pkgver) VALUES (?1, ?2)",
				reterr);
	if (r < 0)
		return r;

	bind_text(w->pkg_insert, 1, name);
	bind_text(w->pkg_insert, 2, arch);
	bind_text(w->pkg_insert, 3, version);
	r = pkg_step_done(st, w->pkg_insert, "record a package", reterr);
	if (r < 0)
		return r;
	/* A new row: its list is ours to give. No new row: stored before. */
	known = sqlite3_changes(st->db) == 0;

	bind_text(w->pkg_select, 1, name);
	bind_text(w->pkg_select, 2, arch);
	bind_text(w->pkg_select, 3, version);
	rc = sqlite3_step(w->pkg_select);
	if (rc == SQLITE_ROW)
		id = sqlite3_column_int64(w->pkg_select, 0);
	sqlite3_reset(w->pkg_select);
	sqlite3_clear_bindings(w->pkg_select);
	if (rc != SQLITE_ROW)
		return rc == SQLITE_DONE
			       ? diag_set(reterr, -EIO, "package '%s' %s vanished", name, version)
			       : snap_sqlite_fail(st, rc, "record a package", reterr);

	sqlite3_bind_int64(w->pkg_link, 1, w->id);
	sqlite3_bind_int64(w->pkg_link, 2, id);
	r = pkg_step_done(st, w->pkg_link, "record a package", reterr);
	if (r < 0)
		return r;
	if (!known)
		w->pkg_current = id;
	*ret_known = known;
	return 0;
}

int snap_writer_add_package_file(struct snap_writer *w, const char *path, size_t len,
				 const uint8_t *md5, bool conffile, struct diag *reterr)
{
	struct snap_store *st = w->st;
	sqlite3_stmt *s;
	int r;

	if (!w->pkg_current)
		return diag_set(reterr, -EINVAL, "no new package version to add files to");
	if (!path || len == 0 || len > INT_MAX)
		return diag_set(reterr, -EINVAL, "invalid package file path (%zu bytes)", len);
	/* The same path twice (listed, then named a conffile): merged. */
	r = pkg_prepare(st, &w->pkg_file,
			"INSERT INTO pkgfile (pkgver, path, md5, conffile) VALUES (?1, ?2, ?3, ?4)"
			" ON CONFLICT (path, pkgver) DO UPDATE SET"
			" md5 = coalesce(excluded.md5, md5),"
			" conffile = max(conffile, excluded.conffile)",
			reterr);
	if (r < 0)
		return r;
	s = w->pkg_file;
	sqlite3_bind_int64(s, 1, w->pkg_current);
	sqlite3_bind_blob(s, 2, path, (int)len, SQLITE_STATIC);
	if (md5)
		sqlite3_bind_blob(s, 3, md5, 16, SQLITE_STATIC);
	else
		sqlite3_bind_null(s, 3);
	sqlite3_bind_int(s, 4, conffile ? 1 : 0);
	return pkg_step_done(st, s, "record a package file", reterr);
}

int snap_writer_drop_package(struct snap_writer *w, struct diag *reterr)
{
	struct snap_store *st = w->st;
	static const char *const sql[] = {
		"DELETE FROM pkgfile WHERE pkgver = ?1",
		"DELETE FROM snap_pkg WHERE pkgver = ?1",
		"DELETE FROM pkgver WHERE id = ?1",
	};

	if (!w->pkg_current)
		return diag_set(reterr, -EINVAL, "no new package version to drop");
	for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		sqlite3_stmt *s = NULL;
		int rc = sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL);

		if (rc == SQLITE_OK) {
			sqlite3_bind_int64(s, 1, w->pkg_current);
			rc = sqlite3_step(s);
		}
		sqlite3_finalize(s);
		if (rc != SQLITE_DONE)
			return snap_sqlite_fail(st, rc, "drop a package version", reterr);
	}
	w->pkg_current = 0;
	return 0;
}

#define UNLINKED \
	"SELECT id FROM pkgver v WHERE NOT EXISTS (SELECT 1 FROM snap_pkg l WHERE l.pkgver = v.id)"

int snap_pkg_collect(struct snap_store *st, struct diag *reterr)
{
	/* The versions are few (thousands): finding the unlinked ones is
	 * cheap. Their files are found by a scan of pkgfile (keyed by path),
	 * so that runs only when there are some. */
	static const char sql_any[] = "SELECT EXISTS (" UNLINKED ")";
	static const char sql_delete[] = "DELETE FROM pkgfile WHERE pkgver IN (" UNLINKED ");"
					 "DELETE FROM pkgver WHERE id IN (" UNLINKED ")";
	sqlite3_stmt *s = NULL;
	bool any = false;
	int rc, r;

	r = snap_prepare(st, sql_any, &s, reterr);
	if (r < 0)
		return r;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		any = sqlite3_column_int(s, 0) != 0;
	else
		r = snap_sqlite_fail(st, rc, "delete unused packages", reterr);
	sqlite3_finalize(s);
	if (r < 0 || !any)
		return r;
	return snap_exec(st, sql_delete, "delete unused packages", reterr);
}

#undef UNLINKED

/* ---- reading ---- */

/* pkgfile by path (a prefix of its primary key), then whether the
 * snapshot links to each version found (a primary key probe). */
static const char sql_owner_get[] = "SELECT v.name, v.arch, v.version, f.md5, f.conffile"
				    " FROM pkgfile f"
				    " JOIN snap_pkg l ON l.snap = ?1 AND l.pkgver = f.pkgver"
				    " JOIN pkgver v ON v.id = f.pkgver"
				    " WHERE f.path = ?2"
				    " ORDER BY f.md5 IS NULL, v.name, v.arch, v.version LIMIT 1";

int snap_owner_get(struct snap_store *st, int64_t snap_id, const char *path, size_t len,
		   struct snap_owner *ret_owner, struct diag *reterr)
{
	struct snap_owner owner = { 0 };
	sqlite3_stmt *s;
	const void *md5;
	const char *text[3];
	size_t tlen[3], total = 0;
	char *buf;
	int rc, r;

	if (st->schema < 3)
		return 0;
	if (len > INT_MAX)
		return 0;
	if (!st->owner_get) {
		r = snap_prepare(st, sql_owner_get, &st->owner_get, reterr);
		if (r < 0)
			return r;
	}
	s = st->owner_get;
	sqlite3_bind_int64(s, 1, snap_id);
	sqlite3_bind_blob(s, 2, len ? path : "", (int)len, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? 0 : snap_sqlite_fail(st, rc, "look up a package", reterr);
		goto out;
	}
	for (int i = 0; i < 3; i++) {
		text[i] = (const char *)sqlite3_column_text(s, i);
		if (!text[i]) {
			r = sqlite3_column_type(s, i) == SQLITE_NULL
				    ? diag_set(reterr, -EPROTO,
					       "'%s' is damaged (a package without a name)",
					       st->path)
				    : diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		tlen[i] = strlen(text[i]);
		total += tlen[i] + 1;
	}
	buf = realloc(st->owner_strings, total);
	if (!buf) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	st->owner_strings = buf;
	for (int i = 0; i < 3; i++) {
		memcpy(buf, text[i], tlen[i] + 1);
		if (i == 0)
			owner.name = buf;
		else if (i == 1)
			owner.arch = buf;
		else
			owner.version = buf;
		buf += tlen[i] + 1;
	}
	md5 = sqlite3_column_blob(s, 3);
	if (md5 && sqlite3_column_bytes(s, 3) == 16) {
		owner.has_md5 = true;
		memcpy(owner.md5, md5, 16);
	}
	owner.conffile = sqlite3_column_int(s, 4) != 0;
	*ret_owner = owner;
	r = 1;
out:
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return r;
}

int snap_has_packages(struct snap_store *st, int64_t snap_id, bool *ret_has)
{
	sqlite3_stmt *s = NULL;
	int rc, r;

	if (st->schema < 3) {
		*ret_has = false;
		return 0;
	}
	r = snap_prepare(st, "SELECT EXISTS (SELECT 1 FROM snap_pkg WHERE snap = ?1)", &s, NULL);
	if (r < 0)
		return r;
	sqlite3_bind_int64(s, 1, snap_id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*ret_has = sqlite3_column_int(s, 0) != 0;
		r = 0;
	} else {
		r = snap_sqlite_errno(rc);
	}
	sqlite3_finalize(s);
	return r;
}
