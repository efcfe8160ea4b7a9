/*
 * points.h: a series' points gathered whole and put in time order (for
 * series whose chunks overlap in time).
 */
#ifndef TSFILE_POINTS_H
#define TSFILE_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "types.h"

typedef struct ToolPoints {
    TsfType type; /* set before the scan */
    int64_t *t;
    uint8_t *v; /* n values, physical form */
    size_t n, cap;
    TsfBuf bytes; /* binary values' bytes */
} ToolPoints;

/* A tsf_series_scan callback (ctx: ToolPoints*): appends the batch. */
int tool_points_gather(void *ctx, const int64_t *times, const void *values, size_t n);
/* Orders the points by time, stably (a repeated time keeps scan order);
 * latest_only keeps only the last point of each time.  Binary values then
 * point into p->bytes.  0 or -ENOMEM. */
int tool_points_order(ToolPoints *p, bool latest_only);
void tool_points_free(ToolPoints *p);

#endif
