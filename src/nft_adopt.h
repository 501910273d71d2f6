/* nft_adopt.h - taking over the table inet dnsgate that an earlier
 * dnsgated left (a crash, a kill -9). Its grant sets allow4 and allow6
 * are kept, when they are the sets this configuration would make, and
 * their elements are not touched, so every grant keeps its remaining
 * timeout. Everything else in the table (chains, rules, the exempt sets,
 * whatever another program added) is deleted in the batch that builds it
 * anew, so there is no moment without a gate and none with stale rules.
 * Elements dnsgated cannot have written (no timeout, or more time left
 * than grant-ttl-max allows) are deleted in that batch too. A table that
 * another program made dormant is not trusted: it is replaced. */
#ifndef DNSGATE_NFT_ADOPT_H
#define DNSGATE_NFT_ADOPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/nft_batch.h"
#include "src/nft_dump.h"

struct nft_adopt_plan {
	bool found;          /* the table exists */
	bool keep;           /* its allow sets can be kept */
	char why_not[256];   /* found && !keep: why its grants must go */
	unsigned grants;     /* live grants in allow4 and allow6 (but not the
				distrusted ones) */
	size_t n_distrusted; /* elements dnsgated cannot have written */

	/* What nft_adopt_clear deletes (owned by the plan). */
	char (*chains)[256];
	size_t n_chains;
	char (*sets)[256];
	size_t n_sets;
	struct nft_grant *distrusted;
};

/* Looks at the table over the socket of b, for allow sets of set_size
 * elements and grants of at most max_timeout_sec (0: no limit). With
 * check_elements false the elements are taken as they are, neither
 * listed nor counted (grants stays 0): for a caller that saw every change
 * made to them (nft_watch.h). Returns 0
 * with the plan filled in (found is false when there is no table), or
 * -errno with a reason in err. The caller frees the plan with
 * nft_adopt_plan_free, also after an error. */
int nft_adopt_inspect(struct nft_batch *b, uint32_t set_size,
		      uint32_t max_timeout_sec, bool check_elements,
		      struct nft_adopt_plan *plan, char *err, size_t errlen);

/* The size nft_adopt_clear needs, for nft_batch_start. */
size_t nft_adopt_clear_bytes(const struct nft_adopt_plan *plan);

/* Writes into the started batch: the table, every rule and chain deleted, every
 * set but allow4 and allow6 deleted, and the distrusted elements deleted. The
 * caller then adds the chains, the exempt sets and the rules (nft_rules.h). For
 * a plan with keep set. */
void nft_adopt_clear(struct nft_batch *b, const struct nft_adopt_plan *plan);

void nft_adopt_plan_free(struct nft_adopt_plan *plan);

/* Whether s (NULL: there is no such set) is the allow set called name
 * that nft_rules_allow_sets makes with set_size: returns NULL when it is,
 * or else the reason, written into buf ("allow4 holds at most 4 elements,
 * and set-size is now 8"). */
const char *nft_adopt_set_mismatch(const struct nft_set_shape *s,
				   const char *name, uint32_t key_type,
				   uint32_t key_len, uint32_t set_size,
				   char *buf, size_t buflen);

#endif
