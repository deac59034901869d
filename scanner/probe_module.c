/*
 * The module probe: the loaded kernel modules of proc/modules, one line each,
 *
 *     name size refcount deps state address [taint]
 *     nf_nat 57344 2 xt_MASQUERADE,nft_chain_nat, Live 0xffffffffc0a4b000
 *     vboxdrv 614400 2 vboxnetflt,vboxnetadp, Live 0x0000000000000000 (OE)
 *
 * keyed by name, with the properties `size` (bytes, as printed), `state`
 * ("Live", "Loading", "Unloading"), `used_by` (the modules that depend on
 * it: the deps field sorted, as a comma list without the trailing comma;
 * absent for '-' or an empty list) and `taint` when the kernel prints one
 * ("(OE)").
 *
 * Left out: the reference count and the load address. Both change without
 * any change of configuration (every open of a device, every boot with KASLR;
 * and the address reads as 0 without CAP_SYSLOG).
 *
 * Components: module_parse_line() checks one line and fills a struct
 * module_rec pointing into the file's buffer; module_run() parses all of
 * them, sorts them by name (a duplicate name is a finding, the first line
 * wins) and emits them.
 */
#include "scanner/probe.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"

#include "common/banned.h"

#define MODULE_SOURCE     "proc/modules"
#define MODULE_FIELDS_MAX 8

struct module_rec {
	const char *name;
	const char *size;
	const char *deps; /* NULL for '-' */
	const char *state;
	const char *taint; /* NULL when absent */
	unsigned line;
};

static bool module_is_address(const char *s)
{
	if (s[0] != '0' || s[1] != 'x' || !s[2])
		return false;
	for (s += 2; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') ||
		      (*s >= 'A' && *s <= 'F')))
			return false;
	return true;
}

/* Parse one line; 1 and *ret on success, 0 when it was a finding, or empty. */
static int module_parse_line(const struct probe_ctx *ctx, char *s, unsigned line,
			     struct module_rec *ret)
{
	char *f[MODULE_FIELDS_MAX];
	size_t n;

	n = probe_fields_split(s, f, MODULE_FIELDS_MAX);
	if (n == 0)
		return 0;
	if (n != 6 && n != 7) {
		probe_findingf(ctx, "module", MODULE_SOURCE, line,
			       "malformed line: %zu fields, expected 6 or 7", n);
		return 0;
	}
	if (!probe_is_decimal(f[1])) {
		probe_findingf(ctx, "module", MODULE_SOURCE, line,
			       "malformed line: size '%.64s' is not a number", f[1]);
		return 0;
	}
	/* '-' when the kernel cannot unload modules */
	if (strcmp(f[2], "-") && !probe_is_decimal(f[2])) {
		probe_findingf(ctx, "module", MODULE_SOURCE, line,
			       "malformed line: reference count '%.64s' is not a number", f[2]);
		return 0;
	}
	if (!module_is_address(f[5])) {
		probe_findingf(ctx, "module", MODULE_SOURCE, line,
			       "malformed line: address '%.64s' is not hexadecimal", f[5]);
		return 0;
	}
	if (n == 7 && (f[6][0] != '(' || f[6][strlen(f[6]) - 1] != ')' || strlen(f[6]) < 3)) {
		probe_findingf(ctx, "module", MODULE_SOURCE, line,
			       "malformed line: taint '%.64s' is not in parentheses", f[6]);
		return 0;
	}
	ret->name = f[0];
	ret->size = f[1];
	ret->deps = strcmp(f[3], "-") ? f[3] : NULL;
	ret->state = f[4];
	ret->taint = n == 7 ? f[6] : NULL;
	ret->line = line;
	return 1;
}

static int module_rec_cmp(const void *a, const void *b)
{
	const struct module_rec *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c)
		return c;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int module_emit(const struct probe_ctx *ctx, const struct module_rec *m,
		       struct strbuf *used_by, struct strbuf *props, struct diag *reterr)
{
	struct entry_prop p[4];
	size_t n = 0;
	int r;

	p[n++] = (struct entry_prop){ "size", m->size, strlen(m->size) };
	p[n++] = (struct entry_prop){ "state", m->state, strlen(m->state) };
	if (m->deps) {
		r = probe_list_sort(m->deps, used_by);
		if (r < 0)
			return diag_set(reterr, r, "cannot list users of '%s': %s", m->name,
					strerror(-r));
		if (used_by->len)
			p[n++] = (struct entry_prop){ "used_by", used_by->buf, used_by->len };
	}
	if (m->taint)
		p[n++] = (struct entry_prop){ "taint", m->taint, strlen(m->taint) };
	r = entry_props_encode(props, p, n);
	if (r < 0)
		return diag_set(reterr, r, "cannot encode '%s': %s", m->name, strerror(-r));
	r = probe_emit_entry(ctx, ENTRY_MODULE, m->name, strlen(m->name), props);
	if (r < 0)
		return diag_set(reterr, r, "module probe stopped at '%s'", m->name);
	return 0;
}

static int module_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct strbuf used_by = STRBUF_INIT, props = STRBUF_INIT;
	struct module_rec *recs = NULL;
	size_t n = 0, alloc = 0;
	struct probe_lines lines;
	char *buf, *p;
	size_t len;
	int r;

	r = probe_source_read(ctx, "module", MODULE_SOURCE, &buf, &len, reterr);
	if (r != 0)
		return r == PROBE_NOT_A_FILE ? 0 : r;

	probe_lines_init(&lines, buf, len);
	while ((p = probe_lines_next(&lines, ctx, "module", MODULE_SOURCE))) {
		struct module_rec m;

		if (module_parse_line(ctx, p, lines.line, &m) <= 0)
			continue;
		if (n == alloc) {
			size_t na = alloc ? alloc * 2 : 64;
			struct module_rec *nr = realloc(recs, na * sizeof(*recs));

			if (!nr) {
				r = diag_set(reterr, -ENOMEM, "cannot parse '%s': %s",
					     MODULE_SOURCE, strerror(ENOMEM));
				goto out;
			}
			recs = nr;
			alloc = na;
		}
		recs[n++] = m;
	}

	if (n)
		qsort(recs, n, sizeof(*recs), module_rec_cmp);
	r = 0;
	for (size_t i = 0; i < n; i++) {
		if (i && !strcmp(recs[i].name, recs[i - 1].name)) {
			probe_findingf(ctx, "module", MODULE_SOURCE, recs[i].line,
				       "duplicate module '%.64s' (first on line %u), skipping",
				       recs[i].name, recs[i - 1].line);
			recs[i].line = recs[i - 1].line; /* report the first line for a third one */
			continue;
		}
		r = module_emit(ctx, &recs[i], &used_by, &props, reterr);
		if (r < 0)
			break;
	}
out:
	strbuf_release(&used_by);
	strbuf_release(&props);
	free(recs);
	free(buf);
	return r;
}

static const enum entry_kind module_kinds[] = { ENTRY_MODULE, (enum entry_kind)0 };

extern const struct probe probe_module;
const struct probe probe_module = {
	.name = "module",
	.kinds = module_kinds,
	.summary = "loaded kernel modules of /proc/modules, with their users and taint",
	.run = module_run,
};
