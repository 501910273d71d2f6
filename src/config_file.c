/* config_file.c - the dnsgate.conf parser and printer. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lists/public_suffix.h"
#include "src/config_file.h"
#include "src/prompt.h"
#include "src/control.h"
#include "src/history.h"
#include "src/list_cache.h"
#include "src/xmalloc.h"

/* One line being parsed, for error positions. */
struct cursor {
	const char *name;
	unsigned line;
	const char *start; /* first character of the line */
	char *err;
	size_t errlen;
};

static int
parse_error(const struct cursor *c, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
parse_error(const struct cursor *c, const char *at, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(c->err, c->errlen, "%s:%u:%ld: ", c->name, c->line,
		     (long)(at - c->start) + 1);
	if (n < 0 || (size_t)n >= c->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

struct config *
config_new_default(void)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);

	cfg->listen_port = 5453;
	cfg->resolv_conf = xstrdup("/etc/resolv.conf");
	cfg->grant_ttl_min = 300;
	cfg->grant_ttl_max = 86400;
	cfg->set_size = 65536;
	cfg->cache_size = 10000;
	cfg->upstream_mark = 0x64676174; /* "dgat" */
	cfg->upstream_timeout_ms = 2000;
	cfg->upstream_tries = 2;
	cfg->app_grant_quota = cfg->set_size / 8;
	cfg->app_pending_quota = 128;
	cfg->control_socket = xstrdup(CONTROL_DEFAULT_PATH);
	cfg->app_tcp_quota = 16;
	cfg->user_grant_quota = cfg->set_size / 2;
	cfg->user_pending_quota = 512;
	cfg->user_tcp_quota = 64;
	cfg->upstream_deadline_ms = 1800; /* RFC 8767's client timer */
	cfg->max_stale = 86400;           /* RFC 8767: 1 to 3 days */
	cfg->log_queries = true;
	cfg->blocked_answer = MESSAGE_BLOCK_NXDOMAIN;
	cfg->doh_canary = true;
	cfg->prompt_timeout_ms = PROMPT_TIMEOUT_DEFAULT_MS;
	cfg->public_suffix_list = xstrdup(PUBLIC_SUFFIX_DEFAULT_PATH);
	cfg->rules = xcalloc(1, sizeof *cfg->rules);
	cfg->rules[0] = xstrdup(CONFIG_DEFAULT_RULES);
	cfg->n_rules = 1;
	cfg->list_cache = xstrdup(LIST_CACHE_DEFAULT_DIR);
	cfg->history = xstrdup(HISTORY_DEFAULT_PATH);
	cfg->history_days = HISTORY_DEFAULT_DAYS;
	cfg->history_max_records = HISTORY_DEFAULT_MAX_RECORDS;
	return cfg;
}

void
config_free(struct config *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < cfg->n_upstreams; i++)
		free(cfg->upstreams[i]);
	free(cfg->upstreams);
	for (i = 0; i < cfg->n_lists; i++) {
		free(cfg->lists[i].name);
		free(cfg->lists[i].path);
		free(cfg->lists[i].url);
	}
	free(cfg->lists);
	free(cfg->list_cache);
	free(cfg->ca_file);
	for (i = 0; i < cfg->n_rules; i++)
		free(cfg->rules[i]);
	free(cfg->rules);
	free(cfg->path);
	free(cfg->exempt);
	free(cfg->resolv_conf);
	free(cfg->public_suffix_list);
	free(cfg->log_file);
	free(cfg->control_socket);
	free(cfg->control_admin_group);
	free(cfg->control_read_group);
	free(cfg->history);
	free(cfg->geoip_country);
	free(cfg->geoip_asn);
	free(cfg);
}

static void
push_string(char ***list, size_t *n, const char *value)
{
	*list = xreallocarray(*list, *n + 1, sizeof **list);
	(*list)[(*n)++] = xstrdup(value);
}

static int
parse_uint(const struct cursor *c, const char *value, unsigned long min,
	   unsigned long max, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	/* Decimal, or hex after 0x; never octal, never signs or blanks. */
	if (value[0] < '0' || value[0] > '9') {
		return parse_error(c, value,
				   "expected a number from %lu to %lu, got '%s'",
				   min, max, value);
	}
	if (value[0] == '0' && (value[1] == 'x' || value[1] == 'X'))
		v = strtoul(value + 2, &end, 16);
	else
		v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || end == value || v < min || v > max) {
		return parse_error(c, value,
				   "expected a number from %lu to %lu, got '%s'",
				   min, max, value);
	}
	*out = (uint32_t)v;
	return 0;
}

/* A group by name or number, looked up now: a name that is not there is
 * an error here, not a socket nobody can use later. Group 0 is root's,
 * which needs no setting. */
static int
parse_group(const struct cursor *c, const char *value, char **name,
	    gid_t *gid)
{
	struct group gr, *found = NULL;
	char buf[4096];
	int rc;

	if (value[0] >= '0' && value[0] <= '9') {
		char *end;
		unsigned long n;

		errno = 0;
		n = strtoul(value, &end, 10);
		if (*end != '\0' || errno != 0 || n == 0 || n >= 0xffffffffUL)
			return parse_error(c, value,
					   "'%s': a group is a name or a "
					   "number from 1 to 4294967294",
					   value);
		*gid = (gid_t)n;
	} else {
		rc = getgrnam_r(value, &gr, buf, sizeof buf, &found);
		if (found == NULL)
			return parse_error(c, value,
					   "no group named '%s'%s%s (create it "
					   "with groupadd, or give its number)",
					   value, rc != 0 ? ": " : "",
					   rc != 0 ? strerror(rc) : "");
		if (found->gr_gid == 0)
			return parse_error(c, value,
					   "'%s' is group 0: root may use the "
					   "control socket without it",
					   value);
		*gid = found->gr_gid;
	}
	free(*name);
	*name = xstrdup(value);
	return 0;
}

static int
parse_bool(const struct cursor *c, const char *value, bool *out)
{
	if (strcmp(value, "yes") == 0) {
		*out = true;
		return 0;
	}
	if (strcmp(value, "no") == 0) {
		*out = false;
		return 0;
	}
	return parse_error(c, value, "expected yes or no, got '%s'", value);
}

static int
parse_fail_mode(const struct cursor *c, const char *value,
		enum config_fail_mode *out)
{
	if (strcmp(value, "closed") == 0) {
		*out = CONFIG_FAIL_CLOSED;
		return 0;
	}
	if (strcmp(value, "open") == 0) {
		*out = CONFIG_FAIL_OPEN;
		return 0;
	}
	return parse_error(c, value, "expected closed or open, got '%s'",
			   value);
}

const char *
config_fail_mode_name(enum config_fail_mode mode)
{
	return mode == CONFIG_FAIL_OPEN ? "open" : "closed";
}

/* "192.0.2.1", "192.0.2.1:5353", "2001:db8::1", "[2001:db8::1]:5353". */
static int
parse_upstream(const struct cursor *c, const char *value)
{
	char host[INET6_ADDRSTRLEN + 1];
	unsigned char buf[16];
	const char *port = NULL;
	size_t hostlen;

	if (value[0] == '[') {
		const char *close = strchr(value, ']');

		if (close == NULL)
			return parse_error(c, value, "missing ']' in '%s'",
					   value);
		hostlen = (size_t)(close - value - 1);
		if (hostlen >= sizeof host)
			return parse_error(c, value, "not an IP address");
		memcpy(host, value + 1, hostlen);
		host[hostlen] = '\0';
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return parse_error(c, close + 1,
					   "expected ':port' after ']'");
		if (inet_pton(AF_INET6, host, buf) != 1)
			return parse_error(c, value + 1,
					   "'%s' is not an IPv6 address", host);
	} else if (inet_pton(AF_INET6, value, buf) == 1) {
		return 0;
	} else {
		const char *colon = strchr(value, ':');

		hostlen = colon ? (size_t)(colon - value) : strlen(value);
		if (hostlen >= sizeof host)
			return parse_error(c, value, "not an IP address");
		memcpy(host, value, hostlen);
		host[hostlen] = '\0';
		if (colon != NULL)
			port = colon + 1;
		if (inet_pton(AF_INET, host, buf) != 1) {
			return parse_error(c, value,
					   "'%s' is not an IP address (upstreams "
					   "are addresses, not names)",
					   host);
		}
	}
	if (port != NULL) {
		const char *d = port;
		uint32_t p;

		while (*d >= '0' && *d <= '9')
			d++;
		if (d == port || *d != '\0')
			return parse_error(c, port,
					   "expected a port number after ':', "
					   "got '%s'",
					   port);
		if (parse_uint(c, port, 1, 65535, &p) < 0)
			return -1;
	}
	return 0;
}

/* Splits "key value" in place; value may be missing (NULL). Returns
 * pointers into line. */
static void
split_line(char *line, char **key, char **value)
{
	char *p = line, *end;

	while (*p == ' ' || *p == '\t')
		p++;
	*key = p;
	while (*p != '\0' && *p != ' ' && *p != '\t')
		p++;
	if (*p == '\0') {
		*value = NULL;
		return;
	}
	*p++ = '\0';
	while (*p == ' ' || *p == '\t')
		p++;
	end = p + strlen(p);
	while (end > p && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r'))
		*--end = '\0';
	*value = *p != '\0' ? p : NULL;
}

/* What may follow a list's path. */
struct list_options {
	const char *name; /* name=: a blocklist's name for rules */
	bool answer_set;  /* answer=: what a name it blocks gets */
	enum message_block_mode answer;
	enum list_format format; /* format=: auto unless named */
	const char *at;    /* the first option of a subscription's, for an
			      error on a file list */
	uint32_t refresh;  /* refresh= (0: not given) */
	uint64_t max_size; /* max-size= (0: not given) */
	uint32_t max_shrink; /* max-shrink= (UINT32_MAX: not given) */
};

static int
parse_block_mode(const struct cursor *c, const char *value,
		 enum message_block_mode *out)
{
	if (message_block_mode_parse(value, out) == 0)
		return 0;
	return parse_error(c, value,
			   "expected nxdomain, null, nodata or refused, got "
			   "'%s'",
			   value);
}

/* "3600", "90s", "30m", "6h", "2d": seconds, 1 s to 30 days (less than
 * an hour is more than a list server should be asked; tests ask). */
static int
parse_refresh(const struct cursor *c, const char *value, uint32_t *out)
{
	static const char units[] = "smhd";
	static const unsigned long scale[] = {1, 60, 3600, 86400};
	const char *u = NULL;
	char *end = NULL;
	unsigned long v = 0;

	errno = 0;
	if (value[0] >= '0' && value[0] <= '9')
		v = strtoul(value, &end, 10);
	if (end == NULL || errno != 0)
		goto bad;
	if (*end != '\0') {
		u = strchr(units, *end);
		if (u == NULL || end[1] != '\0')
			goto bad;
		v = v > 30UL * 86400 ? 0 : v * scale[u - units];
	}
	if (v < 1 || v > 30UL * 86400)
		goto bad;
	*out = (uint32_t)v;
	return 0;
bad:
	return parse_error(c, value,
			   "refresh= takes seconds, or a number with s, m, h "
			   "or d, from 1s to 30d, got '%s'",
			   value);
}

/* "1048576", "512K", "64M", "1G": bytes, 1K to 1G. */
static int
parse_size(const struct cursor *c, const char *value, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t scale = 1;

	errno = 0;
	if (value[0] < '0' || value[0] > '9')
		goto bad;
	v = strtoull(value, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end != '\0') {
		if (end[1] != '\0' || strchr("KMG", *end) == NULL)
			goto bad;
		scale = *end == 'K' ? 1024 : *end == 'M' ? 1024 * 1024
							 : 1024 * 1024 * 1024;
	}
	if (v > (1ULL << 30) / scale || v * scale < 1024)
		goto bad;
	*out = v * scale;
	return 0;
bad:
	return parse_error(c, value,
			   "max-size= takes bytes, or a number with K, M or G, "
			   "from 1K to 1G, got '%s'",
			   value);
}

/* "50%" or "0.5": the part of its entries a download may lose. */
static int
parse_shrink(const struct cursor *c, const char *value, uint32_t *out)
{
	char *end;
	double v;

	errno = 0;
	if ((value[0] < '0' || value[0] > '9') && value[0] != '.')
		goto bad;
	v = strtod(value, &end);
	if (errno != 0 || end == value)
		goto bad;
	if (*end == '%' && end[1] == '\0' && v >= 0 && v <= 100) {
		*out = (uint32_t)(v + 0.5);
		return 0;
	}
	if (*end == '\0' && v >= 0 && v <= 1) {
		*out = (uint32_t)(v * 100 + 0.5);
		return 0;
	}
bad:
	return parse_error(c, value,
			   "max-shrink= takes a percentage (50%%) or a "
			   "fraction (0.5) of the entries, got '%s'",
			   value);
}

/* Cuts the options off the end of a list's path ("PATH name=ads"), into
 * o: an option is a last word KEY=VALUE whose KEY is lower-case letters
 * and '-' (so "/lists/a=b.txt" stays a path). Returns 0, or -1 for an
 * unknown option. */
static int
list_options(const struct cursor *c, bool is_blocklist, char *path,
	     struct list_options *o)
{
	for (;;) {
		char *end = path + strlen(path), *word, *eq, *k;
		int rc = 0;

		while (end > path && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		word = end;
		while (word > path && word[-1] != ' ' && word[-1] != '\t')
			word--;
		if (word == path || (eq = strchr(word, '=')) == NULL)
			return 0;
		for (k = word; k < eq && ((*k >= 'a' && *k <= 'z') || *k == '-');
		     k++)
			;
		if (k != eq || k == word)
			return 0;
		*eq = '\0';
		if (eq[1] == '\0')
			return parse_error(c, word, "%s= needs a value", word);
		if (strcmp(word, "name") == 0 && is_blocklist) {
			if (o->name != NULL)
				return parse_error(c, word, "name= is given "
						   "twice");
			o->name = eq + 1;
		} else if (strcmp(word, "answer") == 0) {
			if (parse_block_mode(c, eq + 1, &o->answer) < 0)
				return -1;
			o->answer_set = true;
		} else if (strcmp(word, "format") == 0) {
			if (list_format_parse(eq + 1, &o->format) < 0)
				return parse_error(c, eq + 1,
						   "unknown list format '%s': "
						   "expected auto, hosts, "
						   "domains or adblock",
						   eq + 1);
		} else if (strcmp(word, "refresh") == 0) {
			rc = parse_refresh(c, eq + 1, &o->refresh);
			o->at = word;
		} else if (strcmp(word, "max-size") == 0) {
			rc = parse_size(c, eq + 1, &o->max_size);
			o->at = word;
		} else if (strcmp(word, "max-shrink") == 0) {
			rc = parse_shrink(c, eq + 1, &o->max_shrink);
			o->at = word;
		} else {
			return parse_error(c, word,
					   "unknown list option '%s=': expected "
					   "%sanswer=, format=, refresh=, "
					   "max-size= or max-shrink=%s",
					   word, is_blocklist ? "name=, " : "",
					   is_blocklist ? ""
							: " (a list's name "
							  "comes first: "
							  "'list NAME PATH')");
		}
		if (rc < 0)
			return -1;
		word[-1] = '\0';
	}
}

/* An https:// URL is a subscription; another scheme is refused. Returns
 * 1 for a URL, 0 for a file, -1 with the reason. */
static int
list_source(const struct cursor *c, const char *path)
{
	const char *p = path, *host;

	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
		p++;
	if (p == path || strncmp(p, "://", 3) != 0)
		return 0;
	if (strncasecmp(path, "http://", 7) == 0)
		return parse_error(c, path,
				   "http:// lists are refused: anyone on the "
				   "way could change what is blocked; use "
				   "https:// (a private server: its CA in "
				   "ca-file)");
	if (strncasecmp(path, "https://", 8) != 0)
		return parse_error(c, path,
				   "a list is a file or an https:// URL, not "
				   "'%.*s'",
				   (int)(p - path + 3), path);
	host = path + 8;
	if (*host == '\0' || *host == '/' || *host == ':' || *host == '?' ||
	    *host == '#')
		return parse_error(c, host, "the URL has no host: '%s'", path);
	if (strpbrk(path, " \t\"<>\\^`{|}") != NULL)
		return parse_error(c, path,
				   "a URL cannot hold blanks or any of "
				   "\"<>\\^`{|}: write them %%-encoded");
	if (strlen(path) >= LIST_CACHE_URL_MAX)
		return parse_error(c, path, "a URL has at most %d characters",
				   LIST_CACHE_URL_MAX - 1);
	return 1;
}

/* The name a rule gives a list: NAME as written, or, for "blocklist
 * PATH", its name= or else the file's name without its extension. */
static int
add_list(struct config *cfg, const struct cursor *c, const char *name,
	 char *path)
{
	struct list_options opts = {NULL,	  false, MESSAGE_BLOCK_NXDOMAIN,
				    LIST_FORMAT_AUTO, NULL, 0,
				    0,	  UINT32_MAX};
	const char *base, *p;
	char derived[128];
	struct config_list *l;
	bool every_app = name == NULL;
	size_t i, n;
	int remote;

	if (list_options(c, every_app, path, &opts) < 0)
		return -1;
	if ((remote = list_source(c, path)) < 0)
		return -1;
	if (!remote && opts.at != NULL)
		return parse_error(c, opts.at,
				   "%s= is for an https:// list; a file is "
				   "read when it changes and dnsgated is "
				   "reloaded",
				   opts.at);
	base = strrchr(path, '/');
	base = base != NULL ? base + 1 : path;
	if (name == NULL && opts.name != NULL) {
		name = opts.name;
	} else if (name == NULL) {
		const char *dot = strrchr(base, '.');

		n = dot != NULL && dot != base ? (size_t)(dot - base)
					      : strlen(base);
		if (n == 0) { /* "blocklist /": the path is all there is */
			base = path;
			n = strlen(path);
		}
		if (n == 0 || n >= sizeof derived)
			return parse_error(c, path,
					   "cannot name a list after '%s': "
					   "write 'list NAME PATH' and a rule "
					   "'block list=NAME'",
					   path);
		memcpy(derived, base, n);
		derived[n] = '\0';
		/* A name a rule can write: "a list.txt" is "a_list". */
		for (i = 0; i < n; i++)
			if (!((derived[i] >= 'a' && derived[i] <= 'z') ||
			      (derived[i] >= 'A' && derived[i] <= 'Z') ||
			      (derived[i] >= '0' && derived[i] <= '9') ||
			      strchr("-_.+", derived[i])))
				derived[i] = '_';
		name = derived;
	}
	for (p = name; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || strchr("-_.+", *p)))
			return parse_error(
			    c, name == derived ? path : p,
			    "a list's name is letters, digits and '-_.+' "
			    "('%s' is not)%s",
			    name,
			    name == derived ? ": name it with 'list NAME "
					      "PATH' and a rule 'block "
					      "list=NAME'"
					    : "");
	if (strlen(name) >= 128)
		return parse_error(c, name, "a list's name has at most 127 "
				   "characters");
	for (i = 0; i < cfg->n_lists; i++)
		if (strcmp(cfg->lists[i].name, name) == 0)
			return parse_error(
			    c, name == derived ? path : name,
			    "a list named '%s' is already on line %u; give "
			    "this one another name ('list NAME PATH')",
			    name, cfg->lists[i].line);
	cfg->lists = xreallocarray(cfg->lists, cfg->n_lists + 1,
				   sizeof *cfg->lists);
	l = &cfg->lists[cfg->n_lists++];
	l->name = xstrdup(name);
	l->path = xstrdup(path);
	l->every_app = every_app;
	l->format = opts.format;
	l->line = c->line;
	l->answer_set = opts.answer_set;
	l->answer = opts.answer;
	l->url = remote ? xstrdup(path) : NULL;
	l->refresh = opts.refresh;
	l->max_size = opts.max_size ? opts.max_size : CONFIG_LIST_MAX_SIZE;
	l->max_shrink = opts.max_shrink != UINT32_MAX ? opts.max_shrink
						      : CONFIG_LIST_MAX_SHRINK;
	return 0;
}

static int
apply_line(struct config *cfg, const struct cursor *c, char *key,
	   char *value)
{
	uint32_t n;

	if (value == NULL)
		return parse_error(c, key, "'%s' needs a value", key);
	if (strcmp(key, "listen-port") == 0) {
		if (parse_uint(c, value, 1, 65535, &n) < 0)
			return -1;
		if (n == 53) {
			return parse_error(c, value,
					   "listen-port 53 would be redirected "
					   "to itself; pick another port");
		}
		cfg->listen_port = (uint16_t)n;
	} else if (strcmp(key, "upstream") == 0) {
		if (parse_upstream(c, value) < 0)
			return -1;
		push_string(&cfg->upstreams, &cfg->n_upstreams, value);
	} else if (strcmp(key, "resolv-conf") == 0) {
		free(cfg->resolv_conf);
		cfg->resolv_conf = xstrdup(value);
	} else if (strcmp(key, "blocklist") == 0) {
		return add_list(cfg, c, NULL, value);
	} else if (strcmp(key, "list") == 0) {
		char *path = value;

		while (*path != '\0' && *path != ' ' && *path != '\t')
			path++;
		if (*path == '\0')
			return parse_error(c, value,
					   "list needs a name and a path: 'list "
					   "NAME PATH'");
		*path++ = '\0';
		while (*path == ' ' || *path == '\t')
			path++;
		return add_list(cfg, c, value, path);
	} else if (strcmp(key, "list-cache") == 0) {
		free(cfg->list_cache);
		cfg->list_cache = xstrdup(value);
	} else if (strcmp(key, "ca-file") == 0) {
		free(cfg->ca_file);
		cfg->ca_file =
		    strcmp(value, "system") == 0 ? NULL : xstrdup(value);
	} else if (strcmp(key, "rules") == 0) {
		if (!cfg->rules_set) {
			free(cfg->rules[0]);
			free(cfg->rules);
			cfg->rules = NULL;
			cfg->n_rules = 0;
			cfg->rules_set = true;
		}
		if (strcmp(value, "none") != 0)
			push_string(&cfg->rules, &cfg->n_rules, value);
	} else if (strcmp(key, "exempt") == 0) {
		struct ip_prefix p;
		const char *reason;

		if (ip_prefix_parse(value, &p, &reason) < 0)
			return parse_error(c, value, "'%s': %s", value, reason);
		cfg->exempt = xreallocarray(cfg->exempt, cfg->n_exempt + 1,
					    sizeof *cfg->exempt);
		cfg->exempt[cfg->n_exempt++] = p;
	} else if (strcmp(key, "grant-ttl-min") == 0) {
		return parse_uint(c, value, 1, 604800, &cfg->grant_ttl_min);
	} else if (strcmp(key, "grant-ttl-max") == 0) {
		return parse_uint(c, value, 1, 604800, &cfg->grant_ttl_max);
	} else if (strcmp(key, "set-size") == 0) {
		return parse_uint(c, value, 16, 16777216, &cfg->set_size);
	} else if (strcmp(key, "cache-size") == 0) {
		return parse_uint(c, value, 0, 10000000, &cfg->cache_size);
	} else if (strcmp(key, "upstream-mark") == 0) {
		return parse_uint(c, value, 1, 0xffffffffUL,
				  &cfg->upstream_mark);
	} else if (strcmp(key, "upstream-timeout") == 0) {
		return parse_uint(c, value, 100, 30000,
				  &cfg->upstream_timeout_ms);
	} else if (strcmp(key, "upstream-tries") == 0) {
		return parse_uint(c, value, 1, 10, &cfg->upstream_tries);
	} else if (strcmp(key, "app-grant-quota") == 0) {
		return parse_uint(c, value, 1, 33554432, &cfg->app_grant_quota);
	} else if (strcmp(key, "app-pending-quota") == 0) {
		return parse_uint(c, value, 1, 65535, &cfg->app_pending_quota);
	} else if (strcmp(key, "app-tcp-quota") == 0) {
		return parse_uint(c, value, 1, 256, &cfg->app_tcp_quota);
	} else if (strcmp(key, "user-grant-quota") == 0) {
		return parse_uint(c, value, 1, 33554432, &cfg->user_grant_quota);
	} else if (strcmp(key, "user-pending-quota") == 0) {
		return parse_uint(c, value, 1, 1000000, &cfg->user_pending_quota);
	} else if (strcmp(key, "user-tcp-quota") == 0) {
		return parse_uint(c, value, 1, 256, &cfg->user_tcp_quota);
	} else if (strcmp(key, "control-socket") == 0) {
		free(cfg->control_socket);
		cfg->control_socket =
			strcmp(value, "none") == 0 ? NULL : xstrdup(value);
	} else if (strcmp(key, "control-admin-group") == 0) {
		return parse_group(c, value, &cfg->control_admin_group,
				   &cfg->control_admin_gid);
	} else if (strcmp(key, "control-read-group") == 0) {
		return parse_group(c, value, &cfg->control_read_group,
				   &cfg->control_read_gid);
	} else if (strcmp(key, "public-suffix-list") == 0) {
		free(cfg->public_suffix_list);
		cfg->public_suffix_list =
		    strcmp(value, "none") == 0 ? NULL : xstrdup(value);
		cfg->public_suffix_list_set = true;
	} else if (strcmp(key, "upstream-deadline") == 0) {
		return parse_uint(c, value, 100, 30000,
				  &cfg->upstream_deadline_ms);
	} else if (strcmp(key, "max-stale") == 0) {
		return parse_uint(c, value, 0, 604800, &cfg->max_stale);
	} else if (strcmp(key, "history") == 0) {
		free(cfg->history);
		cfg->history =
		    strcmp(value, "off") == 0 ? NULL : xstrdup(value);
	} else if (strcmp(key, "geoip-country") == 0) {
		free(cfg->geoip_country);
		cfg->geoip_country =
		    strcmp(value, "off") == 0 ? NULL : xstrdup(value);
	} else if (strcmp(key, "geoip-asn") == 0) {
		free(cfg->geoip_asn);
		cfg->geoip_asn =
		    strcmp(value, "off") == 0 ? NULL : xstrdup(value);
	} else if (strcmp(key, "geoip-lookup-documentation") == 0) {
		return parse_bool(c, value, &cfg->geoip_lookup_documentation);
	} else if (strcmp(key, "history-days") == 0) {
		return parse_uint(c, value, 1, 3650, &cfg->history_days);
	} else if (strcmp(key, "history-max-records") == 0) {
		return parse_uint(c, value, 0, 2000000000,
				  &cfg->history_max_records);
	} else if (strcmp(key, "log-file") == 0) {
		free(cfg->log_file);
		cfg->log_file = xstrdup(value);
	} else if (strcmp(key, "log-queries") == 0) {
		return parse_bool(c, value, &cfg->log_queries);
	} else if (strcmp(key, "fail-mode") == 0) {
		return parse_fail_mode(c, value, &cfg->fail_mode);
	} else if (strcmp(key, "blocked-answer") == 0) {
		return parse_block_mode(c, value, &cfg->blocked_answer);
	} else if (strcmp(key, "doh-canary") == 0) {
		return parse_bool(c, value, &cfg->doh_canary);
	} else if (strcmp(key, "prompt-timeout") == 0) {
		/* Under the client's first retry (glibc: 5 s), or the app
		 * sees its question asked twice. */
		return parse_uint(c, value, 100, PROMPT_TIMEOUT_MAX_MS,
				  &cfg->prompt_timeout_ms);
	} else {
		return parse_error(c, key, "unknown setting '%s'", key);
	}
	return 0;
}

struct config *
config_parse(const char *text, const char *name, char *err, size_t errlen)
{
	struct config *cfg = config_new_default();
	struct cursor c = {name, 0, NULL, err, errlen};
	const char *p = text;

	cfg->path = xstrdup(name);
	cfg->app_grant_quota = 0; /* unless set: set-size / 8, once known */
	cfg->user_grant_quota = 0; /* unless set: set-size / 2 */
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char *line = xstrndup(p, len), *hash, *key, *value;
		int rc = 0;

		c.line++;
		c.start = line;
		if (len > 0 && line[len - 1] == '\r')
			line[len - 1] = '\0'; /* CRLF files */
		hash = strchr(line, '#');
		if (hash != NULL)
			*hash = '\0';
		split_line(line, &key, &value);
		if (*key != '\0')
			rc = apply_line(cfg, &c, key, value);
		free(line);
		if (rc < 0) {
			config_free(cfg);
			return NULL;
		}
		p += len;
		if (*p == '\n')
			p++;
	}
	if (cfg->grant_ttl_min > cfg->grant_ttl_max) {
		snprintf(err, errlen,
			 "%s: grant-ttl-min (%u) is above grant-ttl-max (%u)",
			 name, cfg->grant_ttl_min, cfg->grant_ttl_max);
		config_free(cfg);
		return NULL;
	}
	/* A subscription is read from its copy: list-cache may come after
	 * the list's line. */
	for (size_t i = 0; i < cfg->n_lists; i++) {
		if (cfg->lists[i].url == NULL)
			continue;
		free(cfg->lists[i].path);
		cfg->lists[i].path = list_cache_path(
		    cfg->list_cache, cfg->lists[i].name, "list");
	}
	if (cfg->app_grant_quota == 0)
		cfg->app_grant_quota = cfg->set_size / 8;
	if (cfg->user_grant_quota == 0)
		cfg->user_grant_quota = cfg->set_size / 2;
	return cfg;
}

/* A relative file name in the config is relative to the config's own
 * directory, so a config and its lists can move together. */
static void
make_relative_to(const char *config_path, char **value)
{
	const char *slash = strrchr(config_path, '/');
	size_t dirlen;
	char *joined;

	if ((*value)[0] == '/' || slash == NULL)
		return;
	dirlen = (size_t)(slash - config_path);
	joined = xmalloc(dirlen + 1 + strlen(*value) + 1);
	memcpy(joined, config_path, dirlen);
	joined[dirlen] = '/';
	strcpy(joined + dirlen + 1, *value);
	free(*value);
	*value = joined;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	struct config *cfg;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot open: %s", path,
			 strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			cap = cap * 2 + 4096;
			text = xrealloc(text, cap);
		}
		n = fread(text + len, 1, cap - len - 1, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error: %s", path,
			 strerror(errno));
		fclose(f);
		free(text);
		return NULL;
	}
	fclose(f);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		snprintf(err, errlen, "%s: contains a NUL byte: not a text file",
			 path);
		free(text);
		return NULL;
	}
	cfg = config_parse(text, path, err, errlen);
	free(text);
	if (cfg != NULL) {
		size_t i;

		for (i = 0; i < cfg->n_lists; i++)
			make_relative_to(path, &cfg->lists[i].path);
		for (i = 0; i < cfg->n_rules; i++)
			make_relative_to(path, &cfg->rules[i]);
		make_relative_to(path, &cfg->list_cache);
		if (cfg->ca_file != NULL)
			make_relative_to(path, &cfg->ca_file);
		if (cfg->log_file != NULL)
			make_relative_to(path, &cfg->log_file);
		if (cfg->control_socket != NULL)
			make_relative_to(path, &cfg->control_socket);
		if (cfg->history != NULL)
			make_relative_to(path, &cfg->history);
		if (cfg->public_suffix_list != NULL)
			make_relative_to(path, &cfg->public_suffix_list);
		if (cfg->geoip_country != NULL)
			make_relative_to(path, &cfg->geoip_country);
		if (cfg->geoip_asn != NULL)
			make_relative_to(path, &cfg->geoip_asn);
		make_relative_to(path, &cfg->resolv_conf);
	}
	return cfg;
}

void
config_print(const struct config *cfg, FILE *out)
{
	char buf[INET6_ADDRSTRLEN];
	size_t i;

	fprintf(out, "listen-port %u\n", cfg->listen_port);
	for (i = 0; i < cfg->n_upstreams; i++)
		fprintf(out, "upstream %s\n", cfg->upstreams[i]);
	fprintf(out, "resolv-conf %s\n", cfg->resolv_conf);
	for (i = 0; i < cfg->n_lists; i++) {
		const struct config_list *l = &cfg->lists[i];

		if (l->every_app)
			fprintf(out, "blocklist %s name=%s",
				l->url ? l->url : l->path, l->name);
		else
			fprintf(out, "list %s %s", l->name,
				l->url ? l->url : l->path);
		if (l->answer_set)
			fprintf(out, " answer=%s",
				message_block_mode_name(l->answer));
		if (l->url != NULL && l->refresh != 0)
			fprintf(out, " refresh=%u", l->refresh);
		if (l->url != NULL)
			fprintf(out, " max-size=%llu max-shrink=%u%%",
				(unsigned long long)l->max_size, l->max_shrink);
		fputc('\n', out);
	}
	fprintf(out, "list-cache %s\n", cfg->list_cache);
	fprintf(out, "ca-file %s\n", cfg->ca_file ? cfg->ca_file : "system");
	if (cfg->rules_set && cfg->n_rules == 0)
		fprintf(out, "rules none\n");
	for (i = 0; i < cfg->n_rules && cfg->rules_set; i++)
		fprintf(out, "rules %s\n", cfg->rules[i]);
	for (i = 0; i < cfg->n_exempt; i++) {
		fprintf(out, "exempt %s/%u\n",
			ip_addr_format(&cfg->exempt[i].addr, buf, sizeof buf),
			cfg->exempt[i].length);
	}
	fprintf(out, "grant-ttl-min %u\n", cfg->grant_ttl_min);
	fprintf(out, "grant-ttl-max %u\n", cfg->grant_ttl_max);
	fprintf(out, "set-size %u\n", cfg->set_size);
	fprintf(out, "cache-size %u\n", cfg->cache_size);
	fprintf(out, "upstream-mark 0x%x\n", cfg->upstream_mark);
	fprintf(out, "upstream-timeout %u\n", cfg->upstream_timeout_ms);
	fprintf(out, "upstream-tries %u\n", cfg->upstream_tries);
	fprintf(out, "app-grant-quota %u\n", cfg->app_grant_quota);
	fprintf(out, "app-pending-quota %u\n", cfg->app_pending_quota);
	fprintf(out, "app-tcp-quota %u\n", cfg->app_tcp_quota);
	fprintf(out, "user-grant-quota %u\n", cfg->user_grant_quota);
	fprintf(out, "user-pending-quota %u\n", cfg->user_pending_quota);
	fprintf(out, "user-tcp-quota %u\n", cfg->user_tcp_quota);
	fprintf(out, "control-socket %s\n",
		cfg->control_socket != NULL ? cfg->control_socket : "none");
	if (cfg->control_admin_group != NULL)
		fprintf(out, "control-admin-group %s\n",
			cfg->control_admin_group);
	if (cfg->control_read_group != NULL)
		fprintf(out, "control-read-group %s\n",
			cfg->control_read_group);
	fprintf(out, "public-suffix-list %s\n",
		cfg->public_suffix_list ? cfg->public_suffix_list : "none");
	fprintf(out, "upstream-deadline %u\n", cfg->upstream_deadline_ms);
	fprintf(out, "max-stale %u\n", cfg->max_stale);
	if (cfg->log_file != NULL)
		fprintf(out, "log-file %s\n", cfg->log_file);
	fprintf(out, "log-queries %s\n", cfg->log_queries ? "yes" : "no");
	fprintf(out, "fail-mode %s\n", config_fail_mode_name(cfg->fail_mode));
	fprintf(out, "blocked-answer %s\n",
		message_block_mode_name(cfg->blocked_answer));
	fprintf(out, "doh-canary %s\n", cfg->doh_canary ? "yes" : "no");
	fprintf(out, "prompt-timeout %u\n", cfg->prompt_timeout_ms);
	fprintf(out, "history %s\n", cfg->history ? cfg->history : "off");
	fprintf(out, "history-days %u\n", cfg->history_days);
	fprintf(out, "history-max-records %u\n", cfg->history_max_records);
	fprintf(out, "geoip-country %s\n",
	        cfg->geoip_country ? cfg->geoip_country : "off");
	fprintf(out, "geoip-asn %s\n", cfg->geoip_asn ? cfg->geoip_asn : "off");
	fprintf(out, "geoip-lookup-documentation %s\n",
	        cfg->geoip_lookup_documentation ? "yes" : "no");
}

static void
report_problem(config_problem_fn *report, void *arg, bool error,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
report_problem(config_problem_fn *report, void *arg, bool error,
	       const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	report(arg, error, text);
}

/* Opens and reads a byte, as the daemon will: a directory opens for
 * reading and fails only then. Returns 0, or -1 with errno. */
static int
check_readable(const char *path)
{
	char byte;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	int saved;

	if (fd < 0)
		return -1;
	if (read(fd, &byte, 1) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	close(fd);
	return 0;
}

static size_t
check_log_file(const char *path, config_problem_fn *report, void *arg)
{
	const char *slash = strrchr(path, '/'), *reason = NULL;
	char *dir;
	struct stat st;
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY |
				O_NONBLOCK);

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (errno != ENOENT) {
		report_problem(report, arg, true,
			       "log-file %s: cannot open it for appending: %s",
			       path, strerror(errno));
		return 1;
	}
	/* Not there: the daemon creates it, so its directory must take it. */
	if (slash == NULL)
		dir = xstrdup(".");
	else if (slash == path)
		dir = xstrdup("/");
	else
		dir = xstrndup(path, (size_t)(slash - path));
	if (stat(dir, &st) < 0)
		reason = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		reason = strerror(ENOTDIR);
	else if (access(dir, W_OK | X_OK) < 0)
		reason = strerror(errno);
	if (reason != NULL) {
		report_problem(report, arg, true,
			       "log-file %s: does not exist and cannot be "
			       "created: directory %s: %s",
			       path, dir, reason);
		free(dir);
		return 1;
	}
	free(dir);
	return 0;
}

size_t
config_check_files(const struct config *cfg, config_problem_fn *report,
		   void *arg)
{
	struct public_suffix *ps;
	size_t errors = 0, i;
	char err[512];

	for (i = 0; i < cfg->n_lists; i++) {
		if (cfg->lists[i].url != NULL) {
			if (check_readable(cfg->lists[i].path) < 0)
				report_problem(
				    report, arg, false,
				    "%s %s: no copy in %s yet (%s): dnsgated "
				    "would start without it and download it",
				    cfg->lists[i].every_app ? "blocklist"
							    : "list",
				    cfg->lists[i].url, cfg->list_cache,
				    strerror(errno));
			continue;
		}
		if (check_readable(cfg->lists[i].path) < 0) {
			report_problem(report, arg, true,
				       "%s %s: cannot read it: %s",
				       cfg->lists[i].every_app ? "blocklist"
							       : "list",
				       cfg->lists[i].path, strerror(errno));
			errors++;
		}
	}
	if (cfg->n_upstreams == 0 && check_readable(cfg->resolv_conf) < 0) {
		report_problem(report, arg, true,
			       "resolv-conf %s: cannot read it (and no "
			       "'upstream' is set): %s",
			       cfg->resolv_conf, strerror(errno));
		errors++;
	}
	if (cfg->public_suffix_list != NULL) {
		ps = public_suffix_load(cfg->public_suffix_list, err,
					sizeof err);
		if (ps == NULL && cfg->public_suffix_list_set) {
			report_problem(report, arg, true,
				       "public-suffix-list %s", err);
			errors++;
		} else if (ps == NULL) {
			report_problem(report, arg, false,
				       "public-suffix-list %s: dnsgated would "
				       "run without the public-suffix check "
				       "(install Debian's publicsuffix package, "
				       "or set 'public-suffix-list none')",
				       err);
		}
		public_suffix_free(ps);
	}
	if (cfg->log_file != NULL)
		errors += check_log_file(cfg->log_file, report, arg);
	if (cfg->ca_file != NULL && check_readable(cfg->ca_file) < 0) {
		report_problem(report, arg, true, "ca-file %s: cannot read it: %s",
			       cfg->ca_file, strerror(errno));
		errors++;
	}
	return errors;
}
