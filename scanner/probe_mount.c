/*
 * The mount probe: the mounts of proc/self/mountinfo, one line each,
 *
 *     36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue
 *     (1)(2)(3)   (4)   (5)      (6)      (7)   (8) (9)    (10)         (11)
 *
 * keyed by the mount point (5), its octal escapes (\040 space, \011 tab,
 * \012 newline, \134 backslash: any backslash and three octal digits)
 * decoded to bytes. Properties: `source` (10), `fstype` (9), `options` (6,
 * per mount), `super_options` (11, per filesystem), all as printed (their
 * escapes kept: a value stays one line), and `propagation`: the optional
 * fields (7) reduced to their kinds ("shared", "master", "propagate_from",
 * "unbindable"), sorted, unique, comma-separated; absent when there is none.
 *
 * Left out: the mount and parent ids (1, 2), the device numbers (3) and the
 * peer group numbers of the optional fields: they change at every boot
 * without any change of configuration. The root of the mount inside its
 * filesystem (4) is not a property either (the contract names five).
 *
 * A mount point mounted over (the same path on two lines) is one entry:
 * the last line, which is the mount that is visible there. Only the mounts
 * of the scanner's own mount namespace are seen (proc/self, not proc/1).
 *
 * Components: mount_parse_line() checks one line and fills a struct
 * mount_rec; mount_run() sorts the records by key, keeps the last line of
 * each and emits them.
 */
#include "scanner/probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define MOUNT_SOURCE     "proc/self/mountinfo"
#define MOUNT_FIELDS_MAX 64

struct mount_rec {
	char *key; /* decoded mount point, malloc()ed */
	size_t key_len;
	const char *source, *fstype, *options, *super_options; /* into the file's buffer */
	char *propagation;                                     /* malloc()ed; NULL when none */
	unsigned line;
};

/* "major:minor" */
static bool mount_is_devno(const char *s)
{
	const char *colon = strchr(s, ':');
	char major[16];

	if (!colon || (size_t)(colon - s) >= sizeof(major))
		return false;
	memcpy(major, s, (size_t)(colon - s));
	major[colon - s] = '\0';
	return probe_is_decimal(major) && probe_is_decimal(colon + 1);
}

static bool mount_is_octal(char c)
{
	return c >= '0' && c <= '7';
}

/* Decode "\NNN" escapes of @s into a new buffer; -EBADMSG for an escaped NUL. */
static int mount_unescape(const char *s, char **ret, size_t *ret_len)
{
	size_t len = strlen(s), n = 0;
	char *out = malloc(len + 1);

	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		/* the NUL ends the string, so s[i + 1..3] are never read past it */
		unsigned v = 0x100;

		if (s[i] == '\\' && mount_is_octal(s[i + 1]) && mount_is_octal(s[i + 2]) &&
		    mount_is_octal(s[i + 3]))
			v = (unsigned)(s[i + 1] - '0') << 6 | (unsigned)(s[i + 2] - '0') << 3 |
			    (unsigned)(s[i + 3] - '0');
		if (v == 0) {
			free(out);
			return -EBADMSG;
		}
		if (v <= 0xff) {
			out[n++] = (char)v;
			i += 3;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*ret = out;
	*ret_len = n;
	return 0;
}

/*
 * "shared:1 master:2" -> "master,shared" (*ret NULL when there is no field).
 * Returns 0, 1 when a field was malformed (a finding), or -ENOMEM.
 */
static int mount_propagation(const struct probe_ctx *ctx, unsigned line, char **fields, size_t n,
			     char **ret)
{
	struct strbuf sb = STRBUF_INIT;
	const char *kinds[MOUNT_FIELDS_MAX];

	*ret = NULL;
	if (!n)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char *colon = strchr(fields[i], ':');

		/* the kind ends at ':': cut there (the numbers are not kept) */
		if (colon)
			*colon = '\0';
		if (!fields[i][0]) {
			probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
				       "malformed line: optional field without a name");
			return 1;
		}
		kinds[i] = fields[i];
	}
	if (probe_list_join(kinds, n, &sb) < 0) {
		strbuf_release(&sb);
		return -ENOMEM;
	}
	*ret = strbuf_detach(&sb, NULL);
	return *ret ? 0 : -ENOMEM;
}

/* One line: 1 and *ret filled, 0 when it was empty or a finding, -ENOMEM. */
static int mount_parse_line(const struct probe_ctx *ctx, char *s, unsigned line,
			    struct mount_rec *ret)
{
	char *f[MOUNT_FIELDS_MAX];
	size_t n, sep;
	char *key, *prop;
	size_t key_len;
	int r;

	n = probe_fields_split(s, f, MOUNT_FIELDS_MAX);
	if (n == 0)
		return 0;
	if (n > MOUNT_FIELDS_MAX) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: %zu fields, expected at most %d", n,
			       MOUNT_FIELDS_MAX);
		return 0;
	}
	for (sep = 6; sep < n && strcmp(f[sep], "-"); sep++)
		;
	if (n < 10) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: %zu fields, expected at least 10", n);
		return 0;
	}
	if (sep >= n) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: no '-' separator");
		return 0;
	}
	if (n != sep + 4) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: %zu fields after the '-' separator, expected 3",
			       n - sep - 1);
		return 0;
	}
	if (!probe_is_decimal(f[0]) || !probe_is_decimal(f[1])) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: bad mount id '%.32s' or parent '%.32s'", f[0],
			       f[1]);
		return 0;
	}
	if (!mount_is_devno(f[2])) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: bad device '%.32s'", f[2]);
		return 0;
	}
	if (f[4][0] != '/') {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: mount point '%.64s' is not absolute", f[4]);
		return 0;
	}
	r = mount_unescape(f[4], &key, &key_len);
	if (r == -EBADMSG) {
		probe_findingf(ctx, "mount", MOUNT_SOURCE, line,
			       "malformed line: mount point '%.64s' has a NUL byte", f[4]);
		return 0;
	}
	if (r < 0)
		return r;
	r = mount_propagation(ctx, line, f + 6, sep - 6, &prop);
	if (r != 0) {
		free(key);
		return r < 0 ? r : 0;
	}
	ret->key = key;
	ret->key_len = key_len;
	ret->options = f[5];
	ret->fstype = f[sep + 1];
	ret->source = f[sep + 2];
	ret->super_options = f[sep + 3];
	ret->propagation = prop;
	ret->line = line;
	return 1;
}

static int mount_rec_cmp(const void *a, const void *b)
{
	const struct mount_rec *x = a, *y = b;
	size_t n = x->key_len < y->key_len ? x->key_len : y->key_len;
	int c = memcmp(x->key, y->key, n);

	if (c)
		return c;
	if (x->key_len != y->key_len)
		return x->key_len < y->key_len ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int mount_emit(const struct probe_ctx *ctx, const struct mount_rec *m, struct strbuf *props,
		      struct diag *reterr)
{
	struct entry_prop p[5];
	size_t n = 0;
	int r;

	p[n++] = (struct entry_prop){ "source", m->source, strlen(m->source) };
	p[n++] = (struct entry_prop){ "fstype", m->fstype, strlen(m->fstype) };
	p[n++] = (struct entry_prop){ "options", m->options, strlen(m->options) };
	p[n++] = (struct entry_prop){ "super_options", m->super_options, strlen(m->super_options) };
	if (m->propagation)
		p[n++] = (struct entry_prop){ "propagation", m->propagation,
					      strlen(m->propagation) };
	r = entry_props_encode(props, p, n);
	if (r < 0)
		return diag_set(reterr, r, "cannot encode mount '%s': %s", m->key, strerror(-r));
	r = probe_emit_entry(ctx, ENTRY_MOUNT, m->key, m->key_len, props);
	if (r < 0)
		return diag_set(reterr, r, "mount probe stopped at '%s'", m->key);
	return 0;
}

static int mount_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct strbuf props = STRBUF_INIT;
	struct mount_rec *recs = NULL;
	size_t n = 0, alloc = 0;
	struct probe_lines lines;
	char *buf, *p;
	size_t len;
	int r;

	r = probe_source_read(ctx, "mount", MOUNT_SOURCE, &buf, &len, reterr);
	if (r != 0)
		return r == PROBE_NOT_A_FILE ? 0 : r;

	probe_lines_init(&lines, buf, len);
	while ((p = probe_lines_next(&lines, ctx, "mount", MOUNT_SOURCE))) {
		struct mount_rec m;
		int k;

		k = mount_parse_line(ctx, p, lines.line, &m);
		if (k == 0)
			continue;
		if (k > 0 && n == alloc) {
			size_t na = alloc ? alloc * 2 : 64;
			struct mount_rec *nr = realloc(recs, na * sizeof(*recs));

			if (!nr) {
				free(m.key);
				free(m.propagation);
				k = -ENOMEM;
			} else {
				recs = nr;
				alloc = na;
			}
		}
		if (k < 0) {
			r = diag_set(reterr, k, "cannot parse '%s': %s", MOUNT_SOURCE,
				     strerror(-k));
			goto out;
		}
		recs[n++] = m;
	}

	if (n)
		qsort(recs, n, sizeof(*recs), mount_rec_cmp);
	r = 0;
	for (size_t i = 0; i < n; i++) {
		/* mounted over: the last line of a mount point is the visible mount */
		if (i + 1 < n && recs[i].key_len == recs[i + 1].key_len &&
		    !memcmp(recs[i].key, recs[i + 1].key, recs[i].key_len))
			continue;
		r = mount_emit(ctx, &recs[i], &props, reterr);
		if (r < 0)
			break;
	}
out:
	strbuf_release(&props);
	for (size_t i = 0; i < n; i++) {
		free(recs[i].key);
		free(recs[i].propagation);
	}
	free(recs);
	free(buf);
	return r;
}

static const enum entry_kind mount_kinds[] = { ENTRY_MOUNT, (enum entry_kind)0 };

extern const struct probe probe_mount;
const struct probe probe_mount = {
	.name = "mount",
	.kinds = mount_kinds,
	.summary = "mounts of /proc/self/mountinfo, with their sources, options and propagation",
	.run = mount_run,
};
