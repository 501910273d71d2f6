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
#define NFT_SET_REJECTED4 "rejected4"
#define NFT_SET_REJECTED6 "rejected6"

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

/* A rejected connection's key in rejected4/rejected6: the 8-byte cgroup
 * id in host byte order (0: the packet had no socket), the destination
 * address, the protocol (1 byte) and the destination port (2 bytes,
 * network byte order; 0 for protocols other than TCP and UDP), each field
 * padded to 4 bytes. The packet path adds them (dynset update, with the
 * set's counter); the daemon reads and deletes them. */
#define NFT_TYPE_INET_SERVICE 13
#define NFT_TYPE_REJECTED4                                                  \
	((NFT_TYPE_ALLOW4 << NFT_TYPE_BITS | NFT_TYPE_INET_PROTOCOL)         \
		 << NFT_TYPE_BITS |                                          \
	 NFT_TYPE_INET_SERVICE)
#define NFT_TYPE_REJECTED6                                                  \
	((NFT_TYPE_ALLOW6 << NFT_TYPE_BITS | NFT_TYPE_INET_PROTOCOL)         \
		 << NFT_TYPE_BITS |                                          \
	 NFT_TYPE_INET_SERVICE)
#define NFT_REJECTED_KEY_LEN(addr_len) (NFT_CGROUP_ID_LEN + (addr_len) + 8)
/* The most elements each holds (a full set records nothing more; the
 * connection is rejected all the same), and how long one stays when the
 * daemon does not read it. */
#define NFT_REJECTED_SET_SIZE 4096
#define NFT_REJECTED_TIMEOUT_MS 120000

/* The kernel's limit for NFTA_SOCKET_LEVEL. */
#define NFT_LEVEL_LIMIT 255

#endif
