/* ctl_rules.h - dnsgatectl's side of the rules commands: rules [list],
 * rules add, rules delete, the allow and block shortcuts, pause and
 * resume. Turns the command line into the control socket's request
 * (control.h) and prints the reply for people; dnsgatectl.c sends it. */
#ifndef DNSGATE_CTL_RULES_H
#define DNSGATE_CTL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Prints a reply (one JSON object, no "error" member) for people.
 * Returns dnsgatectl's exit status. */
typedef int ctl_print_fn(FILE *out, const char *reply);

/* Whether word is one of these commands. */
bool ctl_rules_is_command(const char *word);

/* argv[0] is the command, argv[1..argc) its arguments (a last --json
 * already taken off). Writes the request into buf and the printer for
 * people into *print. Returns 0, or -1 with a usage message in err. */
int ctl_rules_request(int argc, char **argv, char *buf, size_t len,
                      ctl_print_fn **print, char *err, size_t errlen);

/* The usage lines of these commands, for dnsgatectl's --help. */
void ctl_rules_usage(FILE *out);

#endif
