#!/usr/bin/env python3
"""Drives UPS-RS (PS3.18 chapter 11, PS3.4 Annex CC) of a running server with urllib and websocket-client, and reads
every dataset with pydicom's Dataset.from_json (software nobody here wrote).

Usage: ups_rs.py BASE_URL PEOPLE_JSON

PEOPLE_JSON maps siteA, siteB, reader, senior, student to {"token", "username"} and holds "studyA" (a study of siteA's
institution, a copy of pydicom's test file "fileA" with a new Study Instance UID).

Checks: a site creates a UPS (201, Content-Location) that appears on the web worklist; a second create with the same
UID is 409; another site cannot name the study; retrieve and search (QIDO-style matching, 204 when nothing matches,
another site sees nothing); three event channels (one item, global, filtered) get initial State Reports; a claim
through the web worklist's API is reported over the WebSocket; a second claim over UPS-RS is 409 with 0xC302; a change
without the owner's Transaction UID is 400 with 0xC301; update needs the Transaction UID; a cancellation request is
reported (UPS Cancel Requested); completion over UPS-RS before the report is signed is 409 with 0xC304, and signing
completes the UPS with its Performed Procedure (PS3.4 CC.2.5.1.3); a final UPS may no longer be updated (0xC300); a scheduled UPS is canceled
by a cancellation request and its request withdrawn; a suspended global subscription gets no new items; a UPS canceled by its performer returns to the worklist as a new
UPS, and is withdrawn when the site had asked for the cancellation; includefield; unsubscribe;
refusals for a student and without a token. Prints one line per step and "ok"; exits non-zero on the first failure.
"""
import json
import sys
import threading
import time
import urllib.error
import urllib.request

import pydicom
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

try:
    import websocket  # websocket-client
except ImportError:
    print("FAIL: websocket-client is missing: pip install websocket-client (scripts/install-deps)", flush=True)
    sys.exit(1)

base, people_path = sys.argv[1:3]
people = json.load(open(people_path, encoding="utf-8"))
GLOBAL = "1.2.840.10008.5.1.4.34.5"
FILTERED = "1.2.840.10008.5.1.4.34.5.1"


def fail(message):
    print("FAIL:", message, flush=True)
    sys.exit(1)


def step(name):
    print("step:", name, flush=True)


def check(condition, message):
    if not condition:
        fail(message)


def call(who, method, path, body=None, expect=None, content_type="application/dicom+json"):
    data = None
    if body is not None:
        data = (body if isinstance(body, str) else json.dumps(body)).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/dicom+json, application/json")
    if data is not None:
        request.add_header("Content-Type", content_type)
    if who:
        request.add_header("Authorization", "Bearer " + people[who]["token"])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, headers, text = response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        status, headers, text = error.code, error.headers, error.read().decode()
    if expect is not None and status != expect:
        fail(f"{who} {method} {path}: {status}, expected {expect}: {text[:300]} warning={headers.get('Warning')}")
    return status, headers, text


def ups_json(ds):
    return json.dumps([ds.to_json_dict()])


def state_payload(state, transaction=None):
    ds = Dataset()
    ds.ProcedureStepState = state
    if transaction:
        ds.TransactionUID = transaction
    return ups_json(ds)


def retrieve(who, uid):
    _, _, text = call(who, "GET", f"/dicom-web/workitems/{uid}", expect=200)
    items = json.loads(text)
    check(isinstance(items, list) and len(items) == 1, f"retrieve returns an array of one: {text[:200]}")
    return Dataset.from_json(items[0])


def search(who, query):
    status, _, text = call(who, "GET", "/dicom-web/workitems?" + query)
    check(status in (200, 204), f"search {query}: {status} {text[:200]}")
    return [] if status == 204 else [Dataset.from_json(item) for item in json.loads(text)]


class Channel:
    """One event channel: a WebSocket read by a thread into a list of pydicom datasets."""

    def __init__(self, who, ae):
        url = base.replace("http://", "ws://") + "/dicom-web/ws/subscribers/" + ae
        self.ws = websocket.create_connection(url, header=["Authorization: Bearer " + people[who]["token"]], timeout=30)
        self.reports = []
        self.lock = threading.Lock()
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        while True:
            try:
                message = self.ws.recv()
            except Exception:
                return
            if not message:
                return
            with self.lock:
                self.reports.append(Dataset.from_json(json.loads(message)))

    def count(self):
        with self.lock:
            return len(self.reports)

    def wait(self, predicate, what, seconds=15, after=0):
        deadline = time.time() + seconds
        while time.time() < deadline:
            with self.lock:
                for report in self.reports[after:]:
                    if predicate(report):
                        return report
            time.sleep(0.05)
        with self.lock:
            seen = [(r.get("EventTypeID"), r.get("AffectedSOPInstanceUID"), r.get("ProcedureStepState")) for r in self.reports]
        fail(f"no event report: {what}; received {seen}")

    def has(self, predicate):
        with self.lock:
            return any(predicate(report) for report in self.reports)


def state_report(uid, state):
    return lambda r: r.EventTypeID == 1 and r.AffectedSOPInstanceUID == uid and r.get("ProcedureStepState") == state


expected = pydicom.dcmread(get_testdata_file(people["fileA"]))
study = people["studyA"]

step("a site creates a UPS for its study; 201 with Content-Location")
uid = generate_uid()
new = Dataset()
new.ProcedureStepLabel = "UPS-RS question: lesion in the left lobe?"
new.ScheduledProcedureStepPriority = "HIGH"
new.ProcedureStepState = "SCHEDULED"
new.WorklistLabel = "Workstation worklist"
item = Dataset()
item.StudyInstanceUID = study
new.InputInformationSequence = [item]
_, headers, _ = call("siteA", "POST", f"/dicom-web/workitems?workitem={uid}", ups_json(new), expect=201)
check((headers.get("Content-Location") or "").endswith("/dicom-web/workitems/" + uid), f"Content-Location {headers.get('Content-Location')}")
call("siteA", "POST", f"/dicom-web/workitems?workitem={uid}", ups_json(new), expect=409)
call("siteB", "POST", "/dicom-web/workitems", ups_json(new), expect=400)
call("reader", "POST", "/dicom-web/workitems", ups_json(new), expect=403)

step("the UPS is on the web worklist, as a stat request")
_, _, text = call("reader", "GET", "/api/worklist", expect=200)
entries = [e for e in json.loads(text)["entries"] if e["workItem"]["uid"] == uid]
check(len(entries) == 1, "the UPS is one worklist entry")
entry = entries[0]
check(entry["priority"] == "stat" and entry["question"] == new.ProcedureStepLabel, f"worklist entry {entry}")
item_id, request_id = entry["workItem"]["id"], entry["id"]

step("retrieve: the UPS dataset, read by pydicom")
ds = retrieve("reader", uid)
check(ds.SOPClassUID == "1.2.840.10008.5.1.4.34.6.1", f"SOP Class {ds.SOPClassUID}")
check(ds.SOPInstanceUID == uid and ds.ProcedureStepState == "SCHEDULED", "UID and state")
check(ds.ScheduledProcedureStepPriority == "HIGH" and ds.ProcedureStepLabel == new.ProcedureStepLabel, "priority and label")
check(ds.WorklistLabel == "Workstation worklist", "the create's own attributes are kept")
check(ds.InputInformationSequence[0].StudyInstanceUID == study, "the input study")
check(ds.PatientID == expected.PatientID and str(ds.PatientName) == str(expected.PatientName), "the patient as the file holds it")
check("TransactionUID" not in ds, "the Transaction UID is never returned")
call("siteB", "GET", f"/dicom-web/workitems/{uid}", expect=404)
check(retrieve("siteA", uid).SOPInstanceUID == uid, "the requesting site retrieves its own UPS")

step("search with QIDO-style matching")
check(uid in [d.SOPInstanceUID for d in search("reader", "ProcedureStepState=SCHEDULED")], "state match")
check(uid in [d.SOPInstanceUID for d in search("reader", f"PatientID={expected.PatientID}&ScheduledProcedureStepPriority=HIGH")], "two keys")
check(uid in [d.SOPInstanceUID for d in search("reader", "ProcedureStepLabel=UPS-RS*")], "wildcard")
check(search("reader", f"SOPInstanceUID={uid}&ScheduledProcedureStepPriority=LOW") == [], "no match: 204")
check(uid not in [d.SOPInstanceUID for d in search("siteB", "ProcedureStepState=SCHEDULED")], "another site sees none of it")

step("event channels: one item, global, filtered (HIGH); initial State Reports")
item_channel = Channel("reader", "WS_ITEM")
global_channel = Channel("reader", "WS_GLOBAL")
filter_channel = Channel("senior", "WS_FILTER")
call("reader", "POST", f"/dicom-web/workitems/{uid}/subscribers/WS_ITEM", expect=201)
call("reader", "POST", f"/dicom-web/workitems/{GLOBAL}/subscribers/WS_GLOBAL?deletionlock=true", expect=201)
call("senior", "POST", f"/dicom-web/workitems/{FILTERED}/subscribers/WS_FILTER?ScheduledProcedureStepPriority=HIGH", expect=201)
for channel in (item_channel, global_channel, filter_channel):
    channel.wait(state_report(uid, "SCHEDULED"), "initial State Report")
call("siteA", "POST", f"/dicom-web/workitems/{uid}/subscribers/WS_SITE", expect=403)

step("a claim through the web worklist's API is reported over the WebSocket")
call("reader", "POST", f"/api/worklist/{item_id}/claim", body={}, expect=200, content_type="application/json")
report = item_channel.wait(state_report(uid, "IN PROGRESS"), "State Report IN PROGRESS after the API claim")
check(report.AffectedSOPClassUID == "1.2.840.10008.5.1.4.34.6.1", "Affected SOP Class UID")
global_channel.wait(state_report(uid, "IN PROGRESS"), "global: IN PROGRESS")
item_channel.wait(lambda r: r.EventTypeID == 5 and r.AffectedSOPInstanceUID == uid, "UPS Assigned after the claim")

step("a second claim over UPS-RS is 409 (0xC302)")
_, headers, _ = call("senior", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("IN PROGRESS", generate_uid()), expect=409)
check("C302" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")
before = item_channel.count()
call("reader", "POST", f"/api/worklist/{item_id}/release", body={}, expect=200, content_type="application/json")
item_channel.wait(state_report(uid, "SCHEDULED"), "State Report SCHEDULED after the release", after=before)

step("a claim over UPS-RS with a Transaction UID; the web worklist shows the owner")
transaction = generate_uid()
call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("IN PROGRESS"), expect=400)
call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("IN PROGRESS", transaction), expect=200)
check(retrieve("reader", uid).ProcedureStepState == "IN PROGRESS", "IN PROGRESS")
_, _, text = call("reader", "GET", f"/api/consultations/{request_id}", expect=200)
owners = [w["owner"] for w in json.loads(text)["workItems"] if w["uid"] == uid]
check(owners == [people["reader"]["username"]], f"owner on the web: {owners}")
_, headers, _ = call("senior", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("IN PROGRESS", generate_uid()), expect=409)
check("C302" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")

step("a change without the owner's Transaction UID is refused (400, 0xC301)")
_, headers, _ = call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("COMPLETED"), expect=400)
check("C301" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")
_, headers, _ = call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("COMPLETED", generate_uid()), expect=400)
check("C301" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")

step("update needs the Transaction UID while IN PROGRESS")
change = Dataset()
change.ProcedureStepLabel = "UPS-RS question: lesion, and its size?"
call("reader", "POST", f"/dicom-web/workitems/{uid}", ups_json(change), expect=400)
call("reader", "POST", f"/dicom-web/workitems/{uid}?transaction={transaction}", ups_json(change), expect=200)
check(retrieve("reader", uid).ProcedureStepLabel == change.ProcedureStepLabel, "the update is kept")
_, _, text = call("reader", "GET", f"/api/consultations/{request_id}", expect=200)
check(json.loads(text)["question"] == change.ProcedureStepLabel, "the web request shows the new label")

step("a cancellation request by the site is reported (UPS Cancel Requested)")
cancel = Dataset()
cancel.ReasonForCancellation = "patient transferred"
call("siteA", "POST", f"/dicom-web/workitems/{uid}/cancelrequest", ups_json(cancel), expect=202)
report = item_channel.wait(lambda r: r.EventTypeID == 2 and r.AffectedSOPInstanceUID == uid, "Cancel Requested")
check(report.ReasonForCancellation == "patient transferred", "the reason")
check(retrieve("reader", uid).ProcedureStepState == "IN PROGRESS", "the performer decides: still IN PROGRESS")

step("completion over UPS-RS before the report is signed: 409 (0xC304); the signature completes the UPS")
_, headers, _ = call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("COMPLETED", transaction), expect=409)
check("C304" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")
check(retrieve("reader", uid).ProcedureStepState == "IN PROGRESS", "still IN PROGRESS after the refusal")
_, _, text = call("reader", "GET", f"/api/consultations/{request_id}", expect=200)
report_id = [r["id"] for r in json.loads(text)["reports"] if r["workItemID"] == item_id][0]
sections = [{"kind": "findings", "title": "Findings", "text": "No focal lesion."},
            {"kind": "impression", "title": "Impression", "text": "Normal study."}]
call("reader", "POST", f"/api/reports/{report_id}/sign", json.dumps({"sections": sections, "password": people["reader"]["password"]}),
     expect=200, content_type="application/json")
item_channel.wait(state_report(uid, "COMPLETED"), "COMPLETED after the signature")
done = retrieve("reader", uid)
check(done.ProcedureStepState == "COMPLETED", "COMPLETED")
# The final state's requirements (PS3.4 CC.2.5.1.3): the Performed Procedure, filled by the server.
performed = done.UnifiedProcedureStepPerformedProcedureSequence[0]
check(performed.PerformedProcedureStepStartDateTime and performed.PerformedProcedureStepEndDateTime, "start and end")
check(performed.PerformedProcedureStepEndDateTime >= performed.PerformedProcedureStepStartDateTime, "end after start")
check(performed.ActualHumanPerformersSequence[0].HumanPerformerCodeSequence[0].CodeValue == people["reader"]["username"], "performer")
code = performed.PerformedWorkitemCodeSequence[0]
check((code.CodeValue, code.CodingSchemeDesignator) == ("110005", "DCM"), f"Interpretation: {code}")
check(performed.PerformedStationNameCodeSequence[0].CodeValue, "station")
output = performed.OutputInformationSequence[0]
check(output.StudyInstanceUID == study and output.ReferencedSOPSequence[0].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.88.11",
      f"the SR is the output: {output}")
_, _, text = call("reader", "GET", f"/api/consultations/{request_id}", expect=200)
check(json.loads(text)["status"] == "final", "the request is final")
_, headers, _ = call("reader", "POST", f"/dicom-web/workitems/{uid}?transaction={transaction}", ups_json(change), expect=409)
check("C300" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")
_, headers, _ = call("reader", "PUT", f"/dicom-web/workitems/{uid}/state", state_payload("COMPLETED", transaction), expect=200)
check("B306" in (headers.get("Warning") or ""), f"already COMPLETED: Warning {headers.get('Warning')}")
_, headers, _ = call("siteA", "POST", f"/dicom-web/workitems/{uid}/cancelrequest", expect=409)
check("C311" in (headers.get("Warning") or ""), f"Warning {headers.get('Warning')}")

step("a scheduled LOW UPS: global channel told, filtered not; its cancellation withdraws the request")
low = Dataset()
low.ProcedureStepLabel = "UPS-RS routine question"
low.ScheduledProcedureStepPriority = "LOW"
low.InputInformationSequence = [item]
_, headers, _ = call("siteA", "POST", "/dicom-web/workitems", ups_json(low), expect=201)
low_uid = headers["Content-Location"].rsplit("/", 1)[1]
global_channel.wait(state_report(low_uid, "SCHEDULED"), "global: the new UPS")
call("siteA", "POST", f"/dicom-web/workitems/{low_uid}/cancelrequest", expect=202)
global_channel.wait(state_report(low_uid, "CANCELED"), "global: CANCELED")
check(retrieve("reader", low_uid).ProcedureStepState == "CANCELED", "CANCELED")
check(not filter_channel.has(lambda r: r.AffectedSOPInstanceUID == low_uid), "the HIGH filter saw nothing of a LOW UPS")
_, _, text = call("reader", "GET", "/api/worklist?status=CANCELED", expect=200)
withdrawn = [e for e in json.loads(text)["entries"] if e["workItem"]["uid"] == low_uid]
check(len(withdrawn) == 1 and withdrawn[0]["status"] == "withdrawn", f"the request is withdrawn: {withdrawn}")

step("a suspended global subscription gets no new items; the filtered one does")
call("reader", "POST", f"/dicom-web/workitems/{GLOBAL}/subscribers/WS_GLOBAL/suspend", expect=200)
high = Dataset()
high.ProcedureStepLabel = "UPS-RS stat question"
high.ScheduledProcedureStepPriority = "HIGH"
high.InputInformationSequence = [item]
_, headers, _ = call("siteA", "POST", "/dicom-web/workitems", ups_json(high), expect=201)
high_uid = headers["Content-Location"].rsplit("/", 1)[1]
filter_channel.wait(state_report(high_uid, "SCHEDULED"), "filtered: the new HIGH UPS")
check(not global_channel.has(lambda r: r.AffectedSOPInstanceUID == high_uid), "suspended: no report of a new UPS")

step("canceled by its performer: back on the worklist as a new UPS; after the site's cancellation request: withdrawn")
transaction = generate_uid()
call("reader", "PUT", f"/dicom-web/workitems/{high_uid}/state", state_payload("IN PROGRESS", transaction), expect=200)
call("reader", "PUT", f"/dicom-web/workitems/{high_uid}/state", state_payload("CANCELED", transaction), expect=200)
canceled = retrieve("reader", high_uid)
check(canceled.ProcedureStepState == "CANCELED", "CANCELED")
check(canceled.ProcedureStepProgressInformationSequence[0].ProcedureStepCancellationDateTime, "the Cancellation DateTime")
_, _, text = call("reader", "GET", "/api/worklist?status=SCHEDULED", expect=200)
requeued = [e for e in json.loads(text)["entries"] if e["question"] == high.ProcedureStepLabel]
check(len(requeued) == 1 and requeued[0]["status"] == "requested" and requeued[0]["workItem"]["uid"] != high_uid,
      f"a new SCHEDULED item for the request: {requeued}")
again = requeued[0]["workItem"]["uid"]
transaction = generate_uid()
call("reader", "PUT", f"/dicom-web/workitems/{again}/state", state_payload("IN PROGRESS", transaction), expect=200)
call("siteA", "POST", f"/dicom-web/workitems/{again}/cancelrequest", expect=202)
call("reader", "PUT", f"/dicom-web/workitems/{again}/state", state_payload("CANCELED", transaction), expect=200)
_, _, text = call("reader", "GET", f"/api/consultations/{requeued[0]['id']}", expect=200)
described = json.loads(text)
check(described["status"] == "withdrawn", f"withdrawn after the site asked: {described['status']}")
check(sorted(w["state"] for w in described["workItems"]) == ["CANCELED", "CANCELED"], f"{described['workItems']}")

step("includefield: a default set of attributes, more by name, all")
brief = [d for d in search("reader", f"SOPInstanceUID={uid}")][0]
check("CommentsOnTheScheduledProcedureStep" not in brief and "UnifiedProcedureStepPerformedProcedureSequence" not in brief,
      "the default set leaves them out")
check(brief.ProcedureStepState == "COMPLETED" and brief.PatientID == expected.PatientID, "the default set")
named = search("reader", f"SOPInstanceUID={uid}&includefield=UnifiedProcedureStepPerformedProcedureSequence")[0]
check("UnifiedProcedureStepPerformedProcedureSequence" in named and "CommentsOnTheScheduledProcedureStep" not in named, "one more")
full = search("reader", f"SOPInstanceUID={uid}&includefield=all")[0]
check("CommentsOnTheScheduledProcedureStep" in full and "WorklistLabel" in full, "all")
call("reader", "GET", "/dicom-web/workitems?includefield=NoSuchAttribute", expect=400)

step("unsubscribe")
call("reader", "DELETE", f"/dicom-web/workitems/{uid}/subscribers/WS_ITEM", expect=200)
call("reader", "DELETE", f"/dicom-web/workitems/{uid}/subscribers/WS_ITEM", expect=404)
call("reader", "DELETE", f"/dicom-web/workitems/{GLOBAL}/subscribers/WS_GLOBAL", expect=200)

step("refusals: a student, no token, a site's event channel")
call("student", "GET", "/dicom-web/workitems", expect=403)
call(None, "GET", "/dicom-web/workitems", expect=401)
# The WebSocket layer answers every refused upgrade with 400, whatever the reason (docs/conformance.md).
for who in ("siteA", "student", None):
    header = ["Authorization: Bearer " + people[who]["token"]] if who else []
    try:
        websocket.create_connection(base.replace("http://", "ws://") + "/dicom-web/ws/subscribers/WS_X", header=header, timeout=10)
        fail(f"{who} opened an event channel")
    except websocket.WebSocketBadStatusException as error:
        check(error.status_code in (400, 401, 403), f"{who}'s event channel: {error.status_code}")
# Without an upgrade, the same URL says why.
call("siteA", "GET", "/dicom-web/ws/subscribers/WS_X", expect=403)
call("reader", "GET", "/dicom-web/ws/subscribers/WS_X", expect=426)
for channel in (item_channel, global_channel, filter_channel):
    channel.ws.close()
print("ok", flush=True)
