/* control_send.c - the end-to-end tests' raw control-socket client:
 *   control_send SOCKET LINE   sends LINE as one request (anything: the
 *       tests send malformed ones), prints the reply line */
#include "config.h"

#include <stdio.h>

#include "src/control_client.h"

int
main(int argc, char **argv)
{
	static char reply[300 * 1024];
	char err[512];

	if (argc != 3) {
		fprintf(stderr, "usage: control_send SOCKET LINE\n");
		return 2;
	}
	if (control_call(argv[1], argv[2], reply, sizeof reply, 3000, err,
			 sizeof err) < 0) {
		printf("no reply: %s\n", err);
		return 1;
	}
	printf("%s\n", reply);
	return 0;
}
