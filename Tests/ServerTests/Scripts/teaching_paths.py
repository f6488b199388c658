#!/usr/bin/env python3
"""Pathology and laboratory cases into the teaching library, checked with software nobody here wrote.

Pathology: a pyramidal TIFF made by libvips is turned into DICOM WSI by wsidicomizer; pydicom adds the patient's
identity (and the slide's container and specimen identifiers) to every instance and derives a LABEL and an OVERVIEW
image carrying the label's text; all go to Atrium by STOW-RS (dicomweb-client). A curator flags the study and makes the
case: the teaching copies fetched back must hold no label or overview (pydicom), none of the identifying values in any
byte form (UTF-8 and GB 18030), a date shift within PS3.15's bounds, and open in wsidicom with the same levels and the
same tile pixels as the originals.

Laboratory: an ORU^R01 built by hl7apy for the same patient (same ID and issuer) goes over MLLP; the site files a
laboratory consultation, the reader signs it; the case made from it shows the results table (values and the glucose
conversion computed here), the pseudonym the slide's copies carry, the observation day shifted by the days pydicom
measured on the slide, and none of the identifiers, in the API and on the case page in headless Chromium.

    python3 teaching_paths.py BASE MLLP_PORT FACILITY SEED_JSON WORK_DIR SCREENSHOT_DIR
SEED_JSON: {"curator": token, "site": token, "reader": token, "readerPassword": ..., "curatorLogin": [user, password]}
Prints {"checks": [[name, ok, detail], ...]}.
"""
import datetime
import glob
import json
import os
import socket
import sys
import traceback
import warnings

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "LaboratoryTests", "Scripts"))
import numpy as np  # noqa: E402
import pydicom  # noqa: E402
from atrium_client import Client, browser, sign_in  # noqa: E402
from dicomweb_client.api import DICOMwebClient  # noqa: E402
from hl7apy.parser import parse_message  # noqa: E402
from oru_messages import oru  # noqa: E402
from pydicom.uid import generate_uid  # noqa: E402
from wsi_session import dicomize, make_slide  # noqa: E402

warnings.simplefilter("ignore")
base, mllp_port, facility, seed_path, work, shots = sys.argv[1:7]
mllp_port = int(mllp_port)
seed = json.load(open(seed_path, encoding="utf-8"))
curator, site, reader = (Client(base, seed[k]) for k in ("curator", "site", "reader"))
checks = []

PATIENT_ID, ISSUER = "PX-778899", "COUNTY-A"
FAMILY, GIVEN, BIRTH = "欧阳", "三丰", "19580312"
# wsidicomizer writes "Unknown" as both Manufacturer and Device Serial Number, which the safety net (rightly, bytes being
# bytes) refuses; a scanner's real serial is set instead, and must go too.
SLIDE_PHI = {"AccessionNumber": "ACC-556677", "ContainerIdentifier": "SLIDE-443322", "StudyID": "ST-991188",
             "DeviceSerialNumber": "SN-204193"}
SPECIMEN_ID = "SPEC-221100"
LABEL_TEXT = "LBL-" + PATIENT_ID + " " + FAMILY + GIVEN
STUDY_DATE = "20261201"


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:600]])


def identifying():
    """Every identifying value, as the test wrote it."""
    return [PATIENT_ID, FAMILY + GIVEN, FAMILY, GIVEN, BIRTH, "1958-03-12", SPECIMEN_ID, LABEL_TEXT, *SLIDE_PHI.values()]


def leaks(data):
    found = []
    for value in identifying():
        for encoding in ("utf-8", "gb18030"):
            if value.encode(encoding) in data:
                found.append((value, encoding))
    return found


def pathology():
    slide = os.path.join(work, "slide.tif")
    make_slide(slide, 1024, 768)
    files = dicomize(slide, os.path.join(work, "wsi"))
    datasets = [pydicom.dcmread(f) for f in files]
    study = generate_uid()
    for ds in datasets:
        ds.SpecificCharacterSet = "ISO_IR 192"
        ds.StudyInstanceUID = study
        ds.PatientName = FAMILY + "^" + GIVEN
        ds.PatientID = PATIENT_ID
        ds.IssuerOfPatientID = ISSUER
        ds.PatientBirthDate = BIRTH
        ds.PatientSex = "M"
        ds.StudyDate = STUDY_DATE
        for keyword, value in SLIDE_PHI.items():
            setattr(ds, keyword, value)
        # Some scanners write the label's text and barcode into every instance, not only the label image.
        ds.LabelText = LABEL_TEXT
        ds.BarcodeValue = PATIENT_ID
        specimen = pydicom.Dataset()
        specimen.SpecimenIdentifier = SPECIMEN_ID
        specimen.SpecimenUID = generate_uid()
        specimen.IssuerOfTheSpecimenIdentifierSequence = []
        specimen.SpecimenPreparationSequence = []
        ds.SpecimenDescriptionSequence = [specimen]
    # A label and an overview image, derived from the smallest level, with the label's text.
    smallest = min(datasets, key=lambda d: int(d.TotalPixelMatrixColumns))
    extra = []
    for kind in ("LABEL", "OVERVIEW"):
        ds = pydicom.dcmread(files[datasets.index(smallest)])
        for attribute in ("SpecificCharacterSet", "StudyInstanceUID", "PatientName", "PatientID", "IssuerOfPatientID",
                          "PatientBirthDate", "PatientSex", "StudyDate", "SpecimenDescriptionSequence", *SLIDE_PHI):
            setattr(ds, attribute, getattr(smallest, attribute))
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.ImageType = ["ORIGINAL", "PRIMARY", kind, "NONE"]
        ds.LabelText = LABEL_TEXT
        ds.BarcodeValue = PATIENT_ID
        extra.append(ds)
    levels = [d.SOPInstanceUID for d in datasets]
    dropped = [d.SOPInstanceUID for d in extra]
    originals = os.path.join(work, "originals")
    os.makedirs(originals, exist_ok=True)
    for ds in datasets:
        ds.save_as(os.path.join(originals, ds.SOPInstanceUID + ".dcm"), enforce_file_format=True)
    client = DICOMwebClient(base + "/dicom-web", headers={"Authorization": "Bearer " + seed["curator"]})
    client.store_instances(datasets + extra)

    status, flagged = curator.call("POST", "/api/library/flagged", {"studyInstanceUID": study, "note": "WSI teaching"})
    check("the curator flags the slide's study", status == 201, (status, flagged))
    status, preview = curator.call("GET", "/api/library/flagged/%s" % flagged["id"])
    marked = sorted(i["sopInstanceUID"] for i in preview["instances"] if i.get("dropped"))
    check("the preview marks the label and the overview as left out", marked == sorted(dropped), (marked, dropped))
    check("the label's attributes are not listed in the preview",
          all(not i["changes"] for i in preview["instances"] if i.get("dropped")), "")
    status, _ = curator.call("GET", "/library/flagged/%s/preview/%s" % (flagged["id"], dropped[0]), raw=True)
    check("the label's pixels are not shown (404)", status == 404, status)
    status, made = curator.call("POST", "/api/library/flagged/%s/case" % flagged["id"])
    check("the case is made", status == 201, (status, made))
    case_id = made["id"]
    status, images = curator.call("GET", "/api/library/cases/%s/images" % case_id)
    copies = os.path.join(work, "copies")
    os.makedirs(copies, exist_ok=True)
    raw = []
    for image in images["images"]:
        status, data = curator.call("GET", "/api/library/cases/%s/images/%s" % (case_id, image["sopInstanceUID"]), raw=True)
        raw.append(data)
        with open(os.path.join(copies, image["sopInstanceUID"] + ".dcm"), "wb") as f:
            f.write(data)
    read = [pydicom.dcmread(p) for p in sorted(glob.glob(os.path.join(copies, "*.dcm")))]
    check("one teaching copy per pyramid level, none of the label or overview",
          len(read) == len(levels) and all(str(d.ImageType[2]).upper() not in ("LABEL", "OVERVIEW") for d in read),
          [list(d.ImageType) for d in read])
    found = [leak for data in raw for leak in leaks(data)]
    check("no identifying value in any copy's bytes (UTF-8, GB 18030)", not found, found)
    check("no Label Text or Barcode Value kept (absent or empty)",
          all(not d.get("LabelText", None) or not d.LabelText for d in read)
          and all(not d.get("BarcodeValue", None) or not d.BarcodeValue for d in read),
          [(d.get("LabelText"), d.get("BarcodeValue")) for d in read])
    check("one pseudonym for the slide", len({str(d.PatientID) for d in read}) == 1 and read[0].PatientID != PATIENT_ID,
          {str(d.PatientID) for d in read})
    shifts = {(datetime.date(int(d.StudyDate[:4]), int(d.StudyDate[4:6]), int(d.StudyDate[6:8]))
               - datetime.date(2026, 12, 1)).days for d in read}
    check("the study date is shifted 1 to 3650 days back, alike in every copy",
          len(shifts) == 1 and -3650 <= next(iter(shifts)) <= -1, shifts)
    from wsidicom import WsiDicom
    with WsiDicom.open(originals) as original, WsiDicom.open(copies) as copy:
        same_levels = len(original.levels) == len(copy.levels)
        check("wsidicom opens the teaching copy with the original's levels and no label or overview",
              same_levels and not copy.labels and not copy.overviews, (len(original.levels), len(copy.levels)))
        a = np.asarray(original.read_tile(0, (0, 0)))
        b = np.asarray(copy.read_tile(0, (0, 0)))
        check("the base level's first tile is unchanged", a.shape == b.shape and np.array_equal(a, b), (a.shape, b.shape))
    return str(read[0].PatientID), next(iter(shifts))


def send(control, payload):
    with socket.create_connection(("127.0.0.1", mllp_port), timeout=30) as s:
        s.sendall(b"\x0b" + payload + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return parse_message(data[1:-2].decode("utf-8"), find_groups=False).msa.msa_1.value


def laboratory(pseudonym, shift):
    patient = {"id": PATIENT_ID, "authority": ISSUER, "family": FAMILY, "given": GIVEN, "birth": BIRTH, "sex": "M"}
    orders = [{"placer": "PLC-314159", "filler": "FIL-271828", "service": "24323-8", "service_text": "Metabolic panel",
               "time": "20261201083000+0800", "observations": [
                   {"type": "NM", "code": "2823-3", "text": "Potassium", "system": "LN", "value_er7": "4.1", "units": "mmol/L"},
                   {"type": "NM", "code": "2345-7", "text": "Glucose", "system": "LN", "value_er7": "126", "units": "mg/dL"},
                   {"type": "NM", "code": "718-7", "text": "Hemoglobin", "system": "LN", "value_er7": "98", "units": "g/L"},
                   {"type": "ST", "code": "X-NOTE", "text": "Remark", "system": "L",
                    "value_er7": "Recheck requested by " + FAMILY + GIVEN}]}]
    ack = send("MSG-TEACH-1", oru("MSG-TEACH-1", facility, patient, orders).encode("utf-8"))
    check("the ORU^R01 is accepted", ack == "AA", ack)
    status, sets = site.call("GET", "/api/lab/result-sets?patient=" + PATIENT_ID)
    set_id = sets[0]["id"]
    status, filed = site.call("POST", "/api/lab/result-sets/%s/consultation" % set_id, {"question": "Anaemia?"})
    request_id = filed["id"]
    status, body = reader.call("POST", "/api/lab/consultations/%s/teaching-case" % request_id)
    check("an unread consultation is not made into a case (409)", status == 409, (status, body))
    status, claimed = reader.call("POST", "/api/worklist/%s/claim" % filed["workItem"])
    report_id = claimed["reportID"]
    status, report = reader.call("GET", "/api/reports/%s" % report_id)
    sections = report["sections"]
    for s in sections:
        if s["kind"] == "impression":
            s["text"] = "Normocytic anaemia with hyperglycaemia; potassium normal."
    status, signed = reader.call("POST", "/api/reports/%s/sign" % report_id, {"sections": sections, "password": seed["readerPassword"]})
    check("the reader signs the laboratory report", status == 200, (status, signed))
    status, body = site.call("POST", "/api/lab/consultations/%s/teaching-case" % request_id)
    check("a site user cannot make a teaching case (403)", status == 403, (status, body))
    status, made = reader.call("POST", "/api/lab/consultations/%s/teaching-case" % request_id)
    check("the reader flags the read case for teaching (201)", status == 201, (status, made))
    status, again = reader.call("POST", "/api/lab/consultations/%s/teaching-case" % request_id)
    check("flagging it twice gives the same case", again.get("case") == made.get("case"), (again, made))
    status, case = curator.call("GET", "/api/library/cases/%s" % made["case"])
    content = case.get("content", case)
    text = "\n".join(str(content.get(k, "")) for k in ("title", "clinicalHistory", "findings", "discussion"))
    check("the case carries the slide's pseudonym", pseudonym in text and made.get("pseudonym") == pseudonym, (pseudonym, text[:300]))
    expected_day = (datetime.date(2026, 12, 1) + datetime.timedelta(days=shift)).isoformat() + " 08:30"
    check("the observation day is shifted by the slide's shift", expected_day in text, (expected_day, text[:300]))
    found = [v for v in identifying() + ["PLC-314159", "FIL-271828", "MSG-TEACH-1", "2026-12-01", "20261201"] if v in text]
    check("no identifier in the case's text", not found, found)
    check("the free-text remark is left out", "Recheck" not in text, text)
    glucose = round(126 / 18.016, 2)  # mg/dL to mmol/L (molar mass of glucose 180.16 g/mol)
    check("the results table has potassium as sent", "Potassium | 2823-3 | 4.1 | mmol/L" in text, content.get("findings"))
    check("and glucose in mmol/L", ("Glucose | 2345-7 | %s | mmol/L" % glucose) in text or
          ("Glucose | 2345-7 | %s | mmol/L" % ("%g" % glucose)) in text, (glucose, content.get("findings")))
    hb_line = [line for line in text.splitlines() if line.startswith("Hemoglobin")]
    check("haemoglobin 98 g/L flagged low (adult male interval starts at 130 g/L)", hb_line and "| L |" in hb_line[0], hb_line)
    check("the signed interpretation goes with it", "Normocytic anaemia" in text, text[-300:])
    check("sex and age are kept (68 at the observation)", "68" in content.get("clinicalHistory", ""), content.get("clinicalHistory"))
    return made["case"]


def page(case_id):
    from selenium.webdriver.common.by import By
    driver, wait = browser()
    try:
        user, password = seed["curatorLogin"]
        sign_in(driver, wait, base, user, password)
        driver.get("%s/library/cases/%s" % (base, case_id))
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '[data-field="findings"]'))
        findings = driver.find_element(By.CSS_SELECTOR, '[data-field="findings"]').text
        body = driver.find_element(By.TAG_NAME, "body").text
        driver.save_screenshot(os.path.join(shots, "lab-teaching-case.png"))
        check("the case page shows the results table", "Potassium" in findings and "2823-3" in findings, findings[:300])
        found = [v for v in identifying() + ["PLC-314159", "FIL-271828"] if v in body]
        check("the case page shows no identifier", not found, found)
    finally:
        driver.quit()


try:
    pseudonym, shift = pathology()
    case_id = laboratory(pseudonym, shift)
    page(case_id)
except Exception:
    check("the session ran to the end", False, traceback.format_exc()[-1500:])
print(json.dumps({"checks": checks}, ensure_ascii=False))
