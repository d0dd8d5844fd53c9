#!/usr/bin/env bash
# The agreements service under its heaviest read: `agreements.actions.overdue` over 100,000
# synthetic actions (scripts/synthetic-actions.py; every record says it is synthetic), and
# get-by-id beside ping on the same process, as scripts/bench-participants.sh measures it.
#
#   scripts/bench-agreements.sh            # ACTIONS=100000 SECONDS_PER_RUN=5 CONNECTIONS=50
#
# SQLite (the embedded default), one event loop (THREADS=1). The synthetic store is seeded with
# `agreements seed`, one transaction per record (about two minutes for 100,000).
set -euo pipefail
cd "$(dirname "$0")/.."

ACTIONS=${ACTIONS:-100000}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
CONNECTIONS=${CONNECTIONS:-50}
THREADS=${THREADS:-1}
PARTICIPANTS_PORT=${PARTICIPANTS_PORT:-17421}
AGREEMENTS_PORT=${AGREEMENTS_PORT:-17422}

source scripts/bench-common.sh

"$BIN/concord" certs init "$WORK/certs" >/dev/null

start_participants "$PARTICIPANTS_PORT"

echo "seeding $ACTIONS synthetic actions (labelled synthetic in every record)..."
mkdir -p "$WORK/synthetic"
scripts/synthetic-actions.py "$ACTIONS" 1 >"$WORK/synthetic/actions.json"
start=$(date +%s)
"$BIN/agreements" seed --database "sqlite:$WORK/agreements.sqlite" --seeds "$WORK/synthetic" \
  --peer "participants=127.0.0.1:$PARTICIPANTS_PORT" --certs "$WORK/certs" --log-level warning
echo "  seeded in $(( $(date +%s) - start )) s"

start_service agreements "$AGREEMENTS_PORT" agreements --threads "$THREADS" \
  --database "sqlite:$WORK/agreements.sqlite" --peer "participants=127.0.0.1:$PARTICIPANTS_PORT"

run() { # connections depth verb body
  bench_line --port "$AGREEMENTS_PORT" --identity gateway -c "$1" -P "$2" --verb "$3" --body "$4" | rate_and_p50
}

overdue='{"asOf":"2026-12-01"}'
count=$("$BIN/concord" call --port "$AGREEMENTS_PORT" --certs "$WORK/certs" --identity gateway agreements.actions.overdue '{"asOf":"2026-12-01","limit":500}' \
  | python3 -c 'import json, sys; print(len(json.load(sys.stdin)["items"]))')
printf '\n%-44s %12s %9s\n' "agreements.actions.overdue, $ACTIONS actions" "req/s" "p50 ms"
for connections in 1 10; do
  read -r rate p50 < <(run "$connections" 1 agreements.actions.overdue "$overdue")
  printf '%-44s %12s %9s\n' "c=$connections (page of 50, oldest first)" "$rate" "$p50"
done
echo "  (a full page: $count of the first 500 are overdue on 2026-12-01; bar: p50 under 5 ms)"

# A record in the middle of the synthetic set, whatever ACTIONS is.
get=$(printf '{"id":"synthetic-%06d"}' $((ACTIONS / 2)))
printf '\n%-34s %12s %9s %12s %9s %7s\n' "agreements (c=$CONNECTIONS, $THREADS loop)" "get req/s" "p50 ms" "ping req/s" "p50 ms" "get/ping"
for depth in 1 16; do
  read -r get_rate get_p50 < <(run "$CONNECTIONS" "$depth" agreements.actions.get "$get")
  read -r ping_rate ping_p50 < <(run "$CONNECTIONS" "$depth" ping '{}')
  ratio=$(awk -v a="$get_rate" -v b="$ping_rate" 'BEGIN { printf "%.2f", a / b }')
  printf '%-34s %12s %9s %12s %9s %7s\n' "sqlite, depth $depth" "$get_rate" "$get_p50" "$ping_rate" "$ping_p50" "$ratio"
done
