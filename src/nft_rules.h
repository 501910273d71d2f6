/* nft_rules.h - the table inet dnsgate written into a batch: the table,
 * its two chains and every rule, the allow sets, the standing sets and
 * the exempt sets with their elements, as nft_gate.h lists them. Builders only: the caller
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

/* Creates allow4 and allow6, empty, each of at most set_size elements. */
void nft_rules_allow_sets(struct nft_batch *b, uint32_t set_size);

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

/* Gate rules per cgroup level: allow4, allow6, standing4, standing6. */
#define NFT_RULES_PER_LEVEL 4

/* The gate rules for levels from..to (NFT_RULES_PER_LEVEL per level),
 * inserted before the rule with handle before_handle, or appended when it
 * is 0. Needs NFT_RULES_PER_LEVEL * (to - from + 1) *
 * NFT_BATCH_RULE_BYTES. */
void nft_rules_levels(struct nft_batch *b, unsigned from, unsigned to,
		      uint64_t before_handle);

#endif
