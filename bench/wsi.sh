#!/usr/bin/env bash
# Issue 20's whole-slide benchmark: tile requests from a SIZE x SIZE slide (TILED_FULL, JPEG tiles of 256 x 256,
# bench/make_wsi.py), CLIENTS viewers panning at random at three levels (0, 2 and 4: full resolution, 1/4 and 1/16) on
# 127.0.0.1 for SECONDS (bench/wsi_client.py): tiles/s and p99 latency per tile, for
#   1. Atrium: GET /api/wsi/series/{uid}/tiles/{level}/{x}/{y} (the stored JPEG, found by the slide index);
#   2. Orthanc with its WSI plugin (Debian's orthanc + orthanc-wsi): GET /wsi/tiles/{series}/{level}/{x}/{y};
#   3. the physical limit: the same tiles read from the DICOM files with pread (page cache warm, no HTTP).
# Needs pydicom, numpy, Pillow, curl, and for 2: apt-get install orthanc orthanc-wsi
#   bench/wsi.sh              SIZE=100000, CLIENTS=50, SECONDS=30
#   bench/wsi.sh --quick      SIZE=20000, CLIENTS=50, SECONDS=10
# ATRIUM=path/to/atrium uses that binary instead of building a release one (SCRATCH=dir picks --scratch-path).
set -euo pipefail
cd "$(dirname "$0")/.."
size=100000 clients=50 seconds=30
for option in "$@"; do
    case "$option" in
        --quick) size=20000 seconds=10 ;;
        *) echo "usage: bench/wsi.sh [--quick]" >&2; exit 2 ;;
    esac
done
scratch=${SCRATCH:-.build}
if [ -n "${ATRIUM:-}" ]; then
    atrium=$ATRIUM
else
    swift build -c release --scratch-path "$scratch" --product atrium >/dev/null
    atrium=$scratch/release/atrium
fi
slide=bench/out/wsi-$size
series=$(python3 bench/make_wsi.py "$slide" "$size")
work=$(mktemp -d "${BENCH_TMP:-/tmp}/atrium-wsi-XXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
stop() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
wait_http() { for _ in $(seq 1200); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }

# The three levels panned, with their tiles across and down (the levels halve: level n has ceil(size / 2^n) pixels).
levels=$(python3 -c "
import json, math, sys
size = $size
print(json.dumps([[n, math.ceil(math.ceil(size / 2**n) / 256), math.ceil(math.ceil(size / 2**n) / 256)] for n in (0, 2, 4)]))")
files=$(python3 -c "import json; print(json.dumps(['$slide/level-%d.dcm' % n for n in (0, 2, 4)]))")
cat "$slide"/*.dcm >/dev/null # the page cache holds the slide for every reader alike
echo "slide: ${size} x ${size}, $(du -sh "$slide" | cut -f1) in $(ls "$slide"/*.dcm | wc -l) levels; $clients clients, ${seconds}s each run"

echo "== 1. Atrium"
printf 'bench-password-%s\n' "$RANDOM$RANDOM" >"$work/password"
"$atrium" user add bench --role admin --password-file "$work/password" --data "$work/atrium" >/dev/null
token=$("$atrium" token create --user bench --data "$work/atrium" | tail -1)
start=$(date +%s.%N)
"$atrium" import --data "$work/atrium" "$slide"/level-*.dcm >/dev/null 2>&1
echo "import: $(python3 -c "print('%.1f' % ($(date +%s.%N) - $start))") s"
port=$(free_port)
"$atrium" serve --data "$work/atrium" --host 127.0.0.1 --http-port "$port" --dicom-port "$(free_port)" >"$work/atrium.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$port/health"
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/wsi/series/$series" >/dev/null
python3 bench/wsi_client.py http "http://127.0.0.1:$port/api/wsi/series/$series/tiles/{level}/{x}/{y}" "$levels" "$clients" 3 "$token" >/dev/null
atrium_result=$(python3 bench/wsi_client.py http "http://127.0.0.1:$port/api/wsi/series/$series/tiles/{level}/{x}/{y}" "$levels" \
    "$clients" "$seconds" "$token")
echo "atrium:  $atrium_result"
stop "${pids[-1]}"

echo "== 2. Orthanc with its WSI plugin"
plugin=/usr/share/orthanc/plugins/libOrthancWSI.so
if command -v Orthanc >/dev/null && [ -f "$plugin" ]; then
    port=$(free_port)
    cat >"$work/orthanc.json" <<JSON
{ "Name": "bench", "HttpPort": $port, "DicomPort": $(free_port), "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "StorageDirectory": "$work/orthanc/storage", "IndexDirectory": "$work/orthanc/index", "StorageCompression": false,
  "HttpThreadsCount": $clients, "Plugins": ["$plugin"] }
JSON
    Orthanc "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
    pids+=($!)
    wait_http "http://127.0.0.1:$port/system"
    for f in "$slide"/level-*.dcm; do
        curl -sf -X POST -H "Expect:" --data-binary "@$f" "http://127.0.0.1:$port/instances" >"$work/orthanc-upload.json"
    done
    orthanc_series=$(python3 -c "import json; print(json.load(open('$work/orthanc-upload.json'))['ParentSeries'])")
    curl -sf "http://127.0.0.1:$port/wsi/pyramids/$orthanc_series" >/dev/null
    python3 bench/wsi_client.py http "http://127.0.0.1:$port/wsi/tiles/$orthanc_series/{level}/{x}/{y}" "$levels" "$clients" 3 >/dev/null
    orthanc_result=$(python3 bench/wsi_client.py http "http://127.0.0.1:$port/wsi/tiles/$orthanc_series/{level}/{x}/{y}" "$levels" \
        "$clients" "$seconds")
    echo "orthanc: $orthanc_result"
    stop "${pids[-1]}"
else
    echo "orthanc: not installed (apt-get install orthanc orthanc-wsi)"
fi

echo "== 3. physical limit: the same pans read with pread from the files"
echo "disk:    $(python3 bench/wsi_client.py disk "$files" "$levels" "$clients" "$seconds")"
