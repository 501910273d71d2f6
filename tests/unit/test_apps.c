/* test_apps.c - the table of apps seen: counts per decision, rejected
 * packets, the recent names bounded, the oldest app forgotten at
 * APPS_MAX, a filter by key. */
#include "config.h"

#include <stdio.h>
#include <sys/socket.h>

#include "src/nft_dump.h"

#include "geoip/geoip.h"
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
	*n = apps_json(a, only, NULL, &j);
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
	{ /* the gate's counters: deltas to the app last seen asking in the
	     cgroup; a counter that went down is a new grant */
		struct nft_grant g[3] = {0};

		g[0].cgroup_id = 77; /* app:two asked in it (below) */
		g[0].addr.family = AF_INET;
		g[0].addr.bytes[0] = 192;
		g[0].addr.bytes[3] = 7;
		g[0].packets = 4;
		g[0].bytes = 12000;
		g[1] = g[0];
		g[1].cgroup_id = 99; /* nobody asked in it: not counted */
		g[2] = g[0];
		g[2].addr.bytes[3] = 8;
		g[2].packets = 1;
		g[2].bytes = 300;
		ev = query_event("app:two", "c.example", DECISION_ALLOW, 2600);
		ev.cgroup_id = 77;
		apps_sink(a, &ev);
		apps_add_traffic(a, g, 3);
		g[0].packets = 6; /* +2, +345 */
		g[0].bytes = 12345;
		g[2].packets = 1; /* a new grant: all of it again */
		g[2].bytes = 100;
		apps_add_traffic(a, g, 3);
		apps_add_traffic(a, g, 1); /* g[2] gone: forgotten */
		g[1].cgroup_id = 77;
		g[1].addr.bytes[3] = 8;
		g[1].packets = 1;
		g[1].bytes = 50;
		apps_add_traffic(a, &g[1], 1); /* back: new, all of it */
	}
	CHECK_INT(apps_count(a), 2);

	text = dump(a, NULL, &n);
	CHECK_INT(n, 2);
	/* app:two was seen last (4000), so it comes first */
	CHECK(strstr(text, "\"app\":\"app:two\"") < strstr(text, "app:one"));
	CHECK(strstr(text, "\"rejected_packets\":3") != NULL);
	/* 12345 to .7, 300 + 100 + 50 to .8 */
	CHECK(strstr(text, "\"packets\":9,\"bytes\":12795") != NULL);
	CHECK(strstr(text, "\"names\"") == NULL); /* only for one app */

	text = dump(a, "app:two", &n);
	CHECK(strstr(text, "{\"address\":\"192.0.0.7\",\"packets\":6,"
			   "\"bytes\":12345") != NULL);
	CHECK(strstr(text, "{\"address\":\"192.0.0.8\",\"packets\":3,"
			   "\"bytes\":450") != NULL);

	{ /* by country: without files, special addresses by their label
	     (192.0.0.0/24 is reserved), and no place in app NAME */
		struct geoip_settings none = {NULL, NULL, false};
		struct geoip *g = geoip_open(&none, NULL, NULL, 0);
		struct json_out j;

		json_out_init(&j, buf, sizeof buf);
		json_object_begin(&j);
		CHECK_INT(apps_by_country_json(a, g, &j), 1);
		json_object_end(&j);
		CHECK(json_out_ok(&j));
		CHECK(strstr(json_out_text(&j),
		             "\"countries\":[{\"country\":\"reserved\","
		             "\"country_name\":\"\",\"app\":\"app:two\","
		             "\"destinations\":2,\"packets\":9,"
		             "\"bytes\":12795,") != NULL);
		CHECK(strstr(json_out_text(&j), "\"truncated\":false") != NULL);
		json_out_init(&j, buf, sizeof buf);
		json_object_begin(&j);
		CHECK_INT(apps_json(a, "app:two", g, &j), 1);
		json_object_end(&j);
		CHECK(strstr(json_out_text(&j), "\"label\"") == NULL);
		geoip_free(g);
	}

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
	{ /* a reply holds whole apps only, and says some did not fit */
		static char small[4096];
		struct json_out j;

		json_out_init(&j, small, sizeof small);
		json_object_begin(&j);
		CHECK_INT(apps_json(a, NULL, NULL, &j), APPS_MAX);
		json_object_end(&j);
		CHECK(json_out_ok(&j));
		CHECK(strstr(json_out_text(&j), "},{") != NULL);
		CHECK(strstr(json_out_text(&j),
			     "],\"truncated\":true,\"matched\":4096}") != NULL);
	}
	dump(a, "app:two", &n);
	CHECK_INT(n, 0); /* seen at 4000: the oldest but one */
	dump(a, "app:one", &n);
	CHECK_INT(n, 0);
	dump(a, "app:many-0", &n);
	CHECK_INT(n, 1);
	apps_free(a);
	return check_exit();
}
