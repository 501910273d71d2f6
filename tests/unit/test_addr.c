/* test_addr.c - unit tests for src/addr.c. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "src/addr.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

/* Parses text and expects success; returns 1 when it parsed. */
static int
parse_ok(const char *text, struct ip_prefix *p)
{
	const char *reason = NULL;
	int rc = ip_prefix_parse(text, p, &reason);

	if (rc != 0)
		fprintf(stderr, "ip_prefix_parse(\"%s\") failed: %s\n", text,
			reason ? reason : "(no reason)");
	return rc == 0;
}

/* Expects a refusal with a reason. */
static void
check_refused(const char *text)
{
	struct ip_prefix p;
	const char *reason = NULL;
	int rc = ip_prefix_parse(text, &p, &reason);

	CHECK_INT(rc, -1);
	CHECK(reason != NULL && reason[0] != '\0');
	if (rc != -1)
		fprintf(stderr, "  (\"%s\" was accepted)\n", text);
}

static void
test_parse_v4(void)
{
	struct ip_prefix p;
	const uint8_t net[4] = {192, 0, 2, 0};
	const uint8_t host[4] = {198, 51, 100, 7};
	size_t i;
	int nonzero = 0;

	CHECK(parse_ok("192.0.2.0/24", &p));
	CHECK_INT(p.addr.family, AF_INET);
	CHECK_INT(p.length, 24);
	CHECK(memcmp(p.addr.bytes, net, 4) == 0);
	for (i = 4; i < 16; i++)
		nonzero |= p.addr.bytes[i];
	CHECK_INT(nonzero, 0);
	CHECK_INT(ip_addr_length(&p.addr), 4);

	/* A bare address is a host prefix. */
	CHECK(parse_ok("198.51.100.7", &p));
	CHECK_INT(p.addr.family, AF_INET);
	CHECK_INT(p.length, 32);
	CHECK(memcmp(p.addr.bytes, host, 4) == 0);

	CHECK(parse_ok("198.51.100.7/32", &p));
	CHECK_INT(p.length, 32);
	CHECK(memcmp(p.addr.bytes, host, 4) == 0);

	/* /0 with the all-zero address is everything. */
	CHECK(parse_ok("0.0.0.0/0", &p));
	CHECK_INT(p.addr.family, AF_INET);
	CHECK_INT(p.length, 0);

	CHECK(parse_ok("10.0.0.0/8", &p));
	CHECK_INT(p.length, 8);
	CHECK_INT(p.addr.bytes[0], 10);

	/* Bit 25 (the first host bit) clear, bit 24 set. */
	CHECK(parse_ok("192.0.2.128/25", &p));
	CHECK_INT(p.length, 25);
	CHECK_INT(p.addr.bytes[3], 128);

	CHECK(parse_ok("255.255.255.255", &p));
	CHECK_INT(p.length, 32);
	CHECK_INT(p.addr.bytes[3], 255);
}

static void
test_parse_v6(void)
{
	struct ip_prefix p;
	const uint8_t net[16] = {0x20, 0x01, 0x0d, 0xb8};
	const uint8_t one[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	const uint8_t loop[16] = {[15] = 1};
	const uint8_t mapped[16] = {[10] = 0xff, [11] = 0xff, 192, 0, 2, 1};

	CHECK(parse_ok("2001:db8::/32", &p));
	CHECK_INT(p.addr.family, AF_INET6);
	CHECK_INT(p.length, 32);
	CHECK(memcmp(p.addr.bytes, net, 16) == 0);
	CHECK_INT(ip_addr_length(&p.addr), 16);

	CHECK(parse_ok("2001:db8::1", &p));
	CHECK_INT(p.addr.family, AF_INET6);
	CHECK_INT(p.length, 128);
	CHECK(memcmp(p.addr.bytes, one, 16) == 0);

	CHECK(parse_ok("2001:DB8::1/128", &p));
	CHECK_INT(p.length, 128);
	CHECK(memcmp(p.addr.bytes, one, 16) == 0);

	CHECK(parse_ok("::1", &p));
	CHECK_INT(p.addr.family, AF_INET6);
	CHECK_INT(p.length, 128);
	CHECK(memcmp(p.addr.bytes, loop, 16) == 0);

	CHECK(parse_ok("::/0", &p));
	CHECK_INT(p.addr.family, AF_INET6);
	CHECK_INT(p.length, 0);

	CHECK(parse_ok("fe80::/10", &p));
	CHECK_INT(p.length, 10);
	CHECK_INT(p.addr.bytes[0], 0xfe);
	CHECK_INT(p.addr.bytes[1], 0x80);

	/* An IPv4-mapped address is an IPv6 address. */
	CHECK(parse_ok("::ffff:192.0.2.1", &p));
	CHECK_INT(p.addr.family, AF_INET6);
	CHECK_INT(p.length, 128);
	CHECK(memcmp(p.addr.bytes, mapped, 16) == 0);

	/* The longest textual IPv6 form still fits. */
	CHECK(parse_ok("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255/128",
		       &p));
	CHECK_INT(p.length, 128);
}

static void
test_parse_bad_length(void)
{
	check_refused("192.0.2.0/33");
	check_refused("192.0.2.0/99999999999999999999999");
	check_refused("192.0.2.0/-1");
	check_refused("192.0.2.0/+24");
	check_refused("192.0.2.0/ 24");
	check_refused("192.0.2.0/");
	check_refused("192.0.2.0/24x");
	check_refused("192.0.2.0/24 ");
	check_refused("192.0.2.0/2.4");
	check_refused("192.0.2.0/0x18");
	check_refused("192.0.2.0/24/24");
	check_refused("2001:db8::/129");
	check_refused("2001:db8::/");
	check_refused("::/abc");
}

static void
test_parse_bits_beyond_prefix(void)
{
	check_refused("192.0.2.1/24");
	check_refused("192.0.3.0/23");
	check_refused("192.0.2.128/24");
	check_refused("11.0.0.0/7");
	check_refused("0.0.0.1/0");
	check_refused("128.0.0.0/0");
	check_refused("2001:db8::1/64");
	check_refused("2001:db9::/31");
	check_refused("::1/127");
	check_refused("8000::/0");
	check_refused("fe80::/8");

	/* The same networks with their host bits clear are fine. */
	{
		struct ip_prefix p;

		CHECK(parse_ok("192.0.2.0/23", &p));
		CHECK(parse_ok("10.0.0.0/7", &p));
		CHECK(parse_ok("2001:db8::/31", &p));
		CHECK(parse_ok("fe80::/9", &p));
		CHECK(parse_ok("fe00::/8", &p));
	}
}

static void
test_parse_garbage(void)
{
	struct ip_prefix p;
	const char *reason = NULL;
	char longtext[200];

	check_refused("");
	check_refused("/24");
	check_refused("/");
	check_refused("example.com");
	check_refused("example.com/24");
	check_refused("192.0.2");
	check_refused("192.0.2.256");
	check_refused("192.0.2.1.5");
	check_refused(" 192.0.2.1");
	check_refused("192.0.2.1 ");
	check_refused("1");
	check_refused("2001:db8:::1");
	check_refused("2001:db8::g");
	check_refused("fe80::1%eth0");
	check_refused("[2001:db8::1]");
	check_refused("192.0.2.1:53");

	/* Far longer than any address: refused, not overflowed. */
	memset(longtext, '1', sizeof longtext - 1);
	longtext[sizeof longtext - 1] = '\0';
	check_refused(longtext);
	memset(longtext, ':', 120);
	snprintf(longtext + 120, sizeof longtext - 120, "/64");
	check_refused(longtext);

	/* Output is cleared even on error: no stale family. */
	memset(&p, 0xa5, sizeof p);
	CHECK_INT(ip_prefix_parse("nonsense", &p, &reason), -1);
	CHECK(p.addr.family != AF_INET && p.addr.family != AF_INET6);
}

static void
test_format(void)
{
	struct ip_prefix p;
	struct ip_addr a;
	char buf[INET6_ADDRSTRLEN];
	char small[4];

	CHECK(parse_ok("192.0.2.1", &p));
	CHECK_STR(ip_addr_format(&p.addr, buf, sizeof buf), "192.0.2.1");
	CHECK(ip_addr_format(&p.addr, buf, sizeof buf) == buf);

	CHECK(parse_ok("2001:0DB8:0000:0000:0000:0000:0000:0001", &p));
	CHECK_STR(ip_addr_format(&p.addr, buf, sizeof buf), "2001:db8::1");

	CHECK(parse_ok("::", &p));
	CHECK_STR(ip_addr_format(&p.addr, buf, sizeof buf), "::");

	CHECK(parse_ok("0.0.0.0", &p));
	CHECK_STR(ip_addr_format(&p.addr, buf, sizeof buf), "0.0.0.0");

	/* Exactly enough room: "1.2.3.4" and its NUL. */
	{
		char exact[8];

		CHECK(parse_ok("1.2.3.4", &p));
		CHECK_STR(ip_addr_format(&p.addr, exact, sizeof exact),
			  "1.2.3.4");
	}

	/* Too small a buffer gives an empty string, never a partial one. */
	CHECK(parse_ok("192.0.2.1", &p));
	memset(small, 'x', sizeof small);
	CHECK_STR(ip_addr_format(&p.addr, small, sizeof small), "");

	/* An unknown family formats as an empty string. */
	memset(&a, 0, sizeof a);
	a.family = AF_UNIX;
	memset(buf, 'x', sizeof buf);
	buf[sizeof buf - 1] = '\0';
	CHECK_STR(ip_addr_format(&a, buf, sizeof buf), "");

	/* Round trip: parse(format(x)) == x. */
	{
		static const char *const texts[] = {
			"10.1.2.3", "2001:db8:1:2:3:4:5:6", "fe80::1",
			"::ffff:192.0.2.1", "255.255.255.255"};
		size_t i;

		for (i = 0; i < sizeof texts / sizeof texts[0]; i++) {
			struct ip_prefix q;

			CHECK(parse_ok(texts[i], &p));
			ip_addr_format(&p.addr, buf, sizeof buf);
			CHECK(parse_ok(buf, &q));
			CHECK(q.addr.family == p.addr.family &&
			      memcmp(q.addr.bytes, p.addr.bytes, 16) == 0);
		}
	}
}

static void
test_from_sockaddr(void)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	struct sockaddr_un sun;
	struct sockaddr_storage ss;
	struct ip_addr a;
	char buf[INET6_ADDRSTRLEN];
	size_t i;
	int nonzero = 0;

	sin = fixture_ipv4("203.0.113.9", 53);
	memset(&a, 0xa5, sizeof a);
	CHECK_INT(ip_addr_from_sockaddr((const struct sockaddr *)&sin, &a), 0);
	CHECK_INT(a.family, AF_INET);
	CHECK_STR(ip_addr_format(&a, buf, sizeof buf), "203.0.113.9");
	for (i = 4; i < 16; i++)
		nonzero |= a.bytes[i];
	CHECK_INT(nonzero, 0); /* no stale bytes after the IPv4 address */

	sin6 = fixture_ipv6("2001:db8::53", 5353);
	sin6.sin6_scope_id = 3;
	CHECK_INT(ip_addr_from_sockaddr((const struct sockaddr *)&sin6, &a), 0);
	CHECK_INT(a.family, AF_INET6);
	CHECK_STR(ip_addr_format(&a, buf, sizeof buf), "2001:db8::53");
	CHECK_INT(ip_addr_length(&a), 16);

	/* Through a sockaddr_storage, as accept/recvfrom give it. */
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, &sin, sizeof sin);
	CHECK_INT(ip_addr_from_sockaddr((const struct sockaddr *)&ss, &a), 0);
	CHECK_STR(ip_addr_format(&a, buf, sizeof buf), "203.0.113.9");

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	CHECK_INT(ip_addr_from_sockaddr((const struct sockaddr *)&sun, &a), -1);
	memset(&ss, 0, sizeof ss);
	ss.ss_family = AF_UNSPEC;
	CHECK_INT(ip_addr_from_sockaddr((const struct sockaddr *)&ss, &a), -1);
}

static void
test_protocol_names(void)
{
	char buf[16];

	CHECK_STR(ip_protocol_name(6, buf, sizeof buf), "tcp");
	CHECK_STR(ip_protocol_name(17, buf, sizeof buf), "udp");
	CHECK_STR(ip_protocol_name(58, buf, sizeof buf), "icmpv6");
	CHECK_STR(ip_protocol_name(253, buf, sizeof buf), "253");
}

int
main(void)
{
	test_protocol_names();
	test_parse_v4();
	test_parse_v6();
	test_parse_bad_length();
	test_parse_bits_beyond_prefix();
	test_parse_garbage();
	test_format();
	test_from_sockaddr();
	return check_exit();
}
