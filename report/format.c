/*
 * Formatting of single values, shared by the text and JSON renderers (and,
 * through report.h, by the CLI): times as RFC 3339 or the short form of the
 * summary line, content hashes as hex, modes as octal, device numbers as
 * major,minor, errno values as text, the names of purposes, kinds and
 * severities, the policy comparison of the two snapshots, and the walks
 * over an entry's xattrs and props (one blob, or two merged by name).
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <time.h>

#include "report/internal.h"
#include "common/strbuf.h"
#include "common/banned.h"

#define NSEC_PER_SEC INT64_C(1000000000)

/*
 * Split @ns into whole seconds and a nanosecond part in [0, 1e9), rounding
 * towards minus infinity so that -1 ns is 23:59:59.999999999 of the day
 * before, then break the seconds down in UTC.
 */
static int split_time(int64_t ns, struct tm *ret_tm, long *ret_nsec)
{
	int64_t sec = ns / NSEC_PER_SEC;
	int64_t rem = ns % NSEC_PER_SEC;
	time_t t;

	if (rem < 0) {
		rem += NSEC_PER_SEC;
		sec--;
	}
	t = (time_t)sec;
	/* Cannot fail for any int64_t nanosecond count with a 64-bit time_t. */
	if (!gmtime_r(&t, ret_tm))
		return -EOVERFLOW;
	*ret_nsec = (long)rem;
	return 0;
}

int report_format_time(struct strbuf *out, int64_t ns)
{
	struct tm tm;
	long nsec;
	int r;

	r = split_time(ns, &tm, &nsec);
	if (r < 0)
		return r;
	return strbuf_addf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, nsec);
}

int report_format_time_short(struct strbuf *out, int64_t ns)
{
	struct tm tm;
	long nsec;
	int r;

	r = split_time(ns, &tm, &nsec);
	if (r < 0)
		return r;
	return strbuf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int report_format_hash(struct strbuf *out, const struct entry *e)
{
	static const char hex[] = "0123456789abcdef";
	char buf[2 * ENTRY_HASH_MAX];
	size_t n = e->hash_len;

	if (e->hash_algo == HASH_NONE || n == 0)
		return strbuf_adds(out, "none");
	if (n > ENTRY_HASH_MAX)
		n = ENTRY_HASH_MAX;
	for (size_t i = 0; i < n; i++) {
		buf[2 * i] = hex[e->hash[i] >> 4];
		buf[2 * i + 1] = hex[e->hash[i] & 15];
	}
	return strbuf_add(out, buf, 2 * n);
}

int report_format_mode(struct strbuf *out, uint32_t mode)
{
	return strbuf_addf(out, "%04" PRIo32, mode & 07777);
}

int report_format_rdev(struct strbuf *out, const struct entry *e)
{
	dev_t rdev = (dev_t)e->rdev;

	if (!entry_is_device(e))
		return strbuf_adds(out, "none");
	if (e->rdev == ENTRY_RDEV_UNKNOWN)
		return strbuf_adds(out, "unknown");
	return strbuf_addf(out, "%u,%u", major(rdev), minor(rdev));
}

const char *report_errno_text(int err, char *buf, size_t size)
{
	/* strerrordesc_np: thread-safe, and never translated, so reports stay stable. */
	const char *s = strerrordesc_np(err);

	if (s)
		return s;
	snprintf(buf, size, "Unknown error %d", err);
	return buf;
}

const char *report_entry_error_text(const struct entry *e, char *buf, size_t size)
{
	if (e->flags & ENTRY_NOT_DESCENDED_TOO_DEEP)
		return "nesting beyond the path limit (scan.max_path): not descended";
	return report_errno_text(e->err, buf, size);
}

int report_add_errno_text(struct strbuf *out, int err)
{
	char buf[32];

	return strbuf_adds(out, report_errno_text(err, buf, sizeof(buf)));
}

const char *report_purpose_name(enum snap_purpose purpose)
{
	switch (purpose) {
	case SNAP_PURPOSE_SCAN:
		return "scan";
	case SNAP_PURPOSE_BASELINE:
		return "baseline";
	case SNAP_PURPOSE_CHECK:
		return "check";
	case SNAP_PURPOSE_UPGRADE:
		return "upgrade";
	}
	return "unknown";
}

const char *report_kind_name(enum entry_kind kind)
{
	const char *name = entry_kind_name(kind);

	return name ? name : "unknown";
}

bool report_policy_changed(const struct report *rep)
{
	const char *a, *b;

	if (!rep->meta.before || !rep->meta.after)
		return false;
	a = rep->meta.before->policy_digest;
	b = rep->meta.after->policy_digest;
	if (!a || !b)
		return !a != !b;
	return strcmp(a, b) != 0;
}

bool report_hash_compared(const struct report *rep)
{
	if (rep->verify)
		return true;
	return rep->meta.before->hash == rep->meta.after->hash &&
	       rep->meta.before->hash != HASH_NONE;
}

uint64_t report_entries_checked(const struct report *rep)
{
	return rep->verify ? rep->meta.checked : rep->meta.after->entries;
}

int report_xattrs_next(const struct entry *e, size_t *pos, const char **ret_name,
		       size_t *ret_name_len, const char **ret_value, size_t *ret_value_len)
{
	const uint8_t *value;
	int r;

	if (!e->xattrs || e->xattrs_len == 0)
		return 0;
	r = entry_xattrs_next(e->xattrs, e->xattrs_len, pos, ret_name, ret_name_len, &value,
			      ret_value_len);
	if (r <= 0)
		return 0;
	*ret_value = (const char *)value;
	return 1;
}

int report_props_next(const struct entry *e, size_t *pos, const char **ret_name,
		      size_t *ret_name_len, const char **ret_value, size_t *ret_value_len)
{
	const uint8_t *value;
	int r;

	if (!e->props || e->props_len == 0)
		return 0;
	r = entry_xattrs_next(e->props, e->props_len, pos, ret_name, ret_name_len, &value,
			      ret_value_len);
	if (r <= 0)
		return 0;
	*ret_value = (const char *)value;
	return 1;
}

void report_pair_cursor_step(struct report_pair_cursor *c)
{
	if (!c->e) {
		c->more = 0;
		return;
	}
	if (c->props)
		c->more = report_props_next(c->e, &c->pos, &c->name, &c->name_len, &c->value,
					    &c->value_len);
	else
		c->more = report_xattrs_next(c->e, &c->pos, &c->name, &c->name_len, &c->value,
					     &c->value_len);
}

void report_pair_cursor_start(struct report_pair_cursor *c, const struct entry *e, bool props)
{
	c->e = e;
	c->props = props;
	c->pos = 0;
	report_pair_cursor_step(c);
}

int report_pair_cursor_compare(const struct report_pair_cursor *a,
			       const struct report_pair_cursor *b)
{
	if (!a->more)
		return 1;
	if (!b->more)
		return -1;
	return snap_key_compare(a->name, a->name_len, b->name, b->name_len);
}

bool report_value_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	return alen == blen && (!alen || !memcmp(a, b, alen));
}
