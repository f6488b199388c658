#!/usr/bin/env bash
# Issue 4's benchmark: dcmtk's storescu (TCP_NODELAY=1) sends the same N CT instances (512x512x16, ~520 kB each) to
# `atrium storescp`, to dcmtk's storescp and to Orthanc, one after the other on 127.0.0.1; then Atrium's SCU (`atrium send`)
# and dcmtk's storescu each send the set to dcmtk's storescp.
#   bench/store.sh [N]            (needs dcmtk, pydicom and Debian's orthanc: apt-get install dcmtk orthanc)
# Prints instances/s for each run and the ratios. Each receiver writes to a fresh folder in a temporary directory.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-2000}
scratch=${SCRATCH:-.build}
data=bench/out/ct-$n
python3 bench/make_ct_series.py "$data" "$n"
data=$(realpath "$data")
swift build -c release --scratch-path "$scratch" --product atrium >/dev/null
atrium=$scratch/release/atrium
export TCP_NODELAY=1
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
cat "$data"/* >/dev/null   # warm the page cache for every sender alike

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 200); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; echo "nothing on port $1" >&2; exit 1; }
now() { date +%s.%N; }
rate() { python3 -c "print('%.1f' % ($n / (float('$2') - float('$1'))))"; }

# start_receiver NAME PORT: starts a receiver in the background, records its pid.
start_receiver() {
    local name=$1 port=$2 dir=$work/$1
    mkdir -p "$dir"
    case "$name" in
        atrium) "$atrium" storescp --out "$dir" --port "$port" --aet RECEIVER >"$work/$name.log" 2>&1 & ;;
        dcmtk) /usr/bin/storescp --aetitle RECEIVER -od "$dir" "$port" >"$work/$name.log" 2>&1 & ;;
        orthanc)
            cat >"$work/orthanc.json" <<JSON
{ "Name": "bench", "DicomAet": "RECEIVER", "DicomPort": $port, "HttpPort": $(free_port), "HttpServerEnabled": true,
  "RemoteAccessAllowed": false, "StorageDirectory": "$dir/storage", "IndexDirectory": "$dir/index",
  "DicomCheckCalledAet": false, "StorageCompression": false, "Plugins": [] }
JSON
            Orthanc "$work/orthanc.json" >"$work/$name.log" 2>&1 & ;;
    esac
    pids+=($!)
    wait_port "$port"
}

stop_receiver() { kill -9 "${pids[-1]}" 2>/dev/null || true; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'; }

declare -A rates
for receiver in atrium dcmtk orthanc; do
    port=$(free_port)
    start_receiver "$receiver" "$port"
    start=$(now)
    /usr/bin/storescu -aec RECEIVER +sd 127.0.0.1 "$port" "$data"
    end=$(now)
    stop_receiver
    stored=$(find "$work/$receiver" -type f \( -name '*.dcm' -o -name 'CT.*' -o -path '*/storage/*' \) | grep -vc '\.json$' || true)
    rates[$receiver]=$(rate "$start" "$end")
    echo "storescu -> $receiver storescp: ${rates[$receiver]} instances/s ($stored files)"
    rm -rf "${work:?}/$receiver"
done
python3 -c "a,d,o=${rates[atrium]},${rates[dcmtk]},${rates[orthanc]}; print('Atrium/dcmtk %.2fx, Atrium/Orthanc %.2fx, dcmtk/Orthanc %.2fx' % (a/d, a/o, d/o))"

# The senders: Atrium's SCU against dcmtk's storescu, both to dcmtk's storescp.
declare -A send
for sender in atrium dcmtk; do
    port=$(free_port)
    start_receiver dcmtk "$port"
    start=$(now)
    if [ "$sender" = atrium ]; then
        "$atrium" send --port "$port" --aec RECEIVER "$data" 2>/dev/null
    else
        /usr/bin/storescu -aec RECEIVER +sd 127.0.0.1 "$port" "$data"
    fi
    end=$(now)
    stop_receiver
    send[$sender]=$(rate "$start" "$end")
    echo "$sender SCU -> dcmtk storescp: ${send[$sender]} instances/s"
    rm -rf "${work:?}/dcmtk"
done
python3 -c "print('atrium send / storescu: %.2fx' % (${send[atrium]} / ${send[dcmtk]}))"
