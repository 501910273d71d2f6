/* nsswitch.c - finds nss-resolve on the hosts line of nsswitch.conf. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/nsswitch.h"

bool
nsswitch_hosts_uses_resolve(const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (f == NULL)
		return false;
	while (!found && getline(&line, &cap, f) != -1) {
		char *hash = strchr(line, '#'), *save, *word;

		if (hash != NULL)
			*hash = '\0';
		word = strtok_r(line, " \t\r\n", &save);
		if (word == NULL || strcmp(word, "hosts:") != 0)
			continue;
		/* Services, and "[ACTION=...]" between them. */
		while ((word = strtok_r(NULL, " \t\r\n", &save)) != NULL) {
			if (strcmp(word, "resolve") == 0)
				found = true;
		}
	}
	free(line);
	fclose(f);
	return found;
}
