/*
 * The "package" probe: one ENTRY_PACKAGE entry per package of the dpkg
 * status file (scanner/dpkg.h), keyed "name:arch", with the properties
 * version, status and architecture. It reads the status file only, never
 * the file lists: a few milliseconds for a thousand packages.
 */
#include "scanner/probe.h"

#include <errno.h>
#include <string.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"
#include "scanner/dpkg.h"

#include "common/banned.h"

static int package_run(const struct probe_ctx *ctx, struct diag *reterr)
{
	struct strbuf key = STRBUF_INIT, props = STRBUF_INIT;
	struct dpkg_db *db = NULL;
	int r;

	r = dpkg_db_load(ctx->rootfd, ctx->finding, ctx->userdata, &db, reterr);
	if (r == -ENOENT)
		return PROBE_UNAVAILABLE;
	if (r < 0)
		return r;
	for (size_t i = 0; i < dpkg_db_count(db); i++) {
		const struct dpkg_pkg *p = dpkg_db_get(db, i);
		struct entry_prop pr[] = {
			{ "version", p->version, strlen(p->version) },
			{ "status", p->status, strlen(p->status) },
			{ "architecture", p->arch, strlen(p->arch) },
		};

		strbuf_reset(&key);
		if (strbuf_adds(&key, p->name) < 0 || (*p->arch && strbuf_addch(&key, ':') < 0) ||
		    strbuf_adds(&key, p->arch) < 0 ||
		    entry_props_encode(&props, pr, sizeof(pr) / sizeof(pr[0])) < 0) {
			r = diag_set(reterr, -ENOMEM, "out of memory");
			goto out;
		}
		r = probe_emit_entry(ctx, ENTRY_PACKAGE, key.buf, key.len, &props);
		if (r < 0)
			goto out;
	}
	r = 0;
out:
	strbuf_release(&key);
	strbuf_release(&props);
	dpkg_db_free(db);
	return r;
}

static const enum entry_kind package_kinds[] = { ENTRY_PACKAGE, 0 };

extern const struct probe probe_package;

const struct probe probe_package = {
	.name = "package",
	.kinds = package_kinds,
	.summary = "installed Debian packages (var/lib/dpkg/status): version, status",
	.run = package_run,
};
