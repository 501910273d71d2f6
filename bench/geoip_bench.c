/* geoip_bench.c - lookups per second of geoip/geoip.c against the files
 * the tests use (tests/helpers/make_mmdb.pl writes them), both files
 * open, as the query path asks: a country and an ASN per address, a
 * third of them IPv6. bench/run.sh runs it.
 *   geoip_bench COUNTRY.mmdb ASN.mmdb [LOOKUPS]
 * prints "geoip: N ns a lookup, M lookups/s, K with a country", the
 * median of 5 rounds, and the same for an address labelled (not looked
 * up). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "geoip/geoip.h"
#include "src/addr.h"

#define ROUNDS 5
#define ADDRESSES 750

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median ns a lookup over ROUNDS rounds of lookups of addrs. */
static double
measure(const struct geoip *g, const struct ip_addr *addrs, size_t n,
        size_t lookups, size_t *known)
{
	double ns[ROUNDS];
	struct geoip_place p;
	size_t r, i;

	for (r = 0; r < ROUNDS; r++) {
		double t0 = now_ns();

		*known = 0;
		for (i = 0; i < lookups; i++) {
			geoip_lookup(g, &addrs[i % n], &p);
			*known += p.country[0] != '\0';
		}
		ns[r] = (now_ns() - t0) / (double)lookups;
	}
	qsort(ns, ROUNDS, sizeof *ns, compare_doubles);
	return ns[ROUNDS / 2];
}

int
main(int argc, char **argv)
{
	size_t lookups = argc > 3 ? strtoul(argv[3], NULL, 10) : 1000000;
	struct geoip_settings s = {NULL, NULL, true};
	struct ip_addr addrs[ADDRESSES], private4;
	struct geoip *g;
	char warn[1024];
	size_t i, known;
	double ns;

	if (argc < 3 || lookups == 0) {
		fprintf(stderr, "usage: geoip_bench COUNTRY.mmdb ASN.mmdb "
		                "[LOOKUPS]\n");
		return 2;
	}
	s.country_path = argv[1];
	s.asn_path = argv[2];
	g = geoip_open(&s, NULL, warn, sizeof warn);
	if (warn[0]) {
		fprintf(stderr, "geoip_bench: %s\n", warn);
		geoip_free(g);
		return 1;
	}
	memset(addrs, 0, sizeof addrs);
	for (i = 0; i < ADDRESSES; i++) {
		struct ip_addr *a = &addrs[i];

		if (i % 3 == 2) { /* 2001:db8:N:: */
			a->family = AF_INET6;
			a->bytes[0] = 0x20;
			a->bytes[1] = 0x01;
			a->bytes[2] = 0x0d;
			a->bytes[3] = 0xb8;
			a->bytes[4] = (uint8_t)(i >> 8);
			a->bytes[5] = (uint8_t)i;
			a->bytes[15] = 1;
		} else { /* 198.51.100.N and 203.0.113.N */
			a->family = AF_INET;
			a->bytes[0] = i % 3 ? 203 : 198;
			a->bytes[1] = i % 3 ? 0 : 51;
			a->bytes[2] = i % 3 ? 113 : 100;
			a->bytes[3] = (uint8_t)(i % 254 + 1);
		}
	}
	ns = measure(g, addrs, ADDRESSES, lookups, &known);
	printf("geoip: %.0f ns a lookup, %.0f lookups/s, %zu of %zu with a "
	       "country\n",
	       ns, 1e9 / ns, known, lookups);
	memset(&private4, 0, sizeof private4);
	private4.family = AF_INET;
	private4.bytes[0] = 10;
	ns = measure(g, &private4, 1, lookups, &known);
	printf("labelled (10.0.0.0, not looked up): %.0f ns, %.0f a second\n",
	       ns, 1e9 / ns);
	geoip_free(g);
	return 0;
}
