/* unitlist.h - the receiving units of a province: built in (Vĩnh Long, H61,
 * after 1 July 2025) or read from a TSV file.
 *
 * File format: one unit per line, `code<TAB>name<TAB>kind`, kind one of
 * department / ward / commune / other; '#' lines and blank lines are skipped.
 * Codes follow events.md (`H61.07`), are unique, and are never a province
 * code alone.  Names are UTF-8 without control characters.
 *
 * Ownership: emit_unitlist_load() and emit_unitlist_builtin() fill a list the
 * caller owns and releases with emit_unitlist_free(). */
#ifndef EMIT_UNITLIST_H
#define EMIT_UNITLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "event.h"

typedef enum { EMIT_KIND_DEPARTMENT = 0, EMIT_KIND_WARD, EMIT_KIND_COMMUNE, EMIT_KIND_OTHER, EMIT_KIND__COUNT } emit_kind;

#define EMIT_UNIT_NAME_MAX 160

typedef struct {
    char code[TTHC_UNIT_MAX + 1];
    char name[EMIT_UNIT_NAME_MAX + 1];
    emit_kind kind;
} emit_unit;

typedef struct {
    emit_unit *v; /* owned */
    size_t n;
} emit_unitlist;

const char *emit_kind_name(emit_kind k);

/* The built-in province, Vĩnh Long after 1 July 2025: 20 departments
 * H61.01..H61.20 (ten with simulated codes, see below) and the 124 wards (19)
 * and communes (105) H61.101..H61.224 with their real names, in code order. */
tthc_rc emit_unitlist_builtin(emit_unitlist *out, tthc_err *err) TTHC_MUSTCHECK;

/* Parses a units file; errors name path:line. */
tthc_rc emit_unitlist_load(const char *path, emit_unitlist *out, tthc_err *err) TTHC_MUSTCHECK;

/* Parses units from a text buffer (what the loader reads); `where` names it in errors. */
tthc_rc emit_unitlist_parse(const char *text, const char *where, emit_unitlist *out, tthc_err *err) TTHC_MUSTCHECK;

/* Writes the list in the file format (with a header comment). */
void emit_unitlist_write(const emit_unitlist *l, FILE *f);

/* Index of code, or -1. */
int emit_unitlist_find(const emit_unitlist *l, const char *code);

void emit_unitlist_free(emit_unitlist *l);

#endif
