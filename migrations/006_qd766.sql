-- 006_qd766.sql: the national portal's QĐ 766/QĐ-TTg score (docs/qd766.md).
-- Applied by tthc-migrate inside one transaction.
--
--   dossier.reuse_source        a new set-once fact: `source` of the first dossier.data_reused
--   qd766_group, qd766_metric   the rules as data: groups, metrics, maxima, thresholds,
--                               what a zero denominator gives, where the figures come from
--   qd766_score(code, n, d)     one metric's score exactly as the portal computes it
--   qd766_ratio(code, n, d)     the ratio the portal shows
--   qd766_online_payment(...)   the online-payment composite (three parts)
--   qd766_counts(...)           the stream's counts per (unit or province roll-up, period)
--   qd766_metrics(...)          every metric per (unit or province, period): numerator,
--                               denominator, ratio, score, known or needing another feed
--   qd766_groups(...)           group totals over what is known, and the points unknown
--   qd766_metric_status, qd766_group_status, qd766_unit_points: the same per month, now.
--
-- All arithmetic is exact: integers and numeric, never float8.  A rounded
-- figure r2(x) is x rounded half up to 2 decimals.

-- ---- the fact -----------------------------------------------------------------
-- NULL: no data_reused yet, a first data_reused without one of the contract's
-- sources, or a dossier stored before this migration.
ALTER TABLE dossier ADD COLUMN reuse_source text
    CHECK (reuse_source IN ('digitized_store', 'national_db', 'other_dossier'));

-- ---- the rules ----------------------------------------------------------------
CREATE TABLE qd766_group (
    code        text PRIMARY KEY,
    sort_order  integer NOT NULL UNIQUE,
    name_vi     text NOT NULL,
    name_en     text NOT NULL,
    max_points  numeric(6, 2) NOT NULL CHECK (max_points >= 0),
    feed_note   text            -- for groups without metrics here: where their figures come from
);

-- rule:       rate           score = r2(max * min(1, p / threshold)), p = 100 n / d unrounded
--             constant       ratio 100 and full points, whatever the counts (ratio_const, max)
--             informational  ratio only, score always NULL
--             composite      ONLINE_PAYMENT_TOTAL: qd766_online_payment()
-- zero_den:   zero           ratio 0, score 0
--             null           ratio NULL, score NULL
--             full           ratio 0, score max
--             ratio_only     ratio 0, score NULL
--             part_zero      composite: a part with d = 0 is 0
-- feed:       dossier_stream (computed here), procedure_catalogue, petitions, portal_constant
-- stream_num, stream_den: the columns of qd766_counts() for a stream metric.
CREATE TABLE qd766_metric (
    code          text PRIMARY KEY,
    group_code    text NOT NULL REFERENCES qd766_group (code),
    sort_order    integer NOT NULL UNIQUE,
    name_vi       text NOT NULL,
    name_en       text NOT NULL,
    max_points    numeric(6, 2) NOT NULL CHECK (max_points >= 0),
    threshold_pct numeric(6, 2) CHECK (threshold_pct > 0 AND threshold_pct <= 100),
    rule          text NOT NULL CHECK (rule IN ('rate', 'constant', 'informational', 'composite')),
    zero_den      text NOT NULL CHECK (zero_den IN ('zero', 'null', 'full', 'ratio_only', 'part_zero')),
    feed          text NOT NULL CHECK (feed IN ('dossier_stream', 'procedure_catalogue', 'petitions', 'portal_constant')),
    stream_num    text,
    stream_den    text,
    stream_part_max numeric(6, 2),  -- composite: the points the stream's part can give
    source        text NOT NULL,   -- where the rule is stated
    CHECK (rule <> 'rate' OR threshold_pct IS NOT NULL),
    CHECK ((feed = 'dossier_stream') = (stream_num IS NOT NULL AND stream_den IS NOT NULL))
);

INSERT INTO qd766_group (code, sort_order, name_vi, name_en, max_points, feed_note) VALUES
 ('transparency', 1, 'Công khai, minh bạch', 'Transparency', 18,
  'công khai TTHC trên Cổng DVCQG: cơ sở dữ liệu TTHC (not in the dossier stream)'),
 ('progress', 2, 'Tiến độ giải quyết', 'Processing progress', 20, NULL),
 ('online_services', 3, 'Dịch vụ công trực tuyến', 'Online services', 12,
  'danh mục dịch vụ công trực tuyến toàn trình, một phần (procedure catalogue, not in the dossier stream)'),
 ('online_payment', 4, 'Thanh toán trực tuyến', 'Online payment', 10, NULL),
 ('satisfaction', 5, 'Mức độ hài lòng', 'Satisfaction', 18, NULL),
 ('digitization', 6, 'Số hóa hồ sơ', 'Digitization', 22, NULL);

INSERT INTO qd766_metric (code, group_code, sort_order, name_vi, name_en, max_points, threshold_pct, rule,
                          zero_den, feed, stream_num, stream_den, stream_part_max, source) VALUES
 ('DVC_PROGRESS', 'progress', 1, 'Tỷ lệ hồ sơ giải quyết đúng hạn',
  'Dossiers on time', 20, 100, 'rate', 'zero', 'dossier_stream', 'on_time', 'received', NULL,
  'qd766.md: progress (on time at the evaluation instant / received)'),
 ('ORIGINAL_RESULT_AVAILABLE', 'digitization', 2, 'Tỷ lệ hồ sơ có kết quả điện tử',
  'Dossiers with an electronic result', 6, 100, 'rate', 'null', 'dossier_stream', 'e_result', 'received', NULL,
  'qd766.md: digitization'),
 ('SO_HOA_GIAY_TO_GIAI_QUYET', 'digitization', 3, 'Tỷ lệ số hóa giấy tờ hồ sơ',
  'Dossiers with components digitized', 4, 100, 'rate', 'null', 'dossier_stream', 'comp_digitized', 'received', NULL,
  'qd766.md: digitization'),
 ('REUSED_DIGITIZED_DATA', 'digitization', 4, 'Tỷ lệ tái sử dụng dữ liệu số hóa',
  'Dossiers that reused digitized data', 2, 80, 'rate', 'null', 'dossier_stream', 'data_reused', 'received', NULL,
  'qd766.md: digitization (threshold 80 %)'),
 ('SYNCED_WITH_DVCQG_PERSONAL_STORAGE', 'digitization', 5, 'Tỷ lệ khai thác dữ liệu từ kho quản lý dữ liệu điện tử',
  'Dossiers that reused data from the personal digital store', 4, 100, 'rate', 'null', 'dossier_stream',
  'reused_store', 'received', NULL, 'qd766.md: digitization (data_reused with source digitized_store)'),
 ('CITIZEN_DATA_CONNECTED_DOSSIER', 'digitization', 6, 'Tỷ lệ hồ sơ gắn định danh cá nhân',
  'Dossiers tagged with personal identification', 2, 100, 'rate', 'null', 'dossier_stream', 'id_tagged', 'received',
  NULL, 'qd766.md: digitization'),
 ('CITIZEN_DATA_CONNECTED_FORMALITY', 'digitization', 7, 'Tỷ lệ TTHC kết nối dữ liệu dân cư',
  'Procedures connected to the population database', 2, 100, 'rate', 'null', 'procedure_catalogue', NULL, NULL,
  NULL, 'qd766.md: digitization (procedure catalogue)'),
 ('ELECTRONIC_CERTIFIED_COPY', 'digitization', 8, 'Chứng thực bản sao điện tử',
  'Electronic certified copies', 2, NULL, 'constant', 'zero', 'portal_constant', NULL, NULL, NULL,
  'qd766.md: constant on the portal today (ratio 100, score 2)'),
 ('DOSSIER_RECEIVING_SATISFACTION', 'satisfaction', 9, 'Mức độ hài lòng trong tiếp nhận, giải quyết hồ sơ',
  'Satisfaction with dossier handling', 6, 90, 'rate', 'zero', 'dossier_stream', 'satisfaction', 'received', NULL,
  'qd766.md: max(0, on time - rated unsatisfied) / received; threshold 90 %'),
 ('PETITION_PROCESSING_ON_TIME', 'satisfaction', 10, 'Tỷ lệ xử lý phản ánh, kiến nghị đúng hạn',
  'Petitions processed on time', 6, 100, 'rate', 'full', 'petitions', NULL, NULL, NULL,
  'qd766.md: petitions feed'),
 ('PETITION_HANDLING_SATISFACTION', 'satisfaction', 11, 'Mức độ hài lòng xử lý phản ánh, kiến nghị',
  'Satisfaction with petition handling', 6, 100, 'rate', 'full', 'petitions', NULL, NULL, NULL,
  'qd766.md: petitions feed'),
 ('PETITION_CLASSIFICATION_TTHC', 'satisfaction', 12, 'Phản ánh, kiến nghị về TTHC',
  'Petitions about procedures', 0, NULL, 'informational', 'ratio_only', 'petitions', NULL, NULL, NULL,
  'qd766.md: informational, ratio only'),
 ('PETITION_CLASSIFICATION_STAFF', 'satisfaction', 13, 'Phản ánh, kiến nghị về cán bộ',
  'Petitions about staff', 0, NULL, 'informational', 'ratio_only', 'petitions', NULL, NULL, NULL,
  'qd766.md: informational, ratio only'),
 ('ONLINE_PAYMENT_TOTAL', 'online_payment', 14, 'Thanh toán trực tuyến',
  'Online payment', 10, NULL, 'composite', 'part_zero', 'dossier_stream', 'paid_online', 'paid', 6,
  'qd766.md: three parts; the stream gives A/B (dossiers paid online / dossiers with a payment), '
  'C/D and E/F come from the procedure catalogue');

-- ---- arithmetic -----------------------------------------------------------------

-- r2(100 n / d) in hundredths, half up, exact (n >= 0, d > 0).
CREATE FUNCTION qd766_pct_centi(n numeric, d numeric) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT div(20000 * n + d, 2 * d) $$;

CREATE FUNCTION qd766_negative(numerator bigint, denominator bigint) RETURNS void
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    RAISE EXCEPTION 'qd766: numerator and denominator must not be negative (% / %)', numerator, denominator
        USING ERRCODE = '22003';
END $$;

-- The ratio the portal shows: r2(100 n / d); a zero denominator by the metric's rule.
-- (qd766_ratio and qd766_score read their rule with one lookup each and no nested
-- statement: a million calls take seconds, not minutes.)
CREATE FUNCTION qd766_ratio(metric_code text, numerator bigint, denominator bigint) RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    r text;
    z text;
BEGIN
    SELECT m.rule, m.zero_den INTO r, z FROM qd766_metric m WHERE m.code = metric_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'qd766: unknown metric code "%"', metric_code
            USING ERRCODE = '22023', HINT = 'the codes are in table qd766_metric';
    END IF;
    IF r = 'constant' THEN RETURN 100.00; END IF;
    IF numerator IS NULL OR denominator IS NULL THEN RETURN NULL; END IF;
    IF numerator < 0 OR denominator < 0 THEN PERFORM qd766_negative(numerator, denominator); END IF;
    IF denominator = 0 THEN
        RETURN CASE z WHEN 'null' THEN NULL ELSE 0.00 END;
    END IF;
    RETURN round(div(20000 * numerator::numeric + denominator, 2 * denominator::numeric) / 100, 2);
END $$;

-- One metric's score (qd766.md): r2(max * min(1, p / T)) from the unrounded p;
-- NULL where the portal gives null; an unknown code is an error.  The
-- composite ONLINE_PAYMENT_TOTAL has three parts: qd766_online_payment().
CREATE FUNCTION qd766_score(metric_code text, numerator bigint, denominator bigint) RETURNS numeric
LANGUAGE plpgsql STABLE PARALLEL SAFE
AS $$
DECLARE
    r text;
    z text;
    max100 numeric;  -- hundredths of a point
    t100 numeric;    -- hundredths of a percent
BEGIN
    SELECT m.rule, m.zero_den, m.max_points * 100, m.threshold_pct * 100 INTO r, z, max100, t100
    FROM qd766_metric m WHERE m.code = metric_code;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'qd766: unknown metric code "%"', metric_code
            USING ERRCODE = '22023', HINT = 'the codes are in table qd766_metric';
    END IF;
    IF r = 'constant' THEN RETURN round(max100 / 100, 2); END IF;
    IF r = 'informational' THEN RETURN NULL; END IF;
    IF r = 'composite' THEN
        RAISE EXCEPTION 'qd766: % is a composite of three ratios', metric_code
            USING ERRCODE = '22023', HINT = 'use qd766_online_payment(a, b, c, d, e, f)';
    END IF;
    IF numerator IS NULL OR denominator IS NULL THEN RETURN NULL; END IF;
    IF numerator < 0 OR denominator < 0 THEN PERFORM qd766_negative(numerator, denominator); END IF;
    IF denominator = 0 THEN
        RETURN CASE z WHEN 'zero' THEN 0.00 WHEN 'full' THEN round(max100 / 100, 2) ELSE NULL END;
    END IF;
    IF 10000 * numerator::numeric >= t100 * denominator THEN
        RETURN round(max100 / 100, 2);  -- p >= T
    END IF;
    -- score in hundredths = max100 * 100 n / (d * T) = max100 * 10000 n / (d * t100), half up
    RETURN round(div(2 * max100 * 10000 * numerator::numeric + denominator::numeric * t100,
                     2 * denominator::numeric * t100) / 100, 2);
END $$;

-- The online-payment composite: r2( r2(2 min(100, q(C,D) / 0.8) / 100)
-- + r2(2 min(100, q(E,F) / 0.8) / 100) + r2(6 min(100, q(A,B)) / 100) ),
-- q(n, d) = r2(100 n / d), 0 when d = 0.  NULL when any count is NULL.
CREATE FUNCTION qd766_q(n bigint, d bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT CASE WHEN d = 0 THEN 0.00 ELSE round(qd766_pct_centi(n, d) / 100, 2) END $$;

CREATE FUNCTION qd766_online_payment_dossier_part(a bigint, b bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT round(least(100, qd766_q(a, b)) * 0.06, 2) $$;

CREATE FUNCTION qd766_online_payment_catalogue_part(n bigint, d bigint) RETURNS numeric
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT round(least(100, qd766_q(n, d) * 1.25) * 0.02, 2) $$;  -- q / 0.8 = q * 1.25, exactly

CREATE FUNCTION qd766_online_payment(a bigint, b bigint, c bigint, d bigint, e bigint, f bigint) RETURNS numeric
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
AS $$
BEGIN
    IF a IS NULL OR b IS NULL OR c IS NULL OR d IS NULL OR e IS NULL OR f IS NULL THEN RETURN NULL; END IF;
    IF least(a, b, c, d, e, f) < 0 THEN PERFORM qd766_negative(least(a, c, e), least(b, d, f)); END IF;
    RETURN round(qd766_online_payment_catalogue_part(c, d) + qd766_online_payment_catalogue_part(e, f)
                 + qd766_online_payment_dossier_part(a, b), 2);
END $$;

-- ---- the stream's counts -----------------------------------------------------------

-- The instant a month 'YYYY-MM' ends in Vietnam time (UTC+07:00): the first
-- instant of the next month.
CREATE FUNCTION qd766_period_end(period text) RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT ((period || '-01')::timestamp + interval '1 month') AT TIME ZONE INTERVAL '+07:00' $$;
-- (An interval: ISO sign, east of UTC.  The text '+07:00' would be a POSIX zone, 7 hours WEST.)

-- Counts of the dossiers received in months p_from..p_to, per unit and per
-- province roll-up.  per_month: one row per month, each evaluated at the end
-- of its month; otherwise one row for the whole range (period =
-- 'p_from..p_to', or the month when p_from = p_to) evaluated at its end.  The
-- evaluation instant is never later than p_at ("now for the current period").
--   on_time: no due_at; or a result issued with finished_at <= due_at; or no
--            result yet and due_at not passed at the evaluation instant
--            (due_at >= the instant: finishing exactly then would be on time)
--   satisfaction: max(0, on_time - rated unsatisfied)
--   paid / paid_online: dossiers with a payment / with an online payment
CREATE FUNCTION qd766_counts(p_from text, p_to text, p_at timestamptz, per_month boolean DEFAULT true)
RETURNS TABLE (unit_code text, period text, evaluated_at timestamptz, received bigint, on_time bigint,
               e_result bigint, comp_digitized bigint, data_reused bigint, reused_store bigint, id_tagged bigint,
               unsatisfied bigint, satisfaction bigint, paid bigint, paid_online bigint)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
WITH d AS (
    SELECT d.unit_code, split_part(d.unit_code, '.', 1) AS province,
           CASE WHEN per_month THEN d.period
                WHEN p_from = p_to THEN p_from
                ELSE p_from || '..' || p_to END AS period,
           least(qd766_period_end(CASE WHEN per_month THEN d.period ELSE p_to END), p_at) AS eval_at,
           d.due_at, d.issued, d.finished_at, d.electronic, d.comp_digitized, d.data_reused, d.reuse_source,
           d.id_tagged, d.rated, d.satisfied, d.payment_online
    FROM dossier d
    WHERE d.received AND d.period BETWEEN p_from AND p_to
), f AS (
    SELECT unit_code, province, period, eval_at,
           (due_at IS NULL OR (issued AND finished_at <= due_at) OR (NOT issued AND due_at >= eval_at))::int AS on_time,
           (issued AND electronic)::int AS e_result,
           comp_digitized::int AS comp_digitized,
           data_reused::int AS data_reused,
           (data_reused AND reuse_source IS NOT DISTINCT FROM 'digitized_store')::int AS reused_store,
           id_tagged::int AS id_tagged,
           (rated AND NOT satisfied)::int AS unsatisfied,
           (cardinality(payment_online) > 0)::int AS paid,
           (true = ANY (payment_online))::int AS paid_online
    FROM d
), g AS (
    SELECT CASE WHEN grouping(unit_code) = 1 THEN province ELSE unit_code END AS unit_code, period,
           max(eval_at) AS evaluated_at, count(*) AS received, sum(on_time) AS on_time, sum(e_result) AS e_result,
           sum(comp_digitized) AS comp_digitized, sum(data_reused) AS data_reused,
           sum(reused_store) AS reused_store, sum(id_tagged) AS id_tagged, sum(unsatisfied) AS unsatisfied,
           sum(paid) AS paid, sum(paid_online) AS paid_online
    FROM f
    GROUP BY GROUPING SETS ((province, unit_code, period), (province, period))
)
SELECT unit_code, period, evaluated_at, received, on_time, e_result, comp_digitized, data_reused, reused_store,
       id_tagged, unsatisfied, greatest(0, on_time - unsatisfied) AS satisfaction, paid, paid_online
FROM g
$$;

-- Every metric per (unit or province, period).  status:
--   known          from the dossier stream (or the portal's constant): ratio and score
--   partial        ONLINE_PAYMENT_TOTAL: the stream's part is known (points_known of
--                  max_known), the catalogue parts are not (max_unknown)
--   unknown        needs another feed: NULL figures, its maximum in max_unknown
-- points_known counts a NULL score as 0 (as the group totals do).
CREATE FUNCTION qd766_metrics(p_from text, p_to text, p_at timestamptz, per_month boolean DEFAULT true)
RETURNS TABLE (unit_code text, period text, evaluated_at timestamptz, metric_code text, group_code text,
               sort_order integer, numerator bigint, denominator bigint, ratio numeric, score numeric,
               max_points numeric, status text, points_known numeric, max_known numeric, max_unknown numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
WITH c AS (SELECT * FROM qd766_counts(p_from, p_to, p_at, per_month)),
v AS (
    SELECT c.unit_code, c.period, c.evaluated_at, m.code, m.group_code, m.sort_order, m.max_points, m.feed, m.rule,
           m.stream_part_max,
           CASE m.stream_num WHEN 'on_time' THEN c.on_time WHEN 'e_result' THEN c.e_result
                WHEN 'comp_digitized' THEN c.comp_digitized WHEN 'data_reused' THEN c.data_reused
                WHEN 'reused_store' THEN c.reused_store WHEN 'id_tagged' THEN c.id_tagged
                WHEN 'satisfaction' THEN c.satisfaction WHEN 'paid_online' THEN c.paid_online END AS n,
           CASE m.stream_den WHEN 'received' THEN c.received WHEN 'paid' THEN c.paid END AS d
    FROM c CROSS JOIN qd766_metric m
)
SELECT v.unit_code, v.period, v.evaluated_at, v.code, v.group_code, v.sort_order, v.n, v.d,
       CASE WHEN v.rule = 'composite' THEN qd766_q(v.n, v.d)
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN qd766_ratio(v.code, v.n, v.d) END,
       CASE WHEN v.rule = 'composite' THEN NULL
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN qd766_score(v.code, v.n, v.d) END,
       v.max_points,
       CASE WHEN v.rule = 'composite' THEN 'partial'
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN 'known' ELSE 'unknown' END,
       CASE WHEN v.rule = 'composite' THEN qd766_online_payment_dossier_part(v.n, v.d)
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN coalesce(qd766_score(v.code, v.n, v.d), 0)
            ELSE 0 END,
       CASE WHEN v.rule = 'composite' THEN v.stream_part_max
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN v.max_points ELSE 0 END,
       CASE WHEN v.rule = 'composite' THEN v.max_points - v.stream_part_max
            WHEN v.feed IN ('dossier_stream', 'portal_constant') THEN 0 ELSE v.max_points END
FROM v
$$;

-- Group totals: r2 of the sum of the metrics' rounded scores known (a NULL
-- score counts 0), the maximum they can give, and the points that need
-- other feeds (a group without metrics here is wholly unknown).
CREATE FUNCTION qd766_groups(p_from text, p_to text, p_at timestamptz, per_month boolean DEFAULT true)
RETURNS TABLE (unit_code text, period text, group_code text, sort_order integer, max_points numeric,
               points_known numeric, max_known numeric, max_unknown numeric)
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
WITH m AS (SELECT * FROM qd766_metrics(p_from, p_to, p_at, per_month)),
b AS (SELECT DISTINCT m.unit_code, m.period FROM m)
SELECT b.unit_code, b.period, g.code, g.sort_order, g.max_points,
       round(coalesce(sum(m.points_known), 0), 2), coalesce(sum(m.max_known), 0),
       g.max_points - coalesce(sum(m.max_known), 0)
FROM b CROSS JOIN qd766_group g
LEFT JOIN m ON m.unit_code = b.unit_code AND m.period = b.period AND m.group_code = g.code
GROUP BY b.unit_code, b.period, g.code, g.sort_order, g.max_points
$$;

-- Month by month, evaluated now.
CREATE VIEW qd766_metric_status AS
SELECT * FROM qd766_metrics('0000-00', '9999-99', now(), true);

CREATE VIEW qd766_group_status AS
SELECT * FROM qd766_groups('0000-00', '9999-99', now(), true);

-- Per (unit or province, month): the points known, of how many, the points
-- that need other feeds, and the unit's rank among the province's units by
-- the points known (1 = most; equal points share a rank).
CREATE VIEW qd766_unit_points AS
SELECT unit_code, period, points_known, max_known, max_unknown,
       CASE WHEN unit_code LIKE '%.%' THEN
           rank() OVER (PARTITION BY split_part(unit_code, '.', 1), period, unit_code LIKE '%.%'
                        ORDER BY points_known DESC) END AS rank_in_province
FROM (SELECT unit_code, period, round(sum(points_known), 2) AS points_known, sum(max_known) AS max_known,
             sum(max_unknown) AS max_unknown
      FROM qd766_group_status GROUP BY unit_code, period) t;

COMMENT ON FUNCTION qd766_score(text, bigint, bigint) IS
    'QĐ 766 score of one metric as the national portal computes it (docs/qd766.md)';
