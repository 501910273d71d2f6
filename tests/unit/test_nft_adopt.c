/* test_nft_adopt.c - judging a table left behind, and clearing all of it
 * but the grants: on tables nft itself wrote, in a private network
 * namespace. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "src/nft_adopt.h"
#include "src/nft_batch.h"
#include "src/nft_table.h"
#include "tests/unit/check.h"
#include "tests/unit/nft_test.h"

static void
test_mismatch(void)
{
	struct nft_set_shape s = {"allow4", NFT_SET_TIMEOUT, NFT_TYPE_ALLOW4,
				  12, 65536, true};
	char buf[256];

	CHECK(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
				     NFT_TYPE_ALLOW4, 12, 65536, buf,
				     sizeof buf) == NULL);
	CHECK_STR(nft_adopt_set_mismatch(NULL, "allow6", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW6, 24,
					 65536, buf, sizeof buf),
		  "it has no set allow6");
	CHECK_STR(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW4, 12,
					 1024, buf, sizeof buf),
		  "its set allow4 holds at most 65536 elements, and set-size "
		  "is now 1024");
	s.key_type = NFT_TYPE_IPADDR;
	s.key_len = 4;
	CHECK_STR(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW4, 12,
					 65536, buf, sizeof buf),
		  "its set allow4 has another key (type 0x7, 4 bytes) than "
		  "(cgroup . address)");
	s.key_type = NFT_TYPE_ALLOW4;
	s.key_len = 12;
	s.flags = NFT_SET_TIMEOUT | NFT_SET_INTERVAL;
	CHECK_STR(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW4, 12,
					 65536, buf, sizeof buf),
		  "its set allow4 has other flags (0x14) than 'timeout' alone");
	s.flags = NFT_SET_TIMEOUT;
	CHECK_STR(nft_adopt_set_mismatch(&s, "standing4",
					 NFT_SET_STANDING_FLAGS,
					 NFT_TYPE_ALLOW4, 12, 65536, buf,
					 sizeof buf),
		  "its set standing4 has other flags (0x10) than 'interval, "
		  "timeout' on a concatenation");
	/* An older dnsgated's allow set, without counters. */
	s.counter = false;
	CHECK_STR(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW4, 12, 65536, buf,
					 sizeof buf),
		  "its set allow4 has no counters (an older dnsgated's): made "
		  "anew, so that each grant counts its traffic");
	/* A standing set has none. */
	s.flags = NFT_SET_STANDING_FLAGS;
	CHECK(nft_adopt_set_mismatch(&s, "standing4", NFT_SET_STANDING_FLAGS,
				     NFT_TYPE_ALLOW4, 12, 65536, buf,
				     sizeof buf) == NULL);
	s.flags = NFT_SET_TIMEOUT;
	s.counter = true;
	s.size = 0;
	CHECK_STR(nft_adopt_set_mismatch(&s, "allow4", NFT_SET_TIMEOUT,
					 NFT_TYPE_ALLOW4, 12,
					 65536, buf, sizeof buf),
		  "its set allow4 has no size limit, and set-size is 65536");
}

static const char left_behind[] =
	"table inet dnsgate {\n"
	" set allow4 { type cgroupsv2 . ipv4_addr; size 8; flags timeout; counter; }\n"
	" set allow6 { type cgroupsv2 . ipv6_addr; size 8; flags timeout; counter; }\n"
	" set exempt4 { type ipv4_addr; flags interval;"
	" elements = { 192.0.2.0/24 }; }\n"
	" chain gate-output {\n"
	"  type filter hook output priority 0;\n"
	"  ip daddr @exempt4 accept\n"
	"  meta l4proto { tcp, udp } accept\n"
	"  jump extra\n"
	"  counter reject\n"
	" }\n"
	" chain extra { accept; }\n"
	"}\n"
	"add element inet dnsgate allow4 { \"/\" . 192.0.2.1 timeout 60s,"
	" \"/\" . 192.0.2.2 timeout 1h, \"/\" . 192.0.2.3 }\n"
	"add element inet dnsgate allow6 { \"/\" . 2001:db8::1 timeout 90s }\n";

static void
test_inspect_and_clear(struct nft_batch *b)
{
	struct nft_adopt_plan plan;
	char err[256], *table;

	CHECK_INT(nft_adopt_inspect(b, 8, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK(!plan.found);
	nft_adopt_plan_free(&plan);

	CHECK_INT(nft_load(left_behind), 0);
	CHECK_INT(nft_adopt_inspect(b, 8, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK(plan.found);
	CHECK(plan.keep);
	/* 192.0.2.3 has no timeout, 192.0.2.2 more than 1800 s left. */
	CHECK_INT(plan.grants, 2);
	CHECK_INT(plan.n_distrusted, 2);
	/* exempt4, not the anonymous { tcp, udp } nor the allow sets. */
	CHECK_INT(plan.n_sets, 1);
	CHECK(plan.n_sets == 1 && strcmp(plan.sets[0], "exempt4") == 0);
	CHECK_INT(plan.n_chains, 2);
	/* An older dnsgated's table: the caller adds the standing sets. */
	CHECK(!plan.standing_kept);

	nft_batch_start(b, nft_adopt_clear_bytes(&plan));
	nft_adopt_clear(b, &plan);
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	nft_adopt_plan_free(&plan);
	table = capture("nft list table inet dnsgate");
	CHECK(table != NULL);
	if (table != NULL) {
		CHECK(strstr(table, "chain") == NULL);
		CHECK(strstr(table, "exempt4") == NULL);
		CHECK(strstr(table, "192.0.2.1 counter packets 0 bytes 0 timeout 1m") != NULL);
		CHECK(strstr(table, "2001:db8::1 counter packets 0 bytes 0 timeout 1m30s") != NULL);
		CHECK(strstr(table, "192.0.2.2") == NULL);
		CHECK(strstr(table, "192.0.2.3") == NULL);
	}
	free(table);

	/* Changed between the look and the batch: the batch fails whole,
	 * naming what failed, and the table is as it was. */
	CHECK_INT(nft_run("add element inet dnsgate allow4 "
			  "'{ \"/\" . 192.0.2.4 }'"),
		  0);
	CHECK_INT(nft_adopt_inspect(b, 8, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK_INT(plan.n_distrusted, 1);
	CHECK_INT(nft_run("delete element inet dnsgate allow4 "
			  "'{ \"/\" . 192.0.2.4 }'"),
		  0);
	CHECK_INT(nft_run("add chain inet dnsgate late"), 0);
	nft_batch_start(b, nft_adopt_clear_bytes(&plan));
	nft_adopt_clear(b, &plan);
	err[0] = '\0';
	CHECK_INT(nft_batch_send(b, err, sizeof err), -ENOENT);
	CHECK_STR(err, "netlink: deleting an element dnsgated did not write: "
		       "No such file or directory");
	nft_adopt_plan_free(&plan);
	table = capture("nft list table inet dnsgate");
	CHECK(table != NULL && strstr(table, "chain late") != NULL);
	free(table);

	/* Another size: judged, not kept; every grant counted as lost. */
	CHECK_INT(nft_adopt_inspect(b, 16, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK(plan.found && !plan.keep);
	CHECK_INT(plan.grants, 2);
	CHECK_INT(plan.n_distrusted, 0);
	CHECK(strstr(plan.why_not, "holds at most 8 elements") != NULL);
	nft_adopt_plan_free(&plan);
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
}

/* Standing sets as nft makes them from "flags interval, timeout" are the
 * ones dnsgated makes: kept, and emptied by the clearing batch. One of
 * another shape is deleted, and so is its right twin (the caller makes
 * both). */
static void
test_standing_sets(struct nft_batch *b)
{
	static const char standing[] =
		"table inet dnsgate {\n"
		" set allow4 { type cgroupsv2 . ipv4_addr; size 8;"
		" flags timeout; counter; }\n"
		" set allow6 { type cgroupsv2 . ipv6_addr; size 8;"
		" flags timeout; counter; }\n"
		" set standing4 { type cgroupsv2 . ipv4_addr; size 8;"
		" flags interval, timeout; }\n"
		" set standing6 { type cgroupsv2 . ipv6_addr; size %d;"
		" flags interval, timeout; }\n"
		"}\n"
		"add element inet dnsgate standing4 { \"/\" . 192.0.2.0/24 }\n";
	struct nft_adopt_plan plan;
	char text[1024], err[256], *table;

	snprintf(text, sizeof text, standing, 8);
	CHECK_INT(nft_load(text), 0);
	CHECK_INT(nft_adopt_inspect(b, 8, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK(plan.found && plan.keep && plan.standing_kept);
	CHECK_INT(plan.n_sets, 0);
	nft_batch_start(b, nft_adopt_clear_bytes(&plan));
	nft_adopt_clear(b, &plan);
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	nft_adopt_plan_free(&plan);
	table = capture("nft list table inet dnsgate");
	CHECK(table != NULL && strstr(table, "set standing4") != NULL);
	CHECK(table != NULL && strstr(table, "192.0.2.0/24") == NULL);
	free(table);
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);

	snprintf(text, sizeof text, standing, 16);
	CHECK_INT(nft_load(text), 0);
	CHECK_INT(nft_adopt_inspect(b, 8, 1800, true, &plan, err, sizeof err),
		  0);
	CHECK(plan.found && plan.keep && !plan.standing_kept);
	CHECK_INT(plan.n_sets, 2);
	nft_adopt_plan_free(&plan);
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
}

int
main(void)
{
	struct nft_batch *b;
	char err[256];
	int skip;

	test_mismatch();
	skip = enter_test_namespace();
	if (skip != 0)
		return skip;
	if (!have_nft) {
		fprintf(stderr, "note: no nft, tables left behind not made\n");
		return check_exit();
	}
	b = nft_batch_new(err, sizeof err);
	CHECK(b != NULL);
	if (b == NULL)
		return check_exit();
	test_inspect_and_clear(b);
	test_standing_sets(b);
	nft_batch_free(b);
	return check_exit();
}
