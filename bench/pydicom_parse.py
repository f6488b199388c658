#!/usr/bin/env python3
"""pydicom's side of bench/parse.sh: dcmread over the files (best of --repeat passes), printing the same JSON as
`atrium bench parse`. With --json, the end-to-end form: json.dumps(dcmread(f, stop_before_pixels=True).to_json_dict())
written to stdout for every file, timed from outside."""
import json
import os
import sys
import time

from pydicom import dcmread


def main():
    args = sys.argv[1:]
    stop = "--stop-before-pixels" in args
    as_json = "--json" in args
    repeat = 3
    if "--repeat" in args:
        repeat = int(args[args.index("--repeat") + 1])
    directory = [a for a in args if not a.startswith("--") and not a.isdigit()][0]
    files = sorted(os.path.join(directory, f) for f in os.listdir(directory))
    if as_json:
        out = sys.stdout
        for f in files:
            out.write(json.dumps(dcmread(f, stop_before_pixels=True).to_json_dict()))
            out.write("\n")
        return
    total = sum(os.path.getsize(f) for f in files)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        n = 0
        for f in files:
            ds = dcmread(f, stop_before_pixels=stop)
            n += len(ds)
            if not stop:
                _ = ds.PixelData
        best = min(best, time.perf_counter() - start)
    print(json.dumps({"files": len(files), "bytes": total, "seconds": best, "files_per_second": len(files) / best,
                      "megabytes_per_second": total / best / 1e6}))


if __name__ == "__main__":
    main()
