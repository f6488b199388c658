#!/usr/bin/env python3
"""The teaching side of the health records, FHIR R4 import and health education, over the JSON API (urllib) and in
headless Chromium (selenium).

Usage: health_teaching.py BASE_URL LOCALES_DIR SCREENSHOT_DIR SEED_JSON RISK_REFERENCE_PY

SEED_JSON: {"people": {"doctor"|"west"|"manager"|"student"|"curator"|"admin": [user, password, token]},
"resident": id, "birthDate": "yyyy-MM-dd"}: a resident of CHC-EAST (a southern, urban man with diagnosed hypertension
and a family history of diabetes). RISK_REFERENCE_PY is Tests/HealthRecordsTests/Scripts/risk_reference.py, the
independent Python computation of the risk models from the publications' coefficients: every expected grade here
comes from it and from the guideline rules written out below, never from Atrium. FHIR Bundles are built and checked
with pip's fhir.resources (R4B models). Prints one line per step and "ok" at the end; exits non-zero on a failure.
"""
import datetime
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from atrium_client import Client, browser, locale_strings, sign_in, step  # noqa: E402

try:
    from fhir.resources.R4B.bundle import Bundle
except ImportError:
    sys.stderr.write("fhir.resources is missing: pip install fhir.resources (scripts/install-deps)\n")
    sys.exit(2)

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

base, locales_dir, shots, seed_path, reference_script = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
seed = json.load(open(seed_path, encoding="utf-8"))
people = seed["people"]
rid = seed["resident"]
strings = locale_strings(locales_dir)
en = strings["en"]
clients = {who: Client(base, person[2]) for who, person in people.items()}


def api(who, method, path, body=None, **kwargs):
    return clients[who].call(method, path, body, **kwargs)


tz = datetime.timezone(datetime.timedelta(hours=8))
today = datetime.datetime.now(tz).date()


def reference(residents):
    """The independent computation (risk_reference.py) of each resident's BMI, classes, China-PAR and CDRS."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(residents, handle)
    run = subprocess.run([sys.executable, reference_script, handle.name], capture_output=True, text=True, check=True)
    os.unlink(handle.name)
    return json.loads(run.stdout)


def age_on(birth, day):
    birth = datetime.date.fromisoformat(birth)
    return day.year - birth.year - (1 if (day.month, day.day) < (birth.month, birth.day) else 0)


def fhir_bundle(entries):
    """A Bundle validated by fhir.resources, as the JSON it serialises to."""
    bundle = Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": entries})
    return json.loads(bundle.model_dump_json(exclude_none=True))


def quantity(value, unit):
    return {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}


def observation(loinc, value, unit, day=None, encounter=None):
    resource = {"resourceType": "Observation", "status": "final", "subject": {"reference": "urn:uuid:patient-1"},
                "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]}, "valueQuantity": quantity(value, unit)}
    if day:
        resource["effectiveDateTime"] = day
    if encounter:
        resource["encounter"] = {"reference": encounter}
    return resource


def blood_pressure(systolic, diastolic, day):
    return {"resourceType": "Observation", "status": "final", "subject": {"reference": "urn:uuid:patient-1"},
            "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]}, "effectiveDateTime": day,
            "component": [
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]}, "valueQuantity": quantity(systolic, "mm[Hg]")},
                {"code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]}, "valueQuantity": quantity(diastolic, "mm[Hg]")},
            ]}


def partner_entries(systolic=148, cholesterol_unit="mmol/L", birth="1970-05-12"):
    day = str(today)
    resources = [
        ("urn:uuid:patient-1", {"resourceType": "Patient", "identifier": [{"system": "urn:partner:chc-east", "value": "F-200"}],
                                "name": [{"text": "赵敏"}], "gender": "female", "birthDate": birth}),
        ("urn:uuid:encounter-1", {"resourceType": "Encounter", "status": "finished",
                                  "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
                                  "subject": {"reference": "urn:uuid:patient-1"}, "period": {"start": day, "end": day}}),
        ("urn:uuid:condition-1", {"resourceType": "Condition", "subject": {"reference": "urn:uuid:patient-1"},
                                  "code": {"coding": [{"system": "http://snomed.info/sct", "code": "38341003"}]},
                                  "onsetDateTime": "2021-06-01"}),
        ("urn:uuid:obs-1", observation("8302-2", 160, "cm", day)),
        ("urn:uuid:obs-2", observation("29463-7", 66, "kg", day)),
        # No effectiveDateTime: the day comes from the Encounter.
        ("urn:uuid:obs-3", observation("8280-0", 86, "cm", encounter="urn:uuid:encounter-1")),
        ("urn:uuid:obs-4", blood_pressure(systolic, 92, day)),
        ("urn:uuid:obs-5", observation("14647-2", 5.8, cholesterol_unit, day)),
        ("urn:uuid:obs-6", observation("14646-4", 1.1, "mmol/L", day)),
    ]
    return [{"fullUrl": url, "resource": resource} for url, resource in resources]


def count_f200():
    status, listed = api("doctor", "GET", "/api/health/residents?q=F-200")
    assert status == 200, (status, listed)
    return [r for r in listed if r["recordNumber"] == "F-200"]


step("FHIR: a Bundle with a semantic error validates in fhir.resources but is refused whole, each problem named")
bad = fhir_bundle(partner_entries(systolic=400, cholesterol_unit="mg/dL"))
status, body = api("doctor", "POST", "/api/health/fhir", bad)
assert status == 422, (status, body)
problems = {(p["row"], p["column"]) for p in body["problems"]}
assert (7, "Observation.component.sbp") in problems, body  # the 7th entry: the pressure panel
assert (8, "Observation.valueQuantity") in problems, body  # the cholesterol in mg/dL
assert count_f200() == [], "nothing of a refused Bundle is kept"

step("FHIR: a resource fhir.resources refuses (an Observation without status) is refused by Atrium too")
broken = partner_entries()
del broken[3]["resource"]["status"]
try:
    Bundle.model_validate({"resourceType": "Bundle", "type": "collection", "entry": broken})
    raise AssertionError("fhir.resources accepted an Observation without status")
except Exception as error:  # pydantic.ValidationError
    assert "status" in str(error)
status, body = api("doctor", "POST", "/api/health/fhir", {"resourceType": "Bundle", "type": "collection", "entry": broken})
assert status == 422 and (4, "Observation.status") in {(p["row"], p["column"]) for p in body["problems"]}, body
assert count_f200() == []
assert api("student", "POST", "/api/health/fhir", fhir_bundle(partner_entries()))[0] == 403

step("FHIR: the valid Bundle registers the resident with the Condition and stores one examination")
status, made = api("doctor", "POST", "/api/health/fhir", fhir_bundle(partner_entries()))
assert status == 201 and made["registered"] and len(made["examinations"]) == 1, (status, made)
fid = made["resident"]
status, record = api("doctor", "GET", f"/api/health/residents/{fid}")
assert status == 200, record
assert record["resident"]["name"] == "赵敏" and record["resident"]["birthDate"] == "1970-05-12", record["resident"]
assert [d["code"] for d in record["resident"]["information"]["diagnoses"]] == ["hypertension"], record["resident"]
exam = record["examinations"][0]
assert exam["date"] == str(today), exam
vitals, aux = exam["vitals"], exam["auxiliary"]
assert (vitals["height"], vitals["weight"], vitals["waist"], vitals["leftSystolic"], vitals["leftDiastolic"]) == (160, 66, 86, 148, 92), vitals
assert (aux["totalCholesterol"], aux["hdlCholesterol"]) == (5.8, 1.1), aux
status, exported = api("doctor", "GET", f"/api/health/residents/{fid}/fhir")
Bundle.model_validate(exported)  # the export of the imported record is valid R4 too

step("FHIR: a Bundle for a known record number with another birth date, or a wrong value, changes nothing")
status, body = api("doctor", "POST", "/api/health/fhir", fhir_bundle(partner_entries(birth="1971-05-12")))
assert status == 422 and (1, "Patient.birthDate") in {(p["row"], p["column"]) for p in body["problems"]}, body
status, body = api("doctor", "POST", "/api/health/fhir", fhir_bundle(partner_entries(systolic=20)))
assert status == 422, body
assert len(api("doctor", "GET", f"/api/health/residents/{fid}")[1]["examinations"]) == 1

step("basic information the Bundle lacked is completed; a wrong identity number and another institution are refused")
number17 = "44030419700512002"
weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
check = "10X98765432"[sum(int(c) * w for c, w in zip(number17, weights)) % 11]
status, saved = api("doctor", "PUT", f"/api/health/residents/{fid}",
                    {"phone": "13900000002", "address": "2 East Road", "identityNumber": number17 + check})
assert status == 200 and saved["phone"] == "13900000002" and saved["recordNumber"] == "F-200", (status, saved)
wrong = "0" if check != "0" else "1"
assert api("doctor", "PUT", f"/api/health/residents/{fid}", {"identityNumber": number17 + wrong})[0] == 400
assert api("west", "PUT", f"/api/health/residents/{fid}", {"phone": "1"})[0] == 404
assert api("doctor", "GET", f"/api/health/residents/{fid}")[1]["resident"]["identityNumber"] == number17 + check

step("an examination of the seeded resident is recorded and assessed over the API")
exam_body = {"date": str(today), "vitals": {"height": 170, "weight": 81, "waist": 93, "leftSystolic": 152, "leftDiastolic": 94},
             "auxiliary": {"totalCholesterol": 6.4, "hdlCholesterol": 0.95, "fastingGlucose": 6.4},
             "lifestyle": {"smoking": "current", "cigarettesPerDay": 10}, "antihypertensiveTreatment": True}
status, stored = api("doctor", "POST", f"/api/health/residents/{rid}/examinations", exam_body)
assert status == 201, (status, stored)
assert api("doctor", "POST", f"/api/health/examinations/{stored['id']}/assessment")[0] == 201
driver, wait = browser()
try:
    step("in the browser, the community doctor makes the examination a de-identified teaching case from the record page")
    user, password, _ = people["doctor"]
    sign_in(driver, wait, base, user, password)
    driver.get(base + f"/health-records/residents/{rid}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'button[data-make-case="{stored["id"]}"]'))).click()
    wait.until(EC.presence_of_element_located((By.ID, "answer-form")))
    case_id = int(driver.current_url.rstrip("/").split("/")[-1])
    text = driver.find_element(By.ID, "case-text").text
    for value in ["王德明", "E-300", seed["birthDate"], str(today), "13800000003", "3 East Road", people["doctor"][0]]:
        assert value not in text, f"{value} is in the teaching case"
    driver.save_screenshot(os.path.join(shots, "health-teaching-00-made.png"))
finally:
    driver.quit()
status, case = api("admin", "GET", f"/api/library/cases/{case_id}")
assert status == 200 and case["status"] == "draft", (status, case)
assert api("student", "GET", f"/health-records/teaching/{case_id}", raw=True)[0] == 404
assert api("student", "POST", f"/api/health/teaching-cases/{case_id}/answers", {"risk": {"bmi": 28.0}, "plan": []})[0] == 404
step("students cannot open the draft; a curator submits it and an administrator publishes it")
status, case = api("curator", "POST", f"/api/library/cases/{case_id}/submit", {"revision": case["revision"]})
assert status == 200, (status, case)
status, case = api("admin", "POST", f"/api/library/cases/{case_id}/approve", {"revision": case["revision"]})
assert status == 200 and case["status"] == "published", (status, case)

# The expected answers, computed here: the case's resident as the examination above describes it.
age = age_on(seed["birthDate"], today)
case_person = {"sex": "male", "age": age, "height": 170, "weight": 81, "waist": 93, "sbp": 152, "dbp": 94, "treated": True,
               "tc": 6.4, "hdl": 0.95, "smoker": True, "diabetes": False, "north": False, "urban": True, "fh_ascvd": False,
               "fh_diabetes": True}
expected = reference([case_person])[0]
assert expected["china_par"] is not None and expected["cdrs_items"] is not None, expected
# The plan rules of docs/health.md: pressure (hypertension), cigarettes (smoker), weight (BMI ≥ 24 or central
# obesity), glucose (FPG ≥ 6.1 or a high score), lipids (TC ≥ 6.2 or HDL < 1.0).
plan_expected = ["sbp", "cigarettes"]
if expected["bmi_class"] in ("overweight", "obese") or expected["waist_class"] == "central-obesity":
    plan_expected.append("weight")
if 6.4 >= 6.1 or expected["cdrs_high"]:
    plan_expected.append("fasting-glucose")
if 6.4 >= 6.2 or 0.95 < 1.0:
    plan_expected.append("lipids")
wrong_waist = "pre-central-obesity" if expected["waist_class"] != "pre-central-obesity" else "normal"
items = expected["cdrs_items"]
answers = {"answer-bmi": f"{expected['bmi']:.1f}", "answer-china-par": f"{expected['china_par']:.1f}",
           "answer-cdrs-age": items["age"], "answer-cdrs-sex": items["sex"], "answer-cdrs-bmi": items["bmi"],
           "answer-cdrs-waist": items["waist"], "answer-cdrs-sbp": items["sbp"] + 1,  # wrong on purpose
           "answer-cdrs-family": items["family"], "answer-cdrs-total": sum(items.values())}
selects = {"answer-bmi-class": expected["bmi_class"], "answer-waist-class": wrong_waist,  # wrong on purpose
           "answer-bp-class": expected["bp_class"], "answer-china-par-category": expected["china_par_category"]}
plan_given = ["sbp", "cigarettes", "weight"]
# 13 items answered, the waist class and the pressure points wrong: 11 right.
expected_correct, expected_graded = 11, 13


def fill(driver, numbers, choices):
    for field, value in numbers.items():
        element = driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(str(value))
    for field, value in choices.items():
        Select(driver.find_element(By.ID, field)).select_by_value(value)


def feedback(driver):
    rows = driver.find_elements(By.CSS_SELECTOR, "#feedback tr[data-item]")
    return {row.get_attribute("data-item"): row for row in rows}


driver, wait = browser()
try:
    step("a student opens the published case from the health records page and is graded against the reference")
    user, password, _ = people["student"]
    sign_in(driver, wait, base, user, password)
    driver.get(base + "/health-records")
    driver.find_element(By.ID, "teaching-link").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#teaching-cases li[data-case="{case_id}"] a'))).click()
    wait.until(EC.presence_of_element_located((By.ID, "answer-form")))
    page = driver.find_element(By.TAG_NAME, "body").text
    assert "170 cm" in page and "152 mmHg" in page, "the case shows the measured values"
    driver.save_screenshot(os.path.join(shots, "health-teaching-01-case.png"))
    fill(driver, answers, selects)
    for item in plan_given:
        driver.find_element(By.ID, f"plan-{item}").click()
    driver.find_element(By.ID, "answer-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "feedback")))
    assert driver.find_element(By.ID, "score-correct").text == str(expected_correct), driver.find_element(By.ID, "score").text
    assert driver.find_element(By.ID, "score-graded").text == str(expected_graded)
    rows = feedback(driver)
    wrong = {item for item, row in rows.items() if row.get_attribute("data-correct") == "0"}
    assert wrong == {"waist-class", "cdrs-sbp"}, wrong
    assert en[f"health.waistClass.{expected['waist_class']}"] in rows["waist-class"].text, rows["waist-class"].text
    assert en["healthTeaching.input.waist"] in rows["waist-class"].text and en["healthTeaching.input.sex"] in rows["waist-class"].text
    suspects = {row.get_attribute("data-input") for row in driver.find_elements(By.CSS_SELECTOR, "#values tr[data-suspect]")}
    assert suspects == {"waist", "sex", "sbp"}, suspects
    plan = driver.find_element(By.ID, "plan-feedback")
    missing = [item for item in plan_expected if item not in plan_given]
    assert plan.get_attribute("data-plan-correct") == ("0" if missing else "1")
    for item in missing:
        assert en[f"healthTeaching.plan.{item}"] in driver.find_element(By.ID, "plan-missing").text
    driver.execute_script("document.getElementById('feedback').scrollIntoView()")
    driver.save_screenshot(os.path.join(shots, "health-teaching-02-graded.png"))

    step("the list of teaching cases in Chinese")
    driver.get(base + "/health-records/teaching")
    driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="zh-CN"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == strings["zh-CN"]["healthTeaching.title"])
    assert driver.find_elements(By.CSS_SELECTOR, f'#teaching-cases li[data-case="{case_id}"]')
    driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "h1").text == en["healthTeaching.title"])

    step("the same answers over the API give the same grade")
    risk = {"bmi": float(answers["answer-bmi"]), "bmiClass": expected["bmi_class"], "waistClass": wrong_waist,
            "bloodPressureClass": expected["bp_class"], "chinaPAR": float(answers["answer-china-par"]),
            "chinaPARCategory": expected["china_par_category"], "cdrsAge": items["age"], "cdrsSex": items["sex"],
            "cdrsBMI": items["bmi"], "cdrsWaist": items["waist"], "cdrsSystolic": items["sbp"] + 1,
            "cdrsFamilyHistory": items["family"], "cdrsTotal": sum(items.values())}
    status, graded = api("student", "POST", f"/api/health/teaching-cases/{case_id}/answers", {"risk": risk, "plan": plan_given})
    assert status == 200 and graded["risk"]["correct"] == expected_correct and graded["plan"]["missing"] == missing, graded

    step("the training room: a synthetic resident, a wrong BMI marked with the inputs it depends on")
    training_seed = 20261206
    status, synthetic = api("student", "GET", f"/api/health/training/cases/{training_seed}")
    assert status == 200, synthetic
    person = {"sex": synthetic["sex"], "age": synthetic["age"], "height": synthetic["height"], "weight": synthetic["weight"],
              "waist": synthetic["waist"], "sbp": synthetic["systolic"], "dbp": synthetic["diastolic"],
              "treated": synthetic["treated"], "tc": synthetic["totalCholesterol"], "hdl": synthetic["hdlCholesterol"],
              "smoker": synthetic["currentSmoker"], "diabetes": synthetic["diabetes"], "north": synthetic["north"],
              "urban": synthetic["urban"], "fh_ascvd": synthetic["familyHistoryASCVD"],
              "fh_diabetes": synthetic["familyHistoryDiabetes"]}
    room = reference([person])[0]
    driver.get(base + "/health-records")
    driver.find_element(By.ID, "training-room-link").click()
    wait.until(EC.presence_of_element_located((By.ID, "training-seed")))
    driver.get(base + f"/health-records/training/{training_seed}")
    wait.until(lambda d: d.find_element(By.ID, "training-seed").get_attribute("data-seed") == str(training_seed))
    height_row = driver.find_element(By.CSS_SELECTOR, '#values tr[data-input="height"]').text
    assert f"{synthetic['height']:g} cm" in height_row, (height_row, synthetic["height"])
    ci = room["cdrs_items"]
    fill(driver,
         {"answer-bmi": f"{room['bmi'] + 1.5:.1f}",  # wrong on purpose
          "answer-china-par": f"{room['china_par']:.1f}", "answer-cdrs-age": ci["age"], "answer-cdrs-sex": ci["sex"],
          "answer-cdrs-bmi": ci["bmi"], "answer-cdrs-waist": ci["waist"], "answer-cdrs-sbp": ci["sbp"],
          "answer-cdrs-family": ci["family"], "answer-cdrs-total": sum(ci.values())},
         {"answer-bmi-class": room["bmi_class"], "answer-waist-class": room["waist_class"], "answer-bp-class": room["bp_class"],
          "answer-china-par-category": room["china_par_category"]})
    driver.find_element(By.ID, "answer-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "feedback")))
    rows = feedback(driver)
    wrong = {item for item, row in rows.items() if row.get_attribute("data-correct") == "0"}
    assert wrong == {"bmi"}, wrong
    assert driver.find_element(By.ID, "score-correct").text == "12" and driver.find_element(By.ID, "score-graded").text == "13"
    assert f"{room['bmi']:.1f}" in rows["bmi"].text, rows["bmi"].text
    suspects = {row.get_attribute("data-input") for row in driver.find_elements(By.CSS_SELECTOR, "#values tr[data-suspect]")}
    assert suspects == {"height", "weight"}, suspects
    driver.execute_script("document.getElementById('feedback').scrollIntoView()")
    driver.save_screenshot(os.path.join(shots, "health-teaching-03-training-room.png"))
finally:
    driver.quit()

step("health education: a course of the published case; attendance of residents and staff recorded once each")
status, course = api("admin", "POST", "/api/ce/courses",
                     {"titleChinese": "高血压自我管理", "titleEnglish": "Living with high blood pressure", "creditHours": 1,
                      "cases": [case_id], "published": True})
assert status == 201, (status, course)
course_id = course["id"]
day1 = today
status, body = api("doctor", "POST", f"/api/health/education/{course_id}/attendance",
                   {"date": str(day1), "residents": [rid, fid], "staff": [people["doctor"][0]]})
assert status == 201 and body["recorded"] == 3, (status, body)
status, body = api("doctor", "POST", f"/api/health/education/{course_id}/attendance",
                   {"date": str(day1), "residents": [rid], "staff": [people["doctor"][0]]})
assert status == 201 and body["recorded"] == 0, (status, body)
assert api("west", "POST", f"/api/health/education/{course_id}/attendance", {"date": str(day1), "residents": [rid]})[0] == 404
assert api("student", "POST", f"/api/health/education/{course_id}/attendance", {"date": str(day1), "residents": [rid]})[0] == 403
assert api("doctor", "POST", f"/api/health/education/{course_id}/attendance",
           {"date": str(day1), "staff": [people["student"][0]]})[0] == 400
status, listed = api("doctor", "GET", "/api/health/education")
mine = next(c for c in listed if c["id"] == course_id)
assert (mine["residentAttendance"], mine["staffAttendance"]) == (2, 1), mine

driver, wait = browser()
try:
    step("the community doctor records a second session on the health-education page")
    user, password, _ = people["doctor"]
    sign_in(driver, wait, base, user, password)
    driver.get(base + "/health-records")
    driver.find_element(By.ID, "education-link").click()
    card = wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'section.course[data-course="{course_id}"]')))
    assert card.find_element(By.CSS_SELECTOR, ".resident-attendance").text == "2"
    card.find_element(By.TAG_NAME, "summary").click()
    day2 = today - datetime.timedelta(days=1)
    driver.execute_script("arguments[0].value = arguments[1];", card.find_element(By.NAME, "date"), str(day2))
    card.find_element(By.NAME, f"resident-{rid}").click()
    card.find_element(By.CSS_SELECTOR, ".attendance-staff").send_keys(people["manager"][0])
    card.find_element(By.CSS_SELECTOR, ".attendance-submit").click()
    wait.until(EC.presence_of_element_located((By.ID, "attendance-done")))
    card = driver.find_element(By.CSS_SELECTOR, f'section.course[data-course="{course_id}"]')
    assert card.find_element(By.CSS_SELECTOR, ".resident-attendance").text == "3"
    assert card.find_element(By.CSS_SELECTOR, ".staff-attendance").text == "2"
    driver.save_screenshot(os.path.join(shots, "health-teaching-04-education.png"))

    step("the FHIR resident's missing address is completed on the record page; an empty field keeps the record's value")
    driver.get(base + f"/health-records/residents/{fid}")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#edit-basic summary"))).click()
    driver.find_element(By.ID, "basic-address").send_keys("5 East Road")
    driver.find_element(By.ID, "basic-save").click()
    wait.until(lambda d: "5 East Road" in d.find_element(By.ID, "information").text)
    kept = api("doctor", "GET", f"/api/health/residents/{fid}")[1]["resident"]
    assert kept["address"] == "5 East Road" and kept["phone"] == "13900000002" and kept["name"] == "赵敏", kept
finally:
    driver.quit()

step("the person-time indicator counts the examinations, the assessment and every attendance")
status, board = api("admin", "GET", f"/api/programme/dashboard?year={today.year}")
assert status == 200, board
figure = next(i for i in board["indicators"] if i["key"] == "health.service-person-times")
services = [today, today, today]  # the FHIR examination, the case's examination, its assessment
services += [day1] * 3 + [day2] * 2  # attendance: two residents and a doctor, then a resident and a manager
in_year = sum(1 for d in services if d.year == today.year)
assert figure["value"] == in_year, (figure, in_year)
print("ok")
