/* test_listener.c - the client-facing sockets on a real loop, on
 * 127.0.0.1 at a free port: a burst drained in one wakeup, a reply after
 * the listener is gone, and the TCP open and close hooks. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "resolver/listener.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define BURST 1000

static struct listener_request *held[BURST + 10];
static int n_held;
static int opened, closed, refuse_next;

static void
on_request(void *arg, struct listener_request *req)
{
	if (n_held < (int)(sizeof held / sizeof held[0]))
		held[n_held++] = req;
	else
		listener_drop(req);
}

static int
on_open(void *arg, const struct sockaddr *client,
	const struct sockaddr *original_dst, uint64_t *tag)
{
	if (refuse_next) {
		refuse_next = 0;
		return -1;
	}
	*tag = 4242;
	opened++;
	return 0;
}

static void
on_close(void *arg, uint64_t tag)
{
	if (tag == 4242)
		closed++;
}

static void
test_burst_and_orphans(struct event_base *base, uint16_t port)
{
	struct sockaddr_in to = fixture_loopback(port);
	uint8_t query[17] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
			     0, 0, 1, 0, 1};
	char err[256], buf[64];
	struct listener *l;
	struct pollfd pfd;
	int client, reuse, i;

	l = listener_new(base, port, on_request, NULL, err, sizeof err);
	CHECK(l != NULL);
	if (l == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	client = socket(AF_INET, SOCK_DGRAM, 0);
	for (i = 0; i < BURST; i++)
		sendto(client, query, sizeof query, 0, (struct sockaddr *)&to,
		       sizeof to);
	/* One wakeup reads every datagram that is ready: none is left to
	 * overflow the buffer while the loop waits for the next. */
	event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	CHECK_INT(n_held, BURST);
	CHECK_INT(listener_requests_out(l), BURST);
	listener_reply(held[0], query, sizeof query);
	CHECK_INT(listener_requests_out(l), BURST - 1);
	pfd.fd = client;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 1000) == 1 && recv(client, buf, sizeof buf, 0) > 0);

	/* Replies after the listener is gone go nowhere: not out of a
	 * descriptor that a new socket now holds. */
	listener_free(l);
	reuse = socket(AF_INET, SOCK_DGRAM, 0); /* takes a freed number */
	for (i = 1; i < BURST; i++)
		listener_reply(held[i], query, sizeof query);
	CHECK(poll(&pfd, 1, 200) == 0);
	close(reuse);
	close(client);
	n_held = 0;
}

static void
test_tcp_hooks(struct event_base *base, uint16_t port)
{
	struct sockaddr_in to = fixture_loopback(port);
	char err[256], byte;
	struct listener *l;
	struct pollfd pfd;
	int a, b, i;

	l = listener_new(base, port, on_request, NULL, err, sizeof err);
	CHECK(l != NULL);
	if (l == NULL)
		return;
	listener_set_tcp_hooks(l, on_open, on_close, NULL);
	a = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(a, (struct sockaddr *)&to, sizeof to) == 0);
	for (i = 0; i < 20 && opened < 1; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	refuse_next = 1;
	b = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(b, (struct sockaddr *)&to, sizeof to) == 0);
	for (i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	CHECK_INT(opened, 1);
	/* The refused one is closed at once; its close is not reported. */
	pfd.fd = b;
	pfd.events = POLLIN;
	CHECK(poll(&pfd, 1, 1000) == 1 && recv(b, &byte, 1, 0) == 0);
	CHECK_INT(closed, 0);
	/* The client's close is reported once. */
	close(a);
	for (i = 0; i < 20 && closed == 0; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_INT(closed, 1);
	close(b);
	/* Connections still open when the listener goes are reported. */
	a = socket(AF_INET, SOCK_STREAM, 0);
	CHECK(connect(a, (struct sockaddr *)&to, sizeof to) == 0);
	for (i = 0; i < 20 && opened < 2; i++) {
		event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_INT(opened, 2);
	listener_free(l);
	CHECK_INT(closed, 2);
	close(a);
}

int
main(void)
{
	struct event_base *base = event_base_new();
	uint16_t port = fixture_free_port();

	test_burst_and_orphans(base, port);
	test_tcp_hooks(base, port);
	event_base_free(base);
	return check_exit();
}
