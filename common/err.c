#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *tthc_rc_name(tthc_rc rc)
{
    switch (rc) {
    case TTHC_OK: return "ok";
    case TTHC_EINVAL: return "einval";
    case TTHC_ENOMEM: return "enomem";
    case TTHC_EIO: return "eio";
    case TTHC_EDB: return "edb";
    case TTHC_EKAFKA: return "ekafka";
    case TTHC_EHTTP: return "ehttp";
    case TTHC_ETIMEOUT: return "etimeout";
    case TTHC_ERETRY: return "eretry";
    case TTHC_EFENCED: return "efenced";
    case TTHC_EXIT: return "exit";
    }
    return "unknown";
}

static void set_state(tthc_err *err, const char *sqlstate)
{
    char *st = err->msg + TTHC_ERR_MSG_MAX;
    memset(st, 0, sizeof err->msg - TTHC_ERR_MSG_MAX);
    if (sqlstate && strlen(sqlstate) == 5) memcpy(st, sqlstate, 5);
}

tthc_rc tthc_fail(tthc_err *err, tthc_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, TTHC_ERR_MSG_MAX, fmt, ap);
        va_end(ap);
        set_state(err, NULL);
    }
    return rc;
}

tthc_rc tthc_fail_sql(tthc_err *err, tthc_rc rc, const char *sqlstate, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, TTHC_ERR_MSG_MAX, fmt, ap);
        va_end(ap);
        set_state(err, sqlstate);
    }
    return rc;
}

const char *tthc_err_sqlstate(const tthc_err *err)
{
    const char *st = err->msg + TTHC_ERR_MSG_MAX;
    for (int i = 0; i < 5; i++)
        if (!((st[i] >= '0' && st[i] <= '9') || (st[i] >= 'A' && st[i] <= 'Z'))) return "";
    return st[5] ? "" : st;
}

tthc_sql_class tthc_sql_classify(const char *s)
{
    if (!s || strlen(s) != 5) return TTHC_SQL_OUTAGE; /* libpq got no answer from the server */
    if (!strncmp(s, "22", 2) || !strncmp(s, "23", 2)) return TTHC_SQL_DATA;
    if (!strncmp(s, "08", 2) || !strncmp(s, "53", 2) || !strncmp(s, "57", 2) || !strncmp(s, "58", 2))
        return TTHC_SQL_OUTAGE;
    return TTHC_SQL_OTHER;
}
