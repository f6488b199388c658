#!/usr/bin/env python3
"""A technologist's positioning task, end to end: a teacher puts a positioning question in the bank and an exam; the
student's attempt carries no reference value; in headless Chromium the student chooses the projection and central ray
and types the exposure factors; the score after release is the one this script computes from its own reference table.

Usage: training_positioning.py BASE_URL SCREENSHOT_DIR FIXTURES_JSON
"""
import atexit
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, sign_in, step  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

base, shots, fixtures = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
people = fixtures["people"]
client = {key: Client(base, value[2]) for key, value in people.items()}

# The reference, as a radiography exposure chart would give it: chest PA of an average adult.
SETTINGS = [
    {"id": "projection", "name": "投照体位 Projection", "options": ["PA erect", "AP supine", "Lateral"], "reference": "PA erect"},
    {"id": "ray", "name": "中心线 Central ray", "options": ["T7, perpendicular", "T4, 15° cranial", "C7"], "reference": "T7, perpendicular"},
    {"id": "kvp", "name": "管电压 Tube voltage", "reference": 120, "unit": "kV", "tolerance": 5},
    {"id": "mas", "name": "mAs", "reference": 2.5, "unit": "mAs", "tolerance": 0.5},
]
POINTS = 4
GIVEN = {"projection": "PA erect", "ray": "C7", "kvp": "123", "mas": "2,8"}


def right(setting, value):
    if "options" in setting:
        return value == setting["reference"]
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return False
    return abs(number - setting["reference"]) <= setting["tolerance"]


expected = POINTS * sum(right(s, GIVEN[s["id"]]) for s in SETTINGS) / len(SETTINGS)

step("the teacher adds the positioning question; malformed ones are refused with the reason")
status, body = client["teacher"].call("POST", "/api/training/questions", {
    "kind": "positioning", "stem": "Chest PA: set up the examination", "points": POINTS,
    "settings": [dict(SETTINGS[0], reference="PA")]})
assert status in (400, 422) and "one of its options" in json.dumps(body), (status, body)
status, question = client["teacher"].call("POST", "/api/training/questions", {
    "kind": "positioning", "stem": "Chest PA: set up the examination", "points": POINTS, "settings": SETTINGS,
    "tags": ["technologist"], "difficulty": 2})
assert status == 201, (status, question)
assert client["student"].call("GET", f"/api/training/questions/{question['id']}")[0] == 403

status, exam = client["teacher"].call("POST", "/api/training/exams", {"settings": {
    "title": "Positioning practice", "forms": [[question["id"]]], "shuffle": False, "students": [people["student"][0]],
    "attemptsAllowed": 1}})
assert status == 201, (status, exam)
status, attempt = client["student"].call("POST", f"/api/training/exams/{exam['id']}/attempts")
assert status == 201, (status, attempt)

step("the attempt shows the settings and their options, never a reference")
status, data = client["student"].call("GET", f"/api/training/attempts/{attempt['id']}")
assert status == 200, (status, data)
shown = data["questions"][0]["content"]["settings"]
assert [s["id"] for s in shown] == [s["id"] for s in SETTINGS], shown
assert all(s["reference"] == "" and s.get("tolerance", 0) == 0 for s in shown), shown
assert [s["options"] for s in shown] == [s.get("options", []) for s in SETTINGS], shown
text = json.dumps(data, ensure_ascii=False)
assert '"reference": "PA erect"' not in text and '"tolerance": 5' not in text and '"reference": 120' not in text, text

driver, wait = browser()
atexit.register(driver.quit)
step("in Chromium the student chooses and types the settings; each is saved on the server as given")
sign_in(driver, wait, base, people["student"][0], people["student"][1])
driver.get(base + f"/training/attempts/{attempt['id']}")
wait.until(lambda d: d.find_element(By.ID, "attempt").get_attribute("data-loaded") == "true")
box = driver.find_element(By.CSS_SELECTOR, f'fieldset[data-question="{question["id"]}"]')
assert box.get_attribute("data-kind") == "positioning"
Select(box.find_element(By.CSS_SELECTOR, 'select[data-setting="projection"]')).select_by_visible_text(GIVEN["projection"])
Select(box.find_element(By.CSS_SELECTOR, 'select[data-setting="ray"]')).select_by_visible_text(GIVEN["ray"])
for key in ("kvp", "mas"):
    field = box.find_element(By.CSS_SELECTOR, f'input[data-setting="{key}"]')
    field.send_keys(GIVEN[key])
    field.send_keys("\t")
assert "kV" in box.text and "mAs" in box.text, box.text
clock = driver.find_element(By.ID, "time-left").text
assert clock and ":" not in clock, ("an exam without a time limit shows no countdown", clock)


def saved(_):
    _, current = client["student"].call("GET", f"/api/training/attempts/{attempt['id']}")
    answer = current["answers"].get(str(question["id"]), {}).get("answer", {})
    return answer.get("settings") == GIVEN


wait.until(saved)
driver.save_screenshot(os.path.join(shots, "training-positioning.png"))
assert client["student"].call("POST", f"/api/training/attempts/{attempt['id']}/submit")[0] == 200

step("after release the score is the share of settings right, as computed here, and the key shows the tolerances")
assert client["student"].call("GET", f"/api/training/attempts/{attempt['id']}/result")[0] in (403, 409)
assert client["teacher"].call("POST", f"/api/training/exams/{exam['id']}/release")[0] in (200, 204)
status, result = client["student"].call("GET", f"/api/training/attempts/{attempt['id']}/result")
assert status == 200, (status, result)
assert abs(result["score"] - expected) < 1e-9 and result["maximum"] == POINTS, (result["score"], expected, result)
driver.get(base + f"/training/attempts/{attempt['id']}/result")
page = wait.until(lambda d: d.find_element(By.TAG_NAME, "main")).text
assert "± 5 kV" in page and "C7" in page, page
driver.save_screenshot(os.path.join(shots, "training-positioning-result.png"))
print("ok")
