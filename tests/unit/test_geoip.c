/* test_geoip.c - geoip/geoip.c against MaxMind DB files written at test
 * time by tests/helpers/make_mmdb.pl (libmaxmind-db-writer-perl). */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "geoip/geoip.h"
#include "src/addr.h"
#include "tests/unit/check.h"

static char dir[64] = "/tmp/dg-geoip-XXXXXX";
static char country[128], asn[128], flat[128], country_v2[128];

static struct ip_addr
addr(const char *text)
{
	struct ip_prefix p;
	const char *reason;

	if (ip_prefix_parse(text, &p, &reason) < 0) {
		fprintf(stderr, "%s: %s\n", text, reason);
		exit(1);
	}
	return p.addr;
}

static struct geoip *
open_both(const char *c, const char *a, bool doc, const struct geoip *prev,
          char *warn, size_t warnlen)
{
	struct geoip_settings s = {
	    .country_path = c, .asn_path = a, .lookup_documentation = doc};

	return geoip_open(&s, prev, warn, warnlen);
}

static void
lookup(const struct geoip *g, const char *text, struct geoip_place *p)
{
	struct ip_addr a = addr(text);

	geoip_lookup(g, &a, p);
}

static const char *
tag(const struct geoip *g, const char *text)
{
	static char buf[GEOIP_TAG_MAX];
	struct geoip_place p;

	lookup(g, text, &p);
	return geoip_format_tag(&p, buf, sizeof buf);
}

/* Every special range labelled, documentation ones looked up only when
 * asked; a public address has no label. */
static void
test_labels(void)
{
	static const struct {
		const char *addr, *label;
	} cases[] = {
	    {"10.1.2.3", "private"},
	    {"172.16.0.1", "private"},
	    {"172.31.255.255", "private"},
	    {"192.168.1.1", "private"},
	    {"100.64.0.1", "cgnat"},
	    {"100.127.255.255", "cgnat"},
	    {"127.0.0.1", "loopback"},
	    {"169.254.1.1", "link-local"},
	    {"224.0.0.251", "multicast"},
	    {"0.0.0.0", "unspecified"},
	    {"255.255.255.255", "reserved"},
	    {"192.0.2.1", "documentation"},
	    {"198.51.100.7", "documentation"},
	    {"203.0.113.9", "documentation"},
	    {"::", "unspecified"},
	    {"::1", "loopback"},
	    {"fe80::1", "link-local"},
	    {"fd00::1", "private"},
	    {"ff02::fb", "multicast"},
	    {"2001:db8::1", "documentation"},
	    {"::ffff:10.0.0.1", "private"},
	    {"172.32.0.1", NULL},
	    {"100.128.0.1", NULL},
	    {"8.8.8.8", NULL},
	    {"2606:4700::1", NULL},
	    {"fe00::1", NULL},
	};
	struct geoip *g = open_both(NULL, NULL, false, NULL, NULL, 0);
	struct geoip *doc = open_both(NULL, NULL, true, NULL, NULL, 0);
	struct ip_addr a;
	size_t i;

	for (i = 0; i < sizeof cases / sizeof *cases; i++) {
		a = addr(cases[i].addr);
		CHECK_STR(geoip_label(g, &a), cases[i].label);
		CHECK_STR(geoip_label(NULL, &a), cases[i].label);
	}
	a = addr("198.51.100.7");
	CHECK_STR(geoip_label(doc, &a), NULL);
	a = addr("2001:db8::1");
	CHECK_STR(geoip_label(doc, &a), NULL);
	a = addr("10.0.0.1"); /* only the documentation ranges */
	CHECK_STR(geoip_label(doc, &a), "private");
	CHECK(!geoip_enabled(g));
	geoip_free(g);
	geoip_free(doc);
}

/* GeoLite2's layout: country, name, continent, ASN and organisation,
 * IPv4 and IPv6; registered_country when there is no country; fields
 * that are missing are not known. */
static void
test_lookups(void)
{
	char warn[512];
	struct geoip *g =
	    open_both(country, asn, true, NULL, warn, sizeof warn);
	struct geoip_place p;

	CHECK_STR(warn, "");
	CHECK(geoip_enabled(g));
	{
		struct geoip_file_info fi;

		geoip_file_info(g, false, &fi);
		CHECK_STR(fi.path, country);
		CHECK(fi.open);
		CHECK_STR(fi.type, "dnsgate-Test-Country");
		CHECK(fi.build_epoch > 1700000000);
		geoip_file_info(g, true, &fi);
		CHECK_STR(fi.type, "dnsgate-Test-ASN");
		geoip_file_info(NULL, true, &fi);
		CHECK_STR(fi.path, NULL);
	}
	lookup(g, "198.51.100.7", &p);
	CHECK_STR(p.label, NULL);
	CHECK_STR(p.country, "NL");
	CHECK_STR(p.country_name, "Netherlands");
	CHECK_STR(p.continent, "EU");
	CHECK_INT(p.asn, 64500);
	CHECK_STR(p.as_org, "Example Org");
	CHECK_STR(tag(g, "198.51.100.7"), "NL,AS64500");
	CHECK_STR(tag(g, "2001:db8::5"), "JP,AS64502");
	CHECK_STR(tag(g, "2001:db8:8000::5"), "DE,AS64502");
	CHECK_STR(tag(g, "::ffff:198.51.100.7"), "NL,AS64500");
	lookup(g, "203.0.113.130", &p); /* registered_country only */
	CHECK_STR(p.country, "BR");
	CHECK_STR(p.country_name, "Brazil");
	CHECK_STR(p.continent, "");
	CHECK_INT(p.asn, 0); /* the organisation without a number */
	CHECK_STR(tag(g, "203.0.113.130"), "BR");
	lookup(g, "203.0.113.200", &p); /* a continent, no country */
	CHECK_STR(p.country, "");
	CHECK_STR(p.continent, "NA");
	CHECK_STR(tag(g, "203.0.113.200"), "");
	CHECK_STR(tag(g, "192.0.2.1"), ""); /* in no network of the file */
	CHECK_STR(tag(g, "10.0.0.1"), "private");
	CHECK_STR(tag(g, "2001:db9::1"), "");
	geoip_free(g);

	/* Labelled, not looked up, without lookup-documentation. */
	g = open_both(country, asn, false, NULL, warn, sizeof warn);
	CHECK_STR(tag(g, "198.51.100.7"), "documentation");
	geoip_free(g);

	/* The ASN file alone. */
	g = open_both(NULL, asn, true, NULL, warn, sizeof warn);
	CHECK_STR(tag(g, "198.51.100.7"), "AS64500");
	geoip_free(g);
}

/* ip-location-db's layout: country_code; a value that is no country
 * code is not known. */
static void
test_flat_layout(void)
{
	char warn[512];
	struct geoip *g = open_both(flat, NULL, true, NULL, warn, sizeof warn);
	struct geoip_place p;

	CHECK_STR(warn, "");
	lookup(g, "198.51.100.7", &p);
	CHECK_STR(p.country, "NL");
	CHECK_STR(p.country_name, "");
	CHECK_STR(tag(g, "2001:db8::1"), "JP");
	CHECK_STR(tag(g, "203.0.113.1"), "");
	geoip_free(g);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	CHECK(f != NULL);
	if (f == NULL)
		return;
	CHECK(fwrite(data, 1, len, f) == len);
	fclose(f);
}

static size_t
read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "rb");
	size_t n;

	if (f == NULL)
		return 0;
	n = fread(buf, 1, len, f);
	fclose(f);
	return n;
}

/* A missing, a corrupt and a truncated file: a warning naming it, that
 * part off, the other file still used, lookups answer "not known". */
static void
test_bad_files(void)
{
	char warn[512], path[160], data[8192];
	struct geoip *g;
	size_t n;

	g = open_both("/nonexistent/c.mmdb", asn, true, NULL, warn,
	              sizeof warn);
	CHECK(strstr(warn, "geoip-country /nonexistent/c.mmdb cannot be used "
	                   "(No such file or directory)") != NULL);
	CHECK(geoip_enabled(g));
	CHECK_STR(tag(g, "198.51.100.7"), "AS64500");
	geoip_free(g);

	snprintf(path, sizeof path, "%s/corrupt.mmdb", dir);
	write_file(path, "this is not a MaxMind DB file\n", 30);
	g = open_both(path, NULL, true, NULL, warn, sizeof warn);
	CHECK(strstr(warn, "corrupt.mmdb cannot be used") != NULL);
	CHECK(!geoip_enabled(g));
	{
		struct geoip_file_info fi;

		geoip_file_info(g, false, &fi);
		CHECK(!fi.open);
		CHECK(fi.error[0] != '\0' && strstr(warn, fi.error) != NULL);
		geoip_file_info(g, true, &fi);
		CHECK_STR(fi.path, NULL);
	}
	CHECK_STR(tag(g, "198.51.100.7"), "");
	geoip_free(g);

	/* Cut in the middle of its search tree: the metadata is gone. */
	n = read_file(country, data, sizeof data);
	CHECK(n > 200);
	snprintf(path, sizeof path, "%s/truncated.mmdb", dir);
	write_file(path, data, n / 2);
	g = open_both(path, asn, true, NULL, warn, sizeof warn);
	CHECK(strstr(warn, "geoip-country") != NULL &&
	      strstr(warn, "truncated.mmdb") != NULL);
	CHECK_STR(tag(g, "198.51.100.7"), "AS64500");
	geoip_free(g);

	/* Cut just before the end: the metadata's last bytes missing. */
	write_file(path, data, n - 3);
	g = open_both(path, NULL, true, NULL, warn, sizeof warn);
	CHECK(!geoip_enabled(g) || strcmp(tag(g, "198.51.100.7"), "NL") == 0 ||
	      strcmp(tag(g, "198.51.100.7"), "") == 0);
	geoip_free(g);
}

/* A reopen shares an unchanged file (and does not warn about a broken
 * one again), and opens one replaced by rename. */
static void
test_reopen(void)
{
	char warn[512], path[160], missing[160];
	char cmd[1024];
	struct geoip *g, *next;

	snprintf(path, sizeof path, "%s/live.mmdb", dir);
	snprintf(cmd, sizeof cmd, "cp %s %s", country, path);
	CHECK(system(cmd) == 0);
	g = open_both(path, asn, true, NULL, warn, sizeof warn);
	CHECK_STR(tag(g, "198.51.100.7"), "NL,AS64500");
	next = open_both(path, asn, true, g, warn, sizeof warn);
	CHECK_STR(warn, "");
	geoip_free(g);
	CHECK_STR(tag(next, "198.51.100.7"), "NL,AS64500");
	/* As geoipupdate does: a new file renamed over the old. */
	snprintf(cmd, sizeof cmd, "cp %s %s.new && mv %s.new %s", country_v2,
	         path, path, path);
	CHECK(system(cmd) == 0);
	g = open_both(path, asn, true, next, warn, sizeof warn);
	CHECK_STR(tag(next, "198.51.100.7"), "NL,AS64500"); /* still mapped */
	geoip_free(next);
	CHECK_STR(tag(g, "198.51.100.7"), "FR,AS64500");
	geoip_free(g);

	snprintf(missing, sizeof missing, "%s/missing.mmdb", dir);
	g = open_both(missing, NULL, true, NULL, warn, sizeof warn);
	CHECK(warn[0] != '\0');
	next = open_both(missing, NULL, true, g, warn, sizeof warn);
	CHECK_STR(warn, ""); /* warned once */
	geoip_free(g);
	geoip_free(next);
}

/* The record's form and its short tag read back from it. */
static void
test_entries(void)
{
	struct geoip_place p;
	struct ip_addr a = addr("198.51.100.7");
	char buf[192], t[GEOIP_TAG_MAX], org[96];
	const char *geo = "198.51.100.7=NL/AS64500/Ex; Org/2;"
	                  "10.0.0.1=private;2001:db8::5=JP//;"
	                  "203.0.113.5=/AS64501/Transit";

	memset(&p, 0, sizeof p);
	memcpy(p.country, "NL", 3);
	p.asn = 64500;
	snprintf(p.as_org, sizeof p.as_org, "Ex; Org/2");
	CHECK_STR(geoip_format_entry(&a, &p, buf, sizeof buf),
	          "198.51.100.7=NL/AS64500/Ex, Org/2");
	p.asn = 0;
	p.as_org[0] = '\0';
	CHECK_STR(geoip_format_entry(&a, &p, buf, sizeof buf),
	          "198.51.100.7=NL//");
	p.country[0] = '\0';
	CHECK_STR(geoip_format_entry(&a, &p, buf, sizeof buf), "");
	p.label = "documentation";
	CHECK_STR(geoip_format_entry(&a, &p, buf, sizeof buf),
	          "198.51.100.7=documentation");

	CHECK_STR(geoip_entry_tag(geo, "198.51.100.7", t, sizeof t),
	          "NL,AS64500");
	CHECK_STR(geoip_entry_org(geo, "198.51.100.7", org, sizeof org), "Ex");
	CHECK_STR(geoip_entry_tag(geo, "10.0.0.1", t, sizeof t), "private");
	CHECK_STR(geoip_entry_org(geo, "10.0.0.1", org, sizeof org), "");
	CHECK_STR(geoip_entry_tag(geo, "2001:db8::5", t, sizeof t), "JP");
	CHECK_STR(geoip_entry_tag(geo, "203.0.113.5", t, sizeof t), "AS64501");
	CHECK_STR(geoip_entry_org(geo, "203.0.113.5", org, sizeof org),
	          "Transit");
	CHECK_STR(geoip_entry_tag(geo, "198.51.100.70", t, sizeof t), "");
	CHECK_STR(geoip_entry_tag(geo, "198.51.100", t, sizeof t), "");
	CHECK_STR(geoip_entry_tag("", "10.0.0.1", t, sizeof t), "");
	CHECK_STR(geoip_entry_tag(NULL, "10.0.0.1", t, sizeof t), "");
}

int
main(void)
{
	char cmd[512];
	const char *srcdir = getenv("top_srcdir");

	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(country, sizeof country, "%s/country.mmdb", dir);
	snprintf(country_v2, sizeof country_v2, "%s/country-v2.mmdb", dir);
	snprintf(asn, sizeof asn, "%s/asn.mmdb", dir);
	snprintf(flat, sizeof flat, "%s/flat-country.mmdb", dir);
	test_labels();
	test_entries();
	snprintf(cmd, sizeof cmd, "perl %s/tests/helpers/make_mmdb.pl %s",
	         srcdir != NULL ? srcdir : ".", dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "cannot write the test databases (is "
		                "libmaxmind-db-writer-perl installed? "
		                "scripts/deps test): skipping the lookups\n");
		snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
		(void)system(cmd);
		return check_failures ? check_exit() : 77;
	}
	test_lookups();
	test_flat_layout();
	test_bad_files();
	test_reopen();
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	(void)system(cmd);
	return check_exit();
}
