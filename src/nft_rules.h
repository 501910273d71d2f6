/* nft_rules.h - the table inet dnsgate written into a batch: the table,
 * its two chains and every rule, the allow sets, the standing sets, the
 * sets of rejected connections and the exempt sets with their elements,
 * as nft_gate.h lists them. Builders only: the caller
 * starts, sends and owns the batch (nft_batch.h); nothing here waits for
 * the kernel. */
#ifndef DNSGATE_NFT_RULES_H
#define DNSGATE_NFT_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"
#include "src/nft_batch.h"

/* What the rules depend on. */
struct nft_rules_params {
	uint16_t dns_port;      /* where DNS is redirected to */
	uint32_t upstream_mark; /* SO_MARK of the daemon's upstream sockets */
	unsigned max_level;     /* gate rules for cgroup levels 1..max_level */
};

/* The size to give nft_batch_start for a whole table with n_exempt
 * exempt networks and rules for levels 1..max_level. */
size_t nft_rules_table_bytes(unsigned max_level, size_t n_exempt);

/* A message about the table itself: NFT_MSG_NEWTABLE (with NLM_F_CREATE,
 * which also finds an existing one) or NFT_MSG_DELTABLE. */
void nft_rules_table(struct nft_batch *b, uint16_t type, uint16_t flags,
		     const char *label);

/* Creates the chains nat-output and gate-output, without rules. */
void nft_rules_chains(struct nft_batch *b);

/* Creates allow4 and allow6, empty, each of at most set_size elements,
 * with a counter on every element. */
void nft_rules_allow_sets(struct nft_batch *b, uint32_t set_size);

/* Creates rejected4 and rejected6, empty: NFT_REJECTED_SET_SIZE elements
 * at most, filled from the packet path, each with a counter and a timeout
 * of NFT_REJECTED_TIMEOUT_MS. */
void nft_rules_rejected_sets(struct nft_batch *b);

/* Creates standing4 and standing6 (interval sets on a concatenation, with
 * timeouts), empty, each of at most set_size elements. */
void nft_rules_standing_sets(struct nft_batch *b, uint32_t set_size);

/* Creates exempt4 and exempt6 holding the exempt networks (valid
 * prefixes; overlapping ones are merged). */
void nft_rules_exempt_sets(struct nft_batch *b, const struct ip_prefix *exempt,
			   size_t n);

/* Appends every rule of both chains, with gate rules for levels
 * 1..p->max_level. The chains and named sets must exist by then (in the
 * table, or earlier in the batch). */
void nft_rules_rules(struct nft_batch *b, const struct nft_rules_params *p);

/* Gate rules per cgroup level: allow4, allow6 (before the established
 * rule, so that every packet of a granted flow is counted), standing4,
 * standing6, and four that record a rejected connection (nft_gate.h). */
#define NFT_RULES_PER_LEVEL 8

/* Where a level's rules go: its allow rules before the rule with handle
 * established (the "ct state established,related accept" rule), its
 * standing and record rules before the rule with handle records (the
 * first record rule, that of the deepest level there is). 0: appended. */
struct nft_rules_places {
	uint64_t established;
	uint64_t records;
};

/* The gate rules for levels from..to, at their places; record rules
 * deepest first. Needs NFT_RULES_PER_LEVEL * (to - from + 1) *
 * NFT_BATCH_RULE_BYTES. */
void nft_rules_levels(struct nft_batch *b, unsigned from, unsigned to,
		      const struct nft_rules_places *at);

#endif
