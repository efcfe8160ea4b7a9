/*
 * data_scan.c: reads the data section one record at a time (data_scan.h).
 * A chunk's pages are skipped by its dataSize after checking they lie in
 * the file, so a walk costs one small read per record.
 */
#include "data_scan.h"

#include <stdlib.h>
#include <string.h>

void tsf_record_free(TsfRecord *rec)
{
    tsf_buf_free(&rec->device);
    tsf_buf_free(&rec->name);
}

int tsf_data_next(TsfReader *r, uint64_t *pos, TsfRecord *rec)
{
    uint64_t size = tsf_reader_file_size(r), at = *pos;
    if (at >= size) return 0;
    uint8_t head[512];
    size_t got = size - at < sizeof(head) ? (size_t)(size - at) : sizeof(head);
    int rc = tsf_reader_pread(r, at, got, head);
    if (rc) return rc;
    rec->offset = at;
    uint8_t m = head[0];
    TsfCursor c = tsf_cursor(head + 1, got - 1);
    if (m == TSF_MARK_CHUNK_GROUP) {
        rec->kind = TSF_REC_CHUNK_GROUP;
        /* device ids are short; a longer one is read exactly */
        uint8_t *big = NULL;
        if (got == sizeof(head) && size - at > got) {
            TsfCursor lc = c;
            uint32_t n = tsf_cur_uvarint(&lc);
            if (!lc.err && n / 2 + 16 > got && n / 2 < (1u << 24)) {
                size_t want = n / 2 + 16 < size - at ? n / 2 + 16 : (size_t)(size - at);
                TsfBuf tmp = TSF_BUF_INIT;
                if (tsf_buf_reserve(&tmp, want) && tsf_reader_pread(r, at, want, tmp.data) == 0) {
                    big = tmp.data;
                    c = tsf_cursor(big + 1, want - 1);
                } else {
                    tsf_buf_free(&tmp);
                }
            }
        }
        rc = tsf_device_id_read(&c, tsf_reader_version(r), &rec->device);
        rec->next = at + 1 + (uint64_t)(c.p - (big ? big + 1 : head + 1));
        free(big);
        if (rc || c.err) return tsf_reader_fail(r, TSF_ECORRUPT, at, "bad chunk group header");
        tsf_buf_put_u8(&rec->device, 0);
        rec->device.len--;
    } else if (m == TSF_MARK_PLAN_INDEX) {
        rec->kind = TSF_REC_PLAN_INDEX;
        rec->plan_min = tsf_cur_i64(&c);
        rec->plan_max = tsf_cur_i64(&c);
        if (c.err) return tsf_reader_fail(r, TSF_ECORRUPT, at, "truncated plan index record");
        rec->next = at + 17;
    } else if (m == TSF_MARK_SEPARATOR) {
        rec->kind = TSF_REC_SEPARATOR;
        rec->next = at + 1;
    } else if (tsf_is_chunk_marker(m)) {
        rec->kind = TSF_REC_CHUNK;
        TsfChunk ch;
        rc = tsf_chunk_open(r, at, &ch); /* checks the pages lie in the file */
        if (rc) return rc;
        rec->chunk = ch.h;
        tsf_buf_reset(&rec->name);
        tsf_buf_put(&rec->name, ch.h.name, ch.h.name_len);
        tsf_buf_put_u8(&rec->name, 0);
        rec->name.len--;
        rec->chunk.name = rec->name.data;
        rec->next = at + ch.h.header_len + ch.h.data_size;
        tsf_chunk_close(&ch);
    } else {
        return tsf_reader_fail(r, TSF_ECORRUPT, at, "unknown marker in data section");
    }
    *pos = rec->next;
    return 1;
}
