/* list_format.h - which syntax a block list is written in: named in the
 * config (format=), or guessed from the head of the file. The guess reads
 * at most LIST_FORMAT_SAMPLE_LINES rules: an "[Adblock Plus 2.0]" header
 * or any adblock-only syntax ("||", "@@", "##", "^", "$", "!" comments)
 * makes a list adblock; else a first field that is an address makes it
 * hosts; else it is plain domains. */
#ifndef DNSGATE_LIST_FORMAT_H
#define DNSGATE_LIST_FORMAT_H

#include <stddef.h>

enum list_format {
	LIST_FORMAT_AUTO,    /* guess from the file (the default) */
	LIST_FORMAT_HOSTS,   /* "0.0.0.0 example.com" (plain lines too) */
	LIST_FORMAT_DOMAINS, /* "example.com", "*.example.com" (hosts lines
	                        too: one parser reads both) */
	LIST_FORMAT_ADBLOCK, /* "||example.com^", AdGuard DNS syntax */
};

/* Lines a guess looks at, comments and blank lines not counted. */
#define LIST_FORMAT_SAMPLE_LINES 1000

/* "auto", "hosts", "domains", "adblock". */
const char *list_format_name(enum list_format f);

/* Parses a format= value. Returns 0, or -1 for another word. */
int list_format_parse(const char *word, enum list_format *f);

/* The format one line points to, for a guess: LIST_FORMAT_AUTO when the
 * line says nothing (blank, a '#' comment). */
enum list_format list_format_of_line(const char *line);

/* Guesses the format of the file at path from its head. Returns 0 with
 * *f set (never AUTO), or -1 with errno set when it cannot be read. */
int list_format_detect(const char *path, enum list_format *f);

#endif
