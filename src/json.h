/* json.h - the little JSON the control protocol needs: a writer that
 * builds one object into a caller's buffer (escaping every string), and
 * a strict reader of one flat request object ({"key": "string" | number
 * | true | false | null, ...}). Nothing here allocates. */
#ifndef DNSGATE_JSON_H
#define DNSGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A writer into buf; once the buffer is too small it stops writing and
 * json_out_ok() says false (the text is then cut, never overrun). Keys
 * and values are separated by the writer: call json_key() before each
 * member of an object, nothing before an array element. */
#define JSON_MAX_DEPTH 16 /* a deeper container is an overflow */

struct json_out {
	char *buf;
	size_t size;
	size_t len;
	bool overflow;
	unsigned depth;
	bool need_comma[JSON_MAX_DEPTH]; /* per depth: a value is there */
	bool after_key;
};

void json_out_init(struct json_out *j, char *buf, size_t size);
void json_object_begin(struct json_out *j);
void json_object_end(struct json_out *j);
void json_array_begin(struct json_out *j);
void json_array_end(struct json_out *j);
void json_key(struct json_out *j, const char *key);
void json_string(struct json_out *j, const char *value);
void json_uint(struct json_out *j, uint64_t value);
void json_int(struct json_out *j, int64_t value);
void json_bool(struct json_out *j, bool value);
/* The text so far, NUL-terminated. */
const char *json_out_text(const struct json_out *j);
bool json_out_ok(const struct json_out *j);

/* Checks that text (len bytes, no NUL needed) is exactly one flat JSON
 * object, with only blanks around it: no nested value, every string
 * UTF-8, no member named twice, at most JSON_FLAT_MAX_MEMBERS members
 * with names of at most JSON_FLAT_MAX_NAME bytes. Returns 0, or -1 with
 * *reason. */
#define JSON_FLAT_MAX_MEMBERS 32
#define JSON_FLAT_MAX_NAME 63
int json_flat_check(const char *text, size_t len, const char **reason);

/* In a text json_flat_check accepted: copies the string member key into
 * out (unescaped; \u escapes outside ASCII are refused). Returns 0, -1
 * when there is no such string member, -2 when it does not fit out. */
int json_flat_get_string(const char *text, size_t len, const char *key,
			 char *out, size_t outlen);

/* The integer member key into out: 0, -1 when there is no such number
 * member, -2 when it is not an integer that fits int64_t. */
int json_flat_get_int(const char *text, size_t len, const char *key,
		      int64_t *out);

/* The member key, true or false, into out: 0, -1 none, -2 not a bool. */
int json_flat_get_bool(const char *text, size_t len, const char *key,
		       bool *out);

/* In text, one JSON object at any depth (as json_out makes it): calls fn
 * with each element of its top-level array member key, each a flat
 * object (json_flat_get_* read it), until fn returns non-zero. Returns
 * the number of elements given to fn, or -1 when there is no such
 * array, or it holds something else, or text is not JSON. */
int json_each_object(const char *text, size_t len, const char *key,
		     int (*fn)(void *arg, const char *object, size_t len),
		     void *arg);

/* In a text json_flat_check accepted: the number member key, which must
 * be an integer from min to max (no fraction, no exponent). Returns 0,
 * -1 when there is no such member, -2 when it is not an integer in that
 * range (a string, 1.5, 1e3, or too large: never cut or rounded). */
int json_flat_get_int_range(const char *text, size_t len, const char *key,
		      int64_t min, int64_t max, int64_t *out);

/* Writes a JSON text (as json_out makes it) for people: one "key: value"
 * a line, nested objects and arrays indented two spaces, array elements
 * marked "-". Returns 0, or -1 when text is not JSON it can follow
 * (then nothing more is written). */
int json_print_pretty(FILE *out, const char *text);

#endif
