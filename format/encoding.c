/*
 * encoding.c: dispatch from (encoding, type) to the enc_*.c implementations,
 * and the counting of values in self-delimiting streams.
 */
#include "encoding_int.h"

#include "tsf_error.h"

int tsf_encode(TsfEncoding enc, TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts,
               TsfBuf *out)
{
    static const TsfEncodeOpts defaults = {TSF_DEFAULT_FLOAT_PRECISION};
    if (!opts) opts = &defaults;
    if (type == TSF_VECTOR) type = TSF_INT64; /* the aligned time column */
    int rc;
    switch (enc) {
    case TSF_ENC_PLAIN: rc = tsf_plain_encode(type, values, n, opts, out); break;
    case TSF_ENC_RLE: rc = tsf_rle_encode(type, values, n, opts, out); break;
    case TSF_ENC_TS_2DIFF: rc = tsf_ts2diff_encode(type, values, n, opts, out); break;
    case TSF_ENC_GORILLA: rc = tsf_gorilla_encode(type, values, n, opts, out); break;
    case TSF_ENC_GORILLA_V1: rc = tsf_gorilla_v1_encode(type, values, n, opts, out); break;
    case TSF_ENC_DICTIONARY: rc = tsf_dictionary_encode(type, values, n, opts, out); break;
    case TSF_ENC_ZIGZAG: rc = tsf_zigzag_encode(type, values, n, opts, out); break;
    case TSF_ENC_CHIMP: rc = tsf_chimp_encode(type, values, n, opts, out); break;
    case TSF_ENC_SPRINTZ: rc = tsf_sprintz_encode(type, values, n, opts, out); break;
    case TSF_ENC_RLBE: rc = tsf_rlbe_encode(type, values, n, opts, out); break;
    case TSF_ENC_REGULAR: rc = tsf_regular_encode(type, values, n, opts, out); break;
    default: return TSF_EUNSUPPORTED;
    }
    if (rc == 0 && out->err) rc = out->err;
    return rc;
}

int tsf_decode(TsfEncoding enc, TsfType type, const uint8_t *p, size_t len, size_t n, void *out)
{
    if (type == TSF_VECTOR) type = TSF_INT64;
    switch (enc) {
    case TSF_ENC_PLAIN: return tsf_plain_decode(type, p, len, n, out);
    case TSF_ENC_RLE: return tsf_rle_decode(type, p, len, n, out);
    case TSF_ENC_TS_2DIFF: return tsf_ts2diff_decode(type, p, len, n, out);
    case TSF_ENC_GORILLA: return tsf_gorilla_decode(type, p, len, n, out);
    case TSF_ENC_GORILLA_V1: return tsf_gorilla_v1_decode(type, p, len, n, out);
    case TSF_ENC_DICTIONARY: return tsf_dictionary_decode(type, p, len, n, out);
    case TSF_ENC_ZIGZAG: return tsf_zigzag_decode(type, p, len, n, out);
    case TSF_ENC_CHIMP: return tsf_chimp_decode(type, p, len, n, out);
    case TSF_ENC_SPRINTZ: return tsf_sprintz_decode(type, p, len, n, out);
    case TSF_ENC_RLBE: return tsf_rlbe_decode(type, p, len, n, out);
    case TSF_ENC_REGULAR: return tsf_regular_decode(type, p, len, n, out);
    default: return TSF_EUNSUPPORTED;
    }
}

int64_t tsf_count_values(TsfEncoding enc, TsfType type, const uint8_t *p, size_t len)
{
    if (type == TSF_VECTOR) type = TSF_INT64;
    switch (enc) {
    case TSF_ENC_TS_2DIFF: return tsf_ts2diff_count(type, p, len);
    case TSF_ENC_PLAIN:
        if (type == TSF_INT64 || type == TSF_TIMESTAMP) {
            if (len % 8) return TSF_ECORRUPT;
            return (int64_t)(len / 8);
        }
        return TSF_EUNSUPPORTED;
    default:
        /* Time columns are written with TS_2DIFF (or PLAIN) in practice;
         * other time encodings are refused rather than guessed at. */
        return TSF_EUNSUPPORTED;
    }
}
