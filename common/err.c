#include "err.h"

#include <stdarg.h>
#include <stdio.h>

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

tthc_rc tthc_fail(tthc_err *err, tthc_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return rc;
}
