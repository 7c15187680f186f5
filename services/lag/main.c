/* tthc-lag: consumer lag and Burrow status of a group, like
 * `kafka-consumer-groups --describe` plus a verdict for cron and check runners.
 *
 * For a group and topic(s): one row per partition with the applied offset
 * (PostgreSQL consumer_offset, only with --dsn / TTHC_PG_DSN), Kafka's
 * committed offset, the log end, the lag in messages and in seconds, the
 * status, and the owner.  The status needs a window: the offsets are sampled
 * --samples times, --interval-ms apart, and judged with common/lag.h (Burrow's
 * rules, tick-window adaptation).  Exit code: 0 OK, 1 WARN, 2 ERR, 3 usage,
 * connection or timeout error (or a group with no offset at all).
 *
 * Everything is bounded by --timeout (seconds, overall). */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "applied.h"
#include "config.h"
#include "kafka_probe.h"
#include "lag.h"
#include "lag_render.h"
#include "log.h"
#include "owners.h"
#include "pg.h"
#include "signals.h"
#include "timeutil.h"

enum { EXIT_OK = 0, EXIT_WARN = 1, EXIT_ERR = 2, EXIT_UNKNOWN = 3 };

#define MAX_TOPICS 32
#define MAX_ROWS   100000

typedef struct {
    char *brokers;
    char *group;
    char *topic;
    char *dsn;
    long samples;
    long interval_ms;
    long timeout_s;
    int json;
    char *log_level;
} lag_config;

#define OPT(...) TTHC_OPT(lag_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(brokers, "brokers", TTHC_OPT_STR, .env = "TTHC_KAFKA_BROKERS", .def = "127.0.0.1:9092", .required = 1,
        .help = "Kafka bootstrap servers"),
    OPT(group, "group", TTHC_OPT_STR, .env = "TTHC_GROUP_ID", .def = "tthc-ingest", .required = 1,
        .help = "consumer group to describe"),
    OPT(topic, "topic", TTHC_OPT_STR, .env = "TTHC_DOSSIER_TOPIC", .def = "tthc.dossier.events", .required = 1,
        .help = "topic(s) the group consumes, comma-separated"),
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN",
        .help = "libpq connection string: adds the applied offsets (consumer_offset) and judges on them"),
    OPT(samples, "samples", TTHC_OPT_INT, .env = "TTHC_LAG_SAMPLES", .def = "5", .min = 2,
        .max = TTHC_BURROW_WINDOW_MAX,
        .help = "samples in the status window (the window spans (samples-1) x interval; make it longer than the "
                "group's commit interval, 5 s with librdkafka's auto-commit)"),
    OPT(interval_ms, "interval-ms", TTHC_OPT_INT, .env = "TTHC_LAG_INTERVAL_MS", .def = "1000", .min = 10,
        .max = 600000, .help = "time between two samples"),
    OPT(timeout_s, "timeout", TTHC_OPT_INT, .env = "TTHC_LAG_TIMEOUT", .def = "30", .min = 1, .max = 3600,
        .help = "overall bound in seconds, sampling included (exit 3 when it expires)"),
    OPT(json, "json", TTHC_OPT_BOOL, .def = "false", .help = "one JSON object instead of the table"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "warn",
        .help = "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-lag",
    "Lag and Burrow status of a consumer group, one row per partition (like kafka-consumer-groups --describe).\n"
    "Samples the offsets --samples times, --interval-ms apart, and judges the window with Burrow's rules\n"
    "(common/lag.h): OK; WARN (offsets move, lag never shrinks); STOP (no commit for longer than the window:\n"
    "needs commit times, i.e. --dsn); STALL (offset fixed while lagging); REWIND (offset went back).\n"
    "Exit code: 0 OK, 1 WARN, 2 ERR (a STOP, STALL or REWIND partition),\n"
    "3 usage, connection or timeout error, or no offset at all for the group.",
    NULL,
    opts,
    sizeof opts / sizeof opts[0],
};

typedef struct {
    lag_config cfg;
    char *topics[MAX_TOPICS];
    int ntopics;
    int64_t deadline_ms; /* monotonic */
    lag_owners *owners;  /* the DescribeConsumerGroups helper, until finished */
    int64_t owners_deadline_ms;
    lag_probe *probe;
    PGconn *pg;
    lag_row *rows;
    size_t n;
    char state[64];
    char owner_error[sizeof(tthc_err)];
    int have_state;
} lag_run;

static int left_ms(const lag_run *run)
{
    int64_t left = run->deadline_ms - tthc_mono_ms();
    return left > 0 ? (int)(left > 600000 ? 600000 : left) : 0;
}

static int bounded(const lag_run *run, int cap_ms)
{
    int left = left_ms(run);
    return left < cap_ms ? left : cap_ms;
}

static double wall_s(void)
{
    return (double)tthc_now_us() / 1e6;
}

static tthc_rc split_topics(lag_run *run, tthc_err *err)
{
    const char *p = run->cfg.topic;
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        if (!*p) break;
        size_t len = strcspn(p, ", ");
        if (run->ntopics == MAX_TOPICS) return tthc_fail(err, TTHC_EINVAL, "--topic: more than %d topics", MAX_TOPICS);
        if (!(run->topics[run->ntopics] = strndup(p, len))) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        run->ntopics++;
        p += len;
    }
    if (!run->ntopics) return tthc_fail(err, TTHC_EINVAL, "--topic: no topic given");
    return TTHC_OK;
}

static tthc_rc build_rows(lag_run *run, tthc_err *err)
{
    int counts[MAX_TOPICS];
    size_t total = 0;
    for (int t = 0; t < run->ntopics; t++) {
        tthc_rc rc = lag_probe_partitions(run->probe, run->topics[t], bounded(run, 10000), &counts[t], err);
        if (rc) return rc;
        total += (size_t)counts[t];
    }
    if (total > MAX_ROWS) return tthc_fail(err, TTHC_EINVAL, "more than %d partitions", MAX_ROWS);
    run->rows = calloc(total, sizeof *run->rows);
    if (!run->rows) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    for (int t = 0; t < run->ntopics; t++) {
        for (int p = 0; p < counts[t]; p++) {
            lag_row *r = &run->rows[run->n++];
            r->topic = run->topics[t];
            r->partition = p;
            r->log_end = r->log_start = r->committed = r->applied = r->next_ts_ms = -1;
            r->applied_age = -1;
            tthc_lag_ring_init(&r->ring);
            tthc_burrow_init_size(&r->window, (size_t)run->cfg.samples);
        }
    }
    return TTHC_OK;
}

/* One tick: log ends, committed offsets, applied offsets; into ring and window. */
static tthc_rc sample(lag_run *run, int first, tthc_err *err)
{
    tthc_rc rc = lag_probe_watermarks(run->probe, run->rows, run->n, first, bounded(run, 10000), err);
    if (!rc) rc = lag_probe_committed(run->probe, run->rows, run->n, bounded(run, 10000), err);
    if (!rc && run->pg) rc = lag_applied_read(run->pg, run->cfg.group, run->rows, run->n, err);
    if (rc) return rc;
    double t = wall_s();
    for (size_t i = 0; i < run->n; i++) {
        lag_row *r = &run->rows[i];
        tthc_lag_ring_add(&r->ring, r->log_end, t);
        int64_t basis = lag_row_basis(r, run->pg != NULL);
        /* Kafka's committed offsets carry no commit time; applied ones do. */
        double commit_t = run->pg && r->applied_age >= 0 ? t - r->applied_age : -1.0;
        if (basis >= 0) tthc_burrow_add(&r->window, t, basis, r->log_end, commit_t);
    }
    return TTHC_OK;
}

static void sleep_until_ms(int64_t when_mono_ms)
{
    for (;;) {
        int64_t left = when_mono_ms - tthc_mono_ms();
        if (left <= 0 || tthc_stop_requested) return;
        struct timespec ts = {left / 1000, (left % 1000) * 1000000L};
        if (!nanosleep(&ts, NULL) || errno != EINTR) return;
    }
}

static tthc_rc sample_window(lag_run *run, tthc_err *err)
{
    int64_t t0 = tthc_mono_ms();
    for (long k = 0; k < run->cfg.samples; k++) {
        if (k) sleep_until_ms(t0 + k * run->cfg.interval_ms);
        if (tthc_stop_requested) return tthc_fail(err, TTHC_EINVAL, "interrupted");
        if (!left_ms(run))
            return tthc_fail(err, TTHC_ETIMEOUT, "--timeout %ld s expired while sampling", run->cfg.timeout_s);
        tthc_rc rc = sample(run, k == 0, err);
        if (rc) return rc;
    }
    return TTHC_OK;
}

/* Lag, lag seconds and status per row; the timestamps of messages older than
 * the ring are read from Kafka (bounded; missing ones fall back to the ring). */
static tthc_rc judge(lag_run *run, tthc_err *err)
{
    int64_t *want = calloc(run->n ? run->n : 1, sizeof *want);
    if (!want) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    for (size_t i = 0; i < run->n; i++) {
        lag_row *r = &run->rows[i];
        int64_t basis = lag_row_basis(r, run->pg != NULL), oldest_end = -1;
        want[i] = -1;
        if (basis < 0 || r->log_end < 0) continue;
        if (!tthc_lag_ring_oldest(&r->ring, &oldest_end, NULL)) oldest_end = -1;
        if (basis < r->log_end && (oldest_end < 0 || basis < oldest_end)) want[i] = basis;
    }
    tthc_rc rc = lag_probe_timestamps(run->probe, run->rows, run->n, want, bounded(run, 5000), err);
    free(want);
    if (rc) return rc;
    double now = wall_s();
    for (size_t i = 0; i < run->n; i++) {
        lag_row *r = &run->rows[i];
        int64_t basis = lag_row_basis(r, run->pg != NULL);
        r->judged = basis >= 0 && r->log_end >= 0;
        if (!r->judged) continue;
        r->lag = r->log_end > basis ? r->log_end - basis : 0;
        double ts = r->next_ts_ms >= 0 ? (double)r->next_ts_ms / 1000.0 : -1.0;
        r->lag_seconds = tthc_lag_seconds(&r->ring, basis, now, ts);
        r->status = tthc_burrow_eval(&r->window, now);
        r->evaluated = tthc_burrow_evaluated(&r->window);
    }
    return TTHC_OK;
}

static tthc_rc run_all(lag_run *run, tthc_group_status *group, tthc_err *err)
{
    tthc_rc rc = split_topics(run, err);
    if (rc) return rc;
    /* The owners' helper process first: it must fork before librdkafka starts threads. */
    int owners_ms = bounded(run, 5000);
    tthc_err derr = {{0}};
    if (lag_owners_start(run->cfg.brokers, run->cfg.group, owners_ms, &run->owners, &derr))
        snprintf(run->owner_error, sizeof run->owner_error, "%s", derr.msg);
    run->owners_deadline_ms = tthc_mono_ms() + owners_ms + 2000;
    rc = lag_probe_open(run->cfg.brokers, run->cfg.group, &run->probe, err);
    if (!rc) rc = build_rows(run, err);
    if (!rc && run->cfg.dsn && *run->cfg.dsn) /* an empty TTHC_PG_DSN counts as unset */
        rc = tthc_pg_connect(run->cfg.dsn, "tthc-lag", bounded(run, 10000), &run->pg, err);
    if (!rc) rc = sample_window(run, err);
    if (run->owners) { /* also on failure: the helper is always reaped */
        int64_t until = run->owners_deadline_ms < run->deadline_ms ? run->owners_deadline_ms : run->deadline_ms;
        if (lag_owners_finish(run->owners, until, run->rows, run->n, run->state, sizeof run->state, &derr))
            snprintf(run->owner_error, sizeof run->owner_error, "%s", derr.msg);
        else run->have_state = 1;
        run->owners = NULL;
    }
    if (run->owner_error[0])
        LOG_WARN("owners_unknown", "error=%s", tthc_log_quote((char[600]){0}, 600, run->owner_error));
    if (!rc) rc = judge(run, err);
    if (rc) return rc;
    tthc_partition_status *st = calloc(run->n ? run->n : 1, sizeof *st);
    if (!st) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    size_t judged = 0;
    for (size_t i = 0; i < run->n; i++)
        if (run->rows[i].judged) st[judged++] = run->rows[i].status;
    *group = tthc_burrow_group(st, judged);
    free(st);
    if (!judged)
        return tthc_fail(err, TTHC_EINVAL, "group %s has no %s offset on %s", run->cfg.group,
                         run->pg ? "applied" : "committed", run->cfg.topic);
    return TTHC_OK;
}

int main(int argc, char **argv)
{
    static lag_run run;
    tthc_err err = {{0}};
    tthc_log_init("tthc-lag", getenv("TTHC_LOG_LEVEL") ? getenv("TTHC_LOG_LEVEL") : "warn");
    tthc_rc rc = tthc_config_load(&cli, &run.cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        tthc_config_free(&cli, &run.cfg);
        return EXIT_OK;
    }
    if (rc) {
        LOG_ERROR("config_invalid", "error=%s", err.msg);
        tthc_config_free(&cli, &run.cfg);
        return EXIT_UNKNOWN;
    }
    tthc_log_init(NULL, run.cfg.log_level);
    tthc_err serr = {{0}};
    if (tthc_signals_install(&serr)) {
        LOG_ERROR("signals", "error=%s", serr.msg);
        tthc_config_free(&cli, &run.cfg);
        return 3;
    }
    int code = EXIT_UNKNOWN;
    if ((run.cfg.samples - 1) * run.cfg.interval_ms >= run.cfg.timeout_s * 1000) {
        LOG_ERROR("config_invalid",
                  "error=\"--samples x --interval-ms does not fit in --timeout\" samples=%ld "
                  "interval_ms=%ld timeout_s=%ld",
                  run.cfg.samples, run.cfg.interval_ms, run.cfg.timeout_s);
        goto out;
    }
    run.deadline_ms = tthc_mono_ms() + run.cfg.timeout_s * 1000;
    tthc_group_status group = TTHC_GROUP_OK;
    if ((rc = run_all(&run, &group, &err))) {
        LOG_ERROR("failed", "rc=%s error=%s", tthc_rc_name(rc), err.msg);
        goto out;
    }
    lag_report rep = {
        .group = run.cfg.group,
        .state = run.have_state ? run.state : NULL,
        .owner_error = run.owner_error[0] ? run.owner_error : NULL,
        .status = group,
        .use_applied = run.pg != NULL,
        .samples = run.cfg.samples,
        .interval_ms = run.cfg.interval_ms,
        .rows = run.rows,
        .n = run.n,
    };
    rc = run.cfg.json ? lag_render_json(&rep, stdout, &err) : lag_render_table(&rep, stdout, &err);
    if (rc) {
        LOG_ERROR("render_failed", "error=%s", err.msg);
        goto out;
    }
    code = group == TTHC_GROUP_OK ? EXIT_OK : group == TTHC_GROUP_WARN ? EXIT_WARN : EXIT_ERR;
out:
    if (run.pg) PQfinish(run.pg);
    lag_probe_close(run.probe);
    free(run.rows);
    for (int t = 0; t < run.ntopics; t++) free(run.topics[t]);
    tthc_config_free(&cli, &run.cfg);
    return code;
}
