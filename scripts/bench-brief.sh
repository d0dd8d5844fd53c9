#!/usr/bin/env bash
# The fan-out of `brief.session` is parallel: its p50 against the slowest single call it makes,
# each measured through the gateway with a reader's token, in one run (bar: at most 1.5 times).
#
#   scripts/bench-brief.sh              # SECONDS_PER_RUN=4 ROUNDS=5
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN=${SECONDS_PER_RUN:-4}
PORT=${PORT:-17520}

source scripts/bench-common.sh
"$BIN/concord" up --home "$WORK/home" --port "$PORT" --participants-port $((PORT + 1)) --agreements-port $((PORT + 2)) \
  --trade-port $((PORT + 3)) >"$WORK/up.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 300); do grep -q "Concord is up" "$WORK/up.log" 2>/dev/null && break; sleep 0.2; done
grep -q "Concord is up" "$WORK/up.log" || { cat "$WORK/up.log"; exit 1; }
"$BIN/concord" trade import Tests/Fixtures/comtrade-sample.csv --published 2026-11-30 --config "$WORK/home/client.json" >/dev/null 2>&1
TOKEN=$("$BIN/concord" tokens add --file "$WORK/home/tokens" --role reader --name bench --rate unlimited --concurrency unlimited)

p50() { # verb body
  local line
  line=$("$BIN/concord" bench --port "$PORT" --certs "$WORK/home/certs" --token "$TOKEN" -c 1 -P 1 --seconds "$SECONDS_PER_RUN" \
    --warmup 1 --verb "$1" --body "$2")
  [[ "$line" == *" errors: 0" ]] || { echo "bench-brief: errors: $line" >&2; kill -TERM $$; exit 1; }
  sed -E 's/.*p50: ([0-9.]+) ms.*/\1/' <<<"$line"
}
# Rounds alternate the single calls and the brief, so that both see the same machine; each
# figure printed is the median of its rounds' p50s.
ROUNDS=${ROUNDS:-5}
calls=('participants.sessions.overview|{"number":6}' 'agreements.followup|{"session":6}' 'trade.headline|{"session":6}'
       'brief.session|{"number":6}')
declare -A runs
for round in $(seq 1 "$ROUNDS"); do
  for call in "${calls[@]}"; do
    runs[${call%%|*}]+="$(p50 "${call%%|*}" "${call#*|}") "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
printf '%-40s %8s   %s\n' "through the gateway, c=1" "p50 ms" "(median of $ROUNDS rounds: each round's p50)"
slowest=0
for call in "${calls[@]:0:3}"; do
  ms=$(median "${runs[${call%%|*}]}")
  printf '%-40s %8s   %s\n' "${call%%|*}" "$ms" "${runs[${call%%|*}]}"
  slowest=$(awk -v a="$ms" -v b="$slowest" 'BEGIN { print (a > b ? a : b) }')
done
brief=$(median "${runs[brief.session]}")
printf '%-40s %8s   %s\n' "brief.session (all three, in parallel)" "$brief" "${runs[brief.session]}"
printf 'brief / slowest single call: %s (bar: at most 1.5)\n' "$(awk -v a="$brief" -v b="$slowest" 'BEGIN { printf "%.2f", a / b }')"
