/* control_client.h - dnsgatectl's side of control.h: one request and its
 * one-line reply, or one request and the stream of lines after it (log
 * -f, prompt). Blocking; for a command-line client, not the daemon. */
#ifndef DNSGATE_CONTROL_CLIENT_H
#define DNSGATE_CONTROL_CLIENT_H

#include <stddef.h>

/* Why a call failed, so dnsgatectl can say it in its exit code. */
#define CONTROL_CALL_UNREACHABLE (-1) /* no socket, nobody listening */
#define CONTROL_CALL_DENIED (-2)      /* the socket file refused us */
#define CONTROL_CALL_FAILED (-3)      /* connected: no reply, too long... */

/* Sends request (one JSON object, no newline) to the socket at path and
 * reads the reply line into reply (NUL-terminated, newline removed),
 * waiting at most timeout_ms. Returns 0, or a CONTROL_CALL_ value with a
 * reason in err. */
int control_call(const char *path, const char *request, char *reply,
                 size_t replylen, int timeout_ms, char *err, size_t errlen);

/* Called with each line of a stream (newline removed); fd is the
 * connection, for control_send_line. Returns 0 to go on; anything else
 * ends the stream with that value. */
typedef int control_line_fn(void *arg, int fd, const char *line);

/* Sends request, then hands each line that comes to fn until the daemon
 * closes the connection, SIGINT, SIGTERM or SIGHUP arrives (then 0), or
 * fn ends it (its value). Lines longer than the protocol's longest reply
 * end it with CONTROL_CALL_FAILED. Other errors: a CONTROL_CALL_ value
 * with a reason in err. */
int control_stream(const char *path, const char *request, control_line_fn *fn,
                   void *arg, char *err, size_t errlen);

/* Sends line and a newline on a stream's connection (a prompter's
 * answer). Returns 0, or -1 with errno. */
int control_send_line(int fd, const char *line);

#endif
