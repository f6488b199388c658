#!/usr/bin/env python3
"""Project-based assignments, over the API and in headless Chromium.

Usage: training_assignments.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON as for training_supervision.py, with the trainees groupC1, groupC2, groupD1, groupD2. The teacher creates
a group assignment from a cohort; both groups submit; the teacher, the practice supervisor of a member and a peer of the
other group evaluate; the teacher releases; a member reads the final score, which this script computes itself from the
marks it entered. Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import atexit
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, locale_strings, sign_in, step
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select

base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
fixtures = json.load(open(fixtures_path, encoding="utf-8"))
P = fixtures["people"]
HOSP = fixtures["hospital"]
strings = locale_strings(locales_dir)
client = {who: Client(base, person[2]) for who, person in P.items()}
name = {who: person[0] for who, person in P.items()}
C1, C2, D1, D2 = name["groupC1"], name["groupC2"], name["groupD1"], name["groupD2"]
RUBRIC = [("protocol", "Scan protocol 扫描方案", 10), ("dose", "Dose 剂量", 5), ("report", "Report 报告", 5)]
WEIGHTS = {"teacher": 50, "supervisor": 30, "peer": 20}

step("the practice supervisor of C1 is named; a cohort holds the four trainees")
status, body = client["teacher"].call("PUT", f"/api/training/supervisors/{C1}", {
    "academicSupervisor": name["academic"], "practiceSupervisor": name["practice"], "partner": HOSP})
assert status == 200, body
status, cohort = client["teacher"].call("POST", "/api/training/cohorts", {"name": "CTPA class", "programme": "Imaging technology"})
assert status == 201, cohort
for trainee in (C1, C2, D1, D2):
    status, body = client["teacher"].call("POST", f"/api/training/cohorts/{cohort['id']}/members", {"trainee": trainee})
    assert status in (200, 201), body
assert client["groupC1"].call("POST", "/api/training/assignments", {})[0] == 403, "a student creates an assignment"

step("individual work from the cohort over the API: each member alone, evaluated by the next; a non-student is refused")
individual = {"title": "Positioning note", "description": "Write up one chest PA.", "mode": "individual", "cohort": cohort["id"],
              "rubric": [{"id": "a", "text": "Accuracy", "points": 5}], "weights": {"teacher": 80, "supervisor": 0, "peer": 20},
              "due": "2026-12-24"}
status, body = client["teacher"].call("POST", "/api/training/assignments", individual)
assert status == 201, body
members = [C1, C2, D1, D2]
assert [(u["number"], u["members"], u["peers"]) for u in body["units"]] == [
    (n + 1, [m], [sorted(members)[(n + 1) % 4]]) for n, m in enumerate(sorted(members))], body["units"]
bad = dict(individual, mode="group", cohort=None, units=[{"name": "X", "members": [C1, name["practice"]], "peers": [D1]}])
status, body = client["teacher"].call("POST", "/api/training/assignments", bad)
assert status == 400 and "is not a student" in json.dumps(body), (status, body)

driver, wait = browser()
atexit.register(driver.quit)

step("the teacher designs the task in the browser: rubric, two groups from the cohort, weights 50/30/20")
sign_in(driver, wait, base, P["teacher"][0], P["teacher"][1])
driver.get(base + "/training")
wait.until(lambda d: d.find_element(By.ID, "assignments-link")).click()
wait.until(lambda d: d.find_element(By.ID, "assignment-form"))
driver.find_element(By.ID, "assignment-title").send_keys("CT pulmonary angiography 肺动脉CTA")
driver.find_element(By.ID, "assignment-description").send_keys(
    "Protocol and perform a chest CT for a suspected pulmonary embolism; hand in the protocol and the dose report.")
driver.find_element(By.ID, "assignment-materials").send_keys("Guideline 指南 | https://example.org/ctpa-guideline")
driver.find_element(By.ID, "assignment-rubric").send_keys("\n".join(f"{i} | {t} | {p}" for i, t, p in RUBRIC))
Select(driver.find_element(By.ID, "assignment-mode")).select_by_value("group")
Select(driver.find_element(By.ID, "assignment-cohort")).select_by_value(str(cohort["id"]))
# Group C is evaluated by D1 (a peer of the other group), group D by C2.
driver.find_element(By.ID, "assignment-units").send_keys(f"Group C | {C1}, {C2} | {D1}\nGroup D | {D1}, {D2} | {C2}")
for kind, weight in WEIGHTS.items():
    field = driver.find_element(By.ID, f"weight-{kind}")
    field.clear()
    field.send_keys(str(weight))
driver.execute_script("document.getElementById('assignment-due').value = '2026-12-31'")
driver.find_element(By.ID, "assignment-save").click()
wait.until(lambda d: "/training/assignments/" in d.current_url and d.find_elements(By.ID, "rubric"))
assignment = int(driver.current_url.rstrip("/").split("/")[-1].split("?")[0])
assert driver.find_element(By.ID, "assignment-name").text == "CT pulmonary angiography 肺动脉CTA"
assert [r.get_attribute("data-criterion") for r in driver.find_elements(By.CSS_SELECTOR, "#rubric tbody tr")] == [r[0] for r in RUBRIC]
units = {e.get_attribute("data-unit"): e for e in driver.find_elements(By.CSS_SELECTOR, "section.unit")}
assert set(units) == {"1", "2"}, units.keys()
assert units["1"].find_element(By.CSS_SELECTOR, ".members").text == f"{C1}, {C2}"
status, body = client["teacher"].call("GET", f"/api/training/assignments/{assignment}")
assert status == 200 and body["weights"] == WEIGHTS and body["mode"] == "group", body
assert [u["peers"] for u in body["units"]] == [[D1], [C2]], body
driver.save_screenshot(os.path.join(shots, "assignment-teacher.png"))

step("both groups submit: group C in the browser, group D over the API")
driver.delete_all_cookies()
sign_in(driver, wait, base, P["groupC1"][0], P["groupC1"][1], language="zh-CN")
driver.get(base + f"/training/assignments/{assignment}")
mine = wait.until(lambda d: d.find_element(By.ID, "unit-1"))
assert strings["zh-CN"]["assignments.yours"] in mine.text
TEXT_C = "CTPA：100 kVp，肺动脉干团注追踪，阈值 100 HU。 Bolus tracking at the pulmonary trunk."
mine.find_element(By.CSS_SELECTOR, ".submit-text").send_keys(TEXT_C)
mine.find_element(By.CSS_SELECTOR, ".submit-button").click()
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#unit-1 .submission-text").text == TEXT_C)
TEXT_D = "CTPA at 80 kVp with a test bolus; dose report attached."
status, body = client["groupD2"].call("PUT", f"/api/training/assignments/{assignment}/units/2/submission", {"text": TEXT_D})
assert status == 200 and body["text"] == TEXT_D, body

step("nobody reads another group's work unless assigned to it: 404 for a student, 403 for a supervisor of none of them")
status, body = client["groupC1"].call("GET", f"/api/training/assignments/{assignment}/units/2")
assert status == 404, (status, body)
assert TEXT_D not in json.dumps(body)
assert client["groupD2"].call("GET", f"/api/training/assignments/{assignment}/units/1")[0] == 404
assert client["groupC1"].call("PUT", f"/api/training/assignments/{assignment}/units/2/submission", {"text": "x"})[0] == 404
assert client["otherSupervisor"].call("GET", f"/api/training/assignments/{assignment}/units/1")[0] in (403, 404)
# C2 is group D's assigned peer: it reads D's work, but never evaluates its own group.
status, body = client["groupC2"].call("GET", f"/api/training/assignments/{assignment}/units/2")
assert status == 200 and body["submission"]["text"] == TEXT_D and body["evaluateAs"] == "peer", body
marks_any = {i: 1 for i, _, _ in RUBRIC}
assert client["groupC2"].call("PUT", f"/api/training/assignments/{assignment}/units/1/evaluation", {"marks": marks_any})[0] in (403, 404)
assert client["groupD2"].call("PUT", f"/api/training/assignments/{assignment}/units/1/evaluation", {"marks": marks_any})[0] == 404
assert client["practice"].call("PUT", f"/api/training/assignments/{assignment}/units/2/evaluation", {"marks": marks_any})[0] in (403, 404)
# C1's page shows their own group only (C1 evaluates nobody).
assert [e.get_attribute("data-unit") for e in driver.find_elements(By.CSS_SELECTOR, "section.unit")] == ["1"]
assert TEXT_D not in driver.page_source
driver.save_screenshot(os.path.join(shots, "assignment-student-submitted.png"))

# The marks each evaluator enters (criterion order as RUBRIC).
MARKS = {
    ("teacher", 1): [8, 4, 4], ("practice", 1): [9, 5, 3], ("groupD1", 1): [7, 2, 3],
    ("teacher", 2): [6, 3, 5], ("groupC2", 2): [10, 4, 4],
}
KIND = {"teacher": "teacher", "practice": "supervisor", "groupD1": "peer", "groupC2": "peer"}


def evaluate_in_browser(who, unit):
    driver.delete_all_cookies()
    sign_in(driver, wait, base, P[who][0], P[who][1])
    driver.get(base + f"/training/assignments/{assignment}")
    wait.until(lambda d: d.find_elements(By.ID, f"unit-{unit}") or d.find_elements(By.CSS_SELECTOR, ".alert, .error"))
    sections = driver.find_elements(By.ID, f"unit-{unit}")
    assert sections, (who, driver.current_url, driver.find_element(By.TAG_NAME, "body").text[:800])
    form = sections[0].find_element(By.CSS_SELECTOR, ".evaluate-form")
    for (criterion, _, _), mark in zip(RUBRIC, MARKS[(who, unit)]):
        field = form.find_element(By.CSS_SELECTOR, f'.mark[data-criterion="{criterion}"]')
        field.clear()
        field.send_keys(str(mark))
    form.find_element(By.CSS_SELECTOR, ".evaluate-comment").send_keys(f"comment by {KIND[who]}")
    form.find_element(By.CSS_SELECTOR, ".evaluate-button").click()
    # The page comes back to the same address with the marks filled in: wait for the new page, then for the marks.
    wait.until(EC.staleness_of(form))
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#unit-{unit} .mark[data-criterion="protocol"]').get_attribute("value")
               == str(MARKS[(who, unit)][0]))
    assert not driver.find_elements(By.ID, "problem"), driver.find_element(By.ID, "problem").text


step("group C is evaluated in the browser by the teacher, C1's practice supervisor and D1, a peer of group D")
evaluate_in_browser("teacher", 1)
evaluate_in_browser("practice", 1)
assert [e.get_attribute("data-unit") for e in driver.find_elements(By.CSS_SELECTOR, "section.unit")] == ["1"], "the supervisor sees group D"
evaluate_in_browser("groupD1", 1)
driver.save_screenshot(os.path.join(shots, "assignment-peer.png"))
step("group D is evaluated over the API by the teacher and C2 (no supervisor of theirs is named)")
for who in ("teacher", "groupC2"):
    marks = dict(zip([r[0] for r in RUBRIC], MARKS[(who, 2)]))
    status, body = client[who].call("PUT", f"/api/training/assignments/{assignment}/units/2/evaluation", {"marks": marks, "comment": ""})
    assert status == 200 and body["kind"] == KIND[who], body
status, body = client["teacher"].call("PUT", f"/api/training/assignments/{assignment}/units/2/evaluation", {"marks": {"protocol": 11, "dose": 0, "report": 0}})
assert status == 400, (status, body)
# The refused marks changed nothing.
status, body = client["teacher"].call("GET", f"/api/training/assignments/{assignment}/units/2")
assert [e["marks"] for e in body["evaluations"] if e["kind"] == "teacher"] == [dict(zip([r[0] for r in RUBRIC], MARKS[("teacher", 2)]))], body


def expected(unit):
    """Σ weight × mean total per kind / Σ weight over the kinds that evaluated."""
    by_kind = {}
    for (who, u), marks in MARKS.items():
        if u == unit:
            by_kind.setdefault(KIND[who], []).append(sum(marks))
    means = {k: sum(v) / len(v) for k, v in by_kind.items()}
    weight = sum(WEIGHTS[k] for k in means)
    return sum(WEIGHTS[k] * m for k, m in means.items()) / weight


maximum = sum(p for _, _, p in RUBRIC)
step("before release a member sees no score; after the teacher releases, the page shows the score computed here")
status, body = client["groupC1"].call("GET", f"/api/training/assignments/{assignment}/units/1")
assert status == 200 and body.get("score") is None and body["evaluations"] == [], body
driver.delete_all_cookies()
sign_in(driver, wait, base, P["teacher"][0], P["teacher"][1])
driver.get(base + f"/training/assignments/{assignment}")
wait.until(lambda d: d.find_element(By.ID, "release")).click()
wait.until(lambda d: d.find_elements(By.ID, "released"))
assert client["groupC2"].call("PUT", f"/api/training/assignments/{assignment}/units/2/evaluation", {"marks": marks_any})[0] == 409
driver.delete_all_cookies()
sign_in(driver, wait, base, P["groupC2"][0], P["groupC2"][1])
driver.get(base + f"/training/assignments/{assignment}")
section = wait.until(lambda d: d.find_element(By.ID, "unit-1"))
shown = section.find_element(By.CSS_SELECTOR, ".final-score").text
assert shown == f"{expected(1):.2f}", (shown, expected(1))
assert section.find_element(By.CSS_SELECTOR, ".final-percent").text == f"{expected(1) / maximum * 100:.1f}"
means = {r.get_attribute("data-kind"): r.find_elements(By.TAG_NAME, "td")[3].text for r in section.find_elements(By.CSS_SELECTOR, ".score-table tbody tr")}
assert means["supervisor"] == "17" and means["peer"] == "12", means
# Group D's section (C2 is its peer) shows no score to C2.
assert not driver.find_elements(By.CSS_SELECTOR, "#unit-2 .final-score")
driver.execute_script("arguments[0].scrollIntoView()", section)
driver.save_screenshot(os.path.join(shots, "assignment-released.png"))
for who, unit in (("groupC1", 1), ("groupD1", 2)):
    status, body = client[who].call("GET", f"/api/training/assignments/{assignment}/units/{unit}")
    assert status == 200 and abs(body["score"]["final"] - expected(unit)) < 1e-9, (who, body)
    assert all("evaluator" not in e for e in body["evaluations"]), body
status, body = client["groupD1"].call("GET", f"/api/training/assignments/{assignment}/units/2")
assert body["score"]["pending"] == ["supervisor"], body
print("ok")
