/* test_list_adblock.c - unit tests for lists/list_adblock.c: lines taken
 * from the EasyList, EasyPrivacy and URLhaus files of Debian's
 * webext-ublock-origin-firefox, the AdGuard DNS options, hostile lines. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lists/list_adblock.h"
#include "lists/list_filter.h"
#include "lists/public_suffix.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define A 1
#define AAAA 28
#define HTTPS 65

static struct list_adblock *parser;
static struct list_filter *filter;
static const struct public_suffix *suffixes;
static struct list_adblock_note note;

static void
fresh(void)
{
	list_adblock_free(parser);
	list_filter_free(filter);
	parser = list_adblock_new();
	filter = list_filter_new();
}

static int
add(const char *line)
{
	note.reason = "stale";
	return list_adblock_add_line(parser, filter, suffixes, line, 7, &note);
}

/* The line is skipped for reason skip, and adds nothing. */
static void
expect_skip(const char *line, enum list_skip skip)
{
	size_t before = list_filter_count(filter);
	int rc = add(line);

	CHECK_INT(rc, -1);
	CHECK_INT(note.skip, skip);
	CHECK(note.reason != NULL && strcmp(note.reason, "stale") != 0);
	CHECK_INT(list_filter_count(filter), before);
	if (rc != -1 || note.skip != skip)
		fprintf(stderr, "  line: %s (%s)\n", line,
		        note.reason ? note.reason : "");
}

static bool
blocks(const char *name, unsigned qtype, const char *app)
{
	struct list_filter_match m;

	return list_filter_match(filter, name, (uint16_t)qtype, app, &m);
}

static const char *
entry_of(const char *name)
{
	struct list_filter_match m;

	return list_filter_match(filter, name, A, NULL, &m) ? m.entry : NULL;
}

/* EasyList and EasyPrivacy lines, as they are in the files. */
static void
test_easylist_lines(void)
{
	fresh();
	CHECK_INT(add("[Adblock Plus 2.0]"), 0);
	CHECK_INT(add("! Title: EasyList"), 0);
	CHECK_INT(add("! Expires: 6 days (update frequency)"), 0);
	CHECK_INT(add("||0014b04291.com^"), 1);
	CHECK_INT(add("||0019x.com^"), 1);
	CHECK(blocks("0014b04291.com", A, NULL));
	CHECK(blocks("cdn.0019x.com", AAAA, NULL));
	CHECK(!blocks("x0019x.com", A, NULL));
	CHECK_STR(entry_of("a.b.0019x.com"), "0019x.com");
	/* An option for browsers: the rule is not a block of the host. */
	expect_skip("||123date.me^$third-party", LIST_SKIP_OPTION);
	expect_skip("@@||ad.linksynergy.com^$image,domain=extrarebates.com",
	            LIST_SKIP_OPTION);
	expect_skip("@@||jetzt.de^$generichide", LIST_SKIP_OPTION);
	CHECK(!blocks("123date.me", A, NULL));
	/* URL rules name a host but block one of its pages only. */
	expect_skip("||bet365.com/*?affiliate=$document", LIST_SKIP_OPTION);
	expect_skip("||gamdom.com/?utm_source=", LIST_SKIP_URL);
	expect_skip("||2024.sci-hub.se/2294/7a43bb4cf6c57229b02a9604a1f4614e/"
	            "skidmore1966.pdf^",
	            LIST_SKIP_URL);
	CHECK(!blocks("gamdom.com", A, NULL));
	CHECK(!blocks("2024.sci-hub.se", A, NULL));
	/* Cosmetic rules, of every kind. */
	expect_skip("###AC_ad", LIST_SKIP_COSMETIC);
	expect_skip("dez.ro#@##ad-carousel", LIST_SKIP_COSMETIC);
	expect_skip("kaufland.*#?#.recommender-wrapper:-abp-contains("
	            "Gesponsert)",
	            LIST_SKIP_COSMETIC);
	expect_skip("example.org#$#body { background: red; }",
	            LIST_SKIP_COSMETIC);
	expect_skip("anikore.jp##html[class^=\"loading\"]:style(visibility: "
	            "visible !important;)",
	            LIST_SKIP_COSMETIC);
	CHECK(!blocks("dez.ro", A, NULL));
	CHECK(!blocks("anikore.jp", A, NULL));
	/* Pieces of URLs without an anchor, which look like names. */
	expect_skip("-120x600.", LIST_SKIP_URL);
	expect_skip("-logging.nextmedia.com^", LIST_SKIP_URL);
	expect_skip("_chartbeat.js", LIST_SKIP_URL);
	expect_skip("/banner/*/img^", LIST_SKIP_URL);
	expect_skip("&ad_type=", LIST_SKIP_URL);
	/* A regex on URLs is not tried on names. */
	expect_skip("/(https?:\\/\\/)104\\.154\\..{100,}/", LIST_SKIP_URL);
	/* A commented-out rule stays a comment. */
	CHECK_INT(add("!||youtube.com/api/stats/atr?ns=*&ver=2$badfilter"), 0);
	/* EasyPrivacy's exceptions. */
	CHECK_INT(add("||britishbaseball.org.uk^"), 1);
	CHECK_INT(add("@@||stats.britishbaseball.org.uk^"), 1);
	CHECK(blocks("www.britishbaseball.org.uk", A, NULL));
	CHECK(!blocks("stats.britishbaseball.org.uk", A, NULL));
	CHECK(!blocks("a.stats.britishbaseball.org.uk", A, NULL));
	CHECK_INT(list_filter_count(filter), 4);
}

/* URLhaus: bare host names are hosts (as uBlock reads them), bare
 * addresses are not supported, URL rules are skipped. */
static void
test_urlhaus_lines(void)
{
	fresh();
	CHECK_INT(add("! Title: Online Malicious URL Blocklist"), 0);
	CHECK_INT(add("111101111.ru"), 1);
	CHECK_INT(add("14-0-204-188.static.pccw-hkt.com"), 1);
	CHECK(blocks("111101111.ru", A, NULL));
	CHECK(blocks("x.14-0-204-188.static.pccw-hkt.com", A, NULL));
	expect_skip("1.1.104.12", LIST_SKIP_UNSUPPORTED);
	expect_skip("||1717.1000uc.com/x/y.exe", LIST_SKIP_URL);
	CHECK(!blocks("1717.1000uc.com", A, NULL));
	/* A hosts line in an adblock list is a hosts line. */
	CHECK_INT(add("0.0.0.0 hosts.example.com other.example.net"), 2);
	CHECK(blocks("hosts.example.com", A, NULL));
}

static void
test_anchors_and_exceptions(void)
{
	fresh();
	CHECK_INT(add("||ads.example^"), 1);
	CHECK_INT(add("||ads.example^"), 0);
	CHECK_INT(add("||ADS.Example^|"), 0);
	CHECK_INT(add("||noanchor.example"), 1);
	CHECK_INT(add("|exact.example^"), 1);
	CHECK(blocks("ads.example", A, NULL));
	CHECK(blocks("x.noanchor.example", A, NULL));
	CHECK(blocks("exact.example", A, NULL));
	CHECK(!blocks("www.exact.example", A, NULL));
	/* An exception lifts the list's own block, for it and below. */
	CHECK_INT(add("@@||ok.ads.example^"), 1);
	CHECK(blocks("ads.example", A, NULL));
	CHECK(!blocks("ok.ads.example", A, NULL));
	CHECK(!blocks("a.ok.ads.example", A, NULL));
	/* An exact exception: the name alone. */
	CHECK_INT(add("@@|only.ads.example^"), 1);
	CHECK(!blocks("only.ads.example", A, NULL));
	CHECK(blocks("x.only.ads.example", A, NULL));
	/* $important beats an exception; an important exception beats it. */
	CHECK_INT(add("||tracker.example^"), 1);
	CHECK_INT(add("@@||tracker.example^"), 1);
	CHECK(!blocks("tracker.example", A, NULL));
	CHECK_INT(add("||tracker.example^$important"), 1);
	CHECK(blocks("tracker.example", A, NULL));
	CHECK_INT(add("@@||cdn.tracker.example^$important"), 1);
	CHECK(!blocks("cdn.tracker.example", A, NULL));
	CHECK(blocks("www.tracker.example", A, NULL));
	/* "match-case" means nothing for names: read as without it. */
	CHECK_INT(add("||case.example^$match-case"), 1);
	CHECK(blocks("CASE.example", A, NULL) ||
	      blocks("case.example", A, NULL));
}

static void
test_options(void)
{
	fresh();
	/* $dnstype: some types, or all but some. */
	CHECK_INT(add("||v6.example^$dnstype=AAAA"), 1);
	CHECK(blocks("v6.example", AAAA, NULL));
	CHECK(!blocks("v6.example", A, NULL));
	CHECK(!blocks("v6.example", 0, NULL)); /* no type: not applied */
	CHECK_INT(add("||notv4.example^$dnstype=~A|~MX"), 1);
	CHECK(blocks("notv4.example", AAAA, NULL));
	CHECK(!blocks("notv4.example", A, NULL));
	CHECK(!blocks("notv4.example", 15, NULL));
	CHECK_INT(add("||*^$dnstype=HTTPS"), 1);
	CHECK(blocks("anything.example", HTTPS, NULL));
	CHECK(!blocks("anything.example", A, NULL));
	CHECK_INT(add("||t.example^$dnstype=type99|https"), 1);
	CHECK(blocks("t.example", 99, NULL));
	expect_skip("||bad.example^$dnstype=NOPE", LIST_SKIP_MALFORMED);
	/* $denyallow: every name under the rule's but these. */
	CHECK_INT(
	    add("||deny.example^$denyallow=ok.deny.example|b.deny.example"), 1);
	CHECK(blocks("x.deny.example", A, NULL));
	CHECK(!blocks("ok.deny.example", A, NULL));
	CHECK(!blocks("a.b.deny.example", A, NULL));
	expect_skip("||d.example^$denyallow=~x.example", LIST_SKIP_MALFORMED);
	expect_skip("||d.example^$denyallow=*.example", LIST_SKIP_MALFORMED);
	/* $client: an app key, or all but one. */
	CHECK_INT(add("||fx.example^$client=flatpak:org.mozilla.firefox"), 1);
	CHECK(blocks("fx.example", A, "flatpak:org.mozilla.firefox"));
	CHECK(!blocks("fx.example", A, "exe:/usr/bin/curl"));
	CHECK(!blocks("fx.example", A, NULL)); /* app not known */
	CHECK(!blocks("fx.example", A, "?"));
	CHECK_INT(add("||nofx.example^$client=~'flatpak:org.mozilla.firefox'"),
	          1);
	CHECK(!blocks("nofx.example", A, "flatpak:org.mozilla.firefox"));
	CHECK(blocks("nofx.example", A, "exe:/usr/bin/curl"));
	CHECK(blocks("nofx.example", A, NULL));
	/* An exception for one app only. */
	CHECK_INT(add("||shared.example^"), 1);
	CHECK_INT(add("@@||shared.example^$client=snap:firefox"), 1);
	CHECK(!blocks("shared.example", A, "snap:firefox"));
	CHECK(blocks("shared.example", A, "exe:/usr/bin/wget"));
	/* What dnsgate does not do is said, not guessed at. */
	expect_skip("||rw.example^$dnsrewrite=1.2.3.4", LIST_SKIP_UNSUPPORTED);
	expect_skip("||tag.example^$ctag=device_pc", LIST_SKIP_UNSUPPORTED);
	expect_skip("||example.*^", LIST_SKIP_UNSUPPORTED); /* any TLD */
	expect_skip("||ads.^", LIST_SKIP_UNSUPPORTED);
	expect_skip("||*^", LIST_SKIP_MALFORMED); /* would block everything */
	expect_skip("||x.example^$client=", LIST_SKIP_MALFORMED);
	CHECK(!blocks("rw.example", A, NULL));
}

static void
test_badfilter(void)
{
	fresh();
	/* Disables the rule it names, before or after it in the list. */
	CHECK_INT(
	    list_adblock_note_badfilter(parser, "||ads.example^$badfilter"), 1);
	CHECK_INT(list_adblock_note_badfilter(
	              parser, "||v6.example^$badfilter,dnstype=AAAA"),
	          1);
	CHECK_INT(list_adblock_note_badfilter(parser, "||ads.example^"), 0);
	CHECK_INT(
	    list_adblock_note_badfilter(parser, "! ||c.example^$badfilter"), 0);
	CHECK_INT(add("||ads.example^$badfilter"), 0);
	expect_skip("||ads.example^", LIST_SKIP_BADFILTER);
	expect_skip("||ADS.example^", LIST_SKIP_BADFILTER);
	/* Options compare in any order. */
	expect_skip("||v6.example^$dnstype=AAAA", LIST_SKIP_BADFILTER);
	CHECK_INT(add("||v6.example^"), 1);
	CHECK_INT(add("||other.ads.example^"), 1);
	CHECK(!blocks("ads.example", A, NULL));
	CHECK(blocks("other.ads.example", A, NULL));
	CHECK(!blocks("v6.example", A, NULL) == false);
}

static void
test_regex(void)
{
	char line[600];
	int i, refused = 0;

	fresh();
	CHECK_INT(add("/^ad[0-9]+\\.example\\.com$/"), 1);
	CHECK(blocks("ad12.example.com", A, NULL));
	CHECK(blocks("AD7.example.com", A, NULL));
	CHECK(!blocks("ad.example.com", A, NULL));
	CHECK_STR(entry_of("ad1.example.com"), "/^ad[0-9]+\\.example\\.com$/");
	CHECK_INT(add("/^v6-[a-z]+\\./$dnstype=AAAA"), 1);
	CHECK(blocks("v6-x.example", AAAA, NULL));
	CHECK(!blocks("v6-x.example", A, NULL));
	CHECK_INT(add("@@/^ad9/"), 1);
	CHECK(!blocks("ad9.example.com", A, NULL));
	expect_skip("/a(b/", LIST_SKIP_REGEX);
	/* What would stall the loop: a back-reference (exponential to
	 * match), counted repetition of a group or over 16 (gigabytes to
	 * compile). Counting single characters stays allowed. */
	expect_skip("/(.*)(.*)(.*)\\3\\2\\1x/", LIST_SKIP_REGEX);
	expect_skip("/^(a*)*\\1b$/", LIST_SKIP_REGEX);
	expect_skip("/((a{1,100}){1,100}){1,100}/", LIST_SKIP_REGEX);
	expect_skip("/(ab){2}/", LIST_SKIP_REGEX);
	expect_skip("/^a{17}/", LIST_SKIP_REGEX);
	expect_skip("/^a{1,17}/", LIST_SKIP_REGEX);
	CHECK_INT(add("/^ad[0-9]{2,4}\\.counted\\.example$/"), 1);
	CHECK(blocks("ad123.counted.example", A, NULL));
	CHECK(!blocks("ad1.counted.example", A, NULL));
	CHECK_INT(add("/^x[{]y/"), 1); /* a brace in brackets is a brace */
	memset(line, 'a', sizeof line);
	line[0] = '/';
	line[300] = '/';
	line[301] = '\0';
	expect_skip(line, LIST_SKIP_REGEX);
	/* At most LIST_FILTER_MAX_REGEXES; the rest are refused. */
	for (i = 0; i < LIST_FILTER_MAX_REGEXES + 5; i++) {
		snprintf(line, sizeof line, "/^r%d\\./", i);
		if (add(line) < 0 && note.skip == LIST_SKIP_REGEX)
			refused++;
	}
	CHECK_INT(refused, 5 + 5); /* and the 5 regexes above */
}

static void
test_public_suffixes(void)
{
	char err[256], path[256];
	struct public_suffix *list;

	fresh();
	CHECK_INT(fixture_temp_file(path, sizeof path, "com\nco.uk\n", 10), 0);
	list = public_suffix_load(path, err, sizeof err);
	unlink(path);
	CHECK(list != NULL);
	if (list == NULL)
		return;
	suffixes = list;
	expect_skip("||com^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||co.uk^", LIST_SKIP_PUBLIC_SUFFIX);
	CHECK_INT(add("||example.co.uk^"), 1);
	/* A '*' pattern keeps a registrable domain after its last star,
	 * or it is refused: each of these would block www.google.com, or
	 * all of a public suffix. */
	expect_skip("||*om^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*m^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*.c*m^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||c*m^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*k^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*o.uk^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||co*^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*.com^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||*.co.uk^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("|ads*example.com^", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||ads.ex*ample.com^", LIST_SKIP_PUBLIC_SUFFIX);
	CHECK(!blocks("www.google.com", A, NULL));
	expect_skip("||*-x.com^", LIST_SKIP_PUBLIC_SUFFIX);
	CHECK_INT(add("||ad*.example.com^"), 1);
	CHECK_INT(add("||*.example.co.uk^"), 1);
	/* A star inside the first label of a registrable domain is fine:
	 * every name these match ends in .example.com. */
	CHECK_INT(add("||*ads.example.com^"), 1);
	CHECK_INT(add("||*-ads.example.com^"), 1);
	CHECK_INT(add("||ad*-cdn.example.com^"), 1);
	CHECK(blocks("my-ads.example.com", A, NULL));
	CHECK(blocks("ad7-cdn.example.com", A, NULL));
	CHECK_INT(add("|cdn*.example.test^"), 1); /* under no listed suffix */
	expect_skip("|cdn*.example^", LIST_SKIP_PUBLIC_SUFFIX); /* a TLD */
	CHECK(blocks("ads1.example.com", A, NULL));
	CHECK(blocks("x.example.co.uk", A, NULL));
	CHECK_INT(add("@@||*om^"), 1); /* an exception: no danger */
	CHECK_INT(add("||*om^$denyallow=example.com"), 1);
	/* An exception of a suffix is no danger, nor a block that names
	 * what stays reachable ($denyallow); other options narrow it only
	 * in part: ||com^$dnstype=A would block every site's address. */
	CHECK_INT(add("@@||com^"), 1);
	CHECK_INT(add("||com^$denyallow=example.com"), 1);
	expect_skip("||com^$dnstype=A", LIST_SKIP_PUBLIC_SUFFIX);
	expect_skip("||co.uk^$client=app:x", LIST_SKIP_PUBLIC_SUFFIX);
	/* A bare name is a host only when its top-level domain is one. */
	CHECK_INT(add("host.example.com"), 1);
	expect_skip("track.gif", LIST_SKIP_URL);
	suffixes = NULL;
	public_suffix_free(list);
}

static void
test_hostile_lines(void)
{
	static char huge[300000];
	char name[400];

	fresh();
	memset(name, 'a', sizeof name);
	memcpy(name, "||", 2);
	memcpy(name + 300, ".example^", 10);
	expect_skip(name, LIST_SKIP_MALFORMED);
	memset(huge, 'a', sizeof huge - 1);
	memcpy(huge, "||", 2);
	expect_skip(huge, LIST_SKIP_MALFORMED);
	expect_skip("||caf\xc3\xa9.example^", LIST_SKIP_MALFORMED);
	expect_skip("||bad\xff.example^", LIST_SKIP_MALFORMED);
	expect_skip("||a..example^", LIST_SKIP_MALFORMED);
	expect_skip("||^", LIST_SKIP_MALFORMED);
	expect_skip("@@", LIST_SKIP_MALFORMED);
	CHECK_INT(add("||x.example^$"), 1); /* no option: none */
	CHECK_INT(add("   ||spaced.example^  \r"), 1);
	CHECK_INT(add(""), 0);
	CHECK_INT(add("#"), 0);
	CHECK_INT(list_adblock_type("aaaa"), 28);
	CHECK_INT(list_adblock_type("TYPE70000"), 0);
	CHECK_INT(list_adblock_type("B"), 0);
}

/* '*' inside a name pattern: any characters, dots too, as AdGuard Home
 * reads it. */
static void
test_globs(void)
{
	fresh();
	CHECK_INT(add("||ad*.example.com^"), 1);
	CHECK(blocks("ad.example.com", A, NULL));
	CHECK(blocks("ads1.example.com", A, NULL));
	CHECK(blocks("www.adserver.example.com", A, NULL)); /* and under */
	CHECK(blocks("ad.x.example.com", A, NULL));         /* dots too */
	CHECK(!blocks("bad.example.com", A, NULL));  /* at a label's start */
	CHECK(!blocks("example.com", A, NULL));
	CHECK(!blocks("ad.example.net", A, NULL));
	CHECK(!blocks("ad.example.com.evil", A, NULL));
	CHECK_STR(entry_of("ads1.example.com"), "ad*.example.com");
	/* |: the name itself only. */
	CHECK_INT(add("|cdn*.example.org^"), 1);
	CHECK(blocks("cdn7.example.org", A, NULL));
	CHECK(!blocks("www.cdn7.example.org", A, NULL));
	/* Several stars, a star first, runs of stars. */
	CHECK_INT(add("||*-track-*.example.net^"), 1);
	CHECK(blocks("a-track-b.example.net", A, NULL));
	CHECK(blocks("x.y-track-z.example.net", A, NULL));
	CHECK(!blocks("track.example.net", A, NULL));
	CHECK_INT(add("||px**.example.io^"), 1);
	CHECK(blocks("px1.example.io", A, NULL));
	/* An exception with a star, options with one. */
	CHECK_INT(add("@@||ad-ok*.example.com^"), 1);
	CHECK(!blocks("ad-ok1.example.com", A, NULL));
	CHECK(blocks("ad-no.example.com", A, NULL));
	CHECK_INT(add("||v*.example.tv^$dnstype=AAAA"), 1);
	CHECK(blocks("v1.example.tv", AAAA, NULL));
	CHECK(!blocks("v1.example.tv", A, NULL));
	/* Skipped, each with its reason. */
	expect_skip("||example.*^", LIST_SKIP_UNSUPPORTED);
	expect_skip("||ads.*^$important", LIST_SKIP_UNSUPPORTED);
	expect_skip("||ad*.^", LIST_SKIP_UNSUPPORTED);
	expect_skip("||a*b..example^", LIST_SKIP_MALFORMED);
	expect_skip("||a*b!.example^", LIST_SKIP_MALFORMED);
	expect_skip("ad*.example.com", LIST_SKIP_URL); /* no anchor */
	expect_skip("||ad*.example.com/path", LIST_SKIP_URL);
	expect_skip("||**^", LIST_SKIP_MALFORMED); /* every name */
}

/* Hostile patterns cost what plain ones do: no backtracking. 1,024
 * patterns of 30 stars each, against a 253-character name they nearly
 * match (all but the one 'b' they need): a backtracking matcher tries
 * every way to share the name's 'a's among the stars before it gives
 * up, this one scans the name once or twice. */
static void
test_hostile_globs(void)
{
	char line[600], name[254];
	struct timespec t0, t1;
	double seconds;
	int i, n, added = 0;

	fresh();
	n = snprintf(line, sizeof line, "||");
	for (i = 0; i < 29; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, "a*");
	snprintf(line + n, sizeof line - (size_t)n, "b*a^");
	for (i = 0; i < LIST_FILTER_MAX_GLOBS; i++)
		added += add(line) == 1;
	CHECK_INT(added, LIST_FILTER_MAX_GLOBS);
	/* The next one is over the list's bound, and said so. */
	expect_skip("||x*y.example^", LIST_SKIP_UNSUPPORTED);
	CHECK(note.reason != NULL && strstr(note.reason, "1024") != NULL);
	memset(name, 'a', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	for (i = 60; i < 253; i += 61)
		name[i] = '.';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < 100; i++)
		CHECK(!blocks(name, A, NULL));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	seconds = (double)(t1.tv_sec - t0.tv_sec) +
	          (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(seconds < 2.0);
	if (seconds >= 2.0)
		fprintf(stderr, "  100 lookups took %.2f s\n", seconds);
	/* With the 'b' they need, after 29 'a's: blocked. */
	name[200] = 'b';
	CHECK(blocks(name, A, NULL));
	/* The matcher alone, at its edges. */
	CHECK(list_filter_glob_match("a*a", 3, "aa", 2));
	CHECK(!list_filter_glob_match("a*a", 3, "a", 1));
	CHECK(list_filter_glob_match("*", 1, "", 0));
	CHECK(list_filter_glob_match("a*b*c", 5, "abc", 3));
	CHECK(!list_filter_glob_match("a*b*c", 5, "acb", 3));
	CHECK(list_filter_glob_match("*ab*ab", 6, "xabyab", 6));
	CHECK(!list_filter_glob_match("*ab*ab", 6, "xab", 3));
}

int
main(void)
{
	test_easylist_lines();
	test_urlhaus_lines();
	test_anchors_and_exceptions();
	test_options();
	test_badfilter();
	test_regex();
	test_public_suffixes();
	test_hostile_lines();
	test_globs();
	test_hostile_globs();
	list_adblock_free(parser);
	list_filter_free(filter);
	return check_exit();
}
