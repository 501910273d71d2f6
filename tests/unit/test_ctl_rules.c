/* test_ctl_rules.c - unit tests for src/ctl_rules.c: the requests the
 * rules commands send (rules, rules add, rules delete, allow and block
 * with --app and for=, pause, resume), usage errors, and the replies
 * printed for people. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/ctl_rules.h"
#include "src/json.h"
#include "tests/unit/check.h"

static char buf[8192], err[256];
static ctl_print_fn *print;

static int
req(int argc, const char **argv)
{
	buf[0] = err[0] = '\0';
	print = NULL;
	return ctl_rules_request(argc, (char **)argv, buf, sizeof buf, &print,
	                         err, sizeof err);
}

/* The string member key of the request made, or "" */
static const char *
member(const char *key)
{
	static char out[4200];

	if (json_flat_get_string(buf, strlen(buf), key, out, sizeof out) < 0)
		out[0] = '\0';
	return out;
}

static void
test_requests(void)
{
	const char *rules[] = {"rules"};
	const char *list_app[] = {"rules", "list", "--app", "firefox"};
	const char *app[] = {"rules", "--app", "firefox"};
	const char *add[] = {"rules", "add", "block", "app=a:b",
	                     "domain=example.com"};
	const char *del[] = {"rules", "delete", "3f9a0c12"};
	const char *block[] = {"block", "--app", "flatpak:org.x", "ads.example",
	                       "for=1h"};
	const char *allow[] = {"allow", "domain=example.com"};
	const char *exe[] = {"allow", "--app", "exe=/usr/bin/curl",
	                     "a.example"};
	const char *pause[] = {"pause", "3s"};
	const char *forever[] = {"pause"};
	const char *resume[] = {"resume"};

	CHECK_INT(req(1, rules), 0);
	CHECK_STR(member("command"), "rules");
	CHECK_STR(member("app"), "");
	CHECK(print != NULL);
	CHECK_INT(req(4, list_app), 0);
	CHECK_STR(member("app"), "firefox");
	CHECK_INT(req(3, app), 0);
	CHECK_STR(member("app"), "firefox");
	CHECK_INT(req(5, add), 0);
	CHECK_STR(member("command"), "rules-add");
	CHECK_STR(member("rule"), "block app=a:b domain=example.com");
	CHECK_INT(req(3, del), 0);
	CHECK_STR(member("command"), "rules-delete");
	CHECK_STR(member("id"), "3f9a0c12");
	CHECK_INT(req(5, block), 0);
	CHECK_STR(member("rule"), "block app=flatpak:org.x name=ads.example "
	                          "for=1h");
	CHECK_INT(req(2, allow), 0);
	CHECK_STR(member("rule"), "allow domain=example.com");
	CHECK_INT(req(4, exe), 0);
	CHECK_STR(member("rule"), "allow exe=/usr/bin/curl name=a.example");
	CHECK_INT(req(2, pause), 0);
	CHECK_STR(member("command"), "pause");
	CHECK_STR(member("duration"), "3s");
	CHECK_INT(req(1, forever), 0);
	CHECK_STR(member("duration"), "");
	CHECK_INT(req(1, resume), 0);
	CHECK_STR(member("command"), "resume");
}

static void
test_usage(void)
{
	const char *add[] = {"rules", "add"};
	const char *del[] = {"rules", "delete"};
	const char *what[] = {"rules", "frobnicate"};
	const char *block[] = {"block", "--app", "x"};
	const char *blank[] = {"block", "--app", "a b", "x.example"};
	const char *pause[] = {"pause", "1s", "2s"};
	static char big[6000];
	const char *huge[] = {"rules", "add", big};

	CHECK_INT(req(2, add), -1);
	CHECK(strstr(err, "usage") != NULL);
	CHECK_INT(req(2, del), -1);
	CHECK_INT(req(2, what), -1);
	CHECK_INT(req(3, block), -1);
	CHECK(strstr(err, "need a name") != NULL);
	CHECK_INT(req(4, blank), -1);
	CHECK_INT(req(3, pause), -1);
	memset(big, 'a', sizeof big - 1);
	CHECK_INT(req(3, huge), -1);
	CHECK(strstr(err, "too long") != NULL);
	CHECK(!ctl_rules_is_command("status"));
	CHECK(ctl_rules_is_command("block"));
}

/* What a person reads. */
static void
test_printing(void)
{
	char out[4096];
	FILE *f;
	const char *rules_reply =
	    "{\"file\":\"/etc/dnsgate/rules.d/90-dnsgatectl.rules\","
	    "\"rules\":[{\"id\":\"0badf00d\",\"origin\":\"/etc/dnsgate/"
	    "dnsgate.conf:3\",\"rule\":\"block list=ads\",\"file\":\"x\","
	    "\"line\":3,\"deletable\":false},{\"id\":\"3f9a0c12\",\"origin\":"
	    "\"/r/90-dnsgatectl.rules:7\",\"rule\":\"block exe=\\\"/a {b}\\\" "
	    "name=c\",\"file\":\"/r\",\"line\":7,\"deletable\":true}]}";
	const char *rules_cmd[] = {"rules"};
	const char *pause_cmd[] = {"pause"};

	CHECK_INT(req(1, rules_cmd), 0);
	f = fmemopen(out, sizeof out, "w");
	CHECK(f != NULL && print(f, rules_reply) == 0);
	fclose(f);
	CHECK(strstr(out, "0badf00d  no      block list=ads\n  /etc/dnsgate/"
	                  "dnsgate.conf:3\n") != NULL);
	CHECK(strstr(out, "3f9a0c12  yes     block exe=\"/a {b}\" name=c\n") !=
	      NULL);
	CHECK(strstr(out, "2 rules;") != NULL);
	CHECK_INT(req(1, pause_cmd), 0);
	f = fmemopen(out, sizeof out, "w");
	CHECK(f != NULL &&
	      print(f, "{\"paused\":true,\"paused_until\":\"resume\"}") == 0);
	fclose(f);
	CHECK(strstr(out, "until 'dnsgatectl resume'") != NULL);
}

int
main(void)
{
	test_requests();
	test_usage();
	test_printing();
	return check_exit();
}
