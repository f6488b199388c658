#!/usr/bin/env python3
"""Attachments for the consultation tests, and what pydicom reads in the DICOM objects Atrium made of them.

  attachment_files.py make DIRECTORY
      writes photo.jpg (baseline JPEG, made by Pillow), progressive.jpg (progressive JPEG), form.pdf (a one-page PDF,
      odd length), not-a-pdf.pdf (a PNG with a .pdf name) and prints what they are as JSON.
  attachment_files.py read PDF_DCM SC_DCM ORIGINAL_PDF ORIGINAL_JPG
      prints JSON with what pydicom reads in the Encapsulated PDF and the Secondary Capture, compared with the originals.
"""
import hashlib
import io
import json
import sys

import numpy
import pydicom
from PIL import Image


def make(directory):
    image = Image.new("RGB", (97, 64))
    pixels = image.load()
    for y in range(64):
        for x in range(97):
            pixels[x, y] = (x * 2 % 256, y * 4 % 256, (x + y) % 256)
    image.save(f"{directory}/photo.jpg", "JPEG", quality=90)
    image.save(f"{directory}/progressive.jpg", "JPEG", quality=90, progressive=True)
    image.save(f"{directory}/not-a-pdf.pdf", "PNG")
    # A minimal PDF (one empty page); a trailing space makes its length odd, so the DICOM value needs its pad byte.
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    if len(out) % 2 == 0:
        out += b" "
    open(f"{directory}/form.pdf", "wb").write(out)
    print(json.dumps({"pdfBytes": len(out), "pdfSHA256": hashlib.sha256(out).hexdigest(), "jpegRows": 64, "jpegColumns": 97,
                      "jpegSHA256": hashlib.sha256(open(f"{directory}/photo.jpg", "rb").read()).hexdigest()}))


def read(pdf_path, sc_path, original_pdf, original_jpg):
    pdf = pydicom.dcmread(pdf_path)
    original = open(original_pdf, "rb").read()
    document = bytes(pdf.EncapsulatedDocument)[: int(pdf.EncapsulatedDocumentLength)]
    sc = pydicom.dcmread(sc_path)
    reference = numpy.asarray(Image.open(original_jpg).convert("RGB"), dtype=numpy.int16)
    decoded = sc.pixel_array  # pydicom 3 converts YBR_FULL_422 to RGB when it decodes (as_rgb=True)
    difference = float(numpy.abs(decoded.astype(numpy.int16) - reference).max())
    print(json.dumps({
        "pdf": {"sopClass": pdf.SOPClassUID, "modality": pdf.Modality, "mime": pdf.MIMETypeOfEncapsulatedDocument,
                "same": document == original, "length": int(pdf.EncapsulatedDocumentLength),
                "patientID": pdf.PatientID, "study": pdf.StudyInstanceUID, "series": pdf.SeriesInstanceUID},
        "sc": {"sopClass": sc.SOPClassUID, "transferSyntax": sc.file_meta.TransferSyntaxUID, "rows": int(sc.Rows),
               "columns": int(sc.Columns), "photometric": sc.PhotometricInterpretation, "patientID": sc.PatientID,
               "study": sc.StudyInstanceUID, "series": sc.SeriesInstanceUID, "maxDifference": difference,
               "codestreamSame": next(pydicom.encaps.generate_frames(sc.PixelData, number_of_frames=1)).rstrip(b"\0")
               == open(original_jpg, "rb").read().rstrip(b"\0")},
    }))


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        read(*sys.argv[2:6])
