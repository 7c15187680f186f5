/* apply.c - one batch, one transaction: the phases of apply.h, in order, over
 * the SQL primitives of store.h. */
#include "apply.h"

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "strbuf.h"
#include "timeutil.h"

/* PostgreSQL refused a value: SQLSTATE class 22 (data) or 23 (integrity). */
static bool data_error(tthc_rc rc, const tthc_err *err)
{
    return rc == TTHC_EDB && tthc_sql_classify(tthc_err_sqlstate(err)) == TTHC_SQL_DATA;
}

/* One attempt at the items [0, limit), inside SAVEPOINT attempt: load, fold,
 * write.  With keep, a success stays in the transaction; otherwise (a probe
 * of the bisection) it is rolled back like a failure. */
static tthc_rc attempt(ingest_store *s, ingest_batch *b, size_t limit, bool keep, bool claimed, int64_t *t,
                       tthc_err *err)
{
    tthc_rc rc = store_savepoint(s, err);
    if (rc) return rc;
    t[0] = tthc_mono_us();
    if (!claimed) { /* claimed: slots prepared and ids claimed before the savepoint (apply_batch) */
        if (batch_prepare_slots(b)) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory preparing the batch");
        if (!rc) rc = store_claim_ids(s, b, limit, err);
    }
    t[1] = tthc_mono_us();
    if (!rc) rc = store_load_dossiers(s, b, err);
    t[2] = tthc_mono_us();
    if (!rc && batch_fold(b, limit)) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory folding the batch");
    t[3] = tthc_mono_us();
    if (!rc) rc = store_write_dossiers(s, b, err);
    t[4] = tthc_mono_us();
    if (!rc) rc = store_write_totals(s, b, err);
    if (!rc) rc = store_release_unapplied(s, b, limit, err);
    t[5] = tthc_mono_us();
    tthc_err ignored;
    if (rc || !keep) {
        if (store_savepoint_rollback(s, &ignored) && !rc)
            rc = tthc_fail(err, TTHC_ERETRY, "rollback to savepoint: %s", ignored.msg);
    } else {
        rc = store_savepoint_release(s, err);
    }
    return rc;
}

/* 2-4 with the bad values taken out: a data error (SQLSTATE class 22 or 23)
 * means some item's values are refused.  The first such item is found by
 * bisection over prefixes of the batch (a prefix without it succeeds, one
 * with it fails: log2(n) probes, only when it happens), excluded, and sent to
 * the DLQ as rejected_by_store; then the batch is tried again. */
static tthc_rc apply_items(ingest_store *s, ingest_batch *b, const ingest_apply_hooks *h, int64_t *t, tthc_err *err)
{
    for (;;) {
        tthc_rc rc = attempt(s, b, b->nitems, true, false, t, err);
        if (!data_error(rc, err)) return rc;
        tthc_err first = *err;
        size_t lo = 0, hi = b->nitems; /* the prefix [0, lo) is accepted, [0, hi) refused */
        int probes = 0;
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            probes++;
            int64_t ignored_t[6];
            rc = attempt(s, b, mid, false, false, ignored_t, err);
            if (data_error(rc, err)) hi = mid;
            else if (rc) return rc;
            else lo = mid;
        }
        size_t bad = hi - 1;
        if (!hi || (b->items[bad].flags & BATCH_EXCLUDED)) { /* not one message's values: give up */
            *err = first;
            return TTHC_EDB;
        }
        const ingest_batch_item *it = &b->items[bad];
        /* The detail names the rule, never a value: the SQLSTATE and the statement. */
        char detail[sizeof((tthc_reject *)0)->detail], what[64];
        snprintf(what, sizeof what, "%.*s", (int)strcspn(first.msg, ":"), first.msg);
        tthc_sb key, value;
        tthc_sb_init(&key, (size_t)1 << 20);
        tthc_sb_init(&value, (size_t)64 << 20);
        bool has_key = false, fetched = false;
        tthc_err ferr = {{0}};
        if (h && h->fetch) fetched = !h->fetch(h->fetch_ctx, it->partition, it->offset, &key, &has_key, &value, &ferr);
        snprintf(detail, sizeof detail, "PostgreSQL refused the values (SQLSTATE %s in %s)%s",
                 tthc_err_sqlstate(&first), what, fetched ? "" : "; the original bytes could not be read again");
        if (!fetched)
            LOG_WARN("store_reject_unreadable", "partition=%d offset=%lld error=\"%s\"", (int)it->partition,
                     (long long)it->offset, ferr.msg);
        LOG_WARN("rejected_by_store", "partition=%d offset=%lld probes=%d error=\"%s\"", (int)it->partition,
                 (long long)it->offset, probes, first.msg);
        int x = batch_exclude_item(b, bad, detail, has_key ? (key.p ? key.p : "") : NULL, key.len,
                                   fetched ? (value.p ? value.p : "") : NULL, value.len);
        tthc_sb_free(&key);
        tthc_sb_free(&value);
        if (x) return tthc_fail(err, TTHC_ENOMEM, "out of memory excluding a refused message");
    }
}

tthc_rc apply_batch(ingest_store *s, ingest_batch *b, const ingest_apply_hooks *h, tthc_err *err)
{
    if (!store_connected(s)) return tthc_fail(err, TTHC_ERETRY, "not connected to PostgreSQL");
    tthc_rc rc = TTHC_OK;
    bool early = h && h->turn; /* claim before waiting for the batch before */
    for (;;) {
        if (!b->nparts) return TTHC_OK; /* every partition was blocked by the DLQ */
        /* t: begin, offsets moved, then attempt()'s six marks, applied, DLQ done, committed */
        int64_t t[11] = {0}, claim_us = 0, turn_us = 0;
        if ((rc = store_begin(s, err))) break;
        if (h && h->turn && (rc = h->turn(h->turn_ctx, b, INGEST_TURN_BEGIN, err))) break;
        int64_t w0 = tthc_mono_us();
        if (early) {
            if ((rc = h->turn(h->turn_ctx, b, INGEST_TURN_CLAIM, err))) break;
            int64_t c0 = tthc_mono_us();
            turn_us += c0 - w0;
            if (batch_prepare_slots(b)) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory preparing the batch");
            if (!rc) rc = store_claim_ids(s, b, b->nitems, err);
            w0 = tthc_mono_us();
            claim_us = w0 - c0;
            if (rc || (rc = h->turn(h->turn_ctx, b, INGEST_TURN_CLAIMED, err))) break;
        }
        if (h && h->turn && (rc = h->turn(h->turn_ctx, b, INGEST_TURN_WAIT, err))) break;
        turn_us += tthc_mono_us() - w0;
        t[0] = tthc_mono_us();
        rc = store_move_offsets(s, b, err);
        t[1] = tthc_mono_us();
        if (!rc) rc = early ? attempt(s, b, b->nitems, true, true, t + 2, err) : apply_items(s, b, h, t + 2, err);
        if (early && data_error(rc, err)) { /* the bisection claims inside its attempts: again, in order */
            tthc_err ignored;
            if (store_rollback(s, &ignored)) {
                rc = tthc_fail(err, TTHC_ERETRY, "rollback: %s", ignored.msg);
                break;
            }
            LOG_DEBUG("apply_in_order", "error=\"%s\"", err->msg);
            early = false;
            continue;
        }
        t[8] = tthc_mono_us();
        bool dlq_blocked = false;
        if (!rc && h && h->dlq) {
            for (size_t i = 0; i < b->nparts; i++) b->parts[i].dlq_failed = false;
            rc = h->dlq(h->dlq_ctx, b, err);
            dlq_blocked = rc == TTHC_EKAFKA;
        }
        t[9] = tthc_mono_us();
        if (dlq_blocked) {
            /* Those partitions stop here; the others are applied without them. */
            tthc_err ignored;
            if (store_rollback(s, &ignored)) {
                rc = tthc_fail(err, TTHC_ERETRY, "rollback: %s", ignored.msg);
                break;
            }
            for (size_t i = b->nparts; i-- > 0;)
                if (b->parts[i].dlq_failed && batch_drop_partition(b, b->parts[i].partition)) {
                    rc = tthc_fail(err, TTHC_ENOMEM, "out of memory dropping a partition");
                    break;
                }
            if (rc == TTHC_ENOMEM) break;
            rc = TTHC_OK;
            continue;
        }
        if (!rc) rc = store_commit(s, err);
        t[10] = tthc_mono_us();
        /* One line per batch (debug): scripts/bench sums them into its phase breakdown.
         * parse_us is the main thread's, spent while the previous batch was applied. */
        LOG_DEBUG("apply_phases",
                  "messages=%zu parse_us=%lld turn_us=%lld offsets_us=%lld claim_us=%lld load_us=%lld fold_us=%lld "
                  "dossiers_us=%lld totals_us=%lld dlq_us=%lld commit_us=%lld slots=%zu",
                  batch_count(b), (long long)b->parse_us, (long long)turn_us, (long long)(t[1] - t[0]),
                  (long long)(claim_us + t[3] - t[2]), (long long)(t[4] - t[3]), (long long)(t[5] - t[4]),
                  (long long)(t[6] - t[5]), (long long)(t[8] - t[6]), (long long)(t[9] - t[8]),
                  (long long)(t[10] - t[9]), b->nslots);
        break;
    }
    if (rc) {
        tthc_err ignored;
        if (store_connected(s) && store_rollback(s, &ignored)) store_disconnect(s);
        if (!store_connected(s)) store_disconnect(s);
    }
    return rc;
}
