/* test_list_filter.c - unit tests for lists/list_filter.c: reading list
 * files of every format (hostile bytes included), the counts by reason,
 * the metadata, and the real EasyList and EasyPrivacy of Debian's
 * webext-ublock-origin-firefox, timed. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lists/list_filter.h"
#include "src/log.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define UBLOCK_ASSETS                                                          \
	"/usr/share/mozilla/extensions/{ec8030f7-c20a-464f-9b0e-"              \
	"13a3a9e97384}/uBlock0@raymondhill.net/assets/thirdparties/"

static char log_path[64];

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

/* A filter read from text (length bytes) in format. */
static struct list_filter *
load_text(const char *text, size_t length, enum list_format format, char *path)
{
	struct list_filter *f = list_filter_new();

	CHECK_INT(fixture_temp_file(path, 64, text, length), 0);
	CHECK_INT(list_filter_load(f, path, format, NULL), 0);
	return f;
}

static bool
blocks(const struct list_filter *f, const char *name)
{
	struct list_filter_match m;

	return list_filter_match(f, name, 1, NULL, &m);
}

static void
test_hosts_file(void)
{
	static const char text[] = "\xEF\xBB\xBF# Title: StevenBlack/hosts\r\n"
	                           "0.0.0.0 ads.example\r\n"
	                           "*.wild.example\r\n"
	                           "||adblock.example^\r\n"
	                           "bad..example\n"
	                           "plain.example";
	char path[64];
	struct list_filter *f =
	    load_text(text, sizeof text - 1, LIST_FORMAT_HOSTS, path);
	const struct list_filter_stats *st = list_filter_stats(f);
	char *log = take_log();

	CHECK_INT(list_filter_format(f), LIST_FORMAT_HOSTS);
	CHECK(blocks(f, "ads.example"));
	CHECK(blocks(f, "x.wild.example"));
	CHECK(blocks(f, "plain.example"));
	CHECK(!blocks(f, "adblock.example"));
	CHECK_INT(st->lines, 6);
	CHECK_INT(st->entries, 3);
	CHECK_INT(st->skipped[LIST_SKIP_MALFORMED], 2);
	CHECK_STR(list_filter_title(f), "StevenBlack/hosts");
	CHECK(logged(log,
	             ":4: adblock syntax is not supported in a hosts/plain "
	             "list: '||adblock.example^'"));
	CHECK(logged(log, ":5: empty label in domain name: 'bad..example'"));
	free(log);
	unlink(path);
	list_filter_free(f);
}

static void
test_adblock_file(void)
{
	static const char text[] = "[Adblock Plus 2.0]\n"
	                           "! Title: Test list\n"
	                           "! Homepage: https://example.org/list\n"
	                           "! Expires: 4 days (update frequency)\n"
	                           "! Expires: 1 hour\n"
	                           "||ads.example^\n"
	                           "@@||ok.ads.example^\n"
	                           "||off.example^\n"
	                           "||off.example^$badfilter\n"
	                           "example.com##.banner\n"
	                           "||page.example/ad.js\n"
	                           "||x.example^$script\n"
	                           "||bad..example^\n";
	char path[64];
	struct list_filter *f =
	    load_text(text, sizeof text - 1, LIST_FORMAT_AUTO, path);
	const struct list_filter_stats *st = list_filter_stats(f);
	char *log = take_log();

	CHECK_INT(list_filter_format(f), LIST_FORMAT_ADBLOCK);
	CHECK_STR(list_filter_title(f), "Test list");
	CHECK_STR(list_filter_homepage(f), "https://example.org/list");
	CHECK_INT(list_filter_expires(f), 4 * 86400);
	CHECK(blocks(f, "ads.example"));
	CHECK(!blocks(f, "ok.ads.example"));
	CHECK(!blocks(f, "off.example"));
	CHECK(!blocks(f, "page.example"));
	CHECK(!blocks(f, "x.example"));
	CHECK_INT(st->entries, 2);
	CHECK_INT(st->exceptions, 1);
	CHECK_INT(st->badfilters, 1);
	CHECK_INT(st->skipped[LIST_SKIP_BADFILTER], 1);
	CHECK_INT(st->skipped[LIST_SKIP_COSMETIC], 1);
	CHECK_INT(st->skipped[LIST_SKIP_URL], 1);
	CHECK_INT(st->skipped[LIST_SKIP_OPTION], 1);
	CHECK_INT(st->skipped[LIST_SKIP_MALFORMED], 1);
	CHECK_INT(list_filter_errors(st), 1);
	/* By-design skips at info, errors at warning, each with file:line. */
	CHECK(logged(log, ":10: skipped (a cosmetic rule (page elements): "
	                  "nothing for DNS): 'example.com##.banner'"));
	CHECK(logged(log, ":13: empty label in domain name: "
	                  "'||bad..example^'"));
	free(log);
	unlink(path);
	/* Named, the format is not guessed: hosts reading refuses it all. */
	list_filter_free(f);
	f = load_text(text, sizeof text - 1, LIST_FORMAT_HOSTS, path);
	CHECK_INT(list_filter_count(f), 0);
	CHECK(list_filter_stats(f)->skipped[LIST_SKIP_MALFORMED] >= 7);
	free(take_log());
	unlink(path);
	list_filter_free(f);
}

/* NUL bytes, non-UTF-8, CR alone, overlong names and lines, a 10 MB
 * line: each line refused alone, the good lines around them read. */
static void
test_hostile_file(void)
{
	size_t big = 10 * 1024 * 1024, n = 0;
	char *text = malloc(big + 4096), path[64], name[300];
	struct list_filter *f;
	const struct list_filter_stats *st;
	char *log;

	n += (size_t)sprintf(text + n, "||first.example^\n");
	memcpy(text + n, "||nul\0.example^\n", 16);
	n += 16;
	n += (size_t)sprintf(text + n, "||caf\xc3\xa9.example^\n");
	n += (size_t)sprintf(text + n, "||\xff\xfe.example^\n");
	memset(name, 'a', sizeof name);
	name[sizeof name - 1] = '\0';
	n += (size_t)sprintf(text + n, "||%s.example^\n", name);
	text[n++] = '|';
	text[n++] = '|';
	memset(text + n, 'b', big);
	n += big;
	text[n++] = '\n';
	n += (size_t)sprintf(text + n, "! \x1b[31mred\n||last.example^\n");
	f = load_text(text, n, LIST_FORMAT_ADBLOCK, path);
	st = list_filter_stats(f);
	log = take_log();
	CHECK(blocks(f, "first.example"));
	CHECK(blocks(f, "last.example"));
	CHECK_INT(st->lines, 8);
	CHECK_INT(st->entries, 2);
	CHECK_INT(st->skipped[LIST_SKIP_MALFORMED], 5);
	CHECK(logged(log, ":2: NUL byte in line"));
	CHECK(logged(log, ":6: line longer than 4096 characters: '||bbbb"));
	/* The log shows no byte that is not printable ASCII. */
	CHECK(strstr(log, "\xff") == NULL && strstr(log, "\xc3") == NULL);
	free(log);
	unlink(path);
	list_filter_free(f);
	free(text);
	/* A file that is not there: -1 and errno. */
	f = list_filter_new();
	CHECK_INT(list_filter_load(f, "/nonexistent/list.txt", LIST_FORMAT_AUTO,
	                           NULL),
	          -1);
	list_filter_free(f);
}

static void
test_expires(void)
{
	CHECK_INT(list_filter_parse_expires("4 days (update frequency)"),
	          4 * 86400);
	CHECK_INT(list_filter_parse_expires(" 12 hours"), 12 * 3600);
	CHECK_INT(list_filter_parse_expires("1 day"), 86400);
	CHECK_INT(list_filter_parse_expires("2d"), 2 * 86400);
	CHECK_INT(list_filter_parse_expires("6h"), 6 * 3600);
	CHECK_INT(list_filter_parse_expires("317 minutes"), 317 * 60);
	CHECK_INT(list_filter_parse_expires("soon"), 0);
	CHECK_INT(list_filter_parse_expires("5 weeks"), 0);
	CHECK_INT(list_filter_parse_expires("99999999999 days"), UINT32_MAX);
	CHECK_STR(list_skip_name(LIST_SKIP_COSMETIC), "cosmetic");
	CHECK(list_skip_is_error(LIST_SKIP_REGEX));
	CHECK(!list_skip_is_error(LIST_SKIP_URL));
}

/* EasyList and EasyPrivacy as Debian ships them: what is read, what is
 * skipped by reason, how long it takes. Cosmetic and URL rules must not
 * block their hosts. */
static void
load_real(const char *file, size_t min_entries)
{
	char path[512];
	struct list_filter *f = list_filter_new();
	const struct list_filter_stats *st;
	struct timespec t0, t1;
	size_t k;

	snprintf(path, sizeof path, "%s%s", UBLOCK_ASSETS, file);
	if (access(path, R_OK) != 0) {
		fprintf(stderr,
		        "%s: not installed (apt-get install "
		        "webext-ublock-origin-firefox); skipped\n",
		        path);
		list_filter_free(f);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(list_filter_load(f, path, LIST_FORMAT_AUTO, NULL), 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	st = list_filter_stats(f);
	CHECK_INT(list_filter_format(f), LIST_FORMAT_ADBLOCK);
	CHECK(st->entries >= min_entries);
	CHECK(list_filter_expires(f) > 0);
	fprintf(stderr,
	        "%s: %zu lines, %zu entries (%zu exceptions), %zu "
	        "$badfilter lines, %.1f ms; skipped:",
	        file, st->lines, st->entries, st->exceptions, st->badfilters,
	        (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	            (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	for (k = 0; k < LIST_SKIP_KINDS; k++)
		fprintf(stderr, " %s %zu", list_skip_name((enum list_skip)k),
		        st->skipped[k]);
	fprintf(stderr, "\n");
	/* A cosmetic rule's host and a URL rule's host stay open. */
	if (strstr(file, "easylist.txt") != NULL) {
		CHECK(blocks(f, "0014b04291.com"));
		CHECK(!blocks(f, "dez.ro"));     /* dez.ro#@##ad-carousel */
		CHECK(!blocks(f, "gamdom.com")); /* ||gamdom.com/?utm_... */
		CHECK(!blocks(f, "lifesitenews.com"));
	}
	free(take_log());
	list_filter_free(f);
}

int
main(void)
{
	snprintf(log_path, sizeof log_path, "/tmp/dnsgate-test-filter-%d.log",
	         (int)getpid());
	log_set_file(log_path);
	log_set_level(LOG_LEVEL_INFO);
	test_hosts_file();
	test_adblock_file();
	test_hostile_file();
	test_expires();
	load_real("easylist/easylist.txt", 30000);
	load_real("easylist/easyprivacy.txt", 30000);
	unlink(log_path);
	return check_exit();
}
