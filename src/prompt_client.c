/* prompt_client.c - dnsgatectl prompt: watch the prompts, answer them. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "src/control_client.h"
#include "src/json.h"
#include "src/prompt_client.h"
#include "src/rules_file.h"

/* Exit codes (dnsgatectl(8)). */
#define EXIT_DAEMON_ERROR 1
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3
#define EXIT_DENIED 4

struct client {
	bool json;
	bool scripted;           /* --answer: every prompt the same way */
	bool pending;            /* --pending: answer pending prompts too */
	long skipped;            /* pending prompts not asked about */
	struct prompt_answer answer;
	long count;              /* answers to give before leaving; 0: all */
	long answered;
	bool waiting_reply;      /* an answer was sent, its reply not read */
	uint64_t sent_id;
	int status;
};

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dnsgatectl prompt [--answer ANSWER] [--count N] "
		"[--json]\n"
		"  Shows each app's question as it comes (the app, its exe, "
		"pid and\n"
		"  uid, the name, the lists that know it) and reads an answer "
		"from\n"
		"  the terminal, a line per prompt:\n"
		"    ACTION [DURATION] [SCOPE]\n"
		"    ACTION    allow or block (a, b); skip leaves it pending\n"
		"    DURATION  once (default), app-exit, for TIME (90s, 30m, "
		"2h, 1d),\n"
		"              forever (written as a rule)\n"
		"    SCOPE     name (default), domain, app\n"
		"  --answer ANSWER  answer every prompt so, without asking\n"
		"  --pending        ask about pending prompts too (their apps "
		"got\n"
		"                   their defaults; an answer counts from now "
		"on)\n"
		"  --count N        leave after N answers\n"
		"  --json           print the daemon's lines as they come\n");
}

static int
word_is(const char *w, const char *a, const char *b)
{
	return strcmp(w, a) == 0 || (b != NULL && strcmp(w, b) == 0);
}

int
prompt_client_parse_answer(const char *text, struct prompt_answer *a,
			   char *err, size_t errlen)
{
	char buf[256], *save = NULL, *w;
	int64_t seconds;
	const char *why;

	memset(a, 0, sizeof *a);
	a->duration = PROMPT_ONCE;
	a->scope = PROMPT_SCOPE_NAME;
	if (strlen(text) >= sizeof buf) {
		snprintf(err, errlen, "the answer is too long");
		return -1;
	}
	snprintf(buf, sizeof buf, "%s", text);
	w = strtok_r(buf, " \t\r\n", &save);
	if (w == NULL || !(word_is(w, "allow", "a") || word_is(w, "block", "b"))) {
		snprintf(err, errlen, "an answer starts with allow or block "
			 "(a, b), got '%s'", w ? w : "");
		return -1;
	}
	a->action = w[0] == 'a' ? PROMPT_ALLOW : PROMPT_BLOCK;
	while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
		if (word_is(w, "once", NULL)) {
			a->duration = PROMPT_ONCE;
		} else if (word_is(w, "app-exit", "until-exit")) {
			a->duration = PROMPT_APP_EXIT;
		} else if (word_is(w, "forever", "always")) {
			a->duration = PROMPT_FOREVER;
		} else if (word_is(w, "for", NULL)) {
			w = strtok_r(NULL, " \t\r\n", &save);
			if (w == NULL ||
			    rules_parse_duration(w, &seconds, &why) < 0 ||
			    seconds <= 0 || seconds > 366LL * 86400) {
				snprintf(err, errlen, "for needs a time: 90s, "
					 "30m, 2h, 1d (up to a year)");
				return -1;
			}
			a->duration = PROMPT_FOR;
			a->seconds = (uint32_t)seconds;
		} else if (prompt_scope_parse(w, &a->scope) == 0) {
			;
		} else {
			snprintf(err, errlen, "'%s' is not a duration (once, "
				 "app-exit, for TIME, forever) nor a scope "
				 "(name, domain, app)", w);
			return -1;
		}
	}
	return 0;
}

/* {"command": "answer", "id": N, ...} */
static int
send_answer(int fd, uint64_t id, const struct prompt_answer *a)
{
	char buf[512];
	struct json_out j;

	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, "answer");
	json_key(&j, "id");
	json_uint(&j, id);
	json_key(&j, "action");
	json_string(&j, prompt_action_name(a->action));
	json_key(&j, "duration");
	json_string(&j, prompt_duration_name(a->duration));
	if (a->duration == PROMPT_FOR) {
		json_key(&j, "seconds");
		json_uint(&j, a->seconds);
	}
	json_key(&j, "scope");
	json_string(&j, prompt_scope_name(a->scope));
	json_object_end(&j);
	return control_send_line(fd, json_out_text(&j));
}

/* A member for the terminal: what an app chose (its exe's path, its
 * cgroup's name, the name it asked) may hold escape sequences or line
 * breaks; each control byte is shown as '?'. */
static void
get(const char *obj, size_t len, const char *key, char *out, size_t outlen)
{
	if (json_flat_get_string(obj, len, key, out, outlen) < 0)
		snprintf(out, outlen, "?");
	for (unsigned char *s = (unsigned char *)out; *s; s++)
		if (*s < 0x20 || *s == 0x7f)
			*s = '?';
}

/* One prompt (a flat object): shown, then answered. Returns 0 to go on,
 * or 1 when --count answers were given. */
static int
handle_prompt(struct client *cl, int fd, const char *obj, size_t len)
{
	char app[APP_IDENTITY_KEY_MAX + 8], exe[600], name[300], domain[300];
	char lists[600];
	char qtype[16], line[256], err[256];
	int64_t id, pid = -1, uid = -1;
	struct prompt_answer a;
	bool is_open;

	if (json_flat_get_int(obj, len, "id", &id) < 0 || id < 1)
		return 0;
	get(obj, len, "app", app, sizeof app);
	get(obj, len, "exe", exe, sizeof exe);
	get(obj, len, "name", name, sizeof name);
	get(obj, len, "domain", domain, sizeof domain);
	get(obj, len, "lists", lists, sizeof lists);
	get(obj, len, "qtype", qtype, sizeof qtype);
	(void)json_flat_get_int(obj, len, "pid", &pid);
	(void)json_flat_get_int(obj, len, "uid", &uid);
	is_open = memmem(obj, len, "\"open\":false", 12) == NULL;
	if (!is_open && !cl->pending) {
		cl->skipped++; /* an app waits on open ones, not on these */
		return 0;
	}
	if (!cl->json) {
		printf("prompt %" PRId64 "%s: %s", id,
		       is_open ? "" : " (pending: answered by the default; "
				      "an answer counts from now on)",
		       app);
		if (pid > 0)
			printf(" (pid %" PRId64 ")", pid);
		if (uid >= 0)
			printf(" uid %" PRId64, uid);
		printf("\n  exe %s\n  asks for %s (%s)\n", exe[0] ? exe : "?",
		       name, qtype);
		if (domain[0] != '\0' && strcmp(domain, name) != 0)
			printf("  domain %s\n", domain);
		printf("  lists %s\n", lists[0] ? lists : "(none know it)");
	}
	if (cl->scripted) {
		a = cl->answer;
	} else {
		for (;;) {
			sigset_t stop, old;
			char *got;

			printf("answer (allow|block [once|app-exit|for TIME|"
			       "forever] [name|domain|app], skip): ");
			fflush(stdout);
			/* control_stream holds the stop signals outside its
			 * wait: let them cut this read short. */
			sigemptyset(&stop);
			sigaddset(&stop, SIGINT);
			sigaddset(&stop, SIGTERM);
			sigaddset(&stop, SIGHUP);
			sigprocmask(SIG_UNBLOCK, &stop, &old);
			got = fgets(line, sizeof line, stdin);
			sigprocmask(SIG_SETMASK, &old, NULL);
			if (got == NULL)
				return 1; /* stdin closed, or a signal: done */
			if (strncmp(line, "skip", 4) == 0 || line[0] == '\n')
				return 0;
			if (prompt_client_parse_answer(line, &a, err,
						       sizeof err) == 0)
				break;
			printf("  %s\n", err);
		}
	}
	if (send_answer(fd, (uint64_t)id, &a) < 0) {
		cl->status = EXIT_UNREACHABLE;
		return 1;
	}
	cl->waiting_reply = true;
	cl->sent_id = (uint64_t)id;
	return 0;
}

/* The prompt command's reply: its "prompts" array holds flat objects;
 * each is found by its braces, outside strings. */
static int
handle_list(struct client *cl, int fd, const char *line)
{
	const char *p = strstr(line, "\"prompts\":[");

	if (p == NULL)
		return 0;
	p += strlen("\"prompts\":[");
	while (*p == '{') {
		const char *start = p;
		bool in_string = false;

		for (; *p != '\0'; p++) {
			if (in_string) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				else if (*p == '"')
					in_string = false;
			} else if (*p == '"') {
				in_string = true;
			} else if (*p == '}') {
				break;
			}
		}
		if (*p != '}')
			return 0;
		p++;
		if (handle_prompt(cl, fd, start, (size_t)(p - start)) != 0)
			return 1;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
on_line(void *arg, int fd, const char *line)
{
	struct client *cl = arg;
	size_t len = strlen(line);
	char event[32], why[600];

	if (cl->json) {
		printf("%s\n", line);
		fflush(stdout);
	}
	if (json_flat_get_string(line, len, "error", why, sizeof why) == 0) {
		fprintf(stderr, "dnsgatectl: dnsgated says: %s\n", why);
		if (!cl->waiting_reply) { /* the prompt request itself */
			cl->status = strstr(why, "permission") != NULL
					 ? EXIT_DENIED
					 : EXIT_DAEMON_ERROR;
			return 1;
		}
		cl->waiting_reply = false;
		return 0;
	}
	if (strstr(line, "\"prompts\":[") != NULL &&
	    strstr(line, "\"event\"") == NULL) {
		int rc;

		if (!cl->json)
			fprintf(stderr, "dnsgatectl: watching for prompts\n");
		rc = handle_list(cl, fd, line);
		if (cl->skipped > 0 && !cl->json)
			fprintf(stderr, "dnsgatectl: %ld pending prompt%s (their "
				"apps got their defaults): 'dnsgatectl prompt "
				"--pending' answers them\n",
				cl->skipped, cl->skipped == 1 ? "" : "s");
		return rc;
	}
	if (json_flat_get_string(line, len, "event", event, sizeof event) < 0) {
		/* The reply to an answer. */
		if (cl->waiting_reply) {
			cl->waiting_reply = false;
			cl->answered++;
			if (!cl->json) {
				printf("  answered prompt %" PRIu64 "\n",
				       cl->sent_id);
				if (json_flat_get_string(line, len, "warning",
							 why, sizeof why) == 0)
					printf("  warning: %s\n", why);
			}
			fflush(stdout);
			if (cl->count > 0 && cl->answered >= cl->count)
				return 1;
		}
		return 0;
	}
	if (strcmp(event, "prompt") == 0)
		return handle_prompt(cl, fd, line, len);
	if (strcmp(event, "prompt-closed") == 0 && !cl->json) {
		char name[300], app[600], by[80];
		int64_t id = 0;

		get(line, len, "name", name, sizeof name);
		get(line, len, "app", app, sizeof app);
		(void)json_flat_get_int(line, len, "id", &id);
		if (json_flat_get_string(line, len, "by", by, sizeof by) == 0)
			printf("prompt %" PRId64 " (%s, %s) closed: answered "
			       "by %s\n", id, app, name, by);
		else
			printf("prompt %" PRId64 " (%s, %s) dropped\n", id, app,
			       name);
		fflush(stdout);
	}
	return 0;
}

int
prompt_client_main(const char *socket_path, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"answer", required_argument, NULL, 'a'},
	    {"count", required_argument, NULL, 'n'},
	    {"json", no_argument, NULL, 'j'},
	    {"pending", no_argument, NULL, 'p'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct client cl = {0};
	char err[512], *end;
	int ch, rc;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "+a:n:jph", opts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			if (prompt_client_parse_answer(optarg, &cl.answer, err,
						       sizeof err) < 0) {
				fprintf(stderr, "dnsgatectl: prompt --answer: "
					"%s\n", err);
				return EXIT_USAGE;
			}
			cl.scripted = true;
			break;
		case 'n':
			cl.count = strtol(optarg, &end, 10);
			if (*end != '\0' || cl.count < 1) {
				fprintf(stderr, "dnsgatectl: prompt --count: a "
					"number from 1, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'j':
			cl.json = true;
			break;
		case 'p':
			cl.pending = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!cl.scripted)
		setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(cl.answer.by, sizeof cl.answer.by, "dnsgatectl");
	rc = control_stream(socket_path, "{\"command\": \"prompt\"}", on_line,
			    &cl, err, sizeof err);
	if (rc == CONTROL_CALL_UNREACHABLE || rc == CONTROL_CALL_DENIED ||
	    rc == CONTROL_CALL_FAILED) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return rc == CONTROL_CALL_DENIED ? EXIT_DENIED
						 : EXIT_UNREACHABLE;
	}
	return cl.status;
}
