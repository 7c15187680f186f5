#include "indicators.h"

#include <string.h>

const tthc_indicator tthc_indicators[TTHC_INDICATOR_COUNT] = {
    [TTHC_IND_ONLINE_SUBMISSION] = {"online_submission", 1},
    [TTHC_IND_DIGITIZED_DOSSIER] = {"digitized_dossier", 2},
    [TTHC_IND_DIGITIZED_RESULT] = {"digitized_result", 3},
    [TTHC_IND_E_RESULT] = {"e_result", 4},
    [TTHC_IND_ID_TAGGED] = {"id_tagged", 5},
    [TTHC_IND_DATA_REUSED] = {"data_reused", 6},
    [TTHC_IND_ONLINE_PAYMENT] = {"online_payment", 7},
    [TTHC_IND_PORTAL_SYNCED] = {"portal_synced", 8},
    [TTHC_IND_ON_TIME] = {"on_time", 9},
    [TTHC_IND_SATISFACTION] = {"satisfaction", 10},
};

int tthc_indicator_find(const char *code)
{
    if (!code) return -1;
    for (int i = 0; i < TTHC_INDICATOR_COUNT; i++)
        if (!strcmp(tthc_indicators[i].code, code)) return i;
    return -1;
}
