/* drift policy check [FILE] | drift policy show | drift policy explain PATH|KIND:KEY... */
#include "cli/cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "common/diag.h"
#include "common/escape.h"
#include "common/banned.h"

static void print_warning(const struct diag *d, void *userdata)
{
	if (d->line)
		fprintf(stderr, "%s:%u:%u: warning: %s\n", d->file, d->line, d->col, d->msg);
	else
		fprintf(stderr, "%s: warning: %s\n", d->file, d->msg);
}

/*
 * The warnings of a policy that loaded, then "ok": a policy with warnings
 * is valid and works as written, so they do not change the exit code.
 */
static int policy_lint(const struct rule_set *rs, const char *name, bool quiet)
{
	int n = rule_set_lint(rs, print_warning, NULL);

	if (n < 0) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	if (quiet)
		return 0;
	if (n > 0)
		printf("%s: ok (%d warning%s)\n", name, n, n == 1 ? "" : "s");
	else
		printf("%s: ok\n", name);
	return 0;
}

/* ---- drift policy explain ---- */

/* One operand of explain: the entry it names. */
struct query {
	enum entry_kind kind;
	char *key; /* owned: the key, paths without '//' nor a trailing '/' */
	size_t len;
};

__attribute__((format(printf, 1, 2))) static int explain_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "drift policy explain: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nsee 'drift policy --help'\n");
	return DRIFT_EXIT_USAGE;
}

/*
 * A path as the scanner writes its keys: '/' runs made one, no trailing
 * '/' (but for the root). A "." or ".." component names no entry the
 * scanner records: refused. Returns 0 or DRIFT_EXIT_USAGE after saying why.
 */
static int query_path(const char *arg, const char *path, struct query *q)
{
	size_t n = 0;

	q->key = malloc(strlen(path) + 1);
	if (!q->key) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	for (const char *c = path; *c; c++)
		if (*c != '/' || n == 0 || q->key[n - 1] != '/')
			q->key[n++] = *c;
	if (n > 1 && q->key[n - 1] == '/')
		n--;
	q->key[n] = '\0';
	q->len = n;
	for (const char *c = q->key; *c; c++) {
		const char *end;
		size_t clen;

		if (*c != '/')
			continue;
		end = strchr(c + 1, '/');
		clen = end ? (size_t)(end - c - 1) : strlen(c + 1);
		if ((clen == 1 && c[1] == '.') || (clen == 2 && c[1] == '.' && c[2] == '.'))
			return explain_usage("'%s' has a '.' or '..' component: give the path "
					     "itself",
					     cli_path(arg, strlen(arg), 0));
	}
	return 0;
}

/* Parse PATH or KIND:KEY. Returns 0 or an exit code after saying why. */
static int query_parse(const char *arg, struct query *q)
{
	const char *colon = strchr(arg, ':');
	char kind[32];

	memset(q, 0, sizeof(*q));
	if (arg[0] == '/') {
		q->kind = ENTRY_FILE;
		return query_path(arg, arg, q);
	}
	if (!colon || (size_t)(colon - arg) >= sizeof(kind))
		return explain_usage("'%s' is neither an absolute path nor KIND:KEY (such as "
				     "user:root, package:bash:amd64, sysctl:net.ipv4.ip_forward)",
				     cli_path(arg, strlen(arg), 0));
	snprintf(kind, sizeof(kind), "%.*s", (int)(colon - arg), arg);
	if (entry_kind_parse(kind, &q->kind) < 0) {
		char allowed[160] = "";
		size_t off = 0;

		for (int k = 1; k <= ENTRY__KIND_MAX && off < sizeof(allowed); k++)
			if (entry_kind_name((enum entry_kind)k))
				off += (size_t)snprintf(allowed + off, sizeof(allowed) - off,
							"%s%s", off ? ", " : "",
							entry_kind_name((enum entry_kind)k));
		return explain_usage("unknown kind '%s' in '%s' (allowed: %s)",
				     cli_path(kind, strlen(kind), 0), cli_path(arg, strlen(arg), 1),
				     allowed);
	}
	if (!colon[1])
		return explain_usage("'%s' has no key after '%s:'", cli_path(arg, strlen(arg), 0),
				     kind);
	if (q->kind == ENTRY_FILE || q->kind == ENTRY_MOUNT) {
		if (colon[1] != '/')
			return explain_usage("the key of kind '%s' is an absolute path, not '%s'",
					     kind, cli_path(colon + 1, strlen(colon + 1), 0));
		return query_path(arg, colon + 1, q);
	}
	if (colon[1] == '/')
		return explain_usage("a key of kind '%s' is a name, not a path: '%s'", kind,
				     cli_path(colon + 1, strlen(colon + 1), 0));
	q->key = strdup(colon + 1);
	if (!q->key) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	q->len = strlen(q->key);
	return 0;
}

/* What the query names, for people: the path of a file, KIND:KEY otherwise. */
static void put_query(FILE *out, const struct query *q)
{
	if (q->kind != ENTRY_FILE)
		fprintf(out, "%s:", entry_kind_name(q->kind));
	fputs(cli_path(q->key, q->len, 0), out);
}

/* A string for people: escaped where it is not clean text. */
static const char *shown(const char *s, unsigned slot)
{
	return cli_path(s, strlen(s), slot);
}

static void put_list(FILE *out, const struct rule *r, enum rule_list which)
{
	const char *names[ATTR__COUNT + 1];
	size_t n = rule_list_names(r, which, names, ATTR__COUNT + 1);

	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", names[i]);
	if (!n)
		fputs("-", out);
}

/* "'ID' at FILE:LINE, path PATTERN" */
static void put_rule_ref(FILE *out, const struct rule *r)
{
	fprintf(out, "'%s' at %s:%u, %s %s", rule_id(r), shown(rule_file(r), 0), rule_line(r),
		rule_kind(r) == ENTRY_FILE || rule_kind(r) == ENTRY_MOUNT ? "path" : "key",
		shown(rule_pattern(r), 1));
}

static void explain_text(FILE *out, const struct rule_set *rs, const struct query *q,
			 const struct rule_explanation *ex)
{
	const char *kind = q->kind == ENTRY_FILE ? "files" : entry_kind_name(q->kind);
	const struct rule *r = ex->rule;

	put_query(out, q);
	if (r) {
		fprintf(out, ": covered by rule '%s'", rule_id(r));
		if (rule_title(r))
			fprintf(out, " (%s)", shown(rule_title(r), 0));
		fputs("\n  rule:      ", out);
		put_rule_ref(out, r);
		fprintf(out, "\n  why:       the last matching rule of %s%s wins; ",
			q->kind == ENTRY_FILE ? "" : "kind ", kind);
		if (!ex->noverridden)
			fputs("no other rule matches", out);
		else
			fprintf(out,
				"it overrides %zu earlier one%s that match%s too:", ex->noverridden,
				ex->noverridden == 1 ? "" : "s", ex->noverridden == 1 ? "es" : "");
		for (size_t i = 0; i < ex->noverridden; i++) {
			fputs("\n             ", out);
			put_rule_ref(out, ex->overridden[i]);
		}
		fputs("\n  checks:    ", out);
		put_list(out, r, RULE_LIST_CHECK);
		if (rule_list_names(r, RULE_LIST_IGNORE, NULL, 0)) {
			fputs("\n  ignores:   ", out);
			put_list(out, r, RULE_LIST_IGNORE);
		}
		if (rule_list_names(r, RULE_LIST_EXPECT, NULL, 0)) {
			fputs("\n  expects:   ", out);
			put_list(out, r, RULE_LIST_EXPECT);
			fputs(": a change of these alone is expected", out);
		} else {
			fputs("\n  expects:   nothing: a change of what it checks is drift", out);
		}
		fprintf(out, "\n  severity:  %s (added: %s)\n", severity_name(rule_severity(r)),
			severity_name(rule_when_added(r)));
		if (q->kind == ENTRY_FILE)
			fprintf(out, "  magic:     %s\n",
				rule_magic(r) ? "yes (new or changed executables are escalated)"
					      : "no");
	} else if (ex->excluded) {
		if (ex->excluded_by) {
			fprintf(out, ": excluded by rule '%s'", rule_id(ex->excluded_by));
			if (rule_title(ex->excluded_by))
				fprintf(out, " (%s)", shown(rule_title(ex->excluded_by), 0));
			fputs("\n  rule:      ", out);
			put_rule_ref(out, ex->excluded_by);
			fputs(", exclude: true\n", out);
		} else {
			fprintf(out, ": excluded by scan.exclude '%s' (%s)\n",
				shown(ex->excluded_pattern, 0), shown(rule_set_source(rs), 1));
		}
		fprintf(out,
			"  why:       exclusions win over every rule of %s%s, whatever "
			"their order: it is not recorded, nor anything below it\n",
			q->kind == ENTRY_FILE ? "" : "kind ", kind);
		if (ex->unless_excluded) {
			fputs("  otherwise: ", out);
			put_rule_ref(out, ex->unless_excluded);
			fputs(" would cover it\n", out);
		}
	} else {
		fprintf(out, ": covered by no rule%s%s: not recorded\n",
			q->kind == ENTRY_FILE ? "" : " of kind ",
			q->kind == ENTRY_FILE ? "" : kind);
		if (q->kind == ENTRY_FILE)
			fputs(ex->below ? "  below:     a rule may cover paths below it, so "
					  "a scan enters it\n"
					: "  below:     no rule covers anything below it, so "
					  "a scan does not enter it\n",
			      out);
	}
	if (q->kind == ENTRY_FILE && !ex->in_roots) {
		const struct rule_scan *scan = rule_set_scan(rs);

		fputs("  roots:     not below a scan root (", out);
		for (size_t i = 0; i < scan->nroots && i < 5; i++)
			fprintf(out, "%s%s", i ? ", " : "",
				i < 4 ? shown(scan->roots[i], 0) : "...");
		fputs("): only a root given on the command line reaches it\n", out);
	}
	if (q->kind == ENTRY_FILE && !ex->excluded) {
		if (ex->content == RULE_CONTENT_SECRET)
			fputs("  content:   secret: never kept, never shown", out);
		else if (ex->content == RULE_CONTENT_KEEP)
			fputs("  content:   kept (a regular file up to 64 KiB, when hashed)", out);
		else
			fputs("  content:   not kept", out);
		if (ex->content_rule) {
			fputs(", by ", out);
			put_rule_ref(out, ex->content_rule);
			if (ex->content == RULE_CONTENT_SECRET)
				fputs(" (secret wins over keep_content)", out);
		}
		fputc('\n', out);
	}
	if (ex->probe)
		fprintf(out, "  probe:     %s, which %s\n", ex->probe,
			ex->probe_runs ? "runs"
				       : "does not run (not in scan.probes): nothing of this "
					 "kind is recorded");
}

/* A JSON string: exact when clean text, else the display form. */
static void json_str(FILE *out, const char *s, size_t len)
{
	if (!escape_is_clean(s, len)) {
		s = cli_path(s, len, 3);
		len = strlen(s);
	}
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_cstr(FILE *out, const char *s)
{
	if (s)
		json_str(out, s, strlen(s));
	else
		fputs("null", out);
}

static void json_list(FILE *out, const struct rule *r, enum rule_list which)
{
	const char *names[ATTR__COUNT + 1];
	size_t n = rule_list_names(r, which, names, ATTR__COUNT + 1);

	fputc('[', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", names[i]);
	fputc(']', out);
}

static void json_rule(FILE *out, const struct rule *r)
{
	if (!r) {
		fputs("null", out);
		return;
	}
	fputs("{\"id\": ", out);
	json_cstr(out, rule_id(r));
	fputs(", \"title\": ", out);
	json_cstr(out, rule_title(r));
	fputs(", \"file\": ", out);
	json_cstr(out, rule_file(r));
	fprintf(out,
		", \"line\": %u, \"column\": %u, \"kind\": \"%s\", \"pattern\": ", rule_line(r),
		rule_column(r), entry_kind_name(rule_kind(r)));
	json_cstr(out, rule_pattern(r));
	if (rule_exclude(r)) {
		fputs(", \"exclude\": true, \"check\": null, \"ignore\": null, "
		      "\"expect\": null, \"severity\": null, \"when_added\": null, "
		      "\"magic\": null, \"keep_content\": null, \"secret\": null}",
		      out);
		return;
	}
	fputs(", \"exclude\": false, \"check\": ", out);
	json_list(out, r, RULE_LIST_CHECK);
	fputs(", \"ignore\": ", out);
	json_list(out, r, RULE_LIST_IGNORE);
	fputs(", \"expect\": ", out);
	json_list(out, r, RULE_LIST_EXPECT);
	bool keep = false;
	bool keep_set = rule_keep_content(r, &keep);

	fprintf(out,
		", \"severity\": \"%s\", \"when_added\": \"%s\", \"magic\": %s,"
		" \"keep_content\": %s, \"secret\": %s}",
		severity_name(rule_severity(r)), severity_name(rule_when_added(r)),
		rule_magic(r) ? "true" : "false",
		!keep_set ? "null"
		: keep    ? "true"
			  : "false",
		rule_secret(r) ? "true" : "false");
}

/* Returns 0 or -ENOMEM. */
static int explain_json(FILE *out, const struct query *q, const struct rule_explanation *ex)
{
	fprintf(out, "{\"kind\": \"%s\", \"key\": ", entry_kind_name(q->kind));
	json_str(out, q->key, q->len);
	if (!escape_is_clean(q->key, q->len)) {
		/* The exact bytes, as the JSON report gives them (docs/json-report.md). */
		unsigned char *b64 = malloc(4 * ((q->len + 2) / 3) + 1);
		if (!b64)
			return -ENOMEM;
		EVP_EncodeBlock(b64, (const unsigned char *)q->key, (int)q->len);
		fprintf(out, ", \"key_b64\": \"%s\"", b64);
		free(b64);
	}
	fprintf(out, ", \"decision\": \"%s\", \"rule\": ",
		ex->rule       ? "covered"
		: ex->excluded ? "excluded"
			       : "uncovered");
	json_rule(out, ex->rule);
	fputs(", \"overridden\": [", out);
	for (size_t i = 0; i < ex->noverridden; i++) {
		fputs(i ? ", " : "", out);
		json_rule(out, ex->overridden[i]);
	}
	fputs("], \"excluded_by\": ", out);
	json_rule(out, ex->excluded_by);
	fputs(", \"excluded_by_scan_exclude\": ", out);
	json_cstr(out, ex->excluded_pattern);
	fputs(", \"unless_excluded\": ", out);
	json_rule(out, ex->unless_excluded);
	if (q->kind == ENTRY_FILE) {
		static const char *const content[] = { "none", "keep", "secret" };

		fprintf(out, ", \"content\": %s%s%s, \"content_rule\": ", ex->excluded ? "" : "\"",
			ex->excluded ? "null" : content[ex->content], ex->excluded ? "" : "\"");
		json_rule(out, ex->content_rule);
	}
	if (q->kind == ENTRY_FILE)
		fprintf(out,
			", \"below\": %s, \"in_scan_roots\": %s, \"probe\": null, "
			"\"probe_runs\": null}",
			ex->excluded ? "null"
			: ex->below  ? "true"
				     : "false",
			ex->in_roots ? "true" : "false");
	else
		fprintf(out,
			", \"below\": null, \"in_scan_roots\": null, \"probe\": %s%s%s, "
			"\"probe_runs\": %s}",
			ex->probe ? "\"" : "", ex->probe ? ex->probe : "null",
			ex->probe ? "\"" : "",
			ex->probe ? (ex->probe_runs ? "true" : "false") : "null");
	return 0;
}

static int policy_explain(struct cli_args *args)
{
	struct rule_set *rs = NULL;
	bool json = args->format == REPORT_JSON;
	size_t n = args->noperands - 1;
	struct query *q;
	int code = 0;

	if (n == 0)
		return explain_usage("takes one PATH or KIND:KEY or more");
	q = calloc(n, sizeof(*q));
	if (!q) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	/* Every operand is checked before the policy is read, and before any output. */
	for (size_t i = 0; i < n && !code; i++)
		code = query_parse(args->operands[i + 1], &q[i]);
	if (!code)
		code = cli_policy_load(args, &rs);
	if (!code && json) {
		fputs("{\"policy\": ", stdout);
		json_cstr(stdout, rule_set_source(rs));
		fputs(", \"explanations\": [\n  ", stdout);
	}
	for (size_t i = 0; i < n && !code; i++) {
		struct rule_explanation ex;
		int r = rule_set_explain(rs, q[i].kind, q[i].key, q[i].len, &ex);

		if (r >= 0 && json) {
			fputs(i ? ",\n  " : "", stdout);
			r = explain_json(stdout, &q[i], &ex);
		} else if (r >= 0) {
			fputs(i ? "\n" : "", stdout);
			explain_text(stdout, rs, &q[i], &ex);
		}
		if (r >= 0)
			rule_explanation_release(&ex);
		if (r < 0) {
			cli_error("out of memory");
			code = DRIFT_EXIT_INTERNAL;
		}
	}
	if (!code && json)
		fputs("\n]}\n", stdout);
	if (!code && (fflush(stdout) != 0 || ferror(stdout))) {
		cli_error("cannot write to standard output: %s", strerror(errno));
		code = DRIFT_EXIT_OUTPUT;
	}
	for (size_t i = 0; i < n; i++)
		free(q[i].key);
	free(q);
	rule_set_free(rs);
	return code;
}

static int cmd_policy(struct cli_args *args)
{
	struct rule_set *rs = NULL;
	const char *sub = args->noperands ? args->operands[0] : NULL;
	int code;

	if (sub && !strcmp(sub, "explain"))
		return policy_explain(args);
	if (!sub || (strcmp(sub, "check") && strcmp(sub, "show")) ||
	    (!strcmp(sub, "show") && args->noperands > 1) || args->noperands > 2) {
		fprintf(stderr,
			"drift policy: takes 'check [FILE]', 'show' or 'explain PATH|KIND:KEY'\n"
			"see 'drift policy --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (args->format != REPORT_TEXT) {
		fprintf(stderr, "drift policy: --format is for 'explain'\n"
				"see 'drift policy --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	if (!strcmp(sub, "check") && args->noperands == 2) {
		/* Checking a file someone hands us reads it, nothing more: no StrictModes. */
		code = cli_policy_load_file(args->operands[1], &rs);
		if (!code)
			code = policy_lint(rs, args->operands[1], args->quiet);
		rule_set_free(rs);
		return code;
	}
	code = cli_policy_load(args, &rs);
	if (code)
		return code;
	if (!strcmp(sub, "check")) {
		code = policy_lint(rs, rule_set_source(rs), args->quiet);
	} else if (rule_set_show(rs, stdout) < 0) {
		cli_error("cannot write to standard output: %s", strerror(errno));
		code = DRIFT_EXIT_OUTPUT;
	}
	rule_set_free(rs);
	return code;
}

const struct cli_command cmd_policy_def = {
	.name = "policy",
	.summary = "validate, show or explain the policy",
	.usage = "usage: drift policy check [FILE]\n"
		 "       drift policy show [--policy FILE]\n"
		 "       drift policy explain [--policy FILE] [--format json] PATH|KIND:KEY...\n"
		 "\n"
		 "check: validate FILE (default: the policy drift would use) and print every\n"
		 "problem as FILE:LINE:COLUMN: MESSAGE; exit 17 if there is any. Warnings\n"
		 "(FILE:LINE:COLUMN: warning: MESSAGE) name what a valid policy may still get\n"
		 "wrong: a probe whose entries no rule covers, a rule that never matches or\n"
		 "never decides; they do not change the exit code.\n"
		 "show: print the effective policy, with defaults filled in and groups expanded.\n"
		 "explain: say which rule decides a path (/etc/ssh/sshd_config) or an entry of\n"
		 "system state (user:root, package:bash:amd64, sysctl:net.ipv4.ip_forward), from\n"
		 "which file and line, which earlier rules it overrides (the last matching rule\n"
		 "wins), and what it checks; or what excludes it, or that no rule covers it.\n"
		 "\n"
		 "The policy is --policy FILE, else /etc/drift/policy.yaml as root\n"
		 "($XDG_CONFIG_HOME/drift/policy.yaml otherwise) if it exists, else the built-in\n"
		 "default ('--policy builtin' asks for it). See drift-policy(5).\n"
		 "\n"
		 "options:\n"
		 "  --policy FILE      the policy file\n"
		 "  --allow-insecure   as root, use a policy file that others could have written\n"
		 "  --format FORMAT    explain: text (default) or json\n"
		 "  -q, --quiet        print only problems\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_POLICY | OPT_ALLOW_INSECURE | OPT_QUIET | OPT_FORMAT,
	.run = cmd_policy,
};
