#!/usr/bin/env bash
# The console's bench, in one run: the overview's and an action's pages through the console at
# c=1 and c=20, beside the same data fetched as raw gateway calls (each call the page makes, at
# c=1); and the console's resident memory idle and after the load. The measuring client is
# scripts/bench_console.py (Python's standard library only).
#
#   scripts/bench-console.sh                  # 300 pages a measurement
#   REQUESTS=50 scripts/bench-console.sh      # a smoke run
set -euo pipefail
cd "$(dirname "$0")/.."

REQUESTS=${REQUESTS:-300}
PORT=${PORT:-17560}
CONSOLE_PORT=${CONSOLE_PORT:-17583}

source scripts/bench-common.sh

"$BIN/concord" up --home "$WORK/home" --port "$PORT" --participants-port $((PORT + 1)) --agreements-port $((PORT + 2)) \
  --trade-port $((PORT + 3)) --metrics-port 0 --console-port 0 >"$WORK/up.log" 2>&1 &
UP_PID=$!
PIDS+=($UP_PID)
for _ in $(seq 1 300); do
  grep -q "Concord is up" "$WORK/up.log" 2>/dev/null && break
  sleep 0.2
done
grep -q "Concord is up" "$WORK/up.log" || { cat "$WORK/up.log"; exit 1; }
# The console on its own, so its memory is its own to read (`concord up` issued its certificate).
TOKEN=$("$BIN/concord" tokens add --file "$WORK/home/tokens" --role admin --name console-bench --rate unlimited --concurrency unlimited)
echo "$TOKEN" >"$WORK/console-token"
PASSWORD="a bench password"
echo "$PASSWORD" | "$BIN/concord" users add --file "$WORK/users" --role secretariat bench --password-stdin >/dev/null
"$BIN/console" --port "$CONSOLE_PORT" --certs "$WORK/home/certs" --gateway "127.0.0.1:$PORT" --token-file "$WORK/console-token" \
  --users "$WORK/users" --secret "$WORK/console-secret" --log-level warning >"$WORK/console.log" 2>&1 &
CONSOLE_PID=$!
PIDS+=($CONSOLE_PID)
for _ in $(seq 1 100); do
  (exec 3<>/dev/tcp/127.0.0.1/$CONSOLE_PORT) 2>/dev/null && break
  sleep 0.1
done
python3 scripts/bench_console.py "$CONSOLE_PORT" "$PORT" "$WORK/home/certs" "$TOKEN" "$PASSWORD" "$CONSOLE_PID" "$REQUESTS" "$UP_PID"
