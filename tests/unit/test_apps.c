/* test_apps.c - the table of apps seen: counts per decision, rejected
 * packets, the recent names bounded, the oldest app forgotten at
 * APPS_MAX, a filter by key. */
#include "config.h"

#include <stdio.h>

#include "src/apps.h"
#include "src/json.h"
#include "tests/unit/check.h"

static struct event_record
query_event(const char *app, const char *name, enum query_decision d,
	    int64_t t)
{
	return (struct event_record){
	    .kind = EVENT_QUERY, .time_ms = t, .app = app,
	    .cgroup = "/app.slice/x.scope", .pid = 5, .uid = 1000,
	    .exe = "/usr/bin/x", .name = name, .qtype = 1, .decision = d,
	    .rule = "", .list = "", .entry = "", .answer = "", .dest = "",
	    .detail = ""};
}

static char buf[1 << 20];

static const char *
dump(struct apps *a, const char *only, size_t *n)
{
	struct json_out j;

	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	*n = apps_json(a, only, &j);
	json_object_end(&j);
	CHECK(json_out_ok(&j));
	return json_out_text(&j);
}

int
main(void)
{
	struct apps *a = apps_new();
	struct event_record ev;
	const char *text;
	size_t n;
	char name[64];

	ev = query_event("app:one", "a.example", DECISION_ALLOW, 1000);
	apps_sink(a, &ev);
	ev = query_event("app:one", "b.example", DECISION_BLOCK, 2000);
	apps_sink(a, &ev);
	ev = query_event("app:one", "a.example", DECISION_SERVFAIL, 3000);
	apps_sink(a, &ev);
	ev = query_event("app:two", "c.example", DECISION_ALLOW, 2500);
	apps_sink(a, &ev);
	ev = (struct event_record){.kind = EVENT_REJECTED, .time_ms = 4000,
				   .app = "app:two", .cgroup = "", .exe = "",
				   .uid = -1, .dest = "192.0.2.1",
				   .packets = 3};
	apps_sink(a, &ev);
	ev.app = ""; /* nobody: not counted */
	apps_sink(a, &ev);
	CHECK_INT(apps_count(a), 2);
	apps_set_traffic(a, "app:two", 10, 12345);
	apps_set_traffic(a, "app:none", 1, 1); /* never seen: nothing */
	CHECK_INT(apps_count(a), 2);

	text = dump(a, NULL, &n);
	CHECK_INT(n, 2);
	/* app:two was seen last (4000), so it comes first */
	CHECK(strstr(text, "\"app\":\"app:two\"") < strstr(text, "app:one"));
	CHECK(strstr(text, "\"rejected_packets\":3") != NULL);
	CHECK(strstr(text, "\"bytes\":12345") != NULL);
	CHECK(strstr(text, "\"names\"") == NULL); /* only for one app */

	text = dump(a, "one", &n);
	CHECK_INT(n, 1);
	CHECK(strstr(text, "\"queries\":3,\"allowed\":1,\"blocked\":1,"
			   "\"failed\":1") != NULL);
	CHECK(strstr(text, "\"first_seen_ms\":1000,\"last_seen_ms\":3000") !=
	      NULL);
	CHECK(strstr(text, "{\"name\":\"a.example\",\"qtype\":1,\"decision\":"
			   "\"servfail\",\"count\":2") != NULL);

	/* The names of one app are bounded; the oldest makes room. */
	for (int i = 0; i < APPS_NAMES + 10; i++) {
		snprintf(name, sizeof name, "n%d.example", i);
		ev = query_event("app:one", name, DECISION_ALLOW, 5000 + i);
		apps_sink(a, &ev);
	}
	text = dump(a, "app:one", &n);
	CHECK(strstr(text, "\"a.example\"") == NULL);
	CHECK(strstr(text, "\"n9.example\"") == NULL);
	CHECK(strstr(text, "\"n10.example\"") != NULL);
	CHECK(strstr(text, "\"n41.example\"") != NULL);

	/* At APPS_MAX apps, the one seen longest ago is forgotten. */
	for (int i = 0; i < APPS_MAX; i++) {
		snprintf(name, sizeof name, "app:many-%d", i);
		ev = query_event(name, "x.example", DECISION_ALLOW, 10000 + i);
		apps_sink(a, &ev);
	}
	CHECK_INT(apps_count(a), APPS_MAX);
	dump(a, "app:two", &n);
	CHECK_INT(n, 0); /* seen at 4000: the oldest but one */
	dump(a, "app:one", &n);
	CHECK_INT(n, 0);
	dump(a, "app:many-0", &n);
	CHECK_INT(n, 1);
	apps_free(a);
	return check_exit();
}
