#!/usr/bin/env python3
"""The programme office's indicators over the JSON API (urllib) and in headless Chromium (selenium).

Usage: programme_web.py BASE_URL LOCALES_DIR SCREENSHOT_DIR SEED_JSON

SEED_JSON: {"people": {"office"|"supervisor"|"student"|"site": [user, password, token]}, "consultations": [site, ...],
"cases": [{"institution", "published"}]} — what the Swift test stored just before, all of it now.
Expected figures are counted here from the seed, and statuses follow the documented rule (a count against the share of its
yearly target due by now, computed here from the server's "now" and the year's bounds in UTC+8; a level against the
target itself). Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import collections
import csv
import datetime
import io
import json
import os
import sys
import urllib.error
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

base, locales_dir, shots, seed_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
seed = json.load(open(seed_path, encoding="utf-8"))
people = seed["people"]


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


def api(who, method, path, body=None, raw=False):
    token = people[who][2]
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method, headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request) as response:
            payload = response.read()
            return response.status, (payload if raw else json.loads(payload or b"{}"))
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            return error.code, json.loads(payload or b"{}")
        except ValueError:
            return error.code, {"raw": payload.decode(errors="replace")}


tz = datetime.timezone(datetime.timedelta(hours=8))
now_local = datetime.datetime.now(tz)
year, month = now_local.year, now_local.month

step("the role table: students and site users are refused, supervisors read, only the office writes")
for who in ["student", "site"]:
    status, _ = api(who, "GET", f"/api/programme/dashboard?year={year}")
    assert status == 403, f"{who} reads the dashboard: {status}"
status, _ = api("supervisor", "GET", f"/api/programme/dashboard?year={year}")
assert status == 200, status
target = {"year": year, "institution": None, "indicator": "consultations", "target": 1000, "warning": 800, "owner": "prog-office"}
status, _ = api("supervisor", "PUT", "/api/programme/targets", target)
assert status == 403, f"a supervisor sets a target: {status}"
status, _ = api("student", "POST", "/api/programme/actions", {"year": year, "indicator": "consultations", "description": "x", "owner": "x", "due": "2026-12-31"})
assert status == 403, status

step("the office sets targets; a warning on the wrong side and an unknown indicator are refused")
assert api("office", "PUT", "/api/programme/targets", target)[0] == 200
breach = {"year": year, "institution": None, "indicator": "consultations.breach-rate", "target": 10, "warning": 20, "owner": "prog-office"}
assert api("office", "PUT", "/api/programme/targets", breach)[0] == 200
county = dict(target, institution="COUNTY-A", target=12, warning=6)
assert api("office", "PUT", "/api/programme/targets", county)[0] == 200
status, body = api("office", "PUT", "/api/programme/targets", dict(target, warning=1200))
assert status == 400 and "warning" in json.dumps(body), (status, body)
status, _ = api("office", "PUT", "/api/programme/targets", dict(target, indicator="no.such"))
assert status == 400, status

step("a named indicator with a figure and its evidence; a derived indicator refuses a typed-in figure")
status, _ = api("office", "POST", "/api/programme/indicators", {"key": "awards", "unit": "count", "nameEnglish": "Teaching awards", "nameChinese": "教学奖励"})
assert status == 201, status
assert api("office", "POST", "/api/programme/indicators", {"key": "awards", "unit": "count", "nameEnglish": "x", "nameChinese": "x"})[0] == 409
today = now_local.strftime("%Y-%m-%d")
assert api("office", "POST", "/api/programme/figures", {"indicator": "awards", "institution": "MEDCOLLEGE", "date": today, "value": 2, "evidence": "Provincial prize, file 12"})[0] == 201
assert api("office", "POST", "/api/programme/figures", {"indicator": "awards", "institution": "MEDCOLLEGE", "date": today, "value": 1, "evidence": " "})[0] == 400
assert api("office", "POST", "/api/programme/figures", {"indicator": "consultations", "institution": "MEDCOLLEGE", "date": today, "value": 1, "evidence": "typed"})[0] == 400

step("every figure equals the count of the seed, for the alliance, each institution and the month")
sites = collections.Counter(seed["consultations"])
# Studies sent: distinct Study Instance UIDs of each site's requests (docs/api.md).
studies_sent = {site: len({uid for s, uid in seed["consultationStudies"] if s == site}) for site in sites}
added = collections.Counter(c["institution"] for c in seed["cases"])
published = collections.Counter(c["institution"] for c in seed["cases"] if c["published"])


def expected(institution, month_filter):
    def pick(counter):
        return float(sum(counter.values()) if institution is None else counter.get(institution, 0))
    in_period = month_filter in (None, month)
    figures = {
        "consultations": pick(sites) if in_period else 0.0,
        "library.cases-added": pick(added) if in_period else 0.0,
        "library.cases-published": pick(published) if in_period else 0.0,
        "training.person-times": 0.0,
        # No health record is seeded: no examination, assessment or follow-up.
        "health.service-person-times": 0.0,
        # No final report yet, no exam, no case before this year: undefined.
        "consultations.turnaround-median": None,
        "exams.pass-rate": None,
        "library.growth": None,
        "awards": (2.0 if institution in (None, "MEDCOLLEGE") else None) if in_period else None,
        # No case page opened, no practice, no course published yet (CoursewareWebTests counts those).
        "library.case-views": 0.0,
        "library.practice-attempts": 0.0,
        "library.distinct-students": 0.0,
        "courses.published": 0.0,
    }
    # Every deadline is still ahead: no breach (a rate of the period's requests, undefined without any).
    figures["consultations.breach-rate"] = 0.0 if figures["consultations"] else None
    return figures


def status_of(value, target_value, warning, direction, cumulative, share):
    if target_value is None:
        return "no-target"
    if value is None:
        return "no-data"
    due, threshold = (target_value * share, warning * share) if cumulative else (target_value, warning)
    if direction == "higher":
        return "on-track" if value >= due else "warning" if value >= threshold else "off-track"
    return "on-track" if value <= due else "warning" if value <= threshold else "off-track"


targets = {(None, "consultations"): (1000, 800), (None, "consultations.breach-rate"): (10, 20), ("COUNTY-A", "consultations"): (12, 6)}
for institution in [None, "COUNTY-A", "COUNTY-B", "MEDCOLLEGE"]:
    for month_filter in [None, month, (month % 12) + 1]:
        query = f"/api/programme/dashboard?year={year}" + (f"&month={month_filter}" if month_filter else "") + (f"&institution={institution}" if institution else "")
        status, board = api("office", "GET", query)
        assert status == 200, (status, board)
        rows = {row["key"]: row for row in board["indicators"]}
        want = expected(institution, month_filter)
        assert set(rows) == set(want), (sorted(rows), sorted(want))
        start = datetime.datetime(year, 1, 1, tzinfo=tz).timestamp()
        end = datetime.datetime(year + 1, 1, 1, tzinfo=tz).timestamp()
        server_now = datetime.datetime.fromisoformat(board["now"].replace("Z", "+00:00")).timestamp()
        share = min(max((server_now - start) / (end - start), 0), 1)
        for key, value in want.items():
            got = rows[key]["value"]
            assert (got is None and value is None) or (got is not None and value is not None and abs(got - value) < 1e-9), f"{query} {key}: {got} != {value}"
            if month_filter is None:
                t = targets.get((institution, key))
                row = rows[key]
                wanted = status_of(value, t[0] if t else None, t[1] if t else None, row["direction"], row["accumulation"] == "cumulative", share)
                assert row["status"] == wanted, f"{query} {key}: status {row['status']} != {wanted}"
        if month_filter is None:
            monthly = rows["consultations"]["monthly"]
            assert len(monthly) == 12 and monthly[month - 1] == want["consultations"], monthly
            assert sum(m or 0 for m in monthly) == want["consultations"], monthly
contributions = {row["institution"]: row for row in api("office", "GET", f"/api/programme/dashboard?year={year}")[1]["contributions"]}
for institution in set(sites) | set(added):
    assert contributions[institution]["consultationsRequested"] == sites.get(institution, 0), contributions
    assert contributions[institution]["casesContributed"] == added.get(institution, 0), contributions
    assert contributions[institution]["casesPublished"] == published.get(institution, 0), contributions

step("each partner's part-time teachers, trainees hosted and inspections, counted here from the supervision records")
partner_seed = seed["partners"]


def partner_counts(y):
    """(part-time teachers, trainees hosted, inspections) of PARTNER-W in year y, by the definitions in docs/api.md."""
    first_day, last_day = f"{y}-01-01", f"{y}-12-31"
    # Trainees hosted: distinct trainees with a countersigned placement there overlapping the year (days compare as text).
    placed = [p for p in partner_seed["placements"] if p["countersigned"] and p["first"] <= last_day and p["last"] >= first_day]
    # Part-time teachers: distinct people of the partner who supervised a hosted placement or countersigned in the year.
    teachers = {p["supervisor"] for p in placed} | {r["person"] for r in partner_seed["reviews"] if r["date"].startswith(f"{y}-")}
    inspections = sum(1 for i in partner_seed["inspections"] if i["date"].startswith(f"{y}-"))
    return len(teachers), len({p["trainee"] for p in placed}), inspections


want_teachers, want_hosted, want_inspections = partner_counts(year)
assert (want_hosted, want_teachers, want_inspections) == (2, 2, 1), "the seed is what this step expects"
partner_row = {row["institution"]: row for row in api("office", "GET", f"/api/programme/dashboard?year={year}")[1]["contributions"]}["PARTNER-W"]
assert partner_row["traineesHosted"] == want_hosted and partner_row["partTimeTeachers"] == want_teachers and partner_row["inspections"] == want_inspections, partner_row
last_year = {row["institution"]: row for row in api("office", "GET", f"/api/programme/dashboard?year={year - 1}")[1]["contributions"]}["PARTNER-W"]
assert (last_year["partTimeTeachers"], last_year["traineesHosted"], last_year["inspections"]) == partner_counts(year - 1), last_year
status, payload = api("office", "GET", f"/api/programme/dashboard.csv?year={year}&table=contributions", raw=True)
assert status == 200, status
partner_csv = {row["institution"]: row for row in csv.DictReader(io.StringIO(payload.decode("utf-8")[1:]))}["PARTNER-W"]
assert (partner_csv["partTimeTeachers"], partner_csv["traineesHosted"], partner_csv["inspections"]) == (str(want_teachers), str(want_hosted), str(want_inspections)), partner_csv

step("the service-line breakdown: every seeded consultation is imaging (the default line), none pathology or laboratory")
status, board = api("office", "GET", f"/api/programme/dashboard?year={year}")
lines = {row["serviceLine"]: row for row in board["serviceLines"]}
assert list(lines) == ["imaging", "pathology", "laboratory"], board["serviceLines"]
assert lines["imaging"]["requested"] == sum(sites.values()) and lines["imaging"]["reported"] == 0, lines
assert lines["pathology"]["requested"] == 0 and lines["laboratory"]["requested"] == 0, lines
assert lines["imaging"]["turnaroundMedianHours"] is None, lines

step("the CSV export holds the same figures and opens as CSV")
status, payload = api("office", "GET", f"/api/programme/dashboard.csv?year={year}", raw=True)
assert status == 200
text = payload.decode("utf-8")
assert text.startswith("\ufeff"), "a byte-order mark for Excel"
table = {row["indicator"]: row for row in csv.DictReader(io.StringIO(text[1:]))}
assert float(table["consultations"]["value"]) == sum(sites.values())
assert table["consultations"]["target"] == "1000" and table["consultations.turnaround-median"]["value"] == ""

step("the XLSX export opens in openpyxl with the same figures as numbers, and the contributions sheet")
import openpyxl
status, payload = api("office", "GET", f"/api/programme/dashboard.xlsx?year={year}", raw=True)
assert status == 200 and payload[:2] == b"PK", status
workbook = openpyxl.load_workbook(io.BytesIO(payload))
assert len(workbook.sheetnames) == 3, workbook.sheetnames
sheet = workbook[workbook.sheetnames[0]]
values = {row[0]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
assert values["consultations"][2] == sum(sites.values()) and isinstance(values["consultations"][2], (int, float)), values["consultations"]
assert values["consultations"][3] == 1000 and values["consultations.turnaround-median"][2] is None
assert values["consultations"][6 + month] == sum(sites.values()), values["consultations"]
contribution_rows = {row[0]: row for row in workbook[workbook.sheetnames[1]].iter_rows(min_row=2, values_only=True)}
assert contribution_rows["COUNTY-A"][1:3] == (studies_sent["COUNTY-A"], sites["COUNTY-A"]), contribution_rows
assert tuple(contribution_rows["PARTNER-W"][8:11]) == (want_teachers, want_hosted, want_inspections), contribution_rows["PARTNER-W"]
board_rows = {row["institution"]: row for row in api("office", "GET", f"/api/programme/dashboard?year={year}")[1]["contributions"]}
assert all(board_rows[site]["studiesSent"] == studies_sent[site] for site in sites), board_rows

step("improvement actions: opened, a closing note required, closed once")
status, body = api("office", "POST", "/api/programme/actions", {"year": year, "institution": "COUNTY-B", "indicator": "consultations", "description": "Visit the county hospital", "owner": "prog-office", "due": today})
assert status == 201, (status, body)
action = body["id"]
assert api("office", "POST", f"/api/programme/actions/{action}/close", {"note": "  "})[0] == 400
assert api("office", "POST", f"/api/programme/actions/{action}/close", {"note": "Two visits held"})[0] == 200
assert api("office", "POST", f"/api/programme/actions/{action}/close", {"note": "again"})[0] == 409
status, body = api("supervisor", "GET", f"/api/programme/actions?year={year}")
assert status == 200 and body["actions"][0]["state"] == "closed" and body["actions"][0]["closingNote"] == "Two visits held", body


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


driver, wait = browser()
try:
    step("the office signs in and opens the dashboard from the navigation")
    user, password, _ = people["office"]
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
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="/programme"]').click()
    wait.until(EC.presence_of_element_located((By.ID, "programme-indicators")))
    row = driver.find_element(By.CSS_SELECTOR, '#programme-indicators tr[data-indicator="consultations"]')
    assert row.get_attribute("data-status") == api("office", "GET", f"/api/programme/dashboard?year={year}")[1]["indicators"][0]["status"]
    assert row.find_element(By.CSS_SELECTOR, ".value").text.split()[0] == str(sum(sites.values())), row.text
    assert strings["en"]["programme.indicators.consultations"] in row.text
    step("each indicator has a chart drawn on the server, with a bar per month and the target's line")
    chart = driver.find_element(By.CSS_SELECTOR, '#chart-consultations svg')
    assert len(chart.find_elements(By.CSS_SELECTOR, "rect.bar")) == 12
    assert chart.find_elements(By.CSS_SELECTOR, "line.limit"), "the target's monthly share is drawn"
    cells = driver.find_elements(By.CSS_SELECTOR, '#chart-consultations table.monthly td')
    assert cells[month - 1].text == str(sum(sites.values())), [c.text for c in cells]
    partner_cells = {td.get_attribute("data-column"): td.text for td in driver.find_elements(By.CSS_SELECTOR, '#programme-contributions tr[data-institution="PARTNER-W"] td[data-column]')}
    assert partner_cells == {"partTimeTeachers": str(want_teachers), "traineesHosted": str(want_hosted), "inspections": str(want_inspections)}, partner_cells
    assert strings["en"]["programme.contributions.traineesHosted"] in driver.find_element(By.CSS_SELECTOR, "#programme-contributions thead").get_attribute("textContent")
    driver.save_screenshot(os.path.join(shots, "programme-01-dashboard.png"))

    step("a month and an institution filter the figures")
    driver.get(base + f"/programme?year={year}&month={month}&institution=COUNTY-B")
    wait.until(EC.presence_of_element_located((By.ID, "programme-indicators")))
    value = driver.find_element(By.CSS_SELECTOR, '#programme-indicators tr[data-indicator="consultations"] .value').text.split()[0]
    assert value == str(sites["COUNTY-B"]), value

    step("the office opens an improvement action through the form and closes it with a note")
    driver.get(base + f"/programme?year={year}")
    driver.find_element(By.CSS_SELECTOR, "#open-action summary").click()
    form = driver.find_element(By.CSS_SELECTOR, "#open-action form")
    form.find_element(By.NAME, "description").send_keys("Train two more readers")
    form.find_element(By.NAME, "owner").send_keys("prog-office")
    driver.execute_script("arguments[0].value = arguments[1]", form.find_element(By.NAME, "due"), today)
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: any("Train two more readers" in li.text for li in d.find_elements(By.CSS_SELECTOR, "#programme-actions li.action")))
    item = [li for li in driver.find_elements(By.CSS_SELECTOR, "#programme-actions li.action") if "Train two more readers" in li.text][0]
    item.find_element(By.NAME, "note").send_keys("Two readers trained")
    item.find_element(By.CSS_SELECTOR, "form.close-action button").click()
    wait.until(lambda d: any("Two readers trained" in li.text for li in d.find_elements(By.CSS_SELECTOR, "#programme-actions li.action")))

    step("in Chinese, the page speaks the Chinese locale")
    driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="zh-CN"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN")
    assert driver.find_element(By.CSS_SELECTOR, ".page-head h1").text == strings["zh-CN"]["programme.title"]
    assert strings["zh-CN"]["programme.indicators.consultations"] in driver.find_element(By.ID, "programme-indicators").text

    step("the yearly report lists every indicator with its chart, the contributions and the actions")
    driver.get(base + f"/programme/report?year={year}")
    wait.until(EC.presence_of_element_located((By.ID, "report-indicators")))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#report-indicators tbody tr")) == len(expected(None, None))
    assert len(driver.find_elements(By.CSS_SELECTOR, ".report-chart svg")) == len(expected(None, None))
    assert len(driver.find_elements(By.CSS_SELECTOR, "#report-actions li")) == 2
    imaging_row = driver.find_element(By.CSS_SELECTOR, '#report-service-lines tr[data-service-line="imaging"]')
    assert imaging_row.find_elements(By.TAG_NAME, "td")[1].text == str(sum(sites.values())), imaging_row.text
    assert len(driver.find_elements(By.CSS_SELECTOR, "#report-service-lines tbody tr")) == 3
    driver.save_screenshot(os.path.join(shots, "programme-02-report.png"))

    step("continuing education: the office creates a course of the two published cases; a refused case is named")
    status, body = api("office", "POST", "/api/ce/courses", {"titleChinese": "胸部影像入门", "titleEnglish": "Chest imaging basics", "creditHours": 2.5, "cases": seed["publishedIDs"] + [999999]})
    assert status == 400 and "999999" in json.dumps(body), (status, body)
    assert api("site", "POST", "/api/ce/courses", {"titleChinese": "x", "titleEnglish": "x", "creditHours": 1, "cases": seed["publishedIDs"]})[0] == 403
    status, course = api("office", "POST", "/api/ce/courses", {"titleChinese": "胸部影像入门", "titleEnglish": "Chest imaging basics", "summary": "Two cases", "creditHours": 2.5, "cases": seed["publishedIDs"]})
    assert status == 201, (status, course)

    step("a site user enrols in the browser, studies both cases and gets a certificate with a QR code")
    driver.delete_all_cookies()
    site_user, site_password, _ = people["site"]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "username"))).send_keys(site_user)
    driver.find_element(By.ID, "password").send_keys(site_password)
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: site_user in (d.find_element(By.CSS_SELECTOR, ".person").get_attribute("title") or ""))
    # The switch reloads the page: clicked only when it changes something, then waited for until the old page is
    # gone, so that the next navigation cannot race the reload.
    english = driver.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    if english.get_attribute("aria-current") != "true":
        english.click()
        wait.until(EC.staleness_of(english))
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    driver.find_element(By.CSS_SELECTOR, 'nav a[href="/ce"]').click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#ce-courses li[data-course="{course["id"]}"] a'))).click()
    wait.until(EC.presence_of_element_located((By.ID, "enrol"))).click()
    for case in seed["publishedIDs"]:
        wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#ce-cases li[data-case="{case}"] button.mark-studied'))).click()
        wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#ce-cases li[data-case="{case}"]').get_attribute("data-studied") == "true")
    assert driver.find_element(By.ID, "ce-progress").get_attribute("data-completed") == "true"
    driver.find_element(By.ID, "certificate-link").click()
    certificate = wait.until(EC.presence_of_element_located((By.ID, "certificate")))
    code = certificate.get_attribute("data-code")
    assert certificate.get_attribute("data-valid") == "true"
    assert driver.find_element(By.ID, "certificate-holder").text == site_user, driver.find_element(By.ID, "certificate-holder").text
    link = driver.find_element(By.ID, "verify-link").get_attribute("href")
    assert link == f"{base}/verify/{code}", link
    shot_path = os.path.join(shots, "programme-03-certificate.png")
    driver.save_screenshot(shot_path)
    import zxingcpp
    from PIL import Image
    found = [r.text for r in zxingcpp.read_barcodes(Image.open(shot_path))]
    assert link in found, f"the QR code on the page reads {found}"
    status, _ = api("student", "GET", f"/api/ce/certificates/{code}")
    assert status == 404, f"another person reads the certificate: {status}"

    step("signed out, the verification link says valid; a mistyped code is told apart from an unknown one")
    driver.delete_all_cookies()
    driver.get(link)
    assert wait.until(EC.presence_of_element_located((By.ID, "verify"))).get_attribute("data-state") == "valid"
    assert driver.find_element(By.ID, "verify-holder").text == site_user
    body = json.loads(urllib.request.urlopen(link + "?format=json").read())
    assert body["state"] == "valid" and body["creditHours"] == 2.5, body
    typo = code[:-1] + ("2" if code[-1] != "2" else "3")
    try:
        urllib.request.urlopen(f"{base}/verify/{typo}?format=json")
        raise AssertionError("a mistyped code verifies")
    except urllib.error.HTTPError as error:
        assert error.code == 404 and json.loads(error.read())["state"] == "malformed"

    step("the completion counts as a training person-time of the site's institution")
    rows = {r["key"]: r for r in api("office", "GET", f"/api/programme/dashboard?year={year}&institution=COUNTY-A")[1]["indicators"]}
    assert rows["training.person-times"]["value"] == 1.0, rows["training.person-times"]
    rows = {r["key"]: r for r in api("office", "GET", f"/api/programme/dashboard?year={year}&institution=COUNTY-B")[1]["indicators"]}
    assert rows["training.person-times"]["value"] == 0.0

    step("the office revokes the certificate; the public page then says revoked")
    assert api("site", "POST", f"/api/ce/certificates/{code}/revoke", {"reason": "x"})[0] == 403
    status, body = api("office", "POST", f"/api/ce/certificates/{code}/revoke", {"reason": "issued in error"})
    assert status == 200 and body["valid"] is False, body
    driver.get(link)
    assert wait.until(EC.presence_of_element_located((By.ID, "verify"))).get_attribute("data-state") == "revoked"
    driver.save_screenshot(os.path.join(shots, "programme-04-verify-revoked.png"))
finally:
    driver.quit()
print("ok", flush=True)
