/* rules_store.h - the rules file dnsgated owns, 90-dnsgatectl.rules
 * beside the other rules files: the rules a user adds with dnsgatectl
 * (rules add, allow, block) and a prompt's "forever" answers. A rule is
 * checked by the rules files' own parser before it is written, and is
 * written in its canonical form (rule_format: for= becomes the until=
 * it stands for, so its end does not move when the file changes). Every
 * change replaces the file whole: a temporary file in the same
 * directory, fsync, rename, fsync of the directory; so a crash leaves
 * the old file or the new one, never half of one, and the reloader
 * (another thread) reads one of them whole. The file is mode 0644, owned
 * by root (when dnsgated runs as root). The temporary file's name starts
 * with '.', so a rules directory never reads it; one a crash left is
 * removed by the next change.
 * The file is small (a person's rules): each call reads and writes it
 * whole, on the caller's thread, in a few milliseconds (two fsyncs). */
#ifndef DNSGATE_RULES_STORE_H
#define DNSGATE_RULES_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "src/rule.h"
#include "src/rules_file.h"

struct config;

#define RULES_STORE_FILE RULES_OWNED_FILE

/* Where the owned file of cfg is: in the first directory the config's
 * rules name, else in rules.d beside the config file (then it is read
 * after the files the config names: policy.c). */
void rules_store_path(const struct config *cfg, char *buf, size_t len);

/* What an add did. */
struct rules_store_change {
	uint32_t id;   /* the rule's id (rule.h) */
	unsigned line; /* its line in the file */
	bool existed;  /* the same rule was there already: nothing was
	                  written */
	char text[RULES_FILE_LINE_MAX + 1]; /* the rule as written */
};

/* The most of a note that is written (rules_store_add). */
#define RULES_STORE_NOTE_MAX 200

/* Appends the rule rule (len bytes: the rules file's syntax, one rule,
 * no newline) to the file at path, creating it (with its header, and
 * its directory, mode 0755) when missing. ctx names the lists of the
 * policy in force and the time for= counts from (now). note, unless
 * NULL, says who added it ("dnsgatectl rules add", "prompt: block
 * forever"): it is written after the rule as a comment, with the time
 * (rules_store_note reads it back; comments do not change a rule's
 * id). Returns 0 with
 * out filled, or -1 with err set and the file as it was: a rule the
 * parser refuses (its reason, "rule:1:COLUMN: ..."), a rule already
 * past its until=, a file that does not read (fix it first), a write
 * that failed. */
int rules_store_add(const char *path, const char *rule, size_t len,
                    const struct rules_file_ctx *ctx, const char *note,
                    struct rules_store_change *out, char *err, size_t errlen);

/* Removes the rule whose id is id from the file at path (its line;
 * comments and other lines stay as they are). Returns 0 with out filled
 * (existed is true), 1 when no rule of the file has that id, or -1 with
 * err set and the file as it was. */
int rules_store_delete(const char *path, uint32_t id,
                       const struct rules_file_ctx *ctx,
                       struct rules_store_change *out, char *err,
                       size_t errlen);

/* Reads the file's rules into book (a missing file has none). Returns
 * their number, or -1 with err set. */
long rules_store_read(const char *path, struct rule_book *book,
                      const struct rules_file_ctx *ctx, char *err,
                      size_t errlen);

/* The comments that end the rule lines of the file at path (the notes
 * rules_store_add wrote, or a person's), read once for a listing. NULL
 * when the file cannot be read. */
struct rules_store_notes;
struct rules_store_notes *rules_store_notes_read(const char *path);
/* The comment ending line (1-based) without its '#', or "". n may be
 * NULL. */
const char *rules_store_note(const struct rules_store_notes *n,
                             unsigned line);
void rules_store_notes_free(struct rules_store_notes *n);

#endif
