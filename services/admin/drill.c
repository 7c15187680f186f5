/* drill.c - from (unit, period, indicator) to the dossiers behind its
 * numerator (or denominator): the dossier facts only, never a person.
 *
 * The predicates restate the contribution rules of common/dossier.c (and
 * the recompute statement of docs/operations.md) per indicator; the weight
 * is what one dossier adds (1, or its payments for online_payment).  The
 * listed weights must add up to indicator_totals: the footer says whether
 * they do, and the exit code is 1 when not. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "log.h"
#include "pg.h"

typedef struct {
    const char *code;
    const char *num_where, *num_weight; /* SQL over dossier d: fixed text, never input */
    const char *den_where, *den_weight;
} drill_rule;

static const drill_rule rules[] = {
    {"online_submission", "d.channel = 'online'", "1", "true", "1"},
    {"digitized_dossier", "d.comp_digitized", "1", "true", "1"},
    {"digitized_result", "d.issued AND d.result_digitized", "1", "d.issued", "1"},
    {"e_result", "d.issued AND d.electronic IS TRUE", "1", "d.issued", "1"},
    {"id_tagged", "d.id_tagged", "1", "true", "1"},
    {"data_reused", "d.data_reused", "1", "true", "1"},
    {"online_payment", "true = ANY (d.payment_online)", "cardinality(array_positions(d.payment_online, true))",
     "cardinality(d.payment_ids) > 0", "cardinality(d.payment_ids)"},
    {"portal_synced", "d.issued AND d.synced", "1", "d.issued", "1"},
    {"on_time", "d.issued AND d.due_at IS NOT NULL AND d.finished_at <= d.due_at", "1",
     "d.issued AND d.due_at IS NOT NULL", "1"},
    {"satisfaction", "d.rated AND d.satisfied IS TRUE", "1", "d.rated", "1"},
};

static const drill_rule *find_rule(const char *code)
{
    for (size_t i = 0; code && i < sizeof rules / sizeof *rules; i++)
        if (!strcmp(rules[i].code, code)) return &rules[i];
    return NULL;
}

/* The dossiers of the bucket: a unit's own, or every unit of a province
 * roll-up (a code without '.'), as the totals count them. */
#define BUCKET_WHERE                                                                                                   \
    " FROM dossier d WHERE d.received AND d.period = $1"                                                               \
    " AND (d.unit_code = $2 OR (strpos($2, '.') = 0 AND split_part(d.unit_code, '.', 1) = $2))"

tthc_rc admin_drill(const admin_config *cfg, bool *found, tthc_err *err)
{
    PGconn *c = NULL;
    PGresult *r = NULL;
    tthc_rc rc;
    char sql[2048], limit[32];
    const drill_rule *rule = find_rule(cfg->indicator);
    *found = false;
    if (!admin_period_ok(cfg->period) || !cfg->unit || !*cfg->unit || !rule)
        return tthc_fail(err, TTHC_EINVAL, "drill needs --unit U --period YYYY-MM --indicator CODE (%s)",
                         cfg->indicator && !rule ? "unknown indicator" : "missing");
    const char *where = cfg->denominator ? rule->den_where : rule->num_where;
    const char *weight = cfg->denominator ? rule->den_weight : rule->num_weight;
    const char *what = cfg->denominator ? "denominator" : "numerator";
    snprintf(limit, sizeof limit, "%ld", cfg->limit);
    const char *p[3] = {cfg->period, cfg->unit, rule->code};
    if ((rc = tthc_pg_connect(cfg->dsn, "tthc-admin drill", (int)cfg->statement_timeout_ms, &c, err))) return rc;
    /* Repeatable read: the listing, its sum and the totals from one snapshot. */
    if ((rc = tthc_pg_exec(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err))) goto done;
    snprintf(sql, sizeof sql,
             "SELECT count(*), coalesce(sum(%s), 0)" BUCKET_WHERE " AND (%s)"
             " UNION ALL SELECT -1, coalesce((SELECT %s FROM indicator_totals WHERE unit_code = $2"
             "   AND period = $1 AND indicator = $3), -1)",
             weight, where, cfg->denominator ? "denominator" : "numerator");
    r = PQexecParams(c, sql, 3, NULL, p, NULL, NULL, 0);
    if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "count the dossiers", err))) goto done;
    long long dossiers = strtoll(PQgetvalue(r, 0, 0), NULL, 10), sum = strtoll(PQgetvalue(r, 0, 1), NULL, 10);
    long long total = strtoll(PQgetvalue(r, 1, 1), NULL, 10);
    PQclear(r);
    r = NULL;
    if (!cfg->dry_run) {
        snprintf(sql, sizeof sql,
                 "SELECT d.dossier_id, d.unit_code, coalesce(d.procedure_code, ''), coalesce(d.channel, ''),"
                 " to_char(d.received_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'),"
                 " coalesce(to_char(d.due_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), '-'),"
                 " coalesce(to_char(d.finished_at AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD HH24:MI'), '-'),"
                 " %s" BUCKET_WHERE " AND (%s) ORDER BY d.received_at, d.dossier_id LIMIT $3::bigint",
                 weight, where);
        const char *lp[3] = {cfg->period, cfg->unit, limit};
        r = PQexecParams(c, sql, 3, NULL, lp, NULL, NULL, 0);
        if ((rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "list the dossiers", err))) goto done;
        printf("%-28s %-12s %-16s %-9s %-16s %-16s %-16s %s\n", "DOSSIER", "UNIT", "PROCEDURE", "CHANNEL",
               "RECEIVED (+07)", "DUE", "FINISHED", "WEIGHT");
        for (int i = 0; i < PQntuples(r); i++)
            printf("%-28s %-12s %-16s %-9s %-16s %-16s %-16s %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1),
                   PQgetvalue(r, i, 2), PQgetvalue(r, i, 3), PQgetvalue(r, i, 4), PQgetvalue(r, i, 5),
                   PQgetvalue(r, i, 6), PQgetvalue(r, i, 7));
        if (dossiers > cfg->limit) printf("(first %ld of %lld shown; --limit N for more)\n", cfg->limit, dossiers);
    }
    printf("%s %s %s of %s: %lld dossier(s), weight %lld; indicator_totals says ", cfg->unit, cfg->period, rule->code,
           what, dossiers, sum);
    if (total < 0) printf("nothing (no bucket)\n");
    else printf("%lld: %s\n", total, total == sum ? "they agree" : "THEY DIFFER (tthc-admin recompute)");
    if (cfg->dry_run) printf("dry run: counted only, nothing listed\n");
    LOG_INFO("drill", "unit=%s period=%s indicator=%s part=%s dossiers=%lld weight=%lld totals=%lld", cfg->unit,
             cfg->period, rule->code, what, dossiers, sum, total);
    *found = !(total == sum || (total < 0 && sum == 0)); /* the figures disagree */
done:
    PQclear(r);
    if (c) PQfinish(c);
    return rc;
}
