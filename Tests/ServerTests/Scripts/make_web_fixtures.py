#!/usr/bin/env python3
"""Writes the web tests' DICOM fixtures with pydicom and prints what they hold as JSON.

Usage: make_web_fixtures.py OUTPUT_DIR

- chinese.dcm: pydicom's CT_small.dcm as a new study whose patient has a Chinese name, encoded in GB18030.
- study.zip: two images of another new study (CT_small and MR_small as series of one study), a DICOMDIR-less
  folder layout, plus a text file that is not DICOM.
"""
import json
import os
import sys
import zipfile

from pydicom import dcmread
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
suffix = generate_uid()[-8:].replace(".", "")


def renamed(name, study_uid, patient_id, patient_name, charset, institution):
    ds = dcmread(get_testdata_file(name))
    ds.SpecificCharacterSet = charset
    ds.PatientName = patient_name
    ds.PatientID = patient_id
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = generate_uid()
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.InstitutionName = institution
    ds.AccessionNumber = "ACC" + suffix
    return ds


chinese_study = generate_uid()
chinese_id = "WEBZH" + suffix
chinese_name = "Wang^Xiaodong=王^晓东"
ds = renamed("CT_small.dcm", chinese_study, chinese_id, chinese_name, "GB18030", "县人民医院")
chinese_path = os.path.join(out, "chinese.dcm")
ds.save_as(chinese_path, enforce_file_format=True)

zip_study = generate_uid()
zip_id = "WEBZIP" + suffix
zip_path = os.path.join(out, "study.zip")
with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
    for index, name in enumerate(["CT_small.dcm", "MR_small.dcm"]):
        item = renamed(name, zip_study, zip_id, "Li^Na", "ISO_IR 100", "County Hospital")
        part = os.path.join(out, f"part{index}.dcm")
        item.save_as(part, enforce_file_format=True)
        archive.write(part, f"study/IM{index:04d}")
        os.remove(part)
    archive.writestr("study/README.txt", "not a DICOM file\n")

reread = dcmread(chinese_path)
json.dump(
    {
        "chinese": {
            "path": chinese_path,
            "size": os.path.getsize(chinese_path),
            "studyInstanceUID": chinese_study,
            "patientID": chinese_id,
            # The name as pydicom decodes it from GB18030: the ideographic group is what the page shows.
            "ideographic": str(reread.PatientName.ideographic).replace("^", ""),
            "alphabetic": str(reread.PatientName.alphabetic),
            "accession": reread.AccessionNumber,
        },
        "zip": {"path": zip_path, "studyInstanceUID": zip_study, "patientID": zip_id, "dicomEntries": 2, "otherEntries": 1},
    },
    sys.stdout,
    ensure_ascii=False,
)
