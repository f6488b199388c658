#!/usr/bin/env bash
# Issue 5's benchmark: `atrium serve` (SQLite index, the default) against Orthanc (SQLite index, the default, with the
# DICOMweb plugin) side by side in one run on 127.0.0.1, on the same files:
#   1. ingest: dcmtk's storescu (TCP_NODELAY=1, one association) sends N CT instances of 512x512x16 bits to Atrium,
#      to Orthanc and to dcmtk's storescp (the reference: a plain file writer); instances/s, and the receiver's peak
#      resident memory (VmHWM from /proc/PID/status) at the end of the ingest;
#   2. QIDO-RS study search (patient name wildcard, date range, modality) on an index of STUDIES x 10 small instances:
#      median latency of ROUNDS requests per query and server, alternating between the servers;
#   3. WADO-RS retrieval of a series of SERIES CT instances (multipart/related, transfer-syntax=*): MB/s.
# Needs dcmtk, pydicom, numpy and Debian's Orthanc with its DICOMweb plugin:
#   apt-get install dcmtk orthanc orthanc-dicomweb
#   bench/archive.sh            full size: N=2000, STUDIES=10000 (100,000 instances), SERIES=100, ROUNDS=31
#   bench/archive.sh --quick    N=300, STUDIES=1000 (10,000 instances), SERIES=20, ROUNDS=11
#   bench/archive.sh --ingest-only   section 1 alone (with or without --quick)
# ATRIUM=path/to/atrium uses that binary instead of building (SCRATCH=dir picks the build's --scratch-path).
# Orthanc (1.7.4 and later) documents SyncStorageArea, on by default, as an fsync after each stored file; storescp syncs
# nothing; Atrium answers a C-STORE only once the blob and the index row are on disk (fsync), which this benchmark keeps. When the
# binary has sign-in (`atrium token`), a benchmark user and its API token are made offline for the DICOMweb requests.
set -euo pipefail
cd "$(dirname "$0")/.."
n=2000 studies=10000 series_size=100 rounds=31 ingest_only=
for option in "$@"; do
    case "$option" in
        --quick) n=300 studies=1000 series_size=20 rounds=11 ;;
        --ingest-only) ingest_only=1 ;;  # section 1 only
        *) echo "usage: bench/archive.sh [--quick] [--ingest-only]" >&2; exit 2 ;;
    esac
done
command -v Orthanc >/dev/null || { echo "bench/archive.sh needs Orthanc: apt-get install orthanc orthanc-dicomweb" >&2; exit 1; }
dicomweb_plugin=/usr/share/orthanc/plugins/libOrthancDicomWeb.so
[ -f "$dicomweb_plugin" ] || { echo "bench/archive.sh needs orthanc-dicomweb: apt-get install orthanc-dicomweb" >&2; exit 1; }

scratch=${SCRATCH:-.build}
if [ -n "${ATRIUM:-}" ]; then
    atrium=$ATRIUM
else
    swift build -c release --scratch-path "$scratch" --product atrium >/dev/null
    atrium=$scratch/release/atrium
fi
ct=bench/out/ct-$n
series_dir=bench/out/ct-series-$series_size
index=bench/out/index-$studies
python3 bench/make_ct_series.py "$ct" "$n"
python3 bench/make_ct_series.py "$series_dir" "$series_size"
python3 bench/make_study_index.py "$index" "$studies" 10
export TCP_NODELAY=1
work=$(mktemp -d "${BENCH_TMP:-/tmp}/atrium-archive-XXXX")
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 600); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing on port $1" >&2; exit 1; }
wait_http() { for _ in $(seq 600); do curl -sf "$1" >/dev/null && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
now() { date +%s.%N; }
peak_kib() { awk '/^VmHWM/ { print $2 }' "/proc/$1/status"; }

# start_server atrium|orthanc NAME: a server with its data under $work/NAME; sets http_port, dicom_port, server_pid.
start_server() {
    local kind=$1 dir=$work/$2
    http_port=$(free_port) dicom_port=$(free_port)
    mkdir -p "$dir"
    if [ "$kind" = atrium ]; then
        # A binary with sign-in wants a bearer token on DICOMweb: a benchmark user and its token, made offline.
        if "$atrium" token --help >/dev/null 2>&1; then
            printf 'bench-password-%s\n' "$RANDOM$RANDOM" >"$dir.password"
            "$atrium" user add bench --role admin --password-file "$dir.password" --data "$dir" >/dev/null
            ATRIUM_TOKEN=$("$atrium" token create --user bench --data "$dir" | tail -1)
            export ATRIUM_TOKEN
        fi
        "$atrium" serve --data "$dir" --http-port "$http_port" --dicom-port "$dicom_port" --aet BENCH >"$dir.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        wait_http "http://127.0.0.1:$http_port/health"
    else
        cat >"$dir.json" <<JSON
{ "Name": "bench", "DicomAet": "BENCH", "DicomPort": $dicom_port, "HttpPort": $http_port, "HttpServerEnabled": true,
  "RemoteAccessAllowed": false, "AuthenticationEnabled": false, "DicomCheckCalledAet": false,
  "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/index", "StorageCompression": false,
  "Plugins": ["$dicomweb_plugin"], "DicomWeb": { "Enable": true, "Root": "/dicom-web/" } }
JSON
        Orthanc "$dir.json" >"$dir.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        wait_http "http://127.0.0.1:$http_port/system"
    fi
    wait_port "$dicom_port"
}
stop_server() { kill -9 "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

cat "$ct"/* "$series_dir"/* >/dev/null  # warm the page cache for every receiver alike
ct_study=$(python3 -c 'import pydicom, sys, glob; print(pydicom.dcmread(sorted(glob.glob(sys.argv[1] + "/*.dcm"))[0], stop_before_pixels=True).StudyInstanceUID)' "$ct")

echo "== 1. ingest: storescu sends $n CT instances (512x512x16) over one association"
# Each receiver starts on a settled disk: the previous receiver's files stay until the end of this section (deleting
# thousands of files makes ext4's inode allocator skip the freed inodes for the next few seconds, which slowed whichever
# receiver came next), and `sync` plus a pause let the write-back of the previous receiver's data finish first.
settle() { sync; sleep "${SETTLE_SECONDS:-12}"; }
declare -A rate peak
for receiver in atrium orthanc dcmtk; do
    settle
    if [ "$receiver" = dcmtk ]; then
        dicom_port=$(free_port)
        mkdir -p "$work/dcmtk"
        /usr/bin/storescp --aetitle BENCH -od "$work/dcmtk" "$dicom_port" >"$work/dcmtk.log" 2>&1 &
        server_pid=$!
        pids+=("$server_pid")
        wait_port "$dicom_port"
    else
        start_server "$receiver" "ingest-$receiver"
    fi
    start=$(now)
    /usr/bin/storescu -aec BENCH +sd 127.0.0.1 "$dicom_port" "$ct"
    end=$(now)
    peak[$receiver]=$(peak_kib "$server_pid")
    case "$receiver" in
        atrium) stored=$(python3 bench/archive_client.py count "http://127.0.0.1:$http_port/dicom-web" "$ct_study") ;;
        orthanc) stored=$(curl -sf "http://127.0.0.1:$http_port/statistics" | python3 -c 'import json,sys; print(json.load(sys.stdin)["CountInstances"])') ;;
        dcmtk) stored=$(find "$work/dcmtk" -type f | wc -l) ;;
    esac
    stop_server "$server_pid"
    [ "$stored" = "$n" ] || { echo "$receiver holds $stored instances, expected $n" >&2; exit 1; }
    rate[$receiver]=$(python3 -c "print('%.1f' % ($n / ($end - $start)))")
    printf 'storescu -> %-7s %7s instances/s, peak resident memory %6.1f MiB\n' "$receiver" "${rate[$receiver]}" \
        "$(python3 -c "print(${peak[$receiver]} / 1024)")"
done
settle
floor=$(python3 bench/archive_client.py floor "$work/floor" "$(( n < 500 ? n : 500 ))" "$(stat -c %s "$(ls "$ct"/*.dcm | head -1)")")
rm -rf "${work:?}/floor" "${work:?}"/ingest-* "${work:?}/dcmtk"
echo "durable-write floor (file + fsync, directory fsync, 16 KiB log append + fdatasync, serially): $floor instances/s"
python3 -c "a, o, d, f = ${rate[atrium]}, ${rate[orthanc]}, ${rate[dcmtk]}, $floor
print('ingest Atrium/Orthanc %.2fx (target >= 2), Atrium/storescp %.2fx, Orthanc/storescp %.2fx, Atrium/floor %.2f' % (a / o, a / d, o / d, a / f))
print('peak memory Atrium/Orthanc %.2f (target <= 1)' % (${peak[atrium]} / ${peak[orthanc]}))"

[ -z "$ingest_only" ] || exit 0

echo "== 2./3. QIDO-RS on $studies studies x 10 instances, WADO-RS of a $series_size-instance CT series"
# Atrium is filled offline by `atrium import --jobs 16`, Orthanc by two storescu associations at once; both then
# hold the same instances. Loading is not what is measured here, but its time is printed.
start=$(now)
"$atrium" import --jobs 16 --data "$work/query-atrium" "$index" "$series_dir" >"$work/import.log" 2>&1
end=$(now)
echo "atrium import: $(python3 -c "print('%.0f' % ((10 * $studies + $series_size) / ($end - $start)))") instances/s"
start_server atrium query-atrium
a_base=http://127.0.0.1:$http_port/dicom-web
start_server orthanc query-orthanc
o_base=http://127.0.0.1:$http_port/dicom-web
folders=("$index"/*/)
half=$(( (${#folders[@]} + 1) / 2 ))
start=$(now)
/usr/bin/storescu -aec BENCH +sd +r 127.0.0.1 "$dicom_port" "${folders[@]:0:$half}" "$series_dir" &
first=$!
/usr/bin/storescu -aec BENCH +sd +r 127.0.0.1 "$dicom_port" "${folders[@]:$half}"
wait "$first"
end=$(now)
echo "Orthanc loading by storescu x2: $(python3 -c "print('%.0f' % ((10 * $studies + $series_size) / ($end - $start)))") instances/s"
python3 bench/archive_client.py qido "$a_base" "$o_base" "$rounds"
series_uids=$(python3 -c 'import pydicom, sys, glob; d = pydicom.dcmread(sorted(glob.glob(sys.argv[1] + "/*.dcm"))[0], stop_before_pixels=True); print(d.StudyInstanceUID, d.SeriesInstanceUID)' "$series_dir")
# shellcheck disable=SC2086
python3 bench/archive_client.py wado "$a_base" "$o_base" $series_uids "$series_size" "$(( rounds < 15 ? rounds : 15 ))"
