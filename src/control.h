/* control.h - the daemon's control socket: a Unix stream socket (mode
 * 0600, so root only for now; SO_PEERCRED is checked as well) on which a
 * client sends one JSON object per line, {"command": "status"}, and gets
 * one JSON object per line back. A malformed or unknown request gets
 * {"error": "..."} with the reason, and the connection stays usable;
 * nothing a client sends can stop the daemon. dnsgatectl is its client;
 * later the prompts and a web UI are too. */
#ifndef DNSGATE_CONTROL_H
#define DNSGATE_CONTROL_H

#include <stddef.h>

#include "src/json.h"

#define CONTROL_DEFAULT_PATH "/run/dnsgate/control.sock"
#define CONTROL_MAX_LINE 4096  /* bytes of one request */
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_REPLY_MAX (256 * 1024)

struct event_base;
struct control;

/* Answers one request: writes the reply's members into out (an object
 * already begun; the control module ends it) and returns 0, or returns
 * -1 with a reason in err for an {"error": ...} reply. request is the
 * whole line, for commands with arguments. */
typedef int (*control_handler)(void *arg, const char *command,
			       const char *request, size_t len,
			       struct json_out *out, char *err, size_t errlen);

/* A request answered later (dnsgatectl update waits for a download):
 * the handler calls control_defer, returns CONTROL_DEFERRED, and later
 * control_pending_reply writes the reply. Until then that client's next
 * requests wait unread, so replies keep their order. */
#define CONTROL_DEFERRED 1
struct control_pending;

/* Only during a handler's call: the request being answered, to answer
 * later. The caller owns the handle until control_pending_reply. */
struct control_pending *control_defer(struct control *c);

/* Writes the reply's members (as a handler does: 0, or -1 with err) and
 * sends it; frees p. A client gone meanwhile is not written to. */
typedef int (*control_fill_fn)(void *arg, struct json_out *out, char *err,
			       size_t errlen);
void control_pending_reply(struct control_pending *p, control_fill_fn fill,
			   void *arg);

/* Listens on path. A socket file left by a daemon that is gone is
 * replaced; one that answers means another dnsgated runs, which is an
 * error. The parent directory is created (0755) if missing. Returns NULL
 * with a reason in err. */
struct control *control_new(struct event_base *base, const char *path,
			    control_handler handler, void *arg, char *err,
			    size_t errlen);

/* Closes every connection and removes the socket file. */
void control_free(struct control *c);

#endif
