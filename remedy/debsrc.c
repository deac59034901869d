/*
 * A package file's bytes from its .deb, checked against dpkg's MD5 sum.
 *
 * Steps of deb_fetch():
 *  - dpkg_sum(): the package in var/lib/dpkg/status under the root (by
 *    name:arch, or the installed one of that name), its architecture, and
 *    the sum dpkg_pkg_files() hands out for the canonical @path. This comes
 *    first: without a sum there is nothing to check, so no .deb is fetched.
 *  - deb_open(): NAME_VERSION_ARCH.deb (the epoch's ':' as "%3a") in the
 *    cache directory, opened O_NOFOLLOW; else, when allowed, deb_download():
 *    `apt-get download NAME:ARCH=VERSION` in a private mkdtemp() directory,
 *    the .deb opened then the directory removed (we keep the open file).
 *  - deb_member(): `dpkg-deb --fsys-tarfile /dev/stdin` with the opened .deb
 *    as its stdin (the file checked is the file read), no shell; its stdout
 *    parsed as tar by tar_find() (ustar prefix, GNU 'L' long names, pax
 *    "path="), its stderr kept in a memfd for the message when it fails. A
 *    hard-linked member is taken from its target in a second run.
 *  - the member's MD5 (libcrypto) against dpkg's: a mismatch is refused.
 *
 * We only read from pipes, so SIGPIPE cannot reach us; the children get
 * SIGPIPE's default action back (the parent may ignore it), so a child
 * whose reader went away dies of it, which is how one we stop early ends
 * (we close the pipe, then kill and reap it).
 */
#include "remedy/debsrc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/diag.h"
#include "common/strbuf.h"
#include "scanner/dpkg.h"
#include "scanner/probe.h"
#include "common/banned.h"

extern char **environ;

#define APT_ARCHIVES "var/cache/apt/archives"
#define TAR_BLOCK    512
#define TAR_LONG_MAX (64 * 1024) /* a GNU long name or a pax header */

/* ---- dpkg's sum ---- */

struct sum_find {
	const char *path;
	bool found, has_md5;
	uint8_t md5[16];
};

static int sum_find_cb(const struct dpkg_pkg *pkg, const struct dpkg_file *f, void *userdata)
{
	struct sum_find *sf = userdata;

	if (strcmp(f->path, sf->path) != 0)
		return 0;
	sf->found = true;
	sf->has_md5 = f->has_md5;
	memcpy(sf->md5, f->md5, sizeof(sf->md5));
	return -ECANCELED; /* found: stop (dpkg_pkg_files() returns it) */
}

static bool status_installed(const char *status)
{
	const char *last = strrchr(status, ' ');

	return !strcmp(last ? last + 1 : status, "installed");
}

/* Package @name (@arch, or the installed one when NULL): its arch in *@ret_arch and its sum. */
static int dpkg_sum(int rootfd, const char *name, const char *arch, const char *path,
		    char **ret_arch, uint8_t ret_md5[16], struct diag *reterr)
{
	struct sum_find sf = { .path = path };
	const struct dpkg_pkg *p = NULL;
	struct dpkg_db *db = NULL;
	size_t i, n;
	int r;

	r = dpkg_db_load(rootfd, NULL, NULL, &db, reterr);
	if (r < 0)
		return r;
	for (i = 0, n = dpkg_db_count(db); i < n; i++) {
		p = dpkg_db_get(db, i);
		if (!strcmp(p->name, name) &&
		    (arch ? !strcmp(p->arch, arch) : status_installed(p->status)))
			break;
	}
	if (i == n) {
		r = diag_set(reterr, -ENOENT, "package %s%s%s is not installed", name,
			     arch ? ":" : "", arch ? arch : "");
		goto out;
	}
	r = dpkg_pkg_files(db, i, sum_find_cb, &sf, reterr);
	if (r < 0 && r != -ECANCELED)
		goto out;
	if (!sf.found) {
		r = diag_set(reterr, -ENOENT, "%s is not a file of package %s", path, name);
		goto out;
	}
	if (!sf.has_md5) {
		r = diag_set(reterr, -ENODATA, "dpkg recorded no sum of %s (package %s)", path,
			     name);
		goto out;
	}
	*ret_arch = strdup(*p->arch ? p->arch : (arch ? arch : ""));
	if (!*ret_arch) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	memcpy(ret_md5, sf.md5, 16);
	r = 0;
out:
	dpkg_db_free(db);
	return r;
}

/* ---- running a command ---- */

/*
 * Start @argv (found in PATH, no shell) with stdin @in and stdout @out (-1:
 * /dev/null), stderr into a new memfd (*@ret_errfd), in directory @dir
 * when not NULL. Returns 0 or -errno (posix_spawnp()'s: -ENOENT when the
 * command is not found).
 */
static int spawn(const char *const argv[], int in, int out, const char *dir, pid_t *ret_pid,
		 int *ret_errfd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, pipe_only;
	int errfd, r;

	errfd = memfd_create("drift-spawn-stderr", MFD_CLOEXEC);
	if (errfd < 0)
		return -errno;
	sigemptyset(&none);
	sigemptyset(&pipe_only);
	sigaddset(&pipe_only, SIGPIPE);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &pipe_only);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_init(&fa);
	if (in >= 0)
		posix_spawn_file_actions_adddup2(&fa, in, STDIN_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (out >= 0)
		posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	else
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errfd, STDERR_FILENO);
	if (dir)
		posix_spawn_file_actions_addchdir_np(&fa, dir);
	/* posix_spawnp() takes char *const []: it does not write them */
	r = posix_spawnp(ret_pid, argv[0], &fa, &attr, (char *const *)(uintptr_t)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r) {
		close(errfd);
		return -r;
	}
	*ret_errfd = errfd;
	return 0;
}

/*
 * Reap @pid and close @errfd. Returns 0 when it exited 0; else -EIO with
 * "@what failed: " and the first line of its stderr, or how it ended.
 */
static int spawn_wait(pid_t pid, int errfd, const char *what, struct diag *reterr)
{
	char err[4096];
	const char *line;
	ssize_t n;
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			close(errfd);
			return diag_set(reterr, -EIO, "%s: cannot wait: %s", what, strerror(errno));
		}
	n = pread(errfd, err, sizeof(err) - 1, 0);
	close(errfd);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	/* its first error line ("E: " for apt, before its warnings), else its first line */
	err[n > 0 ? n : 0] = '\0';
	line = strstr(err, "E: ");
	line = line && (line == err || line[-1] == '\n') ? line : err;
	if (*line)
		return diag_set(reterr, -EIO, "%s failed: %.*s", what, (int)strcspn(line, "\n"),
				line);
	if (WIFSIGNALED(status))
		return diag_set(reterr, -EIO, "%s killed by signal %d", what, WTERMSIG(status));
	return diag_set(reterr, -EIO, "%s failed: exit status %d", what, WEXITSTATUS(status));
}

/* Stop @pid early (its stdout already closed) and reap it; its status does not matter. */
static void spawn_kill(pid_t pid, int errfd)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	close(errfd);
}

/* ---- the .deb ---- */

/* Remove the private download directory @dir: its files, its (empty) subdirectories, itself. */
static void dir_remove(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d) {
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno == EISDIR)
					unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		closedir(d);
	}
	rmdir(dir);
}

/* The one *.deb in @dir, opened (-ENOENT when none). */
static int dir_open_deb(const char *dir)
{
	struct dirent *de;
	size_t len;
	int fd = -ENOENT;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while (fd < 0 && (de = readdir(d))) {
		len = strlen(de->d_name);
		if (len <= 4 || strcmp(de->d_name + len - 4, ".deb") != 0)
			continue;
		fd = openat(dirfd(d), de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
	}
	closedir(d);
	return fd;
}

/* `apt-get download @spec` into a private directory: the .deb opened in *@ret_fd. */
static int deb_download(const char *spec, int *ret_fd, struct diag *reterr)
{
	const char *argv[] = { "apt-get", "download", spec, NULL };
	char what[256], dir[] = "/var/tmp/drift-deb.XXXXXX";
	pid_t pid;
	int errfd, fd, r;

	snprintf(what, sizeof(what), "apt-get download %s", spec);
	if (!mkdtemp(dir))
		return diag_set(reterr, -ENOENT, "%s: cannot create a directory: %s", what,
				strerror(errno));
	r = spawn(argv, -1, -1, dir, &pid, &errfd);
	if (r < 0) {
		r = diag_set(reterr, -ENOENT, "%s: cannot run: %s", what, strerror(-r));
		goto out;
	}
	r = spawn_wait(pid, errfd, what, reterr);
	if (r < 0) {
		r = -ENOENT; /* the message is spawn_wait()'s */
		goto out;
	}
	fd = dir_open_deb(dir);
	if (fd < 0) {
		r = diag_set(reterr, -ENOENT, "%s: no .deb downloaded: %s", what, strerror(-fd));
		goto out;
	}
	*ret_fd = fd;
	r = 0;
out:
	dir_remove(dir);
	return r;
}

/* An absolute name of the root for messages: its /proc/self/fd link, or "the root". */
static int root_name(int rootfd, struct strbuf *out)
{
	char link[64], target[4096];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", rootfd);
	n = readlink(link, target, sizeof(target));
	if (n <= 0 || (size_t)n >= sizeof(target) || target[0] != '/')
		return strbuf_adds(out, "<root>");
	if (n == 1) /* "/" */
		return 0;
	return strbuf_add(out, target, (size_t)n);
}

/*
 * Open the .deb of @name @version @arch: in the cache, else downloaded when
 * allowed. Its path (or, downloaded, the command) in *@ret_origin.
 */
static int deb_open(const struct deb_source *src, const char *name, const char *version,
		    const char *arch, int *ret_fd, char **ret_origin, struct diag *reterr)
{
	struct strbuf file = STRBUF_INIT, origin = STRBUF_INIT, spec = STRBUF_INIT;
	const char *colon = strchr(version, ':');
	bool any_arch = !*arch || !strcmp(arch, "all");
	struct stat st;
	int fd = -1, r;

	/*
	 * @file: apt's name, the epoch's ':' quoted as "%3a" (under the root:
	 * the path below it); @origin: where it is, for messages.
	 */
	r = strbuf_addf(&file, "%s%s_%.*s%s%s_%s.deb", src->cachedir ? "" : APT_ARCHIVES "/", name,
			colon ? (int)(colon - version) : 0, version, colon ? "%3a" : "",
			colon ? colon + 1 : version, arch);
	if (r >= 0)
		r = src->cachedir ? strbuf_adds(&origin, src->cachedir)
				  : root_name(src->rootfd, &origin);
	if (r >= 0)
		r = strbuf_addf(&origin, "/%s", file.buf);
	/* an "all" package is fetched by its name alone */
	if (r >= 0)
		r = strbuf_addf(&spec, "%s%s%s=%s", name, any_arch ? "" : ":", any_arch ? "" : arch,
				version);
	if (r < 0) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}

	if (src->cachedir) {
		fd = open(origin.buf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
	} else {
		fd = probe_open(src->rootfd, file.buf, O_RDONLY | O_NOFOLLOW);
		r = fd < 0 ? fd : 0;
	}
	if (r == -ENOENT && src->download) {
		r = deb_download(spec.buf, &fd, reterr);
		if (r < 0)
			goto out;
		strbuf_reset(&origin);
		if (strbuf_addf(&origin, "apt-get download %s", spec.buf) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
	} else if (r == -ENOENT) {
		r = diag_set(reterr, -ENOENT, "no %s (fetch it with: apt-get download %s)",
			     origin.buf, spec.buf);
		goto out;
	} else if (r < 0) {
		r = diag_set(reterr, r, "cannot open %s: %s", origin.buf, strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		r = diag_set(reterr, -ENOENT, "%s is not a regular file", origin.buf);
		goto out;
	}
	*ret_origin = strbuf_detach(&origin, NULL);
	if (!*ret_origin) {
		r = diag_set(reterr, -ENOMEM, "out of memory");
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	strbuf_release(&file);
	strbuf_release(&origin);
	strbuf_release(&spec);
	return r;
}

/* ---- tar ---- */

/* Read up to @n bytes: fewer only at the end of the stream. Returns the count or -errno. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t done = 0;
	ssize_t k;

	while (done < n) {
		k = read(fd, (char *)buf + done, n - done);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			break;
		done += (size_t)k;
	}
	return (ssize_t)done;
}

/* Read exactly @n bytes (NULL @buf: discard them); -EIO at a premature end. */
static int read_exact(int fd, void *buf, size_t n)
{
	char scratch[16384];
	size_t chunk;
	ssize_t k;

	while (n > 0) {
		chunk = buf || n < sizeof(scratch) ? n : sizeof(scratch);
		k = read_full(fd, buf ? buf : scratch, chunk);
		if (k < 0)
			return (int)k;
		if ((size_t)k < chunk)
			return -EIO;
		n -= chunk;
	}
	return 0;
}

static size_t tar_padded(uint64_t size)
{
	return (size_t)((size + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK);
}

/* A numeric field: octal, or GNU base-256 (high bit of the first byte set). -EIO when bad. */
static int tar_number(const unsigned char *p, size_t n, uint64_t *ret)
{
	uint64_t v = 0;
	size_t i = 0;

	if (p[0] & 0x80) {
		for (v = p[0] & 0x7f, i = 1; i < n; i++) {
			if (v >> 55)
				return -EIO;
			v = v << 8 | p[i];
		}
		*ret = v;
		return 0;
	}
	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] >= '0' && p[i] <= '7'; i++) {
		if (v >> 60)
			return -EIO;
		v = v << 3 | (uint64_t)(p[i] - '0');
	}
	if (i < n && p[i] != ' ' && p[i] != '\0')
		return -EIO;
	*ret = v;
	return 0;
}

static int tar_checksum_ok(const unsigned char *b)
{
	uint64_t want, sum = 0;

	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	return tar_number(b + 148, 8, &want) == 0 && want == sum;
}

/* The "path" record of a pax extended header @h (@n bytes), copied into *@ret (NULL if none). */
static int pax_path(const char *h, size_t n, char **ret)
{
	const char *rec = h, *end = h + n, *kv;
	size_t len;

	while (rec < end) {
		len = 0;
		for (kv = rec; kv < end && *kv >= '0' && *kv <= '9' && len < n; kv++)
			len = len * 10 + (size_t)(*kv - '0');
		if (kv >= end || *kv != ' ' || len > (size_t)(end - rec) || kv >= rec + len)
			return -EIO;
		kv++;
		if ((size_t)(rec + len - kv) > 5 && !memcmp(kv, "path=", 5)) {
			free(*ret);
			*ret = strndup(kv + 5, (size_t)(rec + len - 1 - (kv + 5)));
			if (!*ret)
				return -ENOMEM;
		}
		rec += len;
	}
	return 0;
}

/* A member's name without its leading "./" or "/": "usr/bin/x". */
static const char *tar_name_strip(const char *name)
{
	for (;;) {
		if (name[0] == '.' && name[1] == '/')
			name += 2;
		else if (name[0] == '/')
			name++;
		else
			return name;
	}
}

/* Whether member @name is @want, or @want_usr (a "usr/" path without it: "bin/x"). */
static bool tar_name_matches(const char *name, const char *want, const char *want_usr)
{
	name = tar_name_strip(name);
	return !strcmp(name, want) || (want_usr && !strcmp(name, want_usr));
}

/*
 * Look for the member @want (or @want_usr) in the tar stream @fd. Returns
 * 1 with its bytes (at most @max), or with *@ret_link when it is a hard
 * link (to *@ret_link: a member name); 0 at the end of the archive without
 * it; -EFBIG, -ENOMEM, -EIO (a malformed or truncated stream).
 */
static int tar_find(int fd, const char *want, const char *want_usr, size_t max, uint8_t **ret,
		    size_t *ret_len, char **ret_link)
{
	unsigned char b[TAR_BLOCK];
	char *longname = NULL, *longlink = NULL, *data = NULL, **into;
	char name[256 + 1 + 100 + 1];
	uint64_t size;
	ssize_t k;
	int r;

	for (;;) {
		k = read_full(fd, b, TAR_BLOCK);
		if (k == 0 || (k == TAR_BLOCK && !b[0] && !memcmp(b, b + 1, TAR_BLOCK - 1))) {
			r = 0;
			break;
		}
		r = k < 0 ? (int)k : -EIO;
		if (k < TAR_BLOCK || !tar_checksum_ok(b) || tar_number(b + 124, 12, &size) < 0)
			break;
		if (b[156] == 'L' || b[156] == 'K' || b[156] == 'x') {
			/* the name, link target or pax records of the next member */
			if (size > TAR_LONG_MAX)
				break;
			data = malloc(tar_padded(size) + 1);
			r = data ? read_exact(fd, data, tar_padded(size)) : -ENOMEM;
			if (r < 0)
				break;
			data[size] = '\0';
			into = b[156] == 'K' ? &longlink : &longname;
			if (b[156] == 'x') {
				r = pax_path(data, size, &longname);
				free(data);
			} else {
				free(*into);
				*into = data;
			}
			data = NULL;
			if (r < 0)
				break;
			continue;
		}
		if (!memcmp(b + 257, "ustar\0", 6) && b[345])
			snprintf(name, sizeof(name), "%.155s/%.100s", b + 345, b);
		else
			snprintf(name, sizeof(name), "%.100s", b);
		if ((b[156] == '0' || b[156] == '\0' || b[156] == '7' || b[156] == '1') &&
		    tar_name_matches(longname ? longname : name, want, want_usr)) {
			r = 1;
			if (b[156] == '1') {
				snprintf(name, sizeof(name), "%.100s", b + 157);
				*ret_link = longlink ? longlink : strdup(name);
				longlink = NULL;
				if (!*ret_link)
					r = -ENOMEM;
				break;
			}
			if (size > max) {
				r = -EFBIG;
				break;
			}
			data = malloc(size ? size : 1);
			r = data ? read_exact(fd, data, size) : -ENOMEM;
			if (r == 0) {
				*ret = (uint8_t *)data;
				*ret_len = size;
				data = NULL;
				r = 1;
			}
			break;
		}
		free(longname);
		free(longlink);
		longname = longlink = NULL;
		r = read_exact(fd, NULL, tar_padded(size));
		if (r < 0)
			break;
	}
	free(data);
	free(longname);
	free(longlink);
	return r;
}

/*
 * The member @want (or @want_usr) of the .deb open at @debfd (@deb names
 * it), via `dpkg-deb --fsys-tarfile`: 1 with its bytes or its hard link's
 * target (see tar_find()), or -errno with a message (-ENOENT: no member).
 */
static int deb_member(int debfd, const char *deb, const char *want, const char *want_usr,
		      size_t max, uint8_t **ret, size_t *ret_len, char **ret_link,
		      struct diag *reterr)
{
	static const char *const argv[] = { "dpkg-deb", "--fsys-tarfile", "/dev/stdin", NULL };
	char scratch[16384], what[300];
	int p[2], errfd, r, w;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return diag_set(reterr, -errno, "cannot create a pipe: %s", strerror(errno));
	r = spawn(argv, debfd, p[1], NULL, &pid, &errfd);
	close(p[1]);
	if (r < 0) {
		close(p[0]);
		return diag_set(reterr, r == -ENOENT ? -EIO : r, "cannot run dpkg-deb: %s",
				strerror(-r));
	}
	r = tar_find(p[0], want, want_usr, max, ret, ret_len, ret_link);
	if (r == 1 || r == -EFBIG || r == -ENOMEM) {
		close(p[0]);
		spawn_kill(pid, errfd);
	} else {
		while (read_full(p[0], scratch, sizeof(scratch)) > 0)
			; /* drain, so that dpkg-deb's own status tells */
		close(p[0]);
		snprintf(what, sizeof(what), "dpkg-deb --fsys-tarfile %s", deb);
		w = spawn_wait(pid, errfd, what, reterr);
		if (w < 0)
			return w;
		if (r == 0)
			return diag_set(reterr, -ENOENT, "%s: no member %s", deb, want);
		return diag_set(reterr, r, "%s: malformed data from dpkg-deb: %s", deb,
				strerror(-r));
	}
	if (r == -EFBIG)
		return diag_set(reterr, r, "%s: %s is larger than %zu bytes", deb, want, max);
	if (r == -ENOMEM)
		return diag_set(reterr, r, "out of memory");
	return r;
}

/* ---- deb_fetch() ---- */

static bool usr_merged_dir(const char *rest)
{
	static const char *const dirs[] = {
		"bin/", "sbin/", "lib/", "lib32/", "lib64/", "libx32/"
	};

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (!strncmp(rest, dirs[i], strlen(dirs[i])))
			return true;
	return false;
}

int deb_fetch(const struct deb_source *src, const char *pkg, const char *version, const char *path,
	      size_t max, uint8_t **ret_bytes, size_t *ret_len, char **ret_origin,
	      struct diag *reterr)
{
	char *name = NULL, *arch = NULL, *origin = NULL, *link = NULL, *link2 = NULL;
	const char *colon = strchr(pkg, ':'), *want_usr = NULL;
	uint8_t want_md5[16], md5[16], *bytes = NULL;
	unsigned int md5_len = 0;
	size_t len = 0;
	int debfd = -1, r;

	if (path[0] != '/' || !path[1])
		return diag_set(reterr, -EINVAL, "%s: not an absolute path of a file", path);
	name = strndup(pkg, colon ? (size_t)(colon - pkg) : strlen(pkg));
	if (!name)
		return diag_set(reterr, -ENOMEM, "out of memory");
	r = dpkg_sum(src->rootfd, name, colon ? colon + 1 : NULL, path, &arch, want_md5, reterr);
	if (r < 0)
		goto out;
	r = deb_open(src, name, version, arch ? arch : "", &debfd, &origin, reterr);
	if (r < 0)
		goto out;

	if (!strncmp(path, "/usr/", 5) && usr_merged_dir(path + 5))
		want_usr = path + 5;
	r = deb_member(debfd, origin, path + 1, want_usr, max, &bytes, &len, &link, reterr);
	if (r >= 0 && link) {
		/* a hard link: the bytes are its target's, an earlier member */
		r = deb_member(debfd, origin, tar_name_strip(link), NULL, max, &bytes, &len, &link2,
			       reterr);
		if (r >= 0 && link2)
			r = diag_set(reterr, -EIO, "%s: hard link %s to a hard link", origin, path);
	}
	if (r < 0)
		goto out;

	if (!EVP_Digest(bytes, len, md5, &md5_len, EVP_md5(), NULL) || md5_len != 16) {
		r = diag_set(reterr, -EIO, "cannot compute an MD5 sum");
		goto out;
	}
	if (memcmp(md5, want_md5, 16) != 0) {
		r = diag_set(reterr, -EBADMSG, "%s: %s does not match dpkg's sum: refused", origin,
			     path);
		goto out;
	}
	*ret_bytes = bytes;
	*ret_len = len;
	bytes = NULL;
	if (ret_origin) {
		*ret_origin = origin;
		origin = NULL;
	}
	r = 0;
out:
	if (debfd >= 0)
		close(debfd);
	free(bytes);
	free(name);
	free(arch);
	free(origin);
	free(link);
	free(link2);
	return r;
}
