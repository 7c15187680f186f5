/* sha256.h - SHA-256 (FIPS 180-4), for the DLQ's tthc.original.sha256 header.
 *
 * Small and dependency-free; checked against the NIST test vectors in
 * tests/unit/ingest_dlqcopy_test.c. */
#ifndef TTHC_INGEST_SHA256_H
#define TTHC_INGEST_SHA256_H

#include <stddef.h>
#include <stdint.h>

/* The digest of len bytes, as 64 lowercase hex digits and a NUL in hex[65]. */
void sha256_hex(const void *data, size_t len, char hex[65]);

#endif
