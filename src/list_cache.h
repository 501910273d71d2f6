/* list_cache.h - the cached copies of subscribed lists, under list-cache
 * (default /var/lib/dnsgate/lists): NAME.list is the last good download
 * as it was served, NAME.meta what is known of it (its URL, ETag,
 * Last-Modified, when it was fetched, its count of entries). A restart
 * reads the copy from here and needs no network. Files are written aside
 * and renamed into place, so a crash leaves a whole copy, never half.
 *
 * A download is first written as NAME.list.new and NAME.meta.new (the
 * copy pending); the policy reads it from there and renames both over
 * NAME.list and NAME.meta only once it accepted the copy (it parsed and
 * lost no more entries than max-shrink= allows), else removes them. So
 * junk a server serves never reaches the copy a restart loads. */
#ifndef DNSGATE_LIST_CACHE_H
#define DNSGATE_LIST_CACHE_H

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

/* Writes m as NAME.meta and, when body is not NULL, the len bytes of body
 * as NAME.list (first, so a meta file never describes a copy that is not
 * there yet), creating dir (0755) and its parents when missing. Returns
 * 0, or -1 with a reason in err; the old files then stay as they were. */
int list_cache_store(const char *dir, const char *name,
                     const struct list_cache_meta *m, const char *body,
                     size_t len, char *err, size_t errlen);

/* list_cache_store, into NAME.meta.new and then NAME.list.new: the copy
 * pending, which replaces nothing yet. body must not be NULL. */
int list_cache_store_pending(const char *dir, const char *name,
                             const struct list_cache_meta *m,
                             const char *body, size_t len, char *err,
                             size_t errlen);

/* The rest is for the policy, which knows a subscription by the path of
 * its copy, DIR/NAME.list. */

/* list_path + ".new", the copy pending; the caller frees it. */
char *list_cache_pending_path(const char *list_path);

/* Reads the meta of the copy pending (NAME.meta.new) into m; as
 * list_cache_read_meta. */
int list_cache_read_pending_meta(const char *list_path,
                                 struct list_cache_meta *m, char *err,
                                 size_t errlen);

/* The copy pending is accepted: NAME.list.new renamed over NAME.list,
 * then NAME.meta.new over NAME.meta. Returns 0, or -1 with a reason. */
int list_cache_accept(const char *list_path, char *err, size_t errlen);

/* The copy pending is refused: both files removed. */
void list_cache_discard(const char *list_path);

#endif
