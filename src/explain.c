/* explain.c - who an app is, and which rules name it for a name. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/attribution.h"
#include "src/explain.h"
#include "src/json.h"
#include "src/policy.h"
#include "src/rule.h"
#include "src/rules.h"
#include "src/xmalloc.h"

static int
from_pid(long pid, struct app_identity *id, int64_t *uid, char *err,
	 size_t errlen)
{
	struct attribution *who = xmalloc(sizeof *who);
	struct app_identity_source src;
	char why[128];
	int rc = attr_read_process("/proc", (pid_t)pid, who);

	if (rc < 0) {
		snprintf(err, errlen, "no process %ld (%s)", pid, strerror(-rc));
		free(who);
		return -1;
	}
	attr_identity_source(who, &src);
	*uid = who->uid;
	(void)app_identity_from(&src, id, why, sizeof why);
	free(who);
	return 0;
}

/* "a:b:c" -> the part after n colons, or NULL. */
static const char *
after_colons(const char *key, int n)
{
	while (n-- > 0) {
		key = strchr(key, ':');
		if (key == NULL)
			return NULL;
		key++;
	}
	return key;
}

static void
copy_until(char *dst, size_t len, const char *src, char stop)
{
	size_t i = 0;

	while (src[i] != '\0' && src[i] != stop && i + 1 < len) {
		dst[i] = src[i];
		i++;
	}
	dst[i] = '\0';
}

/* The fields a key holds, back from it (README.md, "Who the app is"). */
static void
from_key(const char *key, struct app_identity *id, int64_t *uid)
{
	const char *rest;

	snprintf(id->key, sizeof id->key, "%s", key);
	snprintf(id->cgroup, sizeof id->cgroup, "?");
	*uid = -1;
	if (strncmp(key, "flatpak:", 8) == 0) {
		id->kind = APP_KIND_FLATPAK;
		copy_until(id->app_id, sizeof id->app_id, key + 8, ':');
		snprintf(id->launcher, sizeof id->launcher, "flatpak");
	} else if (strncmp(key, "app:", 4) == 0) {
		id->kind = APP_KIND_DESKTOP;
		copy_until(id->app_id, sizeof id->app_id, key + 4, ':');
		rest = after_colons(key, 2);
		if (rest != NULL && rest[0] == '/')
			snprintf(id->exe, sizeof id->exe, "%s", rest);
	} else if (strncmp(key, "snap:", 5) == 0) {
		char *dot;

		id->kind = APP_KIND_SNAP;
		copy_until(id->snap_name, sizeof id->snap_name, key + 5, ':');
		dot = strchr(id->snap_name, '.');
		if (dot != NULL) {
			*dot = '\0';
			snprintf(id->snap_app, sizeof id->snap_app, "%s",
				 dot + 1);
		} else {
			snprintf(id->snap_app, sizeof id->snap_app, "%s",
				 id->snap_name);
		}
	} else if (strncmp(key, "system:", 7) == 0) {
		id->kind = APP_KIND_SYSTEM;
		copy_until(id->unit, sizeof id->unit, key + 7, ':');
	} else if (strncmp(key, "user:", 5) == 0 &&
		   isdigit((unsigned char)key[5])) {
		id->kind = APP_KIND_USER;
		id->user_named = true;
		*uid = strtoll(key + 5, NULL, 10);
		rest = after_colons(key, 2);
		if (rest != NULL)
			copy_until(id->unit, sizeof id->unit, rest, ':');
	} else if (strncmp(key, "session:", 8) == 0 &&
		   isdigit((unsigned char)key[8])) {
		id->kind = APP_KIND_SESSION;
		*uid = strtoll(key + 8, NULL, 10);
		rest = after_colons(key, 2);
		if (rest != NULL && rest[0] == '/')
			snprintf(id->exe, sizeof id->exe, "%s", rest);
	} else if (strncmp(key, "cgroup:", 7) == 0) {
		snprintf(id->cgroup, sizeof id->cgroup, "%s", key + 7);
	}
	/* An instance's template: getty@tty1.service is getty@.service. */
	if (id->unit[0] != '\0') {
		const char *at = strchr(id->unit, '@');
		const char *dot = strrchr(id->unit, '.');

		snprintf(id->unit_exact, sizeof id->unit_exact, "%s",
			 id->unit);
		if (at != NULL && dot != NULL && dot > at)
			snprintf(id->unit_template, sizeof id->unit_template,
				 "%.*s%s", (int)(at - id->unit + 1), id->unit,
				 dot);
	}
	id->uid = *uid;
}

int
explain_identity(const char *app, struct app_identity *id, int64_t *uid,
		 char *err, size_t errlen)
{
	struct app_identity_source src;
	const char *p;
	char why[128];

	memset(id, 0, sizeof *id);
	*uid = -1;
	if (app[0] == '\0') {
		snprintf(err, errlen, "no app given: a pid, a cgroup path or "
			 "an app key");
		return -1;
	}
	for (p = app; isdigit((unsigned char)*p); p++)
		;
	if (*p == '\0' && p - app < 10)
		return from_pid(strtol(app, NULL, 10), id, uid, err, errlen);
	if (app[0] == '/') {
		memset(&src, 0, sizeof src);
		src.cgroup_path = app;
		src.uid = APP_IDENTITY_UID_UNKNOWN;
		(void)app_identity_from(&src, id, why, sizeof why);
		*uid = id->cgroup_uid;
		return 0;
	}
	for (p = app; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == '"' || *p == 0x7f) {
			snprintf(err, errlen, "'%s' is not an app key (no "
				 "blanks or quotes in one)", app);
			return -1;
		}
	from_key(app, id, uid);
	return 0;
}

struct trail {
	const struct policy *p;
	struct json_out *out;
};

/* A rule's members: its text, where it is written, and its id when it
 * has one (what dnsgatectl rules delete takes). */
static void
write_rule(struct json_out *out, const struct rule *rule)
{
	char text[PATH_MAX + 512], origin[PATH_MAX + 32];

	json_key(out, "rule");
	json_string(out, rule_format(rule, text, sizeof text));
	json_key(out, "origin");
	json_string(out, rule_origin(rule, origin, sizeof origin));
	if (rule->id != 0) {
		char id[RULE_ID_TEXT_MAX];

		json_key(out, "id");
		json_string(out, rule_id_format(rule->id, id, sizeof id));
	}
}

static void
on_match(void *arg, const struct rule *rule, const char *name,
	 const char *entry, bool expired, bool decided)
{
	struct trail *t = arg;

	json_object_begin(t->out);
	write_rule(t->out, rule);
	if (name != NULL) {
		json_key(t->out, "name");
		json_string(t->out, name);
	}
	if (!rule->is_default && rule->dest == RULE_DEST_LIST) {
		json_key(t->out, "list");
		json_string(t->out, policy_list_name(t->p, rule->list));
		json_key(t->out, "entry");
		json_string(t->out, entry ? entry : "?");
	}
	json_key(t->out, "expired");
	json_bool(t->out, expired);
	json_key(t->out, "decided");
	json_bool(t->out, decided);
	json_object_end(t->out);
}

static void
on_place(void *arg, const struct rule *rule, bool expired)
{
	struct trail *t = arg;

	json_object_begin(t->out);
	write_rule(t->out, rule);
	json_key(t->out, "expired");
	json_bool(t->out, expired);
	json_object_end(t->out);
}

static const char *
known_of(const struct app_identity *id, int64_t uid, char *buf, size_t len)
{
	snprintf(buf, len, "kind=%s cgroup=%s exe=%s uid=%s",
		 app_kind_name(id->kind), id->cgroup[0] ? id->cgroup : "?",
		 id->exe[0] ? id->exe : "? (exe= rules cannot be judged)",
		 uid >= 0 ? "known" : "?");
	return buf;
}

void
explain_json(const struct policy *p, const struct app_identity *id,
	     int64_t uid, const char *name, struct json_out *out)
{
	struct trail t = {p, out};
	struct rules_asker *a = policy_asker(p, id, uid);
	struct rules_verdict v;
	char buf[PATH_MAX + 640], origin[PATH_MAX + 32];
	enum rules_outcome o;

	json_key(out, "app");
	json_string(out, id->key);
	json_key(out, "known");
	json_string(out, known_of(id, uid, buf, sizeof buf));
	if (uid >= 0) {
		json_key(out, "uid");
		json_int(out, uid);
	}
	json_key(out, "name");
	json_string(out, name);
	json_key(out, "matches");
	json_array_begin(out);
	o = policy_explain(p, a, &name, 1, on_match, &t, &v);
	json_array_end(out);
	json_key(out, "decision");
	json_string(out, o == RULES_BLOCK	? "block"
			 : o == RULES_ALLOW ? "allow"
					    : "undecided");
	json_key(out, "decided_by");
	if (o == RULES_UNDECIDED)
		json_string(out, "an exe= rule, and the exe is not known");
	else if (v.rule == NULL)
		json_string(out, "no rule and no default: allowed");
	else if (v.asked)
		snprintf(buf, sizeof buf, "%s (ask: the app's default, %s, "
			 "until prompts exist)",
			 rule_origin(v.rule, origin, sizeof origin),
			 o == RULES_BLOCK ? "block" : "allow"),
		    json_string(out, buf);
	else
		json_string(out, rule_origin(v.rule, origin, sizeof origin));
	/* What then judges each address of an allowed answer, in order:
	 * the places themselves are known only once it is in. */
	json_key(out, "places");
	json_array_begin(out);
	rules_places(policy_rules(p), a, (int64_t)time(NULL), on_place, &t);
	json_array_end(out);
	rules_asker_free(a);
}
