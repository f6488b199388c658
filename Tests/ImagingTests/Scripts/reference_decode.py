#!/usr/bin/env python3
"""Decodes frames that Atrium encoded, with pydicom 3 + pylibjpeg, for ImagingTests' encoder tests.

Usage: reference_decode.py REQUEST.json
REQUEST.json: {"transferSyntaxUID", "descriptor": {rows, columns, samplesPerPixel, bitsAllocated, bitsStored,
isSigned, planarConfiguration, photometricInterpretation}, "frames": [compressed paths], "outputs": [paths]}.
Each output receives the frame's pixels as pydicom returns them, little-endian, colour-by-pixel.
"""
import json
import sys

try:
    import numpy as np
    import pydicom
    import pylibjpeg  # noqa: F401
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.encaps import encapsulate
except ImportError as error:
    print(f"reference_decode: missing Python package ({error}); run scripts/install-deps "
          "(pip install pydicom==3.0.1 pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy)", file=sys.stderr)
    sys.exit(2)

with open(sys.argv[1]) as f:
    request = json.load(f)
d = request["descriptor"]
frames = []
for path in request["frames"]:
    with open(path, "rb") as f:
        data = f.read()
    frames.append(data + b"\0" if len(data) % 2 else data)

ds = Dataset()
ds.file_meta = FileMetaDataset()
ds.file_meta.TransferSyntaxUID = request["transferSyntaxUID"]
ds.Rows, ds.Columns = d["rows"], d["columns"]
ds.SamplesPerPixel = d["samplesPerPixel"]
ds.BitsAllocated, ds.BitsStored = d["bitsAllocated"], d["bitsStored"]
ds.HighBit = d["bitsStored"] - 1
ds.PixelRepresentation = 1 if d["isSigned"] else 0
ds.PhotometricInterpretation = d["photometricInterpretation"]
if d["samplesPerPixel"] > 1:
    ds.PlanarConfiguration = 0
ds.NumberOfFrames = len(frames)
ds.PixelData = encapsulate(frames)
ds["PixelData"].VR = "OB"
ds["PixelData"].is_undefined_length = True

dtype = np.dtype(("<i" if d["isSigned"] else "<u") + str(d["bitsAllocated"] // 8))
array = ds.pixel_array.reshape(len(frames), d["rows"], d["columns"], d["samplesPerPixel"])
for pixels, output in zip(array, request["outputs"]):
    with open(output, "wb") as f:
        f.write(pixels.astype(dtype).tobytes())
