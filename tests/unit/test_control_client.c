/* test_control_client.c - dnsgatectl's side of the control socket
 * against a stand-in daemon forked for each case: why a call failed
 * (its exit code depends on it), a reply to a client let go before it
 * wrote, a stream of lines, its end by EOF, by the callback or by a
 * signal, and an answer sent on the stream's connection. */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "src/control_client.h"
#include "tests/unit/check.h"

static char sock_path[108];

static int
listen_at(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	unlink(path);
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	strcpy(sun.sun_path, path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof sun) < 0 ||
	    listen(fd, 4) < 0)
		return -1;
	return fd;
}

/* Reads one line from fd into buf (without its newline). */
static int
read_line(int fd, char *buf, size_t len)
{
	size_t got = 0;

	while (got + 1 < len) {
		ssize_t n = read(fd, buf + got, 1);

		if (n <= 0)
			return -1;
		if (buf[got] == '\n') {
			buf[got] = '\0';
			return 0;
		}
		got++;
	}
	return -1;
}

/* A stand-in daemon in a child: accepts one client and runs script
 * with its fd. The child's exit status is script's return. */
static pid_t
serve(int lfd, int (*script)(int fd))
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = accept(lfd, NULL, NULL);

		_exit(fd < 0 ? 99 : script(fd));
	}
	return pid;
}

static int
child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Says why before reading anything, and closes: as control.c refuses. */
static int
script_refuse(int fd)
{
	const char *line = "{\"error\":\"permission denied: for root\"}\n";

	(void)write(fd, line, strlen(line));
	close(fd);
	return 0;
}

static int
script_reply(int fd)
{
	char req[256];

	if (read_line(fd, req, sizeof req) < 0 ||
	    strcmp(req, "{\"command\":\"status\"}") != 0)
		return 1;
	(void)write(fd, "{\"ok\":", 6);
	usleep(20000); /* the reply in two pieces */
	(void)write(fd, "true}\n", 6);
	return 0;
}

static int
script_stream(int fd)
{
	char req[256];

	if (read_line(fd, req, sizeof req) < 0 ||
	    strcmp(req, "{\"command\":\"watch\"}") != 0)
		return 1;
	(void)write(fd, "{\"watching\":true}\n{\"event\":\"a\"}\n{\"ev", 36);
	usleep(20000);
	(void)write(fd, "ent\":\"b\"}\n", 10);
	/* The client's answer, on the same connection. */
	if (read_line(fd, req, sizeof req) < 0 ||
	    strcmp(req, "{\"command\":\"answer\"}") != 0)
		return 2;
	(void)write(fd, "{\"event\":\"c\"}\n", 14);
	close(fd);
	return 0;
}

/* One line, then silence until the client goes. */
static int
script_silent(int fd)
{
	char b;

	(void)write(fd, "{\"event\":\"a\"}\n", 14);
	while (read(fd, &b, 1) > 0)
		;
	return 0;
}

struct seen {
	char lines[8][64];
	int n;
	int stop_at; /* return 7 at this line; 0: never */
	bool answer; /* send an answer after the second line */
	bool interrupt;
};

static int
on_line(void *arg, int fd, const char *line)
{
	struct seen *s = arg;

	if (s->n < 8)
		snprintf(s->lines[s->n], sizeof s->lines[0], "%s", line);
	s->n++;
	if (s->answer && s->n == 3)
		CHECK_INT(control_send_line(fd, "{\"command\":\"answer\"}"), 0);
	if (s->interrupt)
		kill(getpid(), SIGINT);
	return s->n == s->stop_at ? 7 : 0;
}

int
main(void)
{
	char dir[] = "/tmp/test_control_client.XXXXXX";
	char reply[256], err[512];
	struct seen seen;
	struct sigaction sa;
	int lfd;
	pid_t pid;

	if (mkdtemp(dir) == NULL)
		return 99;
	chmod(dir, 0755);
	snprintf(sock_path, sizeof sock_path, "%s/control.sock", dir);

	/* Nobody there. */
	CHECK_INT(control_call(sock_path, "{}", reply, sizeof reply, 1000, err,
	                       sizeof err),
	          CONTROL_CALL_UNREACHABLE);
	CHECK(strstr(err, "cannot reach dnsgated") != NULL);
	lfd = listen_at(sock_path);
	CHECK(lfd >= 0);

	/* The file refuses a user: denied, not unreachable. */
	chmod(sock_path, 0600);
	if (geteuid() == 0) {
		pid = fork();
		if (pid == 0) {
			if (setgid(65534) < 0 || setuid(65534) < 0)
				_exit(90);
			_exit(control_call(sock_path, "{}", reply, sizeof reply,
			                   1000, err,
			                   sizeof err) == CONTROL_CALL_DENIED &&
			              strstr(err, "permission denied") != NULL
			          ? 0
			          : 1);
		}
		CHECK_INT(child_status(pid), 0);
	}

	/* A reply in pieces. */
	pid = serve(lfd, script_reply);
	CHECK_INT(control_call(sock_path, "{\"command\":\"status\"}", reply,
	                       sizeof reply, 3000, err, sizeof err),
	          0);
	CHECK_STR(reply, "{\"ok\":true}");
	CHECK_INT(child_status(pid), 0);
	/* Let go without the request read: the reason is still read. */
	pid = serve(lfd, script_refuse); /* may be gone before we write */
	CHECK_INT(control_call(sock_path, "{\"command\":\"status\"}", reply,
	                       sizeof reply, 3000, err, sizeof err),
	          0);
	CHECK_STR(reply, "{\"error\":\"permission denied: for root\"}");
	CHECK_INT(child_status(pid), 0);
	/* No reply at all in time. */
	pid = serve(lfd, script_silent);
	CHECK_INT(control_call(sock_path, "{}", reply, sizeof reply, 300, err,
	                       sizeof err),
	          0); /* the silent one says one line first */
	CHECK_INT(child_status(pid), 0);

	/* A stream, in pieces, with an answer on its connection; to EOF. */
	memset(&seen, 0, sizeof seen);
	seen.answer = true;
	pid = serve(lfd, script_stream);
	CHECK_INT(control_stream(sock_path, "{\"command\":\"watch\"}", on_line,
	                         &seen, err, sizeof err),
	          0);
	CHECK_INT(child_status(pid), 0);
	CHECK_INT(seen.n, 4);
	CHECK_STR(seen.lines[0], "{\"watching\":true}");
	CHECK_STR(seen.lines[1], "{\"event\":\"a\"}");
	CHECK_STR(seen.lines[2], "{\"event\":\"b\"}");
	CHECK_STR(seen.lines[3], "{\"event\":\"c\"}");
	/* Ended by the callback: its value. */
	memset(&seen, 0, sizeof seen);
	seen.stop_at = 1;
	pid = serve(lfd, script_silent);
	CHECK_INT(
	    control_stream(sock_path, "{}", on_line, &seen, err, sizeof err),
	    7);
	CHECK_INT(child_status(pid), 0);
	/* Ended by SIGINT, even one that came while a line was handled;
	 * the old handling of SIGINT is back after. */
	memset(&seen, 0, sizeof seen);
	seen.interrupt = true;
	pid = serve(lfd, script_silent);
	CHECK_INT(
	    control_stream(sock_path, "{}", on_line, &seen, err, sizeof err),
	    0);
	CHECK_INT(seen.n, 1);
	CHECK_INT(child_status(pid), 0);
	CHECK(sigaction(SIGINT, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL);

	close(lfd);
	unlink(sock_path);
	/* A stream to nobody. */
	CHECK_INT(
	    control_stream(sock_path, "{}", on_line, &seen, err, sizeof err),
	    CONTROL_CALL_UNREACHABLE);
	rmdir(dir);
	return check_exit();
}
