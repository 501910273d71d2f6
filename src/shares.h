/* shares.h - what each app (cgroup) holds of the daemon's shared
 * resources, and the limits that keep one app from starving the others:
 * elements of the allow sets, queries waiting for an upstream, DNS-over-TCP
 * connections. Also each app's budget of log lines about its malformed or
 * refused traffic, with a count of the lines it was denied.
 * An app is a cgroup id; id 0 stands for every asker that could not be
 * attributed (its socket was gone), which then share one allowance.
 * A user (a uid, as shares_user_key names it) has a ceiling over all its
 * apps as well: a user may make as many cgroups as it likes (systemd
 * delegates a subtree to each user), and must not multiply its share by
 * making them. */
#ifndef DNSGATE_SHARES_H
#define DNSGATE_SHARES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum share_kind {
	SHARE_GRANTS,  /* live (cgroup . address) elements */
	SHARE_PENDING, /* queries sent upstream, not answered yet */
	SHARE_TCP,     /* open DNS-over-TCP connections */
	SHARE_KINDS
};

/* A log budget: SHARES_LOG_BURST lines at once, then one more every
 * SHARES_LOG_INTERVAL_MS. */
#define SHARES_LOG_BURST 10
#define SHARES_LOG_INTERVAL_MS 1000

struct shares;

/* The key of uid's ceiling; cgroup ids (inode numbers) never have the top
 * bit set, so the two kinds of key never meet. */
#define SHARES_USER_BIT (1ULL << 63)
static inline uint64_t
shares_user_key(uint32_t uid)
{
	return SHARES_USER_BIT | uid;
}

/* app_limits[kind] is the most one app may hold of kind, user_limits[kind]
 * the most all of one user's apps may (0: no limit). */
struct shares *shares_new(const uint32_t app_limits[SHARE_KINDS],
			  const uint32_t user_limits[SHARE_KINDS]);
void shares_free(struct shares *s);

/* Takes n of kind for app (or user key) when that keeps it within its
 * limit: returns 0, or -1 (nothing taken) when it would go over it. */
int shares_take(struct shares *s, uint64_t app, enum share_kind kind,
		uint32_t n);

/* Takes n whatever the limit (for what was checked beforehand). */
void shares_add(struct shares *s, uint64_t app, enum share_kind kind,
		uint32_t n);

/* Gives back n of kind (never below 0). */
void shares_give_back(struct shares *s, uint64_t app, enum share_kind kind,
		      uint32_t n);

/* Gives back every share of kind of every app (the set was emptied). */
void shares_clear_kind(struct shares *s, enum share_kind kind);

uint32_t shares_held(const struct shares *s, uint64_t app,
		     enum share_kind kind);
/* The limit that applies to key (an app's or a user's). */
uint32_t shares_limit(const struct shares *s, uint64_t key,
		      enum share_kind kind);

/* Whether a log line about app may be written at now_ms (a monotonic
 * clock in milliseconds). When it may, *suppressed is the number of lines
 * denied to app since its last one (and is reset); when it may not, the
 * denied line is counted. */
bool shares_may_log(struct shares *s, uint64_t app, uint64_t now_ms,
		    uint32_t *suppressed);

/* Calls fn for every app with denied lines not reported yet, and resets
 * their counts (a quiet app's last suppressed lines are not lost); then
 * forgets the apps that hold nothing and whose log budget is full again.
 * Meant for a timer every few seconds. */
void shares_report_suppressed(struct shares *s, uint64_t now_ms,
			      void (*fn)(uint64_t app, uint32_t n, void *arg),
			      void *arg);

/* Apps holding anything, or with log state. */
size_t shares_app_count(const struct shares *s);

#endif
