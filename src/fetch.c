/* fetch.c - the subscriptions' downloads: libcurl's multi interface
 * driven by libevent, host names resolved through the upstream. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "resolver/message.h"
#include "resolver/upstream.h"
#include "src/cache_writer.h"
#include "src/config_file.h"
#include "src/fetch.h"
#include "src/fetch_check.h"
#include "src/list_cache.h"
#include "src/log.h"
#include "src/xmalloc.h"

enum sub_state {
	SUB_IDLE,
	SUB_RESOLVING, /* asking the upstream for the host's addresses */
	SUB_DOWNLOADING,
	SUB_STORING,  /* the new copy is being written (cache_writer) */
	SUB_APPLYING, /* written as the copy pending: a build reads it */
};

/* One subscription. */
struct sub {
	struct fetch *owner;
	uint64_t id; /* for the upstream's callbacks, which may
	                come after the sub is gone */
	char *name;
	char *url;         /* as configured */
	char *started_url; /* what this download was started for */
	char *current_url; /* this download's, after redirects */
	bool url_changed;  /* url changed while busy: fetched again after */
	uint32_t refresh;  /* refresh= (0: Expires, else daily) */
	uint64_t max_size;
	uint32_t max_shrink;
	bool keep; /* fetch_set_lists: still configured */

	struct list_cache_meta meta; /* of the copy in the cache */
	bool have_copy;

	enum sub_state state;
	struct event *timer; /* the next refresh */
	unsigned redirects;
	/* Resolving: two questions, A and AAAA. */
	unsigned lookups;
	char host[256];
	long port;
	char addrs[1024]; /* "192.0.2.1,[2001:db8::1]" for CURLOPT_RESOLVE */
	char lookup_error[256];
	/* Downloading. */
	CURL *easy;
	struct curl_slist *resolve, *headers;
	char *body;
	size_t len, cap;
	bool too_big;
	char etag[256], last_modified[64], content_type[128];
	char curl_error[CURL_ERROR_SIZE];

	int64_t last_attempt;
	bool last_ok;
	char last_result[512];
	int64_t next_refresh;

	/* The copy pending (NAME.list.new), until a build took or refused
	 * it. */
	bool pending;
	struct list_cache_meta pending_meta;
	char pending_result[512]; /* last_result once it is in force */
	uint64_t apply_build;     /* the build asked to read it */
	int judged_early; /* a build judged it while it was stored: 1 took
	                     it, 0 refused it (early_reason), -1 none */
	char early_reason[512];
};

struct waiter {
	char *name; /* NULL: all */
	fetch_done_fn *done;
	void *arg;
	struct waiter *next;
};

struct fetch {
	struct fetch_options o;
	char *ca_file, *cache_dir;
	CURLM *multi;
	struct event *curl_timer;
	struct sub **subs;
	size_t n_subs;
	uint64_t next_id;
	struct waiter *waiters;
	struct cache_writer *writer; /* list-cache writes, off the loop */
};

/* A socket curl watches. */
struct watch {
	struct fetch *f;
	curl_socket_t fd;
	struct event *ev;
};

static void start_download(struct sub *s);
static void settle(struct fetch *f);
static void load_meta(struct fetch *f, struct sub *s);

static int64_t
now_wall(void)
{
	return (int64_t)time(NULL);
}

static uint32_t
interval_of(const struct sub *s)
{
	if (s->refresh != 0)
		return s->refresh;
	if (s->have_copy && s->meta.expires != 0)
		return s->meta.expires;
	return CONFIG_LIST_REFRESH;
}

static void
schedule(struct sub *s, uint32_t seconds)
{
	struct timeval tv = {(time_t)seconds, 0};

	s->next_refresh = now_wall() + seconds;
	evtimer_add(s->timer, &tv);
}

static const char *
format_age(int64_t seconds, char *buf, size_t len)
{
	if (seconds < 120)
		snprintf(buf, len, "%llds", (long long)seconds);
	else if (seconds < 7200)
		snprintf(buf, len, "%lldm", (long long)seconds / 60);
	else if (seconds < 172800)
		snprintf(buf, len, "%lldh", (long long)seconds / 3600);
	else
		snprintf(buf, len, "%lldd", (long long)seconds / 86400);
	return buf;
}

/* The end of one download, whatever came of it. */
static void finish(struct sub *s, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
finish(struct sub *s, bool ok, const char *fmt, ...)
{
	uint32_t interval = interval_of(s);
	char age[32];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->last_result, sizeof s->last_result, fmt, ap);
	va_end(ap);
	s->state = SUB_IDLE;
	s->last_attempt = now_wall();
	s->last_ok = ok;
	if (ok)
		schedule(s, interval);
	else
		schedule(s, interval < FETCH_RETRY_MAX ? interval
		                                       : FETCH_RETRY_MAX);
	if (s->url_changed) {
		/* The list's URL changed meanwhile: that one now. */
		s->url_changed = false;
		schedule(s, 0);
	}
	if (ok)
		return;
	if (s->have_copy)
		log_warn("list %s: download of %s failed: %s; keeping the copy "
		         "in force (downloaded %s ago); trying again in %us",
		         s->name, s->current_url, s->last_result,
		         format_age(now_wall() - s->meta.fetched_at, age,
		                    sizeof age),
		         (unsigned)(s->next_refresh - now_wall()));
	else
		log_warn("list %s: download of %s failed: %s; there is no copy "
		         "yet, so the list blocks nothing; trying again in %us",
		         s->name, s->current_url, s->last_result,
		         (unsigned)(s->next_refresh - now_wall()));
}

/* --- resolving the host through the upstream ---------------------------- */

struct lookup {
	struct fetch *f;
	uint64_t id;
	uint16_t qtype;
};

static struct sub *
find_id(struct fetch *f, uint64_t id)
{
	size_t i;

	for (i = 0; i < f->n_subs; i++)
		if (f->subs[i]->id == id)
			return f->subs[i];
	return NULL;
}

/* A query for name (no trailing dot), RD set. Returns its length or -1. */
static int
build_query(const char *name, uint16_t qtype, uint8_t *out, size_t outlen)
{
	size_t pos = DNS_HEADER_SIZE;
	const char *p = name;

	if (outlen < DNS_HEADER_SIZE + strlen(name) + 2 + 4)
		return -1;
	memset(out, 0, DNS_HEADER_SIZE);
	out[2] = 0x01; /* RD */
	out[5] = 1;    /* one question */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t l = dot ? (size_t)(dot - p) : strlen(p);

		if (l == 0 || l > 63)
			return -1;
		out[pos++] = (uint8_t)l;
		memcpy(out + pos, p, l);
		pos += l;
		p += l;
		if (*p == '.')
			p++;
	}
	out[pos++] = 0;
	out[pos++] = (uint8_t)(qtype >> 8);
	out[pos++] = (uint8_t)qtype;
	out[pos++] = 0;
	out[pos++] = 1; /* IN */
	return (int)pos;
}

/* Why dnsgated will not download from a, or NULL. The download's
 * socket carries upstream-mark, which the gate lets out anywhere: a
 * list server (or a redirect, or a name a hostile answer points) must
 * not reach this host's own services or the link's (a cloud's metadata
 * service at 169.254.169.254). A LAN's private addresses are allowed:
 * private list servers live there. */
static const char *
refused_address(const struct ip_addr *a)
{
	const uint8_t *b = a->bytes;
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0,
					   0, 0, 0, 0, 0xff, 0xff};

	if (a->family == AF_INET6 && memcmp(b, mapped, 12) == 0)
		b += 12; /* ::ffff:a.b.c.d is a.b.c.d */
	else if (a->family == AF_INET6) {
		static const uint8_t zero[16];

		if (memcmp(b, zero, 15) == 0 && (b[15] == 0 || b[15] == 1))
			return b[15] ? "loopback" : "unspecified";
		if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
			return "link-local";
		if (b[0] == 0xff)
			return "multicast";
		return NULL;
	}
	if (b[0] == 127)
		return "loopback";
	if (b[0] == 0)
		return "unspecified";
	if (b[0] == 169 && b[1] == 254)
		return "link-local";
	if (b[0] >= 224)
		return "multicast or reserved";
	return NULL;
}

static void
add_address(struct sub *s, const struct ip_addr *a)
{
	char text[64], *end = s->addrs + strlen(s->addrs);
	size_t left = sizeof s->addrs - (size_t)(end - s->addrs);
	const char *refused = refused_address(a);

	ip_addr_format(a, text, sizeof text);
	if (refused != NULL) {
		char host[128];
		size_t hl = strnlen(s->host, sizeof host - 1);

		memcpy(host, s->host, hl); /* cut: the message must fit */
		host[hl] = '\0';
		snprintf(s->lookup_error, sizeof s->lookup_error,
		         "%s resolves to %s, a %s address, which dnsgated does "
		         "not download from",
		         host, text, refused);
		return;
	}
	if (strlen(text) + 4 >= left)
		return;
	snprintf(end, left, "%s%s%s%s", s->addrs[0] ? "," : "",
	         a->family == AF_INET6 ? "[" : "", text,
	         a->family == AF_INET6 ? "]" : "");
}

static void
on_lookup(void *arg, int status, const uint8_t *answer, size_t len,
          const char *reason)
{
	struct lookup *l = arg;
	struct sub *s = find_id(l->f, l->id);
	struct answer_info *info;
	const char *why;
	size_t i;

	if (s == NULL || s->state != SUB_RESOLVING) {
		free(l);
		return;
	}
	if (status < 0) {
		snprintf(s->lookup_error, sizeof s->lookup_error, "%s", reason);
	} else {
		info = xmalloc(sizeof *info);
		if (message_parse_answer(answer, len, s->host, info, &why) < 0)
			snprintf(s->lookup_error, sizeof s->lookup_error,
			         "a bad answer: %s", why);
		else if (info->rcode == DNS_RCODE_NXDOMAIN)
			snprintf(s->lookup_error, sizeof s->lookup_error,
			         "NXDOMAIN: no such name");
		else if (info->rcode != DNS_RCODE_NOERROR)
			snprintf(s->lookup_error, sizeof s->lookup_error,
			         "rcode %u", info->rcode);
		for (i = 0; i < info->n_addrs && i < 8; i++)
			add_address(s, &info->addrs[i]);
		free(info);
	}
	free(l);
	if (--s->lookups > 0)
		return;
	if (s->addrs[0] == '\0') {
		finish(s, false, "cannot resolve %s through the upstream (%s)",
		       s->host,
		       s->lookup_error[0] ? s->lookup_error
		                          : "no A or AAAA record");
		settle(s->owner);
		return;
	}
	start_download(s);
	if (s->state == SUB_IDLE)
		settle(s->owner);
}

/* Finds the host and port of s->current_url; an address as host needs no
 * lookup. Returns 1 when a lookup is needed, 0 when not, -1 (finished
 * with the reason) when the URL cannot be used. */
static int
parse_host(struct sub *s)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	unsigned char buf[16];
	int rc = -1;

	s->host[0] = '\0';
	s->addrs[0] = '\0';
	if (u == NULL ||
	    curl_url_set(u, CURLUPART_URL, s->current_url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) !=
	        CURLUE_OK) {
		finish(s, false, "cannot read the URL %s", s->current_url);
	} else if (strlen(host) >= sizeof s->host) {
		finish(s, false, "the host name of %s is too long",
		       s->current_url);
	} else {
		struct ip_addr literal;
		const char *why = NULL;
		char inner[64];

		snprintf(s->host, sizeof s->host, "%s", host);
		s->port = strtol(port, NULL, 10);
		if (host[0] == '[' || inet_pton(AF_INET, host, buf) == 1)
			rc = 0;
		else
			rc = 1;
		/* An address as the host (a redirect may give one). */
		snprintf(inner, sizeof inner, "%.*s",
		         host[0] == '[' ? (int)strlen(host) - 2 : (int)strlen(host),
		         host[0] == '[' ? host + 1 : host);
		memset(&literal, 0, sizeof literal);
		if (rc == 0 && inet_pton(AF_INET, inner, literal.bytes) == 1)
			literal.family = AF_INET;
		else if (rc == 0 &&
		         inet_pton(AF_INET6, inner, literal.bytes) == 1)
			literal.family = AF_INET6;
		if (literal.family != 0)
			why = refused_address(&literal);
		if (why != NULL) {
			finish(s, false,
			       "%s is a %s address, which dnsgated does not "
			       "download from",
			       host, why);
			rc = -1;
		}
		/* Names are compared without the root's dot. */
		if (rc == 1 && s->host[strlen(s->host) - 1] == '.')
			s->host[strlen(s->host) - 1] = '\0';
		for (char *c = s->host; *c; c++)
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return rc;
}

static void
resolve_and_download(struct sub *s)
{
	static const uint16_t types[] = {1, 28}; /* A, AAAA */
	uint8_t q[DNS_MAX_NAME + DNS_HEADER_SIZE + 8];
	struct fetch *f = s->owner;
	uint64_t id = s->id;
	size_t i;
	int rc = parse_host(s);

	if (rc < 0)
		return;
	if (rc == 0) {
		start_download(s);
		return;
	}
	s->state = SUB_RESOLVING;
	s->lookups = 2;
	s->lookup_error[0] = '\0';
	for (i = 0; i < 2; i++) {
		struct lookup *l = xcalloc(1, sizeof *l);
		int n = build_query(s->host, types[i], q, sizeof q);

		if (n < 0) {
			free(l);
			s->state = SUB_IDLE;
			finish(s, false, "'%s' is not a host name", s->host);
			return;
		}
		l->f = f;
		l->id = id;
		l->qtype = types[i];
		/* The callback may come before upstream_send returns (and free
		 * l), even with s finished: s is looked up by id there. */
		upstream_send(f->o.upstream, q, (size_t)n, on_lookup, l);
		if (find_id(f, id) != s || s->state != SUB_RESOLVING)
			return;
	}
}

/* Starts a download of s now, unless one is running. */
static void
begin(struct sub *s)
{
	if (s->state != SUB_IDLE)
		return;
	evtimer_del(s->timer);
	free(s->current_url);
	s->current_url = xstrdup(s->url);
	free(s->started_url);
	s->started_url = xstrdup(s->url);
	s->url_changed = false;
	s->redirects = 0;
	resolve_and_download(s);
}

/* --- libcurl on libevent ------------------------------------------------- */

static void check_done(struct fetch *f);

static void
on_socket_event(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	int running, flags = 0;

	if (what & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (what & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(f->multi, fd, flags, &running);
	check_done(f);
}

static int
on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
               void *socketp)
{
	struct fetch *f = userp;
	struct watch *w = socketp;
	short events = 0;

	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			event_free(w->ev);
			free(w);
		}
		curl_multi_assign(f->multi, fd, NULL);
		return 0;
	}
	if (what & CURL_POLL_IN)
		events |= EV_READ;
	if (what & CURL_POLL_OUT)
		events |= EV_WRITE;
	if (w == NULL) {
		w = xcalloc(1, sizeof *w);
		w->f = f;
		w->fd = fd;
		curl_multi_assign(f->multi, fd, w);
	} else {
		event_free(w->ev);
	}
	w->ev =
	    event_new(f->o.base, fd, events | EV_PERSIST, on_socket_event, f);
	event_add(w->ev, NULL);
	return 0;
}

static void
on_curl_timer(evutil_socket_t fd, short what, void *arg)
{
	struct fetch *f = arg;
	int running;

	curl_multi_socket_action(f->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(f);
}

static int
on_curl_timer_change(CURLM *multi, long timeout_ms, void *userp)
{
	struct fetch *f = userp;
	struct timeval tv;

	if (timeout_ms < 0) {
		evtimer_del(f->curl_timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	evtimer_add(f->curl_timer, &tv);
	return 0;
}

/* Every download socket carries the upstream mark: the gate lets it out
 * as it lets out the upstream queries. */
static int
on_sockopt(void *arg, curl_socket_t fd, curlsocktype purpose)
{
	struct fetch *f = arg;

	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &f->o.mark, sizeof f->o.mark) <
	    0) {
		log_warn("list download: cannot set the upstream mark on its "
		         "socket (%s): the gate would reject it",
		         strerror(errno));
		return CURL_SOCKOPT_ERROR;
	}
	return CURL_SOCKOPT_OK;
}

static size_t
on_body(char *data, size_t size, size_t n, void *arg)
{
	struct sub *s = arg;
	size_t len = size * n;

	if (s->len + len > s->max_size) {
		s->too_big = true;
		return 0; /* aborts the transfer */
	}
	if (s->len + len + 1 > s->cap) {
		s->cap = (s->len + len + 1) * 2;
		if (s->cap > s->max_size + 1)
			s->cap = s->max_size + 1;
		s->body = xrealloc(s->body, s->cap);
	}
	memcpy(s->body + s->len, data, len);
	s->len += len;
	return len;
}

/* "Name: value" into out, when the header is name. */
static void
take_header(const char *line, size_t len, const char *name, char *out,
            size_t outlen)
{
	size_t nl = strlen(name), vl;
	const char *v;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	v = line + nl + 1;
	vl = len - nl - 1;
	while (vl > 0 && (*v == ' ' || *v == '\t'))
		v++, vl--;
	while (vl > 0 &&
	       (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' '))
		vl--;
	if (vl >= outlen)
		return; /* not kept rather than cut */
	/* It goes back out in a request (If-None-Match) and into the
	 * meta file line by line: a control byte in it is not kept. */
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			return;
	memcpy(out, v, vl);
	out[vl] = '\0';
}

static size_t
on_header(char *data, size_t size, size_t n, void *arg)
{
	struct sub *s = arg;
	size_t len = size * n;

	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a 100 Continue): its own headers. */
		s->etag[0] = s->last_modified[0] = s->content_type[0] = '\0';
		return len;
	}
	take_header(data, len, "ETag", s->etag, sizeof s->etag);
	take_header(data, len, "Last-Modified", s->last_modified,
	            sizeof s->last_modified);
	take_header(data, len, "Content-Type", s->content_type,
	            sizeof s->content_type);
	return len;
}

static void
drop_easy(struct sub *s)
{
	if (s->easy != NULL) {
		curl_multi_remove_handle(s->owner->multi, s->easy);
		curl_easy_cleanup(s->easy);
		s->easy = NULL;
	}
	curl_slist_free_all(s->resolve);
	curl_slist_free_all(s->headers);
	s->resolve = s->headers = NULL;
	free(s->body);
	s->body = NULL;
	s->len = s->cap = 0;
}

static void
start_download(struct sub *s)
{
	struct fetch *f = s->owner;
	char line[1400];
	CURL *e;

	s->too_big = false;
	s->etag[0] = s->last_modified[0] = s->content_type[0] = '\0';
	s->curl_error[0] = '\0';
	e = s->easy = curl_easy_init();
	if (e == NULL) {
		finish(s, false, "libcurl cannot start a transfer");
		return;
	}
	if (s->addrs[0] != '\0') {
		snprintf(line, sizeof line, "-%s:%ld", s->host, s->port);
		s->resolve = curl_slist_append(s->resolve, line);
		snprintf(line, sizeof line, "%s:%ld:%s", s->host, s->port,
		         s->addrs);
		s->resolve = curl_slist_append(s->resolve, line);
		curl_easy_setopt(e, CURLOPT_RESOLVE, s->resolve);
	}
	/* Conditional only with a copy of this very URL to fall back on. */
	if (s->have_copy && strcmp(s->meta.url, s->url) == 0) {
		if (s->meta.etag[0] != '\0') {
			snprintf(line, sizeof line, "If-None-Match: %s",
			         s->meta.etag);
			s->headers = curl_slist_append(s->headers, line);
		}
		if (s->meta.last_modified[0] != '\0') {
			snprintf(line, sizeof line, "If-Modified-Since: %s",
			         s->meta.last_modified);
			s->headers = curl_slist_append(s->headers, line);
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, s->headers);
	}
	curl_easy_setopt(e, CURLOPT_URL, s->current_url);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L); /* done here */
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, s->curl_error);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "dnsgate/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)s->max_size);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 20L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 600L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 512L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
	curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, f);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	if (f->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, f->ca_file);
	if (curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		drop_easy(s);
		finish(s, false, "libcurl cannot start a transfer");
		return;
	}
	s->state = SUB_DOWNLOADING;
}

/* A 3xx to an https:// URL: downloaded again from there. Returns true
 * when the download goes on. */
static bool
follow_redirect(struct sub *s, long code)
{
	char *location = NULL;

	if (code != 301 && code != 302 && code != 303 && code != 307 &&
	    code != 308)
		return false;
	curl_easy_getinfo(s->easy, CURLINFO_REDIRECT_URL, &location);
	if (location == NULL)
		return false;
	if (strncasecmp(location, "https://", 8) != 0) {
		char shown[300];

		snprintf(shown, sizeof shown, "%s", location);
		drop_easy(s);
		finish(s, false,
		       "HTTP %ld redirects to %s, which is not "
		       "https://",
		       code, shown);
		return true;
	}
	if (++s->redirects > FETCH_MAX_REDIRECTS) {
		drop_easy(s);
		finish(s, false, "more than %d redirects", FETCH_MAX_REDIRECTS);
		return true;
	}
	free(s->current_url);
	s->current_url = xstrdup(location);
	drop_easy(s);
	s->state = SUB_IDLE;
	resolve_and_download(s);
	return true;
}

/* The meta of a copy a 304 confirmed is written. */
static void
on_meta_stored(void *arg, uint64_t id, int rc, const char *err)
{
	struct fetch *f = arg;
	struct sub *s = find_id(f, id);

	if (rc < 0)
		log_warn("list %s: %s", s != NULL ? s->name : "?", err);
}

/* Tells one download from another, across restarts too: the wall clock
 * in nanoseconds, made to move forward within the process. */
static uint64_t
new_copy_id(void)
{
	static uint64_t last;
	struct timespec ts;
	uint64_t id;

	clock_gettime(CLOCK_REALTIME, &ts);
	id = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	if (id <= last)
		id = last + 1;
	last = id;
	return id;
}

/* A new copy is written as the copy pending: a build reads it. */
static void
on_stored(void *arg, uint64_t id, int rc, const char *err)
{
	struct fetch *f = arg;
	struct sub *s = find_id(f, id);

	if (s == NULL || s->state != SUB_STORING)
		return; /* dropped from the config meanwhile */
	if (rc < 0) {
		finish(s, false, "downloaded, but not stored: %s", err);
	} else if (s->judged_early == 1) {
		/* A build running meanwhile found it whole and took it. */
		s->judged_early = -1;
		log_info("list %s: the new copy of %s is in force", s->name,
		         s->meta.url);
		finish(s, true, "%s", s->pending_result);
	} else if (s->judged_early == 0) {
		s->judged_early = -1;
		finish(s, false, "%s", s->early_reason);
	} else {
		s->pending = true;
		s->state = SUB_APPLYING;
		s->apply_build = f->o.changed(f->o.arg, s->name);
	}
	settle(f);
}

/* A finished transfer: judged, and handed to the writer when it is a new
 * copy. */
static void
done_transfer(struct sub *s, CURLcode result)
{
	struct fetch *f = s->owner;
	struct fetch_check_input in;
	struct list_cache_meta m;
	char reason[256];
	uint64_t entries;
	long code = 0;
	enum fetch_check_verdict v;
	char *body;
	size_t len;

	if (strcmp(s->started_url, s->url) != 0) {
		/* A reload changed the list's URL meanwhile: what came from
		 * the old one is not the list any more. Dropped, and the
		 * new URL fetched at once (finish). */
		char was[300];

		snprintf(was, sizeof was, "%s", s->started_url);
		drop_easy(s);
		s->url_changed = true;
		finish(s, false,
		       "the list's URL changed while it downloaded from %s: "
		       "dropped, downloading it from %s",
		       was, s->url);
		return;
	}
	if (result != CURLE_OK) {
		if (s->too_big || result == CURLE_FILESIZE_EXCEEDED)
			snprintf(reason, sizeof reason,
			         "larger than max-size="
			         "%llu bytes",
			         (unsigned long long)s->max_size);
		else
			snprintf(reason, sizeof reason, "%s",
			         s->curl_error[0] ? s->curl_error
			                          : curl_easy_strerror(result));
		drop_easy(s);
		finish(s, false, "%s", reason);
		return;
	}
	curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &code);
	if (follow_redirect(s, code))
		return;
	memset(&in, 0, sizeof in);
	in.http_status = code;
	in.content_type = s->content_type[0] ? s->content_type : NULL;
	in.body = s->body;
	in.len = s->len;
	in.have_copy = s->have_copy;
	in.copy_entries = s->meta.entries;
	in.max_shrink = s->max_shrink;
	v = fetch_check(&in, &entries, reason, sizeof reason);
	if (v == FETCH_CHECK_REFUSED) {
		drop_easy(s);
		finish(s, false, "%s", reason);
		return;
	}
	m = s->meta;
	m.checked_at = now_wall();
	if (v == FETCH_CHECK_NOT_MODIFIED) {
		cache_writer_store(f->writer, f->cache_dir, s->name, &m, NULL,
		                   0, on_meta_stored, f, s->id);
		s->meta = m;
		drop_easy(s);
		finish(s, true, "not modified (HTTP 304)");
		log_info("list %s: %s is not modified (HTTP 304): the copy in "
		         "force stays",
		         s->name, s->url);
		return;
	}
	snprintf(m.url, sizeof m.url, "%s", s->url);
	snprintf(m.etag, sizeof m.etag, "%s", s->etag);
	snprintf(m.last_modified, sizeof m.last_modified, "%s",
	         s->last_modified);
	m.fetched_at = m.checked_at;
	m.copy_id = new_copy_id();
	m.have_digest = false; /* the writer hashes it, off the loop */
	m.entries = entries;
	m.expires = fetch_check_expires(s->body, s->len);
	log_info("list %s: downloaded %s: %zu bytes, %llu entries; it is put "
	         "in force once its reading is accepted; next refresh in "
	         "%us%s",
	         s->name, s->current_url, s->len, (unsigned long long)entries,
	         m.expires != 0 && s->refresh == 0 ? m.expires : interval_of(s),
	         s->refresh == 0 && m.expires != 0 ? " (its '! Expires:')"
	                                           : "");
	snprintf(s->pending_result, sizeof s->pending_result,
	         "new copy, %llu entries (HTTP %ld, "
	         "%zu bytes)",
	         (unsigned long long)entries, code, s->len);
	s->pending_meta = m;
	/* The buffer goes to the writer's thread: the loop never waits for
	 * the disk. */
	body = s->body;
	len = s->len;
	s->body = NULL;
	drop_easy(s);
	s->state = SUB_STORING;
	s->judged_early = -1;
	cache_writer_store(f->writer, f->cache_dir, s->name, &m, body, len,
	                   on_stored, f, s->id);
}

static void
check_done(struct fetch *f)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(f->multi, &left)) != NULL) {
		struct sub *s = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&s);
		if (s != NULL)
			done_transfer(s, msg->data.result);
	}
	settle(f);
}

/* Whether name (NULL: any subscription) is downloading, being written or
 * waiting for the build that reads it. */
static bool
busy(const struct fetch *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_subs; i++)
		if ((name == NULL || strcmp(f->subs[i]->name, name) == 0) &&
		    f->subs[i]->state != SUB_IDLE)
			return true;
	return false;
}

/* The callers of fetch_update whose lists are done are answered, each
 * list on its own: one slow server holds back only who waits for it. */
static void
settle(struct fetch *f)
{
	struct waiter **wp = &f->waiters, *w;

	while ((w = *wp) != NULL) {
		if (busy(f, w->name)) {
			wp = &w->next;
			continue;
		}
		*wp = w->next;
		w->done(w->arg);
		free(w->name);
		free(w);
	}
}

/* Whether copy, which a build judged, is s's download now being stored
 * or waiting for a build, or left pending by a build that failed. A
 * build that claimed an older copy (it was pending when this one
 * downloaded) judged not this one. */
static bool
judged_ours(const struct sub *s, const struct list_cache_meta *copy,
            uint64_t build)
{
	bool in_flight =
	    s->state == SUB_STORING || s->state == SUB_APPLYING || s->pending;

	if (!in_flight)
		return false;
	if (copy->url[0] == '\0') /* its record was unreadable */
		return s->state == SUB_APPLYING && build >= s->apply_build;
	return list_cache_same_copy(copy, &s->pending_meta);
}

void
fetch_build_done(struct fetch *f, uint64_t build, fetch_outcome_fn *outcome,
                 void *arg, const char *failed)
{
	struct list_cache_meta copy;
	char reason[512];
	size_t i;

	for (i = 0; i < f->n_subs; i++) {
		struct sub *s = f->subs[i];
		int o;

		memset(&copy, 0, sizeof copy);
		o = outcome != NULL
		        ? outcome(arg, s->name, &copy, reason, sizeof reason)
		        : -1;
		if (o == 1 || o == 0) {
			/* By the build asked to, or one before it (a SIGHUP),
			 * or one after a build that failed; maybe a copy left
			 * pending before a restart, or one older than the
			 * download in flight, which stays so. */
			bool ours = judged_ours(s, &copy, build);

			if (o == 1) {
				s->meta = copy;
				s->have_copy = true;
			}
			if (!ours)
				continue;
			s->pending = false;
			if (s->state == SUB_STORING) {
				s->judged_early = o; /* see on_stored */
				snprintf(s->early_reason,
				         sizeof s->early_reason, "%s", reason);
			} else if (s->state == SUB_APPLYING && o == 1) {
				log_info("list %s: the new copy of %s is in force",
				         s->name, s->meta.url);
				finish(s, true, "%s", s->pending_result);
			} else if (s->state == SUB_APPLYING) {
				finish(s, false, "%s", reason);
			}
			continue;
		}
		if (s->state != SUB_APPLYING || build < s->apply_build)
			continue;
		if (outcome == NULL) {
			/* The copy stays pending: the next build that
			 * succeeds judges it. */
			finish(s, false,
			       "downloaded, but the reload to apply it failed "
			       "(%s); the next reload that succeeds applies it",
			       failed != NULL ? failed : "?");
		} else {
			s->pending = false;
			finish(s, false,
			       "downloaded, but the reload did not read it");
		}
	}
	settle(f);
}

static void
on_refresh_timer(evutil_socket_t fd, short what, void *arg)
{
	struct sub *s = arg;

	begin(s);
	if (s->state == SUB_IDLE)
		settle(s->owner);
}

/* --- the list of subscriptions ------------------------------------------- */

static void
load_meta(struct fetch *f, struct sub *s)
{
	char err[512], *path;

	s->have_copy = false;
	if (list_cache_read_meta(f->cache_dir, s->name, &s->meta, err,
	                         sizeof err) < 0) {
		if (errno != ENOENT)
			log_warn("list %s: %s: downloading it afresh", s->name,
			         err);
		memset(&s->meta, 0, sizeof s->meta);
		return;
	}
	path = list_cache_path(f->cache_dir, s->name, "list");
	s->have_copy = access(path, R_OK) == 0;
	free(path);
	if (s->have_copy &&
	    list_cache_check_copy(f->cache_dir, s->name, &s->meta, err,
	                          sizeof err) < 0) {
		/* Left by a crash between the two renames of an accept:
		 * its ETag is another copy's, so no conditional request. */
		log_warn("list %s: %s: its next download is a full one",
		         s->name, err);
		s->meta.etag[0] = '\0';
		s->meta.last_modified[0] = '\0';
	}
}

static void
sub_free(struct sub *s)
{
	drop_easy(s);
	if (s->timer != NULL)
		event_free(s->timer);
	free(s->name);
	free(s->url);
	free(s->started_url);
	free(s->current_url);
	free(s);
}

static struct sub *
find_name(const struct fetch *f, const char *name)
{
	size_t i;

	for (i = 0; i < f->n_subs; i++)
		if (strcmp(f->subs[i]->name, name) == 0)
			return f->subs[i];
	return NULL;
}

void
fetch_set_lists(struct fetch *f, const struct config *cfg)
{
	size_t i, kept = 0;

	for (i = 0; i < f->n_subs; i++)
		f->subs[i]->keep = false;
	for (i = 0; i < cfg->n_lists; i++) {
		const struct config_list *l = &cfg->lists[i];
		struct sub *s;

		if (l->url == NULL)
			continue;
		s = find_name(f, l->name);
		if (s == NULL) {
			s = xcalloc(1, sizeof *s);
			s->owner = f;
			s->id = ++f->next_id;
			s->judged_early = -1;
			s->name = xstrdup(l->name);
			s->timer = evtimer_new(f->o.base, on_refresh_timer, s);
			f->subs = xreallocarray(f->subs, f->n_subs + 1,
			                        sizeof *f->subs);
			f->subs[f->n_subs++] = s;
			load_meta(f, s);
		} else if (strcmp(s->url, l->url) != 0) {
			free(s->url);
			s->url = NULL; /* fetched now, below */
			/* Busy: what the old URL gives is dropped, then the
			 * new one fetched (done_transfer, finish). */
			s->url_changed = s->state != SUB_IDLE;
		}
		s->keep = true;
		s->refresh = l->refresh;
		s->max_size = l->max_size;
		s->max_shrink = l->max_shrink;
		if (s->url == NULL) {
			s->url = xstrdup(l->url);
			/* At start, after a restart too: in the background,
			 * the cached copy serving meanwhile. */
			schedule(s, 0);
		}
	}
	for (i = 0; i < f->n_subs; i++) {
		if (f->subs[i]->keep)
			f->subs[kept++] = f->subs[i];
		else
			sub_free(f->subs[i]);
	}
	f->n_subs = kept;
}

struct fetch *
fetch_new(const struct fetch_options *o, char *err, size_t errlen)
{
	struct fetch *f;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	f = xcalloc(1, sizeof *f);
	f->o = *o;
	f->ca_file = o->ca_file ? xstrdup(o->ca_file) : NULL;
	f->cache_dir = xstrdup(o->cache_dir);
	f->o.ca_file = f->o.cache_dir = NULL;
	f->multi = curl_multi_init();
	if (f->multi == NULL) {
		snprintf(err, errlen, "libcurl cannot make a multi handle");
		free(f->ca_file);
		free(f->cache_dir);
		free(f);
		curl_global_cleanup();
		return NULL;
	}
	f->writer = cache_writer_new(o->base, err, errlen);
	if (f->writer == NULL) {
		curl_multi_cleanup(f->multi);
		free(f->ca_file);
		free(f->cache_dir);
		free(f);
		curl_global_cleanup();
		return NULL;
	}
	f->curl_timer = evtimer_new(o->base, on_curl_timer, f);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(f->multi, CURLMOPT_SOCKETDATA, f);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERFUNCTION,
	                  on_curl_timer_change);
	curl_multi_setopt(f->multi, CURLMOPT_TIMERDATA, f);
	return f;
}

void
fetch_free(struct fetch *f)
{
	struct waiter *w;
	size_t i;

	if (f == NULL)
		return;
	cache_writer_free(f->writer); /* waits for the write in progress */
	for (i = 0; i < f->n_subs; i++)
		sub_free(f->subs[i]);
	free(f->subs);
	f->n_subs = 0;
	while ((w = f->waiters) != NULL) {
		f->waiters = w->next;
		w->done(w->arg);
		free(w->name);
		free(w);
	}
	curl_multi_cleanup(f->multi);
	event_free(f->curl_timer);
	free(f->ca_file);
	free(f->cache_dir);
	free(f);
	curl_global_cleanup();
}

int
fetch_update(struct fetch *f, const char *name, fetch_done_fn *done, void *arg,
             char *err, size_t errlen)
{
	struct waiter *w;
	size_t i;
	int n = 0;

	if (name != NULL && find_name(f, name) == NULL) {
		snprintf(err, errlen,
		         "'%s' is no https:// list (a file list "
		         "is read again by 'dnsgatectl reload')",
		         name);
		return -1;
	}
	if (f->n_subs == 0) {
		snprintf(err, errlen, "there is no https:// list to update");
		return -1;
	}
	w = xcalloc(1, sizeof *w);
	w->name = name ? xstrdup(name) : NULL;
	w->done = done;
	w->arg = arg;
	w->next = f->waiters;
	f->waiters = w;
	for (i = 0; i < f->n_subs; i++) {
		struct sub *s = f->subs[i];

		if (name != NULL && strcmp(s->name, name) != 0)
			continue;
		begin(s); /* one already downloading is waited for */
		n++;
	}
	settle(f);
	return n;
}

size_t
fetch_count(const struct fetch *f)
{
	return f->n_subs;
}

int
fetch_status_at(const struct fetch *f, size_t i, struct fetch_status *out)
{
	const struct sub *s;

	if (i >= f->n_subs)
		return -1;
	s = f->subs[i];
	memset(out, 0, sizeof *out);
	out->name = s->name;
	out->url = s->url;
	out->busy = s->state != SUB_IDLE;
	out->have_copy = s->have_copy;
	out->copy_fetched_at = s->have_copy ? s->meta.fetched_at : 0;
	out->last_attempt = s->last_attempt;
	out->last_ok = s->last_ok;
	out->last_result = s->last_result;
	out->next_refresh = s->next_refresh;
	out->interval = interval_of(s);
	out->copy_entries = s->have_copy ? s->meta.entries : 0;
	return 0;
}

int
fetch_status_of(const struct fetch *f, const char *name,
                struct fetch_status *out)
{
	size_t i;

	for (i = 0; i < f->n_subs; i++)
		if (strcmp(f->subs[i]->name, name) == 0)
			return fetch_status_at(f, i, out);
	return -1;
}
