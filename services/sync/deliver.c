/* deliver.c - one claimed report, from the POST to its recorded outcome
 * (deliver.h): the per-report state machine of the tthc-sync daemon. */
#include "deliver.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backoff.h"
#include "log.h"
#include "outcome.h"
#include "portal.h"
#include "timeutil.h"

#define ANSWER_MAX 1000 /* bytes of a portal answer kept in last_error */

/* Records an outcome, retrying while PostgreSQL is away (the portal already
 * answered: the answer must not be lost lightly).  Gives up on a hard
 * database error, or at shutdown while the database is away; the lease then
 * runs out and the report is sent again (same key: the portal answers
 * "duplicate").  Returns 1 when recorded. */
static int finish(sync_worker *w, const sync_item *it, const sync_finish *f)
{
    sync_daemon *d = w->d;
    for (;;) {
        if (sync_worker_db_ready(w)) {
            tthc_err err = {{0}};
            int applied = 0;
            tthc_rc rc = sync_q_finish(w->db, w->owner, it, f, &applied, &err);
            if (!rc) {
                if (!applied)
                    LOG_WARN("lease_lost", "unit=%s period=%s revision=%lld note=\"outcome not recorded\"",
                             it->t.unit_code, it->t.period, it->t.revision);
                return applied;
            }
            sync_worker_db_failed(w, rc, &err, "finish");
            if (rc != TTHC_ERETRY) return 0;
        }
        if (atomic_load(&d->stopping)) {
            LOG_WARN("outcome_not_recorded", "unit=%s period=%s revision=%lld note=\"database away at shutdown\"",
                     it->t.unit_code, it->t.period, it->t.revision);
            return 0;
        }
        sync_daemon_wait(d, 0, 0, 250);
    }
}

/* ---- outcomes ------------------------------------------------------------------ */

static void ack(sync_worker *w, const sync_item *it, long long revision, int status, sync_metric_outcome label)
{
    sync_finish f = {.kind = SYNC_FIN_SYNCED, .revision = revision, .http_status = status};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, label);
    sync_metrics_success(w->d->m, (double)tthc_now_us() / 1e6);
    sync_metrics_lag(w->d->m, (double)(it->age_ms + tthc_mono_ms() - it->claimed_mono_ms) / 1000.0);
    LOG_DEBUG("acknowledged", "unit=%s period=%s revision=%lld outcome=%s", it->t.unit_code, it->t.period, revision,
              sync_metrics_outcome_name(label));
}

/* The text kept in last_error: curl's message, or the (truncated) answer. */
static const char *answer_text(const sync_http_result *res, char *buf, size_t cap)
{
    if (res->status == 0) return sync_sanitize(buf, cap, res->error, strlen(res->error));
    return sync_sanitize(buf, cap, res->body, res->body_len);
}

/* A failed attempt: try again after a backoff (at least Retry-After); text is
 * what sync_state.last_error keeps, label the outcome counted. */
static void retry_as(sync_worker *w, const sync_item *it, const sync_http_result *res, const char *text,
                     sync_metric_outcome label)
{
    const sync_config *cfg = w->d->cfg;
    char q[ANSWER_MAX + 8];
    int64_t delay = sync_backoff_ms(it->attempts + 1, cfg->backoff_base_ms, cfg->backoff_cap_ms, res->retry_after_ms,
                                    sync_rand_unit(&w->rng));
    sync_finish f = {.kind = SYNC_FIN_RETRY, .http_status = (int)res->status, .error = text, .delay_ms = delay};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, label);
    sync_daemon_note_retry(w->d, res->status, text);
    LOG_DEBUG("retry", "unit=%s period=%s revision=%lld status=%ld attempt=%d delay_ms=%lld answer=%s", it->t.unit_code,
              it->t.period, it->t.revision, res->status, it->attempts + 1, (long long)delay,
              tthc_log_quote(q, sizeof q, text));
}

static void retry(sync_worker *w, const sync_item *it, const sync_http_result *res)
{
    char text[ANSWER_MAX + 1];
    retry_as(w, it, res, answer_text(res, text, sizeof text), SYNC_M_RETRY);
}

/* A 2xx the contract does not describe (an HTML page, another revision, ...):
 * never an acceptance; retried with backoff, counted, logged. */
static void bad_answer(sync_worker *w, const sync_item *it, const sync_http_result *res, long long answered)
{
    char body[ANSWER_MAX / 2], text[ANSWER_MAX + 1], q[ANSWER_MAX + 8];
    sync_sanitize(body, sizeof body, res->body, res->body_len);
    snprintf(text, sizeof text,
             "not an acceptance: HTTP %ld, expected 200 {\"status\":\"accepted\"|\"duplicate\",\"revision\":%lld}, "
             "answered revision %lld: %s",
             res->status, it->t.revision, answered, body);
    LOG_WARN("portal_bad_answer", "unit=%s period=%s revision=%lld status=%ld answered_revision=%lld answer=%s",
             it->t.unit_code, it->t.period, it->t.revision, res->status, answered, tthc_log_quote(q, sizeof q, body));
    retry_as(w, it, res, text, SYNC_M_BAD_ANSWER);
}

/* The text kept for a parked answer: a redirect says where it pointed (never followed). */
static const char *park_text(const sync_http_result *res, char *buf, size_t cap)
{
    if (res->status < 300 || res->status > 399) return answer_text(res, buf, cap);
    snprintf(buf, cap, "redirect to %s (not followed: the token goes to the configured portal URL only)",
             res->location[0] ? res->location : "(no Location)");
    return buf;
}

static void park(sync_worker *w, const sync_item *it, int status, const char *text)
{
    char q[ANSWER_MAX + 8];
    sync_finish f = {.kind = SYNC_FIN_PARK, .revision = it->t.revision, .http_status = status, .error = text};
    if (!finish(w, it, &f)) return;
    sync_metrics_outcome(w->d->m, sync_metrics_park_label(status));
    if (status != 401)
        LOG_WARN("parked", "unit=%s period=%s revision=%lld status=%d answer=%s", it->t.unit_code, it->t.period,
                 it->t.revision, status, tthc_log_quote(q, sizeof q, text));
}

/* 401: the token is wrong for every report.  Park this one, pause all
 * sending for auth_pause_ms, and say so once (not once per report). */
static void unauthorized(sync_worker *w, const sync_item *it, const sync_http_result *res)
{
    char text[ANSWER_MAX + 1];
    sync_auth_refused(w->d);
    park(w, it, 401, answer_text(res, text, sizeof text));
}

/* ---- one report ------------------------------------------------------------------ */

typedef enum { STALE_DONE, STALE_RESEND } stale_step;

/* 409: re-read the portal's copy.  Same counters: acknowledge (adopting the
 * portal's higher revision number, so the next change is not stale again).
 * Different: raise our revision above the portal's; the caller sends again. */
static stale_step resolve_stale(sync_worker *w, sync_item *it, long long current)
{
    sync_daemon *d = w->d;
    sync_http_result g;
    tthc_err err = {{0}};
    sync_portal_report *reps = NULL;
    size_t n = 0;
    stale_step step = STALE_DONE;
    char q[600];
    sync_finish release = {.kind = SYNC_FIN_RELEASE};
    if (sync_portal_get(w->portal, it->t.period, it->t.unit_code, &g, &err)) {
        LOG_ERROR("portal_get_failed", "error=%s", tthc_log_quote(q, sizeof q, err.msg));
        (void)finish(w, it, &release);
        return STALE_DONE;
    }
    sync_metrics_request(d->m, g.seconds);
    if (g.status != 200) {
        char text[ANSWER_MAX + 1];
        if (g.status == 401) unauthorized(w, it, &g);
        else if (g.status >= 300 && g.status < 400) park(w, it, (int)g.status, park_text(&g, text, sizeof text));
        else retry(w, it, &g);
        return STALE_DONE;
    }
    const sync_portal_report *p = NULL;
    if (!sync_parse_reports(g.body, g.body_len, &reps, &n, &err)) {
        for (size_t i = 0; i < n && !p; i++)
            if (!strcmp(reps[i].unit_code, it->t.unit_code) && !strcmp(reps[i].period, it->t.period)) p = &reps[i];
    }
    if (!p) {
        /* 409 but no readable copy: odd; try again later rather than loop. */
        sync_http_result odd = g;
        odd.status = 409;
        retry(w, it, &odd);
        goto done;
    }
    sync_values ours;
    sync_values_from_counts(it->t.counts, &ours);
    long long from = it->t.revision;
    if (sync_values_equal(&ours, &p->v)) {
        long long acked = from;
        if (p->revision > from && sync_worker_db_ready(w)) {
            int raised = 0;
            tthc_rc rc = sync_q_raise(w->db, w->owner, it, p->revision, &raised, &err);
            if (rc) sync_worker_db_failed(w, rc, &err, "adopt revision");
            else if (raised) acked = p->revision;
        }
        LOG_INFO("stale_resolved", "unit=%s period=%s revision=%lld portal_revision=%lld action=acknowledged",
                 it->t.unit_code, it->t.period, from, p->revision);
        ack(w, it, acked, 409, SYNC_M_STALE_SYNCED);
        goto done;
    }
    long long to = p->revision > current ? p->revision : current;
    if (from > to) to = from;
    to++;
    int raised = 0;
    if (sync_worker_db_ready(w)) {
        tthc_rc rc = sync_q_raise(w->db, w->owner, it, to, &raised, &err);
        if (rc) sync_worker_db_failed(w, rc, &err, "raise revision");
    }
    if (raised) {
        LOG_INFO("stale_resolved",
                 "unit=%s period=%s revision=%lld portal_revision=%lld action=raised new_revision=%lld",
                 it->t.unit_code, it->t.period, from, p->revision, to);
        sync_metrics_outcome(d->m, SYNC_M_STALE_RAISED);
        step = STALE_RESEND;
    } else {
        (void)finish(w, it, &release); /* the bucket changed meanwhile: its newer revision will be sent */
    }
done:
    free(reps);
    return step;
}

/* Takes a reloaded token into the worker's portal handle. */
static void worker_token(sync_worker *w)
{
    tthc_err err = {{0}};
    if (sync_daemon_take_token(w->d, w->portal, &w->token_gen, &err))
        LOG_ERROR("token_not_taken", "worker=%d error=%s", w->idx, err.msg);
}

void sync_deliver(sync_worker *w, sync_item *it)
{
    sync_daemon *d = w->d;
    char key[SYNC_KEY_MAX + 8], q[ANSWER_MAX + 8];
    worker_token(w);
    if (it->bad || sync_idempotency_key(key, sizeof key, it->t.unit_code, it->t.period, it->t.revision)) {
        park(w, it, 0, "unit_code or period too long to send");
        return;
    }
    for (int resent = 0;; resent++) {
        sync_http_result res;
        tthc_err err = {{0}};
        sync_finish release = {.kind = SYNC_FIN_RELEASE};
        char *json = sync_report_json(&it->t, it->generated_at_us);
        if (!json) {
            LOG_ERROR("out_of_memory", "op=report_json");
            (void)finish(w, it, &release);
            return;
        }
        tthc_rc rc = sync_portal_post(w->portal, key, json, &res, &err);
        free(json);
        if (rc) {
            LOG_ERROR("portal_post_failed", "error=%s", tthc_log_quote(q, sizeof q, err.msg));
            (void)finish(w, it, &release);
            return;
        }
        sync_metrics_request(d->m, res.seconds);
        long long cur = -1;
        char text[ANSWER_MAX + 1];
        switch (sync_classify(res.status, res.body, res.body_len, it->t.revision, &cur)) {
        case SYNC_ACCEPTED:
            sync_auth_ok(d);
            ack(w, it, it->t.revision, (int)res.status, SYNC_M_ACCEPTED);
            return;
        case SYNC_DUPLICATE:
            sync_auth_ok(d);
            ack(w, it, it->t.revision, (int)res.status, SYNC_M_DUPLICATE);
            return;
        case SYNC_RETRY: retry(w, it, &res); return;
        case SYNC_PARK: park(w, it, (int)res.status, park_text(&res, text, sizeof text)); return;
        case SYNC_BAD_ANSWER: bad_answer(w, it, &res, cur); return;
        case SYNC_UNAUTHORIZED: unauthorized(w, it, &res); return;
        case SYNC_STALE:
            if (resent) { /* stale again right after raising: someone else moves it; back off */
                retry(w, it, &res);
                return;
            }
            if (resolve_stale(w, it, cur) != STALE_RESEND) return;
            if (sync_idempotency_key(key, sizeof key, it->t.unit_code, it->t.period, it->t.revision)) {
                park(w, it, 0, "idempotency key too long");
                return;
            }
            break;
        }
    }
}
