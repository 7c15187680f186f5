/* tthc-portal-stub - a strict stand-in for the national portal's indicator
 * report API (docs/portal-api.md), with storage in PostgreSQL (schema
 * `portal`), an HTML overview, Prometheus metrics and fault injection.
 *
 * Lifecycle: load the configuration, connect to the database (a failure is
 * logged and retried at each request: the API answers 503 meanwhile), serve
 * until SIGTERM or SIGINT, then stop the server (in-flight requests finish)
 * and close the database. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "auth.h"
#include "config.h"
#include "err.h"
#include "httpd.h"
#include "log.h"
#include "signals.h"
#include "stub_store.h"

typedef struct {
    char *listen;
    char *dsn;
    char *token;
    char *token_file;
    char *next_token;
    char *next_token_file;
    char *port_file;
    long fail_rate;
    long fail_status;
    long latency_ms;
    long retry_after;
    int retry_after_date;
    char *fail_answer;
    char *fail_location;
    long seed;
    long threads;
    long statement_timeout_ms;
    char *log_level;
} stub_config;

#define OPT(...) TTHC_OPT(stub_config, __VA_ARGS__)

static const tthc_opt stub_opts[] = {
    OPT(listen, "listen", TTHC_OPT_STR, .env = "TTHC_PORTAL_LISTEN", .def = "127.0.0.1:8088", .required = 1,
        .help = "HOST:PORT to serve on ([IPv6]:PORT; port 0 = any free port, see --port-file)"),
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PORTAL_DSN", .env_fallback = "TTHC_PG_DSN",
        .def = "postgresql:///tthc", .help = "libpq connection string of the stub's own database"),
    OPT(token, "token", TTHC_OPT_SECRET, .env = "TTHC_PORTAL_TOKEN", .required = 1,
        .help = "bearer token clients must send (or --token-file)"),
    OPT(token_file, "token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_TOKEN_FILE", .token_for = "token",
        .help = "read the bearer token from this file (takes precedence over --token; SIGHUP re-reads it)"),
    OPT(next_token, "next-token", TTHC_OPT_SECRET, .env = "TTHC_PORTAL_NEXT_TOKEN",
        .help = "during a token rotation, a second bearer token accepted as well"),
    OPT(next_token_file, "next-token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_NEXT_TOKEN_FILE",
        .token_for = "next-token",
        .help = "read the second token from this file (an empty file: none; SIGHUP re-reads it)"),
    OPT(port_file, "port-file", TTHC_OPT_STR,
        .help = "write the bound port to this file once listening (atomically); removed at exit"),
    OPT(fail_rate, "fail-rate", TTHC_OPT_INT, .env = "TTHC_PORTAL_FAIL_RATE", .def = "0", .min = 0, .max = 100,
        .help = "fault injection: percent of API requests answered --fail-status with Retry-After"),
    OPT(fail_status, "fail-status", TTHC_OPT_INT, .env = "TTHC_PORTAL_FAIL_STATUS", .def = "503", .min = 200,
        .max = 503,
        .help =
            "status of injected faults: 429, 500 or 503; or answers a pusher must not trust: 200 (see --fail-answer), "
            "301, 302, 307 or 308 (Location: --fail-location)"),
    OPT(fail_answer, "fail-answer", TTHC_OPT_STR, .env = "TTHC_PORTAL_FAIL_ANSWER", .def = "html",
        .help = "body of an injected 200: html (an HTML page) or wrong_revision ({\"status\":\"accepted\"} with the "
                "revision sent + 1)"),
    OPT(fail_location, "fail-location", TTHC_OPT_STR, .env = "TTHC_PORTAL_FAIL_LOCATION",
        .def = "http://127.0.0.1:9/elsewhere", .help = "Location of an injected 3xx"),
    OPT(latency_ms, "latency-ms", TTHC_OPT_INT, .env = "TTHC_PORTAL_LATENCY_MS", .def = "0", .min = 0, .max = 600000,
        .help = "fault injection: delay added before answering each API request"),
    OPT(retry_after, "retry-after", TTHC_OPT_INT, .env = "TTHC_PORTAL_RETRY_AFTER", .def = "1", .min = 0, .max = 86400,
        .help = "Retry-After seconds sent with injected faults and 503 answers"),
    OPT(retry_after_date, "retry-after-date", TTHC_OPT_BOOL, .env = "TTHC_PORTAL_RETRY_AFTER_DATE", .def = "false",
        .help = "send Retry-After as an HTTP date (IMF-fixdate, now + --retry-after) instead of seconds"),
    OPT(seed, "seed", TTHC_OPT_INT, .env = "TTHC_PORTAL_SEED", .def = "0", .min = 0, .max = 2147483647L,
        .help = "seed of the fault-injection dice (0 = from the clock)"),
    OPT(threads, "threads", TTHC_OPT_INT, .env = "TTHC_PORTAL_THREADS", .def = "4", .min = 1, .max = 64,
        .help = "HTTP threads, each with its own database connection"),
    OPT(statement_timeout_ms, "statement-timeout-ms", TTHC_OPT_INT, .def = "5000", .min = 100, .max = 600000,
        .help = "statement_timeout and lock_timeout of the database session"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug (one line per request), info, warn or error"),
};

static const tthc_cli stub_cli = {
    .prog = "tthc-portal-stub",
    .summary = "Stand-in for the national portal's indicator-report API (docs/portal-api.md):\n"
               "POST/GET /api/v1/indicator-reports, GET /healthz, /readyz, /metrics and an HTML overview at /.\n"
               "Stores every accepted revision in PostgreSQL (schema portal). Serves until SIGTERM or SIGINT.\n"
               "Exit status: 0 after SIGTERM/SIGINT; 1 on a runtime failure; 2 on a usage or configuration error.",
    .usage_tail = NULL,
    .opts = stub_opts,
    .nopts = sizeof stub_opts / sizeof stub_opts[0],
};

/* Installs the handlers (signals.h; SIGHUP reloads the tokens) and blocks SIGTERM/SIGINT/SIGHUP in this thread
 * (and so in the server threads started later); *wait_mask unblocks them for
 * sigsuspend. */
static tthc_rc install_signals(sigset_t *wait_mask, tthc_err *err)
{
    tthc_rc rc = tthc_signals_install(err);
    if (!rc) rc = tthc_signals_install_reload(err);
    if (rc) return rc;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &block, wait_mask)) return tthc_fail(err, TTHC_EIO, "pthread_sigmask failed");
    sigdelset(wait_mask, SIGTERM);
    sigdelset(wait_mask, SIGINT);
    sigdelset(wait_mask, SIGHUP);
    return TTHC_OK;
}

static tthc_rc resolve_config(stub_config *c, tthc_err *err)
{
    static const long statuses[] = {200, 301, 302, 307, 308, 429, 500, 503};
    int known = 0;
    for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) known |= c->fail_status == statuses[i];
    if (!known)
        return tthc_fail(err, TTHC_EINVAL,
                         "TTHC_PORTAL_FAIL_STATUS (--fail-status) must be 200, 301, 302, 307, 308, 429, 500 or 503, "
                         "got %ld",
                         c->fail_status);
    if (strcmp(c->fail_answer, "html") && strcmp(c->fail_answer, "wrong_revision"))
        return tthc_fail(err, TTHC_EINVAL, "TTHC_PORTAL_FAIL_ANSWER (--fail-answer) must be html or wrong_revision");
    if (!portal_token_valid(c->token))
        return tthc_fail(err, TTHC_EINVAL, "the bearer token must be 1-4096 visible ASCII characters");
    return TTHC_OK;
}

/* SIGHUP: the token files read again; a bad file keeps the tokens in force. */
static void reload_tokens(stub_config *c, portal_app *app)
{
    tthc_err err = {{0}};
    tthc_rc rc = TTHC_OK;
    if (!c->token_file && !c->next_token_file) {
        LOG_WARN("tokens_not_reloaded", "note=\"no --token-file or --next-token-file: tokens from the environment "
                                        "cannot change while running\"");
        return;
    }
    rc = tthc_config_reload_tokens(&stub_cli, c, &err);
    if (!rc) rc = portal_tokens_set(&app->tokens, c->token, c->next_token, &err);
    if (rc) LOG_ERROR("tokens_not_reloaded", "error=%s note=\"the tokens in force stay\"", err.msg);
    else LOG_INFO("tokens_reloaded", "next_token=%s", c->next_token && *c->next_token ? "yes" : "no");
}

/* Writes the port to path atomically (temporary file, then rename). */
static tthc_rc write_port_file(const char *path, unsigned port, tthc_err *err)
{
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp)
        return tthc_fail(err, TTHC_EINVAL, "--port-file: path too long");
    FILE *f = fopen(tmp, "w");
    if (!f) return tthc_fail(err, TTHC_EIO, "--port-file %s: %s", tmp, strerror(errno));
    int ok = fprintf(f, "%u\n", port) > 0;
    ok = !fclose(f) && ok;
    if (!ok || rename(tmp, path)) {
        unlink(tmp);
        return tthc_fail(err, TTHC_EIO, "--port-file %s: %s", path, strerror(errno));
    }
    return TTHC_OK;
}

int main(int argc, char **argv)
{
    stub_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    portal_app app;
    int app_ready = 0, port_written = 0;
    tthc_httpd *httpd = NULL;
    sigset_t wait_mask;
    char q[600];

    tthc_rc rc = tthc_config_load(&stub_cli, &cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        tthc_config_free(&stub_cli, &cfg);
        return 0;
    }
    tthc_log_init("tthc-portal-stub", cfg.log_level);
    if (rc || (rc = resolve_config(&cfg, &err))) {
        LOG_ERROR("config_invalid", "error=%s", err.msg);
        tthc_config_free(&stub_cli, &cfg);
        return 2;
    }
    if ((rc = install_signals(&wait_mask, &err))) goto fail;

    portal_app_init(&app, (unsigned long long)cfg.seed);
    app_ready = 1;
    if ((rc = portal_tokens_set(&app.tokens, cfg.token, cfg.next_token, &err))) goto fail;
    app.fail_rate = cfg.fail_rate;
    app.fail_status = cfg.fail_status;
    app.latency_ms = cfg.latency_ms;
    app.retry_after = cfg.retry_after;
    app.retry_after_date = cfg.retry_after_date;
    app.fail_wrong_revision = !strcmp(cfg.fail_answer, "wrong_revision");
    app.fail_location = cfg.fail_location;
    for (; app.nstores < (size_t)cfg.threads; app.nstores++)
        if ((rc = portal_store_new(cfg.dsn, cfg.statement_timeout_ms, &app.stores[app.nstores], &err))) goto fail;
    if (portal_store_ping(app.stores[0], &err)) /* not fatal; the failure itself is logged as db_unavailable */
        LOG_WARN("db_not_ready", "note=\"the API answers 503 until the database is reachable\"");
    portal_metrics_db_up(&app.metrics, portal_store_up(app.stores[0]));

    tthc_httpd_opts hopts = {
        .listen = cfg.listen,
        .body_max = PORTAL_BODY_MAX,
        .timeout_s = 30,
        .threads = (unsigned)cfg.threads,
        .handler = portal_api_handle,
        .observer = portal_api_observe,
        .ctx = &app,
    };
    if ((rc = tthc_httpd_start(&hopts, &httpd, &err))) goto fail;
    if (cfg.port_file) {
        if ((rc = write_port_file(cfg.port_file, tthc_httpd_port(httpd), &err))) goto fail;
        port_written = 1;
    }
    LOG_INFO("listening", "listen=%s port=%u threads=%ld fail_rate=%ld fail_status=%ld latency_ms=%ld",
             tthc_log_quote(q, sizeof q, cfg.listen), tthc_httpd_port(httpd), cfg.threads, cfg.fail_rate,
             cfg.fail_status, cfg.latency_ms);

    while (!tthc_stop_requested) {
        sigsuspend(&wait_mask);
        if (tthc_reload_requested) {
            tthc_reload_requested = 0;
            reload_tokens(&cfg, &app);
        }
    }
    LOG_INFO("stopping", "reason=signal");
    rc = TTHC_OK;
fail:
    tthc_httpd_stop(httpd); /* waits for running handlers */
    if (port_written) unlink(cfg.port_file);
    if (app_ready) {
        for (size_t i = 0; i < app.nstores; i++) portal_store_free(app.stores[i]);
        portal_app_destroy(&app);
    }
    if (rc) LOG_ERROR("exit", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote(q, sizeof q, err.msg));
    else LOG_INFO("stopped", NULL);
    tthc_config_free(&stub_cli, &cfg);
    return rc ? 1 : 0;
}
