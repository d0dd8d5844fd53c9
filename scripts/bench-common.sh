# Sourced by the bench scripts: release binaries in $BIN, a work directory $WORK, and the
# processes started (PIDS+=($!)) stopped with SIGTERM and $WORK removed on exit; wait_ready,
# start_service and start_participants.
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
