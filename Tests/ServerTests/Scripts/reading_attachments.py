#!/usr/bin/env python3
"""Drives the attachments of consultation requests through the JSON API of a running server, with urllib.

Usage: reading_attachments.py BASE_URL PEOPLE_JSON FILES_DIRECTORY

PEOPLE_JSON as reading_api.py's (tokens of siteA, siteB, reader, student, admin; studyA). FILES_DIRECTORY holds the
files of Tests/ReadingTests/Scripts/attachment_files.py (form.pdf, photo.jpg, progressive.jpg, not-a-pdf.pdf).

Checks: a request filed with a PDF in its JSON (base64) keeps it, with the SHA-256 and size hashlib computes; a photo
sent as multipart/form-data becomes a Secondary Capture in the study; a PNG named .pdf is refused with 415 and nothing
is stored (neither a request nor an attachment); a progressive JPEG asked as DICOM gets 422, as a plain file 201; the
list is for site A, the administrator and, once it claims, the reader; site B, a student and an unassigned reader
are refused; a download returns the bytes sent, with the sniffed type and nosniff; the audit trail holds the upload
and the download. Prints one line per step, then a JSON line {"dicom": [SOP Instance UIDs]} and "ok".
"""
import base64
import hashlib
import json
import sys
import threading
import urllib.error
import urllib.request
import uuid

base, people_path, directory = sys.argv[1:4]
people = json.load(open(people_path, encoding="utf-8"))


def fail(message):
    print("FAIL:", message, flush=True)
    sys.exit(1)


def step(name):
    print("step:", name, flush=True)


def check(condition, message):
    if not condition:
        fail(message)


def send(who, method, path, data=None, content_type=None):
    request = urllib.request.Request(base + path, data=data, method=method)
    request.add_header("Accept", "application/json")
    if content_type:
        request.add_header("Content-Type", content_type)
    request.add_header("Authorization", "Bearer " + people[who]["token"])
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def call(who, method, path, body=None, expect=None):
    data = None if body is None else json.dumps(body).encode()
    status, _, raw = send(who, method, path, data, "application/json" if data is not None else None)
    text = raw.decode()
    if expect is not None and status != expect:
        fail(f"{who} {method} {path}: {status}, expected {expect}: {text[:300]}")
    return status, (json.loads(text) if text.strip().startswith(("{", "[")) else text)


def multipart(who, path, files, store_as=None, expect=None):
    boundary = uuid.uuid4().hex
    body = b""
    for name, content in files:
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + content + b"\r\n"
    if store_as:
        body += f"--{boundary}\r\nContent-Disposition: form-data; name=\"storeAs\"\r\n\r\n{store_as}\r\n".encode()
    body += f"--{boundary}--\r\n".encode()
    status, _, raw = send(who, "POST", path, body, f"multipart/form-data; boundary={boundary}")
    if expect is not None and status != expect:
        fail(f"{who} POST {path}: {status}, expected {expect}: {raw[:300]}")
    return status, json.loads(raw) if raw.strip().startswith((b"{", b"[")) else raw


def read(name):
    return open(f"{directory}/{name}", "rb").read()


pdf, photo, progressive, fake = read("form.pdf"), read("photo.jpg"), read("progressive.jpg"), read("not-a-pdf.pdf")

step("a request filed with a PDF in its JSON keeps it, as DICOM in the study")
_, before = call("siteA", "GET", "/api/consultations", expect=200)
status, refused = call("siteA", "POST", "/api/consultations", {
    "priority": "urgent", "question": "Old fracture?", "studies": [people["studyA"]],
    "attachments": [{"filename": "form.pdf", "data": base64.b64encode(pdf).decode(), "storeAs": "dicom"},
                    {"filename": "scan.pdf", "data": base64.b64encode(fake).decode()}]})
check(status == 415, f"a PNG named .pdf in the JSON: {status} {refused}")
_, after = call("siteA", "GET", "/api/consultations", expect=200)
check(len(after) == len(before), "a refused attachment leaves no request behind")
_, request = call("siteA", "POST", "/api/consultations", {
    "priority": "urgent", "question": "Old fracture?", "studies": [people["studyA"]],
    "attachments": [{"filename": "C:\\scans\\form.pdf", "data": base64.b64encode(pdf).decode(), "storeAs": "dicom"}]},
    expect=201)
rid = request["id"]
(first,) = request["attachments"]
check(first["sha256"] == hashlib.sha256(pdf).hexdigest() and first["sizeBytes"] == len(pdf), f"hash and size: {first}")
check(first["contentType"] == "application/pdf" and first["storedAs"] == "dicom" and first["sopInstanceUID"], f"{first}")
check(first["filename"] == "form.pdf", f"the path is dropped from the name: {first['filename']}")

step("a photo sent as multipart/form-data becomes a Secondary Capture")
_, second = multipart("siteA", f"/api/consultations/{rid}/attachments", [("request-form.jpg", photo)], "dicom", expect=201)
check(second["contentType"] == "image/jpeg" and second["storedAs"] == "dicom", f"{second}")
check(second["sha256"] == hashlib.sha256(photo).hexdigest(), "the photo's hash")

step("a PNG named .pdf is refused with 415 and nothing is stored")
status, body = multipart("siteA", f"/api/consultations/{rid}/attachments", [("scan.pdf", fake)])
check(status == 415 and b"PDF" in (body if isinstance(body, bytes) else json.dumps(body).encode()), f"{status} {body}")
_, listed = call("siteA", "GET", f"/api/consultations/{rid}/attachments", expect=200)
check(len(listed) == 2, f"still two attachments: {listed}")

step("a progressive JPEG: 422 as DICOM, 201 as a plain file")
status, body = multipart("siteA", f"/api/consultations/{rid}/attachments", [("phone.jpg", progressive)], "dicom")
check(status == 422, f"progressive as DICOM: {status} {body}")
_, third = multipart("siteA", f"/api/consultations/{rid}/attachments", [("phone.jpg", progressive)], "file", expect=201)
check(third["storedAs"] == "file" and third["sopInstanceUID"] is None, f"{third}")

step("who sees the list: site A, the administrator; not site B, a student or an unassigned reader")
call("admin", "GET", f"/api/consultations/{rid}/attachments", expect=200)
call("siteB", "GET", f"/api/consultations/{rid}/attachments", expect=404)
status, _ = call("student", "GET", f"/api/consultations/{rid}/attachments")
check(status in (403, 404), f"student: {status}")
call("reader", "GET", f"/api/consultations/{rid}/attachments", expect=403)
status, _, _ = send("reader", "GET", f"/api/attachments/{first['id']}")
check(status == 403, f"an unassigned reader downloads: {status}")
status, _, _ = send("siteB", "GET", f"/api/attachments/{first['id']}")
check(status == 404, f"site B downloads: {status}")
multipart("siteB", f"/api/consultations/{rid}/attachments", [("x.pdf", pdf)], expect=404)

step("once it claims, the reader lists and downloads the bytes sent")
_, described = call("reader", "GET", f"/api/consultations/{rid}", expect=200)
item = described["workItems"][0]["id"]
call("reader", "POST", f"/api/worklist/{item}/claim", expect=200)
_, listed = call("reader", "GET", f"/api/consultations/{rid}/attachments", expect=200)
check([a["id"] for a in listed] == [first["id"], second["id"], third["id"]], f"{listed}")
status, headers, content = send("reader", "GET", f"/api/attachments/{second['id']}")
headers = {k.lower(): v for k, v in headers.items()}
check(status == 200 and content == photo, f"download: {status}, {len(content)} bytes")
check(headers.get("content-type") == "image/jpeg" and headers.get("x-content-type-options") == "nosniff", f"{headers}")
check("attachment" in headers.get("content-disposition", ""), f"{headers}")
multipart("reader", f"/api/consultations/{rid}/attachments", [("x.pdf", pdf)], expect=403)

step("the audit trail holds the upload and the download")
for attempt in range(50):
    _, events = call("admin", "GET", f"/api/admin/audit?participant={people['studyA']}&limit=500", expect=200)
    details = " | ".join(e["detail"] for e in events)
    if "downloaded" in details:
        break
    threading.Event().wait(0.1)
check(f"attachment {second['id']} added" in details and f"attachment {second['id']} downloaded" in details, details[:800])
print(json.dumps({"dicom": [first["sopInstanceUID"], second["sopInstanceUID"]]}))
print("ok")
