#!/usr/bin/env python3
"""Supervision of training across partners, over the API and in headless Chromium.

Usage: training_supervision.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON WORK_DIR

FIXTURES_JSON: {"people": {key: [user, password, token]}, "college", "hospital", "other": institution codes}. Every
expected count and percentage is worked out here from what the script itself did, and the cohort workbook is read
with openpyxl. Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import atexit
import csv
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, locale_strings, sign_in, step
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

base, locales_dir, shots, fixtures_path, workdir = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
fixtures = json.load(open(fixtures_path, encoding="utf-8"))
P = fixtures["people"]
HOSP, OTHER, COLLEGE = fixtures["hospital"], fixtures["other"], fixtures["college"]
strings = locale_strings(locales_dir)
client = {who: Client(base, person[2]) for who, person in P.items()}
name = {who: person[0] for who, person in P.items()}
A, B = name["traineeA"], name["traineeB"]
PROGRAMME = "Imaging technology"

# What the script does, counted as it goes (the expected values below come from these, not from Atrium).
done = {A: {"placements": 0, "procedures": 0, "pending": 0, "returned": 0, "competencies": 0, "CT": 0, "chest": 0},
        B: {"placements": 0, "procedures": 0, "pending": 0, "returned": 0, "competencies": 0, "CT": 0, "chest": 0}}
inspections_at = {}

step("who may do what over the API: a trainee names no supervisor; a practice supervisor belongs to the partner named")
answer = client["traineeA"].call("PUT", f"/api/training/supervisors/{A}", {"practiceSupervisor": name["practice"], "partner": HOSP})
assert answer[0] == 403, answer
status, body = client["teacher"].call("PUT", f"/api/training/supervisors/{A}", {
    "academicSupervisor": name["academic"], "practiceSupervisor": name["otherSupervisor"], "partner": HOSP})
assert status == 400 and "is not a supervisor of" in json.dumps(body), (status, body)
status, body = client["teacher"].call("PUT", f"/api/training/supervisors/{B}", {
    "academicSupervisor": name["academic"], "practiceSupervisor": name["practice"], "partner": HOSP})
assert status == 200 and body["practiceSupervisor"] == name["practice"], body
status, body = client["teacher"].call("PUT", "/api/training/competencies", {"competencies": [
    {"id": "pos", "name": "Positioning 摆位", "levels": 4}, {"id": "safe", "name": "Radiation safety 辐射防护", "levels": 3}]})
assert status == 200 and [c["id"] for c in body["competencies"]] == ["pos", "safe"], body
assert client["traineeA"].call("PUT", "/api/training/competencies", {"competencies": []})[0] == 403

step("an exam both trainees sit, for the cohort's gradebook: A answers both questions right, B only the first")
questions = []
for points in (2, 3):
    status, q = client["teacher"].call("POST", "/api/training/questions", {
        "kind": "single-choice", "stem": f"Question worth {points}", "points": points,
        "choices": [{"id": "a", "text": "right", "correct": True}, {"id": "b", "text": "wrong", "correct": False}]})
    assert status == 201, q
    questions.append((q["id"], points))
status, exam = client["teacher"].call("POST", "/api/training/exams", {"settings": {
    "title": "Cohort quiz", "forms": [[q for q, _ in questions]], "timeLimitSeconds": 600, "shuffle": False, "students": []}})
assert status == 201, exam
percent = {}
for who, answers in ((A, ["a", "a"]), (B, ["a", "b"])):
    c = client["traineeA" if who == A else "traineeB"]
    status, attempt = c.call("POST", f"/api/training/exams/{exam['id']}/attempts")
    assert status in (200, 201), attempt
    for n, ((qid, _), choice) in enumerate(zip(questions, answers)):
        status, saved = c.call("PUT", f"/api/training/attempts/{attempt['id']}/answers/{qid}", {"answer": {"choices": [choice]}, "sequence": n + 1})
        assert status == 200 and saved["stored"], saved
    assert c.call("POST", f"/api/training/attempts/{attempt['id']}/submit")[0] == 200
    got = sum(points for (_, points), choice in zip(questions, answers) if choice == "a")
    percent[who] = round(got / sum(p for _, p in questions) * 100, 2)

driver, wait = browser()
atexit.register(driver.quit)

step("the teacher names A's supervisors, sets the programme's targets, creates a cohort and enrols both trainees")
sign_in(driver, wait, base, P["teacher"][0], P["teacher"][1])
driver.get(base + "/training")
wait.until(lambda d: d.find_element(By.ID, "supervision-link")).click()
wait.until(lambda d: d.find_element(By.ID, "assign-trainee")).send_keys(A)
driver.find_element(By.ID, "assign-academic").send_keys(name["academic"])
driver.find_element(By.ID, "assign-practice").send_keys(name["practice"])
driver.find_element(By.ID, "assign-partner").send_keys(HOSP)
driver.find_element(By.ID, "assign-save").click()
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#supervised-trainees tr[data-trainee="{A}"]'))
driver.find_element(By.ID, "targets-programme").send_keys(PROGRAMME)
driver.find_element(By.ID, "target-lines").send_keys("modality | CT | 2\nregion | chest | 3")
driver.find_element(By.ID, "targets-save").click()
# The page stays the same after the redirect, so wait for the stored targets rather than for an element.
wait.until(lambda d: client["teacher"].call("GET", "/api/training/targets?programme=" + PROGRAMME.replace(" ", "%20"))[1].get("targets"))
wait.until(lambda d: d.find_element(By.ID, "assign-form"))
status, body = client["teacher"].call("GET", "/api/training/targets?programme=" + PROGRAMME.replace(" ", "%20"))
assert status == 200 and [(t["dimension"], t["value"], t["count"]) for t in body["targets"]] == [("modality", "CT", 2), ("region", "chest", 3)], body
driver.find_element(By.ID, "cohorts-link").click()
wait.until(lambda d: d.find_element(By.ID, "cohort-name")).send_keys("Class of 2026 影像技术")
driver.find_element(By.ID, "cohort-programme").send_keys(PROGRAMME)
driver.find_element(By.ID, "cohort-save").click()
wait.until(lambda d: d.find_element(By.ID, "enrol-trainee")).send_keys(f"{A} {B}")
cohort = int(driver.find_element(By.ID, "cohort").get_attribute("data-cohort"))
driver.find_element(By.ID, "enrol-save").click()
wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#members li[data-member]")) == 2)
assert client["traineeA"].call("POST", f"/api/training/cohorts/{cohort}/members", {"trainee": B})[0] == 403
driver.delete_all_cookies()

step("trainee A (Chinese interface) sees their supervisors and 0 of 2 CT procedures, then logs a placement and a CT procedure")
sign_in(driver, wait, base, P["traineeA"][0], P["traineeA"][1], language="zh-CN")
driver.get(base + "/training/supervision")
assert wait.until(lambda d: d.find_element(By.ID, "practice-supervisor")).text == name["practice"]
assert driver.find_element(By.ID, "academic-supervisor").text == name["academic"]
ct_row = '#target-progress tr[data-dimension="modality"][data-value="CT"]'
assert driver.find_element(By.CSS_SELECTOR, ct_row).get_attribute("data-done") == "0"
driver.find_element(By.ID, "placement-partner").send_keys(HOSP)
driver.find_element(By.ID, "placement-department").send_keys("放射科 Radiology")
driver.find_element(By.ID, "placement-from").send_keys("2026-09-01")
driver.find_element(By.ID, "placement-to").send_keys("2026-10-31")
driver.find_element(By.ID, "placement-save").click()
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#entries tr[data-kind="placement"]'))
done[A]["pending"] += 1
driver.find_element(By.ID, "procedure-date").send_keys("2026-09-02")
driver.find_element(By.ID, "procedure-modality").send_keys("CT")
driver.find_element(By.ID, "procedure-region").send_keys("chest")
Select(driver.find_element(By.ID, "procedure-role")).select_by_value("performed")
Select(driver.find_element(By.ID, "procedure-placement")).select_by_index(1)
driver.find_element(By.ID, "procedure-description").send_keys("胸部CT平扫 plain chest CT")
driver.find_element(By.ID, "procedure-save").click()
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#entries tr[data-kind="procedure"]'))
done[A]["pending"] += 1
row = driver.find_element(By.CSS_SELECTOR, '#entries tr[data-kind="procedure"]')
assert strings["zh-CN"]["supervision.state.pending"] in row.text, row.text
driver.save_screenshot(os.path.join(shots, "training-supervision-trainee.png"))
status, body = client["traineeA"].call("GET", "/api/training/entries")
assert status == 200, body
placement_id = next(e["id"] for e in body["entries"] if e["submission"]["kind"] == "placement")
ct_id = next(e["id"] for e in body["entries"] if e["submission"]["kind"] == "procedure")
assert [e["submission"].get("placement") for e in body["entries"] if e["id"] == ct_id] == [placement_id], body
status, second = client["traineeA"].call("POST", "/api/training/entries", {
    "kind": "procedure", "date": "2026-09-03", "modality": "CT", "bodyRegion": "chest", "role": "observed", "description": "CTA"})
assert status == 201 and second["state"] == "pending", second
done[A]["pending"] += 1
status, body = client["traineeA"].call("POST", "/api/training/entries", {
    "kind": "placement", "partner": COLLEGE, "department": "x", "date": "2026-09-01", "endDate": "2026-09-02"})
assert status == 400 and "not a partner hospital" in json.dumps(body), (status, body)
driver.delete_all_cookies()

step("nobody else reads or countersigns A's entries: trainee B gets 404, other supervisors and the teacher 403")
for path in [f"/api/training/entries?trainee={A}", f"/api/training/progress?trainee={A}", f"/api/training/trainees/{A}/competencies"]:
    assert client["traineeB"].call("GET", path)[0] == 404, path
assert client["traineeB"].call("POST", f"/api/training/entries/{ct_id}/countersign", {})[0] == 404
for who in ["otherSupervisor", "academic", "teacher", "office"]:
    answer = client[who].call("POST", f"/api/training/entries/{ct_id}/countersign", {})
    assert answer[0] == 403, (who, answer)
assert client["academic"].call("GET", f"/api/training/entries?trainee={A}")[0] == 200
assert client["otherSupervisor"].call("GET", f"/api/training/entries?trainee={A}")[0] == 403

step("the practice supervisor countersigns the placement and the CT procedure and returns the second with a comment")
sign_in(driver, wait, base, P["practice"][0], P["practice"][1])
driver.get(base + "/training/supervision")
row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#supervised-trainees tr[data-trainee="{A}"]'))
assert row.find_element(By.CSS_SELECTOR, "td.num").text == str(done[A]["pending"]), row.text
row.find_element(By.CSS_SELECTOR, "a").click()
for entry, kind in ((placement_id, "placements"), (ct_id, "procedures")):
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{entry}"] button.countersign')).click()
    wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{entry}"]').get_attribute("data-state") == "countersigned")
    done[A][kind] += 1
    done[A]["pending"] -= 1
done[A]["CT"] += 1
done[A]["chest"] += 1
driver.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{second["id"]}"] input.review-comment').send_keys("写明扫描方案 Name the protocol")
driver.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{second["id"]}"] button.return').click()
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{second["id"]}"]').get_attribute("data-state") == "returned")
done[A]["returned"] += 1
done[A]["pending"] -= 1
assert "Name the protocol" in driver.find_element(By.CSS_SELECTOR, f'#entries tr[data-entry="{second["id"]}"] .entry-comment').text

step("the count moved against its target: CT 1 of 2, chest 1 of 3, the returned entry not counted")
assert driver.find_element(By.ID, "count-procedures").text == str(done[A]["procedures"])
assert driver.find_element(By.CSS_SELECTOR, ct_row).get_attribute("data-done") == str(done[A]["CT"])
assert driver.find_element(By.CSS_SELECTOR, ct_row + " .progress-count").text == f"{done[A]['CT']} / 2"
status, progress = client["traineeA"].call("GET", "/api/training/progress")
assert status == 200 and progress["programme"] == PROGRAMME and progress["procedures"] == done[A]["procedures"], progress
assert [(t["value"], t["done"], t["met"]) for t in progress["targets"]] == [("CT", done[A]["CT"], done[A]["CT"] >= 2), ("chest", done[A]["chest"], False)], progress
assert client["practice"].call("POST", f"/api/training/entries/{second['id']}/countersign", {})[0] == 409

step("the practice supervisor signs off A's positioning at level 3; level 9 is refused")
Select(driver.find_element(By.ID, "signoff-competency")).select_by_value("pos")
driver.find_element(By.ID, "signoff-level").send_keys("3")
driver.find_element(By.ID, "signoff-note").send_keys("独立完成胸部摆位")
driver.find_element(By.ID, "signoff-save").click()
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr[data-competency="pos"] .competency-level').text == "3 / 4")
done[A]["competencies"] += 1
driver.find_element(By.ID, "signoff-level").send_keys("9")
driver.find_element(By.ID, "signoff-save").click()
assert "levels 1 to 4" in wait.until(lambda d: d.find_element(By.ID, "problem")).text
driver.save_screenshot(os.path.join(shots, "training-supervision-countersigned.png"))
status, body = client["traineeA"].call("GET", f"/api/training/trainees/{A}/competencies")
assert status == 200 and [(s["competency"], s["level"], s["signedBy"]) for s in body["signOffs"]] == [("pos", 3, name["practice"])], body
assert client["otherSupervisor"].call("POST", f"/api/training/trainees/{A}/competencies", {"competency": "pos", "level": 1})[0] == 403
driver.delete_all_cookies()

step("the programme office records an unannounced inspection of the placement, a follow-up action, closes and publishes it")
assert client["academic"].call("POST", "/api/training/inspections", {
    "institution": HOSP, "subjectKind": "course", "subject": "x", "unannounced": False, "date": "2026-09-15", "findings": ""})[0] == 403
sign_in(driver, wait, base, P["office"][0], P["office"][1])
driver.get(base + "/training/inspections")
Select(wait.until(lambda d: d.find_element(By.ID, "inspection-institution"))).select_by_value(HOSP)
Select(driver.find_element(By.ID, "inspection-kind")).select_by_value("placement")
driver.find_element(By.ID, "inspection-subject").send_keys("Radiology rotation 放射科轮转")
driver.find_element(By.ID, "inspection-party").send_keys(name["practice"])
driver.find_element(By.ID, "inspection-date").send_keys("2026-09-15")
driver.find_element(By.ID, "inspection-unannounced").click()
driver.find_element(By.ID, "inspection-findings").send_keys("Radiation-safety briefing not recorded.")
driver.find_element(By.ID, "inspection-save").click()
inspection = int(wait.until(lambda d: d.find_element(By.ID, "inspection")).get_attribute("data-inspection"))
inspections_at[HOSP] = inspections_at.get(HOSP, 0) + 1
assert driver.find_element(By.ID, "unannounced")
driver.find_element(By.ID, "action-text").send_keys("Record the briefing")
driver.find_element(By.ID, "action-owner").send_keys(name["practice"])
driver.find_element(By.ID, "action-due").send_keys("2026-10-15")
driver.find_element(By.ID, "action-save").click()
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#inspection-actions tbody tr"))
assert client["partTime"].call("GET", f"/api/training/inspections/{inspection}")[0] == 404, "read before publishing"
assert client["partTime"].call("GET", "/api/training/inspections")[1]["inspections"] == []
driver.find_element(By.ID, "close-note").send_keys("Briefing recorded on 2026-10-10.")
driver.find_element(By.ID, "close-save").click()
assert "2026-10-10" in wait.until(lambda d: d.find_element(By.ID, "closed-note")).text
driver.find_element(By.ID, "publish-save").click()
wait.until(lambda d: d.find_element(By.ID, "published-at"))
driver.save_screenshot(os.path.join(shots, "training-inspection.png"))

step("published: the inspected hospital's people read it, a trainee of the college does not; a partner's supervisor records one too")
status, body = client["partTime"].call("GET", f"/api/training/inspections/{inspection}")
assert status == 200 and body["unannounced"] and body["closingNote"].startswith("Briefing") and [a["owner"] for a in body["actions"]] == [name["practice"]], body
assert client["traineeB"].call("GET", f"/api/training/inspections/{inspection}")[0] == 404
assert client["partTime"].call("POST", f"/api/training/inspections/{inspection}/publish")[0] == 403
status, body = client["otherSupervisor"].call("POST", "/api/training/inspections", {
    "institution": HOSP, "subjectKind": "project", "subject": "Dose audit", "unannounced": False, "date": "2026-10-01", "findings": "on track"})
assert status == 201, body
inspections_at[HOSP] += 1

step("partner counts: inspections, trainees hosted (a countersigned placement), part-time teachers")
status, body = client["teacher"].call("GET", "/api/training/partners")
assert status == 200, body
rows = {r["institution"]: r for r in body["partners"]}
assert COLLEGE not in rows, rows
hosted = {HOSP: {who for who in done if done[who]["placements"] > 0}}
assert (rows[HOSP]["inspections"], rows[HOSP]["traineesHosted"], rows[HOSP]["partTimeTeachers"]) == (inspections_at[HOSP], len(hosted[HOSP]), 1), rows[HOSP]
assert (rows[OTHER]["inspections"], rows[OTHER]["traineesHosted"], rows[OTHER]["partTimeTeachers"]) == (0, 0, 0), rows[OTHER]
driver.delete_all_cookies()

step("the cohort page and its XLSX (openpyxl) and CSV hold the gradebook and logbook computed here")
sign_in(driver, wait, base, P["teacher"][0], P["teacher"][1])
driver.get(base + f"/training/cohorts/{cohort}")
cells = [td.text for td in wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#cohort-logbook tr[data-trainee="{A}"] td'))]
assert cells[:3] == [A, str(done[A]["placements"]), str(done[A]["procedures"])], cells
driver.save_screenshot(os.path.join(shots, "training-cohort.png"))
status, data = client["teacher"].call("GET", f"/api/training/cohorts/{cohort}/export.xlsx", raw=True)
assert status == 200, status
path = os.path.join(workdir, "cohort.xlsx")
open(path, "wb").write(data)
import openpyxl
book = openpyxl.load_workbook(path)
assert book.sheetnames == ["Gradebook", "Logbook"], book.sheetnames
grades = [list(r) for r in book["Gradebook"].iter_rows(values_only=True)]
members = sorted([A, B])
assert grades[0] == ["trainee", f"{exam['id']} Cohort quiz", "mean %"], grades[0]
assert grades[1:] == [[m, percent[m], percent[m]] for m in members], grades
log = [list(r) for r in book["Logbook"].iter_rows(values_only=True)]
assert log[0] == ["trainee", "placements", "procedures", "pending", "returned", "competencies", "modality CT (/2)", "region chest (/3)"], log[0]
expected = [[m] + [done[m][k] for k in ["placements", "procedures", "pending", "returned", "competencies", "CT", "chest"]] for m in members]
assert log[1:] == expected, (log, expected)
status, data = client["teacher"].call("GET", f"/api/training/cohorts/{cohort}/gradebook.csv", raw=True)
table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
assert [[r[0]] + [float(x) for x in r[1:]] for r in table[1:]] == [[m, percent[m], percent[m]] for m in members], table
assert client["traineeA"].call("GET", f"/api/training/cohorts/{cohort}/export.xlsx", raw=True)[0] == 403

step("a master's proposal: planned by the teacher, submitted by A, scored by two reviewers, approved by both named supervisors")
reviewers = [name["otherSupervisor"], name["teacher"]]
milestone = f"/api/training/trainees/{A}/milestones/proposal"
assert client["traineeA"].call("PUT", milestone, {"due": "2026-11-01", "reviewers": reviewers})[0] == 403
status, body = client["teacher"].call("PUT", milestone, {"due": "2026-11-01", "reviewers": reviewers})
assert status == 200 and body["status"] == "planned", body
assert client["traineeB"].call("GET", f"/api/training/trainees/{A}/milestones")[0] == 404
status, body = client["traineeA"].call("POST", milestone + "/submit", {"documents": [{"title": "开题报告 Proposal", "reference": "proposal.pdf"}]})
assert status == 200 and body["status"] == "submitted", body
scores = {"otherSupervisor": 80, "teacher": 91}
for who, score in scores.items():
    status, body = client[who].call("POST", milestone + "/scores", {"score": score, "comment": "ok"})
    assert status == 200, (who, body)
assert client["practice"].call("POST", milestone + "/scores", {"score": 10})[0] == 403, "a supervisor who is no reviewer scores"
assert client["otherSupervisor"].call("POST", milestone + "/approve", {})[0] == 403
status, body = client["academic"].call("POST", milestone + "/approve", {})
assert status == 200 and body["status"] == "submitted" and body["approvals"] == [name["academic"]], body
status, body = client["practice"].call("POST", milestone + "/approve", {"comment": "go ahead"})
assert status == 200 and body["status"] == "approved", body

step("the project register: points per project count for the trainee and the supervisor, shown on A's page")
projects = [("Dose audit", 0.5, [A, B], name["academic"]), ("Protocol study", 2, [A], name["practice"])]
assert client["traineeA"].call("POST", "/api/training/projects", {"title": "x", "points": 1, "trainees": [A], "supervisor": name["academic"], "year": 2026})[0] == 403
for title, points, trainees, supervisor in projects:
    status, body = client["academic"].call("POST", "/api/training/projects", {"title": title, "points": points, "trainees": trainees, "supervisor": supervisor, "year": 2026})
    assert status == 201, body
points_a = sum(p for _, p, t, _ in projects if A in t)
status, body = client["traineeB"].call("GET", "/api/training/projects")
assert status == 200 and [p["title"] for p in body["projects"]] == ["Dose audit"], body
status, body = client["teacher"].call("GET", "/api/training/projects")
assert body["supervisors"] == {s: sum(p for _, p, _, sv in projects if sv == s) for _, _, _, s in projects}, body
driver.delete_all_cookies()
sign_in(driver, wait, base, P["traineeA"][0], P["traineeA"][1], language="zh-CN")
driver.get(base + "/training/supervision")
row = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#milestones tr[data-stage="proposal"]'))
assert row.get_attribute("data-status") == "approved", row.get_attribute("outerHTML")
assert row.find_element(By.CSS_SELECTOR, ".milestone-score").text == f"{sum(scores.values()) / len(scores):.1f}"
assert strings["zh-CN"]["supervision.plan.stage.proposal"] in row.text
assert float(driver.find_element(By.ID, "project-points").text) == points_a
driver.save_screenshot(os.path.join(shots, "training-plan.png"))
assert not driver.find_elements(By.ID, "milestone-plan-form"), "a trainee plans their own milestones"
assert not driver.find_elements(By.ID, "project-form"), "a trainee registers projects"

step("the training plan's forms: the academic supervisor plans the mid-term review, A submits, the teacher scores, both supervisors approve")
plan_url = base + "/training/supervision?trainee=" + A


def open_plan(who, language="en"):
    driver.delete_all_cookies()
    sign_in(driver, wait, base, P[who][0], P[who][1], language=language)
    driver.get(plan_url if who != "traineeA" else base + "/training/supervision")
    return wait.until(lambda d: d.find_element(By.ID, "training-plan"))


def mid_term_status():
    return driver.find_element(By.CSS_SELECTOR, '#milestones tr[data-stage="mid-term"]:not(.milestone-actions)').get_attribute("data-status")


open_plan("academic")
Select(driver.find_element(By.ID, "plan-stage")).select_by_value("mid-term")
driver.execute_script("document.getElementById('plan-due').value = '2027-03-01'")
driver.find_element(By.ID, "plan-reviewers").send_keys(name["teacher"])
driver.find_element(By.ID, "plan-save").click()
wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, '#milestones tr[data-stage="mid-term"][data-status="planned"]'))
open_plan("traineeA", language="zh-CN")
assert [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#submit-stage option")] == ["mid-term"]
driver.find_element(By.ID, "submit-documents").send_keys("中期报告 Mid-term report | midterm.pdf\n数据表 Data sheet | https://example.org/data")
driver.find_element(By.ID, "submit-milestone").click()
wait.until(lambda d: mid_term_status() == "submitted")
open_plan("teacher")
actions = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr.milestone-actions[data-stage="mid-term"] .milestone-score-form'))
actions.find_element(By.CSS_SELECTOR, ".milestone-score-value").send_keys("88.5")
actions.find_element(By.CSS_SELECTOR, ".milestone-score-save").click()
wait.until(lambda d: d.find_element(By.CSS_SELECTOR, '#milestones tr[data-stage="mid-term"] .milestone-score').text == "88.5")
assert not driver.find_elements(By.CSS_SELECTOR, ".milestone-decide-form"), "the teacher, no named supervisor, approves"
for who in ("academic", "practice"):
    open_plan(who)
    form = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, 'tr.milestone-actions[data-stage="mid-term"] .milestone-decide-form'))
    form.find_element(By.CSS_SELECTOR, ".milestone-decide-comment").send_keys("ok")
    form.find_element(By.CSS_SELECTOR, ".milestone-approve").click()
    wait.until(lambda d: not d.find_elements(By.CSS_SELECTOR, 'tr.milestone-actions[data-stage="mid-term"] .milestone-decide-form'))
assert mid_term_status() == "approved"
status, body = client["teacher"].call("GET", f"/api/training/trainees/{A}/milestones")
mid = next(m for m in body["milestones"] if m["stage"] == "mid-term")
assert mid["status"] == "approved" and sorted(mid["approvals"]) == sorted([name["academic"], name["practice"]]), mid
assert mid["due"] == "2027-03-01" and mid["reviewers"] == [name["teacher"]] and [s["score"] for s in mid["scores"]] == [88.5], mid
assert mid["documents"] == [{"title": "中期报告 Mid-term report", "reference": "midterm.pdf"},
                            {"title": "数据表 Data sheet", "reference": "https://example.org/data"}], mid

step("the project register's form: the practice supervisor registers a small project of A's, which adds its points")
driver.get(plan_url)  # still signed in as the practice supervisor
wait.until(lambda d: d.find_element(By.ID, "project-form"))
driver.find_element(By.ID, "project-title").send_keys("Contrast timing note 对比剂时相小结")
driver.find_element(By.ID, "project-points-input").send_keys("0.25")
driver.find_element(By.ID, "project-supervisor").send_keys(name["practice"])
driver.find_element(By.ID, "project-save").click()
wait.until(lambda d: float(d.find_element(By.ID, "project-points").text) == points_a + 0.25)
status, body = client["teacher"].call("GET", "/api/training/projects?trainee=" + A)
registered = next(p for p in body["projects"] if p["title"] == "Contrast timing note 对比剂时相小结")
assert registered["trainees"] == [A] and registered["points"] == 0.25 and registered["supervisor"] == name["practice"], registered
assert registered["registeredBy"] == name["practice"], registered
driver.execute_script("arguments[0].scrollIntoView()", driver.find_element(By.ID, "training-plan"))
driver.save_screenshot(os.path.join(shots, "training-plan-forms.png"))
print("ok")
