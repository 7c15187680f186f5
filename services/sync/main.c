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

#define OPT(name, type, field, env, def, min, max, help) \
    {name, type, offsetof(sync_config, field), env, def, min, max, 0, help}

static const tthc_opt opts[] = {
    OPT("dsn", TTHC_OPT_SECRET, dsn, "TTHC_PG_DSN", "postgresql:///tthc", 0, 0, "libpq connection string"),
    OPT("portal-url", TTHC_OPT_STR, portal_url, "TTHC_PORTAL_URL", "http://127.0.0.1:8088", 0, 0,
        "base URL of the national portal (http:// or https://)"),
    OPT("token", TTHC_OPT_SECRET, token, "TTHC_PORTAL_TOKEN", NULL, 0, 0,
        "bearer token for the portal (required unless --token-file; never logged)"),
    OPT("token-file", TTHC_OPT_STR, token_file, "TTHC_PORTAL_TOKEN_FILE", NULL, 0, 0,
        "file holding the bearer token (wins over --token; trailing newline ignored)"),
    OPT("ca-file", TTHC_OPT_STR, ca_file, "TTHC_PORTAL_CA_FILE", NULL, 0, 0,
        "CA bundle that verifies the portal's TLS certificate (default: the system's)"),
    OPT("insecure", TTHC_OPT_BOOL, insecure, NULL, "false", 0, 0,
        "do not verify the portal's TLS certificate (tests only; flag only, no environment variable)"),
    OPT("connect-timeout-ms", TTHC_OPT_INT, connect_timeout_ms, "TTHC_SYNC_CONNECT_TIMEOUT_MS", "3000", 10, 600000,
        "longest wait for a connection to the portal"),
    OPT("timeout-ms", TTHC_OPT_INT, timeout_ms, "TTHC_SYNC_TIMEOUT_MS", "10000", 10, 600000,
        "longest time one HTTP request may take, connection included"),
    OPT("lease-ms", TTHC_OPT_INT, lease_ms, "TTHC_SYNC_LEASE_MS", "60000", 1000, 3600000,
        "how long a claimed report belongs to one sender; must exceed 3 x --timeout-ms + 5000"),
    OPT("batch", TTHC_OPT_INT, batch, "TTHC_SYNC_BATCH", "32", 1, 10000, "reports one worker claims per scan"),
    OPT("workers", TTHC_OPT_INT, workers, "TTHC_SYNC_WORKERS", "8", 1, 64,
        "senders working in parallel (each with its own database and portal connection)"),
    OPT("poll-ms", TTHC_OPT_INT, poll_ms, "TTHC_SYNC_POLL_MS", "1000", 10, 600000,
        "longest time between two scans (a NOTIFY tthc_totals triggers one at once)"),
    OPT("backoff-base-ms", TTHC_OPT_INT, backoff_base_ms, NULL, "200", 1, 600000,
        "first retry delay ceiling (full jitter; doubles per attempt)"),
    OPT("backoff-cap-ms", TTHC_OPT_INT, backoff_cap_ms, NULL, "60000", 1, 3600000, "largest retry delay ceiling"),
    OPT("auth-pause-ms", TTHC_OPT_INT, auth_pause_ms, NULL, "60000", 100, 3600000,
        "after a 401 (wrong token) nothing is sent for this long"),
    OPT("statement-timeout-ms", TTHC_OPT_INT, statement_timeout_ms, "TTHC_PG_STATEMENT_TIMEOUT_MS", "30000", 100,
        3600000, "PostgreSQL statement_timeout and lock_timeout"),
    OPT("instance", TTHC_OPT_STR, instance, "TTHC_SYNC_INSTANCE", NULL, 0, 0,
        "name of this instance in lease owners (default: the host name); at start, leases of dead processes of "
        "the same instance are released"),
    OPT("metrics-listen", TTHC_OPT_STR_EMPTY, metrics_listen, "TTHC_SYNC_METRICS_LISTEN", "127.0.0.1:9465", 0, 0,
        "address of /metrics, /healthz and /readyz (empty: off)"),
    OPT("log-level", TTHC_OPT_STR, log_level, "TTHC_LOG_LEVEL", "info", 0, 0, "debug, info, warn or error"),
    OPT("period", TTHC_OPT_STR, period, NULL, NULL, 0, 0, "reconcile, unpark: the month YYYY-MM"),
    OPT("unit", TTHC_OPT_STR, unit, NULL, NULL, 0, 0, "unpark: only this unit (or province) code"),
};

static const tthc_cli cli = {
    "tthc-sync",
    "Pushes the newest revision of every (unit, period) of period_totals to the national portal.\n"
    "Subcommands: (none) the daemon; reconcile --period YYYY-MM (exit 0 no difference, 1 differences\n"
    "re-queued, 2 error); unpark [--unit U] [--period P]; status.",
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
        if (cfg.token_file && *cfg.token_file) {
            if (!(token = sync_read_token_file(cfg.token_file, &err))) {
                LOG_ERROR("token_file", "error=%s", err.msg);
                goto done;
            }
        } else if (cfg.token && *cfg.token) {
            if (!(token = strdup(cfg.token))) goto done;
        } else {
            code = fail_usage("TTHC_PORTAL_TOKEN (--token) or --token-file is required", NULL);
            goto done;
        }
        if (cfg.insecure) LOG_WARN("insecure", "note=\"TLS certificate verification of the portal is OFF\"");
    }
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
        if (code == 2) LOG_ERROR("failed", "command=%s error=%s", cmd, err.msg);
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
