/* test_list_format.c - unit tests for lists/list_format.c. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lists/list_format.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

static enum list_format
detect(const char *text)
{
	char path[64];
	enum list_format f = LIST_FORMAT_AUTO;

	CHECK_INT(fixture_temp_file(path, sizeof path, text, strlen(text)), 0);
	CHECK_INT(list_format_detect(path, &f), 0);
	unlink(path);
	return f;
}

int
main(void)
{
	enum list_format f;

	CHECK_INT(list_format_parse("adblock", &f), 0);
	CHECK_INT(f, LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_parse("hosts", &f), 0);
	CHECK_INT(f, LIST_FORMAT_HOSTS);
	CHECK_INT(list_format_parse("Hosts", &f), -1);
	CHECK_INT(list_format_parse("abp", &f), -1);
	CHECK_STR(list_format_name(LIST_FORMAT_DOMAINS), "domains");
	CHECK_STR(list_format_name(LIST_FORMAT_AUTO), "auto");

	CHECK_INT(list_format_of_line("# a comment"), LIST_FORMAT_AUTO);
	CHECK_INT(list_format_of_line("   "), LIST_FORMAT_AUTO);
	CHECK_INT(list_format_of_line("! Title: x"), LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("[Adblock Plus 2.0]"),
	          LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("||ads.example^"), LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("@@||ok.example^"), LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("example.com##.ad"), LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("##.ad"), LIST_FORMAT_ADBLOCK);
	CHECK_INT(list_format_of_line("0.0.0.0 ads.example"),
	          LIST_FORMAT_HOSTS);
	CHECK_INT(list_format_of_line("::1 ads.example"), LIST_FORMAT_HOSTS);
	CHECK_INT(list_format_of_line("ads.example"), LIST_FORMAT_DOMAINS);
	CHECK_INT(list_format_of_line("*.ads.example"), LIST_FORMAT_DOMAINS);

	CHECK_INT(detect("# hosts\n127.0.0.1 localhost\n0.0.0.0 a.example\n"
	                 "b.example\n"),
	          LIST_FORMAT_HOSTS);
	CHECK_INT(
	    detect("# domains\na.example\nb.example\n0.0.0.0 c.example\n"),
	    LIST_FORMAT_DOMAINS);
	CHECK_INT(detect("\xEF\xBB\xBF[Adblock Plus 2.0]\n"),
	          LIST_FORMAT_ADBLOCK);
	/* One adblock line among many domains: a hosts parser would misread
	 * it, so the adblock parser (which reads domains too) is taken. */
	CHECK_INT(detect("a.example\nb.example\n||c.example^\n"),
	          LIST_FORMAT_ADBLOCK);
	CHECK_INT(detect(""), LIST_FORMAT_DOMAINS);
	CHECK_INT(list_format_detect("/nonexistent/x", &f), -1);
	return check_exit();
}
