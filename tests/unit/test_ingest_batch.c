/* tthc-ingest's batch fold: deltas per bucket and province roll-up, the
 * same totals for every interleaving of dossiers, conflicts to the rejects,
 * event ids unique across the stream, refused items and dropped partitions. */
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "ingest/batch.h"

static char lines[64][512];
static int nlines;

static void add_line(const char *d, const char *e, const char *extra)
{
    snprintf(lines[nlines++], sizeof lines[0],
             "{\"event_id\":\"%s\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"%s\",%s}", e, d, extra);
}

static void build(void)
{
    nlines = 0;
    /* D1: H61.07, online, received last (pending facts first) */
    add_line("D1", "a1", "\"event_type\":\"dossier.digitized\",\"scope\":\"components\"");
    add_line("D1", "a2",
             "\"event_type\":\"dossier.result_issued\",\"finished_at\":\"2025-03-10T00:00:00Z\",\"electronic\":true");
    add_line("D1", "a3",
             "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"X\",\"channel\":"
             "\"online\",\"received_at\":\"2025-03-05T00:00:00Z\"");
    /* D2: H61.102, in person, with a conflicting second receipt */
    add_line("D2", "b1",
             "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.102\",\"procedure_code\":\"X\",\"channel\":\"in_"
             "person\",\"received_at\":\"2025-03-31T17:00:00Z\"");
    add_line("D2", "b2",
             "\"event_type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"X\",\"channel\":\"in_"
             "person\",\"received_at\":\"2025-03-31T17:00:00Z\"");
    add_line("D2", "b3", "\"event_type\":\"dossier.paid\",\"payment_id\":\"p\",\"method\":\"online\",\"amount_vnd\":1");
    add_line("D2", "b3", "\"event_type\":\"dossier.paid\",\"payment_id\":\"p\",\"method\":\"online\",\"amount_vnd\":1");
    /* D3: never received */
    add_line("D3", "c1", "\"event_type\":\"dossier.rated\",\"satisfied\":true");
    /* malformed */
    snprintf(lines[nlines++], sizeof lines[0], "%s", "{\"event_id\":\"x\"");
}

static int64_t get(ingest_batch *b, const char *unit, const char *period, tthc_counter c)
{
    for (size_t i = 0; i < b->nbuckets; i++)
        if (!strcmp(b->buckets[i].unit, unit) && !strcmp(b->buckets[i].period, period)) return b->buckets[i].delta.c[c];
    return 0;
}

/* Adds lines in the given order, folds with empty stored state. */
static void run(ingest_batch *b, const int *order)
{
    batch_reset(b);
    for (int i = 0; i < nlines; i++) {
        const char *l = lines[order[i]];
        CHECK(batch_add(b, 0, order[i], 0, "k", 1, l, strlen(l)) == 0, "add");
    }
    CHECK(batch_prepare_slots(b) == 0, "slots");
    CHECK(batch_fold(b, b->nitems) == 0, "fold");
}

static void add(ingest_batch *b, int32_t part, int64_t off, const char *l)
{
    CHECK(batch_add(b, part, off, 0, "k", 1, l, strlen(l)) == 0, "add");
}

/* Event ids: applied ones (before or earlier in the batch, on any dossier)
 * change nothing; a conflicting receipt is not recorded as applied. */
static void event_ids(void)
{
    ingest_batch b;
    batch_init(&b);
    const char *r1 = "{\"event_id\":\"r1\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"E1\",\"event_"
                     "type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"X\",\"channel\":"
                     "\"online\",\"received_at\":\"2025-03-05T00:00:00Z\"}";
    const char *c1 = "{\"event_id\":\"c1\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"E1\",\"event_"
                     "type\":\"dossier.received\",\"unit_code\":\"H61.08\",\"procedure_code\":\"X\",\"channel\":"
                     "\"online\",\"received_at\":\"2025-03-05T00:00:00Z\"}";
    const char *r2 = "{\"event_id\":\"r1\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"E2\",\"event_"
                     "type\":\"dossier.received\",\"unit_code\":\"H61.07\",\"procedure_code\":\"X\",\"channel\":"
                     "\"online\",\"received_at\":\"2025-03-05T00:00:00Z\"}";
    const char *p1 = "{\"event_id\":\"p1\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"E1\",\"event_"
                     "type\":\"dossier.paid\",\"payment_id\":\"x\",\"method\":\"online\",\"amount_vnd\":1}";
    const char *p1b = "{\"event_id\":\"p1\",\"occurred_at\":\"2025-03-06T08:15:00Z\",\"dossier_id\":\"E1\",\"event_"
                      "type\":\"dossier.paid\",\"payment_id\":\"y\",\"method\":\"online\",\"amount_vnd\":1}";
    add(&b, 0, 0, r1);
    add(&b, 0, 1, c1);
    add(&b, 1, 0, r2); /* r1 again, on another dossier: changes nothing */
    add(&b, 0, 2, p1);
    add(&b, 0, 3, p1b); /* p1 again with other content */
    add(&b, 0, 4, c1);  /* the conflict again: it was not applied, so it conflicts again */
    CHECK(batch_prepare_slots(&b) == 0 && batch_fold(&b, b.nitems) == 0, "fold");
    CHECK_INT(b.duplicates, 2);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_PAYMENTS), 1);
    CHECK_INT(b.nrejects, 2);
    CHECK_INT(b.rejects[0].rej.reason, TTHC_REJ_RECEIPT_CONFLICT);
    CHECK_INT(b.rejects[1].offset, 4);
    CHECK(b.items[0].flags & BATCH_APPLIED, "r1 applied");
    CHECK(!(b.items[1].flags & BATCH_APPLIED), "a conflict is not recorded as applied");
    CHECK(!(b.items[2].flags & BATCH_APPLIED), "the first item of an id carries the flag");

    /* r1 applied by an earlier transaction: the whole batch is a replay but p1 */
    CHECK(batch_prepare_slots(&b) == 0, "slots");
    CHECK(batch_mark_applied(&b, "r1", true), "mark");
    CHECK(!batch_mark_applied(&b, "zz", true), "unknown id");
    CHECK(batch_fold(&b, b.nitems) == 0, "fold");
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 0);
    CHECK_INT(get(&b, "H61.08", "2025-03", TTHC_C_RECEIVED), 1); /* c1 is E1's first receipt now */
    CHECK_INT(b.duplicates, 4);

    /* a prefix fold stops at the limit */
    CHECK(batch_prepare_slots(&b) == 0 && batch_fold(&b, 1) == 0, "prefix");
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_PAYMENTS), 0);

    /* the database refused item 0: excluded, a reject with the given bytes; E1's
     * second receipt now counts (it is no conflict any more) */
    CHECK(batch_exclude_item(&b, 0, "refused", "k", 1, r1, strlen(r1)) == 0, "exclude");
    CHECK(batch_prepare_slots(&b) == 0 && batch_fold(&b, b.nitems) == 0, "fold");
    CHECK_INT(b.rejects[0].rej.reason, TTHC_REJ_REJECTED_BY_STORE);
    CHECK(b.rejects[0].value_len == strlen(r1) && !memcmp(b.rejects[0].value, r1, strlen(r1)), "original bytes");
    CHECK_INT(get(&b, "H61.08", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 1); /* E2, r1 no longer applied before it */
    CHECK_INT(get(&b, "H61.08", "2025-03", TTHC_C_PAYMENTS), 1);
    CHECK_INT(b.nrejects, 1); /* the refused one; c1 applied now, so its repeat is a duplicate */

    /* partition 0 dropped: only E2's receipt is left */
    size_t msgs = batch_count(&b);
    CHECK(batch_drop_partition(&b, 0) == 0, "drop");
    CHECK_INT(b.nparts, 1);
    CHECK_INT(b.parts[0].partition, 1);
    CHECK_INT(b.nblocked, 1);
    CHECK_INT(b.blocked[0], 0);
    CHECK_INT(b.nitems, 1);
    CHECK_INT(b.nrejects, 0);
    CHECK_INT(batch_count(&b), msgs - 5);
    CHECK(batch_prepare_slots(&b) == 0 && batch_fold(&b, b.nitems) == 0, "fold");
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.08", "2025-03", TTHC_C_RECEIVED), 0);
    batch_free(&b);
}

int main(void)
{
    build();
    ingest_batch b;
    batch_init(&b);
    int order[64];
    for (int i = 0; i < nlines; i++) order[i] = i;
    run(&b, order);
    CHECK_INT(b.nslots, 3);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_COMP_DIGITIZED), 1);
    CHECK_INT(get(&b, "H61.07", "2025-03", TTHC_C_E_RESULT), 1);
    CHECK_INT(get(&b, "H61.102", "2025-04", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61.102", "2025-04", TTHC_C_PAYMENTS), 1);
    CHECK_INT(get(&b, "H61", "2025-03", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61", "2025-04", TTHC_C_RECEIVED), 1);
    CHECK_INT(get(&b, "H61", "2025-04", TTHC_C_PAYMENTS_ONLINE), 1);
    CHECK_INT(get(&b, "H61", "2025-03", TTHC_C_RATED), 0);
    CHECK_INT(b.duplicates, 1);
    CHECK_INT(b.nrejects, 2); /* the malformed one, then the conflict */
    CHECK_INT(b.rejects[0].rej.reason, TTHC_REJ_INVALID_JSON);
    CHECK_INT(b.rejects[1].rej.reason, TTHC_REJ_RECEIPT_CONFLICT);
    CHECK_INT(b.rejects[1].offset, 4);
    CHECK(b.rejects[1].value_len == strlen(lines[4]) && !memcmp(b.rejects[1].value, lines[4], b.rejects[1].value_len),
          "conflict copied unchanged");
    /* Folding again (a retried transaction) gives the same result, conflicts not doubled. */
    CHECK(batch_prepare_slots(&b) == 0 && batch_fold(&b, b.nitems) == 0, "refold");
    CHECK_INT(b.nrejects, 2);
    CHECK_INT(get(&b, "H61", "2025-04", TTHC_C_RECEIVED), 1);

    /* Interleavings of different dossiers give the same bucket deltas. */
    int64_t want[4][TTHC_C__COUNT];
    const char *units[4] = {"H61.07", "H61.102", "H61", "H61"},
               *periods[4] = {"2025-03", "2025-04", "2025-03", "2025-04"};
    for (int k = 0; k < 4; k++)
        for (int c = 0; c < TTHC_C__COUNT; c++) want[k][c] = get(&b, units[k], periods[k], (tthc_counter)c);
    srand(7);
    for (int round = 0; round < 200; round++) {
        /* a random merge of the per-dossier sequences, each kept in its own order */
        int seqs[4][8], lens[4] = {0}, pos[4] = {0}, n = 0;
        const char *ds[4] = {"D1", "D2", "D3", "?"};
        for (int i = 0; i < nlines; i++) {
            int s = 3;
            for (int k = 0; k < 3; k++)
                if (strstr(lines[i], ds[k])) s = k;
            seqs[s][lens[s]++] = i;
        }
        while (n < nlines) {
            int s = rand() % 4;
            if (pos[s] < lens[s]) order[n++] = seqs[s][pos[s]++];
        }
        run(&b, order);
        int same = 1;
        for (int k = 0; k < 4; k++)
            for (int c = 0; c < TTHC_C__COUNT; c++)
                same &= want[k][c] == get(&b, units[k], periods[k], (tthc_counter)c);
        CHECK(same, "round %d differs", round);
        CHECK_INT(b.nrejects, 2);
    }
    batch_free(&b);
    event_ids();
    return CHECK_DONE();
}
