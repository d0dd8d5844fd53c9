#!/usr/bin/env bash
# Get-by-id through the protocol on both engines, beside ping on the same server and, for
# PostgreSQL, beside pgbench's own select-by-primary-key on the same cluster. One run, side by side.
#
#   scripts/bench-participants.sh             # 5 s per measurement, 50 connections
#   SECONDS_PER_RUN=10 CONNECTIONS=20 scripts/bench-participants.sh
#
# Ours: `concord bench` against a participants process (TLS 1.3, mutual TLS, ALPN) calling
# participants.officials.get {"id":"mehdi-dousti"} (a seeded record) and ping, at depth 1 and 16.
# Reference: `pgbench -S` (SELECT by primary key, no TLS, no protocol of ours) on the same cluster.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${CONCORD_TEST_POSTGRES:-}" ]]; then
  exec scripts/with-postgres "$0" "$@"
fi

SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNECTIONS=${CONNECTIONS:-50}
SQLITE_PORT=${SQLITE_PORT:-17411}
POSTGRES_PORT=${POSTGRES_PORT:-17412}
THREADS=${THREADS:-1}

source scripts/bench-common.sh

"$BIN/concord" certs init "$WORK/certs" >/dev/null

start_service sqlite "$SQLITE_PORT" participants --threads "$THREADS" --database "sqlite:$WORK/participants.sqlite" --seeds seeds/participants
start_service postgres "$POSTGRES_PORT" participants --threads "$THREADS" \
  --database "$CONCORD_TEST_POSTGRES?schema=bench_participants" --seeds seeds/participants

our_rate() { # port verb body depth
  # The gateway's certificate: a service lets only the gateway's identity call its verbs.
  bench_line --port "$1" --identity gateway -c "$CONNECTIONS" -P "$4" --verb "$2" --body "$3" | rate_and_p50
}

# pgbench's select-only script on its own tables in the same cluster: the engine's own figure.
pg_url="$CONCORD_TEST_POSTGRES"
pgbench -i -s 1 -q "$pg_url" >/dev/null 2>&1
pg_rate() {
  pgbench -S -n -c "$CONNECTIONS" -j 1 -T "$SECONDS_PER_RUN" "$pg_url" 2>/dev/null \
    | awk '/^tps/ { print int($3) } /latency average/ { }' | head -1
}

get='{"id":"mehdi-dousti"}'
printf '\n%-34s %12s %9s %12s %9s %7s\n' "participants (c=$CONNECTIONS, $THREADS loop)" "get req/s" "p50 ms" "ping req/s" "p50 ms" "get/ping"
for engine in sqlite postgres; do
  port=$SQLITE_PORT; [[ $engine == postgres ]] && port=$POSTGRES_PORT
  for depth in 1 16; do
    read -r get_rate get_p50 < <(our_rate "$port" participants.officials.get "$get" "$depth")
    read -r ping_rate ping_p50 < <(our_rate "$port" ping '{}' "$depth")
    ratio=$(awk -v a="$get_rate" -v b="$ping_rate" 'BEGIN { printf "%.2f", a / b }')
    printf '%-34s %12s %9s %12s %9s %7s\n' "$engine, depth $depth" "$get_rate" "$get_p50" "$ping_rate" "$ping_p50" "$ratio"
  done
done
pg=$(pg_rate)
echo
echo "reference: pgbench -S (SELECT by primary key, plain TCP, no TLS) on the same cluster, c=$CONNECTIONS: $pg tps"
