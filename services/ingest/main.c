/* tthc-ingest: consumes dossier events, keeps indicator totals in PostgreSQL. */
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "ingest.h"
#include "log.h"
#include "signals.h"

#define OPT(...) TTHC_OPT(ingest_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(brokers, "brokers", TTHC_OPT_STR, .env = "TTHC_KAFKA_BROKERS", .def = "127.0.0.1:9092", .required = 1,
        .help = "Kafka bootstrap servers"),
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc", .required = 1,
        .help = "libpq connection string"),
    OPT(topic, "topic", TTHC_OPT_STR, .env = "TTHC_DOSSIER_TOPIC", .def = "tthc.dossier.events", .required = 1,
        .help = "dossier events topic"),
    OPT(dlq_topic, "dlq-topic", TTHC_OPT_STR, .env = "TTHC_DLQ_TOPIC", .def = "tthc.dlq", .required = 1,
        .help = "dead-letter topic"),
    OPT(group, "group", TTHC_OPT_STR, .env = "TTHC_GROUP_ID", .def = "tthc-ingest", .required = 1,
        .help = "consumer group id"),
    OPT(batch_max, "batch-max", TTHC_OPT_INT, .env = "TTHC_INGEST_BATCH_MAX", .def = "50000", .min = 1, .max = 1000000,
        .help = "most messages applied in one transaction"),
    OPT(batch_ms, "batch-ms", TTHC_OPT_INT, .env = "TTHC_INGEST_BATCH_MS", .def = "200", .min = 1, .max = 60000,
        .help = "wait after a batch's first message before it is applied, if no batch is being applied (else the "
                "batch grows to batch-max meanwhile; a full batch goes to a free apply connection at once)"),
    OPT(statement_timeout_ms, "statement-timeout-ms", TTHC_OPT_INT, .env = "TTHC_PG_STATEMENT_TIMEOUT_MS",
        .def = "30000", .min = 100, .max = 3600000, .help = "PostgreSQL statement_timeout and lock_timeout"),
    OPT(dlq_flush_ms, "dlq-flush-ms", TTHC_OPT_INT, .env = "TTHC_DLQ_FLUSH_MS", .def = "30000", .min = 100,
        .max = 600000,
        .help = "longest wait for the broker to acknowledge a batch's DLQ messages (then their partitions are held "
                "back and retried)"),
    OPT(fetch_wake_ms, "fetch-wake-ms", TTHC_OPT_INT, .env = "TTHC_INGEST_FETCH_WAKE_MS", .def = "10", .min = 0,
        .max = 1000,
        .help = "while messages arrive, wake librdkafka's fetcher this often (a ListOffsets request), so that a small "
                "prefetch queue does not wait out librdkafka 2.0's one-second fetch back-off (0: off)"),
    OPT(apply_connections, "apply-connections", TTHC_OPT_INT, .env = "TTHC_INGEST_APPLY_CONNECTIONS", .def = "2",
        .min = 1, .max = 2,
        .help = "PostgreSQL connections applying batches: with 2 a batch claims its event ids while the one before it "
                "finishes (about a fifth faster under a backlog, one more batch in memory); 1: one batch at a time"),
    OPT(max_partitions, "max-partitions", TTHC_OPT_INT, .def = "4096", .min = 1, .max = 100000,
        .help = "highest partition count of the topic this process can track"),
    OPT(unassigned_grace_ms, "unassigned-grace-ms", TTHC_OPT_INT, .env = "TTHC_INGEST_UNASSIGNED_GRACE_MS",
        .def = "60000", .min = 0, .max = 86400000,
        .help = "/readyz answers 503 once this instance has held no partition for this long (0: never)"),
    OPT(metrics_listen, "metrics-listen", TTHC_OPT_STR_EMPTY, .env = "TTHC_INGEST_METRICS_LISTEN",
        .def = "127.0.0.1:9464", .help = "address of /metrics, /healthz and /readyz (empty: off)"),
    OPT(on_gap, "on-gap", TTHC_OPT_STR, .env = "TTHC_INGEST_ON_GAP", .def = "continue",
        .help = "when the next message to apply is no longer in the log (retention, a recreated topic): 'continue' "
                "from the earliest message still there, or 'stop' the partition until an operator acts; either way "
                "logged (messages_lost), counted and recorded in consumer_gap"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-ingest",
    "Consumes TTHC dossier events from Kafka and keeps the indicator totals in PostgreSQL, exactly once.\n"
    "Exit status: 0 after SIGTERM/SIGINT; 1 on a failure it cannot recover from; 2 on a usage or configuration error.",
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
