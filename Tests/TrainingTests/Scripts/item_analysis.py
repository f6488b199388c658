#!/usr/bin/env python3
"""Independent reference for ItemAnalysis and GraderAgreement (numpy only, written from MoodleDocs' "Quiz statistics
calculations", not from Atrium's code).

item_analysis.py matrix SEED  -> prints {"items": [...], "rows": [...], "expected": {...}}: a seeded response matrix
                                 (students answer choice items by a two-parameter logistic model) and every figure.
item_analysis.py kappa SEED   -> prints {"first": [...], "second": [...], "expected": {...}}: two graders' rubric
                                 levels and Cohen's kappa, unweighted, linear and quadratic.
"""
import json
import sys

import numpy as np


def matrix(seed):
    rng = np.random.default_rng(seed)
    students = 41
    ability = rng.normal(0, 1, students)
    # (id, options, key, max, difficulty, discrimination, kind)
    specs = [
        ("q1", 4, 1.0, -0.5, 1.5, "good"),
        ("q2", 4, 1.0, 0.3, 1.2, "good"),
        ("q3", 5, 1.0, 1.0, 2.0, "good"),
        ("q4", 4, 1.0, -4.0, 1.0, "easy"),         # nearly everybody right
        ("q5", 4, 1.0, 0.0, -1.2, "reversed"),     # stronger students more often wrong: negative discrimination
        ("q6", 4, 1.0, 0.2, 0.0, "noise"),         # unrelated to ability
        ("q7", 2, 1.0, -0.3, 1.0, "truefalse"),
        ("q8", 4, 2.0, 0.0, 1.3, "partial"),       # two marks, half marks for option B
    ]
    items = []
    rows = [[] for _ in range(students)]
    for qid, count, maximum, difficulty, discrimination, kind in specs:
        options = [f"{qid}-{chr(65 + k)}" for k in range(count)]
        key = [options[0]]
        if kind == "truefalse":
            guess = 0.5
        elif kind == "partial":
            guess = (1.0 + 0.5 + 0 + 0) / 4
        else:
            guess = 1.0 / count
        items.append({"id": qid, "maximumScore": maximum, "minimumScore": 0.0, "options": options,
                      "key": key + ([options[1]] if kind == "partial" else []), "randomGuessScore": guess})
        for s in range(students):
            p = 1 / (1 + np.exp(-discrimination * (ability[s] - difficulty)))
            right = rng.random() < p
            if right:
                chosen, score = options[0], maximum
            else:
                if kind == "reversed" and ability[s] > 0.5:
                    chosen = options[2]  # a distractor that attracts strong students
                else:
                    chosen = options[1 + int(rng.integers(0, count - 1))]
                score = maximum * 0.5 if (kind == "partial" and chosen == options[1]) else 0.0
            rows[s].append({"score": float(score), "chosen": [chosen]})
    return items, rows


def analyse(items, rows):
    x = np.array([[cell["score"] for cell in row] for row in rows], dtype=float)  # students × items
    s, p = x.shape
    total = x.sum(axis=1)
    maxima = np.array([it["maximumScore"] for it in items])
    minima = np.array([it["minimumScore"] for it in items])
    cov_total = np.array([np.cov(x[:, i], total, ddof=1)[0, 1] for i in range(p)])
    roots = np.sqrt(np.where(cov_total >= 0, cov_total, 0)).sum()
    n = max(1, int(np.floor(0.27 * s + 0.5)))
    order = np.lexsort((np.arange(s), total))  # by total, then by row
    lower, upper = set(order[:n].tolist()), set(order[-n:].tolist())
    out = []
    for i, it in enumerate(items):
        xi = x[:, i]
        rng_ = maxima[i] - minima[i]
        rest = total - xi
        var = np.var(xi, ddof=1)
        disc = None
        if var > 0 and np.var(rest, ddof=1) > 0:
            disc = float(np.corrcoef(xi, rest)[0, 1])
        cmax = np.cov(np.sort(xi), np.sort(rest), ddof=1)[0, 1]
        eff = float(np.cov(xi, rest, ddof=1)[0, 1] / cmax) if cmax > 0 else None
        ew = float(np.sqrt(cov_total[i]) / roots) if cov_total[i] >= 0 and roots > 0 else None
        norm = (xi - minima[i]) / rng_
        ul = float(norm[sorted(upper)].mean() - norm[sorted(lower)].mean())
        counts = []
        for option in it["options"]:
            chose = [k for k in range(s) if option in rows[k][i]["chosen"]]
            counts.append({"option": option, "isKey": option in it["key"], "total": len(chose),
                           "upper": sum(1 for k in chose if k in upper), "lower": sum(1 for k in chose if k in lower)})
        facility = float((xi.mean() - minima[i]) / rng_)
        flags = []
        if facility < 0.05: flags.append("tooHard")
        if facility > 0.95: flags.append("tooEasy")
        if it["randomGuessScore"] is not None and facility <= it["randomGuessScore"]: flags.append("atOrBelowGuessing")
        if var == 0:
            flags.append("noVariance")
        elif disc is not None:
            if disc < 0: flags.append("negativeDiscrimination")
            elif disc < 0.2: flags.append("weakDiscrimination")
        if eff is not None and eff < 0.15: flags.append("lowDiscriminativeEfficiency")
        if ul < 0.2: flags.append("weakUpperLowerDiscrimination")
        if any((not c["isKey"]) and c["upper"] > c["lower"] for c in counts): flags.append("distractorAttractsUpperGroup")
        out.append({"id": it["id"], "count": s, "randomGuessScore": it["randomGuessScore"], "meanScore": float(xi.mean()), "facility": facility,
                    "standardDeviation": float(np.sqrt(var) / rng_), "intendedWeight": float(maxima[i] / maxima.sum()),
                    "effectiveWeight": ew, "discriminationIndex": disc, "discriminativeEfficiency": eff,
                    "upperLowerDiscrimination": ul, "options": counts, "flags": flags})
    item_var = np.var(x, axis=0, ddof=1).sum()
    alpha = float(p / (p - 1) * (1 - item_var / np.var(total, ddof=1)))
    return {"studentCount": s, "groupSize": n, "maximumTotal": float(maxima.sum()), "meanTotal": float(total.mean()),
            "standardDeviationTotal": float(np.std(total, ddof=1)), "cronbachAlpha": alpha, "items": out}


def kappa(a, b, weighting):
    levels = sorted(set(a) | set(b))
    k = len(levels)
    pos = {v: i for i, v in enumerate(levels)}
    o = np.zeros((k, k))
    for x, y in zip(a, b):
        o[pos[x], pos[y]] += 1
    o /= o.sum()
    e = np.outer(o.sum(axis=1), o.sum(axis=0))
    i, j = np.indices((k, k))
    w = {"unweighted": (i != j).astype(float), "linear": np.abs(i - j).astype(float), "quadratic": (i - j) ** 2.0}[weighting]
    return float(1 - (w * o).sum() / (w * e).sum())


def main():
    mode, seed = sys.argv[1], int(sys.argv[2])
    if mode == "matrix":
        items, rows = matrix(seed)
        print(json.dumps({"items": items, "rows": rows, "expected": analyse(items, rows)}))
    elif mode == "kappa":
        rng = np.random.default_rng(seed)
        truth = rng.integers(0, 5, 60)
        first = np.clip(truth + rng.integers(-1, 2, 60) * (rng.random(60) < 0.35), 0, 4)
        second = np.clip(truth + rng.integers(-2, 3, 60) * (rng.random(60) < 0.45), 0, 4)
        a, b = [int(v) for v in first], [int(v) for v in second]
        print(json.dumps({"first": a, "second": b,
                          "expected": {w: kappa(a, b, w) for w in ("unweighted", "linear", "quadratic")}}))
    else:
        sys.exit(f"unknown mode {mode}")


main()
