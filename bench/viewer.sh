#!/usr/bin/env bash
# The viewer's speed in a real browser (issue 7): time from opening a 512x512 CT study to the first image on screen,
# and frames per second while scrolling once the series is prefetched, measured in headless Chromium with the
# Performance API, Atrium serving on loopback. Needs chromium, chromium-driver and selenium (scripts/install-deps).
#   bench/viewer.sh [N] [RUNS]          N slices (default 300), RUNS page loads (default 5)
# ATRIUM=path/to/atrium skips the build; SCRATCH=DIR picks the build's scratch path (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-300}
runs=${2:-5}
source_dir=bench/out/ct-$n
python3 bench/make_ct_series.py "$source_dir" "$n"
scratch=${SCRATCH:-.build}
atrium=${ATRIUM:-$scratch/release/atrium}
[ -n "${ATRIUM:-}" ] || swift build -c release --scratch-path "$scratch" --product atrium >/dev/null
work=$(mktemp -d /tmp/atrium-viewer-XXXX)
trap 'kill $atrium_pid 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
$atrium import --data "$work/atrium-data" "$source_dir" >/dev/null 2>&1
# Every page needs someone signed in: a reader for the benchmark.
printf 'benchmark password' > "$work/password"
$atrium user add bench --role reader --password-file "$work/password" --data "$work/atrium-data" >/dev/null
$atrium serve --data "$work/atrium-data" --http-port "$port" --dicom-port "$(free_port)" >"$work/serve.log" 2>&1 &
atrium_pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
study=$(python3 -c 'import pydicom,sys,os; d=sys.argv[1]; print(pydicom.dcmread(os.path.join(d, sorted(os.listdir(d))[0]), stop_before_pixels=True).StudyInstanceUID)' "$source_dir")
python3 bench/viewer_client.py "http://127.0.0.1:$port" "$study" "$n" "$runs" bench "benchmark password"
