/* tthc-emit: behaves like the provincial TTHC system, producing dossier
 * events (events.md) to Kafka, or KEY<TAB>JSON lines to a file. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "calendar.h"
#include "config.h"
#include "indicators.h"
#include "log.h"
#include "producer.h"
#include "profile.h"
#include "signals.h"
#include "stream.h"
#include "timeutil.h"
#include "unitlist.h"

typedef struct {
    char *brokers, *topic, *seed, *from, *to, *units_file, *rates, *spread, *trend;
    char *dup_rate, *late_rate, *malformed_rate, *out, *summary, *source, *log_level;
    long dossiers, events, per_day, rate, reorder_window, progress_ms, flush_timeout_ms, message_timeout_ms;
    int dry_run, print_profile, dump_units, self_check;
} emit_config;

#define OPT(...) TTHC_OPT(emit_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(brokers, "brokers", TTHC_OPT_STR, .env = "TTHC_KAFKA_BROKERS", .def = "127.0.0.1:9092",
        .help = "Kafka bootstrap servers"),
    OPT(topic, "topic", TTHC_OPT_STR, .env = "TTHC_DOSSIER_TOPIC", .def = "tthc.dossier.events",
        .help = "dossier events topic"),
    OPT(seed, "seed", TTHC_OPT_STR, .env = "TTHC_EMIT_SEED", .def = "h61",
        .help = "seed text: the same seed and options give a byte-identical stream"),
    OPT(from, "from", TTHC_OPT_STR, .def = "2025-07-01", .help = "first day of receipts (YYYY-MM-DD, Vietnam time)"),
    OPT(to, "to", TTHC_OPT_STR,
        .help = "last day of receipts (YYYY-MM-DD); the lifecycles of its dossiers still complete"),
    OPT(dossiers, "dossiers", TTHC_OPT_INT, .def = "0", .min = 0, .max = 1000000000L,
        .help = "receive this many dossiers, then complete them (0: off)"),
    OPT(events, "events", TTHC_OPT_INT, .def = "0", .min = 0, .max = 1000000000000L,
        .help = "stop after this many messages (0: off)"),
    OPT(per_day, "per-day", TTHC_OPT_INT, .def = "1000", .min = 1, .max = 10000000,
        .help = "dossiers received per working day, province-wide"),
    OPT(rate, "rate", TTHC_OPT_INT, .def = "0", .min = 0, .max = 10000000,
        .help = "messages per second for a live feed (0: as fast as possible); alone, runs until SIGINT"),
    OPT(units_file, "units-file", TTHC_OPT_STR,
        .help = "units as code<TAB>name<TAB>kind lines (default: built-in Vinh Long, H61, 144 units)"),
    OPT(rates, "rates", TTHC_OPT_STR,
        .help = "province-level probabilities to calibrate to, e.g. online_submission=0.64,e_result=0.95"),
    OPT(spread, "spread", TTHC_OPT_STR, .def = "1.0", .help = "scale of the differences between units (0: all alike)"),
    OPT(trend, "trend", TTHC_OPT_STR, .def = "0.06",
        .help = "log-odds improvement per month, zero at the middle month of --from..--to"),
    OPT(dup_rate, "dup-rate", TTHC_OPT_STR, .def = "0", .help = "share of messages delivered twice (0..1)"),
    OPT(late_rate, "late-rate", TTHC_OPT_STR, .def = "0", .help = "share of messages held back 20-75 days (0..1)"),
    OPT(malformed_rate, "malformed-rate", TTHC_OPT_STR, .def = "0",
        .help = "extra malformed messages per message (0..1); they must end in the DLQ"),
    OPT(reorder_window, "reorder-window", TTHC_OPT_INT, .def = "0", .min = 0, .max = 10000,
        .help = "shuffle within a window of N messages, each dossier's own order kept"),
    OPT(out, "out", TTHC_OPT_STR, .help = "write KEY<TAB>JSON lines to FILE ('-': stdout) instead of Kafka"),
    OPT(dry_run, "dry-run", TTHC_OPT_BOOL, .def = "false",
        .help = "generate without Kafka (with --out: only the file)"),
    OPT(summary, "summary", TTHC_OPT_STR, .help = "write a JSON summary (counts, totals, configuration) to FILE"),
    OPT(print_profile, "print-profile", TTHC_OPT_BOOL, .def = "false",
        .help = "print the calibrated model and unit profiles as JSON and exit"),
    OPT(dump_units, "dump-units", TTHC_OPT_BOOL, .def = "false",
        .help = "print the units in the --units-file format and exit"),
    OPT(source, "source", TTHC_OPT_STR, .def = "tthc-emit", .help = "the envelope's source field"),
    OPT(self_check, "self-check", TTHC_OPT_BOOL, .def = "true",
        .help = "validate every message with the contract's validator (common/event.h)"),
    OPT(progress_ms, "progress-ms", TTHC_OPT_INT, .def = "2000", .min = 100, .max = 3600000,
        .help = "interval of the progress line on stderr"),
    OPT(flush_timeout_ms, "flush-timeout-ms", TTHC_OPT_INT, .def = "30000", .min = 0, .max = 3600000,
        .help = "longest wait at the end for the broker to acknowledge everything"),
    OPT(message_timeout_ms, "message-timeout-ms", TTHC_OPT_INT, .def = "60000", .min = 1000, .max = 3600000,
        .help = "a message not acknowledged within this time fails"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-emit",
    "Emits the dossier events of a simulated province (Vinh Long, H61) to Kafka, or to a file.\n"
    "Exit status: 0; 1 when a delivery failed (or any runtime error); 2 on a usage or configuration error.",
    NULL,
    opts,
    sizeof opts / sizeof opts[0],
};

static tthc_rc parse_double(const char *name, const char *s, double lo, double hi, double *out, tthc_err *err)
{
    char *end = NULL;
    errno = 0;
    double v = s ? strtod(s, &end) : NAN;
    if (!s || errno || end == s || *end || !(v >= lo && v <= hi))
        return tthc_fail(err, TTHC_EINVAL, "--%s must be a number in [%g, %g], got '%s'", name, lo, hi, s ? s : "");
    *out = v;
    return TTHC_OK;
}

/* Month number (year * 12 + month - 1) of a Vietnam day. */
static double month_of(int64_t day)
{
    int64_t y;
    unsigned m, d;
    tthc_civil_from_days(day, &y, &m, &d);
    return (double)(y * 12 + m - 1);
}

typedef struct {
    emit_config cfg;
    emit_model model;
    emit_unitlist units;
    emit_stream_config sc;
} emit_setup;

static tthc_rc setup(emit_setup *S, tthc_err *err)
{
    emit_config *c = &S->cfg;
    tthc_rc rc;
    emit_model_defaults(&S->model);
    if (c->rates && (rc = emit_model_set_rates(&S->model, c->rates, err))) return rc;
    if ((rc = parse_double("spread", c->spread, 0, 10, &S->model.spread, err)) ||
        (rc = parse_double("trend", c->trend, -2, 2, &S->model.trend, err)) ||
        (rc = parse_double("dup-rate", c->dup_rate, 0, 1, &S->sc.dup_rate, err)) ||
        (rc = parse_double("late-rate", c->late_rate, 0, 1, &S->sc.late_rate, err)) ||
        (rc = parse_double("malformed-rate", c->malformed_rate, 0, 1, &S->sc.malformed_rate, err)))
        return rc;
    rc = c->units_file ? emit_unitlist_load(c->units_file, &S->units, err) : emit_unitlist_builtin(&S->units, err);
    if (rc) return rc;
    S->sc.seed = c->seed;
    S->sc.to_day = -1;
    tthc_err e = {{0}};
    if (emit_parse_day(c->from, &S->sc.from_day, &e)) return tthc_fail(err, TTHC_EINVAL, "--from %s", e.msg);
    if (c->to && emit_parse_day(c->to, &S->sc.to_day, &e)) return tthc_fail(err, TTHC_EINVAL, "--to %s", e.msg);
    if (c->to && S->sc.to_day < S->sc.from_day)
        return tthc_fail(err, TTHC_EINVAL, "--to must be a date YYYY-MM-DD not before --from");
    S->sc.max_dossiers = c->dossiers;
    S->sc.max_messages = c->events;
    S->sc.per_day = (double)c->per_day;
    S->sc.reorder_window = (int)c->reorder_window;
    S->sc.centre_month = c->to ? (month_of(S->sc.from_day) + month_of(S->sc.to_day)) / 2 : month_of(S->sc.from_day);
    S->sc.source = c->source;
    S->sc.self_check = c->self_check != 0;
    if (!c->print_profile && !c->dump_units && !c->to && !c->dossiers && !c->events && !c->rate)
        return tthc_fail(
            err, TTHC_EINVAL,
            "say when to stop: --to DATE, --dossiers N or --events N (or --rate N alone for an endless live feed)");
    return TTHC_OK;
}

/* ---- JSON outputs ---------------------------------------------------------- */

/* period_totals columns of each indicator (the indicator_totals view). */
static const tthc_counter ind_cols[TTHC_INDICATOR_COUNT][2] = {
    {TTHC_C_ONLINE, TTHC_C_RECEIVED},          {TTHC_C_COMP_DIGITIZED, TTHC_C_RECEIVED},
    {TTHC_C_RESULT_DIGITIZED, TTHC_C_ISSUED},  {TTHC_C_E_RESULT, TTHC_C_ISSUED},
    {TTHC_C_ID_TAGGED, TTHC_C_RECEIVED},       {TTHC_C_DATA_REUSED, TTHC_C_RECEIVED},
    {TTHC_C_PAYMENTS_ONLINE, TTHC_C_PAYMENTS}, {TTHC_C_SYNCED, TTHC_C_ISSUED},
    {TTHC_C_ON_TIME, TTHC_C_DUE_ISSUED},       {TTHC_C_SATISFIED, TTHC_C_RATED},
};

static cJSON *configured_json(const emit_model *m)
{
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < TTHC_INDICATOR_COUNT; i++) cJSON_AddNumberToObject(o, tthc_indicators[i].code, m->p[i]);
    return o;
}

static tthc_rc write_json(cJSON *root, const char *path, tthc_err *err)
{
    char *s = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!s) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    FILE *f = !path || !strcmp(path, "-") ? stdout : fopen(path, "w");
    tthc_rc rc = TTHC_OK;
    if (!f) rc = tthc_fail(err, TTHC_EIO, "%s: %s", path, strerror(errno));
    else {
        fputs(s, f);
        fputc('\n', f);
        if (f == stdout ? fflush(f) != 0 : fclose(f) != 0)
            rc = tthc_fail(err, TTHC_EIO, "%s: write failed", path ? path : "stdout");
    }
    free(s);
    return rc;
}

static tthc_rc print_profile(const emit_setup *S, tthc_err *err)
{
    emit_profile *pr = calloc(S->units.n, sizeof *pr);
    if (!pr) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    tthc_rc rc = emit_profiles_build(&S->model, S->cfg.seed, &S->units, pr, err);
    if (rc) {
        free(pr);
        return rc;
    }
    cJSON *root = cJSON_CreateObject(), *exp = cJSON_CreateObject(), *units = cJSON_CreateArray();
    cJSON_AddStringToObject(root, "seed", S->cfg.seed);
    cJSON_AddItemToObject(root, "configured", configured_json(&S->model));
    cJSON_AddItemToObject(root, "province_expected", exp);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        cJSON_AddNumberToObject(exp, tthc_indicators[i].code, emit_province_p(&S->model, pr, S->units.n, i));
    cJSON_AddNumberToObject(root, "postal_share_of_offline", S->model.postal_share);
    cJSON_AddNumberToObject(root, "p_issue", S->model.p_issue);
    cJSON_AddNumberToObject(root, "p_due", S->model.p_due);
    cJSON_AddNumberToObject(root, "p_rated", S->model.p_rated);
    cJSON_AddNumberToObject(root, "spread", S->model.spread);
    cJSON_AddNumberToObject(root, "trend_per_month", S->model.trend);
    cJSON_AddItemToObject(root, "units", units);
    for (size_t u = 0; u < S->units.n; u++) {
        cJSON *o = cJSON_CreateObject(), *p = cJSON_CreateObject();
        cJSON_AddItemToArray(units, o);
        cJSON_AddStringToObject(o, "code", S->units.v[u].code);
        cJSON_AddStringToObject(o, "name", S->units.v[u].name);
        cJSON_AddStringToObject(o, "kind", emit_kind_name(S->units.v[u].kind));
        cJSON_AddStringToObject(o, "tier", emit_tier_name(pr[u].tier));
        cJSON_AddNumberToObject(o, "weight", pr[u].weight);
        cJSON_AddNumberToObject(o, "maturity", pr[u].maturity);
        cJSON_AddNumberToObject(o, "payments_per_dossier", pr[u].pay_mean);
        cJSON_AddItemToObject(o, "p", p);
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
            cJSON_AddNumberToObject(p, tthc_indicators[i].code, emit_profile_p(&S->model, &pr[u], i, 0));
    }
    free(pr);
    return write_json(root, "-", err);
}

static tthc_rc write_summary(const emit_setup *S, const emit_stats *st, int64_t delivered, int64_t failed,
                             double seconds, const char *path, tthc_err *err)
{
    cJSON *root = cJSON_CreateObject(), *bad = cJSON_CreateObject(), *ind = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "seed", S->cfg.seed);
    cJSON_AddNumberToObject(root, "dossiers", (double)st->dossiers);
    cJSON_AddNumberToObject(root, "messages", (double)st->messages);
    cJSON_AddNumberToObject(root, "events", (double)st->events);
    cJSON_AddNumberToObject(root, "duplicates", (double)st->dups);
    cJSON_AddNumberToObject(root, "late", (double)st->late);
    cJSON_AddNumberToObject(root, "malformed", (double)st->malformed);
    /* By the DLQ reason the ingest service must give them. */
    int64_t by_reason[TTHC_REJ__COUNT] = {0};
    for (int k = 0; k < EMIT_BAD__COUNT; k++) by_reason[emit_bad_reason((emit_bad_kind)k)] += st->bad[k];
    for (int r = 1; r < TTHC_REJ__COUNT; r++)
        if (by_reason[r])
            cJSON_AddNumberToObject(bad, tthc_reject_reason_name((tthc_reject_reason)r), (double)by_reason[r]);
    cJSON_AddItemToObject(root, "malformed_by_reason", bad);
    cJSON_AddNumberToObject(root, "delivered", (double)delivered);
    cJSON_AddNumberToObject(root, "delivery_failures", (double)failed);
    cJSON_AddNumberToObject(root, "seconds", seconds);
    cJSON_AddItemToObject(root, "configured", configured_json(&S->model));
    if (S->sc.self_check) {
        for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
            cJSON *a = cJSON_CreateArray();
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)st->totals.c[ind_cols[i][0]]));
            cJSON_AddItemToArray(a, cJSON_CreateNumber((double)st->totals.c[ind_cols[i][1]]));
            cJSON_AddItemToObject(ind, tthc_indicators[i].code, a);
        }
        cJSON_AddItemToObject(root, "province_totals", ind);
    } else {
        cJSON_Delete(ind);
    }
    return write_json(root, path, err);
}

/* ---- the run ----------------------------------------------------------------- */

typedef struct {
    FILE *file;
    emit_producer *kafka;
} emit_sink;

static tthc_rc sink_put(emit_sink *k, const emit_msg *m, tthc_err *err)
{
    if (k->file) {
        if (fwrite(m->key, 1, m->key_len, k->file) != m->key_len || fputc('\t', k->file) == EOF ||
            fwrite(m->value, 1, m->len, k->file) != m->len || fputc('\n', k->file) == EOF)
            return tthc_fail(err, TTHC_EIO, "write failed: %s", strerror(errno));
    }
    if (k->kafka) return emit_producer_send(k->kafka, m->key, m->key_len, m->value, m->len, &tthc_stop_requested, err);
    return TTHC_OK;
}

static void sleep_ms(emit_sink *k, int64_t ms)
{
    if (ms <= 0) return;
    if (k->kafka) {
        emit_producer_poll(k->kafka, (int)ms);
        return;
    }
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void progress(const emit_sink *k, const emit_stats *st, int64_t last_sent, double dt_s, const char *event)
{
    int64_t delivered = 0, failed = 0;
    if (k->kafka) emit_producer_counts(k->kafka, &delivered, &failed);
    char sim[40] = "-";
    if (st->messages) tthc_format_vn(st->sim_time, sim, sizeof sim);
    LOG_INFO(event, "sent=%lld rate=%.0f delivered=%lld failed=%lld dossiers=%lld queued=%lld sim_time=%s",
             (long long)st->messages, dt_s > 0 ? (double)(st->messages - last_sent) / dt_s : 0.0, (long long)delivered,
             (long long)failed, (long long)st->dossiers, (long long)st->queued, sim);
}

static tthc_rc run(emit_setup *S, emit_sink *k, emit_stream *s, tthc_err *err)
{
    const emit_config *c = &S->cfg;
    int64_t start = tthc_mono_ms(), last = start, last_sent = 0;
    emit_stats st;
    emit_msg m;
    tthc_rc rc = TTHC_OK;
    while (!tthc_stop_requested) {
        bool end;
        if ((rc = emit_stream_next(s, &m, &end, err))) return rc;
        if (end) break;
        if (c->rate > 0) {
            int64_t n = 0;
            emit_stream_stats(s, &st);
            n = st.messages;
            int64_t due = start + (int64_t)((double)(n - 1) * 1000.0 / (double)c->rate);
            while (!tthc_stop_requested && tthc_mono_ms() < due)
                sleep_ms(k, due - tthc_mono_ms() < 100 ? due - tthc_mono_ms() : 100);
        }
        if ((rc = sink_put(k, &m, err))) return rc;
        int64_t now = tthc_mono_ms();
        if (now - last >= c->progress_ms) {
            emit_stream_stats(s, &st);
            progress(k, &st, last_sent, (double)(now - last) / 1000.0, "progress");
            last = now;
            last_sent = st.messages;
        }
    }
    if (tthc_stop_requested) {
        LOG_INFO("stopping", "reason=signal");
        emit_stream_finish(s);
    }
    return rc;
}

static int finish(emit_setup *S, emit_sink *k, emit_stream *s, tthc_rc rc, tthc_err *err, int64_t start)
{
    int64_t delivered = 0, failed = 0, left = 0;
    if (k->file) {
        if ((k->file == stdout ? fflush(k->file) : fclose(k->file)) != 0 && !rc)
            rc = tthc_fail(err, TTHC_EIO, "%s: write failed", S->cfg.out);
        k->file = NULL;
    }
    if (k->kafka) {
        left = emit_producer_flush(k->kafka, (int)S->cfg.flush_timeout_ms);
        emit_producer_counts(k->kafka, &delivered, &failed);
        if (left > 0)
            LOG_WARN("flush_timeout", "undelivered=%lld timeout_ms=%ld", (long long)left, S->cfg.flush_timeout_ms);
    }
    if (rc) LOG_ERROR("error", "rc=%s error=\"%s\"", tthc_rc_name(rc), err->msg);
    emit_stats st;
    emit_stream_stats(s, &st);
    double secs = (double)(tthc_mono_ms() - start) / 1000.0;
    LOG_INFO("done",
             "messages=%lld events=%lld duplicates=%lld late=%lld malformed=%lld dossiers=%lld delivered=%lld "
             "failed=%lld seconds=%.2f",
             (long long)st.messages, (long long)st.events, (long long)st.dups, (long long)st.late,
             (long long)st.malformed, (long long)st.dossiers, (long long)delivered, (long long)failed, secs);
    if (S->cfg.summary) {
        tthc_err e2 = {{0}};
        if (write_summary(S, &st, delivered, failed, secs, S->cfg.summary, &e2)) {
            LOG_ERROR("summary", "error=\"%s\"", e2.msg);
            if (!rc) rc = TTHC_EIO;
        }
    }
    if (failed > 0) LOG_ERROR("delivery", "failed=%lld", (long long)failed);
    return rc || failed > 0 ? 1 : 0;
}

int main(int argc, char **argv)
{
    emit_setup S;
    memset(&S, 0, sizeof S);
    tthc_err err = {{0}};
    tthc_rc rc = tthc_config_load(&cli, &S.cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        tthc_config_free(&cli, &S.cfg);
        return 0;
    }
    if (!rc) rc = setup(&S, &err);
    if (rc) {
        fprintf(stderr, "tthc-emit: %s\n", err.msg);
        emit_unitlist_free(&S.units);
        tthc_config_free(&cli, &S.cfg);
        return 2;
    }
    tthc_log_init("tthc-emit", S.cfg.log_level);
    tthc_err serr = {{0}};
    if (tthc_signals_install(&serr)) {
        fprintf(stderr, "%s\n", serr.msg);
        return 1;
    }

    int code = 0;
    emit_stream *s = NULL;
    emit_sink k = {NULL, NULL};
    if (S.cfg.dump_units) {
        emit_unitlist_write(&S.units, stdout);
    } else if (S.cfg.print_profile) {
        if ((rc = print_profile(&S, &err))) {
            fprintf(stderr, "tthc-emit: %s\n", err.msg);
            code = 1;
        }
    } else {
        int64_t start = tthc_mono_ms();
        rc = emit_stream_new(&S.sc, &S.model, &S.units, &s, &err);
        if (!rc && S.cfg.out) {
            k.file = strcmp(S.cfg.out, "-") ? fopen(S.cfg.out, "w") : stdout;
            if (!k.file) rc = tthc_fail(&err, TTHC_EIO, "%s: %s", S.cfg.out, strerror(errno));
            else (void)setvbuf(k.file, NULL, _IOFBF, 1 << 20);
        }
        if (!rc && !S.cfg.out && !S.cfg.dry_run)
            rc = emit_producer_new(S.cfg.brokers, S.cfg.topic, S.cfg.message_timeout_ms, &k.kafka, &err);
        if (!rc) {
            char q[200];
            LOG_INFO("start", "seed=%s units=%zu sink=%s topic=%s", tthc_log_quote(q, sizeof q, S.cfg.seed), S.units.n,
                     S.cfg.out       ? "file"
                     : S.cfg.dry_run ? "none"
                                     : "kafka",
                     S.cfg.topic);
            rc = run(&S, &k, s, &err);
        }
        if (s) code = finish(&S, &k, s, rc, &err, start);
        else {
            fprintf(stderr, "tthc-emit: %s\n", err.msg);
            code = 1;
        }
        emit_producer_free(k.kafka);
        emit_stream_free(s);
    }
    emit_unitlist_free(&S.units);
    tthc_config_free(&cli, &S.cfg);
    return code;
}
