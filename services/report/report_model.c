#include "report_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef __int128 i128;

/* The messages follow the option's name in main.c ("--period must be ..."); s
 * itself is not echoed. */
static tthc_rc bad_period(bool ytd, tthc_err *err)
{
    return tthc_fail(err, TTHC_EINVAL, ytd ? "must be YYYY-MM" : "must be YYYY-MM, YYYY-Qn or YYYY");
}

tthc_rc report_period_parse(const char *s, bool ytd, report_period *p, tthc_err *err)
{
    int y = 0, m = 0, n = 0;
    char c = 0, tail = 0;
    memset(p, 0, sizeof *p);
    if (!s) return tthc_fail(err, TTHC_EINVAL, "missing: a period is required");
    size_t len = strlen(s);
    if (len == 4 && sscanf(s, "%4d%c", &y, &tail) == 1 && !ytd) {
        p->kind = REPORT_YEAR;
        p->first = 1;
        p->last = 12;
    } else if (len == 7 && sscanf(s, "%4d-%c%1d%c", &y, &c, &n, &tail) == 3 && (c == 'Q' || c == 'q') && !ytd) {
        if (n < 1 || n > 4) return tthc_fail(err, TTHC_EINVAL, "must name a quarter Q1 to Q4 (YYYY-Qn)");
        p->kind = REPORT_QUARTER;
        p->first = 3 * n - 2;
        p->last = 3 * n;
    } else if (len == 7 && s[4] == '-' && sscanf(s, "%4d-%2d%c", &y, &m, &tail) == 2) {
        if (s[5] < '0' || s[5] > '9' || s[6] < '0' || s[6] > '9') return bad_period(ytd, err);
        if (m < 1 || m > 12) return tthc_fail(err, TTHC_EINVAL, "must name a month 01 to 12 (YYYY-MM)");
        p->kind = ytd ? REPORT_YTD : REPORT_MONTH;
        p->first = ytd ? 1 : m;
        p->last = m;
    } else {
        return bad_period(ytd, err);
    }
    for (int i = 0; i < 4; i++)
        if (s[i] < '0' || s[i] > '9') return bad_period(ytd, err);
    if (y < 1970 || y > 9999) return tthc_fail(err, TTHC_EINVAL, "must name a year in 1970-9999");
    p->year = y;
    if (p->kind == REPORT_YTD) snprintf(p->label, sizeof p->label, "%04d-%02d YTD", y % 10000, m % 100);
    else memcpy(p->label, s, len + 1);
    return TTHC_OK;
}

void report_month_str(int year, int month, char out[8])
{
    snprintf(out, 8, "%04d-%02d", (year % 10000 + 10000) % 10000, (month % 100 + 100) % 100);
}

static bool province_code(const char *s)
{
    return tthc_valid_charset(s, 1, 10, NULL);
}

tthc_rc report_data_init(report_data *d, const char *scope, const report_period *p, tthc_err *err)
{
    memset(d, 0, sizeof *d);
    if (!scope) return tthc_fail(err, TTHC_EINVAL, "missing: a province or unit code is required");
    if (province_code(scope)) {
        d->province_scope = true;
    } else if (strlen(scope) > TTHC_UNIT_MAX || !tthc_valid_unit_code(scope)) {
        return tthc_fail(err, TTHC_EINVAL, "must be a province code (H61) or a unit code (H61.07)");
    }
    snprintf(d->scope, sizeof d->scope, "%s", scope);
    tthc_unit_province(scope, d->province, sizeof d->province);
    snprintf(d->rollup.code, sizeof d->rollup.code, "%s", d->province);
    d->period = *p;
    d->min_den = 1;
    return TTHC_OK;
}

static report_unit *find_unit(report_data *d, const char *code)
{
    for (size_t i = 0; i < d->nunits; i++)
        if (!strcmp(d->units[i].code, code)) return &d->units[i];
    return NULL;
}

tthc_rc report_data_add_row(report_data *d, const char *unit_code, const char *period, const tthc_counts *c,
                            tthc_err *err)
{
    int y, m;
    char tail;
    if (!period || strlen(period) != 7 || sscanf(period, "%4d-%2d%c", &y, &m, &tail) != 2 || y != d->period.year ||
        m < 1 || m > 12)
        return tthc_fail(err, TTHC_EINVAL, "row of %s: period outside %04d", unit_code, d->period.year);
    report_unit *u;
    if (!strcmp(unit_code, d->province)) {
        u = &d->rollup;
    } else {
        char prov[TTHC_UNIT_MAX + 1];
        tthc_unit_province(unit_code, prov, sizeof prov);
        if (strcmp(prov, d->province) || strlen(unit_code) > TTHC_UNIT_MAX)
            return tthc_fail(err, TTHC_EINVAL, "row of %s: not a unit of %s", unit_code, d->province);
        u = find_unit(d, unit_code);
        if (!u) {
            if (d->nunits == d->capunits) {
                size_t cap = d->capunits ? d->capunits * 2 : 256;
                report_unit *nv = realloc(d->units, cap * sizeof *nv);
                if (!nv) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
                d->units = nv;
                d->capunits = cap;
            }
            u = &d->units[d->nunits++];
            memset(u, 0, sizeof *u);
            memcpy(u->code, unit_code, strlen(unit_code) + 1);
        }
    }
    for (int k = 0; k < TTHC_C__COUNT; k++) u->month[m - 1].c[k] += c->c[k];
    u->present |= (uint16_t)(1u << (m - 1));
    return TTHC_OK;
}

tthc_rc report_data_add_target(report_data *d, const char *indicator, const char *source_doc, int64_t centi,
                               tthc_err *err)
{
    int i = tthc_indicator_find(indicator);
    if (i < 0) return TTHC_OK; /* a target of an indicator this program does not know: not shown */
    if (d->ntargets[i] == REPORT_MAX_TARGETS)
        return tthc_fail(err, TTHC_EINVAL, "more than %d targets for %s", REPORT_MAX_TARGETS, indicator);
    report_target *t = &d->targets[i][d->ntargets[i]++];
    snprintf(t->source_doc, sizeof t->source_doc, "%s", source_doc);
    t->centi = centi;
    return TTHC_OK;
}

void report_data_free(report_data *d)
{
    free(d->units);
    d->units = NULL;
    d->nunits = d->capunits = 0;
}

/* ---- numbers ------------------------------------------------------------ */

/* Columns of each indicator in period_totals (the indicator_totals view). */
static const tthc_counter cols[TTHC_INDICATOR_COUNT][2] = {
    {TTHC_C_ONLINE, TTHC_C_RECEIVED},          {TTHC_C_COMP_DIGITIZED, TTHC_C_RECEIVED},
    {TTHC_C_RESULT_DIGITIZED, TTHC_C_ISSUED},  {TTHC_C_E_RESULT, TTHC_C_ISSUED},
    {TTHC_C_ID_TAGGED, TTHC_C_RECEIVED},       {TTHC_C_DATA_REUSED, TTHC_C_RECEIVED},
    {TTHC_C_PAYMENTS_ONLINE, TTHC_C_PAYMENTS}, {TTHC_C_SYNCED, TTHC_C_ISSUED},
    {TTHC_C_ON_TIME, TTHC_C_DUE_ISSUED},       {TTHC_C_SATISFIED, TTHC_C_RATED},
};

report_nd report_nd_of(const tthc_counts *c, int ind)
{
    report_nd r = {c->c[cols[ind][0]], c->c[cols[ind][1]]};
    return r;
}

bool report_rate_centi(report_nd nd, int64_t *centi)
{
    if (nd.den <= 0) return false;
    /* round half up of 10000 * num / den, exactly */
    i128 q = ((i128)20000 * nd.num + nd.den) / ((i128)2 * nd.den);
    *centi = (int64_t)q;
    return true;
}

report_target_status report_status(report_nd nd, int64_t target_centi, int64_t *behind_centi)
{
    *behind_centi = 0;
    if (nd.den <= 0) return REPORT_TARGET_NO_DATA;
    i128 have = (i128)10000 * nd.num, need = (i128)target_centi * nd.den;
    if (have >= need) return REPORT_TARGET_MET;
    *behind_centi = (int64_t)((need - have + nd.den - 1) / nd.den); /* rounded up: never "behind by 0.00" */
    return REPORT_TARGET_BEHIND;
}

bool report_display_centi(report_nd nd, const int64_t *targets_centi, int ntargets, int64_t *centi)
{
    if (!report_rate_centi(nd, centi)) return false;
    int64_t behind;
    for (int t = 0; t < ntargets; t++)
        if (report_status(nd, targets_centi[t], &behind) == REPORT_TARGET_BEHIND && *centi >= targets_centi[t]) {
            *centi = (int64_t)(((i128)10000 * nd.num) / nd.den); /* rounded down: below the target */
            break;
        }
    return true;
}

void report_fmt_centi(int64_t centi, char *buf, size_t len)
{
    int64_t a = centi < 0 ? -centi : centi;
    snprintf(buf, len, "%s%lld.%02lld", centi < 0 ? "-" : "", (long long)(a / 100), (long long)(a % 100));
}

int report_rate_cmp(report_nd a, report_nd b)
{
    i128 l = (i128)a.num * b.den, r = (i128)b.num * a.den;
    return l < r ? -1 : l > r ? 1 : 0;
}

/* ---- the view ------------------------------------------------------------ */

static void add_counts(tthc_counts *acc, const tthc_counts *c)
{
    for (int k = 0; k < TTHC_C__COUNT; k++) acc->c[k] += c->c[k];
}

static const report_data *sort_ctx_data;

static int worst_first(const void *pa, const void *pb)
{
    const report_rank_entry *a = pa, *b = pb;
    int c = report_rate_cmp(a->nd, b->nd);
    if (c) return c;
    if (a->nd.den != b->nd.den) return a->nd.den > b->nd.den ? -1 : 1; /* the bigger unit first */
    return strcmp(sort_ctx_data->units[a->unit].code, sort_ctx_data->units[b->unit].code);
}

/* The scope's counts of month m (1..12), and whether it has a row. */
static bool scope_month(const report_data *d, const report_view *v, int m, tthc_counts *out)
{
    memset(out, 0, sizeof *out);
    uint16_t bit = (uint16_t)(1u << (m - 1));
    if (!d->province_scope) {
        for (size_t i = 0; i < d->nunits; i++)
            if (!strcmp(d->units[i].code, d->scope)) {
                *out = d->units[i].month[m - 1];
                return (d->units[i].present & bit) != 0;
            }
        return false;
    }
    if (!v->rollup_from_units) {
        *out = d->rollup.month[m - 1];
        return (d->rollup.present & bit) != 0;
    }
    bool any = false;
    for (size_t i = 0; i < d->nunits; i++) {
        add_counts(out, &d->units[i].month[m - 1]);
        any |= (d->units[i].present & bit) != 0;
    }
    return any;
}

static tthc_rc rank(const report_data *d, report_view *v, tthc_err *err)
{
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        v->rank[i] = calloc(d->nunits ? d->nunits : 1, sizeof *v->rank[i]);
        if (!v->rank[i]) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        for (size_t u = 0; u < d->nunits; u++) {
            tthc_counts sum = {{0}};
            for (int m = d->period.first; m <= d->period.last; m++) add_counts(&sum, &d->units[u].month[m - 1]);
            report_nd nd = report_nd_of(&sum, i);
            if (nd.den <= 0 || nd.den < d->min_den) continue;
            v->rank[i][v->nrank[i]].unit = (int)u;
            v->rank[i][v->nrank[i]++].nd = nd;
        }
        sort_ctx_data = d;
        qsort(v->rank[i], v->nrank[i], sizeof *v->rank[i], worst_first);
        for (size_t k = 0; k < v->nrank[i]; k++)
            if (!strcmp(d->units[v->rank[i][k].unit].code, d->scope)) v->scope_rank[i] = (int)k + 1;
    }
    return TTHC_OK;
}

tthc_rc report_compute(const report_data *d, report_view *v, tthc_err *err)
{
    memset(v, 0, sizeof *v);
    v->rollup_from_units = d->province_scope && d->rollup.present == 0 && d->nunits > 0;
    /* Consistency: the units of each month add up to the roll-up. */
    for (int m = 1; m <= 12; m++) {
        if (!(d->rollup.present & (1u << (m - 1)))) continue;
        tthc_counts sum = {{0}};
        for (size_t u = 0; u < d->nunits; u++) add_counts(&sum, &d->units[u].month[m - 1]);
        if (memcmp(&sum, &d->rollup.month[m - 1], sizeof sum)) v->mismatch_months++;
    }
    tthc_counts total = {{0}}, c;
    int first_data = 0;
    for (int m = 1; m <= d->period.last; m++) {
        bool present = scope_month(d, v, m, &c);
        if (present && !first_data) first_data = m;
        if (m >= d->period.first) {
            add_counts(&total, &c);
            v->has_data |= present;
        }
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) v->total[i] = report_nd_of(&total, i);
    tthc_counts ytd = {{0}};
    for (int m = 1; m <= d->period.last; m++) {
        scope_month(d, v, m, &c);
        add_counts(&ytd, &c);
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) v->ytd[i] = report_nd_of(&ytd, i);
    /* Trend: the months with data from the year's first one (at the latest
     * the period's first month) to the period's last; a month without any
     * dossier is left out, never shown as 0/0. */
    int from = first_data && first_data < d->period.first ? first_data : d->period.first;
    for (int m = from; m <= d->period.last; m++) {
        if (!scope_month(d, v, m, &c) || c.c[TTHC_C_RECEIVED] == 0) continue;
        v->months[v->nmonths] = m;
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) v->trend[v->nmonths][i] = report_nd_of(&c, i);
        v->nmonths++;
    }
    tthc_rc rc = rank(d, v, err);
    if (rc) report_view_free(v);
    return rc;
}

void report_view_free(report_view *v)
{
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        free(v->rank[i]);
        v->rank[i] = NULL;
        v->nrank[i] = 0;
    }
}
