#!/usr/bin/env bash
# The README's main job in its short mode, on the build under test: it must
# finish, every message applied, every report synced, and print the table.
set -euo pipefail
TTHC_SOURCE_DIR=${TTHC_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
source "$TTHC_SOURCE_DIR/scripts/lib.sh"
dir=$(tthc_mktemp demo)
command -v promtool >/dev/null || { echo "promtool missing (Debian package prometheus)" >&2; exit 1; }
trap '"$TTHC_SOURCE_DIR/scripts/stack" down "$dir/stack" >/dev/null 2>&1; rm -rf "$dir"' EXIT
out=$dir/demo.out
"$TTHC_SOURCE_DIR/scripts/demo" --short --no-build --keep --dir "$dir/stack" >"$out" 2>&1 || {
    cat "$out" >&2
    echo "scripts/demo --short failed" >&2
    exit 1
}
cat "$out"
grep -q 'every message applied' "$out" || { echo "no 'every message applied' line" >&2; exit 1; }
for ind in online_submission digitized_dossier digitized_result e_result id_tagged data_reused \
    online_payment portal_synced on_time satisfaction; do
    grep -qE "^$ind +[0-9]" "$out" || { echo "indicator $ind missing from the table" >&2; exit 1; }
done
grep -q 'met 60% (NQ 01/NQ-CP #3)\|behind 60% (NQ 01/NQ-CP #3)' "$out" || { echo "no target verdict" >&2; exit 1; }
[[ -s $dir/stack/report-2025-ytd.html ]] || { echo "no HTML report" >&2; exit 1; }
# Every daemon's /metrics passes promtool (the stack is still up: --keep).
for url in http://127.0.0.1:9464/metrics http://127.0.0.1:9465/metrics http://127.0.0.1:8088/metrics; do
    curl -fsS -m 5 "$url" >"$dir/metrics.txt" || { echo "cannot scrape $url" >&2; exit 1; }
    [[ -s $dir/metrics.txt ]] || { echo "$url is empty" >&2; exit 1; }
    promtool check metrics <"$dir/metrics.txt" || { echo "promtool check metrics failed for $url" >&2; exit 1; }
done
"$TTHC_SOURCE_DIR/scripts/stack" down "$dir/stack" >/dev/null
sanitizer_check "$dir"/stack/*.log || exit 1
echo "it_demo: ok"
