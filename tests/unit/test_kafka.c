/* test_kafka.c - tthc_kafka_new() (common/kafka.c) without a broker: the
 * layers of properties, the C/P filter of TTHC_KAFKA_* (checked against the
 * linked librdkafka's own table), the setup, and every failure path (the
 * conf is freed on each: AddressSanitizer's leak check runs with the test). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "kafka.h"
#include "log.h"

#define BROKERS "127.0.0.1:9" /* never contacted long: every handle is destroyed at once */

/* The property's value in a handle's conf ("" if unknown). */
static const char *get(rd_kafka_t *rk, const char *prop, char *buf, size_t cap)
{
    size_t len = cap;
    if (rd_kafka_conf_get(rd_kafka_conf(rk), prop, buf, &len) != RD_KAFKA_CONF_OK) buf[0] = '\0';
    return buf;
}

/* librdkafka's default for a property. */
static const char *dflt(const char *prop, char *buf, size_t cap)
{
    rd_kafka_conf_t *c = rd_kafka_conf_new();
    size_t len = cap;
    if (rd_kafka_conf_get(c, prop, buf, &len) != RD_KAFKA_CONF_OK) buf[0] = '\0';
    rd_kafka_conf_destroy(c);
    return buf;
}

static char *trim(char *s)
{
    while (*s == ' ') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\n')) s[--n] = '\0';
    return s;
}

/* Every row of rd_kafka_conf_properties_show() ("name | C/P | range | default | ..."):
 * a C or P row that can be set as a string has that role in the table, a '*' row none. */
static void test_roles_match_librdkafka(void)
{
    FILE *f = tmpfile();
    CHECK(f != NULL, "tmpfile");
    if (!f) return;
    rd_kafka_conf_properties_show(f);
    rewind(f);
    char line[8192];
    int rows = 0, cp = 0;
    while (fgets(line, sizeof line, f)) {
        char *bar1 = strchr(line, '|');
        char *bar2 = bar1 ? strchr(bar1 + 1, '|') : NULL;
        if (!bar2) continue;
        *bar1 = *bar2 = '\0';
        char *name = trim(line), *role = trim(bar1 + 1);
        if (strlen(role) != 1 || !strchr("CP*", role[0]) || strstr(bar2 + 1, "see dedicated API")) continue;
        rows++;
        if (role[0] != '*') cp++;
        CHECK(tthc_kafka_prop_role(name) == role[0], "%s: librdkafka says %c, the table %c", name, role[0],
              tthc_kafka_prop_role(name));
    }
    (void)fclose(f);
    CHECK(rows > 100 && cp > 40, "parsed %d rows, %d of them C or P", rows, cp);
    CHECK(tthc_kafka_prop_role("no.such.property") == '*', "unknown: both");
}

/* Runs fn with stderr (the logger's output) captured into out. */
static void capture(void (*fn)(void *), void *arg, char *out, size_t cap)
{
    (void)fflush(stderr);
    FILE *f = tmpfile();
    int saved = dup(2);
    if (!f || saved < 0) {
        out[0] = '\0';
        if (f) (void)fclose(f);
        return;
    }
    (void)dup2(fileno(f), 2);
    fn(arg);
    (void)fflush(stderr);
    (void)dup2(saved, 2);
    close(saved);
    rewind(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    (void)fclose(f);
}

typedef struct {
    rd_kafka_type_t type;
    const char *const *defaults;
    rd_kafka_t *rk;
    tthc_rc rc;
    tthc_err err;
} make_args;

static void make(void *arg)
{
    make_args *m = arg;
    m->rc = tthc_kafka_new(m->type, BROKERS, m->defaults, NULL, &m->rk, &m->err);
}

static void test_env_filtered_by_type(void)
{
    char a[64], b[64];
    (void)setenv("TTHC_KAFKA_SESSION_TIMEOUT_MS", "6000", 1);      /* consumer only */
    (void)setenv("TTHC_KAFKA_LINGER_MS", "7", 1);                  /* producer only */
    (void)setenv("TTHC_KAFKA_SOCKET_KEEPALIVE_ENABLE", "true", 1); /* both */

    char out[16384];
    make_args p = {.type = RD_KAFKA_PRODUCER};
    capture(make, &p, out, sizeof out);
    CHECK(p.rc == TTHC_OK && p.rk, "producer: %s", p.err.msg);
    if (p.rk) {
        CHECK_STR(get(p.rk, "session.timeout.ms", a, sizeof a), dflt("session.timeout.ms", b, sizeof b));
        CHECK_STR(get(p.rk, "linger.ms", a, sizeof a), "7");
        CHECK_STR(get(p.rk, "socket.keepalive.enable", a, sizeof a), "true");
        rd_kafka_destroy(p.rk);
    }
    CHECK(!strstr(out, "consumer property"), "no CONFWARN for the producer: %s", out);

    make_args c = {.type = RD_KAFKA_CONSUMER};
    capture(make, &c, out, sizeof out);
    CHECK(c.rc == TTHC_OK && c.rk, "consumer: %s", c.err.msg);
    if (c.rk) {
        CHECK_STR(get(c.rk, "session.timeout.ms", a, sizeof a), "6000");
        CHECK_STR(get(c.rk, "linger.ms", a, sizeof a), dflt("linger.ms", b, sizeof b));
        CHECK_STR(get(c.rk, "socket.keepalive.enable", a, sizeof a), "true");
        rd_kafka_destroy(c.rk);
    }
    CHECK(!strstr(out, "producer property"), "no CONFWARN for the consumer: %s", out);

    /* The control: the same property given by the program itself is not filtered,
     * and librdkafka does warn (so the checks above can fail). */
    make_args ctl = {.type = RD_KAFKA_PRODUCER, .defaults = (const char *const[]){"session.timeout.ms", "6000", NULL}};
    capture(make, &ctl, out, sizeof out);
    CHECK(ctl.rc == TTHC_OK && ctl.rk, "control: %s", ctl.err.msg);
    if (ctl.rk) rd_kafka_destroy(ctl.rk);
    CHECK(strstr(out, "consumer property") && strstr(out, "event=rdkafka"), "the warning, as a logfmt line: %s", out);

    (void)unsetenv("TTHC_KAFKA_SESSION_TIMEOUT_MS");
    (void)unsetenv("TTHC_KAFKA_LINGER_MS");
    (void)unsetenv("TTHC_KAFKA_SOCKET_KEEPALIVE_ENABLE");
}

static int on_stats(rd_kafka_t *rk, char *json, size_t len, void *opaque)
{
    (void)rk, (void)json, (void)len, (void)opaque;
    return 0;
}

static void test_layers_and_setup(void)
{
    char a[64];
    int marker = 0;
    (void)setenv("TTHC_KAFKA_CLIENT_ID", "from-env", 1);
    (void)setenv("TTHC_KAFKA_GROUP_ID", "env-group", 1);
    const tthc_kafka_setup setup = {.group_id = "setup-group", .opaque = &marker, .stats_cb = on_stats, .quiet = true};
    rd_kafka_t *rk = NULL;
    tthc_err err = {{0}};
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_CONSUMER, BROKERS,
                                (const char *const[]){"client.id", "from-defaults", "fetch.max.bytes", "2097152", NULL},
                                &setup, &rk, &err);
    CHECK(rc == TTHC_OK && rk, "consumer: %s", err.msg);
    if (rk) {
        CHECK_STR(get(rk, "bootstrap.servers", a, sizeof a), BROKERS);
        CHECK_STR(get(rk, "client.id", a, sizeof a), "from-env"); /* the environment over the defaults */
        CHECK_STR(get(rk, "fetch.max.bytes", a, sizeof a), "2097152");
        CHECK_STR(get(rk, "group.id", a, sizeof a), "setup-group"); /* the setup over the environment */
        CHECK(rd_kafka_opaque(rk) == &marker, "opaque");
        rd_kafka_destroy(rk);
    }
    (void)unsetenv("TTHC_KAFKA_CLIENT_ID");
    (void)unsetenv("TTHC_KAFKA_GROUP_ID");

    rc = tthc_kafka_new(RD_KAFKA_PRODUCER, BROKERS, NULL, NULL, &rk, &err);
    CHECK(rc == TTHC_OK && rk, "no defaults, no setup: %s", err.msg);
    if (rk) rd_kafka_destroy(rk);
}

static void test_failures(void)
{
    rd_kafka_t *rk = (rd_kafka_t *)&rk;
    tthc_err err = {{0}};
    /* a refused default */
    tthc_rc rc = tthc_kafka_new(RD_KAFKA_PRODUCER, BROKERS, (const char *const[]){"no.such.property", "1", NULL}, NULL,
                                &rk, &err);
    CHECK(rc == TTHC_EINVAL && !rk, "unknown default: %d", rc);
    CHECK(strstr(err.msg, "no.such.property") != NULL, "named: %s", err.msg);

    /* a refused environment property */
    (void)setenv("TTHC_KAFKA_NO_SUCH_PROPERTY", "1", 1);
    rc = tthc_kafka_new(RD_KAFKA_CONSUMER, BROKERS, NULL, NULL, &rk, &err);
    CHECK(rc == TTHC_EINVAL && !rk, "unknown env property: %d", rc);
    CHECK(strstr(err.msg, "no.such.property") != NULL, "named: %s", err.msg);
    (void)unsetenv("TTHC_KAFKA_NO_SUCH_PROPERTY");

    /* a refused value */
    rc = tthc_kafka_new(RD_KAFKA_CONSUMER, BROKERS, (const char *const[]){"session.timeout.ms", "x", NULL}, NULL, &rk,
                        &err);
    CHECK(rc == TTHC_EINVAL && !rk, "bad value: %d", rc);

    /* properties librdkafka accepts one by one but rd_kafka_new() refuses together */
    rc = tthc_kafka_new(
        RD_KAFKA_PRODUCER, BROKERS,
        (const char *const[]){"client.id", "t-conflict", "enable.idempotence", "true", "acks", "1", NULL},
        &(tthc_kafka_setup){.quiet = true}, &rk, &err);
    CHECK(rc == TTHC_EKAFKA && !rk, "conflicting properties: %d %s", rc, err.msg);
    CHECK(strstr(err.msg, "producer t-conflict") != NULL, "names the client: %s", err.msg);
}

int main(void)
{
    tthc_log_init("test_kafka", "info");
    test_roles_match_librdkafka();
    test_env_filtered_by_type();
    test_layers_and_setup();
    test_failures();
    return CHECK_DONE();
}
