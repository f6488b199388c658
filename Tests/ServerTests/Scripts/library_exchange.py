#!/usr/bin/env python3
"""Exchange of teaching cases between two servers, over their JSON APIs (urllib), checked with zipfile, hashlib and pydicom.

Usage: library_exchange.py BASE_A BASE_B PEOPLE_JSON

PEOPLE_JSON: {"curatorA": [user, password, token] (server A), "curatorB": [...] (server A), "curatorC": [...] (server B)}.
Steps: server A receives a study of 张伟 (a CT and a US image made here with pydicom) and a KOS "For Teaching" by STOW-RS;
curator A masks the US series, makes the case, edits it, curator B approves it; A exports a collection holding it; the
zip is checked with zipfile and hashlib (every file's SHA-256 as the manifest says); server B imports it: one new draft
case with two images de-identified again (UIDs and pseudonym not A's, no identifying value of the source in the bytes,
the key images pointing at B's UIDs) and the collection; importing again makes nothing new; a package with one changed
byte, or without its manifest, is refused. Prints one line per step and "ok"; exits non-zero on the first failure.
"""
import hashlib
import io
import json
import sys
import urllib.error
import urllib.request
import zipfile

import numpy
import pydicom
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

base_a, base_b, people_path = sys.argv[1:4]
people = json.load(open(people_path, encoding="utf-8"))
servers = {"curatorA": base_a, "curatorB": base_a, "curatorC": base_b}


def step(name):
    print("step:", name, flush=True)


def fail(message):
    sys.exit("FAILED: " + message)


def call(who, method, path, body=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        servers[who] + path, data=data, method=method, headers={"Authorization": f"Bearer {people[who][2]}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def api(who, method, path, body=None, **kwargs):
    status, raw = call(who, method, path, body, **kwargs)
    try:
        return status, json.loads(raw or b"{}")
    except ValueError:
        return status, {"body": raw[:300].decode("utf-8", "replace")}


patient_name, patient_id, hospital, study_uid = "张^伟", "CLIN-445566", "石桥县人民医院", generate_uid()


def image(modality, sop_class, pixels, bits):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient_name, patient_id, "19620704", "F"
    ds.InstitutionName, ds.AccessionNumber, ds.StudyInstanceUID, ds.SeriesInstanceUID = hospital, "ACC-9911", study_uid, generate_uid()
    ds.StudyDate, ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "20261130", modality, 1, 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = 32, 32, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.PixelData = pixels.tobytes()
    return ds


ct = image("CT", "1.2.840.10008.5.1.4.1.1.2", (numpy.arange(1024, dtype=numpy.uint16).reshape(32, 32)), 16)
us_pixels = numpy.full((32, 32), 40, dtype=numpy.uint8)
us_pixels[0:6, 0:20] = 255
us = image("US", "1.2.840.10008.5.1.4.1.1.6.1", us_pixels, 8)


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


kos = Dataset()
kos.file_meta = FileMetaDataset()
kos.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
kos.SOPClassUID = kos.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
kos.SOPInstanceUID = kos.file_meta.MediaStorageSOPInstanceUID = generate_uid()
kos.SpecificCharacterSet = "ISO_IR 192"
kos.PatientName, kos.PatientID, kos.StudyInstanceUID, kos.Modality = patient_name, patient_id, study_uid, "KO"
kos.SeriesInstanceUID, kos.SeriesNumber, kos.InstanceNumber, kos.ValueType = generate_uid(), 9902, 1, "CONTAINER"
kos.ConceptNameCodeSequence = code("113004", "DCM", "For Teaching")
series_items = []
for instance in (ct, us):
    reference = Dataset()
    reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = instance.SOPClassUID, instance.SOPInstanceUID
    series = Dataset()
    series.SeriesInstanceUID, series.ReferencedSOPSequence = instance.SeriesInstanceUID, Sequence([reference])
    series_items.append(series)
evidence = Dataset()
evidence.StudyInstanceUID, evidence.ReferencedSeriesSequence = study_uid, Sequence(series_items)
kos.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])

step("server A receives a study and a KOS \"For Teaching\", and publishes a case from it")
client = DICOMwebClient(url=base_a + "/dicom-web", headers={"Authorization": "Bearer " + people["curatorA"][2]})
client.store_instances(datasets=[ct, us])
client.store_instances(datasets=[kos])
status, queue = api("curatorA", "GET", "/api/library/flagged")
flagged = next(f for f in queue["flagged"] if f["sourceKey"] == "kos:" + kos.SOPInstanceUID)
status, masked = api("curatorA", "PUT", f"/api/library/flagged/{flagged['id']}/masks",
                     {"seriesInstanceUID": us.SeriesInstanceUID, "rectangles": [{"x": 0, "y": 0, "width": 20, "height": 6}], "revision": flagged["revision"]})
if status != 200:
    fail(f"masks: {status} {masked}")
status, made = api("curatorA", "POST", f"/api/library/flagged/{flagged['id']}/case")
if status != 201:
    fail(f"case: {status} {made}")
content = made["content"]
content.update({"title": "肺癌 交流病例 Exchanged lung cancer", "findings": "右肺门肿块。Hilar mass.", "diagnosis": "肺鳞癌 squamous cell carcinoma"})
status, edited = api("curatorA", "PUT", f"/api/library/cases/{made['id']}", {"content": content, "revision": made["revision"]})
if status != 200:
    fail(f"edit on A: {status} {edited}")
status, submitted = api("curatorA", "POST", f"/api/library/cases/{made['id']}/submit", {"revision": edited["revision"]})
if status != 200:
    fail(f"submit on A: {status} {submitted}")
status, approved = api("curatorB", "POST", f"/api/library/cases/{made['id']}/approve", {"revision": submitted["revision"]})
if approved.get("status") != "published":
    fail(f"approval on A: {status} {approved}")
status, collection = api("curatorA", "POST", "/api/library/collections", {"title": "交流 Exchange set", "caseIDs": [made["id"]]})
a_copies = {}
for entry in api("curatorA", "GET", f"/api/library/cases/{made['id']}/images")[1]["images"]:
    a_copies[entry["modality"]] = pydicom.dcmread(io.BytesIO(call("curatorA", "GET", f"/api/library/cases/{made['id']}/images/{entry['sopInstanceUID']}")[1]))

step("A exports the collection; the zip's files match the manifest's SHA-256 (zipfile, hashlib)")
status, package = call("curatorA", "GET", f"/api/library/collections/{collection['id']}/export")
if status != 200:
    fail(f"export: {status}")
archive = zipfile.ZipFile(io.BytesIO(package))
if archive.testzip() is not None:
    fail("the zip has a bad CRC")
manifest = json.loads(archive.read("manifest.json"))
names = set(archive.namelist()) - {"manifest.json"}
if names != {f["path"] for f in manifest["files"]}:
    fail(f"manifest and zip differ: {sorted(names)}")
for f in manifest["files"]:
    if hashlib.sha256(archive.read(f["path"])).hexdigest() != f["sha256"]:
        fail(f"{f['path']}: SHA-256 differs from the manifest")
description = json.loads(archive.read("cases.json"))
if len(description["cases"]) != 1 or len(description["cases"][0]["images"]) != 2 or description["collection"]["title"] != "交流 Exchange set":
    fail(f"cases.json: {description}")
for path in description["cases"][0]["images"]:
    ds = pydicom.dcmread(io.BytesIO(archive.read(path)))
    if ds.PatientIdentityRemoved != "YES":
        fail(f"{path} is not de-identified")

step("server B imports it: one draft case, de-identified again with B's secret, and the collection")
status, imported = api("curatorC", "POST", "/api/library/import", raw=package, content_type="application/zip")
if status != 201 or imported["created"] != 1 or len(imported["cases"]) != 1 or "collection" not in imported:
    fail(f"import: {status} {imported}")
b_id = imported["cases"][0]["id"]
status, b_case = api("curatorC", "GET", f"/api/library/cases/{b_id}")
if b_case["content"]["title"] != content["title"] or b_case["status"] != "draft" or b_case["institution"] != hospital:
    fail(f"the imported case: {b_case}")
b_images = api("curatorC", "GET", f"/api/library/cases/{b_id}/images")[1]["images"]
if {i["sopInstanceUID"] for i in b_images} != {k["sopInstanceUID"] for k in b_case["content"]["keyImages"]}:
    fail("the imported key images do not point at B's copies")
for entry in b_images:
    raw = call("curatorC", "GET", f"/api/library/cases/{b_id}/images/{entry['sopInstanceUID']}")[1]
    copy = pydicom.dcmread(io.BytesIO(raw))
    previous = a_copies[entry["modality"]]
    if copy.SOPInstanceUID == previous.SOPInstanceUID or copy.PatientID == previous.PatientID or copy.PatientIdentityRemoved != "YES":
        fail(f"{entry['modality']}: B kept A's UIDs or pseudonym")
    for value in [patient_id, "张", "伟", hospital, "ACC-9911", study_uid, ct.SOPInstanceUID, us.SOPInstanceUID, previous.PatientID]:
        if value.encode("utf-8") in raw:
            fail(f"{value!r} is in B's copy")
    if entry["modality"] == "US" and copy.pixel_array[0:6, 0:20].any():
        fail("the mask made on A is lost on B")
status, b_collection = api("curatorC", "GET", f"/api/library/collections/{imported['collection']}")
if [c["id"] for c in b_collection["cases"]] != [b_id]:
    fail(f"B's collection: {b_collection}")

step("the same package again makes nothing new")
status, again = api("curatorC", "POST", "/api/library/import", raw=package, content_type="application/zip")
if status != 201 or again["created"] != 0 or again["cases"][0]["id"] != b_id or again["collection"] != imported["collection"]:
    fail(f"second import: {status} {again}")

step("a package with one changed byte, or without its manifest, is refused")
tampered, stripped = io.BytesIO(), io.BytesIO()
with zipfile.ZipFile(tampered, "w") as out, zipfile.ZipFile(stripped, "w") as bare:
    for name in archive.namelist():
        data = archive.read(name)
        if name == description["cases"][0]["images"][0]:
            data = data[:-1] + bytes([data[-1] ^ 1])
        out.writestr(name, data)
        if name != "manifest.json":
            bare.writestr(name, archive.read(name))
for label, body in [("tampered", tampered.getvalue()), ("without manifest", stripped.getvalue()), ("not a zip", b"PK\x03\x04 nonsense")]:
    status, answer = api("curatorC", "POST", "/api/library/import", raw=body, content_type="application/zip")
    if status != 400:
        fail(f"a {label} package: {status} {answer}")
status, listing = api("curatorC", "GET", "/api/library/cases?scope=latest")
if listing["total"] != 1:
    fail(f"B holds {listing['total']} cases after the refused imports")

step("in Chromium: A's case page offers its package; B's exchange page imports it (nothing new) and refuses a tampered one")
import os  # noqa: E402
import tempfile  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import browser, sign_in  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

driver, wait = browser()
try:
    sign_in(driver, wait, base_a, people["curatorA"][0], people["curatorA"][1])
    driver.get(base_a + f"/library/cases/{made['id']}")
    href = wait.until(lambda d: d.find_element(By.ID, "case-export")).get_attribute("href")
    if not href.endswith(f"/api/library/cases/{made['id']}/export"):
        fail(f"the case page's export link: {href}")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in driver.get_cookies())
    with urllib.request.urlopen(urllib.request.Request(href, headers={"Cookie": cookie})) as response:
        single = zipfile.ZipFile(io.BytesIO(response.read()))
    single_description = json.loads(single.read("cases.json"))
    if "manifest.json" not in single.namelist() or [c["key"] for c in single_description["cases"]] != [c["key"] for c in description["cases"]]:
        fail(f"the case's package: {single.namelist()} {single_description}")
    driver.get(base_a + f"/library/collections/{collection['id']}")
    if not wait.until(lambda d: d.find_element(By.ID, "collection-export")).get_attribute("href").endswith(f"/api/library/collections/{collection['id']}/export"):
        fail("the collection page's export link")

    sign_in(driver, wait, base_b, people["curatorC"][0], people["curatorC"][1])
    driver.get(base_b + "/library")
    wait.until(lambda d: d.find_element(By.ID, "library-exchange")).click()
    wait.until(lambda d: d.find_element(By.ID, "exchange-import"))
    folder = tempfile.mkdtemp()
    for name, body in [("again.zip", package), ("tampered.zip", tampered.getvalue())]:
        path = os.path.join(folder, name)
        open(path, "wb").write(body)
        field = driver.find_element(By.ID, "exchange-file")
        field.send_keys(path)
        driver.find_element(By.ID, "exchange-button").click()
        wait.until(lambda d: d.find_element(By.ID, "exchange-import").get_attribute("data-state") in ("done", "failed"))
        root = driver.find_element(By.ID, "exchange-import")
        state = driver.find_element(By.ID, "exchange-state").text
        if name == "again.zip":
            rows = driver.find_elements(By.CSS_SELECTOR, "#exchange-results li[data-case]")
            if root.get_attribute("data-state") != "done" or root.get_attribute("data-created") != "0" or \
                    [(r.get_attribute("data-case"), r.get_attribute("data-created")) for r in rows] != [(str(b_id), "false")]:
                fail(f"the page's import of the same package: {state} {[r.text for r in rows]}")
            driver.find_element(By.ID, "exchange-collection")
            driver.save_screenshot(os.path.join(folder, "exchange.png"))
        else:
            if root.get_attribute("data-state") != "failed" or len(state) < 20:
                fail(f"the page's import of a tampered package: {root.get_attribute('data-state')} {state}")
        driver.execute_script("arguments[0].value = ''", field)
finally:
    driver.quit()
status, listing = api("curatorC", "GET", "/api/library/cases?scope=latest")
if listing["total"] != 1:
    fail(f"B holds {listing['total']} cases after the page's imports")
print("ok")
