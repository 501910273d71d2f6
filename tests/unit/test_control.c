/* test_control.c - the control socket on a real loop, at a temporary
 * path: requests and their replies, bad and hostile requests, a stale
 * socket file, a second daemon; who may connect and what each may ask
 * (clients forked as other users); the limits per user; watchers. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <event2/event.h>

#include "src/control.h"
#include "tests/unit/check.h"

static struct event_base *base;
static char sock_path[108];
static int handled;

static struct control *deferring; /* the control of test_deferred */
static uint64_t pending; /* control_later's ticket; 0: none */

static int
fill_done(void *arg, struct json_out *out, char *err, size_t errlen)
{
	json_key(out, "done");
	json_bool(out, true);
	return 0;
}

static int
handler(void *arg, const char *command, const char *request, size_t len,
	struct json_out *out, char *err, size_t errlen)
{
	handled++;
	if (strcmp(command, "later") == 0 && deferring != NULL) {
		pending = control_later(deferring);
		return pending != 0 ? CONTROL_LATER : -1;
	}
	if (strcmp(command, "status") == 0 || strcmp(command, "change") == 0) {
		json_key(out, "ok");
		json_bool(out, true);
		return 0;
	}
	if (strcmp(command, "huge") == 0) {
		static char big[CONTROL_REPLY_MAX];

		memset(big, 'x', sizeof big - 1);
		big[sizeof big - 1] = '\0';
		json_key(out, "big");
		json_string(out, big);
		return 0;
	}
	snprintf(err, errlen, "cannot do '%s'", command);
	return -1;
}

static const struct control_command commands[] = {
	{"status", CONTROL_READ, handler},
	{"later", CONTROL_READ, handler},
	{"huge", CONTROL_READ, handler},
	{"fails", CONTROL_READ, handler},
	{"change", CONTROL_ADMIN, handler},
};

/* A control with the test's commands and these groups (NULL: none). */
static struct control *
new_control(const struct control_groups *groups, char *err, size_t errlen)
{
	struct control_options o;

	memset(&o, 0, sizeof o);
	o.commands = commands;
	o.n_commands = sizeof commands / sizeof commands[0];
	if (groups != NULL)
		o.groups = *groups;
	return control_new(base, sock_path, &o, err, errlen);
}

static int
connect_client(void)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock_path);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		return -1;
	return fd;
}

/* Sends text on fd and runs the loop until `lines` whole reply lines
 * (or EOF) are there; returns them in buf without the last newline. */
static const char *
exchange_lines(int fd, const char *text, char *buf, size_t buflen, int lines)
{
	size_t got = 0;
	int rounds;

	if (text != NULL)
		CHECK(send(fd, text, strlen(text), 0) == (ssize_t)strlen(text));
	buf[0] = '\0';
	for (rounds = 0; rounds < 2000; rounds++) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) <= 0)
			continue;
		n = recv(fd, buf + got, buflen - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		{
			int seen = 0;
			char *p;

			for (p = buf; *p != '\0'; p++)
				seen += *p == '\n';
			if (seen >= lines) {
				buf[got - 1] = '\0';
				break;
			}
		}
	}
	return buf;
}

static const char *
exchange(int fd, const char *text, char *buf, size_t buflen)
{
	return exchange_lines(fd, text, buf, buflen, 1);
}

/* The same for n bytes that may hold a NUL. */
static const char *
exchange_n(int fd, const char *text, size_t n, char *buf, size_t buflen)
{
	CHECK(send(fd, text, n, 0) == (ssize_t)n);
	return exchange_lines(fd, NULL, buf, buflen, 1);
}

static void
test_requests(void)
{
	char err[256], buf[8192];
	static char line[CONTROL_MAX_LINE + 100];
	struct control *c;
	struct stat st;
	int fd;

	c = new_control(NULL, err, sizeof err);
	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(stat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0600);
	fd = connect_client();
	CHECK(fd >= 0);
	CHECK_STR(exchange(fd, "{\"command\":\"status\"}\n", buf, sizeof buf),
		  "{\"ok\":true}");
	/* The connection stays usable after each kind of bad request. */
	CHECK_STR(exchange(fd, "status\n", buf, sizeof buf),
		  "{\"error\":\"not a request: a request is one JSON object, "
		  "{...}\"}");
	CHECK_STR(exchange(fd, "{\"cmd\":\"status\"}\n", buf, sizeof buf),
		  "{\"error\":\"a request needs a \\\"command\\\" string\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"nope\"}\n", buf, sizeof buf),
		  "{\"error\":\"unknown command 'nope' (known: hello, version, "
		  "status, later, huge, fails, change)\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"fails\"}\n", buf, sizeof buf),
		  "{\"error\":\"cannot do 'fails'\"}");
	/* The protocol's version, and a request for a newer one. */
	CHECK_STR(exchange(fd, "{\"command\":\"hello\"}\n", buf, sizeof buf),
		  "{\"protocol\":1,\"daemon\":\"dnsgated " PACKAGE_VERSION
		  "\",\"access\":\"admin\",\"commands\":[\"hello\","
		  "\"version\",\"status\",\"later\",\"huge\",\"fails\","
		  "\"change\"]}");
	CHECK(strstr(exchange(fd, "{\"command\":\"version\"}\n", buf,
			      sizeof buf),
		     "\"protocol\":1,") != NULL);
	CHECK_STR(exchange(fd, "{\"command\":\"status\",\"protocol\":1}\n",
			   buf, sizeof buf),
		  "{\"ok\":true}");
	CHECK_STR(exchange(fd, "{\"command\":\"status\",\"protocol\":2}\n",
			   buf, sizeof buf),
		  "{\"error\":\"protocol 2 is newer than this dnsgated speaks "
		  "(1): update dnsgated, or ask for protocol 1\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"status\",\"protocol\":"
			       "1e99}\n",
			   buf, sizeof buf),
		  "{\"error\":\"\\\"protocol\\\" is a version number, from 1 "
		  "(this dnsgated speaks 1)\"}");
	/* Hostile lines: each refused with its reason, the connection
	 * still usable after it. */
	CHECK_STR(exchange_n(fd, "{\"command\":\"sta\0tus\"}\n", 22, buf,
			     sizeof buf),
		  "{\"error\":\"not a request: a control character inside a "
		  "string\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"status\",\"command\":"
			       "\"change\"}\n",
			   buf, sizeof buf),
		  "{\"error\":\"not a request: a member named twice\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"st\xffus\"}\n", buf,
			   sizeof buf),
		  "{\"error\":\"not a request: a string that is not UTF-8\"}");
	CHECK_STR(exchange(fd, "{\"command\":[[[[[[[[[[[[[[[[[[[[\"status\"]]"
			       "]]]]]]]]]]]]]]]]]]}\n",
			   buf, sizeof buf),
		  "{\"error\":\"not a request: a request holds only strings, "
		  "numbers, true, false and null\"}");
	CHECK_STR(exchange(fd, "\x01\x02garbage\xfe\n", buf, sizeof buf),
		  "{\"error\":\"not a request: a request is one JSON object, "
		  "{...}\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"huge\"}\n", buf, sizeof buf),
		  "{\"error\":\"the reply does not fit the control protocol's "
		  "limit\"}");
	memset(line, 'a', CONTROL_MAX_LINE + 10);
	line[CONTROL_MAX_LINE + 10] = '\n';
	line[CONTROL_MAX_LINE + 11] = '\0';
	/* Two requests in one write: two replies, in order. */
	CHECK_STR(exchange_lines(fd,
				 "{\"command\":\"status\"}\n{\"command\":"
				 "\"fails\"}\n",
				 buf, sizeof buf, 2),
		  "{\"ok\":true}\n{\"error\":\"cannot do 'fails'\"}");
	/* A line too long: said so, and the connection is closed, the rest
	 * unread (the request after it is not answered). */
	CHECK_STR(exchange(fd, line, buf, sizeof buf),
		  "{\"error\":\"a request line is longer than 4096 bytes: "
		  "closing the connection\"}");
	CHECK_STR(exchange(fd, NULL, buf, sizeof buf), "");
	close(fd);
	/* A megabyte without a newline: the same, and the daemon holds no
	 * more than a line of it. */
	fd = connect_client();
	{
		static char mb[1 << 20];
		size_t sent = 0;
		int rounds;

		memset(mb, 'a', sizeof mb);
		fcntl(fd, F_SETFL, O_NONBLOCK);
		for (rounds = 0; rounds < 2000 && sent < sizeof mb; rounds++) {
			ssize_t n = send(fd, mb + sent, sizeof mb - sent,
					 MSG_NOSIGNAL);

			if (n > 0)
				sent += (size_t)n;
			else if (errno != EAGAIN)
				break;
			event_base_loop(base, EVLOOP_NONBLOCK);
		}
		CHECK(sent < sizeof mb); /* it stopped reading */
		fcntl(fd, F_SETFL, 0);
		CHECK_STR(exchange(fd, NULL, buf, sizeof buf),
			  "{\"error\":\"a request line is longer than 4096 "
			  "bytes: closing the connection\"}");
	}
	close(fd);

	/* A second daemon on the same path is refused: this one answers. */
	CHECK(new_control(NULL, err, sizeof err) ==
	      NULL);
	CHECK(strstr(err, "another dnsgated is running") != NULL);

	/* A client that is not root is told why and let go (the file's mode
	 * keeps it out already; opened up here to reach the second check). */
	if (geteuid() == 0) {
		chmod(sock_path, 0666);
		pid_t pid = fork();

		if (pid == 0) {
			char b[512];
			size_t got = 0;
			ssize_t n;

			if (setuid(65534) < 0)
				_exit(3);
			fd = connect_client();
			if (fd < 0)
				_exit(4);
			send(fd, "{\"command\":\"status\"}\n", 21, 0);
			while ((n = recv(fd, b + got, sizeof b - 1 - got, 0)) > 0)
				got += (size_t)n;
			b[got] = '\0';
			_exit(strstr(b, "permission denied") != NULL ? 0 : 5);
		} else {
			int status = -1, rounds;

			for (rounds = 0; rounds < 3000; rounds++) {
				event_base_loop(base, EVLOOP_NONBLOCK);
				if (waitpid(pid, &status, WNOHANG) == pid)
					break;
				usleep(1000);
			}
			CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		}
	}
	control_free(c);
	CHECK(access(sock_path, F_OK) != 0);
}

/* A client that writes requests and never reads: the daemon stops
 * reading from it while its replies wait, instead of growing without
 * bound; once it reads, the rest is answered. */
static void
test_flood(void)
{
	static const char req[] = "{\"command\":\"status\"}\n";
	char err[256], buf[65536];
	struct control *c;
	size_t sent = 0, replies = 0;
	int fd, rounds, sndbuf = 4 << 20;

	c = new_control(NULL, err, sizeof err);
	fd = connect_client();
	CHECK(c != NULL && fd >= 0);
	if (c == NULL || fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	/* 400,000 requests would be 4.4 MB of replies. */
	for (rounds = 0; rounds < 20000 && sent < 400000; rounds++) {
		while (sent < 400000 &&
		       send(fd, req, sizeof req - 1, 0) == sizeof req - 1)
			sent++;
		event_base_loop(base, EVLOOP_NONBLOCK);
	}
	CHECK(sent < 400000); /* it stopped reading: our sends blocked */
	CHECK(handled < 200000);
	/* Read everything: every request sent is answered. */
	for (rounds = 0; rounds < 200000 && replies < sent; rounds++) {
		ssize_t n;
		ssize_t k;

		event_base_loop(base, EVLOOP_NONBLOCK);
		n = recv(fd, buf, sizeof buf, 0);
		for (k = 0; k < n; k++)
			replies += buf[k] == '\n';
	}
	CHECK_INT(replies, sent);
	close(fd);
	control_free(c);
}

static void
test_stale_file(void)
{
	struct sockaddr_un sun;
	char err[256];
	struct control *c;
	int fd;

	/* A socket file nobody listens on, as a killed daemon leaves. */
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
	close(fd);
	CHECK(access(sock_path, F_OK) == 0);
	c = new_control(NULL, err, sizeof err);
	CHECK(c != NULL);
	control_free(c);

	/* A file that is not a socket is never removed. */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK(new_control(NULL, err, sizeof err) ==
	      NULL);
	CHECK(strstr(err, "not a socket") != NULL);
	CHECK(access(sock_path, F_OK) == 0);
	unlink(sock_path);

	{
		struct control_options o;

		memset(&o, 0, sizeof o);
		CHECK(control_new(base, "/nonexistent-dir/x/y.sock", &o, err,
				  sizeof err) == NULL);
	}
	CHECK(strstr(err, "cannot make the control socket's directory "
			  "/nonexistent-dir/x: No such file") != NULL);
}

/* A reply given later; the client's next request waits for it, so the
 * replies keep their order. A client gone meanwhile is not written to. */
static void
test_deferred(void)
{
	char err[256], buf[8192];
	int fd;

	deferring = new_control(NULL, err, sizeof err);
	CHECK(deferring != NULL);
	if (deferring == NULL)
		return;
	fd = connect_client();
	CHECK_STR(exchange(fd, "{\"command\":\"later\"}\n{\"command\":"
			       "\"status\"}\n",
			   buf, sizeof buf),
		  "");
	CHECK(pending != 0);
	CHECK(control_later(deferring) == 0); /* outside a handler */
	control_answer(deferring, pending, fill_done, NULL);
	pending = 0;
	CHECK_STR(exchange_lines(fd, NULL, buf, sizeof buf, 2),
		  "{\"done\":true}\n{\"ok\":true}");
	CHECK_STR(exchange(fd, "{\"command\":\"later\"}\n", buf, sizeof buf),
		  "");
	close(fd);
	event_base_loop(base, EVLOOP_NONBLOCK);
	CHECK(pending != 0);
	control_answer(deferring, pending, fill_done, NULL); /* no one to tell */
	pending = 0;
	control_free(deferring);
	deferring = NULL;
}

/* Reads fd until the daemon closes it: 0 with what came in buf, or -1
 * when it stays open. */
static int
read_to_eof(int fd, char *buf, size_t buflen)
{
	size_t got = 0;
	int rounds;

	buf[0] = '\0';
	for (rounds = 0; rounds < 3000; rounds++) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 1) <= 0)
			continue;
		n = recv(fd, buf + got, buflen - 1 - got, 0);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		got += (size_t)n;
		buf[got] = '\0';
	}
	return -1;
}

/* A client that shuts its write side after its requests (socat, nc -N)
 * gets every reply, one given later too, and then the daemon closes. */
static void
test_half_close(void)
{
	char err[256], buf[8192];
	int fd, rounds;

	deferring = new_control(NULL, err, sizeof err);
	CHECK(deferring != NULL);
	if (deferring == NULL)
		return;
	fd = connect_client();
	CHECK(send(fd, "{\"command\":\"later\"}\n{\"command\":\"status\"}\n",
		   42, 0) == 42);
	CHECK(shutdown(fd, SHUT_WR) == 0);
	for (rounds = 0; rounds < 200; rounds++) { /* the EOF is seen */
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(200);
	}
	CHECK(pending != 0);
	control_answer(deferring, pending, fill_done, NULL);
	pending = 0;
	CHECK_INT(read_to_eof(fd, buf, sizeof buf), 0);
	CHECK_STR(buf, "{\"done\":true}\n{\"ok\":true}\n");
	close(fd);
	/* Requests answered at once: their replies, then the end. */
	fd = connect_client();
	CHECK(send(fd, "{\"command\":\"status\"}\n{\"command\":\"fails\"}\n",
		   42, 0) == 42);
	CHECK(shutdown(fd, SHUT_WR) == 0);
	CHECK_INT(read_to_eof(fd, buf, sizeof buf), 0);
	CHECK_STR(buf, "{\"ok\":true}\n{\"error\":\"cannot do 'fails'\"}\n");
	close(fd);
	/* Nothing asked: closed at once. */
	fd = connect_client();
	CHECK(shutdown(fd, SHUT_WR) == 0);
	CHECK_INT(read_to_eof(fd, buf, sizeof buf), 0);
	CHECK_STR(buf, "");
	close(fd);
	control_free(deferring);
	deferring = NULL;
}

/* The socket file is changed only where it is safe: a directory another
 * may write is refused with what to do; a file put in the socket's place
 * (a symbolic link to another file, another socket) is left alone. */
static void
test_socket_file(void)
{
	struct control_groups g = {NULL, 0, "nogroup", 65534};
	char dir[128], sub[160], path[200], target[200], err[512];
	struct sockaddr_un sun;
	struct control_options o;
	struct control *c;
	struct stat st;
	int fd;

	if (geteuid() != 0)
		return;
	memset(&o, 0, sizeof o);
	snprintf(dir, sizeof dir, "%s", sock_path);
	*strrchr(dir, '/') = '\0';
	snprintf(sub, sizeof sub, "%s/run", dir);
	snprintf(path, sizeof path, "%s/control.sock", sub);
	CHECK(mkdir(sub, 0755) == 0);
	CHECK(chown(sub, 65534, 0) == 0);
	CHECK(control_new(base, path, &o, err, sizeof err) == NULL);
	CHECK(strstr(err, "belongs to uid 65534, who could replace the "
			  "socket; dnsgated will not listen there (chown root") !=
	      NULL);
	CHECK(chown(sub, 0, 0) == 0 && chmod(sub, 0777) == 0);
	CHECK(control_new(base, path, &o, err, sizeof err) == NULL);
	CHECK(strstr(err, "is writable by everyone (mode 0777)") != NULL);
	CHECK(chmod(sub, 0775) == 0);
	CHECK(control_new(base, path, &o, err, sizeof err) == NULL);
	CHECK(strstr(err, "is writable by its group (mode 0775)") != NULL);
	CHECK(access(path, F_OK) != 0); /* never listened there */
	CHECK(chmod(sub, 0755) == 0);
	c = control_new(base, path, &o, err, sizeof err);
	CHECK(c != NULL);
	control_free(c);
	CHECK(rmdir(sub) == 0);

	/* A symbolic link in the socket's place: the file it names keeps
	 * its owner and mode, and is not removed at the end either. */
	snprintf(target, sizeof target, "%s/target", dir);
	fd = open(target, O_CREAT | O_WRONLY, 0644);
	CHECK(fd >= 0 && fchmod(fd, 0644) == 0);
	close(fd);
	c = new_control(NULL, err, sizeof err);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	CHECK(unlink(sock_path) == 0 && symlink(target, sock_path) == 0);
	CHECK_INT(control_set_groups(c, &g, err, sizeof err), -1);
	CHECK(strstr(err, "was replaced by another file since dnsgated made "
			  "it: dnsgated will not change that file's owner") !=
	      NULL);
	CHECK(stat(target, &st) == 0 && (st.st_mode & 07777) == 0644 &&
	      st.st_gid == 0);
	/* Another socket there: the same. */
	CHECK(unlink(sock_path) == 0);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, sock_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK(bind(fd, (struct sockaddr *)&sun, sizeof sun) == 0);
	CHECK(chmod(sock_path, 0640) == 0);
	CHECK_INT(control_set_groups(c, &g, err, sizeof err), -1);
	CHECK(strstr(err, "was replaced") != NULL);
	CHECK(lstat(sock_path, &st) == 0 && (st.st_mode & 0777) == 0640 &&
	      st.st_gid == 0);
	control_free(c);
	CHECK(lstat(sock_path, &st) == 0); /* not ours: left there */
	close(fd);
	unlink(sock_path);
	unlink(target);
}

/* --- clients forked as other users --------------------------------- */

/* A blocking request from a child: the reply line in buf ("" when the
 * daemon closed without one). Returns -1 when it cannot connect. */
static int
child_request(int fd, const char *req, char *buf, size_t len)
{
	size_t got = 0;

	if (fd < 0)
		return -1;
	if (req != NULL)
		(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
	buf[0] = '\0';
	while (got + 1 < len) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (poll(&pfd, 1, 5000) <= 0)
			break;
		n = recv(fd, buf + got, len - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
		buf[got] = '\0';
		if (strchr(buf, '\n') != NULL)
			break;
	}
	return 0;
}

/* Becomes uid with primary gid and these supplementary groups. */
static void
become(uid_t uid, gid_t gid, const gid_t *groups, size_t n)
{
	if (setgroups(n, groups) < 0 || setgid(gid) < 0 || setuid(uid) < 0)
		_exit(90);
}

/* Runs the loop until pid exits; its exit status, or -1. */
static int
wait_child(pid_t pid)
{
	int status = -1, rounds;

	for (rounds = 0; rounds < 20000; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(500);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

/* Runs the loop until fd has a byte to read (a child says it is ready). */
static void
wait_ready(int fd)
{
	int rounds;
	char b;

	for (rounds = 0; rounds < 20000; rounds++) {
		struct pollfd pfd = {fd, POLLIN, 0};

		event_base_loop(base, EVLOOP_NONBLOCK);
		if (poll(&pfd, 1, 0) == 1) {
			(void)read(fd, &b, 1);
			return;
		}
		usleep(500);
	}
}

/* Exit codes of the children: 0 what was expected; 10+ which check. */
static int
expect(const char *reply, const char *want)
{
	if (strstr(reply, want) != NULL)
		return 1;
	fprintf(stderr, "child %ld: \"%s\" has no \"%s\"\n", (long)getuid(),
		reply, want);
	return 0;
}

#define READ_GID 65534  /* nogroup */
#define ADMIN_GID 4242  /* a group no one has */
#define OUTSIDER 60001  /* a uid in neither */

static void
test_access(void)
{
	struct control_groups g = {"dnsgate-admin", ADMIN_GID, "nogroup",
				   READ_GID};
	static const gid_t admin_groups[] = {ADMIN_GID};
	char err[256], value[256];
	struct control *c;
	struct stat st;
	pid_t pid;
	ssize_t n;

	if (geteuid() != 0)
		return;
	c = new_control(&g, err, sizeof err);
	CHECK(c != NULL);
	if (c == NULL) {
		fprintf(stderr, "%s\n", err);
		return;
	}
	/* The file: root's, the read group's, 0660, an ACL naming the admin
	 * group (where the file system has ACLs). */
	CHECK(stat(sock_path, &st) == 0 && st.st_uid == 0 &&
	      st.st_gid == READ_GID && (st.st_mode & 0777) == 0660);
	n = getxattr(sock_path, "system.posix_acl_access", value, sizeof value);
	CHECK(n == 4 + 5 * 8 || (n < 0 && errno == EOPNOTSUPP));

	/* Outside both groups: the file keeps it out (EACCES)... */
	pid = fork();
	if (pid == 0) {
		become(OUTSIDER, OUTSIDER, NULL, 0);
		_exit(connect_client() < 0 && errno == EACCES ? 0 : 10);
	}
	CHECK_INT(wait_child(pid), 0);
	/* ...and with the file opened up, SO_PEERCRED does. */
	chmod(sock_path, 0666);
	pid = fork();
	if (pid == 0) {
		char b[1024];

		become(OUTSIDER, OUTSIDER, NULL, 0);
		child_request(connect_client(), "{\"command\":\"status\"}\n", b,
			      sizeof b);
		_exit(expect(b, "permission denied: the control socket is for "
				"root, the group dnsgate-admin (changes) and "
				"the group nogroup (read only)")
			  ? 0
			  : 11);
	}
	CHECK_INT(wait_child(pid), 0);
	/* The read group reads, and is refused a change, told why. */
	pid = fork();
	if (pid == 0) {
		char b[1024];
		int fd;

		become(65534, READ_GID, NULL, 0);
		fd = connect_client();
		child_request(fd, "{\"command\":\"status\"}\n", b, sizeof b);
		if (!expect(b, "{\"ok\":true}"))
			_exit(12);
		child_request(fd, "{\"command\":\"hello\"}\n", b, sizeof b);
		if (!expect(b, "\"access\":\"read\""))
			_exit(13);
		child_request(fd, "{\"command\":\"change\"}\n", b, sizeof b);
		_exit(expect(b, "{\"error\":\"permission denied: change "
				"changes policy: it is for root and the group "
				"dnsgate-admin\"}")
			  ? 0
			  : 14);
	}
	CHECK_INT(wait_child(pid), 0);
	/* A member of the admin group (a supplementary group) changes. */
	chmod(sock_path, 0660); /* the ACL lets it in again */
	pid = fork();
	if (pid == 0) {
		char b[1024];
		int fd;

		become(OUTSIDER, OUTSIDER, admin_groups, 1);
		fd = connect_client();
		if (fd < 0 && errno == EACCES) /* no ACL: the file's group */
			_exit(n < 0 ? 0 : 15);
		child_request(fd, "{\"command\":\"change\"}\n", b, sizeof b);
		_exit(expect(b, "{\"ok\":true}") ? 0 : 16);
	}
	CHECK_INT(wait_child(pid), 0);

	/* A reload that drops the groups: the file is root's again, and a
	 * reader connected meanwhile is told and let go. */
	{
		int ready[2], go[2];
		static const struct control_groups none;

		CHECK(pipe(ready) == 0 && pipe(go) == 0);
		pid = fork();
		if (pid == 0) {
			char b[1024], x;
			int fd;

			close(ready[0]);
			close(go[1]);
			become(65534, READ_GID, NULL, 0);
			fd = connect_client();
			child_request(fd, "{\"command\":\"status\"}\n", b,
				      sizeof b);
			if (!expect(b, "{\"ok\":true}"))
				_exit(17);
			(void)write(ready[1], "r", 1);
			(void)read(go[0], &x, 1);
			child_request(fd, NULL, b, sizeof b);
			_exit(expect(b, "permission denied: the control socket "
					"is for root (no control-admin-group")
				  ? 0
				  : 18);
		}
		close(ready[1]);
		close(go[0]);
		wait_ready(ready[0]);
		CHECK_INT(control_set_groups(c, &none, err, sizeof err), 0);
		CHECK(stat(sock_path, &st) == 0 && st.st_gid == 0 &&
		      (st.st_mode & 0777) == 0600);
		CHECK(getxattr(sock_path, "system.posix_acl_access", value,
			       sizeof value) < 0);
		close(go[1]);
		CHECK_INT(wait_child(pid), 0);
		close(ready[0]);
	}
	control_free(c);
}

/* A child as uid (in the admin group, or a reader) asks once: 0 when the
 * reply has want. */
static int
probe(uid_t uid, bool admin, const char *want)
{
	static const gid_t admin_groups[] = {ADMIN_GID};
	char buf[1024];
	pid_t pid = fork();

	if (pid == 0) {
		become(uid, admin ? uid : READ_GID, admin_groups, admin ? 1 : 0);
		child_request(connect_client(), "{\"command\":\"status\"}\n",
			      buf, sizeof buf);
		_exit(expect(buf, want) ? 0 : 22);
	}
	return wait_child(pid);
}

/* One user cannot hold more than its share of connections, nor ask
 * faster than its rate; readers cannot take the admin group's share,
 * and root gets in past a full house. */
static void
test_limits(void)
{
	struct control_groups g = {"dnsgate-admin", ADMIN_GID, "nogroup",
				   READ_GID};
	static const gid_t admin_groups[] = {ADMIN_GID};
	char err[256], buf[1024];
	struct control *c;
	int ready[2], go[2], fd, k;
	pid_t pids[7];

	if (geteuid() != 0)
		return;
	c = new_control(&g, err, sizeof err);
	CHECK(c != NULL);
	if (c == NULL)
		return;
	chmod(sock_path, 0666); /* uids outside the group: by SO_PEERCRED */

	/* The rate: 50 at once pass, the rest of 70 are refused. */
	{
		pid_t pid = fork();

		if (pid == 0) {
			static char b[65536];
			char req[70 * 32];
			size_t got = 0;
			int ok = 0, limited = 0, i;
			char *p;

			become(65534, READ_GID, NULL, 0);
			fd = connect_client();
			req[0] = '\0';
			for (i = 0; i < 70; i++)
				strcat(req, "{\"command\":\"status\"}\n");
			(void)send(fd, req, strlen(req), MSG_NOSIGNAL);
			while (ok + limited < 70) {
				struct pollfd pfd = {fd, POLLIN, 0};
				ssize_t n;

				if (poll(&pfd, 1, 5000) <= 0)
					break;
				n = recv(fd, b + got, sizeof b - 1 - got, 0);
				if (n <= 0)
					break;
				got += (size_t)n;
				b[got] = '\0';
				ok = limited = 0;
				for (p = b; (p = strchr(p, '\n')) != NULL; p++)
					;
				for (p = b; (p = strstr(p, "\"ok\"")) != NULL;
				     p++)
					ok++;
				for (p = b; (p = strstr(p, "rate limit: more "
							   "than 20 requests a "
							   "second from uid "
							   "65534")) != NULL;
				     p++)
					limited++;
			}
			fprintf(stderr, "rate: %d served, %d refused\n", ok,
				limited);
			_exit(ok >= 50 && ok <= 52 && ok + limited == 70 ? 0
									 : 20);
		}
		CHECK_INT(wait_child(pid), 0);
	}

	/* Connections: 8 of one uid, the 9th to 20th refused; then readers
	 * fill the house but for the admin group's and root's share: 6 uids
	 * with 8 each; then an admin with 8 fills it but for root's. */
	CHECK(pipe(ready) == 0 && pipe(go) == 0);
	for (k = 0; k < 7; k++) {
		if (k == 6) {
			/* 48 are connected: another reader is told the
			 * house is full (for readers)... */
			CHECK_INT(probe(OUTSIDER + 20, false,
					"busy: 48 clients are connected, the "
					"most for readers (the rest is kept for "
					"root and the admin group)"),
				  0);
		}
		pids[k] = fork();
		if (pids[k] == 0) {
			int fds[20], i, served = 0, refused = 0;
			char b[512], x;

			close(ready[0]);
			close(go[1]);
			/* the last is an admin, the others readers */
			become(OUTSIDER + 1 + (uid_t)k,
			       k == 6 ? OUTSIDER : READ_GID, admin_groups,
			       k == 6 ? 1 : 0);
			for (i = 0; i < (k == 0 ? 20 : 8); i++) {
				fds[i] = connect_client();
				child_request(fds[i], "{\"command\":\"status\"}"
						      "\n",
					      b, sizeof b);
				if (strstr(b, "{\"ok\":true}") != NULL)
					served++;
				else if (strstr(b, "connections open, the most "
						   "one user may have") != NULL)
					refused++;
			}
			(void)write(ready[1], "r", 1);
			(void)read(go[0], &x, 1);
			_exit(served == 8 && refused == (k == 0 ? 12 : 0) ? 0
									  : 21);
		}
		wait_ready(ready[0]);
	}
	/* 56: another admin is told it is full but for root... */
	CHECK_INT(probe(OUTSIDER + 21, true,
			"busy: 56 clients are connected, the most for the "
			"admin group (the rest is kept for root)"),
		  0);
	/* ...and root is served. */
	fd = connect_client();
	CHECK_STR(exchange(fd, "{\"command\":\"status\"}\n", buf, sizeof buf),
		  "{\"ok\":true}");
	close(fd);
	close(go[1]);
	for (k = 0; k < 7; k++)
		CHECK_INT(wait_child(pids[k]), 0);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
	control_free(c);
}

/* --- watchers ---------------------------------------------------------- */

static struct control *watched;
static int fills, gone;
static uint64_t gone_id, last_peer_id;

static int
watch_handler(void *arg, const char *command, const char *request, size_t len,
	      struct json_out *out, char *err, size_t errlen)
{
	const struct control_peer *p = control_peer(watched);

	last_peer_id = p->id;
	if (strcmp(command, "watch") == 0) {
		CHECK_INT(control_watch(watched, "log"), 0);
		json_key(out, "watching");
		json_bool(out, true);
		return 0;
	}
	if (strcmp(command, "watch-prompt") == 0) {
		CHECK_INT(control_watch(watched, "prompt"), 0);
		json_key(out, "watching");
		json_bool(out, true);
		return 0;
	}
	if (strcmp(command, "watch-refused") == 0) {
		CHECK_INT(control_watch(watched, "log"), 0);
		snprintf(err, errlen, "no");
		return -1; /* not a watcher then */
	}
	json_key(out, "uid");
	json_uint(out, p->uid);
	json_key(out, "admin");
	json_bool(out, p->may_admin);
	return 0;
}

static bool gone_saw_log, gone_saw_prompt; /* control_watched in the hook */

static void
on_watcher_gone(void *arg, const struct control_peer *peer)
{
	gone++;
	gone_id = peer->id;
	gone_saw_log = control_watched(watched, "log");
	gone_saw_prompt = control_watched(watched, "prompt");
}

static int
fill_event(void *arg, struct json_out *out, char *err, size_t errlen)
{
	static char pad[1001];

	fills++;
	memset(pad, 'p', sizeof pad - 1);
	json_key(out, "event");
	json_string(out, "query");
	json_key(out, "n");
	json_uint(out, *(unsigned *)arg);
	json_key(out, "pad");
	json_string(out, pad);
	return 0;
}

/* Reads what is there on fd (non-blocking) into counts of event lines. */
static void
drain(int fd, size_t *events, uint64_t *dropped, char *tail, size_t *tlen)
{
	char buf[65536];
	ssize_t n;

	while ((n = recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++) {
			if (*tlen < 4095)
				tail[(*tlen)++] = buf[i];
			if (buf[i] != '\n')
				continue;
			tail[*tlen] = '\0';
			if (strstr(tail, "\"event\":\"query\"") != NULL)
				(*events)++;
			else if (strncmp(tail, "{\"event\":\"dropped\",\"count\":",
					 27) == 0)
				*dropped += strtoull(tail + 27, NULL, 10);
			*tlen = 0;
		}
	}
}

static void
test_watchers(void)
{
	static const struct control_command wcommands[] = {
		{"watch", CONTROL_READ, watch_handler},
		{"watch-refused", CONTROL_READ, watch_handler},
		{"whoami", CONTROL_READ, watch_handler},
	};
	struct control_options o;
	char err[256], buf[8192], tail1[4096], tail2[4096];
	size_t ev1 = 0, ev2 = 0, t1 = 0, t2 = 0;
	uint64_t dr1 = 0, dr2 = 0, fast_id;
	int w1, w2, w3, rounds;
	unsigned i, total = 2000;

	memset(&o, 0, sizeof o);
	o.commands = wcommands;
	o.n_commands = 3;
	o.watcher_gone = on_watcher_gone;
	watched = control_new(base, sock_path, &o, err, sizeof err);
	CHECK(watched != NULL);
	if (watched == NULL)
		return;
	/* Nobody watches: fill is never called. */
	i = 0;
	control_publish(watched, "log", fill_event, &i);
	CHECK(!control_watched(watched, "log"));
	CHECK_INT(fills, 0);
	CHECK(control_peer(watched) == NULL);      /* outside a handler */
	CHECK_INT(control_watch(watched, "log"), -1);
	control_publish(NULL, "log", fill_event, &i);

	w1 = connect_client();
	w2 = connect_client();
	w3 = connect_client();
	{
		char want[64];

		snprintf(want, sizeof want, "{\"uid\":%ld,\"admin\":true}",
			 (long)getuid());
		CHECK_STR(exchange(w1, "{\"command\":\"whoami\"}\n", buf,
				   sizeof buf),
			  want);
	}
	fast_id = last_peer_id;
	CHECK_STR(exchange(w1, "{\"command\":\"watch-refused\"}\n", buf,
			   sizeof buf),
		  "{\"error\":\"no\"}");
	CHECK(!control_watched(watched, "log"));
	CHECK_STR(exchange(w1, "{\"command\":\"watch\"}\n", buf, sizeof buf),
		  "{\"watching\":true}");
	CHECK_STR(exchange(w2, "{\"command\":\"watch\"}\n", buf, sizeof buf),
		  "{\"watching\":true}");
	CHECK_STR(exchange(w3, "{\"command\":\"watch\"}\n", buf, sizeof buf),
		  "{\"watching\":true}");
	CHECK(control_watched(watched, "log"));
	CHECK(!control_watched(watched, "prompt"));
	control_publish(watched, "prompt", fill_event, &i);
	CHECK_INT(fills, 0);

	/* One that goes: the callback says which. */
	close(w3);
	for (rounds = 0; rounds < 100 && gone == 0; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(1000);
	}
	CHECK_INT(gone, 1);
	CHECK(gone_id != fast_id && gone_id != 0);

	/* 2000 lines of 1 KB: w1 reads as they come, w2 never does. */
	for (i = 0; i < total; i++) {
		control_publish(watched, "log", fill_event, &i);
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain(w1, &ev1, &dr1, tail1, &t1);
	}
	CHECK_INT(fills, total); /* once a line, not once a watcher */
	/* A watcher still asks on its connection. */
	CHECK(send(w1, "{\"command\":\"whoami\"}\n", 21, 0) == 21);
	for (rounds = 0; rounds < 200; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain(w1, &ev1, &dr1, tail1, &t1);
		usleep(500);
	}
	CHECK_INT(ev1, total);
	CHECK_INT(dr1, 0);
	CHECK(last_peer_id == fast_id);
	/* The slow one missed some, and is told how many once it reads. */
	for (rounds = 0; rounds < 2000; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		drain(w2, &ev2, &dr2, tail2, &t2);
		if (ev2 + dr2 == total)
			break;
		usleep(200);
	}
	fprintf(stderr, "slow watcher: %zu lines, %llu dropped\n", ev2,
		(unsigned long long)dr2);
	CHECK(dr2 > 0);
	CHECK(ev2 < total);
	CHECK_INT(ev2 + dr2, total);
	close(w1);
	close(w2);
	event_base_loop(base, EVLOOP_NONBLOCK);
	control_free(watched);
	CHECK_INT(gone, 3);
	watched = NULL;
}

/* The hook of a watcher gone sees the world without it: its topic is
 * no longer watched, another's still is. */
static void
test_watcher_gone_alone(void)
{
	static const struct control_command wcommands[] = {
		{"watch", CONTROL_READ, watch_handler},
		{"watch-prompt", CONTROL_READ, watch_handler},
	};
	struct control_options o;
	char err[256], buf[256];
	int wl, wp, rounds;

	memset(&o, 0, sizeof o);
	o.commands = wcommands;
	o.n_commands = 2;
	o.watcher_gone = on_watcher_gone;
	watched = control_new(base, sock_path, &o, err, sizeof err);
	CHECK(watched != NULL);
	if (watched == NULL)
		return;
	gone = 0;
	wl = connect_client();
	wp = connect_client();
	CHECK_STR(exchange(wl, "{\"command\":\"watch\"}\n", buf, sizeof buf),
		  "{\"watching\":true}");
	CHECK_STR(exchange(wp, "{\"command\":\"watch-prompt\"}\n", buf,
			   sizeof buf),
		  "{\"watching\":true}");
	CHECK(control_watched(watched, "log") &&
	      control_watched(watched, "prompt"));
	close(wl);
	for (rounds = 0; rounds < 200 && gone == 0; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	CHECK_INT(gone, 1);
	CHECK(!gone_saw_log);
	CHECK(gone_saw_prompt);
	close(wp);
	for (rounds = 0; rounds < 200 && gone == 1; rounds++) {
		event_base_loop(base, EVLOOP_NONBLOCK);
		usleep(500);
	}
	CHECK_INT(gone, 2);
	CHECK(!gone_saw_log && !gone_saw_prompt);
	control_free(watched);
	watched = NULL;
	gone = 0;
}

int
main(void)
{
	char dir[] = "/tmp/test_control.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sock_path, sizeof sock_path, "%s/control.sock", dir);
	chmod(dir, 0755);
	signal(SIGPIPE, SIG_IGN); /* as dnsgated: a client gone is an error */
	base = event_base_new();
	test_requests();
	handled = 0;
	test_flood();
	test_stale_file();
	test_deferred();
	test_half_close();
	test_socket_file();
	test_access();
	test_limits();
	test_watchers();
	test_watcher_gone_alone();
	event_base_free(base);
	rmdir(dir);
	return check_exit();
}
