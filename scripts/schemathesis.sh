#!/usr/bin/env bash
# Property-based API testing with schemathesis (pip install schemathesis) against a live server:
# builds the bundled district into a fresh temp data dir, serves it on loopback, runs every check
# on every operation of /openapi.json with the admin key, and fails if schemathesis finds anything
# or the server logged an internal error.
#
#   scripts/schemathesis.sh                # 50 examples per operation
#   MAX_EXAMPLES=200 scripts/schemathesis.sh
#   PROFILE=release scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18181}
MAX_EXAMPLES=${MAX_EXAMPLES:-50}
PROFILE=${PROFILE:-dev}
DATA=$(mktemp -d)
LOG="$DATA/server.log"

cargo build --profile "$PROFILE" --bin dizhi
# `cargo run` execs the server, so $! is the server's pid.
cargo run -q --profile "$PROFILE" --bin dizhi -- --data "$DATA" serve --addr "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
REPORT_DIR=${REPORT_DIR:-target/schemathesis}
mkdir -p "$REPORT_DIR"
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    cp "$LOG" "$REPORT_DIR/server.log" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT

for _ in $(seq 1 180); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 1
done
KEY=$(cat "$DATA/admin-key.txt")

status=0
schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$PORT/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $KEY" \
    --max-examples "$MAX_EXAMPLES" \
    --seed 1 \
    --workers 2 \
    --request-timeout 20 \
    --no-color \
    --report-dir "$REPORT_DIR" \
    --report junit || status=$?

internal=$(grep -cE 'internal error|panicked' "$LOG" || true)
echo "server: $(grep -c 'dizhi::access' "$LOG" || true) requests logged, $internal internal errors"
if [ "$internal" != "0" ]; then
    grep -E -A3 'internal error|panicked' "$LOG" | head -40
    status=1
fi
exit "$status"
