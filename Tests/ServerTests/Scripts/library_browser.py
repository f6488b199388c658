#!/usr/bin/env python3
"""The teaching library in headless Chromium (selenium) and over its JSON API (urllib), as three people.

Usage: library_browser.py BASE_URL LOCALES_DIR SCREENSHOT_DIR PEOPLE_JSON

PEOPLE_JSON: {"curatorA": [user, password, token], "curatorB": [...], "student": [...], "admin": [...]}.
Steps: a workstation stores a clinical study (a CT and a US image of 张伟, made here with pydicom) and a Key Object
Selection "For Teaching" referring to both by STOW-RS (dicomweb-client); curator A finds it in the queue, reads the
de-identification preview (PatientName before → after), cannot create the case until the US series (burned-in text
likely) has a mask, draws one, creates the case and edits it; the de-identified copies are checked with pydicom (no
value of the source's identifying attributes in their bytes, one pseudonym for the patient, the masked pixels black);
the same KOS stored again and "create" again make nothing new; a study chosen from the archive goes the same path.
Curator A submits the case; A cannot approve it (refused by the server); curator B approves it in a fresh browser
session; the student finds it by the two-character term 肺癌 and by the modality facet, opens it, sees the diagnosis and
the images, and in unknown mode not the diagnosis; the student reaches neither the clinical study, nor the queue, nor
the link to the original, which only the administrator sees; over the API the student cannot search unpublished cases,
write, or curate; a stale revision is a conflict; a case written in the form without images is a draft. Prints one line
per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import io
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

import numpy
import pydicom
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, locales_dir, shots, people_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
people = json.load(open(people_path, encoding="utf-8"))


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(flatten(value, name) if isinstance(value, dict) else {name: value})
    return out


english = {}
for name in sorted(os.listdir(locales_dir)):
    if name == "en.json" or name.endswith(".en.json"):
        english.update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))


def step(name):
    print("step:", name, flush=True)


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def sign_in(driver, wait, who):
    user, password, _ = people[who]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    # English as the person's setting, so the checks can use en.json's strings.
    # The switch reloads the page: clicked only when it changes something, then waited for until the old page is
    # gone, so that the next navigation cannot race the reload.
    english = driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    if english.get_attribute("aria-current") != "true":
        english.click()
        wait.until(EC.staleness_of(english))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")


def api(who, method, path, body=None):
    token = people[who][2]
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    def parsed(raw):
        try:
            return json.loads(raw or b"{}")
        except ValueError:
            return {"body": raw[:200].decode("utf-8", "replace")}

    try:
        with urllib.request.urlopen(request) as response:
            return response.status, parsed(response.read())
    except urllib.error.HTTPError as error:
        return error.code, parsed(error.read())


def fail(message):
    sys.exit("FAILED: " + message)


def images_loaded(d):
    shown = d.find_elements(By.CSS_SELECTOR, "#case-images img.case-image")
    return len(shown) == 2 and all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i) for i in shown)


title = "右肺下叶肺癌 Right lower lobe lung cancer"
diagnosis = "肺腺癌 adenocarcinoma"

# The clinical study, as a grassroots hospital's modality would send it.
patient_name, patient_id, hospital = "张^伟", "CLIN-778899", "青山县人民医院"
study_uid = generate_uid()


def image(modality, sop_class, rows, columns, pixels, bits):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SOPClassUID = sop_class
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.PatientName, ds.PatientID, ds.PatientBirthDate, ds.PatientSex = patient_name, patient_id, "19580312", "M"
    ds.InstitutionName, ds.AccessionNumber, ds.ReferringPhysicianName = hospital, "ACC-20261206-7", "李^医生"
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.StudyDate, ds.StudyID = study_uid, generate_uid(), "20261201", "S77"
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = modality, 1 if modality == "CT" else 2, 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PhotometricInterpretation = rows, columns, 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = bits, bits, bits - 1, 0
    ds.PixelData = pixels.tobytes()
    return ds


ct_pixels = (numpy.arange(64 * 64, dtype=numpy.uint16).reshape(64, 64) % 1000)
ct = image("CT", "1.2.840.10008.5.1.4.1.1.2", 64, 64, ct_pixels, 16)
ct.RescaleIntercept, ct.RescaleSlope, ct.WindowCenter, ct.WindowWidth = -1024, 1, 40, 400
us_pixels = numpy.full((64, 64), 50, dtype=numpy.uint8)
us_pixels[0:10, 0:30] = 255  # the "burned-in text"
us = image("US", "1.2.840.10008.5.1.4.1.1.6.1", 64, 64, us_pixels, 8)

kos = Dataset()
kos.file_meta = FileMetaDataset()
kos.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
kos.file_meta.MediaStorageSOPClassUID = kos.SOPClassUID = "1.2.840.10008.5.1.4.1.1.88.59"
kos.SOPInstanceUID = kos.file_meta.MediaStorageSOPInstanceUID = generate_uid()
kos.SpecificCharacterSet = "ISO_IR 192"
kos.PatientName, kos.PatientID, kos.StudyInstanceUID, kos.Modality = patient_name, patient_id, study_uid, "KO"
kos.SeriesInstanceUID, kos.SeriesNumber, kos.InstanceNumber = generate_uid(), 9902, 1
kos.ValueType, kos.ContinuityOfContent = "CONTAINER", "SEPARATE"


def code(value, scheme, meaning):
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return Sequence([item])


kos.ConceptNameCodeSequence = code("113004", "DCM", "For Teaching")
note = "肺癌 教学病例：右肺下叶肿块 key images"
content = []
text = Dataset()
text.RelationshipType, text.ValueType, text.TextValue = "CONTAINS", "TEXT", note
text.ConceptNameCodeSequence = code("113012", "DCM", "Key Object Description")
content.append(text)
evidence_series = []
for instance in (ct, us):
    item = Dataset()
    item.RelationshipType, item.ValueType = "CONTAINS", "IMAGE"
    reference = Dataset()
    reference.ReferencedSOPClassUID, reference.ReferencedSOPInstanceUID = instance.SOPClassUID, instance.SOPInstanceUID
    item.ReferencedSOPSequence = Sequence([reference])
    content.append(item)
    series = Dataset()
    series.SeriesInstanceUID = instance.SeriesInstanceUID
    series.ReferencedSOPSequence = Sequence([reference])
    evidence_series.append(series)
kos.ContentSequence = Sequence(content)
evidence = Dataset()
evidence.StudyInstanceUID = study_uid
evidence.ReferencedSeriesSequence = Sequence(evidence_series)
kos.CurrentRequestedProcedureEvidenceSequence = Sequence([evidence])


def stow(datasets):
    client = DICOMwebClient(url=base + "/dicom-web", headers={"Authorization": "Bearer " + people["curatorA"][2]})
    client.store_instances(datasets=datasets)


def download(who, path):
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {people[who][2]}"})
    with urllib.request.urlopen(request) as response:
        return response.read()


step("a workstation stores a study and a KOS \"For Teaching\" by STOW-RS")
stow([ct, us])
stow([kos])

step("curator A finds it in the queue and reads the de-identification preview")
a, wait_a = browser()
sign_in(a, wait_a, "curatorA")
a.get(base + "/library/queue")
row = wait_a.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#library-flagged-table tr[data-flagged]")))
flagged_id = row.get_attribute("data-flagged")
if note[:10] not in row.text:
    fail("the queue entry does not show the teaching note: " + row.text)
row.find_element(By.CSS_SELECTOR, "a").click()
wait_a.until(EC.presence_of_element_located((By.CSS_SELECTOR, f".flagged-instance[data-sop='{ct.SOPInstanceUID}']")))
ct_section = a.find_element(By.CSS_SELECTOR, f".flagged-instance[data-sop='{ct.SOPInstanceUID}']")
name_row = ct_section.find_element(By.CSS_SELECTOR, "tr[data-name=PatientName]")
before, after = name_row.find_element(By.CSS_SELECTOR, ".before").text, name_row.find_element(By.CSS_SELECTOR, ".after").text
if before != patient_name or after in ("", patient_name) or "伟" in after:
    fail(f"the preview of PatientName: {before!r} -> {after!r}")
if not a.find_element(By.ID, "flagged-create").get_attribute("disabled"):
    fail("a case can be created before the US series has a confirmed mask")
a.save_screenshot(os.path.join(shots, "library-flagged-preview.png"))
status, preview = api("curatorA", "GET", f"/api/library/flagged/{flagged_id}")
by_sop = {i["sopInstanceUID"]: i for i in preview["instances"]}
if not (by_sop[us.SOPInstanceUID]["needsPixelReview"] and not by_sop[us.SOPInstanceUID]["released"] and by_sop[ct.SOPInstanceUID]["released"]):
    fail(f"preview flags: {preview}")
status, answer = api("curatorA", "POST", f"/api/library/flagged/{flagged_id}/case")
if status != 409 or not any("burned-in" in r for r in answer.get("refusals", [])):
    fail(f"a case was made without the curator's masks: {status} {answer}")

step("curator A masks the US series, creates the case and edits it")
us_section = a.find_element(By.CSS_SELECTOR, f".flagged-instance[data-sop='{us.SOPInstanceUID}']")
us_section.find_element(By.CSS_SELECTOR, ".mask-rect").send_keys("0,0,30,10")
us_section.find_element(By.CSS_SELECTOR, ".mask-apply").click()
wait_a.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".mask-confirmed")))
wait_a.until(lambda d: not d.find_element(By.ID, "flagged-create").get_attribute("disabled"))
a.find_element(By.ID, "flagged-create").click()
wait_a.until(EC.presence_of_element_located((By.ID, "case-status")))
case_id = a.current_url.rstrip("/").split("/")[-1]
if a.find_element(By.ID, "case-status").text != english["library.status.draft"]:
    fail("the case made from the KOS is not a draft")
wait_a.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#case-images img.case-image")) == 2)
a.find_element(By.ID, "case-edit").click()
field = wait_a.until(EC.presence_of_element_located((By.ID, "case-title-input")))
field.clear()
field.send_keys(title)
a.find_element(By.ID, "case-diagnosis").send_keys(diagnosis)
a.find_element(By.ID, "case-region").send_keys("chest")
a.find_element(By.ID, "case-modalities").clear()
a.find_element(By.ID, "case-modalities").send_keys("CT US")
a.save_screenshot(os.path.join(shots, "library-edit.png"))
a.find_element(By.ID, "case-save").click()
wait_a.until(lambda d: d.find_elements(By.ID, "case-title") and title in d.find_element(By.ID, "case-title").text)

step("the de-identified copies pass a PHI scan, keep one pseudonym and are masked (pydicom)")
status, listing = api("curatorA", "GET", f"/api/library/cases/{case_id}/images")
copies = {}
for entry in listing["images"]:
    raw = download("curatorA", f"/api/library/cases/{case_id}/images/{entry['sopInstanceUID']}")
    for value in [patient_id, "张", "伟", hospital, "ACC-20261206-7", "李", "19580312", study_uid, ct.SOPInstanceUID, us.SOPInstanceUID, ct.SeriesInstanceUID]:
        for encoded in {value.encode("utf-8"), value.encode("gb18030")}:
            if encoded in raw:
                fail(f"{value!r} is in the de-identified copy {entry['sopInstanceUID']}")
    copies[entry["modality"]] = pydicom.dcmread(io.BytesIO(raw))
if sorted(copies) != ["CT", "US"]:
    fail(f"the case's images: {listing}")
if copies["CT"].PatientID != copies["US"].PatientID or copies["CT"].StudyInstanceUID != copies["US"].StudyInstanceUID:
    fail("the two copies do not share one pseudonym and one study")
if copies["CT"].PatientIdentityRemoved != "YES" or copies["CT"].PatientSex != "M":
    fail("Patient Identity Removed is not YES, or the kept characteristics are lost")
masked = copies["US"].pixel_array
if masked[0:10, 0:30].any() or not (masked[10:, :] == 50).all() or not (copies["CT"].pixel_array == ct_pixels).all():
    fail("the US mask is not applied as drawn, or pixels outside it changed")

step("the same KOS stored again, and create again, make nothing new")
try:
    stow([kos])
except Exception as error:  # an archive may answer a duplicate with a warning or a conflict; the queue is what counts
    print("  second STOW of the KOS:", error)
status, queue = api("curatorA", "GET", "/api/library/flagged")
if [f["id"] for f in queue["flagged"] if f["sourceKey"] == "kos:" + kos.SOPInstanceUID] != [int(flagged_id)]:
    fail(f"the queue after a second KOS: {queue}")
status, again = api("curatorA", "POST", f"/api/library/flagged/{flagged_id}/case")
if status != 201 or again["id"] != int(case_id):
    fail(f"a second create made another case: {status} {again}")

step("a study from the archive without a consultation goes the same path")
status, entry = api("curatorA", "POST", "/api/library/flagged", {"studyInstanceUID": study_uid, "sopInstanceUIDs": [ct.SOPInstanceUID], "note": "CT 教学"})
if status != 201 or entry["kind"] != "study" or entry["institution"] != hospital:
    fail(f"flag a study: {status} {entry}")
status, second = api("curatorA", "POST", f"/api/library/flagged/{entry['id']}/case")
if status != 201 or second["id"] == int(case_id):
    fail(f"case from a study: {status} {second}")
status, listing = api("curatorA", "GET", f"/api/library/cases/{second['id']}/images")
copy = pydicom.dcmread(io.BytesIO(download("curatorA", f"/api/library/cases/{second['id']}/images/{listing['images'][0]['sopInstanceUID']}")))
if copy.PatientID != copies["CT"].PatientID or copy.SOPInstanceUID != copies["CT"].SOPInstanceUID:
    fail("the same patient and instance did not get the same pseudonym and UID")

step("curator A draws an arrow, an ellipse and a Chinese label on the CT key image and saves them")
ct_sop = copies["CT"].SOPInstanceUID
label = "结节<b>病灶</b>"  # Chinese text with markup, to be shown as text
a.get(base + f"/library/cases/{case_id}/edit")
figure = wait_a.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"figure.annotate-image[data-sop='{ct_sop}']")))
wait_a.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", figure.find_element(By.CSS_SELECTOR, "img.annotate-img")))
a.execute_script("arguments[0].scrollIntoView({block: 'center'})", figure)
box = a.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height]", figure.find_element(By.CSS_SELECTOR, "img.annotate-img"))
rows = columns = 64


def client_point(fx, fy):
    """A whole client pixel at the fraction (fx, fy) of the displayed image."""
    return int(box[0] + fx * box[2]), int(box[1] + fy * box[3])


def image_point(point):
    """Client → image pixel coordinates, from the displayed image's box (computed here, not by the page)."""
    return [(point[0] - box[0]) * columns / box[2], (point[1] - box[1]) * rows / box[3]]


def drag(start, end):
    from selenium.webdriver.common.action_chains import ActionChains
    actions = ActionChains(a)
    actions.w3c_actions.pointer_action.move_to_location(*start).pointer_down().move_to_location((start[0] + end[0]) // 2, (start[1] + end[1]) // 2).move_to_location(*end).pointer_up()
    actions.perform()


arrow_client = [client_point(0.2, 0.8), client_point(0.55, 0.45)]
ellipse_client = [client_point(0.5, 0.3), client_point(0.8, 0.6)]
text_client = client_point(0.1, 0.15)
figure.find_element(By.CSS_SELECTOR, "button.annotate-tool[data-tool=arrow]").click()
drag(*arrow_client)
figure.find_element(By.CSS_SELECTOR, "button.annotate-tool[data-tool=ellipse]").click()
drag(*ellipse_client)
figure.find_element(By.CSS_SELECTOR, "button.annotate-tool[data-tool=text]").click()
figure.find_element(By.CSS_SELECTOR, "input.annotate-label").send_keys(label)
drag(text_client, text_client)
wait_a.until(lambda d: len(figure.find_elements(By.CSS_SELECTOR, "ol.annotate-list li")) == 3)
a.save_screenshot(os.path.join(shots, "library-annotate.png"))
a.find_element(By.ID, "case-save").click()
wait_a.until(lambda d: d.find_elements(By.ID, "case-title") and "/edit" not in d.current_url)
expected = [("arrow", [image_point(p) for p in arrow_client], ""), ("ellipse", [image_point(p) for p in ellipse_client], ""),
            ("text", [image_point(text_client)], label)]
status, case = api("curatorA", "GET", f"/api/library/cases/{case_id}")
stored = next(k for k in case["content"]["keyImages"] if k["sopInstanceUID"] == ct_sop)["annotations"]
if [(x["kind"], x["label"]) for x in stored] != [(k, l) for k, _, l in expected]:
    fail(f"the stored annotations: {stored}")
for got, (kind, points, _) in zip(stored, expected):
    if any(abs(g - e) > 0.02 for gp, ep in zip(got["points"], points) for g, e in zip(gp, ep)) or len(got["points"]) != len(points):
        fail(f"the {kind} is stored at {got['points']}, drawn at {points}")
status, versions = api("curatorA", "GET", f"/api/library/cases/{case_id}/versions")
if versions["versions"][-1]["changes"][-1]["field"] != "keyImages":
    fail(f"saving annotations made no new version: {versions['versions'][-1]}")

step("invalid annotations over the API are refused with 400 and change nothing")
before = case
for bad in [{"kind": "arrow", "points": [[1, 1]], "label": ""}, {"kind": "ellipse", "points": [[1, 1], [65, 10]], "label": ""},
            {"kind": "text", "points": [[1, 1]], "label": "x" * 201}, {"kind": "circle", "points": [[1, 1], [2, 2]], "label": ""},
            {"kind": "arrow", "points": [[1, 1], [2, -1]], "label": ""}]:
    content = json.loads(json.dumps(before["content"]))
    next(k for k in content["keyImages"] if k["sopInstanceUID"] == ct_sop)["annotations"].append(bad)
    status, answer = api("curatorA", "PUT", f"/api/library/cases/{case_id}", {"content": content, "revision": before["revision"]})
    if status != 400:
        fail(f"an invalid annotation {bad} was answered {status} {answer}")
status, after = api("curatorA", "GET", f"/api/library/cases/{case_id}")
if after["revision"] != before["revision"] or after["content"] != before["content"] or after["version"] != before["version"]:
    fail("a refused annotation changed the case")

step("curator A submits the case")
a.get(base + f"/library/cases/{case_id}")
wait_a.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-action=submit]"))).click()
wait_a.until(lambda d: d.find_element(By.ID, "case-status").text == english["library.status.in-review"])

step("curator A cannot approve their own version")
status, case = api("curatorA", "GET", f"/api/library/cases/{case_id}")
status, answer = api("curatorA", "POST", f"/api/library/cases/{case_id}/approve", {"revision": case["revision"]})
if status != 403:
    fail(f"the author approved their own version: {status} {answer}")

step("curator B approves it in another browser")
b, wait_b = browser()
sign_in(b, wait_b, "curatorB")
b.get(base + "/library/queue")
wait_b.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-case='{case_id}'] a"))).click()
wait_b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-action=approve]"))).click()
wait_b.until(lambda d: d.find_element(By.ID, "case-status").text == english["library.status.published"])
b.save_screenshot(os.path.join(shots, "library-case-curator.png"))
b.quit()
a.quit()

step("the student finds it by 肺癌 and by the modality facet")
s, wait_s = browser()
sign_in(s, wait_s, "student")
s.get(base + "/library?q=" + urllib.parse.quote("肺癌"))
wait_s.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}']")))
s.find_element(By.CSS_SELECTOR, "#library-facets section[data-facet=modality] a[data-value=CT]").click()
wait_s.until(lambda d: "modality=CT" in d.current_url)
wait_s.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}']")))
s.save_screenshot(os.path.join(shots, "library-search.png"))
if s.find_elements(By.ID, "library-new") or s.find_elements(By.ID, "library-latest"):
    fail("a student sees the curators' controls")

step("the student opens it and sees the diagnosis; in unknown mode it is hidden")
s.find_element(By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}'] a").click()
wait_s.until(EC.presence_of_element_located((By.ID, "case-body")))
if diagnosis not in s.find_element(By.ID, "case-body").text or title not in s.find_element(By.ID, "case-title").text:
    fail("the published case does not show its title and diagnosis")
wait_s.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#case-images img.case-image")) == 2
             and all(d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", i) for i in d.find_elements(By.CSS_SELECTOR, "#case-images img.case-image")))
if s.find_elements(By.ID, "case-origin"):
    fail("a student sees the link to the original")


def viewer_check(d_, w_, where):
    """The viewer opened from a case page: its annotation layer against positions computed here."""
    d_.find_element(By.CSS_SELECTOR, f"figure.key-image[data-uid='{ct_sop}'] a.case-viewer").click()
    w_.until(lambda d: d.execute_script("return !!window.atriumViewer"))
    d_.execute_script("return window.atriumViewer.firstImage()")
    w_.until(lambda d: d.execute_script("const v = window.atriumViewer.state().viewports[0]; return v.displayed && v.sopInstanceUID") == ct_sop)
    w_.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".viewport svg.annotation-layer g.annotation")) == 3)
    canvas = d_.find_element(By.CSS_SELECTOR, ".viewport canvas.display")
    c = d_.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height]", canvas)
    fit = min(c[2] / columns, c[3] / rows)  # zoom 1: the image fitted in the viewport, centred
    left, top = c[0] + (c[2] - columns * fit) / 2, c[1] + (c[3] - rows * fit) / 2

    def in_viewer(p):
        return left + p[0] * fit, top + p[1] * fit

    groups = d_.find_elements(By.CSS_SELECTOR, ".viewport svg.annotation-layer g.annotation")
    if [g.get_attribute("data-kind") for g in groups] != [k for k, _, _ in expected]:
        fail(f"{where}: the viewer's annotation kinds")
    for g, (kind, points, text) in zip(groups, expected):
        if kind == "text":
            t = g.find_element(By.CSS_SELECTOR, "text")
            anchor = d_.execute_script(
                "const t = arguments[0], m = t.getScreenCTM(), p = new DOMPoint(t.x.baseVal[0].value, t.y.baseVal[0].value).matrixTransform(m);"
                "return [p.x, p.y]", t)
            want_anchor = in_viewer(points[0])
            if abs(anchor[0] - want_anchor[0]) > 1.5 or abs(anchor[1] - want_anchor[1]) > 1.5 or t.text != text:
                fail(f"{where}: the viewer's label {t.text!r} at {anchor}, expected {want_anchor}")
            continue
        shape = g.find_element(By.CSS_SELECTOR, "line, ellipse")
        b = d_.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]", shape)
        (x0, y0), (x1, y1) = in_viewer(points[0]), in_viewer(points[1])
        want_box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
        if any(abs(p - q) > 1.5 for p, q in zip(b, want_box)):
            fail(f"{where}: the viewer's {kind} is at {b}, expected {want_box}")


def overlay_check(driver, where, with_label=True):
    """The overlay of the CT key image against positions computed here from the drawn points and the displayed image."""
    img = driver.find_element(By.CSS_SELECTOR, f"#case-images img.case-image[data-uid='{ct_sop}']")
    r = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.width, r.height]", img)
    sx, sy = r[2] / columns, r[3] / rows

    def on_page(p):
        return r[0] + p[0] * sx, r[1] + p[1] * sy

    svg = driver.find_element(By.CSS_SELECTOR, f"#case-images svg.annotation-overlay[data-uid='{ct_sop}']")
    groups = svg.find_elements(By.CSS_SELECTOR, "g.annotation")
    kinds = [g.get_attribute("data-kind") for g in groups]
    want = [k for k, _, _ in expected if with_label or k != "text"]
    if kinds != want:
        fail(f"{where}: overlay kinds {kinds}, expected {want}")
    for g, (kind, points, text) in zip(groups, [e for e in expected if with_label or e[0] != "text"]):
        if kind in ("arrow", "ellipse"):
            shape = g.find_element(By.CSS_SELECTOR, "line, ellipse")
            b = driver.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]", shape)
            (x0, y0), (x1, y1) = on_page(points[0]), on_page(points[1])
            want_box = [min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)]
            if any(abs(p - q) > 1.5 for p, q in zip(b, want_box)):
                fail(f"{where}: the {kind} is at {b}, expected {want_box}")
        else:
            t = g.find_element(By.CSS_SELECTOR, "text")
            anchor = driver.execute_script(
                "const t = arguments[0], m = t.getScreenCTM(), p = new DOMPoint(t.x.baseVal[0].value, t.y.baseVal[0].value).matrixTransform(m);"
                "return [p.x, p.y]", t)
            want_anchor = on_page(points[0])
            if abs(anchor[0] - want_anchor[0]) > 1.5 or abs(anchor[1] - want_anchor[1]) > 1.5:
                fail(f"{where}: the label is at {anchor}, expected {want_anchor}")
            if t.text != text or t.find_elements(By.TAG_NAME, "b"):
                fail(f"{where}: the label reads {t.text!r} (markup parsed?)")
    if not with_label and svg.find_elements(By.CSS_SELECTOR, "text"):
        fail(f"{where}: a label is shown in unknown mode")


overlay_check(s, "the student's case page")
s.save_screenshot(os.path.join(shots, "library-annotations-student.png"))

step("the viewer opened from the case page shows the same annotations over the key image")
viewer_check(s, wait_s, "the student's viewer")
s.save_screenshot(os.path.join(shots, "library-annotations-viewer.png"))
s.get(base + f"/library/cases/{case_id}")
wait_s.until(images_loaded)
s.get(base + f"/library/cases/{case_id}?unknown=1")
wait_s.until(EC.presence_of_element_located((By.ID, "case-body")))
if diagnosis in s.page_source or "肺癌" in s.find_element(By.ID, "case-title").text:
    fail("unknown mode shows the diagnosis")
wait_s.until(images_loaded)
overlay_check(s, "the unknown mode", with_label=False)
s.save_screenshot(os.path.join(shots, "library-unknown.png"))
s.quit()

step("over the API the student reads published cases only and cannot write or curate")
status, result = api("student", "GET", "/api/library/cases?q=" + urllib.parse.quote("肺腺癌"))
if status != 200 or [c["id"] for c in result["cases"]] != [int(case_id)]:
    fail(f"student search: {status} {result}")
for method, path, body in [
    ("GET", "/api/library/cases?scope=latest", None),
    ("POST", "/api/library/cases", {"content": {"title": "x", "clinicalHistory": "", "findings": "", "diagnosis": "", "diagnosisCode": "", "differentialDiagnosis": "", "discussion": "", "learningPoints": [], "references": [], "tags": {"modalities": [], "bodyRegion": "", "organSystem": "", "pathologyCategory": "", "audience": "both", "difficulty": 3, "curriculumItems": [], "keywords": []}, "keyImages": []}}),
    ("POST", f"/api/library/cases/{case_id}/retire", {"revision": 0}),
]:
    status, answer = api("student", method, path, body)
    if status != 403:
        fail(f"student {method} {path}: {status} {answer}")

step("the student reaches neither the clinical study, nor the queue, nor the link to the original; the administrator does")
for method, path in [
    ("GET", f"/dicom-web/studies/{study_uid}/series"), ("GET", "/api/library/flagged"), ("GET", f"/api/library/flagged/{flagged_id}"),
    ("GET", f"/api/library/cases/{case_id}/origin"), ("GET", f"/library/flagged/{flagged_id}"),
]:
    status, answer = api("student", method, path)
    if status not in (403, 404):
        fail(f"student {method} {path}: {status}")
status, answer = api("curatorA", "GET", f"/api/library/cases/{case_id}/origin")
if status != 403:
    fail(f"a curator sees the link to the original: {status}")
status, origin = api("admin", "GET", f"/api/library/cases/{case_id}/origin")
if status != 200 or origin["studyInstanceUID"] != study_uid or origin["replacedUIDs"].get(ct.SOPInstanceUID) != copies["CT"].SOPInstanceUID:
    fail(f"the administrator's link to the original: {status} {origin}")
status, answer = api("student", "GET", f"/api/library/cases/{second['id']}/images")
if status != 404:
    fail(f"a student lists the images of an unpublished case: {status}")

step("a stale revision is a conflict")
status, case = api("curatorB", "GET", f"/api/library/cases/{case_id}")
content = case["content"]
content["discussion"] = "毛刺征提示恶性。"
status, edited = api("curatorB", "PUT", f"/api/library/cases/{case_id}", {"content": content, "revision": case["revision"]})
if status != 200 or edited["status"] != "draft" or edited["publishedVersion"] != case["version"]:
    fail(f"edit of a published case: {status} {edited}")
status, answer = api("curatorA", "PUT", f"/api/library/cases/{case_id}", {"content": content, "revision": case["revision"]})
if status != 409:
    fail(f"a stale revision was accepted: {status} {answer}")
status, versions = api("curatorA", "GET", f"/api/library/cases/{case_id}/versions")
if [v["version"] for v in versions["versions"]] != list(range(1, edited["version"] + 1)) or versions["versions"][-1]["changes"][0]["field"] != "discussion":
    fail(f"versions: {versions}")
def public_get(path):
    """A request with no account and no cookie: (status, body, final URL)."""
    try:
        with urllib.request.urlopen(base + path) as response:
            return response.status, response.read(), response.geturl()
    except urllib.error.HTTPError as error:
        return error.code, error.read(), path


step("curator B makes a view link on the case page; it opens the case signed out, and nothing else")
c, wait_c = browser()
sign_in(c, wait_c, "curatorB")
c.get(base + f"/library/cases/{case_id}")
wait_c.until(EC.presence_of_element_located((By.ID, "share-create")))
c.find_element(By.CSS_SELECTOR, "#share-scope option[value=view]").click()
c.find_element(By.ID, "share-create").click()
wait_c.until(lambda d: (d.find_element(By.ID, "share-url").get_attribute("value") or "").startswith("http"))
share_url = c.find_element(By.ID, "share-url").get_attribute("value")
share_path = share_url[len(base):]
if not share_path.startswith("/shared/"):
    fail("the share link: " + share_url)
p, wait_p = browser()  # never signed in
p.get(share_url)
wait_p.until(EC.presence_of_element_located((By.ID, "case-body")))
if title not in p.find_element(By.ID, "case-title").text or diagnosis not in p.find_element(By.ID, "case-body").text:
    fail("the shared page does not show the case")
wait_p.until(images_loaded)
overlay_check(p, "the shared page")
viewer_check(p, wait_p, "the shared link's viewer")
p.back()
wait_p.until(images_loaded)
if p.find_elements(By.ID, "case-status") or p.find_elements(By.CSS_SELECTOR, ".case-download") or p.find_elements(By.ID, "share"):
    fail("a signed-out visitor sees curators' controls or downloads on a view link")
p.save_screenshot(os.path.join(shots, "library-shared-case.png"))
sop = copies["CT"].SOPInstanceUID
status, _, _ = public_get(f"{share_path}/cases/{case_id}/images/{sop}")
if status != 403:
    fail(f"a view link downloads DICOM: {status}")
for path in [f"{share_path}/cases/{second['id']}", f"/library/cases/{case_id}", f"/api/library/cases/{case_id}", f"/dicom-web/studies/{study_uid}/series", "/library"]:
    status, body, final = public_get(path)
    if status == 200 and "/login" not in final:
        fail(f"the link opened {path} signed out: {status} {final}")

step("revoked on the case page, the link stops at once")
c.get(base + f"/library/cases/{case_id}")
wait_c.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#share-links li[data-usable=true] .share-revoke"))).click()
wait_c.until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#share-links li[data-usable=true]"))
c.quit()
p.get(share_url)
wait_p.until(EC.presence_of_element_located((By.ID, "shared-gone")))
status, _, _ = public_get(share_path)
if status != 410:
    fail(f"a revoked link answers {status}")

step("a download link lets its holder fetch the de-identified DICOM, until it expires")
status, link = api("curatorB", "POST", "/api/library/shares", {"kind": "case", "id": int(case_id), "scope": "download", "expiresInSeconds": 3})
if status != 201:
    fail(f"download link: {status} {link}")
status, raw, _ = public_get(f"{link['path']}/cases/{case_id}/images/{sop}")
if status != 200 or pydicom.dcmread(io.BytesIO(raw)).SOPInstanceUID != sop:
    fail(f"download through the link: {status}")
import time
time.sleep(4)  # past the expiry; what is checked is the answer after it, not how long anything took
status, _, _ = public_get(link["path"])
status_image, _, _ = public_get(f"{link['path']}/cases/{case_id}/images/{sop}")
if status != 410 or status_image != 410:
    fail(f"an expired link answers {status} / {status_image}")
status, answer = api("student", "POST", "/api/library/shares", {"kind": "case", "id": int(case_id), "scope": "view"})
if status != 403:
    fail(f"a student made a share link: {status}")
status, answer = api("curatorB", "POST", "/api/library/shares", {"kind": "case", "id": second["id"], "scope": "view"})
if status != 409:
    fail(f"a link to an unpublished case: {status} {answer}")

step("a collection shows students only published cases, in order, and in unknown mode no titles; shared signed out too")
status, collection = api("curatorA", "POST", "/api/library/collections", {"title": "胸部教学 Chest teaching", "caseIDs": [second["id"], int(case_id)]})
if status != 201 or [m["id"] for m in collection["cases"]] != [second["id"], int(case_id)]:
    fail(f"collection: {status} {collection}")
step("curator A reorders the collection on its page and takes a case out; the order is kept (read back over the API)")
status, extra = api("curatorA", "POST", "/api/library/cases", {"content": {**json.loads(json.dumps(case["content"])), "title": "排序 Ordering case", "keyImages": []}})
if status != 201:
    fail(f"a third case: {status} {extra}")
status, collection = api("curatorA", "PUT", f"/api/library/collections/{collection['id']}",
                         {"title": collection["title"], "caseIDs": [second["id"], int(case_id), extra["id"]], "revision": collection["revision"]})
o, wait_o = browser()
sign_in(o, wait_o, "curatorA")
o.get(base + f"/library/collections/{collection['id']}")
wait_o.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#collection-cases li[data-case='{second['id']}'] button.collection-down"))).click()
wait_o.until(lambda d: [li.get_attribute("data-case") for li in d.find_elements(By.CSS_SELECTOR, "#collection-cases li")] == [case_id, str(second["id"]), str(extra["id"])])
status, read = api("curatorA", "GET", f"/api/library/collections/{collection['id']}")
if [m["id"] for m in read["cases"]] != [int(case_id), second["id"], extra["id"]]:
    fail(f"after moving down: {read['cases']}")
o.find_element(By.CSS_SELECTOR, f"#collection-cases li[data-case='{extra['id']}'] button.collection-up").click()
wait_o.until(lambda d: [li.get_attribute("data-case") for li in d.find_elements(By.CSS_SELECTOR, "#collection-cases li")] == [case_id, str(extra["id"]), str(second["id"])])
o.find_element(By.CSS_SELECTOR, f"#collection-cases li[data-case='{extra['id']}'] button.collection-remove").click()
wait_o.until(lambda d: [li.get_attribute("data-case") for li in d.find_elements(By.CSS_SELECTOR, "#collection-cases li")] == [case_id, str(second["id"])])
o.save_screenshot(os.path.join(shots, "library-collection-order.png"))
o.quit()
status, read = api("curatorA", "GET", f"/api/library/collections/{collection['id']}")
if [m["id"] for m in read["cases"]] != [int(case_id), second["id"]]:
    fail(f"the collection's order read back over the API: {read['cases']}")
status, seen = api("student", "GET", f"/api/library/collections/{collection['id']}")
if [m["id"] for m in seen["cases"]] != [int(case_id)]:
    fail(f"the student's view of the collection: {seen}")
status, hidden = api("student", "GET", f"/api/library/collections/{collection['id']}?unknown=1")
if "肺癌" in json.dumps(hidden["cases"], ensure_ascii=False):
    fail(f"unknown mode shows titles: {hidden}")
status, link = api("curatorA", "POST", "/api/library/shares", {"kind": "collection", "id": collection["id"], "scope": "view"})
p.get(base + link["path"] + "?unknown=1")
wait_p.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#collection-cases li[data-case='{case_id}'] a")))
if p.find_elements(By.CSS_SELECTOR, f"#collection-cases li[data-case='{second['id']}']") or "肺癌" in p.find_element(By.ID, "collection-cases").text:
    fail("the shared collection shows an unpublished case or a title in unknown mode")
p.find_element(By.CSS_SELECTOR, f"#collection-cases li[data-case='{case_id}'] a").click()
wait_p.until(EC.presence_of_element_located((By.ID, "case-body")))
if diagnosis in p.page_source:
    fail("the shared collection's unknown mode shows the diagnosis")
wait_p.until(images_loaded)
p.save_screenshot(os.path.join(shots, "library-shared-collection-unknown.png"))
p.find_element(By.ID, "case-reveal").click()
wait_p.until(lambda d: diagnosis in d.find_element(By.ID, "case-body").text)
status, _, _ = public_get(f"{link['path']}/cases/{second['id']}")
if status != 404:
    fail(f"the collection link opens an unpublished case: {status}")
p.quit()

step("a case written in the form without images is a draft")
f, wait_f = browser()
sign_in(f, wait_f, "curatorB")
f.get(base + "/library/new")
wait_f.until(EC.presence_of_element_located((By.ID, "case-title-input"))).send_keys("体检 肝囊肿 Liver cyst (text case)")
f.find_element(By.ID, "case-findings").send_keys("肝右叶无回声区。")
f.find_element(By.ID, "case-save").click()
wait_f.until(EC.presence_of_element_located((By.ID, "case-status")))
if f.find_element(By.ID, "case-status").text != english["library.status.draft"] or f.find_elements(By.CSS_SELECTOR, "#case-images img"):
    fail("a form case is not a draft without images")

step("a photo (a JPEG made by Pillow with EXIF and a comment) added on the case page is stored as DICOM without them")
from PIL import Image
form_case = f.current_url.rstrip("/").split("/")[-1]
photo = Image.new("RGB", (96, 64))
photo.putdata([(x * 2, y * 3, (x + y) % 256) for y in range(64) for x in range(96)])
exif = Image.Exif()
exif[0x010F] = "SecretCam"  # Make
exif[0x0131] = "PhotoTool-7731"  # Software
photo_path = os.path.join(shots, "photo.jpg")
photo.save(photo_path, "JPEG", quality=90, exif=exif.tobytes(), comment=b"GPS 31.2304N 121.4737E")
raw_photo = open(photo_path, "rb").read()
for marker in [b"SecretCam", b"PhotoTool-7731", b"31.2304N"]:
    if marker not in raw_photo:
        fail(f"Pillow's JPEG lacks {marker!r}: the test would prove nothing")
f.find_element(By.ID, "case-photo-file").send_keys(photo_path)
f.find_element(By.ID, "case-photo-add").click()
wait_f.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#case-images img.case-image")) == 1
             and d.execute_script("const i = document.querySelector('#case-images img.case-image'); return i.complete && i.naturalWidth > 0"))
f.save_screenshot(os.path.join(shots, "library-photo-case.png"))
status, listing = api("curatorB", "GET", f"/api/library/cases/{form_case}/images")
if status != 200 or len(listing["images"]) != 1:
    fail(f"the photo case's images: {status} {listing}")
stored_photo = download("curatorB", f"/api/library/cases/{form_case}/images/{listing['images'][0]['sopInstanceUID']}")
for marker in [b"SecretCam", b"PhotoTool-7731", b"31.2304N", b"Exif\x00\x00"]:
    if marker in stored_photo:
        fail(f"the stored photo still holds {marker!r}")
sc = pydicom.dcmread(io.BytesIO(stored_photo))
if sc.SOPClassUID != "1.2.840.10008.5.1.4.1.1.7" or (sc.Rows, sc.Columns) != (64, 96) or sc.PatientIdentityRemoved != "YES":
    fail(f"the photo's DICOM: {sc.SOPClassUID} {sc.Rows}x{sc.Columns}")
from pydicom.encaps import generate_pixel_data_frame
codestream = next(generate_pixel_data_frame(sc.PixelData))
decoded, original = numpy.asarray(Image.open(io.BytesIO(codestream)).convert("RGB"), dtype=int), numpy.asarray(Image.open(photo_path).convert("RGB"), dtype=int)
if decoded.shape != original.shape or numpy.abs(decoded - original).max() > 0:
    fail("the stored photo's pixels differ from the JPEG sent")
status, case_read = api("curatorB", "GET", f"/api/library/cases/{form_case}")
if [k["sopInstanceUID"] for k in case_read["content"]["keyImages"]] != [sc.SOPInstanceUID]:
    fail(f"the photo is not the case's key image: {case_read['content']['keyImages']}")

step("PNG photos (RGB with a text chunk, grey with alpha) are stored as native samples without their chunks")
from PIL import PngImagePlugin
png_info = PngImagePlugin.PngInfo()
png_info.add_text("Author", "SecretPNG-4471")
png = io.BytesIO()
photo.save(png, "PNG", pnginfo=png_info)
grey = Image.new("LA", (40, 30))
grey.putdata([((x * 6) % 256, (y * 8 + x) % 256) for y in range(30) for x in range(40)])
grey_png = io.BytesIO()
grey.save(grey_png, "PNG")
if b"SecretPNG-4471" not in png.getvalue():
    fail("Pillow's PNG lacks its text chunk: the test would prove nothing")


def post_photo(body, content_type):
    request = urllib.request.Request(base + f"/api/library/cases/{form_case}/photos", data=body, method="POST",
                                     headers={"Authorization": f"Bearer {people['curatorB'][2]}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


for body in [png.getvalue(), grey_png.getvalue()]:
    if post_photo(body, "image/png") != 201:
        fail("a PNG photo was refused")
status, listing = api("curatorB", "GET", f"/api/library/cases/{form_case}/images")
if len(listing["images"]) != 3:
    fail(f"the photo case's images after the PNGs: {listing}")
rgb_raw = download("curatorB", f"/api/library/cases/{form_case}/images/{listing['images'][1]['sopInstanceUID']}")
grey_raw = download("curatorB", f"/api/library/cases/{form_case}/images/{listing['images'][2]['sopInstanceUID']}")
if b"SecretPNG-4471" in rgb_raw:
    fail("the stored PNG photo still holds its text chunk")
rgb_sc, grey_sc = pydicom.dcmread(io.BytesIO(rgb_raw)), pydicom.dcmread(io.BytesIO(grey_raw))
if rgb_sc.PhotometricInterpretation != "RGB" or not (rgb_sc.pixel_array == numpy.asarray(photo)).all():
    fail("the RGB PNG's pixels are not stored as sent")
la = numpy.asarray(grey, dtype=int)
composited = (la[:, :, 0] * la[:, :, 1] + 255 * (255 - la[:, :, 1]) + 127) // 255  # over white
if grey_sc.PhotometricInterpretation != "MONOCHROME2" or not (grey_sc.pixel_array == composited).all():
    fail("the grey PNG with alpha is not stored composited over white")
status, case_read = api("curatorB", "GET", f"/api/library/cases/{form_case}")

step("a file that only claims to be a photo and an oversized photo are refused and change nothing")
for body, content_type, want in [(b"<html>not a photo</html>", "image/jpeg", 415), (b"\x89PNG\r\n\x1a\n" + bytes(40), "image/png", 415),
                                 (raw_photo[:4] + bytes(11 << 20), "image/jpeg", 413)]:
    got = post_photo(body, content_type)
    if got != want:
        fail(f"a refused photo ({content_type}, {len(body)} bytes) answered {got}, expected {want}")
status, after_refusals = api("curatorB", "GET", f"/api/library/cases/{form_case}")
if after_refusals["revision"] != case_read["revision"]:
    fail("a refused photo changed the case")

step("on a 96 × 64 photo, annotations are checked against its own Columns and Rows and drawn at its scale")
content = json.loads(json.dumps(after_refusals["content"]))
wide = [[60.0, 10.0], [95.0, 50.0]]  # x beyond 64: valid only because the photo has 96 columns
content["keyImages"][0]["annotations"] = [{"kind": "ellipse", "points": [[10, 10], [20, 65]], "label": ""}]
status, answer = api("curatorB", "PUT", f"/api/library/cases/{form_case}", {"content": content, "revision": after_refusals["revision"]})
if status != 400:
    fail(f"an ellipse below the photo's 64 rows was answered {status}")
content["keyImages"][0]["annotations"] = [{"kind": "ellipse", "points": wide, "label": ""}]
status, answer = api("curatorB", "PUT", f"/api/library/cases/{form_case}", {"content": content, "revision": after_refusals["revision"]})
if status != 200:
    fail(f"an ellipse on the photo's right part was answered {status} {answer}")
f.get(base + f"/library/cases/{form_case}")
wait_f.until(lambda d: d.execute_script("const i = document.querySelector('#case-images img.case-image'); return i && i.complete && i.naturalWidth > 0"))
r = f.execute_script("const r = document.querySelector('#case-images img.case-image').getBoundingClientRect(); return [r.left, r.top, r.width, r.height]")
b = f.execute_script("const r = document.querySelector('#case-images svg.annotation-overlay ellipse').getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]")
want_box = [r[0] + wide[0][0] * r[2] / 96, r[1] + wide[0][1] * r[3] / 64, r[0] + wide[1][0] * r[2] / 96, r[1] + wide[1][1] * r[3] / 64]
if any(abs(p - q) > 1.5 for p, q in zip(b, want_box)):
    fail(f"the ellipse on the photo is at {b}, expected {want_box}")
f.save_screenshot(os.path.join(shots, "library-photo-annotated.png"))
f.quit()
print("ok")
