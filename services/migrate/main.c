/* tthc-migrate - applies migrations/NNN_name.sql to PostgreSQL, in order.
 *
 * Safe to start twice at once: everything happens under a session-level
 * advisory lock (MIGRATE_LOCK_KEY), so a second process waits (bounded by
 * statement_timeout), then finds the work done.  Each pending file runs in its
 * own transaction together with the row that records it in schema_migrations,
 * so a file is either applied and recorded, or neither.  A file must therefore
 * not contain BEGIN/COMMIT, nor statements that cannot run in a transaction
 * block (CREATE INDEX CONCURRENTLY, VACUUM, ...).
 *
 * An applied file whose content changed since (FNV-1a 64 checksum) is an
 * error: migrations are append-only; write a new file instead.  A file whose
 * version is below the latest applied one is still applied, with a warning
 * (two branches that each added a migration).
 *
 * Exit codes: 0 success (also --status with nothing changed), 1 any error. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <libpq-fe.h>

#include "config.h"
#include "err.h"
#include "log.h"

/* "tthcmigr" as a big-endian 64-bit integer: the advisory lock of this tool. */
#define MIGRATE_LOCK_KEY "8391446781944751986"
#define MAX_FILE_BYTES   (64L * 1024 * 1024)

typedef struct {
    char *dsn;
    char *dir;
    int status;
    long statement_timeout_s;
    long connect_timeout_s;
    char *log_level;
} mg_config;

#define OPT(...) TTHC_OPT(mg_config, __VA_ARGS__)

static const tthc_opt mg_opts[] = {
    OPT(dsn, "dsn", TTHC_OPT_SECRET, .env = "TTHC_PG_DSN", .def = "postgresql:///tthc", .required = 1,
        .help = "libpq connection string of the database to migrate"),
    OPT(dir, "dir", TTHC_OPT_STR, .env = "TTHC_MIGRATIONS_DIR", .def = TTHC_SOURCE_DIR "/migrations", .required = 1,
        .help = "directory holding the NNN_name.sql files"),
    OPT(status, "status", TTHC_OPT_BOOL, .def = "false",
        .help = "print each migration as applied, pending, changed or missing, and change nothing"),
    OPT(statement_timeout_s, "statement-timeout", TTHC_OPT_INT, .def = "300", .min = 1, .max = 86400,
        .help = "seconds any one statement (a whole migration file, or the wait for the lock) may take"),
    OPT(connect_timeout_s, "connect-timeout", TTHC_OPT_INT, .def = "10", .min = 1, .max = 600,
        .help = "seconds to wait for the connection (a connect_timeout in the DSN wins)"),
    OPT(log_level, "log-level", TTHC_OPT_STR, .env = "TTHC_LOG_LEVEL", .def = "info",
        .help = "debug, info, warn or error"),
};

static const tthc_cli mg_cli = {
    .prog = "tthc-migrate",
    .summary = "Applies the migration files NNN_name.sql in numeric order, each in its own transaction,\n"
               "recording them in schema_migrations.  Concurrent runs are serialized by an advisory lock.\n"
               "Exit status: 0 ok, 1 error (including an applied file whose content changed), 2 usage or\n"
               "configuration error.",
    .usage_tail = NULL,
    .opts = mg_opts,
    .nopts = sizeof mg_opts / sizeof mg_opts[0],
};

/* One migration file; all strings owned by the struct (mg_files_free). */
typedef struct {
    long version;
    char *name;    /* file name, e.g. "001_core.sql" */
    char *path;    /* dir + "/" + name */
    char *content; /* NUL-terminated file content */
    char checksum[17];
} mg_file;

/* One row of schema_migrations; strings owned (mg_applied_free). */
typedef struct {
    long version;
    char *name;
    char *checksum;
    char *applied_at;
} mg_applied;

/* ---- pure helpers ---------------------------------------------------------- */

static void fnv1a64_hex(const char *data, size_t len, char out[17])
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)data[i];
        h *= 0x100000001b3ULL;
    }
    snprintf(out, 17, "%016" PRIx64, h);
}

/* Parses "NNN_name.sql" (NNN: 1-9 digits; name: [A-Za-z0-9_.-]+).  Returns 1
 * and the version if it matches, 0 if not. */
static int parse_file_name(const char *name, long *version)
{
    size_t n = strlen(name), digits = 0;
    while (name[digits] >= '0' && name[digits] <= '9') digits++;
    if (digits == 0 || digits > 9 || name[digits] != '_') return 0;
    if (n < digits + 1 + 1 + 4 || strcmp(name + n - 4, ".sql")) return 0;
    for (size_t i = digits + 1; i < n - 4; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
              c == '-'))
            return 0;
    }
    *version = strtol(name, NULL, 10);
    return 1;
}

/* Line (1-based) of the 1-based character position pos in UTF-8 text. */
static long line_of_position(const char *text, long pos)
{
    long line = 1, chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) != 0x80 && ++chars >= pos) break;
        if (*p == '\n') line++;
    }
    return line;
}

static char *join_path(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p) return NULL;
    snprintf(p, a + b + 2, "%s/%s", dir, name);
    return p;
}

/* ---- migration files ------------------------------------------------------- */

static void mg_files_free(mg_file *files, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(files[i].name);
        free(files[i].path);
        free(files[i].content);
    }
    free(files);
}

static tthc_rc read_whole_file(const char *path, char **out, tthc_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return tthc_fail(err, TTHC_EIO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap);
    tthc_rc rc = TTHC_OK;
    if (!buf) {
        rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        if (len + 1 >= cap) {
            if (cap >= (size_t)MAX_FILE_BYTES) {
                rc = tthc_fail(err, TTHC_EINVAL, "%s: larger than %ld bytes", path, MAX_FILE_BYTES);
                goto out;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, f);
        len += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        rc = tthc_fail(err, TTHC_EIO, "%s: read error", path);
        goto out;
    }
    if (memchr(buf, '\0', len)) {
        rc = tthc_fail(err, TTHC_EINVAL, "%s: contains a NUL byte", path);
        goto out;
    }
    buf[len] = '\0';
    *out = buf;
    buf = NULL;
out:
    free(buf);
    (void)fclose(f); /* read only; read errors were checked with ferror */
    return rc;
}

static int cmp_version(const void *a, const void *b)
{
    const mg_file *x = a, *y = b;
    return (x->version > y->version) - (x->version < y->version);
}

/* Reads every NNN_name.sql of dir, sorted by version.  On success *files
 * (owned by the caller, mg_files_free) holds *nfiles entries. */
static tthc_rc scan_dir(const char *dir, mg_file **files, size_t *nfiles, tthc_err *err)
{
    *files = NULL;
    *nfiles = 0;
    DIR *d = opendir(dir);
    if (!d) return tthc_fail(err, TTHC_EIO, "%s: cannot open migrations directory: %s", dir, strerror(errno));
    mg_file *list = NULL;
    size_t n = 0, cap = 0;
    tthc_rc rc = TTHC_OK;
    struct dirent *de;
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t len = strlen(nm);
        if (nm[0] == '.' || len < 4 || strcmp(nm + len - 4, ".sql")) continue;
        long version;
        if (!parse_file_name(nm, &version)) {
            rc = tthc_fail(err, TTHC_EINVAL, "%s/%s: a migration file must be named NNN_name.sql", dir, nm);
            goto fail;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            mg_file *nl = realloc(list, ncap * sizeof *nl);
            if (!nl) {
                rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
                goto fail;
            }
            list = nl;
            cap = ncap;
        }
        mg_file *f = &list[n];
        memset(f, 0, sizeof *f);
        n++;
        f->version = version;
        f->name = strdup(nm);
        f->path = join_path(dir, nm);
        if (!f->name || !f->path) {
            rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
            goto fail;
        }
        if ((rc = read_whole_file(f->path, &f->content, err))) goto fail;
        fnv1a64_hex(f->content, strlen(f->content), f->checksum);
    }
    if (n) qsort(list, n, sizeof *list, cmp_version);
    for (size_t i = 1; i < n; i++)
        if (list[i].version == list[i - 1].version) {
            rc = tthc_fail(err, TTHC_EINVAL, "%s and %s: two migrations with version %ld", list[i - 1].path,
                           list[i].path, list[i].version);
            goto fail;
        }
    closedir(d);
    *files = list;
    *nfiles = n;
    return TTHC_OK;
fail:
    closedir(d);
    mg_files_free(list, n);
    return rc;
}

/* ---- database -------------------------------------------------------------- */

static void mg_applied_free(mg_applied *a, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(a[i].name);
        free(a[i].checksum);
        free(a[i].applied_at);
    }
    free(a);
}

/* Server notices (e.g. "relation already exists, skipping") as log lines. */
static void on_notice(void *arg, const PGresult *res)
{
    (void)arg;
    const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    char q[600];
    tthc_log_quote(q, sizeof q, msg ? msg : "");
    if (sev && !strcmp(sev, "WARNING")) LOG_WARN("pg_notice", "severity=%s msg=%s", sev, q);
    else LOG_DEBUG("pg_notice", "severity=%s msg=%s", sev ? sev : "?", q);
}

/* First line of libpq's error text (no trailing newline), into buf. */
static const char *pq_msg(const char *s, char *buf, size_t len)
{
    snprintf(buf, len, "%s", s ? s : "");
    buf[strcspn(buf, "\n")] = '\0';
    return buf;
}

static tthc_rc db_connect(const mg_config *cfg, PGconn **out, tthc_err *err)
{
    char ct[24], st[48], m[512];
    snprintf(ct, sizeof ct, "%ld", cfg->connect_timeout_s);
    /* Later entries win: the DSN (expanded from dbname) overrides the defaults. */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {ct, "tthc-migrate", cfg->dsn, NULL};
    PGconn *conn = PQconnectdbParams(keys, vals, 1);
    *out = NULL;
    if (!conn) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    if (PQstatus(conn) != CONNECTION_OK) {
        tthc_rc rc = tthc_fail(err, TTHC_EDB, "cannot connect to PostgreSQL (TTHC_PG_DSN): %s",
                               pq_msg(PQerrorMessage(conn), m, sizeof m));
        PQfinish(conn);
        return rc;
    }
    PQsetNoticeReceiver(conn, on_notice, NULL);
    snprintf(st, sizeof st, "%lds", cfg->statement_timeout_s);
    const char *params[] = {st};
    PGresult *res =
        PQexecParams(conn, "SELECT set_config('statement_timeout', $1, false)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        tthc_rc rc =
            tthc_fail(err, TTHC_EDB, "setting statement_timeout: %s", pq_msg(PQresultErrorMessage(res), m, sizeof m));
        PQclear(res);
        PQfinish(conn);
        return rc;
    }
    PQclear(res);
    *out = conn;
    return TTHC_OK;
}

/* Runs a statement without result rows (or with rows that are ignored). */
static tthc_rc db_exec(PGconn *conn, const char *sql, int nparams, const char *const *params, const char *what,
                       tthc_err *err)
{
    char m[512];
    PGresult *res = PQexecParams(conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    tthc_rc rc = TTHC_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = tthc_fail(err, TTHC_EDB, "%s: %s", what, pq_msg(PQresultErrorMessage(res), m, sizeof m));
    PQclear(res);
    return rc;
}

static tthc_rc take_lock(PGconn *conn, tthc_err *err)
{
    char m[512];
    const char *params[] = {MIGRATE_LOCK_KEY};
    PGresult *res = PQexecParams(conn, "SELECT pg_try_advisory_lock($1::bigint)", 1, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        tthc_rc rc = tthc_fail(err, TTHC_EDB, "advisory lock: %s", pq_msg(PQresultErrorMessage(res), m, sizeof m));
        PQclear(res);
        return rc;
    }
    int got = !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    if (got) return TTHC_OK;
    LOG_INFO("lock_wait", "key=%s detail=\"another tthc-migrate is running\"", MIGRATE_LOCK_KEY);
    tthc_rc rc = db_exec(conn, "SELECT pg_advisory_lock($1::bigint)", 1, params, "waiting for the advisory lock", err);
    if (!rc) LOG_INFO("lock_acquired", "key=%s", MIGRATE_LOCK_KEY);
    return rc;
}

/* Reads schema_migrations (empty if the table does not exist) ordered by
 * version.  *rows is owned by the caller (mg_applied_free). */
static tthc_rc load_applied(PGconn *conn, mg_applied **rows, size_t *nrows, tthc_err *err)
{
    char m[512];
    *rows = NULL;
    *nrows = 0;
    PGresult *res =
        PQexecParams(conn, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        tthc_rc rc =
            tthc_fail(err, TTHC_EDB, "reading schema_migrations: %s", pq_msg(PQresultErrorMessage(res), m, sizeof m));
        PQclear(res);
        return rc;
    }
    int exists = !strcmp(PQgetvalue(res, 0, 0), "t");
    PQclear(res);
    if (!exists) return TTHC_OK;
    res = PQexecParams(conn,
                       "SELECT version, coalesce(name, ''), coalesce(checksum, ''), "
                       "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') "
                       "FROM schema_migrations ORDER BY version",
                       0, NULL, NULL, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        tthc_rc rc =
            tthc_fail(err, TTHC_EDB, "reading schema_migrations: %s", pq_msg(PQresultErrorMessage(res), m, sizeof m));
        PQclear(res);
        return rc;
    }
    size_t n = (size_t)PQntuples(res);
    mg_applied *a = n ? calloc(n, sizeof *a) : NULL;
    if (n && !a) {
        PQclear(res);
        return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        a[i].version = strtol(PQgetvalue(res, (int)i, 0), NULL, 10);
        a[i].name = strdup(PQgetvalue(res, (int)i, 1));
        a[i].checksum = strdup(PQgetvalue(res, (int)i, 2));
        a[i].applied_at = strdup(PQgetvalue(res, (int)i, 3));
        if (!a[i].name || !a[i].checksum || !a[i].applied_at) {
            PQclear(res);
            mg_applied_free(a, n);
            return tthc_fail(err, TTHC_ENOMEM, "out of memory");
        }
    }
    PQclear(res);
    *rows = a;
    *nrows = n;
    return TTHC_OK;
}

static const mg_applied *find_applied(const mg_applied *a, size_t n, long version)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].version == version) return &a[i];
    return NULL;
}

static const mg_file *find_file(const mg_file *f, size_t n, long version)
{
    for (size_t i = 0; i < n; i++)
        if (f[i].version == version) return &f[i];
    return NULL;
}

/* Fails on the first applied file whose content changed; warns about applied
 * versions that have no file (a database newer than this checkout). */
static tthc_rc verify_applied(const mg_file *files, size_t nfiles, const mg_applied *a, size_t na, tthc_err *err)
{
    for (size_t i = 0; i < na; i++) {
        const mg_file *f = find_file(files, nfiles, a[i].version);
        if (!f) {
            LOG_WARN("missing_file", "version=%ld name=%s detail=\"applied, but no file in the directory\"",
                     a[i].version, a[i].name);
            continue;
        }
        if (strcmp(f->checksum, a[i].checksum))
            return tthc_fail(err, TTHC_EINVAL,
                             "%s: changed after it was applied (checksum %s, applied %s as %s at %s); "
                             "migrations are append-only: restore the file and add a new one",
                             f->path, f->checksum, a[i].checksum, a[i].name, a[i].applied_at);
    }
    return TTHC_OK;
}

/* Applies one file and records it, in one transaction. */
static tthc_rc apply_file(PGconn *conn, const mg_file *f, tthc_err *err)
{
    char m[512], ver[24];
    tthc_rc rc;
    if ((rc = db_exec(conn, "BEGIN", 0, NULL, "BEGIN", err))) return rc;
    PGresult *res = PQexec(conn, f->content); /* trusted multi-statement script */
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
        const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
        long line = pos ? line_of_position(f->content, strtol(pos, NULL, 10)) : 0;
        const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        if (line) rc = tthc_fail(err, TTHC_EDB, "%s:%ld: %s", f->path, line, detail ? detail : "error");
        else rc = tthc_fail(err, TTHC_EDB, "%s: %s", f->path, pq_msg(PQresultErrorMessage(res), m, sizeof m));
        PQclear(res);
        goto rollback;
    }
    PQclear(res);
    if (PQtransactionStatus(conn) != PQTRANS_INTRANS) {
        rc = tthc_fail(err, TTHC_EINVAL,
                       "%s: the file ended the transaction itself (BEGIN/COMMIT/ROLLBACK are not allowed "
                       "in a migration); it is NOT recorded and may be partly applied",
                       f->path);
        goto rollback;
    }
    snprintf(ver, sizeof ver, "%ld", f->version);
    const char *params[] = {ver, f->name, f->checksum};
    if ((rc = db_exec(conn, "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", 3, params,
                      "recording the migration", err)))
        goto rollback;
    if ((rc = db_exec(conn, "COMMIT", 0, NULL, f->path, err))) goto rollback;
    return TTHC_OK;
rollback:
    if (PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(conn, "ROLLBACK");
        PQclear(r);
    }
    return rc;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (long)(t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static tthc_rc migrate(PGconn *conn, const mg_config *cfg, const mg_file *files, size_t nfiles, tthc_err *err)
{
    mg_applied *applied = NULL;
    size_t napplied = 0;
    int count = 0;
    tthc_rc rc;
    if ((rc = take_lock(conn, err))) return rc;
    if ((rc = db_exec(conn,
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
                      " applied_at timestamptz NOT NULL DEFAULT now())",
                      0, NULL, "creating schema_migrations", err)))
        goto out;
    if ((rc = load_applied(conn, &applied, &napplied, err))) goto out;
    if ((rc = verify_applied(files, nfiles, applied, napplied, err))) goto out;
    for (size_t i = 0; i < nfiles; i++) {
        if (find_applied(applied, napplied, files[i].version)) continue;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (napplied && files[i].version < applied[napplied - 1].version)
            LOG_WARN("out_of_order", "version=%ld file=%s latest_applied=%ld", files[i].version, files[i].name,
                     applied[napplied - 1].version);
        LOG_INFO("applying", "version=%ld file=%s", files[i].version, files[i].name);
        if ((rc = apply_file(conn, &files[i], err))) goto out;
        LOG_INFO("applied", "version=%ld file=%s checksum=%s ms=%ld", files[i].version, files[i].name,
                 files[i].checksum, ms_since(&t0));
        count++;
    }
    LOG_INFO("done", "applied_now=%d total_files=%zu dir=%s", count, nfiles,
             tthc_log_quote((char[600]){0}, 600, cfg->dir));
out:
    mg_applied_free(applied, napplied);
    /* Unlock explicitly; closing the session would release it too. */
    PGresult *res = PQexecParams(conn, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL,
                                 (const char *const[]){MIGRATE_LOCK_KEY}, NULL, NULL, 0);
    PQclear(res);
    return rc;
}

/* --status: one line per version, changes nothing.  Returns TTHC_EINVAL (exit
 * 1) when an applied file changed. */
static tthc_rc print_status(PGconn *conn, const mg_file *files, size_t nfiles, tthc_err *err)
{
    mg_applied *applied = NULL;
    size_t napplied = 0;
    int changed = 0, pending = 0;
    tthc_rc rc = load_applied(conn, &applied, &napplied, err);
    if (rc) return rc;
    printf("%-8s %-8s %-20s %-16s %s\n", "version", "state", "applied_at", "checksum", "file");
    for (size_t i = 0; i < nfiles; i++) {
        const mg_file *f = &files[i];
        const mg_applied *a = find_applied(applied, napplied, f->version);
        const char *state = !a ? "pending" : strcmp(a->checksum, f->checksum) ? "changed" : "applied";
        changed += a && strcmp(a->checksum, f->checksum);
        pending += !a;
        printf("%-8ld %-8s %-20s %-16s %s\n", f->version, state, a ? a->applied_at : "-", f->checksum, f->name);
    }
    for (size_t i = 0; i < napplied; i++)
        if (!find_file(files, nfiles, applied[i].version))
            printf("%-8ld %-8s %-20s %-16s %s (no such file)\n", applied[i].version, "missing", applied[i].applied_at,
                   applied[i].checksum, applied[i].name);
    printf("%zu applied, %d pending, %d changed\n", napplied, pending, changed);
    mg_applied_free(applied, napplied);
    if (changed) return tthc_fail(err, TTHC_EINVAL, "%d applied migration file(s) changed", changed);
    return TTHC_OK;
}

int main(int argc, char **argv)
{
    mg_config cfg;
    memset(&cfg, 0, sizeof cfg);
    tthc_err err = {{0}};
    mg_file *files = NULL;
    size_t nfiles = 0;
    PGconn *conn = NULL;
    int exit_code = 1;

    tthc_log_init("tthc-migrate", getenv("TTHC_LOG_LEVEL"));
    tthc_rc rc = tthc_config_load(&mg_cli, &cfg, argc, argv, NULL, NULL, &err);
    if (rc == TTHC_EXIT) {
        exit_code = 0;
        goto out;
    }
    if (rc) {
        exit_code = 2; /* a usage or configuration error */
        goto fail;
    }
    tthc_log_init(NULL, cfg.log_level);
    if ((rc = scan_dir(cfg.dir, &files, &nfiles, &err))) goto fail;
    if (nfiles == 0) {
        rc = tthc_fail(&err, TTHC_EINVAL, "%s: no NNN_name.sql files (wrong --dir / TTHC_MIGRATIONS_DIR?)", cfg.dir);
        goto fail;
    }
    if ((rc = db_connect(&cfg, &conn, &err))) goto fail;
    rc = cfg.status ? print_status(conn, files, nfiles, &err) : migrate(conn, &cfg, files, nfiles, &err);
    if (rc) goto fail;
    exit_code = 0;
    goto out;
fail:
    LOG_ERROR("failed", "rc=%s error=%s", tthc_rc_name(rc), tthc_log_quote((char[600]){0}, 600, err.msg));
out:
    if (conn) PQfinish(conn);
    mg_files_free(files, nfiles);
    tthc_config_free(&mg_cli, &cfg);
    return exit_code;
}
