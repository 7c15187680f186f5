/* html.h - escaping for the server-rendered pages (portal stub, report). */
#ifndef TTHC_HTML_H
#define TTHC_HTML_H

#include <stdio.h>

/* Writes s to f with & < > " ' escaped as entities (NULL writes nothing). */
void tthc_html_write(FILE *f, const char *s);

#endif
