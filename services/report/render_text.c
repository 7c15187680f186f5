/* render_text.c - terminal table and CSV; see report_render.h. */
#include <string.h>

#include "report_render.h"

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
    report_target_status s = report_status(nd, target_centi, &behind);
    if (s == REPORT_TARGET_NO_DATA) snprintf(buf, len, "no data");
    else if (s == REPORT_TARGET_MET) snprintf(buf, len, "met");
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

static void targets_of(const report_data *d, int i, int64_t *t)
{
    for (int k = 0; k < d->ntargets[i]; k++) t[k] = d->targets[i][k].centi;
}

const char *report_rate_text(const report_data *d, int i, report_nd nd, report_lang l, char *buf, size_t len)
{
    int64_t t[REPORT_MAX_TARGETS], c;
    targets_of(d, i, t);
    if (!report_display_centi(nd, t, d->ntargets[i], &c)) {
        buf[0] = '\0';
        return buf;
    }
    return report_fmt_pct(c, l, buf, len);
}

const char *report_status_text(const report_data *d, int i, report_nd nd, int tk, report_lang l, char *buf, size_t len)
{
    const report_text *T = report_text_of(l);
    int64_t t[REPORT_MAX_TARGETS], c, behind;
    targets_of(d, i, t);
    report_target_status s = report_status(nd, t[tk], &behind);
    if (s == REPORT_TARGET_NO_DATA || !report_display_centi(nd, t, d->ntargets[i], &c))
        snprintf(buf, len, "%s", T->st_no_data);
    else if (s == REPORT_TARGET_MET) snprintf(buf, len, "%s", T->st_met);
    else {
        char b[48];
        report_fmt_hundredths(t[tk] - c, l, b, sizeof b); /* from the rate shown: never past the target */
        report_subst(T->st_behind_fmt, b, NULL, buf, len);
    }
    return buf;
}

const char *report_indicator_label(const report_data *d, int i, report_lang l)
{
    if (l == REPORT_EN) return report_indicator_name_en(i);
    return d->name_vi[i][0] ? d->name_vi[i] : tthc_indicators[i].code;
}

static const char *unit_name(const report_unit *u)
{
    return u->name ? u->name : "";
}

/* s padded to |width| characters (UTF-8 code points, not bytes): right-aligned
 * for width > 0, left-aligned for width < 0. */
static void pad(FILE *f, const char *s, int width)
{
    int n = 0;
    for (const char *p = s; *p; p++) n += ((unsigned char)*p & 0xC0) != 0x80;
    int w = width < 0 ? -width : width;
    if (width < 0) fputs(s, f);
    for (int i = n; i < w; i++) fputc(' ', f);
    if (width > 0) fputs(s, f);
}

static void table_totals(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char num[32], den[32], rate[32], tgt[32], st[96];
    bool is_vi = x->lang == REPORT_VI;
    pad(f, is_vi ? "chỉ tiêu" : "indicator", -18);
    pad(f, is_vi ? "tử số" : "numerator", 13);
    pad(f, is_vi ? "mẫu số" : "denominator", 13);
    pad(f, is_vi ? "tỷ lệ" : "rate %", 10);
    pad(f, is_vi ? "mức" : "target", 10);
    fputs("  ", f);
    pad(f, is_vi ? "nguồn" : "source", -23);
    fprintf(f, "%s%s\n", is_vi ? "đánh giá" : "status",
            d->province_scope ? "" : (is_vi ? "  [thứ hạng, 1 = thấp nhất]" : "  [place among units, 1 = worst]"));
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        report_rate_text(d, i, nd, x->lang, rate, sizeof rate);
        int nt = d->ntargets[i];
        for (int t = 0; t < (nt ? nt : 1); t++) {
            if (t == 0)
                fprintf(f, "%-18s %12s %12s %9s", tthc_indicators[i].code,
                        report_fmt_count(nd.num, x->lang, num, sizeof num),
                        report_fmt_count(nd.den, x->lang, den, sizeof den), nd.den ? rate : "-");
            else fprintf(f, "%-18s %12s %12s %9s", "", "", "", "");
            if (nt) {
                report_fmt_pct(d->targets[i][t].centi, x->lang, tgt, sizeof tgt);
                fprintf(f, " %9s  %-22s %s", tgt, d->targets[i][t].source_doc,
                        report_status_text(d, i, nd, t, x->lang, st, sizeof st));
            } else {
                fprintf(f, " %9s  %-22s %s", "-", "-", nd.den ? T->no_target_short : T->st_no_data);
            }
            if (t == 0 && !d->province_scope) {
                if (v->scope_rank[i]) fprintf(f, "  [%d/%zu]", v->scope_rank[i], v->nrank[i]);
                else fprintf(f, "  [-]");
            }
            fputc('\n', f);
        }
    }
}

static void table_ranked(const report_ctx *x, FILE *f, bool best)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char rate[32], num[32], den[32], md[32];
    char top[16], note[256];
    snprintf(top, sizeof top, "%d", x->top);
    report_subst(T->units_note_fmt, report_fmt_count(d->min_den, x->lang, md, sizeof md), top, note, sizeof note);
    fprintf(f, "\n%s (%s)\n", best ? T->h_best : T->h_worst, note);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        char nr[24], ranked[96];
        snprintf(nr, sizeof nr, "%zu", v->nrank[i]);
        fprintf(f, "%s %s\n", tthc_indicators[i].code, report_subst(T->ranked_fmt, nr, NULL, ranked, sizeof ranked));
        for (size_t k = 0; k < v->nrank[i] && (int)k < x->top; k++) {
            size_t pos = best ? v->nrank[i] - 1 - k : k;
            const report_rank_entry *e = &v->rank[i][pos];
            const report_unit *u = &d->units[e->unit];
            int64_t c = 0;
            report_rate_centi(e->nd, &c);
            fprintf(f, "  %3zu. %-10s %9s  %s/%s  %s\n", pos + 1, u->code,
                    report_fmt_pct(c, x->lang, rate, sizeof rate),
                    report_fmt_count(e->nd.num, x->lang, num, sizeof num),
                    report_fmt_count(e->nd.den, x->lang, den, sizeof den), unit_name(u));
        }
    }
}

static void table_trend(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char m[8], rate[32], ch[32];
    fprintf(f, "\n%s (%s)\n%-18s", T->h_trend, T->th_change_note, "");
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], m);
        fprintf(f, " %9s", m);
    }
    fprintf(f, " %9s\n", T->th_change);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        fprintf(f, "%-18s", tthc_indicators[i].code);
        for (int k = 0; k < v->nmonths; k++) {
            int64_t c;
            bool has = report_rate_centi(v->trend[k][i], &c);
            fprintf(f, " %9s", has ? report_fmt_hundredths(c, x->lang, rate, sizeof rate) : "-");
        }
        int64_t a, b;
        if (v->nmonths >= 2 && report_rate_centi(v->trend[v->nmonths - 1][i], &a) &&
            report_rate_centi(v->trend[v->nmonths - 2][i], &b)) {
            char signed_ch[40];
            report_fmt_hundredths(a - b, x->lang, ch, sizeof ch);
            snprintf(signed_ch, sizeof signed_ch, "%s%s", a - b >= 0 ? "+" : "", ch);
            fprintf(f, " %9s", signed_ch);
        } else {
            fprintf(f, " %9s", "-");
        }
        fputc('\n', f);
    }
}

static void table_progress(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char rate[32], tgt[32], st[96];
    fprintf(f, "\n%s. %s\n", T->h_progress, T->progress_note);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (int t = 0; t < d->ntargets[i]; t++) {
            report_rate_text(d, i, v->ytd[i], x->lang, rate, sizeof rate);
            report_fmt_pct(d->targets[i][t].centi, x->lang, tgt, sizeof tgt);
            fprintf(f, "%-18s %9s %9s  %-22s %s\n", tthc_indicators[i].code, v->ytd[i].den ? rate : "-", tgt,
                    d->targets[i][t].source_doc, report_status_text(d, i, v->ytd[i], t, x->lang, st, sizeof st));
        }
}

static void table_qd766(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    const report_text *T = report_text_of(x->lang);
    char a[32], b[32], c[32], n[32], m[8];
    fprintf(f, "\n%s\n", T->q_h);
    char note[512];
    fprintf(f, "%s\n", report_subst(T->q_note_fmt, q->evaluated_at, NULL, note, sizeof note));
    const qd_unit *s = report_qd766_scope(q, d->scope, d->province_scope);
    if (!s) {
        fprintf(f, "%s\n", T->q_none);
        return;
    }
    fprintf(f, "%s: %s %s %s %s; %s %s", d->scope, report_fmt_hundredths(s->total_centi, x->lang, a, sizeof a),
            T->q_points, T->q_of_known, report_fmt_hundredths(s->max_known_centi, x->lang, b, sizeof b),
            report_fmt_hundredths(s->max_unknown_centi, x->lang, c, sizeof c), T->q_unknown);
    if (!d->province_scope) {
        char r1[16], r2[16], rk[96];
        snprintf(r1, sizeof r1, "%d", s->rank);
        snprintf(r2, sizeof r2, "%d", q->nranked);
        fprintf(f, "; %s", report_subst(T->q_rank_fmt, r1, r2, rk, sizeof rk));
    }
    fputc('\n', f);
    for (int g = 0; g < q->ngroups; g++)
        fprintf(f, "  %-18s %8s / %-8s %s %s\n", q->groups[g].code,
                report_fmt_hundredths(s->g[g].points_centi, x->lang, a, sizeof a),
                report_fmt_hundredths(s->g[g].max_known_centi, x->lang, b, sizeof b),
                report_fmt_hundredths(s->g[g].max_unknown_centi, x->lang, c, sizeof c), T->q_unknown);
    for (int i = 0; i < q->nmetrics; i++) {
        const qd_metric_val *mv = &s->m[i];
        fprintf(f, "  %-36s %12s %12s %9s %7s / %-6s %s\n", q->metrics[i].code,
                mv->has_nd ? report_fmt_count(mv->num, x->lang, n, sizeof n) : "-",
                mv->has_nd ? report_fmt_count(mv->den, x->lang, m, sizeof m) : "-",
                mv->has_ratio ? report_fmt_hundredths(mv->ratio_centi, x->lang, a, sizeof a) : "-",
                mv->status == QD_UNKNOWN ? "?" : report_fmt_hundredths(mv->points_centi, x->lang, b, sizeof b),
                report_fmt_hundredths(q->metrics[i].max_centi, x->lang, c, sizeof c),
                mv->status == QD_KNOWN     ? T->q_known
                : mv->status == QD_PARTIAL ? T->q_partial
                                           : T->q_needs_feed);
    }
    fprintf(f, "%s:", T->q_losing);
    for (int k = 0; k < q->nlosing; k++) {
        const qd_metric_val *mv = &s->m[q->losing[k]];
        fprintf(f, " %s (-%s)", q->metrics[q->losing[k]].code,
                report_fmt_hundredths(mv->max_known_centi - mv->points_centi, x->lang, a, sizeof a));
    }
    fprintf(f, "\n%s:", T->q_months_h);
    for (int k = 0; k < q->nmonths; k++) {
        report_month_str(d->period.year, q->months[k], m);
        fprintf(f, " %s %s", m, report_fmt_hundredths(q->month_points[k], x->lang, a, sizeof a));
        if (k)
            fprintf(f, " (%s%s)", q->month_points[k] >= q->month_points[k - 1] ? "+" : "",
                    report_fmt_hundredths(q->month_points[k] - q->month_points[k - 1], x->lang, b, sizeof b));
    }
    fputc('\n', f);
    if (!d->province_scope) return;
    fprintf(f, "%s (%s, %s)\n", T->q_units, T->q_rank, T->q_total);
    for (size_t u = 0; u < q->nunits; u++) {
        const qd_unit *qu = &q->units[u];
        fprintf(f, "  %-10s %4d %8s", qu->code, qu->rank, report_fmt_hundredths(qu->total_centi, x->lang, a, sizeof a));
        for (int g = 0; g < q->ngroups; g++)
            fprintf(f, " %7s", report_fmt_hundredths(qu->g[g].points_centi, x->lang, b, sizeof b));
        fprintf(f, "  %s\n", qu->name ? qu->name : "");
    }
}

tthc_rc report_render_table(const report_ctx *x, FILE *f, tthc_err *err)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    const report_text *T = report_text_of(x->lang);
    char months[32];
    report_months_str(&d->period, months, sizeof months);
    char who[256], when[64], title[512];
    snprintf(who, sizeof who, "%s%s%s%s", d->scope, d->scope_name ? " (" : "", d->scope_name ? d->scope_name : "",
             d->scope_name ? ")" : "");
    snprintf(when, sizeof when, "%s (%s)", d->period.label, months);
    fprintf(f, "%s\n", report_subst(T->t_title_fmt, who, when, title, sizeof title));
    if (!x->qd_only) {
        fprintf(f, "%s%s; indicator_target %d.\n", T->t_counts, v->rollup_from_units ? T->t_rollup_sum : "",
                d->period.year);
        if (!v->has_data) fprintf(f, "%s\n", T->no_data);
        if (v->mismatch_months) {
            char n[16], msg[256];
            snprintf(n, sizeof n, "%d", v->mismatch_months);
            fprintf(f, "%s\n", report_subst(T->mismatch_fmt, n, NULL, msg, sizeof msg));
        }
        fputc('\n', f);
        table_totals(x, f);
        table_ranked(x, f, false);
        table_ranked(x, f, true);
        table_trend(x, f);
        table_progress(x, f);
    }
    if (x->qd) table_qd766(x, f);
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

enum {
    C_SECTION,
    C_SCOPE,
    C_PERIOD,
    C_MONTH,
    C_UNIT,
    C_NAME,
    C_IND,
    C_NUM,
    C_DEN,
    C_RATE,
    C_TARGET,
    C_SOURCE,
    C_STATUS,
    C_BEHIND,
    C_RANK,
    C__N,
    C_GROUP = C__N,
    C_POINTS,
    C_MAX,
    C_UNKNOWN,
    C__NQ
};

static const char *const csv_header[C__NQ] = {"section",    "scope",      "period",     "month",         "unit_code",
                                              "unit_name",  "indicator",  "numerator",  "denominator",   "rate_pct",
                                              "target_pct", "source_doc", "status",     "behind_pts",    "rank",
                                              "group",      "points",     "max_points", "unknown_points"};

/* The QĐ 766 rows: qd766_metric and qd766_group per unit (the province
 * first, then the units by code), qd766_total per unit with its rank, and
 * qd766_month for the scope.  Figures with two decimals, '.' decimal mark. */
static void csv_qd766(const report_ctx *x, FILE *f)
{
    const report_data *d = x->d;
    const report_qd766 *q = x->qd;
    char num[32], den[32], ratio[32], pts[32], mx[32], unk[32], rank[16], month[8];
    for (size_t k = 0; k <= q->nunits; k++) {
        const qd_unit *u = k == 0 ? &q->rollup : &q->units[k - 1];
        if (!u->present) continue;
        const char *name = k == 0 ? (d->province_scope ? d->scope_name : NULL) : u->name;
        rank[0] = '\0';
        if (k > 0) snprintf(rank, sizeof rank, "%d", u->rank);
        for (int i = 0; i < q->nmetrics; i++) {
            const qd_metric_val *v = &u->m[i];
            snprintf(num, sizeof num, "%lld", (long long)v->num);
            snprintf(den, sizeof den, "%lld", (long long)v->den);
            report_fmt_centi(v->ratio_centi, ratio, sizeof ratio);
            report_fmt_centi(v->status == QD_PARTIAL ? v->points_centi : v->score_centi, pts, sizeof pts);
            report_fmt_centi(q->metrics[i].max_centi, mx, sizeof mx);
            report_fmt_centi(v->max_unknown_centi, unk, sizeof unk);
            const char *row[C__NQ] = {"qd766_metric",
                                      d->scope,
                                      d->period.label,
                                      NULL,
                                      u->code,
                                      name,
                                      q->metrics[i].code,
                                      v->has_nd ? num : NULL,
                                      v->has_nd ? den : NULL,
                                      v->has_ratio ? ratio : NULL,
                                      NULL,
                                      NULL,
                                      v->status == QD_KNOWN     ? "known"
                                      : v->status == QD_PARTIAL ? "partial"
                                                                : "unknown",
                                      NULL,
                                      rank,
                                      q->groups[q->metrics[i].group_index].code,
                                      v->has_score || v->status == QD_PARTIAL ? pts : NULL,
                                      mx,
                                      unk};
            csv_row(f, row, C__NQ);
        }
        for (int g = 0; g < q->ngroups; g++) {
            report_fmt_centi(u->g[g].points_centi, pts, sizeof pts);
            report_fmt_centi(u->g[g].max_known_centi, mx, sizeof mx);
            report_fmt_centi(u->g[g].max_unknown_centi, unk, sizeof unk);
            const char *row[C__NQ] = {"qd766_group",
                                      d->scope,
                                      d->period.label,
                                      NULL,
                                      u->code,
                                      name,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      NULL,
                                      rank,
                                      q->groups[g].code,
                                      pts,
                                      mx,
                                      unk};
            csv_row(f, row, C__NQ);
        }
        report_fmt_centi(u->total_centi, pts, sizeof pts);
        report_fmt_centi(u->max_known_centi, mx, sizeof mx);
        report_fmt_centi(u->max_unknown_centi, unk, sizeof unk);
        const char *row[C__NQ] = {"qd766_total",
                                  d->scope,
                                  d->period.label,
                                  NULL,
                                  u->code,
                                  name,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  NULL,
                                  rank,
                                  NULL,
                                  pts,
                                  mx,
                                  unk};
        csv_row(f, row, C__NQ);
    }
    for (int k = 0; k < q->nmonths; k++) {
        report_month_str(d->period.year, q->months[k], month);
        report_fmt_centi(q->month_points[k], pts, sizeof pts);
        report_fmt_centi(q->month_max[k], mx, sizeof mx);
        const char *row[C__NQ] = {"qd766_month", d->scope, d->period.label,
                                  month,         d->scope, d->scope_name,
                                  NULL,          NULL,     NULL,
                                  NULL,          NULL,     NULL,
                                  NULL,          NULL,     NULL,
                                  NULL,          pts,      mx,
                                  NULL};
        csv_row(f, row, C__NQ);
    }
}

/* One row of the indicator sections, with empty QĐ 766 columns when the CSV has them. */
static void csv_row_ind(FILE *f, const char *const *v, bool qd)
{
    const char *row[C__NQ] = {NULL};
    memcpy(row, v, C__N * sizeof *row);
    csv_row(f, row, qd ? C__NQ : C__N);
}

tthc_rc report_render_csv(const report_ctx *x, FILE *f, tthc_err *err)
{
    const report_data *d = x->d;
    const report_view *v = x->v;
    bool qd = x->qd != NULL;
    char num[32], den[32], rate[32], tgt[32], st[16], behind[32], rank[32], month[8];
    csv_row(f, csv_header, qd ? C__NQ : C__N);
    if (x->qd_only) {
        if (qd) csv_qd766(x, f);
        return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        report_nd nd = v->total[i];
        snprintf(num, sizeof num, "%lld", (long long)nd.num);
        snprintf(den, sizeof den, "%lld", (long long)nd.den);
        rank[0] = '\0';
        if (!d->province_scope && v->scope_rank[i]) snprintf(rank, sizeof rank, "%d", v->scope_rank[i]);
        for (int t = 0; t < (d->ntargets[i] ? d->ntargets[i] : 1); t++) {
            const char *row[C__N] = {"total",
                                     d->scope,
                                     d->period.label,
                                     NULL,
                                     d->scope,
                                     d->scope_name,
                                     tthc_indicators[i].code,
                                     num,
                                     den,
                                     report_rate_str(nd, rate, sizeof rate),
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     rank};
            if (d->ntargets[i]) {
                int64_t b;
                report_target_status s = report_status(nd, d->targets[i][t].centi, &b);
                report_fmt_centi(d->targets[i][t].centi, tgt, sizeof tgt);
                snprintf(st, sizeof st, "%s",
                         s == REPORT_TARGET_NO_DATA ? "no_data"
                         : s == REPORT_TARGET_MET   ? "met"
                                                    : "behind");
                report_fmt_centi(b, behind, sizeof behind);
                row[C_TARGET] = tgt;
                row[C_SOURCE] = d->targets[i][t].source_doc;
                row[C_STATUS] = st;
                row[C_BEHIND] = s == REPORT_TARGET_BEHIND ? behind : NULL;
            } else {
                row[C_STATUS] = nd.den ? "no_target" : "no_data";
            }
            csv_row_ind(f, row, qd);
        }
    }
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (size_t k = 0; k < v->nrank[i]; k++) {
            const report_rank_entry *e = &v->rank[i][k];
            const report_unit *u = &d->units[e->unit];
            snprintf(num, sizeof num, "%lld", (long long)e->nd.num);
            snprintf(den, sizeof den, "%lld", (long long)e->nd.den);
            snprintf(rank, sizeof rank, "%zu", k + 1);
            const char *row[C__N] = {"unit",
                                     d->scope,
                                     d->period.label,
                                     NULL,
                                     u->code,
                                     u->name,
                                     tthc_indicators[i].code,
                                     num,
                                     den,
                                     report_rate_str(e->nd, rate, sizeof rate),
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     rank};
            csv_row_ind(f, row, qd);
        }
    for (int k = 0; k < v->nmonths; k++) {
        report_month_str(d->period.year, v->months[k], month);
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
            report_nd nd = v->trend[k][i];
            snprintf(num, sizeof num, "%lld", (long long)nd.num);
            snprintf(den, sizeof den, "%lld", (long long)nd.den);
            const char *row[C__N] = {"trend",
                                     d->scope,
                                     d->period.label,
                                     month,
                                     d->scope,
                                     d->scope_name,
                                     tthc_indicators[i].code,
                                     num,
                                     den,
                                     report_rate_str(nd, rate, sizeof rate),
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL,
                                     NULL};
            csv_row_ind(f, row, qd);
        }
    }
    /* Year to date (January to the period's last month) against each target of the year. */
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        for (int t = 0; t < d->ntargets[i]; t++) {
            report_nd nd = v->ytd[i];
            int64_t b;
            report_target_status s = report_status(nd, d->targets[i][t].centi, &b);
            snprintf(num, sizeof num, "%lld", (long long)nd.num);
            snprintf(den, sizeof den, "%lld", (long long)nd.den);
            report_fmt_centi(d->targets[i][t].centi, tgt, sizeof tgt);
            report_fmt_centi(b, behind, sizeof behind);
            report_month_str(d->period.year, d->period.last, month);
            const char *row[C__N] = {"ytd",
                                     d->scope,
                                     d->period.label,
                                     month,
                                     d->scope,
                                     d->scope_name,
                                     tthc_indicators[i].code,
                                     num,
                                     den,
                                     report_rate_str(nd, rate, sizeof rate),
                                     tgt,
                                     d->targets[i][t].source_doc,
                                     s == REPORT_TARGET_NO_DATA ? "no_data"
                                     : s == REPORT_TARGET_MET   ? "met"
                                                                : "behind",
                                     s == REPORT_TARGET_BEHIND ? behind : NULL,
                                     NULL};
            csv_row_ind(f, row, qd);
        }
    if (qd) csv_qd766(x, f);
    return ferror(f) ? tthc_fail(err, TTHC_EIO, "write failed") : TTHC_OK;
}
