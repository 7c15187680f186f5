/* tthc-kafka-dev - a Kafka-protocol broker for development and tests.
 *
 * Runs librdkafka's mock cluster (rdkafka_mock.h) inside a throw-away producer
 * handle, creates the project's topics with their partition counts, prints the
 * bootstrap list (one line on stdout, and atomically into --bootstrap-file) and
 * serves until SIGTERM or SIGINT.
 *
 * Limits of the mock cluster (librdkafka 2.0.2), which tests must respect:
 *  - it listens on 127.0.0.1 with ports chosen by the kernel: the bootstrap list
 *    changes at every start, so read it from stdout or --bootstrap-file;
 *  - each partition keeps only about 5 MB (or 100,000 message sets); older
 *    data is dropped silently (use lz4 for big loads, see shared/MEASURED.md);
 *  - nothing survives a restart: topics, messages and committed offsets live
 *    in memory only;
 *  - consumer groups across processes work, but a rebalance waits
 *    session.timeout.ms - 1 s for members to rejoin (44 s with the default
 *    45 s): tests should set session.timeout.ms=6000 on their consumers;
 *  - no CreateTopics admin API: topics come from this program's flags (or the
 *    client's auto-creation);
 *  - no TLS, no SASL, no ACLs, no transactions beyond the mock's subset. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "config.h"
#include "err.h"
#include "kafka.h"
#include "log.h"
#include "signals.h"

#define MAX_TOPICS 64

typedef struct {
    char *dossier_topic;
    long partitions;
    char *dlq_topic;
    long dlq_partitions;
    char *extra_topics;
    char *bootstrap_file;
    long brokers;
    char *log_level;
} kd_config;

#define OPT(...) TTHC_OPT(kd_config, __VA_ARGS__)

static const tthc_opt kd_opts[] = {
    OPT(dossier_topic, "dossier-topic", TTHC_OPT_STR, .env = "TTHC_DOSSIER_TOPIC", .def = "tthc.dossier.events",
        .required = 1, .help = "dossier events topic to create"),
    OPT(partitions, "partitions", TTHC_OPT_INT, .def = "12", .min = 1, .max = 1000,
        .help = "partitions of the dossier topic"),
    OPT(dlq_topic, "dlq-topic", TTHC_OPT_STR, .env = "TTHC_DLQ_TOPIC", .def = "tthc.dlq", .required = 1,
        .help = "dead-letter topic to create"),
    OPT(dlq_partitions, "dlq-partitions", TTHC_OPT_INT, .def = "3", .min = 1, .max = 1000,
        .help = "partitions of the dead-letter topic"),
    OPT(extra_topics, "extra-topics", TTHC_OPT_STR,
        .help = "more topics to create, as NAME:PARTITIONS[,NAME:PARTITIONS...] (e.g. a:3,b:1)"),
    OPT(bootstrap_file, "bootstrap-file", TTHC_OPT_STR,
        .help = "write the bootstrap list to this file (atomically: temporary file, then rename); removed at exit"),
    OPT(brokers, "brokers", TTHC_OPT_INT, .def = "1", .min = 1, .max = 9, .help = "number of mock brokers"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
};

static const tthc_cli kd_cli = {
    .prog = "tthc-kafka-dev",
    .summary = "Kafka-protocol dev broker (librdkafka mock cluster) with the project's topics.\n"
               "Prints the bootstrap list on stdout and serves until SIGTERM or SIGINT.\n"
               "In-memory only: ~5 MB kept per partition, nothing survives a restart.\n"
               "Exit status: 0 after SIGTERM/SIGINT; 1 on a runtime failure; 2 on a usage or configuration error.",
    .usage_tail = NULL,
    .opts = kd_opts,
    .nopts = sizeof kd_opts / sizeof kd_opts[0],
};

typedef struct {
    char name[250]; /* Kafka's limit is 249 characters */
    int partitions;
} kd_topic;

static int valid_topic_name(const char *s, size_t len)
{
    if (len == 0 || len > 249) return 0;
    if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.')) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* Appends one topic; a name given twice is an error (two partition counts). */
static tthc_rc add_topic(kd_topic *topics, int *n, const char *name, size_t len, long partitions, const char *what,
                         tthc_err *err)
{
    if (!valid_topic_name(name, len))
        return tthc_fail(err, TTHC_EINVAL, "%s: invalid topic name '%.*s' (1-249 of [A-Za-z0-9._-])", what,
                         (int)(len > 300 ? 300 : len), name);
    if (partitions < 1 || partitions > 1000)
        return tthc_fail(err, TTHC_EINVAL, "%s: topic '%.*s' needs 1..1000 partitions", what, (int)len, name);
    for (int i = 0; i < *n; i++)
        if (strlen(topics[i].name) == len && !strncmp(topics[i].name, name, len))
            return tthc_fail(err, TTHC_EINVAL, "%s: topic '%.*s' given twice", what, (int)len, name);
    if (*n >= MAX_TOPICS) return tthc_fail(err, TTHC_EINVAL, "%s: more than %d topics", what, MAX_TOPICS);
    memcpy(topics[*n].name, name, len);
    topics[*n].name[len] = '\0';
    topics[*n].partitions = (int)partitions;
    (*n)++;
    return TTHC_OK;
}

/* Parses "a:3,b:1" (spaces around items allowed) into topics. */
static tthc_rc parse_extra_topics(const char *spec, kd_topic *topics, int *n, tthc_err *err)
{
    const char *p = spec;
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        if (!*p) break;
        const char *item = p;
        while (*p && *p != ',') p++;
        size_t ilen = (size_t)(p - item);
        while (ilen && item[ilen - 1] == ' ') ilen--;
        const char *colon = memchr(item, ':', ilen);
        if (!colon)
            return tthc_fail(err, TTHC_EINVAL, "--extra-topics: '%.*s' is not NAME:PARTITIONS", (int)ilen, item);
        char num[16];
        size_t nlen = ilen - (size_t)(colon + 1 - item);
        if (nlen == 0 || nlen >= sizeof num)
            return tthc_fail(err, TTHC_EINVAL, "--extra-topics: bad partition count in '%.*s'", (int)ilen, item);
        memcpy(num, colon + 1, nlen);
        num[nlen] = '\0';
        char *end = NULL;
        errno = 0;
        long parts = strtol(num, &end, 10);
        if (errno || end == num || *end)
            return tthc_fail(err, TTHC_EINVAL, "--extra-topics: bad partition count in '%.*s'", (int)ilen, item);
        tthc_rc rc = add_topic(topics, n, item, (size_t)(colon - item), parts, "--extra-topics", err);
        if (rc) return rc;
    }
    return TTHC_OK;
}

/* Writes `content` + newline to path via path.tmp.<pid> and rename(2), so a
 * reader sees either no file or the whole line. */
static tthc_rc write_file_atomic(const char *path, const char *content, tthc_err *err)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof tmp) return tthc_fail(err, TTHC_EINVAL, "--bootstrap-file: path too long");
    FILE *f = fopen(tmp, "w");
    if (!f) return tthc_fail(err, TTHC_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    int bad = fprintf(f, "%s\n", content) < 0;
    bad |= fflush(f) != 0;
    bad |= fsync(fileno(f)) != 0;
    bad |= fclose(f) != 0;
    if (bad) {
        int e = errno;
        unlink(tmp);
        return tthc_fail(err, TTHC_EIO, "%s: write failed: %s", tmp, strerror(e));
    }
    if (rename(tmp, path)) {
        int e = errno;
        unlink(tmp);
        return tthc_fail(err, TTHC_EIO, "rename %s -> %s: %s", tmp, path, strerror(e));
    }
    return TTHC_OK;
}

/* librdkafka log lines (from its own threads) through the project's logger. */
static void on_rdkafka_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    if (!strcmp(fac, "CONFWARN") && strstr(buf, "bootstrap.servers"))
        level = 7; /* expected: this handle only hosts the mock cluster */
    tthc_kafka_log_cb(rk, level, fac, buf);
}

static tthc_rc new_handle(rd_kafka_t **out, tthc_err *err)
{
    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) return tthc_fail(err, TTHC_ENOMEM, "rd_kafka_conf_new failed");
    rd_kafka_conf_set_log_cb(conf, on_rdkafka_log);
    if (rd_kafka_conf_set(conf, "client.id", "tthc-kafka-dev", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return tthc_fail(err, TTHC_EKAFKA, "client.id: %s", errstr);
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        rd_kafka_conf_destroy(conf); /* not taken on failure */
        return tthc_fail(err, TTHC_EKAFKA, "rd_kafka_new: %s", errstr);
    }
    /* rd_kafka_new() took ownership of conf. */
    *out = rk;
    return TTHC_OK;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) && errno == EINTR && !tthc_stop_requested) {}
}

int main(int argc, char **argv)
{
    kd_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    kd_topic topics[MAX_TOPICS];
    int ntopics = 0;
    rd_kafka_t *rk = NULL;
    rd_kafka_mock_cluster_t *mcluster = NULL;
    int wrote_file = 0, exit_code = 1;

    tthc_log_init("tthc-kafka-dev", getenv("TTHC_LOG_LEVEL"));
    tthc_rc rc = tthc_config_load(&kd_cli, &cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        exit_code = 0;
        goto out;
    }
    exit_code = 2; /* a usage or configuration error, until the topics are known */
    if (rc) goto fail;
    tthc_log_init(NULL, cfg.log_level);

    if ((rc = add_topic(topics, &ntopics, cfg.dossier_topic, strlen(cfg.dossier_topic), cfg.partitions,
                        "--dossier-topic", &err)))
        goto fail;
    if ((rc = add_topic(topics, &ntopics, cfg.dlq_topic, strlen(cfg.dlq_topic), cfg.dlq_partitions, "--dlq-topic",
                        &err)))
        goto fail;
    if (cfg.extra_topics && (rc = parse_extra_topics(cfg.extra_topics, topics, &ntopics, &err))) goto fail;
    exit_code = 1; /* from here on, a runtime failure */
    if ((rc = tthc_signals_install(&err))) goto fail;
    if ((rc = new_handle(&rk, &err))) goto fail;

    mcluster = rd_kafka_mock_cluster_new(rk, (int)cfg.brokers);
    if (!mcluster) {
        rc = tthc_fail(&err, TTHC_EKAFKA, "rd_kafka_mock_cluster_new failed (see rdkafka log lines)");
        goto fail;
    }
    int replication = cfg.brokers < 3 ? (int)cfg.brokers : 3;
    for (int i = 0; i < ntopics; i++) {
        rd_kafka_resp_err_t kerr =
            rd_kafka_mock_topic_create(mcluster, topics[i].name, topics[i].partitions, replication);
        if (kerr) {
            rc = tthc_fail(&err, TTHC_EKAFKA, "creating topic %s: %s", topics[i].name, rd_kafka_err2str(kerr));
            goto fail;
        }
        LOG_INFO("topic_created", "topic=%s partitions=%d replication=%d", topics[i].name, topics[i].partitions,
                 replication);
    }

    const char *bootstrap = rd_kafka_mock_cluster_bootstraps(mcluster);
    if (cfg.bootstrap_file) {
        if ((rc = write_file_atomic(cfg.bootstrap_file, bootstrap, &err))) goto fail;
        wrote_file = 1;
    }
    printf("%s\n", bootstrap);
    (void)fflush(stdout);
    LOG_INFO("ready", "bootstrap=%s brokers=%ld topics=%d pid=%ld", bootstrap, cfg.brokers, ntopics, (long)getpid());

    /* The mock cluster serves from its own thread; this one only waits for a
     * signal, in short bounded steps. */
    while (!tthc_stop_requested) sleep_ms(200);
    LOG_INFO("stopping", "reason=signal");
    exit_code = 0;
    goto out;

fail:
    LOG_ERROR("failed", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote((char[600]){0}, 600, err.msg));
out:
    if (wrote_file && unlink(cfg.bootstrap_file) && errno != ENOENT)
        LOG_WARN("unlink_failed", "path=%s error=%s", tthc_log_quote((char[600]){0}, 600, cfg.bootstrap_file),
                 strerror(errno));
    if (mcluster) rd_kafka_mock_cluster_destroy(mcluster);
    if (rk) rd_kafka_destroy(rk);
    tthc_config_free(&kd_cli, &cfg);
    if (exit_code == 0 && mcluster) LOG_INFO("stopped", "topics=%d", ntopics);
    return exit_code;
}
