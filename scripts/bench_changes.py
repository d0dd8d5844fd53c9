#!/usr/bin/env python3
"""The measurements of scripts/bench-changes.sh (which starts the processes).

1. PostgreSQL's own LISTEN/NOTIFY: one connection LISTENs; another writes a row and sends NOTIFY
   in one transaction. Commit to listener: from the transaction's commit time (PostgreSQL's own
   record, track_commit_timestamp) to the notification's arrival, on the same clock (the
   machine's real-time clock). Also from before the NOTIFY is sent, for reference.
2. Ours: a watch through the gateway on participants' officials; a create sent on another
   connection. Commit to watcher: from the commit time of the create's audit entry (the same
   PostgreSQL record) to the watch event's arrival. Also from before the create is sent, which
   includes the write itself (checks, the transaction, its commit).
3. WATCHERS idle watchers (kinds no write touches) held through the gateway while a writer
   creates officials at RATE a second for SECONDS: the gateway's resident memory and CPU.

Usage: bench_changes.py GATEWAY_PORT CERTS POSTGRES_URL GATEWAY_PID SAMPLES WATCHERS RATE SECONDS
"""
import asyncio
import json
import os
import socket
import ssl
import statistics
import sys
import time

import psycopg

port, certs, pg_url, gateway_pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
samples, watchers, rate, seconds = (int(x) for x in sys.argv[5:9])


def context():
    ctx = ssl.create_default_context(cafile=f"{certs}/ca.pem")
    ctx.load_cert_chain(f"{certs}/client.pem", f"{certs}/client-key.pem")
    ctx.set_alpn_protocols(["concord/1"])
    ctx.check_hostname = False
    return ctx


def percentiles(values):
    values = sorted(values)
    return values[len(values) // 2] * 1000, values[min(len(values) - 1, int(len(values) * 0.99))] * 1000


def notify_latency():
    listener = psycopg.connect(pg_url, autocommit=True)
    sender = psycopg.connect(pg_url, autocommit=True)
    sender.execute("CREATE TABLE IF NOT EXISTS bench_notes (id BIGINT PRIMARY KEY)")
    sender.execute("TRUNCATE bench_notes")
    listener.execute("LISTEN concord_bench")
    sent, committed = [], []
    for i in range(samples):
        start = time.perf_counter()
        with sender.transaction():
            sender.execute("INSERT INTO bench_notes (id) VALUES (%s)", (i,))
            sender.execute(f"NOTIFY concord_bench, '{i}'")
        for _ in listener.notifies(timeout=5, stop_after=1):
            arrived, wall = time.perf_counter(), time.time()
        sent.append(arrived - start)
        stamp = sender.execute("SELECT pg_xact_commit_timestamp(xmin) FROM bench_notes WHERE id = %s", (i,)).fetchone()[0]
        committed.append(wall - stamp.timestamp())
    return sent, committed


def commit_times(positions):
    """The commit time of each audit entry, by position (seconds since the epoch)."""
    with psycopg.connect(pg_url, autocommit=True) as connection:
        rows = connection.execute(
            "SELECT position, pg_xact_commit_timestamp(xmin) FROM bench_changes.audit WHERE position = ANY(%s)", (positions,)
        ).fetchall()
    return {position: stamp.timestamp() for position, stamp in rows}


class Line:
    def __init__(self):
        self.sock = context().wrap_socket(socket.create_connection(("127.0.0.1", port)))
        self.buffer = b""

    def send(self, text):
        self.sock.sendall(text.encode() + b"\n")

    def read(self):
        while b"\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("the gateway closed the connection")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()


def watch_latency(run):
    watcher, writer = Line(), Line()
    watcher.send('w watch {"services":["participants"],"kinds":["officials"]}')
    while not watcher.read().startswith('w more {"cursor"'):
        pass
    sent, arrivals = [], {}
    for i in range(samples):
        key = f"bench-{run}-{i}"
        body = {"id": key, "name": f"Bench {i}", "title": "Delegate", "organisation": "Bench", "country": "IR"}
        start = time.perf_counter()
        writer.send(f"c{i} participants.officials.create {json.dumps(body)}")
        while True:
            line = watcher.read()
            if line.startswith("w more ") and f'"key":"{key}"' in line:
                arrived, wall = time.perf_counter(), time.time()
                sent.append(arrived - start)
                position = int(json.loads(line[len("w more "):])["change"]["cursor"].rsplit(":", 1)[1])
                arrivals[position] = wall
                break
        writer.read()  # the create's answer
    stamps = commit_times(list(arrivals))
    return sent, [arrivals[p] - stamps[p] for p in arrivals]


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def resident_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def many_watchers(run):
    opened = []
    ctx = context()
    for i in range(watchers):
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=None)
        writer.write(b'w watch {"services":["participants"],"kinds":["partnerships"]}\n')
        opened.append((reader, writer))
        if i % 100 == 99:
            await asyncio.sleep(0.05)

    async def drain(reader):
        try:
            while await reader.readline():
                pass
        except Exception:
            pass

    drains = [asyncio.create_task(drain(r)) for r, _ in opened]
    await asyncio.sleep(2)
    rss_before, cpu_before = resident_mb(gateway_pid), cpu_seconds(gateway_pid)
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname=None)
    answered = 0

    async def answers():
        nonlocal answered
        while await reader.readline():
            answered += 1

    counting = asyncio.create_task(answers())
    start = time.perf_counter()
    sent = 0
    peak = rss_before
    while time.perf_counter() - start < seconds:
        due = int((time.perf_counter() - start) * rate)
        while sent < due:
            body = {"id": f"load-{run}-{sent}", "name": "Load", "title": "Delegate", "organisation": "Bench", "country": "RU"}
            writer.write(f"l{sent} participants.officials.create {json.dumps(body)}\n".encode())
            sent += 1
        await writer.drain()
        peak = max(peak, resident_mb(gateway_pid))
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - start
    await asyncio.sleep(1)
    cpu = cpu_seconds(gateway_pid) - cpu_before
    peak = max(peak, resident_mb(gateway_pid))
    counting.cancel()
    for task in drains:
        task.cancel()
    for _, w in opened:
        w.close()
    writer.close()
    return rss_before, peak, cpu / (elapsed + 1), sent / elapsed, answered / elapsed


with psycopg.connect(pg_url, autocommit=True) as check:
    if check.execute("SHOW track_commit_timestamp").fetchone()[0] != "on":
        sys.exit("bench_changes.py: the cluster must run with track_commit_timestamp=on (bench-changes.sh starts one so)")
run = str(int(time.time()))
notify_sent, notify_committed = notify_latency()
ours_sent, ours_committed = watch_latency(run)
rows = [
    ("PostgreSQL LISTEN/NOTIFY, from commit", notify_committed),
    ("concord watch via the gateway, from commit", ours_committed),
    ("PostgreSQL LISTEN/NOTIFY, from NOTIFY sent", notify_sent),
    ("concord watch via the gateway, from write sent", ours_sent),
]
print(f"{'latency to the listener, ' + str(samples) + ' samples':48} {'p50 ms':>9} {'p99 ms':>9}")
for label, values in rows:
    p50, p99 = percentiles(values)
    print(f"{label:48} {p50:9.3f} {p99:9.3f}")
n50, _ = percentiles(notify_committed)
o50, _ = percentiles(ours_committed)
print(f"ratio of p50s from commit (ours / NOTIFY): {o50 / n50:.2f} (bar: at most 2)")
rss_before, peak, cpu, write_rate, answered_rate = asyncio.run(many_watchers(run))
print()
print(f"{watchers} watchers held through the gateway while writes flow at {write_rate:.0f}/s (asked {rate}/s, answered {answered_rate:.0f}/s):")
print(f"  gateway RSS {rss_before:.1f} MB with the watchers idle, {peak:.1f} MB at most under writes (bar: under 150 MB)")
print(f"  gateway CPU {cpu * 100:.0f}% of a core meanwhile")
