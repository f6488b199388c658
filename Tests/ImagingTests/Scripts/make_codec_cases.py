#!/usr/bin/env python3
"""Writes codec test cases for ImagingTests: compressed frames, their descriptors, and reference pixels.

Usage: make_codec_cases.py OUTPUT_DIRECTORY

References come from software nobody in Atrium wrote: pydicom 3 with pylibjpeg (-libjpeg, -openjpeg,
-rle) decodes every compressed file; the compressed files are pydicom's bundled corpus and files made
here from uncompressed ones with dcmtk (dcmcrle, dcmcjpeg, dcmcjpls), GDCM (gdcmconv) and OpenJPEG
(opj_compress). Writes OUTPUT_DIRECTORY/cases.json; exits 2 with an install hint if a peer is missing.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

HINT = "run scripts/install-deps (apt-get install dcmtk libgdcm-tools libopenjp2-tools; " \
       "pip install pydicom==3.0.1 pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy)"

try:
    import numpy as np
    import pydicom
    import pylibjpeg  # noqa: F401
    import libjpeg  # noqa: F401
    import openjpeg
    import rle  # noqa: F401
    from pydicom.encaps import generate_frames
    from pydicom.uid import ExplicitVRLittleEndian
except ImportError as error:
    print(f"make_codec_cases: missing Python package ({error}); {HINT}", file=sys.stderr)
    sys.exit(2)

TOOLS = ["dcmcrle", "dcmcjpeg", "dcmdjpeg", "dcmcjpls", "gdcmconv", "opj_compress"]
missing = [tool for tool in TOOLS if shutil.which(tool) is None]
if missing:
    print(f"make_codec_cases: missing tools {', '.join(missing)}; {HINT}", file=sys.stderr)
    sys.exit(2)

CODECS = {
    "1.2.840.10008.1.2.5": "RLE",
    "1.2.840.10008.1.2.4.50": "JPEG",
    "1.2.840.10008.1.2.4.51": "JPEG",
    "1.2.840.10008.1.2.4.57": "JPEG lossless",
    "1.2.840.10008.1.2.4.70": "JPEG lossless",
    "1.2.840.10008.1.2.4.80": "JPEG-LS",
    "1.2.840.10008.1.2.4.81": "JPEG-LS",
    "1.2.840.10008.1.2.4.90": "JPEG 2000",
    "1.2.840.10008.1.2.4.91": "JPEG 2000",
}
LOSSLESS = {"1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
            "1.2.840.10008.1.2.4.90"}

out_dir = os.path.abspath(sys.argv[1])
os.makedirs(out_dir, exist_ok=True)
work = tempfile.mkdtemp(prefix="atrium-codec-")
corpus = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
cases = []
notes = []


def dtype_for(bits_allocated, signed):
    return np.dtype(("<i" if signed else "<u") + str(bits_allocated // 8))


def descriptor(ds):
    return {
        "rows": int(ds.Rows), "columns": int(ds.Columns), "samplesPerPixel": int(ds.SamplesPerPixel),
        "bitsAllocated": int(ds.BitsAllocated), "bitsStored": int(ds.BitsStored),
        "isSigned": int(ds.PixelRepresentation) == 1, "planarConfiguration": int(ds.get("PlanarConfiguration", 0)),
        "photometricInterpretation": str(ds.PhotometricInterpretation),
    }


def add_case(name, path, origin, original=None, reference_path=None):
    """Extracts the frames of a compressed file and pydicom's decoding of them (or of `reference_path`)."""
    ds = pydicom.dcmread(path)
    uid = str(ds.file_meta.TransferSyntaxUID)
    if uid not in CODECS:
        notes.append(f"{name}: transfer syntax {uid} not a codec under test")
        return
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    try:
        reference = pydicom.dcmread(reference_path).pixel_array if reference_path else ds.pixel_array
    except Exception as error:  # the reference decoder itself fails: nothing to compare with
        notes.append(f"{name}: pydicom cannot decode it ({error})")
        return
    reference = reference.reshape(frames, int(ds.Rows), int(ds.Columns), int(ds.SamplesPerPixel))
    dtype = dtype_for(int(ds.BitsAllocated), int(ds.PixelRepresentation) == 1)
    encoded = list(generate_frames(ds.PixelData, number_of_frames=frames))
    if len(encoded) != frames:
        notes.append(f"{name}: {len(encoded)} fragments for {frames} frames")
        return
    lossless = uid in LOSSLESS
    if original is not None and lossless and "+pt" not in origin and not np.array_equal(reference, original.reshape(reference.shape)):
        notes.append(f"{name}: pydicom's decoding differs from the uncompressed source")
    directory = os.path.join(out_dir, name)
    os.makedirs(directory, exist_ok=True)
    files = []
    for index, (compressed, pixels) in enumerate(zip(encoded, reference)):
        frame_path = os.path.join(directory, f"frame{index}.bin")
        expected_path = os.path.join(directory, f"expected{index}.bin")
        with open(frame_path, "wb") as f:
            f.write(compressed)
        with open(expected_path, "wb") as f:
            f.write(pixels.astype(dtype).tobytes())
        files.append({"compressed": frame_path, "expected": expected_path})
    cases.append({
        "name": name, "origin": origin, "transferSyntaxUID": uid, "codec": CODECS[uid], "lossless": lossless,
        "descriptor": descriptor(ds), "frames": files,
    })


# 1. pydicom's bundled corpus.
for file in sorted(os.listdir(corpus)):
    path = os.path.join(corpus, file)
    if not file.endswith(".dcm"):
        continue
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        uid = str(ds.file_meta.TransferSyntaxUID)
    except Exception:
        continue
    if uid in CODECS:
        add_case("pydicom-" + file[:-4], path, "pydicom corpus")


# 2. Uncompressed sources at 8/12/16 bits, signed/unsigned, mono/colour, single/multi-frame.
def write_source(name, template, pixels, bits_stored, signed, photometric="MONOCHROME2"):
    ds = pydicom.dcmread(os.path.join(corpus, template))
    pixels = np.ascontiguousarray(pixels)
    frames = pixels.shape[0]
    ds.Rows, ds.Columns = pixels.shape[1], pixels.shape[2]
    ds.SamplesPerPixel = pixels.shape[3]
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = pixels.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if pixels.shape[3] == 3:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    if frames > 1:
        ds.NumberOfFrames = frames
    elif "NumberOfFrames" in ds:
        del ds.NumberOfFrames
    for keyword in ("WindowCenter", "WindowWidth", "SmallestImagePixelValue", "LargestImagePixelValue",
                    "RescaleIntercept", "RescaleSlope"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if ds.BitsAllocated > 8 else "OB"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = os.path.join(work, name + ".dcm")
    ds.save_as(path, enforce_file_format=True)
    return path, pixels


def load(file):
    ds = pydicom.dcmread(os.path.join(corpus, file))
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    return ds.pixel_array.reshape(frames, int(ds.Rows), int(ds.Columns), int(ds.SamplesPerPixel))


ct = load("CT_small.dcm").astype(np.int16)
mr = load("MR_small.dcm").astype(np.int16)
overlay = load("examples_overlay.dcm").astype(np.uint16)
gray8 = load("image_dfl.dcm").astype(np.uint8)
rgb = load("examples_rgb_color.dcm").astype(np.uint8)
odd = load("SC_rgb_small_odd.dcm").astype(np.uint8)

sources = {
    "u8": write_source("u8", "CT_small.dcm", gray8, 8, False),
    "u8-3frames": write_source("u8-3frames", "CT_small.dcm",
                               np.stack([gray8[0, :256, :256], gray8[0, 256:, :256], gray8[0, :256, 256:]]), 8, False),
    "s8": write_source("s8", "CT_small.dcm", (gray8.astype(np.int16) - 128).astype(np.int8), 8, True),
    "u12": write_source("u12", "CT_small.dcm", overlay & 0x0FFF, 12, False),
    "s12": write_source("s12", "CT_small.dcm", np.clip(ct, -2048, 2047).astype(np.int16), 12, True),
    "u16": write_source("u16", "CT_small.dcm", (mr.astype(np.int32) * 16 + 20000).astype(np.uint16), 16, False),
    "s16": write_source("s16", "CT_small.dcm", ct, 16, True),
    "s16-3frames": write_source("s16-3frames", "CT_small.dcm", np.concatenate([ct, ct // 2, ct - 1000]).astype(np.int16), 16, True),
    "rgb8": write_source("rgb8", "CT_small.dcm", rgb, 8, False, "RGB"),
    "rgb8-2frames": write_source("rgb8-2frames", "CT_small.dcm", np.concatenate([rgb, rgb[:, ::-1]]), 8, False, "RGB"),
    "rgb8-odd": write_source("rgb8-odd", "CT_small.dcm", odd, 8, False, "RGB"),
    "rgb16": write_source("rgb16", "CT_small.dcm", (rgb.astype(np.uint16) * 257 - 3).clip(0, 65535).astype(np.uint16), 16, False, "RGB"),
}


def encode(name, source, command, decoder=None):
    """Runs an independent encoder from the uncompressed source and adds the result as a case."""
    path, pixels = sources[source]
    target = os.path.join(work, f"{name}.dcm")
    argv = [part.replace("IN", path).replace("OUT", target) for part in command]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0 or not os.path.exists(target):
        notes.append(f"{name}: {argv[0]} refused ({(result.stderr or result.stdout).strip().splitlines()[-1:]})")
        return
    reference_path = None
    if decoder:
        reference_path = os.path.join(work, f"{name}-decoded.dcm")
        subprocess.run([decoder, target, reference_path], check=True, capture_output=True)
    add_case(name, target, " ".join(command[:-2]), pixels, reference_path)


mono = ["u8", "u8-3frames", "s8", "u12", "s12", "u16", "s16", "s16-3frames"]
colour = ["rgb8", "rgb8-2frames", "rgb8-odd", "rgb16"]
for source in mono + colour:
    encode(f"dcmcrle-{source}", source, ["dcmcrle", "IN", "OUT"])
    encode(f"dcmcjpeg-sv1-{source}", source, ["dcmcjpeg", "+e1", "IN", "OUT"])
    encode(f"dcmcjpls-{source}", source, ["dcmcjpls", "+el", "IN", "OUT"])
    encode(f"gdcm-jpeg-{source}", source, ["gdcmconv", "--jpeg", "IN", "OUT"])
    encode(f"gdcm-jpegls-{source}", source, ["gdcmconv", "--jpegls", "IN", "OUT"])
    encode(f"gdcm-j2k-{source}", source, ["gdcmconv", "--j2k", "IN", "OUT"])
    encode(f"gdcm-rle-{source}", source, ["gdcmconv", "--rle", "IN", "OUT"])
for source in ["u8", "u12", "s12", "s16", "rgb8", "rgb16"]:
    for selection in range(1, 8):
        encode(f"dcmcjpeg-sv{selection}-lossless-{source}", source,
               ["dcmcjpeg", "+el", "+sv", str(selection), "IN", "OUT"])
# pylibjpeg-libjpeg 2.x returns a constant image for a point transform, so dcmtk's dcmdjpeg is the reference here.
for source in ["u12", "s16", "rgb8"]:
    encode(f"dcmcjpeg-pt2-{source}", source, ["dcmcjpeg", "+el", "+sv", "4", "+pt", "2", "IN", "OUT"], decoder="dcmdjpeg")
for source in ["u8", "u8-3frames", "rgb8", "rgb8-2frames", "rgb8-odd"]:
    encode(f"dcmcjpeg-baseline-{source}", source, ["dcmcjpeg", "+eb", "IN", "OUT"])
    encode(f"gdcm-jpeg-lossy-{source}", source, ["gdcmconv", "--jpeg", "--lossy", "-q", "90", "IN", "OUT"])
for source in ["u12", "s12"]:
    encode(f"dcmcjpeg-extended-{source}", source, ["dcmcjpeg", "+ee", "IN", "OUT"])
for source in ["u8", "u12", "s16", "rgb8"]:
    encode(f"dcmcjpls-near-{source}", source, ["dcmcjpls", "+en", "+md", "2", "IN", "OUT"])
    encode(f"gdcm-j2k-lossy-{source}", source, ["gdcmconv", "--j2k", "--lossy", "-q", "40", "IN", "OUT"])
for mode in ["+is", "+in"]:
    encode(f"dcmcjpls{mode.replace('+', '-')}-rgb8", "rgb8", ["dcmcjpls", "+el", mode, "IN", "OUT"])
    encode(f"dcmcjpls{mode.replace('+', '-')}-rgb16", "rgb16", ["dcmcjpls", "+el", mode, "IN", "OUT"])


# 3. OpenJPEG's opj_compress from raw little-endian samples; pylibjpeg-openjpeg gives the reference.
def opj_case(name, source, extra):
    path, pixels = sources[source]
    frames, rows, columns, samples = pixels.shape
    frame = pixels[0]
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    bits, signed = int(ds.BitsStored), int(ds.PixelRepresentation) == 1
    raw = os.path.join(work, f"{name}.rawl")
    # opj_compress takes component planes, each sample in whole bytes, little-endian for .rawl.
    planes = np.moveaxis(frame, -1, 0)
    planes = planes & ((1 << bits) - 1) if not signed else planes
    planes.astype(np.dtype(("<i" if signed else "<u") + str(frame.dtype.itemsize))).tofile(raw)
    j2k = os.path.join(work, f"{name}.j2k")
    argv = ["opj_compress", "-i", raw, "-o", j2k, "-F",
            f"{columns},{rows},{samples},{bits},{'s' if signed else 'u'}"] + extra
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        notes.append(f"{name}: opj_compress refused ({result.stdout.strip().splitlines()[-1:]})")
        return
    with open(j2k, "rb") as f:
        codestream = f.read()
    decoded = openjpeg.decode(codestream)
    decoded = decoded.reshape(rows, columns, samples)
    lossless = "-r" not in extra
    if lossless and not np.array_equal(decoded, frame.reshape(decoded.shape)):
        notes.append(f"{name}: pylibjpeg-openjpeg's decoding differs from the source")
    directory = os.path.join(out_dir, name)
    os.makedirs(directory, exist_ok=True)
    frame_path = os.path.join(directory, "frame0.bin")
    expected_path = os.path.join(directory, "expected0.bin")
    shutil.copyfile(j2k, frame_path)
    with open(expected_path, "wb") as f:
        f.write(decoded.astype(dtype_for(int(ds.BitsAllocated), signed)).tobytes())
    described = descriptor(ds)
    if samples == 3 and "-mct" in extra and extra[extra.index("-mct") + 1] == "1":
        described["photometricInterpretation"] = "YBR_RCT" if lossless else "YBR_ICT"
    cases.append({
        "name": name, "origin": "opj_compress " + " ".join(extra),
        "transferSyntaxUID": "1.2.840.10008.1.2.4.90" if lossless else "1.2.840.10008.1.2.4.91",
        "codec": "JPEG 2000", "lossless": lossless, "descriptor": described,
        "frames": [{"compressed": frame_path, "expected": expected_path}],
    })


for source in ["u8", "u12", "s12", "u16", "s16", "rgb8", "rgb16"]:
    opj_case(f"opj-lossless-{source}", source, [])
    opj_case(f"opj-lossy-{source}", source, ["-r", "10"])
opj_case("opj-lossless-mct-rgb8", "rgb8", ["-mct", "1"])
opj_case("opj-lossless-rgb8-tiles", "rgb8", ["-t", "64,64", "-n", "3"])

with open(os.path.join(out_dir, "cases.json"), "w") as f:
    json.dump({"cases": cases, "notes": notes}, f, indent=1)
shutil.rmtree(work, ignore_errors=True)
print(f"make_codec_cases: {len(cases)} cases, {len(notes)} notes in {out_dir}")
