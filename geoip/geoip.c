/* geoip.c - libmaxminddb lookups of an address's country and AS, and the
 * special-purpose ranges (RFC 6890) labelled instead. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <maxminddb.h>

#include "geoip/geoip.h"
#include "src/addr.h"
#include "src/refcount.h"
#include "src/xmalloc.h"

/* One file, as it was when opened: shared by every handle that names it
 * while it is unchanged on disk. */
struct geoip_db {
	unsigned refs;
	char *path;
	int stat_errno; /* 0: st is the file's */
	dev_t dev;
	ino_t ino;
	struct timespec mtime;
	off_t size;
	bool open;
	char error[256]; /* why it is not open */
	MMDB_s mmdb;
};

struct geoip {
	unsigned refs;
	struct geoip_db *country;
	struct geoip_db *asn;
	bool lookup_documentation;
};

static void
db_release(struct geoip_db *db)
{
	if (db == NULL || !refcount_unshare(&db->refs))
		return;
	if (db->open)
		MMDB_close(&db->mmdb);
	free(db->path);
	free(db);
}

static bool
same_file(const struct geoip_db *db, const char *path, int stat_errno,
          const struct stat *st)
{
	if (db == NULL || strcmp(db->path, path) != 0 ||
	    db->stat_errno != stat_errno)
		return false;
	return stat_errno != 0 ||
	       (db->dev == st->st_dev && db->ino == st->st_ino &&
	        db->mtime.tv_sec == st->st_mtim.tv_sec &&
	        db->mtime.tv_nsec == st->st_mtim.tv_nsec &&
	        db->size == st->st_size);
}

static void
add_warning(char *warn, size_t warnlen, const char *what, const char *path,
            const char *reason)
{
	size_t used;

	if (warn == NULL || warnlen == 0)
		return;
	used = strlen(warn);
	if (used + 1 >= warnlen)
		return;
	snprintf(warn + used, warnlen - used,
	         "%sgeoip-%s %s cannot be used (%s): no %s are shown until it "
	         "is fixed and dnsgate is reloaded",
	         used ? "; " : "", what, path, reason,
	         strcmp(what, "asn") == 0 ? "ASNs" : "countries");
}

/* The file at path, shared from previous when unchanged. */
static struct geoip_db *
db_open(const char *path, struct geoip_db *previous, const char *what,
        char *warn, size_t warnlen)
{
	struct geoip_db *db;
	struct stat st;
	int stat_errno = 0, rc;

	if (path == NULL)
		return NULL;
	if (stat(path, &st) < 0)
		stat_errno = errno != 0 ? errno : EIO;
	if (same_file(previous, path, stat_errno, &st)) {
		refcount_share(&previous->refs);
		return previous;
	}
	db = xcalloc(1, sizeof *db);
	db->refs = 1;
	db->path = xstrdup(path);
	db->stat_errno = stat_errno;
	if (stat_errno != 0) {
		snprintf(db->error, sizeof db->error, "%s",
		         strerror(stat_errno));
		add_warning(warn, warnlen, what, path, db->error);
		return db;
	}
	db->dev = st.st_dev;
	db->ino = st.st_ino;
	db->mtime = st.st_mtim;
	db->size = st.st_size;
	/* MMDB_open checks the metadata and the search tree's size against
	 * the file's; a lookup that still meets bad data gets an error. */
	rc = MMDB_open(path, MMDB_MODE_MMAP, &db->mmdb);
	if (rc != MMDB_SUCCESS) {
		snprintf(db->error, sizeof db->error, "%s%s%s",
		         MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
		         rc == MMDB_IO_ERROR ? strerror(errno) : "");
		add_warning(warn, warnlen, what, path, db->error);
		return db;
	}
	db->open = true;
	return db;
}

struct geoip *
geoip_open(const struct geoip_settings *s, const struct geoip *previous,
           char *warn, size_t warnlen)
{
	struct geoip *g = xcalloc(1, sizeof *g);

	if (warn != NULL && warnlen > 0)
		warn[0] = '\0';
	g->refs = 1;
	g->lookup_documentation = s->lookup_documentation;
	g->country = db_open(s->country_path,
	                     previous != NULL ? previous->country : NULL,
	                     "country", warn, warnlen);
	g->asn = db_open(s->asn_path, previous != NULL ? previous->asn : NULL,
	                 "asn", warn, warnlen);
	return g;
}

struct geoip *
geoip_ref(const struct geoip *g)
{
	struct geoip *held = (struct geoip *)g;

	if (held != NULL)
		refcount_share(&held->refs);
	return held;
}

void
geoip_free(struct geoip *g)
{
	if (g == NULL || !refcount_unshare(&g->refs))
		return;
	db_release(g->country);
	db_release(g->asn);
	free(g);
}

void
geoip_file_info(const struct geoip *g, bool asn, struct geoip_file_info *out)
{
	const struct geoip_db *db = g == NULL ? NULL
	                            : asn     ? g->asn
	                                      : g->country;

	memset(out, 0, sizeof *out);
	out->error = "";
	out->type = "";
	if (db == NULL)
		return;
	out->path = db->path;
	out->open = db->open;
	out->error = db->error;
	if (db->open) {
		out->type = db->mmdb.metadata.database_type != NULL
		                ? db->mmdb.metadata.database_type
		                : "";
		out->build_epoch = db->mmdb.metadata.build_epoch;
	}
}

bool
geoip_enabled(const struct geoip *g)
{
	return g != NULL && ((g->country != NULL && g->country->open) ||
	                     (g->asn != NULL && g->asn->open));
}

/* --- the ranges that are nowhere -------------------------------------- */

struct special_range {
	uint8_t bytes[16];
	unsigned length;
	const char *label;
	bool documentation;
};

static const struct special_range special4[] = {
    {{0}, 8, "unspecified", false},
    {{10}, 8, "private", false},
    {{100, 64}, 10, "cgnat", false},
    {{127}, 8, "loopback", false},
    {{169, 254}, 16, "link-local", false},
    {{172, 16}, 12, "private", false},
    {{192, 0, 0}, 24, "reserved", false}, /* IETF protocol assignments */
    {{192, 0, 2}, 24, "documentation", true},
    {{192, 168}, 16, "private", false},
    {{198, 18}, 15, "reserved", false}, /* benchmarking */
    {{198, 51, 100}, 24, "documentation", true},
    {{203, 0, 113}, 24, "documentation", true},
    {{224}, 4, "multicast", false},
    {{240}, 4, "reserved", false}, /* and the broadcast address */
};

static const struct special_range special6[] = {
    {{0}, 128, "unspecified", false},
    {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128, "loopback", false},
    {{0x20, 0x01, 0x0d, 0xb8}, 32, "documentation", true},
    {{0x3f, 0xff}, 20, "documentation", true}, /* RFC 9637 */
    {{0xfc}, 7, "private", false},             /* unique local */
    {{0xfe, 0x80}, 10, "link-local", false},
    {{0xff}, 8, "multicast", false},
};

static bool
in_range(const uint8_t *bytes, const struct special_range *r)
{
	unsigned whole = r->length / 8, rest = r->length % 8;

	if (memcmp(bytes, r->bytes, whole) != 0)
		return false;
	return rest == 0 ||
	       ((bytes[whole] ^ r->bytes[whole]) & (0xff << (8 - rest))) == 0;
}

static const char *
label_of(const struct special_range *ranges, size_t n, const uint8_t *bytes,
         bool lookup_documentation)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (in_range(bytes, &ranges[i]))
			return ranges[i].documentation && lookup_documentation
			           ? NULL
			           : ranges[i].label;
	return NULL;
}

static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

const char *
geoip_label(const struct geoip *g, const struct ip_addr *a)
{
	bool doc = g != NULL && g->lookup_documentation;

	if (a->family == AF_INET)
		return label_of(special4, sizeof special4 / sizeof *special4,
		                a->bytes, doc);
	if (memcmp(a->bytes, v4_mapped, sizeof v4_mapped) == 0)
		return label_of(special4, sizeof special4 / sizeof *special4,
		                a->bytes + 12, doc);
	return label_of(special6, sizeof special6 / sizeof *special6, a->bytes,
	                doc);
}

/* --- lookups ---------------------------------------------------------- */

/* The string at path below entry into buf (bounded); false when it is
 * missing, of another type, or the data is bad. */
static bool
get_string(MMDB_entry_s *entry, const char *const *path, char *buf, size_t len)
{
	MMDB_entry_data_s data;
	size_t n;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS ||
	    !data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING)
		return false;
	n = data.data_size < len - 1 ? data.data_size : len - 1;
	memcpy(buf, data.utf8_string, n);
	buf[n] = '\0';
	return true;
}

/* A two-letter code (country, continent) in capitals, or nothing: a
 * file's odd value is not known rather than shown wrong. */
static bool
get_code(MMDB_entry_s *entry, const char *const *path, char out[3])
{
	char code[8];

	if (!get_string(entry, path, code, sizeof code) || strlen(code) != 2 ||
	    code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z')
		return false;
	memcpy(out, code, 3);
	return true;
}

static bool
get_number(MMDB_entry_s *entry, const char *const *path, uint32_t *out)
{
	MMDB_entry_data_s data;
	char text[16], *end;
	unsigned long v;

	if (MMDB_aget_value(entry, &data, path) != MMDB_SUCCESS ||
	    !data.has_data)
		return false;
	switch (data.type) {
	case MMDB_DATA_TYPE_UINT32:
		*out = data.uint32;
		return *out != 0;
	case MMDB_DATA_TYPE_UINT16:
		*out = data.uint16;
		return *out != 0;
	case MMDB_DATA_TYPE_UINT64:
		if (data.uint64 == 0 || data.uint64 > UINT32_MAX)
			return false;
		*out = (uint32_t)data.uint64;
		return true;
	case MMDB_DATA_TYPE_UTF8_STRING: /* ipinfo's "AS64500" */
		if (!get_string(entry, path, text, sizeof text))
			return false;
		errno = 0;
		v = strtoul(text + (strncmp(text, "AS", 2) == 0 ? 2 : 0), &end,
		            10);
		if (errno != 0 || *end != '\0' || v == 0 || v > UINT32_MAX)
			return false;
		*out = (uint32_t)v;
		return true;
	default:
		return false;
	}
}

static bool
find(const struct geoip_db *db, const struct ip_addr *a, MMDB_entry_s *entry)
{
	struct sockaddr_in sin;
	struct sockaddr_in6 sin6;
	const struct sockaddr *sa;
	MMDB_lookup_result_s r;
	int mmdb;

	if (db == NULL || !db->open)
		return false;
	if (a->family == AF_INET) {
		memset(&sin, 0, sizeof sin);
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, a->bytes, 4);
		sa = (const struct sockaddr *)&sin;
	} else {
		memset(&sin6, 0, sizeof sin6);
		sin6.sin6_family = AF_INET6;
		memcpy(&sin6.sin6_addr, a->bytes, 16);
		sa = (const struct sockaddr *)&sin6;
	}
	r = MMDB_lookup_sockaddr(&db->mmdb, sa, &mmdb);
	if (mmdb != MMDB_SUCCESS || !r.found_entry)
		return false;
	*entry = r.entry;
	return true;
}

/* GeoLite2 and DB-IP: country{iso_code,names{en}}, else (an address
 * without a located country) registered_country; continent{code}.
 * ip-location-db: country_code. ipinfo: country, country_name,
 * continent as strings. */
static void
lookup_country(const struct geoip_db *db, const struct ip_addr *a,
               struct geoip_place *out)
{
	static const char *const iso[] = {"country", "iso_code", NULL};
	static const char *const name[] = {"country", "names", "en", NULL};
	static const char *const reg_iso[] = {"registered_country", "iso_code",
	                                      NULL};
	static const char *const reg_name[] = {"registered_country", "names",
	                                       "en", NULL};
	static const char *const code[] = {"country_code", NULL};
	static const char *const flat[] = {"country", NULL};
	static const char *const flat_name[] = {"country_name", NULL};
	static const char *const continent[] = {"continent", "code", NULL};
	static const char *const flat_continent[] = {"continent", NULL};
	MMDB_entry_s entry, e;

	if (!find(db, a, &entry))
		return;
	if (e = entry, get_code(&e, iso, out->country)) {
		e = entry;
		get_string(&e, name, out->country_name,
		           sizeof out->country_name);
	} else if (e = entry, get_code(&e, reg_iso, out->country)) {
		e = entry;
		get_string(&e, reg_name, out->country_name,
		           sizeof out->country_name);
	} else if (e = entry, !get_code(&e, code, out->country)) {
		e = entry;
		if (get_code(&e, flat, out->country)) {
			e = entry;
			get_string(&e, flat_name, out->country_name,
			           sizeof out->country_name);
		}
	}
	e = entry;
	if (!get_code(&e, continent, out->continent)) {
		e = entry;
		get_code(&e, flat_continent, out->continent);
	}
}

/* GeoLite2, DB-IP and ip-location-db: autonomous_system_number and
 * autonomous_system_organization; ipinfo: asn ("AS64500"), as_name. */
static void
lookup_asn(const struct geoip_db *db, const struct ip_addr *a,
           struct geoip_place *out)
{
	static const char *const number[] = {"autonomous_system_number", NULL};
	static const char *const org[] = {"autonomous_system_organization",
	                                  NULL};
	static const char *const flat_number[] = {"asn", NULL};
	static const char *const flat_org[] = {"as_name", NULL};
	MMDB_entry_s entry, e;

	if (!find(db, a, &entry))
		return;
	if (e = entry, get_number(&e, number, &out->asn)) {
		e = entry;
		get_string(&e, org, out->as_org, sizeof out->as_org);
	} else if (e = entry, get_number(&e, flat_number, &out->asn)) {
		e = entry;
		get_string(&e, flat_org, out->as_org, sizeof out->as_org);
	}
}

void
geoip_lookup(const struct geoip *g, const struct ip_addr *a,
             struct geoip_place *out)
{
	memset(out, 0, sizeof *out);
	out->label = geoip_label(g, a);
	if (out->label != NULL || g == NULL)
		return;
	lookup_country(g->country, a, out);
	lookup_asn(g->asn, a, out);
}

const char *
geoip_format_tag(const struct geoip_place *p, char *buf, size_t len)
{
	if (p->label != NULL)
		snprintf(buf, len, "%s", p->label);
	else if (p->country[0] && p->asn)
		snprintf(buf, len, "%s,AS%u", p->country, p->asn);
	else if (p->country[0])
		snprintf(buf, len, "%s", p->country);
	else if (p->asn)
		snprintf(buf, len, "AS%u", p->asn);
	else if (len > 0)
		buf[0] = '\0';
	return buf;
}

const char *
geoip_format_entry(const struct ip_addr *a, const struct geoip_place *p,
                   char *buf, size_t len)
{
	char text[64], asn[16] = "", *c;
	int n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	ip_addr_format(a, text, sizeof text);
	if (p->label != NULL) {
		snprintf(buf, len, "%s=%s", text, p->label);
		return buf;
	}
	if (!p->country[0] && !p->asn)
		return buf;
	if (p->asn)
		snprintf(asn, sizeof asn, "AS%u", p->asn);
	n = snprintf(buf, len, "%s=%s/%s/", text, p->country, asn);
	if (n < 0 || (size_t)n >= len)
		return buf;
	snprintf(buf + n, len - (size_t)n, "%s", p->as_org);
	for (c = buf + n; *c; c++)
		if (*c == ';')
			*c = ',';
	return buf;
}

/* addr's entry in geo: its value (after "ADDR=") and length, or NULL. */
static const char *
find_entry(const char *geo, const char *addr, size_t *len)
{
	size_t n = strlen(addr);
	const char *at = geo, *end;

	while (at != NULL && *at) {
		end = strchr(at, ';');
		if (strncmp(at, addr, n) == 0 && at[n] == '=') {
			*len = (end != NULL ? (size_t)(end - at) : strlen(at)) -
			       n - 1;
			return at + n + 1;
		}
		at = end != NULL ? end + 1 : NULL;
	}
	return NULL;
}

/* An entry's value "CC/ASN/ORG" (n bytes at v) at its slashes: *slash
 * the first, *slash2 the second (v + n when there is none). false for a
 * label, which has none. */
static bool
split_entry(const char *v, size_t n, const char **slash, const char **slash2)
{
	*slash = memchr(v, '/', n);
	if (*slash == NULL)
		return false;
	*slash2 = memchr(*slash + 1, '/', n - (size_t)(*slash + 1 - v));
	if (*slash2 == NULL)
		*slash2 = v + n;
	return true;
}

const char *
geoip_entry_tag(const char *geo, const char *addr, char *tag, size_t len)
{
	size_t n = 0;
	const char *v = geo != NULL ? find_entry(geo, addr, &n) : NULL;
	const char *slash, *slash2;

	if (len == 0)
		return tag;
	tag[0] = '\0';
	if (v == NULL)
		return tag;
	if (!split_entry(v, n, &slash, &slash2)) { /* a label */
		snprintf(tag, len, "%.*s", (int)n, v);
		return tag;
	}
	snprintf(tag, len, "%.*s%s%.*s", (int)(slash - v), v,
	         slash > v && slash2 > slash + 1 ? "," : "",
	         (int)(slash2 - slash - 1), slash + 1);
	return tag;
}

const char *
geoip_entry_org(const char *geo, const char *addr, char *org, size_t len)
{
	size_t n = 0;
	const char *v = geo != NULL ? find_entry(geo, addr, &n) : NULL;
	const char *slash, *slash2;

	if (len == 0)
		return org;
	org[0] = '\0';
	if (v == NULL || !split_entry(v, n, &slash, &slash2))
		return org;
	if (slash2 < v + n)
		snprintf(org, len, "%.*s", (int)(v + n - slash2 - 1),
		         slash2 + 1);
	return org;
}
