#!/usr/bin/env python3
"""Exams in headless Chromium (selenium) and over the JSON API (urllib): a teacher, a second grader, two students and
a supervisor.

Usage: training_browser.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON: {"people": {"teacher": [user, password, token], "grader": …, "studentA": …, "studentB": …,
"supervisor": …}, "case": published case id, "caseTitle", "study", "series"} (a three-slice series on the case).

Steps: the teacher imports six questions in the bank's JSON format (hotspot on slices 2–3, multiple choice, report with
a rubric, image quality, matching, ordering), writes a single-choice question on the library case in the page, and
builds an exam of all seven; each student's question order is checked against a SplitMix64/FNV-1a Fisher–Yates shuffle
written here; student A answers two questions, its browser is killed, and a new browser resumes with both answers
there; the proctor page shows both students; both submit; the role checks (another's attempt, an unreleased result, the
bank) are refused; the teacher and a second grader grade the reports, the teacher writes feedback, releases, and
regrades one answer; each student's score in the results page equals the score computed here from the answers given
and the documented scoring rules. Prints one line per step and "ok" at the end; exits non-zero on the first failure.
"""
import json
import os
import signal
import sys
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
fx = json.load(open(fixtures_path, encoding="utf-8"))
people = fx["people"]


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


def check(condition, message):
    if not condition:
        raise SystemExit("FAILED: " + message)


def api(who, method, path, body=None, raw=None):
    token = people[who][2]
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(
        base + path, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        text = error.read()
        try:
            return error.code, json.loads(text or b"{}")
        except ValueError:
            return error.code, {"text": text.decode(errors="replace")}


# MARK: - The shuffle, written independently of Atrium (SplitMix64 by Steele, Lea and Flood; FNV-1a 64).

MASK = (1 << 64) - 1


def fnv1a(text):
    h = 0xCBF29CE484222325
    for b in text.encode():
        h ^= b
        h = (h * 0x100000001B3) & MASK
    return h


class SplitMix:
    def __init__(self, seed):
        self.state = seed

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def below(self, bound):
        limit = MASK - MASK % bound
        while True:
            value = self.next()
            if value < limit:
                return value % bound


def expected_order(form, exam, student, number=1):
    items = list(form)
    generator = SplitMix(fnv1a(f"{exam}/{student}/{number}"))
    for i in range(len(items) - 1, 0, -1):
        j = generator.below(i + 1)
        items[i], items[j] = items[j], items[i]
    return items


# MARK: - Browsers

def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,1000", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def descendants(pid):
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
        except OSError:
            continue
        parent = int(stat[stat.rfind(")") + 2:].split()[1])
        children.setdefault(parent, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def kill_browser(driver):
    """SIGKILL chromedriver and every Chromium process under it: the tab vanishes as when a laptop's lid closes."""
    for pid in descendants(driver.service.process.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def sign_in(driver, wait, who):
    user, password, _ = people[who]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")


def shot(driver, name):
    driver.save_screenshot(os.path.join(shots, f"training-{name}.png"))


def question_box(driver, qid):
    return driver.find_element(By.CSS_SELECTOR, f'fieldset.question[data-question="{qid}"]')


def wait_saved(wait):
    wait.until(lambda d: d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved"
               and d.find_element(By.ID, "save-state").get_attribute("data-pending") == "0")


def open_attempt(driver, wait, exam, resume=False):
    driver.get(base + "/training")
    row = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#my-exams tr[data-exam="{exam}"]')))
    if resume:
        link = row.find_element(By.CSS_SELECTOR, "a.resume")
        check(link.text.strip() == english["training.mine.resume"], f"the resume link says {link.text!r}")
        link.click()
    else:
        button = row.find_element(By.CSS_SELECTOR, "button.start")
        check(button.text.strip() == english["training.mine.start"], f"the start button says {button.text!r}")
        button.click()
    wait.until(lambda d: d.find_element(By.ID, "attempt").get_attribute("data-loaded") == "true")
    return int(driver.find_element(By.ID, "attempt").get_attribute("data-attempt"))


def dom_order(driver):
    return [int(e.get_attribute("data-question")) for e in driver.find_elements(By.CSS_SELECTOR, "fieldset.question")]


def choose(driver, wait, qid, values):
    box = question_box(driver, qid)
    for value in values:
        box.find_element(By.CSS_SELECTOR, f'input.choice[value="{value}"]').click()
    wait_saved(wait)


def click_hotspot(driver, wait, qid, slice_number, x, y):
    box = question_box(driver, qid)
    image = box.find_element(By.CSS_SELECTOR, "img.question-image")
    slider = box.find_element(By.CSS_SELECTOR, "input.slice-slider")
    wait.until(lambda d: image.get_attribute("data-slice") and d.execute_script("return arguments[0].naturalWidth", image) > 0)
    wait.until(lambda d: slider.get_attribute("max") == "3")
    if image.get_attribute("data-slice") != str(slice_number):
        driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('change'))", slider, str(slice_number))
        wait.until(lambda d: image.get_attribute("data-slice") == str(slice_number))
        wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image))
    natural_width, natural_height = driver.execute_script("return [arguments[0].naturalWidth, arguments[0].naturalHeight]", image)
    width, height = image.size["width"], image.size["height"]
    ActionChains(driver).move_to_element_with_offset(image, x * width / natural_width - width / 2, y * height / natural_height - height / 2).click().perform()
    wait_saved(wait)
    return json.loads(box.get_attribute("data-click"))


def write_report(driver, wait, qid, text):
    area = question_box(driver, qid).find_element(By.CSS_SELECTOR, "textarea.report-text")
    area.send_keys(text)
    driver.find_element(By.TAG_NAME, "h1").click()
    wait_saved(wait)


def rate(driver, wait, qid, ratings):
    box = question_box(driver, qid)
    for criterion, value in ratings.items():
        Select(box.find_element(By.CSS_SELECTOR, f'select[data-criterion="{criterion}"]')).select_by_value(str(value))
    wait_saved(wait)


def match(driver, wait, qid, matches):
    box = question_box(driver, qid)
    for pair, value in matches.items():
        Select(box.find_element(By.CSS_SELECTOR, f'select[data-pair="{pair}"]')).select_by_value(value)
    wait_saved(wait)


def order(driver, wait, qid, target):
    moved = False
    for index, item in enumerate(target):
        while True:
            current = [li.get_attribute("data-item") for li in question_box(driver, qid).find_elements(By.CSS_SELECTOR, "ol.ordering li")]
            if current.index(item) <= index:
                break
            question_box(driver, qid).find_element(By.CSS_SELECTOR, f'li[data-item="{item}"] button.up').click()
            moved = True
    if not moved:
        question_box(driver, qid).find_element(By.CSS_SELECTOR, "button.keep-order").click()
    current = [li.get_attribute("data-item") for li in question_box(driver, qid).find_elements(By.CSS_SELECTOR, "ol.ordering li")]
    check(current == target, f"the ordering shows {current}, not {target}")
    wait_saved(wait)


def submit(driver, wait):
    driver.find_element(By.ID, "submit-attempt").click()
    wait.until(EC.alert_is_present())
    driver.switch_to.alert.accept()
    wait.until(lambda d: d.find_element(By.ID, "attempt").get_attribute("data-submitted") == "true")


# MARK: - The scoring rules of docs/api.md, written here

def score(question, answer, grades=None):
    points = question["points"]
    kind = question["kind"]
    answer = answer or {}
    if kind == "single-choice":
        chosen = answer.get("choices", [])
        right = [c["id"] for c in question["choices"] if c["correct"]]
        return points if chosen == right else 0
    if kind == "multiple-choice":
        chosen = set(answer.get("choices", []))
        right = {c["id"] for c in question["choices"] if c["correct"]}
        wrong = {c["id"] for c in question["choices"] if not c["correct"]}
        return points * max(0, (len(chosen & right) - len(chosen & wrong)) / len(right))
    if kind == "hotspot":
        click, region = answer.get("click"), question["region"]
        if not click:
            return 0
        inside = (region["firstSlice"] <= click["slice"] <= region["lastSlice"]
                  and region["x"] <= click["x"] <= region["x"] + region["width"]
                  and region["y"] <= click["y"] <= region["y"] + region["height"])
        return points if inside else 0
    if kind == "image-quality":
        ratings = answer.get("ratings", {})
        return points * sum(1 for c in question["criteria"] if ratings.get(c["id"]) == c["reference"]) / len(question["criteria"])
    if kind == "matching":
        matches = answer.get("matches", {})
        return points * sum(1 for p in question["pairs"] if matches.get(p["id"]) == p["right"]) / len(question["pairs"])
    if kind == "ordering":
        given = answer.get("order", [])
        return points * sum(1 for i, item in enumerate(question["items"]) if i < len(given) and given[i] == item["id"]) / len(question["items"])
    if kind == "report":
        total = sum(c["points"] for c in question["rubric"])
        sums = [sum(min(max(g.get(c["id"], 0), 0), c["points"]) for c in question["rubric"]) for g in grades]
        return points * (sum(sums) / len(sums)) / total
    raise SystemExit(f"unknown kind {kind}")


# MARK: - The path

case, study, series = fx["case"], fx["study"], fx["series"]
image = [{"studyInstanceUID": study, "seriesInstanceUID": series}]
bank = [
    {"kind": "hotspot", "stem": "Click the nodule", "caseID": case, "images": image,
     "region": {"shape": "rectangle", "x": 40, "y": 40, "width": 40, "height": 40, "firstSlice": 2, "lastSlice": 3},
     "tags": ["chest"], "difficulty": 3, "points": 2},
    {"kind": "multiple-choice", "stem": "Signs of malignancy", "caseID": case,
     "choices": [{"id": "a", "text": "spiculation", "correct": True}, {"id": "b", "text": "pleural retraction", "correct": True},
                 {"id": "c", "text": "popcorn calcification", "correct": False}], "points": 2},
    {"kind": "report", "stem": "Write the findings and impression", "caseID": case,
     "rubric": [{"id": "finding", "text": "names the nodule", "points": 3}, {"id": "impression", "text": "suggests cancer", "points": 1}],
     "points": 4},
    {"kind": "image-quality", "stem": "Rate the image", "caseID": case, "images": image,
     "criteria": [{"id": "positioning", "name": "Positioning", "reference": 4, "scale": 5},
                  {"id": "exposure", "name": "Exposure", "reference": 3, "scale": 5}], "points": 2},
    {"kind": "matching", "stem": "Match sign and disease",
     "pairs": [{"id": "p1", "left": "air bronchogram", "right": "pneumonia"}, {"id": "p2", "left": "spiculation", "right": "cancer"}],
     "points": 2},
    {"kind": "ordering", "stem": "Order the stroke imaging steps",
     "items": [{"id": "ct", "text": "plain CT"}, {"id": "cta", "text": "CT angiography"}, {"id": "dwi", "text": "MR DWI"}], "points": 3},
]
step("the teacher imports six questions in the bank's JSON format; students may not")
file = json.dumps({"format": "atrium-question-bank", "version": 1, "questions": bank}).encode()
status, data = api("studentA", "POST", "/api/training/questions/import", raw=file)
check(status == 403, f"a student imported questions: {status}")
status, data = api("teacher", "POST", "/api/training/questions/import", raw=file)
check(status == 201 and len(data.get("ids", [])) == 6, f"import: {status} {data}")
hotspot_id, multiple_id, report_id, quality_id, matching_id, ordering_id = data["ids"]
status, data = api("studentA", "GET", "/api/training/questions")
check(status == 403, f"a student read the bank: {status}")

teacher, teacher_wait = browser()
student_a = None
student_b = None
try:
    step("the teacher writes a single-choice question on the library case in the page")
    sign_in(teacher, teacher_wait, "teacher")
    teacher.get(base + "/training/questions")
    Select(teacher_wait.until(EC.presence_of_element_located((By.ID, "question-case")))).select_by_value(str(case))
    teacher.find_element(By.ID, "question-stem").send_keys("最可能的诊断？ Most likely diagnosis?")
    teacher.find_element(By.ID, "question-choices").send_keys("*肺癌 Lung cancer\n肺炎 Pneumonia\n结核球 Tuberculoma")
    points = teacher.find_element(By.ID, "question-points")
    points.clear()
    points.send_keys("2")
    teacher.find_element(By.ID, "question-tags").send_keys("chest, oncology")
    teacher.find_element(By.ID, "question-save").click()
    teacher_wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#questions tbody tr")) == 7)
    single_id = max(int(r.get_attribute("data-question")) for r in teacher.find_elements(By.CSS_SELECTOR, "#questions tbody tr"))
    status, data = api("teacher", "GET", f"/api/training/questions/{single_id}")
    check(status == 200 and data["question"]["content"]["caseID"] == case, f"the new question: {data}")
    single = data["question"]["content"]
    check([c["correct"] for c in single["choices"]] == [True, False, False], f"choices: {single['choices']}")
    shot(teacher, "bank")

    step("the teacher builds an exam of all seven questions")
    teacher.get(base + "/training/exams/new")
    teacher_wait.until(EC.presence_of_element_located((By.ID, "exam-title"))).send_keys("胸部CT测验 Chest CT exam")
    for box in teacher.find_elements(By.CSS_SELECTOR, '#exam-questions input[name="question"]'):
        box.click()
    teacher.find_element(By.ID, "exam-save").click()
    row = teacher_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#exams tbody tr")))
    exam = int(row.get_attribute("data-exam"))
    status, data = api("teacher", "GET", f"/api/training/exams/{exam}")
    check(status == 200 and len(data["settings"]["forms"]) == 1, f"the exam: {data}")
    form = data["settings"]["forms"][0]
    check(sorted(form) == sorted([single_id, hotspot_id, multiple_id, report_id, quality_id, matching_id, ordering_id]), f"form {form}")
    questions = {single_id: single}
    for qid, content in zip([hotspot_id, multiple_id, report_id, quality_id, matching_id, ordering_id], bank):
        questions[qid] = content
    shot(teacher, "exams")

    step("student A starts; the order is the shuffle computed here; no key is sent")
    student_a, wait_a = browser()
    sign_in(student_a, wait_a, "studentA")
    attempt_a = open_attempt(student_a, wait_a, exam)
    check(dom_order(student_a) == expected_order(form, exam, people["studentA"][0]),
          f"A's order {dom_order(student_a)} != {expected_order(form, exam, people['studentA'][0])}")
    status, data = api("studentA", "GET", f"/api/training/attempts/{attempt_a}")
    text = json.dumps(data)
    check(status == 200 and '"correct": true' not in text and '"region"' not in text.replace('"region": null', ""), "the attempt shows a key")
    given_a = {}
    choose(student_a, wait_a, single_id, ["a"])
    given_a[single_id] = {"choices": ["a"]}
    choose(student_a, wait_a, multiple_id, ["a", "c"])
    given_a[multiple_id] = {"choices": ["a", "c"]}
    shot(student_a, "student-a-before-kill")

    step("the proctor page shows A's two answers")
    teacher.get(base + f"/training/exams/{exam}/proctor")
    teacher_wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, f'#progress-rows tr[data-student="{people["studentA"][0]}"][data-answered="2"]'))
    status, data = api("supervisor", "GET", f"/api/training/exams/{exam}/progress")
    check(status == 200 and data["attempts"][0]["answered"] == 2, f"the supervisor's progress: {status} {data}")

    step("A's browser is killed; a new one resumes with both answers there")
    kill_browser(student_a)
    student_a, wait_a = browser()
    sign_in(student_a, wait_a, "studentA")
    check(open_attempt(student_a, wait_a, exam, resume=True) == attempt_a, "resumed another attempt")
    check(question_box(student_a, single_id).find_element(By.CSS_SELECTOR, 'input[value="a"]').is_selected(), "A's single choice is lost")
    checked = [i.get_attribute("value") for i in question_box(student_a, multiple_id).find_elements(By.CSS_SELECTOR, "input.choice") if i.is_selected()]
    check(checked == ["a", "c"], f"A's multiple choice after resuming: {checked}")

    step("A answers the rest: a miss on slice 1, then a hit on slice 2; report; ratings; matching; ordering; submits")
    miss = click_hotspot(student_a, wait_a, hotspot_id, 1, 60, 60)
    hit = click_hotspot(student_a, wait_a, hotspot_id, 2, 60, 60)
    check(miss["slice"] == 1 and hit["slice"] == 2 and abs(hit["x"] - 60) < 2 and abs(hit["y"] - 60) < 2, f"clicks {miss} {hit}")
    given_a[hotspot_id] = {"click": hit}
    write_report(student_a, wait_a, report_id, "右肺结节，毛刺征，考虑肺癌。 Spiculated right lung nodule, likely cancer.")
    rate(student_a, wait_a, quality_id, {"positioning": 4, "exposure": 2})
    given_a[quality_id] = {"ratings": {"positioning": 4, "exposure": 2}}
    match(student_a, wait_a, matching_id, {"p1": "pneumonia", "p2": "pneumonia"})
    given_a[matching_id] = {"matches": {"p1": "pneumonia", "p2": "pneumonia"}}
    order(student_a, wait_a, ordering_id, ["ct", "dwi", "cta"])
    given_a[ordering_id] = {"order": ["ct", "dwi", "cta"]}
    shot(student_a, "student-a-answered")
    submit(student_a, wait_a)

    step("student B takes it in its own order and submits")
    student_b, wait_b = browser()
    sign_in(student_b, wait_b, "studentB")
    attempt_b = open_attempt(student_b, wait_b, exam)
    check(dom_order(student_b) == expected_order(form, exam, people["studentB"][0]), f"B's order {dom_order(student_b)}")
    given_b = {}
    choose(student_b, wait_b, single_id, ["b"])
    given_b[single_id] = {"choices": ["b"]}
    choose(student_b, wait_b, multiple_id, ["a", "b"])
    given_b[multiple_id] = {"choices": ["a", "b"]}
    given_b[hotspot_id] = {"click": click_hotspot(student_b, wait_b, hotspot_id, 3, 100, 100)}
    write_report(student_b, wait_b, report_id, "右肺小结节。 Small right lung nodule.")
    rate(student_b, wait_b, quality_id, {"positioning": 4, "exposure": 3})
    given_b[quality_id] = {"ratings": {"positioning": 4, "exposure": 3}}
    match(student_b, wait_b, matching_id, {"p1": "pneumonia", "p2": "cancer"})
    given_b[matching_id] = {"matches": {"p1": "pneumonia", "p2": "cancer"}}
    order(student_b, wait_b, ordering_id, ["ct", "cta", "dwi"])
    given_b[ordering_id] = {"order": ["ct", "cta", "dwi"]}
    submit(student_b, wait_b)

    step("answers after submitting, another's attempt, unreleased results: refused")
    status, _ = api("studentA", "PUT", f"/api/training/attempts/{attempt_a}/answers/{single_id}", {"answer": {"choices": ["b"]}, "sequence": 10**15})
    check(status == 409, f"an answer after submitting: {status}")
    for path in [f"/api/training/attempts/{attempt_a}", f"/api/training/attempts/{attempt_a}/result"]:
        status, _ = api("studentB", "GET", path)
        check(status == 404, f"B reads A's {path}: {status}")
    status, _ = api("studentB", "PUT", f"/api/training/attempts/{attempt_a}/answers/{single_id}", {"answer": {"choices": ["b"]}, "sequence": 1})
    check(status in (404, 409), f"B writes into A's attempt: {status}")
    status, _ = api("studentA", "GET", f"/api/training/attempts/{attempt_a}/result")
    check(status == 403, f"A reads its unreleased result: {status}")
    status, _ = api("supervisor", "GET", f"/api/training/attempts/{attempt_a}/result")
    check(status in (403, 404), f"the supervisor reads an unreleased result: {status}")

    step("the teacher grades both reports in the page, a second grader through the API, feedback, release")
    grades = {attempt_a: [{"finding": 3, "impression": 1}, {"finding": 2, "impression": 1}], attempt_b: [{"finding": 1, "impression": 0}, {"finding": 2}]}
    teacher.get(base + f"/training/exams/{exam}/grade")
    for attempt, who in [(attempt_a, "studentA"), (attempt_b, "studentB")]:
        card = teacher_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'section.attempt-grade[data-attempt="{attempt}"]')))
        block = card.find_element(By.CSS_SELECTOR, f'.report-grade[data-question="{report_id}"]')
        for criterion, value in grades[attempt][0].items():
            field = block.find_element(By.CSS_SELECTOR, f'input[data-criterion="{criterion}"]')
            field.clear()
            field.send_keys(str(value))
        block.find_element(By.CSS_SELECTOR, ".grade-comment").send_keys("清楚 Clear" if who == "studentA" else "")
        block.find_element(By.CSS_SELECTOR, ".save-grade").click()
        teacher_wait.until(lambda d: block.get_attribute("data-saved") == "true")
        status, data = api("grader", "PUT", f"/api/training/attempts/{attempt}/grades/{report_id}", {"awards": grades[attempt][1], "comment": ""})
        check(status == 200, f"the second grader: {status} {data}")
    card = teacher.find_element(By.CSS_SELECTOR, f'section.attempt-grade[data-attempt="{attempt_a}"]')
    card.find_element(By.CSS_SELECTOR, ".attempt-feedback").send_keys("Well done on the hotspot.")
    card.find_element(By.CSS_SELECTOR, ".save-feedback").click()
    teacher_wait.until(lambda d: card.get_attribute("data-feedback-saved") == "true")
    shot(teacher, "grading")
    teacher.find_element(By.ID, "release").click()
    teacher_wait.until(EC.presence_of_element_located((By.ID, "released")))
    status, data = api("teacher", "POST", f"/api/training/attempts/{attempt_b}/regrade/{multiple_id}", {"points": 1, "reason": "second look"})
    check(status == 200, f"the regrade: {status} {data}")

    step("each student's results page shows the score computed here")
    expected = {}
    for who, attempt, given in [("studentA", attempt_a, given_a), ("studentB", attempt_b, given_b)]:
        total = 0
        for qid, question in questions.items():
            if question["kind"] == "report":
                total += score(question, None, grades[attempt])
            elif who == "studentB" and qid == multiple_id:
                total += 1  # the regrade
            else:
                total += score(question, given.get(qid))
        expected[who] = total
    maximum = sum(q["points"] for q in questions.values())
    for who, driver, wait, attempt in [("studentA", student_a, wait_a, attempt_a), ("studentB", student_b, wait_b, attempt_b)]:
        driver.get(base + "/training")
        link = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#my-exams tr[data-exam="{exam}"] a.result')))
        check(link.text.strip() == english["training.mine.results"], f"the results link says {link.text!r}")
        link.click()
        shown = float(wait.until(EC.presence_of_element_located((By.ID, "result-score"))).text)
        if abs(shown - expected[who]) >= 0.006:
            _, detail = api("teacher", "GET", f"/api/training/attempts/{attempt}/result")
            print(json.dumps([{k: i.get(k) for k in ("question", "score", "answer")} for i in detail["items"]], ensure_ascii=False))
        check(abs(shown - expected[who]) < 0.006, f"{who}: the page shows {shown}, computed here {expected[who]}")
        check(float(driver.find_element(By.ID, "result-maximum").text) == maximum, "the maximum")
        check(english["training.result.title"] in driver.find_element(By.TAG_NAME, "h1").text, "the results heading")
        shot(driver, f"result-{who}")
        print(f"{who}: {shown} of {maximum} (computed here: {expected[who]})", flush=True)
    check(student_a.find_element(By.ID, "result-feedback").text == "Well done on the hotspot.", "A's feedback")
    status, data = api("studentA", "GET", f"/api/training/attempts/{attempt_a}/result")
    check(status == 200 and any(g["comment"] == "清楚 Clear" and "grader" not in g for i in data["items"] for g in i["grades"]),
          "A sees the graders' comments, not who they are")
    status, _ = api("studentB", "GET", f"/api/training/attempts/{attempt_a}/result")
    check(status == 404, f"B reads A's released result: {status}")
    status, data = api("teacher", "GET", f"/api/training/attempts/{attempt_a}/result")
    hotspot_item = next(i for i in data["items"] if i["question"] == hotspot_id)
    check([c["slice"] for c in hotspot_item["clicks"]] == [1, 2], f"the logged clicks: {hotspot_item['clicks']}")
finally:
    for driver in [teacher, student_a, student_b]:
        if driver is not None:
            try:
                driver.quit()
            except Exception:
                pass
print("ok")
