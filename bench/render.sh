#!/usr/bin/env bash
# Issue 6's rendering benchmark: PNG frames per second of a 512x512x16 CT series, native and compressed (JPEG 2000
# lossless, JPEG lossless SV1), from Atrium's DICOMweb rendered resource and from Orthanc's REST rendered frame,
# side by side in one run on loopback. Needs Debian's orthanc and orthanc-gdcm (for JPEG 2000):
# apt-get install orthanc orthanc-gdcm.
#   bench/render.sh [N] [THREADS]
# Every run walks the N distinct frames of the series in turn. Atrium is measured twice: "cold" with its
# decoded-frame cache off (ATRIUM_FRAME_CACHE_BYTES=0: every request reads, parses and decodes its file, as Orthanc
# does), and "warm" with the cache on after one pass over the series (a viewer scrolling back and forth).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100}
threads=${2:-2}
command -v Orthanc >/dev/null || { echo "bench/render.sh needs Orthanc: apt-get install orthanc orthanc-gdcm" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench/render.sh needs wrk: apt-get install wrk" >&2; exit 1; }
source_dir=bench/out/ct-$n
python3 bench/make_ct_series.py "$source_dir" "$n"
# ATRIUM=path/to/atrium skips the build (a release binary built elsewhere).
atrium=${ATRIUM:-.build/release/atrium}
[ -n "${ATRIUM:-}" ] || swift build -c release --product atrium >/dev/null
work=$(mktemp -d /tmp/atrium-render-XXXX)
trap 'kill $atrium_pid $orthanc_pid 2>/dev/null || true; rm -rf "$work"' EXIT

# The same series in three transfer syntaxes (new UIDs per set, so each is its own series).
mkdir -p "$work/native" "$work/j2k" "$work/jpegll"
python3 - "$source_dir" "$work" <<'PY'
import os, sys, pydicom
from pydicom.uid import generate_uid
src, work = sys.argv[1], sys.argv[2]
for kind in ["native", "j2k", "jpegll"]:
    study, series = generate_uid(), generate_uid()
    for name in sorted(os.listdir(src)):
        ds = pydicom.dcmread(os.path.join(src, name))
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.save_as(os.path.join(work, kind, name))
PY
for f in "$work"/j2k/*.dcm; do $atrium transcode -t jpeg2000 "$f" "$f.tmp" && mv "$f.tmp" "$f"; done
for f in "$work"/jpegll/*.dcm; do dcmcjpeg +e1 "$f" "$f.tmp" && mv "$f.tmp" "$f"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
a_port=$(free_port); o_http=$(free_port); o_dicom=$(free_port)
$atrium import --data "$work/atrium-data" "$work/native" "$work/j2k" "$work/jpegll" >/dev/null 2>&1
# Atrium's DICOMweb routes need someone signed in: a benchmark user and its API token, made offline, sent as a bearer
# token to Atrium only (AUTHORIZATION for render_client.py and render_paths.lua).
head -c 24 /dev/urandom | base64 > "$work/password"
$atrium user add bench --role reader --password-file "$work/password" --data "$work/atrium-data" >/dev/null
atrium_token=$($atrium token create --user bench --data "$work/atrium-data" | tail -1)
# start_atrium CACHE_BYTES: (re)starts Atrium's server with that decoded-frame cache.
start_atrium() {
    [ -z "${atrium_pid:-}" ] || { kill "$atrium_pid"; wait "$atrium_pid" 2>/dev/null || true; }
    ATRIUM_FRAME_CACHE_BYTES=$1 $atrium serve --data "$work/atrium-data" --http-port "$a_port" --dicom-port "$(free_port)" \
        >/dev/null 2>&1 &
    atrium_pid=$!
    for i in $(seq 50); do curl -sf "http://127.0.0.1:$a_port/health" >/dev/null && return; sleep 0.2; done
}
start_atrium 0
cat > "$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc-db", "IndexDirectory": "$work/orthanc-db",
  "HttpPort": $o_http, "DicomPort": $o_dicom, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "HttpServerEnabled": true, "DicomServerEnabled": true, "ConcurrentJobs": 2,
  "Plugins": ["/usr/share/orthanc/plugins/libOrthancGdcm.so"] }
JSON
TCP_NODELAY=1 Orthanc "$work/orthanc.json" >"$work/orthanc.log" 2>&1 &
orthanc_pid=$!
for i in $(seq 50); do
    curl -sf "http://127.0.0.1:$a_port/health" >/dev/null && curl -sf "http://127.0.0.1:$o_http/system" >/dev/null && break
    sleep 0.2
done
for f in "$work"/native/*.dcm "$work"/j2k/*.dcm "$work"/jpegll/*.dcm; do
    curl -sf -X POST --data-binary @"$f" "http://127.0.0.1:$o_http/instances" >/dev/null
done

for kind in native j2k jpegll; do
    atrium_urls=$(python3 - "$work/$kind" "http://127.0.0.1:$a_port/dicom-web" <<'PY'
import os, sys, pydicom
d, base = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(d)):
    ds = pydicom.dcmread(os.path.join(d, name), stop_before_pixels=True)
    print("%s/studies/%s/series/%s/instances/%s/frames/1/rendered" % (base, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID))
PY
)
    orthanc_urls=$(python3 - "$work/$kind" "http://127.0.0.1:$o_http" <<'PY'
import os, sys, requests, pydicom
d, base = sys.argv[1], sys.argv[2]
for name in sorted(os.listdir(d)):
    ds = pydicom.dcmread(os.path.join(d, name), stop_before_pixels=True)
    ids = requests.post(base + "/tools/lookup", data=ds.SOPInstanceUID).json()
    print("%s/instances/%s/frames/0/rendered" % (base, ids[0]["ID"]))
PY
)
    printf '%s\n' $atrium_urls | sed 's|^http://[^/]*||' > "$work/$kind.a.paths"
    printf '%s\n' $orthanc_urls | sed 's|^http://[^/]*||' > "$work/$kind.o.paths"
    printf '%s\n' $atrium_urls > "$work/$kind.a.urls"
    printf '%s\n' $orthanc_urls > "$work/$kind.o.urls"
done
rate() { PATHS_FILE="$1" AUTHORIZATION="${3:-}" wrk -t1 -c"$threads" -d10s -s bench/render_paths.lua "$2" | awk '/Requests\/sec/ {print $2}'; }
# Correctness first: every frame renders to a PNG on both servers (Python client, each frame once), then the rate
# (wrk, 10 s, one client thread and $threads connections, so the servers have the cores).
declare -A cold orthanc
for kind in native j2k jpegll; do
    a=$(AUTHORIZATION="Bearer $atrium_token" python3 bench/render_client.py "$threads" $(cat "$work/$kind.a.urls"))
    o=$(python3 bench/render_client.py "$threads" $(cat "$work/$kind.o.urls"))
    python3 -c "import json,sys; a=json.loads(sys.argv[1]); o=json.loads(sys.argv[2]); assert a['error_count'] == 0 and o['error_count'] == 0, (a, o)" "$a" "$o"
    cold[$kind]=$(rate "$work/$kind.a.paths" "http://127.0.0.1:$a_port" "Bearer $atrium_token")
    orthanc[$kind]=$(rate "$work/$kind.o.paths" "http://127.0.0.1:$o_http")
done
start_atrium $((256 << 20))
for kind in native j2k jpegll; do
    AUTHORIZATION="Bearer $atrium_token" python3 bench/render_client.py "$threads" $(cat "$work/$kind.a.urls") >/dev/null  # one pass fills the cache
    warm=$(rate "$work/$kind.a.paths" "http://127.0.0.1:$a_port" "Bearer $atrium_token")
    python3 -c "import sys; c, w, o = map(float, sys.argv[1:4]); print('%-7s Atrium cold %.1f frames/s (%.2fx), warm %.1f frames/s (%.2fx); Orthanc %.1f frames/s' % (sys.argv[4], c, c / o, w, w / o, o))" \
        "${cold[$kind]}" "$warm" "${orthanc[$kind]}" "$kind"
done
