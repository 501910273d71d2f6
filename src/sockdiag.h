/* sockdiag.h - who owns a local socket, asked of the kernel over
 * NETLINK_SOCK_DIAG (libmnl). Used while a DNS client's socket is still
 * open, so the answer is the kernel's word, not a /proc race. */
#ifndef DNSGATE_SOCKDIAG_H
#define DNSGATE_SOCKDIAG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct sockdiag;

struct sock_owner {
	uint32_t uid;
	uint64_t inode;
	uint64_t cgroup_id; /* INET_DIAG_CGROUP_ID; 0 if the kernel has none */
};

/* How the lookups went. */
struct sockdiag_stats {
	uint64_t exact;       /* one-socket lookups asked (UDP) */
	uint64_t exact_found; /* lookups one of them answered */
	uint64_t dumps;       /* lookups that dumped the table */
};

struct sockdiag *sockdiag_open(char *err, size_t errlen);
void sockdiag_close(struct sockdiag *sd);

/* Finds the local socket of protocol (IPPROTO_UDP or IPPROTO_TCP) whose
 * local port and address are those of client (the source address of a
 * query the daemon received). Works for connected and unconnected UDP
 * sockets and for sockets bound to the wildcard address: the dump is
 * filtered in the kernel on the source port, and among the results an
 * exact local address wins over a wildcard one. An IPv4 client is also
 * looked for among IPv6 sockets as ::ffff:a.b.c.d (or ::) when no IPv4
 * socket fits; IPv6-only sockets are skipped then. A v4-mapped IPv6
 * client address (from a dual-stack listener) counts as IPv4. Among equal
 * fits (SO_REUSEPORT groups) the first the kernel reports wins. (The
 * daemon's own accepted TCP socket has the daemon's port as its local
 * port, so it is never mistaken for the client's.)
 * server, when not NULL, is the client socket's remote end: for TCP the
 * original destination of the redirected connection, which the socket's
 * peer must be exactly (several connected sockets of different apps may
 * share one local port); for UDP the address the query arrived at, and
 * a socket also qualifies when unconnected or connected to any port-53
 * server (the redirect rewrote the destination). NULL: any peer.
 * Returns 0, -ENOENT when no such socket exists (any more),
 * -EAFNOSUPPORT / -EPROTONOSUPPORT for another family or protocol, or
 * -errno from netlink (the handle stays usable).
 * A UDP socket is first asked for by its 4-tuple, one hash lookup in
 * the kernel: connected to one of the last port-53 servers a dump found
 * a client connected to, then unconnected; only when neither finds it
 * is the table dumped (and its server learned). */
int sockdiag_lookup(struct sockdiag *sd, int protocol,
		    const struct sockaddr *client, const struct sockaddr *server,
		    struct sock_owner *out);

void sockdiag_get_stats(const struct sockdiag *sd, struct sockdiag_stats *out);

/* Whether UDP sockets are asked for by their 4-tuple first (the
 * default); off, every lookup dumps the table: for the tests, which run
 * both ways. */
void sockdiag_use_tuple_lookups(struct sockdiag *sd, bool on);

#endif
