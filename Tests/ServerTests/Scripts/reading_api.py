#!/usr/bin/env python3
"""Drives the consultation JSON API of a running server with urllib (nobody here wrote it), as seven people.

Usage: reading_api.py BASE_URL PEOPLE_JSON

PEOPLE_JSON maps a name (siteA, siteB, reader, senior, junior, student, admin) to {"token", "password", "username"}
and holds "studyA" (a study of siteA's institution) and "studyB" (of siteB's).

Checks: a stat request by site A (deadline one hour after it was made), invisible to site B and refused to a student;
the worklist sorted by deadline with counts; a claim pushed to another reader's Server-Sent Events stream; a second
claim refused (409); a draft by someone without the lock refused; a junior reader cannot sign; signing needs the right
password; the signed report seen by site A, never by site B; an addendum makes version 2 and the first version stays
as signed; a critical result acknowledged by site A only; a request that names an accession number is linked to the
study when it is listed; withdrawal after a claim refused; the audit trail holds the claim, the signature and the
acknowledgement. Prints one line per step and "ok"; exits non-zero with the reason on the first failure.
"""
import datetime
import json
import queue
import sys
import threading
import urllib.error
import urllib.request

base, people_path = sys.argv[1:3]
people = json.load(open(people_path, encoding="utf-8"))


def call(who, method, path, body=None, expect=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if who:
        request.add_header("Authorization", "Bearer " + people[who]["token"])
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read().decode()
    if expect is not None and status != expect:
        fail(f"{who} {method} {path}: {status}, expected {expect}: {text[:300]}")
    return status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)


def fail(message):
    print("FAIL:", message, flush=True)
    sys.exit(1)


def step(name):
    print("step:", name, flush=True)


def check(condition, message):
    if not condition:
        fail(message)


class Events(threading.Thread):
    """Reads a Server-Sent Events stream (text/event-stream) line by line and queues each change."""

    def __init__(self, who):
        super().__init__(daemon=True)
        request = urllib.request.Request(base + "/api/worklist/events")
        request.add_header("Authorization", "Bearer " + people[who]["token"])
        request.add_header("Accept", "text/event-stream")
        self.response = urllib.request.urlopen(request, timeout=60)
        check(self.response.headers.get("Content-Type", "").startswith("text/event-stream"), "SSE content type")
        self.changes = queue.Queue()
        self.start()

    def run(self):
        event, data = None, []
        for raw in self.response:
            line = raw.decode().rstrip("\r\n")
            if line == "":
                if event == "change" and data:
                    self.changes.put(json.loads("\n".join(data)))
                event, data = None, []
            elif line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())

    def wait_for(self, kind, request_id, seconds=10):
        deadline = datetime.datetime.now() + datetime.timedelta(seconds=seconds)
        while datetime.datetime.now() < deadline:
            try:
                change = self.changes.get(timeout=0.5)
            except queue.Empty:
                continue
            if change["kind"] == kind and change["requestID"] == request_id:
                return change
        fail(f"no {kind} event for request {request_id} on the stream")


step("a student and anonymous callers get nothing")
call("student", "GET", "/api/worklist", expect=403)
call("student", "GET", "/api/consultations", expect=403)
call(None, "GET", "/api/worklist", expect=401)

step("site A files a stat request for its own study; not for site B's")
reader_stream = Events("senior")
site_b_stream = Events("siteB")
before = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
_, created = call("siteA", "POST", "/api/consultations", {
    "studies": [people["studyA"]], "priority": "stat", "question": "Intracranial bleed?", "clinicalHistory": "Fall from a ladder",
    "referringPhysician": "Dr Zhao"}, expect=201)
after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=1)
rid = created["id"]
deadline = datetime.datetime.fromisoformat(created["deadline"].replace("Z", "+00:00"))
requested = datetime.datetime.fromisoformat(created["createdAt"].replace("Z", "+00:00"))
check(before <= requested <= after, f"createdAt {requested} between {before} and {after}")
check(deadline - requested == datetime.timedelta(hours=1), f"stat deadline one hour after the request: {created}")
check(created["studies"] == [people["studyA"]] and created["status"] == "requested", created)
call("siteA", "POST", "/api/consultations", {"studies": [people["studyB"]], "priority": "routine", "question": "?"}, expect=400)
call("reader", "POST", "/api/consultations", {"studies": [people["studyA"]], "priority": "routine", "question": "?"}, expect=403)
reader_stream.wait_for("requested", rid)

step("site B neither sees nor is told about it")
call("siteB", "GET", f"/api/consultations/{rid}", expect=404)
_, listed = call("siteB", "GET", "/api/consultations", expect=200)
check(all(r["id"] != rid for r in listed), "site B's list")
_, own = call("siteA", "GET", "/api/consultations", expect=200)
check(own[0]["id"] == rid, "site A's list")

step("a routine request too; the worklist is sorted by deadline and counted")
_, routine = call("siteA", "POST", "/api/consultations", {
    "studies": [people["studyA"]], "priority": "routine", "question": "Follow-up"}, expect=201)
_, worklist = call("reader", "GET", "/api/worklist", expect=200)
ids = [e["id"] for e in worklist["entries"]]
check(ids.index(rid) < ids.index(routine["id"]), f"stat before routine: {ids}")
check(worklist["counts"]["priority"]["stat"] >= 1 and worklist["counts"]["state"]["SCHEDULED"] >= 2, worklist["counts"])
_, stat_only = call("reader", "GET", "/api/worklist?priority=stat", expect=200)
check({e["priority"] for e in stat_only["entries"]} == {"stat"}, "priority filter")
item = next(e for e in worklist["entries"] if e["id"] == rid)["workItem"]

step("the reader claims; another reader's stream shows it; a second claim is refused")
_, claimed = call("reader", "POST", f"/api/worklist/{item['id']}/claim", expect=200)
check(claimed["state"] == "IN PROGRESS" and claimed["owner"] == people["reader"]["username"], claimed)
reader_stream.wait_for("claimed", rid)
call("senior", "POST", f"/api/worklist/{item['id']}/claim", expect=409)
call("siteA", "POST", f"/api/worklist/{item['id']}/claim", expect=403)
call("siteA", "POST", f"/api/consultations/{rid}/withdraw", expect=409)
report_id = claimed["reportID"]

step("drafts: only the holder writes; the draft is kept on the server")
_, report = call("reader", "GET", f"/api/reports/{report_id}", expect=200)
sections = report["sections"]
check([s["kind"] for s in sections][-1] == "impression", sections)
for s in sections:
    if s["kind"] == "findings":
        s["text"] = "Acute left subdural haematoma, 8 mm, with 4 mm midline shift."
    if s["kind"] == "impression":
        s["text"] = "Acute subdural haematoma."
call("senior", "PUT", f"/api/reports/{report_id}/draft", {"sections": sections}, expect=409)
call("reader", "PUT", f"/api/reports/{report_id}/draft", {"sections": sections}, expect=200)
_, again = call("reader", "GET", f"/api/reports/{report_id}", expect=200)
check(again["sections"] == sections, "the draft as saved")
_, draft_seen = call("siteA", "GET", f"/api/reports/{report_id}", expect=200)
check(draft_seen["sections"] == [], "a site never sees a reader's draft")

step("signing: a junior may not, a wrong password may not, the holder with the password may")
call("junior", "POST", f"/api/reports/{report_id}/sign", {"sections": sections, "password": people["junior"]["password"]}, expect=403)
call("reader", "POST", f"/api/reports/{report_id}/sign", {"sections": sections, "password": "wrong password!!"}, expect=403)
_, signed = call("reader", "POST", f"/api/reports/{report_id}/sign", {"sections": sections, "password": people["reader"]["password"]},
                 expect=200)
check(signed["status"] == "final" and signed["signedVersion"] == 1, signed)
reader_stream.wait_for("signed", rid)
call("reader", "POST", f"/api/reports/{report_id}/sign", {"sections": sections, "password": people["reader"]["password"]}, expect=409)
call("reader", "PUT", f"/api/reports/{report_id}/draft", {"sections": sections}, expect=409)

step("site A reads the signed report; site B cannot")
_, seen = call("siteA", "GET", f"/api/reports/{report_id}", expect=200)
check(seen["versions"][0]["sections"] == sections and seen["versions"][0]["signedBy"] == people["reader"]["username"], seen)
call("siteB", "GET", f"/api/reports/{report_id}", expect=404)
_, document = call("siteA", "GET", f"/api/reports/{report_id}/document", expect=200)
check(document["status"] == "final" and document["studyInstanceUID"] == people["studyA"], document)
_, detail = call("siteA", "GET", f"/api/consultations/{rid}", expect=200)
check(detail["status"] == "final" and [e["kind"] for e in detail["events"]][:3] == ["requested", "claimed", "signed"], detail["events"])

step("an addendum is version 2; version 1 stays as signed")
call("siteA", "POST", f"/api/reports/{report_id}/addenda", {"text": "x", "password": people["siteA"]["password"]}, expect=403)
call("senior", "POST", f"/api/reports/{report_id}/addenda", {"text": "Small right frontal contusion as well.",
     "password": people["senior"]["password"]}, expect=200)
_, amended = call("siteA", "GET", f"/api/reports/{report_id}", expect=200)
check([v["kind"] for v in amended["versions"]] == ["final", "addendum"], amended["versions"])
check(amended["versions"][0]["sections"] == sections and amended["status"] == "amended", amended)
check(amended["versions"][1]["text"] == "Small right frontal contusion as well.", amended["versions"][1])

step("RADPEER: a supervisor scores the signed report; a comment from 2b on; rates per reader")
call("reader", "POST", f"/api/reports/{report_id}/peer-review", {"score": "1"}, expect=403)
call("senior", "POST", f"/api/reports/{report_id}/peer-review", {"score": "3b", "comment": " "}, expect=400)
call("senior", "POST", f"/api/reports/{report_id}/peer-review", {"score": "9"}, expect=400)
_, review = call("senior", "POST", f"/api/reports/{report_id}/peer-review", {"score": "2b", "comment": "Contusion missed."}, expect=201)
check(review["reader"] == people["reader"]["username"] and review["site"] == created["institution"], review)
_, rates = call("senior", "GET", "/api/peer-review?by=reader", expect=200)
row = next(r for r in rates if r["group"] == people["reader"]["username"])
check(row["reviews"] == 1 and row["discrepancyRate"] == 1.0 and row["majorDiscrepancyRate"] == 0.0 and row["significantRate"] == 1.0, row)
call("siteA", "GET", "/api/peer-review", expect=403)

step("a second opinion: a work item of its own for the colleague asked, on the worklist; nobody else claims it")
_, second = call("reader", "POST", f"/api/consultations/{rid}/second-opinion", {"colleague": people["senior"]["username"]}, expect=201)
check(second["kind"] == "second-opinion" and second["state"] == "SCHEDULED" and second["assignee"] == people["senior"]["username"], second)
call("siteA", "POST", f"/api/consultations/{rid}/second-opinion", {"colleague": "x"}, expect=403)
call("junior", "POST", f"/api/worklist/{second['id']}/claim", expect=403)
_, claimed_second = call("senior", "POST", f"/api/worklist/{second['id']}/claim", expect=200)
check(claimed_second["reportID"] != report_id, "the second opinion has a report of its own")
_, senior_notices = call("senior", "GET", "/api/notifications", expect=200)
check("second-opinion" in [n["kind"] for n in senior_notices], senior_notices)

step("the report as a FHIR R4 bundle, valid for fhir.resources' R4B models; not for site B")
from fhir.resources.R4B.bundle import Bundle
request = urllib.request.Request(base + f"/api/reports/{report_id}/fhir", headers={"Authorization": "Bearer " + people["siteA"]["token"]})
with urllib.request.urlopen(request, timeout=30) as answer:
    check(answer.headers.get("Content-Type", "").startswith("application/fhir+json"), answer.headers.get("Content-Type"))
    bundle = Bundle.model_validate_json(answer.read())
kinds = {entry.resource.get_resource_type(): entry.resource for entry in bundle.entry}
check({"DiagnosticReport", "ServiceRequest", "ImagingStudy", "Patient"} <= set(kinds), kinds.keys())
check(kinds["DiagnosticReport"].status == "amended" and kinds["ServiceRequest"].priority == "stat", kinds["DiagnosticReport"].status)
check(any(i.value == "urn:oid:" + people["studyA"] for i in kinds["ImagingStudy"].identifier), kinds["ImagingStudy"].identifier)
call("siteB", "GET", f"/api/reports/{report_id}/fhir", expect=404)

step("key images marked for teaching: a KOS in the study; a note and an instance of the study are required")
call("siteA", "POST", f"/api/reports/{report_id}/teaching", {"note": "x", "keyImages": [people["instanceA"]]}, expect=403)
call("reader", "POST", f"/api/reports/{report_id}/teaching", {"note": " ", "keyImages": [people["instanceA"]]}, expect=400)
call("reader", "POST", f"/api/reports/{report_id}/teaching", {"note": "x", "keyImages": ["1.2.3.4"]}, expect=400)
_, kos = call("reader", "POST", f"/api/reports/{report_id}/teaching",
              {"note": "Classic subdural haematoma 典型硬膜下血肿", "keyImages": [people["instanceA"]]}, expect=201)
check(kos["keyImages"] == 1, kos)

step("a critical result: flagged by a reader, acknowledged by site A only, recorded on the report")
call("siteA", "POST", f"/api/consultations/{rid}/critical", {"finding": "x"}, expect=403)
_, critical = call("reader", "POST", f"/api/consultations/{rid}/critical", {"finding": "Subdural haematoma with midline shift"},
                   expect=201)
_, notices = call("siteA", "GET", "/api/notifications", expect=200)
check("critical" in [n["kind"] for n in notices] and "report-final" in [n["kind"] for n in notices], notices)
_, b_notices = call("siteB", "GET", "/api/notifications", expect=200)
check(all(n["requestID"] != rid for n in b_notices), "site B is not told")
call("siteB", "POST", f"/api/critical/{critical['id']}/acknowledge", expect=403)
_, acknowledged = call("siteA", "POST", f"/api/critical/{critical['id']}/acknowledge", expect=200)
check(acknowledged["acknowledgedBy"] == people["siteA"]["username"], acknowledged)
call("siteA", "POST", f"/api/critical/{critical['id']}/acknowledge", expect=409)
_, document = call("siteA", "GET", f"/api/reports/{report_id}/document", expect=200)
check(any("Subdural haematoma with midline shift" in line and "acknowledged by" in line for line in document["criticalResults"]),
      document["criticalResults"])

step("locks: release, break by a senior only")
routine_item = next(e for e in worklist["entries"] if e["id"] == routine["id"])["workItem"]
call("reader", "POST", f"/api/worklist/{routine_item['id']}/claim", expect=200)
call("junior", "POST", f"/api/worklist/{routine_item['id']}/break", expect=403)
call("junior", "POST", f"/api/worklist/{routine_item['id']}/release", expect=409)
_, broken = call("senior", "POST", f"/api/worklist/{routine_item['id']}/break", expect=200)
check(broken["state"] == "SCHEDULED" and broken["owner"] is None, broken)

step("withdrawal before a claim; a study arriving later links by accession number")
_, waiting = call("siteA", "POST", "/api/consultations", {"priority": "urgent", "question": "Fracture?",
                  "accessionNumber": people["accessionA"]}, expect=201)
check(waiting["studies"] == [people["studyA"]], f"linked at once, the study is already here: {waiting}")
_, gone = call("siteA", "POST", f"/api/consultations/{waiting['id']}/withdraw", expect=200)
check(gone["status"] == "withdrawn", gone)

step("turnaround: site A's CSV counts its own requests; site B's holds none of them; a student gets none")
import csv, io
_, text = call("siteA", "GET", "/api/turnaround.csv?group=site&period=month", expect=200)
rows = list(csv.DictReader(io.StringIO(text)))
_, mine = call("siteA", "GET", "/api/consultations", expect=200)
check({r["group"] for r in rows} == {mine[0]["institution"]}, rows)
check(sum(int(r["requests"]) for r in rows) == len([r for r in mine if r["status"] != "withdrawn"]), (rows, len(mine)))
check(sum(int(r["final_count"]) for r in rows) == len([r for r in mine if r["status"] in ("final", "amended")]), rows)
_, text_b = call("siteB", "GET", "/api/turnaround.csv?group=site&period=month", expect=200)
check(mine[0]["institution"] not in text_b, text_b)
call("student", "GET", "/api/turnaround.csv", expect=403)

step("site B's stream never carried site A's changes")
try:
    while True:
        change = site_b_stream.changes.get_nowait()
        check(change["requestID"] not in (rid, routine["id"], waiting["id"]), f"site B saw {change}")
except queue.Empty:
    pass

step("the audit trail holds the views, claim, signature, addendum and acknowledgement")
for attempt in range(50):
    _, events = call("admin", "GET", f"/api/admin/audit?participant={people['studyA']}&limit=500", expect=200)
    details = " | ".join(e["detail"] for e in events)
    if "lock-broken" in details:
        break
    threading.Event().wait(0.1)
for needle in ["requested", "claimed", "signed", "addendum", "acknowledged", "viewed", "lock-broken"]:
    check(needle in details, f"audit lacks {needle}: {details[:500]}")
check("haematoma" not in details, "no report text in the audit trail")
print("ok")
