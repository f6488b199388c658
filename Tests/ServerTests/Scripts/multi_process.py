"""Drives two `atrium serve` processes (A and B) that share one PostgreSQL and one bucket, and checks that what one
process does the other sees: a session and a token from A used on B, a claim on A in B's worklist event stream (SSE),
a UPS subscription taken on A and a claim on A in B's UPS event channel (WebSocket), a claim race over A and B (one
wins), and rate limits (bad sign-ins, bad tokens) counted over both. Expected values come from the HTTP answers and the
standards, never from Atrium's own code.

usage: multi_process.py FIXTURE.json   (baseA, baseB, people {name: {username, password, token}}, items [...], limits)
Prints `step:` lines, a JSON summary on the last line; exits 1 with `FAIL:` on the first failed check.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

try:
    import websocket  # websocket-client
except ImportError:
    print("FAIL: websocket-client is missing: pip install websocket-client (scripts/install-deps)", flush=True)
    sys.exit(1)

from pydicom.dataset import Dataset

fixture = json.load(open(sys.argv[1]))
A, B = fixture["baseA"], fixture["baseB"]
people = fixture["people"]
items = fixture["items"]
summary = {}


def fail(message):
    print("FAIL:", message, flush=True)
    sys.exit(1)


def step(name):
    print("step:", name, flush=True)


def check(condition, message):
    if not condition:
        fail(message)


def call(base, method, path, body=None, token=None, headers=None, content_type="application/json"):
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = "Bearer " + token
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        all_headers["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=all_headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read().decode(errors="replace")
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode(errors="replace")


def session_cookie(headers):
    for name, value in headers.items():
        if name.lower() == "set-cookie" and value.startswith("atrium_session="):
            return value.split(";", 1)[0]
    return None


step("a browser session made on A is valid on B, and signing out on B ends it on A")
reader = people["reader"]
status, headers, text = call(A, "POST", "/api/session", {"username": reader["username"], "password": reader["password"]})
check(status == 200, f"sign-in on A: {status} {text[:200]}")
cookie = session_cookie(headers)
check(cookie is not None, f"no session cookie from A: {headers}")
csrf = json.loads(text).get("csrfToken")
status, _, text = call(B, "GET", "/api/me", headers={"Cookie": cookie})
check(status == 200 and json.loads(text).get("username") == reader["username"], f"A's session on B: {status} {text[:200]}")
status, _, text = call(B, "GET", "/api/me", token=reader["token"])
check(status == 200 and json.loads(text).get("username") == reader["username"], f"a token on B: {status} {text[:200]}")
status, _, text = call(B, "DELETE", "/api/session", headers={"Cookie": cookie, "X-CSRF-Token": csrf or ""})
check(status == 204, f"sign-out on B: {status} {text[:200]}")
status, _, _ = call(A, "GET", "/api/me", headers={"Cookie": cookie})
check(status == 401, f"the session signed out on B still works on A: {status}")

step("a claim on A reaches B's worklist event stream (SSE)")
events = []
events_lock = threading.Lock()
connected = threading.Event()


def read_events():
    request = urllib.request.Request(B + "/api/worklist/events", headers={"Authorization": "Bearer " + reader["token"]})
    with urllib.request.urlopen(request, timeout=60) as response:
        data = []
        for raw in response:
            line = raw.decode().rstrip("\n")
            if line == ": connected":
                connected.set()
            if line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and data:
                with events_lock:
                    events.append(json.loads("".join(data)))
                data = []


threading.Thread(target=read_events, daemon=True).start()
check(connected.wait(30), "B's event stream did not open")
first = items[0]
status, _, text = call(A, "POST", f"/api/worklist/{first['itemID']}/claim", {}, token=reader["token"])
check(status == 200, f"claim on A: {status} {text[:200]}")
deadline = time.time() + 20
seen = None
while time.time() < deadline and seen is None:
    with events_lock:
        seen = next((e for e in events if e.get("kind") == "claimed" and e.get("workItemID") == first["itemID"]), None)
    time.sleep(0.05)
with events_lock:
    check(seen is not None, f"B's stream did not carry A's claim of {first['itemID']}: {events}")
    check(seen["actor"] == reader["username"], f"the claim's actor: {seen}")
    summary["sseEventsOnB"] = len(events)

step("a UPS subscription taken on A, and a claim on A, reach B's UPS event channel (WebSocket)")
received = []
received_lock = threading.Lock()
ws = websocket.create_connection(
    B.replace("http://", "ws://") + "/dicom-web/ws/subscribers/MP_WS", header=["Authorization: Bearer " + reader["token"]], timeout=30)


def read_channel():
    while True:
        try:
            message = ws.recv()
        except Exception:
            return
        if not message:
            return
        with received_lock:
            received.append(Dataset.from_json(json.loads(message)))


threading.Thread(target=read_channel, daemon=True).start()


def wait_report(predicate, what, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        with received_lock:
            for report in received:
                if predicate(report):
                    return report
        time.sleep(0.05)
    with received_lock:
        seen = [(r.get("EventTypeID"), r.get("AffectedSOPInstanceUID"), r.get("ProcedureStepState")) for r in received]
    fail(f"B's channel got no {what}; it got {seen}")


third = items[2]
time.sleep(0.5)  # the channel is registered on B before A sends the initial reports
status, _, text = call(A, "POST", f"/dicom-web/workitems/{third['uid']}/subscribers/MP_WS", token=reader["token"],
                       content_type="application/dicom+json")
check(status == 201, f"subscribe on A: {status} {text[:200]}")
# PS3.4 CC.2.4.2: a State Report (Event Type ID 1) of the item's current state on subscribing.
wait_report(lambda r: r.EventTypeID == 1 and r.AffectedSOPInstanceUID == third["uid"] and r.get("ProcedureStepState") == "SCHEDULED",
            "initial State Report (SCHEDULED)")
status, _, text = call(A, "POST", f"/api/worklist/{third['itemID']}/claim", {}, token=reader["token"])
check(status == 200, f"claim of the UPS item on A: {status} {text[:200]}")
wait_report(lambda r: r.EventTypeID == 1 and r.AffectedSOPInstanceUID == third["uid"] and r.get("ProcedureStepState") == "IN PROGRESS",
            "State Report IN PROGRESS after A's claim")
# Event Type ID 5: UPS Assigned.
wait_report(lambda r: r.EventTypeID == 5 and r.AffectedSOPInstanceUID == third["uid"], "UPS Assigned after A's claim")
with received_lock:
    summary["upsReportsOnB"] = len(received)
ws.close()

step("two readers claim one item at once, one on A and one on B: one wins, the other gets 409")
second = items[1]
barrier = threading.Barrier(2)
answers = {}


def claim(name, base):
    barrier.wait()
    answers[name] = call(base, "POST", f"/api/worklist/{second['itemID']}/claim", {}, token=people[name]["token"])[0]


threads = [threading.Thread(target=claim, args=("reader", A)), threading.Thread(target=claim, args=("reader2", B))]
for t in threads:
    t.start()
for t in threads:
    t.join()
check(sorted(answers.values()) == [200, 409], f"claim race answers {answers}")
winner = next(name for name, code in answers.items() if code == 200)
summary["claimRaceWinner"] = people[winner]["username"]
for base in (A, B):
    status, _, text = call(base, "POST", f"/api/worklist/{second['itemID']}/claim", {},
                           token=people["reader2" if winner == "reader" else "reader"]["token"])
    check(status == 409, f"the loser claims again on {base}: {status}")

step("bad sign-ins split over A and B meet one limit (a client named by X-Forwarded-For, as behind the proxy)")
limit = fixture["signInLimit"]
codes = []
for n in range(limit + 4):
    base = A if n % 2 == 0 else B
    status, headers, _ = call(base, "POST", "/api/session", {"username": "nobody-mp", "password": "wrong password"},
                              headers={"X-Forwarded-For": "198.51.100.7"})
    codes.append(status)
    if status == 429:
        check(int(headers.get("Retry-After", "0")) >= 1, f"Retry-After {headers}")
check(codes[:limit] == [401] * limit and codes[limit:] == [429] * 4, f"sign-in answers over A and B: {codes}")
summary["signInAnswers"] = codes
# The right password is refused too while the window lasts, on both.
for base in (A, B):
    status, _, _ = call(base, "POST", "/api/session", {"username": reader["username"], "password": reader["password"]},
                        headers={"X-Forwarded-For": "198.51.100.7"})
    check(status == 429, f"the right password within the limit's window on {base}: {status}")

step("bad bearer tokens split over A and B meet one limit")
limit = fixture["tokenLimit"]
codes = []
for n in range(limit + 4):
    base = A if n % 2 == 0 else B
    status, _, _ = call(base, "GET", "/api/me", token=f"atr_wrong{n}", headers={"X-Forwarded-For": "198.51.100.8"})
    codes.append(status)
check(codes[:limit] == [401] * limit and codes[limit:] == [429] * 4, f"bad token answers over A and B: {codes}")
summary["tokenAnswers"] = codes

print(json.dumps(summary), flush=True)
