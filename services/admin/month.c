/* month.c - a month's totals recomputed from the stored facts, and a month
 * pushed to the portal again.  Both run in one transaction that locks
 * period_totals against the ingest's batches (SHARE ROW EXCLUSIVE, as the
 * statement of docs/operations.md "From the stored facts"), so they may run
 * with tthc-ingest and tthc-sync up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "pg.h"

#define NCOUNTERS 15 /* the counter columns of period_totals, in LIST_T's order */

/* The indicators as positions in LIST_T (the indicator_totals view). */
static const struct {
    const char *code;
    int num, den;
} formulas[] = {
    {"online_submission", 1, 0}, {"digitized_dossier", 2, 0}, {"digitized_result", 6, 5}, {"e_result", 7, 5},
    {"id_tagged", 4, 0},         {"data_reused", 3, 0},       {"online_payment", 12, 11}, {"portal_synced", 8, 5},
    {"on_time", 10, 9},          {"satisfaction", 14, 13},
};

bool admin_period_ok(const char *p)
{
    return p && strlen(p) == 7 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
           p[2] <= '9' && p[3] >= '0' && p[3] <= '9' && p[4] == '-' &&
           ((p[5] == '0' && p[6] >= '1' && p[6] <= '9') || (p[5] == '1' && p[6] >= '0' && p[6] <= '2'));
}

/* Per received dossier of month $1 its contribution, summed per unit and per
 * province roll-up ('H61.07' -> 'H61'): the rules of common/dossier.c. */
#define FRESH_CTES                                                                                                     \
    "WITH facts AS ("                                                                                                  \
    " SELECT unit_code, period, 1 AS received, (channel = 'online')::int AS online,"                                   \
    "  comp_digitized::int AS comp_digitized, data_reused::int AS data_reused, id_tagged::int AS id_tagged,"           \
    "  issued::int AS issued, (issued AND result_digitized)::int AS result_digitized,"                                 \
    "  (issued AND electronic IS TRUE)::int AS e_result, (issued AND synced)::int AS synced,"                          \
    "  (issued AND due_at IS NOT NULL)::int AS due_issued,"                                                            \
    "  (issued AND due_at IS NOT NULL AND finished_at <= due_at)::int AS on_time,"                                     \
    "  cardinality(payment_ids) AS payments, cardinality(array_positions(payment_online, true)) AS payments_online,"   \
    "  rated::int AS rated, (rated AND satisfied IS TRUE)::int AS satisfied"                                           \
    " FROM dossier WHERE received AND period = $1"                                                                     \
    "), fresh AS ("                                                                                                    \
    " SELECT b.unit_code, f.period, sum(received) AS received, sum(online) AS online,"                                 \
    "  sum(comp_digitized) AS comp_digitized, sum(data_reused) AS data_reused, sum(id_tagged) AS id_tagged,"           \
    "  sum(issued) AS issued, sum(result_digitized) AS result_digitized, sum(e_result) AS e_result,"                   \
    "  sum(synced) AS synced, sum(due_issued) AS due_issued, sum(on_time) AS on_time, sum(payments) AS payments,"      \
    "  sum(payments_online) AS payments_online, sum(rated) AS rated, sum(satisfied) AS satisfied"                      \
    " FROM facts f CROSS JOIN LATERAL (VALUES (f.unit_code), (split_part(f.unit_code, '.', 1))) AS b (unit_code)"      \
    " GROUP BY b.unit_code, f.period)"

#define LIST_T                                                                                                         \
    "t.received, t.online, t.comp_digitized, t.data_reused, t.id_tagged, t.issued, t.result_digitized,"                \
    " t.e_result, t.synced, t.due_issued, t.on_time, t.payments, t.payments_online, t.rated, t.satisfied"
#define LIST_F                                                                                                         \
    "f.received, f.online, f.comp_digitized, f.data_reused, f.id_tagged, f.issued, f.result_digitized,"                \
    " f.e_result, f.synced, f.due_issued, f.on_time, f.payments, f.payments_online, f.rated, f.satisfied"
#define LIST_X                                                                                                         \
    "EXCLUDED.received, EXCLUDED.online, EXCLUDED.comp_digitized, EXCLUDED.data_reused, EXCLUDED.id_tagged,"           \
    " EXCLUDED.issued, EXCLUDED.result_digitized, EXCLUDED.e_result, EXCLUDED.synced, EXCLUDED.due_issued,"            \
    " EXCLUDED.on_time, EXCLUDED.payments, EXCLUDED.payments_online, EXCLUDED.rated, EXCLUDED.satisfied"
#define ZEROS "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0"

/* Buckets of the month whose stored counters differ from the facts':
 * unit_code, 15 stored (NULL: no row), 15 from the facts (NULL: none). */
static const char diff_sql[] = FRESH_CTES ", t AS (SELECT * FROM period_totals WHERE period = $1)"
                                          " SELECT coalesce(f.unit_code, t.unit_code), " LIST_T ", " LIST_F
                                          " FROM fresh f FULL JOIN t ON t.unit_code = f.unit_code"
                                          " WHERE (" LIST_T ") IS DISTINCT FROM (" LIST_F ")"
                                          "   AND NOT (f.unit_code IS NULL AND (" LIST_T ") = (" ZEROS "))"
                                          " ORDER BY 1";

/* Writes the facts' counters: differing rows raised one revision, missing
 * rows inserted above any revision sent, unsupported rows zeroed. */
static const char write_sql[] = FRESH_CTES
    ", upserted AS ("
    " INSERT INTO period_totals AS t (unit_code, period, received, online, comp_digitized, data_reused, id_tagged,"
    "  issued, result_digitized, e_result, synced, due_issued, on_time, payments, payments_online, rated, satisfied,"
    "  revision)"
    " SELECT f.unit_code, f.period, " LIST_F ","
    "  coalesce((SELECT s.sent_revision FROM sync_state s WHERE s.unit_code = f.unit_code AND s.period = f.period),"
    "   0) + 1"
    " FROM fresh f"
    " ON CONFLICT (unit_code, period) DO UPDATE SET received = EXCLUDED.received, online = EXCLUDED.online,"
    "  comp_digitized = EXCLUDED.comp_digitized, data_reused = EXCLUDED.data_reused, id_tagged = EXCLUDED.id_tagged,"
    "  issued = EXCLUDED.issued, result_digitized = EXCLUDED.result_digitized, e_result = EXCLUDED.e_result,"
    "  synced = EXCLUDED.synced, due_issued = EXCLUDED.due_issued, on_time = EXCLUDED.on_time,"
    "  payments = EXCLUDED.payments, payments_online = EXCLUDED.payments_online, rated = EXCLUDED.rated,"
    "  satisfied = EXCLUDED.satisfied, revision = t.revision + 1, updated_at = now()"
    " WHERE (" LIST_T ") IS DISTINCT FROM (" LIST_X ")"
    " RETURNING 1"
    "), zeroed AS ("
    " UPDATE period_totals AS t SET received = 0, online = 0, comp_digitized = 0, data_reused = 0, id_tagged = 0,"
    "  issued = 0, result_digitized = 0, e_result = 0, synced = 0, due_issued = 0, on_time = 0, payments = 0,"
    "  payments_online = 0, rated = 0, satisfied = 0, revision = t.revision + 1, updated_at = now()"
    " WHERE t.period = $1 AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.unit_code = t.unit_code)"
    "  AND (" LIST_T ") IS DISTINCT FROM (" ZEROS ")"
    " RETURNING 1"
    ") SELECT (SELECT count(*) FROM upserted), (SELECT count(*) FROM zeroed)";

static long long cell(const PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? -1 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void print_fraction(char *buf, size_t cap, long long num, long long den)
{
    if (num < 0) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%lld/%lld", num, den);
}

/* The differing buckets, per indicator as stored/facts. */
static void print_diffs(const PGresult *r)
{
    for (int i = 0; i < PQntuples(r); i++) {
        printf("%s\n", PQgetvalue(r, i, 0));
        for (size_t k = 0; k < sizeof formulas / sizeof *formulas; k++) {
            int n = formulas[k].num, d = formulas[k].den;
            long long sn = cell(r, i, 1 + n), sd = cell(r, i, 1 + d);
            long long fn = cell(r, i, 1 + NCOUNTERS + n), fd = cell(r, i, 1 + NCOUNTERS + d);
            if (fn < 0) fn = fd = 0; /* no received dossier supports the bucket: zero */
            if (sn == fn && sd == fd) continue;
            char a[48], b[48];
            print_fraction(a, sizeof a, sn, sd);
            print_fraction(b, sizeof b, fn, fd);
            printf("    %-22s stored %-21s facts %s\n", formulas[k].code, a, b);
        }
    }
}

tthc_rc admin_recompute(const admin_config *cfg, bool *found, tthc_err *err)
{
    PGconn *c = NULL;
    PGresult *r = NULL;
    tthc_rc rc;
    const char *p[1] = {cfg->period};
    *found = false;
    if (!admin_period_ok(cfg->period)) return tthc_fail(err, TTHC_EINVAL, "recompute needs --period YYYY-MM");
    if ((rc = tthc_pg_connect(cfg->dsn, "tthc-admin recompute", (int)cfg->statement_timeout_ms, &c, err))) return rc;
    if ((rc = tthc_pg_exec(c, "BEGIN", err)) ||
        (rc = tthc_pg_exec(c, "LOCK TABLE period_totals IN SHARE ROW EXCLUSIVE MODE", err)))
        goto done;
    r = PQexecParams(c, diff_sql, 1, NULL, p, NULL, NULL, 0);
    if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "compare with the facts", err))) goto done;
    int n = PQntuples(r);
    printf("%s: %d bucket(s) differ from the stored facts (dossier)%s\n", cfg->period, n, n ? ":" : "");
    print_diffs(r);
    PQclear(r);
    r = NULL;
    if (cfg->dry_run || !n) {
        if ((rc = tthc_pg_exec(c, "ROLLBACK", err))) goto done;
        if (cfg->dry_run) printf("dry run: nothing changed\n");
        LOG_INFO("recompute", "period=%s differ=%d dry_run=%s", cfg->period, n, cfg->dry_run ? "true" : "false");
        *found = cfg->dry_run && n;
        goto done;
    }
    r = PQexecParams(c, write_sql, 1, NULL, p, NULL, NULL, 0);
    if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "recompute", err))) goto done;
    printf("rewritten %s, zeroed %s (revisions raised: tthc-sync pushes them)\n", PQgetvalue(r, 0, 0),
           PQgetvalue(r, 0, 1));
    LOG_INFO("recompute", "period=%s rewritten=%s zeroed=%s", cfg->period, PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1));
    rc = tthc_pg_exec(c, "NOTIFY tthc_totals", err);
    if (!rc) rc = tthc_pg_exec(c, "COMMIT", err);
done:
    PQclear(r);
    PQfinish(c);
    return rc;
}

/* ---- repush ------------------------------------------------------------------- */

/* The month's buckets (of one unit, or all), locked. */
static const char repush_list_sql[] =
    "SELECT t.unit_code, t.revision, coalesce(s.sent_revision, 0), coalesce(s.status, 'new')"
    " FROM period_totals t LEFT JOIN sync_state s ON s.unit_code = t.unit_code AND s.period = t.period"
    " WHERE t.period = $1 AND ($2 = '' OR t.unit_code = $2) AND t.revision > 0"
    " ORDER BY t.unit_code FOR UPDATE OF t";

/* Each bucket's revision above both ours and the one the portal acknowledged
 * (a fresh Idempotency-Key the portal accepts), queued at once. */
static const char repush_sql[] =
    "WITH raised AS ("
    " UPDATE period_totals t SET revision = greatest(t.revision, coalesce(s.sent_revision, 0)) + 1"
    " FROM period_totals t0 LEFT JOIN sync_state s ON s.unit_code = t0.unit_code AND s.period = t0.period"
    " WHERE t0.unit_code = t.unit_code AND t0.period = t.period"
    "  AND t.period = $1 AND ($2 = '' OR t.unit_code = $2) AND t.revision > 0"
    " RETURNING t.unit_code, t.period, t.revision"
    "), queued AS ("
    " INSERT INTO sync_state AS s (unit_code, period, waiting_since) SELECT unit_code, period, now() FROM raised"
    " ON CONFLICT (unit_code, period) DO UPDATE SET status = 'pending', parked_revision = NULL, attempts = 0,"
    "  next_attempt_at = '-infinity', waiting_since = coalesce(s.waiting_since, now()), updated_at = now()"
    " RETURNING 1"
    ") SELECT (SELECT count(*) FROM raised), (SELECT count(*) FROM queued)";

tthc_rc admin_repush(const admin_config *cfg, bool *found, tthc_err *err)
{
    PGconn *c = NULL;
    PGresult *r = NULL;
    tthc_rc rc;
    const char *p[2] = {cfg->period, cfg->unit ? cfg->unit : ""};
    *found = false; /* never set: a dry run lists what would be sent and exits 0 */
    if (!admin_period_ok(cfg->period)) return tthc_fail(err, TTHC_EINVAL, "repush needs --period YYYY-MM");
    if ((rc = tthc_pg_connect(cfg->dsn, "tthc-admin repush", (int)cfg->statement_timeout_ms, &c, err))) return rc;
    if ((rc = tthc_pg_exec(c, "BEGIN", err))) goto done;
    r = PQexecParams(c, repush_list_sql, 2, NULL, p, NULL, NULL, 0);
    if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "list the month's buckets", err))) goto done;
    int n = PQntuples(r);
    if (!n) {
        rc = tthc_fail(err, TTHC_EINVAL, "no bucket of %s%s%s in period_totals", cfg->period,
                       cfg->unit ? " for unit " : "", cfg->unit ? cfg->unit : "");
        goto done;
    }
    printf("%-24s %10s %10s %-8s  %s\n", "UNIT", "REVISION", "SENT", "STATUS", cfg->dry_run ? "WOULD SEND" : "SENDS");
    for (int i = 0; i < n; i++) {
        long long rev = cell(r, i, 1), sent = cell(r, i, 2);
        printf("%-24s %10lld %10lld %-8s  r%lld\n", PQgetvalue(r, i, 0), rev, sent, PQgetvalue(r, i, 3),
               (rev > sent ? rev : sent) + 1);
    }
    PQclear(r);
    r = NULL;
    if (cfg->dry_run) {
        if ((rc = tthc_pg_exec(c, "ROLLBACK", err))) goto done;
        printf("dry run: %d report(s) of %s would be pushed again; nothing changed\n", n, cfg->period);
        goto done;
    }
    r = PQexecParams(c, repush_sql, 2, NULL, p, NULL, NULL, 0);
    if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "repush", err))) goto done;
    printf("%s report(s) of %s queued for the portal at a new revision\n", PQgetvalue(r, 0, 0), cfg->period);
    LOG_INFO("repush", "period=%s unit=%s queued=%s", cfg->period, cfg->unit ? cfg->unit : "*", PQgetvalue(r, 0, 0));
    rc = tthc_pg_exec(c, "NOTIFY tthc_totals", err);
    if (!rc) rc = tthc_pg_exec(c, "COMMIT", err);
done:
    PQclear(r);
    PQfinish(c);
    return rc;
}
