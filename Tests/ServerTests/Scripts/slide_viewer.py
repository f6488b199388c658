#!/usr/bin/env python3
"""The slide viewer in headless Chromium (Debian's chromium + chromium-driver, through selenium).

A synthetic slide made with libvips is turned into DICOM WSI by wsidicomizer and stored by STOW-RS. The viewer is
opened at two zoom levels with slide point (0, 0) at the canvas's top left corner and one screen pixel per pixel of
the level, and the canvas pixels are compared with the tile Atrium serves decoded here by Pillow. A polygon and an
ellipse are drawn with the mouse; their areas in µm² are checked against the shoelace formula and π·a·b computed here
from the screen points and the slide's pixel spacing (pydicom), and the saved annotations are read back by highdicom
as a Microscopy Bulk Simple Annotations instance. Prints one JSON object: {"checks": [[name, ok, detail], ...]}.

Then the pathology consultation path: a site stores a slide and files a request (service line pathology), a reader
claims it; the report page frames the slide viewer, the report has the pathology template's sections, and it is signed.

Usage: slide_viewer.py BASE_URL TOKEN USERNAME PASSWORD WORK_DIR SCREENSHOT_DIR SITE_TOKEN READER_TOKEN READER_PASSWORD
"""
import io
import json
import math
import os
import sys
import time
import traceback
import warnings

import numpy as np
import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from wsi_session import dicomize, make_slide  # noqa: E402

warnings.simplefilter("ignore")
BASE, TOKEN, USERNAME, PASSWORD, WORK, SCREENSHOTS, SITE_TOKEN, READER_TOKEN, READER_PASSWORD = sys.argv[1:10]
HEADERS = {"Authorization": f"Bearer {TOKEN}"}
checks = []


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:600]])


def wait_for(driver, script, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if driver.execute_script(script):
            return True
        time.sleep(0.1)
    return False


def canvas_pixels(driver, width, height):
    """The canvas's RGB pixels of the top left `width` × `height` region."""
    data = driver.execute_script(
        "const c = document.getElementById('slide-canvas').getContext('2d');"
        f"return Array.from(c.getImageData(0, 0, {width}, {height}).data);")
    return np.array(data, dtype=np.uint8).reshape(height, width, 4)[:, :, :3]


def show_level(driver, pyramid, level):
    """Slide point (0, 0) at the canvas's top left, one screen pixel per pixel of `level`; waits for its first tile."""
    scale = 1 / pyramid["levels"][level]["downsample"]
    driver.execute_script(
        "const c = document.getElementById('slide-canvas');"
        f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
    url = f"/api/wsi/series/{pyramid['seriesInstanceUID']}/tiles/{level}/0/0?z=0"
    ready = wait_for(driver, f"const e = window.slideViewer.state.tiles.get('{url}'); return e && e.ready;")
    driver.execute_script(
        "const c = document.getElementById('slide-canvas');"
        f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
    return ready


def click_at(driver, canvas, x, y):
    """A click at canvas pixel (x, y) (selenium's offsets are from the element's centre)."""
    ActionChains(driver).move_to_element_with_offset(canvas, x - canvas.size["width"] / 2, y - canvas.size["height"] / 2).click().perform()


def main():
    os.makedirs(SCREENSHOTS, exist_ok=True)
    slide = os.path.join(WORK, "viewer-slide.tif")
    make_slide(slide, 1500, 1000)
    files = dicomize(slide, os.path.join(WORK, "viewer-dicom"))
    client = DICOMwebClient(BASE + "/dicom-web", headers=HEADERS)
    datasets = [pydicom.dcmread(f) for f in files]
    client.store_instances(datasets)
    base = max(datasets, key=lambda d: d.TotalPixelMatrixColumns)
    spacing = [float(v) * 1000 for v in base.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]  # µm
    series = base.SeriesInstanceUID
    pyramid = requests.get(f"{BASE}/api/wsi/series/{series}", headers=HEADERS, timeout=30).json()

    page = requests.get(f"{BASE}/studies/{base.StudyInstanceUID}", headers=HEADERS, timeout=30)
    check("the study page links the slide series to the slide viewer", f"/slide-viewer?series={series}" in page.text,
          page.status_code)

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--force-device-scale-factor=1", "--lang=en"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path="/usr/bin/chromedriver"))
    driver.set_script_timeout(60)
    try:
        response = requests.post(BASE + "/api/session", json={"username": USERNAME, "password": PASSWORD}, timeout=30)
        check("signing in succeeds", response.status_code == 200, response.status_code)
        driver.get(BASE + "/health")
        for cookie in response.cookies:
            driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})
        driver.get(f"{BASE}/slide-viewer?series={series}")
        check("the slide viewer loads the pyramid", wait_for(driver, "return document.body.dataset.ready === 'true'"),
              driver.find_element(By.ID, "slide-status").text)

        # Canvas pixels at two zoom levels against the served tile decoded by Pillow.
        for level in (0, 2):
            loaded = show_level(driver, pyramid, level)
            drawn_level = driver.execute_script("return document.getElementById('slide-canvas').dataset.level")
            info = pyramid["levels"][level]
            width, height = min(256, info["width"]), min(256, info["height"])
            tile = requests.get(f"{BASE}/api/wsi/series/{series}/tiles/{level}/0/0", headers=HEADERS, timeout=30)
            expected = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGB"))[:height, :width].astype(int)
            shown = canvas_pixels(driver, width, height).astype(int)
            difference = np.abs(shown - expected)
            check(f"at level {level} the canvas shows the tile's pixels (Pillow's decoding, mean difference < 1.5)",
                  loaded and drawn_level == str(level) and difference.mean() < 1.5,
                  f"loaded {loaded}, level {drawn_level}, mean {difference.mean():.3f}, max {difference.max()}")
            driver.save_screenshot(os.path.join(SCREENSHOTS, f"slide-viewer-level{level}.png"))

        # Scale bar: its length in µm over its length in pixels is the spacing at this zoom (level 2: ×4 per pixel).
        bar = driver.find_element(By.ID, "scale-bar")
        microns, pixels = float(bar.get_attribute("data-microns")), float(bar.get_attribute("data-pixels"))
        scale = 1 / pyramid["levels"][2]["downsample"]
        check("the scale bar's µm per screen pixel is the pixel spacing at the zoom", abs(microns / pixels - spacing[1] / scale)
              < 1e-6 * spacing[1] / scale, (microns, pixels, spacing))

        # Annotations at level 0, one screen pixel per base pixel: slide point = screen point.
        show_level(driver, pyramid, 0)
        canvas = driver.find_element(By.ID, "slide-canvas")
        driver.find_element(By.CSS_SELECTOR, "[data-tool=polygon]").click()
        polygon = [(100, 100), (340, 110), (300, 260), (120, 240)]
        for x, y in polygon:
            click_at(driver, canvas, x, y)
        ActionChains(driver).send_keys(Keys.ENTER).perform()
        driver.find_element(By.CSS_SELECTOR, "[data-tool=ellipse]").click()
        ActionChains(driver).move_to_element_with_offset(canvas, 400 - canvas.size["width"] / 2, 300 - canvas.size["height"] / 2) \
            .click_and_hold().move_by_offset(60, 20).move_by_offset(60, 20).release().perform()
        items = driver.find_elements(By.CSS_SELECTOR, "#annotation-list li[data-area]")
        areas = {item.get_attribute("data-type"): float(item.get_attribute("data-area")) for item in items}
        # Shoelace formula on the clicked points, scaled by the pixel spacing (columns across, rows down).
        twice = sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(polygon, polygon[1:] + polygon[:1]))
        polygon_area = abs(twice) / 2 * spacing[0] * spacing[1]
        ellipse_area = math.pi * (120 / 2 * spacing[1]) * (40 / 2 * spacing[0])
        check("the polygon's area in µm² is the shoelace formula's on the slide's pixel spacing",
              abs(areas.get("polygon", 0) - polygon_area) < 1e-6 * polygon_area, (areas, polygon_area))
        check("the ellipse's area in µm² is π·a·b", abs(areas.get("ellipse", 0) - ellipse_area) < 1e-6 * ellipse_area,
              (areas, ellipse_area))
        driver.save_screenshot(os.path.join(SCREENSHOTS, "slide-viewer-annotations.png"))
        driver.find_element(By.ID, "save-annotations").click()
        saved = wait_for(driver, "return !!document.body.dataset.saved")
        stored = requests.get(f"{BASE}/api/wsi/series/{series}/annotations", headers=HEADERS, timeout=30).json()
        check("the annotations are saved and read back where they were clicked (within half a pixel)",
              saved and sorted(a["type"] for a in stored.get("annotations", [])) == ["ellipse", "polygon"]
              and any(a["type"] == "polygon" and np.allclose(a["points"], polygon, atol=0.5) for a in stored["annotations"]),
              stored)

        # The stored instance as highdicom reads it.
        import highdicom
        ann = None
        found = client.search_for_instances(base.StudyInstanceUID, search_filters={"SOPInstanceUID": stored.get("sopInstanceUID", "")})
        if found:
            ds = pydicom.Dataset.from_json(found[0])
            ann = client.retrieve_instance(base.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID)
        ok, detail = False, "not found"
        if ann is not None:
            document = highdicom.ann.MicroscopyBulkSimpleAnnotations.from_dataset(ann)
            groups = {str(g.graphic_type.value): g for g in document.get_annotation_groups()}
            polygon_data = groups["POLYGON"].get_graphic_data(coordinate_type="2D")[0] if "POLYGON" in groups else None
            ellipse_data = groups["ELLIPSE"].get_graphic_data(coordinate_type="2D")[0] if "ELLIPSE" in groups else None
            ok = (polygon_data is not None and np.allclose(polygon_data, np.array(polygon, dtype=float), atol=0.5)
                  and ellipse_data is not None and ellipse_data.shape == (4, 2)
                  and str(document.annotation_coordinate_type.value) == "2D"
                  and document.ReferencedImageSequence[0].ReferencedSOPInstanceUID == base.SOPInstanceUID)
            detail = f"{list(groups)} {polygon_data} {ellipse_data}"
        check("highdicom reads the saved Microscopy Bulk Simple Annotations: the polygon's points and the ellipse", ok, detail)

        # (/health, which hands over the session cookie, has no icon; that request is not the viewer's.)
        # Two focal planes (plane 1: the base level's frames in reverse order): the list switches the plane shown.
        from pydicom.encaps import encapsulate, generate_frames
        from pydicom.uid import generate_uid
        planes = pydicom.dcmread(max(files, key=lambda f: pydicom.dcmread(f, stop_before_pixels=True).TotalPixelMatrixColumns))
        frames = [bytes(f) for f in generate_frames(planes.PixelData, number_of_frames=int(planes.NumberOfFrames))]
        planes.SOPInstanceUID, planes.SeriesInstanceUID = generate_uid(), generate_uid()
        planes.file_meta.MediaStorageSOPInstanceUID = planes.SOPInstanceUID
        planes.TotalPixelMatrixFocalPlanes, planes.NumberOfFrames = 2, 2 * len(frames)
        planes.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].SpacingBetweenSlices = "0.002"
        planes.PixelData = encapsulate(frames + list(reversed(frames)))
        client.store_instances([planes])
        planes_pyramid = requests.get(f"{BASE}/api/wsi/series/{planes.SeriesInstanceUID}", headers=HEADERS, timeout=30).json()
        driver.get(f"{BASE}/slide-viewer?series={planes.SeriesInstanceUID}")
        wait_for(driver, "return document.body.dataset.ready === 'true'")
        select = driver.find_element(By.ID, "focal-plane")
        options = [o.text for o in select.find_elements(By.TAG_NAME, "option")]
        driver.execute_script("const s = document.getElementById('focal-plane'); s.value = '1'; s.dispatchEvent(new Event('change'));")
        scale = 1.0
        driver.execute_script(
            "const c = document.getElementById('slide-canvas');"
            f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
        url = f"/api/wsi/series/{planes.SeriesInstanceUID}/tiles/0/0/0?z=1"
        loaded = wait_for(driver, f"const e = window.slideViewer.state.tiles.get('{url}'); return e && e.ready;")
        driver.execute_script(
            "const c = document.getElementById('slide-canvas');"
            f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
        tile = requests.get(BASE + url, headers=HEADERS, timeout=30)
        expected = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGB"))[:256, :256].astype(int)
        other = requests.get(BASE + url.replace("z=1", "z=0"), headers=HEADERS, timeout=30)
        plane0 = np.asarray(Image.open(io.BytesIO(other.content)).convert("RGB"))[:256, :256].astype(int)
        shown = canvas_pixels(driver, 256, 256).astype(int)
        check("the focal-plane list shows the second plane's tile (not the first's)",
              len(options) == 2 and select.is_displayed() and loaded and np.abs(shown - expected).mean() < 1.5
              and np.abs(shown - plane0).mean() > 5 and planes_pyramid.get("focalPlanes") == [0.0, 2.0],
              f"{options} {loaded} {np.abs(shown - expected).mean():.2f} {np.abs(shown - plane0).mean():.2f}")
        driver.save_screenshot(os.path.join(SCREENSHOTS, "slide-viewer-focal-plane.png"))

        # Two optical paths in one series (path "P2": the base level's frames in reverse order): the list switches them.
        base_file = max(files, key=lambda f: pydicom.dcmread(f, stop_before_pixels=True).TotalPixelMatrixColumns)
        series2 = generate_uid()
        first, second = pydicom.dcmread(base_file), pydicom.dcmread(base_file)
        for ds in (first, second):
            ds.SOPInstanceUID, ds.SeriesInstanceUID = generate_uid(), series2
            ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        second.OpticalPathSequence[0].OpticalPathIdentifier = "P2"
        shared = second.SharedFunctionalGroupsSequence[0]
        if "OpticalPathIdentificationSequence" in shared:
            shared.OpticalPathIdentificationSequence[0].OpticalPathIdentifier = "P2"
        second.PixelData = encapsulate(list(reversed(frames)))
        client.store_instances([first, second])
        paths_pyramid = requests.get(f"{BASE}/api/wsi/series/{series2}", headers=HEADERS, timeout=30).json()
        driver.get(f"{BASE}/slide-viewer?series={series2}")
        wait_for(driver, "return document.body.dataset.ready === 'true'")
        select = driver.find_element(By.ID, "optical-path")
        options = [o.get_attribute("value") for o in select.find_elements(By.TAG_NAME, "option")]
        # The list starts on the pyramid's first path (the tile API's default); the other one is chosen.
        target = next((p for p in paths_pyramid.get("opticalPaths", [])[1:]), "")
        driver.execute_script(
            f"const s = document.getElementById('optical-path'); s.value = '{target}'; s.dispatchEvent(new Event('change'));")
        driver.execute_script(
            "const c = document.getElementById('slide-canvas');"
            f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
        url = f"/api/wsi/series/{series2}/tiles/0/0/0?z=0&path={target}"
        loaded = wait_for(driver, f"const e = window.slideViewer.state.tiles.get('{url}'); return e && e.ready;")
        driver.execute_script(
            "const c = document.getElementById('slide-canvas');"
            f"window.slideViewer.setView(c.width / 2 / {scale}, c.height / 2 / {scale}, {scale});")
        tile = requests.get(BASE + url, headers=HEADERS, timeout=30)
        expected = np.asarray(Image.open(io.BytesIO(tile.content)).convert("RGB"))[:256, :256].astype(int)
        other = requests.get(BASE + url.replace(f"&path={target}", ""), headers=HEADERS, timeout=30)
        path1 = np.asarray(Image.open(io.BytesIO(other.content)).convert("RGB"))[:256, :256].astype(int)
        shown = canvas_pixels(driver, 256, 256).astype(int)
        check("the optical-path list shows the other path's tile (not the first's)",
              len(options) == 2 and options == paths_pyramid.get("opticalPaths") and select.is_displayed() and loaded
              and np.abs(shown - expected).mean() < 1.5 and np.abs(shown - path1).mean() > 5
              and "P2" in paths_pyramid.get("opticalPaths", []) and len(paths_pyramid.get("opticalPaths", [])) == 2,
              f"{options} {loaded} {np.abs(shown - expected).mean():.2f} {np.abs(shown - path1).mean():.2f} "
              f"{paths_pyramid.get('opticalPaths')}")
        driver.save_screenshot(os.path.join(SCREENSHOTS, "slide-viewer-optical-path.png"))

        # The upload page converts a scanner's file (the TIFF libvips made) with the patient's details typed in.
        import openslide
        driver.get(f"{BASE}/upload")
        driver.execute_script("document.getElementById('slide-details').open = true;")
        driver.find_element(By.ID, "slide-PatientName").send_keys("Upload^Slide")
        driver.find_element(By.ID, "slide-PatientID").send_keys("UPL-SLIDE-1")
        driver.find_element(By.ID, "upload-files").send_keys(slide)
        finished = wait_for(driver, "return document.getElementById('upload').dataset.state === 'done'", seconds=120)
        statuses = [r.get_attribute("data-status") for r in driver.find_elements(By.CSS_SELECTOR, "#upload-results tbody tr")]
        driver.save_screenshot(os.path.join(SCREENSHOTS, "upload-slide-converted.png"))
        levels = openslide.OpenSlide(slide).level_count
        found = requests.get(f"{BASE}/dicom-web/instances?PatientID=UPL-SLIDE-1&includefield=00100010,00080016",
                             headers=HEADERS, timeout=30)
        instances = found.json() if found.status_code == 200 else []
        names = {i.get("00100010", {}).get("Value", [{}])[0].get("Alphabetic") for i in instances}
        classes = {i.get("00080016", {}).get("Value", [None])[0] for i in instances}
        check("a slide file dropped on the upload page is converted: one VL WSI instance per OpenSlide level, with the "
              "patient typed in", finished and statuses == ["stored"] * levels and len(instances) == levels
              and names == {"Upload^Slide"} and classes == {"1.2.840.10008.5.1.4.1.1.77.1.6"},
              f"{finished} {statuses} {levels} {len(instances)} {names} {classes}")

        logs = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE" and "favicon.ico" not in e.get("message", "")]
        check("no error in the browser console", not logs, logs)
    finally:
        driver.quit()


def pathology_consultation():
    """A site's slide through request, claim, the report page and a signed pathology report."""
    site = {"Authorization": f"Bearer {SITE_TOKEN}"}
    reader = {"Authorization": f"Bearer {READER_TOKEN}"}
    files = dicomize(os.path.join(WORK, "viewer-slide.tif"), os.path.join(WORK, "consultation-dicom"))
    datasets = [pydicom.dcmread(f) for f in files]
    DICOMwebClient(BASE + "/dicom-web", headers=site).store_instances(datasets)
    study, series = datasets[0].StudyInstanceUID, datasets[0].SeriesInstanceUID
    r = requests.post(BASE + "/api/consultations", headers=site, timeout=30, json={
        "studies": [study], "priority": "routine", "serviceLine": "pathology", "question": "Margins?",
        "clinicalHistory": "Excision", "referringPhysician": "Dr Zhao", "accessionNumber": ""})
    check("a site files a pathology consultation for its slide", r.status_code == 201, f"{r.status_code} {r.text[:300]}")
    request_id = r.json()["id"]
    page = requests.get(f"{BASE}/consultations/{request_id}", headers=site, timeout=30)
    check("the site's consultation page links the slide to the slide viewer",
          page.status_code == 200 and f'href="/slide-viewer?series={series}"' in page.text, page.status_code)
    detail = requests.get(f"{BASE}/api/consultations/{request_id}", headers=reader, timeout=30).json()
    item = detail["workItems"][0]["id"]
    r = requests.post(f"{BASE}/api/worklist/{item}/claim", headers=reader, timeout=30)
    check("a reader claims it", r.status_code == 200, f"{r.status_code} {r.text[:300]}")
    report_id = r.json()["reportID"]
    page = requests.get(f"{BASE}/reports/{report_id}", headers=reader, timeout=30)
    check("the report page frames the slide viewer on the slide's series",
          f'src="/slide-viewer?series={series}"' in page.text, page.text[page.text.find("viewer-frame"):][:200])
    report = requests.get(f"{BASE}/api/reports/{report_id}", headers=reader, timeout=30).json()
    kinds = [section["kind"] for section in report.get("sections", [])]
    check("the report starts from the pathology template",
          kinds == ["history", "specimen", "gross", "findings", "impression", "immunohistochemistry"], kinds)
    sections = [dict(section, text=f"{section['kind']} text") for section in report["sections"]]
    r = requests.post(f"{BASE}/api/reports/{report_id}/sign", headers=reader, timeout=30,
                      json={"sections": sections, "password": READER_PASSWORD})
    document = requests.get(f"{BASE}/api/reports/{report_id}/fhir", headers=reader, timeout=30)
    conclusion = [e["resource"].get("conclusion") for e in document.json().get("entry", [])
                  if e["resource"].get("resourceType") == "DiagnosticReport"] if document.status_code == 200 else []
    check("the pathology report is signed; the diagnosis is the FHIR report's conclusion",
          r.status_code == 200 and conclusion == ["impression text"], f"{r.status_code} {r.text[:200]} {conclusion}")


try:
    main()
    pathology_consultation()
except Exception:  # noqa: BLE001 (reported as a failed check)
    check("the session ran to the end", False, traceback.format_exc())
print(json.dumps({"checks": checks}))
