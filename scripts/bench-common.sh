# Sourced by the bench scripts: release binaries in $BIN, a work directory $WORK, and the
# processes started (PIDS+=($!)) stopped with SIGTERM and $WORK removed on exit; wait_ready,
# start_service, start_participants, and bench_line with rate_and_p50 for `concord bench`.
echo "building release binaries..."
BIN=$(scripts/build-release 2>/dev/null) || { echo "build failed: run scripts/build-release" >&2; exit 1; }

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Waits until the service on port $2 answers `ready` (a built-in any certificate may call).
wait_ready() { # name port
  for _ in $(seq 1 300); do
    "$BIN/concord" call --port "$2" --certs "$WORK/certs" ready >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$1 did not start:"; cat "$WORK/$1.log"; exit 1
}

# Starts release binary $3 as process NAME of this run, on PORT with the run's certificates,
# its output in $WORK/NAME.log, and waits until it is ready; its pid is then in $STARTED.
start_service() { # name port executable arguments...
  local name=$1 port=$2 executable=$3
  shift 3
  "$BIN/$executable" --port "$port" --certs "$WORK/certs" --log-level warning "$@" >"$WORK/$name.log" 2>&1 &
  STARTED=$!
  PIDS+=("$STARTED")
  wait_ready "$name" "$port"
}

# The participants service with its seeds on SQLite, in front of which most benches put
# something: start_participants PORT [more arguments...].
start_participants() {
  local port=$1
  shift
  start_service participants "$port" participants --database "sqlite:$WORK/participants.sqlite" --seeds seeds/participants "$@"
}

# One `concord bench` run with this run's certificates, SECONDS_PER_RUN measured after a
# second's warm-up: bench_line ARGUMENTS... prints its report line. A run with errors measured
# refusals, not the work: it stops the script rather than print it.
bench_line() {
  local line
  line=$("$BIN/concord" bench --certs "$WORK/certs" --seconds "$SECONDS_PER_RUN" --warmup 1 "$@")
  [[ "$line" == *" errors: 0" ]] || { echo "$(basename "$0"): a run had errors: $line" >&2; kill -TERM $$; exit 1; }
  echo "$line"
}

# A report line's requests a second and p50 in ms, as "RATE P50".
rate_and_p50() { sed -E 's/.*requests\/s: ([0-9.]+) +p50: ([0-9.]+) ms.*/\1 \2/'; }
