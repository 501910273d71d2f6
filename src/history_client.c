/* history_client.c - dnsgatectl log's request and its table. */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "geoip/geoip.h"
#include "src/history_client.h"
#include "src/json.h"
#include "src/when.h"
#include "src/xmalloc.h"

static const char *
option_value(int argc, char **argv, int *i, char *err, size_t errlen)
{
	if (*i + 1 >= argc) {
		snprintf(err, errlen, "log: %s needs a value", argv[*i]);
		return NULL;
	}
	return argv[++*i];
}

int
history_client_request(int argc, char **argv, int64_t now_ms,
                       struct history_client *hc, char *buf, size_t len,
                       char *err, size_t errlen)
{
	const char *app = NULL, *name = NULL, *v;
	int64_t since = 0, until = 0, limit = HISTORY_CLIENT_LIMIT;
	bool blocked = false, since_given = false;
	struct json_out j;
	char why[256];
	int i;

	memset(hc, 0, sizeof *hc);
	for (i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--json") == 0) {
			hc->json = true;
		} else if (strcmp(a, "--blocked") == 0) {
			blocked = true;
		} else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
			hc->follow = true;
		} else if (strcmp(a, "--since") == 0 ||
		           strcmp(a, "--until") == 0) {
			bool is_since = a[2] == 's';

			if ((v = option_value(argc, argv, &i, err, errlen)) ==
			    NULL)
				return -1;
			if (when_parse(v, now_ms, is_since ? &since : &until,
			               why, sizeof why) < 0) {
				snprintf(err, errlen, "log: %s: %s", a, why);
				return -1;
			}
			since_given |= is_since;
		} else if (strcmp(a, "--app") == 0) {
			if ((app = option_value(argc, argv, &i, err, errlen)) ==
			    NULL)
				return -1;
		} else if (strcmp(a, "--name") == 0) {
			if ((name = option_value(argc, argv, &i, err,
			                         errlen)) == NULL)
				return -1;
		} else if (strcmp(a, "--limit") == 0) {
			char *end;

			if ((v = option_value(argc, argv, &i, err, errlen)) ==
			    NULL)
				return -1;
			limit = strtoll(v, &end, 10);
			if (*v == '\0' || *end != '\0' || limit < 1 ||
			    limit > 10000) {
				snprintf(err, errlen,
				         "log: --limit '%s': a "
				         "number from 1 to 10000",
				         v);
				return -1;
			}
		} else {
			snprintf(err, errlen, "log: unknown option '%s'", a);
			return -1;
		}
	}
	if (hc->follow && (since_given || until != 0)) {
		snprintf(err, errlen, "log -f follows from now: --since and "
			 "--until are for the history (drop -f)");
		return -1;
	}
	if (since_given && until != 0 && until <= since) {
		snprintf(err, errlen, "log: --until is not after --since");
		return -1;
	}
	/* With --since, from then on; else the newest, shown in order. */
	hc->newest_first = !since_given;
	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, "log");
	if (since_given) {
		json_key(&j, "since_ms");
		json_int(&j, since < 0 ? 0 : since);
	}
	if (until != 0) {
		json_key(&j, "until_ms");
		json_int(&j, until < 0 ? 0 : until);
	}
	if (app != NULL) {
		/* "app:firefox" is a key; "firefox" is part of one. */
		json_key(&j, strchr(app, ':') != NULL ? "app" : "app_contains");
		json_string(&j, app);
	}
	if (name != NULL) {
		/* "=www.example.com" that name only; else it and below. */
		json_key(&j, name[0] == '=' ? "name" : "name_suffix");
		json_string(&j, name[0] == '=' ? name + 1 : name);
	}
	if (blocked) {
		json_key(&j, "blocked");
		json_bool(&j, true);
	}
	if (hc->follow) {
		json_key(&j, "follow");
		json_bool(&j, true);
		hc->app = app;
		hc->name = name;
		hc->blocked = blocked;
	}
	json_key(&j, "limit");
	json_int(&j, limit);
	json_key(&j, "order");
	json_string(&j, hc->newest_first ? "newest" : "oldest");
	json_object_end(&j);
	if (!json_out_ok(&j)) {
		snprintf(err, errlen, "log: the options are too long");
		return -1;
	}
	return 0;
}

struct span {
	const char *text;
	size_t len;
};

struct spans {
	struct span *v;
	size_t n;
};

static int
collect(void *arg, const char *object, size_t len)
{
	struct spans *s = arg;

	s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
	s->v[s->n].text = object;
	s->v[s->n].len = len;
	s->n++;
	return 0;
}

/* A string member, with control characters shown as '?': nothing an
 * app put in a name may steer the terminal. */
static const char *
member(const struct span *s, const char *key, char *buf, size_t len)
{
	char *p;

	if (json_flat_get_string(s->text, s->len, key, buf, len) == -1)
		buf[0] = '\0';
	for (p = buf; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return buf;
}

static void
print_record(FILE *out, const struct span *s);

/* Whether value (a record's app or name) is what --app or --name asked,
 * as the daemon's filter reads them. */
static bool
app_matches(const char *want, const char *app)
{
	return strchr(want, ':') != NULL ? strcmp(want, app) == 0
					 : strstr(app, want) != NULL;
}

static bool
name_matches(const char *want, const char *name)
{
	size_t n, w;

	if (want[0] == '=')
		return strcasecmp(want + 1, name) == 0;
	n = strlen(name);
	w = strlen(want);
	return n >= w && strcasecmp(name + n - w, want) == 0 &&
	       (n == w || name[n - w - 1] == '.');
}

bool
history_client_wants(const struct history_client *hc, const char *text,
		     size_t len)
{
	char app[1100] = "", name[300] = "", decision[32] = "", kind[16] = "";

	(void)json_flat_get_string(text, len, "app", app, sizeof app);
	(void)json_flat_get_string(text, len, "name", name, sizeof name);
	(void)json_flat_get_string(text, len, "decision", decision,
				   sizeof decision);
	(void)json_flat_get_string(text, len, "kind", kind, sizeof kind);
	if (hc->app != NULL && !app_matches(hc->app, app))
		return false;
	if (hc->name != NULL && !name_matches(hc->name, name))
		return false;
	/* As the history's filter: blocked names and rejected connections. */
	if (hc->blocked && strcmp(decision, "block") != 0 &&
	    strcmp(kind, "rejected") != 0)
		return false;
	return true;
}

void
history_client_print_header(FILE *out)
{
	fprintf(out, "%-19s  %-28s  %-30s  %-5s  %-8s  %-20s  %s\n", "TIME",
	        "APP", "NAME", "TYPE", "DECISION", "RULE/LIST", "ANSWER");
}

void
history_client_print_record(FILE *out, const char *text, size_t len)
{
	struct span s = {text, len};

	print_record(out, &s);
}

/* The answer's addresses with their places, as the query log shows them:
 * "198.51.100.7[NL,AS64500],2001:db8::5[JP,AS64502]". */
static void
with_places(const char *answer, const char *geo, char *out, size_t len)
{
	char addr[64], tag[GEOIP_TAG_MAX];
	const char *at = answer, *end;
	size_t used = 0;
	int n;

	out[0] = '\0';
	while (*at && used + 1 < len) {
		end = strchr(at, ',');
		snprintf(addr, sizeof addr, "%.*s",
		         (int)(end != NULL ? (size_t)(end - at) : strlen(at)),
		         at);
		geoip_entry_tag(geo, addr, tag, sizeof tag);
		n = snprintf(out + used, len - used,
		             tag[0] ? "%s%s[%s]" : "%s%s%s", used ? "," : "",
		             addr, tag);
		if (n < 0)
			break;
		used += (size_t)n;
		if (end == NULL)
			break;
		at = end + 1;
	}
}

static void
print_record(FILE *out, const struct span *s)
{
	char app[256], name[256], type[16], decision[16], rule[256], list[128],
	    answer[512], kind[16], dest[96], proto[16], when[32], geo[2048],
	    shown[1024], tag[GEOIP_TAG_MAX];
	int64_t ms = 0, port = 0, packets = 0;
	struct tm tm;
	time_t t;

	json_flat_get_int(s->text, s->len, "time_ms", &ms);
	t = (time_t)(ms / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(when, sizeof when, "?");
	member(s, "kind", kind, sizeof kind);
	member(s, "app", app, sizeof app);
	if (strcmp(kind, "rejected") == 0) {
		char where[128];

		json_flat_get_int(s->text, s->len, "port", &port);
		json_flat_get_int(s->text, s->len, "packets", &packets);
		member(s, "dest", dest, sizeof dest);
		member(s, "protocol", proto, sizeof proto);
		member(s, "geo", geo, sizeof geo);
		geoip_entry_tag(geo, dest, tag, sizeof tag);
		if (tag[0]) { /* "198.51.100.7[NL,AS64500]" */
			size_t n = strlen(dest);

			snprintf(dest + n, sizeof dest - n, "[%s]", tag);
		}
		if (port != 0)
			snprintf(where, sizeof where, "%s port %" PRId64 "/%s",
			         dest, port, proto);
		else
			snprintf(where, sizeof where, "%s %s", dest, proto);
		fprintf(out,
		        "%-19s  %-28s  %-30s  %-5s  %-8s  %-20s  %" PRId64
		        " packets\n",
		        when, app, where, "-", "rejected", "(the gate)",
		        packets);
		return;
	}
	member(s, "name", name, sizeof name);
	member(s, "type", type, sizeof type);
	member(s, "decision", decision, sizeof decision);
	member(s, "rule", rule, sizeof rule);
	member(s, "list", list, sizeof list);
	member(s, "answer", answer, sizeof answer);
	member(s, "geo", geo, sizeof geo);
	with_places(answer, geo, shown, sizeof shown);
	if (list[0] != '\0') {
		size_t n = strlen(rule);

		snprintf(rule + n, sizeof rule - n, "%slist=%s",
		         n > 0 ? " " : "", list);
	}
	fprintf(out, "%-19s  %-28s  %-30s  %-5s  %-8s  %-20s  %s\n", when, app,
	        name, type, decision, rule[0] ? rule : "-",
	        shown[0] ? shown : "-");
}

static void
print_timed_out(FILE *out)
{
	fprintf(out, "(the query ran out of its time in dnsgated, so more "
	             "records may match: narrow it with --since/--until, or "
	             "give --app a whole app key, with its ':')\n");
}

int
history_client_print(const struct history_client *hc, FILE *out,
                     const char *reply)
{
	struct spans s = {NULL, 0};
	bool more = false, timed_out;
	size_t i;

	if (json_each_object(reply, strlen(reply), "records", collect, &s) <
	    0) {
		free(s.v);
		return -1;
	}
	/* The reply's flags are at its top level, after the array. */
	timed_out = strstr(reply, "],\"truncated\":true,\"timed_out\":true") !=
	            NULL;
	if (s.n == 0) {
		fprintf(out, timed_out ? "no records found before the query ran "
		                         "out of time\n"
		                       : "no records match\n");
		free(s.v);
		if (timed_out)
			print_timed_out(out);
		return 0;
	}
	history_client_print_header(out);
	for (i = 0; i < s.n; i++)
		print_record(out, &s.v[hc->newest_first ? s.n - 1 - i : i]);
	free(s.v);
	/* The reply's flag is at its top level, after the array. */
	{
		const char *t = strstr(reply, "],\"truncated\":true");

		more = t != NULL;
	}
	if (timed_out)
		print_timed_out(out);
	else if (more)
		fprintf(out, "(more records match: narrow it with "
		             "--since/--until, or raise --limit)\n");
	return 0;
}
