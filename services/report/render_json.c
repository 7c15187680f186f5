/* render_json.c - the report as one JSON object (cJSON builders); see report_render.h. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "report_render.h"

static const char *const kind_names[] = {"month", "quarter", "year", "ytd"};

/* Adds "rate_pct": a number with two decimals, or null. */
static void add_rate(cJSON *o, const char *name, report_nd nd)
{
    int64_t c;
    if (report_rate_centi(nd, &c)) cJSON_AddNumberToObject(o, name, (double)c / 100.0);
    else cJSON_AddNullToObject(o, name);
}

static void add_nd(cJSON *o, report_nd nd)
{
    cJSON_AddNumberToObject(o, "numerator", (double)nd.num);
    cJSON_AddNumberToObject(o, "denominator", (double)nd.den);
    add_rate(o, "rate_pct", nd);
}

static cJSON *indicator_json(const report_ctx *x, int i)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    cJSON *o = cJSON_CreateObject(), *targets = cJSON_CreateArray(), *units = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "code", tthc_indicators[i].code);
    cJSON_AddStringToObject(o, "name_vi", d->name_vi[i]);
    add_nd(o, v->total[i]);
    cJSON_AddItemToObject(o, "targets", targets);
    for (int t = 0; t < d->ntargets[i]; t++) {
        cJSON *tg = cJSON_CreateObject();
        int64_t behind;
        report_target_status s = report_status(v->total[i], d->targets[i][t].centi, &behind);
        cJSON_AddStringToObject(tg, "source_doc", d->targets[i][t].source_doc);
        cJSON_AddNumberToObject(tg, "target_pct", (double)d->targets[i][t].centi / 100.0);
        if (s == REPORT_TARGET_NO_DATA) cJSON_AddNullToObject(tg, "met");
        else cJSON_AddBoolToObject(tg, "met", s == REPORT_TARGET_MET);
        cJSON_AddNumberToObject(tg, "behind_pts", (double)behind / 100.0);
        cJSON_AddItemToArray(targets, tg);
    }
    if (!d->province_scope) {
        cJSON *r = cJSON_CreateObject();
        if (v->scope_rank[i]) cJSON_AddNumberToObject(r, "place", v->scope_rank[i]);
        else cJSON_AddNullToObject(r, "place");
        cJSON_AddNumberToObject(r, "of", (double)v->nrank[i]);
        cJSON_AddItemToObject(o, "rank_worst_first", r);
    }
    cJSON_AddItemToObject(o, "units_worst_first", units);
    for (size_t k = 0; k < v->nrank[i]; k++) {
        const report_rank_entry *e = &v->rank[i][k];
        cJSON *u = cJSON_CreateObject();
        cJSON_AddNumberToObject(u, "rank", (double)(k + 1));
        cJSON_AddStringToObject(u, "unit_code", d->units[e->unit].code);
        if (d->units[e->unit].name) cJSON_AddStringToObject(u, "name", d->units[e->unit].name);
        add_nd(u, e->nd);
        cJSON_AddItemToArray(units, u);
    }
    return o;
}

static cJSON *trend_json(const report_ctx *x)
{
    const report_view *v = x->v;
    cJSON *a = cJSON_CreateArray();
    for (int k = 0; k < v->nmonths; k++) {
        cJSON *m = cJSON_CreateObject(), *inds = cJSON_CreateArray();
        char month[8];
        report_month_str(x->d->period.year, v->months[k], month);
        cJSON_AddStringToObject(m, "month", month);
        cJSON_AddItemToObject(m, "indicators", inds);
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "code", tthc_indicators[i].code);
            add_nd(o, v->trend[k][i]);
            int64_t a1, a0;
            if (k > 0 && report_rate_centi(v->trend[k][i], &a1) && report_rate_centi(v->trend[k - 1][i], &a0))
                cJSON_AddNumberToObject(o, "change_pts", (double)(a1 - a0) / 100.0);
            else cJSON_AddNullToObject(o, "change_pts");
            cJSON_AddItemToArray(inds, o);
        }
        cJSON_AddItemToArray(a, m);
    }
    return a;
}

/* A figure with two decimals from exact hundredths. */
static void add_centi(cJSON *o, const char *name, bool has, int64_t centi)
{
    if (has) cJSON_AddNumberToObject(o, name, (double)centi / 100.0);
    else cJSON_AddNullToObject(o, name);
}

static const char *status_name(qd_status s)
{
    return s == QD_KNOWN ? "known" : s == QD_PARTIAL ? "partial" : "unknown";
}

static cJSON *qd_unit_json(const report_qd766 *q, const qd_unit *u)
{
    cJSON *o = cJSON_CreateObject(), *groups = cJSON_CreateArray(), *metrics = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "unit_code", u->code);
    if (u->name) cJSON_AddStringToObject(o, "name", u->name);
    if (strchr(u->code, '.')) cJSON_AddNumberToObject(o, "rank", u->rank);
    add_centi(o, "points_known", true, u->total_centi);
    add_centi(o, "max_known", true, u->max_known_centi);
    add_centi(o, "points_unknown", true, u->max_unknown_centi);
    cJSON_AddItemToObject(o, "groups", groups);
    for (int g = 0; g < q->ngroups; g++) {
        cJSON *go = cJSON_CreateObject();
        cJSON_AddStringToObject(go, "code", q->groups[g].code);
        add_centi(go, "points_known", true, u->g[g].points_centi);
        add_centi(go, "max_known", true, u->g[g].max_known_centi);
        add_centi(go, "points_unknown", true, u->g[g].max_unknown_centi);
        cJSON_AddItemToArray(groups, go);
    }
    cJSON_AddItemToObject(o, "metrics", metrics);
    for (int i = 0; i < q->nmetrics; i++) {
        const qd_metric_val *v = &u->m[i];
        cJSON *mo = cJSON_CreateObject();
        cJSON_AddStringToObject(mo, "code", q->metrics[i].code);
        cJSON_AddStringToObject(mo, "group", q->groups[q->metrics[i].group_index].code);
        cJSON_AddStringToObject(mo, "status", status_name(v->status));
        if (v->has_nd) {
            cJSON_AddNumberToObject(mo, "numerator", (double)v->num);
            cJSON_AddNumberToObject(mo, "denominator", (double)v->den);
        } else {
            cJSON_AddNullToObject(mo, "numerator");
            cJSON_AddNullToObject(mo, "denominator");
        }
        add_centi(mo, "ratio", v->has_ratio, v->ratio_centi);
        add_centi(mo, "score", v->has_score, v->score_centi);
        add_centi(mo, "points_known", true, v->points_centi);
        add_centi(mo, "max_known", true, v->max_known_centi);
        add_centi(mo, "max_points", true, q->metrics[i].max_centi);
        cJSON_AddItemToArray(metrics, mo);
    }
    return o;
}

static cJSON *qd766_json(const report_ctx *x)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    cJSON *o = cJSON_CreateObject(), *units = cJSON_CreateArray(), *months = cJSON_CreateArray(),
          *losing = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "evaluated_at", q->evaluated_at);
    cJSON_AddStringToObject(o, "note",
                            "points needing other feeds (procedure catalogue, petitions) are in "
                            "points_unknown, never counted");
    const qd_unit *s = report_qd766_scope(q, d->scope, d->province_scope);
    if (s) cJSON_AddItemToObject(o, "scope", qd_unit_json(q, s));
    else cJSON_AddNullToObject(o, "scope");
    cJSON_AddItemToObject(o, "losing_most", losing);
    for (int k = 0; k < q->nlosing && s; k++) {
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "code", q->metrics[q->losing[k]].code);
        add_centi(l, "points_lost", true, s->m[q->losing[k]].max_known_centi - s->m[q->losing[k]].points_centi);
        cJSON_AddItemToArray(losing, l);
    }
    cJSON_AddItemToObject(o, "months", months);
    for (int k = 0; k < q->nmonths; k++) {
        cJSON *m = cJSON_CreateObject();
        char month[8];
        report_month_str(d->period.year, q->months[k], month);
        cJSON_AddStringToObject(m, "month", month);
        add_centi(m, "points_known", true, q->month_points[k]);
        add_centi(m, "max_known", true, q->month_max[k]);
        add_centi(m, "change", k > 0, k > 0 ? q->month_points[k] - q->month_points[k - 1] : 0);
        cJSON_AddItemToArray(months, m);
    }
    cJSON_AddNumberToObject(o, "units_ranked", q->nranked);
    cJSON_AddItemToObject(o, "units", units);
    for (size_t u = 0; u < q->nunits; u++) cJSON_AddItemToArray(units, qd_unit_json(q, &q->units[u]));
    return o;
}

/* The indicator part: totals against targets, rankings, trend, year to date. */
static void add_indicators(const report_ctx *x, cJSON *root)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    cJSON *inds = cJSON_CreateArray(), *progress = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "source", "period_totals (counts summed over the period), indicator_target");
    cJSON_AddBoolToObject(root, "has_data", v->has_data);
    cJSON_AddBoolToObject(root, "rollup_from_units", v->rollup_from_units);
    cJSON_AddNumberToObject(root, "rollup_mismatch_months", v->mismatch_months);
    cJSON_AddNumberToObject(root, "min_denominator", (double)d->min_den);
    cJSON_AddItemToObject(root, "indicators", inds);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) cJSON_AddItemToArray(inds, indicator_json(x, i));
    cJSON_AddItemToObject(root, "trend", trend_json(x));
    cJSON_AddItemToObject(root, "year_to_date", progress);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "code", tthc_indicators[i].code);
        add_nd(o, v->ytd[i]);
        cJSON_AddItemToArray(progress, o);
    }
}

tthc_rc report_render_json(const report_ctx *x, FILE *f, tthc_err *err)
{
    const report_data *d = x->d;
    cJSON *root = cJSON_CreateObject(), *scope = cJSON_CreateObject(), *period = cJSON_CreateObject();
    char from[8], to[8];
    cJSON_AddItemToObject(root, "scope", scope);
    cJSON_AddStringToObject(scope, "unit_code", d->scope);
    cJSON_AddStringToObject(scope, "kind", d->province_scope ? "province" : "unit");
    if (d->scope_name) cJSON_AddStringToObject(scope, "name", d->scope_name);
    cJSON_AddItemToObject(root, "period", period);
    cJSON_AddStringToObject(period, "label", d->period.label);
    cJSON_AddStringToObject(period, "kind", kind_names[d->period.kind]);
    report_month_str(d->period.year, d->period.first, from);
    report_month_str(d->period.year, d->period.last, to);
    cJSON_AddStringToObject(period, "from", from);
    cJSON_AddStringToObject(period, "to", to);
    cJSON_AddStringToObject(root, "generated_at", d->generated_at);
    if (x->qd) cJSON_AddItemToObject(root, "qd766", qd766_json(x));
    if (!x->qd_only) add_indicators(x, root);
    char *s = cJSON_Print(root);
    cJSON_Delete(root);
    if (!s) return tthc_fail(err, TTHC_ENOMEM, "out of memory rendering JSON");
    fputs(s, f);
    fputc('\n', f);
    free(s);
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}
