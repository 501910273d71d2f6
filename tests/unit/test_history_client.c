/* test_history_client.c - dnsgatectl log's table: a reply cut by the
 * limit says so, one whose query ran out of time says that instead
 * (with what to do), also when it found nothing. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/history_client.h"
#include "tests/unit/check.h"

/* What history_client_print prints for reply ("" when it fails). */
static char *
printed(const char *reply)
{
	struct history_client hc;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	int rc;

	memset(&hc, 0, sizeof hc);
	if (out == NULL)
		return strdup("");
	rc = history_client_print(&hc, out, reply);
	fclose(out);
	if (rc < 0)
		text[0] = '\0';
	return text;
}

#define RECORD                                                                 \
	"{\"kind\":\"rejected\",\"time_ms\":1796133600000,\"app\":\"app:a\","  \
	"\"cgroup\":\"/"                                                       \
	"a\",\"pid\":-1,\"uid\":-1,\"exe\":\"\",\"detail\":\"\","              \
	"\"dest\":\"203.0.113.7\",\"port\":443,\"protocol\":\"tcp\","          \
	"\"packets\":3}"

/* log -f: the request follows, the filters are kept for the client, and
 * a time range is refused (it follows from now). */
static void
test_follow(void)
{
	struct history_client hc;
	char buf[1024], err[256];
	char a0[] = "-f", a1[] = "--app", a2[] = "firefox", a3[] = "--blocked",
	     a4[] = "--since", a5[] = "today";
	char *argv[] = {a0, a1, a2, a3, a4, a5};
	const char rec_ff[] = "{\"kind\":\"query\",\"app\":\"flatpak:org."
			      "mozilla.firefox\",\"name\":\"ads.example\","
			      "\"decision\":\"block\"}";
	const char rec_ok[] = "{\"kind\":\"query\",\"app\":\"flatpak:org."
			      "mozilla.firefox\",\"name\":\"a.example\","
			      "\"decision\":\"allow\"}";
	const char rec_other[] = "{\"kind\":\"rejected\",\"app\":\"app:curl\","
				 "\"name\":\"\"}";

	CHECK_INT(history_client_request(4, argv, 1796133600000LL, &hc, buf,
					 sizeof buf, err, sizeof err), 0);
	CHECK(hc.follow && hc.blocked);
	CHECK_STR(hc.app, "firefox");
	CHECK(strstr(buf, "\"follow\":true") != NULL);
	CHECK(history_client_wants(&hc, rec_ff, strlen(rec_ff)));
	CHECK(!history_client_wants(&hc, rec_ok, strlen(rec_ok)));
	CHECK(!history_client_wants(&hc, rec_other, strlen(rec_other)));
	CHECK_INT(history_client_request(6, argv, 1796133600000LL, &hc, buf,
					 sizeof buf, err, sizeof err), -1);
	CHECK(strstr(err, "follows from now") != NULL);
}

int
main(void)
{
	char *t;

	test_follow();

	t = printed("{\"ok\":true,\"records\":[" RECORD
	            "],\"truncated\":true}");
	CHECK(strstr(t, "203.0.113.7") != NULL);
	CHECK(strstr(t, "more records match") != NULL);
	CHECK(strstr(t, "ran out of its time") == NULL);
	free(t);

	t = printed("{\"ok\":true,\"records\":[" RECORD "],\"truncated\":true,"
	            "\"timed_out\":true,\"reason\":\"...\"}");
	CHECK(strstr(t, "203.0.113.7") != NULL);
	CHECK(strstr(t, "ran out of its time in dnsgated") != NULL);
	CHECK(strstr(t, "--since/--until") != NULL);
	free(t);

	t = printed("{\"ok\":true,\"records\":[],\"truncated\":true,"
	            "\"timed_out\":true,\"reason\":\"...\"}");
	CHECK(strstr(t, "no records found before the query ran out of time") !=
	      NULL);
	CHECK(strstr(t, "no records match") == NULL);
	free(t);

	t = printed("{\"ok\":true,\"records\":[],\"truncated\":false}");
	CHECK(strstr(t, "no records match") != NULL);
	free(t);
	return check_exit();
}
