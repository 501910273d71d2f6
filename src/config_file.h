/* config_file.h - dnsgate.conf, parsed into one immutable value.
 * Format: one "key value" per line, '#' starts a comment. Errors name
 * file:line:column and what was expected; nothing is half-applied. */
#ifndef DNSGATE_CONFIG_FILE_H
#define DNSGATE_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "lists/list_format.h"
#include "resolver/message.h"
#include "src/addr.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/dnsgate/dnsgate.conf"
/* Next to the config file: /etc/dnsgate/rules.d for /etc/dnsgate. */
#define CONFIG_DEFAULT_RULES "rules.d"

/* fail-mode: what the host gets while dnsgated is down after dying. */
enum config_fail_mode {
	CONFIG_FAIL_CLOSED, /* the table stays: nothing new gets through */
	CONFIG_FAIL_OPEN,   /* the table goes: DNS and connections as without
			       dnsgate */
};

/* A list of domains (blocklist, list). */
struct config_list {
	char *name;     /* how rules name it (list=NAME) */
	char *path;     /* relative ones are relative to the config file */
	bool every_app; /* blocklist PATH: every app gets it, unless a rule
			   allows an app past it; list NAME PATH: only the
			   apps a rule names */
	unsigned line;  /* where the config names it */
	bool answer_set; /* answer=: what a name it blocks gets; else the
			    global blocked-answer */
	enum message_block_mode answer;
	enum list_format format; /* format=: auto (guessed) unless named */
	/* A subscription: PATH written as an https:// URL. path is then
	 * its copy in list-cache, which the policy reads like a file. */
	char *url;          /* NULL: a file */
	uint32_t refresh;   /* refresh=: seconds; 0 = the list's "! Expires:",
			       else CONFIG_LIST_REFRESH */
	uint64_t max_size;  /* max-size=: bytes a download may have */
	uint32_t max_shrink; /* max-shrink=: percent of its entries one
				download may lose; more keeps the copy */
};

#define CONFIG_LIST_REFRESH 86400                 /* daily, as Pi-hole */
#define CONFIG_LIST_MAX_SIZE (64ULL * 1024 * 1024) /* a 1M-name hosts file
						     is about 30 MB */
#define CONFIG_LIST_MAX_SHRINK 50

struct config {
	char *path;               /* the file read, or the name given */
	uint16_t listen_port;     /* listen-port */
	char **upstreams;         /* upstream: "ip" or "[ip]:port" */
	size_t n_upstreams;
	char *resolv_conf;        /* resolv-conf: where to find upstreams */
	struct config_list *lists; /* blocklist and list, in order */
	size_t n_lists;
	char *list_cache;         /* list-cache: copies of https:// lists */
	char *ca_file;            /* ca-file: CAs for https:// lists; NULL =
				     the system's */
	char **rules;             /* rules: files or directories of them */
	size_t n_rules;
	bool rules_set;           /* named in the file: each must exist; else
				     CONFIG_DEFAULT_RULES, if it exists */
	struct ip_prefix *exempt; /* exempt: networks the gate lets through */
	size_t n_exempt;
	uint32_t grant_ttl_min;   /* grant-ttl-min: floor on grant timeouts */
	uint32_t grant_ttl_max;   /* grant-ttl-max: ceiling */
	uint32_t set_size;        /* set-size: elements per allow set */
	uint32_t cache_size;      /* cache-size: answers kept */
	uint32_t upstream_mark;   /* upstream-mark: SO_MARK of upstream */
	/* Each app's (cgroup's) share of what one app could exhaust. */
	uint32_t app_grant_quota;   /* app-grant-quota: live grants */
	uint32_t app_pending_quota; /* app-pending-quota: queries upstream */
	uint32_t app_tcp_quota;     /* app-tcp-quota: TCP connections */
	/* The same, for all the apps of one user but root. */
	uint32_t user_grant_quota;   /* user-grant-quota */
	uint32_t user_pending_quota; /* user-pending-quota */
	uint32_t user_tcp_quota;     /* user-tcp-quota */
	char *control_socket;     /* control-socket: NULL = none */
	/* control-admin-group, control-read-group: besides root, who may
	 * change policy over the control socket, and who may only read and
	 * watch. The name as given (or the number); NULL = nobody. */
	char *control_admin_group;
	gid_t control_admin_gid;
	char *control_read_group;
	gid_t control_read_gid;
	char *public_suffix_list; /* public-suffix-list: NULL = none (no
				     public-suffix check on list lines) */
	bool public_suffix_list_set; /* named in the file, not the default */
	uint32_t upstream_timeout_ms; /* upstream-timeout: longest try */
	uint32_t upstream_tries;  /* upstream-tries: per server and query */
	uint32_t upstream_deadline_ms; /* upstream-deadline: per query */
	uint32_t max_stale;       /* max-stale: seconds an expired answer
				     may still be served (RFC 8767) */
	char *log_file;           /* log-file: NULL = stderr */
	bool log_queries;         /* log-queries */
	enum config_fail_mode fail_mode; /* fail-mode */
	enum message_block_mode blocked_answer; /* blocked-answer */
	bool doh_canary;          /* doh-canary: dnsgated answers the DoH
				     canary and DDR itself */
	uint32_t prompt_timeout_ms; /* prompt-timeout: how long a query is
				       held on a prompt */
	char *history;            /* history: the SQLite file; NULL = off */
	uint32_t history_days;    /* history-days: retention */
	uint32_t history_max_records; /* history-max-records: the newest
					 kept; 0 = no cap */
	char *geoip_country;      /* geoip-country: an MMDB file; NULL = off */
	char *geoip_asn;          /* geoip-asn: an MMDB file; NULL = off */
	bool geoip_lookup_documentation; /* geoip-lookup-documentation: look
	                                    up the documentation ranges
	                                    (for tests) */
};

/* A config with every default and no lists or upstreams. */
struct config *config_new_default(void);

/* Reads path. Returns NULL with "path:line:col: reason" in err. */
struct config *config_load(const char *path, char *err, size_t errlen);

/* Parses a config held in memory; name is used in error messages. */
struct config *config_parse(const char *text, const char *name, char *err,
			    size_t errlen);

void config_free(struct config *cfg);

/* "closed" or "open", as the setting is written. */
const char *config_fail_mode_name(enum config_fail_mode mode);

/* Writes the config back in its own syntax (dnsgated -n). */
void config_print(const struct config *cfg, FILE *out);

/* Told about one file the config names that dnsgated could not use: text
 * is "setting path: what is wrong". error is false for what the daemon
 * would only warn about (the default public-suffix-list missing). */
typedef void config_problem_fn(void *arg, bool error, const char *text);

/* Checks, without changing anything, that every file cfg names can be
 * used (dnsgated -n): each list and the public-suffix-list can be
 * read (the latter is a list with rules), resolv-conf when there is no
 * upstream, and log-file can be opened for appending (or, when it does
 * not exist, be created in its directory: it is not created here).
 * Calls report for each problem; returns the number of errors. */
size_t config_check_files(const struct config *cfg, config_problem_fn *report,
			  void *arg);

#endif
