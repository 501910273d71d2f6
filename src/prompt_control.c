/* prompt_control.c - prompts shown to and answered by the control
 * socket's prompters; answers kept as rules. */
#include "config.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resolver/message.h"
#include "src/cgroup.h"
#include "src/control.h"
#include "src/events.h"
#include "src/json.h"
#include "src/log.h"
#include "src/prompt_control.h"
#include "src/query.h"
#include "src/xmalloc.h"

#define TOPIC "prompt"

struct prompt_control {
	struct prompts *prompts;
	struct control *control;
	uint32_t timeout_ms;
	prompt_keep_rule_fn *keep_rule;
	void *keep_arg;
	bool stopping; /* the daemon stops: held queries are its to answer */
};

/* The members of a prompt, as shown and as listed. */
static void
write_prompt(struct json_out *out, const struct prompt_info *p,
	     uint32_t timeout_ms)
{
	char tbuf[16];

	json_key(out, "id");
	json_uint(out, p->id);
	json_key(out, "open");
	json_bool(out, p->open);
	json_key(out, "app");
	json_string(out, p->app);
	json_key(out, "exe");
	json_string(out, p->exe);
	json_key(out, "pid");
	json_int(out, p->pid);
	json_key(out, "uid");
	json_int(out, p->uid);
	json_key(out, "cgroup");
	json_string(out, p->cgroup);
	json_key(out, "name");
	json_string(out, p->name);
	json_key(out, "qtype");
	json_string(out, message_type_name(p->qtype, tbuf, sizeof tbuf));
	json_key(out, "domain");
	json_string(out, p->domain);
	json_key(out, "lists"); /* comma-separated: a prompt stays flat */
	json_string(out, p->lists);
	json_key(out, "asked_ms");
	json_int(out, p->asked_ms);
	json_key(out, "repeats");
	json_uint(out, p->repeats);
	json_key(out, "waiting");
	json_uint(out, p->waiting);
	json_key(out, "timeout_ms");
	json_uint(out, timeout_ms);
}

struct shown_arg {
	const struct prompt_info *p;
	uint32_t timeout_ms;
	const struct prompt_answer *a;
};

static int
fill_shown(void *arg, struct json_out *out, char *err, size_t errlen)
{
	struct shown_arg *s = arg;

	(void)err;
	(void)errlen;
	json_key(out, "event");
	json_string(out, "prompt");
	write_prompt(out, s->p, s->timeout_ms);
	return 0;
}

static void
write_answer(struct json_out *out, const struct prompt_answer *a)
{
	json_key(out, "action");
	json_string(out, prompt_action_name(a->action));
	json_key(out, "duration");
	json_string(out, prompt_duration_name(a->duration));
	if (a->duration == PROMPT_FOR) {
		json_key(out, "seconds");
		json_uint(out, a->seconds);
	}
	json_key(out, "scope");
	json_string(out, prompt_scope_name(a->scope));
	json_key(out, "by");
	json_string(out, a->by);
}

static int
fill_closed(void *arg, struct json_out *out, char *err, size_t errlen)
{
	struct shown_arg *s = arg;

	(void)err;
	(void)errlen;
	json_key(out, "event");
	json_string(out, "prompt-closed");
	json_key(out, "id");
	json_uint(out, s->p->id);
	json_key(out, "app");
	json_string(out, s->p->app);
	json_key(out, "name");
	json_string(out, s->p->name);
	json_key(out, "answered");
	json_bool(out, s->a != NULL);
	if (s->a != NULL)
		write_answer(out, s->a);
	else {
		json_key(out, "why");
		json_string(out, "dropped: room for newer prompts was "
				 "needed, or it was pending for an hour");
	}
	return 0;
}

static bool
hook_has_prompters(void *arg)
{
	struct prompt_control *pc = arg;

	return pc->control != NULL && control_watched(pc->control, TOPIC);
}

static void
hook_shown(void *arg, const struct prompt_info *p)
{
	struct prompt_control *pc = arg;
	struct shown_arg s = {p, pc->timeout_ms, NULL};

	log_info("app=%s pid=%" PRId64 " exe=%s asks for %s: shown to the "
		 "prompters (prompt %" PRIu64 ", held for %u ms at most)",
		 p->app, p->pid, p->exe[0] ? p->exe : "?", p->name, p->id,
		 pc->timeout_ms);
	control_publish(pc->control, TOPIC, fill_shown, &s);
}

static void
hook_closed(void *arg, const struct prompt_info *p,
	    const struct prompt_answer *a)
{
	struct prompt_control *pc = arg;
	struct shown_arg s = {p, pc->timeout_ms, a};

	control_publish(pc->control, TOPIC, fill_closed, &s);
}

/* A value for the rules language: quoted, with \" and \\ escaped;
 * -1 for a byte no rules line can hold (a control byte, a newline). */
static int
quote(const char *value, char *buf, size_t len)
{
	size_t used = 0;

	if (len < 3)
		return -1;
	buf[used++] = '"';
	for (const unsigned char *s = (const unsigned char *)value; *s; s++) {
		if (*s < 0x20 || *s == 0x7f)
			return -1;
		if (used + 4 >= len)
			return -1;
		if (*s == '"' || *s == '\\')
			buf[used++] = '\\';
		buf[used++] = (char)*s;
	}
	buf[used++] = '"';
	buf[used] = '\0';
	return 0;
}

int
prompt_control_rule_text(const struct prompt_info *p,
			 const struct prompt_answer *a, char *buf, size_t len,
			 char *err, size_t errlen)
{
	char app[2 * PROMPT_FIELD_MAX + 3], dest[2 * 256 + 16];
	char when[32] = "";
	int n;

	if (quote(p->app, app, sizeof app) < 0) {
		snprintf(err, errlen, "the app's key has a byte the rules "
			 "language cannot hold");
		return -1;
	}
	switch (a->scope) {
	case PROMPT_SCOPE_NAME:
	case PROMPT_SCOPE_DOMAIN: {
		const char *target =
		    a->scope == PROMPT_SCOPE_NAME ? p->name : p->domain;
		char q[2 * 256 + 3];

		/* A name with a '*' (a qname may be "*" or "*.x") would
		 * read back as name=* or a wildcard: every name. */
		if (target[0] == '\0' || strchr(target, '\\') != NULL ||
		    strchr(target, '*') != NULL ||
		    quote(target, q, sizeof q) < 0) {
			snprintf(err, errlen, "the name %s cannot be written "
				 "as a rule", target);
			return -1;
		}
		snprintf(dest, sizeof dest, "%s=%s",
			 a->scope == PROMPT_SCOPE_NAME ? "name" : "domain", q);
		break;
	}
	case PROMPT_SCOPE_APP:
		snprintf(dest, sizeof dest, "name=*");
		break;
	}
	if (a->duration == PROMPT_FOR)
		snprintf(when, sizeof when, " for=%" PRIu32 "s", a->seconds);
	n = snprintf(buf, len, "%s app=%s %s%s",
		     a->action == PROMPT_ALLOW ? "allow" : "block", app, dest,
		     when);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "the rule is too long to write");
		return -1;
	}
	return 0;
}

static int64_t
hook_keep(void *arg, const struct prompt_info *p, const struct prompt_answer *a,
	  char *err, size_t errlen)
{
	struct prompt_control *pc = arg;
	char rule[4096], note[128];
	int64_t build;

	if (pc->keep_rule == NULL) {
		snprintf(err, errlen, "no rules file to keep it in");
		return -1;
	}
	if (prompt_control_rule_text(p, a, rule, sizeof rule, err, errlen) < 0)
		return -1;
	snprintf(note, sizeof note, "answered at a prompt by %s", a->by);
	build = pc->keep_rule(pc->keep_arg, rule, note, err, errlen);
	if (build >= 0)
		log_info("app=%s: the answer for %s is kept as the rule '%s'",
			 p->app, p->name, rule);
	return build;
}

struct prompt_control *
prompt_control_new(struct event_base *base, uint32_t timeout_ms,
		   prompt_keep_rule_fn *keep_rule, void *keep_arg)
{
	struct prompt_control *pc = xcalloc(1, sizeof *pc);
	struct prompt_hooks hooks = {
	    .has_prompters = hook_has_prompters,
	    .shown = hook_shown,
	    .closed = hook_closed,
	    .keep = hook_keep,
	    .resume = query_prompt_resume,
	    .arg = pc,
	};

	pc->timeout_ms = timeout_ms;
	pc->keep_rule = keep_rule;
	pc->keep_arg = keep_arg;
	pc->prompts = prompts_new(base, timeout_ms, &hooks);
	return pc;
}

void
prompt_control_free(struct prompt_control *pc)
{
	if (pc == NULL)
		return;
	prompts_free(pc->prompts);
	free(pc);
}

void
prompt_control_set_control(struct prompt_control *pc, struct control *c)
{
	pc->control = c;
}

void
prompt_control_stop(struct prompt_control *pc)
{
	pc->control = NULL;
	pc->stopping = true;
}

struct prompts *
prompt_control_prompts(struct prompt_control *pc)
{
	return pc->prompts;
}

/* The prompt command's reply lists so many prompts at most (open ones
 * first): each may take a few KiB, and the reply is bounded. */
#define LIST_MAX 32

struct list_arg {
	struct json_out *out;
	uint32_t timeout_ms;
	size_t listed, more;
};

static void
list_one(void *arg, const struct prompt_info *info)
{
	struct list_arg *l = arg;

	if (l->listed >= LIST_MAX) {
		l->more++;
		return;
	}
	l->listed++;
	json_object_begin(l->out);
	write_prompt(l->out, info, l->timeout_ms);
	json_object_end(l->out);
}

int
prompt_control_watch(struct prompt_control *pc, struct json_out *out,
		     char *err, size_t errlen)
{
	struct list_arg l = {out, pc->timeout_ms, 0, 0};

	if (pc->control == NULL || control_watch(pc->control, TOPIC) < 0) {
		snprintf(err, errlen, "this connection watches too many topics "
			 "already: open another");
		return -1;
	}
	json_key(out, "timeout_ms");
	json_uint(out, pc->timeout_ms);
	json_key(out, "prompts");
	json_array_begin(out);
	prompts_each(pc->prompts, list_one, &l);
	json_array_end(out);
	json_key(out, "more"); /* not listed: shown as they open again */
	json_uint(out, l.more);
	return 0;
}

int
prompt_control_answer(struct prompt_control *pc, const char *request,
		      size_t len, struct json_out *out, char *err,
		      size_t errlen)
{
	const struct control_peer *peer =
	    pc->control != NULL ? control_peer(pc->control) : NULL;
	struct prompt_answer a = {0};
	char word[32], warn[512];
	int64_t id, seconds = 0;

	if (json_flat_get_int_range(request, len, "id", 1, INT64_MAX, &id) < 0) {
		snprintf(err, errlen, "answer needs \"id\": the prompt's id");
		return -1;
	}
	if (json_flat_get_string(request, len, "action", word, sizeof word) <
		0 ||
	    prompt_action_parse(word, &a.action) < 0) {
		snprintf(err, errlen, "answer needs \"action\": allow or block");
		return -1;
	}
	if (json_flat_get_string(request, len, "duration", word, sizeof word) <
		0 ||
	    prompt_duration_parse(word, &a.duration) < 0) {
		snprintf(err, errlen, "answer needs \"duration\": once, "
			 "app-exit, for (with \"seconds\") or forever");
		return -1;
	}
	if (a.duration == PROMPT_FOR) {
		if (json_flat_get_int_range(request, len, "seconds", 1,
				      366LL * 86400, &seconds) < 0) {
			snprintf(err, errlen, "duration for needs \"seconds\": "
				 "1 to 31622400");
			return -1;
		}
		a.seconds = (uint32_t)seconds;
	}
	if (json_flat_get_string(request, len, "scope", word, sizeof word) <
		0) {
		a.scope = PROMPT_SCOPE_NAME;
	} else if (prompt_scope_parse(word, &a.scope) < 0) {
		snprintf(err, errlen, "scope is name, domain or app, not '%s'",
			 word);
		return -1;
	}
	if (peer != NULL)
		snprintf(a.by, sizeof a.by, "uid %u", (unsigned)peer->uid);
	else
		snprintf(a.by, sizeof a.by, "?");
	if (prompts_answer(pc->prompts, (uint64_t)id, &a, warn, sizeof warn) <
	    0) {
		snprintf(err, errlen, "%s", warn);
		return -1;
	}
	log_info("prompt %" PRId64 " answered by %s: %s %s, scope %s%s%s",
		 id, a.by, prompt_action_name(a.action),
		 prompt_duration_name(a.duration), prompt_scope_name(a.scope),
		 warn[0] ? ": " : "", warn);
	json_key(out, "id");
	json_uint(out, (uint64_t)id);
	json_key(out, "answered");
	json_bool(out, true);
	if (warn[0] != '\0') {
		json_key(out, "warning");
		json_string(out, warn);
	}
	return 0;
}

void
prompt_control_watcher_gone(struct prompt_control *pc)
{
	if (!pc->stopping && !hook_has_prompters(pc))
		prompts_expire_open(pc->prompts);
}

static bool
cgroup_alive(void *arg, uint64_t id)
{
	struct cgroup_tree *tree = arg;
	char path[512];
	unsigned level;

	return cgroup_lookup(tree, id, path, sizeof path, &level) == 0 &&
	       cgroup_id_of_path(tree, path) == id;
}

void
prompt_control_sweep(struct prompt_control *pc, int64_t built,
		     struct cgroup_tree *tree)
{
	prompts_sweep(pc->prompts, events_now_ms(), built,
		      tree != NULL ? cgroup_alive : NULL, tree);
}
