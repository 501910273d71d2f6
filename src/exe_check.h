/* exe_check.h - whether a running program is the very file its path
 * names in dnsgated's own mount namespace (same device and inode), and
 * not deleted: what a rule naming a program may trust. A process in a
 * mount namespace of its own can show any path (a bind mount over
 * /usr/bin/firefox), and a deleted one any file that was there.
 * A process's verdict (pid and exe) and the path's own stat are
 * remembered for EXE_CHECK_MEMO_MS (a few of each): a busy app costs no
 * stat at all within that time. For that long after a program file is
 * replaced, a process started from the new file reads as unverified (its
 * query may be retried) and one still running the old file as verified;
 * a process that exits is still verified for that long under its pid
 * (which the kernel does not hand out again that fast). Loop only. */
#ifndef DNSGATE_EXE_CHECK_H
#define DNSGATE_EXE_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define EXE_CHECK_MEMO_MS 1000

struct exe_check;

struct exe_check *exe_check_new(void);
void exe_check_free(struct exe_check *c); /* NULL accepted */

/* Whether pid's /proc/PID/exe is the file exe names, now_ms a monotonic
 * clock in milliseconds. false for pid <= 0, an exe "(deleted)", or
 * either file not there. */
bool exe_check_verified(struct exe_check *c, pid_t pid, const char *exe,
                        uint64_t now_ms);

#endif
