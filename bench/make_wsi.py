#!/usr/bin/env python3
"""Writes a large synthetic DICOM whole-slide image for bench/wsi.sh: one VL WSM instance per pyramid level,
TILED_FULL, JPEG baseline tiles of 256 x 256 cycled from a set of 64 distinct tiles (Pillow, quality 80), so that a
100,000 x 100,000 slide takes a few hundred MB instead of the tens of GB a scanned one would.

Usage: make_wsi.py OUT_DIR SIZE   (SIZE: the base level's width and height in pixels)
Prints the series UID; leaves the files alone when OUT_DIR already holds a slide of that size.
"""
import io
import json
import math
import os
import sys

import numpy as np
import pydicom
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, VLWholeSlideMicroscopyImageStorage, generate_uid

TILE = 256
out, size = sys.argv[1], int(sys.argv[2])
marker = os.path.join(out, "slide.json")
if os.path.exists(marker):
    facts = json.load(open(marker))
    if facts["size"] == size:
        print(facts["series"])
        sys.exit(0)
os.makedirs(out, exist_ok=True)

rng = np.random.default_rng(145)
tiles = []
for k in range(64):
    y, x = np.mgrid[0:TILE, 0:TILE]
    base = np.stack([(x + 4 * k) % 256, (y + 8 * k) % 256, ((x + y) // 2 + 16 * k) % 256], axis=-1)
    noisy = np.clip(base + rng.normal(0, 3, base.shape), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(noisy).save(buffer, "JPEG", quality=80)
    data = buffer.getvalue()
    tiles.append(data + (b"\0" if len(data) % 2 else b""))

study, series, frame_of_reference = generate_uid(), generate_uid(), generate_uid()
level, width = 0, size
while True:
    height = width
    across = math.ceil(width / TILE)
    frames = across * across
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.file_meta.MediaStorageSOPClassUID = VLWholeSlideMicroscopyImageStorage
    ds.SOPClassUID = VLWholeSlideMicroscopyImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame_of_reference
    ds.PatientName, ds.PatientID, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "Bench^Slide", "WSI-BENCH", "SM", 1, level + 1
    ds.ImageType = ["ORIGINAL" if level == 0 else "DERIVED", "PRIMARY", "VOLUME", "NONE" if level == 0 else "RESAMPLED"]
    ds.Rows = ds.Columns = TILE
    ds.TotalPixelMatrixColumns, ds.TotalPixelMatrixRows = width, height
    ds.TotalPixelMatrixFocalPlanes, ds.NumberOfOpticalPaths = 1, 1
    ds.NumberOfFrames = frames
    ds.DimensionOrganizationType = "TILED_FULL"
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "YBR_FULL_422", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    spacing = 0.00025 * size / width
    measures = Dataset()
    measures.PixelSpacing = [f"{spacing:.10g}", f"{spacing:.10g}"]
    measures.SliceThickness = "0.001"
    shared = Dataset()
    shared.PixelMeasuresSequence = [measures]
    ds.SharedFunctionalGroupsSequence = [shared]
    path = Dataset()
    path.OpticalPathIdentifier = "1"
    ds.OpticalPathSequence = [path]
    ds.ImagedVolumeWidth = ds.ImagedVolumeHeight = size * 0.00025
    ds.PixelData = encapsulate([tiles[(i * 7 + i // across) % len(tiles)] for i in range(frames)], has_bot=False)
    ds["PixelData"].VR = "OB"
    ds.save_as(os.path.join(out, f"level-{level}.dcm"), enforce_file_format=True)
    if width <= TILE:
        break
    level, width = level + 1, math.ceil(width / 2)
json.dump({"size": size, "series": series, "study": study}, open(marker, "w"))
print(series)
