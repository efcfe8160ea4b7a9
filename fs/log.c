/*
 * log.c: one line per message, to stderr in the foreground (prefixed
 * "tsfs: ") and to syslog as a daemon.
 */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include <time.h>

#include "tsfs.h"

static bool use_syslog;
static bool debug_on;

void log_init(bool to_syslog, bool debug)
{
    use_syslog = to_syslog;
    debug_on = debug;
    if (use_syslog) openlog("tsfs", LOG_PID, LOG_DAEMON);
}

bool log_debug_enabled(void)
{
    return debug_on;
}

void log_msg(int prio, const char *fmt, ...)
{
    if (prio == LOG_DEBUG && !debug_on) return;
    va_list ap;
    va_start(ap, fmt);
    if (use_syslog) {
        vsyslog(prio, fmt, ap);
    } else {
        char line[2048];
        vsnprintf(line, sizeof line, fmt, ap);
        fprintf(stderr, "tsfs: %s\n", line);
    }
    va_end(ap);
}

int64_t fs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
