/* admin.c - the operator subcommands: reconcile, unpark, status.
 *
 * Each opens one connection, does its work in autocommit statements, prints
 * a table on stdout and returns the exit code (see sync.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "indicators.h"
#include "log.h"
#include "outcome.h"
#include "pg.h"
#include "portal.h"
#include "queue.h"
#include "sync.h"
#include "sync_report.h"

static int period_ok(const char *p)
{
    return p && strlen(p) == 7 && p[0] >= '0' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' && p[2] >= '0' &&
           p[2] <= '9' && p[3] >= '0' && p[3] <= '9' && p[4] == '-' &&
           ((p[5] == '0' && p[6] >= '1' && p[6] <= '9') || (p[5] == '1' && p[6] >= '0' && p[6] <= '2'));
}

/* ---- reconcile ------------------------------------------------------------------ */

static tthc_rc load_local(PGconn *c, const char *period, sync_local_bucket **out, size_t *n, tthc_err *err)
{
    char sql[1024];
    *out = NULL;
    *n = 0;
    snprintf(sql, sizeof sql,
             "SELECT t.unit_code, t.revision, %s FROM period_totals t WHERE t.period = $1 AND "
             "t.revision > 0",
             sync_q_counter_list());
    const char *p[1] = {period};
    PGresult *r = PQexecParams(c, sql, 1, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "read period_totals", err);
    if (rc) {
        PQclear(r);
        return rc;
    }
    size_t rows = (size_t)PQntuples(r);
    sync_local_bucket *a = rows ? calloc(rows, sizeof *a) : NULL;
    if (rows && !a) {
        PQclear(r);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < rows; i++) {
        const char *u = PQgetvalue(r, (int)i, 0);
        if (strlen(u) > SYNC_UNIT_MAX) a[i].bad = 1;
        snprintf(a[i].t.unit_code, sizeof a[i].t.unit_code, "%s", u);
        snprintf(a[i].t.period, sizeof a[i].t.period, "%s", period);
        a[i].t.revision = sync_q_ll(r, (int)i, 1);
        for (int k = 0; k < TTHC_C__COUNT; k++) a[i].t.counts[k] = sync_q_ll(r, (int)i, 2 + k);
    }
    PQclear(r);
    sync_diff_sort_local(a, rows);
    *out = a;
    *n = rows;
    return TTHC_OK;
}

/* Re-queues one bucket: its revision goes above both ours and the portal's (a
 * fresh Idempotency-Key, and a revision the portal accepts even if it still
 * remembers the old key), any park is lifted and the backoff reset.  Returns
 * the new revision in *rev (unchanged when the bucket moved meanwhile: its
 * newer revision is then pending anyway). */
static tthc_rc requeue(PGconn *c, const sync_local_bucket *l, long long portal_rev, long long *rev, tthc_err *err)
{
    char from[32], to[32];
    long long target = (l->t.revision > portal_rev ? l->t.revision : portal_rev) + 1;
    snprintf(from, sizeof from, "%lld", l->t.revision);
    snprintf(to, sizeof to, "%lld", target);
    const char *p[4] = {l->t.unit_code, l->t.period, from, to};
    PGresult *r = PQexecParams(c,
                               "INSERT INTO sync_state (unit_code, period, waiting_since) VALUES ($1, $2, now())"
                               " ON CONFLICT DO NOTHING",
                               2, NULL, p, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, PGRES_COMMAND_OK, "re-queue", err);
    PQclear(r);
    if (rc) return rc;
    r = PQexecParams(c,
                     "WITH raised AS (UPDATE period_totals SET revision = $4::bigint, updated_at = now()"
                     "   WHERE unit_code = $1 AND period = $2 AND revision = $3::bigint RETURNING revision)"
                     " UPDATE sync_state SET status = 'pending', parked_revision = NULL, attempts = 0,"
                     "   next_attempt_at = '-infinity', waiting_since = COALESCE(waiting_since, now()),"
                     "   updated_at = now()"
                     " WHERE unit_code = $1 AND period = $2"
                     " RETURNING (SELECT revision FROM raised)",
                     4, NULL, p, NULL, NULL, 0);
    rc = tthc_pg_result(c, r, PGRES_TUPLES_OK, "re-queue", err);
    *rev = l->t.revision;
    if (!rc && PQntuples(r) == 1 && !PQgetisnull(r, 0, 0)) *rev = sync_q_ll(r, 0, 0);
    PQclear(r);
    return rc;
}

static void print_rev(char *buf, size_t cap, long long v)
{
    if (v < 0) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%lld", v);
}

static void print_row(const char *unit, const char *period, const char *what, long long ours, long long theirs,
                      const char *action)
{
    char a[32], b[32];
    print_rev(a, sizeof a, ours);
    print_rev(b, sizeof b, theirs);
    printf("%-24s %-8s %-16s %10s %10s  %s\n", unit, period, what, a, b, action);
}

static void print_fraction(char *buf, size_t cap, const sync_values *v, int k)
{
    if (!v || v->num[k] < 0) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%lld/%lld", v->num[k], v->den[k]);
}

/* Under a bucket's line: each indicator whose numerator or denominator
 * differs, as database/portal (one side NULL: every indicator). */
static void print_indicators(const sync_values *ours, const sync_values *theirs)
{
    for (int k = 0; k < TTHC_INDICATOR_COUNT; k++) {
        if (ours && theirs && ours->num[k] == theirs->num[k] && ours->den[k] == theirs->den[k]) continue;
        char a[48], b[48];
        print_fraction(a, sizeof a, ours, k);
        print_fraction(b, sizeof b, theirs, k);
        printf("    %-22s database %-21s portal %s\n", tthc_indicators[k].code, a, b);
    }
}

/* ---- reconcile: fetch, diff (diff.c), act and print ------------------------- */

/* The portal's reports of the period, sorted by unit (*reps malloc'd). */
static tthc_rc fetch_portal(const sync_config *cfg, const char *token, sync_portal_report **reps, size_t *nrep,
                            tthc_err *err)
{
    sync_portal *portal = NULL;
    sync_http_result res = {0};
    sync_portal_opts po = {.base_url = cfg->portal_url,
                           .token = token,
                           .ca_file = cfg->ca_file,
                           .insecure = cfg->insecure,
                           .connect_timeout_ms = cfg->connect_timeout_ms,
                           .timeout_ms = cfg->timeout_ms,
                           .body_max = 256u * 1024 * 1024};
    tthc_rc rc = sync_portal_new(&po, &portal, err);
    if (!rc) rc = sync_portal_get(portal, cfg->period, NULL, &res, err);
    if (!rc && res.status != 200) {
        char text[300];
        if (res.status == 0) rc = tthc_fail(err, TTHC_EHTTP, "portal: %s", res.error);
        else
            rc = tthc_fail(err, TTHC_EHTTP, "portal answered %ld: %s", res.status,
                           sync_sanitize(text, sizeof text, res.body, res.body_len));
    }
    if (!rc && res.body_truncated) rc = tthc_fail(err, TTHC_EHTTP, "portal answer larger than 256 MiB");
    if (!rc) rc = sync_parse_reports(res.body, res.body_len, reps, nrep, err);
    sync_portal_free(portal);
    if (!rc) sync_diff_sort_portal(*reps, *nrep);
    return rc;
}

/* Our buckets of the period, sorted by unit, read on a new connection *c
 * (the caller closes it, also when this fails). */
static tthc_rc fetch_local(const sync_config *cfg, PGconn **c, sync_local_bucket **loc, size_t *nloc, tthc_err *err)
{
    tthc_rc rc = tthc_pg_connect(cfg->dsn, "tthc-sync reconcile", (int)cfg->statement_timeout_ms, c, err);
    if (!rc) rc = load_local(*c, cfg->period, loc, nloc, err);
    return rc;
}

/* Re-queues each differing bucket of ours that can be sent, in order: rev[i]
 * gets the revision it will be sent at (-1 when not re-queued: an extra
 * report, or a unit code too long).  *done = the diffs handled (all of them
 * unless an error stopped it), *requeued = those re-queued. */
static tthc_rc reconcile_act(PGconn *c, const sync_bucket_diff *diffs, size_t n, long long *rev, size_t *done,
                             size_t *requeued, tthc_err *err)
{
    *done = 0;
    *requeued = 0;
    for (size_t i = 0; i < n; i++) {
        const sync_bucket_diff *d = &diffs[i];
        rev[i] = -1;
        if (d->kind != SYNC_DIFF_EXTRA && !d->l->bad) {
            tthc_rc rc = requeue(c, d->l, d->p ? d->p->revision : 0, &rev[i], err);
            if (rc) return rc;
            ++*requeued;
        }
        *done = i + 1;
    }
    return TTHC_OK;
}

/* The table: its heading, then one line per diffs[0..n) (rev from
 * reconcile_act) and, under it, the indicators that differ. */
static void reconcile_print(const char *period, const sync_bucket_diff *diffs, const long long *rev, size_t n)
{
    printf("%-24s %-8s %-16s %10s %10s  %s\n", "UNIT", "PERIOD", "DIFFERENCE", "OURS", "PORTAL", "ACTION");
    printf("    %-22s %-30s %s\n", "(indicator)", "(database numerator/denominator)", "(portal)");
    for (size_t i = 0; i < n; i++) {
        const sync_bucket_diff *d = &diffs[i];
        char what[32];
        sync_diff_label(d, what, sizeof what);
        if (d->kind == SYNC_DIFF_EXTRA) {
            print_row(d->p->unit_code, period, what, -1, d->p->revision,
                      "none (not in period_totals; the API has no delete)");
            print_indicators(NULL, &d->p->v);
            continue;
        }
        sync_values ours;
        sync_values_from_counts(d->l->t.counts, &ours);
        long long theirs = d->p ? d->p->revision : -1;
        char action[64];
        if (d->l->bad) snprintf(action, sizeof action, "none (unit code too long to send)");
        else snprintf(action, sizeof action, "requeued r%lld", rev[i]);
        print_row(d->l->t.unit_code, period, what, d->l->t.revision, theirs, action);
        if (d->kind == SYNC_DIFF_MISSING || d->cdiff) print_indicators(&ours, d->p ? &d->p->v : NULL);
    }
}

int sync_reconcile(const sync_config *cfg, const char *token, tthc_err *err)
{
    int code = 2;
    PGconn *c = NULL;
    sync_portal_report *reps = NULL;
    sync_local_bucket *loc = NULL;
    sync_bucket_diff *diffs = NULL;
    long long *rev = NULL;
    size_t nrep = 0, nloc = 0, ndiff = 0, done = 0, requeued = 0;
    tthc_rc rc;
    if (!period_ok(cfg->period)) {
        tthc_fail(err, TTHC_EINVAL, "reconcile needs --period YYYY-MM");
        return 2;
    }
    if (fetch_portal(cfg, token, &reps, &nrep, err)) goto out;
    if (fetch_local(cfg, &c, &loc, &nloc, err)) goto out;
    if (sync_diff_buckets(cfg->period, loc, nloc, reps, nrep, &diffs, &ndiff, err)) goto out;
    if (ndiff && !(rev = calloc(ndiff, sizeof *rev))) {
        tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto out;
    }
    rc = reconcile_act(c, diffs, ndiff, rev, &done, &requeued, err);
    reconcile_print(cfg->period, diffs, rev, done); /* on an error, the lines of what was done */
    if (rc) goto out;
    if (requeued && sync_q_notify(c, err)) goto out;
    printf("%zu difference(s), %zu re-queued; %zu bucket(s) here, %zu report(s) on the portal for %s\n", ndiff,
           requeued, nloc, nrep, cfg->period);
    LOG_INFO("reconciled", "period=%s differences=%zu requeued=%zu", cfg->period, ndiff, requeued);
    code = ndiff ? 1 : 0;
out:
    free(rev);
    free(diffs);
    free(reps);
    free(loc);
    if (c) PQfinish(c);
    return code;
}

/* ---- unpark ------------------------------------------------------------------------ */

int sync_unpark(const sync_config *cfg, tthc_err *err)
{
    PGconn *c = NULL;
    if (cfg->period && !period_ok(cfg->period)) {
        tthc_fail(err, TTHC_EINVAL, "--period wants YYYY-MM, got '%s'", cfg->period);
        return 2;
    }
    if (tthc_pg_connect(cfg->dsn, "tthc-sync unpark", (int)cfg->statement_timeout_ms, &c, err)) return 1;
    long n = 0;
    tthc_rc rc = sync_q_unpark(c, cfg->unit, cfg->period, 0, &n, err);
    PQfinish(c);
    if (rc) return 1;
    printf("%ld report(s) un-parked\n", n);
    LOG_INFO("unparked", "count=%ld unit=%s period=%s", n, cfg->unit ? cfg->unit : "*",
             cfg->period ? cfg->period : "*");
    return 0;
}

/* ---- status ------------------------------------------------------------------------ */

int sync_status(const sync_config *cfg, tthc_err *err)
{
    PGconn *c = NULL;
    PGresult *r = NULL;
    int code = 1;
    sync_stats st;
    if (tthc_pg_connect(cfg->dsn, "tthc-sync status", (int)cfg->statement_timeout_ms, &c, err)) return 1;
    if (sync_q_stats(c, &st, err)) goto done;
    printf("queue depth:     %ld (in flight: %ld, retrying: %ld)\n", st.depth, st.leased, st.retrying);
    printf("oldest waiting:  %.1f s\n", st.oldest_s);
    printf("parked:          %ld\n", st.parked);
    r = PQexec(c, "SELECT s.unit_code, s.period, s.parked_revision, t.revision, COALESCE(s.last_status, 0),"
                  " COALESCE(s.last_error, ''), to_char(s.updated_at AT TIME ZONE 'Asia/Ho_Chi_Minh',"
                  " 'YYYY-MM-DD HH24:MI:SS')"
                  " FROM sync_state s JOIN period_totals t ON t.unit_code = s.unit_code AND t.period = s.period"
                  " WHERE s.status = 'parked' AND t.revision <= s.parked_revision"
                  " ORDER BY s.period, s.unit_code LIMIT 1000");
    if (tthc_pg_result(c, r, PGRES_TUPLES_OK, "parked reports", err)) goto done;
    if (PQntuples(r)) {
        printf("\n%-24s %-8s %10s %6s %-19s  %s\n", "UNIT", "PERIOD", "REVISION", "STATUS", "SINCE (+07)", "ANSWER");
        for (int i = 0; i < PQntuples(r); i++) {
            char text[201];
            const char *a = PQgetvalue(r, i, 5);
            printf("%-24s %-8s %10s %6s %-19s  %s\n", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1), PQgetvalue(r, i, 2),
                   PQgetvalue(r, i, 4), PQgetvalue(r, i, 6), sync_sanitize(text, sizeof text, a, strlen(a)));
        }
        if (PQntuples(r) == 1000) printf("(first 1000 shown)\n");
    }
    code = 0;
done:
    PQclear(r);
    PQfinish(c);
    return code;
}
