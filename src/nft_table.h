/* nft_table.h - the names and element layout of the table inet dnsgate:
 * what the modules that build it (nft_rules), read it (nft_dump) and
 * change it (nft_gate) agree on. nft_gate.h describes the whole table. */
#ifndef DNSGATE_NFT_TABLE_H
#define DNSGATE_NFT_TABLE_H

#define NFT_TABLE_NAME "dnsgate"
#define NFT_CHAIN_NAT "nat-output"
#define NFT_CHAIN_GATE "gate-output"
#define NFT_SET_ALLOW4 "allow4"
#define NFT_SET_ALLOW6 "allow6"
#define NFT_SET_EXEMPT4 "exempt4"
#define NFT_SET_EXEMPT6 "exempt6"
#define NFT_SET_STANDING4 "standing4"
#define NFT_SET_STANDING6 "standing6"

/* A grant's key: the 8-byte cgroup id in host byte order, then the
 * address (4 or 16 bytes, network byte order). */
#define NFT_CGROUP_ID_LEN 8
/* A standing grant's key is a range, first and last: the cgroup id in
 * network byte order (as nft keeps it in an interval set on a
 * concatenation, which the rule's byteorder expression matches), then the
 * address. The set's flags are NFT_SET_STANDING_FLAGS. */
#define NFT_SET_STANDING_FLAGS \
	(NFT_SET_INTERVAL | NFT_SET_TIMEOUT | NFT_SET_CONCAT)

/* nftables' datatype numbers (nftables src/datatype.h), so that `nft list`
 * can print the keys; a concatenation chains them 6 bits apart. */
#define NFT_TYPE_IPADDR 7
#define NFT_TYPE_IP6ADDR 8
#define NFT_TYPE_INET_PROTOCOL 12
#define NFT_TYPE_ICMPV6_TYPE 29
#define NFT_TYPE_CGROUPV2 46
#define NFT_TYPE_BITS 6
/* The key types of allow4 and allow6. */
#define NFT_TYPE_ALLOW4 (NFT_TYPE_CGROUPV2 << NFT_TYPE_BITS | NFT_TYPE_IPADDR)
#define NFT_TYPE_ALLOW6 (NFT_TYPE_CGROUPV2 << NFT_TYPE_BITS | NFT_TYPE_IP6ADDR)

/* The kernel's limit for NFTA_SOCKET_LEVEL. */
#define NFT_LEVEL_LIMIT 255

#endif
