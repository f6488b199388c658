#!/usr/bin/env python3
"""Independent reference for Shingles, MinHasher and MinHashBanding: datasketch's MinHash (with a 32-bit FNV-1a
hash of each shingle's UTF-8 bytes as its hashfunc) and exact Jaccard from Python sets.

minhash_reference.py TEXTS.json BANDS ROWS -> prints {"permutations": [[a...], [b...]], "shingles": [[...]...],
"signatures": [[...]...], "exact": {"i,j": J}, "estimate": {"i,j": J}, "candidates": [[i, j]...]}.
Shingles are cut the way docs/training.md describes, written here from that description: NFKC, lower case,
characters of the CJK Unified Ideographs as Han tokens, runs of letters and digits as words, 3-grams of Han
characters inside a Han run and 3-grams of words inside a word run, a run shorter than 3 as one shingle.
"""
import itertools
import json
import sys
import unicodedata

import numpy as np
from datasketch import MinHash

N_HAN, N_WORD, PERMUTATIONS, SEED = 3, 3, 128, 1


def fnv1a32(data: bytes) -> int:
    h = 2166136261
    for byte in data:
        h ^= byte
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def is_han(ch):
    v = ord(ch)
    return 0x3400 <= v <= 0x4DBF or 0x4E00 <= v <= 0x9FFF or 0xF900 <= v <= 0xFAFF or 0x20000 <= v <= 0x3134F


def shingles(text):
    text = unicodedata.normalize("NFKC", text).lower()
    tokens = []  # (kind, text)
    word = ""
    for ch in text:
        if is_han(ch):
            if word:
                tokens.append(("w", word))
                word = ""
            tokens.append(("h", ch))
        elif ch.isalnum():
            word += ch
        else:
            if word:
                tokens.append(("w", word))
                word = ""
    if word:
        tokens.append(("w", word))
    out = set()
    for kind, group in itertools.groupby(tokens, key=lambda t: t[0]):
        run = [t[1] for t in group]
        n, sep = (N_HAN, "") if kind == "h" else (N_WORD, " ")
        if len(run) <= n:
            out.add(sep.join(run))
        else:
            for i in range(len(run) - n + 1):
                out.add(sep.join(run[i:i + n]))
    return out


def minhash():
    """datasketch's classic scheme (Broder's permutations mod 2^61 - 1, truncated to 32 bits), which datasketch 2
    keeps as scheme="legacy" beside newer defaults; older datasketch has only it."""
    try:
        return MinHash(num_perm=PERMUTATIONS, seed=SEED, hashfunc=fnv1a32, scheme="legacy")
    except TypeError:
        return MinHash(num_perm=PERMUTATIONS, seed=SEED, hashfunc=fnv1a32)


def main():
    texts = json.load(open(sys.argv[1], encoding="utf-8"))
    bands, rows = int(sys.argv[2]), int(sys.argv[3])
    sets = [shingles(t) for t in texts]
    hashes = []
    for s in sets:
        m = minhash()
        m.update_batch([x.encode("utf-8") for x in sorted(s)])
        hashes.append(m)
    exact, estimate = {}, {}
    for i, j in itertools.combinations(range(len(texts)), 2):
        union = sets[i] | sets[j]
        exact[f"{i},{j}"] = len(sets[i] & sets[j]) / len(union) if union else 0.0
        estimate[f"{i},{j}"] = float(hashes[i].jaccard(hashes[j]))
    candidates = set()
    for band in range(bands):
        buckets = {}
        for index, m in enumerate(hashes):
            key = tuple(int(v) for v in m.hashvalues[band * rows:(band + 1) * rows])
            buckets.setdefault(key, []).append(index)
        for members in buckets.values():
            for i, j in itertools.combinations(members, 2):
                candidates.add((i, j))
    a, b = hashes[0].permutations
    print(json.dumps({
        "permutations": [[int(v) for v in a], [int(v) for v in b]],
        "shingles": [sorted(s) for s in sets],
        "signatures": [[int(v) for v in m.hashvalues] for m in hashes],
        "exact": exact, "estimate": estimate,
        "candidates": sorted([list(p) for p in candidates]),
    }, ensure_ascii=False))


main()
