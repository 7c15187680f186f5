/* i18n.c - the report's words and number formats; see i18n.h. */
#include "i18n.h"

#include <stdio.h>
#include <string.h>

#include "indicators.h"

static const report_text en = {
    .html_lang = "en",
    .title = "TTHC report",
    .h1 = "TTHC reform indicators",
    .sub_months = "TTHC reform indicators against the targets of plan 18/KH-UBND (section III) · months ",
    .sub_counts = " · counts summed from period_totals, never averaged rates · generated ",
    .card_targets = "targets met",
    .card_received = "dossiers received",
    .card_issued = "results issued",
    .card_payments = "payments",
    .card_units = "units reporting",
    .no_data = "No data for this scope in this period.",
    .mismatch_fmt = "Warning: in {} month(s) the units do not add up to the province roll-up.",
    .h_summary = "Indicators against the plan's targets",
    .th_indicator = "Indicator",
    .th_num = "Numerator",
    .th_den = "Denominator",
    .th_rate = "Rate",
    .th_targets = "Targets (source) and status",
    .th_place = "Place among units",
    .th_place_note = "1 = worst",
    .no_target = "no target in the plan",
    .no_target_short = "no target",
    .st_met = "met",
    .st_behind_fmt = "behind {} pts",
    .st_no_data = "no data",
    .h_bar = "Rate against target",
    .bar_aria = "rate against target per indicator",
    .leg_bars = "Bars: rate over the period",
    .leg_all = "every target met",
    .leg_some = "some met",
    .leg_behind = "behind",
    .leg_none = "no target",
    .leg_target = "target",
    .h_trend = "Trend month by month",
    .trend_legend = "Rate in % per month of receipt (cohort month, Vietnam time; months without dossiers left out)",
    .leg_rate = "rate",
    .leg_target_dashed = "target (dashed)",
    .th_change = "Change",
    .th_change_note = "last month, pts",
    .h_worst = "Units, worst first",
    .h_best = "Units, best first",
    .units_note_fmt = "Units with a denominator of at least {} in the period; {} shown per indicator.",
    .ranked_fmt = "({} units ranked)",
    .th_unit = "Unit",
    .th_numden = "Num / den",
    .no_unit = "no unit with enough data",
    .h_progress = "Progress toward the year-end targets",
    .progress_note = "Year to date (January to the period's last month) against each target of the year.",
    .th_ytd = "Rate, year to date",
    .th_target = "Target",
    .th_progress = "Progress",
    .footer = "Rates are numerator / denominator of counts summed over the period and scope (docs/indicators.md); "
              "statuses compare them exactly with each target of indicator_target; a rate shown next to a target "
              "it misses is never rounded up to it. Produced by tthc-report.",
    .q_h = "QĐ 766/QĐ-TTg score (national portal)",
    .q_note_fmt = "The portal's arithmetic on the dossiers of the period, evaluated at {} (Vietnam time). Points that "
                  "need other feeds (procedure catalogue, petitions) are listed as unknown, never counted.",
    .q_points = "points known",
    .q_of_known = "of",
    .q_unknown = "points need other feeds",
    .q_rank_fmt = "rank {} of {} units",
    .q_group = "Group",
    .q_metric = "Metric",
    .q_score = "Score",
    .q_max = "Max",
    .q_status = "Status",
    .q_known = "computed",
    .q_partial = "part computed",
    .q_needs_feed = "needs another feed",
    .q_losing = "Metrics losing most points",
    .q_lost = "points lost",
    .q_month = "Month",
    .q_change = "Change",
    .q_units = "Points per unit",
    .q_total = "Total",
    .q_rank = "Rank",
    .q_none = "No dossier in this period: no score.",
    .q_months_h = "Month over month",
    .q_best = "Most points",
    .q_worst = "Fewest points",
    .t_title_fmt = "TTHC indicators of {}, {}",
    .t_counts = "Counts summed from period_totals",
    .t_rollup_sum = " (no roll-up rows: the sum of the units)",
};

static const report_text vi = {
    .html_lang = "vi",
    .title = "Báo cáo TTHC",
    .h1 = "Báo cáo chỉ tiêu cải cách TTHC",
    .sub_months = "Chỉ tiêu cải cách TTHC so với Kế hoạch 18/KH-UBND (mục III) · tháng ",
    .sub_counts = " · số liệu cộng dồn từ số hồ sơ, không lấy trung bình các tỷ lệ · lập lúc ",
    .card_targets = "chỉ tiêu đạt",
    .card_received = "hồ sơ tiếp nhận",
    .card_issued = "hồ sơ đã có kết quả",
    .card_payments = "giao dịch thanh toán",
    .card_units = "đơn vị có số liệu",
    .no_data = "Không có số liệu của phạm vi này trong kỳ.",
    .mismatch_fmt = "Cảnh báo: trong {} tháng, số liệu các đơn vị không khớp với số liệu toàn tỉnh.",
    .h_summary = "Kết quả thực hiện so với chỉ tiêu kế hoạch",
    .th_indicator = "Chỉ tiêu",
    .th_num = "Tử số",
    .th_den = "Mẫu số",
    .th_rate = "Tỷ lệ",
    .th_targets = "Chỉ tiêu (nguồn) và đánh giá",
    .th_place = "Thứ hạng trong tỉnh",
    .th_place_note = "1 = thấp nhất",
    .no_target = "kế hoạch không giao chỉ tiêu",
    .no_target_short = "không có chỉ tiêu",
    .st_met = "đạt",
    .st_behind_fmt = "chưa đạt, còn thiếu {} điểm %",
    .st_no_data = "chưa có số liệu",
    .h_bar = "Tỷ lệ so với chỉ tiêu",
    .bar_aria = "tỷ lệ so với chỉ tiêu của từng chỉ tiêu",
    .leg_bars = "Thanh: tỷ lệ trong kỳ",
    .leg_all = "đạt mọi chỉ tiêu",
    .leg_some = "đạt một phần",
    .leg_behind = "chưa đạt",
    .leg_none = "không có chỉ tiêu",
    .leg_target = "mức chỉ tiêu",
    .h_trend = "Diễn biến theo tháng",
    .trend_legend = "Tỷ lệ % theo tháng tiếp nhận hồ sơ (giờ Việt Nam; không hiển thị tháng không có hồ sơ)",
    .leg_rate = "tỷ lệ",
    .leg_target_dashed = "mức chỉ tiêu (nét đứt)",
    .th_change = "Thay đổi",
    .th_change_note = "tháng cuối, điểm %",
    .h_worst = "Đơn vị có tỷ lệ thấp nhất",
    .h_best = "Đơn vị có tỷ lệ cao nhất",
    .units_note_fmt = "Các đơn vị có mẫu số từ {} trở lên trong kỳ; mỗi chỉ tiêu liệt kê {} đơn vị.",
    .ranked_fmt = "({} đơn vị được xếp hạng)",
    .th_unit = "Đơn vị",
    .th_numden = "Tử số / mẫu số",
    .no_unit = "không có đơn vị đủ số liệu",
    .h_progress = "Tiến độ thực hiện chỉ tiêu năm",
    .progress_note = "Lũy kế từ tháng 1 đến tháng cuối của kỳ báo cáo, so với từng chỉ tiêu của năm.",
    .th_ytd = "Tỷ lệ lũy kế",
    .th_target = "Chỉ tiêu",
    .th_progress = "Tiến độ",
    .footer = "Tỷ lệ = tử số / mẫu số của số hồ sơ cộng dồn trong kỳ và phạm vi báo cáo; đánh giá so sánh chính xác "
              "với từng chỉ tiêu trong bảng indicator_target; tỷ lệ hiển thị cạnh một chỉ tiêu chưa đạt không bao "
              "giờ được làm tròn lên tới mức chỉ tiêu. Lập bằng tthc-report.",
    .q_h = "Điểm đánh giá theo QĐ 766/QĐ-TTg (Cổng DVCQG)",
    .q_note_fmt = "Tính như Cổng DVCQG trên hồ sơ của kỳ, thời điểm đánh giá {} (giờ Việt Nam). Điểm cần nguồn dữ "
                  "liệu khác (cơ sở dữ liệu TTHC, phản ánh kiến nghị) được ghi là chưa xác định, không cộng vào.",
    .q_points = "điểm đã tính",
    .q_of_known = "trên",
    .q_unknown = "điểm cần nguồn dữ liệu khác",
    .q_rank_fmt = "xếp thứ {}/{} đơn vị",
    .q_group = "Nhóm tiêu chí",
    .q_metric = "Tiêu chí",
    .q_score = "Điểm",
    .q_max = "Tối đa",
    .q_status = "Trạng thái",
    .q_known = "đã tính",
    .q_partial = "tính một phần",
    .q_needs_feed = "cần nguồn dữ liệu khác",
    .q_losing = "Tiêu chí mất nhiều điểm nhất",
    .q_lost = "điểm bị mất",
    .q_month = "Tháng",
    .q_change = "Thay đổi",
    .q_units = "Điểm theo đơn vị",
    .q_total = "Tổng",
    .q_rank = "Hạng",
    .q_none = "Không có hồ sơ trong kỳ: chưa có điểm.",
    .q_months_h = "So sánh theo tháng",
    .q_best = "Điểm cao nhất",
    .q_worst = "Điểm thấp nhất",
    .t_title_fmt = "Chỉ tiêu TTHC của {}, kỳ {}",
    .t_counts = "Số liệu cộng dồn từ period_totals",
    .t_rollup_sum = " (không có dòng tổng của tỉnh: cộng các đơn vị)",
};

const char *report_subst(const char *tmpl, const char *a, const char *b, char *buf, size_t len)
{
    size_t k = 0;
    const char *args[2] = {a, b};
    int next = 0;
    for (const char *p = tmpl; *p && k + 1 < len; p++) {
        if (p[0] == '{' && p[1] == '}' && next < 2) {
            for (const char *q = args[next] ? args[next] : ""; *q && k + 1 < len; q++) buf[k++] = *q;
            next++;
            p++;
            continue;
        }
        buf[k++] = *p;
    }
    buf[k] = '\0';
    return buf;
}

const report_text *report_text_of(report_lang l)
{
    return l == REPORT_VI ? &vi : &en;
}

/* Appends src to buf (length *k, capacity len), truncating; keeps it terminated. */
static void append(char *buf, size_t len, size_t *k, const char *src)
{
    for (; *src && *k + 1 < len; src++) buf[(*k)++] = *src;
    if (len) buf[*k < len ? *k : len - 1] = '\0';
}

const char *report_fmt_count(int64_t v, report_lang l, char *buf, size_t len)
{
    char digits[32], out[64];
    unsigned long long a = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = snprintf(digits, sizeof digits, "%llu", a);
    size_t k = 0;
    if (v < 0) out[k++] = '-';
    for (int i = 0; i < n; i++) {
        if (l == REPORT_VI && i && (n - i) % 3 == 0) out[k++] = '.';
        out[k++] = digits[i];
    }
    out[k] = '\0';
    k = 0;
    append(buf, len, &k, out);
    return buf;
}

const char *report_fmt_hundredths(int64_t centi, report_lang l, char *buf, size_t len)
{
    int64_t a = centi < 0 ? -centi : centi;
    char whole[64], frac[8];
    report_fmt_count(a / 100, l, whole, sizeof whole);
    snprintf(frac, sizeof frac, "%c%02d", l == REPORT_VI ? ',' : '.', (int)(a % 100));
    size_t k = 0;
    if (len) buf[0] = '\0';
    append(buf, len, &k, centi < 0 ? "-" : "");
    append(buf, len, &k, whole);
    append(buf, len, &k, frac);
    return buf;
}

const char *report_fmt_pct(int64_t centi, report_lang l, char *buf, size_t len)
{
    size_t k = 0;
    report_fmt_hundredths(centi, l, buf, len);
    k = strlen(buf);
    append(buf, len, &k, l == REPORT_VI ? " %" : "%");
    return buf;
}

const char *report_indicator_name_en(int i)
{
    static const char *const names[TTHC_INDICATOR_COUNT] = {
        "Dossiers submitted online",
        "Dossier components digitized",
        "Results digitized",
        "Results issued electronically",
        "Dossiers tagged with personal ID",
        "Digitized data reused",
        "Payments made online",
        "Results synced to the national portal",
        "Results on time",
        "Satisfaction",
    };
    return i >= 0 && i < TTHC_INDICATOR_COUNT ? names[i] : "";
}
