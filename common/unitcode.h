/* unitcode.h - ordering of unit codes for people: part by part, runs of
 * digits compared as numbers, so H61.9 < H61.10 < H61.101 and the province
 * (H61) before its units.  Pure, thread-safe. */
#ifndef TTHC_UNITCODE_H
#define TTHC_UNITCODE_H

/* <0, 0, >0 like strcmp; NULL sorts first. */
int tthc_unit_code_cmp(const char *a, const char *b);

#endif
