/* rule.c - the rule book, and rules written back as a person reads them. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/rule.h"
#include "src/siphash.h"
#include "src/xmalloc.h"

void
rule_book_init(struct rule_book *b)
{
	memset(b, 0, sizeof *b);
}

void
rule_book_free(struct rule_book *b)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		free(b->rules[i].app_value);
		free(b->rules[i].dest_value);
	}
	free(b->rules);
	for (i = 0; i < b->n_files; i++)
		free(b->files[i]);
	free(b->files);
	rule_book_init(b);
}

static const char *
book_file(struct rule_book *b, const char *file)
{
	if (b->n_files > 0 && strcmp(b->files[b->n_files - 1], file) == 0)
		return b->files[b->n_files - 1];
	b->files = xreallocarray(b->files, b->n_files + 1, sizeof *b->files);
	b->files[b->n_files] = xstrdup(file);
	return b->files[b->n_files++];
}

struct rule *
rule_book_add(struct rule_book *b, const struct rule *r, const char *file)
{
	struct rule *copy;

	/* Doubling: a book of a million rules is not copied a million
	 * times. */
	if ((b->n & (b->n - 1)) == 0)
		b->rules = xreallocarray(b->rules, b->n ? b->n * 2 : 16,
					 sizeof *b->rules);
	copy = &b->rules[b->n];
	*copy = *r;
	copy->app_value = r->app_value ? xstrdup(r->app_value) : NULL;
	copy->dest_value = r->dest_value ? xstrdup(r->dest_value) : NULL;
	copy->file = book_file(b, file);
	copy->order = b->n++;
	return copy;
}

const char *
rule_action_name(enum rule_action a)
{
	switch (a) {
	case RULE_ALLOW:
		return "allow";
	case RULE_BLOCK:
		return "block";
	case RULE_ASK:
		return "ask";
	}
	return "?";
}

const char *
rule_app_name(enum rule_app k)
{
	static const char *const names[RULE_APP_KINDS] = {
	    [RULE_APP_ANY] = "any",	     [RULE_APP_UID] = "uid",
	    [RULE_APP_EXE_GLOB] = "exe",     [RULE_APP_EXE] = "exe",
	    [RULE_APP_CGROUP] = "cgroup",    [RULE_APP_UNIT] = "unit",
	    [RULE_APP_USER_UNIT] = "user-unit",
	    [RULE_APP_SNAP] = "snap",	     [RULE_APP_FLATPAK] = "flatpak",
	    [RULE_APP_ID] = "app-id",	     [RULE_APP_KEY] = "app",
	};

	return (unsigned)k < RULE_APP_KINDS ? names[k] : "?";
}

const char *
rule_dest_name(enum rule_dest d)
{
	switch (d) {
	case RULE_DEST_ANY:
		return "name";
	case RULE_DEST_LIST:
		return "list";
	case RULE_DEST_DOMAIN:
		return "domain";
	case RULE_DEST_WILDCARD:
		return "wildcard";
	case RULE_DEST_NAME:
		return "name";
	case RULE_DEST_NET:
		return "net";
	case RULE_DEST_CONTINENT:
		return "continent";
	case RULE_DEST_COUNTRY:
		return "country";
	case RULE_DEST_ASN:
		return "asn";
	}
	return "?";
}

bool
rule_dest_is_place(enum rule_dest d)
{
	return d == RULE_DEST_CONTINENT || d == RULE_DEST_COUNTRY ||
	       d == RULE_DEST_ASN;
}

/* A value as the file would hold it: quoted when it has to be. */
static void
put_value(char *buf, size_t len, size_t *used, const char *v)
{
	bool quote = v[0] == '\0' || strpbrk(v, " \t#\"\\") != NULL;
	const char *p;
	int n;

	if (!quote) {
		n = snprintf(buf + *used, len - *used, "%s", v);
		*used += n > 0 ? (size_t)n : 0;
		return;
	}
	if (*used + 1 < len)
		buf[(*used)++] = '"';
	for (p = v; *p != '\0' && *used + 2 < len; p++) {
		if (*p == '"' || *p == '\\')
			buf[(*used)++] = '\\';
		buf[(*used)++] = *p;
	}
	if (*used + 1 < len)
		buf[(*used)++] = '"';
	buf[*used < len ? *used : len - 1] = '\0';
}

static void
put(char *buf, size_t len, size_t *used, const char *s)
{
	int n = snprintf(buf + *used, len - *used, "%s", s);

	if (n > 0)
		*used += (size_t)n;
	if (*used >= len)
		*used = len - 1;
}

const char *
rule_format(const struct rule *r, char *buf, size_t len)
{
	size_t used = 0;
	char tmp[96];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (r->is_default)
		put(buf, len, &used, "default ");
	put(buf, len, &used, rule_action_name(r->action));
	if (r->app != RULE_APP_ANY) {
		snprintf(tmp, sizeof tmp, " %s=", rule_app_name(r->app));
		put(buf, len, &used, tmp);
		put_value(buf, len, &used, r->app_value ? r->app_value : "");
	}
	if (!r->is_default) {
		if (r->dest == RULE_DEST_ANY) {
			put(buf, len, &used, " name=*");
		} else if (r->dest == RULE_DEST_NET) {
			char a[64];

			ip_addr_format(&r->net.addr, a, sizeof a);
			snprintf(tmp, sizeof tmp, " net=%s/%u", a,
				 r->net.length);
			put(buf, len, &used, tmp);
		} else if (r->dest == RULE_DEST_ASN) {
			snprintf(tmp, sizeof tmp, " asn=AS%u", r->asn);
			put(buf, len, &used, tmp);
		} else {
			snprintf(tmp, sizeof tmp, " %s=",
				 rule_dest_name(r->dest));
			put(buf, len, &used, tmp);
			put_value(buf, len, &used,
				  r->dest_value ? r->dest_value : "");
		}
	}
	if (r->until != 0) {
		time_t t = (time_t)r->until;
		struct tm tm;

		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(tmp + 7, sizeof tmp - 7, "%Y-%m-%dT%H:%M:%SZ",
			     &tm) > 0) {
			memcpy(tmp, " until=", 7);
			put(buf, len, &used, tmp);
		}
	}
	return buf;
}

const char *
rule_origin(const struct rule *r, char *buf, size_t len)
{
	if (r->line == 0) /* a rule made by hand, not read */
		snprintf(buf, len, "%s", r->file);
	else
		snprintf(buf, len, "%s:%u", r->file, r->line);
	return buf;
}

/* A fixed key: ids must be the same in every process and every run.
 * Nobody gains by choosing rules whose ids collide (an ambiguous id is
 * refused, never guessed). */
static const struct siphash_key id_key = {0x646e73676174652dULL,
					  0x72756c652d696473ULL};

uint32_t
rule_id_of(const char *file, const char *text, size_t len,
	   unsigned occurrence)
{
	const char *base = strrchr(file, '/');
	struct {
		uint64_t h;
		uint32_t occurrence;
	} mix;
	char small[1024], *buf = small;
	uint64_t h;
	size_t blen;

	base = base != NULL ? base + 1 : file;
	blen = strlen(base);
	if (blen + 1 + len > sizeof small) /* a file of a million rules
					      allocates for none */
		buf = xmalloc(blen + 1 + len);
	memcpy(buf, base, blen + 1);
	memcpy(buf + blen + 1, text, len);
	h = siphash24(&id_key, buf, blen + 1 + len);
	if (buf != small)
		free(buf);
	if (occurrence > 0) {
		memset(&mix, 0, sizeof mix);
		mix.h = h;
		mix.occurrence = occurrence;
		h = siphash24(&id_key, &mix, sizeof mix);
	}
	/* 0 means "no id". */
	return (uint32_t)(h ^ (h >> 32)) ? (uint32_t)(h ^ (h >> 32)) : 1;
}

const char *
rule_id_format(uint32_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%08x", (unsigned)id);
	return buf;
}

int
rule_id_parse(const char *text, uint32_t *id)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < 8; i++) {
		char c = text[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v = v << 4 | (uint32_t)(c - 'A' + 10);
		else
			return -1;
	}
	if (text[8] != '\0' || v == 0)
		return -1;
	*id = v;
	return 0;
}
