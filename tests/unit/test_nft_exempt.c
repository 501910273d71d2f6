/* test_nft_exempt.c - exempt networks to interval set elements: merged,
 * sorted, and encoded as nft encodes them. */
#include "config.h"

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "src/nft_exempt.h"
#include "tests/unit/check.h"

#define MAX_PREFIXES 8

/* The elements for the prefixes as text: "start-end" for a range,
 * "start-" for an open one, "-end" for the opening end element, joined by
 * spaces; the end of a range is the first address after it, as in the
 * kernel. */
static char *
elements_text(int family, const char *const *texts, size_t n)
{
	static char out[1024];
	struct ip_prefix prefixes[MAX_PREFIXES];
	struct nft_interval_element *e;
	size_t count, i, len = 0;

	for (i = 0; i < n; i++) {
		const char *reason;

		if (ip_prefix_parse(texts[i], &prefixes[i], &reason) < 0) {
			fprintf(stderr, "bad test prefix %s: %s\n", texts[i],
				reason);
			abort();
		}
	}
	count = nft_exempt_elements(prefixes, n, family, &e);
	out[0] = '\0';
	for (i = 0; i < count; i++) {
		char addr[64];

		inet_ntop(family, e[i].key, addr, sizeof addr);
		len += (size_t)snprintf(out + len, sizeof out - len, "%s%s%s%s",
					len > 0 && !e[i].end ? " " : "",
					e[i].end ? "-" : "", addr,
					e[i].open ? "-" : "");
	}
	free(e);
	return out;
}

static void
test_ipv4(void)
{
	static const char *const overlapping[] = {
		"198.51.100.0/24", "192.0.2.128/25",   "198.51.100.7",
		"203.0.113.0/25",  "203.0.113.128/25", "2001:db8::/32",
	};
	static const char *const zero_and_top[] = {"0.0.0.0/8",
						   "255.255.255.255/32"};
	static const char *const everything[] = {"10.0.0.0/8", "0.0.0.0/0"};
	static const char *const contained[] = {"10.0.0.0/8", "10.1.0.0/16",
						"10.255.255.255"};

	/* Sorted; the host inside its network and the two adjacent halves
	 * merge; the IPv6 prefix is not IPv4's business. */
	CHECK_STR(elements_text(AF_INET, overlapping, 6),
		  "-0.0.0.0 192.0.2.128-192.0.3.0 198.51.100.0-198.51.101.0 "
		  "203.0.113.0-203.0.114.0");
	/* A range from zero needs no opening element; one that reaches the
	 * top has no end element and is open. */
	CHECK_STR(elements_text(AF_INET, zero_and_top, 2),
		  "0.0.0.0-1.0.0.0 255.255.255.255-");
	CHECK_STR(elements_text(AF_INET, everything, 2), "0.0.0.0-");
	CHECK_STR(elements_text(AF_INET, contained, 3), "-0.0.0.0 "
							"10.0.0.0-11.0.0.0");
}

static void
test_ipv6(void)
{
	static const char *const v6[] = {"ff00::/8", "2001:db8:ffff::/48",
					 "192.0.2.0/24",
					 "2001:db8:ffff:1::/64"};
	static const char *const adjacent[] = {"2001:db8::/33",
					       "2001:db8:8000::/33"};

	CHECK_STR(elements_text(AF_INET6, v6, 4),
		  "-:: 2001:db8:ffff::-2001:db9:: ff00::-");
	CHECK_STR(elements_text(AF_INET6, adjacent, 2),
		  "-:: 2001:db8::-2001:db9::");
}

static void
test_none(void)
{
	static const char *const only_v6[] = {"2001:db8::/32"};
	struct nft_interval_element *e = (void *)1;

	CHECK_STR(elements_text(AF_INET, only_v6, 1), "");
	CHECK_INT(nft_exempt_elements(NULL, 0, AF_INET, &e), 0);
	CHECK(e == NULL);
}

int
main(void)
{
	test_ipv4();
	test_ipv6();
	test_none();
	return check_exit();
}
