/*
 * sketch.c: `tsfile sketch FILE`: the structure of a TsFile for humans
 * debugging it: the data section record by record (chunk groups, chunks,
 * pages with their sizes and statistics), then the index (each series with
 * its statistics and chunk offsets) and the tail.  Works on unclosed files
 * too (the data section is walked without the index).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "data_scan.h"
#include "reader.h"
#include "tool.h"

static void print_stats(const TsfStats *st)
{
    if (st->count == 0) {
        printf("count 0");
        return;
    }
    printf("count %u time %" PRId64 "..%" PRId64, st->count, st->start, st->end);
    switch (st->type) {
    case TSF_INT32:
    case TSF_DATE: printf(" min %d max %d", st->v.i32.min, st->v.i32.max); break;
    case TSF_INT64:
    case TSF_TIMESTAMP: printf(" min %" PRId64 " max %" PRId64, st->v.i64.min, st->v.i64.max); break;
    case TSF_FLOAT: printf(" min %.9g max %.9g", (double)st->v.f32.min, (double)st->v.f32.max); break;
    case TSF_DOUBLE: printf(" min %.17g max %.17g", st->v.f64.min, st->v.f64.max); break;
    case TSF_BOOLEAN: printf(" trues %" PRId64, st->v.b.sum); break;
    default: break;
    }
}

static void sketch_pages(TsfReader *r, const TsfRecord *rec)
{
    TsfChunk c;
    if (tsf_chunk_open(r, rec->offset, &c)) return;
    TsfPage p;
    int k;
    uint32_t i = 0;
    while ((k = tsf_chunk_next_page(&c, &p)) == 1) {
        printf("%10" PRIu64 " |     page %u: uncompressed %u, compressed %u", p.offset, i++, p.h.uncompressed,
               p.h.compressed);
        if (p.h.uncompressed == 0) printf(" (all null)");
        if (p.h.has_stats) {
            printf(", ");
            print_stats(&p.h.stats);
        }
        putchar('\n');
    }
    tsf_chunk_close(&c);
}

static int print_series(void *ctx, const TsfSeriesMeta *sm)
{
    (void)ctx;
    printf("           |   %s.%.*s %s%s, %zu chunk%s, ", sm->device, (int)sm->name_len, sm->name,
           tsf_type_name(sm->type),
           sm->mask & TSF_MASK_TIME_COLUMN ? " (aligned time column)"
                                           : (sm->mask & TSF_MASK_VALUE_COLUMN ? " (aligned)" : ""),
           sm->nchunks, sm->nchunks == 1 ? "" : "s");
    print_stats(&sm->stats);
    printf("\n           |     chunks at");
    for (size_t i = 0; i < sm->nchunks; i++) printf(" %" PRIu64, sm->chunks[i].offset);
    putchar('\n');
    return 0;
}

int cmd_sketch(int argc, char **argv)
{
    if (argc != 2) {
        fputs("usage: tsfile sketch FILE\n", stderr);
        return 2;
    }
    const char *file = argv[1];
    TsfReader *data;
    TsfErr err = {0};
    int rc = tsf_reader_open_data(file, &data, &err);
    if (rc) return tool_fail(file, &err, rc);
    printf("file %s: %" PRIu64 " bytes, format version %d\n", file, tsf_reader_file_size(data),
           tsf_reader_version(data));
    printf("%10d | head: magic \"TsFile\", version %d\n", 0, tsf_reader_version(data));
    uint64_t pos = TSF_HEAD_LEN;
    TsfRecord rec = {0};
    int k;
    bool separator = false;
    while (!separator && (k = tsf_data_next(data, &pos, &rec)) == 1) {
        switch (rec.kind) {
        case TSF_REC_CHUNK_GROUP:
            printf("%10" PRIu64 " | chunk group: device %s\n", rec.offset, (const char *)rec.device.data);
            break;
        case TSF_REC_CHUNK:
            printf("%10" PRIu64 " |   chunk %s%s (marker 0x%02x): %s %s %s, %u data bytes\n", rec.offset,
                   rec.chunk.name_len ? (const char *)rec.name.data : "\"\"",
                   rec.chunk.marker & TSF_MASK_TIME_COLUMN ? " (time column)" : "", rec.chunk.marker,
                   tsf_type_name(rec.chunk.type), tsf_encoding_name(rec.chunk.encoding),
                   tsf_compression_name(rec.chunk.compression), rec.chunk.data_size);
            sketch_pages(data, &rec);
            break;
        case TSF_REC_PLAN_INDEX:
            printf("%10" PRIu64 " | plan index range %" PRId64 "..%" PRId64 "\n", rec.offset, rec.plan_min,
                   rec.plan_max);
            break;
        case TSF_REC_SEPARATOR:
            printf("%10" PRIu64 " | separator: index area starts\n", rec.offset);
            separator = true;
            break;
        }
    }
    tsf_record_free(&rec);
    int status = 0;
    if (!separator) {
        const TsfErr *e = tsf_reader_err(data);
        printf("%10" PRIu64 " | data section ends without a separator%s%s\n", pos, e->code ? ": " : "",
               e->code ? e->msg : "");
        status = 1;
    }
    tsf_reader_close(data);
    if (!separator) return status;

    TsfReader *r;
    memset(&err, 0, sizeof(err));
    rc = tsf_reader_open(file, &r, &err);
    if (rc) return tool_fail(file, &err, rc);
    printf("           | series (from the index):\n");
    rc = tsf_reader_foreach_series(r, print_series, NULL);
    if (rc) status = tool_fail(file, tsf_reader_err(r), rc);
    uint64_t size = tsf_reader_file_size(r);
    printf("%10" PRIu64 " | tail: TsFileMetadata size, magic \"TsFile\"\n", size - 10);
    tsf_reader_close(r);
    return status;
}
