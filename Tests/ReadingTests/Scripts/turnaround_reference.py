#!/usr/bin/env python3
"""Independent turnaround figures for a set of cases, with numpy and Python's own calendar.

Usage: turnaround_reference.py CASES_JSON  (a list of {"received", "claimed", "preliminary", "final", "deadline",
"priority"} in seconds since 1970, null when not reached); `now` is the key "now" of the wrapper object.
Prints, per (ISO week in UTC+8, priority): count, breaches, and the median and 90th percentile (numpy's default, linear)
of each step in seconds.
"""
import datetime
import json
import sys

import numpy

data = json.load(open(sys.argv[1]))
now = data["now"]
tz = datetime.timezone(datetime.timedelta(hours=8))
groups = {}
for case in data["cases"]:
    year, week, _ = datetime.datetime.fromtimestamp(case["received"], tz).isocalendar()
    groups.setdefault((f"{year:04d}-W{week:02d}", case["priority"]), []).append(case)
out = {}
for (period, priority), cases in groups.items():
    row = {"requests": len(cases)}
    row["breaches"] = sum(
        1 for c in cases if (c["final"] is not None and c["final"] > c["deadline"]) or (c["final"] is None and now > c["deadline"])
    )
    for step in ["claimed", "preliminary", "final"]:
        values = []
        for c in cases:
            end = c[step]
            if step == "preliminary" and end is None:
                end = c["final"]
            if end is not None:
                values.append(end - c["received"])
        row[step] = [len(values)] + ([float(numpy.percentile(values, 50)), float(numpy.percentile(values, 90))] if values else [])
    out[f"{period}|{priority}"] = row
print(json.dumps(out))
