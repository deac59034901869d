/*
 * What the probes share.
 *
 * Components:
 *  - probe_open(), probe_read_file(): reading sources under the root with
 *    openat2() and RESOLVE_IN_ROOT, so that an absolute symlink inside a
 *    mounted image resolves inside the image; a whole-file reader for the
 *    small text files probes parse, and probe_source_read() on top of it,
 *    which sorts out a missing source from something else in its place.
 *  - probe_lines_*(), probe_fields_split(), probe_is_decimal(),
 *    probe_parse_decimal(): cutting a source into lines and blank-separated
 *    fields in place, and checking its numbers.
 *  - probe_findingf(), probe_emit_entry(), probe_prop_set(), probe_hex(),
 *    probe_list_*(): reporting findings, and building and emitting entries
 *    (sorted comma lists as property values).
 */
#include "scanner/probe.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define PROBE_FILE_MAX (64u << 20)

int probe_open(int rootfd, const char *path, int flags)
{
	struct open_how how;
	long fd;

	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(flags | O_CLOEXEC);
	how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
	do
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EINTR);
	if (fd < 0 && errno == EAGAIN) {
		/* a rename raced the resolution: once more, then give up */
		fd = syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
	}
	return fd < 0 ? -errno : (int)fd;
}

int probe_read_file(int rootfd, const char *path, char **ret_buf, size_t *ret_len)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0, alloc;
	int fd, r;

	fd = probe_open(rootfd, path, O_RDONLY | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -EISDIR;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL; /* never read a FIFO or a device planted in a source's place */
		goto out;
	}
	/* proc files say 0 or 4096: read until EOF whatever the size says */
	alloc = (size_t)st.st_size + 1 > 4096 ? (size_t)st.st_size + 1 : 4096;
	for (;;) {
		ssize_t n;

		if (!buf || len + 1 >= alloc) {
			char *nb;

			if (buf)
				alloc *= 2;
			if (alloc > PROBE_FILE_MAX + 1) {
				r = -EFBIG;
				goto out;
			}
			nb = realloc(buf, alloc);
			if (!nb) {
				r = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + len, alloc - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret_buf = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int probe_source_read(const struct probe_ctx *ctx, const char *probe, const char *path,
		      char **ret_buf, size_t *ret_len, struct diag *reterr)
{
	int r;

	r = probe_read_file(ctx->rootfd, path, ret_buf, ret_len);
	if (r == -ENOENT)
		return PROBE_UNAVAILABLE;
	if (r == -EISDIR || r == -EINVAL || r == -ENOTDIR || r == -ELOOP) {
		/* something else sits where the file should be */
		probe_findingf(ctx, probe, path, 0, "cannot read '%s': %s", path, strerror(-r));
		return PROBE_NOT_A_FILE;
	}
	if (r < 0)
		return diag_set(reterr, r, "cannot read '%s': %s", path, strerror(-r));
	return 0;
}

void probe_findingf(const struct probe_ctx *ctx, const char *probe, const char *file, unsigned line,
		    const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (!ctx->finding)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctx->finding(probe, file, line, msg, ctx->userdata);
}

void probe_lines_init(struct probe_lines *it, char *buf, size_t len)
{
	it->p = buf;
	it->end = buf + len;
	it->line = 0;
}

char *probe_lines_next(struct probe_lines *it, const struct probe_ctx *ctx, const char *probe,
		       const char *file)
{
	while (it->p < it->end) {
		char *line = it->p;
		char *nl = memchr(line, '\n', (size_t)(it->end - line));
		char *eol = nl ? nl : it->end;

		it->line++;
		*eol = '\0';
		it->p = eol + 1;
		if (!memchr(line, '\0', (size_t)(eol - line)))
			return line;
		probe_findingf(ctx, probe, file, it->line, "malformed line: contains a NUL byte");
	}
	return NULL;
}

size_t probe_fields_split(char *s, char **fields, size_t max)
{
	size_t n = 0;

	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		if (n < max)
			fields[n] = s;
		n++;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = '\0';
	}
	return n;
}

bool probe_is_decimal(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

bool probe_parse_decimal(const char *s, uint64_t max, uint64_t *ret_value)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		uint64_t d = (uint64_t)(*s - '0');

		if (*s < '0' || *s > '9')
			return false;
		if (d > max || v > (max - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*ret_value = v;
	return true;
}

int probe_strptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int probe_list_join(const char **v, size_t n, struct strbuf *out)
{
	strbuf_reset(out);
	if (n)
		qsort(v, n, sizeof(*v), probe_strptr_cmp);
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(v[i], v[i - 1]))
			continue;
		if ((out->len && strbuf_addch(out, ',') < 0) || strbuf_adds(out, v[i]) < 0)
			return -ENOMEM;
	}
	return 0;
}

int probe_list_sort(const char *list, struct strbuf *out)
{
	size_t n = 1, k = 0;
	const char **v;
	char *copy;
	int r = -ENOMEM;

	strbuf_reset(out);
	for (const char *p = list; *p; p++)
		n += *p == ',';
	copy = strdup(list);
	v = malloc(n * sizeof(*v));
	if (!copy || !v)
		goto out;
	for (char *p = copy;;) {
		char *comma = strchr(p, ',');

		if (comma)
			*comma = '\0';
		if (*p)
			v[k++] = p;
		if (!comma)
			break;
		p = comma + 1;
	}
	r = probe_list_join(v, k, out);
out:
	free(copy);
	free(v);
	return r;
}

void probe_prop_set(struct entry_prop *p, const char *name, const char *value)
{
	p->name = name;
	p->value = value;
	p->value_len = strlen(value);
}

void probe_hex(const uint8_t *bytes, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[bytes[i] >> 4];
		out[2 * i + 1] = hex[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int probe_emit_entry(const struct probe_ctx *ctx, enum entry_kind kind, const char *key,
		     size_t key_len, const struct strbuf *props)
{
	struct entry e;

	memset(&e, 0, sizeof(e));
	e.kind = kind;
	e.key = key;
	e.key_len = key_len;
	e.props = (const uint8_t *)props->buf;
	e.props_len = props->len;
	return ctx->emit(&e, ctx->userdata);
}
