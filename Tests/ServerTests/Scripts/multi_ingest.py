"""Test data and a STOW-RS client for the several-processes tests (invented patients, nothing real).

usage: multi_ingest.py make OUTDIR COUNT STUDIES     COUNT CT instances over STUDIES new studies (fresh UIDs each run);
                                                    prints {path: SOPInstanceUID}
       multi_ingest.py stow BASE TOKEN FILE...      one STOW-RS request (PS3.18 10.5) with every file as a part;
                                                    prints {"status", "stored": [UIDs], "failed": [UIDs]}
"""
import json
import os
import sys
import urllib.error
import urllib.request
import uuid

from pydicom import dcmread
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, CTImageStorage, generate_uid


def make(out, count, studies):
    os.makedirs(out, exist_ok=True)
    uids = {}
    study_uids = [generate_uid() for _ in range(studies)]
    series_uids = [generate_uid() for _ in range(studies)]
    for n in range(count):
        s = n % studies
        ds = Dataset()
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.PatientName = f"Multi^Process{s}"
        ds.PatientID = f"MP-{study_uids[s][-8:]}"
        ds.StudyInstanceUID = study_uids[s]
        ds.SeriesInstanceUID = series_uids[s]
        ds.StudyDate = "20260301"
        ds.Modality = "CT"
        ds.InstanceNumber = n + 1
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = 64
        ds.Columns = 64
        ds.BitsAllocated = 8
        ds.BitsStored = 8
        ds.HighBit = 7
        ds.PixelRepresentation = 0
        ds.PixelData = bytes((n + i) % 256 for i in range(64 * 64))
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        path = os.path.join(out, f"m{n + 1:05d}.dcm")
        ds.save_as(path, enforce_file_format=True)
        uids[path] = ds.SOPInstanceUID
    return uids


def stow(base, token, files):
    boundary = "mp-" + uuid.uuid4().hex
    body = bytearray()
    for path in files:
        body += f"--{boundary}\r\nContent-Type: application/dicom\r\n\r\n".encode()
        body += open(path, "rb").read()
        body += b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        base + "/dicom-web/studies", data=bytes(body), method="POST",
        headers={"Authorization": "Bearer " + token, "Accept": "application/dicom+json",
                 "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'})
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, text = error.code, error.read()
    answer = json.loads(text or b"{}") if text.strip().startswith(b"{") else {}
    stored = [item["00081155"]["Value"][0] for item in answer.get("00081199", {}).get("Value", [])]
    failed = [item["00081155"]["Value"][0] for item in answer.get("00081198", {}).get("Value", [])]
    return {"status": status, "stored": stored, "failed": failed}


if __name__ == "__main__":
    if sys.argv[1] == "make":
        print(json.dumps(make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))))
    elif sys.argv[1] == "stow":
        print(json.dumps(stow(sys.argv[2], sys.argv[3], sys.argv[4:])))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
