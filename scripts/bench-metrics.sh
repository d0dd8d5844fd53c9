#!/usr/bin/env bash
# What recording metrics costs the gateway, side by side in one run: two gateway processes in
# front of the same participants service, one with `--metrics`, one without, measured in turn
# with `concord bench` at c=50 (ROUNDS rounds, alternating which goes first), median of each.
#
#   scripts/bench-metrics.sh                 # 5 s per measurement, 3 rounds
#   SECONDS_PER_RUN=10 ROUNDS=5 scripts/bench-metrics.sh
#
# Two verbs: participants.officials.get (a seeded record), forwarded to the service (the bar:
# metrics on keeps at least 0.97 of the rate off), and ping, which the gateway answers itself,
# so its own share of the cost shows without the service's time around it. Prometheus scrapes
# the metrics gateway every second meanwhile (curl, as a scraper would), so the scrape's own
# work is in the figure.
set -euo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
ROUNDS=${ROUNDS:-3}
CONNECTIONS=${CONNECTIONS:-50}
SERVICE_PORT=${SERVICE_PORT:-17421}
OFF_PORT=${OFF_PORT:-17422}
ON_PORT=${ON_PORT:-17423}
METRICS_PORT=${METRICS_PORT:-19424}

source scripts/bench-common.sh

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_participants "$SERVICE_PORT"
start_service gateway-off "$OFF_PORT" gateway --no-auth --route "participants=127.0.0.1:$SERVICE_PORT"
start_service gateway-on "$ON_PORT" gateway --no-auth --route "participants=127.0.0.1:$SERVICE_PORT" --metrics "127.0.0.1:$METRICS_PORT"
( while sleep 1; do curl -sf "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null || true; done ) &
PIDS+=($!)

rate() { # port verb body
  bench_line --port "$1" -c "$CONNECTIONS" --verb "$2" --body "$3" | rate_and_p50 | cut -d' ' -f1
}
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

printf '\n%-40s %14s %14s %8s\n' "gateway, c=$CONNECTIONS, $ROUNDS rounds of ${SECONDS_PER_RUN} s" "off req/s" "on req/s" "on/off"
for verb in participants.officials.get ping; do
  body='{}'; [[ $verb == participants.officials.get ]] && body='{"id":"mehdi-dousti"}'
  off=""; on=""
  for round in $(seq 1 "$ROUNDS"); do
    if (( round % 2 )); then
      off="$off $(rate "$OFF_PORT" "$verb" "$body")"; on="$on $(rate "$ON_PORT" "$verb" "$body")"
    else
      on="$on $(rate "$ON_PORT" "$verb" "$body")"; off="$off $(rate "$OFF_PORT" "$verb" "$body")"
    fi
  done
  m_off=$(median <<<"$off"); m_on=$(median <<<"$on")
  printf '%-40s %14.0f %14.0f %8.3f\n' "$verb" "$m_off" "$m_on" "$(awk -v a="$m_on" -v b="$m_off" 'BEGIN { print a / b }')"
  echo "  runs off:$off"
  echo "  runs on: $on"
done
echo
echo "bar: on/off at least 0.97 for the forwarded verb (participants.officials.get)"
grep -c '^concord_requests_total' <(curl -sf "http://127.0.0.1:$METRICS_PORT/metrics") | sed 's/^/request series exposed by the metrics gateway: /'
