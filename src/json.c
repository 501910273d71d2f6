/* json.c - a bounded JSON writer and a strict reader of flat objects. */
#include "config.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "src/json.h"

/* --- writing ----------------------------------------------------------- */

static void
put(struct json_out *j, const char *s, size_t n)
{
	if (j->overflow)
		return;
	if (j->len + n + 1 > j->size) {
		j->overflow = true;
		return;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void
put_str(struct json_out *j, const char *s)
{
	put(j, s, strlen(s));
}

/* A comma before every value but the first of its container. A value
 * after a key needs none: the key placed it. */
static void
separate(struct json_out *j, bool after_key)
{
	unsigned d = j->depth < JSON_MAX_DEPTH ? j->depth : JSON_MAX_DEPTH - 1;

	if (!after_key && j->need_comma[d])
		put(j, ",", 1);
	j->need_comma[d] = true;
}

void
json_out_init(struct json_out *j, char *buf, size_t size)
{
	memset(j, 0, sizeof *j);
	j->buf = buf;
	j->size = size;
	if (size > 0)
		buf[0] = '\0';
	else
		j->overflow = true;
}

/* Whether the value about to be written follows its key (then it needs
 * no comma of its own). */
static bool
after_key_pending(struct json_out *j)
{
	bool k = j->after_key;

	j->after_key = false;
	return k;
}

static void
open_container(struct json_out *j, const char *c)
{
	separate(j, after_key_pending(j));
	put(j, c, 1);
	j->depth++;
	if (j->depth >= JSON_MAX_DEPTH) { /* deeper than anything we write */
		j->overflow = true;
		return;
	}
	j->need_comma[j->depth] = false;
}

static void
close_container(struct json_out *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	put(j, c, 1);
}

void
json_object_begin(struct json_out *j)
{
	open_container(j, "{");
}

void
json_object_end(struct json_out *j)
{
	close_container(j, "}");
}

void
json_array_begin(struct json_out *j)
{
	open_container(j, "[");
}

void
json_array_end(struct json_out *j)
{
	close_container(j, "]");
}

static void
put_escaped(struct json_out *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	put(j, "\"", 1);
	for (; *p != '\0'; p++) {
		char esc[8];

		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p;
			put(j, esc, 2);
		} else if (*p < 0x20 || *p == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", *p);
			put_str(j, esc);
		} else {
			put(j, (const char *)p, 1);
		}
	}
	put(j, "\"", 1);
}

void
json_key(struct json_out *j, const char *key)
{
	separate(j, false);
	put_escaped(j, key);
	put(j, ":", 1);
	j->after_key = true;
}

void
json_string(struct json_out *j, const char *value)
{
	separate(j, after_key_pending(j));
	put_escaped(j, value);
}

/* A number or literal: after its key, or after a comma in an array. */
static void
put_scalar(struct json_out *j, const char *text)
{
	separate(j, after_key_pending(j));
	put_str(j, text);
}

void
json_uint(struct json_out *j, uint64_t value)
{
	char num[24];

	snprintf(num, sizeof num, "%" PRIu64, value);
	put_scalar(j, num);
}

void
json_int(struct json_out *j, int64_t value)
{
	char num[24];

	snprintf(num, sizeof num, "%" PRId64, value);
	put_scalar(j, num);
}

void
json_bool(struct json_out *j, bool value)
{
	put_scalar(j, value ? "true" : "false");
}

const char *
json_out_text(const struct json_out *j)
{
	return j->size > 0 ? j->buf : "";
}

bool
json_out_ok(const struct json_out *j)
{
	return !j->overflow;
}

/* --- reading ----------------------------------------------------------- */

struct cursor {
	const char *p, *end;
	bool request; /* a request's rules: UTF-8 strings (json_flat_check) */
};

static void
skip_blanks(struct cursor *c)
{
	while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' ||
				 *c->p == '\r' || *c->p == '\n'))
		c->p++;
}

static int
hex_digit(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* The length of the UTF-8 sequence at p (1 to 4 bytes), or 0 when it is
 * not one: a stray continuation byte, a sequence cut short, an overlong
 * form, a surrogate or a code point past U+10FFFF. */
static size_t
utf8_length(const char *p, const char *end)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t n, k;
	unsigned long cp;

	if (u[0] < 0x80)
		return 1;
	if (u[0] >= 0xc2 && u[0] <= 0xdf) {
		n = 2;
		cp = u[0] & 0x1f;
	} else if (u[0] >= 0xe0 && u[0] <= 0xef) {
		n = 3;
		cp = u[0] & 0x0f;
	} else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
		n = 4;
		cp = u[0] & 0x07;
	} else {
		return 0;
	}
	if ((size_t)(end - p) < n)
		return 0;
	for (k = 1; k < n; k++) {
		if ((u[k] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (u[k] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return n;
}

/* Reads a string at c->p (which is at its quote), unescaping into out
 * when out is not NULL. Returns its length, -1 when malformed, -2 when it
 * does not fit out. */
static long
read_string(struct cursor *c, char *out, size_t outlen, const char **reason)
{
	size_t n = 0;
	bool cut = false;

	c->p++; /* the opening quote */
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;

		if ((unsigned char)ch < 0x20) {
			*reason = "a control character inside a string";
			return -1;
		}
		if ((unsigned char)ch >= 0x80 && c->request) {
			/* A UTF-8 sequence, copied as it is. */
			const char *seq = c->p - 1;
			size_t k, seqlen = utf8_length(seq, c->end);

			if (seqlen == 0) {
				*reason = "a string that is not UTF-8";
				return -1;
			}
			for (k = 0; k < seqlen; k++, n++) {
				if (out == NULL)
					continue;
				if (n + 1 < outlen)
					out[n] = seq[k];
				else
					cut = true;
			}
			c->p = seq + seqlen;
			continue;
		}
		if (ch == '\\') {
			if (c->p >= c->end) {
				*reason = "a string ends in a backslash";
				return -1;
			}
			ch = *c->p++;
			switch (ch) {
			case '"': case '\\': case '/':
				break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'n': ch = '\n'; break;
			case 'r': ch = '\r'; break;
			case 't': ch = '\t'; break;
			case 'u': {
				int v = 0, k;

				for (k = 0; k < 4; k++) {
					int d = c->p < c->end ? hex_digit(*c->p)
							      : -1;

					if (d < 0) {
						*reason = "a bad \\u escape";
						return -1;
					}
					v = v * 16 + d;
					c->p++;
				}
				if (v == 0 || v > 0x7f) {
					*reason = "a \\u escape outside ASCII "
						  "(or NUL)";
					return -1;
				}
				ch = (char)v;
				break;
			}
			default:
				*reason = "an unknown escape in a string";
				return -1;
			}
		}
		if (out != NULL) {
			if (n + 1 < outlen)
				out[n] = ch;
			else
				cut = true;
		}
		n++;
	}
	if (c->p >= c->end) {
		*reason = "a string is not closed";
		return -1;
	}
	c->p++; /* the closing quote */
	if (out != NULL && outlen > 0)
		out[n < outlen ? n : outlen - 1] = '\0';
	return cut ? -2 : (long)n;
}

static int
read_scalar(struct cursor *c, const char **reason)
{
	static const char *const words[] = {"true", "false", "null"};
	size_t i;

	if (c->p < c->end && *c->p == '"')
		return read_string(c, NULL, 0, reason) < 0 ? -1 : 0;
	for (i = 0; i < 3; i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(c->end - c->p) >= n &&
		    memcmp(c->p, words[i], n) == 0) {
			c->p += n;
			return 0;
		}
	}
	/* A number, as JSON has them: -?(0|[1-9][0-9]*)(.[0-9]+)?
	 * ([eE][+-]?[0-9]+)? */
	{
		const char *p = c->p;

		if (p < c->end && *p == '-')
			p++;
		if (p < c->end && *p == '0') {
			p++;
		} else if (p < c->end && *p >= '1' && *p <= '9') {
			while (p < c->end && *p >= '0' && *p <= '9')
				p++;
		} else {
			*reason = p < c->end && (*p == '{' || *p == '[')
					  ? "a request holds only strings, "
					    "numbers, true, false and null"
					  : "expected a value";
			return -1;
		}
		if (p < c->end && *p == '.') {
			p++;
			if (p >= c->end || *p < '0' || *p > '9') {
				*reason = "a number with no digit after '.'";
				return -1;
			}
			while (p < c->end && *p >= '0' && *p <= '9')
				p++;
		}
		if (p < c->end && (*p == 'e' || *p == 'E')) {
			p++;
			if (p < c->end && (*p == '+' || *p == '-'))
				p++;
			if (p >= c->end || *p < '0' || *p > '9') {
				*reason = "a number with no digit in its "
					  "exponent";
				return -1;
			}
			while (p < c->end && *p >= '0' && *p <= '9')
				p++;
		}
		if (p < c->end && *p >= '0' && *p <= '9') {
			*reason = "a number with a leading zero";
			return -1;
		}
		c->p = p;
	}
	return 0;
}

/* Walks the object; calls visit for each member (key cursor at its
 * quote, value cursor at its first character). */
static int
walk(const char *text, size_t len, const char **reason,
     int (*visit)(struct cursor *key, struct cursor *value, void *arg),
     void *arg)
{
	/* Checking a request (no visit): its strings must be UTF-8, its
	 * names few, short and each once. Reading a member of a text
	 * checked (or of a reply) needs none of it. */
	struct cursor c = {text, text + len, visit == NULL};
	char names[JSON_FLAT_MAX_MEMBERS][JSON_FLAT_MAX_NAME + 1];
	size_t members = 0, i;
	bool first = true;

	skip_blanks(&c);
	if (c.p >= c.end || *c.p != '{') {
		*reason = "a request is one JSON object, {...}";
		return -1;
	}
	c.p++;
	for (;;) {
		struct cursor key, value;

		skip_blanks(&c);
		if (c.p < c.end && *c.p == '}' && first) {
			c.p++;
			break;
		}
		if (c.p >= c.end || *c.p != '"') {
			*reason = "expected a quoted member name";
			return -1;
		}
		key = c;
		if (!c.request) {
			if (read_string(&c, NULL, 0, reason) < 0)
				return -1;
		} else if (members == JSON_FLAT_MAX_MEMBERS) {
			*reason = "more members than a request may have";
			return -1;
		} else {
			switch (read_string(&c, names[members],
					    sizeof names[members], reason)) {
			case -1:
				return -1;
			case -2:
				*reason = "a member name longer than a "
					  "request's names";
				return -1;
			}
			/* Two values for one name: which one counts would be
			 * a guess. */
			for (i = 0; i < members; i++)
				if (strcmp(names[i], names[members]) == 0) {
					*reason = "a member named twice";
					return -1;
				}
			members++;
		}
		skip_blanks(&c);
		if (c.p >= c.end || *c.p != ':') {
			*reason = "expected ':' after a member name";
			return -1;
		}
		c.p++;
		skip_blanks(&c);
		value = c;
		if (read_scalar(&c, reason) < 0)
			return -1;
		if (visit != NULL && visit(&key, &value, arg) != 0)
			return 1;
		first = false;
		skip_blanks(&c);
		if (c.p < c.end && *c.p == ',') {
			c.p++;
			continue;
		}
		if (c.p < c.end && *c.p == '}') {
			c.p++;
			break;
		}
		*reason = "expected ',' or '}'";
		return -1;
	}
	skip_blanks(&c);
	if (c.p != c.end) {
		*reason = "text after the object";
		return -1;
	}
	return 0;
}

int
json_flat_check(const char *text, size_t len, const char **reason)
{
	return walk(text, len, reason, NULL, NULL) == 0 ? 0 : -1;
}

struct lookup {
	const char *key;
	char *out;
	size_t outlen;
	int result;
};

static int
visit_lookup(struct cursor *key, struct cursor *value, void *arg)
{
	struct lookup *l = arg;
	char name[128];
	const char *reason;

	if (read_string(key, name, sizeof name, &reason) < 0 ||
	    strcmp(name, l->key) != 0 || *value->p != '"')
		return 0;
	l->result = read_string(value, l->out, l->outlen, &reason) == -2 ? -2
									  : 0;
	return 1;
}

int
json_flat_get_string(const char *text, size_t len, const char *key,
		     char *out, size_t outlen)
{
	struct lookup l = {key, out, outlen, -1};
	const char *reason;

	if (walk(text, len, &reason, visit_lookup, &l) < 0)
		return -1;
	return l.result;
}

struct int_lookup {
	const char *key;
	int64_t min, max, value;
	int result;
};

/* The integer at p, exactly: -2 unless it is one from min to max. */
static int
parse_integer(const char *p, const char *end, int64_t min, int64_t max,
	      int64_t *out)
{
	bool negative = p < end && *p == '-';
	uint64_t v = 0, limit;

	if (negative)
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return -2;
	/* The magnitude may not pass the bound on its side. */
	limit = negative ? (min < 0 ? (uint64_t)(-(min + 1)) + 1 : 0)
			 : (max < 0 ? 0 : (uint64_t)max);
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (limit - d) / 10 || v * 10 + d > limit)
			return -2;
		v = v * 10 + d;
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -2;
	*out = negative ? (v == 0 ? 0 : -(int64_t)(v - 1) - 1) : (int64_t)v;
	return *out < min || *out > max ? -2 : 0;
}

static int
visit_int(struct cursor *key, struct cursor *value, void *arg)
{
	struct int_lookup *l = arg;
	char name[JSON_FLAT_MAX_NAME + 1];
	const char *reason;

	if (read_string(key, name, sizeof name, &reason) < 0 ||
	    strcmp(name, l->key) != 0)
		return 0;
	l->result = parse_integer(value->p, value->end, l->min, l->max,
				  &l->value);
	return 1;
}

int
json_flat_get_int_range(const char *text, size_t len, const char *key,
			int64_t min, int64_t max, int64_t *out)
{
	struct int_lookup l = {key, min, max, 0, -1};
	const char *reason;

	if (walk(text, len, &reason, visit_int, &l) < 0)
		return -1;
	if (l.result == 0)
		*out = l.value;
	return l.result;
}

/* The member key's value as a cursor at its first character, in a text
 * walk accepted; 0 found, -1 not. */
struct member {
	const char *key;
	struct cursor value;
	bool found;
};

static int
visit_member(struct cursor *key, struct cursor *value, void *arg)
{
	struct member *m = arg;
	char name[128];
	const char *reason;

	if (read_string(key, name, sizeof name, &reason) < 0 ||
	    strcmp(name, m->key) != 0)
		return 0;
	m->value = *value;
	m->found = true;
	return 1;
}

static int
find_member(const char *text, size_t len, const char *key,
	    struct cursor *value)
{
	struct member m = {key, {NULL, NULL, false}, false};
	const char *reason;

	if (walk(text, len, &reason, visit_member, &m) < 0 || !m.found)
		return -1;
	*value = m.value;
	return 0;
}

int
json_flat_get_int(const char *text, size_t len, const char *key,
		  int64_t *out)
{
	struct cursor v;
	bool negative = false;
	uint64_t n = 0;

	if (find_member(text, len, key, &v) < 0 ||
	    (*v.p != '-' && (*v.p < '0' || *v.p > '9')))
		return -1;
	if (*v.p == '-') {
		negative = true;
		v.p++;
	}
	while (v.p < v.end && *v.p >= '0' && *v.p <= '9') {
		unsigned d = (unsigned)(*v.p++ - '0');

		if (n > ((uint64_t)INT64_MAX - d) / 10)
			return -2;
		n = n * 10 + d;
	}
	if (v.p < v.end && (*v.p == '.' || *v.p == 'e' || *v.p == 'E'))
		return -2;
	*out = negative ? -(int64_t)n : (int64_t)n;
	return 0;
}

int
json_flat_get_bool(const char *text, size_t len, const char *key, bool *out)
{
	struct cursor v;

	if (find_member(text, len, key, &v) < 0)
		return -1;
	if (*v.p == 't' || *v.p == 'f') {
		*out = *v.p == 't';
		return 0;
	}
	return -2;
}

/* Skips one value of any depth at c->p. */
static int
skip_value(struct cursor *c, unsigned depth, const char **reason)
{
	char close;
	bool first = true;

	if (c->p >= c->end || (*c->p != '{' && *c->p != '['))
		return read_scalar(c, reason);
	if (depth >= JSON_MAX_DEPTH) {
		*reason = "nested too deep";
		return -1;
	}
	close = *c->p == '{' ? '}' : ']';
	c->p++;
	for (;;) {
		skip_blanks(c);
		if (c->p < c->end && *c->p == close && first) {
			c->p++;
			return 0;
		}
		if (close == '}') {
			if (c->p >= c->end || *c->p != '"' ||
			    read_string(c, NULL, 0, reason) < 0) {
				*reason = "expected a quoted member name";
				return -1;
			}
			skip_blanks(c);
			if (c->p >= c->end || *c->p != ':') {
				*reason = "expected ':' after a member name";
				return -1;
			}
			c->p++;
			skip_blanks(c);
		}
		if (skip_value(c, depth + 1, reason) < 0)
			return -1;
		first = false;
		skip_blanks(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		*reason = "expected ',' or the container's end";
		return -1;
	}
}

int
json_each_object(const char *text, size_t len, const char *key,
		 int (*fn)(void *arg, const char *object, size_t len),
		 void *arg)
{
	struct cursor c = {text, text + len, false};
	const char *reason;
	char name[128];
	int n = 0;

	skip_blanks(&c);
	if (c.p >= c.end || *c.p != '{')
		return -1;
	c.p++;
	for (;;) {
		long klen;

		skip_blanks(&c);
		if (c.p >= c.end || *c.p != '"')
			return -1;
		klen = read_string(&c, name, sizeof name, &reason);
		if (klen == -1)
			return -1;
		skip_blanks(&c);
		if (c.p >= c.end || *c.p != ':')
			return -1;
		c.p++;
		skip_blanks(&c);
		if (klen >= 0 && strcmp(name, key) == 0) {
			if (c.p >= c.end || *c.p != '[')
				return -1;
			c.p++;
			for (;;) {
				const char *start;

				skip_blanks(&c);
				if (c.p < c.end && *c.p == ']')
					return n;
				start = c.p;
				if (c.p >= c.end || *c.p != '{' ||
				    skip_value(&c, 1, &reason) < 0 ||
				    json_flat_check(start,
						    (size_t)(c.p - start),
						    &reason) < 0)
					return -1;
				if (fn(arg, start, (size_t)(c.p - start)) != 0)
					return n + 1;
				n++;
				skip_blanks(&c);
				if (c.p < c.end && *c.p == ',')
					c.p++;
				else if (c.p >= c.end || *c.p != ']')
					return -1;
			}
		}
		if (skip_value(&c, 1, &reason) < 0)
			return -1;
		skip_blanks(&c);
		if (c.p >= c.end || *c.p != ',')
			return -1; /* the end, and no such member */
		c.p++;
	}
}

/* --- printing for people ------------------------------------------------- */

static void
indent(FILE *out, unsigned depth)
{
	unsigned i;

	for (i = 0; i < depth; i++)
		fputs("  ", out);
}

/* Prints the scalar at c->p: a string without its quotes, any length,
 * with control characters shown as \uXXXX (never sent raw to a
 * terminal); the rest as they are. */
static int
print_scalar(FILE *out, struct cursor *c)
{
	const char *start = c->p, *reason;
	struct cursor probe = *c;
	char one[2];

	if (*c->p != '"') {
		if (read_scalar(c, &reason) < 0)
			return -1;
		fwrite(start, 1, (size_t)(c->p - start), out);
		return 0;
	}
	if (read_string(&probe, NULL, 0, &reason) < 0)
		return -1;
	/* Valid: decode it a character at a time. */
	c->p++;
	while (*c->p != '"') {
		const char *before = c->p;
		unsigned char u;

		/* An escape is decoded as a one-character string of its
		 * own, by the same decoder. */
		if (*c->p == '\\') {
			char esc[8] = "\"", dec[4];
			struct cursor e;
			size_t n = c->p[1] == 'u' ? 6 : 2;

			memcpy(esc + 1, c->p, n);
			esc[1 + n] = '"';
			e.p = esc;
			e.end = esc + 2 + n;
			if (read_string(&e, dec, sizeof dec, &reason) < 0)
				return -1;
			u = (unsigned char)dec[0];
			c->p = before + n;
		} else {
			u = (unsigned char)*c->p++;
		}
		if (u < 0x20 || u == 0x7f) {
			fprintf(out, "\\u%04x", u);
		} else {
			one[0] = (char)u;
			fwrite(one, 1, 1, out);
		}
	}
	c->p++;
	return 0;
}

static int print_value(FILE *out, struct cursor *c, unsigned depth,
		       bool in_array);

/* An object's members or an array's elements, one a line. */
static int
print_container(FILE *out, struct cursor *c, unsigned depth, bool array)
{
	char close = array ? ']' : '}';
	bool first = true;

	c->p++;
	for (;;) {
		skip_blanks(c);
		if (c->p < c->end && *c->p == close && first) {
			c->p++;
			return 0;
		}
		if (array) {
			indent(out, depth);
			fputs("-", out);
		} else {
			char key[128];
			const char *reason;

			if (c->p >= c->end || *c->p != '"' ||
			    read_string(c, key, sizeof key, &reason) == -1)
				return -1;
			skip_blanks(c);
			if (c->p >= c->end || *c->p != ':')
				return -1;
			c->p++;
			indent(out, depth);
			fprintf(out, "%s:", key);
		}
		skip_blanks(c);
		if (print_value(out, c, depth + 1, array) < 0)
			return -1;
		first = false;
		skip_blanks(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		return -1;
	}
}

static int
print_value(FILE *out, struct cursor *c, unsigned depth, bool in_array)
{
	if (c->p >= c->end || depth > 32)
		return -1;
	if (*c->p == '{' || *c->p == '[') {
		fputc('\n', out);
		return print_container(out, c, depth, *c->p == '[');
	}
	fputc(' ', out);
	if (print_scalar(out, c) < 0)
		return -1;
	fputc('\n', out);
	return 0;
}

int
json_print_pretty(FILE *out, const char *text)
{
	struct cursor c = {text, text + strlen(text), false};

	skip_blanks(&c);
	if (c.p >= c.end || (*c.p != '{' && *c.p != '['))
		return -1;
	return print_container(out, &c, 0, *c.p == '[');
}
