#!/usr/bin/env bash
# Latency of the steward view's reads on a fused data directory: the queue's first page (one
# 街镇, open; and the whole district) and the dashboard (district and one 街镇), served by the
# release binary on 127.0.0.1. Each URL: 20 warm-up requests, then N sequential requests over
# one keep-alive connection (p50 / p99 / max), then wrk with 4 connections for 15 s (p99). Last,
# 50 rounds of (a comment on an anomaly, then the dashboard): the dashboard right after writes.
#
#   scripts/steward-bench.sh DATA_DIR [TOWN]      # DATA_DIR is written to (migrations, key file):
#                                                 # use a copy (cp -a) of a shared one
#   N=500 scripts/steward-bench.sh /tmp/dd1m 练塘镇
set -euo pipefail
cd "$(dirname "$0")/.."

DATA=${1:?usage: scripts/steward-bench.sh DATA_DIR [TOWN]}
TOWN=${2:-练塘镇}
PORT=${PORT:-18191}
N=${N:-300}
BIN=${BIN:-target/release/dizhi}
LOG=$(mktemp)

"$BIN" --data "$DATA" serve --addr "127.0.0.1:$PORT" >"$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 300); do
    curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
    kill -0 "$PID" 2>/dev/null || { cat "$LOG"; exit 1; }
    sleep 1
done
KEY=$(cat "$DATA/admin-key.txt")
T=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$TOWN")

echo "load: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores"
for path in "/v1/anomalies?status=open&assignee=$T&limit=50" "/v1/anomalies?status=open&limit=50" \
    "/v1/anomalies/dashboard" "/v1/anomalies/dashboard?town=$T"; do
    python3 - "$PORT" "$path" "$KEY" "$N" <<'PY'
import http.client, sys, time, urllib.parse
port, path, key, n = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key}
def once():
    t = time.perf_counter()
    c.request("GET", path, headers=h)
    r = c.getresponse()
    body = r.read()
    assert r.status == 200, (r.status, body[:200])
    return (time.perf_counter() - t) * 1000, len(body)
for _ in range(20):
    once()
ms = sorted(once()[0] for _ in range(n))
size = once()[1]
p = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]
print(f"{urllib.parse.unquote(path)}: {n} sequential, {size} bytes: p50 {p(0.5):.1f} ms, p99 {p(0.99):.1f} ms, max {ms[-1]:.1f} ms")
PY
    wrk -t2 -c4 -d15s --latency -H "Authorization: Bearer $KEY" "http://127.0.0.1:$PORT$path" \
        | awk '/Requests\/sec/ {rps=$2} /^ +99%/ {p99=$2} END {print "  wrk 4 connections 15 s: " rps " req/s, p99 " p99}'
done
python3 - "$PORT" "$KEY" <<'PY'
import http.client, json, sys, time
port, key = int(sys.argv[1]), sys.argv[2]
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer " + key, "Content-Type": "application/json"}
def call(method, path, body=None):
    t = time.perf_counter()
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    assert r.status in (200, 201), (r.status, data[:200])
    return (time.perf_counter() - t) * 1000, data
first = json.loads(call("GET", "/v1/anomalies?limit=1")[1])["anomalies"][0]["id"]
for path in ("/v1/anomalies/dashboard", "/v1/anomalies/dashboard?weeks=1"):
    ms = []
    for i in range(50):
        call("POST", f"/v1/anomalies/{first}/comments", json.dumps({"text": f"bench {i}"}))
        ms.append(call("GET", path)[0])
    ms.sort()
    print(f"{path} right after a write (recomputed): 50 rounds: p50 {ms[25]:.1f} ms, p99/max {ms[-1]:.1f} ms")
PY
