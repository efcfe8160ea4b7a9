/*
 * encoding.h: value and time stream encoders/decoders (spec §5).
 *
 * A stream is what one encoder produces for one page: it is built from all
 * the page's values at once (the writer buffers a page in column form and
 * encodes it when the page is sealed), and decoded knowing how many values to
 * expect (the count comes from the time stream or the aligned null bitmap,
 * spec §5.2).  Working on whole columns keeps the hot loops free of calls
 * per value.
 *
 * Values are arrays of the physical form of their type (types.h).  Decoded
 * TsfBin values point into the input bytes; they live as long as those.
 *
 * Dispatch is by (encoding, type).  Each encoding lives in its own file
 * (enc_plain.c, enc_rle.c, ...) behind the functions declared in
 * encoding_int.h; this header is the whole public contract.
 */
#ifndef TSF_ENCODING_H
#define TSF_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "bytes.h"
#include "types.h"

/* Options that change encoded bytes. */
typedef struct TsfEncodeOpts {
    int float_precision; /* RLE/TS_2DIFF on FLOAT/DOUBLE; default 2 */
} TsfEncodeOpts;

/* Appends the encoded stream of n values to out.
 * Returns 0, TSF_EUNSUPPORTED for a pair we cannot write (for instance CHIMP
 * writing is optional; SPRINTZ/RLBE/REGULAR/GORILLA_V1 are read-only), or
 * -ENOMEM (also left sticky in out->err). */
int tsf_encode(TsfEncoding enc, TsfType type, const void *values, size_t n, const TsfEncodeOpts *opts,
               TsfBuf *out);

/* Decodes exactly n values from the stream [p, p+len) into out (an array of
 * n elements of the type's physical form).  Returns 0, TSF_ECORRUPT when the
 * stream is malformed or ends before n values, or TSF_EUNSUPPORTED. */
int tsf_decode(TsfEncoding enc, TsfType type, const uint8_t *p, size_t len, size_t n, void *out);

/* Counts the values in a complete stream [p, p+len) of type (INT64 for time
 * streams), for streams whose count is not known from outside: the time
 * stream of a page.  Cheap for TS_2DIFF and PLAIN (block headers / length
 * only); other encodings may decode to count.  Returns the count (>= 0) or a
 * negative error. */
int64_t tsf_count_values(TsfEncoding enc, TsfType type, const uint8_t *p, size_t len);

#endif
