/*
 * log.c: one line per message, to stderr in the foreground (prefixed
 * "tsfs: ") and to syslog as a daemon.  As a daemon, stderr itself becomes
 * a pipe read by a thread that passes each line on to syslog, so what the
 * engine and libfuse print there (flush failures, expired files, ...) is
 * not lost.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

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

static pthread_t forwarder;
static bool forwarding;

static void *forward_stderr(void *arg)
{
    FILE *in = fdopen((int)(intptr_t)arg, "r");
    char line[4096];
    while (in && fgets(line, sizeof line, in)) {
        size_t n = strcspn(line, "\n");
        line[n] = 0;
        const char *msg = strncmp(line, "tsfs: ", 6) == 0 ? line + 6 : line;
        if (*msg) syslog(strstr(msg, "fail") || strstr(msg, "error") ? LOG_ERR : LOG_WARNING, "%s", msg);
    }
    if (in) fclose(in);
    return NULL;
}

int log_capture_stderr(void)
{
    int p[2];
    if (pipe(p) != 0) return -1;
    if (pthread_create(&forwarder, NULL, forward_stderr, (void *)(intptr_t)p[0]) != 0) {
        close(p[0]);
        close(p[1]);
        return -1;
    }
    forwarding = true;
    dup2(p[1], STDERR_FILENO);
    close(p[1]);
    setvbuf(stderr, NULL, _IOLBF, 0);
    return 0;
}

void log_release_stderr(void)
{
    if (!forwarding) return;
    fflush(stderr);
    /* stderr onto /dev/null ends the pipe: the thread reads its end and stops */
    FILE *nul = fopen("/dev/null", "w");
    if (nul) {
        dup2(fileno(nul), STDERR_FILENO);
        fclose(nul);
    } else {
        close(STDERR_FILENO);
    }
    pthread_join(forwarder, NULL);
    forwarding = false;
}
