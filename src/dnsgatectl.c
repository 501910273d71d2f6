/* dnsgatectl.c - looks at and clears the gate in the kernel, carries out
 * the configured fail-mode after dnsgated stopped, asks the daemon how
 * it is doing, and starts a command in a cgroup of its own (run,
 * src/run_scope.c). grants, rejected, remove-table and apply-fail-mode
 * talk netlink to nftables in the current network namespace, so they
 * work whether or not dnsgated is running (after a crash, too); status
 * and the others ask dnsgated over its control socket
 * (man/dnsgate-control.7). Each command is a row of the table below: its
 * synopsis and help, and whether --json applies. Exit codes (also in
 * dnsgatectl(8)): 0 done, 1 the daemon (or the kernel) answered an error,
 * 2 a usage error, 3 the daemon cannot be reached, 4 permission denied. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "geoip/geoip.h"
#include "src/cgroup.h"
#include "src/config_file.h"
#include "src/control.h"
#include "src/control_client.h"
#include "src/events.h"
#include "src/history_client.h"
#include "src/ctl_rules.h"
#include "src/json.h"
#include "src/prompt_client.h"
#include "src/nft_batch.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/run_scope.h"

#define EXIT_ANSWERED_ERROR 1 /* the daemon, or the kernel, said no */
#define EXIT_USAGE 2
#define EXIT_UNREACHABLE 3 /* no daemon at the socket, or no reply */
#define EXIT_DENIED 4      /* permission denied */

/* What every command is given: the global options, and --json. */
struct ctl {
	const char *config_path;
	bool config_given;
	const char *socket_path; /* -s; NULL: the config's */
	bool json;
};

struct list_state {
	struct cgroup_tree *tree;
	struct geoip *geoip; /* the config's files; NULL: no places */
	bool json;
	bool first; /* of the JSON array being written */
};

/* 1234567 -> "1.2 MB": what a person reads in a table. */
static const char *
human_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = {"B", "kB", "MB", "GB", "TB"};
	double v = (double)bytes;
	size_t u = 0;

	while (v >= 1000 && u + 1 < sizeof units / sizeof units[0]) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%" PRIu64 " B", bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

/* One element of a JSON array on stdout, built by the caller into j. */
static void
print_json_element(struct list_state *st, const struct json_out *j)
{
	printf("%s%s", st->first ? "" : ",", json_out_text(j));
	st->first = false;
}

/* A grant's cgroup, as the tree names it ("?" unknown), into path. */
static void
cgroup_of(const struct list_state *st, uint64_t cgroup_id, char *path,
	  size_t len)
{
	unsigned level;

	snprintf(path, len, "?");
	if (st->tree != NULL)
		cgroup_lookup(st->tree, cgroup_id, path, len, &level);
}

/* A JSON element begun in buf with the members every grant has. */
static void
element_begin(struct json_out *j, char *buf, size_t len, const char *path,
	      uint64_t cgroup_id)
{
	json_out_init(j, buf, len);
	json_object_begin(j);
	json_key(j, "cgroup");
	json_string(j, path);
	json_key(j, "cgroup_id");
	json_uint(j, cgroup_id);
}

static void
print_grant(const struct nft_grant *el, void *arg)
{
	struct list_state *st = arg;
	char path[512], addr[64 + GEOIP_TAG_MAX + 2], bytes[32];
	char place[GEOIP_TAG_MAX];
	struct geoip_place where;

	cgroup_of(st, el->cgroup_id, path, sizeof path);
	ip_addr_format(&el->addr, addr, sizeof addr);
	place[0] = '\0';
	if (st->geoip != NULL && geoip_enabled(st->geoip)) {
		geoip_lookup(st->geoip, &el->addr, &where);
		geoip_format_tag(&where, place, sizeof place);
	}
	if (st->json) {
		char buf[1024];
		struct json_out j;

		element_begin(&j, buf, sizeof buf, path, el->cgroup_id);
		json_key(&j, "address");
		json_string(&j, addr);
		json_key(&j, "place"); /* "NL,AS64500", a label, or "" */
		json_string(&j, place);
		json_key(&j, "expires_s");
		json_uint(&j, el->expires_ms / 1000);
		json_key(&j, "packets");
		json_uint(&j, el->packets);
		json_key(&j, "bytes");
		json_uint(&j, el->bytes);
		json_object_end(&j);
		print_json_element(st, &j);
		return;
	}
	if (place[0] != '\0') { /* "198.51.100.7[NL,AS64500]" */
		size_t n = strlen(addr);

		snprintf(addr + n, sizeof addr - n, "[%s]", place);
	}
	printf("%-40s %-39s %6" PRIu64 "s %10s %8" PRIu64
	       " pkts  cgroup-id=%" PRIu64 "\n",
	       path, addr, el->expires_ms / 1000,
	       human_bytes(el->bytes, bytes, sizeof bytes), el->packets,
	       el->cgroup_id);
}

/* A standing grant (a net= rule): its range, then "standing", or the
 * seconds its rule has left. */
static void
print_standing(const struct nft_standing_element *el, void *arg)
{
	struct list_state *st = arg;
	char path[512], first[64], last[64], range[132], left[32];

	cgroup_of(st, el->cgroup_id, path, sizeof path);
	ip_addr_format(&el->first, first, sizeof first);
	ip_addr_format(&el->last, last, sizeof last);
	if (strcmp(first, last) == 0)
		snprintf(range, sizeof range, "%s", first);
	else
		snprintf(range, sizeof range, "%s-%s", first, last);
	if (st->json) {
		char buf[1024];
		struct json_out j;

		element_begin(&j, buf, sizeof buf, path, el->cgroup_id);
		json_key(&j, "first");
		json_string(&j, first);
		json_key(&j, "last");
		json_string(&j, last);
		json_key(&j, "expires_s"); /* 0: as long as its rule */
		json_uint(&j, el->expires_ms / 1000);
		json_object_end(&j);
		print_json_element(st, &j);
		return;
	}
	if (el->expires_ms > 0)
		snprintf(left, sizeof left, "%" PRIu64 "s", el->expires_ms / 1000);
	else
		snprintf(left, sizeof left, "standing");
	printf("%-40s %-39s %7s  cgroup-id=%" PRIu64 " (net= rule)\n", path,
	       range, left, el->cgroup_id);
}

/* The GeoIP files the config names, for where grants go (the kernel's
 * sets hold addresses only): NULL when there is no config to read or it
 * names none. A file that does not open is said once, and left out. */
static struct geoip *
open_geoip(const struct ctl *ctl)
{
	struct geoip_settings gs;
	struct config *cfg;
	struct geoip *g;
	char err[512], warn[512];

	if (!ctl->config_given && access(ctl->config_path, R_OK) != 0)
		return NULL;
	cfg = config_load(ctl->config_path, err, sizeof err);
	if (cfg == NULL)
		return NULL; /* grants are told without places */
	if (cfg->geoip_country == NULL && cfg->geoip_asn == NULL) {
		config_free(cfg);
		return NULL;
	}
	gs.country_path = cfg->geoip_country;
	gs.asn_path = cfg->geoip_asn;
	gs.lookup_documentation = cfg->geoip_lookup_documentation;
	g = geoip_open(&gs, NULL, warn, sizeof warn);
	if (warn[0] != '\0')
		fprintf(stderr, "dnsgatectl: %s\n", warn);
	config_free(cfg);
	return g;
}

/* The grants and what each carried; with json, one JSON object
 * {"grants": [...], "standing": [...]}. */
static int
cmd_grants(struct ctl *ctl, int argc, char **argv)
{
	struct list_state st;
	char err[256];
	int n;

	memset(&st, 0, sizeof st);
	st.tree = cgroup_tree_open(err, sizeof err);
	st.geoip = open_geoip(ctl);
	st.json = ctl->json;
	st.first = true;
	if (st.json)
		printf("{\"grants\":[");
	n = nft_dump_grants(print_grant, &st, err, sizeof err);
	if (st.json)
		printf("],\"standing\":[");
	st.first = true;
	if (n >= 0) {
		char err2[256];
		int m = nft_dump_standing(print_standing, &st, err2,
					  sizeof err2);

		/* A table of an older dnsgated has no standing sets. */
		if (m < 0 && m != -ENOENT)
			fprintf(stderr, "dnsgatectl: cannot list the standing "
				"grants: %s\n", err2);
	}
	if (st.json)
		printf("]}\n");
	cgroup_tree_free(st.tree);
	geoip_free(st.geoip);
	if (n == -ENOENT) {
		fprintf(stderr, "dnsgatectl: no table inet %s here: is dnsgated "
			"running?\n", GATE_TABLE_NAME);
		return EXIT_ANSWERED_ERROR;
	}
	if (n < 0) {
		fprintf(stderr, "dnsgatectl: cannot list grants: %s\n", err);
		return n == -EPERM ? EXIT_DENIED : EXIT_ANSWERED_ERROR;
	}
	return 0;
}

static int
cmd_rejected(struct ctl *ctl, int argc, char **argv)
{
	char err[256];
	int64_t n = nft_dump_rejected_packets(err, sizeof err);

	if (n < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return n == -EPERM ? EXIT_DENIED : EXIT_ANSWERED_ERROR;
	}
	if (ctl->json)
		printf("{\"rejected_packets\":%" PRId64 "}\n", n);
	else
		printf("%" PRId64 "\n", n);
	return 0;
}

static int
cmd_remove_table(struct ctl *ctl, int argc, char **argv)
{
	char err[256];
	int rc = gate_remove_table(err, sizeof err);

	if (rc < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return rc == -EPERM ? EXIT_DENIED : EXIT_ANSWERED_ERROR;
	}
	return 0;
}

/* 1 when the table exists, 0 when not, or -errno with a reason in err. */
static int
table_exists(char *err, size_t errlen)
{
	struct nft_batch *b = nft_batch_new(err, errlen);
	uint32_t flags;
	int ret;

	if (b == NULL)
		return -errno;
	ret = nft_dump_table_flags(b, &flags);
	nft_batch_free(b);
	if (ret == -ENOENT)
		return 0;
	if (ret < 0) {
		nft_batch_reason(err, errlen, "looking for the table", ret);
		return ret;
	}
	return 1;
}

/* The service manager's step after dnsgated has stopped, for whatever
 * reason (systemd's ExecStopPost). A clean stop has removed the table
 * already; after a crash it is still there, and the config's fail-mode
 * says whether the host stays gated until dnsgated is back. */
static int
apply_fail_mode(const char *config_path)
{
	char err[512];
	struct config *cfg = config_load(config_path, err, sizeof err);
	int exists, grants;

	if (cfg == NULL) {
		fprintf(stderr,
			"dnsgatectl: %s; the table inet %s, if any, is left as "
			"it is (fail-mode closed, the default): "
			"'dnsgatectl remove-table' opens the host\n",
			err, GATE_TABLE_NAME);
		return 1;
	}
	exists = table_exists(err, sizeof err);
	if (exists < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		config_free(cfg);
		return 1;
	}
	if (!exists) {
		printf("dnsgatectl: no table inet %s (dnsgated removed it "
		       "on a clean stop, or never made it): nothing to do\n",
		       GATE_TABLE_NAME);
	} else if (cfg->fail_mode == CONFIG_FAIL_OPEN) {
		if (gate_remove_table(err, sizeof err) < 0) {
			fprintf(stderr, "dnsgatectl: fail-mode open: %s\n",
				err);
			config_free(cfg);
			return 1;
		}
		printf("dnsgatectl: fail-mode open: removed the table inet %s "
		       "that dnsgated left; DNS and connections work without "
		       "it until dnsgated is back\n",
		       GATE_TABLE_NAME);
	} else {
		grants = nft_dump_grants(NULL, NULL, err, sizeof err);
		printf("dnsgatectl: fail-mode closed: left the table inet %s "
		       "in place with %d live grants; until dnsgated is back "
		       "nothing new gets through and DNS is refused; the next "
		       "dnsgated adopts it, 'dnsgatectl remove-table' opens "
		       "the host\n",
		       GATE_TABLE_NAME, grants < 0 ? 0 : grants);
	}
	config_free(cfg);
	return 0;
}

static int
cmd_apply_fail_mode(struct ctl *ctl, int argc, char **argv)
{
	return apply_fail_mode(ctl->config_path);
}

/* --- asking the daemon ------------------------------------------------ */

/* The socket to ask: -s, else the control-socket of the config (given
 * with -c, or the default one when it is there), else the default.
 * NULL (said why) when the config cannot be read or names none. */
static char *
socket_to_ask(const struct ctl *ctl)
{
	struct config *cfg;
	char err[512], *path;

	if (ctl->socket_path != NULL)
		return strdup(ctl->socket_path);
	if (!ctl->config_given && access(ctl->config_path, R_OK) != 0)
		return strdup(CONTROL_DEFAULT_PATH);
	cfg = config_load(ctl->config_path, err, sizeof err);
	if (cfg == NULL) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return NULL;
	}
	if (cfg->control_socket == NULL) {
		fprintf(stderr, "dnsgatectl: %s sets control-socket none: "
			"dnsgated has no control socket to ask\n",
			ctl->config_path);
		config_free(cfg);
		return NULL;
	}
	path = strdup(cfg->control_socket);
	config_free(cfg);
	return path;
}

/* The exit code of an {"error": why} reply. */
static int
error_exit_code(const char *why)
{
	return strncmp(why, "permission denied", 17) == 0
		       ? EXIT_DENIED
		       : EXIT_ANSWERED_ERROR;
}

static int
call_exit_code(int rc)
{
	return rc == CONTROL_CALL_DENIED ? EXIT_DENIED : EXIT_UNREACHABLE;
}

/* Sends request to the daemon; the reply line in reply. Returns 0, or
 * the exit code (said why). */
static int
ask(const struct ctl *ctl, const char *request, char *reply, size_t len,
    int timeout_ms)
{
	char err[512], why[1200];
	char *path = socket_to_ask(ctl);
	int rc;

	if (path == NULL)
		return EXIT_UNREACHABLE;
	rc = control_call(path, request, reply, len, timeout_ms, err,
			  sizeof err);
	free(path);
	if (rc < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return call_exit_code(rc);
	}
	if (json_flat_get_string(reply, strlen(reply), "error", why,
				 sizeof why) == 0) {
		if (ctl->json)
			printf("%s\n", reply);
		fprintf(stderr, "dnsgatectl: dnsgated says: %s\n", why);
		return error_exit_code(why);
	}
	return 0;
}

/* dnsgatectl log: its reply is printed as a table (history_client). */
static const struct history_client *log_table;
/* How a reply is printed for people: NULL, as its JSON, pretty. */
static ctl_print_fn *human_printer;

/* Sends request and prints the reply: as it came (--json), or for
 * people. */
static int
call_and_print(const struct ctl *ctl, const char *request, int timeout_ms)
{
	static char reply[CONTROL_REPLY_MAX + 2];
	int rc = ask(ctl, request, reply, sizeof reply, timeout_ms);

	if (rc != 0)
		return rc;
	if (ctl->json) {
		printf("%s\n", reply);
	} else if (log_table != NULL) {
		if (history_client_print(log_table, stdout, reply) < 0) {
			fprintf(stderr, "dnsgatectl: cannot read the reply: "
				"%s\n", reply);
			return EXIT_ANSWERED_ERROR;
		}
	} else if (human_printer != NULL) {
		return human_printer(stdout, reply);
	} else if (json_print_pretty(stdout, reply) < 0) {
		fprintf(stderr, "dnsgatectl: cannot read the reply: %s\n",
			reply);
		return EXIT_ANSWERED_ERROR;
	}
	/* update: a download that failed (its list keeps its copy). */
	return strstr(reply, "\"ok\":false") != NULL ? EXIT_ANSWERED_ERROR : 0;
}

/* {"command": NAME} and, for each pair of args, "key": "value". */
static const char *
build_request(const char *command, const char *const *pairs, size_t n,
	      char *buf, size_t len)
{
	struct json_out j;
	size_t i;

	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, command);
	for (i = 0; i + 1 < n; i += 2) {
		if (pairs[i + 1] == NULL)
			continue;
		json_key(&j, pairs[i]);
		json_string(&j, pairs[i + 1]);
	}
	json_object_end(&j);
	return json_out_ok(&j) && j.len < CONTROL_MAX_LINE ? json_out_text(&j)
							   : NULL;
}

static int
too_long(const char *command)
{
	fprintf(stderr, "dnsgatectl: %s: the request is longer than the "
		"control protocol's %d bytes\n", command, CONTROL_MAX_LINE);
	return EXIT_USAGE;
}

/* status, reload, lists: no arguments. */
static int
cmd_simple(struct ctl *ctl, int argc, char **argv)
{
	char request[128];

	snprintf(request, sizeof request, "{\"command\":\"%s\"}", argv[0]);
	return call_and_print(ctl, request, 30000);
}

static int
cmd_explain(struct ctl *ctl, int argc, char **argv)
{
	const char *pairs[] = {"app", argv[1], "name", argv[2]};
	char request[CONTROL_MAX_LINE + 1];

	if (build_request("explain", pairs, 4, request, sizeof request) ==
	    NULL)
		return too_long("explain");
	return call_and_print(ctl, request, 30000);
}

/* A download may take its 600 s (fetch.c) after its lookups. */
#define UPDATE_TIMEOUT_MS 660000

static int
cmd_update(struct ctl *ctl, int argc, char **argv)
{
	const char *pairs[] = {"list", argc > 1 ? argv[1] : NULL};
	char request[CONTROL_MAX_LINE + 1];

	if (build_request("update", pairs, 2, request, sizeof request) == NULL)
		return too_long("update");
	return call_and_print(ctl, request, UPDATE_TIMEOUT_MS);
}

/* This program's version, and the daemon's and its protocol's. */
static int
cmd_version(struct ctl *ctl, int argc, char **argv)
{
	char reply[8192], daemon[128];
	int64_t protocol = 0;
	int rc = ask(ctl, "{\"command\":\"version\"}", reply, sizeof reply,
		     10000);

	if (rc != 0)
		return rc;
	if (ctl->json) {
		printf("%s\n", reply);
		return 0;
	}
	if (json_flat_get_string(reply, strlen(reply), "daemon", daemon,
				 sizeof daemon) < 0)
		snprintf(daemon, sizeof daemon, "dnsgated (version unknown)");
	(void)json_flat_get_int(reply, strlen(reply), "protocol", &protocol);
	printf("dnsgatectl %s, control protocol %d\n%s, control protocol "
	       "%lld\n",
	       PACKAGE_VERSION, CONTROL_PROTOCOL, daemon, (long long)protocol);
	return 0;
}

/* log: its options are history_client's (--json among them). */
/* log -f: each record as it comes, those the options ask for. */
struct follow {
	const struct history_client *hc;
	bool json;
	bool header;
	int status;
};

static int
on_follow_line(void *arg, int fd, const char *line)
{
	struct follow *f = arg;
	size_t len = strlen(line);
	char event[32], why[1200];

	(void)fd;
	if (json_flat_get_string(line, len, "error", why, sizeof why) == 0) {
		fprintf(stderr, "dnsgatectl: dnsgated says: %s\n", why);
		f->status = error_exit_code(why);
		return 1;
	}
	if (json_flat_get_string(line, len, "event", event, sizeof event) < 0) {
		if (f->json) /* the reply: following */
			printf("%s\n", line);
		else
			fprintf(stderr, "dnsgatectl: following the log (^C "
				"ends)\n");
		fflush(stdout);
		return 0;
	}
	if (strcmp(event, "dropped") == 0) {
		int64_t n = 0;

		(void)json_flat_get_int(line, len, "count", &n);
		fprintf(stderr, "dnsgatectl: %" PRId64 " records were not "
			"shown: this terminal read them slower than they came\n",
			n);
		return 0;
	}
	if (strcmp(event, "record") != 0 ||
	    !history_client_wants(f->hc, line, len))
		return 0;
	if (f->json) {
		printf("%s\n", line);
	} else {
		if (!f->header)
			history_client_print_header(stdout);
		f->header = true;
		history_client_print_record(stdout, line, len);
	}
	fflush(stdout);
	return 0;
}

static int
follow_log(const struct ctl *ctl, const struct history_client *hc,
	   const char *request)
{
	struct follow f = {hc, ctl->json, false, 0};
	char err[512], *path = socket_to_ask(ctl);
	int rc;

	if (path == NULL)
		return EXIT_UNREACHABLE;
	rc = control_stream(path, request, on_follow_line, &f, err,
			    sizeof err);
	free(path);
	if (rc < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return call_exit_code(rc);
	}
	return f.status;
}

static int
cmd_prompt(struct ctl *ctl, int argc, char **argv)
{
	char *path = socket_to_ask(ctl), *args[16];
	int n = 0, rc;

	if (path == NULL)
		return EXIT_UNREACHABLE;
	if (argc > 14) {
		free(path);
		fprintf(stderr, "dnsgatectl: prompt: too many arguments\n");
		return EXIT_USAGE;
	}
	for (int i = 0; i < argc; i++)
		args[n++] = argv[i];
	if (ctl->json)
		args[n++] = (char *)"--json";
	args[n] = NULL;
	rc = prompt_client_main(path, n, args);
	free(path);
	return rc;
}

/* apps: a row per app, seen last first. */
static int
print_app_row(void *arg, const char *obj, size_t len)
{
	char app[1100] = "?", bytes[32];
	int64_t last = 0, queries = 0, blocked = 0, rejected = 0, b = 0;
	time_t t;
	struct tm tm;
	char when[32] = "?";

	(void)arg;
	(void)json_flat_get_string(obj, len, "app", app, sizeof app);
	for (unsigned char *s = (unsigned char *)app; *s; s++)
		if (*s < 0x20 || *s == 0x7f) /* no escapes to the terminal */
			*s = '?';
	(void)json_flat_get_int(obj, len, "last_seen_ms", &last);
	(void)json_flat_get_int(obj, len, "queries", &queries);
	(void)json_flat_get_int(obj, len, "blocked", &blocked);
	(void)json_flat_get_int(obj, len, "rejected_packets", &rejected);
	(void)json_flat_get_int(obj, len, "bytes", &b);
	t = (time_t)(last / 1000);
	if (localtime_r(&t, &tm) != NULL)
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	printf("%-40s  %-19s  %8" PRId64 "  %8" PRId64 "  %8" PRId64 "  %s\n",
	       app, when, queries, blocked, rejected,
	       human_bytes((uint64_t)b, bytes, sizeof bytes));
	return 0;
}

static int
print_apps(FILE *out, const char *reply)
{
	(void)out;
	printf("%-40s  %-19s  %8s  %8s  %8s  %s\n", "APP", "LAST SEEN",
	       "QUERIES", "BLOCKED", "REJECTED", "SENT");
	if (json_each_object(reply, strlen(reply), "apps", print_app_row,
			     NULL) < 0) {
		fprintf(stderr, "dnsgatectl: cannot read the reply\n");
		return EXIT_ANSWERED_ERROR;
	}
	if (strstr(reply, "\"truncated\":true") != NULL)
		printf("(more apps than one reply holds: dnsgatectl app PART "
		       "narrows it)\n");
	return 0;
}

/* apps --by country: a row per country and app, the country's apps by
 * bytes sent. */
static int
print_country(void *arg, const char *obj, size_t len)
{
	char country[16] = "?", name[64] = "", where[96], app[1100] = "?";
	char bytes[32];
	int64_t dests = 0, b = 0;

	(void)arg;
	(void)json_flat_get_string(obj, len, "country", country,
				   sizeof country);
	(void)json_flat_get_string(obj, len, "country_name", name,
				   sizeof name);
	(void)json_flat_get_string(obj, len, "app", app, sizeof app);
	(void)json_flat_get_int(obj, len, "destinations", &dests);
	(void)json_flat_get_int(obj, len, "bytes", &b);
	snprintf(where, sizeof where, name[0] ? "%s (%s)" : "%s%s", country,
		 name);
	for (unsigned char *p = (unsigned char *)where; *p; p++)
		if (*p < 0x20 || *p == 0x7f) /* no escapes to the terminal */
			*p = '?';
	for (unsigned char *p = (unsigned char *)app; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
	printf("%-28s  %-40s  %12" PRId64 "  %s\n", where, app, dests,
	       human_bytes((uint64_t)b, bytes, sizeof bytes));
	return 0;
}

static int
print_countries(FILE *out, const char *reply)
{
	(void)out;
	printf("%-28s  %-40s  %12s  %s\n", "COUNTRY", "APP", "DESTINATIONS",
	       "SENT");
	if (json_each_object(reply, strlen(reply), "countries", print_country,
			     NULL) < 0) {
		fprintf(stderr, "dnsgatectl: cannot read the reply\n");
		return EXIT_ANSWERED_ERROR;
	}
	if (strstr(reply, "\"truncated\":true") != NULL)
		printf("(more than one reply holds)\n");
	return 0;
}

static int
cmd_apps(struct ctl *ctl, int argc, char **argv)
{
	bool by = strcmp(argv[0], "apps") == 0 && argc == 3 &&
		  strcmp(argv[1], "--by") == 0;
	const char *pairs[] = {by ? "by" : "app",
			       argc == 2 || by ? argv[argc - 1] : NULL};
	char request[CONTROL_MAX_LINE + 1];

	if (strcmp(argv[0], "apps") == 0 && argc > 1 &&
	    (!by || strcmp(argv[2], "country") != 0)) {
		fprintf(stderr, "dnsgatectl apps: the only listing by is "
			"'--by country'\n");
		return EXIT_USAGE;
	}
	if (build_request(argv[0], pairs, 2, request, sizeof request) == NULL)
		return too_long(argv[0]);
	if (by)
		human_printer = print_countries;
	else if (strcmp(argv[0], "apps") == 0)
		human_printer = print_apps;
	return call_and_print(ctl, request, 30000);
}

static int
cmd_log(struct ctl *ctl, int argc, char **argv)
{
	static struct history_client hc;
	char request[4096], err[512];
	struct ctl as_asked = *ctl;

	if (history_client_request(argc - 1, argv + 1, events_now_ms(), &hc,
				   request, sizeof request, err,
				   sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return EXIT_USAGE;
	}
	as_asked.json = ctl->json || hc.json;
	if (hc.follow)
		return follow_log(&as_asked, &hc, request);
	log_table = as_asked.json ? NULL : &hc;
	return call_and_print(&as_asked, request, 30000);
}

/* rules, allow, block, pause, resume: their arguments are ctl_rules's. */
static int
cmd_rules(struct ctl *ctl, int argc, char **argv)
{
	char request[2 * CONTROL_MAX_LINE], err[256];
	struct ctl as_asked = *ctl;
	int i, n;

	for (i = n = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			as_asked.json = true;
		else
			argv[n++] = argv[i];
	}
	if (ctl_rules_request(n, argv, request, sizeof request, &human_printer,
			      err, sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return EXIT_USAGE;
	}
	return call_and_print(&as_asked, request, 30000);
}

static int
cmd_run(struct ctl *ctl, int argc, char **argv)
{
	return run_scope_command(argc - 1, argv + 1);
}

/* --- the commands ------------------------------------------------------ */

struct ctl_command {
	const char *name;
	const char *synopsis; /* after the name */
	const char *help;     /* lines of what it does */
	int min_args, max_args; /* after the name; -1: its own options
				  (run, log) */
	bool json;            /* --json applies */
	int (*run)(struct ctl *ctl, int argc, char **argv); /* argv[0]: name */
};

static const struct ctl_command commands[] = {
	{"status", "",
	 "the daemon's uptime, upstreams and their health, lists, counters\n",
	 0, 0, true, cmd_simple},
	{"reload", "",
	 "re-read the config, the rules and the lists; a broken file\n"
	 "changes nothing and is named (needs root or control-admin-group)\n",
	 0, 0, true, cmd_simple},
	{"explain", "APP NAME",
	 "the rules and lists naming APP (a pid, a cgroup path or an app\n"
	 "key) and NAME, in order, and which one decides\n",
	 2, 2, true, cmd_explain},
	{"lists", "",
	 "each list: its source, entries in force, lines skipped, and for an\n"
	 "https:// list its last download, its copy's age, its next refresh\n",
	 0, 0, true, cmd_simple},
	{"update", "[LIST]",
	 "download the https:// lists (or LIST) now; replies when done, with\n"
	 "what each brought (needs root or control-admin-group)\n",
	 0, 1, true, cmd_update},
	{"version", "",
	 "the versions of dnsgatectl, dnsgated and their control protocol\n",
	 0, 0, true, cmd_version},
	{"log",
	 "[-f] [--since T] [--until T] [--app A] [--name N] [--blocked] "
	 "[--limit N]",
	 "the history: queries and rejected connections; T as 'today',\n"
	 "'last tuesday', '2 hours ago', '2026-12-01 14:30', ...\n",
	 -1, -1, true, cmd_log},
	{"apps", "[--by country]",
	 "every app seen since dnsgated started: when last, its queries,\n"
	 "the blocked ones, its rejected connections, the bytes it sent;\n"
	 "--by country: which apps sent to which countries (GeoIP)\n",
	 0, 2, true, cmd_apps},
	{"app", "APP",
	 "the apps whose key is APP or contains it, with the names each\n"
	 "asked last and the destinations it sent bytes to\n",
	 1, 1, true, cmd_apps},
	{"prompt", "[--answer ANSWER] [--count N]",
	 "show each ask rule's question as it comes and answer it: allow or\n"
	 "block; once, app-exit, for TIME or forever; name, domain or app\n"
	 "(answering needs root or control-admin-group)\n",
	 -1, -1, true, cmd_prompt},
	{"rules", "[list [--app A] | add RULE... | delete ID]",
	 "the rules in force, with their ids and files; add a rule\n"
	 "(dnsgate.rules(5)) to the file dnsgated owns, in force when it\n"
	 "replies; delete one dnsgatectl added (add and delete need root\n"
	 "or control-admin-group)\n",
	 -1, -1, true, cmd_rules},
	{"allow", "[--app A] NAME|KEY=VALUE [for=D|until=T]",
	 "rules add allow app=A name=NAME ...; an A with '=' (exe=...,\n"
	 "uid=...) is taken as it is\n",
	 -1, -1, true, cmd_rules},
	{"block", "[--app A] NAME|KEY=VALUE [for=D|until=T]",
	 "rules add block app=A name=NAME ...\n", -1, -1, true, cmd_rules},
	{"pause", "[DURATION]",
	 "let through what lists and rules block, for DURATION (90s, 30m,\n"
	 "2h) or until resume; the gate stays (needs root or\n"
	 "control-admin-group)\n",
	 -1, -1, true, cmd_rules},
	{"resume", "", "end a pause\n", -1, -1, true, cmd_rules},
	{"grants", "",
	 "the (app cgroup, address) grants in force, with the bytes and\n"
	 "packets each let out, and the standing ones of net= rules (from\n"
	 "the kernel: works without the daemon)\n",
	 0, 0, true, cmd_grants},
	{"rejected", "",
	 "how many packets the gate has rejected (from the kernel)\n", 0, 0,
	 true, cmd_rejected},
	{"remove-table", "",
	 "delete the table inet " GATE_TABLE_NAME " (after a crash of "
	 "dnsgated)\n",
	 0, 0, false, cmd_remove_table},
	{"apply-fail-mode", "",
	 "after dnsgated has stopped: remove the table in fail-mode open,\n"
	 "leave it in closed\n",
	 0, 0, false, cmd_apply_fail_mode},
	{"run", "[--app NAME] [--print-key] -- CMD [ARGS...]",
	 "start CMD in a cgroup of its own, app key app:NAME (default: CMD's\n"
	 "name)\n",
	 -1, -1, false, cmd_run},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void
print_indented(FILE *out, const char *text)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);

		fprintf(out, "      %.*s\n", (int)n, p);
		p += n + (nl != NULL);
	}
}

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
		"usage: dnsgatectl [-c CONFIG] [-s SOCKET] [--json] COMMAND "
		"[ARGS]\n"
		"       dnsgatectl COMMAND --help | --help | --version\n"
		"  -c, --config FILE  the config whose control-socket is asked "
		"and\n"
		"                     whose fail-mode applies (default\n"
		"                     " CONFIG_DEFAULT_PATH ")\n"
		"  -s, --socket PATH  the control socket (default: the "
		"config's, or\n"
		"                     " CONTROL_DEFAULT_PATH ")\n"
		"  -j, --json         print what the daemon says as JSON "
		"(scripts)\n"
		"commands:\n");
	for (i = 0; i < N_COMMANDS; i++) {
		fprintf(out, "  %s%s%s\n", commands[i].name,
			commands[i].synopsis[0] ? " " : "",
			commands[i].synopsis);
		print_indented(out, commands[i].help);
	}
	fprintf(out, "exit status: 0 done, 1 the daemon or the kernel answered "
		"an error,\n  2 usage, 3 the daemon cannot be reached, 4 "
		"permission denied\n");
}

static void
command_usage(FILE *out, const struct ctl_command *cmd)
{
	fprintf(out, "usage: dnsgatectl [-c CONFIG] [-s SOCKET] %s%s%s%s\n",
		cmd->name, cmd->synopsis[0] ? " " : "", cmd->synopsis,
		cmd->json ? " [--json]" : "");
	print_indented(out, cmd->help);
}

static const struct ctl_command *
find_command(const char *name)
{
	size_t i;

	for (i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int
main(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"socket", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct ctl ctl = {CONFIG_DEFAULT_PATH, false, NULL, false};
	const struct ctl_command *cmd;
	int ch, i, n;

	while ((ch = getopt_long(argc, argv, "+c:hjs:V", options, NULL)) !=
	       -1) {
		switch (ch) {
		case 'c':
			ctl.config_path = optarg;
			ctl.config_given = true;
			break;
		case 's':
			ctl.socket_path = optarg;
			break;
		case 'j':
			ctl.json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("dnsgatectl %s (control protocol %d)\n",
			       PACKAGE_VERSION, CONTROL_PROTOCOL);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[optind], "help") == 0) {
		cmd = optind + 1 < argc ? find_command(argv[optind + 1]) : NULL;
		if (cmd != NULL)
			command_usage(stdout, cmd);
		else
			usage(stdout);
		return 0;
	}
	cmd = find_command(argv[optind]);
	if (cmd == NULL) {
		fprintf(stderr, "dnsgatectl: unknown command '%s' "
			"('dnsgatectl --help' lists them)\n", argv[optind]);
		return EXIT_USAGE;
	}
	argc -= optind;
	argv += optind;
	/* COMMAND --help, and --json after the command (not within run's
	 * own arguments, which are its program's). */
	for (i = 1, n = 1; i < argc; i++) {
		if (cmd->max_args >= 0 && strcmp(argv[i], "--") == 0) {
			while (++i < argc) /* the rest are arguments */
				argv[n++] = argv[i];
			break;
		}
		if (cmd->max_args < 0) {
			if (strcmp(argv[i], "--") == 0)
				break;
			if (strcmp(argv[i], "--help") == 0) {
				command_usage(stdout, cmd);
				return 0;
			}
			continue;
		}
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			command_usage(stdout, cmd);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0 ||
		    strcmp(argv[i], "-j") == 0) {
			ctl.json = true;
			continue;
		}
		if (cmd->run == cmd_apps && strcmp(argv[i], "--by") == 0 &&
		    i + 1 < argc) { /* apps --by country: its word kept */
			argv[n++] = argv[i++];
			argv[n++] = argv[i];
			continue;
		}
		if (argv[i][0] == '-' && argv[i][1] != '\0') {
			fprintf(stderr, "dnsgatectl %s: unknown option '%s'\n",
				cmd->name, argv[i]);
			command_usage(stderr, cmd);
			return EXIT_USAGE;
		}
		argv[n++] = argv[i];
	}
	if (cmd->max_args >= 0) {
		argc = n;
		if (argc - 1 < cmd->min_args || argc - 1 > cmd->max_args) {
			command_usage(stderr, cmd);
			return EXIT_USAGE;
		}
	}
	if (ctl.json && !cmd->json) {
		fprintf(stderr, "dnsgatectl %s: --json does not apply: it "
			"prints messages, not data\n", cmd->name);
		return EXIT_USAGE;
	}
	return cmd->run(&ctl, argc, argv);
}
