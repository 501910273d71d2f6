/* clock.h - the daemon's one monotonic clock, for deadlines, TTLs and
 * uptime: never set back by an administrator or NTP. */
#ifndef DNSGATE_CLOCK_H
#define DNSGATE_CLOCK_H

#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds, milliseconds and whole seconds. */
uint64_t clock_us(void);
uint64_t clock_ms(void);
uint64_t clock_seconds(void);

#endif
