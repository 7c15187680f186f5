/* dlqcopy.h - the DLQ copy of a rejected message (docs/events.md, "Dead letters").
 *
 * The copy is the original bytes with two exceptions: the value of every
 * `id_number` member is replaced by `*` of the same length (personal data,
 * never copied), and a copy that would exceed the DLQ topic's message size
 * limit is cut to its first DLQCOPY_CUT_BYTES bytes.  Masking is lexical, on
 * the raw bytes: it needs neither valid JSON nor valid UTF-8, finds keys at
 * any depth (escaped spellings such as "id\u005fnumber" too), and keeps every
 * other byte as it was.  A string value keeps its quotes; any other value
 * (number, literal, object, array) is masked whole. */
#ifndef TTHC_INGEST_DLQCOPY_H
#define TTHC_INGEST_DLQCOPY_H

#include <stdbool.h>
#include <stddef.h>

#include "strbuf.h"

#define DLQCOPY_CUT_BYTES 65536

/* Masks every id_number member's value in buf, in place.  Returns how many. */
size_t dlqcopy_mask(char *buf, size_t len);

typedef struct {
    bool masked, cut;
    size_t original_size;
    char sha256[65]; /* of the original bytes; "" unless masked or cut */
} ingest_dlqcopy_info;

/* Builds the copy of value into out (reset first): masked, then cut to
 * DLQCOPY_CUT_BYTES if its length exceeds max_len or if force_cut.
 * -1 on allocation failure. */
int dlqcopy_build(const char *value, size_t len, size_t max_len, bool force_cut, tthc_sb *out,
                  ingest_dlqcopy_info *info) TTHC_MUSTCHECK;

#endif
