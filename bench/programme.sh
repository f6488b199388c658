#!/usr/bin/env bash
# Issue 19's benchmark: every indicator page of the programme dashboard with a year of data for 30 institutions
# (50,000 consultations, 20,000 cases, 500,000 exam answers), target p95 < 300 ms.
#   1. `atrium bench programme` fills DATA (kept between runs) and times the dashboard's computation in process (the
#      facts, every indicator, the contributions; per view kind), a cold read and a view right after a change;
#   2. `atrium serve` on DATA, and bench/programme_client.py times REQUESTS GETs of each page over HTTP (the dashboard for
#      the year, a month and an institution, the yearly report, the JSON API, the CSV and XLSX exports), after one
#      first request (reported apart: it reads the facts cold).
# ATRIUM=path/to/atrium (default .build/release/atrium, else .build/debug/atrium).
#   bench/programme.sh [DATA [REQUESTS]]     DATA=bench/out/programme, REQUESTS=60
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:-bench/out/programme}
requests=${2:-60}
atrium=${ATRIUM:-}
if [ -z "$atrium" ]; then
    if [ -x .build/release/atrium ]; then atrium=.build/release/atrium; else atrium=.build/debug/atrium; fi
fi
[ -x "$atrium" ] || { echo "no atrium binary at $atrium: swift build -c release (or set ATRIUM)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill ${atrium_pid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
echo "atrium: $atrium ($(git rev-parse --short HEAD)); load: $(uptime | sed 's/.*load average: //')"
echo "in process:"
$atrium bench programme --data "$data" --views 120
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dicom_port=$(free_port)
head -c 24 /dev/urandom | base64 > "$work/password"
$atrium user add bench-admin --role admin --password-file "$work/password" --data "$data" >/dev/null 2>&1 || true
token=$($atrium token create --user bench-admin --data "$data" | tail -1)
$atrium serve --data "$data" --http-port "$port" --dicom-port "$dicom_port" >>"$work/serve.log" 2>&1 &
atrium_pid=$!
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "the server did not start:" >&2; tail -20 "$work/serve.log" >&2; exit 1; }
echo "over HTTP ($requests requests a page):"
python3 bench/programme_client.py "http://127.0.0.1:$port" "$token" "$requests"
echo "load after: $(uptime | sed 's/.*load average: //')"
