"""An independent evaluation of the Westgard rules, from the definitions in docs/laboratory.md (not from Atrium's code).

    python3 westgard_reference.py SERIES.json   prints [[rule, run id, scope], ...] as JSON

SERIES.json: {"materials": [{"id", "mean", "sd"}], "runs": [{"id", "at", "values": {"material id": value}}]}.
"""
import json
import sys


def evaluate(series):
    materials = {m["id"]: m for m in series["materials"]}
    runs = sorted(series["runs"], key=lambda r: (r["at"], r["id"]))
    per_material = {}
    flat = []
    for index, run in enumerate(runs):
        for key in sorted(run["values"], key=int):
            mid = int(key)
            m = materials[mid]
            z = (run["values"][key] - m["mean"]) / m["sd"]
            per_material.setdefault(mid, []).append((index, z))
            flat.append((index, mid, z))
    found = set()
    for index, run in enumerate(runs):
        here = [f for f in flat if f[0] == index]
        zs = [f[2] for f in here]
        if any(abs(z) > 2 for z in zs):
            found.add(("1-2s", run["id"], "within-run"))
        if any(abs(z) > 3 for z in zs):
            found.add(("1-3s", run["id"], "within-run"))
        high = [z for z in zs if z > 2]
        low = [z for z in zs if z < -2]
        if len(high) >= 2 or len(low) >= 2:
            found.add(("2-2s", run["id"], "within-run"))
        if high and low:
            found.add(("R-4s", run["id"], "within-run"))
        for mid, series_z in per_material.items():
            positions = [i for i, (r, _) in enumerate(series_z) if r == index]
            if not positions:
                continue
            upto = [z for _, z in series_z[: positions[-1] + 1]]
            if len(upto) >= 2 and (all(z > 2 for z in upto[-2:]) or all(z < -2 for z in upto[-2:])):
                found.add(("2-2s", run["id"], "across-runs"))
            if len(upto) >= 4 and (all(z > 1 for z in upto[-4:]) or all(z < -1 for z in upto[-4:])):
                found.add(("4-1s", run["id"], "across-runs"))
            if len(upto) >= 10 and (all(z > 0 for z in upto[-10:]) or all(z < 0 for z in upto[-10:])):
                found.add(("10x", run["id"], "across-runs"))
        for end, f in enumerate(flat):
            if f[0] != index:
                continue
            upto = flat[: end + 1]
            for rule, n, beyond in (("4-1s", 4, 1.0), ("10x", 10, 0.0)):
                window = upto[-n:]
                if len(window) < n or len({w[1] for w in window}) < 2:
                    continue
                if all(w[2] > beyond for w in window) or all(w[2] < -beyond for w in window):
                    found.add((rule, run["id"], "across-materials"))
    return sorted(found, key=lambda t: (t[1], t[0], t[2]))


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps([list(t) for t in evaluate(json.load(f))]))
