#!/usr/bin/env bash
# Issue 16's benchmark: the readers' worklist under load on 127.0.0.1.
#   1. REQUESTS open consultation requests (stat, urgent, routine) filed by a site user through the JSON API;
#   2. READERS simulated readers (threads, READERS / 5 reader accounts) for SECONDS: each polls GET /api/worklist (the
#      first 50 rows, soonest deadline first, with counts) and now and then claims the first waiting item and releases it
#      soon after; OBSERVERS other clients hold the worklist's Server-Sent Events stream open;
#   3. reported: the worklist query's median and p99 latency, and how long a claim takes to be seen by the observers
#      (from sending the claim to each observer's event), median and p99 (the targets: p99 < 50 ms and < 1 s).
# Needs python3 with requests and pydicom. ATRIUM=path/to/atrium (default .build/release/atrium, else .build/debug/atrium).
#   bench/worklist.sh            REQUESTS=10000, READERS=50, OBSERVERS=10, SECONDS=30
#   bench/worklist.sh --quick    REQUESTS=2000, READERS=20, OBSERVERS=5, SECONDS=15
set -euo pipefail
cd "$(dirname "$0")/.."
requests=10000 readers=50 observers=10 seconds=30
for option in "$@"; do
    case "$option" in
        --quick) requests=2000 readers=20 observers=5 seconds=15 ;;
        *) echo "usage: bench/worklist.sh [--quick]" >&2; exit 2 ;;
    esac
done
atrium=${ATRIUM:-}
if [ -z "$atrium" ]; then
    if [ -x .build/release/atrium ]; then atrium=.build/release/atrium; else atrium=.build/debug/atrium; fi
fi
[ -x "$atrium" ] || { echo "no atrium binary at $atrium: swift build -c release (or set ATRIUM)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill ${atrium_pid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
data="$work/atrium-data"
head -c 24 /dev/urandom | base64 > "$work/password"
$atrium institution add COUNTY-A --name "County A" --kind grassroots-hospital --data "$data" >/dev/null
$atrium user add bench-site --role site --institution COUNTY-A --password-file "$work/password" --data "$data" >/dev/null
echo "{\"site\": \"$($atrium token create --user bench-site --data "$data" | tail -1)\", \"readers\": [" > "$work/tokens.json"
accounts=$(( (readers + 4) / 5 ))
for i in $(seq "$accounts"); do
    $atrium user add "bench-reader-$i" --role reader --password-file "$work/password" --data "$data" >/dev/null
    separator=$([ "$i" -lt "$accounts" ] && echo "," || echo "")
    echo "\"$($atrium token create --user "bench-reader-$i" --data "$data" | tail -1)\"$separator" >> "$work/tokens.json"
done
echo "]}" >> "$work/tokens.json"
# One study of the site's, which every request names (requests waiting for a study by accession number would keep the
# linker busy instead).
sample=$(python3 -c 'import os, pydicom; print(os.path.join(os.path.dirname(pydicom.__file__), "data/test_files/CT_small.dcm"))')
$atrium import --data "$data" --institution COUNTY-A "$sample" >/dev/null 2>&1
study=$(python3 -c 'import sys, pydicom; print(pydicom.dcmread(sys.argv[1]).StudyInstanceUID)' "$sample")
$atrium serve --data "$data" --http-port "$port" --dicom-port "$(free_port)" >"$work/serve.log" 2>&1 &
atrium_pid=$!
for i in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
echo "atrium: $atrium ($(git rev-parse --short HEAD)); $requests requests, $readers readers, $observers observers, ${seconds}s"
python3 bench/worklist_client.py "http://127.0.0.1:$port" "$work/tokens.json" "$requests" "$readers" "$observers" "$seconds" "$study"
