#!/usr/bin/env python3
"""The load of bench/soak.sh: every kind of traffic at once against one `atrium serve`, for SECONDS.

Usage: soak_client.py BASE DICOM_PORT TOKENS_JSON WORK_DIR SECONDS SERVER_PID

TOKENS_JSON: {"admin", "teacher", "site", "readers": [...]} API tokens. WORK_DIR: scratch space (the ingest's files).
Set-up (through the API): 20 students with an attempt each at a 10-question exam, 200 consultation requests of the
site on its study for the worklist, a 40-slice CT series for the viewer (sent with storescu). Then, at once:
  ingest    storescu (dcmtk) sends 10 new instances an association, one association a second (fresh UIDs each time);
  qido      QIDO-RS searches of studies, of a study's series and of a series' instances;
  viewer    rendered frames and thumbnails of the CT series (WADO-RS), as a viewer scrolling through it;
  worklist  readers poll the worklist, claim an item now and then and release it soon after;
  exam      students answer their questions (a PUT each, the value checked back at the end), with think times.
Every 5 s the server's resident memory (VmRSS of SERVER_PID) is sampled. At the end it prints, per kind, the requests
served, the errors, p50 and p99 latency, the RSS samples' first, last and maximum, and exits 1 on any error (an
answer other than the expected status, a lost exam answer, a C-STORE not acknowledged).
"""
import collections
import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time

import numpy as np
import pydicom
import requests
from pydicom.uid import generate_uid

base, dicom_port, tokens_path, work, seconds, server_pid = sys.argv[1:7]
seconds = float(seconds)
tokens = json.load(open(tokens_path))
here = os.path.dirname(os.path.abspath(__file__))
lock = threading.Lock()
latencies = collections.defaultdict(list)
errors = collections.defaultdict(int)
error_samples = {}
stop = threading.Event()
environment = dict(os.environ, TCP_NODELAY="1")


def session(token):
    s = requests.Session()
    s.headers["Authorization"] = "Bearer " + token
    return s


def note(kind, started, ok, what=""):
    elapsed = time.monotonic() - started
    with lock:
        if ok:
            latencies[kind].append(elapsed)
        else:
            errors[kind] += 1
            error_samples.setdefault(kind, what[:300])


def call(kind, s, method, url, expect=(200,), **arguments):
    started = time.monotonic()
    try:
        r = s.request(method, url, timeout=60, **arguments)
    except requests.RequestException as error:
        note(kind, started, False, str(error))
        return None
    ok = r.status_code in expect
    note(kind, started, ok, f"{method} {url}: {r.status_code} {r.text[:200]}")
    return r if ok else None


def storescu(files):
    run = subprocess.run(["/usr/bin/storescu", "-v", "-aec", "ATRIUM", "-to", "30", "-td", "60", "127.0.0.1", dicom_port] + files,
                         capture_output=True, text=True, env=environment)
    return (run.stdout + run.stderr).count("Received Store Response (Success)"), run


# --- set-up -------------------------------------------------------------------------------------------------------
admin, teacher, site = session(tokens["admin"]), session(tokens["teacher"]), session(tokens["site"])
setup_started = time.monotonic()
series_dir = os.path.join(work, "series")
subprocess.run([sys.executable, os.path.join(here, "make_ct_series.py"), series_dir, "40"], check=True)
series_files = sorted(os.path.join(series_dir, n) for n in os.listdir(series_dir) if n.endswith(".dcm"))
stored, run = storescu(series_files)
if stored != len(series_files):
    sys.exit(f"the viewer's series was not stored: {run.stdout[-2000:]}")
first = pydicom.dcmread(series_files[0], stop_before_pixels=True)
viewer_study, viewer_series = str(first.StudyInstanceUID), str(first.SeriesInstanceUID)
viewer_instances = [str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID) for f in series_files]

# The site's study, sent by the site user with STOW-RS (so it is the site's, whatever the back end).
sample = pydicom.dcmread(os.path.join(os.path.dirname(pydicom.__file__), "data/test_files/CT_small.dcm"))
site_study = str(sample.StudyInstanceUID)
sample_path = os.path.join(work, "site.dcm")
sample.save_as(sample_path)
boundary = "soak-boundary"
body = (f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + open(sample_path, "rb").read()
        + f"\r\n--{boundary}--\r\n".encode())
r = site.post(base + "/dicom-web/studies", data=body, timeout=60,
              headers={"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
if r.status_code != 200:
    sys.exit(f"STOW-RS of the site's study: {r.status_code} {r.text[:500]}")
for i in range(200):
    r = site.post(base + "/api/consultations", json={"priority": random.choice(["stat", "urgent", "routine"]),
                                                     "question": f"Soak case {i}?", "studies": [site_study]}, timeout=60)
    r.raise_for_status()

bank = {"format": "atrium-question-bank", "version": 1, "questions": [
    {"kind": "single-choice", "stem": f"Soak question {i}", "choices": [
        {"id": "a", "text": "A", "correct": True}, {"id": "b", "text": "B", "correct": False},
        {"id": "c", "text": "C", "correct": False}]} for i in range(10)]}
r = teacher.post(base + "/api/training/questions/import", data=json.dumps(bank), timeout=60)
r.raise_for_status()
question_ids = r.json()["ids"]
r = teacher.post(base + "/api/training/exams", json={"settings": {"title": "Soak", "forms": [question_ids], "timeLimitSeconds": 86400}}, timeout=60)
r.raise_for_status()
exam = r.json()["id"]
students = []
for i in range(20):
    name = f"soak-student-{i}"
    r = admin.post(base + "/api/admin/people", json={"username": name, "password": "soak password " + name, "roles": ["student"]}, timeout=60)
    r.raise_for_status()
    r = admin.post(base + "/api/admin/tokens", json={"username": name, "name": "soak"}, timeout=60)
    r.raise_for_status()
    token = r.json()["token"]
    s = session(token)
    r = s.post(base + f"/api/training/exams/{exam}/attempts", timeout=60)
    r.raise_for_status()
    attempt = r.json()["id"]
    r = s.get(base + f"/api/training/attempts/{attempt}", timeout=60)
    r.raise_for_status()
    students.append({"token": token, "attempt": attempt, "order": [q["id"] for q in r.json()["questions"]]})
print(f"set-up: 40-slice CT series, 200 consultation requests, 20 students with attempts, in {time.monotonic() - setup_started:.1f} s", flush=True)

# --- load ---------------------------------------------------------------------------------------------------------
template = pydicom.dcmread(series_files[0])
ingested = []


def ingest():
    batch_dir = os.path.join(work, "batch")
    while not stop.is_set():
        shutil.rmtree(batch_dir, ignore_errors=True)
        os.makedirs(batch_dir)
        study, series = generate_uid(), generate_uid()
        files, uids = [], []
        for i in range(10):
            template.StudyInstanceUID, template.SeriesInstanceUID = study, series
            template.SOPInstanceUID = template.file_meta.MediaStorageSOPInstanceUID = generate_uid()
            template.InstanceNumber = i + 1
            path = os.path.join(batch_dir, f"{i}.dcm")
            template.save_as(path, enforce_file_format=True)
            files.append(path)
            uids.append(str(template.SOPInstanceUID))
        started = time.monotonic()
        acknowledged, run = storescu(files)
        # One association of ten C-STOREs: its time is noted per instance.
        per = (time.monotonic() - started) / 10
        with lock:
            latencies["ingest"].extend([per] * acknowledged)
            if acknowledged != 10:
                errors["ingest"] += 10 - acknowledged
                error_samples.setdefault("ingest", (run.stdout + run.stderr)[-300:])
            ingested.extend(uids[:acknowledged])
        stop.wait(1.0)


def qido():
    s = session(tokens["admin"])
    accept = {"Accept": "application/dicom+json"}
    while not stop.is_set():
        call("qido", s, "GET", base + "/dicom-web/studies?limit=20&offset=" + str(random.randrange(0, 50)), headers=accept)
        call("qido", s, "GET", base + f"/dicom-web/studies/{viewer_study}/series", headers=accept)
        call("qido", s, "GET", base + f"/dicom-web/studies/{viewer_study}/series/{viewer_series}/instances", headers=accept)
        stop.wait(random.uniform(0.1, 0.4))


def viewer():
    s = session(tokens["admin"])
    root = base + f"/dicom-web/studies/{viewer_study}/series/{viewer_series}/instances/"
    while not stop.is_set():
        call("viewer", s, "GET", root + viewer_instances[0] + "/thumbnail", headers={"Accept": "image/jpeg"})
        for sop in random.sample(viewer_instances, 10):  # a scroll through a part of the series
            if stop.is_set():
                break
            call("viewer", s, "GET", root + sop + "/frames/1/rendered", headers={"Accept": "image/png"})
        stop.wait(random.uniform(0.5, 1.5))


reader_locks = [threading.Lock() for _ in tokens["readers"]]


def worklist(index):
    account = index % len(tokens["readers"])
    s = session(tokens["readers"][account])
    while not stop.is_set():
        r = call("worklist", s, "GET", base + "/api/worklist?limit=50&status=SCHEDULED")
        entries = r.json()["entries"] if r is not None else []
        if entries and random.random() < 0.3:
            item = entries[random.randrange(min(10, len(entries)))]["workItem"]["id"]
            # One person claims one item at a time (two windows of one reader releasing the same item twice would be
            # refused, rightly); another reader may have claimed it first: 409 is an answer, not an error.
            with reader_locks[account]:
                c = call("worklist", s, "POST", base + f"/api/worklist/{item}/claim", expect=(200, 409))
                if c is not None and c.status_code == 200:
                    stop.wait(random.uniform(0.2, 1.0))
                    call("worklist", s, "POST", base + f"/api/worklist/{item}/release")
        stop.wait(random.uniform(0.2, 0.6))


last_answers = {}


def exam_student(student):
    s = session(student["token"])
    sequence = 0
    while not stop.is_set():
        question = random.choice(student["order"])
        choice = random.choice("abc")
        sequence += 1
        r = call("exam", s, "PUT", base + f"/api/training/attempts/{student['attempt']}/answers/{question}",
                 json={"answer": {"choices": [choice]}, "sequence": sequence})
        if r is not None:
            with lock:
                last_answers[(student["attempt"], question)] = (choice, sequence)
        stop.wait(random.uniform(0.5, 2.0))


rss = []


def sample_rss():
    while True:
        try:
            for line in open(f"/proc/{server_pid}/status"):
                if line.startswith("VmRSS:"):
                    rss.append((time.monotonic(), int(line.split()[1]) / 1024))
        except OSError:
            with lock:
                errors["server"] += 1
                error_samples.setdefault("server", "the server process is gone")
            return
        if stop.wait(5.0):
            return


threads = [threading.Thread(target=ingest), threading.Thread(target=sample_rss)]
threads += [threading.Thread(target=qido) for _ in range(2)]
threads += [threading.Thread(target=viewer) for _ in range(2)]
threads += [threading.Thread(target=worklist, args=(i,)) for i in range(4)]
threads += [threading.Thread(target=exam_student, args=(st,)) for st in students]
started = time.monotonic()
for t in threads:
    t.start()
while True:
    left = seconds - (time.monotonic() - started)
    if left <= 0:
        break
    time.sleep(min(30, left))
    with lock:
        done = {k: len(v) for k, v in latencies.items()}
    current = rss[-1][1] if rss else float("nan")
    print(f"  {time.monotonic() - started:5.0f} s: served {done}, errors {dict(errors)}, RSS {current:.0f} MiB", flush=True)
stop.set()
for t in threads:
    t.join()
elapsed = time.monotonic() - started

# --- checks -------------------------------------------------------------------------------------------------------
for student in students:
    r = session(student["token"]).get(base + f"/api/training/attempts/{student['attempt']}", timeout=60)
    stored = r.json()["answers"] if r.status_code == 200 else {}
    for (attempt, question), (choice, sequence) in last_answers.items():
        if attempt != student["attempt"]:
            continue
        entry = stored.get(str(question))
        if entry is None or entry["answer"]["choices"] != [choice] or entry["sequence"] != sequence:
            errors["exam-check"] += 1
            error_samples.setdefault("exam-check", f"attempt {attempt} question {question}: {entry} != {choice}/{sequence}")
found = 0
s = session(tokens["admin"])
for uid in random.sample(ingested, min(200, len(ingested))):
    r = s.get(base + f"/dicom-web/instances?SOPInstanceUID={uid}", headers={"Accept": "application/dicom+json"}, timeout=60)
    found += r.status_code == 200 and len(r.json()) == 1
if found != min(200, len(ingested)):
    errors["ingest-check"] += min(200, len(ingested)) - found
    error_samples.setdefault("ingest-check", f"{found} of {min(200, len(ingested))} sampled ingested instances found")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000 if values else float("nan")


print(f"ran {elapsed:.0f} s; errors: {sum(errors.values())} {dict(errors)}")
for kind, message in error_samples.items():
    print(f"  first {kind} error: {message}")
print(f"{'kind':10} {'served':>8} {'per s':>7} {'p50 ms':>8} {'p99 ms':>8}")
for kind in ["ingest", "qido", "viewer", "worklist", "exam"]:
    values = latencies[kind]
    print(f"{kind:10} {len(values):8d} {len(values) / elapsed:7.1f} {percentile(values, 0.5):8.1f} {percentile(values, 0.99):8.1f}")
if rss:
    values = [v for _, v in rss]
    print(f"RSS (MiB, {len(values)} samples every 5 s): first {values[0]:.0f}, last {values[-1]:.0f}, max {max(values):.0f}; "
          f"at 1/4 {values[len(values) // 4]:.0f}, 1/2 {values[len(values) // 2]:.0f}, 3/4 {values[3 * len(values) // 4]:.0f}")
json.dump({"rss": rss, "errors": dict(errors)}, open(os.path.join(work, "soak.json"), "w"))
sys.exit(1 if sum(errors.values()) else 0)
