/* test_public_suffix.c - unit tests for lists/public_suffix.c. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lists/public_suffix.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

static void
expect_ascii(const char *utf8, const char *ascii)
{
	char out[256];

	CHECK_INT(public_suffix_to_ascii(utf8, out, sizeof out),
	          (long long)strlen(ascii));
	CHECK_STR(out, ascii);
}

static void
test_to_ascii(void)
{
	char out[256], small[8];

	expect_ascii("com", "com");
	expect_ascii("Co.UK", "co.uk");
	/* Expected values from an independent encoder (Python's codec). */
	expect_ascii("\xd1\x80\xd1\x84", "xn--p1ai"); /* rf */
	expect_ascii("\xe5\x85\xac\xe5\x8f\xb8.cn", "xn--55qx5d.cn");
	expect_ascii("\xe4\xb8\xad\xe5\x9b\xbd", "xn--fiqs8s");
	expect_ascii("\xce\xb5\xce\xbb", "xn--qxam");
	/* Basic code points first, then the delta of the others. */
	expect_ascii("b\xc3\xbc"
	             "cher.example",
	             "xn--bcher-kva.example");
	expect_ascii("M\xc3\xbcnchen", "xn--mnchen-3ya");
	/* A long label: many adaptations of the bias. */
	expect_ascii("\xd9\x84\xd9\x8a\xd9\x87\xd9\x85\xd8\xa7\xd8\xaa\xd9\x83"
	             "\xd9\x84\xd9\x85\xd9\x88\xd8\xb4\xd8\xb9\xd8\xb1\xd8\xa8"
	             "\xd9\x8a\xd8\x9f",
	             "xn--egbpdh9ar9a4egdheuuwm");

	/* Not UTF-8: a stray byte, an overlong '/', a surrogate, a cut
	 * sequence. */
	CHECK_INT(public_suffix_to_ascii("a\xff", out, sizeof out), -1);
	CHECK_INT(public_suffix_to_ascii("\xc0\xaf", out, sizeof out), -1);
	CHECK_INT(public_suffix_to_ascii("\xed\xa0\x80", out, sizeof out), -1);
	CHECK_INT(public_suffix_to_ascii("\xe4\xb8", out, sizeof out), -1);
	/* Does not fit: never a cut result. */
	CHECK_INT(public_suffix_to_ascii("example.com", small, sizeof small),
	          -1);
	CHECK_INT(public_suffix_to_ascii("\xd1\x80\xd1\x84", small, 8), -1);
	CHECK_INT(public_suffix_to_ascii("\xd1\x80\xd1\x84", out, 9), 8);
}

static const char sample[] =
    "// A list in the format of public_suffix_list.dat\n"
    "\n"
    "// ===BEGIN ICANN DOMAINS===\n"
    "com\n"
    "uk\n"
    "co.uk\n"
    "  indented.example\n"
    "test trailing words are ignored\n"
    "*.ck\n"
    "!www.ck\n"
    "*.kawasaki.jp\n"
    "!city.kawasaki.jp\n"
    "\xd1\x80\xd1\x84\n"
    "bad..rule\n"
    "bad\xffutf8\n"
    "// ===END ICANN DOMAINS===\n"
    "// ===BEGIN PRIVATE DOMAINS===\n"
    "github.io\n"
    "blogspot.com\n"
    "*.compute.example\n"
    "// ===END PRIVATE DOMAINS===\n";

static void
test_sample(void)
{
	char path[64], err[256], long_name[300];
	struct public_suffix *ps;

	CHECK_INT(
	    fixture_temp_file(path, sizeof path, sample, sizeof sample - 1), 0);
	ps = public_suffix_load(path, err, sizeof err);
	CHECK(ps != NULL);
	if (ps == NULL)
		return;
	CHECK_INT(public_suffix_count(ps), 10);
	CHECK_INT(public_suffix_skipped(ps), 2);

	/* The normalised entry point answers as the other one. */
	CHECK(public_suffix_is_suffix_lower(ps, "co.uk", 5));
	CHECK(public_suffix_is_suffix_lower(ps, "com", 3));
	CHECK(!public_suffix_is_suffix_lower(ps, "example.co.uk", 13));
	CHECK(!public_suffix_is_suffix_lower(ps, "co.ukx", 6));
	CHECK(!public_suffix_is_suffix_lower(ps, "", 0));
	CHECK(public_suffix_is_suffix(ps, "com"));
	CHECK(public_suffix_is_suffix(ps, "COM."));
	CHECK(public_suffix_is_suffix(ps, "uk"));
	CHECK(public_suffix_is_suffix(ps, "co.uk"));
	CHECK(public_suffix_is_suffix(ps, "Co.Uk."));
	CHECK(public_suffix_is_suffix(ps, "indented.example"));
	CHECK(public_suffix_is_suffix(ps, "test"));
	CHECK(!public_suffix_is_suffix(ps, "trailing"));
	CHECK(public_suffix_is_suffix(ps, "xn--p1ai"));
	/* Only exact names, never their subdomains or parents. */
	CHECK(!public_suffix_is_suffix(ps, "example.com"));
	CHECK(!public_suffix_is_suffix(ps, "www.co.uk"));
	CHECK(!public_suffix_is_suffix(ps, "example"));
	CHECK(!public_suffix_is_suffix(ps, "org"));
	/* Wildcards: the base and every name directly under it, except the
	 * exceptions; nothing deeper. */
	CHECK(public_suffix_is_suffix(ps, "ck"));
	CHECK(public_suffix_is_suffix(ps, "anything.ck"));
	CHECK(!public_suffix_is_suffix(ps, "www.ck"));
	CHECK(!public_suffix_is_suffix(ps, "a.anything.ck"));
	CHECK(public_suffix_is_suffix(ps, "kawasaki.jp"));
	CHECK(public_suffix_is_suffix(ps, "ward.kawasaki.jp"));
	CHECK(!public_suffix_is_suffix(ps, "city.kawasaki.jp"));
	CHECK(!public_suffix_is_suffix(ps, "jp"));
	/* The private part does not count. */
	CHECK(!public_suffix_is_suffix(ps, "github.io"));
	CHECK(!public_suffix_is_suffix(ps, "blogspot.com"));
	CHECK(!public_suffix_is_suffix(ps, "compute.example"));
	CHECK(!public_suffix_is_suffix(ps, "x.compute.example"));
	/* Skipped rules are not half-stored. */
	CHECK(!public_suffix_is_suffix(ps, "bad..rule"));
	CHECK(!public_suffix_is_suffix(ps, "rule"));
	/* Odd names answer false, not crash. */
	CHECK(!public_suffix_is_suffix(ps, ""));
	CHECK(!public_suffix_is_suffix(ps, "."));
	CHECK(!public_suffix_is_suffix(ps, ".com"));
	CHECK(!public_suffix_is_suffix(ps, "com.."));
	memset(long_name, 'a', sizeof long_name - 5);
	strcpy(long_name + sizeof long_name - 5, ".com");
	CHECK(!public_suffix_is_suffix(ps, long_name));

	public_suffix_free(ps);
	public_suffix_free(NULL);
	CHECK_INT(unlink(path), 0);
}

static void
test_without_sections(void)
{
	char path[64], err[256];
	struct public_suffix *ps;

	/* A hand-made list without the section markers: every rule counts. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "test\nco.test\n", 13),
	          0);
	ps = public_suffix_load(path, err, sizeof err);
	CHECK(ps != NULL);
	if (ps != NULL) {
		CHECK_INT(public_suffix_count(ps), 2);
		CHECK(public_suffix_is_suffix(ps, "test"));
		CHECK(public_suffix_is_suffix(ps, "co.test"));
		CHECK(!public_suffix_is_suffix(ps, "ads.test"));
	}
	public_suffix_free(ps);
	CHECK_INT(unlink(path), 0);
}

static void
test_errors(void)
{
	char path[64], err[256], expected[320];

	strcpy(err, "unset");
	CHECK(public_suffix_load("/nonexistent/psl.dat", err, sizeof err) ==
	      NULL);
	CHECK_STR(err, "/nonexistent/psl.dat: cannot read it: No such file or "
	               "directory");
	CHECK(public_suffix_load("/", err, sizeof err) == NULL);
	CHECK_STR(err, "/: cannot read it: Is a directory");

	/* Comments only, or only the private part: not a list to trust. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "// nothing\n\n", 12),
	          0);
	CHECK(public_suffix_load(path, err, sizeof err) == NULL);
	snprintf(expected, sizeof expected,
	         "%s: no rule in it: not a public suffix list", path);
	CHECK_STR(err, expected);
	CHECK_INT(unlink(path), 0);

	/* The binary DAFSA Debian ships beside the list. */
	CHECK_INT(fixture_temp_file(path, sizeof path, "com\n\0\x01\x02\n", 8),
	          0);
	CHECK(public_suffix_load(path, err, sizeof err) == NULL);
	snprintf(expected, sizeof expected,
	         "%s: NUL byte in it: not a public suffix list", path);
	CHECK_STR(err, expected);
	CHECK_INT(unlink(path), 0);
}

/* Debian's list, when the package is installed (scripts/deps installs it
 * for the tests). */
static void
test_debian_list(void)
{
	struct public_suffix *ps;
	struct timespec t0, t1;
	char err[256];

	if (access(PUBLIC_SUFFIX_DEFAULT_PATH, R_OK) != 0) {
		fprintf(stderr, "note: %s missing, its checks skipped\n",
		        PUBLIC_SUFFIX_DEFAULT_PATH);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ps = public_suffix_load(PUBLIC_SUFFIX_DEFAULT_PATH, err, sizeof err);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CHECK(ps != NULL);
	if (ps == NULL)
		return;
	fprintf(stderr, "note: %zu rules (%zu skipped) loaded in %.1f ms\n",
	        public_suffix_count(ps), public_suffix_skipped(ps),
	        (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	            (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	CHECK(public_suffix_count(ps) > 5000);
	CHECK_INT(public_suffix_skipped(ps), 0);
	CHECK(public_suffix_is_suffix(ps, "com"));
	CHECK(public_suffix_is_suffix(ps, "co.uk"));
	CHECK(public_suffix_is_suffix(ps, "com.au"));
	CHECK(public_suffix_is_suffix(ps, "xn--p1ai"));
	CHECK(public_suffix_is_suffix(ps, "ck"));
	CHECK(public_suffix_is_suffix(ps, "foo.ck"));
	CHECK(!public_suffix_is_suffix(ps, "www.ck"));
	CHECK(!public_suffix_is_suffix(ps, "city.kawasaki.jp"));
	CHECK(!public_suffix_is_suffix(ps, "example.com"));
	CHECK(!public_suffix_is_suffix(ps, "doubleclick.net"));
	CHECK(!public_suffix_is_suffix(ps, "github.io"));
	CHECK(!public_suffix_is_suffix(ps, "blogspot.com"));
	public_suffix_free(ps);
}

int
main(void)
{
	test_to_ascii();
	test_sample();
	test_without_sections();
	test_errors();
	test_debian_list();
	return check_exit();
}
