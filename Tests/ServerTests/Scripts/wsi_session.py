#!/usr/bin/env python3
"""Whole-slide imaging through Atrium, checked against software nobody here wrote.

A synthetic pyramidal tiled TIFF is made with libvips (`vips`); wsidicomizer turns it into reference DICOM WSI (JPEG
tiles copied from the TIFF, JPEG 2000 and uncompressed re-encodings); pydicom derives a TILED_SPARSE instance (frames
shuffled, one left out). The references go to Atrium by STOW-RS (dicomweb-client) and C-STORE (dcmtk's storescu).
What Atrium serves (WADO-RS frames, the pyramid JSON, tiles) is compared with the references as pydicom and wsidicom
read them; the slide's files fetched back from Atrium are opened with wsidicom. Then the TIFF is converted by Atrium
(`POST /api/wsi/convert`) and the result is compared with OpenSlide's own reads (openslide-python).

Usage: wsi_session.py BASE_URL TOKEN DICOM_PORT WORK_DIR
Prints one JSON object: {"checks": [[name, ok, detail], ...]}.
"""
import glob
import io
import json
import os
import subprocess
import sys
import traceback
import warnings

import numpy as np
import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from PIL import Image
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import generate_uid

warnings.simplefilter("ignore")
if __name__ == "__main__":
    BASE, TOKEN, DICOM_PORT, WORK = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    HEADERS = {"Authorization": f"Bearer {TOKEN}"}
checks = []


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:600]])


def run(*args, env=None):
    result = subprocess.run(args, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed: {result.stderr[-800:]}")
    return result.stdout


def make_slide(path, width, height):
    """An RGB slide whose red and green follow x and y and whose blue is noise, as a JPEG-tiled pyramidal TIFF."""
    d = os.path.dirname(path)
    v = lambda n: os.path.join(d, n + ".v")
    run("vips", "xyz", v("xy"), str(width), str(height))
    run("vips", "extract_band", v("xy"), v("x"), "0")
    run("vips", "extract_band", v("xy"), v("y"), "1")
    run("vips", "remainder_const", v("x"), v("r"), "256")
    run("vips", "remainder_const", v("y"), v("g"), "256")
    run("vips", "gaussnoise", v("n"), str(width), str(height), "--mean", "128", "--sigma", "40")
    run("vips", "bandjoin", f"{v('r')} {v('g')} {v('n')}", v("rgb"))
    run("vips", "cast", v("rgb"), v("rgb8"), "uchar")
    # 4000 pixels per mm: 0.25 µm per pixel.
    run("vips", "tiffsave", v("rgb8"), path, "--tile", "--pyramid", "--compression", "jpeg", "--tile-width", "256",
        "--tile-height", "256", "--Q", "90", "--xres", "4000", "--yres", "4000")


def dicomize(slide, out, **options):
    from wsidicomizer import WsiDicomizer
    return sorted(WsiDicomizer.convert(slide, out, tile_size=256, include_label=False, include_overview=False, **options))


def frames_of(path):
    ds = pydicom.dcmread(path)
    n = int(getattr(ds, "NumberOfFrames", 1))
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        return ds, [bytes(f) for f in generate_frames(ds.PixelData, number_of_frames=n)]
    size = ds.Rows * ds.Columns * ds.SamplesPerPixel * (ds.BitsAllocated // 8)
    return ds, [bytes(ds.PixelData[i * size:(i + 1) * size]) for i in range(n)]


def get(path, headers=None, **kw):
    return requests.get(BASE + path, headers=headers or HEADERS, timeout=120, **kw)


def multipart_parts(response):
    """The (Content-Type, body) of each part of a multipart/related response (RFC 2046), parsed here."""
    boundary = response.headers["Content-Type"].split("boundary=")[1].split(";")[0].strip('"').encode()
    parts = []
    for chunk in response.content.split(b"--" + boundary)[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, body = chunk.partition(b"\r\n\r\n")
        content_type = [l.split(b":", 1)[1].strip().decode() for l in head.split(b"\r\n") if l.lower().startswith(b"content-type")]
        parts.append((content_type[0] if content_type else "", body[:-2] if body.endswith(b"\r\n") else body))
    return parts


def decode_png(body):
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))


def main():
    client = DICOMwebClient(BASE + "/dicom-web", headers=HEADERS)
    slide = os.path.join(WORK, "slide.tif")
    make_slide(slide, 1500, 1000)

    # References: JPEG tiles (copied from the TIFF), JPEG 2000 (levels 2, 3), uncompressed (levels 2, 3).
    from wsidicom.codec import Jpeg2kSettings, NumpySettings
    from wsidicom.codec.settings import Channels
    jpeg_files = dicomize(slide, os.path.join(WORK, "jpeg"))
    j2k_files = dicomize(slide, os.path.join(WORK, "j2k"), encoding=Jpeg2kSettings(levels=[0], channels=Channels.RGB),
                         force_transcoding=True, include_levels=[2, 3])
    raw_files = dicomize(slide, os.path.join(WORK, "raw"), encoding=NumpySettings(), force_transcoding=True,
                         include_levels=[2, 3])

    # A TILED_SPARSE copy of the base level: frames in reverse order with their positions, the frame of tile (1, 1) left out.
    base_path = max(jpeg_files, key=lambda f: pydicom.dcmread(f, stop_before_pixels=True).TotalPixelMatrixColumns)
    base, base_frames = frames_of(base_path)
    across = (base.TotalPixelMatrixColumns + base.Columns - 1) // base.Columns
    sparse = pydicom.dcmread(base_path)
    sparse.SOPInstanceUID = generate_uid()
    sparse.file_meta.MediaStorageSOPInstanceUID = sparse.SOPInstanceUID
    sparse.SeriesInstanceUID = generate_uid()
    sparse.DimensionOrganizationType = "TILED_SPARSE"
    kept = [i for i in reversed(range(len(base_frames))) if i != across + 1]
    items = []
    for i in kept:
        position = pydicom.Dataset()
        position.ColumnPositionInTotalImagePixelMatrix = (i % across) * base.Columns + 1
        position.RowPositionInTotalImagePixelMatrix = (i // across) * base.Rows + 1
        position.XOffsetInSlideCoordinateSystem = 0
        position.YOffsetInSlideCoordinateSystem = 0
        position.ZOffsetInSlideCoordinateSystem = 0
        item = pydicom.Dataset()
        item.PlanePositionSlideSequence = [position]
        items.append(item)
    sparse.PerFrameFunctionalGroupsSequence = items
    sparse.NumberOfFrames = len(kept)
    sparse.PixelData = encapsulate([base_frames[i] for i in kept])
    sparse_path = os.path.join(WORK, "sparse.dcm")
    sparse.save_as(sparse_path, enforce_file_format=True)

    # A TILED_FULL copy of the base level with two focal planes 2 µm apart: plane 1 holds the frames in reverse order.
    planes = pydicom.dcmread(base_path)
    planes.SOPInstanceUID = generate_uid()
    planes.file_meta.MediaStorageSOPInstanceUID = planes.SOPInstanceUID
    planes.SeriesInstanceUID = generate_uid()
    planes.TotalPixelMatrixFocalPlanes = 2
    planes.NumberOfFrames = 2 * len(base_frames)
    planes.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SpacingBetweenSlices = "0.002"
    planes.PixelData = encapsulate(base_frames + list(reversed(base_frames)))
    planes_path = os.path.join(WORK, "planes.dcm")
    planes.save_as(planes_path, enforce_file_format=True)

    # STOW-RS: the JPEG reference and the sparse and focal-plane copies; C-STORE: JPEG 2000 and uncompressed.
    client.store_instances([pydicom.dcmread(f) for f in jpeg_files + [sparse_path, planes_path]])
    # dcmtk's storescu: only the files' own presentation contexts (-R), JPEG 2000 lossless proposed for those (-xv).
    env = dict(os.environ, TCP_NODELAY="1")
    successes, log = 0, ""
    for options, files in [(["-R", "-xv"], j2k_files), (["-R"], raw_files)]:
        out = subprocess.run(["/usr/bin/storescu", "-v", *options, "-aec", "ATRIUM", "127.0.0.1", DICOM_PORT, *files],
                             capture_output=True, text=True, env=env)
        log += out.stdout + out.stderr
        successes += len([l for l in (out.stdout + out.stderr).splitlines() if "Received Store Response" in l and "Success" in l])
    check("storescu stores the JPEG 2000 and uncompressed references", successes == len(j2k_files) + len(raw_files), log[-600:])

    # WADO-RS frames are the stored codestreams, byte for byte.
    for label, files in [("JPEG", jpeg_files), ("JPEG 2000", j2k_files), ("uncompressed", raw_files)]:
        same, total, detail = 0, 0, ""
        for f in files:
            ds, frames = frames_of(f)
            syntax = ds.file_meta.TransferSyntaxUID
            url = (f"/dicom-web/studies/{ds.StudyInstanceUID}/series/{ds.SeriesInstanceUID}/instances/"
                   f"{ds.SOPInstanceUID}/frames/" + ",".join(str(i + 1) for i in range(len(frames))))
            r = get(url, headers={**HEADERS, "Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'})
            served = multipart_parts(r)
            if not all(f"transfer-syntax={syntax}" in t for t, _ in served):
                detail = f"{url}: parts say {[t for t, _ in served][:2]}"
            served = [b for _, b in served]
            for a, b in zip(frames, served):
                total += 1
                # An odd-length frame is stored with its pad byte (PS3.5 A.4).
                same += a == b or (len(a) % 2 == 1 and a + b"\0" == b) or (len(b) % 2 == 1 and b + b"\0" == a)
            if len(served) != len(frames):
                detail = f"{url}: {len(served)} frames served, {len(frames)} stored"
        check(f"WADO-RS serves the {label} frames as stored", total > 0 and same == total and not detail,
              f"{same}/{total} identical {detail}")

    # The pyramid as the index holds it.
    series = base.SeriesInstanceUID
    r = get(f"/api/wsi/series/{series}")
    pyramid = r.json() if r.status_code == 200 else {}
    references = sorted((pydicom.dcmread(f, stop_before_pixels=True) for f in jpeg_files),
                        key=lambda d: -d.TotalPixelMatrixColumns)
    expected = [[d.TotalPixelMatrixColumns, d.TotalPixelMatrixRows, d.Columns, d.Rows, int(d.NumberOfFrames),
                 [float(v) for v in d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]]
                for d in references]
    got = [[l["width"], l["height"], l["tileWidth"], l["tileHeight"], l["frames"], l.get("pixelSpacing")]
           for l in pyramid.get("levels", [])]
    check("the pyramid JSON lists the levels, tile size, frames and pixel spacing pydicom reads", got == expected,
          f"{r.status_code} got {got} expected {expected}")
    check("the pyramid says TILED_FULL and the JPEG transfer syntax",
          all(l["dimensionOrganizationType"] == "TILED_FULL" and l["transferSyntaxUID"] == "1.2.840.10008.1.2.4.50"
              for l in pyramid.get("levels", [])) and len(got) == 4, pyramid)

    # Tiles of JPEG levels are the stored JPEG bytes (as wsidicom reads them from the reference files).
    from wsidicom import WsiDicom
    reference = WsiDicom.open(jpeg_files)
    same, total, bad = 0, 0, []
    for level_index, level in enumerate(reference.levels):
        tiles_x = (level.size.width + 255) // 256
        tiles_y = (level.size.height + 255) // 256
        for y in range(tiles_y):
            for x in range(tiles_x):
                expected_tile = reference.read_encoded_tile(level.level, (x, y), crop_to_image_boundary=False)
                t = get(f"/api/wsi/series/{series}/tiles/{level_index}/{x}/{y}")
                total += 1
                ok = t.status_code == 200 and t.headers.get("Content-Type") == "image/jpeg" and (
                    t.content == expected_tile or t.content.rstrip(b"\0") == expected_tile.rstrip(b"\0"))
                same += ok
                if not ok and len(bad) < 3:
                    bad.append((level_index, x, y, t.status_code, len(t.content), len(expected_tile)))
    check("every JPEG tile is the stored JPEG, identical to what wsidicom reads from the reference", total == 1 + 2 + 6 + 24
          and same == total, f"{same}/{total} {bad}")
    t = get(f"/api/wsi/series/{series}/tiles/0/{across}/0")
    check("a tile outside the level is 404", t.status_code == 404, t.status_code)
    t = get(f"/api/wsi/series/{series}/tiles/9/0/0")
    check("a level that does not exist is 404", t.status_code == 404, t.status_code)

    # The same slide read back from Atrium with wsidicom: through DICOMweb, and from files fetched by WADO-RS.
    fetched = os.path.join(WORK, "fetched")
    os.makedirs(fetched, exist_ok=True)
    for ds in client.retrieve_series(base.StudyInstanceUID, series):
        ds.save_as(os.path.join(fetched, ds.SOPInstanceUID + ".dcm"), enforce_file_format=True)
    from_atrium = WsiDicom.open(sorted(glob.glob(fetched + "/*.dcm")))
    mismatches = []
    for level_index, level in enumerate(reference.levels):
        for y in range((level.size.height + 255) // 256):
            for x in range((level.size.width + 255) // 256):
                if from_atrium.read_encoded_tile(level.level, (x, y)) != reference.read_encoded_tile(level.level, (x, y)):
                    mismatches.append((level_index, x, y))
    check("wsidicom reads the same tiles from the files Atrium serves as from the reference",
          len(from_atrium.levels) == len(reference.levels) and not mismatches, mismatches[:5])
    try:
        from wsidicom.web import WsiDicomWebClient
        web = WsiDicom.open_web(WsiDicomWebClient(client), base.StudyInstanceUID, series,
                                requested_transfer_syntax="1.2.840.10008.1.2.4.50")
        level = web.levels[0]
        web_mismatch = [
            (x, y) for y in range(4) for x in range(6)
            if web.read_encoded_tile(level.level, (x, y)) != reference.read_encoded_tile(level.level, (x, y))]
        check("wsidicom over Atrium's DICOMweb (open_web) reads the same base tiles as the reference",
              len(web.levels) == len(reference.levels) and not web_mismatch, web_mismatch[:5])
    except Exception as error:  # noqa: BLE001 (the check records what failed)
        check("wsidicom over Atrium's DICOMweb (open_web) reads the same base tiles as the reference", False,
              f"{type(error).__name__}: {error}")

    # TILED_SPARSE: each position finds its frame; the left-out position is an empty (white) tile.
    r = get(f"/api/wsi/series/{sparse.SeriesInstanceUID}")
    level = (r.json().get("levels") or [{}])[0] if r.status_code == 200 else {}
    check("the sparse copy is indexed as TILED_SPARSE", level.get("dimensionOrganizationType") == "TILED_SPARSE", r.text[:300])
    same, total = 0, 0
    for i in range(len(base_frames)):
        x, y = i % across, i // across
        t = get(f"/api/wsi/series/{sparse.SeriesInstanceUID}/tiles/0/{x}/{y}")
        total += 1
        if i == across + 1:
            pixels = decode_png(get(f"/api/wsi/series/{sparse.SeriesInstanceUID}/tiles/0/{x}/{y}?format=png").content)
            same += t.status_code == 200 and t.headers.get("X-Atrium-Tile") == "empty" and pixels.min() == 255
        else:
            same += t.status_code == 200 and t.content.rstrip(b"\0") == base_frames[i].rstrip(b"\0")
    check("each TILED_SPARSE position serves its own frame and the missing one a white tile", same == total, f"{same}/{total}")

    # Focal planes: the pyramid lists both (Z in µm); each tile of plane 1 is the frame TILED_FULL's order puts there.
    r = get(f"/api/wsi/series/{planes.SeriesInstanceUID}")
    focal = r.json().get("focalPlanes") if r.status_code == 200 else None
    same, total = 0, 0
    for i in range(len(base_frames)):
        x, y = i % across, i // across
        for z, expected_frame in [(0, base_frames[i]), (1, base_frames[len(base_frames) - 1 - i])]:
            t = get(f"/api/wsi/series/{planes.SeriesInstanceUID}/tiles/0/{x}/{y}?z={z}")
            total += 1
            same += t.status_code == 200 and t.content.rstrip(b"\0") == expected_frame.rstrip(b"\0")
    missing = get(f"/api/wsi/series/{planes.SeriesInstanceUID}/tiles/0/0/0?z=2").status_code
    check("two focal planes: listed 2 µm apart, each tile from its plane's frame, a third plane 404",
          focal == [0.0, 2.0] and same == total and missing == 404, f"{focal} {same}/{total} {missing}")

    # JPEG 2000 and uncompressed tiles are rendered: PNG pixels equal to the reference's decoded pixels.
    for label, files in [("JPEG 2000", j2k_files), ("uncompressed", raw_files)]:
        ds0 = pydicom.dcmread(files[0], stop_before_pixels=True)
        r = get(f"/api/wsi/series/{ds0.SeriesInstanceUID}")
        ok, detail = r.status_code == 200, r.text[:200]
        if ok:
            ref = WsiDicom.open(files)
            for level_index, level in enumerate(ref.levels):
                for y in range((level.size.height + 255) // 256):
                    for x in range((level.size.width + 255) // 256):
                        t = get(f"/api/wsi/series/{ds0.SeriesInstanceUID}/tiles/{level_index}/{x}/{y}")
                        expected_pixels = np.asarray(ref.read_tile(level.level, (x, y), crop_to_image_boundary=False).convert("RGB"))
                        if t.status_code != 200 or t.headers.get("Content-Type") != "image/png":
                            ok, detail = False, f"{level_index}/{x}/{y}: {t.status_code} {t.headers.get('Content-Type')}"
                            break
                        got_pixels = decode_png(t.content)
                        if got_pixels.shape != expected_pixels.shape or not np.array_equal(got_pixels, expected_pixels):
                            ok = False
                            detail = f"{level_index}/{x}/{y}: shapes {got_pixels.shape} {expected_pixels.shape}, max diff " + str(
                                int(np.abs(got_pixels.astype(int) - expected_pixels.astype(int)).max())
                                if got_pixels.shape == expected_pixels.shape else "-")
        check(f"{label} tiles are rendered to PNG with the pixels wsidicom decodes", ok, detail)

    # Conversion by Atrium, compared with OpenSlide's own reads.
    import openslide
    source = openslide.OpenSlide(slide)
    with open(slide, "rb") as f:
        r = requests.post(BASE + "/api/wsi/convert", headers=HEADERS, timeout=300, data=f,
                          params={"PatientName": "Slide^Test", "PatientID": "WSI-1", "AccessionNumber": "A-WSI-1"})
    converted = r.json() if r.status_code == 201 else {}
    check("POST /api/wsi/convert makes one instance per OpenSlide level", r.status_code == 201
          and len(converted.get("instances", [])) == source.level_count, f"{r.status_code} {r.text[:300]}")
    if converted:
        out = os.path.join(WORK, "converted")
        os.makedirs(out, exist_ok=True)
        datasets = list(client.retrieve_series(converted["studyInstanceUID"], converted["seriesInstanceUID"]))
        for ds in datasets:
            ds.save_as(os.path.join(out, ds.SOPInstanceUID + ".dcm"), enforce_file_format=True)
        check("the converted instances carry the form's patient, no label or overview, new UIDs",
              all(str(d.PatientName) == "Slide^Test" and d.PatientID == "WSI-1" and d.ImageType[2] == "VOLUME"
                  and d.SOPClassUID == "1.2.840.10008.5.1.4.1.1.77.1.6" and d.DimensionOrganizationType == "TILED_FULL"
                  and d.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.4.50" for d in datasets)
              and not {d.SOPInstanceUID for d in datasets} & {pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID
                                                              for f in jpeg_files}, [d.ImageType for d in datasets])
        dciodvfy = subprocess.run(["dciodvfy", "-new", sorted(glob.glob(out + "/*.dcm"))[0]], capture_output=True, text=True)
        errors = [l for l in dciodvfy.stderr.splitlines() if l.startswith("Error")]
        check("dciodvfy finds no errors in a converted instance", not errors, errors[:6])
        converted_slide = WsiDicom.open(sorted(glob.glob(out + "/*.dcm")))
        mpp = float(source.properties["openslide.mpp-x"])
        geometry, pixels = [], []
        for index, level in enumerate(converted_slide.levels):
            width, height = source.level_dimensions[index]
            downsample = source.level_downsamples[index]
            geometry.append((level.size.width == width and level.size.height == height, level.tile_size.width == 256,
                             abs(level.pixel_spacing.width * 1000 - mpp * downsample) < 1e-6 * mpp * downsample + 1e-9))
            # The first tile: the converter's JPEG blocks line up with Pillow's below.
            region = (min(width, 256), min(height, 256))
            mine = np.asarray(converted_slide.read_region((0, 0), level.level, region).convert("RGB")).astype(int)
            theirs_image = source.read_region((0, 0), index, region).convert("RGB")
            theirs = np.asarray(theirs_image).astype(int)
            # JPEG's own loss on these pixels: Pillow (libjpeg) at quality 90 with 4:2:0 chroma, libjpeg's defaults.
            again = io.BytesIO()
            theirs_image.save(again, "JPEG", quality=90, subsampling=2)
            budget = float(np.abs(np.asarray(Image.open(again).convert("RGB")).astype(int) - theirs).mean())
            pixels.append((float(np.abs(mine - theirs).mean()), budget))
        check("wsidicom finds OpenSlide's level sizes, 256-pixel tiles and OpenSlide's µm per pixel × downsample",
              len(geometry) == source.level_count and all(all(g) for g in geometry), geometry)
        check("the converted pixels differ from OpenSlide's reads no more than a JPEG re-encoding by Pillow does (+25 %)",
              len(pixels) == source.level_count and all(error <= 1.25 * budget + 0.5 for error, budget in pixels), pixels)
    with open(os.path.join(WORK, "not-a-slide.bin"), "wb") as f:
        f.write(os.urandom(4096))
    with open(os.path.join(WORK, "not-a-slide.bin"), "rb") as f:
        r = requests.post(BASE + "/api/wsi/convert", headers=HEADERS, timeout=60, data=f)
    check("a file OpenSlide does not read is refused with 415 and a reason", r.status_code == 415 and "OpenSlide" in r.text,
          f"{r.status_code} {r.text[:200]}")
    r = requests.get(BASE + f"/api/wsi/series/{series}", timeout=30)
    check("signed out, the pyramid is refused", r.status_code == 401, r.status_code)


if __name__ == "__main__":
    try:
        main()
    except Exception:  # noqa: BLE001 (reported as a failed check)
        check("the session ran to the end", False, traceback.format_exc())
    print(json.dumps({"checks": checks}))
