/* nft_dump.h - reads the table inet dnsgate back from the kernel: the
 * grants in force (the elements of allow4 and allow6, and the standing
 * grants of standing4 and standing6) and the reject
 * rule (its handle, where new level rules go, and its counter). Used by
 * dnsgatectl, which opens its own socket, and by the gate on its own. */
#ifndef DNSGATE_NFT_DUMP_H
#define DNSGATE_NFT_DUMP_H

#include <stdint.h>

#include "src/addr.h"
#include "src/nft_batch.h"

/* One element of allow4/allow6 as the kernel lists it. */
struct nft_grant {
	uint64_t cgroup_id;
	struct ip_addr addr;
	uint64_t expires_ms; /* remaining time */
	uint64_t timeout_ms; /* the timeout it was given; 0: none */
};

typedef void (*nft_grant_fn)(const struct nft_grant *, void *arg);

/* Calls fn (which may be NULL: count only) for each element of allow4
 * and allow6 in the current network namespace (expired elements are not
 * listed). Returns the number of elements, or -errno with a reason in err
 * (-ENOENT when the table does not exist, -EPROTO for a key of another
 * length than a grant's). */
int nft_dump_grants(nft_grant_fn fn, void *arg, char *err, size_t errlen);

/* The same for the elements of one set, over the socket of b. Returns
 * the number of elements, -ENOENT when the set does not exist, -EPROTO
 * for a key that is not a grant's, or another -errno. */
int nft_dump_set_grants(struct nft_batch *b, const char *set, nft_grant_fn fn,
			void *arg);

/* One element of standing4/standing6 as the kernel lists it: a range of
 * addresses for one cgroup (a network, when dnsgated wrote it). */
struct nft_standing_element {
	uint64_t cgroup_id;
	struct ip_addr first, last;
	uint64_t expires_ms; /* remaining time; 0: none */
	uint64_t timeout_ms; /* the timeout it was given; 0: none */
};

typedef void (*nft_standing_fn)(const struct nft_standing_element *,
				void *arg);

/* Calls fn (NULL: count only) for each element of standing4 and
 * standing6 in the current network namespace. Returns the number of
 * elements, or -errno with a reason in err (-ENOENT when the table or the
 * sets do not exist, -EPROTO for a key that is not a standing grant's). */
int nft_dump_standing(nft_standing_fn fn, void *arg, char *err,
		      size_t errlen);

/* The flags of the table inet dnsgate (NFT_TABLE_F_DORMANT, ...), over
 * the socket of b. Returns 0, -ENOENT when there is no such table, or
 * another -errno. */
int nft_dump_table_flags(struct nft_batch *b, uint32_t *flags);

/* A set of the table as the kernel describes it. */
struct nft_set_shape {
	char name[256]; /* NFT_NAME_MAXLEN */
	uint32_t flags; /* NFT_SET_TIMEOUT, NFT_SET_ANONYMOUS, ... */
	uint32_t key_type;
	uint32_t key_len;
	uint32_t size; /* the most elements it holds; 0: not limited */
};

/* Calls fn for each set of the table inet dnsgate (anonymous ones too),
 * or with the name of each of its chains but binding ones (the name is
 * valid during the call), over
 * the socket of b. Returns 0 or -errno; nft_dump_sets returns -ENOENT
 * when the table does not exist. */
int nft_dump_sets(struct nft_batch *b,
		  void (*fn)(const struct nft_set_shape *, void *), void *arg);
int nft_dump_chains(struct nft_batch *b, void (*fn)(const char *, void *),
		    void *arg);

/* Packets rejected by the gate so far (the reject rule's counter), or
 * -errno (-ENOENT when the table or the rule does not exist). */
int64_t nft_dump_rejected_packets(char *err, size_t errlen);

/* The reject rule at the end of gate-output. */
struct nft_reject_rule {
	uint64_t handle;
	uint64_t packets;
};

/* Finds it over the socket of b. Returns 0, -ENOENT when there is none,
 * or another -errno. */
int nft_dump_reject_rule(struct nft_batch *b, struct nft_reject_rule *out);

#endif
