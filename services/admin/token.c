/* token.c - reload-token: checks a token file and tells tthc-sync or the
 * portal stub (by pid) to re-read theirs (SIGHUP).  A rotation:
 *   1. the portal accepts the new token besides the old one (the stub:
 *      --next-token-file, then reload-token --pid STUB);
 *   2. tthc-sync's --token-file gets the new token, reload-token --pid SYNC;
 *   3. the portal drops the old token. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "admin.h"
#include "config.h"
#include "log.h"

/* A token file as tthc-sync and the stub read it (tthc_config_read_token);
 * the stub's second token file may be empty (no second token). */
static tthc_rc check_token_file(const char *path, bool empty_ok, size_t *len, tthc_err *err)
{
    char *t = NULL;
    tthc_rc rc = tthc_config_read_token(path, empty_ok, &t, err);
    if (rc) return rc;
    *len = strlen(t);
    explicit_bzero(t, *len);
    free(t);
    return TTHC_OK;
}

/* The program a pid runs, if it is one that reloads its token on SIGHUP. */
static const char *reloader(long pid, char *cmd, size_t cap)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(cmd, 1, cap - 1, f);
    (void)fclose(f); /* read only */
    cmd[n] = '\0';   /* argv[0] only: cmdline separates arguments with NUL */
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    if (!strcmp(base, "tthc-sync") || !strcmp(base, "tthc-portal-stub")) return base;
    return NULL;
}

tthc_rc admin_reload_token(const admin_config *cfg, bool *found, tthc_err *err)
{
    char cmd[4096];
    tthc_rc rc;
    *found = false; /* never set: a dry run says what it would signal and exits 0 */
    const char *files[2] = {cfg->token_file, cfg->next_token_file};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        if (!files[i] || !*files[i]) continue;
        if ((rc = check_token_file(files[i], i == 1, &len, err))) return rc;
        printf("%s: a valid token (%zu characters)\n", files[i], len);
    }
    if (cfg->pid <= 0)
        return tthc_fail(err, TTHC_EINVAL, "reload-token needs --pid PID (of tthc-sync or tthc-portal-stub)");
    const char *prog = reloader(cfg->pid, cmd, sizeof cmd);
    if (!prog) return tthc_fail(err, TTHC_EINVAL, "pid %ld is not a running tthc-sync or tthc-portal-stub", cfg->pid);
    if (cfg->dry_run) {
        printf("dry run: would send SIGHUP to %s (pid %ld), which re-reads its token file(s)\n", prog, cfg->pid);
        return TTHC_OK;
    }
    if (kill((pid_t)cfg->pid, SIGHUP)) return tthc_fail(err, TTHC_EIO, "kill %ld: %s", cfg->pid, strerror(errno));
    printf("sent SIGHUP to %s (pid %ld): it logs event=token_reloaded (tthc-sync) or event=tokens_reloaded (stub)\n",
           prog, cfg->pid);
    LOG_INFO("reload_token", "program=%s pid=%ld", prog, cfg->pid);
    return TTHC_OK;
}
