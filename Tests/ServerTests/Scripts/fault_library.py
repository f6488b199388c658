#!/usr/bin/env python3
"""Case publication under SIGKILL (FaultTests).

Usage: fault_library.py run BASE TOKEN_A TOKEN_B STUDIES_JSON ACKS_FILE
       fault_library.py check BASE TOKEN_A DATABASE ACKS_FILE STUDIES_JSON

STUDIES_JSON: [{"study", "sop", "patientName", "patientID"}, ...], one CT instance a study, stored before.
run: for every study at once (eight at a time), curator A flags it, makes its case from de-identified copies, fills in
the fields review needs and submits it; curator B approves it. Each acknowledged step is appended to ACKS_FILE at once
("published CASE_ID STUDY"), so the test can kill the server while the rest are under way; a failed request ends that
study's path.
check (after a restart): every case made from a study is in one of two whole states — published with its one
de-identified copy readable (pydicom reads it; neither the patient's name, ID nor the original SOP Instance UID is in
it), or not published (draft or in review) with that copy too — and every flagged study is linked to its case or to
none; every case acknowledged as published is published. DATABASE is the SQLite file, read for the rows the API does
not show (a case without its copies, a flagged study pointing nowhere).
"""
import io
import json
import sqlite3
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pydicom

sys.path.insert(0, __import__("os").path.dirname(__file__))
from atrium_client import Client  # noqa: E402


def run(base, token_a, token_b, studies_path, acks_path):
    a, b = Client(base, token_a), Client(base, token_b)
    studies = json.load(open(studies_path))
    lock = threading.Lock()
    acks = open(acks_path, "a")

    def ack(line):
        with lock:
            acks.write(line + "\n")
            acks.flush()

    def one(entry):
        try:
            status, flagged = a.call("POST", "/api/library/flagged", {"studyInstanceUID": entry["study"], "note": ""})
            if status != 201:
                return f"flag {status} {flagged}"
            status, made = a.call("POST", f"/api/library/flagged/{flagged['id']}/case")
            if status != 201:
                return f"make {status} {made}"
            ack(f"made {made['id']} {entry['study']}")
            content = made["content"]
            content.update({"title": f"Case of {entry['study'][-8:]}", "findings": "A nodule.", "diagnosis": "Granuloma"})
            status, edited = a.call("PUT", f"/api/library/cases/{made['id']}", {"content": content, "revision": made["revision"]})
            if status != 200:
                return f"edit {status} {edited}"
            status, submitted = a.call("POST", f"/api/library/cases/{made['id']}/submit", {"revision": edited["revision"]})
            if status != 200:
                return f"submit {status} {submitted}"
            status, approved = b.call("POST", f"/api/library/cases/{made['id']}/approve", {"revision": submitted["revision"]})
            if status != 200 or approved.get("status") != "published":
                return f"approve {status} {approved}"
            ack(f"published {made['id']} {entry['study']}")
            return "published"
        except OSError as error:  # the server was killed: this study's path ends here
            return f"cut off: {error}"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(one, studies))
    print(json.dumps({"outcomes": outcomes}))


def check(base, token_a, database, acks_path, studies_path):
    a = Client(base, token_a)
    studies = {s["study"]: s for s in json.load(open(studies_path))}
    acked_published = set()
    for line in open(acks_path):
        kind, case_id, _ = line.split()
        if kind == "published":
            acked_published.add(int(case_id))
    db = sqlite3.connect(database)
    problems = []
    cases = db.execute("SELECT id, status, source_key FROM teaching_cases").fetchall()
    flagged = {row[0]: row[1] for row in db.execute("SELECT source_key, case_id FROM teaching_flagged")}
    published = unpublished = 0
    for case_id, status, source_key in cases:
        study = (source_key or "").removeprefix("study:")
        entry = studies.get(study)
        if entry is None:
            problems.append(f"case {case_id} has an unknown source {source_key}")
            continue
        if flagged.get(source_key) != case_id:
            problems.append(f"case {case_id}: its flagged study points at {flagged.get(source_key)}")
        copies = db.execute("SELECT COUNT(*) FROM teaching_images WHERE case_id = ?", (case_id,)).fetchone()[0]
        origin = db.execute("SELECT COUNT(*) FROM teaching_origins WHERE case_id = ?", (case_id,)).fetchone()[0]
        versions = db.execute("SELECT COUNT(*) FROM teaching_case_versions WHERE case_id = ?", (case_id,)).fetchone()[0]
        if copies != 1 or origin != 1 or versions < 1:
            problems.append(f"case {case_id} ({status}): {copies} copies, {origin} origin rows, {versions} versions")
            continue
        status_api, listing = a.call("GET", f"/api/library/cases/{case_id}/images")
        if status_api != 200 or len(listing.get("images", [])) != 1:
            problems.append(f"case {case_id}: image list {status_api} {listing}")
            continue
        sop = listing["images"][0]["sopInstanceUID"]
        status_api, raw = a.call("GET", f"/api/library/cases/{case_id}/images/{sop}", raw=True)
        if status_api != 200:
            problems.append(f"case {case_id}: the copy answers {status_api}")
            continue
        copy = pydicom.dcmread(io.BytesIO(raw))
        if str(copy.PatientName) == entry["patientName"] or copy.PatientID == entry["patientID"] or copy.SOPInstanceUID == entry["sop"]:
            problems.append(f"case {case_id}: the copy is not de-identified")
        if status == "published":
            published += 1
        elif status in ("draft", "in-review"):
            unpublished += 1
        else:
            problems.append(f"case {case_id} is {status}")
        if case_id in acked_published and status != "published":
            problems.append(f"case {case_id} was acknowledged as published but is {status}")
    for source_key, case_id in flagged.items():
        if case_id is not None and case_id not in {c[0] for c in cases}:
            problems.append(f"flagged {source_key} points at a missing case {case_id}")
    print(json.dumps({"cases": len(cases), "published": published, "unpublished": unpublished,
                      "acknowledgedPublished": len(acked_published), "flagged": len(flagged), "problems": problems}))
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(*sys.argv[2:7])
    elif sys.argv[1] == "check":
        check(*sys.argv[2:7])
    else:
        sys.exit("usage: fault_library.py run|check …")
