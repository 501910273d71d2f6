/* rules_store.c - the owned rules file: read whole, changed in memory,
 * written whole under a temporary name and renamed over it. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/config_file.h"
#include "src/rules_store.h"
#include "src/xmalloc.h"

/* A person's rules; the rules file parser allows far more, but this
 * file is read and written whole on the daemon's loop. */
#define RULES_STORE_MAX_BYTES (4u << 20)

static const char header[] =
    "# " RULES_STORE_FILE " - written by dnsgated: the rules added with\n"
    "# dnsgatectl (rules add, allow, block) and the prompts' \"forever\"\n"
    "# answers. 'dnsgatectl rules' lists them with their ids, 'dnsgatectl\n"
    "# rules delete ID' removes one. You may edit this file by hand while\n"
    "# dnsgated is stopped, or follow the edit with 'dnsgatectl reload'; a\n"
    "# change from dnsgatectl rewrites the file from what it holds then.\n";

void
rules_store_path(const struct config *cfg, char *buf, size_t len)
{
	const char *slash;
	struct stat st;
	size_t i;

	for (i = 0; i < cfg->n_rules; i++) {
		if (stat(cfg->rules[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			snprintf(buf, len, "%s/%s", cfg->rules[i],
			         RULES_STORE_FILE);
			return;
		}
	}
	if (!cfg->rules_set && cfg->n_rules > 0) {
		/* The default directory, not made yet. */
		snprintf(buf, len, "%s/%s", cfg->rules[0], RULES_STORE_FILE);
		return;
	}
	slash = cfg->path != NULL ? strrchr(cfg->path, '/') : NULL;
	if (slash == NULL)
		snprintf(buf, len, "%s/%s", CONFIG_DEFAULT_RULES,
		         RULES_STORE_FILE);
	else
		snprintf(buf, len, "%.*s/%s/%s", (int)(slash - cfg->path),
		         cfg->path, CONFIG_DEFAULT_RULES, RULES_STORE_FILE);
}

/* --- the file as text ------------------------------------------------ */

/* Reads path whole into *text (NUL-terminated; "" when it is missing).
 * Returns 0, or -1 with err. */
static int
read_text(const char *path, char **text, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0;
	ssize_t r;
	int fd;

	*text = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		*text = xstrdup("");
		return 0;
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > RULES_STORE_MAX_BYTES) {
		snprintf(err, errlen,
		         "%s: %s (it holds the rules dnsgatectl adds: move it "
		         "away)",
		         path,
		         S_ISREG(st.st_mode) ? "over 4 MiB"
		                             : "not a regular file");
		close(fd);
		return -1;
	}
	*text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, *text + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	(*text)[got] = '\0';
	*len = got;
	return 0;
}

static void
split_path(const char *path, char *dir, size_t dirlen, const char **base)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(dir, dirlen, ".");
		*base = path;
	} else if (slash == path) {
		snprintf(dir, dirlen, "/");
		*base = slash + 1;
	} else {
		snprintf(dir, dirlen, "%.*s", (int)(slash - path), path);
		*base = slash + 1;
	}
}

/* Temporary files of earlier writes that a crash left: ".BASE.XXXXXX". */
static void
remove_leftovers(const char *dir, const char *base)
{
	size_t blen = strlen(base);
	char full[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' &&
		    strncmp(de->d_name + 1, base, blen) == 0 &&
		    de->d_name[1 + blen] == '.' &&
		    strlen(de->d_name + 2 + blen) == 6) {
			if ((size_t)snprintf(full, sizeof full, "%s/%s", dir,
			                     de->d_name) < sizeof full)
				unlink(full);
		}
	}
	closedir(d);
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Replaces path with text: a temporary file beside it, fsync, rename,
 * fsync of the directory. Returns 0, or -1 with err and path as it was. */
static int
write_atomic(const char *path, const char *text, size_t len, char *err,
             size_t errlen)
{
	char dir[PATH_MAX], tmp[PATH_MAX];
	const char *base, *what;
	int fd, dfd, saved;

	split_path(path, dir, sizeof dir, &base);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot make %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	remove_leftovers(dir, base);
	if ((size_t)snprintf(tmp, sizeof tmp, "%s/.%s.XXXXXX", dir, base) >=
	    sizeof tmp) {
		snprintf(err, errlen, "%s: the path is too long", path);
		return -1;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write in %s: %s", dir,
		         strerror(errno));
		return -1;
	}
	what = "write";
	if (fchmod(fd, 0644) < 0)
		goto failed;
	if (geteuid() == 0 && fchown(fd, 0, 0) < 0)
		goto failed;
	if (write_all(fd, text, len) < 0)
		goto failed;
	what = "fsync";
	if (fsync(fd) < 0)
		goto failed;
	what = "close";
	if (close(fd) < 0) {
		fd = -1;
		goto failed;
	}
	fd = -1;
	what = "rename";
	if (rename(tmp, path) < 0)
		goto failed;
	/* The rename itself is on the disk only with its directory. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
failed:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen,
	         "cannot %s %s (for %s): %s; the file is as it "
	         "was",
	         what, tmp, path, strerror(saved));
	return -1;
}

/* --- rules ------------------------------------------------------------ */

static long
parse_text(struct rule_book *book, const char *text, size_t len,
           const char *path, const struct rules_file_ctx *ctx, char *err,
           size_t errlen)
{
	char why[1024];
	long n = rules_file_parse(book, text, len, path, ctx, why, sizeof why);

	if (n < 0)
		snprintf(err, errlen,
		         "%s does not read, so dnsgatectl changes nothing in "
		         "it: %s (fix the line, or delete it, then "
		         "'dnsgatectl reload')",
		         path, why);
	return n;
}

long
rules_store_read(const char *path, struct rule_book *book,
                 const struct rules_file_ctx *ctx, char *err, size_t errlen)
{
	char *text;
	size_t len;
	long n;

	if (read_text(path, &text, &len, err, errlen) < 0)
		return -1;
	n = parse_text(book, text, len, path, ctx, err, errlen);
	free(text);
	return n;
}

/* The rule, alone, into its canonical line. */
static int
canonical(const char *rule, size_t len, const struct rules_file_ctx *ctx,
          char *line, size_t linelen, char *err, size_t errlen)
{
	struct rule_book one;
	char why[1024];
	long n;

	if (memchr(rule, '\n', len) != NULL || memchr(rule, '\r', len)) {
		snprintf(err, errlen,
		         "a rule is one line: this one has a "
		         "line break");
		return -1;
	}
	if (memchr(rule, '\0', len) != NULL) {
		snprintf(err, errlen,
		         "a rule is text: this one has a NUL "
		         "byte");
		return -1;
	}
	rule_book_init(&one);
	n = rules_file_parse(&one, rule, len, "rule", ctx, why, sizeof why);
	if (n != 1) {
		if (n == 0)
			snprintf(err, errlen,
			         "no rule given (only blanks or a "
			         "comment): write ACTION [APP] DESTINATION, "
			         "e.g. block app=KEY domain=example.com");
		else
			snprintf(err, errlen, "%s", why);
		rule_book_free(&one);
		return -1;
	}
	if (one.rules[0].until != 0 &&
	    one.rules[0].until <= (int64_t)ctx->mtime) {
		snprintf(err, errlen,
		         "the rule's until= is past: it would "
		         "never apply");
		rule_book_free(&one);
		return -1;
	}
	rule_format(&one.rules[0], line, linelen);
	rule_book_free(&one);
	if (strlen(line) > RULES_FILE_LINE_MAX - 1) {
		snprintf(err, errlen,
		         "the rule is longer than a rules file's "
		         "line may be (%d bytes)",
		         RULES_FILE_LINE_MAX);
		return -1;
	}
	return 0;
}

/* line with its note as a comment: "  # NOTE, 2026-12-01T15:40:03Z".
 * The note is cut to RULES_STORE_NOTE_MAX bytes of printable ASCII (a
 * rule's line must stay one line of text); none when the line would be
 * too long. */
static void
add_note(char *line, size_t linelen, const char *note, time_t when)
{
	char clean[RULES_STORE_NOTE_MAX + 1], at[32] = "";
	size_t i, used = strlen(line);
	struct tm tm;

	if (note == NULL || note[0] == '\0')
		return;
	for (i = 0; note[i] != '\0' && i < RULES_STORE_NOTE_MAX; i++)
		clean[i] = note[i] >= 0x20 && note[i] < 0x7f ? note[i] : '?';
	clean[i] = '\0';
	if (gmtime_r(&when, &tm) != NULL)
		strftime(at, sizeof at, ", %Y-%m-%dT%H:%M:%SZ", &tm);
	if (used + 4 + strlen(clean) + strlen(at) <= RULES_FILE_LINE_MAX &&
	    used + 4 + strlen(clean) + strlen(at) < linelen)
		snprintf(line + used, linelen - used, "  # %s%s", clean, at);
}

int
rules_store_add(const char *path, const char *rule, size_t len,
                const struct rules_file_ctx *ctx, const char *note,
                struct rules_store_change *out, char *err, size_t errlen)
{
	char line[2 * RULES_FILE_LINE_MAX], have[2 * RULES_FILE_LINE_MAX];
	char written[2 * RULES_FILE_LINE_MAX];
	struct rule_book book;
	size_t tlen, i, nlen;
	char *text, *next;
	long n;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (len > RULES_FILE_LINE_MAX) {
		snprintf(err, errlen,
		         "the rule is longer than a rules file's "
		         "line may be (%d bytes)",
		         RULES_FILE_LINE_MAX);
		return -1;
	}
	if (canonical(rule, len, ctx, line, sizeof line, err, errlen) < 0)
		return -1;
	if (read_text(path, &text, &tlen, err, errlen) < 0)
		return -1;
	rule_book_init(&book);
	if (parse_text(&book, text, tlen, path, ctx, err, errlen) < 0)
		goto done;
	for (i = 0; i < book.n; i++) {
		if (strcmp(rule_format(&book.rules[i], have, sizeof have),
		           line) == 0) {
			out->id = book.rules[i].id;
			out->line = book.rules[i].line;
			out->existed = true;
			snprintf(out->text, sizeof out->text, "%s", line);
			rc = 0;
			goto done;
		}
	}
	/* The file with the line at its end (and its header when new). */
	snprintf(written, sizeof written, "%s", line);
	add_note(written, sizeof written, note, ctx->mtime);
	nlen = (tlen == 0 ? sizeof header - 1 : tlen) + 1 + strlen(written) +
	       1;
	next = xmalloc(nlen + 1);
	snprintf(next, nlen + 1, "%s%s%s\n", tlen == 0 ? header : text,
	         tlen > 0 && text[tlen - 1] != '\n' ? "\n" : "", written);
	nlen = strlen(next);
	rule_book_free(&book);
	rule_book_init(&book);
	n = parse_text(&book, next, nlen, path, ctx, err, errlen);
	if (n <= 0 || write_atomic(path, next, nlen, err, errlen) < 0) {
		if (n == 0)
			snprintf(err, errlen, "the rule did not read back");
		free(next);
		goto done;
	}
	free(next);
	out->id = book.rules[book.n - 1].id;
	out->line = book.rules[book.n - 1].line;
	snprintf(out->text, sizeof out->text, "%s", line);
	rc = 0;
done:
	rule_book_free(&book);
	free(text);
	return rc;
}

int
rules_store_delete(const char *path, uint32_t id,
                   const struct rules_file_ctx *ctx,
                   struct rules_store_change *out, char *err, size_t errlen)
{
	const struct rule *found = NULL;
	struct rule_book book;
	const char *p, *start = NULL, *end;
	unsigned line = 1;
	size_t tlen, i, n_found = 0;
	char *text, *next;
	int rc = -1;

	memset(out, 0, sizeof *out);
	if (read_text(path, &text, &tlen, err, errlen) < 0)
		return -1;
	rule_book_init(&book);
	if (parse_text(&book, text, tlen, path, ctx, err, errlen) < 0)
		goto done;
	for (i = 0; i < book.n; i++)
		if (book.rules[i].id == id) {
			found = &book.rules[i];
			n_found++;
		}
	if (n_found == 0) {
		rc = 1;
		goto done;
	}
	if (n_found > 1) {
		snprintf(err, errlen,
		         "%u rules of %s have that id (a rare "
		         "collision): delete the line by hand, then "
		         "'dnsgatectl reload'",
		         (unsigned)n_found, path);
		goto done;
	}
	/* The line the rule was read from, and its newline. */
	for (p = text; p < text + tlen; p++) {
		if (line == found->line && start == NULL)
			start = p;
		if (*p == '\n' && ++line > found->line)
			break;
	}
	if (start == NULL) {
		snprintf(err, errlen, "%s: line %u is gone", path, found->line);
		goto done;
	}
	end = p < text + tlen ? p + 1 : p;
	next = xmalloc(tlen + 1);
	memcpy(next, text, (size_t)(start - text));
	memcpy(next + (start - text), end, (size_t)(text + tlen - end));
	if (write_atomic(path, next, tlen - (size_t)(end - start), err,
	                 errlen) < 0) {
		free(next);
		goto done;
	}
	free(next);
	out->id = id;
	out->line = found->line;
	out->existed = true;
	rule_format(found, out->text, sizeof out->text);
	rc = 0;
done:
	rule_book_free(&book);
	free(text);
	return rc;
}

/* --- notes ------------------------------------------------------------ */

struct rules_store_notes {
	char *text;
	char **note; /* per line (1-based), NULL: none */
	size_t n_lines;
};

/* The comment ending a line that holds a rule: a '#' at the start of a
 * field, outside quotes (dnsgate.rules(5)). NULL when there is none or
 * the line is only a comment. */
static char *
trailing_comment(char *p)
{
	bool quoted = false, field = false, start = true;

	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '"')
				quoted = false;
			continue;
		}
		if (*p == ' ' || *p == '\t') {
			start = true;
			continue;
		}
		if (*p == '#' && start)
			return field ? p : NULL;
		if (*p == '"')
			quoted = true;
		field = true;
		start = false;
	}
	return NULL;
}

struct rules_store_notes *
rules_store_notes_read(const char *path)
{
	struct rules_store_notes *n;
	char err[256], *p, *nl;
	size_t len;

	n = xcalloc(1, sizeof *n);
	if (read_text(path, &n->text, &len, err, sizeof err) < 0) {
		free(n);
		return NULL;
	}
	for (p = n->text; *p != '\0'; p = nl + 1) {
		char *c;

		nl = strchr(p, '\n');
		if (nl != NULL)
			*nl = '\0';
		n->note = xreallocarray(n->note, n->n_lines + 2,
		                        sizeof *n->note);
		n->note[++n->n_lines] = NULL;
		c = trailing_comment(p);
		if (c != NULL) {
			size_t cl;

			for (c++; *c == ' ' || *c == '\t'; c++)
				;
			cl = strlen(c);
			while (cl > 0 && (c[cl - 1] == '\r' || c[cl - 1] == ' '))
				c[--cl] = '\0';
			n->note[n->n_lines] = c;
		}
		if (nl == NULL)
			break;
	}
	return n;
}

const char *
rules_store_note(const struct rules_store_notes *n, unsigned line)
{
	if (n == NULL || line == 0 || line > n->n_lines ||
	    n->note[line] == NULL)
		return "";
	return n->note[line];
}

void
rules_store_notes_free(struct rules_store_notes *n)
{
	if (n == NULL)
		return;
	free(n->text);
	free(n->note);
	free(n);
}
