/* prompt.h - the questions dnsgated asks people: a query whose decision
 * is `ask` is held while its prompt is open, every prompter is shown it,
 * and the first answer decides for every query waiting on it. Repeats
 * of the same app and name while a prompt is open join it. With nobody
 * to ask, or once the timeout passes (kept under the client's retry),
 * the waiting queries are resumed unanswered (the app's default
 * applies) and the prompt stays pending, to be answered later.
 * An answer lasts once (the queries waiting), until the app exits (its
 * cgroup is gone), for a time, or forever; it covers the name, its
 * domain, or everything the app is asked about. Answers for a time or
 * forever are handed to the keep hook, which writes them as rules; the
 * table bridges them until the policy with that rule is in force.
 * Runs on the loop only; owns its prompts, answers and timer. Waiters
 * are the caller's: a waiter is resumed (or cancelled) exactly once. */
#ifndef DNSGATE_PROMPT_H
#define DNSGATE_PROMPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/app_identity.h"

#define PROMPT_MAX 256          /* open and pending prompts at once */
#define PROMPT_PER_APP 16       /* of them, one app's */
#define PROMPT_WAITERS_MAX 64   /* queries held on one prompt */
#define PROMPT_ANSWERS_MAX 1024 /* answers kept in memory at once */
/* glibc and dig ask again after 5 s: the hold and the upstream's
 * deadline (1.8 s) together stay under it. */
#define PROMPT_TIMEOUT_DEFAULT_MS 3000
#define PROMPT_TIMEOUT_MAX_MS 3000
/* After a prompt timed out, its app and name are not held again for so
 * long (a forgotten prompter must not slow every asked query). */
#define PROMPT_QUIET_MS 30000
/* A pending prompt nobody answered is forgotten after an hour. */
#define PROMPT_PENDING_MAX_MS (3600 * 1000)
#define PROMPT_APP_MAX APP_IDENTITY_KEY_MAX /* an app key, whole */
#define PROMPT_FIELD_MAX 512 /* exe, cgroup, lists: cut to fit */

struct event_base;
struct prompts;
struct prompt_wait;

enum prompt_action { PROMPT_ALLOW, PROMPT_BLOCK };
enum prompt_duration {
	PROMPT_ONCE,     /* the queries waiting now, no more */
	PROMPT_APP_EXIT, /* until the app's cgroup is gone */
	PROMPT_FOR,      /* for seconds: a rule with until= */
	PROMPT_FOREVER,  /* a rule */
};
enum prompt_scope {
	PROMPT_SCOPE_NAME,   /* this name */
	PROMPT_SCOPE_DOMAIN, /* its registrable domain and every name under */
	PROMPT_SCOPE_APP,    /* everything this app is asked about */
};

struct prompt_answer {
	enum prompt_action action;
	enum prompt_duration duration;
	enum prompt_scope scope;
	uint32_t seconds; /* PROMPT_FOR */
	char by[64];      /* who answered, for the log ("uid 1000") */
};

/* Who asks what: copied by prompts_hold. */
struct prompt_asker {
	const char *app;    /* the app key */
	const char *exe;    /* "" not known */
	const char *cgroup; /* "" not known */
	uint64_t cgroup_id; /* 0: not known (no until-exit answer) */
	int64_t pid, uid;   /* -1: not known */
	const char *name;   /* the qname */
	uint16_t qtype;
	const char *domain; /* its registrable domain */
	const char *lists;  /* the lists that know the name, comma-separated */
};

/* A prompt as shown: open (queries wait on it) or pending. */
struct prompt_info {
	uint64_t id;
	bool open;
	uint32_t waiting;   /* queries held on it */
	int64_t asked_ms;   /* wall clock of its first query */
	uint64_t repeats;   /* queries that asked it */
	const char *app, *exe, *cgroup, *name, *domain, *lists;
	uint64_t cgroup_id;
	int64_t pid, uid;
	uint16_t qtype;
};

struct prompt_hooks {
	/* Whether anybody is there to answer. */
	bool (*has_prompters)(void *arg);
	/* A prompt opened (or reopened): show it to every prompter. */
	void (*shown)(void *arg, const struct prompt_info *p);
	/* A prompt ended: answered (a), or dropped to make room (a NULL). */
	void (*closed)(void *arg, const struct prompt_info *p,
		       const struct prompt_answer *a);
	/* An answer for a time or forever, to be written as a rule: returns
	 * a number that grows with each policy build (the build that will
	 * hold it), or -1 with a reason in err (the answer is then kept in
	 * memory only, until a restart). */
	int64_t (*keep)(void *arg, const struct prompt_info *p,
			const struct prompt_answer *a, char *err,
			size_t errlen);
	/* A held query resumes: answered with action, or not (the default
	 * applies). a: the answer, NULL when not answered. */
	void (*resume)(void *waiter, const struct prompt_answer *a);
	void *arg;
};

struct prompts *prompts_new(struct event_base *base, uint32_t timeout_ms,
			    const struct prompt_hooks *hooks);

/* Resumes nothing: cancel every waiter first (shutdown drains them). */
void prompts_free(struct prompts *p);

/* Holds waiter on the prompt for (asker->app, asker->name), opening it
 * (or joining one open, or reopening one pending). Returns the handle,
 * or NULL when it cannot be held: nobody to ask; PROMPT_MAX prompts, or
 * PROMPT_PER_APP of the app's, open; PROMPT_WAITERS_MAX queries on it
 * already; its prompt timed out less than PROMPT_QUIET_MS ago; an app
 * key longer than PROMPT_APP_MAX. Then the prompt is left pending (when
 * there is room) and the caller applies the default at once. */
struct prompt_wait *prompts_hold(struct prompts *p,
				 const struct prompt_asker *asker,
				 void *waiter);

/* Takes waiter off its prompt without resuming it. */
void prompts_cancel(struct prompts *p, struct prompt_wait *w);

/* Whether an answer in force covers app (in cgroup_id) asking name:
 * true with *a set. now_ms: the wall clock. */
bool prompts_answered(struct prompts *p, const char *app, uint64_t cgroup_id,
		      const char *name, int64_t now_ms,
		      struct prompt_answer *a);

/* Answers prompt id: resumes its waiters, and those of every other
 * open prompt the answer covers (its domain, or its app), then keeps
 * the answer (hooks->keep for a time or forever). Returns 0, or -1 with
 * the reason in err (no such prompt: answered already, or dropped).
 * A failed keep is reported in err with 0 returned (the answer stands
 * in memory). */
int prompts_answer(struct prompts *p, uint64_t id,
		   const struct prompt_answer *a, char *err, size_t errlen);

/* Calls fn for every prompt, open ones first, oldest first. */
void prompts_each(struct prompts *p,
		  void (*fn)(void *arg, const struct prompt_info *info),
		  void *arg);

/* Drops answers that ended: past their time, their app's cgroup gone
 * (alive(arg, cgroup_id) false), or bridged to a rule now in force
 * (built: the newest build in force, as keep numbered them). */
void prompts_sweep(struct prompts *p, int64_t now_ms, int64_t built,
		   bool (*alive)(void *arg, uint64_t cgroup_id), void *arg);

/* Times out every open prompt now (the last prompter went): their
 * queries resume unanswered, the prompts stay pending. */
void prompts_expire_open(struct prompts *p);

size_t prompts_count(const struct prompts *p, bool open_only);
size_t prompts_answers_count(const struct prompts *p);

/* The words of the values, both ways ("allow", "once", "app-exit",
 * "for", "forever", "name", "domain", "app"). */
const char *prompt_action_name(enum prompt_action a);
const char *prompt_duration_name(enum prompt_duration d);
const char *prompt_scope_name(enum prompt_scope s);
int prompt_action_parse(const char *w, enum prompt_action *out);
int prompt_duration_parse(const char *w, enum prompt_duration *out);
int prompt_scope_parse(const char *w, enum prompt_scope *out);

/* Whether name is domain or a name under it (both lower case). */
bool prompt_name_in(const char *name, const char *domain);

#endif
