#!/usr/bin/env python3
"""Community health records over the JSON API (urllib) and in headless Chromium (selenium).

Usage: health_web.py BASE_URL LOCALES_DIR SCREENSHOT_DIR SEED_JSON

SEED_JSON: {"people": {"doctor"|"west"|"manager"|"student"|"admin": [user, password, token]}, "resident": id,
"recordNumber", "name", "birthDate", "recommendation": id, "recommendationText"}: a resident of CHC-EAST (a northern,
urban man with hypertension and a family history of ASCVD) and one recommendation for current smokers.
Expected risks are computed here from the China-PAR paper's coefficients (Yang et al., Circulation 2016) and the
guideline cut-offs, not from Atrium. Prints one line per step and "ok" at the end; exits non-zero on the first failure.
"""
import datetime
import json
import math
import os
import sys
import time
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait

base, locales_dir, shots, seed_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
seed = json.load(open(seed_path, encoding="utf-8"))
people = seed["people"]
rid = seed["resident"]


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(flatten(value, name) if isinstance(value, dict) else {name: value})
    return out


strings = {"en": {}, "zh-CN": {}}
for name in sorted(os.listdir(locales_dir)):
    for language in strings:
        if name == f"{language}.json" or name.endswith(f".{language}.json"):
            strings[language].update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))


def step(name):
    print("step:", name, flush=True)


def api(who, method, path, body=None, content_type="application/json"):
    token = people[who][2]
    data = None if body is None else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
    request = urllib.request.Request(base + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": content_type})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"{}")
        except ValueError:
            return error.code, {"raw": payload.decode(errors="replace")}


tz = datetime.timezone(datetime.timedelta(hours=8))
today = datetime.datetime.now(tz).date()
exam_day = today - datetime.timedelta(days=30)

step("access: the serving institution sees the record, another institution does not, students see it de-identified")
status, residents = api("doctor", "GET", "/api/health/residents")
assert status == 200 and [r["id"] for r in residents] == [rid], residents
assert api("west", "GET", f"/api/health/residents/{rid}")[0] == 404
assert api("west", "GET", "/api/health/residents")[1] == []
status, listed = api("student", "GET", "/api/health/residents")
assert status == 200 and len(listed) == 1 and listed[0]["name"] == "" and listed[0]["deidentified"], listed
status, record = api("student", "GET", f"/api/health/residents/{rid}")
assert status == 200 and record["access"] == "deidentified" and record["resident"]["phone"] == "" and record["resident"]["identityNumber"] == "", record
assert api("student", "POST", f"/api/health/residents/{rid}/examinations", {"residentID": 0, "date": "2026-01-01"})[0] == 403

step("a health manager of the centre sees the resident once assigned, not before")
assert api("manager", "GET", f"/api/health/residents/{rid}")[0] == 404
assert api("west", "POST", f"/api/health/residents/{rid}/assignments", {"person": people["manager"][0]})[0] == 404
status, body = api("doctor", "POST", f"/api/health/residents/{rid}/assignments", {"person": people["manager"][0]})
assert status == 201, (status, body)
status, record = api("manager", "GET", f"/api/health/residents/{rid}")
assert status == 200 and record["access"] == "full" and record["resident"]["name"] == seed["name"], record

step("every access is in the audit trail")


def audit_text(user, wanted):
    """The user's audit events as text, once they hold `wanted`: the trail writes its queue in batches."""
    deadline = time.monotonic() + 20
    while True:
        status, events = api("admin", "GET", f"/api/admin/audit?user={user}")
        assert status == 200, (status, events)
        text = json.dumps(events, ensure_ascii=False)
        if wanted in text or time.monotonic() > deadline:
            return text
        time.sleep(0.2)


text = audit_text(people["manager"][0], "health record: record read")
assert "health record: record read" in text and f"health-resident-{rid}" in text, text[:2000]
assert "refused" in audit_text(people["west"][0], "refused"), "the refused read is recorded"

step("the training room gives a student a synthetic resident and marks a wrong class with the inputs it depends on")
status, case = api("student", "GET", "/api/health/training/cases/7")
assert status == 200 and case["seed"] == 7 and 35 <= case["age"] <= 74, case
bmi = case["weight"] / (case["height"] / 100) ** 2
right = "underweight" if round(bmi, 1) < 18.5 else "normal" if round(bmi, 1) < 24 else "overweight" if round(bmi, 1) < 28 else "obese"
wrong = "obese" if right != "obese" else "normal"
status, feedback = api("student", "POST", "/api/health/training/cases/7/answers", {"bmi": round(bmi, 1), "bmiClass": wrong})
assert status == 200 and feedback["graded"] == 2 and feedback["correct"] == 1, feedback
marked = {i["item"]: i for i in feedback["items"]}
assert not marked["bmi-class"]["correct"] and marked["bmi-class"]["expected"] == right and marked["bmi-class"]["inputs"] == ["bmi"], marked
status, refusal = api("student", "POST", "/api/health/risk/china-par", {"sex": "male", "age": 30, "systolic": 130, "treated": False,
                      "totalCholesterol": 5, "hdlCholesterol": 1.3, "waist": 80, "currentSmoker": False, "diabetes": False,
                      "north": True, "urban": True, "familyHistory": False})
assert status == 422 and refusal["input"] == "age" and "35" in refusal["messageChinese"], refusal

step("a CSV with a wrong row is refused whole, with the row, column and reason")
header = "档案编号,体检日期,身高,体重,腰围,左侧收缩压,左侧舒张压,右侧收缩压,右侧舒张压,空腹血糖,总胆固醇,高密度脂蛋白胆固醇,吸烟状况,服用降压药,检验结果编号"
good_row = f"{seed['recordNumber']},{exam_day},172,80,94,152,94,156,92,6.3,5.8,1.05,吸烟,是,LAB-7;LAB-8"
bad = "\n".join([header, good_row, f"{seed['recordNumber']},{exam_day},172,abc,94,152,94,156,92,6.3,5.8,1.05,sometimes,是,"]) + "\n"
status, body = api("doctor", "POST", "/api/health/examinations/import", bad, "text/csv")
assert status == 422, (status, body)
cells = {(p["row"], p["column"]) for p in body["problems"]}
assert cells == {(3, "weight_kg"), (3, "smoking")}, body
assert api("doctor", "GET", f"/api/health/residents/{rid}")[1]["examinations"] == []


def china_par_men(age, sbp, treated, tc_mmol, hdl_mmol, waist, smoker, diabetes, north, urban, fh):
    """The men's equation (Supplemental Table 1; continuous terms from its worked example's coefficient x value)."""
    ln60, ln130 = math.log(60), math.log(130)
    la, ls = math.log(age), math.log(sbp)
    s = (130.88 / ln60) * la
    s += (27.39 if treated else 127.28 / ln130) * ls
    s += (3.32 / math.log(210)) * math.log(tc_mmol / 0.0259) + (-2.78 / math.log(55)) * math.log(hdl_mmol / 0.0259)
    s += (-3.12 / math.log(80)) * math.log(waist) + 3.96 * smoker + 0.36 * diabetes + 0.48 * north - 0.16 * urban + 6.22 * fh
    s += (-6.02 if treated else -114.21 / (ln60 * ln130)) * la * ls - 0.94 * la * smoker - 1.53 * la * fh
    return 100 * (1 - 0.9707 ** math.exp(s - 140.68))


birth = datetime.date.fromisoformat(seed["birthDate"])
age = exam_day.year - birth.year - ((exam_day.month, exam_day.day) < (birth.month, birth.day))
# The higher systolic arm (right, 156/92) is read; glucose 6.3 < 7.0 and no diagnosis: not diabetic.
expected_par = china_par_men(age, 156, True, 5.8, 1.05, 94, 1, 0, 1, 1, 1)
expected_category = "low" if expected_par < 5 else "intermediate" if expected_par < 10 else "high"


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


driver, wait = browser()
try:
    step("the community doctor signs in and imports the partner's CSV from the health records page")
    user, password, _ = people["doctor"]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    # The switch reloads the page: clicked only when it changes something, then waited for until the old page is
    # gone, so that the next navigation cannot race the reload.
    english = driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    if english.get_attribute("aria-current") != "true":
        english.click()
        wait.until(EC.staleness_of(english))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="/health-records"]').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#residents tr[data-resident="{rid}"]')))
    area = driver.find_element(By.ID, "import-csv")
    driver.execute_script("arguments[0].value = arguments[1];", area, bad)
    driver.find_element(By.ID, "import-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "import-problems")))
    assert strings["en"]["health.import.refused"] in driver.find_element(By.ID, "import-problems").text
    driver.save_screenshot(os.path.join(shots, "health-01-import-refused.png"))
    area = driver.find_element(By.ID, "import-csv")
    driver.execute_script("arguments[0].value = arguments[1];", area, header + "\n" + good_row + "\n")
    driver.find_element(By.ID, "import-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "import-done")))
    row = driver.find_element(By.CSS_SELECTOR, "#examinations tr[data-examination]")
    assert str(exam_day) in row.text and "156/92" in row.text and "LAB-7" in row.text, row.text

    step("the examination is assessed: pressure grade, BMI and waist classes, China-PAR as computed here")
    row.find_element(By.CSS_SELECTOR, "button.assess").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#assessments article.assessment")))
    article = driver.find_element(By.CSS_SELECTOR, "#assessments article.assessment")
    shown = float(article.find_element(By.CSS_SELECTOR, "[data-china-par]").get_attribute("data-china-par"))
    assert abs(shown - expected_par) <= 0.05, (shown, expected_par)
    assert article.find_element(By.CSS_SELECTOR, "[data-bp]").get_attribute("data-bp") == "grade-1"
    assert strings["en"][f"health.riskLevel.{expected_category}"] in article.text, article.text
    assert strings["en"]["health.bmiClass.overweight"] in article.text  # 80 / 1.72² = 27.0
    assert strings["en"]["health.waistClass.central-obesity"] in article.text
    driver.save_screenshot(os.path.join(shots, "health-02-assessment.png"))

    step("a plan with a goal, a follow-up date and the library's recommendation for smokers")
    driver.find_element(By.CSS_SELECTOR, "#edit-plan summary").click()
    driver.find_element(By.NAME, "goal1").send_keys("sbp")
    driver.find_element(By.NAME, "target1").send_keys("<140/90")
    due = today + datetime.timedelta(days=90)
    driver.execute_script("document.querySelector('[name=due1]').value = arguments[0];", str(due))
    driver.find_element(By.ID, "plan-dates-input").send_keys(str(today))
    box = driver.find_element(By.CSS_SELECTOR, f'input[name="recommendation"][value="{seed["recommendation"]}"]')
    assert box.is_selected(), "the recommendation for the finding smoking:current is suggested"
    driver.find_element(By.ID, "plan-save").click()
    wait.until(lambda d: str(today) in d.find_element(By.ID, "plan-dates").text)

    step("the personal report renders in both languages and prints without the site's navigation")
    driver.find_element(By.CSS_SELECTOR, "a[data-report]").click()
    wait.until(EC.presence_of_element_located((By.ID, "health-report")))
    report = driver.find_element(By.ID, "health-report")
    assert seed["name"] in driver.find_element(By.ID, "report-name").text
    assert strings["zh-CN"]["health.report.title"] in report.text and strings["en"]["health.report.title"] in report.text
    assert abs(float(driver.find_element(By.ID, "report-china-par").text.rstrip("%")) - expected_par) <= 0.05
    assert seed["recommendationText"] in driver.find_element(By.ID, "report-recommendations").text
    driver.save_screenshot(os.path.join(shots, "health-03-report.png"))
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    assert not driver.find_element(By.CSS_SELECTOR, ".topbar").is_displayed(), "the navigation is not printed"
    assert not driver.find_element(By.ID, "print-button").is_displayed()
    pdf = driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": False})
    assert len(pdf["data"]) > 1000
    driver.save_screenshot(os.path.join(shots, "health-04-report-print.png"))
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})

    step("a hypertension follow-up recorded a month ago falls due today and shows in the reminders")
    last = today - datetime.timedelta(days=31)
    status, body = api("doctor", "POST", f"/api/health/residents/{rid}/follow-ups",
                       {"residentID": rid, "kind": "hypertension", "date": str(last), "systolic": 150, "diastolic": 95,
                        "classification": "uncontrolled", "nextDate": str(today - datetime.timedelta(days=1))})
    assert status == 201, (status, body)
    status, due_list = api("doctor", "GET", f"/api/health/follow-ups/due?on={today}")
    assert status == 200 and [d["residentID"] for d in due_list] == [rid] and due_list[0]["overdueDays"] == 1, due_list
    assert api("west", "GET", f"/api/health/follow-ups/due?on={today}")[1] == []
    driver.get(base + "/health-records")
    driver.find_element(By.ID, "due-link").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#due tr[data-resident="{rid}"]')))
    driver.save_screenshot(os.path.join(shots, "health-05-due.png"))

    step("the follow-up is recorded on the form with its classification and the next date; nothing is due any more")
    driver.find_element(By.CSS_SELECTOR, f'#due tr[data-resident="{rid}"] a').click()
    wait.until(EC.presence_of_element_located((By.ID, "new-follow-up")))
    driver.find_element(By.CSS_SELECTOR, "#new-follow-up summary").click()
    Select(driver.find_element(By.ID, "follow-up-kind")).select_by_value("hypertension")
    driver.find_element(By.ID, "follow-up-sbp").send_keys("136")
    driver.find_element(By.ID, "follow-up-dbp").send_keys("84")
    Select(driver.find_element(By.ID, "follow-up-classification")).select_by_value("controlled")
    driver.execute_script("document.getElementById('follow-up-next').value = arguments[0];", str(today + datetime.timedelta(days=90)))
    driver.find_element(By.ID, "follow-up-save").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, '#follow-ups tr[data-classification="controlled"]')))
    assert strings["en"]["health.classification.controlled"] in driver.find_element(By.ID, "follow-ups").text
    driver.get(base + "/health-records/due")
    wait.until(EC.presence_of_element_located((By.ID, "due-none")))
    assert api("doctor", "GET", f"/api/health/follow-ups/due?on={today}")[1] == []
    driver.save_screenshot(os.path.join(shots, "health-06-followed-up.png"))

    step("the record becomes a de-identified teaching case; a student's tasks are graded against it")
    exam_id = api("doctor", "GET", f"/api/health/residents/{rid}")[1]["examinations"][0]["id"]
    status, made = api("doctor", "POST", f"/api/health/residents/{rid}/teaching-case", {"examinationID": exam_id})
    assert status == 201 and made["planItems"] == ["sbp", "cigarettes", "weight", "fasting-glucose"], (status, made)
    assert api("west", "POST", f"/api/health/residents/{rid}/teaching-case", {"examinationID": exam_id})[0] == 404
    status, case = api("admin", "GET", f"/api/library/cases/{made['case']}")
    text = json.dumps(case, ensure_ascii=False)
    assert status == 200, (status, case)
    for value in [seed["name"], seed["recordNumber"], seed["birthDate"], str(exam_day), "13800000001", "1 East Road"]:
        assert value not in text, f"{value} is in the teaching case"
    # Students are graded on published cases: an administrator (a curator too) submits and approves it.
    assert api("student", "POST", f"/api/health/teaching-cases/{made['case']}/answers", {"risk": {}, "plan": []})[0] == 404
    for action in ["submit", "approve"]:
        status, case = api("admin", "POST", f"/api/library/cases/{made['case']}/{action}", {"revision": case["revision"]})
        assert status == 200, (action, status, case)
    bmi = 80 / 1.72 ** 2
    status, graded = api("student", "POST", f"/api/health/teaching-cases/{made['case']}/answers",
                         {"risk": {"bmi": round(bmi, 1), "chinaPAR": round(expected_par, 1), "chinaPARCategory": expected_category},
                          "plan": ["sbp", "weight"]})
    assert status == 200 and graded["risk"]["correct"] == 3 and graded["risk"]["graded"] == 3, graded
    assert graded["plan"]["missing"] == ["cigarettes", "fasting-glucose"] and not graded["plan"]["correct"], graded

    step("a student's view of the record has its dates shifted and no doctor, medicines or notes")
    status, record = api("student", "GET", f"/api/health/residents/{rid}")
    text = json.dumps(record, ensure_ascii=False)
    assert status == 200 and record["access"] == "deidentified", record
    for value in [seed["name"], str(exam_day), str(last), people["doctor"][0], "1 East Road"]:
        assert value not in text, f"{value} is in the student's view"
    assert len(record["examinations"]) == 1 and len(record["followUps"]) == 2, record
    shifted = datetime.date.fromisoformat(record["examinations"][0]["date"])
    assert 30 <= (exam_day - shifted).days <= 394, (exam_day, shifted)
    assert all(a["assessedBy"] == "" for a in record["assessments"]) and record["plan"]["note"] == "", record

    step("the programme counts the examination, the assessment and the two follow-ups as health-service person-times")
    status, board = api("admin", "GET", f"/api/programme/dashboard?year={today.year}")
    assert status == 200, board
    figure = next(i for i in board["indicators"] if i["key"] == "health.service-person-times")
    in_year = sum(1 for d in [exam_day, today, last, today] if d.year == today.year)
    assert figure["value"] == in_year, (figure, in_year)
finally:
    driver.quit()
print("ok")
