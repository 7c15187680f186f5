#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

static const tthc_opt *find_opt(const tthc_cli *cli, const char *name, size_t len)
{
    for (size_t i = 0; i < cli->nopts; i++)
        if (strlen(cli->opts[i].name) == len && !strncmp(cli->opts[i].name, name, len)) return &cli->opts[i];
    return NULL;
}

static tthc_rc set_value(const tthc_opt *o, void *target, const char *val, const char *where, tthc_err *err)
{
    char *field = (char *)target + o->offset;
    switch (o->type) {
    case TTHC_OPT_STR:
    case TTHC_OPT_STR_EMPTY:
    case TTHC_OPT_SECRET: {
        char **p = (char **)(void *)field;
        char *copy = strdup(val);
        if (!copy) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        free(*p);
        *p = copy;
        return TTHC_OK;
    }
    case TTHC_OPT_INT: {
        char *end = NULL;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end)
            return tthc_fail(err, TTHC_EINVAL, "%s: %s wants an integer, got '%s'", where, o->name, val);
        if (v < o->min || v > o->max)
            return tthc_fail(err, TTHC_EINVAL, "%s: %s must be between %ld and %ld, got %ld", where, o->name, o->min,
                             o->max, v);
        *(long *)(void *)field = v;
        return TTHC_OK;
    }
    case TTHC_OPT_BOOL: {
        int b;
        if (!strcmp(val, "1") || !strcasecmp(val, "true") || !strcasecmp(val, "yes") || !strcasecmp(val, "on")) b = 1;
        else if (!strcmp(val, "0") || !strcasecmp(val, "false") || !strcasecmp(val, "no") || !strcasecmp(val, "off"))
            b = 0;
        else return tthc_fail(err, TTHC_EINVAL, "%s: %s wants true or false, got '%s'", where, o->name, val);
        *(int *)(void *)field = b;
        return TTHC_OK;
    }
    }
    return tthc_fail(err, TTHC_EINVAL, "bad option type");
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
    return s;
}

static tthc_rc load_file(const tthc_cli *cli, void *target, const char *path, tthc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return tthc_fail(err, TTHC_EIO, "%s: cannot open: %s", path, strerror(errno));
    char line[4096], where[1100];
    int lineno = 0;
    tthc_rc rc = TTHC_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#') continue;
        char *eq = strchr(s, '=');
        snprintf(where, sizeof where, "%s:%d", path, lineno);
        if (!eq) {
            rc = tthc_fail(err, TTHC_EINVAL, "%s: expected 'name = value'", where);
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        const tthc_opt *o = find_opt(cli, key, strlen(key));
        if (!o) {
            rc = tthc_fail(err, TTHC_EINVAL, "%s: unknown setting '%s'", where, key);
            break;
        }
        rc = set_value(o, target, val, where, err);
    }
    (void)fclose(f); /* read only: nothing to lose */
    return rc;
}

static int is_string(const tthc_opt *o)
{
    return o->type == TTHC_OPT_STR || o->type == TTHC_OPT_STR_EMPTY || o->type == TTHC_OPT_SECRET;
}

static char **str_field(const tthc_opt *o, void *target)
{
    return (char **)(void *)((char *)target + o->offset);
}

static void wipe_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

tthc_rc tthc_config_read_token(const char *path, bool empty_ok, char **out, tthc_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "r");
    if (!f) return tthc_fail(err, TTHC_EIO, "token file %s: %s", path, strerror(errno));
    char buf[4098]; /* one more than the longest token and its newline: longer is refused */
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int too_long = n == sizeof buf - 1 && fgetc(f) != EOF;
    (void)fclose(f); /* read only: nothing to lose */
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t')) buf[--n] = '\0';
    int ok = !too_long && n <= 4096 && (n > 0 || empty_ok);
    for (size_t i = 0; i < n && ok; i++) ok = buf[i] > 0x20 && buf[i] < 0x7f;
    char *t = ok ? strdup(buf) : NULL;
    explicit_bzero(buf, sizeof buf);
    if (!ok)
        return tthc_fail(err, TTHC_EINVAL, "token file %s: want one line of 1-4096 visible ASCII characters%s", path,
                         empty_ok ? " (or nothing)" : "");
    if (!t) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    *out = t;
    return TTHC_OK;
}

tthc_rc tthc_config_reload_tokens(const tthc_cli *cli, void *target, tthc_err *err)
{
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        if (!o->token_for) continue;
        const char *path = *str_field(o, target);
        const tthc_opt *to = find_opt(cli, o->token_for, strlen(o->token_for));
        if (!path || !*path) continue;
        if (!to || !is_string(to))
            return tthc_fail(err, TTHC_EINVAL, "--%s: no string option %s", o->name, o->token_for);
        char *t = NULL;
        tthc_rc rc = tthc_config_read_token(path, !to->required, &t, err);
        if (rc) return rc;
        char **dst = str_field(to, target);
        wipe_free(*dst);
        *dst = t;
    }
    return TTHC_OK;
}

void tthc_config_help(const tthc_cli *cli, FILE *out)
{
    fprintf(out, "Usage: %s [OPTIONS]%s%s\n%s\n\nOptions (flag, environment variable, default):\n", cli->prog,
            cli->usage_tail ? " " : "", cli->usage_tail ? cli->usage_tail : "", cli->summary);
    int kafka = 0;
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        const char *arg = o->type == TTHC_OPT_INT ? " N" : o->type == TTHC_OPT_BOOL ? " BOOL" : " VALUE";
        fprintf(out, "  --%s%s\n      %s\n", o->name, arg, o->help);
        /* Compiled-in defaults are never secret; values from the environment are never printed. */
        fprintf(out, "      env: %s%s%s; default: %s%s\n", o->env ? o->env : "-", o->env_fallback ? ", else " : "",
                o->env_fallback ? o->env_fallback : "", o->def ? o->def : "none",
                o->required && !o->def ? " (required)" : "");
        if (o->type == TTHC_OPT_INT) fprintf(out, "      range: %ld..%ld\n", o->min, o->max);
        if (o->token_for)
            fprintf(out,
                    "      the file's token replaces --%s (trailing blanks and newline ignored; 1-4096 visible "
                    "ASCII characters)\n",
                    o->token_for);
        if (o->env && !strcmp(o->env, "TTHC_KAFKA_BROKERS")) kafka = 1;
    }
    fprintf(out, "  --config FILE\n      read 'name = value' lines (names as the flags above)\n"
                 "  --help, --version\n");
    if (kafka)
        fprintf(out, "\nAny librdkafka property may be set as TTHC_KAFKA_<PROPERTY> with dots written as\n"
                     "underscores, e.g. TTHC_KAFKA_SECURITY_PROTOCOL=SASL_SSL.\n");
}

tthc_rc tthc_config_load(const tthc_cli *cli, void *target, int argc, char **argv, char ***rest, int *nrest,
                         tthc_err *err)
{
    tthc_rc rc;
    if (nrest) *nrest = 0;
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        if (o->def && (rc = set_value(o, target, o->def, "default", err))) return rc;
    }
    /* --help / --version / --config first, so that the file sits below env and flags. */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            tthc_config_help(cli, stdout);
            return TTHC_EXIT;
        }
        if (!strcmp(argv[i], "--version")) {
            printf("%s %s\n", cli->prog, TTHC_VERSION);
            return TTHC_EXIT;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *path = NULL;
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc) return tthc_fail(err, TTHC_EINVAL, "--config needs a file");
            path = argv[++i];
        } else if (!strncmp(argv[i], "--config=", 9)) {
            path = argv[i] + 9;
        }
        if (path && (rc = load_file(cli, target, path, err))) return rc;
    }
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        /* An empty variable counts as unset, except where empty is a value (off). */
        const char *name = o->env, *v = name ? getenv(name) : NULL;
        if ((!v || (!*v && o->type != TTHC_OPT_STR_EMPTY)) && o->env_fallback) v = getenv(name = o->env_fallback);
        if (v && (*v || o->type == TTHC_OPT_STR_EMPTY) && (rc = set_value(o, target, v, name, err))) return rc;
    }
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9)) continue;
        if (strncmp(a, "--", 2) || !a[2]) {
            if (!rest) return tthc_fail(err, TTHC_EINVAL, "unexpected argument '%s' (see --help)", a);
            (*rest)[(*nrest)++] = argv[i];
            continue;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        const tthc_opt *o = find_opt(cli, name, len);
        if (!o) return tthc_fail(err, TTHC_EINVAL, "unknown option '%.*s' (see --help)", (int)len + 2, a);
        const char *val;
        if (eq) {
            val = eq + 1;
        } else if (o->type == TTHC_OPT_BOOL && (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))) {
            val = "true";
        } else {
            if (i + 1 >= argc) return tthc_fail(err, TTHC_EINVAL, "--%s needs a value", o->name);
            val = argv[++i];
        }
        char where[160];
        snprintf(where, sizeof where, "--%s", o->name);
        if ((rc = set_value(o, target, val, where, err))) return rc;
    }
    if ((rc = tthc_config_reload_tokens(cli, target, err))) return rc;
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        if (!o->required || !is_string(o)) continue;
        const char *v = *str_field(o, target);
        if (v && *v) continue;
        const tthc_opt *file = NULL; /* a token file that could have set it */
        for (size_t j = 0; j < cli->nopts && !file; j++)
            if (cli->opts[j].token_for && !strcmp(cli->opts[j].token_for, o->name)) file = &cli->opts[j];
        if (file)
            return tthc_fail(err, TTHC_EINVAL, "%s (--%s) or %s (--%s) is required", o->env ? o->env : o->name, o->name,
                             file->env ? file->env : file->name, file->name);
        return tthc_fail(err, TTHC_EINVAL, "%s (--%s) is required", o->env ? o->env : o->name, o->name);
    }
    return TTHC_OK;
}

void tthc_config_free(const tthc_cli *cli, void *target)
{
    for (size_t i = 0; i < cli->nopts; i++) {
        const tthc_opt *o = &cli->opts[i];
        if (is_string(o)) {
            char **p = str_field(o, target);
            if (o->type == TTHC_OPT_SECRET) wipe_free(*p);
            else free(*p);
            *p = NULL;
        }
    }
}

tthc_rc tthc_config_kafka_env(int (*set)(void *ctx, const char *prop, const char *val, tthc_err *err), void *ctx,
                              tthc_err *err)
{
    static const char prefix[] = "TTHC_KAFKA_";
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, prefix, sizeof prefix - 1)) continue;
        const char *name = *e + sizeof prefix - 1, *eq = strchr(name, '=');
        if (!eq || eq == name) continue;
        size_t len = (size_t)(eq - name);
        if (len == 7 && !strncmp(name, "BROKERS", 7)) continue;
        char prop[256];
        if (len >= sizeof prop) return tthc_fail(err, TTHC_EINVAL, "%.*s: name too long", (int)len, *e);
        for (size_t i = 0; i < len; i++) prop[i] = (char)(name[i] == '_' ? '.' : tolower((unsigned char)name[i]));
        prop[len] = '\0';
        if (set(ctx, prop, eq + 1, err)) return TTHC_EINVAL;
    }
    return TTHC_OK;
}
