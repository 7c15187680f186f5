/* stub_store.c - PostgreSQL storage of the portal stub; see stub_store.h. */
#include "stub_store.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

#include "log.h"
#include "pg.h"

/* Advisory lock classes (first key of the two-int form). */
#define LOCK_SCHEMA 74700 /* schema creation */
#define LOCK_BUCKET 74701 /* one (unit_code, period) */
#define LOCK_KEY    74702 /* one Idempotency-Key */

struct portal_store {
    char *dsn;
    long statement_timeout_ms;
    PGconn *conn;
    time_t last_failed_connect; /* throttles reconnects to one per second */
    int up;
};

static const char *const schema_sql[] = {
    "CREATE SCHEMA IF NOT EXISTS portal",
    "CREATE TABLE IF NOT EXISTS portal.report_revision ("
    " unit_code    text        NOT NULL,"
    " period       text        NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),"
    " revision     bigint      NOT NULL CHECK (revision >= 1),"
    " generated_at text        NOT NULL,"
    " received_at  timestamptz NOT NULL DEFAULT clock_timestamp(),"
    " PRIMARY KEY (unit_code, period, revision))",
    "CREATE TABLE IF NOT EXISTS portal.report_indicator ("
    " unit_code   text     NOT NULL,"
    " period      text     NOT NULL,"
    " revision    bigint   NOT NULL,"
    " position    smallint NOT NULL,"
    " code        text     NOT NULL,"
    " numerator   bigint   NOT NULL CHECK (numerator >= 0),"
    " denominator bigint   NOT NULL CHECK (denominator >= numerator),"
    " PRIMARY KEY (unit_code, period, revision, code),"
    " FOREIGN KEY (unit_code, period, revision) REFERENCES portal.report_revision ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS portal.report_latest ("
    " unit_code text   NOT NULL,"
    " period    text   NOT NULL,"
    " revision  bigint NOT NULL,"
    " PRIMARY KEY (unit_code, period),"
    " FOREIGN KEY (unit_code, period, revision) REFERENCES portal.report_revision)",
    "CREATE INDEX IF NOT EXISTS report_latest_period_idx ON portal.report_latest (period, unit_code)",
    "CREATE TABLE IF NOT EXISTS portal.idempotency_key ("
    " key            text        PRIMARY KEY,"
    " unit_code      text        NOT NULL,"
    " period         text        NOT NULL,"
    " revision       bigint      NOT NULL,"
    " request_sha256 bytea       NOT NULL,"
    " created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),"
    " FOREIGN KEY (unit_code, period, revision) REFERENCES portal.report_revision)",
};

tthc_rc portal_store_new(const char *dsn, long statement_timeout_ms, portal_store **out, tthc_err *err)
{
    *out = NULL;
    portal_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dsn = strdup(dsn))) {
        free(s);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    s->statement_timeout_ms = statement_timeout_ms;
    *out = s;
    return TTHC_OK;
}

void portal_store_free(portal_store *s)
{
    if (!s) return;
    PQfinish(s->conn);
    free(s->dsn);
    free(s);
}

bool portal_store_up(const portal_store *s)
{
    return s->up;
}

static void notice_quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like */
}

/* Runs sql with params; on success the result goes to *out (or is cleared
 * when out is NULL).  On failure a lost connection is dropped, to be reopened
 * by the next call. */
static tthc_rc q(portal_store *s, const char *what, const char *sql, int n, const char *const *params,
                 ExecStatusType want, PGresult **out, tthc_err *err)
{
    if (out) *out = NULL;
    PGresult *r = PQexecParams(s->conn, sql, n, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(s->conn, r, want, what, err);
    if (rc) {
        PQclear(r);
        if (PQstatus(s->conn) != CONNECTION_OK) {
            LOG_WARN("db_lost", "during=\"%s\"", what);
            PQfinish(s->conn);
            s->conn = NULL;
            s->up = 0;
        }
        return rc;
    }
    if (out) *out = r;
    else PQclear(r);
    return TTHC_OK;
}

static void rollback(portal_store *s)
{
    if (s->conn && PQtransactionStatus(s->conn) != PQTRANS_IDLE) {
        tthc_err ignored;
        (void)q(s, "rollback", "ROLLBACK", 0, NULL, PGRES_COMMAND_OK, NULL, &ignored);
    }
}

static tthc_rc ensure_schema(portal_store *s, tthc_err *err)
{
    tthc_rc rc = q(s, "begin", "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (!rc) {
        char cls[16];
        snprintf(cls, sizeof cls, "%d", LOCK_SCHEMA);
        const char *p[] = {cls};
        rc = q(s, "schema lock", "SELECT pg_advisory_xact_lock($1::int, 0)", 1, p, PGRES_TUPLES_OK, NULL, err);
    }
    for (size_t i = 0; !rc && i < sizeof schema_sql / sizeof schema_sql[0]; i++)
        rc = q(s, "create schema", schema_sql[i], 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (!rc) rc = q(s, "commit", "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, err);
    if (rc) rollback(s);
    return rc;
}

/* Opens the connection when there is none (at most once a second). */
static tthc_rc connect_db(portal_store *s, tthc_err *err)
{
    if (s->conn && PQstatus(s->conn) == CONNECTION_OK) return TTHC_OK;
    PQfinish(s->conn);
    s->conn = NULL;
    time_t now = time(NULL);
    if (s->last_failed_connect && now - s->last_failed_connect < 1)
        return tthc_fail(err, TTHC_ERETRY, "database unavailable (reconnecting)");
    PGconn *c = NULL;
    tthc_rc rc = tthc_pg_connect(s->dsn, "tthc-portal-stub", (int)s->statement_timeout_ms, &c, err);
    if (!rc) {
        PQsetNoticeProcessor(c, notice_quiet, NULL);
        s->conn = c;
        rc = ensure_schema(s, err);
    }
    if (rc) {
        char q1[600];
        if (s->up || !s->last_failed_connect)
            LOG_WARN("db_unavailable", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote(q1, sizeof q1, err->msg));
        PQfinish(s->conn);
        s->conn = NULL;
        s->up = 0;
        s->last_failed_connect = now;
        return rc == TTHC_ENOMEM ? rc : TTHC_ERETRY;
    }
    s->last_failed_connect = 0;
    s->up = 1;
    LOG_INFO("db_connected", "schema=portal");
    return TTHC_OK;
}

/* One read statement outside a transaction, on a connection opened if
 * needed; a connection found lost is replaced and the statement run again,
 * once (e.g. after a database restart). */
static tthc_rc q_read(portal_store *s, const char *what, const char *sql, int n, const char *const *params,
                      PGresult **out, tthc_err *err)
{
    for (int attempt = 0;; attempt++) {
        tthc_rc rc = connect_db(s, err);
        if (!rc) rc = q(s, what, sql, n, params, PGRES_TUPLES_OK, out, err);
        if (rc == TTHC_ERETRY && !s->conn && !s->last_failed_connect && attempt == 0) continue;
        return rc;
    }
}

tthc_rc portal_store_ping(portal_store *s, tthc_err *err)
{
    tthc_rc rc = q_read(s, "ping", "SELECT 1", 0, NULL, NULL, err);
    s->up = rc == TTHC_OK;
    return rc;
}

/* ---- put ---- */

/* Appends to buf (size bytes, *used so far); 0 when it does not fit. */
TTHC_PRINTF(4, 5) static int append(char *buf, size_t size, size_t *used, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *used, size - *used, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= size - *used) return 0;
    *used += (size_t)n;
    return 1;
}

/* The report's indicators as array literals: "{a,b}", "{1,2}", "{3,4}". */
static tthc_rc indicator_arrays(const portal_report *r, char *codes, char *nums, char *dens, size_t size, tthc_err *err)
{
    size_t co = 0, no = 0, d_o = 0;
    int ok = 1;
    for (int k = 0; ok && k < TTHC_INDICATOR_COUNT; k++) {
        const char *sep = k ? "," : "{";
        ok = append(codes, size, &co, "%s%s", sep, tthc_indicators[k].code) &&
             append(nums, size, &no, "%s%lld", sep, r->numerator[k]) &&
             append(dens, size, &d_o, "%s%lld", sep, r->denominator[k]);
    }
    if (!ok || !append(codes, size, &co, "}") || !append(nums, size, &no, "}") || !append(dens, size, &d_o, "}"))
        return tthc_fail(err, TTHC_EINVAL, "indicator arrays too long");
    return TTHC_OK;
}

static void copy_field(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* The transaction of one push.  *committing is set once COMMIT was sent
 * (after which the outcome is unknown if the connection drops). */
static tthc_rc put_once(portal_store *s, const portal_report *r, const char *key, const char *canonical,
                        portal_put_result *res, int *committing, tthc_err *err)
{
    char rev[24], lk[16], lb[16], codes[512], nums[512], dens[512];
    PGresult *x = NULL;
    snprintf(rev, sizeof rev, "%lld", r->revision);
    snprintf(lk, sizeof lk, "%d", LOCK_KEY);
    snprintf(lb, sizeof lb, "%d", LOCK_BUCKET);
    tthc_rc rc = indicator_arrays(r, codes, nums, dens, sizeof codes, err);
    if (rc) return rc;

    if ((rc = q(s, "begin", "BEGIN", 0, NULL, PGRES_COMMAND_OK, NULL, err))) goto fail;
    /* Key first, then bucket: every push takes them in this order. */
    const char *p_lock[] = {lk, key, lb, r->unit_code, r->period};
    if ((rc = q(s, "lock",
                "SELECT pg_advisory_xact_lock($1::int, hashtext($2)),"
                " pg_advisory_xact_lock($3::int, hashtext($4 || '/' || $5))",
                5, p_lock, PGRES_TUPLES_OK, NULL, err)))
        goto fail;

    const char *p_key[] = {key, canonical};
    if ((rc = q(s, "find key",
                "SELECT unit_code, period, revision, request_sha256 = sha256(convert_to($2, 'UTF8'))"
                " FROM portal.idempotency_key WHERE key = $1",
                2, p_key, PGRES_TUPLES_OK, &x, err)))
        goto fail;
    if (PQntuples(x) == 1) {
        int same = !strcmp(PQgetvalue(x, 0, 3), "t");
        res->outcome = same ? PORTAL_PUT_DUPLICATE : PORTAL_PUT_KEY_REUSED;
        res->revision = strtoll(PQgetvalue(x, 0, 2), NULL, 10);
        copy_field(res->key_unit_code, sizeof res->key_unit_code, PQgetvalue(x, 0, 0));
        copy_field(res->key_period, sizeof res->key_period, PQgetvalue(x, 0, 1));
        PQclear(x);
        rollback(s); /* nothing to change */
        return TTHC_OK;
    }
    PQclear(x);
    x = NULL;

    const char *p_bucket[] = {r->unit_code, r->period};
    if ((rc = q(s, "find latest",
                "SELECT revision FROM portal.report_latest WHERE unit_code = $1 AND period = $2 FOR UPDATE", 2,
                p_bucket, PGRES_TUPLES_OK, &x, err)))
        goto fail;
    if (PQntuples(x) == 1) {
        long long current = strtoll(PQgetvalue(x, 0, 0), NULL, 10);
        if (r->revision <= current) {
            res->outcome = PORTAL_PUT_STALE;
            res->revision = current;
            PQclear(x);
            rollback(s);
            return TTHC_OK;
        }
    }
    PQclear(x);
    x = NULL;

    const char *p_rev[] = {r->unit_code, r->period, rev, r->generated_at};
    const char *p_ind[] = {r->unit_code, r->period, rev, codes, nums, dens};
    const char *p_latest[] = {r->unit_code, r->period, rev};
    const char *p_newkey[] = {key, r->unit_code, r->period, rev, canonical};
    if ((rc = q(s, "insert revision",
                "INSERT INTO portal.report_revision (unit_code, period, revision, generated_at)"
                " VALUES ($1, $2, $3::bigint, $4)",
                4, p_rev, PGRES_COMMAND_OK, NULL, err)) ||
        (rc = q(s, "insert indicators",
                "INSERT INTO portal.report_indicator"
                " (unit_code, period, revision, position, code, numerator, denominator)"
                " SELECT $1, $2, $3::bigint, t.ord, t.code, t.num, t.den"
                " FROM unnest($4::text[], $5::bigint[], $6::bigint[]) WITH ORDINALITY AS t (code, num, den, ord)",
                6, p_ind, PGRES_COMMAND_OK, NULL, err)) ||
        (rc = q(s, "set latest",
                "INSERT INTO portal.report_latest (unit_code, period, revision) VALUES ($1, $2, $3::bigint)"
                " ON CONFLICT (unit_code, period) DO UPDATE SET revision = EXCLUDED.revision",
                3, p_latest, PGRES_COMMAND_OK, NULL, err)) ||
        (rc = q(s, "insert key",
                "INSERT INTO portal.idempotency_key (key, unit_code, period, revision, request_sha256)"
                " VALUES ($1, $2, $3, $4::bigint, sha256(convert_to($5, 'UTF8')))",
                5, p_newkey, PGRES_COMMAND_OK, NULL, err)))
        goto fail;
    *committing = 1;
    if ((rc = q(s, "commit", "COMMIT", 0, NULL, PGRES_COMMAND_OK, NULL, err))) goto fail;
    res->outcome = PORTAL_PUT_ACCEPTED;
    res->revision = r->revision;
    return TTHC_OK;
fail:
    PQclear(x);
    rollback(s);
    return rc;
}

tthc_rc portal_store_put(portal_store *s, const portal_report *r, const char *key, const char *canonical,
                         portal_put_result *res, tthc_err *err)
{
    memset(res, 0, sizeof *res);
    for (int attempt = 0;; attempt++) {
        int committing = 0;
        tthc_rc rc = connect_db(s, err);
        if (!rc) rc = put_once(s, r, key, canonical, res, &committing, err);
        /* A connection lost before COMMIT changed nothing: one more try on a
         * fresh connection (e.g. after a database restart). */
        if (rc == TTHC_ERETRY && !s->conn && !committing && attempt == 0 && !s->last_failed_connect) continue;
        return rc;
    }
}

/* ---- reads ---- */

static int add_json_int_text(cJSON *o, const char *name, const char *text)
{
    return portal_json_add_int(o, name, strtoll(text, NULL, 10)) != NULL;
}

/* Rows: unit_code, revision, generated_at, received_at, code, numerator,
 * denominator; ordered by unit_code then position. */
static tthc_rc rows_to_reports(PGresult *x, const char *period, cJSON *out, tthc_err *err)
{
    cJSON *rep = NULL, *inds = NULL;
    const char *unit = NULL;
    for (int i = 0; i < PQntuples(x); i++) {
        const char *u = PQgetvalue(x, i, 0);
        if (!unit || strcmp(unit, u)) {
            unit = u;
            rep = cJSON_CreateObject();
            if (!rep || !cJSON_AddItemToArray(out, rep)) {
                cJSON_Delete(rep);
                goto nomem;
            }
            if (!cJSON_AddStringToObject(rep, "unit_code", u) || !cJSON_AddStringToObject(rep, "period", period) ||
                !add_json_int_text(rep, "revision", PQgetvalue(x, i, 1)) ||
                !cJSON_AddStringToObject(rep, "generated_at", PQgetvalue(x, i, 2)) ||
                !cJSON_AddStringToObject(rep, "received_at", PQgetvalue(x, i, 3)) ||
                !(inds = cJSON_AddArrayToObject(rep, "indicators")))
                goto nomem;
        }
        if (PQgetisnull(x, i, 4)) continue;
        cJSON *it = cJSON_CreateObject();
        if (!it || !cJSON_AddItemToArray(inds, it)) {
            cJSON_Delete(it);
            goto nomem;
        }
        if (!cJSON_AddStringToObject(it, "code", PQgetvalue(x, i, 4)) ||
            !add_json_int_text(it, "numerator", PQgetvalue(x, i, 5)) ||
            !add_json_int_text(it, "denominator", PQgetvalue(x, i, 6)))
            goto nomem;
    }
    return TTHC_OK;
nomem:
    return tthc_fail(err, TTHC_ENOMEM, "out of memory building reports");
}

tthc_rc portal_store_list(portal_store *s, const char *period, const char *unit_code, cJSON **reports, tthc_err *err)
{
    *reports = NULL;
    PGresult *x = NULL;
    const char *p[] = {period, unit_code};
    tthc_rc rc = q_read(s, "list",
                        "SELECT r.unit_code, r.revision, r.generated_at,"
                        " to_char(r.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                        " i.code, i.numerator, i.denominator"
                        " FROM portal.report_latest l"
                        " JOIN portal.report_revision r"
                        "   ON r.unit_code = l.unit_code AND r.period = l.period AND r.revision = l.revision"
                        " LEFT JOIN portal.report_indicator i"
                        "   ON i.unit_code = r.unit_code AND i.period = r.period AND i.revision = r.revision"
                        " WHERE l.period = $1 AND ($2::text IS NULL OR l.unit_code = $2)"
                        " ORDER BY l.unit_code COLLATE \"C\", i.position",
                        2, p, &x, err);
    if (rc) return rc;
    cJSON *arr = cJSON_CreateArray();
    if (!arr) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
    else rc = rows_to_reports(x, period, arr, err);
    PQclear(x);
    if (rc) {
        cJSON_Delete(arr);
        return rc;
    }
    *reports = arr;
    return TTHC_OK;
}

tthc_rc portal_store_periods(portal_store *s, int max, cJSON **periods, tthc_err *err)
{
    *periods = NULL;
    PGresult *x = NULL;
    char lim[16];
    snprintf(lim, sizeof lim, "%d", max);
    const char *p[] = {lim};
    tthc_rc rc =
        q_read(s, "periods", "SELECT DISTINCT period FROM portal.report_latest ORDER BY period DESC LIMIT $1::int", 1,
               p, &x, err);
    if (rc) return rc;
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; arr && i < PQntuples(x); i++) {
        cJSON *v = cJSON_CreateString(PQgetvalue(x, i, 0));
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            cJSON_Delete(arr);
            arr = NULL;
        }
    }
    PQclear(x);
    if (!arr) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    *periods = arr;
    return TTHC_OK;
}

tthc_rc portal_store_targets(portal_store *s, int year, portal_targets *t, tthc_err *err)
{
    portal_targets_builtin(t);
    PGresult *x = NULL;
    tthc_rc rc = q_read(s, "target table", "SELECT to_regclass('indicator_target') IS NOT NULL", 0, NULL, &x, err);
    if (rc) return rc;
    int exists = PQntuples(x) == 1 && !strcmp(PQgetvalue(x, 0, 0), "t");
    PQclear(x);
    if (!exists) return TTHC_OK;
    char y[16];
    snprintf(y, sizeof y, "%d", year);
    const char *p[] = {y};
    rc = q(s, "targets",
           "SELECT indicator, target_pct::float8, source_doc FROM indicator_target"
           " WHERE year = $1::int ORDER BY indicator, target_pct, source_doc",
           1, p, PGRES_TUPLES_OK, &x, err);
    if (rc) { /* e.g. a table of another shape: keep the built-in table */
        char q1[600];
        LOG_WARN("targets_unreadable", "error=%s", tthc_log_quote(q1, sizeof q1, err->msg));
        return rc == TTHC_ERETRY ? rc : TTHC_OK;
    }
    if (PQntuples(x) > 0) {
        portal_targets_clear(t, year, 1);
        for (int i = 0; i < PQntuples(x); i++)
            portal_targets_add(t, PQgetvalue(x, i, 0), strtod(PQgetvalue(x, i, 1), NULL), PQgetvalue(x, i, 2));
    }
    PQclear(x);
    return TTHC_OK;
}

tthc_rc portal_store_qd766_points(portal_store *s, const char *period, cJSON **points, tthc_err *err)
{
    *points = NULL;
    PGresult *x = NULL;
    tthc_rc rc =
        q_read(s, "qd766 functions",
               "SELECT to_regprocedure('qd766_groups(text,text,timestamptz,boolean)') IS NOT NULL", 0, NULL, &x, err);
    if (rc) return rc;
    int exists = PQntuples(x) == 1 && !strcmp(PQgetvalue(x, 0, 0), "t");
    PQclear(x);
    if (!exists) return TTHC_OK;
    const char *p[] = {period};
    rc = q(s, "qd766 points",
           "SELECT unit_code, (sum(points_known) * 100)::bigint, (sum(max_known) * 100)::bigint, "
           "CASE WHEN unit_code LIKE '%.%' THEN rank() OVER (PARTITION BY split_part(unit_code, '.', 1), "
           "unit_code LIKE '%.%' ORDER BY sum(points_known) DESC) ELSE 0 END "
           "FROM qd766_groups($1, $1, now(), true) GROUP BY unit_code",
           1, p, PGRES_TUPLES_OK, &x, err);
    if (rc) {
        char q1[600];
        LOG_WARN("qd766_unreadable", "error=%s", tthc_log_quote(q1, sizeof q1, err->msg));
        return rc == TTHC_ERETRY ? rc : TTHC_OK;
    }
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < PQntuples(x); i++) {
        cJSON *a = cJSON_CreateArray();
        for (int c = 1; a && c <= 3; c++)
            cJSON_AddItemToArray(a, cJSON_CreateNumber(strtod(PQgetvalue(x, i, c), NULL)));
        cJSON_AddItemToObject(o, PQgetvalue(x, i, 0), a);
    }
    PQclear(x);
    if (!o) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    *points = o;
    return TTHC_OK;
}
