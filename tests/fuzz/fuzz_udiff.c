/*
 * The unified diff (common/udiff.h) of two inputs: the bytes before and
 * after the first line "\x1e" (ASCII record separator) of the fuzz input;
 * the first byte picks the context (0-7) and a small max_d (to reach the
 * capped, non-minimal diff too). Properties: equal sides give nothing
 * (identical, or binary); unequal ones are binary exactly when
 * udiff_is_binary() says so of either;
 * otherwise the diff, applied to the old bytes as patch(1) would, gives
 * the new bytes exactly (hunk by hunk, context and removed lines checked
 * against the old bytes), and res.lines counts its lines after the two
 * headers.
 */
#include "tests/fuzz/fuzz.h"

#include <string.h>

#include "common/strbuf.h"
#include "common/udiff.h"

#include "common/banned.h"

struct cursor {
	const uint8_t *p, *end;
};

/* The next line of @c, '\n' included when there is one; false at the end. */
static bool next_line(struct cursor *c, const uint8_t **ret, size_t *ret_len)
{
	const uint8_t *nl;

	if (c->p >= c->end)
		return false;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*ret = c->p;
	*ret_len = nl ? (size_t)(nl + 1 - c->p) : (size_t)(c->end - c->p);
	c->p += *ret_len;
	return true;
}

static unsigned long number(const uint8_t **p, const uint8_t *end)
{
	unsigned long v = 0;

	FUZZ_CHECK(*p < end && **p >= '0' && **p <= '9');
	while (*p < end && **p >= '0' && **p <= '9')
		v = v * 10 + (unsigned long)(*(*p)++ - '0');
	return v;
}

/* "@@ -l[,s] +l[,s] @@": the old start line and count. */
static void hunk_header(const uint8_t *p, size_t len, unsigned long *ret_start,
			unsigned long *ret_count)
{
	const uint8_t *end = p + len;

	FUZZ_CHECK(len > 4 && !memcmp(p, "@@ -", 4));
	p += 4;
	*ret_start = number(&p, end);
	*ret_count = 1;
	if (p < end && *p == ',') {
		p++;
		*ret_count = number(&p, end);
	}
	FUZZ_CHECK(p < end && *p == ' ');
}

/* Apply @diff to @a; the result into @out. */
static void apply(const uint8_t *a, size_t alen, const struct strbuf *diff, struct strbuf *out,
		  size_t *ret_body)
{
	struct cursor old = { a, a + alen },
		      d = { (const uint8_t *)diff->buf, (const uint8_t *)diff->buf + diff->len };
	unsigned long at = 0; /* lines of @a consumed */
	const uint8_t *l, *ol;
	size_t n, on, body = 0;
	bool have = next_line(&d, &l, &n);

	/* The two headers. */
	FUZZ_CHECK(have && n > 4 && !memcmp(l, "--- ", 4));
	FUZZ_CHECK(next_line(&d, &l, &n) && n > 4 && !memcmp(l, "+++ ", 4));
	have = next_line(&d, &l, &n);
	while (have) {
		unsigned long start, count;

		hunk_header(l, n, &start, &count);
		body++; /* res.lines counts every line after the two headers */
		/* Copy up to the hunk: it starts at line @start (the one before when empty). */
		for (unsigned long target = count ? start - 1 : start; at < target; at++) {
			FUZZ_CHECK(next_line(&old, &ol, &on));
			FUZZ_CHECK(strbuf_add(out, ol, on) == 0);
		}
		have = next_line(&d, &l, &n);
		while (have && n > 0 && (l[0] == ' ' || l[0] == '-' || l[0] == '+')) {
			const uint8_t *text = l + 1;
			size_t tlen = n - 1;
			char op = (char)l[0];

			body++;
			FUZZ_CHECK(tlen > 0 && text[tlen - 1] == '\n');
			have = next_line(&d, &l, &n);
			if (have && n > 2 && l[0] == '\\' && l[1] == ' ') {
				tlen--; /* "\ No newline at end of file" */
				body++;
				have = next_line(&d, &l, &n);
			}
			if (op != '+') {
				FUZZ_CHECK(next_line(&old, &ol, &on));
				FUZZ_CHECK(on == tlen && memcmp(ol, text, tlen) == 0);
				at++;
			}
			if (op != '-')
				FUZZ_CHECK(strbuf_add(out, text, tlen) == 0);
		}
	}
	while (next_line(&old, &ol, &on))
		FUZZ_CHECK(strbuf_add(out, ol, on) == 0);
	*ret_body = body;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t sep[] = "\n\x1e\n";
	struct udiff_opts o = {
		.path = "/etc/fuzz", .path_len = 9, .old_label = "#1", .new_label = "#2"
	};
	struct strbuf out = STRBUF_INIT, patched = STRBUF_INIT;
	struct udiff_result res = { 0 };
	const uint8_t *a, *b, *cut;
	size_t alen, blen, body;
	uint8_t *ca, *cb;

	if (size < 1)
		return 0;
	o.context = data[0] & 7;
	o.max_d = data[0] & 0x80 ? 1 + ((data[0] >> 3) & 15) : 0;
	data++;
	size--;
	cut = memmem(data, size, sep, sizeof(sep) - 1);
	a = data;
	alen = cut ? (size_t)(cut - data) + 1 : size; /* the old side keeps its last '\n' */
	b = cut ? cut + sizeof(sep) - 1 : data + size;
	blen = cut ? size - (size_t)(b - data) : 0;
	/* Copies of their exact size, so that ASan sees a read past either end. */
	ca = malloc(alen ? alen : 1);
	cb = malloc(blen ? blen : 1);
	FUZZ_CHECK(ca && cb);
	memcpy(ca, a, alen);
	memcpy(cb, b, blen);

	FUZZ_CHECK(udiff(ca, alen, cb, blen, &o, &out, &res) == 0);
	if (alen == blen && memcmp(ca, cb, alen) == 0) {
		/* Equal binary sides may say either. */
		FUZZ_CHECK((res.identical || res.binary) && out.len == 0);
	} else if (udiff_is_binary(ca, alen) || udiff_is_binary(cb, blen)) {
		FUZZ_CHECK(res.binary && !res.identical && out.len == 0);
	} else {
		FUZZ_CHECK(!res.binary && !res.identical && res.omitted_lines == 0);
		apply(ca, alen, &out, &patched, &body);
		FUZZ_CHECK(patched.len == blen && memcmp(patched.buf, cb, blen) == 0);
		FUZZ_CHECK(body == res.lines);
	}
	strbuf_release(&out);
	strbuf_release(&patched);
	free(ca);
	free(cb);
	return 0;
}
