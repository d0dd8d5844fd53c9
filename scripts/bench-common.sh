# Sourced by the bench scripts: release binaries in $BIN, a work directory $WORK, and the
# processes started (PIDS+=($!)) stopped with SIGTERM and $WORK removed on exit; wait_ready,
# start_service, start_participants, and bench_line with rate_and_p50 for `concord bench`;
# the reference points: need_references, start_redis_tls and write_nginx_conf; and
# callgrind_dump with callgrind_total for the callgrind scripts.
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

# The reference points' tools, from Debian's packages when missing.
need_references() {
  if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || ! command -v nginx >/dev/null \
     || [[ ! -e /usr/lib/nginx/modules/ngx_stream_module.so ]]; then
    echo "installing redis-server, redis-tools, nginx and its stream module (Debian packages)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools nginx libnginx-mod-stream >/dev/null
  fi
}

# redis-server on a loopback TLS port only, with the run's gateway certificate, keeping nothing
# on disk; its pid goes to PIDS. Needs `concord certs init "$WORK/certs"` first.
start_redis_tls() { # port
  redis-server --port 0 --bind 127.0.0.1 --tls-port "$1" \
    --tls-cert-file "$WORK/certs/gateway.pem" --tls-key-file "$WORK/certs/gateway-key.pem" \
    --tls-ca-cert-file "$WORK/certs/ca.pem" --tls-auth-clients no \
    --save '' --appendonly no --daemonize no --logfile "$WORK/redis.log" &
  PIDS+=($!)
}

# $WORK/nginx.conf: nginx's stream proxy on a loopback port, terminating TLS with the gateway's
# certificate and re-encrypting to the redis port (verifying its certificate), in the foreground
# with WORKERS worker processes; `single` runs one process, no master, as a profiler needs.
write_nginx_conf() { # port redis-port workers [single]
  local process="worker_processes $3;"
  [[ "${4:-}" == single ]] && process="master_process off;
worker_processes 1;"
  cat >"$WORK/nginx.conf" <<NGINX
load_module /usr/lib/nginx/modules/ngx_stream_module.so;
$process
daemon off;
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 1024; }
stream {
  server {
    listen 127.0.0.1:$1 ssl;
    ssl_certificate $WORK/certs/gateway.pem;
    ssl_certificate_key $WORK/certs/gateway-key.pem;
    proxy_pass 127.0.0.1:$2;
    proxy_ssl on;
    proxy_ssl_verify on;
    proxy_ssl_name localhost;
    proxy_ssl_trusted_certificate $WORK/certs/ca.pem;
    proxy_ssl_session_reuse on;
  }
}
NGINX
}

# Dumps the counters of callgrind's process $1 (valgrind started with --callgrind-out-file=$2)
# and prints the new dump's path.
callgrind_dump() { # valgrind-pid out-file
  callgrind_control -d "$1" >/dev/null 2>&1
  sleep 1
  ls -t "$2"* | head -1
}

# The instructions a callgrind dump counted.
callgrind_total() { awk '/^(summary|totals):/ { print $2; exit }' "$1"; }
