/* prompt.c - open and pending prompts, the queries held on them, and
 * the answers kept in memory. A handful at a time: lists, scanned. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "src/clock.h"
#include "src/events.h"
#include "src/prompt.h"
#include "src/xmalloc.h"

struct prompt_wait {
	struct prompt *prompt;
	void *waiter;
	struct prompt_wait *next;
};

struct prompt {
	uint64_t id;
	bool open;
	char app[PROMPT_APP_MAX], exe[PROMPT_FIELD_MAX];
	char cgroup[PROMPT_FIELD_MAX], lists[PROMPT_FIELD_MAX];
	char name[256], domain[256];
	int64_t last_ms;      /* wall clock of its latest query */
	uint64_t timed_out_ms; /* clock_ms() when it last timed out; 0 */
	uint64_t cgroup_id;
	int64_t pid, uid;
	uint16_t qtype;
	int64_t asked_ms;
	uint64_t repeats;
	uint64_t deadline_ms; /* clock_ms(): when an open prompt times out */
	struct prompt_wait *waiters;
	uint32_t n_waiting;
	struct prompt *next; /* in the order they were first asked */
};

struct kept {
	char app[PROMPT_APP_MAX];
	uint64_t cgroup_id; /* PROMPT_APP_EXIT: its cgroup; else 0 */
	char target[256];   /* the name or the domain; "" the whole app */
	struct prompt_answer answer;
	int64_t expires_ms;   /* wall clock; 0: no end */
	int64_t bridge_build; /* dropped once this build is in force; 0 */
	struct kept *next;    /* newest first */
};

struct prompts {
	struct event_base *base;
	struct event *timer;
	uint32_t timeout_ms;
	struct prompt_hooks hooks;
	struct prompt *prompts;
	size_t n_prompts;
	struct kept *kept;
	size_t n_kept;
	uint64_t next_id;
};

static void
copy_field(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void
info_of(const struct prompt *pr, struct prompt_info *info)
{
	*info = (struct prompt_info){
	    .id = pr->id,
	    .open = pr->open,
	    .waiting = pr->n_waiting,
	    .asked_ms = pr->asked_ms,
	    .repeats = pr->repeats,
	    .app = pr->app,
	    .exe = pr->exe,
	    .cgroup = pr->cgroup,
	    .name = pr->name,
	    .domain = pr->domain,
	    .lists = pr->lists,
	    .cgroup_id = pr->cgroup_id,
	    .pid = pr->pid,
	    .uid = pr->uid,
	    .qtype = pr->qtype,
	};
}

static void on_timer(evutil_socket_t fd, short what, void *arg);

struct prompts *
prompts_new(struct event_base *base, uint32_t timeout_ms,
	    const struct prompt_hooks *hooks)
{
	struct prompts *p = xcalloc(1, sizeof *p);

	p->base = base;
	p->timeout_ms = timeout_ms;
	p->hooks = *hooks;
	p->timer = evtimer_new(base, on_timer, p);
	return p;
}

static void
free_prompt(struct prompt *pr)
{
	while (pr->waiters != NULL) {
		struct prompt_wait *w = pr->waiters;

		pr->waiters = w->next;
		free(w);
	}
	free(pr);
}

void
prompts_free(struct prompts *p)
{
	if (p == NULL)
		return;
	while (p->prompts != NULL) {
		struct prompt *pr = p->prompts;

		p->prompts = pr->next;
		free_prompt(pr);
	}
	while (p->kept != NULL) {
		struct kept *k = p->kept;

		p->kept = k->next;
		free(k);
	}
	if (p->timer != NULL)
		event_free(p->timer);
	free(p);
}

/* Arms the timer for the open prompt that times out first. */
static void
arm(struct prompts *p)
{
	uint64_t first = 0, now = clock_ms();
	struct timeval tv;

	for (struct prompt *pr = p->prompts; pr; pr = pr->next)
		if (pr->open && (first == 0 || pr->deadline_ms < first))
			first = pr->deadline_ms;
	if (first == 0) {
		evtimer_del(p->timer);
		return;
	}
	first = first > now ? first - now : 0;
	tv.tv_sec = (time_t)(first / 1000);
	tv.tv_usec = (suseconds_t)(first % 1000) * 1000;
	evtimer_add(p->timer, &tv);
}

/* Resumes every waiter of pr with a (NULL: unanswered). Each is taken
 * off before it is resumed, so a resumed query may finish and go. */
static void
resume_all(struct prompts *p, struct prompt *pr, const struct prompt_answer *a)
{
	while (pr->waiters != NULL) {
		struct prompt_wait *w = pr->waiters;
		void *waiter = w->waiter;

		pr->waiters = w->next;
		pr->n_waiting--;
		free(w);
		p->hooks.resume(waiter, a);
	}
}

static void
unlink_prompt(struct prompts *p, struct prompt *pr)
{
	for (struct prompt **pp = &p->prompts; *pp; pp = &(*pp)->next)
		if (*pp == pr) {
			*pp = pr->next;
			p->n_prompts--;
			return;
		}
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct prompts *p = arg;
	uint64_t now = clock_ms();
	struct prompt *pr;

	(void)fd;
	(void)what;
	/* Resuming may not change the list of prompts: it only finishes
	 * queries. Still, start over after each, to be safe. */
again:
	for (pr = p->prompts; pr; pr = pr->next)
		if (pr->open && pr->deadline_ms <= now) {
			pr->open = false; /* pending: answerable later */
			pr->timed_out_ms = now;
			resume_all(p, pr, NULL);
			goto again;
		}
	arm(p);
}

void
prompts_expire_open(struct prompts *p)
{
	struct prompt *pr;

again:
	for (pr = p->prompts; pr; pr = pr->next)
		if (pr->open) {
			pr->open = false;
			pr->timed_out_ms = clock_ms();
			resume_all(p, pr, NULL);
			goto again;
		}
	arm(p);
}

static struct prompt *
find_prompt(struct prompts *p, const char *app, const char *name)
{
	for (struct prompt *pr = p->prompts; pr; pr = pr->next)
		if (strcmp(pr->app, app) == 0 && strcmp(pr->name, name) == 0)
			return pr;
	return NULL;
}

/* Room for one more prompt of app: the oldest pending one of the app
 * goes when it has PROMPT_PER_APP, else the oldest pending one of all
 * when there are PROMPT_MAX. False when those are all open. */
static bool
make_room(struct prompts *p, const char *app)
{
	struct prompt *oldest = NULL, *oldest_of_app = NULL;
	struct prompt_info info;
	size_t of_app = 0;

	for (struct prompt *pr = p->prompts; pr; pr = pr->next) {
		if (strcmp(pr->app, app) != 0)
			continue;
		of_app++;
		if (!pr->open && oldest_of_app == NULL)
			oldest_of_app = pr;
	}
	if (of_app >= PROMPT_PER_APP) {
		if (oldest_of_app == NULL)
			return false;
		oldest = oldest_of_app;
	} else if (p->n_prompts < PROMPT_MAX) {
		return true;
	}
	for (struct prompt *pr = p->prompts; oldest == NULL && pr;
	     pr = pr->next)
		if (!pr->open)
			oldest = pr;
	if (oldest == NULL)
		return false;
	unlink_prompt(p, oldest);
	info_of(oldest, &info);
	if (p->hooks.closed != NULL)
		p->hooks.closed(p->hooks.arg, &info, NULL);
	free_prompt(oldest);
	return true;
}

static struct prompt *
new_prompt(struct prompts *p, const struct prompt_asker *a)
{
	struct prompt *pr = xcalloc(1, sizeof *pr), **tail;

	pr->id = ++p->next_id;
	copy_field(pr->app, sizeof pr->app, a->app);
	copy_field(pr->exe, sizeof pr->exe, a->exe);
	copy_field(pr->cgroup, sizeof pr->cgroup, a->cgroup);
	copy_field(pr->lists, sizeof pr->lists, a->lists);
	copy_field(pr->name, sizeof pr->name, a->name);
	copy_field(pr->domain, sizeof pr->domain, a->domain);
	pr->cgroup_id = a->cgroup_id;
	pr->pid = a->pid;
	pr->uid = a->uid;
	pr->qtype = a->qtype;
	pr->asked_ms = events_now_ms();
	for (tail = &p->prompts; *tail; tail = &(*tail)->next)
		;
	*tail = pr;
	p->n_prompts++;
	return pr;
}

struct prompt_wait *
prompts_hold(struct prompts *p, const struct prompt_asker *asker,
	     void *waiter)
{
	struct prompt *pr = find_prompt(p, asker->app, asker->name);
	bool someone = p->hooks.has_prompters != NULL &&
		       p->hooks.has_prompters(p->hooks.arg);
	struct prompt_wait *w;
	struct prompt_info info;

	if (strlen(asker->app) >= PROMPT_APP_MAX)
		return NULL; /* a prompt for another (cut) key would be wrong */
	if (pr == NULL) {
		if (!make_room(p, asker->app))
			return NULL;
		pr = new_prompt(p, asker);
	}
	pr->repeats++;
	/* The newest asker is the one shown and answered for: the same app
	 * and name, maybe another process or instance of it now. */
	pr->pid = asker->pid;
	pr->uid = asker->uid;
	pr->cgroup_id = asker->cgroup_id;
	pr->qtype = asker->qtype;
	copy_field(pr->exe, sizeof pr->exe, asker->exe);
	copy_field(pr->cgroup, sizeof pr->cgroup, asker->cgroup);
	copy_field(pr->lists, sizeof pr->lists, asker->lists);
	pr->last_ms = events_now_ms();
	if (!someone)
		return NULL; /* pending, for a prompter to answer later */
	if (!pr->open && pr->timed_out_ms != 0 &&
	    clock_ms() - pr->timed_out_ms < PROMPT_QUIET_MS)
		return NULL; /* asked a moment ago: not held again yet */
	if (pr->n_waiting >= PROMPT_WAITERS_MAX)
		return NULL;
	if (!pr->open) {
		pr->open = true;
		pr->deadline_ms = clock_ms() + p->timeout_ms;
		arm(p);
		info_of(pr, &info);
		info.waiting = 1;
		if (p->hooks.shown != NULL)
			p->hooks.shown(p->hooks.arg, &info);
	}
	w = xcalloc(1, sizeof *w);
	w->prompt = pr;
	w->waiter = waiter;
	w->next = pr->waiters;
	pr->waiters = w;
	pr->n_waiting++;
	return w;
}

void
prompts_cancel(struct prompts *p, struct prompt_wait *w)
{
	struct prompt *pr = w->prompt;

	(void)p;
	for (struct prompt_wait **pp = &pr->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			pr->n_waiting--;
			free(w);
			return;
		}
}

bool
prompt_name_in(const char *name, const char *domain)
{
	size_t n = strlen(name), d = strlen(domain);

	if (d == 0 || n < d)
		return false;
	if (n == d)
		return strcmp(name, domain) == 0;
	return name[n - d - 1] == '.' && strcmp(name + n - d, domain) == 0;
}

static bool
covers(enum prompt_scope scope, const char *target, const char *name)
{
	switch (scope) {
	case PROMPT_SCOPE_NAME:
		return strcmp(target, name) == 0;
	case PROMPT_SCOPE_DOMAIN:
		return prompt_name_in(name, target);
	case PROMPT_SCOPE_APP:
		return true;
	}
	return false;
}

static bool
kept_live(const struct kept *k, int64_t now_ms)
{
	return k->expires_ms == 0 || now_ms < k->expires_ms;
}

bool
prompts_answered(struct prompts *p, const char *app, uint64_t cgroup_id,
		 const char *name, int64_t now_ms, struct prompt_answer *a)
{
	for (struct kept *k = p->kept; k; k = k->next) {
		if (strcmp(k->app, app) != 0 || !kept_live(k, now_ms))
			continue;
		if (k->cgroup_id != 0 && k->cgroup_id != cgroup_id)
			continue;
		if (!covers(k->answer.scope, k->target, name))
			continue;
		*a = k->answer;
		return true;
	}
	return false;
}

static void
keep_in_memory(struct prompts *p, const struct prompt *pr,
	       const struct prompt_answer *a, int64_t bridge_build)
{
	struct kept *k = xcalloc(1, sizeof *k);

	copy_field(k->app, sizeof k->app, pr->app);
	k->cgroup_id = a->duration == PROMPT_APP_EXIT ? pr->cgroup_id : 0;
	copy_field(k->target, sizeof k->target,
		   a->scope == PROMPT_SCOPE_NAME     ? pr->name
		   : a->scope == PROMPT_SCOPE_DOMAIN ? pr->domain
						     : "");
	k->answer = *a;
	if (a->duration == PROMPT_FOR) {
		k->expires_ms = events_now_ms() + (int64_t)a->seconds * 1000;
	}
	k->bridge_build = bridge_build;
	k->next = p->kept;
	p->kept = k;
	if (++p->n_kept > PROMPT_ANSWERS_MAX) { /* the oldest goes */
		struct kept **pp = &p->kept;

		while ((*pp)->next != NULL)
			pp = &(*pp)->next;
		free(*pp);
		*pp = NULL;
		p->n_kept--;
	}
}

/* Closes pr with a: resumes its waiters, tells the prompters, frees it. */
static void
close_prompt(struct prompts *p, struct prompt *pr,
	     const struct prompt_answer *a)
{
	struct prompt_info info;

	unlink_prompt(p, pr);
	resume_all(p, pr, a);
	info_of(pr, &info);
	if (p->hooks.closed != NULL)
		p->hooks.closed(p->hooks.arg, &info, a);
	free_prompt(pr);
}

int
prompts_answer(struct prompts *p, uint64_t id, const struct prompt_answer *a,
	       char *err, size_t errlen)
{
	struct prompt *pr, *other, copy;
	struct prompt_info info;
	int64_t build = 0;
	char why[256];

	err[0] = '\0';
	for (pr = p->prompts; pr; pr = pr->next)
		if (pr->id == id)
			break;
	if (pr == NULL) {
		snprintf(err, errlen,
			 "no prompt %llu: answered already, or dropped",
			 (unsigned long long)id);
		return -1;
	}
	if (a->duration == PROMPT_APP_EXIT && pr->cgroup_id == 0) {
		snprintf(err, errlen,
			 "the app's cgroup is not known, so 'until it exits' "
			 "cannot be told: answer once, for a time or forever");
		return -1;
	}
	if (a->scope == PROMPT_SCOPE_DOMAIN && pr->domain[0] == '\0') {
		snprintf(err, errlen, "%s has no domain of its own (it is a "
			 "public suffix): answer for the name or the app",
			 pr->name);
		return -1;
	}
	copy = *pr; /* what the answer was given to, after pr is freed */
	copy.waiters = NULL;
	/* Kept first, as a rule when it lasts: when the held queries are
	 * answered, the rule is in the file already. */
	if ((a->duration == PROMPT_FOR || a->duration == PROMPT_FOREVER) &&
	    p->hooks.keep != NULL) {
		info_of(&copy, &info);
		build = p->hooks.keep(p->hooks.arg, &info, a, why, sizeof why);
		if (build < 0) {
			snprintf(err, errlen,
				 "the answer holds until dnsgated restarts: %s",
				 why);
			build = 0;
		}
	}
	if (a->duration != PROMPT_ONCE)
		keep_in_memory(p, &copy, a, build);
	close_prompt(p, pr, a);
	/* Every other prompt of the app the answer covers. */
	if (a->scope != PROMPT_SCOPE_NAME) {
		const char *target =
		    a->scope == PROMPT_SCOPE_DOMAIN ? copy.domain : "";
	again:
		for (other = p->prompts; other; other = other->next)
			if (strcmp(other->app, copy.app) == 0 &&
			    covers(a->scope, target, other->name)) {
				close_prompt(p, other, a);
				goto again;
			}
	}
	return 0;
}

void
prompts_each(struct prompts *p,
	     void (*fn)(void *arg, const struct prompt_info *info), void *arg)
{
	struct prompt_info info;

	for (int pass = 0; pass < 2; pass++)
		for (struct prompt *pr = p->prompts; pr; pr = pr->next)
			if (pr->open == (pass == 0)) {
				info_of(pr, &info);
				fn(arg, &info);
			}
}

void
prompts_sweep(struct prompts *p, int64_t now_ms, int64_t built,
	      bool (*alive)(void *arg, uint64_t cgroup_id), void *arg)
{
	struct kept **pp = &p->kept;
	struct prompt *pr;

	/* Pending prompts nobody answered within the hour. */
again:
	for (pr = p->prompts; pr; pr = pr->next)
		if (!pr->open && now_ms - pr->last_ms > PROMPT_PENDING_MAX_MS) {
			struct prompt_info info;

			unlink_prompt(p, pr);
			info_of(pr, &info);
			if (p->hooks.closed != NULL)
				p->hooks.closed(p->hooks.arg, &info, NULL);
			free_prompt(pr);
			goto again;
		}

	while (*pp != NULL) {
		struct kept *k = *pp;
		bool gone = !kept_live(k, now_ms) ||
			    (k->bridge_build > 0 && built >= k->bridge_build) ||
			    (k->cgroup_id != 0 && alive != NULL &&
			     !alive(arg, k->cgroup_id));

		if (gone) {
			*pp = k->next;
			free(k);
			p->n_kept--;
		} else {
			pp = &k->next;
		}
	}
}

size_t
prompts_count(const struct prompts *p, bool open_only)
{
	size_t n = 0;

	for (const struct prompt *pr = p->prompts; pr; pr = pr->next)
		n += !open_only || pr->open;
	return n;
}

size_t
prompts_answers_count(const struct prompts *p)
{
	return p->n_kept;
}

static const char *const action_names[] = {"allow", "block"};
static const char *const duration_names[] = {"once", "app-exit", "for",
					      "forever"};
static const char *const scope_names[] = {"name", "domain", "app"};

const char *
prompt_action_name(enum prompt_action a)
{
	return (unsigned)a < 2 ? action_names[a] : "?";
}

const char *
prompt_duration_name(enum prompt_duration d)
{
	return (unsigned)d < 4 ? duration_names[d] : "?";
}

const char *
prompt_scope_name(enum prompt_scope s)
{
	return (unsigned)s < 3 ? scope_names[s] : "?";
}

static int
parse_word(const char *w, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (strcmp(w, names[i]) == 0)
			return i;
	return -1;
}

int
prompt_action_parse(const char *w, enum prompt_action *out)
{
	int i = parse_word(w, action_names, 2);

	if (i < 0)
		return -1;
	*out = (enum prompt_action)i;
	return 0;
}

int
prompt_duration_parse(const char *w, enum prompt_duration *out)
{
	int i = parse_word(w, duration_names, 4);

	if (i < 0)
		return -1;
	*out = (enum prompt_duration)i;
	return 0;
}

int
prompt_scope_parse(const char *w, enum prompt_scope *out)
{
	int i = parse_word(w, scope_names, 3);

	if (i < 0)
		return -1;
	*out = (enum prompt_scope)i;
	return 0;
}
