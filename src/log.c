/* log.c - timestamped, levelled lines to stderr or a file. */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "src/log.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static FILE *log_file;
static char *log_path; /* log_file's path, for log_reopen */
/* The policy is built in a thread (src/reloader.c) that logs too: one
 * line at a time, and never into a file being reopened. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

void
log_set_level(enum log_level level)
{
	current_level = level;
}

enum log_level
log_get_level(void)
{
	return current_level;
}

int
log_set_file(const char *path)
{
	FILE *f;
	char *copy;

	if (path == NULL) {
		pthread_mutex_lock(&log_lock);
		if (log_file != NULL)
			fclose(log_file);
		log_file = NULL;
		free(log_path);
		log_path = NULL;
		pthread_mutex_unlock(&log_lock);
		return 0;
	}
	copy = strdup(path);
	if (copy == NULL)
		return -1;
	f = fopen(path, "a");
	if (f == NULL) {
		free(copy);
		return -1;
	}
	setvbuf(f, NULL, _IOLBF, 0);
	pthread_mutex_lock(&log_lock);
	if (log_file != NULL)
		fclose(log_file);
	log_file = f;
	free(log_path);
	log_path = copy;
	pthread_mutex_unlock(&log_lock);
	return 0;
}

const char *
log_file_path(void)
{
	return log_path;
}

int
log_reopen(void)
{
	char *path = log_path;
	int ret;

	if (path == NULL)
		return 0;
	log_path = NULL; /* log_set_file frees the old copy otherwise */
	ret = log_set_file(path);
	if (ret < 0)
		log_path = path;
	else
		free(path);
	return ret;
}

static void log_vwrite(const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

static void
log_vwrite(const char *tag, const char *fmt, va_list ap)
{
	FILE *out;
	struct timespec now;
	struct tm tm;
	char stamp[32];

	pthread_mutex_lock(&log_lock);
	out = log_file != NULL ? log_file : stderr;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(out, "%s.%03ldZ %s ", stamp, now.tv_nsec / 1000000L, tag);
	vfprintf(out, fmt, ap);
	fputc('\n', out);
	fflush(out);
	pthread_mutex_unlock(&log_lock);
}

#define LOG_FUNCTION(name, level, tag)                                         \
	void name(const char *fmt, ...)                                        \
	{                                                                      \
		va_list ap;                                                    \
		if (current_level < (level))                                   \
			return;                                                \
		va_start(ap, fmt);                                             \
		log_vwrite(tag, fmt, ap);                                      \
		va_end(ap);                                                    \
	}

LOG_FUNCTION(log_error, LOG_LEVEL_ERROR, "error:")
LOG_FUNCTION(log_warn, LOG_LEVEL_WARN, "warning:")
LOG_FUNCTION(log_info, LOG_LEVEL_INFO, "info:")
LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG, "debug:")
LOG_FUNCTION(log_query, LOG_LEVEL_ERROR, "query:")
