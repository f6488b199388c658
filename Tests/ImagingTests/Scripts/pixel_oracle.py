#!/usr/bin/env python3
"""Reference values for ImagingTests' pixel, rendering, transcoding and masking tests, from pydicom 3 + pylibjpeg + numpy.

  pixel_oracle.py reference OUTDIR
      Writes synthetic native files (pydicom) to OUTDIR/synthetic, then decodes every file of pydicom's test corpus and
      the synthetic ones with pydicom's pixel_array; writes OUTDIR/manifest.json and one .i64 file (int64 LE) each.
  pixel_oracle.py render-check DICOM IMAGE [--frame N] [--window C,W,FUNCTION] [--bits 8|16]
      Decodes IMAGE (PNG or JPEG) with Pillow and compares it with the PS3.3 C.11 pipeline computed here in numpy.
  pixel_oracle.py compare ORIGINAL OUTPUT
      pydicom decodes both; prints differences and the output's attributes as JSON.
  pixel_oracle.py mask-check ORIGINAL MASKED X Y W H FRAMES
      Checks that MASKED equals ORIGINAL with the rectangle blacked out in FRAMES (JSON list of 0-based frames, or null).
  pixel_oracle.py palette PALETTE_FILE
      pydicom's apply_color_lut over every index of a Color Palette IOD (normal or segmented) as JSON.
"""
import json
import os
import sys

HINT = "run scripts/install-deps (pip install pydicom==3.0.1 pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy pillow)"
try:
    import numpy as np
    import pydicom
    import pylibjpeg  # noqa: F401
    from PIL import Image
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.pixels import apply_color_lut, apply_modality_lut, apply_voi_lut
    from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, generate_uid
except ImportError as error:
    print(f"pixel_oracle: missing Python package ({error}); {HINT}", file=sys.stderr)
    sys.exit(2)

LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.91",
         "1.2.840.10008.1.2.4.203"}


def new_dataset(rows, columns, samples, allocated, stored, signed, photometric, frames=1, planar=0):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality = "OT"
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, samples
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = allocated, stored, stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PhotometricInterpretation = photometric
    if samples > 1:
        ds.PlanarConfiguration = planar
    if frames > 1:
        ds.NumberOfFrames = frames
    return ds


def save(ds, path, big_endian=False):
    if big_endian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRBigEndian
    ds.save_as(path, enforce_file_format=True, little_endian=not big_endian, implicit_vr=False)
    return path


def synthetic(directory):
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(6)
    paths = []

    def mono(name, allocated, stored, signed, frames=1, rows=37, columns=29, photometric="MONOCHROME2", garbage=True, big=False):
        ds = new_dataset(rows, columns, 1, allocated, stored, signed, photometric, frames)
        dtype = np.dtype(("<i" if signed else "<u") + str(allocated // 8))
        low, high = (-(1 << (stored - 1)), (1 << (stored - 1))) if signed else (0, 1 << stored)
        values = rng.integers(low, high, size=(frames, rows, columns), dtype=np.int64)
        raw = values.astype(np.int64) & ((1 << allocated) - 1)
        if garbage and stored < allocated:  # bits above High Bit that a reader must ignore
            raw = raw & ((1 << stored) - 1) | (rng.integers(0, 1 << (allocated - stored), size=raw.shape) << stored)
        unsigned = raw.astype(np.dtype("<u" + str(allocated // 8)))
        ds.PixelData = (unsigned.astype(unsigned.dtype.newbyteorder(">")) if big else unsigned).tobytes()
        ds["PixelData"].VR = "OW" if allocated > 8 else "OB"
        paths.append(save(ds, os.path.join(directory, name + ".dcm"), big_endian=big))
        return dtype

    mono("u16_12bit_garbage_2frames", 16, 12, False, frames=2)
    mono("s16_12bit_garbage", 16, 12, True)
    mono("s16_full", 16, 16, True, frames=3)
    mono("u8_monochrome1", 8, 8, False, photometric="MONOCHROME1")
    mono("s8", 8, 8, True)
    mono("u8_6bit_garbage", 8, 6, False)
    mono("u32_big_endian", 32, 32, False, big=True)
    mono("s32_2frames", 32, 32, True, frames=2)
    mono("s16_big_endian_3frames", 16, 16, True, frames=3, big=True)

    # 1 bit, 3 frames of 7 × 9 pixels: frames do not start on byte boundaries.
    ds = new_dataset(7, 9, 1, 1, 1, False, "MONOCHROME2", 3)
    bits = rng.integers(0, 2, size=3 * 7 * 9, dtype=np.uint8)
    packed = np.packbits(bits, bitorder="little").tobytes()
    ds.PixelData = packed + (b"\0" if len(packed) % 2 else b"")
    ds["PixelData"].VR = "OB"
    paths.append(save(ds, os.path.join(directory, "bits1_3frames.dcm")))

    for planar in (0, 1):
        for allocated in (8, 16):
            frames = 2
            ds = new_dataset(23, 31, 3, allocated, allocated, False, "RGB", frames, planar)
            values = rng.integers(0, 1 << allocated, size=(frames, 23, 31, 3), dtype=np.int64)
            dtype = np.dtype("<u" + str(allocated // 8))
            array = values.astype(dtype)
            if planar:
                array = array.transpose(0, 3, 1, 2)
            ds.PixelData = array.tobytes()
            ds["PixelData"].VR = "OW" if allocated > 8 else "OB"
            paths.append(save(ds, os.path.join(directory, f"rgb{allocated}_planar{planar}.dcm")))

    ds = new_dataset(20, 30, 3, 8, 8, False, "YBR_FULL", 2)
    ds.PixelData = rng.integers(0, 256, size=(2, 20, 30, 3), dtype=np.uint8).tobytes()
    paths.append(save(ds, os.path.join(directory, "ybr_full_2frames.dcm")))

    ds = new_dataset(20, 30, 3, 8, 8, False, "YBR_FULL_422", 2)
    ds.PixelData = rng.integers(0, 256, size=2 * 20 * 30 * 2, dtype=np.uint8).tobytes()
    paths.append(save(ds, os.path.join(directory, "ybr_full_422_2frames.dcm")))

    # Palette colour with a segmented palette from pydicom's own palettes.
    palette = pydicom.dcmread(os.path.join(os.path.dirname(pydicom.__file__), "data", "palettes", "fall.dcm"))
    ds = new_dataset(40, 50, 1, 8, 8, False, "PALETTE COLOR")
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", getattr(palette, f"{colour}PaletteColorLookupTableDescriptor"))
        setattr(ds, f"Segmented{colour}PaletteColorLookupTableData", getattr(palette, f"Segmented{colour}PaletteColorLookupTableData"))
    ds.PixelData = (np.arange(40 * 50, dtype=np.int64) % 256).astype(np.uint8).tobytes()
    paths.append(save(ds, os.path.join(directory, "palette_segmented.dcm")))

    # Modality LUT Sequence and VOI LUT Sequence (PS3.3 C.11.1, C.11.2) over 12-bit data.
    ds = new_dataset(32, 32, 1, 16, 12, False, "MONOCHROME2")
    ds.PixelData = (np.arange(32 * 32, dtype=np.int64) * 4 % 4096).astype("<u2").tobytes()
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.ModalityLUTType = "US"
    item.add_new(0x00283006, "OW", np.array([1000 + 3 * i + (i * i) // 4096 for i in range(4096)], dtype="<u2").tobytes())
    ds.ModalityLUTSequence = [item]
    voi = Dataset()
    voi.LUTDescriptor = [2048, 1000, 12]
    voi.add_new(0x00283006, "OW", np.array([int(4095 * (i / 2047) ** 0.5) for i in range(2048)], dtype="<u2").tobytes())
    ds.VOILUTSequence = [voi]
    paths.append(save(ds, os.path.join(directory, "modality_lut_voi_lut.dcm")))

    # MONOCHROME1 with a rescale and a window in the file.
    ds = new_dataset(30, 40, 1, 16, 12, True, "MONOCHROME1")
    ds.PixelData = rng.integers(-2048, 2048, size=(30, 40), dtype=np.int64).astype("<i2").tobytes()
    ds.RescaleSlope, ds.RescaleIntercept = "2", "-100"
    ds.WindowCenter, ds.WindowWidth = "300", "2000"
    paths.append(save(ds, os.path.join(directory, "monochrome1_rescaled_window.dcm")))

    # An enhanced multi-frame image (PS3.3 C.7.6.16): no top-level rescale or window; each frame has its own Pixel
    # Value Transformation and, but for the last, its own Frame VOI LUT; the shared groups hold the fallback window
    # and the Pixel Measures.
    ds = new_dataset(24, 18, 1, 16, 12, True, "MONOCHROME2", 3)
    ds.PixelData = rng.integers(-2048, 2048, size=(3, 24, 18), dtype=np.int64).astype("<i2").tobytes()
    shared = Dataset()
    measures = Dataset()
    measures.PixelSpacing = ["0.5", "0.25"]
    measures.SliceThickness = "1"
    shared.PixelMeasuresSequence = [measures]
    voi = Dataset()
    voi.WindowCenter, voi.WindowWidth = "10", "3000"
    shared.FrameVOILUTSequence = [voi]
    ds.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for slope, intercept, window in [("1", "-1024", ("-500", "1500")), ("2.5", "100", ("300", "800")), ("0.5", "7", None)]:
        item = Dataset()
        transformation = Dataset()
        transformation.RescaleSlope, transformation.RescaleIntercept = slope, intercept
        transformation.RescaleType = "US"
        item.PixelValueTransformationSequence = [transformation]
        if window:
            frame_voi = Dataset()
            frame_voi.WindowCenter, frame_voi.WindowWidth = window
            frame_voi.VOILUTFunction = "LINEAR_EXACT"
            item.FrameVOILUTSequence = [frame_voi]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    paths.append(save(ds, os.path.join(directory, "enhanced_per_frame_groups.dcm")))

    # 16-bit YBR_FULL, which pydicom's convert_color_space refuses (it converts 8-bit data only): checked by
    # ybr-rgb below, not by the pixel_array reference.
    for stored, planar in ((16, 0), (12, 1)):
        ds = new_dataset(14, 10, 3, 16, stored, False, "YBR_FULL", 2, planar)
        values = rng.integers(0, 1 << stored, size=(2, 14, 10, 3), dtype=np.int64).astype("<u2")
        ds.PixelData = (values.transpose(0, 3, 1, 2) if planar else values).tobytes()
        save(ds, os.path.join(directory, f"ybr_full_16bit_{stored}stored.dcm"))
    return paths


def functional_group(ds, frame, keyword):
    """The first item of a functional group macro for one frame: per-frame first, then shared (PS3.3 C.7.6.16)."""
    for sequence, index in (("PerFrameFunctionalGroupsSequence", frame), ("SharedFunctionalGroupsSequence", 0)):
        items = ds.get(sequence)
        if items is not None and index < len(items) and keyword in items[index]:
            return items[index][keyword][0]
    return None


def ybr_rgb(args):
    """The RGB of a YBR_FULL file's frames, from its raw samples: pydicom's own conversion for 8 bits, and for more
    bits the same ITU-R BT.601 matrix with the chroma offset at 2^(n-1), computed exactly in rational arithmetic,
    rounded half up and clipped to 0..2^n-1."""
    from pydicom.pixels import pixel_array, convert_color_space
    path, out = args[0], args[1]
    ds = pydicom.dcmread(path)
    raw = pixel_array(path, raw=True)
    bits = int(ds.BitsStored)
    if int(ds.BitsAllocated) == 8:
        rgb = convert_color_space(raw, "YBR_FULL", "RGB")
    else:
        from fractions import Fraction as F
        from math import floor
        k = [F("1.402"), F("-0.114") * F("1.772") / F("0.587"), F("-0.299") * F("1.402") / F("0.587"), F("1.772")]
        offset, top = 1 << (bits - 1), (1 << bits) - 1
        flat = raw.reshape(-1, 3).astype(np.int64)
        exact = np.zeros(flat.shape, dtype=np.int64)
        for i, (y, cb, cr) in enumerate(flat.tolist()):
            cb, cr = cb - offset, cr - offset
            for c, v in enumerate((y + cr * k[0], y + cb * k[1] + cr * k[2], y + cb * k[3])):
                exact[i, c] = min(max(floor(v + F(1, 2)), 0), top)
        rgb = exact.reshape(raw.shape)
    rgb.astype("<i8").tofile(out)
    print(json.dumps({"count": int(rgb.size), "bitsStored": bits}))


def corpus_files():
    root = os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files")
    out = []
    for base, _, names in os.walk(root):
        for name in sorted(names):
            if name.endswith(".dcm") or name == "DICOMDIR":
                out.append(os.path.join(base, name))
    return sorted(out)


def reference(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    files = corpus_files() + synthetic(os.path.join(out_dir, "synthetic"))
    entries = []
    for index, path in enumerate(files):
        try:
            ds = pydicom.dcmread(path)
        except Exception as error:  # noqa: BLE001
            entries.append({"path": path, "status": "unreadable", "error": str(error)[:200]})
            continue
        if "PixelData" not in ds:
            continue
        uid = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
        try:
            array = ds.pixel_array
        except Exception as error:  # noqa: BLE001
            entries.append({"path": path, "status": "pydicom-fails", "error": str(error)[:200]})
            continue
        raw = os.path.join(out_dir, f"{index:04d}.i64")
        array.astype("<i8").tofile(raw)
        entries.append({"path": path, "status": "ok", "values": raw, "count": int(array.size),
                        "transferSyntaxUID": uid, "lossy": uid in LOSSY, "bitsStored": int(ds.get("BitsStored", 8))})
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump({"entries": entries}, f)


def window_formula(x, center, width, function, maximum):
    """PS3.3 C.11.2.1.2.1 (LINEAR), C.11.2.1.3.2 (LINEAR_EXACT), C.11.2.1.3.1 (SIGMOID), into 0…maximum."""
    x = x.astype(np.float64)
    if function == "LINEAR":
        c, w = center - 0.5, width - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            y = ((x - c) / w + 0.5) * maximum if w > 0 else np.full(x.shape, maximum, dtype=np.float64)
        y = np.where(x <= c - w / 2, 0, np.where(x > c + w / 2, maximum, y))
    elif function == "LINEAR_EXACT":
        y = ((x - center) / width + 0.5) * maximum
        y = np.where(x <= center - width / 2, 0, np.where(x > center + width / 2, maximum, y))
    else:
        y = maximum / (1 + np.exp(-4 * (x - center) / width))
    return np.clip(np.floor(y + 0.5), 0, maximum)


def expected_render(ds, frame, window, bits):
    maximum = (1 << bits) - 1
    array = ds.pixel_array
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    if frames > 1:
        array = array[frame]
    photometric = str(ds.PhotometricInterpretation)
    if photometric == "PALETTE COLOR":
        rgb = apply_color_lut(array, ds).astype(np.float64)
        lut_bits = int(ds.RedPaletteColorLookupTableDescriptor[2])
        return np.floor(rgb * maximum / ((1 << lut_bits) - 1) + 0.5)
    if int(ds.SamplesPerPixel) == 3:
        return np.floor(array.astype(np.float64) * maximum / ((1 << int(ds.BitsStored)) - 1) + 0.5)
    transformation = functional_group(ds, frame, "PixelValueTransformationSequence")
    frame_voi = functional_group(ds, frame, "FrameVOILUTSequence")
    if transformation is not None and "RescaleSlope" not in ds:
        values = array.astype(np.float64) * float(transformation.RescaleSlope) + float(transformation.RescaleIntercept)
    else:
        values = apply_modality_lut(array, ds).astype(np.float64)
    if window is not None:
        y = window_formula(values, window[0], window[1], window[2], maximum)
    elif frame_voi is not None and "WindowCenter" not in ds:
        centre = frame_voi.WindowCenter[0] if frame_voi["WindowCenter"].VM > 1 else frame_voi.WindowCenter
        width = frame_voi.WindowWidth[0] if frame_voi["WindowWidth"].VM > 1 else frame_voi.WindowWidth
        y = window_formula(values, float(centre), float(width), str(frame_voi.get("VOILUTFunction", "LINEAR")), maximum)
    elif "WindowCenter" in ds:
        centre = ds.WindowCenter[0] if ds["WindowCenter"].VM > 1 else ds.WindowCenter
        width = ds.WindowWidth[0] if ds["WindowWidth"].VM > 1 else ds.WindowWidth
        y = window_formula(values, float(centre), float(width), str(ds.get("VOILUTFunction", "LINEAR")), maximum)
    elif "VOILUTSequence" in ds:
        lut_bits = int(ds.VOILUTSequence[0].LUTDescriptor[2])
        plain = ds.copy()
        del plain.ModalityLUTSequence  # apply_voi_lut on the modality output
        out = apply_voi_lut(values.astype(np.int64), plain, index=0).astype(np.float64)
        y = np.floor(out * maximum / ((1 << lut_bits) - 1) + 0.5)
    else:
        low, high = values.min(), values.max()
        width = max(high - low, 1)
        y = window_formula(values, low + width / 2, width, "LINEAR_EXACT", maximum)
    if photometric == "MONOCHROME1" or str(ds.get("PresentationLUTShape", "")) == "INVERSE":
        y = maximum - y
    return y


def render_check(args):
    path, image_path = args[0], args[1]
    frame, window, bits = 0, None, 8
    i = 2
    while i < len(args):
        if args[i] == "--frame":
            frame = int(args[i + 1])
        elif args[i] == "--window":
            c, w, f = args[i + 1].split(",")
            window = (float(c), float(w), f)
        elif args[i] == "--bits":
            bits = int(args[i + 1])
        i += 2
    ds = pydicom.dcmread(path)
    expected = expected_render(ds, frame, window, bits)
    image = Image.open(image_path)
    if bits == 16:
        actual = np.array(image, dtype=np.int64) if image.mode != "RGB" else None
        if actual is None:
            raise SystemExit("16-bit RGB PNGs are checked with png16_rgb")
    else:
        actual = np.array(image.convert("RGB" if expected.ndim == 3 else "L"), dtype=np.int64)
    result = {"format": image.format, "mode": image.mode, "actualShape": list(actual.shape), "expectedShape": list(expected.shape)}
    if actual.shape == expected.shape:
        difference = np.abs(actual - expected.astype(np.int64))
        mse = float(np.mean(difference.astype(np.float64) ** 2))
        result.update({"maximumDifference": int(difference.max()), "differing": int((difference > 0).sum()),
                       "psnr": 99.0 if mse == 0 else float(10 * np.log10(((1 << bits) - 1) ** 2 / mse))})
    print(json.dumps(result))


def compare(original, output):
    a = pydicom.dcmread(original)
    b = pydicom.dcmread(output)
    x, y = a.pixel_array.astype(np.int64), b.pixel_array.astype(np.int64)
    result = {"shapeEqual": x.shape == y.shape, "transferSyntaxUID": str(b.file_meta.TransferSyntaxUID),
              "photometricInterpretation": str(b.PhotometricInterpretation),
              "lossyImageCompression": str(b.get("LossyImageCompression", "")),
              "planarConfiguration": int(b.get("PlanarConfiguration", 0) or 0)}
    if x.shape == y.shape:
        d = np.abs(x - y)
        result.update({"maximumDifference": int(d.max()), "differing": int((d > 0).sum())})
    pixel = b["PixelData"]
    if getattr(pixel, "is_undefined_length", False):
        from pydicom.encaps import parse_basic_offsets, parse_fragments
        from io import BytesIO
        buffer = BytesIO(b.PixelData)
        result["basicOffsets"] = parse_basic_offsets(buffer)
        result["fragments"] = parse_fragments(buffer)[0]  # the number of fragments
    print(json.dumps(result))


def mask_check(args):
    original, masked = pydicom.dcmread(args[0]), pydicom.dcmread(args[1])
    x, y, w, h = (int(v) for v in args[2:6])
    frames = json.loads(args[6])
    a = original.pixel_array.astype(np.int64)
    b = masked.pixel_array.astype(np.int64)
    count = int(original.get("NumberOfFrames", 1) or 1)
    if count == 1:
        a, b = a[None, ...], b[None, ...]
    photometric = str(original.PhotometricInterpretation)
    stored, signed = int(original.BitsStored), int(original.PixelRepresentation) == 1
    low = -(1 << (stored - 1)) if signed else 0
    high = (1 << (stored - 1)) - 1 if signed else (1 << stored) - 1
    black = high if photometric == "MONOCHROME1" else (low if photometric == "MONOCHROME2" else 0)
    expected = a.copy()
    for f in range(count):
        if frames is None or f in frames:
            expected[f, y:y + h, x:x + w, ...] = black
    d = np.abs(expected - b) if expected.shape == b.shape else None
    inside = np.zeros(expected.shape, dtype=bool)
    for f in range(count):
        if frames is None or f in frames:
            inside[f, y:y + h, x:x + w, ...] = True
    print(json.dumps({
        "shapeEqual": d is not None,
        "maximumDifferenceInside": int(d[inside].max()) if d is not None and inside.any() else 0,
        "maximumDifferenceOutside": int(d[~inside].max()) if d is not None and (~inside).any() else 0,
        "sopInstanceUIDChanged": str(original.SOPInstanceUID) != str(masked.SOPInstanceUID),
        "burnedInAnnotation": str(masked.get("BurnedInAnnotation", "")),
        "lossyImageCompression": str(masked.get("LossyImageCompression", "")),
        "transferSyntaxUID": str(masked.file_meta.TransferSyntaxUID),
        "mediaStorageMatches": str(masked.file_meta.MediaStorageSOPInstanceUID) == str(masked.SOPInstanceUID),
    }))


def palette(path):
    ds = pydicom.dcmread(path)
    table = apply_color_lut(np.arange(256, dtype=np.uint8), ds)
    print(json.dumps({"rgb": table.astype(int).tolist()}))


if __name__ == "__main__":
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "reference":
        reference(rest[0])
    elif command == "render-check":
        render_check(rest)
    elif command == "compare":
        compare(rest[0], rest[1])
    elif command == "mask-check":
        mask_check(rest)
    elif command == "palette":
        palette(rest[0])
    elif command == "ybr-rgb":
        ybr_rgb(rest)
    else:
        raise SystemExit(f"unknown command {command}")
