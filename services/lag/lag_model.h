/* lag_model.h - what tthc-lag knows about one partition of the group, filled by
 * kafka_probe.c (Kafka), applied.c (PostgreSQL) and judged in main.c.
 *
 * Ownership: rows are plain values in one array owned by main.c; `topic`
 * points into main's topic list, which outlives the rows. */
#ifndef LAG_MODEL_H
#define LAG_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "lag.h"

#define LAG_OWNER_MAX 256

typedef struct {
    const char *topic;
    int32_t partition;
    int64_t log_end;    /* high watermark at the last sample; -1 unknown */
    int64_t log_start;  /* low watermark; -1 unknown */
    int64_t committed;  /* Kafka's committed offset of the group; -1 none */
    int64_t applied;    /* consumer_offset.next_offset; -1 none (or no DSN) */
    double applied_age; /* seconds since that row was last written; -1 unknown */
    int64_t lost;       /* messages lost in gaps (consumer_gap); -1 unknown (no DSN) */
    bool gap_stopped;   /* the latest gap stopped the partition (--on-gap stop) and it has not moved since */
    int64_t next_ts_ms; /* timestamp of the message at the basis offset; -1 unknown */
    /* owner, from DescribeConsumerGroups; "" unknown */
    char member_id[LAG_OWNER_MAX], client_id[LAG_OWNER_MAX], host[LAG_OWNER_MAX];
    /* judgement */
    tthc_lag_ring ring;
    tthc_burrow_window window;
    bool judged; /* a basis offset was known: status, lag and lag_seconds are meaningful */
    tthc_partition_status status;
    bool evaluated; /* false: "not yet evaluated" (window incomplete) */
    int64_t lag;    /* log_end - basis, >= 0 */
    double lag_seconds;
} lag_row;

/* The offset the status is judged on: the applied offset when a DSN was
 * given (what tthc-ingest really has done), else Kafka's committed offset. */
static inline int64_t lag_row_basis(const lag_row *r, bool use_applied)
{
    return use_applied ? r->applied : r->committed;
}

#endif
