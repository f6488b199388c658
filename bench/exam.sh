#!/usr/bin/env bash
# Issue 18's benchmark: an exam under load on 127.0.0.1.
#   1. STUDENTS student accounts with API tokens, a bank of QUESTIONS single-choice questions and one exam of them;
#   2. every student starts an attempt, then all answer at once for at most SECONDS: each question once in the attempt's
#      order after a random think time (0 to 2 × SECONDS / QUESTIONS s), a fifth of them changed once more later; every
#      answer is one PUT /api/training/attempts/{id}/answers/{question}, retried on a connection error until it is
#      acknowledged (the same request again: idempotent);
#   3. reported: the median and p99 latency of an acknowledged answer, and a check of every answer against the
#      database through the API: the last acknowledged write of each question is what is stored (the target: p99 <
#      100 ms, nothing lost).
#   With --burst, nobody thinks: every student sends its answers back to back (the server saturated, not a real exam).
#   With --kill, the server is SIGKILLed half-way through and started again on the same data and port; answers in
#   flight are retried by the students, and the check is the same (answers acknowledged before the kill are there).
# Needs python3 with requests. ATRIUM=path/to/atrium (default .build/release/atrium, else .build/debug/atrium).
#   bench/exam.sh [--kill]            STUDENTS=300, QUESTIONS=20, SECONDS=60
#   bench/exam.sh --quick [--kill]    STUDENTS=100, QUESTIONS=10, SECONDS=20
set -euo pipefail
cd "$(dirname "$0")/.."
students=300 questions=20 seconds=60 kill=0 burst=""
for option in "$@"; do
    case "$option" in
        --quick) students=100 questions=10 seconds=20 ;;
        --kill) kill=1 ;;
        --burst) burst=burst ;;
        *) echo "usage: bench/exam.sh [--quick] [--kill] [--burst]" >&2; exit 2 ;;
    esac
done
atrium=${ATRIUM:-}
if [ -z "$atrium" ]; then
    if [ -x .build/release/atrium ]; then atrium=.build/release/atrium; else atrium=.build/debug/atrium; fi
fi
[ -x "$atrium" ] || { echo "no atrium binary at $atrium: swift build -c release (or set ATRIUM)" >&2; exit 1; }
work=$(mktemp -d)
trap 'kill -9 ${atrium_pid:-} 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
dicom_port=$(free_port)
data="$work/atrium-data"
head -c 24 /dev/urandom | base64 > "$work/password"
$atrium user add bench-admin --role admin --password-file "$work/password" --data "$data" >/dev/null
$atrium user add bench-teacher --role curator --password-file "$work/password" --data "$data" >/dev/null
admin=$($atrium token create --user bench-admin --data "$data" | tail -1)
teacher=$($atrium token create --user bench-teacher --data "$data" | tail -1)
serve() {
    $atrium serve --data "$data" --http-port "$port" --dicom-port "$dicom_port" >>"$work/serve.log" 2>&1 &
    atrium_pid=$!
    for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && return 0; sleep 0.1; done
    echo "the server did not start:" >&2; tail -20 "$work/serve.log" >&2; exit 1
}
serve
echo "atrium: $atrium ($(git rev-parse --short HEAD)); $students students, $questions questions, ${seconds}s$([ $kill = 1 ] && echo ', SIGKILL half-way')$([ -n "$burst" ] && echo ', burst')"
python3 bench/exam_client.py setup "http://127.0.0.1:$port" "$admin" "$teacher" "$students" "$questions" "$work/state.json"
python3 bench/exam_client.py run "http://127.0.0.1:$port" "$work/state.json" "$seconds" $burst &
client=$!
if [ $kill = 1 ]; then
    sleep "$(python3 -c "print($seconds / 2 + 3)")"
    kill -9 "$atrium_pid"
    wait "$atrium_pid" 2>/dev/null || true
    killed_at=$(date +%s.%N)
    serve
    echo "server SIGKILLed and started again in $(python3 -c "import time; print(f'{time.time() - $killed_at:.2f}')") s"
fi
wait "$client"
python3 bench/exam_client.py check "http://127.0.0.1:$port" "$work/state.json"
