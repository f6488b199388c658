#!/usr/bin/env python3
"""The laboratory consultation path in headless Chromium (selenium): an ORU^R01 built by hl7apy arrives over MLLP, the site
finds it, sees flags, the delta mark and the history chart, and files a laboratory consultation; the reader claims it from
the worklist, sees the result set beside the report pane, flags the critical potassium and signs; the site sees the signed
report and the critical result.

Usage: lab_web.py BASE_URL MLLP_PORT LOCALES_DIR SCREENSHOT_DIR SEED_JSON
SEED_JSON: {"site": [user, password], "reader": [user, password], "facility": "..."}.
Prints one line per step and "ok" at the end; exits non-zero with the reason on the first failure.
"""
import json
import os
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "LaboratoryTests", "Scripts"))
from oru_messages import oru  # noqa: E402

from hl7apy.parser import parse_message  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

base, mllp_port, locales_dir, shots, seed_path = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
os.makedirs(shots, exist_ok=True)
seed = json.load(open(seed_path, encoding="utf-8"))


def flatten(node, prefix=""):
    out = {}
    for key, value in node.items():
        name = f"{prefix}.{key}" if prefix else key
        out.update(flatten(value, name) if isinstance(value, dict) else {name: value})
    return out


english, chinese = {}, {}
for name in sorted(os.listdir(locales_dir)):
    if name == "en.json" or name.endswith(".en.json"):
        english.update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))
    if name == "zh-CN.json" or name.endswith(".zh-CN.json"):
        chinese.update(flatten(json.load(open(os.path.join(locales_dir, name), encoding="utf-8"))))


def step(name):
    print("step:", name, flush=True)


def send(message):
    with socket.create_connection(("127.0.0.1", mllp_port), timeout=30) as s:
        s.sendall(b"\x0b" + message.encode("utf-8") + b"\x1c\x0d")
        data = b""
        while not data.endswith(b"\x1c\x0d"):
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    ack = parse_message(data[1:-2].decode("utf-8"), find_groups=False)
    return ack.msa.msa_1.value


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,950", "--lang=en-US"]:
        options.add_argument(argument)
    options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    return driver, WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def sign_in(driver, wait, user, password):
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


patient = {"id": "LW-1", "authority": "COUNTY-A", "family": "孙", "given": "悦", "birth": "19700302", "sex": "F"}


def order(control, time, potassium, creatinine):
    return [{"placer": control + "-P", "filler": control + "-F", "service": "24323-8", "service_text": "Metabolic panel", "time": time,
             "observations": [
                 {"type": "NM", "code": "2823-3", "text": "Potassium", "system": "LN", "value_er7": potassium, "units": "mmol/L", "status": "F"},
                 {"type": "NM", "code": "2160-0", "text": "Creatinine", "system": "LN", "value_er7": creatinine, "units": "mg/dL", "status": "F"}]}]


step("two ORU^R01 messages from hl7apy arrive over MLLP and are acknowledged")
assert send(oru("LW-0001", seed["facility"], patient, order("LW-0001", "20261101080000+0800", "4.1", "0.8"))) == "AA"
assert send(oru("LW-0002", seed["facility"], patient, order("LW-0002", "20261205080000+0800", "6.9", "1.3"))) == "AA"

site, site_wait = browser()
reader, reader_wait = browser()
try:
    step("the site opens the laboratory page from the navigation and the newest result set")
    sign_in(site, site_wait, *seed["site"])
    site.find_element(By.CSS_SELECTOR, 'nav a[href="/lab"]').click()
    site_wait.until(EC.presence_of_element_located((By.ID, "lab-result-sets")))
    rows = site.find_elements(By.CSS_SELECTOR, "#lab-result-sets tbody tr")
    assert len(rows) == 2, len(rows)
    assert "lab-critical-row" in rows[0].get_attribute("class"), rows[0].get_attribute("class")
    assert "孙悦" in rows[0].text, rows[0].text
    site.save_screenshot(os.path.join(shots, "lab-01-list.png"))
    rows[0].find_element(By.CSS_SELECTOR, "a").click()
    site_wait.until(EC.presence_of_element_located((By.ID, "lab-observations")))

    step("flags, the interval for a woman of 56, the converted creatinine, the delta mark and the history chart")
    k = site.find_element(By.CSS_SELECTOR, '#lab-observations tr[data-code="2823-3"]')
    assert k.get_attribute("data-flag") == "HH", k.get_attribute("data-flag")
    assert english["laboratory.flag.HH"] in k.text, k.text
    assert "3.5–5.3" in k.text, k.text
    assert k.get_attribute("data-delta") == "1", "potassium 4.1 → 6.9 exceeds the 1.0 mmol/L delta rule"
    assert len(k.find_elements(By.CSS_SELECTOR, "svg.history-chart circle.history-point")) == 2
    cr = site.find_element(By.CSS_SELECTOR, '#lab-observations tr[data-code="2160-0"]')
    # 1.3 mg/dL × 88.42 = 114.9 µmol/L: high for a woman of 56 (41–73, WS/T 404.5).
    assert "114.9" in cr.find_element(By.CSS_SELECTOR, ".lab-canonical").text, cr.text
    assert cr.get_attribute("data-flag") == "H", cr.get_attribute("data-flag")
    assert site.find_element(By.ID, "lab-critical").is_displayed()
    site.save_screenshot(os.path.join(shots, "lab-02-result-set.png"))

    step("in Chinese the same page speaks Chinese: headings, flags and the delta mark from the locale files")
    result_url = site.current_url
    site.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="zh-CN"]').click()
    site_wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN")
    k = site.find_element(By.CSS_SELECTOR, '#lab-observations tr[data-code="2823-3"]')
    assert chinese["laboratory.flag.HH"] in k.text and chinese["laboratory.message.delta"] in k.text, k.text
    assert chinese["laboratory.field.range"] in site.find_element(By.CSS_SELECTOR, "#lab-observations thead").text
    site.save_screenshot(os.path.join(shots, "lab-02b-result-set-zh.png"))
    site.find_element(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]').click()
    site_wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en" and d.current_url == result_url)

    step("the site files a laboratory consultation for the result set")
    site.find_element(By.ID, "lab-question").send_keys("Hyperkalaemia with rising creatinine: interpretation?")
    site.find_element(By.ID, "lab-history").send_keys("Type 2 diabetes, on ACE inhibitor.")
    site.find_element(By.ID, "lab-request-submit").click()
    site_wait.until(lambda d: "/consultations/" in d.current_url)
    request_id = site.current_url.rstrip("/").split("/")[-1]
    assert site.find_element(By.ID, "request-status").get_attribute("data-status") == "requested"
    assert site.find_element(By.ID, "lab-result-link").get_attribute("href").endswith(f"/lab/consultations/{request_id}")

    step("the reader claims it from the worklist and sees the result set beside the report pane")
    sign_in(reader, reader_wait, *seed["reader"])
    reader.get(base + "/worklist")
    row_css = f'#worklist-rows tr[data-request="{request_id}"]'
    reader_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, row_css)))
    reader.find_element(By.CSS_SELECTOR, row_css + " button.claim").click()
    reader_wait.until(lambda d: "/reports/" in d.current_url)
    frame = reader_wait.until(EC.presence_of_element_located((By.ID, "viewer-frame")))
    assert frame.get_attribute("src").endswith(f"/lab/consultations/{request_id}"), frame.get_attribute("src")
    reader.switch_to.frame(frame)
    reader_wait.until(EC.presence_of_element_located((By.ID, "lab-observations")))
    k = reader.find_element(By.CSS_SELECTOR, '#lab-observations tr[data-code="2823-3"]')
    assert k.get_attribute("data-flag") == "HH" and k.get_attribute("data-delta") == "1"
    assert len(k.find_elements(By.CSS_SELECTOR, "svg.history-chart circle.history-point")) == 2
    assert not reader.find_elements(By.ID, "lab-request-form"), "reviewers do not file requests"
    reader.switch_to.default_content()

    step("the reader writes the interpretation with the laboratory template, flags the critical value and signs")
    findings = reader_wait.until(EC.presence_of_element_located((By.ID, "section-findings")))
    findings.send_keys("Potassium 6.9 mmol/L (critical), creatinine 115 umol/L rising from 71.")
    reader.find_element(By.ID, "section-impression").send_keys("Hyperkalaemia likely from ACE inhibitor with declining renal function.")
    reader.find_element(By.ID, "section-recommendation").send_keys("Repeat potassium today; review medication.")
    reader_wait.until(lambda d: d.find_element(By.ID, "save-state").get_attribute("data-state") == "saved")
    reader.find_element(By.ID, "critical-finding").send_keys("Potassium 6.9 mmol/L")
    reader.find_element(By.ID, "flag-critical").click()
    reader_wait.until(lambda d: "Potassium 6.9 mmol/L" in d.find_element(By.ID, "critical-list").text)
    reader.save_screenshot(os.path.join(shots, "lab-03-report-pane.png"))
    reader.find_element(By.ID, "sign-password").send_keys(seed["reader"][1])
    reader.find_element(By.ID, "sign").click()
    reader_wait.until(lambda d: d.find_element(By.ID, "report-state").get_attribute("data-status") == "final")

    step("the site sees the signed interpretation and the critical result")
    site.get(base + f"/consultations/{request_id}")
    site_wait.until(EC.presence_of_element_located((By.ID, "report-section")))
    text = site.find_element(By.ID, "report-section").text
    assert "Hyperkalaemia likely from ACE inhibitor" in text, text
    assert "Potassium 6.9 mmol/L" in site.find_element(By.ID, "critical-results").text
    site.save_screenshot(os.path.join(shots, "lab-04-site-report.png"))

    step("the QC page draws the Levey-Jennings chart and lists violations")
    site.get(base + "/lab/qc")
    site_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".lab-material svg.lj-chart")))
    assert len(site.find_elements(By.CSS_SELECTOR, '#lab-violations tr[data-rule="1-3s"]')) == 1, "the seeded 1-3s is listed"
    points = len(site.find_elements(By.CSS_SELECTOR, ".lab-material svg.lj-chart circle"))

    step("the reference interval page lists the seeded rows with their sources and the delta rules")
    site.get(base + "/lab/reference-ranges")
    site_wait.until(EC.presence_of_element_located((By.ID, "lab-ranges")))
    potassium = site.find_element(By.CSS_SELECTOR, '#lab-ranges tr[data-loinc="2823-3"]').text
    assert "3.5–5.3" in potassium and "WS/T 404.6-2015" in potassium and "±1 mmol/L" in potassium, potassium
    assert len(site.find_elements(By.CSS_SELECTOR, "#lab-ranges tbody tr")) >= 30
    site.get(base + "/lab/qc")
    site_wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, ".lab-material svg.lj-chart")))

    step("the site records a run on the QC page; its 4.5 SD result is a new 1-3s rejection on the chart and in the list")
    site.execute_script("document.getElementById('lab-run-at').value = '2026-11-20T08:00'")
    site.find_element(By.CSS_SELECTOR, "input.lab-run-value").send_keys("5.9")
    site.find_element(By.ID, "lab-run-submit").click()
    site_wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, '#lab-violations tr[data-rule="1-3s"]')) == 2)
    assert len(site.find_elements(By.CSS_SELECTOR, ".lab-material svg.lj-chart circle")) == points + 1
    assert len(site.find_elements(By.CSS_SELECTOR, ".lab-material svg.lj-chart circle.lj-reject")) == 2
    site.save_screenshot(os.path.join(shots, "lab-05-qc.png"))
finally:
    site.quit()
    reader.quit()
print("ok", flush=True)
