#include "signals.h"

#include <errno.h>
#include <string.h>

volatile sig_atomic_t tthc_stop_requested = 0;
volatile sig_atomic_t tthc_reload_requested = 0;

static void on_reload_signal(int sig)
{
    (void)sig;
    tthc_reload_requested = 1;
}

tthc_rc tthc_signals_install_reload(tthc_err *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_reload_signal;
    if (sigaction(SIGHUP, &sa, NULL)) return tthc_fail(err, TTHC_EIO, "sigaction: %s", strerror(errno));
    return TTHC_OK;
}

static void on_stop_signal(int sig)
{
    (void)sig;
    tthc_stop_requested = 1;
}

tthc_rc tthc_signals_install(tthc_err *err)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    if (sigaction(SIGTERM, &sa, NULL) || sigaction(SIGINT, &sa, NULL))
        return tthc_fail(err, TTHC_EIO, "sigaction: %s", strerror(errno));
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL)) return tthc_fail(err, TTHC_EIO, "sigaction: %s", strerror(errno));
    return TTHC_OK;
}
