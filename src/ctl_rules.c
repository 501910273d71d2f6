/* ctl_rules.c - the rules commands' requests and their replies for
 * people. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/ctl_rules.h"
#include "src/json.h"
#include "src/rules_file.h"

bool
ctl_rules_is_command(const char *word)
{
	return strcmp(word, "rules") == 0 || strcmp(word, "allow") == 0 ||
	       strcmp(word, "block") == 0 || strcmp(word, "pause") == 0 ||
	       strcmp(word, "resume") == 0;
}

void
ctl_rules_usage(FILE *out)
{
	fprintf(
	    out,
	    "  rules [list] [--app A] [--json]\n"
	    "                   every rule in force: its id, file:line, the "
	    "rule,\n"
	    "                   and whether dnsgatectl may delete it "
	    "(--app: rules\n"
	    "                   whose app contains A)\n"
	    "  rules add RULE...  add a rule (dnsgate.rules(5) syntax) to "
	    "the\n"
	    "                   file dnsgated owns; replies once it is in "
	    "force\n"
	    "  rules delete ID  remove a rule dnsgatectl added\n"
	    "  allow|block [--app A] NAME|KEY=VALUE [for=D|until=T]\n"
	    "                   rules add ACTION app=A name=NAME ...; A "
	    "with '='\n"
	    "                   (exe=..., uid=...) is taken as it is\n"
	    "  pause [DURATION] let through what lists and rules block, "
	    "for\n"
	    "                   DURATION (90s, 30m, 2h) or until resume\n"
	    "  resume           end a pause\n");
}

/* Joins words with blanks into buf. Returns 0, or -1 when they do not
 * fit a rules file's line. */
static int
join(int n, char **words, char *buf, size_t len)
{
	size_t used = 0, w;
	int i;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		w = strlen(words[i]);
		if (used + w + 2 > len || used + w + 1 > RULES_FILE_LINE_MAX)
			return -1;
		if (i > 0)
			buf[used++] = ' ';
		memcpy(buf + used, words[i], w + 1);
		used += w;
	}
	return 0;
}

static const char *
request(char *buf, size_t len, const char *command, const char *key,
        const char *value)
{
	struct json_out j;

	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, command);
	if (key != NULL) {
		json_key(&j, key);
		json_string(&j, value);
	}
	json_object_end(&j);
	return json_out_ok(&j) ? json_out_text(&j) : NULL;
}

/* --- replies for people ------------------------------------------------ */

static void
get(const char *obj, size_t len, const char *key, char *out, size_t outlen)
{
	if (json_flat_get_string(obj, len, key, out, outlen) == -1)
		snprintf(out, outlen, "?");
}

/* The flat objects of the array member "rules": calls fn with each. A
 * string never holds a raw '"' (it is escaped), so the braces that
 * count are found by skipping strings. */
static size_t
each_rule(const char *reply, void (*fn)(FILE *, const char *, size_t),
          FILE *out)
{
	const char *p = strstr(reply, "\"rules\":["), *start = NULL;
	size_t n = 0;

	if (p == NULL)
		return 0;
	for (p += 9; *p != '\0' && *p != ']'; p++) {
		if (*p == '"') {
			for (p++; *p != '\0' && *p != '"'; p++)
				if (*p == '\\' && p[1] != '\0')
					p++;
			if (*p == '\0')
				break;
		} else if (*p == '{') {
			start = p;
		} else if (*p == '}' && start != NULL) {
			fn(out, start, (size_t)(p + 1 - start));
			start = NULL;
			n++;
		}
	}
	return n;
}

static bool
has_true(const char *obj, size_t len, const char *key)
{
	char pat[64];
	size_t n = (size_t)snprintf(pat, sizeof pat, "\"%s\":true", key);

	return memmem(obj, len, pat, n) != NULL;
}

static void
print_rule(FILE *out, const char *obj, size_t len)
{
	char id[16], origin[4200], rule[8200], note[512] = "";

	get(obj, len, "id", id, sizeof id);
	get(obj, len, "origin", origin, sizeof origin);
	get(obj, len, "rule", rule, sizeof rule);
	if (json_flat_get_string(obj, len, "note", note, sizeof note) < 0)
		note[0] = '\0';
	fprintf(out, "%-8s  %-6s  %s\n  %s%s%s%s\n", id,
	        has_true(obj, len, "deletable") ? "yes" : "no", rule, origin,
	        has_true(obj, len, "expired") ? "  (expired)" : "",
	        note[0] ? "  # " : "", note);
}

static int
print_rules(FILE *out, const char *reply)
{
	char file[4200];
	size_t n;

	get(reply, strlen(reply), "file", file, sizeof file);
	fprintf(out, "%-8s  %-6s  %s\n  %s\n", "ID", "DELETE", "RULE", "WHERE");
	n = each_rule(reply, print_rule, out);
	if (has_true(reply, strlen(reply), "truncated"))
		fprintf(out, "(the first %zu only: the reply has a size limit; "
			     "--app narrows the list, or read the files)\n",
			n);
	fprintf(out,
	        "%zu rule%s; 'dnsgatectl rules delete ID' removes one "
	        "that dnsgatectl added (in %s); the others are edited in their "
	        "file\n",
	        n, n == 1 ? "" : "s", file);
	return 0;
}

static int
print_change(FILE *out, const char *reply)
{
	size_t len = strlen(reply);
	char id[16], rule[8200], file[4200], line[32];
	const char *p = strstr(reply, "\"line\":");

	get(reply, len, "id", id, sizeof id);
	get(reply, len, "rule", rule, sizeof rule);
	get(reply, len, "file", file, sizeof file);
	snprintf(line, sizeof line, "%ld", p ? strtol(p + 7, NULL, 10) : 0L);
	if (has_true(reply, len, "existed"))
		fprintf(out, "rule %s is there already: %s (%s:%s)\n", id, rule,
		        file, line);
	else if (has_true(reply, len, "deleted"))
		fprintf(out,
		        "rule %s deleted: %s (was %s:%s); the policy "
		        "without it is in force\n",
		        id, rule, file, line);
	else
		fprintf(out, "rule %s added: %s (%s:%s); it is in force\n", id,
		        rule, file, line);
	return 0;
}

static int
print_pause(FILE *out, const char *reply)
{
	size_t len = strlen(reply);
	char until[64];

	if (!has_true(reply, len, "paused")) {
		fprintf(out, "blocking is on%s\n",
		        strstr(reply, "\"was_paused\":false") ? " (it was not "
		                                                "paused)"
		                                              : " again");
		return 0;
	}
	get(reply, len, "paused_until", until, sizeof until);
	if (strcmp(until, "resume") == 0)
		fprintf(out, "blocking is paused until 'dnsgatectl resume' (or "
		             "a restart of dnsgated)\n");
	else
		fprintf(out,
		        "blocking is paused until %s; 'dnsgatectl resume' "
		        "ends it sooner\n",
		        until);
	return 0;
}

/* --- requests ---------------------------------------------------------- */

static int
usage_error(char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s", what);
	return -1;
}

/* allow|block [--app A] TARGET [MORE...]: the rule's text. */
static int
shortcut(int argc, char **argv, char *rule, size_t len, char *err,
         size_t errlen)
{
	char app[1200] = "", target[1200], more[RULES_FILE_LINE_MAX + 2];
	int i = 1;

	if (i + 1 < argc && strcmp(argv[i], "--app") == 0) {
		if (strchr(argv[i + 1], ' ') != NULL)
			return usage_error(err, errlen,
			                   "--app: an app key has "
			                   "no blank");
		snprintf(app, sizeof app, " %s%s",
		         strchr(argv[i + 1], '=') ? "" : "app=", argv[i + 1]);
		i += 2;
	}
	if (i >= argc || argv[i][0] == '-')
		return usage_error(err, errlen,
		                   "allow and block need a name: "
		                   "dnsgatectl block [--app A] NAME (or "
		                   "domain=NAME, wildcard=..., list=...)");
	snprintf(target, sizeof target, " %s%s",
	         strchr(argv[i], '=') ? "" : "name=", argv[i]);
	i++;
	if (join(argc - i, argv + i, more, sizeof more) < 0 ||
	    (size_t)snprintf(rule, len, "%s%s%s%s%s", argv[0], app, target,
	                     more[0] ? " " : "", more) >= len ||
	    strlen(rule) > RULES_FILE_LINE_MAX)
		return usage_error(err, errlen, "the rule is too long");
	return 0;
}

int
ctl_rules_request(int argc, char **argv, char *buf, size_t len,
                  ctl_print_fn **print, char *err, size_t errlen)
{
	char rule[RULES_FILE_LINE_MAX + 2];
	const char *cmd = argv[0], *r = NULL;

	if (strcmp(cmd, "rules") == 0) {
		const char *sub = argc > 1 ? argv[1] : "list";
		int at = 2; /* where --app may be */

		if (strcmp(sub, "--app") == 0) { /* rules --app A */
			sub = "list";
			at = 1;
		}
		if (strcmp(sub, "list") == 0) {
			*print = print_rules;
			if (argc <= at)
				r = request(buf, len, "rules", NULL, NULL);
			else if (argc == at + 2 &&
			         strcmp(argv[at], "--app") == 0)
				r = request(buf, len, "rules", "app",
				            argv[at + 1]);
			else
				return usage_error(err, errlen,
				                   "usage: dnsgatectl rules "
				                   "[list] [--app A]");
		} else if (strcmp(sub, "add") == 0) {
			*print = print_change;
			if (argc < 3)
				return usage_error(
				    err, errlen,
				    "usage: dnsgatectl rules add "
				    "ACTION [APP] DESTINATION "
				    "[for=D|until=T]");
			if (join(argc - 2, argv + 2, rule, sizeof rule) < 0)
				return usage_error(err, errlen,
				                   "the rule is too long");
			r = request(buf, len, "rules-add", "rule", rule);
		} else if (strcmp(sub, "delete") == 0) {
			*print = print_change;
			if (argc != 3)
				return usage_error(err, errlen,
				                   "usage: dnsgatectl rules "
				                   "delete ID");
			r = request(buf, len, "rules-delete", "id", argv[2]);
		} else {
			return usage_error(err, errlen,
			                   "dnsgatectl rules: list, add or "
			                   "delete");
		}
	} else if (strcmp(cmd, "allow") == 0 || strcmp(cmd, "block") == 0) {
		*print = print_change;
		if (shortcut(argc, argv, rule, sizeof rule, err, errlen) < 0)
			return -1;
		r = request(buf, len, "rules-add", "rule", rule);
	} else if (strcmp(cmd, "pause") == 0) {
		*print = print_pause;
		if (argc > 2)
			return usage_error(
			    err, errlen, "usage: dnsgatectl pause [DURATION]");
		r = argc == 2 ? request(buf, len, "pause", "duration", argv[1])
		              : request(buf, len, "pause", NULL, NULL);
	} else if (strcmp(cmd, "resume") == 0) {
		*print = print_pause;
		if (argc != 1)
			return usage_error(err, errlen,
			                   "usage: dnsgatectl resume");
		r = request(buf, len, "resume", NULL, NULL);
	}
	if (r == NULL)
		return usage_error(err, errlen, "the request is too long");
	return 0;
}
