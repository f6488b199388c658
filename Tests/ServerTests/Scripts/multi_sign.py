#!/usr/bin/env python3
"""Signs consultation reports through two `atrium serve` processes at once (MultiProcessTests "report documents").

Usage: multi_sign.py BASE_A BASE_B TOKEN PASSWORD ITEM_ID...

Each item is claimed through one process, its report drafted and signed through the other; the signatures are sent
from several threads at once, so that both processes' sign routes and maintenance rounds store report documents at the
same time. Prints one JSON line: {"signed": [report ids], "statuses": {...}}.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

import requests

base_a, base_b, token, password = sys.argv[1:5]
items = [int(i) for i in sys.argv[5:]]
headers = {"Authorization": "Bearer " + token}


def call(base, method, path, body=None):
    r = requests.request(method, base + path, json=body, headers=headers, timeout=120)
    if r.status_code != 200:
        raise SystemExit(f"{method} {base}{path}: {r.status_code} {r.text[:300]}")
    return r.json()


def prepare(n_item):
    n, item = n_item
    first, second = (base_a, base_b) if n % 2 == 0 else (base_b, base_a)
    claimed = call(first, "POST", f"/api/worklist/{item}/claim")
    report = call(second, "GET", f"/api/reports/{claimed['reportID']}")
    sections = report["sections"]
    for s in sections:
        s["text"] = f"Report {n}: no acute abnormality." if s["kind"] == "impression" else f"Findings of case {n}."
    call(first, "PUT", f"/api/reports/{claimed['reportID']}/draft", {"sections": sections})
    return second, claimed["reportID"], sections


def sign(prepared):
    base, report_id, sections = prepared
    signed = call(base, "POST", f"/api/reports/{report_id}/sign", {"sections": sections, "password": password})
    return report_id, signed["status"]


prepared = [prepare(p) for p in enumerate(items)]
with ThreadPoolExecutor(len(prepared)) as pool:
    results = list(pool.map(sign, prepared))
statuses = {}
for _, status in results:
    statuses[status] = statuses.get(status, 0) + 1
print(json.dumps({"signed": [r for r, _ in results], "statuses": statuses}))
