/* freshness.h - per unit, when its figures last changed here and when the
 * portal last accepted one: the gauges
 *   tthc_sync_unit_last_applied_timestamp_seconds{unit_code}   max(period_totals.updated_at)
 *   tthc_sync_unit_last_accepted_timestamp_seconds{unit_code}  max(sync_state.last_success_at)
 * (the second absent for a unit the portal never acknowledged).  Their age is
 * time() - value in PromQL; deploy/prometheus/rules alert on both. */
#ifndef SYNC_FRESHNESS_H
#define SYNC_FRESHNESS_H

#include <libpq-fe.h>

#include "err.h"
#include "sync_metrics.h"

/* One query on c (autocommit), then sync_metrics_units(m, ...). */
tthc_rc sync_freshness_refresh(PGconn *c, sync_metrics *m, tthc_err *err) TTHC_MUSTCHECK;

#endif
