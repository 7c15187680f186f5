/* test_config.c - common/config.c: defaults, --config FILE, environment and
 * flags in that order of precedence; integer, boolean and string parsing with
 * the source named in every error; required settings; positional arguments;
 * --help text from the table; TTHC_KAFKA_<PROPERTY> variables. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#include "check.h"

typedef struct {
    char *name;
    char *token;
    long count;
    int flag;
} settings;

#define OPT(...) TTHC_OPT(settings, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(name, "name", TTHC_OPT_STR, .env = "TTHC_TEST_NAME", .def = "dflt", .help = "a name"),
    OPT(token, "token", TTHC_OPT_SECRET, .env = "TTHC_TEST_TOKEN", .help = "a secret"),
    OPT(count, "count", TTHC_OPT_INT, .env = "TTHC_TEST_COUNT", .def = "5", .min = 1, .max = 100, .help = "a number"),
    OPT(flag, "flag", TTHC_OPT_BOOL, .def = "false", .help = "a switch"),
};
static const tthc_cli cli = {"tthc-test", "Tests the configuration loader.", "[ARGS...]", opts,
                             sizeof opts / sizeof opts[0]};
static const tthc_opt required_opts[] = {
    OPT(token, "token", TTHC_OPT_SECRET, .env = "TTHC_TEST_TOKEN", .required = 1, .help = "a secret"),
};
static const tthc_cli required_cli = {"tthc-test", "Required.", NULL, required_opts, 1};

static void clear_env(void)
{
    (void)unsetenv("TTHC_TEST_NAME");
    (void)unsetenv("TTHC_TEST_TOKEN");
    (void)unsetenv("TTHC_TEST_COUNT");
}

/* Loads argv (NULL-terminated, argv[0] included) into *s; returns the rc. */
static tthc_rc load(const tthc_cli *c, settings *s, char **argv, char ***rest, int *nrest, tthc_err *err)
{
    int argc = 0;
    while (argv[argc]) argc++;
    memset(s, 0, sizeof *s);
    memset(err, 0, sizeof *err);
    return tthc_config_load(c, s, argc, argv, rest, nrest, err);
}

static char *write_file(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/tthc-test-config.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    (void)close(fd);
    return w == (ssize_t)len ? path : NULL;
}

static void test_precedence(void)
{
    settings s;
    tthc_err err;
    clear_env();

    char *a0[] = {"prog", NULL};
    CHECK(load(&cli, &s, a0, NULL, NULL, &err) == TTHC_OK, "defaults: %s", err.msg);
    CHECK_STR(s.name, "dflt");
    CHECK(s.token == NULL, "no default: unset");
    CHECK_INT(s.count, 5);
    CHECK_INT(s.flag, 0);
    tthc_config_free(&cli, &s);
    CHECK(s.name == NULL && s.token == NULL, "free clears the strings");

    char *path = write_file("# a comment\n\n  name =  from file  \ncount=7\nflag = yes\n");
    CHECK(path != NULL, "temp file");
    if (!path) return;
    char cfg[80];
    snprintf(cfg, sizeof cfg, "--config=%s", path);
    char *a1[] = {"prog", cfg, NULL};
    CHECK(load(&cli, &s, a1, NULL, NULL, &err) == TTHC_OK, "file: %s", err.msg);
    CHECK_STR(s.name, "from file"); /* trimmed on both sides */
    CHECK_INT(s.count, 7);
    CHECK_INT(s.flag, 1);
    tthc_config_free(&cli, &s);

    /* The environment overrides the file; an empty variable counts as unset. */
    (void)setenv("TTHC_TEST_NAME", "from env", 1);
    (void)setenv("TTHC_TEST_COUNT", "", 1);
    CHECK(load(&cli, &s, a1, NULL, NULL, &err) == TTHC_OK, "env: %s", err.msg);
    CHECK_STR(s.name, "from env");
    CHECK_INT(s.count, 7);
    tthc_config_free(&cli, &s);

    /* Flags override everything, in both spellings; the file may come last. */
    char *a2[] = {"prog", "--name", "from flag", "--count=9", "--config", path, NULL};
    CHECK(load(&cli, &s, a2, NULL, NULL, &err) == TTHC_OK, "flags: %s", err.msg);
    CHECK_STR(s.name, "from flag");
    CHECK_INT(s.count, 9);
    CHECK_INT(s.flag, 1);
    tthc_config_free(&cli, &s);

    /* A boolean flag alone means true; followed by a value, takes it. */
    char *a3[] = {"prog", "--flag", "--count", "3", NULL};
    CHECK(load(&cli, &s, a3, NULL, NULL, &err) == TTHC_OK && s.flag == 1, "--flag alone: %s", err.msg);
    tthc_config_free(&cli, &s);
    char *a4[] = {"prog", "--config", path, "--flag", "off", NULL};
    CHECK(load(&cli, &s, a4, NULL, NULL, &err) == TTHC_OK && s.flag == 0, "--flag off: %s", err.msg);
    tthc_config_free(&cli, &s);

    (void)unlink(path);
    clear_env();
}

static void test_errors(void)
{
    static const struct {
        const char *args[4];
        const char *env_count; /* TTHC_TEST_COUNT, or NULL */
        const char *want;      /* a part of the message */
    } cases[] = {
        {{"--count", "abc"}, NULL, "--count: count wants an integer, got 'abc'"},
        {{"--count", "12x"}, NULL, "wants an integer"},
        {{"--count", "0"}, NULL, "count must be between 1 and 100, got 0"},
        {{"--count=101"}, NULL, "between 1 and 100"},
        {{"--count", "99999999999999999999"}, NULL, "wants an integer"},
        {{"--count"}, NULL, "--count needs a value"},
        {{"--flag=maybe"}, NULL, "flag wants true or false, got 'maybe'"},
        {{"--nosuch", "1"}, NULL, "unknown option '--nosuch'"},
        {{"--name=x", "stray"}, NULL, "unexpected argument 'stray'"},
        {{"--config"}, NULL, "--config needs a file"},
        {{"--config", "/nonexistent/tthc.conf"}, NULL, "/nonexistent/tthc.conf: cannot open"},
        {{NULL}, "7x", "TTHC_TEST_COUNT: count wants an integer"}, /* the variable is named */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[6] = {"prog"};
        int n = 1;
        for (int k = 0; k < 4 && cases[i].args[k]; k++) argv[n++] = (char *)cases[i].args[k];
        argv[n] = NULL;
        clear_env();
        if (cases[i].env_count) (void)setenv("TTHC_TEST_COUNT", cases[i].env_count, 1);
        settings s;
        tthc_err err;
        tthc_rc rc = load(&cli, &s, argv, NULL, NULL, &err);
        CHECK(rc != TTHC_OK && rc != TTHC_EXIT, "case %zu accepted", i);
        CHECK(strstr(err.msg, cases[i].want) != NULL, "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
        tthc_config_free(&cli, &s);
    }
    clear_env();

    /* In a file, the error names file:line. */
    char *path = write_file("name = a\n\ncount = 1000\n");
    CHECK(path != NULL, "temp file");
    if (path) {
        char *argv[] = {"prog", "--config", path, NULL};
        char want[96];
        snprintf(want, sizeof want, "%s:3: count must be between", path);
        settings s;
        tthc_err err;
        CHECK(load(&cli, &s, argv, NULL, NULL, &err) == TTHC_EINVAL, "bad file accepted");
        CHECK(strstr(err.msg, want) != NULL, "'%s' lacks '%s'", err.msg, want);
        tthc_config_free(&cli, &s);
        (void)unlink(path);
    }
    path = write_file("just words\n");
    if (path) {
        char *argv[] = {"prog", "--config", path, NULL};
        settings s;
        tthc_err err;
        CHECK(load(&cli, &s, argv, NULL, NULL, &err) == TTHC_EINVAL && strstr(err.msg, ":1: expected 'name = value'"),
              "line without '=': %s", err.msg);
        tthc_config_free(&cli, &s);
        (void)unlink(path);
    }
    path = write_file("colour = blue\n");
    if (path) {
        char *argv[] = {"prog", "--config", path, NULL};
        settings s;
        tthc_err err;
        CHECK(load(&cli, &s, argv, NULL, NULL, &err) == TTHC_EINVAL && strstr(err.msg, "unknown setting 'colour'"),
              "unknown setting: %s", err.msg);
        tthc_config_free(&cli, &s);
        (void)unlink(path);
    }
}

static void test_required_and_rest(void)
{
    settings s;
    tthc_err err;
    clear_env();
    char *a0[] = {"prog", NULL};
    CHECK(load(&required_cli, &s, a0, NULL, NULL, &err) == TTHC_EINVAL, "missing required accepted");
    CHECK(strstr(err.msg, "TTHC_TEST_TOKEN (--token) is required") != NULL, "message: %s", err.msg);
    tthc_config_free(&required_cli, &s);
    (void)setenv("TTHC_TEST_TOKEN", "t0k", 1);
    CHECK(load(&required_cli, &s, a0, NULL, NULL, &err) == TTHC_OK && s.token && !strcmp(s.token, "t0k"),
          "required from the environment: %s", err.msg);
    tthc_config_free(&required_cli, &s);
    clear_env();

    /* Positional arguments stay in order, flags between them are read. */
    char *a1[] = {"prog", "reconcile", "--count", "4", "-", "2025-03", NULL};
    char *slots[8];
    char **rest = slots;
    int nrest = -1;
    CHECK(load(&cli, &s, a1, &rest, &nrest, &err) == TTHC_OK, "rest: %s", err.msg);
    CHECK_INT(nrest, 3);
    if (nrest == 3) {
        CHECK_STR(rest[0], "reconcile");
        CHECK_STR(rest[1], "-");
        CHECK_STR(rest[2], "2025-03");
    }
    CHECK_INT(s.count, 4);
    tthc_config_free(&cli, &s);
}

static void test_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL, "memstream");
    if (!f) return;
    tthc_config_help(&cli, f);
    (void)fclose(f);
    CHECK(strstr(text, "Usage: tthc-test [OPTIONS] [ARGS...]\nTests the configuration loader.\n") != NULL, "%s", text);
    CHECK(strstr(text, "  --name VALUE\n      a name\n      env: TTHC_TEST_NAME; default: dflt\n") != NULL, "%s", text);
    CHECK(strstr(text, "  --count N\n      a number\n      env: TTHC_TEST_COUNT; default: 5\n      range: 1..100\n"),
          "%s", text);
    CHECK(strstr(text, "  --flag BOOL\n      a switch\n      env: -; default: false\n") != NULL, "%s", text);
    CHECK(strstr(text, "env: TTHC_TEST_TOKEN; default: none\n") != NULL, "%s", text);
    CHECK(strstr(text, "TTHC_KAFKA_<PROPERTY>") == NULL, "no Kafka note without a Kafka option: %s", text);
    free(text);

    /* A value from the environment is never printed by --help. */
    (void)setenv("TTHC_TEST_TOKEN", "s3cr3t-value", 1);
    text = NULL;
    f = open_memstream(&text, &len);
    if (f) {
        tthc_config_help(&cli, f);
        (void)fclose(f);
        CHECK(strstr(text, "s3cr3t-value") == NULL, "secret printed");
        free(text);
    }
    clear_env();
}

typedef struct {
    char seen[8][2][64];
    int n;
    int fail_on; /* index that fails, or -1 */
} kafka_rec;

static int record(void *ctx, const char *prop, const char *val, tthc_err *err)
{
    kafka_rec *r = ctx;
    if (r->n == r->fail_on) {
        (void)tthc_fail(err, TTHC_EINVAL, "refused %s", prop);
        return -1;
    }
    if (r->n < 8) {
        snprintf(r->seen[r->n][0], sizeof r->seen[0][0], "%s", prop);
        snprintf(r->seen[r->n][1], sizeof r->seen[0][1], "%s", val);
    }
    r->n++;
    return 0;
}

static int recorded(const kafka_rec *r, const char *prop, const char *val)
{
    for (int i = 0; i < r->n && i < 8; i++)
        if (!strcmp(r->seen[i][0], prop) && !strcmp(r->seen[i][1], val)) return 1;
    return 0;
}

static void test_kafka_env(void)
{
    (void)setenv("TTHC_KAFKA_SECURITY_PROTOCOL", "SASL_SSL", 1);
    (void)setenv("TTHC_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", 1);
    (void)setenv("TTHC_KAFKA_BROKERS", "b1:9092", 1); /* bootstrap.servers: not passed as a property */
    (void)setenv("TTHC_KAFKAX", "ignored", 1);
    kafka_rec r = {.fail_on = -1};
    tthc_err err = {{0}};
    CHECK(tthc_config_kafka_env(record, &r, &err) == TTHC_OK, "kafka env: %s", err.msg);
    CHECK_INT(r.n, 2);
    CHECK(recorded(&r, "security.protocol", "SASL_SSL"), "security.protocol");
    CHECK(recorded(&r, "sasl.mechanism", "SCRAM-SHA-512"), "sasl.mechanism");
    CHECK(!recorded(&r, "brokers", "b1:9092"), "BROKERS is not a property");

    kafka_rec bad = {.fail_on = 0};
    CHECK(tthc_config_kafka_env(record, &bad, &err) == TTHC_EINVAL, "a refused property fails");
    CHECK(strstr(err.msg, "refused") != NULL, "the setter's message is kept: %s", err.msg);

    (void)unsetenv("TTHC_KAFKA_SECURITY_PROTOCOL");
    (void)unsetenv("TTHC_KAFKA_SASL_MECHANISM");
    (void)unsetenv("TTHC_KAFKA_BROKERS");
    (void)unsetenv("TTHC_KAFKAX");
}

typedef struct {
    char *brokers, *dsn, *token, *token_file, *next, *next_file;
} files_settings;

#define FOPT(...) TTHC_OPT(files_settings, __VA_ARGS__)

static const tthc_opt files_opts[] = {
    FOPT(brokers, "brokers", TTHC_OPT_STR, .env = "TTHC_KAFKA_BROKERS", .def = "b:9092", .help = "brokers"),
    FOPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_TEST_OWN_DSN", .env_fallback = "TTHC_TEST_DSN",
         .def = "postgresql:///t", .help = "a DSN with a fallback variable"),
    FOPT(token, "token", TTHC_OPT_SECRET, .env = "TTHC_TEST_TOKEN", .required = 1, .help = "a token"),
    FOPT(token_file, "token-file", TTHC_OPT_STR, .env = "TTHC_TEST_TOKEN_FILE", .token_for = "token",
         .help = "the token's file"),
    FOPT(next, "next", TTHC_OPT_SECRET, .help = "a second token"),
    FOPT(next_file, "next-file", TTHC_OPT_STR, .token_for = "next", .help = "its file (may be empty)"),
};
static const tthc_cli files_cli = {"tthc-test", "Files.", NULL, files_opts, sizeof files_opts / sizeof files_opts[0]};

static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL, "%s", path);
    if (!f) return;
    (void)fputs(text, f);
    (void)fclose(f);
}

static void test_fallback_and_token_files(void)
{
    tthc_err err = {{0}};
    files_settings s;
    char tmpl[] = "/tmp/tthc-test-config.XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL, "mkdtemp");
    if (!dir) return;
    char tok[300], next[300];
    snprintf(tok, sizeof tok, "%s/token", dir);
    snprintf(next, sizeof next, "%s/next", dir);

    /* The fallback variable: read only when the option's own is unset or empty. */
    (void)setenv("TTHC_TEST_TOKEN", "t0", 1);
    char *a0[] = {"prog", NULL};
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 1, a0, NULL, NULL, &err) == TTHC_OK, "%s", err.msg);
    CHECK_STR(s.dsn, "postgresql:///t");
    tthc_config_free(&files_cli, &s);
    (void)setenv("TTHC_TEST_DSN", "from-fallback", 1);
    (void)setenv("TTHC_TEST_OWN_DSN", "", 1);
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 1, a0, NULL, NULL, &err) == TTHC_OK, "%s", err.msg);
    CHECK_STR(s.dsn, "from-fallback");
    tthc_config_free(&files_cli, &s);
    (void)setenv("TTHC_TEST_OWN_DSN", "own", 1);
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 1, a0, NULL, NULL, &err) == TTHC_OK, "%s", err.msg);
    CHECK_STR(s.dsn, "own");
    tthc_config_free(&files_cli, &s);
    (void)unsetenv("TTHC_TEST_DSN");
    (void)unsetenv("TTHC_TEST_OWN_DSN");

    /* A token file wins over the token; the one trimming rule. */
    static const struct {
        const char *content;
        const char *token; /* NULL: refused */
    } cases[] = {
        {"abc\n", "abc"},
        {"abc", "abc"},
        {"abc \t\r\n\n", "abc"},
        {"a.b-c_d~!\n", "a.b-c_d~!"},
        {"", NULL},
        {"\n", NULL},
        {" abc\n", NULL},
        {"ab c\n", NULL},
        {"abc\nsecond\n", NULL},
        {"t\xc3\xa9\n", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        put_file(tok, cases[i].content);
        char *a[] = {"prog", "--token-file", tok, NULL};
        memset(&s, 0, sizeof s);
        tthc_rc rc = tthc_config_load(&files_cli, &s, 3, a, NULL, NULL, &err);
        if (cases[i].token) {
            CHECK(rc == TTHC_OK, "case %zu: %s", i, err.msg);
            if (!rc) CHECK_STR(s.token, cases[i].token);
        } else {
            CHECK(rc == TTHC_EINVAL, "case %zu accepted", i);
            CHECK(strstr(err.msg, tok) != NULL, "names the file: %s", err.msg);
        }
        tthc_config_free(&files_cli, &s);
    }
    char big[4200];
    memset(big, 'x', 4097);
    strcpy(big + 4097, "\n");
    put_file(tok, big);
    char *a1[] = {"prog", "--token-file", tok, NULL};
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 3, a1, NULL, NULL, &err) == TTHC_EINVAL, "4097 characters refused");
    tthc_config_free(&files_cli, &s);
    big[4096] = '\n';
    big[4097] = '\0';
    put_file(tok, big);
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 3, a1, NULL, NULL, &err) == TTHC_OK, "4096 accepted: %s", err.msg);
    CHECK(s.token && strlen(s.token) == 4096, "4096 characters");
    tthc_config_free(&files_cli, &s);

    /* Empty is "none" for an optional token, an error for a required one. */
    put_file(tok, "new\n");
    put_file(next, "\n");
    char *a2[] = {"prog", "--token-file", tok, "--next-file", next, NULL};
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 5, a2, NULL, NULL, &err) == TTHC_OK, "%s", err.msg);
    CHECK_STR(s.token, "new");
    CHECK(s.next && !*s.next, "an empty optional token file: no token");
    /* Reloaded after a change. */
    put_file(tok, "newer\n");
    put_file(next, "second\n");
    CHECK(tthc_config_reload_tokens(&files_cli, &s, &err) == TTHC_OK, "%s", err.msg);
    CHECK_STR(s.token, "newer");
    CHECK_STR(s.next, "second");
    (void)unlink(tok);
    CHECK(tthc_config_reload_tokens(&files_cli, &s, &err) == TTHC_EIO, "a missing file");
    tthc_config_free(&files_cli, &s);

    /* Required: the message names both sources. */
    (void)unsetenv("TTHC_TEST_TOKEN");
    memset(&s, 0, sizeof s);
    CHECK(tthc_config_load(&files_cli, &s, 1, a0, NULL, NULL, &err) == TTHC_EINVAL, "token required");
    CHECK_STR(err.msg, "TTHC_TEST_TOKEN (--token) or TTHC_TEST_TOKEN_FILE (--token-file) is required");
    tthc_config_free(&files_cli, &s);

    /* --help: the fallback, the file's rule, and the Kafka note (this table has brokers). */
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (f) {
        tthc_config_help(&files_cli, f);
        (void)fclose(f);
        CHECK(strstr(text, "env: TTHC_TEST_OWN_DSN, else TTHC_TEST_DSN; default: postgresql:///t\n") != NULL, "%s",
              text);
        CHECK(strstr(text, "the file's token replaces --token") != NULL, "%s", text);
        CHECK(strstr(text, "TTHC_KAFKA_<PROPERTY>") != NULL, "the Kafka note: %s", text);
        free(text);
    }
    (void)unlink(next);
    (void)rmdir(dir);
}

int main(void)
{
    test_precedence();
    test_errors();
    test_required_and_rest();
    test_help();
    test_kafka_env();
    test_fallback_and_token_files();
    return CHECK_DONE();
}
