/* list_format.c - names the list formats and guesses one from a file. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lists/list_format.h"

static const char *const format_names[] = {"auto", "hosts", "domains",
                                           "adblock"};

const char *
list_format_name(enum list_format f)
{
	return (size_t)f < sizeof format_names / sizeof *format_names
	           ? format_names[f]
	           : "?";
}

int
list_format_parse(const char *word, enum list_format *f)
{
	size_t i;

	for (i = 0; i < sizeof format_names / sizeof *format_names; i++)
		if (strcmp(word, format_names[i]) == 0) {
			*f = (enum list_format)i;
			return 0;
		}
	return -1;
}

static int
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The first field is an IPv4 or IPv6 address. */
static int
starts_with_address(const char *line)
{
	char field[64];
	unsigned char bytes[sizeof(struct in6_addr)];
	size_t n = 0;

	while (line[n] != '\0' && !is_blank(line[n]) && line[n] != '%')
		if (++n >= sizeof field)
			return 0;
	memcpy(field, line, n);
	field[n] = '\0';
	return inet_pton(AF_INET, field, bytes) == 1 ||
	       inet_pton(AF_INET6, field, bytes) == 1;
}

enum list_format
list_format_of_line(const char *line)
{
	while (is_blank(*line))
		line++;
	if (*line == '\0')
		return LIST_FORMAT_AUTO;
	if (strncasecmp(line, "[adblock", 8) == 0 || *line == '!' ||
	    strncmp(line, "||", 2) == 0 || strncmp(line, "@@", 2) == 0 ||
	    *line == '|' || strstr(line, "##") != NULL ||
	    strstr(line, "#@#") != NULL)
		return LIST_FORMAT_ADBLOCK;
	if (*line == '#')
		return LIST_FORMAT_AUTO;
	if (starts_with_address(line))
		return LIST_FORMAT_HOSTS;
	if (strpbrk(line, "^$") != NULL)
		return LIST_FORMAT_ADBLOCK;
	return LIST_FORMAT_DOMAINS;
}

int
list_format_detect(const char *path, enum list_format *f)
{
	size_t votes[LIST_FORMAT_ADBLOCK + 1] = {0, 0, 0, 0}, seen = 0;
	char *line = NULL;
	size_t size = 0;
	FILE *in = fopen(path, "re");

	if (in == NULL)
		return -1;
	while (seen < LIST_FORMAT_SAMPLE_LINES &&
	       getline(&line, &size, in) != -1) {
		const char *text = line;
		enum list_format kind;

		if (strncmp(text, "\xEF\xBB\xBF", 3) == 0)
			text += 3;
		kind = list_format_of_line(text);
		if (kind == LIST_FORMAT_AUTO)
			continue;
		/* One adblock-only line is enough: a hosts parser would
		 * misread every one of them. */
		if (kind == LIST_FORMAT_ADBLOCK) {
			votes[kind]++;
			break;
		}
		votes[kind]++;
		seen++;
	}
	free(line);
	fclose(in);
	if (votes[LIST_FORMAT_ADBLOCK] > 0)
		*f = LIST_FORMAT_ADBLOCK;
	else if (votes[LIST_FORMAT_HOSTS] >= votes[LIST_FORMAT_DOMAINS] &&
	         votes[LIST_FORMAT_HOSTS] > 0)
		*f = LIST_FORMAT_HOSTS;
	else
		*f = LIST_FORMAT_DOMAINS;
	return 0;
}
