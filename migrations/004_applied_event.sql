-- 004_applied_event.sql: applied event ids leave the dossier row.
--
-- An event_id is unique across the whole stream (events.md): a second message
-- with an applied event_id changes nothing, even on another dossier.  The ids
-- used to be an array in each dossier row, searched linearly and rewritten
-- whole by every batch that touched the dossier, so a busy dossier slowed
-- everything (semantics 7).  They now live in an append-only, indexed table:
-- looking one up or adding one costs the same whatever its dossier holds.

CREATE TABLE applied_event (
    event_id text PRIMARY KEY
);

INSERT INTO applied_event (event_id)
SELECT DISTINCT e.event_id
FROM dossier d CROSS JOIN LATERAL unnest(d.event_ids) AS e (event_id)
ON CONFLICT DO NOTHING;

ALTER TABLE dossier DROP COLUMN event_ids;

-- When the row was first written: for dossiers still waiting for their
-- receipt, the age of the oldest pending facts (tthc_ingest_pending_* metrics).
-- Existing rows get their last update time, the best estimate there is.
ALTER TABLE dossier ADD COLUMN created_at timestamptz;
UPDATE dossier SET created_at = updated_at;
ALTER TABLE dossier ALTER COLUMN created_at SET DEFAULT now(),
                    ALTER COLUMN created_at SET NOT NULL;

-- Dossiers with facts but no receipt: few, and found without a scan.
CREATE INDEX dossier_pending ON dossier (created_at) WHERE NOT received;
