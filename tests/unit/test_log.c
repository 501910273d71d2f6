/* test_log.c - log lines go to the file, and after logrotate moved it
 * away, log_reopen starts a new one. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "src/log.h"
#include "tests/unit/check.h"
#include "tests/unit/fixtures.h"

static void
test_reopen(void)
{
	char dir[] = "/tmp/dnsgate-test-log.XXXXXX";
	char path[128], moved[128];
	char *text;

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof path, "%s/dnsgated.log", dir);
	snprintf(moved, sizeof moved, "%s/dnsgated.log.1", dir);

	/* On stderr there is nothing to reopen. */
	CHECK(log_file_path() == NULL);
	CHECK_INT(log_reopen(), 0);

	CHECK_INT(log_set_file(path), 0);
	CHECK_STR(log_file_path(), path);
	log_info("before the rotation");
	CHECK_INT(rename(path, moved), 0);
	log_info("still to the moved file");
	CHECK_INT(log_reopen(), 0);
	CHECK_STR(log_file_path(), path);
	log_info("after the rotation");

	text = fixture_read_file(moved);
	CHECK(text != NULL && strstr(text, "info: before the rotation\n"));
	CHECK(text != NULL && strstr(text, "info: still to the moved file\n"));
	CHECK(text != NULL && strstr(text, "after the rotation") == NULL);
	free(text);
	text = fixture_read_file(path);
	CHECK(text != NULL && strstr(text, "info: after the rotation\n"));
	CHECK(text != NULL && strstr(text, "before") == NULL);
	free(text);

	/* A directory that went away: the file in use stays in use. */
	CHECK_INT(unlink(moved), 0);
	CHECK_INT(unlink(path), 0);
	CHECK_INT(rmdir(dir), 0);
	errno = 0;
	CHECK_INT(log_reopen(), -1);
	CHECK_INT(errno, ENOENT);
	CHECK_STR(log_file_path(), path);
	log_info("into the unlinked file, no crash");

	CHECK_INT(log_set_file(NULL), 0);
	CHECK(log_file_path() == NULL);
}

static void
test_levels(void)
{
	CHECK_INT(log_get_level(), LOG_LEVEL_INFO);
	log_set_level(LOG_LEVEL_DEBUG);
	CHECK_INT(log_get_level(), LOG_LEVEL_DEBUG);
	log_set_level(LOG_LEVEL_INFO);
}

int
main(void)
{
	test_levels();
	test_reopen();
	return check_exit();
}
