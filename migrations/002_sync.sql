-- 002_sync.sql: what tthc-sync has pushed to the national portal, per bucket.
-- Applied by tthc-migrate inside one transaction.
--
-- period_totals.revision is the change record (bumped in the ingest
-- transaction).  A bucket is waiting when its revision is above sent_revision;
-- only the newest revision is ever sent, so waiting revisions collapse.
-- Rows are created by tthc-sync on each scan (INSERT ... SELECT FROM
-- period_totals ... ON CONFLICT DO NOTHING).
CREATE TABLE sync_state (
    unit_code       text   NOT NULL,
    period          text   NOT NULL,
    sent_revision   bigint NOT NULL DEFAULT 0 CHECK (sent_revision >= 0), -- last revision the portal acknowledged (0: none)
    status          text   NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'synced', 'parked')),   -- outcome of the last attempt
    parked_revision bigint,           -- status parked: the revision refused (a newer one un-parks the bucket)
    last_status     integer,          -- HTTP status of the last answer (0: no answer, or refused locally)
    last_error      text,             -- the last failed answer (truncated), or the transport error
    attempts        integer NOT NULL DEFAULT 0,  -- transient failures since the last success (drives the backoff)
    next_attempt_at timestamptz NOT NULL DEFAULT '-infinity',
    lease_owner     text,             -- "<instance>/<pid>/<nonce>/w<N>" of the sender holding it
    lease_until     timestamptz,
    claimed_at      timestamptz,      -- when the current or last lease was taken
    report_revision bigint,           -- the revision generated_at belongs to
    generated_at    timestamptz,      -- fixed per revision: a resend is byte-identical under the same Idempotency-Key
    waiting_since   timestamptz,      -- set while the bucket waits: when its oldest unacknowledged change was seen
    last_success_at timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, period),
    CHECK (status <> 'parked' OR parked_revision IS NOT NULL)
);

CREATE INDEX sync_state_parked_idx ON sync_state (period, unit_code) WHERE status = 'parked';
CREATE INDEX sync_state_lease_idx ON sync_state (lease_owner) WHERE lease_owner IS NOT NULL;

COMMENT ON TABLE sync_state IS
    'tthc-sync: per (unit_code, period), the revision the national portal acknowledged, and retry/park/lease state';
