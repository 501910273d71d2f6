/* dnsgatectl.c - looks at and clears the gate in the kernel, and asks the
 * daemon how it is doing. grants, rejected and remove-table talk netlink
 * to nftables in the current network namespace, so they work whether or
 * not dnsgated is running (after a crash, too); status asks dnsgated
 * over its control socket. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cgroup.h"
#include "control.h"
#include "control_client.h"
#include "json.h"
#include "nft_gate.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dnsgatectl [-s control-socket] COMMAND\n"
		"  status [--json]  the daemon's counters (over its control "
		"socket,\n"
		"                default " CONTROL_DEFAULT_PATH ")\n"
		"  grants        list the (app cgroup, address) grants in force\n"
		"  rejected      how many packets the gate has rejected\n"
		"  remove-table  delete the table inet " GATE_TABLE_NAME
		" (after a crash of dnsgated)\n");
}

struct list_state {
	struct cgroup_tree *tree;
};

static void
print_grant(const struct gate_element *el, void *arg)
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
	n = gate_list_grants(print_grant, &st, err, sizeof err);
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
	int64_t n = gate_rejected_packets(err, sizeof err);

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

static int
cmd_status(const char *socket_path, bool json)
{
	static char reply[CONTROL_REPLY_MAX + 2];
	char err[512], why[600];

	if (control_call(socket_path, "{\"command\": \"status\"}", reply,
			 sizeof reply, 5000, err, sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	if (json_flat_get_string(reply, strlen(reply), "error", why,
				 sizeof why) == 0) {
		fprintf(stderr, "dnsgatectl: dnsgated says: %s\n", why);
		return 1;
	}
	if (json) {
		printf("%s\n", reply);
		return 0;
	}
	if (json_print_pretty(stdout, reply) < 0) {
		fprintf(stderr, "dnsgatectl: cannot read the reply: %s\n",
			reply);
		return 1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	const char *socket_path = CONTROL_DEFAULT_PATH;
	int ch;

	while ((ch = getopt(argc, argv, "+hs:")) != -1) {
		switch (ch) {
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc >= 2 && strcmp(argv[1], "status") == 0) {
		if (argc == 2)
			return cmd_status(socket_path, false);
		if (argc == 3 && strcmp(argv[2], "--json") == 0)
			return cmd_status(socket_path, true);
		usage(stderr);
		return 2;
	}
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
