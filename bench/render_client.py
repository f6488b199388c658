#!/usr/bin/env python3
"""Fetches rendered frames from a server as fast as it answers, with T threads, and prints frames/s.

Usage: render_client.py THREADS URL...   (each URL is fetched once; the URL list is shuffled the same way each run)
AUTHORIZATION in the environment is sent as the Authorization header.
"""
import json
import os
import random
import sys
import threading
import time

import requests


def main():
    threads = int(sys.argv[1])
    urls = sys.argv[2:]
    random.Random(1).shuffle(urls)
    # Warm-up: one request, so connection set-up is not timed.
    headers = {"Accept": "image/png"}
    if os.environ.get("AUTHORIZATION"):
        headers["Authorization"] = os.environ["AUTHORIZATION"]
    requests.get(urls[0], headers=headers).raise_for_status()
    chunks = [urls[i::threads] for i in range(threads)]
    sizes = []
    errors = []

    def worker(chunk):
        session = requests.Session()
        for url in chunk:
            r = session.get(url, headers=headers)
            if r.status_code != 200 or not r.content.startswith(b"\x89PNG"):
                errors.append("%s %d" % (url, r.status_code))
            sizes.append(len(r.content))

    start = time.perf_counter()
    pool = [threading.Thread(target=worker, args=(c,)) for c in chunks]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    elapsed = time.perf_counter() - start
    print(json.dumps({"frames": len(urls), "seconds": elapsed, "frames_per_second": len(urls) / elapsed,
                      "errors": errors[:5], "error_count": len(errors), "mean_png_bytes": sum(sizes) / max(len(sizes), 1)}))


if __name__ == "__main__":
    main()
