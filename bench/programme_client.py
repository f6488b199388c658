#!/usr/bin/env python3
"""The HTTP half of bench/programme.sh: times every indicator page of the programme dashboard.

Usage: programme_client.py BASE TOKEN REQUESTS
One first request (the facts read cold), then REQUESTS GETs of each page in turn (round robin, so a change of load hits
every page alike) on one keep-alive connection; prints one JSON line per page with p50, p95 and max in ms, and the
first request's time.
"""
import http.client
import json
import sys
import time
import urllib.parse

base, token, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urllib.parse.urlparse(base)
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
headers = {"Authorization": f"Bearer {token}", "Accept-Language": "zh-CN"}
year = 2026


def get(path):
    began = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = (time.perf_counter() - began) * 1000
    if response.status != 200:
        raise SystemExit(f"{path}: HTTP {response.status} {body[:300]!r}")
    return elapsed, body


pages = {
    "dashboard-year": lambda i: f"/programme?year={year}",
    "dashboard-month": lambda i: f"/programme?year={year}&month={1 + i % 12}",
    "dashboard-institution": lambda i: f"/programme?year={year}&institution=SITE-{1 + i % 30:02d}",
    "report": lambda i: f"/programme/report?year={year}",
    "api-json": lambda i: f"/api/programme/dashboard?year={year}",
    "csv": lambda i: f"/api/programme/dashboard.csv?year={year}",
    "contributions-csv": lambda i: f"/api/programme/dashboard.csv?year={year}&table=contributions",
    "xlsx": lambda i: f"/api/programme/dashboard.xlsx?year={year}",
}
first, _ = get(pages["dashboard-year"](0))
times = {name: [] for name in pages}
for i in range(count):
    for name, path in pages.items():
        times[name].append(get(path(i))[0])


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-p * len(ordered) // 100) - 1))]


print(json.dumps({"first_request_ms": round(first, 1)}))
for name, values in times.items():
    print(json.dumps({"page": name, "requests": len(values), "p50_ms": round(percentile(values, 50), 1),
                      "p95_ms": round(percentile(values, 95), 1), "max_ms": round(max(values), 1)}))
