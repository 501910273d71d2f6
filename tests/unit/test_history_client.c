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

int
main(void)
{
	char *t;

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
