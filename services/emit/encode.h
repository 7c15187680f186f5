/* encode.h - dossier events as the contract's JSON (cJSON builders only), and
 * deliberately malformed variants for the dead-letter path (pure).
 *
 * The envelope carries `source` (the emitting system) except on
 * dossier.data_reused, whose own `source` field names where the data came
 * from (events.md gives both the same name).  Output is compact JSON without
 * newlines or tabs, appended to a caller-owned buffer. */
#ifndef EMIT_ENCODE_H
#define EMIT_ENCODE_H

#include "err.h"
#include "event.h"
#include "lifecycle.h"
#include "strbuf.h"

typedef enum {
    EMIT_BAD_INVALID_JSON = 0, /* a valid event cut in half */
    EMIT_BAD_NOT_OBJECT,       /* a JSON array */
    EMIT_BAD_MISSING_FIELD,    /* occurred_at left out */
    EMIT_BAD_WRONG_TYPE,       /* schema_version as a string */
    EMIT_BAD_INVALID_VALUE,    /* occurred_at not a date */
    EMIT_BAD_UNKNOWN_TYPE,     /* event_type dossier.archived */
    EMIT_BAD_SCHEMA_VERSION,   /* schema_version 2 */
    EMIT_BAD_INVALID_UTF8,     /* a byte sequence that is not UTF-8 */
    EMIT_BAD_CITIZEN_ID,       /* id_tagged with a citizen_id number of 4 digits */
    EMIT_BAD__COUNT
} emit_bad_kind;

/* Appends the JSON of event e of dossier d (received by unit_code) to out. */
tthc_rc emit_encode(const emit_dossier *d, const emit_event *e, const char *unit_code, const char *source, tthc_sb *out,
                    tthc_err *err) TTHC_MUSTCHECK;

/* Appends a malformed message of kind k derived from event e. */
tthc_rc emit_encode_bad(emit_bad_kind k, const emit_dossier *d, const emit_event *e, const char *unit_code,
                        const char *source, tthc_sb *out, tthc_err *err) TTHC_MUSTCHECK;

/* The DLQ reason the validator must give for kind k; its name for logs. */
tthc_reject_reason emit_bad_reason(emit_bad_kind k);
const char *emit_bad_name(emit_bad_kind k);

#endif
