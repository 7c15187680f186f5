/* i18n.h - the report's words and number formats in Vietnamese (the default
 * of tthc-report) and English.
 *
 * Vietnamese: thousands with '.', decimals with ',' and a space before '%'
 * (79.602; 63,83 %).  English keeps the plain machine forms (79602; 63.83%).
 * CSV and JSON are machine formats and never localized.  Static data; every
 * function is pure and thread-safe. */
#ifndef REPORT_I18N_H
#define REPORT_I18N_H

#include <stddef.h>
#include <stdint.h>

typedef enum { REPORT_EN = 0, REPORT_VI } report_lang;

typedef struct {
    const char *html_lang, *title, *h1, *sub_months, *sub_counts;
    const char *card_targets, *card_received, *card_issued, *card_payments, *card_units;
    const char *no_data, *mismatch_fmt; /* *_fmt: templates for report_subst() */
    const char *h_summary, *th_indicator, *th_num, *th_den, *th_rate, *th_targets, *th_place, *th_place_note,
        *no_target, *no_target_short;
    const char *st_met, *st_behind_fmt, *st_no_data;
    const char *h_bar, *bar_aria, *leg_bars, *leg_all, *leg_some, *leg_behind, *leg_none, *leg_target;
    const char *h_trend, *trend_legend, *leg_rate, *leg_target_dashed, *th_change, *th_change_note;
    const char *h_worst, *h_best, *units_note_fmt, *ranked_fmt, *th_unit, *th_numden, *no_unit;
    const char *h_progress, *progress_note, *th_ytd, *th_target, *th_progress;
    const char *footer;
    /* QĐ 766 */
    const char *q_h, *q_note_fmt, *q_points, *q_of_known, *q_unknown, *q_rank_fmt, *q_group, *q_metric, *q_score,
        *q_max, *q_status, *q_known, *q_partial, *q_needs_feed, *q_losing, *q_lost, *q_month, *q_change, *q_units,
        *q_total, *q_rank, *q_none, *q_months_h, *q_best, *q_worst;
    /* table format */
    const char *t_title_fmt, *t_counts, *t_rollup_sum;
} report_text;

const report_text *report_text_of(report_lang l);

/* The template with its first "{}" replaced by a and its second by b (NULL:
 * empty), into buf (truncated to len).  The words' templates use "{}", never
 * printf directives, so a translation cannot break a format. */
const char *report_subst(const char *tmpl, const char *a, const char *b, char *buf, size_t len);

/* "79.602" (vi) or "79602" (en). */
const char *report_fmt_count(int64_t v, report_lang l, char *buf, size_t len);
/* Hundredths as "63,83" (vi) or "63.83" (en); negative with '-'. */
const char *report_fmt_hundredths(int64_t centi, report_lang l, char *buf, size_t len);
/* "63,83 %" (vi) or "63.83%" (en). */
const char *report_fmt_pct(int64_t centi, report_lang l, char *buf, size_t len);
/* An indicator's English name (the database holds the Vietnamese one). */
const char *report_indicator_name_en(int indicator);

#endif
