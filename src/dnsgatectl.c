/* dnsgatectl.c - looks at and clears the gate in the kernel.
 * It talks netlink to nftables in the current network namespace, so it
 * works whether or not dnsgated is running (after a crash, too). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup.h"
#include "nft_dump.h"
#include "nft_gate.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dnsgatectl COMMAND\n"
		"  grants        list the (app cgroup, address) grants in force\n"
		"  rejected      how many packets the gate has rejected\n"
		"  remove-table  delete the table inet " GATE_TABLE_NAME
		" (after a crash of dnsgated)\n");
}

struct list_state {
	struct cgroup_tree *tree;
};

static void
print_grant(const struct nft_grant *el, void *arg)
{
	struct list_state *st = arg;
	char path[512] = "?", addr[64];
	unsigned level;

	if (st->tree != NULL)
		cgroup_lookup(st->tree, el->cgroup_id, path, sizeof path,
			      &level);
	ip_addr_format(&el->addr, addr, sizeof addr);
	printf("%-40s %-39s %6" PRIu64 "s  cgroup-id=%" PRIu64 "\n", path, addr,
	       el->expires_ms / 1000, el->cgroup_id);
}

static int
cmd_grants(void)
{
	struct list_state st;
	char err[256];
	int n;

	st.tree = cgroup_tree_open(err, sizeof err);
	n = nft_dump_grants(print_grant, &st, err, sizeof err);
	cgroup_tree_free(st.tree);
	if (n == -ENOENT) {
		fprintf(stderr, "dnsgatectl: no table inet %s here: is dnsgated "
			"running?\n", GATE_TABLE_NAME);
		return 1;
	}
	if (n < 0) {
		fprintf(stderr, "dnsgatectl: cannot list grants: %s\n", err);
		return 1;
	}
	return 0;
}

static int
cmd_rejected(void)
{
	char err[256];
	int64_t n = nft_dump_rejected_packets(err, sizeof err);

	if (n < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	printf("%" PRId64 "\n", n);
	return 0;
}

static int
cmd_remove_table(void)
{
	char err[256];

	if (gate_remove_table(err, sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "grants") == 0)
		return cmd_grants();
	if (strcmp(argv[1], "rejected") == 0)
		return cmd_rejected();
	if (strcmp(argv[1], "remove-table") == 0)
		return cmd_remove_table();
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "dnsgatectl: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
