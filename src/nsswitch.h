/* nsswitch.h - reads how the host's C library looks names up.
 * With 'resolve' (nss-resolve) on the hosts line of nsswitch.conf, apps
 * ask systemd-resolved over a local socket instead of sending DNS, so
 * every query dnsgate sees comes from systemd-resolved and no app gets a
 * grant. dnsgated warns at start when it finds that. */
#ifndef DNSGATE_NSSWITCH_H
#define DNSGATE_NSSWITCH_H

#include <stdbool.h>

#define NSSWITCH_PATH "/etc/nsswitch.conf"

/* True when the "hosts:" line of the file at path lists the 'resolve'
 * service; false otherwise, also when the file cannot be read. */
bool nsswitch_hosts_uses_resolve(const char *path);

#endif
