/* test_place_memo.c - the places of the last addresses: asked again, an
 * address is not looked up again; another GeoIP handle (a reload) starts
 * the memo afresh, and the memo keeps the handle it was filled from
 * alive after its owner let it go. */
#include "config.h"

#include <string.h>

#include "geoip/geoip.h"
#include "src/addr.h"
#include "src/place_memo.h"
#include "tests/unit/check.h"

static struct ip_addr
addr(const char *text)
{
	struct ip_prefix p;
	const char *reason;

	memset(&p, 0, sizeof p);
	CHECK_INT(ip_prefix_parse(text, &p, &reason), 0);
	return p.addr;
}

int
main(void)
{
	struct geoip_settings none = {NULL, NULL, false};
	struct geoip *a = geoip_open(&none, NULL, NULL, 0);
	struct geoip *b = geoip_open(&none, NULL, NULL, 0);
	struct place_memo *m = place_memo_new();
	struct ip_addr doc = addr("192.0.2.1"), priv = addr("10.1.2.3");
	struct ip_addr six = addr("2001:db8::1");
	const struct place_memo_entry *e;

	e = place_memo_get(m, a, &doc);
	CHECK_STR(e->place.label, "documentation");
	CHECK_STR(e->tag, "documentation");
	CHECK_STR(e->entry, "192.0.2.1=documentation");
	CHECK_INT(place_memo_lookups(m), 1);
	e = place_memo_get(m, a, &doc);
	CHECK_STR(e->entry, "192.0.2.1=documentation");
	CHECK_INT(place_memo_lookups(m), 1); /* from the memo */
	e = place_memo_get(m, a, &priv);
	CHECK_STR(e->tag, "private");
	e = place_memo_get(m, a, &six);
	CHECK_STR(e->entry, "2001:db8::1=documentation");
	CHECK_INT(place_memo_lookups(m), 3);
	CHECK_INT(place_memo_get(m, a, &priv) != NULL, 1);
	CHECK_INT(place_memo_lookups(m), 3);

	/* The owner lets a go: the memo still holds it. */
	geoip_free(a);
	e = place_memo_get(m, a, &doc);
	CHECK_STR(e->tag, "documentation");
	CHECK_INT(place_memo_lookups(m), 3);

	/* Another handle: looked up again, and a is let go. */
	e = place_memo_get(m, b, &doc);
	CHECK_STR(e->tag, "documentation");
	CHECK_INT(place_memo_lookups(m), 4);

	place_memo_free(m);
	place_memo_free(NULL);
	geoip_free(b);
	return check_exit();
}
