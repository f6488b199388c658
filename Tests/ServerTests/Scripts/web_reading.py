#!/usr/bin/env python3
"""The consultation workflow in headless Chromium (Debian's chromium and chromium-driver) through selenium, with three
people in three browser sessions: a site user, a reader and a senior reader.

Usage: web_reading.py BASE_URL DICOM_PORT LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

FIXTURES_JSON holds the people ({"site"|"reader"|"senior"|"admin": {"username", "password"}}), "file" (a DICOM file with a fresh
study), "study" (its Study Instance UID), "callingAE" (an AE title mapped to the site's institution) and "routineItem"
(a second request's work item id, for the lock conflict), "attachments" (paths of a PDF and a JPEG) and "badAttachment"
(a PNG named .pdf).

Steps: the site user sends the study with dcmtk's storescu (TCP_NODELAY=1) and files a stat request through the form;
the request page lists the PDF and the photo attached to the form (stored in the study) and refuses a PNG named .pdf;
the reader, whose worklist is open, sees it appear without reloading and claims it; sees the attachments and downloads the PDF as sent; writes findings and an impression
(autosaved); flags a critical result; signs with the password. The site user's request page shows the critical result
(escalated, since nobody acknowledged it in time) and the signed report; acknowledges; opens the print view (bilingual
headings, signature block) and prints it to PDF. The senior adds an addendum which the site user sees. Lock conflict:
the reader and the senior both try to claim the routine item from their worklists; exactly one gets it and the other's
worklist shows who holds it. A draft survives a killed browser: the reader types into a new draft, the browser is
killed, a new session finds the text. An administrator, in Chinese, adds an assignment rule on its page, edits and
deletes it, and takes a reader off duty on the roster. Prints one line per step and "ok"; exits non-zero with the reason on the first
failure. Saves a screenshot after each page.
"""
import json
import os
import subprocess
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict):
            out.update(flatten(value, name))
        else:
            out[name] = value
    return out


base, dicom_port, locales_dir, shots, fixtures_path = sys.argv[1:6]
os.makedirs(shots, exist_ok=True)
english = {}
chinese = {}
for name in os.listdir(locales_dir):
    if name.endswith("en.json"):
        english.update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))
    if name.endswith("zh-CN.json"):
        chinese.update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))
fixtures = json.load(open(fixtures_path, encoding="utf-8"))


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,960", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 30, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def step(name):
    print("step:", name, flush=True)


def shot(driver, name):
    driver.save_screenshot(os.path.join(shots, name + ".png"))


def sign_in(driver, wait, who, language="en"):
    person = fixtures[who]
    driver.get(base + "/login")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    driver.find_element(By.CSS_SELECTOR, f'.langswitch button[data-lang="{language}"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == language)
    driver.find_element(By.ID, "username").send_keys(person["username"])
    driver.find_element(By.ID, "password").send_keys(person["password"])
    driver.find_element(By.ID, "sign-in").click()
    wait.until(lambda d: "/login" not in d.current_url)
    # Once signed in, the choice becomes the person's own setting (which outranks the cookie).
    driver.find_element(By.CSS_SELECTOR, f'.langswitch button[data-lang="{language}"]').click()
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == language)


def text_of(driver, css):
    return " ".join(e.text for e in driver.find_elements(By.CSS_SELECTOR, css))


site, site_wait = browser()
reader, reader_wait = browser()
senior, senior_wait = browser()
drivers = [site, reader, senior]
try:
    step("three people sign in; the reader opens the worklist")
    sign_in(site, site_wait, "site")
    sign_in(reader, reader_wait, "reader")
    sign_in(senior, senior_wait, "senior", language="zh-CN")
    reader.get(base + "/worklist")
    reader_wait.until(lambda d: d.find_element(By.ID, "live-indicator").get_attribute("data-state") == "live")
    reader.execute_script("window.atriumNotReloaded = true")
    assert english["reading.title.worklist"] in reader.find_element(By.TAG_NAME, "h1").text
    senior.get(base + "/worklist")
    senior_wait.until(lambda d: d.find_element(By.ID, "live-indicator").get_attribute("data-state") == "live")
    assert chinese["reading.title.worklist"] in senior.find_element(By.TAG_NAME, "h1").text, "the senior's page is in Chinese"

    step("the site sets its e-mail address for notifications on the consultations page")
    site.get(base + "/consultations")
    field = site_wait.until(EC.presence_of_element_located((By.ID, "my-email")))
    field.clear()
    field.send_keys("desk@county-a.example.org")
    site.find_element(By.ID, "email-save").click()
    site_wait.until(lambda d: d.find_element(By.ID, "email-saved").is_displayed())
    assert site.find_element(By.ID, "email-saved").text == english["reading.email.saved"]
    site.get(base + "/consultations")
    assert site_wait.until(EC.presence_of_element_located((By.ID, "my-email"))).get_attribute("value") == "desk@county-a.example.org"
    shot(site, "reading-00-email")

    step("the site sends its study with storescu")
    sent = subprocess.run(
        ["/usr/bin/storescu", "-aet", fixtures["callingAE"], "-aec", "ATRIUM", "127.0.0.1", dicom_port, fixtures["file"]],
        capture_output=True, text=True, env={**os.environ, "TCP_NODELAY": "1"}, timeout=60)
    assert sent.returncode == 0, f"storescu: {sent.returncode} {sent.stderr}"

    step("the site files a stat request through the form")
    site.get(base + "/consultations/new")
    box = site_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'input[name=study][value="{fixtures["study"]}"]')))
    box.click()
    site.find_element(By.CSS_SELECTOR, "#request-priority option[value=stat]").click()
    site.find_element(By.ID, "request-physician").send_keys("Dr Zhao")
    site.find_element(By.ID, "request-history").send_keys("Fell from a ladder, GCS 13")
    site.find_element(By.ID, "request-question").send_keys("Intracranial haemorrhage?")
    # The paper request form as a PDF and a photo of it, stored in the study as DICOM (the box is checked by default).
    site.find_element(By.ID, "request-attachments").send_keys("\n".join(fixtures["attachments"]))
    assert site.find_element(By.ID, "request-attach-dicom").is_selected()
    shot(site, "reading-01-request-form")
    site.find_element(By.ID, "request-submit").click()
    site_wait.until(lambda d: "/consultations/" in d.current_url and "/new" not in d.current_url)
    request_id = site.current_url.rstrip("/").split("/")[-1]
    assert site.find_element(By.ID, "request-status").get_attribute("data-status") == "requested"
    shot(site, "reading-02-request-filed")

    step("the request page lists both attachments, in the study; a PNG named .pdf is refused and nothing is added")
    names = [os.path.basename(path) for path in fixtures["attachments"]]
    listed = site.find_elements(By.CSS_SELECTOR, "#attachment-list li.attachment")
    assert [e.find_element(By.TAG_NAME, "a").text for e in listed] == names, [e.text for e in listed]
    assert len(site.find_elements(By.CSS_SELECTOR, "#attachment-list .attachment-dicom")) == 2
    assert english["reading.attachments.inStudy"] in listed[0].text
    site.find_element(By.ID, "attach-file").send_keys(fixtures["badAttachment"])
    site.find_element(By.ID, "attach-submit").click()
    site_wait.until(lambda d: d.find_element(By.ID, "attach-problem").is_displayed())
    assert "PDF" in site.find_element(By.ID, "attach-problem").text
    site.refresh()
    site_wait.until(EC.presence_of_element_located((By.ID, "attachment-list")))
    assert len(site.find_elements(By.CSS_SELECTOR, "#attachment-list li.attachment")) == 2
    shot(site, "reading-02b-attachments")

    step("the reader sees it appear without reloading, and claims it")
    row_css = f'#worklist-rows tr[data-request="{request_id}"]'
    reader_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, row_css)))
    assert reader.execute_script("return window.atriumNotReloaded === true"), "the worklist was reloaded"
    row = reader.find_element(By.CSS_SELECTOR, row_css)
    assert english["reading.priority.stat"] in row.text and "time-" in row.get_attribute("class"), row.text
    shot(reader, "reading-03-worklist")
    row.find_element(By.CSS_SELECTOR, "button.claim").click()
    reader_wait.until(lambda d: "/reports/" in d.current_url)
    report_id = reader.current_url.rstrip("/").split("/")[-1]

    step("the senior's worklist shows the claim without reloading")
    senior_wait.until(lambda d: d.find_element(By.CSS_SELECTOR, row_css).get_attribute("data-state") == "IN PROGRESS")
    assert fixtures["reader"]["displayName"] in senior.find_element(By.CSS_SELECTOR, row_css + " .item-owner").text

    step("the reader's page lists the attachments, and the PDF downloads as sent")
    links = reader_wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#attachment-list li.attachment a"))
    assert [a.text for a in links] == names, [a.text for a in links]
    pdf_href = links[0].get_attribute("href")
    downloaded = reader.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.arrayBuffer())"
        ".then(b => done(Array.from(new Uint8Array(b)))).catch(e => done(String(e)));", pdf_href)
    assert bytes(downloaded) == open(fixtures["attachments"][0], "rb").read(), "the PDF downloads as sent"

    step("the reader writes the report (autosaved), flags a critical result and signs")
    findings = reader_wait.until(EC.presence_of_element_located((By.ID, "section-findings")))
    findings.send_keys("Acute left subdural haematoma, 8 mm, with 4 mm midline shift.")
    reader.find_element(By.ID, "section-impression").send_keys("Acute subdural haematoma.")
    reader_wait.until(lambda d: d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved")
    shot(reader, "reading-04-report-pane")
    reader.find_element(By.CSS_SELECTOR, "#teaching-block summary").click()
    reader.find_element(By.CSS_SELECTOR, "input[name=key-image]").click()
    reader.find_element(By.ID, "teaching-note").send_keys("Classic acute subdural haematoma")
    reader.find_element(By.ID, "mark-teaching").click()
    reader_wait.until(lambda d: d.find_element(By.ID, "teaching-state").get_attribute("data-stored"))
    teaching_kos = reader.find_element(By.ID, "teaching-state").get_attribute("data-stored")
    reader.find_element(By.ID, "critical-finding").send_keys("Subdural haematoma with midline shift")
    reader.find_element(By.ID, "flag-critical").click()
    reader_wait.until(lambda d: "Subdural haematoma with midline shift" in d.find_element(By.ID, "critical-list").text)
    reader.find_element(By.ID, "sign-password").send_keys("wrong password, surely")
    reader.find_element(By.ID, "sign").click()
    reader_wait.until(lambda d: d.find_element(By.ID, "report-problem").is_displayed())
    reader.find_element(By.ID, "sign-password").clear()
    reader.find_element(By.ID, "sign-password").send_keys(fixtures["reader"]["password"])
    reader.find_element(By.ID, "sign").click()
    reader_wait.until(lambda d: d.find_element(By.ID, "report-state").get_attribute("data-status") == "final")
    assert "final" in reader.find_element(By.ID, "report-versions").text
    shot(reader, "reading-05-signed")

    step("the site sees the escalated critical result and the signed report, and acknowledges")
    site.get(base + f"/consultations/{request_id}")
    site_wait.until(lambda d: "critical-escalated" in d.find_element(By.ID, "request-events").text or (d.refresh() and False))
    assert "Acute left subdural haematoma" in site.find_element(By.ID, "report-section").text
    assert fixtures["reader"]["displayName"] in text_of(site, ".report-signer")
    shot(site, "reading-06-site-sees-report")
    site.find_element(By.CSS_SELECTOR, "button.acknowledge").click()
    site_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".critical-result .acknowledged")))
    assert fixtures["site"]["username"] in text_of(site, ".critical-result .acknowledged")

    step("the site prints the report: bilingual headings, signature block, critical result appended")
    site.get(base + f"/reports/{report_id}/print")
    site_wait.until(EC.presence_of_element_located((By.ID, "print-signer")))
    page = site.find_element(By.TAG_NAME, "body").text
    for expected in [english["reading.print.header"], chinese["reading.print.header"], "Acute subdural haematoma.",
                     fixtures["reader"]["displayName"], "acknowledged by " + fixtures["site"]["username"]]:
        assert expected in page, f"print view lacks {expected!r}"
    assert site.execute_script(
        "return [...document.styleSheets].some(s => [...s.cssRules].some(r => r.media && r.media.mediaText.includes('print')))"), "no print rules"
    pdf = site.print_page()
    assert len(pdf) > 1000, "printing to PDF gave nothing"
    with open(os.path.join(shots, "reading-report.pdf.b64"), "w") as out:
        out.write(pdf)
    shot(site, "reading-07-print")

    step("the senior adds an addendum; the site sees it")
    senior.get(base + f"/reports/{report_id}")
    senior_wait.until(lambda d: d.find_element(By.ID, "addendum-block").is_displayed())
    senior.find_element(By.ID, "addendum-text").send_keys("Small right frontal contusion as well.")
    senior.find_element(By.ID, "addendum-password").send_keys(fixtures["senior"]["password"])
    senior.find_element(By.ID, "addendum").click()
    senior_wait.until(lambda d: "Small right frontal contusion" in d.find_element(By.ID, "report-versions").text)
    site.get(base + f"/consultations/{request_id}")
    site_wait.until(lambda d: "Small right frontal contusion as well." in d.find_element(By.ID, "report-section").text)
    assert site.find_element(By.ID, "request-status").get_attribute("data-status") == "amended"
    shot(site, "reading-08-addendum")

    step("the turnaround dashboard draws its chart on the server")
    site.get(base + "/turnaround?group=priority&period=week")
    site_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#turnaround-chart svg")))
    assert english["reading.priority.stat"] in site.find_element(By.ID, "turnaround-breaches").text or \
        "stat" in site.find_element(By.ID, "turnaround-table").text, "the stat request is in the table"
    shot(site, "reading-08b-turnaround")

    step("lock conflict: both readers claim the routine item at once; one wins, the other sees who holds it")
    item = fixtures["routineItem"]
    reader.get(base + "/worklist")
    reader_wait.until(lambda d: d.find_element(By.ID, "live-indicator").get_attribute("data-state") == "live")
    senior.get(base + "/worklist")
    senior_wait.until(lambda d: d.find_element(By.ID, "live-indicator").get_attribute("data-state") == "live")
    item_css = f'#worklist-rows tr[data-item="{item}"] button.claim'
    reader_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, item_css)))
    senior_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, item_css)))
    script = "const b = document.querySelector(arguments[0]); b.click(); return true;"
    reader.execute_script(script, item_css)
    senior.execute_script(script, item_css)
    time.sleep(0.5)

    def outcome(driver):
        if "/reports/" in driver.current_url:
            return "won"
        problem = driver.find_elements(By.ID, "worklist-problem")
        return "lost" if problem and problem[0].is_displayed() else None
    WebDriverWait(reader, 30).until(lambda d: outcome(d) is not None or outcome(senior) == "won")
    WebDriverWait(senior, 30).until(lambda d: outcome(d) is not None or outcome(reader) == "won")
    results = sorted([outcome(reader) or "refreshed", outcome(senior) or "refreshed"])
    assert results.count("won") == 1, f"exactly one claim wins: {results}"
    loser, loser_wait = (senior, senior_wait) if outcome(reader) == "won" else (reader, reader_wait)
    winner_name = fixtures["reader" if loser is senior else "senior"]["displayName"]
    loser_wait.until(lambda d: winner_name in d.find_element(By.CSS_SELECTOR, f'#worklist-rows tr[data-item="{item}"] .item-owner').text)
    shot(loser, "reading-09-lock-conflict")
    winner = reader if loser is senior else senior
    if winner is not reader:
        winner.get(base + "/worklist")
        winner_wait_ = WebDriverWait(winner, 30)
        winner_wait_.until(EC.presence_of_element_located((By.CSS_SELECTOR, f'#worklist-rows tr[data-item="{item}"] button.release')))
        winner.find_element(By.CSS_SELECTOR, f'#worklist-rows tr[data-item="{item}"] button.release').click()
        reader.get(base + "/worklist")
        reader_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, item_css)))
        reader.find_element(By.CSS_SELECTOR, item_css).click()
        reader_wait.until(lambda d: "/reports/" in d.current_url)

    step("a draft survives a killed browser")
    draft_url = reader.current_url
    area = reader_wait.until(EC.presence_of_element_located((By.ID, "section-findings")))
    area.send_keys("Draft text that must survive.")
    reader_wait.until(lambda d: d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved")
    pid = reader.service.process.pid
    subprocess.run(["pkill", "-KILL", "-P", str(pid)], check=False)
    os.kill(pid, 9)
    drivers.remove(reader)
    reader, reader_wait = browser()
    drivers.append(reader)
    sign_in(reader, reader_wait, "reader")
    reader.get(draft_url)
    reader_wait.until(lambda d: "Draft text that must survive." in d.find_element(By.ID, "section-findings").get_attribute("value"))
    shot(reader, "reading-10-draft-survived")

    step("an administrator, in Chinese, adds, edits and deletes an assignment rule and takes a reader off duty")
    admin, admin_wait = browser()
    drivers.append(admin)
    sign_in(admin, admin_wait, "admin", language="zh-CN")

    def fetch_json(driver, path):
        return driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin', headers: {Accept: 'application/json'}})"
            ".then(r => r.json()).then(done).catch(e => done(String(e)));", base + path)

    admin.get(base + "/worklist")
    admin_wait.until(EC.presence_of_element_located((By.ID, "rules-link"))).click()
    admin_wait.until(EC.presence_of_element_located((By.ID, "rule-form")))
    assert chinese["reading.rules.title"] in admin.find_element(By.TAG_NAME, "h1").text
    assert admin.find_elements(By.ID, "no-rules"), "no rules yet"
    admin.find_element(By.CSS_SELECTOR, "#rule-priority option[value=stat]").click()
    admin.find_element(By.ID, "rule-modality").send_keys("CT")
    cap = admin.find_element(By.ID, "rule-open-cap")
    cap.clear()
    cap.send_keys("3")
    admin.find_element(By.ID, f"rule-reader-{fixtures['reader']['username']}").click()
    admin.find_element(By.ID, "rule-double-reading").click()
    admin.find_element(By.ID, "rule-save").click()
    row = admin_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#rules tr.rule")))
    assert (row.get_attribute("data-priority"), row.get_attribute("data-modality"), row.get_attribute("data-open-cap")) == ("stat", "CT", "3")
    assert row.get_attribute("data-readers") == fixtures["reader"]["username"] and row.get_attribute("data-double-reading") == "true"
    assert chinese["reading.priority.stat"] in row.text, row.text
    shot(admin, "reading-11-rules")
    row.find_element(By.CSS_SELECTOR, ".edit-rule").click()
    assert admin.find_element(By.ID, f"rule-reader-{fixtures['reader']['username']}").is_selected(), "the form holds the rule"
    cap = admin.find_element(By.ID, "rule-open-cap")
    cap.clear()
    cap.send_keys("5")
    admin.find_element(By.ID, "rule-save").click()
    admin_wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#rules tr.rule").get_attribute("data-open-cap") == "5")
    rules = fetch_json(admin, "/api/admin/reading-rules")
    assert len(rules) == 1 and rules[0]["openCap"] == 5 and rules[0]["modality"] == "CT" and rules[0]["doubleReading"], rules
    senior_name = fixtures["senior"]["username"]
    duty = admin.find_element(By.ID, f"on-duty-{senior_name}")
    assert duty.is_selected(), "readers are on duty by default"
    duty.click()
    admin_wait.until(lambda d: d.find_element(By.CSS_SELECTOR, f'#roster tr[data-reader="{senior_name}"]').get_attribute("data-saved") == "false")
    assert fetch_json(admin, f"/api/admin/reader-profiles/{senior_name}")["onDuty"] is False
    admin.refresh()
    assert not admin_wait.until(EC.presence_of_element_located((By.ID, f"on-duty-{senior_name}"))).is_selected()
    shot(admin, "reading-12-roster")
    admin.find_element(By.CSS_SELECTOR, "#rules tr.rule .delete-rule").click()
    admin_wait.until(EC.alert_is_present())
    assert admin.switch_to.alert.text == chinese["reading.rules.confirmDelete"]
    admin.switch_to.alert.accept()
    admin_wait.until(EC.presence_of_element_located((By.ID, "no-rules")))
    assert fetch_json(admin, "/api/admin/reading-rules") == []
    print("kos:", teaching_kos, flush=True)
    print("ok", flush=True)
finally:
    for driver in drivers:
        try:
            driver.quit()
        except Exception:
            pass
