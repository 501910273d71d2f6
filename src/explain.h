/* explain.h - `dnsgatectl explain APP NAME`: who APP is, and every rule
 * and list that names it and NAME, in the order of precedence, with the
 * one that decides; as the control socket's JSON reply.
 *
 * APP is a pid (the most exact: its cgroup, exe and uid, read from
 * /proc now), a cgroup path ("/system.slice/backup.service"), or an app
 * key ("flatpak:org.mozilla.firefox", "system:backup.service",
 * "session:1000:/usr/bin/curl"), read back into the fields rules name.
 * A key does not hold everything a pid gives (the cgroup path, and the
 * exe but for keys that end in one), so a rule by cgroup= or exe= may
 * match a running app and not its key: explain says what it knew. NAME
 * is decided alone; the query path also decides its CNAME chain. */
#ifndef DNSGATE_EXPLAIN_H
#define DNSGATE_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "src/app_identity.h"

struct json_out;
struct policy;

/* Fills id (and *uid, -1 when not known) from APP as above. Returns 0,
 * or -1 with a reason in err (no such process, not a path or key). */
int explain_identity(const char *app, struct app_identity *id, int64_t *uid,
		     char *err, size_t errlen);

/* Writes the members of the reply: "app", "known" (what was known of
 * it), "name", "decision" (allow, block, undecided), "decided_by",
 * "matches" (each: rule, origin, name, list, entry, expired, decided). */
void explain_json(const struct policy *p, const struct app_identity *id,
		  int64_t uid, const char *name, struct json_out *out);

#endif
