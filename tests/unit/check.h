/* check.h - the unit tests' only assertion helpers.
 * A failed CHECK prints file:line and the expression and counts a failure;
 * check_exit() returns the automake exit status (0 pass, 1 fail, 77 skip). */
#ifndef DNSGATE_CHECK_H
#define DNSGATE_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;
static int check_count;

#define CHECK(expr)                                                            \
	do {                                                                   \
		check_count++;                                                 \
		if (!(expr)) {                                                 \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, \
				__LINE__, #expr);                              \
		}                                                              \
	} while (0)

#define CHECK_INT(actual, expected)                                            \
	do {                                                                   \
		long long check_a_ = (long long)(actual);                      \
		long long check_e_ = (long long)(expected);                    \
		check_count++;                                                 \
		if (check_a_ != check_e_) {                                    \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n",  \
				__FILE__, __LINE__, #actual, check_a_,         \
				check_e_);                                     \
		}                                                              \
	} while (0)

#define CHECK_STR(actual, expected)                                            \
	do {                                                                   \
		const char *check_a_ = (actual);                               \
		const char *check_e_ = (expected);                             \
		check_count++;                                                 \
		if (check_a_ == NULL || check_e_ == NULL                       \
			? check_a_ != check_e_                                 \
			: strcmp(check_a_, check_e_) != 0) {                   \
			check_failures++;                                      \
			fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", \
				__FILE__, __LINE__, #actual,                   \
				check_a_ ? check_a_ : "(null)",                \
				check_e_ ? check_e_ : "(null)");               \
		}                                                              \
	} while (0)

static inline int
check_exit(void)
{
	fprintf(stderr, "%d checks, %d failed\n", check_count, check_failures);
	return check_failures == 0 ? 0 : 1;
}

#endif
