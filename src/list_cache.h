/* list_cache.h - the cached copies of subscribed lists, under list-cache
 * (default /var/lib/dnsgate/lists): NAME.list is the last good download
 * as it was served, NAME.meta what is known of it (its URL, ETag,
 * Last-Modified, when it was fetched, its count of entries). A restart
 * reads the copy from here and needs no network. Files are written aside
 * and renamed into place, so a crash leaves a whole copy, never half.
 *
 * A download is first written as NAME.list.new and NAME.meta.new (the
 * copy pending). A build claims the pair by renaming it to
 * NAME.list.judging and NAME.meta.judging, its own, reads it from there
 * and renames that pair over NAME.list and NAME.meta only once it
 * accepted the copy (it parsed and lost no more entries than max-shrink=
 * allows), else removes it. A pair is stored, claimed and accepted under
 * one process-wide lock, and a record gives its body's size and hash,
 * checked when the pair is claimed; so only a copy a build judged and
 * accepted ever becomes NAME.list, junk a server serves never reaches the
 * copy a restart loads, and NAME.meta describes NAME.list. */
#ifndef DNSGATE_LIST_CACHE_H
#define DNSGATE_LIST_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LIST_CACHE_DEFAULT_DIR "/var/lib/dnsgate/lists"
#define LIST_CACHE_URL_MAX 2048

struct list_cache_meta {
	char url[LIST_CACHE_URL_MAX]; /* where the copy came from */
	char etag[256];               /* its ETag, as served ("" = none) */
	char last_modified[64];       /* its Last-Modified, as served */
	int64_t fetched_at; /* wall-clock seconds: the copy was downloaded */
	int64_t checked_at; /* the server last confirmed it (200 or 304) */
	uint64_t entries;   /* entry lines in the copy (fetch_check) */
	uint32_t expires;   /* its "! Expires:" in seconds, 0 = none */
	uint64_t copy_id;   /* which download it is (unique, set by fetch) */
	bool have_digest;   /* size and hash are known (set when stored) */
	uint64_t size;      /* bytes of the body */
	uint64_t hash;      /* FNV-1a of the body */
};

/* DIR/NAME.EXT, for ext "list" or "meta"; the caller frees it. A list's
 * name is letters, digits and "-_.+" (config_file.c), so it is always
 * one file name inside dir. */
char *list_cache_path(const char *dir, const char *name, const char *ext);

/* Reads NAME.meta into m. Returns 0, or -1 with errno (ENOENT: no copy
 * yet) and a reason in err; a meta file that cannot be understood is
 * EINVAL. */
int list_cache_read_meta(const char *dir, const char *name,
                         struct list_cache_meta *m, char *err, size_t errlen);

/* Writes the len bytes of body as NAME.list and m (with body's size and
 * hash) as NAME.meta, creating dir (0755) and its parents when missing.
 * When body is NULL, a server confirmed the copy m describes: only
 * NAME.meta is rewritten (its checked-at), and only when it still
 * describes that copy (list_cache_same_copy), else -1 with errno ESTALE.
 * Returns 0, or -1 with a reason in err; the old files then stay as they
 * were. */
int list_cache_store(const char *dir, const char *name,
                     const struct list_cache_meta *m, const char *body,
                     size_t len, char *err, size_t errlen);

/* list_cache_store, into NAME.list.new and NAME.meta.new: the copy
 * pending, which replaces nothing yet (a pending pair not claimed yet is
 * replaced). body must not be NULL. */
int list_cache_store_pending(const char *dir, const char *name,
                             const struct list_cache_meta *m,
                             const char *body, size_t len, char *err,
                             size_t errlen);

/* Whether a and b are the record of the same download. */
bool list_cache_same_copy(const struct list_cache_meta *a,
                          const struct list_cache_meta *b);

/* Whether NAME.list is there and has the size m gives (when it gives
 * one). Returns 0, or -1 with a reason: m is then not its record. */
int list_cache_check_copy(const char *dir, const char *name,
                          const struct list_cache_meta *m, char *err,
                          size_t errlen);

/* The rest is for the policy, which knows a subscription by the path of
 * its copy, DIR/NAME.list. */

/* DIR/NAME.list.new, the copy pending, and DIR/NAME.list.judging, the
 * copy a build claimed; the caller frees them. */
char *list_cache_pending_path(const char *list_path);
char *list_cache_judging_path(const char *list_path);

/* Claims the copy pending for the build calling it: the pair NAME.*.new
 * renamed to NAME.*.judging, replacing a pair a build claimed before and
 * left there (it failed); with none pending, such a pair left is the one
 * claimed. Returns 1 with the claimed copy's record in m (its list at
 * list_cache_judging_path), 0 when there is none, or -1 with a reason
 * when the pair claimed cannot be used (its record unreadable, or its
 * body not the size and hash the record gives): it is then removed. */
int list_cache_claim(const char *list_path, struct list_cache_meta *m,
                     char *err, size_t errlen);

/* The copy claimed is accepted: NAME.list.judging renamed over NAME.list,
 * then NAME.meta.judging over NAME.meta. Returns 0, or -1 with a
 * reason. */
int list_cache_accept(const char *list_path, char *err, size_t errlen);

/* The copy claimed is refused: both files removed. */
void list_cache_discard(const char *list_path);

#endif
