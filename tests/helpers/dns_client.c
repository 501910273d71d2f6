/* dns_client.c - the end-to-end tests' DNS client, for the sockets dig
 * does not make: an unconnected UDP socket (sendto/recvfrom, unlike dig
 * and glibc), a long-lived connected one, and a TCP one half-closed after
 * its query.
 *   dns_client SERVER NAME TYPE     prints "rcode=X" then one address a line
 *   dns_client --raw SERVER HEX     sends the bytes, prints what comes back
 *                                  ("no answer" after 2 s)
 *   dns_client --repeat N MS SERVER NAME   N queries for NAME/A, MS apart,
 *       all from ONE connected socket (a long-lived client, whose flow
 *       conntrack keeps); prints "answer" or "no answer: <error>" each
 *   dns_client --tcp-half-close SERVER NAME [LOCAL_PORT]   sends the
 *       query over TCP (from LOCAL_PORT with SO_REUSEADDR, if given),
 *       shuts down its sending side, prints "rcode=X" of the answer
 *   dns_client --burst N SERVER NAME   N UDP sockets, each connected (as
 *       glibc's are), send one query each at once (NAME may hold one %d,
 *       replaced by the socket's number), then wait up to 5 s; prints
 *       "answered=A noerror=B servfail=C of N"
 *   dns_client --burst-timed N SERVER NAME   the same, but every socket
 *       is made first and the N queries then leave back to back; and a
 *       second line "last_answer_ms=T": from the first query sent to the
 *       last answer received (bench/run.sh's burst figure)
 *   dns_client --tsig-flood N SERVER   sends N queries of about 64 KB
 *       over one TCP connection, each stuffed with TSIG records (ldns
 *       1.8.3 leaks all but one of them); prints "answered=A of N"
 *   dns_client --tcp-hold N SECONDS SERVER   opens N TCP connections and
 *       trickles a never-finished query into each, a byte every 2 s, for
 *       SECONDS; prints "connected=C refused=R open=O" (R: closed by the
 *       peer within the first second; O: still open at the end) */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <ldns/ldns.h>

#define DNS_HEADER_BYTES 12

/* The wire form of a recursive query for name/type; the caller frees it.
 * NULL (after saying why) when name is not a domain name. */
static uint8_t *
build_query(const char *name, ldns_rr_type type, size_t *len)
{
	ldns_pkt *query = NULL;
	uint8_t *wire = NULL;

	if (ldns_pkt_query_new_frm_str(&query, name, type, LDNS_RR_CLASS_IN,
				       LDNS_RD) != LDNS_STATUS_OK ||
	    ldns_pkt2wire(&wire, query, len) != LDNS_STATUS_OK) {
		fprintf(stderr, "dns_client: cannot build a query for %s\n",
			name);
		wire = NULL;
	}
	ldns_pkt_free(query);
	return wire;
}

static int
server_address(const char *text, struct sockaddr_storage *ss, socklen_t *len)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(53);
		*len = sizeof *sin;
		return 0;
	}
	if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(53);
		*len = sizeof *sin6;
		return 0;
	}
	return -1;
}

static ssize_t
exchange(const struct sockaddr_storage *ss, socklen_t len,
	 const uint8_t *query, size_t qlen, uint8_t *answer, size_t alen)
{
	int fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	struct pollfd pfd;
	ssize_t n;

	if (fd < 0 ||
	    sendto(fd, query, qlen, 0, (const struct sockaddr *)ss, len) < 0) {
		perror("dns_client: sendto");
		return -1;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	if (poll(&pfd, 1, 2000) <= 0) {
		close(fd);
		return 0;
	}
	n = recvfrom(fd, answer, alen, 0, NULL, NULL);
	close(fd);
	return n;
}

static int
raw_mode(const struct sockaddr_storage *ss, socklen_t len, const char *hex)
{
	uint8_t query[512], answer[4096];
	size_t qlen = 0, i;
	ssize_t n;

	for (i = 0; hex[i] && hex[i + 1] && qlen < sizeof query; i += 2) {
		unsigned byte;

		if (sscanf(hex + i, "%2x", &byte) != 1)
			return 3;
		query[qlen++] = (uint8_t)byte;
	}
	n = exchange(ss, len, query, qlen, answer, sizeof answer);
	if (n <= 0) {
		printf("no answer\n");
		return 1;
	}
	if (n >= 4)
		printf("rcode=%s\n",
		       ldns_lookup_by_id(ldns_rcodes, answer[3] & 0x0f)
			       ? ldns_lookup_by_id(ldns_rcodes,
						   answer[3] & 0x0f)->name
			       : "?");
	return 0;
}

static int
tcp_half_close_mode(const struct sockaddr_storage *ss, socklen_t len,
		    const char *name, const char *local_port)
{
	uint8_t *wire = NULL, buf[4096];
	size_t wlen, got = 0;
	int fd;

	wire = build_query(name, LDNS_RR_TYPE_A, &wlen);
	if (wire == NULL)
		return 3;
	fd = socket(ss->ss_family, SOCK_STREAM, 0);
	if (fd >= 0 && local_port != NULL) {
		struct sockaddr_storage local;
		int one = 1;

		memset(&local, 0, sizeof local);
		local.ss_family = ss->ss_family;
		/* sin_port and sin6_port sit at the same offset */
		((struct sockaddr_in *)&local)->sin_port =
			htons((uint16_t)atoi(local_port));
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (struct sockaddr *)&local, len) < 0) {
			perror("dns_client: bind");
			return 3;
		}
	}
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		perror("dns_client: connect");
		return 3;
	}
	buf[0] = (uint8_t)(wlen >> 8);
	buf[1] = (uint8_t)wlen;
	memcpy(buf + 2, wire, wlen);
	free(wire);
	if (send(fd, buf, wlen + 2, 0) != (ssize_t)(wlen + 2) ||
	    shutdown(fd, SHUT_WR) < 0) {
		perror("dns_client: send");
		return 3;
	}
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 3000) <= 0)
			break;
		n = recv(fd, buf + got, sizeof buf - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got < 2 + DNS_HEADER_BYTES) {
		printf("no answer\n");
		return 1;
	}
	printf("rcode=%s\n",
	       ldns_lookup_by_id(ldns_rcodes, buf[2 + 3] & 0x0f)->name);
	return 0;
}

static int
repeat_mode(int count, int interval_ms, const struct sockaddr_storage *ss,
	    socklen_t len, const char *name)
{
	uint8_t *wire = NULL, answer[4096];
	size_t wlen;
	int fd, i;

	wire = build_query(name, LDNS_RR_TYPE_A, &wlen);
	if (wire == NULL)
		return 3;
	fd = socket(ss->ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		perror("dns_client: connect");
		return 3;
	}
	for (i = 0; i < count; i++) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (send(fd, wire, wlen, 0) < 0) {
			printf("no answer: %s\n", strerror(errno));
		} else if (poll(&pfd, 1, interval_ms) <= 0) {
			printf("no answer: timeout\n");
		} else if ((n = recv(fd, answer, sizeof answer, 0)) < 0) {
			printf("no answer: %s\n", strerror(errno));
		} else {
			printf("answer\n");
		}
		fflush(stdout);
		usleep((useconds_t)interval_ms * 1000);
	}
	free(wire);
	close(fd);
	return 0;
}

/* Room for n descriptors and a few more. */
static void
raise_fd_limit(int n)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)n + 64) {
		rl.rlim_cur = (rlim_t)n + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static long
elapsed_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - since->tv_sec) * 1000 +
	       (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* The burst's query number i: for pattern, with its %d (one at most, the
 * test's own pattern) replaced by i. */
static uint8_t *
burst_query(const char *pattern, int i, size_t *wlen)
{
	const char *mark = strstr(pattern, "%d");
	char name[300];

	if (mark != NULL)
		snprintf(name, sizeof name, "%.*s%d%s", (int)(mark - pattern),
			 pattern, i, mark + 2);
	else
		snprintf(name, sizeof name, "%s", pattern);
	return build_query(name, LDNS_RR_TYPE_A, wlen);
}

static double
since_ms(const struct timespec *since)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - since->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

/* Untimed (--burst), each socket sends as soon as it is made. Timed
 * (--burst-timed), every socket is made and connected and every query
 * built first, then the N queries leave back to back, and a second line
 * gives the time from the first send to the last answer. */
static int
burst_mode(int count, const struct sockaddr_storage *ss, socklen_t len,
	   const char *pattern, int timed)
{
	struct pollfd *pfds = calloc((size_t)count, sizeof *pfds);
	uint8_t **wires = calloc((size_t)count, sizeof *wires);
	size_t *wlens = calloc((size_t)count, sizeof *wlens);
	int i, answered = 0, noerror = 0, servfail = 0, waiting = count;
	struct timespec start, first_sent;
	double last_ms = 0;

	if (pfds == NULL || wires == NULL || wlens == NULL || count <= 0)
		return 3;
	raise_fd_limit(count);
	for (i = 0; i < count; i++) {
		wires[i] = burst_query(pattern, i, &wlens[i]);
		pfds[i].fd = socket(ss->ss_family, SOCK_DGRAM, 0);
		pfds[i].events = POLLIN;
		if (wires[i] == NULL || pfds[i].fd < 0 ||
		    connect(pfds[i].fd, (const struct sockaddr *)ss, len) < 0 ||
		    (!timed && send(pfds[i].fd, wires[i], wlens[i], 0) < 0)) {
			perror("dns_client: burst");
			return 3;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &first_sent);
	for (i = 0; timed && i < count; i++) {
		if (send(pfds[i].fd, wires[i], wlens[i], 0) < 0) {
			perror("dns_client: burst");
			return 3;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (waiting > 0 && elapsed_ms(&start) < 5000) {
		if (poll(pfds, (nfds_t)count, 100) < 0)
			break;
		for (i = 0; i < count; i++) {
			uint8_t answer[4096];
			ssize_t n;

			if (pfds[i].fd < 0 || !(pfds[i].revents & POLLIN))
				continue;
			n = recv(pfds[i].fd, answer, sizeof answer, 0);
			close(pfds[i].fd);
			pfds[i].fd = -1;
			waiting--;
			if (n < DNS_HEADER_BYTES)
				continue;
			last_ms = since_ms(&first_sent);
			answered++;
			if ((answer[3] & 0x0f) == 0)
				noerror++;
			else if ((answer[3] & 0x0f) == 2)
				servfail++;
		}
	}
	printf("answered=%d noerror=%d servfail=%d of %d\n", answered, noerror,
	       servfail, count);
	if (timed)
		printf("last_answer_ms=%.1f\n", last_ms);
	for (i = 0; i < count; i++)
		free(wires[i]);
	free(wires);
	free(wlens);
	free(pfds);
	return 0;
}

/* A query for "x." whose additional section is as many minimal TSIG
 * records (root owner, algorithm ".", no MAC) as fit 64 KB. */
static size_t
build_tsig_query(uint8_t *buf, size_t size, uint16_t id)
{
	static const uint8_t header[] = {0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
					 1, 'x', 0, 0, 1, 0, 1};
	static const uint8_t tsig[] = {
		0,          /* owner: the root */
		0, 250,     /* TSIG */
		0, 255,     /* class ANY */
		0, 0, 0, 0, /* TTL */
		0, 17,      /* RDLENGTH */
		0,          /* algorithm: the root */
		0, 0, 0, 0, 0, 0, /* time signed */
		1, 44,      /* fudge */
		0, 0,       /* MAC size, no MAC */
		0, 0,       /* original ID */
		0, 0,       /* error */
		0, 0,       /* other length */
	};
	size_t len = sizeof header, n = 0;

	memcpy(buf, header, sizeof header);
	buf[0] = (uint8_t)(id >> 8);
	buf[1] = (uint8_t)id;
	while (len + sizeof tsig <= size && n < 65535) {
		memcpy(buf + len, tsig, sizeof tsig);
		len += sizeof tsig;
		n++;
	}
	buf[10] = (uint8_t)(n >> 8);
	buf[11] = (uint8_t)n;
	return len;
}

static int
tsig_flood_mode(int count, const struct sockaddr_storage *ss, socklen_t len)
{
	static uint8_t msg[2 + 65535], answer[2 + 65535];
	int fd = socket(ss->ss_family, SOCK_STREAM, 0), i, answered = 0;

	if (fd < 0 || connect(fd, (const struct sockaddr *)ss, len) < 0) {
		perror("dns_client: connect");
		return 3;
	}
	for (i = 0; i < count; i++) {
		size_t qlen = build_tsig_query(msg + 2, 65535, (uint16_t)i);
		size_t got = 0, want = 2;

		msg[0] = (uint8_t)(qlen >> 8);
		msg[1] = (uint8_t)qlen;
		if (send(fd, msg, qlen + 2, MSG_NOSIGNAL) != (ssize_t)(qlen + 2))
			break;
		while (got < want) {
			struct pollfd pfd = {fd, POLLIN, 0};
			ssize_t n;

			if (poll(&pfd, 1, 3000) <= 0)
				break;
			n = recv(fd, answer + got, sizeof answer - got, 0);
			if (n <= 0)
				break;
			got += (size_t)n;
			if (got >= 2)
				want = 2 + ((size_t)answer[0] << 8 | answer[1]);
		}
		if (got < want || got < 2 + DNS_HEADER_BYTES)
			break;
		answered++;
	}
	close(fd);
	printf("answered=%d of %d\n", answered, count);
	return 0;
}

/* Whether the peer has closed fd (EOF or reset), without waiting. */
static int
peer_closed(int fd)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char byte;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return recv(fd, &byte, 1, MSG_DONTWAIT) <= 0;
}

static int
tcp_hold_mode(int count, int seconds, const struct sockaddr_storage *ss,
	      socklen_t len)
{
	/* The length says 100 bytes; only ever a few come. */
	static const uint8_t trickle[] = {0, 100, 0xab, 0xcd, 1, 0, 0, 1};
	int *fds = calloc((size_t)count, sizeof *fds);
	int i, connected = 0, refused = 0, open = 0;
	size_t sent = 0;
	struct timespec start;

	if (fds == NULL || count <= 0)
		return 3;
	raise_fd_limit(count);
	for (i = 0; i < count; i++) {
		fds[i] = socket(ss->ss_family, SOCK_STREAM, 0);
		if (fds[i] >= 0 &&
		    connect(fds[i], (const struct sockaddr *)ss, len) == 0) {
			connected++;
			send(fds[i], trickle, 1, MSG_NOSIGNAL);
		} else if (fds[i] >= 0) {
			close(fds[i]);
			fds[i] = -1;
		}
	}
	sent = 1;
	sleep(1);
	for (i = 0; i < count; i++) {
		if (fds[i] >= 0 && peer_closed(fds[i])) {
			refused++;
			close(fds[i]);
			fds[i] = -1;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (elapsed_ms(&start) < (long)(seconds - 1) * 1000) {
		sleep(2);
		for (i = 0; i < count; i++) {
			if (fds[i] < 0)
				continue;
			if (peer_closed(fds[i]) ||
			    send(fds[i], trickle + sent % sizeof trickle, 1,
				 MSG_NOSIGNAL) < 0) {
				close(fds[i]);
				fds[i] = -1;
			}
		}
		sent++;
	}
	for (i = 0; i < count; i++) {
		if (fds[i] >= 0 && !peer_closed(fds[i]))
			open++;
	}
	printf("connected=%d refused=%d open=%d\n", connected, refused, open);
	for (i = 0; i < count; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
	free(fds);
	return 0;
}

int
main(int argc, char **argv)
{
	struct sockaddr_storage ss;
	socklen_t len;
	ldns_pkt *reply = NULL;
	uint8_t *wire = NULL, answer[65536];
	size_t wlen, i;
	ssize_t n;
	ldns_rr_type type;
	ldns_rr_list *rrs;

	if ((argc == 4 || argc == 5) &&
	    strcmp(argv[1], "--tcp-half-close") == 0) {
		if (server_address(argv[2], &ss, &len) < 0)
			return 3;
		return tcp_half_close_mode(&ss, len, argv[3],
					   argc == 5 ? argv[4] : NULL);
	}
	if (argc == 6 && strcmp(argv[1], "--repeat") == 0) {
		if (server_address(argv[4], &ss, &len) < 0)
			return 3;
		return repeat_mode(atoi(argv[2]), atoi(argv[3]), &ss, len,
				   argv[5]);
	}
	if (argc == 5 && (strcmp(argv[1], "--burst") == 0 ||
			  strcmp(argv[1], "--burst-timed") == 0)) {
		if (server_address(argv[3], &ss, &len) < 0)
			return 3;
		return burst_mode(atoi(argv[2]), &ss, len, argv[4],
				  strcmp(argv[1], "--burst-timed") == 0);
	}
	if (argc == 4 && strcmp(argv[1], "--tsig-flood") == 0) {
		if (server_address(argv[3], &ss, &len) < 0)
			return 3;
		return tsig_flood_mode(atoi(argv[2]), &ss, len);
	}
	if (argc == 5 && strcmp(argv[1], "--tcp-hold") == 0) {
		if (server_address(argv[4], &ss, &len) < 0)
			return 3;
		return tcp_hold_mode(atoi(argv[2]), atoi(argv[3]), &ss, len);
	}
	if (argc == 4 && strcmp(argv[1], "--raw") == 0) {
		if (server_address(argv[2], &ss, &len) < 0)
			return 3;
		return raw_mode(&ss, len, argv[3]);
	}
	if (argc != 4 || server_address(argv[1], &ss, &len) < 0) {
		fprintf(stderr,
			"usage: dns_client SERVER NAME TYPE\n"
			"       dns_client --raw SERVER HEX\n"
			"       dns_client --repeat N MS SERVER NAME\n"
			"       dns_client --tcp-half-close SERVER NAME "
			"[LOCAL_PORT]\n"
			"       dns_client --burst N SERVER NAME\n"
			"       dns_client --burst-timed N SERVER NAME\n"
			"       dns_client --tcp-hold N SECONDS SERVER\n"
			"       dns_client --tsig-flood N SERVER\n");
		return 3;
	}
	type = ldns_get_rr_type_by_name(argv[3]);
	wire = build_query(argv[2], type, &wlen);
	if (wire == NULL)
		return 3;
	n = exchange(&ss, len, wire, wlen, answer, sizeof answer);
	free(wire);
	if (n <= 0) {
		printf("no answer\n");
		return 1;
	}
	if (ldns_wire2pkt(&reply, answer, (size_t)n) != LDNS_STATUS_OK) {
		printf("malformed answer\n");
		return 1;
	}
	printf("rcode=%s\n",
	       ldns_lookup_by_id(ldns_rcodes, ldns_pkt_get_rcode(reply))->name);
	rrs = ldns_pkt_answer(reply);
	for (i = 0; i < ldns_rr_list_rr_count(rrs); i++) {
		ldns_rr *rr = ldns_rr_list_rr(rrs, i);

		if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_A ||
		    ldns_rr_get_type(rr) == LDNS_RR_TYPE_AAAA) {
			char *s = ldns_rdf2str(ldns_rr_rdf(rr, 0));

			printf("%s\n", s);
			free(s);
		}
	}
	ldns_pkt_free(reply);
	return 0;
}
