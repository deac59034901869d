/* Snapshots for the tests of compare/, written through the store's writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/compare/snap.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>
#include <xxhash.h>

#include "common/diag.h"
#include "common/entry.h"
#include "common/strbuf.h"

#include "common/banned.h"

void md5_of(const char *text, uint8_t ret[16])
{
	unsigned int n = 0;

	assert_int_equal(EVP_Digest(text, strlen(text), ret, &n, EVP_md5(), NULL), 1);
	assert_int_equal(n, 16);
}

static struct entry file_entry(const struct tfile *f)
{
	struct entry e = { 0 };

	e.kind = ENTRY_FILE;
	e.key = f->path;
	e.key_len = strlen(f->path);
	e.mode = f->mode ? f->mode : S_IFREG | 0644;
	e.uid = f->uid;
	e.mtime_ns = e.ctime_ns = f->mtime ? f->mtime : T0;
	e.ino = f->ino ? f->ino : 1000;
	e.dev = 2049;
	e.nlink = 1;
	if (S_ISREG(e.mode)) {
		const char *c = f->content ? f->content : "";
		size_t len = f->content_len ? f->content_len : strlen(c);
		XXH128_canonical_t canon;

		XXH128_canonicalFromHash(&canon, XXH3_128bits(c, len));
		e.size = len;
		e.hash_algo = HASH_XXH3_128;
		e.hash_len = 16;
		memcpy(e.hash, canon.digest, 16);
	} else if (S_ISLNK(e.mode)) {
		assert_non_null(f->target);
		e.target = f->target;
		e.target_len = strlen(f->target);
		e.size = e.target_len;
	} else if (S_ISDIR(e.mode)) {
		e.size = 4096;
		e.nlink = 2;
	}
	return e;
}

static void package_entry(struct snap_writer *w, const struct tpkg *p)
{
	const char *arch = p->arch ? p->arch : "amd64";
	struct strbuf key = STRBUF_INIT, props = STRBUF_INIT;
	struct entry_prop pr[] = {
		{ "version", p->version, strlen(p->version) },
		{ "status", "install ok installed", strlen("install ok installed") },
		{ "architecture", arch, strlen(arch) },
	};
	struct entry e = { 0 };
	struct diag d = { 0 };

	assert_int_equal(strbuf_addf(&key, "%s:%s", p->name, arch), 0);
	assert_int_equal(entry_props_encode(&props, pr, sizeof(pr) / sizeof(pr[0])), 0);
	e.kind = ENTRY_PACKAGE;
	e.key = key.buf;
	e.key_len = key.len;
	e.props = (const uint8_t *)props.buf;
	e.props_len = props.len;
	assert_int_equal(snap_writer_add(w, &e, &d), 0);
	strbuf_release(&key);
	strbuf_release(&props);
}

static void package_link(struct snap_writer *w, const struct tpkg *p)
{
	struct diag d = { 0 };
	bool known = true;

	assert_int_equal(snap_writer_add_package(w, p->name, p->arch ? p->arch : "amd64",
						 p->version, &known, &d),
			 0);
	if (known) /* a version's list never changes: stored once */
		return;
	for (const struct tpkgfile *f = p->files; f->path; f++) {
		uint8_t md5[16];

		if (f->sum_of)
			md5_of(f->sum_of, md5);
		assert_int_equal(snap_writer_add_package_file(w, f->path, strlen(f->path),
							      f->sum_of ? md5 : NULL, f->conffile,
							      &d),
				 0);
	}
}

static void state_entry(struct snap_writer *w, const struct tentry *t)
{
	struct entry_prop pr[10];
	struct strbuf props = STRBUF_INIT;
	struct entry e = { 0 };
	struct diag d = { 0 };
	size_t n = 0;

	for (; n < 10 && t->props[n]; n++) {
		const char *eq = strchr(t->props[n], '=');

		assert_non_null(eq);
		pr[n].name = strndup(t->props[n], (size_t)(eq - t->props[n]));
		pr[n].value = eq + 1;
		pr[n].value_len = strlen(eq + 1);
	}
	assert_int_equal(entry_props_encode(&props, pr, n), 0);
	e.kind = t->kind;
	e.key = t->key;
	e.key_len = strlen(t->key);
	e.props = (const uint8_t *)props.buf;
	e.props_len = props.len;
	if (snap_writer_add(w, &e, &d) < 0)
		fail_msg("snap_writer_add '%s': %s", t->key, d.msg);
	for (size_t i = 0; i < n; i++)
		free((void *)(uintptr_t)pr[i].name);
	strbuf_release(&props);
}

/* The probe that records entries of @kind. */
static const char *probe_of(enum entry_kind kind)
{
	switch (kind) {
	case ENTRY_USER:
	case ENTRY_GROUP:
		return "user";
	case ENTRY_SERVICE:
		return "service";
	case ENTRY_PACKAGE:
		return "package";
	default:
		return entry_kind_name(kind);
	}
}

void side_write(struct snap_store *st, const struct side *s, const char *label,
		struct snap_info *ret)
{
	static const char *const roots[] = { "/" };
	const char *probes[8];
	size_t nprobes = 0;
	struct snap_new p = { 0 };
	struct snap_writer *w = NULL;
	struct diag d = { 0 };

	p.purpose = s->purpose;
	p.label = s->label ? s->label : label;
	p.host = "testhost";
	p.roots = roots;
	p.nroots = 1;
	p.hash = HASH_XXH3_128;
	if (s->package_probe)
		probes[nprobes++] = "package";
	for (const struct tentry *t = s->entries; t->kind; t++) {
		const char *name = probe_of(t->kind);
		bool seen = false;

		for (size_t i = 0; i < nprobes; i++)
			seen |= !strcmp(probes[i], name);
		if (!seen && nprobes < 8)
			probes[nprobes++] = name;
	}
	if (nprobes) {
		p.probes = probes;
		p.nprobes = nprobes;
	}
	if (snap_writer_begin(st, &p, &w, &d) < 0)
		fail_msg("snap_writer_begin: %s", d.msg);
	for (const struct tfile *f = s->files; f->path; f++) {
		struct entry e = file_entry(f);

		if (snap_writer_add(w, &e, &d) < 0)
			fail_msg("snap_writer_add '%s': %s", f->path, d.msg);
	}
	/* The writer takes the kinds in entry_kind order: files, then the state's. */
	for (int kind = ENTRY_FILE + 1; kind <= ENTRY_MOUNT; kind++) {
		if (kind == ENTRY_PACKAGE)
			for (const struct tpkg *pk = s->pkgs; pk->name; pk++)
				package_entry(w, pk);
		for (const struct tentry *t = s->entries; t->kind; t++)
			if ((int)t->kind == kind)
				state_entry(w, t);
	}
	for (const struct tpkg *pk = s->pkgs; pk->name; pk++) {
		if (!s->no_ownership)
			package_link(w, pk);
	}
	if (snap_writer_commit(w, ret, &d) < 0)
		fail_msg("snap_writer_commit: %s", d.msg);
}
