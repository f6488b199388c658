#!/usr/bin/env python3
"""Practice on a library case over the API and in headless Chromium.

Usage: training_practice.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON: {"people": {"teacher"|"studentA"|"studentB"|"site": [user, password, token]}, "case": id,
"diagnosis": the case's diagnosis text, "findings": its findings text}. The outcomes expected for the student's report
are labelled by hand here (a traditional-character variant of a listed term found, a finding named under "未见" negated,
one missed). Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import atexit
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, locale_strings, sign_in, step
from selenium.webdriver.common.by import By

base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
fixtures = json.load(open(fixtures_path, encoding="utf-8"))
people, case = fixtures["people"], fixtures["case"]
strings = locale_strings(locales_dir)
client = {who: Client(base, person[2]) for who, person in people.items()}

step("who may do what: a site user sees no practice; a student cannot set key findings")
answer = client["site"].call("GET", "/api/training/practice/cases")
assert answer[0] == 403, answer
answer = client["studentA"].call("PUT", f"/api/training/practice/cases/{case}/findings", {"findings": [{"id": "x", "terms": ["y"]}]})
assert answer[0] == 403, answer
status, body = client["teacher"].call("PUT", f"/api/training/practice/cases/{case}/findings",
                                      {"findings": [{"id": "a", "terms": ["x"]}, {"id": "a", "terms": ["y"]}]})
assert status == 400 and "share the id" in json.dumps(body), (status, body)
answer = client["teacher"].call("PUT", "/api/training/practice/cases/999999/findings", {"findings": []})
assert answer[0] == 404, answer

driver, wait = browser()
atexit.register(driver.quit)

step("the teacher sets three key findings with synonyms on the case page")
sign_in(driver, wait, base, people["teacher"][0], people["teacher"][1])
driver.get(base + "/training")
wait.until(lambda d: d.find_element(By.ID, "practice-link")).click()
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#practice-cases tr[data-case="{case}"] a.practise')).click()
box = wait.until(lambda d: d.find_element(By.ID, "key-findings"))
box.clear()
box.send_keys("气胸 | pneumothorax\n纵隔移位 | mediastinal shift\n肋骨骨折 | rib fracture")
driver.find_element(By.ID, "findings-save").click()
wait.until(lambda d: "(3)" in d.find_element(By.CSS_SELECTOR, "#findings-form h2").text)
status, body = client["teacher"].call("GET", f"/api/training/practice/cases/{case}/findings")
assert status == 200 and [f["terms"] for f in body["findings"]] == [["气胸", "pneumothorax"], ["纵隔移位", "mediastinal shift"], ["肋骨骨折", "rib fracture"]], body
driver.delete_all_cookies()

step("a student opens the case: history shown, title, findings and diagnosis hidden")
sign_in(driver, wait, base, people["studentA"][0], people["studentA"][1], language="zh-CN")
driver.get(base + "/training/practice")
row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#practice-cases tr[data-case="{case}"]'))
assert strings["zh-CN"]["training.practice.caseNumber"] in row.text, row.text
row.find_element(By.CSS_SELECTOR, "a.practise").click()
wait.until(lambda d: d.find_element(By.ID, "practice-form"))
source = driver.page_source
for hidden in [fixtures["diagnosis"], fixtures["findings"], fixtures["title"]]:
    assert hidden not in source, f"the case page shows {hidden!r} before the report"
assert fixtures["history"] in driver.find_element(By.ID, "practice-case").text
assert not driver.find_elements(By.ID, "findings-form"), "a student sees the key-findings form"

step("the student writes 氣胸 (traditional), says 未见肋骨骨折, and leaves out the mediastinum")
driver.find_element(By.ID, "practice-findings").send_keys("右侧氣胸，右肺压缩约30%。未见肋骨骨折。")
driver.find_element(By.ID, "practice-impression").send_keys("Right pneumothorax.")
driver.find_element(By.ID, "practice-submit").click()
wait.until(lambda d: d.find_element(By.ID, "key-finding-results"))
outcomes = {r.get_attribute("data-finding"): r.get_attribute("data-outcome")
            for r in driver.find_elements(By.CSS_SELECTOR, "#key-finding-results tbody tr")}
assert outcomes == {"f1": "found", "f2": "missing", "f3": "negated"}, outcomes
assert driver.find_element(By.ID, "found-count").text == "1 / 3"
assert fixtures["diagnosis"] in driver.find_element(By.ID, "reference-diagnosis").text
assert strings["zh-CN"]["training.practice.outcome.negated"] in driver.find_element(By.CSS_SELECTOR, 'tr[data-finding="f3"]').text
report_id = int(driver.find_element(By.ID, "practice-report").get_attribute("data-report"))
driver.save_screenshot(os.path.join(shots, "training-practice-result.png"))
driver.delete_all_cookies()

step("another student can neither read it nor list it; an empty report is refused")
assert client["studentB"].call("GET", f"/api/training/practice/reports/{report_id}")[0] == 404
assert client["studentB"].call("GET", "/api/training/practice/reports")[1]["reports"] == []
status, body = client["studentB"].call("POST", f"/api/training/practice/cases/{case}/reports", {"findings": " ", "impression": ""})
assert status == 400 and "empty" in json.dumps(body), (status, body)

step("the teacher comments on the report; the student reads the comment over the API")
sign_in(driver, wait, base, people["teacher"][0], people["teacher"][1])
driver.get(base + "/training/practice")
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#practice-reports tr[data-report="{report_id}"] a')).click()
wait.until(lambda d: d.find_element(By.ID, "comment-input")).send_keys("纵隔有无移位需要描述。 Describe the mediastinum.")
driver.find_element(By.ID, "comment-save").click()
wait.until(lambda d: "Describe the mediastinum" in d.find_element(By.ID, "teacher-comment").text)
status, body = client["studentA"].call("GET", f"/api/training/practice/reports/{report_id}")
assert status == 200 and body["comment"].endswith("Describe the mediastinum.") and body["commentedBy"] == people["teacher"][0], body
assert [m["outcome"] for m in body["matches"]] == ["found", "missing", "negated"], body
assert body["reference"]["diagnosis"] == fixtures["diagnosis"], body

step("the logbook counts the report: one case, reported once, by modality, region and diagnosis; only teachers read others'")
expected = {"cases": 1, "events": {"reported": 1, "examined": 0, "assigned": 0}, "byModality": {"CR": 1}, "byRegion": {"chest": 1},
            "byDiagnosis": {fixtures["diagnosis"]: 1}}
status, book = client["studentA"].call("GET", "/api/training/logbook")
assert status == 200 and {k: book[k] for k in expected} == expected, book
assert [(e["case"], e["kind"], e["source"]) for e in book["entries"]] == [(case, "reported", report_id)], book
answer = client["studentB"].call("GET", f"/api/training/logbook?trainee={people['studentA'][0]}")
assert answer[0] == 403, answer
status, other = client["teacher"].call("GET", f"/api/training/logbook?trainee={people['studentA'][0]}")
assert status == 200 and {k: other[k] for k in expected} == expected, other
driver.get(base + f"/training/logbook?trainee={people['studentA'][0]}")
assert wait.until(lambda d: d.find_element(By.ID, "logbook-reported")).text == "1"
assert driver.find_element(By.CSS_SELECTOR, '#by-modality tr[data-name="CR"] td.num').text == "1"
print("ok")
