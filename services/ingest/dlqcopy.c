#include "dlqcopy.h"

#include <string.h>

#include "sha256.h"

static bool ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Index of the closing quote of the string whose body starts at i (len if
 * unterminated); backslash escapes skipped. */
static size_t string_end(const char *b, size_t len, size_t i)
{
    while (i < len && b[i] != '"') i += b[i] == '\\' ? 2 : 1;
    return i < len ? i : len;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* True if the JSON string body b[i, end) decodes to want (ASCII). */
static bool decodes_to(const char *b, size_t i, size_t end, const char *want)
{
    size_t k = 0, n = strlen(want);
    while (i < end) {
        int c = (unsigned char)b[i++];
        if (c == '\\') {
            if (i >= end) return false;
            char e = b[i++];
            if (e == 'u') {
                if (end - i < 4) return false;
                int v = 0;
                for (int j = 0; j < 4; j++) {
                    int h = hexval(b[i + (size_t)j]);
                    if (h < 0) return false;
                    v = v * 16 + h;
                }
                i += 4;
                c = v;
            } else {
                c = (unsigned char)e; /* \" \\ \/ stand for themselves; \n etc. never match a key here */
            }
        }
        if (k >= n || c != (unsigned char)want[k++]) return false;
    }
    return k == n;
}

/* End of a non-string value starting at i: a scalar ends at a delimiter; an
 * object or array at its matching bracket (strings inside skipped). */
static size_t value_end(const char *b, size_t len, size_t i)
{
    if (b[i] != '{' && b[i] != '[') {
        while (i < len && !ws(b[i]) && b[i] != ',' && b[i] != '}' && b[i] != ']') i++;
        return i;
    }
    int depth = 0;
    while (i < len) {
        char c = b[i];
        if (c == '"') {
            i = string_end(b, len, i + 1) + 1;
            continue;
        }
        if (c == '{' || c == '[') depth++;
        if ((c == '}' || c == ']') && --depth == 0) return i + 1;
        i++;
    }
    return len;
}

size_t dlqcopy_mask(char *b, size_t len)
{
    size_t masked = 0, i = 0;
    while (i < len) {
        if (b[i] != '"') {
            i++;
            continue;
        }
        size_t start = i + 1, end = string_end(b, len, start);
        i = end + 1;
        size_t k = i;
        while (k < len && ws(b[k])) k++;
        if (k >= len || b[k] != ':' || !decodes_to(b, start, end, "id_number")) continue;
        k++;
        while (k < len && ws(b[k])) k++;
        if (k >= len) break;
        size_t vs, ve;
        if (b[k] == '"') {
            vs = k + 1;
            ve = string_end(b, len, vs);
            i = ve + 1;
        } else {
            vs = k;
            ve = value_end(b, len, k);
            i = ve;
        }
        for (size_t j = vs; j < ve && j < len; j++)
            if (b[k] == '"' || !ws(b[j])) b[j] = '*';
        masked++;
    }
    return masked;
}

int dlqcopy_build(const char *value, size_t len, size_t max_len, bool force_cut, tthc_sb *out,
                  ingest_dlqcopy_info *info)
{
    memset(info, 0, sizeof *info);
    info->original_size = len;
    tthc_sb_reset(out);
    if (len && tthc_sb_add(out, value, len)) return -1;
    info->masked = len && dlqcopy_mask(out->p, out->len) > 0;
    if ((force_cut || len > max_len) && out->len > DLQCOPY_CUT_BYTES) {
        out->len = DLQCOPY_CUT_BYTES;
        info->cut = true;
    }
    if (info->masked || info->cut) sha256_hex(value, len, info->sha256);
    return 0;
}
