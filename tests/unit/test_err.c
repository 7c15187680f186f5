/* The error convention's PostgreSQL side: SQLSTATE carried in tthc_err,
 * classified by class (data error / outage / other). */
#include "check.h"
#include "err.h"

int main(void)
{
    tthc_err e = {{0}};
    CHECK_STR(tthc_err_sqlstate(&e), "");
    CHECK_INT(tthc_fail_sql(&e, TTHC_EDB, "22008", "copy: %s", "out of range"), TTHC_EDB);
    CHECK_STR(tthc_err_sqlstate(&e), "22008");
    CHECK_STR(e.msg, "copy: out of range");
    tthc_fail(&e, TTHC_EIO, "no state");
    CHECK_STR(tthc_err_sqlstate(&e), "");
    tthc_fail_sql(&e, TTHC_ERETRY, NULL, "lost");
    CHECK_STR(tthc_err_sqlstate(&e), "");
    tthc_fail_sql(&e, TTHC_EDB, "2200", "too short");
    CHECK_STR(tthc_err_sqlstate(&e), "");
    /* a detail as long as the buffer does not spill into the SQLSTATE */
    char longmsg[2000];
    memset(longmsg, 'x', sizeof longmsg - 1);
    longmsg[sizeof longmsg - 1] = '\0';
    tthc_fail_sql(&e, TTHC_EDB, "23514", "%s", longmsg);
    CHECK_STR(tthc_err_sqlstate(&e), "23514");
    CHECK_INT(strlen(e.msg), TTHC_ERR_MSG_MAX - 1);

    static const struct {
        const char *state;
        tthc_sql_class want;
    } cases[] = {
        {"22008", TTHC_SQL_DATA},   {"22P02", TTHC_SQL_DATA},   {"23505", TTHC_SQL_DATA},   {"23514", TTHC_SQL_DATA},
        {"08006", TTHC_SQL_OUTAGE}, {"53300", TTHC_SQL_OUTAGE}, {"57P01", TTHC_SQL_OUTAGE}, {"57014", TTHC_SQL_OUTAGE},
        {"58030", TTHC_SQL_OUTAGE}, {NULL, TTHC_SQL_OUTAGE},    {"", TTHC_SQL_OUTAGE},      {"42P01", TTHC_SQL_OTHER},
        {"40001", TTHC_SQL_OTHER},  {"55P03", TTHC_SQL_OTHER},  {"XX000", TTHC_SQL_OTHER},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        CHECK(tthc_sql_classify(cases[i].state) == cases[i].want, "classify(%s)", cases[i].state ? cases[i].state : "NULL");
    return CHECK_DONE();
}
