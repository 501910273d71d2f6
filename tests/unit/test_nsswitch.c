/* test_nsswitch.c - the hosts line of nsswitch.conf. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "src/nsswitch.h"
#include "tests/unit/check.h"

static char path[] = "/tmp/dnsgate-nsswitch-XXXXXX";

static bool
uses_resolve(const char *text)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return nsswitch_hosts_uses_resolve(path);
}

int
main(void)
{
	int fd = mkstemp(path);

	if (fd < 0)
		return 99;
	close(fd);
	/* Debian 12 as installed, and with libnss-resolve added. */
	CHECK(!uses_resolve("passwd: files\nhosts:          files dns\n"));
	CHECK(uses_resolve("hosts: mymachines resolve [!UNAVAIL=return] "
			   "files myhostname dns\n"));
	CHECK(uses_resolve("hosts:\tfiles\tresolve\n"));
	/* Only the hosts line, only the whole word, not in a comment. */
	CHECK(!uses_resolve("networks: resolve\nhosts: files dns\n"));
	CHECK(!uses_resolve("hosts: files dns # resolve\n"));
	CHECK(!uses_resolve("#hosts: resolve\nhosts: files dns\n"));
	CHECK(!uses_resolve("hosts: files resolver dns\n"));
	CHECK(!uses_resolve(""));
	unlink(path);
	CHECK(!nsswitch_hosts_uses_resolve(path)); /* no file */
	return check_exit();
}
