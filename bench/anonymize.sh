#!/usr/bin/env bash
# Issue 17's benchmark: `atrium anonymize` and dicognito (pip) on the same 2,000 CT files (512x512x16, ~520 kB each),
# folder in, folder out, one run each.
#   bench/anonymize.sh [N]
# Both sides shift dates and replace identifiers and UIDs: Atrium with the Basic Profile and the Retain Longitudinal
# Temporal Information Modified Dates Option (its safety net included), dicognito with its defaults.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
data=bench/out/ct-$n
python3 bench/make_ct_series.py "$data" "$n"
data=$(realpath "$data")
if [ -z "${ATRIUM:-}" ]; then
    swift build -c release --product atrium >/dev/null
fi
atrium=${ATRIUM:-.build/release/atrium}
python3 -c 'import dicognito' 2>/dev/null || { echo "dicognito is missing: pip install dicognito (scripts/install-deps)" >&2; exit 1; }

out=bench/out/anonymize
if [ -e "$out" ]; then rm -rf "$out"; sleep 60; fi
mkdir -p "$out"
head -c 32 /dev/urandom >"$out/secret"
cat "$data"/* >/dev/null   # warm the page cache for both sides alike

# Each side starts with no dirty pages of the previous one still being written back (sync, not timed).
seconds() { local s e; sync; s=$(date +%s.%N); "$@" >/dev/null 2>"$out/stderr" || { cat "$out/stderr" >&2; exit 1; }; e=$(date +%s.%N); python3 -c "print(float('$e')-float('$s'))"; }
# Two rounds, alternating, each into a folder of its own, best of each; nothing is deleted until the end: ext4 creates
# files slowly for a minute after thousands were deleted (perf: recently_deleted, find_inode_bit in openat), which
# would punish whichever side ran next.
best() { python3 -c "import sys; print(min(float(x) for x in sys.argv[1:]))" "$@"; }
ta1=$(seconds "$atrium" anonymize "$data" "$out/atrium1" --secret-file "$out/secret" --retain-modified-dates)
td1=$(seconds python3 -m dicognito --quiet --output-directory "$out/dicognito1" "$data")
td2=$(seconds python3 -m dicognito --quiet --output-directory "$out/dicognito2" "$data")
ta2=$(seconds "$atrium" anonymize "$data" "$out/atrium2" --secret-file "$out/secret" --retain-modified-dates)
ta=$(best "$ta1" "$ta2")
td=$(best "$td1" "$td2")
tc=$(seconds cp -r "$data" "$out/copy")   # the floor: the same bytes copied, folder in, folder out
na=$(find "$out/atrium1" -type f | wc -l)
nd=$(find "$out/dicognito1" -type f | wc -l)
python3 -c "
ta, td, n = $ta, $td, $n
print('anonymize $n CT files, folder in, folder out: Atrium %.2f s (%.0f files/s, $na written), dicognito %.2f s (%.1f files/s, $nd written): %.1fx' % (ta, n / ta, td, n / td, td / ta))
print('cp -r of the same folder (the floor): %.2f s (%.0f files/s); rounds: Atrium $ta1 s, $ta2 s; dicognito $td1 s, $td2 s' % ($tc, n / $tc))"
rm -rf "$out"   # a minute before the next run, for the reason above
