/* tthc-ingest: consumes dossier events, keeps indicator totals in PostgreSQL. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "signals.h"

#define OPT(name, type, field, env, def, min, max, req, help)                                                          \
    {                                                                                                                  \
        name, type, offsetof(ingest_config, field), env, def, min, max, req, help                                      \
    }

static const tthc_opt opts[] = {
    OPT("brokers", TTHC_OPT_STR, brokers, "TTHC_KAFKA_BROKERS", "127.0.0.1:9092", 0, 0, 1, "Kafka bootstrap servers"),
    OPT("dsn", TTHC_OPT_SECRET, dsn, "TTHC_PG_DSN", "postgresql:///tthc", 0, 0, 1, "libpq connection string"),
    OPT("topic", TTHC_OPT_STR, topic, "TTHC_DOSSIER_TOPIC", "tthc.dossier.events", 0, 0, 1, "dossier events topic"),
    OPT("dlq-topic", TTHC_OPT_STR, dlq_topic, "TTHC_DLQ_TOPIC", "tthc.dlq", 0, 0, 1, "dead-letter topic"),
    OPT("group", TTHC_OPT_STR, group, "TTHC_GROUP_ID", "tthc-ingest", 0, 0, 1, "consumer group id"),
    OPT("batch-max", TTHC_OPT_INT, batch_max, "TTHC_INGEST_BATCH_MAX", "50000", 1, 1000000, 0,
        "most messages applied in one transaction"),
    OPT("batch-ms", TTHC_OPT_INT, batch_ms, "TTHC_INGEST_BATCH_MS", "200", 1, 60000, 0,
        "wait after a batch's first message before it is applied, if the apply thread is free (else the batch grows to "
        "batch-max meanwhile)"),
    OPT("statement-timeout-ms", TTHC_OPT_INT, statement_timeout_ms, "TTHC_PG_STATEMENT_TIMEOUT_MS", "30000", 100,
        3600000, 0, "PostgreSQL statement_timeout and lock_timeout"),
    OPT("dlq-flush-ms", TTHC_OPT_INT, dlq_flush_ms, "TTHC_DLQ_FLUSH_MS", "30000", 100, 600000, 0,
        "longest wait for the broker to acknowledge a batch's DLQ messages (then their partitions are held back and "
        "retried)"),
    OPT("max-partitions", TTHC_OPT_INT, max_partitions, NULL, "4096", 1, 100000, 0,
        "highest partition count of the topic this process can track"),
    OPT("unassigned-grace-ms", TTHC_OPT_INT, unassigned_grace_ms, "TTHC_INGEST_UNASSIGNED_GRACE_MS", "60000", 0,
        86400000, 0, "/readyz answers 503 once this instance has held no partition for this long (0: never)"),
    OPT("metrics-listen", TTHC_OPT_STR_EMPTY, metrics_listen, "TTHC_INGEST_METRICS_LISTEN", "127.0.0.1:9464", 0, 0, 0,
        "address of /metrics, /healthz and /readyz (empty: off)"),
    OPT("on-gap", TTHC_OPT_STR, on_gap, "TTHC_INGEST_ON_GAP", "continue", 0, 0, 0,
        "when the next message to apply is no longer in the log (retention, a recreated topic): 'continue' "
        "from the earliest message still there, or 'stop' the partition until an operator acts; either way "
        "logged (messages_lost), counted and recorded in consumer_gap"),
    OPT("log-level", TTHC_OPT_STR, log_level, "TTHC_LOG_LEVEL", "info", 0, 0, 0, "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-ingest",
    "Consumes TTHC dossier events from Kafka and keeps the indicator totals in PostgreSQL, exactly once.",
    NULL,
    opts,
    sizeof opts / sizeof opts[0],
};

int main(int argc, char **argv)
{
    ingest_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    tthc_log_init("tthc-ingest", NULL);
    tthc_rc rc = tthc_config_load(&cli, &cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        tthc_config_free(&cli, &cfg);
        return 0;
    }
    if (rc) {
        LOG_ERROR("config_invalid", "error=%s", err.msg);
        tthc_config_free(&cli, &cfg);
        return 2;
    }
    if (strcmp(cfg.on_gap, "continue") && strcmp(cfg.on_gap, "stop")) {
        LOG_ERROR("config_invalid", "error=\"--on-gap (TTHC_INGEST_ON_GAP) must be continue or stop\" on_gap=%s",
                  cfg.on_gap);
        tthc_config_free(&cli, &cfg);
        return 2;
    }
    tthc_log_init("tthc-ingest", cfg.log_level);
    tthc_err serr = {{0}};
    if (tthc_signals_install(&serr)) {
        LOG_ERROR("signals", "error=%s", serr.msg);
        tthc_config_free(&cli, &cfg);
        return 1;
    }

    rc = ingest_run(&cfg, &err);
    if (rc) LOG_ERROR("exit", "rc=%s error=\"%s\"", tthc_rc_name(rc), err.msg);
    else LOG_INFO("exit", "rc=ok");
    tthc_config_free(&cli, &cfg);
    return rc ? 1 : 0;
}
