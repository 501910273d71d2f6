/* control.h - the daemon's control socket: a Unix stream socket on which
 * a client sends one JSON object per line, {"command": "status"}, and
 * gets one JSON object per line back (man/dnsgate-control.7 is the
 * protocol). It owns who may connect and what each may ask: root and
 * the admin group may change policy, the read group may read and watch,
 * nobody else gets in; the socket file's owner, mode and ACL say so to
 * the kernel, and each request's SO_PEERCRED/SO_PEERGROUPS say so here.
 * It bounds what a client may cost: a request's size, requests a second
 * per user, connections per user (with room kept for root and the
 * admin group, so readers cannot lock them out), output
 * waiting for a slow reader. A malformed or refused request gets
 * {"error": "..."} with the reason; nothing a client sends can stop the
 * daemon or starve another client. Watchers (log -f, prompts) get one
 * line per event of the topics they watch, never blocking the daemon. */
#ifndef DNSGATE_CONTROL_H
#define DNSGATE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "src/json.h"

#define CONTROL_DEFAULT_PATH "/run/dnsgate/control.sock"
#define CONTROL_PROTOCOL 1    /* the version hello answers */
#define CONTROL_MAX_LINE 4096 /* bytes of one request */
#define CONTROL_REPLY_MAX (256 * 1024)
#define CONTROL_MAX_CLIENTS 64  /* connections in all */
#define CONTROL_ROOT_RESERVE 8  /* of them, only root may take these */
#define CONTROL_ADMIN_RESERVE 8 /* and these, root and the admin group */
#define CONTROL_MAX_PER_USER 8  /* connections of one uid but root */
#define CONTROL_RATE 20         /* requests a second of one uid but root */
#define CONTROL_BURST 50        /* ... at once, after a quiet while */
#define CONTROL_WATCH_OUTPUT                                                   \
	(256 * 1024)         /* a watcher's lines waiting;                     \
	                        more are dropped, counted */
#define CONTROL_MAX_TOPICS 4 /* topics one connection may watch */

struct event_base;
struct control;

/* What a request may do. */
enum control_access {
	CONTROL_READ,  /* read and watch: root, admin and read group */
	CONTROL_ADMIN, /* change policy: root and the admin group */
};

/* Answers one request: writes the reply's members into out (an object
 * already begun; the control module ends it) and returns 0, or returns
 * -1 with a reason in err for an {"error": ...} reply, or CONTROL_LATER.
 * request is the whole line, for commands with arguments; command is
 * the name it was found by, so one handler may serve several. */
typedef int (*control_handler)(void *arg, const char *command,
                               const char *request, size_t len,
                               struct json_out *out, char *err, size_t errlen);

/* One command: the table given to control_new replaces any strcmp
 * chain. hello (also named version) is the module's own. */
struct control_command {
	const char *name;
	enum control_access access;
	control_handler handler;
};

/* Who besides root may connect. A group not set is nobody's: with
 * neither, the socket is root's alone (mode 0600). */
struct control_groups {
	const char *admin_name; /* NULL: none; else as configured */
	gid_t admin_gid;
	const char *read_name;
	gid_t read_gid;
};

/* The client of the request being handled, or of a watcher gone. */
struct control_peer {
	uint64_t id; /* the connection's, never reused while running */
	uid_t uid;
	gid_t gid; /* primary */
	pid_t pid; /* as the kernel saw it at connect; 0 if unknown */
	bool may_admin;
};

/* Told when a connection that watched a topic goes (prompts are then
 * given to another prompter). It is no longer among the clients then:
 * control_watched says whether another still watches its topics. */
typedef void control_watcher_gone_fn(void *arg,
                                     const struct control_peer *peer);

struct control_options {
	const struct control_command *commands;
	size_t n_commands;
	void *arg; /* the handlers' and watcher_gone's */
	struct control_groups groups;
	control_watcher_gone_fn *watcher_gone; /* may be NULL */
};

/* What a handler returns when it answers later (a reload that builds
 * in a thread): it called control_later for the request first. */
#define CONTROL_LATER 1

/* Inside a handler: the ticket of the request being handled, to answer
 * with control_answer. Until then no other request of that client is
 * read, so its replies stay in order. */
uint64_t control_later(struct control *c);

/* Inside a handler: who asked. NULL outside one. */
const struct control_peer *control_peer(struct control *c);

/* Inside a handler: the client becomes a watcher of topic (a short
 * name: "log", "prompt"), from its reply on. It may go on sending
 * requests (a prompter answers on the same connection). Returns 0, or -1
 * outside a handler or past CONTROL_MAX_TOPICS. */
int control_watch(struct control *c, const char *topic);

/* Writes the reply's members into out as a handler does: 0, or -1 with a
 * reason in err for an {"error": ...} reply. */
typedef int control_fill_fn(void *arg, struct json_out *out, char *err,
                            size_t errlen);

/* Answers the request of ticket with what fill writes; nothing is sent
 * when its client has gone, or c is NULL (freed at shutdown). A client
 * that only shut its write side is still there: it gets the answer,
 * then the daemon closes the connection. */
void control_answer(struct control *c, uint64_t ticket, control_fill_fn *fill,
                    void *arg);

/* One line, what fill writes (by the protocol's habit an "event" member
 * first), to every watcher of topic. Never blocks: a watcher with more
 * than CONTROL_WATCH_OUTPUT waiting misses it, and later gets
 * {"event": "dropped", "count": N}. fill is not called when nobody
 * watches topic (nor when it returns -1: then nothing is sent). c may be
 * NULL. */
void control_publish(struct control *c, const char *topic,
                     control_fill_fn *fill, void *arg);

/* Whether anyone watches topic (to skip building what nobody reads). */
bool control_watched(const struct control *c, const char *topic);

/* Listens on path. A socket file left by a daemon that is gone is
 * replaced; one that answers means another dnsgated runs, which is an
 * error. The parent directory is created (0755) if missing; one that is
 * there must be root's and writable by root alone (else another could
 * swap the socket file), or it is an error that says what to fix. The
 * file is root's, mode 0600, or 0660 for the groups (see
 * control_set_groups). Returns NULL with a reason in err. */
struct control *control_new(struct event_base *base, const char *path,
                            const struct control_options *options, char *err,
                            size_t errlen);

/* Who may connect from now on (a reload): the socket file's group, mode
 * and ACL, and each request's check. With two groups the file gets a
 * POSIX ACL naming both; where the file system has none, only the read
 * group's members can connect (the admin group's members must then be
 * in it too), which is logged. Only the socket file control_new made is
 * changed, never through a symbolic link: a file put in its place is
 * left alone, and an error. Returns 0, or -1 with a reason in err (only
 * root is then let in: never more open than asked). */
int control_set_groups(struct control *c, const struct control_groups *groups,
                       char *err, size_t errlen);

/* Closes every connection and removes the socket file (not a file put
 * in its place). */
void control_free(struct control *c);

#endif
