/* test_nft_batch.c - batches are applied whole or not at all, errors name
 * the failed message, and a failed batch leaves nothing behind for the
 * next one; in a private network namespace. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "src/nft_batch.h"
#include "tests/unit/check.h"
#include "tests/unit/nft_test.h"

/* One table message for "inet name". */
static void
table_message(struct nft_batch *b, uint16_t type, const char *name,
	      const char *label)
{
	struct nftnl_table *t = nft_batch_oom_check(nftnl_table_alloc());
	struct nlmsghdr *nlh;

	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, name);
	nlh = nft_batch_message(
		b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0, label);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nft_batch_next(b);
	nftnl_table_free(t);
}

static void
test_whole_or_nothing(struct nft_batch *b)
{
	char err[256];

	/* The third message fails: the first two are not applied, and the
	 * error names the third. */
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_NEWTABLE, "one", "creating one");
	table_message(b, NFT_MSG_NEWTABLE, "two", "creating two");
	table_message(b, NFT_MSG_DELTABLE, "absent", "deleting absent");
	err[0] = '\0';
	CHECK_INT(nft_batch_send(b, err, sizeof err), -ENOENT);
	CHECK_STR(err, "netlink: deleting absent: No such file or directory");
	if (have_nft) {
		CHECK(!has_table("inet one"));
		CHECK(!has_table("inet two"));
	}

	/* The next batch on the same socket is not confused by replies of
	 * the failed one. */
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_NEWTABLE, "one", "creating one");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	if (have_nft)
		CHECK(has_table("inet one"));
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_DELTABLE, "one", "deleting one");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	if (have_nft)
		CHECK(!has_table("inet one"));
}

/* A batch that outgrows what it asked for is refused before it is sent,
 * and the next one works. */
static void
test_overflow(struct nft_batch *b)
{
	char err[256];
	int i;

	nft_batch_start(b, 0);
	for (i = 0; i < 2000; i++)
		table_message(b, NFT_MSG_NEWTABLE, "big", "creating big");
	err[0] = '\0';
	CHECK_INT(nft_batch_send(b, err, sizeof err), -EMSGSIZE);
	CHECK(strstr(err, "building the batch") != NULL);
	if (have_nft)
		CHECK(!has_table("inet big"));
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_NEWTABLE, "small", "creating small");
	table_message(b, NFT_MSG_DELTABLE, "small", "deleting small");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
}

/* Many acks for one batch: the receive buffer is grown to hold them. */
static void
test_many_acks(struct nft_batch *b)
{
	char err[256];
	int i;

	nft_batch_start(b, 1000 * 128);
	for (i = 0; i < 1000; i++)
		table_message(b, NFT_MSG_NEWTABLE, "many", "creating many");
	table_message(b, NFT_MSG_DELTABLE, "many", "deleting many");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
}

/* A batch sealed ahead is sent later with one sendto, more than once if
 * need be, and applied each time; starting a batch unseals it. */
static void
test_sealed(struct nft_batch *b)
{
	char err[256];

	CHECK_INT(nft_batch_send_sealed(b), -EINVAL);
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_NEWTABLE, "kept", "creating kept");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	nft_batch_start(b, 0);
	table_message(b, NFT_MSG_DELTABLE, "kept", "deleting kept");
	CHECK_INT(nft_batch_seal(b, err, sizeof err), 0);
	if (have_nft)
		CHECK(has_table("inet kept"));
	CHECK_INT(nft_batch_send_sealed(b), 0);
	if (have_nft)
		CHECK(!has_table("inet kept"));
	/* Again, with nothing to delete: sent, refused, no harm. */
	CHECK_INT(nft_batch_send_sealed(b), 0);
	nft_batch_start(b, 0);
	CHECK_INT(nft_batch_send_sealed(b), -EINVAL);
	table_message(b, NFT_MSG_NEWTABLE, "after", "creating after");
	table_message(b, NFT_MSG_DELTABLE, "after", "deleting after");
	/* The unread replies of the sealed batches do not confuse this. */
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
}

static void
test_reason(void)
{
	char err[128];

	nft_batch_reason(err, sizeof err, "adding grants", -EPERM);
	CHECK_STR(err, "netlink: adding grants: Operation not permitted: "
		       "dnsgated needs CAP_NET_ADMIN");
	nft_batch_reason(err, sizeof err, "adding grants", -ENFILE);
	CHECK_STR(err, "netlink: adding grants: Too many open files in "
		       "system (the set is full)");
	nft_batch_reason(NULL, 0, "nothing", -EPERM); /* no crash */
}

int
main(void)
{
	struct nft_batch *b;
	char err[256];
	int skip;

	test_reason();
	skip = enter_test_namespace();
	if (skip != 0)
		return skip;
	b = nft_batch_new(err, sizeof err);
	CHECK(b != NULL);
	if (b == NULL) {
		fprintf(stderr, "nft_batch_new: %s\n", err);
		return check_exit();
	}
	CHECK(nft_batch_portid(b) != 0);
	test_whole_or_nothing(b);
	test_overflow(b);
	test_many_acks(b);
	test_sealed(b);
	nft_batch_free(b);
	return check_exit();
}
