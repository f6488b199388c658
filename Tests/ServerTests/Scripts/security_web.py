#!/usr/bin/env python3
"""Web security of a running `atrium serve --demo` (OWASP ASVS 5.0), from the outside: requests for the JSON API and
headless Chromium (selenium) for the pages.

Usage: security_web.py BASE_URL ACCOUNTS_JSON SCREENSHOT_DIR PART...

ACCOUNTS_JSON: {"demo-admin": password, …} as the start banner printed them. PART is one or more of:
  xss     payloads stored through each user-supplied field (a DICOM patient name, a consultation question, report
          text, an attachment's file name, a teaching case, a resident's name) and then shown in Chromium: none runs,
          no element or handler of theirs appears in the page, and the text shows as text.
  csp     every page family loaded in Chromium as a person who may see it: no Content Security Policy violation in
          the browser console, and every page answers with the policy.
  csrf    cross-origin form posts and fetches from an attacker's page on another origin (same site: another port of
          127.0.0.1; other site: localhost) with the victim's cookie: refused, and nothing changed.
  sql     search fields given quotes and SQL: the right answers (counted here from what was stored), never an error.
  matrix  the workflow route families (consultation, library, training, programme, CE, laboratory, pathology, health)
          for anonymous callers and each demo role: 401, 403 or 2xx exactly as docs/api.md says.
Prints one line per step and "ok" at the end; exits non-zero after listing every failure.
"""
import datetime
import http.server
import io
import json
import os
import socket
import sys
import threading
import time

import pydicom
import requests
from pydicom.uid import generate_uid

base = sys.argv[1]
accounts = json.load(open(sys.argv[2], encoding="utf-8"))
shots = sys.argv[3]
parts = set(sys.argv[4:])
os.makedirs(shots, exist_ok=True)
failures = []
MARK = "XSSMARK"
# A payload of each kind of injection: an element with a handler, a script, an attribute break-out and an SVG handler.
PAYLOAD = MARK + '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>"\'><svg onload="window.__xss=3"><xss-el></xss-el>'
# The same for a DICOM person name, where "=" separates the alphabetic, ideographic and phonetic groups and "^" the
# components: an element of our own, a script, an attribute break-out.
NAME_PAYLOAD = MARK + "\"'><xss-el></xss-el><script>xssRan()</script>"


def step(name):
    print("step:", name, flush=True)


def fail(message):
    print("FAIL:", message, flush=True)
    failures.append(message)


def check(condition, message):
    if not condition:
        fail(message)
    return condition


class Person:
    """A signed-in person over the JSON API: the session cookie and the CSRF token the sign-in returned."""

    def __init__(self, username):
        self.username = username
        self.http = requests.Session()
        response = self.http.post(base + "/api/session", json={"username": username, "password": accounts[username]}, timeout=60)
        if response.status_code != 200:
            raise SystemExit(f"{username} cannot sign in: {response.status_code} {response.text}")
        self.csrf = response.json()["csrfToken"]

    def call(self, method, path, body=None, data=None, headers=None, params=None, allow_redirects=True):
        all_headers = {"X-CSRF-Token": self.csrf}
        all_headers.update(headers or {})
        return self.http.request(method, base + path, json=body, data=data, headers=all_headers, params=params, timeout=120,
                                 allow_redirects=allow_redirects)


people = {}


def person(username):
    if username not in people:
        people[username] = Person(username)
    return people[username]


def corpus(name):
    return os.path.join(os.path.dirname(pydicom.__file__), "data", "test_files", name)


def stow(who, patient_name, patient_id):
    """Stores CT_small with fresh UIDs and the given patient; returns the Study Instance UID."""
    dataset = pydicom.dcmread(corpus("CT_small.dcm"))
    dataset.PatientName = patient_name
    dataset.PatientID = patient_id
    dataset.StudyInstanceUID = generate_uid()
    dataset.SeriesInstanceUID = generate_uid()
    dataset.SOPInstanceUID = generate_uid()
    dataset.file_meta.MediaStorageSOPInstanceUID = dataset.SOPInstanceUID
    dataset.SpecificCharacterSet = "ISO_IR 192"
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    body = b"--xyz\r\nContent-Type: application/dicom\r\n\r\n" + buffer.getvalue() + b"\r\n--xyz--\r\n"
    response = person(who).call("POST", "/dicom-web/studies", data=body, headers={
        "Content-Type": 'multipart/related; type="application/dicom"; boundary=xyz', "Accept": "application/dicom+json"})
    if response.status_code != 200:
        raise SystemExit(f"STOW-RS as {who}: {response.status_code} {response.text[:300]}")
    return dataset.StudyInstanceUID


def tiny_jpeg():
    """A baseline JPEG made by Pillow (8×8 grey)."""
    from PIL import Image
    out = io.BytesIO()
    Image.new("L", (8, 8), 128).save(out, format="JPEG", quality=90)
    return out.getvalue()


# MARK: - Chromium

def browser():
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900",
                     "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.set_page_load_timeout(90)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def browser_as(username):
    """A Chromium whose cookie jar holds a fresh session of `username` (signed in through the login page)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver, wait = browser()
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(username)
    driver.find_element(By.ID, "password").send_keys(accounts[username])
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: username in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    return driver, wait


def csp_violations(driver):
    """Console entries that report a Content Security Policy violation (Chromium words them 'Refused to … because it
    violates the following Content Security Policy directive')."""
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry.get("message", "")]


def settle(driver, wait):
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
    # Pages fetch and draw after load (the viewer, the worklist); give their scripts a moment to run into the policy:
    # until no new resource was fetched for 0.5 s (at most 3 s), rather than a fixed pause on every page.
    quiet_since, seen, deadline = time.monotonic(), -1, time.monotonic() + 3
    while time.monotonic() < deadline:
        count = driver.execute_script("return performance.getEntriesByType('resource').length")
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif time.monotonic() - quiet_since >= 0.5:
            break
        time.sleep(0.1)


INJECTED = """
return {
  ran: window.__xss || 0,
  handlers: Array.from(document.querySelectorAll('[onerror], [onload], svg[onload]')).length,
  images: Array.from(document.querySelectorAll('img')).filter(i => i.getAttribute('src') === 'x').length
      + document.querySelectorAll('xss-el').length,
  scripts: Array.from(document.querySelectorAll('script')).filter(s => (s.textContent || '').includes('__xss')
      && (s.type || 'text/javascript') !== 'application/json').length,
  text: document.body ? document.body.innerText : '',
  values: Array.from(document.querySelectorAll('input, textarea')).map(e => e.value).join('\\n'),
};
"""


def visit(driver, wait, path, label, expect_mark=False):
    """Loads a page; checks it against the policy (no violation) and against the payloads (none ran or was inserted)."""
    driver.get(base + path)
    settle(driver, wait)
    violations = csp_violations(driver)
    check(not violations, f"{label} ({path}): CSP violations in the console: {violations[:3]}")
    found = driver.execute_script(INJECTED)
    check(found["ran"] == 0, f"{label} ({path}): a payload ran (window.__xss = {found['ran']})")
    check(found["handlers"] == 0 and found["images"] == 0 and found["scripts"] == 0,
          f"{label} ({path}): a payload became markup: {found['handlers']} handlers, {found['images']} img src=x, "
          f"{found['scripts']} scripts")
    if expect_mark:
        shown = MARK in found["text"] or MARK in found["values"]
        check(shown, f"{label} ({path}): the stored text is not shown back (the check would prove nothing)")
        if shown and MARK in found["text"]:
            check("<xss-el>" in found["text"] or "<xss-el>" in found["values"],
                  f"{label} ({path}): the payload is not shown as literal text")
    safe = "".join(c if c.isalnum() else "-" for c in label)
    driver.save_screenshot(os.path.join(shots, f"{safe}.png"))


# MARK: - Seeding

def first(items, message):
    if not items:
        raise SystemExit(message)
    return items[0]


def seed_xss():
    """Stores the payload through each field; returns the pages that show it, per person."""
    step("store the payloads")
    patient = "XSS-" + os.urandom(4).hex()
    study = stow("demo-site", NAME_PAYLOAD, patient)
    site = person("demo-site")
    response = site.call("POST", "/api/consultations", body={
        "studies": [study], "priority": "stat", "serviceLine": "imaging", "question": PAYLOAD, "clinicalHistory": PAYLOAD,
        "referringPhysician": "Dr " + MARK, "accessionNumber": ""})
    if response.status_code != 201:
        raise SystemExit(f"consultation: {response.status_code} {response.text[:300]}")
    consultation = response.json()["id"]
    attachment = site.call("POST", f"/api/consultations/{consultation}/attachments",
                           params={"filename": PAYLOAD + ".jpg", "storeAs": "file"}, data=tiny_jpeg(),
                           headers={"Content-Type": "application/octet-stream"})
    check(attachment.status_code == 201, f"attachment with a hostile name: {attachment.status_code} {attachment.text[:200]}")
    reader = person("demo-reader")
    entries = reader.call("GET", "/api/worklist").json().get("entries", [])
    mine = [entry["workItem"] for entry in entries if entry.get("id") == consultation and entry.get("workItem")]
    item = first(mine, f"no work item for consultation {consultation} on the worklist")
    claim = reader.call("POST", f"/api/worklist/{item['id']}/claim")
    if claim.status_code != 200:
        raise SystemExit(f"claim: {claim.status_code} {claim.text[:300]}")
    report = claim.json()["reportID"]
    draft = reader.call("PUT", f"/api/reports/{report}/draft", body={
        "sections": [{"kind": "findings", "title": "Findings", "text": PAYLOAD},
                     {"kind": "impression", "title": "Impression", "text": PAYLOAD}]})
    check(draft.status_code in (200, 204), f"draft: {draft.status_code} {draft.text[:200]}")
    curator = person("demo-curator")
    # A whole case as the API gives one back, with the payload in every text a curator types.
    listed = curator.call("GET", "/api/library/cases").json()
    listed = listed.get("cases", listed) if isinstance(listed, dict) else listed
    content = curator.call("GET", f"/api/library/cases/{listed[0]['id']}").json()["content"]
    for key in ["title", "clinicalHistory", "findings", "diagnosis", "differentialDiagnosis", "discussion"]:
        content[key] = PAYLOAD
    content["learningPoints"] = [PAYLOAD]
    content["keyImages"] = []
    case = curator.call("POST", "/api/library/cases", body={"content": content})
    check(case.status_code == 201, f"library case: {case.status_code} {case.text[:200]}")
    case_id = case.json().get("id") if case.status_code == 201 else None
    health = person("demo-health")
    resident = health.call("POST", "/api/health/residents", body={
        "recordNumber": "XSS-" + os.urandom(3).hex(), "name": NAME_PAYLOAD, "sex": "female", "birthDate": "1970-04-02", "north": False,
        "urban": False, "information": {"diagnoses": [], "familyHistoryASCVD": False}})
    check(resident.status_code == 201, f"resident: {resident.status_code} {resident.text[:200]}")
    resident_id = resident.json().get("id") if resident.status_code == 201 else None
    pages = {
        "demo-site": [(f"/studies?id={patient}", "studies (patient name)", True),
                      (f"/studies/{study}", "study (patient name)", True),
                      ("/studies?name=" + requests.utils.quote(PAYLOAD), "studies search (reflected)", True),
                      (f"/consultations/{consultation}", "consultation (question, file name)", True),
                      ("/consultations", "consultations (patient name)", True)],
        "demo-reader": [("/worklist", "worklist (patient name)", True), (f"/reports/{report}", "report (report text)", True),
                        (f"/viewer?study={study}", "viewer (patient name)", False)],
        "demo-curator": [],
        "demo-health": [],
    }
    if case_id:
        pages["demo-curator"] += [(f"/library/cases/{case_id}", "library case (case text)", True),
                                  (f"/library/cases/{case_id}/edit", "library edit (case text)", True)]
    if resident_id:
        pages["demo-health"] += [("/health-records", "health records (resident name)", True),
                                 (f"/health-records/residents/{resident_id}", "resident (name)", True)]
    return pages


def run_xss():
    pages = seed_xss()
    for username, entries in pages.items():
        if not entries:
            continue
        step(f"payloads shown to {username}")
        driver, wait = browser_as(username)
        try:
            for path, label, expect in entries:
                visit(driver, wait, path, "xss " + label, expect_mark=expect)
        finally:
            driver.quit()


# MARK: - Every page family under the policy

def ids():
    admin = person("demo-admin")
    found = {}
    studies = admin.call("GET", "/dicom-web/studies", headers={"Accept": "application/dicom+json"}).json()
    found["study"] = studies[0]["0020000D"]["Value"][0]
    consultations = admin.call("GET", "/api/consultations").json()
    consultations = consultations.get("consultations", consultations) if isinstance(consultations, dict) else consultations
    found["consultation"] = consultations[0]["id"]
    detail = admin.call("GET", f"/api/consultations/{found['consultation']}").json()
    reports = detail.get("reports") or []
    found["report"] = reports[0]["id"] if reports else None
    for c in consultations:
        d = admin.call("GET", f"/api/consultations/{c['id']}").json()
        signed = [r for r in d.get("reports") or [] if r.get("status") in ("final", "amended", "preliminary")]
        if signed:
            found["signedReport"] = signed[0]["id"]
            break
    cases = admin.call("GET", "/api/library/cases").json()
    cases = cases.get("cases", cases) if isinstance(cases, dict) else cases
    found["case"] = cases[0]["id"] if cases else None
    exams = admin.call("GET", "/api/training/exams").json()
    exams = exams.get("exams", exams) if isinstance(exams, dict) else exams
    found["exam"] = exams[0]["id"] if exams else None
    residents = person("demo-health").call("GET", "/api/health/residents").json()
    found["resident"] = residents[0]["id"] if residents else None
    results = admin.call("GET", "/api/lab/result-sets").json()
    results = results.get("resultSets", results) if isinstance(results, dict) else results
    found["resultSet"] = results[0]["id"] if results else None
    courses = admin.call("GET", "/api/ce/courses").json()
    courses = courses.get("courses", courses) if isinstance(courses, dict) else courses
    found["course"] = courses[0]["id"] if courses else None
    return found


def run_csp():
    step("find one of each thing to show")
    found = ids()
    print("ids:", json.dumps(found), flush=True)
    families = {
        "demo-admin": [
            ("/", "home"), ("/studies", "studies"), (f"/studies/{found['study']}", "study"),
            (f"/viewer?study={found['study']}", "imaging viewer"), ("/upload", "upload"), ("/worklist", "worklist"),
            ("/consultations", "consultations"), (f"/consultations/{found['consultation']}", "consultation"),
            ("/turnaround", "turnaround"), ("/library", "library"), ("/library/collections", "library collections"),
            ("/library/queue", "library queue"), ("/library/new", "library new case"),
            ("/programme", "programme"), ("/programme/report", "programme report"), ("/ce", "CE courses"),
            ("/lab", "lab"), ("/lab/qc", "lab QC"), ("/lab/reference-ranges", "lab reference ranges"),
            ("/slide-viewer?series=1.2.3", "slide viewer"),
            ("/admin", "admin"), ("/admin/people", "admin people"), ("/admin/institutions", "admin institutions"),
            ("/admin/tokens", "admin tokens"), ("/admin/peers", "admin peers"), ("/admin/storage", "admin storage"),
            ("/admin/reading-rules", "admin reading rules"),
            ("/training", "training"), ("/training/questions", "training questions"), ("/training/exams/new", "new exam"),
        ],
        "demo-reader": [],
        "demo-student": [("/training", "training (student)"), ("/training/practice", "practice"),
                         ("/training/logbook", "logbook"), ("/library", "library (student)")],
        "demo-health": [("/health-records", "health records"), ("/health-records/due", "follow-ups due"),
                        ("/health-records/recommendations", "recommendations")],
    }
    if found.get("report"):
        families["demo-reader"].append((f"/reports/{found['report']}", "report"))
    if found.get("signedReport"):
        families["demo-admin"].append((f"/reports/{found['signedReport']}/print", "printed report"))
    if found.get("case"):
        families["demo-admin"].append((f"/library/cases/{found['case']}", "library case"))
    if found.get("exam"):
        families["demo-admin"] += [(f"/training/exams/{found['exam']}/proctor", "exam proctor"),
                                   (f"/training/exams/{found['exam']}/grade", "exam grading"),
                                   (f"/training/exams/{found['exam']}/analysis", "exam analysis")]
    if found.get("resultSet"):
        families["demo-admin"].append((f"/lab/result-sets/{found['resultSet']}", "lab result"))
    if found.get("course"):
        families["demo-admin"].append((f"/ce/courses/{found['course']}", "CE course"))
    if found.get("resident"):
        families["demo-health"] += [(f"/health-records/residents/{found['resident']}", "resident"),
                                    (f"/health-records/residents/{found['resident']}/report", "resident report")]
    step("the sign-in page, signed out")
    driver, wait = browser()
    try:
        visit(driver, wait, "/login", "login")
    finally:
        driver.quit()
    for username, entries in families.items():
        if not entries:
            continue
        step(f"{len(entries)} pages as {username}")
        driver, wait = browser_as(username)
        try:
            for path, label in entries:
                visit(driver, wait, path, "csp " + label)
        finally:
            driver.quit()
    # A student's exam attempt: the page that lost its inline submit handler.
    if found.get("exam"):
        student = person("demo-student")
        attempt = student.call("POST", f"/api/training/exams/{found['exam']}/attempts")
        if check(attempt.status_code in (200, 201), f"start an attempt: {attempt.status_code} {attempt.text[:200]}"):
            driver, wait = browser_as("demo-student")
            try:
                visit(driver, wait, f"/training/attempts/{attempt.json()['id']}", "csp exam attempt")
            finally:
                driver.quit()


# MARK: - Cross-origin requests

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def attacker_server(page):
    """Serves `page` at / on a free loopback port; returns the port."""
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = page.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return port, server


def run_csrf():
    curator = person("demo-curator")
    name = "CSRF-" + datetime.datetime.now().strftime("%H%M%S%f")

    def collections():
        answer = curator.call("GET", "/api/library/collections").json()
        answer = answer.get("collections", answer) if isinstance(answer, dict) else answer
        return [c for c in answer if name in json.dumps(c, ensure_ascii=False)]

    def language():
        return curator.call("GET", "/api/me").json()["language"]

    before = language()
    target = "en" if before == "zh-CN" else "zh-CN"
    page = f"""<!doctype html><html><body>
<form id="a" method="post" action="{base}/library/collections"><input name="title" value="{name}"><input name="name" value="{name}"></form>
<form id="b" method="post" action="{base}/language/{target}" target="other"><input name="return" value="/"></form>
<iframe name="other"></iframe>
<script>
fetch("{base}/api/library/collections", {{method: "POST", mode: "no-cors", credentials: "include",
  headers: {{"Content-Type": "text/plain"}}, body: JSON.stringify({{"title": "{name}", "name": "{name}"}})}}).catch(() => {{}});
document.getElementById("b").submit();
setTimeout(() => document.getElementById("a").submit(), 800);
</script></body></html>"""
    port, server = attacker_server(page)
    try:
        for origin in [f"http://127.0.0.1:{port}", f"http://localhost:{port}"]:
            step(f"an attacker's page at {origin} posts with the curator's cookie")
            driver, wait = browser_as("demo-curator")
            try:
                driver.get(origin + "/")
                # The page posts its form after 0.8 s; wait until the browser shows Atrium's answer.
                try:
                    wait.until(lambda d: d.current_url.startswith(base)
                               and d.execute_script("return document.readyState") == "complete")
                except Exception:
                    pass
                landed = driver.current_url
                shown = driver.find_element("tag name", "body").text
                driver.save_screenshot(os.path.join(shots, f"csrf-{origin.split('//')[1].replace(':', '-')}.png"))
                check(landed.startswith(base), f"the form post did not reach Atrium: {landed}")
                check(not landed.startswith(base + "/library/collections/"), f"a collection page followed: {landed}")
                check("CSRF" in shown or "sign in" in shown.lower() or landed.startswith(base + "/login"),
                      f"{origin}: Atrium's answer does not say why it refused: {shown[:200]}")
            finally:
                driver.quit()
            check(not collections(), f"{origin}: a collection was created by a cross-origin post")
            check(language() == before, f"{origin}: the language was switched by a cross-origin post")
    finally:
        server.shutdown()
    # The same requests from a script that knows no token: refused whatever the Origin (no token, no change).
    step("cookie without token, every route family")
    samples = [
        ("POST", "/api/consultations", {"studies": [], "question": name}),
        ("POST", "/api/library/collections", {"title": name}),
        ("POST", "/api/training/questions", {"content": {"kind": "single", "stem": name}}),
        ("POST", "/api/programme/actions", {"indicator": "consultations", "title": name}),
        ("POST", "/api/ce/courses", {"title": name}),
        ("POST", "/api/lab/reference-ranges", {"loinc": "2345-7"}),
        ("POST", "/api/health/residents", {"recordNumber": name}),
        ("PUT", "/api/wsi/series/1.2.3/annotations", {}),
        ("POST", "/api/admin/institutions", {"code": name, "kind": "college"}),
        ("POST", "/api/me/password", {"current": "x", "new": "y"}),
        ("DELETE", "/api/library/shares/1", None),
        ("POST", "/dicom-web/studies", None),
        ("POST", "/uploads", {"name": name, "size": 1}),
        ("POST", "/logout", None),
    ]
    admin = person("demo-admin")
    for method, path, body in samples:
        for headers in [{}, {"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}]:
            response = admin.http.request(method, base + path, json=body, headers=headers, timeout=60)
            check(response.status_code == 403, f"{method} {path} with the cookie and no token {headers}: {response.status_code}")
        # The right token but a browser-reported cross-site request: refused too (Fetch Metadata).
        response = admin.call(method, path, body=body, headers={"Sec-Fetch-Site": "cross-site"})
        check(response.status_code == 403, f"{method} {path} cross-site with the token: {response.status_code}")
    check(admin.call("GET", "/api/me").status_code == 200, "the admin's session survived the refused sign-out")


# MARK: - SQL through search fields

def run_sql():
    step("names with quotes, and SQL, in every search field")
    admin = person("demo-admin")
    family = "O'Brien" + "".join(chr(97 + b % 26) for b in os.urandom(6))
    obrien = stow("demo-admin", family + "^Mary", "SQL-" + family[7:])
    injections = ["' OR '1'='1", "x' OR 1=1--", "'; DROP TABLE people;--", "\" OR \"\"=\"", "%' OR '%'='", "\\'", "';--"]

    def qido(params):
        response = admin.call("GET", "/dicom-web/studies", params=params, headers={"Accept": "application/dicom+json"})
        check(response.status_code in (200, 204), f"QIDO {params}: {response.status_code} {response.text[:200]}")
        return [s["0020000D"]["Value"][0] for s in (response.json() if response.status_code == 200 else [])]

    found = qido({"PatientName": family + "*"})
    check(found == [obrien], f"QIDO PatientName={family}*: {found}, expected exactly {obrien}")
    found = qido({"PatientName": family + "^Mary"})
    check(found == [obrien], f"QIDO PatientName={family}^Mary: {found}")
    found = qido({"PatientName": "O'Brien"})
    check(obrien not in found, f"QIDO PatientName=O'Brien (no wildcard) matched {family}^Mary")
    everything = qido({})
    for text in injections:
        for key in ["PatientName", "PatientID", "AccessionNumber", "StudyDescription", "ModalitiesInStudy"]:
            found = qido({key: text})
            check(found == [], f"QIDO {key}={text!r} matched {len(found)} studies (of {len(everything)})")
    searches = [
        ("demo-admin", "/api/library/cases", "q"), ("demo-admin", "/api/health/residents", "q"),
        ("demo-health", "/api/health/residents", "q"), ("demo-admin", "/api/admin/audit", "user"),
        ("demo-admin", "/api/admin/audit", "participant"), ("demo-reader", "/api/worklist", "modality"),
        ("demo-reader", "/api/worklist", "institution"), ("demo-admin", "/api/lab/history", "patient"),
        ("demo-admin", "/api/training/questions", "q"), ("demo-admin", "/api/consultations", "q"),
    ]
    def rows(who, path, key, text):
        response = person(who).call("GET", path, params={key: text})
        check(response.status_code in (200, 400, 404), f"{path}?{key}={text!r}: {response.status_code} {response.text[:200]}")
        if response.status_code != 200:
            return None
        answer = response.json()
        if isinstance(answer, dict):
            answer = answer.get("items") or answer.get("cases") or answer.get("results") or answer.get("events") or []
        return len(answer)

    for who, path, key in searches:
        for text in injections:
            # The same words without the SQL punctuation: quotes, semicolons, comment dashes and wildcards must not
            # change what a search finds (they are text to match, not syntax).
            plain = "".join(c for c in text if c not in "'\";-%\\").strip()
            found, expected = rows(who, path, key, text), rows(who, path, key, plain)
            if found is not None and expected is not None:
                check(found == expected or found == 0,
                      f"{path}?{key}={text!r} found {found} rows, the same words without punctuation {expected}")


# MARK: - Authorization of the workflow route families

# Written from docs/api.md's rules for each family (not from Atrium's answers). A cell is the status expected, "ok" for
# "allowed" (any answer but 401, 403 and a redirect to sign in: the body of a write is deliberately incomplete, so an
# allowed write is a 400), or None where the documentation does not say.
ROLES = ["anonymous", "demo-site", "demo-reader", "demo-curator", "demo-student", "demo-supervisor", "demo-health",
         "demo-admin"]
OK = "ok"
# columns:                                            anon  site  reader curator student superv. health admin
MATRIX = [
    # Consultations: "students and curators get 403"; requests for sites, readers, administrators; the worklist for
    # readers (administrators read it).
    ("consultation", "GET", "/api/consultations", None, [401, OK, OK, 403, 403, None, 403, OK]),
    ("consultation", "GET", "/api/worklist", None, [401, 403, OK, 403, 403, None, 403, OK]),
    ("consultation", "GET", "/worklist", None, [302, None, OK, 403, 403, None, 403, OK]),
    # Library: anyone signed in reads published cases; the flagged queue is for curators and administrators.
    ("library", "GET", "/api/library/cases", None, [401, OK, OK, OK, OK, OK, OK, OK]),
    ("library", "GET", "/api/library/flagged", None, [401, 403, 403, OK, 403, 403, 403, OK]),
    ("library", "GET", "/library", None, [302, OK, OK, OK, OK, OK, OK, OK]),
    # Training: curators and administrators manage the question bank.
    ("training", "GET", "/api/training/questions", None, [401, 403, 403, OK, 403, 403, 403, OK]),
    ("training", "POST", "/api/training/questions", {}, [401, 403, 403, OK, 403, 403, 403, OK]),
    # Programme: the office (administrators) and supervisors read the figures; only administrators change them.
    ("programme", "GET", "/api/programme/dashboard", None, [401, 403, 403, 403, 403, OK, 403, OK]),
    ("programme", "PUT", "/api/programme/targets", {}, [401, 403, 403, 403, 403, 403, 403, OK]),
    # CE: everyone signed in sees the published courses; teachers (curators) and the office create them.
    ("CE", "GET", "/api/ce/courses", None, [401, OK, OK, OK, OK, OK, OK, OK]),
    ("CE", "POST", "/api/ce/courses", {}, [401, 403, 403, OK, 403, 403, 403, OK]),
    # Laboratory: sites, readers, supervisors, administrators.
    ("laboratory", "GET", "/api/lab/result-sets", None, [401, OK, OK, 403, 403, OK, 403, OK]),
    ("laboratory", "GET", "/lab", None, [302, OK, OK, 403, 403, OK, 403, OK]),
    # Pathology: slide pyramids are read like WADO-RS (students and health managers never see clinical studies); an
    # unknown series is 404 for everyone who may look.
    ("pathology", "GET", "/api/wsi/series/1.2.3", None, [401, 404, 404, 404, 403, 404, 403, 404]),
    # Health records: anyone signed in lists the residents they may see (students de-identified); health managers
    # (and administrators) edit the recommendation library.
    ("health", "GET", "/api/health/residents", None, [401, OK, OK, OK, OK, OK, OK, OK]),
    ("health", "POST", "/api/health/recommendations", {}, [401, 403, 403, 403, 403, 403, OK, OK]),
    ("admin", "GET", "/api/admin/people", None, [401, 403, 403, 403, 403, 403, 403, OK]),
]


def run_matrix():
    step("workflow route families x roles")
    anonymous = requests.Session()
    for family, method, path, body, expected in MATRIX:
        for role, want in zip(ROLES, expected):
            if want is None:
                continue
            if role == "anonymous":
                got = anonymous.request(method, base + path, json=body, allow_redirects=False, timeout=60).status_code
            else:
                got = person(role).call(method, path, body=body, allow_redirects=False).status_code
            if want == OK:
                check(got not in (401, 403) and not (300 <= got < 400),
                      f"matrix {family} {method} {path} as {role}: {got}, expected allowed")
            else:
                check(got == want, f"matrix {family} {method} {path} as {role}: {got}, expected {want}")


for part in ["xss", "csp", "csrf", "sql", "matrix"]:
    if part in parts:
        globals()["run_" + part]()

if failures:
    print(f"{len(failures)} failures", flush=True)
    sys.exit(1)
print("ok")
