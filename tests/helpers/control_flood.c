/* control_flood.c - the end-to-end tests' hostile control-socket client:
 *   control_flood hold SOCKET N     opens N connections at once, asks
 *       hello on each, prints "served=S refused=R", then holds them open
 *       until its standard input closes
 *   control_flood line SOCKET BYTES one request line of BYTES bytes;
 *       prints the reply and "closed" when the daemon then closed it
 *   control_flood garbage SOCKET    100 lines of hostile bytes (NULs,
 *       non-UTF-8, deep nesting, duplicate keys, control characters);
 *       prints "lines=100 errors=E" (E: the {"error": ...} replies)
 *   control_flood half-close SOCKET LINE  sends LINE, shuts its write
 *       side (as socat and nc -N do), prints what comes until the daemon
 *       closes (10 s at most), then "closed" or "open" */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static const char *path;

static int
connect_once(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Reads until a newline or EOF (at most len - 1 bytes, 5 s). */
static size_t
read_reply(int fd, char *buf, size_t len)
{
	size_t got = 0;

	buf[0] = '\0';
	while (got + 1 < len) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = recv(fd, buf + got, len - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (memchr(buf, '\n', got) != NULL)
			break;
	}
	return got;
}

static int
hold(int n)
{
	int *fds = calloc((size_t)n, sizeof *fds);
	int i, served = 0, refused = 0;
	char buf[1024];

	if (fds == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		fds[i] = connect_once();
		if (fds[i] < 0) {
			refused++;
			continue;
		}
		(void)send(fds[i], "{\"command\":\"hello\"}\n", 20,
		           MSG_NOSIGNAL);
		read_reply(fds[i], buf, sizeof buf);
		if (strstr(buf, "\"protocol\":") != NULL) {
			served++;
		} else {
			refused++;
			close(fds[i]);
			fds[i] = -1;
		}
	}
	printf("served=%d refused=%d\n", served, refused);
	fflush(stdout);
	while (read(0, buf, sizeof buf) > 0) /* until stdin closes */
		;
	return 0;
}

static int
line(size_t bytes)
{
	char *big = malloc(bytes + 1), buf[1024];
	size_t sent = 0;
	int fd = connect_once();

	if (big == NULL || fd < 0)
		return 1;
	memset(big, 'x', bytes);
	big[bytes] = '\n';
	while (sent < bytes + 1) {
		ssize_t n =
		    send(fd, big + sent, bytes + 1 - sent, MSG_NOSIGNAL);

		if (n <= 0)
			break; /* the daemon stopped reading and closed */
		sent += (size_t)n;
	}
	read_reply(fd, buf, sizeof buf);
	printf("%s", buf);
	/* After the reply: EOF, or a reset for what it never read. */
	printf("%s\n", recv(fd, buf, sizeof buf, 0) <= 0 ? "closed" : "open");
	return 0;
}

static int
garbage(void)
{
	static const char *const hostile[] = {
	    "{\"command\":\"sta\0tus\"}",
	    "{\"command\":\"st\xff\xfeus\"}",
	    "{\"command\":\"\xc0\xaf\"}",
	    "{\"command\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\"status\"]]]]]]]]]]"
	    "]",
	    "{\"command\":\"status\",\"command\":\"reload\"}",
	    "{\"command\":\"status\",\"protocol\":99999999999999999999999}",
	    "{\"command\":\"status\",\"protocol\":2}",
	    "\x01\x02\x03\x1b[2J\x7f",
	    "{\"command\":\"\\ud800\"}",
	    "{\"command\":\"reboot\"}",
	};
	char buf[65536], req[512];
	size_t i, n = sizeof hostile / sizeof hostile[0], len = 0;
	int fd = connect_once(), errors = 0, lines = 100, k;

	if (fd < 0)
		return 1;
	for (k = 0; k < lines; k++) {
		const char *h = hostile[(size_t)k % n];
		/* The first one has a NUL: its length is known. */
		size_t hl = (size_t)k % n == 0 ? 21 : strlen(h);

		memcpy(req, h, hl);
		req[hl] = '\n';
		if (send(fd, req, hl + 1, MSG_NOSIGNAL) < 0)
			break;
	}
	/* Every line gets an error reply (or a rate-limit error). */
	while (errors < lines) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t got;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		got = recv(fd, buf + len, sizeof buf - 1 - len, 0);
		if (got <= 0)
			break;
		len += (size_t)got;
		buf[len] = '\0';
		errors = 0;
		for (i = 0; i + 9 <= len; i++)
			errors += memcmp(buf + i, "{\"error\":", 9) == 0;
	}
	printf("lines=%d errors=%d\n", lines, errors);
	return 0;
}

static int
half_close(const char *request)
{
	char buf[65536];
	size_t got = 0;
	int fd = connect_once();
	bool closed = false;

	if (fd < 0)
		return 1;
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0 || shutdown(fd, SHUT_WR) < 0)
		return 1;
	while (got + 1 < sizeof buf) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		n = recv(fd, buf + got, sizeof buf - 1 - got, 0);
		if (n <= 0) {
			closed = n == 0;
			break;
		}
		got += (size_t)n;
	}
	buf[got] = '\0';
	printf("%s%s\n", buf, closed ? "closed" : "open");
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc >= 3)
		path = argv[2];
	if (argc == 4 && strcmp(argv[1], "hold") == 0)
		return hold(atoi(argv[3]));
	if (argc == 4 && strcmp(argv[1], "line") == 0)
		return line(strtoul(argv[3], NULL, 10));
	if (argc == 3 && strcmp(argv[1], "garbage") == 0)
		return garbage();
	if (argc == 4 && strcmp(argv[1], "half-close") == 0)
		return half_close(argv[3]);
	fprintf(stderr, "usage: control_flood hold SOCKET N | line SOCKET "
	                "BYTES | garbage SOCKET | half-close SOCKET LINE\n");
	return 2;
}
