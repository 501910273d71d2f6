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
#include <stdint.h>

#include "src/json.h"

#define CONTROL_DEFAULT_PATH "/run/dnsgate/control.sock"
#define CONTROL_MAX_LINE 4096  /* bytes of one request */
#define CONTROL_MAX_CLIENTS 16
#define CONTROL_REPLY_MAX (256 * 1024)

struct event_base;
struct control;

/* Answers one request: writes the reply's members into out (an object
 * already begun; the control module ends it) and returns 0, or returns
 * -1 with a reason in err for an {"error": ...} reply, or CONTROL_LATER. request is the
 * whole line, for commands with arguments. */
typedef int (*control_handler)(void *arg, const char *command,
			       const char *request, size_t len,
			       struct json_out *out, char *err, size_t errlen);

/* What a handler returns when it answers later (a reload that builds
 * in a thread): it called control_later for the request first. */
#define CONTROL_LATER 1

/* Inside a handler: the ticket of the request being handled, to answer
 * with control_answer. Until then no other request of that client is
 * read, so its replies stay in order. */
uint64_t control_later(struct control *c);

/* Writes the reply's members into out as a handler does: 0, or -1 with a
 * reason in err for an {"error": ...} reply. */
typedef int control_fill_fn(void *arg, struct json_out *out, char *err,
			    size_t errlen);

/* Answers the request of ticket with what fill writes; nothing is sent
 * when its client has gone, or c is NULL (freed at shutdown). */
void control_answer(struct control *c, uint64_t ticket, control_fill_fn *fill,
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
