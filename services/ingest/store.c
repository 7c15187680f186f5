#include "store.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pg.h"
#include "strbuf.h"
#include "timeutil.h"

struct ingest_store {
    char *dsn, *group, *topic;
    int statement_timeout_ms;
    PGconn *conn;
    char *totals_sql; /* built once from tthc_counter_column */
    tthc_sb copy;     /* reused COPY buffer */
    tthc_sb ids;      /* reused array literal */
};

/* A strbuf append failed: its bound, or memory. */
static tthc_rc sb_failed(const tthc_sb *b, const char *what, tthc_err *err)
{
    if (b->len + ((size_t)1 << 20) >= b->max)
        return tthc_fail(err, TTHC_ENOMEM, "%s: buffer limit of %zu bytes reached", what, b->max);
    return tthc_fail(err, TTHC_ENOMEM, "%s: out of memory", what);
}

#define DOSSIER_COLS                                                                                                   \
    "dossier_id, received, unit_code, period, procedure_code, channel, received_at, due_at, applicant_type, "          \
    "comp_digitized, result_digitized, data_reused, id_tagged, issued, electronic, finished_at, synced, rated, "       \
    "satisfied, payment_ids, payment_online, reuse_source"

static const char *const session_sql[] = {
    /* The staged rows are few against a large dossier table: look each one up
     * by its key instead of hashing the whole table (the planner has no
     * statistics for the temp tables and would otherwise choose a seq scan). */
    "SET enable_hashjoin = off",
    "SET enable_mergejoin = off",
    "CREATE TEMP TABLE IF NOT EXISTS stage_dossier (LIKE dossier INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    "CREATE TEMP TABLE IF NOT EXISTS stage_totals (LIKE period_totals INCLUDING DEFAULTS) ON COMMIT DELETE ROWS",
    NULL,
};

static char *build_totals_sql(void)
{
    tthc_sb b;
    tthc_sb_init(&b, 1 << 16);
    int r = tthc_sb_adds(&b, "INSERT INTO period_totals AS t (unit_code, period");
    for (int c = 0; c < TTHC_C__COUNT; c++) r |= tthc_sb_addf(&b, ", %s", tthc_counter_column[c]);
    r |= tthc_sb_adds(&b, ", revision, updated_at) SELECT unit_code, period");
    for (int c = 0; c < TTHC_C__COUNT; c++) r |= tthc_sb_addf(&b, ", %s", tthc_counter_column[c]);
    r |= tthc_sb_adds(&b, ", 1, now() FROM stage_totals ORDER BY unit_code, period "
                          "ON CONFLICT (unit_code, period) DO UPDATE SET ");
    for (int c = 0; c < TTHC_C__COUNT; c++)
        r |= tthc_sb_addf(&b, "%s = t.%s + EXCLUDED.%s, ", tthc_counter_column[c], tthc_counter_column[c],
                          tthc_counter_column[c]);
    r |= tthc_sb_adds(&b, "revision = t.revision + 1, updated_at = now()");
    if (r) {
        tthc_sb_free(&b);
        return NULL;
    }
    return b.p;
}

tthc_rc store_new(const char *dsn, const char *group, const char *topic, int statement_timeout_ms, ingest_store **out,
                  tthc_err *err)
{
    ingest_store *s = calloc(1, sizeof *s);
    if (!s) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    s->dsn = strdup(dsn);
    s->group = strdup(group);
    s->topic = strdup(topic);
    s->totals_sql = build_totals_sql();
    s->statement_timeout_ms = statement_timeout_ms;
    tthc_sb_init(&s->copy, (size_t)1 << 30);
    tthc_sb_init(&s->ids, (size_t)1 << 28);
    if (!s->dsn || !s->group || !s->topic || !s->totals_sql) {
        store_free(s);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    *out = s;
    return TTHC_OK;
}

void store_free(ingest_store *s)
{
    if (!s) return;
    store_disconnect(s);
    free(s->dsn);
    free(s->group);
    free(s->topic);
    free(s->totals_sql);
    tthc_sb_free(&s->copy);
    tthc_sb_free(&s->ids);
    free(s);
}

void store_disconnect(ingest_store *s)
{
    if (s->conn) PQfinish(s->conn);
    s->conn = NULL;
}

int store_connected(const ingest_store *s)
{
    return tthc_pg_alive(s->conn);
}

tthc_rc store_connect(ingest_store *s, tthc_err *err)
{
    store_disconnect(s);
    tthc_rc rc = tthc_pg_connect(s->dsn, "tthc-ingest", s->statement_timeout_ms, &s->conn, err);
    for (int i = 0; !rc && session_sql[i]; i++) rc = tthc_pg_exec(s->conn, session_sql[i], err);
    if (rc) store_disconnect(s);
    return rc;
}

tthc_rc store_load_offsets(ingest_store *s, const int32_t *parts, size_t n, int64_t *next, tthc_err *err)
{
    tthc_sb_reset(&s->ids);
    int r = tthc_sb_addc(&s->ids, '{');
    for (size_t i = 0; i < n; i++) r |= tthc_sb_addf(&s->ids, "%s%d", i ? "," : "", (int)parts[i]);
    r |= tthc_sb_addc(&s->ids, '}');
    if (r) return sb_failed(&s->ids, "partition list", err);
    const char *p[3] = {s->group, s->topic, s->ids.p};
    PGresult *res = PQexecParams(s->conn,
                                 "SELECT partition, next_offset FROM consumer_offset "
                                 "WHERE group_id = $1 AND topic = $2 AND partition = ANY($3::int[])",
                                 3, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(s->conn, res, PGRES_TUPLES_OK, "load offsets", err);
    for (size_t i = 0; i < n; i++) next[i] = -1;
    for (int row = 0; !rc && row < PQntuples(res); row++) {
        int32_t part = (int32_t)strtol(PQgetvalue(res, row, 0), NULL, 10);
        for (size_t i = 0; i < n; i++)
            if (parts[i] == part) next[i] = strtoll(PQgetvalue(res, row, 1), NULL, 10);
    }
    PQclear(res);
    return rc;
}

tthc_rc store_begin(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "BEGIN", err);
}

tthc_rc store_commit(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "COMMIT", err);
}

tthc_rc store_rollback(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "ROLLBACK", err);
}

tthc_rc store_savepoint(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "SAVEPOINT attempt", err);
}

tthc_rc store_savepoint_rollback(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "ROLLBACK TO SAVEPOINT attempt", err);
}

tthc_rc store_savepoint_release(ingest_store *s, tthc_err *err)
{
    return tthc_pg_exec(s->conn, "RELEASE SAVEPOINT attempt", err);
}

/* 1. Guarded move of every partition's offset: fails with TTHC_EFENCED when
 * the stored value is not the one this consumer started the batch from. */
tthc_rc store_move_offsets(ingest_store *s, const ingest_batch *b, tthc_err *err)
{
    for (size_t i = 0; i < b->nparts; i++) {
        char part[16], next[24], exp[24];
        int64_t expected = b->parts[i].expected;
        snprintf(part, sizeof part, "%d", (int)b->parts[i].partition);
        snprintf(next, sizeof next, "%lld", (long long)b->parts[i].next);
        snprintf(exp, sizeof exp, "%lld", (long long)expected);
        const char *p[5] = {s->group, s->topic, part, next, expected >= 0 ? exp : NULL};
        PGresult *r = PQexecParams(s->conn,
                                   "INSERT INTO consumer_offset AS o (group_id, topic, partition, next_offset) "
                                   "VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, topic, partition) DO UPDATE "
                                   "SET next_offset = EXCLUDED.next_offset, updated_at = now() "
                                   "WHERE o.next_offset = $5::bigint",
                                   5, NULL, p, NULL, NULL, 0);
        tthc_rc rc = tthc_pg_result(s->conn, r, PGRES_COMMAND_OK, "move offset", err);
        int moved = rc ? 0 : atoi(PQcmdTuples(r));
        PQclear(r);
        if (rc) return rc;
        if (moved != 1)
            return tthc_fail(err, TTHC_EFENCED, "partition %d: stored offset is not %lld (moved by another owner)",
                             (int)b->parts[i].partition, (long long)expected);
    }
    return TTHC_OK;
}

static uint8_t enum_index(const char *v, const char *(*name)(uint8_t), uint8_t max)
{
    for (uint8_t i = 1; i <= max; i++)
        if (name(i) && !strcmp(v, name(i))) return i;
    return 0;
}

static int64_t get_i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static bool get_bool(const PGresult *r, int row, int col)
{
    return PQgetvalue(r, row, col)[0] == 't';
}

/* Fills a slot from one row of the SELECT in store_load_dossiers.  0, -1 on
 * allocation failure, -2 if the stored payments do not parse.  The row's
 * values belong to libpq: they are read, never written. */
static int load_row(ingest_batch_slot *sl, const PGresult *r, int row)
{
    tthc_dossier *d = &sl->d;
    sl->exists = true;
    d->received = get_bool(r, row, 1);
    if (d->received) {
        snprintf(d->unit_code, sizeof d->unit_code, "%s", PQgetvalue(r, row, 2));
        snprintf(d->period, sizeof d->period, "%s", PQgetvalue(r, row, 3));
        snprintf(d->procedure_code, sizeof d->procedure_code, "%s", PQgetvalue(r, row, 4));
        d->channel = enum_index(PQgetvalue(r, row, 5), tthc_channel_name, 3);
        d->received_at = get_i64(r, row, 6);
        d->has_due = !PQgetisnull(r, row, 7);
        d->due_at = d->has_due ? get_i64(r, row, 7) : 0;
        d->applicant_type = PQgetisnull(r, row, 8) ? 0 : enum_index(PQgetvalue(r, row, 8), tthc_applicant_name, 4);
    }
    d->comp_digitized = get_bool(r, row, 9);
    d->result_digitized = get_bool(r, row, 10);
    d->data_reused = get_bool(r, row, 11);
    d->id_tagged = get_bool(r, row, 12);
    d->issued = get_bool(r, row, 13);
    d->electronic = !PQgetisnull(r, row, 14) && get_bool(r, row, 14);
    d->finished_at = PQgetisnull(r, row, 15) ? 0 : get_i64(r, row, 15);
    d->synced = get_bool(r, row, 16);
    d->rated = get_bool(r, row, 17);
    d->satisfied = !PQgetisnull(r, row, 18) && get_bool(r, row, 18);
    d->reuse_source = PQgetisnull(r, row, 21) ? 0 : enum_index(PQgetvalue(r, row, 21), tthc_reuse_source_name, 3);
    /* payment_ids joined with U+001F (which a payment_id cannot hold), and one
     * 't'/'f' per payment. */
    const char *pays = PQgetvalue(r, row, 19), *online = PQgetvalue(r, row, 20);
    size_t nonline = strlen(online), k = 0;
    char id[TTHC_PAYMENT_ID_MAX + 1];
    for (const char *p = pays; *pays;) {
        size_t n = strcspn(p, "\x1f");
        if (n > TTHC_PAYMENT_ID_MAX || k >= nonline) return -2;
        memcpy(id, p, n);
        id[n] = '\0';
        if (tthc_dossier_add_payment(d, id, online[k++] == 't', NULL)) return -1;
        if (!p[n]) break;
        p += n + 1;
    }
    d->changes = 0;
    return 0;
}

/* The item indices [0, limit) that are the first of their event_id (the
 * others are the same event again). */
static bool first_of_id(ingest_batch *b, size_t i)
{
    const ingest_batch_item *it = &b->items[i];
    return !(it->flags & BATCH_EXCLUDED) && it->first == i; /* it->first: set by batch_prepare_slots */
}

static int by_bytes(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static tthc_rc copy_in(ingest_store *s, const char *sql, const char *what, tthc_err *err)
{
    PGresult *r = PQexec(s->conn, sql);
    tthc_rc rc = tthc_pg_result(s->conn, r, PGRES_COPY_IN, what, err);
    PQclear(r);
    if (rc) return rc;
    rc = tthc_pg_copy_put(s->conn, s->copy.p ? s->copy.p : "", s->copy.len, err);
    tthc_rc end = tthc_pg_copy_end(s->conn, what, err);
    return rc ? rc : end;
}

/* The event ids of the items [0, limit) that pass want(), in byte order
 * (applied_event's order: consecutive keys land on the same index pages).
 * *order (malloc'd, the caller frees; NULL when *n == 0) points into b's
 * arena, which stays put meanwhile. */
static tthc_rc sorted_ids(ingest_batch *b, size_t limit, bool (*want)(ingest_batch *, size_t), const char ***order,
                          size_t *n, tthc_err *err)
{
    size_t k = 0;
    for (size_t i = 0; i < limit; i++) k += want(b, i);
    *n = k;
    *order = NULL;
    if (!k) return TTHC_OK;
    const char **o = malloc(k * sizeof *o);
    if (!o) return tthc_fail(err, TTHC_ENOMEM, "out of memory sorting event ids");
    k = 0;
    for (size_t i = 0; i < limit; i++)
        if (want(b, i)) o[k++] = b->arena.p + b->items[i].event_id;
    qsort(o, k, sizeof *o, by_bytes);
    *order = o;
    return TTHC_OK;
}

/* ids as an array literal in s->ids, or one a line in s->copy (COPY text).
 * Event ids are [A-Za-z0-9._:-]: nothing to quote or escape in either. */
static tthc_rc id_list(ingest_store *s, const char *const *order, size_t n, bool copy, tthc_err *err)
{
    tthc_sb *sb = copy ? &s->copy : &s->ids;
    tthc_sb_reset(sb);
    int w = copy ? 0 : tthc_sb_addc(sb, '{');
    for (size_t i = 0; i < n; i++) {
        if (copy) {
            w |= tthc_sb_adds(sb, order[i]) | tthc_sb_addc(sb, '\n');
        } else {
            w |= (i ? tthc_sb_addc(sb, ',') : 0) | tthc_sb_addc(sb, '"');
            w |= tthc_sb_adds(sb, order[i]) | tthc_sb_addc(sb, '"');
        }
    }
    if (!copy) w |= tthc_sb_addc(sb, '}');
    return w ? sb_failed(sb, "event id list", err) : TTHC_OK;
}

/* 2a. Claims the batch's event ids in applied_event: the ids it inserts were
 * never applied; the others were, by an earlier transaction or by a
 * concurrent one that committed meanwhile (the insert waits for it), on any
 * dossier.  One index insert per event, whatever its dossier holds.  Ids
 * claimed but then not applied (a conflicting receipt) are given back by
 * store_release_unapplied.
 *
 * First a COPY, in a savepoint of its own: when none of the ids was applied
 * before (the common case: a redelivered message is skipped by its offset
 * before it gets here) it claims them all, with no rows to send back; COPY's
 * multi-row inserts make it a quarter cheaper than an INSERT of unnest($1),
 * which was a third cheaper than ON CONFLICT's speculative insertion.  If one
 * id was applied before (unique_violation), the COPY is rolled back and the
 * ids claimed with ON CONFLICT DO NOTHING RETURNING, which says which ones
 * are new. */
tthc_rc store_claim_ids(ingest_store *s, ingest_batch *b, size_t limit, tthc_err *err)
{
    size_t n;
    const char **order;
    tthc_rc rc = sorted_ids(b, limit, first_of_id, &order, &n, err);
    if (rc || !n) return rc;
    if ((rc = id_list(s, order, n, true, err))) goto out;
    if ((rc = tthc_pg_exec(s->conn, "SAVEPOINT claim", err))) goto out;
    rc = copy_in(s, "COPY applied_event (event_id) FROM STDIN", "claim event ids", err);
    if (!rc) {
        rc = tthc_pg_exec(s->conn, "RELEASE SAVEPOINT claim", err);
        goto out;
    }
    if (strcmp(tthc_err_sqlstate(err), "23505")) goto out;
    if ((rc = tthc_pg_exec(s->conn, "ROLLBACK TO SAVEPOINT claim", err))) goto out;
    LOG_DEBUG("claim_repeated_ids", "ids=%zu", n);
    for (size_t i = 0; i < limit; i++)
        if (first_of_id(b, i)) b->items[i].flags |= BATCH_DB_APPLIED;
    if ((rc = id_list(s, order, n, false, err))) goto out;
    const char *p[1] = {s->ids.p};
    PGresult *r = PQexecParams(s->conn,
                               "INSERT INTO applied_event (event_id) SELECT unnest($1::text[]) "
                               "ON CONFLICT DO NOTHING RETURNING event_id",
                               1, NULL, p, NULL, NULL, 0);
    rc = tthc_pg_result(s->conn, r, PGRES_TUPLES_OK, "claim event ids", err);
    for (int row = 0; !rc && row < PQntuples(r); row++) (void)batch_mark_applied(b, PQgetvalue(r, row, 0), false);
    PQclear(r);
out:
    free(order);
    return rc;
}

static bool claimed_unapplied(ingest_batch *b, size_t i)
{
    return first_of_id(b, i) && !(b->items[i].flags & (BATCH_DB_APPLIED | BATCH_APPLIED));
}

/* 4c. Gives back the ids claimed in 2a whose events were not applied. */
tthc_rc store_release_unapplied(ingest_store *s, ingest_batch *b, size_t limit, tthc_err *err)
{
    size_t n;
    const char **order;
    tthc_rc rc = sorted_ids(b, limit, claimed_unapplied, &order, &n, err);
    if (rc || !n) return rc;
    rc = id_list(s, order, n, false, err);
    free(order);
    if (rc) return rc;
    const char *p[1] = {s->ids.p};
    PGresult *r =
        PQexecParams(s->conn, "DELETE FROM applied_event WHERE event_id = ANY($1::text[])", 1, NULL, p, NULL, NULL, 0);
    rc = tthc_pg_result(s->conn, r, PGRES_COMMAND_OK, "release event ids", err);
    PQclear(r);
    return rc;
}

/* 2. Locks and loads the stored state of every dossier the batch touches. */
tthc_rc store_load_dossiers(ingest_store *s, ingest_batch *b, tthc_err *err)
{
    tthc_sb_reset(&s->ids);
    int w = tthc_sb_addc(&s->ids, '{');
    for (size_t i = 0; i < b->nslots; i++)
        w |= tthc_sb_addf(&s->ids, "%s\"%s\"", i ? "," : "", b->slots[i].d.dossier_id); /* [A-Za-z0-9._-] only */
    w |= tthc_sb_addc(&s->ids, '}');
    if (w) return sb_failed(&s->ids, "dossier id list", err);
    if (!b->nslots) return TTHC_OK;
    const char *p[1] = {s->ids.p};
    /* Single-row mode: rows are folded into the slots as they arrive, so the
     * whole result set is never held in memory at once. */
    int sent = PQsendQueryParams(
        s->conn,
        "SELECT dossier_id, received, unit_code, period, procedure_code, channel, "
        "(extract(epoch FROM received_at) * 1000000)::int8, (extract(epoch FROM due_at) * 1000000)::int8, "
        "applicant_type, comp_digitized, result_digitized, data_reused, id_tagged, issued, electronic, "
        "(extract(epoch FROM finished_at) * 1000000)::int8, synced, rated, satisfied, "
        "array_to_string(payment_ids, E'\\x1f'), array_to_string(payment_online, ''), reuse_source "
        "FROM dossier WHERE dossier_id = ANY($1::text[]) ORDER BY dossier_id FOR NO KEY UPDATE",
        1, NULL, p, NULL, NULL, 0);
    if (!sent) return tthc_fail(err, TTHC_ERETRY, "load dossiers: %s", PQerrorMessage(s->conn));
    if (!PQsetSingleRowMode(s->conn)) LOG_DEBUG("single_row_mode_unavailable", "%s", "");
    tthc_rc rc = TTHC_OK;
    PGresult *r;
    while ((r = PQgetResult(s->conn))) {
        ExecStatusType st = PQresultStatus(r);
        if (!rc && st != PGRES_SINGLE_TUPLE) rc = tthc_pg_result(s->conn, r, PGRES_TUPLES_OK, "load dossiers", err);
        for (int row = 0; !rc && row < PQntuples(r); row++) {
            ingest_batch_slot *sl = batch_slot_find(b, PQgetvalue(r, row, 0));
            int lr = sl ? load_row(sl, r, row) : 0;
            if (lr == -1) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory loading dossier %s", sl->d.dossier_id);
            else if (lr) rc = tthc_fail(err, TTHC_EDB, "dossier %s: stored payments do not parse", sl->d.dossier_id);
        }
        PQclear(r); /* every result is read to the end, so the connection stays usable */
    }
    return rc;
}

static int copy_time(tthc_sb *c, bool present, int64_t us)
{
    if (!present) return tthc_sb_adds(c, "\\N\t");
    char t[48];
    tthc_format_pg(us, t, sizeof t);
    return tthc_sb_addf(c, "%s\t", t);
}

static int copy_text_or_null(tthc_sb *c, const char *v)
{
    if (!v || !*v) return tthc_sb_adds(c, "\\N\t");
    return tthc_sb_add_copy_text(c, v) | tthc_sb_addc(c, '\t');
}

static int copy_dossier_row(tthc_sb *c, const ingest_batch_slot *sl)
{
    const tthc_dossier *d = &sl->d;
    int r = tthc_sb_add_copy_text(c, d->dossier_id);
    r |= tthc_sb_addf(c, "\t%c\t", d->received ? 't' : 'f');
    r |= copy_text_or_null(c, d->received ? d->unit_code : NULL);
    r |= copy_text_or_null(c, d->received ? d->period : NULL);
    r |= copy_text_or_null(c, d->received ? d->procedure_code : NULL);
    r |= copy_text_or_null(c, d->received ? tthc_channel_name(d->channel) : NULL);
    r |= copy_time(c, d->received, d->received_at);
    r |= copy_time(c, d->received && d->has_due, d->due_at);
    r |= copy_text_or_null(c, d->received ? tthc_applicant_name(d->applicant_type) : NULL);
    r |= tthc_sb_addf(c, "%c\t%c\t%c\t%c\t%c\t", d->comp_digitized ? 't' : 'f', d->result_digitized ? 't' : 'f',
                      d->data_reused ? 't' : 'f', d->id_tagged ? 't' : 'f', d->issued ? 't' : 'f');
    r |= d->issued ? tthc_sb_addf(c, "%c\t", d->electronic ? 't' : 'f') : tthc_sb_adds(c, "\\N\t");
    r |= copy_time(c, d->issued, d->finished_at);
    r |= tthc_sb_addf(c, "%c\t%c\t", d->synced ? 't' : 'f', d->rated ? 't' : 'f');
    r |= d->rated ? tthc_sb_addf(c, "%c\t", d->satisfied ? 't' : 'f') : tthc_sb_adds(c, "\\N\t");
    r |= tthc_sb_addc(c, '{');
    for (uint32_t i = 0; i < d->npay; i++)
        r |= (i ? tthc_sb_addc(c, ',') : 0) | tthc_sb_add_copy_array_elem(c, d->pay_ids[i]);
    r |= tthc_sb_adds(c, "}\t{");
    for (uint32_t i = 0; i < d->npay; i++) r |= tthc_sb_addf(c, "%s%c", i ? "," : "", d->pay_online[i] ? 't' : 'f');
    const char *reuse = tthc_reuse_source_name(d->reuse_source); /* a fixed name: nothing to escape */
    r |= tthc_sb_adds(c, "}\t") | tthc_sb_adds(c, reuse ? reuse : "\\N") | tthc_sb_addc(c, '\n');
    return r;
}

static tthc_rc exec_count(ingest_store *s, const char *sql, const char *what, long *count, tthc_err *err)
{
    PGresult *r = PQexec(s->conn, sql);
    tthc_rc rc = tthc_pg_result(s->conn, r, PGRES_COMMAND_OK, what, err);
    if (!rc && count) *count = atol(PQcmdTuples(r));
    PQclear(r);
    return rc;
}

/* 4a. Changed dossiers.  New rows are copied straight into the table: a
 * dossier created concurrently by another instance (a producer that broke
 * the key-to-partition rule) fails the COPY with a unique violation, and the
 * batch is retried, then finding and locking that row.  Existing rows, locked
 * in 2, are updated from a staged copy. */
tthc_rc store_write_dossiers(ingest_store *s, const ingest_batch *b, tthc_err *err)
{
    long fresh = 0, old = 0;
    tthc_sb_reset(&s->copy);
    for (size_t i = 0; i < b->nslots; i++) {
        const ingest_batch_slot *sl = &b->slots[i];
        if (!sl->dirty || sl->exists) continue;
        fresh++;
        if (copy_dossier_row(&s->copy, sl)) return sb_failed(&s->copy, "COPY of new dossiers", err);
    }
    tthc_rc rc = TTHC_OK;
    if (fresh) {
        rc = copy_in(s, "COPY dossier (" DOSSIER_COLS ") FROM STDIN", "copy new dossiers", err);
        if (rc == TTHC_EDB && !strcmp(tthc_err_sqlstate(err), "23505")) /* unique_violation on the key */
            return tthc_fail(err, TTHC_ERETRY, "a new dossier was created concurrently: %s", err->msg);
        if (rc) return rc;
    }
    tthc_sb_reset(&s->copy);
    for (size_t i = 0; i < b->nslots; i++) {
        const ingest_batch_slot *sl = &b->slots[i];
        if (!sl->dirty || !sl->exists) continue;
        old++;
        if (copy_dossier_row(&s->copy, sl)) return sb_failed(&s->copy, "COPY of changed dossiers", err);
    }
    if (!old) return TTHC_OK;
    rc = copy_in(s, "COPY stage_dossier (" DOSSIER_COLS ") FROM STDIN", "copy changed dossiers", err);
    if (!rc)
        rc =
            exec_count(s,
                       "UPDATE dossier d SET received = s.received, unit_code = s.unit_code, period = s.period, "
                       "procedure_code = s.procedure_code, channel = s.channel, received_at = s.received_at, "
                       "due_at = s.due_at, applicant_type = s.applicant_type, comp_digitized = s.comp_digitized, "
                       "result_digitized = s.result_digitized, data_reused = s.data_reused, "
                       "id_tagged = s.id_tagged, issued = s.issued, electronic = s.electronic, "
                       "finished_at = s.finished_at, synced = s.synced, rated = s.rated, satisfied = s.satisfied, "
                       "payment_ids = s.payment_ids, payment_online = s.payment_online, reuse_source = s.reuse_source, "
                       "updated_at = now() FROM stage_dossier s WHERE d.dossier_id = s.dossier_id",
                       "update dossiers", NULL, err);
    return rc;
}

/* 4b. Bucket deltas, units and province roll-ups, each bumping the revision. */
tthc_rc store_write_totals(ingest_store *s, const ingest_batch *b, tthc_err *err)
{
    tthc_sb_reset(&s->copy);
    int w = 0, any = 0;
    for (size_t i = 0; i < b->nbuckets; i++) {
        const ingest_batch_bucket *bk = &b->buckets[i];
        if (batch_bucket_empty(bk)) continue;
        any = 1;
        w |= tthc_sb_add_copy_text(&s->copy, bk->unit);
        w |= tthc_sb_addf(&s->copy, "\t%s", bk->period);
        for (int c = 0; c < TTHC_C__COUNT; c++) w |= tthc_sb_addf(&s->copy, "\t%lld", (long long)bk->delta.c[c]);
        w |= tthc_sb_addc(&s->copy, '\n');
    }
    if (w) return sb_failed(&s->copy, "COPY of totals", err);
    if (!any) return TTHC_OK;
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "COPY stage_totals (unit_code, period");
    for (int c = 0; c < TTHC_C__COUNT; c++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", tthc_counter_column[c]);
    snprintf(sql + n, sizeof sql - (size_t)n, ") FROM STDIN");
    tthc_rc rc = copy_in(s, sql, "copy totals", err);
    if (!rc) rc = exec_count(s, s->totals_sql, "upsert totals", NULL, err);
    if (!rc) rc = tthc_pg_exec(s->conn, "NOTIFY tthc_totals", err);
    return rc;
}

tthc_rc store_pending(ingest_store *s, long *count, double *oldest_s, tthc_err *err)
{
    if (!store_connected(s)) return tthc_fail(err, TTHC_ERETRY, "not connected to PostgreSQL");
    /* Both served by the partial index dossier_pending: the count stops at
     * STORE_PENDING_CAP rows so that the query stays cheap. */
    char cap[24];
    snprintf(cap, sizeof cap, "%d", STORE_PENDING_CAP);
    const char *p[1] = {cap};
    PGresult *r = PQexecParams(
        s->conn,
        "SELECT (SELECT count(*) FROM (SELECT 1 FROM dossier WHERE NOT received LIMIT $1::int) p), "
        "coalesce((SELECT extract(epoch FROM now() - min(created_at)) FROM dossier WHERE NOT received), 0)",
        1, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(s->conn, r, PGRES_TUPLES_OK, "pending dossiers", err);
    if (!rc && PQntuples(r) == 1) {
        *count = strtol(PQgetvalue(r, 0, 0), NULL, 10);
        *oldest_s = strtod(PQgetvalue(r, 0, 1), NULL);
    }
    PQclear(r);
    return rc;
}

static const char *i64_param(char *buf, size_t n, int64_t v)
{
    if (v < 0) return NULL;
    snprintf(buf, n, "%lld", (long long)v);
    return buf;
}

tthc_rc store_record_gap(ingest_store *s, const ingest_store_gap *g, tthc_err *err)
{
    if (!store_connected(s)) return tthc_fail(err, TTHC_ERETRY, "not connected to PostgreSQL");
    char part[16], from[24], to[24], lost[24], lo[24], hi[24], exp[24], resume[24];
    snprintf(part, sizeof part, "%d", (int)g->partition);
    const char *params[10] = {s->group,
                              s->topic,
                              part,
                              i64_param(from, sizeof from, g->from_offset),
                              i64_param(to, sizeof to, g->to_offset),
                              i64_param(lost, sizeof lost, g->lost),
                              i64_param(lo, sizeof lo, g->log_start),
                              i64_param(hi, sizeof hi, g->log_end),
                              g->reason,
                              g->action};
    tthc_rc rc = tthc_pg_exec(s->conn, "BEGIN", err);
    if (rc) return rc;
    PGresult *r = PQexecParams(s->conn,
                               "INSERT INTO consumer_gap (group_id, topic, partition, from_offset, to_offset, lost, "
                               "log_start, log_end, reason, action) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) "
                               "ON CONFLICT DO NOTHING",
                               10, NULL, params, NULL, NULL, 0);
    rc = tthc_pg_result(s->conn, r, PGRES_COMMAND_OK, "record gap", err);
    PQclear(r);
    if (!rc && !strcmp(g->action, "continue")) {
        const char *q[5] = {s->group, s->topic, part, i64_param(resume, sizeof resume, g->resume_at),
                            i64_param(exp, sizeof exp, g->expected)};
        r = PQexecParams(s->conn,
                         "INSERT INTO consumer_offset AS o (group_id, topic, partition, next_offset) "
                         "VALUES ($1, $2, $3, $4) ON CONFLICT (group_id, topic, partition) DO UPDATE "
                         "SET next_offset = EXCLUDED.next_offset, updated_at = now() "
                         "WHERE o.next_offset = $5::bigint",
                         5, NULL, q, NULL, NULL, 0);
        rc = tthc_pg_result(s->conn, r, PGRES_COMMAND_OK, "move offset past a gap", err);
        int moved = rc ? 0 : atoi(PQcmdTuples(r));
        PQclear(r);
        if (!rc && moved != 1)
            rc = tthc_fail(err, TTHC_EFENCED, "partition %d: stored offset is not %lld (moved by another owner)",
                           (int)g->partition, (long long)g->expected);
    }
    if (!rc) rc = tthc_pg_exec(s->conn, "COMMIT", err);
    if (rc) {
        tthc_err ignored;
        if (store_connected(s) && tthc_pg_exec(s->conn, "ROLLBACK", &ignored)) store_disconnect(s);
    }
    return rc;
}
