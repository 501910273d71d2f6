/* log.h - the daemon's one place for messages.
 * Lines go to stderr (the journal under systemd) or to a file, each with a
 * UTC timestamp and a level; query decisions use log_query(). */
#ifndef DNSGATE_LOG_H
#define DNSGATE_LOG_H

#include <stdarg.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

/* Sets the level below which messages are dropped (default INFO). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);

/* Opens path for appending and sends every later line there; NULL means
 * stderr again. Returns 0, or -1 with errno set (logging stays as it was). */
int log_set_file(const char *path);

/* The file lines go to, or NULL for stderr. */
const char *log_file_path(void);

/* Opens the log file's path again, as a new file when logrotate moved the
 * old one away, and writes there from now on. Returns 0 (also when
 * logging to stderr: nothing to reopen), or -1 with errno set: the old
 * file stays in use. */
int log_reopen(void);

void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Query lines are written whatever the level: they are the product. */
void log_query(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
