/* targets.h - the plan's targets per indicator, for colouring the HTML page.
 *
 * Targets are data (indicator_target in migrations/001_core.sql); the stub
 * reads them from its database when that table exists and has rows for the
 * year, and otherwise falls back to the built-in 2025 table of
 * docs/indicators.md.  An indicator may have several targets (several
 * source documents): lo is the lowest, hi the highest. */
#ifndef PORTAL_TARGETS_H
#define PORTAL_TARGETS_H

#include "indicators.h"

typedef struct {
    int n;          /* number of targets; 0 = none */
    double lo, hi;  /* percent */
    char label[200]; /* "60% NQ 01/NQ-CP #3; 80% TB 56/TB-VPCP #2" */
} portal_target;

typedef struct {
    portal_target t[TTHC_INDICATOR_COUNT]; /* by catalogue position */
    int year;
    int from_db; /* 1: read from indicator_target; 0: built-in 2025 table */
} portal_targets;

/* Empties t (no target anywhere). */
void portal_targets_clear(portal_targets *t, int year, int from_db);

/* Adds one target of indicator code (unknown codes are ignored). */
void portal_targets_add(portal_targets *t, const char *code, double pct, const char *source);

/* The built-in table: 2025 targets of docs/indicators.md. */
void portal_targets_builtin(portal_targets *t);

typedef enum { PORTAL_RATE_NONE, PORTAL_RATE_MET, PORTAL_RATE_PARTIAL, PORTAL_RATE_MISSED } portal_rate_class;

/* How a rate compares with a target: MET at or above hi, PARTIAL at or above
 * lo, MISSED below lo; NONE without a target or with a zero denominator. */
portal_rate_class portal_target_classify(const portal_target *t, long long num, long long den);

#endif
