/* test_nft_gate.c - the gate API: the table made, levels added, grants
 * written, packets gated, an old table replaced; in a private network
 * namespace. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libmnl/libmnl.h>

#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"
#include "tests/unit/nft_test.h"

#define DNS_PORT 5453
#define UPSTREAM_MARK 0x123
#define SET_SIZE 4
#define CGROUP_A 0x1122334455667788ULL
#define CGROUP_B 42ULL

/* Overlapping and adjacent networks on purpose: the gate merges them. */
static const char *const exempt_texts[] = {
	"198.51.100.0/24", "192.0.2.128/25",  "198.51.100.7",
	"203.0.113.0/25",  "203.0.113.128/25", "2001:db8:ffff::/48",
	"ff00::/8",
};
static struct ip_prefix exempt[sizeof exempt_texts / sizeof exempt_texts[0]];

static struct gate_options
test_options(void)
{
	struct gate_options opts;

	memset(&opts, 0, sizeof opts);
	opts.dns_port = DNS_PORT;
	opts.upstream_mark = UPSTREAM_MARK;
	opts.exempt = exempt;
	opts.n_exempt = sizeof exempt / sizeof exempt[0];
	opts.set_size = SET_SIZE;
	opts.max_level = 2;
	return opts;
}

/* --- the namespace ------------------------------------------------------- */

/* ip link add name type veth peer name peer, through rtnetlink. */
static int
create_veth(const char *name, const char *peer)
{
	char buf[8192];
	struct mnl_socket *nl = mnl_socket_open(NETLINK_ROUTE);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifm;
	struct nlattr *linkinfo, *data, *peerinfo;
	uint32_t seq = (uint32_t)time(NULL);
	ssize_t len;
	int ret = -1;

	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
		goto out;
	memset(buf, 0, sizeof buf);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL |
			   NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	ifm = mnl_nlmsg_put_extra_header(nlh, sizeof *ifm);
	ifm->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peerinfo = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	nlh->nlmsg_len += MNL_ALIGN(sizeof(struct ifinfomsg));
	mnl_attr_put_strz(nlh, IFLA_IFNAME, peer);
	mnl_attr_nest_end(nlh, peerinfo);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		goto out;
	len = mnl_socket_recvfrom(nl, buf, sizeof buf);
	if (len > 0 && mnl_cb_run(buf, (size_t)len, seq,
				  mnl_socket_get_portid(nl), NULL, NULL) >= 0)
		ret = 0;
out:
	mnl_socket_close(nl);
	return ret;
}

static int
add_ipv4_address(const char *ifname, const char *addr, const char *mask)
{
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int ret;

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	sin->sin_family = AF_INET;
	inet_pton(AF_INET, addr, &sin->sin_addr);
	ret = ioctl(fd, SIOCSIFADDR, &ifr);
	inet_pton(AF_INET, mask, &sin->sin_addr);
	if (ret == 0)
		ret = ioctl(fd, SIOCSIFNETMASK, &ifr);
	close(fd);
	return ret;
}

/* The kernel's struct in6_ifreq (linux/ipv6.h clashes with glibc's). */
struct ipv6_ifreq {
	struct in6_addr addr;
	uint32_t prefixlen;
	int ifindex;
};

static int
add_ipv6_address(const char *ifname, const char *addr, unsigned prefixlen)
{
	char path[128];
	/* As large as struct ifreq, which valgrind takes the argument for. */
	union {
		struct ipv6_ifreq req;
		struct ifreq ifr;
	} u;
	int fd;
	int ret;

	/* No duplicate address detection: the address is usable at once. */
	snprintf(path, sizeof path, "/proc/sys/net/ipv6/conf/%s/accept_dad",
		 ifname);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, "0\n", 2) == 2 ? 0 : -1;
	close(fd);
	if (ret < 0)
		return -1;
	memset(&u, 0, sizeof u);
	inet_pton(AF_INET6, addr, &u.req.addr);
	u.req.prefixlen = prefixlen;
	u.req.ifindex = (int)if_nametoindex(ifname);
	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd < 0)
		return -1;
	ret = ioctl(fd, SIOCSIFADDR, &u);
	close(fd);
	return ret;
}

/* gate-output, as nft lists it, has the level rules 1..levels, in order,
 * right before the reject rule. */
static void
check_level_rules(unsigned levels)
{
	char *chain, *expected = NULL, *p;
	size_t len = 0;
	FILE *f = open_memstream(&expected, &len);

	if (f == NULL)
		abort();
	fprintf(f, "ip6 daddr @exempt6 accept\n");
	print_level_rules(f, levels);
	print_record_rules(f, "0");
	fprintf(f, "\t\tcounter packets ");
	fclose(f);
	if (have_nft) {
		chain = capture("nft list chain inet dnsgate gate-output");
		p = chain != NULL ? strstr(chain, expected) : NULL;
		CHECK(p != NULL);
		if (p == NULL)
			fprintf(stderr, "expected levels 1..%u in:\n%s\n",
				levels, chain != NULL ? chain : "(none)");
		free(chain);
	}
	free(expected);
}

/* --- grants -------------------------------------------------------------- */

static struct gate_grant
grant(const char *text, uint32_t timeout_sec)
{
	struct gate_grant g;
	struct ip_prefix p;
	const char *reason;

	memset(&g, 0, sizeof g);
	if (ip_prefix_parse(text, &p, &reason) == 0)
		g.addr = p.addr;
	g.timeout_sec = timeout_sec;
	return g;
}

static const struct nft_grant *
find_element(const struct listed *l, uint64_t cgroup_id, const char *text)
{
	struct gate_grant wanted = grant(text, 1);
	size_t i;

	for (i = 0; i < l->n && i < MAX_LISTED; i++)
		if (l->g[i].cgroup_id == cgroup_id &&
		    l->g[i].addr.family == wanted.addr.family &&
		    memcmp(l->g[i].addr.bytes, wanted.addr.bytes,
			   ip_addr_length(&wanted.addr)) == 0)
			return &l->g[i];
	return NULL;
}

static size_t
count_family(const struct listed *l, int family)
{
	size_t i, n = 0;

	for (i = 0; i < l->n && i < MAX_LISTED; i++)
		if (l->g[i].addr.family == family)
			n++;
	return n;
}

static void
test_bad_options(void)
{
	struct gate_options opts = test_options();
	char err[256];

	opts.upstream_mark = 0;
	err[0] = '\0';
	CHECK(gate_open(&opts, err, sizeof err) == NULL);
	CHECK(strstr(err, "mark") != NULL);
	opts = test_options();
	opts.dns_port = 0;
	CHECK(gate_open(&opts, err, sizeof err) == NULL);
	opts = test_options();
	opts.set_size = 0;
	CHECK(gate_open(&opts, err, sizeof err) == NULL);
	opts = test_options();
	opts.max_level = 256;
	CHECK(gate_open(&opts, err, sizeof err) == NULL);
}

static void
test_absent_table(void)
{
	char err[256];
	struct listed l;

	CHECK_INT(gate_remove_table(err, sizeof err), 0);
	CHECK_INT(list_grants(&l), -ENOENT);
	CHECK_INT(nft_dump_rejected_packets(err, sizeof err), -ENOENT);
}

static void
test_grants(struct gate *g)
{
	struct gate_grant grants[4];
	const struct nft_grant *e;
	struct listed l;
	char err[256];

	grants[0] = grant("192.0.2.10", 60);
	grants[1] = grant("2001:db8::10", 120);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 2, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 2);
	e = find_element(&l, CGROUP_A, "192.0.2.10");
	CHECK(e != NULL);
	if (e != NULL)
		CHECK(e->expires_ms > 50000 && e->expires_ms <= 60000);
	e = find_element(&l, CGROUP_A, "2001:db8::10");
	CHECK(e != NULL);
	if (e != NULL)
		CHECK(e->expires_ms > 110000 && e->expires_ms <= 120000);

	/* A grant again refreshes the timeout, longer or shorter. */
	grants[0] = grant("192.0.2.10", 3600);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 1, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 2);
	e = find_element(&l, CGROUP_A, "192.0.2.10");
	CHECK(e != NULL);
	if (e != NULL)
		CHECK(e->expires_ms > 3500000 && e->expires_ms <= 3600000);
	grants[0] = grant("192.0.2.10", 30);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 1, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 2);
	e = find_element(&l, CGROUP_A, "192.0.2.10");
	CHECK(e != NULL);
	if (e != NULL)
		CHECK(e->expires_ms > 20000 && e->expires_ms <= 30000);

	/* The same address for another cgroup is another element. */
	grants[0] = grant("192.0.2.10", 60);
	CHECK_INT(gate_allow(g, CGROUP_B, grants, 1, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 3);
	CHECK(find_element(&l, CGROUP_B, "192.0.2.10") != NULL);

	/* Bad grants are refused before anything is sent. */
	grants[0] = grant("192.0.2.10", 0);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 1, err, sizeof err),
		  -EINVAL);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 0, err, sizeof err), 0);
}

static void
test_full_set(struct gate *g)
{
	struct gate_grant grants[3];
	struct listed l;
	char err[256];

	/* allow4 holds 2 elements: fill it to SET_SIZE. */
	grants[0] = grant("192.0.2.11", 60);
	grants[1] = grant("192.0.2.12", 60);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 2, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 5);
	CHECK_INT(count_family(&l, AF_INET), SET_SIZE);

	grants[0] = grant("192.0.2.13", 60);
	err[0] = '\0';
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 1, err, sizeof err),
		  -ENFILE);
	CHECK(strstr(err, "allow4") != NULL);
	CHECK_INT(list_grants(&l), 5);
	CHECK(find_element(&l, CGROUP_A, "192.0.2.13") == NULL);

	/* One batch: the IPv6 grant that fits is not applied either. */
	grants[0] = grant("2001:db8::11", 60);
	grants[1] = grant("192.0.2.13", 60);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 2, err, sizeof err),
		  -ENFILE);
	CHECK_INT(list_grants(&l), 5);
	CHECK(find_element(&l, CGROUP_A, "2001:db8::11") == NULL);

	/* Refreshing a present element in a full set still works. */
	grants[0] = grant("192.0.2.11", 600);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 1, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 5);
	CHECK(find_element(&l, CGROUP_A, "192.0.2.11") != NULL &&
	      find_element(&l, CGROUP_A, "192.0.2.11")->expires_ms > 500000);
}

/* --- standing grants ----------------------------------------------------- */

static struct gate_standing
standing(uint64_t cgroup_id, const char *text, uint32_t timeout_sec)
{
	struct gate_standing st;
	const char *reason;

	memset(&st, 0, sizeof st);
	st.cgroup_id = cgroup_id;
	if (ip_prefix_parse(text, &st.net, &reason) != 0)
		abort();
	st.timeout_sec = timeout_sec;
	return st;
}

struct standing_listed {
	size_t n;
	struct nft_standing_element e[MAX_LISTED];
};

static void
collect_standing(const struct nft_standing_element *e, void *arg)
{
	struct standing_listed *l = arg;

	if (l->n < MAX_LISTED)
		l->e[l->n] = *e;
	l->n++;
}

static int
list_standing(struct standing_listed *l)
{
	char err[256];

	memset(l, 0, sizeof *l);
	return nft_dump_standing(collect_standing, l, err, sizeof err);
}

/* The element of cgroup_id whose range runs from first to last. */
static const struct nft_standing_element *
find_standing(const struct standing_listed *l, uint64_t cgroup_id,
	      const char *first, const char *last)
{
	struct gate_grant a = grant(first, 1), b = grant(last, 1);
	size_t i;

	for (i = 0; i < l->n && i < MAX_LISTED; i++)
		if (l->e[i].cgroup_id == cgroup_id &&
		    l->e[i].first.family == a.addr.family &&
		    memcmp(l->e[i].first.bytes, a.addr.bytes,
			   ip_addr_length(&a.addr)) == 0 &&
		    memcmp(l->e[i].last.bytes, b.addr.bytes,
			   ip_addr_length(&b.addr)) == 0)
			return &l->e[i];
	return NULL;
}

/* Standing grants written, listed, refused, flushed and replaced; the
 * allow sets are not touched by any of it. */
static void
test_standing_sets(struct gate *g)
{
	struct gate_standing st[SET_SIZE + 1];
	const struct nft_standing_element *e;
	struct standing_listed l;
	struct listed grants_before, grants_after;
	char err[256];
	size_t i;

	CHECK(list_grants(&grants_before) >= 0);
	CHECK_INT(list_standing(&l), 0);
	st[0] = standing(CGROUP_A, "192.0.2.64/26", 0);
	st[1] = standing(CGROUP_A, "2001:db8:5::/48", 60);
	st[2] = standing(CGROUP_B, "192.0.2.64/26", 30);
	CHECK_INT(gate_standing_add(g, st, 3, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 3);
	e = find_standing(&l, CGROUP_A, "192.0.2.64", "192.0.2.127");
	CHECK(e != NULL && e->timeout_ms == 0 && e->expires_ms == 0);
	e = find_standing(&l, CGROUP_A, "2001:db8:5::",
			  "2001:db8:5:ffff:ffff:ffff:ffff:ffff");
	CHECK(e != NULL && e->timeout_ms == 60000 && e->expires_ms > 50000 &&
	      e->expires_ms <= 60000);
	e = find_standing(&l, CGROUP_B, "192.0.2.64", "192.0.2.127");
	CHECK(e != NULL && e->timeout_ms == 30000);
	if (have_nft) {
		/* nft reads our keys as its own: the cgroup id, the network. */
		char *set = capture("nft list set inet dnsgate standing4");

		CHECK(set != NULL &&
		      strstr(set, "1234605616436508552 . 192.0.2.64/26") !=
			      NULL);
		/* (nft names cgroup 42 by a path, if it finds one) */
		CHECK(set != NULL &&
		      strstr(set, " . 192.0.2.64/26 timeout 30s") != NULL);
		free(set);
	}

	/* The same again is no error; a range overlapping another of the
	 * same cgroup is refused by the kernel; nothing changes. */
	st[0] = standing(CGROUP_A, "192.0.2.64/26", 0);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	st[0] = standing(CGROUP_A, "192.0.2.64/27", 0);
	st[1] = standing(CGROUP_A, "2001:db8:7::/48", 0);
	CHECK_INT(gate_standing_add(g, st, 2, err, sizeof err), -EEXIST);
	CHECK_INT(list_standing(&l), 3);
	/* ... but not for another cgroup. */
	st[0] = standing(CGROUP_B, "2001:db8:5::/64", 0);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 4);
	st[0] = standing(CGROUP_A, "2001:db8:7::/48", 0);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 5);
	CHECK_INT(gate_standing_flush(g, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 0);
	st[0] = standing(CGROUP_A, "192.0.2.64/26", 0);
	st[1] = standing(CGROUP_A, "2001:db8:5::/48", 60);
	st[2] = standing(CGROUP_B, "192.0.2.64/26", 30);
	CHECK_INT(gate_standing_add(g, st, 3, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 3);

	/* Bad grants are refused before anything is sent. */
	st[0] = standing(CGROUP_A, "192.0.2.0/24", 0);
	st[0].net.length = 33;
	err[0] = '\0';
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "prefix") != NULL);
	st[0] = standing(CGROUP_A, "192.0.2.0/24", 0);
	st[0].net.length = 16; /* 192.0.2.0/16: bits beyond the prefix */
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), -EINVAL);
	st[0] = standing(0, "192.0.2.0/24", 0);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), -EINVAL);
	CHECK(strstr(err, "cgroup") != NULL);
	st[0].net.addr.family = 0;
	st[0].cgroup_id = CGROUP_A;
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), -EINVAL);
	CHECK_INT(gate_standing_add(g, st, 0, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 3);

	/* standing4 holds 2: fill it to SET_SIZE, then one more is refused
	 * whole, the IPv6 one that fits with it too. */
	st[0] = standing(CGROUP_A, "192.0.2.16/28", 0);
	st[1] = standing(CGROUP_A, "192.0.2.1", 0);
	CHECK_INT(gate_standing_add(g, st, 2, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 5);
	st[0] = standing(CGROUP_A, "2001:db8:6::/48", 0);
	st[1] = standing(CGROUP_A, "192.0.2.32/28", 0);
	err[0] = '\0';
	CHECK_INT(gate_standing_add(g, st, 2, err, sizeof err), -ENFILE);
	CHECK(strstr(err, "standing4") != NULL);
	CHECK_INT(list_standing(&l), 5);
	CHECK(find_standing(&l, CGROUP_A, "2001:db8:6::",
			    "2001:db8:6:ffff:ffff:ffff:ffff:ffff") == NULL);

	/* Replacing is one batch: the old ones go, the new ones come. */
	for (i = 0; i < SET_SIZE + 1; i++) {
		char text[32];

		snprintf(text, sizeof text, "192.0.2.%zu/32", 200 + i);
		st[i] = standing(CGROUP_B, text, 0);
	}
	CHECK_INT(gate_standing_replace(g, st, SET_SIZE, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), SET_SIZE);
	CHECK(find_standing(&l, CGROUP_B, "192.0.2.200", "192.0.2.200") !=
	      NULL);
	CHECK(find_standing(&l, CGROUP_A, "192.0.2.64", "192.0.2.127") ==
	      NULL);
	/* Too many for the set: nothing changes. */
	CHECK_INT(gate_standing_replace(g, st, SET_SIZE + 1, err, sizeof err),
		  -ENFILE);
	CHECK_INT(list_standing(&l), SET_SIZE);

	CHECK_INT(gate_standing_flush(g, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 0);
	CHECK_INT(gate_standing_flush(g, err, sizeof err), 0);
	CHECK_INT(list_grants(&grants_after), (int)grants_before.n);
}

/* --- packets ------------------------------------------------------------- */

static int
udp_socket(int family)
{
	return socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* Sends one datagram; returns 0 or the errno of sendto. */
static int
send_udp(int fd, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = fixture_sockaddr(addr, port, &ss);

	if (sendto(fd, "x", 1, 0, (struct sockaddr *)&ss, len) == 1)
		return 0;
	return errno;
}

static int
send_once(const char *addr, uint16_t port)
{
	int fd = udp_socket(strchr(addr, ':') != NULL ? AF_INET6 : AF_INET);
	int ret = send_udp(fd, addr, port);

	close(fd);
	return ret;
}

static int
listen_udp(const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = fixture_sockaddr(addr, port, &ss);
	int fd;

	fd = udp_socket(ss.ss_family);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static bool
received(int fd, int timeout_ms)
{
	struct pollfd pfd = {fd, POLLIN, 0};
	char buf[16];

	if (poll(&pfd, 1, timeout_ms) != 1)
		return false;
	return recv(fd, buf, sizeof buf, 0) > 0;
}

static int64_t
rejected(void)
{
	char err[256];

	return nft_dump_rejected_packets(err, sizeof err);
}

/* Finds the cgroup2 mount and this process's cgroup in it. */
static int
own_cgroup(char *dir, size_t dirlen, unsigned *depth)
{
	char line[1024], mount[512] = "", path[512] = "";
	FILE *f = fopen("/proc/self/mountinfo", "r");
	const char *c;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		char *sep = strstr(line, " - cgroup2 ");
		char point[512];

		if (sep != NULL &&
		    sscanf(line, "%*s %*s %*s %*s %511s", point) == 1) {
			snprintf(mount, sizeof mount, "%s", point);
			break;
		}
	}
	fclose(f);
	fixture_own_cgroup_path(path, sizeof path);
	if (mount[0] == '\0' || path[0] != '/')
		return -1;
	*depth = 0;
	for (c = path; *c != '\0'; c++)
		if (*c == '/' && c[1] != '\0')
			(*depth)++;
	snprintf(dir, dirlen, "%s%s", mount,
		 strcmp(path, "/") == 0 ? "" : path);
	return 0;
}

struct taken {
	size_t n;
	struct nft_rejected first;
};

static void
take_one(const struct nft_rejected *r, void *arg)
{
	struct taken *t = arg;

	if (t->n++ == 0)
		t->first = *r;
}

struct counted {
	uint64_t cgroup_id, packets, bytes;
};

static void
count_grant(const struct nft_grant *el, void *arg)
{
	struct counted *c = arg;

	if (el->cgroup_id == c->cgroup_id) {
		c->packets += el->packets;
		c->bytes += el->bytes;
	}
}

/* After test_cgroup_grant's child: its grant counted the datagram it let
 * through, and the rejected one is recorded with the child's cgroup,
 * destination, protocol and port, once; reading deletes it. */
static void
check_counted(struct gate *g, uint64_t cgroup_id)
{
	struct counted c = {cgroup_id, 0, 0};
	struct taken t;
	char err[256];
	bool full = true;

	CHECK(gate_traffic(g, count_grant, &c, err, sizeof err) >= 1);
	CHECK(c.packets == 1 && c.bytes == 29); /* 20 + 8 + 1 */
	memset(&t, 0, sizeof t);
	CHECK_INT(gate_take_rejected(g, take_one, &t, &full, err, sizeof err),
		  1);
	CHECK(!full);
	CHECK(t.first.cgroup_id == cgroup_id);
	CHECK(t.first.addr.family == AF_INET &&
	      memcmp(t.first.addr.bytes, "\xc0\x00\x02\x03", 4) == 0);
	CHECK(t.first.protocol == IPPROTO_UDP && t.first.port == 9);
	CHECK(t.first.packets == 1);
	memset(&t, 0, sizeof t);
	CHECK_INT(gate_take_rejected(g, take_one, &t, &full, err, sizeof err),
		  0);
}

/* More rejected destinations than rejected4 holds: every one is still
 * rejected (a full set stops the recording rule, not the reject), and
 * the reader says the set was full. */
static void
check_full_rejected_set(struct gate *g, const char *procs)
{
	struct taken t;
	char err[256];
	bool full = false;
	int status = 0;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(procs, O_WRONLY);
		int sock = udp_socket(AF_INET);
		unsigned port;

		if (fd < 0 || write(fd, "0\n", 2) != 2)
			_exit(100);
		close(fd);
		/* From 1000: port 53 would be redirected. */
		for (port = 1; port <= NFT_REJECTED_SET_SIZE + 50; port++)
			if (send_udp(sock, "192.0.2.3",
				     (uint16_t)(1000 + port)) != EPERM)
				_exit(1);
		_exit(0);
	}
	CHECK(pid > 0);
	if (pid <= 0)
		return;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	memset(&t, 0, sizeof t);
	CHECK_INT(gate_take_rejected(g, take_one, &t, &full, err, sizeof err),
		  NFT_REJECTED_SET_SIZE);
	CHECK(full);
	memset(&t, 0, sizeof t);
	CHECK_INT(gate_take_rejected(g, take_one, &t, &full, err, sizeof err),
		  0);
	CHECK(!full);
}

/* A child in a fresh cgroup sends to a granted and to another address. */
static void
test_cgroup_grant(struct gate *g)
{
	char parent[600], dir[700], procs[720], err[256];
	struct gate_grant grants[1];
	struct stat st;
	unsigned depth;
	pid_t pid;
	int status = 0;
	bool full;

	if (own_cgroup(parent, sizeof parent, &depth) < 0) {
		fprintf(stderr,
			"note: no cgroup2 mount, grant check skipped\n");
		return;
	}
	snprintf(dir, sizeof dir, "%s/dnsgate-test-%ld", parent,
		 (long)getpid());
	if (mkdir(dir, 0755) < 0 || stat(dir, &st) < 0) {
		fprintf(stderr, "note: cannot create %s, grant check skipped\n",
			dir);
		return;
	}
	CHECK_INT(gate_ensure_level(g, depth + 1), 0);
	/* What the tests before left behind. */
	CHECK(gate_take_rejected(g, NULL, NULL, &full, err, sizeof err) >= 0);
	grants[0] = grant("192.0.2.2", 60);
	CHECK_INT(gate_allow(g, (uint64_t)st.st_ino, grants, 1, err,
			     sizeof err),
		  0);
	snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(procs, O_WRONLY);
		int code = 0;

		if (fd < 0 || write(fd, "0\n", 2) != 2)
			_exit(100);
		close(fd);
		if (send_once("192.0.2.2", 9) == 0)
			code |= 1;
		if (send_once("192.0.2.3", 9) == EPERM)
			code |= 2;
		_exit(code);
	}
	CHECK(pid > 0);
	if (pid > 0) {
		waitpid(pid, &status, 0);
		CHECK(WIFEXITED(status));
		CHECK_INT(WEXITSTATUS(status), 3);
	}
	check_counted(g, (uint64_t)st.st_ino);
	check_full_rejected_set(g, procs);
	rmdir(dir);
}

/* Makes the cgroup parent/dnsgate-test-PID-name; returns its id, or 0. */
static uint64_t
make_cgroup(const char *parent, const char *name, char *dir, size_t dirlen)
{
	struct stat st;

	snprintf(dir, dirlen, "%s/dnsgate-test-%ld-%s", parent, (long)getpid(),
		 name);
	if (mkdir(dir, 0755) < 0 || stat(dir, &st) < 0)
		return 0;
	return (uint64_t)st.st_ino;
}

/* A child joins the cgroup at dir and sends to each address; bit i of
 * the result is set when the i-th send passed (0) and clear when it was
 * rejected (EPERM); 100 means the child could not join or send. */
static int
sends_from(const char *dir, const char *const *addrs, size_t n)
{
	char procs[720];
	int status = 0;
	pid_t pid;

	snprintf(procs, sizeof procs, "%s/cgroup.procs", dir);
	pid = fork();
	if (pid == 0) {
		int fd = open(procs, O_WRONLY);
		int code = 0;
		size_t i;

		if (fd < 0 || write(fd, "0\n", 2) != 2)
			_exit(100);
		close(fd);
		for (i = 0; i < n; i++) {
			int ret = send_once(addrs[i], 9);

			if (ret == 0)
				code |= 1 << i;
			else if (ret != EPERM)
				_exit(100);
		}
		_exit(code);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* A process in cgroup A reaches its standing network, and nothing else;
 * one in cgroup B does not; a standing grant with a timeout ends. */
static void
test_standing_packets(struct gate *g, bool ipv6)
{
	static const char *const addrs[] = {"192.0.2.70", "192.0.2.3",
					    "2001:db8::105", "2001:db8::3"};
	size_t n_addrs = ipv6 ? 4 : 2;
	char parent[600], dir_a[700], dir_b[700], err[256];
	struct gate_standing st[2];
	struct standing_listed l;
	uint64_t a, b;
	unsigned depth;

	if (own_cgroup(parent, sizeof parent, &depth) < 0) {
		fprintf(stderr, "note: no cgroup2 mount, standing packet "
				"checks skipped\n");
		return;
	}
	a = make_cgroup(parent, "sa", dir_a, sizeof dir_a);
	b = make_cgroup(parent, "sb", dir_b, sizeof dir_b);
	CHECK(a != 0 && b != 0);
	if (a == 0 || b == 0)
		goto out;
	CHECK_INT(gate_ensure_level(g, depth + 1), 0);
	/* Nothing granted yet: all rejected. */
	CHECK_INT(sends_from(dir_a, addrs, n_addrs), 0);

	st[0] = standing(a, "192.0.2.64/26", 0);
	st[1] = standing(a, "2001:db8::100/120", 0);
	CHECK_INT(gate_standing_add(g, st, 2, err, sizeof err), 0);
	CHECK_INT(sends_from(dir_a, addrs, n_addrs), ipv6 ? 0x5 : 0x1);
	CHECK_INT(sends_from(dir_b, addrs, n_addrs), 0);

	/* Flushed: closed again. */
	CHECK_INT(gate_standing_flush(g, err, sizeof err), 0);
	CHECK_INT(sends_from(dir_a, addrs, n_addrs), 0);

	/* A timeout: open for a second, then not. */
	st[0] = standing(a, "192.0.2.64/26", 1);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(sends_from(dir_a, addrs, 2), 0x1);
	usleep(1500000);
	CHECK_INT(list_standing(&l), 0);
	CHECK_INT(sends_from(dir_a, addrs, 2), 0);
out:
	rmdir(dir_a);
	rmdir(dir_b);
}

static void
test_packets(struct gate *g)
{
	bool ipv6 = false;
	int64_t before;
	int dns4, dns6, fd;
	int mark = UPSTREAM_MARK;

	if (create_veth("dg0", "dg1") < 0 || set_up("dg0") < 0 ||
	    set_up("dg1") < 0 ||
	    add_ipv4_address("dg0", "192.0.2.1", "255.255.255.0") < 0) {
		fprintf(stderr, "note: no veth, packet checks skipped\n");
		return;
	}
	before = rejected();
	CHECK(before >= 0);

	/* Not granted: rejected at once, and counted. */
	CHECK_INT(send_once("192.0.2.2", 9), EPERM);
	CHECK_INT(rejected(), before + 1);
	/* Exempt network. */
	CHECK_INT(send_once("192.0.2.200", 9), 0);
	CHECK_INT(rejected(), before + 1);

	/* DNS to anywhere reaches the daemon port on loopback. */
	dns4 = listen_udp("127.0.0.1", DNS_PORT);
	CHECK(dns4 >= 0);
	CHECK_INT(send_once("192.0.2.2", 53), 0);
	CHECK(received(dns4, 1000));
	/* ... except the daemon's own, marked, upstream query. */
	fd = udp_socket(AF_INET);
	CHECK_INT(setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof mark), 0);
	CHECK_INT(send_udp(fd, "192.0.2.2", 53), 0);
	close(fd);
	CHECK(!received(dns4, 200));
	close(dns4);

	if (add_ipv6_address("dg0", "2001:db8::1", 64) == 0) {
		dns6 = listen_udp("::1", DNS_PORT);
		CHECK(dns6 >= 0);
		CHECK_INT(send_once("2001:db8::2", 53), 0);
		CHECK(received(dns6, 1000));
		close(dns6);
		CHECK_INT(send_once("2001:db8::2", 9), EPERM);
		/* Neighbour discovery for 2001:db8::2 was let through: only
		 * the two datagrams to port 9 were rejected. */
		usleep(300000);
		CHECK_INT(rejected(), before + 2);
		ipv6 = true;
	} else {
		fprintf(stderr, "note: no IPv6 address, IPv6 checks skipped\n");
	}
	test_cgroup_grant(g);
	test_standing_packets(g, ipv6);
}

/* --- large batches ------------------------------------------------------ */

#define LARGE_EXEMPT 1200
#define LARGE_GRANTS 1500

/* Every level, many exempt networks and thousands of grants in one call:
 * element lists are split into several messages of one batch, and every
 * ack still arrives. Then gate_remove_table removes the present table. */
static void
test_large(void)
{
	struct ip_prefix *many = calloc(LARGE_EXEMPT, sizeof *many);
	struct gate_grant *grants = calloc(2 * LARGE_GRANTS, sizeof *grants);
	struct gate_options opts = test_options();
	struct gate *g;
	struct listed l;
	char err[256], text[64];
	size_t i;

	if (many == NULL || grants == NULL)
		abort();
	for (i = 0; i < LARGE_EXEMPT; i++) {
		const char *reason;

		/* Every other address, so that no two merge. */
		snprintf(text, sizeof text, "2001:db8::%zx", 2 * i);
		CHECK_INT(ip_prefix_parse(text, &many[i], &reason), 0);
	}
	for (i = 0; i < LARGE_GRANTS; i++) {
		snprintf(text, sizeof text, "10.0.%zu.%zu", i / 256, i % 256);
		grants[2 * i] = grant(text, 600);
		snprintf(text, sizeof text, "2001:db8:1::%zx", i);
		grants[2 * i + 1] = grant(text, 600);
	}
	opts.exempt = many;
	opts.n_exempt = LARGE_EXEMPT;
	opts.max_level = 255;
	opts.set_size = 2 * LARGE_GRANTS;
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_open: %s\n", err);
	} else {
		CHECK_INT(gate_allow(g, CGROUP_A, grants, 2 * LARGE_GRANTS, err,
				     sizeof err),
			  0);
		CHECK_INT(list_grants(&l), 2 * LARGE_GRANTS);
		CHECK_INT(rejected(), 0);
		if (have_nft) {
			char *set = capture(
				"nft list set inet dnsgate exempt6");

			CHECK(set != NULL && strstr(set, "2001:db8::95e") !=
						     NULL);
			CHECK(set != NULL && strstr(set, "2001:db8::2,") !=
						     NULL);
			free(set);
		}
		CHECK_INT(gate_remove_table(err, sizeof err), 0);
		CHECK_INT(list_grants(&l), -ENOENT);
		/* The table is gone already: closing is still no error. */
		CHECK_INT(gate_close(g, true, err, sizeof err), 0);
	}
	free(many);
	free(grants);
}

/* A grant asked again with the same timeout expires anew, whichever way
 * the gate renews it (the kernel's own way, added again with its
 * expiration, or added, deleted and added); in one batch with a grant
 * not in the set, both are there after it. */
static void
test_renewal(enum gate_renew how)
{
	struct gate_options opts = test_options();
	struct gate_grant grants[3];
	const struct nft_grant *e;
	struct timespec wait = {1, 600 * 1000 * 1000};
	struct listed l;
	struct gate *g;
	char err[256];

	opts.renew = how;
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_open: %s\n", err);
		return;
	}
	grants[0] = grant("192.0.2.20", 10);
	grants[1] = grant("2001:db8::20", 10);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 2, err, sizeof err), 0);
	nanosleep(&wait, NULL);
	grants[2] = grant("192.0.2.21", 10);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 3, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 3);
	e = find_element(&l, CGROUP_A, "192.0.2.20");
	CHECK(e != NULL && e->expires_ms > 9000 && e->expires_ms <= 10000);
	e = find_element(&l, CGROUP_A, "2001:db8::20");
	CHECK(e != NULL && e->expires_ms > 9000 && e->expires_ms <= 10000);
	CHECK(find_element(&l, CGROUP_A, "192.0.2.21") != NULL);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* --- adoption ----------------------------------------------------------- */

/* A table left by a dnsgated that died, with things another program
 * added meanwhile. */
static struct gate *
leave_table(const struct gate_options *opts)
{
	struct gate_grant grants[2];
	struct gate *g;
	char err[256];

	g = gate_open(opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_open: %s\n", err);
		return NULL;
	}
	grants[0] = grant("192.0.2.10", 60);
	grants[1] = grant("2001:db8::10", 120);
	CHECK_INT(gate_allow(g, CGROUP_A, grants, 2, err, sizeof err), 0);
	return g;
}

static bool
table_has(const char *text)
{
	char *table = capture("nft list table inet dnsgate");
	bool found = table != NULL && strstr(table, text) != NULL;

	free(table);
	return found;
}

/* A crashed dnsgated's table is taken over: the grants stay with their
 * timeouts running on, all the rest is what the new options make. */
static void
test_adopt_keeps_grants(void)
{
	static const char *const new_exempt_text = "198.51.100.0/24";
	struct gate_options opts = test_options();
	struct ip_prefix new_exempt;
	struct gate_adoption report;
	const struct nft_grant *e;
	const char *reason;
	struct listed l;
	struct gate *g;
	char err[256];

	g = leave_table(&opts);
	if (g == NULL)
		return;
	if (have_nft) {
		/* No timeout, and a timeout beyond max_grant_sec: not
		 * dnsgated's. */
		CHECK_INT(nft_run("add element inet dnsgate allow4 "
				  "'{ \"/\" . 192.0.2.98, \"/\" . 192.0.2.99 "
				  "timeout 2d }'"),
			  0);
		CHECK_INT(nft_run("insert rule inet dnsgate gate-output accept"),
			  0);
		CHECK_INT(nft_run("add chain inet dnsgate extra '{ type filter "
				  "hook output priority 10; }'"),
			  0);
		CHECK_INT(nft_run("add chain inet dnsgate target"), 0);
		CHECK_INT(nft_run("add rule inet dnsgate extra jump target"), 0);
		CHECK_INT(nft_run("add set inet dnsgate extra_set "
				  "'{ type ipv4_addr; }'"),
			  0);
		CHECK_INT(nft_run("add rule inet dnsgate target ip daddr "
				  "@extra_set accept"),
			  0);
	}
	/* Gone without a word, as after kill -9. */
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), have_nft ? 4 : 2);

	CHECK_INT(ip_prefix_parse(new_exempt_text, &new_exempt, &reason), 0);
	opts.exempt = &new_exempt;
	opts.n_exempt = 1;
	opts.max_level = 3;
	opts.max_grant_sec = 86400;
	usleep(1100000);
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_adopt: %s\n", err);
		return;
	}
	CHECK(report.found);
	CHECK(report.kept);
	CHECK_INT(report.grants, 2);
	CHECK_INT(report.n_distrusted, have_nft ? 2 : 0);
	CHECK_STR(report.why_dropped, "");

	/* The grants, their timeouts still running down. */
	CHECK_INT(list_grants(&l), 2);
	e = find_element(&l, CGROUP_A, "192.0.2.10");
	CHECK(e != NULL && e->expires_ms > 50000 && e->expires_ms <= 59000);
	e = find_element(&l, CGROUP_A, "2001:db8::10");
	CHECK(e != NULL && e->expires_ms > 110000 && e->expires_ms <= 119000);

	/* Everything else renewed. */
	check_level_rules(3);
	if (have_nft) {
		char *set = capture("nft list set inet dnsgate exempt4");

		CHECK(set != NULL &&
		      strstr(set, "elements = { 198.51.100.0/24 }") != NULL);
		free(set);
		CHECK(!table_has("extra"));
		CHECK(!table_has("target"));
		CHECK(!table_has("\t\taccept\n"));
		CHECK(has_table("ip other"));
	}
	/* Levels are still added before the reject rule. */
	CHECK_INT(gate_ensure_level(g, 4), 0);
	check_level_rules(4);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* Vouched for (the daemon watched every change), the elements are taken
 * as they are: not listed, not counted, none deleted. */
static void
test_adopt_vouched(void)
{
	struct gate_options opts = test_options();
	struct gate_adoption report;
	struct listed l;
	struct gate *g;
	char err[256];

	g = leave_table(&opts);
	if (g == NULL)
		return;
	if (have_nft)
		CHECK_INT(nft_run("add element inet dnsgate allow4 "
				  "'{ \"/\" . 192.0.2.98 }'"),
			  0);
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	g = gate_adopt(&opts, true, &report, err, sizeof err);
	CHECK(g != NULL);
	CHECK(report.found && report.kept);
	CHECK_INT(report.grants, 0);
	CHECK_INT(report.n_distrusted, 0);
	CHECK_INT(list_grants(&l), have_nft ? 3 : 2);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* Sets other than the configuration would make cannot be kept: the table
 * is replaced, and the report says why and what was lost. */
static void
test_adopt_replaces(void)
{
	struct gate_options opts = test_options();
	struct gate_adoption report;
	struct listed l;
	struct gate *g;
	char err[256];

	g = leave_table(&opts);
	if (g == NULL)
		return;
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	opts.set_size = 2 * SET_SIZE;
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	CHECK(report.found);
	CHECK(!report.kept);
	CHECK_INT(report.grants, 2);
	CHECK_STR(report.why_dropped, "its set allow4 holds at most 4 "
				      "elements, and set-size is now 8");
	CHECK_INT(list_grants(&l), 0);
	if (have_nft)
		CHECK(table_has("size 8\n"));
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);

	if (have_nft) {
		/* Another key in allow6. */
		CHECK_INT(nft_run("delete table inet dnsgate"), 0);
		CHECK_INT(nft_load("table inet dnsgate {\n"
				   " set allow4 { type cgroupsv2 . ipv4_addr;"
				   " size 8; flags timeout; counter; }\n"
				   " set allow6 { type ipv6_addr; size 8;"
				   " flags timeout; }\n"
				   "}\n"),
			  0);
		g = gate_adopt(&opts, false, &report, err, sizeof err);
		CHECK(g != NULL);
		CHECK(report.found && !report.kept);
		CHECK(strstr(report.why_dropped, "its set allow6 has another "
						 "key") != NULL);
		CHECK(table_has("type cgroupsv2 . ipv6_addr"));
		CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	}

	if (have_nft) {
		/* Made dormant: no gate while it was so, not trusted. */
		CHECK_INT(nft_run("add table inet dnsgate '{ flags dormant; }'"),
			  0);
		CHECK(table_has("flags dormant"));
		g = gate_adopt(&opts, false, &report, err, sizeof err);
		CHECK(g != NULL);
		CHECK(report.found && !report.kept);
		CHECK(strstr(report.why_dropped, "dormant") != NULL);
		CHECK(!table_has("dormant"));
		CHECK(table_has("counter packets 0 bytes 0 reject"));
		CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	}

	/* No table: nothing found, a new one made. */
	CHECK_INT(gate_remove_table(err, sizeof err), 0);
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	CHECK(!report.found && !report.kept);
	CHECK_INT(report.grants, 0);
	CHECK_INT(list_grants(&l), 0);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* The handle of a set as `nft -a` lists it, or -1. */
static long
set_handle(const char *name)
{
	char command[128], *text, *p;
	long handle = -1;

	snprintf(command, sizeof command, "nft -a list set inet dnsgate %s",
		 name);
	text = capture(command);
	p = text != NULL ? strstr(text, "# handle ") : NULL;
	if (p != NULL)
		handle = strtol(p + strlen("# handle "), NULL, 10);
	free(text);
	return handle;
}

/* The standing sets of a table left behind: kept and emptied when they
 * are right, made anew when not, added to an older dnsgated's table that
 * has none; the allow grants are kept in every case. */
static void
test_adopt_standing(void)
{
	struct gate_options opts = test_options();
	struct gate_adoption report;
	struct gate_standing st[1];
	struct standing_listed l;
	struct listed grants;
	struct gate *g;
	char err[256], *set;
	long handle4, handle6;

	g = leave_table(&opts);
	if (g == NULL)
		return;
	st[0] = standing(CGROUP_A, "192.0.2.64/26", 0);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 1);
	handle4 = set_handle("standing4");
	handle6 = set_handle("standing6");
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	g = gate_adopt(&opts, true, &report, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK(report.found && report.kept);
	CHECK_INT(list_grants(&grants), 2);
	CHECK_INT(list_standing(&l), 0);
	if (have_nft) {
		CHECK(handle4 > 0 && set_handle("standing4") == handle4);
		CHECK(handle6 > 0 && set_handle("standing6") == handle6);
	}
	/* The rules find the kept sets. */
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 1);
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	if (!have_nft) {
		CHECK_INT(gate_remove_table(err, sizeof err), 0);
		return;
	}

	/* standing4 of another shape (no interval), with an element. */
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
	CHECK_INT(nft_load("table inet dnsgate {\n"
			   " set allow4 { type cgroupsv2 . ipv4_addr;"
			   " size 4; flags timeout; counter; }\n"
			   " set allow6 { type cgroupsv2 . ipv6_addr;"
			   " size 4; flags timeout; counter; }\n"
			   " set standing4 { type cgroupsv2 . ipv4_addr;"
			   " size 4; flags timeout; }\n"
			   " set standing6 { type cgroupsv2 . ipv6_addr;"
			   " size 4; flags interval, timeout; }\n"
			   "}\n"
			   "add element inet dnsgate allow4 { \"/\" . "
			   "192.0.2.10 timeout 60s }\n"
			   "add element inet dnsgate standing4 { \"/\" . "
			   "192.0.2.70 }\n"),
		  0);
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK(report.found && report.kept);
	CHECK_INT(report.grants, 1);
	CHECK_INT(list_grants(&grants), 1);
	CHECK_INT(list_standing(&l), 0);
	set = capture("nft list set inet dnsgate standing4");
	CHECK(set != NULL && strstr(set, "flags interval,timeout") != NULL);
	CHECK(set != NULL && strstr(set, "192.0.2.70") == NULL);
	free(set);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);

	/* An older dnsgated's table: allow sets only. */
	CHECK_INT(nft_run("delete table inet dnsgate"), 0);
	CHECK_INT(nft_load("table inet dnsgate {\n"
			   " set allow4 { type cgroupsv2 . ipv4_addr;"
			   " size 4; flags timeout; counter; }\n"
			   " set allow6 { type cgroupsv2 . ipv6_addr;"
			   " size 4; flags timeout; counter; }\n"
			   " chain gate-output { type filter hook output"
			   " priority 0; counter reject; }\n"
			   "}\n"
			   "add element inet dnsgate allow6 { \"/\" . "
			   "2001:db8::10 timeout 60s }\n"),
		  0);
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK(report.found && report.kept);
	CHECK_STR(report.why_dropped, "");
	CHECK_INT(list_grants(&grants), 1);
	CHECK_INT(list_standing(&l), 0);
	check_level_rules(2);
	CHECK_INT(gate_standing_add(g, st, 1, err, sizeof err), 0);
	CHECK_INT(list_standing(&l), 1);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* An older dnsgated's table, whose allow sets have no counters: made
 * anew with counters (its grants go), and why_dropped says why. */
static void
test_adopt_without_counters(void)
{
	struct gate_options opts = test_options();
	struct gate_adoption report;
	struct listed grants;
	struct gate *g;
	char err[256], *set;

	if (!have_nft)
		return;
	CHECK_INT(nft_load("table inet dnsgate {\n"
			   " set allow4 { type cgroupsv2 . ipv4_addr;"
			   " size 4; flags timeout; }\n"
			   " set allow6 { type cgroupsv2 . ipv6_addr;"
			   " size 4; flags timeout; }\n"
			   "}\n"
			   "add element inet dnsgate allow4 { \"/\" . "
			   "192.0.2.10 timeout 60s }\n"),
		  0);
	g = gate_adopt(&opts, false, &report, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL)
		return;
	CHECK(report.found && !report.kept);
	CHECK(strstr(report.why_dropped, "allow4 has no counters") != NULL);
	CHECK_INT(list_grants(&grants), 0);
	set = capture("nft list set inet dnsgate allow4");
	CHECK(set != NULL && strstr(set, "\t\tcounter\n") != NULL);
	free(set);
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
}

/* The failsafe deletes the table with one send, as often as it is
 * fired, and a gate made afterwards is not bothered by it. */
static void
test_failsafe(void)
{
	struct gate_options opts = test_options();
	struct gate_failsafe *f;
	struct gate *g;
	struct listed l;
	char err[256];

	CHECK_INT(gate_failsafe_fire(NULL), -EINVAL);
	f = gate_failsafe_new(err, sizeof err);
	CHECK(f != NULL);
	if (f == NULL)
		return;
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	CHECK_INT(list_grants(&l), 0);
	CHECK_INT(gate_failsafe_fire(f), 0);
	CHECK_INT(list_grants(&l), -ENOENT);
	CHECK_INT(gate_close(g, false, err, sizeof err), 0);
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	CHECK_INT(gate_failsafe_fire(f), 0);
	CHECK_INT(list_grants(&l), -ENOENT);
	CHECK_INT(gate_failsafe_fire(f), 0); /* nothing left: no harm */
	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
	gate_failsafe_free(f);
}

/* --- main ---------------------------------------------------------------- */

int
main(void)
{
	struct gate_options opts;
	struct gate *g, *stale;
	struct listed l;
	char err[256];
	size_t i;

	int skip = enter_test_namespace();

	if (skip != 0)
		return skip;
	for (i = 0; i < sizeof exempt / sizeof exempt[0]; i++) {
		const char *reason;

		CHECK_INT(ip_prefix_parse(exempt_texts[i], &exempt[i], &reason),
			  0);
	}
	if (have_nft)
		CHECK_INT(nft_run("add table ip other"), 0);

	test_bad_options();
	test_absent_table();

	opts = test_options();
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_open: %s\n", err);
		return check_exit();
	}
	CHECK_INT(list_grants(&l), 0);
	CHECK_INT(rejected(), 0);
	check_level_rules(2);
	if (have_nft)
		CHECK(has_table("ip other"));

	CHECK_INT(gate_ensure_level(g, 2), 0);
	CHECK_INT(gate_ensure_level(g, 3), 0);
	CHECK_INT(gate_ensure_level(g, 256), -EINVAL);
	check_level_rules(3);

	test_grants(g);
	test_full_set(g);
	test_standing_sets(g);

	/* A table left by an earlier run is replaced, grants and all. */
	stale = g;
	g = gate_open(&opts, err, sizeof err);
	CHECK(g != NULL);
	if (g == NULL) {
		fprintf(stderr, "gate_open: %s\n", err);
		return check_exit();
	}
	CHECK_INT(gate_close(stale, false, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), 0);
	check_level_rules(2);
	if (have_nft)
		CHECK(has_table("ip other"));

	test_packets(g);

	CHECK_INT(gate_close(g, true, err, sizeof err), 0);
	CHECK_INT(list_grants(&l), -ENOENT);
	CHECK_INT(gate_remove_table(err, sizeof err), 0);
	if (have_nft) {
		CHECK(!has_table("inet dnsgate"));
		CHECK(has_table("ip other"));
	}

	test_large();
	test_renewal(GATE_RENEW_AUTO);
	test_renewal(GATE_RENEW_UPDATE);
	test_renewal(GATE_RENEW_DELETE);
	test_adopt_keeps_grants();
	test_adopt_vouched();
	test_adopt_replaces();
	test_adopt_standing();
	test_adopt_without_counters();
	test_failsafe();
	if (have_nft)
		CHECK(has_table("ip other"));
	return check_exit();
}
