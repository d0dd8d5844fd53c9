# Sourced by the bench scripts: release binaries in $BIN, a work directory $WORK, and the
# processes started (PIDS+=($!)) stopped with SIGTERM and $WORK removed on exit.
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
