/* test_prompt.c - prompts: held queries resumed once by the first
 * answer, joined repeats, the timeout leaving a pending prompt, the
 * answers kept (once, until exit, for a time, forever bridged to a
 * rule) and what each covers, the bounds. */
#include "config.h"

#include <stdio.h>
#include <time.h>

#include <event2/event.h>

#include "src/prompt.h"
#include "src/prompt_control.h"
#include "tests/unit/check.h"

static bool prompters;
static int shown, closed, closed_unanswered, kept_calls;
static int64_t keep_build = 5;
static char last_kept_name[256];

struct waiter {
	int resumed;
	bool answered;
	enum prompt_action action;
};

static bool
has_prompters(void *arg)
{
	(void)arg;
	return prompters;
}

static void
on_shown(void *arg, const struct prompt_info *p)
{
	(void)arg;
	(void)p;
	shown++;
}

static void
on_closed(void *arg, const struct prompt_info *p, const struct prompt_answer *a)
{
	(void)arg;
	(void)p;
	closed++;
	closed_unanswered += a == NULL;
}

static int64_t
on_keep(void *arg, const struct prompt_info *p, const struct prompt_answer *a,
	char *err, size_t errlen)
{
	(void)arg;
	(void)a;
	kept_calls++;
	snprintf(last_kept_name, sizeof last_kept_name, "%s", p->name);
	if (keep_build < 0)
		snprintf(err, errlen, "disk full");
	return keep_build;
}

static void
on_resume(void *waiter, const struct prompt_answer *a)
{
	struct waiter *w = waiter;

	w->resumed++;
	w->answered = a != NULL;
	if (a != NULL)
		w->action = a->action;
}

static struct prompt_asker
asker(const char *app, const char *name, const char *domain, uint64_t cg)
{
	return (struct prompt_asker){.app = app, .exe = "/usr/bin/x",
				     .cgroup = "/x.scope", .cgroup_id = cg,
				     .pid = 42, .uid = 1000, .name = name,
				     .qtype = 1, .domain = domain,
				     .lists = "easylist"};
}

static uint64_t first_id;

static void
first(void *arg, const struct prompt_info *info)
{
	(void)arg;
	if (first_id == 0)
		first_id = info->id;
}

static uint64_t
id_of_first(struct prompts *p)
{
	first_id = 0;
	prompts_each(p, first, NULL);
	return first_id;
}

static struct prompt_answer
answer(enum prompt_action act, enum prompt_duration d, enum prompt_scope s)
{
	return (struct prompt_answer){.action = act, .duration = d,
				      .scope = s, .seconds = 60, .by = "test"};
}

/* A flood of one name is bounded per prompt; a prompt that timed out is
 * not held again for a while; an app key cut to fit is never held. */
static void
test_bounds(struct event_base *base)
{
	struct prompt_hooks hooks = {has_prompters, on_shown, on_closed,
				     on_keep, on_resume, NULL};
	struct prompts *p = prompts_new(base, 30, &hooks);
	static struct waiter w[PROMPT_WAITERS_MAX + 2];
	struct prompt_asker a = asker("app:flood", "f.example", "f.example", 3);
	static char long_key[PROMPT_APP_MAX + 10];
	int held = 0;

	prompters = true;
	for (int i = 0; i < PROMPT_WAITERS_MAX + 2; i++)
		held += prompts_hold(p, &a, &w[i]) != NULL;
	CHECK_INT(held, PROMPT_WAITERS_MAX);
	event_base_dispatch(base); /* times out: all held resumed */
	CHECK_INT(w[0].resumed, 1);
	CHECK_INT(w[PROMPT_WAITERS_MAX + 1].resumed, 0); /* never held */
	/* Timed out a moment ago: the next query is not held. */
	CHECK(prompts_hold(p, &a, &w[0]) == NULL);
	CHECK_INT(prompts_count(p, false), 1);
	/* A key longer than a prompt holds whole. */
	memset(long_key, 'k', sizeof long_key - 1);
	a = asker(long_key, "g.example", "g.example", 3);
	CHECK(prompts_hold(p, &a, &w[1]) == NULL);
	CHECK_INT(prompts_count(p, false), 1);
	prompts_free(p);
}

/* The rule an answer is kept as: quoted, and never wider than asked. */
static void
test_rule_text(void)
{
	struct prompt_info info = {.app = "flatpak:org.example.A",
				   .name = "ads.example.com",
				   .domain = "example.com"};
	struct prompt_answer ans = answer(PROMPT_ALLOW, PROMPT_FOREVER,
					  PROMPT_SCOPE_NAME);
	char buf[512], err[128];

	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), 0);
	CHECK_STR(buf, "allow app=\"flatpak:org.example.A\" "
		       "name=\"ads.example.com\"");
	ans = answer(PROMPT_BLOCK, PROMPT_FOR, PROMPT_SCOPE_DOMAIN);
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), 0);
	CHECK_STR(buf, "block app=\"flatpak:org.example.A\" "
		       "domain=\"example.com\" for=60s");
	ans = answer(PROMPT_ALLOW, PROMPT_FOREVER, PROMPT_SCOPE_APP);
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), 0);
	CHECK_STR(buf, "allow app=\"flatpak:org.example.A\" name=*");
	/* A qname "*" (or "*.x") would read back as every name. */
	info.name = "*";
	ans = answer(PROMPT_ALLOW, PROMPT_FOREVER, PROMPT_SCOPE_NAME);
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), -1);
	info.name = "*.example.com";
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), -1);
	/* A key with a line break or a quote cannot start another rule. */
	info.name = "ads.example.com";
	info.app = "app:x\nallow name=*";
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), -1);
	info.app = "app:x\" name=* \"";
	CHECK_INT(prompt_control_rule_text(&info, &ans, buf, sizeof buf, err,
					   sizeof err), 0);
	CHECK_STR(buf, "allow app=\"app:x\\\" name=* \\\"\" "
		       "name=\"ads.example.com\"");
}

int
main(void)
{
	struct event_base *base = event_base_new();
	struct prompt_hooks hooks = {has_prompters, on_shown, on_closed,
				     on_keep, on_resume, NULL};
	struct prompts *p = prompts_new(base, 50, &hooks);
	struct waiter w1 = {0}, w2 = {0}, w3 = {0}, w4 = {0};
	struct prompt_asker a = asker("app:one", "ads.example.com",
				      "example.com", 7);
	struct prompt_answer ans, got;
	struct prompt_wait *h;
	char err[256], name[64];
	int64_t now = 1000000;

	/* Nobody to ask: not held, the prompt is pending. */
	CHECK(prompts_hold(p, &a, &w1) == NULL);
	CHECK_INT(prompts_count(p, false), 1);
	CHECK_INT(prompts_count(p, true), 0);
	CHECK_INT(shown, 0);

	/* A prompter: held, shown once; a repeat joins. */
	prompters = true;
	CHECK(prompts_hold(p, &a, &w1) != NULL);
	CHECK(prompts_hold(p, &a, &w2) != NULL);
	CHECK_INT(shown, 1);
	CHECK_INT(prompts_count(p, true), 1);
	/* Allow once: both resumed, nothing kept. */
	ans = answer(PROMPT_ALLOW, PROMPT_ONCE, PROMPT_SCOPE_NAME);
	CHECK_INT(prompts_answer(p, id_of_first(p), &ans, err, sizeof err), 0);
	CHECK_INT(w1.resumed, 1);
	CHECK_INT(w2.resumed, 1);
	CHECK(w1.answered && w1.action == PROMPT_ALLOW);
	CHECK_INT(prompts_count(p, false), 0);
	CHECK_INT(closed, 1);
	CHECK(!prompts_answered(p, "app:one", 7, "ads.example.com", now, &got));
	CHECK_INT(prompts_answer(p, 1, &ans, err, sizeof err), -1);
	CHECK(strstr(err, "answered already") != NULL);

	/* The timeout: resumed unanswered, the prompt stays pending; a
	 * later answer (forever) is kept and bridged to its rule. */
	memset(&w1, 0, sizeof w1);
	CHECK(prompts_hold(p, &a, &w1) != NULL);
	event_base_dispatch(base); /* the timer fires, then nothing is left */
	CHECK_INT(w1.resumed, 1);
	CHECK(!w1.answered);
	CHECK_INT(prompts_count(p, false), 1);
	CHECK_INT(prompts_count(p, true), 0);
	ans = answer(PROMPT_BLOCK, PROMPT_FOREVER, PROMPT_SCOPE_NAME);
	CHECK_INT(prompts_answer(p, id_of_first(p), &ans, err, sizeof err), 0);
	CHECK_INT(kept_calls, 1);
	CHECK_STR(last_kept_name, "ads.example.com");
	CHECK(prompts_answered(p, "app:one", 99, "ads.example.com", now, &got));
	CHECK(got.action == PROMPT_BLOCK);
	CHECK(!prompts_answered(p, "app:two", 7, "ads.example.com", now, &got));
	CHECK(!prompts_answered(p, "app:one", 7, "x.example.com", now, &got));
	prompts_sweep(p, now, 4, NULL, NULL); /* its build is not in force */
	CHECK_INT(prompts_answers_count(p), 1);
	prompts_sweep(p, now, 5, NULL, NULL);
	CHECK_INT(prompts_answers_count(p), 0);

	/* A keep that fails: the answer stands in memory, err says so. */
	keep_build = -1;
	CHECK(prompts_hold(p, &a, &w3) != NULL);
	CHECK_INT(prompts_answer(p, id_of_first(p), &ans, err, sizeof err), 0);
	CHECK(strstr(err, "disk full") != NULL);
	prompts_sweep(p, now, 1000, NULL, NULL);
	CHECK_INT(prompts_answers_count(p), 1); /* not bridged: kept */
	CHECK(prompts_answered(p, "app:one", 7, "ads.example.com", now, &got));
	keep_build = 5;

	/* The domain scope closes every prompt of the app under it, and
	 * not another app's. */
	memset(&w1, 0, sizeof w1);
	memset(&w2, 0, sizeof w2);
	memset(&w3, 0, sizeof w3);
	a = asker("app:one", "a.example.org", "example.org", 7);
	CHECK(prompts_hold(p, &a, &w1) != NULL);
	a = asker("app:one", "b.example.org", "example.org", 7);
	CHECK(prompts_hold(p, &a, &w2) != NULL);
	a = asker("app:two", "c.example.org", "example.org", 8);
	CHECK(prompts_hold(p, &a, &w3) != NULL);
	a = asker("app:one", "example.net", "example.net", 7);
	CHECK(prompts_hold(p, &a, &w4) != NULL);
	ans = answer(PROMPT_ALLOW, PROMPT_APP_EXIT, PROMPT_SCOPE_DOMAIN);
	CHECK_INT(prompts_answer(p, id_of_first(p), &ans, err, sizeof err), 0);
	CHECK_INT(w1.resumed + w2.resumed, 2);
	CHECK_INT(w3.resumed + w4.resumed, 0);
	/* Until exit: only that cgroup, and gone with it. */
	CHECK(prompts_answered(p, "app:one", 7, "z.example.org", now, &got));
	CHECK(prompts_answered(p, "app:one", 7, "example.org", now, &got));
	CHECK(!prompts_answered(p, "app:one", 8, "z.example.org", now, &got));
	CHECK(!prompts_answered(p, "app:one", 7, "notexample.org", now, &got));

	/* The app scope, for a time. */
	ans = answer(PROMPT_BLOCK, PROMPT_FOR, PROMPT_SCOPE_APP);
	/* app:two's prompt is the first open one now */
	CHECK_INT(prompts_answer(p, id_of_first(p), &ans, err, sizeof err), 0);
	CHECK_INT(w3.resumed, 1);
	CHECK(w3.action == PROMPT_BLOCK);
	{
		struct timespec ts;
		int64_t wall;

		clock_gettime(CLOCK_REALTIME, &ts);
		wall = (int64_t)ts.tv_sec * 1000;
		CHECK(prompts_answered(p, "app:two", 1, "any.example", wall,
				       &got));
		CHECK(!prompts_answered(p, "app:two", 1, "any.example",
					wall + 61000, &got));
		prompts_sweep(p, wall + 61000, 0, NULL, NULL);
		CHECK(!prompts_answered(p, "app:two", 1, "any.example", wall,
					&got));
	}

	/* Cancelled: never resumed. */
	a = asker("app:one", "example.net", "example.net", 7);
	h = prompts_hold(p, &a, &w1);
	CHECK(h != NULL);
	prompts_cancel(p, h);
	prompts_expire_open(p); /* w4 resumes unanswered, w1 not at all */
	CHECK_INT(w4.resumed, 1);
	CHECK(!w4.answered);
	CHECK_INT(w1.resumed, 1); /* from the domain answer above only */

	/* One app has PROMPT_PER_APP prompts at most: its own oldest
	 * pending one makes room. */
	prompters = false;
	closed_unanswered = 0;
	for (int i = 0; i < PROMPT_PER_APP + 5; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		a = asker("app:many", name, "", 9);
		CHECK(prompts_hold(p, &a, &w1) == NULL);
	}
	CHECK_INT(prompts_count(p, false), PROMPT_PER_APP + 1);
	CHECK_INT(closed_unanswered, 5);
	/* PROMPT_MAX in all: the oldest pending prompt of any app goes. */
	for (int i = 0; i < PROMPT_MAX + 3; i++) {
		char app[32];

		snprintf(app, sizeof app, "app:m%d", i);
		a = asker(app, "x.example", "", 9);
		CHECK(prompts_hold(p, &a, &w1) == NULL);
	}
	CHECK_INT(prompts_count(p, false), PROMPT_MAX);
	CHECK(closed_unanswered >= 5 + PROMPT_PER_APP + 1 + 3);

	CHECK(prompt_name_in("a.b.example", "b.example"));
	CHECK(!prompt_name_in("ab.example", "b.example"));
	CHECK(!prompt_name_in("b.example", ""));
	for (int i = 0; i < 4; i++) {
		enum prompt_duration d;

		CHECK_INT(prompt_duration_parse(prompt_duration_name(i), &d), 0);
		CHECK_INT(d, i);
	}
	prompts_free(p);
	test_bounds(base);
	test_rule_text();
	event_base_free(base);
	return check_exit();
}
