/*
 * Output helpers: messages on stderr, escaped paths for them, colour
 * decisions, and the report destination (stdout, an atomically replaced
 * file, or a device or FIFO written directly).
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
static bool out_of_memory; /* something was printed as "(out of memory)" */

bool cli_out_of_memory(void)
{
	return out_of_memory;
}

__attribute__((format(printf, 2, 0))) static void vmessage(const char *prefix, const char *fmt,
							   va_list ap)
{
	struct strbuf sb = STRBUF_INIT, shown = STRBUF_INIT;

	fputs(prefix, stderr);
	if (strbuf_vaddf(&sb, fmt, ap) < 0 || escape_message(&shown, sb.buf, sb.len) < 0) {
		fputs("(out of memory)\n", stderr);
		out_of_memory = true;
	} else
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
	if (escape_display(sb, path, len) < 0) {
		out_of_memory = true;
		return "(out of memory)";
	}
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

/*
 * --output FILE. What FILE is gets decided on an O_PATH|O_NOFOLLOW descriptor
 * of it (no side effects: a device is not opened, a FIFO not waited on, a
 * symlink not followed), never on a stat of the path beforehand:
 *
 *   - nothing there, or a regular file: a temporary file beside it, renamed
 *     over it when the report is complete, so that a failed run leaves the
 *     old report. It gets the old file's owner and permission bits; a new
 *     one is 0600 (less what the umask takes), like the database, since a
 *     report lists what changed where on the host.
 *   - a character or block device, or a FIFO: written directly, never
 *     replaced (`--output /dev/null` must not turn /dev/null into a file).
 *     Opened O_WRONLY|O_NOCTTY without O_TRUNC, which devices and FIFOs
 *     ignore anyway. A FIFO without a reader is waited on, as the shell's
 *     `>` does, but in steps that a SIGINT or SIGTERM can stop.
 *   - a symbolic link: followed only to what drift's standard output or
 *     error already is (`--output /dev/stdout`), or, when it is owned by
 *     root or by the user running drift, to a device, FIFO or pipe (bash's
 *     `>(cmd)` is /dev/fd/63). Anything else is refused: a link planted
 *     where the report goes must not make drift write to, or replace, the
 *     file it names.
 *   - a directory or a socket: refused.
 */

/* Undo a half-opened @out (and @fd, when @out has no FILE yet) after a failure; returns @code. */
static int output_fail(struct cli_output *out, int fd, int code)
{
	if (out->fp)
		fclose(out->fp);
	else if (fd >= 0)
		close(fd);
	if (out->tmp_path)
		unlink(out->tmp_path);
	free(out->path);
	free(out->tmp_path);
	memset(out, 0, sizeof(*out));
	return code;
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The temporary file that will replace @out->path; @old: the file it replaces, or NULL. */
static int output_open_replacement(struct cli_output *out, const struct cli_args *args,
				   const struct stat *old)
{
	struct strbuf sb = STRBUF_INIT;
	struct stat st;
	int fd;

	if (strbuf_addf(&sb, "%s.tmp-XXXXXX", out->path) < 0) {
		strbuf_release(&sb);
		cli_error("out of memory");
		return output_fail(out, -1, DRIFT_EXIT_INTERNAL);
	}
	out->tmp_path = strbuf_detach(&sb, NULL);
	/* mkostemp() creates it 0600, less the umask: right for a new report. */
	fd = mkostemp(out->tmp_path, O_CLOEXEC);
	if (fd < 0) {
		cli_error("cannot create report file '%s': %s", out->tmp_path, strerror(errno));
		free(out->tmp_path);
		out->tmp_path = NULL; /* not ours to unlink */
		return output_fail(out, -1, DRIFT_EXIT_OUTPUT);
	}
	/*
	 * An old report of ours keeps its group and mode. One that someone
	 * else owns gets nothing from them: a file planted where root's report
	 * goes (in a directory others can write) must not hand the report over
	 * to its owner, so the new one is ours and 0600, as a new report is.
	 */
	if (old && old->st_uid == geteuid()) {
		/* fchown() first: it clears set-id bits, and fchmod() decides the mode. */
		if (fstat(fd, &st) < 0 ||
		    (st.st_gid != old->st_gid && fchown(fd, (uid_t)-1, old->st_gid) < 0 &&
		     errno != EPERM) ||
		    fchmod(fd, old->st_mode & 0777) < 0) {
			cli_error("cannot give the report the owner and mode of '%s': %s",
				  out->path, strerror(errno));
			return output_fail(out, fd, DRIFT_EXIT_OUTPUT);
		}
	}
	out->fp = fdopen(fd, "w");
	if (!out->fp) {
		cli_error("cannot create report file '%s': %s", out->tmp_path, strerror(errno));
		return output_fail(out, fd, DRIFT_EXIT_OUTPUT);
	}
	out->color = want_color(args, out->fp); /* --color always still colours a file */
	return 0;
}

/*
 * Open the device or FIFO that @pfd (an O_PATH descriptor, @want its stat)
 * refers to for writing, through /proc/self/fd so that it is that very
 * file; without /proc, through the path again (@nofollow: O_NOFOLLOW or 0),
 * checked to be the same file.
 */
static int output_open_direct(struct cli_output *out, const struct cli_args *args, int pfd,
			      int nofollow, const struct stat *want)
{
	/* O_NONBLOCK: a FIFO without a reader fails with ENXIO rather than
	 * blocking where no signal can stop it; it is cleared below. */
	const int flags = O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC;
	const struct timespec step = { 0, 50 * 1000 * 1000 };
	bool said = false;
	char proc[64];
	struct stat st;
	int fd, fl;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", pfd);
	for (;;) {
		fd = open(proc, flags);
		if (fd < 0 && errno == ENOENT)
			fd = open(out->path, flags | nofollow);
		if (fd >= 0 || errno != ENXIO || !S_ISFIFO(want->st_mode))
			break;
		if (cli_interrupted()) {
			cli_error("interrupted while waiting for a reader of '%s'", out->path);
			return output_fail(out, -1, DRIFT_EXIT_INTERRUPTED);
		}
		if (!said && isatty(STDERR_FILENO))
			cli_warn("waiting for a reader of FIFO '%s'", out->path);
		said = true;
		nanosleep(&step, NULL);
	}
	if (fd < 0) {
		cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
		return output_fail(out, -1, DRIFT_EXIT_OUTPUT);
	}
	if (fstat(fd, &st) < 0 || !same_file(&st, want)) {
		cli_error("cannot write report to '%s': it changed while being opened", out->path);
		return output_fail(out, fd, DRIFT_EXIT_OUTPUT);
	}
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0 || !(out->fp = fdopen(fd, "w"))) {
		cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
		return output_fail(out, fd, DRIFT_EXIT_OUTPUT);
	}
	out->color = want_color(args, out->fp);
	return 0;
}

/* @out->path is the symlink @link (fstat of the O_PATH|O_NOFOLLOW open): see above. */
static int output_open_link(struct cli_output *out, const struct cli_args *args,
			    const struct stat *link, const struct stat *std_out,
			    const struct stat *std_err)
{
	struct stat st, again;
	int tfd, lfd, code, terr;
	const char *kind;

	tfd = open(out->path, O_PATH | O_CLOEXEC);
	terr = tfd < 0 ? errno : 0;
	if (tfd < 0 && errno != ENOENT && errno != ELOOP) {
		cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
		return output_fail(out, -1, DRIFT_EXIT_OUTPUT);
	}
	if (tfd >= 0 && fstat(tfd, &st) < 0) {
		cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
		return output_fail(out, tfd, DRIFT_EXIT_OUTPUT);
	}
	/* The link we looked at must be the one just followed. */
	lfd = open(out->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (lfd < 0 || fstat(lfd, &again) < 0 || !same_file(&again, link)) {
		if (lfd >= 0)
			close(lfd);
		cli_error("cannot write report to '%s': it changed while being opened", out->path);
		return output_fail(out, tfd, DRIFT_EXIT_OUTPUT);
	}
	close(lfd);

	if (tfd >= 0 && std_out && same_file(&st, std_out)) {
		close(tfd);
		free(out->path);
		out->path = NULL;
		out->fp = stdout;
		out->color = want_color(args, stdout);
		return 0;
	}
	if (tfd >= 0 && std_err && same_file(&st, std_err)) {
		int fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);

		close(tfd);
		if (fd < 0 || !(out->fp = fdopen(fd, "w"))) {
			cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
			return output_fail(out, fd, DRIFT_EXIT_OUTPUT);
		}
		out->color = want_color(args, out->fp);
		return 0;
	}
	if (tfd >= 0 && (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		if (link->st_uid != 0 && link->st_uid != geteuid()) {
			cli_error(
				"refusing to write report to '%s': it is a symbolic link owned by "
				"another user",
				out->path);
			return output_fail(out, tfd, DRIFT_EXIT_OUTPUT);
		}
		code = output_open_direct(out, args, tfd, 0, &st);
		close(tfd);
		return code;
	}
	if (terr == ENOENT)
		kind = " to nothing";
	else if (terr == ELOOP)
		kind = " that loops";
	else if (S_ISREG(st.st_mode))
		kind = " to a regular file";
	else if (S_ISDIR(st.st_mode))
		kind = " to a directory";
	else if (S_ISBLK(st.st_mode))
		kind = " to a block device";
	else
		kind = " to a socket";
	cli_error("refusing to write report to '%s': it is a symbolic link%s (name the file "
		  "itself)",
		  out->path, kind);
	return output_fail(out, tfd, DRIFT_EXIT_OUTPUT);
}

int cli_output_open(struct cli_output *out, const struct cli_args *args)
{
	return cli_output_open_path(out, args, args->output);
}

int cli_output_open_path(struct cli_output *out, const struct cli_args *args, const char *path)
{
	struct stat st, std_out, std_err;
	bool have_out, have_err;
	int pfd, code;

	memset(out, 0, sizeof(*out));
	if (!path || !strcmp(path, "-")) {
		out->fp = stdout;
		out->color = want_color(args, stdout);
		return 0;
	}
	if (!path[0]) {
		cli_error("--output: empty file name (use '-' for standard output)");
		return DRIFT_EXIT_USAGE;
	}
	/* Before opening anything, which could take over a closed fd 1 or 2. */
	have_out = fstat(STDOUT_FILENO, &std_out) == 0;
	have_err = fstat(STDERR_FILENO, &std_err) == 0;
	out->path = strdup(path);
	if (!out->path) {
		cli_error("out of memory");
		return DRIFT_EXIT_INTERNAL;
	}

	pfd = open(out->path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (pfd < 0 && errno == ENOENT)
		return output_open_replacement(out, args, NULL);
	if (pfd < 0 || fstat(pfd, &st) < 0) {
		cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
		return output_fail(out, pfd, DRIFT_EXIT_OUTPUT);
	}
	if (S_ISREG(st.st_mode)) {
		close(pfd);
		return output_open_replacement(out, args, &st);
	}
	if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
		code = output_open_direct(out, args, pfd, O_NOFOLLOW, &st);
	else if (S_ISLNK(st.st_mode))
		code = output_open_link(out, args, &st, have_out ? &std_out : NULL,
					have_err ? &std_err : NULL);
	else {
		/* A report written over a disk would destroy it: no use for that. */
		cli_error("cannot write report to '%s': it is a %s", out->path,
			  S_ISDIR(st.st_mode)   ? "directory"
			  : S_ISBLK(st.st_mode) ? "block device"
						: "socket");
		code = output_fail(out, -1, DRIFT_EXIT_OUTPUT);
	}
	close(pfd);
	return code;
}

/* Whether @path is still a regular file (or nothing) that a rename may replace. */
static bool output_still_replaceable(const char *path)
{
	struct stat st;
	int fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	bool ok;

	if (fd < 0)
		return errno == ENOENT;
	ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	close(fd);
	return ok;
}

int cli_output_close(struct cli_output *out, bool ok)
{
	const char *name = out->path ? out->path : "standard output";
	int code = 0;

	if (!out->fp)
		return 0;
	if (fflush(out->fp) != 0 || ferror(out->fp) ||
	    (out->tmp_path && ok && fsync(fileno(out->fp)) < 0)) {
		/* fsync: a crash after the rename must not leave an empty report. */
		if (ok)
			cli_error("cannot write report to '%s': %s", name, strerror(errno));
		ok = false;
		code = DRIFT_EXIT_OUTPUT;
	}
	if (out->fp != stdout && fclose(out->fp) != 0 && ok) {
		cli_error("cannot write report to '%s': %s", name, strerror(errno));
		ok = false;
		code = DRIFT_EXIT_OUTPUT;
	}
	if (out->tmp_path) {
		/* Something other than a file appeared meanwhile: leave it be. */
		if (ok && !output_still_replaceable(out->path)) {
			cli_error("cannot write report to '%s': it is no longer a regular file",
				  out->path);
			code = DRIFT_EXIT_OUTPUT;
			ok = false;
		}
		if (ok && rename(out->tmp_path, out->path) < 0) {
			cli_error("cannot write report to '%s': %s", out->path, strerror(errno));
			code = DRIFT_EXIT_OUTPUT;
			ok = false;
		}
		if (!ok)
			unlink(out->tmp_path);
	}
	free(out->path);
	free(out->tmp_path);
	memset(out, 0, sizeof(*out));
	return code;
}

int cli_output_spool(struct cli_output *out, const struct cli_args *args)
{
	int err;

	memset(out, 0, sizeof(*out));
	err = report_tmpfile(&out->fp); /* where the report spools its sections too */
	if (err) {
		out->fp = NULL;
		cli_error("cannot create a temporary file for the report: %s", strerror(err));
		return DRIFT_EXIT_OUTPUT;
	}
	(void)args;
	return 0;
}

int cli_output_deliver(struct cli_output *out, struct cli_output *dest, bool ok)
{
	char buf[64 * 1024];
	int code = 0;
	size_t n;

	if (out->fp && ok && (fflush(out->fp) != 0 || ferror(out->fp))) {
		cli_error("cannot write report: %s", strerror(errno));
		code = DRIFT_EXIT_OUTPUT;
		ok = false;
	}
	if (out->fp && ok) {
		if (fseek(out->fp, 0, SEEK_SET) != 0) {
			cli_error("cannot read the report back: %s", strerror(errno));
			code = DRIFT_EXIT_OUTPUT;
			ok = false;
		}
		while (ok && (n = fread(buf, 1, sizeof(buf), out->fp)) > 0)
			if (fwrite(buf, 1, n, dest->fp) != n)
				break; /* cli_output_close() sees the stream's error */
		if (ok && ferror(out->fp)) {
			cli_error("cannot read the report back: %s", strerror(errno));
			code = DRIFT_EXIT_OUTPUT;
			ok = false;
		}
	}
	if (dest->fp) {
		int r = cli_output_close(dest, ok && out->fp);

		if (!code)
			code = r;
	}
	if (out->fp)
		fclose(out->fp);
	memset(out, 0, sizeof(*out));
	return code;
}
