/* xmalloc.h - allocation that cannot fail silently.
 * Out of memory is not survivable for a firewall that must keep its state
 * consistent: these abort with a message instead of returning NULL. */
#ifndef DNSGATE_XMALLOC_H
#define DNSGATE_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
void *xreallocarray(void *ptr, size_t count, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif
