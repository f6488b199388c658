#!/usr/bin/env python3
"""The teaching library in headless Chromium (selenium) and over its JSON API (urllib), as three people.

Usage: library_browser.py BASE_URL LOCALES_DIR SCREENSHOT_DIR PEOPLE_JSON

PEOPLE_JSON: {"curatorA": [user, password, token], "curatorB": [...], "student": [...]}.
Steps: curator A writes a case through the form (Chinese and English text) and submits it; A cannot approve it
(refused by the server); curator B approves it in a fresh browser session; the student finds it by the two-character
term 肺癌 and by the modality facet, opens it, sees the diagnosis, and in unknown mode does not; over the API the
student cannot search unpublished cases, write, or curate; a stale revision is a conflict. Prints one line per step and
"ok" at the end; exits non-zero with the reason on the first failure.
"""
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, locales_dir, shots, people_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
people = json.load(open(people_path, encoding="utf-8"))


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


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def sign_in(driver, wait, who):
    user, password, _ = people[who]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(user)
    driver.find_element(By.ID, "password").send_keys(password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    # English as the person's setting, so the checks can use en.json's strings.
    driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")


def api(who, method, path, body=None):
    token = people[who][2]
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fail(message):
    sys.exit("FAILED: " + message)


title = "右肺下叶肺癌 Right lower lobe lung cancer"
diagnosis = "肺腺癌 adenocarcinoma"

step("curator A writes a case through the form and submits it")
a, wait_a = browser()
sign_in(a, wait_a, "curatorA")
a.get(base + "/library/new")
wait_a.until(EC.presence_of_element_located((By.ID, "case-title-input"))).send_keys(title)
a.find_element(By.ID, "case-findings").send_keys("右肺下叶见不规则肿块，边缘毛刺。Spiculated mass.")
a.find_element(By.ID, "case-diagnosis").send_keys(diagnosis)
a.find_element(By.ID, "case-modalities").send_keys("CT")
a.find_element(By.ID, "case-region").send_keys("chest")
a.save_screenshot(os.path.join(shots, "library-edit.png"))
a.find_element(By.ID, "case-save").click()
wait_a.until(EC.presence_of_element_located((By.ID, "case-status")))
case_id = a.current_url.rstrip("/").split("/")[-1]
if a.find_element(By.ID, "case-status").text != english["library.status.draft"]:
    fail("a new case is not a draft: " + a.find_element(By.ID, "case-status").text)
a.find_element(By.CSS_SELECTOR, "button[data-action=submit]").click()
wait_a.until(lambda d: d.find_element(By.ID, "case-status").text == english["library.status.in-review"])

step("curator A cannot approve their own version")
status, case = api("curatorA", "GET", f"/api/library/cases/{case_id}")
status, answer = api("curatorA", "POST", f"/api/library/cases/{case_id}/approve", {"revision": case["revision"]})
if status != 403:
    fail(f"the author approved their own version: {status} {answer}")

step("curator B approves it in another browser")
b, wait_b = browser()
sign_in(b, wait_b, "curatorB")
b.get(base + "/library/queue")
wait_b.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-case='{case_id}'] a"))).click()
wait_b.until(EC.presence_of_element_located((By.CSS_SELECTOR, "button[data-action=approve]"))).click()
wait_b.until(lambda d: d.find_element(By.ID, "case-status").text == english["library.status.published"])
b.save_screenshot(os.path.join(shots, "library-case-curator.png"))
b.quit()
a.quit()

step("the student finds it by 肺癌 and by the modality facet")
s, wait_s = browser()
sign_in(s, wait_s, "student")
s.get(base + "/library?q=" + urllib.parse.quote("肺癌"))
wait_s.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}']")))
s.find_element(By.CSS_SELECTOR, "#library-facets section[data-facet=modality] a[data-value=CT]").click()
wait_s.until(lambda d: "modality=CT" in d.current_url)
wait_s.until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}']")))
s.save_screenshot(os.path.join(shots, "library-search.png"))
if s.find_elements(By.ID, "library-new") or s.find_elements(By.ID, "library-latest"):
    fail("a student sees the curators' controls")

step("the student opens it and sees the diagnosis; in unknown mode it is hidden")
s.find_element(By.CSS_SELECTOR, f"#library-results li[data-case='{case_id}'] a").click()
wait_s.until(EC.presence_of_element_located((By.ID, "case-body")))
if diagnosis not in s.find_element(By.ID, "case-body").text or title not in s.find_element(By.ID, "case-title").text:
    fail("the published case does not show its title and diagnosis")
s.get(base + f"/library/cases/{case_id}?unknown=1")
wait_s.until(EC.presence_of_element_located((By.ID, "case-body")))
if diagnosis in s.page_source or "肺癌" in s.find_element(By.ID, "case-title").text:
    fail("unknown mode shows the diagnosis")
s.save_screenshot(os.path.join(shots, "library-unknown.png"))
s.quit()

step("over the API the student reads published cases only and cannot write or curate")
status, result = api("student", "GET", "/api/library/cases?q=" + urllib.parse.quote("肺腺癌"))
if status != 200 or [c["id"] for c in result["cases"]] != [int(case_id)]:
    fail(f"student search: {status} {result}")
for method, path, body in [
    ("GET", "/api/library/cases?scope=latest", None),
    ("POST", "/api/library/cases", {"content": {"title": "x", "clinicalHistory": "", "findings": "", "diagnosis": "", "diagnosisCode": "", "differentialDiagnosis": "", "discussion": "", "learningPoints": [], "references": [], "tags": {"modalities": [], "bodyRegion": "", "organSystem": "", "pathologyCategory": "", "audience": "both", "difficulty": 3, "curriculumItems": [], "keywords": []}, "keyImages": []}}),
    ("POST", f"/api/library/cases/{case_id}/retire", {"revision": 0}),
]:
    status, answer = api("student", method, path, body)
    if status != 403:
        fail(f"student {method} {path}: {status} {answer}")

step("a stale revision is a conflict")
status, case = api("curatorB", "GET", f"/api/library/cases/{case_id}")
content = case["content"]
content["discussion"] = "毛刺征提示恶性。"
status, edited = api("curatorB", "PUT", f"/api/library/cases/{case_id}", {"content": content, "revision": case["revision"]})
if status != 200 or edited["status"] != "draft" or edited["publishedVersion"] != 1:
    fail(f"edit of a published case: {status} {edited}")
status, answer = api("curatorA", "PUT", f"/api/library/cases/{case_id}", {"content": content, "revision": case["revision"]})
if status != 409:
    fail(f"a stale revision was accepted: {status} {answer}")
status, versions = api("curatorA", "GET", f"/api/library/cases/{case_id}/versions")
if [v["version"] for v in versions["versions"]] != [1, 2] or versions["versions"][1]["changes"][0]["field"] != "discussion":
    fail(f"versions: {versions}")
print("ok")
