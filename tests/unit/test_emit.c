/* test_emit.c - the emitter's pure parts (services/emit): random streams,
 * calendar, units, calibrated profiles, lifecycles, encoding and the stream's
 * knobs (linked with tthc_emit_core). */
#include "emit/calendar.h"
#include "emit/encode.h"
#include "emit/lifecycle.h"
#include "emit/profile.h"
#include "emit/rng.h"
#include "emit/stream.h"
#include "unitlist.h" /* common/ */

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "event.h"
#include "timeutil.h"

/* ---- rng ------------------------------------------------------------------ */

static void test_rng(void)
{
    emit_rng a, b, c, d;
    emit_rng_init(&a, "h61", "dossier", 7);
    emit_rng_init(&b, "h61", "dossier", 7);
    emit_rng_init(&c, "h62", "dossier", 7);
    emit_rng_init(&d, "h61", "dossier", 8);
    int same = 1, diff_seed = 0, diff_index = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = emit_rng_u64(&a), y = emit_rng_u64(&b);
        same &= x == y;
        diff_seed += x != emit_rng_u64(&c);
        diff_index += x != emit_rng_u64(&d);
    }
    CHECK(same, "same seed, stream and index give the same numbers");
    CHECK(diff_seed == 1000, "another seed gives other numbers (%d of 1000 differ)", diff_seed);
    CHECK(diff_index == 1000, "another index gives other numbers (%d of 1000 differ)", diff_index);

    /* A golden value: a change of the generator changes every stream. */
    emit_rng g;
    emit_rng_init(&g, "h61", "arrivals", 0);
    uint64_t first = emit_rng_u64(&g);
    emit_rng_init(&g, "h61", "arrivals", 0);
    CHECK(first == emit_rng_u64(&g), "re-seeding restarts the stream");
    CHECK(emit_fnv1a(EMIT_FNV_BASIS, "") == EMIT_FNV_BASIS, "FNV-1a of the empty string is the basis");
    CHECK(emit_fnv1a(EMIT_FNV_BASIS, "a") == 0xaf63dc4c8601ec8cULL, "FNV-1a('a') is the published value");

    emit_rng r;
    emit_rng_init(&r, "bounds", "x", 0);
    int ok = 1, hit_lo = 0, hit_hi = 0;
    for (int i = 0; i < 20000; i++) {
        int64_t v = emit_rng_range(&r, -3, 3);
        ok &= v >= -3 && v <= 3;
        hit_lo |= v == -3;
        hit_hi |= v == 3;
        double u = emit_rng_unit(&r);
        ok &= u >= 0 && u < 1;
    }
    CHECK(ok && hit_lo && hit_hi, "range stays within [lo, hi] and reaches both ends");
    CHECK_INT(emit_rng_range(&r, 5, 5), 5);
    int never = 0, always = 0;
    for (int i = 0; i < 1000; i++) {
        never += emit_rng_chance(&r, 0.0);
        always += emit_rng_chance(&r, 1.0);
    }
    CHECK(never == 0 && always == 1000, "chance(0) never, chance(1) always");

    /* Means: uniform 0.5, normal 0, Poisson lambda (4.5 standard errors). */
    double su = 0, sn = 0, sp = 0, sp_big = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        su += emit_rng_unit(&r);
        sn += emit_rng_normal(&r);
        sp += (double)emit_rng_poisson(&r, 4.0);
        if (i < 20000) sp_big += (double)emit_rng_poisson(&r, 1000.0);
    }
    CHECK(fabs(su / n - 0.5) < 4.5 * sqrt(1.0 / 12 / n), "uniform mean %f", su / n);
    CHECK(fabs(sn / n) < 4.5 * sqrt(1.0 / n), "normal mean %f", sn / n);
    CHECK(fabs(sp / n - 4.0) < 4.5 * sqrt(4.0 / n), "Poisson(4) mean %f", sp / n);
    CHECK(fabs(sp_big / 20000 - 1000.0) < 4.5 * sqrt(1000.0 / 20000), "Poisson(1000) mean %f", sp_big / 20000);
    double w[4] = {0, 1, 0, 3};
    int counts[4] = {0};
    for (int i = 0; i < 40000; i++) counts[emit_rng_pick(&r, w, 4)]++;
    CHECK(counts[0] == 0 && counts[2] == 0, "zero weights are never picked");
    CHECK(fabs(counts[3] / 40000.0 - 0.75) < 0.01, "weights are honoured (%d of 40000)", counts[3]);
}

/* ---- calendar ------------------------------------------------------------------ */

static int64_t day_of(const char *s)
{
    int64_t d = -1;
    if (emit_parse_day(s, &d, NULL)) return -1;
    return d;
}

static void test_calendar(void)
{
    int64_t d;
    CHECK(emit_parse_day("2025-07-01", &d, NULL) == TTHC_OK && d == tthc_days_from_civil(2025, 7, 1), "parses a date");
    tthc_err e = {{0}};
    CHECK(emit_parse_day("2025-02-29", &d, &e) == TTHC_EINVAL && !strncmp(e.msg, "must be ", 8),
          "2025-02-29 does not exist: '%s'", e.msg);
    CHECK(emit_parse_day("2024-02-29", &d, NULL) == TTHC_OK, "2024-02-29 exists");
    CHECK(emit_parse_day("2025-7-1x", &d, NULL) != 0 && emit_parse_day("", &d, NULL) != 0 &&
              emit_parse_day("2025-07-01 ", &d, NULL) != 0,
          "rejects malformed dates");
    CHECK_INT(emit_weekday(day_of("2025-07-01")), 1); /* a Tuesday */
    CHECK_INT(emit_weekday(day_of("2025-07-06")), 6); /* a Sunday */
    CHECK(emit_is_holiday(day_of("2025-09-02")) && !emit_is_working_day(day_of("2025-09-01")), "National Day is off");
    CHECK(emit_is_working_day(day_of("2025-09-03")), "3 September 2025 is a working day");
    CHECK(!emit_is_working_day(day_of("2026-02-17")), "Tết 2026 is off");
    /* Friday 29/8/2025 + 1 working day: the weekend and 1-2/9 are skipped. */
    CHECK_INT(emit_add_working_days(day_of("2025-08-29"), 1), day_of("2025-09-03"));
    CHECK_INT(emit_add_working_days(day_of("2025-07-04"), 5), day_of("2025-07-11"));
    CHECK_INT(emit_add_working_days(day_of("2025-07-05"), 0), day_of("2025-07-07"));
    int64_t t = emit_day_at(day_of("2025-07-31"), 23 * 60 + 30);
    char out[40], month[8];
    tthc_format_vn(t, out, sizeof out);
    CHECK_STR(out, "2025-07-31T23:30:00+07:00");
    CHECK_INT(emit_day_of(t), day_of("2025-07-31"));
    CHECK_INT(emit_minute_of(t), 23 * 60 + 30);
    CHECK(tthc_cohort_month(t, month, NULL) == TTHC_OK, "month");
    CHECK_STR(month, "2025-07");
    emit_day_month(day_of("2025-12-31"), month);
    CHECK_STR(month, "2025-12");
}

/* ---- units ------------------------------------------------------------------ */

static void test_units(void)
{
    emit_unitlist l;
    tthc_err err = {{0}};
    CHECK(emit_unitlist_builtin(&l, &err) == TTHC_OK, "builtin: %s", err.msg);
    CHECK_INT(l.n, 144);
    int kinds[EMIT_KIND__COUNT] = {0}, valid = 1, unique = 1;
    for (size_t i = 0; i < l.n; i++) {
        kinds[l.v[i].kind]++;
        valid &= tthc_valid_unit_code(l.v[i].code) && !strncmp(l.v[i].code, "H61.", 4);
        unique &= emit_unitlist_find(&l, l.v[i].code) == (int)i;
    }
    CHECK(valid && unique, "built-in codes are valid H61 unit codes, each once");
    CHECK(kinds[EMIT_KIND_DEPARTMENT] == 20 && kinds[EMIT_KIND_WARD] == 19 && kinds[EMIT_KIND_COMMUNE] == 105,
          "20 departments, 19 wards, 105 communes (%d %d %d)", kinds[0], kinds[1], kinds[2]);
    CHECK_STR(l.v[0].code, "H61.01");
    CHECK_STR(l.v[19].code, "H61.20");
    CHECK_STR(l.v[20].code, "H61.101");
    CHECK_STR(l.v[143].code, "H61.224");

    /* Written, then read back: the same list. */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    emit_unitlist_write(&l, f);
    (void)fclose(f);
    emit_unitlist back;
    CHECK(emit_unitlist_parse(text, "mem", &back, &err) == TTHC_OK, "round trip: %s", err.msg);
    int same = back.n == l.n;
    for (size_t i = 0; same && i < l.n; i++)
        same = !strcmp(back.v[i].code, l.v[i].code) && !strcmp(back.v[i].name, l.v[i].name) &&
               back.v[i].kind == l.v[i].kind;
    CHECK(same, "written units read back equal");
    emit_unitlist_free(&back);
    free(text);
    emit_unitlist_free(&l);

    static const struct {
        const char *text, *msg;
    } bad[] = {
        {"H61.01\tSở A\n", "f:1: expected code<TAB>name<TAB>kind"},
        {"# c\n\nH61\tTỉnh\tother\n", "f:3: unit code must be"},
        {"H61.01\tA\tdepartment\nH61.01\tB\tward\n", "f:2: unit H61.01 listed twice"},
        {"H61.01\tA\tvillage\n", "f:1: kind must be"},
        {"H61.01\t\tward\n", "f:1: name must be"},
        {"H61.01\tA\tward\textra\n", "f:1: expected"},
        {"# only a comment\n", "f: no units"},
        {"H61.01\t\xC3\x28\tward\n", "f:1: name must be"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        emit_unitlist x;
        tthc_err e = {{0}};
        CHECK(emit_unitlist_parse(bad[i].text, "f", &x, &e) == TTHC_EINVAL && strstr(e.msg, bad[i].msg),
              "bad units file %zu: '%s'", i, e.msg);
    }
    emit_unitlist ok;
    CHECK(emit_unitlist_parse("H61.01\tSở Tư pháp\tdepartment\r\nX1.a.b\tB\tother\n", "f", &ok, &err) == TTHC_OK &&
              ok.n == 2 && ok.v[0].kind == EMIT_KIND_DEPARTMENT && ok.v[1].kind == EMIT_KIND_OTHER,
          "CRLF and other provinces are accepted: %s", err.msg);
    emit_unitlist_free(&ok);
}

/* ---- profiles ------------------------------------------------------------------ */

static void test_profiles(void)
{
    emit_model m;
    emit_model_defaults(&m);
    emit_unitlist l;
    tthc_err err = {{0}};
    CHECK(emit_unitlist_builtin(&l, &err) == TTHC_OK, "builtin");
    emit_profile *a = calloc(l.n, sizeof *a), *b = calloc(l.n, sizeof *b), *c = calloc(l.n, sizeof *c);
    CHECK(emit_profiles_build(&m, "h61", &l, a, &err) == TTHC_OK, "build: %s", err.msg);
    CHECK(emit_profiles_build(&m, "h61", &l, b, &err) == TTHC_OK, "build again");
    CHECK(emit_profiles_build(&m, "other", &l, c, &err) == TTHC_OK, "build with another seed");
    CHECK(!memcmp(a, b, l.n * sizeof *a), "profiles are deterministic in the seed");
    CHECK(memcmp(a, c, l.n * sizeof *a) != 0, "another seed gives other profiles");
    double wsum = 0;
    for (size_t u = 0; u < l.n; u++) wsum += a[u].weight;
    CHECK(fabs(wsum - 1) < 1e-9, "weights sum to 1 (%f)", wsum);
    /* Calibration: the weighted province mean is the configured probability. */
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++) {
        CHECK(fabs(emit_province_p(&m, a, l.n, i) - m.p[i]) < 1e-9, "%s calibrated: %f", tthc_indicators[i].code,
              emit_province_p(&m, a, l.n, i));
        CHECK(fabs(emit_province_p(&m, c, l.n, i) - m.p[i]) < 1e-9, "%s calibrated (other seed)",
              tthc_indicators[i].code);
    }
    /* Units differ: some ahead of the 60 % online target, some far behind. */
    int ahead = 0, behind = 0, leaders = 0, laggards = 0;
    for (size_t u = 0; u < l.n; u++) {
        double p = emit_profile_p(&m, &a[u], TTHC_IND_ONLINE_SUBMISSION, 0);
        ahead += p >= 0.8;
        behind += p <= 0.3;
        leaders += a[u].tier == EMIT_TIER_LEADER;
        laggards += a[u].tier == EMIT_TIER_LAGGARD;
    }
    CHECK(ahead >= 5 && behind >= 5, "units ahead (%d) and far behind (%d)", ahead, behind);
    CHECK(leaders >= 5 && laggards >= 5, "leaders %d, laggards %d", leaders, laggards);
    /* The trend moves a unit's probability month by month. */
    CHECK(emit_profile_p(&m, &a[0], 0, 3) > emit_profile_p(&m, &a[0], 0, 0) &&
              emit_profile_p(&m, &a[0], 0, 0) > emit_profile_p(&m, &a[0], 0, -3),
          "a positive trend improves the rates over the months");
    /* spread 0: every unit at the configured probability. */
    emit_model flat = m;
    flat.spread = 0;
    CHECK(emit_profiles_build(&flat, "h61", &l, c, &err) == TTHC_OK, "flat build");
    CHECK(fabs(emit_profile_p(&flat, &c[17], TTHC_IND_E_RESULT, 0) - m.p[TTHC_IND_E_RESULT]) < 1e-9,
          "spread 0 makes every unit equal");

    /* Configured rates. */
    emit_model r = m;
    CHECK(emit_model_set_rates(&r, "online_submission=0.7,satisfaction=1", &err) == TTHC_OK, "set rates: %s", err.msg);
    CHECK(r.p[TTHC_IND_ONLINE_SUBMISSION] == 0.7 && r.p[TTHC_IND_SATISFACTION] == 1.0, "rates set");
    CHECK(emit_profile_p(&r, &a[3], TTHC_IND_SATISFACTION, 5) == 1.0, "probability 1 is certain");
    const char *bad[] = {"online=0.5", "online_submission=1.5", "online_submission", "e_result=x", "e_result=", "=0.5"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        emit_model x = m;
        tthc_err e = {{0}};
        CHECK(emit_model_set_rates(&x, bad[i], &e) == TTHC_EINVAL && strstr(e.msg, "--rates"), "bad rates '%s': %s",
              bad[i], e.msg);
    }

    /* The channel lift keeps the unit's marginal probability. */
    int keeps = 1, leans = 1;
    for (double q = 0.05; q < 1; q += 0.1)
        for (double s = 0.05; s < 1; s += 0.1) {
            double on = emit_lift(q, s, 0.5, 1), off = emit_lift(q, s, 0.5, 0);
            keeps &= fabs(s * on + (1 - s) * off - q) < 1e-12 && on >= 0 && on <= 1 && off >= 0 && off <= 1;
            leans &= on >= off;
        }
    CHECK(keeps && leans, "lift: s*q_on + (1-s)*q_off = q, online >= offline");
    free(a);
    free(b);
    free(c);
    emit_unitlist_free(&l);
}

/* ---- lifecycles and encoding ------------------------------------------------------------------ */

static tthc_rc parse_sb(const tthc_sb *sb, tthc_event *ev, tthc_reject *rej)
{
    return tthc_event_parse(sb->p, sb->len, ev, rej, NULL);
}

static void test_lifecycles(void)
{
    emit_model m;
    emit_model_defaults(&m);
    emit_unitlist l;
    tthc_err err = {{0}};
    CHECK(emit_unitlist_builtin(&l, &err) == TTHC_OK, "builtin");
    emit_profile *pr = calloc(l.n, sizeof *pr);
    CHECK(emit_profiles_build(&m, "life", &l, pr, &err) == TTHC_OK, "profiles");
    int64_t day = day_of("2025-07-03");
    tthc_sb sb;
    tthc_sb_init(&sb, TTHC_EVENT_MAX_BYTES);
    int sorted = 1, first_received = 1, valid = 1, consistent = 1, hours = 1, pays = 1, same = 1;
    int issued = 0, with_due = 0, on_time = 0, payments[3] = {0};
    const int n = 3000;
    for (int i = 0; i < n; i++) {
        uint32_t u = (uint32_t)(i % l.n);
        emit_rng r1, r2;
        emit_rng_init(&r1, "life", "dossier", (uint64_t)i);
        emit_rng_init(&r2, "life", "dossier", (uint64_t)i);
        emit_dossier d, d2;
        emit_lifecycle(&m, &l.v[u], u, &pr[u], day, 0, (uint64_t)i + 1, &r1, &d);
        emit_lifecycle(&m, &l.v[u], u, &pr[u], day, 0, (uint64_t)i + 1, &r2, &d2);
        /* NOLINTNEXTLINE(bugprone-suspicious-memory-comparison): one deterministic function filled both */
        same &= !memcmp(&d, &d2, sizeof d);
        first_received &= d.nev >= 1 && d.ev[0].type == TTHC_EV_RECEIVED && d.ev[0].at == d.received_at;
        int64_t minute = emit_minute_of(d.received_at);
        hours &= emit_day_of(d.received_at) == day && minute >= 7 * 60 && minute < 22 * 60;
        int npay = 0, has_result = 0;
        for (int k = 0; k < d.nev; k++) {
            const emit_event *e = &d.ev[k];
            sorted &= e->seq == k + 1 && (k == 0 || e->at >= d.ev[k - 1].at) && (k == 0 || e->at > d.received_at);
            npay += e->type == TTHC_EV_PAID;
            has_result += e->type == TTHC_EV_RESULT_ISSUED;
            if ((e->type == TTHC_EV_SYNCED || e->type == TTHC_EV_RATED ||
                 (e->type == TTHC_EV_DIGITIZED && e->scope == TTHC_SCOPE_RESULT)) &&
                (!d.issued || e->at <= d.finished_at))
                consistent = 0;
            tthc_sb_reset(&sb);
            tthc_event ev;
            tthc_reject rej;
            if (emit_encode(&d, e, l.v[u].code, "test", &sb, &err) || parse_sb(&sb, &ev, &rej)) {
                if (valid) fprintf(stderr, "invalid: %.*s (%s %s)\n", (int)sb.len, sb.p, rej.field, rej.detail);
                valid = 0;
                continue;
            }
            valid &= ev.type == e->type && !strcmp(ev.dossier_id, d.id) && ev.occurred_at == e->at;
            if (e->type == TTHC_EV_RECEIVED)
                valid &= !strcmp(ev.unit_code, l.v[u].code) && ev.channel == d.channel && ev.has_due == d.has_due &&
                         ev.received_at == d.received_at && (!d.has_due || ev.due_at == d.due_at);
            if (e->type == TTHC_EV_RESULT_ISSUED)
                valid &= ev.finished_at == d.finished_at && ev.electronic == e->electronic;
            if (e->type == TTHC_EV_PAID) valid &= ev.pay_online == e->pay_online && ev.amount_vnd == e->amount_vnd;
        }
        pays &= npay <= 2;
        payments[npay < 3 ? npay : 2]++;
        consistent &= has_result == (d.issued ? 1 : 0);
        if (d.issued) {
            issued++;
            consistent &= d.finished_at > d.received_at;
            if (d.has_due) {
                with_due++;
                on_time += d.finished_at <= d.due_at;
            }
        }
        if (d.has_due) consistent &= d.due_at > d.received_at && emit_minute_of(d.due_at) == 17 * 60;
    }
    CHECK(same, "a dossier is a pure function of its random stream");
    CHECK(first_received, "dossier.received comes first, at received_at");
    CHECK(sorted, "events sorted by time, numbered 1..n");
    CHECK(hours, "receipts on the day, 07:00-22:00");
    CHECK(valid, "every event passes the contract's validator with the generated values");
    CHECK(consistent, "result facts only after a result, one result at most, due_at at 17:00 after receipt");
    CHECK(pays && payments[0] > 0 && payments[1] > 0 && payments[2] > 0, "0, 1 and 2 payments all occur (%d %d %d)",
          payments[0], payments[1], payments[2]);
    CHECK(fabs((double)issued / n - m.p_issue) < 4.5 * sqrt(m.p_issue * (1 - m.p_issue) / n), "issued share %f",
          (double)issued / n);
    CHECK(on_time > with_due * 0.8 && on_time < with_due, "mostly on time, not always (%d of %d)", on_time, with_due);

    /* Every malformed kind is rejected with the reason the DLQ must carry. */
    emit_rng r;
    emit_rng_init(&r, "bad", "dossier", 0);
    emit_dossier d;
    emit_lifecycle(&m, &l.v[30], 30, &pr[30], day, 0, 1, &r, &d);
    for (int k = 0; k < EMIT_BAD__COUNT; k++)
        for (int e = 0; e < d.nev; e++) {
            tthc_sb_reset(&sb);
            tthc_event ev;
            tthc_reject rej;
            CHECK(emit_encode_bad((emit_bad_kind)k, &d, &d.ev[e], l.v[30].code, "test", &sb, &err) == TTHC_OK,
                  "encode bad");
            int rc = parse_sb(&sb, &ev, &rej);
            CHECK(rc != 0 && rej.reason == emit_bad_reason((emit_bad_kind)k), "malformed %s of event %d: %s",
                  emit_bad_name((emit_bad_kind)k), e, rc ? tthc_reject_reason_name(rej.reason) : "accepted");
            CHECK(!memchr(sb.p, '\n', sb.len) && !memchr(sb.p, '\t', sb.len), "no newline or tab in a message");
        }
    tthc_sb_free(&sb);
    free(pr);
    emit_unitlist_free(&l);
}

/* ---- the stream ------------------------------------------------------------------ */

typedef struct {
    uint64_t hash;
    int64_t messages, bad, dups, late;
    int order_kept;
    int64_t last_received_day;
} digest;

/* Digest of a whole stream; checks that each dossier's messages keep their
 * order (event numbers never go down, except for late ones). */
static int run_stream(const emit_stream_config *cfg, const emit_model *m, const emit_unitlist *l, digest *dg,
                      emit_stats *st)
{
    memset(dg, 0, sizeof *dg);
    dg->hash = EMIT_FNV_BASIS;
    dg->order_kept = 1;
    dg->last_received_day = -1;
    emit_stream *s = NULL;
    tthc_err err = {{0}};
    if (emit_stream_new(cfg, m, l, &s, &err)) {
        fprintf(stderr, "stream: %s\n", err.msg);
        return -1;
    }
    /* last event number seen per dossier id (small open-addressing table) */
    enum { SLOTS = 1 << 17 };
    static char ids[SLOTS][TTHC_ID_MAX + 1];
    static int last[SLOTS];
    memset(ids, 0, sizeof ids);
    emit_msg msg;
    bool end = false;
    tthc_rc rc;
    while (!(rc = emit_stream_next(s, &msg, &end, &err)) && !end) {
        dg->hash = emit_fnv1a(emit_fnv1a(dg->hash, msg.key), msg.value);
        dg->messages++;
        if (msg.bad >= 0) {
            dg->bad++;
            continue;
        }
        dg->dups += msg.dup;
        dg->late += msg.late;
        tthc_event ev;
        tthc_reject rej;
        if (tthc_event_parse(msg.value, msg.len, &ev, &rej, NULL)) {
            fprintf(stderr, "stream: invalid message %s\n", msg.value);
            dg->order_kept = 0;
            continue;
        }
        if (ev.type == TTHC_EV_RECEIVED && emit_day_of(ev.received_at) > dg->last_received_day)
            dg->last_received_day = emit_day_of(ev.received_at);
        int seq = atoi(strrchr(ev.event_id, ':') + 1);
        size_t h = emit_fnv1a(EMIT_FNV_BASIS, ev.dossier_id) & (SLOTS - 1);
        while (ids[h][0] && strcmp(ids[h], ev.dossier_id)) h = (h + 1) & (SLOTS - 1);
        if (!ids[h][0]) {
            snprintf(ids[h], sizeof ids[h], "%s", ev.dossier_id);
            last[h] = 0;
        }
        if (!msg.late && cfg->late_rate == 0 && seq < last[h] && !msg.dup) dg->order_kept = 0;
        if (!msg.late && seq > last[h]) last[h] = seq;
    }
    emit_stream_stats(s, st);
    emit_stream_free(s);
    if (rc) fprintf(stderr, "stream: %s (%s)\n", err.msg, tthc_rc_name(rc));
    return rc ? -1 : 0;
}

static void test_stream(void)
{
    emit_model m;
    emit_model_defaults(&m);
    emit_unitlist l;
    tthc_err err = {{0}};
    CHECK(emit_unitlist_builtin(&l, &err) == TTHC_OK, "builtin");
    emit_stream_config cfg = {
        .seed = "s1",
        .from_day = day_of("2025-07-01"),
        .to_day = -1,
        .max_dossiers = 3000,
        .per_day = 400,
        .reorder_window = 50,
        .dup_rate = 0.05,
        .malformed_rate = 0.01,
        .centre_month = 2025 * 12 + 6,
        .source = "test",
        .self_check = true,
    };
    digest a, b, c;
    emit_stats sa, sb, sc;
    CHECK(run_stream(&cfg, &m, &l, &a, &sa) == 0, "stream a");
    CHECK(run_stream(&cfg, &m, &l, &b, &sb) == 0, "stream b");
    CHECK(a.hash == b.hash && a.messages == b.messages, "same seed: the same stream");
    CHECK(sa.dossiers == 3000, "--dossiers: %lld dossiers", (long long)sa.dossiers);
    CHECK(a.order_kept, "reordering keeps each dossier's own order");
    CHECK(a.bad == sa.malformed && a.bad > 0 && a.dups == sa.dups && a.dups > 0, "malformed %lld, dups %lld",
          (long long)a.bad, (long long)a.dups);
    CHECK(sa.totals.c[TTHC_C_RECEIVED] == 3000, "self-check totals: every dossier received once (%lld)",
          (long long)sa.totals.c[TTHC_C_RECEIVED]);
    CHECK(fabs((double)sa.dups / (double)sa.events - 0.05) < 4.5 * sqrt(0.05 * 0.95 / (double)sa.events),
          "duplicate share %f", (double)sa.dups / (double)sa.events);

    emit_stream_config other = cfg;
    other.seed = "s2";
    CHECK(run_stream(&other, &m, &l, &c, &sc) == 0, "stream c");
    CHECK(c.hash != a.hash, "another seed: another stream");

    /* The knobs do not change the dossiers: without them, the same totals. */
    emit_stream_config plain = cfg;
    plain.reorder_window = 0;
    plain.dup_rate = 0;
    plain.malformed_rate = 0;
    CHECK(run_stream(&plain, &m, &l, &c, &sc) == 0, "plain stream");
    CHECK(!memcmp(&sc.totals, &sa.totals, sizeof sc.totals), "knobs leave the totals unchanged");
    CHECK(c.dups == 0 && c.bad == 0 && c.messages == sc.events, "no knobs: only events");

    /* Late messages: held back, totals unchanged. */
    emit_stream_config late = plain;
    late.late_rate = 0.05;
    CHECK(run_stream(&late, &m, &l, &c, &sc) == 0, "late stream");
    CHECK(c.late > 0 && !memcmp(&sc.totals, &sa.totals, sizeof sc.totals), "late messages (%lld) change no total",
          (long long)c.late);

    /* --events: a hard stop, even in the middle of lifecycles. */
    emit_stream_config few = cfg;
    few.max_messages = 777;
    CHECK(run_stream(&few, &m, &l, &c, &sc) == 0 && c.messages == 777, "--events 777: %lld", (long long)c.messages);

    /* --to: no receipt after the last day; lifecycles still complete. */
    emit_stream_config range = plain;
    range.max_dossiers = 0;
    range.per_day = 50;
    range.to_day = day_of("2025-07-31");
    CHECK(run_stream(&range, &m, &l, &c, &sc) == 0, "range stream");
    CHECK(c.last_received_day <= range.to_day && c.last_received_day >= day_of("2025-07-28"), "receipts stop at --to");
    CHECK(sc.totals.c[TTHC_C_ISSUED] > 0 && sc.queued == 0, "the range's lifecycles complete");

    /* Bad configurations. */
    emit_stream *s = NULL;
    emit_stream_config zero = cfg;
    zero.per_day = 0;
    CHECK(emit_stream_new(&zero, &m, &l, &s, &err) == TTHC_EINVAL && !s, "per_day 0 is refused");
    emit_unitlist_free(&l);
}

int main(void)
{
    test_rng();
    test_calendar();
    test_units();
    test_profiles();
    test_lifecycles();
    test_stream();
    return CHECK_DONE();
}
