/* err.h - the project's one error convention.
 *
 * Every fallible function returns a tthc_rc (0 = TTHC_OK) and, when it fails,
 * writes a human-readable detail into a caller-owned tthc_err (with the
 * SQLSTATE for a PostgreSQL failure: tthc_fail_sql).  Callers do:
 *
 *     tthc_rc rc = f(..., &err);
 *     if (rc) goto fail;
 *
 * err may be NULL where a caller has no use for the detail (tthc_fail
 * accepts it).  What a call found, as opposed to whether it worked, goes to
 * an out-parameter or a named enum, never into extra int values: e.g.
 * tthc_dossier_apply(..., &result, &err), tthc_event_parse() (TTHC_EINVAL
 * plus a tthc_reject saying why).  The detail never contains secrets or
 * personal data (see events.md).
 *
 * Not tthc_rc, by design (each says so where it is declared):
 *   - predicates that cannot fail return bool (tthc_valid_unit_code,
 *     portal_token_valid, tthc_pg_alive, ...);
 *   - functions returning a value that is not a status: a count, an index or
 *     -1 when absent (tthc_indicator_find, emit_unitlist_find), a comparison
 *     (<0, 0, >0), a length, a name;
 *   - functions returning an allocated object or a pointer into one, NULL
 *     meaning out of memory (portal_report_canonical, portal_json_add_int);
 *   - the tthc_sb_* appenders (strbuf.h) and the tthc_prom_* writers
 *     (prom.h), which only append to a tthc_sb: they return int 0, or -1 when
 *     the buffer reached its max or memory ran out.  Writers OR a run of
 *     appends and check once (`r |= tthc_sb_adds(...)`); the only failure is
 *     the buffer's, which the caller knows, so a tthc_err would add nothing,
 *     and OR-ing tthc_rc values would mix codes.  Over 150 call sites use
 *     that idiom; changing them all would touch every writer for no gain.
 * A tthc_rc that may be ignored says so where it is declared (the
 * tthc_http_resp_* setters: a failure turns the response into a 500). */
#ifndef TTHC_ERR_H
#define TTHC_ERR_H

#include <stddef.h>

#define TTHC_MUSTCHECK    __attribute__((warn_unused_result))
#define TTHC_PRINTF(a, b) __attribute__((format(printf, a, b)))

typedef enum {
    TTHC_OK = 0,
    TTHC_EINVAL,   /* bad input or configuration */
    TTHC_ENOMEM,   /* allocation failed */
    TTHC_EIO,      /* file or socket error */
    TTHC_EDB,      /* PostgreSQL error (connection or statement) */
    TTHC_EKAFKA,   /* Kafka client error */
    TTHC_EHTTP,    /* HTTP transport or protocol error */
    TTHC_ETIMEOUT, /* a bounded wait expired */
    TTHC_ERETRY,   /* transient: the whole unit of work should be retried */
    TTHC_EFENCED,  /* another owner moved on: drop local state and re-read */
    TTHC_EXIT      /* not an error: the caller should exit 0 (--help, --version) */
} tthc_rc;

/* msg holds the detail, NUL-terminated within its first TTHC_ERR_MSG_MAX bytes;
 * the bytes after that hold the SQLSTATE of a PostgreSQL failure (read it with
 * tthc_err_sqlstate()).  One array, so that `tthc_err e = {{0}}` still
 * initializes everything. */
#define TTHC_ERR_MSG_MAX 512
typedef struct {
    char msg[TTHC_ERR_MSG_MAX + 8];
} tthc_err;

/* Name of a return code, for logs ("einval", ...). Never NULL. */
const char *tthc_rc_name(tthc_rc rc);

/* Formats the detail into err (truncating) and returns rc, so that callers can
 * write `return tthc_fail(err, TTHC_EINVAL, "...")`.  err may be NULL. */
tthc_rc tthc_fail(tthc_err *err, tthc_rc rc, const char *fmt, ...) TTHC_PRINTF(3, 4);

/* The same, also recording a PostgreSQL SQLSTATE (NULL: none, as tthc_fail). */
tthc_rc tthc_fail_sql(tthc_err *err, tthc_rc rc, const char *sqlstate, const char *fmt, ...) TTHC_PRINTF(4, 5);

/* The SQLSTATE recorded by tthc_fail_sql ("" if none). Never NULL. */
const char *tthc_err_sqlstate(const tthc_err *err);

/* How a PostgreSQL failure is to be treated, from its SQLSTATE class
 * (appendix "PostgreSQL Error Codes" of the manual). */
typedef enum {
    TTHC_SQL_OTHER = 0, /* the statement failed for another reason (a bug, a missing object, a lock timeout) */
    TTHC_SQL_DATA,      /* class 22 (data exception) or 23 (integrity constraint): the values are refused */
    TTHC_SQL_OUTAGE,    /* no SQLSTATE (no answer: connection lost), class 08, 53, 57, 58 */
} tthc_sql_class;

tthc_sql_class tthc_sql_classify(const char *sqlstate);

#endif
