/* tthc-report: the monthly report of the TTHC indicators, read from
 * PostgreSQL (period_totals, indicator_target), as a terminal table, CSV,
 * JSON or one self-contained HTML page. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "load.h"
#include "log.h"
#include "pg.h"
#include "qd766.h"
#include "report_model.h"
#include "report_render.h"
#include "timeutil.h"
#include "unitlist.h"

typedef struct {
    char *dsn, *period, *ytd, *unit, *format, *out, *units_file, *log_level, *lang, *at;
    long top, min_den, statement_timeout_ms;
    int qd766_only, no_qd766;
} report_config;

#define OPT(...) TTHC_OPT(report_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc",
        .help = "libpq connection string"),
    OPT(period, "period", TTHC_OPT_STR, .help = "a month (2025-09), a quarter (2025-Q3) or a year (2025)"),
    OPT(ytd, "ytd", TTHC_OPT_STR, .help = "year to date: January to this month (2025-09)"),
    OPT(unit, "unit", TTHC_OPT_STR, .def = "H61", .help = "scope: a province (H61, the roll-up) or one unit (H61.07)"),
    OPT(format, "format", TTHC_OPT_STR, .def = "table", .help = "table, csv, json or html"),
    OPT(lang, "lang", TTHC_OPT_STR, .def = "vi",
        .help = "vi (Vietnamese: 79.602, 63,83 %) or en; table and html (csv and json are machine formats)"),
    OPT(qd766_only, "qd766-only", TTHC_OPT_BOOL, .def = "false", .help = "only the QĐ 766/QĐ-TTg score section"),
    OPT(no_qd766, "no-qd766", TTHC_OPT_BOOL, .def = "false",
        .help = "leave the QĐ 766 section out (a database without migration 006)"),
    OPT(at, "at", TTHC_OPT_STR,
        .help = "QĐ 766 evaluation instant, RFC 3339 (default: now; never later than the period's end)"),
    OPT(out, "out", TTHC_OPT_STR, .help = "write to FILE instead of stdout"),
    OPT(units_file, "units-file", TTHC_OPT_STR,
        .help = "unit names as code<TAB>name<TAB>kind lines (default: the built-in list of Vĩnh Long, H61, "
                "services/emit/units-h61.tsv)"),
    OPT(top, "top", TTHC_OPT_INT, .def = "5", .min = 1, .max = 100000,
        .help = "units listed per indicator in the table and the HTML page"),
    OPT(min_den, "min-denominator", TTHC_OPT_INT, .def = "10", .min = 1, .max = 1000000000L,
        .help = "smallest denominator a unit needs to be ranked"),
    OPT(statement_timeout_ms, "statement-timeout-ms", TTHC_OPT_INT, .env = "TTHC_PG_STATEMENT_TIMEOUT_MS",
        .def = "30000", .min = 100, .max = 3600000, .help = "PostgreSQL statement_timeout"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "warn",
        .help = "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-report",
    "The monthly report of the TTHC indicators against the plan's targets, and the QĐ 766/QĐ-TTg score per\n"
    "unit, from PostgreSQL.  Vietnamese by default (--lang en for English).  Exit status: 0; 1 on a\n"
    "database or output error; 2 on a usage error (including a unit that is neither in the units list\n"
    "nor in the data).",
    "(--period 2025-09|2025-Q3|2025 | --ytd 2025-09)",
    opts,
    sizeof opts / sizeof opts[0],
};

typedef tthc_rc (*render_fn)(const report_ctx *, FILE *, tthc_err *);

static const struct {
    const char *name;
    render_fn fn;
} formats[] = {
    {"table", report_render_table},
    {"csv", report_render_csv},
    {"json", report_render_json},
    {"html", report_render_html},
};

static tthc_rc setup(const report_config *c, report_data *d, render_fn *fn, tthc_err *err)
{
    report_period p;
    if (!!c->period == !!c->ytd) return tthc_fail(err, TTHC_EINVAL, "give one of --period and --ytd");
    tthc_err e = {{0}};
    if (report_period_parse(c->period ? c->period : c->ytd, c->ytd != NULL, &p, &e))
        return tthc_fail(err, TTHC_EINVAL, "%s %s", c->ytd ? "--ytd" : "--period", e.msg);
    *fn = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcmp(c->format, formats[i].name)) *fn = formats[i].fn;
    if (!*fn) return tthc_fail(err, TTHC_EINVAL, "--format must be table, csv, json or html");
    if (strcmp(c->lang, "vi") && strcmp(c->lang, "en")) return tthc_fail(err, TTHC_EINVAL, "--lang must be vi or en");
    if (c->qd766_only && c->no_qd766)
        return tthc_fail(err, TTHC_EINVAL, "--qd766-only and --no-qd766 exclude each other");
    int64_t at_us;
    if (c->at && tthc_rfc3339_parse(c->at, &at_us, &e))
        return tthc_fail(err, TTHC_EINVAL, "--at %s, e.g. 2025-09-30T17:00:00+07:00", e.msg);
    if (report_data_init(d, c->unit, &p, &e)) return tthc_fail(err, TTHC_EINVAL, "--unit %s", e.msg);
    d->min_den = c->min_den;
    tthc_format_vn(tthc_now_us(), d->generated_at, sizeof d->generated_at);
    return TTHC_OK;
}

/* Names from the units file, or the built-in list of H61. */
static tthc_rc names(const report_config *c, report_data *d, report_qd766 *q, emit_unitlist *l, tthc_err *err)
{
    if (c->units_file) {
        tthc_rc rc = emit_unitlist_load(c->units_file, l, err);
        if (rc) return rc;
    } else if (!strcmp(d->province, "H61")) {
        tthc_rc rc = emit_unitlist_builtin(l, err);
        if (rc) return rc;
    }
    for (size_t i = 0; i < d->nunits; i++) {
        int k = emit_unitlist_find(l, d->units[i].code);
        d->units[i].name = k >= 0 ? l->v[k].name : NULL;
    }
    if (d->province_scope) d->scope_name = !strcmp(d->province, "H61") ? "Tỉnh Vĩnh Long" : NULL;
    else {
        int k = emit_unitlist_find(l, d->scope);
        d->scope_name = k >= 0 ? l->v[k].name : NULL;
        bool in_data = false;
        for (size_t i = 0; i < d->nunits; i++) in_data |= !strcmp(d->units[i].code, d->scope);
        if (k < 0 && !in_data)
            return tthc_fail(err, TTHC_EINVAL, "unknown unit %s: not in the units list%s and no data for it in %d",
                             d->scope, c->units_file ? " (--units-file)" : "", d->period.year);
    }
    for (size_t i = 0; q && i < q->nunits; i++) {
        int k = emit_unitlist_find(l, q->units[i].code);
        q->units[i].name = k >= 0 ? l->v[k].name : NULL;
    }
    return TTHC_OK;
}

static tthc_rc run(const report_config *c, report_data *d, report_qd766 *q, render_fn fn, emit_unitlist *l,
                   tthc_err *err)
{
    PGconn *conn = NULL;
    tthc_rc rc = tthc_pg_connect(c->dsn, "tthc-report", (int)c->statement_timeout_ms, &conn, err);
    if (!rc) rc = report_load(conn, d, c->no_qd766 ? NULL : q, c->at, err);
    PQfinish(conn);
    if (!rc) rc = names(c, d, c->no_qd766 ? NULL : q, l, err);
    if (rc) return rc;
    if (!c->no_qd766) report_qd766_compute(q, d->scope, d->province_scope);
    report_view v;
    if ((rc = report_compute(d, &v, err))) return rc;
    if (!v.has_data) LOG_WARN("no_data", "scope=%s period=%s", d->scope, d->period.label);
    if (v.mismatch_months) LOG_WARN("rollup_mismatch", "months=%d province=%s", v.mismatch_months, d->province);
    report_ctx x = {
        d, &v, (int)c->top, strcmp(c->lang, "en") ? REPORT_VI : REPORT_EN, c->no_qd766 ? NULL : q, c->qd766_only};
    FILE *f = c->out ? fopen(c->out, "w") : stdout;
    if (!f) {
        rc = tthc_fail(err, TTHC_EIO, "%s: %s", c->out, strerror(errno));
    } else {
        rc = fn(&x, f, err);
        if ((f == stdout ? fflush(f) : fclose(f)) != 0 && !rc)
            rc = tthc_fail(err, TTHC_EIO, "%s: write failed", c->out ? c->out : "stdout");
    }
    report_view_free(&v);
    return rc;
}

int main(int argc, char **argv)
{
    report_config cfg;
    memset(&cfg, 0, sizeof cfg);
    report_data d;
    memset(&d, 0, sizeof d);
    tthc_err err = {{0}};
    render_fn fn = NULL;
    tthc_rc rc = tthc_config_load(&cli, &cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        tthc_config_free(&cli, &cfg);
        return 0;
    }
    if (!rc) rc = setup(&cfg, &d, &fn, &err);
    if (rc) {
        fprintf(stderr, "tthc-report: %s\n", err.msg);
        tthc_config_free(&cli, &cfg);
        return 2;
    }
    tthc_log_init("tthc-report", cfg.log_level);
    (void)signal(SIGPIPE, SIG_IGN);
    emit_unitlist l = {NULL, 0};
    report_qd766 q;
    memset(&q, 0, sizeof q);
    rc = run(&cfg, &d, &q, fn, &l, &err);
    if (rc) fprintf(stderr, "tthc-report: %s\n", err.msg);
    report_qd766_free(&q);
    emit_unitlist_free(&l);
    report_data_free(&d);
    tthc_config_free(&cli, &cfg);
    return rc == TTHC_EINVAL ? 2 : rc ? 1 : 0;
}
