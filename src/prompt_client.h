/* prompt_client.h - `dnsgatectl prompt`: a prompter on the control
 * socket. Shows each prompt (the app, its exe, pid and uid, the name,
 * the lists that know it) and answers it: from the terminal, a line per
 * prompt; or every prompt the same way (--answer), for scripts. */
#ifndef DNSGATE_PROMPT_CLIENT_H
#define DNSGATE_PROMPT_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "src/prompt.h"

/* Reads an answer as a person types it: ACTION [DURATION] [SCOPE], where
 * ACTION is allow or block (a, b), DURATION once (the default),
 * app-exit, forever, or "for" and a duration (for 2h), SCOPE name (the
 * default), domain or app. Returns 0, or -1 with a reason in err. */
int prompt_client_parse_answer(const char *text, struct prompt_answer *a,
			       char *err, size_t errlen);

/* The command: argv[0] is "prompt". Returns dnsgatectl's exit code. */
int prompt_client_main(const char *socket_path, int argc, char **argv);

#endif
