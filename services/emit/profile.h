/* profile.h - the emitter's model: province-level probabilities (calibrated
 * to land near the plan's targets) and one profile per unit derived from the
 * seed, some ahead of the targets and some far behind (pure, no I/O).
 *
 * Each indicator i of common/indicators.h has a configured province-level
 * probability p[i]: the share of its denominator that falls in its numerator
 * (online channel, components digitized, ..., satisfied).  A unit's
 * log-odds are  spread * (k[i] * maturity + noise)  plus a per-indicator shift
 * found by bisection so that the volume-weighted mean over the units equals
 * p[i] exactly (the weights are the units' shares of the indicator's
 * denominator: dossiers, or expected payments for online_payment).  With
 * trend != 0 the log-odds move by trend per month from the centre month, so a
 * range's average lands near, not exactly on, p[i]. */
#ifndef EMIT_PROFILE_H
#define EMIT_PROFILE_H

#include "err.h"
#include "indicators.h"
#include "unitlist.h"

typedef struct {
    double p[TTHC_INDICATOR_COUNT]; /* configured province-level probabilities */
    double postal_share;            /* share of non-online dossiers sent by post */
    double p_issue;                 /* a result is issued (others are withdrawn or stopped) */
    double p_due;                   /* the dossier carries a due_at */
    double p_rated;                 /* an issued dossier gets a rating */
    double spread;                  /* scale of the differences between units (0: all alike) */
    double trend;                   /* log-odds change per month from the centre month */
    double channel_lift;            /* 0..1: id tagging, online payment and e-results lean to online dossiers */
} emit_model;

typedef enum { EMIT_TIER_TYPICAL = 0, EMIT_TIER_LEADER, EMIT_TIER_LAGGARD } emit_tier;

typedef struct {
    double weight;   /* share of the province's dossiers; the weights sum to 1 */
    double maturity; /* > 0 ahead, < 0 behind */
    emit_tier tier;
    double logit[TTHC_INDICATOR_COUNT]; /* calibrated log-odds at the centre month */
    double pay_mean;                    /* expected payments per dossier */
} emit_profile;

void emit_model_defaults(emit_model *m);

/* Overrides configured probabilities from "code=0.64,code=0.9" (codes of the
 * indicator catalogue; values in [0, 1]). */
tthc_rc emit_model_set_rates(emit_model *m, const char *spec, tthc_err *err) TTHC_MUSTCHECK;

/* Fills out[0..units->n-1]; deterministic in (seed, unit codes, kinds, model). */
tthc_rc emit_profiles_build(const emit_model *m, const char *seed, const emit_unitlist *units, emit_profile *out,
                            tthc_err *err) TTHC_MUSTCHECK;

/* Probability of indicator i for a unit, months_from_centre months after the centre month. */
double emit_profile_p(const emit_model *m, const emit_profile *pr, int i, double months_from_centre);

/* Volume-weighted province expectation of indicator i at the centre month. */
double emit_province_p(const emit_model *m, const emit_profile *pr, size_t n, int i);

/* Probability of a channel-dependent fact (q: the unit's marginal, s: its
 * online share) for an online or an offline dossier; s*q_on + (1-s)*q_off = q. */
double emit_lift(double q, double s, double lift, int online);

const char *emit_tier_name(emit_tier t);

#endif
