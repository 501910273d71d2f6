/* test_policy.c - unit tests for src/policy.c: loading, the public-suffix
 * check, and reloads that keep a list's copy in use. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/config_file.h"
#include "src/list_cache.h"
#include "src/log.h"
#include "src/policy.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

static char dir[64];
static char log_path[96];

static void
path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", dir, name);
}

static void
write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	path_of(path, sizeof path, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

/* A list of n domains d0.name.test ... */
static void
write_domains(const char *name, size_t n)
{
	char path[128];
	size_t i;
	FILE *f;

	path_of(path, sizeof path, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	for (i = 0; i < n; i++)
		fprintf(f, "d%zu.%s\n", i, name);
	fclose(f);
}

static void
remove_file(const char *name)
{
	char path[128];

	path_of(path, sizeof path, name);
	unlink(path);
}

/* The log since the last call, which empties it. */
static char *
take_log(void)
{
	char *text = fixture_read_file(log_path);
	FILE *f;

	if (text == NULL)
		text = calloc(1, 1);
	f = fopen(log_path, "w");
	if (f != NULL)
		fclose(f);
	return text;
}

static int
logged(const char *log, const char *needle)
{
	if (strstr(log, needle) != NULL)
		return 1;
	fprintf(stderr, "not in the log: %s\n--- log:\n%s---\n", needle, log);
	return 0;
}

/* A config naming the lists (in dir) and the public-suffix list line. */
static struct config *
make_config(const char *suffix_line, const char *list1, const char *list2)
{
	char text[1024], err[256];
	struct config *cfg;
	int n;

	n = snprintf(text, sizeof text, "%s\nblocklist %s/%s\n", suffix_line,
	             dir, list1);
	if (list2 != NULL)
		snprintf(text + n, sizeof text - (size_t)n, "blocklist %s/%s\n",
		         dir, list2);
	cfg = config_parse(text, "test.conf", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg == NULL)
		fprintf(stderr, "config: %s\n", err);
	return cfg;
}

static bool
blocks(const struct policy *p, const char *name)
{
	struct policy_verdict v;

	return policy_check(p, name, &v);
}

static void
test_public_suffix_check(void)
{
	char suffix_line[160], path[128], expected[512], *log;
	struct policy_stats st;
	struct config *cfg;
	struct policy *p;
	char err[256];

	write_file("psl.dat", "// ===BEGIN ICANN DOMAINS===\ntest\ncom\n"
	                      "co.uk\n// ===END ICANN DOMAINS===\n");
	write_file("ads.txt", "com\nads.test\n0.0.0.0 co.uk tracker.test\n"
	                      "test # public-suffix\n");
	snprintf(suffix_line, sizeof suffix_line,
	         "public-suffix-list %s/psl.dat", dir);
	cfg = make_config(suffix_line, "ads.txt", NULL);
	if (cfg == NULL)
		return;
	free(take_log());
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK(!blocks(p, "example.com"));
	CHECK(!blocks(p, "www.example.co.uk"));
	CHECK(!blocks(p, "tracker.test.example"));
	CHECK(blocks(p, "x.ads.test"));
	{ /* for prompts: the registrable domain, the lists that know it */
		char d[256];

		policy_registrable_domain(p, "a.b.example.co.uk", d, sizeof d);
		CHECK_STR(d, "example.co.uk");
		policy_registrable_domain(p, "example.com", d, sizeof d);
		CHECK_STR(d, "example.com");
		policy_registrable_domain(p, "co.uk", d, sizeof d);
		CHECK_STR(d, "");
		policy_registrable_domain(p, "x.y.example", d, sizeof d);
		CHECK_STR(d, "y.example"); /* "example" is not listed here */
		policy_lists_knowing(p, "x.ads.test", 1, "?", d, sizeof d);
		CHECK_STR(d, "ads");
		policy_lists_knowing(p, "example.com", 1, "?", d, sizeof d);
		CHECK_STR(d, "");
		policy_lists_knowing(p, "x.ads.test", 1, "?", d, 3);
		CHECK_STR(d, ""); /* cut at a whole name */
	}
	/* Wanted by its line: all of .test. */
	CHECK(blocks(p, "anything.test"));
	policy_get_stats(p, &st);
	CHECK_INT(st.lists, 1);
	CHECK_INT(st.domains, 2);
	CHECK_INT(st.suffixes_refused, 2);
	CHECK_INT(st.lists_kept, 0);
	CHECK(st.public_suffix_check);
	log = take_log();
	path_of(path, sizeof path, "ads.txt");
	snprintf(expected, sizeof expected,
	         "blocklist %s (domains): 2 entries from 4 lines; 2 lines "
	         "refused for "
	         "naming a public suffix (see above); 1 public suffix blocked "
	         "whole, as its line says '# public-suffix'",
	         path);
	CHECK(logged(log, expected));
	snprintf(expected, sizeof expected, "%s:1: com is a public suffix",
	         path);
	CHECK(logged(log, expected));
	CHECK(logged(log, "psl.dat: 3 suffixes; block list lines naming one "
	                  "are refused"));
	free(log);

	/* The list is read once: a reload checks with it still. */
	write_file("ads.txt", "com\nads.test\nnew.test\n");
	{
		struct policy *q = policy_reload(p, cfg, err, sizeof err);

		CHECK(q != NULL);
		if (q != NULL) {
			policy_free(p);
			p = q;
		}
	}
	CHECK(!blocks(p, "example.com"));
	CHECK(blocks(p, "x.new.test"));
	CHECK(!blocks(p, "anything.test"));
	policy_get_stats(p, &st);
	CHECK_INT(st.suffixes_refused, 1);
	CHECK(st.public_suffix_check);
	free(take_log());
	policy_free(p);
	config_free(cfg);

	/* The list is missing: one warning, and lines are not checked. */
	cfg = make_config("public-suffix-list /nonexistent/psl.dat", "ads.txt",
	                  NULL);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	log = take_log();
	CHECK(logged(log, "public-suffix-list /nonexistent/psl.dat: cannot "
	                  "read it: No such file or directory: the "
	                  "public-suffix check is off, so a block list line "
	                  "such as 'com' would block every site under it"));
	if (p != NULL) {
		CHECK(blocks(p, "example.com"));
		policy_get_stats(p, &st);
		CHECK(!st.public_suffix_check);
		CHECK_INT(st.suffixes_refused, 0);
	}
	free(log);
	policy_free(p);
	config_free(cfg);

	/* Turned off. */
	cfg = make_config("public-suffix-list none", "ads.txt", NULL);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	log = take_log();
	CHECK(logged(log, "public-suffix-list none: block list lines are not "
	                  "checked"));
	CHECK(strstr(log, "warning:") == NULL);
	if (p != NULL)
		CHECK(blocks(p, "example.com"));
	free(log);
	policy_free(p);
	config_free(cfg);
	remove_file("ads.txt");
	remove_file("psl.dat");
}

static void
test_unreadable_at_start(void)
{
	struct config *cfg =
	    make_config("public-suffix-list none", "missing.txt", NULL);
	char err[256], expected[256];

	if (cfg == NULL)
		return;
	CHECK(policy_new(cfg, err, sizeof err) == NULL);
	snprintf(expected, sizeof expected,
	         "blocklist %s/missing.txt: No such file or directory", dir);
	CHECK_STR(err, expected);
	free(take_log());
	config_free(cfg);
}

/* Reloads p in place (the old one freed), as dnsgated does. */
static struct policy *
reload(struct policy *p, const struct config *cfg)
{
	char err[256];
	struct policy *q = policy_reload(p, cfg, err, sizeof err);

	CHECK(q != NULL);
	if (q == NULL) {
		fprintf(stderr, "reload: %s\n", err);
		return p;
	}
	policy_free(p);
	return q;
}

static size_t
kept(const struct policy *p)
{
	struct policy_stats st;

	policy_get_stats(p, &st);
	return st.lists_kept;
}

static void
test_reload_keeps_broken_lists(void)
{
	struct config *cfg =
	    make_config("public-suffix-list none", "big.test", "small.test");
	char path[128], expected[640], *log;
	struct policy *p, *q;
	char err[256];

	if (cfg == NULL)
		return;
	write_domains("big.test", 200);
	write_domains("small.test", 5);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	CHECK_INT(policy_domain_count(p), 205);
	free(take_log());
	path_of(path, sizeof path, "big.test");

	/* Shrinking by less than half is an update like any other. */
	write_domains("big.test", 150);
	p = reload(p, cfg);
	CHECK_INT(policy_domain_count(p), 155);
	CHECK_INT(kept(p), 0);
	CHECK(!blocks(p, "d160.big.test"));
	log = take_log();
	snprintf(expected, sizeof expected,
	         "blocklist %s (domains): 150 entries from 150 lines "
	         "(were 200)",
	         path);
	CHECK(logged(log, expected));
	free(log);

	/* Under half: the copy in use stays, the other list is updated. */
	write_domains("big.test", 74);
	write_domains("small.test", 6);
	p = reload(p, cfg);
	CHECK_INT(kept(p), 1);
	CHECK(blocks(p, "d149.big.test"));
	CHECK(blocks(p, "d5.small.test"));
	CHECK_INT(policy_domain_count(p), 156);
	log = take_log();
	snprintf(expected, sizeof expected,
	         "blocklist %s: the reload found 74 domains where the copy in "
	         "use has 150 (fewer than half; 0 malformed or refused lines): "
	         "keeping the copy in use (read ",
	         path);
	CHECK(logged(log, expected));
	CHECK(logged(log, "If the file is broken (a failed download?), fix it "
	                  "and send SIGHUP again; if the shorter list is "
	                  "meant, restart dnsgated to load it as it is"));
	free(log);

	/* Emptied: kept, still measured against the copy in use. */
	write_file("big.test", "");
	p = reload(p, cfg);
	CHECK_INT(kept(p), 1);
	CHECK(blocks(p, "d149.big.test"));
	free(take_log());

	/* Exactly half is not under half. */
	write_domains("big.test", 75);
	p = reload(p, cfg);
	CHECK_INT(kept(p), 0);
	CHECK(!blocks(p, "d75.big.test"));
	CHECK(blocks(p, "d74.big.test"));
	free(take_log());

	/* Cannot be read: kept, and the old policy stays whole meanwhile. */
	remove_file("big.test");
	q = policy_reload(p, cfg, err, sizeof err);
	CHECK(q != NULL);
	if (q == NULL)
		return;
	CHECK(blocks(p, "d74.big.test"));
	CHECK(blocks(q, "d74.big.test"));
	CHECK_INT(kept(q), 1);
	CHECK_INT(kept(p), 0);
	policy_free(p);
	p = q;
	CHECK(blocks(p, "d74.big.test")); /* the shared copy outlived p */
	log = take_log();
	snprintf(expected, sizeof expected,
	         "blocklist %s: cannot read it on reload (No such file or "
	         "directory): keeping the copy in use (75 domains, read ",
	         path);
	CHECK(logged(log, expected));
	CHECK(logged(log, "restore the file and send SIGHUP again"));
	free(log);
	write_domains("big.test", 75);

	/* A small list may be emptied at will. */
	write_file("small.test", "# nothing blocked for now\n");
	p = reload(p, cfg);
	CHECK_INT(kept(p), 0);
	CHECK(!blocks(p, "d0.small.test"));
	free(take_log());

	/* But one that turns into junk (an error page) is kept. */
	write_domains("small.test", 5);
	p = reload(p, cfg);
	write_file("small.test",
	           "<!DOCTYPE html>\n<html>\n<head><title>502 Bad "
	           "Gateway</title></head>\n<body>\n<h1>502 Bad Gateway</h1>\n"
	           "</body>\n</html>\n");
	p = reload(p, cfg);
	CHECK_INT(kept(p), 1);
	CHECK(blocks(p, "d4.small.test"));
	log = take_log();
	path_of(path, sizeof path, "small.test");
	snprintf(expected, sizeof expected,
	         "blocklist %s: the reload found 0 domains where the copy in "
	         "use has 5 (more malformed or refused lines than domains; 7 "
	         "malformed or refused lines): keeping the copy in use",
	         path);
	CHECK(logged(log, expected));
	free(log);

	/* A small list that shrank but is well-formed is taken. */
	write_domains("small.test", 2);
	p = reload(p, cfg);
	CHECK_INT(kept(p), 0);
	CHECK(!blocks(p, "d2.small.test"));
	free(take_log());

	/* Malformed lines it always had do not make a shorter list junk. */
	write_file("small.test", "a.small.test\nb.small.test\nc.small.test\n"
	                         "bad..x\nbad..y\nbad..z\n");
	p = reload(p, cfg);
	write_file("small.test", "a.small.test\nbad..x\nbad..y\nbad..z\n");
	p = reload(p, cfg);
	CHECK_INT(kept(p), 0);
	CHECK(!blocks(p, "b.small.test"));
	free(take_log());

	policy_free(p);
	config_free(cfg);
	remove_file("big.test");
	remove_file("small.test");
}

static void
test_reload_new_list(void)
{
	struct config *one =
	    make_config("public-suffix-list none", "a.test", NULL);
	struct config *two =
	    make_config("public-suffix-list none", "a.test", "b.test");
	struct policy *p, *q;
	char err[256];

	if (one == NULL || two == NULL)
		return;
	write_domains("a.test", 3);
	p = policy_new(one, err, sizeof err);
	CHECK(p != NULL);
	if (p == NULL)
		return;
	/* A list the old policy did not have: nothing to keep, so it must
	 * be readable, as at start. */
	q = policy_reload(p, two, err, sizeof err);
	CHECK(q == NULL);
	CHECK(strstr(err, "b.test: No such file or directory") != NULL);
	write_domains("b.test", 4);
	q = policy_reload(p, two, err, sizeof err);
	CHECK(q != NULL);
	if (q != NULL) {
		CHECK_INT(policy_domain_count(q), 7);
		CHECK(blocks(q, "d3.b.test"));
		policy_free(q);
	}
	policy_free(p);
	free(take_log());
	config_free(one);
	config_free(two);
	remove_file("a.test");
	remove_file("b.test");
}

/* A list's answer=, for the query path; and kept through a reload. */
static void
test_list_answer(void)
{
	char text[512], err[256];
	struct config *cfg;
	struct policy *p, *q;
	enum message_block_mode mode = MESSAGE_BLOCK_NXDOMAIN;

	write_domains("a.test", 3);
	write_domains("b.test", 3);
	snprintf(text, sizeof text,
	         "public-suffix-list none\nblocked-answer refused\n"
	         "blocklist %s/a.test answer=null\nlist b %s/b.test\n",
	         dir, dir);
	cfg = config_parse(text, "test.conf", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(policy_list_answer(p, 0, &mode));
		CHECK_INT(mode, MESSAGE_BLOCK_NULL);
		/* No answer= of its own: the global one applies. */
		mode = MESSAGE_BLOCK_NODATA;
		CHECK(!policy_list_answer(p, 1, &mode));
		CHECK_INT(mode, MESSAGE_BLOCK_NODATA);
		CHECK(!policy_list_answer(p, 2, &mode));
		q = policy_reload(p, cfg, err, sizeof err);
		CHECK(q != NULL);
		if (q != NULL) {
			CHECK(policy_list_answer(q, 0, &mode));
			CHECK_INT(mode, MESSAGE_BLOCK_NULL);
			policy_free(q);
		}
		policy_free(p);
	}
	free(take_log());
	config_free(cfg);
	remove_file("a.test");
	remove_file("b.test");
}

/* An adblock list whose every rule has an option dnsgate skips. */
static void
junk_text(char *buf, size_t len)
{
	size_t i, n;

	n = (size_t)snprintf(buf, len, "[Adblock Plus 2.0]\n");
	for (i = 0; i < 50 && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n,
		                      "||d%zu.ads.test^$third-party\n", i);
}

/* A subscription's copy pending (NAME.list.new) is judged by the next
 * build: a good one is put in force and made the cached copy; junk (no
 * entries in force), or a copy from another URL, is removed and the copy
 * in force stays the cached one; without one, the copy in use is kept
 * as it is. */
static void
test_subscription_pending(void)
{
	char text[512], err[256], cache[128], junk[2048], *list, *pending;
	struct config *cfg;
	struct policy *p;
	struct policy_list_info li;
	struct policy_verdict v;
	struct list_cache_meta m;
	FILE *f;

	path_of(cache, sizeof cache, "cache");
	snprintf(text, sizeof text,
	         "public-suffix-list none\nlist-cache %s\n"
	         "blocklist https://lists.example/ads.txt name=ads\n",
	         cache);
	cfg = config_parse(text, "test.conf", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/ads.txt");
	list = list_cache_path(cache, "ads", "list");
	pending = list_cache_pending_path(list);
	CHECK_INT(list_cache_store(cache, "ads", &m, "one.ads.test\n", 13, err,
	                           sizeof err),
	          0);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p == NULL)
		goto out;
	CHECK(policy_check(p, "one.ads.test", &v));

	/* Nothing pending: the copy in use, not read again. */
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_NONE);
	CHECK(!li.kept);

	/* A good copy: in force, and the cached copy. */
	CHECK_INT(list_cache_store_pending(cache, "ads", &m,
	                                   "one.ads.test\ntwo.ads.test\n", 26,
	                                   err, sizeof err),
	          0);
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_TAKEN);
	CHECK(policy_check(p, "two.ads.test", &v));
	CHECK(access(pending, F_OK) < 0);
	f = fopen(list, "r");
	CHECK(f != NULL);
	if (f != NULL) {
		char line[64];

		CHECK(fgets(line, sizeof line, f) != NULL &&
		      fgets(line, sizeof line, f) != NULL);
		CHECK_STR(line, "two.ads.test\n");
		fclose(f);
	}

	/* Junk: text whose every rule is skipped. Refused and removed. */
	junk_text(junk, sizeof junk);
	CHECK_INT(list_cache_store_pending(cache, "ads", &m, junk, strlen(junk),
	                                   err, sizeof err),
	          0);
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_REFUSED);
	CHECK(strstr(li.pending_reason, "gives 0 entries where the copy in "
	                                "force has 2") != NULL);
	CHECK(li.kept);
	CHECK(policy_check(p, "two.ads.test", &v));
	CHECK(access(pending, F_OK) < 0);
	CHECK_INT(list_cache_read_meta(cache, "ads", &m, err, sizeof err), 0);

	/* From another URL (the list's changed meanwhile): refused. */
	snprintf(m.url, sizeof m.url, "https://old.example/ads.txt");
	CHECK_INT(list_cache_store_pending(cache, "ads", &m,
	                                   "three.ads.test\n", 15, err,
	                                   sizeof err),
	          0);
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_REFUSED);
	CHECK(strstr(li.pending_reason, "no longer the list's URL") != NULL);
	CHECK(!policy_check(p, "three.ads.test", &v));
	CHECK(access(pending, F_OK) < 0);

	/* A restart loads the copy last accepted. */
	policy_free(p);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p != NULL) {
		CHECK(policy_check(p, "two.ads.test", &v));
		policy_free(p);
	}
out:
	free(take_log());
	config_free(cfg);
	unlink(list);
	free(list);
	free(pending);
	path_of(text, sizeof text, "cache/ads.meta");
	unlink(text);
	rmdir(cache);
}

/* A first download (nothing in force yet) whose every rule is skipped
 * is refused, not taken as a list of 0 entries; the next build tells
 * which copy it judged. */
static void
test_subscription_first_junk(void)
{
	char text[512], err[256], cache[128], junk[2048], *list;
	struct config *cfg;
	struct policy *p;
	struct policy_list_info li;
	struct list_cache_meta m;

	path_of(cache, sizeof cache, "cache-first");
	snprintf(text, sizeof text,
	         "public-suffix-list none\nlist-cache %s\n"
	         "blocklist https://lists.example/ads.txt name=ads\n",
	         cache);
	cfg = config_parse(text, "test.conf", err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	p = policy_new(cfg, err, sizeof err); /* no copy yet */
	CHECK(p != NULL);
	if (p == NULL)
		goto out;
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/ads.txt");
	m.copy_id = 41;
	junk_text(junk, sizeof junk);
	CHECK_INT(list_cache_store_pending(cache, "ads", &m, junk, strlen(junk),
	                                   err, sizeof err),
	          0);
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_REFUSED);
	CHECK(strstr(li.pending_reason, "none that dnsgate can use") != NULL);
	CHECK(li.judged != NULL && li.judged->copy_id == 41);
	list = list_cache_path(cache, "ads", "list");
	CHECK(access(list, F_OK) < 0); /* never the cached copy */
	free(list);

	/* A good one is taken, and its record given. */
	m.copy_id = 42;
	CHECK_INT(list_cache_store_pending(cache, "ads", &m, "a.ads.test\n", 11,
	                                   err, sizeof err),
	          0);
	p = reload(p, cfg);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.pending, POLICY_PENDING_TAKEN);
	CHECK(li.judged != NULL && list_cache_same_copy(li.judged, &m));
	CHECK(li.judged != NULL && li.judged->have_digest &&
	      li.judged->size == 11);
	policy_free(p);
out:
	free(take_log());
	config_free(cfg);
	snprintf(text, sizeof text, "rm -rf '%s'", cache);
	CHECK_INT(system(text), 0);
}

/* format= changed on reload: the copy in force is read again as the
 * format now says, with no new download. */
static void
test_subscription_format_change(void)
{
	char text[512], err[256], cache[128];
	struct config *cfg, *cfg2;
	struct policy *p;
	struct policy_list_info li;
	struct policy_verdict v;
	struct list_cache_meta m;

	path_of(cache, sizeof cache, "cache-format");
	snprintf(text, sizeof text,
	         "public-suffix-list none\nlist-cache %s\n"
	         "blocklist https://lists.example/ads.txt name=ads "
	         "format=hosts\n",
	         cache);
	cfg = config_parse(text, "test.conf", err, sizeof err);
	snprintf(text, sizeof text,
	         "public-suffix-list none\nlist-cache %s\n"
	         "blocklist https://lists.example/ads.txt name=ads "
	         "format=adblock\n",
	         cache);
	cfg2 = config_parse(text, "test.conf", err, sizeof err);
	CHECK(cfg != NULL && cfg2 != NULL);
	if (cfg == NULL || cfg2 == NULL)
		goto out;
	memset(&m, 0, sizeof m);
	snprintf(m.url, sizeof m.url, "https://lists.example/ads.txt");
	CHECK_INT(list_cache_store(cache, "ads", &m,
	                           "b.ads.test\n||a.ads.test^\n", 25, err,
	                           sizeof err),
	          0);
	p = policy_new(cfg, err, sizeof err);
	CHECK(p != NULL);
	if (p == NULL)
		goto out;
	CHECK(policy_check(p, "b.ads.test", &v));
	CHECK(!policy_check(p, "a.ads.test", &v));
	p = reload(p, cfg2);
	CHECK_INT(policy_list_info(p, 0, &li), 0);
	CHECK_INT(li.format, LIST_FORMAT_ADBLOCK);
	CHECK_INT(li.pending, POLICY_PENDING_NONE);
	CHECK(policy_check(p, "a.ads.test", &v));
	CHECK(policy_check(p, "b.ads.test", &v));
	/* The same format again: the copy in use, shared. */
	p = reload(p, cfg2);
	CHECK(policy_check(p, "a.ads.test", &v));
	policy_free(p);
out:
	free(take_log());
	config_free(cfg);
	config_free(cfg2);
	snprintf(text, sizeof text, "rm -rf '%s'", cache);
	CHECK_INT(system(text), 0);
}

int
main(void)
{
	strcpy(dir, "/tmp/dnsgate-test-policy-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(log_path, sizeof log_path, "%s/log", dir);
	if (log_set_file(log_path) < 0) {
		perror(log_path);
		return 99;
	}
	test_public_suffix_check();
	test_unreadable_at_start();
	test_reload_keeps_broken_lists();
	test_reload_new_list();
	test_list_answer();
	test_subscription_pending();
	test_subscription_first_junk();
	test_subscription_format_change();
	log_set_file(NULL);
	unlink(log_path);
	rmdir(dir);
	return check_exit();
}
