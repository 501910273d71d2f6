/* resolvconf.h - the host's upstream DNS servers, read from resolv.conf.
 * Loopback nameservers are skipped (they are behind our own redirect and
 * would loop); when the only nameserver is systemd-resolved's stub
 * 127.0.0.53, the stub's own upstreams are read from its resolv.conf. */
#ifndef DNSGATE_RESOLVCONF_H
#define DNSGATE_RESOLVCONF_H

#include <stddef.h>

#define RESOLVCONF_SYSTEMD_UPSTREAMS "/run/systemd/resolve/resolv.conf"

/* Appends the usable nameservers of path (then, if it names the
 * systemd-resolved stub, of stub_path) to *list as strings ("192.0.2.1",
 * "2001:db8::1"), growing it with xreallocarray; the caller frees each
 * string and the array. Returns the number appended (possibly 0), or -1
 * with a reason in err when path cannot be read. skipped, when not NULL,
 * receives the servers that were left out, space separated: loopback ones,
 * and scoped link-local ones ("fe80::1%eth0"), which c-ares cannot use. */
int resolvconf_upstreams(const char *path, const char *stub_path,
			 char ***list, size_t *n, char *skipped,
			 size_t skippedlen, char *err, size_t errlen);

#endif
