/* prompt_control.h - the prompts (prompt.h) on the control socket:
 * every connection watching the topic "prompt" is a prompter, shown
 * each prompt as it opens ({"event": "prompt", ...}) and each as it
 * closes ({"event": "prompt-closed", ...}); the first "answer" request
 * decides. A prompt's answer for a time or forever becomes a rule in
 * the daemon's own rules file, through the keep_rule hook. The protocol
 * is in man/dnsgate-control.7. Owns the prompts table; borrows the
 * control socket (which may be NULL: nobody can answer, every ask
 * gives the app's default and waits pending). */
#ifndef DNSGATE_PROMPT_CONTROL_H
#define DNSGATE_PROMPT_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "src/prompt.h"

struct control;
struct control_peer;
struct event_base;
struct json_out;

/* Writes rule (one line of the rules language) into the daemon's rules
 * file, with note (who answered) beside it, and asks for a reload: returns the number of the build that
 * will hold it, or -1 with a reason in err. */
typedef int64_t prompt_keep_rule_fn(void *arg, const char *rule,
				    const char *note, char *err, size_t errlen);

struct prompt_control;

struct prompt_control *prompt_control_new(struct event_base *base,
					  uint32_t timeout_ms,
					  prompt_keep_rule_fn *keep_rule,
					  void *keep_arg);
void prompt_control_free(struct prompt_control *pc);

/* The control socket prompters are on (NULL: none, yet or any more). */
void prompt_control_set_control(struct prompt_control *pc, struct control *c);

/* The daemon stops: the socket goes, and the queries still held are
 * left for the engine's drain (no default sent upstream now). */
void prompt_control_stop(struct prompt_control *pc);

/* The table query.c holds asked queries on (engine->prompts). */
struct prompts *prompt_control_prompts(struct prompt_control *pc);

/* {"command": "prompt"}: the asking client becomes a prompter; the
 * reply lists every open and pending prompt. Read access. */
int prompt_control_watch(struct prompt_control *pc, struct json_out *out,
			 char *err, size_t errlen);

/* {"command": "answer", "id": N, "action": "allow"|"block",
 * "duration": "once"|"app-exit"|"for"|"forever", "seconds": S (for),
 * "scope": "name"|"domain"|"app"}. Admin access. */
int prompt_control_answer(struct prompt_control *pc, const char *request,
			  size_t len, struct json_out *out, char *err,
			  size_t errlen);

/* control_watcher_gone_fn's work: when the last prompter went, open
 * prompts time out now rather than hold their apps for nobody. */
void prompt_control_watcher_gone(struct prompt_control *pc);

/* The rule an answer is kept as ("allow app=\"KEY\" name=NAME", with
 * for=Ns when for a time), into buf. Returns 0, or -1 with a reason in
 * err when it cannot be written as one (a control byte in the app key,
 * a name the rules language cannot hold). Exposed for its tests. */
int prompt_control_rule_text(const struct prompt_info *p,
			     const struct prompt_answer *a, char *buf,
			     size_t len, char *err, size_t errlen);

/* Sweeps ended answers (prompts_sweep): built is the newest build in
 * force; an app-exit answer ends when its cgroup is gone from tree. */
struct cgroup_tree;
void prompt_control_sweep(struct prompt_control *pc, int64_t built,
			  struct cgroup_tree *tree);

#endif
