/* report_render.h - the report's four outputs (each with the QĐ 766 section when
 * the context has one, or only that section with qd_only), written from a computed view (pure
 * apart from writing to the given stream).
 *
 *   table  a terminal table: totals against every target, worst units,
 *          trend month by month;
 *   csv    long format, one header, sections total / unit / trend;
 *   json   one object (cJSON builders);
 *   html   one self-contained page: inline CSS, inline SVG charts (rate
 *          against target per indicator, trend lines per month), no script,
 *          no external asset; every text escaped. */
#ifndef REPORT_RENDER_H
#define REPORT_RENDER_H

#include <stdio.h>

#include "err.h"
#include "i18n.h"
#include "qd766.h"
#include "report_model.h"

typedef struct {
    const report_data *d;
    const report_view *v;
    int top;                /* units listed per indicator in table and html */
    report_lang lang;       /* table and html; 0 = English (tthc-report's default is Vietnamese) */
    const report_qd766 *qd; /* the QĐ 766 section, or NULL for none */
    bool qd_only;           /* --qd766-only: that section alone */
} report_ctx;

tthc_rc report_render_table(const report_ctx *x, FILE *f, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc report_render_csv(const report_ctx *x, FILE *f, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc report_render_json(const report_ctx *x, FILE *f, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc report_render_html(const report_ctx *x, FILE *f, tthc_err *err) TTHC_MUSTCHECK;

/* Shared helpers. */
/* "63.83" or "" when the denominator is 0. */
const char *report_rate_str(report_nd nd, char *buf, size_t len);
/* "met", "behind 16.17 pts" or "no data". */
const char *report_status_str(report_nd nd, int64_t target_centi, char *buf, size_t len);
/* The status in a language, "behind" counted from the rate shown
 * (report_display_centi against the indicator's targets): "đạt",
 * "chưa đạt, còn thiếu 16,17 điểm %", "chưa có số liệu". */
const char *report_status_text(const report_data *d, int i, report_nd nd, int t, report_lang l, char *buf, size_t len);
/* The rate shown next to the indicator's targets ("63,83 %" / "63.83%"), or "" without a denominator. */
const char *report_rate_text(const report_data *d, int i, report_nd nd, report_lang l, char *buf, size_t len);
/* An indicator's name in the language. */
const char *report_indicator_label(const report_data *d, int i, report_lang l);
/* Months of the period as "2025-07..2025-09" (or one month). */
void report_months_str(const report_period *p, char *buf, size_t len);

#endif
