/* config_file.h - dnsgate.conf, parsed into one immutable value.
 * Format: one "key value" per line, '#' starts a comment. Errors name
 * file:line:column and what was expected; nothing is half-applied. */
#ifndef DNSGATE_CONFIG_FILE_H
#define DNSGATE_CONFIG_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "addr.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/dnsgate/dnsgate.conf"

/* fail-mode: what the host gets while dnsgated is down after dying. */
enum config_fail_mode {
	CONFIG_FAIL_CLOSED, /* the table stays: nothing new gets through */
	CONFIG_FAIL_OPEN,   /* the table goes: DNS and connections as without
			       dnsgate */
};

struct config {
	uint16_t listen_port;     /* listen-port */
	char **upstreams;         /* upstream: "ip" or "[ip]:port" */
	size_t n_upstreams;
	char *resolv_conf;        /* resolv-conf: where to find upstreams */
	char **blocklists;        /* blocklist: file paths (relative ones are
				     relative to the config file) */
	size_t n_blocklists;
	struct ip_prefix *exempt; /* exempt: networks the gate lets through */
	size_t n_exempt;
	uint32_t grant_ttl_min;   /* grant-ttl-min: floor on grant timeouts */
	uint32_t grant_ttl_max;   /* grant-ttl-max: ceiling */
	uint32_t set_size;        /* set-size: elements per allow set */
	uint32_t cache_size;      /* cache-size: answers kept */
	uint32_t upstream_mark;   /* upstream-mark: SO_MARK of upstream */
	uint32_t upstream_timeout_ms; /* upstream-timeout */
	uint32_t upstream_tries;  /* upstream-tries */
	char *log_file;           /* log-file: NULL = stderr */
	bool log_queries;         /* log-queries */
	enum config_fail_mode fail_mode; /* fail-mode */
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

#endif
