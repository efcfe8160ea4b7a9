/*
 * test_changes.c: the change stamps (engine_change_of) that caches above the
 * engine rely on: an append past everything known leaves `rewrite` alone,
 * anything else (a point in the past, a deletion, a new series of the
 * device) moves it, and a restarted engine still tells the two apart for
 * data it only has on disk.
 */
#include <criterion/criterion.h>
#include <glib.h>
#include <stdlib.h>
#include <unistd.h>

#include "engine.h"

#define T0 1700000000000LL

static char *make_dir(void)
{
    char tmpl[] = "/tmp/tsfs-changes-XXXXXX";
    char *d = mkdtemp(tmpl);
    cr_assert_not_null(d);
    return strdup(d);
}

static void remove_dir(const char *dir)
{
    char *cmd = g_strdup_printf("rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
    g_free(cmd);
}

static Engine *open_at(const char *dir)
{
    EngineOptions o;
    engine_options_default(&o);
    o.data_dir = dir;
    o.background_compaction = false;
    Engine *e = NULL;
    cr_assert_eq(engine_open(&o, &e), 0);
    return e;
}

static void put(Engine *e, const char *measurement, int64_t t)
{
    cr_assert_eq(engine_insert_point(e, "root.sg.d1", measurement, TSF_DOUBLE, t, &(double){1.5}), 0);
}

static EngineChange change(Engine *e, const char *measurement)
{
    EngineChange c;
    engine_change_of(e, "root.sg.d1", measurement, &c);
    return c;
}

Test(changes, appends_keep_rewrite_and_the_past_moves_it)
{
    char *dir = make_dir();
    Engine *e = open_at(dir);
    cr_assert_eq(engine_create_sg(e, "root.sg"), 0);
    put(e, "s", T0);
    put(e, "s", T0 + 10);
    EngineChange a = change(e, "s");
    put(e, "s", T0 + 20);
    EngineChange b = change(e, "s");
    cr_assert_gt(b.gen, a.gen, "an append moves gen");
    cr_assert_eq(b.rewrite, a.rewrite, "an append past the last time is not a rewrite");
    put(e, "s", T0 + 5);
    EngineChange c = change(e, "s");
    cr_assert_gt(c.rewrite, b.gen, "a point in the past is a rewrite");
    cr_assert_eq(engine_delete(e, "root.sg.d1", "s", T0, T0), 0);
    EngineChange d = change(e, "s");
    cr_assert_gt(d.rewrite, c.gen, "a deletion is a rewrite");
    /* the device's view gains a column: a rewrite of the device, not of s */
    put(e, "other", T0 + 100);
    EngineChange dev;
    engine_change_of(e, "root.sg.d1", NULL, &dev);
    cr_assert_gt(dev.rewrite, d.gen);
    cr_assert_eq(change(e, "s").rewrite, d.rewrite);
    cr_assert_eq(engine_close(e), 0);
    remove_dir(dir);
    free(dir);
}

Test(changes, a_restarted_engine_knows_the_past_on_disk)
{
    char *dir = make_dir();
    Engine *e = open_at(dir);
    cr_assert_eq(engine_create_sg(e, "root.sg"), 0);
    for (int i = 0; i < 100; i++) put(e, "s", T0 + i * 10);
    cr_assert_eq(engine_close(e), 0);

    e = open_at(dir);
    EngineChange before = change(e, "s");
    /* a point before the last one on disk: what was rendered before changes */
    put(e, "s", T0 + 5);
    EngineChange mid = change(e, "s");
    cr_assert_gt(mid.rewrite, before.gen, "an insert before data on disk must be a rewrite");
    /* then an append past it is an append again */
    put(e, "s", T0 + 5000);
    EngineChange after = change(e, "s");
    cr_assert_gt(after.gen, mid.gen);
    cr_assert_eq(after.rewrite, mid.rewrite);
    cr_assert_eq(engine_close(e), 0);

    /* a series first touched after a restart by an append past the device's
     * data is an append */
    e = open_at(dir);
    EngineChange c0 = change(e, "s");
    put(e, "s", T0 + 9000);
    EngineChange c1 = change(e, "s");
    cr_assert_leq(c1.rewrite, c0.gen, "an append past everything on disk is not a rewrite");
    cr_assert_eq(engine_close(e), 0);
    remove_dir(dir);
    free(dir);
}

Test(changes, rewrites_remember_where_they_start)
{
    char *dir = make_dir();
    Engine *e = open_at(dir);
    cr_assert_eq(engine_create_sg(e, "root.sg"), 0);
    for (int i = 0; i < 100; i++) put(e, "s", T0 + i * 10);
    EngineChange g = change(e, "s");
    int64_t from;
    cr_assert(engine_rewritten_from(e, "root.sg.d1", "s", g.gen, &from));
    cr_assert_eq(from, INT64_MAX, "nothing rewritten yet");
    put(e, "s", T0 + 995); /* an append: not a rewrite */
    put(e, "s", T0 + 505); /* late */
    put(e, "s", T0 + 705); /* late, later */
    cr_assert(engine_rewritten_from(e, "root.sg.d1", "s", g.gen, &from));
    cr_assert_eq(from, T0 + 505);
    cr_assert(engine_rewritten_from(e, "root.sg.d1", NULL, g.gen, &from));
    cr_assert_eq(from, T0 + 505, "the device view changed from the same time");
    EngineChange g2 = change(e, "s");
    cr_assert_eq(engine_delete(e, "root.sg.d1", "s", T0 + 300, T0 + 400), 0);
    cr_assert(engine_rewritten_from(e, "root.sg.d1", "s", g2.gen, &from));
    cr_assert_eq(from, T0 + 300, "a deletion changes from its start");
    /* more rewrites than are remembered: the answer is no longer known */
    for (int i = 0; i < 20; i++) put(e, "s", T0 + 1 + i);
    cr_assert_not(engine_rewritten_from(e, "root.sg.d1", "s", g2.gen, &from));
    EngineChange g3 = change(e, "s");
    cr_assert(engine_rewritten_from(e, "root.sg.d1", "s", g3.gen, &from));
    cr_assert_eq(from, INT64_MAX);
    cr_assert_eq(engine_close(e), 0);
    remove_dir(dir);
    free(dir);
}
