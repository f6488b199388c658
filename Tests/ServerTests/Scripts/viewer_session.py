#!/usr/bin/env python3
"""Drives the Atrium viewer in headless Chromium (Debian's chromium + chromium-driver, through selenium) on a study
made here with pydicom and stored through STOW-RS (dicomweb-client), and checks what the page shows against values
computed here from the stored pixel data with numpy: the window formula of PS3.3 C.11.2.1.2.1, lengths from the
phantom's known geometry, region statistics. Prints one JSON object: {"checks": [[name, ok, detail], ...]}.

Usage: viewer_session.py BASE_URL SCREENSHOT_DIR [USERNAME PASSWORD TOKEN]
With a username and password the browser signs in first (POST /api/session, whose cookie the browser then carries);
with a token, STOW-RS sends it as a bearer token.
"""
import base64
import json
import math
import os
import sys
import tempfile
import time
import warnings

import numpy as np
import pydicom
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, MRImageStorage, RLELossless, SecondaryCaptureImageStorage
from pydicom.uid import generate_uid
from selenium import webdriver
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

warnings.simplefilter("ignore")
checks = []
STUDY = generate_uid()
DOT_DISTANCE = 140  # pixels between the phantom's two dots
PHANTOM_SPACING = 0.5  # mm


def check(name, ok, detail=""):
    checks.append([name, bool(ok), str(detail)[:500]])


def base_dataset(sop_class, series_uid, series_number, modality, description, instance_number):
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = STUDY
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = series_number
    ds.InstanceNumber = instance_number
    ds.Modality = modality
    ds.SeriesDescription = description
    ds.PatientName = "Viewer^Test"
    ds.PatientID = "VIEWER-1"
    ds.StudyDate = "20261128"
    return ds


def set_pixels(ds, array, photometric="MONOCHROME2", bits_stored=None):
    array = np.ascontiguousarray(array)
    ds.Rows, ds.Columns = array.shape[-3:-1] if photometric == "RGB" else array.shape[-2:]
    ds.SamplesPerPixel = 3 if photometric == "RGB" else 1
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = array.dtype.itemsize * 8
    ds.BitsStored = bits_stored or ds.BitsAllocated
    ds.HighBit = ds.BitsStored - 1
    ds.PixelRepresentation = 1 if array.dtype.kind == "i" else 0
    if photometric == "RGB":
        ds.PlanarConfiguration = 0
    ds.PixelData = array.tobytes()


def make_study():
    """Returns (datasets, facts): the instances to store and what the checks need to know about them."""
    rng = np.random.default_rng(2026)
    datasets, facts = [], {}
    # 1. An axial CT of 40 slices, stored with Instance Numbers in reverse order of position (the viewer orders by
    #    position along the normal), signed 16-bit with a rescale.
    ct_series = generate_uid()
    slices = []
    for k in range(40):
        stored = rng.integers(-1024, 2000, size=(256, 256), dtype=np.int16)
        stored[20:60, 20:60] = -1000 + 50 * k  # a block whose value identifies the slice
        ds = base_dataset(CTImageStorage, ct_series, 1, "CT", "Axial", 40 - k)
        set_pixels(ds, stored)
        ds.RescaleIntercept = -24
        ds.RescaleSlope = 1
        ds.WindowCenter = 40
        ds.WindowWidth = 400
        ds.PixelSpacing = [0.7, 0.7]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-90, -90, -100 + 2.5 * k]
        datasets.append(ds)
        slices.append(ds)
    facts["ct"] = {"series": ct_series, "slices": slices}
    # 2. A phantom: two bright dots DOT_DISTANCE pixels apart on a row, 0.5 mm pixels, unsigned 12 bits in 16, a
    #    rescale of 2x-100, and a block of random values for region statistics.
    phantom = np.full((300, 300), 100, dtype=np.uint16)
    y, x0 = 150, 80
    for x in (x0, x0 + DOT_DISTANCE):
        phantom[y - 1:y + 2, x - 1:x + 2] = 4000
    phantom[200:260, 40:120] = rng.integers(0, 1500, size=(60, 80), dtype=np.uint16)  # darker than the dots
    ds = base_dataset(MRImageStorage, generate_uid(), 2, "MR", "Phantom", 1)
    set_pixels(ds, phantom, bits_stored=12)
    ds.RescaleSlope = 2
    ds.RescaleIntercept = -100
    ds.RescaleType = "US"
    ds.WindowCenter = 4000
    ds.WindowWidth = 8000
    ds.PixelSpacing = [PHANTOM_SPACING, PHANTOM_SPACING]
    ds.ImageOrientationPatient = [0, 1, 0, 0, 0, -1]  # sagittal
    ds.ImagePositionPatient = [0, -75, 75]
    datasets.append(ds)
    facts["phantom"] = {"series": ds.SeriesInstanceUID, "ds": ds, "dots": [(x0, y), (x0 + DOT_DISTANCE, y)]}
    # 3. An RGB secondary capture.
    rgb = rng.integers(0, 256, size=(48, 64, 3), dtype=np.uint8)
    ds = base_dataset(SecondaryCaptureImageStorage, generate_uid(), 3, "OT", "Colour", 1)
    set_pixels(ds, rgb, photometric="RGB")
    datasets.append(ds)
    facts["rgb"] = {"series": ds.SeriesInstanceUID, "ds": ds}
    # 4. MONOCHROME1 (lowest values white).
    mono1 = rng.integers(0, 1024, size=(128, 128), dtype=np.uint16)
    ds = base_dataset(SecondaryCaptureImageStorage, generate_uid(), 4, "CR", "Monochrome1", 1)
    set_pixels(ds, mono1, photometric="MONOCHROME1", bits_stored=10)
    ds.WindowCenter = 512
    ds.WindowWidth = 1024
    datasets.append(ds)
    facts["mono1"] = {"series": ds.SeriesInstanceUID, "ds": ds}
    # 5. An RLE-compressed CT slice: the server decodes the frame for the viewer.
    rle = rng.integers(-1024, 1500, size=(128, 128), dtype=np.int16)
    ds = base_dataset(CTImageStorage, generate_uid(), 5, "CT", "RLE", 1)
    set_pixels(ds, rle)
    ds.RescaleIntercept = 0
    ds.RescaleSlope = 1
    ds.WindowCenter = 50
    ds.WindowWidth = 350
    ds.compress(RLELossless)
    datasets.append(ds)
    facts["rle"] = {"series": ds.SeriesInstanceUID, "ds": ds}
    # 6. A multi-frame of 12 frames for cine.
    ramp = np.tile(np.arange(64, dtype=np.uint8) * 2, (64, 1))
    frames = np.stack([ramp + 8 * k for k in range(12)])
    ds = base_dataset(SecondaryCaptureImageStorage, generate_uid(), 6, "XA", "Cine", 1)
    set_pixels(ds, frames)
    ds.NumberOfFrames = 12
    ds.FrameTime = 50
    datasets.append(ds)
    facts["cine"] = {"series": ds.SeriesInstanceUID, "ds": ds}
    return datasets, facts


def window(x, center, width):
    """PS3.3 C.11.2.1.2.1 with output 0..255, computed here independently of the viewer."""
    x = np.asarray(x, dtype=np.float64)
    w = max(width, 1)
    y = ((x - (center - 0.5)) / (w - 1) + 0.5) * 255
    y = np.where(x <= center - 0.5 - (w - 1) / 2, 0, np.where(x > center - 0.5 + (w - 1) / 2, 255, y))
    return y


def modality(ds):
    return ds.pixel_array.astype(np.float64) * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))


class Page:
    def __init__(self, driver):
        self.driver = driver

    def js(self, script, *args):
        return self.driver.execute_script(script, *args)

    def wait_js(self, script, *args):
        """Runs `script`, which returns a promise, and waits for it."""
        return self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "Promise.resolve((() => {" + script + "})()).then(done, (e) => done({error: String(e)}));", *args)

    def state(self):
        return self.js("return window.atriumViewer.state()")

    def viewport(self, slot=0):
        return self.state()["viewports"][slot]

    def pixels(self, slot=0):
        got = self.js("return window.atriumViewer.imagePixels(arguments[0])", slot)
        rgba = np.frombuffer(base64.b64decode(got["rgba"]), dtype=np.uint8).reshape(got["height"], got["width"], 4)
        return rgba

    def until(self, predicate, timeout=20, what="condition"):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError("timed out waiting for " + what)

    def displayed(self, slot=0):
        return self.until(lambda: self.viewport(slot)["displayed"], what="the image to be displayed")

    def open_series(self, uid):
        self.driver.find_element(By.CSS_SELECTOR, "button[data-series='%s']" % uid).click()
        self.until(lambda: self.viewport(self.state()["active"])["series"] == uid and self.viewport(self.state()["active"])["count"] > 0,
                   what="series " + uid)
        return self.displayed(self.state()["active"])

    def canvas(self, slot=0):
        return self.driver.find_elements(By.CSS_SELECTOR, ".viewport canvas.display")[slot]


def max_difference(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def check_window(page, name, values, center, width, invert=False, slot=0):
    expected = window(values, center, width)
    if invert:
        expected = 255 - expected
    got = page.pixels(slot)[:, :, 0]
    difference = max_difference(got, expected)
    check(name, got.shape == expected.shape and difference <= 1,
          "center %s width %s: max difference %.2f" % (center, width, difference))


def set_language(base, token, language):
    """Sets the signed-in person's interface language (the viewer page follows it) with the administration API."""
    if not token:
        return False
    headers = {"Authorization": "Bearer " + token}
    me = requests.get(base + "/api/me", headers=headers, timeout=30).json()
    response = requests.patch(base + "/api/admin/people/%d" % me["id"], json={"language": language}, headers=headers, timeout=30)
    return response.status_code in (200, 204)


def run(page, base, facts, screenshots, token):
    driver = page.driver
    driver.get(base + "/viewer?study=" + STUDY)
    page.until(lambda: page.js("return !!window.atriumViewer"), what="the viewer module")
    first = page.wait_js("return window.atriumViewer.firstImage()")
    check("the viewer shows a first image", isinstance(first, (int, float)), first)
    ct = facts["ct"]["slices"]
    by_position = sorted(ct, key=lambda ds: ds.ImagePositionPatient[2])
    v = page.viewport()
    check("the first series is opened with every slice", v["series"] == facts["ct"]["series"] and v["count"] == len(ct), v)
    check("slices are ordered by position, not Instance Number", v["sopInstanceUID"] == by_position[0].SOPInstanceUID, v)
    check_window(page, "first slice drawn with the file's window (modality LUT + linear VOI)", modality(by_position[0]), 40, 400)
    markers = v["markers"]
    check("orientation markers of an axial slice", markers == {"top": "A", "bottom": "P", "left": "R", "right": "L"}, markers)

    # Scrolling: keys, wheel and scroll bar each change the displayed slice.
    body = driver.find_element(By.TAG_NAME, "body")
    page.canvas().click()
    for _ in range(3):
        body.send_keys(Keys.ARROW_DOWN)
    page.until(lambda: page.viewport()["index"] == 3, what="index 3")
    page.displayed()
    check_window(page, "arrow keys scroll to the next slices (slice 4 drawn)", modality(by_position[3]), 40, 400)
    ActionChains(driver).scroll_from_origin(ScrollOrigin.from_element(page.canvas()), 0, 120).perform()
    page.until(lambda: page.viewport()["index"] == 4, what="index 4 after the wheel")
    page.displayed()
    check_window(page, "the mouse wheel scrolls one slice", modality(by_position[4]), 40, 400)
    page.js("const s = document.querySelector('.viewport .scrollbar'); s.value = 20; s.dispatchEvent(new Event('input'));")
    page.until(lambda: page.viewport()["index"] == 20, what="index 20 after the scroll bar")
    page.displayed()
    check_window(page, "the scroll bar moves to slice 21", modality(by_position[20]), 40, 400)
    body.send_keys(Keys.END)
    page.until(lambda: page.viewport()["index"] == len(ct) - 1, what="the last slice")
    page.displayed()
    check_window(page, "End shows the last slice", modality(by_position[-1]), 40, 400)
    body.send_keys(Keys.HOME)
    page.until(lambda: page.viewport()["index"] == 0, what="the first slice")
    page.displayed()

    # Window: through the API, presets, mouse drag, inversion.
    values = modality(by_position[0])
    page.js("window.atriumViewer.setWindow(-600, 1500)")
    check_window(page, "window set to C -600 W 1500", values, -600, 1500)
    page.js("window.atriumViewer.setPreset('bone')")
    check_window(page, "bone preset (C 400 W 1800)", values, 400, 1800)
    body.send_keys("6")  # abdomen
    check_window(page, "key 6 applies the abdomen preset (C 50 W 400)", values, 50, 400)
    before = page.viewport()
    ActionChains(driver).move_to_element(page.canvas()).click_and_hold().move_by_offset(60, -40).release().perform()
    after = page.viewport()
    check("dragging with the window tool changes width and centre",
          after["width"] > before["width"] and after["center"] < before["center"], "%s -> %s" % (before, after))
    check_window(page, "after the drag the pixels follow the formula with the new window", values, after["center"], after["width"])
    body.send_keys("i")
    check_window(page, "I inverts", values, after["center"], after["width"], invert=True)
    body.send_keys("i")

    # Rotation and flips move the orientation markers.
    body.send_keys("]")
    markers = page.viewport()["markers"]
    check("rotating right 90° turns the markers", markers == {"top": "R", "bottom": "L", "left": "P", "right": "A"}, markers)
    body.send_keys("[")
    body.send_keys("h")
    markers = page.viewport()["markers"]
    check("a horizontal flip swaps left and right", markers["left"] == "L" and markers["right"] == "R", markers)
    body.send_keys("x")

    driver.save_screenshot(os.path.join(screenshots, "viewer-ct.png"))

    # The phantom: a length measured with the mouse between the two dots.
    phantom = facts["phantom"]
    page.open_series(phantom["series"])
    markers = page.viewport()["markers"]
    check("orientation markers of a sagittal slice", markers == {"top": "H", "bottom": "F", "left": "A", "right": "P"}, markers)
    canvas = page.canvas()
    # Find the dots on the displayed canvas itself (device pixels = CSS pixels at scale factor 1).
    shown = page.js(
        "const c = arguments[0]; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height);"
        "let s = ''; for (let i = 0; i < d.data.length; i += 0x8000) s += String.fromCharCode(...d.data.subarray(i, i + 0x8000));"
        "return {w: c.width, h: c.height, cssW: c.clientWidth, cssH: c.clientHeight, rgba: btoa(s)};", canvas)
    grey = np.frombuffer(base64.b64decode(shown["rgba"]), dtype=np.uint8).reshape(shown["h"], shown["w"], 4)[:, :, 0]
    bright = np.argwhere(grey > 200)
    left = bright[bright[:, 1] < np.median(bright[:, 1])]
    right = bright[bright[:, 1] >= np.median(bright[:, 1])]
    (ly, lx), (ry, rx) = left.mean(axis=0), right.mean(axis=0)
    scale = (rx - lx) / DOT_DISTANCE  # display pixels per image pixel
    body.send_keys("l")
    origin_x, origin_y = shown["cssW"] / 2, shown["cssH"] / 2
    ActionChains(driver).move_to_element_with_offset(canvas, int(round(lx - origin_x)), int(round(ly - origin_y))) \
        .click_and_hold().move_by_offset(int(round(rx - lx)), int(round(ry - ly))).release().perform()
    entry = page.until(lambda: driver.find_elements(By.CSS_SELECTOR, ".measurement-list li[data-kind='length']"), what="a length")
    measured = float(entry[0].get_attribute("data-length"))
    expected = DOT_DISTANCE * PHANTOM_SPACING
    tolerance = 2 * PHANTOM_SPACING / scale + 0.05
    check("a length between the phantom's dots reads %.1f mm" % expected, abs(measured - expected) <= tolerance,
          "measured %.3f mm, expected %.1f ± %.2f (scale %.2f)" % (measured, expected, tolerance, scale))
    text = entry[0].text
    check("the measurement list shows the length in millimetres", ("%.1f mm" % measured) in text, text)

    ds = phantom["ds"]
    values = modality(ds)
    spacing = PHANTOM_SPACING
    x0, y0, x1, y1 = 45, 205, 110, 250
    got = page.js("return window.atriumViewer.addMeasurement('rectangle', [[%d, %d], [%d, %d]])" % (x0, y0, x1, y1))
    region = values[y0:y1, x0:x1]
    expected = {"mean": region.mean(), "sd": region.std(), "min": region.min(), "max": region.max(),
                "area": (x1 - x0) * (y1 - y0) * spacing * spacing}
    ok = all(abs(got[k] - expected[k]) <= 1e-6 * max(1, abs(expected[k])) for k in expected)
    check("rectangle statistics in modality units and area in mm² match numpy", ok, "%s vs %s" % (got, expected))
    # An ellipse: the pixels whose centres lie inside it.
    cx, cy, rx_, ry_ = 80, 230, 30, 20
    got = page.js("return window.atriumViewer.addMeasurement('ellipse', [[%d, %d], [%d, %d]])" % (cx - rx_, cy - ry_, cx + rx_, cy + ry_))
    yy, xx = np.mgrid[0:values.shape[0], 0:values.shape[1]]
    inside = ((xx + 0.5 - cx) / rx_) ** 2 + ((yy + 0.5 - cy) / ry_) ** 2 <= 1
    region = values[inside]
    expected = {"mean": region.mean(), "sd": region.std(), "min": region.min(), "max": region.max(),
                "area": math.pi * rx_ * ry_ * spacing * spacing, "count": int(inside.sum())}
    ok = all(abs(got[k] - expected[k]) <= 1e-6 * max(1, abs(expected[k])) for k in expected)
    check("ellipse statistics and area match numpy", ok, "%s vs %s" % (got, expected))
    got = page.js("return window.atriumViewer.addMeasurement('angle', [[10, 10], [50, 50], [90, 10]])")
    check("an angle of 90°", abs(got["degrees"] - 90) < 1e-9, got)
    items = driver.find_elements(By.CSS_SELECTOR, ".measurement-list li.measurement")
    check("the list shows every measurement of the image", len(items) == 4, [i.text for i in items])
    driver.save_screenshot(os.path.join(screenshots, "viewer-phantom.png"))

    # Colour, MONOCHROME1, a compressed instance (decoded by the server), cine.
    page.open_series(facts["rgb"]["series"])
    got = page.pixels()[:, :, :3]
    check("RGB pixels are shown as stored", np.array_equal(got, facts["rgb"]["ds"].pixel_array), max_difference(got, facts["rgb"]["ds"].pixel_array))
    page.open_series(facts["mono1"]["series"])
    check_window(page, "MONOCHROME1 is drawn inverted", modality(facts["mono1"]["ds"]), 512, 1024, invert=True)
    page.open_series(facts["rle"]["series"])
    check_window(page, "an RLE-compressed frame arrives decoded and is windowed", modality(facts["rle"]["ds"]), 50, 350)
    page.open_series(facts["cine"]["series"])
    v = page.viewport()
    check("a multi-frame instance gives one image per frame", v["count"] == 12, v)
    body.send_keys(Keys.SPACE)
    page.until(lambda: page.viewport()["index"] >= 3, what="cine to advance", timeout=10)
    body.send_keys(Keys.SPACE)
    stopped = page.viewport()["index"]
    time.sleep(0.3)
    check("cine plays and stops", page.viewport()["index"] == stopped, stopped)
    page.displayed()
    frame = page.viewport()["frame"]
    got = page.pixels()[:, :, 0]
    # Without a window in the file the viewer spans the first frame's values: width max - min + 1, centre min + width / 2.
    stored = facts["cine"]["ds"].pixel_array
    width = float(stored[0].max()) - float(stored[0].min()) + 1
    expected = window(stored[frame - 1], float(stored[0].min()) + width / 2, width)
    check("the cine frame shown is the stored frame (first frame's range as window)", max_difference(got, expected) <= 1,
          "frame %d: %.2f" % (frame, max_difference(got, expected)))

    # Layouts: 2×2 gives four viewports, each with its own series.
    driver.find_element(By.CSS_SELECTOR, "button[data-layout='2x2']").click()
    page.until(lambda: len(page.state()["viewports"]) == 4 and all(v["displayed"] for v in page.state()["viewports"]), what="2x2")
    series = [v["series"] for v in page.state()["viewports"]]
    check("the 2×2 layout shows four series", len(set(series)) == 4, series)
    driver.find_element(By.CSS_SELECTOR, "button[data-layout='1x2']").click()
    check("the 1×2 layout keeps two viewports", len(page.state()["viewports"]) == 2)
    driver.save_screenshot(os.path.join(screenshots, "viewer-layout.png"))

    # The address may name the series to open first; the interface speaks the page's language from the locale files.
    phantom_series = facts["phantom"]["series"]
    driver.get(base + "/viewer?study=%s&series=%s" % (STUDY, phantom_series))
    page.until(lambda: page.js("return !!window.atriumViewer"), what="the viewer module")
    page.wait_js("return window.atriumViewer.firstImage()")
    check("&series= opens that series first", page.viewport()["series"] == phantom_series, page.viewport())
    locales = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "Sources", "Server", "Resources", "locales")
    for language in ("en", "zh-CN"):
        strings = json.load(open(os.path.join(locales, language + ".json"), encoding="utf-8"))["viewer"]
        if not set_language(base, token, language):
            check("the person's language is set through the API", False, language)
            continue
        driver.get(base + "/viewer?study=" + STUDY)
        page.until(lambda: page.js("return !!window.atriumViewer"), what="the viewer module")
        label = driver.find_element(By.CSS_SELECTOR, "button[data-tool='length']").text
        lang = page.js("return document.documentElement.lang")
        check("the viewer speaks %s" % language, lang == language and label == strings["toolLength"], "%s %r" % (lang, label))
    driver.save_screenshot(os.path.join(screenshots, "viewer-zh.png"))
    # (The page used to hand over the session cookie, /health, has no icon; that request is not the viewer's.)
    logs = [entry for entry in driver.get_log("browser") if entry.get("level") == "SEVERE" and "favicon.ico" not in entry.get("message", "")]
    check("no error in the browser console", not logs, logs)


def sign_in(driver, base, username, password):
    """Signs in through the JSON API and hands the session cookie to the browser."""
    response = requests.post(base + "/api/session", json={"username": username, "password": password}, timeout=30)
    check("signing in succeeds", response.status_code == 200, response.status_code)
    driver.get(base + "/health")
    for cookie in response.cookies:
        driver.add_cookie({"name": cookie.name, "value": cookie.value, "path": "/"})


def main():
    base, screenshots = sys.argv[1], sys.argv[2]
    username, password, token = (sys.argv[3:6] + [None, None, None])[:3]
    os.makedirs(screenshots, exist_ok=True)
    datasets, facts = make_study()
    client = DICOMwebClient(url=base + "/dicom-web", headers={"Authorization": "Bearer " + token} if token else None)
    response = client.store_instances(datasets=datasets)
    check("the study is stored through STOW-RS", "FailedSOPSequence" not in response, response.get("FailedSOPSequence", ""))
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                     "--force-device-scale-factor=1", "--lang=en"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = webdriver.ChromeService(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.set_script_timeout(60)
    try:
        if username:
            sign_in(driver, base, username, password)
        run(Page(driver), base, facts, screenshots, token)
    except Exception as error:  # a failure to drive the page is reported as a failed check
        check("the session runs to its end", False, "%s: %s" % (type(error).__name__, error))
        try:
            driver.save_screenshot(os.path.join(screenshots, "viewer-failure.png"))
        except Exception:
            pass
    finally:
        driver.quit()
    print(json.dumps({"checks": checks}))


if __name__ == "__main__":
    main()
