/* control.c - the control socket on the daemon's libevent loop: who may
 * connect, the command table, the limits, the watchers. */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "src/clock.h"
#include "src/control.h"
#include "src/log.h"
#include "src/xmalloc.h"

#define CONTROL_IDLE_SECONDS 60

/* A client that sends requests without reading the replies is not read
 * from while a whole reply's worth of output waits for it. */
#define CONTROL_OUTPUT_HIGH CONTROL_REPLY_MAX

/* Replies being built at once: a handler may answer another client's
 * deferred request, whose next request is then handled too. */
#define CONTROL_NESTING 4

#define CONTROL_TOPIC_MAX 32          /* bytes of a topic's name */
#define CONTROL_USERS_MAX 256         /* uids remembered for their limits */
#define CONTROL_EVENT_MAX (64 * 1024) /* bytes of one published line */

/* The limits of one uid: its connections, its requests' token bucket,
 * and how often its refusals are logged. Kept after its last connection
 * closes, so reconnecting does not refill the bucket. */
struct control_user {
	uid_t uid;
	unsigned connections;
	double tokens;
	uint64_t refilled_ms;
	uint64_t refused; /* since the last log line about it */
	uint64_t refused_logged_ms;
};

struct control_client;

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	char *path;
	dev_t file_dev; /* the socket file bind made: only it is changed */
	ino_t file_ino;
	const struct control_command *commands;
	size_t n_commands;
	void *arg;
	control_watcher_gone_fn *watcher_gone;
	char *admin_name, *read_name; /* NULL: no such group */
	gid_t admin_gid, read_gid;
	struct control_client *clients;
	size_t n_clients;
	size_t n_watching; /* clients with an active topic */
	struct control_user *users;
	size_t n_users;
	char *replies[CONTROL_NESTING]; /* CONTROL_REPLY_MAX bytes each */
	unsigned depth;
	char *event; /* CONTROL_EVENT_MAX bytes: the line being published */
	uint64_t next_serial;
	struct control_client *current; /* whose request a handler has */
	bool stopping;
};

struct control_client {
	struct control *owner;
	struct bufferevent *bev;
	struct control_peer peer;
	gid_t *groups; /* supplementary, at connect */
	size_t n_groups;
	uint64_t serial;  /* a ticket of control_later */
	bool waiting;     /* for control_answer: not read meanwhile */
	bool closing;     /* refused: the reason is written, then it goes */
	bool input_ended; /* it shut its write side: answered, then it goes */
	char topics[CONTROL_MAX_TOPICS][CONTROL_TOPIC_MAX];
	size_t n_topics;  /* asked for */
	size_t n_active;  /* of them, in force (after the reply) */
	uint64_t dropped; /* lines it missed, not yet told */
	struct control_client *prev, *next;
};

enum peer_level { LEVEL_NONE, LEVEL_READ, LEVEL_ADMIN };

/* --- who may do what ----------------------------------------------- */

static bool
peer_in_group(const struct control_client *cl, gid_t gid)
{
	size_t i;

	if (cl->peer.gid == gid)
		return true;
	for (i = 0; i < cl->n_groups; i++)
		if (cl->groups[i] == gid)
			return true;
	return false;
}

static enum peer_level
peer_level(const struct control *c, const struct control_client *cl)
{
	/* Root, or the daemon's own user (a test's daemon). */
	if (cl->peer.uid == 0 || cl->peer.uid == geteuid())
		return LEVEL_ADMIN;
	if (c->admin_name != NULL && peer_in_group(cl, c->admin_gid))
		return LEVEL_ADMIN;
	if (c->read_name != NULL && peer_in_group(cl, c->read_gid))
		return LEVEL_READ;
	return LEVEL_NONE;
}

/* "root, the group A (changes) and the group R (read only)" */
static void
who_may_connect(const struct control *c, char *buf, size_t len)
{
	if (c->admin_name != NULL && c->read_name != NULL)
		snprintf(buf, len,
		         "root, the group %s (changes) and the "
		         "group %s (read only)",
		         c->admin_name, c->read_name);
	else if (c->admin_name != NULL)
		snprintf(buf, len, "root and the group %s", c->admin_name);
	else if (c->read_name != NULL)
		snprintf(buf, len, "root and the group %s (read only)",
		         c->read_name);
	else
		snprintf(buf, len,
		         "root (no control-admin-group or "
		         "control-read-group is set)");
}

/* Reads the peer's supplementary groups as the kernel took them at
 * connect (SO_PEERGROUPS): the process may have exited or changed since,
 * and /proc/PID/status could then be another's. */
static void
read_peer_groups(struct control_client *cl, int fd)
{
	socklen_t len = 64 * sizeof(gid_t);

	for (;;) {
		cl->groups = xreallocarray(cl->groups, len / sizeof(gid_t) + 1,
		                           sizeof(gid_t));
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, cl->groups,
		               &len) == 0) {
			cl->n_groups = len / sizeof(gid_t);
			return;
		}
		if (errno != ERANGE || len > 65536 * sizeof(gid_t))
			break;
	}
	log_debug("control socket: cannot read the groups of uid %ld: %s; "
	          "only its primary group counts",
	          (long)cl->peer.uid, strerror(errno));
	cl->n_groups = 0;
}

/* --- per-user limits --------------------------------------------------- */

static struct control_user *
find_user(struct control *c, uid_t uid)
{
	size_t i, kept;

	for (i = 0; i < c->n_users; i++)
		if (c->users[i].uid == uid)
			return &c->users[i];
	if (c->n_users == CONTROL_USERS_MAX) {
		/* Forget those with no connection: at most
		 * CONTROL_MAX_CLIENTS have one. */
		for (i = kept = 0; i < c->n_users; i++)
			if (c->users[i].connections > 0)
				c->users[kept++] = c->users[i];
		c->n_users = kept;
	}
	if (c->users == NULL)
		c->users = xcalloc(CONTROL_USERS_MAX, sizeof *c->users);
	memset(&c->users[c->n_users], 0, sizeof c->users[0]);
	c->users[c->n_users].uid = uid;
	c->users[c->n_users].tokens = CONTROL_BURST;
	c->users[c->n_users].refilled_ms = clock_ms();
	return &c->users[c->n_users++];
}

/* One request's token; false when the uid is over its rate. */
static bool
take_token(struct control *c, uid_t uid)
{
	struct control_user *u;
	uint64_t now;

	if (uid == 0)
		return true; /* root could stop the daemon anyway */
	u = find_user(c, uid);
	now = clock_ms();
	u->tokens += (double)(now - u->refilled_ms) * CONTROL_RATE / 1000.0;
	if (u->tokens > CONTROL_BURST)
		u->tokens = CONTROL_BURST;
	u->refilled_ms = now;
	if (u->tokens < 1.0)
		return false;
	u->tokens -= 1.0;
	return true;
}

/* A refusal is logged at most every 10 s per uid, with how many there
 * were: a user opening 1,000 connections gets one line, not 1,000. */
static void
log_refusal(struct control *c, uid_t uid, const char *why)
{
	struct control_user *u = find_user(c, uid);
	uint64_t now = clock_ms();

	u->refused++;
	if (u->refused_logged_ms != 0 && now - u->refused_logged_ms < 10000)
		return;
	log_warn("control socket: refused %llu connection%s of uid %ld: %s",
	         (unsigned long long)u->refused, u->refused == 1 ? "" : "s",
	         (long)uid, why);
	u->refused = 0;
	u->refused_logged_ms = now;
}

/* --- connections ------------------------------------------------------- */

static bool
is_watching(const struct control_client *cl, const char *topic)
{
	size_t i;

	for (i = 0; i < cl->n_active; i++)
		if (strcmp(cl->topics[i], topic) == 0)
			return true;
	return false;
}

static void
client_close(struct control_client *cl)
{
	struct control *c = cl->owner;

	/* Unlinked before the hook: it sees the clients without this one
	 * (control_watched of its topics says whether another watches). */
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	c->n_clients--;
	if (cl->n_active > 0)
		c->n_watching--;
	if (cl->n_topics > 0 && c->watcher_gone != NULL && !c->stopping)
		c->watcher_gone(c->arg, &cl->peer);
	bufferevent_free(cl->bev);
	if (cl->peer.uid != 0)
		find_user(c, cl->peer.uid)->connections--;
	free(cl->groups);
	free(cl);
}

static void
send_line(struct control_client *cl, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
}

/* {"error": why}, written into buf. */
static const char *
error_text(char *buf, size_t len, const char *why)
{
	struct json_out j;

	json_out_init(&j, buf, len);
	json_object_begin(&j);
	json_key(&j, "error");
	json_string(&j, why);
	json_object_end(&j);
	return json_out_ok(&j) ? json_out_text(&j)
	                       : "{\"error\":\"the request failed\"}";
}

static void
send_error(struct control_client *cl, const char *why)
{
	char buf[1024];

	send_line(cl, error_text(buf, sizeof buf, why));
}

/* Says why and closes once it is written, reading nothing more. */
static void
send_error_and_close(struct control_client *cl, const char *why)
{
	send_error(cl, why);
	cl->closing = true;
	bufferevent_disable(cl->bev, EV_READ);
}

/* The topics asked for during a request are in force once its reply is
 * written: the watcher's first line is that reply. */
static void
activate_topics(struct control *c, struct control_client *cl)
{
	if (cl->n_active == 0 && cl->n_topics > 0) {
		struct timeval idle = {CONTROL_IDLE_SECONDS, 0};

		c->n_watching++;
		/* A watcher may be silent for hours; one that does not read
		 * what waits for it is still let go. */
		bufferevent_set_timeouts(cl->bev, NULL, &idle);
	}
	cl->n_active = cl->n_topics;
}

/* --- requests ---------------------------------------------------------- */

static const struct control_command *
find_command(const struct control *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n_commands; i++)
		if (strcmp(c->commands[i].name, name) == 0)
			return &c->commands[i];
	return NULL;
}

/* hello / version: the protocol, the daemon, and what this peer may do. */
static void
fill_hello(struct control *c, struct control_client *cl, struct json_out *out)
{
	size_t i;

	json_key(out, "protocol");
	json_uint(out, CONTROL_PROTOCOL);
	json_key(out, "daemon");
	json_string(out, "dnsgated " PACKAGE_VERSION);
	json_key(out, "access");
	json_string(out, cl->peer.may_admin ? "admin" : "read");
	json_key(out, "commands");
	json_array_begin(out);
	json_string(out, "hello");
	json_string(out, "version");
	for (i = 0; i < c->n_commands; i++)
		json_string(out, c->commands[i].name);
	json_array_end(out);
}

static void
unknown_command(struct control *c, struct control_client *cl, const char *name)
{
	char why[1024];
	size_t i, used;

	used = (size_t)snprintf(why, sizeof why,
	                        "unknown command '%s' (known: hello, version",
	                        name);
	for (i = 0; i < c->n_commands && used < sizeof why; i++)
		used += (size_t)snprintf(why + used, sizeof why - used, ", %s",
		                         c->commands[i].name);
	if (used < sizeof why)
		snprintf(why + used, sizeof why - used, ")");
	send_error(cl, why);
}

/* A request's "protocol", when it has one, must be one we speak. */
static int
check_protocol(const char *line, size_t len, char *why, size_t whylen)
{
	int64_t v;

	switch (
	    json_flat_get_int_range(line, len, "protocol", 1, INT64_MAX, &v)) {
	case -1:
		return 0;
	case -2:
		snprintf(why, whylen,
		         "\"protocol\" is a version number, "
		         "from 1 (this dnsgated speaks %d)",
		         CONTROL_PROTOCOL);
		return -1;
	}
	if (v > CONTROL_PROTOCOL) {
		snprintf(why, whylen,
		         "protocol %lld is newer than this "
		         "dnsgated speaks (%d): update dnsgated, or ask "
		         "for protocol %d",
		         (long long)v, CONTROL_PROTOCOL, CONTROL_PROTOCOL);
		return -1;
	}
	return 0;
}

static void
answer(struct control *c, struct control_client *cl, const char *line,
       size_t len)
{
	char command[64], err[512], why[1024], who[256];
	const struct control_command *cmd;
	struct control_client *outer;
	enum peer_level level;
	const char *reason;
	struct json_out j;
	int rc;

	level = peer_level(c, cl);
	if (level == LEVEL_NONE) { /* its groups changed on a reload */
		who_may_connect(c, who, sizeof who);
		snprintf(why, sizeof why,
		         "permission denied: the control "
		         "socket is for %s",
		         who);
		send_error_and_close(cl, why);
		return;
	}
	cl->peer.may_admin = level == LEVEL_ADMIN;
	if (!take_token(c, cl->peer.uid)) {
		snprintf(why, sizeof why,
		         "rate limit: more than %d requests "
		         "a second from uid %ld; this one was not served",
		         CONTROL_RATE, (long)cl->peer.uid);
		send_error(cl, why);
		return;
	}
	if (json_flat_check(line, len, &reason) < 0) {
		snprintf(why, sizeof why, "not a request: %s", reason);
		send_error(cl, why);
		return;
	}
	if (check_protocol(line, len, why, sizeof why) < 0) {
		send_error(cl, why);
		return;
	}
	rc =
	    json_flat_get_string(line, len, "command", command, sizeof command);
	if (rc < 0) {
		send_error(cl, rc == -2
		                   ? "no such command"
		                   : "a request needs a \"command\" string");
		return;
	}
	cmd = find_command(c, command);
	if (cmd == NULL && strcmp(command, "hello") != 0 &&
	    strcmp(command, "version") != 0) {
		unknown_command(c, cl, command);
		return;
	}
	if (cmd != NULL && cmd->access == CONTROL_ADMIN &&
	    !cl->peer.may_admin) {
		if (c->admin_name != NULL)
			snprintf(why, sizeof why,
			         "permission denied: %s "
			         "changes policy: it is for root and the group "
			         "%s",
			         command, c->admin_name);
		else
			snprintf(why, sizeof why,
			         "permission denied: %s "
			         "changes policy: it is for root (no "
			         "control-admin-group is set)",
			         command);
		send_error(cl, why);
		return;
	}
	if (c->depth == CONTROL_NESTING) {
		send_error(cl, "the daemon is busy: ask again");
		return;
	}
	if (c->replies[c->depth] == NULL)
		c->replies[c->depth] = xmalloc(CONTROL_REPLY_MAX);
	json_out_init(&j, c->replies[c->depth++], CONTROL_REPLY_MAX);
	json_object_begin(&j);
	err[0] = '\0';
	outer = c->current;
	c->current = cl;
	if (cmd == NULL) {
		fill_hello(c, cl, &j);
		rc = 0;
	} else {
		rc = cmd->handler(c->arg, command, line, len, &j, err,
		                  sizeof err);
	}
	c->current = outer;
	c->depth--;
	if (rc == CONTROL_LATER)
		return;
	if (rc < 0) {
		cl->n_topics = cl->n_active; /* refused: not a watcher */
		send_error(cl, err[0] ? err : "the request failed");
	} else {
		json_object_end(&j);
		if (json_out_ok(&j))
			send_line(cl, json_out_text(&j));
		else
			send_error(cl, "the reply does not fit the control "
			               "protocol's limit");
	}
	activate_topics(c, cl);
}

/* Every request of a client that shut its write side is answered: it
 * goes once the replies are written. Closed from the loop (the write
 * callback), never from inside a request's handling. */
static void
finish(struct control_client *cl)
{
	cl->closing = true;
	if (evbuffer_get_length(bufferevent_get_output(cl->bev)) == 0)
		bufferevent_trigger(cl->bev, EV_WRITE,
		                    BEV_TRIG_IGNORE_WATERMARKS |
		                        BEV_TRIG_DEFER_CALLBACKS);
}

/* Whether the peer closed both sides (POLLHUP), not only its write side
 * (shutdown(SHUT_WR): socat, nc -N), which still reads the replies. */
static bool
peer_hung_up(struct bufferevent *bev)
{
	struct pollfd p = {bufferevent_getfd(bev), 0, 0};

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLERR));
}

static void
on_client_read(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;
	struct control *c = cl->owner;
	struct evbuffer *in = bufferevent_get_input(bev);

	for (;;) {
		size_t len;
		char *line;

		if (cl->waiting || cl->closing)
			return; /* resumed by control_answer, or going */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CONTROL_OUTPUT_HIGH) {
			/* Resumed by on_client_written once it drains. */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
		if (line == NULL && cl->input_ended) {
			finish(cl);
			return;
		}
		if (line == NULL) {
			if (evbuffer_get_length(in) > CONTROL_MAX_LINE)
				send_error_and_close(cl, "a request line is "
				                         "longer than 4096 "
				                         "bytes: closing the "
				                         "connection");
			return;
		}
		if (len > CONTROL_MAX_LINE)
			send_error_and_close(cl, "a request line is longer "
			                         "than 4096 bytes: closing the "
			                         "connection");
		else if (len > 0)
			answer(c, cl, line, len);
		free(line);
	}
}

static void
on_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct control_client *cl = arg;

	/* Silence is fine from a watcher, or while its reply is built. */
	if ((what & BEV_EVENT_TIMEOUT) && (what & BEV_EVENT_READING) &&
	    (cl->waiting || cl->n_active > 0)) {
		bufferevent_enable(bev, EV_READ);
		return;
	}
	/* End of input: what it asked is still answered, a reply given
	 * later too. A client gone for real (hung up, reset, EPIPE) goes. */
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) &&
	    !peer_hung_up(bev)) {
		cl->input_ended = true;
		bufferevent_disable(bev, EV_READ);
		on_client_read(bev, cl);
		return;
	}
	client_close(cl);
}

static void
send_dropped(struct control_client *cl)
{
	char buf[96];

	snprintf(buf, sizeof buf, "{\"event\":\"dropped\",\"count\":%llu}",
	         (unsigned long long)cl->dropped);
	send_line(cl, buf);
	cl->dropped = 0;
}

static void
on_client_written(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;

	if (cl->closing) {
		client_close(cl);
		return;
	}
	if (cl->dropped > 0)
		send_dropped(cl);
	if (cl->input_ended) {
		on_client_read(bev, cl); /* the rest of its requests */
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		on_client_read(bev, cl); /* what waited in the input */
	}
}

/* Refused before it has a bufferevent: the reason, written if the
 * socket takes it at once, and the door shut. */
static void
refuse(int fd, const char *why)
{
	char buf[512];
	const char *text = error_text(buf, sizeof buf - 1, why);
	size_t n = strlen(text);

	memmove(buf, text, n);
	buf[n] = '\n';
	(void)send(fd, buf, n + 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/* Whether the house has room for one more at this level: the last
 * CONTROL_ROOT_RESERVE slots are root's, the CONTROL_ADMIN_RESERVE before
 * them the admin group's too, so readers cannot lock out who may mend. */
static bool
room_for(const struct control *c, uid_t uid, enum peer_level level, char *why,
         size_t len)
{
	size_t most = CONTROL_MAX_CLIENTS;

	if (uid != 0)
		most -= CONTROL_ROOT_RESERVE;
	if (uid != 0 && level != LEVEL_ADMIN)
		most -= CONTROL_ADMIN_RESERVE;
	if (c->n_clients < most)
		return true;
	if (most == CONTROL_MAX_CLIENTS)
		snprintf(why, len,
		         "busy: %zu clients are connected, the most there "
		         "may be; try again later",
		         c->n_clients);
	else
		snprintf(why, len,
		         "busy: %zu clients are connected, the most for %s "
		         "(the rest is kept for %s); try again later",
		         c->n_clients,
		         level == LEVEL_ADMIN ? "the admin group" : "readers",
		         level == LEVEL_ADMIN ? "root"
		                              : "root and the admin "
		                                "group");
	return false;
}

/* Why this peer may not come in now, in why; "" when it may. */
static void
why_refused(struct control *c, const struct control_client *cl,
            enum peer_level level, char *why, size_t len)
{
	char who[256];

	why[0] = '\0';
	if (level == LEVEL_NONE) {
		who_may_connect(c, who, sizeof who);
		snprintf(why, len,
		         "permission denied: the control socket is for %s",
		         who);
	} else if (room_for(c, cl->peer.uid, level, why, len)) {
		if (cl->peer.uid != 0 &&
		    find_user(c, cl->peer.uid)->connections >=
		        CONTROL_MAX_PER_USER)
			snprintf(why, len,
			         "uid %ld has %d connections open, the most "
			         "one user may have",
			         (long)cl->peer.uid, CONTROL_MAX_PER_USER);
	}
}

static void
on_accept(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
	struct control *c = arg;
	struct control_client *cl;
	struct timeval idle = {CONTROL_IDLE_SECONDS, 0};
	struct ucred cred;
	socklen_t len = sizeof cred;
	char why[512];
	enum peer_level level;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		log_warn("control socket: cannot tell who connected (%s): "
		         "refused",
		         strerror(errno));
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof *cl);
	cl->owner = c;
	cl->peer.uid = cred.uid;
	cl->peer.gid = cred.gid;
	cl->peer.pid = cred.pid;
	read_peer_groups(cl, fd);
	level = peer_level(c, cl);
	why_refused(c, cl, level, why, sizeof why);
	if (why[0] != '\0') {
		log_refusal(c, cred.uid, why);
		refuse(fd, why);
		free(cl->groups);
		free(cl);
		return;
	}
	cl->serial = ++c->next_serial;
	cl->peer.id = cl->serial;
	cl->peer.may_admin = level == LEVEL_ADMIN;
	if (cred.uid != 0)
		find_user(c, cred.uid)->connections++;
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
	bufferevent_setcb(cl->bev, on_client_read, on_client_written,
	                  on_client_event, cl);
	bufferevent_set_timeouts(cl->bev, &idle, &idle);
	/* No more than a request line waits in memory. */
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CONTROL_MAX_LINE + 2);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

/* --- the API for handlers ---------------------------------------------- */

uint64_t
control_later(struct control *c)
{
	if (c->current == NULL)
		return 0;
	c->current->waiting = true;
	return c->current->serial;
}

const struct control_peer *
control_peer(struct control *c)
{
	return c->current != NULL ? &c->current->peer : NULL;
}

int
control_watch(struct control *c, const char *topic)
{
	struct control_client *cl = c->current;
	size_t i;

	if (cl == NULL || strlen(topic) >= CONTROL_TOPIC_MAX)
		return -1;
	for (i = 0; i < cl->n_topics; i++)
		if (strcmp(cl->topics[i], topic) == 0)
			return 0;
	if (cl->n_topics == CONTROL_MAX_TOPICS)
		return -1;
	strcpy(cl->topics[cl->n_topics++], topic);
	return 0;
}

void
control_answer(struct control *c, uint64_t ticket, control_fill_fn *fill,
               void *arg)
{
	struct control_client *cl;
	struct json_out j;
	char err[512];

	if (c == NULL) /* stopping: the socket is gone, and its clients */
		return;
	for (cl = c->clients; cl != NULL && cl->serial != ticket;)
		cl = cl->next;
	if (cl == NULL || !cl->waiting)
		return; /* gone */
	cl->waiting = false;
	if (c->depth == CONTROL_NESTING) {
		send_error(cl, "the daemon is busy: ask again");
		on_client_read(cl->bev, cl);
		return;
	}
	if (c->replies[c->depth] == NULL)
		c->replies[c->depth] = xmalloc(CONTROL_REPLY_MAX);
	json_out_init(&j, c->replies[c->depth++], CONTROL_REPLY_MAX);
	json_object_begin(&j);
	err[0] = '\0';
	if (fill(arg, &j, err, sizeof err) < 0) {
		cl->n_topics = cl->n_active; /* refused: not a watcher */
		send_error(cl, err[0] ? err : "the request failed");
	} else {
		json_object_end(&j);
		send_line(cl, json_out_ok(&j) ? json_out_text(&j)
		                              : "{\"error\": \"the reply does "
		                                "not fit the control "
		                                "protocol's limit\"}");
	}
	c->depth--;
	activate_topics(c, cl);
	/* The requests that came meanwhile. */
	on_client_read(cl->bev, cl);
}

bool
control_watched(const struct control *c, const char *topic)
{
	const struct control_client *cl;

	if (c == NULL || c->n_watching == 0)
		return false;
	for (cl = c->clients; cl != NULL; cl = cl->next)
		if (is_watching(cl, topic))
			return true;
	return false;
}

void
control_publish(struct control *c, const char *topic, control_fill_fn *fill,
                void *arg)
{
	struct control_client *cl;
	struct json_out j;
	char err[256];

	if (!control_watched(c, topic))
		return;
	json_out_init(&j, c->event, CONTROL_EVENT_MAX);
	json_object_begin(&j);
	if (fill(arg, &j, err, sizeof err) < 0)
		return;
	json_object_end(&j);
	if (!json_out_ok(&j)) {
		log_warn("control socket: an event of %s is longer than %d "
		         "bytes: not sent",
		         topic, CONTROL_EVENT_MAX);
		return;
	}
	for (cl = c->clients; cl != NULL; cl = cl->next) {
		if (!is_watching(cl, topic) || cl->closing)
			continue;
		if (evbuffer_get_length(bufferevent_get_output(cl->bev)) >
		    CONTROL_WATCH_OUTPUT) {
			cl->dropped++;
			continue;
		}
		if (cl->dropped > 0)
			send_dropped(cl);
		send_line(cl, json_out_text(&j));
	}
}

/* --- the socket file --------------------------------------------------- */

/* Another daemon answers there: refuse. A file nobody answers on is left
 * from a daemon that is gone: remove it. */
static int
clear_stale(const char *path, const struct sockaddr_un *sun, char *err,
            size_t errlen)
{
	struct stat st;
	int fd;

	if (lstat(path, &st) != 0)
		return 0;
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "control socket %s: a file that is not a socket is "
		         "there; dnsgated will not remove it (set "
		         "control-socket to another path)",
		         path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 &&
	    connect(fd, (const struct sockaddr *)sun, sizeof *sun) == 0) {
		close(fd);
		snprintf(err, errlen,
		         "control socket %s answers: another dnsgated is "
		         "running (stop it first, or set control-socket)",
		         path);
		return -1;
	}
	if (fd >= 0)
		close(fd);
	if (unlink(path) < 0) {
		snprintf(err, errlen,
		         "cannot remove the old control socket "
		         "%s: %s",
		         path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The directory is made searchable by all (0755): the socket file's own
 * owner, mode and ACL decide who may connect. One that is there must be
 * root's and writable by root alone: whoever else may write in it could
 * put another file in the socket's place before its mode is opened. */
static int
make_parent_dir(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct stat st;
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		return 0; /* the working directory: the operator's choice */
	if (slash == dir)
		slash++; /* "/" */
	*slash = '\0';
	if (mkdir(dir, 0755) == 0) {
		(void)chmod(dir, 0755); /* whatever the umask */
		return 0;
	}
	if (errno != EEXIST || stat(dir, &st) < 0) {
		snprintf(err, errlen,
		         "cannot make the control socket's directory %s: %s",
		         dir, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen,
		         "control socket %s: %s is not a directory (set "
		         "control-socket to a path in one)",
		         path, dir);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		snprintf(err, errlen,
		         "control socket %s: its directory %s belongs to uid "
		         "%ld, who could replace the socket; dnsgated will not "
		         "listen there (chown root %s, or set control-socket "
		         "to a path in a directory of root's)",
		         path, dir, (long)st.st_uid, dir);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
		         "control socket %s: its directory %s is writable by "
		         "%s (mode %04o), who could replace the socket; "
		         "dnsgated will not listen there (chmod go-w %s, or "
		         "set control-socket to a path in a directory only "
		         "root may write)",
		         path, dir,
		         (st.st_mode & S_IWOTH) ? "everyone" : "its group",
		         (unsigned)(st.st_mode & 07777), dir);
		return -1;
	}
	return 0;
}

/* The file at the path is still the socket bind made: one put in its
 * place (a symbolic link, another file) is never changed. */
static int
check_socket_file(const struct control *c, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(c->path, &st) < 0) {
		snprintf(err, errlen,
		         "control socket %s is gone (%s): someone removed it; "
		         "restart dnsgated to make it again",
		         c->path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode) || st.st_dev != c->file_dev ||
	    st.st_ino != c->file_ino) {
		snprintf(err, errlen,
		         "control socket %s was replaced by another file "
		         "since dnsgated made it: dnsgated will not change "
		         "that file's owner or mode (find who replaced it, "
		         "then restart dnsgated)",
		         c->path);
		return -1;
	}
	return 0;
}

/* user::rw- group::rw- group:OTHER:rw- mask::rw- other::--- as the
 * kernel reads system.posix_acl_access. */
static int
set_two_group_acl(const char *path, gid_t other)
{
	struct {
		struct posix_acl_xattr_header h;
		struct posix_acl_xattr_entry e[5];
	} acl;
	static const unsigned short tags[5] = {ACL_USER_OBJ, ACL_GROUP_OBJ,
	                                       ACL_GROUP, ACL_MASK, ACL_OTHER};
	size_t i;

	acl.h.a_version = htole32(POSIX_ACL_XATTR_VERSION);
	for (i = 0; i < 5; i++) {
		acl.e[i].e_tag = htole16(tags[i]);
		acl.e[i].e_perm =
		    htole16(tags[i] == ACL_OTHER ? 0 : ACL_READ | ACL_WRITE);
		acl.e[i].e_id =
		    htole32(tags[i] == ACL_GROUP ? (uint32_t)other
		                                 : (uint32_t)ACL_UNDEFINED_ID);
	}
	return lsetxattr(path, "system.posix_acl_access", &acl, sizeof acl, 0);
}

/* The file's owner, mode and ACL for the groups in c. No call follows a
 * symbolic link, and the file is first checked to be the socket's. */
static int
apply_file_access(struct control *c, char *err, size_t errlen)
{
	const char *path = c->path;
	gid_t owner_group;
	bool two;

	two = c->admin_name != NULL && c->read_name != NULL &&
	      c->admin_gid != c->read_gid;
	if (check_socket_file(c, err, errlen) < 0)
		return -1;
	/* Closed first, so it is never more open than asked meanwhile. */
	if (fchmodat(AT_FDCWD, path, 0600, AT_SYMLINK_NOFOLLOW) < 0 ||
	    (lremovexattr(path, "system.posix_acl_access") < 0 &&
	     errno != ENODATA && errno != EOPNOTSUPP)) {
		snprintf(err, errlen,
		         "control socket %s: cannot set its "
		         "mode: %s",
		         path, strerror(errno));
		return -1;
	}
	if (c->read_name != NULL)
		owner_group = c->read_gid;
	else if (c->admin_name != NULL)
		owner_group = c->admin_gid;
	else
		owner_group = getegid(); /* the daemon's own (root's), 0600 */
	if (fchownat(AT_FDCWD, path, (uid_t)-1, owner_group,
	             AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen,
		         "control socket %s: cannot give it to "
		         "group %ld: %s",
		         path, (long)owner_group, strerror(errno));
		return -1;
	}
	if (c->read_name == NULL && c->admin_name == NULL)
		return 0;
	if (two && set_two_group_acl(path, c->admin_gid) < 0) {
		if (errno != EOPNOTSUPP) {
			snprintf(err, errlen,
			         "control socket %s: cannot give "
			         "it an ACL for the group %s: %s",
			         path, c->admin_name, strerror(errno));
			return -1;
		}
		log_warn("control socket %s: its file system has no POSIX "
		         "ACLs, so the file has one group, %s: members of %s "
		         "who are not in %s cannot connect (add them to %s, "
		         "or move the socket with control-socket)",
		         path, c->read_name, c->admin_name, c->read_name,
		         c->read_name);
		two = false;
	}
	if (!two && fchmodat(AT_FDCWD, path, 0660, AT_SYMLINK_NOFOLLOW) < 0) {
		snprintf(err, errlen,
		         "control socket %s: cannot set its "
		         "mode: %s",
		         path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
set_group_names(struct control *c, const struct control_groups *g)
{
	free(c->admin_name);
	free(c->read_name);
	c->admin_name = g->admin_name ? xstrdup(g->admin_name) : NULL;
	c->read_name = g->read_name ? xstrdup(g->read_name) : NULL;
	c->admin_gid = g->admin_gid;
	c->read_gid = g->read_gid;
}

int
control_set_groups(struct control *c, const struct control_groups *groups,
                   char *err, size_t errlen)
{
	struct control_client *cl;
	char who[256], why[512];
	int rc;

	set_group_names(c, groups);
	rc = apply_file_access(c, err, errlen);
	if (rc < 0) {
		static const struct control_groups none;

		set_group_names(c, &none); /* root's alone */
	}
	/* Those who may no longer be here are told so and let go. */
	who_may_connect(c, who, sizeof who);
	snprintf(why, sizeof why,
	         "permission denied: the control socket is "
	         "for %s",
	         who);
	for (cl = c->clients; cl != NULL; cl = cl->next)
		if (!cl->closing && peer_level(c, cl) == LEVEL_NONE)
			send_error_and_close(cl, why);
	return rc;
}

struct control *
control_new(struct event_base *base, const char *path,
            const struct control_options *o, char *err, size_t errlen)
{
	struct control *c;
	struct sockaddr_un sun;
	struct stat st;
	mode_t old_mask;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen,
		         "control socket path %s is longer than "
		         "%zu characters",
		         path, sizeof sun.sun_path - 1);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if (make_parent_dir(path, err, errlen) < 0)
		return NULL;
	if (clear_stale(path, &sun, err, errlen) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return NULL;
	}
	old_mask = umask(0177); /* srw------- until the groups are set */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(fd, 128) < 0) {
		snprintf(err, errlen,
		         "cannot listen on the control socket %s: "
		         "%s",
		         path, strerror(errno));
		umask(old_mask);
		close(fd);
		return NULL;
	}
	umask(old_mask);
	if (lstat(path, &st) < 0 || !S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen,
		         "control socket %s: not there after it was made: "
		         "something replaced it",
		         path);
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->file_dev = st.st_dev;
	c->file_ino = st.st_ino;
	c->base = base;
	c->path = xstrdup(path);
	c->commands = o->commands;
	c->n_commands = o->n_commands;
	c->arg = o->arg;
	c->watcher_gone = o->watcher_gone;
	c->event = xmalloc(CONTROL_EVENT_MAX);
	set_group_names(c, &o->groups);
	if (apply_file_access(c, err, errlen) < 0) {
		close(fd);
		control_free(c);
		return NULL;
	}
	c->listener = evconnlistener_new(base, on_accept, c,
	                                 LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (c->listener == NULL) {
		snprintf(err, errlen, "control socket: cannot watch it");
		close(fd);
		control_free(c);
		return NULL;
	}
	return c;
}

void
control_free(struct control *c)
{
	char err[512];
	size_t i;

	if (c == NULL)
		return;
	c->stopping = true;
	while (c->clients != NULL)
		client_close(c->clients);
	if (c->listener != NULL)
		evconnlistener_free(c->listener);
	if (c->path != NULL && check_socket_file(c, err, sizeof err) == 0)
		unlink(c->path); /* never a file put in its place */
	free(c->path);
	for (i = 0; i < CONTROL_NESTING; i++)
		free(c->replies[i]);
	free(c->event);
	free(c->users);
	free(c->admin_name);
	free(c->read_name);
	free(c);
}
