/* sync.h - tthc-sync's configuration and its four entry points.
 *
 * tthc-sync pushes the newest revision of every (unit, period) of
 * period_totals to the national portal (docs/portal-api.md), keeping its progress
 * in sync_state (migrations/002_sync.sql).  main.c loads a sync_config from
 * the option table and calls one of the entry points below. */
#ifndef SYNC_SYNC_H
#define SYNC_SYNC_H

#include <signal.h>

#include "err.h"

typedef struct {
    char *dsn, *portal_url, *token, *token_file, *ca_file, *metrics_listen, *log_level, *instance;
    char *period, *unit; /* subcommand arguments */
    int insecure;
    long connect_timeout_ms, timeout_ms, lease_ms, batch, workers, poll_ms;
    long backoff_base_ms, backoff_cap_ms, auth_pause_ms, statement_timeout_ms;
} sync_config;

/* The daemon (daemon.h): runs until tthc_stop_requested (signals.h);
 * TTHC_OK after a clean stop.  token is the bearer token (never logged). */
tthc_rc sync_daemon_run(const sync_config *cfg, const char *token, tthc_err *err) TTHC_MUSTCHECK;

/* `reconcile --period P`: returns 0 (no differences), 1 (differences found and
 * re-queued) or 2 (error, with err filled). */
int sync_reconcile(const sync_config *cfg, const char *token, tthc_err *err);

/* `unpark [--unit U] [--period P]`: 0; 1 on a database failure; 2 on a bad --period. */
int sync_unpark(const sync_config *cfg, tthc_err *err);

/* `status`: 0; 1 on a database failure. */
int sync_status(const sync_config *cfg, tthc_err *err);

#endif
