/* listener.h - the client-facing sockets: UDP and TCP on 127.0.0.1 and
 * ::1 at the configured port, where the redirect delivers every DNS query
 * of the host. Each message becomes a request handed to one callback; the
 * answer goes back on the transport it came from (TCP: two-byte length
 * framing, several queries per connection; a connection that does not
 * deliver a whole message within 10 s of the last one is closed, however
 * many bytes it trickles). */
#ifndef DNSGATE_LISTENER_H
#define DNSGATE_LISTENER_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Datagrams read per wakeup of a UDP socket, at most (a burst of 1,000
 * clients is read in one pass). */
#define LISTENER_UDP_DRAIN_MAX 4096

struct event_base;
struct listener;
struct tcp_conn;

struct listener_request {
	int protocol; /* IPPROTO_UDP or IPPROTO_TCP */
	struct sockaddr_storage client;
	struct sockaddr_storage local; /* the listening address */
	/* TCP: where the client connected before the redirect (its
	 * socket's peer), from conntrack; UDP: not known. */
	struct sockaddr_storage original_dst;
	bool has_original_dst;
	uint8_t *wire;                 /* the query, owned by the request */
	size_t len;
	/* private to the listener */
	struct listener *owner; /* NULL once the listener is freed */
	int udp_fd;
	struct tcp_conn *conn;
	struct listener_request *prev, *next; /* in owner's requests */
};

typedef void (*listener_cb)(void *arg, struct listener_request *req);

/* Asked for each accepted TCP connection before anything is read from
 * it: return 0 to serve it, setting *tag to anything the close hook
 * should be told, or -1 to close it at once. original_dst is NULL when
 * conntrack does not know it. */
typedef int (*listener_tcp_open_cb)(void *arg, const struct sockaddr *client,
				    const struct sockaddr *original_dst,
				    uint64_t *tag);
/* Told when a connection the open hook admitted is closed. */
typedef void (*listener_tcp_close_cb)(void *arg, uint64_t tag);

/* Binds UDP and TCP on 127.0.0.1:port and [::1]:port. An address family
 * the host lacks (no ::1) is logged and skipped; failing to bind 127.0.0.1
 * is fatal (NULL with a reason in err). */
struct listener *listener_new(struct event_base *base, uint16_t port,
			      listener_cb cb, void *arg, char *err,
			      size_t errlen);

void listener_set_tcp_hooks(struct listener *l, listener_tcp_open_cb open_cb,
			    listener_tcp_close_cb close_cb, void *arg);

/* Closes every socket. Requests still out remain valid: each is an orphan
 * whose reply is dropped, never sent on a closed (or reused) descriptor.
 * The caller should answer them first (query_engine_stop). */
void listener_free(struct listener *l);

/* Stops reading: no new query is taken (at shutdown, so the ones out can
 * be answered while the redirect still brings the answers home). */
void listener_pause(struct listener *l);

/* Whether a TCP answer still waits to be written. */
bool listener_output_pending(const struct listener *l);

/* Requests handed to the callback and not yet replied to or dropped. */
size_t listener_requests_out(const struct listener *l);

/* Sends the answer to the request's client and frees the request. */
void listener_reply(struct listener_request *req, const uint8_t *wire,
		    size_t len);

/* Frees the request without answering. */
void listener_drop(struct listener_request *req);

#endif
