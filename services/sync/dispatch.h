/* dispatch.h - the dispatcher of the tthc-sync daemon.
 *
 * It keeps a connection that LISTENs on tthc_totals (the ingest transaction
 * NOTIFYs it) and scans on every notification (at most one scan per 20 ms)
 * and at least every poll_ms: it creates sync_state rows for new buckets,
 * refreshes the queue and freshness gauges and readiness, and wakes the
 * workers (worker.h), who claim and send.  Once per process, at its first
 * connection, it un-parks the reports parked for 401 and releases the leases
 * of dead processes of this instance.  Every 10 s it logs the progress.
 *
 * Signals: SIGTERM/SIGINT/SIGHUP are blocked in every thread and delivered
 * only inside the dispatcher's ppoll() (run_mask).  SIGTERM/SIGINT end
 * sync_dispatch; on SIGHUP it re-reads --token-file, puts the new token in
 * force (daemon.h) and queues the reports parked for 401 again.
 *
 * Ownership and threads: runs on the thread that called sync_daemon_run and
 * owns its connection (closed on return); it touches the shared sync_daemon
 * only through daemon.h. */
#ifndef SYNC_DISPATCH_H
#define SYNC_DISPATCH_H

#include <signal.h>

#include "daemon.h"

/* Runs until tthc_stop_requested. */
void sync_dispatch(sync_daemon *d, const sigset_t *run_mask);

#endif
