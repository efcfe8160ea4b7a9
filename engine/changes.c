/*
 * changes.c: change stamps of series and devices, for caches above the
 * engine (the filesystem keeps rendered sizes keyed by them).
 *
 * Every insert, deletion, series creation or drop takes the next value of
 * one engine-wide counter and stamps the series and its device with it
 * (gen).  A change that is not a pure append also sets rewrite: an insert
 * at or before the largest time ever inserted into the series (after a
 * restart, at or before the largest time its device has on disk), any
 * deletion, a series created or dropped (a device's columns change), a TTL
 * change.  So a cache filled at stamp G is still right for everything at
 * or before its last time while rewrite <= G; only later times are new.
 * The last few rewrites also keep the earliest time they changed (the
 * first inserted time, a deletion's start), so after a late point a cache
 * can keep what lies before it (engine_rewritten_from).
 *
 * Stamps are taken after the change is applied: a reader that reads the
 * stamp first and the data second can only see data newer than its stamp,
 * never older, so a cached result is never kept past a change.
 */
#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

/* The last rewrites of an entry, so a cache can redo only what follows the
 * earliest time they touched. */
#define HISTORY 8
typedef struct Rewrite {
    uint64_t gen;
    int64_t from; /* earliest time it changed; INT64_MIN: all of it */
} Rewrite;

typedef struct ChangeEntry {
    EngineChange c;
    int64_t max_time;
    Rewrite hist[HISTORY]; /* a ring: next is the oldest once full */
    unsigned nhist, next;
    uint64_t lost; /* newest gen pushed out of the ring */
} ChangeEntry;

typedef struct DevChanges {
    ChangeEntry dev;
    /* dev.max_time includes what was on disk before this process: until then
     * an insert cannot tell an append from a rewrite */
    bool past_known;
    GHashTable *series; /* measurement -> ChangeEntry* */
} DevChanges;

static void dev_changes_free(gpointer p)
{
    DevChanges *d = p;
    g_hash_table_destroy(d->series);
    free(d);
}

void chg_init(Engine *e)
{
    pthread_mutex_init(&e->change_lock, NULL);
    e->changes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, dev_changes_free);
    e->change_counter = 1;
}

void chg_free(Engine *e)
{
    if (!e->changes) return;
    g_hash_table_destroy(e->changes);
    pthread_mutex_destroy(&e->change_lock);
}

static DevChanges *dev_entry(Engine *e, const char *device)
{
    DevChanges *d = g_hash_table_lookup(e->changes, device);
    if (!d) {
        d = calloc(1, sizeof(*d));
        if (!d) return NULL;
        d->dev.max_time = INT64_MIN;
        d->series = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
        g_hash_table_insert(e->changes, g_strdup(device), d);
    }
    return d;
}

static ChangeEntry *series_entry(DevChanges *d, const char *measurement)
{
    ChangeEntry *c = g_hash_table_lookup(d->series, measurement);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) return NULL;
        c->max_time = d->dev.max_time; /* what the device saw: an upper bound */
        g_hash_table_insert(d->series, g_strdup(measurement), c);
    }
    return c;
}

static void remember(ChangeEntry *c, uint64_t gen, int64_t from)
{
    if (c->nhist == HISTORY && c->hist[c->next].gen > c->lost) c->lost = c->hist[c->next].gen;
    c->hist[c->next] = (Rewrite){gen, from};
    c->next = (c->next + 1) % HISTORY;
    if (c->nhist < HISTORY) c->nhist++;
}

/* An insert of [lo, hi] (rewrite false), or a rewrite from `lo` on. */
static void stamp(ChangeEntry *c, uint64_t gen, bool rewrite, int64_t lo, int64_t hi)
{
    c->c.gen = gen;
    if (rewrite || lo <= c->max_time) {
        c->c.rewrite = gen;
        remember(c, gen, lo);
    }
    if (hi > c->max_time) c->max_time = hi;
}

void chg_note_insert(Engine *e, const char *device, const char *measurement, int64_t lo, int64_t hi)
{
    /* the first insert into a device in this process learns its past from
     * the partitions (outside change_lock: that takes the storage group's) */
    pthread_mutex_lock(&e->change_lock);
    DevChanges *d = g_hash_table_lookup(e->changes, device);
    bool known = d && d->past_known;
    pthread_mutex_unlock(&e->change_lock);
    int64_t past = known ? INT64_MIN : eng_device_max_flushed(e, device);

    pthread_mutex_lock(&e->change_lock);
    uint64_t gen = ++e->change_counter;
    d = dev_entry(e, device);
    if (d) {
        if (!d->past_known) {
            d->past_known = true;
            if (past > d->dev.max_time) d->dev.max_time = past;
            GHashTableIter it;
            gpointer k, v;
            g_hash_table_iter_init(&it, d->series);
            while (g_hash_table_iter_next(&it, &k, &v))
                if (past > ((ChangeEntry *)v)->max_time) ((ChangeEntry *)v)->max_time = past;
        }
        ChangeEntry *c = series_entry(d, measurement);
        stamp(&d->dev, gen, false, lo, hi);
        if (c) stamp(c, gen, false, lo, hi);
    }
    pthread_mutex_unlock(&e->change_lock);
}

void chg_note_rewrite(Engine *e, const char *device, const char *measurement, int64_t from)
{
    pthread_mutex_lock(&e->change_lock);
    uint64_t gen = ++e->change_counter;
    DevChanges *d = dev_entry(e, device);
    if (d) {
        stamp(&d->dev, gen, true, from, INT64_MIN);
        if (measurement) {
            ChangeEntry *c = series_entry(d, measurement);
            if (c) stamp(c, gen, true, from, INT64_MIN);
        } else {
            GHashTableIter it;
            gpointer k, v;
            g_hash_table_iter_init(&it, d->series);
            while (g_hash_table_iter_next(&it, &k, &v)) stamp(v, gen, true, from, INT64_MIN);
        }
    }
    pthread_mutex_unlock(&e->change_lock);
}

void chg_note_columns(Engine *e, const char *device)
{
    pthread_mutex_lock(&e->change_lock);
    uint64_t gen = ++e->change_counter;
    DevChanges *d = dev_entry(e, device);
    if (d) stamp(&d->dev, gen, true, INT64_MIN, INT64_MIN);
    pthread_mutex_unlock(&e->change_lock);
}

void chg_note_rewrite_all(Engine *e)
{
    pthread_mutex_lock(&e->change_lock);
    e->rewrite_all = ++e->change_counter;
    pthread_mutex_unlock(&e->change_lock);
}

bool engine_rewritten_from(Engine *e, const char *device, const char *measurement, uint64_t since,
                           int64_t *from)
{
    pthread_mutex_lock(&e->change_lock);
    ChangeEntry *c = NULL;
    DevChanges *d = g_hash_table_lookup(e->changes, device);
    if (d) c = measurement ? g_hash_table_lookup(d->series, measurement) : &d->dev;
    bool known = !c || c->lost <= since;
    *from = e->rewrite_all > since ? INT64_MIN : INT64_MAX;
    for (unsigned i = 0; c && known && i < c->nhist; i++)
        if (c->hist[i].gen > since && c->hist[i].from < *from) *from = c->hist[i].from;
    pthread_mutex_unlock(&e->change_lock);
    return known;
}

void engine_change_of(Engine *e, const char *device, const char *measurement, EngineChange *out)
{
    pthread_mutex_lock(&e->change_lock);
    ChangeEntry *c = NULL;
    DevChanges *d = g_hash_table_lookup(e->changes, device);
    if (d) c = measurement ? g_hash_table_lookup(d->series, measurement) : &d->dev;
    *out = c ? c->c : (EngineChange){0, 0};
    if (e->rewrite_all > out->rewrite) out->rewrite = e->rewrite_all;
    if (out->rewrite > out->gen) out->gen = out->rewrite;
    pthread_mutex_unlock(&e->change_lock);
}
