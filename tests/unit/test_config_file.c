/* test_config_file.c - unit tests for src/config_file.c. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "src/config_file.h"
#include "src/history.h"
#include "src/prompt.h"

#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

#define NAME "test.conf"

static char err[512];

/* Parses text that must be accepted. */
static struct config *
parse(const char *text)
{
	struct config *cfg;

	err[0] = '\0';
	cfg = config_parse(text, NAME, err, sizeof err);
	if (cfg == NULL)
		fprintf(stderr, "unexpected parse error: %s\n", err);
	return cfg;
}

static int
starts_with(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Expects text to be refused with an error beginning with prefix (e.g.
 * "test.conf:3:13: ") and, when given, containing word. */
static void
check_error_at(int line, const char *text, const char *prefix,
	       const char *word)
{
	struct config *cfg;

	memset(err, 0, sizeof err);
	cfg = config_parse(text, NAME, err, sizeof err);
	check_count++;
	if (cfg != NULL) {
		check_failures++;
		fprintf(stderr, "%s:%d: accepted, expected error \"%s...\"\n",
			__FILE__, line, prefix);
		config_free(cfg);
		return;
	}
	check_count++;
	if (!starts_with(err, prefix)) {
		check_failures++;
		fprintf(stderr, "%s:%d: error is \"%s\", expected \"%s...\"\n",
			__FILE__, line, err, prefix);
	}
	if (word != NULL) {
		check_count++;
		if (strstr(err, word) == NULL) {
			check_failures++;
			fprintf(stderr,
				"%s:%d: error \"%s\" does not mention \"%s\"\n",
				__FILE__, line, err, word);
		}
	}
	/* An error is one log line: no control characters. */
	{
		const char *p;
		int ctl = 0;

		for (p = err; *p != '\0'; p++)
			ctl |= (unsigned char)*p < 0x20;
		check_count++;
		if (ctl) {
			check_failures++;
			fprintf(stderr,
				"%s:%d: error \"%s\" has a control character\n",
				__FILE__, line, err);
		}
	}
}

#define CHECK_ERROR(text, prefix, word)                                        \
	check_error_at(__LINE__, text, prefix, word)

static int
prefix_equal(const struct ip_prefix *a, const struct ip_prefix *b)
{
	return a->length == b->length && a->addr.family == b->addr.family &&
	       memcmp(a->addr.bytes, b->addr.bytes, 16) == 0;
}

static int
str_equal(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

static int
config_equal(const struct config *a, const struct config *b)
{
	size_t i;

	if (a->listen_port != b->listen_port ||
	    a->n_upstreams != b->n_upstreams || a->n_lists != b->n_lists ||
	    a->n_exempt != b->n_exempt ||
	    a->grant_ttl_min != b->grant_ttl_min ||
	    a->grant_ttl_max != b->grant_ttl_max ||
	    a->set_size != b->set_size || a->cache_size != b->cache_size ||
	    a->upstream_mark != b->upstream_mark ||
	    a->upstream_timeout_ms != b->upstream_timeout_ms ||
	    a->upstream_tries != b->upstream_tries ||
	    a->app_grant_quota != b->app_grant_quota ||
	    a->app_pending_quota != b->app_pending_quota ||
	    a->app_tcp_quota != b->app_tcp_quota ||
	    a->user_grant_quota != b->user_grant_quota ||
	    a->user_pending_quota != b->user_pending_quota ||
	    a->user_tcp_quota != b->user_tcp_quota ||
	    a->log_queries != b->log_queries ||
	    a->blocked_answer != b->blocked_answer ||
	    a->doh_canary != b->doh_canary ||
	    !str_equal(a->resolv_conf, b->resolv_conf) ||
	    !str_equal(a->log_file, b->log_file) ||
	    !str_equal(a->control_socket, b->control_socket) ||
	    !str_equal(a->history, b->history) ||
	    a->history_days != b->history_days ||
	    a->history_max_records != b->history_max_records ||
	    !str_equal(a->geoip_country, b->geoip_country) ||
	    !str_equal(a->geoip_asn, b->geoip_asn) ||
	    a->geoip_lookup_documentation != b->geoip_lookup_documentation)
		return 0;
	for (i = 0; i < a->n_upstreams; i++)
		if (!str_equal(a->upstreams[i], b->upstreams[i]))
			return 0;
	for (i = 0; i < a->n_lists; i++)
		if (!str_equal(a->lists[i].path, b->lists[i].path) ||
		    a->lists[i].answer_set != b->lists[i].answer_set ||
		    a->lists[i].answer != b->lists[i].answer)
			return 0;
	for (i = 0; i < a->n_exempt; i++)
		if (!prefix_equal(&a->exempt[i], &b->exempt[i]))
			return 0;
	return 1;
}

static void
check_defaults(const struct config *cfg)
{
	CHECK_INT(cfg->listen_port, 5453);
	CHECK_INT(cfg->n_upstreams, 0);
	CHECK_STR(cfg->resolv_conf, "/etc/resolv.conf");
	CHECK_INT(cfg->n_lists, 0);
	CHECK_INT(cfg->n_exempt, 0);
	CHECK_INT(cfg->grant_ttl_min, 300);
	CHECK_INT(cfg->grant_ttl_max, 86400);
	CHECK_INT(cfg->set_size, 65536);
	CHECK_INT(cfg->cache_size, 10000);
	CHECK_INT(cfg->upstream_mark, 0x64676174);
	CHECK_INT(cfg->upstream_timeout_ms, 2000);
	CHECK_INT(cfg->upstream_tries, 2);
	CHECK_INT(cfg->app_grant_quota, 8192);
	CHECK_INT(cfg->app_pending_quota, 128);
	CHECK_INT(cfg->app_tcp_quota, 16);
	CHECK_INT(cfg->user_grant_quota, 32768);
	CHECK_INT(cfg->user_pending_quota, 512);
	CHECK_INT(cfg->user_tcp_quota, 64);
	CHECK_STR(cfg->control_socket, "/run/dnsgate/control.sock");
	CHECK_STR(cfg->log_file, NULL);
	CHECK(cfg->log_queries);
	CHECK_INT(cfg->blocked_answer, MESSAGE_BLOCK_NXDOMAIN);
	CHECK(cfg->doh_canary);
	CHECK_STR(cfg->history, "/var/lib/dnsgate/history.db");
	CHECK_INT(cfg->history_days, 30);
	CHECK_INT(cfg->history_max_records, HISTORY_DEFAULT_MAX_RECORDS);
}

static void
test_defaults(void)
{
	struct config *d = config_new_default();
	struct config *cfg;

	check_defaults(d);
	CHECK(CONFIG_DEFAULT_PATH[0] == '/');
	CHECK_STR(CONFIG_DEFAULT_PATH, SYSCONFDIR "/dnsgate/dnsgate.conf");

	/* Empty text, blank lines and comments give exactly the defaults. */
	cfg = parse("");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		check_defaults(cfg);
		CHECK(config_equal(cfg, d));
		config_free(cfg);
	}
	cfg = parse("\n\n   \n\t\n# only a comment\n   # indented comment\n"
		    "#listen-port 9999\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK(config_equal(cfg, d));
		config_free(cfg);
	}
	config_free(d);
	config_free(NULL);
}

static void
test_every_key(void)
{
	struct config *cfg;
	struct ip_prefix p4, p6;
	const char *reason;

	cfg = parse("listen-port 5354\n"
		    "upstream 192.0.2.1\n"
		    "upstream [2001:db8::1]:5353\n"
		    "resolv-conf /run/resolv.conf\n"
		    "blocklist /etc/dnsgate/ads.txt\n"
		    "blocklist /etc/dnsgate/malware.txt\n"
		    "exempt 10.0.0.0/8\n"
		    "exempt fe80::/10\n"
		    "grant-ttl-min 60\n"
		    "grant-ttl-max 3600\n"
		    "set-size 1024\n"
		    "cache-size 0\n"
		    "upstream-mark 0x1234\n"
		    "upstream-timeout 500\n"
		    "upstream-tries 3\n"
		    "log-file /var/log/dnsgate.log\n"
		    "log-queries no\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->listen_port, 5354);
	CHECK_INT(cfg->n_upstreams, 2);
	if (cfg->n_upstreams == 2) {
		CHECK_STR(cfg->upstreams[0], "192.0.2.1");
		CHECK_STR(cfg->upstreams[1], "[2001:db8::1]:5353");
	}
	CHECK_STR(cfg->resolv_conf, "/run/resolv.conf");
	CHECK_INT(cfg->n_lists, 2);
	if (cfg->n_lists == 2) {
		CHECK_STR(cfg->lists[0].path, "/etc/dnsgate/ads.txt");
		CHECK_STR(cfg->lists[1].path, "/etc/dnsgate/malware.txt");
	}
	CHECK_INT(cfg->n_exempt, 2);
	CHECK_INT(ip_prefix_parse("10.0.0.0/8", &p4, &reason), 0);
	CHECK_INT(ip_prefix_parse("fe80::/10", &p6, &reason), 0);
	if (cfg->n_exempt == 2) {
		CHECK(prefix_equal(&cfg->exempt[0], &p4));
		CHECK(prefix_equal(&cfg->exempt[1], &p6));
	}
	CHECK_INT(cfg->grant_ttl_min, 60);
	CHECK_INT(cfg->grant_ttl_max, 3600);
	CHECK_INT(cfg->set_size, 1024);
	CHECK_INT(cfg->cache_size, 0);
	CHECK_INT(cfg->upstream_mark, 0x1234);
	CHECK_INT(cfg->upstream_timeout_ms, 500);
	CHECK_INT(cfg->upstream_tries, 3);
	CHECK_STR(cfg->log_file, "/var/log/dnsgate.log");
	CHECK(!cfg->log_queries);
	/* Unless set, an app's share is an eighth of the set it was given,
	 * a user's half of it. */
	CHECK_INT(cfg->app_grant_quota, 128);
	CHECK_INT(cfg->user_grant_quota, 512);
	config_free(cfg);

	cfg = parse("set-size 4096\napp-grant-quota 100\napp-pending-quota 7\n"
		    "app-tcp-quota 3\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_INT(cfg->app_grant_quota, 100);
		CHECK_INT(cfg->app_pending_quota, 7);
		CHECK_INT(cfg->app_tcp_quota, 3);
	}
	config_free(cfg);
	cfg = parse("user-grant-quota 9\nuser-pending-quota 8\nuser-tcp-quota 7\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_INT(cfg->user_grant_quota, 9);
		CHECK_INT(cfg->user_pending_quota, 8);
		CHECK_INT(cfg->user_tcp_quota, 7);
	}
	config_free(cfg);
	CHECK(parse("app-grant-quota 0\n") == NULL);
	cfg = parse("control-socket none\n");
	CHECK(cfg != NULL && cfg->control_socket == NULL);
	config_free(cfg);
	cfg = parse("control-socket /tmp/x.sock\n");
	CHECK(cfg != NULL && cfg->control_socket != NULL &&
	      strcmp(cfg->control_socket, "/tmp/x.sock") == 0);
	config_free(cfg);
	/* The control socket's groups: a number, or a name looked up now. */
	cfg = parse("control-admin-group 4242\ncontrol-read-group daemon\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_STR(cfg->control_admin_group, "4242");
		CHECK_INT(cfg->control_admin_gid, 4242);
		CHECK_STR(cfg->control_read_group, "daemon");
		CHECK_INT(cfg->control_read_gid, 1); /* Debian's daemon */
	}
	config_free(cfg);
	cfg = parse("");
	CHECK(cfg != NULL && cfg->control_admin_group == NULL &&
	      cfg->control_read_group == NULL);
	config_free(cfg);
	CHECK_ERROR("control-admin-group no-such-group-here\n",
		    "test.conf:1:21: ", "no group named 'no-such-group-here'");
	CHECK_ERROR("control-read-group root\n", "test.conf:1:20: ",
		    "root may use the control socket without it");
	CHECK_ERROR("control-read-group 0\n", "test.conf:1:20: ",
		    "from 1 to 4294967294");
	CHECK_ERROR("control-read-group 12x\n", "test.conf:1:20: ",
		    "a name or a number");
	CHECK(parse("app-tcp-quota 257\n") == NULL);
	CHECK(parse("app-pending-quota 65536\n") == NULL);

	cfg = parse("log-queries yes\n");
	CHECK(cfg != NULL && cfg->log_queries);
	config_free(cfg);
	cfg = parse("log-queries no\nlog-queries yes\n");
	CHECK(cfg != NULL && cfg->log_queries);
	config_free(cfg);
}

static void
test_ranges(void)
{
	struct config *cfg;

	/* Bounds that are accepted. */
	cfg = parse("listen-port 1\n");
	CHECK(cfg != NULL && cfg->listen_port == 1);
	config_free(cfg);
	cfg = parse("listen-port 65535\n");
	CHECK(cfg != NULL && cfg->listen_port == 65535);
	config_free(cfg);
	cfg = parse("listen-port 52\n");
	CHECK(cfg != NULL && cfg->listen_port == 52);
	config_free(cfg);
	cfg = parse("grant-ttl-min 1\ngrant-ttl-max 604800\n");
	CHECK(cfg != NULL && cfg->grant_ttl_min == 1 &&
	      cfg->grant_ttl_max == 604800);
	config_free(cfg);
	cfg = parse("set-size 16\ncache-size 10000000\n");
	CHECK(cfg != NULL && cfg->set_size == 16 &&
	      cfg->cache_size == 10000000);
	config_free(cfg);
	cfg = parse("set-size 16777216\n");
	CHECK(cfg != NULL && cfg->set_size == 16777216);
	config_free(cfg);
	cfg = parse("upstream-mark 1\n");
	CHECK(cfg != NULL && cfg->upstream_mark == 1);
	config_free(cfg);
	cfg = parse("upstream-mark 0xffffffff\n");
	CHECK(cfg != NULL && cfg->upstream_mark == 0xffffffffu);
	config_free(cfg);
	cfg = parse("upstream-mark 4294967295\n");
	CHECK(cfg != NULL && cfg->upstream_mark == 0xffffffffu);
	config_free(cfg);
	cfg = parse("upstream-timeout 100\nupstream-tries 1\n");
	CHECK(cfg != NULL && cfg->upstream_timeout_ms == 100 &&
	      cfg->upstream_tries == 1);
	config_free(cfg);
	cfg = parse("upstream-timeout 30000\nupstream-tries 10\n");
	CHECK(cfg != NULL && cfg->upstream_timeout_ms == 30000 &&
	      cfg->upstream_tries == 10);
	config_free(cfg);

	/* Out of range: the error points at the value (column 13 after
	 * "listen-port "). */
	CHECK_ERROR("listen-port 0\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port 65536\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port -1\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port +5353\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port 5353x\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port x\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port 5353 5354\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port 4294972749\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("listen-port 99999999999999999999999\n", NAME ":1:13: ",
		    NULL);
	CHECK_ERROR("grant-ttl-min 0\n", NAME ":1:15: ", NULL);
	CHECK_ERROR("grant-ttl-max 604801\n", NAME ":1:15: ", NULL);
	CHECK_ERROR("set-size 15\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("set-size 16777217\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("cache-size 10000001\n", NAME ":1:12: ", NULL);
	CHECK_ERROR("cache-size -1\n", NAME ":1:12: ", NULL);
	CHECK_ERROR("upstream-mark 0\n", NAME ":1:15: ", NULL);
	CHECK_ERROR("upstream-mark 0x100000000\n", NAME ":1:15: ", NULL);
	CHECK_ERROR("upstream-timeout 99\n", NAME ":1:18: ", NULL);
	CHECK_ERROR("upstream-timeout 30001\n", NAME ":1:18: ", NULL);
	CHECK_ERROR("upstream-tries 0\n", NAME ":1:16: ", NULL);
	CHECK_ERROR("upstream-tries 11\n", NAME ":1:16: ", NULL);
	CHECK_ERROR("log-queries maybe\n", NAME ":1:13: ", "maybe");
	CHECK_ERROR("log-queries YES\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("log-queries true\n", NAME ":1:13: ", NULL);
	CHECK_ERROR("log-queries 1\n", NAME ":1:13: ", NULL);
}

/* A leading zero is not a different base: "0500" is 500 or an error,
 * never 320 (octal). Hexadecimal stays possible (config_print writes
 * upstream-mark that way). */
static void
test_number_bases(void)
{
	struct config *cfg;

	cfg = config_parse("upstream-timeout 0500\n", NAME, err, sizeof err);
	CHECK(cfg == NULL || cfg->upstream_timeout_ms == 500);
	if (cfg != NULL && cfg->upstream_timeout_ms != 500)
		fprintf(stderr, "  upstream-timeout 0500 read as %u\n",
			cfg->upstream_timeout_ms);
	config_free(cfg);
	cfg = config_parse("listen-port 010\n", NAME, err, sizeof err);
	CHECK(cfg == NULL || cfg->listen_port == 10);
	config_free(cfg);
	cfg = config_parse("grant-ttl-min 0600\n", NAME, err, sizeof err);
	CHECK(cfg == NULL || cfg->grant_ttl_min == 600);
	config_free(cfg);

	cfg = parse("upstream-mark 0x10\n");
	CHECK(cfg != NULL && cfg->upstream_mark == 16);
	config_free(cfg);
	cfg = parse("upstream-mark 0X1F\n");
	CHECK(cfg != NULL && cfg->upstream_mark == 31);
	config_free(cfg);
	CHECK_ERROR("upstream-mark 0x\n", NAME ":1:15: ", NULL);
}

static void
test_listen_port_53(void)
{
	CHECK_ERROR("listen-port 53\n", NAME ":1:13: ", "53");
	CHECK_ERROR("# comment\nlisten-port    53\n", NAME ":2:16: ", "53");
	/* The same number written another way is still 53. */
	CHECK_ERROR("listen-port 0x35\n", NAME ":1:13: ", NULL);
}

static void
test_comments_and_whitespace(void)
{
	struct config *cfg;

	cfg = parse("# dnsgate.conf\n"
		    "\n"
		    "   listen-port    5400   # trailing comment\n"
		    "\tcache-size\t\t77\t\n"
		    "blocklist /lists/a b.txt\n"
		    "log-file /var/log/x.log#comment right after\n"
		    "upstream-tries 4#\n"
		    "\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->listen_port, 5400);
	CHECK_INT(cfg->cache_size, 77);
	CHECK_INT(cfg->n_lists, 1);
	if (cfg->n_lists == 1)
		CHECK_STR(cfg->lists[0].path, "/lists/a b.txt");
	CHECK_STR(cfg->log_file, "/var/log/x.log");
	CHECK_INT(cfg->upstream_tries, 4);
	config_free(cfg);

	/* The last line needs no newline. */
	cfg = parse("listen-port 5401");
	CHECK(cfg != NULL && cfg->listen_port == 5401);
	config_free(cfg);

	/* A commented-out value is a missing value. */
	CHECK_ERROR("listen-port #5353\n", NAME ":1:1: ", "listen-port");
}

static void
test_crlf(void)
{
	struct config *cfg;

	cfg = parse("# windows\r\n"
		    "\r\n"
		    "listen-port 5402\r\n"
		    "upstream 192.0.2.1:5353\r\n"
		    "blocklist /x/list.txt\r\n"
		    "log-queries no\r\n"
		    "log-file /tmp/l.log # c\r\n"
		    "   \r\n"
		    "exempt 192.168.0.0/16\r\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->listen_port, 5402);
	CHECK_INT(cfg->n_upstreams, 1);
	if (cfg->n_upstreams == 1)
		CHECK_STR(cfg->upstreams[0], "192.0.2.1:5353");
	CHECK_INT(cfg->n_lists, 1);
	if (cfg->n_lists == 1)
		CHECK_STR(cfg->lists[0].path, "/x/list.txt");
	CHECK(!cfg->log_queries);
	CHECK_STR(cfg->log_file, "/tmp/l.log");
	CHECK_INT(cfg->n_exempt, 1);
	config_free(cfg);

	/* Errors in a CRLF file: same lines and columns, no '\r' in the
	 * message. */
	CHECK_ERROR("\r\n# c\r\nlisten-port 53\r\n", NAME ":3:13: ", NULL);
	CHECK_ERROR("listen-port 5402\r\nbogus 1\r\n", NAME ":2:1: ",
		    "'bogus'");
	CHECK_ERROR("listen-port 5402\r\nbogus\r\n", NAME ":2:1: ", "'bogus'");
	CHECK_ERROR("log-queries\r\n", NAME ":1:1: ", "'log-queries'");
}

static void
test_repeated_keys(void)
{
	struct config *cfg;

	cfg = parse("listen-port 5000\n"
		    "listen-port 5001\n"
		    "resolv-conf /a\n"
		    "resolv-conf /b\n"
		    "log-file /l1\n"
		    "log-file /l2\n"
		    "cache-size 5\n"
		    "cache-size 6\n"
		    "upstream 192.0.2.1\n"
		    "upstream 192.0.2.2\n"
		    "upstream 192.0.2.3\n"
		    "blocklist /1\n"
		    "blocklist /2\n"
		    "exempt 10.0.0.0/8\n"
		    "exempt 10.0.0.0/8\n"
		    "exempt 192.0.2.0/24\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	/* A setting given twice: the last one counts. */
	CHECK_INT(cfg->listen_port, 5001);
	CHECK_STR(cfg->resolv_conf, "/b");
	CHECK_STR(cfg->log_file, "/l2");
	CHECK_INT(cfg->cache_size, 6);
	/* Lists accumulate in order. */
	CHECK_INT(cfg->n_upstreams, 3);
	if (cfg->n_upstreams == 3) {
		CHECK_STR(cfg->upstreams[0], "192.0.2.1");
		CHECK_STR(cfg->upstreams[1], "192.0.2.2");
		CHECK_STR(cfg->upstreams[2], "192.0.2.3");
	}
	CHECK_INT(cfg->n_lists, 2);
	if (cfg->n_lists == 2) {
		CHECK_STR(cfg->lists[0].path, "/1");
		CHECK_STR(cfg->lists[1].path, "/2");
	}
	CHECK_INT(cfg->n_exempt, 3);
	if (cfg->n_exempt == 3) {
		CHECK_INT(cfg->exempt[2].length, 24);
		CHECK_INT(cfg->exempt[2].addr.bytes[0], 192);
	}
	config_free(cfg);
}

static void
test_error_positions(void)
{
	/* Unknown setting: at its column, naming it. */
	CHECK_ERROR("bogus 1\n", NAME ":1:1: ", "bogus");
	CHECK_ERROR("\n\n# x\nlisten-port 5400\nfrobnicate yes\n",
		    NAME ":5:1: ", "frobnicate");
	CHECK_ERROR("   bogus 1\n", NAME ":1:4: ", "bogus");
	CHECK_ERROR("\tbogus 1\n", NAME ":1:2: ", "bogus");
	CHECK_ERROR("Listen-Port 5400\n", NAME ":1:1: ", NULL);
	CHECK_ERROR("listen-port=5400\n", NAME ":1:1: ", NULL);

	/* A setting without a value: at the setting. */
	CHECK_ERROR("listen-port\n", NAME ":1:1: ", "listen-port");
	CHECK_ERROR("listen-port   \n", NAME ":1:1: ", "listen-port");
	CHECK_ERROR("\n  upstream\n", NAME ":2:3: ", "upstream");
	CHECK_ERROR("blocklist\n", NAME ":1:1: ", NULL);

	/* A bad value: at the value. */
	CHECK_ERROR("cache-size lots\n", NAME ":1:12: ", "lots");
	CHECK_ERROR("x\n", NAME ":1:1: ", NULL);
	CHECK_ERROR("listen-port 5400\n\n\nupstream-tries   99\n",
		    NAME ":4:18: ", NULL);
	CHECK_ERROR("  cache-size\t\tbad # c\n", NAME ":1:15: ", "bad");

	/* The first error is reported, not a later one. */
	CHECK_ERROR("bogus1 1\nbogus2 2\n", NAME ":1:1: ", "bogus1");

	/* Another name is used as given. */
	{
		struct config *cfg =
			config_parse("bogus 1\n", "/etc/x.conf", err,
				     sizeof err);

		CHECK(cfg == NULL);
		CHECK(starts_with(err, "/etc/x.conf:1:1: "));
	}
}

static void
test_small_error_buffer(void)
{
	char small[12];
	struct config *cfg;

	memset(small, 'Z', sizeof small);
	cfg = config_parse("\n\nlisten-port 53\n", NAME, small, 8);
	CHECK(cfg == NULL);
	CHECK(memchr(small, '\0', 8) != NULL); /* terminated within 8 */
	CHECK(small[8] == 'Z' && small[11] == 'Z'); /* nothing past it */
	config_free(cfg);

	memset(small, 'Z', sizeof small);
	cfg = config_parse("grant-ttl-min 500\ngrant-ttl-max 400\n", NAME,
			   small, 8);
	CHECK(cfg == NULL);
	CHECK(memchr(small, '\0', 8) != NULL);
	CHECK(small[8] == 'Z');
	config_free(cfg);
}

static void
test_upstreams(void)
{
	static const char *const good[] = {
		"192.0.2.1",
		"192.0.2.1:5353",
		"192.0.2.1:1",
		"192.0.2.1:65535",
		"2001:db8::1",
		"[2001:db8::1]:5353",
		"[2001:db8::1]",
		"::1",
		"[::ffff:192.0.2.1]:53",
	};
	size_t i;
	char text[128];

	for (i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct config *cfg;

		snprintf(text, sizeof text, "upstream %s\n", good[i]);
		cfg = parse(text);
		CHECK(cfg != NULL);
		if (cfg == NULL)
			continue;
		CHECK_INT(cfg->n_upstreams, 1);
		if (cfg->n_upstreams == 1)
			CHECK_STR(cfg->upstreams[0], good[i]);
		config_free(cfg);
	}

	/* Names are refused: dnsgate must not resolve its own upstreams. */
	CHECK_ERROR("upstream dns.example\n", NAME ":1:10: ", "dns.example");
	CHECK_ERROR("upstream dns.example:53\n", NAME ":1:10: ",
		    "dns.example");
	CHECK_ERROR("upstream localhost\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("upstream [dns.example]:53\n", NAME ":1:", NULL);
	/* Bad ports: the error points at the port. */
	CHECK_ERROR("upstream 192.0.2.1:0\n", NAME ":1:20: ", NULL);
	CHECK_ERROR("upstream 192.0.2.1:65536\n", NAME ":1:20: ", NULL);
	CHECK_ERROR("upstream 192.0.2.1:\n", NAME ":1:20: ", NULL);
	CHECK_ERROR("upstream 192.0.2.1:-53\n", NAME ":1:20: ", NULL);
	CHECK_ERROR("upstream 192.0.2.1:53x\n", NAME ":1:20: ", NULL);
	CHECK_ERROR("upstream [2001:db8::1]:0\n", NAME ":1:24: ", NULL);
	CHECK_ERROR("upstream [2001:db8::1]:\n", NAME ":1:24: ", NULL);
	/* Other malformed forms. */
	CHECK_ERROR("upstream [2001:db8::1\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("upstream [2001:db8::1]x\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream [192.0.2.1]:53\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream []:53\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream 192.0.2\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("upstream 192.0.2.1:53:54\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream 192.0.2.1 5353\n", NAME ":1:10: ", NULL);
	CHECK_ERROR("upstream fe80::1%eth0\n", NAME ":1:10: ", NULL);
	/* A port with a blank inside, or a port not in decimal, is none of
	 * the four forms (the string goes to c-ares as it is). */
	CHECK_ERROR("upstream 192.0.2.1: 53\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream [2001:db8::1]: 53\n", NAME ":1:", NULL);
	CHECK_ERROR("upstream 192.0.2.1:0x35\n", NAME ":1:", NULL);
	/* Much longer than an address: refused, not overflowed. */
	CHECK_ERROR("upstream "
		    "1111111111111111111111111111111111111111111111111111111"
		    "111111111111111111111:53\n",
		    NAME ":1:10: ", NULL);
	CHECK_ERROR("upstream "
		    "[11111111111111111111111111111111111111111111111111111"
		    "11111111111111111111111]:53\n",
		    NAME ":1:10: ", NULL);

	/* A refused upstream leaves nothing half applied (valgrind sees the
	 * earlier ones freed). */
	CHECK_ERROR("upstream 192.0.2.1\nblocklist /x\nexempt 10.0.0.0/8\n"
		    "upstream nope\n",
		    NAME ":4:10: ", NULL);
}

static void
test_exempt(void)
{
	struct config *cfg;

	cfg = parse("exempt 192.0.2.0/24\nexempt 2001:db8::/32\n"
		    "exempt 198.51.100.7\nexempt ::/0\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->n_exempt, 4);
	if (cfg->n_exempt == 4) {
		CHECK_INT(cfg->exempt[0].addr.family, AF_INET);
		CHECK_INT(cfg->exempt[0].length, 24);
		CHECK_INT(cfg->exempt[1].addr.family, AF_INET6);
		CHECK_INT(cfg->exempt[1].length, 32);
		CHECK_INT(cfg->exempt[2].length, 32);
		CHECK_INT(cfg->exempt[2].addr.bytes[3], 7);
		CHECK_INT(cfg->exempt[3].length, 0);
	}
	config_free(cfg);

	CHECK_ERROR("exempt 192.0.2.1/24\n", NAME ":1:8: ", "192.0.2.1/24");
	CHECK_ERROR("exempt 192.0.2.0/33\n", NAME ":1:8: ", NULL);
	CHECK_ERROR("exempt lan\n", NAME ":1:8: ", "lan");
	CHECK_ERROR("\n exempt  2001:db8::1/64\n", NAME ":2:10: ", NULL);
}

static void
test_grant_ttl_order(void)
{
	struct config *cfg;

	CHECK_ERROR("grant-ttl-min 600\ngrant-ttl-max 599\n", NAME ":",
		    "grant-ttl-min");
	/* Against the default maximum (86400) too. */
	CHECK_ERROR("grant-ttl-min 86401\n", NAME ":", "grant-ttl-min");
	/* Against the default minimum (300). */
	CHECK_ERROR("grant-ttl-max 299\n", NAME ":", "grant-ttl-max");

	/* Equal is fine; so is the order in the file. */
	cfg = parse("grant-ttl-max 600\ngrant-ttl-min 600\n");
	CHECK(cfg != NULL && cfg->grant_ttl_min == 600 &&
	      cfg->grant_ttl_max == 600);
	config_free(cfg);
	/* Only the final values count. */
	cfg = parse("grant-ttl-max 10\ngrant-ttl-min 5\ngrant-ttl-max 20\n");
	CHECK(cfg != NULL && cfg->grant_ttl_min == 5 &&
	      cfg->grant_ttl_max == 20);
	config_free(cfg);
}

static void
test_load(void)
{
	char path[64], prefix[96];
	struct config *cfg;
	const char *text = "listen-port 5405\n"
			   "upstream 192.0.2.9\n"
			   "blocklist /abs/list.txt\n";
	char *big;
	size_t i, used;

	/* A missing file. */
	memset(err, 0, sizeof err);
	cfg = config_load("/nonexistent/dnsgate-test.conf", err, sizeof err);
	CHECK(cfg == NULL);
	CHECK(starts_with(err, "/nonexistent/dnsgate-test.conf"));
	CHECK(strstr(err, strerror(ENOENT)) != NULL);
	config_free(cfg);

	/* A directory is not a config file. */
	cfg = config_load("/tmp", err, sizeof err);
	CHECK(cfg == NULL);
	CHECK(starts_with(err, "/tmp"));
	config_free(cfg);

	/* A good file. */
	CHECK_INT(fixture_temp_file(path, sizeof path, text, strlen(text)), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_INT(cfg->listen_port, 5405);
		CHECK_INT(cfg->n_upstreams, 1);
		CHECK_INT(cfg->n_lists, 1);
		if (cfg->n_lists == 1)
			CHECK_STR(cfg->lists[0].path, "/abs/list.txt");
		CHECK_INT(cfg->grant_ttl_max, 86400); /* a default */
		config_free(cfg);
	}
	unlink(path);

	/* An empty file gives the defaults. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "", 0), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		check_defaults(cfg);
		config_free(cfg);
	}
	unlink(path);

	/* An error names the file's path, line and column. */
	text = "# x\nlisten-port 5405\nupstream dns.example\n";
	CHECK_INT(fixture_temp_file(path, sizeof path, text, strlen(text)), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg == NULL);
	snprintf(prefix, sizeof prefix, "%s:3:10: ", path);
	CHECK(starts_with(err, prefix));
	config_free(cfg);
	unlink(path);

	/* A NUL byte: not a text file. */
	CHECK_INT(
	    fixture_temp_file(path, sizeof path, "listen-port 5405\n\0x\n", 19),
	    0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg == NULL);
	CHECK(starts_with(err, path));
	config_free(cfg);
	unlink(path);

	/* A file larger than any single read buffer, error on its last line:
	 * line counting survives the buffer growth. */
	big = malloc(40000);
	CHECK(big != NULL);
	if (big == NULL)
		return;
	used = 0;
	for (i = 0; i < 1000; i++)
		used += (size_t)snprintf(big + used, 40000 - used,
					 "# comment line %04zu padding\n", i);
	used += (size_t)snprintf(big + used, 40000 - used,
				 "listen-port 5406\n  nonsense 1\n");
	CHECK_INT(fixture_temp_file(path, sizeof path, big, used), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg == NULL);
	snprintf(prefix, sizeof prefix, "%s:1002:3: ", path);
	CHECK(starts_with(err, prefix));
	if (!starts_with(err, prefix))
		fprintf(stderr, "  error was \"%s\"\n", err);
	config_free(cfg);
	unlink(path);

	/* The same without the bad line loads, with the last setting seen. */
	used -= strlen("  nonsense 1\n");
	CHECK_INT(fixture_temp_file(path, sizeof path, big, used), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg != NULL && cfg->listen_port == 5406);
	config_free(cfg);
	unlink(path);
	free(big);
}

/* etc/dnsgate.conf, which ships with the daemon, says: "Relative file
 * names are relative to the directory of this file", and lists
 * "blocklist blocklist.txt". A config loaded from a file must honour
 * that for every file name it holds. */
static void
test_load_relative_paths(void)
{
	char path[64], dir[64], expected[128];
	struct config *cfg;
	const char *text = "blocklist rel-list.txt\n"
			   "blocklist /abs/list.txt\n"
			   "blocklist sub/other.txt\n"
			   "log-file dnsgate.log\n"
			   "resolv-conf my-resolv.conf\n";

	CHECK_INT(fixture_temp_file(path, sizeof path, text, strlen(text)), 0);
	snprintf(dir, sizeof dir, "%s", path);
	*strrchr(dir, '/') = '\0';
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_INT(cfg->n_lists, 3);
		if (cfg->n_lists == 3) {
			snprintf(expected, sizeof expected, "%s/rel-list.txt",
				 dir);
			CHECK_STR(cfg->lists[0].path, expected);
			CHECK_STR(cfg->lists[1].path, "/abs/list.txt");
			snprintf(expected, sizeof expected, "%s/sub/other.txt",
				 dir);
			CHECK_STR(cfg->lists[2].path, expected);
		}
		snprintf(expected, sizeof expected, "%s/dnsgate.log", dir);
		CHECK_STR(cfg->log_file, expected);
		snprintf(expected, sizeof expected, "%s/my-resolv.conf", dir);
		CHECK_STR(cfg->resolv_conf, expected);
		config_free(cfg);
	}
	unlink(path);

	/* The default resolv-conf stays what it is. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "", 0), 0);
	cfg = config_load(path, err, sizeof err);
	CHECK(cfg != NULL && strcmp(cfg->resolv_conf, "/etc/resolv.conf") == 0);
	config_free(cfg);
	unlink(path);

	/* config_parse has no directory: names are kept as written. */
	cfg = parse("blocklist rel.txt\n");
	CHECK(cfg != NULL && cfg->n_lists == 1 &&
	      strcmp(cfg->lists[0].path, "rel.txt") == 0);
	config_free(cfg);
}

/* Prints cfg and parses the output back. */
static struct config *
reprint(const struct config *cfg)
{
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);
	struct config *back;

	if (f == NULL)
		return NULL;
	config_print(cfg, f);
	fclose(f);
	back = config_parse(buf, "printed", err, sizeof err);
	if (back == NULL)
		fprintf(stderr, "printed config does not parse: %s\n%s", err,
			buf);
	free(buf);
	return back;
}

static void
test_print_round_trip(void)
{
	struct config *cfg, *back;

	cfg = config_new_default();
	back = reprint(cfg);
	CHECK(back != NULL);
	if (back != NULL) {
		CHECK(config_equal(cfg, back));
		config_free(back);
	}
	config_free(cfg);

	cfg = parse("listen-port 5354\n"
		    "upstream 192.0.2.1\n"
		    "upstream 192.0.2.2:5353\n"
		    "upstream 2001:db8::1\n"
		    "upstream [2001:db8::2]:5353\n"
		    "resolv-conf /run/systemd/resolve/resolv.conf\n"
		    "blocklist /etc/dnsgate/a list.txt\n"
		    "blocklist /etc/dnsgate/b.txt\n"
		    "exempt 10.0.0.0/8\n"
		    "exempt 198.51.100.7\n"
		    "exempt 2001:db8::/32\n"
		    "exempt ::/0\n"
		    "grant-ttl-min 1\n"
		    "grant-ttl-max 604800\n"
		    "set-size 16\n"
		    "cache-size 0\n"
		    "upstream-mark 0xfffffffe\n"
		    "upstream-timeout 30000\n"
		    "upstream-tries 10\n"
		    "log-file /var/log/dnsgate.log\n"
		    "log-queries no\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	back = reprint(cfg);
	CHECK(back != NULL);
	if (back != NULL) {
		CHECK(config_equal(cfg, back));
		config_free(back);
	}
	config_free(cfg);
}

/* upstream-deadline and max-stale: defaults, ranges, printed back. */
static void
test_upstream_failure_settings(void)
{
	struct config *cfg, *back;

	cfg = config_new_default();
	CHECK_INT(cfg->upstream_deadline_ms, 1800);
	CHECK_INT(cfg->max_stale, 86400);
	config_free(cfg);

	cfg = parse("upstream-deadline 100\nmax-stale 0\n");
	CHECK(cfg != NULL && cfg->upstream_deadline_ms == 100 &&
	      cfg->max_stale == 0);
	config_free(cfg);
	cfg = parse("upstream-deadline 30000\nmax-stale 604800\n"
		    "upstream-timeout 300\nupstream-tries 1\n");
	CHECK(cfg != NULL && cfg->upstream_deadline_ms == 30000 &&
	      cfg->max_stale == 604800);
	back = cfg != NULL ? reprint(cfg) : NULL;
	CHECK(back != NULL && back->upstream_deadline_ms == 30000 &&
	      back->max_stale == 604800 && back->upstream_timeout_ms == 300 &&
	      back->upstream_tries == 1);
	config_free(back);
	config_free(cfg);

	CHECK_ERROR("upstream-deadline 99\n", NAME ":1:19: ", NULL);
	CHECK_ERROR("upstream-deadline 30001\n", NAME ":1:19: ", NULL);
	CHECK_ERROR("max-stale 604801\n", NAME ":1:11: ", NULL);
	CHECK_ERROR("max-stale -1\n", NAME ":1:11: ", NULL);
}

static void
test_fail_mode(void)
{
	struct config *cfg = config_new_default();
	char *printed = NULL;
	size_t len = 0;
	FILE *f;

	CHECK_INT(cfg->fail_mode, CONFIG_FAIL_CLOSED);
	config_free(cfg);
	cfg = parse("fail-mode open\n");
	CHECK(cfg != NULL && cfg->fail_mode == CONFIG_FAIL_OPEN);
	if (cfg != NULL) {
		f = open_memstream(&printed, &len);
		config_print(cfg, f);
		fclose(f);
		CHECK(strstr(printed, "\nfail-mode open\n") != NULL);
		free(printed);
	}
	config_free(cfg);
	cfg = parse("fail-mode open\nfail-mode closed\n");
	CHECK(cfg != NULL && cfg->fail_mode == CONFIG_FAIL_CLOSED);
	config_free(cfg);
	check_error_at(__LINE__, "listen-port 5453\nfail-mode  opened\n",
		       "test.conf:2:12: ", "expected closed or open");
	check_error_at(__LINE__, "fail-mode\n", "test.conf:1:1: ",
		       "needs a value");
	CHECK_STR(config_fail_mode_name(CONFIG_FAIL_OPEN), "open");
	CHECK_STR(config_fail_mode_name(CONFIG_FAIL_CLOSED), "closed");
}

/* Lists: the names rules give them, and the options after a path. */
static void
test_lists(void)
{
	struct config *cfg = parse("blocklist /l/easylist.txt\n"
				   "blocklist /l/x.txt name=ads format=adblock\n"
				   "blocklist /l/a=b.txt\n"
				   "blocklist /l/with space.hosts format=hosts\n"
				   "list social /l/social.txt format=domains\n");

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->n_lists, 5);
	if (cfg->n_lists == 5) {
		CHECK_STR(cfg->lists[0].name, "easylist");
		CHECK(cfg->lists[0].every_app);
		CHECK_INT(cfg->lists[0].format, LIST_FORMAT_AUTO);
		CHECK_INT(cfg->lists[1].format, LIST_FORMAT_ADBLOCK);
		CHECK_INT(cfg->lists[3].format, LIST_FORMAT_HOSTS);
		CHECK_INT(cfg->lists[4].format, LIST_FORMAT_DOMAINS);
		CHECK_STR(cfg->lists[1].name, "ads");
		CHECK_STR(cfg->lists[1].path, "/l/x.txt");
		CHECK_STR(cfg->lists[2].name, "a_b");
		CHECK_STR(cfg->lists[2].path, "/l/a=b.txt");
		CHECK_STR(cfg->lists[3].name, "with_space");
		CHECK_STR(cfg->lists[4].name, "social");
		CHECK(!cfg->lists[4].every_app);
		CHECK_INT(cfg->lists[4].line, 5);
	}
	config_free(cfg);
	CHECK_ERROR("blocklist /l/x.txt nmae=ads\n", NAME ":1:20: ",
		    "unknown list option 'nmae='");
	CHECK_ERROR("list social /l/s.txt name=x\n", NAME ":1:22: ",
		    "unknown list option 'name=': expected answer=, format=, refresh=");
	CHECK_ERROR("blocklist /l/x.txt format=abp\n", NAME ":1:27: ",
		    "unknown list format 'abp': expected auto, hosts, domains "
		    "or adblock");
	CHECK_ERROR("blocklist /a/ads.txt\nblocklist /b/ads.txt\n",
		    NAME ":2:11: ", "a list named 'ads' is already on line 1");
	CHECK_ERROR("list social\n", NAME ":1:6: ", "list needs a name");
	CHECK_ERROR("blocklist /l/x.txt name=\n", NAME ":1:20: ",
		    "name= needs a value");
	CHECK_ERROR("blocklist /l/x.txt name=a name=b\n", NAME ":1:20: ",
		    "name= is given twice");
	CHECK_ERROR("list bad/name /l/x.txt\n", NAME ":1:9: ",
		    "a list's name is letters");
}

/* blocked-answer, doh-canary and a list's answer=. */
static void
test_blocked_answers(void)
{
	struct config *cfg, *back;

	cfg = parse("blocked-answer null\ndoh-canary no\n"
		    "blocklist /l/ads.txt answer=refused\n"
		    "blocklist /l/x.txt name=trackers answer=nodata\n"
		    "blocklist /l/y.txt answer=nxdomain name=y\n"
		    "list social /l/social.txt answer=null\n"
		    "blocklist /l/plain.txt\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->blocked_answer, MESSAGE_BLOCK_NULL);
	CHECK(!cfg->doh_canary);
	CHECK_INT(cfg->n_lists, 5);
	if (cfg->n_lists == 5) {
		CHECK(cfg->lists[0].answer_set);
		CHECK_INT(cfg->lists[0].answer, MESSAGE_BLOCK_REFUSED);
		CHECK_STR(cfg->lists[0].path, "/l/ads.txt");
		CHECK_STR(cfg->lists[1].name, "trackers");
		CHECK_INT(cfg->lists[1].answer, MESSAGE_BLOCK_NODATA);
		CHECK_STR(cfg->lists[2].name, "y");
		CHECK_INT(cfg->lists[2].answer, MESSAGE_BLOCK_NXDOMAIN);
		CHECK(cfg->lists[2].answer_set);
		CHECK_STR(cfg->lists[3].path, "/l/social.txt");
		CHECK_INT(cfg->lists[3].answer, MESSAGE_BLOCK_NULL);
		CHECK(!cfg->lists[4].answer_set);
	}
	back = reprint(cfg);
	CHECK(back != NULL && config_equal(cfg, back));
	config_free(back);
	config_free(cfg);

	CHECK_ERROR("blocked-answer 0.0.0.0\n", NAME ":1:16: ",
		    "expected nxdomain, null, nodata or refused, got '0.0.0.0'");
	CHECK_ERROR("blocked-answer NXDOMAIN\n", NAME ":1:16: ",
		    "expected nxdomain");
	CHECK_ERROR("doh-canary on\n", NAME ":1:12: ", "expected yes or no");
	CHECK_ERROR("prompt-timeout 3500\n", NAME ":1:16: ", "3000");
	cfg = parse("prompt-timeout 1500\n");
	CHECK(cfg != NULL && cfg->prompt_timeout_ms == 1500);
	config_free(cfg);
	cfg = parse("");
	CHECK(cfg != NULL && cfg->prompt_timeout_ms == PROMPT_TIMEOUT_DEFAULT_MS);
	config_free(cfg);
	CHECK_ERROR("blocklist /l/x.txt answer=zero\n", NAME ":1:27: ",
		    "expected nxdomain, null, nodata or refused");
	CHECK_ERROR("list social /l/s.txt answer=\n", NAME ":1:22: ",
		    "answer= needs a value");
	CHECK_ERROR("blocklist /l/x.txt anwser=null\n", NAME ":1:20: ",
		    "unknown list option 'anwser=': expected name=, answer=, format=, refresh=");
}

/* history PATH|off and history-days N. */
static void
test_history(void)
{
	struct config *cfg, *back;

	cfg = parse("history /srv/dg/h.db\nhistory-days 7\n"
		    "history-max-records 500000\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->history, "/srv/dg/h.db");
	CHECK_INT(cfg->history_days, 7);
	CHECK_INT(cfg->history_max_records, 500000);
	back = reprint(cfg);
	CHECK(back != NULL && config_equal(cfg, back));
	config_free(back);
	config_free(cfg);

	cfg = parse("history off\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_STR(cfg->history, NULL);
		back = reprint(cfg);
		CHECK(back != NULL && config_equal(cfg, back));
		config_free(back);
	}
	config_free(cfg);
	CHECK_ERROR("history-days 0\n", NAME ":1:14: ", "");
	CHECK_ERROR("history-days 4000\n", NAME ":1:14: ", "");
	CHECK_ERROR("history-max-records -1\n", NAME ":1:21: ", "");
	CHECK_ERROR("history-max-records 3000000000\n", NAME ":1:21: ", "");
	cfg = parse("history-max-records 0\n");
	CHECK(cfg != NULL && cfg->history_max_records == 0);
	config_free(cfg);
}

/* geoip-country, geoip-asn PATH|off, geoip-lookup-documentation. */
static void
test_geoip(void)
{
	struct config *cfg, *back;

	cfg = parse("");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_STR(cfg->geoip_country, NULL);
		CHECK_STR(cfg->geoip_asn, NULL);
		CHECK(!cfg->geoip_lookup_documentation);
	}
	config_free(cfg);
	cfg = parse("geoip-country /g/c.mmdb\ngeoip-asn /g/a.mmdb\n"
	            "geoip-lookup-documentation yes\n");
	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_STR(cfg->geoip_country, "/g/c.mmdb");
	CHECK_STR(cfg->geoip_asn, "/g/a.mmdb");
	CHECK(cfg->geoip_lookup_documentation);
	back = reprint(cfg);
	CHECK(back != NULL && config_equal(cfg, back));
	config_free(back);
	config_free(cfg);
	cfg = parse("geoip-country /g/c.mmdb\ngeoip-country off\n");
	CHECK(cfg != NULL && cfg->geoip_country == NULL);
	config_free(cfg);
	CHECK_ERROR("geoip-lookup-documentation maybe\n", NAME ":1:28: ", "");
}

/* https:// lists: read from their copy in list-cache, with their own
 * refresh, size and shrink limits; other schemes refused. */
static void
test_subscriptions(void)
{
	struct config *cfg = parse(
	    "blocklist https://lists.example/ads.txt refresh=6h max-size=8M "
	    "max-shrink=20%\n"
	    "list social https://lists.example/social.txt max-shrink=0.75\n"
	    "blocklist https://lists.example/x name=x refresh=90\n"
	    "blocklist /l/file.txt\n"
	    "list-cache /cache/lists\n"
	    "ca-file /etc/dnsgate/ca.pem\n");
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	CHECK(cfg != NULL);
	if (cfg == NULL)
		return;
	CHECK_INT(cfg->n_lists, 4);
	CHECK_STR(cfg->list_cache, "/cache/lists");
	CHECK_STR(cfg->ca_file, "/etc/dnsgate/ca.pem");
	if (cfg->n_lists == 4) {
		CHECK_STR(cfg->lists[0].name, "ads");
		CHECK_STR(cfg->lists[0].url, "https://lists.example/ads.txt");
		/* list-cache came after: the copy is there all the same. */
		CHECK_STR(cfg->lists[0].path, "/cache/lists/ads.list");
		CHECK_INT(cfg->lists[0].refresh, 6 * 3600);
		CHECK_INT(cfg->lists[0].max_size, 8 * 1024 * 1024);
		CHECK_INT(cfg->lists[0].max_shrink, 20);
		CHECK_STR(cfg->lists[1].path, "/cache/lists/social.list");
		CHECK_INT(cfg->lists[1].max_shrink, 75);
		CHECK_INT(cfg->lists[1].refresh, 0);
		CHECK_INT(cfg->lists[1].max_size, CONFIG_LIST_MAX_SIZE);
		CHECK_STR(cfg->lists[2].name, "x");
		CHECK_INT(cfg->lists[2].refresh, 90);
		CHECK_INT(cfg->lists[2].max_shrink, CONFIG_LIST_MAX_SHRINK);
		CHECK_STR(cfg->lists[3].url, NULL);
		CHECK_STR(cfg->lists[3].path, "/l/file.txt");
	}
	f = open_memstream(&text, &len);
	config_print(cfg, f);
	fclose(f);
	CHECK(strstr(text, "blocklist https://lists.example/ads.txt name=ads "
			   "refresh=21600 max-size=8388608 max-shrink=20%\n") !=
	      NULL);
	CHECK(strstr(text, "list-cache /cache/lists\n") != NULL);
	free(text);
	config_free(cfg);

	cfg = parse("blocklist https://l.example/a\n");
	CHECK(cfg != NULL);
	if (cfg != NULL) {
		CHECK_STR(cfg->list_cache, "/var/lib/dnsgate/lists");
		CHECK_STR(cfg->lists[0].path, "/var/lib/dnsgate/lists/a.list");
		CHECK_STR(cfg->ca_file, NULL);
		config_free(cfg);
	}

	CHECK_ERROR("blocklist http://lists.example/a.txt\n", NAME ":1:11: ",
		    "http:// lists are refused");
	CHECK_ERROR("blocklist ftp://lists.example/a.txt\n", NAME ":1:11: ",
		    "not 'ftp://'");
	CHECK_ERROR("blocklist https:///a.txt\n", NAME ":1:19: ",
		    "the URL has no host");
	CHECK_ERROR("blocklist /l/a.txt refresh=1h\n", NAME ":1:20: ",
		    "refresh= is for an https:// list");
	CHECK_ERROR("blocklist https://l.example/a refresh=0\n", NAME ":1:39: ",
		    "refresh= takes seconds");
	CHECK_ERROR("blocklist https://l.example/a refresh=31d\n", NAME ":1:39: ",
		    "from 1s to 30d");
	CHECK_ERROR("blocklist https://l.example/a refresh=1w\n", NAME ":1:39: ",
		    "got '1w'");
	CHECK_ERROR("blocklist https://l.example/a max-size=2G\n",
		    NAME ":1:40: ", "from 1K to 1G");
	CHECK_ERROR("blocklist https://l.example/a max-size=12\n",
		    NAME ":1:40: ", "from 1K to 1G");
	CHECK_ERROR("blocklist https://l.example/a max-shrink=150%\n",
		    NAME ":1:42: ", "a percentage");
	CHECK_ERROR("blocklist https://l.example/a max-shrink=2\n",
		    NAME ":1:42: ", "a fraction");
	CHECK_ERROR("list s https://l.example/a refresh=1h name=s\n",
		    NAME ":1:39: ", "unknown list option 'name='");
}

int
main(void)
{
	test_blocked_answers();
	test_defaults();
	test_every_key();
	test_ranges();
	test_number_bases();
	test_listen_port_53();
	test_comments_and_whitespace();
	test_crlf();
	test_repeated_keys();
	test_error_positions();
	test_small_error_buffer();
	test_upstreams();
	test_exempt();
	test_grant_ttl_order();
	test_load();
	test_load_relative_paths();
	test_print_round_trip();
	test_upstream_failure_settings();
	test_fail_mode();
	test_lists();
	test_subscriptions();
	test_history();
	test_geoip();
	return check_exit();
}
