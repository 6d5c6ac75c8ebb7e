#!/usr/bin/env bash
# Pool vs inline signing, POST /v1/tokens: Titan pinned to SERVER_CPUS (default CPU 0), wrk to CPU 1.
# Usage: [SERVER_CPUS=0] bench/signing_modes.sh [passes=5] [seconds=10] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
passes=${1:-5}; seconds=${2:-10}; connections=${3:-64}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
work=$(mktemp -d); trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
export TITAN_DATA_DIR="$work/data" TITAN_PORT=18631 TITAN_LOG_LEVEL=warning
secret=$(.venv/bin/titan clients add bench --audience billing --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
export TITAN_BASIC=$(printf 'bench:%s' "$secret" | base64 -w0)

for mode in pool inline; do
  TITAN_SIGNING_MODE=$mode taskset -c "${SERVER_CPUS:-0}" .venv/bin/titan serve >"$work/$mode.log" 2>&1 &
  server=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$TITAN_PORT/readyz" >/dev/null && break; sleep 0.1; done
  taskset -c 1 wrk -t1 -c"$connections" -d3s -s bench/mint.lua "http://127.0.0.1:$TITAN_PORT/v1/tokens" >/dev/null  # warm-up
  for pass in $(seq "$passes"); do
    out=$(taskset -c 1 wrk -t1 -c"$connections" -d"${seconds}s" --latency -s bench/mint.lua "http://127.0.0.1:$TITAN_PORT/v1/tokens")
    rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
    p50=$(awk '$1=="50%" {print $2}' <<<"$out")
    p99=$(awk '$1=="99%" {print $2}' <<<"$out")
    errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr '\n' ' ' || true)
    echo "$mode pass=$pass rps=$rps p50=$p50 p99=$p99 ${errors}"
  done
  kill -TERM "$server"; wait "$server" || true
done
