/* exe_check.c - a running program against the file its path names. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "src/exe_check.h"
#include "src/hash.h"
#include "src/xmalloc.h"

#define MEMO_SLOTS 16

struct named {
	uint64_t hash;
	char *path;       /* NULL: empty */
	uint64_t at_ms;   /* when it was stat'ed */
	bool exists;
	dev_t dev;
	ino_t ino;
};

struct exe_check {
	struct named memo[MEMO_SLOTS];
};

struct exe_check *
exe_check_new(void)
{
	return xcalloc(1, sizeof(struct exe_check));
}

void
exe_check_free(struct exe_check *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < MEMO_SLOTS; i++)
		free(c->memo[i].path);
	free(c);
}

/* The stat of path, from the memo when fresh. */
static const struct named *
named_stat(struct exe_check *c, const char *path, uint64_t now_ms)
{
	uint64_t h = hash_string(path);
	struct named *n = &c->memo[hash_fold(h) % MEMO_SLOTS];
	struct stat st;

	if (n->path != NULL && n->hash == h && strcmp(n->path, path) == 0 &&
	    now_ms >= n->at_ms && now_ms - n->at_ms < EXE_CHECK_MEMO_MS)
		return n;
	if (n->path == NULL || n->hash != h || strcmp(n->path, path) != 0) {
		free(n->path);
		n->path = xstrdup(path);
		n->hash = h;
	}
	n->at_ms = now_ms;
	n->exists = stat(path, &st) == 0;
	n->dev = n->exists ? st.st_dev : 0;
	n->ino = n->exists ? st.st_ino : 0;
	return n;
}

bool
exe_check_verified(struct exe_check *c, pid_t pid, const char *exe,
                   uint64_t now_ms)
{
	const struct named *n;
	struct stat running;
	char proc[64];

	if (pid <= 0 || exe[0] == '\0' || strstr(exe, " (deleted)") != NULL)
		return false;
	snprintf(proc, sizeof proc, "/proc/%ld/exe", (long)pid);
	if (stat(proc, &running) < 0)
		return false;
	n = named_stat(c, exe, now_ms);
	return n->exists && running.st_dev == n->dev &&
	       running.st_ino == n->ino;
}
