/* nft_adopt.h - taking over the table inet dnsgate that an earlier
 * dnsgated left (a crash, a kill -9). Its grant sets allow4 and allow6
 * are kept, when they are the sets this configuration would make, and
 * their elements are not touched, so every grant keeps its remaining
 * timeout. Everything else in the table (chains, rules, the exempt sets,
 * whatever another program added) is deleted in the batch that builds it
 * anew, so there is no moment without a gate and none with stale rules.
 * Elements dnsgated cannot have written (no timeout, or more time left
 * than grant-ttl-max allows) are deleted in that batch too. The standing
 * sets standing4 and standing6 are kept when they are what this
 * configuration makes, and emptied in the batch: a standing grant may
 * have no timeout, so dnsgated's cannot be told from another program's,
 * and dnsgated writes its own again after the adoption. A table of an
 * older dnsgated without them is adopted all the same and gets them. A
 * table that another program made dormant is not trusted: it is
 * replaced. */
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
	bool standing_kept;  /* keep: standing4 and standing6 are kept (and
				emptied); when false, the caller makes them
				(any there are in sets, deleted) */

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
 * set but allow4 and allow6 (and the standing sets, when kept) deleted, the
 * distrusted elements deleted, and kept standing sets emptied. The caller then
 * adds the chains, the exempt sets, the standing sets unless kept, and the
 * rules (nft_rules.h). For a plan with keep set. */
void nft_adopt_clear(struct nft_batch *b, const struct nft_adopt_plan *plan);

void nft_adopt_plan_free(struct nft_adopt_plan *plan);

/* Whether s (NULL: there is no such set) is the set called name with
 * these flags and key that nft_rules makes with set_size (an allow set:
 * NFT_SET_TIMEOUT, with a counter on each element; a standing set:
 * NFT_SET_STANDING_FLAGS): returns NULL
 * when it is, or else the reason, written into buf ("allow4 holds at most
 * 4 elements, and set-size is now 8"). */
const char *nft_adopt_set_mismatch(const struct nft_set_shape *s,
				   const char *name, uint32_t flags,
				   uint32_t key_type, uint32_t key_len,
				   uint32_t set_size, char *buf, size_t buflen);

#endif
