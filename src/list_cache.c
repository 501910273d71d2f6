/* list_cache.c - the cached copies of subscribed lists on disk. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/list_cache.h"
#include "src/xmalloc.h"

/* The copy pending is one pair of files that two threads handle: the
 * writer stores it, the reloader claims it. Both renames of a pair, a
 * claim, an accept and a record rewritten after a 304 are done under
 * this lock, so none of them sees half of another. */
static pthread_mutex_t pair_lock = PTHREAD_MUTEX_INITIALIZER;

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

/* Writes len bytes as tmp, fsynced. */
static int
write_synced(const char *tmp, const char *data, size_t len, char *err,
             size_t errlen)
{
	size_t done = 0;
	int fd, saved;

	/* 0600: a private subscription's URL often carries its token. */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	          0600);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", tmp,
		         strerror(errno));
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
	return 0;
fail:
	saved = errno;
	snprintf(err, errlen, "cannot write %s: %s", tmp,
	         strerror(saved ? saved : EIO));
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

static char *
tmp_of(const char *path)
{
	size_t len = strlen(path) + 5;
	char *tmp = xmalloc(len);

	snprintf(tmp, len, "%s.tmp", path);
	return tmp;
}

static int
rename_into(const char *from, const char *to, char *err, size_t errlen)
{
	if (rename(from, to) == 0)
		return 0;
	snprintf(err, errlen, "cannot rename %s to %s: %s", from, to,
	         strerror(errno));
	unlink(from);
	return -1;
}

/* Writes len bytes as path through path.tmp, fsynced, then renamed. */
static int
write_replace(const char *path, const char *data, size_t len, char *err,
              size_t errlen)
{
	char *tmp = tmp_of(path);
	int rc = write_synced(tmp, data, len, err, errlen);

	if (rc == 0)
		rc = rename_into(tmp, path, err, errlen);
	free(tmp);
	return rc;
}

/* FNV-1a, 64 bits: tells one copy from another (a record from the body
 * it describes), against accidents, not against an adversary. */
#define DIGEST_START 0xcbf29ce484222325ULL

static uint64_t
digest_add(uint64_t h, const void *data, size_t len)
{
	const unsigned char *p = data;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= p[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* A value is one line: a CR or LF from a server's header is cut there. */
static void
put_value(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s %.*s\n", key, (int)strcspn(value, "\r\n"), value);
}

/* NAME.EXT, or NAME.EXT.SUFFIX ("new", "judging"). */
static char *
cache_file(const char *dir, const char *name, const char *ext,
           const char *suffix)
{
	char *path = list_cache_path(dir, name, ext), *with;
	size_t len;

	if (suffix == NULL)
		return path;
	len = strlen(path) + 1 + strlen(suffix) + 1;
	with = xmalloc(len);
	snprintf(with, len, "%s.%s", path, suffix);
	free(path);
	return with;
}

/* m as NAME.meta holds it; NULL when out of memory. */
static char *
meta_text(const char *name, const struct list_cache_meta *m, size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (f == NULL)
		return NULL;
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
	fprintf(f, "copy-id %" PRIu64 "\n", m->copy_id);
	if (m->have_digest)
		fprintf(f, "size %" PRIu64 "\nhash %016" PRIx64 "\n", m->size,
		        m->hash);
	fclose(f);
	return text;
}

static int read_meta_file(char *path, struct list_cache_meta *m, char *err,
                          size_t errlen);

/* A 304 confirmed the copy m describes: its record is rewritten, unless
 * the copy in the cache is another one by now (a build accepted a new
 * copy meanwhile), whose record stays. Under pair_lock. */
static int
store_checked(const char *dir, const char *name,
              const struct list_cache_meta *m, char *err, size_t errlen)
{
	struct list_cache_meta on_disk, out = *m;
	char *text, *path;
	size_t textlen = 0;
	int rc;

	if (read_meta_file(list_cache_path(dir, name, "meta"), &on_disk, err,
	                   errlen) < 0)
		return -1;
	if (!list_cache_same_copy(&on_disk, m)) {
		snprintf(err, errlen,
		         "%s/%s.meta: not updated, it describes a newer copy "
		         "than the one the server confirmed",
		         dir, name);
		errno = ESTALE;
		return -1;
	}
	out.have_digest = on_disk.have_digest;
	out.size = on_disk.size;
	out.hash = on_disk.hash;
	text = meta_text(name, &out, &textlen);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	path = list_cache_path(dir, name, "meta");
	rc = write_replace(path, text, textlen, err, errlen);
	free(path);
	free(text);
	return rc;
}

/* Writes body and its record aside (fsynced, which takes what the disk
 * takes, outside the lock), then renames both into place under the lock:
 * as NAME.list and NAME.meta, or as the copy pending. */
static int
store(const char *dir, const char *name, const struct list_cache_meta *m,
      const char *body, size_t len, const char *suffix, char *err,
      size_t errlen)
{
	struct list_cache_meta with = *m;
	char *text, *list, *meta, *list_tmp, *meta_tmp;
	size_t textlen = 0;
	int rc = -1;

	if (make_dirs(dir) < 0) {
		snprintf(err, errlen, "cannot create the list cache %s: %s",
		         dir, strerror(errno));
		return -1;
	}
	if (body == NULL) {
		pthread_mutex_lock(&pair_lock);
		rc = store_checked(dir, name, m, err, errlen);
		pthread_mutex_unlock(&pair_lock);
		return rc;
	}
	with.have_digest = true;
	with.size = len;
	with.hash = digest_add(DIGEST_START, body, len);
	text = meta_text(name, &with, &textlen);
	if (text == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	list = cache_file(dir, name, "list", suffix);
	meta = cache_file(dir, name, "meta", suffix);
	list_tmp = tmp_of(list);
	meta_tmp = tmp_of(meta);
	if (write_synced(list_tmp, body, len, err, errlen) < 0)
		goto out;
	if (write_synced(meta_tmp, text, textlen, err, errlen) < 0) {
		unlink(list_tmp);
		goto out;
	}
	pthread_mutex_lock(&pair_lock);
	/* The list first: a record never describes a copy not there. */
	rc = rename_into(list_tmp, list, err, errlen);
	if (rc < 0)
		unlink(meta_tmp);
	else
		rc = rename_into(meta_tmp, meta, err, errlen);
	pthread_mutex_unlock(&pair_lock);
out:
	free(text);
	free(list);
	free(meta);
	free(list_tmp);
	free(meta_tmp);
	return rc;
}

int
list_cache_store(const char *dir, const char *name,
                 const struct list_cache_meta *m, const char *body, size_t len,
                 char *err, size_t errlen)
{
	return store(dir, name, m, body, len, NULL, err, errlen);
}

int
list_cache_store_pending(const char *dir, const char *name,
                         const struct list_cache_meta *m, const char *body,
                         size_t len, char *err, size_t errlen)
{
	return store(dir, name, m, body, len, "new", err, errlen);
}

bool
list_cache_same_copy(const struct list_cache_meta *a,
                     const struct list_cache_meta *b)
{
	if (a->copy_id != b->copy_id || a->fetched_at != b->fetched_at ||
	    strcmp(a->etag, b->etag) != 0 || strcmp(a->url, b->url) != 0)
		return false;
	return !a->have_digest || !b->have_digest ||
	       (a->size == b->size && a->hash == b->hash);
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

/* 16 hexadecimal digits. */
static int
parse_hash(const char *value, uint64_t *out)
{
	char *end;

	if (strlen(value) != 16 || strspn(value, "0123456789abcdef") != 16)
		return -1;
	*out = strtoull(value, &end, 16);
	return 0;
}

/* Reads the meta file at path (which it frees). */
static int
read_meta_file(char *path, struct list_cache_meta *m, char *err, size_t errlen)
{
	char line[LIST_CACHE_URL_MAX + 64];
	unsigned lineno = 0;
	FILE *f = fopen(path, "re");
	bool seen_size = false, seen_hash = false;
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
		if (strncmp(line, "size ", 5) == 0)
			seen_size = true;
		else if (strncmp(line, "hash ", 5) == 0)
			seen_hash = true;
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
		else if (strcmp(line, "copy-id") == 0)
			bad = parse_number(value, UINT64_MAX, &m->copy_id);
		else if (strcmp(line, "size") == 0)
			bad = parse_number(value, UINT64_MAX, &m->size);
		else if (strcmp(line, "hash") == 0)
			bad = parse_hash(value, &m->hash);
		/* Other keys: written by a newer dnsgated; ignored. */
		if (bad)
			goto invalid;
	}
	fclose(f);
	m->have_digest = seen_size && seen_hash;
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

/* DIR/NAME.EXT[.SUFFIX] from DIR/NAME.list, for ext "list" or "meta". */
static char *
sibling(const char *list_path, const char *ext, const char *suffix)
{
	size_t base = strlen(list_path), len;
	char *path;

	if (base >= 5 && strcmp(list_path + base - 5, ".list") == 0)
		base -= 5;
	len = base + 1 + strlen(ext) + 1 + (suffix ? strlen(suffix) : 0) + 1;
	path = xmalloc(len);
	snprintf(path, len, "%.*s.%s%s%s", (int)base, list_path, ext,
	         suffix ? "." : "", suffix ? suffix : "");
	return path;
}

char *
list_cache_pending_path(const char *list_path)
{
	return sibling(list_path, "list", "new");
}

char *
list_cache_judging_path(const char *list_path)
{
	return sibling(list_path, "list", "judging");
}

/* Whether the file at path has the size and hash m gives. */
static int
check_body(const char *path, const struct list_cache_meta *m, char *err,
           size_t errlen)
{
	char buf[65536];
	uint64_t h = DIGEST_START, size = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		h = digest_add(h, buf, (size_t)n);
		size += (uint64_t)n;
	}
	close(fd);
	if (size != m->size || h != m->hash) {
		snprintf(err, errlen,
		         "%s is not the copy its record describes (%" PRIu64
		         " bytes where the record says %" PRIu64
		         ", or another hash): a half-stored pair",
		         path, size, m->size);
		return -1;
	}
	return 0;
}

int
list_cache_claim(const char *list_path, struct list_cache_meta *m, char *err,
                 size_t errlen)
{
	char *list_new = sibling(list_path, "list", "new");
	char *meta_new = sibling(list_path, "meta", "new");
	char *list_judging = sibling(list_path, "list", "judging");
	char *meta_judging = sibling(list_path, "meta", "judging");
	struct stat st;
	int rc = 1;

	memset(m, 0, sizeof *m);
	pthread_mutex_lock(&pair_lock);
	if (stat(list_new, &st) == 0) {
		/* A newer copy than one left claimed by a build that failed:
		 * that one is dropped, unjudged as it is. */
		(void)unlink(meta_judging);
		if (rename(list_new, list_judging) < 0 ||
		    (rename(meta_new, meta_judging) < 0 && errno != ENOENT)) {
			snprintf(err, errlen, "cannot rename %s to %s: %s",
			         list_new, list_judging, strerror(errno));
			rc = -1;
		}
	} else if (stat(list_judging, &st) < 0) {
		rc = 0; /* nothing pending */
	}
	pthread_mutex_unlock(&pair_lock);
	if (rc == 1 &&
	    read_meta_file(xstrdup(meta_judging), m, err, errlen) < 0)
		rc = -1;
	else if (rc == 1 && m->have_digest &&
	         check_body(list_judging, m, err, errlen) < 0)
		rc = -1;
	if (rc < 0)
		list_cache_discard(list_path);
	free(list_new);
	free(meta_new);
	free(list_judging);
	free(meta_judging);
	return rc;
}

int
list_cache_accept(const char *list_path, char *err, size_t errlen)
{
	char *list_judging = sibling(list_path, "list", "judging");
	char *meta_judging = sibling(list_path, "meta", "judging");
	char *meta = sibling(list_path, "meta", NULL);
	int rc = 0;

	pthread_mutex_lock(&pair_lock);
	/* The list first: a record never describes a copy not there. */
	if (rename(list_judging, list_path) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s",
		         list_judging, list_path, strerror(errno));
		rc = -1;
	} else if (rename(meta_judging, meta) < 0) {
		snprintf(err, errlen, "cannot rename %s to %s: %s",
		         meta_judging, meta, strerror(errno));
		rc = -1;
	}
	pthread_mutex_unlock(&pair_lock);
	free(list_judging);
	free(meta_judging);
	free(meta);
	return rc;
}

void
list_cache_discard(const char *list_path)
{
	char *list_judging = sibling(list_path, "list", "judging");
	char *meta_judging = sibling(list_path, "meta", "judging");

	(void)unlink(list_judging);
	(void)unlink(meta_judging);
	free(list_judging);
	free(meta_judging);
}

int
list_cache_check_copy(const char *dir, const char *name,
                      const struct list_cache_meta *m, char *err, size_t errlen)
{
	char *path = list_cache_path(dir, name, "list");
	struct stat st;
	int rc = 0;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	} else if (m->have_digest && (uint64_t)st.st_size != m->size) {
		snprintf(err, errlen,
		         "%s has %lld bytes where its record says %" PRIu64,
		         path, (long long)st.st_size, m->size);
		rc = -1;
	}
	free(path);
	return rc;
}
