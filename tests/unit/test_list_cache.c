/* test_list_cache.c - the cached copies of subscribed lists. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "src/list_cache.h"
#include "tests/unit/check.h"

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
}

static void
test_round_trip(const char *tmp)
{
	char dir[512], err[512], *path;
	struct list_cache_meta m, back;

	/* The directory and its parents are made. */
	snprintf(dir, sizeof dir, "%s/var/lib/lists", tmp);
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/ads.txt");
	snprintf(m.etag, sizeof m.etag, "\"abc\"");
	snprintf(m.last_modified, sizeof m.last_modified,
		 "Mon, 01 Jan 2024 00:00:00 GMT");
	m.fetched_at = 1700000000;
	m.checked_at = 1700000100;
	m.entries = 2;
	m.expires = 345600;
	CHECK_INT(list_cache_store(dir, "ads", &m, "a.example\nb.example\n",
				   20, err, sizeof err),
		  0);
	path = list_cache_path(dir, "ads", "list");
	CHECK_STR(read_all(path), "a.example\nb.example\n");
	{
		struct stat st;

		/* Private: a subscription's URL may carry a token. */
		CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
		CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
	}
	free(path);
	CHECK_INT(list_cache_read_meta(dir, "ads", &back, err, sizeof err), 0);
	CHECK_STR(back.url, m.url);
	CHECK_STR(back.etag, "\"abc\"");
	CHECK_STR(back.last_modified, "Mon, 01 Jan 2024 00:00:00 GMT");
	CHECK_INT(back.fetched_at, 1700000000);
	CHECK_INT(back.checked_at, 1700000100);
	CHECK_INT(back.entries, 2);
	CHECK_INT(back.expires, 345600);

	/* Meta only (a 304): the copy stays as it was. */
	m.checked_at = 1700000200;
	CHECK_INT(list_cache_store(dir, "ads", &m, NULL, 0, err, sizeof err),
		  0);
	path = list_cache_path(dir, "ads", "list");
	CHECK_STR(read_all(path), "a.example\nb.example\n");
	free(path);
	CHECK_INT(list_cache_read_meta(dir, "ads", &back, err, sizeof err), 0);
	CHECK_INT(back.checked_at, 1700000200);

	/* A header value cannot add a line to the meta file. */
	snprintf(m.etag, sizeof m.etag, "\"x\"\r\nentries 1");
	CHECK_INT(list_cache_store(dir, "ads", &m, NULL, 0, err, sizeof err),
		  0);
	CHECK_INT(list_cache_read_meta(dir, "ads", &back, err, sizeof err), 0);
	CHECK_STR(back.etag, "\"x\"");
	CHECK_INT(back.entries, 2);

	/* No temporary file is left. */
	path = list_cache_path(dir, "ads", "list.tmp");
	CHECK(access(path, F_OK) < 0);
	free(path);
}

static void
test_missing_and_broken(const char *tmp)
{
	char err[512], path[600];
	struct list_cache_meta m;

	CHECK_INT(list_cache_read_meta(tmp, "none", &m, err, sizeof err), -1);
	CHECK_INT(errno, ENOENT);
	CHECK(strstr(err, "none.meta") != NULL);

	snprintf(path, sizeof path, "%s/bad.meta", tmp);
	write_file(path, "url https://x.example/\nentries many\n");
	CHECK_INT(list_cache_read_meta(tmp, "bad", &m, err, sizeof err), -1);
	CHECK_INT(errno, EINVAL);
	CHECK(strstr(err, "bad.meta:2: ") != NULL);

	snprintf(path, sizeof path, "%s/nourl.meta", tmp);
	write_file(path, "entries 3\n");
	CHECK_INT(list_cache_read_meta(tmp, "nourl", &m, err, sizeof err), -1);
	CHECK(strstr(err, "no url") != NULL);

	/* Keys of a newer dnsgated are passed over. */
	snprintf(path, sizeof path, "%s/newer.meta", tmp);
	write_file(path, "url https://x.example/\nfuture yes\nentries 3\n");
	CHECK_INT(list_cache_read_meta(tmp, "newer", &m, err, sizeof err), 0);
	CHECK_INT(m.entries, 3);
}

static void
test_unwritable(const char *tmp)
{
	char dir[512], err[512];
	struct list_cache_meta m;

	/* A file where the directory should be. */
	snprintf(dir, sizeof dir, "%s/file", tmp);
	write_file(dir, "x");
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://x.example/");
	CHECK_INT(list_cache_store(dir, "a", &m, "a\n", 2, err, sizeof err),
		  -1);
	CHECK(strstr(err, "Not a directory") != NULL);
}

/* A download is written aside as the copy pending; accepted, it
 * replaces the copy and its record; refused, it is gone and the copy
 * a restart loads is the one before. */
static void
test_pending(const char *tmp)
{
	char dir[512], err[512], *list, *pending, *path;
	struct list_cache_meta m, back;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/pending", tmp);
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/a.txt");
	m.entries = 1;
	CHECK_INT(list_cache_store(dir, "a", &m, "good.example\n", 13, err,
				   sizeof err),
		  0);
	list = list_cache_path(dir, "a", "list");
	pending = list_cache_pending_path(list);
	path = list_cache_path(dir, "a", "list.new");
	CHECK_STR(pending, path);
	free(path);

	/* Junk pending: the copy and its record stay as they were. */
	snprintf(m.url, sizeof m.url, "https://lists.example/b.txt");
	m.entries = 2;
	CHECK_INT(list_cache_store_pending(dir, "a", &m, "junk\njunk2\n", 11,
					   err, sizeof err),
		  0);
	CHECK(stat(pending, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_STR(read_all(list), "good.example\n");
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_STR(back.url, "https://lists.example/a.txt");
	CHECK_INT(list_cache_read_pending_meta(list, &back, err, sizeof err),
		  0);
	CHECK_STR(back.url, "https://lists.example/b.txt");
	CHECK_INT(back.entries, 2);
	list_cache_discard(list);
	CHECK(access(pending, F_OK) < 0);
	CHECK_INT(list_cache_read_pending_meta(list, &back, err, sizeof err),
		  -1);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(read_all(list), "good.example\n");
	/* Nothing pending to accept: an error, the copy untouched. */
	CHECK_INT(list_cache_accept(list, err, sizeof err), -1);
	CHECK(strstr(err, "a.list.new") != NULL);
	CHECK_STR(read_all(list), "good.example\n");

	/* Accepted: both renamed into place, nothing pending left. */
	CHECK_INT(list_cache_store_pending(dir, "a", &m, "new.example\n", 12,
					   err, sizeof err),
		  0);
	CHECK_INT(list_cache_accept(list, err, sizeof err), 0);
	CHECK_STR(read_all(list), "new.example\n");
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_STR(back.url, "https://lists.example/b.txt");
	CHECK(access(pending, F_OK) < 0);
	path = list_cache_path(dir, "a", "meta.new");
	CHECK(access(path, F_OK) < 0);
	free(path);
	free(pending);
	free(list);
}

int
main(void)
{
	char tmp[] = "/tmp/test_list_cache.XXXXXX";
	char cmd[600];

	if (mkdtemp(tmp) == NULL)
		return 99;
	test_round_trip(tmp);
	test_missing_and_broken(tmp);
	test_unwritable(tmp);
	test_pending(tmp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 99;
	return check_exit();
}
