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

/* Provincial departments and agencies, H61.01..H61.20.  Ten codes are the
 * national portal's own (data/vinhlong-units-2025.csv); the others are
 * simulated codes for real provincial bodies whose portal code no source gave
 * (marked "sim"), so that the simulation has every kind of receiving unit. */
static const struct {
    const char *name;
    bool simulated; /* documentation: the code is not the portal's */
} departments[] = {
    {"Văn phòng Ủy ban nhân dân tỉnh", true},          /* H61.01 */
    {"Sở Nội vụ", false},                               /* H61.02 */
    {"Sở Tài chính", false},                            /* H61.03 */
    {"Sở Giáo dục và Đào tạo", true},                  /* H61.04 */
    {"Sở Công Thương", false},                          /* H61.05 */
    {"Thanh tra tỉnh", true},                           /* H61.06 */
    {"Sở Xây dựng", false},                             /* H61.07 */
    {"Sở Dân tộc và Tôn giáo", true},                  /* H61.08 */
    {"Sở Y tế", false},                                 /* H61.09 */
    {"Sở Khoa học và Công nghệ", false},                /* H61.10 */
    {"Trung tâm Phục vụ hành chính công tỉnh", true},  /* H61.11 */
    {"Sở Nông nghiệp và Môi trường", false},            /* H61.12 */
    {"Công an tỉnh", true},                             /* H61.13 */
    {"Sở Tư pháp", false},                              /* H61.14 */
    {"Sở Văn hóa, Thể thao và Du lịch", false},         /* H61.15 */
    {"Bảo hiểm xã hội tỉnh", true},                     /* H61.16 */
    {"Thuế tỉnh", true},                                /* H61.17 */
    {"Văn phòng Đăng ký đất đai tỉnh", true},           /* H61.18 */
    {"Ban Quản lý các khu công nghiệp tỉnh", true},     /* H61.19 */
    {"Ban Quản lý Khu kinh tế", false},                 /* H61.20 */
};

/* The 124 communes and wards of Vĩnh Long after 1 July 2025 (Nghị quyết
 * 1687/NQ-UBTVQH15), H61.101..H61.224 in code order, with their portal codes
 * (data/vinhlong-units-2025.csv). */
static const struct {
    const char *name;
    emit_kind kind;
} communes[] = {
    {"Xã Cái Nhum", EMIT_KIND_COMMUNE},
    {"Xã Tân Long Hội", EMIT_KIND_COMMUNE},
    {"Xã Nhơn Phú", EMIT_KIND_COMMUNE},
    {"Xã Bình Phước", EMIT_KIND_COMMUNE},
    {"Xã An Bình", EMIT_KIND_COMMUNE},
    {"Xã Long Hồ", EMIT_KIND_COMMUNE},
    {"Xã Phú Quới", EMIT_KIND_COMMUNE},
    {"Phường Thanh Đức", EMIT_KIND_WARD},
    {"Phường Long Châu", EMIT_KIND_WARD},
    {"Phường Phước Hậu", EMIT_KIND_WARD},
    {"Phường Tân Hạnh", EMIT_KIND_WARD},
    {"Phường Tân Ngãi", EMIT_KIND_WARD},
    {"Xã Quới Thiện", EMIT_KIND_COMMUNE},
    {"Xã Trung Thành", EMIT_KIND_COMMUNE},
    {"Xã Trung Ngãi", EMIT_KIND_COMMUNE},
    {"Xã Quới An", EMIT_KIND_COMMUNE},
    {"Xã Trung Hiệp", EMIT_KIND_COMMUNE},
    {"Xã Hiếu Phụng", EMIT_KIND_COMMUNE},
    {"Xã Hiếu Thành", EMIT_KIND_COMMUNE},
    {"Xã Lục Sĩ Thành", EMIT_KIND_COMMUNE},
    {"Xã Trà Ôn", EMIT_KIND_COMMUNE},
    {"Xã Trà Côn", EMIT_KIND_COMMUNE},
    {"Xã Vĩnh Xuân", EMIT_KIND_COMMUNE},
    {"Xã Hòa Bình", EMIT_KIND_COMMUNE},
    {"Xã Hòa Hiệp", EMIT_KIND_COMMUNE},
    {"Xã Tam Bình", EMIT_KIND_COMMUNE},
    {"Xã Ngãi Tứ", EMIT_KIND_COMMUNE},
    {"Xã Song Phú", EMIT_KIND_COMMUNE},
    {"Xã Cái Ngang", EMIT_KIND_COMMUNE},
    {"Xã Tân Quới", EMIT_KIND_COMMUNE},
    {"Xã Tân Lược", EMIT_KIND_COMMUNE},
    {"Xã Mỹ Thuận", EMIT_KIND_COMMUNE},
    {"Phường Bình Minh", EMIT_KIND_WARD},
    {"Phường Cái Vồn", EMIT_KIND_WARD},
    {"Phường Đông Thành", EMIT_KIND_WARD},
    {"Phường Long Đức", EMIT_KIND_WARD},
    {"Phường Trà Vinh", EMIT_KIND_WARD},
    {"Phường Nguyệt Hóa", EMIT_KIND_WARD},
    {"Phường Hòa Thuận", EMIT_KIND_WARD},
    {"Phường Duyên Hải", EMIT_KIND_WARD},
    {"Phường Trường Long Hòa", EMIT_KIND_WARD},
    {"Phường An Hội", EMIT_KIND_WARD},
    {"Phường Phú Khương", EMIT_KIND_WARD},
    {"Phường Bến Tre", EMIT_KIND_WARD},
    {"Phường Sơn Đông", EMIT_KIND_WARD},
    {"Phường Phú Tân", EMIT_KIND_WARD},
    {"Xã An Trường", EMIT_KIND_COMMUNE},
    {"Xã Tân An", EMIT_KIND_COMMUNE},
    {"Xã Càng Long", EMIT_KIND_COMMUNE},
    {"Xã Nhị Long", EMIT_KIND_COMMUNE},
    {"Xã Bình Phú", EMIT_KIND_COMMUNE},
    {"Xã Song Lộc", EMIT_KIND_COMMUNE},
    {"Xã Châu Thành", EMIT_KIND_COMMUNE},
    {"Xã Hưng Mỹ", EMIT_KIND_COMMUNE},
    {"Xã Hòa Minh", EMIT_KIND_COMMUNE},
    {"Xã Long Hòa", EMIT_KIND_COMMUNE},
    {"Xã Cầu Kè", EMIT_KIND_COMMUNE},
    {"Xã Phong Thạnh", EMIT_KIND_COMMUNE},
    {"Xã An Phú Tân", EMIT_KIND_COMMUNE},
    {"Xã Tam Ngãi", EMIT_KIND_COMMUNE},
    {"Xã Tân Hòa", EMIT_KIND_COMMUNE},
    {"Xã Hùng Hòa", EMIT_KIND_COMMUNE},
    {"Xã Tiểu Cần", EMIT_KIND_COMMUNE},
    {"Xã Tập Ngãi", EMIT_KIND_COMMUNE},
    {"Xã Mỹ Long", EMIT_KIND_COMMUNE},
    {"Xã Vinh Kim", EMIT_KIND_COMMUNE},
    {"Xã Cầu Ngang", EMIT_KIND_COMMUNE},
    {"Xã Nhị Trường", EMIT_KIND_COMMUNE},
    {"Xã Hiệp Mỹ", EMIT_KIND_COMMUNE},
    {"Xã Lưu Nghiệp Anh", EMIT_KIND_COMMUNE},
    {"Xã Đại An", EMIT_KIND_COMMUNE},
    {"Xã Hàm Giang", EMIT_KIND_COMMUNE},
    {"Xã Trà Cú", EMIT_KIND_COMMUNE},
    {"Xã Long Hiệp", EMIT_KIND_COMMUNE},
    {"Xã Tập Sơn", EMIT_KIND_COMMUNE},
    {"Xã Long Hữu", EMIT_KIND_COMMUNE},
    {"Xã Long Thành", EMIT_KIND_COMMUNE},
    {"Xã Đông Hải", EMIT_KIND_COMMUNE},
    {"Xã Long Vĩnh", EMIT_KIND_COMMUNE},
    {"Xã Đôn Châu", EMIT_KIND_COMMUNE},
    {"Xã Ngũ Lạc", EMIT_KIND_COMMUNE},
    {"Xã Giao Long", EMIT_KIND_COMMUNE},
    {"Xã Phú Túc", EMIT_KIND_COMMUNE},
    {"Xã Tiên Thủy", EMIT_KIND_COMMUNE},
    {"Xã Tân Phú", EMIT_KIND_COMMUNE},
    {"Xã Phú Phụng", EMIT_KIND_COMMUNE},
    {"Xã Chợ Lách", EMIT_KIND_COMMUNE},
    {"Xã Vĩnh Thành", EMIT_KIND_COMMUNE},
    {"Xã Hưng Khánh Trung", EMIT_KIND_COMMUNE},
    {"Xã Phước Mỹ Trung", EMIT_KIND_COMMUNE},
    {"Xã Tân Thành Bình", EMIT_KIND_COMMUNE},
    {"Xã Nhuận Phú Tân", EMIT_KIND_COMMUNE},
    {"Xã Đồng Khởi", EMIT_KIND_COMMUNE},
    {"Xã Mỏ Cày", EMIT_KIND_COMMUNE},
    {"Xã Thành Thới", EMIT_KIND_COMMUNE},
    {"Xã An Định", EMIT_KIND_COMMUNE},
    {"Xã Hương Mỹ", EMIT_KIND_COMMUNE},
    {"Xã Đại Điền", EMIT_KIND_COMMUNE},
    {"Xã Quới Điền", EMIT_KIND_COMMUNE},
    {"Xã Thạnh Phú", EMIT_KIND_COMMUNE},
    {"Xã An Qui", EMIT_KIND_COMMUNE},
    {"Xã Thạnh Hải", EMIT_KIND_COMMUNE},
    {"Xã Thạnh Phong", EMIT_KIND_COMMUNE},
    {"Xã Tân Thủy", EMIT_KIND_COMMUNE},
    {"Xã Bảo Thạnh", EMIT_KIND_COMMUNE},
    {"Xã Ba Tri", EMIT_KIND_COMMUNE},
    {"Xã Tân Xuân", EMIT_KIND_COMMUNE},
    {"Xã Mỹ Chánh Hòa", EMIT_KIND_COMMUNE},
    {"Xã An Ngãi Trung", EMIT_KIND_COMMUNE},
    {"Xã An Hiệp", EMIT_KIND_COMMUNE},
    {"Xã Hưng Nhượng", EMIT_KIND_COMMUNE},
    {"Xã Giồng Trôm", EMIT_KIND_COMMUNE},
    {"Xã Tân Hào", EMIT_KIND_COMMUNE},
    {"Xã Phước Long", EMIT_KIND_COMMUNE},
    {"Xã Lương Phú", EMIT_KIND_COMMUNE},
    {"Xã Châu Hòa", EMIT_KIND_COMMUNE},
    {"Xã Lương Hòa", EMIT_KIND_COMMUNE},
    {"Xã Thới Thuận", EMIT_KIND_COMMUNE},
    {"Xã Thạnh Phước", EMIT_KIND_COMMUNE},
    {"Xã Bình Đại", EMIT_KIND_COMMUNE},
    {"Xã Thạnh Trị", EMIT_KIND_COMMUNE},
    {"Xã Lộc Thuận", EMIT_KIND_COMMUNE},
    {"Xã Châu Hưng", EMIT_KIND_COMMUNE},
    {"Xã Phú Thuận", EMIT_KIND_COMMUNE},
};

#define N_DEPARTMENTS (sizeof departments / sizeof departments[0])
#define N_COMMUNES (sizeof communes / sizeof communes[0])

tthc_rc emit_unitlist_builtin(emit_unitlist *out, tthc_err *err)
{
    size_t n = N_DEPARTMENTS + N_COMMUNES;
    out->v = calloc(n, sizeof *out->v);
    out->n = 0;
    if (!out->v) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    for (size_t i = 0; i < N_DEPARTMENTS; i++) {
        emit_unit *u = &out->v[out->n++];
        snprintf(u->code, sizeof u->code, "H61.%02zu", i + 1);
        snprintf(u->name, sizeof u->name, "%s", departments[i].name);
        u->kind = EMIT_KIND_DEPARTMENT;
    }
    for (size_t i = 0; i < N_COMMUNES; i++) {
        emit_unit *u = &out->v[out->n++];
        snprintf(u->code, sizeof u->code, "H61.%zu", 101 + i);
        snprintf(u->name, sizeof u->name, "%s", communes[i].name);
        u->kind = communes[i].kind;
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
          "# Read by tthc-emit --units-file and tthc-report --units-file.\n"
          "# Built-in list: Vĩnh Long (H61) after 1 July 2025, names and codes from data/vinhlong-units-2025.csv;\n"
          "# H61.01, .04, .06, .08, .11, .13, .16, .17, .18, .19 are simulated codes (no portal code known).\n",
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
