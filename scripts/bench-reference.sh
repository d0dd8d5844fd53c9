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

NGINX_PORT=${NGINX_PORT:-16391}
PARTICIPANTS_PORT=${PARTICIPANTS_PORT:-17401}
GATEWAY_PORT=${GATEWAY_PORT:-17402}

source scripts/bench-common.sh
need_references

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_redis_tls "$REDIS_PORT"

"$BIN/gateway" --port "$OUR_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" --log-level warning --no-auth >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)

# Waits up to 20 s until a concord call (the given arguments) and a redis ping on the given
# port both answer; otherwise shows the logs and stops.
wait_ready() { # what redis-port concord-call-args...
  local what=$1 port=$2
  shift 2
  for _ in $(seq 1 100); do
    if "$BIN/concord" call --certs "$WORK/certs" "$@" >/dev/null 2>&1 \
       && redis-cli --tls --cacert "$WORK/certs/ca.pem" -p "$port" ping >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  tail -5 "$WORK"/*.log >&2
  echo "bench-reference: $what not ready" >&2
  exit 1
}
wait_ready "the gateway or redis" "$REDIS_PORT" --port "$OUR_PORT" ready

# redis-benchmark runs by request count; size it to take about SECONDS_PER_RUN. Its CSV columns:
# test, rps, avg_latency_ms, min_latency_ms, p50_latency_ms, ...: requests/s is $2, p50 is $5.
redis_rate() { # depth
  local depth=$1 requests=$((SECONDS_PER_RUN * ($1 == 1 ? 65000 : 500000)))
  redis-benchmark --tls --cacert "$WORK/certs/ca.pem" -h 127.0.0.1 -p "$REDIS_PORT" \
    -t get -c "$CONNECTIONS" -P "$depth" -n "$requests" --csv 2>/dev/null \
    | awk -F'","' '/"GET"/ { gsub(/"/, "", $2); gsub(/"/, "", $5); print $2, $5 }'
}

our_rate() { # depth
  bench_line --port "$OUR_PORT" -c "$CONNECTIONS" -P "$1" --verb ping | rate_and_p50
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

# --- The gateway path, beside nginx's stream proxy in front of redis -------------------------
# Ours: participants.officials.get (a seeded record, SQLite) straight to a participants process,
# then the same through a second gateway process that routes to it (client TLS + token in,
# mutual TLS out). Theirs: redis GET straight, then through nginx's stream proxy terminating
# TLS and re-encrypting to redis (verifying its certificate). OUR_THREADS loops or workers each.
"$BIN/participants" --port "$PARTICIPANTS_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" --log-level warning \
  --database "sqlite:$WORK/participants.sqlite" --seeds seeds/participants >"$WORK/participants.log" 2>&1 &
PIDS+=($!)
TOKEN=$("$BIN/concord" tokens add --file "$WORK/tokens" --role reader --name bench --rate unlimited --concurrency unlimited)
"$BIN/gateway" --port "$GATEWAY_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" --log-level warning \
  --tokens "$WORK/tokens" --route "participants=127.0.0.1:$PARTICIPANTS_PORT" >"$WORK/gateway-route.log" 2>&1 &
ROUTED_GATEWAY=$!
PIDS+=($!)

write_nginx_conf "$NGINX_PORT" "$REDIS_PORT" "$OUR_THREADS"
nginx -p "$WORK" -c "$WORK/nginx.conf" &
NGINX_MASTER=$!
PIDS+=($!)

# The floor under the gateway: SwiftNIO and swift-nio-ssl forwarding TLS to TLS with nothing of
# Concord's (`concord reference-proxy`), once in front of redis (nginx's traffic exactly) and once
# in front of participants (the gateway's traffic exactly, presenting the gateway's certificate).
NIO_REDIS_PORT=${NIO_REDIS_PORT:-16392}
NIO_PARTICIPANTS_PORT=${NIO_PARTICIPANTS_PORT:-16393}
"$BIN/concord" reference-proxy --port "$NIO_REDIS_PORT" --to "$REDIS_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" >"$WORK/nio-redis.log" 2>&1 &
NIO_REDIS=$!
PIDS+=($!)
"$BIN/concord" reference-proxy --port "$NIO_PARTICIPANTS_PORT" --to "$PARTICIPANTS_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" \
  --alpn concord/1 >"$WORK/nio-participants.log" 2>&1 &
NIO_PARTICIPANTS=$!
PIDS+=($!)
# The second floor: the same relaying Concord's lines as the protocol asks a gateway to (`concord
# reference-proxy --lines`: ids rewritten and mapped back, the token looked up, actor, role,
# deadline and trace written, deadlines kept), in the cheapest way we know, with none of Concord's
# code. What the gateway spends above it is its own machinery: limits, pool, retries, metrics.
LINES_PORT=${LINES_PORT:-16394}
"$BIN/concord" reference-proxy --port "$LINES_PORT" --to "$PARTICIPANTS_PORT" --certs "$WORK/certs" --threads "$OUR_THREADS" \
  --alpn concord/1 --lines --token "$TOKEN" --read participants.officials.get >"$WORK/nio-lines.log" 2>&1 &
NIO_LINES=$!
PIDS+=($!)

wait_ready "participants, the routed gateway or nginx" "$NGINX_PORT" \
  --port "$GATEWAY_PORT" --token "$TOKEN" participants.officials.get '{"id":"mehdi-dousti"}'
wait_ready "the bare SwiftNIO proxies" "$NIO_REDIS_PORT" \
  --port "$NIO_PARTICIPANTS_PORT" --identity gateway participants.officials.get '{"id":"mehdi-dousti"}'
wait_ready "the SwiftNIO line relay" "$NIO_REDIS_PORT" \
  --port "$LINES_PORT" --token "$TOKEN" participants.officials.get '{"id":"mehdi-dousti"}'

get_rate() { # connections port [token]
  # Without a token the call goes straight to participants, as the gateway's certificate does:
  # a service lets only the gateway's identity call its verbs (the operator's may ping).
  # (It once read ${3:---identity gateway}, which passed the token itself as a stray argument.)
  local who=(--identity gateway)
  [[ -n "${3:-}" ]] && who=(--token "$3")
  bench_line --port "$2" "${who[@]}" -c "$1" -P 1 --verb participants.officials.get --body '{"id":"mehdi-dousti"}' | rate_and_p50
}
redis_at() { # connections port
  redis-benchmark --tls --cacert "$WORK/certs/ca.pem" -h 127.0.0.1 -p "$2" \
    -t get -c "$1" -P 1 -n "$((SECONDS_PER_RUN * ($1 == 1 ? 8000 : 65000)))" --csv 2>/dev/null \
    | awk -F'","' '/"GET"/ { gsub(/"/, "", $2); gsub(/"/, "", $5); print $2, $5 }'
}

# CPU time (user + system, in clock ticks) of processes so far.
cpu_ticks() { # pid...
  local total=0 pid user system
  for pid in "$@"; do
    read -r user system < <(awk '{ print $14, $15 }' "/proc/$pid/stat")
    total=$((total + user + system))
  done
  echo "$total"
}
CLOCK_TICKS=$(getconf CLK_TCK)

# Runs a load command (its output is rate and p50) and appends the CPU the given processes spent
# per request meanwhile, in microseconds: CPU time / (rate x wall time), warm-up included.
with_cpu_per_request() { # "pid..." command...
  local pids=$1
  shift
  local ticks_before start rate p50 ticks_after end
  ticks_before=$(cpu_ticks $pids)
  start=$(date +%s.%N)
  read -r rate p50 < <("$@")
  end=$(date +%s.%N)
  ticks_after=$(cpu_ticks $pids)
  echo "$rate $p50 $(awk -v t=$((ticks_after - ticks_before)) -v hz="$CLOCK_TICKS" -v r="$rate" -v s="$start" -v e="$end" \
    'BEGIN { printf "%.1f", t / hz * 1e6 / (r * (e - s)) }')"
}
NGINX_PROCESSES="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

# At c=$CONNECTIONS everything is saturated and p50 is mostly queueing (connections / rate); at
# c=1 nothing queues and the p50 added is the proxy's own hop.
printf '\n%-40s %12s %9s %12s %9s %8s %12s %14s\n' "proxy path (depth 1)" "direct/s" "p50 ms" "proxied/s" "p50 ms" "kept" "p50 added" "proxy µs/req"
for connections in "$CONNECTIONS" 1; do
  read -r direct direct_p50 < <(get_rate "$connections" "$PARTICIPANTS_PORT")
  read -r via via_p50 via_cpu < <(with_cpu_per_request "$ROUTED_GATEWAY" get_rate "$connections" "$GATEWAY_PORT" "$TOKEN")
  read -r redis_direct redis_direct_p50 < <(redis_at "$connections" "$REDIS_PORT")
  read -r redis_via redis_via_p50 redis_via_cpu < <(with_cpu_per_request "$NGINX_PROCESSES" redis_at "$connections" "$NGINX_PORT")
  printf '%-40s %12s %9s %12s %9s %8s %12s %14s\n' "concord gateway, participants get, c=$connections" "$direct" "$direct_p50" "$via" "$via_p50" \
    "$(awk -v a="$via" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$via_p50" -v b="$direct_p50" 'BEGIN { printf "%+.3f", a - b }')" "$via_cpu"
  printf '%-40s %12s %9s %12s %9s %8s %12s %14s\n' "nginx stream proxy, redis GET, c=$connections" "$redis_direct" "$redis_direct_p50" "$redis_via" "$redis_via_p50" \
    "$(awk -v a="$redis_via" -v b="$redis_direct" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$redis_via_p50" -v b="$redis_direct_p50" 'BEGIN { printf "%+.3f", a - b }')" "$redis_via_cpu"
  read -r nio_redis nio_redis_p50 nio_redis_cpu < <(with_cpu_per_request "$NIO_REDIS" redis_at "$connections" "$NIO_REDIS_PORT")
  read -r nio_get nio_get_p50 nio_get_cpu < <(with_cpu_per_request "$NIO_PARTICIPANTS" get_rate "$connections" "$NIO_PARTICIPANTS_PORT")
  printf '%-40s %12s %9s %12s %9s %8s %12s %14s\n' "bare SwiftNIO proxy, redis GET, c=$connections" "$redis_direct" "$redis_direct_p50" "$nio_redis" "$nio_redis_p50" \
    "$(awk -v a="$nio_redis" -v b="$redis_direct" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$nio_redis_p50" -v b="$redis_direct_p50" 'BEGIN { printf "%+.3f", a - b }')" "$nio_redis_cpu"
  printf '%-40s %12s %9s %12s %9s %8s %12s %14s\n' "bare SwiftNIO proxy, participants get" "$direct" "$direct_p50" "$nio_get" "$nio_get_p50" \
    "$(awk -v a="$nio_get" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$nio_get_p50" -v b="$direct_p50" 'BEGIN { printf "%+.3f", a - b }')" "$nio_get_cpu"
  read -r nio_lines nio_lines_p50 nio_lines_cpu < <(with_cpu_per_request "$NIO_LINES" get_rate "$connections" "$LINES_PORT" "$TOKEN")
  printf '%-40s %12s %9s %12s %9s %8s %12s %14s\n' "SwiftNIO line relay, participants get" "$direct" "$direct_p50" "$nio_lines" "$nio_lines_p50" \
    "$(awk -v a="$nio_lines" -v b="$direct" 'BEGIN { printf "%.2f", a / b }')" "$(awk -v a="$nio_lines_p50" -v b="$direct_p50" 'BEGIN { printf "%+.3f", a - b }')" "$nio_lines_cpu"
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
  [[ $connections == 1 ]] && echo "CPU per forward at c=1: gateway $via_cpu µs, nginx $redis_via_cpu, bare SwiftNIO $nio_redis_cpu (redis) and $nio_get_cpu (participants)," \
    "SwiftNIO line relay $nio_lines_cpu; gateway/nginx $(ratio "$via_cpu" "$redis_via_cpu"), bare SwiftNIO/nginx $(ratio "$nio_redis_cpu" "$redis_via_cpu")," \
    "line relay/nginx $(ratio "$nio_lines_cpu" "$redis_via_cpu"), gateway/bare SwiftNIO $(ratio "$via_cpu" "$nio_get_cpu"), gateway/line relay $(ratio "$via_cpu" "$nio_lines_cpu")"
done
echo
echo "kept = proxied/direct throughput; bar (c=$CONNECTIONS): the gateway keeps at least nginx's share, with p50 added no larger than nginx's"
echo "proxy µs/req = CPU (user + system) the proxy spent per proxied request during that run"
echo "bare SwiftNIO = concord reference-proxy: the gateway's stack (SwiftNIO, swift-nio-ssl) forwarding bytes, none of Concord's code"
echo "SwiftNIO line relay = concord reference-proxy --lines: the same stack doing the least the protocol asks of a gateway (LineRelay), none of Concord's code"
