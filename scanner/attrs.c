/*
 * The optional attributes of one entry, read through a descriptor of it:
 * extended attributes, POSIX ACLs, file capabilities, the SELinux label and
 * the libmagic MIME type. Used by the walker's threads (each with its own
 * struct scan_attrs) and by scan_mime_file() for the CLI.
 *
 * Components:
 *  - xattrs_read(): list, sort, get every value (retrying ERANGE: a value or
 *    the list may grow between the two calls; a name removed meanwhile is
 *    skipped), and build the blob of common/entry.h. Real fds go through
 *    flistxattr/fgetxattr; O_PATH fds (symlinks, FIFOs, sockets, devices,
 *    which are never opened for reading) through listxattr/getxattr on
 *    "/proc/self/fd/N". Following that magic link stops at the object the
 *    fd holds, so a symlink's own attributes are read, never its target's
 *    (llistxattr there would address the procfs link itself: ENOTSUP).
 *  - label_read(): security.selinux, from the blob when xattrs were read too.
 *  - acl_read(): libacl only reads ACLs by path: "/proc/self/fd/N" again,
 *    so long paths and renames are no problem. Ids are numeric (the text
 *    must not depend on the user database, and getpwuid() is not
 *    thread-safe).
 *  - caps: cap_get_fd() on a regular file's real fd.
 *  - mime: magic_descriptor() on a regular file's real fd, from offset 0.
 *    libmagic 5.44 reads from the current offset, restores it afterwards
 *    and does not close the fd (checked), so the walker may hand in the fd
 *    it just hashed with.
 *  - scan_mime_file(): the single-threaded helper, opening its file
 *    component by component.
 * Missing support (ENOTSUP: a filesystem without xattrs or ACLs) and
 * missing attributes (ENODATA) are "collected and absent".
 */
#include "scanner/attrs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <acl/libacl.h>
#include <magic.h>
#include <sys/acl.h>
#include <sys/capability.h>

#include "common/diag.h"
#include "common/entry.h"
#include "scanner/scanner.h"
#include "scanner/sys.h"

#include "common/banned.h"

#define MAGIC_FLAGS                                                                         \
	(MAGIC_MIME_TYPE | MAGIC_ERROR | MAGIC_NO_CHECK_COMPRESS | MAGIC_NO_COMPRESS_FORK | \
	 MAGIC_NO_CHECK_TAR | MAGIC_NO_CHECK_CDF)
#define ACL_TEXT_FLAGS (TEXT_ABBREVIATE | TEXT_NUMERIC_IDS)
#define XATTR_TRIES    8
#define PROC_FD_MAX    32

int scan_magic_open(struct magic_set **ret_magic, struct diag *reterr)
{
	size_t bytes = SCAN_MAGIC_BYTES_MAX;
	magic_t m = magic_open(MAGIC_FLAGS);
	int r;

	if (!m) {
		r = errno ? -errno : -ENOMEM;
		return diag_set(reterr, r, "cannot initialise libmagic: %s", strerror(-r));
	}
	(void)magic_setparam(m, MAGIC_PARAM_BYTES_MAX, &bytes);
	if (magic_load(m, NULL) < 0) {
		r = magic_errno(m) > 0 ? -magic_errno(m) : -ENOENT;
		diag_set(reterr, r, "cannot load the libmagic database: %s",
			 magic_error(m) ? magic_error(m) : strerror(-r));
		magic_close(m);
		return r;
	}
	*ret_magic = m;
	return 0;
}

const char *scan_magic_buffer(struct magic_set *magic, const void *buf, size_t len)
{
	return magic_buffer(magic, buf, len);
}

void scan_magic_close(struct magic_set *magic)
{
	if (magic)
		magic_close(magic);
}

static int grow(void *bufp, size_t *cap, size_t need)
{
	void **buf = bufp;
	size_t n = *cap ? *cap : 256;
	void *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static bool unsupported(int r)
{
	return r == -ENOTSUP || r == -EOPNOTSUPP;
}

static void note_err(struct entry *e, int r)
{
	if (!e->err)
		e->err = -r;
}

static ssize_t x_list(int fd, const char *path, char *buf, size_t len)
{
	return path ? scan_sys_listxattr(path, buf, len) : scan_sys_flistxattr(fd, buf, len);
}

static ssize_t x_get(int fd, const char *path, const char *name, void *buf, size_t len)
{
	return path ? scan_sys_getxattr(path, name, buf, len)
		    : scan_sys_fgetxattr(fd, name, buf, len);
}

/*
 * Read the value of @name into a->val (a->val_cap >= 1 so that a size-0
 * buffer never turns the call into a size query). Returns its length or
 * -errno (-ENODATA: there is no such attribute, or not any more).
 */
static ssize_t value_read(struct scan_attrs *a, int fd, const char *path, const char *name)
{
	if (grow(&a->val, &a->val_cap, 4096) < 0)
		return -ENOMEM;
	for (int i = 0; i < XATTR_TRIES; i++) {
		ssize_t n = x_get(fd, path, name, a->val, a->val_cap);

		if (n != -ERANGE)
			return n;
		n = x_get(fd, path, name, NULL, 0); /* it grew since: ask its size */
		if (n < 0)
			return n;
		if (grow(&a->val, &a->val_cap, (size_t)n + 1) < 0)
			return -ENOMEM;
	}
	return -EAGAIN;
}

static int names_cmp(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Build the xattrs blob in a->blob; returns its length or -errno. */
static ssize_t xattrs_read(struct scan_attrs *a, int fd, const char *path)
{
	size_t count = 0, off = 0, len = 0;
	ssize_t n = -EAGAIN;

	if (grow(&a->list, &a->list_cap, 1024) < 0)
		return -ENOMEM;
	for (int i = 0; i < XATTR_TRIES; i++) {
		n = x_list(fd, path, a->list, a->list_cap);
		if (n != -ERANGE)
			break;
		n = x_list(fd, path, NULL, 0);
		if (n < 0)
			break;
		if (grow(&a->list, &a->list_cap, (size_t)n + 1) < 0)
			return -ENOMEM;
		n = -EAGAIN;
	}
	if (unsupported((int)n))
		return 0;
	if (n < 0)
		return n;
	len = (size_t)n;

	for (size_t i = 0; i < len; i += strlen(a->list + i) + 1)
		count++;
	if (count == 0)
		return 0;
	if (grow(&a->names, &a->names_cap, count * sizeof(*a->names)) < 0)
		return -ENOMEM;
	count = 0;
	for (size_t i = 0; i < len; i += strlen(a->list + i) + 1)
		if (a->list[i])
			a->names[count++] = a->list + i;
	qsort(a->names, count, sizeof(*a->names), names_cmp);

	for (size_t i = 0; i < count; i++) {
		size_t nl = strlen(a->names[i]);
		ssize_t vl = value_read(a, fd, path, a->names[i]);

		if (vl == -ENODATA)
			continue; /* removed since the listing */
		if (vl < 0)
			return vl;
		if (grow(&a->blob, &a->blob_cap, off + entry_xattrs_pair_size(nl, (size_t)vl)) < 0)
			return -ENOMEM;
		off += entry_xattrs_put(a->blob + off, a->names[i], nl, a->val, (size_t)vl);
	}
	return (ssize_t)off;
}

/* Copy a label value into a->label, without its trailing NUL. */
static int label_set(struct scan_attrs *a, const uint8_t *v, size_t len)
{
	if (len > 0 && v[len - 1] == '\0')
		len--;
	if (grow(&a->label, &a->label_cap, len + 1) < 0)
		return -ENOMEM;
	memcpy(a->label, v, len);
	a->label[len] = '\0';
	return 0;
}

/* The label into a->label: 1 present, 0 absent, or -errno. */
static int label_read(struct scan_attrs *a, int fd, const char *path, const struct entry *e)
{
	const uint8_t *v;
	size_t vl;
	ssize_t n;
	int r;

	if (e->collected & ATTR_XATTRS) {
		r = entry_xattrs_get(e->xattrs, e->xattrs_len, "security.selinux", &v, &vl);
		if (r <= 0)
			return r;
		return label_set(a, v, vl) < 0 ? -ENOMEM : 1;
	}
	n = value_read(a, fd, path, "security.selinux");
	if (n == -ENODATA || unsupported((int)n))
		return 0;
	if (n < 0)
		return (int)n;
	return label_set(a, a->val, (size_t)n) < 0 ? -ENOMEM : 1;
}

/*
 * Is the attribute @name there? From the blob when the xattrs were read,
 * else with one size query: much cheaper than libacl's path lookup through
 * procfs, and most files have no ACL. Returns 1, 0 or -errno.
 */
static int xattr_exists(int fd, const char *path, const struct entry *e, const char *name)
{
	const uint8_t *v;
	size_t vl;
	ssize_t n;

	if (e->collected & ATTR_XATTRS)
		return entry_xattrs_get(e->xattrs, e->xattrs_len, name, &v, &vl);
	n = x_get(fd, path, name, NULL, 0);
	if (n == -ENODATA || unsupported((int)n))
		return 0;
	return n < 0 ? (int)n : 1;
}

/* Has the object an ACL stored (access, or default for a directory)? 1, 0 or -errno. */
static int acl_exists(int fd, const char *path, bool dir, const struct entry *e)
{
	int r = xattr_exists(fd, path, e, "system.posix_acl_access");

	if (r == 0 && dir)
		r = xattr_exists(fd, path, e, "system.posix_acl_default");
	return r;
}

/* The ACL text into *ret_text (NULL when the mode bits say it all), or -errno. */
static int acl_read(const char *path, bool dir, char **ret_text)
{
	acl_t acc, def = NULL;
	char *t1 = NULL, *t2 = NULL, *text = NULL;
	int eq, r = 0;

	acc = acl_get_file(path, ACL_TYPE_ACCESS);
	if (!acc) {
		r = -errno;
		if (unsupported(r)) {
			*ret_text = NULL;
			return 0;
		}
		return r;
	}
	eq = acl_equiv_mode(acc, NULL);
	if (eq < 0) {
		r = -EINVAL;
		goto out;
	}
	if (dir) {
		def = acl_get_file(path, ACL_TYPE_DEFAULT);
		if (!def && !unsupported(-errno)) {
			r = -errno;
			goto out;
		}
		if (def && acl_entries(def) <= 0) {
			acl_free(def);
			def = NULL;
		}
	}
	if (eq == 0 && !def)
		goto out; /* nothing beyond the mode bits */

	t1 = acl_to_any_text(acc, NULL, ',', ACL_TEXT_FLAGS);
	if (def)
		t2 = acl_to_any_text(def, "default:", ',', ACL_TEXT_FLAGS);
	if (!t1 || (def && !t2)) {
		r = -ENOMEM;
		goto out;
	}
	if (t2) {
		size_t l1 = strlen(t1), l2 = strlen(t2);

		text = malloc(l1 + 1 + l2 + 1);
		if (!text) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(text, t1, l1);
		text[l1] = ',';
		memcpy(text + l1 + 1, t2, l2 + 1);
	} else {
		text = strdup(t1);
		if (!text) {
			r = -ENOMEM;
			goto out;
		}
	}
out:
	acl_free(t1);
	acl_free(t2);
	acl_free(acc);
	if (def)
		acl_free(def);
	if (r == 0)
		*ret_text = text;
	return r;
}

/* cap_to_text() of a regular file's capabilities into *ret_text (NULL: none), or -errno. */
static int caps_read(int fd, char **ret_text)
{
	cap_t c = cap_get_fd(fd);
	char *t;

	if (!c) {
		int r = -errno;

		if (r == -ENODATA || unsupported(r)) {
			*ret_text = NULL;
			return 0;
		}
		return r;
	}
	t = cap_to_text(c, NULL);
	cap_free(c);
	if (!t)
		return -ENOMEM;
	*ret_text = t;
	return 0;
}

/* magic_descriptor() from offset 0; returns 0 and the borrowed string, or -errno. */
static int mime_read(magic_t m, int fd, const char **ret_mime)
{
	int64_t off = scan_sys_lseek(fd, 0, SEEK_SET);
	const char *s;

	if (off < 0)
		return (int)off;
	s = magic_descriptor(m, fd);
	if (!s) {
		int err = magic_errno(m);

		return err > 0 ? -err : -EIO;
	}
	*ret_mime = s;
	return 0;
}

bool scan_attrs_need_fd(unsigned want, mode_t mode)
{
	if (want & (SCAN_XATTRS | SCAN_SELINUX))
		return true;
	if (S_ISLNK(mode))
		return false;
	if (want & SCAN_ACL)
		return true;
	return S_ISREG(mode) && (want & (SCAN_CAPS | SCAN_MIME));
}

int scan_attrs_collect(struct scan_attrs *a, int fd, bool opath, mode_t mode, unsigned want,
		       struct entry *e)
{
	char proc[PROC_FD_MAX] = "";
	const char *path = NULL;
	const bool reg = S_ISREG(mode);
	int r;

	scan_attrs_clear(a);
	if (fd >= 0) {
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (opath)
			path = proc; /* f*xattr() refuse O_PATH fds (EBADF) */
	}

	if (want & SCAN_XATTRS) {
		ssize_t n = xattrs_read(a, fd, path);

		if (n == -ENOMEM)
			return -ENOMEM;
		if (n < 0) {
			note_err(e, (int)n);
		} else {
			e->xattrs = n ? a->blob : NULL;
			e->xattrs_len = (size_t)n;
			e->collected |= ATTR_XATTRS;
		}
	}
	if (want & SCAN_SELINUX) {
		r = label_read(a, fd, path, e);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			note_err(e, r);
		} else {
			e->selinux = r ? a->label : NULL;
			e->collected |= ATTR_SELINUX;
		}
	}
	if (want & SCAN_ACL) {
		r = S_ISLNK(mode) ? 0 : acl_exists(fd, path, S_ISDIR(mode), e);
		if (r > 0)
			r = acl_read(proc, S_ISDIR(mode), &a->acl);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			note_err(e, r);
		} else {
			e->acl = a->acl;
			e->collected |= ATTR_ACL;
		}
	}
	if (want & SCAN_CAPS) {
		/* With the xattrs at hand, most files need no libcap call at all. */
		r = reg && (!(e->collected & ATTR_XATTRS) ||
			    xattr_exists(fd, path, e, "security.capability") > 0)
			    ? caps_read(fd, &a->caps)
			    : 0;
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			note_err(e, r);
		} else {
			e->caps = a->caps;
			e->collected |= ATTR_CAPS;
		}
	}
	if ((want & SCAN_MIME) && a->magic) {
		const char *mime = NULL;

		r = reg ? mime_read(a->magic, fd, &mime) : 0;
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			note_err(e, r);
		} else {
			e->mime = mime; /* libmagic's buffer: valid until its next call */
			e->collected |= ATTR_MIME;
		}
	}
	return 0;
}

void scan_attrs_clear(struct scan_attrs *a)
{
	free(a->acl);
	a->acl = NULL;
	if (a->caps)
		cap_free(a->caps);
	a->caps = NULL;
}

void scan_attrs_release(struct scan_attrs *a)
{
	if (!a)
		return;
	scan_attrs_clear(a);
	free(a->list);
	free(a->names);
	free(a->val);
	free(a->blob);
	free(a->label);
	scan_magic_close(a->magic);
	memset(a, 0, sizeof(*a));
}

/* ---- scan_mime_file() ---- */

/*
 * Open the regular file @path component by component from @rootfd (< 0:
 * "/"; a relative @path: the working directory), never following a symlink
 * and never going up ("..": EINVAL), so no lookup leaves @rootfd. Returns
 * the fd or -errno.
 */
static int open_regular(int rootfd, const char *path)
{
	const int dflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	const int fflags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	const char *p = path;
	char *comp = NULL;
	size_t cap = 0;
	struct stat st;
	int cur = AT_FDCWD, r;

	if (*p == '/') {
		cur = scan_sys_openat(rootfd >= 0 ? rootfd : AT_FDCWD, rootfd >= 0 ? "." : "/",
				      dflags);
		if (cur < 0)
			return cur;
	}
	for (;;) {
		size_t len;
		bool last;
		int next;

		while (*p == '/')
			p++;
		len = strcspn(p, "/");
		if (len == 0) {
			r = -EISDIR; /* "" or a trailing slash: not a file */
			goto out;
		}
		if (grow(&comp, &cap, len + 1) < 0) {
			r = -ENOMEM;
			goto out;
		}
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (!strcmp(comp, "..")) {
			r = -EINVAL; /* keys are normalized: never above the root */
			goto out;
		}
		p += len;
		last = *p == '\0';
		if (last) {
			/* Look before opening: a FIFO or a device is never opened. */
			r = scan_sys_fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW);
			if (r < 0)
				goto out;
			if (!S_ISREG(st.st_mode)) {
				r = S_ISLNK(st.st_mode) ? -ELOOP : -EINVAL;
				goto out;
			}
		}
		next = scan_sys_openat(cur, comp, last ? fflags : dflags);
		if (next == -ENOTDIR &&
		    scan_sys_fstatat(cur, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISLNK(st.st_mode))
			next = -ELOOP; /* O_DIRECTORY|O_NOFOLLOW on a symlink says ENOTDIR */
		if (cur >= 0)
			close(cur);
		cur = next;
		if (cur < 0) {
			r = cur;
			goto out;
		}
		if (last)
			break;
	}
	r = scan_sys_fstat(cur, &st);
	if (r == 0 && !S_ISREG(st.st_mode))
		r = -EINVAL; /* swapped between the look and the open */
	if (r == 0) {
		free(comp);
		return cur;
	}
out:
	if (cur >= 0)
		close(cur);
	free(comp);
	return r;
}

int scan_mime_file(int rootfd, const char *path, char **ret_mime, struct diag *reterr)
{
	magic_t m = NULL;
	const char *s;
	char *copy;
	int fd, r;

	if (!path || !*path)
		return diag_set(reterr, -EINVAL, "empty path");
	fd = open_regular(rootfd, path);
	if (fd < 0) {
		if (fd == -ELOOP || fd == -EINVAL)
			return diag_set(reterr, fd, "cannot classify '%s': not a regular file",
					path);
		return diag_set(reterr, fd, "cannot open '%s': %s", path, strerror(-fd));
	}
	r = scan_magic_open(&m, reterr);
	if (r < 0)
		goto out;
	r = mime_read(m, fd, &s);
	if (r < 0) {
		diag_set(reterr, r, "cannot classify '%s': %s", path,
			 magic_error(m) ? magic_error(m) : strerror(-r));
		goto out;
	}
	copy = strdup(s);
	if (!copy) {
		r = -ENOMEM;
		goto out;
	}
	*ret_mime = copy;
out:
	scan_magic_close(m);
	close(fd);
	return r;
}
