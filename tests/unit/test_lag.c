/* test_lag.c - lag seconds (tthc_lag_ring) and Burrow's rules (tthc_burrow_*). */
#include <math.h>
#include <stdint.h>

#include "check.h"
#include "lag.h"

#define NO_TS (-1.0)
#define MAXS  24

/* ---- lag seconds ---- */

typedef struct {
    const char *name;
    struct {
        int64_t log_end;
        double t;
    } s[MAXS];
    int n;
    int64_t c;
    double now, next_ts, want;
} ring_case;

static const ring_case ring_cases[] = {
    {"caught up: C = log end", {{100, 0}, {200, 10}}, 2, 200, 20, NO_TS, 0},
    {"caught up: C past log end", {{100, 0}, {200, 10}}, 2, 250, 20, NO_TS, 0},
    {"caught up even with a message timestamp", {{100, 0}, {200, 10}}, 2, 200, 20, 1.0, 0},
    /* log end passed 149 (reached 150) half-way between the samples */
    {"interpolated: middle", {{100, 0}, {200, 10}}, 2, 149, 20, NO_TS, 15},
    {"interpolated: first message after a sample", {{100, 0}, {200, 10}}, 2, 100, 20, NO_TS, 19.9},
    {"interpolated: last message before a sample", {{100, 0}, {200, 10}}, 2, 199, 20, NO_TS, 10},
    {"interpolated: second interval", {{0, 0}, {100, 10}, {300, 20}}, 3, 249, 30, NO_TS, 12.5},
    {"interpolated: the message timestamp is not needed", {{100, 0}, {200, 10}}, 2, 149, 20, 0.0, 15},
    {"older than the ring: age of the oldest sample", {{100, 900}, {200, 910}}, 2, 50, 1000, NO_TS, 100},
    {"older than the ring: older message timestamp wins", {{100, 900}, {200, 910}}, 2, 50, 1000, 500, 500},
    {"older than the ring: a too recent timestamp cannot lower it", {{100, 900}, {200, 910}}, 2, 50, 1000, 950, 100},
    {"older than the ring: timestamp in the future", {{100, 900}, {200, 910}}, 2, 50, 1000, 5000, 100},
    {"empty ring, no timestamp", {{0, 0}}, 0, 5, 100, NO_TS, 0},
    {"empty ring, message timestamp", {{0, 0}}, 0, 5, 100, 40, 60},
    {"empty ring, timestamp in the future", {{0, 0}}, 0, 5, 100, 400, 0},
    {"clock skew: now before the samples", {{100, 50}, {200, 60}}, 2, 150, 10, NO_TS, 0},
    {"clock skew: now before the oldest sample", {{100, 50}, {200, 60}}, 2, 10, 10, NO_TS, 0},
    {"negative consumer offset counts as 0", {{0, 0}, {100, 10}}, 2, -1001, 20, NO_TS, 19.9},
    /* the log end went backwards: the ring restarts at (5, 20) */
    {"log end reset clears the ring", {{1000, 0}, {2000, 10}, {5, 20}, {10, 30}}, 4, 7, 40, NO_TS, 14},
    {"log end reset: older than the new ring", {{1000, 0}, {2000, 10}, {5, 20}, {10, 30}}, 4, 2, 40, NO_TS, 20},
    /* the clock stepped back: (200, 5) is taken as (200, 10) */
    {"time going backwards is raised", {{100, 10}, {200, 5}}, 2, 150, 20, NO_TS, 10},
    /* a run of equal log ends keeps its first and last sample: (100, 0), (100, 20), (110, 30) */
    {"idle run then traffic", {{100, 0}, {100, 10}, {100, 20}, {110, 30}}, 4, 105, 30, NO_TS, 4},
    {"idle run: offset before the run", {{50, 0}, {100, 5}, {100, 10}, {100, 20}}, 4, 99, 30, NO_TS, 25},
    {"single sample, C inside is older", {{100, 10}}, 1, 40, 30, NO_TS, 20},
    {"non-finite now", {{100, 0}, {200, 10}}, 2, 150, NAN, NO_TS, 0},
    {"infinite now", {{100, 0}, {200, 10}}, 2, 150, INFINITY, NO_TS, 0},
    {"NaN message timestamp is unknown", {{100, 900}, {200, 910}}, 2, 50, 1000, NAN, 100},
    {"NaN sample time is ignored", {{100, 0}, {150, NAN}, {200, 10}}, 3, 149, 20, NO_TS, 15},
    {"negative log end is ignored", {{100, 0}, {-1, 5}, {200, 10}}, 3, 149, 20, NO_TS, 15},
};

static void fill_ring(tthc_lag_ring *r, const ring_case *c)
{
    tthc_lag_ring_init(r);
    for (int i = 0; i < c->n; i++) tthc_lag_ring_add(r, c->s[i].log_end, c->s[i].t);
}

static void test_ring_table(void)
{
    static tthc_lag_ring r;
    for (size_t i = 0; i < sizeof ring_cases / sizeof ring_cases[0]; i++) {
        const ring_case *c = &ring_cases[i];
        fill_ring(&r, c);
        double got = tthc_lag_seconds(&r, c->c, c->now, c->next_ts);
        CHECK(fabs(got - c->want) < 1e-9, "%s: got %.9g, want %.9g", c->name, got, c->want);
    }
}

static void test_ring_details(void)
{
    static tthc_lag_ring r;
    int64_t le = -1;
    double t = -1;
    tthc_lag_ring_init(&r);
    CHECK(!tthc_lag_ring_newest(&r, &le, &t) && !tthc_lag_ring_oldest(&r, NULL, NULL), "empty ring has no sample");
    tthc_lag_ring_add(&r, 100, 0);
    tthc_lag_ring_add(&r, 100, 10);
    tthc_lag_ring_add(&r, 100, 20);
    tthc_lag_ring_add(&r, 100, 30);
    CHECK_INT(tthc_lag_ring_len(&r), 2); /* a run keeps two samples */
    CHECK(tthc_lag_ring_newest(&r, &le, &t) && le == 100 && t == 30, "newest (%lld, %g)", (long long)le, t);
    tthc_lag_ring_add(&r, 90, 40);
    CHECK_INT(tthc_lag_ring_len(&r), 1); /* reset */

    /* Overflow: the 120 newest of 200 samples remain. */
    tthc_lag_ring_init(&r);
    for (int i = 0; i < 200; i++) tthc_lag_ring_add(&r, (int64_t)i * 10, i);
    CHECK_INT(tthc_lag_ring_len(&r), TTHC_LAG_RING_CAP);
    CHECK(tthc_lag_ring_oldest(&r, &le, &t) && le == 800 && t == 80, "oldest (%lld, %g)", (long long)le, t);
    double got = tthc_lag_seconds(&r, 500, 200, NO_TS); /* oldest kept: (800, 80) */
    CHECK(fabs(got - 120) < 1e-9, "overflow, older than ring: %g", got);
    got = tthc_lag_seconds(&r, 1005, 200, NO_TS); /* between (1000, 100) and (1010, 101) */
    CHECK(fabs(got - 99.4) < 1e-9, "overflow, interpolated: %g", got);
}

/* Random walks with skew, jumps and resets: never negative, never NaN, 0 when caught up. */
static void test_ring_random(void)
{
    static tthc_lag_ring r;
    uint64_t x = 88172645463325252ull;
#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
    int bad = 0, zero_bad = 0;
    for (int run = 0; run < 200; run++) {
        tthc_lag_ring_init(&r);
        int64_t le = 0;
        double t = 1000;
        for (int k = 0; k < 300; k++) {
            switch (RND() % 10) {
            case 0: t -= (double)(RND() % 50); break;              /* clock steps back */
            case 1: le = (int64_t)(RND() % 100); break;            /* log reset */
            case 2: le += (int64_t)(RND() % 1000000000ull); break; /* big jump */
            default: le += (int64_t)(RND() % 20); t += (double)(RND() % 3);
            }
            tthc_lag_ring_add(&r, le, t);
            int64_t c = (int64_t)(RND() % (uint64_t)(le + 10)) - 5;
            double now = t + (double)(RND() % 200) - 100.0;
            double ts = (RND() % 3) ? -1.0 : now + (double)(RND() % 400) - 200.0;
            double v = tthc_lag_seconds(&r, c, now, ts);
            if (!isfinite(v) || v < 0) bad++;
            if (tthc_lag_seconds(&r, le + (int64_t)(RND() % 3), now, ts) != 0.0) zero_bad++;
        }
    }
#undef RND
    CHECK_INT(bad, 0);
    CHECK_INT(zero_bad, 0);
}

/* ---- Burrow ---- */

typedef struct {
    double t;
    int64_t offset, log_end;
    double commit_t;
} bsample;

typedef struct {
    const char *name;
    size_t size;
    bsample s[MAXS];
    int n;
    double now;
    tthc_partition_status want;
    bool evaluated;
} burrow_case;

#define U (-1.0) /* commit time unknown */

static const burrow_case burrow_cases[] = {
    {"empty window", 5, {{0, 0, 0, 0}}, 0, 10, TTHC_PARTITION_OK, false},
    {"incomplete with lag: not yet evaluated",
     5,
     {{1, 100, 150, 1}, {2, 100, 160, 1}, {3, 100, 170, 1}},
     3,
     3,
     TTHC_PARTITION_OK,
     false},
    {"incomplete and caught up: OK",
     5,
     {{1, 100, 150, 1}, {2, 140, 160, 2}, {3, 170, 170, 3}},
     3,
     3,
     TTHC_PARTITION_OK,
     true},
    {"caught up now", 3, {{1, 100, 150, U}, {2, 100, 160, U}, {3, 160, 160, U}}, 3, 3, TTHC_PARTITION_OK, true},
    {"consumer ahead of a stale log end counts as caught up",
     3,
     {{1, 100, 150, U}, {2, 100, 160, U}, {3, 170, 160, U}},
     3,
     3,
     TTHC_PARTITION_OK,
     true},
    {"zero lag earlier in the window: OK",
     4,
     {{1, 100, 100, U}, {2, 100, 110, U}, {3, 100, 120, U}, {4, 100, 130, U}},
     4,
     4,
     TTHC_PARTITION_OK,
     true},
    {"rewind",
     5,
     {{1, 100, 200, 1}, {2, 110, 210, 2}, {3, 50, 220, 3}, {4, 60, 230, 4}, {5, 70, 240, 5}},
     5,
     5,
     TTHC_PARTITION_REWIND,
     true},
    {"rewind after a caught-up period",
     4,
     {{1, 100, 100, 1}, {2, 110, 110, 2}, {3, 0, 120, 3}, {4, 5, 130, 4}},
     4,
     4,
     TTHC_PARTITION_REWIND,
     true},
    /* back above the pre-rewind peak (110) with lag decreasing: OK */
    {"rewind made good",
     5,
     {{1, 100, 200, 1}, {2, 110, 210, 2}, {3, 50, 220, 3}, {4, 120, 230, 4}, {5, 200, 240, 5}},
     5,
     5,
     TTHC_PARTITION_OK,
     true},
    /* no commit since t=0, window span 40 s, now - 0 = 50 > 40 */
    {"stop: no commit for longer than the window",
     5,
     {{10, 100, 110, 0}, {20, 100, 120, 0}, {30, 100, 130, 0}, {40, 100, 140, 0}, {50, 100, 150, 0}},
     5,
     50,
     TTHC_PARTITION_STOP,
     true},
    {"same window without commit times: stall",
     5,
     {{10, 100, 110, U}, {20, 100, 120, U}, {30, 100, 130, U}, {40, 100, 140, U}, {50, 100, 150, U}},
     5,
     50,
     TTHC_PARTITION_STALL,
     true},
    {"stall: commits keep coming, the offset does not move",
     5,
     {{10, 100, 110, 10}, {20, 100, 120, 20}, {30, 100, 130, 30}, {40, 100, 140, 40}, {50, 100, 150, 50}},
     5,
     50,
     TTHC_PARTITION_STALL,
     true},
    {"stall with a fixed lag",
     3,
     {{10, 100, 110, U}, {20, 100, 110, U}, {30, 100, 110, U}},
     3,
     30,
     TTHC_PARTITION_STALL,
     true},
    /* commits at 0 and 100: interval 100 s > span 40 s; at now=190, 90 s since the last commit is not a stop */
    {"slow committer within its interval: not stop (warn)",
     5,
     {{90, 50, 100, 0}, {100, 60, 110, 100}, {110, 60, 120, 100}, {120, 60, 130, 100}, {130, 60, 140, 100}},
     5,
     190,
     TTHC_PARTITION_WARN,
     true},
    {"slow committer past its interval: stop",
     5,
     {{90, 50, 100, 0}, {100, 60, 110, 100}, {110, 60, 120, 100}, {120, 60, 130, 100}, {130, 60, 140, 100}},
     5,
     210,
     TTHC_PARTITION_STOP,
     true},
    {"warn: offsets move, lag grows every interval",
     5,
     {{1, 100, 200, 1}, {2, 110, 215, 2}, {3, 120, 230, 3}, {4, 130, 245, 4}, {5, 140, 260, 5}},
     5,
     5,
     TTHC_PARTITION_WARN,
     true},
    {"warn: offsets move, lag fixed",
     3,
     {{1, 100, 200, U}, {2, 110, 210, U}, {3, 120, 220, U}},
     3,
     3,
     TTHC_PARTITION_WARN,
     true},
    {"ok: lag decreases somewhere",
     5,
     {{1, 100, 200, 1}, {2, 110, 215, 2}, {3, 150, 230, 3}, {4, 160, 245, 4}, {5, 170, 260, 5}},
     5,
     5,
     TTHC_PARTITION_OK,
     true},
    {"ok: catching up", 3, {{1, 100, 300, U}, {2, 200, 310, U}, {3, 300, 320, U}}, 3, 3, TTHC_PARTITION_OK, true},
    /* size 3: the zero-lag sample and the moving offsets slide out */
    {"window slides",
     3,
     {{1, 100, 100, U}, {2, 150, 200, U}, {3, 150, 210, U}, {4, 150, 220, U}, {5, 150, 230, U}},
     5,
     5,
     TTHC_PARTITION_STALL,
     true},
    /* t=5 after t=30: the window restarts with one sample */
    {"clock stepped back: window restarts",
     3,
     {{10, 100, 110, U}, {20, 100, 120, U}, {30, 100, 130, U}, {5, 100, 140, U}},
     4,
     5,
     TTHC_PARTITION_OK,
     false},
    {"unknown offsets are ignored",
     3,
     {{1, 100, 110, U}, {2, -1001, 120, U}, {3, 100, -1, U}},
     3,
     3,
     TTHC_PARTITION_OK,
     false},
};

static tthc_partition_status run_case(const burrow_case *c, tthc_burrow_window *w)
{
    tthc_burrow_init_size(w, c->size);
    for (int i = 0; i < c->n; i++) tthc_burrow_add(w, c->s[i].t, c->s[i].offset, c->s[i].log_end, c->s[i].commit_t);
    return tthc_burrow_eval(w, c->now);
}

static void test_burrow_table(void)
{
    static tthc_burrow_window w;
    for (size_t i = 0; i < sizeof burrow_cases / sizeof burrow_cases[0]; i++) {
        const burrow_case *c = &burrow_cases[i];
        tthc_partition_status st = run_case(c, &w);
        bool evaluated = tthc_burrow_evaluated(&w);
        CHECK(st == c->want && evaluated == c->evaluated, "%s: got %s%s, want %s%s", c->name,
              tthc_partition_status_name(st), evaluated ? "" : " (not evaluated)", tthc_partition_status_name(c->want),
              c->evaluated ? "" : " (not evaluated)");
    }
}

static void test_burrow_details(void)
{
    static tthc_burrow_window w;
    tthc_burrow_init_size(&w, 0);
    CHECK_INT(w.size, 2);
    tthc_burrow_init_size(&w, 1000);
    CHECK_INT(w.size, TTHC_BURROW_WINDOW_MAX);

    /* completeness and the lag of the newest sample */
    tthc_burrow_init_size(&w, 4);
    tthc_burrow_add(&w, 1, 10, 15, -1);
    tthc_partition_status st = tthc_burrow_eval(&w, 1);
    CHECK(st == TTHC_PARTITION_OK && fabs(tthc_burrow_complete(&w) - 0.25) < 1e-12 && tthc_burrow_lag(&w) == 5 &&
              !tthc_burrow_evaluated(&w),
          "complete %g lag %lld", tthc_burrow_complete(&w), (long long)tthc_burrow_lag(&w));
    tthc_burrow_add(&w, 2, 10, 16, -1);
    tthc_burrow_add(&w, 3, 10, 17, -1);
    tthc_burrow_add(&w, 4, 10, 18, -1);
    tthc_burrow_add(&w, 5, 10, 19, -1);
    st = tthc_burrow_eval(&w, 5);
    CHECK(tthc_burrow_complete(&w) == 1.0 && tthc_burrow_lag(&w) == 9 && tthc_burrow_evaluated(&w) &&
              st == TTHC_PARTITION_STALL,
          "full window: %s", tthc_partition_status_name(st));
    tthc_burrow_reset(&w);
    CHECK(w.n == 0 && w.size == 4, "reset keeps the size");
    st = tthc_burrow_eval(&w, 5);
    CHECK(st == TTHC_PARTITION_OK && !tthc_burrow_evaluated(&w) && tthc_burrow_complete(&w) == 0 &&
              tthc_burrow_lag(&w) == 0,
          "empty after reset");
    tthc_burrow_init(&w);
    CHECK_INT(w.size, TTHC_BURROW_WINDOW_DEFAULT);
}

/* A consumer caught up on 1 s ticks, paused at t=10 while 10 messages/s keep
 * coming: OK while a zero-lag sample is in the window, then STOP with commit
 * times (never WARN on the way), STALL without. */
static void test_burrow_paused(void)
{
    static tthc_burrow_window known, unknown;
    tthc_burrow_init_size(&known, 5);
    tthc_burrow_init_size(&unknown, 5);
    int first_err_known = -1, first_err_unknown = -1, warned = 0;
    tthc_partition_status last_known = TTHC_PARTITION_OK, last_unknown = TTHC_PARTITION_OK;
    for (int t = 1; t <= 30; t++) {
        int64_t log_end = (int64_t)t * 10;
        int64_t offset = t <= 10 ? log_end : 100; /* applied up to the log end, then paused */
        double commit = t <= 10 ? t : 10;
        tthc_burrow_add(&known, t, offset, log_end, commit);
        tthc_burrow_add(&unknown, t, offset, log_end, -1);
        tthc_partition_status a = tthc_burrow_eval(&known, t), b = tthc_burrow_eval(&unknown, t);
        if (a == TTHC_PARTITION_WARN || b == TTHC_PARTITION_WARN) warned = 1;
        if (first_err_known < 0 && tthc_partition_status_is_error(a)) first_err_known = t;
        if (first_err_unknown < 0 && tthc_partition_status_is_error(b)) first_err_unknown = t;
        last_known = a;
        last_unknown = b;
    }
    /* the zero-lag sample of t=10 leaves the 5-sample window at t=15 */
    CHECK_INT(first_err_known, 15);
    CHECK_INT(first_err_unknown, 15);
    CHECK_STR(tthc_partition_status_name(last_known), "STOP");
    CHECK_STR(tthc_partition_status_name(last_unknown), "STALL");
    CHECK_INT(warned, 0);
}

static void test_group(void)
{
    static const struct {
        const char *name;
        tthc_partition_status p[4];
        size_t n;
        tthc_group_status want;
    } cases[] = {
        {"no partitions", {TTHC_PARTITION_OK}, 0, TTHC_GROUP_OK},
        {"all OK", {TTHC_PARTITION_OK, TTHC_PARTITION_OK}, 2, TTHC_GROUP_OK},
        {"one WARN", {TTHC_PARTITION_OK, TTHC_PARTITION_WARN, TTHC_PARTITION_OK}, 3, TTHC_GROUP_WARN},
        {"WARN and STALL", {TTHC_PARTITION_WARN, TTHC_PARTITION_STALL}, 2, TTHC_GROUP_ERR},
        {"STOP", {TTHC_PARTITION_STOP}, 1, TTHC_GROUP_ERR},
        {"REWIND first", {TTHC_PARTITION_REWIND, TTHC_PARTITION_OK, TTHC_PARTITION_WARN}, 3, TTHC_GROUP_ERR},
        {"STALL last",
         {TTHC_PARTITION_OK, TTHC_PARTITION_OK, TTHC_PARTITION_OK, TTHC_PARTITION_STALL},
         4,
         TTHC_GROUP_ERR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tthc_group_status g = tthc_burrow_group(cases[i].p, cases[i].n);
        CHECK(g == cases[i].want, "%s: got %s, want %s", cases[i].name, tthc_group_status_name(g),
              tthc_group_status_name(cases[i].want));
    }
    /* a partition not yet evaluated counts as OK */
    static tthc_burrow_window w;
    tthc_burrow_init_size(&w, 5);
    tthc_burrow_add(&w, 1, 10, 50, -1);
    tthc_partition_status pending = tthc_burrow_eval(&w, 1);
    CHECK(!tthc_burrow_evaluated(&w) && tthc_burrow_group(&pending, 1) == TTHC_GROUP_OK, "not evaluated is OK");
}

static void test_names(void)
{
    static const char *const want[] = {"OK", "WARN", "STOP", "STALL", "REWIND"};
    for (int i = 0; i < TTHC_PARTITION_STATUS_COUNT; i++)
        CHECK_STR(tthc_partition_status_name((tthc_partition_status)i), want[i]);
    CHECK_STR(tthc_partition_status_name((tthc_partition_status)99), "UNKNOWN");
    CHECK_STR(tthc_group_status_name(TTHC_GROUP_OK), "OK");
    CHECK_STR(tthc_group_status_name(TTHC_GROUP_WARN), "WARN");
    CHECK_STR(tthc_group_status_name(TTHC_GROUP_ERR), "ERR");
    CHECK_STR(tthc_group_status_name((tthc_group_status)-1), "UNKNOWN");
    CHECK(!tthc_partition_status_is_error(TTHC_PARTITION_OK) && !tthc_partition_status_is_error(TTHC_PARTITION_WARN) &&
              tthc_partition_status_is_error(TTHC_PARTITION_STOP) &&
              tthc_partition_status_is_error(TTHC_PARTITION_STALL) &&
              tthc_partition_status_is_error(TTHC_PARTITION_REWIND),
          "is_error");
}

int main(void)
{
    test_ring_table();
    test_ring_details();
    test_ring_random();
    test_burrow_table();
    test_burrow_details();
    test_burrow_paused();
    test_group();
    test_names();
    return CHECK_DONE();
}
