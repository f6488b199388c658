"""Large STOW-RS bodies against atrium serve (LargeUploadTests): a body of twenty 10 MiB instances with its length
declared, a chunked body of unknown length, and a body cut off halfway. The server spools a large body to a file and
stores its parts one at a time: every instance of a whole body is stored and retrieved equal (dicomweb-client, pydicom),
nothing of a cut body is. Prints one JSON line per case; the test reads the server's peak memory itself.

Usage: large_stow.py BASE_URL TOKEN WORK_FOLDER
"""
import hashlib
import http.client
import io
import json
import os
import socket
import sys
import urllib.parse

import numpy
import pydicom
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

base, token, work = sys.argv[1:4]
boundary = "atrium-large-stow-boundary"
rng = numpy.random.default_rng(20261207)


series_of = {}


def instance(study, rows=2048, columns=2560):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series_of.setdefault(study, generate_uid())
    ds.PatientID, ds.PatientName, ds.Modality = "LARGE-STOW", "Large^Upload", "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, columns, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.PixelData = rng.integers(0, 65536, (rows, columns), dtype=numpy.uint16).tobytes()
    out = io.BytesIO()
    pydicom.dcmwrite(out, ds, enforce_file_format=True)
    return ds.SOPInstanceUID, out.getvalue()


def write_body(path, instances, cut=None):
    with open(path, "wb") as f:
        for _, data in instances:
            f.write(f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode() + data + b"\r\n")
        f.write(f"--{boundary}--\r\n".encode())
    return os.path.getsize(path)


def post(path, chunked=False, send_only=None):
    url = urllib.parse.urlsplit(base)
    size = os.path.getsize(path)
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/dicom+json",
               "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'}
    if send_only is not None:
        # A body cut off: its full length declared, half of it sent, the connection closed.
        sock = socket.create_connection((url.hostname, url.port))
        head = f"POST /dicom-web/studies HTTP/1.1\r\nHost: {url.netloc}\r\nContent-Length: {size}\r\n"
        head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
        sock.sendall(head.encode())
        with open(path, "rb") as f:
            sock.sendall(f.read(send_only))
        sock.shutdown(socket.SHUT_WR)
        sock.settimeout(60)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except OSError:
            pass
        sock.close()
        return answer.split(b"\r\n", 1)[0].decode(errors="replace"), None
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=600)
    with open(path, "rb") as f:
        if chunked:
            connection.request("POST", "/dicom-web/studies", body=iter(lambda: f.read(1 << 20), b""), headers=headers,
                               encode_chunked=True)
        else:
            connection.request("POST", "/dicom-web/studies", body=f, headers=dict(headers, **{"Content-Length": str(size)}))
        response = connection.getresponse()
        body = response.read()
    return response.status, json.loads(body) if body else None


client = DICOMwebClient(base + "/dicom-web", headers={"Authorization": f"Bearer {token}"})


def stored(study):
    return {d["00080018"]["Value"][0] for d in client.search_for_instances(study_instance_uid=study)}


# 1. Twenty 10 MiB instances, the length declared.
study = generate_uid()
instances = [instance(study) for _ in range(20)]
path = os.path.join(work, "large.body")
size = write_body(path, instances)
status, answer = post(path)
referenced = (answer or {}).get("00081199", {}).get("Value", [])
print(json.dumps({"case": "declared", "bytes": size, "status": status, "referenced": len(referenced)}))
if status != 200 or len(referenced) != 20 or stored(study) != {uid for uid, _ in instances}:
    sys.exit(f"declared: {status}, {len(referenced)} referenced, {len(stored(study))} stored")
for uid, data in [instances[0], instances[-1]]:
    back = client.retrieve_instance(study, series_of[study], uid)
    if hashlib.sha256(back.PixelData).digest() != hashlib.sha256(pydicom.dcmread(io.BytesIO(data)).PixelData).digest():
        sys.exit(f"declared: the pixels of {uid} came back otherwise")
os.remove(path)

# 2. Four instances sent chunked (no Content-Length: spooled too).
study = generate_uid()
instances = [instance(study) for _ in range(4)]
path = os.path.join(work, "chunked.body")
size = write_body(path, instances)
status, answer = post(path, chunked=True)
print(json.dumps({"case": "chunked", "bytes": size, "status": status}))
if status != 200 or stored(study) != {uid for uid, _ in instances}:
    sys.exit(f"chunked: {status}, {len(stored(study))} stored")
os.remove(path)

# 3. Six instances, the body cut off after half of its bytes: nothing of it is stored.
study = generate_uid()
instances = [instance(study) for _ in range(6)]
path = os.path.join(work, "cut.body")
size = write_body(path, instances)
line, _ = post(path, send_only=size // 2)
print(json.dumps({"case": "cut", "bytes": size, "sent": size // 2, "answer": line}))
if stored(study):
    sys.exit(f"cut: {len(stored(study))} instances of a body cut off halfway were stored")
os.remove(path)
print("ok")
