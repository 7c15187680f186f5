/* tthc-admin: an operator's monthly tasks, each with --dry-run.
 *
 *   tthc-admin recompute --period YYYY-MM          totals from the stored facts
 *   tthc-admin replay --period YYYY-MM             facts and totals from the topic
 *   tthc-admin repush --period YYYY-MM [--unit U]  the month to the portal again
 *   tthc-admin drill --unit U --period YYYY-MM --indicator CODE [--denominator]
 *   tthc-admin reload-token --pid PID [--token-file F]
 *
 * Exit 0 done (a dry run: nothing wrong), 1 a dry run found work / figures
 * disagree, 2 error.  See docs/operations.md, "Operator tasks: tthc-admin". */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "config.h"
#include "log.h"

#define OPT(...) TTHC_OPT(admin_config, __VA_ARGS__)

static const tthc_opt opts[] = {
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc",
        .help = "libpq connection string"),
    OPT(brokers, "brokers", TTHC_OPT_STR, .env = "TTHC_KAFKA_BROKERS", .def = "127.0.0.1:9092",
        .help = "replay: Kafka bootstrap servers"),
    OPT(topic, "topic", TTHC_OPT_STR, .env = "TTHC_DOSSIER_TOPIC", .def = "tthc.dossier.events",
        .help = "replay: the dossier topic"),
    OPT(group, "group", TTHC_OPT_STR, .def = "tthc-admin-replay",
        .help = "replay: the group its offsets are stored under while it runs (never the ingest's)"),
    OPT(period, "period", TTHC_OPT_STR, .help = "the month YYYY-MM"),
    OPT(unit, "unit", TTHC_OPT_STR, .help = "drill: the unit or province code (required); repush: only this unit"),
    OPT(indicator, "indicator", TTHC_OPT_STR, .help = "drill: the indicator code, e.g. on_time"),
    OPT(denominator, "denominator", TTHC_OPT_BOOL, .def = "false",
        .help = "drill: the dossiers behind the denominator instead of the numerator"),
    OPT(limit, "limit", TTHC_OPT_INT, .def = "1000", .min = 1, .max = 10000000, .help = "drill: most dossiers listed"),
    OPT(pid, "pid", TTHC_OPT_INT, .def = "0", .min = 0, .max = 2147483647L,
        .help = "reload-token: pid of the tthc-sync or tthc-portal-stub to signal"),
    OPT(token_file, "token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_TOKEN_FILE",
        .help = "reload-token: check this token file first"),
    OPT(next_token_file, "next-token-file", TTHC_OPT_STR, .env = "TTHC_PORTAL_NEXT_TOKEN_FILE",
        .help = "reload-token: check this (the stub's second) token file first"),
    OPT(dry_run, "dry-run", TTHC_OPT_BOOL, .def = "false", .help = "show what would be done; change nothing"),
    OPT(timeout_s, "timeout", TTHC_OPT_INT, .def = "3600", .min = 1, .max = 86400,
        .help = "replay: longest time to read the topic (s)"),
    OPT(statement_timeout_ms, "statement-timeout-ms", TTHC_OPT_INT, .env = "TTHC_PG_STATEMENT_TIMEOUT_MS",
        .def = "60000", .min = 100, .max = 3600000, .help = "PostgreSQL statement_timeout and lock_timeout"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
};

static const tthc_cli cli = {
    "tthc-admin",
    "An operator's tasks on one month, each with --dry-run (exit 0 done, 1 a dry run found work or figures\n"
    "disagree, 2 error):\n"
    "  recompute --period M     the month's totals recomputed from the stored facts (dossier)\n"
    "  replay --period M        the month's dossiers and totals rebuilt from the topic (which must still\n"
    "                           hold every message), then pushed again\n"
    "  repush --period M [--unit U]   the month's reports sent to the portal again, at a new revision\n"
    "  drill --unit U --period M --indicator CODE [--denominator] [--limit N]\n"
    "                           the dossiers behind a figure (dossier facts only, no personal data)\n"
    "  reload-token --pid PID [--token-file F]   tthc-sync or the stub re-reads its token (SIGHUP)",
    "recompute|replay|repush|drill|reload-token",
    opts,
    sizeof opts / sizeof opts[0],
};

static const struct {
    const char *name;
    tthc_rc (*run)(const admin_config *, bool *found, tthc_err *);
} commands[] = {
    {"recompute", admin_recompute},       {"replay", admin_replay}, {"repush", admin_repush}, {"drill", admin_drill},
    {"reload-token", admin_reload_token},
};

int main(int argc, char **argv)
{
    admin_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, code = 2;
    if (!rest) return 2;
    tthc_log_init("tthc-admin", NULL);
    tthc_rc rc = tthc_config_load(&cli, &cfg, argc, argv, &rest, &nrest, &err);
    if (rc == TTHC_EXIT) {
        code = 0;
        goto done;
    }
    if (rc) {
        LOG_ERROR("config_invalid", "error=%s", err.msg);
        goto done;
    }
    tthc_log_init("tthc-admin", cfg.log_level);
    if (nrest != 1) {
        LOG_ERROR("usage", "error=%s note=\"see --help\"", nrest ? "one command only" : "a command is required");
        goto done;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(rest[0], commands[i].name)) continue;
        bool found = false;
        rc = commands[i].run(&cfg, &found, &err);
        if (rc) LOG_ERROR("failed", "command=%s rc=%s error=%s", rest[0], tthc_rc_name(rc), err.msg);
        code = rc ? 2 : found ? 1 : 0; /* the exit codes of --help and docs/operations.md */
        goto done;
    }
    LOG_ERROR("usage", "error=\"unknown command\" command=%s note=\"see --help\"", rest[0]);
done:
    tthc_config_free(&cli, &cfg);
    free(rest);
    return code;
}
