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
	test_pretty();
	test_numbers_and_records();
	return check_exit();
}
