/*
 * fuzz_resource.c: libFuzzer target for the `.tsfile.resource` parser
 * (engine/resource.c).
 *
 * The input is the bytes of a .resource file, parsed in memory
 * (resource_parse, what resource_read runs over a file).  On success:
 *   - the devices are sorted by name with no repeats, and resource_find
 *     finds each of them (and a name that is not there comes back NULL);
 *   - min/max times agree with a walk over the devices;
 *   - serialized (the bytes resource_write writes) and parsed again, the
 *     same devices, ranges and plan indexes come back, and serializing that
 *     gives the same bytes.
 * On failure the Resource must be left empty.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "resource.h"

static void check_same(const Resource *a, const Resource *b)
{
    if (a->n != b->n || a->min_plan != b->min_plan || a->max_plan != b->max_plan) abort();
    for (size_t i = 0; i < a->n; i++)
        if (strcmp(a->dev[i].device, b->dev[i].device) != 0 || a->dev[i].start != b->dev[i].start ||
            a->dev[i].end != b->dev[i].end)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Resource r;
    int rc = resource_parse(&r, data, size);
    if (rc != 0) {
        if (r.n != 0 || r.dev != NULL) abort();
        return 0;
    }
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (size_t i = 0; i < r.n; i++) {
        const ResDevice *d = &r.dev[i];
        if (i > 0 && strcmp(r.dev[i - 1].device, d->device) >= 0) abort();
        if (resource_find(&r, d->device) != d) abort();
        if (d->start < lo) lo = d->start;
        if (d->end > hi) hi = d->end;
    }
    if (resource_min_time(&r) != lo || resource_max_time(&r) != hi) abort();
    /* a name that sorts between or after the others is not found */
    if (r.n > 0) {
        size_t len = strlen(r.dev[0].device);
        char *name = malloc(len + 2);
        if (name) {
            memcpy(name, r.dev[0].device, len);
            name[len] = '\x01';
            name[len + 1] = '\0';
            const ResDevice *f = resource_find(&r, name);
            if (f && strcmp(f->device, name) != 0) abort();
            free(name);
        }
    }

    uint8_t *bytes = NULL, *bytes2 = NULL;
    size_t len = 0, len2 = 0;
    if (resource_serialize(&r, &bytes, &len) == 0) {
        Resource back;
        if (resource_parse(&back, bytes, len) != 0) abort();
        check_same(&r, &back);
        if (resource_serialize(&back, &bytes2, &len2) == 0 &&
            (len2 != len || memcmp(bytes, bytes2, len) != 0))
            abort();
        resource_free(&back);
    }
    free(bytes);
    free(bytes2);
    resource_free(&r);
    return 0;
}
