/* rules_file.c - rules files, read line by line into a rule book. */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lists/matcher.h"
#include "src/app_identity.h"
#include "src/rules_file.h"
#include "src/xmalloc.h"

/* The most a rules file may be: far more than a million rules. */
#define RULES_FILE_MAX_BYTES (256u << 20)

struct cursor {
	const char *name;
	unsigned line;
	const char *start; /* the line's first byte */
	char *err;
	size_t errlen;
};

static int
fail(const struct cursor *c, const char *at, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	snprintf(c->err, c->errlen, "%s:%u:%ld: %s", c->name, c->line,
		 (long)(at - c->start) + 1, what);
	return -1;
}

/* --- the bytes of a line ------------------------------------------------ */

/* The length of the UTF-8 sequence at p (at most n bytes), or 0 when it
 * is not one (overlong forms, surrogates and code points past U+10FFFF
 * included). */
static size_t
utf8_length(const unsigned char *p, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return len;
}

/* Refuses what no rule may hold: NUL, other control bytes but tab (a
 * carriage return only before the newline), and bytes that are not
 * UTF-8. */
static int
check_bytes(const struct cursor *c, const char *line, size_t len)
{
	size_t i = 0, n;

	while (i < len) {
		unsigned char b = (unsigned char)line[i];

		if (b == '\0')
			return fail(c, line + i, "a NUL byte: a rules file is "
				    "text");
		if (b == '\r' && i + 1 == len)
			break;
		if ((b < 0x20 && b != '\t') || b == 0x7f)
			return fail(c, line + i,
				    "control character 0x%02x: a rules file is "
				    "text",
				    b);
		n = utf8_length((const unsigned char *)line + i, len - i);
		if (n == 0)
			return fail(c, line + i,
				    "byte 0x%02x is not UTF-8: write the file "
				    "in UTF-8",
				    b);
		i += n;
	}
	return 0;
}

/* --- fields ----------------------------------------------------------- */

struct field {
	const char *at;  /* in the line, for messages */
	char key[16];    /* "" for a word without '=' */
	char *value;     /* unquoted; the word itself when key is "" */
	const char *value_at;
};

#define MAX_FIELDS 8

/* Splits the line (NUL-terminated, in buf which it changes) into
 * fields. Returns their number, or -1. */
static int
split_fields(const struct cursor *c, char *buf, const char *orig,
	     struct field *f, int max)
{
	char *p = buf, *w;
	int n = 0;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#' ||
		    (*p == '\r' && p[1] == '\0'))
			return n;
		if (n == max)
			return fail(c, orig + (p - buf),
				    "too many fields: a rule is ACTION [APP] "
				    "DESTINATION [until=TIME or for=DURATION]");
		f[n].at = orig + (p - buf);
		f[n].key[0] = '\0';
		w = p;
		while (*p != '\0' && *p != ' ' && *p != '\t' && *p != '=' &&
		       *p != '"' && *p != '#' && *p != '\r')
			p++;
		if (*p == '=') {
			size_t klen = (size_t)(p - w);

			if (klen == 0)
				return fail(c, f[n].at, "a field name is missing "
					    "before '='");
			if (klen >= sizeof f[n].key)
				return fail(c, f[n].at, "unknown field '%.*s'",
					    (int)(klen > 40 ? 40 : klen), w);
			memcpy(f[n].key, w, klen);
			f[n].key[klen] = '\0';
			p++;
			f[n].value_at = orig + (p - buf);
			if (*p == '"') {
				char *out = p;

				p++;
				f[n].value = out;
				for (;;) {
					if (*p == '\0' ||
					    (*p == '\r' && p[1] == '\0'))
						return fail(c, f[n].value_at,
							    "a quoted value "
							    "has no closing "
							    "'\"'");
					if (*p == '"')
						break;
					if (*p == '\\') {
						if (p[1] != '"' && p[1] != '\\')
							return fail(
							    c, orig + (p - buf),
							    "in quotes only "
							    "\\\" and \\\\ are "
							    "escapes");
						p++;
					}
					*out++ = *p++;
				}
				p++;
				*out = '\0';
				if (*p != '\0' && *p != ' ' && *p != '\t' &&
				    *p != '\r')
					return fail(c, orig + (p - buf),
						    "a blank must follow the "
						    "closing '\"'");
				if (*p != '\0')
					*p++ = '\0';
				n++;
				continue;
			}
			f[n].value = p;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			       *p != '"' && !(*p == '\r' && p[1] == '\0'))
				p++;
			if (*p == '"')
				return fail(c, orig + (p - buf),
					    "a '\"' inside a value: quote the "
					    "whole value (key=\"...\")");
		} else {
			if (*p == '"')
				return fail(c, orig + (p - buf),
					    "a quote outside a value: write "
					    "key=\"...\"");
			f[n].value = w;
			f[n].value_at = f[n].at;
			while (*p != '\0' && *p != ' ' && *p != '\t' &&
			       !(*p == '\r' && p[1] == '\0'))
				p++;
		}
		if (*p != '\0')
			*p++ = '\0';
		n++;
	}
}

/* --- values ------------------------------------------------------------ */

/* Where in the line the byte p of f's value was written: in a quoted
 * value after the quote, and after each escape's backslash. */
static const char *
written_at(const struct field *f, const char *p)
{
	const char *at = f->value_at;
	size_t i, n = (size_t)(p - f->value);

	if (*at != '"')
		return at + n;
	for (at++, i = 0; i < n; i++, at++)
		if (*at == '\\')
			at++;
	return at;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Printable, no blank (a value in quotes may hold blanks). */
static int
check_text(const struct cursor *c, const struct field *f, size_t max,
	   bool blanks)
{
	const char *p;

	if (f->value[0] == '\0')
		return fail(c, f->value_at, "%s= needs a value", f->key);
	if (strlen(f->value) >= max)
		return fail(c, f->value_at, "%s= is longer than %zu bytes",
			    f->key, max - 1);
	for (p = f->value; *p != '\0'; p++)
		if (!blanks && (*p == ' ' || *p == '\t'))
			return fail(c, f->value_at, "%s= holds a blank",
				    f->key);
	return 0;
}

static int
parse_uid(const struct cursor *c, const struct field *f, uint32_t *uid)
{
	char buf[1024];
	struct passwd pw, *found = NULL;
	const char *p;
	unsigned long long v = 0;

	for (p = f->value; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned)(*p - '0');
		if (v > 4294967294ULL)
			return fail(c, f->value_at, "uid %s is too large",
				    f->value);
	}
	if (*p == '\0' && p != f->value) {
		*uid = (uint32_t)v;
		return 0;
	}
	/* A user with many groups or a long entry needs a bigger buffer
	 * (ERANGE): up to 1 MiB. */
	{
		size_t cap = sizeof buf;
		char *big = NULL, *at = buf;
		int rc;

		while ((rc = getpwnam_r(f->value, &pw, at, cap, &found)) ==
			   ERANGE &&
		       cap < (1u << 20)) {
			cap *= 2;
			free(big);
			at = big = xmalloc(cap);
		}
		if (rc == 0 && found != NULL)
			*uid = (uint32_t)found->pw_uid;
		free(big);
		if (rc != 0 || found == NULL)
			return fail(c, f->value_at,
				    "uid=%s: %s (give a number, or a user "
				    "name this system knows)",
				    f->value,
				    rc != 0 ? strerror(rc) : "no such user");
	}
	return 0;
}

static bool
has_glob(const char *s)
{
	return strpbrk(s, "*?[") != NULL;
}

static int
parse_path(const struct cursor *c, const struct field *f, size_t max)
{
	const char *p;

	if (check_text(c, f, max, true) < 0)
		return -1;
	if (f->value[0] != '/')
		return fail(c, f->value_at, "%s= needs an absolute path "
			    "(starting with '/')", f->key);
	for (p = f->value; *p != '\0'; p++) {
		if (p[0] == '/' && p[1] == '/')
			return fail(c, written_at(f, p),
				    "'//' in a path: write it once");
		if (p[0] == '/' && p[1] == '.' &&
		    (p[2] == '/' || p[2] == '\0' ||
		     (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
			return fail(c, written_at(f, p),
				    "'.' or '..' in a path: write the path "
				    "itself");
	}
	return 0;
}

/* The app field of a rule. */
static int
parse_app(const struct cursor *c, const struct field *f, struct rule *r)
{
	const char *k = f->key;

	if (strcmp(k, "app") == 0) {
		if (check_text(c, f, APP_IDENTITY_KEY_MAX, false) < 0)
			return -1;
		r->app = strcmp(f->value, "*") == 0 ? RULE_APP_ANY
						    : RULE_APP_KEY;
	} else if (strcmp(k, "app-id") == 0 || strcmp(k, "flatpak") == 0) {
		if (check_text(c, f, APP_IDENTITY_NAME_MAX, false) < 0)
			return -1;
		if (strchr(f->value, '/') != NULL)
			return fail(c, f->value_at, "an application id has no "
				    "'/' (org.example.App)");
		r->app = k[0] == 'f' ? RULE_APP_FLATPAK : RULE_APP_ID;
	} else if (strcmp(k, "snap") == 0) {
		const char *p;

		if (check_text(c, f, APP_IDENTITY_NAME_MAX, false) < 0)
			return -1;
		for (p = f->value; *p != '\0'; p++)
			if (!islower((unsigned char)*p) &&
			    !isdigit((unsigned char)*p) && *p != '-' &&
			    *p != '.')
				return fail(c, written_at(f, p),
					    "a snap is named in lower-case "
					    "letters, digits and '-' "
					    "(snap=NAME or snap=NAME.APP)");
		r->app = RULE_APP_SNAP;
	} else if (strcmp(k, "unit") == 0 || strcmp(k, "user-unit") == 0) {
		if (check_text(c, f, APP_IDENTITY_NAME_MAX, false) < 0)
			return -1;
		if (strchr(f->value, '/') != NULL || strchr(f->value, '.') ==
							   NULL)
			return fail(c, f->value_at,
				    "%s= names a unit with its type "
				    "(backup.service, getty@.service, "
				    "session-2.scope)",
				    k);
		r->app = k[0] == 'u' && k[1] == 's' ? RULE_APP_USER_UNIT
						    : RULE_APP_UNIT;
	} else if (strcmp(k, "cgroup") == 0) {
		size_t n;

		if (parse_path(c, f, APP_IDENTITY_CGROUP_MAX) < 0)
			return -1;
		n = strlen(f->value);
		while (n > 1 && f->value[n - 1] == '/')
			f->value[--n] = '\0';
		r->app = RULE_APP_CGROUP;
	} else if (strcmp(k, "exe") == 0) {
		if (parse_path(c, f, PATH_MAX) < 0)
			return -1;
		r->app = has_glob(f->value) ? RULE_APP_EXE_GLOB : RULE_APP_EXE;
	} else if (strcmp(k, "uid") == 0) {
		if (check_text(c, f, 256, false) < 0 ||
		    parse_uid(c, f, &r->uid) < 0)
			return -1;
		r->app = RULE_APP_UID;
	} else {
		return 1; /* not an app field */
	}
	if (r->app != RULE_APP_ANY)
		r->app_value = f->value;
	return 0;
}

static int
parse_name(const struct cursor *c, struct field *f)
{
	const char *reason = NULL;
	size_t n;

	if (check_text(c, f, 256, false) < 0)
		return -1;
	lower(f->value);
	n = strlen(f->value);
	if (n > 1 && f->value[n - 1] == '.')
		f->value[n - 1] = '\0';
	if (matcher_check(f->value, &reason) < 0)
		return fail(c, f->value_at, "%s=%s: %s", f->key, f->value,
			    reason);
	return 0;
}

/* country=CN,RU or continent=EU: codes of two letters, upper-cased,
 * joined by ','; a continent one of the seven MaxMind's databases
 * name. */
static int
parse_places(const struct cursor *c, struct field *f, bool continent)
{
	static const char continents[] = "AF AN AS EU NA OC SA";
	char *p = f->value;

	if (check_text(c, f, 256, false) < 0)
		return -1;
	for (;;) {
		if (!isalpha((unsigned char)p[0]) ||
		    !isalpha((unsigned char)p[1]) ||
		    (p[2] != '\0' && p[2] != ','))
			return fail(c, f->value_at + (p - f->value),
				    continent
					? "continent= takes codes of two "
					  "letters (%s), by commas: "
					  "continent=EU,AS"
					  : "country= takes ISO 3166-1 codes "
					    "of two letters, by commas: "
					    "country=CN,RU%s",
				    continent ? continents : "");
		p[0] = (char)toupper((unsigned char)p[0]);
		p[1] = (char)toupper((unsigned char)p[1]);
		if (continent) {
			char code[3] = {p[0], p[1], '\0'};

			if (strstr(continents, code) == NULL)
				return fail(c, f->value_at + (p - f->value),
					    "continent=%s: no such continent "
					    "(%s)",
					    code, continents);
		}
		if (p[2] == '\0')
			return 0;
		p += 3;
	}
}

/* asn=64500 or asn=AS64500: 1 to 4294967295. */
static int
parse_asn(const struct cursor *c, const struct field *f, uint32_t *asn)
{
	const char *p = f->value;
	uint64_t v = 0;

	if (check_text(c, f, 32, false) < 0)
		return -1;
	if ((p[0] == 'A' || p[0] == 'a') && (p[1] == 'S' || p[1] == 's'))
		p += 2;
	if (*p == '\0')
		goto bad;
	for (; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return fail(c, f->value_at,
				    "asn=%s: an AS number is at most "
				    "4294967295",
				    f->value);
	}
	if (v == 0)
		return fail(c, f->value_at,
			    "asn=%s: AS 0 is reserved, no network has it",
			    f->value);
	*asn = (uint32_t)v;
	return 0;
bad:
	return fail(c, f->value_at,
		    "asn= takes an AS number: asn=64500 or asn=AS64500");
}

static int
parse_wildcard(const struct cursor *c, struct field *f)
{
	const char *p;

	if (check_text(c, f, 254, false) < 0)
		return -1;
	lower(f->value);
	for (p = f->value; *p != '\0'; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.*?", *p))
			return fail(c, written_at(f, p),
				    "a wildcard holds letters, digits, '-', "
				    "'_', '.', '*' and '?' only");
	if (strpbrk(f->value, "*?") == NULL)
		return fail(c, f->value_at, "wildcard=%s has no '*' or '?': "
			    "use name= or domain=", f->value);
	return 0;
}

/* The destination field of a rule: 0, 1 when f is none, -1. */
static int
parse_dest(const struct cursor *c, const struct rules_file_ctx *ctx,
	   struct field *f, struct rule *r)
{
	const char *k = f->key;

	if (strcmp(k, "name") == 0) {
		if (strcmp(f->value, "*") == 0) {
			r->dest = RULE_DEST_ANY;
			return 0;
		}
		if (parse_name(c, f) < 0)
			return -1;
		r->dest = RULE_DEST_NAME;
	} else if (strcmp(k, "domain") == 0) {
		if (parse_name(c, f) < 0)
			return -1;
		r->dest = RULE_DEST_DOMAIN;
	} else if (strcmp(k, "wildcard") == 0) {
		if (parse_wildcard(c, f) < 0)
			return -1;
		r->dest = RULE_DEST_WILDCARD;
	} else if (strcmp(k, "list") == 0) {
		long i;

		if (check_text(c, f, 256, false) < 0)
			return -1;
		i = ctx->find_list != NULL ? ctx->find_list(ctx->arg, f->value)
					   : -1;
		if (i < 0)
			return fail(c, f->value_at,
				    "no list is named '%s' (name it in "
				    "dnsgate.conf: 'list NAME PATH', or "
				    "'blocklist PATH' for one every app gets)",
				    f->value);
		r->dest = RULE_DEST_LIST;
		r->list = (size_t)i;
	} else if (strcmp(k, "net") == 0) {
		const char *reason;

		if (check_text(c, f, 64, false) < 0)
			return -1;
		if (ip_prefix_parse(f->value, &r->net, &reason) < 0)
			return fail(c, f->value_at, "net=%s: %s", f->value,
				    reason);
		r->dest = RULE_DEST_NET;
		return 0;
	} else if (strcmp(k, "country") == 0 || strcmp(k, "continent") == 0) {
		bool continent = strcmp(k, "continent") == 0;

		if (parse_places(c, f, continent) < 0)
			return -1;
		r->dest = continent ? RULE_DEST_CONTINENT : RULE_DEST_COUNTRY;
	} else if (strcmp(k, "asn") == 0) {
		if (parse_asn(c, f, &r->asn) < 0)
			return -1;
		r->dest = RULE_DEST_ASN;
		return 0;
	} else {
		return 1;
	}
	r->dest_value = f->value;
	return 0;
}

static int
parse_action(const struct cursor *c, const struct field *f,
	     enum rule_action *a)
{
	if (f->key[0] == '\0') {
		if (strcmp(f->value, "allow") == 0)
			*a = RULE_ALLOW;
		else if (strcmp(f->value, "block") == 0)
			*a = RULE_BLOCK;
		else if (strcmp(f->value, "ask") == 0)
			*a = RULE_ASK;
		else
			goto bad;
		return 0;
	}
bad:
	return fail(c, f->at,
		    "expected allow, block, ask or default at the start of a "
		    "rule");
}

static bool
is_app_key(const char *k)
{
	static const char *const keys[] = {"app",    "app-id",    "flatpak",
					   "snap",   "unit",      "user-unit",
					   "cgroup", "exe",       "uid"};
	size_t i;

	for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(k, keys[i]) == 0)
			return true;
	return false;
}

static bool
is_dest_key(const char *k)
{
	return strcmp(k, "name") == 0 || strcmp(k, "domain") == 0 ||
	       strcmp(k, "wildcard") == 0 || strcmp(k, "list") == 0 ||
	       strcmp(k, "net") == 0 || strcmp(k, "country") == 0 ||
	       strcmp(k, "continent") == 0 || strcmp(k, "asn") == 0;
}

static const char *
app_fields(void)
{
	return "app=, app-id=, flatpak=, snap=, unit=, user-unit=, cgroup=, "
	       "exe=, uid=";
}

static const char *
dest_fields(void)
{
	return "name=, domain=, wildcard=, list=, net=, country=, "
	       "continent=, asn=";
}

/* One line with at least one field: fills r. */
static int
parse_rule(const struct cursor *c, const struct rules_file_ctx *ctx,
	   struct field *f, int n, struct rule *r)
{
	const struct field *app = NULL, *dest = NULL, *expiry = NULL;
	int i = 0;

	memset(r, 0, sizeof *r);
	if (f[0].key[0] == '\0' && strcmp(f[0].value, "default") == 0) {
		r->is_default = true;
		if (n < 2)
			return fail(c, f[0].at + 7,
				    "default needs allow, block or ask");
		i = 1;
	}
	if (parse_action(c, &f[i], &r->action) < 0)
		return -1;
	for (i++; i < n; i++) {
		if (f[i].key[0] == '\0') {
			if (strcmp(f[i].value, "any") == 0 && app == NULL) {
				app = &f[i];
				continue;
			}
			return fail(c, f[i].at,
				    "'%.40s' is not a field: expected KEY=VALUE "
				    "(%s; %s; until=, for=)",
				    f[i].value, app_fields(), dest_fields());
		}
		if (strcmp(f[i].key, "until") == 0 ||
		    strcmp(f[i].key, "for") == 0) {
			int64_t t;
			const char *reason;

			if (expiry != NULL)
				return fail(c, f[i].at, "a rule has one of "
					    "until= and for=, once");
			expiry = &f[i];
			if (f[i].key[0] == 'u') {
				if (rules_parse_time(f[i].value, &t, &reason) <
				    0)
					return fail(c, f[i].value_at,
						    "until=%.40s: %s",
						    f[i].value, reason);
				r->until = t;
			} else {
				if (rules_parse_duration(f[i].value, &t,
							 &reason) < 0)
					return fail(c, f[i].value_at,
						    "for=%.40s: %s",
						    f[i].value, reason);
				r->until = (int64_t)ctx->mtime + t;
			}
			continue;
		}
		if (is_app_key(f[i].key)) {
			if (app != NULL)
				return fail(c, f[i].at,
					    "a rule names one app (%s already "
					    "does); write one rule for each",
					    app->key[0] ? app->key : "any");
			if (parse_app(c, &f[i], r) < 0)
				return -1;
			app = &f[i];
			continue;
		}
		if (is_dest_key(f[i].key)) {
			if (r->is_default)
				return fail(c, f[i].at,
					    "a default names no destination: "
					    "'default block [APP]' is what the "
					    "app gets when no rule names the "
					    "name");
			if (dest != NULL)
				return fail(c, f[i].at,
					    "a rule names one destination (%s= "
					    "already does); write one rule for "
					    "each",
					    dest->key);
			if (parse_dest(c, ctx, &f[i], r) < 0)
				return -1;
			dest = &f[i];
			continue;
		}
		return fail(c, f[i].at,
			    "unknown field '%s=': expected one of %s; %s; "
			    "until=, for=",
			    f[i].key, app_fields(), dest_fields());
	}
	if (!r->is_default && dest == NULL)
		return fail(c, f[n - 1].at,
			    "a rule needs a destination: %s (name=* for "
			    "every name)",
			    dest_fields());
	if (rule_dest_is_place(r->dest) && r->action == RULE_ASK)
		return fail(c, f[0].at,
			    "ask cannot name a place (%s=): the place is "
			    "known only once the answer is in, for each of "
			    "its addresses, and there is no prompt for "
			    "those; write block or allow",
			    dest->key);
	if (r->dest == RULE_DEST_NET) {
		if (r->action != RULE_ALLOW)
			return fail(c, dest->at,
				    "net= can only be allowed: the gate already "
				    "rejects every address an app was not "
				    "granted; to keep an app from a site, block "
				    "its names");
		if (r->app == RULE_APP_EXE || r->app == RULE_APP_EXE_GLOB ||
		    (r->app == RULE_APP_KEY && strstr(r->app_value, ":/")))
			return fail(c, app->at,
				    "net= grants to a cgroup before any program "
				    "in it connects, so its exe is not known: "
				    "name the app by app=, app-id=, flatpak=, "
				    "snap=, unit=, user-unit=, cgroup= or "
				    "uid=");
	}
	return 0;
}

/* --- ids --------------------------------------------------------------- */

/* The rule's id from its text (rule.h): each field as KEY=VALUE or
 * WORD, and a newline. */
static uint32_t
written_id(const struct field *f, int n, const char *name)
{
	char text[RULES_FILE_LINE_MAX + 2 * MAX_FIELDS + 2];
	size_t used = 0, k, v;
	int i;

	for (i = 0; i < n; i++) {
		k = strlen(f[i].key);
		v = strlen(f[i].value);
		if (used + k + v + 2 > sizeof text)
			break; /* cannot happen: the fields are the line's */
		memcpy(text + used, f[i].key, k);
		used += k;
		if (k > 0)
			text[used++] = '=';
		memcpy(text + used, f[i].value, v);
		used += v;
		text[used++] = '\n';
	}
	return rule_id_of(name, text, used, 0);
}

/* Equal rules of one file have equal ids: the second and later of them
 * get the id of their occurrence (rule.h), in the file's order. One pass
 * over an open-addressing table of the ids seen (a file of a million
 * rules is read in the reloader's thread: no sort). */
static void
number_repeats(struct rule_book *book, size_t from, const char *name)
{
	struct seen {
		uint32_t id; /* 0: empty (no rule has id 0) */
		uint32_t count;
	} *t;
	size_t n = book->n - from, size = 16, i, j;

	if (n < 2)
		return;
	while (size < 2 * n)
		size *= 2;
	t = xcalloc(size, sizeof *t);
	for (i = from; i < book->n; i++) {
		uint32_t id = book->rules[i].id;
		char first[16];

		for (j = id & (size - 1); t[j].id != 0 && t[j].id != id;
		     j = (j + 1) & (size - 1))
			;
		if (t[j].id == 0) {
			t[j].id = id;
			continue;
		}
		/* Mixed from the first's id: the text is gone by now. */
		snprintf(first, sizeof first, "%08x", (unsigned)id);
		book->rules[i].id = rule_id_of(name, first, 8, ++t[j].count);
	}
	free(t);
}

/* --- files ------------------------------------------------------------- */

/* Takes back what was added to book since it held n rules and n_files
 * file names: a file is taken whole or not at all. */
static void
book_restore(struct rule_book *book, size_t n, size_t n_files)
{
	while (book->n > n) {
		book->n--;
		free(book->rules[book->n].app_value);
		free(book->rules[book->n].dest_value);
	}
	while (book->n_files > n_files)
		free(book->files[--book->n_files]);
}

long
rules_file_parse(struct rule_book *book, const char *text, size_t len,
		 const char *name, const struct rules_file_ctx *ctx,
		 char *err, size_t errlen)
{
	struct cursor c = {name, 0, text, err, errlen};
	size_t before = book->n, files_before = book->n_files, pos = 0;
	char *buf = xmalloc(RULES_FILE_LINE_MAX + 2); /* a CR, a NUL */
	struct field f[MAX_FIELDS];
	struct rule r;
	int n;

	while (pos < len) {
		const char *line = text + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t ll = nl ? (size_t)(nl - line) : len - pos;

		c.line++;
		c.start = line;
		pos += ll + (nl != NULL);
		/* A CRLF line's CR ends it: it does not count. */
		if (ll - (ll > 0 && line[ll - 1] == '\r') >
		    RULES_FILE_LINE_MAX) {
			fail(&c, line + RULES_FILE_LINE_MAX,
			     "the line is longer than %d bytes",
			     RULES_FILE_LINE_MAX);
			goto error;
		}
		if (check_bytes(&c, line, ll) < 0)
			goto error;
		memcpy(buf, line, ll);
		buf[ll] = '\0';
		n = split_fields(&c, buf, line, f, MAX_FIELDS);
		if (n < 0)
			goto error;
		if (n == 0)
			continue;
		if (parse_rule(&c, ctx, f, n, &r) < 0)
			goto error;
		if (book->n - before >= RULES_FILE_MAX_RULES) {
			fail(&c, line, "more than %d rules in one file",
			     RULES_FILE_MAX_RULES);
			goto error;
		}
		r.id = written_id(f, n, name);
		rule_book_add(book, &r, name)->line = c.line;
	}
	free(buf);
	number_repeats(book, before, name);
	return (long)(book->n - before);
error:
	free(buf);
	book_restore(book, before, files_before);
	return -1;
}

static long
load_file(struct rule_book *book, const char *path,
	  const struct rules_file_ctx *ctx, char *err, size_t errlen)
{
	struct rules_file_ctx fctx = *ctx;
	struct stat st;
	char *text;
	size_t got = 0;
	ssize_t r;
	long n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	if ((uint64_t)st.st_size > RULES_FILE_MAX_BYTES) {
		snprintf(err, errlen, "%s: %lld bytes, over the %u MiB a rules "
			 "file may have", path, (long long)st.st_size,
			 RULES_FILE_MAX_BYTES >> 20);
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		r = read(fd, text + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got < (size_t)st.st_size) {
		snprintf(err, errlen, "%s: read %zu of %lld bytes", path, got,
			 (long long)st.st_size);
		free(text);
		return -1;
	}
	fctx.mtime = st.st_mtime;
	n = rules_file_parse(book, text, got, path, &fctx, err, errlen);
	free(text);
	return n;
}

static int
compare_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_rules_name(const char *name)
{
	size_t n = strlen(name);

	return name[0] != '.' && n > 6 && strcmp(name + n - 6, ".rules") == 0;
}

long
rules_file_load(struct rule_book *book, const char *path,
		const struct rules_file_ctx *ctx, char *err, size_t errlen)
{
	size_t before = book->n, files_before = book->n_files, n_names = 0, i;
	char **names = NULL, full[PATH_MAX];
	struct dirent *de;
	struct stat st;
	long total = 0, n;
	DIR *d;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return load_file(book, path, ctx, err, errlen);
	d = opendir(path);
	if (d == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_rules_name(de->d_name))
			continue;
		names = xreallocarray(names, n_names + 1, sizeof *names);
		names[n_names++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n_names > 1)
		qsort(names, n_names, sizeof *names, compare_names);
	for (i = 0; i < n_names; i++) {
		if (total >= 0) {
			snprintf(full, sizeof full, "%s/%s", path, names[i]);
			n = load_file(book, full, ctx, err, errlen);
			total = n < 0 ? -1 : total + n;
		}
		free(names[i]);
	}
	free(names);
	if (total < 0)
		book_restore(book, before, files_before);
	return total;
}

/* --- times ------------------------------------------------------------- */

int
rules_parse_duration(const char *text, int64_t *seconds, const char **reason)
{
	const char *p = text;
	int64_t total = 0;

	if (*p == '\0') {
		*reason = "a duration is a number and a unit: 90s, 30m, 2h, 1d";
		return -1;
	}
	while (*p != '\0') {
		int64_t v = 0, unit;

		if (!isdigit((unsigned char)*p)) {
			*reason = "expected a number (90s, 30m, 2h, 1d, 1h30m)";
			return -1;
		}
		while (isdigit((unsigned char)*p)) {
			v = v * 10 + (*p++ - '0');
			if (v > 100000000) {
				*reason = "too long (at most about 3 years)";
				return -1;
			}
		}
		switch (*p++) {
		case 's':
			unit = 1;
			break;
		case 'm':
			unit = 60;
			break;
		case 'h':
			unit = 3600;
			break;
		case 'd':
			unit = 86400;
			break;
		case 'w':
			unit = 7 * 86400;
			break;
		default:
			*reason = "each number needs a unit: s, m, h, d or w";
			return -1;
		}
		total += v * unit;
		if (total > 100000000) {
			*reason = "too long (at most about 3 years)";
			return -1;
		}
	}
	if (total == 0) {
		*reason = "a duration of nothing: the rule would never apply";
		return -1;
	}
	*seconds = total;
	return 0;
}

static int
digits(const char **p, int n, int *out)
{
	int v = 0;

	while (n-- > 0) {
		if (!isdigit((unsigned char)**p))
			return -1;
		v = v * 10 + (*(*p)++ - '0');
	}
	*out = v;
	return 0;
}

int
rules_parse_time(const char *text, int64_t *when, const char **reason)
{
	static const int mdays[12] = {31, 29, 31, 30, 31, 30,
				      31, 31, 30, 31, 30, 31};
	const char *p = text;
	int y, mo, d, h = 0, mi = 0, s = 0;
	struct tm tm;
	time_t t;

	*reason = "expected a UTC time: 2026-12-24T18:00:00Z or 2026-12-24";
	if (digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
	    *p++ != '-' || digits(&p, 2, &d) < 0)
		return -1;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &h) < 0 || *p++ != ':' ||
		    digits(&p, 2, &mi) < 0)
			return -1;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &s) < 0)
				return -1;
		}
		if (*p++ != 'Z') {
			*reason = "a time ends in Z (UTC): 2026-12-24T18:00:00Z";
			return -1;
		}
	}
	if (*p != '\0')
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || s > 60) {
		*reason = "no such date or time";
		return -1;
	}
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (t <= 0) { /* 0 is "never expires" in a rule */
		*reason = "a time after 1970-01-01T00:00:00Z";
		return -1;
	}
	if (tm.tm_mday != d) {
		*reason = "no such date";
		return -1;
	}
	*when = (int64_t)t;
	return 0;
}
