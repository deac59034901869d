/*
 * A unified line diff (see udiff.h).
 *
 * Design: split both sides into lines (each with its '\n', the last one
 * maybe without), cut the common head and tail, run Myers' greedy O(ND)
 * search on the middle keeping each round's V vector (the trace) for the
 * walk back to the edit script, then group the changes into hunks with
 * @context lines around them, merging hunks whose context would touch.
 * The trace costs O(D^2) ints, so D is capped (udiff_opts.max_d): beyond
 * it the middle is replaced wholesale, a correct diff that is not minimal.
 * Output limits (max_lines, max_bytes) cut at whole lines and count what
 * was left out, so the caller can say how much more there is.
 */
#include "common/udiff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

struct line {
	const uint8_t *p;
	size_t len; /* with its '\n', if it has one */
};

enum op_type { OP_EQ, OP_DEL, OP_INS };

struct op {
	uint8_t type;
	uint32_t a, b; /* the line's index on each side (the position for the side it is not on) */
};

struct out {
	const struct udiff_opts *o;
	struct strbuf *sb;
	struct udiff_result *res;
	size_t bytes;
	bool full;
};

/* Bytes of invalid UTF-8 sequences in @p (overlongs and surrogates count as invalid). */
size_t udiff_utf8_invalid(const uint8_t *p, size_t len)
{
	size_t bad = 0;

	for (size_t i = 0; i < len;) {
		uint8_t c = p[i];
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			bad++;
			i++;
			continue;
		}
		if (i + n > len) {
			bad += len - i;
			break;
		}
		size_t k = 1;
		for (; k < n && (p[i + k] & 0xc0) == 0x80; k++)
			cp = (cp << 6) | (p[i + k] & 0x3f);
		if (k < n || (n == 3 && cp < 0x800) ||
		    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff)) {
			bad += k;
			i += k;
			continue;
		}
		i += n;
	}
	return bad;
}

bool udiff_is_binary(const uint8_t *p, size_t len)
{
	if (len && memchr(p, '\0', len))
		return true;
	return udiff_utf8_invalid(p, len) * 32 > len;
}

/* Split @p into lines; *ret_lines is malloc()ed (NULL and 0 lines for empty input). */
static int split_lines(const uint8_t *p, size_t len, struct line **ret_lines, size_t *ret_n)
{
	size_t n = 0, i = 0;
	struct line *v;

	for (size_t k = 0; k < len; k++)
		if (p[k] == '\n')
			n++;
	if (len && p[len - 1] != '\n')
		n++;
	v = calloc(n ? n : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t start = 0; start < len; i++) {
		const uint8_t *nl = memchr(p + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - p) + 1 : len;

		v[i].p = p + start;
		v[i].len = end - start;
		start = end;
	}
	*ret_lines = v;
	*ret_n = n;
	return 0;
}

static bool line_eq(const struct line *x, const struct line *y)
{
	return x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static int ops_push(struct op **v, size_t *n, size_t *alloc, enum op_type t, size_t a, size_t b)
{
	if (*n == *alloc) {
		size_t na = *alloc ? *alloc * 2 : 64;
		struct op *p = realloc(*v, na * sizeof(**v));

		if (!p)
			return -ENOMEM;
		*v = p;
		*alloc = na;
	}
	(*v)[(*n)++] = (struct op){ (uint8_t)t, (uint32_t)a, (uint32_t)b };
	return 0;
}

/*
 * Myers on a[0, n) and b[0, m) (already offset): the edit script in
 * reverse order into @rev (indices relative to the offsets). Returns the
 * edit distance, -ERANGE when it exceeds @max_d, -ENOMEM.
 */
static long myers(const struct line *a, size_t n, const struct line *b, size_t m, size_t max_d,
		  struct op **rev, size_t *nrev, size_t *arev)
{
	size_t max = n + m < max_d ? n + m : max_d;
	long off = (long)max + 1, found = -1;
	int32_t *v = calloc(2 * (size_t)off + 1, sizeof(*v));
	int32_t *trace = NULL;
	size_t *start = calloc(max + 1, sizeof(*start)), used = 0, cap = 0;
	long r = -ENOMEM;

	if (!v || !start)
		goto out;
	for (long d = 0; d <= (long)max; d++) {
		/* Keep V[-d-1 .. d+1] as it is before round d. */
		size_t w = 2 * (size_t)d + 3;

		if (used + w > cap) {
			size_t nc = cap ? cap * 2 : 1024;
			int32_t *t;

			while (nc < used + w)
				nc *= 2;
			t = realloc(trace, nc * sizeof(*t));
			if (!t)
				goto out;
			trace = t;
			cap = nc;
		}
		start[d] = used;
		memcpy(trace + used, v + off - d - 1, w * sizeof(*v));
		used += w;
		for (long k = -d; k <= d; k += 2) {
			long x, y;

			if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
				x = v[off + k + 1];
			else
				x = v[off + k - 1] + 1;
			y = x - k;
			while (x < (long)n && y < (long)m && line_eq(&a[x], &b[y]))
				x++, y++;
			v[off + k] = (int32_t)x;
			if (x >= (long)n && y >= (long)m) {
				found = d;
				break;
			}
		}
		if (found >= 0)
			break;
	}
	if (found < 0) {
		r = -ERANGE;
		goto out;
	}
	/* Walk back through the trace. */
	{
		long x = (long)n, y = (long)m;

		for (long d = found; d >= 0; d--) {
			const int32_t *tv =
				trace + start[d] + d + 1; /* tv[k] = V[k] before round d */
			long k = x - y, pk, px, py;

			if (k == -d || (k != d && tv[k - 1] < tv[k + 1]))
				pk = k + 1;
			else
				pk = k - 1;
			px = tv[pk];
			py = px - pk;
			if (d == 0)
				px = py = 0;
			while (x > px && y > py) {
				if (ops_push(rev, nrev, arev, OP_EQ, (size_t)x - 1, (size_t)y - 1) <
				    0)
					goto out;
				x--, y--;
			}
			if (d > 0) {
				if (x == px) {
					if (ops_push(rev, nrev, arev, OP_INS, (size_t)x,
						     (size_t)y - 1) < 0)
						goto out;
				} else if (ops_push(rev, nrev, arev, OP_DEL, (size_t)x - 1,
						    (size_t)y) < 0) {
					goto out;
				}
			}
			x = px;
			y = py;
		}
	}
	r = found;
out:
	free(v);
	free(trace);
	free(start);
	return r;
}

/* Append one body line (@prefix, then @len bytes) unless a limit is reached. */
static int put_line(struct out *w, const char *prefix, const void *p, size_t len)
{
	size_t plen = strlen(prefix), need = plen + len;
	bool nl = len == 0 || ((const uint8_t *)p)[len - 1] != '\n';

	if (nl)
		need++;
	if (!w->full && ((w->o->max_lines && w->res->lines >= w->o->max_lines) ||
			 (w->o->max_bytes && w->bytes + need > w->o->max_bytes)))
		w->full = true;
	if (w->full) {
		w->res->omitted_lines++;
		return 0;
	}
	if (strbuf_add(w->sb, prefix, plen) < 0 || strbuf_add(w->sb, p, len) < 0 ||
	    (nl && strbuf_addch(w->sb, '\n') < 0))
		return -ENOMEM;
	w->bytes += need;
	w->res->lines++;
	return 0;
}

/* A content line, and the marker when it is the last one of its side without a newline. */
static int put_content(struct out *w, const char *prefix, const struct line *l)
{
	int r = put_line(w, prefix, l->p, l->len);

	if (r == 0 && (l->len == 0 || l->p[l->len - 1] != '\n'))
		r = put_line(w, "", "\\ No newline at end of file", 27);
	return r;
}

static void range_text(char *buf, size_t size, size_t first, size_t count)
{
	/* diff -u: "l" for one line, "l,s" otherwise; an empty range names the line before it. */
	if (count == 1)
		snprintf(buf, size, "%zu", first + 1);
	else
		snprintf(buf, size, "%zu,%zu", count ? first + 1 : first, count);
}

static int put_hunks(struct out *w, const struct op *ops, size_t nops, const struct line *a,
		     const struct line *b, unsigned ctx)
{
	size_t i = 0;

	while (i < nops) {
		size_t hs, he, last, na = 0, nb = 0;
		char ra[48], rb[48], head[112];
		int r;

		while (i < nops && ops[i].type == OP_EQ)
			i++;
		if (i == nops)
			break;
		hs = i > ctx ? i - ctx : 0;
		last = i;
		for (size_t j = i; j < nops; j++) {
			if (ops[j].type != OP_EQ)
				last = j;
			else if (j - last > 2 * (size_t)ctx)
				break;
		}
		he = last + 1 + ctx < nops ? last + 1 + ctx : nops;
		for (size_t j = hs; j < he; j++) {
			na += ops[j].type != OP_INS;
			nb += ops[j].type != OP_DEL;
		}
		range_text(ra, sizeof(ra), ops[hs].a, na);
		range_text(rb, sizeof(rb), ops[hs].b, nb);
		snprintf(head, sizeof(head), "@@ -%s +%s @@\n", ra, rb);
		r = put_line(w, "", head, strlen(head));
		for (size_t j = hs; r == 0 && j < he; j++) {
			if (ops[j].type == OP_EQ)
				r = put_content(w, " ", &a[ops[j].a]);
			else if (ops[j].type == OP_DEL)
				r = put_content(w, "-", &a[ops[j].a]);
			else
				r = put_content(w, "+", &b[ops[j].b]);
		}
		if (r < 0)
			return r;
		i = he;
	}
	return 0;
}

int udiff(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen, const struct udiff_opts *o,
	  struct strbuf *out, struct udiff_result *ret)
{
	struct udiff_result res = { 0 };
	struct out w = { o, out, &res, 0, false };
	struct line *la = NULL, *lb = NULL;
	struct op *rev = NULL, *ops = NULL;
	size_t na = 0, nb = 0, pre = 0, suf = 0, nrev = 0, arev = 0, nops = 0, aops = 0;
	long d;
	int r;

	if (udiff_is_binary(a, alen) || udiff_is_binary(b, blen)) {
		res.binary = !(alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
		res.identical = !res.binary;
		*ret = res;
		return 0;
	}
	r = split_lines(a, alen, &la, &na);
	if (r == 0)
		r = split_lines(b, blen, &lb, &nb);
	if (r < 0)
		goto out;
	while (pre < na && pre < nb && line_eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && line_eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	if (pre == na && pre == nb) {
		res.identical = true;
		goto done;
	}

	for (size_t i = 0; i < pre; i++)
		if ((r = ops_push(&ops, &nops, &aops, OP_EQ, i, i)) < 0)
			goto out;
	d = myers(la + pre, na - pre - suf, lb + pre, nb - pre - suf,
		  o->max_d ? o->max_d : UDIFF_MAX_D, &rev, &nrev, &arev);
	if (d == -ENOMEM) {
		r = -ENOMEM;
		goto out;
	}
	if (d == -ERANGE) {
		res.capped = true;
		for (size_t i = pre; i < na - suf; i++)
			if ((r = ops_push(&ops, &nops, &aops, OP_DEL, i, pre)) < 0)
				goto out;
		for (size_t i = pre; i < nb - suf; i++)
			if ((r = ops_push(&ops, &nops, &aops, OP_INS, na - suf, i)) < 0)
				goto out;
	} else {
		for (size_t i = nrev; i-- > 0;)
			if ((r = ops_push(&ops, &nops, &aops, rev[i].type, rev[i].a + pre,
					  rev[i].b + pre)) < 0)
				goto out;
	}
	for (size_t i = 0; i < suf; i++)
		if ((r = ops_push(&ops, &nops, &aops, OP_EQ, na - suf + i, nb - suf + i)) < 0)
			goto out;

	/*
	 * The headers are not body lines: they never count against the
	 * limits. The path in its display form, so that a header is one line.
	 */
	for (int side = 0; side < 2 && r == 0; side++) {
		const char *label = side ? o->new_label : o->old_label;

		r = strbuf_adds(out, side ? "+++ " : "--- ");
		if (r == 0)
			r = escape_display(out, o->path, o->path_len);
		if (r == 0)
			r = strbuf_addf(out, "\t%s\n", label ? label : side ? "new" : "old");
	}
	if (r < 0)
		goto out;
	r = put_hunks(&w, ops, nops, la, lb, o->context);
	if (r < 0)
		goto out;
done:
	*ret = res;
	r = 0;
out:
	free(la);
	free(lb);
	free(rev);
	free(ops);
	return r;
}
