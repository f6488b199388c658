#!/usr/bin/env python3
"""Hostile requests against a running `atrium serve` (docs/reliability.md, "Hostile input"), each built here with
Python's own libraries (zipfile, zlib, gzip, json, pydicom), each checked for its refusal: the status, the reason in the
answer, nothing stored from it (a DICOMweb query for its study finds nothing), no file written outside the data folder,
the server still answering, and its resident memory (VmRSS from /proc) after each one.

  hostile_input.py BASE TOKEN PID WORK     TOKEN: a site user's API token; PID: the server's process; WORK: a scratch folder
  hostile_input.py dicomdir WORK           writes a DICOMDIR medium whose references climb out of it (for `atrium import`)
                                           and prints a JSON manifest

Prints `case: NAME STATUS rss=MiB` per input, a JSON line `figures: {...}`, and `ok` when every check passed.
"""
import gzip
import http.client
import io
import json
import os
import socket
import struct
import sys
import urllib.parse
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import intake_hostile  # noqa: E402  (the zip-bomb writer: a 4 GiB gzip body in 4 MiB of disk)

if sys.argv[1] != "dicomdir":
    BASE, TOKEN, PID, WORK = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    HOST, PORT = urllib.parse.urlparse(BASE).hostname, urllib.parse.urlparse(BASE).port
MIB = 1 << 20
figures = {"cases": 0, "peakRSSMiB": 0}
failures = []


def status_kib(field):
    for line in open(f"/proc/{PID}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise SystemExit(f"no {field} for {PID}")


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAILED:", message, flush=True)


def request(method, path, body=b"", headers=None, token=True, timeout=300):
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {TOKEN}"
    connection = http.client.HTTPConnection(HOST, PORT, timeout=timeout)
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, data


def record(name, status, expected, body=b""):
    """One hostile input answered: the status is one of `expected`, the server still answers /health, memory noted."""
    rss = status_kib("VmRSS") // 1024
    figures["cases"] += 1
    figures["peakRSSMiB"] = max(figures["peakRSSMiB"], status_kib("VmHWM") // 1024)
    print(f"case: {name} {status} rss={rss}MiB peak={figures['peakRSSMiB']}MiB {body[:160]!r}", flush=True)
    check(status in expected, f"{name}: answered {status}, expected one of {expected}: {body[:300]!r}")
    health, _ = request("GET", "/health", token=False)
    check(health == 200, f"after {name}: /health answered {health}")


def study_found(uid):
    status, body = request("GET", f"/dicom-web/studies?StudyInstanceUID={uid}", headers={"Accept": "application/dicom+json"})
    return status == 200 and uid.encode() in body


def instance_path(data):
    """/studies/…/series/…/instances/… of a Part 10 object (pydicom reads the UIDs)."""
    import pydicom
    ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True)
    return f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/{ds.SOPInstanceUID}"


def dicom_object(**changes):
    """pydicom's CT_small with fresh UIDs, and whatever `changes` sets; returns (bytes, StudyInstanceUID)."""
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID = generate_uid(), generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    for key, value in changes.items():
        setattr(ds, key, value)
    out = io.BytesIO()
    ds.save_as(out)
    return out.getvalue(), str(ds.StudyInstanceUID)


def stow(parts, boundary="hostile", content_type=None, headers=None):
    body = b"".join(b"--" + boundary.encode() + b"\r\nContent-Type: application/dicom\r\n\r\n" + p + b"\r\n" for p in parts)
    body += b"--" + boundary.encode() + b"--\r\n"
    fields = {"Content-Type": content_type or f'multipart/related; type="application/dicom"; boundary={boundary}'}
    fields.update(headers or {})
    return request("POST", "/dicom-web/studies", body, fields)


def upload(path, name):
    """The resumable upload protocol: create, one PUT, complete; returns (status, results)."""
    size = os.path.getsize(path)
    status, body = request("POST", "/uploads", json.dumps({"name": name, "size": size}).encode(), {"Content-Type": "application/json"})
    check(status in (200, 201), f"upload {name}: create answered {status} {body[:200]!r}")
    upload_id = json.loads(body)["id"]
    status, body = request("PUT", f"/uploads/{upload_id}?offset=0", open(path, "rb").read(), {"Content-Type": "application/octet-stream"})
    check(status == 200, f"upload {name}: PUT answered {status} {body[:200]!r}")
    status, body = request("POST", f"/uploads/{upload_id}/complete")
    return status, json.loads(body).get("results", []) if body[:1] == b"{" else []


def files_named(fragment, roots, shallow=()):
    """Files whose name holds fragment: anywhere under each of roots, and directly in each of shallow (the shared
    /tmp, which holds every other test's folders: walking it all took minutes)."""
    found = []
    for root in roots:
        for folder, _, names in os.walk(root):
            found += [os.path.join(folder, n) for n in names if fragment in n]
    for folder in shallow:
        found += [os.path.join(folder, n) for n in os.listdir(folder) if fragment in n]
    return found


# --- path traversal in zip entries ----------------------------------------------------------------------------------
TRAVERSAL_NAMES = {
    "../../escape-dotdot.dcm": "..", "/tmp/escape-absolute.dcm": "absolute", "..\\..\\escape-backslash.dcm": "backslash",
    "%2e%2e/%2e%2e/escape-encoded.dcm": "percent-encoded", "scan/../../escape-inner.dcm": "..",
    "C:/escape-drive.dcm": "drive letter", "%252e%252e/escape-double.dcm": "percent-encoded",
}


def traversal_zip(work):
    """A zip (Python's zipfile) of one honest object and seven whose names climb out; returns (path, honest study,
    {name: study})."""
    honest, honest_study = dicom_object()
    studies = {}
    path = os.path.join(work, "traversal.zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("study/honest.dcm", honest)
        for name in TRAVERSAL_NAMES:
            data, study = dicom_object()
            studies[name] = study
            z.writestr(zipfile.ZipInfo(name), data)
    with zipfile.ZipFile(path) as z:  # Python's zipfile keeps the names as written
        written = [i.filename for i in z.infolist()]
    if sorted(written) != sorted(["study/honest.dcm"] + list(TRAVERSAL_NAMES)):
        raise SystemExit(f"zipfile changed the names: {written}")
    return path, honest_study, studies


def zip_traversal():
    path, honest_study, studies = traversal_zip(WORK)
    names = TRAVERSAL_NAMES
    status, results = upload(path, "traversal.zip")
    record("zip entries that climb (upload)", status, [200], json.dumps(results).encode())
    by_name = {r["name"]: r for r in results}
    check(by_name.get("traversal.zip/study/honest.dcm", {}).get("status") == "stored", f"the honest entry is stored: {results}")
    for name, what in names.items():
        result = by_name.get("traversal.zip/" + name, {})
        check(result.get("status") == "failed" and "not a safe relative path" in (result.get("reason") or ""),
              f"{name} refused: {result}")
        check(what.split()[0] in (result.get("reason") or ""), f"{name}: the reason names the {what}: {result}")
        check(not study_found(studies[name]), f"{name}: nothing of it stored")
    check(study_found(honest_study), "the honest study is stored")
    # Where a climbing name could land: the work folder, the server's data folder (HOSTILE_DATA) and /tmp itself.
    roots = [WORK] + ([os.environ["HOSTILE_DATA"]] if os.environ.get("HOSTILE_DATA") else [])
    check(files_named("escape-", roots, shallow=["/tmp", os.path.dirname(WORK)]) == [], "no escape-* file written anywhere")
    return path, studies


# --- gzip and deflate bombs in HTTP bodies ----------------------------------------------------------------------------
def body_bombs():
    bomb = os.path.join(WORK, "body.gz")
    intake_hostile.gzip_zeros(bomb, 4 << 30)
    gz = open(bomb, "rb").read()
    # The same 4 GiB of zeros as a zlib stream (Content-Encoding: deflate is zlib, RFC 9110 8.4.1.2).
    deflated = b"\x78\x9c" + b"".join(intake_hostile.zero_blocks(1 << 30)) + b"\0\0\0\0"
    for coding, body, path, content_type in [
        ("gzip", gz, "/uploads", "application/json"),
        ("deflate", deflated, "/uploads", "application/json"),
        ("gzip", gz, "/dicom-web/workitems", "application/dicom+json"),
    ]:
        status, answer = request("POST", path, body, {"Content-Type": content_type, "Content-Encoding": coding})
        record(f"{coding} bomb in a {path} body", status, [413], answer)
        check(b"compression ratio cap" in answer or b"cap" in answer, f"{coding} {path}: the reason names the cap: {answer[:200]!r}")
    # A body that is not gzip at all under Content-Encoding: gzip.
    status, answer = request("POST", "/uploads", b"not gzip at all", {"Content-Type": "application/json", "Content-Encoding": "gzip"})
    record("a corrupt gzip body", status, [400], answer)


# --- the deflated transfer syntax through STOW-RS -------------------------------------------------------------------
def deflated_transfer_syntax():
    path = os.path.join(WORK, "deflated-ts.dcm")
    intake_hostile.part10_deflated(path, 4 * (1 << 30) - 16 * MIB)
    status, answer = stow([open(path, "rb").read()])
    record("deflated transfer syntax inflating to 4 GiB (STOW-RS)", status, [409], answer)
    check(b"00081198" in answer, f"a Failed SOP Sequence: {answer[:200]!r}")


# --- huge declared element lengths --------------------------------------------------------------------------------
def huge_lengths():
    honest, study = dicom_object(PatientComments="short")
    # Patient Comments (0010,4000) LT is written with a 2-byte length in explicit VR; rewrite it as an
    # UN element declaring 0xFFFFFFF0 bytes (4 GiB) with a few bytes behind it.
    marker = struct.pack("<HH", 0x0010, 0x4000) + b"LT" + struct.pack("<H", 6) + b"short "
    check(marker in honest, "pydicom wrote Patient Comments as explicit VR LT")
    huge = honest.replace(marker, struct.pack("<HH", 0x0010, 0x4000) + b"UN\0\0" + struct.pack("<I", 0xFFFFFFF0) + b"short ")
    status, answer = stow([huge])
    record("an element declaring 4 GiB (STOW-RS)", status, [409], answer)
    check(not study_found(study), "nothing of the 4 GiB element stored")
    # Pixel Data declaring 0xFFFFFFF0 bytes.
    pixels, study2 = dicom_object()
    at = pixels.rfind(struct.pack("<HH", 0x7FE0, 0x0010) + b"OW")
    check(at > 0, "pydicom wrote Pixel Data as OW")
    pixels = pixels[:at + 8] + struct.pack("<I", 0xFFFFFFF0) + pixels[at + 12:]
    status, answer = stow([pixels])
    record("Pixel Data declaring 4 GiB (STOW-RS)", status, [409], answer)
    check(not study_found(study2), "nothing of the 4 GiB Pixel Data stored")


# --- deep sequence nesting -------------------------------------------------------------------------------------------
def deep_nesting():
    honest, study = dicom_object()
    # 5,000 nested items of Digital Signatures Sequence (FFFA,FFFA), undefined lengths, after the last element (so the
    # tags stay in order); the same tag opens each item's sequence.
    depth = 5000
    opening = (struct.pack("<HH", 0xFFFA, 0xFFFA) + b"SQ\0\0" + struct.pack("<I", 0xFFFFFFFF)
               + struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF))
    closing = struct.pack("<HHI", 0xFFFE, 0xE00D, 0) + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    nested = honest + opening * depth + closing * depth
    status, answer = stow([nested])
    record(f"sequences nested {depth} deep (STOW-RS)", status, [409], answer)
    check(not study_found(study), "nothing of the nested object stored")
    # DICOM JSON nested as deep (a UPS body): refused with 400.
    text = '{"00081140": {"vr": "SQ", "Value": [' * depth + "{}" + "]}}" * depth
    status, answer = request("POST", "/dicom-web/workitems", text.encode(), {"Content-Type": "application/dicom+json"})
    record(f"DICOM JSON nested {depth} deep (UPS-RS)", status, [400], answer)


# --- pixel floods ----------------------------------------------------------------------------------------------------
def pixel_floods():
    import pydicom
    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless
    cases = []
    # Native: 65535 × 65535 × 1000 frames of 16 bits declared over 2 bytes of pixel data.
    data, study = dicom_object(Rows=65535, Columns=65535, NumberOfFrames=1000, PixelData=b"\0\0")
    cases.append(("native 65535×65535×1000 over 2 bytes", data, study))
    # RLE: 12000 × 12000 16-bit (288 MiB decoded), one tiny fragment.
    ds = pydicom.dcmread(io.BytesIO(dicom_object()[0]))
    header = struct.pack("<16I", 2, 64, 64 + 4, *([0] * 13))
    ds.Rows, ds.Columns = 12000, 12000
    ds.PixelData = encapsulate([header + b"\x00\x00\x00\x00"])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = RLELossless
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    cases.append(("RLE 12000×12000 16-bit over 8 bytes", out.getvalue(), str(ds.StudyInstanceUID)))
    for name, data, study in cases:
        status, answer = stow([data])
        check(status == 200, f"{name}: STOW-RS stores it (the data set itself is valid): {status} {answer[:200]!r}")
        for resource in ["rendered", "frames/1/rendered", "thumbnail"]:
            status, answer = request("GET", f"{instance_path(data)}/{resource}", headers={"Accept": "image/png"})
            record(f"pixel flood, {resource}: {name}", status, [422], answer)
            check(b"above the limit" in answer or b"but the image needs" in answer, f"{name}: the reason: {answer[:200]!r}")
        status, answer = request("GET", f"/dicom-web/studies/{study}/thumbnail", headers={"Accept": "image/png"})
        record(f"pixel flood, study thumbnail: {name}", status, [422], answer)


# --- malformed multipart ----------------------------------------------------------------------------------------------
def malformed_multipart():
    data, study = dicom_object()
    part = b"Content-Type: application/dicom\r\n\r\n" + data + b"\r\n"
    bodies = [
        ("no boundary parameter", 'multipart/related; type="application/dicom"', b"--x\r\n" + part + b"--x--\r\n", [400]),
        ("body not starting with the boundary", 'multipart/related; type="application/dicom"; boundary=x', b"garbage" + data, [400]),
        ("no closing boundary (truncated)", 'multipart/related; type="application/dicom"; boundary=x', b"--x\r\n" + part, [400]),
        ("a part header without a colon", 'multipart/related; type="application/dicom"; boundary=x',
         b"--x\r\nContent-Type application/dicom\r\n\r\n" + data + b"\r\n--x--\r\n", [400]),
        ("a part header never ended", 'multipart/related; type="application/dicom"; boundary=x',
         b"--x\r\nContent-Type: application/dicom\r\n" + b"X-Filler: a\r\n" * 1000, [400]),
        ("a boundary of 5000 characters", f'multipart/related; type="application/dicom"; boundary={"b" * 5000}',
         b"--" + b"b" * 5000 + b"\r\n" + part + b"--" + b"b" * 5000 + b"--\r\n", [400]),
        ("a boundary with CR LF in it", 'multipart/related; type="application/dicom"; boundary="a\\r\\nb"',
         b"--a\r\nb\r\n" + part + b"--a\r\nb--\r\n", [400]),
        ("an empty body", 'multipart/related; type="application/dicom"; boundary=x', b"", [400]),
        ("a body of only the closing boundary", 'multipart/related; type="application/dicom"; boundary=x', b"--x--\r\n", [400]),
        ("not multipart", "application/json", b"{}", [415]),
        ("a part of another type", 'multipart/related; type="application/dicom"; boundary=x',
         b"--x\r\nContent-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--x--\r\n", [409]),
    ]
    for name, content_type, body, expected in bodies:
        status, answer = request("POST", "/dicom-web/studies", body, {"Content-Type": content_type})
        record(f"multipart: {name}", status, expected, answer)
    check(not study_found(study), "nothing stored from a malformed multipart body")
    # The valid part first, then a truncated second: nothing of the first is stored either.
    first, first_study = dicom_object()
    body = b"--x\r\nContent-Type: application/dicom\r\n\r\n" + first + b"\r\n--x\r\nContent-Type: application/dicom\r\n\r\n" + data[:100]
    status, answer = request("POST", "/dicom-web/studies", body,
                             {"Content-Type": 'multipart/related; type="application/dicom"; boundary=x'})
    record("multipart: a valid part, then a truncated one", status, [400], answer)
    check(b"nothing was stored" in answer, f"the answer says nothing was stored: {answer[:200]!r}")
    check(not study_found(first_study), "the valid first part was not stored")


# --- oversized headers and request lines (raw sockets: http.client would refuse to send them) ----------------------
def raw(payload, timeout=60):
    s = socket.create_connection((HOST, PORT), timeout=timeout)
    try:
        s.sendall(payload)
    except OSError:
        pass
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        data += b"<timed out>"
    except OSError:
        pass
    s.close()
    return data


def oversized_headers():
    for name, payload, expected in [
        ("one header field of 1 MiB", b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * MIB + b"\r\n\r\n", b" 431 "),
        ("20,000 header fields", b"GET /health HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-%d: a\r\n" % i for i in range(20000)) + b"\r\n",
         b" 431 "),
        ("a request line of 1 MiB", b"GET /" + b"a" * MIB + b" HTTP/1.1\r\nHost: x\r\n\r\n", b" 431 "),
        ("not HTTP at all", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 100 + b"\r\n\r\n", b" 400 "),
    ]:
        answer = raw(payload)
        status = int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else -1
        record(f"headers: {name}", status, [int(expected.strip())], answer)
        check(not answer.endswith(b"<timed out>"), f"{name}: the connection is answered and closed, not left hanging")


# --- climbing static paths --------------------------------------------------------------------------------------------
def static_paths():
    secret = open("/etc/passwd", "rb").read()[:20]
    for path in ["/static/../Package.swift", "/static/../../../../etc/passwd", "/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
                 "/static/..%2f..%2f..%2fetc%2fpasswd", "/static/%2e%2e%5c%2e%2e%5cetc%5cpasswd", "/static/..\\..\\etc\\passwd",
                 "/static//etc/passwd", "/static/%252e%252e/%252e%252e/etc/passwd", "/static/app.js%00.png",
                 "/static/./../Sources/Server/AtriumServer.swift"]:
        answer = raw(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        status = int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else -1
        record(f"static: {path}", status, [400, 404], answer)
        check(secret not in answer and b"import " not in answer, f"{path}: no file content in the answer")


# --- JSON bombs --------------------------------------------------------------------------------------------------------
def json_bombs():
    for name, body, expected in [
        ("arrays nested 100,000 deep", b"[" * 100000 + b"]" * 100000, [400, 413]),
        ("objects nested 10,000 deep", b'{"a":' * 10000 + b"1" + b"}" * 10000, [400, 413]),
        ("an array of 5 million numbers", b"[" + b"1," * 5000000 + b"1]", [413]),
        ("a string of 64 MiB", b'{"name": "' + b"a" * (64 * MIB) + b'", "size": 1}', [413]),
        ("a name of 10,000 characters", json.dumps({"name": "a" * 10000 + ".zip", "size": 10}).encode(), [400]),
        ("a negative size", json.dumps({"name": "x.zip", "size": -1}).encode(), [400]),
        ("not JSON", b"\xff\xfe{", [400]),
    ]:
        status, answer = request("POST", "/uploads", body, {"Content-Type": "application/json"})
        record(f"JSON API (/uploads): {name}", status, expected, answer)
    for name, body, expected in [
        ("arrays nested 100,000 deep", b"[" * 100000 + b"]" * 100000, [400]),
        ("an array of 5 million objects", b"[" + b"{}," * 5000000 + b"{}]", [413]),
        ("a string value of 16 MiB", b'{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "' + b"a" * (16 * MIB) + b'"}]}}', [413]),
        ("an unknown VR", b'{"00100010": {"vr": "ZZ", "Value": ["x"]}}', [400]),
    ]:
        status, answer = request("POST", "/dicom-web/workitems", body, {"Content-Type": "application/dicom+json"})
        record(f"JSON API (UPS-RS): {name}", status, expected, answer)


# --- oversized uploads -----------------------------------------------------------------------------------------------
def oversized_uploads(cap):
    # A declared Content-Length past maximumUploadBytes: 413 before the body is sent (the headers alone go out).
    answer = raw(b"POST /dicom-web/studies HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + TOKEN.encode()
                 + b"\r\nContent-Type: multipart/related; type=\"application/dicom\"; boundary=x\r\nContent-Length: "
                 + str(100 << 30).encode() + b"\r\n\r\n", timeout=60)
    status = int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else -1
    record("STOW-RS declaring 100 GiB (nothing sent)", status, [413], answer)
    check(b"maximumUploadBytes" in answer, f"the reason names the cap: {answer[:300]!r}")
    # A chunked body without a length that runs past the cap: 413 once it passes.
    connection = http.client.HTTPConnection(HOST, PORT, timeout=300)
    connection.putrequest("POST", "/dicom-web/studies")
    connection.putheader("Authorization", f"Bearer {TOKEN}")
    connection.putheader("Content-Type", 'multipart/related; type="application/dicom"; boundary=x')
    connection.putheader("Transfer-Encoding", "chunked")
    connection.endheaders()
    block = b"\0" * MIB
    try:
        for _ in range(cap // MIB + 8):
            connection.send(b"%x\r\n" % len(block) + block + b"\r\n")
        connection.send(b"0\r\n\r\n")
    except OSError:
        pass
    response = connection.getresponse()
    answer = response.read()
    record(f"STOW-RS chunked past the cap of {cap >> 20} MiB", response.status, [413], answer)
    connection.close()
    # The resumable upload: a declared size past the cap, and a chunk past the declared size.
    status, answer = request("POST", "/uploads", json.dumps({"name": "big.zip", "size": cap + 1}).encode(),
                             {"Content-Type": "application/json"})
    record("an upload declaring more than maximumUploadBytes", status, [413], answer)
    status, answer = request("POST", "/uploads", json.dumps({"name": "small.dcm", "size": 10}).encode(),
                             {"Content-Type": "application/json"})
    upload_id = json.loads(answer)["id"]
    status, answer = request("PUT", f"/uploads/{upload_id}?offset=0", b"x" * 1000, {"Content-Type": "application/octet-stream"})
    record("an upload chunk past its declared size", status, [400, 409, 413, 416], answer)


def main():
    cap = int(os.environ.get("HOSTILE_UPLOAD_CAP", str(64 * MIB)))
    os.makedirs(WORK, exist_ok=True)
    figures["startRSSMiB"] = status_kib("VmRSS") // 1024
    for run in [zip_traversal, malformed_multipart, static_paths, oversized_headers, json_bombs, huge_lengths, deep_nesting,
                pixel_floods, body_bombs, deflated_transfer_syntax, lambda: oversized_uploads(cap)]:
        print("step:", getattr(run, "__name__", "oversized_uploads"), flush=True)
        run()
    figures["endRSSMiB"] = status_kib("VmRSS") // 1024
    figures["peakRSSMiB"] = status_kib("VmHWM") // 1024
    print("figures:", json.dumps(figures), flush=True)
    if failures:
        raise SystemExit(f"{len(failures)} check(s) failed:\n" + "\n".join(failures))
    print("ok")


def dicomdir_medium(work):
    """pydicom's DICOMDIR medium in WORK/medium, five of its image records pointing out of it: `..`, an absolute
    component, a percent-encoded `..`, one component holding `/../..`, and a symbolic link inside the medium to a file
    beside it. WORK/outside.dcm is a valid object of its own study that none of them may store."""
    import shutil
    import pydicom
    from pydicom.data import get_testdata_file
    os.makedirs(work, exist_ok=True)
    outside, outside_study = dicom_object()
    open(os.path.join(work, "outside.dcm"), "wb").write(outside)
    source = get_testdata_file("DICOMDIR")
    medium = os.path.join(work, "medium")
    ds = pydicom.dcmread(source)
    records = [r for r in ds.DirectoryRecordSequence if "ReferencedFileID" in r]
    hostile = [["..", "outside.dcm"], ["/abs", "outside.dcm"], ["%2E%2E", "outside.dcm"], ["SUB/../../outside.dcm"], ["LINK"]]
    kept = set()
    for index, record in enumerate(records):
        original = list(record.ReferencedFileID) if record["ReferencedFileID"].VM > 1 else [record.ReferencedFileID]
        if index < len(hostile):
            record.ReferencedFileID = hostile[index]
        else:
            kept.add("/".join(original))
    os.makedirs(medium, exist_ok=True)
    for name in kept:
        target = os.path.join(medium, *name.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copy(os.path.join(os.path.dirname(source), *name.split("/")), target)
    os.symlink(os.path.join(work, "outside.dcm"), os.path.join(medium, "LINK"))
    ds.save_as(os.path.join(medium, "DICOMDIR"))
    print(json.dumps({"dicomdir": os.path.join(medium, "DICOMDIR"), "outside": os.path.join(work, "outside.dcm"),
                      "outsideStudy": outside_study, "hostile": len(hostile), "kept": len(kept)}))


if __name__ == "__main__":
    import warnings
    warnings.simplefilter("ignore")
    if sys.argv[1] == "dicomdir":
        dicomdir_medium(sys.argv[2])
        path, honest_study, studies = traversal_zip(sys.argv[2])
        print(json.dumps({"zip": path, "honestStudy": honest_study, "names": list(TRAVERSAL_NAMES)}))
    else:
        main()
