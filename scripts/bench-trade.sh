#!/usr/bin/env bash
# Trade-metrics against the tools an analyst would use instead, on one synthetic Comtrade CSV
# (`concord trade synth`, every row marked synthetic), in one run:
#   - import: `concord trade import` (TLS, through the service, on SQLite) beside sqlite3's
#     `.import` into an indexed table and DuckDB's read_csv (PyPI duckdb, in a venv made here);
#     rows/s each, and the service's and the CLI's peak resident memory;
#   - one pair's growth (9 months against the same 9 a year earlier): the service's p50 beside
#     sqlite3 and DuckDB answering the same question;
#   - growth of every series at once (TOTAL, 9 months against 9, the 100 that grew most): the
#     service's p50 (from the totals it keeps as imports commit) beside DuckDB's over the table;
#   - import on PostgreSQL: the same file into trade-metrics on PostgreSQL (COPY into a staging
#     table, then one insert a batch) beside psql's `\copy` into an indexed table of the same
#     cluster (scripts/with-postgres starts one; POSTGRES=0 leaves the section out).
#
#   scripts/bench-trade.sh                 # ROWS=10000000 (the issue's size); ROWS=200000 for a quick look
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${POSTGRES:-1}" == 1 && -z "${CONCORD_TEST_POSTGRES:-}" ]]; then
  exec scripts/with-postgres "$0" "$@"
fi

ROWS=${ROWS:-10000000}
PARTICIPANTS_PORT=${PARTICIPANTS_PORT:-17431}
TRADE_PORT=${TRADE_PORT:-17433}

source scripts/bench-common.sh

"$BIN/concord" certs init "$WORK/certs" >/dev/null
peak_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

echo "writing $ROWS synthetic Comtrade rows..."
"$BIN/concord" trade synth --rows "$ROWS" --seed 1 --months 24 >"$WORK/trade.csv"
echo "  $(du -h "$WORK/trade.csv" | cut -f1)"

start_participants "$PARTICIPANTS_PORT"
start_service trade "$TRADE_PORT" trade-metrics --threads 1 \
  --database "sqlite:$WORK/trade.sqlite" --peer "participants=127.0.0.1:$PARTICIPANTS_PORT"
TRADE_PID=$STARTED

rate() { awk -v rows="$1" -v ms="$2" 'BEGIN { printf "%.0f", rows / (ms / 1000) }'; }
now_ms() { date +%s%3N; }

# --- import ---------------------------------------------------------------------------------
start=$(now_ms)
"$BIN/concord" trade import "$WORK/trade.csv" --published 2026-01-01 --port "$TRADE_PORT" --certs "$WORK/certs" --identity gateway \
  >"$WORK/import.out" 2>"$WORK/import.err" &
CLI_PID=$!
cli_peak=0
while kill -0 "$CLI_PID" 2>/dev/null; do
  kb=$(peak_kb "$CLI_PID"); (( kb > cli_peak )) && cli_peak=$kb
  sleep 0.5
done
wait "$CLI_PID" || { cat "$WORK/import.err" >&2; exit 1; }
ours_ms=$(( $(now_ms) - start ))
service_peak=$(peak_kb "$TRADE_PID")

start=$(now_ms)
sqlite3 "$WORK/reference.sqlite" <<SQL
CREATE TABLE t (freqCode TEXT, refYear INT, refMonth INT, period TEXT, reporterCode INT, reporterISO TEXT, partnerCode INT,
  partnerISO TEXT, partner2Code INT, flowCode TEXT, classificationCode TEXT, cmdCode TEXT, customsCode TEXT, motCode INT,
  primaryValue REAL, netWgt REAL, qtyUnitAbbr TEXT, isAggregate TEXT, synthetic TEXT);
CREATE INDEX t_series ON t (reporterISO, partnerISO, flowCode, cmdCode, period, primaryValue);
.mode csv
.import --skip 1 $WORK/trade.csv t
SQL
sqlite_ms=$(( $(now_ms) - start ))

duck=""
if python3 -m venv "$WORK/venv" >/dev/null 2>&1 && "$WORK/venv/bin/pip" install -q duckdb >/dev/null 2>&1; then
  duck="$WORK/venv/bin/python"
  start=$(now_ms)
  "$duck" -c "import duckdb; c = duckdb.connect('$WORK/reference.duckdb'); c.execute(\"CREATE TABLE t AS SELECT * FROM read_csv('$WORK/trade.csv')\")"
  duck_ms=$(( $(now_ms) - start ))
fi

printf '\n%-46s %12s %10s\n' "import of $ROWS rows" "rows/s" "seconds"
printf '%-46s %12s %10s\n' "concord trade import (TLS, service on SQLite)" "$(rate "$ROWS" "$ours_ms")" "$(awk -v m="$ours_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
printf '%-46s %12s %10s\n' "sqlite3 .import into an indexed table" "$(rate "$ROWS" "$sqlite_ms")" "$(awk -v m="$sqlite_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
[[ -n "$duck" ]] && printf '%-46s %12s %10s\n' "DuckDB read_csv" "$(rate "$ROWS" "$duck_ms")" "$(awk -v m="$duck_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
printf '  ours / sqlite3: %s (bar: at least 0.6)\n' "$(awk -v a="$sqlite_ms" -v b="$ours_ms" 'BEGIN { printf "%.3f", a / b }')"
printf '  peak resident memory: service %.0f MB, CLI %.0f MB (bar: under 300 MB)\n' "$(awk -v k="$service_peak" 'BEGIN { print k / 1024 }')" "$(awk -v k="$cli_peak" 'BEGIN { print k / 1024 }')"

# --- one pair's growth ----------------------------------------------------------------------
pair=$(awk -F, 'NR == 2 { print $6 "," $8 }' "$WORK/trade.csv")
reporter_iso=${pair%,*}; partner_iso=${pair#*,}
to2=$(python3 -c "import json; t = json.load(open('/usr/share/iso-codes/json/iso_3166-1.json'))['3166-1']; m = {e['alpha_3']: e['alpha_2'] for e in t}; print(m['$reporter_iso'], m['$partner_iso'])")
reporter=${to2% *}; partner=${to2#* }
body="{\"reporter\":\"$reporter\",\"partner\":\"$partner\",\"flow\":\"X\",\"from\":\"2025-01\",\"to\":\"2025-09\"}"
ours=$("$BIN/concord" bench --port "$TRADE_PORT" --certs "$WORK/certs" --identity gateway -c 1 -P 1 --seconds 3 --warmup 1 \
  --verb trade.growth --body "$body" | sed -E 's/.*p50: ([0-9.]+) ms.*/\1/')
sqlite_growth=$(python3 - "$WORK/reference.sqlite" "$reporter_iso" "$partner_iso" <<'PY'
import sqlite3, statistics, sys, time
db = sqlite3.connect(sys.argv[1]); times = []
q = "SELECT SUM(CASE WHEN period BETWEEN '202501' AND '202509' THEN primaryValue END), SUM(CASE WHEN period BETWEEN '202401' AND '202409' THEN primaryValue END) FROM t WHERE reporterISO = ? AND partnerISO = ? AND flowCode = 'X' AND period BETWEEN '202401' AND '202509'"
for _ in range(200):
    s = time.perf_counter(); db.execute(q, (sys.argv[2], sys.argv[3])).fetchall(); times.append(time.perf_counter() - s)
print(f"{statistics.median(times) * 1000:.3f}")
PY
)
printf '\n%-46s %10s\n' "one pair's growth, 9 months against 9" "p50 ms"
printf '%-46s %10s\n' "trade.growth through the protocol (TLS)" "$ours"
printf '%-46s %10s\n' "sqlite3 with a covering index (in process)" "$sqlite_growth"
if [[ -n "$duck" ]]; then
  duck_growth=$("$duck" - "$WORK/reference.duckdb" "$reporter_iso" "$partner_iso" <<'PY'
import duckdb, statistics, sys, time
db = duckdb.connect(sys.argv[1], read_only=True); times = []
q = "SELECT SUM(CASE WHEN period BETWEEN 202501 AND 202509 THEN primaryValue END), SUM(CASE WHEN period BETWEEN 202401 AND 202409 THEN primaryValue END) FROM t WHERE reporterISO = ? AND partnerISO = ? AND flowCode = 'X'"
for _ in range(50):
    s = time.perf_counter(); db.execute(q, [sys.argv[2], sys.argv[3]]).fetchall(); times.append(time.perf_counter() - s)
print(f"{statistics.median(times) * 1000:.3f}")
PY
)
  printf '%-46s %10s\n' "DuckDB (in process)" "$duck_growth"
fi
echo "  (bar: ours under 2 ms)"

# --- growth of every series at once ------------------------------------------------------------
all_body='{"from":"2025-01","to":"2025-09","limit":100}'
ours_all=$("$BIN/concord" bench --port "$TRADE_PORT" --certs "$WORK/certs" --identity gateway -c 1 -P 1 --seconds 5 --warmup 1 \
  --verb trade.growth.all --body "$all_body" | sed -E 's/.*p50: ([0-9.]+) ms.*/\1/')
series=$("$BIN/concord" call --port "$TRADE_PORT" --certs "$WORK/certs" --identity gateway trade.growth.all "$all_body" \
  | python3 -c "import json, sys; a = json.load(sys.stdin); print(a['series'], a['complete'])")
printf '\n%-46s %10s\n' "growth of every series (${series% *} series), top 100" "p50 ms"
printf '%-46s %10s\n' "trade.growth.all through the protocol (TLS)" "$ours_all"
if [[ -n "$duck" ]]; then
  duck_all=$("$duck" - "$WORK/reference.duckdb" <<'PY'
import duckdb, statistics, sys, time
db = duckdb.connect(sys.argv[1], read_only=True); times = []
q = """WITH s AS (SELECT reporterISO, partnerISO, flowCode,
         SUM(CASE WHEN period BETWEEN 202501 AND 202509 THEN primaryValue END) AS cur,
         SUM(CASE WHEN period BETWEEN 202401 AND 202409 THEN primaryValue END) AS base
       FROM t WHERE cmdCode = 'TOTAL' AND period BETWEEN 202401 AND 202509 GROUP BY ALL)
     SELECT *, (cur - base) * 100.0 / base AS change FROM s ORDER BY change DESC LIMIT 100"""
for _ in range(20):
    s = time.perf_counter(); db.execute(q).fetchall(); times.append(time.perf_counter() - s)
print(f"{statistics.median(times) * 1000:.3f}")
PY
)
  printf '%-46s %10s\n' "DuckDB over the table (in process)" "$duck_all"
  printf '  ours / DuckDB: %s (bar: no slower, at most 1)\n' "$(awk -v a="$ours_all" -v b="$duck_all" 'BEGIN { printf "%.3f", a / b }')"
fi
printf '  service resident memory now: %.0f MB\n' "$(awk '/^VmRSS:/ { print $2 / 1024 }' "/proc/$TRADE_PID/status")"

# --- import on PostgreSQL -----------------------------------------------------------------------
if [[ -n "${CONCORD_TEST_POSTGRES:-}" ]]; then
  PG_TRADE_PORT=$((TRADE_PORT + 10))
  start_service trade-pg "$PG_TRADE_PORT" trade-metrics --threads 1 \
    --database "$CONCORD_TEST_POSTGRES?schema=bench_trade" --peer "participants=127.0.0.1:$PARTICIPANTS_PORT"
  PG_TRADE_PID=$STARTED
  start=$(now_ms)
  "$BIN/concord" trade import "$WORK/trade.csv" --published 2026-01-01 --port "$PG_TRADE_PORT" --certs "$WORK/certs" --identity gateway \
    >"$WORK/import-pg.out" 2>"$WORK/import-pg.err" || { cat "$WORK/import-pg.err" >&2; exit 1; }
  ours_pg_ms=$(( $(now_ms) - start ))
  pg_service_peak=$(peak_kb "$PG_TRADE_PID")
  start=$(now_ms)
  psql -q "$CONCORD_TEST_POSTGRES" -v ON_ERROR_STOP=1 <<SQL
CREATE SCHEMA bench_reference;
CREATE TABLE bench_reference.t (freqCode TEXT, refYear INT, refMonth INT, period TEXT, reporterCode INT, reporterISO TEXT, partnerCode INT,
  partnerISO TEXT, partner2Code INT, flowCode TEXT, classificationCode TEXT, cmdCode TEXT, customsCode TEXT, motCode INT,
  primaryValue DOUBLE PRECISION, netWgt DOUBLE PRECISION, qtyUnitAbbr TEXT, isAggregate TEXT, synthetic TEXT);
CREATE INDEX t_series ON bench_reference.t (reporterISO, partnerISO, flowCode, cmdCode, period, primaryValue);
\\copy bench_reference.t FROM '$WORK/trade.csv' WITH (FORMAT csv, HEADER true)
SQL
  psql_ms=$(( $(now_ms) - start ))
  printf '\n%-46s %12s %10s\n' "import of $ROWS rows on PostgreSQL" "rows/s" "seconds"
  printf '%-46s %12s %10s\n' "concord trade import (TLS, service on PostgreSQL)" "$(rate "$ROWS" "$ours_pg_ms")" "$(awk -v m="$ours_pg_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
  printf '%-46s %12s %10s\n' "psql \\copy into an indexed table" "$(rate "$ROWS" "$psql_ms")" "$(awk -v m="$psql_ms" 'BEGIN { printf "%.1f", m / 1000 }')"
  printf '  ours / psql: %s (bar: at least 0.5)\n' "$(awk -v a="$psql_ms" -v b="$ours_pg_ms" 'BEGIN { printf "%.3f", a / b }')"
  printf '  peak resident memory: service %.0f MB\n' "$(awk -v k="$pg_service_peak" 'BEGIN { print k / 1024 }')"
fi
