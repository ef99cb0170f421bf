#!/usr/bin/env bash
# One batch job through the HTTP API, timed: the release server on a temp data dir (the bundled
# district), 100,000 noisy queries (five seeds of the noisy_csv example, 20,000 each) uploaded as a
# CSV, polled until done, the result downloaded and checked; server memory before and at peak.
#
#   scripts/batch-jobs.sh              # CSV result
#   FORMAT=xlsx scripts/batch-jobs.sh  # XLSX result
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18183}
FORMAT=${FORMAT:-csv}
DATA=$(mktemp -d)
WORK=$(mktemp -d)
cargo build --release --bin dizhi --example noisy_csv >/dev/null
BIN=${CARGO_TARGET_DIR:-target}/release
"$BIN/dizhi" serve --data "$DATA" --addr "127.0.0.1:$PORT" 2>"$WORK/serve.log" &
PID=$!
trap 'kill $PID 2>/dev/null; rm -rf "$DATA" "$WORK"' EXIT
until curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null; do sleep 1; done

for seed in 7 8 9 10 11; do "$BIN/examples/noisy_csv" "$DATA" 20000 $seed "$WORK/q$seed.csv" 2>/dev/null; done
{ head -1 "$WORK/q7.csv"; for seed in 7 8 9 10 11; do tail -n +2 "$WORK/q$seed.csv"; done; } >"$WORK/in.csv"
echo "input: $(($(wc -l <"$WORK/in.csv") - 1)) rows, $(stat -c %s "$WORK/in.csv") bytes"
echo "server before: $(grep VmRSS /proc/$PID/status | tr -s ' \t' ' ')"

field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
t0=$(date +%s.%N)
ID=$(curl -sf -F "file=@$WORK/in.csv" -F column=地址 -F format="$FORMAT" "http://127.0.0.1:$PORT/v1/batch" | field id)
t1=$(date +%s.%N)
while :; do
    JOB=$(curl -sf "http://127.0.0.1:$PORT/v1/batch/$ID")
    case $(echo "$JOB" | field status) in done | failed) break ;; esac
    sleep 0.2
done
t2=$(date +%s.%N)
curl -sf -o "$WORK/out.$FORMAT" "http://127.0.0.1:$PORT/v1/batch/$ID/result"
t3=$(date +%s.%N)
echo "$JOB"
echo "upload: $(echo "$t1 - $t0" | bc) s, queued to done: $(echo "$t2 - $t1" | bc) s, download: $(echo "$t3 - $t2" | bc) s ($(stat -c %s "$WORK/out.$FORMAT") bytes)"
if [ "$FORMAT" = csv ]; then
    python3 -c 'import csv,sys; rows=lambda p: list(csv.reader(open(p, encoding="utf-8")))[1:]; i, o = rows(sys.argv[1]), rows(sys.argv[2]); print("result:", len(o), "rows, each the input row in its place:", len(i) == len(o) and all(a == b[:len(a)] for a, b in zip(i, o)))' "$WORK/in.csv" "$WORK/out.csv"
fi
echo "server after: $(grep -E 'VmRSS|VmHWM' /proc/$PID/status | tr -s ' \t' ' ' | paste -sd' ')"
