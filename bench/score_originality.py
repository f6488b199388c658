#!/usr/bin/env python3
"""Scores `atrium bench originality` against the ground truth of bench/make_answers.py.

score_originality.py ANSWERS.json FLAGS.json prints, for thresholds 0.2 to 0.6, precision and recall over all pairs
(a pair is truly positive when both answers are of one family: a source and what was copied, edited or paraphrased
from it), and the recall of each kind of derived answer against its source, per language.
"""
import itertools
import json
import sys


def main():
    answers = {a["id"]: a for a in json.load(open(sys.argv[1], encoding="utf-8"))}
    report = json.load(open(sys.argv[2], encoding="utf-8"))
    similarity = {frozenset((f["first"], f["second"])): f["jaccard"] for f in report["flags"]}
    positives = set()
    for a, b in itertools.combinations(answers.values(), 2):
        if a["family"] == b["family"]:
            positives.add(frozenset((a["id"], b["id"])))
    print(f"{len(answers)} answers, {len(positives)} true pairs, {report['seconds'] * 1000:.0f} ms for the check")
    print("| threshold | flagged | precision | recall | recall copied | recall edited | recall paraphrased |")
    print("|---|---|---|---|---|---|---|")
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6):
        flagged = {p for p, j in similarity.items() if j >= threshold}
        tp = len(flagged & positives)
        precision = tp / len(flagged) if flagged else 1.0
        recall = tp / len(positives)
        kinds = {}
        for kind in ("copied", "edited", "paraphrased"):
            row = []
            for language in ("en", "zh"):
                pairs = [frozenset((a["id"], a["family"] + "-source")) for a in answers.values()
                         if a["kind"] == kind and a["language"] == language]
                row.append(f"{sum(1 for p in pairs if p in flagged) / len(pairs):.2f} {language}")
            kinds[kind] = " / ".join(row)
        print(f"| {threshold} | {len(flagged)} | {precision:.3f} | {recall:.3f} | {kinds['copied']} | {kinds['edited']} | "
              f"{kinds['paraphrased']} |")


main()
