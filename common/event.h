/* event.h - the dossier event contract (docs/events.md) as C.
 *
 * tthc_event_parse() is a pure function: bytes in, either a validated event or
 * a rejection (reason + field + detail) out.  It never keeps the personal ID
 * number: id_number is checked and dropped, and no detail echoes a value. */
#ifndef TTHC_EVENT_H
#define TTHC_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define TTHC_EVENT_MAX_BYTES 65536
#define TTHC_SCHEMA_VERSION  1

typedef enum {
    TTHC_EV_RECEIVED = 0,
    TTHC_EV_DIGITIZED,
    TTHC_EV_DATA_REUSED,
    TTHC_EV_ID_TAGGED,
    TTHC_EV_PAID,
    TTHC_EV_RESULT_ISSUED,
    TTHC_EV_SYNCED,
    TTHC_EV_RATED,
    TTHC_EV__COUNT
} tthc_event_type;

/* Why a message goes to the dead-letter topic (header tthc.dlq.reason). */
typedef enum {
    TTHC_REJ_NONE = 0,
    TTHC_REJ_TOO_LARGE,
    TTHC_REJ_INVALID_UTF8,
    TTHC_REJ_INVALID_JSON,
    TTHC_REJ_NOT_OBJECT,
    TTHC_REJ_MISSING_FIELD,
    TTHC_REJ_WRONG_TYPE,
    TTHC_REJ_INVALID_VALUE,
    TTHC_REJ_UNKNOWN_EVENT_TYPE,
    TTHC_REJ_UNSUPPORTED_SCHEMA_VERSION,
    TTHC_REJ_RECEIPT_CONFLICT,
    TTHC_REJ_DUPLICATE_KEY,     /* an object with the same member name twice, at any depth */
    TTHC_REJ_NUL_CHARACTER,     /* a string (value or name) holding U+0000 */
    TTHC_REJ_REJECTED_BY_STORE, /* valid here, refused by PostgreSQL (SQLSTATE class 22/23) */
    TTHC_REJ__COUNT
} tthc_reject_reason;

typedef enum { TTHC_CH_ONLINE = 1, TTHC_CH_IN_PERSON, TTHC_CH_POSTAL } tthc_channel;
typedef enum { TTHC_SCOPE_COMPONENTS = 1, TTHC_SCOPE_RESULT } tthc_digitized_scope;
/* `source` of dossier.data_reused; 0 when absent or not one of these (the
 * envelope's `source`, the emitting system, shares the name). */
typedef enum { TTHC_REUSE_DIGITIZED_STORE = 1, TTHC_REUSE_NATIONAL_DB, TTHC_REUSE_OTHER_DOSSIER } tthc_reuse_source;

#define TTHC_ID_MAX         64 /* dossier_id, procedure_code */
#define TTHC_EVENT_ID_MAX   128
#define TTHC_UNIT_MAX       51 /* 10 + '.' + 40 */
#define TTHC_PAYMENT_ID_MAX 128

typedef struct {
    tthc_event_type type;
    char event_id[TTHC_EVENT_ID_MAX + 1];
    char dossier_id[TTHC_ID_MAX + 1];
    int64_t occurred_at;
    /* dossier.received */
    char unit_code[TTHC_UNIT_MAX + 1];
    char procedure_code[TTHC_ID_MAX + 1];
    uint8_t channel;        /* tthc_channel */
    uint8_t applicant_type; /* 0 = absent, 1 citizen, 2 business, 3 agency, 4 other */
    bool has_due;
    int64_t received_at, due_at;
    /* dossier.digitized */
    uint8_t scope; /* tthc_digitized_scope */
    /* dossier.data_reused: tthc_reuse_source, or 0 */
    uint8_t reuse_source;
    /* dossier.id_tagged: 1 citizen_id, 2 vneid (the number itself is never kept) */
    uint8_t id_kind;
    /* dossier.paid */
    char payment_id[TTHC_PAYMENT_ID_MAX + 1];
    bool pay_online;
    int64_t amount_vnd;
    /* dossier.result_issued */
    int64_t finished_at;
    bool electronic;
    /* dossier.rated */
    bool satisfied;
} tthc_event;

typedef struct {
    tthc_reject_reason reason;
    char field[32];   /* offending field, "" if none */
    char detail[160]; /* the rule broken; never a value from the message */
} tthc_reject;

/* Validates len bytes (any bytes: no terminating NUL needed).  Instants are
 * checked against tthc_instant_in_range() (timeutil.h).  Returns
 *   TTHC_OK      valid: *ev is filled;
 *   TTHC_EINVAL  rejected: *rej says why (reason, field, rule broken) and err
 *                holds the same as one line ("event rejected: <reason>
 *                <field>: <rule>"), never a value from the message;
 *   TTHC_ENOMEM  memory ran out: err says so, and *rej is TTHC_REJ_TOO_LARGE
 *                "out of memory" (what earlier versions reported), so a
 *                caller that dead-letters on any failure keeps working.
 * err may be NULL. */
tthc_rc tthc_event_parse(const char *buf, size_t len, tthc_event *ev, tthc_reject *rej, tthc_err *err) TTHC_MUSTCHECK;

const char *tthc_event_type_name(tthc_event_type t);
const char *tthc_reject_reason_name(tthc_reject_reason r);
const char *tthc_channel_name(uint8_t ch);
const char *tthc_applicant_name(uint8_t a);    /* NULL for 0 */
const char *tthc_reuse_source_name(uint8_t s); /* NULL for 0 */

/* Exposed for tests and for other validators (portal stub, emitter). */
bool tthc_utf8_valid(const unsigned char *s, size_t len);
bool tthc_valid_unit_code(const char *s); /* a receiving unit, not a province */
bool tthc_valid_charset(const char *s, size_t min, size_t max, const char *extra);

/* Writes the province part of a unit code ("H61" of "H61.07") into out. */
void tthc_unit_province(const char *unit, char *out, size_t len);

#endif
