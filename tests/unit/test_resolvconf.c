/* test_resolvconf.c - unit tests for resolver/resolvconf.c on temporary
 * files. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resolver/resolvconf.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define MAX_TEMP 8

static char temp_paths[MAX_TEMP][64];
static int n_temp;

/* Writes text to a new temporary file and returns its path; every such
 * file is removed by remove_temps(). */
static const char *
temp_file(const char *text)
{
	char *path;

	if (n_temp == MAX_TEMP)
		return "/nonexistent/too-many-temps";
	path = temp_paths[n_temp];
	if (fixture_temp_file(path, sizeof temp_paths[0], text,
			      strlen(text)) < 0)
		return "/nonexistent/mkstemp-failed";
	n_temp++;
	return path;
}

static void
remove_temps(void)
{
	while (n_temp > 0)
		unlink(temp_paths[--n_temp]);
}

struct result {
	char **list;
	size_t n;
	int rc;
	char skipped[256];
	char err[256];
};

static void
result_free(struct result *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free(r->list[i]);
	free(r->list);
	r->list = NULL;
	r->n = 0;
}

static void
run(struct result *r, const char *path, const char *stub)
{
	memset(r, 0, sizeof *r);
	r->rc = resolvconf_upstreams(path, stub, &r->list, &r->n, r->skipped,
				     sizeof r->skipped, r->err, sizeof r->err);
}

/* The list joined with spaces, for compact checks. */
static const char *
joined(const struct result *r, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < r->n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 i ? " " : "", r->list[i]);
	return buf;
}

static void
test_plain(void)
{
	struct result r;
	char buf[512];
	const char *path = temp_file("# generated\n"
				     "; old-style comment\n"
				     "search example.com\n"
				     "nameserver 192.0.2.1\n"
				     "\n"
				     "options edns0 trust-ad\n"
				     "nameserver\t2001:db8::53\n"
				     "  nameserver   198.51.100.2   # inline\n"
				     "nameserver 203.0.113.3\r\n"
				     "domain example.com\n");

	run(&r, path, "/nonexistent/stub");
	CHECK_INT(r.rc, 4);
	CHECK_INT(r.n, 4);
	CHECK_STR(joined(&r, buf, sizeof buf),
		  "192.0.2.1 2001:db8::53 198.51.100.2 203.0.113.3");
	CHECK_STR(r.skipped, "");
	result_free(&r);
	remove_temps();
}

static void
test_comments_and_junk(void)
{
	struct result r;
	char buf[512];
	const char *path = temp_file("#nameserver 192.0.2.66\n"
				     "# nameserver 192.0.2.67\n"
				     "; nameserver 192.0.2.68\n"
				     "nameservers 192.0.2.69\n"
				     "Nameserver 192.0.2.70\n"
				     "nameserver\n"
				     "nameserver dns.example\n"
				     "nameserver 192.0.2\n"
				     "nameserver 192.0.2.300\n"
				     "nameserver 192.0.2.5\n"
				     "nameserver 192.0.2.6"); /* no newline */

	run(&r, path, NULL);
	CHECK_INT(r.rc, 2);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.5 192.0.2.6");
	result_free(&r);
	remove_temps();
}

/* fgets reads at most a line buffer at a time: the rest of a long
 * comment line must not be read as a line of its own. */
static void
test_long_comment_line(void)
{
	struct result r;
	char text[2048], buf[512];
	size_t used = 0;

	/* "nameserver" starts at byte 511 of the comment line. */
	used += (size_t)snprintf(text + used, sizeof text - used, "# ");
	memset(text + used, 'x', 508);
	used += 508;
	snprintf(text + used, sizeof text - used,
		 " nameserver 192.0.2.99\nnameserver 192.0.2.7\n");
	run(&r, temp_file(text), NULL);
	CHECK_INT(r.rc, 1);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.7");

	/* The same inside a long "search" line. */
	used = (size_t)snprintf(text, sizeof text, "search");
	while (used < 1500)
		used += (size_t)snprintf(text + used, sizeof text - used,
					 " d%zu.example", used);
	snprintf(text + used, sizeof text - used,
		 "\nnameserver 192.0.2.8\n");
	/* Make sure one of the words sits right at a 511-byte boundary. */
	memcpy(text + 510, " nameserver 192.0.2.98 ", 23);
	result_free(&r);
	run(&r, temp_file(text), NULL);
	CHECK_INT(r.rc, 1);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.8");
	result_free(&r);
	remove_temps();
}

static void
test_loopback(void)
{
	struct result r;
	char buf[512];
	const char *path = temp_file("nameserver 127.0.0.1\n"
				     "nameserver 192.0.2.1\n"
				     "nameserver ::1\n"
				     "nameserver 127.1.2.3\n"
				     "nameserver ::ffff:127.0.0.1\n"
				     "nameserver 2001:db8::1\n");

	run(&r, path, NULL);
	CHECK_INT(r.rc, 2);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.1 2001:db8::1");
	CHECK_STR(r.skipped, "127.0.0.1 ::1 127.1.2.3 ::ffff:127.0.0.1");
	result_free(&r);
	remove_temps();

	/* Only loopback: 0 appended, all reported. */
	run(&r, temp_file("nameserver 127.0.0.1\nnameserver ::1\n"), NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.n, 0);
	CHECK_STR(r.skipped, "127.0.0.1 ::1");
	result_free(&r);
	remove_temps();

	/* skipped may be NULL. */
	{
		char **list = NULL;
		size_t n = 0, i;
		char err[128];
		int rc = resolvconf_upstreams(
			temp_file("nameserver 127.0.0.1\nnameserver 192.0.2.1\n"),
			NULL, &list, &n, NULL, 0, err, sizeof err);

		CHECK_INT(rc, 1);
		CHECK_INT(n, 1);
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	remove_temps();

	/* A small skipped buffer is cut, not overrun. */
	{
		char **list = NULL;
		size_t n = 0;
		char small[12], err[128];
		int rc;

		memset(small, 'Z', sizeof small);
		rc = resolvconf_upstreams(
			temp_file("nameserver 127.0.0.1\nnameserver 127.0.0.2\n"
				  "nameserver 127.0.0.3\n"),
			NULL, &list, &n, small, 8, err, sizeof err);
		CHECK_INT(rc, 0);
		CHECK(memchr(small, '\0', 8) != NULL);
		CHECK(small[8] == 'Z' && small[11] == 'Z');
		CHECK(strncmp(small, "127.0.0", 7) == 0);
		free(list);
	}
	remove_temps();
}

/* An IPv4-mapped IPv6 address is loopback only when its IPv4 address
 * is: ::ffff:192.0.2.1 is a usable server. */
static void
test_mapped_not_loopback(void)
{
	struct result r;
	char buf[512];

	run(&r, temp_file("nameserver ::ffff:192.0.2.1\n"), NULL);
	CHECK_INT(r.rc, 1);
	CHECK_STR(joined(&r, buf, sizeof buf), "::ffff:192.0.2.1");
	CHECK_STR(r.skipped, "");
	result_free(&r);
	remove_temps();
}

static void
test_stub(void)
{
	struct result r;
	char buf[512];
	const char *stub = temp_file("# systemd-resolved's own upstreams\n"
				     "nameserver 192.0.2.10\n"
				     "nameserver 2001:db8::10\n"
				     "nameserver 127.0.0.1\n");
	const char *path = temp_file("# This is /run/systemd/resolve/stub-"
				     "resolv.conf\n"
				     "nameserver 127.0.0.53\n"
				     "options edns0 trust-ad\n"
				     "search .\n");

	run(&r, path, stub);
	CHECK_INT(r.rc, 2);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.10 2001:db8::10");
	/* The stub itself was left out and said so. */
	CHECK(strstr(r.skipped, "127.0.0.53") != NULL);
	/* The stub file's loopback server is not used either. */
	CHECK(strstr(buf, "127.0.0.1") == NULL);
	result_free(&r);

	/* Without a stub path, or with one that does not exist: nothing,
	 * but not an error either. */
	run(&r, path, NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.n, 0);
	CHECK_STR(r.skipped, "127.0.0.53");
	result_free(&r);
	run(&r, path, "/nonexistent/dnsgate-stub-resolv.conf");
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.n, 0);
	result_free(&r);

	/* Another loopback address is not the stub: no stub file read. */
	run(&r, temp_file("nameserver 127.0.0.54\n"), stub);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.n, 0);
	CHECK_STR(r.skipped, "127.0.0.54");
	result_free(&r);

	/* A server listed twice in the stub's file: once. */
	run(&r, path,
	    temp_file("nameserver 192.0.2.10\nnameserver 192.0.2.10\n"));
	CHECK_INT(r.rc, 1);
	CHECK_STR(joined(&r, buf, sizeof buf), "192.0.2.10");
	result_free(&r);
	remove_temps();
}

static void
test_duplicates(void)
{
	struct result r;
	char buf[512];

	run(&r,
	    temp_file("nameserver 192.0.2.1\nnameserver 192.0.2.2\n"
		      "nameserver 192.0.2.1\nnameserver 2001:db8::1\n"
		      "nameserver 2001:db8::1\nnameserver 192.0.2.2\n"),
	    NULL);
	CHECK_INT(r.rc, 3);
	CHECK_INT(r.n, 3);
	CHECK_STR(joined(&r, buf, sizeof buf),
		  "192.0.2.1 192.0.2.2 2001:db8::1");
	result_free(&r);
	remove_temps();

	/* Appending to a list the caller already holds: kept, and what it
	 * holds is not added again. */
	{
		char **list = malloc(sizeof *list);
		size_t n = 1, i;
		char err[128];
		int rc;

		list[0] = strdup("192.0.2.1");
		rc = resolvconf_upstreams(
			temp_file("nameserver 192.0.2.1\nnameserver 192.0.2.3\n"),
			NULL, &list, &n, NULL, 0, err, sizeof err);
		CHECK_INT(rc, 1);
		CHECK_INT(n, 2);
		if (n == 2) {
			CHECK_STR(list[0], "192.0.2.1");
			CHECK_STR(list[1], "192.0.2.3");
		}
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	remove_temps();
}

/* A link-local server is only reachable through its interface: the
 * usable form keeps the scope ("fe80::1%eth0"); a bare "fe80::1" cannot
 * be sent to. It must come out scoped, or not at all. */
static void
test_scoped(void)
{
	struct result r;
	size_t i;
	int bare = 0;

	run(&r,
	    temp_file("nameserver fe80::1%eth0\nnameserver 192.0.2.1\n"
		      "nameserver fe80::2%lo\n"),
	    NULL);
	CHECK(r.rc >= 1);
	CHECK(r.n >= 1);
	if (r.n >= 1)
		CHECK_STR(r.list[0], r.n == 1 ? "192.0.2.1" : "fe80::1%eth0");
	for (i = 0; i < r.n; i++)
		bare |= strcmp(r.list[i], "fe80::1") == 0 ||
			strcmp(r.list[i], "fe80::2") == 0;
	CHECK_INT(bare, 0);
	result_free(&r);
	remove_temps();

	/* A global address with a scope suffix is still that address. */
	run(&r, temp_file("nameserver 2001:db8::1%eth0\n"), NULL);
	CHECK(r.rc == 1 || r.rc == 0);
	result_free(&r);
	remove_temps();
}

static void
test_missing(void)
{
	struct result r;

	run(&r, "/nonexistent/dnsgate-resolv.conf", NULL);
	CHECK_INT(r.rc, -1);
	CHECK_INT(r.n, 0);
	CHECK(strstr(r.err, "/nonexistent/dnsgate-resolv.conf") != NULL);
	CHECK(strstr(r.err, strerror(ENOENT)) != NULL);
	result_free(&r);

	/* An empty file is readable and lists nothing. */
	run(&r, temp_file(""), NULL);
	CHECK_INT(r.rc, 0);
	CHECK_INT(r.n, 0);
	CHECK_STR(r.skipped, "");
	result_free(&r);
	remove_temps();
}

int
main(void)
{
	test_plain();
	test_comments_and_junk();
	test_long_comment_line();
	test_loopback();
	test_mapped_not_loopback();
	test_stub();
	test_duplicates();
	test_scoped();
	test_missing();
	remove_temps();
	return check_exit();
}
