/* deliver.h - one claimed report, from the POST to its recorded outcome: the
 * per-report state machine of the tthc-sync daemon.
 *
 *   POST --2xx--> ack                 --5xx/429/408/none--> retry with backoff
 *        --401--> park + pause all sending (auth circuit), one error line
 *        --4xx--> park at this revision (a later revision un-parks it)
 *        --409--> GET the portal's copy: same counters -> ack (adopting the
 *                 portal's revision number); different -> raise our revision
 *                 above the portal's and POST once more.
 *
 * What an answer means is outcome.h (pure); this module acts on it: it
 * records the outcome in sync_state (queue.h), counts it (metrics.h) and logs
 * it.
 *
 * Ownership and threads: runs on the worker's thread with the worker's
 * connection, portal handle and random state (worker.h); it touches the
 * shared sync_daemon only through daemon.h.  The item stays the caller's;
 * sync_deliver may change its revision (a raise after a 409). */
#ifndef SYNC_DELIVER_H
#define SYNC_DELIVER_H

#include "queue.h"
#include "worker.h"

/* Sends it (taking a reloaded token first) and records what came of it. */
void sync_deliver(sync_worker *w, sync_item *it);

#endif
