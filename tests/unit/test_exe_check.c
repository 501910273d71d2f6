/* test_exe_check.c - a running program against the file its path names:
 * this test's own binary by a hard link to it, a path naming another
 * file, a deleted one; the path's stat remembered for a second, no
 * longer; a process's verdict likewise. */
#include "config.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/exe_check.h"
#include "tests/unit/check.h"

#define SKIP 77

int
main(void)
{
	char self[PATH_MAX], link_path[PATH_MAX + 16], other[PATH_MAX + 16];
	struct exe_check *c = exe_check_new();
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	int fd;

	if (n <= 0)
		return SKIP;
	self[n] = '\0';
	/* A second name for this very file, beside it (same filesystem). */
	snprintf(link_path, sizeof link_path, "%s.exe-check", self);
	snprintf(other, sizeof other, "%s.exe-check-other", self);
	unlink(link_path);
	unlink(other);
	if (link(self, link_path) < 0) {
		perror("link");
		exe_check_free(c);
		return SKIP;
	}
	fd = open(other, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, "x", 1) == 1);
	if (fd >= 0)
		close(fd);

	CHECK(exe_check_verified(c, getpid(), self, 1000));
	CHECK(exe_check_verified(c, getpid(), link_path, 1000));
	CHECK(!exe_check_verified(c, getpid(), other, 1000));
	CHECK(!exe_check_verified(c, getpid(), "/nonexistent/exe", 1000));
	CHECK(!exe_check_verified(c, getpid(), "/usr/bin/x (deleted)", 1000));
	CHECK(!exe_check_verified(c, 0, self, 1000));
	CHECK(!exe_check_verified(c, getpid(), "", 1000));

	/* The link replaced by another file: within the second the old
	 * stat stands, after it the new one does. (Asked once more first:
	 * the paths above may have taken its slot.) */
	CHECK(exe_check_verified(c, getpid(), link_path, 1000));
	CHECK_INT(rename(other, link_path), 0);
	CHECK(exe_check_verified(c, getpid(), link_path, 1999));
	CHECK(!exe_check_verified(c, getpid(), link_path, 2000));
	CHECK(!exe_check_verified(c, getpid(), link_path, 2500));
	/* A clock that went back is not trusted with the memo. */
	CHECK(!exe_check_verified(c, getpid(), link_path, 500));

	/* A process's verdict is remembered for the second: a child that
	 * exits is still verified under its pid within it, not after. */
	{
		pid_t child = fork();
		int status;

		if (child == 0) {
			pause();
			_exit(0);
		}
		CHECK(child > 0);
		if (child > 0) {
			CHECK(exe_check_verified(c, child, self, 5000));
			kill(child, SIGKILL);
			waitpid(child, &status, 0);
			CHECK(exe_check_verified(c, child, self, 5999));
			CHECK(!exe_check_verified(c, child, self, 6000));
		}
	}

	unlink(link_path);
	exe_check_free(c);
	exe_check_free(NULL);
	return check_exit();
}
