#!/usr/bin/env bash
# Issue 18's originality benchmark: precision and recall of `atrium bench originality` (MinHash + LSH candidates,
# exact shingle Jaccard decides) on a seeded set of short answers in Chinese and English (bench/make_answers.py:
# copied, lightly edited, paraphrased, independent). Loopback-free: one process, a JSON file in, JSON out.
#   bench/originality.sh [SEED]          ATRIUM=path/to/atrium to skip the release build
set -euo pipefail
cd "$(dirname "$0")/.."
seed=${1:-20261206}
out=bench/out/originality
mkdir -p "$out"
python3 bench/make_answers.py "$out/answers.json" "$seed"
if [ -z "${ATRIUM:-}" ]; then
    swift build -c release --product atrium >/dev/null
fi
atrium=${ATRIUM:-.build/release/atrium}
# A low threshold, so that the sweep below sees every candidate pair's similarity.
# Once as by default (every shingle kept), once with the boilerplate filter (shingles in more than 5 % of answers dropped).
for share in 0 0.05; do
    "$atrium" bench originality --threshold 0.1 --boilerplate-share "$share" "$out/answers.json" >"$out/flags-$share.json"
    echo "boilerplate share $share:"
    python3 bench/score_originality.py "$out/answers.json" "$out/flags-$share.json"
done
