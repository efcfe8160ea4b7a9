/*
 * tsf_error.c: names of error codes and the first-error-wins detail record.
 */
#include "tsf_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *tsf_strerror(int rc)
{
    switch (rc) {
    case 0: return "success";
    case TSF_ECORRUPT: return "corrupt TsFile data";
    case TSF_EUNSUPPORTED: return "unsupported TsFile feature";
    case TSF_EINCOMPLETE: return "incomplete TsFile (no tail magic; never closed)";
    case TSF_EVERSION: return "unsupported TsFile version";
    case TSF_ENOTFOUND: return "not found";
    case TSF_EINVAL: return "invalid argument";
    default: return rc < 0 ? strerror(-rc) : "unknown error";
    }
}

int tsf_err_set(TsfErr *e, int code, int64_t offset, const char *fmt, ...)
{
    if (!e || e->code) return code;
    e->code = code;
    e->offset = offset;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return code;
}
