/* rule.h - one rule as a value, and the book of every rule the daemon
 * read: which apps, which destinations, what to do, until when, and
 * where it was written (file:line), so a decision can name it.
 * rules_file.h fills a book from files; rules.h indexes it and decides.
 * The precedence the engine applies is in rules.h and dnsgate.rules(5). */
#ifndef DNSGATE_RULE_H
#define DNSGATE_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/addr.h"

enum rule_action {
	RULE_ALLOW,
	RULE_BLOCK,
	RULE_ASK, /* recorded; until prompts exist, the app's default */
};

/* Which apps, from the least specific to the most (rules.h). */
enum rule_app {
	RULE_APP_ANY,      /* every app */
	RULE_APP_UID,      /* uid=1000: the asking socket's user */
	RULE_APP_EXE_GLOB, /* exe=/opt/tool/bin/ followed by a '*': fnmatch(3),
			      and '*' crosses '/' */
	RULE_APP_EXE,      /* exe=/usr/bin/curl */
	RULE_APP_CGROUP,   /* cgroup=/system.slice/x.service: it and below */
	RULE_APP_UNIT,     /* unit=backup.service, getty@.service: a unit
			      of the system manager */
	RULE_APP_USER_UNIT, /* user-unit=syncthing.service: a unit of a
			       user's manager (that user's naming) */
	RULE_APP_SNAP,     /* snap=firefox, snap=lxd.daemon */
	RULE_APP_FLATPAK,  /* flatpak=org.mozilla.firefox */
	RULE_APP_ID,       /* app-id=org.gnome.Evince: desktop or Flatpak */
	RULE_APP_KEY,      /* app=flatpak:org.mozilla.firefox */
};
#define RULE_APP_KINDS (RULE_APP_KEY + 1)

/* Which destinations, from the least specific to the most. */
enum rule_dest {
	RULE_DEST_ANY,      /* name=*: every name */
	RULE_DEST_LIST,     /* list=NAME: a name on that list */
	RULE_DEST_DOMAIN,   /* domain=example.com: it and its subdomains */
	RULE_DEST_WILDCARD, /* wildcard=ads*.example.com */
	RULE_DEST_NAME,     /* name=www.example.com: that name alone */
	RULE_DEST_NET,      /* net=203.0.113.0/24: a standing grant, no
			       name involved (allow only) */
	/* Places (geoip.h): not a name but each address of an answer the
	 * names allowed (rules.h: rules_place). From the least specific. */
	RULE_DEST_CONTINENT, /* continent=EU or EU,AS */
	RULE_DEST_COUNTRY,   /* country=CN or CN,RU: ISO 3166-1 alpha-2 */
	RULE_DEST_ASN,       /* asn=64500, asn=AS64500 */
};

/* d is a place: continent=, country= or asn=. */
bool rule_dest_is_place(enum rule_dest d);

/* The rules file dnsgated owns (rules_store.h), by its name: its allow
 * rules answer ask rules as specific as they are (rules.h). */
#define RULES_OWNED_FILE "90-dnsgatectl.rules"

struct rule {
	enum rule_action action;
	bool is_default;     /* "default ACTION [APP]": no destination */
	enum rule_app app;
	char *app_value;     /* as written (lower-cased where case does not
				count); NULL for any */
	uint32_t uid;        /* RULE_APP_UID */
	enum rule_dest dest;
	char *dest_value;    /* the name, domain, pattern or list name,
				lower case; a place rule's codes, upper
				case, joined by ',' ("CN,RU"); NULL for
				any, net and asn */
	size_t list;         /* RULE_DEST_LIST: index of the list in the
				policy's lists */
	struct ip_prefix net; /* RULE_DEST_NET */
	uint32_t asn;        /* RULE_DEST_ASN */
	int64_t until;       /* expires then (Unix seconds); 0: never */
	const char *file;    /* where it was written, owned by the book */
	unsigned line;       /* a blocklist's rule: the config's line */
	uint32_t id;         /* what a user types to name it (rule_id_of);
				0: none given. Beside line: no bigger rule */
	size_t order;        /* its place in the book */
};

/* Every rule read, in reading order. The book owns the rules, their
 * strings and the file names. */
struct rule_book {
	struct rule *rules;
	size_t n;
	char **files;
	size_t n_files;
};

void rule_book_init(struct rule_book *b);
void rule_book_free(struct rule_book *b);

/* Appends a copy of r (its strings copied) with file as its origin (the
 * book keeps one copy of each file name). Returns the book's rule. */
struct rule *rule_book_add(struct rule_book *b, const struct rule *r,
			   const char *file);

const char *rule_action_name(enum rule_action a);  /* "allow" ... */
const char *rule_app_name(enum rule_app k);        /* "app", "exe" ... */
const char *rule_dest_name(enum rule_dest d);      /* "name", "net" ... */

/* The rule as a person reads it, in the rules file's own syntax:
 * "block app=flatpak:org.mozilla.firefox domain=example.com". */
const char *rule_format(const struct rule *r, char *buf, size_t len);

/* A rule's id: a hash of its file's base name and its text as
 * written (fields as the parser split them, blanks, quotes and comments
 * aside), and of its occurrence among equal rules of the file (0 the
 * first). So an id stays the same across reloads and restarts as long as
 * nobody edits that rule, whatever is added or removed around it.
 * Shown as 8 lower-case hex digits (RULE_ID_TEXT_MAX with the NUL). */
#define RULE_ID_TEXT_MAX 9
uint32_t rule_id_of(const char *file, const char *text, size_t len,
		    unsigned occurrence);
const char *rule_id_format(uint32_t id, char *buf, size_t len);
/* "3f9a0c12" (8 hex digits, either case) into *id: 0, or -1. */
int rule_id_parse(const char *text, uint32_t *id);

/* "file:line" ("file" for a rule made with no line). */
const char *rule_origin(const struct rule *r, char *buf, size_t len);

#endif
