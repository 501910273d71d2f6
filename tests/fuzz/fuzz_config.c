/* fuzz_config.c - libFuzzer harness: dnsgate.conf text through
 * config_parse. A config that parses is printed (dnsgated -n), and what
 * is printed must parse again to the same config. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/config_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The config in its own syntax, in a malloc'd string. */
static char *
printed(const struct config *cfg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	config_print(cfg, f);
	fclose(f);
	return text;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512] = "", *text = malloc(size + 1), *first, *second;
	struct config *cfg, *again;

	memcpy(text, data, size);
	text[size] = '\0';
	cfg = config_parse(text, "fuzz.conf", err, sizeof err);
	free(text);
	if (cfg == NULL) {
		if (strncmp(err, "fuzz.conf:", 10) != 0)
			abort(); /* every error names the file */
		return 0;
	}
	first = printed(cfg);
	again = config_parse(first, "printed.conf", err, sizeof err);
	if (again == NULL) {
		fprintf(stderr, "the printed config does not parse: %s\n%s",
			err, first);
		abort();
	}
	second = printed(again);
	if (strcmp(first, second) != 0) {
		fprintf(stderr, "printed differently the second time:\n%s---\n%s",
			first, second);
		abort();
	}
	free(first);
	free(second);
	config_free(again);
	config_free(cfg);
	return 0;
}
