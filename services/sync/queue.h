/* queue.h - the sync_state table (migrations/002_sync.sql): which reports are
 * due, who is sending them, and what came of them.
 *
 * A report is due when its bucket's period_totals.revision is above
 * sync_state.sent_revision, it is not parked at that revision, its
 * next_attempt_at has come, and no live lease covers it.  Senders claim due
 * rows with a lease (lease_owner, lease_until) and later finish them; every
 * finish is conditional on still owning the lease, so a sender whose lease
 * ran out never overwrites the work of the next one.
 *
 * Every function runs one autocommit statement (sync_q_ensure: one short
 * transaction) on the caller's connection; no transaction stays open across
 * an HTTP request.  Errors: TTHC_ERETRY when the connection was lost or the
 * statement may simply be retried, TTHC_EDB otherwise. */
#ifndef SYNC_QUEUE_H
#define SYNC_QUEUE_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "sync_report.h"

typedef struct {
    sync_totals t;           /* one row version of period_totals: revision and counters agree */
    int attempts;            /* transient failures so far (drives the backoff) */
    int64_t generated_at_us; /* fixed per revision, so that a resend is byte-identical */
    int64_t age_ms;          /* how long the change had waited when it was claimed */
    int64_t claimed_mono_ms; /* tthc_mono_ms() just before the claim */
    int64_t lease_mono_ms;   /* tthc_mono_ms() just before the lease was last taken or renewed */
    int bad;                 /* the unit code is too long to be sent */
    int done;                /* worker bookkeeping: finished, or lease lost */
} sync_item;

typedef enum {
    SYNC_FIN_SYNCED,  /* the portal holds sent_revision: ack it */
    SYNC_FIN_RETRY,   /* transient failure: try again after delay_ms */
    SYNC_FIN_PARK,    /* permanent failure of this revision: park it */
    SYNC_FIN_RELEASE, /* just drop the lease (a newer revision will be sent) */
} sync_fin_kind;

typedef struct {
    sync_fin_kind kind;
    long long revision; /* SYNCED: the revision the portal acknowledged; PARK: the parked one */
    int http_status;    /* last_status (0: no answer) */
    const char *error;  /* last_error (already sanitized), may be NULL */
    int64_t delay_ms;   /* RETRY */
} sync_finish;

typedef struct {
    long depth;          /* due or waiting (not parked), including in-flight ones */
    long retrying;       /* of those, with at least one transient failure */
    long leased;         /* live leases */
    long parked;         /* parked at their current revision */
    double oldest_s;     /* age of the oldest change not acknowledged (0 if none) */
    int64_t next_due_ms; /* ms until the next not-leased waiting report is due (0 now, -1 none) */
} sync_stats;

/* Inserts a sync_state row for every period_totals bucket that has none and
 * stamps waiting_since on buckets that just changed.  Only one process does
 * it at a time (transaction advisory lock; *ran = 0 when another one held it). */
tthc_rc sync_q_ensure(PGconn *c, long *inserted, int *ran, tthc_err *err) TTHC_MUSTCHECK;

tthc_rc sync_q_stats(PGconn *c, sync_stats *s, tthc_err *err) TTHC_MUSTCHECK;

/* Claims up to max due reports for owner for lease_ms (FOR UPDATE SKIP LOCKED:
 * concurrent claimers never get the same row).  Fills items[0..*n). */
tthc_rc sync_q_claim(PGconn *c, const char *owner, long lease_ms, sync_item *items, size_t max, size_t *n,
                     tthc_err *err) TTHC_MUSTCHECK;

/* Extends owner's leases on the items not done; items whose lease was lost
 * are marked done (and must not be sent).  Sets lease_mono_ms of the rest. */
tthc_rc sync_q_renew(PGconn *c, const char *owner, long lease_ms, sync_item *items, size_t n,
                     tthc_err *err) TTHC_MUSTCHECK;

/* Records the outcome of it and drops its lease.  *applied = 0 when owner no
 * longer held the lease (nothing changed). */
tthc_rc sync_q_finish(PGconn *c, const char *owner, const sync_item *it, const sync_finish *f, int *applied,
                      tthc_err *err) TTHC_MUSTCHECK;

/* Drops every lease of owner; *n = rows released (n may be NULL). */
tthc_rc sync_q_release(PGconn *c, const char *owner, long *n, tthc_err *err) TTHC_MUSTCHECK;

/* Raises period_totals.revision of it's bucket from it->t.revision to `to`
 * (only if it is still it->t.revision, i.e. the counters are unchanged) and
 * gives the new revision a generated_at.  On success (*raised = 1) it->t.revision
 * and it->generated_at_us describe the new revision.  *raised = 0 when the
 * bucket changed meanwhile or owner lost the lease. */
tthc_rc sync_q_raise(PGconn *c, const char *owner, sync_item *it, long long to, int *raised,
                     tthc_err *err) TTHC_MUSTCHECK;

/* Un-parks parked reports (of unit and/or period when not NULL; only those
 * parked for 401 when only_401) and wakes the daemons.  *n = rows. */
tthc_rc sync_q_unpark(PGconn *c, const char *unit, const char *period, int only_401, long *n,
                      tthc_err *err) TTHC_MUSTCHECK;

/* Releases the leases of dead processes of this instance: lease owners are
 * "<instance>/<pid>/<nonce>/w<N>"; an owner is dead when its pid no longer
 * runs on this host, or when it is our pid with another nonce (a predecessor
 * whose pid we inherited, e.g. pid 1 in a container).  Owners starting with
 * self ("<instance>/<pid>/<nonce>/", this process) are kept.  *n = rows. */
tthc_rc sync_q_release_dead(PGconn *c, const char *instance, const char *self, long *n, tthc_err *err) TTHC_MUSTCHECK;

/* NOTIFY tthc_totals (wakes the daemons). */
tthc_rc sync_q_notify(PGconn *c, tthc_err *err) TTHC_MUSTCHECK;

/* Helpers shared with the subcommands. */
long long sync_q_ll(const PGresult *r, int row, int col);
/* The counter columns "t.received, t.online, ..." (static storage). */
const char *sync_q_counter_list(void);

#endif
