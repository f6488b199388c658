#!/usr/bin/env python3
"""An exam's statistics, gradebook and Moodle import, checked against computations made here.

Usage: training_analysis.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON: {"people": {"teacher"|"grader"|"student0".."student9": [user, password, token]}}.
A teacher imports a Moodle XML file in headless Chromium; students answer over the JSON API with seeded answers; two
graders grade the report question. Every expected figure (each item's score, facility, discrimination index, Cronbach's
alpha, Cohen's kappa, the gradebook's totals) is computed here with numpy from the answers and the keys, never read from
Atrium. Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import atexit
import io
import json
import os
import random
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy
import openpyxl
from atrium_client import Client, browser, locale_strings, sign_in, step
from selenium.webdriver.common.by import By

base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
people = json.load(open(fixtures_path, encoding="utf-8"))["people"]
strings = locale_strings(locales_dir)
client = {who: Client(base, person[2]) for who, person in people.items()}
students = sorted(k for k in people if k.startswith("student"))

MOODLE = """<?xml version="1.0" encoding="UTF-8"?>
<quiz>
<question type="category"><category><text>$course$/top/胸部影像</text></category></question>
<question type="multichoice"><name><text>气胸</text></name>
 <questiontext format="html"><text><![CDATA[<p>气胸<b>最可靠</b>的征象是？</p>]]></text></questiontext>
 <defaultgrade>2</defaultgrade><single>true</single>
 <answer fraction="100" format="html"><text>脏层胸膜线</text><feedback><text>对</text></feedback></answer>
 <answer fraction="0" format="html"><text>肺纹理增多</text></answer>
 <answer fraction="0" format="html"><text>纵隔增宽</text></answer>
</question>
<question type="truefalse"><name><text>water</text></name>
 <questiontext format="plain_text"><text>Water is 0 HU on CT.</text></questiontext>
 <answer fraction="100"><text>true</text></answer><answer fraction="0"><text>false</text></answer>
</question>
<question type="multichoice"><name><text>pneumonia</text></name>
 <questiontext format="plain_text"><text>Which are signs of pneumonia?</text></questiontext><single>false</single>
 <answer fraction="50"><text>Consolidation</text></answer><answer fraction="50"><text>Air bronchogram</text></answer>
 <answer fraction="-100"><text>Kerley B lines</text></answer><answer fraction="-100"><text>A normal film</text></answer>
</question>
<question type="essay"><name><text>describe</text></name><questiontext format="plain_text"><text>Describe the film.</text></questiontext></question>
</quiz>
"""

step("a student may not read statistics or the gradebook, nor import questions")
assert client["student0"].call("GET", "/api/training/exams/1/analysis")[0] == 403
assert client["student0"].call("GET", "/api/training/exams/1/gradebook.xlsx", raw=True)[0] == 403
assert client["student0"].call("POST", "/api/training/questions/import/moodle", data=MOODLE.encode(), content_type="application/xml")[0] == 403

step("a file that is not a Moodle quiz is refused with the reason, and nothing enters the bank")
status, body = client["teacher"].call("POST", "/api/training/questions/import/moodle", data=b"<quiz><question>", content_type="application/xml")
assert status == 400 and "not well-formed" in json.dumps(body), (status, body)
status, body = client["teacher"].call("POST", "/api/training/questions/import/moodle", data=b"<html/>", content_type="application/xml")
assert status == 400 and "not a Moodle XML quiz" in json.dumps(body), (status, body)
assert client["teacher"].call("GET", "/api/training/questions")[1]["questions"] == []

driver, wait = browser()
atexit.register(driver.quit)
if True:
    step("the teacher imports the Moodle file on the bank page; the essay is listed as skipped with its reason")
    sign_in(driver, wait, base, people["teacher"][0], people["teacher"][1])
    driver.get(base + "/training/questions")
    with tempfile.NamedTemporaryFile("w", suffix=".xml", delete=False, encoding="utf-8") as f:
        f.write(MOODLE)
    wait.until(lambda d: d.find_element(By.ID, "moodle-file")).send_keys(f.name)
    driver.find_element(By.ID, "moodle-button").click()
    wait.until(lambda d: d.find_element(By.ID, "moodle-import").get_attribute("data-state") in ("done", "failed"))
    section = driver.find_element(By.ID, "moodle-import")
    assert section.get_attribute("data-state") == "done", section.text
    assert section.get_attribute("data-imported") == "3", section.text
    skipped = driver.find_elements(By.CSS_SELECTOR, "#moodle-skipped li")
    assert [s.get_attribute("data-position") for s in skipped] == ["5"], [s.text for s in skipped]
    assert "essay" in skipped[0].text, skipped[0].text
    assert strings["en"]["training.bank.moodleDone"] in section.text, section.text
    driver.save_screenshot(os.path.join(shots, "training-moodle-import.png"))

    step("the imported questions: HTML reduced to text, right answers by positive fraction, grade as points, category as tag")
    bank = {q["content"]["stem"]: q for q in client["teacher"].call("GET", "/api/training/questions")[1]["questions"]}
    assert set(bank) == {"气胸最可靠的征象是？", "Water is 0 HU on CT.", "Which are signs of pneumonia?"}, list(bank)
    q1 = bank["气胸最可靠的征象是？"]
    assert q1["content"]["kind"] == "single-choice" and q1["content"]["points"] == 2, q1
    assert [c["correct"] for c in q1["content"]["choices"]] == [True, False, False], q1
    assert q1["content"]["choices"][0]["feedback"] == "对" and "$course$/top/胸部影像" in q1["content"]["tags"], q1
    q2 = bank["Water is 0 HU on CT."]
    assert q2["content"]["kind"] == "single-choice" and [c["text"] for c in q2["content"]["choices"]] == ["true", "false"], q2
    q3 = bank["Which are signs of pneumonia?"]
    assert q3["content"]["kind"] == "multiple-choice", q3
    assert [c["correct"] for c in q3["content"]["choices"]] == [True, True, False, False], q3

step("a report question with a two-criterion rubric; an exam of the four questions for ten students")
status, q4 = client["teacher"].call("POST", "/api/training/questions", {
    "kind": "report", "stem": "Write the report of the film", "points": 0,
    "rubric": [{"id": "f", "text": "Findings", "points": 3}, {"id": "i", "text": "Impression", "points": 2}]})
assert status == 201, (status, q4)
questions = [q1, q2, q3, q4]
ids = [q["id"] for q in questions]
usernames = [people[s][0] for s in students]
status, exam = client["teacher"].call("POST", "/api/training/exams", {"settings": {
    "title": "Statistics exam", "forms": [ids], "shuffle": False, "students": usernames, "attemptsAllowed": 1}})
assert status == 201, (status, exam)
exam_id = exam["id"]

step("ten students answer with seeded choices; two of them hand in the same report")
rng = random.Random(18)
reports = [
    "The right lung shows a large consolidation with air bronchograms in the lower lobe, in keeping with lobar pneumonia; no effusion.",
    "Left pleural line visible at the apex with absent lung markings beyond it: a small left pneumothorax without shift.",
    "Heart size is normal. Both lungs are clear. No pleural effusion or pneumothorax is seen on this frontal film.",
    "Bilateral hilar enlargement with perihilar haze suggests pulmonary oedema; cardiomegaly is present as well.",
    "A rounded nodule of two centimetres projects over the right mid zone and needs a CT for characterisation.",
    "Multiple cavitating lesions in the upper zones raise the question of reactivated tuberculosis in this patient.",
    "Widened mediastinum after trauma; aortic injury must be excluded with contrast enhanced computed tomography.",
    "Diffuse reticular shadowing at both bases, worse peripherally, fits a fibrotic interstitial lung disease.",
    "Free gas under both hemidiaphragms on the erect film indicates a perforated viscus until proven otherwise.",
]
texts = [reports[0], reports[0].replace("; no effusion.", "; there is no effusion."), *reports[1:]]
answers = {}
attempts = {}
for n, student in enumerate(students):
    status, attempt = client[student].call("POST", f"/api/training/exams/{exam_id}/attempts")
    assert status == 201, (status, attempt)
    attempts[student] = attempt["id"]
    ability = n / (len(students) - 1)
    given = {
        ids[0]: {"choices": ["a" if rng.random() < 0.2 + 0.7 * ability else rng.choice(["b", "c"])]},
        ids[1]: {"choices": ["a" if rng.random() < 0.5 + 0.4 * ability else "b"]},
        ids[2]: {"choices": sorted(c for c in "abcd" if rng.random() < (0.3 + 0.6 * ability if c in "ab" else 0.5 - 0.4 * ability))},
        ids[3]: {"text": texts[n]},
    }
    answers[student] = given
    for sequence, (question, answer) in enumerate(given.items(), start=1):
        status, body = client[student].call("PUT", f"/api/training/attempts/{attempt['id']}/answers/{question}", {"answer": answer, "sequence": sequence})
        assert status == 200, (status, body)
    assert client[student].call("POST", f"/api/training/attempts/{attempt['id']}/submit")[0] == 200

step("two graders grade every report; the second mostly agrees")
awards = {}
for grader in ["teacher", "grader"]:
    for n, student in enumerate(students):
        if grader == "teacher":
            a = {"f": float(rng.randint(0, 3)), "i": float(rng.randint(0, 2))}
        else:
            first = awards[("teacher", student)]
            a = dict(first) if rng.random() < 0.7 else {"f": float(rng.randint(0, 3)), "i": float(rng.randint(0, 2))}
        awards[(grader, student)] = a
        status, body = client[grader].call("PUT", f"/api/training/attempts/{attempts[student]}/grades/{ids[3]}", {"awards": a, "comment": ""})
        assert status == 200, (status, body)

step("every item's score, computed here from the keys and answers")
maxima = [2.0, 1.0, 1.0, 5.0]


def item_score(i, student):
    content = questions[i]["content"]
    answer = answers[student][ids[i]]
    if content["kind"] == "single-choice":
        key = [c["id"] for c in content["choices"] if c["correct"]]
        return maxima[i] if answer["choices"] == key else 0.0
    if content["kind"] == "multiple-choice":
        right = {c["id"] for c in content["choices"] if c["correct"]}
        chosen = set(answer["choices"])
        return maxima[i] * max(0.0, (len(chosen & right) - len(chosen - right)) / len(right))
    sums = [sum(awards[(g, student)].values()) for g in ["teacher", "grader"]]
    return maxima[i] * (sum(sums) / 2) / 5.0


X = numpy.array([[item_score(i, s) for i in range(4)] for s in students])
totals = X.sum(axis=1)

step("the analysis over the API equals numpy's: facility, SD, discrimination index, Cronbach's alpha")
status, analysis = client["teacher"].call("GET", f"/api/training/exams/{exam_id}/analysis")
assert status == 200, (status, analysis)
assert analysis["attempts"] == 10 and len(analysis["forms"]) == 1, analysis
report = analysis["forms"][0]["report"]
assert report["studentCount"] == 10, report
for i, item in enumerate(report["items"]):
    assert item["id"] == str(ids[i]), (item["id"], ids[i])
    x = X[:, i]
    rest = totals - x
    facility = x.mean() / maxima[i]
    assert abs(item["facility"] - facility) < 1e-9, (i, item["facility"], facility)
    assert abs(item["standardDeviation"] - x.std(ddof=1) / maxima[i]) < 1e-9, (i, item["standardDeviation"])
    if x.std() > 0 and rest.std() > 0:
        r = numpy.corrcoef(x, rest)[0, 1]
        assert abs(item["discriminationIndex"] - r) < 1e-9, (i, item["discriminationIndex"], r)
alpha = 4 / 3 * (1 - X.var(axis=0, ddof=1).sum() / totals.var(ddof=1))
assert abs(report["cronbachAlpha"] - alpha) < 1e-9, (report["cronbachAlpha"], alpha)
counts = {o["option"]: o["total"] for o in report["items"][0]["options"]}
for option in "abc":
    assert counts[option] == sum(1 for s in students if answers[s][ids[0]]["choices"] == [option]), (option, counts)

step("Cohen's kappa between the two graders over every criterion, computed here (symmetric in the two)")
first = [int(round(awards[("teacher", s)][c] * 100)) for s in students for c in "fi"]
second = [int(round(awards[("grader", s)][c] * 100)) for s in students for c in "fi"]
levels = sorted(set(first) | set(second))
n = len(first)
observed = sum(1 for a, b in zip(first, second) if a == b) / n
expected = sum((first.count(level) / n) * (second.count(level) / n) for level in levels)
kappa = (observed - expected) / (1 - expected)
agreement = analysis["agreement"]
assert len(agreement) == 1 and agreement[0]["question"] == ids[3] and agreement[0]["attempts"] == 10, agreement
assert [agreement[0]["firstGrader"], agreement[0]["secondGrader"]] == sorted([people["teacher"][0], people["grader"][0]]), agreement
assert abs(agreement[0]["kappa"] - kappa) < 1e-9, (agreement[0]["kappa"], kappa)

step("the two copied reports, and only they, are flagged as alike")
pairs = [{a["firstAttempt"], a["secondAttempt"]} for a in analysis["similar"]]
assert pairs == [{attempts[students[0]], attempts[students[1]]}], (pairs, attempts)

step("the gradebook in XLSX (openpyxl) and CSV holds every attempt's total and item scores as computed here")
status, data = client["teacher"].call("GET", f"/api/training/exams/{exam_id}/gradebook.xlsx", raw=True)
assert status == 200, status
sheet = openpyxl.load_workbook(io.BytesIO(data)).active
rows = list(sheet.iter_rows(values_only=True))
header = list(rows[0])
assert header[:9] == ["student", "attempt", "form", "started", "submitted", "score", "maximum", "percent", "complete"], header
assert header[9:] == [f"Q{i}" for i in ids], header
by_student = {row[0]: row for row in rows[1:]}
assert set(by_student) == set(usernames), by_student.keys()
for k, student in enumerate(students):
    row = by_student[people[student][0]]
    assert abs(row[5] - totals[k]) < 1e-9 and row[6] == 9, (student, row, totals[k])
    for i in range(4):
        assert abs(row[9 + i] - X[k, i]) < 1e-9, (student, i, row[9 + i], X[k, i])
status, data = client["teacher"].call("GET", f"/api/training/exams/{exam_id}/gradebook.csv", raw=True)
assert status == 200 and data.decode("utf-8-sig").splitlines()[0].startswith("student,attempt,form"), data[:80]

if True:
    step("the statistics page shows the same facility as computed here, the kappa and the flagged pair")
    driver.get(base + f"/training/exams/{exam_id}/grade")
    wait.until(lambda d: d.find_element(By.ID, "analysis-link")).click()
    wait.until(lambda d: d.find_element(By.ID, "analysis"))
    for i in range(4):
        cell = driver.find_element(By.CSS_SELECTOR, f'tr[data-question="{ids[i]}"] .facility').text
        assert cell == f"{X[:, i].mean() / maxima[i] * 100:.1f}", (i, cell)
    assert driver.find_element(By.CSS_SELECTOR, "#agreement .kappa").text == f"{kappa:.2f}"
    assert len(driver.find_elements(By.CSS_SELECTOR, "#similar .similar-pair")) == 1
    assert strings["en"]["training.analysis.title"] in driver.find_element(By.TAG_NAME, "h1").text
    driver.save_screenshot(os.path.join(shots, "training-analysis.png"))
print("ok")
