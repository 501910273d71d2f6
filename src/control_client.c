/* control_client.c - a blocking client of the control socket. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/control.h"
#include "src/control_client.h"

/* Connects to path: the fd, or a CONTROL_CALL_ value with a reason. */
static int
connect_to(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: path too long", path);
		return CONTROL_CALL_UNREACHABLE;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return CONTROL_CALL_UNREACHABLE;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		int e = errno;

		close(fd);
		if (e == EACCES || e == EPERM) {
			snprintf(err, errlen,
			         "permission denied: %s is for "
			         "root and the groups control-admin-group and "
			         "control-read-group name (see "
			         "dnsgate-control(7))",
			         path);
			return CONTROL_CALL_DENIED;
		}
		snprintf(err, errlen,
		         "cannot reach dnsgated at %s: %s (is it "
		         "running? is control-socket set elsewhere?)",
		         path, strerror(e));
		return CONTROL_CALL_UNREACHABLE;
	}
	return fd;
}

/* A refused client may be let go before its request is written: what
 * the daemon said is still there to read, so a failed send is not
 * the end. */
static void
send_request(int fd, const char *request)
{
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) >= 0)
		(void)send(fd, "\n", 1, MSG_NOSIGNAL);
}

int
control_call(const char *path, const char *request, char *reply,
             size_t replylen, int timeout_ms, char *err, size_t errlen)
{
	size_t got = 0;
	int fd = connect_to(path, err, errlen);

	if (fd < 0)
		return fd;
	send_request(fd, request);
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		char *nl;
		ssize_t n;

		if (got + 1 >= replylen) {
			snprintf(err, errlen,
			         "the reply is longer than %zu "
			         "bytes",
			         replylen);
			break;
		}
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			snprintf(err, errlen,
			         "no reply from dnsgated within "
			         "%d ms",
			         timeout_ms);
			break;
		}
		n = recv(fd, reply + got, replylen - 1 - got, 0);
		if (n <= 0) {
			snprintf(err, errlen,
			         "dnsgated closed the connection "
			         "without a reply");
			break;
		}
		got += (size_t)n;
		reply[got] = '\0';
		nl = strchr(reply, '\n');
		if (nl != NULL) {
			*nl = '\0';
			close(fd);
			return 0;
		}
	}
	close(fd);
	return CONTROL_CALL_FAILED;
}

int
control_send_line(int fd, const char *line)
{
	size_t len = strlen(line);
	char *buf = malloc(len + 1);
	size_t sent = 0;

	if (buf == NULL)
		return -1;
	memcpy(buf, line, len);
	buf[len] = '\n';
	while (sent < len + 1) {
		ssize_t n = send(fd, buf + sent, len + 1 - sent, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			free(buf);
			return -1;
		}
		sent += (size_t)n;
	}
	free(buf);
	return 0;
}

static volatile sig_atomic_t stream_stop;

static void
on_stop(int sig)
{
	stream_stop = 1;
}

static const int stop_signals[] = {SIGINT, SIGTERM, SIGHUP};
#define N_STOP_SIGNALS (sizeof stop_signals / sizeof stop_signals[0])

/* Hands each whole line in buf[0..*len) to fn and keeps the rest. */
static int
deliver_lines(char *buf, size_t *len, int fd, control_line_fn *fn, void *arg)
{
	char *start = buf, *nl;
	int rc = 0;

	while (rc == 0 && (nl = memchr(start, '\n',
	                               *len - (size_t)(start - buf))) != NULL) {
		*nl = '\0';
		rc = fn(arg, fd, start);
		start = nl + 1;
	}
	*len -= (size_t)(start - buf);
	memmove(buf, start, *len);
	return rc;
}

int
control_stream(const char *path, const char *request, control_line_fn *fn,
               void *arg, char *err, size_t errlen)
{
	struct sigaction sa, old[N_STOP_SIGNALS];
	sigset_t block, orig, wait_mask;
	size_t size = CONTROL_REPLY_MAX + 2, len = 0, i;
	char *buf;
	int fd, rc = 0;

	fd = connect_to(path, err, errlen);
	if (fd < 0)
		return fd;
	buf = malloc(size);
	if (buf == NULL) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return CONTROL_CALL_FAILED;
	}
	/* The signals are let through only while waiting (ppoll), so one
	 * that comes between two lines is not missed. */
	stream_stop = 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop; /* no SA_RESTART: ppoll returns EINTR */
	sigemptyset(&block);
	for (i = 0; i < N_STOP_SIGNALS; i++) {
		sigaddset(&block, stop_signals[i]);
		sigaction(stop_signals[i], &sa, &old[i]);
	}
	sigprocmask(SIG_BLOCK, &block, &orig);
	wait_mask = orig;
	for (i = 0; i < N_STOP_SIGNALS; i++)
		sigdelset(&wait_mask, stop_signals[i]);
	send_request(fd, request);
	while (rc == 0 && !stream_stop) {
		struct pollfd pfd = {fd, POLLIN, 0};
		ssize_t n;

		if (ppoll(&pfd, 1, NULL, &wait_mask) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "poll: %s", strerror(errno));
			rc = CONTROL_CALL_FAILED;
			break;
		}
		n = recv(fd, buf + len, size - 1 - len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break; /* the daemon closed it (or reset it) */
		len += (size_t)n;
		rc = deliver_lines(buf, &len, fd, fn, arg);
		if (rc == 0 && len == size - 1) {
			snprintf(err, errlen,
			         "a line from dnsgated is longer "
			         "than %zu bytes",
			         size - 2);
			rc = CONTROL_CALL_FAILED;
		}
	}
	/* A signal still pending goes to on_stop, not to the old handler. */
	sigprocmask(SIG_SETMASK, &orig, NULL);
	for (i = 0; i < N_STOP_SIGNALS; i++)
		sigaction(stop_signals[i], &old[i], NULL);
	free(buf);
	close(fd);
	return rc;
}
