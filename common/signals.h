/* signals.h - the one way a daemon learns it should stop.
 *
 * tthc_signals_install() makes SIGTERM and SIGINT set tthc_stop_requested
 * (the handler does nothing else) and ignores SIGPIPE, so a closed socket is
 * an error return, not a death.  Loops poll the flag with bounded waits. */
#ifndef TTHC_SIGNALS_H
#define TTHC_SIGNALS_H

#include <signal.h>

#include "err.h"

extern volatile sig_atomic_t tthc_stop_requested;
/* Set by SIGHUP once tthc_signals_install_reload() ran; the daemon clears it
 * when it has re-read what it reloads (its token). */
extern volatile sig_atomic_t tthc_reload_requested;

tthc_rc tthc_signals_install(tthc_err *err) TTHC_MUSTCHECK;
/* Makes SIGHUP set tthc_reload_requested (for daemons that reload on it;
 * the others keep SIGHUP's default). */
tthc_rc tthc_signals_install_reload(tthc_err *err) TTHC_MUSTCHECK;

#endif
