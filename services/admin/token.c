/* token.c - reload-token: checks a token file and tells tthc-sync or the
 * portal stub (by pid) to re-read theirs (SIGHUP).  A rotation:
 *   1. the portal accepts the new token besides the old one (the stub:
 *      --next-token-file, then reload-token --pid STUB);
 *   2. tthc-sync's --token-file gets the new token, reload-token --pid SYNC;
 *   3. the portal drops the old token. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "admin.h"
#include "log.h"

/* 1 when s holds a token as tthc-sync reads it: 1-4096 visible ASCII
 * characters on the first line, trailing blanks ignored. */
static tthc_rc check_token_file(const char *path, size_t *len, tthc_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return tthc_fail(err, TTHC_EIO, "%s: %s", path, strerror(errno));
    char buf[4100];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    (void)fclose(f); /* read only */
    buf[n] = '\0';
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' ' || buf[n - 1] == '\t')) buf[--n] = '\0';
    int ok = n > 0 && n <= 4096;
    for (size_t i = 0; i < n && ok; i++) ok = buf[i] > 0x20 && buf[i] < 0x7f;
    explicit_bzero(buf, sizeof buf);
    if (!ok) return tthc_fail(err, TTHC_EINVAL, "%s: want one line of 1-4096 visible ASCII characters", path);
    *len = n;
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
    cmd[n] = '\0'; /* argv[0] only: cmdline separates arguments with NUL */
    const char *base = strrchr(cmd, '/');
    base = base ? base + 1 : cmd;
    if (!strcmp(base, "tthc-sync") || !strcmp(base, "tthc-portal-stub")) return base;
    return NULL;
}

int admin_reload_token(const admin_config *cfg, tthc_err *err)
{
    char cmd[4096];
    const char *files[2] = {cfg->token_file, cfg->next_token_file};
    for (int i = 0; i < 2; i++) {
        size_t len = 0;
        if (!files[i] || !*files[i]) continue;
        if (check_token_file(files[i], &len, err)) return 2;
        printf("%s: a valid token (%zu characters)\n", files[i], len);
    }
    if (cfg->pid <= 0) {
        tthc_fail(err, TTHC_EINVAL, "reload-token needs --pid PID (of tthc-sync or tthc-portal-stub)");
        return 2;
    }
    const char *prog = reloader(cfg->pid, cmd, sizeof cmd);
    if (!prog) {
        tthc_fail(err, TTHC_EINVAL, "pid %ld is not a running tthc-sync or tthc-portal-stub", cfg->pid);
        return 2;
    }
    if (cfg->dry_run) {
        printf("dry run: would send SIGHUP to %s (pid %ld), which re-reads its token file(s)\n", prog, cfg->pid);
        return 0;
    }
    if (kill((pid_t)cfg->pid, SIGHUP)) {
        tthc_fail(err, TTHC_EIO, "kill %ld: %s", cfg->pid, strerror(errno));
        return 2;
    }
    printf("sent SIGHUP to %s (pid %ld): it logs event=token_reloaded (tthc-sync) or event=tokens_reloaded (stub)\n",
           prog, cfg->pid);
    LOG_INFO("reload_token", "program=%s pid=%ld", prog, cfg->pid);
    return 0;
}
