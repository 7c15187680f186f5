/* config.h - table-driven configuration shared by every daemon and tool.
 *
 * A program describes its settings once, in a table of tthc_opt rows (name,
 * type, default, bounds, environment variable, help).  tthc_config_load()
 * applies, in order: defaults, an optional `--config FILE` (lines `name = value`,
 * '#' comments), environment variables, then command-line flags
 * (`--name value` or `--name=value`).  `--help` is printed from the same table.
 *
 * Ownership: string settings are heap copies owned by the target struct;
 * tthc_config_free() releases them. */
#ifndef TTHC_CONFIG_H
#define TTHC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* STR_EMPTY: a string where empty is a value (e.g. a listen address, empty =
 * off): an empty environment variable sets it; for the others an empty
 * variable counts as unset. */
typedef enum { TTHC_OPT_STR, TTHC_OPT_INT, TTHC_OPT_BOOL, TTHC_OPT_SECRET, TTHC_OPT_STR_EMPTY } tthc_opt_type;

typedef struct {
    const char *name;   /* flag name without "--" (also the config-file key) */
    tthc_opt_type type; /* STR/STR_EMPTY/SECRET: char*; INT: long; BOOL: int */
    size_t offset;      /* offsetof(target struct, field) */
    const char *env;    /* environment variable, or NULL */
    const char *def;    /* default as text, or NULL (unset) */
    long min, max;      /* bounds for INT */
    int required;       /* must be set by some source */
    const char *help;
} tthc_opt;

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

/* Applies every TTHC_KAFKA_<PROPERTY> environment variable (except
 * TTHC_KAFKA_BROKERS) to a librdkafka conf via `set(ctx, property, value)`,
 * the property being the suffix lower-cased with '_' written as '.'. */
tthc_rc tthc_config_kafka_env(int (*set)(void *ctx, const char *prop, const char *val, tthc_err *err), void *ctx,
                              tthc_err *err) TTHC_MUSTCHECK;

#endif
