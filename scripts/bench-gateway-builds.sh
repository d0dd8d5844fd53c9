#!/usr/bin/env bash
# Two gateway builds side by side, in front of one participants process: the same token, the
# same verb, rounds that alternate between them. Prints each round's rate and the gateway's CPU
# per request (user + system over the run, warm-up second included).
#
#   BEFORE=/tmp/gateway-old scripts/bench-gateway-builds.sh          # c=50, 4 s, 3 rounds
#   BEFORE=/tmp/gateway-old CONNECTIONS=1 scripts/bench-gateway-builds.sh
#
# BEFORE is a gateway binary built from another commit (scripts/build-release there, or on a
# checkout of it); AFTER defaults to this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."

: "${BEFORE:?set BEFORE to the gateway binary to compare with}"
CONNECTIONS=${CONNECTIONS:-50}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
ROUNDS=${ROUNDS:-3}
# Participants on PORT, the two gateways on the two ports after it.
PORT=${PORT:-17701}
PARTICIPANTS_PORT=$PORT BEFORE_PORT=$((PORT + 1)) AFTER_PORT=$((PORT + 2))

source scripts/bench-common.sh
AFTER=${AFTER:-$BIN/gateway}

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_participants "$PARTICIPANTS_PORT" --threads 1
TOKEN=$("$BIN/concord" tokens add --file "$WORK/tokens" --role reader --name bench --rate unlimited --concurrency unlimited)
start_gateway() { # binary port
  "$1" --port "$2" --certs "$WORK/certs" --threads 1 --log-level warning --tokens "$WORK/tokens" \
    --route "participants=127.0.0.1:$PARTICIPANTS_PORT" >"$WORK/gateway-$2.log" 2>&1 &
  PIDS+=($!)
}
start_gateway "$BEFORE" "$BEFORE_PORT"
BEFORE_PID=$!
start_gateway "$AFTER" "$AFTER_PORT"
AFTER_PID=$!
for port in "$BEFORE_PORT" "$AFTER_PORT"; do
  for _ in $(seq 1 150); do
    "$BIN/concord" call --port "$port" --certs "$WORK/certs" --token "$TOKEN" participants.officials.get '{"id":"mehdi-dousti"}' \
      >/dev/null 2>&1 && break
    sleep 0.2
  done
done

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
round() { # name pid port
  local before after out rate
  before=$(ticks "$2")
  out=$("$BIN/concord" bench --port "$3" --certs "$WORK/certs" --token "$TOKEN" -c "$CONNECTIONS" -P 1 \
    --seconds "$SECONDS_PER_RUN" --warmup 1 --verb participants.officials.get --body '{"id":"mehdi-dousti"}')
  after=$(ticks "$2")
  rate=$(echo "$out" | sed -n 's/.*requests\/s: \([0-9.]*\).*/\1/p')
  awk -v name="$1" -v rate="$rate" -v ticks=$((after - before)) -v seconds=$((SECONDS_PER_RUN + 1)) -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%-6s c=%-3s %10.0f requests/s  %7.1f µs CPU a request\n", name, '"$CONNECTIONS"', rate, ticks / hz * 1e6 / (rate * seconds) }'
}
for _ in $(seq 1 "$ROUNDS"); do
  round before "$BEFORE_PID" "$BEFORE_PORT"
  round after "$AFTER_PID" "$AFTER_PORT"
done
