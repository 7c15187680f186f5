/* stub_store.h - the portal stub's PostgreSQL storage, in its own schema `portal`.
 *
 * Tables (created idempotently at each new connection, under an advisory
 * lock so that concurrent starts do not race):
 *   portal.report_revision   every accepted revision of a (unit_code, period)
 *   portal.report_indicator  its numerator/denominator per indicator
 *   portal.report_latest     the latest accepted revision per (unit_code, period)
 *   portal.idempotency_key   every accepted Idempotency-Key, with the
 *                            (unit_code, period, revision) it stored and the
 *                            SHA-256 of the canonical report
 *
 * One connection, used by one thread at a time (the caller serializes).
 * Every statement goes through PQexecParams; statement_timeout and
 * lock_timeout are set on each connection.  A lost connection is reopened at
 * the next call (at most one attempt per second); meanwhile calls fail with
 * TTHC_ERETRY, which the API answers 503.  Other database errors are
 * TTHC_EDB. */
#ifndef STUB_STORE_H
#define STUB_STORE_H

#include <stdbool.h>

#include "err.h"
#include "stub_report.h"
#include "targets.h"

struct cJSON;

typedef struct portal_store portal_store;

typedef enum {
    PORTAL_PUT_ACCEPTED,   /* stored as the latest revision */
    PORTAL_PUT_DUPLICATE,  /* key known with the same report: nothing changed */
    PORTAL_PUT_STALE,      /* revision <= the stored latest: nothing changed */
    PORTAL_PUT_KEY_REUSED, /* key known with a different report: nothing changed */
} portal_put_outcome;

typedef struct {
    portal_put_outcome outcome;
    long long revision; /* ACCEPTED: r's; DUPLICATE/KEY_REUSED: the key's; STALE: the current latest */
    char key_unit_code[PORTAL_UNIT_CODE_MAX + 1]; /* KEY_REUSED: what the key stored */
    char key_period[8];
} portal_put_result;

/* Creates a store (copies dsn; does not connect yet).  Returns TTHC_ENOMEM
 * or TTHC_OK with *out owned by the caller (free with portal_store_free). */
tthc_rc portal_store_new(const char *dsn, long statement_timeout_ms, portal_store **out, tthc_err *err) TTHC_MUSTCHECK;
void portal_store_free(portal_store *s);

/* Connects if needed (and ensures the schema); cheap when connected. */
tthc_rc portal_store_ping(portal_store *s, tthc_err *err) TTHC_MUSTCHECK;

/* true if the last operation found the database reachable. */
bool portal_store_up(const portal_store *s);

/* Applies one validated report in one transaction (see portal_put_outcome).
 * canonical is portal_report_canonical(r), hashed to recognise a key sent
 * again with another report. */
tthc_rc portal_store_put(portal_store *s, const portal_report *r, const char *idempotency_key, const char *canonical,
                         portal_put_result *res, tthc_err *err) TTHC_MUSTCHECK;

/* The latest revision of every (unit_code, period) of period (and of
 * unit_code when not NULL), sorted by unit_code (byte order), as a cJSON
 * array of report objects in the GET representation of docs/portal-api.md.
 * *reports is owned by the caller. */
tthc_rc portal_store_list(portal_store *s, const char *period, const char *unit_code, struct cJSON **reports,
                          tthc_err *err) TTHC_MUSTCHECK;

/* The periods that have reports, newest first (at most max), as a cJSON
 * array of strings owned by the caller. */
tthc_rc portal_store_periods(portal_store *s, int max, struct cJSON **periods, tthc_err *err) TTHC_MUSTCHECK;

/* Targets of year from the indicator_target table when it exists and has
 * rows for that year; otherwise *t is the built-in 2025 table. */
tthc_rc portal_store_targets(portal_store *s, int year, portal_targets *t, tthc_err *err) TTHC_MUSTCHECK;

/* QĐ 766 points of every unit and province of period, computed by the
 * database's qd766_groups() (migrations/006_qd766.sql) at the current
 * instant, as {"H61.07": [points_centi, max_known_centi, rank], ...} (rank
 * among the province's units, 0 for the province).  *points is NULL when the
 * database has no such function (a stub on its own database).  Owned by the
 * caller. */
tthc_rc portal_store_qd766_points(portal_store *s, const char *period, struct cJSON **points,
                                  tthc_err *err) TTHC_MUSTCHECK;

#endif
