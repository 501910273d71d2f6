/* test_control.c - the control socket on a real loop, at a temporary
 * path: requests and their replies, bad requests, a stale socket file, a
 * second daemon, a client that is not root. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
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
	if (strcmp(command, "status") == 0) {
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
	snprintf(err, errlen, "unknown command '%s'", command);
	return -1;
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

static void
test_requests(void)
{
	char err[256], buf[8192];
	static char line[CONTROL_MAX_LINE + 100];
	struct control *c;
	struct stat st;
	int fd;

	c = control_new(base, sock_path, handler, NULL, err, sizeof err);
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
		  "{\"error\":\"unknown command 'nope'\"}");
	CHECK_STR(exchange(fd, "{\"command\":\"huge\"}\n", buf, sizeof buf),
		  "{\"error\":\"the reply does not fit the control protocol's "
		  "limit\"}");
	memset(line, 'a', CONTROL_MAX_LINE + 10);
	line[CONTROL_MAX_LINE + 10] = '\n';
	line[CONTROL_MAX_LINE + 11] = '\0';
	CHECK_STR(exchange(fd, line, buf, sizeof buf),
		  "{\"error\":\"a request line is longer than 4096 bytes\"}");
	/* Two requests in one write: two replies, in order. */
	CHECK_STR(exchange_lines(fd,
				 "{\"command\":\"status\"}\n{\"command\":\"x\"}\n",
				 buf, sizeof buf, 2),
		  "{\"ok\":true}\n{\"error\":\"unknown command 'x'\"}");
	close(fd);

	/* A second daemon on the same path is refused: this one answers. */
	CHECK(control_new(base, sock_path, handler, NULL, err, sizeof err) ==
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

	c = control_new(base, sock_path, handler, NULL, err, sizeof err);
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
	c = control_new(base, sock_path, handler, NULL, err, sizeof err);
	CHECK(c != NULL);
	control_free(c);

	/* A file that is not a socket is never removed. */
	fd = open(sock_path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CHECK(control_new(base, sock_path, handler, NULL, err, sizeof err) ==
	      NULL);
	CHECK(strstr(err, "not a socket") != NULL);
	CHECK(access(sock_path, F_OK) == 0);
	unlink(sock_path);

	CHECK(control_new(base, "/nonexistent-dir/x/y.sock", handler, NULL, err,
			  sizeof err) == NULL);
	CHECK(strstr(err, "cannot listen on the control socket") != NULL);
}

/* A reply given later; the client's next request waits for it, so the
 * replies keep their order. A client gone meanwhile is not written to. */
static void
test_deferred(void)
{
	char err[256], buf[8192];
	int fd;

	deferring = control_new(base, sock_path, handler, NULL, err, sizeof err);
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

int
main(void)
{
	char dir[] = "/tmp/test_control.XXXXXX";

	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(sock_path, sizeof sock_path, "%s/control.sock", dir);
	chmod(dir, 0755);
	base = event_base_new();
	test_requests();
	handled = 0;
	test_flood();
	test_stale_file();
	test_deferred();
	event_base_free(base);
	rmdir(dir);
	return check_exit();
}
