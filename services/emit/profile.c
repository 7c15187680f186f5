#include "profile.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lifecycle.h"
#include "rng.h"

/* How strongly a unit's maturity moves each indicator (catalogue order). */
static const double sensitivity[TTHC_INDICATOR_COUNT] = {0.9, 0.8, 0.8, 1.1, 0.9, 0.8, 0.8, 1.2, 0.7, 0.5};

void emit_model_defaults(emit_model *m)
{
    /* Near the targets of plan 18/KH-UBND section III, not on them:
     * online 60 (and 80), digitized 80, e-result 100, id-tagged 40 (and 100),
     * reuse >= 50, online payment 60, synced 100, satisfaction >= 90. */
    static const double p[TTHC_INDICATOR_COUNT] = {
        0.64,  /* online_submission: met 60, behind 80 */
        0.775, /* digitized_dossier: slightly behind 80 */
        0.825, /* digitized_result: met 80 */
        0.955, /* e_result: behind 100 */
        0.46,  /* id_tagged: met 40, far behind 100 */
        0.48,  /* data_reused: slightly behind 50 */
        0.62,  /* online_payment: met 60 */
        0.975, /* portal_synced: behind 100 */
        0.94,  /* on_time: no target */
        0.925, /* satisfaction: met 90 */
    };
    memcpy(m->p, p, sizeof p);
    m->postal_share = 0.08;
    m->p_issue = 0.97;
    m->p_due = 0.95;
    m->p_rated = 0.35;
    m->spread = 1.0;
    m->trend = 0.06;
    m->channel_lift = 0.5;
}

tthc_rc emit_model_set_rates(emit_model *m, const char *spec, tthc_err *err)
{
    const char *p = spec;
    while (p && *p) {
        const char *end = strchr(p, ','), *eq = strchr(p, '=');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (!eq || eq >= p + len)
            return tthc_fail(err, TTHC_EINVAL, "--rates: expected code=probability, got '%.*s'", (int)len, p);
        char code[64];
        size_t cl = (size_t)(eq - p);
        if (cl >= sizeof code) return tthc_fail(err, TTHC_EINVAL, "--rates: unknown indicator '%.*s'", (int)cl, p);
        memcpy(code, p, cl);
        code[cl] = '\0';
        int i = tthc_indicator_find(code);
        if (i < 0) return tthc_fail(err, TTHC_EINVAL, "--rates: unknown indicator '%s'", code);
        char num[32];
        size_t nl = len - cl - 1;
        if (nl == 0 || nl >= sizeof num) return tthc_fail(err, TTHC_EINVAL, "--rates: bad value for %s", code);
        memcpy(num, eq + 1, nl);
        num[nl] = '\0';
        char *e = NULL;
        double v = strtod(num, &e);
        if (e == num || *e || !(v >= 0 && v <= 1))
            return tthc_fail(err, TTHC_EINVAL, "--rates: %s must be a probability in [0, 1], got '%s'", code, num);
        m->p[i] = v;
        p = end ? end + 1 : NULL;
    }
    return TTHC_OK;
}

const char *emit_tier_name(emit_tier t)
{
    return t == EMIT_TIER_LEADER ? "leader" : t == EMIT_TIER_LAGGARD ? "laggard" : "typical";
}

static double sigmoid(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static double clamp_logit(double x)
{
    return x > 40 ? 40 : x < -40 ? -40 : x;
}

double emit_profile_p(const emit_model *m, const emit_profile *pr, int i, double months_from_centre)
{
    if (m->p[i] >= 1.0) return 1.0;
    if (m->p[i] <= 0.0) return 0.0;
    return sigmoid(clamp_logit(pr->logit[i] + m->trend * months_from_centre));
}

/* The weight of a unit in indicator i's denominator. */
static double den_weight(const emit_profile *pr, int i)
{
    return i == TTHC_IND_ONLINE_PAYMENT ? pr->weight * pr->pay_mean : pr->weight;
}

double emit_province_p(const emit_model *m, const emit_profile *pr, size_t n, int i)
{
    double num = 0, den = 0;
    for (size_t u = 0; u < n; u++) {
        double w = den_weight(&pr[u], i);
        num += w * emit_profile_p(m, &pr[u], i, 0);
        den += w;
    }
    return den > 0 ? num / den : 0;
}

double emit_lift(double q, double s, double lift, int online)
{
    if (s <= 0 || s >= 1 || lift <= 0) return q;
    double room = fmin((1 - q) / (1 - s), q / s), d = fmin(lift, 1.0) * room;
    double v = online ? q + d * (1 - s) : q - d * s;
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

static void draw_unit(const emit_model *m, const char *seed, const emit_unit *u, emit_profile *pr, double *noise)
{
    static const double kind_offset[EMIT_KIND__COUNT] = {0.25, 0.3, -0.2, 0.0};
    static const double kind_volume[EMIT_KIND__COUNT] = {1.6, 1.3, 1.0, 1.0};
    emit_rng r;
    emit_rng_init(&r, seed, "unit", emit_fnv1a(EMIT_FNV_BASIS, u->code));
    double t = emit_rng_unit(&r);
    if (t < 0.12) {
        pr->tier = EMIT_TIER_LAGGARD;
        pr->maturity = -1.6 - emit_rng_unit(&r);
    } else if (t < 0.30) {
        pr->tier = EMIT_TIER_LEADER;
        pr->maturity = 0.9 + 0.9 * emit_rng_unit(&r);
    } else {
        pr->tier = EMIT_TIER_TYPICAL;
        pr->maturity = 0.45 * emit_rng_normal(&r);
    }
    pr->maturity += kind_offset[u->kind];
    pr->weight = kind_volume[u->kind] * exp(0.45 * emit_rng_normal(&r));
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) noise[i] = 0.35 * emit_rng_normal(&r);
    pr->pay_mean = emit_kind_pay_mean(u->kind);
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        pr->logit[i] = m->spread * (sensitivity[i] * pr->maturity + noise[i]);
}

/* Shift of indicator i's log-odds so that the weighted mean is m->p[i]. */
static void calibrate(const emit_model *m, emit_profile *pr, size_t n, int i)
{
    double target = m->p[i];
    if (target <= 0 || target >= 1) return; /* handled by emit_profile_p */
    double lo = -60, hi = 60;
    for (int it = 0; it < 200; it++) {
        double mid = (lo + hi) / 2, num = 0, den = 0;
        for (size_t u = 0; u < n; u++) {
            double w = den_weight(&pr[u], i);
            num += w * sigmoid(clamp_logit(pr[u].logit[i] + mid));
            den += w;
        }
        if (num / den < target) lo = mid;
        else hi = mid;
    }
    double shift = (lo + hi) / 2;
    for (size_t u = 0; u < n; u++) pr[u].logit[i] = clamp_logit(pr[u].logit[i] + shift);
}

tthc_rc emit_profiles_build(const emit_model *m, const char *seed, const emit_unitlist *units, emit_profile *out,
                            tthc_err *err)
{
    if (!units->n) return tthc_fail(err, TTHC_EINVAL, "no units");
    double total = 0, noise[TTHC_INDICATOR_COUNT];
    for (size_t u = 0; u < units->n; u++) {
        draw_unit(m, seed, &units->v[u], &out[u], noise);
        total += out[u].weight;
    }
    for (size_t u = 0; u < units->n; u++) out[u].weight /= total;
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) calibrate(m, out, units->n, i);
    return TTHC_OK;
}
