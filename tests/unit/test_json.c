/* test_json.c - the control protocol's JSON writer, reader and printer. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/json.h"
#include "tests/unit/check.h"

static void
test_writer(void)
{
	char buf[512];
	struct json_out j;

	json_out_init(&j, buf, sizeof buf);
	json_object_begin(&j);
	json_key(&j, "a");
	json_uint(&j, 18446744073709551615ULL);
	json_key(&j, "b");
	json_string(&j, "quote\" back\\ nl\n tab\t \x01 \x7f");
	json_key(&j, "c");
	json_array_begin(&j);
	json_int(&j, -5);
	json_bool(&j, true);
	json_object_begin(&j);
	json_key(&j, "d");
	json_bool(&j, false);
	json_object_end(&j);
	json_array_begin(&j);
	json_array_end(&j);
	json_array_end(&j);
	json_key(&j, "e");
	json_object_begin(&j);
	json_object_end(&j);
	json_object_end(&j);
	CHECK(json_out_ok(&j));
	CHECK_STR(json_out_text(&j),
		  "{\"a\":18446744073709551615,"
		  "\"b\":\"quote\\\" back\\\\ nl\\u000a tab\\u0009 \\u0001 "
		  "\\u007f\","
		  "\"c\":[-5,true,{\"d\":false},[]],\"e\":{}}");

	/* Too small: cut, never overrun, and said so. */
	memset(buf, 'Z', sizeof buf);
	json_out_init(&j, buf, 8);
	json_object_begin(&j);
	json_key(&j, "longer than eight");
	json_uint(&j, 1);
	json_object_end(&j);
	CHECK(!json_out_ok(&j));
	CHECK(strlen(json_out_text(&j)) < 8);
	CHECK(buf[8] == 'Z');
	json_out_init(&j, buf, 0);
	CHECK(!json_out_ok(&j));
	CHECK_STR(json_out_text(&j), "");

	/* Deeper than JSON_MAX_DEPTH is an overflow, never a bad comma. */
	{
		int d;

		json_out_init(&j, buf, sizeof buf);
		for (d = 0; d < JSON_MAX_DEPTH - 1; d++) {
			json_object_begin(&j);
			json_key(&j, "k");
		}
		json_uint(&j, 1);
		for (d = 0; d < JSON_MAX_DEPTH - 1; d++)
			json_object_end(&j);
		CHECK(json_out_ok(&j));
		json_out_init(&j, buf, sizeof buf);
		for (d = 0; d < JSON_MAX_DEPTH + 2; d++) {
			json_object_begin(&j);
			json_key(&j, "k");
		}
		CHECK(!json_out_ok(&j));
		CHECK(strstr(json_out_text(&j), "{,") == NULL);
	}
}

static int
flat(const char *text)
{
	const char *reason = NULL;
	int rc = json_flat_check(text, strlen(text), &reason);

	CHECK(rc == 0 || reason != NULL);
	return rc;
}

static void
test_reader(void)
{
	char out[32];
	const char *req = " {\"command\" : \"status\", \"n\": -1.5e3, "
			  "\"t\": true, \"f\": false, \"z\": null, "
			  "\"esc\": \"a\\\"b\\\\c\\/d\\n\\u0041\"} \n";

	CHECK_INT(flat(req), 0);
	CHECK_INT(flat("{}"), 0);
	CHECK_INT(json_flat_get_string(req, strlen(req), "command", out,
				       sizeof out), 0);
	CHECK_STR(out, "status");
	CHECK_INT(json_flat_get_string(req, strlen(req), "esc", out,
				       sizeof out), 0);
	CHECK_STR(out, "a\"b\\c/d\nA");
	/* Not a string, or not there. */
	CHECK_INT(json_flat_get_string(req, strlen(req), "n", out, sizeof out),
		  -1);
	CHECK_INT(json_flat_get_string(req, strlen(req), "missing", out,
				       sizeof out), -1);
	/* Does not fit. */
	CHECK_INT(json_flat_get_string(req, strlen(req), "command", out, 4),
		  -2);
	/* Only the given length is read: no NUL needed, none overrun. */
	CHECK_INT(json_flat_check("{}garbage", 2, &(const char *){NULL}), 0);

	/* Refused, each with a reason. */
	CHECK_INT(flat(""), -1);
	CHECK_INT(flat("status"), -1);
	CHECK_INT(flat("{"), -1);
	CHECK_INT(flat("{\"a\"}"), -1);
	CHECK_INT(flat("{\"a\":}"), -1);
	CHECK_INT(flat("{\"a\":1,}"), -1);
	CHECK_INT(flat("{,}"), -1);
	CHECK_INT(flat("{a:1}"), -1);
	CHECK_INT(flat("{\"a\":1} {}"), -1);
	CHECK_INT(flat("{\"a\":[1]}"), -1);
	CHECK_INT(flat("{\"a\":{\"b\":1}}"), -1);
	CHECK_INT(flat("{\"a\":\"x}"), -1);
	CHECK_INT(flat("{\"a\":\"x\\q\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\\u00e9\"}"), -1); /* outside ASCII */
	CHECK_INT(flat("{\"a\":\"\\u0000\"}"), -1);  /* NUL */
	CHECK_INT(flat("{\"a\":\"\\u12\"}"), -1);
	CHECK_INT(flat("{\"a\":\"tab\there\"}"), -1); /* raw control char */
	CHECK_INT(flat("{\"a\":-}"), -1);
	CHECK_INT(flat("{\"a\":.5}"), -1);
	CHECK_INT(flat("{\"a\":-.e}"), -1);
	CHECK_INT(flat("{\"a\":1.}"), -1);
	CHECK_INT(flat("{\"a\":01}"), -1);
	CHECK_INT(flat("{\"a\":1e}"), -1);
	CHECK_INT(flat("{\"a\":1e+}"), -1);
	CHECK_INT(flat("{\"a\":0, \"b\":-0.25E-7, \"c\":10e2}"), 0);
	CHECK_INT(flat("{\"a\":tru}"), -1);
	CHECK_INT(flat("{\"a\":\"x\\"), -1);
}

/* What a hostile client sends: each refused with a reason, never read
 * past its length, never cut or rounded into something else. */
static void
test_hostile(void)
{
	static char text[70000];
	const char *reason = NULL;
	char out[64], name[8];
	int64_t v = 7;
	size_t i;

	/* NUL bytes: inside a string, and between members. */
	CHECK_INT(json_flat_check("{\"a\":\"x\0y\"}", 10, &reason), -1);
	CHECK_STR(reason, "a control character inside a string");
	CHECK_INT(json_flat_check("{\"a\":1\0}", 8, &reason), -1);
	/* Deep nesting: refused at the first level, however deep. */
	memcpy(text, "{\"a\":", 5);
	memset(text + 5, '[', 65000);
	CHECK_INT(json_flat_check(text, 65005, &reason), -1);
	CHECK_STR(reason, "a request holds only strings, numbers, true, "
			  "false and null");
	/* Not UTF-8: a stray continuation byte, a cut sequence, an overlong
	 * '/', a surrogate, past U+10FFFF; real UTF-8 passes as it is. */
	CHECK_INT(flat("{\"a\":\"\x80\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xc3\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xc0\xaf\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xe0\x80\xaf\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xed\xa0\x80\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xf4\x90\x80\x80\"}"), -1);
	CHECK_INT(flat("{\"a\":\"\xff\"}"), -1);
	CHECK_INT(flat("{\"\xfe\":1}"), -1);
	CHECK_INT(json_flat_check("{\"a\":\"\x80\"}", 10, &reason), -1);
	CHECK_STR(reason, "a string that is not UTF-8");
	CHECK_INT(flat("{\"a\":\"caf\xc3\xa9 \xe2\x82\xac "
		       "\xf0\x9f\x98\x80\"}"), 0);
	CHECK_INT(json_flat_get_string("{\"a\":\"caf\xc3\xa9\"}", 13, "a",
				       out, sizeof out), 0);
	CHECK_STR(out, "caf\xc3\xa9");
	/* Those are a request's rules (json_flat_check): a member of a
	 * reply is read as it is, say an exe path that is not UTF-8, or a
	 * record with more members than a request may have. */
	CHECK_INT(json_flat_get_string("{\"exe\":\"/x/\xe9t\xe9\"}", 16,
				       "exe", out, sizeof out), 0);
	CHECK_STR(out, "/x/\xe9t\xe9");
	/* A string with UTF-8 that does not fit: said so. */
	CHECK_INT(json_flat_get_string("{\"a\":\"\xc3\xa9\xc3\xa9\"}", 12,
				       "a", name, 4), -2);
	/* Duplicate keys, also when spelled differently. */
	CHECK_INT(json_flat_check("{\"command\":\"status\",\"command\":"
				  "\"reload\"}", 40, &reason), -1);
	CHECK_STR(reason, "a member named twice");
	CHECK_INT(flat("{\"a\":1,\"\\u0061\":2}"), -1);
	CHECK_INT(flat("{\"a\":1,\"b\":2}"), 0);
	/* Too many members, too long a name. */
	{
		size_t at = 1, last = 0;

		text[0] = '{';
		for (i = 0; i < JSON_FLAT_MAX_MEMBERS + 1; i++) {
			last = at;
			at += (size_t)sprintf(text + at, "\"k%zu\":1,", i);
		}
		text[at - 1] = '}';
		CHECK_INT(json_flat_check(text, at, &reason), -1);
		CHECK_STR(reason, "more members than a request may have");
		text[last - 1] = '}';
		CHECK_INT(json_flat_check(text, last, &reason), 0);
	}
	text[0] = '{';
	text[1] = '"';
	memset(text + 2, 'n', JSON_FLAT_MAX_NAME + 1);
	memcpy(text + 2 + JSON_FLAT_MAX_NAME + 1, "\":1}", 4);
	CHECK_INT(json_flat_check(text, JSON_FLAT_MAX_NAME + 7, &reason), -1);
	CHECK_STR(reason, "a member name longer than a request's names");

	/* Numbers: exact integers in range, or -2; nothing is cut. */
#define INT_OF(t, min, max) \
	json_flat_get_int_range((t), strlen(t), "n", (min), (max), &v)
	CHECK_INT(INT_OF("{\"n\":42}", 0, 100), 0);
	CHECK_INT(v, 42);
	CHECK_INT(INT_OF("{\"n\":-9223372036854775808}", INT64_MIN, 0), 0);
	CHECK(v == INT64_MIN);
	CHECK_INT(INT_OF("{\"n\":9223372036854775807}", 0, INT64_MAX), 0);
	CHECK(v == INT64_MAX);
	v = 7;
	CHECK_INT(INT_OF("{\"n\":9223372036854775808}", 0, INT64_MAX), -2);
	CHECK_INT(INT_OF("{\"n\":99999999999999999999999999}", 0, INT64_MAX),
		  -2);
	CHECK_INT(INT_OF("{\"n\":-9223372036854775809}", INT64_MIN, 0), -2);
	CHECK_INT(INT_OF("{\"n\":101}", 0, 100), -2);
	CHECK_INT(INT_OF("{\"n\":-1}", 0, 100), -2);
	CHECK_INT(INT_OF("{\"n\":1.5}", 0, 100), -2);
	CHECK_INT(INT_OF("{\"n\":1e2}", 0, 1000), -2);
	CHECK_INT(INT_OF("{\"n\":1e999}", 0, 1000), -2);
	CHECK_INT(INT_OF("{\"n\":\"1\"}", 0, 100), -2);
	CHECK_INT(INT_OF("{\"n\":true}", 0, 100), -2);
	CHECK_INT(v, 7); /* untouched by what was refused */
	CHECK_INT(INT_OF("{\"m\":1}", 0, 100), -1);
	CHECK_INT(INT_OF("{\"n\":-0}", -5, 5), 0);
	CHECK_INT(v, 0);
#undef INT_OF
}

static void
test_pretty(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CHECK_INT(json_print_pretty(f, "{\"a\":1,\"b\":{\"c\":\"x y\",\"d\":[1,"
				       "{\"e\":true}]},\"f\":{}}"),
		  0);
	fclose(f);
	CHECK_STR(text, "a: 1\nb:\n  c: x y\n  d:\n    - 1\n    -\n      e: "
			"true\nf:\n");
	free(text);
	/* Control characters are shown escaped, never sent raw to a
	 * terminal; a long string is printed whole. */
	{
		static char in[5000], want[5000];

		f = open_memstream(&text, &len);
		snprintf(in, sizeof in, "{\"s\":\"esc\\u001b[2J\\n\\\"q\\\" %04000d\"}", 7);
		CHECK_INT(json_print_pretty(f, in), 0);
		fclose(f);
		snprintf(want, sizeof want, "s: esc\\u001b[2J\\u000a\"q\" %04000d\n",
			 7);
		CHECK_STR(text, want);
		free(text);
	}
	f = open_memstream(&text, &len);
	CHECK_INT(json_print_pretty(f, "{\"a\":"), -1);
	CHECK_INT(json_print_pretty(f, "nope"), -1);
	CHECK_INT(json_print_pretty(f, "{\"a\" 1}"), -1);
	fclose(f);
	free(text);
}

static int
collect_names(void *arg, const char *object, size_t len)
{
	char *names = arg, name[32];
	int64_t n = -1;

	if (json_flat_get_string(object, len, "name", name, sizeof name) < 0 ||
	    json_flat_get_int(object, len, "n", &n) < 0)
		return 1;
	snprintf(names + strlen(names), 64, "%s=%lld;", name, (long long)n);
	return 0;
}

/* The numbers, bools and arrays of records a "log" uses. */
static void
test_numbers_and_records(void)
{
	const char *req = "{\"a\": 12, \"b\": -7, \"c\": true, \"d\": "
			  "false, \"e\": 1.5, \"f\": \"12\", \"g\": "
			  "9223372036854775807, \"h\": 9223372036854775808}";
	const char *reply = "{\"x\":{\"records\":[1]},\"records\":[{\"name\":"
			    "\"a\",\"n\":1},{\"name\":\"b]\",\"n\":2}],"
			    "\"truncated\":true}";
	char names[128] = "";
	int64_t n;
	bool b;

	CHECK_INT(json_flat_get_int(req, strlen(req), "a", &n), 0);
	CHECK_INT(n, 12);
	CHECK_INT(json_flat_get_int(req, strlen(req), "b", &n), 0);
	CHECK_INT(n, -7);
	CHECK_INT(json_flat_get_int(req, strlen(req), "e", &n), -2);
	CHECK_INT(json_flat_get_int(req, strlen(req), "f", &n), -1);
	CHECK_INT(json_flat_get_int(req, strlen(req), "g", &n), 0);
	CHECK_INT(n, INT64_MAX);
	CHECK_INT(json_flat_get_int(req, strlen(req), "h", &n), -2);
	CHECK_INT(json_flat_get_int(req, strlen(req), "zz", &n), -1);
	CHECK_INT(json_flat_get_bool(req, strlen(req), "c", &b), 0);
	CHECK(b);
	CHECK_INT(json_flat_get_bool(req, strlen(req), "d", &b), 0);
	CHECK(!b);
	CHECK_INT(json_flat_get_bool(req, strlen(req), "a", &b), -2);
	CHECK_INT(json_flat_get_bool(req, strlen(req), "zz", &b), -1);

	/* Only the top level's array; a ']' in a string is no end. */
	CHECK_INT(json_each_object(reply, strlen(reply), "records",
				   collect_names, names),
		  2);
	CHECK_STR(names, "a=1;b]=2;");
	CHECK_INT(json_each_object(reply, strlen(reply), "none",
				   collect_names, names),
		  -1);
	CHECK_INT(json_each_object("{\"records\":[1,2]}", 18, "records",
				   collect_names, names),
		  -1);
	CHECK_INT(json_each_object("{\"records\":[{\"a\":{}}]}", 24,
				   "records", collect_names, names),
		  -1);
	CHECK_INT(json_each_object("{\"records\":[]}", 15, "records",
				   collect_names, names),
		  0);
	CHECK_INT(json_each_object("{\"records\":[{\"name\":\"a\"", 22,
				   "records", collect_names, names),
		  -1);
}

int
main(void)
{
	test_writer();
	test_reader();
	test_hostile();
	test_pretty();
	test_numbers_and_records();
	return check_exit();
}
