#!/usr/bin/env bash
# Issue 22's soak: ingest, queries, viewer traffic, worklist claims and exam answers at once against one `atrium serve`
# on 127.0.0.1 for SECONDS (default 600), with the server's resident memory sampled every 5 s.
#   --backend embedded   the default: SQLite and blobs in the data folder
#   --backend postgres   PostgreSQL (a throwaway cluster made with initdb in the work folder) and S3 (moto's server,
#                        signature checks on), both on loopback
# Prints the errors (the run fails unless 0), the requests served per kind with p50 and p99 latency, and RSS first,
# last and max (bench/soak_client.py describes the load). Bounded: everything lives in a temporary folder, removed at
# the end, and every process it started is stopped.
# Needs dcmtk, python3 with requests, pydicom, numpy (and postgresql, moto[server], boto3 for --backend postgres).
#   bench/soak.sh [--backend embedded|postgres] [--seconds N]     ATRIUM=path/to/atrium (default: release, else debug)
set -euo pipefail
cd "$(dirname "$0")/.."
backend=embedded seconds=600
while [ $# -gt 0 ]; do
    case "$1" in
        --backend) backend=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        *) echo "usage: bench/soak.sh [--backend embedded|postgres] [--seconds N]" >&2; exit 2 ;;
    esac
done
[ "$backend" = embedded ] || [ "$backend" = postgres ] || { echo "--backend is embedded or postgres" >&2; exit 2; }
atrium=${ATRIUM:-}
if [ -z "$atrium" ]; then
    if [ -x .build/release/atrium ]; then atrium=.build/release/atrium; else atrium=.build/debug/atrium; fi
fi
[ -x "$atrium" ] || { echo "no atrium binary at $atrium: swift build -c release (or set ATRIUM)" >&2; exit 1; }
atrium=$(realpath "$atrium")
work=$(mktemp -d)
chmod 755 "$work"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill -9 "$pid" 2>/dev/null || true; done
    [ -f "$work/pg/data/postmaster.pid" ] && kill -9 "$(head -1 "$work/pg/data/postmaster.pid")" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dicom_port=$(free_port)
export ATRIUM_DATA="$work/atrium-data"
if [ "$backend" = postgres ]; then
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    as_postgres=()
    [ "$(id -u)" = 0 ] && { mkdir -p "$work/pg"; chown postgres "$work/pg"; as_postgres=(runuser -u postgres --); }
    "${as_postgres[@]}" "$bin/initdb" -D "$work/pg/data" -A trust -U postgres -E UTF8 --locale=C >/dev/null
    pg_port=$(free_port)
    "${as_postgres[@]}" "$bin/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" -c listen_addresses=127.0.0.1 \
        -c max_connections=200 >"$work/pg.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do "$bin/pg_isready" -h 127.0.0.1 -p "$pg_port" -q && break; sleep 0.2; done
    "${as_postgres[@]}" "$bin/psql" -h 127.0.0.1 -p "$pg_port" -U postgres -q -c "CREATE DATABASE soak" >/dev/null
    s3_port=$(free_port)
    INITIAL_NO_AUTH_ACTION_COUNT=4 python3 -m moto.server -H 127.0.0.1 -p "$s3_port" >"$work/moto.log" 2>&1 &
    pids+=($!)
    for _ in $(seq 100); do curl -s "http://127.0.0.1:$s3_port" >/dev/null && break; sleep 0.2; done
    keys=$(python3 Tests/ArchiveTests/Scripts/s3_peer.py setup "http://127.0.0.1:$s3_port" atrium-soak)
    export ATRIUM_DATABASE="postgres://postgres@127.0.0.1:$pg_port/soak"
    export ATRIUM_STORAGE="s3://atrium-soak/blobs" ATRIUM_STORAGE_ENDPOINT="http://127.0.0.1:$s3_port"
    export AWS_ACCESS_KEY_ID=$(echo "$keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["accessKeyId"])')
    export AWS_SECRET_ACCESS_KEY=$(echo "$keys" | python3 -c 'import json,sys; print(json.load(sys.stdin)["secretAccessKey"])')
    export AWS_REGION=us-east-1
fi
head -c 24 /dev/urandom | base64 > "$work/password"
$atrium institution add COUNTY-A --name "County A" --kind grassroots-hospital >/dev/null
$atrium user add soak-admin --role admin --password-file "$work/password" >/dev/null
$atrium user add soak-teacher --role curator --password-file "$work/password" >/dev/null
$atrium user add soak-site --role site --institution COUNTY-A --password-file "$work/password" >/dev/null
for i in 1 2; do $atrium user add "soak-reader-$i" --role reader --password-file "$work/password" >/dev/null; done
token() { $atrium token create --user "$1" | tail -1; }
cat > "$work/tokens.json" <<EOF
{"admin": "$(token soak-admin)", "teacher": "$(token soak-teacher)", "site": "$(token soak-site)",
 "readers": ["$(token soak-reader-1)", "$(token soak-reader-2)"]}
EOF
$atrium serve --host 127.0.0.1 --http-port "$port" --dicom-port "$dicom_port" --hl7-port "$(free_port)" >"$work/serve.log" 2>&1 &
atrium_pid=$!
pids+=($atrium_pid)
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
echo "atrium: $atrium ($(git rev-parse --short HEAD)); backend $backend; ${seconds} s; $(nproc) cores"
status=0
python3 bench/soak_client.py "http://127.0.0.1:$port" "$dicom_port" "$work/tokens.json" "$work" "$seconds" "$atrium_pid" || status=$?
warnings=$(grep -c -i -E '"?(warning|error|critical)"?' "$work/serve.log" || true)
echo "server log: $warnings warning or error lines"
grep -i -E 'warning|error|critical' "$work/serve.log" | head -5 || true
exit $status
