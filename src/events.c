/* events.c - the fan-out of decision and rejected-connection records. */
#include <time.h>

#include "src/events.h"

int
events_subscribe(struct events *bus, events_sink_fn *fn, void *arg)
{
	if (bus->n >= EVENTS_MAX_SINKS)
		return -1;
	bus->sink[bus->n].fn = fn;
	bus->sink[bus->n].arg = arg;
	bus->n++;
	return 0;
}

void
events_unsubscribe(struct events *bus, events_sink_fn *fn, void *arg)
{
	for (size_t i = 0; i < bus->n; i++)
		if (bus->sink[i].fn == fn && bus->sink[i].arg == arg) {
			for (size_t k = i + 1; k < bus->n; k++)
				bus->sink[k - 1] = bus->sink[k];
			bus->n--;
			return;
		}
}

void
events_publish(struct events *bus, const struct event_record *ev)
{
	bus->published++;
	for (size_t i = 0; i < bus->n; i++)
		bus->sink[i].fn(bus->sink[i].arg, ev);
}

int64_t
events_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
