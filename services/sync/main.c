/* tthc-sync: pushes the indicator totals to the national portal.
 *
 *   tthc-sync                              the daemon
 *   tthc-sync reconcile --period YYYY-MM   compare with the portal, re-queue differences
 *   tthc-sync unpark [--unit U] [--period P]
 *   tthc-sync status */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "config.h"
#include "log.h"
#include "portal.h"
#include "signals.h"
#include "sync.h"

#define OPT(...) TTHC_OPT(sync_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc",
        .help = "libpq connection string"),
    OPT(portal_url, "portal-url", TTHC_OPT_STR, .env = "TTHC_PORTAL_URL", .def = "http://127.0.0.1:8088",
        .help = "base URL of the national portal (http:// or https://)"),
    OPT(token, "token", TTHC_OPT_SECRET, .env = "TTHC_PORTAL_TOKEN",
        .help = "bearer token for the portal (run and reconcile: this or --token-file; never logged)"),
    OPT(token_file, "token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_TOKEN_FILE", .token_for = "token",
        .help = "file holding the bearer token (wins over --token; SIGHUP re-reads it)"),
    OPT(ca_file, "ca-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_CA_FILE",
        .help = "CA bundle that verifies the portal's TLS certificate (default: the system's)"),
    OPT(insecure, "insecure", TTHC_OPT_BOOL, .def = "false",
        .help = "do not verify the portal's TLS certificate (tests only; flag only, no environment variable)"),
    OPT(connect_timeout_ms, "connect-timeout-ms", TTHC_OPT_INT, .env = "TTHC_SYNC_CONNECT_TIMEOUT_MS", .def = "3000",
        .min = 10, .max = 600000, .help = "longest wait for a connection to the portal"),
    OPT(timeout_ms, "timeout-ms", TTHC_OPT_INT, .env = "TTHC_SYNC_TIMEOUT_MS", .def = "10000", .min = 10, .max = 600000,
        .help = "longest time one HTTP request may take, connection included"),
    OPT(lease_ms, "lease-ms", TTHC_OPT_INT, .env = "TTHC_SYNC_LEASE_MS", .def = "60000", .min = 1000, .max = 3600000,
        .help = "how long a claimed report belongs to one sender; must exceed 3 x --timeout-ms + 5000"),
    OPT(batch, "batch", TTHC_OPT_INT, .env = "TTHC_SYNC_BATCH", .def = "32", .min = 1, .max = 10000,
        .help = "reports one worker claims per scan"),
    OPT(workers, "workers", TTHC_OPT_INT, .env = "TTHC_SYNC_WORKERS", .def = "8", .min = 1, .max = 64,
        .help = "senders working in parallel (each with its own database and portal connection)"),
    OPT(poll_ms, "poll-ms", TTHC_OPT_INT, .env = "TTHC_SYNC_POLL_MS", .def = "1000", .min = 10, .max = 600000,
        .help = "longest time between two scans (a NOTIFY tthc_totals triggers one at once)"),
    OPT(backoff_base_ms, "backoff-base-ms", TTHC_OPT_INT, .def = "200", .min = 1, .max = 600000,
        .help = "first retry delay ceiling (full jitter; doubles per attempt)"),
    OPT(backoff_cap_ms, "backoff-cap-ms", TTHC_OPT_INT, .def = "60000", .min = 1, .max = 3600000,
        .help = "largest retry delay ceiling"),
    OPT(auth_pause_ms, "auth-pause-ms", TTHC_OPT_INT, .def = "60000", .min = 100, .max = 3600000,
        .help = "after a 401 (wrong token) nothing is sent for this long"),
    OPT(statement_timeout_ms, "statement-timeout-ms", TTHC_OPT_INT, .env = "TTHC_PG_STATEMENT_TIMEOUT_MS",
        .def = "30000", .min = 100, .max = 3600000, .help = "PostgreSQL statement_timeout and lock_timeout"),
    OPT(instance, "instance", TTHC_OPT_STR, .env = "TTHC_SYNC_INSTANCE",
        .help = "name of this instance in lease owners (default: the host name); at start, leases of dead processes of "
                "the same instance are released"),
    OPT(metrics_listen, "metrics-listen", TTHC_OPT_STR_EMPTY, .env = "TTHC_SYNC_METRICS_LISTEN",
        .def = "127.0.0.1:9465", .help = "address of /metrics, /healthz and /readyz (empty: off)"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
    OPT(period, "period", TTHC_OPT_STR, .help = "reconcile, unpark: the month YYYY-MM"),
    OPT(unit, "unit", TTHC_OPT_STR, .help = "unpark: only this unit (or province) code"),
};

static const tthc_cli cli = {
    "tthc-sync",
    "Pushes the newest revision of every (unit, period) of period_totals to the national portal.\n"
    "Subcommands: (none) the daemon; reconcile --period YYYY-MM (exit 0 no difference, 1 differences\n"
    "re-queued, 2 error); unpark [--unit U] [--period P]; status.\n"
    "Exit status otherwise: 0; 1 on a runtime failure; 2 on a usage or configuration error.",
    "[reconcile --period YYYY-MM | unpark [--unit U] [--period P] | status]",
    opts,
    sizeof opts / sizeof opts[0],
};

static int fail_usage(const char *msg, const char *arg)
{
    if (arg) LOG_ERROR("usage", "error=%s arg=%s note=\"see --help\"", msg, arg);
    else LOG_ERROR("usage", "error=%s note=\"see --help\"", msg);
    return 2;
}

int main(int argc, char **argv)
{
    sync_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, code = 2;
    char *token = NULL;
    if (!rest) return 2;
    tthc_log_init("tthc-sync", NULL);
    tthc_rc rc = tthc_config_load(&cli, &cfg, argc, argv, &rest, &nrest, &err);
    if (rc == TTHC_EXIT) {
        code = 0;
        goto done;
    }
    if (rc) {
        LOG_ERROR("config_invalid", "error=%s", err.msg);
        goto done;
    }
    tthc_log_init("tthc-sync", cfg.log_level);
    const char *cmd = nrest ? rest[0] : "run";
    if (nrest > 1) {
        code = fail_usage("unexpected argument", rest[1]);
        goto done;
    }
    int needs_token = !strcmp(cmd, "run") || !strcmp(cmd, "reconcile");
    if (strcmp(cmd, "run") && strcmp(cmd, "reconcile") && strcmp(cmd, "unpark") && strcmp(cmd, "status")) {
        code = fail_usage("unknown subcommand", cmd);
        goto done;
    }
    if (needs_token) {
        if (strncmp(cfg.portal_url, "http://", 7) && strncmp(cfg.portal_url, "https://", 8)) {
            code = fail_usage("--portal-url must start with http:// or https://, got", cfg.portal_url);
            goto done;
        }
        if (cfg.token && *cfg.token) { /* --token-file's token when there is one (config.h) */
            if (!(token = strdup(cfg.token))) {
                code = 1;
                goto done;
            }
        } else {
            code = fail_usage("TTHC_PORTAL_TOKEN (--token) or --token-file is required", NULL);
            goto done;
        }
        if (cfg.insecure) LOG_WARN("insecure", "note=\"TLS certificate verification of the portal is OFF\"");
    }
    code = 1; /* from here on, a runtime failure (reconcile: 2, its own convention) */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        LOG_ERROR("curl_init", "error=\"curl_global_init failed\"");
        goto done;
    }
    if (!strcmp(cmd, "run")) {
        tthc_err serr = {{0}};
        if (tthc_signals_install(&serr)) {
            LOG_ERROR("signals", "error=%s", serr.msg);
            goto done;
        }
        if (tthc_signals_install_reload(&serr)) {
            LOG_ERROR("signals", "error=%s", serr.msg);
            goto done;
        }
        rc = sync_daemon_run(&cfg, token, &err);
        if (rc) LOG_ERROR("exit", "rc=%s error=\"%s\"", tthc_rc_name(rc), err.msg);
        else LOG_INFO("exit", "rc=ok");
        code = rc ? 1 : 0;
    } else {
        (void)signal(SIGPIPE, SIG_IGN);
        if (!strcmp(cmd, "reconcile")) code = sync_reconcile(&cfg, token, &err);
        else if (!strcmp(cmd, "unpark")) code = sync_unpark(&cfg, &err);
        else code = sync_status(&cfg, &err);
        /* reconcile: 1 means differences found, only 2 is an error */
        if (strcmp(cmd, "reconcile") ? code != 0 : code == 2) LOG_ERROR("failed", "command=%s error=%s", cmd, err.msg);
    }
    curl_global_cleanup();
done:
    if (token) {
        memset(token, 0, strlen(token));
        free(token);
    }
    tthc_config_free(&cli, &cfg);
    free(rest);
    return code;
}
