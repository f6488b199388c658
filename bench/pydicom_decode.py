#!/usr/bin/env python3
"""Decodes every frame of the files under DIRECTORY with pydicom 3 + pylibjpeg, best of N passes, per transfer syntax.

Usage: bench/pydicom_decode.py DIRECTORY [--repeat N]. Files are read first; only pixel decoding
(pydicom.pixels.pixel_array on the dataset) is timed. Prints JSON keyed by transfer syntax UID, like `atrium bench decode`.
"""
import json
import os
import sys
import time

import pydicom
import pylibjpeg  # noqa: F401
from pydicom.pixels import pixel_array

directory = sys.argv[1]
passes = int(sys.argv[sys.argv.index("--repeat") + 1]) if "--repeat" in sys.argv else 3
groups = {}
for base, _, names in os.walk(directory):
    for name in sorted(names):
        ds = pydicom.dcmread(os.path.join(base, name))
        groups.setdefault(str(ds.file_meta.TransferSyntaxUID), []).append(ds)
result = {}
for uid, datasets in sorted(groups.items()):
    best, total, frames = float("inf"), 0, 0
    for _ in range(passes):
        total, frames = 0, 0
        start = time.perf_counter()
        for ds in datasets:
            array = pixel_array(ds)
            total += array.nbytes
            frames += int(ds.get("NumberOfFrames", 1) or 1)
        best = min(best, time.perf_counter() - start)
    result[uid] = {"files": len(datasets), "frames": frames, "bytes": total, "seconds": best,
                   "megabytes_per_second": total / best / 1e6}
print(json.dumps(result, sort_keys=True))
