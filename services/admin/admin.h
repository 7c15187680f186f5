/* admin.h - tthc-admin, the operator's monthly tasks (docs/operations.md,
 * "Operator tasks: tthc-admin").
 *
 *   recompute  a month's totals from the stored facts (dossier)
 *   replay     a month's facts and totals from the topic
 *   repush     a month's reports to the portal again
 *   drill      the dossiers behind one figure (no personal data)
 *   reload-token  tell tthc-sync or the stub to re-read its token (SIGHUP)
 *
 * Each entry point prints its result on stdout, logs through log.h, honours
 * cfg->dry_run (nothing is changed; what would change is printed) and
 * returns TTHC_OK, or a failure code with err filled.  *found (always set)
 * says what a successful run found: true when the dry run found something to
 * do or something in the way (recompute: buckets differ; replay: the topic
 * was trimmed), or the figures disagree (drill); repush and reload-token
 * never set it.  main.c maps the two to the exit code in one place: 0 done,
 * 1 found, 2 error. */
#ifndef ADMIN_ADMIN_H
#define ADMIN_ADMIN_H

#include <stdbool.h>

#include "err.h"

typedef struct {
    char *dsn, *brokers, *topic, *group, *period, *unit, *indicator, *token_file, *next_token_file, *log_level;
    int dry_run, denominator;
    long limit, statement_timeout_ms, timeout_s, pid;
} admin_config;

tthc_rc admin_recompute(const admin_config *cfg, bool *found, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc admin_repush(const admin_config *cfg, bool *found, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc admin_drill(const admin_config *cfg, bool *found, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc admin_replay(const admin_config *cfg, bool *found, tthc_err *err) TTHC_MUSTCHECK;
tthc_rc admin_reload_token(const admin_config *cfg, bool *found, tthc_err *err) TTHC_MUSTCHECK;

/* Shared checks.  true for a month "YYYY-MM". */
bool admin_period_ok(const char *p);

#endif
