#!/usr/bin/env python3
"""The load of bench/wsi.sh: CLIENTS viewers panning at random over a slide for SECONDS each, every pan one viewport
of 4 x 3 tiles at one of three levels, tile requests one after the other on each client's keep-alive connection.

  wsi_client.py http URL_TEMPLATE LEVELS CLIENTS SECONDS [TOKEN]
      URL_TEMPLATE holds {level}, {x} and {y}; LEVELS is JSON [[url_level, tiles_across, tiles_down], ...].
  wsi_client.py disk FILES LEVELS CLIENTS SECONDS
      the same pans read straight from the DICOM files (FILES: JSON list, one per level of LEVELS) with pread: the
      physical limit of serving those tiles, without HTTP.
Prints JSON: tiles, seconds, tiles_per_s, MB_per_s, p50_ms, p99_ms, errors.
"""
import http.client
import json
import os
import random
import struct
import sys
import threading
import time
import urllib.parse

mode, target, levels, clients, seconds = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
token = sys.argv[6] if len(sys.argv) > 6 else None


def pans(rng):
    """Endless viewports: (level index, [(x, y) of its 12 tiles])."""
    while True:
        index = rng.randrange(len(levels))
        _, across, down = levels[index]
        x0, y0 = rng.randrange(max(1, across - 3)), rng.randrange(max(1, down - 2))
        yield index, [(x, y) for y in range(y0, min(down, y0 + 3)) for x in range(x0, min(across, x0 + 4))]


def frame_ranges(path):
    """(offset, length) of each fragment of the file's encapsulated Pixel Data, one fragment per frame."""
    import pydicom
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    with open(path, "rb") as f:
        # The Pixel Data element follows the last attribute read: find its tag (7FE0,0010) OB, then its 12-byte header.
        data = f.read(1 << 20)
        position = data.find(b"\xe0\x7f\x10\x00OB\x00\x00\xff\xff\xff\xff")
        assert position > 0 and ds.get("NumberOfFrames"), f"no encapsulated Pixel Data in {path}"
        f.seek(position + 12)
        ranges = []
        while True:
            tag_group, tag_element, length = struct.unpack("<HHI", f.read(8))
            if (tag_group, tag_element) == (0xFFFE, 0xE0DD):
                break
            ranges.append((f.tell(), length))
            f.seek(length, 1)
    return ranges[1:]  # the first item is the Basic Offset Table


latencies, sizes, errors, lock = [], [], [0], threading.Lock()
deadline = time.monotonic() + seconds
if mode == "disk":
    files = json.loads(target)
    tables = [frame_ranges(f) for f in files]
    descriptors = [os.open(f, os.O_RDONLY) for f in files]


def worker(number):
    rng = random.Random(number)
    mine, bytes_read, failed = [], [], 0
    connection = None
    if mode == "http":
        url = urllib.parse.urlsplit(target)
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    for index, tiles in pans(rng):
        if time.monotonic() >= deadline:
            break
        level = levels[index][0]
        for x, y in tiles:
            start = time.perf_counter()
            if mode == "http":
                path = urllib.parse.urlsplit(target.format(level=level, x=x, y=y))
                connection.request("GET", path.path + (("?" + path.query) if path.query else ""), headers=headers)
                response = connection.getresponse()
                body = response.read()
                if response.status != 200:
                    failed += 1
            else:
                offset, length = tables[index][y * levels[index][1] + x]
                body = os.pread(descriptors[index], length, offset)
            mine.append(time.perf_counter() - start)
            bytes_read.append(len(body))
    with lock:
        latencies.extend(mine)
        sizes.extend(bytes_read)
        errors[0] += failed


started = time.monotonic()
threads = [threading.Thread(target=worker, args=(n,)) for n in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - started
latencies.sort()
print(json.dumps({
    "tiles": len(latencies), "seconds": round(elapsed, 2), "tiles_per_s": round(len(latencies) / elapsed, 1),
    "MB_per_s": round(sum(sizes) / elapsed / 1e6, 1),
    "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2) if latencies else None,
    "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2) if latencies else None,
    "errors": errors[0],
}))
