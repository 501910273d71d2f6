/* test_list_cache.c - the cached copies of subscribed lists. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
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

	/* A 304 for another copy than the one cached (a new one was
	 * accepted meanwhile): the record stays that copy's. */
	m.copy_id = 7;
	m.checked_at = 1700000300;
	CHECK_INT(list_cache_store(dir, "ads", &m, NULL, 0, err, sizeof err),
	          -1);
	CHECK_INT(errno, ESTALE);
	CHECK(strstr(err, "not updated") != NULL);
	CHECK_INT(list_cache_read_meta(dir, "ads", &back, err, sizeof err), 0);
	CHECK_INT(back.checked_at, 1700000200);
	CHECK_INT(back.copy_id, 0);
	CHECK(back.have_digest);
	CHECK_INT(back.size, 20);

	/* A header value cannot add a line to the meta file. */
	snprintf(m.etag, sizeof m.etag, "\"x\"\r\nentries 1");
	CHECK_INT(list_cache_store(dir, "ads", &m, "a.example\nb.example\n", 20,
	                           err, sizeof err),
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

static struct list_cache_meta
meta_of_copy(const char *url, uint64_t id)
{
	struct list_cache_meta m;

	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "%s", url);
	m.copy_id = id;
	m.fetched_at = 1700000000 + (int64_t)id;
	m.entries = id;
	return m;
}

/* A download is written aside as the copy pending; a build claims it;
 * accepted, it replaces the copy and its record; refused, it is gone and
 * the copy a restart loads is the one before. */
static void
test_pending(const char *tmp)
{
	char dir[512], err[512], *list, *pending, *judging, *path;
	struct list_cache_meta m, back;
	struct stat st;

	snprintf(dir, sizeof dir, "%s/pending", tmp);
	m = meta_of_copy("https://lists.example/a.txt", 1);
	CHECK_INT(list_cache_store(dir, "a", &m, "good.example\n", 13, err,
				   sizeof err),
		  0);
	list = list_cache_path(dir, "a", "list");
	pending = list_cache_pending_path(list);
	path = list_cache_path(dir, "a", "list.new");
	CHECK_STR(pending, path);
	free(path);
	judging = list_cache_judging_path(list);
	path = list_cache_path(dir, "a", "list.judging");
	CHECK_STR(judging, path);
	free(path);

	/* Nothing pending: nothing claimed. */
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 0);

	/* Junk pending: the copy and its record stay as they were. */
	m = meta_of_copy("https://lists.example/b.txt", 2);
	CHECK_INT(list_cache_store_pending(dir, "a", &m, "junk\njunk2\n", 11,
					   err, sizeof err),
		  0);
	CHECK(stat(pending, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK_STR(read_all(list), "good.example\n");
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_STR(back.url, "https://lists.example/a.txt");
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK_STR(back.url, "https://lists.example/b.txt");
	CHECK_INT(back.entries, 2);
	CHECK(back.have_digest && back.size == 11);
	CHECK(list_cache_same_copy(&back, &m));
	CHECK(access(pending, F_OK) < 0);
	CHECK_STR(read_all(judging), "junk\njunk2\n");
	list_cache_discard(list);
	CHECK(access(judging, F_OK) < 0);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 0);
	CHECK_STR(read_all(list), "good.example\n");
	/* Nothing claimed to accept: an error, the copy untouched. */
	CHECK_INT(list_cache_accept(list, err, sizeof err), -1);
	CHECK(strstr(err, "a.list.judging") != NULL);
	CHECK_STR(read_all(list), "good.example\n");

	/* Accepted: both renamed into place, nothing pending left. */
	CHECK_INT(list_cache_store_pending(dir, "a", &m, "new.example\n", 12,
					   err, sizeof err),
		  0);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK_INT(list_cache_accept(list, err, sizeof err), 0);
	CHECK_STR(read_all(list), "new.example\n");
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_STR(back.url, "https://lists.example/b.txt");
	CHECK(access(pending, F_OK) < 0);
	CHECK(access(judging, F_OK) < 0);
	path = list_cache_path(dir, "a", "meta.new");
	CHECK(access(path, F_OK) < 0);
	free(path);
	path = list_cache_path(dir, "a", "meta.judging");
	CHECK(access(path, F_OK) < 0);
	free(path);
	CHECK_INT(list_cache_check_copy(dir, "a", &back, err, sizeof err), 0);
	free(judging);
	free(pending);
	free(list);
}

/* The review's race: copy 2 is claimed and judged, copy 3 is stored
 * meanwhile; accepting copy 2 puts copy 2 in place, with its record, and
 * copy 3 stays pending for the next build (the old code renamed whatever
 * NAME.list.new held: copy 3, never judged). */
static void
test_copy_stored_while_judged(const char *tmp)
{
	char dir[512], err[512], *list, *meta;
	struct list_cache_meta m1, m2, m3, back;

	snprintf(dir, sizeof dir, "%s/race", tmp);
	m1 = meta_of_copy("https://lists.example/a.txt", 1);
	m2 = meta_of_copy("https://lists.example/a.txt", 2);
	m3 = meta_of_copy("https://lists.example/a.txt", 3);
	CHECK_INT(list_cache_store(dir, "a", &m1, "one.example\n", 12, err,
	                           sizeof err),
	          0);
	list = list_cache_path(dir, "a", "list");
	meta = list_cache_path(dir, "a", "meta");
	CHECK_INT(list_cache_store_pending(dir, "a", &m2, "two.example\n", 12,
	                                   err, sizeof err),
	          0);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK(list_cache_same_copy(&back, &m2));
	CHECK_INT(list_cache_store_pending(dir, "a", &m3, "three.example\n", 14,
	                                   err, sizeof err),
	          0);
	CHECK_INT(list_cache_accept(list, err, sizeof err), 0);
	CHECK_STR(read_all(list), "two.example\n");
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK(list_cache_same_copy(&back, &m2));
	CHECK_INT(list_cache_check_copy(dir, "a", &back, err, sizeof err), 0);
	/* Copy 3 is the next build's. */
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK(list_cache_same_copy(&back, &m3));
	CHECK(!list_cache_same_copy(&back, &m2));

	/* A build that failed left copy 3 claimed: the next build judges
	 * it, unless a newer copy came, which replaces it. */
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK(list_cache_same_copy(&back, &m3));
	m2 = meta_of_copy("https://lists.example/a.txt", 4);
	CHECK_INT(list_cache_store_pending(dir, "a", &m2, "four.example\n", 13,
	                                   err, sizeof err),
	          0);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 1);
	CHECK(list_cache_same_copy(&back, &m2));
	list_cache_discard(list);
	CHECK_STR(read_all(list), "two.example\n");
	free(list);
	free(meta);
}

/* A pair not stored whole (a crash between its renames): the record of
 * one copy beside the body of another is refused when claimed; a record
 * beside a list of another size is told at start. */
static void
test_half_stored_pair(const char *tmp)
{
	char dir[512], err[512], *list, *path;
	struct list_cache_meta m2, m3, back;

	snprintf(dir, sizeof dir, "%s/half", tmp);
	m2 = meta_of_copy("https://lists.example/a.txt", 2);
	m3 = meta_of_copy("https://lists.example/a.txt", 3);
	CHECK_INT(list_cache_store_pending(dir, "a", &m2, "two.example\n", 12,
	                                   err, sizeof err),
	          0);
	list = list_cache_path(dir, "a", "list");
	/* Copy 3's record, copy 2's body. */
	CHECK_INT(list_cache_store_pending(dir, "a", &m3, "three.example\n", 14,
	                                   err, sizeof err),
	          0);
	path = list_cache_pending_path(list);
	write_file(path, "two.example\n");
	free(path);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), -1);
	CHECK(strstr(err, "not the copy its record describes") != NULL);
	path = list_cache_judging_path(list);
	CHECK(access(path, F_OK) < 0);
	free(path);
	CHECK_INT(list_cache_claim(list, &back, err, sizeof err), 0);

	/* In force: the list is another size than its record says. */
	CHECK_INT(list_cache_store(dir, "a", &m3, "three.example\n", 14, err,
	                           sizeof err),
	          0);
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_INT(list_cache_check_copy(dir, "a", &back, err, sizeof err), 0);
	write_file(list, "two.example\n");
	CHECK_INT(list_cache_check_copy(dir, "a", &back, err, sizeof err), -1);
	CHECK(strstr(err, "12 bytes where its record says 14") != NULL);
	free(list);
}

/* The writer's thread stores copy after copy while a build claims
 * them: every pair claimed is whole (a record with its own body), never
 * a record from one copy beside the body of the one before, as when a
 * claim came between the writer's two renames. */
struct storer {
	const char *dir;
	int copies;
	int failed;
};

static void *
store_copies(void *arg)
{
	struct storer *st = arg;
	char body[64], err[512];
	int i;

	for (i = 1; i <= st->copies; i++) {
		struct list_cache_meta m =
		    meta_of_copy("https://lists.example/a.txt", (uint64_t)i);
		int len = snprintf(body, sizeof body, "copy%d.example\n", i);

		if (list_cache_store_pending(st->dir, "a", &m, body,
		                             (size_t)len, err, sizeof err) < 0)
			st->failed++;
	}
	return NULL;
}

static void
test_store_while_claimed(const char *tmp)
{
	char dir[512], err[512], *list;
	struct storer st = {dir, 60, 0};
	struct list_cache_meta back;
	pthread_t thread;
	unsigned claimed = 0, refused = 0;
	uint64_t last = 0;

	snprintf(dir, sizeof dir, "%s/threads", tmp);
	list = list_cache_path(dir, "a", "list");
	CHECK_INT(pthread_create(&thread, NULL, store_copies, &st), 0);
	while (last < (uint64_t)st.copies) {
		int rc = list_cache_claim(list, &back, err, sizeof err);

		if (rc < 0) {
			refused++;
			fprintf(stderr, "claim: %s\n", err);
			break;
		}
		if (rc == 1) {
			char want[64];

			claimed++;
			snprintf(want, sizeof want, "copy%llu.example\n",
			         (unsigned long long)back.copy_id);
			CHECK(back.copy_id >= last);
			last = back.copy_id;
			CHECK_INT(list_cache_accept(list, err, sizeof err), 0);
			CHECK_STR(read_all(list), want);
		}
	}
	pthread_join(thread, NULL);
	CHECK_INT(st.failed, 0);
	CHECK_INT(refused, 0);
	CHECK(claimed > 0);
	CHECK_INT(list_cache_read_meta(dir, "a", &back, err, sizeof err), 0);
	CHECK_INT(list_cache_check_copy(dir, "a", &back, err, sizeof err), 0);
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
	test_copy_stored_while_judged(tmp);
	test_half_stored_pair(tmp);
	test_store_while_claimed(tmp);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
	if (system(cmd) != 0)
		return 99;
	return check_exit();
}
