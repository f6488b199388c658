#!/usr/bin/env python3
"""Writes N synthetic CT instances of 512x512x16 bits (one study, one series) with pydicom, for benchmarks.

Usage: bench/make_ct_series.py OUT_DIR [N]. Invented patients only; headers are shaped like a real CT's
(about 100 elements, a private block, a nested sequence). Nothing is written when OUT_DIR already holds N files.
"""
import os
import sys

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
    os.makedirs(out, exist_ok=True)
    if len([f for f in os.listdir(out) if f.endswith(".dcm")]) >= n:
        return
    rng = np.random.default_rng(7)
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    yy, xx = np.mgrid[0:512, 0:512]
    body = ((yy - 256) ** 2 + (xx - 256) ** 2) < 200 ** 2
    for i in range(n):
        ds = Dataset()
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
        ds.SOPClassUID = CTImageStorage
        ds.SOPInstanceUID = generate_uid()
        ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20261120"
        ds.StudyTime = ds.SeriesTime = "101500"
        ds.ContentTime = "1015%02d" % (i % 60)
        ds.AccessionNumber = "ACC%06d" % 4242
        ds.Modality = "CT"
        ds.Manufacturer = "Synthetic"
        ds.InstitutionName = "Atrium Benchmark Hospital"
        ds.ReferringPhysicianName = "Li^Wei"
        ds.StationName = "CT01"
        ds.StudyDescription = "CT CHEST"
        ds.SeriesDescription = "Axial 1.25mm"
        ds.ManufacturerModelName = "Bench"
        ds.PatientName = "Zhang^San=张^三"
        ds.PatientID = "P%06d" % 4242
        ds.PatientBirthDate = "19700101"
        ds.PatientSex = "M"
        ds.PatientAge = "056Y"
        ds.SliceThickness = "1.25"
        ds.KVP = "120"
        ds.DataCollectionDiameter = "500"
        ds.ReconstructionDiameter = "360"
        ds.GantryDetectorTilt = "0"
        ds.TableHeight = "150"
        ds.ExposureTime = "500"
        ds.XRayTubeCurrent = "250"
        ds.ConvolutionKernel = "STANDARD"
        ds.PatientPosition = "HFS"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.StudyID = "1"
        ds.SeriesNumber = "2"
        ds.InstanceNumber = str(i + 1)
        ds.ImagePositionPatient = [-180, -180, -i * 1.25]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.FrameOfReferenceUID = frame
        ds.SliceLocation = str(-i * 1.25)
        ds.SamplesPerPixel = 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.Rows = ds.Columns = 512
        ds.PixelSpacing = [0.703125, 0.703125]
        ds.BitsAllocated = 16
        ds.BitsStored = 12
        ds.HighBit = 11
        ds.PixelRepresentation = 0
        ds.WindowCenter = "40"
        ds.WindowWidth = "400"
        ds.RescaleIntercept = "-1024"
        ds.RescaleSlope = "1"
        ds.RescaleType = "HU"
        ref = Dataset()
        ref.ReferencedSOPClassUID = CTImageStorage
        ref.ReferencedSOPInstanceUID = generate_uid()
        ds.ReferencedImageSequence = Sequence([ref])
        ds.add_new(0x00091010, "LO", "ATRIUM_BENCH")
        ds.add_new(0x00091001, "LO", "private value %d" % i)
        image = np.where(body, 1024 + 40 + rng.integers(-20, 20, (512, 512)), 0).astype(np.uint16)
        ds.PixelData = image.tobytes()
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = ds.SOPClassUID
        meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.file_meta = meta
        ds.save_as(os.path.join(out, "ct%05d.dcm" % i), enforce_file_format=True)


if __name__ == "__main__":
    main()
