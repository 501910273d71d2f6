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

/* A process's verdict: pid running exe, verified or not at at_ms. */
struct running {
	pid_t pid;      /* 0: empty */
	uint64_t hash;  /* of exe */
	char *exe;
	uint64_t at_ms;
	bool verified;
};

struct exe_check {
	struct named memo[MEMO_SLOTS];
	struct running procs[MEMO_SLOTS];
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
	for (i = 0; i < MEMO_SLOTS; i++) {
		free(c->memo[i].path);
		free(c->procs[i].exe);
	}
	free(c);
}

static bool
fresh(uint64_t at_ms, uint64_t now_ms)
{
	return now_ms >= at_ms && now_ms - at_ms < EXE_CHECK_MEMO_MS;
}

/* The stat of path, from the memo when fresh. */
static const struct named *
named_stat(struct exe_check *c, const char *path, uint64_t now_ms)
{
	uint64_t h = hash_string(path);
	struct named *n = &c->memo[hash_fold(h) % MEMO_SLOTS];
	struct stat st;

	if (n->path != NULL && n->hash == h && strcmp(n->path, path) == 0 &&
	    fresh(n->at_ms, now_ms))
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
	uint64_t h;
	struct running *r;
	const struct named *n;
	struct stat running;
	char proc[64];

	if (pid <= 0 || exe[0] == '\0' || strstr(exe, " (deleted)") != NULL)
		return false;
	/* The same process asking again within the second (a pid is not
	 * reused that fast: pid_max is 4,194,304 on 64-bit systems). */
	h = hash_string(exe);
	r = &c->procs[(hash_fold(h) ^ (uint32_t)pid) % MEMO_SLOTS];
	if (r->pid == pid && r->hash == h && strcmp(r->exe, exe) == 0 &&
	    fresh(r->at_ms, now_ms))
		return r->verified;
	snprintf(proc, sizeof proc, "/proc/%ld/exe", (long)pid);
	if (stat(proc, &running) < 0)
		return false;
	n = named_stat(c, exe, now_ms);
	free(r->exe);
	r->pid = pid;
	r->hash = h;
	r->exe = xstrdup(exe);
	r->at_ms = now_ms;
	r->verified = n->exists && running.st_dev == n->dev &&
		      running.st_ino == n->ino;
	return r->verified;
}
