/* test_events.c - the event bus: every sink sees every record, in
 * order; a full bus refuses; unsubscribing stops delivery. And the
 * verdict's names read back as the values they name. */
#include "config.h"

#include "src/events.h"
#include "tests/unit/check.h"

struct seen {
	int calls;
	uint64_t last_id;
	int order; /* the call number at which it last saw a record */
};

static int calls;

static void
sink(void *arg, const struct event_record *ev)
{
	struct seen *s = arg;

	s->calls++;
	s->last_id = ev->id;
	s->order = ++calls;
}

int
main(void)
{
	struct events bus = {0};
	struct seen a = {0}, b = {0}, extra[EVENTS_MAX_SINKS];
	struct event_record ev = {.kind = EVENT_QUERY, .id = 7};
	enum query_decision d;
	enum query_reason r;

	CHECK_INT(events_subscribe(&bus, sink, &a), 0);
	CHECK_INT(events_subscribe(&bus, sink, &b), 0);
	events_publish(&bus, &ev);
	CHECK_INT(a.calls, 1);
	CHECK_INT(b.calls, 1);
	CHECK_INT(a.last_id, 7);
	CHECK(a.order < b.order);
	CHECK_INT(bus.published, 1);

	events_unsubscribe(&bus, sink, &a);
	ev.id = 8;
	events_publish(&bus, &ev);
	CHECK_INT(a.calls, 1);
	CHECK_INT(b.calls, 2);
	CHECK_INT(b.last_id, 8);
	events_unsubscribe(&bus, sink, &a); /* not subscribed: nothing */
	CHECK_INT(bus.n, 1);

	for (int i = 1; i < EVENTS_MAX_SINKS; i++)
		CHECK_INT(events_subscribe(&bus, sink, &extra[i]), 0);
	CHECK_INT(events_subscribe(&bus, sink, &extra[0]), -1);

	CHECK(events_now_ms() > 1700000000000LL);

	for (int i = DECISION_NONE; i <= DECISION_REFUSED; i++) {
		CHECK(verdict_decision_from_name(query_decision_name(i), &d));
		CHECK_INT(d, i);
	}
	for (int i = REASON_NONE; i <= VERDICT_REASON_LAST; i++) {
		CHECK(verdict_reason_from_name(query_reason_name(i), &r));
		CHECK_INT(r, i);
		CHECK(strcmp(query_reason_name(i), "?") != 0);
	}
	CHECK(!verdict_decision_from_name("maybe", &d));
	CHECK(!verdict_reason_from_name("", &r));
	return check_exit();
}
