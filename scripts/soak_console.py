#!/usr/bin/env python3
"""The soak's browser-like load on the console (scripts/soak): one person signed in, asking the
overview and an instrument's page in turn over one HTTPS keep-alive connection, for SECONDS, and
counting by phase (read from PHASE_FILE, as the soak-load does) the pages answered, the answers
other than 200, and the pages that said a part could not be asked.

    soak_console.py HOST PORT CA_FILE PASSWORD PHASE_FILE SECONDS

Prints one line per phase and exits 1 if any answer was not 200 (the console answers with a page
even while the gateway is away: it names the part it cannot ask), or if a page in a steady phase
said a part could not be asked.
"""
import http.client
import re
import ssl
import sys
import time
import urllib.parse
from collections import defaultdict

host, port, ca, password, phase_file, seconds = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6])
context = ssl.create_default_context(cafile=ca)
cookies = {}


def connect():
    return http.client.HTTPSConnection(host, port, context=context, timeout=10)


def ask(connection, method, path, body=None):
    headers = {"Accept-Language": "en", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection.request(method, path, body=body, headers=headers)
    answer = connection.getresponse()
    text = answer.read().decode("utf-8", "replace")
    for header, value in answer.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            cookies[name] = rest.split(";", 1)[0]
    return answer.status, text


connection = connect()
ask(connection, "GET", "/sign-in")
status, _ = ask(connection, "POST", "/sign-in", urllib.parse.urlencode({"csrf": cookies.get("concord_csrf", ""), "name": "soak", "password": password}))
if status != 303:
    sys.exit(f"soak_console.py: signing in answered {status}")

counts = defaultdict(lambda: {"pages": 0, "not200": 0, "unavailable": 0, "errors": 0})
paths = ["/", "/agreements/permanent-secretariat", "/trade"]
end = time.monotonic() + seconds
turn = 0
while time.monotonic() < end:
    try:
        phase = open(phase_file).read().strip() or "steady"
    except OSError:
        phase = "steady"
    path = paths[turn % len(paths)]
    turn += 1
    try:
        status, text = ask(connection, "GET", path)
    except (OSError, http.client.HTTPException):
        # The console itself stays up through every fault: a failed connection is an error.
        counts[phase]["errors"] += 1
        connection.close()
        connection = connect()
        time.sleep(0.1)
        continue
    counts[phase]["pages"] += 1
    if status != 200:
        counts[phase]["not200"] += 1
    elif re.search(r'class="problem" role="status"', text):
        counts[phase]["unavailable"] += 1
    time.sleep(0.05)

bad = False
for phase, c in sorted(counts.items()):
    print(f"console {phase:16} pages {c['pages']:6}  not 200: {c['not200']}  connection errors: {c['errors']}  a part unavailable: {c['unavailable']}")
    if c["not200"] or c["errors"] or (phase == "steady" and c["unavailable"]):
        bad = True
sys.exit(1 if bad else 0)
