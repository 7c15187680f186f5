#include "prom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tthc_prom_family(tthc_sb *b, const char *name, const char *type, const char *help)
{
    return tthc_sb_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static int add_label_value(tthc_sb *b, const char *v)
{
    for (; *v; v++) {
        int r;
        if (*v == '\\') r = tthc_sb_adds(b, "\\\\");
        else if (*v == '"') r = tthc_sb_adds(b, "\\\"");
        else if (*v == '\n') r = tthc_sb_adds(b, "\\n");
        else r = tthc_sb_addc(b, *v);
        if (r) return -1;
    }
    return 0;
}

size_t tthc_prom_format_value(char *buf, size_t cap, double v)
{
    int n;
    if (cap < 32) {
        if (cap) buf[0] = '\0';
        return 0;
    }
    if (isnan(v)) n = snprintf(buf, cap, "NaN");
    else if (isinf(v)) n = snprintf(buf, cap, "%s", v > 0 ? "+Inf" : "-Inf");
    else if (v == 0) n = snprintf(buf, cap, "0");                                /* -0 too */
    else if (v == floor(v) && fabs(v) < 1e17) n = snprintf(buf, cap, "%.0f", v); /* exact: every digit */
    else {
        /* The shortest form that reads back as the same double. */
        for (int prec = 15; prec <= 17; prec++) {
            n = snprintf(buf, cap, "%.*g", prec, v);
            if (strtod(buf, NULL) == v) break;
        }
    }
    return n > 0 ? (size_t)n : 0;
}

static int add_value(tthc_sb *b, double v)
{
    char buf[40];
    size_t n = tthc_prom_format_value(buf, sizeof buf, v);
    return tthc_sb_add(b, buf, n);
}

int tthc_prom_sample(tthc_sb *b, const char *name, const char *const *labels, double value)
{
    int r = tthc_sb_adds(b, name);
    if (labels && labels[0]) {
        r |= tthc_sb_addc(b, '{');
        for (size_t i = 0; labels[i] && labels[i + 1]; i += 2) {
            r |= tthc_sb_addf(b, "%s%s=\"", i ? "," : "", labels[i]);
            r |= add_label_value(b, labels[i + 1]);
            r |= tthc_sb_addc(b, '"');
        }
        r |= tthc_sb_addc(b, '}');
    }
    r |= tthc_sb_addc(b, ' ');
    r |= add_value(b, value);
    r |= tthc_sb_addc(b, '\n');
    return r ? -1 : 0;
}

void tthc_prom_hist_init(tthc_prom_hist *h, const double *le, size_t n)
{
    memset(h, 0, sizeof *h);
    if (n > TTHC_PROM_MAX_BUCKETS) n = TTHC_PROM_MAX_BUCKETS;
    memcpy(h->le, le, n * sizeof *le);
    h->nb = n;
}

void tthc_prom_hist_observe(tthc_prom_hist *h, double v)
{
    for (size_t i = 0; i < h->nb; i++)
        if (v <= h->le[i]) {
            h->counts[i]++;
            break;
        }
    h->count++;
    h->sum += v;
}

int tthc_prom_hist_write(tthc_sb *b, const char *name, const char *help, const tthc_prom_hist *h)
{
    char n[128], le[32];
    int r = tthc_prom_family(b, name, "histogram", help);
    uint64_t cum = 0;
    snprintf(n, sizeof n, "%s_bucket", name);
    for (size_t i = 0; i < h->nb; i++) {
        cum += h->counts[i];
        tthc_prom_format_value(le, sizeof le, h->le[i]);
        const char *labels[] = {"le", le, NULL};
        r |= tthc_prom_sample(b, n, labels, (double)cum);
    }
    const char *inf[] = {"le", "+Inf", NULL};
    r |= tthc_prom_sample(b, n, inf, (double)h->count);
    snprintf(n, sizeof n, "%s_sum", name);
    r |= tthc_prom_sample(b, n, NULL, h->sum);
    snprintf(n, sizeof n, "%s_count", name);
    r |= tthc_prom_sample(b, n, NULL, (double)h->count);
    return r ? -1 : 0;
}
