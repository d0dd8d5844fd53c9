#!/usr/bin/env bash
# The stack's own cost beside nginx's, in instructions rather than noisy CPU time: nginx's stream
# proxy and the bare SwiftNIO proxy (`concord reference-proxy`: SwiftNIO and swift-nio-ssl
# forwarding bytes, none of Concord's code) each in front of the same redis over TLS, forwarding
# the same GETs, each under valgrind --tool=callgrind, at one connection.
#
#   scripts/callgrind-stack.sh                # 20,000 and 60,000 GETs a proxy
#   SHORT=10000 LONG=30000 scripts/callgrind-stack.sh
#
# bench-reference's c=1 bar compares the gateway's CPU per forward with nginx's; this says how
# much of that ratio the stack sets before any of Concord's code runs. For each proxy the counters
# are zeroed after a warm-up, then redis-benchmark (-c 1 -P 1) sends SHORT and LONG GETs, each run
# on a new connection: the difference of the two counts over the difference of the requests
# leaves out the handshake. nginx runs one process (master_process off) so callgrind sees its
# worker. Counts are user-space instructions: the kernel's share of a forward is not in them.
# At the default counts three runs agreed within 0.1% (nginx 30,949 to 30,950); at 5,000 and
# 15,000 GETs nginx's count moved by 3% between two runs.
set -euo pipefail
cd "$(dirname "$0")/.."

SHORT=${SHORT:-20000}
LONG=${LONG:-60000}
REDIS_PORT=${REDIS_PORT:-16490}
PROXY_PORT=${PROXY_PORT:-16491}

command -v valgrind >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }
source scripts/bench-common.sh
need_references

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_redis_tls "$REDIS_PORT"
write_nginx_conf "$PROXY_PORT" "$REDIS_PORT" 1 single
cp "$BIN/concord" "$WORK/concord"
strip --strip-debug "$WORK/concord"

gets() { # requests
  redis-benchmark --tls --cacert "$WORK/certs/ca.pem" -h 127.0.0.1 -p "$PROXY_PORT" -t get -c 1 -P 1 -n "$1" --csv 2>/dev/null \
    | awk -F'","' '/"GET"/ { gsub(/"/, "", $2); print $2 }'
}

# Runs one proxy under callgrind on PROXY_PORT; sets COUNT to its instructions per forwarded GET.
# Its valgrind is in PIDS, so a run that stops early still ends it.
measure() { # name command...
  local name=$1
  shift
  valgrind --tool=callgrind --callgrind-out-file="$WORK/$name.out" "$@" >"$WORK/$name.log" 2>&1 &
  local valgrind=$!
  PIDS+=("$valgrind")
  local ready=""
  for _ in $(seq 1 150); do
    redis-cli --tls --cacert "$WORK/certs/ca.pem" -p "$PROXY_PORT" ping >/dev/null 2>&1 && { ready=yes; break; }
    sleep 0.4
  done
  [[ -n "$ready" ]] || { tail -5 "$WORK/$name.log" >&2; echo "callgrind-stack: $name did not answer within 60 s" >&2; exit 1; }
  gets 2000 >/dev/null
  local counts=()
  for requests in "$SHORT" "$LONG"; do
    callgrind_control -z "$valgrind" >/dev/null 2>&1
    gets "$requests" >/dev/null
    counts+=("$(callgrind_total "$(callgrind_dump "$valgrind" "$WORK/$name.out")")")
  done
  kill -TERM "$valgrind" 2>/dev/null || true
  wait "$valgrind" 2>/dev/null || true
  COUNT=$(awk -v a="${counts[0]}" -v b="${counts[1]}" -v x="$SHORT" -v y="$LONG" 'BEGIN { printf "%.0f", (b - a) / (y - x) }')
}

measure nginx nginx -p "$WORK" -c "$WORK/nginx.conf"
nginx_count=$COUNT
measure swiftnio "$WORK/concord" reference-proxy --port "$PROXY_PORT" --to "$REDIS_PORT" --certs "$WORK/certs" --threads 1
swift_count=$COUNT
echo "callgrind, instructions per forwarded redis GET at c=1 ($SHORT and $LONG GETs): nginx stream proxy $nginx_count," \
  "bare SwiftNIO proxy $swift_count; bare SwiftNIO/nginx $(awk -v a="$swift_count" -v b="$nginx_count" 'BEGIN { printf "%.2f", a / b }')"
