/* test_rules_file.c - unit tests for src/rules_file.c, from its contract
 * (rules_file.h): every field kind accepted and refused, the bytes a file
 * may hold, quoting, times and durations, file:line:column errors, a file
 * taken whole or not at all, directories, and hostile input. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "lists/list_filter.h"
#include "lists/matcher.h"
#include "src/app_identity.h"
#include "src/rule.h"
#include "src/rules.h"
#include "src/rules_file.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define FILE_NAME "t.rules"
#define MTIME 1800000000 /* the ctx's "last change", for for= */

static struct rule_book book;
static char err[2048];

/* Two lists: "ads" and "trackers". */
static long
find_list(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "ads") == 0)
		return 0;
	if (strcmp(name, "trackers") == 0)
		return 1;
	return -1;
}

static const struct rules_file_ctx ctx = {find_list, NULL, MTIME};

static long
parse_len(const char *text, size_t len)
{
	err[0] = '\0';
	return rules_file_parse(&book, text, len, FILE_NAME, &ctx, err,
	                        sizeof err);
}

static long
parse(const char *text)
{
	return parse_len(text, strlen(text));
}

/* The one rule text makes, or NULL (said on stderr). */
static const struct rule *
accept_at(int at, const char *text)
{
	size_t before = book.n;
	long n = parse(text);

	if (n != 1 || book.n != before + 1) {
		fprintf(stderr, "%s:%d: \"%s\" gave %ld rules: %s\n", __FILE__,
		        at, text, n, err);
		check_failures++;
		return NULL;
	}
	check_count++;
	return &book.rules[book.n - 1];
}
#define ACCEPT(text) accept_at(__LINE__, text)

/* Whether the book is as it was: the same rules, the same files. */
struct snapshot {
	size_t n, n_files;
	const struct rule *last;
};

static struct snapshot
snap(void)
{
	struct snapshot s = {book.n, book.n_files,
	                     book.n ? &book.rules[book.n - 1] : NULL};

	return s;
}

static bool
same(const struct snapshot *s)
{
	return book.n == s->n && book.n_files == s->n_files;
}

/* err as "file:line:column: reason": the three, or false. */
static bool
err_position(const char *e, const char *file, unsigned *line, unsigned *col,
             const char **reason)
{
	size_t fl = strlen(file);
	int used = 0;

	if (strncmp(e, file, fl) != 0 || e[fl] != ':')
		return false;
	if (sscanf(e + fl, ":%u:%u: %n", line, col, &used) != 2 || used == 0)
		return false;
	*reason = e + fl + used;
	return **reason != '\0';
}

/* text (len bytes) is refused with FILE_NAME:line:col and a reason
 * holding what, and the book is left as it was. */
static void
refused_at(int at, const char *text, size_t len, unsigned line, unsigned col,
           const char *what)
{
	struct snapshot s = snap();
	unsigned el = 0, ec = 0;
	const char *reason = "";
	long n = parse_len(text, len);
	bool ok = n == -1 && same(&s) &&
	          err_position(err, FILE_NAME, &el, &ec, &reason) &&
	          el == line && ec == col && strstr(reason, what) != NULL;

	check_count++;
	if (!ok) {
		check_failures++;
		fprintf(stderr,
		        "%s:%d: \"%.80s\": got %ld, book %zu->%zu files "
		        "%zu->%zu, err \"%s\"; expected %u:%u and \"%s\"\n",
		        __FILE__, at, text, n, s.n, book.n, s.n_files,
		        book.n_files, err, line, col, what);
	}
}

/* The 1-based column of marker in line `line' of text. */
static unsigned
column_of(const char *text, unsigned line, const char *marker)
{
	const char *p = text, *m;

	while (--line > 0 && (p = strchr(p, '\n')) != NULL)
		p++;
	if (p == NULL || (m = strstr(p, marker)) == NULL)
		return 0;
	return (unsigned)(m - p) + 1;
}

/* Refused at the column where marker starts. */
#define REFUSED(text, line, marker, what)                                      \
	refused_at(__LINE__, text, strlen(text), line,                         \
	           column_of(text, line, marker), what)
#define REFUSED_COL(text, line, col, what)                                     \
	refused_at(__LINE__, text, strlen(text), line, col, what)
#define REFUSED_LEN(text, len, line, col, what)                                \
	refused_at(__LINE__, text, len, line, col, what)

/* A book that is not empty: "book as it was" means something. */
static void
seed_book(void)
{
	rule_book_init(&book);
	CHECK_INT(rules_file_parse(&book, "block name=seed.example\n", 24,
	                           "seed.rules", &ctx, err, sizeof err),
	          1);
}

/* --- every field kind ----------------------------------------------------- */

static void
test_actions_and_destinations(void)
{
	const struct rule *r;
	char buf[256];

	r = ACCEPT("allow name=www.example.com");
	if (r != NULL) {
		CHECK_INT(r->action, RULE_ALLOW);
		CHECK(!r->is_default);
		CHECK_INT(r->app, RULE_APP_ANY);
		CHECK(r->app_value == NULL);
		CHECK_INT(r->dest, RULE_DEST_NAME);
		CHECK_STR(r->dest_value, "www.example.com");
		CHECK_INT(r->until, 0);
		CHECK_STR(r->file, FILE_NAME);
		CHECK_INT(r->line, 1);
		CHECK_STR(rule_format(r, buf, sizeof buf),
		          "allow name=www.example.com");
		CHECK_STR(rule_origin(r, buf, sizeof buf), "t.rules:1");
	}
	/* Names are lower case, one trailing dot cut. */
	r = ACCEPT("block name=WWW.Example.COM.");
	if (r != NULL) {
		CHECK_INT(r->action, RULE_BLOCK);
		CHECK_STR(r->dest_value, "www.example.com");
	}
	r = ACCEPT("ask name=*");
	if (r != NULL) {
		CHECK_INT(r->action, RULE_ASK);
		CHECK_INT(r->dest, RULE_DEST_ANY);
		CHECK(r->dest_value == NULL);
	}
	r = ACCEPT("allow domain=Example.ORG");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_DOMAIN);
		CHECK_STR(r->dest_value, "example.org");
	}
	r = ACCEPT("block wildcard=Ads*.example.com");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_WILDCARD);
		CHECK_STR(r->dest_value, "ads*.example.com");
	}
	r = ACCEPT("block wildcard=ad?.example.com");
	if (r != NULL)
		CHECK_INT(r->dest, RULE_DEST_WILDCARD);
	r = ACCEPT("block list=ads");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_LIST);
		CHECK_INT(r->list, 0);
		CHECK_STR(r->dest_value, "ads");
	}
	r = ACCEPT("block list=trackers");
	if (r != NULL)
		CHECK_INT(r->list, 1);
	r = ACCEPT("allow net=203.0.113.0/24");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_NET);
		CHECK_INT(r->net.length, 24);
		CHECK(r->dest_value == NULL);
		CHECK_STR(rule_format(r, buf, sizeof buf),
		          "allow net=203.0.113.0/24");
	}
	r = ACCEPT("allow net=192.0.2.7");
	if (r != NULL)
		CHECK_INT(r->net.length, 32);
	r = ACCEPT("allow unit=backup.service net=2001:db8::/32");
	if (r != NULL) {
		CHECK_INT(r->net.length, 32);
		CHECK_INT(r->app, RULE_APP_UNIT);
	}
}

static void
test_apps(void)
{
	const struct rule *r;

	r = ACCEPT("allow any name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_ANY);
		CHECK(r->app_value == NULL);
	}
	r = ACCEPT("allow app=* name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_ANY);
		CHECK(r->app_value == NULL);
	}
	r = ACCEPT("allow app=flatpak:org.mozilla.firefox name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_KEY);
		CHECK_STR(r->app_value, "flatpak:org.mozilla.firefox");
	}
	r = ACCEPT("allow app-id=org.gnome.Evince name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_ID);
		CHECK_STR(r->app_value, "org.gnome.Evince");
	}
	r = ACCEPT("allow flatpak=org.mozilla.firefox name=a.example");
	if (r != NULL)
		CHECK_INT(r->app, RULE_APP_FLATPAK);
	r = ACCEPT("allow snap=firefox name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_SNAP);
		CHECK_STR(r->app_value, "firefox");
	}
	r = ACCEPT("allow snap=lxd.daemon name=a.example");
	if (r != NULL)
		CHECK_STR(r->app_value, "lxd.daemon");
	r = ACCEPT("allow unit=backup.service name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_UNIT);
		CHECK_STR(r->app_value, "backup.service");
	}
	r = ACCEPT("allow unit=getty@.service name=a.example");
	if (r != NULL)
		CHECK_STR(r->app_value, "getty@.service");
	/* A trailing '/' of a cgroup is cut; "/" stays. */
	r = ACCEPT("allow cgroup=/system.slice/x.service/ name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_CGROUP);
		CHECK_STR(r->app_value, "/system.slice/x.service");
	}
	r = ACCEPT("allow cgroup=/ name=a.example");
	if (r != NULL)
		CHECK_STR(r->app_value, "/");
	r = ACCEPT("allow exe=/usr/bin/curl name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_EXE);
		CHECK_STR(r->app_value, "/usr/bin/curl");
	}
	r = ACCEPT("allow exe=/opt/tool/bin/* name=a.example");
	if (r != NULL)
		CHECK_INT(r->app, RULE_APP_EXE_GLOB);
	r = ACCEPT("allow exe=/usr/bin/python3.? name=a.example");
	if (r != NULL)
		CHECK_INT(r->app, RULE_APP_EXE_GLOB);
	r = ACCEPT("allow uid=1000 name=a.example");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_UID);
		CHECK_INT(r->uid, 1000);
	}
	r = ACCEPT("allow uid=4294967294 name=a.example");
	if (r != NULL)
		CHECK_INT(r->uid, 4294967294u);
	/* A user name this system knows. */
	r = ACCEPT("allow uid=root name=a.example");
	if (r != NULL)
		CHECK_INT(r->uid, 0);
}

static void
test_defaults(void)
{
	const struct rule *r;

	r = ACCEPT("default block");
	if (r != NULL) {
		CHECK(r->is_default);
		CHECK_INT(r->action, RULE_BLOCK);
		CHECK_INT(r->app, RULE_APP_ANY);
	}
	r = ACCEPT("default allow app=flatpak:org.mozilla.firefox");
	if (r != NULL) {
		CHECK(r->is_default);
		CHECK_INT(r->app, RULE_APP_KEY);
	}
	r = ACCEPT("default ask unit=backup.service");
	if (r != NULL)
		CHECK_INT(r->action, RULE_ASK);
	r = ACCEPT("default block any for=1h");
	if (r != NULL)
		CHECK_INT(r->until, MTIME + 3600);

	REFUSED_COL("default", 1, 8, "default needs allow, block or ask");
	REFUSED("default permit", 1, "permit", "expected allow");
	REFUSED("default block name=x.example", 1,
	        "name=", "a default names no destination");
	REFUSED("default allow net=192.0.2.0/24", 1,
	        "net=", "a default names no destination");
	REFUSED("default block app=a list=ads", 1,
	        "list=", "a default names no destination");
}

static void
test_expiry(void)
{
	const struct rule *r;
	int64_t t = 0;
	const char *reason = NULL;

	r = ACCEPT("allow name=a.example until=2026-12-24T18:00:00Z");
	if (r != NULL)
		CHECK_INT(r->until, 1798135200);
	r = ACCEPT("allow name=a.example until=2026-12-24");
	if (r != NULL)
		CHECK_INT(r->until, 1798070400);
	r = ACCEPT("allow name=a.example until=2026-12-24T18:30Z");
	if (r != NULL)
		CHECK_INT(r->until, 1798137000);
	r = ACCEPT("allow name=a.example until=2028-02-29");
	if (r != NULL)
		CHECK_INT(r->until, 1835395200);
	r = ACCEPT("allow name=a.example for=1h30m");
	if (r != NULL)
		CHECK_INT(r->until, MTIME + 5400);
	r = ACCEPT("allow name=a.example for=90s");
	if (r != NULL)
		CHECK_INT(r->until, MTIME + 90);

	REFUSED("allow name=a.example until=2026-02-30", 1, "2026-02-30",
	        "no such date");
	REFUSED("allow name=a.example until=2027-02-29", 1, "2027-02-29",
	        "no such date");
	REFUSED("allow name=a.example until=2026-13-01", 1, "2026-13-01",
	        "no such date");
	REFUSED("allow name=a.example until=2026-00-10", 1, "2026-00-10",
	        "no such date");
	REFUSED("allow name=a.example until=2026-12-24T24:00:00Z", 1, "2026",
	        "no such date");
	REFUSED("allow name=a.example until=2026-12-24T18:00:00", 1, "2026",
	        "ends in Z");
	REFUSED("allow name=a.example until=2026-12-24T18:00:00+01:00", 1,
	        "2026", "ends in Z");
	REFUSED("allow name=a.example until=26-12-24", 1, "26-12",
	        "expected a UTC time");
	REFUSED("allow name=a.example until=tomorrow", 1, "tomorrow",
	        "expected a UTC time");
	REFUSED("allow name=a.example until=1969-12-31", 1, "1969",
	        "no such date");
	REFUSED_COL("allow name=a.example until=", 1, 28, "until=");
	REFUSED("allow name=a.example for=0s", 1, "0s", "nothing");
	REFUSED("allow name=a.example for=0h0m", 1, "0h", "nothing");
	REFUSED("allow name=a.example for=90", 1, "90", "needs a unit");
	REFUSED("allow name=a.example for=1x", 1, "1x", "needs a unit");
	REFUSED("allow name=a.example for=h", 1, "h", "expected a number");
	REFUSED("allow name=a.example for=-1h", 1, "-1h", "expected a number");
	REFUSED_COL("allow name=a.example for=", 1, 26, "a number and a unit");
	REFUSED("allow name=a.example for=99999999999999999999s", 1, "999",
	        "too long");
	REFUSED("allow name=a.example for=100000000w", 1, "1000", "too long");
	REFUSED("allow name=a.example until=2026-12-24 for=1h", 1,
	        "for=", "once");
	REFUSED("allow name=a.example for=1h for=2h", 1, "for=2h", "once");

	CHECK_INT(rules_parse_duration("1d", &t, &reason), 0);
	CHECK_INT(t, 86400);
	CHECK_INT(rules_parse_duration("2h", &t, &reason), 0);
	CHECK_INT(t, 7200);
	CHECK_INT(rules_parse_duration("1h30m", &t, &reason), 0);
	CHECK_INT(t, 5400);
	/* The largest it takes, and one past it: no overflow either way. */
	CHECK_INT(rules_parse_duration("100000000s", &t, &reason), 0);
	CHECK_INT(t, 100000000);
	CHECK_INT(rules_parse_duration("100000001s", &t, &reason), -1);
	CHECK_INT(rules_parse_duration("9223372036854775807s", &t, &reason),
	          -1);
	CHECK_INT(rules_parse_duration("1157d", &t, &reason), 0);
	CHECK_INT(rules_parse_duration("1158d", &t, &reason), -1);
	CHECK_INT(rules_parse_duration("99999999d99999999d", &t, &reason), -1);
	CHECK_INT(rules_parse_time("1970-01-02", &t, &reason), 0);
	CHECK_INT(t, 86400);
	CHECK_INT(rules_parse_time("2026-12-24T18:00:00Z", &t, &reason), 0);
	CHECK_INT(t, 1798135200);
	CHECK_INT(rules_parse_time("2026-12-24T18:00:00Zx", &t, &reason), -1);
	CHECK_INT(rules_parse_time("2026-12-24x", &t, &reason), -1);
	CHECK_INT(rules_parse_time("2026-12-24T18:60:00Z", &t, &reason), -1);
	CHECK_INT(rules_parse_time("2026-04-31", &t, &reason), -1);
	CHECK_INT(rules_parse_time("", &t, &reason), -1);
	/* 0 means "never expires": the epoch itself is refused. */
	CHECK_INT(rules_parse_time("1970-01-01", &t, &reason), -1);
	CHECK_INT(rules_parse_time("1970-01-01T00:00:00Z", &t, &reason), -1);
	CHECK_INT(rules_parse_time("1970-01-01T00:00:01Z", &t, &reason), 0);
	CHECK_INT(t, 1);
}

/* Every kind of mistake in a field, and the column it is reported at. */
static void
test_refused_fields(void)
{
	char line[512];

	REFUSED("allow", 1, "allow", "needs a destination");
	REFUSED("allow app=flatpak:x", 1, "app=", "needs a destination");
	REFUSED("permit name=a.example", 1, "permit", "expected allow");
	REFUSED("name=a.example allow", 1, "name=", "expected allow");
	REFUSED("allow name=a.example color=red", 1,
	        "color=", "unknown field 'color='");
	REFUSED("allow name=a.example averyveryverylongkey=1", 1, "avery",
	        "unknown field");
	REFUSED("allow =x name=a.example", 1, "=x", "field name is missing");
	REFUSED("allow name=a.example extra", 1, "extra", "is not a field");
	REFUSED("allow any any name=a.example", 1, "any name", "not a field");
	REFUSED("allow a b c d e f g h", 1, "h", "too many fields");

	/* Two app fields, two destinations. */
	REFUSED("allow app=a app-id=b name=a.example", 1,
	        "app-id=", "a rule names one app");
	REFUSED("allow exe=/bin/a uid=0 name=a.example", 1,
	        "uid=", "a rule names one app");
	REFUSED("allow any app=x name=a.example", 1, "app=x",
	        "any already does");
	REFUSED("allow unit=a.service unit=b.service name=a.example", 1,
	        "unit=b", "one app");
	REFUSED("allow name=a.example domain=b.example", 1,
	        "domain=", "a rule names one destination");
	REFUSED("allow name=a.example name=b.example", 1, "name=b",
	        "one destination");
	REFUSED("allow list=ads net=192.0.2.1", 1, "net=", "one destination");

	/* net= is allow only, and never for an exe. */
	REFUSED("block net=203.0.113.0/24", 1, "net=", "can only be allowed");
	REFUSED("ask net=203.0.113.0/24", 1, "net=", "can only be allowed");
	REFUSED("allow exe=/usr/bin/curl net=203.0.113.0/24", 1,
	        "exe=", "exe is not known");
	REFUSED("allow exe=/opt/* net=203.0.113.0/24", 1,
	        "exe=", "exe is not known");
	/* A key with the program joined in names an exe too. */
	REFUSED("allow app=session:1000:/usr/bin/curl net=203.0.113.0/24", 1,
	        "app=", "exe is not known");
	CHECK(ACCEPT("allow app=app:fetch net=203.0.113.0/24") != NULL);
	REFUSED("allow net=203.0.113.0/33", 1, "203", "net=203.0.113.0/33");
	REFUSED("allow net=example.com", 1, "example", "net=example.com");

	/* Values. */
	REFUSED_COL("allow name=", 1, 12, "needs a value");
	REFUSED("allow name=\"\"", 1, "\"", "needs a value");
	REFUSED("allow name=bad..example", 1, "bad", "name=bad..example");
	REFUSED("allow name=ex!ample.com", 1, "ex!", "name=ex!ample.com");
	REFUSED("allow domain=.", 1, ".", "domain=.");
	REFUSED("allow wildcard=ads.example.com", 1, "ads", "has no '*'");
	REFUSED("allow wildcard=ad[s]*.example.com", 1, "[s]", "a wildcard");
	REFUSED("allow wildcard=ads*.exa/mple.com", 1, "/", "a wildcard");
	REFUSED("allow list=nosuch", 1, "nosuch", "no list is named 'nosuch'");
	REFUSED("allow exe=usr/bin/curl name=a.example", 1, "usr/",
	        "absolute path");
	REFUSED("allow exe=/usr//bin/curl name=a.example", 1, "//", "'//'");
	REFUSED("allow exe=/usr/./bin/curl name=a.example", 1, "/./", "'.'");
	REFUSED("allow exe=/usr/bin/.. name=a.example", 1, "/..", "'.'");
	REFUSED("allow cgroup=system.slice name=a.example", 1, "system",
	        "absolute path");
	REFUSED("allow unit=backup name=a.example", 1, "backup",
	        "with its type");
	REFUSED("allow unit=a/b.service name=a.example", 1, "a/b",
	        "with its type");
	REFUSED("allow app-id=org/x name=a.example", 1, "org/x", "no '/'");
	REFUSED("allow flatpak=org/x name=a.example", 1, "org/x", "no '/'");
	REFUSED("allow snap=Firefox name=a.example", 1, "Firefox",
	        "lower-case");
	REFUSED("allow snap=fire_fox name=a.example", 1, "_fox", "lower-case");
	REFUSED("allow uid=nosuchuser-dnsgate name=a.example", 1, "nosuch",
	        "no such user");
	REFUSED("allow uid=-1 name=a.example", 1, "-1", "no such user");
	REFUSED("allow uid=4294967295 name=a.example", 1, "4294", "too large");
	REFUSED("allow uid=99999999999999999999999 name=a.example", 1, "999",
	        "too large");
	REFUSED("allow app=\"a b\" name=a.example", 1, "\"a b", "blank");

	/* A value as long as a field may hold, and one byte more. */
	memset(line, 0, sizeof line);
	strcpy(line, "allow app-id=");
	memset(line + 13, 'a', 255);
	strcat(line, " name=a.example");
	CHECK(ACCEPT(line) != NULL);
	memset(line, 0, sizeof line);
	strcpy(line, "allow app-id=");
	memset(line + 13, 'a', 256);
	strcat(line, " name=a.example");
	REFUSED(line, 1, "aaa", "longer than 255 bytes");

	/* Without the lists callback no list is known. */
	{
		struct rules_file_ctx none = {NULL, NULL, 0};
		struct snapshot s = snap();

		CHECK_INT(rules_file_parse(&book, "block list=ads\n", 15,
		                           FILE_NAME, &none, err, sizeof err),
		          -1);
		CHECK(same(&s));
		CHECK(strstr(err, "t.rules:1:12: no list is named 'ads'") ==
		      err);
	}
}

/* The 253 characters of a name, and 254. */
static void
test_name_lengths(void)
{
	char name[300], line[400];

	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(name, 'a', 253);
	name[63] = name[127] = name[191] = '.';
	name[253] = '\0';
	snprintf(line, sizeof line, "block name=%s", name);
	CHECK(ACCEPT(line) != NULL);
	snprintf(line, sizeof line, "block domain=%s.", name);
	CHECK(ACCEPT(line) != NULL);
	name[253] = 'a';
	name[254] = '\0';
	snprintf(line, sizeof line, "block name=%s", name);
	REFUSED(line, 1, "aaa", "name=");
	/* A label of 64. */
	memset(name, 'b', 64);
	strcpy(name + 64, ".example");
	snprintf(line, sizeof line, "block name=%s", name);
	REFUSED(line, 1, "bbb", "name=");
}

static void
test_quoting(void)
{
	const struct rule *r;
	char text[256];

	r = ACCEPT("allow exe=\"/opt/my tool/bin/run\" name=a.example");
	if (r != NULL)
		CHECK_STR(r->app_value, "/opt/my tool/bin/run");
	r = ACCEPT("allow exe=\"/opt/a\\\"b\\\\c\" name=a.example");
	if (r != NULL)
		CHECK_STR(r->app_value, "/opt/a\"b\\c");
	/* '#' inside quotes is not a comment. */
	r = ACCEPT("allow exe=\"/opt/a#b\" name=a.example # and a comment");
	if (r != NULL)
		CHECK_STR(r->app_value, "/opt/a#b");
	r = ACCEPT("allow name=\"www.example.com\"\t");
	if (r != NULL)
		CHECK_STR(r->dest_value, "www.example.com");
	/* rule_format quotes what needs it, and reads back the same. */
	r = ACCEPT("block exe=\"/opt/a \\\"q\\\" \\\\ #\" name=*");
	if (r != NULL) {
		char buf[256];
		const struct rule *again;

		rule_format(r, buf, sizeof buf);
		CHECK_STR(buf, "block exe=\"/opt/a \\\"q\\\" \\\\ #\" name=*");
		again = ACCEPT(buf);
		if (again != NULL)
			CHECK_STR(again->app_value, r->app_value);
	}

	REFUSED("allow exe=\"/usr/bin/curl name=a.example", 1, "\"/usr",
	        "no closing");
	REFUSED("allow name=a.example exe=\"/a\\", 1, "\\", "escapes");
	REFUSED("allow exe=\"/a\\n\" name=a.example", 1, "\\n",
	        "only \\\" and \\\\ are escapes");
	REFUSED("allow exe=\"/a\"x name=a.example", 1, "x name",
	        "a blank must follow");
	REFUSED("allow exe=/a\"b\" name=a.example", 1, "\"b",
	        "a '\"' inside a value");
	REFUSED("allow \"exe\" name=a.example", 1, "\"exe",
	        "a quote outside a value");
	/* The column of a mistake inside a quoted value is where it was
	 * written, escapes and all. */
	REFUSED("allow exe=\"/usr//bin\" name=a.example", 1, "//", "'//'");
	REFUSED("allow exe=\"/a\\\"b//c\" name=a.example", 1, "//", "'//'");
	REFUSED("allow snap=\"fire\\\\fox\" name=a.example", 1, "\\\\",
	        "lower-case");
	snprintf(text, sizeof text,
	         "allow name=a.example\nallow exe=\"/x/../y\" name=b.example");
	REFUSED(text, 2, "/..", "'.'");
}

/* --- bytes ------------------------------------------------------------------
 */

static void
test_line_ends_and_bytes(void)
{
	struct snapshot s;
	const struct rule *r;
	static const char crlf[] = "# a file from Windows\r\n"
	                           "allow name=a.example\r\n"
	                           "\r\n"
	                           "block domain=b.example # why\r\n"
	                           "allow exe=\"/opt/x y\" name=c.example\r\n"
	                           "block name=d.example\r";

	s = snap();
	CHECK_INT(parse(crlf), 4);
	if (book.n == s.n + 4) {
		CHECK_STR(book.rules[s.n].dest_value, "a.example");
		CHECK_INT(book.rules[s.n].line, 2);
		CHECK_STR(book.rules[s.n + 1].dest_value, "b.example");
		CHECK_INT(book.rules[s.n + 1].line, 4);
		CHECK_STR(book.rules[s.n + 2].app_value, "/opt/x y");
		CHECK_STR(book.rules[s.n + 3].dest_value, "d.example");
		CHECK_INT(book.rules[s.n + 3].line, 6);
	}
	CHECK_INT(parse(""), 0);
	CHECK_INT(parse("\n\n   \t\n# only comments\n  # indented\n"), 0);
	CHECK_INT(parse("allow name=a.example"), 1); /* no last newline */
	CHECK_INT(parse("\tallow\t name=a.example \t"), 1);

	/* A carriage return elsewhere is a control character. */
	REFUSED("allow\rname=a.example", 1, "\r", "control character 0x0d");
	REFUSED("allow name=a.example\r\r\n", 1, "\r", "0x0d");
	REFUSED("allow name=a.example\x01", 1, "\x01", "0x01");
	REFUSED("allow name=a.example # \x1b[31m", 1, "\x1b", "0x1b");
	REFUSED("allow name=a.example\x7f", 1, "\x7f", "0x7f");
	REFUSED_LEN("allow name=a.example\0 more\n", 27, 1, 21, "NUL");
	REFUSED_LEN("allow name=a.example\nallow name=\0b.example\n", 43, 2, 12,
	            "NUL");
	REFUSED_LEN("\0", 1, 1, 1, "NUL");

	/* UTF-8: valid in quoted values and comments, anything else not. */
	r = ACCEPT("allow exe=\"/opt/Gr\xc3\xbc\xc3\x9f"
	           "e \xe2\x82\xac/"
	           "\xf0\x9d\x84\x9e\" name=a.example # \xc3\xa9t\xc3\xa9");
	if (r != NULL)
		CHECK_STR(r->app_value, "/opt/Gr\xc3\xbc\xc3\x9f"
		                        "e "
		                        "\xe2\x82\xac/\xf0\x9d\x84\x9e");
	r = ACCEPT("allow exe=\"/opt/\xf4\x8f\xbf\xbf\" name=a.example");
	CHECK(r != NULL);
	/* Overlong forms. */
	REFUSED("allow exe=\"/opt/\xc0\xaf\" name=a.example", 1, "\xc0",
	        "0xc0 is not UTF-8");
	REFUSED("allow exe=\"/opt/\xc1\xbf\" name=a.example", 1, "\xc1",
	        "0xc1 is not UTF-8");
	REFUSED("allow exe=\"/opt/\xe0\x80\xaf\" name=a.example", 1, "\xe0",
	        "0xe0 is not UTF-8");
	REFUSED("allow exe=\"/opt/\xf0\x80\x80\xaf\" name=a.example", 1, "\xf0",
	        "0xf0 is not UTF-8");
	/* Surrogates. */
	REFUSED("allow exe=\"/opt/\xed\xa0\x80\" name=a.example", 1, "\xed",
	        "0xed is not UTF-8");
	REFUSED("allow exe=\"/opt/\xed\xbf\xbf\" name=a.example", 1, "\xed",
	        "not UTF-8");
	/* Past U+10FFFF. */
	REFUSED("allow exe=\"/opt/\xf4\x90\x80\x80\" name=a.example", 1, "\xf4",
	        "0xf4 is not UTF-8");
	REFUSED("allow exe=\"/opt/\xf5\x80\x80\x80\" name=a.example", 1, "\xf5",
	        "not UTF-8");
	/* Truncated: before a blank, before the quote, at the end of the
	 * file, at the end of a line. */
	REFUSED("allow exe=\"/opt/\xe2\x82 x\" name=a.example", 1, "\xe2",
	        "0xe2 is not UTF-8");
	REFUSED("allow exe=\"/opt/\xf0\x9d\x84\" name=a.example", 1, "\xf0",
	        "not UTF-8");
	REFUSED("allow name=a.example # \xe2\x82", 1, "\xe2", "not UTF-8");
	REFUSED("allow name=a.example # \xc3\nallow name=b.example", 1, "\xc3",
	        "not UTF-8");
	/* A lone continuation byte, bytes that never appear. */
	REFUSED("allow name=a.example # \x80", 1, "\x80", "0x80 is not UTF-8");
	REFUSED("allow name=a.example # \xff\xfe", 1, "\xff",
	        "0xff is not UTF-8");
	/* Latin-1, as an old editor writes it. */
	REFUSED("allow exe=\"/opt/Gr\xfc\xdf"
	        "e\" name=a.example",
	        1, "\xfc", "0xfc is not UTF-8");
	/* Non-ASCII is valid UTF-8 but no name: the reason says so. */
	REFUSED("allow name=b\xc3\xbc"
	        "cher.example",
	        1, "b\xc3",
	        "name=b\xc3\xbc"
	        "cher.example");
}

static void
test_line_length(void)
{
	char *text = malloc(RULES_FILE_LINE_MAX + 16);
	const char *head = "allow name=a.example #";
	size_t h = strlen(head);

	if (text == NULL)
		return;
	/* Exactly RULES_FILE_LINE_MAX bytes, then its newline. */
	memcpy(text, head, h);
	memset(text + h, 'x', RULES_FILE_LINE_MAX - h);
	text[RULES_FILE_LINE_MAX] = '\n';
	CHECK_INT(parse_len(text, RULES_FILE_LINE_MAX + 1), 1);
	/* The same line, the last of a file without its newline. */
	CHECK_INT(parse_len(text, RULES_FILE_LINE_MAX), 1);
	/* ...and written with CRLF: the CR ends the line, it is not in it. */
	text[RULES_FILE_LINE_MAX] = '\r';
	text[RULES_FILE_LINE_MAX + 1] = '\n';
	CHECK_INT(parse_len(text, RULES_FILE_LINE_MAX + 2), 1);
	/* One byte more. */
	memset(text + h, 'x', RULES_FILE_LINE_MAX + 1 - h);
	text[RULES_FILE_LINE_MAX + 1] = '\n';
	REFUSED_LEN(text, RULES_FILE_LINE_MAX + 2, 1, RULES_FILE_LINE_MAX + 1,
	            "longer than 4096 bytes");
	REFUSED_LEN(text, RULES_FILE_LINE_MAX + 1, 1, RULES_FILE_LINE_MAX + 1,
	            "longer than 4096 bytes");
	text[RULES_FILE_LINE_MAX + 1] = '\r';
	text[RULES_FILE_LINE_MAX + 2] = '\n';
	REFUSED_LEN(text, RULES_FILE_LINE_MAX + 3, 1, RULES_FILE_LINE_MAX + 1,
	            "longer than 4096 bytes");
	free(text);
}

/* --- a file whole or not at all ----------------------------------------------
 */

static void
test_whole_or_nothing(void)
{
	static const char text[] = "allow name=a.example\n"
	                           "block domain=b.example\n"
	                           "# fine so far\n"
	                           "allow app=x name=c.example\n"
	                           "block nme=d.example\n"
	                           "allow name=e.example\n";
	struct snapshot s = snap();

	/* The error is the first one, the good lines before it are not
	 * kept, and the book holds no trace of the file: no rule, and not
	 * its name either (a file of a name the book does not hold yet). */
	REFUSED(text, 5, "nme=", "unknown field 'nme='");
	CHECK_INT(rules_file_parse(&book, text, sizeof text - 1, "fresh.rules",
	                           &ctx, err, sizeof err),
	          -1);
	CHECK_INT(book.n, s.n);
	CHECK_INT(book.n_files, s.n_files);
	CHECK_STR(book.files[book.n_files - 1], FILE_NAME);
	CHECK(book.n == 0 || book.rules[book.n - 1].order == book.n - 1);
	/* Two errors: the first is told. */
	REFUSED("allow name=a.example\nallow nme=x\nblock\n", 2,
	        "nme=", "unknown field");
	/* A good file after a bad one is taken as usual. */
	CHECK_INT(parse("allow name=f.example\nblock name=g.example\n"), 2);
	CHECK_INT(book.rules[book.n - 1].order, book.n - 1);
	CHECK_INT(book.rules[book.n - 1].line, 2);
}

/* --- directories
 * --------------------------------------------------------------- */

static char dir[64];

static void
put_file(const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	fputs(text, f);
	fclose(f);
}

static void
remove_dir(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[400];

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

static long
load(const char *path)
{
	err[0] = '\0';
	return rules_file_load(&book, path, &ctx, err, sizeof err);
}

static void
test_load(void)
{
	char path[160], want[200];
	struct snapshot s;
	struct timeval tv[2] = {{1700000000, 0}, {1700000000, 0}};
	size_t i;

	snprintf(dir, sizeof dir, "/tmp/dnsgate-rules-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECK(!"mkdtemp");
		return;
	}
	/* An empty directory: nothing, no error. */
	CHECK_INT(load(dir), 0);

	put_file("20-b.rules", "allow name=b.example\n");
	put_file("10-a.rules", "allow name=a.example\nallow name=a2.example\n");
	put_file("Z.rules", "allow name=z.example\n");
	put_file("a.rules", "allow name=lower-a.example\n");
	/* Ignored: dotfiles, backups, other names. Each would fail. */
	put_file(".hidden.rules", "garbage\n");
	put_file("10-a.rules~", "garbage\n");
	put_file("#10-a.rules#", "garbage\n");
	put_file("10-a.rules.bak", "garbage\n");
	put_file("10-a.rules.dpkg-old", "garbage\n");
	put_file("notes.txt", "garbage\n");
	put_file(".rules", "garbage\n");

	s = snap();
	CHECK_INT(load(dir), 5);
	CHECK_STR(err, "");
	if (book.n == s.n + 5) {
		/* In the C locale's order: digits, upper case, lower case. */
		static const char *const order[] = {"10-a.rules", "10-a.rules",
		                                    "20-b.rules", "Z.rules",
		                                    "a.rules"};

		for (i = 0; i < 5; i++) {
			snprintf(want, sizeof want, "%s/%s", dir, order[i]);
			CHECK_STR(book.rules[s.n + i].file, want);
			CHECK_INT(book.rules[s.n + i].order, s.n + i);
		}
		CHECK_STR(book.rules[s.n + 1].dest_value, "a2.example");
		CHECK_INT(book.rules[s.n + 1].line, 2);
		CHECK_STR(book.rules[s.n + 4].dest_value, "lower-a.example");
	}

	/* One bad file: the error names it, nothing of the directory is
	 * added, not even the good files read before it. */
	put_file("30-bad.rules", "allow name=c.example\nallow bogus\n");
	s = snap();
	CHECK_INT(load(dir), -1);
	CHECK(same(&s));
	snprintf(want, sizeof want, "%s/30-bad.rules:2:7: ", dir);
	CHECK(strncmp(err, want, strlen(want)) == 0);
	snprintf(path, sizeof path, "%s/30-bad.rules", dir);
	unlink(path);

	/* A file alone; for= counts from its last change. */
	snprintf(path, sizeof path, "%s/one.rules", dir);
	put_file("one.rules", "allow name=a.example for=1h30m\n");
	CHECK_INT(utimes(path, tv), 0);
	s = snap();
	CHECK_INT(load(path), 1);
	if (book.n == s.n + 1) {
		CHECK_INT(book.rules[s.n].until, 1700000000 + 5400);
		CHECK_STR(book.rules[s.n].file, path);
	}
	/* A file need not end in .rules when it is named. */
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	put_file("notes.txt", "block name=n.example\n");
	CHECK_INT(load(path), 1);

	/* Missing paths are errors that name them. */
	snprintf(path, sizeof path, "%s/missing.rules", dir);
	s = snap();
	CHECK_INT(load(path), -1);
	CHECK(same(&s));
	CHECK(strstr(err, path) == err);
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	CHECK_INT(load("/nonexistent-dnsgate/rules.d"), -1);
	CHECK(strstr(err, "/nonexistent-dnsgate/rules.d") != NULL);

	remove_dir();
}

/* --- hostile input
 * ------------------------------------------------------------- */

static double
seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	       (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void
test_many_rules(void)
{
	enum { N = 100000 };
	size_t cap = (size_t)N * 80, len = 0, i;
	char *text = malloc(cap);
	struct rule_book big;
	struct timespec t0;
	struct rules *r;
	double took;

	if (text == NULL)
		return;
	for (i = 0; i < N; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "%s app=flatpak:org.app%zu "
		                        "domain=d%zu.example.com\n",
		                        i % 3 ? "allow" : "block", i % 5000, i);
	rule_book_init(&big);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(rules_file_parse(&big, text, len, "big.rules", &ctx, err,
	                           sizeof err),
	          N);
	took = seconds_since(&t0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rules_new(&big, NULL, 0);
	fprintf(stderr,
	        "measured: %d rules (%zu bytes) parsed in %.3f s, indexed "
	        "in %.3f s\n",
	        N, len, took, seconds_since(&t0));
	CHECK_INT(big.n, N);
	CHECK_INT(big.n_files, 1);
	if (big.n == N) {
		CHECK_STR(big.rules[N - 1].dest_value, "d99999.example.com");
		CHECK_INT(big.rules[N - 1].line, N);
	}
	rules_free(r);
	rule_book_free(&big);
	free(text);
}

static void
test_huge_line(void)
{
	size_t len = 10u << 20;
	char *text = malloc(len);
	struct timespec t0;
	struct snapshot s = snap();

	if (text == NULL)
		return;
	memset(text, 'a', len);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	REFUSED_LEN(text, len, 1, RULES_FILE_LINE_MAX + 1, "longer than");
	fprintf(stderr,
	        "measured: a 10 MiB file without a newline refused "
	        "in %.4f s\n",
	        seconds_since(&t0));
	/* The same after a good line. */
	memcpy(text, "allow name=a.example\n", 21);
	REFUSED_LEN(text, len, 2, RULES_FILE_LINE_MAX + 1, "longer than");
	CHECK(same(&s));
	free(text);
}

static uint64_t rng;

static uint32_t
next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng >> 16);
}

/* Bytes a rules file is made of, to mutate valid lines with. */
static const char *const pieces[] = {
    "allow ",
    "block ",
    "ask ",
    "default ",
    "any ",
    "app=",
    "app-id=",
    "flatpak=",
    "snap=",
    "unit=",
    "cgroup=/",
    "exe=/",
    "uid=",
    "name=",
    "name=* ",
    "domain=",
    "wildcard=*",
    "list=ads ",
    "list=x ",
    "net=",
    "until=2026-12-24",
    "for=1h30m",
    "\"",
    "\\",
    "\\\"",
    "#",
    " ",
    "\t",
    "\r\n",
    "\n",
    "=",
    "*",
    "?",
    "[",
    ".",
    "..",
    "/",
    "//",
    "\xc3\xa9",
    "\xe2\x82",
    "\xed\xa0\x80",
    "\xf4\x90\x80\x80",
    "\xc0\xaf",
    "\x80",
    "\0",
    "\x01",
    "\xff",
    "192.0.2.0/24",
    "2001:db8::/32",
    "example.com",
    "backup.service",
    "1000",
    "root",
    "T18:00:00Z",
    "0s",
    "99999999999d",
};

static size_t
random_text(char *buf, size_t cap)
{
	size_t len = 0, n, k;

	switch (next_random() % 3) {
	case 0: /* bytes */
		n = next_random() % cap;
		for (len = 0; len < n; len++)
			buf[len] = (char)next_random();
		return len;
	case 1: /* pieces */
		while (len + 24 < cap && next_random() % 64 != 0) {
			const char *p =
			    pieces[next_random() %
			           (sizeof pieces / sizeof pieces[0])];

			n = p[0] == '\0' ? 1 : strlen(p);
			memcpy(buf + len, p, n);
			len += n;
		}
		return len;
	default: /* a valid file, some bytes changed */
		len =
		    (size_t)snprintf(buf, cap,
		                     "allow app=flatpak:org.x name=a.example\n"
		                     "block exe=\"/opt/a \\\"b\\\"\" "
		                     "domain=b.example until=2030-01-01\n"
		                     "default block uid=1000 for=2h\n"
		                     "allow unit=x.service net=192.0.2.0/24\n"
		                     "ask cgroup=/system.slice wildcard=a*.c\n"
		                     "block list=ads # comment\n");
		for (k = next_random() % 6; k-- > 0;)
			buf[next_random() % len] = (char)next_random();
		return len;
	}
}

/* Lines in text, counting a last one without a newline. */
static unsigned
count_lines(const char *text, size_t len)
{
	unsigned n = 0;
	size_t i;

	for (i = 0; i < len; i++)
		n += text[i] == '\n';
	return n + (len > 0 && text[len - 1] != '\n');
}

static void
test_random(void)
{
	enum { SEEDS = 5000 };
	static char buf[2048];
	unsigned seed, bad = 0, accepted = 0, refused = 0;

	for (seed = 1; seed <= SEEDS; seed++) {
		struct snapshot s = snap();
		size_t len;
		long n;
		unsigned line = 0, col = 0;
		const char *reason;

		rng = 0x9e3779b97f4a7c15ULL * seed;
		len = random_text(buf, sizeof buf);
		n = parse_len(buf, len);
		if (n < 0) {
			refused++;
			/* file:line:column, inside the text, and nothing
			 * added. */
			if (!same(&s) ||
			    !err_position(err, FILE_NAME, &line, &col,
			                  &reason) ||
			    line < 1 || line > count_lines(buf, len) ||
			    col < 1 || col > RULES_FILE_LINE_MAX + 1) {
				if (bad++ < 5)
					fprintf(stderr,
					        "seed %u: bad error \"%s\"\n",
					        seed, err);
			}
		} else {
			accepted++;
			if (book.n != s.n + (size_t)n && bad++ < 5)
				fprintf(stderr,
				        "seed %u: %ld rules, book "
				        "%zu -> %zu\n",
				        seed, n, s.n, book.n);
		}
	}
	CHECK_INT(bad, 0);
	/* Both kinds happened: the generator is not all noise. */
	CHECK(accepted > 50);
	CHECK(refused > 50);
	fprintf(stderr, "random: %u files, %u taken, %u refused\n", SEEDS,
	        accepted, refused);

	/* What was taken is indexed and decided on without harm. */
	{
		struct list_filter *ads = list_filter_new();
		const struct list_filter *lists[2] = {ads, NULL};
		const char *reason;
		struct rules *r;

		matcher_add(list_filter_blocks(ads), "a.example", &reason);
		static const char *const names[] = {
		    "a.example", "www.b.example", "ac", "x.c", "192.0.2.1"};
		struct app_identity_source src = {
		    "/system.slice/x.service", 1, 1000, NULL, NULL, 0};
		struct app_identity id;
		struct rules_asker *a;
		struct rules_verdict v;
		char e[256];
		int pass;

		r = rules_new(&book, lists, 2);
		CHECK(r != NULL);
		/* With the exe known and not. */
		for (pass = 0; pass < 2; pass++) {
			src.exe = pass ? "/opt/a \"b\"" : NULL;
			app_identity_from(&src, &id, e, sizeof e);
			a = rules_asker_new(r, &id, 1000);
			CHECK(rules_decide(r, a, names, 5, 1, MTIME, &v) <=
			      RULES_UNDECIDED);
			rules_asker_free(a);
		}
		rules_free(r);
		list_filter_free(ads);
	}
}

/* --- places ------------------------------------------------------------- */

static void
test_places(void)
{
	const struct rule *r;
	char buf[256];

	r = ACCEPT("block country=cn");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_COUNTRY);
		CHECK_STR(r->dest_value, "CN");
		CHECK_STR(rule_format(r, buf, sizeof buf), "block country=CN");
	}
	r = ACCEPT("block app=flatpak:org.mozilla.firefox country=CN,ru,Ir "
		   "for=2h");
	if (r != NULL) {
		CHECK_INT(r->app, RULE_APP_KEY);
		CHECK_STR(r->dest_value, "CN,RU,IR");
		CHECK_INT(r->until, MTIME + 7200);
	}
	r = ACCEPT("allow uid=1000 continent=eu,NA");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_CONTINENT);
		CHECK_STR(r->dest_value, "EU,NA");
		CHECK_STR(rule_format(r, buf, sizeof buf),
			  "allow uid=1000 continent=EU,NA");
	}
	r = ACCEPT("block asn=AS64501");
	if (r != NULL) {
		CHECK_INT(r->dest, RULE_DEST_ASN);
		CHECK_INT(r->asn, 64501);
		CHECK(r->dest_value == NULL);
		CHECK_STR(rule_format(r, buf, sizeof buf), "block asn=AS64501");
	}
	r = ACCEPT("block asn=as4294967295");
	if (r != NULL)
		CHECK_INT(r->asn, 4294967295u);
	r = ACCEPT("allow exe=/usr/bin/curl asn=64500 until=2027-01-01");
	if (r != NULL)
		CHECK_INT(r->asn, 64500);

	/* Hostile or mistaken input: a reason, at its column. */
	REFUSED("ask country=CN\n", 1, "ask", "ask cannot name a place");
	REFUSED_COL("block country=\n", 1, 15, "needs a value");
	REFUSED("block country=C\n", 1, "C", "two letters");
	REFUSED("block country=CHN\n", 1, "CHN", "two letters");
	REFUSED_COL("block country=CN,\n", 1, 18, "two letters");
	REFUSED("block country=,CN\n", 1, ",CN", "two letters");
	REFUSED("block country=CN,,RU\n", 1, ",RU", "two letters");
	REFUSED("block country=C1\n", 1, "C1", "two letters");
	REFUSED("block country=CN;RU\n", 1, "CN;", "two letters");
	REFUSED("block country=\"CN RU\"\n", 1, "\"CN", "blank");
	REFUSED("block country=\xc3\xa9\xc3\xa9\n", 1, "\xc3", "two letters");
	REFUSED("block continent=XX\n", 1, "XX", "no such continent");
	REFUSED("block continent=EU,ZZ\n", 1, "ZZ", "no such continent");
	REFUSED("block continent=EUR\n", 1, "EUR", "continent=");
	REFUSED_COL("block asn=\n", 1, 11, "needs a value");
	REFUSED("block asn=AS\n", 1, "AS", "an AS number");
	REFUSED("block asn=0\n", 1, "0", "reserved");
	REFUSED("block asn=-1\n", 1, "-1", "an AS number");
	REFUSED("block asn=4294967296\n", 1, "4294967296", "at most");
	REFUSED("block asn=99999999999999999999999\n", 1, "999", "at most");
	REFUSED("block asn=64500x\n", 1, "64500x", "an AS number");
	REFUSED("block asn=0x10\n", 1, "0x10", "an AS number");
	REFUSED("block country=CN asn=64500\n", 1, "asn",
		"one destination");
	REFUSED("block name=a.example country=CN\n", 1, "country",
		"one destination");
	REFUSED("default block country=CN\n", 1, "country",
		"names no destination");
	REFUSED("block countries=CN\n", 1, "countries", "country=");
}

int
main(void)
{
	seed_book();
	test_actions_and_destinations();
	test_apps();
	test_defaults();
	test_expiry();
	test_refused_fields();
	test_name_lengths();
	test_quoting();
	test_line_ends_and_bytes();
	test_line_length();
	test_whole_or_nothing();
	test_load();
	test_many_rules();
	test_huge_line();
	test_places();
	test_random();
	rule_book_free(&book);
	return check_exit();
}
