/* test_sockdiag.c - owner lookups of real sockets made by this test. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/cgroup.h"
#include "src/sockdiag.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define SKIP 77

static struct sockdiag *sd;
static uint64_t own_cgroup_id;

static uint64_t
inode_of(int fd)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

static int
bound_socket(int family, int type, const void *addr, socklen_t len)
{
	int fd = socket(family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (bind(fd, addr, len) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The id of the cgroup this process is in: "0::PATH" in /proc/self/cgroup,
 * then the inode of that directory under the cgroup2 mount. */
static uint64_t
cgroup_id_of_self(void)
{
	char path[1024], err[256];
	struct cgroup_tree *tree;
	uint64_t id = 0;

	tree = cgroup_tree_open(err, sizeof err);
	if (tree == NULL)
		return 0;
	fixture_own_cgroup_path(path, sizeof path);
	if (path[0] != '\0')
		id = fixture_cgroup_id(cgroup_tree_mount(tree), path);
	cgroup_tree_free(tree);
	return id;
}

/* Looks the client up and checks it is the socket fd of this process. */
static void
expect_owner(int protocol, const void *client, int fd, int line)
{
	struct sock_owner owner;
	int ret = sockdiag_lookup(sd, protocol, client, NULL, &owner);

	if (ret != 0 || owner.inode != inode_of(fd) || owner.uid != getuid() ||
	    owner.cgroup_id != own_cgroup_id)
		fprintf(stderr,
		        "line %d: ret %d inode %llu (want %llu) uid %u "
		        "cgroup %llu (want %llu)\n",
		        line, ret, (unsigned long long)owner.inode,
		        (unsigned long long)inode_of(fd), owner.uid,
		        (unsigned long long)owner.cgroup_id,
		        (unsigned long long)own_cgroup_id);
	CHECK_INT(ret, 0);
	CHECK_INT(owner.inode, inode_of(fd));
	CHECK_INT(owner.uid, getuid());
	CHECK_INT(owner.cgroup_id, own_cgroup_id);
}

static void
expect_none(int protocol, const void *client)
{
	struct sock_owner owner;

	CHECK_INT(sockdiag_lookup(sd, protocol, client, NULL, &owner), -ENOENT);
}

static void
test_udp_unconnected(void)
{
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 0);
	int fd = bound_socket(AF_INET, SOCK_DGRAM, &sin, sizeof sin);

	CHECK(fd >= 0);
	sin.sin_port = htons(fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	/* Same port, but TCP: not this socket. */
	expect_none(IPPROTO_TCP, &sin);
	/* Same port, another local address: not this socket either. */
	sin = fixture_ipv4("127.0.0.2", fixture_local_port(fd));
	expect_none(IPPROTO_UDP, &sin);
	close(fd);
}

static void
test_udp_connected(void)
{
	struct sockaddr_in peer = fixture_ipv4("127.0.0.1", 9);
	struct sockaddr_in sin;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	CHECK(fd >= 0);
	CHECK_INT(connect(fd, (struct sockaddr *)&peer, sizeof peer), 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	close(fd);
}

/* A UDP socket is found by its 4-tuple, one lookup, when it is
 * unconnected or connected to a port-53 server a dump found a client
 * connected to before; the table is dumped only for the first. */
static void
test_udp_exact(void)
{
	struct sockaddr_in server = fixture_ipv4("127.0.0.1", 53);
	struct sockaddr_in any = fixture_ipv4("127.0.0.1", 0);
	struct sockaddr_in sin;
	struct sockdiag_stats before, after;
	int fd, fd2;

	/* Unconnected: found without a dump. */
	fd = bound_socket(AF_INET, SOCK_DGRAM, &any, sizeof any);
	CHECK(fd >= 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	sockdiag_get_stats(sd, &before);
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	sockdiag_get_stats(sd, &after);
	CHECK_INT(after.dumps - before.dumps, 0);
	CHECK_INT(after.exact_found - before.exact_found, 1);
	close(fd);

	/* Connected to a nameserver (nothing is sent): the first lookup
	 * dumps and learns it, the next socket connected to it is found
	 * at once. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	CHECK_INT(connect(fd, (struct sockaddr *)&server, sizeof server), 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	fd2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd2 >= 0);
	CHECK_INT(connect(fd2, (struct sockaddr *)&server, sizeof server), 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd2));
	sockdiag_get_stats(sd, &before);
	expect_owner(IPPROTO_UDP, &sin, fd2, __LINE__);
	sockdiag_get_stats(sd, &after);
	CHECK_INT(after.dumps - before.dumps, 0);
	CHECK_INT(after.exact_found - before.exact_found, 1);
	/* The socket closed: not found, by the lookups nor the dump. */
	close(fd2);
	expect_none(IPPROTO_UDP, &sin);
	close(fd);
}

static void
test_udp_wildcard(void)
{
	struct sockaddr_in any = fixture_ipv4("0.0.0.0", 0);
	struct sockaddr_in sin;
	int wild, exact, one = 1;
	uint16_t port;

	wild = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(wild >= 0);
	setsockopt(wild, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	CHECK_INT(bind(wild, (struct sockaddr *)&any, sizeof any), 0);
	port = fixture_local_port(wild);
	sin = fixture_ipv4("127.0.0.1", port);
	expect_owner(IPPROTO_UDP, &sin, wild, __LINE__);

	/* A socket on the exact address wins over the wildcard one. */
	exact = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(exact >= 0);
	setsockopt(exact, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	CHECK_INT(bind(exact, (struct sockaddr *)&sin, sizeof sin), 0);
	expect_owner(IPPROTO_UDP, &sin, exact, __LINE__);
	sin = fixture_ipv4("127.0.0.2", port);
	expect_owner(IPPROTO_UDP, &sin, wild, __LINE__);
	close(exact);
	close(wild);
}

static void
test_gone(void)
{
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 0);
	int fd = bound_socket(AF_INET, SOCK_DGRAM, &sin, sizeof sin);

	CHECK(fd >= 0);
	sin.sin_port = htons(fixture_local_port(fd));
	close(fd);
	expect_none(IPPROTO_UDP, &sin);
}

static void
test_tcp(void)
{
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 0);
	struct sockaddr_in client;
	int listener, fd, accepted;

	listener = bound_socket(AF_INET, SOCK_STREAM, &sin, sizeof sin);
	CHECK(listener >= 0);
	CHECK_INT(listen(listener, 4), 0);
	sin.sin_port = htons(fixture_local_port(listener));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	CHECK_INT(connect(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	accepted = accept(listener, NULL, NULL);
	CHECK(accepted >= 0);
	client = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_TCP, &client, fd, __LINE__);
	expect_none(IPPROTO_UDP, &client);
	close(accepted);
	close(fd);
	close(listener);
}

static void
test_ipv6(void)
{
	struct sockaddr_in6 loop6 = fixture_ipv6("::1", 0);
	struct sockaddr_in6 any6 = fixture_ipv6("::", 0);
	struct sockaddr_in6 peer6 = fixture_ipv6("::ffff:127.0.0.1", 9);
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	int fd, off = 0, on = 1;

	fd = bound_socket(AF_INET6, SOCK_DGRAM, &loop6, sizeof loop6);
	if (fd < 0) {
		fprintf(stderr, "no IPv6 loopback here: IPv6 cases skipped\n");
		return;
	}
	sin6 = fixture_ipv6("::1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin6, fd, __LINE__);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_none(IPPROTO_UDP, &sin);
	close(fd);

	/* Dual-stack and connected to an IPv4 peer: local ::ffff:127.0.0.1. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	CHECK_INT(connect(fd, (struct sockaddr *)&peer6, sizeof peer6), 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	/* The same client as a dual-stack listener would report it. */
	sin6 = fixture_ipv6("::ffff:127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin6, fd, __LINE__);
	close(fd);

	/* Dual-stack, unconnected on [::], having sent to an IPv4 address. */
	fd = bound_socket(AF_INET6, SOCK_DGRAM, &any6, sizeof any6);
	CHECK(fd >= 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	peer6 = fixture_ipv6("::ffff:127.0.0.1", 9);
	(void)sendto(fd, "x", 1, 0, (struct sockaddr *)&peer6, sizeof peer6);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin, fd, __LINE__);
	close(fd);

	/* IPv6-only on [::]: cannot have sent an IPv4 query. */
	fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	CHECK(fd >= 0);
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	CHECK_INT(bind(fd, (struct sockaddr *)&any6, sizeof any6), 0);
	sin = fixture_ipv4("127.0.0.1", fixture_local_port(fd));
	expect_none(IPPROTO_UDP, &sin);
	sin6 = fixture_ipv6("::1", fixture_local_port(fd));
	expect_owner(IPPROTO_UDP, &sin6, fd, __LINE__);
	close(fd);
}

/* Many sockets on one port make a dump of several datagrams; the handle
 * must read it to the end and stay usable. */
static void
test_many(void)
{
	enum { COUNT = 400 };
	static int fds[COUNT];
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 0);
	struct sock_owner owner;
	int i, one = 1, hit = 0;

	for (i = 0; i < COUNT; i++) {
		fds[i] = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		CHECK(fds[i] >= 0);
		setsockopt(fds[i], SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
		CHECK_INT(bind(fds[i], (struct sockaddr *)&sin, sizeof sin), 0);
		if (i == 0)
			sin.sin_port = htons(fixture_local_port(fds[0]));
	}
	CHECK_INT(
	    sockdiag_lookup(sd, IPPROTO_UDP, (struct sockaddr *)&sin, NULL, &owner),
	    0);
	for (i = 0; i < COUNT; i++) {
		if (owner.inode == inode_of(fds[i]))
			hit++;
	}
	CHECK_INT(hit, 1);
	for (i = 0; i < COUNT; i++)
		close(fds[i]);
	test_udp_unconnected();
}

/* A socket of another user reports that user. */
static void
test_other_uid(void)
{
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 0);
	struct sock_owner owner;
	int report[2], hold[2];
	uint16_t port = 0;
	pid_t pid;
	int status;

	CHECK_INT(pipe(report), 0);
	CHECK_INT(pipe(hold), 0);
	pid = fork();
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(report[0]);
		close(hold[1]);
		if (setuid(65534) < 0)
			_exit(1);
		fd = bound_socket(AF_INET, SOCK_DGRAM, &sin, sizeof sin);
		port = fd >= 0 ? fixture_local_port(fd) : 0;
		if (write(report[1], &port, sizeof port) != sizeof port)
			_exit(1);
		(void)read(hold[0], &port, 1); /* until the parent closes */
		_exit(0);
	}
	close(report[1]);
	close(hold[0]);
	CHECK(pid > 0);
	CHECK_INT(read(report[0], &port, sizeof port), sizeof port);
	CHECK(port != 0);
	sin.sin_port = htons(port);
	CHECK_INT(
	    sockdiag_lookup(sd, IPPROTO_UDP, (struct sockaddr *)&sin, NULL, &owner),
	    0);
	CHECK_INT(owner.uid, 65534);
	CHECK_INT(owner.cgroup_id, own_cgroup_id);
	close(hold[1]);
	close(report[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
}

static void
test_bad_arguments(void)
{
	struct sockaddr_in sin = fixture_ipv4("127.0.0.1", 53);
	struct sockaddr sa;
	struct sock_owner owner;

	CHECK_INT(
	    sockdiag_lookup(sd, IPPROTO_ICMP, (struct sockaddr *)&sin, NULL, &owner),
	    -EPROTONOSUPPORT);
	memset(&sa, 0, sizeof sa);
	sa.sa_family = AF_UNIX;
	CHECK_INT(sockdiag_lookup(sd, IPPROTO_UDP, &sa, NULL, &owner), -EAFNOSUPPORT);
}

int
main(void)
{
	char err[256];

	if (getuid() != 0) {
		fprintf(stderr, "not root: skipped\n");
		return SKIP;
	}
	sd = sockdiag_open(err, sizeof err);
	if (sd == NULL) {
		fprintf(stderr, "%s: skipped\n", err);
		return SKIP;
	}
	own_cgroup_id = cgroup_id_of_self();
	CHECK(own_cgroup_id != 0);

	/* Every case both ways: UDP sockets asked for by their 4-tuple
	 * first (as the daemon does), and by dumps alone (what a miss
	 * falls back to: the multi-datagram dump of test_many, the
	 * ranking of test_udp_wildcard). */
	for (int tuple = 1; tuple >= 0; tuple--) {
		struct sockdiag_stats before, after;

		sockdiag_use_tuple_lookups(sd, tuple);
		sockdiag_get_stats(sd, &before);
		test_udp_unconnected();
		test_udp_connected();
		if (tuple)
			test_udp_exact();
		test_udp_wildcard();
		test_gone();
		test_tcp();
		test_ipv6();
		test_many();
		test_other_uid();
		test_bad_arguments();
		sockdiag_get_stats(sd, &after);
		if (!tuple)
			CHECK_INT(after.exact - before.exact, 0);
		CHECK(after.dumps > before.dumps);
	}

	sockdiag_close(sd);
	return check_exit();
}
