/* list_cache.c - the cached copies of subscribed lists on disk. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/list_cache.h"
#include "src/xmalloc.h"

char *
list_cache_path(const char *dir, const char *name, const char *ext)
{
	size_t len = strlen(dir) + 1 + strlen(name) + 1 + strlen(ext) + 1;
	char *path = xmalloc(len);

	snprintf(path, len, "%s/%s.%s", dir, name, ext);
	return path;
}

/* mkdir -p, 0755. */
static int
make_dirs(const char *dir)
{
	char *copy = xstrdup(dir), *p;
	int rc = 0;

	for (p = copy + 1; rc == 0; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;

		*p = '\0';
		if (mkdir(copy, 0700) < 0 && errno != EEXIST)
			rc = -1;
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(copy);
	return rc;
}

/* Writes len bytes as path through path.tmp, fsynced, then renamed. */
static int
write_replace(const char *path, const char *data, size_t len, char *err,
              size_t errlen)
{
	size_t tmplen = strlen(path) + 5, done = 0;
	char *tmp = xmalloc(tmplen);
	int fd, saved;

	snprintf(tmp, tmplen, "%s.tmp", path);
	/* 0600: a private subscription's URL often carries its token. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		         strerror(errno));
		free(tmp);
		return -1;
	}
	while (done < len) {
		ssize_t n = write(fd, data + done, len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	saved = errno;
	snprintf(err, errlen, "cannot write %s: %s", tmp,
	         strerror(saved ? saved : EIO));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}

/* A value is one line: a CR or LF from a server's header is cut there. */
static void
put_value(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s %.*s\n", key, (int)strcspn(value, "\r\n"), value);
}

/* NAME.EXT, or NAME.EXT.new for the copy pending. */
static char *
cache_file(const char *dir, const char *name, const char *ext, bool pending)
{
	char *path = list_cache_path(dir, name, ext), *with;
	size_t len;

	if (!pending)
		return path;
	len = strlen(path) + 5;
	with = xmalloc(len);
	snprintf(with, len, "%s.new", path);
	free(path);
	return with;
}

static int
store(const char *dir, const char *name, const struct list_cache_meta *m,
      const char *body, size_t len, bool pending, char *err, size_t errlen)
{
	char *text = NULL, *path;
	size_t textlen = 0;
	FILE *f;
	int rc;

	if (make_dirs(dir) < 0) {
		snprintf(err, errlen, "cannot create the list cache %s: %s",
		         dir, strerror(errno));
		return -1;
	}
	/* In force, the list first: a meta file never describes a copy not
	 * there yet. Pending, the meta first: a build that finds
	 * NAME.list.new (renamed into place last) finds its record. */
	if (body != NULL && !pending) {
		path = cache_file(dir, name, "list", pending);
		rc = write_replace(path, body, len, err, errlen);
		free(path);
		if (rc < 0)
			return -1;
	}
	f = open_memstream(&text, &textlen);
	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	fprintf(f,
	        "# dnsgated's record of %s.list; rewritten on every "
	        "download\n",
	        name);
	put_value(f, "url", m->url);
	put_value(f, "etag", m->etag);
	put_value(f, "last-modified", m->last_modified);
	fprintf(f, "fetched-at %" PRId64 "\n", m->fetched_at);
	fprintf(f, "checked-at %" PRId64 "\n", m->checked_at);
	fprintf(f, "entries %" PRIu64 "\n", m->entries);
	fprintf(f, "expires %" PRIu32 "\n", m->expires);
	fclose(f);
	path = cache_file(dir, name, "meta", pending);
	rc = write_replace(path, text, textlen, err, errlen);
	free(path);
	free(text);
	if (rc == 0 && body != NULL && pending) {
		path = cache_file(dir, name, "list", pending);
		rc = write_replace(path, body, len, err, errlen);
		free(path);
	}
	return rc;
}

int
list_cache_store(const char *dir, const char *name,
                 const struct list_cache_meta *m, const char *body, size_t len,
                 char *err, size_t errlen)
{
	return store(dir, name, m, body, len, false, err, errlen);
}

int
list_cache_store_pending(const char *dir, const char *name,
                         const struct list_cache_meta *m, const char *body,
                         size_t len, char *err, size_t errlen)
{
	return store(dir, name, m, body, len, true, err, errlen);
}

static void
copy_value(char *out, size_t outlen, const char *value)
{
	snprintf(out, outlen, "%s", value);
}

static int
parse_number(const char *value, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (*value < '0' || *value > '9')
		return -1;
	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

/* Reads the meta file at path (which it frees). */
static int
read_meta_file(char *path, struct list_cache_meta *m, char *err, size_t errlen)
{
	char line[LIST_CACHE_URL_MAX + 64];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	uint64_t n;

	memset(m, 0, sizeof *m);
	if (f == NULL) {
		int saved = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(saved));
		free(path);
		errno = saved;
		return -1;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		char *value, *nl = strchr(line, '\n');
		int bad = 0;

		lineno++;
		if (nl == NULL && !feof(f))
			goto invalid;
		if (nl != NULL)
			*nl = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		value = strchr(line, ' ');
		if (value == NULL)
			value = line + strlen(line);
		else
			*value++ = '\0';
		if (strcmp(line, "url") == 0)
			copy_value(m->url, sizeof m->url, value);
		else if (strcmp(line, "etag") == 0)
			copy_value(m->etag, sizeof m->etag, value);
		else if (strcmp(line, "last-modified") == 0)
			copy_value(m->last_modified, sizeof m->last_modified,
			           value);
		else if (strcmp(line, "fetched-at") == 0 &&
		         (bad = parse_number(value, INT64_MAX, &n)) == 0)
			m->fetched_at = (int64_t)n;
		else if (strcmp(line, "checked-at") == 0 &&
		         (bad = parse_number(value, INT64_MAX, &n)) == 0)
			m->checked_at = (int64_t)n;
		else if (strcmp(line, "entries") == 0)
			bad = parse_number(value, UINT64_MAX, &m->entries);
		else if (strcmp(line, "expires") == 0 &&
		         (bad = parse_number(value, UINT32_MAX, &n)) == 0)
			m->expires = (uint32_t)n;
		/* Other keys: written by a newer dnsgated; ignored. */
		if (bad)
			goto invalid;
	}
	fclose(f);
	if (m->url[0] == '\0') {
		snprintf(err, errlen, "%s: no url line", path);
		free(path);
		errno = EINVAL;
		return -1;
	}
	free(path);
	return 0;
invalid:
	snprintf(err, errlen, "%s:%u: not a line dnsgated writes", path,
	         lineno);
	fclose(f);
	free(path);
	memset(m, 0, sizeof *m);
	errno = EINVAL;
	return -1;
}

int
list_cache_read_meta(const char *dir, const char *name,
                     struct list_cache_meta *m, char *err, size_t errlen)
{
	return read_meta_file(list_cache_path(dir, name, "meta"), m, err,
	                      errlen);
}

char *
list_cache_pending_path(const char *list_path)
{
	size_t len = strlen(list_path) + 5;
	char *path = xmalloc(len);

	snprintf(path, len, "%s.new", list_path);
	return path;
}

/* DIR/NAME.meta[.new] from DIR/NAME.list. */
static char *
meta_of(const char *list_path, bool pending)
{
	size_t base = strlen(list_path), len;
	char *path;

	if (base >= 5 && strcmp(list_path + base - 5, ".list") == 0)
		base -= 5;
	len = base + sizeof ".meta.new";
	path = xmalloc(len);
	snprintf(path, len, "%.*s.meta%s", (int)base, list_path,
	         pending ? ".new" : "");
	return path;
}

int
list_cache_read_pending_meta(const char *list_path, struct list_cache_meta *m,
                             char *err, size_t errlen)
{
	return read_meta_file(meta_of(list_path, true), m, err, errlen);
}

int
list_cache_accept(const char *list_path, char *err, size_t errlen)
{
	char *pending = list_cache_pending_path(list_path);
	char *meta = meta_of(list_path, false), *meta_new = meta_of(list_path, true);
	int rc = 0;

	/* The list first: a meta file never describes a copy not there. */
	if (rename(pending, list_path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", pending,
		         list_path, strerror(errno));
		rc = -1;
	} else if (rename(meta_new, meta) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", meta_new,
		         meta, strerror(errno));
		rc = -1;
	}
	free(pending);
	free(meta);
	free(meta_new);
	return rc;
}

void
list_cache_discard(const char *list_path)
{
	char *pending = list_cache_pending_path(list_path);
	char *meta_new = meta_of(list_path, true);

	(void)unlink(pending);
	(void)unlink(meta_new);
	free(pending);
	free(meta_new);
}
