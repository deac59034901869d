/*
 * drift show SNAPSHOT PATH: the kept content of PATH as it was in SNAPSHOT,
 * raw, on stdout.
 *
 * Order of the checks: the snapshot, then the policy in force (a file it
 * marks secret is refused even when an older policy kept its bytes), then
 * the entry, then whether its content was kept. The bytes come from the
 * store, checked against their SHA-256 (snap_content_get()).
 */
#include "cli/cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/diag.h"
#include "common/banned.h"

static const char keep_hint[] =
	"the policy keeps regular files up to 64 KiB under keep_content rules";

/* Why @e has no content, as far as the entry tells. */
static const char *not_kept_why(const struct entry *e)
{
	if (!S_ISREG(e->mode))
		return " (not a regular file)";
	if (e->size > SCAN_KEEP_MAX)
		return " (larger than 64 KiB)";
	return "";
}

static int cmd_show(struct cli_args *args)
{
	struct snap_store *st = NULL;
	struct snap_lookup *lk = NULL;
	struct rule_set *rs = NULL;
	struct snap_info info = { 0 };
	const struct entry *e = NULL;
	struct diag d = { 0 };
	uint8_t *bytes = NULL;
	size_t len = 0, plen;
	const char *path;
	int r, code;

	if (args->noperands != 2) {
		fprintf(stderr, "drift show: takes a SNAPSHOT and a PATH\n"
				"see 'drift show --help'\n");
		return DRIFT_EXIT_USAGE;
	}
	path = args->operands[1];
	plen = strlen(path);
	/* Keys have no trailing slash; "/" stays itself. */
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (path[0] != '/') {
		fprintf(stderr, "drift show: PATH must be absolute, not '%s'\n",
			cli_path(path, plen, 0));
		return DRIFT_EXIT_USAGE;
	}

	code = cli_policy_load(args, &rs);
	if (code)
		return code;
	code = cli_store_open(args, SNAP_OPEN_READ, &st);
	if (code)
		goto out;
	r = snap_find(st, args->operands[0], &info, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_USAGE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (rule_set_content(rs, path, plen, NULL) == RULE_CONTENT_SECRET) {
		cli_error("%s is marked secret by the policy: its content is never kept or shown",
			  cli_path(path, plen, 0));
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	r = snap_lookup_open(snap_store_path(st), info.id, &lk, &d);
	if (r >= 0)
		r = snap_lookup_get(lk, ENTRY_FILE, path, plen, &e, &d);
	if (r < 0) {
		cli_error("%s", d.msg);
		code = exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if (r == 0) {
		cli_error("snapshot '%s' has no entry %s", args->operands[0],
			  cli_path(path, plen, 0));
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	if (!e->has_content) {
		cli_error("content of %s was not kept%s: %s", cli_path(path, plen, 0),
			  not_kept_why(e), keep_hint);
		code = DRIFT_EXIT_USAGE;
		goto out;
	}
	r = snap_content_get(st, e->content_id, &bytes, &len, &d);
	if (r < 0) {
		cli_error("cannot read the content of %s: %s", cli_path(path, plen, 0), d.msg);
		code = r == -ENOENT ? DRIFT_EXIT_DATABASE : exit_code_for_error(CLI_STAGE_STORE, r);
		goto out;
	}
	if ((len && fwrite(bytes, 1, len, stdout) != len) || fflush(stdout) != 0) {
		cli_error("cannot write to stdout: %s", strerror(errno));
		code = DRIFT_EXIT_OUTPUT;
		goto out;
	}
	code = DRIFT_EXIT_CLEAN;
out:
	free(bytes);
	snap_lookup_free(lk);
	snap_info_release(&info);
	snap_store_free(st);
	rule_set_free(rs);
	return code;
}

const struct cli_command cmd_show_def = {
	.name = "show",
	.summary = "print a file's kept content as a snapshot has it",
	.usage = "usage: drift show [options] SNAPSHOT PATH\n"
		 "\n"
		 "Print the content of PATH as it was in SNAPSHOT (a label or an id, see\n"
		 "'drift snapshots'), byte for byte, to stdout. Only kept content can be\n"
		 "shown: the policy keeps regular files up to 64 KiB under rules with\n"
		 "keep_content (the default policy: /etc). A file the policy in force marks\n"
		 "secret is never shown, whatever an older policy kept.\n"
		 "\n"
		 "Exit code 0; 16 when SNAPSHOT or the entry does not exist, the content was\n"
		 "not kept or is secret; 19 for a database problem; 22 when stdout fails.\n"
		 "\n"
		 "options:\n"
		 "  --db PATH          database (default: /var/lib/drift/drift.db as root,\n"
		 "                     $XDG_STATE_HOME/drift/drift.db otherwise)\n"
		 "  --policy FILE      the policy that says what is secret (default:\n"
		 "                     /etc/drift/policy.yaml as root, else the built-in one)\n"
		 "  --allow-insecure   as root, read a database others could have written\n"
		 "  -h, --help         show this help\n",
	.opts = OPT_DB | OPT_POLICY | OPT_ALLOW_INSECURE,
	.run = cmd_show,
};
