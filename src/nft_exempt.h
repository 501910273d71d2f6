/* nft_exempt.h - the exempt networks as the elements of an nftables
 * interval set, encoded as nft encodes them: prefixes become ranges,
 * overlapping and adjacent ranges are merged (the kernel refuses
 * overlapping intervals), and each range is a start element and an end
 * element. Plain computation, no netlink: tested without a kernel. */
#ifndef DNSGATE_NFT_EXEMPT_H
#define DNSGATE_NFT_EXEMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"

/* One element of an interval set. */
struct nft_interval_element {
	uint8_t key[16]; /* network byte order; IPv4 uses bytes 0..3 */
	bool end;        /* NFT_SET_ELEM_INTERVAL_END: the first address after
			    a range */
	bool open;       /* a range that runs to the top of the address
			    space: it has no end element */
};

/* The elements for the prefixes of one family (AF_INET or AF_INET6; the
 * others are skipped), in address order: when no range starts at zero, an
 * end element at zero comes first, as nft writes it. Returns the count
 * and an array the caller frees (NULL when the count is 0). The prefixes
 * must be valid (length within the family's bits). */
size_t nft_exempt_elements(const struct ip_prefix *prefixes, size_t n,
			   int family, struct nft_interval_element **out);

#endif
