/* test_nft_rules.c - the table nft_rules builds is, as nft lists it, the
 * table nft itself builds from the text in nft_gate.h, in a private
 * network namespace. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "src/nft_batch.h"
#include "src/nft_dump.h"
#include "src/nft_rules.h"
#include "src/nft_table.h"
#include "tests/unit/check.h"
#include "tests/unit/nft_test.h"

#define DNS_PORT 5453
#define UPSTREAM_MARK 0x123
#define SET_SIZE 4

/* Overlapping and adjacent networks on purpose: they are merged. */
static const char *const exempt_texts[] = {
	"198.51.100.0/24", "192.0.2.128/25",   "198.51.100.7",
	"203.0.113.0/25",  "203.0.113.128/25", "2001:db8:ffff::/48",
	"ff00::/8",
};
#define N_EXEMPT (sizeof exempt_texts / sizeof exempt_texts[0])
static struct ip_prefix exempt[N_EXEMPT];

/* What `nft -f` would be given for the table with rules for levels
 * 1..levels, in a table of the given name; nft lists ours so, with the
 * rules for packets without a socket (unknown), which nft cannot read. */
static char *
reference_ruleset(const char *table, unsigned levels, bool unknown)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	fprintf(f,
		"table inet %s {\n"
		"\tset allow4 {\n"
		"\t\ttype cgroupsv2 . ipv4_addr\n"
		"\t\tsize %d\n"
		"\t\tflags timeout\n"
		"\t\tcounter\n"
		"\t}\n"
		"\tset allow6 {\n"
		"\t\ttype cgroupsv2 . ipv6_addr\n"
		"\t\tsize %d\n"
		"\t\tflags timeout\n"
		"\t\tcounter\n"
		"\t}\n"
		"\tset standing4 {\n"
		"\t\ttype cgroupsv2 . ipv4_addr\n"
		"\t\tsize %d\n"
		"\t\tflags interval,timeout\n"
		"\t}\n"
		"\tset standing6 {\n"
		"\t\ttype cgroupsv2 . ipv6_addr\n"
		"\t\tsize %d\n"
		"\t\tflags interval,timeout\n"
		"\t}\n"
		"\tset rejected4 {\n"
		"\t\ttype cgroupsv2 . ipv4_addr . inet_proto . inet_service\n"
		"\t\tsize 4096\n"
		"\t\tflags dynamic,timeout\n"
		"\t\tcounter\n"
		"\t\ttimeout 2m\n"
		"\t}\n"
		"\tset rejected6 {\n"
		"\t\ttype cgroupsv2 . ipv6_addr . inet_proto . inet_service\n"
		"\t\tsize 4096\n"
		"\t\tflags dynamic,timeout\n"
		"\t\tcounter\n"
		"\t\ttimeout 2m\n"
		"\t}\n"
		"\tset exempt4 {\n"
		"\t\ttype ipv4_addr\n"
		"\t\tflags interval\n"
		"\t\telements = { 192.0.2.128/25, 198.51.100.0/24, "
		"203.0.113.0/24 }\n"
		"\t}\n"
		"\tset exempt6 {\n"
		"\t\ttype ipv6_addr\n"
		"\t\tflags interval\n"
		"\t\telements = { 2001:db8:ffff::/48, ff00::/8 }\n"
		"\t}\n"
		"\tchain nat-output {\n"
		"\t\ttype nat hook output priority -100; policy accept;\n"
		"\t\tmeta mark != 0x%08x meta l4proto { tcp, udp } th dport 53 "
		"redirect to :%d\n"
		"\t}\n"
		"\tchain gate-output {\n"
		"\t\ttype filter hook output priority filter; policy accept;\n"
		"\t\tmeta l4proto { tcp, udp } th dport 53 meta mark != 0x%08x "
		"ct direction original ct status ! dnat counter reject with "
		"icmpx "
		"admin-prohibited\n",
		table, SET_SIZE, SET_SIZE, SET_SIZE, SET_SIZE, UPSTREAM_MARK, DNS_PORT,
		UPSTREAM_MARK);
	print_allow_rules(f, levels);
	fprintf(f,
		"\t\tct state established,related accept\n"
		"\t\toif \"lo\" accept\n"
		"\t\tmeta mark 0x%08x accept\n"
		"\t\ticmpv6 type { mld-listener-report, nd-router-solicit, "
		"nd-neighbor-solicit, nd-neighbor-advert, mld2-listener-report "
		"} accept\n"
		"\t\tip daddr 127.0.0.1 meta l4proto { tcp, udp } th dport %d "
		"accept\n"
		"\t\tip6 daddr ::1 meta l4proto { tcp, udp } th dport %d "
		"accept\n"
		"\t\tip daddr @exempt4 accept\n"
		"\t\tip6 daddr @exempt6 accept\n",
		UPSTREAM_MARK, DNS_PORT, DNS_PORT);
	print_level_rules(f, levels);
	if (unknown)
		print_record_rules(f, "0");
	fprintf(f, "\t\tcounter packets 0 bytes 0 reject with icmpx "
		   "admin-prohibited\n"
		   "\t}\n"
		   "}\n");
	fclose(f);
	return text;
}

/* nft's listing of the dnsgate table must be the listing of the same
 * ruleset loaded from text by nft itself. */
static void
check_listing_matches_nft(unsigned levels)
{
	/* A name as long as "dnsgate", so the listings line up. */
	char *reference = reference_ruleset("refgate", levels, false);
	char *ours, *theirs, *p;

	if (!have_nft) {
		free(reference);
		return;
	}
	CHECK_INT(nft_load(reference), 0);
	/* nft's listing of what it was given, and of what it lists ours as:
	 * the same text with the rules it cannot read. */
	theirs = capture("nft list table inet refgate");
	CHECK_INT(nft_run("delete table inet refgate"), 0);
	if (theirs != NULL) {
		const char *tail = "\t\tcounter packets 0 bytes 0 reject with "
				   "icmpx admin-prohibited\n\t}\n}\n";
		char *unknown = reference_ruleset("x", 0, true);
		char *lines = strstr(unknown, "\t\tmeta l4proto { tcp, udp } "
					      "update @rejected4 { 0 .");
		char *joined;

		CHECK(lines != NULL && strlen(theirs) > strlen(tail));
		if (lines != NULL && strlen(theirs) > strlen(tail)) {
			*strstr(lines, tail) = '\0';
			theirs[strlen(theirs) - strlen(tail)] = '\0';
			if (asprintf(&joined, "%s%s%s", theirs, lines, tail) < 0)
				abort();
			free(theirs);
			theirs = joined;
		}
		free(unknown);
	}
	ours = capture("nft list table inet dnsgate");
	CHECK(ours != NULL && theirs != NULL);
	if (ours != NULL && theirs != NULL) {
		p = strstr(theirs, "table inet refgate");
		CHECK(p != NULL);
		if (p != NULL)
			memcpy(p, "table inet dnsgate",
			       strlen("table inet dnsgate"));
		CHECK_STR(ours, theirs);
	}
	if (ours != NULL) {
		CHECK(strstr(ours, "meta mark != 0x00000123 meta l4proto "
				   "{ tcp, udp } th dport 53 redirect to "
				   ":5453\n") != NULL);
		CHECK(strstr(ours, "socket cgroupv2 level 1 . ip daddr @allow4 "
				   "accept\n") != NULL);
		CHECK(strstr(ours, "counter packets 0 bytes 0 reject with "
				   "icmpx admin-prohibited\n") != NULL);
	}
	free(reference);
	free(ours);
	free(theirs);
}

/* The whole table in one batch, as the gate creates it. */
static int
build_table(struct nft_batch *b, unsigned levels, char *err, size_t errlen)
{
	struct nft_rules_params p = {DNS_PORT, UPSTREAM_MARK, levels};

	nft_batch_start(b, nft_rules_table_bytes(levels, N_EXEMPT));
	nft_rules_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "creating");
	nft_rules_chains(b);
	nft_rules_allow_sets(b, SET_SIZE);
	nft_rules_standing_sets(b, SET_SIZE);
	nft_rules_rejected_sets(b);
	nft_rules_exempt_sets(b, exempt, N_EXEMPT);
	nft_rules_rules(b, &p);
	return nft_batch_send(b, err, errlen);
}

static void
test_table(struct nft_batch *b)
{
	struct nft_reject_rule reject;
	struct nft_rules_places at;
	char err[256];

	CHECK_INT(build_table(b, 2, err, sizeof err), 0);
	check_listing_matches_nft(2);

	/* Levels 3 and 4 go at their places: allow rules before the
	 * established rule, standing ones after level 2's, record rules
	 * before level 2's, deepest first. */
	CHECK_INT(nft_dump_reject_rule(b, &reject), 0);
	CHECK(reject.established != 0 && reject.records != 0 &&
	      reject.records < reject.handle);
	at.established = reject.established;
	at.records = reject.records;
	nft_batch_start(b, 2 * NFT_RULES_PER_LEVEL * NFT_BATCH_RULE_BYTES);
	nft_rules_levels(b, 3, 4, &at);
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	check_listing_matches_nft(4);

	nft_batch_start(b, 0);
	nft_rules_table(b, NFT_MSG_DELTABLE, 0, "deleting");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
}

/* Without exempt networks the exempt sets are empty, and still there
 * for the rules that look them up. */
static void
test_no_exempt(struct nft_batch *b)
{
	struct nft_rules_params p = {DNS_PORT, UPSTREAM_MARK, 1};
	char err[256], *set;

	nft_batch_start(b, nft_rules_table_bytes(1, 0));
	nft_rules_table(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, "creating");
	nft_rules_chains(b);
	nft_rules_allow_sets(b, SET_SIZE);
	nft_rules_standing_sets(b, SET_SIZE);
	nft_rules_rejected_sets(b);
	nft_rules_exempt_sets(b, NULL, 0);
	nft_rules_rules(b, &p);
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
	if (have_nft) {
		set = capture("nft list set inet dnsgate exempt4");
		CHECK(set != NULL && strstr(set, "elements") == NULL);
		free(set);
	}
	nft_batch_start(b, 0);
	nft_rules_table(b, NFT_MSG_DELTABLE, 0, "deleting");
	CHECK_INT(nft_batch_send(b, err, sizeof err), 0);
}

int
main(void)
{
	struct nft_batch *b;
	char err[256];
	size_t i;
	int skip = enter_test_namespace();

	if (skip != 0)
		return skip;
	for (i = 0; i < N_EXEMPT; i++) {
		const char *reason;

		CHECK_INT(ip_prefix_parse(exempt_texts[i], &exempt[i], &reason),
			  0);
	}
	b = nft_batch_new(err, sizeof err);
	CHECK(b != NULL);
	if (b == NULL) {
		fprintf(stderr, "nft_batch_new: %s\n", err);
		return check_exit();
	}
	test_table(b);
	test_no_exempt(b);
	nft_batch_free(b);
	return check_exit();
}
