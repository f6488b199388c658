#!/usr/bin/env python3
"""The load of bench/worklist.sh: files the requests, then runs the readers and the observers and prints the figures.

Usage: worklist_client.py BASE_URL TOKENS_JSON REQUESTS READERS OBSERVERS SECONDS STUDY_UID
"""
import json
import random
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests

base, tokens_path, n_requests, n_readers, n_observers, seconds, study = sys.argv[1:8]
n_requests, n_readers, n_observers, seconds = int(n_requests), int(n_readers), int(n_observers), float(seconds)
tokens = json.load(open(tokens_path))


def session(token):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    return s


# 1. The requests, all on the site's one study.
site = session(tokens["site"])
started = time.monotonic()


def file(i):
    body = {"priority": random.choice(["stat", "urgent", "routine", "routine"]), "question": f"Case {i}?",
            "studies": [study], "modality": random.choice(["CT", "MR", "DX", "US"]), "bodyPart": "CHEST"}
    r = site.post(base + "/api/consultations", json=body, timeout=60)
    r.raise_for_status()


with ThreadPoolExecutor(8) as pool:
    list(pool.map(file, range(n_requests)))
print(f"filed {n_requests} requests in {time.monotonic() - started:.1f} s")

# 2. Observers: each holds the event stream and notes when it saw each claim.
sent = {}
seen = []
lock = threading.Lock()
stop = threading.Event()


def observe(token):
    with session(token).get(base + "/api/worklist/events", stream=True, timeout=seconds + 30) as r:
        for raw in r.iter_lines():
            if stop.is_set():
                return
            line = raw.decode()
            if line.startswith("data:"):
                change = json.loads(line[5:])
                if change["kind"] == "claimed":
                    now = time.monotonic()
                    with lock:
                        if change["workItemID"] in sent:
                            # The latest claim of the item: items are claimed, released and claimed again.
                            seen.append(now - sent[change["workItemID"]])


observers = [threading.Thread(target=observe, args=(tokens["readers"][i % len(tokens["readers"])],), daemon=True)
             for i in range(n_observers)]
for t in observers:
    t.start()
time.sleep(1)

queries = []
claims = []


def reader(index):
    s = session(tokens["readers"][index // 5 % len(tokens["readers"])])
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        t0 = time.monotonic()
        r = s.get(base + "/api/worklist?limit=50&status=SCHEDULED", timeout=30)
        elapsed = time.monotonic() - t0
        r.raise_for_status()
        with lock:
            queries.append(elapsed)
        entries = r.json()["entries"]
        if entries and random.random() < 0.2:
            item = entries[random.randrange(min(10, len(entries)))]["workItem"]["id"]
            with lock:
                sent[item] = time.monotonic()
            c = s.post(base + f"/api/worklist/{item}/claim", timeout=30)
            claims.append(c.status_code)
            if c.status_code == 200:
                time.sleep(random.uniform(0.2, 1.0))
                s.post(base + f"/api/worklist/{item}/release", timeout=30)
        time.sleep(random.uniform(0.05, 0.25))


with ThreadPoolExecutor(n_readers) as pool:
    list(pool.map(reader, range(n_readers)))
stop.set()


def quantile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))] if values else float("nan")


print(f"worklist queries: {len(queries)}, median {statistics.median(queries) * 1000:.1f} ms, p99 {quantile(queries, 0.99) * 1000:.1f} ms")
print(f"claims: {len(claims)} ({claims.count(200)} won, {claims.count(409)} conflicts)")
print(f"claim seen by observers: {len(seen)} events, median {statistics.median(seen) * 1000:.1f} ms, "
      f"p99 {quantile(seen, 0.99) * 1000:.1f} ms")
