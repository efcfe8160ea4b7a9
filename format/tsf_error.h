/*
 * tsf_error.h: error codes of the format library.
 *
 * Every action in format/ returns 0 on success or a negative code: either a
 * negative errno (-ENOMEM, -EIO, ...) or one of the private TSF_E* codes below.
 * The private codes live in a range no errno reaches (like LMDB's MDB_*), so one
 * int carries both and tsf_strerror() names either.
 *
 * Readers also keep a human-readable detail (what went wrong, at which file
 * offset) in a TsfErr, so tools can print one clear line.
 */
#ifndef TSF_ERROR_H
#define TSF_ERROR_H

#include <stdint.h>

#define TSF_ECORRUPT     (-30700) /* bytes do not follow the TsFile format */
#define TSF_EUNSUPPORTED (-30701) /* valid but not handled (unknown code, encryption) */
#define TSF_EINCOMPLETE  (-30702) /* no tail magic: never closed, needs recovery */
#define TSF_EVERSION     (-30703) /* format version other than 3 or 4 */
#define TSF_ENOTFOUND    (-30704) /* series or device not in the file */
#define TSF_EINVAL       (-30705) /* caller broke a precondition (order, type) */

/* Names a code returned by this library (private or errno). Never NULL. */
const char *tsf_strerror(int rc);

/* Detail of the last failure of an object: the code, a message and the
 * absolute file offset it concerns (-1 when there is none). */
typedef struct TsfErr {
    int code;       /* 0 when no error was recorded */
    int64_t offset; /* file offset of the fault, or -1 */
    char msg[200];  /* "bad chunk header marker 0x07" */
} TsfErr;

/* Records the first error only (later ones are consequences); returns code. */
int tsf_err_set(TsfErr *e, int code, int64_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
