/* test_list_hosts.c - unit tests for lists/list_hosts.c. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lists/list_hosts.h"
#include "lists/matcher.h"
#include "src/log.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"


static const char *const bad_char_reason =
    "character other than letter, digit, '-' or '_' in domain name";
static const char *const adblock_reason =
    "adblock syntax is not supported in a hosts/plain list";
static const char *const fields_reason = "expected a domain or 'IP domain...'";

/* Adds line and returns what list_hosts_add_line returned; *reason is
 * reset first so a stale reason cannot pass a check. */
static int
add(struct matcher *m, const char *line, const char **reason)
{
	struct list_line_note note;
	int rc;

	note.reason = "stale";
	rc = list_hosts_add_line(m, NULL, line, &note);
	*reason = note.reason;
	return rc;
}

static void
expect_rejected(struct matcher *m, const char *line, const char *reason)
{
	size_t before = matcher_count(m);
	const char *got = NULL;

	CHECK_INT(add(m, line, &got), -1);
	CHECK_STR(got, reason);
	CHECK_INT(matcher_count(m), before);
}

static void
test_plain_lines(void)
{
	struct matcher *m = matcher_new();
	const char *reason;

	CHECK_INT(add(m, "example.com", &reason), 1);
	CHECK_STR(fixture_matcher_entry(m, "www.example.com"), "example.com");
	CHECK_INT(add(m, "  Tracker.Example.ORG.  ", &reason), 1);
	CHECK_STR(fixture_matcher_entry(m, "tracker.example.org"),
	          "tracker.example.org");
	CHECK_INT(add(m, "\tads.example.net\t", &reason), 1);
	CHECK_INT(add(m, "example.com", &reason), 0);
	CHECK_INT(add(m, "EXAMPLE.COM.", &reason), 0);
	CHECK_INT(matcher_count(m), 3);
	/* A wildcard line is its domain, which covers what is under it. */
	CHECK_INT(add(m, "*.wild.example", &reason), 1);
	CHECK_STR(fixture_matcher_entry(m, "a.b.wild.example"), "wild.example");
	CHECK_STR(fixture_matcher_entry(m, "wild.example"), "wild.example");
	CHECK_INT(add(m, "*.example.com", &reason), 0);
	CHECK_INT(matcher_count(m), 4);
	matcher_free(m);
}

static void
test_hosts_lines(void)
{
	struct matcher *m = matcher_new();
	const char *reason;

	CHECK_INT(add(m, "0.0.0.0 a.example", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 b.example c.example  d.example", &reason), 3);
	CHECK_INT(add(m, "127.0.0.1 e.example", &reason), 1);
	CHECK_INT(add(m, "::1 f.example", &reason), 1);
	CHECK_INT(add(m, ":: g.example", &reason), 1);
	CHECK_INT(add(m, "0:0:0:0:0:0:0:0 h.example", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0\ti.example\tj.example", &reason), 2);
	CHECK_INT(add(m, "  192.168.1.1   k.example  ", &reason), 1);
	CHECK_INT(add(m, "fe80::1%lo0 l.example", &reason), 1);
	/* Already listed names count as nothing added. */
	CHECK_INT(add(m, "0.0.0.0 a.example m.example", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 a.example", &reason), 0);
	CHECK_INT(matcher_count(m), 13);

	/* The address is not a domain. */
	CHECK_STR(fixture_matcher_entry(m, "0.0.0.0"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "127.0.0.1"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "x.d.example"), "d.example");
	CHECK_STR(fixture_matcher_entry(m, "l.example"), "l.example");
	matcher_free(m);
}

static void
test_comments_and_blanks(void)
{
	struct matcher *m = matcher_new();
	const char *reason;

	CHECK_INT(add(m, "", &reason), 0);
	CHECK_INT(add(m, "   ", &reason), 0);
	CHECK_INT(add(m, "\t \r", &reason), 0);
	CHECK_INT(add(m, "#", &reason), 0);
	CHECK_INT(add(m, "# 0.0.0.0 commented.example", &reason), 0);
	CHECK_INT(add(m, "   # indented comment", &reason), 0);
	CHECK_INT(add(m, "#commented.example", &reason), 0);
	CHECK_INT(matcher_count(m), 0);

	CHECK_INT(add(m, "0.0.0.0 a.example # inline comment", &reason), 1);
	CHECK_INT(add(m, "b.example # inline comment", &reason), 1);
	CHECK_INT(add(m, "c.example#glued comment", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 d.example#", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 e.example #f.example", &reason), 1);
	CHECK_INT(matcher_count(m), 5);
	CHECK_STR(fixture_matcher_entry(m, "f.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "commented.example"), NULL);
	matcher_free(m);
}

static void
test_crlf(void)
{
	struct matcher *m = matcher_new();
	const char *reason;

	CHECK_INT(add(m, "a.example\r", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 b.example\r", &reason), 1);
	CHECK_INT(add(m, "0.0.0.0 c.example # comment\r", &reason), 1);
	CHECK_INT(add(m, "\r", &reason), 0);
	CHECK_INT(add(m, "# comment\r", &reason), 0);
	CHECK_STR(fixture_matcher_entry(m, "a.example"), "a.example");
	CHECK_STR(fixture_matcher_entry(m, "b.example"), "b.example");
	CHECK_INT(matcher_count(m), 3);
	matcher_free(m);
}

static void
test_boilerplate(void)
{
	static const char *const lines[] = {
	    "127.0.0.1 localhost",
	    "127.0.0.1\tlocalhost.localdomain localhost",
	    "127.0.0.1 localhost localhost.localdomain localhost4",
	    "127.0.0.1 localhost4.localdomain4",
	    "::1 localhost ip6-localhost ip6-loopback",
	    "::1 localhost6 localhost6.localdomain6",
	    "fe80::1%lo0 localhost",
	    "fe00::0 ip6-localnet",
	    "ff00::0 ip6-mcastprefix",
	    "ff02::1 ip6-allnodes",
	    "ff02::2 ip6-allrouters",
	    "ff02::3 ip6-allhosts",
	    "255.255.255.255 broadcasthost",
	    "0.0.0.0 0.0.0.0",
	    "0.0.0.0 local",
	    "127.0.0.1 LOCALHOST",
	    "127.0.0.1 localhost.",
	    "localhost.localdomain.",
	    "localhost",
	    "broadcasthost",
	};
	struct matcher *m = matcher_new();
	const char *reason;
	size_t i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		CHECK_INT(add(m, lines[i], &reason), 0);
	CHECK_INT(matcher_count(m), 0);

	/* Boilerplate beside a real name: only the real name is added. */
	CHECK_INT(add(m, "127.0.0.1 localhost tracker.example", &reason), 1);
	CHECK_INT(matcher_count(m), 1);
	CHECK_STR(fixture_matcher_entry(m, "localhost"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "tracker.example"), "tracker.example");

	/* Only exact names are boilerplate. */
	CHECK_INT(add(m, "0.0.0.0 localhost.example", &reason), 1);
	CHECK_INT(add(m, "ip6-localhost.example", &reason), 1);
	matcher_free(m);
}

static void
test_malformed(void)
{
	struct matcher *m = matcher_new();
	char line[400];
	const char *reason;

	CHECK_INT(add(m, "listed.example", &reason), 1);

	expect_rejected(m, "example.com other.example", fields_reason);
	expect_rejected(m, "example.com 0.0.0.0", fields_reason);
	expect_rejected(m, "0.0.0.0", "an IP address without a domain name");
	expect_rejected(m, "  ::1  # comment",
	                "an IP address without a domain name");
	expect_rejected(m, "1.2.3.4", "an IP address without a domain name");
	expect_rejected(m, "0.0.0.0 1.2.3.4",
	                "an IP address where a domain name was expected");
	expect_rejected(m, "0.0.0.0 a.example ::1",
	                "an IP address where a domain name was expected");

	/* One bad name spoils the whole line: the good ones are not added. */
	expect_rejected(m, "0.0.0.0 good.example bad..example",
	                "empty label in domain name");
	expect_rejected(m, "0.0.0.0 good.example ex*ample.com",
	                bad_char_reason);
	CHECK_STR(fixture_matcher_entry(m, "good.example"), NULL);
	/* A space separates names, so "exa mple" is two of them. */
	expect_rejected(m, "exa mple.com", fields_reason);

	expect_rejected(m, "a..b", "empty label in domain name");
	/* A wildcard's "*." only at the start of a plain line. */
	expect_rejected(m, "ads*.example.com", bad_char_reason);
	expect_rejected(m, "*.*.example.com", bad_char_reason);
	expect_rejected(m, "0.0.0.0 *.example.com", bad_char_reason);
	expect_rejected(m, "http://example.com/", bad_char_reason);
	expect_rejected(m, "0.0.0.0 b\xc3\xbcro.example", bad_char_reason);
	expect_rejected(m, "256.1.1.1.example 1.example", fields_reason);

	memset(line, 'a', sizeof line);
	memcpy(line + 64, ".example", sizeof ".example");
	expect_rejected(m, line, "label longer than 63 characters");
	memset(line, 'a', sizeof line);
	for (size_t i = 50; i < sizeof line; i += 50)
		line[i] = '.';
	line[254] = '\0';
	expect_rejected(m, line, "domain name longer than 253 characters");
	line[254] = 'a';
	line[300] = '\0';
	expect_rejected(m, line, "domain name longer than 253 characters");
	memcpy(line, "0.0.0.0 ", 8);
	expect_rejected(m, line, "domain name longer than 253 characters");

	CHECK_INT(matcher_count(m), 1);
	matcher_free(m);
}

static void
test_adblock_rejected(void)
{
	static const char *const lines[] = {
	    "||example.com^",
	    "||example.com^$third-party",
	    "||2024.sci-hub.se/2294/x.pdf^$all",
	    "|https://example.com/ads|",
	    "@@||example.com^",
	    "! Title: Online Malicious URL Blocklist",
	    "[Adblock Plus 2.0]",
	    "/banner[0-9]+/",
	    "example.com^",
	    "example.com$important",
	    "example.com##.ad-banner",
	    "example.com#@#.ad-banner",
	    "example.com#?#div:has(.ad)",
	    "example.com#$#body { color: red }",
	    "example.com,example.org##.ad",
	};
	struct matcher *m = matcher_new();
	size_t i;

	for (i = 0; i < sizeof lines / sizeof *lines; i++)
		expect_rejected(m, lines[i], adblock_reason);
	CHECK_INT(matcher_count(m), 0);
	matcher_free(m);
}

static int
contains(const char *haystack, const char *needle)
{
	return haystack != NULL && strstr(haystack, needle) != NULL;
}

static void
test_load(void)
{
	static const char head[] =
	    "\xEF\xBB\xBF# A hosts list with everything in it\r\n" /* 1 */
	    "127.0.0.1 localhost\r\n"                              /* 2 */
	    "::1 localhost ip6-localhost ip6-loopback\r\n"         /* 3 */
	    "\r\n"                                                 /* 4 */
	    "0.0.0.0 ads.example tracker.example # two\r\n"        /* 5 */
	    "plain.example\n"                                      /* 6 */
	    "example.com other.example\n"                          /* 7 */
	    "||adblock.example^\n"                                 /* 8 */
	    "0.0.0.0 good.example bad..example\n"                  /* 9 */
	    "ads.example\n"                                        /* 10 */
	    "\t# indented comment\n"                               /* 11 */
	    "0.0.0.0 nul.example\0hidden.example\n"                /* 12 */
	    "bad\x1b[31m.example\n";                               /* 13 */
	/* 14: 2000 names on one line, more than getline's first buffer.
	 * 15: a long malformed line, shown cut to 80 characters.
	 * 16: the last line, without a newline. */
	char path[64], log_path[64], shown[81], expected[512];
	char *text, *logged;
	size_t length, i;
	struct matcher *m = matcher_new();
	struct list_stats stats;

	text = malloc(sizeof head + 50000);
	memcpy(text, head, sizeof head - 1);
	length = sizeof head - 1;
	length += (size_t)sprintf(text + length, "0.0.0.0");
	for (i = 0; i < 2000; i++)
		length +=
		    (size_t)sprintf(text + length, " d%zu.long.example", i);
	length += (size_t)sprintf(text + length, "\nexample.com ");
	for (i = 0; i < 200; i++)
		text[length++] = 'x';
	length += (size_t)sprintf(text + length, "\nlast.example");
	CHECK_INT(fixture_temp_file(path, sizeof path, text, length), 0);
	free(text);

	CHECK_INT(fixture_temp_file(log_path, sizeof log_path, "", 0), 0);
	CHECK_INT(log_set_file(log_path), 0);
	memset(&stats, 0xff, sizeof stats);
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), 0);
	CHECK_INT(log_set_file(NULL), 0);

	CHECK_INT(stats.lines, 16);
	CHECK_INT(stats.added, 2 + 1 + 2000 + 1);
	CHECK_INT(stats.rejected, 6);
	CHECK_INT(matcher_count(m), stats.added);

	CHECK_STR(fixture_matcher_entry(m, "x.ads.example"), "ads.example");
	CHECK_STR(fixture_matcher_entry(m, "tracker.example"), "tracker.example");
	CHECK_STR(fixture_matcher_entry(m, "plain.example"), "plain.example");
	CHECK_STR(fixture_matcher_entry(m, "last.example"), "last.example");
	CHECK_STR(fixture_matcher_entry(m, "d0.long.example"), "d0.long.example");
	CHECK_STR(fixture_matcher_entry(m, "d1999.long.example"), "d1999.long.example");
	CHECK_STR(fixture_matcher_entry(m, "localhost"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "good.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "nul.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "hidden.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "other.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "example.com"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "adblock.example"), NULL);

	/* One warning per bad line: path:line: reason: 'line'. */
	logged = fixture_read_file(log_path);
	CHECK(logged != NULL);
	snprintf(expected, sizeof expected, "%s:7: %s: '%s'\n", path,
	         fields_reason, "example.com other.example");
	CHECK(contains(logged, expected));
	snprintf(expected, sizeof expected, "%s:8: %s: '%s'\n", path,
	         adblock_reason, "||adblock.example^");
	CHECK(contains(logged, expected));
	snprintf(expected, sizeof expected, "%s:9: %s: '%s'\n", path,
	         "empty label in domain name",
	         "0.0.0.0 good.example bad..example");
	CHECK(contains(logged, expected));
	/* NUL bytes and control characters do not reach the log. */
	snprintf(expected, sizeof expected, "%s:12: %s: '%s'\n", path,
	         "NUL byte in line (not a text file?)",
	         "0.0.0.0 nul.example?hidden.example");
	CHECK(contains(logged, expected));
	snprintf(expected, sizeof expected, "%s:13: %s: '%s'\n", path,
	         bad_char_reason, "bad?[31m.example");
	CHECK(contains(logged, expected));
	CHECK(!contains(logged, "\x1b"));
	memset(shown, 'x', 80);
	memcpy(shown, "example.com ", 12);
	shown[80] = '\0';
	snprintf(expected, sizeof expected, "%s:15: %s: '%s'...\n", path,
	         fields_reason, shown);
	CHECK(contains(logged, expected));
	for (i = 1; i <= 16; i++) {
		int bad =
		    i == 7 || i == 8 || i == 9 || i == 12 || i == 13 || i == 15;

		snprintf(expected, sizeof expected, "%s:%zu: ", path, i);
		CHECK_INT(contains(logged, expected), bad);
	}

	/* Loading again adds nothing new and rejects the same lines. */
	CHECK_INT(log_set_file(log_path), 0);
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), 0);
	CHECK_INT(stats.lines, 16);
	CHECK_INT(stats.added, 0);
	CHECK_INT(stats.rejected, 6);

	/* Stats are optional. */
	CHECK_INT(list_hosts_load(m, NULL, path, NULL), 0);
	CHECK_INT(log_set_file(NULL), 0);
	CHECK_INT(matcher_count(m), 2004);

	CHECK_INT(unlink(path), 0);
	free(logged);
	CHECK_INT(unlink(log_path), 0);
	matcher_free(m);
}

static void
test_load_edge_files(void)
{
	struct matcher *m = matcher_new();
	struct list_stats stats;
	char path[64];

	/* Empty file: nothing read, nothing wrong. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "", 0), 0);
	memset(&stats, 0xff, sizeof stats);
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), 0);
	CHECK_INT(stats.lines, 0);
	CHECK_INT(stats.added, 0);
	CHECK_INT(stats.rejected, 0);
	CHECK_INT(unlink(path), 0);

	/* Comments only. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "# a\n\n#b\n", 8), 0);
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), 0);
	CHECK_INT(stats.lines, 3);
	CHECK_INT(stats.added, 0);
	CHECK_INT(stats.rejected, 0);
	CHECK_INT(unlink(path), 0);

	/* The file is gone: -1 and the reason in errno. */
	errno = 0;
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), -1);
	CHECK_INT(errno, ENOENT);

	/* A directory opens but cannot be read. */
	errno = 0;
	CHECK_INT(list_hosts_load(m, NULL, "/", &stats), -1);
	CHECK_INT(errno, EISDIR);

	CHECK_INT(matcher_count(m), 0);
	matcher_free(m);
}

/* A small public suffix list for the tests below. */
static struct public_suffix *
sample_suffixes(void)
{
	static const char text[] = "com\nuk\nco.uk\ntest\n*.ck\n!www.ck\n";
	struct public_suffix *ps;
	char path[64], err[256];

	if (fixture_temp_file(path, sizeof path, text, sizeof text - 1) < 0)
		return NULL;
	ps = public_suffix_load(path, err, sizeof err);
	unlink(path);
	return ps;
}

/* Adds line with the suffix check; note is filled. */
static int
add_checked(struct matcher *m, const struct public_suffix *ps, const char *line,
            struct list_line_note *note)
{
	memset(note, 0x55, sizeof *note);
	return list_hosts_add_line(m, ps, line, note);
}

static void
expect_suffix_refused(struct matcher *m, const struct public_suffix *ps,
                      const char *line, const char *suffix)
{
	size_t before = matcher_count(m);
	struct list_line_note note;

	CHECK_INT(add_checked(m, ps, line, &note), LIST_LINE_PUBLIC_SUFFIX);
	CHECK_STR(note.reason, "is a public suffix");
	CHECK_STR(note.suffix, suffix);
	CHECK_INT(matcher_count(m), before);
}

static void
test_public_suffix_lines(void)
{
	struct public_suffix *ps = sample_suffixes();
	struct matcher *m = matcher_new();
	struct list_line_note note;

	CHECK(ps != NULL);
	if (ps == NULL)
		return;
	expect_suffix_refused(m, ps, "com", "com");
	expect_suffix_refused(m, ps, "  CO.UK.  ", "co.uk");
	expect_suffix_refused(m, ps, "foo.ck", "foo.ck");
	expect_suffix_refused(m, ps, "test # an ordinary comment", "test");
	/* A hosts line naming one adds none of its names. */
	expect_suffix_refused(m, ps, "0.0.0.0 ads.example co.uk", "co.uk");
	expect_suffix_refused(m, ps, "0.0.0.0 com uk", "com");
	CHECK_STR(fixture_matcher_entry(m, "ads.example"), NULL);
	/* The word must be the comment's first, and whole. */
	expect_suffix_refused(m, ps, "com # public-suffixes", "com");
	expect_suffix_refused(m, ps, "com # not a public-suffix", "com");
	CHECK_INT(add_checked(m, ps, "com public-suffix", &note),
	          LIST_LINE_MALFORMED);
	/* A malformed name on the line is what gets reported. */
	CHECK_INT(add_checked(m, ps, "0.0.0.0 co.uk bad..example", &note),
	          LIST_LINE_MALFORMED);
	CHECK_STR(note.reason, "empty label in domain name");
	CHECK_INT(matcher_count(m), 0);

	/* Not suffixes: registered names, exceptions, deeper names. */
	CHECK_INT(add_checked(m, ps, "example.com", &note), 1);
	CHECK_INT(note.wanted, 0);
	CHECK_INT(add_checked(m, ps, "www.ck", &note), 1);
	CHECK_INT(add_checked(m, ps, "a.foo.ck", &note), 1);
	CHECK_INT(add_checked(m, ps, "0.0.0.0 ads.co.uk ads.test", &note), 2);
	CHECK_INT(matcher_count(m), 5);

	/* Wanted: the line's comment says so. */
	CHECK_INT(add_checked(m, ps, "com # public-suffix", &note), 1);
	CHECK_INT(note.wanted, 1);
	CHECK_STR(fixture_matcher_entry(m, "anything.com"), "com");
	CHECK_INT(
	    add_checked(m, ps, "co.uk #Public-Suffix: UK companies", &note), 1);
	CHECK_INT(note.wanted, 1);
	CHECK_INT(add_checked(m, ps,
	                      "0.0.0.0 test more.example\t#\tpublic-suffix\r",
	                      &note),
	          2);
	CHECK_INT(note.wanted, 1);
	CHECK_INT(add_checked(m, ps, "uk#public-suffix", &note), 1);
	CHECK_STR(fixture_matcher_entry(m, "x.uk"), "uk");
	CHECK_INT(matcher_count(m), 10);

	/* Without a list nothing is refused. */
	CHECK_INT(list_hosts_add_line(m, NULL, "foo.ck", &note), 1);
	CHECK_INT(note.wanted, 0);
	matcher_free(m);
	public_suffix_free(ps);
}

static void
test_load_public_suffixes(void)
{
	struct public_suffix *ps = sample_suffixes();
	struct matcher *m = matcher_new();
	char path[64], log_path[64], expected[512], *logged;
	struct list_stats stats;
	char text[512];
	size_t length = 0, i;

	CHECK(ps != NULL);
	if (ps == NULL)
		return;
	/* 12 suffixes and 2 malformed lines, mixed; the first 10 of them
	 * logged in order, whatever their kind. */
	length += (size_t)sprintf(text + length, "com\n");          /* 1 */
	length += (size_t)sprintf(text + length, "bad..example\n"); /* 2 */
	length += (size_t)sprintf(text + length, "0.0.0.0 a.example co.uk\n");
	for (i = 0; i < 10; i++) /* 4-13 */
		length += (size_t)sprintf(text + length, "x%zu.ck\n", i);
	length +=
	    (size_t)sprintf(text + length, "||adblock.example^\n"); /* 14 */
	length += (size_t)sprintf(text + length, "test # public-suffix\n");
	length += (size_t)sprintf(text + length, "ads.example\n"); /* 16 */
	CHECK_INT(fixture_temp_file(path, sizeof path, text, length), 0);

	CHECK_INT(fixture_temp_file(log_path, sizeof log_path, "", 0), 0);
	CHECK_INT(log_set_file(log_path), 0);
	CHECK_INT(list_hosts_load(m, ps, path, &stats), 0);
	CHECK_INT(log_set_file(NULL), 0);
	CHECK_INT(stats.lines, 16);
	CHECK_INT(stats.added, 2);
	CHECK_INT(stats.rejected, 2);
	CHECK_INT(stats.suffixes, 12);
	CHECK_INT(stats.wanted, 1);
	CHECK_STR(fixture_matcher_entry(m, "www.test"), "test");
	CHECK_STR(fixture_matcher_entry(m, "ads.example"), "ads.example");
	CHECK_STR(fixture_matcher_entry(m, "a.example"), NULL);
	CHECK_STR(fixture_matcher_entry(m, "example.com"), NULL);

	logged = fixture_read_file(log_path);
	CHECK(logged != NULL);
	snprintf(expected, sizeof expected,
	         "%s:1: com is a public suffix (it would block every site "
	         "under .com): line skipped; to block it anyway, end the line "
	         "with '# public-suffix': 'com'\n",
	         path);
	CHECK(contains(logged, expected));
	snprintf(expected, sizeof expected,
	         "%s:2: empty label in domain name: 'bad..example'\n", path);
	CHECK(contains(logged, expected));
	snprintf(expected, sizeof expected,
	         "%s:3: co.uk is a public suffix (it would block every site "
	         "under .co.uk): line skipped; to block it anyway, end the "
	         "line with '# public-suffix': '0.0.0.0 a.example co.uk'\n",
	         path);
	CHECK(contains(logged, expected));
	for (i = 1; i <= 16; i++) {
		snprintf(expected, sizeof expected, "%s:%zu: ", path, i);
		CHECK_INT(contains(logged, expected), i <= 10);
	}
	snprintf(expected, sizeof expected,
	         "%s: 4 more malformed or refused lines not shown (2 "
	         "malformed, 12 public suffixes in all)\n",
	         path);
	CHECK(contains(logged, expected));
	free(logged);

	/* Without the list the same file blocks all of .com. */
	matcher_free(m);
	m = matcher_new();
	CHECK_INT(list_hosts_load(m, NULL, path, &stats), 0);
	CHECK_INT(stats.suffixes, 0);
	CHECK_STR(fixture_matcher_entry(m, "example.com"), "com");

	CHECK_INT(unlink(path), 0);
	CHECK_INT(unlink(log_path), 0);
	matcher_free(m);
	public_suffix_free(ps);
}

int
main(void)
{
	test_plain_lines();
	test_hosts_lines();
	test_comments_and_blanks();
	test_crlf();
	test_boilerplate();
	test_malformed();
	test_adblock_rejected();
	test_load();
	test_load_edge_files();
	test_public_suffix_lines();
	test_load_public_suffixes();
	return check_exit();
}
