/* rules.h - the engine: a rule book indexed for the query path, and the
 * one decision it gives for an app and the names of a query.
 *
 * Precedence (dnsgate.rules(5) has it with examples). Of the rules that
 * name both the app and one of the names, the one that decides is
 *   1. the one whose app is most specific, from the most:
 *      app=KEY; app-id=, flatpak=, snap=; unit=; cgroup= (a longer path
 *      before a shorter); exe=PATH; exe=GLOB (more literal characters
 *      before fewer); uid=; any app;
 *   2. then the one whose destination is most specific, from the most:
 *      name=; wildcard= (more literal characters first); domain= (the
 *      longer domain first); list= (the longer listed entry first);
 *      name=*;
 *   3. then block before ask before allow; then the one read first.
 * A rule past its until= is gone. When no rule names the app and the
 * name, the app's default decides: the default of its most specific app,
 * block before allow, "default ask" skipped; with none, allow. An ask
 * rule that decides stands for that default until prompts exist.
 * The query path decides the qname alone before resolving (a block is
 * final), then the qname with every name of its answer's CNAME chain:
 * the most specific match over all of them decides, so an app's own
 * allow of the qname outranks a list that names its CDN.
 *
 * The exe is known only when the pid is. When it is not, exe= rules and
 * defaults cannot be judged: the decision is what the other rules give
 * when no exe rule could outrank it with another outcome, else
 * RULES_UNDECIDED (never a guess). */
#ifndef DNSGATE_RULES_H
#define DNSGATE_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/rule.h"

struct app_identity;
struct list_filter;

/* The outcome for a query. */
enum rules_outcome {
	RULES_ALLOW,
	RULES_BLOCK,
	RULES_UNDECIDED, /* it depends on the exe, which is not known */
};

struct rules_verdict {
	enum rules_outcome outcome;
	/* The rule that decided: a rule naming a name, or the default
	 * (rule->is_default). NULL: no rule, no default: allowed. */
	const struct rule *rule;
	bool asked;        /* rule is an ask rule, standing for default */
	const struct rule *default_rule; /* asked: the default it stood for
					    (NULL: the built-in allow) */
	const char *name;  /* which of the names it matched */
	const char *entry; /* list=: the listed entry that matched, as a
			      pointer into name (its matched suffix: the
			      lists keep no names) */
};

struct rules;

/* Indexes book, which must outlive the index (rules point into it);
 * lists are the lists rules' list= indexes name, borrowed too (NULL
 * entries match nothing). A list= rule names a name the list blocks
 * (list_filter_match: its exceptions, $important, $dnstype, $client
 * judged inside the list). */
struct rules *rules_new(const struct rule_book *book,
			const struct list_filter *const *lists,
			size_t n_lists);
void rules_free(struct rules *r);

/* Who asks, as the engine sees it: the groups of rules naming this app,
 * found once per query and used for every name of it. The caller owns
 * it; free with rules_asker_free. uid < 0: not known. exe comes from
 * id->exe ("" when not known). Called on one thread at a time (the
 * loop): it remembers which exe globs the last programs matched. */
struct rules_asker;

struct rules_asker *rules_asker_new(const struct rules *r,
				    const struct app_identity *id,
				    int64_t uid);
void rules_asker_free(struct rules_asker *a);
/* The asker's exe was not known. */
bool rules_asker_exe_unknown(const struct rules_asker *a);

/* Decides for names[0..n) (the qname first) of a query of type qtype
 * (0: not a query, as for explain: a list's $dnstype entries do not
 * apply) at time now (Unix seconds). Returns v->outcome. Allocates
 * nothing. */
enum rules_outcome rules_decide(const struct rules *r,
				const struct rules_asker *a,
				const char *const *names, size_t n,
				uint16_t qtype, int64_t now,
				struct rules_verdict *v);

/* Every rule that names the app and one of the names, and every default
 * for the app, in the order of precedence; for each, fn is told whether
 * it is past its until= and whether it is the one that decided. Then
 * the verdict, as rules_decide gives it. */
typedef void rules_trail_fn(void *arg, const struct rule *rule,
			    const char *name, const char *entry, bool expired,
			    bool decided);

enum rules_outcome rules_explain(const struct rules *r,
				 const struct rules_asker *a,
				 const char *const *names, size_t n,
				 uint16_t qtype, int64_t now,
				 rules_trail_fn *fn, void *arg,
				 struct rules_verdict *v);

/* The standing grants (net= rules) for a cgroup's identity, live at now:
 * calls fn for each with the seconds it has left (0: no expiry). */
typedef void rules_net_fn(void *arg, const struct rule *rule,
			  uint32_t seconds_left);
void rules_nets(const struct rules *r, const struct rules_asker *a,
		int64_t now, rules_net_fn *fn, void *arg);

/* Where one address of an answer is (geoip.h), as place rules read
 * it: "" or 0 for what is not known. */
struct rules_place {
	const char *country;   /* "CN" */
	const char *continent; /* "AS" */
	uint32_t asn;
};

/* The place rules (country=, continent=, asn=) judge each address of an
 * answer whose names were allowed (rules_decide comes first: a name
 * blocked is blocked wherever it is). Of the live place rules naming the
 * app and pl, the one that decides is the one whose app is most
 * specific (as for names); then asn= before country= before continent=;
 * then block before allow; then the one read first. An asker whose exe
 * is not known is held to every block naming a program (never an allow
 * naming one). Returns RULES_BLOCK (the address is dropped) or
 * RULES_ALLOW, with *rule the rule that decided (NULL: none names the
 * place: allowed). Allocates nothing. */
enum rules_outcome rules_place(const struct rules *r,
			       const struct rules_asker *a,
			       const struct rules_place *pl, int64_t now,
			       const struct rule **rule);

/* Every place rule rules_place would weigh for the asker, in its order
 * of precedence (no lookup: for explain), each with whether it is past
 * its until=. */
typedef void rules_place_fn(void *arg, const struct rule *rule,
			    bool expired);
void rules_places(const struct rules *r, const struct rules_asker *a,
		  int64_t now, rules_place_fn *fn, void *arg);

/* Whether any rule names a place: only then are answers judged by place. */
bool rules_have_places(const struct rules *r);

/* Whether some rule names a country or a continent (the country file's
 * part), and some an AS (the ASN file's). */
void rules_place_needs(const struct rules *r, bool *country, bool *asn);

/* Whether any rule has a net= destination. */
bool rules_have_nets(const struct rules *r);

/* Whether any rule or default names a program: exe=, or an app= key
 * with one joined in (":/" in it). Only then is an asker's exe worth
 * checking against the file its path names. */
bool rules_need_exe(const struct rules *r);

#endif
