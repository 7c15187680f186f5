/* render_text.c - terminal table and CSV; see render.h. */
#include <string.h>

#include "render.h"

const char *report_rate_str(report_nd nd, char *buf, size_t len)
{
    int64_t c;
    if (!report_rate_centi(nd, &c)) {
        buf[0] = '\0';
        return buf;
    }
    report_fmt_centi(c, buf, len);
    return buf;
}

const char *report_status_str(report_nd nd, int64_t target_centi, char *buf, size_t len)
{
    int64_t behind;
    int s = report_status(nd, target_centi, &behind);
    if (s < 0) snprintf(buf, len, "no data");
    else if (s > 0) snprintf(buf, len, "met");
    else {
        char b[32];
        report_fmt_centi(behind, b, sizeof b);
        snprintf(buf, len, "behind %s pts", b);
    }
    return buf;
}

void report_months_str(const report_period *p, char *buf, size_t len)
{
    char a[8], b[8];
    report_month_str(p->year, p->first, a);
    report_month_str(p->year, p->last, b);
    if (p->first == p->last) snprintf(buf, len, "%s", a);
    else snprintf(buf, len, "%s..%s", a, b);
}

static const char *unit_name(const report_unit *u)
{
    return u->name ? u->name : "";
}

static void table_totals(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char rate[32], tgt[32], st[64];
    fprintf(f, "%-18s %12s %12s %8s %8s  %-22s %s%s\n", "indicator", "numerator", "denominator", "rate %", "target",
            "source", "status", d->province_scope ? "" : "  [place among units, 1 = worst]");
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        report_rate_str(nd, rate, sizeof rate);
        int nt = d->ntargets[i];
        for (int t = 0; t < (nt ? nt : 1); t++) {
            if (t == 0)
                fprintf(f, "%-18s %12lld %12lld %8s", tthc_indicators[i].code, (long long)nd.num, (long long)nd.den,
                        nd.den ? rate : "-");
            else
                fprintf(f, "%-18s %12s %12s %8s", "", "", "", "");
            if (nt) {
                report_fmt_centi(d->targets[i][t].centi, tgt, sizeof tgt);
                fprintf(f, " %8s  %-22s %s", tgt, d->targets[i][t].source_doc,
                        report_status_str(nd, d->targets[i][t].centi, st, sizeof st));
            } else {
                fprintf(f, " %8s  %-22s %s", "-", "-", nd.den ? "no target" : "no data");
            }
            if (t == 0 && !d->province_scope) {
                if (v->scope_rank[i]) fprintf(f, "  [%d/%zu]", v->scope_rank[i], v->nrank[i]);
                else fprintf(f, "  [not ranked]");
            }
            fputc('\n', f);
        }
    }
}

static void table_worst(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char rate[32];
    fprintf(f, "\nWorst units first (denominator >= %lld; %d shown per indicator)\n", (long long)d->min_den, x->top);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fprintf(f, "%s (%zu units ranked)\n", tthc_indicators[i].code, v->nrank[i]);
        for (size_t k = 0; k < v->nrank[i] && (int)k < x->top; k++) {
            const report_rank_entry *e = &v->rank[i][k];
            const report_unit *u = &d->units[e->unit];
            fprintf(f, "  %3zu. %-10s %8s %%  %lld/%lld  %s\n", k + 1, u->code, report_rate_str(e->nd, rate, sizeof rate),
                    (long long)e->nd.num, (long long)e->nd.den, unit_name(u));
        }
    }
}

static void table_trend(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char m[8], rate[32], ch[32];
    fprintf(f, "\nTrend, rate %% month by month (change: last month against the one before, in points)\n%-18s", "indicator");
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], m);
        fprintf(f, " %8s", m);
    }
    fprintf(f, " %8s\n", "change");
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fprintf(f, "%-18s", tthc_indicators[i].code);
        for (int k = 0; k < v->nmonths; k++) {
            report_rate_str(v->trend[k][i], rate, sizeof rate);
            fprintf(f, " %8s", rate[0] ? rate : "-");
        }
        int64_t a, b;
        if (v->nmonths >= 2 && report_rate_centi(v->trend[v->nmonths - 1][i], &a) &&
            report_rate_centi(v->trend[v->nmonths - 2][i], &b)) {
            char signed_ch[40];
            report_fmt_centi(a - b, ch, sizeof ch);
            snprintf(signed_ch, sizeof signed_ch, "%s%s", a - b >= 0 ? "+" : "", ch);
            fprintf(f, " %8s", signed_ch);
        } else {
            fprintf(f, " %8s", "-");
        }
        fputc('\n', f);
    }
}

tthc_rc report_render_table(const report_ctx *x, FILE *f, tthc_err *err)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    char months[32];
    report_months_str(&d->period, months, sizeof months);
    fprintf(f, "TTHC indicators of %s%s%s%s, %s (%s)\n", d->scope, d->scope_name ? " (" : "",
            d->scope_name ? d->scope_name : "", d->scope_name ? ")" : "", d->period.label, months);
    fprintf(f, "Counts summed from period_totals%s; targets of %d from indicator_target.\n",
            v->rollup_from_units ? " (no roll-up rows: the sum of the units)" : "", d->period.year);
    if (!v->has_data) fprintf(f, "No data for this scope in this period.\n");
    if (v->mismatch_months) fprintf(f, "Warning: in %d month(s) the units do not add up to the province roll-up.\n", v->mismatch_months);
    fputc('\n', f);
    table_totals(x, f);
    table_worst(x, f);
    table_trend(x, f);
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_field(FILE *f, const char *s)
{
    if (!s) s = "";
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* One row; NULL fields are empty. */
static void csv_row(FILE *f, const char *const *v, int n)
{
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', f);
        csv_field(f, v[i]);
    }
    fputs("\r\n", f);
}

enum { C_SECTION, C_SCOPE, C_PERIOD, C_MONTH, C_UNIT, C_NAME, C_IND, C_NUM, C_DEN, C_RATE, C_TARGET, C_SOURCE,
       C_STATUS, C_BEHIND, C_RANK, C__N };

tthc_rc report_render_csv(const report_ctx *x, FILE *f, tthc_err *err)
{
    static const char *const header[C__N] = {"section", "scope", "period", "month", "unit_code", "unit_name",
                                             "indicator", "numerator", "denominator", "rate_pct", "target_pct",
                                             "source_doc", "status", "behind_pts", "rank"};
    const report_data *d = x->d;
    const report_view *v = x->v;
    char num[32], den[32], rate[32], tgt[32], st[16], behind[32], rank[32], month[8];
    csv_row(f, header, C__N);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        snprintf(num, sizeof num, "%lld", (long long)nd.num);
        snprintf(den, sizeof den, "%lld", (long long)nd.den);
        rank[0] = '\0';
        if (!d->province_scope && v->scope_rank[i]) snprintf(rank, sizeof rank, "%d", v->scope_rank[i]);
        for (int t = 0; t < (d->ntargets[i] ? d->ntargets[i] : 1); t++) {
            const char *row[C__N] = {"total", d->scope, d->period.label, NULL, d->scope, d->scope_name,
                                     tthc_indicators[i].code, num, den, report_rate_str(nd, rate, sizeof rate),
                                     NULL, NULL, NULL, NULL, rank};
            if (d->ntargets[i]) {
                int64_t b;
                int s = report_status(nd, d->targets[i][t].centi, &b);
                report_fmt_centi(d->targets[i][t].centi, tgt, sizeof tgt);
                snprintf(st, sizeof st, "%s", s < 0 ? "no_data" : s ? "met" : "behind");
                report_fmt_centi(b, behind, sizeof behind);
                row[C_TARGET] = tgt;
                row[C_SOURCE] = d->targets[i][t].source_doc;
                row[C_STATUS] = st;
                row[C_BEHIND] = s == 0 ? behind : NULL;
            } else {
                row[C_STATUS] = nd.den ? "no_target" : "no_data";
            }
            csv_row(f, row, C__N);
        }
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (size_t k = 0; k < v->nrank[i]; k++) {
            const report_rank_entry *e = &v->rank[i][k];
            const report_unit *u = &d->units[e->unit];
            snprintf(num, sizeof num, "%lld", (long long)e->nd.num);
            snprintf(den, sizeof den, "%lld", (long long)e->nd.den);
            snprintf(rank, sizeof rank, "%zu", k + 1);
            const char *row[C__N] = {"unit", d->scope, d->period.label, NULL, u->code, u->name, tthc_indicators[i].code,
                                     num, den, report_rate_str(e->nd, rate, sizeof rate), NULL, NULL, NULL, NULL, rank};
            csv_row(f, row, C__N);
        }
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], month);
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
            report_nd nd = v->trend[k][i];
            snprintf(num, sizeof num, "%lld", (long long)nd.num);
            snprintf(den, sizeof den, "%lld", (long long)nd.den);
            const char *row[C__N] = {"trend", d->scope, d->period.label, month, d->scope, d->scope_name,
                                     tthc_indicators[i].code, num, den, report_rate_str(nd, rate, sizeof rate),
                                     NULL, NULL, NULL, NULL, NULL};
            csv_row(f, row, C__N);
        }
    }
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}
