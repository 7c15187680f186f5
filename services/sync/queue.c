#include "queue.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dossier.h"
#include "pg.h"
#include "timeutil.h"

/* "tthcsync" as a big-endian 64-bit integer: the ensure step's advisory lock. */
#define ENSURE_LOCK_KEY "8391446781961924195"

static char counter_list[512];
static char claim_sql[4096];
static pthread_once_t sql_once = PTHREAD_ONCE_INIT;

static void build_sql(void)
{
    size_t n = 0;
    for (int c = 0; c < TTHC_C__COUNT; c++)
        n += (size_t)snprintf(counter_list + n, sizeof counter_list - n, "%st.%s", c ? ", " : "",
                              tthc_counter_column[c]);
    snprintf(claim_sql, sizeof claim_sql,
             "WITH due AS ("
             " SELECT s.unit_code, s.period FROM sync_state s"
             " JOIN period_totals t ON t.unit_code = s.unit_code AND t.period = s.period"
             " WHERE t.revision > s.sent_revision"
             "   AND (s.status <> 'parked' OR t.revision > s.parked_revision)"
             "   AND s.next_attempt_at <= now()"
             "   AND (s.lease_until IS NULL OR s.lease_until < now())"
             " ORDER BY COALESCE(s.waiting_since, t.updated_at), s.unit_code, s.period" /* oldest change first */
             " LIMIT $2"
             " FOR UPDATE OF s SKIP LOCKED)"
             " UPDATE sync_state s"
             " SET lease_owner = $1,"
             "     lease_until = now() + $3::bigint * interval '1 millisecond',"
             "     claimed_at = now(),"
             "     generated_at = CASE WHEN s.report_revision = t.revision THEN s.generated_at ELSE now() END,"
             "     report_revision = t.revision,"
             "     waiting_since = COALESCE(s.waiting_since, t.updated_at)"
             " FROM due, period_totals t"
             " WHERE s.unit_code = due.unit_code AND s.period = due.period"
             "   AND t.unit_code = s.unit_code AND t.period = s.period"
             " RETURNING s.unit_code, s.period, t.revision, s.attempts,"
             "   (extract(epoch FROM s.generated_at) * 1000000)::bigint,"
             "   GREATEST((extract(epoch FROM now() - s.waiting_since) * 1000)::bigint, 0), %s",
             counter_list);
}

const char *sync_q_counter_list(void)
{
    pthread_once(&sql_once, build_sql);
    return counter_list;
}

long long sync_q_ll(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col)) return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

/* Runs a parameterized statement and checks its status; *out keeps the
 * result (caller clears) when out is not NULL. */
static tthc_rc run(PGconn *c, const char *sql, int n, const char *const *params, ExecStatusType want, const char *what,
                   PGresult **out, tthc_err *err)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    tthc_rc rc = tthc_pg_result(c, r, want, what, err);
    if (rc || !out) {
        PQclear(r);
        if (out) *out = NULL;
        return rc;
    }
    *out = r;
    return TTHC_OK;
}

static tthc_rc run_count(PGconn *c, const char *sql, int n, const char *const *params, const char *what, long *count,
                         tthc_err *err)
{
    PGresult *r = NULL;
    tthc_rc rc = run(c, sql, n, params, PGRES_COMMAND_OK, what, &r, err);
    if (!rc && count) *count = strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return rc;
}

tthc_rc sync_q_ensure(PGconn *c, long *inserted, int *ran, tthc_err *err)
{
    PGresult *r = NULL;
    *inserted = 0;
    *ran = 0;
    tthc_rc rc = tthc_pg_exec(c, "BEGIN", err);
    if (rc) return rc;
    rc = run(c, "SELECT pg_try_advisory_xact_lock(" ENSURE_LOCK_KEY ")", 0, NULL, PGRES_TUPLES_OK, "ensure lock", &r,
             err);
    if (rc) goto fail;
    int got = PQntuples(r) == 1 && !strcmp(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    if (got) {
        rc = run_count(c,
                       "INSERT INTO sync_state (unit_code, period, waiting_since)"
                       " SELECT t.unit_code, t.period, t.updated_at FROM period_totals t"
                       " WHERE t.revision > 0 AND NOT EXISTS (SELECT 1 FROM sync_state s"
                       "   WHERE s.unit_code = t.unit_code AND s.period = t.period)"
                       " ON CONFLICT DO NOTHING",
                       0, NULL, "ensure rows", inserted, err);
        if (!rc)
            rc = run_count(c,
                           "UPDATE sync_state s SET waiting_since = t.updated_at FROM period_totals t"
                           " WHERE t.unit_code = s.unit_code AND t.period = s.period"
                           "   AND s.waiting_since IS NULL AND t.revision > s.sent_revision",
                           0, NULL, "stamp waiting", NULL, err);
        if (rc) goto fail;
        *ran = 1;
    }
    return tthc_pg_exec(c, "COMMIT", err);
fail:
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *rb = PQexec(c, "ROLLBACK");
        PQclear(rb);
    }
    return rc;
}

tthc_rc sync_q_stats(PGconn *c, sync_stats *s, tthc_err *err)
{
    PGresult *r = NULL;
    tthc_rc rc = run(c,
                     "SELECT count(*) FILTER (WHERE q),"
                     " count(*) FILTER (WHERE q AND s.attempts > 0),"
                     " count(*) FILTER (WHERE s.lease_until > now()),"
                     " count(*) FILTER (WHERE s.status = 'parked' AND t.revision <= s.parked_revision),"
                     " COALESCE(extract(epoch FROM now() - min(COALESCE(s.waiting_since, t.updated_at))"
                     "   FILTER (WHERE q)), 0)::float8,"
                     " COALESCE((extract(epoch FROM GREATEST(min(s.next_attempt_at) FILTER (WHERE q AND"
                     "   (s.lease_until IS NULL OR s.lease_until < now())), now()) - now()) * 1000)::bigint, -1)"
                     " FROM sync_state s JOIN period_totals t ON t.unit_code = s.unit_code AND t.period = s.period,"
                     " LATERAL (SELECT t.revision > s.sent_revision"
                     "   AND (s.status <> 'parked' OR t.revision > s.parked_revision) AS q) x",
                     0, NULL, PGRES_TUPLES_OK, "stats", &r, err);
    if (rc) return rc;
    s->depth = (long)sync_q_ll(r, 0, 0);
    s->retrying = (long)sync_q_ll(r, 0, 1);
    s->leased = (long)sync_q_ll(r, 0, 2);
    s->parked = (long)sync_q_ll(r, 0, 3);
    s->oldest_s = strtod(PQgetvalue(r, 0, 4), NULL);
    if (s->oldest_s < 0) s->oldest_s = 0;
    s->next_due_ms = sync_q_ll(r, 0, 5);
    PQclear(r);
    return TTHC_OK;
}

static void copy_str(char *dst, size_t cap, const char *src, int *bad)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        *bad = 1;
    }
    memcpy(dst, src, n);
    dst[n] = '\0';
}

tthc_rc sync_q_claim(PGconn *c, const char *owner, long lease_ms, sync_item *items, size_t max, size_t *n,
                     tthc_err *err)
{
    pthread_once(&sql_once, build_sql);
    *n = 0;
    char lim[32], lease[32];
    snprintf(lim, sizeof lim, "%zu", max);
    snprintf(lease, sizeof lease, "%ld", lease_ms);
    const char *params[3] = {owner, lim, lease};
    PGresult *r = NULL;
    int64_t mono = tthc_mono_ms();
    tthc_rc rc = run(c, claim_sql, 3, params, PGRES_TUPLES_OK, "claim", &r, err);
    if (rc) return rc;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && (size_t)i < max; i++) {
        sync_item *it = &items[i];
        memset(it, 0, sizeof *it);
        copy_str(it->t.unit_code, sizeof it->t.unit_code, PQgetvalue(r, i, 0), &it->bad);
        copy_str(it->t.period, sizeof it->t.period, PQgetvalue(r, i, 1), &it->bad);
        it->t.revision = sync_q_ll(r, i, 2);
        it->attempts = (int)sync_q_ll(r, i, 3);
        it->generated_at_us = sync_q_ll(r, i, 4);
        it->age_ms = sync_q_ll(r, i, 5);
        for (int k = 0; k < TTHC_C__COUNT; k++) it->t.counts[k] = sync_q_ll(r, i, 6 + k);
        it->claimed_mono_ms = it->lease_mono_ms = mono;
        (*n)++;
    }
    PQclear(r);
    return TTHC_OK;
}

tthc_rc sync_q_renew(PGconn *c, const char *owner, long lease_ms, sync_item *items, size_t n, tthc_err *err)
{
    char lease[32];
    snprintf(lease, sizeof lease, "%ld", lease_ms);
    const char *params[2] = {owner, lease};
    PGresult *r = NULL;
    int64_t mono = tthc_mono_ms();
    tthc_rc rc = run(c,
                     "UPDATE sync_state SET lease_until = now() + $2::bigint * interval '1 millisecond'"
                     " WHERE lease_owner = $1 RETURNING unit_code, period",
                     2, params, PGRES_TUPLES_OK, "renew leases", &r, err);
    if (rc) return rc;
    int rows = PQntuples(r);
    for (size_t i = 0; i < n; i++) {
        sync_item *it = &items[i];
        if (it->done) continue;
        int found = 0;
        for (int k = 0; k < rows && !found; k++)
            found = !strcmp(PQgetvalue(r, k, 0), it->t.unit_code) && !strcmp(PQgetvalue(r, k, 1), it->t.period);
        if (found) it->lease_mono_ms = mono;
        else it->done = 1;
    }
    PQclear(r);
    return TTHC_OK;
}

tthc_rc sync_q_finish(PGconn *c, const char *owner, const sync_item *it, const sync_finish *f, int *applied,
                      tthc_err *err)
{
    char a[32], b[32];
    long count = 0;
    tthc_rc rc;
    *applied = 0;
    switch (f->kind) {
    case SYNC_FIN_SYNCED: {
        snprintf(a, sizeof a, "%lld", f->revision);
        snprintf(b, sizeof b, "%d", f->http_status);
        const char *p[5] = {it->t.unit_code, it->t.period, owner, a, b};
        rc = run_count(c,
                       "UPDATE sync_state s SET sent_revision = GREATEST(s.sent_revision, $4::bigint),"
                       " status = 'synced', parked_revision = NULL, attempts = 0, last_status = $5::int,"
                       " last_error = NULL, next_attempt_at = '-infinity', lease_owner = NULL, lease_until = NULL,"
                       " last_success_at = now(), updated_at = now(),"
                       " waiting_since = CASE WHEN t.revision > GREATEST(s.sent_revision, $4::bigint)"
                       "   THEN s.claimed_at END"
                       " FROM period_totals t"
                       " WHERE s.unit_code = $1 AND s.period = $2 AND s.lease_owner = $3"
                       "   AND t.unit_code = s.unit_code AND t.period = s.period",
                       5, p, "ack", &count, err);
        break;
    }
    case SYNC_FIN_RETRY: {
        snprintf(a, sizeof a, "%lld", (long long)f->delay_ms);
        snprintf(b, sizeof b, "%d", f->http_status);
        const char *p[6] = {it->t.unit_code, it->t.period, owner, b, f->error, a};
        rc = run_count(c,
                       "UPDATE sync_state SET status = 'pending', parked_revision = NULL,"
                       " attempts = attempts + 1, last_status = $4::int, last_error = $5,"
                       " next_attempt_at = now() + $6::bigint * interval '1 millisecond',"
                       " lease_owner = NULL, lease_until = NULL, updated_at = now()"
                       " WHERE unit_code = $1 AND period = $2 AND lease_owner = $3",
                       6, p, "schedule retry", &count, err);
        break;
    }
    case SYNC_FIN_PARK: {
        snprintf(a, sizeof a, "%lld", f->revision);
        snprintf(b, sizeof b, "%d", f->http_status);
        const char *p[6] = {it->t.unit_code, it->t.period, owner, a, b, f->error};
        rc = run_count(c,
                       "UPDATE sync_state SET status = 'parked', parked_revision = $4::bigint, attempts = 0,"
                       " last_status = $5::int, last_error = $6, next_attempt_at = '-infinity',"
                       " lease_owner = NULL, lease_until = NULL, updated_at = now()"
                       " WHERE unit_code = $1 AND period = $2 AND lease_owner = $3",
                       6, p, "park", &count, err);
        break;
    }
    case SYNC_FIN_RELEASE:
    default: {
        const char *p[3] = {it->t.unit_code, it->t.period, owner};
        rc = run_count(c,
                       "UPDATE sync_state SET lease_owner = NULL, lease_until = NULL"
                       " WHERE unit_code = $1 AND period = $2 AND lease_owner = $3",
                       3, p, "release", &count, err);
        break;
    }
    }
    if (!rc) *applied = count > 0;
    return rc;
}

tthc_rc sync_q_release(PGconn *c, const char *owner, long *n, tthc_err *err)
{
    const char *p[1] = {owner};
    return run_count(c, "UPDATE sync_state SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", 1, p,
                     "release leases", n, err);
}

tthc_rc sync_q_raise(PGconn *c, const char *owner, sync_item *it, long long to, int *raised, tthc_err *err)
{
    char from[32], tos[32];
    snprintf(from, sizeof from, "%lld", it->t.revision);
    snprintf(tos, sizeof tos, "%lld", to);
    const char *p[5] = {it->t.unit_code, it->t.period, owner, from, tos};
    PGresult *r = NULL;
    *raised = 0;
    tthc_rc rc = run(c,
                     "WITH r AS (UPDATE period_totals SET revision = $5::bigint, updated_at = now()"
                     "   WHERE unit_code = $1 AND period = $2 AND revision = $4::bigint AND $5::bigint > revision"
                     "   RETURNING unit_code, period)"
                     " UPDATE sync_state s SET report_revision = $5::bigint, generated_at = now(), updated_at = now()"
                     " FROM r WHERE s.unit_code = r.unit_code AND s.period = r.period AND s.lease_owner = $3"
                     " RETURNING (extract(epoch FROM s.generated_at) * 1000000)::bigint",
                     5, p, PGRES_TUPLES_OK, "raise revision", &r, err);
    if (rc) return rc;
    if (PQntuples(r) == 1) {
        *raised = 1;
        it->t.revision = to;
        it->generated_at_us = sync_q_ll(r, 0, 0);
    }
    PQclear(r);
    return TTHC_OK;
}

tthc_rc sync_q_notify(PGconn *c, tthc_err *err)
{
    return tthc_pg_exec(c, "NOTIFY tthc_totals", err);
}

tthc_rc sync_q_unpark(PGconn *c, const char *unit, const char *period, int only_401, long *n, tthc_err *err)
{
    const char *p[3] = {unit, period, only_401 ? "true" : "false"};
    tthc_rc rc = run_count(c,
                           "UPDATE sync_state SET status = 'pending', parked_revision = NULL, attempts = 0,"
                           " next_attempt_at = '-infinity', updated_at = now()"
                           " WHERE status = 'parked' AND ($1::text IS NULL OR unit_code = $1)"
                           "   AND ($2::text IS NULL OR period = $2) AND (NOT $3::boolean OR last_status = 401)",
                           3, p, "unpark", n, err);
    if (!rc && *n > 0) rc = sync_q_notify(c, err);
    return rc;
}

/* 1 when owner "<instance>/<pid>/..." names a process that cannot be alive. */
static int owner_dead(const char *owner, size_t prefix_len, const char *self)
{
    char *end = NULL;
    if (!strncmp(owner, self, strlen(self))) return 0;
    errno = 0;
    long pid = strtol(owner + prefix_len, &end, 10);
    if (errno || end == owner + prefix_len || *end != '/' || pid <= 0) return 0;
    if ((pid_t)pid == getpid()) return 1; /* a predecessor with our pid: we have not claimed anything yet */
    return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

tthc_rc sync_q_release_dead(PGconn *c, const char *instance, const char *self, long *n, tthc_err *err)
{
    *n = 0;
    const char *p[1] = {instance};
    PGresult *r = NULL;
    tthc_rc rc = run(c,
                     "SELECT DISTINCT lease_owner FROM sync_state"
                     " WHERE lease_owner IS NOT NULL AND left(lease_owner, length($1) + 1) = $1 || '/'",
                     1, p, PGRES_TUPLES_OK, "find leases", &r, err);
    if (rc) return rc;
    size_t plen = strlen(instance) + 1;
    for (int i = 0; i < PQntuples(r) && !rc; i++) {
        const char *owner = PQgetvalue(r, i, 0);
        if (!owner_dead(owner, plen, self)) continue;
        long k = 0;
        rc = sync_q_release(c, owner, &k, err);
        *n += k;
    }
    PQclear(r);
    return rc;
}
