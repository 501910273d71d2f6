/* geoip.h - where an address is: its country, continent and network (AS),
 * from files in the MaxMind DB format (GeoLite2, DB-IP Lite, the
 * ip-location-db builds), and the ranges that are nowhere (private,
 * loopback, documentation, ...), which are labelled and never looked up.
 * The country and the AS come from separate files, either may be absent.
 * A handle is shared (counted atomically) between the policy in use and
 * the one a reload builds in its thread; lookups only read the mapped
 * files, allocate nothing and may run in any thread. */
#ifndef DNSGATE_GEOIP_H
#define DNSGATE_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ip_addr;
struct geoip;

/* What geoip_open reads. */
struct geoip_settings {
	const char *country_path; /* NULL: no countries */
	const char *asn_path;     /* NULL: no ASNs */
	/* Look up 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24 and
	 * 2001:db8::/32 instead of labelling them: for tests, whose
	 * addresses are all there. */
	bool lookup_documentation;
};

/* Where one address is. Strings are "" when not known. */
struct geoip_place {
	const char *label;     /* "private", "loopback", ...: the address is
	                          in such a range and was not looked up;
	                          NULL: a public address */
	char country[3];       /* ISO 3166-1 alpha-2, "NL" */
	char country_name[64]; /* in English */
	char continent[3];     /* "EU", "NA", ... */
	uint32_t asn;          /* 0: not known */
	char as_org[96];       /* the AS's organisation */
};

/* Enough for geoip_format_tag's longest. */
#define GEOIP_TAG_MAX 24

/* Opens the files of s. previous (NULL: none) is the handle in use: a
 * file with the same path whose device, inode, modification time and
 * size are unchanged is shared from it, not reopened (nor warned about
 * again). A missing, unreadable or corrupt file is off, with a reason
 * in warn ("" when every file opened, or was warned about before;
 * warn may be NULL with warnlen 0).
 * Never NULL; the caller frees it with geoip_free. */
struct geoip *geoip_open(const struct geoip_settings *s,
                         const struct geoip *previous, char *warn,
                         size_t warnlen);

/* Another holder of g (its count is not part of its value: a const
 * handle may be held). NULL accepted. */
struct geoip *geoip_ref(const struct geoip *g);

/* Drops a holder; the files are closed with the last. NULL accepted. */
void geoip_free(struct geoip *g);

/* What dnsgatectl status says of one file. */
struct geoip_file_info {
	const char *path;     /* NULL: not configured */
	bool open;            /* in use */
	const char *error;    /* why not, "" when open */
	const char *type;     /* its metadata's database_type, "" */
	uint64_t build_epoch; /* when it was built, Unix seconds; 0 */
};

/* The country file (asn false) or the ASN file of g, borrowed from g.
 * g NULL: neither configured. */
void geoip_file_info(const struct geoip *g, bool asn,
                     struct geoip_file_info *out);

/* A country or an ASN file is open (NULL: false). */
bool geoip_enabled(const struct geoip *g);

/* The label of a's range ("private", "cgnat", "loopback", "link-local",
 * "multicast", "unspecified", "reserved", "documentation"), or NULL for
 * a public address. An IPv4-mapped IPv6 address is its IPv4 address. */
const char *geoip_label(const struct geoip *g, const struct ip_addr *a);

/* Fills out for a: its label, else what the files know (a value a
 * file holds in an unexpected type or form is not known, never
 * guessed). g NULL: nothing known. */
void geoip_lookup(const struct geoip *g, const struct ip_addr *a,
                  struct geoip_place *out);

/* The place in short, as the log shows it: "NL,AS64500", "NL", "AS64500",
 * the label ("private"), or "" when nothing is known. Returns buf. */
const char *geoip_format_tag(const struct geoip_place *p, char *buf,
                             size_t len);

/* The place of a as the event records hold it (events.h):
 * "ADDR=CC/ASN/ORG" with an unknown part empty, or "ADDR=LABEL"; ';' in
 * the organisation is written ','. "" when nothing is known. Returns
 * buf. */
const char *geoip_format_entry(const struct ip_addr *a,
                               const struct geoip_place *p, char *buf,
                               size_t len);

/* The short tag (as geoip_format_tag writes it) of addr's entry in geo,
 * a record's places joined by ';' (events.h): "NL,AS64500", "private";
 * "" when geo has no entry for addr. Returns tag. */
const char *geoip_entry_tag(const char *geo, const char *addr, char *tag,
                            size_t len);

/* The organisation of addr's entry in geo, "" none. Returns org. */
const char *geoip_entry_org(const char *geo, const char *addr, char *org,
                            size_t len);

#endif
