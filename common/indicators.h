/* indicators.h - the indicator catalogue of docs/indicators.md.
 *
 * One const table, in the contract's order (the `sort_order` of the
 * `indicator` table in migrations/001_core.sql).  Shared by the sync service,
 * the portal stub and the reports: a report lists every indicator exactly once,
 * and arrays of per-indicator values are indexed by catalogue position
 * (0 .. TTHC_INDICATOR_COUNT-1, also named by tthc_indicator_id).
 *
 * Everything here is static, read-only data: nothing to free, thread-safe. */
#ifndef TTHC_INDICATORS_H
#define TTHC_INDICATORS_H

/* Catalogue positions, in order. */
typedef enum {
    TTHC_IND_ONLINE_SUBMISSION = 0,
    TTHC_IND_DIGITIZED_DOSSIER,
    TTHC_IND_DIGITIZED_RESULT,
    TTHC_IND_E_RESULT,
    TTHC_IND_ID_TAGGED,
    TTHC_IND_DATA_REUSED,
    TTHC_IND_ONLINE_PAYMENT,
    TTHC_IND_PORTAL_SYNCED,
    TTHC_IND_ON_TIME,
    TTHC_IND_SATISFACTION,
    TTHC_INDICATOR_COUNT
} tthc_indicator_id;

typedef struct {
    const char *code; /* "online_submission", ... (wire and database code) */
    int sort_order;   /* 1-based, as indicator.sort_order */
} tthc_indicator;

/* tthc_indicators[i] for i < TTHC_INDICATOR_COUNT, in sort order. */
extern const tthc_indicator tthc_indicators[TTHC_INDICATOR_COUNT];

/* Catalogue position of code (exact, case-sensitive match), or -1 when code
 * is NULL or unknown. */
int tthc_indicator_find(const char *code);

#endif
