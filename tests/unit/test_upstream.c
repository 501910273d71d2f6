/* test_upstream.c - the c-ares upstream on a real loop, against a UDP
 * server of the test's own on 127.0.0.1. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ares.h>
#include <event2/event.h>

#include "check.h"
#include "upstream.h"

#define N_QUERIES 48

struct held {
	struct sockaddr_in from;
	uint8_t wire[512];
	size_t len;
};

static struct held held[N_QUERIES];
static int n_held;
static int answers_ok, answers_failed;
static char last_reason[128];

static void
on_result(void *arg, int status, const uint8_t *answer, size_t len,
	  const char *reason)
{
	if (status == 0 && len >= 12 && (answer[2] & 0x80))
		answers_ok++;
	else {
		answers_failed++;
		snprintf(last_reason, sizeof last_reason, "%s",
			 reason ? reason : "");
	}
}

/* "a.test. IN A" with ID id. */
static size_t
make_query(uint8_t *buf, uint16_t id)
{
	static const uint8_t q[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
				    1, 'a', 4, 't', 'e', 's', 't', 0,
				    0, 1, 0, 1};

	memcpy(buf, q, sizeof q);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	return sizeof q;
}

static int
server_socket(uint16_t *port)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof sin) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) < 0)
		return -1;
	*port = ntohs(sin.sin_port);
	return fd;
}

/* Holds every query that arrives, unanswered. */
static void
on_server(evutil_socket_t fd, short what, void *arg)
{
	for (;;) {
		struct held *h = &held[n_held < N_QUERIES ? n_held : 0];
		socklen_t len = sizeof h->from;
		ssize_t n = recvfrom(fd, h->wire, sizeof h->wire, 0,
				     (struct sockaddr *)&h->from, &len);

		if (n < 0)
			return;
		if (n_held < N_QUERIES) {
			h->len = (size_t)n;
			n_held++;
		}
	}
}

/* Options for one upstream, 127.0.0.1:port, tried once; server is the
 * caller's buffer for its text and servers its one-entry list. */
static void
one_server(struct upstream_options *o, char **servers, char *server,
	   size_t serverlen, uint16_t port, unsigned timeout_ms)
{
	snprintf(server, serverlen, "127.0.0.1:%u", port);
	servers[0] = server;
	memset(o, 0, sizeof *o);
	o->servers = servers;
	o->n_servers = 1;
	o->mark = 0x64676174;
	o->timeout_ms = timeout_ms;
	o->tries = 1;
}

static void
run_until(struct event_base *base, int *counter, int want)
{
	int i;

	for (i = 0; i < 300 && *counter < want; i++) {
		struct timeval tick = {0, 10000};

		event_base_loopexit(base, &tick);
		event_base_dispatch(base);
	}
}

/* Queries leave from ever new source ports: a channel takes
 * UPSTREAM_QUERIES_PER_CHANNEL and is replaced. */
static void
test_ports_rotate(struct event_base *base)
{
	struct upstream_options o;
	struct upstream *up;
	struct event *ev;
	char server[64], err[256];
	char *servers[1] = {server};
	uint16_t port, ports[N_QUERIES];
	int fd, i, j, distinct = 0;

	fd = server_socket(&port);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	one_server(&o, servers, server, sizeof server, port, 5000);
	up = upstream_new(base, &o, err, sizeof err);
	CHECK(up != NULL);
	if (up == NULL) {
		close(fd);
		return;
	}
	ev = event_new(base, fd, EV_READ | EV_PERSIST, on_server, NULL);
	event_add(ev, NULL);

	for (i = 0; i < N_QUERIES; i++) {
		uint8_t q[64];
		size_t len = make_query(q, (uint16_t)(1000 + i));

		upstream_send(up, q, len, on_result, NULL);
	}
	run_until(base, &n_held, N_QUERIES);
	CHECK_INT(n_held, N_QUERIES);

	/* All 48 were pending at once: without rotation one port. */
	for (i = 0; i < n_held; i++) {
		uint16_t p = ntohs(held[i].from.sin_port);

		for (j = 0; j < distinct && ports[j] != p; j++)
			;
		if (j == distinct)
			ports[distinct++] = p;
	}
	CHECK_INT(UPSTREAM_QUERIES_PER_CHANNEL, 16);
	CHECK(distinct >= 3); /* 48 queries, 16 a channel */
	CHECK(upstream_channels_made(up) >= 3);

	/* Every held query answered (QR set): every callback succeeds, on
	 * retired channels too. */
	for (i = 0; i < n_held; i++) {
		held[i].wire[2] |= 0x80;
		sendto(fd, held[i].wire, held[i].len, 0,
		       (struct sockaddr *)&held[i].from, sizeof held[i].from);
	}
	run_until(base, &answers_ok, N_QUERIES);
	CHECK_INT(answers_ok, N_QUERIES);
	CHECK_INT(answers_failed, 0);
	run_until(base, &answers_ok, N_QUERIES + 1); /* let the reaper run */

	event_free(ev);
	close(fd);
	upstream_free(up);
}

/* Nobody listening: the client gets a failure with a reason, and a
 * query still pending when the upstream is freed is failed, not lost. */
static void
test_failures(struct event_base *base)
{
	struct upstream_options o;
	struct upstream *up;
	char server[64], err[256];
	char *servers[1] = {server};
	uint8_t q[64];
	uint16_t port;
	int fd = server_socket(&port);

	CHECK(fd >= 0);
	if (fd < 0)
		return;
	close(fd); /* the port is now closed: ICMP port unreachable */
	one_server(&o, servers, server, sizeof server, port, 300);
	up = upstream_new(base, &o, err, sizeof err);
	CHECK(up != NULL);
	if (up == NULL)
		return;
	answers_failed = 0;
	upstream_send(up, q, make_query(q, 7), on_result, NULL);
	run_until(base, &answers_failed, 1);
	CHECK_INT(answers_failed, 1);
	CHECK(strstr(last_reason, "refused") != NULL ||
	      strstr(last_reason, "timeout") != NULL);

	answers_failed = 0;
	upstream_send(up, q, make_query(q, 8), on_result, NULL);
	upstream_free(up);
	CHECK_INT(answers_failed, 1);
	CHECK_STR(last_reason, "shutting down");

	o.n_servers = 0;
	CHECK(upstream_new(base, &o, err, sizeof err) == NULL);
	CHECK_STR(err, "no upstream server");
}

int
main(void)
{
	struct event_base *base;

	if (geteuid() != 0) {
		fprintf(stderr, "not root (SO_MARK needs CAP_NET_ADMIN): "
				"skipped\n");
		return 77;
	}
	ares_library_init(ARES_LIB_INIT_ALL);
	base = event_base_new();
	test_ports_rotate(base);
	test_failures(base);
	event_base_free(base);
	ares_library_cleanup();
	return check_exit();
}
