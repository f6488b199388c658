#!/usr/bin/env python3
"""Load for the fault tests (FaultTests): C-STORE with dcmtk's storescu, QIDO-RS and WADO-RS with requests, at once,
against one `atrium serve`, while the test breaks something underneath it (PostgreSQL, the S3 bucket).

Usage: fault_load.py BASE DICOM_PORT TOKEN FILES_DIR CONTROL_DIR

CONTROL_DIR/phase holds the test's phase: "before", "fault", "after" or "stop" (the script reads it before and after
each request and tags the request with both). Files are sent five to an association; a file whose C-STORE was not
acknowledged goes back to the end of the queue and is sent again until it is acknowledged or the phase is "stop".
CONTROL_DIR/progress.json is rewritten every half second with counts per kind, phase and outcome; at the end the
summary (the same counts, samples of each failure, the SOP Instance UIDs acknowledged) is printed as JSON.
"""
import collections
import json
import os
import re
import subprocess
import sys
import threading
import time

import pydicom
import requests

base, dicom_port, token, files_dir, control = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
lock = threading.Lock()
counts = collections.defaultdict(int)  # "kind phase outcome" -> n
samples = {}  # "kind phase outcome" -> the first failure's text
acknowledged = {}  # SOP Instance UID -> (study, series)


def phase():
    try:
        return open(os.path.join(control, "phase")).read().strip() or "before"
    except OSError:
        return "before"


def record(kind, started, ended, outcome, text=""):
    # A request that began in one phase and ended in another is counted in "mixed" (neither phase claims it).
    tag = started if started == ended else "mixed"
    key = f"{kind} {tag} {outcome}"
    with lock:
        counts[key] += 1
        if outcome != "ok" and key not in samples:
            samples[key] = text[:400]


files = sorted(os.path.join(files_dir, n) for n in os.listdir(files_dir) if n.endswith(".dcm"))
uids = {}
for path in files:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    uids[path] = (str(ds.SOPInstanceUID), str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID))


# Files still to be stored, shared by the two senders: one association left waiting (a C-STORE that straddles the fault
# may get no answer until storescu's 30 s DIMSE timeout) must not keep the other from sending inside the fault.
queue = collections.deque(files)
queue_lock = threading.Lock()


def store_loop():
    environment = dict(os.environ, TCP_NODELAY="1")
    while phase() != "stop":
        with queue_lock:
            batch = [queue.popleft() for _ in range(min(5, len(queue)))]
        if not batch:
            # The other sender may still put back files it could not store.
            time.sleep(0.2)
            with queue_lock:
                if not queue and all(uids[f][0] in acknowledged for f in files):
                    break
            continue
        started = phase()
        run = subprocess.run(
            ["/usr/bin/storescu", "-v", "-aec", "ATRIUM", "-to", "10", "-ta", "10", "-td", "30", "127.0.0.1", dicom_port] + batch,
            capture_output=True, text=True, env=environment)
        ended = phase()
        answered = {}
        sent = set()
        current = None
        for line in (run.stdout + run.stderr).splitlines():
            if "Sending file: " in line:
                current = line.split("Sending file: ", 1)[1].strip()
                sent.add(current)
            elif "Received Store Response" in line and current:
                answered[current] = line.split("Received Store Response", 1)[1].strip()
                current = None
        for path in batch:
            if path not in sent:
                # storescu ends the association after a refusal: the files after it were not sent (not a failure).
                with queue_lock:
                    queue.append(path)
                continue
            answer = answered.get(path)
            if answer == "(Success)":
                sop, study, series = uids[path]
                with lock:
                    acknowledged[sop] = (study, series)
                record("store", started, ended, "ok")
            else:
                # A failure status (with its reason from storescu's log) or no answer at all (the association failed).
                reason = answer or "no C-STORE response: " + " | ".join((run.stdout + run.stderr).strip().splitlines()[-3:])
                record("store", started, ended, "failed" if answer else "no-answer", reason)
                with queue_lock:
                    queue.append(path)
        time.sleep(0.05)


def http_loop(kind):
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + token
    while phase() != "stop":
        if kind == "qido":
            url, headers = base + "/dicom-web/studies?limit=20", {"Accept": "application/dicom+json"}
        else:
            with lock:
                known = list(acknowledged.items())
            if not known:
                time.sleep(0.2)
                continue
            sop, (study, series) = known[int(time.time() * 1000) % len(known)]
            url = base + f"/dicom-web/studies/{study}/series/{series}/instances/{sop}"
            headers = {"Accept": 'multipart/related; type="application/dicom"'}
        started = phase()
        try:
            response = session.get(url, headers=headers, timeout=60)
            ended = phase()
            outcome = "ok" if response.status_code == 200 else str(response.status_code)
            text = "" if outcome == "ok" else response.text
            if kind == "wado" and outcome == "ok" and sop.encode() not in response.content:
                outcome, text = "wrong", "the instance's UID is not in the body"
            record(kind, started, ended, outcome, text)
        except requests.RequestException as error:
            record(kind, started, phase(), "no-answer", str(error))
            session = requests.Session()
            session.headers["Authorization"] = "Bearer " + token
        time.sleep(0.1)


def summary():
    with lock:
        return {"counts": dict(counts), "samples": dict(samples), "acknowledged": sorted(acknowledged),
                "files": len(files)}


threads = [threading.Thread(target=store_loop), threading.Thread(target=store_loop), threading.Thread(target=http_loop, args=("qido",)),
           threading.Thread(target=http_loop, args=("wado",))]
for thread in threads:
    thread.start()
while any(t.is_alive() for t in threads):
    progress = summary()
    progress.pop("acknowledged")
    progress["acknowledgedCount"] = len(acknowledged)
    with open(os.path.join(control, "progress.tmp"), "w") as out:
        json.dump(progress, out)
    os.replace(os.path.join(control, "progress.tmp"), os.path.join(control, "progress.json"))
    time.sleep(0.5)
print(json.dumps(summary()))
