#!/usr/bin/env bash
# A load run of GET /v1/normalize on loopback with wrk (apt-get install wrk): the release server on a
# fresh temp data dir (the bundled district), queries rotating through 2,000 fixture addresses
# (every third with a room appended), resident memory before and after.
#
#   scripts/load.sh                          # 60 s, 2 wrk threads, 32 connections
#   DURATION=10s CONNECTIONS=64 scripts/load.sh
#   DIZHI_BIN=/tmp/dizhi-old DATA_DIR=/path/to/data scripts/load.sh   # a given binary on a given data
#                                                                   # dir (served as is, not removed)
set -euo pipefail
cd "$(dirname "$0")/.."

PORT=${PORT:-18182}
DURATION=${DURATION:-60s}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
DATA=$(mktemp -d)
LOG="$DATA/server.log"
LUA="$DATA/rotate.lua"

python3 - "$LUA" <<'PY'
import csv, sys, urllib.parse
rows = list(csv.DictReader(open("fixtures/qingpu-20k/addresses.csv", encoding="utf-8")))
step = max(1, len(rows) // 2000)
paths = []
for i, r in enumerate(rows[::step][:2000]):
    q = r["address"] + ("502室" if i % 3 == 0 else "")
    paths.append("/v1/normalize?q=" + urllib.parse.quote(q))
with open(sys.argv[1], "w") as f:
    f.write("local paths = {\n" + ",\n".join('"%s"' % p for p in paths) + "\n}\n")
    f.write("""local i = math.random(#paths)
request = function()
  i = i % #paths + 1
  return wrk.format("GET", paths[i])
end
response = function(status, headers, body)
  if status ~= 200 then io.stderr:write("status " .. status .. "\\n") end
end
""")
PY

BIN=${DIZHI_BIN:-}
if [ -z "$BIN" ]; then
    cargo build --release --bin dizhi
    BIN=target/release/dizhi
fi
"$BIN" --data "${DATA_DIR:-$DATA}" serve --addr "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
cleanup() {
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    rm -rf "$DATA"
}
trap cleanup EXIT
for _ in $(seq 1 180); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 1
done

rss() { ps -o rss= -p "$PID" | tr -d ' '; }
# Warm up (page cache, allocator), then measure.
wrk -t"$THREADS" -c"$CONNECTIONS" -d5s -s "$LUA" "http://127.0.0.1:$PORT" >/dev/null
echo "RSS before: $(rss) KiB"
wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$LUA" "http://127.0.0.1:$PORT" &
WRK=$!
for _ in 1 2 3 4 5; do sleep "$(( ${DURATION%s} / 6 ))"; echo "RSS during: $(rss) KiB"; done
wait "$WRK"
echo "RSS after: $(rss) KiB"
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^dizhi_http_requests_total\{method="GET",route="/v1/normalize"'
