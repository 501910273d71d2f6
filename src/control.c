/* control.c - the control socket on the daemon's libevent loop. */
#include "config.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "src/control.h"
#include "src/log.h"
#include "src/xmalloc.h"

#define CONTROL_IDLE_SECONDS 60

/* A client that sends requests without reading the replies is not read
 * from while this much output waits for it. */
#define CONTROL_OUTPUT_HIGH (1024 * 1024)

struct control_client;

struct control {
	struct event_base *base;
	struct evconnlistener *listener;
	char *path;
	control_handler handler;
	void *arg;
	struct control_client *clients;
	size_t n_clients;
	char *reply; /* CONTROL_REPLY_MAX bytes, one reply at a time */
	uint64_t next_serial;
	struct control_client *current; /* whose request a handler has */
};

struct control_client {
	struct control *owner;
	struct bufferevent *bev;
	uid_t uid;
	uint64_t serial; /* a ticket of control_later */
	bool waiting;    /* for control_answer: not read meanwhile */
	struct control_client *prev, *next;
};

static void
client_close(struct control_client *cl)
{
	struct control *c = cl->owner;

	bufferevent_free(cl->bev);
	if (cl->prev != NULL)
		cl->prev->next = cl->next;
	else
		c->clients = cl->next;
	if (cl->next != NULL)
		cl->next->prev = cl->prev;
	c->n_clients--;
	free(cl);
}

static void
send_line(struct control_client *cl, const char *text)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	evbuffer_add(out, text, strlen(text));
	evbuffer_add(out, "\n", 1);
}

static void
send_error(struct control *c, struct control_client *cl, const char *why)
{
	struct json_out j;

	json_out_init(&j, c->reply, CONTROL_REPLY_MAX);
	json_object_begin(&j);
	json_key(&j, "error");
	json_string(&j, why);
	json_object_end(&j);
	send_line(cl, json_out_text(&j));
}

static void
answer(struct control *c, struct control_client *cl, const char *line,
       size_t len)
{
	char command[64], err[512], why[600];
	const char *reason;
	struct json_out j;
	int rc;

	if (json_flat_check(line, len, &reason) < 0) {
		snprintf(why, sizeof why, "not a request: %s", reason);
		send_error(c, cl, why);
		return;
	}
	rc = json_flat_get_string(line, len, "command", command,
				  sizeof command);
	if (rc < 0) {
		send_error(c, cl, rc == -2 ? "no such command"
					   : "a request needs a \"command\" "
					     "string");
		return;
	}
	json_out_init(&j, c->reply, CONTROL_REPLY_MAX);
	json_object_begin(&j);
	err[0] = '\0';
	c->current = cl;
	rc = c->handler(c->arg, command, line, len, &j, err, sizeof err);
	c->current = NULL;
	if (rc == CONTROL_LATER)
		return;
	if (rc < 0) {
		send_error(c, cl, err[0] ? err : "the request failed");
		return;
	}
	json_object_end(&j);
	if (!json_out_ok(&j)) {
		send_error(c, cl, "the reply does not fit the control "
				  "protocol's limit");
		return;
	}
	send_line(cl, json_out_text(&j));
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

		if (cl->waiting)
			return; /* resumed by control_answer */
		if (evbuffer_get_length(bufferevent_get_output(bev)) >
		    CONTROL_OUTPUT_HIGH) {
			/* Resumed by on_client_written once it drains. */
			bufferevent_disable(bev, EV_READ);
			return;
		}
		line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);

		if (line == NULL) {
			if (evbuffer_get_length(in) > CONTROL_MAX_LINE) {
				send_error(c, cl, "a request line is longer "
						  "than 4096 bytes");
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		if (len > CONTROL_MAX_LINE)
			send_error(c, cl, "a request line is longer than 4096 "
					  "bytes");
		else if (len > 0)
			answer(c, cl, line, len);
		free(line);
	}
}

static void
on_client_event(struct bufferevent *bev, short what, void *arg)
{
	client_close(arg);
}

static void
on_client_written(struct bufferevent *bev, void *arg)
{
	struct control_client *cl = arg;

	if (cl->uid != 0) { /* refused: the reason is written, now go */
		client_close(cl);
		return;
	}
	if (!(bufferevent_get_enabled(bev) & EV_READ)) {
		bufferevent_enable(bev, EV_READ);
		on_client_read(bev, cl); /* what waited in the input */
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

	if (c->n_clients >= CONTROL_MAX_CLIENTS) {
		log_warn("control socket: %d clients connected, refusing "
			 "another",
			 CONTROL_MAX_CLIENTS);
		close(fd);
		return;
	}
	cl = xcalloc(1, sizeof *cl);
	cl->owner = c;
	cl->serial = ++c->next_serial;
	cl->uid = (uid_t)-1;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
		cl->uid = cred.uid;
	cl->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	cl->next = c->clients;
	if (c->clients != NULL)
		c->clients->prev = cl;
	c->clients = cl;
	c->n_clients++;
	bufferevent_setcb(cl->bev, on_client_read, on_client_written,
			  on_client_event, cl);
	bufferevent_set_timeouts(cl->bev, &idle, &idle);
	if (cl->uid != 0) {
		log_warn("control socket: refused a client of uid %ld (only "
			 "root may use it)",
			 (long)cl->uid);
		send_error(c, cl, "permission denied: the control socket is "
				  "for root");
		bufferevent_enable(cl->bev, EV_WRITE);
		return;
	}
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
}

uint64_t
control_later(struct control *c)
{
	if (c->current == NULL)
		return 0;
	c->current->waiting = true;
	return c->current->serial;
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
	json_out_init(&j, c->reply, CONTROL_REPLY_MAX);
	json_object_begin(&j);
	err[0] = '\0';
	if (fill(arg, &j, err, sizeof err) < 0) {
		send_error(c, cl, err[0] ? err : "the request failed");
	} else {
		json_object_end(&j);
		send_line(cl, json_out_ok(&j) ? json_out_text(&j)
					      : "{\"error\": \"the reply does "
						"not fit the control "
						"protocol's limit\"}");
	}
	/* The requests that came meanwhile. */
	on_client_read(cl->bev, cl);
}

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
		snprintf(err, errlen, "cannot remove the old control socket "
			 "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static void
make_parent_dir(const char *path)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof dir, "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		log_debug("cannot create %s: %s", dir, strerror(errno));
}

struct control *
control_new(struct event_base *base, const char *path, control_handler handler,
	    void *arg, char *err, size_t errlen)
{
	struct control *c;
	struct sockaddr_un sun;
	mode_t old_mask;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "control socket path %s is longer than "
			 "%zu characters", path, sizeof sun.sun_path - 1);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	make_parent_dir(path);
	if (clear_stale(path, &sun, err, errlen) < 0)
		return NULL;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "control socket: %s", strerror(errno));
		return NULL;
	}
	old_mask = umask(0177); /* srw------- */
	if (bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(fd, 16) < 0) {
		snprintf(err, errlen, "cannot listen on the control socket %s: "
			 "%s", path, strerror(errno));
		umask(old_mask);
		close(fd);
		return NULL;
	}
	umask(old_mask);
	c = xcalloc(1, sizeof *c);
	c->base = base;
	c->path = xstrdup(path);
	c->handler = handler;
	c->arg = arg;
	c->reply = xmalloc(CONTROL_REPLY_MAX);
	c->listener = evconnlistener_new(base, on_accept, c,
					 LEV_OPT_CLOSE_ON_FREE, -1, fd);
	if (c->listener == NULL) {
		snprintf(err, errlen, "control socket: cannot watch it");
		close(fd);
		unlink(path);
		free(c->reply);
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void
control_free(struct control *c)
{
	if (c == NULL)
		return;
	while (c->clients != NULL)
		client_close(c->clients);
	evconnlistener_free(c->listener);
	unlink(c->path);
	free(c->path);
	free(c->reply);
	free(c);
}
