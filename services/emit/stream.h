/* stream.h - the province's event stream in simulated-time order (pure: no
 * I/O, no clock).
 *
 * Dossiers are received on working days (a Poisson number per day, spread over
 * the units by their volume weights) and each lifecycle's events are queued by
 * time; emit_stream_next() hands out the next message.  Knobs:
 *   dup_rate        a message is delivered again, identical, a little later;
 *   late_rate       a message is held back 20-75 days (old months change late);
 *   malformed_rate  an extra malformed message (see encode.h) before a message;
 *   reorder_window  messages leave a window of N in random order, but each
 *                   dossier's own messages keep their order.
 * Each knob draws from its own random stream, so the dossiers are the same
 * whatever the knobs.  With self_check, every message is run through the
 * contract's validator (common/event.h): a valid one must pass, a malformed
 * one must fail with the expected reason, and the stream keeps the totals a
 * correct consumer must reach (common/dossier.h), by province.
 *
 * Ownership: the stream keeps pointers to cfg strings, the model and the
 * units (they must outlive it); a message's key and value belong to the
 * stream until the next call. */
#ifndef EMIT_STREAM_H
#define EMIT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dossier.h"
#include "encode.h"
#include "err.h"
#include "profile.h"
#include "unitlist.h"

typedef struct {
    const char *seed;
    int64_t from_day;     /* first receipt day (Vietnam day number) */
    int64_t to_day;       /* last receipt day, or -1 for none */
    int64_t max_dossiers; /* stop receiving after this many dossiers (0: no limit) */
    int64_t max_messages; /* stop after this many messages (0: no limit) */
    double per_day;       /* dossiers per working day, province-wide */
    double dup_rate, late_rate, malformed_rate;
    int reorder_window;  /* 0 or 1: no reordering */
    double centre_month; /* month number (year * 12 + month - 1) where the trend is zero */
    const char *source;  /* envelope `source` */
    bool self_check;
} emit_stream_config;

typedef struct {
    const char *key, *value;
    size_t key_len, len;
    int64_t sim_time; /* when the message leaves the simulated system */
    int bad;          /* -1, or its emit_bad_kind */
    bool dup, late;
} emit_msg;

typedef struct {
    int64_t dossiers, messages, events, dups, late, malformed;
    int64_t bad[EMIT_BAD__COUNT];
    int64_t queued;     /* messages waiting in the queue and the window */
    int64_t sim_time;   /* of the last message */
    tthc_counts totals; /* self_check: what a consumer counts, all units (dossiers done so far) */
} emit_stats;

typedef struct emit_stream emit_stream;

tthc_rc emit_stream_new(const emit_stream_config *cfg, const emit_model *m, const emit_unitlist *units,
                        emit_stream **out, tthc_err *err) TTHC_MUSTCHECK;

/* Hands out the next message in *msg and sets *end = false; or, once the
 * stream has ended, sets *end = true and leaves *msg alone.  A failure (out of
 * memory, or a self-check failure, which is a bug) returns its code with err
 * filled; *end is then false. */
tthc_rc emit_stream_next(emit_stream *s, emit_msg *msg, bool *end, tthc_err *err) TTHC_MUSTCHECK;

/* Ends the stream early: every dossier still queued is retired with the
 * messages it has sent (its totals count what was sent). */
void emit_stream_finish(emit_stream *s);

void emit_stream_stats(const emit_stream *s, emit_stats *out);

/* The unit profiles the stream uses (n = units->n). */
const emit_profile *emit_stream_profiles(const emit_stream *s);

void emit_stream_free(emit_stream *s);

#endif
