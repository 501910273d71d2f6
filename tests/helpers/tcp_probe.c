/* tcp_probe.c - the end-to-end tests' TCP client and server.
 *   tcp_probe ADDRESS PORT [TIMEOUT_MS]   connect once; prints and exits
 *       0 "connected", 1 "rejected: <error>", 2 "timeout"
 *   tcp_probe --listen ADDRESS PORT       accept and close, forever
 *   tcp_probe --hold SECONDS LOCAL_PORT ADDRESS PORT   connect from
 *       LOCAL_PORT (SO_REUSEADDR, so another app's socket may share it),
 *       print "connected", keep the connection SECONDS, exit
 *   tcp_probe --sink ADDRESS PORT         accept, read to the end, close,
 *       forever
 *   tcp_probe --send BYTES ADDRESS PORT   connect, send BYTES, wait for
 *       the peer to close; prints "sent BYTES" or "rejected: <error>" */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int
fill_address(const char *text, const char *port, struct sockaddr_storage *ss,
	     socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(port));
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)atoi(port));
		*len = sizeof *sin6;
		return 0;
	}
	fprintf(stderr, "tcp_probe: '%s' is not an IP address\n", text);
	return -1;
}

static int
serve(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), one = 1;

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, 16) < 0) {
		perror("tcp_probe: listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c >= 0)
			close(c);
	}
}

static int
sink(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), one = 1;
	char buf[65536];

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (fd < 0 || bind(fd, (const struct sockaddr *)ss, len) < 0 ||
	    listen(fd, 16) < 0) {
		perror("tcp_probe: listen");
		return 1;
	}
	for (;;) {
		int c = accept(fd, NULL, NULL);

		if (c < 0)
			continue;
		while (read(c, buf, sizeof buf) > 0)
			;
		close(c);
	}
}

static int
send_bytes(long bytes, const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM, 0);
	char buf[65536], end;
	long left = bytes;

	memset(buf, 'x', sizeof buf);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		printf("rejected: %s\n", strerror(errno));
		return 1;
	}
	while (left > 0) {
		ssize_t n = write(fd, buf,
				  left < (long)sizeof buf ? (size_t)left
							  : sizeof buf);

		if (n <= 0) {
			printf("rejected: %s\n", strerror(errno));
			return 1;
		}
		left -= n;
	}
	shutdown(fd, SHUT_WR);
	while (read(fd, &end, 1) > 0)
		;
	close(fd);
	printf("sent %ld\n", bytes);
	return 0;
}

static int
hold(int seconds, const char *local_port, const struct sockaddr_storage *ss,
     socklen_t len)
{
	struct sockaddr_storage local;
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), one = 1;

	memset(&local, 0, sizeof local);
	local.ss_family = ss->ss_family;
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)&local)->sin_port =
			htons((uint16_t)atoi(local_port));
	else
		((struct sockaddr_in6 *)&local)->sin6_port =
			htons((uint16_t)atoi(local_port));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&local, len) < 0 ||
	    connect(fd, (const struct sockaddr *)ss, len) < 0) {
		printf("rejected: %s\n", strerror(errno));
		return 1;
	}
	printf("connected\n");
	fflush(stdout);
	sleep((unsigned)seconds);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct pollfd pfd;
	int fd, timeout_ms = 3000, soerr = 0;
	socklen_t errlen = sizeof soerr;

	if (argc == 4 && strcmp(argv[1], "--listen") == 0) {
		if (fill_address(argv[2], argv[3], &ss, &len) < 0)
			return 3;
		return serve(&ss, len);
	}
	if (argc == 4 && strcmp(argv[1], "--sink") == 0) {
		if (fill_address(argv[2], argv[3], &ss, &len) < 0)
			return 3;
		return sink(&ss, len);
	}
	if (argc == 5 && strcmp(argv[1], "--send") == 0) {
		if (fill_address(argv[3], argv[4], &ss, &len) < 0)
			return 3;
		return send_bytes(atol(argv[2]), &ss, len);
	}
	if (argc == 6 && strcmp(argv[1], "--hold") == 0) {
		if (fill_address(argv[4], argv[5], &ss, &len) < 0)
			return 3;
		return hold(atoi(argv[2]), argv[3], &ss, len);
	}
	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: tcp_probe ADDRESS PORT [TIMEOUT_MS]\n"
				"       tcp_probe --listen ADDRESS PORT\n"
				"       tcp_probe --hold SECONDS LOCAL_PORT "
				"ADDRESS PORT\n"
				"       tcp_probe --sink ADDRESS PORT\n"
				"       tcp_probe --send BYTES ADDRESS PORT\n");
		return 3;
	}
	if (argc == 4)
		timeout_ms = atoi(argv[3]);
	if (fill_address(argv[1], argv[2], &ss, &len) < 0)
		return 3;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("tcp_probe: socket");
		return 3;
	}
	if (connect(fd, (struct sockaddr *)&ss, len) == 0) {
		printf("connected\n");
		return 0;
	}
	if (errno != EINPROGRESS) {
		printf("rejected: %s\n", strerror(errno));
		return 1;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, timeout_ms) == 0) {
		printf("timeout\n");
		return 2;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &errlen);
	if (soerr != 0) {
		printf("rejected: %s\n", strerror(soerr));
		return 1;
	}
	printf("connected\n");
	return 0;
}
