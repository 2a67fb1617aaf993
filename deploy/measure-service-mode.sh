#!/usr/bin/env bash
# Measures segment-cli's service mode (release build) as separate processes on loopback:
# segment-mock (2,000-user workspace, 20 ms per request) and c1-mock (a fake ConductorOne
# tenant that queues one sync task after IDLE_SECS). Prints the idle CPU and RSS of the
# connector while it only polls, its peak RSS through the sync, the tenant's GetTask->FinishTask
# time and upload throughput, and a one-shot sync of the same workspace for comparison.
#
#   cargo build --release -p segment-cli -p c1-mock -p segment-mock
#   bash deploy/measure-service-mode.sh            # IDLE_SECS=60 by default
#
# The client secret goes from c1-mock's 0600 file into the connector's environment; it is
# never printed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${CARGO_TARGET_DIR:-target}/release
IDLE=${IDLE_SECS:-60}
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT

field() { grep -m1 "^$1" "$2" | sed "s/^$1[[:space:]]*//"; }
wait_for() { for _ in $(seq 100); do grep -q "$1" "$2" 2>/dev/null && return 0; sleep 0.1; done; echo "timeout: $2" >&2; exit 1; }
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
kib() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

WS=(--users 2000 --groups 20 --sources 200 --functions-per-kind 10 --warehouses 10 --spaces 5 --invites 100 --latency-ms 20 --read-limit 0 --write-limit 0)
"$BIN/segment-mock" "${WS[@]}" >"$WORK/segment.out" 2>/dev/null &
wait_for token= "$WORK/segment.out"
BASE_URL=$(field base_url= "$WORK/segment.out"); TOKEN=$(field token= "$WORK/segment.out")

"$BIN/c1-mock" --dir "$WORK/c1" --sync-after "$IDLE" >"$WORK/c1.out" &
C1=$!
wait_for "client secret file" "$WORK/c1.out"

BATON_CLIENT_ID=$(field "client id:" "$WORK/c1.out") \
BATON_CLIENT_SECRET=$(cat "$WORK/c1/client-secret") \
BATON_TOKEN=$TOKEN BATON_BASE_URL=$BASE_URL BATON_MAX_READS_PER_MINUTE=0 BATON_CONCURRENCY=16 \
BATON_HOST_ID=measure BATON_LOG_LEVEL=warn BATON_C1Z_TEMP_DIR=$WORK SSL_CERT_FILE=$WORK/c1/ca.pem \
  "$BIN/segment-cli" 2>"$WORK/service.err" &
SVC=$!

sleep 5
t0=$(ticks $SVC); window=$((IDLE - 10)); sleep "$window"; t1=$(ticks $SVC)
echo "idle polling: CPU $(awk -v d=$((t1 - t0)) -v s="$window" 'BEGIN {printf "%.2f", d / 100 / s * 100}')% of a core over ${window} s; RSS $(kib $SVC VmRSS) KiB, peak $(kib $SVC VmHWM) KiB"
sleep 40
echo "after the sync: RSS $(kib $SVC VmRSS) KiB, peak (VmHWM, through the sync) $(kib $SVC VmHWM) KiB"
kill -TERM $SVC; wait $SVC || echo "segment-cli exited $?"
kill -INT $C1; wait $C1 || true
grep -E "^(task|upload|calls|VIOLATION)" "$WORK/c1.out"

BATON_TOKEN=$TOKEN BATON_BASE_URL=$BASE_URL BATON_MAX_READS_PER_MINUTE=0 BATON_CONCURRENCY=16 BATON_LOG_LEVEL=warn BATON_OUTPUT=json \
  /usr/bin/time -f "one-shot: wall %e s, peak RSS %M KiB" "$BIN/segment-cli" sync -f "$WORK/oneshot.c1z" >"$WORK/oneshot.json"
grep -oE '"elapsed_ms": *[0-9]+' "$WORK/oneshot.json" | sed 's/^/one-shot sync summary: /'
