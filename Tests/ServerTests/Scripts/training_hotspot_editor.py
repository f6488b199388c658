#!/usr/bin/env python3
"""The question bank's hotspot editor in headless Chromium: the teacher draws the region by dragging on the case's key
image, on a range of slices, and the region stored (read over the API) is the one this script computes from the drag.

Usage: training_hotspot_editor.py BASE_URL SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON as for training_browser.py (a published case whose key image is in a three-slice series). Prints one line
per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import atexit
import json
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, sign_in, step
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

base, shots, fixtures_path = sys.argv[1:4]
os.makedirs(shots, exist_ok=True)
fixtures = json.load(open(fixtures_path, encoding="utf-8"))
teacher = fixtures["people"]["teacher"]
api = Client(base, teacher[2])
STEM = "Draw-test: click the nodule 点选结节"

driver, wait = browser()
atexit.register(driver.quit)


def show_slice(number):
    slider = driver.find_element(By.ID, "hotspot-slider")
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", slider, str(number))
    wait.until(lambda d: d.find_element(By.ID, "hotspot-image").get_attribute("data-slice") == str(number)
               and d.find_element(By.ID, "hotspot-editor").get_attribute("data-loaded") == "true")


step("the teacher picks a hotspot question on the case: the editor shows its key image and the series' three slices")
sign_in(driver, wait, base, teacher[0], teacher[1])
driver.get(base + "/training/questions")
editor = wait.until(lambda d: d.find_element(By.ID, "hotspot-editor"))
assert not editor.is_displayed(), "the editor shows for a choice question"
Select(driver.find_element(By.ID, "question-case")).select_by_value(str(fixtures["case"]))
Select(driver.find_element(By.ID, "question-kind")).select_by_value("hotspot")
wait.until(lambda d: editor.get_attribute("data-loaded") == "true")
assert not driver.find_element(By.ID, "question-choices").is_displayed()
assert driver.find_element(By.ID, "hotspot-slider").get_attribute("max") == "3"

step("on slice 2 the teacher drags from one corner to the other; then extends the region to slice 3 as an ellipse")
show_slice(2)
image = driver.find_element(By.ID, "hotspot-image")
natural_width, natural_height = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", image)
rect = driver.execute_script(
    "const r = arguments[0].getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom, window.innerWidth, window.innerHeight]",
    image)
left_edge, top_edge, right_edge, bottom_edge, view_width, view_height = rect
width, height = right_edge - left_edge, bottom_edge - top_edge
assert width > 100 and height > 100, rect
# WebDriver's offsets count from the element's in-view centre point: the middle of its part inside the viewport,
# floored (W3C WebDriver, "in-view center point").
centre_x = math.floor((max(left_edge, 0) + min(right_edge, view_width)) / 2) - left_edge
centre_y = math.floor((max(top_edge, 0) + min(bottom_edge, view_height)) / 2) - top_edge
# Offsets from the image's in-view centre: from (-90, -70) to (+40, +25).
start, end = (-90, -70), (40, 25)
ActionChains(driver).move_to_element_with_offset(image, *start).click_and_hold().move_by_offset(end[0] - start[0], end[1] - start[1]) \
    .release().perform()
wait.until(lambda d: editor.get_attribute("data-drawn") == "true")
# The corners in the image's displayed pixels, then in its own pixels.
left, top = centre_x + min(start[0], end[0]), centre_y + min(start[1], end[1])
expected = {
    "x": left * natural_width / width, "y": top * natural_height / height,
    "width": abs(end[0] - start[0]) * natural_width / width, "height": abs(end[1] - start[1]) * natural_height / height,
}
assert driver.find_element(By.ID, "region-first").get_attribute("value") == "2"
assert driver.find_element(By.ID, "hotspot-shape").is_displayed()
Select(driver.find_element(By.ID, "region-shape")).select_by_value("ellipse")
show_slice(3)
driver.find_element(By.ID, "region-last-here").click()
assert driver.find_element(By.ID, "region-last").get_attribute("value") == "3"
assert driver.find_element(By.ID, "hotspot-shape").is_displayed(), "the region is not shown on slice 3"
show_slice(1)
assert not driver.find_element(By.ID, "hotspot-shape").is_displayed(), "the region shows on slice 1, outside its range"
show_slice(3)
driver.find_element(By.ID, "question-stem").send_keys(STEM)
driver.execute_script("arguments[0].scrollIntoView()", editor)
driver.save_screenshot(os.path.join(shots, "bank-hotspot-drawn.png"))
driver.find_element(By.ID, "question-save").click()


def stored():
    status, body = api.call("GET", "/api/training/questions")
    assert status == 200, body
    return next((q for q in body["questions"] if q["content"]["stem"] == STEM), None)


# The form comes back to the same address, so wait for the question itself (or the page's refusal).
wait.until(lambda d: stored() or d.find_elements(By.ID, "question-problem"))
assert not driver.find_elements(By.ID, "question-problem"), driver.find_element(By.ID, "question-problem").text

step("the stored region is the drag's, in image pixels (within one pixel), on slices 2 to 3")
question = stored()
region = question["content"]["region"]
assert region["shape"] == "ellipse" and (region["firstSlice"], region["lastSlice"]) == (2, 3), region
for key, value in expected.items():
    # One image pixel: the pointer lands on whole display pixels.
    assert abs(region[key] - value) <= max(1.0, natural_width / width), (key, region[key], value, region)
assert question["content"]["images"][0]["seriesInstanceUID"] == fixtures["series"], question["content"]["images"]
assert question["content"]["caseID"] == fixtures["case"]
print("ok")
