#include "targets.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void portal_targets_clear(portal_targets *t, int year, int from_db)
{
    memset(t, 0, sizeof *t);
    t->year = year;
    t->from_db = from_db;
}

void portal_targets_add(portal_targets *t, const char *code, double pct, const char *source)
{
    int i = tthc_indicator_find(code);
    if (i < 0) return;
    portal_target *g = &t->t[i];
    if (g->n == 0 || pct < g->lo) g->lo = pct;
    if (g->n == 0 || pct > g->hi) g->hi = pct;
    size_t used = strlen(g->label);
    snprintf(g->label + used, sizeof g->label - used, "%s%g%% %s", used ? "; " : "", pct, source ? source : "");
    g->n++;
}

void portal_targets_builtin(portal_targets *t)
{
    static const struct {
        const char *code;
        double pct;
        const char *source;
    } rows[] = {
        {"online_submission", 60, "NQ 01/NQ-CP #3"}, {"online_submission", 80, "TB 56/TB-VPCP #2"},
        {"digitized_dossier", 80, "NQ 01/NQ-CP #4"}, {"digitized_result", 80, "NQ 01/NQ-CP #4"},
        {"e_result", 100, "NQ 02/NQ-CP #1"},         {"id_tagged", 40, "TB 56/TB-VPCP #3"},
        {"id_tagged", 100, "KH 18/KH-UBND II.2.c"},  {"data_reused", 50, "NQ 02/NQ-CP #2"},
        {"online_payment", 60, "NQ 01/NQ-CP #2"},    {"portal_synced", 100, "NQ 01/NQ-CP #5"},
        {"satisfaction", 90, "NQ 02/NQ-CP #4"},
    }; /* on_time: no target in the plan */
    portal_targets_clear(t, 2025, 0);
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        portal_targets_add(t, rows[i].code, rows[i].pct, rows[i].source);
}

portal_rate_class portal_target_classify(const portal_target *t, long long num, long long den)
{
    if (t->n == 0 || den <= 0) return PORTAL_RATE_NONE;
    /* exact: num / den >= pct / 100, in hundredths of a percent */
    __int128 lhs = (__int128)num * 10000;
    __int128 hi = (__int128)llround(t->hi * 100) * den, lo = (__int128)llround(t->lo * 100) * den;
    if (lhs >= hi) return PORTAL_RATE_MET;
    if (lhs >= lo) return PORTAL_RATE_PARTIAL;
    return PORTAL_RATE_MISSED;
}
