/*
 * The file operations of remediation (remedy/fsops.h): the only code of
 * drift that changes the host's files, as root. Nothing here resolves a
 * path in one call: every lookup is one component, O_NOFOLLOW, from a
 * directory fd that was itself opened that way; metadata is changed
 * through the descriptor of the object that was checked.
 *
 * Components:
 *  - dir_step(): one step of a walk, openat(O_DIRECTORY | O_NOFOLLOW). The
 *    kernel answers ELOOP or ENOTDIR for a symlink there; an fstatat()
 *    after the failure tells the user which it was. fs_path_open() and
 *    fs_mkdirs() walk with it.
 *  - fs_entry_open(): O_PATH, fstat(), and only a regular file or a
 *    directory reopened for real through that fd: a FIFO or a device is
 *    never opened, not even one swapped in at the last moment.
 *  - fs_meta_read(): scanner/attrs.c's scan_attrs_collect(), copied out.
 *  - fs_meta_apply(): owner, mode, xattrs (the wanted blob against the
 *    current one: set what differs, remove what is extra), ACL and caps
 *    text, mtime. An O_PATH fd is reached as "/proc/self/fd/N": following
 *    that magic link stops at the object itself, a symlink included.
 *  - tmp_*(): a new object is made under ".drift-remedy-XXXXXX" beside its
 *    place, finished (metadata, fsync) and only then renamed into place.
 *  - fs_move() (a copy across filesystems), fs_remove(), fs_read_file().
 */
#include "remedy/fsops.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <sys/acl.h>
#include <sys/capability.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/attrs.h"
#include "scanner/scanner.h"

#include "common/banned.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
/* Through "/proc/self/fd/N", a magic link: no O_NOFOLLOW. O_NONBLOCK, O_NOCTTY: belt and braces */
#define REOPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
#define PATH_FLAGS   (O_PATH | O_NOFOLLOW | O_CLOEXEC)
#define META_ATTRS \
	(ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)
#define META_OPT   (ATTR_XATTRS | ATTR_ACL | ATTR_CAPS)
#define TMP_PREFIX ".drift-remedy-"
#define TMP_RANDOM 6
/* ".drift-remedy-" TAG "-" XXXXXX: the tag is at most FS_TAG_MAX bytes. */
#define TMP_SIZE   (sizeof(TMP_PREFIX) + FS_TAG_MAX + 1 + TMP_RANDOM)
#define TMP_TRIES  16
#define PROC_SIZE  32
#define COPY_SIZE  ((size_t)64 << 10)
#define NSEC       1000000000LL
#define CAPS_XATTR "security.capability"

static const char *errstr(int r)
{
	return strerror(-r);
}

/* diag_set() of "cannot <what> '<path>': <strerror>"; returns @r. */
static int fail(struct diag *reterr, int r, const char *what, const char *path)
{
	return diag_set(reterr, r, "cannot %s '%s': %s", what, path, errstr(r));
}

/*
 * The next component of @s (@len bytes) from *@pos, slashes skipped: 1 with
 * its start and length, 0 at the end, -EINVAL for "." and "..".
 */
static int next_component(const char *s, size_t len, size_t *pos, size_t *ret_start,
			  size_t *ret_len)
{
	size_t i = *pos, n = 0;

	while (i < len && s[i] == '/')
		i++;
	while (i + n < len && s[i + n] != '/')
		n++;
	if (n == 0)
		return 0;
	if (s[i] == '.' && (n == 1 || (n == 2 && s[i + 1] == '.')))
		return -EINVAL;
	*pos = i + n;
	*ret_start = i;
	*ret_len = n;
	return 1;
}

/*
 * Open the directory @name below @dirfd without following it; with
 * @create, make it (@mode) first unless it exists. The message names the
 * first @shown_len bytes of @shown. Returns the fd or -errno.
 */
static int dir_step(int dirfd, const char *name, bool create, mode_t mode, const char *shown,
		    size_t shown_len, struct diag *reterr)
{
	const int sl = shown_len > INT_MAX ? INT_MAX : (int)shown_len;
	struct stat st;
	int fd, r;

	if (create && mkdirat(dirfd, name, mode) < 0 && errno != EEXIST) {
		r = -errno;
		return diag_set(reterr, r, "cannot create directory '%.*s': %s", sl, shown,
				errstr(r));
	}
	fd = openat(dirfd, name, DIR_FLAGS);
	if (fd >= 0)
		return fd;
	r = -errno;
	if ((r == -ELOOP || r == -ENOTDIR) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			return diag_set(reterr, -ELOOP, "'%.*s' is a symlink: not followed", sl,
					shown);
		if (!S_ISDIR(st.st_mode))
			return diag_set(reterr, -ENOTDIR, "'%.*s' is not a directory", sl, shown);
	}
	return diag_set(reterr, r, "cannot open directory '%.*s': %s", sl, shown, errstr(r));
}

int fs_path_open(int rootfd, const char *path, size_t len, struct fs_path *ret, struct diag *reterr)
{
	struct fs_path p = { .dirfd = -1 };
	size_t pos = 0, start = 0, n = 0, lstart = 0, ln = 0;
	char *work = NULL;
	int r;

	if (len == 0 || path[0] != '/' || memchr(path, '\0', len))
		return diag_set(reterr, -EINVAL, "cannot open '%.*s': not an absolute path",
				len > INT_MAX ? INT_MAX : (int)len, path);
	p.path = malloc(len + 1);
	work = malloc(len + 1);
	if (!p.path || !work) {
		r = -ENOMEM;
		goto fail;
	}
	memcpy(p.path, path, len);
	p.path[len] = '\0';
	memcpy(work, path, len);
	work[len] = '\0';

	/* Check every component before opening anything. */
	while ((r = next_component(p.path, len, &pos, &start, &n)) > 0) {
		lstart = start;
		ln = n;
	}
	if (r < 0 || ln == 0) {
		r = diag_set(reterr, -EINVAL, "cannot open '%s': %s", p.path,
			     r < 0 ? "'.' and '..' are refused" : "no parent directory");
		goto fail;
	}

	p.dirfd = openat(rootfd, ".", DIR_FLAGS);
	if (p.dirfd < 0) {
		r = -errno;
		diag_set(reterr, r, "cannot open the root directory: %s", errstr(r));
		goto fail;
	}
	for (pos = 0; next_component(p.path, len, &pos, &start, &n) > 0 && start != lstart;) {
		int next;

		work[start + n] = '\0';
		next = dir_step(p.dirfd, work + start, false, 0, p.path, start + n, reterr);
		close(p.dirfd);
		p.dirfd = next;
		if (next < 0) {
			r = next;
			goto fail;
		}
	}
	p.name = strdup(work + lstart);
	if (!p.name) {
		r = -ENOMEM;
		goto fail;
	}
	free(work);
	*ret = p;
	return 0;

fail:
	if (p.dirfd >= 0)
		close(p.dirfd);
	free(p.path);
	free(work);
	return r == -ENOMEM ? diag_set(reterr, r, "cannot open '%.*s': out of memory",
				       len > INT_MAX ? INT_MAX : (int)len, path)
			    : r;
}

void fs_path_release(struct fs_path *p)
{
	if (!p)
		return;
	if (p->name && p->dirfd >= 0)
		close(p->dirfd);
	free(p->name);
	free(p->path);
	p->dirfd = -1;
	p->name = NULL;
	p->path = NULL;
}

int fs_entry_open(const struct fs_path *p, struct fs_entry *ret, struct diag *reterr)
{
	char proc[PROC_SIZE];
	struct stat st, real_st;
	int fd, real, r;

	/*
	 * O_PATH first: opening that way has no effect on any object, and the
	 * type the fd then has is final. Only a regular file or a directory is
	 * opened for real, and through the fd itself ("/proc/self/fd/N" reaches
	 * exactly its inode), so a FIFO or a device swapped in meanwhile never is.
	 */
	fd = openat(p->dirfd, p->name, PATH_FLAGS);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return diag_set(reterr, r, "'%s' does not exist", p->path);
		return fail(reterr, r, "open", p->path);
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return fail(reterr, r, "stat", p->path);
	}
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		real = open(proc, REOPEN_FLAGS);
		r = real < 0 || fstat(real, &real_st) < 0 ? -errno : 0;
		if (r == 0 && (real_st.st_dev != st.st_dev || real_st.st_ino != st.st_ino))
			r = -ESTALE; /* cannot happen: /proc is not what it should be */
		close(fd);
		if (r < 0) {
			if (real >= 0)
				close(real);
			return fail(reterr, r, "open", p->path);
		}
		fd = real;
		st = real_st;
	}
	ret->fd = fd;
	ret->opath = !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode);
	ret->st = st;
	return 0;
}

void fs_entry_close(struct fs_entry *e)
{
	if (e && e->fd >= 0)
		close(e->fd);
	if (e)
		e->fd = -1;
}

static void *memdup(const void *src, size_t len)
{
	void *p = malloc(len ? len : 1);

	if (p && len)
		memcpy(p, src, len);
	return p;
}

/* The xattrs (blob), ACL and caps of @e as the scanner reads them, into @ent (borrowed from @a). */
static int attrs_read(struct scan_attrs *a, const struct fs_entry *e, unsigned want,
		      struct entry *ent)
{
	int r = scan_attrs_collect(a, e->fd, e->opath, e->st.st_mode, want, ent);

	return r < 0 ? r : ent->err ? -ent->err : 0;
}

int fs_meta_read(const struct fs_path *p, const struct fs_entry *e, struct fs_meta *ret,
		 struct diag *reterr)
{
	struct scan_attrs a = { 0 };
	struct entry ent = { 0 };
	struct fs_meta m = { 0 };
	uint8_t *x = NULL;
	char *acl = NULL, *caps = NULL;
	int r;

	r = attrs_read(&a, e, SCAN_XATTRS | SCAN_ACL | SCAN_CAPS, &ent);
	if (r < 0) {
		fail(reterr, r, "read the attributes of", p->path);
		goto out;
	}
	x = ent.xattrs_len ? memdup(ent.xattrs, ent.xattrs_len) : NULL;
	acl = ent.acl ? strdup(ent.acl) : NULL;
	caps = ent.caps ? strdup(ent.caps) : NULL;
	if ((ent.xattrs_len && !x) || (ent.acl && !acl) || (ent.caps && !caps)) {
		r = diag_set(reterr, -ENOMEM, "cannot read the attributes of '%s': out of memory",
			     p->path);
		goto out;
	}
	m.mode = (uint32_t)e->st.st_mode & (S_IFMT | 07777);
	m.uid = e->st.st_uid;
	m.gid = e->st.st_gid;
	m.mtime_ns = (int64_t)e->st.st_mtim.tv_sec * NSEC + e->st.st_mtim.tv_nsec;
	m.collected = ent.collected & META_OPT;
	m.xattrs = x;
	m.xattrs_len = ent.xattrs_len;
	m.acl = acl;
	m.caps = caps;
	*ret = m;
	x = NULL;
	acl = caps = NULL;
out:
	free(x);
	free(acl);
	free(caps);
	scan_attrs_release(&a);
	return r;
}

void fs_meta_release(struct fs_meta *m)
{
	if (!m)
		return;
	/* fs_meta_read() allocated them: the const is for borrowed ones */
	free((void *)(uintptr_t)m->xattrs);
	free((void *)(uintptr_t)m->acl);
	free((void *)(uintptr_t)m->caps);
	memset(m, 0, sizeof(*m));
}

/* ---- fs_meta_apply() ---- */

static int x_set(int fd, const char *path, const char *name, const void *v, size_t vl)
{
	int r = path ? setxattr(path, name, v, vl, 0) : fsetxattr(fd, name, v, vl, 0);

	return r < 0 ? -errno : 0;
}

static int x_remove(int fd, const char *path, const char *name)
{
	int r = path ? removexattr(path, name) : fremovexattr(fd, name);

	return r < 0 ? -errno : 0;
}

/* Copy a blob's name into @buf as a C string; -ERANGE when too long. */
static int name_copy(char buf[XATTR_NAME_MAX + 1], const char *name, size_t len)
{
	if (len > XATTR_NAME_MAX)
		return -ERANGE;
	memcpy(buf, name, len);
	buf[len] = '\0';
	return 0;
}

/*
 * Make @e's extended attributes exactly the blob @want: remove those it
 * lacks, set those missing or different (an equal value is not written).
 */
static int xattrs_apply(const struct fs_path *p, const struct fs_entry *e, const char *path,
			const uint8_t *want, size_t want_len, struct diag *reterr)
{
	struct scan_attrs a = { 0 };
	struct entry cur = { 0 };
	char name[XATTR_NAME_MAX + 1] = "";
	const char *n;
	const uint8_t *v, *cv;
	size_t pos, nl, vl, cvl;
	int r;

	r = attrs_read(&a, e, SCAN_XATTRS, &cur);
	if (r < 0)
		goto fail;
	pos = 0;
	while (entry_xattrs_next(cur.xattrs, cur.xattrs_len, &pos, &n, &nl, &v, &vl) > 0) {
		r = name_copy(name, n, nl);
		if (r == 0 && entry_xattrs_get(want, want_len, name, &cv, &cvl) == 0)
			r = x_remove(e->fd, path, name);
		if (r < 0 && r != -ENODATA)
			goto fail;
	}
	pos = 0;
	while (entry_xattrs_next(want, want_len, &pos, &n, &nl, &v, &vl) > 0) {
		r = name_copy(name, n, nl);
		if (r == 0 && (entry_xattrs_get(cur.xattrs, cur.xattrs_len, name, &cv, &cvl) <= 0 ||
			       cvl != vl || memcmp(cv, v, vl)))
			r = x_set(e->fd, path, name, v, vl);
		if (r < 0)
			goto fail;
	}
	scan_attrs_release(&a);
	return 0;
fail:
	scan_attrs_release(&a);
	return diag_set(reterr, r, "cannot set the xattrs of '%s'%s%s: %s", p->path,
			name[0] ? ": " : "", name, errstr(r));
}

/* Split entry->acl's text into its access and "default:" parts (malloc()ed). */
static int acl_split(const char *text, char **ret_acc, char **ret_def)
{
	const size_t len = strlen(text), dl = strlen("default:");
	char *acc = malloc(len + 1), *def = malloc(len + 1);
	size_t na = 0, nd = 0;

	if (!acc || !def) {
		free(acc);
		free(def);
		return -ENOMEM;
	}
	for (const char *s = text; *s;) {
		size_t n = strcspn(s, ",");
		bool d = n > dl && !strncmp(s, "default:", dl);
		char *out = d ? def : acc;
		size_t *o = d ? &nd : &na;

		if (*o)
			out[(*o)++] = ',';
		memcpy(out + *o, s + (d ? dl : 0), n - (d ? dl : 0));
		*o += n - (d ? dl : 0);
		s += n + (s[n] == ',');
	}
	acc[na] = def[nd] = '\0';
	*ret_acc = acc;
	*ret_def = def;
	return 0;
}

/*
 * Set the ACLs of @e (not a symlink) from @text; NULL: no ACL beyond the
 * mode bits @mode (and no default ACL). Access ACL through the fd, default
 * ACL by @proc, since libacl sets those by path only.
 */
static int acl_apply(const struct fs_entry *e, const char *proc, const char *text, mode_t mode)
{
	const bool dir = S_ISDIR(e->st.st_mode);
	char *acc_text = NULL, *def_text = NULL;
	acl_t acc = NULL, def = NULL;
	int r = 0;

	if (text) {
		r = acl_split(text, &acc_text, &def_text);
		if (r < 0)
			return r;
		if ((*def_text && !dir) || !*acc_text) {
			r = -EINVAL;
			goto out;
		}
		acc = acl_from_text(acc_text);
		def = *def_text ? acl_from_text(def_text) : NULL;
		if (!acc || (*def_text && !def)) {
			r = -EINVAL;
			goto out;
		}
	} else {
		acc = acl_from_mode(mode);
		if (!acc)
			return -ENOMEM;
	}
	r = e->opath ? acl_set_file(proc, ACL_TYPE_ACCESS, acc) : acl_set_fd(e->fd, acc);
	r = r < 0 ? -errno : 0;
	if (r == -ENOTSUP && !text)
		r = 0; /* a filesystem without ACLs has none to remove */
	if (r == 0 && dir) {
		r = def ? acl_set_file(proc, ACL_TYPE_DEFAULT, def) : acl_delete_def_file(proc);
		r = r < 0 ? -errno : 0;
		if (!def && (r == -ENOTSUP || r == -ENODATA))
			r = 0;
	}
out:
	if (acc)
		acl_free(acc);
	if (def)
		acl_free(def);
	free(acc_text);
	free(def_text);
	return r;
}

/* Set the capabilities of @e from @text (cap_to_text() form); NULL: none. */
static int caps_apply(const struct fs_entry *e, const char *proc, const char *text)
{
	const char *path = e->opath ? proc : NULL;
	cap_t c;
	int r;

	if (!S_ISREG(e->st.st_mode))
		return text ? -EINVAL : 0;
	if (!text) {
		/* Look first: removing even an absent one needs CAP_SETFCAP */
		ssize_t n = path ? getxattr(path, CAPS_XATTR, NULL, 0)
				 : fgetxattr(e->fd, CAPS_XATTR, NULL, 0);

		r = n < 0 ? -errno : x_remove(e->fd, path, CAPS_XATTR);
		return r == -ENODATA || r == -ENOTSUP ? 0 : r;
	}
	c = cap_from_text(text);
	if (!c)
		return -EINVAL;
	r = path ? cap_set_file(path, c) : cap_set_fd(e->fd, c);
	r = r < 0 ? -errno : 0;
	cap_free(c);
	return r;
}

int fs_meta_apply(const struct fs_path *p, struct fs_entry *e, const struct fs_meta *m,
		  uint32_t attrs, struct diag *reterr)
{
	const bool lnk = S_ISLNK(e->st.st_mode);
	char proc[PROC_SIZE];
	const char *path = NULL;
	int r;

	attrs &= META_ATTRS;
	if (attrs & META_OPT & ~m->collected)
		return diag_set(reterr, -EINVAL, "cannot set the attributes of '%s': not collected",
				p->path);
	if ((attrs & ATTR_XATTRS) && entry_xattrs_check(m->xattrs, m->xattrs_len) < 0)
		return diag_set(reterr, -EBADMSG, "cannot set the xattrs of '%s': malformed blob",
				p->path);
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", e->fd);
	if (e->opath)
		path = proc; /* f*xattr(), fchmod(), futimens() refuse O_PATH fds */

	if (attrs & (ATTR_UID | ATTR_GID)) {
		uid_t uid = (attrs & ATTR_UID) ? m->uid : (uid_t)-1;
		gid_t gid = (attrs & ATTR_GID) ? m->gid : (gid_t)-1;

		/*
		 * This drops setuid/setgid bits and capabilities, and must: kept
		 * across a change of owner they could make a setuid-root binary
		 * out of a user's file. The mode and caps set below put back
		 * what @m says, when @attrs asks for them.
		 */
		r = path ? fchownat(e->fd, "", uid, gid, AT_EMPTY_PATH) : fchown(e->fd, uid, gid);
		if (r < 0)
			return fail(reterr, -errno, "change the owner of", p->path);
	}
	if ((attrs & ATTR_MODE) && !lnk) {
		mode_t mode = m->mode & 07777;

		r = path ? chmod(path, mode) : fchmod(e->fd, mode);
		if (r < 0)
			return fail(reterr, -errno, "change the mode of", p->path);
	}
	/* The blob holds the ACL and caps too, raw: their text is for when only they are set. */
	if (attrs & ATTR_XATTRS) {
		r = xattrs_apply(p, e, path, m->xattrs, m->xattrs_len, reterr);
		if (r < 0)
			return r;
	} else {
		mode_t mode = (attrs & ATTR_MODE) ? m->mode : e->st.st_mode;

		r = (attrs & ATTR_ACL) && !lnk ? acl_apply(e, proc, m->acl, mode) : 0;
		if (r < 0)
			return fail(reterr, r, "set the ACL of", p->path);
		r = (attrs & ATTR_CAPS) ? caps_apply(e, proc, m->caps) : 0;
		if (r < 0)
			return fail(reterr, r, "set the capabilities of", p->path);
	}
	if (attrs & ATTR_MTIME) {
		int64_t s = m->mtime_ns / NSEC, ns = m->mtime_ns % NSEC;
		struct timespec ts[2];

		if (ns < 0) {
			ns += NSEC;
			s--;
		}
		ts[0] = ts[1] = (struct timespec){ .tv_sec = s, .tv_nsec = ns };
		r = path ? utimensat(AT_FDCWD, path, ts, 0) : futimens(e->fd, ts);
		if (r < 0)
			return fail(reterr, -errno, "set the mtime of", p->path);
	}
	if (fstat(e->fd, &e->st) < 0)
		return fail(reterr, -errno, "stat", p->path);
	return 0;
}

/* ---- new objects: a temporary name, then into place ---- */

/* Every attribute @m has. */
static uint32_t meta_attrs(const struct fs_meta *m)
{
	return ATTR_MODE | ATTR_UID | ATTR_GID | ATTR_MTIME | (m->collected & META_OPT);
}

/*
 * Create a temporary object in @dirfd under a fresh name,
 * ".drift-remedy-[TAG-]XXXXXX" with @tag (may be NULL; see struct fs_path),
 * into @tmp: a symlink to @target, or with @target NULL an empty regular
 * file (O_EXCL, 0600). Returns 0 or the file's fd, or -errno.
 */
static int tmp_create(int dirfd, const char *tag, char tmp[TMP_SIZE], const char *target)
{
	static const char chars[] =
		"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	const int flags = O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC;
	uint8_t rnd[TMP_RANDOM];
	int head;

	head = snprintf(tmp, TMP_SIZE, "%s%.*s%s", TMP_PREFIX, FS_TAG_MAX, tag ? tag : "",
			tag && *tag ? "-" : "");
	if (head < 0 || (size_t)head + TMP_RANDOM >= TMP_SIZE)
		return -ENAMETOOLONG;
	for (int i = 0; i < TMP_TRIES; i++) {
		int r;

		if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			return errno ? -errno : -EIO;
		for (size_t j = 0; j < sizeof(rnd); j++)
			tmp[head + (int)j] = chars[rnd[j] % (sizeof(chars) - 1)];
		tmp[head + TMP_RANDOM] = '\0';
		r = target ? symlinkat(target, dirfd, tmp) : openat(dirfd, tmp, flags, 0600);
		if (r >= 0 || errno != EEXIST)
			return r < 0 ? -errno : r;
	}
	return -EEXIST;
}

int fs_clean_temps(const struct fs_path *p, struct diag *reterr)
{
	char prefix[TMP_SIZE];
	struct dirent *de;
	DIR *d;
	int fd, n = 0;

	if (!p->tag || !*p->tag)
		return 0;
	snprintf(prefix, sizeof(prefix), "%s%.*s-", TMP_PREFIX, FS_TAG_MAX, p->tag);
	fd = openat(p->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return fail(reterr, -errno, "list the directory of", p->path);
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (strncmp(de->d_name, prefix, strlen(prefix)) ||
		    strlen(de->d_name) != strlen(prefix) + TMP_RANDOM)
			continue;
		/* Only what drift makes there: a regular file or a symlink. */
		if (fstatat(p->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)))
			continue;
		if (unlinkat(p->dirfd, de->d_name, 0) == 0)
			n++;
	}
	closedir(d);
	if (n)
		fsync(p->dirfd);
	return n;
}

/*
 * Finish the temporary object @tmp, open as @e, in p's directory: @m's
 * metadata, fsync, renamed to p->name as @how says, the directory
 * fsync()ed. Removes @tmp on failure before the rename.
 */
static int tmp_finish(const struct fs_path *p, char *tmp, struct fs_entry *e,
		      const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		      struct diag *reterr)
{
	const struct fs_path tp = { .dirfd = p->dirfd, .name = tmp, .path = p->path };
	int r;

	r = fs_meta_apply(&tp, e, m, meta_attrs(m), reterr);
	if (r < 0)
		goto fail;
	if (!e->opath && fsync(e->fd) < 0) {
		r = -errno;
		fail(reterr, r, "fsync the new", p->path);
		goto fail;
	}
	if (how == FS_PLACE_NEW)
		r = renameat2(p->dirfd, tmp, p->dirfd, p->name, RENAME_NOREPLACE);
	else
		r = renameat(p->dirfd, tmp, p->dirfd, p->name);
	if (r < 0) {
		r = -errno;
		if (r == -EEXIST)
			diag_set(reterr, r, "cannot create '%s': it exists", p->path);
		else
			diag_set(reterr, r, "cannot put the new '%s' in place: %s", p->path,
				 errstr(r));
		goto fail;
	}
	if (fstat(e->fd, &e->st) < 0 || fsync(p->dirfd) < 0)
		return fail(reterr, -errno, "fsync the directory of", p->path);
	if (ret_st)
		*ret_st = e->st;
	return 0;
fail:
	unlinkat(p->dirfd, tmp, 0);
	return r;
}

static int write_all(int fd, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* A new regular file at @p, filled by @bytes or else by copying @src (a regular file's fd). */
static int file_make(const struct fs_path *p, const uint8_t *bytes, size_t len, int src,
		     const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		     struct diag *reterr)
{
	struct fs_entry e = { .fd = -1 };
	char tmp[TMP_SIZE];
	uint8_t *buf = NULL;
	int r;

	e.fd = tmp_create(p->dirfd, p->tag, tmp, NULL);
	if (e.fd < 0)
		return fail(reterr, e.fd, "create a file beside", p->path);
	if (src < 0) {
		r = write_all(e.fd, bytes, len);
	} else {
		buf = malloc(COPY_SIZE);
		r = buf ? 0 : -ENOMEM;
		for (int64_t off = 0; r == 0;) {
			ssize_t n = pread(src, buf, COPY_SIZE, off);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : 0;
				break;
			}
			r = write_all(e.fd, buf, (size_t)n);
			off += n;
		}
		free(buf);
	}
	if (r == 0 && fstat(e.fd, &e.st) < 0)
		r = -errno;
	if (r < 0) {
		fail(reterr, r, "write the new", p->path);
		unlinkat(p->dirfd, tmp, 0);
	} else {
		r = tmp_finish(p, tmp, &e, m, how, ret_st, reterr);
	}
	fs_entry_close(&e);
	return r;
}

int fs_write_file(const struct fs_path *p, const uint8_t *bytes, size_t len,
		  const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		  struct diag *reterr)
{
	return file_make(p, bytes, len, -1, m, how, ret_st, reterr);
}

int fs_make_dir(const struct fs_path *p, const struct fs_meta *m, struct stat *ret_st,
		struct diag *reterr)
{
	struct fs_entry e = { .fd = -1 };
	int r;

	if (mkdirat(p->dirfd, p->name, 0700) < 0)
		return fail(reterr, -errno, "create directory", p->path);
	r = fs_entry_open(p, &e, reterr);
	if (r == 0 && !S_ISDIR(e.st.st_mode))
		r = diag_set(reterr, -ESTALE, "'%s' changed while being created", p->path);
	if (r == 0)
		r = fs_meta_apply(p, &e, m, meta_attrs(m), reterr);
	if (r == 0 && (fsync(e.fd) < 0 || fsync(p->dirfd) < 0)) {
		r = -errno;
		fail(reterr, r, "fsync the new directory", p->path);
	}
	if (r == 0 && ret_st)
		*ret_st = e.st;
	fs_entry_close(&e);
	if (r < 0)
		unlinkat(p->dirfd, p->name, AT_REMOVEDIR); /* ours, and empty: else this fails */
	return r;
}

int fs_make_symlink(const struct fs_path *p, const char *target, size_t target_len,
		    const struct fs_meta *m, enum fs_place how, struct stat *ret_st,
		    struct diag *reterr)
{
	struct fs_entry e = { .fd = -1 };
	char tmp[TMP_SIZE];
	char *t;
	int r;

	if (target_len == 0 || memchr(target, '\0', target_len))
		return diag_set(reterr, -EINVAL, "cannot create symlink '%s': bad target", p->path);
	t = malloc(target_len + 1);
	if (!t)
		return diag_set(reterr, -ENOMEM, "cannot create symlink '%s': out of memory",
				p->path);
	memcpy(t, target, target_len);
	t[target_len] = '\0';
	r = tmp_create(p->dirfd, p->tag, tmp, t);
	free(t);
	if (r < 0)
		return fail(reterr, r, "create a symlink beside", p->path);
	e.fd = openat(p->dirfd, tmp, PATH_FLAGS);
	e.opath = true;
	r = e.fd < 0 || fstat(e.fd, &e.st) < 0 ? -errno : S_ISLNK(e.st.st_mode) ? 0 : -ESTALE;
	if (r < 0) {
		fail(reterr, r, "open the new symlink", p->path);
		unlinkat(p->dirfd, tmp, 0);
	} else {
		r = tmp_finish(p, tmp, &e, m, how, ret_st, reterr);
	}
	fs_entry_close(&e);
	return r;
}

/* ---- moving and removing ---- */

static bool same_object(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       !((a->st_mode ^ b->st_mode) & S_IFMT);
}

/* Is the object at @p still @expect (if not NULL)? Its stat into *@ret_st. */
static int expect_check(const struct fs_path *p, const struct stat *expect, struct stat *ret_st,
			struct diag *reterr)
{
	struct stat st;

	if (fstatat(p->dirfd, p->name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return fail(reterr, -errno, "look at", p->path);
	if (expect && !same_object(&st, expect))
		return diag_set(reterr, -ESTALE, "'%s' is not what was checked: it changed since",
				p->path);
	*ret_st = st;
	return 0;
}

static int dir_sync(const struct fs_path *p, struct diag *reterr)
{
	int r;

	if (fsync(p->dirfd) == 0)
		return 0;
	r = -errno;
	return fail(reterr, r, "fsync the directory of", p->path);
}

/* fs_move() across filesystems: copy @from (a file or symlink, @st) to @to, then unlink it. */
static int move_copy(const struct fs_path *from, const struct fs_path *to, const struct stat *st,
		     struct diag *reterr)
{
	struct fs_entry src = { .fd = -1 };
	struct fs_meta m = { 0 };
	struct stat copy, now;
	char *target = NULL;
	ssize_t n = 0;
	int r;

	r = fs_entry_open(from, &src, reterr);
	if (r == 0 && !same_object(&src.st, st))
		r = diag_set(reterr, -ESTALE, "'%s' changed while being moved", from->path);
	if (r == 0)
		r = fs_meta_read(from, &src, &m, reterr);
	if (r < 0)
		goto out;
	if (S_ISREG(st->st_mode)) {
		r = file_make(to, NULL, 0, src.fd, &m, FS_PLACE_NEW, &copy, reterr);
	} else {
		/* st_size is the target's length: one byte more tells that it grew */
		target = malloc((size_t)src.st.st_size + 1);
		if (!target) {
			r = diag_set(reterr, -ENOMEM, "cannot read symlink '%s': out of memory",
				     from->path);
			goto out;
		}
		n = readlinkat(src.fd, "", target, (size_t)src.st.st_size + 1);
		if (n < 0 || n > src.st.st_size) {
			r = n < 0 ? -errno : -ESTALE;
			fail(reterr, r, "read symlink", from->path);
			goto out;
		}
		r = fs_make_symlink(to, target, (size_t)n, &m, FS_PLACE_NEW, &copy, reterr);
	}
	if (r < 0)
		goto out;
	/* The copy is in place: now, and only if it is still the same, the original goes. */
	r = expect_check(from, st, &now, reterr);
	if (r == 0 && unlinkat(from->dirfd, from->name, 0) < 0) {
		r = -errno;
		diag_set(reterr, r, "cannot remove '%s' after copying it: %s", from->path,
			 errstr(r));
	}
	if (r < 0 && expect_check(to, &copy, &now, NULL) == 0)
		unlinkat(to->dirfd, to->name, 0); /* nothing moved, after all */
out:
	free(target);
	fs_meta_release(&m);
	fs_entry_close(&src);
	return r;
}

int fs_move(const struct fs_path *from, const struct fs_path *to, const struct stat *expect,
	    struct diag *reterr)
{
	struct stat st;
	int r;

	r = expect_check(from, expect, &st, reterr);
	if (r < 0)
		return r;
	if (renameat2(from->dirfd, from->name, to->dirfd, to->name, RENAME_NOREPLACE) < 0) {
		r = -errno;
		if (r == -EEXIST)
			return diag_set(reterr, r, "cannot move '%s' to '%s': it exists",
					from->path, to->path);
		if (r != -EXDEV)
			return diag_set(reterr, r, "cannot move '%s' to '%s': %s", from->path,
					to->path, errstr(r));
		if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
			return diag_set(reterr, r,
					"cannot move %s '%s' to '%s': another filesystem",
					entry_type_name(st.st_mode), from->path, to->path);
		r = move_copy(from, to, &st, reterr);
		if (r < 0)
			return r;
	}
	r = dir_sync(to, reterr);
	return r < 0 ? r : dir_sync(from, reterr);
}

int fs_remove(const struct fs_path *p, const struct stat *expect, struct diag *reterr)
{
	struct stat st;
	int r;

	if (!expect)
		return diag_set(reterr, -EINVAL, "cannot remove '%s': nothing to check it against",
				p->path);
	r = expect_check(p, expect, &st, reterr);
	if (r < 0)
		return r;
	if (unlinkat(p->dirfd, p->name, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0) {
		r = errno == EEXIST ? -ENOTEMPTY : -errno;
		return fail(reterr, r, "remove", p->path);
	}
	return dir_sync(p, reterr);
}

int fs_read_file(const struct fs_entry *e, size_t max, uint8_t **ret_bytes, size_t *ret_len,
		 struct diag *reterr)
{
	size_t len = 0, cap;
	uint8_t *buf, *nbuf;
	int r = 0;

	if (e->opath || !S_ISREG(e->st.st_mode))
		return diag_set(reterr, -EINVAL, "cannot read: not a regular file");
	/* One byte more than the file or @max: reaching it means end of file or too big. */
	cap = ((size_t)e->st.st_size < max ? (size_t)e->st.st_size : max) + 1;
	buf = malloc(cap);
	if (!buf)
		return diag_set(reterr, -ENOMEM, "cannot read: out of memory");
	for (;;) {
		ssize_t n;

		if (len == cap) {
			nbuf = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
			if (!nbuf) {
				r = diag_set(reterr, -ENOMEM, "cannot read: out of memory");
				break;
			}
			buf = nbuf;
			cap *= 2;
		}
		n = pread(e->fd, buf + len, cap - len, (off_t)len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			diag_set(reterr, r, "cannot read: %s", errstr(r));
			break;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = diag_set(reterr, -EFBIG, "cannot read: more than %zu bytes", max);
			break;
		}
	}
	if (r < 0) {
		free(buf);
		return r;
	}
	*ret_bytes = buf;
	*ret_len = len;
	return 0;
}

int fs_mkdirs(int basefd, const char *rel, mode_t mode, struct diag *reterr)
{
	const size_t len = strlen(rel);
	size_t pos = 0, start, n;
	char *work;
	int cur, r;

	if (rel[0] == '/')
		return diag_set(reterr, -EINVAL, "cannot create '%s': not a relative path", rel);
	work = strdup(rel);
	if (!work)
		return diag_set(reterr, -ENOMEM, "cannot create '%s': out of memory", rel);
	cur = openat(basefd, ".", DIR_FLAGS);
	if (cur < 0) {
		r = -errno;
		fail(reterr, r, "open the base directory of", rel);
	}
	while (cur >= 0 && (r = next_component(rel, len, &pos, &start, &n)) != 0) {
		int next;

		if (r < 0) {
			next = diag_set(reterr, r, "cannot create '%s': '.' and '..' are refused",
					rel);
		} else {
			work[start + n] = '\0';
			next = dir_step(cur, work + start, true, mode, rel, start + n, reterr);
		}
		close(cur);
		cur = next;
	}
	free(work);
	return cur;
}
