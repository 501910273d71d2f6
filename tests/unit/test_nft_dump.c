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
#include "src/nft_table.h"
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

/* Element counters, and the rejected connections as nft writes them. */
static void
collect_rejected(const struct nft_rejected *r, void *arg)
{
	struct nft_rejected *out = arg;

	if (r->addr.family == AF_INET)
		out[0] = *r;
	else
		out[1] = *r;
}

static void
test_counters(void)
{
	struct nft_rejected got[2];
	struct listed l;
	const struct nft_grant *g;
	struct nft_batch *b;
	struct stat st;
	char err[256];
	uint8_t key[NFT_REJECTED_KEY_LEN(16)];

	CHECK_INT(stat("/sys/fs/cgroup", &st), 0);
	CHECK_INT(nft_load("table inet dnsgate {\n"
			   " set allow4 { type cgroupsv2 . ipv4_addr; size 8;"
			   " flags timeout; counter; }\n"
			   " set allow6 { type cgroupsv2 . ipv6_addr; size 8;"
			   " flags timeout; counter; }\n"
			   " set rejected4 { type cgroupsv2 . ipv4_addr . "
			   "inet_proto . inet_service; flags dynamic, timeout;"
			   " counter; }\n"
			   " set rejected6 { type cgroupsv2 . ipv6_addr . "
			   "inet_proto . inet_service; flags dynamic, timeout;"
			   " counter; }\n"
			   "}\n"
			   "add element inet dnsgate allow4 { \"/\" . "
			   "192.0.2.1 counter packets 3 bytes 3000 timeout "
			   "60s }\n"
			   "add element inet dnsgate allow6 { \"/\" . "
			   "2001:db8::1 timeout 60s }\n"
			   "add element inet dnsgate rejected4 { \"/\" . "
			   "203.0.113.5 . tcp . 443 counter packets 2 bytes "
			   "120 }\n"
			   "add element inet dnsgate rejected6 { \"/\" . "
			   "2001:db8::5 . icmpv6 . 0 counter packets 1 bytes "
			   "64 }\n"),
		  0);
	CHECK_INT(list_grants(&l), 2);
	g = find(&l, "192.0.2.1");
	CHECK(g != NULL && g->packets == 3 && g->bytes == 3000);
	g = find(&l, "2001:db8::1");
	CHECK(g != NULL && g->packets == 0 && g->bytes == 0);

	b = nft_batch_new(err, sizeof err);
	CHECK(b != NULL);
	if (b == NULL)
		return;
	memset(got, 0, sizeof got);
	CHECK_INT(nft_dump_rejected(b, collect_rejected, got), 2);
	CHECK(got[0].cgroup_id == (uint64_t)st.st_ino);
	CHECK(got[0].protocol == 6 && got[0].port == 443);
	CHECK(got[0].packets == 2 && got[0].bytes == 120);
	CHECK(memcmp(got[0].addr.bytes, "\xcb\x00\x71\x05", 4) == 0);
	CHECK(got[1].cgroup_id == (uint64_t)st.st_ino);
	CHECK(got[1].protocol == 58 && got[1].port == 0);
	CHECK(got[1].packets == 1);
	/* The key built back is the kernel's, field by field. */
	CHECK_INT((int)nft_rejected_key(&got[0], key), 20);
	CHECK(memcmp(key, &got[0].cgroup_id, 8) == 0);
	CHECK(key[12] == 6 && key[13] == 0 && key[16] == 0x01 &&
	      key[17] == 0xbb && key[18] == 0);
	CHECK_INT((int)nft_rejected_key(&got[1], key), 32);
	CHECK(key[24] == 58);

	/* A key of another length is refused. */
	CHECK_INT(nft_run("delete set inet dnsgate rejected6"), 0);
	CHECK_INT(nft_run("add set inet dnsgate rejected6 "
			  "'{ type ipv4_addr; }'"),
		  0);
	CHECK_INT(nft_run("add element inet dnsgate rejected6 "
			  "'{ 192.0.2.9 }'"),
		  0);
	CHECK_INT(nft_dump_rejected(b, NULL, NULL), -EPROTO);
	nft_batch_free(b);
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
}

int
main(void)
{
	int skip = enter_test_namespace();

	if (skip != 0)
		return skip;
	test_absent();
	if (have_nft) {
		test_written_by_nft();
		test_counters();
	}
	else
		fprintf(stderr, "note: no nft, reading nft's table skipped\n");
	return check_exit();
}
