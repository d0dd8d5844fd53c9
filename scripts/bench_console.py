#!/usr/bin/env python3
"""The measurements of scripts/bench-console.sh (which starts the processes).

Pages through the console (HTTPS, signed in, keep-alive connections): the overview and an
action's page, at c=1 and c=20. Beside them, at c=1 on one connection each, every gateway call
the overview makes, as raw protocol lines: the page's p50 should be no more than the slowest
call's p50 plus 3 ms. And the console's resident memory, idle and after the load.

Where each page's time goes: the processor time each process (the console, and the gateway
and services `concord up` started) spent per page at c=1.

Usage: bench_console.py CONSOLE_PORT GATEWAY_PORT CERTS TOKEN PASSWORD CONSOLE_PID REQUESTS UP_PID
"""
import os
import http.client
import json
import re
import socket
import ssl
import statistics
import sys
import threading
import time
import urllib.parse

console_port, gateway_port, certs, token, password, console_pid, requests, up_pid = (
    int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6]), int(sys.argv[7]), int(sys.argv[8]))


def resident_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def processes():
    """The console and every process under `concord up`, by name."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {console_pid}, [up_pid]
    while frontier:
        pid = frontier.pop()
        found.add(pid)
        frontier += [child for child, parent in parents.items() if parent == pid and child not in found]
    return {pid: open(f"/proc/{pid}/comm").read().strip() for pid in found if os.path.exists(f"/proc/{pid}/comm")}


def cpu_seconds(pid):
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def browser_context():
    context = ssl.create_default_context(cafile=f"{certs}/ca.pem")
    context.check_hostname = False
    return context


def connection():
    return http.client.HTTPSConnection("127.0.0.1", console_port, context=browser_context())


def sign_in():
    c = connection()
    c.request("GET", "/sign-in")
    answer = c.getresponse()
    page = answer.read().decode()
    cookies = {}
    for header, value in answer.getheaders():
        if header.lower() == "set-cookie":
            name, rest = value.split("=", 1)
            cookies[name] = rest.split(";", 1)[0]
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf": csrf, "name": "bench", "password": password})
    c.request("POST", "/sign-in", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    answer = c.getresponse()
    answer.read()
    for header, value in answer.getheaders():
        if header.lower() == "set-cookie" and value.startswith("concord_session="):
            return value.split(";", 1)[0]
    sys.exit("bench_console.py: the bench user could not sign in")


def pages(path, cookie, count, clients):
    latencies = []
    lock = threading.Lock()

    def run(share):
        c = connection()
        mine = []
        for _ in range(share):
            start = time.perf_counter()
            c.request("GET", path, headers={"Cookie": cookie})
            answer = c.getresponse()
            answer.read()
            if answer.status != 200:
                sys.exit(f"bench_console.py: {path} answered {answer.status}")
            mine.append(time.perf_counter() - start)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=run, args=(count // clients,)) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    return latencies, len(latencies) / elapsed


class Line:
    def __init__(self):
        context = ssl.create_default_context(cafile=f"{certs}/ca.pem")
        context.load_cert_chain(f"{certs}/client.pem", f"{certs}/client-key.pem")
        context.set_alpn_protocols(["concord/1"])
        context.check_hostname = False
        self.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", gateway_port)))
        self.buffer = b""

    def call(self, verb, body):
        self.sock.sendall(f"1 {verb} auth={token} {body}\n".encode())
        while True:
            while b"\n" not in self.buffer:
                self.buffer += self.sock.recv(65536)
            line, self.buffer = self.buffer.split(b"\n", 1)
            if line.startswith(b"1 "):
                if not line.startswith(b"1 ok"):
                    sys.exit(f"bench_console.py: {verb} answered {line[:200]!r}")
                return line


def calls(verb, body, count):
    line = Line()
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        line.call(verb, body)
        latencies.append(time.perf_counter() - start)
    return latencies


def p(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * q))] * 1000


idle = resident_mb(console_pid)
cookie = sign_in()
action = json.loads(Line().call("agreements.actions.list", '{"limit":1}').split(b" ", 2)[2])["items"][0]["id"]
instrument = json.loads(Line().call("agreements.instruments.list", '{"limit":1}').split(b" ", 2)[2])["items"][0]["id"]
latest = max(item["number"] for item in json.loads(Line().call("participants.sessions.list", '{"limit":500}').split(b" ", 2)[2])["items"])
instrument_calls = [
    ("agreements.instruments.get", json.dumps({"id": instrument})),
    ("agreements.actions.list", json.dumps({"instrument": instrument, "limit": 500})),
    ("agreements.actions.overdue", json.dumps({"instrument": instrument, "limit": 500})),
    ("agreements.relations.list", json.dumps({"instrument": instrument, "limit": 500})),
    ("agreements.indicators.list", json.dumps({"instrument": instrument, "limit": 500})),
]
overview_calls = [
    ("trade.headline", json.dumps({"session": latest})),
    ("agreements.actions.overdue", '{"limit":500}'),
    ("agreements.obstacles.list", '{"limit":500}'),
    ("participants.sessions.list", '{"limit":500}'),
    ("agreements.actions.list", '{"limit":500}'),
]
# The latest changes come from the console's follower of `watch`; the overview asks each
# service for them only while the follower is not following (measured, not in the bar).
fallback_calls = [
    ("agreements.changes", '{"last":10}'),
    ("participants.changes", '{"last":10}'),
    ("trade.changes", '{"last":10}'),
]
print(f"{'gateway call (c=1), ' + str(requests) + ' each':58} {'p50 ms':>8} {'p99 ms':>8}")
measured = {}
for verb, body in overview_calls + instrument_calls + fallback_calls:
    if (verb, body) in measured:
        continue
    values = calls(verb, body, requests)
    measured[(verb, body)] = p(values, 0.5)
    mark = "  (only while the follower is down)" if (verb, body) in fallback_calls else ""
    print(f"{verb + ' ' + body:58} {p(values, 0.5):8.2f} {p(values, 0.99):8.2f}{mark}")
slowest = max(measured[call] for call in overview_calls)
slowest_instrument = max(measured[call] for call in instrument_calls)
print()
print(f"{'console page':40} {'clients':>7} {'p50 ms':>8} {'p99 ms':>8} {'pages/s':>8}")
results = {}
spent = {}
watched = processes()
for path in ["/", f"/agreements/{instrument}", f"/actions/{action}"]:
    pages(path, cookie, 20, 1)  # warm
    for clients in [1, 20]:
        before = {pid: cpu_seconds(pid) for pid in watched}
        values, rate = pages(path, cookie, requests, clients)
        if clients == 1:
            spent[path] = {name: (cpu_seconds(pid) - before[pid]) * 1000 / len(values) for pid, name in watched.items()}
        results[(path, clients)] = p(values, 0.5)
        print(f"{path:40} {clients:7} {p(values, 0.5):8.2f} {p(values, 0.99):8.2f} {rate:8.0f}")
print()
names = sorted({name for shares in spent.values() for name in shares})
print(f"{'processor ms a page (c=1)':40} " + " ".join(f"{name[:12]:>12}" for name in names))
for path, shares in spent.items():
    print(f"{path:40} " + " ".join(f"{sum(v for n, v in shares.items() if n == name):12.2f}" for name in names))
print()
overview = results[("/", 1)]
print(f"overview p50 at c=1: {overview:.2f} ms against the slowest call it makes, {slowest:.2f} ms, plus 3 ms = {slowest + 3:.2f} ms: "
      + ("met" if overview <= slowest + 3 else "NOT met"))
page = results[(f"/agreements/{instrument}", 1)]
print(f"instrument page p50 at c=1: {page:.2f} ms against the slowest call it makes, {slowest_instrument:.2f} ms, plus 3 ms = {slowest_instrument + 3:.2f} ms: "
      + ("met" if page <= slowest_instrument + 3 else "NOT met"))
print(f"console RSS: {idle:.1f} MB idle (bar: under 60 MB), {resident_mb(console_pid):.1f} MB after the load")
