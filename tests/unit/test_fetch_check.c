/* test_fetch_check.c - which downloads may replace a list's copy. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "src/fetch_check.h"
#include "tests/unit/check.h"

static enum fetch_check_verdict
judge(long status, const char *ct, const char *body, bool have_copy,
      uint64_t copy_entries, unsigned max_shrink, uint64_t *entries,
      char *reason)
{
	struct fetch_check_input in;

	memset(&in, 0, sizeof in);
	in.http_status = status;
	in.content_type = ct;
	in.body = body;
	in.len = body ? strlen(body) : 0;
	in.have_copy = have_copy;
	in.copy_entries = copy_entries;
	in.max_shrink = max_shrink;
	return fetch_check(&in, entries, reason, 256);
}

static void
test_counting(void)
{
	CHECK_INT(fetch_check_count_entries("", 0), 0);
	/* Comments, blanks, an adblock header and a BOM are not entries;
	 * CRLF and a last line without its newline are. */
	const char *list = "\xef\xbb\xbf[Adblock Plus 2.0]\r\n! Title: x\r\n"
			   "# hosts comment\r\n\r\n   \r\n||ads.example^\r\n"
			   "0.0.0.0 t.example\r\nlast.example";

	CHECK_INT(fetch_check_count_entries(list, strlen(list)), 3);
	CHECK_INT(fetch_check_count_entries("\xef\xbb\xbf" "a.example\n", 13),
		  1);
}

static void
test_verdicts(void)
{
	char reason[256];
	uint64_t n = 99;

	CHECK_INT(judge(200, "text/plain", "a.example\nb.example\n", false, 0,
			50, &n, reason),
		  FETCH_CHECK_NEW);
	CHECK_INT(n, 2);
	CHECK_INT(judge(304, NULL, NULL, true, 2, 50, &n, reason),
		  FETCH_CHECK_NOT_MODIFIED);
	CHECK_INT(judge(304, NULL, NULL, false, 0, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK(strstr(reason, "no copy") != NULL);
	CHECK_INT(judge(500, "text/plain", "oops", true, 2, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_STR(reason, "HTTP 500");
	CHECK_INT(judge(404, NULL, "a.example\n", true, 1, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_STR(reason, "HTTP 404");
	CHECK_INT(judge(200, "text/plain", "", true, 2, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_STR(reason, "an empty body");
	CHECK_INT(judge(200, "text/plain", "! only\n# comments\n\n", true, 2,
			50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK(strstr(reason, "no entries") != NULL);
	/* HTML by its type, or by its text under another type. */
	CHECK_INT(judge(200, "text/html; charset=utf-8", "a.example\n", true,
			1, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK(strstr(reason, "HTML") != NULL);
	CHECK_INT(judge(200, "text/plain", "\n  <!DOCTYPE HTML>\n<p>login</p>",
			false, 0, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK(strstr(reason, "HTML") != NULL);
	CHECK_INT(judge(200, "text/plain", "<html><body>502</body></html>",
			false, 0, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_INT(judge(200, "application/json", "{\"error\": 1}", false, 0,
			50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK(strstr(reason, "JSON") != NULL);
	/* "text/htmlx" is not text/html. */
	CHECK_INT(judge(200, "text/htmlx", "a.example\n", false, 0, 50, &n,
			reason),
		  FETCH_CHECK_NEW);
}

static void
test_binary(void)
{
	char body[] = "a.example\nb\0c\n", reason[256];
	struct fetch_check_input in;
	uint64_t n;

	memset(&in, 0, sizeof in);
	in.http_status = 200;
	in.body = body;
	in.len = sizeof body - 1;
	CHECK_INT(fetch_check(&in, &n, reason, sizeof reason),
		  FETCH_CHECK_REFUSED);
	CHECK_STR(reason, "binary data (a NUL byte at offset 11), not a list");
}

static void
test_shrink(void)
{
	char reason[256];
	uint64_t n;
	char *body = malloc(100 * 12 + 1);
	size_t i;

	body[0] = '\0';
	for (i = 0; i < 49; i++)
		sprintf(body + strlen(body), "d%02zu.example\n", i);
	/* 100 -> 49 lost 51%: refused at max-shrink=50%, taken at 60%. */
	CHECK_INT(judge(200, NULL, body, true, 100, 50, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_STR(reason, "it shrank from 100 to 49 entries, by more than "
			  "max-shrink=50%");
	CHECK_INT(judge(200, NULL, body, true, 100, 60, &n, reason),
		  FETCH_CHECK_NEW);
	CHECK_INT(n, 49);
	sprintf(body + strlen(body), "d49.example\n");
	/* Exactly half lost is still within 50%. */
	CHECK_INT(judge(200, NULL, body, true, 100, 50, &n, reason),
		  FETCH_CHECK_NEW);
	/* max-shrink=0%: not one entry may go; 100%: anything goes. */
	CHECK_INT(judge(200, NULL, body, true, 51, 0, &n, reason),
		  FETCH_CHECK_REFUSED);
	CHECK_INT(judge(200, NULL, "a.example\n", true, 1000000, 100, &n,
			reason),
		  FETCH_CHECK_NEW);
	/* No copy: nothing to shrink from. */
	CHECK_INT(judge(200, NULL, "a.example\n", false, 0, 0, &n, reason),
		  FETCH_CHECK_NEW);
	free(body);
}

static uint32_t
expires(const char *body)
{
	return fetch_check_expires(body, strlen(body));
}

static void
test_expires(void)
{
	/* EasyList's and AdGuard's headers. */
	CHECK_INT(expires("[Adblock Plus 2.0]\n! Version: 202401010000\n"
			  "! Title: EasyList\n! Expires: 4 days (update "
			  "frequency)\n||ads.example^\n"),
		  4 * 86400);
	CHECK_INT(expires("! Title: AdGuard DNS filter\n! Expires: 12 hours\n"),
		  12 * 3600);
	CHECK_INT(expires("# Title: hosts\n# Expires: 1 day\n0.0.0.0 a\n"),
		  86400);
	CHECK_INT(expires("! Expires: 2\n"), 2 * 86400);
	CHECK_INT(expires("! expires: 6h\n"), 6 * 3600);
	/* Bounded: an hour at least, two weeks at most. */
	CHECK_INT(expires("! Expires: 1 hours\n"), FETCH_CHECK_EXPIRES_MIN);
	CHECK_INT(expires("! Expires: 0 hours\n"), 0);
	CHECK_INT(expires("! Expires: 400 days\n"), FETCH_CHECK_EXPIRES_MAX);
	/* Only in the header: after the first entry it is not read. */
	CHECK_INT(expires("a.example\n! Expires: 4 days\n"), 0);
	CHECK_INT(expires("! Expires: soon\n"), 0);
	CHECK_INT(expires("! Expires: 3 weeks\n"), 0);
	CHECK_INT(expires(""), 0);
	CHECK_INT(expires("\xef\xbb\xbf! Expires: 5 days\r\n"), 5 * 86400);
}

int
main(void)
{
	test_counting();
	test_verdicts();
	test_binary();
	test_shrink();
	test_expires();
	return check_exit();
}
