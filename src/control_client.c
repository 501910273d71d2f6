/* control_client.c - a blocking client of the control socket. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "src/control_client.h"

int
control_call(const char *path, const char *request, char *reply,
	     size_t replylen, int timeout_ms, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	size_t got = 0;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
		snprintf(err, errlen, "cannot reach dnsgated at %s: %s (is it "
			 "running? is control-socket set elsewhere?)",
			 path, strerror(errno));
		close(fd);
		return -1;
	}
	if (send(fd, request, strlen(request), MSG_NOSIGNAL) < 0 ||
	    send(fd, "\n", 1, MSG_NOSIGNAL) < 0) {
		snprintf(err, errlen, "cannot send to %s: %s", path,
			 strerror(errno));
		close(fd);
		return -1;
	}
	for (;;) {
		struct pollfd pfd = {fd, POLLIN, 0};
		char *nl;
		ssize_t n;

		if (got + 1 >= replylen) {
			snprintf(err, errlen, "the reply is longer than %zu "
				 "bytes", replylen);
			break;
		}
		if (poll(&pfd, 1, timeout_ms) <= 0) {
			snprintf(err, errlen, "no reply from dnsgated within "
				 "%d ms", timeout_ms);
			break;
		}
		n = recv(fd, reply + got, replylen - 1 - got, 0);
		if (n <= 0) {
			snprintf(err, errlen, "dnsgated closed the connection "
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
	return -1;
}
