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
#include "model.h"
#include "pg.h"
#include "render.h"
#include "timeutil.h"
#include "unitlist.h"

typedef struct {
    char *dsn, *period, *ytd, *unit, *format, *out, *units_file, *log_level;
    long top, min_den, statement_timeout_ms;
} report_config;

#define OPT(name, type, field, env, def, min, max, help) \
    {name, type, offsetof(report_config, field), env, def, min, max, 0, help}

static const tthc_opt opts[] = {
    OPT("dsn", TTHC_OPT_SECRET, dsn, "TTHC_PG_DSN", "postgresql:///tthc", 0, 0, "libpq connection string"),
    OPT("period", TTHC_OPT_STR, period, NULL, NULL, 0, 0, "a month (2025-09), a quarter (2025-Q3) or a year (2025)"),
    OPT("ytd", TTHC_OPT_STR, ytd, NULL, NULL, 0, 0, "year to date: January to this month (2025-09)"),
    OPT("unit", TTHC_OPT_STR, unit, NULL, "H61", 0, 0, "scope: a province (H61, the roll-up) or one unit (H61.07)"),
    OPT("format", TTHC_OPT_STR, format, NULL, "table", 0, 0, "table, csv, json or html"),
    OPT("out", TTHC_OPT_STR, out, NULL, NULL, 0, 0, "write to FILE instead of stdout"),
    OPT("units-file", TTHC_OPT_STR, units_file, NULL, NULL, 0, 0,
        "unit names as code<TAB>name<TAB>kind lines (default: built-in names for H61)"),
    OPT("top", TTHC_OPT_INT, top, NULL, "5", 1, 100000, "units listed per indicator in the table and the HTML page"),
    OPT("min-denominator", TTHC_OPT_INT, min_den, NULL, "10", 1, 1000000000L,
        "smallest denominator a unit needs to be ranked"),
    OPT("statement-timeout-ms", TTHC_OPT_INT, statement_timeout_ms, "TTHC_PG_STATEMENT_TIMEOUT_MS", "30000", 100,
        3600000, "PostgreSQL statement_timeout"),
    OPT("log-level", TTHC_OPT_STR, log_level, "TTHC_LOG_LEVEL", "warn", 0, 0, "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-report",
    "The monthly report of the TTHC indicators against the plan's targets, from PostgreSQL.",
    "(--period 2025-09|2025-Q3|2025 | --ytd 2025-09)", opts, sizeof opts / sizeof opts[0],
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
    if (report_period_parse(c->period ? c->period : c->ytd, c->ytd != NULL, &p))
        return tthc_fail(err, TTHC_EINVAL, c->ytd ? "--ytd must be YYYY-MM" : "--period must be YYYY-MM, YYYY-Qn or YYYY");
    *fn = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
        if (!strcmp(c->format, formats[i].name)) *fn = formats[i].fn;
    if (!*fn) return tthc_fail(err, TTHC_EINVAL, "--format must be table, csv, json or html");
    if (report_data_init(d, c->unit, &p))
        return tthc_fail(err, TTHC_EINVAL, "--unit must be a province code (H61) or a unit code (H61.07)");
    d->min_den = c->min_den;
    tthc_format_vn(tthc_now_us(), d->generated_at, sizeof d->generated_at);
    return TTHC_OK;
}

/* Names from the units file, or the built-in list of H61. */
static tthc_rc names(const report_config *c, report_data *d, emit_unitlist *l, tthc_err *err)
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
    }
    return TTHC_OK;
}

static tthc_rc run(const report_config *c, report_data *d, render_fn fn, emit_unitlist *l, tthc_err *err)
{
    PGconn *conn = NULL;
    tthc_rc rc = tthc_pg_connect(c->dsn, "tthc-report", (int)c->statement_timeout_ms, &conn, err);
    if (!rc) rc = report_load(conn, d, err);
    PQfinish(conn);
    if (!rc) rc = names(c, d, l, err);
    if (rc) return rc;
    report_view v;
    if ((rc = report_compute(d, &v, err))) return rc;
    if (!v.has_data) LOG_WARN("no_data", "scope=%s period=%s", d->scope, d->period.label);
    if (v.mismatch_months) LOG_WARN("rollup_mismatch", "months=%d province=%s", v.mismatch_months, d->province);
    report_ctx x = {d, &v, (int)c->top};
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
    rc = run(&cfg, &d, fn, &l, &err);
    if (rc) fprintf(stderr, "tthc-report: %s\n", err.msg);
    emit_unitlist_free(&l);
    report_data_free(&d);
    tthc_config_free(&cli, &cfg);
    return rc ? 1 : 0;
}
