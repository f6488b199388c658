"""Helpers of the backup-and-restore test, built on pydicom, dicomweb-client and Python's sqlite3 (none of them Atrium's).

  backup_check.py make DIR N [SIDE]   writes N CT instances (pydicom's CT_small with new UIDs, one study) into DIR;
                                      with SIDE, each has SIDE x SIDE 16-bit pixels of random values instead
  backup_check.py tables DB T1 T2 ... prints every row of the tables, as JSON ({table: [rows sorted]})
  backup_check.py retrieve URL FILE…  retrieves each file's instance over WADO-RS (ATRIUM_TOKEN) and checks that it is
                                      the same data set; prints one line per file, "ok" or what differs; exit 1 on any
  backup_check.py bucket save|wipe|load ENDPOINT BUCKET [FOLDER]
                                      with boto3 (AWS_* from the environment), as `aws s3 sync` would: every object of the
                                      bucket copied into FOLDER (keys as paths), every object deleted, or FOLDER's files
                                      put back under their keys; prints {"objects": N}
"""
import json
import os
import sqlite3
import sys

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid


def make(directory, count, side=None):
    os.makedirs(directory, exist_ok=True)
    study = generate_uid()
    series = generate_uid()
    for n in range(count):
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = n + 1
        ds.PatientID = "BACKUP-1"
        if side:
            ds.Rows = ds.Columns = side
            ds.PixelData = os.urandom(side * side * 2)
        ds.save_as(os.path.join(directory, "%03d.dcm" % n), enforce_file_format=True)


def tables(path, names):
    connection = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    out = {}
    for name in names:
        rows = connection.execute("SELECT * FROM %s" % name).fetchall()
        out[name] = sorted([[v.hex() if isinstance(v, bytes) else v for v in row] for row in rows], key=repr)
    print(json.dumps(out, sort_keys=True, ensure_ascii=False))


def retrieve(url, files):
    from dicomweb_client.api import DICOMwebClient
    from requests import Session

    session = Session()
    session.headers["Authorization"] = "Bearer " + os.environ["ATRIUM_TOKEN"]
    client = DICOMwebClient(url=url, session=session)
    failures = 0
    for path in files:
        sent = pydicom.dcmread(path)
        try:
            got = client.retrieve_instance(sent.StudyInstanceUID, sent.SeriesInstanceUID, sent.SOPInstanceUID)
        except Exception as error:  # the instance is missing or unreadable
            print("%s: %s" % (path, error))
            failures += 1
            continue
        differences = [
            "%s %s != %s" % (element.tag, element.repval, got[element.tag].repval if element.tag in got else "missing")
            for element in sent
            # Data Set Trailing Padding may be dropped by any application (PS3.10 7.2).
            if element.tag != 0xFFFCFFFC and (element.tag not in got or got[element.tag] != element)]
        if differences:
            print("%s: the retrieved data set differs: %s" % (path, "; ".join(differences)))
            failures += 1
        else:
            print("%s: ok" % path)
    sys.exit(1 if failures else 0)


def bucket(action, endpoint, name, folder=None):
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    count = 0
    if action == "load":
        for root, _, names in os.walk(folder):
            for file in names:
                path = os.path.join(root, file)
                s3.upload_file(path, name, os.path.relpath(path, folder))
                count += 1
    else:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=name):
            for item in page.get("Contents", []):
                key = item["Key"]
                if action == "save":
                    path = os.path.join(folder, key)
                    if os.path.commonpath([os.path.abspath(path), os.path.abspath(folder)]) != os.path.abspath(folder):
                        sys.exit("a key climbs out of the folder: " + key)
                    os.makedirs(os.path.dirname(path), exist_ok=True)
                    s3.download_file(name, key, path)
                else:
                    s3.delete_object(Bucket=name, Key=key)
                count += 1
    print(json.dumps({"objects": count}))


if __name__ == "__main__":
    command = sys.argv[1]
    if command == "make":
        make(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]) if len(sys.argv) > 4 else None)
    elif command == "tables":
        tables(sys.argv[2], sys.argv[3:])
    elif command == "retrieve":
        retrieve(sys.argv[2], sys.argv[3:])
    elif command == "bucket":
        bucket(*sys.argv[2:])
    else:
        sys.exit("unknown command " + command)
