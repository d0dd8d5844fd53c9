#!/usr/bin/env bash
# Measures Concord's protocol against redis over TLS, side by side in one run, and prints ratios.
#
#   scripts/bench-reference.sh            # 5 s per measurement
#   SECONDS_PER_RUN=10 scripts/bench-reference.sh
#
# Ours: `concord bench` against the `ping` verb of a gateway process (a full protocol server:
# TLS 1.3, ALPN, mutual TLS, line framing, ids). Reference: redis-benchmark --tls -t get against a
# redis-server this script starts on a loopback TLS port. Same connections (50) and pipelining
# (1 and 16) for both, one client thread each, on the same machine. Like redis, our server runs
# one event loop here (OUR_THREADS=1): on 2 cores shared with the client a second server thread
# only fights the client for a core. OUR_THREADS=2 measures the default.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNECTIONS=${CONNECTIONS:-50}
OUR_PORT=${OUR_PORT:-17400}
REDIS_PORT=${REDIS_PORT:-16390}
OUR_THREADS=${OUR_THREADS:-1}

if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null; then
  echo "installing redis-server and redis-tools (Debian packages)..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools >/dev/null
fi

echo "building release binaries..."
swift build -c release >/dev/null
BIN=$(swift build -c release --show-bin-path)

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$BIN/concord" certs init "$WORK/certs" >/dev/null

redis-server --port 0 --bind 127.0.0.1 --tls-port "$REDIS_PORT" \
  --tls-cert-file "$WORK/certs/gateway.pem" --tls-key-file "$WORK/certs/gateway-key.pem" \
  --tls-ca-cert-file "$WORK/certs/ca.pem" --tls-auth-clients no \
  --save '' --appendonly no --daemonize no --logfile "$WORK/redis.log" &
PIDS+=($!)

"$BIN/gateway" --port "$OUR_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" --log-level warning >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)

for _ in $(seq 1 100); do
  if "$BIN/concord" call --port "$OUR_PORT" --certs "$WORK/certs" ready >/dev/null 2>&1 \
     && redis-cli --tls --cacert "$WORK/certs/ca.pem" -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    break
  fi
  sleep 0.2
done

# redis-benchmark runs by request count; size it to take about SECONDS_PER_RUN.
redis_rate() { # depth
  local depth=$1 requests=$((SECONDS_PER_RUN * ($1 == 1 ? 65000 : 500000)))
  redis-benchmark --tls --cacert "$WORK/certs/ca.pem" -h 127.0.0.1 -p "$REDIS_PORT" \
    -t get -c "$CONNECTIONS" -P "$depth" -n "$requests" --csv 2>/dev/null \
    | awk -F'","' '/"GET"/ { gsub(/"/, "", $2); gsub(/"/, "", $4); print $2, $4 }'
}

our_rate() { # depth
  "$BIN/concord" bench --port "$OUR_PORT" --certs "$WORK/certs" -c "$CONNECTIONS" -P "$1" \
    --seconds "$SECONDS_PER_RUN" --warmup 1 --verb ping \
    | sed -E 's/.*requests\/s: ([0-9.]+) +p50: ([0-9.]+) ms.*/\1 \2/'
}

printf '\n%-26s %14s %10s %14s %10s %8s\n' "run (c=$CONNECTIONS)" "concord req/s" "p50 ms" "redis req/s" "p50 ms" "ratio"
for depth in 1 16; do
  read -r ours ours_p50 < <(our_rate "$depth")
  read -r theirs theirs_p50 < <(redis_rate "$depth")
  ratio=$(awk -v a="$ours" -v b="$theirs" 'BEGIN { printf "%.2f", a / b }')
  printf '%-26s %14s %10s %14s %10s %8s\n' "ping vs GET, depth $depth" "$ours" "$ours_p50" "$theirs" "$theirs_p50" "$ratio"
done
echo
echo "ratio = concord/redis (server threads: concord $OUR_THREADS, redis 1); bar: >= 0.5 at both depths"
