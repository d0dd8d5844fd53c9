#!/usr/bin/env bash
# The change feed's bench, in one run on one PostgreSQL cluster (scripts/with-postgres, with
# track_commit_timestamp on): commit-to-watcher latency through the gateway, p50 and p99, beside
# PostgreSQL's own commit-to-listener latency for LISTEN/NOTIFY, both from the commit time
# PostgreSQL records; then WATCHERS watchers held through the gateway while writes flow at
# RATE a second: the gateway's RSS and CPU. The measuring client is scripts/bench_changes.py
# (Python, psycopg from PyPI for LISTEN/NOTIFY, the standard library's ssl for our protocol).
#
#   scripts/bench-changes.sh                    # 200 samples, 1,000 watchers, 1,000 writes/s for 10 s
#   SAMPLES=50 WATCHERS=100 RATE=200 SECONDS_OF_LOAD=3 scripts/bench-changes.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -z "${CONCORD_TEST_POSTGRES:-}" ]]; then
  # Commit timestamps: when each transaction committed, by PostgreSQL's own clock.
  CONCORD_POSTGRES_OPTIONS="-c track_commit_timestamp=on" exec scripts/with-postgres "$0" "$@"
fi
python3 -c "import psycopg" 2>/dev/null || python3 -m pip install -q "psycopg==3.2.3" 2>/dev/null \
  || python3 -m pip install -q --break-system-packages "psycopg==3.2.3"

SAMPLES=${SAMPLES:-200}
WATCHERS=${WATCHERS:-1000}
RATE=${RATE:-1000}
SECONDS_OF_LOAD=${SECONDS_OF_LOAD:-10}
SERVICE_PORT=${SERVICE_PORT:-17431}
GATEWAY_PORT=${GATEWAY_PORT:-17432}

source scripts/bench-common.sh

"$BIN/concord" certs init "$WORK/certs" >/dev/null
start_service participants "$SERVICE_PORT" participants \
  --database "$CONCORD_TEST_POSTGRES?schema=bench_changes" --seeds seeds/participants
# Open files: a watcher is a connection.
ulimit -n 8192 2>/dev/null || true
start_service gateway "$GATEWAY_PORT" gateway --no-auth --route "participants=127.0.0.1:$SERVICE_PORT"
GATEWAY_PID=$STARTED

python3 scripts/bench_changes.py "$GATEWAY_PORT" "$WORK/certs" "$CONCORD_TEST_POSTGRES" "$GATEWAY_PID" \
  "$SAMPLES" "$WATCHERS" "$RATE" "$SECONDS_OF_LOAD"
