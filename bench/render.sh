#!/usr/bin/env bash
# Issue 6's rendering benchmark: PNG frames per second of a 512x512x16 CT series, native and compressed (JPEG 2000
# lossless, JPEG lossless SV1), from Atrium's DICOMweb rendered resource and from Orthanc's REST rendered frame,
# side by side in one run on loopback. Needs Debian's orthanc and orthanc-gdcm (for JPEG 2000):
# apt-get install orthanc orthanc-gdcm.
#   bench/render.sh [N] [THREADS]
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
$atrium serve --data "$work/atrium-data" --http-port "$a_port" --dicom-port "$(free_port)" >/dev/null 2>&1 &
atrium_pid=$!
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
    # Correctness first: every frame renders to a PNG on both servers (Python client), then the rate (wrk, 10 s,
    # one client thread and $threads connections, so the servers have the cores).
    a=$(python3 bench/render_client.py "$threads" $atrium_urls)
    o=$(python3 bench/render_client.py "$threads" $orthanc_urls)
    python3 -c "import json,sys; a=json.loads(sys.argv[1]); o=json.loads(sys.argv[2]); assert a['error_count'] == 0 and o['error_count'] == 0, (a, o)" "$a" "$o"
    printf '%s\n' $atrium_urls | sed 's|^http://[^/]*||' > "$work/a.paths"
    printf '%s\n' $orthanc_urls | sed 's|^http://[^/]*||' > "$work/o.paths"
    ar=$(PATHS_FILE="$work/a.paths" wrk -t1 -c"$threads" -d10s -s bench/render_paths.lua "http://127.0.0.1:$a_port" | awk '/Requests\/sec/ {print $2}')
    or=$(PATHS_FILE="$work/o.paths" wrk -t1 -c"$threads" -d10s -s bench/render_paths.lua "http://127.0.0.1:$o_http" | awk '/Requests\/sec/ {print $2}')
    python3 -c "import sys; a=float(sys.argv[1]); o=float(sys.argv[2]); print('%-7s Atrium %.1f frames/s, Orthanc %.1f frames/s: %.2fx' % (sys.argv[3], a, o, a/o))" "$ar" "$or" "$kind"
done
