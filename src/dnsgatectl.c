/* dnsgatectl.c - looks at and clears the gate in the kernel, carries out
 * the configured fail-mode after dnsgated stopped, asks the daemon how
 * it is doing, and starts a command in a cgroup of its own (run,
 * src/run_scope.c). grants, rejected, remove-table and apply-fail-mode
 * talk netlink to nftables in the current network namespace, so they
 * work whether or not dnsgated is running (after a crash, too); status
 * asks dnsgated over its control socket. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/cgroup.h"
#include "src/config_file.h"
#include "src/control.h"
#include "src/control_client.h"
#include "src/events.h"
#include "src/history_client.h"
#include "src/ctl_rules.h"
#include "src/json.h"
#include "src/nft_batch.h"
#include "src/nft_dump.h"
#include "src/nft_gate.h"
#include "src/run_scope.h"

static void
usage(FILE *out)
{
	fprintf(out,
		"usage: dnsgatectl [-c config] [-s control-socket] COMMAND\n"
		"  status [--json]  the daemon's counters, over its control "
		"socket\n"
		"                   (-s, or the config's control-socket, or\n"
		"                   " CONTROL_DEFAULT_PATH ")\n"
		"  reload [--json]  re-read the config, the rules and the "
		"lists;\n"
		"                   a broken file changes nothing and is "
		"named\n"
		"  explain APP NAME [--json]\n"
		"                   the rules and lists naming APP (a pid, a "
		"cgroup\n"
		"                   path or an app key) and NAME, in order, "
		"and\n"
		"                   which one decides\n"
		"  lists [--json]   each list: its source, entries in force, "
		"lines\n"
		"                   skipped, and for an https:// list its last\n"
		"                   download, the age of its copy and its next "
		"refresh\n"
		"  update [LIST] [--json]\n"
		"                   download the https:// lists (or LIST) now;\n"
		"                   replies when done, with what each brought\n"
		"  grants [--json]  list the (app cgroup, address) grants in "
		"force,\n"
		"                   with the bytes and packets each let out,\n"
		"                   and the standing ones of net= rules\n"
		"  rejected         how many packets the gate has rejected\n"
		"  remove-table     delete the table inet " GATE_TABLE_NAME
		" (after a crash of dnsgated)\n"
		"  apply-fail-mode  after dnsgated has stopped: remove the "
		"table\n"
		"                   in fail-mode open, leave it in closed\n"
		"  log [--since T] [--until T] [--app A] [--name N] "
		"[--blocked]\n"
		"      [--limit N] [--json]\n"
		"                   the history: queries and rejected "
		"connections,\n"
		"                   T as 'today', 'last tuesday', '2 hours "
		"ago',\n"
		"                   '2026-12-01 14:30', ...\n"
		"  run [--app NAME] [--print-key] -- CMD [ARGS...]\n"
		"                   start CMD in a cgroup of its own, app key\n"
		"                   app:NAME (default: CMD's name)\n");
	ctl_rules_usage(out);
	fprintf(out,
		"  -c FILE          the configuration apply-fail-mode and "
		"status read\n"
		"                   (default " CONFIG_DEFAULT_PATH ")\n");
}

struct list_state {
	struct cgroup_tree *tree;
	bool json;
	size_t n; /* printed so far (JSON: for the commas) */
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

static void
print_grant(const struct nft_grant *el, void *arg)
{
	struct list_state *st = arg;
	char path[512] = "?", addr[64], bytes[32];
	unsigned level;

	if (st->tree != NULL)
		cgroup_lookup(st->tree, el->cgroup_id, path, sizeof path,
			      &level);
	ip_addr_format(&el->addr, addr, sizeof addr);
	if (st->json) {
		char buf[1024];
		struct json_out j;

		json_out_init(&j, buf, sizeof buf);
		json_object_begin(&j);
		json_key(&j, "cgroup");
		json_string(&j, path);
		json_key(&j, "cgroup_id");
		json_uint(&j, el->cgroup_id);
		json_key(&j, "address");
		json_string(&j, addr);
		json_key(&j, "expires_s");
		json_uint(&j, el->expires_ms / 1000);
		json_key(&j, "packets");
		json_uint(&j, el->packets);
		json_key(&j, "bytes");
		json_uint(&j, el->bytes);
		json_object_end(&j);
		printf("%s%s", st->n == 0 ? "" : ",\n  ", json_out_text(&j));
		st->n++;
		return;
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
	char path[512] = "?", first[64], last[64], range[132], left[32];
	unsigned level;

	if (st->tree != NULL)
		cgroup_lookup(st->tree, el->cgroup_id, path, sizeof path,
			      &level);
	ip_addr_format(&el->first, first, sizeof first);
	ip_addr_format(&el->last, last, sizeof last);
	if (strcmp(first, last) == 0)
		snprintf(range, sizeof range, "%s", first);
	else
		snprintf(range, sizeof range, "%s-%s", first, last);
	if (el->expires_ms > 0)
		snprintf(left, sizeof left, "%" PRIu64 "s", el->expires_ms / 1000);
	else
		snprintf(left, sizeof left, "standing");
	printf("%-40s %-39s %7s  cgroup-id=%" PRIu64 " (net= rule)\n", path,
	       range, left, el->cgroup_id);
}

/* The grants and what each carried; with json, one JSON object
 * {"grants": [...]} (the standing grants are left out). */
static int
cmd_grants(bool json)
{
	struct list_state st;
	char err[256];
	int n;

	memset(&st, 0, sizeof st);
	st.json = json;
	st.tree = cgroup_tree_open(err, sizeof err);
	if (json)
		printf("{\"grants\": [\n  ");
	n = nft_dump_grants(print_grant, &st, err, sizeof err);
	if (json)
		printf("\n]}\n");
	if (n >= 0 && !json) {
		char err2[256];
		int m = nft_dump_standing(print_standing, &st, err2,
					  sizeof err2);

		/* A table of an older dnsgated has no standing sets. */
		if (m < 0 && m != -ENOENT)
			fprintf(stderr, "dnsgatectl: cannot list the standing "
				"grants: %s\n", err2);
	}
	cgroup_tree_free(st.tree);
	if (n == -ENOENT) {
		fprintf(stderr, "dnsgatectl: no table inet %s here: is dnsgated "
			"running?\n", GATE_TABLE_NAME);
		return 1;
	}
	if (n < 0) {
		fprintf(stderr, "dnsgatectl: cannot list grants: %s\n", err);
		return 1;
	}
	return 0;
}

static int
cmd_rejected(void)
{
	char err[256];
	int64_t n = nft_dump_rejected_packets(err, sizeof err);

	if (n < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	printf("%" PRId64 "\n", n);
	return 0;
}

static int
cmd_remove_table(void)
{
	char err[256];

	if (gate_remove_table(err, sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
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
cmd_apply_fail_mode(const char *config_path)
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

/* Sends request to the daemon and prints its reply: as it came (json),
 * or for people. */
/* dnsgatectl log: its reply is printed as a table (history_client). */
static const struct history_client *log_table;
/* How a reply is printed for people: NULL, as its JSON, pretty. */
static ctl_print_fn *human_printer;

static int
cmd_call(const char *socket_path, const char *request, bool json,
	 int timeout_ms)
{
	static char reply[CONTROL_REPLY_MAX + 2];
	char err[512], why[1200];

	if (control_call(socket_path, request, reply, sizeof reply, timeout_ms,
			 err, sizeof err) < 0) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	if (json_flat_get_string(reply, strlen(reply), "error", why,
				 sizeof why) == 0) {
		fprintf(stderr, "dnsgatectl: dnsgated says: %s\n", why);
		return 1;
	}
	if (json) {
		printf("%s\n", reply);
	} else if (log_table != NULL) {
		if (history_client_print(log_table, stdout, reply) < 0) {
			fprintf(stderr, "dnsgatectl: cannot read the reply: "
				"%s\n", reply);
			return 1;
		}
	} else if (human_printer != NULL) {
		return human_printer(stdout, reply);
	} else if (json_print_pretty(stdout, reply) < 0) {
		fprintf(stderr, "dnsgatectl: cannot read the reply: %s\n",
			reply);
		return 1;
	}
	/* update: a download that failed (its list keeps its copy). */
	return strstr(reply, "\"ok\":false") != NULL ? 1 : 0;
}

/* Sends request to -s, else the control-socket of the config (given
 * with -c, or the default one when it is there), else the default
 * socket. */
static int
call_command(const char *config_path, bool config_given,
	     const char *socket_path, const char *request, bool json,
	     int timeout_ms)
{
	struct config *cfg;
	char err[512];
	int rc;

	if (socket_path != NULL)
		return cmd_call(socket_path, request, json, timeout_ms);
	if (!config_given && access(config_path, R_OK) != 0)
		return cmd_call(CONTROL_DEFAULT_PATH, request, json, timeout_ms);
	cfg = config_load(config_path, err, sizeof err);
	if (cfg == NULL) {
		fprintf(stderr, "dnsgatectl: %s\n", err);
		return 1;
	}
	if (cfg->control_socket == NULL) {
		fprintf(stderr, "dnsgatectl: %s sets control-socket none: "
			"dnsgated has no control socket to ask\n",
			config_path);
		config_free(cfg);
		return 1;
	}
	rc = cmd_call(cfg->control_socket, request, json, timeout_ms);
	config_free(cfg);
	return rc;
}

/* {"command": "explain", "app": APP, "name": NAME} */
static const char *
explain_request(const char *app, const char *name, char *buf, size_t len)
{
	struct json_out j;

	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, "explain");
	json_key(&j, "app");
	json_string(&j, app);
	json_key(&j, "name");
	json_string(&j, name);
	json_object_end(&j);
	return json_out_ok(&j) ? json_out_text(&j) : NULL;
}

/* {"command": "update"} or {"command": "update", "list": NAME} */
static const char *
update_request(const char *list, char *buf, size_t len)
{
	struct json_out j;

	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "command");
	json_string(&j, "update");
	if (list != NULL) {
		json_key(&j, "list");
		json_string(&j, list);
	}
	json_object_end(&j);
	return json_out_ok(&j) ? json_out_text(&j) : NULL;
}

/* A download may take its 600 s (fetch.c) after its lookups. */
#define UPDATE_TIMEOUT_MS 660000

int
main(int argc, char **argv)
{
	const char *config_path = CONFIG_DEFAULT_PATH, *socket_path = NULL;
	const char *command;
	bool config_given = false;
	int ch;

	while ((ch = getopt(argc, argv, "+c:hs:")) != -1) {
		switch (ch) {
		case 'c':
			config_path = optarg;
			config_given = true;
			break;
		case 's':
			socket_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc && strcmp(argv[optind], "run") == 0)
		return run_scope_command(argc - optind - 1, argv + optind + 1);
	if (optind < argc && strcmp(argv[optind], "log") == 0) {
		static struct history_client hc;
		char request[4096], err[512];

		if (history_client_request(argc - optind - 1, argv + optind + 1,
					   events_now_ms(), &hc, request,
					   sizeof request, err,
					   sizeof err) < 0) {
			fprintf(stderr, "dnsgatectl: %s\n", err);
			return 2;
		}
		log_table = hc.json ? NULL : &hc;
		return call_command(config_path, config_given, socket_path,
				    request, hc.json, 30000);
	}
	if (optind < argc && ctl_rules_is_command(argv[optind])) {
		bool json = argc - optind > 1 &&
			    strcmp(argv[argc - 1], "--json") == 0;
		char request[2 * CONTROL_MAX_LINE], err[256];

		if (ctl_rules_request(argc - optind - json, argv + optind,
				      request, sizeof request, &human_printer,
				      err, sizeof err) < 0) {
			fprintf(stderr, "dnsgatectl: %s\n", err);
			return 2;
		}
		return call_command(config_path, config_given, socket_path,
				    request, json, 30000);
	}
	if (optind < argc && (strcmp(argv[optind], "status") == 0 ||
			      strcmp(argv[optind], "reload") == 0 ||
			      strcmp(argv[optind], "explain") == 0 ||
			      strcmp(argv[optind], "lists") == 0 ||
			      strcmp(argv[optind], "update") == 0)) {
		bool json = argc - optind > 1 &&
			    strcmp(argv[argc - 1], "--json") == 0;
		int nargs = argc - optind - 1 - json;
		char request[4096];
		const char *req;
		int timeout_ms = 30000;

		command = argv[optind];
		if (strcmp(command, "update") == 0) {
			if (nargs > 1) {
				usage(stderr);
				return 2;
			}
			req = update_request(nargs ? argv[optind + 1] : NULL,
					     request, sizeof request);
			if (req == NULL) {
				fprintf(stderr, "dnsgatectl: update: the list's "
					"name is too long\n");
				return 2;
			}
			timeout_ms = UPDATE_TIMEOUT_MS;
		} else if (command[0] == 'e') {
			if (nargs != 2) {
				usage(stderr);
				return 2;
			}
			req = explain_request(argv[optind + 1],
					      argv[optind + 2], request,
					      sizeof request);
			if (req == NULL) {
				fprintf(stderr, "dnsgatectl: explain: the app "
					"or the name is too long\n");
				return 2;
			}
		} else if (nargs != 0) {
			usage(stderr);
			return 2;
		} else {
			snprintf(request, sizeof request,
				 "{\"command\": \"%s\"}", command);
			req = request;
		}
		return call_command(config_path, config_given, socket_path,
				    req, json, timeout_ms);
	}
	if (optind == argc - 2 && strcmp(argv[optind], "grants") == 0 &&
	    strcmp(argv[optind + 1], "--json") == 0)
		return cmd_grants(true);
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	command = argv[optind];
	if (strcmp(command, "grants") == 0)
		return cmd_grants(false);
	if (strcmp(command, "rejected") == 0)
		return cmd_rejected();
	if (strcmp(command, "remove-table") == 0)
		return cmd_remove_table();
	if (strcmp(command, "apply-fail-mode") == 0)
		return cmd_apply_fail_mode(config_path);
	if (strcmp(command, "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "dnsgatectl: unknown command '%s'\n", command);
	usage(stderr);
	return 2;
}
