/* kafka_probe.h - what tthc-lag asks Kafka, every call bounded by a timeout.
 *
 * One consumer handle configured with the group's group.id that never
 * subscribes (so it never joins the group nor commits: enable.auto.commit and
 * enable.auto.offset.store are off).  It serves:
 *   - the partitions of a topic (metadata);
 *   - log end / log start offsets through rd_kafka_offsets_for_times() with
 *     the special timestamps OFFSET_END (-1) / OFFSET_BEGINNING (-2), i.e. a
 *     ListOffsets request for latest / earliest.  Not
 *     rd_kafka_query_watermark_offsets(), which can loop past its timeout in
 *     librdkafka 2.0.2; offsets_for_times() waits on its reply queue with the
 *     remaining time;
 *   - the group's committed offsets (rd_kafka_committed, OffsetFetch);
 *   - the timestamp of the message at an offset (a bounded manual assign and
 *     consume, nothing committed).
 * The group's members come from owners.h, in a separate process.
 * Kafka properties come from tthc_kafka_new(): TTHC_KAFKA_* pass-through.
 *
 * Ownership: lag_probe_open() returns a handle freed by lag_probe_close();
 * rows stay the caller's. */
#ifndef LAG_KAFKA_PROBE_H
#define LAG_KAFKA_PROBE_H

#include <stddef.h>

#include "err.h"
#include "lag_model.h"

typedef struct lag_probe lag_probe;

tthc_rc lag_probe_open(const char *brokers, const char *group, lag_probe **out, tthc_err *err) TTHC_MUSTCHECK;
void lag_probe_close(lag_probe *p); /* NULL is a no-op */

/* Number of partitions of topic (TTHC_EKAFKA if the topic does not exist). */
tthc_rc lag_probe_partitions(lag_probe *p, const char *topic, int timeout_ms, int *count, tthc_err *err) TTHC_MUSTCHECK;

/* Sets rows[i].log_end (and, with with_start, rows[i].log_start); a
 * partition whose leader answered with an error keeps -1. */
tthc_rc lag_probe_watermarks(lag_probe *p, lag_row *rows, size_t n, int with_start, int timeout_ms,
                             tthc_err *err) TTHC_MUSTCHECK;

/* Sets rows[i].committed (-1 where the group has no offset). */
tthc_rc lag_probe_committed(lag_probe *p, lag_row *rows, size_t n, int timeout_ms, tthc_err *err) TTHC_MUSTCHECK;

/* For each row with want[i] >= 0, reads the message at offset want[i] (or the
 * first one after it) and sets rows[i].next_ts_ms to its timestamp.  Rows
 * whose message did not arrive within timeout_ms keep -1: not an error. */
tthc_rc lag_probe_timestamps(lag_probe *p, lag_row *rows, size_t n, const int64_t *want, int timeout_ms,
                             tthc_err *err) TTHC_MUSTCHECK;

#endif
