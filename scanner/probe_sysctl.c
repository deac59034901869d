/*
 * The sysctl probe: every kernel parameter under proc/sys, keyed by its
 * dotted name as sysctl(8) prints it ("net.ipv4.ip_forward"; a '.' inside
 * one path component becomes '/': "net.ipv4.conf.eth0/1.forwarding"), with
 * one property, `value`: the content without its trailing newline(s), runs
 * of blanks (multi-value files such as kernel.printk, "4\t4\t1\t7") turned
 * into one space, and blanks at both ends trimmed.
 *
 * Components:
 *   - sysctl_volatile[]: the values the kernel changes by itself (counters,
 *     per-boot random values, statistics), never emitted: a drift report
 *     would list them on every scan. Found by reading the documentation and
 *     by two reads of a real /proc/sys five seconds apart.
 *   - sysctl_walk_dir(): a depth-first walk, entries sorted by name, relative
 *     to directory fds (openat with O_NOFOLLOW: a symlink is never followed,
 *     none exists in a real proc/sys).
 *   - sysctl_read_value(): one file read whole, at most 64 KiB (a longer
 *     value is cut, and that is a finding).
 *
 * Left out, silently: the names whose reading does something (a kernel
 * warning, a statistics refresh: sysctl_never_read[]), files without any
 * read permission bit (write-only triggers such as vm.compact_memory or
 * vm.drop_caches: reading them means nothing), and files whose read fails
 * with EACCES, EPERM, EIO, EINVAL, ENOENT or EOPNOTSUPP (many sysctls refuse
 * reading: per-namespace ones, the ones that need a capability). Any other
 * error is a finding about that file. Values are stored as read: secrets
 * among them are in sysctl_volatile[] so that no snapshot holds them.
 */
#include "scanner/probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define SYSCTL_ROOT      "proc/sys"
#define SYSCTL_VALUE_MAX (64u << 10)
/* proc/sys is 6 levels deep at most; a root with more is not a kernel's */
#define SYSCTL_DEPTH_MAX 16

/*
 * Values the kernel changes by itself, as fnmatch(3) patterns (no flags:
 * '*' also matches '.') on the dotted key. Each is a counter, a statistic
 * or a per-boot random value, not configuration:
 *   kernel.random.*           boot_id and uuid (random), entropy_avail...
 *   fs.dentry-state, fs.inode-state, fs.inode-nr, fs.file-nr, fs.aio-nr
 *                             object counts of the VFS
 *   fs.quota.*                quota statistics (lookups, reads, writes...)
 *   kernel.ns_last_pid        the last pid handed out
 *   kernel.pty.nr             ptys open now
 *   kernel.hung_task_detect_count  hung tasks seen since boot
 *   kernel.perf_event_max_sample_rate  the kernel lowers it when sampling
 *                             takes too long
 *   net.netfilter.nf_conntrack_count  connections tracked now
 *   net.core.netdev_rss_key   random at boot unless set (and a hash key)
 *   net.ipv4.tcp_fastopen_key random at boot unless set, and a secret
 *   net.ipv6.conf.*.stable_secret  a secret (the base of stable privacy
 *                             addresses): never stored in a snapshot
 */
static const char *const sysctl_volatile[] = {
	"kernel.random.*",
	"fs.dentry-state",
	"fs.inode-state",
	"fs.inode-nr",
	"fs.file-nr",
	"fs.aio-nr",
	"fs.quota.*",
	"kernel.ns_last_pid",
	"kernel.pty.nr",
	"kernel.hung_task_detect_count",
	"kernel.perf_event_max_sample_rate",
	"net.netfilter.nf_conntrack_count",
	"net.core.netdev_rss_key",
	"net.ipv4.tcp_fastopen_key",
	"net.ipv6.conf.*.stable_secret",
};

/*
 * Never read, because reading them does something:
 *   net.ipv*.neigh.*.base_reachable_time, net.ipv*.neigh.*.retrans_time
 *       deprecated: the kernel logs a warning ("process `drift' is using
 *       deprecated sysctl ... use ..._ms instead") at every scan; their
 *       *_ms twins hold the same settings and are read. sysctl(8) -a leaves
 *       them out too (procps' DEPRECATED list).
 *   vm.stat_refresh
 *       a read makes every CPU fold its VM statistics (and returns nothing).
 */
static const char *const sysctl_never_read[] = {
	"net.ipv*.neigh.*.base_reachable_time",
	"net.ipv*.neigh.*.retrans_time",
	"vm.stat_refresh",
};

struct sysctl_walk {
	const struct probe_ctx *ctx;
	struct diag *reterr;
	struct strbuf key;   /* dotted name of the current directory or file */
	struct strbuf path;  /* "proc/sys/..." of the same, for findings */
	struct strbuf value; /* the normalized value */
	struct strbuf props;
	char *buf; /* SYSCTL_VALUE_MAX + 1 bytes */
};

/* Errors with which a sysctl refuses to be read: not worth a finding. */
static bool sysctl_error_is_quiet(int err)
{
	return err == EACCES || err == EPERM || err == EIO || err == EINVAL || err == ENOENT ||
	       err == EOPNOTSUPP;
}

/* Whether @key is a volatile or never-read name: not read, not emitted. */
static bool sysctl_is_left_out(const char *key)
{
	for (size_t i = 0; i < sizeof(sysctl_volatile) / sizeof(sysctl_volatile[0]); i++)
		if (!fnmatch(sysctl_volatile[i], key, 0))
			return true;
	for (size_t i = 0; i < sizeof(sysctl_never_read) / sizeof(sysctl_never_read[0]); i++)
		if (!fnmatch(sysctl_never_read[i], key, 0))
			return true;
	return false;
}

/* Append '.' (unless at the start) and @name, with its dots as '/'. */
static int sysctl_key_push(struct strbuf *key, const char *name)
{
	if (key->len && strbuf_addch(key, '.') < 0)
		return -ENOMEM;
	for (const char *p = name; *p; p++)
		if (strbuf_addch(key, *p == '.' ? '/' : *p) < 0)
			return -ENOMEM;
	return 0;
}

/*
 * Read the file @name of @dfd into w->buf. Returns the length (cut at
 * SYSCTL_VALUE_MAX; *ret_cut says so), or -errno.
 */
static ssize_t sysctl_read_value(struct sysctl_walk *w, int dfd, const char *name, bool *ret_cut)
{
	size_t len = 0;
	struct stat st;
	ssize_t r;
	int fd;

	/* O_NONBLOCK: never wait on something that is not a proc file */
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		goto out;
	}
	/* one read fetches a whole sysctl; loop for the ones that come in pieces */
	while (len <= SYSCTL_VALUE_MAX) {
		ssize_t n = read(fd, w->buf + len, SYSCTL_VALUE_MAX + 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*ret_cut = len > SYSCTL_VALUE_MAX;
	r = (ssize_t)(len > SYSCTL_VALUE_MAX ? SYSCTL_VALUE_MAX : len);
out:
	close(fd);
	return r;
}

/* w->buf[0..len) -> w->value: no trailing newlines, blanks squeezed and trimmed. */
static int sysctl_value_normalize(struct sysctl_walk *w, size_t len)
{
	const char *s = w->buf;
	bool blank = false;

	while (len && s[len - 1] == '\n')
		len--;
	strbuf_reset(&w->value);
	for (size_t i = 0; i < len; i++) {
		if (s[i] == ' ' || s[i] == '\t') {
			blank = true;
			continue;
		}
		if (blank && w->value.len && strbuf_addch(&w->value, ' ') < 0)
			return -ENOMEM;
		blank = false;
		if (strbuf_addch(&w->value, s[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int sysctl_visit_file(struct sysctl_walk *w, int dfd, const char *name,
			     const struct stat *st)
{
	struct entry_prop prop;
	bool cut = false;
	ssize_t n;
	int r;

	if (!(st->st_mode & 0444))
		return 0; /* write-only: a trigger, not a setting */
	if (sysctl_is_left_out(w->key.buf))
		return 0;
	n = sysctl_read_value(w, dfd, name, &cut);
	if (n < 0) {
		if (!sysctl_error_is_quiet((int)-n))
			probe_findingf(w->ctx, "sysctl", w->path.buf, 0, "cannot read '%s': %s",
				       w->key.buf, strerror((int)-n));
		return 0;
	}
	if (memchr(w->buf, '\0', (size_t)n)) {
		probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
			       "value of '%s' contains a NUL byte, skipping", w->key.buf);
		return 0;
	}
	if (cut)
		probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
			       "value of '%s' is longer than %u bytes, cut", w->key.buf,
			       SYSCTL_VALUE_MAX);
	r = sysctl_value_normalize(w, (size_t)n);
	if (r < 0)
		return diag_set(w->reterr, r, "cannot read '%s': %s", w->path.buf, strerror(-r));
	prop.name = "value";
	prop.value = w->value.buf;
	prop.value_len = w->value.len;
	r = entry_props_encode(&w->props, &prop, 1);
	if (r < 0)
		return diag_set(w->reterr, r, "cannot encode '%s': %s", w->key.buf, strerror(-r));
	r = probe_emit_entry(w->ctx, ENTRY_SYSCTL, w->key.buf, w->key.len, &w->props);
	if (r < 0)
		return diag_set(w->reterr, r, "sysctl probe stopped at '%s'", w->key.buf);
	return 0;
}

static void sysctl_names_free(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Walk the directory @dfd (taken: closed here) at w->key / w->path. */
static int sysctl_walk_dir(struct sysctl_walk *w, int dfd, unsigned depth)
{
	char **names = NULL;
	size_t n = 0, alloc = 0;
	struct dirent *de;
	DIR *dir;
	int r = 0;

	dir = fdopendir(dfd);
	if (!dir) {
		r = -errno;
		close(dfd);
		return diag_set(w->reterr, r, "cannot list '%s': %s", w->path.buf, strerror(-r));
	}
	/* sorted, so that the order of the entries does not depend on the kernel */
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno) {
				probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
					       "cannot list '%s': %s", w->path.buf,
					       strerror(errno));
			}
			break;
		}
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 32;
			char **nn = realloc(names, na * sizeof(*names));

			if (!nn)
				goto fail_nomem;
			names = nn;
			alloc = na;
		}
		names[n] = strdup(de->d_name);
		if (!names[n])
			goto fail_nomem;
		n++;
	}
	if (n)
		qsort(names, n, sizeof(*names), probe_strptr_cmp);

	for (size_t i = 0; i < n; i++) {
		size_t key_len = w->key.len, path_len = w->path.len;
		struct stat st;

		if (sysctl_key_push(&w->key, names[i]) < 0 || strbuf_addch(&w->path, '/') < 0 ||
		    strbuf_adds(&w->path, names[i]) < 0)
			goto fail_nomem;
		if (fstatat(dirfd(dir), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
					       "cannot stat '%s': %s", w->path.buf,
					       strerror(errno));
		} else if (S_ISDIR(st.st_mode)) {
			int cfd;

			cfd = openat(dirfd(dir), names[i],
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (depth + 1 >= SYSCTL_DEPTH_MAX) {
				if (cfd >= 0)
					close(cfd);
				probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
					       "directory '%s' is nested too deep, skipping",
					       w->path.buf);
			} else if (cfd < 0) {
				if (!sysctl_error_is_quiet(errno))
					probe_findingf(w->ctx, "sysctl", w->path.buf, 0,
						       "cannot open '%s': %s", w->path.buf,
						       strerror(errno));
			} else {
				r = sysctl_walk_dir(w, cfd, depth + 1);
			}
		} else if (S_ISREG(st.st_mode)) {
			r = sysctl_visit_file(w, dirfd(dir), names[i], &st);
		}
		/* anything else (a symlink...) is no sysctl: never followed */
		strbuf_setlen(&w->key, key_len);
		strbuf_setlen(&w->path, path_len);
		if (r < 0)
			goto out;
	}
	goto out;

fail_nomem:
	r = diag_set(w->reterr, -ENOMEM, "cannot list '%s': %s", w->path.buf, strerror(ENOMEM));
out:
	sysctl_names_free(names, n);
	closedir(dir);
	return r;
}

static int sysctl_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct sysctl_walk w = {
		.ctx = ctx,
		.reterr = reterr,
		.key = STRBUF_INIT,
		.path = STRBUF_INIT,
		.value = STRBUF_INIT,
		.props = STRBUF_INIT,
	};
	int fd, r;

	fd = probe_open(ctx->rootfd, SYSCTL_ROOT, O_RDONLY | O_DIRECTORY);
	if (fd == -ENOENT)
		return PROBE_UNAVAILABLE;
	if (fd == -ENOTDIR) {
		probe_findingf(ctx, "sysctl", SYSCTL_ROOT, 0, "'%s' is not a directory",
			       SYSCTL_ROOT);
		return 0;
	}
	if (fd < 0)
		return diag_set(reterr, fd, "cannot open '%s': %s", SYSCTL_ROOT, strerror(-fd));
	w.buf = malloc(SYSCTL_VALUE_MAX + 1);
	if (!w.buf || strbuf_adds(&w.path, SYSCTL_ROOT) < 0) {
		close(fd);
		r = diag_set(reterr, -ENOMEM, "cannot walk '%s': %s", SYSCTL_ROOT,
			     strerror(ENOMEM));
		goto out;
	}
	r = sysctl_walk_dir(&w, fd, 0);
out:
	free(w.buf);
	strbuf_release(&w.key);
	strbuf_release(&w.path);
	strbuf_release(&w.value);
	strbuf_release(&w.props);
	return r;
}

static const enum entry_kind sysctl_kinds[] = { ENTRY_SYSCTL, (enum entry_kind)0 };

extern const struct probe probe_sysctl;
const struct probe probe_sysctl = {
	.name = "sysctl",
	.kinds = sysctl_kinds,
	.summary = "kernel parameters under /proc/sys, as sysctl -a lists them",
	.run = sysctl_run,
};
