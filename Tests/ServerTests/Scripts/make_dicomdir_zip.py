#!/usr/bin/env python3
"""Zips pydicom's DICOMDIR test medium (the DICOMDIR and the folders it refers to) and prints, as JSON, the zip's path
and how many files the DICOMDIR's directory records refer to (as pydicom reads them).

Usage: make_dicomdir_zip.py OUTPUT_DIR
"""
import json
import os
import sys
import zipfile

from pydicom import dcmread
from pydicom.data import get_testdata_file

dicomdir_path = get_testdata_file("DICOMDIR")
root = os.path.dirname(dicomdir_path)
dicomdir = dcmread(dicomdir_path)
referenced = sorted({"/".join(record.ReferencedFileID) for record in dicomdir.DirectoryRecordSequence if "ReferencedFileID" in record})
out = os.path.join(sys.argv[1], "medium.zip")
with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
    archive.write(dicomdir_path, "DICOMDIR")
    for name in referenced:
        archive.write(os.path.join(root, *name.split("/")), name)
json.dump({"path": out, "referencedFiles": len(referenced)}, sys.stdout)
