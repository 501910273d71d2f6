/* control_client.h - one request to dnsgated's control socket and its
 * one-line reply (dnsgatectl's side of control.h). */
#ifndef DNSGATE_CONTROL_CLIENT_H
#define DNSGATE_CONTROL_CLIENT_H

#include <stddef.h>

/* Sends request (one JSON object, no newline) to the socket at path and
 * reads the reply line into reply (NUL-terminated, newline removed),
 * waiting at most timeout_ms. Returns 0, or -1 with a reason in err (the
 * daemon is not running, the reply does not fit, ...). */
int control_call(const char *path, const char *request, char *reply,
		 size_t replylen, int timeout_ms, char *err, size_t errlen);

#endif
