/* fuzz_rfc3339.c - libFuzzer target: the RFC 3339 parser and the cohort month
 * (common/timeutil.c).  An instant in the contract's range survives a round
 * trip through tthc_format_vn (to the second) and has a cohort month. */
#include <string.h>

#include "fuzz.h"
#include "timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64) return 0; /* longer is never valid past the fraction digits the parser counts */
    char s[65], back[64], pg[64], month[8];
    memcpy(s, data, size);
    s[size] = '\0';
    int64_t us;
    if (tthc_rfc3339_parse(s, &us, NULL)) return 0;
    int in_range = tthc_instant_in_range(us);
    tthc_rc m = tthc_cohort_month(us, month, NULL);
    FUZZ_ASSERT(m == TTHC_OK || m == TTHC_EINVAL, "cohort month returned %d", (int)m);
    FUZZ_ASSERT(strlen(month) == 7 && month[4] == '-', "month '%s'", month);
    if (m) FUZZ_ASSERT(!strcmp(month, "0000-00") && !in_range, "month '%s' in range", month);
    if (!in_range) return 0;
    FUZZ_ASSERT(m == 0 && strcmp(month, "1970-01") >= 0 && strcmp(month, "9999-12") <= 0, "month '%s'", month);
    tthc_format_vn(us, back, sizeof back);
    int64_t us2;
    FUZZ_ASSERT(tthc_rfc3339_parse(back, &us2, NULL) == TTHC_OK, "'%s' formatted as unparsable '%s'", s, back);
    FUZZ_ASSERT(us2 == us - us % 1000000, "'%s' -> '%s': %lld != %lld", s, back, (long long)us2, (long long)us);
    char month2[8];
    FUZZ_ASSERT(tthc_cohort_month(us2, month2, NULL) == TTHC_OK && !strcmp(month, month2),
                "month changed by the round trip");
    FUZZ_ASSERT(!strncmp(back, month, 7), "'%s' is not in month %s", back, month);
    tthc_format_pg(us, pg, sizeof pg);
    FUZZ_ASSERT(strlen(pg) == 29, "pg form '%s'", pg);
    return 0;
}
