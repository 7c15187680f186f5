#!/usr/bin/env bash
# it_qd766: the QĐ 766 score (migrations/006_qd766.sql, docs/qd766.md) on a real database.
#  1. qd766_score / qd766_ratio on every worked example of the contract and on a table of
#     derived edge cases (threshold crossings, zero denominators per rule, rounding ties,
#     a case float8 arithmetic rounds the wrong way, errors);
#  2. property test: TTHC_QD766_PAIRS (default 1,000,000) random (numerator, denominator)
#     pairs per metric, and as many sextuples of the online-payment composite, scored by
#     the oracle (tests/tools/tthc_stream.py, Python decimal) and COPied in, compared with
#     the SQL functions in one query;
#  3. a generated stream plus hand-made dossiers at the evaluation-instant boundaries,
#     through the broker and tthc-ingest: qd766_metrics() and qd766_groups() equal the
#     oracle's, evaluated at several instants, per month and over a quarter; the
#     hand-made unit's figures are also asserted as numbers.
source "$(dirname "$0")/common.sh"
PAIRS=${TTHC_QD766_PAIRS:-1000000}
it_setup
cd "$IT_DIR"
psql_do() { psql -X -q -v ON_ERROR_STOP=1 "$TTHC_PG_DSN" "$@"; }

# ---- 1. worked examples and edge cases ---------------------------------------------
cat >cases.tsv <<'EOF'
# code	numerator	denominator	ratio	score	why
DVC_PROGRESS	144625	184513	78.38	15.68	worked example (Phú Thọ H44)
ORIGINAL_RESULT_AVAILABLE	133274	184513	72.23	4.33	worked example
REUSED_DIGITIZED_DATA	35	2971	1.18	0.03	worked example (threshold 80)
CITIZEN_DATA_CONNECTED_DOSSIER	85644	184513	46.42	0.93	worked example
SO_HOA_GIAY_TO_GIAI_QUYET	312	588	53.06	2.12	worked example
ORIGINAL_RESULT_AVAILABLE	3	16	18.75	1.13	tie 1.125 rounds up (not to even)
SO_HOA_GIAY_TO_GIAI_QUYET	1	32	3.13	0.13	ratio tie 3.125 and score tie 0.125 round up
DVC_PROGRESS	9	800	1.13	0.23	exact 0.225; float8 gives 0.22499999999999998 -> 0.22
DVC_PROGRESS	41	800	5.13	1.03	exact 1.025; float8 1.02
DVC_PROGRESS	0	0	0.00	0.00	zero denominator: ratio 0, score 0
DVC_PROGRESS	5	4	125.00	20.00	numerator above denominator: score capped at max
DVC_PROGRESS	0	7	0.00	0.00	nothing on time
ORIGINAL_RESULT_AVAILABLE	0	0	\N	\N	zero denominator: null
SYNCED_WITH_DVCQG_PERSONAL_STORAGE	0	0	\N	\N	zero denominator: null
CITIZEN_DATA_CONNECTED_FORMALITY	0	0	\N	\N	zero denominator: null
REUSED_DIGITIZED_DATA	4	5	80.00	2.00	exactly at the threshold: full points
REUSED_DIGITIZED_DATA	79	100	79.00	1.98	below: 2 * 79 / 80 = 1.975, tie up
REUSED_DIGITIZED_DATA	7999	10000	79.99	2.00	just below: 1.99975 rounds to the max
REUSED_DIGITIZED_DATA	0	0	\N	\N	zero denominator: null
DOSSIER_RECEIVING_SATISFACTION	9	10	90.00	6.00	at the threshold 90
DOSSIER_RECEIVING_SATISFACTION	899	1000	89.90	5.99	below: 5.99333
DOSSIER_RECEIVING_SATISFACTION	1	1	100.00	6.00	above the threshold
DOSSIER_RECEIVING_SATISFACTION	0	0	0.00	0.00	zero denominator: ratio 0, score 0
PETITION_PROCESSING_ON_TIME	0	0	0.00	6.00	zero denominator: full points
PETITION_HANDLING_SATISFACTION	0	0	0.00	6.00	zero denominator: full points
PETITION_HANDLING_SATISFACTION	1	3	33.33	2.00	a third
PETITION_CLASSIFICATION_TTHC	0	0	0.00	\N	informational: ratio only
PETITION_CLASSIFICATION_STAFF	5	10	50.00	\N	informational: never a score
ELECTRONIC_CERTIFIED_COPY	0	0	100.00	2.00	constant on the portal
ELECTRONIC_CERTIFIED_COPY	1	7	100.00	2.00	constant whatever the counts
EOF
psql_do -c "CREATE TABLE t_cases (code text, n bigint, d bigint, ratio numeric, score numeric, why text)"
grep -v '^#' cases.tsv | psql_do -c "COPY t_cases FROM STDIN"
bad=$(it_sql "SELECT string_agg(format('%s %s/%s: ratio %s score %s, want %s %s (%s)', code, n, d,
                     qd766_ratio(code, n, d), qd766_score(code, n, d), ratio, score, why), E'\n')
              FROM t_cases
              WHERE qd766_ratio(code, n, d) IS DISTINCT FROM ratio OR qd766_score(code, n, d) IS DISTINCT FROM score
                 OR qd766_score(code, n, d)::text IS DISTINCT FROM score::text")
[[ -z $bad ]] || it_fail "edge cases:"$'\n'"$bad"
[[ $(it_sql "SELECT qd766_score('DVC_PROGRESS', 144625, 184513)") == 15.68 ]] || it_fail "the contract's example is not 15.68"
# The same table through the oracle: its implementation agrees on every case.
grep -v '^#' cases.tsv | python3 -c '
import sys; sys.path.insert(0, sys.argv[1]); import tthc_stream as t
bad = 0
for line in sys.stdin:
    code, n, d, ratio, score, why = line.rstrip("\n").split("\t")
    got = tuple("\\N" if v is None else str(v) for v in (t.qd766_ratio(code, int(n), int(d)), t.qd766_score(code, int(n), int(d))))
    if got != (ratio, score): print("oracle:", code, n, d, got, "want", ratio, score, why); bad += 1
sys.exit(bad > 0)' "$TTHC_SOURCE_DIR/tests/tools" || it_fail "the oracle disagrees with the edge-case table"
# Composite: the contract's 3/16 example (1.125 -> 1.13) plus full catalogue parts.
[[ $(it_sql "SELECT qd766_online_payment(3, 16, 1, 1, 0, 0)") == 3.13 ]] || it_fail "online payment 3/16"
[[ $(it_sql "SELECT qd766_online_payment(0, 0, 0, 0, 0, 0)") == 0.00 ]] || it_fail "online payment: zero parts"
[[ $(it_sql "SELECT qd766_online_payment(8, 10, 8, 10, 79, 100)") == 8.78 ]] ||
    it_fail "online payment 80 %/80 %/79 %: $(it_sql "SELECT qd766_online_payment(8, 10, 8, 10, 79, 100)")"
for q in "qd766_score('NO_SUCH_METRIC', 1, 2)" "qd766_ratio('no_such', 1, 2)" "qd766_score('ONLINE_PAYMENT_TOTAL', 1, 2)" \
    "qd766_score('DVC_PROGRESS', -1, 2)"; do
    if it_sql "SELECT $q" >/dev/null 2>err.log; then it_fail "$q did not fail"; fi
done
grep -q 'unknown metric code' <(it_sql "SELECT qd766_score('NO_SUCH_METRIC', 1, 2)" 2>&1) || it_fail "unknown code: message"
echo "1. $(grep -vc '^#' cases.tsv) worked examples and edge cases, the composite and the errors"

# ---- 2. property test against the oracle ---------------------------------------------
start=$SECONDS
psql_do -c "CREATE UNLOGGED TABLE t_pairs (code text, n bigint, d bigint, ratio numeric, score numeric)" \
    -c "CREATE UNLOGGED TABLE t_comp (a bigint, b bigint, c bigint, d bigint, e bigint, f bigint, score numeric)"
"${ORACLE[@]}" qd766-pairs --count "$PAIRS" --seed "it-qd766" 2>pairs.log | psql_do -c "COPY t_pairs FROM STDIN"
"${ORACLE[@]}" qd766-pairs --count "$PAIRS" --seed "it-qd766-c" --composite 2>>pairs.log | psql_do -c "COPY t_comp FROM STDIN"
read -r rows metrics ties zeros <<<"$(it_sql "SELECT count(*), count(DISTINCT code),
        count(*) FILTER (WHERE d > 0 AND (20000 * n::numeric) % (2 * d::numeric) = d),
        count(*) FILTER (WHERE d = 0) FROM t_pairs" | tr '|' ' ')"
((metrics == 13 && rows == 13 * PAIRS)) || it_fail "pairs: $rows rows of $metrics metrics"
bad=$(it_sql "SELECT count(*) || ' ' || coalesce(min(format('%s %s/%s: sql %s %s, oracle %s %s', code, n, d,
                     qd766_ratio(code, n, d), qd766_score(code, n, d), ratio, score)), '')
              FROM t_pairs WHERE qd766_ratio(code, n, d) IS DISTINCT FROM ratio
                              OR qd766_score(code, n, d) IS DISTINCT FROM score")
[[ $bad == "0 " ]] || it_fail "property test: $bad"
bad=$(it_sql "SELECT count(*) || ' ' || coalesce(min(format('%s %s %s %s %s %s: sql %s, oracle %s', a, b, c, d, e, f,
                     qd766_online_payment(a, b, c, d, e, f), score)), '')
              FROM t_comp WHERE qd766_online_payment(a, b, c, d, e, f) IS DISTINCT FROM score")
[[ $bad == "0 " ]] || it_fail "composite property test: $bad"
echo "2. $rows pairs over $metrics metrics ($ties ratio ties, $zeros zero denominators) and $PAIRS composites" \
    "equal the oracle ($((SECONDS - start)) s)"

# ---- 3. the stream's metrics -------------------------------------------------------------
"${ORACLE[@]}" gen --seed it-qd766 --dossiers 4000 --units 12 --months 2025-07..2025-09 --malformed 0 \
    --out-events stream.tsv --out-expected expected.json 2>gen.log
# Hand-made unit H61.99, June 2025 (evaluation instant: 2025-07-01T00:00:00+07:00):
#   a unfinished, due exactly at the instant: on time     b unfinished, due a second before: overdue
#   c finished after its due: overdue                      d finished exactly at its due: on time
#   e no due_at: on time                                   f unfinished, due in July: on time
#   reuse: a digitized_store then national_db (store), b national_db then digitized_store (not), c none;
#          the second events of b and c (and a third of a) come in a later batch
#   d rated unsatisfied; e paid offline and online; f paid offline
ev() { printf '%s\t{"event_id":"%s","event_type":"%s","occurred_at":"2025-06-10T08:00:00+07:00","dossier_id":"%s"%s}\n' "$2" "$1" "$3" "$2" "$4"; }
rec() { ev "r-$1" "$1" dossier.received ",\"unit_code\":\"H61.99\",\"procedure_code\":\"1.000\",\"channel\":\"online\",\"received_at\":\"2025-06-10T08:00:00+07:00\"$2"; }
{
    rec qa ',"due_at":"2025-07-01T00:00:00+07:00"'
    rec qb ',"due_at":"2025-06-30T23:59:59+07:00"'
    rec qc ',"due_at":"2025-06-20T17:00:00+07:00"'
    rec qd ',"due_at":"2025-06-20T17:00:00+07:00"'
    rec qe ''
    rec qf ',"due_at":"2025-07-15T17:00:00+07:00"'
    ev i-qc qc dossier.result_issued ',"finished_at":"2025-06-21T08:00:00+07:00","electronic":true'
    ev i-qd qd dossier.result_issued ',"finished_at":"2025-06-20T10:00:00Z","electronic":false'
    ev u-qa1 qa dossier.data_reused ',"source":"digitized_store"'
    ev u-qa2 qa dossier.data_reused ',"source":"national_db"'
    ev u-qb1 qb dossier.data_reused ',"source":"national_db"'
    ev u-qc1 qc dossier.data_reused ',"source":"motcua.vinhlong"'
    ev s-qd qd dossier.rated ',"satisfied":false'
    ev p-qe1 qe dossier.paid ',"payment_id":"P1","method":"offline","amount_vnd":1000'
    ev p-qe2 qe dossier.paid ',"payment_id":"P2","method":"online","amount_vnd":1000'
    ev p-qf1 qf dossier.paid ',"payment_id":"P3","method":"offline","amount_vnd":1000'
} >hand.tsv
# Applied later, in another batch: the stored source is loaded, and stands.
{
    ev u-qb2 qb dossier.data_reused ',"source":"digitized_store"'
    ev u-qc2 qc dossier.data_reused ',"source":"digitized_store"'
    ev u-qa3 qa dossier.data_reused ',"source":"other_dossier"'
} >hand2.tsv
cat stream.tsv hand.tsv >first.tsv
cat first.tsv hand2.tsv >all.tsv
it_produce first.tsv
it_ingest_start a --batch-max 2000 --batch-ms 50
it_wait_applied "$(wc -l <first.tsv)" 240
it_produce hand2.tsv
it_wait_applied "$(wc -l <all.tsv)" 60
it_ingest_stop a
[[ $(it_sql "SELECT string_agg(dossier_id || '=' || coalesce(reuse_source, '-'), ',' ORDER BY dossier_id)
             FROM dossier WHERE dossier_id IN ('qa', 'qb', 'qc')") == "qa=digitized_store,qb=national_db,qc=-" ]] ||
    it_fail "reuse_source facts: $(it_sql "SELECT string_agg(dossier_id || '=' || coalesce(reuse_source, '-'), ',') FROM dossier WHERE dossier_id IN ('qa', 'qb', 'qc')")"
n=0
for spec in "2030-01-01T00:00:00Z" "2025-09-10T12:00:00+07:00" "2025-08-01T00:00:00+07:00" "2025-06-25T00:00:00+07:00"; do
    n=$((n + 1))
    "${ORACLE[@]}" qd766-expect --events all.tsv --at "$spec" --out-expected "q$n.json" 2>>oracle.log
    "${ORACLE[@]}" qd766-check --expected "q$n.json" --dsn "$TTHC_PG_DSN" 2>>oracle.log ||
        it_fail "qd766_metrics at $spec differs from the oracle: $(tail -n 12 oracle.log)"
done
"${ORACLE[@]}" qd766-expect --events all.tsv --at "2025-09-10T12:00:00+07:00" --from 2025-07 --to 2025-09 --range \
    --out-expected qr.json 2>>oracle.log
"${ORACLE[@]}" qd766-check --expected qr.json --dsn "$TTHC_PG_DSN" 2>>oracle.log ||
    it_fail "qd766_metrics over the quarter differs from the oracle: $(tail -n 12 oracle.log)"
# The hand-made unit, as numbers.
m() { it_sql "SELECT concat_ws(' ', numerator, denominator, ratio, score, points_known) FROM qd766_metrics('2025-06', '2025-06', '$1', true)
              WHERE unit_code = 'H61.99' AND metric_code = '$2'"; }
expect_eq() { [[ $2 == "$3" ]] || it_fail "$1: got '$2', want '$3'"; }
expect_eq "progress at the end of June" "$(m 2030-01-01T00:00:00Z DVC_PROGRESS)" "4 6 66.67 13.33 13.33"
expect_eq "progress on 25 June" "$(m 2025-06-25T00:00:00+07:00 DVC_PROGRESS)" "5 6 83.33 16.67 16.67"
expect_eq "data reused" "$(m 2030-01-01T00:00:00Z REUSED_DIGITIZED_DATA)" "3 6 50.00 1.25 1.25"
expect_eq "reused from the store" "$(m 2030-01-01T00:00:00Z SYNCED_WITH_DVCQG_PERSONAL_STORAGE)" "1 6 16.67 0.67 0.67"
expect_eq "satisfaction" "$(m 2030-01-01T00:00:00Z DOSSIER_RECEIVING_SATISFACTION)" "3 6 50.00 3.33 3.33"
expect_eq "online payment part" "$(m 2030-01-01T00:00:00Z ONLINE_PAYMENT_TOTAL)" "1 2 50.00 3.00"
expect_eq "electronic result" "$(m 2030-01-01T00:00:00Z ORIGINAL_RESULT_AVAILABLE)" "1 6 16.67 1.00 1.00"
expect_eq "unknown metric" "$(it_sql "SELECT concat_ws(' ', coalesce(score::text, 'null'), status, max_unknown)
        FROM qd766_metrics('2025-06', '2025-06', now(), true) WHERE unit_code = 'H61.99' AND metric_code = 'PETITION_PROCESSING_ON_TIME'")" \
    "null unknown 6.00"
expect_eq "group totals" "$(it_sql "SELECT string_agg(concat_ws(':', group_code, points_known, max_known, max_unknown), ' ' ORDER BY sort_order)
        FROM qd766_groups('2025-06', '2025-06', '2030-01-01T00:00:00Z', true) WHERE unit_code = 'H61.99'")" \
    "transparency:0.00:0:18.00 progress:13.33:20.00:0.00 online_services:0.00:0:12.00 online_payment:3.00:6.00:4.00 satisfaction:3.33:6.00:12.00 digitization:4.92:20.00:2.00"
expect_eq "the view has every bucket" "$(it_sql "SELECT count(*) FROM qd766_unit_points")" \
    "$(it_sql "SELECT count(*) FROM (SELECT DISTINCT unit_code, period FROM period_totals WHERE received > 0) t")"
echo "3. $(wc -l <all.tsv) messages ingested: qd766_metrics and qd766_groups equal the oracle at 4 instants and over the quarter"
echo "it_qd766: ok"
