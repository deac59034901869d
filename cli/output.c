/*
 * Output helpers: messages on stderr, escaped paths for them, colour
 * decisions, and the report destination (stdout or an atomically replaced
 * file).
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/escape.h"
#include "common/strbuf.h"
#include "common/banned.h"

/*
 * Messages carry names from outside: paths, labels, SQLite's own messages
 * (which can quote a hostile database's schema). Control bytes in them never
 * reach the terminal raw, nor do characters that reorder or hide text: they
 * are written as \xHH and \uXXXX (escape_message()).
 */
__attribute__((format(printf, 2, 0))) static void vmessage(const char *prefix, const char *fmt,
							   va_list ap)
{
	struct strbuf sb = STRBUF_INIT, shown = STRBUF_INIT;

	fputs(prefix, stderr);
	if (strbuf_vaddf(&sb, fmt, ap) < 0 || escape_message(&shown, sb.buf, sb.len) < 0)
		fputs("(out of memory)\n", stderr);
	else
		fprintf(stderr, "%s\n", shown.buf);
	strbuf_release(&sb);
	strbuf_release(&shown);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("drift: ", fmt, ap);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("drift: warning: ", fmt, ap);
	va_end(ap);
}

const char *cli_path(const char *path, size_t len, unsigned slot)
{
	static struct strbuf bufs[4] = { STRBUF_INIT, STRBUF_INIT, STRBUF_INIT, STRBUF_INIT };
	struct strbuf *sb = &bufs[slot % 4];

	strbuf_reset(sb);
	if (escape_display(sb, path, len) < 0)
		return "(out of memory)";
	return sb->buf;
}

static bool want_color(const struct cli_args *args, FILE *fp)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	switch (args->color) {
	case CLI_COLOR_ALWAYS:
		return true;
	case CLI_COLOR_NEVER:
		return false;
	case CLI_COLOR_AUTO:
		break;
	}
	/* https://no-color.org: any non-empty value disables colour. */
	if (nc && nc[0])
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(fp));
}

int cli_output_open(struct cli_output *out, const struct cli_args *args)
{
	struct strbuf sb = STRBUF_INIT;
	int fd;

	memset(out, 0, sizeof(*out));
	if (!args->output || !strcmp(args->output, "-")) {
		out->fp = stdout;
		out->color = want_color(args, stdout);
		return 0;
	}
	out->path = strdup(args->output);
	if (!out->path || strbuf_addf(&sb, "%s.tmp-XXXXXX", args->output) < 0) {
		free(out->path);
		out->path = NULL;
		strbuf_release(&sb);
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}
	out->tmp_path = strbuf_detach(&sb, NULL);
	fd = mkostemp(out->tmp_path, O_CLOEXEC);
	if (fd < 0 || !(out->fp = fdopen(fd, "w"))) {
		cli_error("cannot create report file '%s': %s", out->tmp_path, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlink(out->tmp_path);
		}
		free(out->path);
		free(out->tmp_path);
		memset(out, 0, sizeof(*out));
		return DRIFT_EXIT_OUTPUT;
	}
	/* mkostemp() makes 0600; a report is as readable as any file the user makes. */
	mode_t mask = umask(0);
	umask(mask);
	fchmod(fd, 0666 & ~mask);
	out->color = args->color == CLI_COLOR_ALWAYS;
	return 0;
}

int cli_output_close(struct cli_output *out, bool ok)
{
	int code = 0;

	if (!out->fp)
		return 0;
	if (fflush(out->fp) != 0 || ferror(out->fp)) {
		if (ok)
			cli_error("cannot write report to '%s': %s",
				  out->path ? out->path : "standard output", strerror(errno));
		ok = false;
		code = DRIFT_EXIT_OUTPUT;
	}
	if (out->path) {
		if (fclose(out->fp) != 0 && ok) {
			cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
			ok = false;
			code = DRIFT_EXIT_OUTPUT;
		}
		if (ok && rename(out->tmp_path, out->path) < 0) {
			cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
			code = DRIFT_EXIT_OUTPUT;
			ok = false;
		}
		if (!ok)
			unlink(out->tmp_path);
		free(out->path);
		free(out->tmp_path);
	}
	memset(out, 0, sizeof(*out));
	return code;
}
