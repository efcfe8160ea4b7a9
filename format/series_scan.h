/*
 * series_scan.h: all points of one series in a time range, page by page.
 *
 * Built on reader.h: chunks come from the series' metadata, pages are
 * skipped by chunk and page statistics when they fall outside [t_lo, t_hi],
 * and only overlapping pages are decompressed and decoded.  For an aligned
 * value column the device's time column supplies the timestamps: each value
 * chunk pairs with the time chunk of its chunk group (the nearest time
 * chunk before it in the file).
 */
#ifndef TSF_SERIES_SCAN_H
#define TSF_SERIES_SCAN_H

#include "reader.h"

/* Receives n points (times ascending within the call; values in the
 * physical form of the series' type, valid during the call only).
 * A non-zero return stops the scan and is returned by tsf_series_scan. */
typedef int (*TsfPointsFn)(void *ctx, const int64_t *times, const void *values, size_t n);

typedef struct TsfScanCounters {
    uint64_t pages_decoded; /* pages decompressed and decoded */
    uint64_t pages_skipped; /* pages skipped by statistics */
    uint64_t chunks_skipped;
} TsfScanCounters;

/* time_meta: the device's time column (name "") when sm is an aligned value
 * column, else NULL.  counters may be NULL. */
int tsf_series_scan(TsfReader *r, const TsfSeriesMeta *sm, const TsfSeriesMeta *time_meta, int64_t t_lo,
                    int64_t t_hi, TsfPointsFn fn, void *ctx, TsfScanCounters *counters);

#endif
