#include "lag_render.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

enum {
    COL_TOPIC,
    COL_PART,
    COL_APPLIED,
    COL_COMMITTED,
    COL_LOG_END,
    COL_LAG,
    COL_LAG_S,
    COL_LOST,
    COL_STATUS,
    COL_OWNER,
    NCOL
};
static const char *const headers[NCOL] = {"TOPIC", "PARTITION",   "APPLIED", "COMMITTED", "LOG-END",
                                          "LAG",   "LAG-SECONDS", "LOST",    "STATUS",    "OWNER"};

static void fmt_i64(char *buf, size_t len, int64_t v)
{
    if (v < 0) snprintf(buf, len, "-");
    else snprintf(buf, len, "%" PRId64, v);
}

static void fmt_owner(char *buf, size_t len, const lag_row *r)
{
    if (!r->client_id[0] && !r->member_id[0]) snprintf(buf, len, "-");
    else snprintf(buf, len, "%s@%s", r->client_id[0] ? r->client_id : r->member_id, r->host[0] ? r->host : "-");
}

static const char *status_text(const lag_row *r)
{
    if (!r->judged) return "-";
    if (!r->evaluated) return "OK*"; /* not yet evaluated */
    return tthc_partition_status_name(r->status);
}

/* The cells of one row (row == NULL: the header). */
static void cells(const lag_row *r, char c[NCOL][LAG_OWNER_MAX * 2 + 2])
{
    const size_t L = LAG_OWNER_MAX * 2 + 2;
    if (!r) {
        for (int i = 0; i < NCOL; i++) snprintf(c[i], L, "%s", headers[i]);
        return;
    }
    snprintf(c[COL_TOPIC], L, "%s", r->topic);
    snprintf(c[COL_PART], L, "%d", (int)r->partition);
    fmt_i64(c[COL_APPLIED], L, r->applied);
    fmt_i64(c[COL_COMMITTED], L, r->committed);
    fmt_i64(c[COL_LOG_END], L, r->log_end);
    fmt_i64(c[COL_LAG], L, r->judged ? r->lag : -1);
    if (r->judged) snprintf(c[COL_LAG_S], L, "%.1f", r->lag_seconds);
    else snprintf(c[COL_LAG_S], L, "-");
    fmt_i64(c[COL_LOST], L, r->lost);
    snprintf(c[COL_STATUS], L, "%s%s", status_text(r), r->gap_stopped ? "(GAP)" : "");
    fmt_owner(c[COL_OWNER], L, r);
}

tthc_rc lag_render_table(const lag_report *rep, FILE *out, tthc_err *err)
{
    static char c[NCOL][LAG_OWNER_MAX * 2 + 2];
    size_t w[NCOL] = {0};
    for (size_t i = 0; i <= rep->n; i++) { /* i == n: the header */
        cells(i < rep->n ? &rep->rows[i] : NULL, c);
        for (int k = 0; k < NCOL; k++)
            if (strlen(c[k]) > w[k]) w[k] = strlen(c[k]);
    }
    int bad = fprintf(out, "GROUP %s  STATE %s  STATUS %s  (%ld samples %ld ms apart; status on %s offsets)\n",
                      rep->group, rep->state ? rep->state : "-", tthc_group_status_name(rep->status), rep->samples,
                      rep->interval_ms, rep->use_applied ? "applied" : "committed") < 0;
    int not_evaluated = 0, lost = 0;
    for (size_t i = 0; i < rep->n; i++) lost |= rep->rows[i].lost > 0 || rep->rows[i].gap_stopped;
    for (size_t i = 0; i <= rep->n && !bad; i++) {
        const lag_row *r = i ? &rep->rows[i - 1] : NULL;
        cells(r, c);
        if (r && r->judged && !r->evaluated) not_evaluated = 1;
        for (int k = 0; k < NCOL && !bad; k++) {
            if ((k == COL_APPLIED || k == COL_LOST) && !rep->use_applied) continue;
            if (k == NCOL - 1) bad = fputs(c[k], out) == EOF; /* no trailing blanks */
            else bad = fprintf(out, "%-*s  ", (int)w[k], c[k]) < 0;
        }
        bad |= fputc('\n', out) == EOF;
    }
    if (!bad && not_evaluated) bad = fputs("* not yet evaluated: the window is not complete\n", out) == EOF;
    if (!bad && lost)
        bad = fputs("LOST: messages deleted from the log before tthc-ingest applied them (consumer_gap); "
                    "(GAP): stopped there, waiting for an operator\n",
                    out) == EOF;
    if (!bad) bad = fflush(out) != 0;
    return bad ? tthc_fail(err, TTHC_EIO, "writing the table: %s", strerror(errno)) : TTHC_OK;
}

static cJSON *num_or_null(int64_t v)
{
    return v < 0 ? cJSON_CreateNull() : cJSON_CreateNumber((double)v);
}

static cJSON *row_json(const lag_row *r, bool use_applied)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    int64_t lc = r->committed >= 0 && r->log_end >= 0 ? r->log_end - r->committed : -1;
    int64_t la = r->applied >= 0 && r->log_end >= 0 ? r->log_end - r->applied : -1;
    cJSON_AddStringToObject(o, "topic", r->topic);
    cJSON_AddNumberToObject(o, "partition", r->partition);
    cJSON_AddItemToObject(o, "applied_offset", num_or_null(use_applied ? r->applied : -1));
    cJSON_AddItemToObject(o, "committed_offset", num_or_null(r->committed));
    cJSON_AddItemToObject(o, "log_end_offset", num_or_null(r->log_end));
    cJSON_AddItemToObject(o, "log_start_offset", num_or_null(r->log_start));
    cJSON_AddItemToObject(o, "lag", num_or_null(r->judged ? r->lag : -1));
    cJSON_AddItemToObject(o, "lag_committed", num_or_null(lc < 0 ? -1 : lc));
    cJSON_AddItemToObject(o, "lag_applied", num_or_null(use_applied && la >= 0 ? la : -1));
    cJSON_AddItemToObject(o, "lag_seconds", r->judged ? cJSON_CreateNumber(r->lag_seconds) : cJSON_CreateNull());
    cJSON_AddItemToObject(o, "status",
                          r->judged ? cJSON_CreateString(tthc_partition_status_name(r->status)) : cJSON_CreateNull());
    cJSON_AddBoolToObject(o, "evaluated", r->judged && r->evaluated);
    cJSON_AddItemToObject(o, "lost", num_or_null(use_applied ? r->lost : -1));
    cJSON_AddBoolToObject(o, "stopped_on_gap", use_applied && r->gap_stopped);
    if (r->client_id[0] || r->member_id[0]) {
        cJSON *ow = cJSON_AddObjectToObject(o, "owner");
        if (ow) {
            cJSON_AddStringToObject(ow, "member_id", r->member_id);
            cJSON_AddStringToObject(ow, "client_id", r->client_id);
            cJSON_AddStringToObject(ow, "host", r->host);
        }
    } else {
        cJSON_AddNullToObject(o, "owner");
    }
    return o;
}

tthc_rc lag_render_json(const lag_report *rep, FILE *out, tthc_err *err)
{
    cJSON *root = cJSON_CreateObject();
    if (!root) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    cJSON_AddStringToObject(root, "group", rep->group);
    if (rep->state) cJSON_AddStringToObject(root, "state", rep->state);
    else cJSON_AddNullToObject(root, "state");
    cJSON_AddStringToObject(root, "status", tthc_group_status_name(rep->status));
    cJSON_AddStringToObject(root, "basis", rep->use_applied ? "applied" : "committed");
    cJSON_AddNumberToObject(root, "samples", (double)rep->samples);
    cJSON_AddNumberToObject(root, "interval_ms", (double)rep->interval_ms);
    if (rep->owner_error) cJSON_AddStringToObject(root, "owner_error", rep->owner_error);
    cJSON *parts = cJSON_AddArrayToObject(root, "partitions");
    for (size_t i = 0; parts && i < rep->n; i++) cJSON_AddItemToArray(parts, row_json(&rep->rows[i], rep->use_applied));
    char *text = parts ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    int bad = fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) != 0;
    free(text);
    return bad ? tthc_fail(err, TTHC_EIO, "writing JSON: %s", strerror(errno)) : TTHC_OK;
}
