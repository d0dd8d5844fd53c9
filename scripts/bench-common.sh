# Sourced by the bench scripts: release binaries in $BIN, a work directory $WORK, and the
# processes started (PIDS+=($!)) stopped with SIGTERM and $WORK removed on exit; wait_ready.
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
