#!/usr/bin/env bash
# Issue 6's decode benchmark: Atrium and pydicom + pylibjpeg side by side, MB/s of decoded pixels per codec.
#   bench/decode.sh [N]
# Makes N synthetic 512x512x16 CT slices (bench/make_ct_series.py), compresses them with Atrium (RLE, JPEG-LS,
# JPEG 2000 lossless) and with dcmtk's dcmcjpeg (JPEG lossless SV1, an independent encoder), then decodes every set
# in one Atrium process and one Python process (best of 3 passes, files read before timing) and prints the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
source_dir=bench/out/ct-$n
work=bench/out/decode-$n
python3 bench/make_ct_series.py "$source_dir" "$n"
# ATRIUM=path/to/atrium skips the build (for a release binary built elsewhere, e.g. with another --scratch-path).
atrium=${ATRIUM:-.build/release/atrium}
[ -n "${ATRIUM:-}" ] || swift build -c release --product atrium >/dev/null

rm -rf "$work"
mkdir -p "$work"/{explicit,rle,jpeg-ls,jpeg2000,jpeg-lossless}
for f in "$source_dir"/*.dcm; do
    name=$(basename "$f")
    cp "$f" "$work/explicit/$name"
    for t in rle jpeg-ls jpeg2000; do "$atrium" transcode "$f" "$work/$t/$name" -t "$t"; done
    dcmcjpeg +e1 "$f" "$work/jpeg-lossless/$name"
done
cat "$work"/*/* >/dev/null   # warm the page cache for both sides alike

a=$("$atrium" bench decode "$work")
p=$(python3 bench/pydicom_decode.py "$work")
python3 - "$a" "$p" <<'PY'
import json, sys
atrium, pydicom = json.loads(sys.argv[1]), json.loads(sys.argv[2])
names = {"1.2.840.10008.1.2.1": "explicit VR LE (native)", "1.2.840.10008.1.2.5": "RLE Lossless",
         "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless", "1.2.840.10008.1.2.4.90": "JPEG 2000 Lossless",
         "1.2.840.10008.1.2.4.70": "JPEG Lossless SV1", "1.2.840.10008.1.2.4.57": "JPEG Lossless"}
print(f"{'codec':26} {'frames':>6} {'Atrium MB/s':>12} {'pydicom MB/s':>13} {'ratio':>7}")
for uid in sorted(atrium):
    a, p = atrium[uid], pydicom.get(uid)
    if p is None:
        continue
    ratio = a["megabytes_per_second"] / p["megabytes_per_second"]
    print(f"{names.get(uid, uid):26} {a['frames']:>6} {a['megabytes_per_second']:>12.1f} {p['megabytes_per_second']:>13.1f} {ratio:>6.2f}x")
PY
