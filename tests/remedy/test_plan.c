/*
 * remedy/plan.c's plan files: steps as lines and back (remedy_step_encode,
 * remedy_step_decode), whole plans written and read (remedy_plan_write,
 * remedy_plan_read) byte-exact for any key, the refusals with the line
 * they name, remedy_plan_equal() field by field, and the sentences of
 * remedy_step_describe(). In memory only (open_memstream, fmemopen).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "remedy/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/diag.h"
#include "common/strbuf.h"

#define LONG_KEY 5000

static char *xstrdup(const char *s)
{
	char *d = s ? strdup(s) : NULL;

	assert_true(!s || d);
	return d;
}

/* Append a step to @p; @key is @key_len bytes (no NUL among them). */
static struct remedy_step *add(struct remedy_plan *p, enum remedy_action action,
			       enum entry_kind kind, const char *key, size_t key_len)
{
	struct remedy_step *s;

	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->v = realloc(p->v, p->cap * sizeof(*p->v));
		assert_non_null(p->v);
	}
	s = &p->v[p->n++];
	memset(s, 0, sizeof(*s));
	s->action = action;
	s->kind = kind;
	s->key = malloc(key_len + 1);
	assert_non_null(s->key);
	memcpy(s->key, key, key_len);
	s->key[key_len] = '\0';
	s->key_len = key_len;
	s->change = CHANGE_MODIFIED;
	s->severity = SEVERITY_HIGH;
	s->mode = RULE_REMEDIATE_PLAN;
	return s;
}

static struct remedy_step *adds(struct remedy_plan *p, enum remedy_action action,
				enum entry_kind kind, const char *key)
{
	return add(p, action, kind, key, strlen(key));
}

/* A plan with every action kind and every awkward key. */
static void make_plan(struct remedy_plan *p)
{
	char ctl[32], high[131], lng[LONG_KEY];
	struct remedy_step *s;
	size_t n = 0;

	memset(p, 0, sizeof(*p));
	p->run = 7;
	p->baseline = 3;
	p->after = 5;
	p->algo = HASH_SHA256;

	s = adds(p, REMEDY_META, ENTRY_FILE, "/etc/with space/and%percent");
	s->attrs = ATTR_MODE | ATTR_UID | ATTR_ACL;
	s->text = xstrdup("mode 0755 -> 0644, owner");
	s->mode = RULE_REMEDIATE_AUTO;
	s = adds(p, REMEDY_CONTENT, ENTRY_FILE, "/etc/new\nline\r\t");
	s->source = REMEDY_SOURCE_KEPT;
	s->attrs = ATTR_MODE;
	s->severity = SEVERITY_INFO;
	/* Bytes 0x01-0x1f (with '/' first: a path). */
	ctl[n++] = '/';
	for (int c = 1; c < 0x20; c++)
		ctl[n++] = (char)c;
	s = add(p, REMEDY_CREATE, ENTRY_FILE, ctl, n);
	s->change = CHANGE_REMOVED;
	s->source = REMEDY_SOURCE_DEB;
	s->package = xstrdup("hello:amd64");
	s->version = xstrdup("1:2.10-3+deb12u1~bpo 100%");
	s->severity = SEVERITY_CRITICAL;
	/* Bytes 0x7f-0xff. */
	n = 0;
	high[n++] = '/';
	for (int c = 0x7f; c <= 0xff; c++)
		high[n++] = (char)c;
	s = add(p, REMEDY_SYMLINK, ENTRY_FILE, high, n);
	s->severity = SEVERITY_LOW;
	/* A long key. */
	lng[0] = '/';
	for (size_t i = 1; i < LONG_KEY; i++)
		lng[i] = i % 97 == 0 ? '/' : i % 13 == 0 ? ' ' : (char)('a' + i % 26);
	s = add(p, REMEDY_QUARANTINE, ENTRY_FILE, lng, LONG_KEY);
	s->change = CHANGE_ADDED;
	s->mode = RULE_REMEDIATE_AUTO;
	s = adds(p, REMEDY_SYSCTL, ENTRY_SYSCTL, "net.ipv4.ip_forward");
	s->text = xstrdup("0");
	s->severity = SEVERITY_MEDIUM;
	s = adds(p, REMEDY_COMMAND, ENTRY_PACKAGE, "hello:amd64");
	s->text = xstrdup("apt-get install --allow-downgrades hello=1.0-1");
	s = adds(p, REMEDY_CANNOT, ENTRY_PORT, "tcp/0.0.0.0:22");
	s->text = xstrdup("a listening socket: stop or reconfigure the program behind it "
			  "(ss -ltnup)\n100% \x01\xff");
	s->change = CHANGE_ADDED;
	s = adds(p, REMEDY_COMMAND, ENTRY_SERVICE, "ssh.service");
	s->text = xstrdup("systemctl enable ssh.service");
	s->package = xstrdup("openssh-server:amd64");
	s = adds(p, REMEDY_CANNOT, ENTRY_MOUNT, "/mnt/a b");
	s->text = xstrdup("x");
	s->version = xstrdup("v");
	s->mode = RULE_REMEDIATE_NO;
}

/* Every field of every step, severity too. */
static void assert_plan(const struct remedy_plan *got, const struct remedy_plan *want)
{
	assert_int_equal(got->run, want->run);
	assert_int_equal(got->baseline, want->baseline);
	assert_int_equal(got->after, want->after);
	assert_int_equal(got->algo, want->algo);
	assert_int_equal(got->n, want->n);
	for (size_t i = 0; i < want->n; i++) {
		const struct remedy_step *x = &got->v[i], *y = &want->v[i];

		assert_int_equal(x->action, y->action);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->key_len, y->key_len);
		assert_memory_equal(x->key, y->key, y->key_len);
		assert_int_equal(x->key[x->key_len], '\0');
		assert_int_equal(x->change, y->change);
		assert_int_equal(x->severity, y->severity);
		assert_int_equal(x->mode, y->mode);
		assert_int_equal(x->attrs, y->attrs);
		assert_int_equal(x->source, y->source);
		if (y->package)
			assert_string_equal(x->package, y->package);
		else
			assert_null(x->package);
		if (y->version)
			assert_string_equal(x->version, y->version);
		else
			assert_null(x->version);
		if (y->text)
			assert_string_equal(x->text, y->text);
		else
			assert_null(x->text);
	}
	assert_true(remedy_plan_equal(got, want));
	assert_true(remedy_plan_equal(want, got));
}

/* remedy_plan_write() of @p, as bytes (malloc'd). */
static char *write_plan(const struct remedy_plan *p, size_t *ret_len)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(remedy_plan_write(p, f), 0);
	assert_int_equal(fclose(f), 0);
	*ret_len = len;
	return buf;
}

static int read_plan(const char *text, size_t len, struct remedy_plan *ret, struct diag *d)
{
	/* A copy of its exact size, so that ASan sees any read past its end. */
	char *copy = malloc(len ? len : 1);
	FILE *f;
	int r;

	assert_non_null(copy);
	if (len)
		memcpy(copy, text, len);
	else
		copy[0] = '\0';
	f = fmemopen(copy, len ? len : 1, "r");
	assert_non_null(f);
	if (!len) /* fmemopen wants a size: read nothing of one byte */
		assert_int_equal(fgetc(f), 0);
	r = remedy_plan_read(f, "saved.plan", ret, d);
	fclose(f);
	free(copy);
	return r;
}

static void test_round_trip(void **state)
{
	struct remedy_plan p, q = { 0 };
	struct diag d = { 0 };
	size_t len, lines = 0;
	char *text;

	(void)state;
	make_plan(&p);
	text = write_plan(&p, &len);
	assert_true(len > LONG_KEY);

	/* Nothing but printable ASCII and the newlines that end lines. */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];

		if (c == '\n')
			lines++;
		else if (c < 0x20 || c >= 0x7f)
			fail_msg("raw byte 0x%02x at offset %zu of the plan file", c, i);
	}
	/* A header, then a comment and a step line per step. */
	assert_int_equal(lines, 1 + 2 * p.n);
	assert_int_equal(text[len - 1], '\n');
	assert_memory_equal(text, "drift-plan 1 run=7 baseline=3 after=5 hash=sha256\n", 50);

	assert_int_equal(read_plan(text, len, &q, &d), 0);
	assert_plan(&q, &p);

	/* And what was read writes the same bytes again. */
	{
		size_t len2;
		char *text2 = write_plan(&q, &len2);

		assert_int_equal(len2, len);
		assert_memory_equal(text2, text, len);
		free(text2);
	}
	free(text);
	remedy_plan_release(&q);

	/* Empty plans too. */
	remedy_plan_release(&p);
	p.run = 1;
	p.algo = HASH_XXH3_128;
	text = write_plan(&p, &len);
	assert_int_equal(read_plan(text, len, &q, &d), 0);
	assert_plan(&q, &p);
	assert_int_equal(q.n, 0);
	free(text);
	remedy_plan_release(&q);
}

static void test_step_lines(void **state)
{
	struct remedy_plan p, q = { 0 };
	struct strbuf sb = STRBUF_INIT;

	(void)state;
	make_plan(&p);
	for (size_t i = 0; i < p.n; i++) {
		strbuf_reset(&sb);
		assert_int_equal(remedy_step_encode(&p.v[i], &sb), 0);
		assert_null(memchr(sb.buf, '\n', sb.len));
		assert_int_equal(strlen(sb.buf), sb.len);
		assert_int_equal(remedy_step_decode(&q, sb.buf), 0);
	}
	q.run = p.run;
	q.baseline = p.baseline;
	q.after = p.after;
	q.algo = p.algo;
	assert_plan(&q, &p);

	/* The line of a known step, exactly. */
	strbuf_reset(&sb);
	assert_int_equal(remedy_step_encode(&p.v[0], &sb), 0);
	assert_string_equal(sb.buf,
			    "restore-meta file modified high attrs=8006 source=none mode=auto "
			    "/etc/with%20space/and%25percent - - mode%200755%20->%200644,"
			    "%20owner");
	strbuf_release(&sb);
	remedy_plan_release(&p);
	remedy_plan_release(&q);
}

/* @text read must fail with -EINVAL, a message containing @msg, and nothing left in the plan. */
static void assert_refused(const char *text, const char *msg)
{
	struct remedy_plan q;
	struct diag d = { 0 };
	int r;

	memset(&q, 0x5a, sizeof(q));
	r = read_plan(text, strlen(text), &q, &d);
	if (r != -EINVAL)
		fail_msg("reading \"%s\": %d, not -EINVAL", text, r);
	if (!strstr(d.msg, msg))
		fail_msg("reading \"%s\": message \"%s\" lacks \"%s\"", text, d.msg, msg);
	assert_int_equal(q.n, 0);
	assert_null(q.v);
}

#define HEADER "drift-plan 1 run=7 baseline=3 after=5 hash=sha256\n"
#define GOOD   "step restore-meta file modified high attrs=2 source=none mode=plan /etc/a - - -\n"

static void test_read_errors(void **state)
{
	static const char *const bad_steps[] = {
		/* fields missing, or one too many */
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/a - -",
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/a - - - x",
		"step",
		"step ",
		"nonsense",
		"restore-meta file modified high attrs=2 source=none mode=plan /etc/a - - -",
		/* each word unknown */
		"step restore-all file modified high attrs=2 source=none mode=plan /etc/a - - -",
		"step restore-meta disk modified high attrs=2 source=none mode=plan /etc/a - - -",
		"step restore-meta file changed high attrs=2 source=none mode=plan /etc/a - - -",
		"step restore-meta file modified severe attrs=2 source=none mode=plan /etc/a - - -",
		"step restore-meta file modified high attr=2 source=none mode=plan /etc/a - - -",
		"step restore-meta file modified high attrs=2 source=web mode=plan /etc/a - - -",
		"step restore-meta file modified high attrs=2 src=none mode=plan /etc/a - - -",
		"step restore-meta file modified high attrs=2 source=none mode=always /etc/a - - -",
		"step restore-meta file modified high attrs=2 source=none remediate=plan /etc/a - - -",
		/* escapes: bad hex, cut short, a NUL, in any escaped field */
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/%zz - - -",
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/%4 - - -",
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/% - - -",
		"step restore-meta file modified high attrs=2 source=none mode=plan /etc/%00x - - -",
		"step restore-meta file modified high attrs=2 source=none mode=plan %00 - - -",
		"step restore-content file modified high attrs=2 source=deb mode=plan /a p%00 - -",
		"step restore-content file modified high attrs=2 source=deb mode=plan /a p v%00 -",
		"step cannot file modified high attrs=2 source=none mode=plan /a - - why%00not",
		"step cannot file modified high attrs=2 source=none mode=plan /a - - %g0",
	};
	char text[512];

	(void)state;
	/* Not a plan at all. */
	assert_refused("", "saved.plan: empty");
	assert_refused("\n", "saved.plan:1: not a drift plan");
	assert_refused("drift-plan 2 run=7 baseline=3 after=5 hash=sha256\n", "saved.plan:1:");
	assert_refused("drift-plan 1 run=x baseline=3 after=5 hash=sha256\n", "saved.plan:1:");
	assert_refused("drift-plan 1 run=7 baseline=3 after=5 hash=md4\n", "saved.plan:1:");
	assert_refused("# drift-plan 1 run=7 baseline=3 after=5 hash=sha256\n", "saved.plan:1:");
	assert_refused(GOOD, "saved.plan:1: not a drift plan");

	/* A bad step on line 4, after a good one and a comment: named by its number. */
	for (size_t i = 0; i < sizeof(bad_steps) / sizeof(bad_steps[0]); i++) {
		snprintf(text, sizeof(text), HEADER GOOD "# a comment\n%s\n" GOOD, bad_steps[i]);
		assert_refused(text, "saved.plan:4: not a plan step");
	}
	/* The good lines alone read (blank lines and comments ignored). */
	{
		struct remedy_plan q = { 0 };
		struct diag d = { 0 };

		snprintf(text, sizeof(text), HEADER "\n# c\n" GOOD "\n" GOOD);
		assert_int_equal(read_plan(text, strlen(text), &q, &d), 0);
		assert_int_equal(q.n, 2);
		assert_string_equal(q.v[1].key, "/etc/a");
		assert_int_equal(q.v[1].attrs, ATTR_MODE);
		remedy_plan_release(&q);
	}
	/* remedy_step_decode() alone: a NUL via %00 in a key. */
	{
		struct remedy_plan q = { 0 };

		assert_int_equal(remedy_step_decode(&q, "restore-meta file modified high attrs=2 "
							"source=none mode=plan /etc/a%00b - - -"),
				 -EINVAL);
		remedy_plan_release(&q);
	}
}

/*
 * Texts that are empty or "-": a sysctl whose baseline value is empty
 * plans REMEDY_SYSCTL with text "" (plan_state(): step_text(s, "%s", val)).
 * What remedy_plan_write() writes, remedy_plan_read() must read back, and
 * remedy_step_decode() must read what remedy_step_encode() wrote (the
 * journal resumes and undoes from it).
 */
static void round_trip_text(const char *value)
{
	struct remedy_plan p = { 0 }, q = { 0 }, r = { 0 };
	struct strbuf sb = STRBUF_INIT;
	struct remedy_step *s;
	struct diag d = { 0 };
	size_t len;
	char *text;

	p.run = 1;
	p.algo = HASH_XXH3_128;
	s = adds(&p, REMEDY_SYSCTL, ENTRY_SYSCTL, "kernel.domainname");
	s->text = xstrdup(value);
	s = adds(&p, REMEDY_CREATE, ENTRY_FILE, "/etc/x");
	s->source = REMEDY_SOURCE_DEB;
	s->package = xstrdup(value);
	s->version = xstrdup(value);

	assert_int_equal(remedy_step_encode(&p.v[0], &sb), 0);
	if (remedy_step_decode(&r, sb.buf) != 0)
		fail_msg("remedy_step_decode() refuses the line remedy_step_encode() wrote for "
			 "text \"%s\": \"%s\"",
			 value, sb.buf);
	if (!r.v[0].text || strcmp(r.v[0].text, value))
		fail_msg("text \"%s\" encoded as \"%s\" decodes as %s%s%s", value, sb.buf,
			 r.v[0].text ? "\"" : "", r.v[0].text ? r.v[0].text : "NULL",
			 r.v[0].text ? "\"" : "");

	text = write_plan(&p, &len);
	assert_int_equal(read_plan(text, len, &q, &d), 0);
	assert_plan(&q, &p);
	free(text);
	strbuf_release(&sb);
	remedy_plan_release(&p);
	remedy_plan_release(&q);
	remedy_plan_release(&r);
}

static void test_round_trip_empty_text(void **state)
{
	(void)state;
	round_trip_text("");
}

static void test_round_trip_dash_text(void **state)
{
	(void)state;
	round_trip_text("-");
}

/*
 * A step line's attrs= is hexadecimal: anything else is no line of
 * remedy_plan_write(), refused as the other fields are ("-EINVAL with a
 * message naming the line for anything else").
 */
static void test_read_errors_attrs(void **state)
{
	static const char *const bad[] = {
		"step restore-meta file modified high attrs=zz source=none mode=plan /etc/a - - -",
		"step restore-meta file modified high attrs= source=none mode=plan /etc/a - - -",
		"step restore-meta file modified high attrs=2x source=none mode=plan /etc/a - - -",
	};
	char text[512];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(text, sizeof(text), HEADER GOOD "%s\n", bad[i]);
		assert_refused(text, "saved.plan:3: not a plan step");
	}
}

/*
 * The comment line of a step is "one line for people" (remedy.h): the
 * sentence of remedy_step_describe(), with its spaces, only what is no
 * printable byte escaped.
 */
static void test_comment_for_people(void **state)
{
	struct remedy_plan p = { 0 };
	size_t len;
	char *text;

	(void)state;
	p.run = 3;
	p.algo = HASH_XXH3_128;
	adds(&p, REMEDY_QUARANTINE, ENTRY_FILE, "/etc/new")->change = CHANGE_ADDED;
	text = write_plan(&p, &len);
	if (!strstr(text, "\n# move /etc/new into the quarantine\n"))
		fail_msg("no readable comment in the plan file:\n%s", text);
	free(text);
	remedy_plan_release(&p);
}

/* A copy of @p through its plan file. */
static void copy_plan(const struct remedy_plan *p, struct remedy_plan *ret)
{
	struct diag d = { 0 };
	size_t len;
	char *text = write_plan(p, &len);

	assert_int_equal(read_plan(text, len, ret, &d), 0);
	free(text);
}

static void replace(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

static void test_equal(void **state)
{
	static char version[] = "1:2.10-3",
		    text[] = "apt-get install --allow-downgrades hello=1.0-2", v[] = "v";
	struct remedy_plan p, q;

	(void)state;
	make_plan(&p);
	copy_plan(&p, &q);
	assert_true(remedy_plan_equal(&p, &q));
	assert_true(remedy_plan_equal(&p, &p));

	/* One field differs: not equal; put back: equal again. */
#define DIFFERS(field, other)                            \
	do {                                             \
		__typeof__(field) save_ = (field);       \
		(field) = (other);                       \
		assert_false(remedy_plan_equal(&p, &q)); \
		assert_false(remedy_plan_equal(&q, &p)); \
		(field) = save_;                         \
		assert_true(remedy_plan_equal(&p, &q));  \
	} while (0)

	DIFFERS(q.run, 8);
	DIFFERS(q.baseline, 4);
	DIFFERS(q.after, 6);
	DIFFERS(q.algo, HASH_XXH3_128);
	DIFFERS(q.n, q.n - 1);
	DIFFERS(q.v[0].action, REMEDY_CONTENT);
	DIFFERS(q.v[0].kind, ENTRY_MOUNT);
	DIFFERS(q.v[0].change, CHANGE_ADDED);
	DIFFERS(q.v[0].mode, RULE_REMEDIATE_PLAN);
	DIFFERS(q.v[0].attrs, ATTR_MODE);
	DIFFERS(q.v[0].source, REMEDY_SOURCE_KEPT);
	DIFFERS(q.v[0].key_len, q.v[0].key_len - 1);
	DIFFERS(q.v[0].key[1], 'X');
	DIFFERS(q.v[4].key[LONG_KEY - 1], '#');
	DIFFERS(q.v[2].package, NULL);
	DIFFERS(q.v[2].version, version);
	DIFFERS(q.v[0].text, NULL);
	DIFFERS(q.v[6].text, text);
	DIFFERS(q.v[9].package, v); /* NULL there */

	/* The same, reached differently: equal. */
	replace(&q.v[6].text, p.v[6].text);
	assert_true(remedy_plan_equal(&p, &q));
#undef DIFFERS
	remedy_plan_release(&p);
	remedy_plan_release(&q);
}

/* Steps that differ only in severity are different steps (remedy.h: "the same ... steps"). */
static void test_equal_severity(void **state)
{
	struct remedy_plan p, q;

	(void)state;
	make_plan(&p);
	copy_plan(&p, &q);
	q.v[0].severity = SEVERITY_LOW;
	assert_false(remedy_plan_equal(&p, &q));
	remedy_plan_release(&p);
	remedy_plan_release(&q);
}

static void assert_describes(const struct remedy_step *s, const char *want)
{
	struct strbuf sb = STRBUF_INIT;

	assert_int_equal(remedy_step_describe(s, &sb), 0);
	assert_string_equal(sb.buf, want);
	strbuf_release(&sb);
}

static void test_describe(void **state)
{
	struct remedy_plan p = { 0 };
	struct remedy_step *s;

	(void)state;
	s = adds(&p, REMEDY_META, ENTRY_FILE, "/etc/a");
	assert_describes(s, "restore metadata of /etc/a");
	s->text = xstrdup("mode 0755 -> 0644");
	assert_describes(s, "restore mode 0755 -> 0644 of /etc/a");
	s = adds(&p, REMEDY_CONTENT, ENTRY_FILE, "/etc/b");
	assert_describes(s, "restore /etc/b");
	s->source = REMEDY_SOURCE_KEPT;
	assert_describes(s, "restore /etc/b from kept content");
	s = adds(&p, REMEDY_CREATE, ENTRY_FILE, "/usr/bin/hello");
	s->source = REMEDY_SOURCE_DEB;
	s->package = xstrdup("hello:amd64");
	s->version = xstrdup("1.0-1");
	assert_describes(s, "recreate /usr/bin/hello from hello:amd64 1.0-1's .deb");
	s = adds(&p, REMEDY_SYMLINK, ENTRY_FILE, "/etc/l");
	assert_describes(s, "restore the target of symlink /etc/l");
	s = adds(&p, REMEDY_QUARANTINE, ENTRY_FILE, "/etc/new");
	assert_describes(s, "move /etc/new into the quarantine");
	s = adds(&p, REMEDY_SYSCTL, ENTRY_SYSCTL, "net.ipv4.ip_forward");
	assert_describes(s, "set net.ipv4.ip_forward to ''");
	s->text = xstrdup("0");
	assert_describes(s, "set net.ipv4.ip_forward to '0'");
	s = adds(&p, REMEDY_COMMAND, ENTRY_SERVICE, "ssh.service");
	s->text = xstrdup("systemctl enable ssh.service");
	assert_describes(s, "run by hand: systemctl enable ssh.service   (service ssh.service; "
			    "drift does not)");
	s = adds(&p, REMEDY_CANNOT, ENTRY_PORT, "tcp/0.0.0.0:22");
	s->text = xstrdup("a listening socket");
	assert_describes(s, "cannot restore port tcp/0.0.0.0:22: a listening socket");

	/* Names of the actions, as plan lines spell them. */
	assert_string_equal(remedy_action_name(REMEDY_META), "restore-meta");
	assert_string_equal(remedy_action_name(REMEDY_CANNOT), "cannot");
	remedy_plan_release(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_step_lines),
		cmocka_unit_test(test_read_errors),
		cmocka_unit_test(test_read_errors_attrs),
		cmocka_unit_test(test_comment_for_people),
		cmocka_unit_test(test_round_trip_empty_text),
		cmocka_unit_test(test_round_trip_dash_text),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_equal_severity),
		cmocka_unit_test(test_describe),
	};
	return cmocka_run_group_tests_name("remedy/plan", tests, NULL, NULL);
}
