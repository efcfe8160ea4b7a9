/*
 * dump.c: `tsfile dump FILE`: every point as `device,measurement,time,value`,
 * sorted by device, then measurement (byte order), then time, in the
 * canonical form of the golden dumps.  Aligned null cells print nothing.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"
#include "series_scan.h"
#include "points.h"
#include "tool.h"

void tool_put_escaped(FILE *out, const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        switch (s[i]) {
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        default: putc_unlocked(s[i], out);
        }
    }
}

static void print_value(FILE *out, const ToolPoints *p, size_t i)
{
    switch (p->type) {
    case TSF_BOOLEAN: fputs(p->v[i] ? "true" : "false", out); break;
    case TSF_INT32:
    case TSF_DATE: fprintf(out, "%" PRId32, ((const int32_t *)p->v)[i]); break;
    case TSF_INT64:
    case TSF_TIMESTAMP: fprintf(out, "%" PRId64, ((const int64_t *)p->v)[i]); break;
    case TSF_FLOAT: fprintf(out, "%.9g", (double)((const float *)p->v)[i]); break;
    case TSF_DOUBLE: fprintf(out, "%.17g", ((const double *)p->v)[i]); break;
    case TSF_TEXT:
    case TSF_STRING: {
        const TsfBin *b = (const TsfBin *)p->v + i;
        tool_put_escaped(out, b->ptr, b->len);
        break;
    }
    case TSF_BLOB: {
        const TsfBin *b = (const TsfBin *)p->v + i;
        fputs("0x", out);
        for (uint32_t k = 0; k < b->len; k++) fprintf(out, "%02x", b->ptr[k]);
        break;
    }
    default: break;
    }
}

int cmd_dump(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: tsfile dump FILE\n", stderr);
        return 2;
    }
    const char *file = argv[1];
    TsfReader *r;
    TsfErr err = {0};
    int rc = tsf_reader_open(file, &r, &err);
    if (rc) return tool_fail(file, &err, rc);
    ToolSeriesList c;
    rc = tool_series_list(r, &c);
    if (rc) {
        tool_fail(file, tsf_reader_err(r), rc);
        goto out;
    }
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof(obuf));
    for (size_t i = 0; i < c.n && rc == 0; i++) {
        TsfSeriesMeta *sm = &c.v[i];
        if (sm->mask & TSF_MASK_TIME_COLUMN) continue;
        const TsfSeriesMeta *tm = NULL;
        if (sm->mask & TSF_MASK_VALUE_COLUMN) {
            tm = tool_series_time_column(&c, sm);
            if (!tm && sm->stats.count == 0) continue; /* all null, no time column */
            if (!tm) {
                fprintf(stderr, "tsfile: %s: aligned series %s.%s has no time column\n", file, sm->device,
                        sm->name);
                rc = 1;
                break;
            }
        }
        ToolPoints p = {.type = sm->type};
        rc = tsf_series_scan(r, sm, tm, INT64_MIN, INT64_MAX, tool_points_gather, &p, NULL);
        if (rc)
            tool_fail(file, tsf_reader_err(r), rc);
        else
            rc = tool_points_order(&p, false); /* every point, a repeated time in file order */
        for (size_t k = 0; k < p.n && rc == 0; k++) {
            fputs(sm->device, stdout);
            putchar(',');
            fputs(sm->name, stdout);
            printf(",%" PRId64 ",", p.t[k]);
            print_value(stdout, &p, k);
            putchar('\n');
        }
        tool_points_free(&p);
    }
out:
    tool_series_list_free(&c);
    tsf_reader_close(r);
    if (fflush(stdout) != 0) return 1;
    return rc ? 1 : 0;
}
