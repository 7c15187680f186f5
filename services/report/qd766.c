/* qd766.c - the QĐ 766 section's data; see qd766.h. */
#include "qd766.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pg.h"
#include "unitcode.h"

int report_unit_code_cmp(const char *a, const char *b)
{
    return tthc_unit_code_cmp(a, b);
}

int report_qd766_find(const report_qd766 *q, const char *code)
{
    for (size_t i = 0; i < q->nunits; i++)
        if (!strcmp(q->units[i].code, code)) return (int)i;
    return -1;
}

const qd_unit *report_qd766_scope(const report_qd766 *q, const char *scope, bool province_scope)
{
    if (province_scope) return q->rollup.present ? &q->rollup : NULL;
    int k = report_qd766_find(q, scope);
    return k >= 0 ? &q->units[k] : NULL;
}

static int metric_index(const report_qd766 *q, const char *code)
{
    for (int i = 0; i < q->nmetrics; i++)
        if (!strcmp(q->metrics[i].code, code)) return i;
    return -1;
}

/* The unit's slot (created on first use), or NULL with *rc set. */
static qd_unit *unit_of(report_qd766 *q, const char *code, tthc_rc *rc, tthc_err *err)
{
    if (!strchr(code, '.')) return &q->rollup;
    int k = report_qd766_find(q, code);
    if (k >= 0) return &q->units[k];
    if (strlen(code) > TTHC_UNIT_MAX) {
        *rc = tthc_fail(err, TTHC_EINVAL, "unit code too long: %s", code);
        return NULL;
    }
    if (q->nunits == q->capunits) {
        size_t cap = q->capunits ? q->capunits * 2 : 256;
        qd_unit *nv = realloc(q->units, cap * sizeof *nv);
        if (!nv) {
            *rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
            return NULL;
        }
        q->units = nv;
        q->capunits = cap;
    }
    qd_unit *u = &q->units[q->nunits++];
    memset(u, 0, sizeof *u);
    memcpy(u->code, code, strlen(code) + 1);
    return u;
}

tthc_rc report_qd766_add(report_qd766 *q, const char *unit, const char *metric, const qd_metric_val *v, tthc_err *err)
{
    int i = metric_index(q, metric);
    if (i < 0) return tthc_fail(err, TTHC_EINVAL, "metric %s is not in the catalogue", metric);
    tthc_rc rc = TTHC_OK;
    qd_unit *u = unit_of(q, unit, &rc, err);
    if (!u) return rc;
    u->present = true;
    u->m[i] = *v;
    qd_group_val *g = &u->g[q->metrics[i].group_index];
    g->points_centi += v->points_centi;
    g->max_known_centi += v->max_known_centi;
    u->total_centi += v->points_centi;
    u->max_known_centi += v->max_known_centi;
    return TTHC_OK;
}

static int by_code(const void *a, const void *b)
{
    return tthc_unit_code_cmp(((const qd_unit *)a)->code, ((const qd_unit *)b)->code);
}

static void finish_unit(const report_qd766 *q, qd_unit *u)
{
    int64_t known = 0;
    for (int k = 0; k < q->ngroups; k++) {
        u->g[k].max_unknown_centi = q->groups[k].max_centi - u->g[k].max_known_centi;
        known += u->g[k].max_known_centi;
    }
    int64_t all = 0;
    for (int k = 0; k < q->ngroups; k++) all += q->groups[k].max_centi;
    u->max_unknown_centi = all - known;
}

void report_qd766_compute(report_qd766 *q, const char *scope, bool province_scope)
{
    if (q->nunits) qsort(q->units, q->nunits, sizeof *q->units, by_code);
    finish_unit(q, &q->rollup);
    q->nranked = 0;
    for (size_t i = 0; i < q->nunits; i++) {
        finish_unit(q, &q->units[i]);
        q->nranked += q->units[i].present;
    }
    /* Rank by points known, most first; equal points share a rank. */
    for (size_t i = 0; i < q->nunits; i++) {
        int better = 0;
        for (size_t j = 0; j < q->nunits; j++) better += q->units[j].total_centi > q->units[i].total_centi;
        q->units[i].rank = better + 1;
    }
    /* The scope's metrics losing most points: known points short of their maximum. */
    q->nlosing = 0;
    const qd_unit *s = report_qd766_scope(q, scope, province_scope);
    if (!s) return;
    bool used[QD_MAX_METRICS] = {false};
    for (int n = 0; n < QD_LOSING; n++) {
        int best = -1;
        int64_t best_loss = 0;
        for (int i = 0; i < q->nmetrics; i++) {
            int64_t loss = s->m[i].max_known_centi - s->m[i].points_centi;
            if (!used[i] && loss > best_loss) best = i, best_loss = loss;
        }
        if (best < 0) break;
        used[best] = true;
        q->losing[q->nlosing++] = best;
    }
}

void report_qd766_free(report_qd766 *q)
{
    free(q->units);
    q->units = NULL;
    q->nunits = q->capunits = 0;
}

/* ---- loading ------------------------------------------------------------------ */

static int64_t i64(const PGresult *r, int row, int col)
{
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static tthc_rc load_catalogue(PGconn *c, report_qd766 *q, tthc_err *err)
{
    PGresult *r = PQexecParams(c,
                               "SELECT code, name_vi, name_en, (max_points * 100)::bigint FROM qd766_group "
                               "ORDER BY sort_order",
                               0, NULL, NULL, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select qd766_group", err);
    for (int row = 0; !rc && row < PQntuples(r) && q->ngroups < QD_MAX_GROUPS; row++) {
        qd_group_def *g = &q->groups[q->ngroups++];
        snprintf(g->code, sizeof g->code, "%s", PQgetvalue(r, row, 0));
        snprintf(g->name_vi, sizeof g->name_vi, "%s", PQgetvalue(r, row, 1));
        snprintf(g->name_en, sizeof g->name_en, "%s", PQgetvalue(r, row, 2));
        g->max_centi = i64(r, row, 3);
    }
    PQclear(r);
    if (rc) return rc;
    r = PQexecParams(c,
                     "SELECT code, group_code, name_vi, name_en, (max_points * 100)::bigint FROM qd766_metric "
                     "ORDER BY sort_order",
                     0, NULL, NULL, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select qd766_metric", err);
    for (int row = 0; !rc && row < PQntuples(r) && q->nmetrics < QD_MAX_METRICS; row++) {
        qd_metric_def *m = &q->metrics[q->nmetrics++];
        snprintf(m->code, sizeof m->code, "%s", PQgetvalue(r, row, 0));
        snprintf(m->group, sizeof m->group, "%s", PQgetvalue(r, row, 1));
        snprintf(m->name_vi, sizeof m->name_vi, "%s", PQgetvalue(r, row, 2));
        snprintf(m->name_en, sizeof m->name_en, "%s", PQgetvalue(r, row, 3));
        m->max_centi = i64(r, row, 4);
        m->group_index = 0;
        for (int k = 0; k < q->ngroups; k++)
            if (!strcmp(q->groups[k].code, m->group)) m->group_index = k;
    }
    PQclear(r);
    return rc;
}

static tthc_rc load_metrics(PGconn *c, report_qd766 *q, const char *const p[4], tthc_err *err)
{
    PGresult *r = PQexecParams(
        c,
        "SELECT unit_code, metric_code, numerator, denominator, (ratio * 100)::bigint, (score * 100)::bigint, "
        "status, (points_known * 100)::bigint, (max_known * 100)::bigint, (max_unknown * 100)::bigint "
        "FROM qd766_metrics($1, $2, coalesce($3::timestamptz, now()), false) "
        "WHERE unit_code = $4 OR left(unit_code, length($4) + 1) = $4 || '.'",
        4, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select qd766_metrics", err);
    for (int row = 0; !rc && row < PQntuples(r); row++) {
        qd_metric_val v = {0};
        v.has_nd = !PQgetisnull(r, row, 2) && !PQgetisnull(r, row, 3);
        v.num = v.has_nd ? i64(r, row, 2) : 0;
        v.den = v.has_nd ? i64(r, row, 3) : 0;
        v.has_ratio = !PQgetisnull(r, row, 4);
        v.ratio_centi = v.has_ratio ? i64(r, row, 4) : 0;
        v.has_score = !PQgetisnull(r, row, 5);
        v.score_centi = v.has_score ? i64(r, row, 5) : 0;
        const char *st = PQgetvalue(r, row, 6);
        v.status = !strcmp(st, "known") ? QD_KNOWN : !strcmp(st, "partial") ? QD_PARTIAL : QD_UNKNOWN;
        v.points_centi = i64(r, row, 7);
        v.max_known_centi = i64(r, row, 8);
        v.max_unknown_centi = i64(r, row, 9);
        rc = report_qd766_add(q, PQgetvalue(r, row, 0), PQgetvalue(r, row, 1), &v, err);
    }
    PQclear(r);
    return rc;
}

static tthc_rc load_months(PGconn *c, report_qd766 *q, const char *const p[4], const char *scope, tthc_err *err)
{
    const char *mp[4] = {p[0], p[1], p[2], scope};
    PGresult *r = PQexecParams(c,
                               "SELECT period, (sum(points_known) * 100)::bigint, (sum(max_known) * 100)::bigint "
                               "FROM qd766_groups($1, $2, coalesce($3::timestamptz, now()), true) "
                               "WHERE unit_code = $4 GROUP BY period ORDER BY period",
                               4, NULL, mp, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "select qd766_groups", err);
    for (int row = 0; !rc && row < PQntuples(r) && q->nmonths < 12; row++) {
        const char *per = PQgetvalue(r, row, 0);
        q->months[q->nmonths] = (int)strtol(per + 5, NULL, 10);
        q->month_points[q->nmonths] = i64(r, row, 1);
        q->month_max[q->nmonths] = i64(r, row, 2);
        q->nmonths++;
    }
    PQclear(r);
    return rc;
}

tthc_rc report_qd766_load(PGconn *c, report_qd766 *q, const char *province, const char *scope, int year, int first,
                          int last, const char *at, tthc_err *err)
{
    char from[16], to[16], jan[16];
    snprintf(from, sizeof from, "%04d-%02d", year, first);
    snprintf(to, sizeof to, "%04d-%02d", year, last);
    snprintf(jan, sizeof jan, "%04d-01", year);
    PGresult *r = PQexecParams(c, "SELECT to_regprocedure('qd766_metrics(text,text,timestamptz,boolean)') IS NOT NULL",
                               0, NULL, NULL, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "qd766 functions", err);
    bool exists = !rc && PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (rc) return rc;
    if (!exists)
        return tthc_fail(err, TTHC_EDB,
                         "the database has no QĐ 766 functions: apply migrations/006_qd766.sql "
                         "(tthc-migrate), or leave the section out with --no-qd766");
    rc = load_catalogue(c, q, err);
    const char *p[4] = {from, to, at, province};
    if (!rc) rc = load_metrics(c, q, p, err);
    const char *mp[4] = {jan, to, at, NULL};
    if (!rc) rc = load_months(c, q, mp, scope, err);
    if (rc) return rc;
    const char *ep[2] = {to, at};
    r = PQexecParams(c,
                     "SELECT to_char(least(qd766_period_end($1), coalesce($2::timestamptz, now())) "
                     "AT TIME ZONE INTERVAL '+07:00', 'YYYY-MM-DD HH24:MI')",
                     2, NULL, ep, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "evaluation instant", err);
    if (!rc) snprintf(q->evaluated_at, sizeof q->evaluated_at, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    q->loaded = !rc;
    return rc;
}
