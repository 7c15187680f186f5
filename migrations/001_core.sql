-- 001_core.sql: facts per dossier, totals per (unit, period), consumer offsets.
-- Applied by tthc-migrate inside one transaction.

-- One row per dossier: its set-once facts.  A row may exist before the
-- dossier.received event (received = false): its facts wait and count as soon
-- as the receipt arrives (events.md, semantics 4).
CREATE TABLE dossier (
    dossier_id       text PRIMARY KEY,
    received         boolean NOT NULL DEFAULT false,
    unit_code        text,            -- set with received
    period           text,            -- cohort month YYYY-MM of received_at in UTC+07
    procedure_code   text,
    channel          text CHECK (channel IN ('online', 'in_person', 'postal')),
    received_at      timestamptz,
    due_at           timestamptz,
    applicant_type   text,
    comp_digitized   boolean NOT NULL DEFAULT false,
    result_digitized boolean NOT NULL DEFAULT false,
    data_reused      boolean NOT NULL DEFAULT false,
    id_tagged        boolean NOT NULL DEFAULT false,
    issued           boolean NOT NULL DEFAULT false,
    electronic       boolean,         -- of the first dossier.result_issued
    finished_at      timestamptz,     -- of the first dossier.result_issued
    synced           boolean NOT NULL DEFAULT false,
    rated            boolean NOT NULL DEFAULT false,
    satisfied        boolean,         -- of the first dossier.rated
    payment_ids      text[]    NOT NULL DEFAULT '{}',  -- distinct payment_id, first-seen order
    payment_online   boolean[] NOT NULL DEFAULT '{}',  -- method = online, parallel to payment_ids
    event_ids        text[]    NOT NULL DEFAULT '{}',  -- event_id of every applied event
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT received OR (unit_code IS NOT NULL AND period IS NOT NULL AND received_at IS NOT NULL)),
    CHECK (cardinality(payment_ids) = cardinality(payment_online))
) WITH (fillfactor = 80);  -- room for HOT updates: a dossier row is rewritten as its facts arrive

-- Counts per bucket.  unit_code is a unit ('H61.07') or a province alone
-- ('H61') for the roll-up.  Every numerator is a subset of its denominator.
-- revision grows by one in every transaction that changes the row; the sync
-- service pushes the latest revision (transactional change record).
CREATE TABLE period_totals (
    unit_code        text   NOT NULL,
    period           text   NOT NULL CHECK (period ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    received         bigint NOT NULL DEFAULT 0,
    online           bigint NOT NULL DEFAULT 0,
    comp_digitized   bigint NOT NULL DEFAULT 0,
    data_reused      bigint NOT NULL DEFAULT 0,
    id_tagged        bigint NOT NULL DEFAULT 0,
    issued           bigint NOT NULL DEFAULT 0,
    result_digitized bigint NOT NULL DEFAULT 0,
    e_result         bigint NOT NULL DEFAULT 0,
    synced           bigint NOT NULL DEFAULT 0,
    due_issued       bigint NOT NULL DEFAULT 0,
    on_time          bigint NOT NULL DEFAULT 0,
    payments         bigint NOT NULL DEFAULT 0,
    payments_online  bigint NOT NULL DEFAULT 0,
    rated            bigint NOT NULL DEFAULT 0,
    satisfied        bigint NOT NULL DEFAULT 0,
    revision         bigint NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (unit_code, period)
);

-- Kafka positions, written in the same transaction as the facts they applied.
-- next_offset is the offset of the next message to apply.
CREATE TABLE consumer_offset (
    group_id    text    NOT NULL,
    topic       text    NOT NULL,
    partition   integer NOT NULL,
    next_offset bigint  NOT NULL CHECK (next_offset >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition)
);

-- The indicator catalogue (indicators.md) and the plan's targets as data.
CREATE TABLE indicator (
    code        text PRIMARY KEY,
    sort_order  integer NOT NULL UNIQUE,
    name_vi     text NOT NULL,
    numerator   text NOT NULL,
    denominator text NOT NULL
);

CREATE TABLE indicator_target (
    indicator   text    NOT NULL REFERENCES indicator (code),
    source_doc  text    NOT NULL,   -- e.g. 'NQ 01/NQ-CP #3'
    year        integer NOT NULL,
    target_pct  numeric(5, 2) NOT NULL CHECK (target_pct BETWEEN 0 AND 100),
    note        text,
    PRIMARY KEY (indicator, source_doc, year)
);

INSERT INTO indicator (code, sort_order, name_vi, numerator, denominator) VALUES
 ('online_submission', 1, 'Tỷ lệ hồ sơ trực tuyến', 'received dossiers with channel online', 'received dossiers'),
 ('digitized_dossier', 2, 'Tỷ lệ số hóa hồ sơ', 'received dossiers whose components were digitized', 'received dossiers'),
 ('digitized_result', 3, 'Tỷ lệ số hóa kết quả', 'dossiers with a result issued whose result was digitized', 'received dossiers with a result issued'),
 ('e_result', 4, 'Tỷ lệ cấp kết quả điện tử', 'dossiers whose result was issued electronically', 'received dossiers with a result issued'),
 ('id_tagged', 5, 'Tỷ lệ hồ sơ gắn định danh cá nhân', 'received dossiers tagged with personal identification', 'received dossiers'),
 ('data_reused', 6, 'Tỷ lệ tái sử dụng dữ liệu số hóa', 'received dossiers that reused digitized data', 'received dossiers'),
 ('online_payment', 7, 'Tỷ lệ thanh toán trực tuyến', 'payment transactions with method online', 'all payment transactions'),
 ('portal_synced', 8, 'Tỷ lệ đồng bộ kết quả lên Cổng DVCQG', 'dossiers with a result issued that the portal acknowledged', 'received dossiers with a result issued'),
 ('on_time', 9, 'Tỷ lệ giải quyết đúng hạn', 'dossiers with a result issued and finished_at <= due_at', 'received dossiers with a result issued and a due_at'),
 ('satisfaction', 10, 'Mức độ hài lòng', 'rated dossiers with satisfied = true', 'rated dossiers');

INSERT INTO indicator_target (indicator, source_doc, year, target_pct, note) VALUES
 ('online_submission', 'NQ 01/NQ-CP #3', 2025, 60, 'Tỷ lệ hồ sơ trực tuyến trên tổng số hồ sơ tiếp nhận, giải quyết TTHC'),
 ('online_submission', 'TB 56/TB-VPCP #2', 2025, 80, 'Hồ sơ TTHC được xử lý trực tuyến'),
 ('digitized_dossier', 'NQ 01/NQ-CP #4', 2025, 80, 'Tỷ lệ số hóa hồ sơ, kết quả giải quyết TTHC'),
 ('digitized_result', 'NQ 01/NQ-CP #4', 2025, 80, 'Tỷ lệ số hóa hồ sơ, kết quả giải quyết TTHC'),
 ('e_result', 'NQ 02/NQ-CP #1', 2025, 100, 'Tỷ lệ cấp kết quả giải quyết TTHC điện tử'),
 ('id_tagged', 'TB 56/TB-VPCP #3', 2025, 40, 'Hồ sơ giải quyết TTHC được gắn định danh cá nhân'),
 ('id_tagged', 'KH 18/KH-UBND II.2.c', 2025, 100, 'Hết tháng 6/2025, 100% hồ sơ giải quyết TTHC được gắn định danh cá nhân'),
 ('data_reused', 'NQ 02/NQ-CP #2', 2025, 50, 'Tỷ lệ khai thác, sử dụng lại thông tin, dữ liệu số hóa (tối thiểu)'),
 ('online_payment', 'NQ 01/NQ-CP #2', 2025, 60, 'Tỷ lệ thanh toán trực tuyến trên tổng số giao dịch thanh toán'),
 ('portal_synced', 'NQ 01/NQ-CP #5', 2025, 100, 'Tỷ lệ kết quả xử lý hồ sơ được đồng bộ đầy đủ trên Cổng DVCQG'),
 ('satisfaction', 'NQ 02/NQ-CP #4', 2025, 90, 'Mức độ hài lòng (tối thiểu)');

-- Read side: one row per (unit or province, period, indicator).
CREATE VIEW indicator_totals AS
SELECT t.unit_code, t.period, v.indicator, v.numerator, v.denominator
FROM period_totals t
CROSS JOIN LATERAL (VALUES
    ('online_submission', t.online,           t.received),
    ('digitized_dossier', t.comp_digitized,   t.received),
    ('digitized_result',  t.result_digitized, t.issued),
    ('e_result',          t.e_result,         t.issued),
    ('id_tagged',         t.id_tagged,        t.received),
    ('data_reused',       t.data_reused,      t.received),
    ('online_payment',    t.payments_online,  t.payments),
    ('portal_synced',     t.synced,           t.issued),
    ('on_time',           t.on_time,          t.due_issued),
    ('satisfaction',      t.satisfied,        t.rated)
) AS v (indicator, numerator, denominator);

-- "Where are we?": rate in percent, each target of the period's year, met or not.
CREATE VIEW indicator_status AS
SELECT it.unit_code, it.period, it.indicator, it.numerator, it.denominator,
       round(100.0 * it.numerator / NULLIF(it.denominator, 0), 2) AS rate_pct,
       tg.source_doc, tg.target_pct,
       CASE WHEN tg.target_pct IS NULL OR it.denominator = 0 THEN NULL
            ELSE 100.0 * it.numerator / it.denominator >= tg.target_pct END AS met
FROM indicator_totals it
JOIN indicator i ON i.code = it.indicator
LEFT JOIN indicator_target tg
       ON tg.indicator = it.indicator AND tg.year = substr(it.period, 1, 4)::integer;
