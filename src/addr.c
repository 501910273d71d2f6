/* addr.c - parsing and printing of addresses and prefixes. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/addr.h"

size_t
ip_addr_length(const struct ip_addr *addr)
{
	return addr->family == AF_INET ? 4 : 16;
}

int
ip_prefix_parse(const char *text, struct ip_prefix *out, const char **reason)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t addrlen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	unsigned maxlen, length, bit;

	memset(out, 0, sizeof *out);
	if (addrlen == 0 || addrlen >= INET6_ADDRSTRLEN) {
		*reason = "not an IP address";
		return -1;
	}
	memcpy(buf, text, addrlen);
	buf[addrlen] = '\0';
	if (inet_pton(AF_INET, buf, out->addr.bytes) == 1) {
		out->addr.family = AF_INET;
		maxlen = 32;
	} else if (inet_pton(AF_INET6, buf, out->addr.bytes) == 1) {
		out->addr.family = AF_INET6;
		maxlen = 128;
	} else {
		*reason = "not an IP address";
		return -1;
	}
	length = maxlen;
	if (slash != NULL) {
		char *end;
		unsigned long v;

		if (slash[1] < '0' || slash[1] > '9') {
			*reason = "prefix length is not a number";
			return -1;
		}
		v = strtoul(slash + 1, &end, 10);
		if (*end != '\0' || v > maxlen) {
			*reason = "prefix length out of range";
			return -1;
		}
		length = (unsigned)v;
	}
	for (bit = length; bit < maxlen; bit++) {
		if (out->addr.bytes[bit / 8] & (0x80 >> (bit % 8))) {
			*reason = "address has bits set beyond the prefix length";
			return -1;
		}
	}
	out->length = length;
	return 0;
}

const char *
ip_addr_format(const struct ip_addr *addr, char *buf, size_t buflen)
{
	if (inet_ntop(addr->family, addr->bytes, buf, (socklen_t)buflen) ==
	    NULL) {
		if (buflen > 0)
			buf[0] = '\0';
	}
	return buf;
}

int
ip_addr_from_sockaddr(const struct sockaddr *sa, struct ip_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		memcpy(out->bytes, &sin->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 =
			(const struct sockaddr_in6 *)sa;

		out->family = AF_INET6;
		memcpy(out->bytes, &sin6->sin6_addr, 16);
		return 0;
	}
	return -1;
}

const char *
ip_protocol_name(uint8_t protocol, char *buf, size_t len)
{
	switch (protocol) {
	case IPPROTO_TCP:
		return "tcp";
	case IPPROTO_UDP:
		return "udp";
	case IPPROTO_ICMP:
		return "icmp";
	case IPPROTO_ICMPV6:
		return "icmpv6";
	case IPPROTO_SCTP:
		return "sctp";
	default:
		snprintf(buf, len, "%u", protocol);
		return buf;
	}
}
