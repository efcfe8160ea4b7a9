/*
 * points.h: a file's series listed in order, and a series' points gathered
 * whole and put in time order (for series whose chunks overlap in time).
 */
#ifndef TSFILE_POINTS_H
#define TSFILE_POINTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "reader.h"
#include "types.h"

/* Every series of a file, sorted by device then measurement (the order of
 * dump and export). */
typedef struct ToolSeriesList {
    TsfSeriesMeta *v;
    size_t n, cap;
} ToolSeriesList;

/* Fills *out (free with tool_series_list_free, also after an error); 0 or
 * the reader's error. */
int tool_series_list(TsfReader *r, ToolSeriesList *out);
/* The aligned time column of sm's device, or NULL. */
const TsfSeriesMeta *tool_series_time_column(const ToolSeriesList *l, const TsfSeriesMeta *sm);
void tool_series_list_free(ToolSeriesList *l);

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
