/*
 * rule_set_show(): the effective policy as YAML that loads again. Every
 * default is written out and every group expanded, strings are always
 * double-quoted (so no path can be misread as another YAML type), and the
 * output depends only on the loaded set, not on where it came from: showing
 * a shown policy gives the same bytes.
 */
#include "rules/rules.h"

#include <errno.h>
#include <stdio.h>

#include "common/pattern.h"
#include "rules/internal.h"
#include "common/banned.h"

static void put_quoted(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c == '"' || *c == '\\')
			fprintf(out, "\\%c", *c);
		else if (*c < 0x20 || *c == 0x7f)
			fprintf(out, "\\x%02x", *c);
		else
			fputc(*c, out);
	}
	fputc('"', out);
}

static void put_attrs(FILE *out, const char *key, uint32_t mask)
{
	bool first = true;

	fprintf(out, "    %s: [", key);
	for (unsigned i = 0; i < ATTR__COUNT; i++) {
		if (mask & (1u << i)) {
			fprintf(out, "%s%s", first ? "" : ", ",
				entry_attr_name((enum entry_attr)(1u << i)));
			first = false;
		}
	}
	if (mask & RULE_GROW)
		fprintf(out, "%sgrow", first ? "" : ", ");
	fprintf(out, "]\n");
}

static void put_list(FILE *out, const char *key, const char *const *items, size_t n)
{
	fprintf(out, "  %s: [", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fprintf(out, ", ");
		put_quoted(out, items[i]);
	}
	fprintf(out, "]\n");
}

int rule_set_show(const struct rule_set *rs, FILE *out)
{
	const struct rule_scan *scan = &rs->scan;

	fprintf(out, "# drift policy, effective form: defaults filled in, groups expanded\n");
	fprintf(out, "version: 1\n");
	fprintf(out, "scan:\n");
	put_list(out, "roots", scan->roots, scan->nroots);
	put_list(out, "exclude", scan->excludes, scan->nexcludes);
	fprintf(out, "  cross_mounts: %s\n", scan->cross_mounts ? "true" : "false");
	fprintf(out, "  threads: %u\n", scan->threads);
	fprintf(out, "  hash: %s\n", hash_algo_name(scan->hash));
	put_list(out, "probes", scan->probes, scan->nprobes);
	fprintf(out, "packages:\n");
	fprintf(out, "  attribution: %s\n", rs->packages.attribution ? "true" : "false");
	fprintf(out, "  conffile_severity: %s\n", severity_name(rs->packages.conffile_severity));
	fprintf(out, "  unowned_severity: %s\n", severity_name(rs->packages.unowned_severity));
	put_list(out, "unowned", (const char *const *)rs->unowned.texts, rs->unowned.n);
	put_list(out, "unowned_exclude", (const char *const *)rs->unowned_excl.texts,
		 rs->unowned_excl.n);
	put_list(out, "trigger_outputs", (const char *const *)rs->trigger_outputs.texts,
		 rs->trigger_outputs.n);
	fprintf(out, "  history: %s\n",
		rs->packages.history == RULE_HISTORY_APT    ? "apt"
		: rs->packages.history == RULE_HISTORY_DPKG ? "dpkg"
							    : "none");
	fprintf(out, "rules:%s\n", rs->nrules ? "" : " []");
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];

		fprintf(out, "  - id: ");
		put_quoted(out, r->id);
		if (r->title) {
			fprintf(out, "\n    title: ");
			put_quoted(out, r->title);
		}
		if (r->kind != ENTRY_FILE)
			fprintf(out, "\n    kind: %s", entry_kind_name(r->kind));
		fprintf(out, "\n    %s: ", rule_kind_is_path(r->kind) ? "path" : "key");
		put_quoted(out, r->text ? r->text : pattern_text(r->pat));
		fprintf(out, "\n");
		if (r->exclude) {
			fprintf(out, "    exclude: true\n");
			continue;
		}
		put_attrs(out, "check", r->check);
		put_attrs(out, "ignore", r->ignore);
		put_attrs(out, "expect", r->expect);
		fprintf(out, "    severity: %s\n", severity_name(r->severity));
		fprintf(out, "    when_added: %s\n", severity_name(r->when_added));
		if (r->kind == ENTRY_FILE)
			fprintf(out, "    magic: %s\n", r->magic ? "true" : "false");
		if (r->kind == ENTRY_FILE && r->keep_set)
			fprintf(out, "    keep_content: %s\n", r->keep_content ? "true" : "false");
		if (r->kind == ENTRY_FILE && r->secret)
			fprintf(out, "    secret: true\n");
		if (r->remediate != RULE_REMEDIATE_NO)
			fprintf(out, "    remediate: %s\n", rule_remediate_name(r->remediate));
	}
	return fflush(out) == 0 && !ferror(out) ? 0 : -EIO;
}
