#!/usr/bin/env python3
"""Drives an Atrium server with dicomweb-client (a DICOMweb client nobody here wrote) and checks every answer
against pydicom's reading of the original files. Prints one JSON object: {"checks": [[name, ok, detail], ...]}.

Usage: dicomweb_session.py BASE_URL FILE...
"""
import base64
import json
import os
import sys
import warnings

import pydicom
from dicomweb_client.api import DICOMwebClient

warnings.simplefilter("ignore")
checks = []


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:500]])


def main():
    base, paths = sys.argv[1], sys.argv[2:]
    # The bearer token goes in a header, never in the URL.
    token = os.environ.get("ATRIUM_TOKEN")
    client = DICOMwebClient(url=base, headers={"Authorization": "Bearer " + token} if token else None)
    originals = [pydicom.dcmread(p) for p in paths]
    by_uid = {ds.SOPInstanceUID: ds for ds in originals}

    # STOW-RS
    response = client.store_instances(datasets=originals)
    stored = [item.ReferencedSOPInstanceUID for item in response.get("ReferencedSOPSequence", [])]
    check("STOW-RS stores every instance", sorted(stored) == sorted(by_uid), "%d of %d" % (len(stored), len(by_uid)))
    check("STOW-RS reports no failure", "FailedSOPSequence" not in response, response.get("FailedSOPSequence", ""))

    # QIDO-RS
    studies = client.search_for_studies()
    expected_studies = {ds.StudyInstanceUID for ds in originals}
    found = {s["0020000D"]["Value"][0] for s in studies}
    check("QIDO-RS lists every study", found == expected_studies, "%s vs %s" % (sorted(found), sorted(expected_studies)))
    for ds in originals[:3]:
        series = client.search_for_series(study_instance_uid=ds.StudyInstanceUID)
        expected = {d.SeriesInstanceUID for d in originals if d.StudyInstanceUID == ds.StudyInstanceUID}
        check("QIDO-RS lists the series of a study", {s["0020000E"]["Value"][0] for s in series} == expected)
        instances = client.search_for_instances(study_instance_uid=ds.StudyInstanceUID, series_instance_uid=ds.SeriesInstanceUID)
        expected = {d.SOPInstanceUID for d in originals if d.SeriesInstanceUID == ds.SeriesInstanceUID}
        check("QIDO-RS lists the instances of a series", {i["00080018"]["Value"][0] for i in instances} == expected)
    named = [ds for ds in originals if str(ds.get("PatientName", ""))]
    if named:
        ds = named[0]
        prefix = str(ds.PatientName)[:3]
        hits = client.search_for_studies(search_filters={"PatientName": prefix + "*"})
        expected = {d.StudyInstanceUID for d in originals if str(d.get("PatientName", "")).lower().startswith(prefix.lower())}
        check("QIDO-RS matches a patient name wildcard", {s["0020000D"]["Value"][0] for s in hits} == expected,
              "%s: %d hits" % (prefix, len(hits)))
    dated = [ds for ds in originals if ds.get("StudyDate")]
    if dated:
        day = dated[0].StudyDate
        hits = client.search_for_studies(search_filters={"StudyDate": "%s-%s" % (day, day)})
        expected = {d.StudyInstanceUID for d in originals if d.get("StudyDate") == day}
        check("QIDO-RS matches a date range", {s["0020000D"]["Value"][0] for s in hits} == expected)
    limited = client.search_for_studies(limit=1)
    check("QIDO-RS honours limit", len(limited) == min(1, len(expected_studies)))

    # WADO-RS
    for ds in originals[:5]:
        got = client.retrieve_instance(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        same = got.to_json_dict() == ds.to_json_dict()
        check("WADO-RS returns the stored instance unchanged", same, ds.SOPInstanceUID)
        meta = client.retrieve_instance_metadata(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        check("WADO-RS metadata names the instance", meta.get("00080018", {}).get("Value", [None])[0] == ds.SOPInstanceUID)
        if "PixelData" in ds and not ds.file_meta.TransferSyntaxUID.is_compressed:
            pixel = meta.get("7FE00010", {})
            uri = pixel.get("BulkDataURI")
            if len(ds.PixelData) > 1024:
                check("WADO-RS metadata gives large Pixel Data as a BulkDataURI", uri is not None, pixel)
            if uri:
                bulk = client.retrieve_bulkdata(uri)
                check("WADO-RS bulk data equals pydicom's Pixel Data", bulk and bulk[0] == ds.PixelData, len(bulk[0]) if bulk else None)
            else:
                inline = base64.b64decode(pixel.get("InlineBinary", ""))
                check("WADO-RS metadata carries small Pixel Data inline, equal to pydicom's", inline == ds.PixelData)
            frames = client.retrieve_instance_frames(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, frame_numbers=[1])
            frame_size = ds.Rows * ds.Columns * ds.SamplesPerPixel * ds.BitsAllocated // 8
            check("WADO-RS frame 1 equals the first frame of pydicom's Pixel Data", frames and frames[0] == ds.PixelData[:frame_size],
                  "%d vs %d bytes" % (len(frames[0]) if frames else -1, frame_size))
    # Rendered (PS3.18 8.3.5): a PNG with an explicit window, checked against the window formula of PS3.3
    # C.11.2.1.2.1 applied by numpy to pydicom's pixel_array and rescale.
    import io

    import numpy as np
    from PIL import Image

    gray = [ds for ds in originals if ds.get("PhotometricInterpretation") == "MONOCHROME2" and int(ds.get("NumberOfFrames", 1) or 1) == 1]
    if gray:
        ds = gray[0]
        center, width = 100.0, 400.0
        png = client.retrieve_instance_rendered(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                                                media_types=("image/png",), params={"window": "%g,%g,linear" % (center, width)})
        image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
        x = ds.pixel_array.astype(float) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
        y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255
        y = np.clip(np.where(x <= center - 0.5 - (width - 1) / 2, 0, np.where(x > center - 0.5 + (width - 1) / 2, 255, y)), 0, 255)
        check("WADO-RS rendered PNG follows the window formula", image.shape == y.shape and np.abs(image - y).max() <= 1.0,
              "shape %s vs %s, max diff %s" % (image.shape, y.shape, np.abs(image - y).max() if image.shape == y.shape else "-"))
        # The same frame again, now from the server's decoded-frame cache, with another window: still the formula.
        center, width = -50.0, 900.0
        png = client.retrieve_instance_rendered(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                                                media_types=("image/png",), params={"window": "%g,%g,linear" % (center, width)})
        image = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=float)
        y = ((x - (center - 0.5)) / (width - 1) + 0.5) * 255
        y = np.clip(np.where(x <= center - 0.5 - (width - 1) / 2, 0, np.where(x > center - 0.5 + (width - 1) / 2, 255, y)), 0, 255)
        check("WADO-RS rendered PNG of a cached frame follows a new window", image.shape == y.shape and np.abs(image - y).max() <= 1.0,
              "shape %s vs %s, max diff %s" % (image.shape, y.shape, np.abs(image - y).max() if image.shape == y.shape else "-"))
        jpeg = client.retrieve_instance_rendered(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID, media_types=("image/jpeg",),
                                                 params={"viewport": "64,64", "quality": "80"})
        im = Image.open(io.BytesIO(jpeg))
        check("WADO-RS rendered JPEG fits the viewport", im.format == "JPEG" and max(im.size) == 64, "%s %s" % (im.format, im.size))
        thumb = client.retrieve_series_thumbnail(ds.StudyInstanceUID, ds.SeriesInstanceUID) if hasattr(client, "retrieve_series_thumbnail") else None
        if thumb is not None:
            check("a series thumbnail is an image", Image.open(io.BytesIO(thumb)).size[0] > 0)

    # Transfer syntax negotiation: a stored uncompressed instance asked for as RLE Lossless comes back as RLE, and
    # pydicom decodes it to the same pixels.
    plain = [ds for ds in originals if not ds.file_meta.TransferSyntaxUID.is_compressed and "PixelData" in ds]
    if plain:
        ds = plain[0]
        rle = client.retrieve_instance(ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID,
                                       media_types=(("application/dicom", "1.2.840.10008.1.2.5"),))
        check("WADO-RS transcodes to RLE on request", rle.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.5", rle.file_meta.TransferSyntaxUID)
        check("the RLE pixels equal the stored pixels", np.array_equal(rle.pixel_array, ds.pixel_array))

    series = client.retrieve_series(originals[0].StudyInstanceUID, originals[0].SeriesInstanceUID)
    expected = [d for d in originals if d.SeriesInstanceUID == originals[0].SeriesInstanceUID]
    check("WADO-RS returns a whole series", len(series) == len(expected), "%d vs %d" % (len(series), len(expected)))
    study = client.retrieve_study(originals[0].StudyInstanceUID)
    expected = [d for d in originals if d.StudyInstanceUID == originals[0].StudyInstanceUID]
    check("WADO-RS returns a whole study", len(study) == len(expected))
    print(json.dumps({"checks": checks}))


if __name__ == "__main__":
    main()
