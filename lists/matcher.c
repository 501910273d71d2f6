/* matcher.c - keyed fingerprints of names: a hash set while a list is
 * read, then one sorted array with a bucket index, matched by walking the
 * suffixes of the asked name.
 *
 * Names added in bulk (matcher_add_normalised_many: a 1,000,000-line
 * list) skip the set: their fingerprints are appended to one array that
 * grows by mremap (the kernel moves its pages, nothing is copied), then
 * sorted in place (radix, by the top bytes), rid of duplicates, and the
 * bucket index written after them in the same mapping, whose unused end
 * is given back. So a load peaks at its 8 bytes a name, where a set
 * three quarters full at most, then an array beside it, took 24.
 *
 * Both arrays are indexed by the top bits of the fingerprint, so the
 * hash set (linear probing) is already nearly in order and sealing it is
 * one pass and a short insertion sort. The sealed array is cut into
 * buckets of about MATCHER_BUCKET_NAMES names by the top bits too; a
 * lookup reads the bucket's two bounds, then scans its two cache lines:
 * 8.25 bytes a name, two memory reads, no division. (Interpolation search
 * over the bare array saves the quarter byte and costs three or four
 * dependent reads and a division each.) The big arrays are mapped with
 * mmap so that freeing one gives its memory back to the system at once
 * (malloc would keep it for later), which a reload of a large list needs
 * to stay under twice its size. */
#include "config.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lists/matcher.h"
#include "src/siphash.h"
#include "src/xmalloc.h"

#define NAME_MAX_LENGTH 253
#define LABEL_MAX_LENGTH 63
#define INITIAL_SET_BITS 10
#define MATCHER_BUCKET_NAMES 16
#define PENDING_MIN 8192 /* entries: the first mapping, 64 KiB */
#define RADIX_SMALL 48   /* runs this short are insertion-sorted */

struct matcher {
	/* Building: the hash set, 0 marking an empty slot (a fingerprint
	 * of 0 is stored as 1). */
	uint64_t *set;
	unsigned set_bits; /* capacity 2^set_bits */
	size_t set_count;
	/* Bulk adds: fingerprints in no order, duplicates too; packed by
	 * the first question asked (settle). */
	uint64_t *pending;
	size_t n_pending, pending_cap; /* entries used, mapped */
	/* Sealed: n fingerprints in order, then 2^bucket_bits + 1 bucket
	 * starts, in one mapping of mapped bytes. */
	uint64_t *sorted;
	uint32_t *buckets;
	size_t n;
	unsigned bucket_bits;
	size_t mapped;
};

static struct siphash_key matcher_key;
static pthread_once_t matcher_key_once = PTHREAD_ONCE_INIT;

static void
draw_key(void)
{
	siphash_key_random(&matcher_key);
}

static void *
map_zeroed(size_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		/* As xmalloc: out of memory is not survivable. */
		fprintf(stderr, "dnsgate: out of memory mapping %zu bytes\n",
		        bytes);
		abort();
	}
	return p;
}

static inline char
ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Letters, digits, '-' and '_', after lower-casing. */
static const unsigned char name_chars[256] = {
    ['-'] = 1, ['_'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1,
    ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
    ['g'] = 1, ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1,
    ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1,
};

/* Lower-cases domain into out (NAME_MAX_LENGTH + 1 bytes) without its
 * trailing dot and checks it. Returns the length, or -1 with *reason. */
static int
normalise_name(const char *domain, char *out, const char **reason)
{
	size_t length = strnlen(domain, NAME_MAX_LENGTH + 2);
	size_t i, label = 0;

	if (length > 0 && domain[length - 1] == '.')
		length--;
	if (length == 0) {
		*reason = "empty domain name";
		return -1;
	}
	if (length > NAME_MAX_LENGTH) {
		*reason = "domain name longer than 253 characters";
		return -1;
	}
	for (i = 0; i < length; i++) {
		char c = ascii_lower(domain[i]);

		if (c == '.') {
			if (label == 0) {
				*reason = "empty label in domain name";
				return -1;
			}
			label = 0;
		} else if (!name_chars[(unsigned char)c]) {
			*reason = "character other than letter, digit, '-' "
			          "or '_' in domain name";
			return -1;
		} else if (++label > LABEL_MAX_LENGTH) {
			*reason = "label longer than 63 characters";
			return -1;
		}
		out[i] = c;
	}
	if (label == 0) {
		/* Only reachable with two trailing dots ("a.."). */
		*reason = "empty label in domain name";
		return -1;
	}
	out[length] = '\0';
	return (int)length;
}

static inline uint64_t
fingerprint(const char *name, size_t length)
{
	uint64_t fp = siphash24(&matcher_key, name, length);

	return fp != 0 ? fp : 1;
}

/* --- the hash set ------------------------------------------------------ */

static inline size_t
home_slot(uint64_t fp, unsigned bits)
{
	return bits == 0 ? 0 : (size_t)(fp >> (64 - bits));
}

static void
set_alloc(struct matcher *m, unsigned bits)
{
	size_t bytes = sizeof *m->set << bits;

	m->set = map_zeroed(bytes);
	/* Inserts land anywhere in it: huge pages spare a TLB miss each,
	 * where the kernel has them to give (a hint only). */
	if (bytes >= ((size_t)2 << 20))
		(void)madvise(m->set, bytes, MADV_HUGEPAGE);
	m->set_bits = bits;
	m->set_count = 0;
}

/* Returns true when fp was added, false when it was there. */
static bool
set_insert(struct matcher *m, uint64_t fp)
{
	size_t mask = ((size_t)1 << m->set_bits) - 1;
	size_t i = home_slot(fp, m->set_bits);

	while (m->set[i] != 0) {
		if (m->set[i] == fp)
			return false;
		i = (i + 1) & mask;
	}
	m->set[i] = fp;
	m->set_count++;
	return true;
}

static bool
set_contains(const struct matcher *m, uint64_t fp)
{
	size_t mask = ((size_t)1 << m->set_bits) - 1;
	size_t i = home_slot(fp, m->set_bits);

	while (m->set[i] != 0) {
		if (m->set[i] == fp)
			return true;
		i = (i + 1) & mask;
	}
	return false;
}

/* Into 2^bits slots: three quarters full at most. */
static void
set_grow(struct matcher *m, unsigned bits)
{
	uint64_t *old = m->set;
	size_t capacity = (size_t)1 << m->set_bits, i;

	set_alloc(m, bits);
	for (i = 0; i < capacity; i++)
		if (old[i] != 0)
			set_insert(m, old[i]);
	munmap(old, capacity * sizeof *old);
}

/* --- the sealed array --------------------------------------------------- */

static bool
sorted_contains(const struct matcher *m, uint64_t fp)
{
	size_t b = home_slot(fp, m->bucket_bits);
	uint32_t i = m->buckets[b], end = m->buckets[b + 1];

	for (; i < end; i++)
		if (m->sorted[i] >= fp)
			return m->sorted[i] == fp;
	return false;
}

static void
release_sorted(struct matcher *m)
{
	if (m->sorted != NULL)
		munmap(m->sorted, m->mapped);
	m->sorted = NULL;
	m->buckets = NULL;
	m->n = 0;
	m->mapped = 0;
}

/* Puts every fingerprint of the set into out in order: natives of the
 * first cluster, the rest of the table, then what wrapped round from its
 * end into the first cluster; insertion sort mends the order within
 * clusters. */
static void
set_to_sorted(const struct matcher *m, uint64_t *out)
{
	size_t capacity = (size_t)1 << m->set_bits, first_empty = 0, i, n = 0;

	while (m->set[first_empty] != 0)
		first_empty++;
	for (i = 0; i < first_empty; i++)
		if (home_slot(m->set[i], m->set_bits) <= i)
			out[n++] = m->set[i];
	for (i = first_empty; i < capacity; i++)
		if (m->set[i] != 0)
			out[n++] = m->set[i];
	for (i = 0; i < first_empty; i++)
		if (home_slot(m->set[i], m->set_bits) > i)
			out[n++] = m->set[i];
	for (i = 1; i < n; i++) {
		uint64_t v = out[i];
		size_t j = i;

		while (j > 0 && out[j - 1] > v) {
			out[j] = out[j - 1];
			j--;
		}
		out[j] = v;
	}
}

/* --- bulk adds, sorted in place ---------------------------------------- */

/* Room for at least want entries in the pending array. mremap moves the
 * mapping's pages without copying them, so growing costs no second
 * copy's memory. */
static void
pending_reserve(struct matcher *m, size_t want)
{
	size_t cap = m->pending_cap ? m->pending_cap : PENDING_MIN;
	void *p;

	while (cap < want)
		cap *= 2;
	if (cap == m->pending_cap)
		return;
	if (m->pending == NULL)
		p = map_zeroed(cap * sizeof *m->pending);
	else
		p = mremap(m->pending, m->pending_cap * sizeof *m->pending,
		           cap * sizeof *m->pending, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		fprintf(stderr, "dnsgate: out of memory growing a list to %zu "
		                "names\n",
		        cap);
		abort();
	}
	m->pending = p;
	m->pending_cap = cap;
}

static void
insertion_sort(uint64_t *a, size_t n)
{
	size_t i, j;

	for (i = 1; i < n; i++) {
		uint64_t v = a[i];

		for (j = i; j > 0 && a[j - 1] > v; j--)
			a[j] = a[j - 1];
		a[j] = v;
	}
}

/* Sorts a in place by the byte at shift and below: an MSD radix sort
 * that permutes within the array (American flag sort), no second array.
 * Keyed fingerprints are uniform: two passes leave runs of a few. */
static void
radix_sort(uint64_t *a, size_t n, unsigned shift)
{
	size_t count[256] = {0}, start[257], next[256], i;
	unsigned b;

	if (n <= RADIX_SMALL) {
		insertion_sort(a, n);
		return;
	}
	for (i = 0; i < n; i++)
		count[(a[i] >> shift) & 0xff]++;
	start[0] = 0;
	for (b = 0; b < 256; b++) {
		start[b + 1] = start[b] + count[b];
		next[b] = start[b];
	}
	for (b = 0; b < 256; b++) {
		while (next[b] < start[b + 1]) {
			uint64_t v = a[next[b]];
			unsigned d = (unsigned)(v >> shift) & 0xff;

			/* Each value goes to its byte's next free place,
			 * the one there taken out in turn. */
			while (d != b) {
				uint64_t t = a[next[d]];

				a[next[d]++] = v;
				v = t;
				d = (unsigned)(v >> shift) & 0xff;
			}
			a[next[b]++] = v;
		}
	}
	if (shift == 0)
		return;
	for (b = 0; b < 256; b++)
		if (count[b] > 1)
			radix_sort(a + start[b], count[b], shift - 8);
}

static void release_sorted(struct matcher *m);

/* The set's fingerprints (or the sealed array's) join the pending ones,
 * which are sorted, rid of duplicates and made the sealed array in their
 * own mapping. */
static void
seal_pending(struct matcher *m)
{
	size_t i, n, b, nbuckets, bytes;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	unsigned bits = 0;
	uint64_t *a;

	if (m->set != NULL) {
		size_t capacity = (size_t)1 << m->set_bits;

		pending_reserve(m, m->n_pending + m->set_count);
		for (i = 0; i < capacity; i++)
			if (m->set[i] != 0)
				m->pending[m->n_pending++] = m->set[i];
		munmap(m->set, capacity * sizeof *m->set);
		m->set = NULL;
		m->set_count = 0;
	}
	if (m->sorted != NULL) {
		pending_reserve(m, m->n_pending + m->n);
		memcpy(m->pending + m->n_pending, m->sorted,
		       m->n * sizeof *m->sorted);
		m->n_pending += m->n;
		release_sorted(m);
	}
	a = m->pending;
	radix_sort(a, m->n_pending, 56);
	for (i = 0, n = 0; i < m->n_pending; i++)
		if (n == 0 || a[n - 1] != a[i])
			a[n++] = a[i];
	while (((size_t)MATCHER_BUCKET_NAMES << bits) < n)
		bits++;
	nbuckets = (size_t)1 << bits;
	bytes = n * sizeof *a + (nbuckets + 1) * sizeof(uint32_t);
	pending_reserve(m, (bytes + sizeof *a - 1) / sizeof *a);
	a = m->pending;
	m->sorted = a;
	m->buckets = (uint32_t *)(a + n);
	m->bucket_bits = bits;
	m->n = n;
	for (i = 0, b = 0; b < nbuckets; b++) {
		while (i < n && home_slot(a[i], bits) < b)
			i++;
		m->buckets[b] = (uint32_t)i;
	}
	m->buckets[nbuckets] = (uint32_t)n;
	/* The unused end of the mapping goes back to the system. */
	m->mapped = (bytes + page - 1) / page * page;
	if (m->mapped < m->pending_cap * sizeof *a)
		munmap((char *)a + m->mapped,
		       m->pending_cap * sizeof *a - m->mapped);
	m->pending = NULL;
	m->n_pending = m->pending_cap = 0;
}

void
matcher_seal(struct matcher *m)
{
	size_t n = m->set_count, i, b, nbuckets;
	unsigned bits = 0;

	if (m->pending != NULL) {
		seal_pending(m);
		return;
	}
	if (m->set == NULL)
		return;
	while (((size_t)MATCHER_BUCKET_NAMES << bits) < n)
		bits++;
	nbuckets = (size_t)1 << bits;
	m->mapped = n * sizeof *m->sorted + (nbuckets + 1) * sizeof(uint32_t);
	m->sorted = map_zeroed(m->mapped);
	m->buckets = (uint32_t *)(m->sorted + n);
	m->bucket_bits = bits;
	m->n = n;
	set_to_sorted(m, m->sorted);
	for (i = 0, b = 0; b < nbuckets; b++) {
		while (i < n && home_slot(m->sorted[i], bits) < b)
			i++;
		m->buckets[b] = (uint32_t)i;
	}
	m->buckets[nbuckets] = (uint32_t)n;
	munmap(m->set, sizeof *m->set << m->set_bits);
	m->set = NULL;
	m->set_count = 0;
}

/* A question asked of a matcher with bulk adds packs them first. An
 * unsealed matcher belongs to the one thread building it (matcher.h), so
 * writing it here is that thread's own doing. */
static const struct matcher *
settle(const struct matcher *m)
{
	if (m->n_pending > 0)
		matcher_seal((struct matcher *)m);
	return m;
}

/* A sealed matcher takes adds again: its array back into a set. */
static void
unseal(struct matcher *m)
{
	unsigned bits = INITIAL_SET_BITS;
	size_t i;

	if (m->n_pending > 0)
		seal_pending(m); /* then all of it in the sealed array */

	while (((size_t)3 << bits) / 4 <= m->n)
		bits++;
	set_alloc(m, bits);
	for (i = 0; i < m->n; i++)
		set_insert(m, m->sorted[i]);
	release_sorted(m);
}

/* --- the contract ------------------------------------------------------- */

struct matcher *
matcher_new(void)
{
	struct matcher *m = xcalloc(1, sizeof *m);

	pthread_once(&matcher_key_once, draw_key);
	set_alloc(m, INITIAL_SET_BITS);
	return m;
}

void
matcher_free(struct matcher *m)
{
	if (m == NULL)
		return;
	if (m->set != NULL)
		munmap(m->set, sizeof *m->set << m->set_bits);
	if (m->pending != NULL)
		munmap(m->pending, m->pending_cap * sizeof *m->pending);
	release_sorted(m);
	free(m);
}

int
matcher_check(const char *domain, const char **reason)
{
	char name[NAME_MAX_LENGTH + 1];

	return normalise_name(domain, name, reason) < 0 ? -1 : 0;
}

int
matcher_normalise(const char *domain, char *out, const char **reason)
{
	return normalise_name(domain, out, reason);
}

int
matcher_add_normalised(struct matcher *m, const char *name, size_t length)
{
	if (m->set == NULL || m->n_pending > 0)
		unseal(m); /* whether it is there is known from a set */
	if (m->set_count + 1 > ((size_t)3 << m->set_bits) / 4)
		set_grow(m, m->set_bits + 1);
	return set_insert(m, fingerprint(name, length)) ? 1 : 0;
}

size_t
matcher_add_normalised_many(struct matcher *m, const char *const *names,
                            const size_t *lengths, size_t n)
{
	size_t i;

	pending_reserve(m, m->n_pending + n);
	for (i = 0; i < n; i++)
		m->pending[m->n_pending++] = fingerprint(names[i], lengths[i]);
	return n;
}

int
matcher_add(struct matcher *m, const char *domain, const char **reason)
{
	char name[NAME_MAX_LENGTH + 1];
	int length = normalise_name(domain, name, reason);

	if (length < 0)
		return -1;
	return matcher_add_normalised(m, name, (size_t)length);
}

void
matcher_reserve(struct matcher *m, size_t n)
{
	/* Address space only: untouched pages take no memory. */
	pending_reserve(m, m->n_pending + n);
}

static bool
contains(const struct matcher *m, uint64_t fp)
{
	return m->set != NULL ? set_contains(m, fp) : sorted_contains(m, fp);
}

/* The asked name lower-cased into buf without its trailing dot; returns
 * its length, or 0 when it matches nothing. */
static size_t
asked_name(const char *name, char *buf)
{
	size_t length = strnlen(name, NAME_MAX_LENGTH + 2), i;

	if (length > 0 && name[length - 1] == '.')
		length--;
	if (length > NAME_MAX_LENGTH)
		return 0;
	for (i = 0; i < length; i++)
		buf[i] = ascii_lower(name[i]);
	return length;
}

/* Where each place of fp in m is, fetched from memory ahead of the
 * lookups: a name's suffixes are looked up in parallel, not one miss
 * after the other. */
static void
prefetch(const struct matcher *m, uint64_t fp)
{
	if (m->set != NULL)
		__builtin_prefetch(&m->set[home_slot(fp, m->set_bits)]);
	else
		__builtin_prefetch(
		    &m->sorted[m->buckets[home_slot(fp, m->bucket_bits)]]);
}

int
matcher_match(const struct matcher *m, const char *name)
{
	char buf[NAME_MAX_LENGTH + 1];
	uint64_t fps[(NAME_MAX_LENGTH + 1) / 2];
	uint8_t starts[(NAME_MAX_LENGTH + 1) / 2];
	size_t length = asked_name(name, buf), start, n = 0, i;

	if (length == 0 || matcher_count(m) == 0)
		return -1;
	/* Every suffix hashed and its place fetched, then the whole name
	 * first, then each parent: the nearest listed one wins. An empty
	 * label ("a..b") gives no suffix to try. */
	for (start = 0; start < length;) {
		if (buf[start] != '.') {
			starts[n] = (uint8_t)start;
			fps[n] = fingerprint(buf + start, length - start);
			prefetch(m, fps[n]);
			n++;
		}
		while (start < length && buf[start] != '.')
			start++;
		start++;
	}
	for (i = 0; i < n; i++)
		if (contains(m, fps[i]))
			return starts[i];
	return -1;
}

int
matcher_match_exact(const struct matcher *m, const char *name)
{
	char buf[NAME_MAX_LENGTH + 1];
	size_t length = asked_name(name, buf);

	if (length == 0 || matcher_count(m) == 0)
		return -1;
	return contains(m, fingerprint(buf, length)) ? 0 : -1;
}

size_t
matcher_count(const struct matcher *m)
{
	m = settle(m); /* and so before every lookup */
	return m->set != NULL ? m->set_count : m->n;
}

size_t
matcher_memory(const struct matcher *m)
{
	m = settle(m);
	return m->set != NULL ? sizeof *m->set << m->set_bits : m->mapped;
}
