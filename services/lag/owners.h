/* owners.h - the group's state and which member owns each partition, from the
 * admin API's DescribeConsumerGroups, asked in a child process.
 *
 * Why a child: with librdkafka 2.0.2, a DescribeConsumerGroups request to a
 * broker that does not support DescribeGroups (the dev broker, librdkafka's
 * mock cluster) fails with "Required feature not supported by broker" and
 * leaves the handle broken: its later requests time out and
 * rd_kafka_destroy() never returns.  So the request runs in a process forked
 * before any librdkafka thread exists, which writes its answer into a pipe
 * and _exit()s without destroying its handle; the parent reads with a
 * deadline and kills the child if it is late.  Real Kafka brokers support
 * DescribeGroups (since 0.9) and answer normally.
 *
 * Ownership: lag_owners_start() returns a job that lag_owners_finish() always
 * ends (child reaped, pipe closed), whatever it returns. */
#ifndef LAG_OWNERS_H
#define LAG_OWNERS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "lag_model.h"

typedef struct lag_owners lag_owners;

/* Forks the child (call it before creating any librdkafka handle or thread).
 * The child gives up after timeout_ms. */
tthc_rc lag_owners_start(const char *brokers, const char *group, int timeout_ms, lag_owners **out,
                         tthc_err *err) TTHC_MUSTCHECK;

/* Waits until deadline_mono_ms (tthc_mono_ms clock) for the answer; fills
 * state (at most len bytes, e.g. "Stable", "Empty") and the owner fields of
 * the rows.  On failure err says why (e.g. the broker's answer), the rows are
 * untouched, and the job is ended all the same. */
tthc_rc lag_owners_finish(lag_owners *job, int64_t deadline_mono_ms, lag_row *rows, size_t n, char *state, size_t len,
                          tthc_err *err) TTHC_MUSTCHECK;

#endif
