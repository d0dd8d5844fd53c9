#!/usr/bin/env bash
# Counts the instructions the gateway spends per forwarded request (callgrind), at one connection:
# nothing is batched there. Three runs of one build agreed within 0.2% (2026-12-05), once the
# counted runs had no warm-up second; with one, runs differed by up to 3%.
#
#   scripts/callgrind-forward.sh                 # the gateway built from this tree
#   GATEWAY=/path/to/gateway scripts/callgrind-forward.sh   # another build (an older commit)
#   CALLGRIND_OUT=/tmp/cg scripts/callgrind-forward.sh       # keep the dumps (/tmp/cg.5s, /tmp/cg.15s)
#   PROXY=reference scripts/callgrind-forward.sh             # the bare SwiftNIO proxy instead, on the same traffic
#   PROXY=lines scripts/callgrind-forward.sh                 # the line relay (reference-proxy --lines): the protocol's least work
#
# participants.officials.get (a seeded record) through a gateway that routes to one participants
# process; the gateway runs under valgrind --tool=callgrind from a copy with its DWARF stripped
# (valgrind cannot read the toolchain's DWARF 5). The counters are zeroed after a warm-up (TLS
# handshakes excluded), then `concord bench -c 1` runs for SECONDS; the instructions counted
# divided by the requests answered is the figure.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-15}
PARTICIPANTS_PORT=${PARTICIPANTS_PORT:-17501}
GATEWAY_PORT=${GATEWAY_PORT:-17502}

command -v valgrind >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null; }

source scripts/bench-common.sh

PROXY=${PROXY:-gateway}
if [[ $PROXY == reference || $PROXY == lines ]]; then gateway_binary=$BIN/concord; else gateway_binary=${GATEWAY:-$BIN/gateway}; fi
cp "$gateway_binary" "$WORK/gateway"
strip --strip-debug "$WORK/gateway"

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_participants "$PARTICIPANTS_PORT" --threads 1
TOKEN=$("$BIN/concord" tokens add --file "$WORK/tokens" --role reader --name bench --rate unlimited --concurrency unlimited)

if [[ $PROXY == reference ]]; then
  # `concord reference-proxy`: SwiftNIO and swift-nio-ssl forwarding bytes; the caller presents
  # the gateway's certificate, which the proxy passes on as its own.
  proxy=(reference-proxy --port "$GATEWAY_PORT" --to "$PARTICIPANTS_PORT" --certs "$WORK/certs" --threads 1 --alpn concord/1)
  who=(--identity gateway)
elif [[ $PROXY == lines ]]; then
  # The same, relaying lines as a gateway must (`LineRelay`): the token in, actor and role out.
  proxy=(reference-proxy --port "$GATEWAY_PORT" --to "$PARTICIPANTS_PORT" --certs "$WORK/certs" --threads 1 --alpn concord/1
    --lines --token "$TOKEN" --read participants.officials.get)
  who=(--token "$TOKEN")
else
  proxy=(--port "$GATEWAY_PORT" --certs "$WORK/certs" --threads 1 --log-level warning \
    --tokens "$WORK/tokens" --route "participants=127.0.0.1:$PARTICIPANTS_PORT")
  who=(--token "$TOKEN")
fi
valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$WORK/gateway" "${proxy[@]}" >"$WORK/gateway.log" 2>&1 &
VALGRIND=$!
PIDS+=($!)
bench() { # seconds [warm-up seconds]
  "$BIN/concord" bench --port "$GATEWAY_PORT" --certs "$WORK/certs" "${who[@]}" -c 1 -P 1 --seconds "$1" --warmup "${2:-1}" \
    --verb participants.officials.get --body '{"id":"mehdi-dousti"}'
}
for _ in $(seq 1 150); do
  "$BIN/concord" call --port "$GATEWAY_PORT" --certs "$WORK/certs" "${who[@]}" participants.officials.get '{"id":"mehdi-dousti"}' \
    >/dev/null 2>&1 && break
  sleep 0.4
done

# Warm-up: the route's connection made, verbs learned, code paged in. Then two counted runs, of
# SHORT and SECONDS_PER_RUN seconds, each on a new connection and without a warm-up second: the
# difference of their counts over the difference of their requests leaves out what a run pays
# once (its connection and handshake).
bench 3 >/dev/null
counted() { # seconds -> "requests instructions"
  callgrind_control -z "$VALGRIND" >/dev/null
  local out requests
  # No warm-up second: the requests of one are answered but not counted, and their number
  # varied with the run's pace (a 16% faster run counted 3% more instructions a forward).
  out=$(bench "$1" 0)
  requests=$(echo "$out" | sed -n 's/.*requests: \([0-9]*\) .*/\1/p')
  local newest
  newest=$(callgrind_dump "$VALGRIND" "$WORK/callgrind.out")
  [[ -n "${CALLGRIND_OUT:-}" ]] && cp "$newest" "$CALLGRIND_OUT.$1s"
  echo "$requests $(callgrind_total "$newest")"
}
read -r short_requests short_instructions < <(counted 5)
read -r long_requests long_instructions < <(counted "$SECONDS_PER_RUN")
echo "callgrind: 5 s: $short_requests requests, $short_instructions instructions; ${SECONDS_PER_RUN} s: $long_requests requests, $long_instructions instructions"
awk -v a="$short_instructions" -v b="$long_instructions" -v x="$short_requests" -v y="$long_requests" -v who="$PROXY" \
  'BEGIN { printf "callgrind: %.0f instructions per forwarded request (%s)\n", (b - a) / (y - x), who }'
