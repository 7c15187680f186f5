#include "owners.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#include "kafka.h"
#include "strbuf.h"
#include "timeutil.h"

#define ANSWER_MAX (8 << 20)

struct lag_owners {
    pid_t pid;
    int fd; /* read end */
};

/* ---- child ---- */

/* Writes s with tabs and newlines blanked (they separate fields and lines). */
static void put_field(FILE *f, const char *s)
{
    for (; s && *s; s++) fputc(*s == '\t' || *s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static void child_fail(FILE *f, const char *what, const char *detail)
{
    fprintf(f, "E\t%s: ", what);
    put_field(f, detail);
    fputc('\n', f);
}

/* Lines: "S\tSTATE", "O\tTOPIC\tPARTITION\tMEMBER\tCLIENT\tHOST", "E\tMESSAGE". */
static void child_describe(FILE *f, const char *brokers, const char *group, int timeout_ms)
{
    tthc_err err = {{0}};
    char errstr[512];
    rd_kafka_t *rk = NULL;
    /* quiet: the parent's handle logs the same connection trouble */
    if (tthc_kafka_new(RD_KAFKA_PRODUCER, brokers, (const char *const[]){"client.id", "tthc-lag-describe", NULL},
                       &(tthc_kafka_setup){.quiet = true}, &rk, &err)) {
        child_fail(f, "kafka handle", err.msg);
        return; /* the process ends: nothing to free */
    }
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_AdminOptions_t *opt = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    if (rd_kafka_AdminOptions_set_request_timeout(opt, timeout_ms, errstr, sizeof errstr)) {
        child_fail(f, "DescribeConsumerGroups", errstr);
        return;
    }
    rd_kafka_DescribeConsumerGroups(rk, &group, 1, opt, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, timeout_ms + 1000);
    size_t cnt = 0;
    const rd_kafka_DescribeConsumerGroups_result_t *res = ev ? rd_kafka_event_DescribeConsumerGroups_result(ev) : NULL;
    const rd_kafka_ConsumerGroupDescription_t **descs =
        res ? rd_kafka_DescribeConsumerGroups_result_groups(res, &cnt) : NULL;
    const char *problem = !ev                        ? "no answer in time"
                          : rd_kafka_event_error(ev) ? rd_kafka_event_error_string(ev)
                          : cnt != 1                 ? "no description of the group"
                          : rd_kafka_ConsumerGroupDescription_error(descs[0])
                              ? rd_kafka_error_string(rd_kafka_ConsumerGroupDescription_error(descs[0]))
                              : NULL;
    if (problem) {
        child_fail(f, "DescribeConsumerGroups", problem);
        return;
    }
    fputs("S\t", f);
    put_field(f, rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(descs[0])));
    fputc('\n', f);
    size_t members = rd_kafka_ConsumerGroupDescription_member_count(descs[0]);
    for (size_t m = 0; m < members; m++) {
        const rd_kafka_MemberDescription_t *md = rd_kafka_ConsumerGroupDescription_member(descs[0], m);
        const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(md);
        const rd_kafka_topic_partition_list_t *tps = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
        for (int i = 0; tps && i < tps->cnt; i++) {
            fputs("O\t", f);
            put_field(f, tps->elems[i].topic);
            fprintf(f, "\t%d\t", (int)tps->elems[i].partition);
            put_field(f, rd_kafka_MemberDescription_consumer_id(md));
            fputc('\t', f);
            put_field(f, rd_kafka_MemberDescription_client_id(md));
            fputc('\t', f);
            put_field(f, rd_kafka_MemberDescription_host(md));
            fputc('\n', f);
        }
    }
}

tthc_rc lag_owners_start(const char *brokers, const char *group, int timeout_ms, lag_owners **out, tthc_err *err)
{
    *out = NULL;
    lag_owners *job = calloc(1, sizeof *job);
    if (!job) return tthc_fail(err, TTHC_ENOMEM, "out of memory");
    int fds[2];
    if (pipe(fds)) {
        free(job);
        return tthc_fail(err, TTHC_EIO, "pipe: %s", strerror(errno));
    }
    (void)fflush(NULL); /* nothing buffered twice */
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        free(job);
        return tthc_fail(err, TTHC_EIO, "fork: %s", strerror(e));
    }
    if (pid == 0) {
        (void)signal(SIGINT, SIG_DFL);
        (void)signal(SIGTERM, SIG_DFL);
        close(fds[0]);
        /* librdkafka 2.0.2 may also trip an assertion on the unsupported path
         * (rd_kafka_enq_once_del_source_return): keep its noise out of the
         * caller's stderr; the parent reports how the helper ended. */
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) {
            dup2(devnull, STDERR_FILENO);
            close(devnull);
        }
        FILE *f = fdopen(fds[1], "w");
        if (f) {
            child_describe(f, brokers, group, timeout_ms);
            (void)fflush(f);
        }
        _exit(0); /* no destroy, no atexit: see owners.h */
    }
    close(fds[1]);
    job->pid = pid;
    job->fd = fds[0];
    *out = job;
    return TTHC_OK;
}

/* ---- parent ---- */

/* Closes the pipe and reaps the child (killed if it does not exit within
 * about a second); returns its wait status, -1 if unknown. */
static int end_job(lag_owners *job)
{
    close(job->fd);
    int status = -1;
    for (int i = 0; i < 20; i++) {
        pid_t r = waitpid(job->pid, &status, WNOHANG);
        if (r == job->pid) goto out;
        if (r < 0 && errno != EINTR) {
            status = -1;
            goto out;
        }
        usleep(50000);
    }
    kill(job->pid, SIGKILL);
    while (waitpid(job->pid, &status, 0) < 0 && errno == EINTR) {}
out:
    free(job);
    return status;
}

static tthc_rc read_answer(lag_owners *job, int64_t deadline, tthc_sb *b, tthc_err *err)
{
    char buf[4096];
    for (;;) {
        int64_t left = deadline - tthc_mono_ms();
        if (left <= 0) return tthc_fail(err, TTHC_ETIMEOUT, "DescribeConsumerGroups: no answer in time");
        struct pollfd p = {job->fd, POLLIN, 0};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno != EINTR) return tthc_fail(err, TTHC_EIO, "poll: %s", strerror(errno));
        if (r <= 0) continue;
        ssize_t got = read(job->fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) return tthc_fail(err, TTHC_EIO, "read: %s", strerror(errno));
        if (got == 0) return TTHC_OK;
        if (tthc_sb_add(b, buf, (size_t)got))
            return tthc_fail(err, TTHC_ENOMEM, "DescribeConsumerGroups: answer too large");
    }
}

static lag_row *find_row(lag_row *rows, size_t n, const char *topic, long partition)
{
    for (size_t i = 0; i < n; i++)
        if (rows[i].partition == partition && !strcmp(rows[i].topic, topic)) return &rows[i];
    return NULL;
}

/* Splits line (NUL-terminated, modified) at tabs into at most max fields. */
static int split_tabs(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line; n < max; n++) {
        f[n] = p;
        p = strchr(p, '\t');
        if (!p) return n + 1;
        *p++ = '\0';
    }
    return n;
}

static tthc_rc parse_answer(char *text, int status, lag_row *rows, size_t n, char *state, size_t len, tthc_err *err)
{
    char *save = NULL;
    int have_state = 0;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[6];
        int nf = split_tabs(line, f, 6);
        if (nf == 2 && !strcmp(f[0], "E")) return tthc_fail(err, TTHC_EKAFKA, "%s", f[1]);
        if (nf == 2 && !strcmp(f[0], "S")) {
            snprintf(state, len, "%s", f[1]);
            have_state = 1;
        } else if (nf == 6 && !strcmp(f[0], "O")) {
            lag_row *r = find_row(rows, n, f[1], strtol(f[2], NULL, 10));
            if (!r) continue; /* a topic not asked about */
            snprintf(r->member_id, sizeof r->member_id, "%s", f[3]);
            snprintf(r->client_id, sizeof r->client_id, "%s", f[4]);
            snprintf(r->host, sizeof r->host, "%s", f[5]);
        }
    }
    if (have_state) return TTHC_OK;
    if (status != -1 && WIFSIGNALED(status))
        return tthc_fail(err, TTHC_EKAFKA,
                         "DescribeConsumerGroups: the helper process died of signal %d (librdkafka 2.0.2 does so "
                         "when the broker does not support DescribeGroups)",
                         WTERMSIG(status));
    return tthc_fail(err, TTHC_EKAFKA, "DescribeConsumerGroups: the helper process gave no answer");
}

tthc_rc lag_owners_finish(lag_owners *job, int64_t deadline_mono_ms, lag_row *rows, size_t n, char *state, size_t len,
                          tthc_err *err)
{
    tthc_sb b;
    tthc_sb_init(&b, ANSWER_MAX);
    tthc_rc rc = read_answer(job, deadline_mono_ms, &b, err);
    int status = end_job(job);
    if (!rc && tthc_sb_addc(&b, '\0')) rc = tthc_fail(err, TTHC_ENOMEM, "out of memory");
    if (!rc) rc = parse_answer(b.p, status, rows, n, state, len, err);
    tthc_sb_free(&b);
    return rc;
}
