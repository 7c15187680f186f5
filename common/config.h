/* config.h - table-driven configuration shared by every daemon and tool.
 *
 * A program describes its settings once, in a table of tthc_opt rows, each
 * written with TTHC_OPT (struct, field, flag name, type, then designated
 * initializers for the rest):
 *
 *     #define OPT(...) TTHC_OPT(my_config, __VA_ARGS__)
 *     static const tthc_opt opts[] = {
 *         OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc",
 *             .help = "libpq connection string"),
 *         OPT(token_file, "token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_TOKEN_FILE", .token_for = "token",
 *             .help = "file holding the bearer token"),
 *     };
 *
 * tthc_config_load() applies, in order: defaults, an optional `--config FILE`
 * (lines `name = value`, '#' comments), environment variables (`env`, else
 * `env_fallback`), then command-line flags (`--name value` or `--name=value`);
 * then every token file (an option with `token_for`) replaces the value of
 * the option it names (tthc_config_read_token), and required settings are
 * checked.  `--help` is printed from the same table: every environment
 * variable the program reads, and the TTHC_KAFKA_<PROPERTY> note when the
 * program talks to Kafka (has an option read from TTHC_KAFKA_BROKERS).
 *
 * Ownership: string settings are heap copies owned by the target struct;
 * tthc_config_free() releases them. */
#ifndef TTHC_CONFIG_H
#define TTHC_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* STR_EMPTY: a string where empty is a value (e.g. a listen address, empty =
 * off): an empty environment variable sets it; for the others an empty
 * variable counts as unset. */
typedef enum { TTHC_OPT_STR, TTHC_OPT_INT, TTHC_OPT_BOOL, TTHC_OPT_SECRET, TTHC_OPT_STR_EMPTY } tthc_opt_type;

typedef struct {
    const char *name;         /* flag name without "--" (also the config-file key) */
    tthc_opt_type type;       /* STR/STR_EMPTY/SECRET: char*; INT: long; BOOL: int */
    size_t offset;            /* offsetof(target struct, field) */
    const char *env;          /* environment variable, or NULL */
    const char *env_fallback; /* read when env is unset (or empty), or NULL */
    const char *def;          /* default as text, or NULL (unset) */
    long min, max;            /* bounds for INT */
    int required;             /* must be set by some source (a token file counts) */
    const char *token_for;    /* this option is a token file: its token becomes option token_for's value */
    const char *help;
} tthc_opt;

/* One row: TTHC_OPT(struct, field, "flag-name", TTHC_OPT_..., .env = ..., .def = ..., .help = ...). */
#define TTHC_OPT(strct, field, flag, opt_type, ...)                                                                    \
    {                                                                                                                  \
        .name = (flag), .type = (opt_type), .offset = offsetof(strct, field), __VA_ARGS__                              \
    }

typedef struct {
    const char *prog;       /* program name for --help */
    const char *summary;    /* one line */
    const char *usage_tail; /* e.g. "[reconcile --period YYYY-MM]", or NULL */
    const tthc_opt *opts;
    size_t nopts;
} tthc_cli;

/* Loads settings into target.  Positional (non-flag) arguments are left in
 * argv order in *rest / *nrest (pointers into argv; may be NULL if unwanted).
 * Returns TTHC_EXIT after printing --help or --version, TTHC_EINVAL with the
 * variable name or file:line in err on bad input. */
tthc_rc tthc_config_load(const tthc_cli *cli, void *target, int argc, char **argv, char ***rest, int *nrest,
                         tthc_err *err) TTHC_MUSTCHECK;

void tthc_config_free(const tthc_cli *cli, void *target);

void tthc_config_help(const tthc_cli *cli, FILE *out);

/* Reads a bearer token from a file, the one rule of every program: the
 * file's content with trailing blanks (spaces, tabs, CR, LF) removed must be
 * 1-4096 visible ASCII characters (so one line; a final newline is fine).
 * With empty_ok an empty (or blank) file gives "" (no token) instead of an
 * error.  *out is malloc'd (wipe it before free); the buffer read is wiped. */
tthc_rc tthc_config_read_token(const char *path, bool empty_ok, char **out, tthc_err *err) TTHC_MUSTCHECK;

/* Reads every token file of the table again into its option (after SIGHUP).
 * On failure the settings may be partly updated; err names the file. */
tthc_rc tthc_config_reload_tokens(const tthc_cli *cli, void *target, tthc_err *err) TTHC_MUSTCHECK;

/* Applies every TTHC_KAFKA_<PROPERTY> environment variable (except
 * TTHC_KAFKA_BROKERS) to a librdkafka conf via `set(ctx, property, value)`,
 * the property being the suffix lower-cased with '_' written as '.'. */
tthc_rc tthc_config_kafka_env(int (*set)(void *ctx, const char *prop, const char *val, tthc_err *err), void *ctx,
                              tthc_err *err) TTHC_MUSTCHECK;

#endif
