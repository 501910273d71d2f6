/* test_rules.c - unit tests for src/rules.c, from its contract (rules.h):
 * each step of the precedence with a pair of rules that differ only in
 * it, defaults, ask, expiry, CNAME chains, an unknown exe, the trail of
 * rules_explain, standing grants, names as queries write them, and a
 * book of many apps. Apps are made by app_identity_from from cgroup
 * paths as systemd names them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lists/list_filter.h"
#include "lists/matcher.h"
#include "src/app_identity.h"
#include "src/rule.h"
#include "src/rules.h"
#include "src/rules_file.h"
#include "tests/unit/check.h"

#define NOW 1790000000 /* 2026-09-21 */
#define USER_APPS "/user.slice/user-1000.slice/user@1000.service/app.slice/"

static struct app_identity firefox, evince, backup, syncthing, session,
    session_no_exe, snap_firefox, getty;

static void
make_id(struct app_identity *id, const char *path, const char *exe, int64_t uid)
{
	struct app_identity_source src = {path, exe ? 4242 : 0, uid,
	                                  exe,  NULL,           0};
	char err[256];

	CHECK_INT(app_identity_from(&src, id, err, sizeof err), 0);
}

static void
make_ids(void)
{
	make_id(&firefox,
	        USER_APPS "app-flatpak-org.mozilla.firefox-12345.scope",
	        "/app/lib/firefox/firefox", 1000);
	CHECK_STR(firefox.key, "flatpak:org.mozilla.firefox");
	make_id(&evince, USER_APPS "app-gnome-org.gnome.Evince-4567.scope",
	        "/usr/bin/evince", 1000);
	CHECK_STR(evince.key, "app:org.gnome.Evince");
	make_id(&backup, "/system.slice/backup.service", "/usr/bin/restic", 0);
	CHECK_STR(backup.key, "system:backup.service");
	make_id(&syncthing, USER_APPS "syncthing.service", "/usr/bin/syncthing",
	        1000);
	CHECK_STR(syncthing.key, "user:1000:syncthing.service");
	make_id(&session, "/user.slice/user-1000.slice/session-2.scope",
	        "/usr/bin/curl", 1000);
	CHECK_STR(session.key, "session:1000:/usr/bin/curl");
	make_id(&session_no_exe, "/user.slice/user-1000.slice/session-2.scope",
	        NULL, 1000);
	CHECK_STR(session_no_exe.key, "session:1000");
	make_id(&snap_firefox,
	        USER_APPS "snap.firefox.firefox-2f1a3b4c-1111-2222-3333-"
	                  "444455556666.scope",
	        "/snap/firefox/123/usr/lib/firefox/firefox", 1000);
	CHECK_STR(snap_firefox.key, "snap:firefox");
	make_id(&getty, "/system.slice/system-getty.slice/getty@tty1.service",
	        "/sbin/agetty", 0);
	CHECK_STR(getty.key, "system:getty@tty1.service");
}

/* Lists, by the names rules give them: "ads", and two lists whose
 * entries differ in length only. */
static struct list_filter *ads, *short_list, *long_list;
static const struct list_filter *lists[3];

static long
find_list(void *arg, const char *name)
{
	(void)arg;
	if (strcmp(name, "ads") == 0)
		return 0;
	if (strcmp(name, "short") == 0)
		return 1;
	if (strcmp(name, "long") == 0)
		return 2;
	return -1;
}

static void
make_lists(void)
{
	const char *reason;

	ads = list_filter_new();
	short_list = list_filter_new();
	long_list = list_filter_new();
	CHECK_INT(matcher_add(list_filter_blocks(ads), "ads.example", &reason),
	          1);
	CHECK_INT(matcher_add(list_filter_blocks(ads), "cdn-ads.example.net",
	                      &reason),
	          1);
	CHECK_INT(matcher_add(list_filter_blocks(short_list), "example.com",
	                      &reason),
	          1);
	CHECK_INT(matcher_add(list_filter_blocks(long_list), "www.example.com",
	                      &reason),
	          1);
	lists[0] = ads;
	lists[1] = short_list;
	lists[2] = long_list;
}

/* A book read from text and its index. */
struct engine {
	struct rule_book book;
	struct rules *r;
};

static bool
engine_load(struct engine *e, const char *text)
{
	struct rules_file_ctx ctx = {find_list, NULL, NOW};
	char err[512];

	rule_book_init(&e->book);
	e->r = NULL;
	if (rules_file_parse(&e->book, text, strlen(text), "t.rules", &ctx, err,
	                     sizeof err) < 0) {
		fprintf(stderr, "rules not read: %s\n", err);
		check_failures++;
		return false;
	}
	e->r = rules_new(&e->book, lists, 3);
	return true;
}

static void
engine_free(struct engine *e)
{
	rules_free(e->r);
	rule_book_free(&e->book);
}

static enum rules_outcome
decide(const struct engine *e, const struct app_identity *id,
       const char *const *names, size_t n, int64_t now, struct rules_verdict *v)
{
	struct rules_asker *a = rules_asker_new(e->r, id, id->uid);
	enum rules_outcome o = rules_decide(e->r, a, names, n, 1, now, v);

	rules_asker_free(a);
	return o;
}

static const char *
outcome_name(enum rules_outcome o)
{
	return o == RULES_ALLOW   ? "allow"
	       : o == RULES_BLOCK ? "block"
	                          : "undecided";
}

/* The rules of text decide outcome for who asking for name, by the rule
 * of line `line' (0: no rule, the built-in allow). */
static void
expect_at(int at, const char *text, const struct app_identity *who,
          const char *name, enum rules_outcome outcome, unsigned line)
{
	struct engine e;
	struct rules_verdict v;
	enum rules_outcome got;
	unsigned got_line;

	if (!engine_load(&e, text))
		return;
	got = decide(&e, who, &name, 1, NOW, &v);
	got_line = v.rule ? v.rule->line : 0;
	check_count++;
	if (got != outcome || got_line != line || got != v.outcome) {
		check_failures++;
		fprintf(stderr,
		        "%s:%d: %s asking for %s: %s by line %u, expected "
		        "%s by line %u; rules:\n%s\n",
		        __FILE__, at, who->key, name, outcome_name(got),
		        got_line, outcome_name(outcome), line, text);
	}
	engine_free(&e);
}
#define EXPECT(text, who, name, outcome, line)                                 \
	expect_at(__LINE__, text, who, name, outcome, line)

/* hi outranks lo by its app alone: hi's allow beats lo's block in either
 * order (so neither the action nor the file order decides), and hi's
 * block beats lo's allow. */
static void
app_pair_at(int at, const char *hi, const char *lo,
            const struct app_identity *who)
{
	char text[1024];

	snprintf(
	    text, sizeof text,
	    "block %s name=www.example.com\nallow %s name=www.example.com\n",
	    lo, hi);
	expect_at(at, text, who, "www.example.com", RULES_ALLOW, 2);
	snprintf(
	    text, sizeof text,
	    "allow %s name=www.example.com\nblock %s name=www.example.com\n",
	    hi, lo);
	expect_at(at, text, who, "www.example.com", RULES_ALLOW, 1);
	snprintf(
	    text, sizeof text,
	    "allow %s name=www.example.com\nblock %s name=www.example.com\n",
	    lo, hi);
	expect_at(at, text, who, "www.example.com", RULES_BLOCK, 2);
	/* Each alone names the app. */
	snprintf(text, sizeof text, "block %s name=www.example.com\n", lo);
	expect_at(at, text, who, "www.example.com", RULES_BLOCK, 1);
	snprintf(text, sizeof text, "block %s name=www.example.com\n", hi);
	expect_at(at, text, who, "www.example.com", RULES_BLOCK, 1);
}
#define APP_PAIR(hi, lo, who) app_pair_at(__LINE__, hi, lo, who)

/* The same for destinations, both for any app, asked for name. */
static void
dest_pair_at(int at, const char *hi, const char *lo, const char *name)
{
	char text[1024];

	snprintf(text, sizeof text, "block %s\nallow %s\n", lo, hi);
	expect_at(at, text, &evince, name, RULES_ALLOW, 2);
	snprintf(text, sizeof text, "allow %s\nblock %s\n", hi, lo);
	expect_at(at, text, &evince, name, RULES_ALLOW, 1);
	snprintf(text, sizeof text, "allow %s\nblock %s\n", lo, hi);
	expect_at(at, text, &evince, name, RULES_BLOCK, 2);
	snprintf(text, sizeof text, "block %s\n", lo);
	expect_at(at, text, &evince, name, RULES_BLOCK, 1);
}
#define DEST_PAIR(hi, lo, name) dest_pair_at(__LINE__, hi, lo, name)

static void
test_app_precedence(void)
{
	const char *cg_long =
	    "cgroup=" USER_APPS "app-flatpak-org.mozilla.firefox-12345.scope";

	APP_PAIR("app=flatpak:org.mozilla.firefox",
	         "flatpak=org.mozilla.firefox", &firefox);
	APP_PAIR("app=flatpak:org.mozilla.firefox",
	         "app-id=org.mozilla.firefox", &firefox);
	APP_PAIR("flatpak=org.mozilla.firefox",
	         "user-unit=app-flatpak-org.mozilla.firefox.scope", &firefox);
	APP_PAIR("app-id=org.mozilla.firefox",
	         "user-unit=app-flatpak-org.mozilla.firefox.scope", &firefox);
	APP_PAIR("app-id=org.gnome.Evince",
	         "user-unit=app-gnome-org.gnome.Evince.scope", &evince);
	APP_PAIR("snap=firefox", "user-unit=snap.firefox.firefox.scope",
	         &snap_firefox);
	APP_PAIR("user-unit=app-flatpak-org.mozilla.firefox.scope", cg_long,
	         &firefox);
	/* The unit as named in the path, and a template's instance. */
	APP_PAIR("user-unit=app-flatpak-org.mozilla.firefox-12345.scope", cg_long,
	         &firefox);
	APP_PAIR("unit=getty@.service",
	         "cgroup=/system.slice/system-getty.slice", &getty);
	APP_PAIR("unit=backup.service", "cgroup=/system.slice/backup.service",
	         &backup);
	APP_PAIR("user-unit=syncthing.service", "cgroup=/user.slice", &syncthing);
	APP_PAIR("unit=session-2.scope", "cgroup=/user.slice/user-1000.slice",
	         &session);
	/* A longer cgroup before a shorter. */
	APP_PAIR(cg_long, "cgroup=/user.slice/user-1000.slice", &firefox);
	APP_PAIR("cgroup=/user.slice/user-1000.slice", "cgroup=/user.slice",
	         &firefox);
	APP_PAIR("cgroup=/user.slice", "cgroup=/", &firefox);
	APP_PAIR("cgroup=/user.slice", "exe=/app/lib/firefox/firefox",
	         &firefox);
	APP_PAIR("cgroup=/system.slice", "exe=/usr/bin/restic", &backup);
	/* exe: a path before a glob, more literal characters first. */
	APP_PAIR("exe=/usr/bin/curl", "exe=/usr/bin/cur*", &session);
	APP_PAIR("exe=/usr/bin/c*", "exe=/usr/*", &session);
	APP_PAIR("exe=/usr/bin/c?rl", "exe=/usr/bin/*", &session);
	APP_PAIR("exe=/usr/*", "uid=1000", &session);
	APP_PAIR("exe=/app/lib/firefox/firefox", "uid=1000", &firefox);
	APP_PAIR("uid=1000", "any", &syncthing);
	APP_PAIR("uid=0", "any", &backup);
	APP_PAIR("uid=root", "any", &getty);

	/* What names another app does not name this one. */
	EXPECT("block app=flatpak:org.mozilla.firefox name=x.example\n",
	       &evince, "x.example", RULES_ALLOW, 0);
	EXPECT("block app-id=org.gnome.Evince name=x.example\n", &firefox,
	       "x.example", RULES_ALLOW, 0);
	/* flatpak= is for Flatpak apps only; app-id= for both. */
	EXPECT("block flatpak=org.gnome.Evince name=x.example\n", &evince,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block unit=other.service name=x.example\n", &backup,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block cgroup=/system.slice/backup name=x.example\n", &backup,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block cgroup=/system.slice/backup.service/sub name=x.example\n",
	       &backup, "x.example", RULES_ALLOW, 0);
	EXPECT("block exe=/usr/bin/wget name=x.example\n", &session,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block uid=1000 name=x.example\n", &backup, "x.example",
	       RULES_ALLOW, 0);
	EXPECT("block snap=lxd name=x.example\n", &snap_firefox, "x.example",
	       RULES_ALLOW, 0);
	EXPECT("block snap=firefox.firefox name=x.example\n", &snap_firefox,
	       "x.example", RULES_BLOCK, 1);
	EXPECT("block unit=getty@tty2.service name=x.example\n", &getty,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block unit=getty@tty1.service name=x.example\n", &getty,
	       "x.example", RULES_BLOCK, 1);
	/* Within a tier, an instance outranks its template, one app of a
	 * snap the snap. */
	EXPECT("block unit=getty@.service name=*\n"
	       "allow unit=getty@tty1.service name=*\n",
	       &getty, "x.example", RULES_ALLOW, 2);
	EXPECT("allow unit=getty@tty1.service name=*\n"
	       "block unit=getty@.service name=*\n",
	       &getty, "x.example", RULES_ALLOW, 1);
	EXPECT("default block snap=firefox\n"
	       "default allow snap=firefox.firefox\n",
	       &snap_firefox, "x.example", RULES_ALLOW, 2);
	/* unit= is the system manager's; a user names its own units as it
	 * likes, so a user's syncthing.service is user-unit= only. */
	EXPECT("block unit=syncthing.service name=x.example\n", &syncthing,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block user-unit=syncthing.service name=x.example\n",
	       &syncthing, "x.example", RULES_BLOCK, 1);
	EXPECT("block user-unit=backup.service name=x.example\n", &backup,
	       "x.example", RULES_ALLOW, 0);

	/* The app comes before the destination: an app's name=* outranks
	 * any app's rule for the very name. */
	EXPECT("block name=www.example.com\n"
	       "allow app=flatpak:org.mozilla.firefox name=*\n",
	       &firefox, "www.example.com", RULES_ALLOW, 2);
	EXPECT("block domain=example.com\nallow uid=1000 list=ads\n", &evince,
	       "www.example.com", RULES_BLOCK, 1);
}

static void
test_dest_precedence(void)
{
	DEST_PAIR("name=www.example.com", "wildcard=www*.example.com",
	          "www.example.com");
	DEST_PAIR("wildcard=www*.example.com", "domain=www.example.com",
	          "www.example.com");
	DEST_PAIR("wildcard=ww?.example.com", "wildcard=*.example.com",
	          "www.example.com");
	DEST_PAIR("wildcard=w*.example.com", "wildcard=*e.com",
	          "www.example.com");
	DEST_PAIR("domain=www.example.com", "domain=example.com",
	          "www.example.com");
	DEST_PAIR("domain=example.com", "domain=com", "a.b.example.com");
	DEST_PAIR("domain=example.com", "list=short", "www.example.com");
	DEST_PAIR("list=long", "list=short", "www.example.com");
	DEST_PAIR("list=short", "name=*", "www.example.com");
	DEST_PAIR("domain=com", "name=*", "www.example.com");

	/* What each kind does not match. */
	EXPECT("block name=example.com\n", &evince, "www.example.com",
	       RULES_ALLOW, 0);
	EXPECT("block domain=example.com\n", &evince, "example.com",
	       RULES_BLOCK, 1);
	EXPECT("block domain=example.com\n", &evince, "notexample.com",
	       RULES_ALLOW, 0);
	EXPECT("block domain=www.example.com\n", &evince, "example.com",
	       RULES_ALLOW, 0);
	EXPECT("block wildcard=ads*.example.com\n", &evince, "ads.example.com",
	       RULES_BLOCK, 1);
	EXPECT("block wildcard=ads*.example.com\n", &evince,
	       "ads7.cdn.example.com", RULES_BLOCK, 1);
	EXPECT("block wildcard=ads*.example.com\n", &evince,
	       "www.ads.example.com", RULES_ALLOW, 0);
	EXPECT("block list=ads\n", &evince, "x.ads.example", RULES_BLOCK, 1);
	EXPECT("block list=ads\n", &evince, "ads.example.org", RULES_ALLOW, 0);
}

static void
test_action_and_order(void)
{
	EXPECT("allow name=x.example\nblock name=x.example\n", &evince,
	       "x.example", RULES_BLOCK, 2);
	EXPECT("block name=x.example\nallow name=x.example\n", &evince,
	       "x.example", RULES_BLOCK, 1);
	/* ask before allow: an ask rule decides, standing for the default
	 * (here the built-in allow, then a default block). */
	EXPECT("allow name=x.example\nask name=x.example\n", &evince,
	       "x.example", RULES_ALLOW, 2);
	EXPECT("allow name=x.example\nask name=x.example\ndefault block\n",
	       &evince, "x.example", RULES_BLOCK, 2);
	EXPECT("ask name=x.example\nblock name=x.example\n", &evince,
	       "x.example", RULES_BLOCK, 2);
	/* All else equal, the rule read first. */
	EXPECT("block name=x.example\nblock name=x.example\n", &evince,
	       "x.example", RULES_BLOCK, 1);
	EXPECT("allow domain=example\nallow domain=example\n", &evince,
	       "x.example", RULES_ALLOW, 1);
	EXPECT("allow app-id=org.gnome.Evince name=x.example\n"
	       "allow app=app:org.gnome.Evince name=x.example\n"
	       "allow app-id=org.gnome.Evince name=x.example\n",
	       &evince, "x.example", RULES_ALLOW, 2);
}

/* An allow in the owned file (an answer at a prompt, dnsgatectl allow)
 * answers an ask rule as specific as it; a block still beats it, and an
 * allow of another file does not. */
static void
test_owned_answers_ask(void)
{
	struct rules_file_ctx ctx = {find_list, NULL, NOW};
	const char *x = "x.example";
	struct rules_verdict v;
	struct rule_book book;
	struct rules *r;
	char err[256];

	rule_book_init(&book);
	CHECK(rules_file_parse(&book, "ask name=*\ndefault block\n", 25,
			       "/etc/dnsgate/rules.d/10-ask.rules", &ctx, err,
			       sizeof err) >= 0);
	CHECK(rules_file_parse(&book, "allow name=*\n", 13,
			       "/etc/dnsgate/rules.d/" RULES_OWNED_FILE, &ctx,
			       err, sizeof err) >= 0);
	r = rules_new(&book, lists, 3);
	{
		struct rules_asker *a = rules_asker_new(r, &evince, evince.uid);

		CHECK_INT(rules_decide(r, a, &x, 1, 1, NOW, &v), RULES_ALLOW);
		CHECK(!v.asked);
		rules_asker_free(a);
	}
	rules_free(r);
	rule_book_free(&book);
	/* The same allow in another file: the ask decides (its default). */
	EXPECT("ask name=*\ndefault block\nallow name=*\n", &evince, x,
	       RULES_BLOCK, 1);
	/* A block in the owned file still beats an allow there. */
	rule_book_init(&book);
	CHECK(rules_file_parse(&book, "allow name=*\nblock name=*\n", 26,
			       "/x/" RULES_OWNED_FILE, &ctx, err,
			       sizeof err) >= 0);
	r = rules_new(&book, lists, 3);
	{
		struct rules_asker *a = rules_asker_new(r, &evince, evince.uid);

		CHECK_INT(rules_decide(r, a, &x, 1, 1, NOW, &v), RULES_BLOCK);
		rules_asker_free(a);
	}
	rules_free(r);
	rule_book_free(&book);
}

static void
test_defaults(void)
{
	struct engine e;
	struct rules_verdict v;
	const char *name = "x.example";

	EXPECT("", &evince, "x.example", RULES_ALLOW, 0);
	EXPECT("default block\n", &evince, "x.example", RULES_BLOCK, 1);
	EXPECT("default allow\n", &evince, "x.example", RULES_ALLOW, 1);
	/* The default of the most specific app. */
	EXPECT("default block\ndefault allow app=flatpak:org.mozilla.firefox\n",
	       &firefox, "x.example", RULES_ALLOW, 2);
	EXPECT("default block\ndefault allow app=flatpak:org.mozilla.firefox\n",
	       &evince, "x.example", RULES_BLOCK, 1);
	EXPECT("default allow unit=backup.service\n"
	       "default block cgroup=/system.slice\n",
	       &backup, "x.example", RULES_ALLOW, 1);
	EXPECT("default allow uid=0\ndefault block unit=backup.service\n",
	       &backup, "x.example", RULES_BLOCK, 2);
	/* Block before allow, for the same app, in either order. */
	EXPECT("default allow\ndefault block\n", &evince, "x.example",
	       RULES_BLOCK, 2);
	EXPECT("default block\ndefault allow\n", &evince, "x.example",
	       RULES_BLOCK, 1);
	/* "default ask" is skipped. */
	EXPECT("default ask\n", &evince, "x.example", RULES_ALLOW, 0);
	EXPECT("default block\ndefault ask app=app:org.gnome.Evince\n", &evince,
	       "x.example", RULES_BLOCK, 1);
	/* A default past its time is gone. */
	EXPECT("default block until=2020-01-01\n", &evince, "x.example",
	       RULES_ALLOW, 0);
	/* Any rule naming the name comes before a default, also one of a
	 * more specific app. */
	EXPECT("default block app=app:org.gnome.Evince\nallow name=x.example\n",
	       &evince, "x.example", RULES_ALLOW, 2);
	EXPECT("default allow app=app:org.gnome.Evince\nblock list=ads\n",
	       &evince, "ads.example", RULES_BLOCK, 2);

	/* An ask rule stands for the app's default, and says which. */
	if (engine_load(&e, "default block unit=backup.service\n"
	                    "ask name=x.example\n")) {
		CHECK_INT(decide(&e, &backup, &name, 1, NOW, &v), RULES_BLOCK);
		CHECK(v.asked);
		CHECK(v.rule != NULL && v.rule->line == 2);
		CHECK(v.default_rule != NULL && v.default_rule->line == 1);
		CHECK_INT(decide(&e, &evince, &name, 1, NOW, &v), RULES_ALLOW);
		CHECK(v.asked);
		CHECK(v.default_rule == NULL);
		CHECK_STR(v.name, "x.example");
		engine_free(&e);
	}
	/* A default that decides is the verdict's rule, and not asked. */
	if (engine_load(&e, "default block\n")) {
		CHECK_INT(decide(&e, &evince, &name, 1, NOW, &v), RULES_BLOCK);
		CHECK(v.rule != NULL && v.rule->is_default);
		CHECK(!v.asked);
		CHECK(v.name == NULL);
		engine_free(&e);
	}
}

/* A rule made by hand: rule_book_add. */
static void
test_expiry(void)
{
	struct rule_book book;
	struct rule r;
	struct rules *rs;
	struct rules_asker *a;
	struct rules_verdict v;
	const char *name = "x.example";

	rule_book_init(&book);
	memset(&r, 0, sizeof r);
	r.action = RULE_BLOCK;
	r.dest = RULE_DEST_NAME;
	r.dest_value = (char *)"x.example";
	r.until = NOW + 60;
	r.line = 1;
	CHECK(rule_book_add(&book, &r, "hand") != NULL);
	r.action = RULE_ALLOW;
	r.until = NOW - 1; /* already past */
	r.line = 2;
	rule_book_add(&book, &r, "hand");
	rs = rules_new(&book, lists, 3);
	a = rules_asker_new(rs, &evince, 1000);
	/* Live, then gone between two calls, the index the same. */
	CHECK_INT(rules_decide(rs, a, &name, 1, 1, NOW, &v), RULES_BLOCK);
	CHECK(v.rule == &book.rules[0]);
	CHECK_INT(rules_decide(rs, a, &name, 1, 1, NOW + 59, &v), RULES_BLOCK);
	CHECK_INT(rules_decide(rs, a, &name, 1, 1, NOW + 60, &v), RULES_ALLOW);
	CHECK(v.rule == NULL);
	rules_asker_free(a);
	rules_free(rs);
	rule_book_free(&book);

	/* until= in the past, from a file: as if it were not written. */
	EXPECT("block name=x.example until=2020-01-01\n", &evince, "x.example",
	       RULES_ALLOW, 0);
	EXPECT("allow name=x.example\nblock name=x.example until=2020-01-01\n",
	       &evince, "x.example", RULES_ALLOW, 1);
	/* An expired rule does not hide the one it outranked. */
	EXPECT("block domain=example\nallow name=x.example until=2020-01-01\n",
	       &evince, "x.example", RULES_BLOCK, 1);
	EXPECT("block name=x.example until=2030-01-01\n", &evince, "x.example",
	       RULES_BLOCK, 1);
}

static void
test_cname_chains(void)
{
	const char *names[] = {"www.site.example", "edge.site.example",
	                       "site.cdn-ads.example.net"};
	struct engine e;
	struct rules_verdict v;

	/* Only the default allowed the qname: a listed chain name blocks. */
	if (engine_load(&e, "block list=ads\n")) {
		CHECK_INT(decide(&e, &firefox, names, 3, NOW, &v), RULES_BLOCK);
		CHECK(v.rule != NULL && v.rule->line == 1);
		CHECK(v.name == names[2]);
		CHECK_STR(v.entry, "cdn-ads.example.net");
		/* The qname alone is allowed. */
		CHECK_INT(decide(&e, &firefox, names, 1, NOW, &v), RULES_ALLOW);
		engine_free(&e);
	}
	if (engine_load(&e, "default allow\nblock list=ads\n")) {
		CHECK_INT(decide(&e, &firefox, names, 3, NOW, &v), RULES_BLOCK);
		engine_free(&e);
	}
	/* An app's own allow of the qname outranks the list on its chain;
	 * not for another app. */
	if (engine_load(&e, "block list=ads\n"
	                    "allow app=flatpak:org.mozilla.firefox "
	                    "name=www.site.example\n")) {
		CHECK_INT(decide(&e, &firefox, names, 3, NOW, &v), RULES_ALLOW);
		CHECK(v.rule != NULL && v.rule->line == 2);
		CHECK(v.name == names[0]);
		CHECK(v.entry == NULL);
		CHECK_INT(decide(&e, &evince, names, 3, NOW, &v), RULES_BLOCK);
		engine_free(&e);
	}
	/* The most specific match over all the names: a name= of a chain
	 * name outranks a domain= of the qname. */
	if (engine_load(&e, "allow domain=site.example\n"
	                    "block name=edge.site.example\n")) {
		CHECK_INT(decide(&e, &evince, names, 3, NOW, &v), RULES_BLOCK);
		CHECK(v.name == names[1]);
		engine_free(&e);
	}
	/* More than eight names. */
	{
		const char *many[12];
		size_t i;

		for (i = 0; i < 11; i++)
			many[i] = "hop.site.example";
		many[11] = "x.ads.example";
		if (engine_load(&e, "block list=ads\n")) {
			CHECK_INT(decide(&e, &evince, many, 12, NOW, &v),
			          RULES_BLOCK);
			CHECK(v.name == many[11]);
			engine_free(&e);
		}
	}
}

/* The exe globs a program matched are remembered per exe: asked again,
 * in between by others (some in the same memo slot, 40 programs for
 * its 16), every asker gets the decision a fresh engine gives. */
static void
test_exe_glob_memo(void)
{
	static const char text[] =
	    "block exe=/usr/bin/cur* name=a.example\n"
	    "allow exe=/usr/*/curl name=a.example\n"
	    "block exe=/usr/lib/* name=b.example\n"
	    "block exe=/opt/p1? name=c.example\n";
	struct engine e;
	struct app_identity id;
	struct rules_verdict v;
	const char *a = "a.example", *b = "b.example", *c = "c.example";
	char exe[64];
	int round, k;

	if (!engine_load(&e, text))
		return;
	for (round = 0; round < 3; round++) {
		CHECK_INT(decide(&e, &session, &a, 1, NOW, &v), RULES_BLOCK);
		CHECK_INT(v.rule != NULL ? v.rule->line : 0, 1);
		for (k = 0; k < 40; k++) {
			snprintf(exe, sizeof exe, "/opt/p%d", k);
			make_id(&id, "/user.slice/user-1000.slice/session-2.scope",
			        exe, 1000);
			CHECK_INT(decide(&e, &id, &c, 1, NOW, &v),
			          k >= 10 && k < 20 ? RULES_BLOCK : RULES_ALLOW);
			CHECK_INT(decide(&e, &id, &a, 1, NOW, &v), RULES_ALLOW);
		}
		make_id(&id, "/user.slice/user-1000.slice/session-2.scope",
		        "/usr/lib/curl", 1000);
		CHECK_INT(decide(&e, &id, &a, 1, NOW, &v), RULES_ALLOW);
		CHECK_INT(v.rule != NULL ? v.rule->line : 0, 2);
		CHECK_INT(decide(&e, &id, &b, 1, NOW, &v), RULES_BLOCK);
		CHECK_INT(decide(&e, &evince, &b, 1, NOW, &v), RULES_ALLOW);
	}
	engine_free(&e);
}

/* The exe is not known (no pid): exe= rules cannot be judged. */
static void
test_exe_unknown(void)
{
	struct engine e;
	struct rules_asker *a;

	if (engine_load(&e, "block exe=/usr/bin/curl name=x.example\n")) {
		a = rules_asker_new(e.r, &session_no_exe, 1000);
		CHECK(rules_asker_exe_unknown(a));
		rules_asker_free(a);
		a = rules_asker_new(e.r, &session, 1000);
		CHECK(!rules_asker_exe_unknown(a));
		rules_asker_free(a);
		engine_free(&e);
	}
	/* An app= key with the program joined in is an exe rule too: the
	 * login's key without its program could be that one. */
	EXPECT("block app=session:1000:/usr/bin/curl name=*\n", &session,
	       "x.example", RULES_BLOCK, 1);
	EXPECT("block app=session:1000:/usr/bin/curl name=*\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 0);
	EXPECT("default block app=session:1000:/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 0);
	EXPECT("block app=session:1000:/usr/bin/curl name=other.example\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 0);
	EXPECT("allow app=session:1000:/usr/bin/curl name=*\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 0);
	EXPECT("block app=session:10000:/usr/bin/curl name=*\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 0);
	/* An exe rule that would flip the outcome: undecided. */
	EXPECT("block exe=/usr/bin/curl name=x.example\n", &session_no_exe,
	       "x.example", RULES_UNDECIDED, 0);
	EXPECT("block exe=/usr/bin/* name=x.example\n", &session_no_exe,
	       "x.example", RULES_UNDECIDED, 0);
	EXPECT("allow uid=1000 domain=example\n"
	       "block exe=/usr/bin/curl name=x.example\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 1);
	/* ...also over a default of an app more specific than exe=: with
	 * the exe known, the exe rule names the name and the default does
	 * not count. */
	EXPECT("default block unit=session-2.scope\n"
	       "allow exe=/usr/bin/curl name=x.example\n",
	       &session, "x.example", RULES_ALLOW, 2);
	EXPECT("default block unit=session-2.scope\n"
	       "allow exe=/usr/bin/curl name=x.example\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 1);
	EXPECT("default block cgroup=/user.slice\n"
	       "allow exe=/usr/bin/curl domain=example\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 1);
	/* An exe rule that agrees, or that cannot outrank: decided. */
	EXPECT("allow exe=/usr/bin/curl name=x.example\n", &session_no_exe,
	       "x.example", RULES_ALLOW, 0);
	EXPECT("block uid=1000 name=x.example\n"
	       "block exe=/usr/bin/curl name=x.example\n",
	       &session_no_exe, "x.example", RULES_BLOCK, 1);
	EXPECT("allow app=session:1000 name=x.example\n"
	       "block exe=/usr/bin/curl name=x.example\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 1);
	EXPECT("allow unit=session-2.scope domain=example\n"
	       "block exe=/usr/bin/curl name=x.example\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 1);
	EXPECT("block exe=/usr/bin/curl name=x.example\n", &session_no_exe,
	       "y.example", RULES_ALLOW, 0);
	EXPECT("block exe=/usr/bin/curl name=x.example until=2020-01-01\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 0);
	/* An exe default: it decides when no rule names the name. */
	EXPECT("default block exe=/usr/bin/curl\n", &session, "x.example",
	       RULES_BLOCK, 1);
	EXPECT("default block exe=/usr/bin/curl\n", &session_no_exe,
	       "x.example", RULES_UNDECIDED, 0);
	EXPECT("default block\ndefault block exe=/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_BLOCK, 1);
	EXPECT("default block exe=/usr/bin/curl\nallow name=x.example\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 2);
	EXPECT("default allow app=session:1000\n"
	       "default block exe=/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 1);
	/* ...and an ask rule stands for it. */
	EXPECT("ask name=x.example\ndefault block exe=/usr/bin/curl\n",
	       &session, "x.example", RULES_BLOCK, 1);
	EXPECT("ask name=x.example\ndefault block exe=/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 1);
	/* An exe ask rule that would outrank, standing for an exe default. */
	EXPECT("allow uid=1000 name=x.example\n"
	       "ask exe=/usr/bin/curl name=x.example\n"
	       "default block exe=/usr/bin/curl\n",
	       &session, "x.example", RULES_BLOCK, 2);
	EXPECT("allow uid=1000 name=x.example\n"
	       "ask exe=/usr/bin/curl name=x.example\n"
	       "default block exe=/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_UNDECIDED, 1);
	EXPECT("allow uid=1000 name=x.example\n"
	       "ask exe=/usr/bin/curl name=x.example\n"
	       "default allow exe=/usr/bin/curl\n",
	       &session_no_exe, "x.example", RULES_ALLOW, 1);
}

struct trail {
	unsigned lines[16];
	bool expired[16], decided[16];
	size_t n;
};

static void
on_trail(void *arg, const struct rule *rule, const char *name,
         const char *entry, bool expired, bool decided)
{
	struct trail *t = arg;

	(void)name;
	(void)entry;
	if (t->n < 16) {
		t->lines[t->n] = rule->line;
		t->expired[t->n] = expired;
		t->decided[t->n] = decided;
	}
	t->n++;
}

static void
test_explain(void)
{
	static const unsigned want[] = {3, 4, 2, 1, 6, 5};
	struct engine e;
	struct trail t;
	struct rules_verdict v, dv;
	struct rules_asker *a;
	const char *name = "www.example.com";
	size_t i, decided = 0;

	if (!engine_load(&e, "allow name=*\n"
	                     "block domain=example.com\n"
	                     "allow app=flatpak:org.mozilla.firefox "
	                     "domain=www.example.com\n"
	                     "block name=www.example.com until=2020-01-01\n"
	                     "default block\n"
	                     "default allow app=flatpak:org.mozilla.firefox\n"
	                     "block app=app:org.gnome.Evince name=*\n"))
		return;
	memset(&t, 0, sizeof t);
	a = rules_asker_new(e.r, &firefox, 1000);
	CHECK_INT(rules_explain(e.r, a, &name, 1, 1, NOW, on_trail, &t, &v),
	          RULES_ALLOW);
	CHECK_INT(rules_decide(e.r, a, &name, 1, 1, NOW, &dv), RULES_ALLOW);
	CHECK(v.rule == dv.rule && v.rule != NULL && v.rule->line == 3);
	CHECK_INT(t.n, 6);
	for (i = 0; i < 6 && i < t.n; i++) {
		CHECK_INT(t.lines[i], want[i]);
		CHECK_INT(t.expired[i], want[i] == 4);
		decided += t.decided[i];
	}
	CHECK_INT(t.decided[0], 1);
	CHECK_INT(decided, 1);
	rules_asker_free(a);

	/* The default decides: it is the one marked. */
	name = "other.test";
	memset(&t, 0, sizeof t);
	a = rules_asker_new(e.r, &backup, 0);
	CHECK_INT(rules_explain(e.r, a, &name, 1, 1, NOW, on_trail, &t, &v),
	          RULES_ALLOW);
	CHECK_INT(t.n, 2); /* name=*, default block */
	if (t.n == 2) {
		CHECK_INT(t.lines[0], 1);
		CHECK_INT(t.decided[0], 1);
		CHECK_INT(t.lines[1], 5);
		CHECK_INT(t.decided[1], 0);
	}
	rules_asker_free(a);
	engine_free(&e);

	if (engine_load(&e, "default block\ndefault ask\n")) {
		memset(&t, 0, sizeof t);
		a = rules_asker_new(e.r, &backup, 0);
		CHECK_INT(
		    rules_explain(e.r, a, &name, 1, 1, NOW, on_trail, &t, &v),
		    RULES_BLOCK);
		/* Every default for the app, "default ask" too. */
		CHECK_INT(t.n, 2);
		CHECK_INT(t.lines[0], 1);
		CHECK_INT(t.decided[0], 1);
		CHECK_INT(t.decided[1], 0);
		rules_asker_free(a);
		engine_free(&e);
	}
}

struct nets {
	unsigned lines[8];
	uint32_t left[8];
	size_t n;
};

static void
on_net(void *arg, const struct rule *rule, uint32_t seconds_left)
{
	struct nets *x = arg;

	if (x->n < 8) {
		x->lines[x->n] = rule->line;
		x->left[x->n] = seconds_left;
	}
	x->n++;
}

static void
test_nets(void)
{
	struct engine e;
	struct nets x;
	struct rules_asker *a;
	size_t i;
	bool unit = false, any = false;

	if (engine_load(&e, "allow name=*\n")) {
		CHECK(!rules_have_nets(e.r));
		engine_free(&e);
	}
	if (!engine_load(&e, "allow unit=backup.service net=203.0.113.0/24\n"
	                     "allow net=192.0.2.0/24 for=1h\n"
	                     "allow uid=1000 net=198.51.100.0/24\n"
	                     "allow app=flatpak:org.mozilla.firefox "
	                     "net=2001:db8::/32\n"
	                     "allow net=192.0.2.128/25 until=2020-01-01\n"
	                     "allow unit=backup.service name=x.example\n"))
		return;
	CHECK(rules_have_nets(e.r));
	memset(&x, 0, sizeof x);
	a = rules_asker_new(e.r, &backup, 0);
	rules_nets(e.r, a, NOW, on_net, &x);
	CHECK_INT(x.n, 2);
	for (i = 0; i < x.n && i < 8; i++) {
		if (x.lines[i] == 1)
			unit = x.left[i] == 0;
		if (x.lines[i] == 2)
			any = x.left[i] == 3600;
	}
	CHECK(unit);
	CHECK(any);
	/* Later, the for=1h one has less left, then none. */
	memset(&x, 0, sizeof x);
	rules_nets(e.r, a, NOW + 3000, on_net, &x);
	CHECK_INT(x.n, 2);
	for (i = 0; i < x.n && i < 8; i++)
		if (x.lines[i] == 2)
			CHECK_INT(x.left[i], 600);
	memset(&x, 0, sizeof x);
	rules_nets(e.r, a, NOW + 3600, on_net, &x);
	CHECK_INT(x.n, 1);
	rules_asker_free(a);
	/* A user's app: its own, its uid's, every app's. */
	memset(&x, 0, sizeof x);
	a = rules_asker_new(e.r, &firefox, 1000);
	rules_nets(e.r, a, NOW, on_net, &x);
	CHECK_INT(x.n, 3);
	rules_asker_free(a);
	engine_free(&e);
}

static void
test_names(void)
{
	char n253[300], n254[320];
	size_t i;

	/* Case and one trailing dot do not count, in rules or queries. */
	EXPECT("block name=WWW.Example.com\n", &evince, "www.EXAMPLE.com.",
	       RULES_BLOCK, 1);
	EXPECT("block domain=example.com.\n", &evince, "A.B.EXAMPLE.COM.",
	       RULES_BLOCK, 1);
	EXPECT("block wildcard=ads*.example.com\n", &evince,
	       "ADS1.Example.Com.", RULES_BLOCK, 1);
	EXPECT("block list=ads\n", &evince, "X.ADS.EXAMPLE.", RULES_BLOCK, 1);
	EXPECT("block name=x.example\n", &evince, "x.example..", RULES_ALLOW,
	       0);
	EXPECT("block name=x.example\n", &evince, "", RULES_ALLOW, 0);
	EXPECT("block name=x.example\n", &evince, ".", RULES_ALLOW, 0);

	/* 253 characters: a name; 254: none (only name=* and defaults). */
	for (i = 0; i < 253; i++)
		n253[i] = (i + 1) % 50 == 0 ? '.' : 'a';
	memcpy(n253 + 253 - 8, ".example", 8);
	n253[253] = '\0';
	snprintf(n254, sizeof n254, "b%s", n253);
	CHECK_INT(strlen(n253), 253);
	CHECK_INT(strlen(n254), 254);
	EXPECT("block domain=example\n", &evince, n253, RULES_BLOCK, 1);
	{
		char dotted[300];

		snprintf(dotted, sizeof dotted, "%s.", n253);
		EXPECT("block domain=example\n", &evince, dotted, RULES_BLOCK,
		       1);
	}
	EXPECT("block domain=example\n", &evince, n254, RULES_ALLOW, 0);
	EXPECT("block wildcard=*example\n", &evince, n254, RULES_ALLOW, 0);
	EXPECT("block domain=example\ndefault block\n", &evince, n254,
	       RULES_BLOCK, 2);
	EXPECT("block name=*\n", &evince, n254, RULES_BLOCK, 1);
}

/* 10,000 rules over 10,000 Flatpak apps, and a default block. */
static void
test_many_apps(void)
{
	enum { APPS = 10000 };
	size_t cap = (size_t)APPS * 80, len = 0, i;
	char *text = malloc(cap);
	struct engine e;
	struct timespec t0, t1;
	static const unsigned probe[] = {0, 1, 4999, 7777, 9999};

	if (text == NULL)
		return;
	for (i = 0; i < APPS; i++)
		len += (size_t)snprintf(text + len, cap - len,
		                        "allow app=flatpak:org.app%zu "
		                        "domain=site%zu.example\n",
		                        i, i);
	snprintf(text + len, cap - len, "default block\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (!engine_load(&e, text)) {
		free(text);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	fprintf(stderr, "measured: %d apps' rules read and indexed in %.3f s\n",
	        APPS,
	        (double)(t1.tv_sec - t0.tv_sec) +
	            (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	for (i = 0; i < sizeof probe / sizeof probe[0]; i++) {
		struct app_identity id;
		struct rules_verdict v;
		char path[256], own[64], other[64];
		const char *name;

		snprintf(path, sizeof path,
		         USER_APPS "app-flatpak-org.app%u-99.scope", probe[i]);
		make_id(&id, path, "/app/bin/run", 1000);
		snprintf(own, sizeof own, "www.site%u.example", probe[i]);
		snprintf(other, sizeof other, "site%u.example",
		         (probe[i] + 1) % APPS);
		name = own;
		CHECK_INT(decide(&e, &id, &name, 1, NOW, &v), RULES_ALLOW);
		CHECK(v.rule != NULL && v.rule->line == probe[i] + 1);
		name = other;
		CHECK_INT(decide(&e, &id, &name, 1, NOW, &v), RULES_BLOCK);
		CHECK(v.rule != NULL && v.rule->is_default);
		/* Another app does not get this one's allow. */
		name = own;
		CHECK_INT(decide(&e, &evince, &name, 1, NOW, &v), RULES_BLOCK);
	}
	engine_free(&e);
	free(text);
}

/* --- places ------------------------------------------------------------- */

/* The place rules of text judge an address at country/continent/asn for
 * who: outcome by the rule of line `line' (0: none). */
static void
place_at(int at, const char *text, const struct app_identity *who,
         const char *country, const char *continent, uint32_t asn, int64_t now,
         enum rules_outcome outcome, unsigned line)
{
	struct engine e;
	struct rules_asker *a;
	const struct rule *rule;
	struct rules_place pl = {country, continent, asn};
	enum rules_outcome got;
	unsigned got_line;

	if (!engine_load(&e, text))
		return;
	a = rules_asker_new(e.r, who, who->uid);
	got = rules_place(e.r, a, &pl, now, &rule);
	got_line = rule ? rule->line : 0;
	check_count++;
	if (got != outcome || got_line != line) {
		check_failures++;
		fprintf(stderr,
		        "%s:%d: %s at %s/%s/AS%u: %s by line %u, expected %s "
		        "by line %u; rules:\n%s\n",
		        __FILE__, at, who->key, country, continent,
		        (unsigned)asn, outcome_name(got), got_line,
		        outcome_name(outcome), line, text);
	}
	rules_asker_free(a);
	engine_free(&e);
}
#define PLACE(text, who, cc, cont, asn, outcome, line)                         \
	place_at(__LINE__, text, who, cc, cont, asn, NOW, outcome, line)

/* Appends "LINE " (x: expired) to the string arg. */
static void
on_place_line(void *arg, const struct rule *rule, bool expired)
{
	char *out = arg;

	snprintf(out + strlen(out), 64 - strlen(out), "%u%s ", rule->line,
	         expired ? "x" : "");
}

static void
test_places(void)
{
	const char *names[] = {"www.example.com"};
	struct engine e;
	struct rules_verdict v;

	/* A country, a list of them, a continent, an ASN. */
	PLACE("block country=CN\n", &firefox, "CN", "AS", 64501, RULES_BLOCK,
	      1);
	PLACE("block country=CN\n", &firefox, "NL", "EU", 64500, RULES_ALLOW,
	      0);
	PLACE("block country=ru,CN\n", &firefox, "CN", "AS", 0, RULES_BLOCK, 1);
	PLACE("block country=RU,CN\n", &firefox, "RU", "EU", 0, RULES_BLOCK, 1);
	PLACE("block country=RU,CN\n", &firefox, "UA", "EU", 0, RULES_ALLOW, 0);
	PLACE("block continent=AS\n", &firefox, "JP", "AS", 0, RULES_BLOCK, 1);
	PLACE("block asn=AS64501\n", &firefox, "", "", 64501, RULES_BLOCK, 1);
	PLACE("block asn=64501\n", &firefox, "NL", "EU", 64500, RULES_ALLOW, 0);
	/* Nothing known matches nothing. */
	PLACE("block country=CN\nblock asn=1\n", &firefox, "", "", 0,
	      RULES_ALLOW, 0);
	/* Per app: another app is not held to it. */
	PLACE("block app=flatpak:org.mozilla.firefox country=CN\n", &firefox,
	      "CN", "AS", 0, RULES_BLOCK, 1);
	PLACE("block app=flatpak:org.mozilla.firefox country=CN\n", &evince,
	      "CN", "AS", 0, RULES_ALLOW, 0);
	/* The most specific app first, whatever the action or order. */
	PLACE("block country=CN\nallow app=flatpak:org.mozilla.firefox "
	      "country=CN\n",
	      &firefox, "CN", "AS", 0, RULES_ALLOW, 2);
	PLACE("allow app=flatpak:org.mozilla.firefox continent=AS\n"
	      "block country=CN\n",
	      &firefox, "CN", "AS", 0, RULES_ALLOW, 1);
	PLACE("allow country=CN\nblock uid=1000 country=CN\n", &firefox, "CN",
	      "AS", 0, RULES_BLOCK, 2);
	/* Then an ASN before a country before a continent. */
	PLACE("block continent=AS\nallow country=JP\n", &firefox, "JP", "AS", 0,
	      RULES_ALLOW, 2);
	PLACE("block continent=AS\nallow country=JP\n", &firefox, "CN", "AS", 0,
	      RULES_BLOCK, 1);
	PLACE("allow country=CN\nblock asn=64501\n", &firefox, "CN", "AS",
	      64501, RULES_BLOCK, 2);
	PLACE("block country=CN\nallow asn=64501\n", &firefox, "CN", "AS",
	      64501, RULES_ALLOW, 2);
	/* Then block before allow. */
	PLACE("allow country=CN\nblock country=CN\n", &firefox, "CN", "AS", 0,
	      RULES_BLOCK, 2);
	/* until= as for names. */
	PLACE("block country=CN until=2026-01-01\n", &firefox, "CN", "AS", 0,
	      RULES_ALLOW, 0);
	PLACE("block country=CN until=2027-01-01\n", &firefox, "CN", "AS", 0,
	      RULES_BLOCK, 1);
	/* An exe not known: a block naming a program holds, an allow naming
	 * one does not. */
	PLACE("block exe=/usr/bin/curl country=CN\n", &session_no_exe, "CN",
	      "AS", 0, RULES_BLOCK, 1);
	PLACE("block country=CN\nallow exe=/usr/bin/curl country=CN\n",
	      &session_no_exe, "CN", "AS", 0, RULES_BLOCK, 1);
	PLACE("block country=CN\nallow exe=/usr/bin/curl country=CN\n",
	      &session, "CN", "AS", 0, RULES_ALLOW, 2);
	PLACE("block exe=/usr/bin/curl country=CN\n", &evince, "CN", "AS", 0,
	      RULES_ALLOW, 0);

	/* Place rules never decide a name, nor a name rule a place. */
	if (engine_load(&e, "block country=CN\nblock name=*\n")) {
		struct rules_asker *a = rules_asker_new(e.r, &firefox, 1000);
		const struct rule *rule;

		CHECK_INT(decide(&e, &firefox, names, 1, NOW, &v), RULES_BLOCK);
		CHECK(v.rule != NULL && v.rule->line == 2);
		CHECK(rules_have_places(e.r));
		CHECK_INT(rules_place(e.r, a,
		                      &(struct rules_place){"NL", "EU", 0}, NOW,
		                      &rule),
		          RULES_ALLOW);
		CHECK(rule == NULL);
		rules_asker_free(a);
		engine_free(&e);
	}
	if (engine_load(&e, "block country=CN\n")) {
		CHECK_INT(decide(&e, &firefox, names, 1, NOW, &v), RULES_ALLOW);
		CHECK(v.rule == NULL);
		engine_free(&e);
	}
	/* Listed for explain in the order they are weighed. */
	if (engine_load(&e, "block continent=AS\n"
	                    "allow app=flatpak:org.mozilla.firefox country=CN\n"
	                    "block app=app:org.gnome.Evince country=CN\n"
	                    "allow asn=64500\n"
	                    "block country=RU until=2026-01-01\n"
	                    "block name=*\n")) {
		struct rules_asker *a = rules_asker_new(e.r, &firefox, 1000);
		char order[64] = "";

		rules_places(e.r, a, NOW, on_place_line, order);
		CHECK_STR(order, "2 4 5x 1 ");
		rules_asker_free(a);
		engine_free(&e);
	}
	if (engine_load(&e, "block name=*\n")) {
		CHECK(!rules_have_places(e.r));
		engine_free(&e);
	}
}

int
main(void)
{
	make_ids();
	make_lists();
	test_app_precedence();
	test_dest_precedence();
	test_action_and_order();
	test_owned_answers_ask();
	test_defaults();
	test_expiry();
	test_cname_chains();
	test_exe_unknown();
	test_exe_glob_memo();
	test_explain();
	test_nets();
	test_names();
	test_many_apps();
	test_places();
	list_filter_free(ads);
	list_filter_free(short_list);
	list_filter_free(long_list);
	return check_exit();
}
