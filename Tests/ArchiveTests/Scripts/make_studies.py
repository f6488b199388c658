"""Writes a small generated archive (invented patients, nothing real) for the Archive tests.

usage: make_studies.py OUTDIR [COUNT]
Without COUNT: a fixed set of patients, studies, series and instances with English and Chinese names
(UTF-8 and GB18030), dates, times and modalities, for the matching tests. With COUNT: that many
instances in a few studies, for the import and crash tests.
"""
import os
import sys

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, CTImageStorage, MRImageStorage

ROOT = "1.2.826.0.1.3680043.10.1191"

PATIENTS = [
    # id, name, birth date, sex, charset
    ("P001", "Wang^Xiaodong=王^小东=", "19800101", "M", "ISO_IR 192"),
    ("P002", "Wang^Fang=王^芳=", "19750612", "F", "GB18030"),
    ("P003", "Li^Na=李^娜=", "19921130", "F", "ISO_IR 192"),
    ("P004", "Smith^John", "19600305", "M", None),
    ("P005", "Smithers^Anne^Marie", "19881224", "F", None),
    ("P006", "Zhang^Wei=张^伟=", "20010707", "M", "GB18030"),
    ("P007", "Doe^Jane", "19700101", "F", None),
    ("P008", "O'Brien^Sean", "19550520", "M", None),
]

# patient index, study date, study time, accession, description, referring, [(modality, instances)]
STUDIES = [
    (0, "20260105", "081500", "ACC001", "CT CHEST", "Chen^Jie", [("CT", 3), ("SR", 1)]),
    (0, "20260320", "143000", "ACC002", "MR BRAIN", "Chen^Jie", [("MR", 2)]),
    (1, "20251231", "235959", "ACC003", "CT ABDOMEN", "Liu^Yang", [("CT", 2)]),
    (2, "20260101", "000000", "ACC004", "CR CHEST", "", [("CR", 1)]),
    (3, "20240615", "120000", "ACC005", "US ABDOMEN", "Brown^Bob", [("US", 2)]),
    (3, "20260210", "093000", "ACC006", "CT HEAD", "Brown^Bob", [("CT", 1), ("MR", 1)]),
    (4, "20260211", "101010", "ACC007", "MR KNEE", "Green^Ann", [("MR", 2)]),
    (5, "20261231", "180000", "ACC008", "DX HAND", "Liu^Yang", [("DX", 1)]),
    (6, "20250101", "070000", "ACC009", "CT CHEST", "", [("CT", 1)]),
    (7, "20260401", "120001", "ACC010", "PT WHOLE BODY", "Chen^Jie", [("PT", 1), ("CT", 1)]),
]

SOP_CLASSES = {"CT": CTImageStorage, "MR": MRImageStorage}


def make(ds_fields, path):
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds_fields.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds_fields.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds_fields.file_meta = meta
    ds_fields.save_as(path, enforce_file_format=True)


def instance(patient, study_uid, study, series_uid, series_number, modality, number, sop_uid):
    pid, name, birth, sex, charset = patient
    _, date, time, accession, description, referring, _ = study
    ds = Dataset()
    if charset:
        ds.SpecificCharacterSet = charset
    ds.SOPClassUID = SOP_CLASSES.get(modality, SecondaryCaptureImageStorage)
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = date
    ds.StudyTime = time
    ds.SeriesDate = date
    ds.AccessionNumber = accession
    ds.Modality = modality
    ds.ReferringPhysicianName = referring
    ds.StudyDescription = description
    ds.SeriesDescription = f"{modality} series {series_number}"
    ds.PatientName = name
    ds.PatientID = pid
    ds.PatientBirthDate = birth
    ds.PatientSex = sex
    ds.StudyInstanceUID = study_uid
    ds.SeriesInstanceUID = series_uid
    ds.StudyID = accession[-3:]
    ds.SeriesNumber = series_number
    ds.InstanceNumber = number
    ds.Rows = 4
    ds.Columns = 4
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 8
    ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = bytes(range(16))
    return ds


def fixed(out):
    for s, study in enumerate(STUDIES):
        patient = PATIENTS[study[0]]
        study_uid = f"{ROOT}.1.{s + 1}"
        for k, (modality, count) in enumerate(study[6]):
            series_uid = f"{study_uid}.{k + 1}"
            for n in range(count):
                sop_uid = f"{series_uid}.{n + 1}"
                ds = instance(patient, study_uid, study, series_uid, k + 1, modality, n + 1, sop_uid)
                make(ds, os.path.join(out, f"s{s + 1}-{k + 1}-{n + 1}.dcm"))


def bulk(out, count):
    for n in range(count):
        s = n // 100
        study = STUDIES[s % len(STUDIES)]
        patient = PATIENTS[study[0]]
        study_uid = f"{ROOT}.2.{s + 1}"
        series_uid = f"{study_uid}.1"
        ds = instance(patient, study_uid, study, series_uid, 1, "CT", n + 1, f"{series_uid}.{n + 1}")
        ds.PixelData = bytes(range(256)) * 64
        ds.Rows = 128
        ds.Columns = 128
        make(ds, os.path.join(out, f"b{n + 1:05d}.dcm"))


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    if len(sys.argv) > 2:
        bulk(out, int(sys.argv[2]))
    else:
        fixed(out)
