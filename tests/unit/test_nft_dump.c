/* test_nft_dump.c - the grants and the reject counter read back from a
 * table that nft itself wrote, in a private network namespace. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/nft_dump.h"
#include "tests/unit/check.h"
#include "tests/unit/nft_test.h"

static const struct nft_grant *
find(const struct listed *l, const char *text)
{
	struct ip_addr a;
	size_t i;

	memset(&a, 0, sizeof a);
	a.family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;
	inet_pton(a.family, text, a.bytes);
	for (i = 0; i < l->n && i < MAX_LISTED; i++)
		if (l->g[i].addr.family == a.family &&
		    memcmp(l->g[i].addr.bytes, a.bytes, 16) == 0)
			return &l->g[i];
	return NULL;
}

static void
test_absent(void)
{
	char err[256];

	CHECK_INT(nft_dump_grants(NULL, NULL, err, sizeof err), -ENOENT);
	CHECK(strstr(err, "listing the grants") != NULL);
	CHECK_INT(nft_dump_rejected_packets(err, sizeof err), -ENOENT);
}

/* nft names a cgroup by its path under /sys/fs/cgroup; "/" is that
 * directory, whose inode number is the id in the key. */
static void
test_written_by_nft(void)
{
	struct listed l;
	const struct nft_grant *g;
	struct stat st;
	char err[256];

	CHECK_INT(stat("/sys/fs/cgroup", &st), 0);
	CHECK_INT(nft_load("table inet dnsgate {\n"
			   " set allow4 { type cgroupsv2 . ipv4_addr; size 8;"
			   " flags timeout; }\n"
			   " set allow6 { type cgroupsv2 . ipv6_addr; size 8;"
			   " flags timeout; }\n"
			   " chain gate-output {\n"
			   "  type filter hook output priority 0;\n"
			   "  oif \"lo\" accept\n"
			   "  counter packets 7 bytes 700 reject\n"
			   " }\n"
			   "}\n"
			   "add element inet dnsgate allow4 { \"/\" . "
			   "192.0.2.1 timeout 60s, \"/\" . 192.0.2.2 "
			   "timeout 1h }\n"
			   "add element inet dnsgate allow6 { \"/\" . "
			   "2001:db8::1 timeout 90s, \"/\" . 2001:db8::2 }\n"),
		  0);
	CHECK_INT(list_grants(&l), 4);
	CHECK_INT(l.n, 4);
	g = find(&l, "192.0.2.1");
	CHECK(g != NULL && g->cgroup_id == (uint64_t)st.st_ino);
	CHECK(g != NULL && g->expires_ms > 50000 && g->expires_ms <= 60000);
	g = find(&l, "192.0.2.2");
	CHECK(g != NULL && g->expires_ms > 3590000 && g->expires_ms <= 3600000);
	g = find(&l, "2001:db8::1");
	CHECK(g != NULL && g->expires_ms > 80000 && g->expires_ms <= 90000);
	/* No timeout: nothing dnsgated wrote, listed as expiring in 0. */
	g = find(&l, "2001:db8::2");
	CHECK(g != NULL && g->expires_ms == 0);
	/* Counting only. */
	CHECK_INT(nft_dump_grants(NULL, NULL, err, sizeof err), 4);

	CHECK_INT(nft_dump_rejected_packets(err, sizeof err), 7);

	/* A set of the right name with another key is no grant set. */
	CHECK_INT(nft_run("delete set inet dnsgate allow6"), 0);
	CHECK_INT(nft_run("add set inet dnsgate allow6 '{ type ipv4_addr; }'"),
		  0);
	CHECK_INT(nft_run("add element inet dnsgate allow6 '{ 192.0.2.9 }'"),
		  0);
	err[0] = '\0';
	CHECK_INT(nft_dump_grants(NULL, NULL, err, sizeof err), -EPROTO);
	CHECK(strstr(err, "unexpected length") != NULL);

	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
}

int
main(void)
{
	int skip = enter_test_namespace();

	if (skip != 0)
		return skip;
	test_absent();
	if (have_nft)
		test_written_by_nft();
	else
		fprintf(stderr, "note: no nft, reading nft's table skipped\n");
	return check_exit();
}
