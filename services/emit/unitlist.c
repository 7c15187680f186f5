#include "unitlist.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static const char *const kind_names[EMIT_KIND__COUNT] = {"department", "ward", "commune", "other"};

const char *emit_kind_name(emit_kind k)
{
    return (unsigned)k < EMIT_KIND__COUNT ? kind_names[k] : "other";
}

/* Provincial departments and agencies receiving dossiers (names for the
 * simulation; codes in the DVCQG `<province>.<unit>` style). */
static const char *const departments[] = {
    "Văn phòng Ủy ban nhân dân tỉnh",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Sở Tài chính",
    "Sở Công Thương",
    "Sở Xây dựng",
    "Sở Nông nghiệp và Môi trường",
    "Sở Giáo dục và Đào tạo",
    "Sở Y tế",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
    "Sở Dân tộc và Tôn giáo",
    "Thanh tra tỉnh",
    "Ban Quản lý các khu công nghiệp tỉnh",
    "Văn phòng Đăng ký đất đai tỉnh",
    "Công an tỉnh",
    "Bảo hiểm xã hội tỉnh",
    "Thuế tỉnh",
    "Trung tâm Phục vụ hành chính công tỉnh",
    "Ban Quản lý Khu kinh tế tỉnh",
};

/* The 19 wards of the merged province (Nghị quyết 1687/NQ-UBTVQH15). */
static const char *const wards[] = {
    "Thanh Đức", "Long Châu", "Phước Hậu", "Tân Hạnh",  "Tân Ngãi", "Bình Minh",  "Cái Vồn",
    "Đông Thành", "An Hội",   "Phú Khương", "Bến Tre",  "Sơn Đông", "Phú Tân",    "Long Đức",
    "Trà Vinh",  "Nguyệt Hóa", "Hòa Thuận", "Duyên Hải", "Trường Long Hòa",
};

#define N_DEPARTMENTS (sizeof departments / sizeof departments[0])
#define N_WARDS (sizeof wards / sizeof wards[0])
#define N_COMMUNES 105

tthc_rc emit_unitlist_builtin(emit_unitlist *out, tthc_err *err)
{
    size_t n = N_DEPARTMENTS + N_WARDS + N_COMMUNES;
    out->v = calloc(n, sizeof *out->v);
    out->n = 0;
    if (!out->v) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    for (size_t i = 0; i < N_DEPARTMENTS; i++) {
        emit_unit *u = &out->v[out->n++];
        snprintf(u->code, sizeof u->code, "H61.%02zu", i + 1);
        snprintf(u->name, sizeof u->name, "%s", departments[i]);
        u->kind = EMIT_KIND_DEPARTMENT;
    }
    for (size_t i = 0; i < N_WARDS + N_COMMUNES; i++) {
        emit_unit *u = &out->v[out->n++];
        snprintf(u->code, sizeof u->code, "H61.%zu", 101 + i);
        if (i < N_WARDS) {
            snprintf(u->name, sizeof u->name, "Phường %s", wards[i]);
            u->kind = EMIT_KIND_WARD;
        } else {
            /* Placeholder names: replace with the official list via --units-file. */
            snprintf(u->name, sizeof u->name, "Xã số %zu", i - N_WARDS + 1);
            u->kind = EMIT_KIND_COMMUNE;
        }
    }
    return TTHC_OK;
}

int emit_unitlist_find(const emit_unitlist *l, const char *code)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i].code, code)) return (int)i;
    return -1;
}

static int parse_kind(const char *s, emit_kind *k)
{
    for (int i = 0; i < EMIT_KIND__COUNT; i++)
        if (!strcmp(s, kind_names[i])) {
            *k = (emit_kind)i;
            return 0;
        }
    return -1;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > EMIT_UNIT_NAME_MAX || !tthc_utf8_valid((const unsigned char *)s, n)) return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) return false;
    return true;
}

/* One line (NUL-terminated, no newline) into *u. */
static tthc_rc parse_line(char *line, const char *where, int lineno, emit_unit *u, tthc_err *err)
{
    char *f[3];
    int nf = 0;
    char *p = line;
    while (nf < 3) {
        f[nf++] = p;
        char *tab = nf < 3 ? strchr(p, '\t') : NULL;
        if (!tab) break;
        *tab = '\0';
        p = tab + 1;
    }
    if (nf != 3 || strchr(f[2], '\t'))
        return tthc_fail(err, TTHC_EINVAL, "%s:%d: expected code<TAB>name<TAB>kind", where, lineno);
    size_t kl = strlen(f[2]);
    if (kl && f[2][kl - 1] == '\r') f[2][kl - 1] = '\0';
    if (strlen(f[0]) > TTHC_UNIT_MAX || !tthc_valid_unit_code(f[0]))
        return tthc_fail(err, TTHC_EINVAL, "%s:%d: unit code must be <province>.<unit> (e.g. H61.07)", where, lineno);
    if (!name_ok(f[1]))
        return tthc_fail(err, TTHC_EINVAL, "%s:%d: name must be 1-%d bytes of UTF-8 without control characters",
                         where, lineno, EMIT_UNIT_NAME_MAX);
    if (parse_kind(f[2], &u->kind))
        return tthc_fail(err, TTHC_EINVAL, "%s:%d: kind must be department, ward, commune or other", where, lineno);
    memcpy(u->code, f[0], strlen(f[0]) + 1);
    memcpy(u->name, f[1], strlen(f[1]) + 1);
    return TTHC_OK;
}

tthc_rc emit_unitlist_parse(const char *text, const char *where, emit_unitlist *out, tthc_err *err)
{
    out->v = NULL;
    out->n = 0;
    size_t cap = 0;
    char *copy = strdup(text);
    if (!copy) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    tthc_rc rc = TTHC_OK;
    int lineno = 0;
    char *line = copy;
    while (!rc && line && *line) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        if (*line && *line != '#' && strcmp(line, "\r")) {
            if (out->n == cap) {
                size_t ncap = cap ? cap * 2 : 64;
                emit_unit *nv = realloc(out->v, ncap * sizeof *nv);
                if (!nv) {
                    rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
                    break;
                }
                out->v = nv;
                cap = ncap;
            }
            emit_unit *u = &out->v[out->n];
            rc = parse_line(line, where, lineno, u, err);
            if (!rc && emit_unitlist_find(out, u->code) >= 0)
                rc = tthc_fail(err, TTHC_EINVAL, "%s:%d: unit %s listed twice", where, lineno, u->code);
            if (!rc) out->n++;
        }
        line = nl ? nl + 1 : NULL;
    }
    free(copy);
    if (!rc && out->n == 0) rc = tthc_fail(err, TTHC_EINVAL, "%s: no units", where);
    if (rc) emit_unitlist_free(out);
    return rc;
}

tthc_rc emit_unitlist_load(const char *path, emit_unitlist *out, tthc_err *err)
{
    out->v = NULL;
    out->n = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return tthc_fail(err, TTHC_EIO, "%s: cannot open: %s", path, strerror(errno));
    tthc_sb sb;
    tthc_sb_init(&sb, 16u << 20);
    char buf[8192];
    size_t n;
    tthc_rc rc = TTHC_OK;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (tthc_sb_add(&sb, buf, n)) {
            rc = tthc_fail(err, TTHC_EINVAL, "%s: larger than 16 MiB or out of memory", path);
            break;
        }
    if (!rc && ferror(f)) rc = tthc_fail(err, TTHC_EIO, "%s: read error", path);
    (void)fclose(f); /* read only; read errors were checked with ferror */
    if (!rc && (tthc_sb_addc(&sb, '\0') || memchr(sb.p, '\0', sb.len - 1)))
        rc = tthc_fail(err, TTHC_EINVAL, "%s: NUL byte or out of memory", path);
    if (!rc) rc = emit_unitlist_parse(sb.p, path, out, err);
    tthc_sb_free(&sb);
    return rc;
}

void emit_unitlist_write(const emit_unitlist *l, FILE *f)
{
    fputs("# Receiving units: code<TAB>name<TAB>kind (department, ward, commune, other).\n"
          "# Read by tthc-emit --units-file and tthc-report --units-file.\n",
          f);
    for (size_t i = 0; i < l->n; i++)
        fprintf(f, "%s\t%s\t%s\n", l->v[i].code, l->v[i].name, emit_kind_name(l->v[i].kind));
}

void emit_unitlist_free(emit_unitlist *l)
{
    free(l->v);
    l->v = NULL;
    l->n = 0;
}
