/* listener.c - UDP and TCP DNS sockets on the loopback addresses. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "resolver/listener.h"
#include "resolver/message.h"
#include "resolver/tcp_framing.h"
#include "src/addr.h"
#include "src/log.h"
#include "src/xmalloc.h"

#define TCP_IDLE_SECONDS 10
#define TCP_MAX_CONNECTIONS 256

/* The kernel's receive buffer of each UDP socket: room for a burst of
 * thousands of small queries (each costs about 2 KiB of skb memory, far
 * more than its bytes) while the loop attributes the ones before. Set
 * with SO_RCVBUFFORCE (root), so net.core.rmem_max does not cap it. */
#define UDP_RECEIVE_BUFFER (8 * 1024 * 1024)

struct udp_socket {
	struct listener *owner;
	int fd;
	struct event *ev;
	struct sockaddr_storage local;
};

struct listener {
	struct event_base *base;
	listener_cb cb;
	void *arg;
	listener_tcp_open_cb tcp_open;
	listener_tcp_close_cb tcp_close;
	void *tcp_arg;
	struct udp_socket udp[2];
	size_t n_udp;
	struct evconnlistener *tcp[2];
	struct sockaddr_storage tcp_local[2];
	size_t n_tcp;
	size_t n_conns;
	struct tcp_conn *conns; /* open connections */
	struct listener_request *requests; /* handed out, not yet done */
	size_t n_requests;
	uint8_t buf[DNS_MAX_UDP];
};

/* A TCP connection lives while the socket is open or a request holds it.
 * A client may half-close after its last query, and an answer may take
 * longer than the idle timeout: the socket stays open while answers are
 * owed, and closes once they are written. */
struct tcp_conn {
	struct listener *owner;
	struct bufferevent *bev;
	struct event *deadline; /* the next whole message is due by then */
	uint64_t tag;           /* the open hook's name for its app */
	struct sockaddr_storage client;
	struct sockaddr_storage local;
	struct sockaddr_storage original_dst;
	bool has_original_dst;
	unsigned refs;
	unsigned pending; /* requests not answered yet */
	bool eof;         /* the client will send nothing more */
	struct tcp_conn *prev, *next; /* in owner->conns while open */
};

static void
conn_release(struct tcp_conn *conn)
{
	if (--conn->refs > 0)
		return;
	free(conn);
}

static void
conn_close(struct tcp_conn *conn)
{
	struct listener *l = conn->owner;

	if (conn->bev == NULL)
		return;
	bufferevent_free(conn->bev);
	conn->bev = NULL;
	event_free(conn->deadline);
	conn->deadline = NULL;
	if (l->tcp_close != NULL)
		l->tcp_close(l->tcp_arg, conn->tag);
	if (conn->prev != NULL)
		conn->prev->next = conn->next;
	else
		conn->owner->conns = conn->next;
	if (conn->next != NULL)
		conn->next->prev = conn->prev;
	conn->owner->n_conns--;
	conn->owner = NULL;
	conn_release(conn);
}

static struct listener_request *
request_new(struct listener *l, int protocol, const uint8_t *wire, size_t len)
{
	struct listener_request *req = xcalloc(1, sizeof *req);

	req->protocol = protocol;
	req->wire = xmalloc(len);
	memcpy(req->wire, wire, len);
	req->len = len;
	req->owner = l;
	req->udp_fd = -1;
	req->next = l->requests;
	if (l->requests != NULL)
		l->requests->prev = req;
	l->requests = req;
	l->n_requests++;
	return req;
}

/* Leaves the listener's list; after listener_free the request is an
 * orphan whose reply goes nowhere. */
static void
request_unlink(struct listener_request *req)
{
	struct listener *l = req->owner;

	if (l == NULL)
		return;
	if (req->prev != NULL)
		req->prev->next = req->next;
	else
		l->requests = req->next;
	if (req->next != NULL)
		req->next->prev = req->prev;
	l->n_requests--;
	req->owner = NULL;
	req->prev = req->next = NULL;
}

static void
request_free(struct listener_request *req)
{
	request_unlink(req);
	if (req->conn != NULL)
		conn_release(req->conn);
	free(req->wire);
	free(req);
}

/* A request of conn is answered or dropped: close when nothing more can
 * come in and nothing more is owed, once the output is written. */
static void
conn_request_done(struct tcp_conn *conn)
{
	conn->pending--;
	if (conn->bev == NULL || conn->pending > 0 || !conn->eof)
		return;
	if (evbuffer_get_length(bufferevent_get_output(conn->bev)) == 0)
		conn_close(conn);
	/* else on_tcp_write closes it when the output drains */
}

void
listener_drop(struct listener_request *req)
{
	struct tcp_conn *conn = req->conn;

	if (conn != NULL)
		conn->refs++; /* keep it while deciding */
	request_free(req);
	if (conn != NULL) {
		conn_request_done(conn);
		conn_release(conn);
	}
}

static socklen_t
sockaddr_length(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
					 : sizeof(struct sockaddr_in);
}

void
listener_reply(struct listener_request *req, const uint8_t *wire, size_t len)
{
	if (req->protocol == IPPROTO_UDP) {
		if (req->owner != NULL && req->udp_fd >= 0 &&
		    sendto(req->udp_fd, wire, len, 0,
			   (const struct sockaddr *)&req->client,
			   sockaddr_length(&req->client)) < 0) {
			log_debug("cannot send the UDP answer: %s",
				  strerror(errno));
		}
	} else if (req->conn != NULL && req->conn->bev != NULL && len <= 65535) {
		uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
		struct evbuffer *out = bufferevent_get_output(req->conn->bev);

		evbuffer_add(out, prefix, 2);
		evbuffer_add(out, wire, len);
	}
	listener_drop(req);
}

/* Every datagram that is ready, then back to the loop: a burst of
 * thousands of clients must not wait for one wakeup each while the kernel
 * buffer overflows. LISTENER_UDP_DRAIN_MAX bounds one pass, so TCP and the
 * timers still run under a steady flood. */
static void
on_udp_readable(evutil_socket_t fd, short what, void *arg)
{
	struct udp_socket *u = arg;
	struct listener *l = u->owner;
	int i;

	for (i = 0; i < LISTENER_UDP_DRAIN_MAX; i++) {
		struct sockaddr_storage client;
		socklen_t clen = sizeof client;
		struct listener_request *req;
		ssize_t n;

		n = recvfrom(fd, l->buf, sizeof l->buf, MSG_DONTWAIT,
			     (struct sockaddr *)&client, &clen);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				log_warn("UDP receive failed: %s",
					 strerror(errno));
			return;
		}
		req = request_new(l, IPPROTO_UDP, l->buf, (size_t)n);
		req->client = client;
		req->local = u->local;
		req->udp_fd = u->fd;
		l->cb(l->arg, req);
	}
}

static void
conn_arm_deadline(struct tcp_conn *conn)
{
	struct timeval due = {TCP_IDLE_SECONDS, 0};

	evtimer_add(conn->deadline, &due);
}

/* A client must send each whole message within TCP_IDLE_SECONDS of the
 * last one (or of its connect): bytes trickled in one at a time do not
 * keep a connection, and its app's share of connections, alive. A
 * connection still owed answers is kept until they are written. */
static void
on_tcp_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_conn *conn = arg;

	if (conn->pending > 0) {
		conn_arm_deadline(conn);
		return;
	}
	conn_close(conn);
}

static void
on_tcp_read(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *conn = arg;
	struct listener *l = conn->owner;
	struct evbuffer *in = bufferevent_get_input(bev);

	while (conn->bev != NULL && l != NULL) {
		uint8_t prefix[TCP_FRAMING_PREFIX];
		struct tcp_frame frame;
		struct listener_request *req;
		enum tcp_frame_status status;

		evbuffer_copyout(in, prefix, sizeof prefix);
		status = tcp_framing_next(prefix, evbuffer_get_length(in),
					  &frame);
		if (status == TCP_FRAME_NEED_MORE)
			return;
		if (status == TCP_FRAME_BAD) {
			struct ip_addr a = {0};
			char client[64];

			ip_addr_from_sockaddr((struct sockaddr *)&conn->client,
					      &a);
			log_warn("closed the DNS-over-TCP connection from %s: "
				 "%s",
				 ip_addr_format(&a, client, sizeof client),
				 frame.reason);
			conn_close(conn);
			return;
		}
		evbuffer_drain(in, frame.offset);
		if (evbuffer_remove(in, l->buf, frame.length) !=
		    (int)frame.length) {
			conn_close(conn);
			return;
		}
		req = request_new(l, IPPROTO_TCP, l->buf, frame.length);
		req->client = conn->client;
		req->local = conn->local;
		req->original_dst = conn->original_dst;
		req->has_original_dst = conn->has_original_dst;
		req->conn = conn;
		conn->refs++;
		conn->pending++;
		conn_arm_deadline(conn);
		l->cb(l->arg, req);
	}
}

static void
on_tcp_write(struct bufferevent *bev, void *arg)
{
	struct tcp_conn *conn = arg;

	if (conn->eof && conn->pending == 0)
		conn_close(conn);
}

static void
on_tcp_event(struct bufferevent *bev, short what, void *arg)
{
	struct tcp_conn *conn = arg;

	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_WRITING) &&
	    (conn->pending > 0 ||
	     evbuffer_get_length(bufferevent_get_output(bev)) > 0)) {
		conn->eof = true; /* half-closed: answer what was asked */
		bufferevent_disable(bev, EV_READ);
		return;
	}
	conn_close(conn);
}

#ifndef SO_ORIGINAL_DST
#define SO_ORIGINAL_DST 80 /* linux/netfilter_ipv4.h */
#endif
#ifndef IP6T_SO_ORIGINAL_DST
#define IP6T_SO_ORIGINAL_DST 80 /* linux/netfilter_ipv6/ip6_tables.h */
#endif

/* Where the client meant to connect before the redirect, from conntrack:
 * the client socket's peer, which tells it apart from other sockets
 * sharing its local port. */
static bool
original_destination(int fd, int family, struct sockaddr_storage *out)
{
	socklen_t len = sizeof *out;

	memset(out, 0, sizeof *out);
	if (family == AF_INET)
		return getsockopt(fd, SOL_IP, SO_ORIGINAL_DST, out, &len) == 0;
	return getsockopt(fd, SOL_IPV6, IP6T_SO_ORIGINAL_DST, out, &len) == 0;
}

static void
on_tcp_accept(struct evconnlistener *evl, evutil_socket_t fd,
	      struct sockaddr *sa, int salen, void *arg)
{
	struct listener *l = arg;
	struct tcp_conn *conn;
	struct timeval idle = {TCP_IDLE_SECONDS, 0};
	socklen_t llen;

	if (l->n_conns >= TCP_MAX_CONNECTIONS) {
		log_warn("%d DNS-over-TCP connections open: refusing another",
			 TCP_MAX_CONNECTIONS);
		close(fd);
		return;
	}
	conn = xcalloc(1, sizeof *conn);
	memcpy(&conn->client, sa, (size_t)salen < sizeof conn->client
					  ? (size_t)salen
					  : sizeof conn->client);
	llen = sizeof conn->local;
	getsockname(fd, (struct sockaddr *)&conn->local, &llen);
	conn->has_original_dst =
		original_destination(fd, sa->sa_family, &conn->original_dst);
	if (l->tcp_open != NULL &&
	    l->tcp_open(l->tcp_arg, (struct sockaddr *)&conn->client,
			conn->has_original_dst
				? (struct sockaddr *)&conn->original_dst
				: NULL,
			&conn->tag) < 0) {
		close(fd); /* the hook said why */
		free(conn);
		return;
	}
	conn->owner = l;
	conn->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
	conn->deadline = evtimer_new(l->base, on_tcp_deadline, conn);
	conn->refs = 1; /* the open socket */
	conn->next = l->conns;
	if (l->conns != NULL)
		l->conns->prev = conn;
	l->conns = conn;
	l->n_conns++;
	bufferevent_setcb(conn->bev, on_tcp_read, on_tcp_write, on_tcp_event,
			  conn);
	/* Reading is bounded by the message deadline; writing by this: a
	 * client that does not read its answers is let go. */
	bufferevent_set_timeouts(conn->bev, NULL, &idle);
	bufferevent_enable(conn->bev, EV_READ | EV_WRITE);
	conn_arm_deadline(conn);
}

static void
fill_loopback(int family, uint16_t port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_loopback;
	}
}

/* Root may exceed net.core.rmem_max; anyone else gets what the sysctl
 * allows, and a warning when that is far below the burst size. */
static void
set_receive_buffer(int fd)
{
	int size = UDP_RECEIVE_BUFFER, got = 0;
	socklen_t len = sizeof got;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) == 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
	    got < size / 4)
		log_warn("the DNS socket's receive buffer is %d bytes "
			 "(net.core.rmem_max): a burst of queries may be "
			 "dropped; run dnsgated as root or raise that sysctl",
			 got);
}

static int
open_udp(struct listener *l, int family, uint16_t port)
{
	struct udp_socket *u = &l->udp[l->n_udp];
	int fd, one = 1;

	u->owner = l;
	fill_loopback(family, port, &u->local);
	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	set_receive_buffer(fd);
	if (bind(fd, (struct sockaddr *)&u->local, sockaddr_length(&u->local)) <
	    0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	u->fd = fd;
	u->ev = event_new(l->base, fd, EV_READ | EV_PERSIST, on_udp_readable,
			  u);
	event_add(u->ev, NULL);
	l->n_udp++;
	return 0;
}

static int
open_tcp(struct listener *l, int family, uint16_t port)
{
	struct sockaddr_storage *ss = &l->tcp_local[l->n_tcp];
	struct evconnlistener *evl;
	int fd, one = 1;

	fill_loopback(family, port, ss);
	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)ss, sockaddr_length(ss)) < 0 ||
	    listen(fd, 64) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	evl = evconnlistener_new(l->base, on_tcp_accept, l,
				 LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (evl == NULL) {
		close(fd);
		return -1;
	}
	l->tcp[l->n_tcp++] = evl;
	return 0;
}

struct listener *
listener_new(struct event_base *base, uint16_t port, listener_cb cb,
	     void *arg, char *err, size_t errlen)
{
	struct listener *l = xcalloc(1, sizeof *l);

	l->base = base;
	l->cb = cb;
	l->arg = arg;
	if (open_udp(l, AF_INET, port) < 0 || open_tcp(l, AF_INET, port) < 0) {
		snprintf(err, errlen,
			 "cannot listen on 127.0.0.1 port %u: %s (is another "
			 "DNS server using it? set listen-port)",
			 port, strerror(errno));
		listener_free(l);
		return NULL;
	}
	if (open_udp(l, AF_INET6, port) < 0 || open_tcp(l, AF_INET6, port) < 0)
		log_warn("not listening on [::1]:%u (%s): IPv6 DNS queries "
			 "will go unanswered",
			 port, strerror(errno));
	return l;
}

void
listener_free(struct listener *l)
{
	size_t i;

	if (l == NULL)
		return;
	while (l->requests != NULL)
		request_unlink(l->requests); /* orphans: replies go nowhere */
	for (i = 0; i < l->n_udp; i++) {
		event_free(l->udp[i].ev);
		close(l->udp[i].fd);
	}
	for (i = 0; i < l->n_tcp; i++)
		evconnlistener_free(l->tcp[i]);
	while (l->conns != NULL)
		conn_close(l->conns);
	free(l);
}

size_t
listener_requests_out(const struct listener *l)
{
	return l->n_requests;
}

void
listener_set_tcp_hooks(struct listener *l, listener_tcp_open_cb open_cb,
		       listener_tcp_close_cb close_cb, void *arg)
{
	l->tcp_open = open_cb;
	l->tcp_close = close_cb;
	l->tcp_arg = arg;
}

void
listener_pause(struct listener *l)
{
	struct tcp_conn *conn;
	size_t i;

	for (i = 0; i < l->n_udp; i++)
		event_del(l->udp[i].ev);
	for (i = 0; i < l->n_tcp; i++)
		evconnlistener_disable(l->tcp[i]);
	for (conn = l->conns; conn != NULL; conn = conn->next)
		bufferevent_disable(conn->bev, EV_READ);
}

bool
listener_output_pending(const struct listener *l)
{
	const struct tcp_conn *conn;

	for (conn = l->conns; conn != NULL; conn = conn->next) {
		if (evbuffer_get_length(bufferevent_get_output(conn->bev)) > 0)
			return true;
	}
	return false;
}
