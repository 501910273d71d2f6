/* addr.h - IP addresses and prefixes as the daemon passes them around.
 * One plain value type shared by the config, the DNS answer walker and the
 * nftables gate, so no module has to know another's representation. */
#ifndef DNSGATE_ADDR_H
#define DNSGATE_ADDR_H

#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>

/* An IPv4 or IPv6 address in network byte order (IPv4 in bytes 0..3). */
struct ip_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

/* A network: address plus prefix length (0..32 or 0..128). */
struct ip_prefix {
	struct ip_addr addr;
	unsigned length;
};

/* Parses "192.0.2.0/24", "2001:db8::/32" or a bare address (full length).
 * Bits beyond the prefix must be zero. Returns 0, or -1 with *reason set. */
int ip_prefix_parse(const char *text, struct ip_prefix *out,
		    const char **reason);

/* Writes the textual form ("192.0.2.1", "2001:db8::1") into buf. */
/* "tcp", "udp", "icmp", "icmpv6", "sctp", else the number into buf. */
const char *ip_protocol_name(uint8_t protocol, char *buf, size_t len);

const char *ip_addr_format(const struct ip_addr *addr, char *buf,
			   size_t buflen);

/* Copies the address of an AF_INET/AF_INET6 socket address. Returns 0 or
 * -1 for another family. */
int ip_addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out);

/* Length in bytes of the address for its family (4 or 16). */
size_t ip_addr_length(const struct ip_addr *addr);

#endif
