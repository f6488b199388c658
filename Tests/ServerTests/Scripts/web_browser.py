#!/usr/bin/env python3
"""Drives the web application in headless Chromium (Debian's chromium and chromium-driver) through selenium.

Usage: web_browser.py BASE_URL LOCALES_DIR SCREENSHOT_DIR FIXTURES_JSON

Steps: sign in through the sign-in page, switch to English, upload a study through the upload page (file input, resumable chunks), wait
for the per-file result, find the study in the study browser by patient ID, open its study page, switch the
language to Chinese and check the navigation reads as zh-CN.json says, and see oneself in the administration's
list of people. Saves a screenshot after each page. Prints
one line per step; exits non-zero with the reason on the first failure.
"""
import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
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


base, locales_dir, shots, fixtures_path = sys.argv[1:5]
os.makedirs(shots, exist_ok=True)
english = flatten(json.load(open(os.path.join(locales_dir, "en.json"), encoding="utf-8")))
chinese = flatten(json.load(open(os.path.join(locales_dir, "zh-CN.json"), encoding="utf-8")))
fixtures = json.load(open(fixtures_path, encoding="utf-8"))

options = webdriver.ChromeOptions()
for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900", "--lang=en-US"]:
    options.add_argument(argument)
options.binary_location = "/usr/bin/chromium"
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 60, ignored_exceptions=[StaleElementReferenceException, WebDriverException])


def step(name):
    print("step:", name, flush=True)


def shot(name):
    driver.save_screenshot(os.path.join(shots, name + ".png"))


def click_and_load(*locator):
    """Clicks what `locator` finds, which loads a new page, and waits until the old page is gone and the new one is
    loaded. Chromium may report a node of the page being replaced in several ways; each is retried."""
    old = driver.find_element(By.TAG_NAME, "html")
    for attempt in range(5):
        try:
            driver.find_element(*locator).click()
            break
        except WebDriverException:
            if attempt == 4:
                raise
            time.sleep(0.2)

    def gone(_):
        try:
            old.is_enabled()
            return False
        except WebDriverException:
            return True

    wait.until(gone)
    wait.until(lambda d: d.execute_script("return document.readyState") == "complete")


def nav_labels():
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, ".mainnav a")]


try:
    step("sign in")
    driver.get(base + "/studies")
    wait.until(EC.presence_of_element_located((By.ID, "login-form")))
    assert "/login" in driver.current_url, f"signed out, /studies went to {driver.current_url}"
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    shot("login-en")
    driver.find_element(By.ID, "username").send_keys(fixtures["username"])
    driver.find_element(By.ID, "password").send_keys(fixtures["password"])
    click_and_load(By.ID, "sign-in")
    wait.until(EC.presence_of_element_located((By.ID, "study-search")))
    assert fixtures["username"] in driver.find_element(By.CSS_SELECTOR, ".person").get_attribute("title"), "no signed-in person shown"

    step("switch to English as the person's setting")
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="en"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "en")
    assert english["nav.studies"] in nav_labels(), f"navigation {nav_labels()} lacks {english['nav.studies']}"
    driver.get(base + "/")
    shot("home-en")

    step("upload a study")
    driver.get(base + "/upload")
    chooser = driver.find_element(By.ID, "upload-files")
    chooser.send_keys(fixtures["chinese"]["path"] + "\n" + fixtures["zip"]["path"])
    wait.until(lambda d: d.find_element(By.ID, "upload").get_attribute("data-state") == "done")
    rows = driver.find_elements(By.CSS_SELECTOR, "#upload-results tbody tr")
    statuses = [row.get_attribute("data-status") for row in rows]
    expected = 1 + fixtures["zip"]["dicomEntries"] + fixtures["zip"]["otherEntries"]
    assert len(rows) == expected, f"{len(rows)} result rows, expected {expected}: {statuses}"
    assert statuses.count("stored") == 1 + fixtures["zip"]["dicomEntries"], f"statuses {statuses}"
    assert english["upload.status.stored"] in rows[0].text, f"first row reads {rows[0].text!r}"
    bar = driver.find_element(By.ID, "upload-progress").get_attribute("aria-valuenow")
    assert bar == "100", f"progress bar at {bar}"
    shot("upload-en")

    step("find it in the study browser")
    driver.get(base + "/studies")
    driver.find_element(By.ID, "search-id").send_keys(fixtures["chinese"]["patientID"])
    click_and_load(By.ID, "search-submit")
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#study-results tbody tr")))
    rows = driver.find_elements(By.CSS_SELECTOR, "#study-results tbody tr")
    assert len(rows) == 1, f"{len(rows)} rows for the patient ID"
    assert rows[0].get_attribute("data-study") == fixtures["chinese"]["studyInstanceUID"], "another study was found"
    assert fixtures["chinese"]["ideographic"] in rows[0].text, f"the row reads {rows[0].text!r}"
    shot("studies-en")

    step("open the study page")
    click_and_load(By.CSS_SELECTOR, "#study-results tbody tr a.patient")
    wait.until(EC.presence_of_element_located((By.ID, "open-viewer")))
    image = driver.find_element(By.CSS_SELECTOR, ".series img")
    wait.until(lambda d: d.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", image))
    href = driver.find_element(By.ID, "open-viewer").get_attribute("href")
    assert href.endswith("/viewer?study=" + fixtures["chinese"]["studyInstanceUID"]), f"viewer link {href}"
    shot("study-en")

    step("switch to Chinese")
    click_and_load(By.CSS_SELECTOR, '.langswitch button[data-lang="zh-CN"]')
    wait.until(lambda d: d.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN")
    labels = nav_labels()
    assert chinese["nav.studies"] in labels and chinese["nav.upload"] in labels, f"navigation reads {labels}"
    assert chinese["study.openViewer"] == driver.find_element(By.ID, "open-viewer").text, "the viewer link is not in Chinese"
    shot("study-zh")
    driver.get(base + "/studies?name=" + fixtures["chinese"]["ideographic"][0])
    assert fixtures["chinese"]["ideographic"] in driver.find_element(By.ID, "study-results").text, "no Chinese name in the results"
    shot("studies-zh")

    step("the people list of the administration pages")
    driver.get(base + "/admin/people")
    wait.until(lambda d: fixtures["username"] in d.find_element(By.ID, "admin-table").text)
    shot("people-zh")
    print("ok", flush=True)
except Exception as error:  # report any failure with the page it happened on
    shot("failure")
    print(f"FAILED at {driver.current_url}: {type(error).__name__}: {error}", flush=True)
    sys.exit(1)
finally:
    driver.quit()
