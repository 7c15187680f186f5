-- Messages the service had to apply but that were no longer in the log
-- (docs/events.md, semantics 6): retention deleted them first, the topic was
-- recreated, or the stored position lay beyond the log end.  One row per
-- detection; tthc-lag --dsn and the runbook read it.
--   from_offset .. to_offset   the offsets lost (to_offset NULL: unknown, for a
--                              stored position beyond the log end)
--   log_start, log_end         the partition's watermarks when it was detected
--   action                     'continue' (went on from log_start) or 'stop'
--                              (the partition waits for an operator)
CREATE TABLE consumer_gap (
    group_id    text        NOT NULL,
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    from_offset bigint      NOT NULL,
    to_offset   bigint,
    lost        bigint,
    log_start   bigint      NOT NULL,
    log_end     bigint      NOT NULL,
    reason      text        NOT NULL CHECK (reason IN ('deleted', 'beyond_end')),
    action      text        NOT NULL CHECK (action IN ('continue', 'stop')),
    detected_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition, from_offset, action)
);
