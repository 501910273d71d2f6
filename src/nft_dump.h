/* nft_dump.h - reads the table inet dnsgate back from the kernel: the
 * grants in force (the elements of allow4 and allow6 with their
 * counters, and the standing grants of standing4 and standing6), the
 * rejected connections recorded in rejected4 and rejected6, and the
 * reject rules (where new level rules go, and their counters). Used by
 * dnsgatectl, which opens its own socket, and by the gate on its own. */
#ifndef DNSGATE_NFT_DUMP_H
#define DNSGATE_NFT_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"
#include "src/nft_batch.h"

/* One element of allow4/allow6 as the kernel lists it. */
struct nft_grant {
	uint64_t cgroup_id;
	struct ip_addr addr;
	uint64_t expires_ms; /* remaining time */
	uint64_t timeout_ms; /* the timeout it was given; 0: none */
	/* What its counter says: the packets and bytes sent to addr by the
	 * cgroup's sockets since the grant was made (a segmentation offload
	 * packet counts once, with all its bytes). 0 in a set without
	 * counters. */
	uint64_t packets, bytes;
};

typedef void (*nft_grant_fn)(const struct nft_grant *, void *arg);

/* Calls fn (which may be NULL: count only) for each element of allow4
 * and allow6 in the current network namespace (expired elements are not
 * listed). Returns the number of elements, or -errno with a reason in err
 * (-ENOENT when the table does not exist, -EPROTO for a key of another
 * length than a grant's). */
int nft_dump_grants(nft_grant_fn fn, void *arg, char *err, size_t errlen);

/* For a reader that runs the dump itself (grant_traffic.h): the request
 * for the elements of set, built into buf (at least 1024 bytes) with
 * sequence number seq, and the mnl callback that hands each grant of a
 * reply to listing->fn. */
struct nft_grant_listing {
	nft_grant_fn fn;
	void *arg;
	int count;
	bool bad_key; /* a key of another length than a grant's */
};

struct nlmsghdr *nft_dump_elements_request(char *buf, const char *set,
					   uint32_t seq);
int nft_dump_grant_reply(const struct nlmsghdr *nlh, void *listing);

/* The same for the elements of one set, over the socket of b. Returns
 * the number of elements, -ENOENT when the set does not exist, -EPROTO
 * for a key that is not a grant's, or another -errno. */
int nft_dump_set_grants(struct nft_batch *b, const char *set, nft_grant_fn fn,
			void *arg);

/* One element of rejected4/rejected6: connections of one cgroup to one
 * destination rejected since the element was made. */
struct nft_rejected {
	uint64_t cgroup_id; /* 0: the packets had no socket */
	struct ip_addr addr;
	uint8_t protocol;   /* IPPROTO_TCP, ... */
	uint16_t port;      /* host byte order; 0 but for TCP and UDP */
	uint64_t packets, bytes;
};

typedef void (*nft_rejected_fn)(const struct nft_rejected *, void *arg);

/* Calls fn for each element of rejected4 and rejected6 over the socket
 * of b. Returns the number of elements, -ENOENT when a set does not
 * exist, -EPROTO for a key of another length, or another -errno. */
int nft_dump_rejected(struct nft_batch *b, nft_rejected_fn fn, void *arg);

/* The element key of r, as nft_table.h lays it out, into key (at least
 * NFT_REJECTED_KEY_LEN(16) bytes). Returns its length. */
size_t nft_rejected_key(const struct nft_rejected *r, uint8_t *key);

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
	bool counter;  /* it has a counter for each element */
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

/* Packets rejected by the gate so far (the counters of the reject rule
 * and of the rules that record rejections), or -errno (-ENOENT when the
 * table or the rule does not exist). */
int64_t nft_dump_rejected_packets(char *err, size_t errlen);

/* The rules of gate-output that new level rules go before. */
struct nft_reject_rule {
	uint64_t handle;  /* the reject rule at the end */
	uint64_t packets; /* its counter and the record rules' together */
	uint64_t established; /* "ct state established,related accept";
				 0: none */
	uint64_t records; /* the first rule recording rejections; 0: none */
};

/* Finds them over the socket of b. Returns 0, -ENOENT when there is no
 * reject rule, or another -errno. */
int nft_dump_reject_rule(struct nft_batch *b, struct nft_reject_rule *out);

#endif
