/* matcher_bench.c - lookups of lists/matcher.c against the matcher it
 * replaced (bench/matcher_before.c), in the same process and run, with
 * the same list and the same names asked: half of them under a listed
 * name ("www." + an entry), half not listed at all. bench/run.sh runs it.
 *   matcher_bench LIST [LOOKUPS]
 * prints one line per matcher: "NAME: N ns a lookup, M bytes a name,
 * H hits", the median of 5 rounds (the two matchers take turns). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench/matcher_before.h"
#include "lists/matcher.h"

#define ROUNDS 5

static double
now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static long
resident_bytes(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f != NULL) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4096;
}

static int
compare_doubles(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	size_t lookups = argc > 2 ? strtoul(argv[2], NULL, 10) : 2000000;
	struct before_matcher *before;
	struct matcher *after;
	char **names = NULL, **asked;
	size_t n = 0, cap = 0, i;
	char line[512];
	const char *reason;
	double t_before[ROUNDS], t_after[ROUNDS];
	long rss0, rss1, rss2;
	size_t hits_before = 0, hits_after = 0;
	int r;
	FILE *f;

	if (argc < 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: matcher_bench LIST [LOOKUPS]\n");
		return 2;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			names = realloc(names, cap * sizeof *names);
		}
		names[n++] = strdup(line);
	}
	fclose(f);
	if (n == 0)
		return 2;

	rss0 = resident_bytes();
	after = matcher_new();
	for (i = 0; i < n; i++)
		matcher_add(after, names[i], &reason);
	matcher_seal(after);
	rss1 = resident_bytes();
	before = before_matcher_new();
	for (i = 0; i < n; i++)
		before_matcher_add(before, names[i], &reason);
	rss2 = resident_bytes();

	/* The names asked, made before the clocks start. */
	srand(20261201);
	asked = malloc(lookups * sizeof *asked);
	for (i = 0; i < lookups; i++) {
		char q[600];

		if (i % 2 == 0)
			snprintf(q, sizeof q, "www.%s",
			         names[(size_t)rand() % n]);
		else
			snprintf(q, sizeof q, "q%d.nowhere%d.example", rand(),
			         rand() % 1000);
		asked[i] = strdup(q);
	}
	for (r = 0; r < ROUNDS; r++) {
		double t0;
		size_t h = 0;

		t0 = now_ns();
		for (i = 0; i < lookups; i++)
			h += matcher_match(after, asked[i]) >= 0;
		t_after[r] = (now_ns() - t0) / (double)lookups;
		hits_after = h;
		h = 0;
		t0 = now_ns();
		for (i = 0; i < lookups; i++)
			h += before_matcher_match(before, asked[i]) != NULL;
		t_before[r] = (now_ns() - t0) / (double)lookups;
		hits_before = h;
	}
	qsort(t_after, ROUNDS, sizeof *t_after, compare_doubles);
	qsort(t_before, ROUNDS, sizeof *t_before, compare_doubles);
	printf("names=%zu lookups=%zu\n", matcher_count(after), lookups);
	printf("matcher: %.1f ns a lookup, %.1f bytes a name (resident), "
	       "%zu hits\n",
	       t_after[ROUNDS / 2], (double)(rss1 - rss0) / (double)n,
	       hits_after);
	printf("before: %.1f ns a lookup, %.1f bytes a name (resident), "
	       "%zu hits\n",
	       t_before[ROUNDS / 2], (double)(rss2 - rss1) / (double)n,
	       hits_before);
	matcher_free(after);
	before_matcher_free(before);
	return 0;
}
