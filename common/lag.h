/* lag.h - consumer lag arithmetic: lag in seconds, and Burrow's status rules.
 *
 * Pure logic: no I/O, no clock, no allocation, no locks.  Times are seconds
 * as doubles on the caller's clock (Unix time is the natural choice); offsets
 * are Kafka offsets.  A "consumer offset" C is always the offset of the NEXT
 * message to consume/apply (Kafka's committed offset, consumer_offset.next_offset),
 * and a "log end" L the offset the next produced message will get (the high
 * watermark): messages 0..L-1 exist, lag = L - C messages.
 *
 * Ownership: both structs are plain values the caller owns (embed them, one per
 * partition); nothing here keeps a pointer to caller memory.  Not thread-safe:
 * one writer, or a lock around add/eval.
 *
 * ---- 1. Lag in seconds: tthc_lag_ring -------------------------------------
 *
 * At every statistics tick the caller adds the partition's (log end, time).
 * Message C was produced about when the log end first passed C (reached C+1);
 * its age is the lag in seconds of a consumer at C:
 *
 *   - caught up (C >= newest log end): exactly 0;
 *   - C inside the ring: find the first sample whose log end is > C and the
 *     one before it (log ends L0 <= C < L1, times t0, t1); interpolate
 *     linearly: produced at t0 + (t1 - t0) * (C + 1 - L0) / (L1 - L0);
 *     lag = now - that;
 *   - C older than the ring (the oldest sample's log end is already > C): the
 *     message was produced before the oldest sample, so the lag is at least
 *     the oldest sample's age; if the caller knows the timestamp of message C
 *     (next_msg_ts >= 0, e.g. from the message the consumer holds next) the
 *     result is max(now - next_msg_ts, age of the oldest sample), else the age
 *     of the oldest sample;
 *   - empty ring: now - next_msg_ts if given, else 0.
 *
 * The result is never negative (clamped at 0: clock skew, a message timestamp
 * in the future) and never NaN (non-finite inputs give 0 or are ignored).
 * Samples: a time earlier than the newest sample's is raised to it (the clock
 * stepped back; times stay monotonic); a log end below the newest one clears
 * the ring first (the partition was recreated or truncated: the old samples no
 * longer describe this log); a run of equal log ends keeps only its first and
 * last sample, so an idle partition does not flush its history out of the ring.
 *
 * ---- 2. Status: Burrow's evaluation rules, tthc_burrow_window ------------
 *
 * Burrow (linkedin/Burrow, wiki "Consumer Lag Evaluation Rules", evaluator
 * core/internal/evaluator/caching.go) keeps, per partition, the last N
 * committed offsets of a group (window "intervals", 10 by default), each with
 * its commit time and the lag when it was seen (negative lag stored as 0), and
 * judges the window:
 *
 *   1. if the lag is zero anywhere in the window: OK;
 *   2. if the consumer offset decreased between two entries: REWIND (error);
 *   3. if the time since the last commit is longer than the time between the
 *      first and last commit of the window: STOP (error; the consumer stopped
 *      committing);
 *   4. if the consumer offset does not change over the window while the lag
 *      is fixed or growing: STALL (error; the consumer commits but does not
 *      move);
 *   5. if the offsets move but the lag never decreases from one entry to the
 *      next: WARN (the consumer is slower than the producers);
 *   6. otherwise (the lag decreases somewhere): OK.
 *   A partition with zero current lag is never in error.  A partition's window
 *   that is not full yet is "incomplete" and not judged.  Group: the worst
 *   partition, STOP/STALL/REWIND counting as ERR.
 *
 * Adaptation here.  Burrow's window advances with each COMMIT; ours advances
 * with each statistics TICK (a fixed interval), and a "commit" is the database
 * transaction that applied the offsets (ingest) or a Kafka offset commit
 * (tthc-lag).  So each sample carries the caller's last commit time for the
 * partition, and the rules become, in this order:
 *
 *   a. window not full (fewer than `size` samples): if the current lag is 0,
 *      OK (evaluated); otherwise OK with evaluated = false ("not yet
 *      evaluated": no judgement yet; show it as OK with that flag);
 *   b. current lag 0: OK;
 *   c. REWIND: the offset decreased between two samples and has not come back
 *      to the highest offset seen before the decrease.  Checked before (d),
 *      as Burrow does since its PR #716: a reset to an old offset right after
 *      a caught-up period must not hide behind the zero lag of that period;
 *   d. any sample with zero lag: OK (Burrow's rule 1; being caught up within
 *      the window also covers Burrow's "recent zero lag" guard on STOP, since
 *      a tick window is always recent, unlike a window of old commits);
 *   e. STOP: the last commit time is known (>= 0) and now - last commit is
 *      longer than both the window span (newest - oldest sample time) and the
 *      last commit interval (the gap between the two latest distinct commit
 *      times in the window), so a consumer that commits less often than the
 *      window is long is not called stopped between two commits;
 *   f. STALL: the offset is the same in every sample (the lag therefore fixed
 *      or growing);
 *   g. WARN: the offsets moved and the lag never decreased between two
 *      consecutive samples;
 *   h. otherwise OK.
 *
 * A consumer paused while messages keep arriving: OK while zero-lag samples
 * are still in the window, then
 *   - STOP when commit times are known (ingest: the time of the transaction
 *     that last applied the partition): no transaction happened for longer
 *     than the window, which is exactly Burrow's STOP ("stopped committing").
 *     STALL then means the consumer still commits (the caller passes the time
 *     of its last transaction of any partition) but this partition does not
 *     move, Burrow's "committing the same offset";
 *   - STALL when commit times are unknown (last_commit_time < 0, e.g.
 *     tthc-lag on Kafka's committed offsets, which carry no commit time): on
 *     a tick window a stopped consumer and a stalled one look the same (the
 *     offset does not move), and STOP cannot be decided without commit times.
 *     Both are errors (group ERR).
 * A tick window judges from time, not from commits: its span must cover the
 * consumer's commit interval (librdkafka auto-commits every 5 s by default),
 * or a consumer that is moving but has not committed within the window looks
 * stalled.  Samples with t earlier than the newest clear the window (the clock
 * stepped back; judging restarts); samples with a negative offset or log end
 * (unknown) are ignored. */
#ifndef TTHC_LAG_H
#define TTHC_LAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- lag in seconds ---- */

#define TTHC_LAG_RING_CAP 120 /* e.g. 10 minutes of 5 s ticks (runs of equal log ends take 2 slots) */

typedef struct {
    int64_t log_end;
    double t;
} tthc_lag_sample;

typedef struct {
    tthc_lag_sample s[TTHC_LAG_RING_CAP];
    size_t head; /* index of the oldest sample */
    size_t n;    /* samples held, <= TTHC_LAG_RING_CAP */
} tthc_lag_ring;

void tthc_lag_ring_init(tthc_lag_ring *r); /* empty ring (also a reset) */

/* Adds a (log end, time) sample, with the rules above.  A negative log end or
 * a non-finite time is ignored. */
void tthc_lag_ring_add(tthc_lag_ring *r, int64_t log_end, double t);

size_t tthc_lag_ring_len(const tthc_lag_ring *r);

/* The newest / oldest sample into *log_end / *t (either may be NULL); false if empty. */
bool tthc_lag_ring_newest(const tthc_lag_ring *r, int64_t *log_end, double *t);
bool tthc_lag_ring_oldest(const tthc_lag_ring *r, int64_t *log_end, double *t);

/* Age in seconds of message consumer_offset (the next one to apply) at `now`;
 * next_msg_ts is that message's timestamp in seconds, or negative if unknown.
 * A negative consumer_offset counts as 0.  Always finite and >= 0. */
double tthc_lag_seconds(const tthc_lag_ring *r, int64_t consumer_offset, double now, double next_msg_ts);

/* ---- Burrow status ---- */

typedef enum {
    TTHC_PARTITION_OK = 0,
    TTHC_PARTITION_WARN,
    TTHC_PARTITION_STOP,
    TTHC_PARTITION_STALL,
    TTHC_PARTITION_REWIND,
    TTHC_PARTITION_STATUS_COUNT
} tthc_partition_status;

typedef enum { TTHC_GROUP_OK = 0, TTHC_GROUP_WARN, TTHC_GROUP_ERR, TTHC_GROUP_STATUS_COUNT } tthc_group_status;

#define TTHC_BURROW_WINDOW_MAX     32
#define TTHC_BURROW_WINDOW_DEFAULT 10 /* Burrow's default number of intervals */

typedef struct {
    double t;
    int64_t offset; /* consumer offset */
    int64_t log_end;
    int64_t lag;     /* max(0, log_end - offset) */
    double commit_t; /* caller's last commit time, < 0 if unknown */
} tthc_burrow_sample;

typedef struct {
    tthc_burrow_sample s[TTHC_BURROW_WINDOW_MAX];
    size_t size; /* samples that make the window complete, 2..TTHC_BURROW_WINDOW_MAX */
    size_t head; /* index of the oldest sample */
    size_t n;    /* samples held, <= size */
} tthc_burrow_window;

/* An empty window of TTHC_BURROW_WINDOW_DEFAULT samples. */
void tthc_burrow_init(tthc_burrow_window *w);
/* An empty window judged over `size` samples (clamped to 2..TTHC_BURROW_WINDOW_MAX). */
void tthc_burrow_init_size(tthc_burrow_window *w, size_t size);
/* Empty again, same size (e.g. after the partition was reassigned). */
void tthc_burrow_reset(tthc_burrow_window *w);

/* Adds one tick's sample; the oldest drops out of a full window.
 * last_commit_time: the time of the consumer's last commit (for this
 * partition, or of any partition: see STALL above), negative if unknown
 * (0 is a real time, "long ago", and leads to STOP). */
void tthc_burrow_add(tthc_burrow_window *w, double t, int64_t consumer_offset, int64_t log_end,
                     double last_commit_time);

/* Judges the window at time `now` with the rules a-h above (OK when empty). */
tthc_partition_status tthc_burrow_eval(const tthc_burrow_window *w, double now);

/* False while the window is "not yet evaluated" (rule a: incomplete and the
 * newest lag > 0, or empty): tthc_burrow_eval() then says OK by convention. */
bool tthc_burrow_evaluated(const tthc_burrow_window *w);
/* Samples held / window size, 0..1 (Burrow's "complete"). */
double tthc_burrow_complete(const tthc_burrow_window *w);
/* Lag in messages of the newest sample (>= 0); 0 when empty. */
int64_t tthc_burrow_lag(const tthc_burrow_window *w);

/* Group roll-up: ERR if any partition is STOP, STALL or REWIND, else WARN if
 * any is WARN, else OK (also for n == 0). */
tthc_group_status tthc_burrow_group(const tthc_partition_status *parts, size_t n);

/* Label values: "OK", "WARN", "STOP", "STALL", "REWIND" / "OK", "WARN", "ERR";
 * "UNKNOWN" for an out-of-range value.  Never NULL. */
const char *tthc_partition_status_name(tthc_partition_status s);
const char *tthc_group_status_name(tthc_group_status s);

/* True for STOP, STALL and REWIND (the statuses that make a group ERR). */
bool tthc_partition_status_is_error(tthc_partition_status s);

#endif
